/* memray backend (kind: memory): `python -m memray run -o memray.bin`, then memray's own
 * reporters: `memray stats --json` (memray-stats.json), `memray flamegraph`
 * (memray-flamegraph.html) and `memray summary` (summary.txt). With --subprocesses,
 * --follow-fork makes each forked child write memray.bin.<pid>; those files stay in the
 * run folder (and the bundle) and are named in summary.txt.
 *
 * memray runs the program in its own process and passes SystemExit through, so the exit
 * status survives; the program still runs through sctprof's exit-status launcher so that
 * a run stopped by SIGTERM reports 143 like the other backends (memray installs no
 * handler, and the interpreter's exit status then depends on who caught what).
 *
 * attach: memray's own `memray attach` starts tracking inside the running process and
 * returns at once; the capture is finished by that process when tracking stops
 * (`memray detach`, its exit, or --duration). attach.py beside this file turns that into
 * a command sctprof can supervise: attach, wait for the process to exit, the duration to
 * pass, or SIGINT, then detach. */
#include "plugin.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "error.h"
#include "post.h"

static const char *const kinds[] = { "memory", NULL };

static const char *const forbidden[] = {
	"-o", "--output", "--live", "--live-remote", "--live-port", "-p", "-c", "-m", NULL,
};

static char version_buf[64];

static void detect_version(struct tool_run *run)
{
	char *v = NULL;

	if (run->tool_version || python_dist_version(run->python, "memray", &v) < 0)
		return;
	snprintf(version_buf, sizeof(version_buf), "%s", v);
	free(v);
	run->tool_version = version_buf;
}

static int memray_command(struct tool_run *run)
{
	const struct target *t = run->target;
	struct strv *a = &run->argv;
	int r;

	detect_version(run);
	if (!run->tool_version)
		return err_set(ENOENT, "memray is not installed for '%s'", run->python);
	if ((r = strv_push(a, run->python)) < 0 ||
	    (r = strv_extend(a, t->interp_opts.v, t->interp_opts.n)) < 0 ||
	    (r = strv_push(a, "-m")) < 0 ||
	    (r = strv_push(a, "memray")) < 0 ||
	    (r = strv_push(a, "run")) < 0 ||
	    (r = strv_push(a, "--output")) < 0 ||
	    (r = strv_push(a, run_path(run->run_dir, "memray.bin"))) < 0)
		return r;
	if (run->subprocesses && (r = strv_push(a, "--follow-fork")) < 0)
		return r;
	if ((r = push_tool_args(a, run, "memray", forbidden)) < 0)
		return r;
	return launch_push(a, run);
}

static int memray_attach(struct tool_run *run)
{
	struct strv *a = &run->argv;
	int r;

	detect_version(run);
	if (!run->tool_version)
		return err_set(ENOENT, "memray is not installed for '%s'", run->python);
	if ((r = strv_push(a, run->python)) < 0 ||
	    (r = strv_pushf(a, "%s/attach.py", run->data_dir)) < 0 ||
	    (r = strv_pushf(a, "--pid=%d", run->attach_pid)) < 0 ||
	    (r = strv_pushf(a, "--duration=%g", run->duration)) < 0 ||
	    (r = strv_pushf(a, "--output=%s", run_path(run->run_dir, "memray.bin"))) < 0 ||
	    (r = strv_push(a, "--")) < 0)
		return r;
	if (run->subprocesses && (r = strv_push(a, "--follow-fork")) < 0)
		return r;
	return push_tool_args(a, run, "memray", forbidden);
}

static int memray_exit_status(const struct tool_run *run, int wait_status, int *ret_status)
{
	return launch_exit_status(run, wait_status, false, ret_status);
}

/* memray.bin.<pid> files of forked children, as a text list (empty when none). */
static void list_children(const char *dir, struct sbuf *out)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		const char *s = e->d_name;

		if (strncmp(s, "memray.bin.", 11) != 0 || !s[11] || strspn(s + 11, "0123456789") !=
		    strlen(s + 11))
			continue;
		sbuf_printf(out, "  %s  (python3 -m memray flamegraph %s)\n", s, s);
	}
	closedir(d);
}

