/* sctprof: profile SCT test runs. The dispatcher: global options, the command table,
 * and a final check that what we printed really reached stdout. */
#include "cmd.h"
#include "config.h"
#include "exitcode.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


extern const struct cmd cmd_run;
extern const struct cmd cmd_attach;
extern const struct cmd cmd_bundle;
extern const struct cmd cmd_report;
extern const struct cmd cmd_diff;
extern const struct cmd cmd_upload;
extern const struct cmd cmd_check;
extern const struct cmd cmd_matrix;
extern const struct cmd cmd_hook;
extern const struct cmd cmd_split_stderr;

const struct cmd *const commands[] = {
	&cmd_run,
	&cmd_attach,
	&cmd_bundle,
	&cmd_report,
	&cmd_diff,
	&cmd_upload,
	&cmd_check,
	&cmd_matrix,
	&cmd_hook,
	&cmd_split_stderr,
	NULL,
};

const char main_usage_head[] =
	"usage: sctprof [--version] [--help] [-v|--verbose] [-q|--quiet] COMMAND [ARGS]\n"
	"\n"
	"Profile a Python test run (SCT, pytest, any script) and keep everything it produced.\n"
	"\n"
	"Commands:\n";

static void print_main_usage(FILE *f)
{
	fputs(main_usage_head, f);
	for (size_t i = 0; commands[i]; i++)
		if (!(commands[i]->flags & CMD_HIDDEN))
			fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\nRun 'sctprof COMMAND --help' for a command's options.\n\nExit status:\n"
	      "  the test's own status (128+N when the test died of signal N), or\n", f);
	for (size_t i = 0; exit_docs[i].meaning; i++)
		fprintf(f, "  %-4d %s\n", exit_docs[i].code, exit_docs[i].meaning);
}

int cmd_help(const struct cmd *c)
{
	fputs(c->usage, stdout);
	return 0;
}

int cmd_usage_error(const struct cmd *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	/* Through log_error(), which redacts: the bad option may be "--token=...". */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_error("%s: %s (see 'sctprof %s --help')", c->name, buf, c->name);
	return EXIT_USAGE;
}

/* Exact name, or a unique prefix of a visible command. */
static const struct cmd *find_cmd(const char *name)
{
	const struct cmd *found = NULL;
	size_t len = strlen(name);

	for (size_t i = 0; commands[i]; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	for (size_t i = 0; commands[i]; i++) {
		if (commands[i]->flags & CMD_HIDDEN || strncmp(commands[i]->name, name, len) != 0)
			continue;
		if (found)
			return NULL;
		found = commands[i];
	}
	return found;
}

/* As git's run_builtin(): a full disk under `sctprof report > f` is an error, not silence. */
static int finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("write error on standard output: %s", strerror(errno ? errno : EIO));
		return status ? status : EXIT_IOERR;
	}
	return status;
}

static char **main_argv;

/* The engine beside the front (build tree, or a relocated install), else in libexecdir. */
int cmd_exec_engine(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *candidates[3] = { NULL, NULL, SCTPROF_LIBEXECDIR "/sctprof-engine" };
	char beside[PATH_MAX + 64];

	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(beside, sizeof(beside), "%s/sctprof-engine", exe);
			snprintf(path, sizeof(path), "%s/../libexec/sctprof/sctprof-engine", exe);
			candidates[0] = beside;
			candidates[1] = path;
		}
	}
	for (size_t i = 0; i < 3; i++)
		if (candidates[i] && access(candidates[i], X_OK) == 0)
			execv(candidates[i], main_argv);
	log_error("cannot run the sctprof engine (sctprof-engine beside '%s' or in '%s'): %s",
		  n > 0 ? exe : "sctprof", SCTPROF_LIBEXECDIR, strerror(errno ? errno : ENOENT));
	return EXIT_SOFTWARE;
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("sctprof %s\n", SCTPROF_VERSION);
			return finish_stdout(0);
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_main_usage(stdout);
			return finish_stdout(0);
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			log_set_level(LOG_VERBOSE);
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			log_set_level(LOG_QUIET);
		} else {
			log_error("unknown option '%s' (see 'sctprof --help')", a);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		print_main_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			print_main_usage(stdout);
			return finish_stdout(0);
		}
		c = find_cmd(argv[i + 1]);
		if (!c) {
			log_error("unknown command '%s' (see 'sctprof --help')", argv[i + 1]);
			return EXIT_USAGE;
		}
		return finish_stdout(cmd_help(c));
	}
	c = find_cmd(argv[i]);
	if (!c) {
		log_error("unknown command '%s' (see 'sctprof --help')", argv[i]);
		return EXIT_USAGE;
	}
	main_argv = argv;
	if (!c->run)
		return cmd_exec_engine();
	return finish_stdout(c->run(argc - i, argv + i));
}
