/* Loading report inputs into memory (input.h). Archives are recognised by their first
 * bytes, not their names, and read with libarchive, whose `r < ARCHIVE_WARN` is fatal.
 * Sizes are capped so that a hostile bundle cannot exhaust memory. */
#include "input.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
		free(in->files[i].data);
	}
	free(in->files);
	free(in->path);
	free(in);
}

static int add_file(struct input *in, const char *name, char *data, size_t len)
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
	in->n++;
	return 0;
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
		size_t len;
		if (de->d_name[0] == '.' || !input_wanted(de->d_name))
			continue;
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, de->d_name) >= sizeof(full))
			continue;
		if ((k = read_whole_file(full, MAX_TOTAL - total, &data, &len)) < 0) {
			if (k == -EISDIR)
				continue;
			goto out;
		}
		total += len;
		if ((k = add_file(in, de->d_name, data, len)) < 0) {
			free(data);
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
		data = malloc(size + 1);
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
					free(data);
					k = err_set(EFBIG, "bundle '%s': member '%s' is too large", in->path, name);
					goto out;
				}
				size = size ? size * 2 : 65536;
				p = realloc(data, size + 1);
				if (!p) {
					free(data);
					k = err_set(ENOMEM, "out of memory");
					goto out;
				}
				data = p;
			}
			n = archive_read_data(a, data + got, size - got);
			if (n < 0) {
				free(data);
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
		if ((k = add_file(in, name, data, got)) < 0) {
			free(data);
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
	size_t len;
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
		if ((k = read_whole_file(path, MAX_TOTAL, &buf, &len)) < 0)
			goto out;
		if (is_archive(buf, len)) {
			in->kind = INPUT_ARCHIVE;
			k = load_archive(in, buf, len);
			free(buf);
			buf = NULL;
			if (k < 0)
				goto out;
			if (in->n == 0) {
				k = err_set(EBADMSG, "bundle '%s' holds no profile or manifest.json", path);
				goto out;
			}
		} else {
			in->kind = INPUT_FILE;
			if ((k = add_file(in, base ? base + 1 : path, buf, len)) < 0)
				goto out;
			buf = NULL;
		}
	}
	qsort(in->files, in->n, sizeof(*in->files), cmp_file);
	*ret = in;
	return 0;
out:
	free(buf);
	input_free(in);
	return k;
}
