/* Target resolution: from the command after "--" to interpreter + options + program.
 *
 * Recognised forms, each kept exactly as Python would run it:
 *   python3 [opts] script.py args | python3.X [opts] -m module args | python3 -c code
 *   ./sct.py args (a Python shebang: "#!/usr/bin/python3", "#!/usr/bin/env python3",
 *                  "#!/usr/bin/env -S python3 -u", or pip's long-path "#!/bin/sh" trick)
 *   pytest args   (a console script on PATH, which is a file with such a shebang)
 * Anything else is -ENOEXEC with a reason that names what was found. */
#include "target.h"
#include "error.h"
#include "fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *path_lookup(const char *name)
{
	if (!name || !*name)
		return NULL;
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? path_absolute(name) : NULL;
	return path_search(name, NULL, NULL);
}

int is_python_name(const char *path)
{
	const char *b = strrchr(path, '/');
	const char *s;

	b = b ? b + 1 : path;
	if (strncmp(b, "python", 6) == 0)
		s = b + 6;
	else if (strncmp(b, "pypy", 4) == 0)
		s = b + 4;
	else
		return 0;
	/* python, python3, python3.14, python3.14t (free-threaded), python3.14d, -dbg */
	s += strspn(s, "0123456789.");
	return !*s || !strcmp(s, "t") || !strcmp(s, "d") || !strcmp(s, "-dbg");
}

/* Interpreter options that take a value, either attached (-Wd) or as the next word. */
static bool opt_takes_value(char c)
{
	return c == 'W' || c == 'X';
}

/* Parses "python [opts] (script|-m mod|-c code) args" starting at argv[i]. */
static int parse_python_args(char *const *argv, int argc, int i, struct target *t)
{
	int r;

	for (; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || strcmp(a, "-") == 0)
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[1] == '-') {
			if (!strcmp(a, "--check-hash-based-pycs")) {
				if (i + 1 >= argc)
					return err_set(EINVAL, "'%s' needs a value", a);
				if ((r = strv_push(&t->interp_opts, a)) < 0 ||
				    (r = strv_push(&t->interp_opts, argv[++i])) < 0)
					return r;
				continue;
			}
			if (!strncmp(a, "--check-hash-based-pycs=", 24)) {
				if ((r = strv_push(&t->interp_opts, a)) < 0)
					return r;
				continue;
			}
			return err_set(EINVAL, "python option '%s' runs no program: nothing to profile", a);
		}
		/* A cluster of one-letter flags, possibly ending in one that takes a value. */
		for (const char *c = a + 1; *c; c++) {
			if (*c == 'm' || *c == 'c') {
				const char *val = c[1] ? c + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
				if (!val)
					return err_set(EINVAL, "python option '-%c' needs an argument", *c);
				if (c != a + 1) {
					char *flags = strndup(a, (size_t)(c - a));
					if ((r = strv_consume(&t->interp_opts, flags)) < 0)
						return r;
				}
				t->mode = *c == 'm' ? TARGET_MODULE : TARGET_CODE;
				t->target = strdup(val);
				if (!t->target)
					return -ENOMEM;
				i += c[1] ? 1 : 2;
				return strv_extend(&t->args, argv + i, (size_t)(argc - i));
			}
			if (strchr("hV", *c) || (*c == '-'))
				return err_set(EINVAL, "python option '-%c' runs no program: nothing to profile", *c);
			if (opt_takes_value(*c)) {
				if (!c[1]) {
					if (i + 1 >= argc)
						return err_set(EINVAL, "python option '-%c' needs an argument", *c);
					if ((r = strv_push(&t->interp_opts, a)) < 0 ||
					    (r = strv_push(&t->interp_opts, argv[++i])) < 0)
						return r;
				} else if ((r = strv_push(&t->interp_opts, a)) < 0) {
					return r;
				}
				goto next_word;
			}
			if (!strchr("bBdEiIOPqsSuvxR", *c))
				return err_set(EINVAL, "unknown python option '-%c' in '%s'", *c, a);
		}
		if ((r = strv_push(&t->interp_opts, a)) < 0)
			return r;
