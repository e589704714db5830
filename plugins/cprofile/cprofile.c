/* cProfile backend: runs the target through our launcher (launcher.py beside this file),
 * never `python -m cProfile`, which swallows the program's exit status. The launcher
 * writes profile.stats (pstats marshal) and exits with the program's own status, so no
 * exit_status mapping is needed. The views -- summary.txt and profile.svg -- are made
 * afterwards by sctprof's own pstats reader (lib/pstats.h), so they do not depend on
 * the profiled interpreter being able to run pstats. */
#include "plugin.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "error.h"
#include "post.h"
#include "pstats.h"

static const char *const kinds[] = { "cprofile", NULL };

static int cprofile_command(struct tool_run *run)
{
	const struct target *t = run->target;
	struct strv *a = &run->argv;
	int r;

	if ((r = strv_push(a, run->python)) < 0 ||
	    (r = strv_extend(a, t->interp_opts.v, t->interp_opts.n)) < 0 ||
	    (r = strv_pushf(a, "%s/launcher.py", run->data_dir)) < 0 ||
	    (r = strv_pushf(a, "--output=%s/profile.stats", run->run_dir)) < 0 ||
	    (r = strv_pushf(a, "--threads=%s", run->all_threads ? "all" : "main")) < 0 ||
	    (r = strv_push(a, "--")) < 0)
		return r;
	if (run->n_tool_args > 0)
		return err_set(EINVAL, "the cprofile backend takes no --tool-arg");
	return target_program_argv(t, a);
}

/* summary.txt (top 30 by cumulative time) and profile.svg, each recorded as a step. */
static void cprofile_post(const struct tool_run *run, struct post *p)
{
	char stats[PATH_MAX], out[PATH_MAX];
	int r;

	snprintf(stats, sizeof(stats), "%s/profile.stats", post_run_dir(p));
	if (access(stats, F_OK) < 0) {
		post_record(p, "summary.txt", -ENOENT, "no profile.stats was written");
		return;
	}
	snprintf(out, sizeof(out), "%s/summary.txt", post_run_dir(p));
	r = pstats_write_summary(stats, out, 30);
	post_record(p, "summary.txt", r, NULL);
	snprintf(out, sizeof(out), "%s/profile.svg", post_run_dir(p));
	r = pstats_write_svg(stats, out);
	post_record(p, "profile.svg", r, NULL);
}

/* For --inject: summary.PID.txt and profile.PID.svg from profile.PID.stats. */
static void cprofile_inject_views(struct post *p, const char *python, long pid, struct strv *made)
{
	char in[PATH_MAX], out[PATH_MAX], name[64];
	int r;

	(void)python;
	snprintf(in, sizeof(in), "%s/profile.%ld.stats", post_run_dir(p), pid);
	snprintf(name, sizeof(name), "summary.%ld.txt", pid);
	snprintf(out, sizeof(out), "%s/%s", post_run_dir(p), name);
	r = pstats_write_summary(in, out, 30);
	post_record(p, name, r, NULL);
	if (r == 0)
		(void)strv_push(made, name);
	snprintf(name, sizeof(name), "profile.%ld.svg", pid);
	snprintf(out, sizeof(out), "%s/%s", post_run_dir(p), name);
	r = pstats_write_svg(in, out);
	post_record(p, name, r, NULL);
	if (r == 0)
		(void)strv_push(made, name);
}

const struct plugin plugin_cprofile = {
	.name = "cprofile",
	.kinds = kinds,
	.folder = "plugins/cprofile",
	.command = cprofile_command,
	.post = cprofile_post,
	.inject_views = cprofile_inject_views,
};
