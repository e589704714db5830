/* Listing and hashing a run folder's files. */
#include "artifacts.h"
#include "error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sha256 {
	EVP_MD_CTX *ctx;
};

struct sha256 *sha256_new(void)
{
	struct sha256 *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		sha256_free(h);
		return NULL;
	}
	return h;
}

int sha256_update(struct sha256 *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : -EIO;
}

int sha256_final(struct sha256 *h, unsigned char out[32])
{
	unsigned int len = 0;
	int r = EVP_DigestFinal_ex(h->ctx, out, &len) == 1 && len == 32 ? 0 : -EIO;

	sha256_free(h);
	return r;
}

void sha256_free(struct sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

static bool left_out(const char *name)
{
	/* .proc-PID: a record of `run --inject` (lib/inject.h) holding a command line as it
	 * was, secrets and all; the manifest has it redacted. One left behind by a run that
	 * was killed must not reach a bundle made later with `sctprof bundle`. */
	return !strcmp(name, "manifest.json") || strstr(name, ".tmp-") != NULL ||
	       !strncmp(name, ".proc-", 6);
}

static int add(struct artifact_list *l, const char *name, uint64_t size)
{
	struct artifact *v;

	if (l->n % 64 == 0) {
		v = realloc(l->v, (l->n + 64) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
	}
	l->v[l->n] = (struct artifact){ .name = strdup(name), .size = size };
	if (!l->v[l->n].name)
		return -ENOMEM;
	l->n++;
	l->total += size;
	return 0;
}

static int walk(const char *root, const char *rel, struct artifact_list *l, int depth)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (depth > 16)
		return 0;
	snprintf(path, sizeof(path), "%s%s%s", root, *rel ? "/" : "", rel);
	d = opendir(path);
	if (!d)
		return err_set(errno, "cannot read '%s': %s", path, strerror(errno));
	while ((e = readdir(d))) {
		char sub[PATH_MAX], full[PATH_MAX];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= (int)sizeof(sub) ||
		    snprintf(full, sizeof(full), "%s/%s", root, sub) >= (int)sizeof(full) ||
		    lstat(full, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if ((r = walk(root, sub, l, depth + 1)) < 0)
				break;
		} else if (S_ISREG(st.st_mode)) {
			if (!left_out(sub) && (r = add(l, sub, (uint64_t)st.st_size)) < 0)
				break;
		} else {
			l->skipped++;
		}
	}
	closedir(d);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct artifact *)a)->name, ((const struct artifact *)b)->name);
}

int artifacts_scan(const char *run_dir, struct artifact_list *ret)
{
	struct artifact_list l = { 0 };
	int r = walk(run_dir, "", &l, 0);

	if (r < 0) {
		artifacts_free(&l);
		return r;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_name);
	*ret = l;
	return 0;
}

int artifacts_hash(const char *run_dir, struct artifact_list *l)
{
	static unsigned char buf[1 << 20];

	for (size_t i = 0; i < l->n; i++) {
		struct artifact *a = &l->v[i];
		struct sha256 *h;
		char path[PATH_MAX];
		uint64_t size = 0;
		ssize_t n;
		int fd;

		if (a->hashed)
			continue;
		snprintf(path, sizeof(path), "%s/%s", run_dir, a->name);
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return err_set(errno, "cannot read '%s': %s", path, strerror(errno));
		h = sha256_new();
		if (!h) {
			close(fd);
			return -ENOMEM;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			sha256_update(h, buf, (size_t)n);
			size += (uint64_t)n;
		}
		close(fd);
		if (n < 0) {
			sha256_free(h);
			return err_set(errno, "cannot read '%s': %s", path, strerror(errno));
		}
		if (sha256_final(h, a->sha256) < 0)
			return -EIO;
		l->total += size - a->size;
		a->size = size;
		a->hashed = true;
	}
	return 0;
}

void artifacts_free(struct artifact_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	*l = (struct artifact_list){ 0 };
}
