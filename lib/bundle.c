/* Bundling a run folder with libarchive. */
#include "bundle.h"
#include "error.h"
#include "fsutil.h"
#include "zframes.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)

int bundle_format_parse(const char *s, enum bundle_format *ret)
{
	if (!strcmp(s, "tar.zst") || !strcmp(s, "zst") || !strcmp(s, "tzst"))
		*ret = BUNDLE_TAR_ZST;
	else if (!strcmp(s, "tar.gz") || !strcmp(s, "tgz") || !strcmp(s, "gz"))
		*ret = BUNDLE_TAR_GZ;
	else if (!strcmp(s, "zip"))
		*ret = BUNDLE_ZIP;
	else
		return err_set(EINVAL, "unknown archive format '%s' (tar.zst, tar.gz or zip)", s);
	return 0;
}

const char *bundle_format_ext(enum bundle_format f)
{
	switch (f) {
	case BUNDLE_TAR_GZ:
		return "tar.gz";
	case BUNDLE_ZIP:
		return "zip";
	default:
		return "tar.zst";
	}
}

/* libarchive's error as an errno plus its message: the one conversion point. For a
 * system error libarchive's own text is generic ("Write error"), so the errno's text
 * ("No space left on device") is what the user needs; for format and usage errors
 * (ARCHIVE_ERRNO_FILE_FORMAT, _PROGRAMMER, _MISC) libarchive's text is the reason. */
static int arch_err(struct archive *a, const char *what, const char *path)
{
	const char *text = archive_error_string(a);
	int e = archive_errno(a);
	bool sys_err = e > 0 && e != EILSEQ && e != EINVAL;

	if (e <= 0)
		e = EIO;
	return err_set(e, "%s '%s': %s", what, path, sys_err || !text ? strerror(e) : text);
}

/* tar.zst: libarchive writes the tar stream, lib/zframes.c compresses it on every core
 * (up to 4) in pieces of 1 MiB, within about 40 MiB of memory: bench/bundle. A small run
 * folder gets one thread. */
static int zstd_threads(uint64_t total)
{
	cpu_set_t set;
	int n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;

	if (total < (8u << 20) || n < 1)
		return 1;
	return n > 4 ? 4 : n;
}

static la_ssize_t zframes_sink(struct archive *a, void *ud, const void *buf, size_t len)
{
	int r = zframes_write(ud, buf, len);

	if (r < 0) {
		archive_set_error(a, -r, "%s", err_msg_for(r));
		return -1;
	}
	return (la_ssize_t)len;
}

