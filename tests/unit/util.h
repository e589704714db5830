/* Input files for the unit tests that work in a scratch folder of their own (made with
 * mkdtemp()). */
#pragma once

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Writes len bytes of data to dir/name; with mode >= 0, then gives it that mode. */
static inline void put_bytes(const char *dir, const char *name, const char *data, size_t len,
			     int mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fwrite(data, 1, len, f);
	fclose(f);
	if (mode >= 0)
		chmod(path, (mode_t)mode);
}

static inline void put_text(const char *dir, const char *name, const char *text, int mode)
{
	put_bytes(dir, name, text, strlen(text), mode);
}
