/* The bundle, round trip: written in each format, read back with libarchive; members
 * under RUN_ID/, in order, manifest.json last, bytes and SHA-256 equal to the files;
 * progress reported; an abort or a failure leaves nothing at the final name. */
#include "tap.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "artifacts.h"
#include "bundle.h"
#include "error.h"

static char dir[] = "/tmp/sctprof-test-bundle-XXXXXX";
static char run_dir[600];

#define BIG (3u << 20)

struct ud {
	uint64_t last_done, last_total;
	int progress_calls, aborts_after, checks;
	bool monotonic, fail_manifest;
};

static int manifest(void *p, const struct artifact_list *l, char **ret, size_t *ret_len)
{
	struct ud *u = p;
	char hex[65];

	if (u->fail_manifest)
		return err_set(ENOSPC, "cannot write manifest: %s", strerror(ENOSPC));
	artifact_hex(&l->v[0], hex);
	if (asprintf(ret, "{\"first_sha256\": \"%s\"}\n", hex) < 0)
		return -ENOMEM;
	*ret_len = strlen(*ret);
	return 0;
}

static void progress(void *p, uint64_t done, uint64_t total)
{
	struct ud *u = p;

	if (done < u->last_done)
		u->monotonic = false;
	u->last_done = done;
	u->last_total = total;
	u->progress_calls++;
}

static int aborted(void *p)
{
	struct ud *u = p;

	return u->aborts_after > 0 && ++u->checks >= u->aborts_after;
}

static void put(const char *name, const void *data, size_t len)
{
	char path[700];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", run_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		perror(path);
	close(fd);
}

static char *slurp(const char *name, size_t *len)
{
	char path[700];
	struct stat st;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", run_dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0)
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int tmp_files(void)
{
	char cmd[700];
	FILE *f;
	int n = 0, c;

	snprintf(cmd, sizeof(cmd), "ls -a '%s' | grep -c '\\.tmp-'", dir);
	f = popen(cmd, "r");
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	while (f && (c = fgetc(f)) != EOF)
		;
	if (f)
		pclose(f);
	return n;
}

/* Reads the archive back; checks names, order, bytes. */
static void read_back(const char *path, const struct artifact_list *l, const char *fmt)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char what[200], want[200];
	size_t i = 0;
	bool bytes_equal = true, manifest_last = false;

	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	snprintf(what, sizeof(what), "%s: libarchive opens it", fmt);
	ok(archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK, what);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		if (i < l->n) {
			size_t len = 0;
			char *orig = slurp(l->v[i].name, &len);
			char *got = malloc(len + 1);
			la_ssize_t n = archive_read_data(a, got, len + 1);
			snprintf(want, sizeof(want), "run-1/%s", l->v[i].name);
			if (strcmp(name, want) != 0 || !orig || n != (la_ssize_t)len ||
			    memcmp(orig, got, len) != 0 ||
			    archive_entry_size(e) != (la_int64_t)len) {
				bytes_equal = false;
				printf("# member %zu: %s (want %s), %zd bytes\n", i, name, want, (ssize_t)n);
			}
			free(orig);
			free(got);
		} else {
			manifest_last = i == l->n && strcmp(name, "run-1/manifest.json") == 0;
		}
		i++;
	}
	snprintf(what, sizeof(what), "%s: every file, in order, byte for byte", fmt);
	ok(bytes_equal, what);
	snprintf(what, sizeof(what), "%s: manifest.json is the last member", fmt);
	ok(manifest_last && i == l->n + 1, what);
	archive_read_free(a);
}

