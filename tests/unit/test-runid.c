/* Run ids and run folders: the format, sanitising, and two runs meeting in the same
 * second (SCT_TEST_ID fixed) getting folders of their own. */
#include "tap.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "runid.h"

static char dir[] = "/tmp/sctprof-test-runid-XXXXXX";

static int rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int main(void)
{
	const time_t t = 1795774500; /* 2026-11-27T10:15:00Z */
	char buf[128], out[512], path[600];
	char *id[4] = { 0 }, *folder[4] = { 0 };
	int r;

	if (!mkdtemp(dir))
		return 1;

	is_int(runid_format(buf, sizeof(buf), t, "memory", "1a2b3c4d-5e6f-7890", 4242), 0, "format");
	is_str(buf, "20261127T101500Z-memory-1a2b3c4d", "  stamp, kind, first 8 of SCT_TEST_ID");
	runid_format(buf, sizeof(buf), t, "cprofile", NULL, 4242);
	is_str(buf, "20261127T101500Z-cprofile-4242", "  the pid without SCT_TEST_ID");
	runid_format(buf, sizeof(buf), t, "cprofile", "", 17);
	is_str(buf, "20261127T101500Z-cprofile-17", "  the pid for an empty SCT_TEST_ID");
	runid_format(buf, sizeof(buf), t, "cp/../x", "../a b/c", 1);
	is_str(buf, "20261127T101500Z-cp_.._x-.._a_b_c", "  no '/' or blank survives");
	ok(strchr(buf, '/') == NULL, "  the id is one path component");
	is_int(runid_format(buf, 10, t, "cprofile", NULL, 1), -ENAMETOOLONG, "  too small a buffer");

	snprintf(out, sizeof(out), "%s/a/b/out", dir);
	for (int i = 0; i < 3; i++) {
		r = runid_create_dir(out, t, "cprofile", "1a2b3c4d", 99, &id[i], &folder[i]);
		is_int(r, 0, "run folder created, OUTDIR with its parents");
	}
	is_str(id[0], "20261127T101500Z-cprofile-1a2b3c4d", "  first run: the plain id");
	is_str(id[1], "20261127T101500Z-cprofile-1a2b3c4d-2", "  same second, same test: -2");
	is_str(id[2], "20261127T101500Z-cprofile-1a2b3c4d-3", "  and -3");
	snprintf(path, sizeof(path), "%s/%s", out, id[1]);
	is_str(folder[1], path, "  the folder is OUTDIR/RUN_ID, absolute");
	ok(folder[0] && is_dir(folder[0]) && folder[2] && is_dir(folder[2]), "  folders exist");

	/* A file where the next id would go is a collision too. */
	snprintf(path, sizeof(path), "%s/20261127T101500Z-cprofile-1a2b3c4d-4", out);
	fclose(fopen(path, "w"));
	r = runid_create_dir(out, t, "cprofile", "1a2b3c4d", 99, &id[3], &folder[3]);
	is_int(r, 0, "a file in the way");
	is_str(id[3], "20261127T101500Z-cprofile-1a2b3c4d-5", "  is stepped over");

	snprintf(path, sizeof(path), "%s/file", dir);
	fclose(fopen(path, "w"));
	snprintf(out, sizeof(out), "%s/file/out", dir);
	err_clear();
	{
		char *i = NULL, *f = NULL;
		r = runid_create_dir(out, t, "cprofile", NULL, 1, &i, &f);
		is_int(r, -ENOTDIR, "OUTDIR under a regular file");
		ok(strstr(err_msg_for(r), out) != NULL, "  the reason names OUTDIR");
		ok(i == NULL && f == NULL, "  nothing returned");
	}
	if (geteuid() == 0) {
		tap_skip("read-only OUTDIR refused", "root writes anywhere (tests/e2e covers it)");
	} else {
		char *i = NULL, *f = NULL;
		snprintf(out, sizeof(out), "%s/ro", dir);
		mkdir(out, 0555);
		r = runid_create_dir(out, t, "cprofile", NULL, 1, &i, &f);
		is_int(r, -EACCES, "read-only OUTDIR refused");
	}

	for (int i = 0; i < 4; i++) {
		free(id[i]);
		free(folder[i]);
	}
	nftw(dir, rm, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
