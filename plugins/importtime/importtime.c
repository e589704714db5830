/* importtime backend (kind: imports): the program runs under `python -X importtime`;
 * importtime.log keeps what the interpreter reported, importtime.json and summary.txt
 * are made from it in C (importtime_log.c). The version is the interpreter's.
 *
 * CPython writes the import times to the program's own stderr and has no option to
 * write them elsewhere. The program therefore runs under `sctprof split-stderr`
 * (lib/stderr_split.c): lines that start with "import time:" go to importtime.log, every
 * other byte goes on to the real stderr as it comes, so the test's own stderr stays
 * visible to the user and to CI. Alternatives were worse: a launcher that redirected
 * fd 2 from inside Python starts after the interpreter's own start-up imports (site,
 * encodings), which are often the point; sending all of stderr to the log hides the
 * test's output. The price is that the program's stderr is a pipe, not a terminal.
 *
 * With --subprocesses, PYTHONPROFILEIMPORTTIME=1 (the same switch) is set for the child,
 * so every Python process it starts reports too, into the same log. */
#include "plugin.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "error.h"
#include "importtime_log.h"
#include "post.h"

#define LOG_MAX (512u << 20)

static const char *const kinds[] = { "imports", NULL };

static int self_exe(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	if (n <= 0)
		return err_set(errno ? errno : EIO, "cannot find sctprof's own executable: %s",
			       strerror(errno ? errno : EIO));
	buf[n] = '\0';
	return 0;
}

static int importtime_command(struct tool_run *run)
{
	const struct target *t = run->target;
	struct strv *a = &run->argv;
	char exe[PATH_MAX];
	int r;

	if ((r = self_exe(exe, sizeof(exe))) < 0)
		return r;
	if ((r = strv_push(a, exe)) < 0 ||
	    (r = strv_push(a, "split-stderr")) < 0 ||
	    (r = strv_push(a, "--prefix")) < 0 ||
	    (r = strv_push(a, "import time:")) < 0 ||
	    (r = strv_push(a, "--to")) < 0 ||
	    (r = strv_push(a, run_path(run->run_dir, "importtime.log"))) < 0 ||
	    (r = strv_push(a, "--")) < 0)
		return r;
	{
		/* The program's own command line (interpreter first) with the switch added
		 * right after the interpreter; --tool-arg values are interpreter options here
		 * (-X importtime=2 on 3.13+). */
		struct strv py = STRV_INIT;

		r = target_python_argv(t, &py);
		if (r == 0)
			r = strv_push(a, py.v[0]);
		if (r == 0)
			r = strv_push(a, "-X");
		if (r == 0)
			r = strv_push(a, "importtime");
		if (r == 0)
			r = push_tool_args(a, run, "importtime", NULL);
		if (r == 0)
			r = strv_extend(a, py.v + 1, py.n - 1);
		strv_free(&py);
		if (r < 0)
			return r;
	}
	if (run->subprocesses)
		return strv_push(&run->env, "PYTHONPROFILEIMPORTTIME=1");
	return 0;
}

static void importtime_post(const struct tool_run *run, struct post *p)
{
	struct import_log l = { 0 };
	char *log = NULL, *json = NULL, *sum = NULL, detail[96];
	size_t len = 0;
	int r;

	r = read_file(run_path(run->run_dir, "importtime.log"), LOG_MAX, &log, &len);
	if (r < 0) {
		post_record(p, "importtime.json", r, NULL);
		sum = strdup("python -X importtime: no importtime.log was written\n");
		goto summary;
	}
	r = import_log_parse(log, len, &l);
	if (r < 0) {
		post_record(p, "importtime.json", r, NULL);
		goto summary;
	}
	json = import_log_json(&l);
	r = json ? write_file_atomic(run_path(run->run_dir, "importtime.json"), json,
				     strlen(json)) : -ENOMEM;
	snprintf(detail, sizeof(detail), "%zu imports, %zu other lines", l.n, l.skipped);
	post_record(p, "importtime.json", r, detail);
	sum = import_log_summary(&l, 60);
summary:
	r = sum ? write_file_atomic(run_path(run->run_dir, "summary.txt"), sum, strlen(sum))
		: -ENOMEM;
	post_record(p, "summary.txt", r, NULL);
	import_log_free(&l);
	free(log);
	free(json);
	free(sum);
}

const struct plugin plugin_importtime = {
	.name = "importtime",
	.kinds = kinds,
	.folder = "plugins/importtime",
	.command = importtime_command,
	.post = importtime_post,
};
