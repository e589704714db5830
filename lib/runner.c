/* The run, step by step (DESIGN.md "One run"). lib/ knows backends only through
 * plugins/plugin.h. */
#include "runner.h"
#include "artifacts.h"
#include "config.h"
#include "error.h"
#include "exitcode.h"
#include "fsutil.h"
#include "inject.h"
#include "log.h"
#include "manifest.h"
#include "matrix.h"
#include "paths.h"
#include "plugin.h"
#include "progress.h"
#include "post_impl.h"
#include "python.h"
#include "redact.h"
#include "runid.h"
#include "supervise.h"
#include "target.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The matrix lists tools by kind; a tool is only usable here when this build has a
 * backend for it that serves the kind. */
static bool backend_serves(const char *tool, const char *kind)
{
	const struct plugin *p = plugin_find(tool);

	return p && (!kind || plugin_serves(p, kind));
}

/* For sctprof attach: only backends that can attach to a running process. */
static bool backend_attaches(const char *tool, const char *kind)
{
	const struct plugin *p = plugin_find(tool);

	return backend_serves(tool, kind) && p->attach;
}

static int matrix_failure_code(int r)
{
	switch (r) {
	case -EBADMSG:
	case -EFBIG:
		return EXIT_DATAERR;
	case -ENOMEM:
		return EXIT_SOFTWARE;
	default:
		return EXIT_NOINPUT;
	}
}

struct manifest_ctx {
	json_t *m;
	const char *run_dir;
	struct progress *progress;
	bool durable;        /* fsync manifest.json: it is the record (no bundle carries it) */
};

static int manifest_cb(void *ud, const struct artifact_list *l, char **ret, size_t *ret_len)
{
	struct manifest_ctx *c = ud;

	return manifest_write(c->m, c->run_dir, l, c->durable, ret, ret_len);
}

static int aborted_cb(void *ud)
{
	(void)ud;
	return supervise_signals() >= 3;
}

static void progress_bundle_cb(void *ud, uint64_t done, uint64_t total)
{
	struct manifest_ctx *c = ud;

	(void)total;
	progress_update(c->progress, done);
}

/* When the bundle could not be written (or was aborted), manifest.json still goes into
 * the run folder, saying why, with the artifacts' sizes (hashing them could take as long
 * as the bundle). Best effort: on a full disk it may fail too. The reason for r is kept
 * for the caller. */
static void manifest_after_failure(struct manifest_ctx *mc, struct artifact_list *arts, int r)
{
	char reason[1024], *s = NULL;
	size_t len;

	snprintf(reason, sizeof(reason), "%s", err_msg_for(r));
	json_object_set_new(mc->m, "bundle", json_pack("{s:s, s:b}", "error", reason,
						       "aborted", r == -EINTR));
	mc->durable = true;  /* no bundle carries it now */
	if (manifest_cb(mc, arts, &s, &len) == 0)
		free(s);
	err_set(-r, "%s", reason);
}

static json_t *target_json(const struct target *t)
{
	static const char *const modes[] = { "script", "module", "code" };
	json_t *o = json_object(), *opts = json_array();

	json_object_set_new(o, "python", json_string(t->python));
	json_object_set_new(o, "found_by", json_string(t->origin));
	for (size_t i = 0; i < t->interp_opts.n; i++)
		json_array_append_new(opts, json_string(t->interp_opts.v[i]));
	json_object_set_new(o, "interpreter_options", opts);
	json_object_set_new(o, "mode", json_string(modes[t->mode]));
	if (t->mode != TARGET_CODE) {
		char *red = redact_string(t->target);
		json_object_set_new(o, "target", json_string(red ? red : ""));
		free(red);
	}
	return o;
}

