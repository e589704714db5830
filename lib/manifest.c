/* Building manifest.json with jansson. */
#include "manifest.h"
#include "fsutil.h"
#include "redact.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

json_t *manifest_time(double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	char buf[64];

	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03dZ",
		 (int)((t - (double)s) * 1000));
	return json_string(buf);
}

static void set_env(json_t *o, const char *key, const char *var)
{
	const char *v = getenv(var);
	char *red;

	if (!v)
		return;
	red = redact_string(v);
	if (red)
		json_object_set_new(o, key, json_string(red));
	free(red);
}

static bool file_contains(const char *path, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static json_t *container_facts(void)
{
	json_t *c = json_object();
	const char *how = NULL;

	if (access("/.dockerenv", F_OK) == 0)
		how = "/.dockerenv";
	else if (access("/run/.containerenv", F_OK) == 0)
		how = "/run/.containerenv";
	else if (file_contains("/proc/1/cgroup", "docker"))
		how = "/proc/1/cgroup names docker";
	else if (file_contains("/proc/1/cgroup", "kubepods"))
		how = "/proc/1/cgroup names kubepods";
	json_object_set_new(c, "detected", json_boolean(how != NULL));
	if (how)
		json_object_set_new(c, "evidence", json_string(how));
	json_object_set_new(c, "pid1", json_boolean(getpid() == 1));
	return c;
}

json_t *manifest_environment(void)
{
	json_t *env = json_object(), *sct = json_object(), *jenkins = json_object();
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	json_object_set_new(env, "host", json_string(host));
	json_object_set_new(env, "container", container_facts());
	set_env(sct, "test_id", "SCT_TEST_ID");
	set_env(sct, "config_files", "SCT_CONFIG_FILES");
	set_env(sct, "cluster_backend", "SCT_CLUSTER_BACKEND");
	json_object_set_new(env, "sct", sct);
	set_env(jenkins, "build_url", "BUILD_URL");
	set_env(jenkins, "job_name", "JOB_NAME");
	set_env(jenkins, "build_number", "BUILD_NUMBER");
	json_object_set_new(env, "jenkins", jenkins);
	return env;
}

/* Here rather than in artifacts.c, whose hashing needs libcrypto: the light front
 * (cmd/cmd.h) reaches this file but never hashes. */
void artifact_hex(const struct artifact *a, char out[65])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[a->sha256[i] >> 4];
		out[2 * i + 1] = hex[a->sha256[i] & 15];
	}
	out[64] = '\0';
}

json_t *manifest_artifacts(const struct artifact_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++) {
		char hex[65];
		artifact_hex(&l->v[i], hex);
		json_array_append_new(a, json_pack("{s:s, s:I, s:s}", "name", l->v[i].name,
						   "size", (json_int_t)l->v[i].size,
						   "sha256", l->v[i].hashed ? hex : ""));
	}
	return a;
}

char *manifest_dump(const json_t *m, size_t *ret_len)
{
	char *s = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	char *out;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	out = realloc(s, n + 2);
	if (!out) {
		free(s);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	*ret_len = n + 1;
	return out;
}

int manifest_write(json_t *m, const char *run_dir, const struct artifact_list *l, bool durable,
		   char **ret, size_t *ret_len)
{
	char path[PATH_MAX];
	size_t len;
	char *s;
	int r;

	json_object_set_new(m, "artifacts", manifest_artifacts(l));
	s = manifest_dump(m, &len);
	if (!s)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/manifest.json", run_dir);
	r = durable ? write_file_atomic(path, s, len) : write_file_replace(path, s, len);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	*ret_len = len;
	return 0;
}
