/* `python -X importtime` output: parser, JSON and summary table (importtime_log.h). */
#include "importtime_log.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

#define PREFIX "import time:"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Reads a non-negative decimal number; advances *p. */
static bool number(const char **p, const char *end, long long *ret)
{
	const char *s = *p;
	long long v = 0;

	while (s < end && is_blank(*s))
		s++;
	if (s == end || *s < '0' || *s > '9')
		return false;
	while (s < end && *s >= '0' && *s <= '9') {
		if (v > (LLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s++ - '0');
	}
	while (s < end && is_blank(*s))
		s++;
	*p = s;
	*ret = v;
	return true;
}

/* Replaces bytes that are not well-formed UTF-8 by '?', so that the JSON can hold the
 * name (CPython's own names always are; other lines of the log need not be). */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	/* Overlong forms, surrogates, and code points past U+10FFFF. */
	if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0) ||
	    (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
		return 0;
	return n;
}

static void utf8_sanitize(unsigned char *s)
{
	while (*s) {
		size_t n = utf8_len(s);

		if (n == 0)
			*s++ = '?';
		else
			s += n;
	}
}

static int push(struct import_log *l, const char *name, size_t name_len, long long self,
		long long cum, int depth)
{
	struct import_entry *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;

		e = realloc(l->v, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		l->v = e;
		l->cap = cap;
	}
	e = &l->v[l->n];
	e->module = strndup(name, name_len);
	if (!e->module)
		return -ENOMEM;
	utf8_sanitize((unsigned char *)e->module);
	e->self_us = self;
	e->cumulative_us = cum;
	e->depth = depth;
	l->n++;
	return 0;
}

/* One line without its newline. Returns 1 for a record, 0 for a skipped line. */
static int parse_line(struct import_log *l, const char *s, const char *end)
{
	long long self, cum;
	const char *name;
	size_t spaces = 0;

	if ((size_t)(end - s) < sizeof(PREFIX) - 1 || memcmp(s, PREFIX, sizeof(PREFIX) - 1))
		return 0;
	s += sizeof(PREFIX) - 1;
	if (!number(&s, end, &self) || s == end || *s++ != '|')
		return 0;
	if (!number(&s, end, &cum) || s == end || *s++ != '|')
		return 0;
	/* One separating space, then two per level. */
	if (s == end || *s++ != ' ')
		return 0;
	for (name = s; name < end && *name == ' '; name++)
		spaces++;
	while (end > name && (end[-1] == '\r' || is_blank(end[-1])))
		end--;
	if (name == end || spaces % 2 || spaces / 2 > 10000)
		return 0;
	return push(l, name, (size_t)(end - name), self, cum, (int)(spaces / 2)) < 0 ? -1 : 1;
}

int import_log_parse(const char *text, size_t len, struct import_log *ret)
{
	struct import_log l = { 0 };
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		int r = parse_line(&l, p, eol);

		if (r < 0) {
			import_log_free(&l);
			return -ENOMEM;
		}
		/* The column header is not a stray line. */
		if (r == 0 && eol > p &&
		    !((size_t)(eol - p) >= sizeof(PREFIX " self") - 1 &&
		      memcmp(p, PREFIX " self", sizeof(PREFIX " self") - 1) == 0))
			l.skipped++;
		p = nl ? nl + 1 : end;
	}
	*ret = l;
	return 0;
}

void import_log_free(struct import_log *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].module);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

char *import_log_json(const struct import_log *l)
{
	json_t *o = json_object(), *a = json_array();
	long long top = 0;
	char *s = NULL;

	if (!o || !a)
		goto out;
	for (size_t i = 0; i < l->n; i++) {
		const struct import_entry *e = &l->v[i];
		json_t *j = json_pack("{s:s%, s:I, s:I, s:i}", "module", e->module,
				      strlen(e->module), "self_us", (json_int_t)e->self_us,
				      "cumulative_us", (json_int_t)e->cumulative_us, "depth", e->depth);

		if (!j || json_array_append_new(a, j) < 0)
			goto out;
		if (e->depth == 0)
			top += e->cumulative_us;
	}
	if (json_object_set_new(o, "source", json_string("python -X importtime")) < 0 ||
	    json_object_set_new(o, "count", json_integer((json_int_t)l->n)) < 0 ||
	    json_object_set_new(o, "skipped_lines", json_integer((json_int_t)l->skipped)) < 0 ||
	    json_object_set_new(o, "top_level_us", json_integer((json_int_t)top)) < 0 ||
	    json_object_set(o, "imports", a) < 0)
		goto out;
	s = json_dumps(o, JSON_INDENT(1) | JSON_ENSURE_ASCII);
out:
	json_decref(a);
	json_decref(o);
	return s;
}

static int by_cumulative(const void *a, const void *b)
{
	const struct import_entry *x = *(const struct import_entry *const *)a;
	const struct import_entry *y = *(const struct import_entry *const *)b;

	if (x->cumulative_us != y->cumulative_us)
		return x->cumulative_us < y->cumulative_us ? 1 : -1;
	if (x->self_us != y->self_us)
		return x->self_us < y->self_us ? 1 : -1;
	return strcmp(x->module, y->module);
}

char *import_log_summary(const struct import_log *l, size_t limit)
{
	const struct import_entry **order = NULL;
	struct sbuf b = { 0 };
	long long top = 0, self = 0;

	for (size_t i = 0; i < l->n; i++) {
		self += l->v[i].self_us;
		if (l->v[i].depth == 0)
			top += l->v[i].cumulative_us;
	}
	sbuf_printf(&b, "python -X importtime: %zu imports, %.3f s at top level (sum of the "
		    "cumulative times of imports made by the program itself), %.3f s in all "
		    "module bodies\n", l->n, (double)top / 1e6, (double)self / 1e6);
	if (l->skipped)
		sbuf_printf(&b, "(%zu other lines of the log were not import records)\n",
			    l->skipped);
	if (l->n == 0) {
		sbuf_printf(&b, "\nno imports were recorded\n");
		goto out;
	}
	order = malloc(l->n * sizeof(*order));
	if (!order) {
		sbuf_free(&b);
		return NULL;
	}
	for (size_t i = 0; i < l->n; i++)
		order[i] = &l->v[i];
	qsort(order, l->n, sizeof(*order), by_cumulative);
	sbuf_printf(&b, "\nimports by cumulative time, heaviest first%s:\n\n",
		    l->n > limit ? " (top rows only; all are in importtime.json)" : "");
	sbuf_printf(&b, "%15s %12s  %-50s %5s\n", "cumulative [us]", "self [us]", "module",
		    "depth");
	for (size_t i = 0; i < l->n && i < limit; i++)
		sbuf_printf(&b, "%15lld %12lld  %-50s %5d\n", order[i]->cumulative_us,
			    order[i]->self_us, order[i]->module, order[i]->depth);
out:
	free(order);
	if (b.err) {
		sbuf_free(&b);
		return NULL;
	}
	return b.s;
}