static json_t *ended_json(const struct supervise_result *s, int exit_status)
{
	static const char *const how[] = { "exit", "signal", "timeout", "stopped" };
	json_t *o = json_object();

	json_object_set_new(o, "how", json_string(how[s->how]));
	json_object_set_new(o, "exit_status", json_integer(exit_status));
	if (WIFSIGNALED(s->wait_status)) {
		json_object_set_new(o, "signal", json_integer(WTERMSIG(s->wait_status)));
		json_object_set_new(o, "signal_name", json_string(sigabbrev_np(WTERMSIG(s->wait_status))
			? sigabbrev_np(WTERMSIG(s->wait_status)) : "?"));
	}
	if (s->stop_signal)
		json_object_set_new(o, "stopped_by", json_string(sigabbrev_np(s->stop_signal)));
	if (s->escalation)
		json_object_set_new(o, "sctprof_sent", json_string(sigabbrev_np(s->escalation)));
	/* What the test left behind: orphans sctprof reaped, the stop sequence it needed
	 * for the rest of the group, and processes still running outside it. */
	json_object_set_new(o, "orphans_reaped", json_integer(s->reaped));
	if (s->cleanup_signal)
		json_object_set_new(o, "leftovers_sent", json_string(sigabbrev_np(s->cleanup_signal)));
	json_object_set_new(o, "left_running", json_integer(s->left_running));
	return o;
}

