/* profiling.sampling backend (kind: sampling; CPython 3.15+, "Tachyon", PEP 799):
 * `python3.15 -m profiling.sampling run` for a command, `... attach PID` for a running
 * process. The profiler must be the target's own interpreter (same minor version).
 *
 * The options are read from `run --help` (`attach --help`), because the early 3.15
 * alphas differ from later builds: -i/--interval instead of -r, a --duration that
 * defaults to 10 s (after which `run` terminates the program: so a long --duration is
 * passed there), and no --subprocesses, --binary or replay.
 *
 * Tachyon writes one format per run. Where it has --binary, the run records profile.bin
 * and `replay` makes profile.stats (pstats) and flamegraph.html from it, both from the
 * same samples; child processes (--subprocesses: profile_<pid>.bin) get
 * profile.<pid>.stats. Without --binary the run writes profile.stats directly and the
 * flame graph step is recorded as unavailable.
 *
 * `run` does not return the program's exit status, so the program runs through sctprof's
 * exit-status launcher; summary.txt is the pstats table from sctprof's own pstats
 * reader (lib/pstats.c), as for the cprofile kind. */
#include "plugin.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "error.h"
#include "post.h"
#include "pstats.h"

static const char *const kinds[] = { "sampling", NULL };

static const char *const forbidden[] = {
	"-o", "--output", "--pstats", "--collapsed", "--flamegraph", "--gecko", "--heatmap",
	"--binary", "--live", "-m", "--module", NULL,
};

/* A year: "run to completion" for builds whose --duration defaults to 10 s. */
#define FOREVER_S 31536000L

struct features {
	bool binary, subprocesses, all_threads, bounded_duration;
};

static int detect(const struct tool_run *run, const char *sub, struct features *ret)
{
	char *argv[] = { (char *)run->python, (char *)"-m", (char *)"profiling.sampling",
			 (char *)sub, (char *)"--help", NULL };
	char *out = NULL, *d;
	int st = 0, r;

	r = probe_output(argv, 30000, &out, &st);
	if (r < 0)
		return r;
	if (!strstr(out, "--output") || !strstr(out, "--pstats")) {
		r = err_set(ENOENT, "'%s' has no usable profiling.sampling (Python 3.15+): %.*s",
			    run->python, (int)strcspn(out, "\n"), out);
		goto out;
	}
	ret->binary = strstr(out, "--binary") != NULL;
	ret->subprocesses = strstr(out, "--subprocesses") != NULL;
	ret->all_threads = strstr(out, "--all-threads") != NULL;
	/* Later builds say "(default: run to completion)"; early ones default to 10 s. */
	d = strstr(out, "--duration");
	ret->bounded_duration = d && !strstr(d, "run to completion");
	if (ret->binary) {
		char *top[] = { (char *)run->python, (char *)"-m", (char *)"profiling.sampling",
				(char *)"--help", NULL };
		char *o2 = NULL;

		/* replay is a subcommand of the top-level parser. */
		if (probe_output(top, 30000, &o2, NULL) == 0)
			ret->binary = strstr(o2, "replay") != NULL;
		free(o2);
	}
out:
	free(out);
	return r;
}

static int check_version(const struct tool_run *run)
{
	const char *v = run->python_version;

	if (v && version_cmp(v, "3.15") < 0)
		return err_set(ENOTSUP, "profiling.sampling needs Python 3.15 or newer; '%s' is %s",
			       run->python, v);
	return 0;
}

static int push_common(struct tool_run *run, const char *sub)
{
	struct strv *a = &run->argv;
	struct features feat = { 0 };
	int r;

	if ((r = check_version(run)) < 0 || (r = detect(run, sub, &feat)) < 0)
		return r;
	if ((r = strv_push(a, run->python)) < 0)
		return r;
	if (run->target && (r = strv_extend(a, run->target->interp_opts.v,
					    run->target->interp_opts.n)) < 0)
		return r;
	if ((r = strv_push(a, "-m")) < 0 || (r = strv_push(a, "profiling.sampling")) < 0 ||
	    (r = strv_push(a, sub)) < 0)
		return r;
	if (run->all_threads && feat.all_threads && (r = strv_push(a, "--all-threads")) < 0)
		return r;
	if (run->subprocesses) {
		if (!feat.subprocesses)
			return err_set(ENOTSUP, "this build of profiling.sampling ('%s') has no "
				       "--subprocesses", run->python);
		if ((r = strv_push(a, "--subprocesses")) < 0)
			return r;
	}
	if (feat.binary)
		r = strv_push(a, "--binary");
	else
		r = strv_push(a, "--pstats");
	if (r < 0 || (r = strv_push(a, "--output")) < 0 ||
	    (r = strv_push(a, run_path(run->run_dir, feat.binary ? "profile.bin" :
							"profile.stats"))) < 0)
		return r;
	if (run->duration > 0)
		r = strv_pushf(a, "--duration=%.0f", ceil(run->duration));
	else if (feat.bounded_duration)
		r = strv_pushf(a, "--duration=%ld", FOREVER_S);
	if (r < 0)
		return r;
	return push_tool_args(a, run, "profiling.sampling", forbidden);
}

