/* sctprof run: options into struct run_opts, then lib/runner.c does the run. */
#include "cmd.h"
#include "duration.h"
#include "error.h"
#include "exitcode.h"
#include "inject.h"
#include "log.h"
#include "progress.h"
#include "runner.h"
#include "strv.h"
#include "upload-bundle.h"

#include <errno.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: sctprof run [OPTIONS] -- COMMAND [ARG...]\n"
	"\n"
	"Run COMMAND (a Python program: python3 script.py, python3 -m pytest, ./sct.py,\n"
	"a console script such as pytest) under a profiler; keep its exit status; collect\n"
	"every output and manifest.json into OUTDIR/RUN_ID/ and the bundle OUTDIR/RUN_ID.tar.zst.\n"
	"\n"
	"Options:\n"
	"  -p, --profile KIND     cprofile (default), sampling, memory, timeline, scalene, imports\n"
	"      --tool NAME        use this tool (of the kind) instead of the matrix's pick\n"
	"      --force            run a tool the compatibility matrix says does not work\n"
	"      --matrix FILE      compatibility matrix (default $SCTPROF_MATRIX, else shipped)\n"
	"  -o, --output-dir DIR   where runs go (default $SCTPROF_OUTPUT_DIR or ./sct-profiles)\n"
	"      --format FMT       bundle format: tar.zst (default), tar.gz, zip\n"
	"      --no-archive       keep the run folder only, no bundle\n"
	"      --python PATH      interpreter to run the program with\n"
	"      --threads WHICH    all (default) or main: which threads cProfile observes\n"
	"      --subprocesses     follow child processes, where the tool can\n"
	"      --tool-arg ARG     pass ARG to the tool (repeatable)\n"
	"      --timeout D        stop the test after D (45s, 90m, 2h30m); exit 124\n"
	"      --grace D          after SIGINT, wait D before SIGTERM (default 30s)\n"
	"      --kill-after D     after SIGTERM, wait D before SIGKILL (default 5s)\n"
	"      --post-timeout D   bound each post-processing step (default 10m)\n"
	"      --progress WHEN    auto (default: a live line on a terminal), always, never\n"
	"                         (plain lines: one per phase, one a minute)\n"
	"      --upload URL       send the bundle to URL afterwards (s3://BUCKET/PREFIX/ or an\n"
	"                         http(s) PUT URL; see 'sctprof upload --help')\n"
	"      --upload-endpoint URL  S3-compatible store for --upload (default $AWS_ENDPOINT_URL)\n"
	"      --upload-cacert FILE   CA certificates for --upload\n"
	"      --inject           COMMAND need not be Python (bash -c \"...\"): profile every\n"
	"                         Python process under it whose program matches, each into\n"
	"                         its own file (profile.PID.stats); kinds cprofile, memory,\n"
	"                         timeline, sampling\n"
	"      --inject-match PAT programs to profile with --inject, comma-separated globs\n"
	"                         on the script's name or the -m module (repeatable; default\n"
	"                         " INJECT_MATCH_DEFAULT ")\n"
	"      --best-effort      when profiling cannot be set up, say so on one line and\n"
	"                         run COMMAND unprofiled\n"
	"  -h, --help             this text\n"
	"\n"
	"The tool is the first of the kind's list (see 'sctprof check') that is installed for\n"
	"the interpreter and not refused on its Python version; an untested one runs after a\n"
	"warning, a refused one exits 69 unless --force.\n"
	"\n"
	"A stop (SIGINT, SIGTERM, SIGHUP, SIGQUIT to sctprof, or --timeout) sends SIGINT to the\n"
	"test's process group so the profiler writes its output, then SIGTERM after the grace,\n"
	"then SIGKILL after --kill-after; the profile and bundle are still written, and sctprof\n"
	"exits 128+N for signal N (124 for --timeout). A second stop signal skips the grace; a\n"
	"third also skips post-processing and bundling, keeping the raw files\n"
	"(docs/supervision.md).\n"
	"\n"
	"With --upload, a failed upload is reported and, when the test itself passed, gives\n"
	"sctprof's exit status (75 unreachable, 76 refused); a failing test's status wins.\n"
	"\n"
	"Within a run (SCTPROF_ACTIVE is set) a nested 'run --inject' runs COMMAND as it is,\n"
	"and a nested 'run' keeps the outer run's --inject hook out of what it profiles.\n";

#ifndef SCTPROF_FRONT /* the engine only: see cmd/cmd.h */

extern const struct cmd cmd_run;

