/* cProfile backend: runs the target through our launcher (launcher.py beside this file),
 * never `python -m cProfile`, which swallows the program's exit status. The launcher
 * writes profile.stats (pstats marshal) and summary.txt, and exits with the program's
 * own status, so no exit_status mapping is needed. */
#include "plugin.h"

#include <errno.h>
#include <stdlib.h>

#include "error.h"
#include "post.h"

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
	    (r = strv_pushf(a, "--summary=%s/summary.txt", run->run_dir)) < 0 ||
	    (r = strv_pushf(a, "--threads=%s", run->all_threads ? "all" : "main")) < 0 ||
	    (r = strv_push(a, "--")) < 0)
		return r;
	if (run->n_tool_args > 0)
		return err_set(EINVAL, "the cprofile backend takes no --tool-arg");
	if (t->mode == TARGET_MODULE && (r = strv_push(a, "-m")) < 0)
		return r;
	if (t->mode == TARGET_CODE && (r = strv_push(a, "-c")) < 0)
		return r;
	if ((r = strv_push(a, t->target)) < 0)
		return r;
	return strv_extend(a, t->args.v, t->args.n);
}

const struct plugin plugin_cprofile = {
	.name = "cprofile",
	.kinds = kinds,
	.folder = "plugins/cprofile",
	.command = cprofile_command,
};
