/* The runner's side of --inject (lib/inject.h): kinds, the environment that arms the
 * hook, and reading the records the hook leaves (redacted into the manifest). */
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "inject.h"
#include "post_impl.h"

static char dir[] = "/tmp/sctprof-test-inject-XXXXXX";

static bool exists(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static const char *env_value(const struct strv *e, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < e->n; i++)
		if (!strncmp(e->v[i], name, n) && e->v[i][n] == '=')
			return e->v[i] + n + 1;
	return NULL;
}

int main(void)
{
	struct strv env = STRV_INIT;
	struct inject_opts io = { .kind = "memory", .run_dir = "/runs/r1", .hook_dir = "/share/inject",
				  .match = "sct.py,pytest", .all_threads = true };
	static const char rec[] =
		"pid 101\nppid 100\nkind cprofile\ntool cProfile\npython /usr/bin/python3\n"
		"python_version 3.11.2\nprogram ./sct.py\nfile profile.101.stats\nstarted 1700000000.5\n"
		"argv\n/usr/bin/python3\0./sct.py\0--password\0hunter22\0run-test";
	static const char rec2[] =
		"pid 102\nppid 101\nkind cprofile\ntool cProfile\nprogram worker.py\n"
		"file profile.102.stats\nstarted 1700000001\nerror ModuleNotFoundError: no memray\n"
		"argv\npython3\0worker.py";
	struct post p;
	json_t *procs = NULL, *a;
	char *summary = NULL, path[600];

	if (!mkdtemp(dir))
		return 1;

	ok(inject_kind_check("cprofile") == 0 && inject_kind_check("memory") == 0 &&
	   inject_kind_check("timeline") == 0 && inject_kind_check("sampling") == 0,
	   "cprofile, memory, timeline and sampling can be injected");
	ok(inject_kind_check("scalene") == -EOPNOTSUPP && strstr(err_msg_for(-EOPNOTSUPP), "scalene"),
	   "scalene is refused with its reason");
	ok(inject_kind_check("imports") == -EOPNOTSUPP && strstr(err_msg_for(-EOPNOTSUPP), "importtime"),
	   "imports is refused with its reason");

	unsetenv("PYTHONPATH");
	ok(inject_env(&io, &env) == 0, "environment built");
	is_str(env_value(&env, "PYTHONPATH"), "/share/inject", "the hook's folder alone on PYTHONPATH");
	is_str(env_value(&env, "SCTPROF_INJECT"), "memory", "the kind");
	is_str(env_value(&env, "SCTPROF_INJECT_DIR"), "/runs/r1", "the run folder");
	is_str(env_value(&env, "SCTPROF_INJECT_MATCH"), "sct.py,pytest", "the patterns");
	is_str(env_value(&env, "SCTPROF_INJECT_THREADS"), "all", "the threads");
	strv_free(&env);
	setenv("PYTHONPATH", "/mine", 1);
	ok(inject_env(&io, &env) == 0, "environment built with a PYTHONPATH");
	is_str(env_value(&env, "PYTHONPATH"), "/share/inject:/mine", "the hook first, the user's kept");
	strv_free(&env);

	put_bytes(dir, ".proc-101", rec, sizeof(rec) - 1, -1);
	put_text(dir, "profile.101.stats", "x", -1);
	put_bytes(dir, ".proc-102", rec2, sizeof(rec2) - 1, -1);
	put_text(dir, ".proc-103.tmp-103", "pid 1", -1);
	post_init(&p, dir, 1);
	ok(inject_collect(dir, "cprofile", "sct.py", &p, &procs) == 0, "records collected");
	is_int(json_array_size(procs), 2, "two processes");
	a = json_array_get(procs, 0);
	is_int(json_integer_value(json_object_get(a, "pid")), 101, "in order of start");
	is_str(json_string_value(json_object_get(a, "started")), "2023-11-14T22:13:20.500Z", "start time");
	ok(json_is_true(json_object_get(a, "written")), "its profile was written");
	is_str(json_string_value(json_array_get(json_object_get(a, "argv"), 3)), "***",
	       "a password on the command line is redacted");
	a = json_array_get(procs, 1);
	ok(json_is_false(json_object_get(a, "written")), "the second one wrote nothing");
	is_str(json_string_value(json_object_get(a, "error")), "ModuleNotFoundError: no memray", "and says why");
	is_int(json_array_size(p.warnings), 1, "one warning, for the process not profiled");
	ok(!exists(".proc-101") && !exists(".proc-102") && !exists(".proc-103.tmp-103"),
	   "records, whole or half-written, are removed");
	snprintf(path, sizeof(path), "%s/summary.txt", dir);
	ok(read_file(path, 1 << 16, &summary, NULL) == 0 &&
	   strstr(summary, "2 Python processes matched") && strstr(summary, "profile.101.stats") &&
	   !strstr(summary, "hunter22"), "summary.txt lists both, without the secret");
	json_decref(procs);
	post_done(&p);
	free(summary);

	post_init(&p, dir, 1);
	ok(inject_collect(dir, "cprofile", "nothing.py", &p, &procs) == 0 && json_array_size(procs) == 0,
	   "no record: no process");
	ok(json_array_size(p.warnings) == 1 &&
	   strstr(json_string_value(json_array_get(p.warnings, 0)), "no Python process matched"),
	   "and a warning says nothing matched");
	json_decref(procs);
	post_done(&p);
	return tap_done();
}
