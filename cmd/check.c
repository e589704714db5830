/* sctprof check: for the interpreter that would run the test, which profilers are
 * installed, which the matrix lets run on its Python version and platform, which tool
 * each kind would pick, and what to fix. The decisions are lib/verdict.c's; this file
 * parses options and prints them as text, JSON or SCT's markdown table. */
#include "cmd.h"
#include "error.h"
#include "exitcode.h"
#include "log.h"
#include "matrix.h"
#include "plugin.h"
#include "python.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"usage: sctprof check [--python PATH | --python-version X.Y[.Z]] [--platform P]\n"
	"                     [-p|--profile KIND] [--matrix FILE] [--format FMT] [--strict]\n"
	"                     [-v|--verbose] [-- COMMAND...]\n"
	"\n"
	"Say, for the Python that would run the test, which profilers are installed, which\n"
	"work on its version and platform (from the compatibility matrix), and which tool\n"
	"each profile kind would use; with reasons and what to do.\n"
	"\n"
	"Options:\n"
	"      --python PATH          the interpreter to check (default: as 'run' finds it:\n"
	"                             $VIRTUAL_ENV, $UV_PROJECT_ENVIRONMENT, .venv-sct-X.Y,\n"
	"                             .venv, python3 on PATH without pyenv's shims)\n"
	"      --python-version V     judge a Python version from the matrix alone\n"
	"      --platform P           linux, darwin or win32 (default: this machine's)\n"
	"  -p, --profile KIND         the kind that decides the exit status\n"
	"      --matrix FILE          the matrix (default $SCTPROF_MATRIX, else the shipped one)\n"
	"      --format FMT           text (default), json, markdown (SCT's docs table)\n"
	"      --strict               exit 2 when the tool picked is only untested\n"
	"  -v, --verbose              say where the interpreter and its facts came from\n"
	"  -h, --help                 this text\n"
	"  -- COMMAND...              check the interpreter COMMAND would run\n"
	"\n"
	"Exit status: 0 when the kind (without --profile: every kind) has a usable tool,\n"
	"1 when it has none, 2 with --strict when the pick is untested; 64 bad option,\n"
	"65 malformed matrix, 66 missing matrix or interpreter.\n";

extern const struct cmd cmd_check;

enum { FMT_TEXT, FMT_JSON, FMT_MARKDOWN };
enum { OPT_PYTHON = 256, OPT_PYVERSION, OPT_PLATFORM, OPT_MATRIX, OPT_FORMAT, OPT_STRICT };

static const struct option options[] = {
	{ "python", required_argument, NULL, OPT_PYTHON },
	{ "python-version", required_argument, NULL, OPT_PYVERSION },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "profile", required_argument, NULL, 'p' },
	{ "matrix", required_argument, NULL, OPT_MATRIX },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* What one kind picks, or why nothing. */
struct pick {
	bool ok;
	struct verdict v;
	char *why;      /* when !ok: the one-line reason */
};