static int sampling_command(struct tool_run *run)
{
	int r = push_common(run, "run");

	return r < 0 ? r : launch_push(&run->argv, run);
}

static int sampling_attach(struct tool_run *run)
{
	int r = push_common(run, "attach");

	return r < 0 ? r : strv_pushf(&run->argv, "%d", run->attach_pid);
}

static int sampling_exit_status(const struct tool_run *run, int wait_status, int *ret_status)
{
	return launch_exit_status(run, wait_status, true, ret_status);
}

static int replay(const struct tool_run *run, struct post *p, const char *name,
		  const char *fmt, const char *out, const char *in)
{
	char *argv[] = { (char *)run->python, (char *)"-m", (char *)"profiling.sampling",
			 (char *)"replay", (char *)fmt, (char *)"--output", (char *)out,
			 (char *)in, NULL };

	return post_exec(p, name, argv, NULL);
}

/* profile_<pid>.bin -> profile.<pid>.stats, for each child (--subprocesses). */
static void replay_children(const struct tool_run *run, struct post *p)
{
	struct dirent *e;
	DIR *d = opendir(run->run_dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		char pid[32], out[64], name[96];
		size_t n;

		if (sscanf(e->d_name, "profile_%31[0-9].bin", pid) != 1)
			continue;
		n = strlen(e->d_name);
		if (n < 4 || strcmp(e->d_name + n - 4, ".bin"))
			continue;
		snprintf(out, sizeof(out), "profile.%s.stats", pid);
		snprintf(name, sizeof(name), "replay %s", out);
		replay(run, p, name, "--pstats", out, e->d_name);
	}
	closedir(d);
}

static void sampling_post(const struct tool_run *run, struct post *p)
{
	bool have_bin = access(run_path(run->run_dir, "profile.bin"), R_OK) == 0;
	int r;

	if (have_bin) {
		replay(run, p, "replay profile.stats", "--pstats", "profile.stats", "profile.bin");
		replay(run, p, "replay flamegraph.html", "--flamegraph", "flamegraph.html",
		       "profile.bin");
		replay_children(run, p);
	} else {
		/* Either this build has no --binary (it wrote profile.stats itself), or the
		 * profiler wrote nothing. */
		post_record(p, "flamegraph.html", -ENOTSUP,
			    access(run_path(run->run_dir, "profile.stats"), R_OK) == 0 ?
			    "this build of profiling.sampling writes one format per run and has "
			    "no --binary/replay: profile.stats only" : "no profile was written");
	}
	if (access(run_path(run->run_dir, "profile.stats"), R_OK) == 0) {
		char stats[PATH_MAX];

		/* Tachyon's pstats file is cProfile's format: sctprof's own reader makes the
		 * table, as for the cprofile kind (times are samples x interval). */
		snprintf(stats, sizeof(stats), "%s", run_path(run->run_dir, "profile.stats"));
		r = pstats_write_summary(stats, run_path(run->run_dir, "summary.txt"), 40);
		post_record(p, "summary.txt", r, NULL);
		if (r == 0)
			return;
	}
	{
		const char *text = "profiling.sampling profile: none (no readable profile.stats; "
				   "the profiler writes its output when sampling ends or on SIGINT, "
				   "nothing when killed by SIGTERM)\n";

		r = write_file_atomic(run_path(run->run_dir, "summary.txt"), text, strlen(text));
		post_record(p, "summary.txt (fallback)", r, NULL);
	}
}

const struct plugin plugin_sampling = {
	.name = "profiling.sampling",
	.kinds = kinds,
	.folder = "plugins/sampling",
	.command = sampling_command,
	.attach = sampling_attach,
	.exit_status = sampling_exit_status,
	.post = sampling_post,
};
