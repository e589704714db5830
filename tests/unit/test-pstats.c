/* The marshal reader and pstats table on hand-made bytes: every type cProfile emits,
 * references (FLAG_REF / TYPE_REF), both float forms, long ints, and the errors for
 * truncated, unknown and misshapen data, each naming an offset. */
#include <string.h>

#include "error.h"
#include "marshal.h"
#include "pstats.h"
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
