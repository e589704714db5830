/* sctprof report: where did the time (or memory) go, from what a run produced -- a
 * bundle, a run folder, a pstats file, memray stats JSON, scalene JSON or an importtime
 * log -- without Python. Inputs are read whole, then parsed inside the sandbox. */
#include "cmd.h"
#include "error.h"
#include "exitcode.h"
#include "input.h"
#include "log.h"
#include "report.h"
#include "sandbox.h"

#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: sctprof report [--top N] [--sort cumulative|tottime|calls] [--filter REGEX]\n"
	"                      [--format text|markdown|json|svg] [--no-sandbox] PATH\n"
	"\n"
	"Show where the time (or memory) went in what a run produced. PATH is a bundle\n"
	"(RUN_ID.tar.zst, .tar.gz, .zip), a run folder, a pstats file (.stats, .prof),\n"
	"memray stats JSON, scalene JSON or `python -X importtime` output.\n"
	"\n"
	"  --top N          rows per table (default 30; 0 shows all)\n"
	"  --sort KEY       cumulative (default), tottime or calls; for import times\n"
	"                   tottime sorts by self time, for scalene calls sorts by memory\n"
	"  --filter REGEX   only rows whose function (file:line(name)), allocation\n"
	"                   location or module matches the extended regular expression\n"
	"  --format FMT     text (default), markdown, json, or svg (an icicle picture of\n"
	"                   the cProfile call graph)\n"
	"  --no-sandbox     parse without the seccomp sandbox\n"
	"\n"
	"Exit status: 0, or 64 (usage), 65 (corrupt input), 66 (no such input),\n"
	"77 (the sandbox could not be entered). See docs/report.md.\n";

#ifndef SCTPROF_FRONT /* the engine only: see cmd/cmd.h */

extern const struct cmd cmd_report;

/* The documented exit status for a failure to read or parse an input. */
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

static int report_main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "top", required_argument, NULL, 'n' },
		{ "sort", required_argument, NULL, 's' },
		{ "filter", required_argument, NULL, 'F' },
		{ "format", required_argument, NULL, 'f' },
		{ "no-sandbox", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_opts o = { .top = 30, .sort = PSTATS_SORT_CUMULATIVE, .format = FMT_TEXT };
	struct input *in = NULL;
	struct run_data *d = NULL;
	regex_t re;
	bool have_re = false, sandbox = true;
	const char *filter = NULL;
	int c, r, code;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+n:s:F:f:h", options, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *end;
			long v;
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0)
				return cmd_usage_error(&cmd_report, "--top wants a number >= 0, not '%s'", optarg);
			o.top = (size_t)v;
			break;
		}
		case 's':
			if (pstats_sort_parse(optarg, &o.sort) < 0)
				return cmd_usage_error(&cmd_report, "%s", err_msg_for(-EINVAL));
			break;
		case 'F':
			filter = optarg;
			break;
		case 'f':
			if (report_format_parse(optarg, false, &o.format) < 0)
				return cmd_usage_error(&cmd_report, "%s", err_msg_for(-EINVAL));
			break;
		case 'S':
			sandbox = false;
			break;
		case 'h':
			return cmd_help(&cmd_report);
		default:
			return cmd_usage_error(&cmd_report, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(&cmd_report, optind >= argc ? "no PATH given" : "one PATH only");
	if (filter) {
		r = regcomp(&re, filter, REG_EXTENDED | REG_NOSUB);
		if (r != 0) {
			char msg[256];
			regerror(r, &re, msg, sizeof(msg));
			return cmd_usage_error(&cmd_report, "--filter '%s': %s", filter, msg);
		}
		have_re = true;
		o.filter = &re;
	}

	if ((r = input_load(argv[optind], &in)) < 0) {
		code = input_failure(r);
		goto out;
	}
	if (sandbox && (r = sandbox_enter()) < 0) {
		code = log_fail(r, EXIT_NOPERM);
		goto out;
	}
	/* only the picture follows the call graph */
	if ((r = run_data_parse_flags(in, o.format == FMT_SVG ? 0 : PSTATS_NO_CALLERS, &d)) < 0) {
		code = input_failure(r);
		goto out;
	}
	if ((r = report_write(stdout, d, &o)) < 0) {
		code = r == -ENODATA ? log_fail(r, EXIT_DATAERR) : input_failure(r);
		goto out;
	}
	code = 0;
out:
	run_data_free(d);
	input_free(in);
	if (have_re)
		regfree(&re);
	return code;
}

#endif /* SCTPROF_FRONT */

const struct cmd cmd_report = {
	.name = "report",
	.summary = "show where the time or memory went in a run's profiles",
	.usage = usage,
	.run = CMD_ENGINE(report_main),
};
