/* `sctprof diff`: two runs' profiles compared function by function, and whether a
 * change beyond the threshold made it worse.
 *
 * Functions are matched by file:line(function) after the file is normalised, so that
 * two checkouts in different folders compare:
 *   - built-ins ("~") and names that are not absolute paths ("<frozen ...>") stay;
 *   - a path with site-packages/ or dist-packages/ keeps what follows the last one;
 *   - a path with lib/pythonX.Y/ (the standard library) keeps what follows it;
 *   - any other absolute path loses its checkout root: the longest folder shared by
 *     all such paths of its profile, less the trailing folders that the two sides'
 *     roots have in common (a run that only touched sdcm/ still shows sdcm/).
 * Functions still unmatched are paired when the same function name and line sit in
 * files with the same name whose paths end alike (the longest common ending wins), and
 * then when one function name in one file appears once on each side (its line moved). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "report.h"

enum diff_metric { METRIC_CUMTIME, METRIC_TOTTIME, METRIC_CALLS, METRIC_PEAK_MEMORY };

struct diff_opts {
	enum diff_metric metric;
	double threshold;           /* fraction: 0.10 for 10% */
	double min_time;            /* seconds; a smaller change is never a regression */
	double min_bytes;           /* for peak-memory */
	size_t top;                 /* rows shown (0: all); regressions are always shown */
	enum report_format format;  /* text, markdown, json, junit */
};

struct diff_row {
	char *key;                  /* normalised "file:line(function)" or a location (owned
	                             * by the result) */
	double base, new;
	bool in_base, in_new;
	bool regression;
};

struct diff_result {
	const char *base_name, *new_name;
	enum diff_metric metric;
	struct diff_row total;      /* the run as a whole (key "total") */
	struct diff_row *rows;      /* the rows diff_write() shows (diff_opts' top, and
	                             * every regression): regressions first, then by
	                             * absolute change, largest first */
	size_t n;                   /* every row compared, shown or not */
	size_t n_regressions;       /* rows and total */
	struct diff_strings *strings;   /* the rows' keys */
};

int diff_metric_parse(const char *s, enum diff_metric *ret);
const char *diff_metric_name(enum diff_metric m);
/* "10%", "10" (percent) or "0.1" is not accepted: a bare number is percent. */
int diff_threshold_parse(const char *s, double *ret);
/* "5ms", "0.5s", "250us", "2" (seconds). */
int diff_time_parse(const char *s, double *ret);
/* "1M", "512K", "2G", "100" (bytes; powers of 1024). */
int diff_bytes_parse(const char *s, double *ret);

/* Picks the metric's data from each side: the first cProfile profile for time and
 * calls, the first memray or scalene profile for peak-memory. -ENODATA (with a reason)
 * when a side has none. */
int diff_runs(const struct run_data *base, const struct run_data *new,
	      const struct diff_opts *o, struct diff_result **ret);
void diff_result_free(struct diff_result *r);

int diff_write(FILE *f, const struct diff_result *r, const struct diff_opts *o);

/* The normalised name of a file (see above), in buf; root is the profile's checkout
 * root (may be empty). Exposed for the unit tests. */
void diff_normalise(const char *file, const char *root, char *buf, size_t size);
