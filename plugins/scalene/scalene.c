/* scalene backend (kinds: scalene; the fallback for memory, and for sampling with
 * --cpu-only). Its command line changed in scalene 2.0.0 (plasma-umass/scalene#963),
 * so the version decides the form:
 *
 *   >= 2.0:  python -m scalene run -o scalene.json [--cpu-only] PROG --- ARGS
 *            then  python -m scalene view --html scalene.json  (-> scalene.html)
 *   <  2.0:  python -m scalene --cli --json --outfile scalene.json [--cpu-only] PROG --- ARGS
 *            then  scalene's own Scalene.generate_html(scalene.json, scalene.html)
 *
 * The version is tool_run.tool_version when the runner found it, else the interpreter's
 * importlib.metadata (dist-info and Debian's egg-info alike). --cli keeps 1.x from
 * switching to its web mode (which rewrites the output name to profile.json) when it
 * finds a browser.
 *
 * PROG is sctprof's exit-status launcher: scalene exits 0 on Ctrl-C whatever the
 * program was doing, and its memory mode re-executes itself under LD_PRELOAD, passing
 * back only an exit code (a negative one for a signal). The launcher runs as scalene's
 * program, outside the profiled folder, so it does not appear in the profile; the
 * program's files under the working directory are profiled as scalene does by default
 * (--tool-arg=--program-path=DIR to change that). */
#include "plugin.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "error.h"
#include "post.h"

static const char *const kinds[] = { "scalene", "memory", "sampling", NULL };

static const char *const forbidden[] = {
	"--outfile", "-o", "--html", "--web", "--viewer", "--json", NULL,
};

static char version_buf[64];

/* The scalene version for this run: the runner's, or asked of the interpreter. */
static const char *scalene_version(struct tool_run *run)
{
	char *v = NULL;

	if (run->tool_version)
		return run->tool_version;
	if (python_dist_version(run->python, "scalene", &v) < 0)
		return NULL;
	snprintf(version_buf, sizeof(version_buf), "%s", v);
	free(v);
	run->tool_version = version_buf;
	return version_buf;
}

static bool new_cli(const char *version)
{
	return version_cmp(version, "2.0.0") >= 0;
}

static int scalene_command(struct tool_run *run)
{
	const struct target *t = run->target;
	struct strv *a = &run->argv;
	const char *version = scalene_version(run);
	bool cpu_only = strcmp(run->kind, "sampling") == 0;
	int r;

	if (!version)
		return err_set(ENOENT, "scalene is not installed for '%s'", run->python);
	if ((r = strv_push(a, run->python)) < 0 ||
	    (r = strv_extend(a, t->interp_opts.v, t->interp_opts.n)) < 0 ||
	    (r = strv_push(a, "-m")) < 0 ||
	    (r = strv_push(a, "scalene")) < 0)
		return r;
	if (new_cli(version)) {
		if ((r = strv_push(a, "run")) < 0 ||
		    (r = strv_push(a, "-o")) < 0 ||
		    (r = strv_push(a, run_path(run->run_dir, "scalene.json"))) < 0)
			return r;
	} else {
		if ((r = strv_push(a, "--cli")) < 0 ||
		    (r = strv_push(a, "--json")) < 0 ||
		    (r = strv_push(a, "--outfile")) < 0 ||
		    (r = strv_push(a, run_path(run->run_dir, "scalene.json"))) < 0)
			return r;
	}
	if (cpu_only && (r = strv_push(a, "--cpu-only")) < 0)
		return r;
	if ((r = push_tool_args(a, run, "scalene", forbidden)) < 0)
		return r;
	/* The launcher is the program; everything after "---" is its argv. */
	{
		struct strv l = STRV_INIT;

		r = launch_push(&l, run);
		if (r == 0)
			r = strv_push(a, l.v[0]);
		if (r == 0)
			r = strv_push(a, "---");
		if (r == 0)
			r = strv_extend(a, l.v + 1, l.n - 1);
		strv_free(&l);
	}
	return r;
}

