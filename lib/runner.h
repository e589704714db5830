/* One profiled run, DESIGN.md "One run": resolve the target, pick the backend, create
 * the run folder, supervise the profiler, post-process, write manifest.json, bundle.
 * The command layer (cmd/run.c) only parses options into struct run_opts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bundle.h"

struct run_opts {
	const char *kind;             /* profile kind; NULL: the --tool's kind, else cprofile */
	const char *tool;             /* --tool: force a backend, or NULL */
	bool force;                   /* --force: run a tool the matrix refuses */
	const char *matrix;           /* --matrix FILE, or NULL (lib/matrix.h) */
	const char *output_dir;       /* OUTDIR */
	enum bundle_format format;
	bool no_archive;
	const char *python;           /* --python, or NULL */
	bool all_threads;             /* --threads=all */
	bool subprocesses;
	char *const *command;         /* after "--" */
	int n_command;
	char *const *tool_args;       /* --tool-arg */
	size_t n_tool_args;
	double grace, kill_after, timeout, post_timeout;
	bool foreground;
	bool inject;                  /* --inject: run the command as it is, and start the
	                               * profiler inside every matching Python process
	                               * under it (lib/inject.h) */
	const char *inject_match;     /* --inject-match patterns, comma-separated, or NULL */
	/* sctprof attach: profile this running process instead of starting command (which
	 * is then NULL), for duration seconds (0: until it exits or the run is stopped),
	 * with a backend that has an attach hook. */
	int attach_pid;
	double duration;
};

struct run_result {
	int exit_status;              /* what sctprof exits with: the test's, or 124; for
	                               * attach, the profiler's own */
	char *run_id;
	char *run_dir;
	char *bundle;                 /* NULL with --no-archive or when bundling failed */
	char *tool;
	char *kind;                   /* the kind run (o->kind, or the one --tool implied) */
	bool started;                 /* the command was started (a failure before it was
	                               * leaves it unrun; `run --best-effort` then runs it) */
};

#include "kinds.h"

/* Returns 0 when the run happened (whatever the test's status, in ret->exit_status), or
 * a negative errno with err_set() and *ret_code set to sctprof's own exit status. A
 * failure after the test ran (bundling on a full disk) still fills ret. */
int runner_run(const struct run_opts *o, struct run_result *ret, int *ret_code);
void run_result_free(struct run_result *r);
