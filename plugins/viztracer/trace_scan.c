/* Streaming summary of a viztracer trace: see trace_scan.h. */
#include "trace_scan.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "error.h"
#include "jscan.h"

#define MAX_IDS 65536   /* distinct threads/processes counted exactly up to this */

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int grow_slots(struct trace_stats *t)
{
	size_t n = t->n_slots ? t->n_slots * 2 : 1024;
	size_t *slots = malloc(n * sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		slots[i] = SIZE_MAX;
	for (size_t i = 0; i < t->n_fns; i++) {
		size_t j = hash(t->fns[i].name) & (n - 1);

		while (slots[j] != SIZE_MAX)
			j = (j + 1) & (n - 1);
		slots[j] = i;
	}
	free(t->slots);
	t->slots = slots;
	t->n_slots = n;
	return 0;
}

static struct trace_fn *fn_for(struct trace_stats *t, const char *name)
{
	size_t j;

	if ((t->n_fns + 1) * 2 > t->n_slots && grow_slots(t) < 0)
		return NULL;
	for (j = hash(name) & (t->n_slots - 1); t->slots[j] != SIZE_MAX;
	     j = (j + 1) & (t->n_slots - 1))
		if (strcmp(t->fns[t->slots[j]].name, name) == 0)
			return &t->fns[t->slots[j]];
	if (t->n_fns == t->cap_fns) {
		size_t cap = t->cap_fns ? t->cap_fns * 2 : 256;
		struct trace_fn *fns = realloc(t->fns, cap * sizeof(*fns));

		if (!fns)
			return NULL;
		t->fns = fns;
		t->cap_fns = cap;
	}
	t->fns[t->n_fns] = (struct trace_fn){ .name = strdup(name) };
	if (!t->fns[t->n_fns].name)
		return NULL;
	t->slots[j] = t->n_fns;
	return &t->fns[t->n_fns++];
}

/* Counts distinct ids (linear; exact up to MAX_IDS, which traces do not reach). */
static int add_id(unsigned long long **v, size_t *n, size_t *cap, unsigned long long id)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == id)
			return 0;
	if (*n >= MAX_IDS)
		return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		unsigned long long *nv = realloc(*v, c * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = id;
	return 0;
}

struct scan {
	struct jscan s;
	struct trace_stats *t;
	const char *name;
	int r;
};

static int bad(struct scan *sc, int err, const char *what)
{
	if (sc->r == 0) {
		if (err == EBADMSG && sc->s.err[0])
			sc->r = err_set(EBADMSG, "trace '%s': %s", sc->name, sc->s.err);
		else
			sc->r = err_set(err, "trace '%s': %s", sc->name, what);
	}
	return -1;
}


/* A pid or tid as a number to count: JSON gives a double, which may be anything in a
 * corrupt file; converting one out of range would be undefined. */
