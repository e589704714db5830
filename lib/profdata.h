/* The non-cProfile outputs a report reads: memray's `stats --json` file, scalene's JSON
 * profile and `python -X importtime` stderr. Each reader takes the bytes (already in
 * memory, see input.h), keeps the numbers a report shows, and rejects what it cannot
 * read with a one-line reason (-EBADMSG). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct memray_row {
	char *location;             /* "function:file:line" as memray writes it */
	int64_t value;              /* bytes, or a count */
};

struct memray_stats {
	int64_t peak_memory;        /* metadata.peak_memory, bytes; -1 when absent */
	int64_t total_allocations;  /* -1 when absent */
	int64_t total_bytes;        /* -1 when absent */
	struct memray_row *by_size;
	size_t n_by_size;
	struct memray_row *by_count;
	size_t n_by_count;
};

struct scalene_row {
	char *location;             /* "file:line function" (or the line's text) */
	double cpu_python, cpu_c, cpu_sys;   /* percent of the run's CPU time */
	double peak_mb, malloc_mb;
};

struct scalene_profile {
	double elapsed;             /* seconds; -1 when absent */
	double max_footprint_mb;    /* -1 when absent */
	char *max_footprint_at;     /* "file:line", or NULL */
	struct scalene_row *rows;   /* functions (lines when a file lists none) */
	size_t n;
};

struct import_row {
	char *module;
	int64_t self_us, cum_us;
	int depth;                  /* nesting: 0 for an import the program itself made */
};

struct importtime {
	struct import_row *rows;    /* in the order Python printed them */
	size_t n;
	int64_t total_us;           /* sum of self times */
};

/* Whether a JSON text looks like each kind (by its keys), for files with other names. */
int memray_parse(const char *buf, size_t len, const char *what, struct memray_stats **ret);
void memray_free(struct memray_stats *m);
int scalene_parse(const char *buf, size_t len, const char *what, struct scalene_profile **ret);
void scalene_free(struct scalene_profile *s);
int importtime_parse(const char *buf, size_t len, const char *what, struct importtime **ret);
void importtime_free(struct importtime *t);

/* Guesses a JSON profile's kind: "memray", "scalene", or NULL. */
const char *profdata_json_kind(const char *buf, size_t len);
