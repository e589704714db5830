/* Interpreter discovery and inspection for `check` and `run`.
 *
 * Speed matters: `sctprof check` should answer in milliseconds, and starting CPython
 * costs tens of them once site.py runs. So a virtualenv's version comes from its
 * pyvenv.cfg, site-packages are derived from the prefix the way CPython's site.py does,
 * and installed distributions are read from directory names (plus one small METADATA
 * read per tool asked about). Only an interpreter without pyvenv.cfg is started, once,
 * with -V, which exits before site.py is imported. */
#include "python.h"
#include "error.h"
#include "fsutil.h"
#include "log.h"
#include "strutil.h"
#include "target.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* -V answers in a few milliseconds; a hung interpreter must not hang `check`. */
#define VERSION_TIMEOUT_MS 10000

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *python_normalize_name(const char *name, char *buf, size_t size)
{
	size_t o = 0;
	bool sep = false;

	for (const char *p = name; *p && o + 2 < size; p++) {
		if (*p == '-' || *p == '_' || *p == '.') {
			sep = true;
			continue;
		}
		if (sep && o > 0)
			buf[o++] = '-';
		sep = false;
		buf[o++] = (char)tolower((unsigned char)*p);
	}
	buf[o] = '\0';
	return buf;
}

bool python_is_shim_dir(const char *dir)
{
	const char *root = getenv("PYENV_ROOT");
	size_t n = strlen(dir);
	char want[PATH_MAX];

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n < 6 || strncmp(dir + n - 6, "/shims", 6) != 0)
		return false;
	if (root && *root) {
		snprintf(want, sizeof(want), "%s/", root);
		if (strncmp(dir, want, strlen(want)) == 0)
			return true;
	}
	/* $PYENV_ROOT may be unset in the environment sctprof got (sudo, a CI step). */
	return strstr(dir, "/.pyenv/") != NULL || strstr(dir, "/pyenv/") != NULL ||
	       strstr(dir, "pyenv-virtualenv/") != NULL;
}

const char *python_host_platform(void)
{
	static char name[32];
	struct utsname u;

	if (name[0])
		return name;
	if (uname(&u) != 0 || strcmp(u.sysname, "Linux") == 0)
		snprintf(name, sizeof(name), "linux");
	else if (strcmp(u.sysname, "Darwin") == 0)
		snprintf(name, sizeof(name), "darwin");
	else
		for (size_t i = 0; u.sysname[i] && i + 1 < sizeof(name); i++)
			name[i] = (char)tolower((unsigned char)u.sysname[i]);
	return name;
}

/* ---- pyinfo construction helpers ---- */

static int add_step(struct pyinfo *py, const char *step, const char *result)
{
	struct pystep *s = realloc(py->steps, (py->n_steps + 1) * sizeof(*s));

	if (!s)
		return -ENOMEM;
	py->steps = s;
	s[py->n_steps].step = strdup(step);
	s[py->n_steps].result = strdup(result);
	if (!s[py->n_steps].step || !s[py->n_steps].result) {
		free(s[py->n_steps].step);
		free(s[py->n_steps].result);
		return -ENOMEM;
	}
	py->n_steps++;
	return 0;
}

static int add_finding(struct pyinfo *py, const char *code, char *message, char *hint)
{
	struct finding *f;

	if (!message || !hint) {
		free(message);
		free(hint);
		return -ENOMEM;
	}
	f = realloc(py->findings, (py->n_findings + 1) * sizeof(*f));
	if (!f) {
		free(message);
		free(hint);
		return -ENOMEM;
	}
	py->findings = f;
	f[py->n_findings].code = strdup(code);
	f[py->n_findings].message = message;
	f[py->n_findings].hint = hint;
	if (!f[py->n_findings].code) {
		free(message);
		free(hint);
		return -ENOMEM;
	}
	py->n_findings++;
	return 0;
}

void pyinfo_free(struct pyinfo *py)
{
	if (!py)
		return;
	free(py->path);
	free(py->origin);
	free(py->version);
	free(py->venv);
	free(py->bindir);
	strv_free(&py->site_packages);
	for (size_t i = 0; i < py->n_dists; i++) {
		free(py->dists[i].key);
		free(py->dists[i].version);
		free(py->dists[i].path);
	}
	free(py->dists);
	for (size_t i = 0; i < py->n_steps; i++) {
		free(py->steps[i].step);
		free(py->steps[i].result);
	}
	free(py->steps);
	for (size_t i = 0; i < py->n_findings; i++) {
		free(py->findings[i].code);
		free(py->findings[i].message);
		free(py->findings[i].hint);
	}
	free(py->findings);
	*py = (struct pyinfo){ 0 };
}

