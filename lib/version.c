/* Python versions, version ranges and tool versions for the compatibility matrix.
 *
 * A range is kept as one half-open interval of three-part versions, whatever syntax it
 * was written in: "<=3.13" becomes [-, 3.14.0), "3.14" becomes [3.14.0, 3.15.0). With
 * every range and every query (an exact version or a series) an interval, "does this row
 * apply" and "which part of 3.14 does this row cover" are the same two comparisons. */
#include "version.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PART_MAX 99999

int pyver_parse(const char *s, bool lenient, struct pyver *ret)
{
	struct pyver v = { { 0, 0, 0 }, 0 };
	const char *p = s;

	if (!s)
		return -EINVAL;
	for (;;) {
		long x = 0;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p)) {
			x = x * 10 + (*p - '0');
			if (x > PART_MAX)
				return -EINVAL;
			p++;
		}
		v.part[v.n++] = (int)x;
		if (*p == '.' && v.n < 3 && isdigit((unsigned char)p[1])) {
			p++;
			continue;
		}
		break;
	}
	if (*p && !lenient)
		return -EINVAL;
	*ret = v;
	return 0;
}

int pyver_cmp(const struct pyver *a, const struct pyver *b)
{
	for (int i = 0; i < 3; i++) {
		int x = i < a->n ? a->part[i] : 0;
		int y = i < b->n ? b->part[i] : 0;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

const char *pyver_str(const struct pyver *v, char *buf, size_t size)
{
	if (v->n <= 1)
		snprintf(buf, size, "%d", v->part[0]);
	else if (v->n == 2)
		snprintf(buf, size, "%d.%d", v->part[0], v->part[1]);
	else
		snprintf(buf, size, "%d.%d.%d", v->part[0], v->part[1], v->part[2]);
	return buf;
}

static struct pyver padded(const struct pyver *v)
{
	struct pyver r = *v;

	for (int i = r.n; i < 3; i++)
		r.part[i] = 0;
	r.n = 3;
	return r;
}

/* The first version after every version that starts with v: 3.13 -> 3.14.0. */
static struct pyver after(const struct pyver *v)
{
	struct pyver r = *v;

	r.part[r.n - 1]++;
	return padded(&r);
}

static void lower_to(struct vrange *r, const struct pyver *lo)
{
	if (!r->has_lo || pyver_cmp(lo, &r->lo) > 0)
		r->lo = *lo;
	r->has_lo = true;
}

static void upper_to(struct vrange *r, const struct pyver *hi)
{
	if (!r->has_hi || pyver_cmp(hi, &r->hi) < 0)
		r->hi = *hi;
	r->has_hi = true;
}

static int range_fail(const char *problem, const char *s, const char *at,
		      const char **ret_problem, size_t *ret_offset)
{
	if (ret_problem)
		*ret_problem = problem;
	if (ret_offset)
		*ret_offset = (size_t)(at - s);
	return -EINVAL;
}

int vrange_parse(const char *s, struct vrange *ret, const char **ret_problem, size_t *ret_offset)
{
	struct vrange r = { { { 0 }, 0 }, { { 0 }, 0 }, false, false };
	const char *p = s;

	if (!s)
		return range_fail("empty range", "", "", ret_problem, ret_offset);
	while (*p == ' ')
		p++;
	if (*p == '*') {
		const char *q = p + 1;
		while (*q == ' ')
			q++;
		if (*q)
			return range_fail("'*' must stand alone", s, q, ret_problem, ret_offset);
		*ret = r;
		return 0;
	}
	for (;;) {
		enum { EQ, GE, GT, LE, LT } op = EQ;
		const char *vstart, *vend;
		char vbuf[32];
		struct pyver v, lo, hi;

		while (*p == ' ')
			p++;
		if (!*p || *p == ',')
			return range_fail("empty clause (expected a version or OP VERSION)",
					  s, p, ret_problem, ret_offset);
		if (p[0] == '>' && p[1] == '=')
			op = GE, p += 2;
		else if (p[0] == '<' && p[1] == '=')
			op = LE, p += 2;
		else if (p[0] == '=' && p[1] == '=')
			op = EQ, p += 2;
		else if (p[0] == '>')
			op = GT, p += 1;
		else if (p[0] == '<')
			op = LT, p += 1;
		else if (!isdigit((unsigned char)p[0]))
			return range_fail("expected a version or one of >=, >, <=, <, ==",
					  s, p, ret_problem, ret_offset);
		while (*p == ' ')
			p++;
		vstart = p;
		while (*p && *p != ',')
			p++;
		vend = p;
		while (vend > vstart && vend[-1] == ' ')
			vend--;
		if (vend == vstart)
			return range_fail("expected a version after the operator", s, vstart,
					  ret_problem, ret_offset);
		if ((size_t)(vend - vstart) >= sizeof(vbuf) ||
		    (memcpy(vbuf, vstart, (size_t)(vend - vstart)), vbuf[vend - vstart] = '\0',
		     pyver_parse(vbuf, false, &v) < 0))
			return range_fail("not a version (one to three numbers: 3, 3.14, 3.14.5)",
					  s, vstart, ret_problem, ret_offset);
		lo = padded(&v);
		hi = after(&v);
		switch (op) {
		case EQ: lower_to(&r, &lo); upper_to(&r, &hi); break;
		case GE: lower_to(&r, &lo); break;
		case GT: lower_to(&r, &hi); break;
		case LE: upper_to(&r, &hi); break;
		case LT: upper_to(&r, &lo); break;
		}
		if (!*p)
			break;
		p++;    /* the comma */
	}
	if (vrange_empty(&r))
		return range_fail("the range is empty: no version satisfies every clause",
				  s, s, ret_problem, ret_offset);
	*ret = r;
	return 0;
}

struct vrange vrange_of(const struct pyver *v)
{
	struct vrange r;

	r.lo = padded(v);
	r.hi = after(v);
	r.has_lo = r.has_hi = true;
	return r;
}

bool vrange_contains(const struct vrange *r, const struct pyver *v)
{
	struct pyver p = padded(v);

	return (!r->has_lo || pyver_cmp(&p, &r->lo) >= 0) &&
	       (!r->has_hi || pyver_cmp(&p, &r->hi) < 0);
}

bool vrange_empty(const struct vrange *r)
{
	return r->has_lo && r->has_hi && pyver_cmp(&r->lo, &r->hi) >= 0;
}

struct vrange vrange_intersect(const struct vrange *a, const struct vrange *b)
{
	struct vrange r = *a;

	if (b->has_lo)
		lower_to(&r, &b->lo);
	if (b->has_hi)
		upper_to(&r, &b->hi);
	return r;
}

bool vrange_meets(const struct vrange *a, const struct vrange *b)
{
	struct vrange x = vrange_intersect(a, b);

	return !vrange_empty(&x);
}

/* The last version before hi, shown at the precision that is exact: 3.14.5 -> "3.14.4",
 * 3.15.0 -> "3.14" (every 3.14.x), 4.0.0 -> "3". */
static const char *before(const struct pyver *hi, char *buf, size_t size)
{
	struct pyver v = *hi;

	if (v.part[2] > 0) {
		v.part[2]--;
		v.n = 3;
	} else if (v.part[1] > 0) {
		v.part[1]--;
		v.n = 2;
	} else {
		v.part[0] = v.part[0] > 0 ? v.part[0] - 1 : 0;
		v.n = 1;
	}
	return pyver_str(&v, buf, size);
}

const char *vrange_describe(const struct vrange *r, const struct vrange *within,
			    char *buf, size_t size)
{
	struct vrange x = vrange_intersect(r, within);
	char lo[32], hi[32];
	bool open_hi;

	buf[0] = '\0';
	if (vrange_empty(&x) || !x.has_lo || !x.has_hi)
		return buf;
	open_hi = within->has_hi && pyver_cmp(&x.hi, &within->hi) == 0;
	if (within->has_lo && pyver_cmp(&x.lo, &within->lo) == 0 && open_hi)
		return buf;
	pyver_str(&x.lo, lo, sizeof(lo));
	if (open_hi) {
		snprintf(buf, size, "%s+", lo);
	} else {
		struct pyver one = x.lo;
		one.part[2]++;
		if (pyver_cmp(&one, &x.hi) == 0)
			snprintf(buf, size, "%s", lo);
		else
			snprintf(buf, size, "%s\u2013%s", lo, before(&x.hi, hi, sizeof(hi)));
	}
	return buf;
}

/* ---- tool versions (PEP 440) ---- */

#define NUM_MAX 1000000000000L

static bool take_word(const char **p, const char *word)
{
	size_t n = strlen(word);

	if (strncasecmp(*p, word, n) != 0)
		return false;
	*p += n;
	return true;
}

static bool take_sep(const char **p)
{
	if (**p == '-' || **p == '_' || **p == '.') {
		(*p)++;
		return true;
	}
	return false;
}

/* Digits into *ret (0 when there are none, as PEP 440's implicit numbers). */
static int take_num(const char **p, long *ret)
{
	long x = 0;

	while (isdigit((unsigned char)**p)) {
		x = x * 10 + (**p - '0');
		if (x > NUM_MAX)
			return -EINVAL;
		(*p)++;
	}
	*ret = x;
	return 0;
}

int toolver_parse(const char *s, struct toolver *ret)
{
	struct toolver v;
	const char *p = s, *save;
	static const char *const pre_words[] = { "preview", "alpha", "beta", "pre", "rc", "a", "b", "c" };
	static const int pre_ranks[] = { -1, -3, -2, -1, -1, -3, -2, -1 };

	if (!s)
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	v.post = v.dev = -1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == 'v' || *p == 'V')
		p++;
	/* An epoch "N!": accepted, not compared (no tool of ours uses one). */
	save = p;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '!' && p > save)
		p++;
	else
		p = save;
	for (;;) {
		if (!isdigit((unsigned char)*p) || v.n >= 8)
			return -EINVAL;
		if (take_num(&p, &v.part[v.n++]) < 0)
			return -EINVAL;
		if (*p == '.' && isdigit((unsigned char)p[1])) {
			p++;
			continue;
		}
		break;
	}
	/* Pre-release: [sep](a|b|rc|...)[sep][N] */
	save = p;
	take_sep(&p);
	v.pre_rank = 0;
	for (size_t i = 0; i < sizeof(pre_words) / sizeof(pre_words[0]); i++) {
		if (take_word(&p, pre_words[i])) {
			v.pre_rank = pre_ranks[i];
			break;
		}
	}
	if (v.pre_rank) {
		const char *q = p;
		take_sep(&q);
		if (isdigit((unsigned char)*q))
			p = q;
		if (take_num(&p, &v.pre_num) < 0)
			return -EINVAL;
	} else {
		p = save;
	}
	/* Post-release: [sep](post|rev|r)[sep][N], or -N. */
	save = p;
	if (*p == '-' && isdigit((unsigned char)p[1])) {
		p++;
		if (take_num(&p, &v.post) < 0)
			return -EINVAL;
	} else {
		take_sep(&p);
		if (take_word(&p, "post") || take_word(&p, "rev") || take_word(&p, "r")) {
			const char *q = p;
			take_sep(&q);
			if (isdigit((unsigned char)*q))
				p = q;
			if (take_num(&p, &v.post) < 0)
				return -EINVAL;
		} else {
			p = save;
		}
	}
	/* Development release: [sep]dev[sep][N]. */
	save = p;
	take_sep(&p);
	if (take_word(&p, "dev")) {
		const char *q = p;
		take_sep(&q);
		if (isdigit((unsigned char)*q))
			p = q;
		if (take_num(&p, &v.dev) < 0)
			return -EINVAL;
	} else {
		p = save;
	}
	/* A local label is not compared. */
	if (*p == '+') {
		p++;
		if (!isalnum((unsigned char)*p))
			return -EINVAL;
		while (isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_')
			p++;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		return -EINVAL;
	if (!v.pre_rank && v.post < 0 && v.dev >= 0)
		v.pre_rank = -4;
	*ret = v;
	return 0;
}

static int cmp_long(long a, long b)
{
	return a < b ? -1 : a > b;
}

int toolver_cmp(const struct toolver *a, const struct toolver *b)
{
	int n = a->n > b->n ? a->n : b->n, c;

	for (int i = 0; i < n; i++)
		if ((c = cmp_long(i < a->n ? a->part[i] : 0, i < b->n ? b->part[i] : 0)))
			return c;
	if ((c = cmp_long(a->pre_rank, b->pre_rank)) || (c = cmp_long(a->pre_num, b->pre_num)) ||
	    (c = cmp_long(a->post, b->post)))
		return c;
	/* No dev part sorts after every dev part. */
	if (a->dev < 0 || b->dev < 0)
		return a->dev < 0 ? (b->dev < 0 ? 0 : 1) : -1;
	return cmp_long(a->dev, b->dev);
}

int toolver_cmp_str(const char *a, const char *b, bool *ret_ok)
{
	struct toolver x, y;

	if (toolver_parse(a, &x) < 0 || toolver_parse(b, &y) < 0) {
		if (ret_ok)
			*ret_ok = false;
		return 0;
	}
	if (ret_ok)
		*ret_ok = true;
	return toolver_cmp(&x, &y);
}
