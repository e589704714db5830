/* Matrix refresh (refresh.h): libyaml's events, with their marks, locate the tools, their
 * `pypi:` names and the rows of their `python:` lists; PyPI and GitHub answers become
 * text edits at those places. Only the keys documented in docs/matrix.md are read; the
 * rest of the file is skipped, not checked (that is `matrix validate`'s job). */
#include "refresh.h"
#include "error.h"
#include "log.h"
#include "matrix.h"
#include "redact.h"
#include "version.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define API_MAX (32 * 1024 * 1024)      /* PyPI's JSON for a project with many releases */

struct scalar {
	char *value;                    /* NULL when the key is absent */
	size_t start, end;              /* bytes of the value as written (quotes included) */
	int line, column;               /* 1-based */
};

struct row {
	struct scalar range, status, min_version, note, issue;
	int line, column;               /* the row's first key */
	size_t last_end;                /* end of the row's last value */
};

struct tool {
	char *name;
	struct scalar pypi;
	struct row *rows;
	size_t n_rows;
};

struct doc {
	const char *path;
	const char *text;
	size_t len;
	size_t *line_off;               /* byte offset of each line start (0-based lines) */
	size_t n_lines;
	struct tool *tools;
	size_t n_tools;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool have_ev;
	bool have_parser;
};

/* libyaml counts lines and columns in characters: turn a mark into a byte offset. */
static size_t mark_offset(const struct doc *d, const yaml_mark_t *m)
{
	size_t off, col = 0;

	if (m->line >= d->n_lines)
		return d->len;
	off = d->line_off[m->line];
	while (off < d->len && col < m->column && d->text[off] != '\n') {
		unsigned char c = (unsigned char)d->text[off];
		off += c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		col++;
	}
	return off > d->len ? d->len : off;
}

static int index_lines(struct doc *d)
{
	size_t n = 1;

	for (size_t i = 0; i < d->len; i++)
		if (d->text[i] == '\n')
			n++;
	d->line_off = calloc(n, sizeof(*d->line_off));
	if (!d->line_off)
		return -ENOMEM;
	d->n_lines = 0;
	d->line_off[d->n_lines++] = 0;
	for (size_t i = 0; i < d->len; i++)
		if (d->text[i] == '\n' && d->n_lines < n)
			d->line_off[d->n_lines++] = i + 1;
	return 0;
}

static int next(struct doc *d)
{
	if (d->have_ev)
		yaml_event_delete(&d->ev);
	d->have_ev = false;
	if (!yaml_parser_parse(&d->parser, &d->ev))
		return err_set(EINVAL, "matrix '%s':%zu:%zu: %s", d->path,
			       d->parser.problem_mark.line + 1, d->parser.problem_mark.column + 1,
			       d->parser.problem ? d->parser.problem : "YAML error");
	d->have_ev = true;
	/* Past the end of the stream libyaml keeps answering with empty events: a loop
	 * waiting for a closing event would never end. */
	if (d->ev.type == YAML_NO_EVENT)
		return err_set(EINVAL, "matrix '%s': unexpected end of the document", d->path);
	return 0;
}

static int unexpected(struct doc *d, const char *what)
{
	return err_set(EINVAL, "matrix '%s':%zu:%zu: expected %s", d->path,
		       d->ev.start_mark.line + 1, d->ev.start_mark.column + 1, what);
}

