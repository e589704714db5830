/* The parser sandbox: a libseccomp allow-list that report and diff enter once their
 * inputs are in memory (input.h), the way file(1) sandboxes its parser.
 *
 * Inside it the process may compute, allocate memory, write to the descriptors it
 * already has (stdout, stderr) and exit. Anything else -- opening a file, a socket,
 * exec, ptrace, fork, mapping executable memory -- kills the process at once with
 * SIGSYS (SCMP_ACT_KILL_PROCESS): a parser that tries one has been subverted, and
 * dying is the one answer it cannot work around. The shell sees status 159 (128 + 31).
 *
 * Builds with AddressSanitizer load no filter: the sanitizer's runtime opens
 * /proc/self/maps, forks and ptraces to check for leaks at exit. */
#pragma once

#include <stdbool.h>

/* Whether this build loads the filter (false for sanitizer builds). */
bool sandbox_supported(void);

/* Sets PR_SET_NO_NEW_PRIVS and loads the filter; there is no way out. Returns 0, or a
 * negative errno with err_set() (e.g. a kernel without seccomp). */
int sandbox_enter(void);
