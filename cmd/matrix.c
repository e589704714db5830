/* sctprof matrix: commands about the compatibility matrix itself. `validate` loads a
 * matrix with every rule of docs/matrix.md and says where the first error is; `refresh`
 * lives in matrix-refresh.c. Further subcommands go into the table below. */
#include "cmd.h"
#include "error.h"
#include "exitcode.h"
#include "log.h"
#include "matrix.h"
#include "matrix-refresh.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: sctprof matrix validate [--matrix FILE | FILE]\n"
	"       sctprof matrix refresh [OPTIONS]\n"
	"\n"
	"Commands about the compatibility matrix (data/compat-matrix.yaml; docs/matrix.md).\n"
	"\n"
	"  validate [FILE]   check FILE (default: $SCTPROF_MATRIX, else the shipped matrix)\n"
	"                    against the schema; print 'FILE: ok (N tools, M kinds)' or the\n"
	"                    first error as FILE:LINE:COLUMN: reason.\n"
	"                    Exit 0, 65 when malformed, 66 when missing.\n"
	"  refresh           ask PyPI and GitHub what changed and print the edits that\n"
	"                    follow; --write applies them ('sctprof matrix refresh --help').\n";

extern const struct cmd cmd_matrix;

static int validate(int argc, char **argv)
{
	static const struct option options[] = {
		{ "matrix", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	struct matrix *m = NULL;
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			file = optarg;
			break;
		case 'h':
			return cmd_help(&cmd_matrix);
		case ':':
			return cmd_usage_error(&cmd_matrix, "option '%s' needs a value", argv[optind - 1]);
		default:
			return cmd_usage_error(&cmd_matrix, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		if (file || optind + 1 < argc)
			return cmd_usage_error(&cmd_matrix, "validate takes one FILE");
		file = argv[optind];
	}
	file = matrix_default_path(file);
	r = matrix_load(file, &m);
	if (r < 0)
		return log_fail(r, r == -EBADMSG || r == -EFBIG ? EXIT_DATAERR
				   : r == -ENOMEM ? EXIT_SOFTWARE : EXIT_NOINPUT);
	printf("%s: ok (%zu tools, %zu kinds)\n", file, m->n_tools, m->n_kinds);
	matrix_free(m);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} subcommands[] = {
	{ "validate", validate },
	{ "refresh", CMD_ENGINE(cmd_matrix_refresh) },
	{ NULL, NULL },
};

static int matrix_main(int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage_error(&cmd_matrix, "no subcommand given");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(&cmd_matrix);
	for (size_t i = 0; subcommands[i].name; i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run ? subcommands[i].run(argc - 1, argv + 1)
						  : cmd_exec_engine();
	return cmd_usage_error(&cmd_matrix, "unknown subcommand '%s'", argv[1]);
}

const struct cmd cmd_matrix = {
	.name = "matrix",
	.summary = "validate the compatibility matrix, or refresh it from PyPI and GitHub",
	.usage = usage,
	.run = matrix_main,
};
