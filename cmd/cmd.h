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

/* Two programs are built from cmd/. `sctprof` is the light front: it links only libyaml
 * and jansson and answers what must be quick (check, hook, matrix validate, help) in a
 * few milliseconds. Loading libarchive, libcurl and libcrypto with their own
 * dependencies costs some 40 shared objects and several milliseconds before main(), so
 * the commands that need them (run, bundle, report, upload, ...) are built into
 * `sctprof-engine`, which the front execs with the same arguments. Such a command's
 * file wraps its implementation in #ifndef SCTPROF_FRONT and names its function with
 * CMD_ENGINE(); the front keeps its name, summary and usage for help and completion. */
#ifdef SCTPROF_FRONT
#define CMD_ENGINE(fn) NULL
#else
#define CMD_ENGINE(fn) fn
#endif

/* Execs the engine with sctprof's own argv; returns an exit status only on failure. */
int cmd_exec_engine(void);

/* The table, NULL-terminated, for main.c and for `sctprof hook` completion. */
extern const struct cmd *const commands[];
/* The head of `sctprof --help`: the program's synopsis (global options), for completion. */
extern const char main_usage_head[];
