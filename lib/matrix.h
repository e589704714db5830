/* The compatibility matrix (data/compat-matrix.yaml, schema in docs/matrix.md): which
 * tool works on which Python version and platform, and which tools a profile kind tries.
 * Loading validates everything (unknown and duplicate keys, statuses, ranges, kinds
 * naming unknown tools) and names file:line:column. Evaluating gives a verdict per tool
 * for one interpreter; choosing gives the tool `run` should start for a kind. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "python.h"
#include "strv.h"
#include "version.h"

/* Ordered from good to bad: the worst of several is the largest. */
enum compat_status {
	COMPAT_SUPPORTED,       /* ✅ */
	COMPAT_UNTESTED,        /* ⚠️ runs after a warning */
	COMPAT_UNSUPPORTED,     /* ❌ refused unless --force */
};

enum {
	PLATFORM_LINUX  = 1u << 0,
	PLATFORM_DARWIN = 1u << 1,
	PLATFORM_WIN32  = 1u << 2,
	PLATFORM_ALL    = PLATFORM_LINUX | PLATFORM_DARWIN | PLATFORM_WIN32,
};

struct matrix_row {
	char *range_text;       /* as written */
	struct vrange range;
	enum compat_status status;
	char *min_version;      /* NULL when none */
	char *note;
	char *issue;            /* tracking URL */
	int line;
};

struct matrix_tool {
	char *name;             /* also its backend's name (plugins/<name>) */
	char *title;            /* for tables; the name when not given */
	char *pypi;             /* PyPI project, or NULL */
	bool viewer;            /* role: viewer (else profiler) */
	char *stdlib;           /* detect: part of the interpreter (module or option) */
	char *dist;             /* detect: distribution in site-packages */
	char *executable;       /* detect: program in bin/ or on PATH */
	unsigned platforms;
	bool needs_ptrace;
	bool markdown;          /* a row of --format markdown */
	struct matrix_row *rows;
	size_t n_rows;
	int line;
};

struct matrix_entry {
	size_t tool;            /* index into matrix.tools */
	char *mode;             /* e.g. "cpu-only", or NULL */
};

struct matrix_kind {
	char *name;
	struct matrix_entry *entries;
	size_t n_entries;
};

struct matrix {
	char *path;
	struct matrix_tool *tools;
	size_t n_tools;
	struct matrix_kind *kinds;
	size_t n_kinds;
	/* When set, matrix_choose() passes over tools for which it returns false ("no
	 * backend in this build" for that kind). `run` sets it; `check` shows backends
	 * separately, since it answers for the tools themselves. */
	bool (*has_backend)(const char *tool, const char *kind);
};

/* What one evaluation decided. Owns its strings. */
struct verdict {
	char *tool;
	char *kind;             /* the kind it was chosen for, or NULL */
	char *mode;             /* the kind entry's mode, or NULL */
	enum compat_status status;   /* after platform, tool version and ptrace checks */
	int installed;          /* 1, 0, or -1 when unknown (version-only query) */
	char *version;          /* installed version, NULL when not installed or unknown */
	char *executable;       /* the program found, or NULL */
	char *range;            /* the matrix row that applied, or NULL */
	char *reason;           /* why not plainly usable, or the row's note; may be NULL */
	char *hint;             /* what to do about it; may be NULL */
	char *note;
	char *issue;
	char *min_version;
	char *python;           /* the interpreter judged for (NULL for a version query) */
	char *python_version;
	char *platform;
	bool usable;            /* installed (or unknown) and not unsupported */
	bool forced;            /* named by --tool, or a refusal overridden by --force */
	struct strv passed_tools;    /* tools of the kind passed over before this one */
	struct strv passed_reasons;  /* ... and why, one each */
};

/* The matrix to use: --matrix (opt), else $SCTPROF_MATRIX, else the shipped copy. */
const char *matrix_default_path(const char *opt);

/* Reads and validates. -ENOENT (missing, with err_set), -EBADMSG (malformed: the
 * reason names file:line:column), -ENOMEM. */
int matrix_load(const char *path, struct matrix **ret);
/* Reads a matrix file as it is, for loading or editing: a regular file of a few
 * megabytes at most, NUL-terminated (*ret_len without the NUL); errors name
 * "matrix 'PATH'". */
int matrix_read(const char *path, char **ret, size_t *ret_len);
/* The same from memory; path only names the input in errors. */
int matrix_load_buffer(const char *path, const char *buf, size_t len, struct matrix **ret);
void matrix_free(struct matrix *m);

const struct matrix_tool *matrix_tool(const struct matrix *m, const char *name);
const struct matrix_kind *matrix_kind(const struct matrix *m, const char *name);
/* Platform name to PLATFORM_* bit, 0 when unknown. */
unsigned matrix_platform_bit(const char *platform);

const char *compat_status_name(enum compat_status s);   /* "supported", ... */
const char *compat_status_symbol(enum compat_status s); /* "✅", "⚠️", "❌" */

/* The verdict for tool t on py's interpreter (or version) and platform. */
int matrix_evaluate(const struct matrix *m, const struct matrix_tool *t,
		    const struct pyinfo *py, const char *platform, struct verdict *ret);

/* The tool `run` starts for kind: the first usable one of the kind's list, or
 * forced_tool (--tool; kind may then be NULL). An unsupported verdict is refused unless
 * force. Returns 0 and the verdict (check ret->status: COMPAT_UNTESTED deserves a
 * warning, COMPAT_UNSUPPORTED happens only with force), or with err_set():
 *   -EINVAL   unknown kind or tool, a viewer, a tool the kind does not list;
 *   -ENOPKG   no tool of the kind is installed (the reason has the install hint);
 *   -ENOTSUP  the matrix refuses every installed one (the reason has the tracking issue);
 *   -ENOSYS   the only candidates have no backend in this build. */
int matrix_choose(const struct matrix *m, const char *kind, const struct pyinfo *py,
		  const char *platform, const char *forced_tool, bool force,
		  struct verdict *ret);

void verdict_free(struct verdict *v);
/* "usable", "untested", "refused" or "not-installed". */
const char *verdict_word(const struct verdict *v);
/* The verdict for manifest.json and `check --format json`. */
json_t *verdict_to_json(const struct verdict *v);

/* SCT's docs/profiling.md table for version v (a series like 3.14, or exact):
 * "| Tool | Python 3.14 | Notes |" and one row per tool with markdown: true.
 * malloc'd text, NULL on allocation failure. */
char *matrix_markdown(const struct matrix *m, const struct pyver *v);
