/* The one interface between the runner (lib/) and a profiler backend (plugins/<tool>/).
 *
 * A backend knows its tool's command line, output files and quirks; it knows nothing of
 * run folders' naming, manifests, archives or signals. lib/ knows no tool by name: it
 * finds backends through plugin_find() over the table meson generates from plugins/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "strv.h"
#include "target.h"

struct post;
struct strv;

/* What the runner hands a backend. Everything is owned by the runner. */
struct tool_run {
	const char *kind;             /* profile kind asked for: "cprofile", "memory", ... */
	const struct target *target;  /* the Python command, resolved (lib/target.h) */
	const char *python;           /* absolute interpreter path (target->python) */
	const char *python_version;   /* "3.11.2", or NULL when unknown */
	const char *run_dir;          /* absolute; raw files go here under their fixed names */
	const char *data_dir;         /* this backend's own folder of data files (launchers) */
	const char *tool_path;        /* the tool's executable when found on PATH, else NULL */
	const char *tool_version;     /* as detected, or NULL; when NULL, command() or
	                               * attach() may point it at static storage of the
	                               * backend's own finding (the manifest names it) */
	bool all_threads;             /* --threads=all (default) */
	bool subprocesses;            /* --subprocesses: follow child processes */
	char *const *tool_args;       /* --tool-arg values, passed through verbatim */
	size_t n_tool_args;
	const char *status_file;      /* where a launcher may record the test's exit status */
	int attach_pid;               /* sctprof attach: the running process to profile (then
	                               * target is NULL and python is its interpreter) */
	double duration;              /* sctprof attach --duration, seconds; 0: until the
	                               * process exits or the run is stopped */

	/* Filled by plugin->command(): */
	struct strv argv;             /* the command to exec; argv.v[0] is looked up on PATH */
	struct strv env;              /* extra "NAME=value" entries for the child */
};

struct plugin {
	const char *name;             /* tool name, as in the matrix: "cprofile", "py-spy" */
	const char *const *kinds;     /* NULL-terminated kinds it can serve */
	const char *folder;           /* its data folder under the data root, e.g.
	                               * "plugins/cprofile" (tool_run.data_dir); may be NULL */

	/* Builds run->argv (and run->env). Returns 0 or a negative errno with err_set(). */
	int (*command)(struct tool_run *run);

	/* Optional. Builds run->argv to profile the running process run->attach_pid
	 * instead of starting a target (sctprof attach). The command must end by itself
	 * after run->duration (when not 0) and write its output when sent SIGINT. */
	int (*attach)(struct tool_run *run);

	/* Optional. Maps the tool's wait status to the test's exit status, for tools that do
	 * not return it (py-spy, cProfile's own CLI). Returns 0 and sets *ret_status (an exit
	 * code, 128+N for signal N), or -ENODATA when it cannot tell: the runner then uses
	 * the tool's own status. */
	int (*exit_status)(const struct tool_run *run, int wait_status, int *ret_status);

	/* Optional. Post-processing after the test ended: views, stats, summary.txt.
	 * Each step goes through post_exec() or post_record() (lib/post.h), which bound
	 * it in time and record it in the manifest; a failed step is never fatal. */
	void (*post)(const struct tool_run *run, struct post *p);

	/* Optional. For `run --inject`, where every matching process wrote its own raw file
	 * named with its pid (profile.PID.stats, memray.PID.bin): make that process's views,
	 * also named with its pid, through post_exec()/post_record(), and push each view's
	 * file name to made. python is the interpreter the process ran. */
	void (*inject_views)(struct post *p, const char *python, long pid, struct strv *made);
};

/* The generated table (plugins/registry.c), NULL-terminated. */
extern const struct plugin *const plugins[];

const struct plugin *plugin_find(const char *name);
/* The first backend in table order able to serve kind, or NULL. */
const struct plugin *plugin_for_kind(const char *kind);
bool plugin_serves(const struct plugin *p, const char *kind);
