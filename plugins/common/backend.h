/* Helpers shared by the backends of plugins/: the exit-status launcher (launch.py beside
 * this file), probing a tool's --help or version, passing --tool-arg values through,
 * and small file chores. Nothing here names a tool; each backend says what it needs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fsutil.h"  /* read_file(), write_file_atomic() */
#include "plugin.h"

/* Pushes "<launch.py> STATUS_FILE (SCRIPT | -m MODULE | -c CODE) [ARG...]": the target
 * run by sctprof's launcher, which records its exit status (see launch.py). The caller
 * has pushed the interpreter and its options, or the tool that runs a script. */
int launch_push(struct strv *a, const struct tool_run *run);

/* The test's exit status as the launcher recorded it. out_of_process says that the tool
 * runs the program as a child and exits 0 whatever became of it (py-spy), so a program
 * that started but never reached an exit path was killed (137). Returns -ENODATA when
 * the tool's own wait status is the better answer. */
int launch_exit_status(const struct tool_run *run, int wait_status, bool out_of_process,
		       int *ret_status);

/* The status file the launcher writes: run->status_file, or ".launcher-status" in the
 * run folder (removed once read) when the runner gives none. Static buffer. */
const char *launch_status_path(const struct tool_run *run);

/* Runs argv (argv[0] looked up on PATH) with stdin from /dev/null, capturing stdout and
 * stderr together (at most 1 MiB), killed after timeout_ms. Returns 0 and the output
 * (NUL-terminated, malloc'd) and the wait status; -ETIMEDOUT, or a negative errno. */
int probe_output(char *const *argv, int timeout_ms, char **ret_out, int *ret_wait);

/* The version of an installed distribution as the interpreter's importlib.metadata
 * sees it (dist-info and egg-info alike). */
int python_dist_version(const char *python, const char *dist, char **ret_version);

/* Compares dotted versions numerically: "1.5.16" < "2.0.0" < "2.0.10". */
int version_cmp(const char *a, const char *b);

/* Appends run->tool_args, refusing (EINVAL, naming the backend) the options the backend
 * sets itself: where the tool writes (the raw files keep their fixed names) and what
 * would break the run (py-spy's --duration kills the program). forbidden lists option
 * names ("-o", "--output"); "--output=x" and "-ox" forms are caught too. */
int push_tool_args(struct strv *a, const struct tool_run *run, const char *backend,
		   const char *const *forbidden);

/* "<run_dir>/<name>" in a static buffer the next call overwrites. */
const char *run_path(const char *run_dir, const char *name);

/* A growable text buffer for reports written in C. */
struct sbuf {
	char *s;
	size_t len, cap;
	int err;      /* first allocation failure, sticky */
};
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_putc(struct sbuf *b, char c);
/* Appends s escaped for XML/HTML text and attributes. */
void sbuf_xml(struct sbuf *b, const char *s);
void sbuf_free(struct sbuf *b);
