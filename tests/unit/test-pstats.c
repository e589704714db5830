/* The marshal reader and pstats table on hand-made bytes: every type cProfile emits,
 * references (FLAG_REF / TYPE_REF), both float forms, long ints, and the errors for
 * truncated, unknown and misshapen data, each naming an offset. The direct decoder
 * and the generic reader give the same table; the top rows are the full sort's first. */
#include <string.h>

#include "bigmem.h"
#include "error.h"
#include "marshal.h"
#include "pstats.h"
#include "pstats_impl.h"
#include "tap.h"

/* {("f.py", 3, "g"): (1, 2, 0.5, 1.5, {("f.py", 1, "<module>"): (2, 1, 0.5, 1.5)}),
 *  ("f.py", 1, "<module>"): (1, 1, 0.0, 1.5, {})}
 * written with FLAG_REF on the file name and the caller key, references to both. */
static const unsigned char sample[] = {
	0xfb,                                   /* dict, ref 0 */
	0xa9, 3,                                /* small tuple, ref 1 */
	0xfa, 4, 'f', '.', 'p', 'y',            /* short ascii interned, ref 2 */
	'i', 3, 0, 0, 0,
	'z', 1, 'g',
	')', 5,
	'i', 1, 0, 0, 0,
	'l', 1, 0, 0, 0, 2, 0,                  /* long 2 */
	'g', 0, 0, 0, 0, 0, 0, 0xe0, 0x3f,      /* 0.5 */
	'f', 3, '1', '.', '5',                  /* text float 1.5 */
	'{',
	0xa9, 3, 'r', 2, 0, 0, 0, 'i', 1, 0, 0, 0, 'u', 8, 0, 0, 0, '<', 'm', 'o', 'd', 'u', 'l', 'e', '>',
	'(', 4, 0, 0, 0, 'i', 2, 0, 0, 0, 'i', 1, 0, 0, 0, 'g', 0, 0, 0, 0, 0, 0, 0xe0, 0x3f,
	'f', 3, '1', '.', '5',
	'0',
	'r', 3, 0, 0, 0,                        /* the caller key again, as the next dict key */
	')', 5, 'i', 1, 0, 0, 0, 'i', 1, 0, 0, 0, 'g', 0, 0, 0, 0, 0, 0, 0, 0,
	'f', 3, '1', '.', '5', '{', '0',
	'0',
};

/* Both readers accept buf, into the same table. */
static void same_readers(const unsigned char *buf, size_t len, unsigned flags, const char *what)
{
	struct pstats *a = NULL, *b = NULL;
	bool same;

	if (!ok(pstats_parse_direct(buf, len, flags, &a) == 0, what) ||
	    !ok(pstats_parse_generic(buf, len, "t", flags, &b) == 0, "  ...and so does the generic reader")) {
		pstats_free(a);
		return;
	}
	same = a->n_funcs == b->n_funcs && a->n_real == b->n_real && a->n_callers == b->n_callers &&
	       a->total_calls == b->total_calls && a->total_tt == b->total_tt;
	for (size_t i = 0; same && i < a->n_funcs; i++) {
		const struct pstats_func *x = &a->funcs[i], *y = &b->funcs[i];
		same = !strcmp(x->file, y->file) && !strcmp(x->name, y->name) && x->line == y->line &&
		       x->cc == y->cc && x->nc == y->nc && x->tt == y->tt && x->ct == y->ct &&
		       x->first_caller == y->first_caller && x->n_callers == y->n_callers &&
		       x->phantom == y->phantom;
	}
	for (size_t i = 0; same && i < a->n_callers; i++)
		same = a->callers[i].caller == b->callers[i].caller &&
		       a->callers[i].callee == b->callers[i].callee &&
		       a->callers[i].nc == b->callers[i].nc && a->callers[i].ct == b->callers[i].ct;
	ok(same, "  ...into the same table");
	pstats_free(a);
	pstats_free(b);
}

