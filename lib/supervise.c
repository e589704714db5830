/* The supervisor: fork, process group, terminal hand-over, the stop sequence, reaping.
 * Signals are blocked and read from a signalfd, so there is no async-signal handler
 * logic; the loop waits in poll() with the nearest deadline as its timeout. */
#include "supervise.h"
#include "error.h"

#include <dirent.h>
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
#include <sys/time.h>
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
	/* SA_RESTART: a stop signal during bundling must not fail a write with EINTR. */
	struct sigaction sa = { .sa_handler = count_signal, .sa_flags = SA_RESTART };
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

/* Children of this process (every thread's), from /proc: processes that left the
 * child's group and were handed to us as subreaper. */
static unsigned count_children(void)
{
	char path[64];
	unsigned n = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		FILE *f;
		int c;
		bool in_num = false;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/children", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while ((c = fgetc(f)) != EOF) {
			bool digit = c >= '0' && c <= '9';
			if (digit && !in_num)
				n++;
			in_num = digit;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static struct timeval tv_minus(struct timeval a, struct timeval b)
{
	struct timeval r;

	timersub(&a, &b, &r);
	if (r.tv_sec < 0)
		r = (struct timeval){ 0 };
	return r;
}

/* The stop sequence, sent to one target: the child's group, then (as PID 1) everyone. */
struct stopper {
	pid_t target;         /* for kill(): -pgid, or -1 */
	int sent;             /* the stage reached: 0, SIGINT, SIGTERM, SIGKILL */
	double next;          /* when the next stage is due (monotonic) */
	double grace, kill_after;
};

static int stage_rank(int sig)
{
	return sig == SIGKILL ? 3 : sig == SIGTERM ? 2 : sig == SIGINT ? 1 : 0;
}

static void stop_send(struct stopper *s, int sig, int *strongest)
{
	kill(s->target, sig);
	/* A stopped process (Ctrl-Z, SIGTTIN) acts on the signal only once continued. */
	if (sig != SIGKILL)
		kill(s->target, SIGCONT);
	s->sent = sig;
	s->next = now_mono() + (sig == SIGINT ? s->grace : sig == SIGTERM ? s->kill_after : 0);
	if (stage_rank(sig) > stage_rank(*strongest))
		*strongest = sig;
}

/* The next stage: SIGINT, then SIGTERM, then SIGKILL. */
static void stop_advance(struct stopper *s, int *strongest)
{
	stop_send(s, s->sent == 0 ? SIGINT : s->sent == SIGINT ? SIGTERM : SIGKILL, strongest);
}

int supervise_run(const struct supervise_opts *o, struct supervise_result *ret)
{
	struct supervise_result res = { 0 };
	struct stopper stop = { .grace = o->grace, .kill_after = o->kill_after };
	struct rusage ru_before = { 0 }, ru_after;
	sigset_t mask, oldmask;
	struct sigaction sa_noop = { .sa_handler = noop }, old_sa[4];
	int sfd = -1, errpipe[2] = { -1, -1 }, tty = -1, r = 0, exec_errno = 0;
	bool child_done = false, done = false, child_has_tty = false, give_tty = false;
	bool pid1 = getpid() == 1;
	double deadline_timeout = 0;
	char **env = NULL;
	pid_t pid = -1, my_pgrp = getpgrp();
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

	/* The terminal goes to the child when sctprof has it in the foreground, as a shell
	 * gives it to a job; when sctprof runs in the background it may get it later (fg). */
	if (o->foreground && isatty(STDIN_FILENO)) {
		tty = STDIN_FILENO;
		give_tty = tcgetpgrp(tty) == my_pgrp;
	}

	env = build_env(o->env_extra);
	if (!env || pipe2(errpipe, O_CLOEXEC) != 0) {
		r = err_set(errno ? errno : ENOMEM, "cannot start '%s': %s", o->argv[0],
			    strerror(errno ? errno : ENOMEM));
		goto out;
	}

	getrusage(RUSAGE_CHILDREN, &ru_before);
	res.started = now_real();
	pid = fork();
	if (pid < 0) {
		r = err_set(errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int e;
		setpgid(0, 0);
		if (give_tty)
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
	stop.target = -pid;
	setpgid(pid, pid); /* both sides, as shells do: whichever runs first wins the race */
	if (give_tty) {
		give_terminal(tty, pid);
		child_has_tty = true;
	}
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

	while (!done) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		int *strongest = child_done ? &res.cleanup_signal : &res.escalation;
		double t = now_mono(), wait_s = -1;
		struct signalfd_siginfo si;

		if (!child_done && deadline_timeout > 0 && stop.sent == 0) {
			if (t >= deadline_timeout) {
				res.how = END_TIMEOUT;
				stop_send(&stop, SIGINT, strongest);
			} else {
				wait_s = deadline_timeout - t;
			}
		}
		if (stop.sent == SIGINT || stop.sent == SIGTERM) {
			if (t >= stop.next)
				stop_advance(&stop, strongest);
			if (stop.sent != SIGKILL && (wait_s < 0 || stop.next - t < wait_s))
				wait_s = stop.next - t;
		}
		if (wait_s > 3600)
			wait_s = 3600;  /* the deadlines are checked again on waking */
		if (poll(&pfd, 1, wait_s < 0 ? -1 : (int)(wait_s * 1000) + 1) < 0 && errno != EINTR) {
			r = err_set(errno, "poll: %s", strerror(errno));
			goto out;
		}
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			int sig = (int)si.ssi_signo;
			if (sig == SIGCHLD)
				continue;
			atomic_fetch_add(&signals_seen, 1);
			if (stop.sent == 0 && !child_done && res.how != END_TIMEOUT) {
				res.how = END_STOPPED;
				res.stop_signal = sig;
			}
			/* First: SIGINT and the grace; asked again: skip the grace; a third
			 * time: SIGKILL. */
			if (stop.sent != SIGKILL)
				stop_advance(&stop, child_done ? &res.cleanup_signal : &res.escalation);
		}
		/* Reap everything that ended: the main child, and orphans handed to us. */
		for (;;) {
			int st;
			pid_t w = waitpid(-1, &st, WNOHANG | WUNTRACED);
			if (w <= 0)
				break;
			if (WIFSTOPPED(st)) {
				if (w != pid || child_done)
					continue;
				/* Ctrl-Z in the child's group: stop ourselves too, as the shell's
				 * job, and continue it when we are continued (fg or bg). */
				if (child_has_tty) {
					give_terminal(tty, my_pgrp);
					child_has_tty = false;
				}
				kill(getpid(), SIGSTOP);
				if (tty >= 0 && tcgetpgrp(tty) == my_pgrp) {
					give_terminal(tty, pid);
					child_has_tty = true;
				}
				kill(-pid, SIGCONT);
				continue;
			}
			if (w != pid) {
				res.reaped++;
				continue;
			}
			if (!child_done) {
				child_done = true;
				res.wait_status = st;
				if (child_has_tty) {
					give_terminal(tty, my_pgrp);
					child_has_tty = false;
				}
				/* A stage reached while the child ran carries on for what is left of
				 * its group, from the same stage. */
			}
		}
		if (!child_done)
			continue;
		if (kill(stop.target, 0) == 0 || errno != ESRCH) {
			/* What the main child left behind gets the stop sequence too. */
			if (stop.sent == 0)
				stop_send(&stop, SIGINT, &res.cleanup_signal);
		} else if (pid1 && stop.target != -1 && kill(-1, 0) == 0) {
			/* As PID 1, the processes that left the group next: the container exits
			 * only once they are gone. */
			stop.target = -1;
			stop.sent = 0;
			stop_send(&stop, SIGINT, &res.cleanup_signal);
		} else {
			done = true;
		}
	}
	if (res.how == END_EXITED && WIFSIGNALED(res.wait_status))
		res.how = END_SIGNALED;
	/* Whatever ended since the last look is reaped; what is still our child then is
	 * running (a zombie would be counted too: it stays a child until reaped). */
	for (int st; waitpid(-1, &st, WNOHANG) > 0; )
		res.reaped++;
	res.left_running = count_children();
	res.ended = now_real();
	getrusage(RUSAGE_CHILDREN, &ru_after);
	res.rusage = ru_after;
	res.rusage.ru_utime = tv_minus(ru_after.ru_utime, ru_before.ru_utime);
	res.rusage.ru_stime = tv_minus(ru_after.ru_stime, ru_before.ru_stime);
	*ret = res;
out:
	if (child_has_tty)
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