static unsigned long long id_of(double v)
{
	if (!isfinite(v) || v < -9.2e18 || v > 9.2e18)
		return 0;
	return (unsigned long long)(long long)v;
}
static int read_event(struct scan *sc)
{
	struct trace_stats *t = sc->t;
	char ph[8] = "", *name = NULL;
	double dur = NAN, ts = NAN, pid = 0, tid = 0;
	enum js_tok tok;
	int r = 0;

	while ((tok = jscan_next(&sc->s)) == JS_STR && sc->s.is_key) {
		char key[8];

		snprintf(key, sizeof(key), "%s", sc->s.str);
		tok = jscan_next(&sc->s);
		if (tok == JS_STR && strcmp(key, "ph") == 0) {
			snprintf(ph, sizeof(ph), "%s", sc->s.str);
		} else if (tok == JS_STR && strcmp(key, "name") == 0) {
			free(name);
			name = strdup(sc->s.str);
			if (!name) {
				r = bad(sc, ENOMEM, "out of memory");
				goto out;
			}
		} else if (tok == JS_NUM && strcmp(key, "dur") == 0) {
			dur = sc->s.num;
		} else if (tok == JS_NUM && strcmp(key, "ts") == 0) {
			ts = sc->s.num;
		} else if (tok == JS_NUM && strcmp(key, "pid") == 0) {
			pid = sc->s.num;
		} else if (tok == JS_NUM && strcmp(key, "tid") == 0) {
			tid = sc->s.num;
		} else if (jscan_skip(&sc->s, tok) < 0) {
			r = bad(sc, EBADMSG, "malformed event");
			goto out;
		}
	}
	if (tok != JS_OBJ_END) {
		r = bad(sc, EBADMSG, "an event is not an object");
		goto out;
	}
	t->events++;
	if (strcmp(ph, "M") != 0) {
		if (add_id(&t->pids, &t->n_pids, &t->cap_pids, id_of(pid)) < 0 ||
		    add_id(&t->tids, &t->n_tids, &t->cap_tids, (id_of(pid) << 32) ^ id_of(tid)) < 0) {
			r = bad(sc, ENOMEM, "out of memory");
			goto out;
		}
	}
	if (isfinite(ts)) {
		double end = ts + (isfinite(dur) && dur > 0 ? dur : 0);

		if (!t->have_ts || ts < t->first_ts)
			t->first_ts = ts;
		if (!t->have_ts || end > t->last_end)
			t->last_end = end;
		t->have_ts = true;
	}
	if (strcmp(ph, "X") == 0 && name && isfinite(dur) && dur >= 0) {
		struct trace_fn *f = fn_for(t, name);

		if (!f) {
			r = bad(sc, ENOMEM, "out of memory");
			goto out;
		}
		f->total_us += dur;
		if (dur > f->max_us)
			f->max_us = dur;
		f->calls++;
		t->complete_events++;
	}
out:
	free(name);
	return r;
}

static int read_metadata(struct scan *sc)
{
	enum js_tok tok;

	while ((tok = jscan_next(&sc->s)) == JS_STR && sc->s.is_key) {
		char key[16];

		snprintf(key, sizeof(key), "%s", sc->s.str);
		tok = jscan_next(&sc->s);
		if (strcmp(key, "overflow") == 0 && (tok == JS_TRUE || tok == JS_FALSE))
			sc->t->overflow = tok == JS_TRUE;
		else if (strcmp(key, "version") == 0 && tok == JS_STR)
			snprintf(sc->t->version, sizeof(sc->t->version), "%s", sc->s.str);
		else if (jscan_skip(&sc->s, tok) < 0)
			return bad(sc, EBADMSG, "malformed viztracer_metadata");
	}
	if (tok != JS_OBJ_END)
		return bad(sc, EBADMSG, "viztracer_metadata is not an object");
	sc->t->has_metadata = true;
	return 0;
}

/* The elements of an array of events, up to and including its closing bracket. */
static int read_events(struct scan *sc)
{
	enum js_tok tok;

	while ((tok = jscan_next(&sc->s)) == JS_OBJ)
		if (read_event(sc) < 0)
			return -1;
	if (tok != JS_ARR_END)
		return bad(sc, EBADMSG, "traceEvents is not an array of objects");
	return 0;
}

static int read_document(struct scan *sc)
{
	enum js_tok tok = jscan_next(&sc->s);

	if (tok == JS_ARR) {
		/* The trace format also allows a bare array of events. */
		if (read_events(sc) < 0)
			return -1;
	} else if (tok == JS_OBJ) {
		while ((tok = jscan_next(&sc->s)) == JS_STR && sc->s.is_key) {
			if (strcmp(sc->s.str, "traceEvents") == 0) {
				if (jscan_next(&sc->s) != JS_ARR)
					return bad(sc, EBADMSG, "traceEvents is not an array");
				if (read_events(sc) < 0)
					return -1;
			} else if (strcmp(sc->s.str, "viztracer_metadata") == 0) {
				if (jscan_next(&sc->s) != JS_OBJ)
					return bad(sc, EBADMSG,
						   "viztracer_metadata is not an object");
				if (read_metadata(sc) < 0)
					return -1;
			} else if (jscan_skip(&sc->s, jscan_next(&sc->s)) < 0) {
				return bad(sc, EBADMSG, "malformed JSON");
			}
		}
		if (tok != JS_OBJ_END)
			return bad(sc, EBADMSG, "malformed JSON");
	} else {
		return bad(sc, EBADMSG, "not a JSON object");
	}
	if (jscan_next(&sc->s) != JS_EOF)
		return bad(sc, EBADMSG, "data after the document");
	return 0;
}

