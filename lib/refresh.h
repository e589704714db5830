/* `sctprof matrix refresh`: what PyPI and GitHub say now about the tools of a
 * compatibility matrix, as proposed edits of the matrix file. Per tool with a `pypi:` key,
 * PyPI's JSON API (BASE/pypi/NAME/json) gives the latest release, its requires_python
 * and its "Programming Language :: Python :: X.Y" classifiers, and the upload time of
 * every release; per row with an `issue:` key, GitHub's issues API
 * (BASE/repos/OWNER/REPO/issues/N) gives the state. From these:
 *
 *   - a closed (completed) tracking issue of a row that is not `supported`, with a
 *     release uploaded after it closed: the row becomes `supported` from that release;
 *   - a classifier for a Python series that has no row, or only `unsupported` rows: a
 *     row is added (or the unsupported one changed) as `untested` from the latest release;
 *   - a release newer than every min-version of the tool: reported, not edited.
 *
 * Edits replace or insert text at the places libyaml's marks point to, so comments,
 * order and formatting of everything else stay as they were; write_file_atomic()
 * (fsutil.h) puts the result in place of the file, keeping its mode. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "strv.h"

struct refresh_opts {
	const char *pypi_url;           /* default https://pypi.org */
	const char *github_url;         /* default https://api.github.com */
	struct http_tls tls;
	const char *github_token;       /* Authorization for GitHub, or NULL */
};

struct refresh_edit {
	size_t start, end;              /* bytes of the file replaced by text (start == end: insert) */
	char *text;
};

struct refresh_item {
	char *tool;
	int line;                       /* 1-based place in the matrix it is about, 0 if none */
	int column;
	char *what;                     /* one line: what changed out there */
	struct strv changes;            /* lines "status: untested -> supported" */
	struct refresh_edit *edits;
	size_t n_edits;
};

struct refresh_report {
	struct refresh_item *items;
	size_t n;
	struct strv warnings;           /* per-tool troubles that did not stop the refresh */
	char *text;                     /* the matrix as read */
	size_t len;
};

/* Reads path, asks the APIs, fills ret. Errors: -ENOENT, -EINVAL (not a matrix this can
 * read; err_set names line and column), network errors as http.h (offline:
 * -EHOSTUNREACH/-ECONNREFUSED/-ETIMEDOUT...), -EPROTO for an API's refusal. */
int refresh_matrix(const char *path, const struct refresh_opts *o, struct refresh_report *ret);

/* Reads the tools, `pypi:` names and rows out of text (no network): the number of tools,
 * or -EINVAL with err_set() naming line and column. For the fuzzer and for checks. */
int refresh_scan(const char *name, const char *text, size_t len);

/* The matrix text with every item's edits applied (allocated). */
char *refresh_apply(const struct refresh_report *r);

void refresh_report_free(struct refresh_report *r);
