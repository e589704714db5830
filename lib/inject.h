/* `sctprof run --inject`: profiling every Python process started anywhere under a
 * command that need not be Python itself (hydra's `bash -c "... eval './sct.py ...'"`).
 *
 * The technique is coverage.py's for subprocesses: the command runs with the start-up
 * hook's folder (inject/ under the data root) first on PYTHONPATH and $SCTPROF_INJECT
 * naming the kind. Every Python process imports the hook's sitecustomize.py while it
 * starts; the hook starts the profiler in the processes whose program matches the
 * patterns, and each writes its own raw file (profile.PID.stats, ...) and a record
 * (.proc-PID) into the one run folder. After the run, inject_collect() turns the records
 * into manifest.json's "processes" and summary.txt. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "strv.h"

struct post;

/* The programs profiled unless --inject-match says otherwise (sitecustomize.py compares
 * them with the script's base name or the -m module). */
#define INJECT_MATCH_DEFAULT "sct.py,pytest,py.test"

/* The kinds a running process can start in itself, NULL-terminated. */
extern const char *const inject_kinds[];

/* 0 when kind can be injected; otherwise -EOPNOTSUPP with err_set() saying why. */
int inject_kind_check(const char *kind);

struct inject_opts {
	const char *kind;
	const char *run_dir;     /* absolute */
	const char *hook_dir;    /* the folder holding sitecustomize.py */
	const char *match;       /* comma-separated glob patterns */
	bool all_threads;
};

/* Adds the environment that arms the hook to env ("NAME=value" entries, to go into
 * supervise_opts.env_extra): PYTHONPATH with hook_dir first, SCTPROF_INJECT*. */
int inject_env(const struct inject_opts *o, struct strv *env);

/* One record, .proc-PID: "key value" lines, a line "argv", then the command line's words
 * separated by NUL bytes. A process under the command wrote it, so it is parsed as
 * untrusted input (fuzz/fuzz-inject-record.c); text is modified. Returns the manifest's
 * object for the process (never NULL but on ENOMEM), and its start time. */
json_t *inject_parse_record(const char *run_dir, char *text, size_t len, double *ret_started);

/* Reads and removes the .proc-PID records of run_dir; returns the "processes" array of
 * manifest.json (command lines redacted), writes summary.txt, and warns through p when no
 * process matched or a profiler could not start. */
int inject_collect(const char *run_dir, const char *kind, const char *match, struct post *p,
		   json_t **ret_processes);
