/* sctprof matrix: commands about the compatibility matrix itself. Subcommands go into
 * the table below; `refresh` lives in matrix-refresh.c. */
#include "cmd.h"
#include "matrix-refresh.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: sctprof matrix refresh [OPTIONS]\n"
	"\n"
	"Commands about the compatibility matrix (data/compat-matrix.yaml; docs/matrix.md).\n"
	"\n"
	"  refresh           ask PyPI and GitHub what changed and print the edits that\n"
	"                    follow; --write applies them ('sctprof matrix refresh --help').\n";

extern const struct cmd cmd_matrix;

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} subcommands[] = {
	{ "refresh", cmd_matrix_refresh },
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
			return subcommands[i].run(argc - 1, argv + 1);
	return cmd_usage_error(&cmd_matrix, "unknown subcommand '%s'", argv[1]);
}

const struct cmd cmd_matrix = {
	.name = "matrix",
	.summary = "keep the compatibility matrix current (refresh)",
	.usage = usage,
	.run = matrix_main,
};