static int scalene_exit_status(const struct tool_run *run, int wait_status, int *ret_status)
{
	return launch_exit_status(run, wait_status, false, ret_status);
}

/* --- summary ------------------------------------------------------------------------ */

struct line_row {
	const char *file;
	json_int_t lineno;
	const char *text;
	double cpu, peak_mb, malloc_mb;
};

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : 0;
}

static int by_cpu(const void *a, const void *b)
{
	const struct line_row *x = a, *y = b;

	return x->cpu < y->cpu ? 1 : x->cpu > y->cpu ? -1 : 0;
}

static int by_mem(const void *a, const void *b)
{
	const struct line_row *x = a, *y = b;
	double mx = x->peak_mb > x->malloc_mb ? x->peak_mb : x->malloc_mb;
	double my = y->peak_mb > y->malloc_mb ? y->peak_mb : y->malloc_mb;

	return mx < my ? 1 : mx > my ? -1 : 0;
}

static void one_line(struct sbuf *b, const char *s)
{
	for (; s && *s && *s != '\n'; s++)
		sbuf_putc(b, *s == '\t' ? ' ' : *s);
}

static int summarize(json_t *root, struct sbuf *b)
{
	json_t *files = json_object_get(root, "files"), *f;
	struct line_row *rows = NULL;
	size_t n = 0, cap = 0;
	const char *fname;
	bool memory = json_is_true(json_object_get(root, "memory"));

	if (!json_is_object(files) || json_object_size(files) == 0) {
		sbuf_printf(b, "scalene profile: empty (scalene reports nothing for a program that "
			    "ran too briefly to be sampled, or whose files are all outside the "
			    "profiled folder)\n");
		return b->err;
	}
	sbuf_printf(b, "scalene profile: %.3f s elapsed, %s", num(root, "elapsed_time_sec"),
		    memory ? "CPU and memory" : "CPU only");
	if (memory)
		sbuf_printf(b, ", peak footprint %.1f MB at %s:%lld", num(root, "max_footprint_mb"),
			    json_string_value(json_object_get(root, "max_footprint_fname")) ? json_string_value(json_object_get(root, "max_footprint_fname")) : "?",
			    (long long)num(root, "max_footprint_lineno"));
	sbuf_printf(b, "\nraw: scalene.json, view: scalene.html\n");
	json_object_foreach(files, fname, f) {
		json_t *lines = json_object_get(f, "lines"), *l;
		size_t i;

		json_array_foreach(lines, i, l) {
			struct line_row row = {
				.file = fname,
				.lineno = (json_int_t)num(l, "lineno"),
				.text = json_string_value(json_object_get(l, "line")),
				.cpu = num(l, "n_cpu_percent_python") + num(l, "n_cpu_percent_c") +
				       num(l, "n_sys_percent"),
				.peak_mb = num(l, "n_peak_mb"),
				.malloc_mb = num(l, "n_malloc_mb"),
			};

			if (row.cpu <= 0 && row.peak_mb <= 0 && row.malloc_mb <= 0)
				continue;
			if (n == cap) {
				struct line_row *nr;

				cap = cap ? cap * 2 : 64;
				nr = realloc(rows, cap * sizeof(*rows));
				if (!nr) {
					free(rows);
					return -ENOMEM;
				}
				rows = nr;
			}
			rows[n++] = row;
		}
	}
	qsort(rows, n, sizeof(*rows), by_cpu);
	sbuf_printf(b, "\nLines by CPU time (%% of the program's, Python + native + system):\n"
		    "%8s  %s\n", "cpu %", "file:line  code");
	for (size_t i = 0; i < n && i < 25 && rows[i].cpu > 0; i++) {
		sbuf_printf(b, "%8.2f  %s:%lld  ", rows[i].cpu, rows[i].file,
			    (long long)rows[i].lineno);
		one_line(b, rows[i].text);
		sbuf_putc(b, '\n');
	}
	if (memory) {
		qsort(rows, n, sizeof(*rows), by_mem);
		sbuf_printf(b, "\nLines by memory (peak MB, MB allocated):\n%10s %10s  %s\n",
			    "peak MB", "alloc MB", "file:line  code");
		for (size_t i = 0; i < n && i < 25 &&
		     (rows[i].peak_mb > 0 || rows[i].malloc_mb > 0); i++) {
			sbuf_printf(b, "%10.2f %10.2f  %s:%lld  ", rows[i].peak_mb,
				    rows[i].malloc_mb, rows[i].file, (long long)rows[i].lineno);
			one_line(b, rows[i].text);
			sbuf_putc(b, '\n');
		}
	}
	free(rows);
	return b->err;
}

