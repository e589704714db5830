/* Loading and validating the compatibility matrix. The YAML is read into a tree
 * (yamltree.c) and checked against the schema of docs/matrix.md key by key, so that each
 * error can name the line and column of the offending key or value. Deciding what the
 * matrix says for an interpreter is verdict.c's job. */
#include "matrix.h"
#include "error.h"
#include "paths.h"
#include "yamltree.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A matrix is a few kilobytes; anything near this is not one. */
#define MATRIX_MAX_BYTES (4u << 20)

struct loader {
	const char *label;      /* "matrix 'PATH'" */
	struct matrix *m;
};

static int bad(const struct loader *L, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(const struct loader *L, const struct ynode *n, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(EBADMSG, "%s:%d:%d: %s", L->label, n ? n->line : 1, n ? n->column : 1, what);
}

const char *compat_status_name(enum compat_status s)
{
	switch (s) {
	case COMPAT_SUPPORTED: return "supported";
	case COMPAT_UNTESTED: return "untested";
	case COMPAT_UNSUPPORTED: return "unsupported";
	}
	return "?";
}

const char *compat_status_symbol(enum compat_status s)
{
	switch (s) {
	case COMPAT_SUPPORTED: return "\u2705";
	case COMPAT_UNTESTED: return "\u26a0\ufe0f";
	case COMPAT_UNSUPPORTED: return "\u274c";
	}
	return "?";
}

unsigned matrix_platform_bit(const char *p)
{
	if (!p)
		return 0;
	if (!strcmp(p, "linux"))
		return PLATFORM_LINUX;
	if (!strcmp(p, "darwin"))
		return PLATFORM_DARWIN;
	if (!strcmp(p, "win32"))
		return PLATFORM_WIN32;
	return 0;
}

const char *matrix_default_path(const char *opt)
{
	const char *env = getenv("SCTPROF_MATRIX");

	if (opt && *opt)
		return opt;
	if (env && *env)
		return env;
	return data_path("data/compat-matrix.yaml");
}

/* ---- schema helpers ---- */

/* Checks that every key of map is one of allowed (NULL-terminated). */
static int only_keys(const struct loader *L, const struct ynode *map, const char *const *allowed,
		     const char *where)
{
	for (size_t i = 0; i < map->n; i += 2) {
		const struct ynode *k = map->items[i];
		bool ok = false;
		char list[256] = "";

		for (size_t j = 0; allowed[j]; j++)
			if (!strcmp(k->value, allowed[j]))
				ok = true;
		if (ok)
			continue;
		for (size_t j = 0; allowed[j]; j++) {
			size_t len = strlen(list);
			snprintf(list + len, sizeof(list) - len, "%s%s", j ? ", " : "", allowed[j]);
		}
		return bad(L, k, "unknown key '%.100s' in %s (expected %s)", k->value, where, list);
	}
	return 0;
}

static const struct ynode *get(const struct ynode *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (!strcmp(map->items[i]->value, key))
			return map->items[i + 1];
	return NULL;
}

static int need_type(const struct loader *L, const struct ynode *n, enum ynode_type t,
		     const char *what)
{
	if (n->type == t && !(t == YNODE_SCALAR && ynode_is_null(n)))
		return 0;
	if (n->type == YNODE_SCALAR && ynode_is_null(n))
		return bad(L, n, "%s is empty (expected %s)", what, ynode_type_name(t));
	return bad(L, n, "%s must be %s, not %s", what, ynode_type_name(t), ynode_type_name(n->type));
}

/* A required (or optional, when absent is fine) one-line string. */
static int get_string(const struct loader *L, const struct ynode *map, const char *key,
		      bool required, char **ret)
{
	const struct ynode *n = get(map, key);
	char what[64];
	int r;

	*ret = NULL;
	snprintf(what, sizeof(what), "'%s'", key);
	if (!n) {
		if (required)
			return bad(L, map, "missing key '%s'", key);
		return 0;
	}
	if ((r = need_type(L, n, YNODE_SCALAR, what)) < 0)
		return r;
	if (strchr(n->value, '\n'))
		return bad(L, n, "%s must be one line", what);
	*ret = strdup(n->value);
	return *ret ? 0 : -ENOMEM;
}

/* Names of tools and kinds: what a command line and a folder name can carry. */
static bool good_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

/* ---- rows ---- */

static int load_row(const struct loader *L, const struct ynode *n, struct matrix_row *row)
{
	static const char *const keys[] = { "range", "status", "min-version", "note", "issue", NULL };
	const struct ynode *rn, *sn;
	char *status = NULL;
	const char *problem = NULL;
	size_t off = 0;
	int r;

	row->line = n->line;
	if ((r = need_type(L, n, YNODE_MAPPING, "a python row")) < 0 ||
	    (r = only_keys(L, n, keys, "a python row")) < 0 ||
	    (r = get_string(L, n, "range", true, &row->range_text)) < 0 ||
	    (r = get_string(L, n, "status", true, &status)) < 0 ||
	    (r = get_string(L, n, "min-version", false, &row->min_version)) < 0 ||
	    (r = get_string(L, n, "note", false, &row->note)) < 0 ||
	    (r = get_string(L, n, "issue", false, &row->issue)) < 0)
		goto out;
	rn = get(n, "range");
	if (vrange_parse(row->range_text, &row->range, &problem, &off) < 0) {
		/* Point at the character: ranges need no escapes, so the text of a plain or
		 * quoted scalar is the text of the file from its start (or its quote). */
		struct ynode at = *rn;
		if (rn->plain)
			at.column += (int)off;
		else if (rn->quoted)
			at.column += 1 + (int)off;
		r = bad(L, &at, "bad range '%.100s': %s", row->range_text, problem);
		goto out;
	}
	sn = get(n, "status");
	if (!strcmp(status, "supported"))
		row->status = COMPAT_SUPPORTED;
	else if (!strcmp(status, "untested"))
		row->status = COMPAT_UNTESTED;
	else if (!strcmp(status, "unsupported"))
		row->status = COMPAT_UNSUPPORTED;
	else {
		r = bad(L, sn, "bad status '%.100s' (expected supported, unsupported or untested)", status);
		goto out;
	}
	if (row->min_version) {
		struct toolver tv;
		if (toolver_parse(row->min_version, &tv) < 0) {
			r = bad(L, get(n, "min-version"), "bad min-version '%.100s' (expected a version "
				"such as 1.18.0)", row->min_version);
			goto out;
		}
	}
	if (row->issue && ((strncmp(row->issue, "https://", 8) && strncmp(row->issue, "http://", 7)) ||
			   strpbrk(row->issue, " \t"))) {
		r = bad(L, get(n, "issue"), "bad issue '%.100s' (expected an http(s) URL)", row->issue);
		goto out;
	}
	r = 0;
out:
	free(status);
	return r;
}

static void row_free(struct matrix_row *row)
{
	free(row->range_text);
	free(row->min_version);
	free(row->note);
	free(row->issue);
}

/* ---- tools ---- */

static int load_string_list(const struct loader *L, const struct ynode *n, const char *what,
			    const char *const *choices, unsigned *ret_bits)
{
	unsigned bits = 0;
	int r;

	if ((r = need_type(L, n, YNODE_SEQUENCE, what)) < 0)
		return r;
	if (n->n == 0)
		return bad(L, n, "%s is an empty list", what);
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		unsigned bit = 0;
		char list[128] = "";

		if ((r = need_type(L, it, YNODE_SCALAR, what)) < 0)
			return r;
		for (size_t j = 0; choices[j]; j++) {
			size_t len = strlen(list);
			if (!strcmp(it->value, choices[j]))
				bit = 1u << j;
			snprintf(list + len, sizeof(list) - len, "%s%s", j ? ", " : "", choices[j]);
		}
		if (!bit)
			return bad(L, it, "unknown %s '%.100s' (expected %s)", what, it->value, list);
		if (bits & bit)
			return bad(L, it, "%s '%.100s' given twice", what, it->value);
		bits |= bit;
	}
	*ret_bits = bits;
	return 0;
}

