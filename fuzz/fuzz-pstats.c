/* libFuzzer target: the marshal/pstats reader, then everything drawn from its result
 * (sorting, the text table, the icicle SVG). Whatever the direct decoder accepts, the
 * generic reader must accept too and read into the same table: the direct decoder is
 * only a faster way to the same result. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flame.h"
#include "pstats.h"
#include "pstats_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SAME(x) (memcmp(&a->x, &b->x, sizeof(a->x)) == 0)

static void same_table(const struct pstats *a, const struct pstats *b)
{
	if (!SAME(n_funcs) || !SAME(n_real) || !SAME(n_callers) || !SAME(total_calls) ||
	    !SAME(prim_calls) || !SAME(total_tt))
		abort();
	for (size_t i = 0; i < a->n_funcs; i++) {
		const struct pstats_func *x = &a->funcs[i], *y = &b->funcs[i];
		if (strcmp(x->file, y->file) || strcmp(x->name, y->name) || x->line != y->line ||
		    x->cc != y->cc || x->nc != y->nc || memcmp(&x->tt, &y->tt, sizeof(x->tt)) ||
		    memcmp(&x->ct, &y->ct, sizeof(x->ct)) || x->first_caller != y->first_caller ||
		    x->n_callers != y->n_callers || x->phantom != y->phantom)
			abort();
	}
	for (size_t i = 0; i < a->n_callers; i++) {
		const struct pstats_edge *x = &a->callers[i], *y = &b->callers[i];
		if (x->caller != y->caller || x->callee != y->callee || x->nc != y->nc ||
		    x->cc != y->cc || memcmp(&x->tt, &y->tt, sizeof(x->tt)) ||
		    memcmp(&x->ct, &y->ct, sizeof(x->ct)))
			abort();
	}
}

static void compare_readers(const uint8_t *data, size_t size, unsigned flags)
{
	struct pstats *a = NULL, *b = NULL;

	if (pstats_parse_direct(data, size, flags, &a) != 0)
		return;
	if (pstats_parse_generic(data, size, "fuzz", flags, &b) != 0)
		abort();
	same_table(a, b);
	pstats_free(a);
	pstats_free(b);
}

/* The top rows as report picks them are the first rows of the full sort. */
static void same_top(const struct pstats *ps)
{
	static const enum pstats_sort keys[] = { PSTATS_SORT_CUMULATIVE, PSTATS_SORT_TOTTIME,
						 PSTATS_SORT_CALLS };
	static const size_t tops[] = { 0, 1, 2, 3, 7 };
	size_t n = ps->n_real, *order = NULL, *idx;

	idx = malloc((n + 1) * sizeof(*idx));
	for (size_t s = 0; idx && s < 3; s++) {
		if (pstats_order(ps, keys[s], &order) < 0)
			break;
		for (size_t t = 0; t < 5; t++) {
			size_t k = tops[t] < n ? tops[t] : n;
			for (size_t i = 0; i < n; i++)
				idx[i] = i;
			if (pstats_top(ps, keys[s], idx, n, k) == 0 && memcmp(idx, order, k * sizeof(*idx)))
				abort();
		}
		free(order);
		order = NULL;
	}
	free(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pstats *ps = NULL;
	size_t *order = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	compare_readers(data, size, 0);
	compare_readers(data, size, PSTATS_NO_CALLERS);
	if (pstats_parse(data, size, "fuzz", &ps) < 0)
		return 0;
	f = open_memstream(&buf, &len);
	if (f) {
		if (pstats_order(ps, PSTATS_SORT_TOTTIME, &order) == 0)
			pstats_print_text(f, ps, order, ps->n_real, "tottime");
		free(order);
		order = NULL;
		same_top(ps);
		flame_write_svg(f, ps, NULL);
		fclose(f);
	}
	free(order);
	free(buf);
	pstats_free(ps);
	return 0;
}
