/* Version numbers as the compatibility matrix compares them: Python versions (up to
 * three numeric parts) and ranges of them, and tool versions ordered as PEP 440 orders
 * releases. Pure functions, no allocation: the unit tests and the fuzzer drive them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* A Python version: one to three numeric parts, n of them given. */
struct pyver {
	int part[3];
	int n;
};

/* A set of Python versions: [lo, hi) over full three-part versions; a missing bound is
 * open. Every range of the matrix's syntax is one such interval. */
struct vrange {
	struct pyver lo, hi;   /* both always with n == 3 */
	bool has_lo, has_hi;
};

/* Parses "3", "3.14", "3.14.2". With lenient, anything after the numeric parts that does
 * not start with a digit is ignored ("3.15.0a2", "3.14.0rc1+", "3.11.2.final.0" keeps
 * 3.11.2), as interpreters and pyvenv.cfg spell versions. Returns 0 or -EINVAL. */
int pyver_parse(const char *s, bool lenient, struct pyver *ret);
/* Compares two versions part by part, missing parts counting as 0. */
int pyver_cmp(const struct pyver *a, const struct pyver *b);
/* "3.14.2" into buf (as many parts as given). */
const char *pyver_str(const struct pyver *v, char *buf, size_t size);

/* Parses the matrix's range syntax (docs/matrix.md): "*", "3.14" (the series), "3.14.5"
 * (exactly), or clauses "OP V" joined by commas, OP one of >= > <= < ==. A clause
 * compares at its bound's precision. On error returns -EINVAL and, when ret_problem is
 * given, a static description of what is wrong and its byte offset in s. */
int vrange_parse(const char *s, struct vrange *ret, const char **ret_problem, size_t *ret_offset);
/* The versions a query stands for: an exact version (three parts) or a series ("3.14":
 * every 3.14.x, "3": every 3.x). */
struct vrange vrange_of(const struct pyver *v);
bool vrange_contains(const struct vrange *r, const struct pyver *v);
bool vrange_empty(const struct vrange *r);
/* Intersection; empty when the two do not meet (check with vrange_empty). */
struct vrange vrange_intersect(const struct vrange *a, const struct vrange *b);
bool vrange_meets(const struct vrange *a, const struct vrange *b);
/* Describes r as seen within the series `within` (a vrange_of() of a series), in the
 * words of a docs table: "" when r covers all of it, "3.14.5", "3.14.0–3.14.4",
 * "3.14.5+". */
const char *vrange_describe(const struct vrange *r, const struct vrange *within,
			    char *buf, size_t size);

/* Tool versions, PEP 440: release parts, then devN < aN < bN < rcN < release < postN.
 * Epochs ("1!") and local labels ("+deb12") are accepted and ignored; a leading "v" is
 * accepted. Returns 0 or -EINVAL. */
struct toolver {
	long part[8];
	int n;
	int pre_rank;   /* -4 dev release, -3 a, -2 b, -1 rc, 0 none */
	long pre_num;
	long post;      /* -1 when none */
	long dev;       /* -1 when none */
};
int toolver_parse(const char *s, struct toolver *ret);
int toolver_cmp(const struct toolver *a, const struct toolver *b);
/* Convenience for two strings; unparsable versions compare as equal (0) and set *ret_ok
 * to false when given. */
int toolver_cmp_str(const char *a, const char *b, bool *ret_ok);
