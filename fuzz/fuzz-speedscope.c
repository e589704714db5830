/* libFuzzer target: speedscope JSON -> call tree -> SVG and table (plugins/pyspy). */
#include <stddef.h>
#include <stdint.h>

#include "calltree.h"
#include "speedscope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flame f;

	flame_init(&f);
	if (speedscope_load_mem(data, size, "fuzz", &f, NULL) == 0) {
		struct sbuf svg = { 0 }, top = { 0 };

		flame_svg(&f, "fuzz", "s", &svg);
		flame_top(&f, 20, "s", &top);
		sbuf_free(&svg);
		sbuf_free(&top);
	}
	flame_free(&f);
	return 0;
}
