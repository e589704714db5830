/* Runs a command with its stderr split by line: lines that start with a given prefix go
 * to a file, every other byte goes on to sctprof's own stderr, in order. This is how a
 * diagnostic that an interpreter writes to stderr (a switch with no file option of its
 * own) is captured without hiding the program's stderr from the user or from CI.
 *
 * The command's stderr becomes a pipe (isatty(2) is false for it). A line is held back
 * only while what has arrived of it could still turn out to start with the prefix; any
 * other output, a progress bar without a newline included, passes through at once. */
#pragma once

/* Forks, runs argv (looked up on PATH) with stderr on a pipe, and copies until the
 * command has exited and the pipe is drained (or has been idle for a second after the
 * exit, when a descendant keeps it open). SIGINT, SIGTERM, SIGHUP and SIGQUIT are ignored
 * meanwhile: they are the command's to act on. Returns 0 and the command's wait status;
 * 1 (with err_set) and the wait status when the log could not be written in full; a
 * negative errno (with err_set) when the command could not be started. */
int stderr_split_run(char *const *argv, const char *prefix, const char *log_path,
		     int *ret_wait_status);
