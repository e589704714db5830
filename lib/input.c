/* Loading report inputs into memory (input.h). Archives are recognised by their first
 * bytes, not their names, and read with libarchive, whose `r < ARCHIVE_WARN` is fatal.
 * Sizes are capped so that a hostile bundle cannot exhaust memory. */
#include "input.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bigmem.h"
#include "error.h"
#include "pstats.h"

#define MAX_TOTAL ((size_t)4 << 30)

static const char *const wanted[] = {
	"manifest.json", "*.stats", "*.prof", "*.pstats", "memray-stats*.json",
	"scalene*.json", "importtime*.log", NULL,
};

int input_wanted(const char *name)
{
	for (size_t i = 0; wanted[i]; i++)
		if (fnmatch(wanted[i], name, 0) == 0)
			return 1;
	return 0;
}

void input_free(struct input *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n; i++) {
		free(in->files[i].name);
		if (in->files[i].mapped)
			munmap(in->files[i].data, in->files[i].mapped);
		else
			bigmem_free(in->files[i].data);
	}
	free(in->files);
	free(in->path);
	free(in);
}

static int add_file(struct input *in, const char *name, char *data, size_t len, size_t mapped)
{
	struct input_file *p = realloc(in->files, (in->n + 1) * sizeof(*p));

	if (!p)
		return err_set(ENOMEM, "out of memory");
	in->files = p;
	p[in->n].name = strdup(name);
	if (!p[in->n].name)
		return err_set(ENOMEM, "out of memory");
	p[in->n].data = data;
	p[in->n].len = len;
	p[in->n].mapped = mapped;
	in->n++;
	return 0;
}

/* Files this large are mapped rather than read: no copy, and no fresh memory for the
 * kernel to clear first -- the pages are the page cache's own. Like every reader that
 * maps its input, this one assumes that nobody truncates a profile while it is being
 * read (profiles are read after they are written). */
#define MAP_MIN ((size_t)1 << 20)

/* path's contents, NUL-terminated: mapped (*ret_mapped is the mapping's length) or read
 * (*ret_mapped is 0; see read_whole_file()). */
static int load_file(const char *path, size_t max, char **ret, size_t *ret_len,
		     size_t *ret_mapped)
{
	struct stat st;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), size, len;
	char *base, *p;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size < MAP_MIN || (uint64_t)st.st_size > max)
		goto read;
	size = (size_t)st.st_size;
	/* room for the NUL: a zero page after the file's last page when the file ends on
	 * a page boundary; otherwise the kernel fills the last page's rest with zeros */
	len = (size + 1 + page - 1) / page * page;
	base = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		goto read;
	p = mmap(base, size, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED) {
		munmap(base, len);
		goto read;
	}
	close(fd);
	*ret = p;
	*ret_len = size;
	*ret_mapped = len;
	return 0;
read:
	if (fd >= 0)
		close(fd);
	*ret_mapped = 0;
	return read_whole_file(path, max, ret, ret_len);
}

static void unload_file(char *data, size_t mapped)
{
	if (mapped)
		munmap(data, mapped);
	else
		bigmem_free(data);
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct input_file *)a)->name, ((const struct input_file *)b)->name);
}

static int is_archive(const char *buf, size_t len)
{
	const unsigned char *b = (const unsigned char *)buf;

	if (len >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
		return 1;               /* zstd */
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return 1;               /* gzip */
	if (len >= 4 && !memcmp(b, "PK\003\004", 4))
		return 1;               /* zip */
	if (len >= 6 && !memcmp(b, "\xfd" "7zXZ", 5))
		return 1;               /* xz */
	if (len >= 262 && !memcmp(b + 257, "ustar", 5))
		return 1;               /* plain tar */
	return 0;
}

static int load_dir(struct input *in, const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t total = 0;
	int k = 0;

	if (!d)
		return err_set(errno, "cannot open folder '%s': %s", path, strerror(errno));
	while ((de = readdir(d))) {
		char full[4096], *data;
		size_t len, mapped;
		if (de->d_name[0] == '.' || !input_wanted(de->d_name))
			continue;
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, de->d_name) >= sizeof(full))
			continue;
		if ((k = load_file(full, MAX_TOTAL - total, &data, &len, &mapped)) < 0) {
			if (k == -EISDIR)
				continue;
			goto out;
		}
		total += len;
		if ((k = add_file(in, de->d_name, data, len, mapped)) < 0) {
			unload_file(data, mapped);
			goto out;
		}
	}
	k = 0;
