/* The matrix loader's rules and error positions, verdicts for version-only queries,
 * the markdown table, and the ptrace assessment. Interpreters with installed tools are
 * the end-to-end tests' business (tests/e2e/test_check.py). */
#include "tap.h"

#include <errno.h>

#include "config.h"
#include "error.h"
#include "matrix.h"
#include "ptrace.h"
#include "python.h"

static char fixture[512];

static const char *fx(const char *name)
{
	snprintf(fixture, sizeof(fixture), "%s/tests/fixtures/matrix/%s", SCTPROF_SOURCE_ROOT, name);
	return fixture;
}

/* Loads a fixture that must fail; checks the error names "NAME':LINE:COL: " and text. */
static void refused(const char *name, const char *where, const char *text)
{
	struct matrix *m = NULL;
	char what[128], want[128];
	int r;

	err_clear();
	r = matrix_load(fx(name), &m);
	snprintf(what, sizeof(what), "%s refused at %s", name, where);
	snprintf(want, sizeof(want), "%s':%s: ", name, where);
	if (!ok(r == -EBADMSG && strstr(err_msg_for(r), want) && strstr(err_msg_for(r), text), what))
		printf("#   r=%d: %s\n", r, err_msg_for(r));
	matrix_free(m);
}

static void refused_text(const char *yaml, const char *text, const char *what)
{
	struct matrix *m = NULL;
	int r;

	err_clear();
	r = matrix_load_buffer("mem.yaml", yaml, strlen(yaml), &m);
	if (!ok(r == -EBADMSG && strstr(err_msg_for(r), text), what))
		printf("#   r=%d: %s\n", r, err_msg_for(r));
	matrix_free(m);
}

#define HEAD "schema: 1\ntools:\n  t:\n    role: profiler\n    detect: {dist: t}\n"
#define KINDS "kinds:\n  k: [t]\n"

static struct verdict eval(const struct matrix *m, const char *tool, const char *version,
			   const char *platform)
{
	struct pyinfo py;
	struct verdict v = { 0 };

	if (python_assume(version, &py) < 0)
		return v;
	py.ptrace.verdict = PTRACE_OK;
	if (matrix_evaluate(m, matrix_tool(m, tool), &py, platform, &v) < 0)
		printf("# evaluate failed: %s\n", err_msg_for(-1));
	pyinfo_free(&py);
	return v;
}

