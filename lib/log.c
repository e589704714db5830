/* stderr messages for the command layer. */
#include "log.h"
#include "error.h"
#include "progress.h"
#include "redact.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static enum log_level level = LOG_NORMAL;

void log_set_level(enum log_level l)
{
	level = l;
}

enum log_level log_get_level(void)
{
	return level;
}

/* Every message goes through lib/redact.h: an error may quote a command line or a URL
 * the user gave, with a token or a password in it. */
static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char buf[2048], *red;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	red = redact_string(buf);
	progress_hold();   /* the line is cleared first, and redrawn below ours */
	fprintf(stderr, "sctprof: %s%s\n", prefix, red ? red : "(message withheld: out of memory)");
	fflush(stderr);
	progress_release();
	free(red);
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