enum {
	OPT_FORMAT = 256, OPT_NO_ARCHIVE, OPT_PYTHON, OPT_THREADS, OPT_TOOL, OPT_TOOL_ARG,
	OPT_TIMEOUT, OPT_GRACE, OPT_POST_TIMEOUT, OPT_SUBPROCESSES, OPT_FORCE, OPT_MATRIX,
	OPT_UPLOAD, OPT_UPLOAD_ENDPOINT, OPT_UPLOAD_CACERT,
	OPT_INJECT, OPT_INJECT_MATCH, OPT_BEST_EFFORT, OPT_KILL_AFTER, OPT_PROGRESS,
};

static const struct option options[] = {
	{ "profile", required_argument, NULL, 'p' },
	{ "output-dir", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "no-archive", no_argument, NULL, OPT_NO_ARCHIVE },
	{ "python", required_argument, NULL, OPT_PYTHON },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "tool", required_argument, NULL, OPT_TOOL },
	{ "tool-arg", required_argument, NULL, OPT_TOOL_ARG },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "matrix", required_argument, NULL, OPT_MATRIX },
	{ "subprocesses", no_argument, NULL, OPT_SUBPROCESSES },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "post-timeout", required_argument, NULL, OPT_POST_TIMEOUT },
	{ "kill-after", required_argument, NULL, OPT_KILL_AFTER },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "upload", required_argument, NULL, OPT_UPLOAD },
	{ "upload-endpoint", required_argument, NULL, OPT_UPLOAD_ENDPOINT },
	{ "upload-cacert", required_argument, NULL, OPT_UPLOAD_CACERT },
	{ "inject", no_argument, NULL, OPT_INJECT },
	{ "inject-match", required_argument, NULL, OPT_INJECT_MATCH },
	{ "best-effort", no_argument, NULL, OPT_BEST_EFFORT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Runs the command itself, in place of sctprof: --best-effort after a failed set-up, and
 * a nested --inject run. Returns only when exec failed, with the shell's status. */
static int exec_command(char *const *command)
{
	execvp(command[0], command);
	log_error("cannot run '%s': %s", command[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int run_main(int argc, char **argv)
{
	const struct cmd *self = &cmd_run;
	struct run_opts o = {
		.format = BUNDLE_TAR_ZST,
		.all_threads = true,
		.grace = 30,
		.kill_after = 5,
		.post_timeout = 600,
		.foreground = true,
	};
	struct run_result res = { 0 };
	struct strv tool_args = STRV_INIT, matches = STRV_INIT;
	bool best_effort = false;
	const char *env_out = getenv("SCTPROF_OUTPUT_DIR");
	struct upload_opts uo = { 0 };
	const char *upload_url = NULL;
	enum progress_mode progress = PROGRESS_AUTO;
	int c, r, code = 0;

	o.output_dir = env_out && *env_out ? env_out : "sct-profiles";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:p:o:h", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.kind = optarg;
			break;
		case 'o':
			o.output_dir = optarg;
			break;
		case OPT_FORMAT:
			if (bundle_format_parse(optarg, &o.format) < 0) {
				code = cmd_usage_error(self, "unknown --format '%s' (tar.zst, tar.gz, zip)", optarg);
				goto out;
			}
			break;
		case OPT_NO_ARCHIVE:
			o.no_archive = true;
			break;
		case OPT_PYTHON:
			o.python = optarg;
			break;
		case OPT_THREADS:
			if (strcmp(optarg, "all") && strcmp(optarg, "main")) {
				code = cmd_usage_error(self, "--threads takes 'all' or 'main', not '%s'", optarg);
				goto out;
			}
			o.all_threads = !strcmp(optarg, "all");
			break;
		case OPT_TOOL:
			o.tool = optarg;
			break;
		case OPT_TOOL_ARG:
			if (strv_push(&tool_args, optarg) < 0) {
				code = EXIT_SOFTWARE;
				goto out;
			}
			break;
		case OPT_SUBPROCESSES:
			o.subprocesses = true;
			break;
		case OPT_INJECT:
			o.inject = true;
			break;
		case OPT_INJECT_MATCH:
			if (strv_push(&matches, optarg) < 0) {
				code = EXIT_SOFTWARE;
				goto out;
			}
			break;
		case OPT_BEST_EFFORT:
			best_effort = true;
			break;
		case OPT_FORCE:
			o.force = true;
			break;
		case OPT_MATRIX:
			o.matrix = optarg;
			break;
		case OPT_TIMEOUT:
		case OPT_GRACE:
		case OPT_KILL_AFTER:
		case OPT_POST_TIMEOUT: {
			double d;
			if (duration_parse(optarg, &d) < 0) {
				code = cmd_usage_error(self, "%s", err_msg_for(-EINVAL));
				goto out;
			}
			if (c == OPT_TIMEOUT)
				o.timeout = d;
			else if (c == OPT_GRACE)
				o.grace = d;
			else if (c == OPT_KILL_AFTER)
				o.kill_after = d;
			else
				o.post_timeout = d;
			break;
		}
		case OPT_PROGRESS:
			if (progress_mode_parse(optarg, &progress) < 0) {
				code = cmd_usage_error(self, "%s", err_msg_for(-EINVAL));
				goto out;
			}
			break;
		case OPT_UPLOAD:
			upload_url = optarg;
			break;
		case OPT_UPLOAD_ENDPOINT:
			uo.endpoint = optarg;
			break;
		case OPT_UPLOAD_CACERT:
			uo.tls.cacert = optarg;
			break;
		case 'h':
			code = cmd_help(self);
			goto out;
		case ':':
			code = cmd_usage_error(self, "option '%s' needs a value", argv[optind - 1]);
			goto out;
		default:
			code = cmd_usage_error(self, "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	/* The kind is checked against the matrix's kinds by the runner. */
	if (upload_url && o.no_archive) {
		code = cmd_usage_error(self, "--upload needs a bundle: drop --no-archive");
		goto out;
	}
	if (optind > argc || strcmp(argv[optind - 1], "--") != 0) {
		code = cmd_usage_error(self, optind < argc ? "put '--' before the command ('%s')"
				       : "no command given%s", optind < argc ? argv[optind] : "");
		goto out;
	}
	if (optind >= argc) {
		code = cmd_usage_error(self, "no command after '--'");
		goto out;
	}
	o.command = argv + optind;
	o.n_command = argc - optind;
	o.tool_args = strv_argv(&tool_args);
	o.n_tool_args = tool_args.n;
	if (matches.n > 0 && !o.inject) {
		code = cmd_usage_error(self, "--inject-match needs --inject");
		goto out;
	}
	if (o.inject && (o.python || o.tool)) {
		code = cmd_usage_error(self, "%s cannot be used with --inject: each process is "
				       "profiled in its own interpreter", o.python ? "--python" : "--tool");
		goto out;
	}
	if (o.inject && getenv("SCTPROF_ACTIVE") && *getenv("SCTPROF_ACTIVE")) {
		/* One bundle per run: the outer run's hook already covers this command. */
		log_warn("already inside the profiled run '%s': running the command as it is",
			 getenv("SCTPROF_ACTIVE"));
		code = exec_command(o.command);
		goto out;
	}
	if (matches.n > 0) {
		/* Repeated --inject-match values join into one comma-separated list. */
		char *joined = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&joined, &len);
		for (size_t i = 0; f && i < matches.n; i++)
			fprintf(f, "%s%s", i ? "," : "", matches.v[i]);
		if (!f || fclose(f) != 0 || strv_consume(&matches, joined) < 0) {
			code = EXIT_SOFTWARE;
			goto out;
		}
		o.inject_match = matches.v[matches.n - 1];
	}

	progress_setup(STDERR_FILENO, log_get_level() == LOG_QUIET ? PROGRESS_OFF : progress);
	r = runner_run(&o, &res, &code);
	if (r < 0 && best_effort && !res.started) {
		log_warn("%s; running the command unprofiled", err_msg_for(r));
		code = exec_command(o.command);
		goto out;
	}
	/* One line either way: what failed and where the raw files are. */
	if (r < 0 && res.run_dir)
		log_error("%s; raw profile kept in %s/", err_msg_for(r), res.run_dir);
	else if (r < 0)
		log_error("%s", err_msg_for(r));
	else if (res.bundle)
		log_info("profile: %s", res.bundle);
	else if (res.run_dir)
		log_info("profile: %s/", res.run_dir);
	if (upload_url && res.bundle) {
		int u = cmd_upload_bundle(res.bundle, upload_url, &uo, false);
		if (u && code == 0)
			code = u;
	} else if (upload_url) {
		log_warn("no bundle to upload");
	}
out:
	run_result_free(&res);
	strv_free(&tool_args);
	strv_free(&matches);
	return code;
}

#endif /* SCTPROF_FRONT */

const struct cmd cmd_run = {
	.name = "run",
	.summary = "run a Python test under a profiler and bundle what it produced",
	.usage = usage,
	.run = CMD_ENGINE(run_main),
};
