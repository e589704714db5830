/* Progress lines, read back through a pipe: the plain line of a phase, the live line
 * drawn with "\r" and cleared at the end, nothing when off, and a log line between. */
#include "tap.h"

#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "progress.h"

static int fds[2];

/* Everything written to the pipe so far. */
static char *drain(void)
{
	static char buf[65536];
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* "\r", blanks, "\r": what clears a live line. */
static bool clearing(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || s[0] != '\r' || s[n - 1] != '\r')
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (s[i] != ' ')
			return false;
	return true;
}

int main(void)
{
	struct progress *p;
	enum progress_mode m;
	char b[32], *s;

	if (pipe2(fds, O_NONBLOCK) != 0)
		return 1;

	progress_format_bytes(b, sizeof(b), 17);
	is_str(b, "17 B", "bytes");
	progress_format_bytes(b, sizeof(b), 1536);
	is_str(b, "1.5 KiB", "KiB");
	progress_format_bytes(b, sizeof(b), 1073741824ull);
	is_str(b, "1.0 GiB", "GiB");
	ok(progress_mode_parse("never", &m) == 0 && m == PROGRESS_NEVER, "mode parsed");
	ok(progress_mode_parse("sometimes", &m) < 0, "unknown mode refused");

	ok(progress_begin("bundling", 100, NULL) == NULL, "nothing before progress_setup()");

	progress_setup(fds[1], PROGRESS_OFF);
	ok(progress_begin("bundling", 100, NULL) == NULL, "nothing when off");

	progress_setup(fds[1], PROGRESS_NEVER);
	p = progress_begin("bundling", 3 << 20, "out/run.tar.zst");
	ok(p != NULL, "plain mode");
	progress_update(p, 1 << 20);
	progress_end(p);
	is_str(drain(), "sctprof: bundling 3.0 MiB into out/run.tar.zst\n",
	       "  one plain line for a short phase, nothing at its end");
	p = progress_begin("post-processing", 0, NULL);
	progress_end(p);
	is_str(drain(), "sctprof: post-processing\n", "  a phase without a size");

	progress_setup(fds[1], PROGRESS_AUTO);
	p = progress_begin("uploading", 10, NULL);
	progress_end(p);
	is_str(drain(), "sctprof: uploading 10 B\n", "auto through a pipe: plain");

	progress_setup(fds[1], PROGRESS_ALWAYS);
	p = progress_begin("bundling", 2048, NULL);
	ok(progress_begin("nested", 1, NULL) == NULL, "one phase on screen at a time");
	s = drain();
	is_str(s, "\rsctprof: bundling 0 B of 2.0 KiB", "live line drawn at once, with \\r");
	progress_hold();
	progress_release();
	s = drain();
	ok(clearing(s), "  hold clears it with blanks");
	progress_update(p, 2048);
	progress_end(p);
	s = drain();
	is_str(s, "", "  nothing to clear once cleared");
	p = progress_begin("bundling", 2048, NULL);
	drain();
	progress_end(p);
	s = drain();
	ok(clearing(s), "  cleared at the end");
	progress_update(NULL, 1);
	progress_end(NULL);
	ok(1, "NULL accepted everywhere");
	return tap_done();
}
