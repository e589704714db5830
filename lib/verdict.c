/* What the matrix says for one interpreter: a verdict per tool (matrix_evaluate), the
 * tool a kind picks (matrix_choose), and the same facts as JSON and as SCT's markdown
 * table. The rules are in docs/matrix.md, "The verdict". */
#include "matrix.h"
#include "error.h"
#include "strutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Replaces *slot with s (which may be NULL: allocation failures are caught at the end
 * by a check of the fields that must be set). */
static void set(char **slot, char *s)
{
	free(*slot);
	*slot = s;
}

void verdict_free(struct verdict *v)
{
	if (!v)
		return;
	free(v->tool);
	free(v->kind);
	free(v->mode);
	free(v->version);
	free(v->executable);
	free(v->range);
	free(v->reason);
	free(v->hint);
	free(v->note);
	free(v->issue);
	free(v->min_version);
	free(v->python);
	free(v->python_version);
	free(v->platform);
	strv_free(&v->passed_tools);
	strv_free(&v->passed_reasons);
	*v = (struct verdict){ 0 };
}

const char *verdict_word(const struct verdict *v)
{
	if (v->status == COMPAT_UNSUPPORTED)
		return "refused";
	if (v->installed == 0)
		return "not-installed";
	return v->status == COMPAT_UNTESTED ? "untested" : "usable";
}

/* Whether the rows of t leave no gap in q. */
static bool covered(const struct matrix_tool *t, const struct vrange *q)
{
	struct pyver cur = q->lo;

	for (size_t step = 0; step <= t->n_rows; step++) {
		const struct matrix_row *hit = NULL;

		for (size_t i = 0; i < t->n_rows && !hit; i++)
			if (vrange_contains(&t->rows[i].range, &cur))
				hit = &t->rows[i];
		if (!hit)
			return false;
		if (!hit->range.has_hi)
			return true;
		cur = hit->range.hi;
		if (pyver_cmp(&cur, &q->hi) >= 0)
			return true;
	}
	return false;
}

static const char *package_name(const struct matrix_tool *t)
{
	return t->pypi ? t->pypi : t->dist ? t->dist : t->executable ? t->executable : t->name;
}

static char *install_hint(const struct matrix_tool *t, const struct pyinfo *py, const char *min)
{
	char spec[256];

	if (min)
		snprintf(spec, sizeof(spec), "'%s>=%s'", package_name(t), min);
	else
		snprintf(spec, sizeof(spec), "%s", package_name(t));
	if (py->uv_profiling_group)
		return xasprintf("uv sync --group profiling");
	if (py->path)
		return xasprintf("uv pip install --python %s %s", py->path, spec);
	return xasprintf("uv pip install %s", spec);
}

static char *upgrade_hint(const struct matrix_tool *t, const struct pyinfo *py, const char *min)
{
	if (py->uv_profiling_group)
		return xasprintf("uv lock --upgrade-package %s && uv sync --group profiling",
				 package_name(t));
	return install_hint(t, py, min);
}

static char *platform_list(unsigned bits)
{
	static const char *const names[] = { "linux", "darwin", "win32" };
	char buf[64] = "";

	for (size_t i = 0; i < 3; i++) {
		size_t len = strlen(buf);
		if (bits & (1u << i))
			snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? ", " : "", names[i]);
	}
	return strdup(buf);
}

