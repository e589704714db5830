/* pstats files (what cProfile's dump_stats() writes) read without Python.
 *
 * The file is a marshalled dict {(file, line, funcname): (cc, nc, tt, ct, callers)}
 * with callers {caller_key: (nc, cc, tt, ct)} (an int instead of the tuple from the
 * pure-Python profile module). Functions keep the dict's order, which is what
 * pstats.Stats iterates, so totals summed here equal its totals bit for bit, and a
 * stable sort gives its order for equal keys. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pstats_func {
	const char *file;           /* "~" for built-ins */
	const char *name;
	int64_t line;
	int64_t cc, nc;             /* primitive calls, total calls */
	double tt, ct;              /* tottime, cumtime (seconds) */
	size_t first_caller;        /* into pstats.callers */
	size_t n_callers;
	bool phantom;               /* named only as a caller, not a key of the dict */
};

struct pstats_edge {
	size_t caller;              /* index into pstats.funcs */
	size_t callee;
	int64_t nc, cc;
	double tt, ct;              /* time in callee when called from caller */
};

struct pstats {
	struct pstats_func *funcs;  /* the dict's entries in order, then phantoms */
	size_t n_funcs;             /* all of them */
	size_t n_real;              /* the dict's entries */
	struct pstats_edge *callers;/* grouped by callee, in the order of funcs */
	size_t n_callers;
	int64_t total_calls;        /* sum of nc, as pstats */
	int64_t prim_calls;         /* sum of cc */
	double total_tt;            /* sum of tt: pstats's "in N seconds" */
	struct pstats_pool *pool;
};

enum pstats_sort {
	PSTATS_SORT_CUMULATIVE,     /* ct descending */
	PSTATS_SORT_TOTTIME,        /* tt descending */
	PSTATS_SORT_CALLS,          /* nc descending */
};

/* Decodes a pstats file held in buf; what names it in errors. Returns -EBADMSG (with
 * the offset in the reason) for corrupt data. */
int pstats_parse(const void *buf, size_t len, const char *what, struct pstats **ret);

/* PSTATS_NO_CALLERS: the call graph is not wanted (a report table, a diff): callers is
 * left empty, every n_callers 0, and the functions named only as callers (phantoms)
 * are left out. The dict is read and checked all the same. */
enum { PSTATS_NO_CALLERS = 1 };
int pstats_parse_flags(const void *buf, size_t len, const char *what, unsigned flags,
		       struct pstats **ret);
/* Reads path whole, then pstats_parse(). -ENOENT when it does not exist. */
int pstats_load(const char *path, struct pstats **ret);
void pstats_free(struct pstats *ps);

/* pstats.func_std_string(): "file:line(name)", or "{built-in method ...}". */
int pstats_label(const struct pstats_func *f, char *buf, size_t size);

int pstats_sort_parse(const char *name, enum pstats_sort *ret);
/* Indices of the real functions (not phantoms), sorted as pstats.sort_stats() does:
 * descending by key, equal keys in file order. Caller frees *ret_order. */
int pstats_order(const struct pstats *ps, enum pstats_sort key, size_t **ret_order);
/* The first k of pstats_order() among the indices idx[0..n) (ascending), in that order,
 * in idx[0..k); the rest of idx is left in no particular order. A partial selection:
 * when only the top rows are shown, the rest need not be sorted. */
int pstats_top(const struct pstats *ps, enum pstats_sort key, size_t *idx, size_t n, size_t k);

/* Reads a whole file into memory (NUL-terminated for convenience); the caller frees
 * *ret_buf with bigmem_free(). */
int read_whole_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* pstats's own text table: header with the totals, then the top rows. */
int pstats_print_text(FILE *f, const struct pstats *ps, const size_t *order, size_t n,
		      const char *ordered_by);

/* For the cProfile backend's post step: summary.txt with the top N functions by
 * cumulative time (file:line(function), calls, tottime, cumtime) and the totals. */
int pstats_write_summary(const char *stats_path, const char *summary_txt_path, int top);
/* For the cProfile backend's post step: the icicle picture (flame.h) as an SVG file. */
int pstats_write_svg(const char *stats_path, const char *svg_path);
