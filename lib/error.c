/* The one reason buffer behind err_set(): lib/ is single-threaded where it sets it. */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static char reason[1024];

int err_setv(int errnum, const char *fmt, va_list ap)
{
	vsnprintf(reason, sizeof(reason), fmt, ap);
	return errnum > 0 ? -errnum : (errnum < 0 ? errnum : -EIO);
}

int err_set(int errnum, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = err_setv(errnum, fmt, ap);
	va_end(ap);
	return r;
}

const char *err_msg_for(int r)
{
	if (reason[0])
		return reason;
	return strerror(r < 0 ? -r : r);
}

void err_clear(void)
{
	reason[0] = '\0';
}
