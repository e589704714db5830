/* libFuzzer target for the records the --inject start-up hook leaves in a run folder
 * (.proc-PID, lib/inject.h): any process under the command can write one. No crash, no
 * leak, no sanitizer report; the result is always a JSON object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	double started;
	json_t *o;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	o = inject_parse_record("/nonexistent", text, size, &started);
	if (o && !json_is_object(o))
		abort();
	json_decref(o);
	free(text);
	return 0;
}
