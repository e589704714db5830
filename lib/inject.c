/* The runner's side of `sctprof run --inject`: which kinds can be injected, the
 * environment that arms the start-up hook, and the records the hook leaves behind. */
#include "inject.h"
#include "error.h"
#include "fsutil.h"
#include "manifest.h"
#include "post.h"
#include "plugin.h"
#include "redact.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const inject_kinds[] = { "cprofile", "memory", "timeline", "sampling", NULL };

/* Why the other kinds cannot start inside a process that is already running. */
static const struct {
	const char *kind;
	const char *why;
} refusals[] = {
	{ "scalene", "scalene preloads its own library and re-executes the interpreter; it "
		     "cannot start inside a running process" },
	{ "imports", "-X importtime has to be given when the interpreter starts, before the "
		     "hook runs" },
};

int inject_kind_check(const char *kind)
{
	for (size_t i = 0; inject_kinds[i]; i++)
		if (!strcmp(inject_kinds[i], kind))
			return 0;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (!strcmp(refusals[i].kind, kind))
			return err_set(EOPNOTSUPP, "kind '%s' cannot be used with --inject: %s", kind,
				       refusals[i].why);
	return err_set(EOPNOTSUPP, "kind '%s' cannot be used with --inject (cprofile, memory, "
		       "timeline, sampling)", kind);
}

int inject_env(const struct inject_opts *o, struct strv *env)
{
	const char *pp = getenv("PYTHONPATH");
	int r;

	if (pp && *pp)
		r = strv_pushf(env, "PYTHONPATH=%s:%s", o->hook_dir, pp);
	else
		r = strv_pushf(env, "PYTHONPATH=%s", o->hook_dir);
	if (r < 0 ||
	    (r = strv_pushf(env, "SCTPROF_INJECT=%s", o->kind)) < 0 ||
	    (r = strv_pushf(env, "SCTPROF_INJECT_DIR=%s", o->run_dir)) < 0 ||
	    (r = strv_pushf(env, "SCTPROF_INJECT_MATCH=%s", o->match)) < 0 ||
	    (r = strv_pushf(env, "SCTPROF_INJECT_THREADS=%s", o->all_threads ? "all" : "main")) < 0)
		return r;
	return 0;
}

struct proc {
	long pid;
	double started;
	json_t *j;
};

json_t *inject_parse_record(const char *run_dir, char *text, size_t len, double *ret_started)
{
	json_t *o = json_object(), *argv = json_array();
	char *p = text, *end = text + len, *file = NULL;
	struct strv words = STRV_INIT, red = STRV_INIT;

	*ret_started = 0;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *sp;
		if (!nl)
			break;
		*nl = '\0';
		if (!strcmp(p, "argv")) {
			p = nl + 1;
			break;
		}
		sp = strchr(p, ' ');
		if (sp) {
			*sp = '\0';
			if (!strcmp(p, "pid") || !strcmp(p, "ppid")) {
				json_object_set_new(o, p, json_integer(strtol(sp + 1, NULL, 10)));
			} else if (!strcmp(p, "started")) {
				*ret_started = strtod(sp + 1, NULL);
				json_object_set_new(o, p, manifest_time(*ret_started));
			} else {
				char *v = redact_string(sp + 1);
				json_object_set_new(o, p, json_string(v ? v : ""));
				free(v);
				if (!strcmp(p, "file"))
					file = sp + 1;
			}
		}
		p = nl + 1;
	}
	while (p < end) {
		size_t n = strnlen(p, (size_t)(end - p));
		char *w = strndup(p, n);
		if (strv_consume(&words, w) < 0)
			break;
		p += n + 1;
	}
	if (redact_argv(words.v ? words.v : (char *[]){ NULL }, words.n, &red) == 0)
		for (size_t i = 0; i < red.n; i++)
			json_array_append_new(argv, json_string(red.v[i]));
	json_object_set_new(o, "argv", argv);
	if (file && !strchr(file, '/')) {
		char path[PATH_MAX];
		struct stat st;
		bool written = snprintf(path, sizeof(path), "%s/%s", run_dir, file) < (int)sizeof(path) &&
			       stat(path, &st) == 0 && st.st_size > 0;
		json_object_set_new(o, "written", json_boolean(written));
	}
	strv_free(&words);
	strv_free(&red);
	return o;
}