int main(void)
{
	struct matrix *m = NULL, *shipped = NULL;
	struct verdict v;
	struct ptrace_facts pf;
	int r;

	r = matrix_load(fx("valid.yaml"), &m);
	if (!ok(r == 0, "valid.yaml loads"))
		printf("#   %s\n", err_msg_for(r));
	if (r == 0) {
		const struct matrix_tool *t = matrix_tool(m, "py-spy");
		const struct matrix_kind *k = matrix_kind(m, "sampling");
		is_int(m->n_tools, 4, "  four tools");
		is_int(m->n_kinds, 3, "  three kinds");
		ok(t && t->needs_ptrace && t->n_rows == 3 && t->executable && !t->dist, "  py-spy read");
		ok(t && t->rows[1].issue && !strcmp(t->rows[1].min_version, "0.4.2"), "  its row keys");
		ok(k && k->n_entries == 2 && k->entries[1].mode && !strcmp(k->entries[1].mode, "fallback"),
		   "  a kind entry with a mode");
		ok(matrix_tool(m, "memray")->platforms == (PLATFORM_LINUX | PLATFORM_DARWIN),
		   "  platforms");
		ok(!matrix_tool(m, "snakeviz")->markdown && matrix_tool(m, "snakeviz")->viewer,
		   "  markdown: false and role viewer");
		is_str(matrix_tool(m, "cprofile")->title, "cProfile (stdlib)", "  title");
		is_str(matrix_tool(m, "memray")->title, "memray", "  title defaults to the name");
	}

	refused("unknown-key.yaml", "8:9", "unknown key 'statuss'");
	refused("duplicate-key.yaml", "6:5", "duplicate key 'role' (first at line 4)");
	refused("bad-status.yaml", "8:17", "bad status 'works'");
	refused("bad-range.yaml", "7:25", "bad range '>=3.14, ~3.15'");
	refused("unknown-tool.yaml", "10:24", "unknown tool 'pyspy'");
	refused("overlap.yaml", "8:17", "overlaps range '<=3.14' of line 7");
	refused("viewer-kind.yaml", "9:14", "a viewer, not a profiler");
	refused("alias.yaml", "8:13", "alias '*rows' is not supported");
	refused("syntax.yaml", "6:11", "did not find expected");
	refused("bad-schema.yaml", "1:9", "schema '2' is not supported");

	refused_text(HEAD "    python:\n      - {range: '*', status: supported, min-version: latest}\n" KINDS,
		     "bad min-version 'latest'", "a bad min-version");
	refused_text(HEAD "    python:\n      - {range: '*', status: supported, issue: 'github #12'}\n" KINDS,
		     "bad issue", "an issue that is not a URL");
	refused_text(HEAD "    platforms: [linux, windows]\n    python:\n      - {range: '*', status: supported}\n" KINDS,
		     "unknown platform 'windows'", "an unknown platform");
	refused_text(HEAD "    platforms: [linux, linux]\n    python:\n      - {range: '*', status: supported}\n" KINDS,
		     "given twice", "a platform given twice");
	refused_text(HEAD "    python: []\n" KINDS, "has no rows", "a tool without rows");
	refused_text(HEAD "    python:\n      - {range: '*', status: supported}\n"
		     "kinds:\n  k: [t, t]\n", "names 't' twice", "a kind naming a tool twice");
	refused_text(HEAD "    python:\n      - {range: '*', status: supported}\n"
		     "kinds:\n  k: []\n", "lists no tool", "an empty kind");
	refused_text(HEAD "    python:\n      - {range: '*', status: supported}\n", "missing key 'kinds'",
		     "a matrix without kinds");
	refused_text("schema: 1\ntools:\n  t:\n    role: profiler\n    python:\n"
		     "      - {range: '*', status: supported}\n" KINDS, "has no 'detect'", "a tool without detect");
	refused_text("schema: 1\ntools:\n  t:\n    role: profiler\n    detect: {}\n    python:\n"
		     "      - {range: '*', status: supported}\n" KINDS, "'detect' needs stdlib, dist or executable",
		     "an empty detect");
	refused_text(HEAD "    markdown: maybe\n    python:\n      - {range: '*', status: supported}\n" KINDS,
		     "true or false", "markdown must be a boolean");
	refused_text(HEAD "    python:\n      - {range: '*', status: supported, note: \"a\\nb\"}\n" KINDS,
		     "one line", "a note of two lines");
	refused_text(HEAD "    python: {range: '*'}\n" KINDS, "must be a list", "rows must be a list");
	refused_text("", "empty document", "an empty file");
	refused_text("schema: 1\n---\nschema: 1\n", "a second document", "two documents");
	refused_text("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
		     "nested too deeply", "deep nesting");
	refused_text("a: \"\\0\"\n", "NUL", "a NUL in a value");
	refused_text("\xff\xfe\x00", ":1:", "bad encoding");
	{
		struct matrix *x = NULL;
		err_clear();
		r = matrix_load(fx("no-such-file.yaml"), &x);
		ok(r == -ENOENT && strstr(err_msg_for(r), "no-such-file.yaml"), "a missing file is -ENOENT");
		matrix_free(x);
	}

	/* Verdicts from the matrix alone (--python-version). */
	if (m) {
		v = eval(m, "py-spy", "3.14.6", "linux");
		ok(v.status == COMPAT_UNTESTED && v.usable && v.installed == -1 &&
		   v.issue && strstr(v.issue, "852"), "py-spy on 3.14.6: untested, with issue 852");
		verdict_free(&v);
		v = eval(m, "py-spy", "3.14.2", "linux");
		ok(v.status == COMPAT_SUPPORTED && v.min_version && !strcmp(v.min_version, "0.4.2"),
		   "py-spy on 3.14.2: supported from 0.4.2");
		verdict_free(&v);
		v = eval(m, "py-spy", "3.14", "linux");
		ok(v.status == COMPAT_UNTESTED && v.reason && strstr(v.reason, "3.14.5+"),
		   "py-spy on the 3.14 series: the least favourable row, saying which part");
		verdict_free(&v);
		v = eval(m, "py-spy", "3.15.1", "linux");
		ok(v.status == COMPAT_UNTESTED && v.reason && strstr(v.reason, "no row for Python 3.15.1"),
		   "a version without a row is untested");
		verdict_free(&v);
		v = eval(m, "memray", "3.13.1", "win32");
		ok(v.status == COMPAT_UNSUPPORTED && !v.usable && strstr(v.reason, "win32") &&
		   strstr(v.reason, "linux, darwin"), "memray on win32 refused, naming its platforms");
		verdict_free(&v);
		{
			struct pyinfo py;
			python_assume("3.13.1", &py);
			py.ptrace.verdict = PTRACE_OK;
			r = matrix_choose(m, "memory", &py, "win32", NULL, false, &v);
			ok(r == -ENOTSUP && strstr(err_msg_for(r), "memray"), "kind memory on win32: none");
			r = matrix_choose(m, "sampling", &py, "linux", NULL, false, &v);
			ok(r == 0 && !strcmp(v.tool, "py-spy") && !strcmp(v.kind, "sampling"),
			   "kind sampling on 3.13.1 picks py-spy");
			verdict_free(&v);
			r = matrix_choose(m, "nope", &py, "linux", NULL, false, &v);
			ok(r == -EINVAL && strstr(err_msg_for(r), "unknown kind 'nope'"), "an unknown kind");
			r = matrix_choose(m, "sampling", &py, "linux", "snakeviz", false, &v);
			ok(r == -EINVAL, "--tool naming a viewer is refused");
			r = matrix_choose(m, "memory", &py, "linux", "py-spy", false, &v);
			ok(r == -EINVAL && strstr(err_msg_for(r), "not a tool of kind"),
			   "--tool naming a tool the kind does not list is refused");
			r = matrix_choose(m, NULL, &py, "linux", "py-spy", false, &v);
			ok(r == 0 && v.forced && !strcmp(v.kind, "sampling"), "--tool without a kind finds one");
			if (r == 0) {
				json_t *j = verdict_to_json(&v);
				ok(j && json_is_true(json_object_get(j, "forced")) &&
				   !strcmp(json_string_value(json_object_get(j, "tool")), "py-spy") &&
				   json_is_null(json_object_get(j, "installed")), "verdict_to_json");
				json_decref(j);
				verdict_free(&v);
			}
			py.ptrace.verdict = PTRACE_NO;
			snprintf(py.ptrace.reason, sizeof(py.ptrace.reason), "ptrace_scope is 3");
			r = matrix_choose(m, "sampling", &py, python_host_platform(), NULL, false, &v);
			ok(r == 0 && !strcmp(v.tool, "cprofile") && v.passed_tools.n == 1 &&
			   strstr(v.passed_reasons.v[0], "ptrace"),
			   "without ptrace, sampling passes over py-spy to the next tool");
			if (r == 0)
				verdict_free(&v);
			pyinfo_free(&py);
		}
	}

	/* SCT's docs table, from the shipped matrix. */
	r = matrix_load(SCTPROF_SOURCE_ROOT "/data/compat-matrix.yaml", &shipped);
	if (!ok(r == 0, "the shipped matrix loads"))
		printf("#   %s\n", err_msg_for(r));
	if (shipped) {
		struct pyver v314 = { { 3, 14, 0 }, 2 };
		char *md = matrix_markdown(shipped, &v314);
		ok(md && strstr(md, "| Tool | Python 3.14 | Notes |\n|---|---|---|\n"
				"| cProfile (stdlib) | \u2705 | part of Python |\n"), "markdown: header and cProfile");
		ok(md && strstr(md, "| py-spy | \u2705 3.14.0\u20133.14.4, \u26a0\ufe0f 3.14.5+ |"),
		   "markdown: py-spy per range");
		ok(md && !strstr(md, "profiling.sampling"), "markdown: markdown: false left out");
		free(md);
	}

	/* ptrace */
	ptrace_assess("Name:\tx\nCapEff:\t000001fffeffffff\nSeccomp:\t0\n", 1, &pf);
	ok(pf.verdict == PTRACE_OK && pf.cap_sys_ptrace, "root with every capability: ok");
	ptrace_assess("CapEff:\t00000000a80425fb\nSeccomp:\t2\n", -1, &pf);
	ok(pf.verdict == PTRACE_MAYBE && !pf.cap_sys_ptrace && strstr(pf.hint, "SYS_PTRACE"),
	   "docker's default caps under seccomp: maybe, hint --cap-add SYS_PTRACE");
	ptrace_assess("CapEff:\t00000000a80425fb\nSeccomp:\t0\n", 2, &pf);
	ok(pf.verdict == PTRACE_NO, "ptrace_scope 2 without CAP_SYS_PTRACE: no");
	ptrace_assess("CapEff:\t00000000a80c25fb\nSeccomp:\t2\n", 2, &pf);
	ok(pf.verdict == PTRACE_OK && pf.cap_sys_ptrace, "--cap-add SYS_PTRACE: ok");
	ptrace_assess("CapEff:\t000001fffeffffff\n", 3, &pf);
	ok(pf.verdict == PTRACE_NO && strstr(pf.reason, "3"), "ptrace_scope 3: no, whoever asks");
	ptrace_assess(NULL, -1, &pf);
	ok(pf.verdict == PTRACE_OK && pf.seccomp == -1, "no /proc: nothing known, not refused");

	matrix_free(m);
	matrix_free(shipped);
	return tap_done();
}
