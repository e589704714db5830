/* stderr messages for the command layer. */
#include "log.h"
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level level = LOG_NORMAL;

void log_set_level(enum log_level l)
{
	level = l;
}

enum log_level log_get_level(void)
{
	return level;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "sctprof: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define DEFINE_LOG(name, min, prefix)                 \
	void name(const char *fmt, ...)               \
	{                                             \
		va_list ap;                           \
		if (level < (min))                    \
			return;                       \
		va_start(ap, fmt);                    \
		vlog(prefix, fmt, ap);                \
		va_end(ap);                           \
	}

DEFINE_LOG(log_error, LOG_QUIET, "")
DEFINE_LOG(log_warn, LOG_NORMAL, "warning: ")
DEFINE_LOG(log_info, LOG_NORMAL, "")
DEFINE_LOG(log_debug, LOG_VERBOSE, "debug: ")

int log_fail(int r, int code)
{
	log_error("%s", err_msg_for(r));
	return code;
}