int matrix_evaluate(const struct matrix *m, const struct matrix_tool *t,
		    const struct pyinfo *py, const char *platform, struct verdict *ret)
{
	struct verdict v = { 0 };
	struct vrange q = vrange_of(&py->ver);
	const struct matrix_row *worst = NULL;
	size_t n_meet = 0;
	char ver[32];
	int r = 0;

	(void)m;
	pyver_str(&py->ver, ver, sizeof(ver));
	v.tool = strdup(t->name);
	v.platform = strdup(platform);
	v.python = dup_or_null(py->path);
	v.python_version = strdup(py->version ? py->version : ver);
	if (!v.tool || !v.platform || !v.python_version || (py->path && !v.python)) {
		r = -ENOMEM;
		goto out;
	}

	/* 1. The row (for a series, the least favourable row) that holds the version. */
	for (size_t i = 0; i < t->n_rows; i++) {
		if (!vrange_meets(&t->rows[i].range, &q))
			continue;
		n_meet++;
		if (!worst || t->rows[i].status > worst->status)
			worst = &t->rows[i];
	}
	if (!worst) {
		v.status = COMPAT_UNTESTED;
		set(&v.reason, xasprintf("the matrix has no row for Python %s", v.python_version));
	} else {
		v.status = worst->status;
		v.range = dup_or_null(worst->range_text);
		v.note = dup_or_null(worst->note);
		v.issue = dup_or_null(worst->issue);
		v.min_version = dup_or_null(worst->min_version);
		if (n_meet > 1) {
			/* A series whose rows differ: say which part of it is which. */
			char *all = NULL;
			for (size_t i = 0; i < t->n_rows; i++) {
				char desc[64], *next;
				if (!vrange_meets(&t->rows[i].range, &q))
					continue;
				vrange_describe(&t->rows[i].range, &q, desc, sizeof(desc));
				next = xasprintf("%s%s%s %s%s%s", all ? all : "", all ? "; " : "", desc,
						 compat_status_name(t->rows[i].status),
						 t->rows[i].note ? ": " : "",
						 t->rows[i].note ? t->rows[i].note : "");
				free(all);
				all = next;
			}
			set(&v.reason, all);
		} else {
			set(&v.reason, dup_or_null(worst->note));
		}
		if (!covered(t, &q) && v.status == COMPAT_SUPPORTED) {
			v.status = COMPAT_UNTESTED;
			set(&v.reason, xasprintf("the matrix has no row for part of Python %s",
						 v.python_version));
		}
	}

	/* 2. The platform. */
	if (!(t->platforms & matrix_platform_bit(platform))) {
		char *list = platform_list(t->platforms);
		v.status = COMPAT_UNSUPPORTED;
		set(&v.reason, xasprintf("%s does not run on %s (%s only)", t->name, platform,
					 list ? list : ""));
		set(&v.hint, xasprintf("use another tool or kind on %s", platform));
		free(list);
	}

	/* 3. Installed, and which version. */
	if (!py->probed) {
		v.installed = -1;
	} else if (t->stdlib) {
		v.installed = 1;
		v.version = dup_or_null(py->version);
	} else {
		/* With dist, the distribution decides: a Python-level tool on PATH but not in
		 * this interpreter's site-packages would run another interpreter. A program
		 * alone (py-spy is one) is installed wherever it is found; its version comes
		 * from its PyPI distribution when that is in site-packages. */
		const char *dist = t->dist ? t->dist : t->pypi;
		char *dver = NULL;
		int found = 0;
		if (dist && (found = python_dist(py, dist, &dver)) < 0) {
			r = found;
			goto out;
		}
		if (t->executable)
			v.executable = python_executable(py, t->executable);
		if (t->dist) {
			v.installed = found > 0;
		} else {
			v.installed = v.executable != NULL;
			if (!v.installed) {
				free(dver);
				dver = NULL;
			}
		}
		v.version = dver;
	}
	if (v.installed == 1 && v.min_version && !t->stdlib && v.status != COMPAT_UNSUPPORTED) {
		if (v.version) {
			bool ok = false;
			int c = toolver_cmp_str(v.version, v.min_version, &ok);
			if (ok && c < 0) {
				v.status = COMPAT_UNSUPPORTED;
				set(&v.reason, xasprintf("%s %s is older than %s, the first version for "
							 "Python %s", t->name, v.version, v.min_version,
							 v.python_version));
				set(&v.hint, upgrade_hint(t, py, v.min_version));
			}
		} else if (v.status == COMPAT_SUPPORTED) {
			v.status = COMPAT_UNTESTED;
			set(&v.reason, xasprintf("version unknown ('%s' is not from a package in this "
						 "interpreter's site-packages); Python %s needs %s %s or later",
						 v.executable ? v.executable : t->name, v.python_version,
						 t->name, v.min_version));
			set(&v.hint, install_hint(t, py, v.min_version));
		}
	}

	/* 4. ptrace, for sampling profilers on this very machine. */
	if (t->needs_ptrace && v.status != COMPAT_UNSUPPORTED &&
	    !strcmp(platform, python_host_platform()) && py->ptrace.verdict != PTRACE_OK) {
		if (py->ptrace.verdict == PTRACE_NO)
			v.status = COMPAT_UNSUPPORTED;
		else if (v.status == COMPAT_SUPPORTED)
			v.status = COMPAT_UNTESTED;
		set(&v.reason, xasprintf("needs ptrace: %s", py->ptrace.reason));
		set(&v.hint, strdup(py->ptrace.hint));
	}

	if (v.installed == 0 && v.status != COMPAT_UNSUPPORTED) {
		set(&v.reason, strdup("not installed"));
		set(&v.hint, install_hint(t, py, v.min_version));
	}
	v.usable = v.installed != 0 && v.status != COMPAT_UNSUPPORTED;
out:
	if (r < 0) {
		verdict_free(&v);
		return r;
	}
	*ret = v;
	return 0;
}

