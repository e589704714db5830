/* File-system helpers (fsutil.h): durable writes and renames, reads, path names and PATH. */
#include "fsutil.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return err_set(ENAMETOOLONG, "'%s': path too long", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST)
				return err_set(errno, "cannot create directory '%s': %s", buf, strerror(errno));
			*p = c;
			if (!c)
				break;
		}
	}
	{
		struct stat st;
		if (stat(path, &st) != 0)
			return err_set(errno, "'%s': %s", path, strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return err_set(ENOTDIR, "'%s' exists and is not a directory", path);
	}
	return 0;
}

int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0 && errno != EINVAL)
		r = -errno;
	close(fd);
	return r;
}

char *path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int write_file(const char *path, const void *data, size_t len, bool durable)
{
	char tmp[PATH_MAX];
	const char *p = data;
	char *dir = NULL;
	struct stat st;
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return err_set(ENAMETOOLONG, "'%s': path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(errno, "cannot write '%s': %s", path, strerror(errno));
	/* A matrix or cache file the user made private stays private once rewritten. */
	if (stat(path, &st) == 0)
		(void)fchmod(fd, st.st_mode & 07777);
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = err_set(errno, "cannot write '%s': %s", path, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (durable && fsync(fd) != 0) {
		r = err_set(errno, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = err_set(errno, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = err_set(errno, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		goto out;
	}
	dir = durable ? path_dirname(path) : NULL;
	if (dir)
		(void)fsync_dir(dir);
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	free(dir);
	return r;
}

int write_file_atomic(const char *path, const void *data, size_t len)
{
	return write_file(path, data, len, true);
}

int write_file_replace(const char *path, const void *data, size_t len)
{
	return write_file(path, data, len, false);
}

int read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;

	if (!f)
		return err_set(errno, "cannot open '%s': %s", path, strerror(errno));
	for (;;) {
		size_t n;
		if (cap - len < 4096) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len > max) {
			r = err_set(EFBIG, "'%s': larger than %zu bytes", path, max);
			goto out;
		}
		if (n == 0) {
			if (ferror(f))
				r = err_set(EIO, "cannot read '%s': %s", path, strerror(errno));
			break;
		}
	}
out:
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = '\0';
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int read_head(const char *path, size_t max, char **ret, size_t *ret_len)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno ? -errno : -EIO;
	buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < max && (n = read(fd, buf + len, max - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int symlink_atomic(const char *target, const char *link)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%d", link, (int)getpid()) >= (int)sizeof(tmp))
		return err_set(ENAMETOOLONG, "'%s': path too long", link);
	unlink(tmp);
	if (symlink(target, tmp) != 0)
		return err_set(errno, "cannot create link '%s': %s", link, strerror(errno));
	if (rename(tmp, link) != 0) {
		int e = errno;
		unlink(tmp);
		return err_set(e, "cannot replace link '%s': %s", link, strerror(e));
	}
	return 0;
}

char *path_absolute(const char *path)
{
	char cwd[PATH_MAX];
	char *out;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (strcmp(path, ".") == 0)
		return strdup(cwd);
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

bool path_is_exec(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *path_search(const char *name, bool (*skip_dir)(const char *dir), char **ret_skipped)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (ret_skipped)
		*ret_skipped = NULL;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; ; ) {
		const char *end = strchrnul(p, ':');
		char dir[PATH_MAX];
		int n;

		n = snprintf(dir, sizeof(dir), "%.*s", (int)(end - p), p);
		if (n <= 0)
			snprintf(dir, sizeof(dir), ".");
		if (snprintf(buf, sizeof(buf), "%s/%s", dir, name) < (int)sizeof(buf) &&
		    path_is_exec(buf)) {
			if (skip_dir && skip_dir(dir)) {
				if (ret_skipped && !*ret_skipped)
					*ret_skipped = strdup(buf);
			} else {
				return path_absolute(buf);
			}
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return NULL;
}
