/* Progress lines for sctprof's own long phases. A ticker thread draws, so that the
 * worker (the bundler's read-compress-write loop, an upload, a post-processing step
 * waited for in poll()) only stores a counter; the thread runs with every signal
 * blocked, so that stop signals still reach the supervisor's signalfd and counters. */
#include "progress.h"
#include "error.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define TICK_LINE 1.0      /* seconds between redraws of the live line */
#define TICK_PLAIN 60.0    /* seconds between plain lines */

struct progress {
	char phase[64];
	uint64_t total;
	atomic_uint_least64_t done;
	double start;
	bool line;              /* a live line, else plain lines */
	bool stopping;          /* under out_lock */
	bool have_thread;
	pthread_t thread;
	pthread_cond_t cond;
};

static int out_fd = -1;
static enum progress_mode out_mode = PROGRESS_OFF;
/* Guards everything written to out_fd and the state of the screen below. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static struct progress *current;   /* the phase on screen; one at a time */
static size_t shown;               /* columns of the live line now on screen, 0: none */
static bool held;

int progress_mode_parse(const char *s, enum progress_mode *ret)
{
	if (!strcmp(s, "auto"))
		*ret = PROGRESS_AUTO;
	else if (!strcmp(s, "always"))
		*ret = PROGRESS_ALWAYS;
	else if (!strcmp(s, "never"))
		*ret = PROGRESS_NEVER;
	else
		return err_set(EINVAL, "unknown progress mode '%s' (auto, always, never)", s);
	return 0;
}

void progress_setup(int fd, enum progress_mode mode)
{
	out_fd = fd;
	out_mode = mode;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_format_bytes(char *buf, unsigned size, uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = -1;

	if (b < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)b);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
}

static void format_secs(char *buf, size_t size, double s)
{
	long t = (long)(s + 0.5);

	if (t < 60)
		snprintf(buf, size, "%ld s", t);
	else if (t < 3600)
		snprintf(buf, size, "%ld min %02ld s", t / 60, t % 60);
	else
		snprintf(buf, size, "%ld h %02ld min", t / 3600, t % 3600 / 60);
}

static void put(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(out_fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* "bundling 12.0 MiB of 64.0 MiB, 85.3 MiB/s, 1 s left" or "post-processing, 12 s". */
static void render(const struct progress *p, char *buf, size_t size)
{
	uint64_t done = atomic_load(&p->done);
	double elapsed = now() - p->start;
	char d[32], t[32], r[32], left[32];

	if (p->total == 0) {
		format_secs(t, sizeof(t), elapsed);
		snprintf(buf, size, "sctprof: %s, %s", p->phase, t);
		return;
	}
	progress_format_bytes(d, sizeof(d), done);
	progress_format_bytes(t, sizeof(t), p->total);
	if (done == 0 || elapsed < 0.2) {
		snprintf(buf, size, "sctprof: %s %s of %s", p->phase, d, t);
		return;
	}
	progress_format_bytes(r, sizeof(r), (uint64_t)((double)done / elapsed));
	format_secs(left, sizeof(left), (double)(p->total > done ? p->total - done : 0) *
		    elapsed / (double)done);
	snprintf(buf, size, "sctprof: %s %s of %s, %s/s, %s left", p->phase, d, t, r, left);
}

static void clear_line(void)
{
	char pad[256];

	if (!shown)
		return;
	memset(pad, ' ', sizeof(pad));
	put("\r", 1);
	for (size_t n = shown; n > 0; ) {
		size_t k = n < sizeof(pad) ? n : sizeof(pad);
		put(pad, k);
		n -= k;
	}
	put("\r", 1);
	shown = 0;
}

/* Under out_lock. */
static void draw(struct progress *p)
{
	char buf[512];
	size_t len, width = 80;
	struct winsize ws;

	render(p, buf, sizeof(buf));
	len = strlen(buf);
	if (!p->line) {
		buf[len++] = '\n';
		put(buf, len);
		return;
	}
	if (held)
		return;
	/* A line wider than the terminal would wrap, and "\r" would then not return to its
	 * start: keep it one column short. */
	if (ioctl(out_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		width = ws.ws_col;
	if (len > width - 1)
		len = width - 1;
	put("\r", 1);
	put(buf, len);
	if (shown > len) {
		char pad[256];
		size_t n = shown - len < sizeof(pad) ? shown - len : sizeof(pad);
		memset(pad, ' ', n);
		put(pad, n);
		put("\r", 1);
		put(buf, len);
	}
	shown = len;
}

static void *ticker(void *arg)
{
	struct progress *p = arg;
	double every = p->line ? TICK_LINE : TICK_PLAIN, next = p->start + every;

	pthread_mutex_lock(&out_lock);
	while (!p->stopping) {
		struct timespec ts;
		double t = now();
		if (t >= next) {
			draw(p);
			next = t + every;
			continue;
		}
		/* The condition variable waits on CLOCK_MONOTONIC (see progress_begin). */
		ts.tv_sec = (time_t)next;
		ts.tv_nsec = (long)((next - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&p->cond, &out_lock, &ts);
	}
	pthread_mutex_unlock(&out_lock);
	return NULL;
}

struct progress *progress_begin(const char *phase, uint64_t total, const char *detail)
{
	struct progress *p;
	pthread_condattr_t ca;
	sigset_t all, old;

	if (out_fd < 0 || out_mode == PROGRESS_OFF)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->phase, sizeof(p->phase), "%s", phase);
	p->total = total;
	p->start = now();
	p->line = out_mode == PROGRESS_ALWAYS || (out_mode == PROGRESS_AUTO && isatty(out_fd));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);

	pthread_mutex_lock(&out_lock);
	if (current) {
		/* One phase on screen at a time; a nested one goes unshown. */
		pthread_mutex_unlock(&out_lock);
		pthread_cond_destroy(&p->cond);
		free(p);
		return NULL;
	}
	current = p;
	if (p->line) {
		draw(p);
	} else {
		char buf[PATH_MAX + 128], size[32];
		if (total > 0) {
			progress_format_bytes(size, sizeof(size), total);
			snprintf(buf, sizeof(buf), "sctprof: %s %s%s%s\n", phase, size,
				 detail ? " into " : "", detail ? detail : "");
		} else {
			snprintf(buf, sizeof(buf), "sctprof: %s%s%s\n", phase,
				 detail ? " " : "", detail ? detail : "");
		}
		put(buf, strlen(buf));
	}
	pthread_mutex_unlock(&out_lock);

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	p->have_thread = pthread_create(&p->thread, NULL, ticker, p) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return p;
}

void progress_update(struct progress *p, uint64_t done)
{
	if (p)
		atomic_store(&p->done, done);
}

void progress_cb(void *ud, uint64_t done, uint64_t total)
{
	(void)total;
	progress_update(ud, done);
}

void progress_end(struct progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&out_lock);
	p->stopping = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&out_lock);
	if (p->have_thread)
		pthread_join(p->thread, NULL);
	pthread_mutex_lock(&out_lock);
	if (p->line)
		clear_line();
	current = NULL;
	pthread_mutex_unlock(&out_lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

void progress_hold(void)
{
	pthread_mutex_lock(&out_lock);
	held = true;
	clear_line();
}

void progress_release(void)
{
	held = false;
	pthread_mutex_unlock(&out_lock);
}
