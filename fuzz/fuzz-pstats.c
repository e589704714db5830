/* libFuzzer target: the marshal/pstats reader, then everything drawn from its result
 * (sorting, the text table, the icicle SVG). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "flame.h"
#include "pstats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pstats *ps = NULL;
	size_t *order = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (pstats_parse(data, size, "fuzz", &ps) < 0)
		return 0;
	f = open_memstream(&buf, &len);
	if (f) {
		if (pstats_order(ps, PSTATS_SORT_TOTTIME, &order) == 0)
			pstats_print_text(f, ps, order, ps->n_real, "tottime");
		flame_write_svg(f, ps, NULL);
		fclose(f);
	}
	free(order);
	free(buf);
	pstats_free(ps);
	return 0;
}
