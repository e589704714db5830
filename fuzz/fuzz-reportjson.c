/* libFuzzer target: the readers of memray stats JSON, scalene JSON and importtime logs,
 * and the report rendered from whatever they accept. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render(const char *name, const uint8_t *data, size_t size)
{
	struct input_file file = { .name = (char *)name, .len = size };
	struct input in = { .path = (char *)name, .kind = INPUT_FILE, .files = &file, .n = 1 };
	struct report_opts o = { .top = 5, .format = FMT_TEXT };
	struct run_data *d = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	file.data = malloc(size + 1);
	if (!file.data)
		return;
	memcpy(file.data, data, size);
	file.data[size] = '\0';
	if (run_data_parse(&in, &d) == 0) {
		f = open_memstream(&buf, &len);
		if (f) {
			for (int fmt = FMT_TEXT; fmt <= FMT_JSON; fmt++) {
				o.format = (enum report_format)fmt;
				report_write(f, d, &o);
			}
			fclose(f);
		}
		free(buf);
		run_data_free(d);
	}
	free(file.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	render("memray-stats.json", data, size);
	render("scalene.json", data, size);
	render("importtime.log", data, size);
	render("input", data, size);     /* classified by content */
	return 0;
}
