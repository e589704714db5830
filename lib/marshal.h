/* A reader of Python's marshal format, limited to the object types that cProfile's
 * dump_stats() writes (pstats files): dict, tuple, str (every variant), int, long,
 * float (binary and text) and None, with back-references (FLAG_REF / TYPE_REF) as
 * marshal versions 2 to 5 write them. Any other type is an error naming its offset.
 *
 * Values are decoded into an arena owned by struct mreader; strings are UTF-8 and point
 * into the input buffer when it already holds them in that form. The input buffer must
 * outlive the values. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mtype {
	MV_UNSET = 0,   /* a container's slot not filled yet (seen through a reference) */
	MV_NONE,
	MV_INT,
	MV_FLOAT,
	MV_STR,
	MV_TUPLE,
	MV_DICT,        /* items holds 2*len values: key, value, key, value ... */
};

struct mval {
	uint8_t type;        /* enum mtype */
	uint32_t len;        /* bytes of a str; items of a tuple; pairs of a dict */
	size_t off;          /* where it starts in the input, for error messages */
	union {
		int64_t i;
		double f;
		const char *s;
		struct mval *items;
	} u;
};

struct mreader;

/* Decodes one object from buf[0..len). On success *ret_reader owns the arena and
 * *ret_root points into it. Trailing bytes after the object are an error. */
int marshal_parse(const void *buf, size_t len, struct mreader **ret_reader,
		  const struct mval **ret_root);
void marshal_free(struct mreader *r);

const char *mtype_name(int type);

/* A marshalled str's bytes s[0..n) as the UTF-8 that Python's str holds: the ASCII kinds
 * (latin1) are Latin-1, the others "surrogatepass" UTF-8, whose surrogates become U+FFFD
 * so that everything printed is well-formed. Returns 0 when s already is that UTF-8 (the
 * common case: no copy), 1 when the converted string was written to out (room for 2*n
 * bytes) with its length in *ret_len, -EBADMSG when s is not valid UTF-8. */
int marshal_str_utf8(const unsigned char *s, size_t n, bool latin1, unsigned char *out,
		     size_t *ret_len);
