/* The cached verdict behind the hook's greeting (lib/verdict.h): where it is kept, what
 * a stale or foreign file is, the built-in verdict, and the one-line greeting. */
#include "tap.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "fsutil.h"
#include "greeting.h"

static char dir[] = "/tmp/sctprof-test-verdict-XXXXXX";

int main(void)
{
	char path[600], *a = NULL, *b = NULL, *line;
	json_t *v = NULL, *w;
	bool stale = false;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/bin", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/cache", dir);
	setenv("XDG_CACHE_HOME", path, 1);

	/* A virtualenv-like interpreter with one tool beside it. */
	put_text(dir, "bin/python", "#!/bin/sh\necho 'Python 3.14.2'\n", 0755);
	put_text(dir, "bin/memray", "#!/bin/sh\n", 0755);
	put_text(dir, "pyvenv.cfg", "home = /usr/bin\nversion_info = 3.14.2.final.0\n", 0644);
	snprintf(path, sizeof(path), "%s", dir);
	setenv("VIRTUAL_ENV", path, 1);
	setenv("PATH", "/nonexistent", 1);
	a = greeting_python();
	snprintf(path, sizeof(path), "%s/bin/python", dir);
	is_str(a, path, "$VIRTUAL_ENV's interpreter is the one");

	ok(greeting_cache_path(a, &b) == 0 && strstr(b, "/cache/sctprof/verdict-") &&
	   strstr(b, ".json"), "cached under $XDG_CACHE_HOME/sctprof");
	{
		char *c = NULL;
		setenv("PATH", "/elsewhere", 1);
		ok(greeting_cache_path(a, &c) == 0 && strcmp(b, c) != 0, "another PATH, another verdict");
		free(c);
		setenv("PATH", "/nonexistent", 1);
	}

	/* A verdict as `sctprof check --format json` writes it (docs/matrix.md). */
	v = json_pack("{s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:n, s:n},"
		      " {s:s, s:s, s:s}, {s:s, s:n, s:n}, {s:s, s:n, s:n}]}",
		      "format", "sctprof-check/1", "python", "path", a, "version", "3.14.2", "kinds",
		      "kind", "cprofile", "tool", "cprofile", "status", "supported",
		      "kind", "memory", "tool", "memray", "status", "supported",
		      "kind", "sampling", "tool", "status",
		      "kind", "imports", "tool", "importtime", "status", "supported",
		      "kind", "timeline", "tool", "status",
		      "kind", "scalene", "tool", "status");
	ok(v != NULL, "a verdict in check's format");
	line = greeting_line(v, "'sctprof check' says why");
	ok(line && !strchr(line, '\n'), "the greeting is one line");
	/* imports needs nothing but the interpreter (its backend is built in). */
	ok(strstr(line, "Python 3.14.2: cprofile memory imports;") != NULL, "kinds that work first");
	ok(strstr(line, "not here: sampling timeline") != NULL, "then those that do not");
	ok(strstr(line, "('sctprof check' says why)") != NULL, "then the hint");
	free(line);
	line = greeting_line(NULL, NULL);
	ok(line && strstr(line, "next shell"), "without a verdict: it is being checked");
	free(line);

	ok(greeting_store(b, v) == 0, "stored (the folder is created)");
	ok(greeting_load(b, &w, &stale) == 0 && !stale, "loaded back, fresh");
	json_decref(w);
	{
		struct utimbuf old = { .actime = time(NULL) - 2 * GREETING_MAX_AGE,
				       .modtime = time(NULL) - 2 * GREETING_MAX_AGE };
		utime(b, &old);
	}
	ok(greeting_load(b, &w, &stale) == 0 && stale, "two days old: stale, still usable");
	json_decref(w);
	write_file_atomic(b, "{\"format\": \"other/1\", \"kinds\": []}", 35);
	ok(greeting_load(b, &w, &stale) < 0, "a file in another format is not a verdict");

	snprintf(path, sizeof(path), "%s/cache/sctprof/hook-_usr_bin_sctprof.bash", dir);
	write_file_atomic(path, "x", 1);
	snprintf(path, sizeof(path), "%s/cache/sctprof", dir);
	greeting_forget_hooks(path);
	snprintf(path, sizeof(path), "%s/cache/sctprof/hook-_usr_bin_sctprof.bash", dir);
	ok(access(path, F_OK) != 0 && access(b, F_OK) == 0, "forgetting hooks keeps the verdicts");

	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	free(b);
	b = NULL;
	ok(greeting_cache_path(a, &b) < 0, "no HOME nor XDG_CACHE_HOME: no cache");
	json_decref(v);
	free(a);
	return tap_done();
}