/* ---- pyvenv.cfg ---- */

struct venvcfg {
	char *home;
	char *version;
	bool system_site;
};

static void venvcfg_free(struct venvcfg *c)
{
	free(c->home);
	free(c->version);
	*c = (struct venvcfg){ 0 };
}

/* Reads "key = value" lines as CPython's getpath does. */
static int venvcfg_read(const char *path, struct venvcfg *ret)
{
	struct venvcfg c = { 0 };
	char *text = NULL, *save = NULL;
	char *version_info = NULL;
	int r = read_head(path, 65536, &text, NULL);

	if (r < 0)
		return r;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '='), *key, *val;

		if (!eq)
			continue;
		*eq = '\0';
		key = str_trim(line);
		val = str_trim(eq + 1);
		if (!strcmp(key, "home")) {
			free(c.home);
			c.home = strdup(val);
		} else if (!strcmp(key, "version")) {
			free(c.version);
			c.version = strdup(val);
		} else if (!strcmp(key, "version_info")) {
			free(version_info);
			version_info = strdup(val);
		} else if (!strcmp(key, "include-system-site-packages")) {
			c.system_site = !strcasecmp(val, "true");
		}
	}
	/* uv and virtualenv write version_info ("3.14.2", "3.11.2.final.0"), venv writes
	 * version; either may be alone. */
	if (version_info) {
		free(c.version);
		c.version = version_info;
	}
	free(text);
	*ret = c;
	return 0;
}

/* ---- the version, by running the interpreter once ---- */

static int run_version(const char *interp, char *out, size_t size)
{
	int pipefd[2], status = 0, r = 0;
	size_t len = 0;
	pid_t pid;
	struct timespec start, now;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	{
		/* posix_spawn: vfork semantics, no copy of sctprof's page tables. */
		posix_spawn_file_actions_t fa;
		char *const child_argv[] = { (char *)interp, (char *)"-V", NULL };
		extern char **environ;
		int e;

		if ((e = posix_spawn_file_actions_init(&fa)) != 0) {
			close(pipefd[0]);
			close(pipefd[1]);
			return -e;
		}
		/* stdin from /dev/null; stdout and stderr (Python 2 printed its version on
		 * stderr) into the pipe. dup2 clears O_CLOEXEC on the copies. */
		e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
		if (!e)
			e = posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
		if (!e)
			e = posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
		if (!e)
			e = posix_spawn(&pid, interp, &fa, NULL, child_argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		if (e) {
			close(pipefd[0]);
			close(pipefd[1]);
			return -e;
		}
	}
	close(pipefd[1]);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		long waited;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= VERSION_TIMEOUT_MS) {
			kill(pid, SIGKILL);
			r = -ETIMEDOUT;
			break;
		}
		if (poll(&pfd, 1, (int)(VERSION_TIMEOUT_MS - waited)) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			kill(pid, SIGKILL);
			break;
		}
		if (!pfd.revents)
			continue;
		n = read(pipefd[0], out + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len + 1 >= size)
			break;
	}
	close(pipefd[0]);
	out[len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = -ENOEXEC;
	return r;
}

static int version_from_interpreter(const char *interp, struct pyinfo *py)
{
	char out[256], *p;
	int r;

	r = run_version(interp, out, sizeof(out));
	log_debug("ran '%s -V': %s", interp, r < 0 ? strerror(-r) : out);
	if (r == -ETIMEDOUT)
		return err_set(ETIMEDOUT, "interpreter '%s': '-V' did not answer in %d s",
			       interp, VERSION_TIMEOUT_MS / 1000);
	p = strstr(out, "Python ");
	if (r < 0 || !p || pyver_parse(p + 7, true, &py->ver) < 0 || py->ver.n < 2)
		return err_set(ENOEXEC, "interpreter '%s': '-V' printed no Python version", interp);
	p = str_trim(p + 7);
	py->version = strndup(p, strcspn(p, " \n"));
	py->version_source = "interpreter";
	return py->version ? 0 : -ENOMEM;
}

/* ---- pyenv shims ---- */

/* The version names pyenv would pick: $PYENV_VERSION, else .python-version here or
 * above, else $PYENV_ROOT/version, else "system". */
