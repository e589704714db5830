/* Helpers shared by the backends: see backend.h. */
#include "backend.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "paths.h"

#define PROBE_MAX (1024 * 1024)

int launch_push(struct strv *a, const struct tool_run *run)
{
	int r;

	if ((r = strv_push(a, data_path("plugins/common/launch.py"))) < 0 ||
	    (r = strv_push(a, launch_status_path(run))) < 0)
		return r;
	return target_program_argv(run->target, a);
}

const char *launch_status_path(const struct tool_run *run)
{
	static char buf[PATH_MAX];

	if (run->status_file)
		return run->status_file;
	snprintf(buf, sizeof(buf), "%s/.launcher-status", run->run_dir);
	return buf;
}

int launch_exit_status(const struct tool_run *run, int wait_status, bool out_of_process,
		       int *ret_status)
{
	const char *path = launch_status_path(run);
	char *buf = NULL, *end;
	long v;
	int r;

	r = read_file(path, 64, &buf, NULL);
	if (!run->status_file)
		unlink(path);
	if (r < 0) {
		/* The program never started: the tool failed first, its status says why. */
		r = -ENODATA;
		goto out;
	}
	errno = 0;
	v = strtol(buf, &end, 10);
	if (end != buf && errno == 0 && v >= 0 && v <= 255 && (*end == '\n' || !*end)) {
		*ret_status = (int)v;
		r = 0;
		goto out;
	}
	/* "running": the program never reached an exit path of its own. An in-process tool's
	 * wait status then tells how it died; a tool that exited 0 after its child vanished
	 * (py-spy after a SIGKILL, the OOM killer) does not. */
	if (out_of_process && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) {
		*ret_status = 128 + SIGKILL;
		r = 0;
		goto out;
	}
	r = -ENODATA;
out:
	free(buf);
	return r;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int probe_output(char *const *argv, int timeout_ms, char **ret_out, int *ret_wait)
{
	int fds[2] = { -1, -1 }, status = 0, r = 0;
	long long deadline = now_ms() + timeout_ms;
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	bool timed_out = false;
	pid_t pid = -1;

	if (!out)
		return -ENOMEM;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		r = err_set(errno, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = err_set(errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	fds[1] = -1;
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		char chunk[4096];
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			r = err_set(errno, "poll: %s", strerror(errno));
			break;
		}
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* Past PROBE_MAX the rest is drained and dropped, so the child never blocks. */
		while (len + (size_t)n + 1 > cap && cap < PROBE_MAX) {
			char *o = realloc(out, cap * 2);
			if (!o) {
				r = -ENOMEM;
				break;
			}
			out = o;
			cap *= 2;
		}
		if (r < 0)
			break;
		if (len + (size_t)n + 1 > cap)
			n = (ssize_t)(cap - len - 1);
		memcpy(out + len, chunk, (size_t)n);
		len += (size_t)n;
	}
	if (timed_out || r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (timed_out) {
		r = err_set(ETIMEDOUT, "'%s' did not answer within %d ms", argv[0], timeout_ms);
		goto out;
	}
	if (r < 0)
		goto out;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && len == 0) {
		r = err_set(ENOENT, "'%s' cannot be run", argv[0]);
		goto out;
	}
	out[len] = '\0';
	*ret_out = out;
	out = NULL;
	if (ret_wait)
		*ret_wait = status;
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	free(out);
	return r;
}

int python_dist_version(const char *python, const char *dist, char **ret_version)
{
	char *argv[] = {
		(char *)python, (char *)"-I", (char *)"-c",
		(char *)"import sys, importlib.metadata as m; print(m.version(sys.argv[1]))",
		(char *)dist, NULL,
	};
	char *out = NULL;
	int r, st = 0;
	size_t n;

	r = probe_output(argv, 15000, &out, &st);
	if (r < 0)
		return r;
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || n == 0 || !isdigit((unsigned char)out[0])) {
		free(out);
		return err_set(ENOENT, "'%s' is not installed for '%s'", dist, python);
	}
	*ret_version = out;
	return 0;
}

int version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		unsigned long x = strtoul(a, (char **)&a, 10);
		unsigned long y = strtoul(b, (char **)&b, 10);

		if (x != y)
			return x < y ? -1 : 1;
		/* Skip to the next numeric part; a pre-release tag ("2.0.0rc1") sorts with its
		 * release, which is all a CLI-generation check needs. */
		while (*a && *a != '.')
			a++;
		while (*b && *b != '.')
			b++;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
	return 0;
}

static bool is_forbidden(const char *arg, const char *const *forbidden)
{
	for (size_t i = 0; forbidden && forbidden[i]; i++) {
		const char *f = forbidden[i];
		size_t n = strlen(f);

		if (strncmp(arg, f, n) != 0)
			continue;
		if (arg[n] == '\0' || arg[n] == '=')
			return true;
		/* Short options glue their value: "-ofile". */
		if (f[0] == '-' && f[1] != '-' && n == 2)
			return true;
	}
	return false;
}

int push_tool_args(struct strv *a, const struct tool_run *run, const char *backend,
		   const char *const *forbidden)
{
	for (size_t i = 0; i < run->n_tool_args; i++) {
		const char *arg = run->tool_args[i];
		int r;

		if (is_forbidden(arg, forbidden))
			return err_set(EINVAL, "--tool-arg '%s': the %s backend sets this option "
				       "itself (fixed file names in the run folder; see docs/kinds.md)",
				       arg, backend);
		if ((r = strv_push(a, arg)) < 0)
			return r;
	}
	return 0;
}

const char *run_path(const char *run_dir, const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", run_dir, name);
	return buf;
}

static void sbuf_reserve(struct sbuf *b, size_t more)
{
	size_t cap;
	char *s;

	if (b->err || b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	s = realloc(b->s, cap);
	if (!s) {
		b->err = -ENOMEM;
		return;
	}
	b->s = s;
	b->cap = cap;
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = -EINVAL;
		return;
	}
	sbuf_reserve(b, (size_t)n);
	if (b->err)
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sbuf_putc(struct sbuf *b, char c)
{
	sbuf_reserve(b, 1);
	if (b->err)
		return;
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}

void sbuf_xml(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sbuf_printf(b, "&amp;"); break;
		case '<': sbuf_printf(b, "&lt;"); break;
		case '>': sbuf_printf(b, "&gt;"); break;
		case '"': sbuf_printf(b, "&quot;"); break;
		case '\'': sbuf_printf(b, "&#39;"); break;
		default:
			/* Control characters are not allowed in XML 1.0. */
			sbuf_putc(b, (unsigned char)*s < 0x20 && *s != '\t' ? '?' : *s);
		}
	}
}

void sbuf_free(struct sbuf *b)
{
	if (!b)
		return;
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}