static void fails(const unsigned char *buf, size_t len, const char *want, const char *what)
{
	struct pstats *ps = NULL;
	int r;

	err_clear();
	r = pstats_parse(buf, len, "t.stats", &ps);
	ok(r < 0 && ps == NULL, what);
	if (!ok(strstr(err_msg_for(r), want) != NULL, "  ...and says why"))
		printf("#   got '%s', want '%s'\n", err_msg_for(r), want);
}

int main(void)
{
	struct pstats *ps = NULL;
	char label[256];
	size_t *order = NULL;
	int r;

	r = pstats_parse(sample, sizeof(sample), "t.stats", &ps);
	is_int(r, 0, "a file with refs, both float forms and a long parses");
	if (r < 0) {
		printf("# %s\n", err_msg_for(r));
		return tap_done();
	}
	is_int(ps->n_real, 2, "two functions");
	is_str(ps->funcs[0].file, "f.py", "first key's file");
	is_int(ps->funcs[0].line, 3, "line");
	is_str(ps->funcs[0].name, "g", "name");
	is_int(ps->funcs[0].cc, 1, "primitive calls");
	is_int(ps->funcs[0].nc, 2, "total calls (long)");
	ok(ps->funcs[0].tt == 0.5 && ps->funcs[0].ct == 1.5, "tottime binary, cumtime text");
	ok(ps->funcs[0].file == ps->funcs[1].file, "file names are interned");
	is_str(ps->funcs[1].name, "<module>", "the referenced key became the second function");
	is_int(ps->funcs[0].n_callers, 1, "one caller");
	is_int(ps->callers[ps->funcs[0].first_caller].caller, 1, "the caller is <module>");
	is_int(ps->callers[ps->funcs[0].first_caller].nc, 2, "caller edge nc comes first");
	is_int(ps->total_calls, 3, "total calls as pstats sums them");
	is_int(ps->prim_calls, 2, "primitive calls");
	ok(ps->total_tt == 0.5, "total time is the sum of tottime");
	pstats_label(&ps->funcs[0], label, sizeof(label));
	is_str(label, "f.py:3(g)", "func_std_string");
	ok(pstats_order(ps, PSTATS_SORT_CUMULATIVE, &order) == 0 && order[0] == 0 && order[1] == 1,
	   "equal cumulative times keep file order");
	free(order);
	pstats_free(ps);
	same_readers(sample, sizeof(sample), 0, "the direct decoder reads the sample");
	same_readers(sample, sizeof(sample), PSTATS_NO_CALLERS, "and without the call graph");
	ok(pstats_parse_flags(sample, sizeof(sample), "t", PSTATS_NO_CALLERS, &ps) == 0 &&
	   ps->n_callers == 0 && ps->funcs[0].n_callers == 0 && ps->n_real == 2 &&
	   ps->n_funcs == 2 && ps->total_calls == 3,
	   "PSTATS_NO_CALLERS keeps functions and totals, no edges");
	pstats_free(ps);

	{
		/* {k0: (1,1,0.0,2.0,{k1: 1}), k1: (1,1,0.0,1.0,{k2: 2}), k0: (2,2,0.5,3.0,{k2: 3})}:
		 * a repeated key keeps its place and takes the last value; k2 is a phantom */
		static const unsigned char dup[] = {
			'{',
			')', 3, 0xfa, 1, 'a', 'i', 1, 0, 0, 0, 'z', 1, 'f',
			')', 5, 'i', 1, 0, 0, 0, 'i', 1, 0, 0, 0, 'i', 0, 0, 0, 0, 'i', 2, 0, 0, 0,
			'{', ')', 3, 'r', 0, 0, 0, 0, 'i', 2, 0, 0, 0, 'z', 1, 'g', 'i', 1, 0, 0, 0, '0',
			')', 3, 'r', 0, 0, 0, 0, 'i', 2, 0, 0, 0, 'z', 1, 'g',
			')', 5, 'i', 1, 0, 0, 0, 'i', 1, 0, 0, 0, 'i', 0, 0, 0, 0, 'i', 1, 0, 0, 0,
			'{', ')', 3, 'r', 0, 0, 0, 0, 'i', 3, 0, 0, 0, 'z', 1, 'h', 'i', 2, 0, 0, 0, '0',
			')', 3, 'r', 0, 0, 0, 0, 'i', 1, 0, 0, 0, 'z', 1, 'f',
			')', 5, 'i', 2, 0, 0, 0, 'i', 2, 0, 0, 0, 'g', 0, 0, 0, 0, 0, 0, 0xe0, 0x3f,
			'i', 3, 0, 0, 0,
			'{', ')', 3, 'r', 0, 0, 0, 0, 'i', 3, 0, 0, 0, 'z', 1, 'h', 'i', 3, 0, 0, 0, '0',
			'0',
		};
		same_readers(dup, sizeof(dup), 0, "a repeated key: the direct decoder");
		same_readers(dup, sizeof(dup), PSTATS_NO_CALLERS, "  ...and without the call graph");
		if (ok(pstats_parse(dup, sizeof(dup), "dup", &ps) == 0, "a repeated key parses")) {
			is_int(ps->n_real, 2, "  two functions in the dict");
			is_int(ps->n_funcs, 3, "  and a phantom");
			is_int(ps->funcs[0].nc, 2, "  the last value wins");
			is_int(ps->funcs[0].n_callers, 1, "  with its own callers");
			is_int(ps->callers[ps->funcs[0].first_caller].nc, 3, "  ...only");
			ok(ps->funcs[2].phantom && !strcmp(ps->funcs[2].name, "h"), "  the phantom comes last");
			pstats_free(ps);
		}
	}
	{
		/* the second key's value is a reference to the first's: not cProfile's form,
		 * read by the generic reader */
		static const unsigned char shared[] = {
			'{',
			')', 3, 'z', 1, 'a', 'i', 1, 0, 0, 0, 'z', 1, 'f',
			0xa9, 5, 'i', 1, 0, 0, 0, 'i', 1, 0, 0, 0, 'i', 0, 0, 0, 0, 'i', 2, 0, 0, 0, '{', '0',
			')', 3, 'z', 1, 'a', 'i', 2, 0, 0, 0, 'z', 1, 'g',
			'r', 0, 0, 0, 0,
			'0',
		};
		struct pstats *q = NULL;
		ok(pstats_parse_direct(shared, sizeof(shared), 0, &q) == PSTATS_NOT_HANDLED,
		   "a shared value is left to the generic reader");
		if (ok(pstats_parse(shared, sizeof(shared), "shared", &ps) == 0, "  which reads it")) {
			ok(ps->n_real == 2 && ps->funcs[1].ct == 2.0, "  both functions have the value");
			pstats_free(ps);
		}
	}
	{
		/* pstats_top() picks the full sort's first rows */
		static const double ct[] = { 1, 5, 3, 5, 0, 9, 3, 5 };
		struct pstats t = { 0 };
		struct pstats_func fs[8];
		size_t idx[8], *full = NULL;
		bool same = true;
		memset(fs, 0, sizeof(fs));
		for (size_t i = 0; i < 8; i++) {
			fs[i].ct = ct[i];
			fs[i].nc = (int64_t)(i % 3);
		}
		t.funcs = fs;
		t.n_funcs = t.n_real = 8;
		for (int key = PSTATS_SORT_CUMULATIVE; key <= PSTATS_SORT_CALLS; key++) {
			if (pstats_order(&t, (enum pstats_sort)key, &full) < 0)
				break;
			for (size_t k = 0; k <= 8; k++) {
				for (size_t i = 0; i < 8; i++)
					idx[i] = i;
				same &= pstats_top(&t, (enum pstats_sort)key, idx, 8, k) == 0 &&
					!memcmp(idx, full, k * sizeof(*idx));
			}
			free(full);
		}
		ok(same, "the top k rows are the first k of the stable sort, ties in file order");
	}
	{
		/* bigmem: from malloc to a mapping and on, contents kept */
		unsigned char *p = bigmem_alloc(100), *q;
		bool kept = true;
		if (!p)
			return tap_done();
		for (size_t i = 0; i < 100; i++)
			p[i] = (unsigned char)i;
		if (!(q = bigmem_realloc(p, (size_t)3 << 20)))
			return tap_done();
		for (size_t i = 0; i < 100; i++)
			kept &= q[i] == (unsigned char)i;
		q[((size_t)3 << 20) - 1] = 1;
		if (!(p = bigmem_realloc(q, (size_t)9 << 20)))
			return tap_done();
		ok(kept && p[99] == 99 && p[((size_t)3 << 20) - 1] == 1,
		   "bigmem keeps its contents as it grows into a mapping");
		bigmem_free(p);
		p = bigmem_calloc(1 << 20, 4);
		ok(p && p[0] == 0 && p[(4 << 20) - 1] == 0, "bigmem_calloc gives zeros");
		bigmem_free(p);
	}

	{
		static const unsigned char builtin[] = { '{', ')', 3, 'z', 1, '~', 'i', 0, 0, 0, 0,
			'z', 8, '<', 'm', 'e', 't', 'h', 'o', 'd', '>', ')', 5, 'i', 1, 0, 0, 0, 'i', 1, 0,
			0, 0, 'i', 0, 0, 0, 0, 'i', 0, 0, 0, 0, '{', '0', '0' };
		struct pstats_func f;
		if (!ok(pstats_parse(builtin, sizeof(builtin), "b", &ps) == 0, "a built-in parses"))
			return tap_done();
		f = ps->funcs[0];
		pstats_label(&f, label, sizeof(label));
		is_str(label, "{method}", "built-ins are shown in braces");
		pstats_free(ps);
	}

	for (size_t cut = 0; cut < sizeof(sample); cut += 7)
		fails(sample, cut, cut ? "offset" : "empty", "a truncated file is an error");
	{
		static const unsigned char list[] = { '[', 0, 0, 0, 0 };
		static const unsigned char badref[] = { '{', 'r', 9, 0, 0, 0, '0' };
		static const unsigned char self[] = { 0xa8, 1, 0, 0, 0, 'r', 0, 0, 0, 0 };
		static const unsigned char baddigit[] = { 'l', 1, 0, 0, 0, 0xff, 0xff };
		static const unsigned char notdict[] = { 'N' };
		static const unsigned char badutf[] = { 'u', 2, 0, 0, 0, 0xc3, 0x28 };
		static const unsigned char deep[] = { ')', 1, ')', 1, ')', 1, ')', 1, ')', 1, ')', 1,
			')', 1, ')', 1, ')', 1, ')', 1 };
		unsigned char nest[400];
		for (size_t i = 0; i < sizeof(nest); i += 2) {
			nest[i] = ')';
			nest[i + 1] = 1;
		}
		fails(list, sizeof(list), "unsupported marshal type '[' at offset 0", "lists are rejected");
		fails(badref, sizeof(badref), "invalid reference 9", "a reference past the table");
		fails(self, sizeof(self), "still being read", "a tuple that contains itself");
		fails(baddigit, sizeof(baddigit), "digit out of range", "a long digit over 15 bits");
		fails(notdict, sizeof(notdict), "a dict expected at offset 0", "a top level that is not a dict");
		fails(badutf, sizeof(badutf), "invalid UTF-8", "invalid UTF-8");
		fails(deep, sizeof(deep), "offset", "a truncated nest");
		fails(nest, sizeof(nest), "nested too deeply", "nesting is bounded");
	}
	return tap_done();
}
