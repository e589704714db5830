/* sctprof's own exit statuses. A run otherwise exits with the test's status (128+N when
 * the test died of signal N); these are chosen from 64..79 (as sysexits.h does) so that
 * CI can tell "sctprof failed" from "the test failed". The table is printed by
 * `sctprof --help` and copied in README.md. */
#pragma once

enum {
	EXIT_USAGE       = 64, /* bad option, kind or command; target is not Python */
	EXIT_DATAERR     = 65, /* malformed input: matrix, profile, archive */
	EXIT_NOINPUT     = 66, /* an input file or interpreter does not exist */
	EXIT_UNAVAILABLE = 69, /* no usable tool for the kind, or the matrix says no */
	EXIT_SOFTWARE    = 70, /* internal error */
	EXIT_OSERR       = 71, /* fork, exec, signal set-up failed */
	EXIT_CANTCREAT   = 73, /* output dir cannot be created or written */
	EXIT_IOERR       = 74, /* write error (disk full, EIO) while writing results */
	EXIT_TEMPFAIL    = 75, /* network unreachable; try again */
	EXIT_PROTOCOL    = 76, /* a server answered with an error */
	EXIT_NOPERM      = 77, /* not permitted (ptrace, sandbox) */
	EXIT_CONFIG      = 78, /* configuration error */
	EXIT_TIMEOUT     = 124, /* --timeout elapsed, as timeout(1) */
};

struct exit_doc {
	int code;
	const char *meaning;
};

/* NULL-terminated (meaning == NULL) table for help text. */
extern const struct exit_doc exit_docs[];