next_word:;
	}
	if (i >= argc)
		return err_set(EINVAL, "'%s' names no script or module: nothing to profile", argv[0]);
	if (strcmp(argv[i], "-") == 0)
		return err_set(EINVAL, "a program read from standard input cannot be profiled; save it to a file");
	t->mode = TARGET_SCRIPT;
	t->target = strdup(argv[i]);
	if (!t->target)
		return -ENOMEM;
	if (access(t->target, R_OK) != 0)
		return err_set(ENOENT, "script '%s': %s", t->target, strerror(errno));
	return strv_extend(&t->args, argv + i + 1, (size_t)(argc - i - 1));
}

/* Splits a shebang line's words after "#!". With env -S, the rest is split on blanks;
 * otherwise, as Linux does, everything after the interpreter is one argument. */
static int shebang_words(const char *line, struct strv *words)
{
	const char *p = line + 2;
	int r;

	while (*p == ' ' || *p == '\t')
		p++;
	while (*p) {
		const char *start = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if ((r = strv_consume(words, strndup(start, (size_t)(p - start)))) < 0)
			return r;
		while (*p == ' ' || *p == '\t')
			p++;
		if (words->n == 1 && *p) {
			const char *b = strrchr(words->v[0], '/');
			b = b ? b + 1 : words->v[0];
			if (strcmp(b, "env") != 0) {
				/* The single optional argument, trailing blanks trimmed. */
				const char *e = p + strlen(p);
				while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
					e--;
				return strv_consume(words, strndup(p, (size_t)(e - p)));
			}
		}
	}
	return 0;
}

/* From a program file, the interpreter command (words) its shebang names, when Python. */
static int python_from_file(const char *path, const char *shown, struct strv *interp)
{
	size_t len;
	char *head = NULL, *nl;
	struct strv words = STRV_INIT;
	int r = read_head(path, 4096, &head, &len);

	if (r < 0)
		return err_set(-r, "'%s': %s", shown, strerror(-r));
	if (len >= 4 && memcmp(head, "\177ELF", 4) == 0) {
		r = err_set(ENOEXEC, "'%s' is an ELF binary, not a Python program", shown);
		goto out;
	}
	if (len < 2 || head[0] != '#' || head[1] != '!') {
		r = err_set(ENOEXEC, "'%s' has no '#!' line: not a Python program (run it as 'python3 %s')",
			    shown, shown);
		goto out;
	}
	nl = strchr(head, '\n');
	if (nl)
		*nl = '\0';
	if ((r = shebang_words(head, &words)) < 0)
		goto out;
	if (words.n == 0) {
		r = err_set(ENOEXEC, "'%s' has an empty '#!' line", shown);
		goto out;
	}
	if (is_python_name(words.v[0])) {
		r = strv_extend(interp, words.v, words.n);
		goto out;
	}
	{
		const char *b = strrchr(words.v[0], '/');
		b = b ? b + 1 : words.v[0];
		if (!strcmp(b, "env")) {
			size_t k = 1;
			if (k < words.n && !strcmp(words.v[k], "-S"))
				k++;
			if (k < words.n && is_python_name(words.v[k])) {
				r = strv_extend(interp, words.v + k, words.n - k);
				goto out;
			}
		}
		/* pip/distlib's launcher for interpreters whose path is too long for a shebang:
		 *   #!/bin/sh
		 *   '''exec' /long/path/bin/python "$0" "$@"
		 *   ' ''' */
		if ((!strcmp(b, "sh") || !strcmp(b, "bash")) && nl) {
			char *l2 = nl + 1, *e2 = strchr(l2, '\n');
			if (e2)
				*e2 = '\0';
			if (!strncmp(l2, "'''exec' ", 9)) {
				char *p = l2 + 9, *sp = strchr(p, ' ');
				if (sp)
					*sp = '\0';
				if (is_python_name(p)) {
					r = strv_push(interp, p);
					goto out;
				}
			}
		}
	}
	r = err_set(ENOEXEC, "'%s' is a script for '%s', not a Python program", shown, head + 2);
out:
	strv_free(&words);
	free(head);
	return r;
}

