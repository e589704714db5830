/* Parallel zstd frames. The producer fills fixed-size pieces; compressing threads turn
 * each into one frame with libarchive's raw writer and zstd filter (single-threaded
 * each); the producer writes finished frames in order as it needs their buffers again.
 * Buffers form a ring of 2 x threads + 4 slots, so that memory stays bounded and a slow
 * disk slows the producer down instead of queueing data. Write errors happen in the
 * producer's thread, where err_set() is safe; a compressing thread keeps its reason in
 * its slot. */
#include "zframes.h"
#include "error.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_WORKING, SLOT_DONE };

struct slot {
	unsigned char *in, *out;
	size_t in_len, out_len, out_cap;
	uint64_t seq;
	enum slot_state state;
	int err;                 /* negative errno of its compression, 0 */
	char reason[256];
};

struct zframes {
	int fd, level, nthreads, nslots, started;
	size_t piece;
	struct slot *slots;
	pthread_t *threads;
	pthread_mutex_t lock;
	pthread_cond_t queued, done;
	bool stopping;
	uint64_t fill_seq;       /* sequence number of the next piece to fill */
	uint64_t write_seq;      /* sequence number of the next frame to write */
	uint64_t written, synced;  /* bytes written to fd, and handed to writeback */
	struct slot *cur;        /* the piece being filled, or NULL */
	int err;                 /* sticky: the first error */
};

static int compress_slot(const struct zframes *z, struct slot *s)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char level[16];
	size_t used = 0, off = 0;
	bool ok = false;
	int r = 0;

	snprintf(level, sizeof(level), "%d", z->level);
	if (!a || !e) {
		r = -ENOMEM;
		snprintf(s->reason, sizeof(s->reason), "out of memory");
		goto out;
	}
	if (archive_write_set_format_raw(a) < ARCHIVE_WARN ||
	    archive_write_add_filter_zstd(a) < ARCHIVE_WARN ||
	    archive_write_set_filter_option(a, "zstd", "compression-level", level) < ARCHIVE_WARN ||
	    /* Unblocked: zstd's output goes straight into s->out, without a copy through
	     * libarchive's 10 KiB block buffer. */
	    archive_write_set_bytes_per_block(a, 0) < ARCHIVE_WARN ||
	    archive_write_open_memory(a, s->out, s->out_cap, &used) < ARCHIVE_WARN)
		goto out;
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_pathname(e, "frame");
	archive_entry_set_size(e, (la_int64_t)s->in_len);
	if (archive_write_header(a, e) < ARCHIVE_WARN)
		goto out;
	while (off < s->in_len) {
		la_ssize_t n = archive_write_data(a, s->in + off, s->in_len - off);
		if (n <= 0)
			goto out;
		off += (size_t)n;
	}
	if (archive_write_close(a) < ARCHIVE_WARN)
		goto out;
	s->out_len = used;
	ok = true;
out:
	if (!ok && r == 0) {
		r = archive_errno(a) > 0 ? -archive_errno(a) : -EIO;
		snprintf(s->reason, sizeof(s->reason), "zstd: %s",
			 archive_error_string(a) ? archive_error_string(a) : strerror(-r));
	}
	archive_entry_free(e);
	archive_write_free(a);
	return r;
}

static void *worker(void *arg)
{
	struct zframes *z = arg;

	pthread_mutex_lock(&z->lock);
	for (;;) {
		struct slot *s = NULL;
		for (int i = 0; i < z->nslots; i++)
			if (z->slots[i].state == SLOT_QUEUED && (!s || z->slots[i].seq < s->seq))
				s = &z->slots[i];
		if (!s) {
			if (z->stopping)
				break;
			pthread_cond_wait(&z->queued, &z->lock);
			continue;
		}
		s->state = SLOT_WORKING;
		pthread_mutex_unlock(&z->lock);
		s->err = compress_slot(z, s);
		pthread_mutex_lock(&z->lock);
		s->state = SLOT_DONE;
		pthread_cond_broadcast(&z->done);
	}
	pthread_mutex_unlock(&z->lock);
	return NULL;
}

static void stop_threads(struct zframes *z)
{
	pthread_mutex_lock(&z->lock);
	z->stopping = true;
	pthread_cond_broadcast(&z->queued);
	pthread_mutex_unlock(&z->lock);
	for (int i = 0; i < z->started; i++)
		pthread_join(z->threads[i], NULL);
	z->started = 0;
}

