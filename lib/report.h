/* What `sctprof report` shows: the profiles found in an input (input.h), parsed, and
 * rendered as text, Markdown, JSON or SVG. Parsing happens here, after the input is in
 * memory, so that cmd/report.c can enter the sandbox in between. */
#pragma once

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>

#include "input.h"
#include "profdata.h"
#include "pstats.h"

enum report_format { FMT_TEXT, FMT_MARKDOWN, FMT_JSON, FMT_SVG, FMT_JUNIT };

enum profile_type { PROF_CPROFILE, PROF_MEMRAY, PROF_SCALENE, PROF_IMPORTTIME };

struct profile {
	enum profile_type type;
	const char *name;           /* the input file's name (owned by the input) */
	struct pstats *ps;
	struct memray_stats *memray;
	struct scalene_profile *scalene;
	struct importtime *imports;
};

struct run_data {
	const struct input *in;
	json_t *manifest;           /* NULL when there is none */
	struct profile *profiles;
	size_t n;
};

struct report_opts {
	size_t top;                 /* 0: all */
	enum pstats_sort sort;
	const regex_t *filter;      /* NULL: none */
	enum report_format format;
};

int report_format_parse(const char *s, bool junit_ok, enum report_format *ret);

/* Parses every file of in; an unreadable profile is an error naming it. */
int run_data_parse(const struct input *in, struct run_data **ret);
/* The same, with pstats_parse_flags()' flags for cProfile data. */
int run_data_parse_flags(const struct input *in, unsigned pstats_flags, struct run_data **ret);
void run_data_free(struct run_data *d);

int report_write(FILE *f, const struct run_data *d, const struct report_opts *o);

/* "1.5 MiB"-style sizes, for text. */
void fmt_bytes(char *buf, size_t size, double bytes);
/* Markdown table cells: '|' escaped, newlines flattened, code-quoted. */
void md_code(FILE *f, const char *s);
