/* Post-processing steps: bounded, recorded, never fatal. */
#include "post_impl.h"
#include "error.h"
#include "log.h"
#include "supervise.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void post_init(struct post *p, const char *run_dir, double timeout)
{
	p->run_dir = run_dir;
	p->timeout = timeout;
	p->steps = json_array();
	p->warnings = json_array();
}

void post_done(struct post *p)
{
	json_decref(p->steps);
	json_decref(p->warnings);
	p->steps = p->warnings = NULL;
}

const char *post_run_dir(const struct post *p)
{
	return p->run_dir;
}

static void record(struct post *p, const char *name, bool ok, double seconds, const char *detail)
{
	json_t *s = json_pack("{s:s, s:b, s:f}", "name", name, "ok", ok, "seconds", seconds);

	if (!s)
		return;
	if (detail)
		json_object_set_new(s, "detail", json_string(detail));
	json_array_append_new(p->steps, s);
	if (!ok)
		log_warn("post-processing step '%s' failed: %s", name, detail ? detail : "unknown");
}

void post_record(struct post *p, const char *name, int r, const char *detail)
{
	record(p, name, r >= 0, 0, r >= 0 ? detail : (detail ? detail : err_msg_for(r)));
}

void post_warn(struct post *p, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warn("%s", buf);
	json_array_append_new(p->warnings, json_string(buf));
}

/* The last line of a step's stderr, for the record. */
static void last_line(const char *path, char *out, size_t size)
{
	char buf[4096];
	FILE *f = fopen(path, "re");
	size_t n;

	out[0] = '\0';
	if (!f)
		return;
	if (fseek(f, 0, SEEK_END) == 0) {
		long end = ftell(f);
		fseek(f, end > (long)sizeof(buf) - 1 ? end - (long)sizeof(buf) + 1 : 0, SEEK_SET);
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	{
		char *nl = strrchr(buf, '\n');
		const char *l = nl ? nl + 1 : buf;
		size_t len = strlen(l) < size - 1 ? strlen(l) : size - 1;
		memcpy(out, l, len);
		out[len] = '\0';
	}
}

int post_exec(struct post *p, const char *name, char *const *argv, const char *stdout_path)
{
	struct supervise_opts o = {
		.argv = argv,
		.grace = 2,
		.kill_after = 2,
		.timeout = p->timeout,
		.cwd = p->run_dir,
	};
	struct supervise_result res;
	char out[PATH_MAX], errlog[PATH_MAX], detail[1200], last[1024];
	struct timespec t0, t1;
	double secs;
	int r;

	if (supervise_signals() >= 3) {
		record(p, name, false, 0, "skipped: run aborted");
		return -EINTR;
	}
	if (stdout_path) {
		snprintf(out, sizeof(out), "%s/%s", p->run_dir, stdout_path);
		o.stdout_path = out;
	} else {
		o.stdout_path = "/dev/null";
	}
	/* The step's stderr is kept outside the run folder, so it is not an artifact. */
	snprintf(errlog, sizeof(errlog), "%s/.post-%d.log", p->run_dir, (int)getpid());
	o.stderr_path = errlog;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = supervise_run(&o, &res);
	supervise_count_signals();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (r < 0) {
		record(p, name, false, secs, err_msg_for(r));
		unlink(errlog);
		return r;
	}
	last_line(errlog, last, sizeof(last));
	unlink(errlog);
	if (res.how == END_TIMEOUT) {
		snprintf(detail, sizeof(detail), "timed out after %.0f s", p->timeout);
		record(p, name, false, secs, detail);
		return -ETIMEDOUT;
	}
	if (!WIFEXITED(res.wait_status) || WEXITSTATUS(res.wait_status) != 0) {
		snprintf(detail, sizeof(detail), "exit status %d%s%s",
			 wait_status_to_exit(res.wait_status), last[0] ? ": " : "", last);
		record(p, name, false, secs, detail);
		return -EIO;
	}
	record(p, name, true, secs, NULL);
	return 0;
}