int zframes_open(int fd, int threads, size_t piece, int level, struct zframes **ret)
{
	struct zframes *z;
	sigset_t all, old;
	int r = 0;

	if (threads < 1 || threads > 8 || piece < 4096)
		return -EINVAL;
	z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	z->fd = fd;
	z->level = level;
	z->piece = piece;
	z->nthreads = threads;
	/* Twice as many pieces as threads, and some: a producer descheduled for a moment
	 * (a busy machine) leaves the threads work to do. */
	z->nslots = 2 * threads + 4;
	z->slots = calloc((size_t)z->nslots, sizeof(*z->slots));
	z->threads = calloc((size_t)threads, sizeof(*z->threads));
	pthread_mutex_init(&z->lock, NULL);
	pthread_cond_init(&z->queued, NULL);
	pthread_cond_init(&z->done, NULL);
	if (!z->slots || !z->threads) {
		zframes_free(z);
		return -ENOMEM;
	}
	/* The threads take no signal: stop signals stay with the main thread's handlers. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < threads; i++) {
		int e = pthread_create(&z->threads[i], NULL, worker, z);
		if (e) {
			r = err_set(e, "cannot start a compressing thread: %s", strerror(e));
			break;
		}
		z->started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		zframes_free(z);
		return r;
	}
	*ret = z;
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(errno, "%s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Waits for the oldest frame (in s), writes it and frees the slot. */
static int flush_slot(struct zframes *z, struct slot *s)
{
	int r;

	pthread_mutex_lock(&z->lock);
	while (s->state != SLOT_DONE)
		pthread_cond_wait(&z->done, &z->lock);
	pthread_mutex_unlock(&z->lock);
	if (s->err < 0) {
		r = err_set(-s->err, "%s", s->reason);
	} else if ((r = write_all(z->fd, s->out, s->out_len)) == 0) {
		z->written += s->out_len;
		/* Start the writeback of what is written as we go, so that the caller's
		 * fsync() at the end has little left to wait for. */
		if (z->written - z->synced >= (8u << 20)) {
			(void)sync_file_range(z->fd, (off64_t)z->synced, (off64_t)(z->written - z->synced),
					      SYNC_FILE_RANGE_WRITE);
			z->synced = z->written;
		}
	}
	pthread_mutex_lock(&z->lock);
	s->state = SLOT_FREE;
	z->write_seq++;
	pthread_mutex_unlock(&z->lock);
	return r;
}

static int take_slot(struct zframes *z)
{
	struct slot *s = &z->slots[z->fill_seq % (uint64_t)z->nslots];
	int r;

	/* Ring order is sequence order: a taken slot holds the oldest frame not written. */
	if (s->state != SLOT_FREE && (r = flush_slot(z, s)) < 0)
		return r;
	if (!s->in) {
		s->in = malloc(z->piece);
		/* zstd's bound is n + n/256 + a few hundred bytes; libarchive adds nothing. */
		s->out_cap = z->piece + z->piece / 128 + (64u << 10);
		s->out = malloc(s->out_cap);
		if (!s->in || !s->out)
			return -ENOMEM;
	}
	s->seq = z->fill_seq++;
	s->in_len = s->out_len = 0;
	s->err = 0;
	s->state = SLOT_FILLING;
	z->cur = s;
	return 0;
}

static void submit(struct zframes *z)
{
	pthread_mutex_lock(&z->lock);
	z->cur->state = SLOT_QUEUED;
	pthread_cond_signal(&z->queued);
	pthread_mutex_unlock(&z->lock);
	z->cur = NULL;
}

int zframes_write(struct zframes *z, const void *data, size_t len)
{
	const unsigned char *p = data;
	int r;

	if (z->err)
		return z->err;
	while (len > 0) {
		size_t n;
		if (!z->cur && (r = take_slot(z)) < 0)
			return z->err = r;
		n = z->piece - z->cur->in_len;
		if (n > len)
			n = len;
		memcpy(z->cur->in + z->cur->in_len, p, n);
		z->cur->in_len += n;
		p += n;
		len -= n;
		if (z->cur->in_len == z->piece)
			submit(z);
	}
	return 0;
}

int zframes_close(struct zframes *z)
{
	int r = z->err;

	if (r == 0 && z->cur && z->cur->in_len > 0)
		submit(z);
	while (r == 0 && z->write_seq < z->fill_seq)
		r = flush_slot(z, &z->slots[z->write_seq % (uint64_t)z->nslots]);
	stop_threads(z);
	return z->err = r;
}

void zframes_free(struct zframes *z)
{
	if (!z)
		return;
	stop_threads(z);
	for (int i = 0; z->slots && i < z->nslots; i++) {
		free(z->slots[i].in);
		free(z->slots[i].out);
	}
	free(z->slots);
	free(z->threads);
	pthread_mutex_destroy(&z->lock);
	pthread_cond_destroy(&z->queued);
	pthread_cond_destroy(&z->done);
	free(z);
}