static int pyenv_versions(const char *root, struct strv *out)
{
	const char *env = getenv("PYENV_VERSION");
	char dir[PATH_MAX], file[PATH_MAX + 32];
	char *text = NULL, *save = NULL;
	int r = 0;

	if (env && *env) {
		char *copy = strdup(env);
		if (!copy)
			return -ENOMEM;
		for (char *v = strtok_r(copy, ":", &save); v && r >= 0; v = strtok_r(NULL, ":", &save))
			r = strv_push(out, v);
		free(copy);
		return r;
	}
	if (getcwd(dir, sizeof(dir))) {
		for (;;) {
			snprintf(file, sizeof(file), "%s/.python-version", dir);
			if (read_head(file, 4096, &text, NULL) == 0)
				break;
			if (!strcmp(dir, "/"))
				break;
			char *slash = strrchr(dir, '/');
			if (slash == dir)
				slash[1] = '\0';
			else if (slash)
				*slash = '\0';
			else
				break;
		}
	}
	if (!text) {
		snprintf(file, sizeof(file), "%s/version", root);
		(void)read_head(file, 4096, &text, NULL);
	}
	if (text) {
		for (char *l = strtok_r(text, "\n", &save); l && r >= 0; l = strtok_r(NULL, "\n", &save)) {
			char *v = str_trim(l);
			if (*v && *v != '#')
				r = strv_push(out, v);
		}
		free(text);
	}
	if (r >= 0 && out->n == 0)
		r = strv_push(out, "system");
	return r;
}

/* What a pyenv shim would run, or NULL. */
static char *pyenv_resolve(const char *shim)
{
	struct strv versions = STRV_INIT;
	const char *env = getenv("PYENV_ROOT"), *base = strrchr(shim, '/');
	char *root = NULL, *found = NULL;

	base = base ? base + 1 : shim;
	if (env && *env) {
		root = strdup(env);
	} else {
		const char *s = strstr(shim, "/.pyenv/");
		root = s ? strndup(shim, (size_t)(s - shim) + 7) : NULL;
	}
	if (!root || pyenv_versions(root, &versions) < 0)
		goto out;
	for (size_t i = 0; i < versions.n && !found; i++) {
		if (!strcmp(versions.v[i], "system")) {
			found = path_search(base, python_is_shim_dir, NULL);
		} else {
			char *p = xasprintf("%s/versions/%s/bin/%s", root, versions.v[i], base);
			if (p && path_is_exec(p))
				found = p;
			else
				free(p);
		}
	}
out:
	strv_free(&versions);
	free(root);
	return found;
}

/* ---- site-packages ---- */

static int add_site_dir(struct pyinfo *py, const char *dir)
{
	for (size_t i = 0; i < py->site_packages.n; i++)
		if (!strcmp(py->site_packages.v[i], dir))
			return 0;
	if (!is_dir(dir))
		return 0;
	return strv_push(&py->site_packages, dir);
}

/* The site-packages of an interpreter installed at prefix (not a virtualenv). */
static int add_prefix_sites(struct pyinfo *py, const char *prefix, bool user_site)
{
	int maj = py->ver.part[0], min = py->ver.part[1], r = 0;
	const char *home = getenv("HOME"), *nouser = getenv("PYTHONNOUSERSITE");
	char p[PATH_MAX];

	if (user_site && home && *home && !(nouser && *nouser)) {
		snprintf(p, sizeof(p), "%s/.local/lib/python%d.%d/site-packages", home, maj, min);
		if ((r = add_site_dir(py, p)) < 0)
			return r;
	}
	if (!strcmp(prefix, "/usr")) {
		/* Debian's layout: pip into /usr/local, packages into python3/dist-packages. */
		snprintf(p, sizeof(p), "/usr/local/lib/python%d.%d/dist-packages", maj, min);
		if ((r = add_site_dir(py, p)) < 0)
			return r;
		snprintf(p, sizeof(p), "/usr/lib/python%d/dist-packages", maj);
		if ((r = add_site_dir(py, p)) < 0)
			return r;
		snprintf(p, sizeof(p), "/usr/lib/python%d.%d/dist-packages", maj, min);
		if ((r = add_site_dir(py, p)) < 0)
			return r;
	}
	snprintf(p, sizeof(p), "%s/lib/python%d.%d/site-packages", prefix, maj, min);
	if ((r = add_site_dir(py, p)) < 0)
		return r;
	/* A free-threaded build keeps its own (python3.14t). */
	snprintf(p, sizeof(p), "%s/lib/python%d.%dt/site-packages", prefix, maj, min);
	return add_site_dir(py, p);
}

