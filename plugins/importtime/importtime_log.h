/* Parser of `python -X importtime` output (CPython Python/import.c):
 *
 *   import time: self [us] | cumulative | imported package
 *   import time:       595 |        595 |   _io
 *   import time:      7167 |       8651 | _frozen_importlib_external
 *
 * Two spaces of indentation before the name per nesting level. Lines that are not of
 * this shape (the header, another program's output) are counted and skipped. */
#pragma once

#include <stddef.h>

struct import_entry {
	char *module;
	long long self_us;
	long long cumulative_us;
	int depth;              /* 0 for an import made by the program itself */
};

struct import_log {
	struct import_entry *v;
	size_t n, cap;
	size_t skipped;         /* lines that were not import-time records */
};

/* Parses text (not NUL-terminated; any bytes). Returns 0 or -ENOMEM. */
int import_log_parse(const char *text, size_t len, struct import_log *ret);
void import_log_free(struct import_log *l);

/* importtime.json: {"source", "count", "skipped_lines", "top_level_us", "imports": [...]}
 * in the log's order. Returns a malloc'd string or NULL. */
char *import_log_json(const struct import_log *l);

/* The summary table: every import sorted by cumulative time, heaviest first (at most
 * limit rows), with cumulative µs, self µs, module and depth. malloc'd, or NULL. */
char *import_log_summary(const struct import_log *l, size_t limit);
