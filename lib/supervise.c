/* The supervisor: fork, process group, terminal hand-over, the stop sequence, reaping.
 * Signals are blocked and read from a signalfd, so there is no async-signal handler
 * logic; the loop waits in poll() with the nearest deadline as its timeout. */
#include "supervise.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static atomic_int signals_seen;

static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

int supervise_signals(void)
{
	return atomic_load(&signals_seen);
}

static void count_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&signals_seen, 1);
}

void supervise_count_signals(void)
{
	struct sigaction sa = { .sa_handler = count_signal };
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(stop_sigs) / sizeof(stop_sigs[0]); i++) {
		sigaction(stop_sigs[i], &sa, NULL);
		sigaddset(&set, stop_sigs[i]);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int wait_status_to_exit(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* environ with extra entries added, an entry of the same name replaced. */
static char **build_env(char *const *extra)
{
	size_t n = 0, k = 0, m = 0;
	char **env;

	while (environ && environ[n])
		n++;
	while (extra && extra[m])
		m++;
	env = calloc(n + m + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
		bool replaced = false;
		for (size_t j = 0; j < m; j++)
			if (strncmp(extra[j], environ[i], len) == 0)
				replaced = true;
		if (!replaced)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		env[k++] = extra[j];
	env[k] = NULL;
	return env;
}

/* tcsetpgrp() from a process outside the foreground group raises SIGTTOU. */
static void give_terminal(int fd, pid_t pgrp)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;

	sigaction(SIGTTOU, &ign, &old);
	(void)tcsetpgrp(fd, pgrp);
	sigaction(SIGTTOU, &old, NULL);
}

static int redirect(int fd, const char *path)
{
	int f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (f < 0)
		return -1;
	if (dup2(f, fd) < 0) {
		close(f);
		return -1;
	}
	close(f);
	return 0;
}

static void noop(int sig)
{
	(void)sig;
}

int supervise_run(const struct supervise_opts *o, struct supervise_result *ret)
{
	struct supervise_result res = { 0 };
	sigset_t mask, oldmask;
	struct sigaction sa_noop = { .sa_handler = noop }, old_sa[4];
	int sfd = -1, errpipe[2] = { -1, -1 }, tty = -1, r = 0, exec_errno = 0;
	bool child_done = false, group_done = false;
	double deadline_timeout = 0, deadline_next = 0;
	char **env = NULL;
	pid_t pid, my_pgrp = getpgrp();
	ssize_t n;

	/* As PID 1, a signal with the default disposition is dropped by the kernel: give
	 * every stop signal a handler, then block them all and read them from a signalfd. */
	sigemptyset(&mask);
	for (int i = 0; i < 4; i++) {
		sigaction(stop_sigs[i], &sa_noop, &old_sa[i]);
		sigaddset(&mask, stop_sigs[i]);
	}
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		r = err_set(errno, "signalfd: %s", strerror(errno));
		goto out;
	}
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

	if (o->foreground && isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == my_pgrp)
		tty = STDIN_FILENO;

	env = build_env(o->env_extra);
	if (!env || pipe2(errpipe, O_CLOEXEC) != 0) {
		r = err_set(errno ? errno : ENOMEM, "cannot start '%s': %s", o->argv[0],
			    strerror(errno ? errno : ENOMEM));
		goto out;
	}

	res.started = now_real();
	pid = fork();
	if (pid < 0) {
		r = err_set(errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int e;
		setpgid(0, 0);
		if (tty >= 0)
			give_terminal(tty, getpid());
		for (int i = 0; i < 4; i++)
			sigaction(stop_sigs[i], &old_sa[i], NULL);
		signal(SIGTTOU, SIG_DFL);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		close(errpipe[0]);
		if ((o->cwd && chdir(o->cwd) != 0) ||
		    (o->stdout_path && redirect(STDOUT_FILENO, o->stdout_path) != 0) ||
		    (o->stderr_path && redirect(STDERR_FILENO, o->stderr_path) != 0)) {
			e = errno;
			if (write(errpipe[1], &e, sizeof(e)) < 0)
				_exit(127);
			_exit(127);
		}
		execvpe(o->argv[0], o->argv, env);
		e = errno;
		if (write(errpipe[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	res.pid = pid;
	setpgid(pid, pid); /* both sides, as shells do: whichever runs first wins the race */
	if (tty >= 0)
		give_terminal(tty, pid);
	close(errpipe[1]);
	errpipe[1] = -1;
	n = read(errpipe[0], &exec_errno, sizeof(exec_errno));
	if (n == (ssize_t)sizeof(exec_errno)) {
		waitpid(pid, NULL, 0);
		r = err_set(exec_errno, "cannot run '%s': %s", o->argv[0], strerror(exec_errno));
		goto out;
	}

	if (o->timeout > 0)
		deadline_timeout = now_mono() + o->timeout;

	while (!group_done) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		double t = now_mono(), wait_s = -1;
		struct signalfd_siginfo si;
		int timeout_ms;

		if (deadline_timeout > 0 && res.escalation == 0) {
			if (t >= deadline_timeout) {
				res.how = END_TIMEOUT;
				kill(-pid, SIGINT);
				res.escalation = SIGINT;
				deadline_next = t + o->grace;
			} else {
				wait_s = deadline_timeout - t;
			}
		}
		if (res.escalation == SIGINT || res.escalation == SIGTERM) {
			if (t >= deadline_next) {
				int next = res.escalation == SIGINT ? SIGTERM : SIGKILL;
				kill(-pid, next);
				res.escalation = next;
				deadline_next = t + (next == SIGTERM ? o->kill_after : 0);
			}
			if (res.escalation != SIGKILL &&
			    (wait_s < 0 || deadline_next - t < wait_s))
				wait_s = deadline_next - t;
		}
		timeout_ms = wait_s < 0 ? -1 : (int)(wait_s * 1000) + 1;
		if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR) {
			r = err_set(errno, "poll: %s", strerror(errno));
			goto out;
		}
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			int sig = (int)si.ssi_signo;
			if (sig == SIGCHLD)
				continue;
			atomic_fetch_add(&signals_seen, 1);
			if (res.escalation == 0) {
				if (res.how != END_TIMEOUT) {
					res.how = END_STOPPED;
					res.stop_signal = sig;
				}
				kill(-pid, SIGINT);
				res.escalation = SIGINT;
				deadline_next = now_mono() + o->grace;
			} else if (res.escalation == SIGINT) {
				/* Asked again: skip the grace. */
				kill(-pid, SIGTERM);
				res.escalation = SIGTERM;
				deadline_next = now_mono() + o->kill_after;
			} else {
				kill(-pid, SIGKILL);
				res.escalation = SIGKILL;
			}
		}
		/* Reap everything that ended: the main child, and orphans handed to us. */
		for (;;) {
			int st;
			pid_t w = waitpid(-1, &st, WNOHANG | WUNTRACED);
			if (w <= 0)
				break;
			if (w == pid && WIFSTOPPED(st)) {
				/* Ctrl-Z in the child's group: stop ourselves too, as the shell's job. */
				if (tty >= 0)
					give_terminal(tty, my_pgrp);
				kill(getpid(), SIGSTOP);
				if (tty >= 0)
					give_terminal(tty, pid);
				kill(-pid, SIGCONT);
				continue;
			}
			if (w == pid && !child_done) {
				child_done = true;
				res.wait_status = st;
				if (tty >= 0) {
					give_terminal(tty, my_pgrp);
					tty = -1;
				}
			}
		}
		if (child_done) {
			/* What is left of the group gets the stop sequence too. */
			if (kill(-pid, 0) != 0 && errno == ESRCH) {
				group_done = true;
			} else if (res.escalation == 0) {
				kill(-pid, SIGINT);
				res.escalation = SIGINT;
				deadline_next = now_mono() + o->grace;
			}
		}
	}
	if (res.how == END_EXITED && WIFSIGNALED(res.wait_status))
		res.how = END_SIGNALED;
	res.ended = now_real();
	getrusage(RUSAGE_CHILDREN, &res.rusage);
	*ret = res;
out:
	if (tty >= 0)
		give_terminal(tty, my_pgrp);
	if (sfd >= 0)
		close(sfd);
	if (errpipe[0] >= 0)
		close(errpipe[0]);
	if (errpipe[1] >= 0)
		close(errpipe[1]);
	free(env);
	/* Stop signals stay blocked until the caller installs the counting handlers; a
	 * pending one is then delivered and counted. */
	sigdelset(&mask, SIGINT);
	sigdelset(&mask, SIGTERM);
	sigdelset(&mask, SIGHUP);
	sigdelset(&mask, SIGQUIT);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	return r;
}
