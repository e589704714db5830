/* Finding sctprof's data files, installed or in the source tree. */
#include "paths.h"
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[PATH_MAX];

static int is_dir_with(const char *dir, const char *rel)
{
	char p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s/%s", dir, rel) >= (int)sizeof(p))
		return 0;
	return access(p, R_OK) == 0;
}

const char *data_root(void)
{
	const char *env = getenv("SCTPROF_DATA_DIR");
	char exe[PATH_MAX], cand[PATH_MAX];
	ssize_t n;

	if (root[0])
		return root;
	if (env && *env) {
		snprintf(root, sizeof(root), "%s", env);
		return root;
	}
	/* Installed relocatably: <prefix>/bin/sctprof next to <prefix>/share/sctprof. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(cand, sizeof(cand), "%s/../share/sctprof", exe) < (int)sizeof(cand) &&
			    is_dir_with(cand, "plugins") && realpath(cand, root))
				return root;
		}
	}
	if (is_dir_with(SCTPROF_DATADIR, "plugins") &&
	    strncmp(exe, SCTPROF_SOURCE_ROOT, strlen(SCTPROF_SOURCE_ROOT)) != 0) {
		snprintf(root, sizeof(root), "%s", SCTPROF_DATADIR);
		return root;
	}
	snprintf(root, sizeof(root), "%s", SCTPROF_SOURCE_ROOT);
	return root;
}

const char *data_path(const char *rel)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", data_root(), rel);
	return buf;
}