/* "refused: REASON (tracking URL)", "not installed", for the passed-over list. */
static char *why_not(const struct verdict *v)
{
	if (v->status == COMPAT_UNSUPPORTED)
		return xasprintf("refused: %s%s%s%s", v->reason ? v->reason : "unsupported",
				 v->issue ? " (tracking " : "", v->issue ? v->issue : "",
				 v->issue ? ")" : "");
	if (v->installed == 0)
		return xasprintf("not installed");
	return xasprintf("%s", verdict_word(v));
}

static int pass_over(struct verdict *into, const char *tool, const char *why)
{
	int r;

	if ((r = strv_push(&into->passed_tools, tool)) < 0)
		return r;
	return strv_push(&into->passed_reasons, why);
}

static void strv_truncate(struct strv *s, size_t n)
{
	while (s->n > n) {
		free(s->v[--s->n]);
		s->v[s->n] = NULL;
	}
}

static bool kind_lists(const struct matrix *m, const struct matrix_kind *k, const struct matrix_tool *t)
{
	for (size_t i = 0; i < k->n_entries; i++)
		if (&m->tools[k->entries[i].tool] == t)
			return true;
	return false;
}

static char *names_of_kinds(const struct matrix *m)
{
	char buf[512] = "";

	for (size_t i = 0; i < m->n_kinds; i++) {
		size_t len = strlen(buf);
		snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? ", " : "", m->kinds[i].name);
	}
	return strdup(buf);
}

static int choose_forced(const struct matrix *m, const char *kind, const struct pyinfo *py,
			 const char *platform, const char *name, bool force, struct verdict *ret)
{
	const struct matrix_tool *t = matrix_tool(m, name);
	const struct matrix_kind *k = NULL;
	struct verdict v = { 0 };
	int r;

	if (!t)
		return err_set(EINVAL, "unknown tool '%s' (the matrix '%s' has no such tool)", name, m->path);
	if (t->viewer)
		return err_set(EINVAL, "'%s' is a viewer, not a profiler", name);
	if (kind) {
		k = matrix_kind(m, kind);
		if (!k) {
			char *list = names_of_kinds(m);
			r = err_set(EINVAL, "unknown kind '%s' (kinds: %s)", kind, list ? list : "");
			free(list);
			return r;
		}
		if (!kind_lists(m, k, t))
			return err_set(EINVAL, "'%s' is not a tool of kind '%s' in the matrix", name, kind);
	} else {
		for (size_t i = 0; i < m->n_kinds && !k; i++)
			if (kind_lists(m, &m->kinds[i], t))
				k = &m->kinds[i];
	}
	if ((r = matrix_evaluate(m, t, py, platform, &v)) < 0)
		return r;
	v.forced = true;
	if (k) {
		v.kind = strdup(k->name);
		for (size_t i = 0; i < k->n_entries; i++)
			if (&m->tools[k->entries[i].tool] == t && k->entries[i].mode)
				v.mode = strdup(k->entries[i].mode);
	}
	if (m->has_backend && !m->has_backend(t->name, k ? k->name : NULL)) {
		r = err_set(ENOSYS, "'%s' has no backend%s%s in this build of sctprof", t->name,
			    k ? " for kind " : "", k ? k->name : "");
		goto out;
	}
	if (v.installed == 0) {
		r = err_set(ENOPKG, "'%s' is not installed for '%s' (hint: %s)", t->name,
			    py->path ? py->path : "this Python", v.hint ? v.hint : "install it");
		goto out;
	}
	if (v.status == COMPAT_UNSUPPORTED && !force) {
		r = err_set(ENOTSUP, "'%s' does not work on Python %s: %s%s%s (--force runs it anyway)",
			    t->name, v.python_version, v.reason ? v.reason : "the matrix says unsupported",
			    v.issue ? "; tracking " : "", v.issue ? v.issue : "");
		goto out;
	}
	r = 0;
out:
	if (r < 0) {
		verdict_free(&v);
		return r;
	}
	*ret = v;
	return 0;
}

