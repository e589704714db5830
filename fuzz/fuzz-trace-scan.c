/* libFuzzer target: viztracer trace (Chrome Trace Event JSON) -> summary (plugins/viztracer). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "trace_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_stats st;

	if (trace_scan_mem(data, size, "fuzz", &st) == 0) {
		free(trace_summary(&st, "trace.json", 40));
		trace_stats_free(&st);
	}
	return 0;
}
