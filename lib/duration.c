/* Parsing durations as timeout(1) users expect, plus compound forms ("2h30m"). */
#include "duration.h"
#include "error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int duration_parse(const char *s, double *ret_seconds)
{
	double total = 0;
	const char *p = s;

	if (!s || !*s)
		return err_set(EINVAL, "empty duration");
	while (*p) {
		char *end;
		double v, unit;

		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno || v < 0 || !isfinite(v))
			return err_set(EINVAL, "bad duration '%s' (use e.g. 45s, 90m, 2h30m)", s);
		p = end;
		if (!strncmp(p, "ms", 2)) {
			unit = 0.001;
			p += 2;
		} else if (*p == 's') {
			unit = 1;
			p++;
		} else if (*p == 'm') {
			unit = 60;
			p++;
		} else if (*p == 'h') {
			unit = 3600;
			p++;
		} else if (*p == 'd') {
			unit = 86400;
			p++;
		} else if (*p == '\0') {
			unit = 1;
		} else {
			return err_set(EINVAL, "bad duration '%s' (use e.g. 45s, 90m, 2h30m)", s);
		}
		total += v * unit;
	}
	*ret_seconds = total;
	return 0;
}
