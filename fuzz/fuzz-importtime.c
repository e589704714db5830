/* libFuzzer target: `python -X importtime` log -> entries, JSON, summary (plugins/importtime). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "importtime_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_log l;

	if (import_log_parse((const char *)data, size, &l) == 0) {
		free(import_log_json(&l));
		free(import_log_summary(&l, 50));
		import_log_free(&l);
	}
	return 0;
}