static json_t *rusage_json(const struct rusage *ru)
{
	return json_pack("{s:I, s:f, s:f}",
			 "max_rss_kib", (json_int_t)ru->ru_maxrss,
			 "user_cpu_seconds", (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6,
			 "system_cpu_seconds", (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6);
}

static json_t *argv_json(char *const *argv, int n)
{
	struct strv red = STRV_INIT;
	json_t *a = json_array();

	if (redact_argv(argv, (size_t)n, &red) == 0)
		for (size_t i = 0; i < red.n; i++)
			json_array_append_new(a, json_string(red.v[i]));
	strv_free(&red);
	return a;
}

/* --inject: the command as it is, with the start-up hook armed in its environment. */
static int inject_command(const struct run_opts *o, struct tool_run *tr)
{
	struct inject_opts io = {
		.kind = tr->kind,
		.run_dir = tr->run_dir,
		.hook_dir = tr->data_dir,
		.match = o->inject_match ? o->inject_match : INJECT_MATCH_DEFAULT,
		.all_threads = o->all_threads,
	};
	int r;

	if (o->n_tool_args > 0)
		return err_set(EINVAL, "--tool-arg cannot be used with --inject");
	r = strv_extend(&tr->argv, o->command, (size_t)o->n_command);
	return r < 0 ? r : inject_env(&io, &tr->env);
}

/* The "inject" object of manifest.json. */
static json_t *inject_json(const struct run_opts *o, json_t *procs)
{
	return json_pack("{s:s, s:O}", "match", o->inject_match ? o->inject_match : INJECT_MATCH_DEFAULT,
			 "processes", procs ? procs : json_null());
}

/* A fact of the first process profiled: the command itself is not Python. */
static const char *first_proc(json_t *procs, const char *key)
{
	return json_string_value(json_object_get(json_array_get(procs, 0), key));
}

/* sctprof attach: the running process's interpreter. /proc/PID/exe is the real binary,
 * which for a venv's python is the base interpreter without the venv's packages (where
 * the profiler may be installed); so the path the process was started as (argv[0]) is
 * preferred when it leads to that same binary. --python overrides both. */
static int attach_target(int pid, const char *python, struct target *ret)
{
	char path[PATH_MAX], exe[PATH_MAX], *cmdline = NULL, *chosen = NULL;
	const char *origin = "the attached process";
	ssize_t n;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0)
		return err_set(errno == ENOENT ? ESRCH : errno, "process %d: %s", pid,
			       errno == ENOENT ? "no such process" : strerror(errno));
	exe[n] = '\0';
	if (python) {
		chosen = path_lookup(python);
		origin = "--python";
		if (!chosen)
			return err_set(ENOENT, "interpreter '%s' not found", python);
	} else {
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
		if (read_file(path, 1 << 16, &cmdline, NULL) == 0 && cmdline[0]) {
			char cwd_link[64], cwd[PATH_MAX], *cand = NULL, real[PATH_MAX];

			if (cmdline[0] == '/') {
				cand = strdup(cmdline);
			} else if (strchr(cmdline, '/')) {
				snprintf(cwd_link, sizeof(cwd_link), "/proc/%d/cwd", pid);
				n = readlink(cwd_link, cwd, sizeof(cwd) - 1);
				if (n > 0) {
					cwd[n] = '\0';
					if (asprintf(&cand, "%s/%s", cwd, cmdline) < 0)
						cand = NULL;
				}
			} else {
				cand = path_lookup(cmdline);
			}
			if (cand && realpath(cand, real) && !strcmp(real, exe))
				chosen = cand;
			else
				free(cand);
		}
		if (!chosen)
			chosen = strdup(exe);
	}
	if (!chosen) {
		r = -ENOMEM;
		goto out;
	}
	if (!is_python_name(chosen) && !is_python_name(exe)) {
		r = err_set(ENOEXEC, "process %d runs '%s', not a Python interpreter", pid, exe);
		goto out;
	}
	*ret = (struct target){ 0 };
	ret->python = chosen;
	chosen = NULL;
	ret->origin = strdup(origin);
	if (!ret->origin) {
		target_free(ret);
		r = -ENOMEM;
	}
out:
	free(chosen);
	free(cmdline);
	return r;
}

/* The attached process's command line, redacted, for the manifest's argv. */
static json_t *attach_argv_json(int pid)
{
	struct strv argv = STRV_INIT;
	char path[64], *buf = NULL;
	size_t len = 0;
	json_t *a;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	if (read_file(path, 1 << 20, &buf, &len) == 0)
		for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
			if (strv_push(&argv, buf + i) < 0)
				break;
	a = argv_json(argv.v, (int)argv.n);
	strv_free(&argv);
	free(buf);
	return a;
}

int runner_run(const struct run_opts *o, struct run_result *ret, int *ret_code)
{
	struct target t = { 0 };
	struct tool_run tr = { 0 };
	struct supervise_result sres = { 0 };
	struct post post = { 0 };
	struct artifact_list arts = { 0 };
	struct run_result res = { 0 };
	const struct plugin *plugin = NULL;
	json_t *procs = NULL;
	struct pyinfo py = { 0 };
	struct matrix *mx = NULL;
	struct verdict verdict = { 0 };
	bool have_verdict = false;
	const char *kind = NULL, *pyver = NULL;
	char *status_file = NULL, data_dir[PATH_MAX], cwd[PATH_MAX] = "";
	json_t *m = NULL;
	int r, code = EXIT_SOFTWARE;

	/* 1. The target, its interpreter, the tool the matrix picks for the kind; with
	 * --inject only the kind: the command runs as it is, and each Python process under it
	 * is profiled by its own interpreter (lib/inject.h). */
	if (o->inject) {
		kind = o->kind ? o->kind : "cprofile";
		r = inject_kind_check(kind);
		if (r < 0) {
			code = EXIT_USAGE;
			goto out;
		}
	} else {
		/* sctprof attach: the running process stands for the target. */
		if (o->attach_pid > 0)
			r = attach_target(o->attach_pid, o->python, &t);
		else
			r = target_resolve(o->command, o->n_command, o->python, &t);
		if (r < 0) {
			code = (r == -ENOENT && strstr(err_msg_for(r), "interpreter")) ||
			       r == -ESRCH ? EXIT_NOINPUT : EXIT_USAGE;
			goto out;
		}
		r = python_probe(t.python, t.origin, &py);
		if (r < 0) {
			code = r == -ENOENT ? EXIT_NOINPUT : r == -ENOMEM ? EXIT_SOFTWARE : EXIT_USAGE;
			goto out;
		}
		for (size_t i = 0; i < py.n_findings; i++)
			log_debug("%s: %s (hint: %s)", py.findings[i].code, py.findings[i].message,
				  py.findings[i].hint);
		r = matrix_load(matrix_default_path(o->matrix), &mx);
		if (r < 0) {
			code = matrix_failure_code(r);
			goto out;
		}
		if (o->attach_pid > 0 && o->tool && plugin_find(o->tool) &&
		    !plugin_find(o->tool)->attach) {
			r = err_set(EINVAL, "tool '%s' cannot attach to a running process", o->tool);
			code = EXIT_USAGE;
			goto out;
		}
		mx->has_backend = o->attach_pid > 0 ? backend_attaches : backend_serves;
		kind = o->kind ? o->kind : o->tool ? NULL : "cprofile";
		r = matrix_choose(mx, kind, &py, python_host_platform(), o->tool, o->force, &verdict);
		if (r < 0) {
			code = r == -EINVAL ? EXIT_USAGE : r == -ENOMEM ? EXIT_SOFTWARE : EXIT_UNAVAILABLE;
			goto out;
		}
		have_verdict = true;
		kind = verdict.kind ? verdict.kind : kind;
		if (!kind) {
			r = err_set(EINVAL, "no kind of the matrix lists tool '%s'; name one with --profile",
				    o->tool);
			code = EXIT_USAGE;
			goto out;
		}
		plugin = plugin_find(verdict.tool);
		if (!plugin) {
			r = err_set(ENOSYS, "'%s' has no backend in this build of sctprof", verdict.tool);
			code = EXIT_UNAVAILABLE;
			goto out;
		}
		if (verdict.status == COMPAT_UNSUPPORTED)
			log_warn("running %s on Python %s although the matrix says it does not work "
				 "(--force): %s%s%s", verdict.tool, verdict.python_version,
				 verdict.reason ? verdict.reason : "unsupported",
				 verdict.issue ? "; tracking " : "", verdict.issue ? verdict.issue : "");
		else if (verdict.status == COMPAT_UNTESTED)
			log_warn("%s is untested on Python %s: %s%s%s", verdict.tool, verdict.python_version,
				 verdict.reason ? verdict.reason : "no row of the matrix says it works",
				 verdict.issue ? "; tracking " : "", verdict.issue ? verdict.issue : "");
		pyver = py.version;
	}

	/* 2. The run folder. */
	r = runid_create_dir(o->output_dir, time(NULL), kind, getenv("SCT_TEST_ID"),
			     o->attach_pid > 0 ? o->attach_pid : getpid(), &res.run_id, &res.run_dir);
	if (r < 0) {
		code = EXIT_CANTCREAT;
		goto out;
	}
	res.tool = strdup(plugin ? plugin->name : "inject");
	res.kind = strdup(kind);
	if (asprintf(&status_file, "%s/.status-%d", res.run_dir, (int)getpid()) < 0) {
		status_file = NULL;
		r = -ENOMEM;
		goto out;
	}

	/* 3. The profiler, supervised. */
	snprintf(data_dir, sizeof(data_dir), "%s", !plugin ? data_path("inject") :
		 data_path(plugin->folder ? plugin->folder : plugin->name));
	tr.kind = kind;
	tr.target = o->attach_pid > 0 ? NULL : &t;
	tr.attach_pid = o->attach_pid;
	tr.duration = o->duration;
	tr.python = t.python;
	tr.python_version = pyver;
	tr.tool_path = verdict.executable;
	tr.tool_version = verdict.version;
	tr.run_dir = res.run_dir;
	tr.data_dir = data_dir;
	tr.all_threads = o->all_threads;
	tr.subprocesses = o->subprocesses;
	tr.tool_args = o->tool_args;
	tr.n_tool_args = o->n_tool_args;
	tr.status_file = status_file;
	if (!plugin)
		r = inject_command(o, &tr);
	else
		r = o->attach_pid > 0 ? plugin->attach(&tr) : plugin->command(&tr);
	/* Nested shells and nested sctprof runs see that this run is in charge; a run that
	 * is not --inject disarms an outer run's hook for what it starts. */
	if (r >= 0)
		r = strv_pushf(&tr.env, "SCTPROF_ACTIVE=%s", res.run_id);
	if (r >= 0 && !o->inject)
		r = strv_push(&tr.env, "SCTPROF_INJECT=");
	if (r < 0) {
		/* Nothing ran: the empty run folder is not a result to point at. */
		if (rmdir(res.run_dir) == 0) {
			free(res.run_dir);
			free(res.run_id);
			res.run_dir = res.run_id = NULL;
		}
		code = r == -ENOENT ? EXIT_UNAVAILABLE : EXIT_USAGE;
		goto out;
	}
	log_debug("running: %s (%zu words)", tr.argv.v[0], tr.argv.n);
	{
		struct supervise_opts so = {
			.argv = strv_argv(&tr.argv),
			.env_extra = strv_argv(&tr.env),
			.grace = o->grace,
			.kill_after = o->kill_after,
			.timeout = o->timeout,
			.foreground = o->foreground,
		};
		r = supervise_run(&so, &sres);
		res.started = r >= 0;
	}
	if (r < 0) {
		code = r == -ENOENT ? EXIT_UNAVAILABLE : EXIT_OSERR;
		goto out;
	}
	supervise_count_signals();
	res.exit_status = wait_status_to_exit(sres.wait_status);
	if (o->attach_pid > 0) {
		/* Attached, the status is the profiler's: stopping it (Ctrl-C, a duration) is
		 * how such a run normally ends, and the process is not ours to report on. */
		if (sres.how == END_STOPPED && WIFSIGNALED(sres.wait_status) &&
		    WTERMSIG(sres.wait_status) == SIGINT)
			res.exit_status = 0;
	} else if (plugin && plugin->exit_status) {
		int st;
		if (plugin->exit_status(&tr, sres.wait_status, &st) == 0)
			res.exit_status = st;
	}
	/* A stopped run reports what stopped it (Jenkins' abort is a SIGTERM: 143), not how
	 * the test died of the SIGINT sctprof forwarded; a timeout reports 124. */
	if (sres.how == END_STOPPED && o->attach_pid <= 0)
		res.exit_status = 128 + sres.stop_signal;
	else if (sres.how == END_TIMEOUT)
		res.exit_status = EXIT_TIMEOUT;
	unlink(status_file);

	/* 4. Post-processing: bounded, recorded, never fatal. */
	post_init(&post, res.run_dir, o->post_timeout);
	if (o->inject || plugin->post) {
		struct progress *pp = progress_begin("post-processing", 0, NULL);
		if (o->inject) {
			int rc = inject_collect(res.run_dir, kind, o->inject_match ? o->inject_match :
						INJECT_MATCH_DEFAULT, &post, &procs);
			post_record(&post, "inject-summary", rc, NULL);
		} else {
			plugin->post(&tr, &post);
		}
		progress_end(pp);
	}

	/* 5. The manifest. */
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	m = json_object();
	json_object_set_new(m, "sctprof_version", json_string(SCTPROF_VERSION));
	json_object_set_new(m, "run_id", json_string(res.run_id));
	json_object_set_new(m, "kind", json_string(kind));
	if (plugin) {
		json_object_set_new(m, "tool", json_pack("{s:s, s:s?}", "name", plugin->name,
							 "version", tr.tool_version ? tr.tool_version : pyver));
		json_object_set_new(m, "python", json_pack("{s:s, s:s?}", "path", t.python, "version", pyver));
		json_object_set_new(m, "verdict", verdict_to_json(&verdict));
	} else {
		json_object_set_new(m, "tool", json_pack("{s:s?, s:s?, s:s}", "name", first_proc(procs, "tool"),
							 "version", first_proc(procs, "tool_version"),
							 "mode", "inject"));
		json_object_set_new(m, "python", json_pack("{s:s?, s:s?}", "path", first_proc(procs, "python"),
							   "version", first_proc(procs, "python_version")));
	}
	if (o->attach_pid > 0) {
		json_object_set_new(m, "argv", attach_argv_json(o->attach_pid));
		json_object_set_new(m, "target", json_pack("{s:i, s:s, s:f}", "attached_pid",
			o->attach_pid, "python", t.python, "duration_seconds", o->duration));
	} else {
		json_object_set_new(m, "argv", argv_json(o->command, o->n_command));
		if (plugin)
			json_object_set_new(m, "target", target_json(&t));
		else
			json_object_set_new(m, "inject", inject_json(o, procs));
	}
	json_object_set_new(m, "threads", json_string(o->all_threads ? "all" : "main"));
	json_object_set_new(m, "cwd", json_string(cwd));
	json_object_set_new(m, "start", manifest_time(sres.started));
	json_object_set_new(m, "end", manifest_time(sres.ended));
	json_object_set_new(m, "duration_seconds", json_real(sres.ended - sres.started));
	json_object_set_new(m, "ended", ended_json(&sres, res.exit_status));
	json_object_set_new(m, "rusage", rusage_json(&sres.rusage));
	json_object_set_new(m, "environment", manifest_environment());
	json_object_set_new(m, "post_processing", json_incref(post.steps));
	json_object_set_new(m, "warnings", json_incref(post.warnings));

	/* 6. The bundle (or, without one, the manifest alone). */
	r = artifacts_scan(res.run_dir, &arts);
	if (r < 0) {
		code = EXIT_IOERR;
		goto out;
	}
	if (arts.skipped)
		log_warn("%zu symbolic links or special files in '%s' left out", arts.skipped, res.run_dir);
	if (arts.n == 0)
		post_warn(&post, "the profiler wrote no files%s", sres.escalation == SIGKILL
			  ? " (it was killed with SIGKILL: it ignored SIGINT and SIGTERM)" : "");
	{
		struct manifest_ctx mc = { .m = m, .run_dir = res.run_dir, .durable = o->no_archive };
		struct bundle_cb cb = { .manifest = manifest_cb, .aborted = aborted_cb,
					.progress = progress_bundle_cb, .ud = &mc };
		char latest[PATH_MAX], *outdir = strdup(res.run_dir);

		if (!outdir) {
			r = -ENOMEM;
			goto out;
		}
		*strrchr(outdir, '/') = '\0';
		snprintf(latest, sizeof(latest), "%s/latest", outdir);
		if (supervise_signals() >= 3) {
			r = err_set(EINTR, "bundling skipped: sctprof was asked three times to stop");
		} else if (o->no_archive) {
			char *s = NULL;
			size_t len;
			mc.progress = progress_begin("hashing", arts.total, NULL);
			r = artifacts_hash(res.run_dir, &arts);
			progress_end(mc.progress);
			if (r == 0)
				r = manifest_cb(&mc, &arts, &s, &len);
			free(s);
			if (r == 0)
				(void)symlink_atomic(res.run_id, latest);
		} else if (asprintf(&res.bundle, "%s/%s.%s", outdir, res.run_id,
				    bundle_format_ext(o->format)) < 0) {
			res.bundle = NULL;
			r = -ENOMEM;
		} else {
			mc.progress = progress_begin("bundling", arts.total, res.bundle);
			r = bundle_write(res.run_dir, res.run_id, &arts, o->format, res.bundle, &cb);
			progress_end(mc.progress);
			if (r == 0) {
				(void)symlink_atomic(strrchr(res.bundle, '/') + 1, latest);
			} else {
				free(res.bundle);
				res.bundle = NULL;
			}
		}
		free(outdir);
		if (r < 0) {
			manifest_after_failure(&mc, &arts, r);
			code = r == -EINTR ? res.exit_status : EXIT_IOERR;
			goto out;
		}
	}
	code = res.exit_status;
out:
	/* Nothing ran: no run folder is left behind (it is empty). */
	if (r < 0 && !res.started && res.run_dir && rmdir(res.run_dir) == 0) {
		free(res.run_dir);
		free(res.run_id);
		res.run_dir = res.run_id = NULL;
	}
	post_done(&post);
	json_decref(procs);
	json_decref(m);
	artifacts_free(&arts);
	strv_free(&tr.argv);
	strv_free(&tr.env);
	if (status_file)
		unlink(status_file);
	free(status_file);
	if (have_verdict)
		verdict_free(&verdict);
	matrix_free(mx);
	pyinfo_free(&py);
	target_free(&t);
	*ret = res;
	*ret_code = code;
	return r < 0 ? r : 0;
}

void run_result_free(struct run_result *r)
{
	if (!r)
		return;
	free(r->run_id);
	free(r->run_dir);
	free(r->bundle);
	free(r->tool);
	free(r->kind);
	*r = (struct run_result){ 0 };
}
