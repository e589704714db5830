/* Messages to the user, for cmd/ only: one line each on stderr, prefixed "sctprof: ".
 * Library code does not call these (see error.h); the exception is log_debug(), which
 * lib/ may use for --verbose traces. */
#pragma once

#include <stdbool.h>

enum log_level { LOG_QUIET, LOG_NORMAL, LOG_VERBOSE };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "sctprof: <reason>" for a lib/ failure r (negative errno) and returns code. */
int log_fail(int r, int code);
