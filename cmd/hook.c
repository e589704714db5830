/* sctprof hook bash: shell code for bash's start-up, as `direnv hook bash` prints it.
 *
 * What it prints does three things: greets an interactive shell with one line saying
 * which profile kinds work here (lib/greeting.h: from a cached verdict, so that no Python
 * starts with the shell), completes sctprof's commands, options and kinds (generated
 * from the command table and the usage strings, lib/usage.h, so that it cannot drift),
 * and, when SCT_PROFILE names a kind, runs the command of a `bash -c` shell (hydra's
 * `bash -c "...; eval '<CMD>'"`) under `sctprof run --inject`.
 *
 * Starting sctprof itself costs more than a shell start may (its libraries take
 * milliseconds to load), so the image's loader, container/hook.bash, sources the code
 * from a file that `hook bash --write FILE` keeps, and runs sctprof only when that file
 * is missing or older than the binary; the code renews FILE in the background when it
 * is out of date. A shell must never hang on sctprof either: the output is built in
 * memory and written at once, the verdict is refreshed in a detached process, and an
 * alarm ends sctprof after HOOK_SECONDS; the loader evaluates nothing that does not end
 * with the end marker. */
#include "cmd.h"
#include "config.h"
#include "error.h"
#include "exitcode.h"
#include "fsutil.h"
#include "inject.h"
#include "log.h"
#include "kinds.h"
#include "usage.h"
#include "greeting.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define HOOK_END "# sctprof hook end\n"

static const char usage[] =
	"usage: sctprof hook bash [--write FILE]\n"
	"       sctprof hook refresh\n"
	"\n"
	"'hook bash' prints shell code that sets sctprof up in bash; evaluate it at start-up\n"
	"(in ~/.bashrc, or as the hydra image does, see container/README.md):\n"
	"\n"
	"    eval \"$(sctprof hook bash)\"\n"
	"\n"
	"An interactive shell is greeted with one line saying which profile kinds work here,\n"
	"from a verdict cached per interpreter (under $XDG_CACHE_HOME/sctprof or\n"
	"~/.cache/sctprof) and refreshed in the background once a day or when the interpreter,\n"
	"its tools or PATH change; sctprof's commands, options and kinds are completed.\n"
	"\n"
	"In a shell started as `bash -c COMMAND` (hydra runs its commands so), SCT_PROFILE\n"
	"runs COMMAND under 'sctprof run --inject', profiling every sct.py and pytest process\n"
	"it starts into one bundle:\n"
	"  SCT_PROFILE=KIND        cprofile, memory, timeline or sampling\n"
	"  SCT_PROFILE_MATCH=PATS  the programs to profile (default " INJECT_MATCH_DEFAULT ")\n"
	"  SCT_PROFILE_DIR=DIR     where bundles go (default ./sct-profiles)\n"
	"Shells and sctprof runs started under a profiled command (SCTPROF_ACTIVE is set) are\n"
	"not wrapped again.\n"
	"\n"
	"With --write FILE (an absolute path) the code is also stored in FILE, and what it\n"
	"stores writes FILE anew in the background when it is out of date: container/hook.bash\n"
	"sources that file, so that a shell starts without starting sctprof.\n"
	"\n"
	"'hook refresh' recomputes the cached verdict now, prints the greeting, and drops the\n"
	"cached code, so that the next shell greets with it.\n";

extern const struct cmd cmd_hook;

/* Bounds `hook bash`: a shell waits for it. SIGALRM's default action ends sctprof, the
 * loader sees no end marker and starts the shell without the hook. */
#define HOOK_SECONDS 2

