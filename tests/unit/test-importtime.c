/* `python -X importtime` lines -> entries, importtime.json, summary table
 * (plugins/importtime/importtime_log.c). */
#include "tap.h"

#include <jansson.h>

#include "importtime_log.h"

static const char log_text[] =
	"import time: self [us] | cumulative | imported package\n"
	"import time:       595 |        595 |   _io\n"
	"import time:      7167 |       8651 | _frozen_importlib_external\n"
	"a line the program wrote\n"
	"import time:        55 |         55 |     _codecs\r\n"
	"import time:      1065 |       1119 |   codecs\n"
	"import time:       991 |       2927 | encodings\n"
	"import time: x | 1 | bad\n"
	"import time:         1 |          2 |    odd_indent\n"
	"import time:         3 |          4 | \n"
	"import time:        10 |         20 | last_without_newline";

int main(void)
{
	struct import_log l;
	char *json, *sum;
	json_t *root, *imports, *e;
	json_error_t jerr;

	is_int(import_log_parse(log_text, sizeof(log_text) - 1, &l), 0, "the log parses");
	is_int(l.n, 6, "six import records");
	is_int(l.skipped, 4, "four stray lines, the header not counted");
	is_str(l.v[0].module, "_io", "first module");
	is_int(l.v[0].depth, 1, "two spaces: depth 1");
	is_int(l.v[1].depth, 0, "no indentation: depth 0");
	is_int(l.v[1].self_us, 7167, "self time");
	is_int(l.v[1].cumulative_us, 8651, "cumulative time");
	is_str(l.v[2].module, "_codecs", "a CRLF line ends before the CR");
	is_int(l.v[2].depth, 2, "four spaces: depth 2");
	is_str(l.v[5].module, "last_without_newline", "the last line needs no newline");

	json = import_log_json(&l);
	ok(json != NULL, "importtime.json is produced");
	root = json ? json_loads(json, 0, &jerr) : NULL;
	ok(root != NULL, "it is valid JSON");
	imports = json_object_get(root, "imports");
	is_int(json_array_size(imports), 6, "with six imports, in log order");
	e = json_array_get(imports, 1);
	is_str(json_string_value(json_object_get(e, "module")), "_frozen_importlib_external",
	       "module name");
	is_int(json_integer_value(json_object_get(e, "cumulative_us")), 8651, "cumulative_us");
	is_int(json_integer_value(json_object_get(root, "top_level_us")), 8651 + 2927 + 20,
	       "top_level_us sums depth-0 imports");
	json_decref(root);
	free(json);

	sum = import_log_summary(&l, 3);
	ok(sum != NULL, "the summary is produced");
	ok(sum && strstr(sum, "cumulative [us]    self [us]  module"), "it has the column header");
	{
		const char *a = sum ? strstr(sum, "_frozen_importlib_external") : NULL;
		const char *b = sum ? strstr(sum, " encodings ") : NULL;
		const char *c = sum ? strstr(sum, " codecs ") : NULL;

		ok(a && b && c && a < b && b < c, "rows are sorted by cumulative time, heaviest first");
	}
	ok(sum && !strstr(sum, "_io "), "the limit cuts the table");
	free(sum);
	import_log_free(&l);

	is_int(import_log_parse("", 0, &l), 0, "an empty log parses");
	is_int(l.n, 0, "with no records");
	sum = import_log_summary(&l, 10);
	ok(sum && strstr(sum, "no imports were recorded"), "and the summary says so");
	free(sum);
	import_log_free(&l);

	{
		static const char weird[] = "import time: 1 | 2 | caf\xc3\xa9\xff\n"
					    "import time: 99999999999999999999999 | 1 | big\n";

		is_int(import_log_parse(weird, sizeof(weird) - 1, &l), 0, "odd bytes parse");
		is_int(l.n, 1, "an overflowing number is a stray line");
		is_str(l.v[0].module, "caf\xc3\xa9?", "invalid UTF-8 is replaced, valid kept");
		json = import_log_json(&l);
		ok(json != NULL, "and the JSON can hold it");
		free(json);
		import_log_free(&l);
	}
	return tap_done();
}
