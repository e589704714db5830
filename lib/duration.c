/* Parsing durations as timeout(1) users expect, plus compound forms ("2h30m"). */
#include "duration.h"
#include "error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int duration_parse(const char *s, double *ret_seconds)
{
	static const char bad[] = "bad duration '%s' (use e.g. 45s, 90m, 2h30m)";
	double total = 0;
	const char *p = s;

	if (!s || !*s)
		return err_set(EINVAL, "empty duration");
	while (*p) {
		char *end;
		double v, unit;

		errno = 0;
		/* strtod() would take blanks, signs, "inf" and hexadecimal. */
		if ((*p < '0' || *p > '9') && *p != '.')
			return err_set(EINVAL, bad, s);
		v = strtod(p, &end);
		if (end == p || errno || v < 0 || !isfinite(v))
			return err_set(EINVAL, bad, s);
		if (!strncmp(end, "ms", 2))
			unit = 0.001, end += 2;
		else if (*end == 's')
			unit = 1, end++;
		else if (*end == 'm')
			unit = 60, end++;
		else if (*end == 'h')
			unit = 3600, end++;
		else if (*end == 'd')
			unit = 86400, end++;
		else if (*end == '\0' && p == s)
			unit = 1;  /* a bare number, only on its own: "2h30" is refused */
		else
			return err_set(EINVAL, bad, s);
		total += v * unit;
		p = end;
	}
	if (!isfinite(total))
		return err_set(EINVAL, "bad duration '%s' (too long)", s);
	*ret_seconds = total;
	return 0;
}
