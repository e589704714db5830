/* `sctprof report` rendering (report.h): one section per profile found, the run's
 * manifest facts first. Text follows pstats' own table so that people who know
 * print_stats() read it at once; Markdown is for Jenkins build descriptions and
 * pull-request comments; JSON is documented in docs/report.md. */
#include "report.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "flame.h"

int report_format_parse(const char *s, bool junit_ok, enum report_format *ret)
{
	if (!strcmp(s, "text"))
		*ret = FMT_TEXT;
	else if (!strcmp(s, "markdown") || !strcmp(s, "md"))
		*ret = FMT_MARKDOWN;
	else if (!strcmp(s, "json"))
		*ret = FMT_JSON;
	else if (!junit_ok && !strcmp(s, "svg"))
		*ret = FMT_SVG;
	else if (junit_ok && !strcmp(s, "junit"))
		*ret = FMT_JUNIT;
	else
		return err_set(EINVAL, "unknown format '%s' (text, markdown, json or %s)", s,
			       junit_ok ? "junit" : "svg");
	return 0;
}

static const char *const type_names[] = {
	[PROF_CPROFILE] = "cprofile", [PROF_MEMRAY] = "memray",
	[PROF_SCALENE] = "scalene", [PROF_IMPORTTIME] = "importtime",
};

static const char *const type_titles[] = {
	[PROF_CPROFILE] = "cProfile", [PROF_MEMRAY] = "memray",
	[PROF_SCALENE] = "scalene", [PROF_IMPORTTIME] = "import times",
};

void run_data_free(struct run_data *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		pstats_free(d->profiles[i].ps);
		memray_free(d->profiles[i].memray);
		scalene_free(d->profiles[i].scalene);
		importtime_free(d->profiles[i].imports);
	}
	free(d->profiles);
	json_decref(d->manifest);
	free(d);
}

/* A marshalled dict: '{' (0x7b, or 0xfb with FLAG_REF) then a key or the end. */
static bool looks_marshal(const char *buf, size_t len)
{
	const unsigned char *b = (const unsigned char *)buf;

	if (len < 2 || (b[0] & 0x7f) != '{')
		return false;
	return b[0] == 0xfb || strchr("0()r", b[1] & 0x7f) != NULL;
}

static int classify(const struct input_file *f, bool by_content, enum profile_type *ret,
		    bool *ret_manifest)
{
	const char *kind;

	*ret_manifest = false;
	if (!strcmp(f->name, "manifest.json")) {
		*ret_manifest = true;
		return 0;
	}
	if (!fnmatch("*.stats", f->name, 0) || !fnmatch("*.prof", f->name, 0) ||
	    !fnmatch("*.pstats", f->name, 0)) {
		*ret = PROF_CPROFILE;
		return 0;
	}
	if (!fnmatch("memray-stats*.json", f->name, 0)) {
		*ret = PROF_MEMRAY;
		return 0;
	} else if (!fnmatch("scalene*.json", f->name, 0)) {
		*ret = PROF_SCALENE;
		return 0;
	} else if (!fnmatch("importtime*.log", f->name, 0)) {
		*ret = PROF_IMPORTTIME;
		return 0;
	} else if (!by_content) {
		return -ENOENT;
	}
	if (looks_marshal(f->data, f->len)) {
		*ret = PROF_CPROFILE;
		return 0;
	}
	kind = profdata_json_kind(f->data, f->len);
	if (kind && !strcmp(kind, "memray"))
		*ret = PROF_MEMRAY;
	else if (kind && !strcmp(kind, "scalene"))
		*ret = PROF_SCALENE;
	else if (kind && !strcmp(kind, "manifest"))
		*ret_manifest = true;
	else if (memmem(f->data, f->len, "import time:", 12))
		*ret = PROF_IMPORTTIME;
	else
		return err_set(EBADMSG, "'%s' is not a profile sctprof can read (pstats, memray stats "
			       "JSON, scalene JSON, importtime log, run folder or bundle)", f->name);
	return 0;
}