static void write_summary(const struct tool_run *run, struct post *p)
{
	const char *path = run_path(run->run_dir, "scalene.json");
	struct sbuf b = { 0 };
	json_error_t jerr;
	json_t *root;
	int r;

	root = json_load_file(path, 0, &jerr);
	if (!root) {
		struct stat st;

		if (stat(path, &st) < 0)
			sbuf_printf(&b, "scalene profile: none (no scalene.json: scalene writes it "
				    "when the program ends or is interrupted; killed, it writes "
				    "nothing)\n");
		else
			sbuf_printf(&b, "scalene profile: scalene.json is not readable JSON "
				    "(line %d: %s)\n", jerr.line, jerr.text);
	} else if ((r = summarize(root, &b)) < 0) {
		post_record(p, "summary.txt", r, NULL);
		goto out;
	}
	r = b.err ? b.err : write_file_atomic(run_path(run->run_dir, "summary.txt"), b.s, b.len);
	post_record(p, "summary.txt", r, NULL);
out:
	json_decref(root);
	sbuf_free(&b);
}

static void scalene_post(const struct tool_run *run, struct post *p)
{
	const char *version = run->tool_version ? run->tool_version : version_buf;
	char json_path[PATH_MAX], html_path[PATH_MAX];
	int r;

	snprintf(json_path, sizeof(json_path), "%s", run_path(run->run_dir, "scalene.json"));
	snprintf(html_path, sizeof(html_path), "%s", run_path(run->run_dir, "scalene.html"));
	if (access(json_path, R_OK) < 0) {
		post_record(p, "scalene.html", -ENOENT, "no scalene.json to render");
	} else if (version[0] && new_cli(version)) {
		char *argv[] = {
			(char *)run->python, (char *)"-m", (char *)"scalene", (char *)"view",
			(char *)"--html", json_path, NULL,
		};
		char produced[PATH_MAX];

		/* `scalene view --html` writes scalene-profile.html beside it (cwd: the run
		 * folder); the fixed name is scalene.html. */
		r = post_exec(p, "scalene view --html", argv, NULL);
		snprintf(produced, sizeof(produced), "%s",
			 run_path(run->run_dir, "scalene-profile.html"));
		if (r == 0) {
			r = rename(produced, html_path) < 0 ?
			    err_set(errno, "scalene view wrote no '%s': %s", produced,
				    strerror(errno)) : 0;
			post_record(p, "scalene.html", r, NULL);
		}
	} else {
		/* 1.x renders HTML only from inside a run; its generate_html() is the same
		 * template applied to a saved profile. */
		char *argv[] = {
			(char *)run->python, (char *)"-c",
			(char *)"import sys, os\n"
			"from scalene.scalene_profiler import Scalene\n"
			"Scalene.generate_html(sys.argv[1], sys.argv[2])\n"
			"sys.exit(0 if os.path.exists(sys.argv[2]) else 'no HTML was written')\n",
			json_path, html_path, NULL,
		};

		post_exec(p, "scalene.html", argv, NULL);
	}
	write_summary(run, p);
}

const struct plugin plugin_scalene = {
	.name = "scalene",
	.kinds = kinds,
	.folder = "plugins/scalene",
	.command = scalene_command,
	.exit_status = scalene_exit_status,
	.post = scalene_post,
};