static void sh_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* Words that go into completion lists between single quotes, unquoted in compgen -W. */
static bool plain_word(const char *w)
{
	if (!*w)
		return false;
	for (; *w; w++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+,:/=-", *w))
			return false;
	return true;
}

static void words(FILE *f, char *const *v, size_t n)
{
	bool first = true;

	for (size_t i = 0; i < n; i++)
		if (plain_word(v[i])) {
			fprintf(f, "%s%s", first ? "" : " ", v[i]);
			first = false;
		}
}

static void kinds_words(FILE *f)
{
	size_t n = 0;

	while (run_kinds[n])
		n++;
	words(f, (char *const *)run_kinds, n);
}

/* What to offer for an option's value, from its placeholder. */
static void value_action(FILE *f, const char *value)
{
	size_t len = strlen(value);

	if (strchr(value, '|')) {
		char *copy = strdup(value), *save = NULL;
		fputs("COMPREPLY=($(compgen -W '", f);
		for (char *c = copy ? strtok_r(copy, "|", &save) : NULL; c; c = strtok_r(NULL, "|", &save))
			if (plain_word(c))
				fprintf(f, "%s ", c);
		fputs("' -- \"$cur\"))", f);
		free(copy);
	} else if (!strcmp(value, "KIND")) {
		fputs("COMPREPLY=($(compgen -W '", f);
		kinds_words(f);
		fputs("' -- \"$cur\"))", f);
	} else if (len >= 3 && !strcmp(value + len - 3, "DIR")) {
		fputs("compopt -o dirnames 2>/dev/null; COMPREPLY=()", f);
	} else if ((len >= 4 && (!strcmp(value + len - 4, "FILE") || !strcmp(value + len - 4, "PATH"))) ||
		   !strcmp(value, "BASE") || !strcmp(value, "NEW")) {
		fputs("compopt -o default 2>/dev/null; COMPREPLY=()", f);
	} else {
		/* A value sctprof cannot list (a duration, a name): offer nothing rather than
		 * options. */
		fputs("COMPREPLY=()", f);
	}
}

static const char completion_head[] =
	"_sctprof_complete() {\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev= sub= i w opts= words=\n"
	"\t((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	"\t# --option=value reaches us split at '=' (COMP_WORDBREAKS).\n"
	"\tif [[ $cur == = ]]; then\n"
	"\t\tcur=\n"
	"\telif [[ $prev == = ]] && ((COMP_CWORD > 1)); then\n"
	"\t\tprev=${COMP_WORDS[COMP_CWORD-2]}\n"
	"\tfi\n"
	"\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	"\t\tw=${COMP_WORDS[i]}\n"
	"\t\tif [[ -z $sub ]]; then\n"
	"\t\t\t[[ $w == -* ]] || sub=$w\n"
	"\t\telif [[ $w == -- ]]; then\n"
	"\t\t\t# After \"--\": a command to run, then its own arguments.\n"
	"\t\t\tif ((i == COMP_CWORD - 1)) && [[ \" $_sctprof_runs \" == *\" $sub \"* ]]; then\n"
	"\t\t\t\tCOMPREPLY=($(compgen -c -- \"$cur\"))\n"
	"\t\t\telse\n"
	"\t\t\t\tcompopt -o default 2>/dev/null\n"
	"\t\t\t\tCOMPREPLY=()\n"
	"\t\t\tfi\n"
	"\t\t\treturn 0\n"
	"\t\tfi\n"
	"\tdone\n";

static const char completion_tail[] =
	"\tif [[ $cur == -* ]]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	"\telif [[ -n $words ]]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	"\telse\n"
	"\t\tcompopt -o default 2>/dev/null\n"
	"\t\tCOMPREPLY=()\n"
	"\tfi\n"
	"}\n"
	"complete -F _sctprof_complete sctprof\n";

static void opt_words(FILE *f, const struct usage_spec *s)
{
	bool first = true;

	for (size_t i = 0; i < s->n_opts; i++)
		if (plain_word(s->opts[i].name)) {
			fprintf(f, "%s%s", first ? "" : " ", s->opts[i].name);
			first = false;
		}
}

static void command_names(FILE *f)
{
	for (size_t i = 0; commands[i]; i++)
		if (!(commands[i]->flags & CMD_HIDDEN) && plain_word(commands[i]->name))
			fprintf(f, "%s ", commands[i]->name);
}

/* The completion function, from the command table and every usage text. */
static int emit_completion(FILE *f)
{
	struct usage_spec top = { 0 }, *specs;
	size_t n = 0;
	int r;

	while (commands[n])
		n++;
	specs = calloc(n + 1, sizeof(*specs));
	if (!specs)
		return -ENOMEM;
	r = usage_parse(main_usage_head, NULL, &top);
	for (size_t i = 0; i < n && r == 0; i++)
		r = usage_parse(commands[i]->usage, commands[i]->name, &specs[i]);
	if (r < 0)
		goto out;

	fputs("_sctprof_runs='", f);
	for (size_t i = 0; i < n; i++)
		if (specs[i].command && !(commands[i]->flags & CMD_HIDDEN))
			fprintf(f, "%s ", commands[i]->name);
	fputs("'\n", f);
	fputs(completion_head, f);
	fputs("\tcase \"$sub $prev\" in\n", f);
	for (size_t i = 0; i < n; i++) {
		if (commands[i]->flags & CMD_HIDDEN || !plain_word(commands[i]->name))
			continue;
		for (size_t j = 0; j < specs[i].n_opts; j++) {
			const struct usage_opt *o = &specs[i].opts[j];
			if (!o->value || !plain_word(o->name))
				continue;
			fprintf(f, "\t'%s %s') ", commands[i]->name, o->name);
			value_action(f, o->value);
			fputs("; return 0 ;;\n", f);
		}
	}
	fputs("\tesac\n\tcase $sub in\n\t'') opts='", f);
	opt_words(f, &top);
	fputs("'; words='", f);
	command_names(f);
	fputs("help' ;;\n", f);
	for (size_t i = 0; i < n; i++) {
		if (commands[i]->flags & CMD_HIDDEN || !plain_word(commands[i]->name))
			continue;
		fprintf(f, "\t%s) opts='", commands[i]->name);
		opt_words(f, &specs[i]);
		fputs("'; words='", f);
		words(f, specs[i].literals.v, specs[i].literals.n);
		fputs("' ;;\n", f);
	}
	fputs("\thelp) words='", f);
	command_names(f);
	fputs("' ;;\n\t*) return 0 ;;\n\tesac\n", f);
	fputs(completion_tail, f);
out:
	usage_spec_free(&top);
	for (size_t i = 0; i < n; i++)
		usage_spec_free(&specs[i]);
	free(specs);
	return r;
}

/* SCT_PROFILE: the command of a `bash -c` shell runs under `sctprof run --inject`; exec,
 * so that sctprof takes the shell's place (as PID 1 in a container it then stops the
 * run properly on `docker stop`). execfail keeps a failed exec from ending the shell. */
static void emit_wrapper(FILE *f, const char *self)
{
	fputs("if [[ -n ${SCT_PROFILE-} && -z ${SCTPROF_ACTIVE-} && -n ${BASH_EXECUTION_STRING-} ]]; then\n"
	      "\tcase $SCT_PROFILE in\n\t", f);
	for (size_t i = 0; inject_kinds[i]; i++)
		fprintf(f, "%s%s", i ? "|" : "", inject_kinds[i]);
	fputs(")\n\t\tif [[ -x ", f);
	sh_quote(f, self);
	fputs(" ]]; then\n"
	      "\t\t\tshopt -s execfail\n"
	      "\t\t\texec ", f);
	sh_quote(f, self);
	fputs(" run --inject --best-effort --profile=\"$SCT_PROFILE\" \\\n"
	      "\t\t\t\t${SCT_PROFILE_MATCH:+\"--inject-match=$SCT_PROFILE_MATCH\"} \\\n"
	      "\t\t\t\t${SCT_PROFILE_DIR:+\"--output-dir=$SCT_PROFILE_DIR\"} \\\n"
	      "\t\t\t\t-- \"${BASH:-/bin/bash}\" -c \"$BASH_EXECUTION_STRING\" \"$0\" \"$@\"\n"
	      "\t\t\tshopt -u execfail\n"
	      "\t\tfi\n"
	      "\t\tprintf '%s\\n' \"sctprof: cannot start sctprof; running unprofiled\" >&2 ;;\n"
	      "\t*)\n"
	      "\t\tprintf '%s\\n' \"sctprof: SCT_PROFILE='$SCT_PROFILE' is not one of ", f);
	for (size_t i = 0; inject_kinds[i]; i++)
		fprintf(f, "%s%s", i ? ", " : "", inject_kinds[i]);
	fputs("; running unprofiled\" >&2 ;;\n"
	      "\tesac\n"
	      "fi\n", f);
}

static const struct cmd *find_command(const char *name)
{
	for (size_t i = 0; commands[i]; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

/* `sctprof check --format json` run in this process, its output read back. */
static json_t *verdict_from_check(const struct cmd *check, const char *python)
{
	static char name[] = "check", format[] = "--format", json[] = "json", opt[] = "--python";
	char *args[] = { name, format, json, python ? opt : NULL, (char *)python, NULL };
	int fd = memfd_create("sctprof-check", MFD_CLOEXEC), saved;
	json_t *v = NULL;

	if (fd < 0)
		return NULL;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved >= 0 && dup2(fd, STDOUT_FILENO) >= 0) {
		(void)check->run(python ? 5 : 3, args);
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		if (lseek(fd, 0, SEEK_SET) == 0)
			v = json_loadfd(fd, 0, NULL);
	}
	if (saved >= 0)
		close(saved);
	close(fd);
	if (v && (!json_is_string(json_object_get(v, "format")) ||
		  strcmp(json_string_value(json_object_get(v, "format")), "sctprof-check/1") != 0)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

/* Where the code goes with --write (the loader's cache), for the detached refresh. */
static const char *write_path;
static char self_path[PATH_MAX];

static int generate(const json_t *v, const char *python, char **ret, size_t *ret_len);

/* The verdict: from `sctprof check`, else (check missing or failing) built in.
 * Runs in the detached refresh, which then also rewrites the loader's cached code so
 * that the next shell greets with the new verdict. */
static json_t *compute_verdict(const char *python)
{
	const struct cmd *check = find_command("check");
	json_t *v = check ? verdict_from_check(check, python) : NULL;
	char *code = NULL;
	size_t len;

	if (v && write_path && generate(v, python, &code, &len) == 0)
		(void)write_file_atomic(write_path, code, len);
	free(code);
	return v;
}

/* When the loader's cached code is out of date for this shell, a new one is written in
 * the background (two forks in the shell, only then): after a day, or when the facts the
 * verdict depends on changed (PATH, the virtualenv, the interpreter or its bin/). */
static void emit_staleness(FILE *f, const char *python)
{
	const char *venv = getenv("VIRTUAL_ENV"), *uv = getenv("UV_PROJECT_ENVIRONMENT");
	const char *path = getenv("PATH");
	char cwd[PATH_MAX], bin[PATH_MAX];

	fprintf(f, "if (( ${EPOCHSECONDS:-0} - %lld > %d )) || [[ ${PATH-} != ", (long long)time(NULL),
		GREETING_MAX_AGE);
	sh_quote(f, path ? path : "");
	fputs(" || ${VIRTUAL_ENV-} != ", f);
	sh_quote(f, venv ? venv : "");
	fputs(" || ${UV_PROJECT_ENVIRONMENT-} != ", f);
	sh_quote(f, uv ? uv : "");
	if (python) {
		snprintf(bin, sizeof(bin), "%s", python);
		if (strrchr(bin, '/'))
			*strrchr(bin, '/') = '\0';
		fputs(" || ", f);
		sh_quote(f, python);
		fputs(" -nt ", f);
		sh_quote(f, write_path);
		fputs(" || ", f);
		sh_quote(f, bin);
		fputs(" -nt ", f);
		sh_quote(f, write_path);
		/* An interpreter found in ./.venv belongs to this folder. */
		if (getcwd(cwd, sizeof(cwd)) && !strncmp(python, cwd, strlen(cwd)) && python[strlen(cwd)] == '/') {
			fputs(" || $PWD != ", f);
			sh_quote(f, cwd);
		}
	}
	fputs(" ]]; then\n\t( ", f);
	sh_quote(f, self_path);
	fputs(" hook bash --write ", f);
	sh_quote(f, write_path);
	fputs(" >/dev/null 2>&1 & )\nfi\n", f);
}

/* The whole code, built in memory. */
static int generate(const json_t *v, const char *python, char **ret, size_t *ret_len)
{
	const char *hint = find_command("check") ? "'sctprof check' says why" : NULL;
	char *buf = NULL, *greeting = greeting_line(v, hint);
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f || !greeting) {
		if (f)
			fclose(f);
		free(buf);
		free(greeting);
		return -ENOMEM;
	}
	fprintf(f, "# sctprof %s: bash hook, from 'sctprof hook bash'; use: eval \"$(sctprof hook bash)\"\n"
		"if [[ -z ${_sctprof_hooked-} ]]; then\n_sctprof_hooked=1\n", SCTPROF_VERSION);
	emit_wrapper(f, self_path);
	fputs("if [[ $- == *i* ]]; then\n", f);
	if (write_path)
		emit_staleness(f, python);
	fputs("if [[ -z ${SCTPROF_GREETED-} ]]; then\n"
	      "\texport SCTPROF_GREETED=1\n"
	      "\tprintf '%s\\n' ", f);
	sh_quote(f, greeting);
	/* Inside a profiled `hydra bash` (SCT_PROFILE set): say so. */
	fputs("${SCTPROF_INJECT:+\"; this shell is profiled ($SCTPROF_INJECT, bundle on exit)\"} >&2\n"
	      "fi\n", f);
	r = emit_completion(f);
	fputs("fi\nfi\n" HOOK_END, f);
	free(greeting);
	if (fclose(f) != 0 || r < 0) {
		free(buf);
		return r < 0 ? r : -ENOMEM;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int hook_bash(const char *write)
{
	char *python = greeting_python(), *cache = NULL, *code = NULL;
	json_t *v = NULL;
	bool stale = true;
	size_t len = 0;
	ssize_t n;
	int r;

	alarm(HOOK_SECONDS);
	write_path = write;
	n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (n <= 0) {
		r = log_fail(err_set(errno, "cannot find sctprof's own path: %s", strerror(errno)), EXIT_OSERR);
		goto out;
	}
	self_path[n] = '\0';
	if (greeting_cache_path(python, &cache) == 0 && greeting_load(cache, &v, &stale) < 0)
		v = NULL;
	err_clear();
	r = generate(v, python, &code, &len);
	if (r < 0) {
		r = log_fail(r, EXIT_SOFTWARE);
		goto out;
	}
	if (write) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", write);
		if (strrchr(dir, '/'))
			*strrchr(dir, '/') = '\0';
		r = mkdir_p(dir);
		if (r == 0)
			r = write_file_atomic(write, code, len);
		if (r < 0)
			log_warn("cannot cache the hook in '%s': %s", write, err_msg_for(r));
	}
	/* After the code is cached: the refresh rewrites it once it has a new verdict. */
	if (cache && (!v || stale))
		(void)greeting_refresh_detached(cache, python, compute_verdict);
	/* One write: the loader evaluates nothing unless it got everything. */
	fwrite(code, 1, len, stdout);
	r = 0;
out:
	alarm(0);
	free(code);
	free(cache);
	free(python);
	json_decref(v);
	return r;
}

/* Recomputes the verdict now; the loader's cached code goes, so that the next shell
 * greets with it. */
static int hook_refresh(void)
{
	char *python = greeting_python(), *cache = NULL, *line = NULL;
	json_t *v = compute_verdict(python);
	int r = greeting_cache_path(python, &cache);

	if (r == 0)
		r = greeting_store(cache, v);
	if (r < 0) {
		r = log_fail(r, EXIT_CANTCREAT);
	} else {
		*strrchr(cache, '/') = '\0';
		greeting_forget_hooks(cache);
		line = greeting_line(v, find_command("check") ? "'sctprof check' says why" : NULL);
		if (line)
			printf("%s\n", line);
	}
	free(line);
	free(cache);
	free(python);
	json_decref(v);
	return r;
}

static int hook_main(int argc, char **argv)
{
	const struct cmd *self = &cmd_hook;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return cmd_help(self);
	if (argc == 2 && !strcmp(argv[1], "bash"))
		return hook_bash(NULL);
	if (argc == 4 && !strcmp(argv[1], "bash") && !strcmp(argv[2], "--write") && argv[3][0] == '/')
		return hook_bash(argv[3]);
	if (argc == 2 && !strcmp(argv[1], "refresh"))
		return hook_refresh();
	if (argc >= 2 && strcmp(argv[1], "bash") && strcmp(argv[1], "refresh"))
		return cmd_usage_error(self, "unknown shell or action '%s' (bash, refresh)", argv[1]);
	return cmd_usage_error(self, "expected 'hook bash [--write /ABSOLUTE/FILE]' or 'hook refresh'");
}

const struct cmd cmd_hook = {
	.name = "hook",
	.summary = "print bash start-up code: greeting, completion, SCT_PROFILE wrapper",
	.usage = usage,
	.run = hook_main,
};