static int add_venv_sites(struct pyinfo *py)
{
	char want[32], p[PATH_MAX];
	char *lib = xasprintf("%s/lib", py->venv);
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (!lib)
		return -ENOMEM;
	snprintf(want, sizeof(want), "python%d.%d", py->ver.part[0], py->ver.part[1]);
	d = opendir(lib);
	if (d) {
		while ((e = readdir(d))) {
			size_t n = strlen(want);
			if (strncmp(e->d_name, want, n) != 0 || (e->d_name[n] && strcmp(e->d_name + n, "t")))
				continue;
			snprintf(p, sizeof(p), "%s/%s/site-packages", lib, e->d_name);
			if ((r = add_site_dir(py, p)) < 0)
				break;
		}
		closedir(d);
	}
	free(lib);
	return r;
}

/* "py_spy-0.4.2.dist-info", "scalene-1.5.16.egg-info", "foo-1.0-py3.11.egg-info". */
static int add_dist(struct pyinfo *py, const char *dir, const char *entry)
{
	const char *suffix = strrchr(entry, '.'), *dash = NULL;
	char name[256], key[256], *version;
	struct pydist *d;

	if (!suffix || (strcmp(suffix, ".dist-info") && strcmp(suffix, ".egg-info")))
		return 0;
	for (const char *p = entry; p < suffix; p++)
		if (*p == '-' && isdigit((unsigned char)p[1])) {
			dash = p;
			break;
		}
	if (!dash || (size_t)(dash - entry) >= sizeof(name))
		return 0;
	snprintf(name, sizeof(name), "%.*s", (int)(dash - entry), entry);
	python_normalize_name(name, key, sizeof(key));
	version = strndup(dash + 1, (size_t)(suffix - dash - 1));
	if (!version)
		return -ENOMEM;
	version[strcspn(version, "-")] = '\0';   /* egg-info's "-py3.11" */
	d = realloc(py->dists, (py->n_dists + 1) * sizeof(*d));
	if (!d) {
		free(version);
		return -ENOMEM;
	}
	py->dists = d;
	d[py->n_dists].key = strdup(key);
	d[py->n_dists].version = version;
	d[py->n_dists].path = xasprintf("%s/%s", dir, entry);
	if (!d[py->n_dists].key || !d[py->n_dists].path) {
		free(d[py->n_dists].key);
		free(d[py->n_dists].path);
		free(version);
		return -ENOMEM;
	}
	py->n_dists++;
	return 0;
}

static int scan_dists(struct pyinfo *py)
{
	int r = 0;

	for (size_t i = 0; i < py->site_packages.n && r >= 0; i++) {
		DIR *d = opendir(py->site_packages.v[i]);
		struct dirent *e;

		if (!d)
			continue;
		while (r >= 0 && (e = readdir(d)))
			if (e->d_name[0] != '.')
				r = add_dist(py, py->site_packages.v[i], e->d_name);
		closedir(d);
	}
	return r;
}

