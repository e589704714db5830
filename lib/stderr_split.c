/* A command's stderr, split by line prefix: see stderr_split.h. */
#include "stderr_split.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_HELD 65536

struct splitter {
	const char *prefix;
	size_t prefix_len;
	int out_fd, log_fd;
	char line[LINE_MAX_HELD];
	size_t len;          /* bytes of the current line held back */
	bool passing;        /* the current line is not a prefixed one: pass it on as it comes */
	bool logging;        /* the current line is a prefixed one */
	int log_err;
};

static void write_all(int fd, const char *p, size_t n, int *err)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (err && !*err)
				*err = errno;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Feeds bytes; each byte belongs to the current line until its newline. */
static void feed(struct splitter *s, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t chunk = nl ? (size_t)(nl - p) + 1 : n;

		if (s->passing) {
			write_all(s->out_fd, p, chunk, NULL);
		} else if (s->logging) {
			write_all(s->log_fd, p, chunk, &s->log_err);
		} else {
			/* Still deciding: hold what could be the start of the prefix. */
			size_t take = chunk;

			if (s->len + take > sizeof(s->line))
				take = sizeof(s->line) - s->len;
			memcpy(s->line + s->len, p, take);
			s->len += take;
			if (s->len >= s->prefix_len || nl) {
				bool match = s->len >= s->prefix_len &&
					     memcmp(s->line, s->prefix, s->prefix_len) == 0;

				if (match) {
					s->logging = true;
					write_all(s->log_fd, s->line, s->len, &s->log_err);
				} else {
					s->passing = true;
					write_all(s->out_fd, s->line, s->len, NULL);
				}
				s->len = 0;
			} else if (memcmp(s->line, s->prefix, s->len) != 0) {
				s->passing = true;
				write_all(s->out_fd, s->line, s->len, NULL);
				s->len = 0;
			}
			/* Bytes past the held buffer (only when take < chunk, impossible while
			 * the prefix is shorter than the buffer) continue on the decided side. */
			if (take < chunk)
				write_all(s->logging ? s->log_fd : s->out_fd, p + take, chunk - take,
					  NULL);
		}
		if (nl)
			s->passing = s->logging = false;
		p += chunk;
		n -= chunk;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int stderr_split_run(char *const *argv, const char *prefix, const char *log_path,
		     int *ret_wait_status)
{
	static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct splitter *s = NULL;
	int fds[2] = { -1, -1 }, exec_err[2] = { -1, -1 }, status = 0, r = 0;
	bool exited = false;
	double exited_at = 0;
	pid_t pid;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->prefix = prefix;
	s->prefix_len = strlen(prefix);
	s->out_fd = STDERR_FILENO;
	s->log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->log_fd < 0) {
		r = err_set(errno, "cannot create '%s': %s", log_path, strerror(errno));
		goto out;
	}
	if (pipe2(fds, O_CLOEXEC) < 0 || pipe2(exec_err, O_CLOEXEC) < 0) {
		r = err_set(errno, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = err_set(errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int e;

		dup2(fds[1], STDERR_FILENO);
		execvp(argv[0], argv);
		e = errno;
		write_all(exec_err[1], (const char *)&e, sizeof(e), NULL);
		_exit(127);
	}
	for (size_t i = 0; i < sizeof(ignored) / sizeof(*ignored); i++)
		signal(ignored[i], SIG_IGN);
	close(fds[1]);
	fds[1] = -1;
	close(exec_err[1]);
	exec_err[1] = -1;
	{
		int e;

		if (read(exec_err[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
			waitpid(pid, &status, 0);
			r = err_set(e, "cannot run '%s': %s", argv[0], strerror(e));
			goto out;
		}
	}
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		char buf[16384];
		ssize_t n;
		int pr;

		if (!exited) {
			pid_t w = waitpid(pid, &status, WNOHANG);

			if (w == pid) {
				exited = true;
				exited_at = now();
			}
		}
		/* Wake up every 100 ms to notice the exit; once exited, stop after a second
		 * without output (a descendant may hold the pipe open for ever). */
		pr = poll(&p, 1, 100);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0) {
			if (exited && now() - exited_at > 1.0)
				break;
			continue;
		}
		n = read(fds[0], buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			if (exited)
				break;
			/* EOF before the exit: the command closed stderr; just wait for it. */
			close(fds[0]);
			fds[0] = -1;
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			exited = true;
			break;
		}
		feed(s, buf, (size_t)n);
		if (exited)
			exited_at = now();
	}
	if (!exited)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	/* A held partial line is the program's (it never became a prefixed one). */
	if (s->len)
		write_all(s->out_fd, s->line, s->len, NULL);
	if (fsync(s->log_fd) < 0 && errno != EINVAL && !s->log_err)
		s->log_err = errno;
	/* The command ran: a log that could not be written in full is reported, not fatal. */
	if (s->log_err) {
		err_set(s->log_err, "cannot write '%s': %s", log_path, strerror(s->log_err));
		r = 1;
	}
	*ret_wait_status = status;
out:
	if (s && s->log_fd >= 0)
		close(s->log_fd);
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (exec_err[i] >= 0)
			close(exec_err[i]);
	}
	free(s);
	return r;
}
