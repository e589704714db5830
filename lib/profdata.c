/* Readers for memray stats JSON, scalene JSON and importtime logs (profdata.h). Field
 * names follow memray's reporters/stats.py (`memray stats --json`) and scalene's
 * --json output; fields that are missing are reported as absent, not as errors, so that
 * other versions of either tool still give a report. */
#include "profdata.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static json_t *load(const char *buf, size_t len, const char *what, int *ret)
{
	json_error_t e;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);

	if (!j)
		*ret = err_set(EBADMSG, "'%s':%d:%d: not valid JSON: %s", what, e.line, e.column, e.text);
	else if (!json_is_object(j)) {
		json_decref(j);
		j = NULL;
		*ret = err_set(EBADMSG, "'%s': a JSON object expected", what);
	}
	return j;
}

static int64_t int_or(json_t *o, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v) && json_real_value(v) >= -9e18 && json_real_value(v) <= 9e18)
		return (int64_t)json_real_value(v);
	return dflt;
}

static double num_or(json_t *o, const char *key, double dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : dflt;
}

static int memray_rows(json_t *a, const char *field, struct memray_row **ret, size_t *ret_n,
		       const char *what)
{
	struct memray_row *rows;
	size_t n = json_is_array(a) ? json_array_size(a) : 0, m = 0;

	rows = calloc(n + 1, sizeof(*rows));
	if (!rows)
		return err_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(a, i), *loc = json_object_get(it, "location");
		if (!json_is_string(loc) || !json_is_number(json_object_get(it, field)))
			continue;
		rows[m].location = strdup(json_string_value(loc));
		if (!rows[m].location) {
			for (size_t j = 0; j < m; j++)
				free(rows[j].location);
			free(rows);
			return err_set(ENOMEM, "out of memory");
		}
		rows[m].value = int_or(it, field, 0);
		m++;
	}
	*ret = rows;
	*ret_n = m;
	return 0;
}

void memray_free(struct memray_stats *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_by_size; i++)
		free(m->by_size[i].location);
	for (size_t i = 0; i < m->n_by_count; i++)
		free(m->by_count[i].location);
	free(m->by_size);
	free(m->by_count);
	free(m);
}

int memray_parse(const char *buf, size_t len, const char *what, struct memray_stats **ret)
{
	struct memray_stats *m = NULL;
	json_t *j;
	int k = 0;

	if (!(j = load(buf, len, what, &k)))
		return k;
	if (!json_object_get(j, "metadata") && !json_object_get(j, "total_num_allocations")) {
		k = err_set(EBADMSG, "'%s': not memray stats JSON (no 'metadata' or "
			    "'total_num_allocations')", what);
		goto out;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		k = err_set(ENOMEM, "out of memory");
		goto out;
	}
	m->peak_memory = int_or(json_object_get(j, "metadata"), "peak_memory", -1);
	m->total_allocations = int_or(j, "total_num_allocations", -1);
	m->total_bytes = int_or(j, "total_bytes_allocated", -1);
	if ((k = memray_rows(json_object_get(j, "top_allocations_by_size"), "size", &m->by_size,
			     &m->n_by_size, what)) < 0 ||
	    (k = memray_rows(json_object_get(j, "top_allocations_by_count"), "count", &m->by_count,
			     &m->n_by_count, what)) < 0)
		goto out;
	*ret = m;
	m = NULL;
	k = 0;
out:
	memray_free(m);
	json_decref(j);
	return k;
}

void scalene_free(struct scalene_profile *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->rows[i].location);
	free(s->rows);
	free(s->max_footprint_at);
	free(s);
}

static int scalene_add(struct scalene_profile *s, size_t *cap, const char *file, json_t *it,
		       bool function)
{
	json_t *line = json_object_get(it, "line");
	struct scalene_row *r;
	const char *text = json_is_string(line) ? json_string_value(line) : "";
	size_t tl = strlen(text);
	char *loc;

	if (s->n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct scalene_row *p = realloc(s->rows, c * sizeof(*p));
		if (!p)
			return err_set(ENOMEM, "out of memory");
		s->rows = p;
		*cap = c;
	}
	while (tl && (text[tl - 1] == '\n' || text[tl - 1] == ' '))
		tl--;
	while (tl && (*text == ' ' || *text == '\t')) {
		text++;
		tl--;
	}
	if (asprintf(&loc, "%s:%lld %s%.*s", file, (long long)int_or(it, "lineno", 0),
		     function ? "" : "| ", (int)(tl > 80 ? 80 : tl), text) < 0)
		return err_set(ENOMEM, "out of memory");
	r = &s->rows[s->n++];
	r->location = loc;
	r->cpu_python = num_or(it, "n_cpu_percent_python", 0);
	r->cpu_c = num_or(it, "n_cpu_percent_c", 0);
	r->cpu_sys = num_or(it, "n_sys_percent", 0);
	r->peak_mb = num_or(it, "n_peak_mb", 0);
	r->malloc_mb = num_or(it, "n_malloc_mb", 0);
	return 0;
}

