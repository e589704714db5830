/* libFuzzer target for the usage-text reader of completion (lib/usage.h): the texts are
 * sctprof's own, but every command added later brings a new one. No crash, no leak, no
 * sanitizer report; every option found has a name that starts with '-'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "usage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct usage_spec s;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (usage_parse(text, size % 2 ? "run" : NULL, &s) == 0) {
		for (size_t i = 0; i < s.n_opts; i++)
			if (s.opts[i].name[0] != '-')
				abort();
		usage_spec_free(&s);
	}
	free(text);
	return 0;
}
