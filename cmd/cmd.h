/* One subcommand: cmd/<name>.c exports one `const struct cmd cmd_<name>`; main.c holds
 * the table. `usage` is what `sctprof <name> --help` prints and what README.md shows. */
#pragma once

#include <stdio.h>

struct cmd {
	const char *name;
	const char *summary;    /* one line for `sctprof --help` */
	const char *usage;      /* full help, options included, ending in a newline */
	int (*run)(int argc, char **argv);  /* argv[0] is the subcommand's name */
	unsigned flags;
};

enum {
	CMD_HIDDEN = 1u << 0,   /* internal helper; not listed, not completed */
};

/* For option parsers: print usage to stdout (for --help) and return 0. */
int cmd_help(const struct cmd *c);
/* For option parsers: "sctprof: <sub>: <reason>" plus a hint, returns EXIT_USAGE. */
int cmd_usage_error(const struct cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The table, NULL-terminated, for main.c and for `sctprof hook` completion. */
extern const struct cmd *const commands[];
/* The head of `sctprof --help`: the program's synopsis (global options), for completion. */
extern const char main_usage_head[];
