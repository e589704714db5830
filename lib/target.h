/* What the user's command is, in Python's own terms: which interpreter, which of its
 * options, and whether it runs a script, a module or a code string, with which
 * arguments. Resolving it lets a backend run the very same program under a profiler. */
#pragma once

#include "strv.h"

enum target_mode {
	TARGET_SCRIPT,  /* python [opts] script.py args */
	TARGET_MODULE,  /* python [opts] -m module args */
	TARGET_CODE,    /* python [opts] -c code args */
};

struct target {
	char *python;            /* interpreter, absolute path (looked up on PATH if need be) */
	struct strv interp_opts; /* options before the target, exactly as given: -u, -X dev */
	enum target_mode mode;
	char *target;            /* script path as given, module name, or code */
	struct strv args;        /* the program's own arguments */
	char *origin;            /* how the interpreter was found, for the manifest and -v */
};

/* Resolves argv (the command after "--"). With python_override (--python), a script
 * or console script is run by that interpreter instead of its shebang's. Errors are
 * -ENOENT (missing file or interpreter), -ENOEXEC (not a Python program) and -EINVAL
 * (a python command with nothing to run), each with err_set() naming what was found. */
int target_resolve(char *const *argv, int argc, const char *python_override,
		   struct target *ret);
void target_free(struct target *t);

/* The argv that runs the target: interp_opts, then "-m mod" / "-c code" / script, then
 * args. Backends that wrap the interpreter use the pieces instead. */
int target_python_argv(const struct target *t, struct strv *out);
/* Its program part alone, "-m mod" / "-c code" / script, then args: for a launcher that
 * takes the program as Python's command line does. */
int target_program_argv(const struct target *t, struct strv *out);

/* Looks name up on PATH as execvp() would. Returns a malloc'd absolute path or NULL. */
char *path_lookup(const char *name);
/* True for a file name that names a Python interpreter: python, python3, python3.14,
 * python3.14t, pypy3 ... */
int is_python_name(const char *path);
