/* Run ids and run folders. */
#include "runid.h"
#include "error.h"
#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_'))
			*s = '_';
}

int runid_format(char *buf, size_t size, time_t t, const char *kind, const char *test_id,
		 pid_t pid)
{
	char stamp[32], id[16], k[32];
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (test_id && *test_id)
		snprintf(id, sizeof(id), "%.8s", test_id);
	else
		snprintf(id, sizeof(id), "%d", (int)pid);
	snprintf(k, sizeof(k), "%s", kind);
	sanitize(id);
	sanitize(k);
	if (snprintf(buf, size, "%s-%s-%s", stamp, k, id) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

int runid_create_dir(const char *outdir, time_t t, const char *kind, const char *test_id,
		     pid_t pid, char **ret_id, char **ret_dir)
{
	char base[128], id[160];
	char *abs_out = NULL, *dir = NULL;
	int r;

	r = runid_format(base, sizeof(base), t, kind, test_id, pid);
	if (r < 0)
		return r;
	r = mkdir_p(outdir);
	if (r < 0)
		return err_set(-r, "output directory '%s' cannot be created: %s", outdir, strerror(-r));
	abs_out = path_absolute(outdir);
	if (!abs_out)
		return -ENOMEM;
	for (int n = 1; n < 1000; n++) {
		if (n == 1)
			snprintf(id, sizeof(id), "%s", base);
		else
			snprintf(id, sizeof(id), "%s-%d", base, n);
		free(dir);
		if (asprintf(&dir, "%s/%s", abs_out, id) < 0) {
			dir = NULL;
			r = -ENOMEM;
			goto out;
		}
		if (mkdir(dir, 0755) == 0) {
			*ret_id = strdup(id);
			*ret_dir = dir;
			dir = NULL;
			r = *ret_id ? 0 : -ENOMEM;
			goto out;
		}
		if (errno != EEXIST) {
			r = err_set(errno, "output directory '%s' is not writable: %s", outdir,
				    strerror(errno));
			goto out;
		}
	}
	r = err_set(EEXIST, "too many runs named '%s' in '%s'", base, outdir);
out:
	free(dir);
	free(abs_out);
	return r;
}
