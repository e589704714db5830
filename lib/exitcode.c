/* The documented exit statuses (exitcode.h), for --help. */
#include "exitcode.h"

#include <stddef.h>

const struct exit_doc exit_docs[] = {
	{ EXIT_USAGE, "usage: unknown option or kind, no command, target is not Python" },
	{ EXIT_DATAERR, "malformed input: matrix, profile or archive" },
	{ EXIT_NOINPUT, "an input file or interpreter does not exist" },
	{ EXIT_UNAVAILABLE, "no usable profiler for the kind, or the matrix says it does not work" },
	{ EXIT_SOFTWARE, "internal error" },
	{ EXIT_OSERR, "could not start the profiler (fork, exec, signals)" },
	{ EXIT_CANTCREAT, "output directory cannot be created or written" },
	{ EXIT_IOERR, "write error (disk full, I/O error) while saving results; raw files are kept" },
	{ EXIT_TEMPFAIL, "network unreachable; try again later" },
	{ EXIT_PROTOCOL, "a server refused the request" },
	{ EXIT_NOPERM, "not permitted (ptrace, sandbox)" },
	{ EXIT_CONFIG, "configuration error" },
	{ EXIT_TIMEOUT, "--timeout elapsed (the profile is kept)" },
	{ 0, NULL },
};
