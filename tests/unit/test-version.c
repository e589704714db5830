/* Version comparison and the matrix's range syntax (lib/version.h). */
#include "tap.h"

#include "version.h"

static struct pyver V(const char *s)
{
	struct pyver v = { { 0 }, 0 };

	if (pyver_parse(s, true, &v) < 0)
		printf("# cannot parse '%s'\n", s);
	return v;
}

static bool in(const char *range, const char *version)
{
	struct vrange r;
	struct pyver v = V(version);

	if (vrange_parse(range, &r, NULL, NULL) < 0) {
		printf("# range '%s' did not parse\n", range);
		return false;
	}
	return vrange_contains(&r, &v);
}

static bool bad_range(const char *range, size_t want_offset)
{
	struct vrange r;
	const char *problem = NULL;
	size_t off = 999;

	if (vrange_parse(range, &r, &problem, &off) == 0)
		return false;
	if (off != want_offset)
		printf("# '%s': offset %zu, want %zu (%s)\n", range, off, want_offset, problem);
	return off == want_offset && problem && *problem;
}

static const char *describe(const char *range, const char *series)
{
	static char buf[64];
	struct vrange r, s;
	struct pyver v = V(series);

	if (vrange_parse(range, &r, NULL, NULL) < 0)
		return "(bad range)";
	s = vrange_of(&v);
	return vrange_describe(&r, &s, buf, sizeof(buf));
}

static int tcmp(const char *a, const char *b)
{
	bool ok = false;
	int c = toolver_cmp_str(a, b, &ok);

	if (!ok)
		printf("# '%s' or '%s' did not parse\n", a, b);
	return ok ? c : 99;
}