/* Skips the node whose first event is current. */
static int skip(struct doc *d)
{
	int depth = 0, r;

	do {
		switch (d->ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		if (depth == 0)
			return 0;
		r = next(d);
		if (r < 0)
			return r;
	} while (depth > 0);
	return 0;
}

static int take_scalar(struct doc *d, struct scalar *s)
{
	if (d->ev.type != YAML_SCALAR_EVENT)
		return unexpected(d, "a scalar");
	free(s->value);
	s->value = strndup((const char *)d->ev.data.scalar.value, d->ev.data.scalar.length);
	if (!s->value)
		return -ENOMEM;
	s->start = mark_offset(d, &d->ev.start_mark);
	s->end = mark_offset(d, &d->ev.end_mark);
	s->line = (int)d->ev.start_mark.line + 1;
	s->column = (int)d->ev.start_mark.column + 1;
	return 0;
}

static bool key_is(const struct doc *d, const char *k)
{
	return d->ev.type == YAML_SCALAR_EVENT &&
	       strcmp((const char *)d->ev.data.scalar.value, k) == 0;
}

static int parse_row(struct doc *d, struct row *row)
{
	int r;

	row->line = (int)d->ev.start_mark.line + 1;
	row->column = (int)d->ev.start_mark.column + 1;
	for (;;) {
		struct scalar *s = NULL;
		if ((r = next(d)) < 0)
			return r;
		if (d->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (key_is(d, "range"))
			s = &row->range;
		else if (key_is(d, "status"))
			s = &row->status;
		else if (key_is(d, "min-version"))
			s = &row->min_version;
		else if (key_is(d, "note"))
			s = &row->note;
		else if (key_is(d, "issue"))
			s = &row->issue;
		if ((r = next(d)) < 0)
			return r;
		if (s && (r = take_scalar(d, s)) < 0)
			return r;
		if (!s && (r = skip(d)) < 0)
			return r;
		row->last_end = mark_offset(d, &d->ev.end_mark);
	}
}

static int parse_rows(struct doc *d, struct tool *t)
{
	int r;

	if (d->ev.type != YAML_SEQUENCE_START_EVENT)
		return unexpected(d, "a list of rows under 'python'");
	for (;;) {
		struct row *rows;
		if ((r = next(d)) < 0)
			return r;
		if (d->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (d->ev.type != YAML_MAPPING_START_EVENT)
			return unexpected(d, "a row (a mapping)");
		rows = realloc(t->rows, (t->n_rows + 1) * sizeof(*rows));
		if (!rows)
			return -ENOMEM;
		t->rows = rows;
		memset(&t->rows[t->n_rows], 0, sizeof(*rows));
		r = parse_row(d, &t->rows[t->n_rows++]);
		if (r < 0)
			return r;
	}
}

static int parse_tool(struct doc *d, struct tool *t)
{
	int r;

	if (d->ev.type != YAML_MAPPING_START_EVENT)
		return unexpected(d, "a mapping for the tool");
	for (;;) {
		if ((r = next(d)) < 0)
			return r;
		if (d->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (key_is(d, "pypi")) {
			if ((r = next(d)) < 0 || (r = take_scalar(d, &t->pypi)) < 0)
				return r;
		} else if (key_is(d, "python")) {
			if ((r = next(d)) < 0 || (r = parse_rows(d, t)) < 0)
				return r;
		} else {
			if ((r = next(d)) < 0 || (r = skip(d)) < 0)
				return r;
		}
	}
}

static int parse_doc(struct doc *d)
{
	bool found = false;
	int r;

	if (!yaml_parser_initialize(&d->parser))
		return -ENOMEM;
	d->have_parser = true;
	yaml_parser_set_input_string(&d->parser, (const unsigned char *)d->text, d->len);
	if ((r = next(d)) < 0 || (r = next(d)) < 0)     /* stream start, document start */
		return r;
	if (d->ev.type != YAML_DOCUMENT_START_EVENT)
		return unexpected(d, "a YAML document");
	if ((r = next(d)) < 0)
		return r;
	if (d->ev.type != YAML_MAPPING_START_EVENT)
		return unexpected(d, "a mapping at the top");
	for (;;) {
		if ((r = next(d)) < 0)
			return r;
		if (d->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (!key_is(d, "tools")) {
			if ((r = next(d)) < 0 || (r = skip(d)) < 0)
				return r;
			continue;
		}
		found = true;
		if ((r = next(d)) < 0)
			return r;
		if (d->ev.type != YAML_MAPPING_START_EVENT)
			return unexpected(d, "a mapping of tools");
		for (;;) {
			struct tool *tools;
			if ((r = next(d)) < 0)
				return r;
			if (d->ev.type == YAML_MAPPING_END_EVENT)
				break;
			if (d->ev.type != YAML_SCALAR_EVENT)
				return unexpected(d, "a tool name");
			tools = realloc(d->tools, (d->n_tools + 1) * sizeof(*tools));
			if (!tools)
				return -ENOMEM;
			d->tools = tools;
			memset(&d->tools[d->n_tools], 0, sizeof(*tools));
			d->tools[d->n_tools].name = strdup((const char *)d->ev.data.scalar.value);
			if (!d->tools[d->n_tools].name)
				return -ENOMEM;
			d->n_tools++;
			if ((r = next(d)) < 0 || (r = parse_tool(d, &d->tools[d->n_tools - 1])) < 0)
				return r;
		}
	}
	if (!found)
		return err_set(EINVAL, "matrix '%s': no 'tools' mapping", d->path);
	return 0;
}

static void scalar_free(struct scalar *s)
{
	free(s->value);
}

static void doc_free(struct doc *d)
{
	for (size_t i = 0; i < d->n_tools; i++) {
		struct tool *t = &d->tools[i];
		for (size_t j = 0; j < t->n_rows; j++) {
			struct row *row = &t->rows[j];
			scalar_free(&row->range);
			scalar_free(&row->status);
			scalar_free(&row->min_version);
			scalar_free(&row->note);
			scalar_free(&row->issue);
		}
		free(t->rows);
		free(t->name);
		scalar_free(&t->pypi);
	}
	free(d->tools);
	free(d->line_off);
	if (d->have_ev)
		yaml_event_delete(&d->ev);
	if (d->have_parser)
		yaml_parser_delete(&d->parser);
}

/* ---- versions and ranges (docs/matrix.md, "Version ranges"; lib/version.h) ---- */

/* Whether the range holds for some release of the series; a range that does not parse
 * holds for none (`matrix validate` says what is wrong with it). */
static bool range_meets_series(const char *range, const struct pyver *series)
{
	struct vrange r, q = vrange_of(series);

	return vrange_parse(range, &r, NULL, NULL) == 0 && vrange_meets(&r, &q);
}

/* A final release as PyPI spells it: release numbers only ("2.1.0"). */
static bool is_final_release(const char *v)
{
	for (; *v; v++)
		if (!isdigit((unsigned char)*v) && *v != '.')
			return false;
	return true;
}

/* ---- items and edits ---- */

static struct refresh_item *new_item(struct refresh_report *rep, const char *tool, int line,
				     int column, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static struct refresh_item *new_item(struct refresh_report *rep, const char *tool, int line,
				     int column, const char *fmt, ...)
{
	struct refresh_item *items = realloc(rep->items, (rep->n + 1) * sizeof(*items)), *it;
	va_list ap;
	int r;

	if (!items)
		return NULL;
	rep->items = items;
	it = &rep->items[rep->n];
	memset(it, 0, sizeof(*it));
	it->tool = strdup(tool);
	it->line = line;
	it->column = column;
	va_start(ap, fmt);
	r = vasprintf(&it->what, fmt, ap);
	va_end(ap);
	if (r < 0 || !it->tool) {
		free(it->tool);
		return NULL;
	}
	rep->n++;
	return it;
}

static int add_edit(struct refresh_item *it, size_t start, size_t end, const char *text)
{
	struct refresh_edit *e = realloc(it->edits, (it->n_edits + 1) * sizeof(*e));

	if (!e)
		return -ENOMEM;
	it->edits = e;
	e[it->n_edits].start = start;
	e[it->n_edits].end = end;
	e[it->n_edits].text = strdup(text);
	if (!e[it->n_edits].text)
		return -ENOMEM;
	it->n_edits++;
	return 0;
}

/* A double-quoted YAML scalar. */
static char *quote(const char *s)
{
	size_t n = 2;
	char *q, *o;

	for (const char *p = s; *p; p++)
		n += (*p == '"' || *p == '\\') ? 2 : 1;
	q = o = malloc(n + 1);
	if (!q)
		return NULL;
	*o++ = '"';
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o++ = '"';
	*o = '\0';
	return q;
}

/* Where a new line after the row goes: just past the end of the row's last line. */
static size_t after_line(const struct doc *d, size_t off)
{
	while (off < d->len && d->text[off] != '\n')
		off++;
	return off < d->len ? off + 1 : d->len;
}

/* Sets key to value (already YAML text) in row: replaced in place, or a new line. */
static int set_key(const struct doc *d, struct refresh_item *it, const struct row *row,
		   const struct scalar *s, const char *key, const char *value, const char *shown)
{
	char *line = NULL;
	int r;

	if (s->value) {
		r = add_edit(it, s->start, s->end, value);
		if (r == 0)
			r = strv_pushf(&it->changes, "%s: %s -> %s", key, s->value, shown);
		return r;
	}
	if (asprintf(&line, "%s%*s%s: %s\n", d->len && d->text[d->len - 1] != '\n' &&
		     after_line(d, row->last_end) == d->len ? "\n" : "", row->column - 1, "",
		     key, value) < 0)
		return -ENOMEM;
	r = add_edit(it, after_line(d, row->last_end), after_line(d, row->last_end), line);
	free(line);
	if (r == 0)
		r = strv_pushf(&it->changes, "%s: (none) -> %s", key, shown);
	return r;
}

static int set_status(const struct doc *d, struct refresh_item *it, const struct row *row,
		      const char *status, const char *min_version, const char *note)
{
	char *qnote = quote(note);
	int r;

	if (!qnote)
		return -ENOMEM;
	r = set_key(d, it, row, &row->status, "status", status, status);
	if (r == 0 && min_version)
		r = set_key(d, it, row, &row->min_version, "min-version", min_version, min_version);
	if (r == 0)
		r = set_key(d, it, row, &row->note, "note", qnote, qnote);
	free(qnote);
	return r;
}

/* ---- the APIs ---- */

static int get_json(const char *url, const struct refresh_opts *o, bool github,
		    json_t **ret, long *ret_status)
{
	const char *hdrs[4] = { "Accept: application/json", NULL, NULL, NULL };
	char *auth = NULL, *body = NULL;
	json_error_t je;
	long status = 0;
	int r;

	if (github) {
		hdrs[0] = "Accept: application/vnd.github+json";
		hdrs[1] = "X-GitHub-Api-Version: 2022-11-28";
		if (o->github_token && *o->github_token) {
			if (asprintf(&auth, "Authorization: Bearer %s", o->github_token) < 0)
				return -ENOMEM;
			hdrs[2] = auth;
		}
	}
	log_debug("GET %s", url);
	r = http_get(url, &o->tls, hdrs, API_MAX, &status, &body);
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	if (r < 0)
		return r;
	*ret_status = status;
	*ret = NULL;
	if (status == 200) {
		*ret = json_loads(body, 0, &je);
		if (!*ret) {
			r = err_set(EPROTO, "'%s': not JSON: %s", url, je.text);
		}
	} else if (status != 404 && status != 410) {
		json_t *e = json_loads(body, 0, NULL);
		const char *m = json_string_value(json_object_get(e, "message"));
		char msg[256];
		snprintf(msg, sizeof(msg), "%s", m ? m : "");
		redact_buf(msg, sizeof(msg));
		r = err_set(EPROTO, "'%s': HTTP %ld%s%s", url, status, msg[0] ? ": " : "", msg);
		json_decref(e);
	}
	free(body);
	return r;
}

struct pypi {
	const char *version;            /* latest */
	const char *requires_python;
	const char *uploaded;           /* of the latest */
	json_t *root;
};

static const char *release_time(json_t *files)
{
	const char *t = NULL;
	size_t i;
	json_t *f;

	json_array_foreach(files, i, f) {
		const char *u = json_string_value(json_object_get(f, "upload_time_iso_8601"));
		if (!u)
			u = json_string_value(json_object_get(f, "upload_time"));
		if (json_is_true(json_object_get(f, "yanked")))
			continue;
		if (u && (!t || strcmp(u, t) < 0))
			t = u;
	}
	return t;
}

/* The first final release uploaded after when, or NULL. */
static const char *first_release_after(const struct pypi *p, const char *when, const char **ret_time)
{
	json_t *rel = json_object_get(p->root, "releases");
	const char *best = NULL, *best_t = NULL, *v;
	json_t *files;

	json_object_foreach(rel, v, files) {
		const char *t = release_time(files);
		if (!t || !is_final_release(v) || strncmp(t, when, 19) <= 0)
			continue;
		if (!best || toolver_cmp_str(v, best, NULL) < 0) {
			best = v;
			best_t = t;
		}
	}
	*ret_time = best_t;
	return best;
}

/* https://github.com/OWNER/REPO/issues/N (or /pull/N) as the API URL. */
static int issue_api_url(const char *base, const char *url, char **ret)
{
	char owner[128], repo[128], kind[16];
	unsigned long n;
	int end = 0;

	if (sscanf(url, "https://github.com/%127[^/]/%127[^/]/%15[a-z]/%lu%n", owner, repo, kind,
		   &n, &end) != 4 || (strcmp(kind, "issues") && strcmp(kind, "pull")) ||
	    (url[end] && url[end] != '#' && url[end] != '/' && url[end] != '?'))
		return -EINVAL;
	if (asprintf(ret, "%s/repos/%s/%s/issues/%lu", base, owner, repo, n) < 0)
		return -ENOMEM;
	return 0;
}

static int check_issue(struct doc *d, struct refresh_report *rep, const struct refresh_opts *o,
		       const struct tool *t, const struct row *row, const struct pypi *p)
{
	char *api = NULL, day[11], note[256];
	const char *state, *reason, *closed, *rel, *rel_t = NULL;
	struct refresh_item *it;
	json_t *j = NULL;
	long status;
	int r;

	r = issue_api_url(o->github_url, row->issue.value, &api);
	if (r == -EINVAL)
		return strv_pushf(&rep->warnings,
				  "%s:%d:%d: %s: '%s' is not a GitHub issue or pull request URL",
				  d->path, row->issue.line, row->issue.column, t->name,
				  row->issue.value);
	if (r < 0)
		return r;
	r = get_json(api, o, true, &j, &status);
	if (r < 0)
		goto out;
	if (!j) {
		r = strv_pushf(&rep->warnings, "%s:%d:%d: %s: GitHub has no issue '%s' (HTTP %ld)",
			       d->path, row->issue.line, row->issue.column, t->name, row->issue.value,
			       status);
		goto out;
	}
	state = json_string_value(json_object_get(j, "state"));
	reason = json_string_value(json_object_get(j, "state_reason"));
	closed = json_string_value(json_object_get(j, "closed_at"));
	if (!state || strcmp(state, "closed") != 0 || !closed)
		goto out;
	snprintf(day, sizeof(day), "%s", closed);
	if (reason && strcmp(reason, "not_planned") == 0) {
		it = new_item(rep, t->name, row->issue.line, row->issue.column,
			      "%s was closed as not planned on %s; row '%s' stays %s",
			      row->issue.value, day, row->range.value, row->status.value);
		r = it ? 0 : -ENOMEM;
		goto out;
	}
	if (row->status.value && strcmp(row->status.value, "supported") == 0)
		goto out;
	rel = p ? first_release_after(p, closed, &rel_t) : NULL;
	if (!rel) {
		it = new_item(rep, t->name, row->issue.line, row->issue.column,
			      "%s was closed on %s, and no release of '%s' came after it yet",
			      row->issue.value, day, t->pypi.value ? t->pypi.value : t->name);
		r = it ? 0 : -ENOMEM;
		goto out;
	}
	it = new_item(rep, t->name, row->status.line ? row->status.line : row->line,
		      row->status.line ? row->status.column : row->column,
		      "%s was closed on %s; %s %s came out after it (%.10s)", row->issue.value, day,
		      t->pypi.value, rel, rel_t);
	if (!it) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(note, sizeof(note), "fixed in %s (tracking issue closed %s)", rel, day);
	r = set_status(d, it, row, "supported", rel, note);
out:
	json_decref(j);
	free(api);
	return r;
}

/* "Programming Language :: Python :: 3.15" classifiers for series past every series the
 * tool's rows already allow (supported or untested). */
static int check_classifiers(struct doc *d, struct refresh_report *rep, const struct tool *t,
			     const struct pypi *p)
{
	json_t *cls = json_object_get(json_object_get(p->root, "info"), "classifiers"), *c;
	long top_major = -1, top_minor = -1;
	size_t i;
	int r = 0;

	for (int ma = 2; ma <= 3; ma++)
		for (int mi = 0; mi <= 40; mi++) {
			struct pyver sv = { { ma, mi, 0 }, 2 };
			for (size_t k = 0; k < t->n_rows; k++) {
				const struct row *row = &t->rows[k];
				if (row->range.value && row->status.value &&
				    strcmp(row->status.value, "unsupported") != 0 &&
				    range_meets_series(row->range.value, &sv)) {
					top_major = ma;
					top_minor = mi;
				}
			}
		}
	json_array_foreach(cls, i, c) {
		const char *s = json_string_value(c);
		long ma, mi;
		int end = 0;
		bool any = false;
		char series[32], note[256];
		struct refresh_item *it;
		struct pyver sv;

		if (!s || sscanf(s, "Programming Language :: Python :: %ld.%ld%n", &ma, &mi, &end) != 2 ||
		    s[end])
			continue;
		if (ma < top_major || (ma == top_major && mi <= top_minor))
			continue;
		snprintf(series, sizeof(series), "%ld.%ld", ma, mi);
		/* Trove classifiers name real series; anything else is no version to compare. */
		if (pyver_parse(series, false, &sv) < 0)
			continue;
		snprintf(note, sizeof(note), "%s %s lists Python %s on PyPI; not yet tried with sctprof",
			 t->pypi.value, p->version, series);
		for (size_t k = 0; k < t->n_rows; k++) {
			const struct row *row = &t->rows[k];
			if (!row->range.value || !range_meets_series(row->range.value, &sv))
				continue;
			any = true;
			if (!row->status.value || strcmp(row->status.value, "unsupported") != 0)
				continue;
			it = new_item(rep, t->name, row->status.line, row->status.column,
				      "%s %s has the classifier \"Python :: %s\"; row '%s' says unsupported",
				      t->pypi.value, p->version, series, row->range.value);
			if (!it)
				return -ENOMEM;
			r = set_status(d, it, row, "untested", p->version, note);
			if (r < 0)
				return r;
		}
		if (!any && t->n_rows) {
			const struct row *last = &t->rows[t->n_rows - 1];
			char *text = NULL, *qnote = quote(note);
			size_t at = after_line(d, last->last_end);
			int ind = last->column - 1;

			it = new_item(rep, t->name, last->line, last->column,
				      "%s %s has the classifier \"Python :: %s\", which no row covers",
				      t->pypi.value, p->version, series);
			if (!it || !qnote) {
				free(qnote);
				return -ENOMEM;
			}
			if (asprintf(&text, "%s%*s- range: \"%s\"\n%*sstatus: untested\n"
				     "%*smin-version: %s\n%*snote: %s\n",
				     at == d->len && d->len && d->text[d->len - 1] != '\n' ? "\n" : "",
				     ind >= 2 ? ind - 2 : 0, "", series, ind, "", ind, "", p->version,
				     ind, "", qnote) < 0)
				text = NULL;
			free(qnote);
			if (!text)
				return -ENOMEM;
			r = add_edit(it, at, at, text);
			free(text);
			if (r == 0)
				r = strv_pushf(&it->changes, "new row: range \"%s\", status untested, "
					       "min-version %s", series, p->version);
			if (r < 0)
				return r;
		}
	}
	return r;
}

static int check_release(struct refresh_report *rep, const struct tool *t, const struct pypi *p)
{
	const char *top = NULL;
	struct refresh_item *it;

	for (size_t k = 0; k < t->n_rows; k++) {
		const char *m = t->rows[k].min_version.value;
		if (m && (!top || toolver_cmp_str(m, top, NULL) > 0))
			top = m;
	}
	if (!top || toolver_cmp_str(p->version, top, NULL) <= 0)
		return 0;
	it = new_item(rep, t->name, t->pypi.line, t->pypi.column,
		      "%s %s is out (%.10s%s%s), newer than every min-version in the matrix (%s)",
		      t->pypi.value, p->version, p->uploaded ? p->uploaded : "date unknown",
		      p->requires_python && *p->requires_python ? ", requires-python " : "",
		      p->requires_python ? p->requires_python : "", top);
	return it ? 0 : -ENOMEM;
}

static int check_tool(struct doc *d, struct refresh_report *rep, const struct refresh_opts *o,
		      const struct tool *t)
{
	struct pypi p = { 0 };
	char *url = NULL;
	long status;
	int r = 0;

	if (t->pypi.value) {
		char *name = curl_easy_escape(NULL, t->pypi.value, 0);
		if (!name || asprintf(&url, "%s/pypi/%s/json", o->pypi_url, name) < 0)
			url = NULL;
		curl_free(name);
		if (!url)
			return -ENOMEM;
		r = get_json(url, o, false, &p.root, &status);
		if (r < 0)
			goto out;
		if (!p.root) {
			r = strv_pushf(&rep->warnings, "%s:%d:%d: %s: PyPI has no project '%s' (HTTP %ld)",
				       d->path, t->pypi.line, t->pypi.column, t->name, t->pypi.value,
				       status);
			if (r < 0)
				goto out;
		} else {
			json_t *info = json_object_get(p.root, "info");
			p.version = json_string_value(json_object_get(info, "version"));
			p.requires_python = json_string_value(json_object_get(info, "requires_python"));
			if (!p.version) {
				r = err_set(EPROTO, "'%s': no info.version in PyPI's answer", url);
				goto out;
			}
			p.uploaded = release_time(json_object_get(json_object_get(p.root, "releases"),
								  p.version));
		}
	}
	for (size_t k = 0; k < t->n_rows && r >= 0; k++)
		if (t->rows[k].issue.value)
			r = check_issue(d, rep, o, t, &t->rows[k], p.root ? &p : NULL);
	if (r >= 0 && p.root)
		r = check_classifiers(d, rep, t, &p);
	if (r >= 0 && p.root)
		r = check_release(rep, t, &p);
out:
	json_decref(p.root);
	free(url);
	return r;
}

int refresh_matrix(const char *path, const struct refresh_opts *o, struct refresh_report *ret)
{
	struct refresh_report rep = { 0 };
	struct doc d = { .path = path };
	char *text = NULL;
	int r;

	r = http_global_init();
	if (r < 0)
		return r;
	if (o->github_token && redact_add(o->github_token) < 0)
		return -ENOMEM;
	r = matrix_read(path, &text, &rep.len);
	if (r < 0)
		return r;
	rep.text = text;
	d.text = text;
	d.len = rep.len;
	r = index_lines(&d);
	if (r < 0)
		goto out;
	r = parse_doc(&d);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < d.n_tools && r >= 0; i++)
		r = check_tool(&d, &rep, o, &d.tools[i]);
	if (r < 0)
		goto out;
	*ret = rep;
	memset(&rep, 0, sizeof(rep));
out:
	doc_free(&d);
	refresh_report_free(&rep);
	return r;
}

int refresh_scan(const char *name, const char *text, size_t len)
{
	struct doc d = { .path = name, .text = text, .len = len };
	int r;

	r = index_lines(&d);
	if (r == 0)
		r = parse_doc(&d);
	if (r == 0) {
		struct pyver sv = { { 3, 14, 0 }, 2 };

		r = (int)d.n_tools;
		/* Exercise what refresh does with each row's range. */
		for (size_t i = 0; i < d.n_tools; i++)
			for (size_t k = 0; k < d.tools[i].n_rows; k++)
				if (d.tools[i].rows[k].range.value)
					(void)range_meets_series(d.tools[i].rows[k].range.value, &sv);
	}
	doc_free(&d);
	return r;
}

static int cmp_edit(const void *a, const void *b)
{
	const struct refresh_edit *x = *(struct refresh_edit *const *)a;
	const struct refresh_edit *y = *(struct refresh_edit *const *)b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x < y ? -1 : x > y;      /* keep the order they were made in */
}

char *refresh_apply(const struct refresh_report *r)
{
	struct refresh_edit **all;
	size_t n = 0, k = 0, pos = 0, cap = r->len + 1, len = 0;
	char *out;

	for (size_t i = 0; i < r->n; i++)
		n += r->items[i].n_edits;
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < r->items[i].n_edits; j++) {
			all[k++] = &r->items[i].edits[j];
			cap += strlen(r->items[i].edits[j].text);
		}
	qsort(all, n, sizeof(*all), cmp_edit);
	out = malloc(cap);
	if (!out) {
		free(all);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct refresh_edit *e = all[i];
		if (e->start < pos)
			continue;       /* overlaps an earlier edit of the same place: first wins */
		memcpy(out + len, r->text + pos, e->start - pos);
		len += e->start - pos;
		memcpy(out + len, e->text, strlen(e->text));
		len += strlen(e->text);
		pos = e->end;
	}
	memcpy(out + len, r->text + pos, r->len - pos);
	len += r->len - pos;
	out[len] = '\0';
	free(all);
	return out;
}

void refresh_report_free(struct refresh_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct refresh_item *it = &r->items[i];
		free(it->tool);
		free(it->what);
		strv_free(&it->changes);
		for (size_t j = 0; j < it->n_edits; j++)
			free(it->edits[j].text);
		free(it->edits);
	}
	free(r->items);
	strv_free(&r->warnings);
	free(r->text);
	memset(r, 0, sizeof(*r));
}
