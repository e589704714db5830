/* Stand-in for `py-spy record --pid PID --format speedscope --output FILE` (py-spy 0.4.2,
 * src/config.rs and src/main.rs): sampling runs until the process is gone or SIGINT comes
 * (the one signal py-spy handles, through the ctrlc crate), then the file is written
 * once. It samples nothing: FILE gets a JSON record of the command line and of how
 * sampling ended. Written in C, not Python, so that SIGINT shows as handled (SigCgt in
 * /proc/PID/status) only once this program handles it, as with the real py-spy; an
 * interpreter would catch SIGINT from its own start-up on. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_sigint(int sig)
{
	(void)sig;
	stop = 1;
}

/* Alive and not a zombie waiting to be reaped. */
static int alive(long pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_sigint };
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	const char *out = NULL;
	long pid = 0;
	FILE *f;

	sigaction(SIGINT, &sa, NULL);
	if (argc < 2 || strcmp(argv[1], "record") != 0) {
		fprintf(stderr, "py-spy (stand-in): only 'record' is reproduced\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--pid") || !strcmp(argv[i], "-p"))
			pid = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--output") || !strcmp(argv[i], "-o"))
			out = argv[++i];
	}
	if (pid <= 0 || !out) {
		fprintf(stderr, "py-spy (stand-in): needs --pid and --output\n");
		return 2;
	}
	while (!stop && alive(pid))
		nanosleep(&tick, NULL);
	f = fopen(out, "w");
	if (!f)
		return 1;
	fputs("{\"fake\": \"py-spy\", \"pid\": ", f);
	fprintf(f, "%ld, \"interrupted\": %s, \"argv\": [", pid, stop ? "true" : "false");
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			fputs(", ", f);
		json_string(f, argv[i]);
	}
	fputs("]}\n", f);
	return fclose(f) == 0 ? 0 : 1;
}