static int scan(struct scan *sc, struct trace_stats *ret)
{
	struct trace_stats t = { 0 };

	sc->t = &t;
	read_document(sc);
	jscan_close(&sc->s);
	t.threads = t.n_tids;
	t.processes = t.n_pids;
	if (sc->r < 0) {
		trace_stats_free(&t);
		return sc->r;
	}
	*ret = t;
	return 0;
}

int trace_scan(const char *path, struct trace_stats *ret)
{
	struct scan *sc = calloc(1, sizeof(*sc));
	int r;

	if (!sc)
		return -ENOMEM;
	sc->name = path;
	r = jscan_open_file(&sc->s, path);
	if (r == 0)
		r = scan(sc, ret);
	free(sc);
	return r;
}

int trace_scan_mem(const void *buf, size_t len, const char *name, struct trace_stats *ret)
{
	struct scan *sc = calloc(1, sizeof(*sc));
	int r;

	if (!sc)
		return -ENOMEM;
	sc->name = name;
	jscan_open_mem(&sc->s, buf, len);
	r = scan(sc, ret);
	free(sc);
	return r;
}

void trace_stats_free(struct trace_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_fns; i++)
		free(s->fns[i].name);
	free(s->fns);
	free(s->slots);
	free(s->tids);
	free(s->pids);
	memset(s, 0, sizeof(*s));
}

static int by_total(const void *a, const void *b)
{
	const struct trace_fn *x = *(const struct trace_fn *const *)a;
	const struct trace_fn *y = *(const struct trace_fn *const *)b;

	if (x->total_us != y->total_us)
		return x->total_us < y->total_us ? 1 : -1;
	return strcmp(x->name, y->name);
}

char *trace_summary(const struct trace_stats *s, const char *file, size_t limit)
{
	const struct trace_fn **order = NULL;
	struct sbuf b = { 0 };
	double span = s->last_end > s->first_ts ? (s->last_end - s->first_ts) / 1e6 : 0;

	sbuf_printf(&b, "viztracer timeline%s%s: %zu events (%zu complete calls) over %.3f s, "
		    "%zu process%s, %zu thread%s\ntrace: %s (open with vizviewer, or at "
		    "https://ui.perfetto.dev)\n", s->version[0] ? " " : "", s->version, s->events,
		    s->complete_events, span, s->processes, s->processes == 1 ? "" : "es",
		    s->threads, s->threads == 1 ? "" : "s", file);
	if (s->overflow)
		sbuf_printf(&b, "\nWARNING: viztracer's circular buffer overflowed: the trace keeps "
			    "only the most recent entries; the start of the run is missing. Raise "
			    "--tracer_entries or filter (--min_duration, --ignore_c_function) with "
			    "--tool-arg.\n");
	if (s->n_fns) {
		order = malloc(s->n_fns * sizeof(*order));
		if (!order) {
			sbuf_free(&b);
			return NULL;
		}
		for (size_t i = 0; i < s->n_fns; i++)
			order[i] = &s->fns[i];
		qsort(order, s->n_fns, sizeof(*order), by_total);
		sbuf_printf(&b, "\nFunctions by total time in calls (inclusive; recursive calls "
			    "count again):\n%12s %10s %12s  %s\n", "total [ms]", "calls", "max [ms]",
			    "function");
		for (size_t i = 0; i < s->n_fns && i < limit; i++)
			sbuf_printf(&b, "%12.3f %10zu %12.3f  %s\n", order[i]->total_us / 1e3,
				    order[i]->calls, order[i]->max_us / 1e3, order[i]->name);
	} else {
		sbuf_printf(&b, "\nno complete calls were recorded\n");
	}
	free(order);
	if (b.err) {
		sbuf_free(&b);
		return NULL;
	}
	return b.s;
}
