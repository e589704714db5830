/* Comparing two runs (diff.h). Each side becomes a list of (normalised key, value)
 * entries; equal keys on one side are summed (two folders that normalise alike),
 * then the sides are joined on the key, then the fallbacks of diff.h pair what is left. */
#include "diff.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct entry {
	char *key;           /* normalised label: the join key */
	char *file;          /* normalised file */
	char *name;
	int64_t line;
	double value;
	bool matched;
};

struct side {
	struct entry *e;
	size_t n, cap;
	double total;
};

int diff_metric_parse(const char *s, enum diff_metric *ret)
{
	if (!strcmp(s, "cumtime") || !strcmp(s, "cumulative"))
		*ret = METRIC_CUMTIME;
	else if (!strcmp(s, "tottime"))
		*ret = METRIC_TOTTIME;
	else if (!strcmp(s, "calls") || !strcmp(s, "ncalls"))
		*ret = METRIC_CALLS;
	else if (!strcmp(s, "peak-memory"))
		*ret = METRIC_PEAK_MEMORY;
	else
		return err_set(EINVAL, "unknown metric '%s' (cumtime, tottime, calls or peak-memory)", s);
	return 0;
}

const char *diff_metric_name(enum diff_metric m)
{
	static const char *const names[] = { "cumtime", "tottime", "calls", "peak-memory" };
	return names[m];
}

static int parse_scaled(const char *s, const char *const *units, const double *scale,
			double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (size_t i = 0; units[i]; i++)
		if (!strcmp(end, units[i])) {
			*ret = v * scale[i];
			return 0;
		}
	return -EINVAL;
}

int diff_threshold_parse(const char *s, double *ret)
{
	static const char *const u[] = { "%", "", NULL };
	static const double k[] = { 0.01, 0.01 };

	if (parse_scaled(s, u, k, ret) < 0)
		return err_set(EINVAL, "threshold '%s' is not a percentage such as 10%%", s);
	return 0;
}

int diff_time_parse(const char *s, double *ret)
{
	static const char *const u[] = { "s", "ms", "us", "ns", "", NULL };
	static const double k[] = { 1, 1e-3, 1e-6, 1e-9, 1 };

	if (parse_scaled(s, u, k, ret) < 0)
		return err_set(EINVAL, "time '%s' is not a duration such as 5ms, 0.5s or 250us", s);
	return 0;
}

int diff_bytes_parse(const char *s, double *ret)
{
	static const char *const u[] = { "", "B", "K", "KiB", "M", "MiB", "G", "GiB", NULL };
	static const double k[] = { 1, 1, 1024, 1024, 1048576, 1048576, 1073741824, 1073741824 };

	if (parse_scaled(s, u, k, ret) < 0)
		return err_set(EINVAL, "size '%s' is not a size such as 1M, 512K or 100", s);
	return 0;
}

/* ---- normalising ---- */

static const char *after_last(const char *s, const char *needle)
{
	const char *p = NULL, *q = s;
	size_t n = strlen(needle);

	while ((q = strstr(q, needle))) {
		p = q + n;
		q += n;
	}
	return p;
}

/* "/usr/lib/python3.11/json/decoder.py" -> "json/decoder.py" */
static const char *after_stdlib(const char *s)
{
	const char *p = NULL, *q = s;

	while ((q = strstr(q, "/lib/python"))) {
		const char *r = q + strlen("/lib/python");
		while ((*r >= '0' && *r <= '9') || *r == '.')
			r++;
		if (*r == 't')   /* free-threaded builds: lib/python3.14t/ */
			r++;
		if (*r == '/')
			p = r + 1;
		q = r;
	}
	return p;
}

static bool root_applies(const char *file)
{
	return file[0] == '/' && !after_last(file, "site-packages/") &&
	       !after_last(file, "dist-packages/") && !after_stdlib(file);
}

void diff_normalise(const char *file, const char *root, char *buf, size_t size)
{
	const char *p;
	size_t rl = root ? strlen(root) : 0;

	if ((p = after_last(file, "site-packages/")) || (p = after_last(file, "dist-packages/")) ||
	    (p = after_stdlib(file)))
		snprintf(buf, size, "%s", p);
	else if (file[0] == '/' && rl && !strncmp(file, root, rl) && file[rl] == '/')
		snprintf(buf, size, "%s", file + rl + 1);
	else
		snprintf(buf, size, "%s", file);
}