int matrix_choose(const struct matrix *m, const char *kind, const struct pyinfo *py,
		  const char *platform, const char *forced_tool, bool force, struct verdict *ret)
{
	const struct matrix_kind *k;
	struct verdict passed = { 0 }, pick = { 0 }, fallback = { 0 };
	char *summary = NULL, *install = NULL;
	bool any_refused = false, any_nobackend = false, have_pick = false, have_fallback = false;
	size_t fallback_at = 0;
	int r = 0;

	if (forced_tool)
		return choose_forced(m, kind, py, platform, forced_tool, force, ret);
	k = matrix_kind(m, kind);
	if (!k) {
		char *list = names_of_kinds(m);
		r = err_set(EINVAL, "unknown kind '%s' (kinds: %s)", kind ? kind : "", list ? list : "");
		free(list);
		return r;
	}
	for (size_t i = 0; i < k->n_entries; i++) {
		const struct matrix_tool *t = &m->tools[k->entries[i].tool];
		struct verdict v = { 0 };
		char *why = NULL, *next;

		if ((r = matrix_evaluate(m, t, py, platform, &v)) < 0)
			goto out;
		if (m->has_backend && !m->has_backend(t->name, k->name)) {
			any_nobackend = true;
			why = strdup("no backend in this build");
		} else if (v.usable) {
			pick = v;
			have_pick = true;
			set(&pick.mode, dup_or_null(k->entries[i].mode));
			break;
		} else {
			why = why_not(&v);
			if (v.installed == 0 && !install)
				install = dup_or_null(v.hint);
			if (v.installed != 0 && v.status == COMPAT_UNSUPPORTED) {
				any_refused = true;
				if (force && !have_fallback) {
					/* --force: the first installed one, refused or not. */
					fallback = v;
					v = (struct verdict){ 0 };
					have_fallback = true;
					fallback_at = passed.passed_tools.n;
					set(&fallback.mode, dup_or_null(k->entries[i].mode));
				}
			}
		}
		verdict_free(&v);
		next = why ? xasprintf("%s%s%s: %s", summary ? summary : "", summary ? "; " : "",
				       t->name, why) : NULL;
		r = next ? pass_over(&passed, t->name, why) : -ENOMEM;
		free(why);
		free(summary);
		summary = next;
		if (r < 0)
			goto out;
	}
	if (!have_pick && have_fallback) {
		pick = fallback;
		fallback = (struct verdict){ 0 };
		pick.forced = true;
		have_pick = true;
		strv_truncate(&passed.passed_tools, fallback_at);
		strv_truncate(&passed.passed_reasons, fallback_at);
	}
	if (!have_pick) {
		int e = any_refused ? ENOTSUP : any_nobackend && !install ? ENOSYS : ENOPKG;
		r = err_set(e, "no usable tool for kind '%s' on Python %s: %s%s%s%s%s", kind,
			    py->version ? py->version : "?", summary ? summary : "",
			    install ? " (hint: " : "", install ? install : "", install ? ")" : "",
			    any_refused ? "; --force runs a refused one anyway" : "");
		goto out;
	}
	pick.kind = strdup(kind);
	pick.passed_tools = passed.passed_tools;
	pick.passed_reasons = passed.passed_reasons;
	passed.passed_tools = (struct strv)STRV_INIT;
	passed.passed_reasons = (struct strv)STRV_INIT;
	if (!pick.kind)
		r = -ENOMEM;
out:
	verdict_free(&passed);
	verdict_free(&fallback);
	free(summary);
	free(install);
	if (r < 0) {
		verdict_free(&pick);
		return r;
	}
	*ret = pick;
	return 0;
}

