/* sctprof split-stderr (hidden): runs a command with the stderr lines that start with a
 * prefix written to a file and the rest passed through (lib/stderr_split.h), then exits
 * as the command did. Backends use it for diagnostics an interpreter prints to stderr
 * only, such as `python -X importtime`. */
#include "cmd.h"
#include "error.h"
#include "exitcode.h"
#include "log.h"
#include "stderr_split.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
	"usage: sctprof split-stderr --prefix TEXT --to FILE -- COMMAND [ARG...]\n"
	"\n"
	"Run COMMAND; its stderr lines starting with TEXT go to FILE, everything else to\n"
	"stderr. Exits with COMMAND's status (or dies of the signal that killed it).\n"
	"Used by sctprof's backends; not meant to be run by hand.\n";

extern const struct cmd cmd_split_stderr;

static const struct option options[] = {
	{ "prefix", required_argument, NULL, 'p' },
	{ "to", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int split_main(int argc, char **argv)
{
	const struct cmd *self = &cmd_split_stderr;
	const char *prefix = NULL, *to = NULL;
	int c, r, status = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			prefix = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'h':
			return cmd_help(self);
		default:
			return cmd_usage_error(self, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!prefix || !*prefix || !to)
		return cmd_usage_error(self, "--prefix and --to are required");
	if (optind >= argc || strcmp(argv[optind - 1], "--") != 0)
		return cmd_usage_error(self, "no command after '--'");
	r = stderr_split_run(argv + optind, prefix, to, &status);
	if (r < 0)
		return log_fail(r, r == -ENOENT || r == -EACCES ? EXIT_UNAVAILABLE : EXIT_OSERR);
	if (r > 0)
		log_warn("%s", err_msg_for(-EIO));
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		/* Die of the same signal, so that whoever waits for us sees what the command
		 * died of; without a core file of our own. */
		prctl(PR_SET_DUMPABLE, 0);
		signal(sig, SIG_DFL);
		raise(sig);
		return 128 + sig;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_SOFTWARE;
}

const struct cmd cmd_split_stderr = {
	.name = "split-stderr",
	.summary = "run a command with prefixed stderr lines split into a file (internal)",
	.usage = usage,
	.run = split_main,
	.flags = CMD_HIDDEN,
};