static int load_tool(const struct loader *L, const struct ynode *key, const struct ynode *n,
		     struct matrix_tool *t)
{
	static const char *const keys[] = { "title", "role", "pypi", "detect", "platforms", "needs",
					    "markdown", "python", NULL };
	static const char *const detect_keys[] = { "stdlib", "dist", "executable", NULL };
	static const char *const platforms[] = { "linux", "darwin", "win32", NULL };
	static const char *const needs[] = { "ptrace", NULL };
	const struct ynode *d, *p, *rows;
	char *role = NULL, what[128];
	unsigned bits;
	int r;

	t->line = key->line;
	t->platforms = PLATFORM_ALL;
	t->markdown = true;
	if (!good_name(key->value)) {
		r = bad(L, key, "bad tool name '%.100s' (letters, digits, '-', '_', '.')", key->value);
		goto out;
	}
	t->name = strdup(key->value);
	if (!t->name) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(what, sizeof(what), "tool '%s'", t->name);
	if ((r = need_type(L, n, YNODE_MAPPING, what)) < 0 || (r = only_keys(L, n, keys, what)) < 0 ||
	    (r = get_string(L, n, "title", false, &t->title)) < 0 ||
	    (r = get_string(L, n, "role", true, &role)) < 0 ||
	    (r = get_string(L, n, "pypi", false, &t->pypi)) < 0)
		goto out;
	if (!t->title && !(t->title = strdup(t->name))) {
		r = -ENOMEM;
		goto out;
	}
	if (!strcmp(role, "viewer")) {
		t->viewer = true;
	} else if (strcmp(role, "profiler")) {
		r = bad(L, get(n, "role"), "bad role '%.100s' (expected profiler or viewer)", role);
		goto out;
	}

