/* The cached verdict behind the greeting of `sctprof hook bash` (see verdict.h). */
#include "greeting.h"
#include "config.h"
#include "error.h"
#include "fsutil.h"
#include "inject.h"
#include "plugin.h"
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

static char *venv_python(const char *dir)
{
	char p[PATH_MAX];

	if (!dir || !*dir || snprintf(p, sizeof(p), "%s/bin/python", dir) >= (int)sizeof(p) ||
	    access(p, X_OK) != 0)
		return NULL;
	return path_absolute(p);
}

/* python3 on PATH, pyenv's shims left out: they answer with whatever pyenv picks. */
static char *path_python3(void)
{
	const char *path = getenv("PATH"), *p;
	char buf[PATH_MAX];

	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; ; ) {
		const char *end = strchrnul(p, ':');
		int len = (int)(end - p);

		char dir[PATH_MAX];

		if (len > 0 && snprintf(dir, sizeof(dir), "%.*s", len, p) < (int)sizeof(dir) &&
		    !python_is_shim_dir(dir) &&
		    snprintf(buf, sizeof(buf), "%s/python3", dir) < (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return path_absolute(buf);
		if (!*end)
			return NULL;
		p = end + 1;
	}
}

/* The search order of python_find() (lib/python.h), without probing: the greeting's
 * cache is keyed by the interpreter, and finding it must not start it. */
char *greeting_python(void)
{
	char *py, *ver = NULL, dir[PATH_MAX];

	if ((py = venv_python(getenv("VIRTUAL_ENV"))) || (py = venv_python(getenv("UV_PROJECT_ENVIRONMENT"))))
		return py;
	if (read_file(".python-version", 256, &ver, NULL) == 0) {
		ver[strcspn(ver, " \t\r\n")] = '\0';
		if (*ver && snprintf(dir, sizeof(dir), ".venv-sct-%s", ver) < (int)sizeof(dir))
			py = venv_python(dir);
		free(ver);
		if (py)
			return py;
	}
	if ((py = venv_python(".venv")))
		return py;
	return path_python3();
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

/* Which tools serve a kind, in the order DESIGN.md gives; the first one is the tool an
 * --inject run starts. A stand-in for the matrix, used only when `sctprof check` fails. */
static const struct {
	const char *kind;
	const char *tools[3];
} kind_tools[] = {
	{ "cprofile", { "cprofile" } },
	{ "sampling", { "py-spy", "scalene" } },
	{ "memory", { "memray", "scalene" } },
	{ "timeline", { "viztracer" } },
	{ "scalene", { "scalene" } },
	{ "imports", { "importtime" } },
};

/* A tool's program, or NULL for one that is part of the interpreter. */
static const char *tool_program(const char *tool)
{
	return !strcmp(tool, "cprofile") || !strcmp(tool, "importtime") ? NULL : tool;
}

/* The folder of path into buf; false when path has none or does not fit. */
static bool dir_of(const char *path, char *buf, size_t size)
{
	char *slash;

	if (!path || snprintf(buf, size, "%s", path) >= (int)size || !(slash = strrchr(buf, '/')))
		return false;
	*slash = '\0';
	return true;
}

static bool program_found(const char *python, const char *prog)
{
	char p[PATH_MAX], dir[PATH_MAX];
	char *found;

	if (dir_of(python, dir, sizeof(dir)) && snprintf(p, sizeof(p), "%s/%s", dir, prog) < (int)sizeof(p) &&
	    access(p, X_OK) == 0)
		return true;
	found = path_lookup(prog);
	free(found);
	return found != NULL;
}

/* The interpreter's version: pyvenv.cfg when there is one, else `python -V`. */
static char *python_version_of(const char *python)
{
	char cfg[PATH_MAX], *text = NULL, *out = NULL, buf[128] = "";
	FILE *f;

	if (dir_of(python, cfg, sizeof(cfg)) && strlen(cfg) + 16 < sizeof(cfg) &&
	    read_file(strcat(cfg, "/../pyvenv.cfg"), 1 << 16, &text, NULL) == 0) {
		for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && !out; l = strtok_r(NULL, "\n", &save)) {
			char key[64], val[64];
			int major, minor, micro;
			/* uv writes "version_info = 3.14.2.final.0". */
			if (sscanf(l, " %63[a-z_] = %63s", key, val) == 2 &&
			    (!strcmp(key, "version") || !strcmp(key, "version_info")) &&
			    sscanf(val, "%d.%d.%d", &major, &minor, &micro) == 3 &&
			    asprintf(&out, "%d.%d.%d", major, minor, micro) < 0)
				out = NULL;
		}
		free(text);
		if (out)
			return out;
	}
	if (strchr(python, '\'') || snprintf(cfg, sizeof(cfg), "'%s' -V 2>&1", python) >= (int)sizeof(cfg))
		return NULL;
	f = popen(cfg, "r");
	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	pclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return strncmp(buf, "Python ", 7) == 0 ? strdup(buf + 7) : NULL;
}

json_t *greeting_builtin(const char *python)
{
	json_t *v = json_object(), *kinds = json_array();
	char *ver = python ? python_version_of(python) : NULL;

	json_object_set_new(v, "format", json_string("sctprof-check/1"));
	json_object_set_new(v, "source", json_string("built-in: the backends of this sctprof "
						     "and the tools found beside the interpreter or on PATH"));
	json_object_set_new(v, "python", json_pack("{s:s?, s:s?}", "path", python, "version", ver));
	for (size_t i = 0; run_kinds[i]; i++) {
		json_t *k = json_object(), *considered = json_array();
		const char *pick = NULL;

		for (size_t j = 0; j < sizeof(kind_tools) / sizeof(kind_tools[0]) && !pick; j++) {
			if (strcmp(kind_tools[j].kind, run_kinds[i]) != 0)
				continue;
			for (size_t t = 0; t < 3 && kind_tools[j].tools[t] && !pick; t++) {
				const char *tool = kind_tools[j].tools[t], *prog = tool_program(tool);
				bool injectable = t == 0 && inject_kind_check(run_kinds[i]) == 0;
				const char *why = NULL;

				if (prog ? !program_found(python, prog) : !python)
					why = prog ? "not installed" : "no Python interpreter found";
				else if (!plugin_find(tool) && !injectable)
					why = "no backend for it is built into this sctprof";
				if (why)
					json_array_append_new(considered, json_pack("{s:s, s:s}", "tool", tool,
										    "reason", why));
				else
					pick = tool;
			}
		}
		err_clear();
		json_object_set_new(k, "kind", json_string(run_kinds[i]));
		json_object_set_new(k, "tool", pick ? json_string(pick) : json_null());
		json_object_set_new(k, "status", json_null());
		json_object_set_new(k, "considered", considered);
		json_array_append_new(kinds, k);
	}
	json_object_set_new(v, "kinds", kinds);
	free(ver);
	return v;
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