int run_data_parse(const struct input *in, struct run_data **ret)
{
	return run_data_parse_flags(in, 0, ret);
}

int run_data_parse_flags(const struct input *in, unsigned pstats_flags, struct run_data **ret)
{
	struct run_data *d;
	int k;

	d = calloc(1, sizeof(*d));
	if (!d || !(d->profiles = calloc(in->n + 1, sizeof(*d->profiles)))) {
		free(d);
		return err_set(ENOMEM, "out of memory");
	}
	d->in = in;
	for (size_t i = 0; i < in->n; i++) {
		const struct input_file *f = &in->files[i];
		struct profile *p = &d->profiles[d->n];
		bool manifest;
		enum profile_type t = PROF_CPROFILE;

		k = classify(f, in->kind == INPUT_FILE, &t, &manifest);
		if (k == -ENOENT)
			continue;
		if (k < 0)
			goto fail;
		if (manifest) {
			json_error_t e;
			json_decref(d->manifest);
			d->manifest = json_loadb(f->data, f->len, 0, &e);
			if (!d->manifest || !json_is_object(d->manifest)) {
				k = err_set(EBADMSG, "'%s':%d:%d: not a JSON object: %s", f->name, e.line,
					    e.column, d->manifest ? "another JSON value" : e.text);
				goto fail;
			}
			continue;
		}
		p->type = t;
		p->name = f->name;
		switch (t) {
		case PROF_CPROFILE:
			k = pstats_parse_flags(f->data, f->len, f->name, pstats_flags, &p->ps);
			break;
		case PROF_MEMRAY:
			k = memray_parse(f->data, f->len, f->name, &p->memray);
			break;
		case PROF_SCALENE:
			k = scalene_parse(f->data, f->len, f->name, &p->scalene);
			break;
		case PROF_IMPORTTIME:
			k = importtime_parse(f->data, f->len, f->name, &p->imports);
			break;
		}
		if (k < 0)
			goto fail;
		d->n++;
	}
	*ret = d;
	return 0;
fail:
	run_data_free(d);
	return k;
}

void fmt_bytes(char *buf, size_t size, double b)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (fabs(b) >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%.0f B", b);
	else
		snprintf(buf, size, "%.1f %s", b, units[u]);
}

void md_code(FILE *f, const char *s)
{
	fputc('`', f);
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '`')
			fputc('\'', f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
	fputc('`', f);
}

/* ---- manifest facts ---- */

struct fact {
	const char *label;
	char value[512];
};

