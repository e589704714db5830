/* How lib/ tells cmd/ what went wrong. Library functions return 0 (or a count) on success
 * and a negative errno on failure, and may leave a one-line reason with err_set(); they
 * never print and never exit. The command layer prints err_msg() once, as the only line. */
#pragma once

#include <stdarg.h>

/* Records the reason and returns -errnum, so that `return err_set(ENOENT, ...)` reads
 * naturally. errnum is positive. "%m" is not supported; pass strerror(). */
int err_set(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int err_setv(int errnum, const char *fmt, va_list ap);

/* The last reason, or a strerror() text for r when none was set since err_clear(). */
const char *err_msg_for(int r);
void err_clear(void);
