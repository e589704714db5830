/* A streaming pass over a Chrome Trace Event file as viztracer writes it (plain JSON or
 * gzip): how many events, processes and threads, whether viztracer_metadata.overflow
 * says the circular buffer dropped the oldest entries, and the functions with the most
 * time in complete ("X") events. Memory grows with the number of distinct function
 * names, not with the file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct trace_fn {
	char *name;
	double total_us;     /* sum of "dur" (inclusive; a recursive call counts again) */
	double max_us;
	size_t calls;
};

struct trace_stats {
	size_t events, complete_events;
	size_t threads, processes;
	bool overflow;           /* viztracer_metadata.overflow */
	bool has_metadata;
	char version[32];        /* viztracer_metadata.version */
	bool have_ts;
	double first_ts, last_end;   /* microseconds */
	struct trace_fn *fns;
	size_t n_fns, cap_fns;
	/* internal: hash of names -> index in fns, and of (pid, tid) pairs */
	size_t *slots;
	size_t n_slots;
	unsigned long long *tids;
	size_t n_tids, cap_tids;
	unsigned long long *pids;
	size_t n_pids, cap_pids;
};

/* Returns 0, or a negative errno with err_set() naming the file and byte offset. */
int trace_scan(const char *path, struct trace_stats *ret);
int trace_scan_mem(const void *buf, size_t len, const char *name, struct trace_stats *ret);
void trace_stats_free(struct trace_stats *s);

/* summary.txt for a timeline run; NULL when out of memory. */
char *trace_summary(const struct trace_stats *s, const char *file, size_t limit);
