/* Target resolution: every form of DESIGN.md, and what is refused. */
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "target.h"

static char dir[] = "/tmp/sctprof-test-target-XXXXXX";

static int resolve(struct target *t, const char *python, int argc, ...)
{
	char *argv[16];
	va_list ap;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	err_clear();
	return target_resolve(argv, argc, python, t);
}

int main(void)
{
	struct target t;
	char path[600];
	const char *py = "/usr/bin/python3";
	int r;

	if (!mkdtemp(dir))
		return 1;
	if (chdir(dir) != 0)
		return 1;
	put_text(dir, "w.py", "print('hi')\n", 0644);
	put_text(dir, "sct.py", "#!/usr/bin/env python3\nprint(1)\n", 0755);
	put_text(dir, "envs.py", "#!/usr/bin/env -S python3 -u -X dev\nprint(1)\n", 0755);
	put_text(dir, "direct.py", "#!/usr/bin/python3 -W error\nprint(1)\n", 0755);
	put_text(dir, "long.py", "#!/bin/sh\n'''exec' /usr/bin/python3 \"$0\" \"$@\"\n' '''\nprint(1)\n", 0755);
	put_text(dir, "run.sh", "#!/bin/bash\necho hi\n", 0755);
	put_text(dir, "plain.txt", "hello\n", 0755);
	put_text(dir, "elf", "\177ELF\2\1\1", 0755);

	ok(is_python_name("python3") && is_python_name("/usr/bin/python3.14") &&
	   is_python_name("python3.14t") && is_python_name("python") && is_python_name("pypy3"),
	   "python names recognised");
	ok(!is_python_name("python3-config") && !is_python_name("pytest") && !is_python_name("bash"),
	   "other names refused");

	r = resolve(&t, NULL, 4, "python3", "w.py", "a", "-b");
	is_int(r, 0, "python3 script.py args");
	if (r == 0) {
		is_int(t.mode, TARGET_SCRIPT, "  mode script");
		is_str(t.target, "w.py", "  script kept as given");
		is_int(t.args.n, 2, "  two args");
		is_str(t.args.v[1], "-b", "  an option after the script belongs to it");
		ok(t.python[0] == '/', "  interpreter made absolute");
		target_free(&t);
	}

	r = resolve(&t, py, 7, "python3.11", "-u", "-X", "dev", "-Werror", "-m", "pytest");
	is_int(r, 0, "python3.X -u -X dev -Werror -m pytest");
	if (r == 0) {
		is_int(t.mode, TARGET_MODULE, "  mode module");
		is_str(t.target, "pytest", "  module name");
		is_int(t.interp_opts.n, 4, "  interpreter options kept");
		is_str(t.interp_opts.v[1], "-X", "  -X kept with its value");
		is_str(t.interp_opts.v[3], "-Werror", "  attached -W kept");
		is_str(t.python, py, "  --python overrides the named interpreter");
		target_free(&t);
	}

	r = resolve(&t, NULL, 5, "python3", "-uc", "import sys", "x", "y");
	is_int(r, 0, "python3 -uc code args");
	if (r == 0) {
		is_int(t.mode, TARGET_CODE, "  mode code");
		is_str(t.interp_opts.v[0], "-u", "  flag before c kept");
		is_str(t.target, "import sys", "  code");
		is_int(t.args.n, 2, "  args after code");
		target_free(&t);
	}

	r = resolve(&t, NULL, 2, "./sct.py", "run-test");
	is_int(r, 0, "./sct.py with #!/usr/bin/env python3");
	if (r == 0) {
		is_str(t.target, "./sct.py", "  script path as given");
		is_int(t.interp_opts.n, 0, "  no options");
		ok(strstr(t.origin, "sct.py") != NULL, "  origin names the script");
		target_free(&t);
	}

	r = resolve(&t, NULL, 1, "./envs.py");
	is_int(r, 0, "env -S python3 -u -X dev");
	if (r == 0) {
		is_int(t.interp_opts.n, 3, "  -S splits options");
		is_str(t.interp_opts.v[0], "-u", "  -u first");
		target_free(&t);
	}

	r = resolve(&t, NULL, 1, "./direct.py");
	is_int(r, 0, "#!/usr/bin/python3 -W error");
	if (r == 0) {
		is_int(t.interp_opts.n, 1, "  the kernel passes one argument");
		is_str(t.interp_opts.v[0], "-W error", "  kept as one word");
		target_free(&t);
	}

	r = resolve(&t, NULL, 1, "./long.py");
	is_int(r, 0, "pip's #!/bin/sh long-shebang launcher");
	if (r == 0) {
		is_str(t.python, "/usr/bin/python3", "  interpreter from the exec line");
		target_free(&t);
	}

	snprintf(path, sizeof(path), "%s:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin");
	setenv("PATH", path, 1);
	r = resolve(&t, NULL, 2, "sct.py", "x");
	is_int(r, 0, "console script found on PATH");
	if (r == 0) {
		ok(t.target[0] == '/', "  script path made absolute");
		target_free(&t);
	}

	r = resolve(&t, NULL, 1, "./run.sh");
	is_int(r, -ENOEXEC, "shell script refused");
	ok(strstr(err_msg_for(r), "/bin/bash") != NULL, "  reason names the interpreter found");
	r = resolve(&t, NULL, 1, "./elf");
	is_int(r, -ENOEXEC, "ELF binary refused");
	ok(strstr(err_msg_for(r), "ELF") != NULL, "  reason says ELF");
	r = resolve(&t, NULL, 1, "./plain.txt");
	is_int(r, -ENOEXEC, "file without #! refused");
	r = resolve(&t, NULL, 1, "./missing.py");
	is_int(r, -ENOENT, "missing file");
	r = resolve(&t, NULL, 2, "python3", "missing.py");
	is_int(r, -ENOENT, "missing script");
	r = resolve(&t, NULL, 2, "/nonexistent/python3", "w.py");
	is_int(r, -ENOENT, "missing interpreter");
	r = resolve(&t, NULL, 2, "python3", "-u");
	is_int(r, -EINVAL, "python with nothing to run");
	r = resolve(&t, NULL, 2, "python3", "-");
	is_int(r, -EINVAL, "program on stdin refused");
	r = resolve(&t, NULL, 2, "python3", "--version");
	is_int(r, -EINVAL, "--version runs nothing");
	r = resolve(&t, NULL, 1, "no-such-command-here");
	is_int(r, -ENOENT, "unknown command");

	return tap_done();
}