	d = get(n, "detect");
	if (!d) {
		r = bad(L, key, "tool '%s' has no 'detect'", t->name);
		goto out;
	}
	if ((r = need_type(L, d, YNODE_MAPPING, "'detect'")) < 0 ||
	    (r = only_keys(L, d, detect_keys, "'detect'")) < 0 ||
	    (r = get_string(L, d, "stdlib", false, &t->stdlib)) < 0 ||
	    (r = get_string(L, d, "dist", false, &t->dist)) < 0 ||
	    (r = get_string(L, d, "executable", false, &t->executable)) < 0)
		goto out;
	if (!t->stdlib && !t->dist && !t->executable) {
		r = bad(L, d, "'detect' needs stdlib, dist or executable");
		goto out;
	}
	if (t->stdlib && (t->dist || t->executable)) {
		r = bad(L, d, "'detect': stdlib cannot be combined with dist or executable");
		goto out;
	}

	if ((p = get(n, "platforms")) &&
	    (r = load_string_list(L, p, "platform", platforms, &t->platforms)) < 0)
		goto out;
	if ((p = get(n, "needs"))) {
		if ((r = load_string_list(L, p, "need", needs, &bits)) < 0)
			goto out;
		t->needs_ptrace = bits & 1u;
	}
	if ((p = get(n, "markdown"))) {
		if ((r = need_type(L, p, YNODE_SCALAR, "'markdown'")) < 0)
			goto out;
		if (!strcmp(p->value, "true")) {
			t->markdown = true;
		} else if (!strcmp(p->value, "false")) {
			t->markdown = false;
		} else {
			r = bad(L, p, "'markdown' must be true or false, not '%.100s'", p->value);
			goto out;
		}
	}

	rows = get(n, "python");
	if (!rows) {
		r = bad(L, key, "tool '%s' has no 'python' rows", t->name);
		goto out;
	}
	if ((r = need_type(L, rows, YNODE_SEQUENCE, "'python'")) < 0)
		goto out;
	if (rows->n == 0) {
		r = bad(L, rows, "'python' of tool '%s' has no rows", t->name);
		goto out;
	}
	t->rows = calloc(rows->n, sizeof(*t->rows));
	if (!t->rows) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < rows->n; i++) {
		r = load_row(L, rows->items[i], &t->rows[i]);
		t->n_rows = i + 1;
		if (r < 0)
			goto out;
		for (size_t j = 0; j < i; j++) {
			if (vrange_meets(&t->rows[j].range, &t->rows[i].range)) {
				r = bad(L, get(rows->items[i], "range"),
					"range '%.100s' overlaps range '%.100s' of line %d",
					t->rows[i].range_text, t->rows[j].range_text, t->rows[j].line);
				goto out;
			}
		}
	}
	r = 0;
