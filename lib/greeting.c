/* The cached verdict behind the greeting of `sctprof hook bash` (see verdict.h). */
#include "greeting.h"
#include "config.h"
#include "error.h"
#include "fsutil.h"
#include "python.h"
#include "kinds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The search order of python_find() (lib/python.h), without starting anything: the
 * greeting's cache is keyed by the interpreter. */
char *greeting_python(void)
{
	char *py = NULL;

	err_clear();
	return python_locate(&py) == 0 ? py : NULL;
}

/* A cache key, not a secret: two FNV-1a 64-bit hashes with different offsets. Keeping
 * libcrypto out of this file keeps it out of the light front (cmd/cmd.h). */
static void key_hash(const char *s, unsigned char out[16])
{
	uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;

	for (; *s; s++) {
		a = (a ^ (unsigned char)*s) * 0x100000001b3ull;
		b = (b ^ (unsigned char)*s) * 0x100000001b3ull;
		b ^= b >> 29;
	}
	for (int i = 0; i < 8; i++) {
		out[i] = (unsigned char)(a >> (8 * i));
		out[8 + i] = (unsigned char)(b >> (8 * i));
	}
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

int greeting_cache_path(const char *python, char **ret)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME"), *path = getenv("PATH");
	char key[3 * PATH_MAX], dir[PATH_MAX], bin[PATH_MAX], hx[33];
	unsigned char d[16];
	struct stat py = { 0 }, pybin = { 0 }, self = { 0 };
	int n;

	if (xdg && *xdg == '/')
		n = snprintf(dir, sizeof(dir), "%s/sctprof", xdg);
	else if (home && *home == '/')
		n = snprintf(dir, sizeof(dir), "%s/.cache/sctprof", home);
	else
		return err_set(ENOENT, "no cache folder: neither XDG_CACHE_HOME nor HOME is set");
	if (n >= (int)sizeof(dir))
		return err_set(ENAMETOOLONG, "cache folder name too long");
	/* What changes the answer: another interpreter or a new build of it, a tool installed
	 * beside it (its bin/ changes), another sctprof, another PATH. */
	if (python) {
		(void)stat(python, &py);
		snprintf(bin, sizeof(bin), "%s", python);
		if (strrchr(bin, '/'))
			*strrchr(bin, '/') = '\0';
		(void)stat(bin, &pybin);
	}
	(void)stat("/proc/self/exe", &self);
	n = snprintf(key, sizeof(key), "%s\n%lld.%09ld\n%lld.%09ld\n%s\n%lld.%09ld\n%s",
		     python ? python : "-", (long long)py.st_mtim.tv_sec, py.st_mtim.tv_nsec,
		     (long long)pybin.st_mtim.tv_sec, pybin.st_mtim.tv_nsec, SCTPROF_VERSION,
		     (long long)self.st_mtim.tv_sec, self.st_mtim.tv_nsec, path ? path : "");
	if (n < 0)
		return -ENOMEM;
	key_hash(key, d);
	hex(d, 16, hx);
	if (asprintf(ret, "%s/verdict-%s.json", dir, hx) < 0)
		return -ENOMEM;
	return 0;
}

int greeting_load(const char *path, json_t **ret, bool *ret_stale)
{
	char *text = NULL;
	json_t *v;
	struct stat st;
	int r;

	r = read_file(path, 1 << 20, &text, NULL);
	if (r < 0)
		return r;
	if (stat(path, &st) != 0)
		st.st_mtime = 0;
	v = json_loads(text, 0, NULL);
	free(text);
	if (!v || !json_is_array(json_object_get(v, "kinds")) ||
	    !json_is_string(json_object_get(v, "format")) ||
	    strcmp(json_string_value(json_object_get(v, "format")), "sctprof-check/1") != 0) {
		json_decref(v);
		return err_set(EINVAL, "verdict '%s': not a sctprof-check/1 document", path);
	}
	*ret_stale = time(NULL) - st.st_mtime > GREETING_MAX_AGE || st.st_mtime > time(NULL) + 60;
	*ret = v;
	return 0;
}

