/* Duration parsing: the forms --timeout, --grace and --kill-after take. */
#include "tap.h"

#include <errno.h>

#include "duration.h"
#include "error.h"

static void good(const char *s, double want)
{
	char what[128];
	double d = -1;
	int r = duration_parse(s, &d);

	snprintf(what, sizeof(what), "'%s' is %g s", s, want);
	ok(r == 0 && d > want - 1e-9 && d < want + 1e-9, what);
	if (r != 0 || d != want)
		printf("#   r %d, got %g\n", r, d);
}

static void bad(const char *s)
{
	char what[128];
	double d = 12345;
	int r;

	err_clear();
	r = duration_parse(s, &d);
	snprintf(what, sizeof(what), "'%s' refused", s);
	ok(r == -EINVAL && d == 12345, what);
	if (*s)
		ok(strstr(err_msg_for(r), s) != NULL, "  the reason quotes it");
}

int main(void)
{
	good("45s", 45);
	good("90m", 5400);
	good("2h30m", 9000);
	good("1h2m3s", 3723);
	good("1.5", 1.5);
	good("90", 90);
	good("0", 0);
	good("500ms", 0.5);
	good("1m30s", 90);
	good("1d", 86400);
	good("0.25s", 0.25);
	good(".5s", 0.5);
	bad("");
	bad("soon");
	bad("5x");
	bad("-1s");
	bad("+5s");
	bad("2h30");
	bad("1s2");
	bad(" 5s");
	bad("5 s");
	bad("inf");
	bad("nan");
	bad("s");
	bad("1e999h");
	return tap_done();
}