out:
	free(role);
	return r;
}

static void tool_free(struct matrix_tool *t)
{
	free(t->name);
	free(t->title);
	free(t->pypi);
	free(t->stdlib);
	free(t->dist);
	free(t->executable);
	for (size_t i = 0; i < t->n_rows; i++)
		row_free(&t->rows[i]);
	free(t->rows);
}

/* ---- kinds ---- */

static int load_kind(const struct loader *L, const struct ynode *key, const struct ynode *n,
		     struct matrix_kind *k)
{
	char what[128];
	int r;

	if (!good_name(key->value))
		return bad(L, key, "bad kind name '%.100s' (letters, digits, '-', '_', '.')", key->value);
	k->name = strdup(key->value);
	if (!k->name)
		return -ENOMEM;
	snprintf(what, sizeof(what), "kind '%s'", k->name);
	if ((r = need_type(L, n, YNODE_SEQUENCE, what)) < 0)
		return r;
	if (n->n == 0)
		return bad(L, n, "kind '%s' lists no tool", k->name);
	k->entries = calloc(n->n, sizeof(*k->entries));
	if (!k->entries)
		return -ENOMEM;
	for (size_t i = 0; i < n->n; i++) {
		static const char *const keys[] = { "tool", "mode", NULL };
		const struct ynode *it = n->items[i], *tn = it;
		struct matrix_entry *e = &k->entries[i];
		const struct matrix_tool *t;
		char *mode = NULL;

		if (it->type == YNODE_MAPPING) {
			if ((r = only_keys(L, it, keys, what)) < 0)
				return r;
			tn = get(it, "tool");
			if (!tn)
				return bad(L, it, "an entry of kind '%s' has no 'tool'", k->name);
			if ((r = get_string(L, it, "mode", false, &mode)) < 0)
				return r;
		}
		if ((r = need_type(L, tn, YNODE_SCALAR, "a tool of a kind")) < 0) {
			free(mode);
			return r;
		}
		e->mode = mode;
		k->n_entries = i + 1;
		t = matrix_tool(L->m, tn->value);
		if (!t) {
			char list[512] = "";
			for (size_t j = 0; j < L->m->n_tools; j++) {
				size_t len = strlen(list);
				snprintf(list + len, sizeof(list) - len, "%s%s", j ? ", " : "",
					 L->m->tools[j].name);
			}
			return bad(L, tn, "kind '%s' names unknown tool '%.100s' (tools: %s)",
				   k->name, tn->value, list);
		}
		if (t->viewer)
			return bad(L, tn, "kind '%s' names '%s', a viewer, not a profiler", k->name, t->name);
		e->tool = (size_t)(t - L->m->tools);
		for (size_t j = 0; j < i; j++)
			if (k->entries[j].tool == e->tool)
				return bad(L, tn, "kind '%s' names '%s' twice", k->name, t->name);
	}
	return 0;
}

static void kind_free(struct matrix_kind *k)
{
	for (size_t i = 0; i < k->n_entries; i++)
		free(k->entries[i].mode);
	free(k->entries);
	free(k->name);
}

void matrix_free(struct matrix *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_tools; i++)
		tool_free(&m->tools[i]);
	free(m->tools);
	for (size_t i = 0; i < m->n_kinds; i++)
		kind_free(&m->kinds[i]);
	free(m->kinds);
	free(m->path);
	free(m);
}

const struct matrix_tool *matrix_tool(const struct matrix *m, const char *name)
{
	for (size_t i = 0; name && i < m->n_tools; i++)
		if (!strcmp(m->tools[i].name, name))
			return &m->tools[i];
	return NULL;
}

