/* Running the profiler (and through it the test) as a supervised child.
 *
 * The child gets its own process group; when sctprof owns the terminal the child's group
 * becomes the terminal's foreground group, as a shell does it, so a debugger reads the
 * keyboard and Ctrl-C reaches the test directly. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent
 * to sctprof, and --timeout, start the stop sequence: SIGINT to the group (profilers
 * flush on SIGINT, not on SIGTERM), `grace` seconds, SIGTERM, `kill_after` seconds,
 * SIGKILL; every stop signal is followed by SIGCONT, so that a stopped process acts on
 * it. A second stop signal skips the grace, a third sends SIGKILL. sctprof is a child
 * subreaper (and reaps as PID 1): orphans are reaped, and once the main child has exited
 * what is left of its group gets the same stop sequence. As PID 1 (a container's entry
 * point) so do the processes that left the group (daemons that called setsid()), so
 * that the container can exit; elsewhere they are counted and left running. */
#pragma once

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

enum run_end {
	END_EXITED,      /* the main child exited by itself */
	END_SIGNALED,    /* the main child died of a signal nobody asked sctprof to send */
	END_TIMEOUT,     /* --timeout elapsed */
	END_STOPPED,     /* a signal to sctprof stopped the run */
};

struct supervise_opts {
	char *const *argv;        /* argv[0] is looked up on PATH */
	char *const *env_extra;   /* "NAME=value" entries added to (or replacing in) environ */
	double grace;             /* seconds from SIGINT to SIGTERM */
	double kill_after;        /* seconds from SIGTERM to SIGKILL */
	double timeout;           /* seconds, 0 for none */
	bool foreground;          /* hand the terminal to the child when sctprof has it */
	const char *cwd;          /* working directory for the child, or NULL */
	const char *stdout_path;  /* redirect the child's stdout to this file, or NULL */
	const char *stderr_path;  /* redirect the child's stderr to this file, or NULL */
};

struct supervise_result {
	pid_t pid;
	int wait_status;          /* the main child's, as from waitpid() */
	enum run_end how;
	int stop_signal;          /* the signal that stopped the run (END_STOPPED) */
	int escalation;           /* the strongest signal sctprof sent while the main child
	                           * ran: 0, SIGINT, SIGTERM, SIGKILL */
	int cleanup_signal;       /* the same for what the main child left behind */
	unsigned reaped;          /* descendants other than the main child that sctprof reaped */
	unsigned left_running;    /* children still there at the end: processes that left the
	                           * group (as PID 1: none, unless they ignore SIGKILL) */
	double started, ended;    /* wall clock, seconds since the epoch */
	struct rusage rusage;     /* of every descendant reaped during this call (CPU times;
	                           * max RSS is the largest single process's) */
};

/* Returns 0 once the child and its group are gone, or a negative errno (with err_set)
 * when the child could not be started: -ENOENT/-EACCES for exec. */
int supervise_run(const struct supervise_opts *o, struct supervise_result *ret);

/* How many stop signals sctprof received, during and after supervise_run(). Later phases
 * (post-processing, bundling) give up when this reaches 3, keeping the raw files. */
int supervise_signals(void);
/* Installs the counting handlers for the phases after supervise_run(). */
void supervise_count_signals(void);

/* The exit status a shell would report for wait_status: the code, or 128+N. */
int wait_status_to_exit(int wait_status);
