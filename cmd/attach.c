/* sctprof attach: profile a test that is already running, into the same kind of run
 * folder, manifest and bundle as `sctprof run` (lib/runner.c with run_opts.attach_pid). */
#include "cmd.h"
#include "duration.h"
#include "error.h"
#include "exitcode.h"
#include "log.h"
#include "runner.h"
#include "strv.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: sctprof attach --pid PID [-p sampling|memory] [--duration D] [OPTIONS]\n"
	"\n"
	"Profile the running Python process PID (a test started without sctprof) until it\n"
	"exits, D has passed, or sctprof is stopped (Ctrl-C, SIGTERM); then collect the\n"
	"profile, summary.txt and manifest.json into OUTDIR/RUN_ID/ and the bundle, as\n"
	"`sctprof run` does. The process keeps running afterwards.\n"
	"\n"
	"Options:\n"
	"      --pid PID          the process to profile (required)\n"
	"  -p, --profile KIND     sampling (default: py-spy, else profiling.sampling on 3.15+)\n"
	"                         or memory (memray attach)\n"
	"      --duration D       stop after D (45s, 10m, 1h30m); default: until it exits\n"
	"      --tool NAME        use this tool (of the kind) instead of the matrix's pick\n"
	"      --force            run a tool the compatibility matrix says does not work\n"
	"      --matrix FILE      compatibility matrix (default $SCTPROF_MATRIX, else shipped)\n"
	"  -o, --output-dir DIR   where runs go (default $SCTPROF_OUTPUT_DIR or ./sct-profiles)\n"
	"      --format FMT       bundle format: tar.zst (default), tar.gz, zip\n"
	"      --no-archive       keep the run folder only, no bundle\n"
	"      --python PATH      the process's interpreter, when /proc cannot tell (a venv)\n"
	"      --threads WHICH    all (default) or main, where the tool can choose\n"
	"      --subprocesses     follow the process's children, where the tool can\n"
	"      --tool-arg ARG     pass ARG to the tool (repeatable)\n"
	"      --grace D          after SIGINT, wait D before SIGTERM (default 30s)\n"
	"      --post-timeout D   bound each post-processing step (default 10m)\n"
	"  -h, --help             this text\n"
	"\n"
	"Exit status: the profiler's own (0 when the profile was written, including when\n"
	"stopped with Ctrl-C), or sctprof's 64..79. Attaching needs ptrace rights over the\n"
	"process (same user and kernel.yama.ptrace_scope 0, or CAP_SYS_PTRACE).\n";

#ifndef SCTPROF_FRONT /* the engine only: see cmd/cmd.h */

extern const struct cmd cmd_attach;

enum {
	OPT_FORMAT = 256, OPT_NO_ARCHIVE, OPT_PYTHON, OPT_THREADS, OPT_TOOL, OPT_TOOL_ARG,
	OPT_GRACE, OPT_POST_TIMEOUT, OPT_SUBPROCESSES, OPT_PID, OPT_DURATION, OPT_FORCE,
	OPT_MATRIX,
};

static const struct option options[] = {
	{ "pid", required_argument, NULL, OPT_PID },
	{ "profile", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, OPT_DURATION },
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
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "post-timeout", required_argument, NULL, OPT_POST_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int attach_main(int argc, char **argv)
{
	const struct cmd *self = &cmd_attach;
	struct run_opts o = {
		.kind = "sampling",
		.format = BUNDLE_TAR_ZST,
		.all_threads = true,
		.grace = 30,
		.kill_after = 5,
		.post_timeout = 600,
		.foreground = true,
	};
	struct run_result res = { 0 };
	struct strv tool_args = STRV_INIT;
	const char *env_out = getenv("SCTPROF_OUTPUT_DIR");
	int c, r, code = EXIT_USAGE;

	o.output_dir = env_out && *env_out ? env_out : "sct-profiles";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:o:h", options, NULL)) != -1) {
		switch (c) {
		case OPT_PID: {
			char *end;
			long pid = strtol(optarg, &end, 10);

			if (*end || pid <= 0 || pid > 4194304) {
				code = cmd_usage_error(self, "--pid takes a process id, not '%s'",
						       optarg);
				goto out;
			}
			o.attach_pid = (int)pid;
			break;
		}
		case 'p':
			o.kind = optarg;
			break;
		case 'o':
			o.output_dir = optarg;
			break;
		case OPT_FORMAT:
			if (bundle_format_parse(optarg, &o.format) < 0) {
				code = cmd_usage_error(self, "unknown --format '%s' (tar.zst, tar.gz, "
						       "zip)", optarg);
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
				code = cmd_usage_error(self, "--threads takes 'all' or 'main', not '%s'",
						       optarg);
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
		case OPT_FORCE:
			o.force = true;
			break;
		case OPT_MATRIX:
			o.matrix = optarg;
			break;
		case OPT_DURATION:
		case OPT_GRACE:
		case OPT_POST_TIMEOUT: {
			double d;

			if (duration_parse(optarg, &d) < 0) {
				code = cmd_usage_error(self, "%s", err_msg_for(-EINVAL));
				goto out;
			}
			if (c == OPT_DURATION)
				o.duration = d;
			else if (c == OPT_GRACE)
				o.grace = d;
			else
				o.post_timeout = d;
			break;
		}
		case 'h':
			code = cmd_help(self);
			goto out;
		default:
			code = cmd_usage_error(self, "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		code = cmd_usage_error(self, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (o.attach_pid <= 0) {
		code = cmd_usage_error(self, "--pid is required");
		goto out;
	}
	if (strcmp(o.kind, "sampling") && strcmp(o.kind, "memory")) {
		code = cmd_usage_error(self, "attach makes 'sampling' or 'memory' profiles, not "
				       "'%s'", o.kind);
		goto out;
	}
	o.tool_args = strv_argv(&tool_args);
	o.n_tool_args = tool_args.n;

	r = runner_run(&o, &res, &code);
	if (r < 0)
		log_error("%s", err_msg_for(r));
	if (res.bundle)
		log_info("profile: %s", res.bundle);
	else if (res.run_dir && r == 0)
		log_info("profile: %s/", res.run_dir);
	else if (res.run_dir)
		log_info("raw profile kept in %s/", res.run_dir);
	run_result_free(&res);
out:
	strv_free(&tool_args);
	return code;
}

#endif /* SCTPROF_FRONT */

const struct cmd cmd_attach = {
	.name = "attach",
	.summary = "profile a Python test that is already running",
	.usage = usage,
	.run = CMD_ENGINE(attach_main),
};