const struct matrix_kind *matrix_kind(const struct matrix *m, const char *name)
{
	for (size_t i = 0; name && i < m->n_kinds; i++)
		if (!strcmp(m->kinds[i].name, name))
			return &m->kinds[i];
	return NULL;
}

/* ---- the document ---- */

static int load_root(struct loader *L, const struct ynode *root)
{
	static const char *const keys[] = { "schema", "tools", "kinds", NULL };
	const struct ynode *schema, *tools, *kinds;
	struct matrix *m = L->m;
	int r;

	if ((r = need_type(L, root, YNODE_MAPPING, "the matrix")) < 0 ||
	    (r = only_keys(L, root, keys, "the matrix")) < 0)
		return r;
	schema = get(root, "schema");
	if (!schema)
		return bad(L, root, "missing key 'schema' (this sctprof reads schema 1)");
	if ((r = need_type(L, schema, YNODE_SCALAR, "'schema'")) < 0)
		return r;
	if (strcmp(schema->value, "1"))
		return bad(L, schema, "schema '%.100s' is not supported (this sctprof reads schema 1)",
			   schema->value);

	tools = get(root, "tools");
	if (!tools)
		return bad(L, root, "missing key 'tools'");
	if ((r = need_type(L, tools, YNODE_MAPPING, "'tools'")) < 0)
		return r;
	if (tools->n == 0)
		return bad(L, tools, "'tools' is empty");
	m->tools = calloc(tools->n / 2, sizeof(*m->tools));
	if (!m->tools)
		return -ENOMEM;
	for (size_t i = 0; i < tools->n; i += 2) {
		r = load_tool(L, tools->items[i], tools->items[i + 1], &m->tools[i / 2]);
		m->n_tools = i / 2 + 1;
		if (r < 0)
			return r;
	}

	/* Kinds refer to tools by name: read after tools whatever the order in the file. */
	kinds = get(root, "kinds");
	if (!kinds)
		return bad(L, root, "missing key 'kinds'");
	if ((r = need_type(L, kinds, YNODE_MAPPING, "'kinds'")) < 0)
		return r;
	if (kinds->n == 0)
		return bad(L, kinds, "'kinds' is empty");
	m->kinds = calloc(kinds->n / 2, sizeof(*m->kinds));
	if (!m->kinds)
		return -ENOMEM;
	for (size_t i = 0; i < kinds->n; i += 2) {
		r = load_kind(L, kinds->items[i], kinds->items[i + 1], &m->kinds[i / 2]);
		m->n_kinds = i / 2 + 1;
		if (r < 0)
			return r;
	}
	return 0;
}

int matrix_load_buffer(const char *path, const char *buf, size_t len, struct matrix **ret)
{
	struct loader L = { 0 };
	struct ynode *root = NULL;
	char *label = NULL;
	int r;

	if (asprintf(&label, "matrix '%s'", path) < 0)
		return -ENOMEM;
	L.label = label;
	L.m = calloc(1, sizeof(*L.m));
	if (!L.m || !(L.m->path = strdup(path))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = ytree_parse(label, buf, len, &root)) < 0)
		goto out;
	r = load_root(&L, root);
out:
	ytree_free(root);
	free(label);
	if (r < 0) {
		matrix_free(L.m);
		return r;
	}
	*ret = L.m;
	return 0;
}

int matrix_read(const char *path, char **ret, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_set(errno, "matrix '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = err_set(errno, "matrix '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = err_set(EINVAL, "matrix '%s': not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > MATRIX_MAX_BYTES) {
		r = err_set(EFBIG, "matrix '%s': %lld bytes is too large for a matrix", path,
			    (long long)st.st_size);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_set(errno, "matrix '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}

int matrix_load(const char *path, struct matrix **ret)
{
	char *buf = NULL;
	size_t len;
	int r;

	r = matrix_read(path, &buf, &len);
	if (r == 0)
		r = matrix_load_buffer(path, buf, len, ret);
	free(buf);
	return r;
}