static const char *str_at(json_t *m, const char *a, const char *b)
{
	json_t *v = json_object_get(m, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *num_at(json_t *m, const char *a, const char *b)
{
	json_t *v = json_object_get(m, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_number(v) ? v : NULL;
}

static size_t manifest_facts(json_t *m, struct fact *facts, size_t max)
{
	size_t n = 0;
	const char *s, *v;
	json_t *j;

#define FACT(lbl, ...) do { if (n < max) { facts[n].label = (lbl); \
		snprintf(facts[n].value, sizeof(facts[n].value), __VA_ARGS__); n++; } } while (0)
	if (!m)
		return 0;
	if ((s = str_at(m, "run_id", NULL)))
		FACT("run", "%s", s);
	if ((s = str_at(m, "kind", NULL)))
		FACT("kind", "%s", s);
	s = str_at(m, "tool", "name");
	if (!s)
		s = str_at(m, "tool", NULL);
	v = str_at(m, "tool", "version");
	if (!v)
		v = str_at(m, "tool_version", NULL);
	if (s)
		FACT("tool", "%s%s%s", s, v ? " " : "", v ? v : "");
	s = str_at(m, "python", "version");
	if (!s)
		s = str_at(m, "python_version", NULL);
	v = str_at(m, "python", "path");
	if (!v)
		v = str_at(m, "python", NULL);
	if (s || v)
		FACT("python", "%s%s%s%s", s ? s : "", s && v ? " (" : "", v ? v : "", s && v ? ")" : "");
	j = num_at(m, "ended", "exit_status");
	if (!j)
		j = num_at(m, "exit_status", NULL);
	if (!j)
		j = num_at(m, "exit_code", NULL);
	if (j) {
		s = str_at(m, "ended", "signal_name");
		v = str_at(m, "ended", "how");
		FACT("exit", "%lld%s%s%s%s", (long long)json_number_value(j), s ? " (SIG" : "", s ? s : "",
		     s ? ")" : "", "");
		(void)v;
	}
	j = num_at(m, "duration_seconds", NULL);
	if (!j)
		j = num_at(m, "duration", NULL);
	if (j)
		FACT("duration", "%.3f s", json_number_value(j));
	if ((s = str_at(m, "start", NULL)))
		FACT("started", "%s", s);
	if ((s = str_at(m, "environment", "host")))
		FACT("host", "%s", s);
	j = json_object_get(json_object_get(m, "environment"), "sct");
	if ((s = str_at(j, "test_id", NULL)))
		FACT("SCT test id", "%s", s);
	j = json_object_get(json_object_get(m, "environment"), "jenkins");
	if ((s = str_at(j, "build_url", NULL)))
		FACT("build", "%s", s);
#undef FACT
	return n;
}

/* ---- rows selected for display ---- */

static bool keep(const struct report_opts *o, const char *label)
{
	return !o->filter || regexec(o->filter, label, 0, NULL, 0) == 0;
}

/* The pstats rows to show: filtered, cut to --top, sorted. Labels are made only for a
 * filter, and only the rows shown are sorted. */
static int pstats_rows(const struct pstats *ps, const struct report_opts *o, size_t **ret,
		       size_t *ret_n, size_t *ret_matched)
{
	size_t *order, n = 0;
	char label[4096];
	int k;

	order = malloc((ps->n_real + 1) * sizeof(*order));
	if (!order)
		return err_set(ENOMEM, "out of memory sorting the profile");
	for (size_t i = 0; i < ps->n_real; i++) {
		if (o->filter) {
			pstats_label(&ps->funcs[i], label, sizeof(label));
			if (!keep(o, label))
				continue;
		}
		order[n++] = i;
	}
	*ret_matched = n;
	if ((k = pstats_top(ps, o->sort, order, n, o->top && n > o->top ? o->top : n)) < 0) {
		free(order);
		return k;
	}
	if (o->top && n > o->top)
		n = o->top;
	*ret = order;
	*ret_n = n;
	return 0;
}

static const char *sort_words(enum pstats_sort s)
{
	return s == PSTATS_SORT_TOTTIME ? "internal time" :
	       s == PSTATS_SORT_CALLS ? "call count" : "cumulative time";
}

/* ---- text ---- */

static int text_cprofile(FILE *f, const struct profile *p, const struct report_opts *o)
{
	size_t *order, n, matched;
	char by[256];
	int k;

	if ((k = pstats_rows(p->ps, o, &order, &n, &matched)) < 0)
		return k;
	snprintf(by, sizeof(by), "%s; %zu of %zu functions%s", sort_words(o->sort), n,
		 p->ps->n_real, o->filter ? " matching the filter" : "");
	pstats_print_text(f, p->ps, order, n, by);
	free(order);
	return 0;
}

static void text_memray(FILE *f, const struct profile *p, const struct report_opts *o)
{
	const struct memray_stats *m = p->memray;
	char b[64];
	size_t shown = 0;

	if (m->peak_memory >= 0) {
		fmt_bytes(b, sizeof(b), (double)m->peak_memory);
		fprintf(f, "  Peak memory:        %s (%lld bytes)\n", b, (long long)m->peak_memory);
	}
	if (m->total_allocations >= 0)
		fprintf(f, "  Total allocations:  %lld\n", (long long)m->total_allocations);
	if (m->total_bytes >= 0) {
		fmt_bytes(b, sizeof(b), (double)m->total_bytes);
		fprintf(f, "  Total allocated:    %s\n", b);
	}
	fputs("\n  Top allocators by size:\n", f);
	for (size_t i = 0; i < m->n_by_size && (!o->top || shown < o->top); i++) {
		if (!keep(o, m->by_size[i].location))
			continue;
		fmt_bytes(b, sizeof(b), (double)m->by_size[i].value);
		fprintf(f, "  %12s  %s\n", b, m->by_size[i].location);
		shown++;
	}
	shown = 0;
	fputs("\n  Top allocators by number of allocations:\n", f);
	for (size_t i = 0; i < m->n_by_count && (!o->top || shown < o->top); i++) {
		if (!keep(o, m->by_count[i].location))
			continue;
		fprintf(f, "  %12lld  %s\n", (long long)m->by_count[i].value, m->by_count[i].location);
		shown++;
	}
}

static double scalene_cpu(const struct scalene_row *r)
{
	return r->cpu_python + r->cpu_c + r->cpu_sys;
}

/* Scalene rows: by CPU (cumulative, tottime) or by peak memory (calls has no meaning
 * here; it sorts by memory). Stable insertion order for ties. */
static size_t *scalene_order(const struct scalene_profile *s, const struct report_opts *o, size_t *ret_n)
{
	size_t *a = malloc((s->n + 1) * sizeof(*a)), n = 0;

	if (!a)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (keep(o, s->rows[i].location))
			a[n++] = i;
	for (size_t i = 1; i < n; i++) {
		size_t v = a[i], j = i;
		double kv = o->sort == PSTATS_SORT_CALLS ? s->rows[v].peak_mb : scalene_cpu(&s->rows[v]);
		while (j > 0) {
			const struct scalene_row *r = &s->rows[a[j - 1]];
			double kj = o->sort == PSTATS_SORT_CALLS ? r->peak_mb : scalene_cpu(r);
			if (kj >= kv)
				break;
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
	*ret_n = o->top && n > o->top ? o->top : n;
	return a;
}

static int text_scalene(FILE *f, const struct profile *p, const struct report_opts *o)
{
	const struct scalene_profile *s = p->scalene;
	size_t *order, n;

	if (s->elapsed >= 0)
		fprintf(f, "  Elapsed:            %.3f s\n", s->elapsed);
	if (s->max_footprint_mb >= 0)
		fprintf(f, "  Peak memory:        %.1f MB%s%s\n", s->max_footprint_mb,
			s->max_footprint_at ? " at " : "", s->max_footprint_at ? s->max_footprint_at : "");
	order = scalene_order(s, o, &n);
	if (!order)
		return err_set(ENOMEM, "out of memory");
	fputs("\n   cpu %  python %     c %   sys %   peak MB  malloc MB  location\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct scalene_row *r = &s->rows[order[i]];
		fprintf(f, "  %6.1f  %8.1f  %5.1f  %6.1f  %8.1f  %9.1f  %s\n", scalene_cpu(r),
			r->cpu_python, r->cpu_c, r->cpu_sys, r->peak_mb, r->malloc_mb, r->location);
	}
	free(order);
	return 0;
}

static size_t *import_order(const struct importtime *t, const struct report_opts *o, size_t *ret_n)
{
	size_t *a = malloc((t->n + 1) * sizeof(*a)), n = 0;
	bool by_self = o->sort == PSTATS_SORT_TOTTIME;

	if (!a)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (keep(o, t->rows[i].module))
			a[n++] = i;
	/* insertion sort is too slow for long logs; a merge sort keeps ties in order */
	{
		size_t *tmp = malloc((n + 1) * sizeof(*tmp));
		if (!tmp) {
			free(a);
			return NULL;
		}
		for (size_t w = 1; w < n; w *= 2) {
			for (size_t lo = 0; lo < n; lo += 2 * w) {
				size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
				size_t i = lo, j = mid, q = lo;
				while (i < mid && j < hi) {
					const struct import_row *x = &t->rows[a[i]], *y = &t->rows[a[j]];
					int64_t kx = by_self ? x->self_us : x->cum_us;
					int64_t ky = by_self ? y->self_us : y->cum_us;
					tmp[q++] = ky > kx ? a[j++] : a[i++];
				}
				while (i < mid)
					tmp[q++] = a[i++];
				while (j < hi)
					tmp[q++] = a[j++];
			}
			memcpy(a, tmp, n * sizeof(*a));
		}
		free(tmp);
	}
	*ret_n = o->top && n > o->top ? o->top : n;
	return a;
}

static int text_imports(FILE *f, const struct profile *p, const struct report_opts *o)
{
	const struct importtime *t = p->imports;
	size_t *order, n;

	fprintf(f, "  Total import time:  %.3f s in %zu imports\n\n", (double)t->total_us / 1e6, t->n);
	order = import_order(t, o, &n);
	if (!order)
		return err_set(ENOMEM, "out of memory");
	fputs("  cumulative      self  module\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct import_row *r = &t->rows[order[i]];
		fprintf(f, "  %8.1f ms %6.1f ms  %s\n", (double)r->cum_us / 1000, (double)r->self_us / 1000,
			r->module);
	}
	free(order);
	return 0;
}

static int write_text(FILE *f, const struct run_data *d, const struct report_opts *o)
{
	struct fact facts[16];
	size_t nf = manifest_facts(d->manifest, facts, 16);
	int k = 0;

	fprintf(f, "sctprof report: %s\n", d->in->path);
	for (size_t i = 0; i < nf; i++)
		fprintf(f, "  %-12s %s\n", facts[i].label, facts[i].value);
	if (d->n == 0)
		fputs("\nno profile data in it\n", f);
	for (size_t i = 0; i < d->n && k >= 0; i++) {
		const struct profile *p = &d->profiles[i];
		fprintf(f, "\n== %s (%s) ==\n", p->name, type_titles[p->type]);
		switch (p->type) {
		case PROF_CPROFILE: k = text_cprofile(f, p, o); break;
		case PROF_MEMRAY: text_memray(f, p, o); break;
		case PROF_SCALENE: k = text_scalene(f, p, o); break;
		case PROF_IMPORTTIME: k = text_imports(f, p, o); break;
		}
	}
	return k;
}

/* ---- Markdown ---- */

static void md_time(FILE *f, double s)
{
	fprintf(f, " %.3f |", s);
}

static int md_cprofile(FILE *f, const struct profile *p, const struct report_opts *o)
{
	const struct pstats *ps = p->ps;
	size_t *order, n, matched;
	char label[4096];
	int k;

	if ((k = pstats_rows(ps, o, &order, &n, &matched)) < 0)
		return k;
	fprintf(f, "**%lld function calls (%lld primitive) in %.3f s**; ordered by %s, %zu of %zu functions%s\n\n",
		(long long)ps->total_calls, (long long)ps->prim_calls, ps->total_tt,
		sort_words(o->sort), n, ps->n_real, o->filter ? " matching the filter" : "");
	fputs("| ncalls | tottime | percall | cumtime | percall | function |\n"
	      "|---:|---:|---:|---:|---:|---|\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct pstats_func *fn = &ps->funcs[order[i]];
		if (fn->nc != fn->cc)
			fprintf(f, "| %lld/%lld |", (long long)fn->nc, (long long)fn->cc);
		else
			fprintf(f, "| %lld |", (long long)fn->nc);
		md_time(f, fn->tt);
		if (fn->nc)
			md_time(f, fn->tt / (double)fn->nc);
		else
			fputs(" |", f);
		md_time(f, fn->ct);
		if (fn->cc)
			md_time(f, fn->ct / (double)fn->cc);
		else
			fputs(" |", f);
		pstats_label(fn, label, sizeof(label));
		fputc(' ', f);
		md_code(f, label);
		fputs(" |\n", f);
	}
	free(order);
	return 0;
}

static void md_memray(FILE *f, const struct profile *p, const struct report_opts *o)
{
	const struct memray_stats *m = p->memray;
	char b[64];
	size_t shown = 0;

	if (m->peak_memory >= 0) {
		fmt_bytes(b, sizeof(b), (double)m->peak_memory);
		fprintf(f, "- **peak memory: %s**\n", b);
	}
	if (m->total_allocations >= 0)
		fprintf(f, "- total allocations: %lld\n", (long long)m->total_allocations);
	if (m->total_bytes >= 0) {
		fmt_bytes(b, sizeof(b), (double)m->total_bytes);
		fprintf(f, "- total allocated: %s\n", b);
	}
	fputs("\n| allocated | location |\n|---:|---|\n", f);
	for (size_t i = 0; i < m->n_by_size && (!o->top || shown < o->top); i++) {
		if (!keep(o, m->by_size[i].location))
			continue;
		fmt_bytes(b, sizeof(b), (double)m->by_size[i].value);
		fprintf(f, "| %s | ", b);
		md_code(f, m->by_size[i].location);
		fputs(" |\n", f);
		shown++;
	}
}

static int md_scalene(FILE *f, const struct profile *p, const struct report_opts *o)
{
	const struct scalene_profile *s = p->scalene;
	size_t *order, n;

	if (s->elapsed >= 0)
		fprintf(f, "- elapsed: %.3f s\n", s->elapsed);
	if (s->max_footprint_mb >= 0) {
		fprintf(f, "- **peak memory: %.1f MB**", s->max_footprint_mb);
		if (s->max_footprint_at) {
			fputs(" at ", f);
			md_code(f, s->max_footprint_at);
		}
		fputc('\n', f);
	}
	order = scalene_order(s, o, &n);
	if (!order)
		return err_set(ENOMEM, "out of memory");
	fputs("\n| cpu % | python % | c % | sys % | peak MB | malloc MB | location |\n"
	      "|---:|---:|---:|---:|---:|---:|---|\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct scalene_row *r = &s->rows[order[i]];
		fprintf(f, "| %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | ", scalene_cpu(r), r->cpu_python,
			r->cpu_c, r->cpu_sys, r->peak_mb, r->malloc_mb);
		md_code(f, r->location);
		fputs(" |\n", f);
	}
	free(order);
	return 0;
}

static int md_imports(FILE *f, const struct profile *p, const struct report_opts *o)
{
	const struct importtime *t = p->imports;
	size_t *order, n;

	fprintf(f, "**total import time %.3f s** in %zu imports\n\n", (double)t->total_us / 1e6, t->n);
	order = import_order(t, o, &n);
	if (!order)
		return err_set(ENOMEM, "out of memory");
	fputs("| cumulative ms | self ms | module |\n|---:|---:|---|\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct import_row *r = &t->rows[order[i]];
		fprintf(f, "| %.1f | %.1f | ", (double)r->cum_us / 1000, (double)r->self_us / 1000);
		md_code(f, r->module);
		fputs(" |\n", f);
	}
	free(order);
	return 0;
}

static int write_markdown(FILE *f, const struct run_data *d, const struct report_opts *o)
{
	struct fact facts[16];
	size_t nf = manifest_facts(d->manifest, facts, 16);
	int k = 0;

	fputs("### sctprof report: ", f);
	md_code(f, d->in->path);
	fputs("\n\n", f);
	if (nf) {
		fputs("| | |\n|---|---|\n", f);
		for (size_t i = 0; i < nf; i++) {
			fprintf(f, "| %s | ", facts[i].label);
			md_code(f, facts[i].value);
			fputs(" |\n", f);
		}
		fputc('\n', f);
	}
	if (d->n == 0)
		fputs("No profile data in it.\n", f);
	for (size_t i = 0; i < d->n && k >= 0; i++) {
		const struct profile *p = &d->profiles[i];
		fputs("#### ", f);
		md_code(f, p->name);
		fprintf(f, " (%s)\n\n", type_titles[p->type]);
		switch (p->type) {
		case PROF_CPROFILE: k = md_cprofile(f, p, o); break;
		case PROF_MEMRAY: md_memray(f, p, o); break;
		case PROF_SCALENE: k = md_scalene(f, p, o); break;
		case PROF_IMPORTTIME: k = md_imports(f, p, o); break;
		}
		fputc('\n', f);
	}
	return k;
}

/* ---- JSON ---- */

/* json_real() refuses NaN and infinities (a corrupt profile may hold them): null. */
static json_t *jreal(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *per_call(double t, int64_t n)
{
	return n ? jreal(t / (double)n) : json_null();
}

static int json_cprofile(json_t *o, const struct profile *p, const struct report_opts *opt)
{
	const struct pstats *ps = p->ps;
	size_t *order, n, matched;
	json_t *a = json_array();
	char label[4096];
	int k;

	if (!a)
		return err_set(ENOMEM, "out of memory");
	json_object_set_new(o, "total_calls", json_integer(ps->total_calls));
	json_object_set_new(o, "primitive_calls", json_integer(ps->prim_calls));
	json_object_set_new(o, "total_time", jreal(ps->total_tt));
	json_object_set_new(o, "functions_total", json_integer((json_int_t)ps->n_real));
	json_object_set_new(o, "sort", json_string(opt->sort == PSTATS_SORT_TOTTIME ? "tottime" :
		opt->sort == PSTATS_SORT_CALLS ? "calls" : "cumulative"));
	json_object_set_new(o, "functions", a);
	if ((k = pstats_rows(ps, opt, &order, &n, &matched)) < 0)
		return k;
	json_object_set_new(o, "functions_matched", json_integer((json_int_t)matched));
	for (size_t i = 0; i < n; i++) {
		const struct pstats_func *fn = &ps->funcs[order[i]];
		json_t *r;
		pstats_label(fn, label, sizeof(label));
		r = json_object();
		json_object_set_new(r, "name", json_string(label));
		json_object_set_new(r, "file", json_string(fn->file));
		json_object_set_new(r, "line", json_integer(fn->line));
		json_object_set_new(r, "function", json_string(fn->name));
		json_object_set_new(r, "ncalls", json_integer(fn->nc));
		json_object_set_new(r, "primitive_calls", json_integer(fn->cc));
		json_object_set_new(r, "tottime", jreal(fn->tt));
		json_object_set_new(r, "tottime_per_call", per_call(fn->tt, fn->nc));
		json_object_set_new(r, "cumtime", jreal(fn->ct));
		json_object_set_new(r, "cumtime_per_call", per_call(fn->ct, fn->cc));
		json_array_append_new(a, r);
	}
	free(order);
	return 0;
}

static json_t *int_or_null(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static void json_memray(json_t *o, const struct profile *p, const struct report_opts *opt)
{
	const struct memray_stats *m = p->memray;
	json_t *s = json_array(), *c = json_array();
	size_t shown = 0;

	json_object_set_new(o, "peak_memory", int_or_null(m->peak_memory));
	json_object_set_new(o, "total_allocations", int_or_null(m->total_allocations));
	json_object_set_new(o, "total_bytes_allocated", int_or_null(m->total_bytes));
	for (size_t i = 0; i < m->n_by_size && (!opt->top || shown < opt->top); i++)
		if (keep(opt, m->by_size[i].location)) {
			json_array_append_new(s, json_pack("{s:s, s:I}", "location", m->by_size[i].location,
							   "bytes", (json_int_t)m->by_size[i].value));
			shown++;
		}
	shown = 0;
	for (size_t i = 0; i < m->n_by_count && (!opt->top || shown < opt->top); i++)
		if (keep(opt, m->by_count[i].location)) {
			json_array_append_new(c, json_pack("{s:s, s:I}", "location", m->by_count[i].location,
							   "count", (json_int_t)m->by_count[i].value));
			shown++;
		}
	json_object_set_new(o, "top_by_size", s);
	json_object_set_new(o, "top_by_count", c);
}

static int json_scalene(json_t *o, const struct profile *p, const struct report_opts *opt)
{
	const struct scalene_profile *s = p->scalene;
	json_t *a = json_array();
	size_t *order, n;

	json_object_set_new(o, "elapsed_time", s->elapsed >= 0 ? json_real(s->elapsed) : json_null());
	json_object_set_new(o, "max_footprint_mb", s->max_footprint_mb >= 0 ?
			    json_real(s->max_footprint_mb) : json_null());
	json_object_set_new(o, "max_footprint_at", s->max_footprint_at ?
			    json_string(s->max_footprint_at) : json_null());
	json_object_set_new(o, "functions", a);
	order = scalene_order(s, opt, &n);
	if (!order)
		return err_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct scalene_row *r = &s->rows[order[i]];
		json_array_append_new(a, json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:f}",
			"location", r->location, "cpu_percent", scalene_cpu(r),
			"cpu_percent_python", r->cpu_python, "cpu_percent_c", r->cpu_c,
			"cpu_percent_sys", r->cpu_sys, "peak_mb", r->peak_mb, "malloc_mb", r->malloc_mb));
	}
	free(order);
	return 0;
}

static int json_imports(json_t *o, const struct profile *p, const struct report_opts *opt)
{
	const struct importtime *t = p->imports;
	json_t *a = json_array();
	size_t *order, n;

	json_object_set_new(o, "total_us", json_integer(t->total_us));
	json_object_set_new(o, "imports_total", json_integer((json_int_t)t->n));
	json_object_set_new(o, "imports", a);
	order = import_order(t, opt, &n);
	if (!order)
		return err_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct import_row *r = &t->rows[order[i]];
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:i}", "module", r->module,
			"self_us", (json_int_t)r->self_us, "cumulative_us", (json_int_t)r->cum_us,
			"depth", r->depth));
	}
	free(order);
	return 0;
}