/* The longest folder shared by every absolute path the other rules leave. */
static void common_root(const char *const *files, size_t n, char *root, size_t size)
{
	bool any = false;
	size_t len = 0;

	root[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *f = files[i];
		if (!root_applies(f))
			continue;
		if (!any) {
			const char *slash = strrchr(f, '/');
			len = (size_t)(slash - f);
			if (len >= size)
				len = size - 1;
			memcpy(root, f, len);
			root[len] = '\0';
			any = true;
			continue;
		}
		{
			size_t j = 0;
			while (j < len && f[j] == root[j])
				j++;
			if (j < len || (f[j] != '/' && f[j] != '\0')) {
				/* cut back to a folder boundary */
				while (j > 0 && root[j] != '/')
					j--;
				len = j;
				root[len] = '\0';
			}
		}
	}
}

/* ---- entries ---- */

static int side_add(struct side *s, const char *key, const char *file, const char *name,
		    int64_t line, double value)
{
	struct entry *e;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct entry *p = realloc(s->e, cap * sizeof(*p));
		if (!p)
			return err_set(ENOMEM, "out of memory");
		s->e = p;
		s->cap = cap;
	}
	e = &s->e[s->n];
	memset(e, 0, sizeof(*e));
	e->key = strdup(key);
	e->file = strdup(file);
	e->name = strdup(name);
	if (!e->key || !e->file || !e->name) {
		free(e->key);
		free(e->file);
		free(e->name);
		return err_set(ENOMEM, "out of memory");
	}
	e->line = line;
	e->value = value;
	s->n++;
	return 0;
}

static void side_free(struct side *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->e[i].key);
		free(s->e[i].file);
		free(s->e[i].name);
	}
	free(s->e);
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

/* Sorts by key and sums entries whose keys are equal. */
static void side_merge(struct side *s)
{
	size_t o = 0;

	qsort(s->e, s->n, sizeof(*s->e), cmp_key);
	for (size_t i = 0; i < s->n; i++) {
		if (o > 0 && !strcmp(s->e[o - 1].key, s->e[i].key)) {
			s->e[o - 1].value += s->e[i].value;
			free(s->e[i].key);
			free(s->e[i].file);
			free(s->e[i].name);
			continue;
		}
		s->e[o++] = s->e[i];
	}
	s->n = o;
}

static int root_of_pstats(const struct pstats *ps, char *root, size_t size)
{
	const char **files = malloc((ps->n_real + 1) * sizeof(*files));

	if (!files)
		return err_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < ps->n_real; i++)
		files[i] = ps->funcs[i].file;
	common_root(files, ps->n_real, root, size);
	free(files);
	return 0;
}

static int side_from_pstats(struct side *s, const struct pstats *ps, enum diff_metric m,
			    const char *root)
{
	char file[4096], key[8192];
	int k = 0;

	for (size_t i = 0; i < ps->n_real && k >= 0; i++) {
		const struct pstats_func *f = &ps->funcs[i];
		struct pstats_func copy = *f;
		double v = m == METRIC_TOTTIME ? f->tt : m == METRIC_CALLS ? (double)f->nc : f->ct;
		diff_normalise(f->file, root, file, sizeof(file));
		copy.file = file;
		pstats_label(&copy, key, sizeof(key));
		k = side_add(s, key, file, f->name, f->line, v);
	}
	s->total = m == METRIC_CALLS ? (double)ps->total_calls : ps->total_tt;
	return k;
}

/* Two checkouts' roots as found may differ in depth as well as place: a run that only
 * touched sdcm/ has .../sct/sdcm as its root. The folders both roots end with belong to
 * the project, not to the checkout: keep them. Equal roots are the same checkout. */
static void adjust_roots(char *a, char *b)
{
	size_t la = strlen(a), lb = strlen(b), cut_a = la, cut_b = lb;

	if (!strcmp(a, b))
		return;
	while (la && lb && a[la - 1] == b[lb - 1]) {
		la--;
		lb--;
		if (a[la] == '/' && b[lb] == '/') {
			cut_a = la;
			cut_b = lb;
		}
	}
	a[cut_a] = '\0';
	b[cut_b] = '\0';
}