static int matrix_exit_code(int r)
{
	return r == -EBADMSG || r == -EFBIG ? EXIT_DATAERR : r == -ENOMEM ? EXIT_SOFTWARE : EXIT_NOINPUT;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static void print_text(const struct matrix *m, const struct pyinfo *py, const char *platform,
		       const struct verdict *verdicts, const struct pick *picks)
{
	if (py->path)
		printf("Python %s at %s (%s), %s\n", py->version, py->path, py->origin, platform);
	else
		printf("Python %s (--python-version; nothing installed is known), %s\n",
		       py->version, platform);
	if (log_get_level() >= LOG_VERBOSE) {
		printf("  matrix: %s\n", m->path);
		for (size_t i = 0; i < py->n_steps; i++)
			printf("  search: %s: %s\n", py->steps[i].step, py->steps[i].result);
		if (py->path)
			printf("  version: %s from %s\n", py->version, py->version_source);
		if (py->venv)
			printf("  virtualenv: %s\n", py->venv);
		for (size_t i = 0; i < py->site_packages.n; i++)
			printf("  site-packages: %s\n", py->site_packages.v[i]);
	}
	putchar('\n');
	for (size_t i = 0; i < m->n_tools; i++) {
		const struct verdict *v = &verdicts[i];
		const char *inst = v->installed < 0 ? "-" : v->installed == 0 ? "not installed"
				   : v->version ? v->version : "unknown";
		const char *word = verdict_word(v);

		const char *sep = " ";

		printf("%s %-19s %-14s %-9s", compat_status_symbol(v->status), v->tool, inst,
		       !strcmp(word, "not-installed") ? "missing" : word);
		if (v->reason && strcmp(v->reason, "not installed")) {
			printf("%s%s", sep, v->reason);
			sep = "; ";
		}
		if (v->issue && v->status != COMPAT_SUPPORTED) {
			printf("%stracking %s", sep, v->issue);
			sep = "; ";
		}
		if (v->hint) {
			printf("%shint: %s", sep, v->hint);
			sep = "; ";
		}
		putchar('\n');
	}
	printf("\nkinds:\n");
	for (size_t i = 0; i < m->n_kinds; i++) {
		const struct pick *p = &picks[i];

		printf("  %-10s ", m->kinds[i].name);
		if (!p->ok) {
			printf("none: %s\n", p->why ? p->why : "?");
			continue;
		}
		printf("%s %s", compat_status_symbol(p->v.status), p->v.tool);
		if (p->v.mode)
			printf(" (%s)", p->v.mode);
		if (!plugin_find(p->v.tool))
			printf(" [no backend in this build]");
		for (size_t j = 0; j < p->v.passed_tools.n; j++)
			printf("%s%s: %s", j ? "; " : " -- passed over ", p->v.passed_tools.v[j],
			       p->v.passed_reasons.v[j]);
		putchar('\n');
	}
	if (py->n_findings) {
		printf("\nfindings:\n");
		for (size_t i = 0; i < py->n_findings; i++)
			printf("  %s: %s\n    hint: %s\n", py->findings[i].code, py->findings[i].message,
			       py->findings[i].hint);
	}
}

static int print_json(const struct matrix *m, const struct pyinfo *py, const char *platform,
		      const struct verdict *verdicts, const struct pick *picks, int code)
{
	json_t *o = json_object(), *tools = json_array(), *kinds = json_array(),
	       *findings = json_array();
	char *s;

	if (!o || !tools || !kinds || !findings)
		goto fail;
	json_object_set_new(o, "format", json_string("sctprof-check/1"));
	json_object_set_new(o, "matrix", json_string(m->path));
	json_object_set_new(o, "platform", json_string(platform));
	json_object_set_new(o, "python", pyinfo_to_json(py));
	for (size_t i = 0; i < m->n_tools; i++) {
		json_t *t = verdict_to_json(&verdicts[i]);
		if (!t)
			goto fail;
		json_object_del(t, "kind");
		json_object_del(t, "mode");
		json_object_del(t, "forced");
		json_object_del(t, "passed_over");
		json_object_set_new(t, "title", json_string(m->tools[i].title));
		json_object_set_new(t, "role", json_string(m->tools[i].viewer ? "viewer" : "profiler"));
		json_array_append_new(tools, t);
	}
	for (size_t i = 0; i < m->n_kinds; i++) {
		const struct pick *p = &picks[i];
		json_t *k = json_object(), *passed = json_array();

		json_object_set_new(k, "kind", json_string(m->kinds[i].name));
		json_object_set_new(k, "tool", p->ok ? json_string(p->v.tool) : json_null());
		json_object_set_new(k, "mode", p->ok && p->v.mode ? json_string(p->v.mode) : json_null());
		json_object_set_new(k, "status", p->ok ? json_string(compat_status_name(p->v.status))
						   : json_null());
		json_object_set_new(k, "backend", json_boolean(p->ok && plugin_find(p->v.tool)));
		json_object_set_new(k, "reason", p->ok ? json_null() : json_string(or_empty(p->why)));
		for (size_t j = 0; p->ok && j < p->v.passed_tools.n; j++)
			json_array_append_new(passed, json_pack("{s:s, s:s}", "tool", p->v.passed_tools.v[j],
								"reason", p->v.passed_reasons.v[j]));
		json_object_set_new(k, "passed_over", passed);
		json_array_append_new(kinds, k);
	}
	for (size_t i = 0; i < py->n_findings; i++)
		json_array_append_new(findings, json_pack("{s:s, s:s, s:s, s:s}",
							  "code", py->findings[i].code,
							  "severity", "warning",
							  "message", py->findings[i].message,
							  "hint", py->findings[i].hint));
	json_object_set_new(o, "tools", tools);
	json_object_set_new(o, "kinds", kinds);
	json_object_set_new(o, "findings", findings);
	json_object_set_new(o, "exit", json_integer(code));
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	puts(s);
	free(s);
	return 0;
fail:
	json_decref(o);
	json_decref(tools);
	json_decref(kinds);
	json_decref(findings);
	return -ENOMEM;
}

static int check_main(int argc, char **argv)
{
	const struct cmd *self = &cmd_check;
	const char *python = NULL, *pyversion = NULL, *platform = NULL, *kind = NULL,
		   *matrix_opt = NULL;
	int format = FMT_TEXT, c, r, code = 0;
	bool strict = false;
	struct matrix *m = NULL;
	struct pyinfo py = { 0 };
	struct verdict *verdicts = NULL;
	struct pick *picks = NULL;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:vh", options, NULL)) != -1) {
		switch (c) {
		case OPT_PYTHON:
			python = optarg;
			break;
		case OPT_PYVERSION:
			pyversion = optarg;
			break;
		case OPT_PLATFORM:
			if (!matrix_platform_bit(optarg))
				return cmd_usage_error(self, "unknown --platform '%s' (linux, darwin, win32)",
						       optarg);
			platform = optarg;
			break;
		case 'p':
			kind = optarg;
			break;
		case OPT_MATRIX:
			matrix_opt = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "text"))
				format = FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				format = FMT_JSON;
			else if (!strcmp(optarg, "markdown"))
				format = FMT_MARKDOWN;
			else
				return cmd_usage_error(self, "unknown --format '%s' (text, json, markdown)",
						       optarg);
			break;
		case OPT_STRICT:
			strict = true;
			break;
		case 'v':
			log_set_level(LOG_VERBOSE);
			break;
		case 'h':
			return cmd_help(self);
		case ':':
			return cmd_usage_error(self, "option '%s' needs a value", argv[optind - 1]);
		default:
			return cmd_usage_error(self, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (python && pyversion)
		return cmd_usage_error(self, "--python and --python-version exclude each other");
	if (pyversion && optind < argc)
		return cmd_usage_error(self, "--python-version takes no command");
	if (!platform)
		platform = python_host_platform();

	r = matrix_load(matrix_default_path(matrix_opt), &m);
	if (r < 0) {
		code = log_fail(r, matrix_exit_code(r));
		goto out;
	}
	if (kind && !matrix_kind(m, kind)) {
		char list[512] = "";
		for (size_t i = 0; i < m->n_kinds; i++) {
			size_t len = strlen(list);
			snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", m->kinds[i].name);
		}
		code = cmd_usage_error(self, "unknown profile kind '%s' (%s)", kind, list);
		goto out;
	}
	if (pyversion)
		r = python_assume(pyversion, &py);
	else
		r = python_find(python, argv + optind, argc - optind, &py);
	if (r < 0) {
		code = log_fail(r, r == -ENOENT ? EXIT_NOINPUT : r == -ENOMEM ? EXIT_SOFTWARE : EXIT_USAGE);
		goto out;
	}

	if (format == FMT_MARKDOWN) {
		char *md = matrix_markdown(m, &py.ver);
		if (!md) {
			code = log_fail(-ENOMEM, EXIT_SOFTWARE);
			goto out;
		}
		fputs(md, stdout);
		free(md);
		code = 0;
		goto out;
	}

	verdicts = calloc(m->n_tools, sizeof(*verdicts));
	picks = calloc(m->n_kinds, sizeof(*picks));
	if (!verdicts || !picks) {
		code = log_fail(-ENOMEM, EXIT_SOFTWARE);
		goto out;
	}
	for (size_t i = 0; i < m->n_tools; i++) {
		if ((r = matrix_evaluate(m, &m->tools[i], &py, platform, &verdicts[i])) < 0) {
			code = log_fail(r, EXIT_SOFTWARE);
			goto out;
		}
	}
	for (size_t i = 0; i < m->n_kinds; i++) {
		bool counts = !kind || !strcmp(kind, m->kinds[i].name);

		err_clear();
		r = matrix_choose(m, m->kinds[i].name, &py, platform, NULL, false, &picks[i].v);
		if (r == -ENOMEM) {
			code = log_fail(r, EXIT_SOFTWARE);
			goto out;
		}
		picks[i].ok = r == 0;
		if (r < 0 && !(picks[i].why = strdup(err_msg_for(r)))) {
			code = log_fail(-ENOMEM, EXIT_SOFTWARE);
			goto out;
		}
		if (!counts)
			continue;
		if (!picks[i].ok)
			code = 1;
		else if (strict && picks[i].v.status == COMPAT_UNTESTED && code == 0)
			code = 2;
	}

	if (format == FMT_JSON) {
		if ((r = print_json(m, &py, platform, verdicts, picks, code)) < 0)
			code = log_fail(r, EXIT_SOFTWARE);
	} else {
		print_text(m, &py, platform, verdicts, picks);
	}
out:
	for (size_t i = 0; verdicts && i < m->n_tools; i++)
		verdict_free(&verdicts[i]);
	for (size_t i = 0; picks && i < m->n_kinds; i++) {
		verdict_free(&picks[i].v);
		free(picks[i].why);
	}
	free(verdicts);
	free(picks);
	pyinfo_free(&py);
	matrix_free(m);
	return code;
}

const struct cmd cmd_check = {
	.name = "check",
	.summary = "say which profilers work with the test's Python, and why",
	.usage = usage,
	.run = check_main,
};
