/* viztracer backend (kind: timeline): `python -m viztracer -o trace.json
 * --tracer_entries N -- PROG ARGS`; summary.txt and the overflow warning come from one
 * streaming pass over the trace in C (trace_scan.c).
 *
 * N = 4,000,000 entries (TRACER_ENTRIES). viztracer keeps the last N entries in a
 * circular buffer; its default of 1,000,000 holds under a minute of a busy Python
 * program. An SCT longevity test runs for an hour or more, mostly waiting on remote
 * nodes; 4,000,000 entries is an hour at about 1,100 traced calls a second, and costs,
 * at roughly 70 bytes per entry in the tracer's buffer and 150 bytes of JSON, some
 * 300 MB of memory and a 600 MB trace: about the most that vizviewer and Perfetto still
 * open. A busier test overflows; then the trace keeps the most recent hour-fraction,
 * manifest.json and stderr carry a warning, and --tool-arg=--min_duration=1ms or
 * --tool-arg=--ignore_c_function keep more of the run. --tool-arg=--tracer_entries=M
 * overrides N.
 *
 * `.json.gz` on request: --tool-arg=--output_file=trace.json.gz (viztracer's own option,
 * limited to the two fixed names). viztracer turns SIGTERM into exit status 0, so the
 * program runs through sctprof's exit-status launcher. Without --subprocesses,
 * --ignore_multiprocess stops viztracer from following child processes, which it does
 * by default. */
#include "plugin.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "error.h"
#include "post.h"
#include "trace_scan.h"

#define TRACER_ENTRIES 4000000L

static const char *const kinds[] = { "timeline", NULL };

static const char *const forbidden[] = {
	"--output_dir", "-u", "--unique_output_file", "--pid_suffix", "--run", "-m",
	"--module", "-c", "--cmd_string", "--open", "--attach", NULL,
};

static char version_buf[64];

/* What the tool arguments ask for: the trace's name and the buffer size in effect. */
struct choice {
	char trace_name[32];
	long entries;
};

/* Takes --output_file/-o (only trace.json or trace.json.gz) out of the tool arguments
 * and notes --tracer_entries; pushes the rest to a (when not NULL). */
static int parse_args(struct strv *a, const struct tool_run *run, struct choice *ret)
{
	struct choice c = { "trace.json", TRACER_ENTRIES };
	struct tool_run copy = *run;
	struct strv rest = STRV_INIT;
	int r = 0;

	for (size_t i = 0; i < run->n_tool_args; i++) {
		const char *arg = run->tool_args[i], *value = NULL;

		if (!strcmp(arg, "-o") || !strcmp(arg, "--output_file")) {
			if (i + 1 >= run->n_tool_args) {
				r = err_set(EINVAL, "--tool-arg '%s' needs a value", arg);
				goto out;
			}
			value = run->tool_args[++i];
		} else if (!strncmp(arg, "--output_file=", 14)) {
			value = arg + 14;
		} else if (!strncmp(arg, "-o", 2)) {
			value = arg + 2 + (arg[2] == '=');
		}
		if (value) {
			if (strcmp(value, "trace.json") && strcmp(value, "trace.json.gz")) {
				r = err_set(EINVAL, "--tool-arg: the viztracer backend writes "
					    "trace.json or trace.json.gz, not '%s'", value);
				goto out;
			}
			snprintf(c.trace_name, sizeof(c.trace_name), "%s", value);
			continue;
		}
		if (!strncmp(arg, "--tracer_entries=", 17))
			c.entries = strtol(arg + 17, NULL, 10);
		else if (!strcmp(arg, "--tracer_entries") && i + 1 < run->n_tool_args)
			c.entries = strtol(run->tool_args[i + 1], NULL, 10);
		if ((r = strv_push(&rest, arg)) < 0)
			goto out;
	}
	copy.tool_args = rest.v;
	copy.n_tool_args = rest.n;
	if (a)
		r = push_tool_args(a, &copy, "viztracer", forbidden);
	if (r == 0)
		*ret = c;
out:
	strv_free(&rest);
	return r;
}

