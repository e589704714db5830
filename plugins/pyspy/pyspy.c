/* py-spy backend (kind: sampling): `py-spy record --format speedscope`, one run, then the
 * SVG flame graph and summary.txt made here from the speedscope JSON.
 *
 * py-spy writes one format per run; speedscope keeps every sample (per thread, with
 * weights) and is the one a flame graph can be drawn from afterwards, so it is the raw
 * file and profile.svg is derived from it in C (plugins/common/calltree.c), not by a second run.
 *
 * py-spy exits 0 whatever became of the program it started, so the program runs through
 * sctprof's exit-status launcher (plugins/common/launch.py) and exit_status() reads what
 * the launcher recorded. py-spy's --duration is never used when wrapping a command: when
 * it elapses py-spy SIGKILLs the program. With --pid (sctprof attach) nothing is
 * launched and nothing killed, so --duration is passed there. */
#include "plugin.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "error.h"
#include "calltree.h"
#include "post.h"
#include "speedscope.h"

static const char *const kinds[] = { "sampling", NULL };

/* Options that would move or reshape the raw file, or kill the program. */
static const char *const forbidden[] = {
	"-o", "--output", "-f", "--format", "-d", "--duration", "-p", "--pid", NULL,
};

static const char *pyspy_path(const struct tool_run *run, char **owned)
{
	*owned = NULL;
	if (run->tool_path)
		return run->tool_path;
	*owned = path_lookup("py-spy");
	return *owned;
}

/* "py-spy 0.4.2" -> "0.4.2", kept for the manifest. */
static void detect_version(struct tool_run *run, const char *exe)
{
	static char version[64];
	char *argv[] = { (char *)exe, (char *)"--version", NULL }, *out = NULL;

	if (run->tool_version || probe_output(argv, 10000, &out, NULL) < 0)
		return;
	if (sscanf(out, "py-spy %63s", version) == 1)
		run->tool_version = version;
	free(out);
}

static int record_head(struct tool_run *run, const char *exe)
{
	struct strv *a = &run->argv;
	int r;

	if ((r = strv_push(a, exe)) < 0 ||
	    (r = strv_push(a, "record")) < 0 ||
	    (r = strv_push(a, "--output")) < 0 ||
	    (r = strv_push(a, run_path(run->run_dir, "profile.speedscope.json"))) < 0 ||
	    (r = strv_push(a, "--format")) < 0 ||
	    (r = strv_push(a, "speedscope")) < 0)
		return r;
	if (run->subprocesses && (r = strv_push(a, "--subprocesses")) < 0)
		return r;
	return push_tool_args(a, run, "py-spy", forbidden);
}

static int pyspy_command(struct tool_run *run)
{
	const struct target *t = run->target;
	struct strv *a = &run->argv;
	char *owned;
	const char *exe = pyspy_path(run, &owned);
	int r;

	if (!exe)
		return err_set(ENOENT, "py-spy is not installed (not found on PATH)");
	detect_version(run, exe);
	/* py-spy samples every thread of the process; --threads=main cannot narrow it. */
	if ((r = record_head(run, exe)) < 0 ||
	    (r = strv_push(a, "--")) < 0 ||
	    (r = strv_push(a, run->python)) < 0 ||
	    (r = strv_extend(a, t->interp_opts.v, t->interp_opts.n)) < 0 ||
	    (r = launch_push(a, run)) < 0)
		goto out;
out:
	free(owned);
	return r;
}

static int pyspy_attach(struct tool_run *run)
{
	struct strv *a = &run->argv;
	char *owned;
	const char *exe = pyspy_path(run, &owned);
	int r;

	if (!exe)
		return err_set(ENOENT, "py-spy is not installed (not found on PATH)");
	detect_version(run, exe);
	if ((r = record_head(run, exe)) < 0 ||
	    (r = strv_push(a, "--pid")) < 0 ||
	    (r = strv_pushf(a, "%d", run->attach_pid)) < 0)
		goto out;
	/* Whole seconds: py-spy's --duration is an integer; round up so that a short
	 * duration still samples. */
	if (run->duration > 0)
		r = strv_pushf(a, "--duration=%.0f", ceil(run->duration));
out:
	free(owned);
	return r;
}

static int pyspy_exit_status(const struct tool_run *run, int wait_status, int *ret_status)
{
	return launch_exit_status(run, wait_status, true, ret_status);
}

static void write_summary(const struct tool_run *run, struct post *p, const char *text)
{
	int r = write_file_atomic(run_path(run->run_dir, "summary.txt"), text, strlen(text));

	post_record(p, "summary.txt", r, NULL);
}

static void pyspy_post(const struct tool_run *run, struct post *p)
{
	char raw[PATH_MAX], detail[128];
	struct speedscope_info info = { 0 };
	struct sbuf svg = { 0 }, sum = { 0 };
	struct flame f;
	const char *unit;
	int r;

	flame_init(&f);
	snprintf(raw, sizeof(raw), "%s", run_path(run->run_dir, "profile.speedscope.json"));
	r = speedscope_load(raw, &f, &info);
	if (r < 0) {
		post_record(p, "profile.svg", r, NULL);
		sbuf_printf(&sum, "py-spy profile: none\n\n%s\n\npy-spy writes its output once, when "
			    "sampling stops: when the program exits or py-spy gets SIGINT. Killed "
			    "(SIGTERM, SIGKILL) it writes nothing.\n", err_msg_for(r));
		goto out;
	}
	unit = strcmp(info.unit, "seconds") == 0 ? "s" : "samples";
	r = flame_svg(&f, "py-spy: sampled stacks of every thread", unit, &svg);
	if (r == 0)
		r = write_file_atomic(run_path(run->run_dir, "profile.svg"), svg.s, svg.len);
	snprintf(detail, sizeof(detail), "%zu samples in %zu profiles", f.n_samples, info.profiles);
	post_record(p, "profile.svg", r, detail);

	sbuf_printf(&sum, "py-spy profile (%s): %zu samples, %.6g %s sampled, %zu thread "
		    "profiles%s\nraw: profile.speedscope.json (open at https://www.speedscope.app), "
		    "flame graph: profile.svg\n\n", info.exporter[0] ? info.exporter : "speedscope",
		    f.n_samples, f.root.total, unit, info.profiles,
		    f.truncated ? ", some stacks cut at the deepest frames" : "");
	r = flame_top(&f, 30, unit, &sum);
	if (r < 0) {
		post_record(p, "summary.txt", r, NULL);
		goto done;
	}
out:
	write_summary(run, p, sum.s ? sum.s : "");
done:
	sbuf_free(&svg);
	sbuf_free(&sum);
	flame_free(&f);
}

const struct plugin plugin_pyspy = {
	.name = "py-spy",
	.kinds = kinds,
	.folder = "plugins/pyspy",
	.command = pyspy_command,
	.attach = pyspy_attach,
	.exit_status = pyspy_exit_status,
	.post = pyspy_post,
};
