/* The greeting of `sctprof hook bash`: one line saying which profile kinds work here.
 *
 * It is read from a cached verdict so that a shell start costs no Python start-up: a
 * JSON file in the shape of `sctprof check --format json` ("sctprof-check/1",
 * docs/matrix.md; only "python" and "kinds" are read), one per interpreter, under
 * $XDG_CACHE_HOME/sctprof/ (or ~/.cache/sctprof/), named by a hash of the interpreter's
 * path and mtime, the mtime of its bin/ (a tool installed beside it), sctprof's version
 * and binary, and PATH. A missing or day-old verdict is recomputed in a detached
 * background process, so the next shell sees it.
 *
 * The verdict comes from `sctprof check --format json` (cmd/hook.c runs it in the
 * background process), so the compatibility matrix is its only source. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#define GREETING_MAX_AGE (24 * 3600)

/* The interpreter a test would run with (as DESIGN.md "Finding the interpreter", without
 * starting it): $VIRTUAL_ENV, $UV_PROJECT_ENVIRONMENT, .venv-sct-$(cat .python-version),
 * .venv, python3 on PATH without pyenv's shims. Returns a malloc'd path or NULL. */
char *greeting_python(void);

/* The cache file for python (NULL: no interpreter found). -ENOENT without a cache folder. */
int greeting_cache_path(const char *python, char **ret);

/* Reads the cached verdict; *ret_stale when it is older than GREETING_MAX_AGE. */
int greeting_load(const char *path, json_t **ret, bool *ret_stale);

/* Writes v to path atomically, creating the folder. */
int greeting_store(const char *path, const json_t *v);

/* Computes a verdict with compute(python) and stores it at path, in a detached process
 * (double fork, own session, stdio on /dev/null) that holds a lock so that shells started
 * together refresh once. Returns at once. */
int greeting_refresh_detached(const char *path, const char *python,
			     json_t *(*compute)(const char *python));

/* Removes the cached hook code (hook-*.bash) that container/hook.bash keeps in dir, the
 * cache folder, so that the next shell writes it anew. */
void greeting_forget_hooks(const char *dir);

/* The greeting, one line, malloc'd: v may be NULL (no verdict yet); hint, when not NULL,
 * follows the kinds that do not work ("'sctprof check' says why"). */
char *greeting_line(const json_t *v, const char *hint);
