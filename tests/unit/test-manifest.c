/* manifest.json's pieces: times, artifacts, the environment (redacted), serialising,
 * and writing it atomically. */
#include "tap.h"

#include <dirent.h>
#include <unistd.h>

#include "artifacts.h"
#include "fsutil.h"
#include "manifest.h"

static char dir[] = "/tmp/sctprof-test-manifest-XXXXXX";

int main(void)
{
	char n0[] = "profile.stats", n1[] = "summary.txt";
	struct artifact v[2] = { { .name = n0, .size = 3 }, { .name = n1, .size = 0 } };
	struct artifact_list l = { .v = v, .n = 2, .total = 3 };
	json_t *t, *a, *env, *m, *back;
	char path[600], *s, *text = NULL;
	size_t len, files = 0;
	json_error_t je;
	DIR *d;

	if (!mkdtemp(dir))
		return 1;

	t = manifest_time(0);
	is_str(json_string_value(t), "1970-01-01T00:00:00.000Z", "epoch");
	json_decref(t);
	t = manifest_time(1795774500.25);
	is_str(json_string_value(t), "2026-11-27T10:15:00.250Z", "UTC with milliseconds");
	json_decref(t);

	memset(v[0].sha256, 0xab, sizeof(v[0].sha256));
	v[0].hashed = true;
	a = manifest_artifacts(&l);
	is_int(json_array_size(a), 2, "one entry per artifact");
	is_str(json_string_value(json_object_get(json_array_get(a, 0), "name")), "profile.stats",
	       "  name");
	is_int(json_integer_value(json_object_get(json_array_get(a, 0), "size")), 3, "  size");
	is_str(json_string_value(json_object_get(json_array_get(a, 0), "sha256")),
	       "abababababababababababababababababababababababababababababababab", "  hex digest");
	is_str(json_string_value(json_object_get(json_array_get(a, 1), "sha256")), "",
	       "  empty when not hashed");

	setenv("SCT_TEST_ID", "1a2b3c4d-xyz", 1);
	setenv("BUILD_URL", "https://jenkins:s3cret-pass@ci.example/job/7/", 1);
	setenv("JOB_NAME", "longevity", 1);
	env = manifest_environment();
	is_str(json_string_value(json_object_get(json_object_get(env, "sct"), "test_id")),
	       "1a2b3c4d-xyz", "SCT_TEST_ID recorded");
	is_str(json_string_value(json_object_get(json_object_get(env, "jenkins"), "build_url")),
	       "https://***@ci.example/job/7/", "BUILD_URL's credentials redacted");
	ok(json_is_boolean(json_object_get(json_object_get(env, "container"), "pid1")),
	   "container facts");
	ok(json_string_length(json_object_get(env, "host")) > 0, "host");

	m = json_pack("{s:s, s:o, s:o}", "z_first", "kept in order", "artifacts", a,
		      "environment", env);
	s = manifest_dump(m, &len);
	ok(s && len == strlen(s) && s[len - 1] == '\n', "serialised, ending in a newline");
	ok(s && strstr(s, "s3cret-pass") == NULL, "  no secret in it");
	ok(s && strncmp(s, "{\n  \"z_first\"", 13) == 0, "  two-space indent, insertion order");
	back = s ? json_loads(s, 0, &je) : NULL;
	ok(back && json_equal(back, m), "  parses back to the same");

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	is_int(write_file_atomic(path, s, len), 0, "written atomically");
	is_int(read_file(path, 1 << 20, &text, NULL), 0, "  read back");
	is_str(text, s, "  same bytes");
	is_int(write_file_atomic(path, "{}\n", 3), 0, "  replaced");
	d = opendir(dir);
	while (d && readdir(d))
		files++;
	if (d)
		closedir(d);
	is_int(files, 3, "  no temporary file left (., .., manifest.json)");
	snprintf(path, sizeof(path), "%s/missing/manifest.json", dir);
	ok(write_file_atomic(path, "{}", 2) < 0, "  a missing folder is an error");

	free(text);
	free(s);
	json_decref(back);
	json_decref(m);
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