static void memray_post(const struct tool_run *run, struct post *p)
{
	char bin[PATH_MAX];
	struct sbuf extra = { 0 };
	int r;

	snprintf(bin, sizeof(bin), "%s", run_path(run->run_dir, "memray.bin"));
	if (access(bin, R_OK) < 0) {
		const char *text = "memray profile: none (no memray.bin was written)\n";

		post_record(p, "memray-stats.json", -ENOENT, "no memray.bin");
		r = write_file_atomic(run_path(run->run_dir, "summary.txt"), text, strlen(text));
		post_record(p, "summary.txt", r, NULL);
		return;
	}
	{
		char *argv[] = { (char *)run->python, (char *)"-m", (char *)"memray",
				 (char *)"stats", (char *)"--json", (char *)"--output",
				 (char *)"memray-stats.json", (char *)"--force", bin, NULL };
		post_exec(p, "memray stats --json", argv, NULL);
	}
	{
		char *argv[] = { (char *)run->python, (char *)"-m", (char *)"memray",
				 (char *)"flamegraph", (char *)"--output",
				 (char *)"memray-flamegraph.html", (char *)"--force", bin, NULL };
		post_exec(p, "memray flamegraph", argv, NULL);
	}
	{
		char *argv[] = { (char *)run->python, (char *)"-m", (char *)"memray",
				 (char *)"summary", bin, NULL };
		r = post_exec(p, "memray summary", argv, "summary.txt");
	}
	list_children(run->run_dir, &extra);
	if (r < 0 || extra.len) {
		/* summary.txt exists in every run folder: say what there is. */
		char *old = NULL;
		struct sbuf b = { 0 };

		if (read_file(run_path(run->run_dir, "summary.txt"), 64u << 20, &old, NULL) == 0 &&
		    r == 0)
			sbuf_printf(&b, "%s", old);
		else
			sbuf_printf(&b, "memray profile: memray.bin (memray summary failed; see "
				    "manifest.json post_processing)\n");
		if (extra.len)
			sbuf_printf(&b, "\nCaptures of forked children (--follow-fork):\n%s",
				    extra.s);
		free(old);
		r = b.err ? b.err : write_file_atomic(run_path(run->run_dir, "summary.txt"), b.s,
						      b.len);
		post_record(p, "summary.txt", r, NULL);
		sbuf_free(&b);
	}
	sbuf_free(&extra);
}

/* For --inject: memray-stats.PID.json (what `sctprof report` and `diff` read) and
 * memray-flamegraph.PID.html from memray.PID.bin, by the interpreter that wrote it. */
static void memray_inject_views(struct post *p, const char *python, long pid, struct strv *made)
{
	char bin[64], stats[64], flame[64];

	if (!python || python[0] != '/')
		return;
	snprintf(bin, sizeof(bin), "memray.%ld.bin", pid);
	snprintf(stats, sizeof(stats), "memray-stats.%ld.json", pid);
	snprintf(flame, sizeof(flame), "memray-flamegraph.%ld.html", pid);
	{
		char *argv[] = { (char *)python, (char *)"-m", (char *)"memray", (char *)"stats",
				 (char *)"--json", (char *)"-o", stats, (char *)"-f", bin, NULL };
		if (post_exec(p, stats, argv, NULL) == 0)
			(void)strv_push(made, stats);
	}
	{
		char *argv[] = { (char *)python, (char *)"-m", (char *)"memray",
				 (char *)"flamegraph", (char *)"-o", flame, (char *)"-f", bin, NULL };
		if (post_exec(p, flame, argv, NULL) == 0)
			(void)strv_push(made, flame);
	}
}

const struct plugin plugin_memray = {
	.name = "memray",
	.kinds = kinds,
	.folder = "plugins/memray",
	.command = memray_command,
	.attach = memray_attach,
	.exit_status = memray_exit_status,
	.post = memray_post,
	.inject_views = memray_inject_views,
};