static int by_start(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	if (x->started != y->started)
		return x->started < y->started ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* The views of one process's raw file, made by the backend of the tool the record names
 * (plugin->inject_views), each a recorded post-processing step, and listed in the
 * record's "views". */
static void views(struct post *p, json_t *proc, long pid)
{
	const struct plugin *tool = plugin_find(str(proc, "tool"));
	struct strv made = STRV_INIT;
	json_t *list = json_array();

	if (tool && tool->inject_views)
		tool->inject_views(p, str(proc, "python"), pid, &made);
	for (size_t i = 0; i < made.n; i++)
		json_array_append_new(list, json_string(made.v[i]));
	json_object_set_new(proc, "views", list);
	strv_free(&made);
}

static int write_summary(const char *run_dir, const char *kind, const char *match,
			 const struct proc *v, size_t n)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -ENOMEM;
	fprintf(f, "sctprof run --inject, kind %s: %zu Python process%s matched '%s'.\n", kind, n,
		n == 1 ? "" : "es", match);
	if (n == 0)
		fputs("Nothing was profiled: no Python process started under the command ran a "
		      "matching program.\n", f);
	for (size_t i = 0; i < n; i++) {
		const json_t *o = v[i].j, *a = json_object_get(o, "argv"), *w;
		size_t k;

		fprintf(f, "\npid %lld (parent %lld): %s\n  command:",
			(long long)json_integer_value(json_object_get(o, "pid")),
			(long long)json_integer_value(json_object_get(o, "ppid")), str(o, "program"));
		json_array_foreach(a, k, w)
			fprintf(f, " %s", json_string_value(w));
		fprintf(f, "\n  python: %s %s\n", str(o, "python"), str(o, "python_version"));
		if (json_object_get(o, "error"))
			fprintf(f, "  not profiled: %s\n", str(o, "error"));
		else
			fprintf(f, "  profile: %s%s\n", str(o, "file"),
				json_is_true(json_object_get(o, "written")) ? "" : " (not written)");
		if (json_array_size(json_object_get(o, "views"))) {
			fputs("  views:", f);
			json_array_foreach(json_object_get(o, "views"), k, w)
				fprintf(f, " %s", json_string_value(w));
			fputc('\n', f);
		}
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/summary.txt", run_dir);
	r = write_file_atomic(path, buf, len);
	free(buf);
	return r;
}

int inject_collect(const char *run_dir, const char *kind, const char *match, struct post *p,
		   json_t **ret_processes)
{
	struct proc *v = NULL;
	size_t n = 0, cap = 0;
	json_t *arr = NULL;
	DIR *d;
	struct dirent *e;
	int r = 0;

	d = opendir(run_dir);
	if (!d)
		return err_set(errno, "cannot read '%s': %s", run_dir, strerror(errno));
	while ((e = readdir(d))) {
		char path[PATH_MAX], *text = NULL, *endp;
		size_t len;
		long pid;

		if (strncmp(e->d_name, ".proc-", 6) != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", run_dir, e->d_name) >= (int)sizeof(path))
			continue;
		pid = strtol(e->d_name + 6, &endp, 10);
		if (*endp != '\0' || pid <= 0) {
			/* A record half-written when its process was killed. */
			unlink(path);
			continue;
		}
		if (read_file(path, 1 << 20, &text, &len) < 0)
			continue;
		if (n == cap) {
			struct proc *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv) {
				free(text);
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[n].pid = pid;
		v[n].j = inject_parse_record(run_dir, text, len, &v[n].started);
		n++;
		free(text);
		unlink(path);
	}
	closedir(d);
	if (r < 0)
		goto out;
	if (n > 1)
		qsort(v, n, sizeof(*v), by_start);
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (json_object_get(v[i].j, "error"))
			post_warn(p, "pid %ld (%s) was not profiled: %s", v[i].pid,
				  str(v[i].j, "program"), str(v[i].j, "error"));
		else if (json_is_true(json_object_get(v[i].j, "written")))
			views(p, v[i].j, v[i].pid);
		json_array_append(arr, v[i].j);
	}
	if (n == 0)
		post_warn(p, "no Python process matched '%s'; nothing was profiled", match);
	r = write_summary(run_dir, kind, match, v, n);
	if (r < 0)
		goto out;
	*ret_processes = arr;
	arr = NULL;
out:
	for (size_t i = 0; i < n; i++)
		json_decref(v[i].j);
	free(v);
	json_decref(arr);
	return r;
}
