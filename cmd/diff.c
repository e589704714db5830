/* sctprof diff: did this change make it worse? Two runs' profiles compared function by
 * function (lib/diff.h); exit 1 when a change beyond the threshold is a regression. */
#include "cmd.h"
#include "diff.h"
#include "error.h"
#include "exitcode.h"
#include "input.h"
#include "log.h"
#include "report.h"
#include "sandbox.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: sctprof diff [--metric cumtime|tottime|calls|peak-memory] [--threshold 10%]\n"
	"                    [--min-time 5ms] [--min-bytes 1M] [--top N]\n"
	"                    [--format text|markdown|json|junit] [--no-sandbox] BASE NEW\n"
	"\n"
	"Compare two runs' profiles (bundles, run folders or profile files, as for\n"
	"`sctprof report`) function by function, largest change first.\n"
	"\n"
	"  --metric M       cumtime (default), tottime, calls, or peak-memory (memray or\n"
	"                   scalene data; the default when neither side has cProfile data)\n"
	"  --threshold P    a growth beyond P percent of the base is a regression (10%)\n"
	"  --min-time T     smaller time changes never count (5ms; also s, us)\n"
	"  --min-bytes B    smaller memory changes never count (1M; also K, G)\n"
	"  --top N          rows shown (default 30, 0 for all); regressions always show\n"
	"  --format FMT     text (default), markdown, json, or junit (one failing\n"
	"                   testcase per regression, for Jenkins' junit step)\n"
	"  --no-sandbox     parse without the seccomp sandbox\n"
	"\n"
	"Functions match by file:line(function) with the checkout root, site-packages/\n"
	"and the standard library's folder taken off the file; see docs/report.md.\n"
	"\n"
	"Exit status: 0 no regression, 1 a regression, 64 usage, 65 corrupt input or\n"
	"nothing to compare, 66 no such input, 77 the sandbox could not be entered.\n";

#ifndef SCTPROF_FRONT /* the engine only: see cmd/cmd.h */

extern const struct cmd cmd_diff;

static int input_failure(int r)
{
	switch (-r) {
	case ENOENT: case ENOTDIR: case EACCES: case EISDIR:
		return log_fail(r, EXIT_NOINPUT);
	case ENOMEM:
		return log_fail(r, EXIT_SOFTWARE);
	case EIO:
		return log_fail(r, EXIT_IOERR);
	default:
		return log_fail(r, EXIT_DATAERR);
	}
}

static bool has_type(const struct run_data *d, enum profile_type t)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->profiles[i].type == t)
			return true;
	return false;
}

static int diff_main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "metric", required_argument, NULL, 'm' },
		{ "threshold", required_argument, NULL, 't' },
		{ "min-time", required_argument, NULL, 'T' },
		{ "min-bytes", required_argument, NULL, 'B' },
		{ "top", required_argument, NULL, 'n' },
		{ "format", required_argument, NULL, 'f' },
		{ "no-sandbox", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct diff_opts o = { .metric = METRIC_CUMTIME, .threshold = 0.10, .min_time = 0.005,
			       .min_bytes = 1048576, .top = 30, .format = FMT_TEXT };
	struct input *in[2] = { NULL, NULL };
	struct run_data *d[2] = { NULL, NULL };
	struct diff_result *res = NULL;
	bool sandbox = true, metric_set = false;
	int c, r, code;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+m:t:n:f:h", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (diff_metric_parse(optarg, &o.metric) < 0)
				return cmd_usage_error(&cmd_diff, "%s", err_msg_for(-EINVAL));
			metric_set = true;
			break;
		case 't':
			if (diff_threshold_parse(optarg, &o.threshold) < 0)
				return cmd_usage_error(&cmd_diff, "%s", err_msg_for(-EINVAL));
			break;
		case 'T':
			if (diff_time_parse(optarg, &o.min_time) < 0)
				return cmd_usage_error(&cmd_diff, "%s", err_msg_for(-EINVAL));
			break;
		case 'B':
			if (diff_bytes_parse(optarg, &o.min_bytes) < 0)
				return cmd_usage_error(&cmd_diff, "%s", err_msg_for(-EINVAL));
			break;
		case 'n': {
			char *end;
			long v;
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0)
				return cmd_usage_error(&cmd_diff, "--top wants a number >= 0, not '%s'", optarg);
			o.top = (size_t)v;
			break;
		}
		case 'f':
			if (report_format_parse(optarg, true, &o.format) < 0)
				return cmd_usage_error(&cmd_diff, "%s", err_msg_for(-EINVAL));
			break;
		case 'S':
			sandbox = false;
			break;
		case 'h':
			return cmd_help(&cmd_diff);
		default:
			return cmd_usage_error(&cmd_diff, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return cmd_usage_error(&cmd_diff, "BASE and NEW are needed");

	for (int i = 0; i < 2; i++)
		if ((r = input_load(argv[optind + i], &in[i])) < 0) {
			code = input_failure(r);
			goto out;
		}
	if (sandbox && (r = sandbox_enter()) < 0) {
		code = log_fail(r, EXIT_NOPERM);
		goto out;
	}
	for (int i = 0; i < 2; i++)
		if ((r = run_data_parse_flags(in[i], PSTATS_NO_CALLERS, &d[i])) < 0) {
			code = input_failure(r);
			goto out;
		}
	if (!metric_set && !(has_type(d[0], PROF_CPROFILE) && has_type(d[1], PROF_CPROFILE)))
		o.metric = METRIC_PEAK_MEMORY;
	if ((r = diff_runs(d[0], d[1], &o, &res)) < 0) {
		code = input_failure(r);
		goto out;
	}
	if ((r = diff_write(stdout, res, &o)) < 0) {
		code = log_fail(r, EXIT_IOERR);
		goto out;
	}
	code = res->n_regressions ? 1 : 0;
out:
	diff_result_free(res);
	for (int i = 0; i < 2; i++) {
		run_data_free(d[i]);
		input_free(in[i]);
	}
	return code;
}

#endif /* SCTPROF_FRONT */

const struct cmd cmd_diff = {
	.name = "diff",
	.summary = "compare two runs' profiles; exit 1 on a regression",
	.usage = usage,
	.run = CMD_ENGINE(diff_main),
};