int scalene_parse(const char *buf, size_t len, const char *what, struct scalene_profile **ret)
{
	struct scalene_profile *s = NULL;
	json_t *j, *files, *fv;
	const char *fname;
	size_t cap = 0;
	int k = 0;

	if (!(j = load(buf, len, what, &k)))
		return k;
	files = json_object_get(j, "files");
	/* scalene writes {} when the program ended before its first sample */
	if (!json_is_object(files) && json_object_size(j) > 0) {
		k = err_set(EBADMSG, "'%s': not scalene JSON (no 'files' object)", what);
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		k = err_set(ENOMEM, "out of memory");
		goto out;
	}
	s->elapsed = num_or(j, "elapsed_time_sec", -1);
	s->max_footprint_mb = num_or(j, "max_footprint_mb", -1);
	if (json_is_string(json_object_get(j, "max_footprint_fname")) &&
	    asprintf(&s->max_footprint_at, "%s:%lld",
		     json_string_value(json_object_get(j, "max_footprint_fname")),
		     (long long)int_or(j, "max_footprint_lineno", 0)) < 0) {
		s->max_footprint_at = NULL;
		k = err_set(ENOMEM, "out of memory");
		goto out;
	}
	json_object_foreach(files, fname, fv) {
		json_t *fns = json_object_get(fv, "functions"), *lines = json_object_get(fv, "lines");
		bool any = false;
		size_t i;
		json_t *it;

		json_array_foreach(fns, i, it) {
			if (!json_is_object(it))
				continue;
			if ((k = scalene_add(s, &cap, fname, it, true)) < 0)
				goto out;
			any = true;
		}
		if (any)
			continue;
		json_array_foreach(lines, i, it) {
			if (!json_is_object(it))
				continue;
			if ((k = scalene_add(s, &cap, fname, it, false)) < 0)
				goto out;
		}
	}
	*ret = s;
	s = NULL;
	k = 0;
out:
	scalene_free(s);
	json_decref(j);
	return k;
}

const char *profdata_json_kind(const char *buf, size_t len)
{
	json_t *j = json_loadb(buf, len, 0, NULL);
	const char *kind = NULL;

	if (json_is_object(j)) {
		if (json_object_get(j, "total_num_allocations") ||
		    json_object_get(j, "top_allocations_by_size"))
			kind = "memray";
		else if (json_is_object(json_object_get(j, "files")) &&
			 (json_object_get(j, "elapsed_time_sec") || json_object_get(j, "max_footprint_mb")))
			kind = "scalene";
		else if (json_object_get(j, "run_id") && json_object_get(j, "artifacts"))
			kind = "manifest";
	}
	json_decref(j);
	return kind;
}

void importtime_free(struct importtime *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->rows[i].module);
	free(t->rows);
	free(t);
}

static bool parse_us(const char *s, size_t n, int64_t *ret)
{
	int64_t v = 0;
	size_t i = 0;

	while (i < n && s[i] == ' ')
		i++;
	if (i == n)
		return false;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	while (i < n && s[i] == ' ')
		i++;
	if (i != n)
		return false;
	*ret = v;
	return true;
}

/* "import time:       357 |        357 |   _io": other lines (the program's own stderr,
 * the header) are skipped; a line that starts like one but does not parse is an error. */
int importtime_parse(const char *buf, size_t len, const char *what, struct importtime **ret)
{
	static const char prefix[] = "import time:";
	struct importtime *t;
	size_t cap = 0, lineno = 0;
	const char *p = buf, *end = buf + len;
	int k;

	t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(ENOMEM, "out of memory");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		const char *b1, *b2, *name;
		struct import_row r = { 0 };
		size_t spaces = 0, nlen;

		lineno++;
		if ((size_t)(le - p) < sizeof(prefix) - 1 || memcmp(p, prefix, sizeof(prefix) - 1) != 0)
			goto next;
		p += sizeof(prefix) - 1;
		b1 = memchr(p, '|', (size_t)(le - p));
		b2 = b1 ? memchr(b1 + 1, '|', (size_t)(le - b1 - 1)) : NULL;
		if (!b1 || !b2) {
			k = err_set(EBADMSG, "'%s':%zu: an importtime line without two '|'", what, lineno);
			goto fail;
		}
		if (!parse_us(p, (size_t)(b1 - p), &r.self_us) ||
		    !parse_us(b1 + 1, (size_t)(b2 - b1 - 1), &r.cum_us)) {
			/* the header: "self [us] | cumulative | imported package" */
			if (memmem(p, (size_t)(b1 - p), "self", 4))
				goto next;
			k = err_set(EBADMSG, "'%s':%zu: importtime times are not numbers", what, lineno);
			goto fail;
		}
		name = b2 + 1;
		if (name < le && *name == ' ')
			name++;
		while (name < le && *name == ' ') {
			spaces++;
			name++;
		}
		nlen = (size_t)(le - name);
		while (nlen && (name[nlen - 1] == '\r' || name[nlen - 1] == ' '))
			nlen--;
		if (nlen == 0) {
			k = err_set(EBADMSG, "'%s':%zu: importtime line without a module", what, lineno);
			goto fail;
		}
		r.depth = (int)(spaces / 2);
		r.module = strndup(name, nlen);
		if (!r.module) {
			k = err_set(ENOMEM, "out of memory");
			goto fail;
		}
		if (t->n == cap) {
			size_t c = cap ? cap * 2 : 256;
			struct import_row *q = realloc(t->rows, c * sizeof(*q));
			if (!q) {
				free(r.module);
				k = err_set(ENOMEM, "out of memory");
				goto fail;
			}
			t->rows = q;
			cap = c;
		}
		if (__builtin_add_overflow(t->total_us, r.self_us, &t->total_us)) {
			free(r.module);
			k = err_set(EBADMSG, "'%s':%zu: import times too large", what, lineno);
			goto fail;
		}
		t->rows[t->n++] = r;
next:
		p = nl ? nl + 1 : end;
	}
	if (t->n == 0) {
		k = err_set(EBADMSG, "'%s': no 'import time:' lines (is it `python -X importtime` output?)",
			    what);
		goto fail;
	}
	*ret = t;
	return 0;
fail:
	importtime_free(t);
	return k;
}
