/* The interpreter that will run a test, and what it has: where it was found (and why
 * there), its version, its site-packages and the distributions installed in them, and
 * findings about the environment that would make a profile go wrong. Found without
 * starting Python where possible: pyvenv.cfg gives a virtualenv's version, and
 * site-packages are where CPython puts them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ptrace.h"
#include "strv.h"
#include "version.h"

/* A *.dist-info or *.egg-info entry of a site-packages directory. */
struct pydist {
	char *key;       /* its name, normalised as PEP 503 does ("py-spy") */
	char *version;   /* from the entry's name; METADATA has the last word */
	char *path;
};

/* Something about the environment the user should fix, with how. */
struct finding {
	char *code;      /* "pyenv-shims", "python-version-mismatch", "ptrace", "pyenv-shim" */
	char *message;
	char *hint;
};

/* One step of the interpreter search and what it found. */
struct pystep {
	char *step;      /* "--python", "$VIRTUAL_ENV", "python3 on PATH", ... */
	char *result;
};

struct pyinfo {
	char *path;             /* the interpreter, absolute; NULL for a version-only query */
	char *origin;           /* which step found it ("$VIRTUAL_ENV", "--python", ...) */
	char *version;          /* "3.14.2" (or "3.14" for a version-only series query) */
	struct pyver ver;
	const char *version_source;  /* "pyvenv.cfg", "interpreter", "--python-version" */
	char *venv;             /* the virtualenv's root, or NULL */
	char *bindir;           /* the interpreter's own bin/ (programs are looked up there first) */
	struct strv site_packages;
	struct pydist *dists;
	size_t n_dists;
	struct pystep *steps;
	size_t n_steps;
	struct finding *findings;
	size_t n_findings;
	struct ptrace_facts ptrace;
	bool probed;            /* false: nothing is known about installed tools */
	bool uv_profiling_group;/* ./pyproject.toml has a "profiling" dependency group */
};

/* Probes a known interpreter (what `run` resolved from the command: target->python and
 * target->origin). -ENOENT when it does not exist, -ENOEXEC when its version cannot be
 * told; both with err_set(). */
int python_probe(const char *interpreter, const char *origin, struct pyinfo *ret);

/* Finds the interpreter as DESIGN.md orders it -- --python (python_opt), the command's
 * (argv/argc, may be 0), $VIRTUAL_ENV, $UV_PROJECT_ENVIRONMENT,
 * .venv-sct-$(cat .python-version), .venv, python3 on PATH without pyenv's shims --
 * recording each step, then probes it. */
int python_find(const char *python_opt, char *const *argv, int argc, struct pyinfo *ret);

/* The same search without an option or a command, and without starting anything (the
 * hook's greeting is keyed by the interpreter): a malloc'd path, or -ENOENT. */
int python_locate(char **ret_path);

/* A version-only query (--python-version): nothing probed, nothing installed known.
 * -EINVAL for a malformed version. */
int python_assume(const char *version, struct pyinfo *ret);

void pyinfo_free(struct pyinfo *py);

/* The installed distribution called name (any spelling: "py_spy", "Py-Spy"): returns 1
 * and its version (malloc'd, from METADATA/PKG-INFO, else from the entry's name; NULL
 * when unknown), 0 when not installed, or a negative errno. The first site-packages in
 * search order wins, as on sys.path. */
int python_dist(const struct pyinfo *py, const char *name, char **ret_version);

/* A program: in the interpreter's bin/ first, then on PATH (pyenv's shims skipped).
 * malloc'd absolute path or NULL. */
char *python_executable(const struct pyinfo *py, const char *name);

/* PEP 503 normalisation into buf: lower case, runs of "-_." as one "-". */
const char *python_normalize_name(const char *name, char *buf, size_t size);
/* True for a directory of pyenv's shims ($PYENV_ROOT/shims, pyenv-virtualenv's). */
bool python_is_shim_dir(const char *dir);

/* This machine's platform in the matrix's words: "linux", "darwin", "win32". */
const char *python_host_platform(void);

/* {"path", "origin", "version", "version_source", "venv", "site_packages", "search"} */
json_t *pyinfo_to_json(const struct pyinfo *py);