static int set_python(struct target *t, const char *name, const char *origin)
{
	t->python = path_lookup(name);
	if (!t->python)
		return err_set(ENOENT, "interpreter '%s' not found%s", name,
			       strchr(name, '/') ? "" : " on PATH");
	t->origin = strdup(origin);
	return t->origin ? 0 : -ENOMEM;
}

int target_resolve(char *const *argv, int argc, const char *python_override, struct target *ret)
{
	struct target t = { 0 };
	struct strv interp = STRV_INIT;
	char *prog = NULL, origin[PATH_MAX + 64];
	int r;

	if (argc < 1 || !argv[0] || !*argv[0])
		return err_set(EINVAL, "no command given");

	if (is_python_name(argv[0])) {
		snprintf(origin, sizeof(origin), "the command names '%s'", argv[0]);
		r = set_python(&t, python_override ? python_override : argv[0],
			       python_override ? "--python" : origin);
		if (r < 0)
			goto out;
		r = parse_python_args(argv, argc, 1, &t);
		goto out;
	}

	/* A program file: a path, or a name on PATH (a console script). */
	if (strchr(argv[0], '/')) {
		if (access(argv[0], F_OK) != 0) {
			r = err_set(ENOENT, "'%s': no such file", argv[0]);
			goto out;
		}
		prog = strdup(argv[0]);
	} else {
		prog = path_lookup(argv[0]);
		if (!prog) {
			r = err_set(ENOENT, "'%s': command not found on PATH", argv[0]);
			goto out;
		}
	}
	if (!prog) {
		r = -ENOMEM;
		goto out;
	}
	{
		struct stat st;
		if (stat(prog, &st) == 0 && S_ISDIR(st.st_mode)) {
			r = err_set(ENOEXEC, "'%s' is a directory, not a Python program", argv[0]);
			goto out;
		}
	}
	r = python_from_file(prog, argv[0], &interp);
	if (r < 0)
		goto out;
	if (python_override) {
		r = set_python(&t, python_override, "--python");
	} else {
		snprintf(origin, sizeof(origin), "the '#!' line of '%s'", prog);
		r = set_python(&t, interp.v[0], origin);
	}
	if (r < 0)
		goto out;
	/* Shebang options (-u, "-W error") come before the script, as the kernel passes them. */
	for (size_t k = 1; k < interp.n; k++)
		if ((r = strv_push(&t.interp_opts, interp.v[k])) < 0)
			goto out;
	t.mode = TARGET_SCRIPT;
	t.target = prog;
	prog = NULL;
	r = strv_extend(&t.args, argv + 1, (size_t)(argc - 1));
out:
	free(prog);
	strv_free(&interp);
	if (r < 0) {
		target_free(&t);
		return r;
	}
	*ret = t;
	return 0;
}

int target_python_argv(const struct target *t, struct strv *out)
{
	int r;

	if ((r = strv_push(out, t->python)) < 0 ||
	    (r = strv_extend(out, t->interp_opts.v, t->interp_opts.n)) < 0)
		return r;
	return target_program_argv(t, out);
}

int target_program_argv(const struct target *t, struct strv *out)
{
	int r;

	if (t->mode == TARGET_MODULE && (r = strv_push(out, "-m")) < 0)
		return r;
	if (t->mode == TARGET_CODE && (r = strv_push(out, "-c")) < 0)
		return r;
	if ((r = strv_push(out, t->target)) < 0)
		return r;
	return strv_extend(out, t->args.v, t->args.n);
}

void target_free(struct target *t)
{
	if (!t)
		return;
	free(t->python);
	free(t->target);
	free(t->origin);
	strv_free(&t->interp_opts);
	strv_free(&t->args);
	*t = (struct target){ 0 };
}