int main(void)
{
	static const enum bundle_format fmts[] = { BUNDLE_TAR_ZST, BUNDLE_TAR_GZ, BUNDLE_ZIP };
	unsigned char *big = malloc(BIG);
	char out[700], what[200];
	enum bundle_format f;
	uint32_t x = 12345;

	if (!mkdtemp(dir) || !big)
		return 1;
	snprintf(run_dir, sizeof(run_dir), "%s/run-1", dir);
	mkdir(run_dir, 0755);
	for (size_t i = 0; i < BIG; i++) {       /* half text, half noise, as profiles are */
		x = x * 1103515245u + 12345u;
		big[i] = i < BIG / 2 ? (unsigned char)("abcdefgh\n"[i % 9]) : (unsigned char)(x >> 16);
	}
	put("big.bin", big, BIG);
	put("profile.stats", "stats", 5);
	put("summary.txt", "", 0);
	{
		char sub[700];
		snprintf(sub, sizeof(sub), "%s/sub", run_dir);
		mkdir(sub, 0755);
		put("sub/nested.txt", "nested\n", 7);
	}

	ok(bundle_format_parse("tar.zst", &f) == 0 && f == BUNDLE_TAR_ZST &&
	   bundle_format_parse("tgz", &f) == 0 && f == BUNDLE_TAR_GZ &&
	   bundle_format_parse("zip", &f) == 0 && f == BUNDLE_ZIP, "formats parsed");
	ok(bundle_format_parse("rar", &f) == -EINVAL, "unknown format refused");
	is_str(bundle_format_ext(BUNDLE_TAR_GZ), "tar.gz", "extension");

	for (size_t k = 0; k < 3; k++) {
		struct artifact_list l = { 0 };
		struct ud u = { .monotonic = true };
		struct bundle_cb cb = { .manifest = manifest, .progress = progress, .ud = &u };
		const char *ext = bundle_format_ext(fmts[k]);
		char hex[65];
		int r;

		artifacts_scan(run_dir, &l);
		snprintf(out, sizeof(out), "%s/run-1.%s", dir, ext);
		r = bundle_write(run_dir, "run-1", &l, fmts[k], out, &cb);
		snprintf(what, sizeof(what), "%s: written", ext);
		is_int(r, 0, what);
		snprintf(what, sizeof(what), "%s: progress reached the total, never went back", ext);
		ok(u.progress_calls > 0 && u.last_done == l.total && u.last_total == l.total &&
		   u.monotonic, what);
		artifact_hex(&l.v[0], hex);
		snprintf(what, sizeof(what), "%s: hashed while streaming", ext);
		ok(l.v[0].hashed && l.v[3].hashed, what);
		read_back(out, &l, ext);
		artifacts_free(&l);
	}
	ok(tmp_files() == 0, "no temporary file left after writing");

	{
		struct artifact_list l = { 0 };
		struct ud u = { .aborts_after = 2 };
		struct bundle_cb cb = { .manifest = manifest, .aborted = aborted, .ud = &u };
		int r;

		artifacts_scan(run_dir, &l);
		snprintf(out, sizeof(out), "%s/aborted.tar.zst", dir);
		r = bundle_write(run_dir, "run-1", &l, BUNDLE_TAR_ZST, out, &cb);
		is_int(r, -EINTR, "an abort stops it");
		ok(!exists(out) && tmp_files() == 0, "  nothing at the final name, no temporary file");
		artifacts_free(&l);
	}
	{
		struct artifact_list l = { 0 };
		struct ud u = { .fail_manifest = true };
		struct bundle_cb cb = { .manifest = manifest, .ud = &u };
		int r;

		artifacts_scan(run_dir, &l);
		snprintf(out, sizeof(out), "%s/nomanifest.tar.zst", dir);
		r = bundle_write(run_dir, "run-1", &l, BUNDLE_TAR_ZST, out, &cb);
		is_int(r, -ENOSPC, "a failing manifest fails the bundle");
		ok(!exists(out) && tmp_files() == 0, "  nothing at the final name, no temporary file");
		artifacts_free(&l);
	}
	{
		struct artifact_list l = { 0 };
		struct ud u = { 0 };
		struct bundle_cb cb = { .manifest = manifest, .ud = &u };
		int r;

		artifacts_scan(run_dir, &l);
		snprintf(out, sizeof(out), "%s/no/such/dir/x.tar.zst", dir);
		err_clear();
		r = bundle_write(run_dir, "run-1", &l, BUNDLE_TAR_ZST, out, &cb);
		is_int(r, -ENOENT, "a missing folder");
		ok(strstr(err_msg_for(r), out) != NULL, "  the reason names the bundle");
		artifacts_free(&l);
	}
	{
		/* Someone plants a link at the temporary name (to /dev/full, or to a file of
		 * theirs): O_EXCL refuses it; the bundler never writes through a link. */
		struct artifact_list l = { 0 };
		struct ud u = { 0 };
		struct bundle_cb cb = { .manifest = manifest, .ud = &u };
		char tmp[800];
		int r;

		artifacts_scan(run_dir, &l);
		snprintf(out, sizeof(out), "%s/planted.tar.zst", dir);
		snprintf(tmp, sizeof(tmp), "%s.tmp-%d", out, (int)getpid());
		if (symlink("/dev/full", tmp) != 0)
			perror("symlink");
		r = bundle_write(run_dir, "run-1", &l, BUNDLE_TAR_ZST, out, &cb);
		is_int(r, -EEXIST, "a link planted at the temporary name is not followed");
		ok(!exists(out), "  nothing at the final name");
		unlink(tmp);
		artifacts_free(&l);
	}

	free(big);
	{
		char cmd[700];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return tap_done();
}