int main(void)
{
	struct pyver v, w;
	struct toolver tv;
	char buf[32];

	/* Python versions */
	ok(pyver_parse("3.14.2", false, &v) == 0 && v.n == 3 && v.part[1] == 14 && v.part[2] == 2,
	   "3.14.2 parses into three parts");
	ok(pyver_parse("3.14", false, &v) == 0 && v.n == 2, "3.14 has two parts");
	ok(pyver_parse("3.15.0a2", false, &v) < 0, "strict: a pre-release suffix is refused");
	ok(pyver_parse("3.15.0a2", true, &v) == 0 && v.n == 3 && v.part[1] == 15,
	   "lenient: 3.15.0a2 reads as 3.15.0");
	ok(pyver_parse("3.11.2.final.0", true, &v) == 0 && v.n == 3 && v.part[2] == 2,
	   "lenient: virtualenv's version_info 3.11.2.final.0");
	ok(pyver_parse("3.14.2.1", false, &v) < 0, "strict: four parts refused");
	ok(pyver_parse("", true, &v) < 0 && pyver_parse("x3", true, &v) < 0 &&
	   pyver_parse(".3", true, &v) < 0, "empty or non-numeric refused");
	ok(pyver_parse("3.999999", true, &v) < 0, "absurd part refused");
	v = V("3.9");
	w = V("3.10");
	ok(pyver_cmp(&v, &w) < 0, "3.9 < 3.10 (numeric, not textual)");
	v = V("3.14.4");
	w = V("3.14.10");
	ok(pyver_cmp(&v, &w) < 0, "3.14.4 < 3.14.10");
	v = V("3.14");
	w = V("3.14.0");
	ok(pyver_cmp(&v, &w) == 0, "3.14 == 3.14.0 (missing parts are 0)");
	is_str(pyver_str(&w, buf, sizeof(buf)), "3.14.0", "pyver_str");

	/* Ranges */
	ok(in("*", "2.7.18") && in("*", "3.15.0"), "* holds everything");
	ok(in("3.14", "3.14.0") && in("3.14", "3.14.9") && !in("3.14", "3.15.0") && !in("3.14", "3.13.9"),
	   "a bare X.Y is the series");
	ok(in("3.14.5", "3.14.5") && !in("3.14.5", "3.14.6") && !in("3.14.5", "3.14.4"),
	   "a bare X.Y.Z is exactly that");
	ok(in("<3.14", "3.13.12") && !in("<3.14", "3.14.0"), "<3.14");
	ok(in("<=3.13", "3.13.12") && !in("<=3.13", "3.14.0"),
	   "<=3.13 holds every 3.13.x (compared at the bound's precision)");
	ok(!in(">3.13", "3.13.12") && in(">3.13", "3.14.0"), ">3.13 starts at 3.14.0");
	ok(in(">=3.14.0, <3.14.5", "3.14.4") && !in(">=3.14.0, <3.14.5", "3.14.5") &&
	   !in(">=3.14.0, <3.14.5", "3.13.9"), ">=3.14.0, <3.14.5 is 3.14.0 to 3.14.4");
	ok(in(">=3.14.5", "3.14.5") && in(">=3.14.5", "3.20.1") && !in(">=3.14.5", "3.14.4"),
	   ">=3.14.5 includes 3.14.5 and later");
	ok(in(">=3.9,<3.10", "3.9.18") && !in(">=3.9,<3.10", "3.10.0"), "no spaces needed; 3.9 vs 3.10");
	ok(in("==3.14", "3.14.7") && !in("==3.14", "3.15.0"), "==3.14 is the series");
	ok(in(">=3.15", "3.15.0a1"), "a 3.15 pre-release counts as 3.15.0");
	ok(in("  >= 3.14 ,  < 3.15 ", "3.14.3"), "blanks around operators and commas");

	ok(bad_range("", 0), "empty range refused");
	ok(bad_range(">=3.14, ~3.15", 8), "unknown operator refused at its offset");
	ok(bad_range(">=3.14,", 7), "trailing comma refused");
	ok(bad_range(">=", 2), "operator without a version refused");
	ok(bad_range("<3.x", 1), "bad version refused at its offset");
	ok(bad_range("3.14.1.2", 0), "four parts refused");
	ok(bad_range(">=3.15, <3.14", 0), "an empty range refused");
	ok(bad_range("*, <3", 1), "'*' must stand alone");
	ok(bad_range("=>3.14", 0), "'=>' is not an operator");

	{
		struct vrange a, b;
		vrange_parse("<=3.14", &a, NULL, NULL);
		vrange_parse(">=3.14.5", &b, NULL, NULL);
		ok(vrange_meets(&a, &b), "<=3.14 meets >=3.14.5 (both hold 3.14.5)");
		vrange_parse("<3.14.5", &a, NULL, NULL);
		ok(!vrange_meets(&a, &b), "<3.14.5 does not meet >=3.14.5");
	}

	is_str(describe(">=3.14.0, <3.14.5", "3.14"), "3.14.0\u20133.14.4", "describe a leading part of a series");
	is_str(describe(">=3.14.5, <3.15", "3.14"), "3.14.5+", "describe an open end");
	is_str(describe(">=3.14.5", "3.14"), "3.14.5+", "describe an unbounded end");
	is_str(describe("3.14", "3.14"), "", "a row covering the series needs no words");
	is_str(describe("*", "3.14"), "", "* covers the series");
	is_str(describe("3.14.5", "3.14"), "3.14.5", "a single version");

	/* Tool versions (PEP 440) */
	ok(tcmp("0.4.1", "0.4.2") < 0, "0.4.1 < 0.4.2");
	ok(tcmp("0.4.10", "0.4.2") > 0, "0.4.10 > 0.4.2 (numeric)");
	ok(tcmp("1.18", "1.18.0") == 0, "1.18 == 1.18.0");
	ok(tcmp("2.1.4rc1", "2.1.4") < 0, "rc before the release");
	ok(tcmp("2.1.4a1", "2.1.4b1") < 0 && tcmp("2.1.4b1", "2.1.4rc1") < 0, "a < b < rc");
	ok(tcmp("2.1.4.dev0", "2.1.4a1") < 0, "dev release before alphas");
	ok(tcmp("2.1.4.post1", "2.1.4") > 0 && tcmp("2.1.4-1", "2.1.4") > 0, "post releases after");
	ok(tcmp("2.1.4a1.dev1", "2.1.4a1") < 0, "a dev of a pre-release before it");
	ok(tcmp("v1.1.0", "1.1.0") == 0, "a leading v is accepted");
	ok(tcmp("1.5.16+deb12u1", "1.5.16") == 0, "a local label is not compared");
	ok(tcmp("1!2.0", "2.0") == 0, "an epoch is accepted");
	ok(tcmp("1.0RC1", "1.0rc1") == 0 && tcmp("1.0-alpha.2", "1.0a2") == 0, "spellings normalise");
	ok(toolver_parse("", &tv) < 0 && toolver_parse("latest", &tv) < 0 &&
	   toolver_parse("1.0 beta", &tv) < 0 && toolver_parse("1.0+", &tv) < 0,
	   "non-versions refused");
	return tap_done();
}
