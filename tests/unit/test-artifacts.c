/* The run folder's listing: sorted, sub-folders walked, manifest.json and temporary
 * files left out, symbolic links (to files, to folders, out of the folder) and special
 * files never followed but counted; SHA-256 of what is listed. */
#include "tap.h"
#include "util.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifacts.h"

static char dir[] = "/tmp/sctprof-test-artifacts-XXXXXX";

static void link_to(const char *target, const char *name)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (symlink(target, path) != 0)
		perror("symlink");
}

static int rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

int main(void)
{
	struct artifact_list l = { 0 };
	char path[600], hex[65];
	int r;

	if (!mkdtemp(dir))
		return 1;
	put_text(dir, "summary.txt", "abc", -1);
	put_text(dir, "profile.stats", "0123456789", -1);
	snprintf(path, sizeof(path), "%s/memray", dir);
	mkdir(path, 0755);
	put_text(dir, "memray/memray.bin.1234", "xy", -1);
	put_text(dir, "manifest.json", "{}", -1);
	put_text(dir, "profile.stats.tmp-77", "partial", -1);
	link_to("summary.txt", "summary-link.txt");
	link_to("/etc/passwd", "escape");
	link_to("/etc", "etc-dir");
	snprintf(path, sizeof(path), "%s/fifo", dir);
	mkfifo(path, 0644);

	r = artifacts_scan(dir, &l);
	is_int(r, 0, "scan");
	is_int(l.n, 3, "three regular files listed");
	if (l.n == 3) {
		is_str(l.v[0].name, "memray/memray.bin.1234", "  sorted, sub-folder with '/'");
		is_str(l.v[1].name, "profile.stats", "  second");
		is_str(l.v[2].name, "summary.txt", "  third");
		is_int(l.v[1].size, 10, "  sizes from the folder");
	}
	is_int(l.total, 15, "total bytes");
	is_int(l.skipped, 4, "three symbolic links and a FIFO left out, and counted");
	ok(l.n == 3 && !l.v[2].hashed, "not hashed by the scan");

	is_int(artifacts_hash(dir, &l), 0, "hash");
	if (l.n == 3) {
		artifact_hex(&l.v[2], hex);
		is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		       "  SHA-256 of \"abc\"");
		ok(l.v[0].hashed && l.v[1].hashed && l.v[2].hashed, "  every file hashed");
	}
	artifacts_free(&l);
	artifacts_free(&l);
	ok(l.n == 0 && l.v == NULL, "free twice is harmless");

	snprintf(path, sizeof(path), "%s/missing", dir);
	ok(artifacts_scan(path, &l) < 0, "a missing folder is an error");

	nftw(dir, rm, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
