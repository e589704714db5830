/* Parallel zstd frames: what is written decompresses (libarchive, one stream of frames)
 * to exactly the input, for 1 to 4 threads and odd write sizes; a write error (/dev/full
 * is a disk that is always full) is reported, not lost. */
#include "tap.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "error.h"
#include "zframes.h"

static char path[] = "/tmp/sctprof-test-zframes-XXXXXX";

/* The whole file, decompressed by libarchive's raw reader. */
static unsigned char *inflate_file(size_t *len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	unsigned char *out = NULL;
	size_t cap = 0;

	*len = 0;
	archive_read_support_filter_zstd(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	for (;;) {
		la_ssize_t n;
		if (cap - *len < (1 << 16)) {
			cap = cap ? cap * 2 : 1 << 20;
			out = realloc(out, cap);
		}
		n = archive_read_data(a, out + *len, cap - *len);
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	archive_read_free(a);
	return out;
}

int main(void)
{
	const size_t size = (9u << 20) + 12345;   /* pieces of 1 MiB and a partial one */
	unsigned char *data = malloc(size);
	uint32_t x = 7;
	int fd;

	fd = mkstemp(path);
	if (fd < 0 || !data)
		return 1;
	close(fd);
	for (size_t i = 0; i < size; i++) {
		x = x * 1664525u + 1013904223u;
		data[i] = i % 3 ? (unsigned char)"sctprof frames\n"[i % 15] : (unsigned char)(x >> 24);
	}

	for (int threads = 1; threads <= 4; threads *= 2) {
		struct zframes *z = NULL;
		unsigned char *back;
		size_t len, off = 0, step = 1;
		char what[100];
		int r;

		fd = open(path, O_WRONLY | O_TRUNC);
		r = zframes_open(fd, threads, 1u << 20, 3, &z);
		snprintf(what, sizeof(what), "%d thread(s): opened", threads);
		is_int(r, 0, what);
		if (r < 0)
			continue;
		/* Writes of growing, odd sizes: pieces are filled across calls. */
		while (off < size && r == 0) {
			size_t n = step < size - off ? step : size - off;
			r = zframes_write(z, data + off, n);
			off += n;
			step = step * 3 + 7;
		}
		is_int(r, 0, "  written");
		is_int(zframes_close(z), 0, "  closed");
		zframes_free(z);
		close(fd);
		back = inflate_file(&len);
		is_int(len, size, "  decompresses to the input's length");
		ok(back && len == size && memcmp(back, data, size) == 0, "  and to its bytes");
		free(back);
	}

	fd = open("/dev/full", O_WRONLY);
	if (fd >= 0) {
		struct zframes *z = NULL;
		int r = zframes_open(fd, 2, 1u << 20, 3, &z);

		err_clear();
		for (size_t off = 0; r == 0 && off < size; off += 1u << 20)
			r = zframes_write(z, data + off, size - off < (1u << 20) ? size - off : 1u << 20);
		if (r == 0)
			r = zframes_close(z);
		is_int(r, -ENOSPC, "a full disk is an error");
		ok(strstr(err_msg_for(r), "No space left") != NULL, "  saying so");
		ok(zframes_write(z, data, 10) == r, "  and stays one");
		zframes_free(z);
		close(fd);
	} else {
		tap_skip("a full disk is an error", "no /dev/full");
	}
	ok(zframes_open(1, 0, 1u << 20, 3, &(struct zframes *){ NULL }) == -EINVAL,
	   "no threads refused");
	zframes_free(NULL);
	unlink(path);
	free(data);
	return tap_done();
}