/* ---- JSON ---- */

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *verdict_to_json(const struct verdict *v)
{
	json_t *o = json_object(), *passed = json_array();

	if (!o || !passed) {
		json_decref(o);
		json_decref(passed);
		return NULL;
	}
	for (size_t i = 0; i < v->passed_tools.n && i < v->passed_reasons.n; i++) {
		json_t *p = json_object();
		json_object_set_new(p, "tool", json_string(v->passed_tools.v[i]));
		json_object_set_new(p, "reason", json_string(v->passed_reasons.v[i]));
		json_array_append_new(passed, p);
	}
	json_object_set_new(o, "tool", jstr(v->tool));
	json_object_set_new(o, "kind", jstr(v->kind));
	json_object_set_new(o, "mode", jstr(v->mode));
	json_object_set_new(o, "status", json_string(compat_status_name(v->status)));
	json_object_set_new(o, "symbol", json_string(compat_status_symbol(v->status)));
	json_object_set_new(o, "installed", v->installed < 0 ? json_null() : json_boolean(v->installed));
	json_object_set_new(o, "version", jstr(v->version));
	json_object_set_new(o, "executable", jstr(v->executable));
	json_object_set_new(o, "usable", json_boolean(v->usable));
	json_object_set_new(o, "verdict", json_string(verdict_word(v)));
	json_object_set_new(o, "forced", json_boolean(v->forced));
	json_object_set_new(o, "range", jstr(v->range));
	json_object_set_new(o, "reason", jstr(v->reason));
	json_object_set_new(o, "hint", jstr(v->hint));
	json_object_set_new(o, "note", jstr(v->note));
	json_object_set_new(o, "issue", jstr(v->issue));
	json_object_set_new(o, "min_version", jstr(v->min_version));
	json_object_set_new(o, "python", jstr(v->python));
	json_object_set_new(o, "python_version", jstr(v->python_version));
	json_object_set_new(o, "platform", jstr(v->platform));
	json_object_set_new(o, "passed_over", passed);
	return o;
}

/* ---- markdown ---- */

struct buf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->failed = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

/* A table cell: '|' would end it. */
static void put_cell(struct buf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '|')
			put(b, "\\|");
		else
			put(b, "%c", *p);
	}
}

char *matrix_markdown(const struct matrix *m, const struct pyver *v)
{
	struct vrange q = vrange_of(v);
	struct buf b = { 0 };
	char ver[32];

	put(&b, "| Tool | Python %s | Notes |\n|---|---|---|\n", pyver_str(v, ver, sizeof(ver)));
	for (size_t i = 0; i < m->n_tools; i++) {
		const struct matrix_tool *t = &m->tools[i];
		const struct matrix_row *meet[16];
		char desc[16][64];
		size_t n = 0;

		if (!t->markdown)
			continue;
		for (size_t j = 0; j < t->n_rows && n < 16; j++) {
			if (!vrange_meets(&t->rows[j].range, &q))
				continue;
			vrange_describe(&t->rows[j].range, &q, desc[n], sizeof(desc[n]));
			meet[n++] = &t->rows[j];
		}
		/* Rows in the order of the versions they cover, whatever the file's order. */
		for (size_t a = 1; a < n; a++)
			for (size_t c = a; c > 0 && meet[c - 1]->range.has_lo &&
			     (!meet[c]->range.has_lo ||
			      pyver_cmp(&meet[c]->range.lo, &meet[c - 1]->range.lo) < 0); c--) {
				const struct matrix_row *tr = meet[c];
				char td[64];
				meet[c] = meet[c - 1];
				meet[c - 1] = tr;
				memcpy(td, desc[c], sizeof(td));
				memcpy(desc[c], desc[c - 1], sizeof(td));
				memcpy(desc[c - 1], td, sizeof(td));
			}
		put(&b, "| ");
		put_cell(&b, t->title);
		put(&b, " | ");
		if (n == 0) {
			put(&b, "%s | not in the matrix for Python %s |\n",
			    compat_status_symbol(COMPAT_UNTESTED), ver);
			continue;
		}
		for (size_t j = 0; j < n; j++)
			put(&b, "%s%s%s%s", j ? ", " : "", compat_status_symbol(meet[j]->status),
			    desc[j][0] ? " " : "", desc[j]);
		put(&b, " | ");
		for (size_t j = 0; j < n; j++) {
			const struct matrix_row *row = meet[j];
			bool any = row->note || row->issue;
			if (!any)
				continue;
			if (j)
				put(&b, "; ");
			if (desc[j][0])
				put(&b, "%s: ", desc[j]);
			if (row->note)
				put_cell(&b, row->note);
			if (row->issue)
				put(&b, "%s(tracking %s)", row->note ? " " : "", row->issue);
		}
		put(&b, " |\n");
	}
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
