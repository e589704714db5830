/* Post-processing after the test ended: the views a backend makes from its raw output
 * (flame graphs, stats, summary.txt). Each step is bounded by --post-timeout and
 * recorded in manifest.json; a failed or timed-out step is a warning, never fatal, and
 * never touches the raw files. */
#pragma once

#include <stdbool.h>

struct post;

/* Runs argv (argv[0] looked up on PATH) in the run folder, with its stdout written to
 * stdout_path (relative to the run folder) or discarded when NULL, stderr kept for the
 * record. Returns 0 when it exited 0 in time, else a negative errno. */
int post_exec(struct post *p, const char *name, char *const *argv, const char *stdout_path);

/* Records a step done in-process (a native report): r is 0 or a negative errno. */
void post_record(struct post *p, const char *name, int r, const char *detail);

/* A warning about the profile (e.g. a tracer's buffer overflowed): printed on stderr
 * and kept in the manifest's "warnings". */
void post_warn(struct post *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The run folder, for backends that read their raw files. */
const char *post_run_dir(const struct post *p);