static int viztracer_command(struct tool_run *run)
{
	const struct target *t = run->target;
	struct strv *a = &run->argv, tail = STRV_INIT;
	struct choice c;
	char *v = NULL;
	int r;

	if (!run->tool_version && python_dist_version(run->python, "viztracer", &v) == 0) {
		snprintf(version_buf, sizeof(version_buf), "%s", v);
		run->tool_version = version_buf;
		free(v);
	}
	if (!run->tool_version)
		return err_set(ENOENT, "viztracer is not installed for '%s'", run->python);
	if ((r = strv_push(a, run->python)) < 0 ||
	    (r = strv_extend(a, t->interp_opts.v, t->interp_opts.n)) < 0 ||
	    (r = strv_push(a, "-m")) < 0 ||
	    (r = strv_push(a, "viztracer")) < 0 ||
	    (r = strv_push(a, "--tracer_entries")) < 0 ||
	    (r = strv_pushf(a, "%ld", TRACER_ENTRIES)) < 0)
		goto out;
	if (!run->subprocesses && (r = strv_push(a, "--ignore_multiprocess")) < 0)
		goto out;
	/* The user's options come after ours, so theirs win (argparse keeps the last). */
	if ((r = parse_args(&tail, run, &c)) < 0 ||
	    (r = strv_extend(a, tail.v, tail.n)) < 0 ||
	    (r = strv_push(a, "--output_file")) < 0 ||
	    (r = strv_push(a, run_path(run->run_dir, c.trace_name))) < 0 ||
	    (r = strv_push(a, "--")) < 0 ||
	    (r = launch_push(a, run)) < 0)
		goto out;
out:
	strv_free(&tail);
	return r;
}

static int viztracer_exit_status(const struct tool_run *run, int wait_status, int *ret_status)
{
	return launch_exit_status(run, wait_status, false, ret_status);
}

static void viztracer_post(const struct tool_run *run, struct post *p)
{
	struct trace_stats st = { 0 };
	char path[PATH_MAX], detail[128], *sum = NULL;
	struct choice c;
	int r;

	if (parse_args(NULL, run, &c) < 0)
		c = (struct choice){ "trace.json", TRACER_ENTRIES };
	snprintf(path, sizeof(path), "%s", run_path(run->run_dir, c.trace_name));
	r = trace_scan(path, &st);
	if (r < 0) {
		post_record(p, "trace scan", r, NULL);
		if (asprintf(&sum, "viztracer timeline: none (%s)\n\nviztracer saves the trace "
			     "when the program exits, on SIGINT and on SIGTERM; killed (SIGKILL) "
			     "it writes nothing.\n", err_msg_for(r)) < 0)
			sum = NULL;
	} else {
		snprintf(detail, sizeof(detail), "%zu events, %zu threads%s", st.events,
			 st.threads, st.overflow ? ", buffer overflowed" : "");
		post_record(p, "trace scan", 0, detail);
		if (st.overflow)
			post_warn(p, "viztracer's circular buffer overflowed (--tracer_entries %ld): "
				  "%s keeps only the most recent entries; raise --tracer_entries or "
				  "filter with --tool-arg=--min_duration=1ms", c.entries, c.trace_name);
		sum = trace_summary(&st, c.trace_name, 40);
	}
	r = sum ? write_file_atomic(run_path(run->run_dir, "summary.txt"), sum, strlen(sum))
		: -ENOMEM;
	post_record(p, "summary.txt", r, NULL);
	free(sum);
	trace_stats_free(&st);
}

const struct plugin plugin_viztracer = {
	.name = "viztracer",
	.kinds = kinds,
	.folder = "plugins/viztracer",
	.command = viztracer_command,
	.exit_status = viztracer_exit_status,
	.post = viztracer_post,
};