out:
	closedir(d);
	return k;
}

/* "RUN_ID/name" or "name": the name, when it is one we read. */
static const char *member_name(const char *path)
{
	const char *slash;

	while (path[0] == '.' && path[1] == '/')
		path += 2;
	slash = strchr(path, '/');
	if (slash) {
		if (strchr(slash + 1, '/'))
			return NULL;
		path = slash + 1;
	}
	if (!path[0] || !strcmp(path, "..") || !input_wanted(path))
		return NULL;
	return path;
}

static int load_archive(struct input *in, const char *buf, size_t len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t total = 0;
	int r, k;

	if (!a)
		return err_set(ENOMEM, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, buf, len) < ARCHIVE_WARN) {
		k = err_set(EBADMSG, "bundle '%s': %s", in->path, archive_error_string(a));
		goto out;
	}
	for (;;) {
		const char *name;
		char *data;
		size_t got = 0, size;

		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			k = err_set(EBADMSG, "bundle '%s': %s", in->path, archive_error_string(a));
			goto out;
		}
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		name = member_name(archive_entry_pathname(e));
		if (!name)
			continue;
		size = archive_entry_size_is_set(e) ? (size_t)archive_entry_size(e) : 0;
		if (size > MAX_TOTAL - total) {
			k = err_set(EFBIG, "bundle '%s': member '%s' is too large", in->path, name);
			goto out;
		}
		data = bigmem_alloc(size + 1);
		if (!data) {
			k = err_set(ENOMEM, "out of memory");
			goto out;
		}
		for (;;) {
			la_ssize_t n;
			if (got == size) {
				/* a size the header did not tell: grow */
				char *p;
				if (size >= MAX_TOTAL - total) {
					bigmem_free(data);
					k = err_set(EFBIG, "bundle '%s': member '%s' is too large", in->path, name);
					goto out;
				}
				size = size ? size * 2 : 65536;
				p = bigmem_realloc(data, size + 1);
				if (!p) {
					bigmem_free(data);
					k = err_set(ENOMEM, "out of memory");
					goto out;
				}
				data = p;
			}
			n = archive_read_data(a, data + got, size - got);
			if (n < 0) {
				bigmem_free(data);
				k = err_set(EBADMSG, "bundle '%s': member '%s': %s", in->path, name,
					    archive_error_string(a));
				goto out;
			}
			if (n == 0)
				break;
			got += (size_t)n;
		}
		data[got] = '\0';
		total += got;
		if ((k = add_file(in, name, data, got, 0)) < 0) {
			bigmem_free(data);
			goto out;
		}
	}
	k = 0;
out:
	archive_read_free(a);
	return k;
}

int input_load(const char *path, struct input **ret)
{
	struct input *in;
	struct stat st;
	char *buf = NULL;
	size_t len, mapped = 0;
	int k;

	in = calloc(1, sizeof(*in));
	if (!in || !(in->path = strdup(path))) {
		free(in);
		return err_set(ENOMEM, "out of memory");
	}
	if (stat(path, &st) < 0) {
		k = err_set(errno, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		in->kind = INPUT_DIR;
		if ((k = load_dir(in, path)) < 0)
			goto out;
		if (in->n == 0) {
			k = err_set(ENOENT, "folder '%s' holds no profile, manifest.json or report input", path);
			goto out;
		}
	} else {
		const char *base = strrchr(path, '/');
		if ((k = load_file(path, MAX_TOTAL, &buf, &len, &mapped)) < 0)
			goto out;
		if (is_archive(buf, len)) {
			in->kind = INPUT_ARCHIVE;
			k = load_archive(in, buf, len);
			unload_file(buf, mapped);
			buf = NULL;
			if (k < 0)
				goto out;
			if (in->n == 0) {
				k = err_set(EBADMSG, "bundle '%s' holds no profile or manifest.json", path);
				goto out;
			}
		} else {
			in->kind = INPUT_FILE;
			if ((k = add_file(in, base ? base + 1 : path, buf, len, mapped)) < 0)
				goto out;
			buf = NULL;
		}
	}
	qsort(in->files, in->n, sizeof(*in->files), cmp_file);
	*ret = in;
	return 0;
out:
	unload_file(buf, mapped);
	input_free(in);
	return k;
}