static int write_json(FILE *f, const struct run_data *d, const struct report_opts *o)
{
	static const char *const kinds[] = { "file", "folder", "bundle" };
	json_t *root = json_object(), *profiles = json_array();
	int k = 0;

	if (!root || !profiles) {
		json_decref(root);
		json_decref(profiles);
		return err_set(ENOMEM, "out of memory");
	}
	json_object_set_new(root, "sctprof_report", json_integer(1));
	json_object_set_new(root, "source", json_string(d->in->path));
	json_object_set_new(root, "source_kind", json_string(kinds[d->in->kind]));
	json_object_set_new(root, "manifest", d->manifest ? json_incref(d->manifest) : json_null());
	json_object_set_new(root, "profiles", profiles);
	for (size_t i = 0; i < d->n && k >= 0; i++) {
		const struct profile *p = &d->profiles[i];
		json_t *po = json_object();
		json_object_set_new(po, "file", json_string(p->name));
		json_object_set_new(po, "type", json_string(type_names[p->type]));
		json_array_append_new(profiles, po);
		switch (p->type) {
		case PROF_CPROFILE: k = json_cprofile(po, p, o); break;
		case PROF_MEMRAY: json_memray(po, p, o); break;
		case PROF_SCALENE: k = json_scalene(po, p, o); break;
		case PROF_IMPORTTIME: k = json_imports(po, p, o); break;
		}
	}
	if (k >= 0 && json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) < 0)
		k = err_set(EIO, "cannot write the JSON report");
	if (k >= 0)
		fputc('\n', f);
	json_decref(root);
	return k;
}

int report_write(FILE *f, const struct run_data *d, const struct report_opts *o)
{
	switch (o->format) {
	case FMT_MARKDOWN:
		return write_markdown(f, d, o);
	case FMT_JSON:
		return write_json(f, d, o);
	case FMT_SVG:
		for (size_t i = 0; i < d->n; i++)
			if (d->profiles[i].type == PROF_CPROFILE) {
				char title[512];
				snprintf(title, sizeof(title), "%s: cumulative time, callers above callees",
					 d->profiles[i].name);
				return flame_write_svg(f, d->profiles[i].ps, title);
			}
		return err_set(ENODATA, "'%s' holds no cProfile data to draw", d->in->path);
	default:
		return write_text(f, d, o);
	}
}