/* Name and Version from the head of a METADATA or PKG-INFO file. */
static int read_metadata(const char *entry, char **ret_name, char **ret_version)
{
	struct stat st;
	char *path, *text, *name = NULL, *version = NULL;
	int r;

	if (stat(entry, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		bool dist = strlen(entry) > 10 && !strcmp(entry + strlen(entry) - 10, ".dist-info");
		path = xasprintf("%s/%s", entry, dist ? "METADATA" : "PKG-INFO");
	} else {
		path = strdup(entry);
	}
	if (!path)
		return -ENOMEM;
	r = read_head(path, 16384, &text, NULL);
	free(path);
	if (r < 0)
		return -ENOENT;
	for (char *l = text, *nl; l && *l; l = nl) {
		nl = strchr(l, '\n');
		if (nl)
			*nl++ = '\0';
		if (!*l || !strcmp(l, "\r"))
			break;   /* the headers end at the first empty line */
		if (!strncasecmp(l, "Name:", 5) && !name)
			name = strdup(str_trim(l + 5));
		else if (!strncasecmp(l, "Version:", 8) && !version)
			version = strdup(str_trim(l + 8));
	}
	free(text);
	*ret_name = name;
	*ret_version = version;
	return 0;
}

int python_dist(const struct pyinfo *py, const char *name, char **ret_version)
{
	char want[256];

	python_normalize_name(name, want, sizeof(want));
	for (size_t i = 0; i < py->n_dists; i++) {
		const struct pydist *d = &py->dists[i];
		char *mname = NULL, *mversion = NULL, got[256];
		char *version;

		if (strcmp(d->key, want) != 0)
			continue;
		if (read_metadata(d->path, &mname, &mversion) == 0 && mname &&
		    strcmp(python_normalize_name(mname, got, sizeof(got)), want) != 0) {
			/* The entry's name misled us; it is some other project. */
			free(mname);
			free(mversion);
			continue;
		}
		version = mversion ? mversion : (d->version[0] ? strdup(d->version) : NULL);
		free(mname);
		*ret_version = version;
		return 1;
	}
	return 0;
}

char *python_executable(const struct pyinfo *py, const char *name)
{
	if (py->bindir) {
		char *p = xasprintf("%s/%s", py->bindir, name);
		if (p && path_is_exec(p))
			return p;
		free(p);
	}
	return path_search(name, python_is_shim_dir, NULL);
}

/* ---- findings ---- */

static int check_shims(struct pyinfo *py)
{
	char *shim = NULL, *first = path_search("python3", NULL, NULL);
	int r = 0;

	if (!first)
		return 0;
	{
		char *dir = path_dirname(first);
		if (dir && python_is_shim_dir(dir))
			shim = first, first = NULL;
		free(dir);
	}
	free(first);
	if (!shim)
		return 0;
	if (py->path && strcmp(py->path, shim) != 0)
		r = add_finding(py, "pyenv-shims",
				xasprintf("pyenv's shims come first on PATH: 'python3' there is '%s', not "
					  "'%s', so a '#!/usr/bin/env python3' script runs pyenv's Python",
					  shim, py->path),
				xasprintf("%s", py->venv
					  ? "drop pyenv's shims from PATH as SCT's .envrc does "
					    "(PATH_rm \"$(pyenv root)/shims\"), or put the virtualenv's bin/ first"
					  : "drop pyenv's shims from PATH as SCT's .envrc does "
					    "(PATH_rm \"$(pyenv root)/shims\"), or activate the project's virtualenv"));
	free(shim);
	return r;
}

/* .python-version here or above, compared at its own precision. */
static int check_python_version_file(struct pyinfo *py)
{
	char dir[PATH_MAX], file[PATH_MAX + 32], *text = NULL, *line, *save = NULL;
	struct pyver want;
	int r = 0;

	if (!py->version || !getcwd(dir, sizeof(dir)))
		return 0;
	for (;;) {
		snprintf(file, sizeof(file), "%s/.python-version", dir);
		if (read_head(file, 4096, &text, NULL) == 0)
			break;
		char *slash = strrchr(dir, '/');
		if (!slash || !strcmp(dir, "/"))
			return 0;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	line = strtok_r(text, "\n", &save);
	line = line ? str_trim(line) : NULL;
	if (line && pyver_parse(line, true, &want) == 0) {
		bool same = true;
		for (int i = 0; i < want.n; i++)
			if (want.part[i] != py->ver.part[i])
				same = false;
		if (!same)
			r = add_finding(py, "python-version-mismatch",
					xasprintf("'%s' asks for Python %s, but '%s' is %s", file, line,
						  py->path, py->version),
					xasprintf(py->venv
						  ? "recreate the virtualenv for %s (uv sync, or uv venv --python %s)"
						  : "use a Python %s interpreter (uv venv --python %s), or fix "
						    ".python-version",
						  line, line));
	}
	free(text);
	return r;
}

static void check_uv_group(struct pyinfo *py)
{
	char *text = NULL, *groups;

	if (read_head("pyproject.toml", 1 << 20, &text, NULL) < 0)
		return;
	groups = strstr(text, "[dependency-groups]");
	if (groups) {
		for (char *l = strchr(groups, '\n'); l && l[1] && l[1] != '['; l = strchr(l + 1, '\n')) {
			char *p = l + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			if (!strncmp(p, "profiling", 9) && (p[9] == ' ' || p[9] == '=')) {
				py->uv_profiling_group = true;
				break;
			}
		}
	}
	free(text);
}

static int add_ptrace_finding(struct pyinfo *py)
{
	if (py->ptrace.verdict == PTRACE_OK)
		return 0;
	return add_finding(py, "ptrace",
			   xasprintf("sampling profilers need ptrace, and %s", py->ptrace.reason),
			   strdup(py->ptrace.hint));
}

/* ---- probing ---- */

int python_probe(const char *interpreter, const char *origin, struct pyinfo *ret)
{
	struct pyinfo py = { 0 };
	struct venvcfg cfg = { 0 };
	char *resolved = NULL, *cfgpath = NULL, *parent = NULL, real[PATH_MAX];
	int r;

	/* A bare name is looked up on PATH, as the shell (and target_resolve) would. */
	py.path = strchr(interpreter, '/') ? path_absolute(interpreter) : path_lookup(interpreter);
	if (!py.path && !strchr(interpreter, '/')) {
		r = err_set(ENOENT, "interpreter '%s' not found on PATH", interpreter);
		goto out;
	}
	py.origin = strdup(origin ? origin : "given");
	if (!py.path || !py.origin) {
		r = -ENOMEM;
		goto out;
	}
	if (!path_is_exec(py.path)) {
		r = err_set(ENOENT, "interpreter '%s' not found or not executable", interpreter);
		goto out;
	}
	/* A pyenv shim is a shell script; what matters is the interpreter it runs. */
	{
		char *dir = path_dirname(py.path);
		bool shim = dir && python_is_shim_dir(dir);
		free(dir);
		if (shim) {
			resolved = pyenv_resolve(py.path);
			if (!resolved) {
				r = err_set(ENOENT, "interpreter '%s' is a pyenv shim for no installed "
					    "version", py.path);
				goto out;
			}
			r = add_finding(&py, "pyenv-shim",
					xasprintf("'%s' is a pyenv shim; it runs '%s'", py.path, resolved),
					xasprintf("name the interpreter itself (--python %s), or drop "
						  "pyenv's shims from PATH", resolved));
			if (r < 0)
				goto out;
			free(py.path);
			py.path = resolved;
			resolved = NULL;
		}
	}
	py.bindir = path_dirname(py.path);
	parent = py.bindir ? path_dirname(py.bindir) : NULL;
	if (!py.bindir || !parent) {
		r = -ENOMEM;
		goto out;
	}
	/* pyvenv.cfg beside the executable or one folder up, as CPython looks for it. */
	cfgpath = xasprintf("%s/pyvenv.cfg", py.bindir);
	if (cfgpath && access(cfgpath, R_OK) == 0) {
		py.venv = strdup(py.bindir);
	} else {
		free(cfgpath);
		cfgpath = xasprintf("%s/pyvenv.cfg", parent);
		if (cfgpath && access(cfgpath, R_OK) == 0)
			py.venv = strdup(parent);
	}
	if (!cfgpath) {
		r = -ENOMEM;
		goto out;
	}
	if (py.venv && venvcfg_read(cfgpath, &cfg) == 0 && cfg.version &&
	    pyver_parse(cfg.version, true, &py.ver) == 0 && py.ver.n >= 2) {
		char *v = str_trim(cfg.version);
		py.version = strndup(v, strcspn(v, " "));
		py.version_source = "pyvenv.cfg";
		if (!py.version) {
			r = -ENOMEM;
			goto out;
		}
		log_debug("version %s from '%s'", py.version, cfgpath);
	} else if ((r = version_from_interpreter(py.path, &py)) < 0) {
		goto out;
	}

	if (py.venv) {
		if ((r = add_venv_sites(&py)) < 0)
			goto out;
		if (cfg.system_site && cfg.home) {
			/* home is the base interpreter's bin/ */
			char *base = path_dirname(cfg.home);
			r = base ? add_prefix_sites(&py, base, false) : -ENOMEM;
			free(base);
			if (r < 0)
				goto out;
		}
	} else {
		char *rbin, *prefix;
		if (!realpath(py.path, real)) {
			r = err_set(errno, "interpreter '%s': %s", py.path, strerror(errno));
			goto out;
		}
		rbin = path_dirname(real);
		prefix = rbin ? path_dirname(rbin) : NULL;
		r = prefix ? add_prefix_sites(&py, prefix, true) : -ENOMEM;
		free(rbin);
		free(prefix);
		if (r < 0)
			goto out;
	}
	if ((r = scan_dists(&py)) < 0)
		goto out;
	py.probed = true;
	check_uv_group(&py);
	ptrace_probe(&py.ptrace);
	if ((r = check_shims(&py)) < 0 || (r = check_python_version_file(&py)) < 0 ||
	    (r = add_ptrace_finding(&py)) < 0)
		goto out;
	r = 0;
out:
	venvcfg_free(&cfg);
	free(cfgpath);
	free(parent);
	free(resolved);
	if (r < 0) {
		pyinfo_free(&py);
		return r;
	}
	*ret = py;
	return 0;
}

int python_assume(const char *version, struct pyinfo *ret)
{
	struct pyinfo py = { 0 };

	if (!version || pyver_parse(version, true, &py.ver) < 0 || py.ver.n < 2)
		return err_set(EINVAL, "'%s' is not a Python version (X.Y or X.Y.Z)",
			       version ? version : "");
	py.version = strdup(version);
	py.origin = strdup("--python-version");
	if (!py.version || !py.origin) {
		pyinfo_free(&py);
		return -ENOMEM;
	}
	py.version_source = "--python-version";
	ptrace_probe(&py.ptrace);
	*ret = py;
	return 0;
}

/* ---- the search ---- */

/* DIR/bin/python or DIR/bin/python3, when DIR is a folder. */
static char *venv_python(const char *dir)
{
	static const char *const names[] = { "bin/python", "bin/python3" };

	for (size_t i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s", dir, names[i]);
		if (p && path_is_exec(p)) {
			char *a = path_absolute(p);
			free(p);
			return a;
		}
		free(p);
	}
	return NULL;
}

/* Tries one candidate folder; on a hit sets *ret_found and records the step. */
static int try_venv(struct pyinfo *py, const char *step, const char *dir, char **ret_found)
{
	char *found, *msg;
	int r;

	if (!dir || !*dir)
		return add_step(py, step, "not set");
	found = venv_python(dir);
	if (!found) {
		msg = xasprintf("'%s' has no bin/python", dir);
		r = msg ? add_step(py, step, msg) : -ENOMEM;
		free(msg);
		return r;
	}
	msg = xasprintf("'%s'", found);
	r = msg ? add_step(py, step, msg) : -ENOMEM;
	free(msg);
	if (r < 0) {
		free(found);
		return r;
	}
	*ret_found = found;
	return 0;
}

/* The search of python_find(), without starting anything: the interpreter and how it
 * was found, each step recorded in steps. */
static int locate(const char *python_opt, char *const *argv, int argc, struct pyinfo *steps_out,
		  char **ret_found, char **ret_origin)
{
	struct pyinfo steps = { 0 };
	struct target t = { 0 };
	char *found = NULL, *origin = NULL, *pv = NULL, *dir = NULL, *shim = NULL;
	int r = 0;

	if (python_opt) {
		if ((r = add_step(&steps, "--python", python_opt)) < 0)
			goto out;
		found = strdup(python_opt);
		origin = strdup("--python");
		goto done;
	}
	if ((r = add_step(&steps, "--python", "not given")) < 0)
		goto out;

	if (argc > 0) {
		if ((r = target_resolve(argv, argc, NULL, &t)) < 0)
			goto out;
		if ((r = add_step(&steps, "command", t.origin)) < 0)
			goto out;
		found = strdup(t.python);
		origin = strdup(t.origin);
		goto done;
	}
	if ((r = add_step(&steps, "command", "none given")) < 0)
		goto out;

	if ((r = try_venv(&steps, "$VIRTUAL_ENV", getenv("VIRTUAL_ENV"), &found)) < 0)
		goto out;
	if (found) {
		origin = strdup("$VIRTUAL_ENV");
		goto done;
	}
	if ((r = try_venv(&steps, "$UV_PROJECT_ENVIRONMENT", getenv("UV_PROJECT_ENVIRONMENT"),
			  &found)) < 0)
		goto out;
	if (found) {
		origin = strdup("$UV_PROJECT_ENVIRONMENT");
		goto done;
	}
	if (read_head(".python-version", 4096, &pv, NULL) == 0) {
		char *v = str_trim(pv);
		v[strcspn(v, "\n")] = '\0';
		dir = xasprintf(".venv-sct-%s", str_trim(v));
		if (!dir) {
			r = -ENOMEM;
			goto out;
		}
		if (*v && is_dir(dir)) {
			if ((r = try_venv(&steps, ".venv-sct-$(cat .python-version)", dir, &found)) < 0)
				goto out;
		} else {
			char *msg = xasprintf("no folder '%s'", dir);
			r = msg ? add_step(&steps, ".venv-sct-$(cat .python-version)", msg) : -ENOMEM;
			free(msg);
			if (r < 0)
				goto out;
		}
		if (found) {
			origin = strdup(dir);
			goto done;
		}
	} else if ((r = add_step(&steps, ".venv-sct-$(cat .python-version)", "no .python-version")) < 0) {
		goto out;
	}
	if (is_dir(".venv")) {
		if ((r = try_venv(&steps, ".venv", ".venv", &found)) < 0)
			goto out;
		if (found) {
			origin = strdup(".venv");
			goto done;
		}
	} else if ((r = add_step(&steps, ".venv", "no folder '.venv'")) < 0) {
		goto out;
	}

	found = path_search("python3", python_is_shim_dir, &shim);
	if (!found) {
		r = err_set(ENOENT, "no Python interpreter found: no virtualenv here and no "
			    "python3 on PATH%s (name one with --python)",
			    shim ? " other than pyenv's shim" : "");
		goto out;
	}
	{
		char *msg = shim ? xasprintf("'%s' (pyenv shim '%s' skipped)", found, shim)
				 : xasprintf("'%s'", found);
		r = msg ? add_step(&steps, "python3 on PATH", msg) : -ENOMEM;
		free(msg);
		if (r < 0)
			goto out;
	}
	origin = shim ? xasprintf("python3 on PATH (pyenv shim '%s' skipped)", shim)
		      : strdup("python3 on PATH");

done:
	if (!found || !origin) {
		r = -ENOMEM;
		goto out;
	}
	*ret_found = found;
	*ret_origin = origin;
	*steps_out = steps;
	found = origin = NULL;
	steps = (struct pyinfo){ 0 };
out:
	target_free(&t);
	pyinfo_free(&steps);
	free(found);
	free(origin);
	free(pv);
	free(dir);
	free(shim);
	return r;
}

int python_locate(char **ret_path)
{
	struct pyinfo steps = { 0 };
	char *origin = NULL;
	int r = locate(NULL, NULL, 0, &steps, ret_path, &origin);

	pyinfo_free(&steps);
	free(origin);
	return r;
}

int python_find(const char *python_opt, char *const *argv, int argc, struct pyinfo *ret)
{
	struct pyinfo steps = { 0 };
	char *found = NULL, *origin = NULL;
	int r = locate(python_opt, argv, argc, &steps, &found, &origin);

	if (r < 0)
		return r;
	if ((r = python_probe(found, origin, ret)) < 0)
		goto out;
	/* The probe's record starts with the search that led to it. */
	{
		struct pystep *all = realloc(steps.steps, (steps.n_steps + ret->n_steps) * sizeof(*all));
		if (!all) {
			pyinfo_free(ret);
			r = -ENOMEM;
			goto out;
		}
		if (ret->n_steps)
			memcpy(all + steps.n_steps, ret->steps, ret->n_steps * sizeof(*all));
		free(ret->steps);
		ret->steps = all;
		ret->n_steps += steps.n_steps;
		steps.steps = NULL;
		steps.n_steps = 0;
	}
out:
	pyinfo_free(&steps);
	free(found);
	free(origin);
	return r;
}


/* ---- JSON ---- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *pyinfo_to_json(const struct pyinfo *py)
{
	json_t *o = json_object(), *sites = json_array(), *search = json_array();

	if (!o || !sites || !search) {
		json_decref(o);
		json_decref(sites);
		json_decref(search);
		return NULL;
	}
	for (size_t i = 0; i < py->site_packages.n; i++)
		json_array_append_new(sites, json_string(py->site_packages.v[i]));
	for (size_t i = 0; i < py->n_steps; i++) {
		json_t *s = json_object();
		json_object_set_new(s, "step", json_string(py->steps[i].step));
		json_object_set_new(s, "result", json_string(py->steps[i].result));
		json_array_append_new(search, s);
	}
	json_object_set_new(o, "path", str_or_null(py->path));
	json_object_set_new(o, "origin", str_or_null(py->origin));
	json_object_set_new(o, "version", str_or_null(py->version));
	json_object_set_new(o, "version_source", str_or_null(py->version_source));
	json_object_set_new(o, "venv", str_or_null(py->venv));
	json_object_set_new(o, "site_packages", sites);
	json_object_set_new(o, "search", search);
	return o;
}