int greeting_store(const char *path, const json_t *v)
{
	char dir[PATH_MAX], *s;
	int r;

	snprintf(dir, sizeof(dir), "%s", path);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	r = mkdir_p(dir);
	if (r < 0)
		return r;
	s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!s)
		return -ENOMEM;
	r = write_file_atomic(path, s, strlen(s));
	free(s);
	return r;
}

/* Verdicts of interpreters and builds long gone: a month without a refresh. */
static void prune(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX];
		struct stat st;
		if (strncmp(e->d_name, "verdict-", 8) != 0 ||
		    snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p))
			continue;
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && time(NULL) - st.st_mtime > 30 * 24 * 3600)
			unlink(p);
	}
	closedir(d);
}

void greeting_forget_hooks(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX];
		size_t n = strlen(e->d_name);
		if (strncmp(e->d_name, "hook-", 5) != 0 || n < 5 || strcmp(e->d_name + n - 5, ".bash") != 0 ||
		    snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p))
			continue;
		unlink(p);
	}
	closedir(d);
}

int greeting_refresh_detached(const char *path, const char *python,
			     json_t *(*compute)(const char *python))
{
	pid_t pid = fork();

	if (pid < 0)
		return err_set(errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		char lock[PATH_MAX], dir[PATH_MAX];
		json_t *v;
		int fd;

		/* Out of the shell's session and away from its pipes: the shell reading
		 * $(sctprof hook bash) waits for every writer of that pipe to go. */
		setsid();
		if (fork() != 0)
			_exit(0);
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		for (int i = 3; i < 1024; i++)
			close(i);
		snprintf(dir, sizeof(dir), "%s", path);
		if (strrchr(dir, '/'))
			*strrchr(dir, '/') = '\0';
		if (mkdir_p(dir) < 0 || snprintf(lock, sizeof(lock), "%s.lock", path) >= (int)sizeof(lock))
			_exit(1);
		fd = open(lock, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0)
			_exit(0);
		v = compute(python);
		if (v)
			(void)greeting_store(path, v);
		prune(dir);
		unlink(lock);
		_exit(0);
	}
	(void)waitpid(pid, NULL, 0);
	return 0;
}

char *greeting_line(const json_t *v, const char *hint)
{
	char *buf = NULL;
	size_t len = 0, n_yes = 0, n_no = 0, i;
	FILE *f = open_memstream(&buf, &len);
	const char *ver;
	json_t *k;

	if (!f)
		return NULL;
	if (!v) {
		fputs("sctprof: checking in the background which profile kinds work here; the "
		      "next shell says", f);
	} else {
		ver = json_string_value(json_object_get(json_object_get(v, "python"), "version"));
		fprintf(f, "sctprof: profile kinds for %s%s:", ver ? "Python " : "no Python found",
			ver ? ver : "");
		json_array_foreach(json_object_get(v, "kinds"), i, k) {
			const char *status = json_string_value(json_object_get(k, "status"));
			if (json_is_null(json_object_get(k, "tool")) || !json_object_get(k, "tool"))
				continue;
			fprintf(f, " %s%s", json_string_value(json_object_get(k, "kind")),
				status && !strcmp(status, "untested") ? "(untested)" : "");
			n_yes++;
		}
		if (!n_yes)
			fputs(" none", f);
		json_array_foreach(json_object_get(v, "kinds"), i, k) {
			if (!json_is_null(json_object_get(k, "tool")) && json_object_get(k, "tool"))
				continue;
			fprintf(f, "%s %s", n_no++ ? "" : "; not here:",
				json_string_value(json_object_get(k, "kind")));
		}
		if (n_no && hint)
			fprintf(f, " (%s)", hint);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