static int open_writer(struct archive **ret, enum bundle_format f, int fd, struct zframes *z,
		       const char *path)
{
	struct archive *a = archive_write_new();
	int r = 0;

	if (!a)
		return -ENOMEM;
	switch (f) {
	case BUNDLE_TAR_ZST:
		if (archive_write_set_format_pax_restricted(a) < ARCHIVE_WARN ||
		    /* Unblocked: the tar stream goes straight to lib/zframes.c's pieces. */
		    archive_write_set_bytes_per_block(a, 0) < ARCHIVE_WARN)
			r = arch_err(a, "cannot set up tar for", path);
		break;
	case BUNDLE_TAR_GZ:
		if (archive_write_set_format_pax_restricted(a) < ARCHIVE_WARN ||
		    archive_write_add_filter_gzip(a) < ARCHIVE_WARN)
			r = arch_err(a, "cannot set up gzip for", path);
		break;
	case BUNDLE_ZIP:
		if (archive_write_set_format_zip(a) < ARCHIVE_WARN)
			r = arch_err(a, "cannot set up zip for", path);
		break;
	}
	/* Whole blocks; no padding of the last block beyond what the format needs. */
	if (r == 0 && archive_write_set_bytes_in_last_block(a, 1) < ARCHIVE_WARN)
		r = arch_err(a, "cannot set up", path);
	if (r == 0 && (z ? archive_write_open2(a, z, NULL, zframes_sink, NULL, NULL)
		       : archive_write_open_fd(a, fd)) < ARCHIVE_WARN)
		r = arch_err(a, "cannot write", path);
	if (r < 0) {
		archive_write_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

static int write_header(struct archive *a, const char *name, uint64_t size, time_t mtime,
			const char *out_path)
{
	struct archive_entry *e = archive_entry_new();
	int r = 0;

	if (!e)
		return -ENOMEM;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, mtime, 0);
	if (archive_write_header(a, e) < ARCHIVE_WARN)
		r = arch_err(a, "cannot write", out_path);
	archive_entry_free(e);
	return r;
}

static int write_all(struct archive *a, const void *p, size_t len, const char *out_path)
{
	const char *c = p;

	while (len > 0) {
		la_ssize_t n = archive_write_data(a, c, len);
		if (n <= 0)
			return arch_err(a, "cannot write", out_path);
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

/* SHA-256 on a thread of its own, so that hashing is off the bundle's critical path
 * (reading and archiving on this thread, compressing on lib/zframes.c's): each buffer
 * read is handed to the hasher and archived meanwhile; two buffers alternate. Without
 * the thread (it could not be started) the hashing is done inline. */
struct hasher {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sha256 *h;
	const unsigned char *p;
	size_t len;
	bool busy, stop;
};

static void *hasher_main(void *arg)
{
	struct hasher *hs = arg;

	pthread_mutex_lock(&hs->lock);
	for (;;) {
		while (!hs->busy && !hs->stop)
			pthread_cond_wait(&hs->cond, &hs->lock);
		if (!hs->busy)
			break;
		pthread_mutex_unlock(&hs->lock);
		sha256_update(hs->h, hs->p, hs->len);
		pthread_mutex_lock(&hs->lock);
		hs->busy = false;
		pthread_cond_broadcast(&hs->cond);
	}
	pthread_mutex_unlock(&hs->lock);
	return NULL;
}

static struct hasher *hasher_start(void)
{
	struct hasher *hs = calloc(1, sizeof(*hs));
	sigset_t all, old;
	int e;

	if (!hs)
		return NULL;
	pthread_mutex_init(&hs->lock, NULL);
	pthread_cond_init(&hs->cond, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&hs->thread, NULL, hasher_main, hs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		pthread_mutex_destroy(&hs->lock);
		pthread_cond_destroy(&hs->cond);
		free(hs);
		return NULL;
	}
	return hs;
}

/* Until the hasher is done with what it was given. */
static void hasher_wait(struct hasher *hs)
{
	if (!hs)
		return;
	pthread_mutex_lock(&hs->lock);
	while (hs->busy)
		pthread_cond_wait(&hs->cond, &hs->lock);
	pthread_mutex_unlock(&hs->lock);
}

static void hasher_feed(struct hasher *hs, struct sha256 *h, const unsigned char *p, size_t len)
{
	if (!hs) {
		sha256_update(h, p, len);
		return;
	}
	hasher_wait(hs);
	pthread_mutex_lock(&hs->lock);
	hs->h = h;
	hs->p = p;
	hs->len = len;
	hs->busy = true;
	pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
}

static void hasher_stop(struct hasher *hs)
{
	if (!hs)
		return;
	pthread_mutex_lock(&hs->lock);
	hs->stop = true;
	pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->lock);
	pthread_join(hs->thread, NULL);
	pthread_mutex_destroy(&hs->lock);
	pthread_cond_destroy(&hs->cond);
	free(hs);
}

/* Streams one file into the archive, hashing it; the header carries the size seen by
 * fstat() on the open file, and a file that changed size meanwhile is an error. */
static int add_file(struct archive *a, const char *run_dir, const char *run_id,
		    struct artifact *art, unsigned char *bufs[2], struct hasher *hs,
		    const char *out_path, const struct bundle_cb *cb, uint64_t *done,
		    uint64_t total)
{
	char path[PATH_MAX], member[PATH_MAX];
	struct sha256 *h = NULL;
	struct stat st;
	uint64_t left;
	int fd, k = 0, r = 0;

	snprintf(path, sizeof(path), "%s/%s", run_dir, art->name);
	snprintf(member, sizeof(member), "%s/%s", run_id, art->name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(errno, "cannot read '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = err_set(EINVAL, "'%s' is not a regular file", path);
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	art->size = (uint64_t)st.st_size;
	if ((r = write_header(a, member, art->size, st.st_mtime, out_path)) < 0)
		goto out;
	h = sha256_new();
	if (!h) {
		r = -ENOMEM;
		goto out;
	}
	for (left = art->size; left > 0; ) {
		/* The hasher may still be on the other buffer, never on this one. */
		unsigned char *buf = bufs[k];
		ssize_t n = read(fd, buf, left < CHUNK ? left : CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_set(errno, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0) {
			r = err_set(EIO, "'%s' shrank while being archived", path);
			goto out;
		}
		hasher_feed(hs, h, buf, (size_t)n);
		k ^= 1;
		if ((r = write_all(a, buf, (size_t)n, out_path)) < 0)
			goto out;
		left -= (uint64_t)n;
		*done += (uint64_t)n;
		if (cb->aborted && cb->aborted(cb->ud)) {
			r = err_set(EINTR, "bundling '%s' aborted", out_path);
			goto out;
		}
		if (cb->progress)
			cb->progress(cb->ud, *done, total);
	}
	hasher_wait(hs);
	r = sha256_final(h, art->sha256);
	h = NULL;
	art->hashed = r == 0;
out:
	hasher_wait(hs);  /* before h is freed */
	sha256_free(h);
	close(fd);
	return r;
}

int bundle_write(const char *run_dir, const char *run_id, struct artifact_list *l,
		 enum bundle_format f, const char *out_path, const struct bundle_cb *cb)
{
	struct archive *a = NULL;
	struct zframes *z = NULL;
	struct hasher *hs = NULL;
	unsigned char *buf = NULL, *bufs[2];
	char tmp[PATH_MAX], *manifest = NULL, *dir = NULL;
	size_t manifest_len = 0;
	uint64_t done = 0;
	int fd = -1, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%d", out_path, (int)getpid()) >= (int)sizeof(tmp))
		return err_set(ENAMETOOLONG, "'%s': path too long", out_path);
	buf = malloc(2 * CHUNK);
	if (!buf)
		return -ENOMEM;
	bufs[0] = buf;
	bufs[1] = buf + CHUNK;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = err_set(errno, "cannot write '%s': %s", out_path, strerror(errno));
		goto out;
	}
	if (f == BUNDLE_TAR_ZST) {
		int threads = zstd_threads(l->total);
		if ((r = zframes_open(fd, threads, 1u << 20, 3, &z)) < 0)
			goto out;
	}
	if ((r = open_writer(&a, f, fd, z, out_path)) < 0)
		goto out;
	/* A hasher thread pays off from a few MiB on. */
	if (l->total >= (8u << 20))
		hs = hasher_start();
	for (size_t i = 0; i < l->n; i++)
		if ((r = add_file(a, run_dir, run_id, &l->v[i], bufs, hs, out_path, cb, &done,
				  l->total)) < 0)
			goto out;
	if ((r = cb->manifest(cb->ud, l, &manifest, &manifest_len)) < 0)
		goto out;
	{
		char member[PATH_MAX];
		snprintf(member, sizeof(member), "%s/manifest.json", run_id);
		if ((r = write_header(a, member, manifest_len, time(NULL), out_path)) < 0 ||
		    (r = write_all(a, manifest, manifest_len, out_path)) < 0)
			goto out;
	}
	if (archive_write_close(a) < ARCHIVE_WARN) {
		r = arch_err(a, "cannot write", out_path);
		goto out;
	}
	if (z && (r = zframes_close(z)) < 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", err_msg_for(r));
		r = err_set(-r, "cannot write '%s': %s", out_path, why);
		goto out;
	}
	{
		int e = fsync(fd) != 0 ? errno : 0;
		if (close(fd) != 0 && !e)
			e = errno;
		fd = -1;
		if (e) {
			r = err_set(e, "cannot write '%s': %s", out_path, strerror(e));
			goto out;
		}
	}
	if (rename(tmp, out_path) != 0) {
		r = err_set(errno, "cannot rename '%s' to '%s': %s", tmp, out_path, strerror(errno));
		goto out;
	}
	dir = strdup(out_path);
	if (dir && strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		(void)fsync_dir(*dir ? dir : "/");
	}
out:
	if (a)
		archive_write_free(a);
	zframes_free(z);
	hasher_stop(hs);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	free(buf);
	free(manifest);
	free(dir);
	return r;
}