/* memray's "function:file:line", scalene's "file:line function" */
static int side_add_location(struct side *s, const char *loc, bool memray, const char *root,
			     double value)
{
	char file[4096], buf[4096], key[8192], name[1024] = "";
	const char *c1, *c2;
	long long line = 0;

	if (memray) {
		c1 = strchr(loc, ':');
		c2 = strrchr(loc, ':');
		if (!c1 || c1 == c2)
			return side_add(s, loc, loc, loc, 0, value);
		snprintf(name, sizeof(name), "%.*s", (int)(c1 - loc), loc);
		snprintf(buf, sizeof(buf), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
		line = atoll(c2 + 1);
		diff_normalise(buf, root, file, sizeof(file));
		snprintf(key, sizeof(key), "%s:%s:%lld", name, file, line);
	} else {
		const char *sp = strchr(loc, ' ');
		c2 = sp ? sp : loc + strlen(loc);
		for (c1 = c2; c1 > loc && c1[-1] != ':'; c1--)
			;
		if (c1 == loc)
			return side_add(s, loc, loc, loc, 0, value);
		snprintf(buf, sizeof(buf), "%.*s", (int)(c1 - loc - 1), loc);
		line = atoll(c1);
		snprintf(name, sizeof(name), "%s", sp ? sp + 1 : "");
		diff_normalise(buf, root, file, sizeof(file));
		snprintf(key, sizeof(key), "%s:%lld %s", file, line, name);
	}
	return side_add(s, key, file, name, line, value);
}

static void root_of_memory(const struct profile *p, char *root, size_t size)
{
	const char *files[256];
	static char store[256][1024];
	size_t nf = 0;

	if (p->type == PROF_MEMRAY) {
		const struct memray_stats *m = p->memray;
		for (size_t i = 0; i < m->n_by_size && nf < 256; i++) {
			const char *c1 = strchr(m->by_size[i].location, ':');
			const char *c2 = strrchr(m->by_size[i].location, ':');
			if (c1 && c2 > c1) {
				snprintf(store[nf], sizeof(store[nf]), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
				files[nf] = store[nf];
				nf++;
			}
		}
	} else {
		const struct scalene_profile *sc = p->scalene;
		for (size_t i = 0; i < sc->n && nf < 256; i++) {
			const char *loc = sc->rows[i].location, *sp = strchr(loc, ' ');
			const char *c = sp ? sp : loc + strlen(loc);
			while (c > loc && c[-1] != ':')
				c--;
			if (c > loc) {
				snprintf(store[nf], sizeof(store[nf]), "%.*s", (int)(c - loc - 1), loc);
				files[nf] = store[nf];
				nf++;
			}
		}
	}
	common_root(files, nf, root, size);
}

static int side_from_memory(struct side *s, const struct profile *p, const char *root)
{
	int k = 0;

	if (p->type == PROF_MEMRAY) {
		const struct memray_stats *m = p->memray;
		for (size_t i = 0; i < m->n_by_size && k >= 0; i++)
			k = side_add_location(s, m->by_size[i].location, true, root,
					      (double)m->by_size[i].value);
		s->total = m->peak_memory >= 0 ? (double)m->peak_memory : 0;
	} else {
		const struct scalene_profile *sc = p->scalene;
		for (size_t i = 0; i < sc->n && k >= 0; i++)
			k = side_add_location(s, sc->rows[i].location, false, root,
					      sc->rows[i].peak_mb * 1048576.0);
		s->total = sc->max_footprint_mb >= 0 ? sc->max_footprint_mb * 1048576.0 : 0;
	}
	return k;
}

/* ---- matching ---- */

struct rows {
	struct diff_row *v;
	size_t n, cap;
};

static int row_add(struct rows *r, const struct entry *b, const struct entry *n)
{
	struct diff_row *row;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct diff_row *p = realloc(r->v, cap * sizeof(*p));
		if (!p)
			return err_set(ENOMEM, "out of memory");
		r->v = p;
		r->cap = cap;
	}
	row = &r->v[r->n];
	memset(row, 0, sizeof(*row));
	row->key = strdup(n ? n->key : b->key);
	if (!row->key)
		return err_set(ENOMEM, "out of memory");
	row->in_base = b != NULL;
	row->in_new = n != NULL;
	row->base = b ? b->value : 0;
	row->new = n ? n->value : 0;
	r->n++;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Path components two files share at their ends. */
static size_t common_suffix(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = 0;

	while (la && lb && a[la - 1] == b[lb - 1]) {
		la--;
		lb--;
		if (a[la] == '/')
			n++;
	}
	if ((la == 0 || a[la - 1] == '/') && (lb == 0 || b[lb - 1] == '/'))
		n++;
	return n;
}

static int match(struct side *b, struct side *n, struct rows *rows)
{
	size_t i = 0, j = 0;
	int k;

	/* 1: equal keys (both sorted) */
	while (i < b->n && j < n->n) {
		int c = strcmp(b->e[i].key, n->e[j].key);
		if (c == 0) {
			b->e[i].matched = n->e[j].matched = true;
			if ((k = row_add(rows, &b->e[i], &n->e[j])) < 0)
				return k;
			i++;
			j++;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
	/* The fallbacks compare every unmatched pair: bounded, so that two unrelated
	 * profiles of 100k functions each do not take minutes. */
	{
		size_t ub = 0, un = 0;
		for (i = 0; i < b->n; i++)
			ub += !b->e[i].matched;
		for (j = 0; j < n->n; j++)
			un += !n->e[j].matched;
		if (ub && un > 50000000 / ub)
			goto rest;
	}
	/* 2: same name, line and file name; the longest common path ending */
	for (j = 0; j < n->n; j++) {
		struct entry *ne = &n->e[j], *best = NULL;
		size_t best_len = 0;
		if (ne->matched)
			continue;
		for (i = 0; i < b->n; i++) {
			struct entry *be = &b->e[i];
			size_t l;
			if (be->matched || be->line != ne->line || strcmp(be->name, ne->name) ||
			    strcmp(base_name(be->file), base_name(ne->file)))
				continue;
			l = common_suffix(be->file, ne->file);
			if (l > best_len) {
				best = be;
				best_len = l;
			}
		}
		if (best) {
			best->matched = ne->matched = true;
			if ((k = row_add(rows, best, ne)) < 0)
				return k;
		}
	}
	/* 3: one function of that name in that file on each side: its line moved */
	for (j = 0; j < n->n; j++) {
		struct entry *ne = &n->e[j], *cand = NULL;
		size_t nb = 0, nn = 0;
		if (ne->matched || !strcmp(ne->file, "~"))
			continue;
		for (i = 0; i < b->n; i++)
			if (!b->e[i].matched && !strcmp(b->e[i].name, ne->name) &&
			    !strcmp(b->e[i].file, ne->file)) {
				cand = &b->e[i];
				nb++;
			}
		for (size_t q = 0; q < n->n; q++)
			if (!n->e[q].matched && !strcmp(n->e[q].name, ne->name) &&
			    !strcmp(n->e[q].file, ne->file))
				nn++;
		if (nb == 1 && nn == 1) {
			cand->matched = ne->matched = true;
			if ((k = row_add(rows, cand, ne)) < 0)
				return k;
		}
	}
rest:
	for (i = 0; i < b->n; i++)
		if (!b->e[i].matched && (k = row_add(rows, &b->e[i], NULL)) < 0)
			return k;
	for (j = 0; j < n->n; j++)
		if (!n->e[j].matched && (k = row_add(rows, NULL, &n->e[j])) < 0)
			return k;
	return 0;
}

static bool is_regression(const struct diff_row *r, const struct diff_opts *o)
{
	double change = r->new - r->base;
	double min = o->metric == METRIC_PEAK_MEMORY ? o->min_bytes :
		     o->metric == METRIC_CALLS ? 1 : o->min_time;

	if (!r->in_base || !r->in_new || change <= 0 || change < min)
		return false;
	return r->base == 0 || change > o->threshold * r->base;
}

static int cmp_row(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;
	double cx = fabs(x->new - x->base), cy = fabs(y->new - y->base);

	if (x->regression != y->regression)
		return x->regression ? -1 : 1;
	if (cx != cy)
		return cx > cy ? -1 : 1;
	return strcmp(x->key, y->key);
}

void diff_result_free(struct diff_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->rows[i].key);
	free(r->rows);
	free(r);
}

static const struct profile *pick(const struct run_data *d, enum diff_metric m)
{
	for (size_t i = 0; i < d->n; i++) {
		enum profile_type t = d->profiles[i].type;
		if (m == METRIC_PEAK_MEMORY ? (t == PROF_MEMRAY || t == PROF_SCALENE) : t == PROF_CPROFILE)
			return &d->profiles[i];
	}
	return NULL;
}

int diff_runs(const struct run_data *base, const struct run_data *new,
	      const struct diff_opts *o, struct diff_result **ret)
{
	const struct profile *pb = pick(base, o->metric), *pn = pick(new, o->metric);
	struct side sb = { 0 }, sn = { 0 };
	struct rows rows = { 0 };
	struct diff_result *r = NULL;
	char root_b[4096], root_n[4096];
	int k;

	if (!pb || !pn) {
		const struct run_data *d = pb ? new : base;
		return err_set(ENODATA, "'%s' holds no %s data to compare", d->in->path,
			       o->metric == METRIC_PEAK_MEMORY ? "memory (memray or scalene)" : "cProfile");
	}
	if (o->metric == METRIC_PEAK_MEMORY) {
		if (pb->type != pn->type) {
			k = err_set(EINVAL, "cannot compare %s memory data with %s's",
				    pb->type == PROF_MEMRAY ? "memray" : "scalene",
				    pn->type == PROF_MEMRAY ? "memray" : "scalene");
			goto out;
		}
		root_of_memory(pb, root_b, sizeof(root_b));
		root_of_memory(pn, root_n, sizeof(root_n));
		adjust_roots(root_b, root_n);
		if ((k = side_from_memory(&sb, pb, root_b)) < 0 || (k = side_from_memory(&sn, pn, root_n)) < 0)
			goto out;
	} else {
		if ((k = root_of_pstats(pb->ps, root_b, sizeof(root_b))) < 0 ||
		    (k = root_of_pstats(pn->ps, root_n, sizeof(root_n))) < 0)
			goto out;
		adjust_roots(root_b, root_n);
		if ((k = side_from_pstats(&sb, pb->ps, o->metric, root_b)) < 0 ||
		    (k = side_from_pstats(&sn, pn->ps, o->metric, root_n)) < 0)
			goto out;
	}
	side_merge(&sb);
	side_merge(&sn);
	if ((k = match(&sb, &sn, &rows)) < 0)
		goto out;
	r = calloc(1, sizeof(*r));
	if (!r) {
		k = err_set(ENOMEM, "out of memory");
		goto out;
	}
	r->base_name = base->in->path;
	r->new_name = new->in->path;
	r->metric = o->metric;
	r->total = (struct diff_row){ .key = (char *)"total", .base = sb.total, .new = sn.total,
				      .in_base = true, .in_new = true };
	r->total.regression = is_regression(&r->total, o);
	r->n_regressions = r->total.regression;
	for (size_t i = 0; i < rows.n; i++) {
		rows.v[i].regression = is_regression(&rows.v[i], o);
		r->n_regressions += rows.v[i].regression;
	}
	qsort(rows.v, rows.n, sizeof(*rows.v), cmp_row);
	r->rows = rows.v;
	r->n = rows.n;
	rows.v = NULL;
	rows.n = 0;
	*ret = r;
	k = 0;
out:
	for (size_t i = 0; i < rows.n; i++)
		free(rows.v[i].key);
	free(rows.v);
	side_free(&sb);
	side_free(&sn);
	return k;
}

/* ---- output ---- */

static void fmt_value(char *buf, size_t size, enum diff_metric m, double v)
{
	if (m == METRIC_PEAK_MEMORY)
		fmt_bytes(buf, size, v);
	else if (m == METRIC_CALLS)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.3f s", v);
}

static void fmt_change(char *buf, size_t size, enum diff_metric m, const struct diff_row *r)
{
	char v[64];
	double c = r->new - r->base;

	fmt_value(v, sizeof(v), m, fabs(c));
	if (!r->in_base)
		snprintf(buf, size, "new");
	else if (!r->in_new)
		snprintf(buf, size, "gone");
	else if (r->base > 0)
		snprintf(buf, size, "%c%s %+.1f%%", c < 0 ? '-' : '+', v, 100.0 * c / r->base);
	else
		snprintf(buf, size, "%c%s", c < 0 ? '-' : '+', v);
}

static size_t shown(const struct diff_result *r, const struct diff_opts *o)
{
	size_t n = o->top && o->top < r->n ? o->top : r->n;

	return n < r->n_regressions ? (r->n_regressions < r->n ? r->n_regressions : r->n) : n;
}

static void describe_limits(FILE *f, const struct diff_opts *o)
{
	char min[64];

	if (o->metric == METRIC_PEAK_MEMORY)
		fmt_bytes(min, sizeof(min), o->min_bytes);
	else if (o->metric == METRIC_CALLS)
		snprintf(min, sizeof(min), "1 call");
	else
		snprintf(min, sizeof(min), "%g ms", o->min_time * 1000);
	fprintf(f, "metric %s, threshold %g%%, minimum change %s", diff_metric_name(o->metric),
		o->threshold * 100, min);
}

static void write_text(FILE *f, const struct diff_result *r, const struct diff_opts *o)
{
	char b[64], n[64], c[96];
	size_t m = shown(r, o);

	fprintf(f, "sctprof diff: %s -> %s\n  ", r->base_name, r->new_name);
	describe_limits(f, o);
	fmt_value(b, sizeof(b), r->metric, r->total.base);
	fmt_value(n, sizeof(n), r->metric, r->total.new);
	fmt_change(c, sizeof(c), r->metric, &r->total);
	fprintf(f, "\n\n  total: %s -> %s (%s)%s\n\n", b, n, c, r->total.regression ? "  REGRESSION" : "");
	fprintf(f, "  %12s %12s  %-22s %s\n", "base", "new", "change", "function");
	for (size_t i = 0; i < m; i++) {
		const struct diff_row *row = &r->rows[i];
		fmt_value(b, sizeof(b), r->metric, row->base);
		fmt_value(n, sizeof(n), r->metric, row->new);
		fmt_change(c, sizeof(c), r->metric, row);
		fprintf(f, "  %12s %12s  %-22s %s%s\n", row->in_base ? b : "-", row->in_new ? n : "-", c,
			row->key, row->regression ? "  REGRESSION" : "");
	}
	if (m < r->n)
		fprintf(f, "  ... %zu more\n", r->n - m);
	fprintf(f, "\n%zu regression%s beyond the threshold\n", r->n_regressions,
		r->n_regressions == 1 ? "" : "s");
}

static void write_markdown(FILE *f, const struct diff_result *r, const struct diff_opts *o)
{
	char b[64], n[64], c[96];
	size_t m = shown(r, o);

	fprintf(f, "### sctprof diff: %s\n\n",
		r->n_regressions ? "regressions found" : "no regression");
	md_code(f, r->base_name);
	fputs(" → ", f);
	md_code(f, r->new_name);
	fputs("; ", f);
	describe_limits(f, o);
	fmt_value(b, sizeof(b), r->metric, r->total.base);
	fmt_value(n, sizeof(n), r->metric, r->total.new);
	fmt_change(c, sizeof(c), r->metric, &r->total);
	fprintf(f, "\n\n**total: %s → %s (%s)**%s\n\n", b, n, c,
		r->total.regression ? " — **regression**" : "");
	fputs("| base | new | change | function | |\n|---:|---:|---:|---|---|\n", f);
	for (size_t i = 0; i < m; i++) {
		const struct diff_row *row = &r->rows[i];
		fmt_value(b, sizeof(b), r->metric, row->base);
		fmt_value(n, sizeof(n), r->metric, row->new);
		fmt_change(c, sizeof(c), r->metric, row);
		fprintf(f, "| %s | %s | %s | ", row->in_base ? b : "-", row->in_new ? n : "-", c);
		md_code(f, row->key);
		fprintf(f, " | %s |\n", row->regression ? "**regression**" : "");
	}
	if (m < r->n)
		fprintf(f, "\n%zu more rows not shown.\n", r->n - m);
}

static json_t *row_json(const struct diff_row *r)
{
	json_t *o = json_object();
	const char *status = !r->in_base ? "new" : !r->in_new ? "gone" :
			     r->regression ? "regression" : "ok";

	json_object_set_new(o, "function", json_string(r->key));
	json_object_set_new(o, "base", r->in_base && isfinite(r->base) ? json_real(r->base) : json_null());
	json_object_set_new(o, "new", r->in_new && isfinite(r->new) ? json_real(r->new) : json_null());
	json_object_set_new(o, "change", isfinite(r->new - r->base) ? json_real(r->new - r->base) : json_null());
	json_object_set_new(o, "change_percent", r->in_base && r->in_new && r->base > 0 ?
			    json_real(100.0 * (r->new - r->base) / r->base) : json_null());
	json_object_set_new(o, "status", json_string(status));
	return o;
}

static int write_json(FILE *f, const struct diff_result *r, const struct diff_opts *o)
{
	json_t *root = json_object(), *rows = json_array();
	size_t m = shown(r, o);
	int k = 0;

	json_object_set_new(root, "sctprof_diff", json_integer(1));
	json_object_set_new(root, "base", json_string(r->base_name));
	json_object_set_new(root, "new", json_string(r->new_name));
	json_object_set_new(root, "metric", json_string(diff_metric_name(r->metric)));
	json_object_set_new(root, "threshold_percent", json_real(o->threshold * 100));
	json_object_set_new(root, "min_change", json_real(o->metric == METRIC_PEAK_MEMORY ? o->min_bytes :
		o->metric == METRIC_CALLS ? 1.0 : o->min_time));
	json_object_set_new(root, "regressions", json_integer((json_int_t)r->n_regressions));
	json_object_set_new(root, "total", row_json(&r->total));
	json_object_set_new(root, "functions_compared", json_integer((json_int_t)r->n));
	for (size_t i = 0; i < m; i++)
		json_array_append_new(rows, row_json(&r->rows[i]));
	json_object_set_new(root, "functions", rows);
	if (json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		k = err_set(EIO, "cannot write the JSON diff");
	else
		fputc('\n', f);
	json_decref(root);
	return k;
}

static void xml(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}

static void junit_case(FILE *f, const struct diff_result *r, const struct diff_opts *o,
		       const struct diff_row *row)
{
	char b[64], n[64], c[96], msg[512];

	fprintf(f, "    <testcase classname=\"sctprof.diff.%s\" name=\"", diff_metric_name(r->metric));
	xml(f, row->key);
	if (!row->regression) {
		fputs("\"/>\n", f);
		return;
	}
	fmt_value(b, sizeof(b), r->metric, row->base);
	fmt_value(n, sizeof(n), r->metric, row->new);
	fmt_change(c, sizeof(c), r->metric, row);
	snprintf(msg, sizeof(msg), "%s %s -> %s (%s), beyond %g%%", diff_metric_name(r->metric), b, n,
		 c, o->threshold * 100);
	fputs("\">\n      <failure type=\"regression\" message=\"", f);
	xml(f, msg);
	fputs("\">", f);
	xml(f, row->key);
	fputs(": ", f);
	xml(f, msg);
	fprintf(f, "\nbase: ");
	xml(f, r->base_name);
	fprintf(f, "\nnew: ");
	xml(f, r->new_name);
	fputs("</failure>\n    </testcase>\n", f);
}

/* One testcase for the total and one failing testcase per regressing function, so that
 * Jenkins' junit step lists each regression by name. */
static void write_junit(FILE *f, const struct diff_result *r, const struct diff_opts *o)
{
	size_t tests = 1 + (r->n_regressions - r->total.regression);

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"sctprof diff\" tests=\"%zu\" failures=\"%zu\">\n", tests,
		r->n_regressions);
	fprintf(f, "  <testsuite name=\"sctprof.diff.%s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n",
		diff_metric_name(r->metric), tests, r->n_regressions);
	junit_case(f, r, o, &r->total);
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].regression)
			junit_case(f, r, o, &r->rows[i]);
	fputs("  </testsuite>\n</testsuites>\n", f);
}

int diff_write(FILE *f, const struct diff_result *r, const struct diff_opts *o)
{
	switch (o->format) {
	case FMT_MARKDOWN:
		write_markdown(f, r, o);
		return 0;
	case FMT_JSON:
		return write_json(f, r, o);
	case FMT_JUNIT:
		write_junit(f, r, o);
		return 0;
	default:
		write_text(f, r, o);
		return 0;
	}
}
