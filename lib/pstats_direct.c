/* The direct pstats decoder (pstats_impl.h): one pass over the marshal stream of the
 * dict cProfile writes, {(file, line, name): (cc, nc, tt, ct, {caller_key: (nc, cc, tt,
 * ct) or int})}, straight into the function and edge tables, with no object tree.
 *
 * Each position is read as what pstats needs there: a key becomes a function, a count
 * an int64, a time a double, a file name an interned string, a function name a string
 * of its own. Back-references keep what their object became: a referenced key tuple
 * (cProfile shares each caller's key tuple between the callers dicts it appears in) is
 * its function, a referenced string its pointer (file names and each code object's
 * name are shared by reference), so most keys and names cost five bytes and no
 * hashing. Anything else -- other shapes, references to other containers, corrupt or
 * truncated data -- makes it give up (PSTATS_NOT_HANDLED), and pstats_parse() reads the
 * file with the generic reader, which accepts every valid form and names the offset of
 * what is wrong. So this decoder never explains errors, and must accept only what the
 * generic reader accepts, with the same result (the fuzz target compares the two).
 *
 * A function is a node from the moment its key is first met. It takes its index in
 * pstats.funcs (its rank) when it is first met as a key of the dict, so the dict's
 * keys come first and in the dict's order; the nodes met only as callers (phantoms)
 * follow at the end in the order they were met, as in pstats.c. An edge whose caller
 * had no rank yet when it was read is fixed at the end. */
#include "pstats_impl.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "marshal.h"

#define FLAG_REF 0x80
#define NOPE PSTATS_NOT_HANDLED
#define NO_NODE UINT32_MAX

enum slot_kind {
	SK_PENDING,                 /* still being read */
	SK_INT, SK_FLOAT, SK_STR, SK_FILE,
	SK_KEY,                     /* a key tuple, its node known */
	SK_LAZY_KEY,                /* a key tuple read without looking it up (a caller's
	                             * key, PSTATS_NO_CALLERS): where it is, in u.i */
	SK_OTHER,
};

/* What a remembered object (FLAG_REF) became; its kind is kept apart (dec.kinds), in
 * a table small enough to stay in the cache, since checking a back-reference's kind is
 * often all that is needed. */
struct slot {
	uint32_t hash;              /* SK_STR: pool_hash() of the name */
	uint32_t func;              /* SK_KEY: its node; SK_STR: the node of the last key
	                             * that had this string as its name, or NO_NODE */
	union {
		int64_t i;          /* SK_INT */
		double f;           /* SK_FLOAT */
		const char *s;      /* SK_STR (a name's copy), SK_FILE (interned) */
	} u;
};

/* A function as first met: its key, and its place among the dict's keys once it is
 * met as one (the index it will have in pstats.funcs). */
struct node {
	const char *file;           /* interned */
	const char *name;           /* compared by content */
	int64_t line;
	uint32_t name_hash;
	uint32_t rank;              /* NO_RANK until met as a key of the dict */
};

#define NO_RANK UINT32_MAX

struct dec {
	const unsigned char *base, *p, *end;
	struct slot *refs;
	uint8_t *kinds;             /* enum slot_kind of each slot */
	uint64_t *keys;             /* a bit per slot: SK_KEY or SK_LAZY_KEY, which is all a
	                             * caller's key needs to know (PSTATS_NO_CALLERS) */
	size_t n_refs, cap_refs, cap_kinds, cap_keys;
	bool replay;                /* reading a lazy key again: its slots exist already */
	struct node *nodes;
	size_t n_nodes, cap_nodes;
	uint64_t *map;              /* hash tag << 32 | node index + 1; 0 is empty */
	size_t cap_map;
	struct pstats *ps;          /* funcs: the dict's keys, by rank, as they come */
	size_t cap_funcs;
	struct pstats_edge *edges;  /* caller is a rank, or a node for those in pending */
	size_t n_edges, cap_edges;
	uint32_t *pending;          /* edges whose caller had no rank yet */
	size_t n_pending, cap_pending;
	bool dup;                   /* a key repeated in the dict */
	bool no_callers;            /* PSTATS_NO_CALLERS: edges are read, not kept */
	unsigned char *conv;        /* a string being converted to UTF-8 */
	size_t cap_conv;
};

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap * 2 : 4096;
	while (n < need)
		n *= 2;
	if (n > SIZE_MAX / elem)
		return -ENOMEM;
	p = bigmem_realloc(*v, n * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = n;
	return 0;
}

static inline bool have(const struct dec *d, size_t n)
{
	return (size_t)(d->end - d->p) >= n;
}

static inline uint32_t le32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

/* Numbers the object whose type byte was just read, as marshal's reader does: before
 * its contents, so that a container comes before its items. */
static int reserve_grow(struct dec *d, size_t *ret)
{
	/* one spare slot past the end takes what a replay writes */
	if (d->n_refs + 1 >= d->cap_refs &&
	    (grow((void **)&d->refs, &d->cap_refs, d->n_refs + 2, sizeof(*d->refs)) < 0 ||
	     grow((void **)&d->kinds, &d->cap_kinds, d->cap_refs, sizeof(*d->kinds)) < 0 ||
	     grow((void **)&d->keys, &d->cap_keys, d->cap_refs / 64 + 1, sizeof(*d->keys)) < 0))
		return -ENOMEM;
	d->kinds[d->n_refs] = SK_PENDING;
	d->keys[d->n_refs / 64] &= ~(1ULL << d->n_refs % 64);
	*ret = d->replay ? d->n_refs : d->n_refs++;
	return 0;
}

static inline __attribute__((always_inline)) int reserve(struct dec *d, size_t *ret)
{
	size_t n = d->n_refs;

	if (n + 1 >= d->cap_refs || d->replay)
		return reserve_grow(d, ret);
	d->kinds[n] = SK_PENDING;
	d->keys[n / 64] &= ~(1ULL << n % 64);
	*ret = n;
	d->n_refs = n + 1;
	return 0;
}

static inline void mark_key(struct dec *d, size_t slot, enum slot_kind kind)
{
	d->kinds[slot] = (uint8_t)kind;
	d->keys[slot / 64] |= 1ULL << slot % 64;
}

static inline const struct slot *ref(struct dec *d, enum slot_kind kind)
{
	uint32_t n;

	if (!have(d, 4))
		return NULL;
	n = le32(d->p);
	d->p += 4;
	if (n >= d->n_refs || d->kinds[n] != kind)
		return NULL;
	return &d->refs[n];
}

/* marshal's TYPE_LONG: 15-bit digits, normalised, here within int64. */
static int read_long(struct dec *d, int64_t *ret)
{
	int32_t n;
	uint32_t nd;
	uint64_t acc = 0;
	int shift = 0;

	if (!have(d, 4))
		return NOPE;
	n = (int32_t)le32(d->p);
	d->p += 4;
	nd = n < 0 ? (uint32_t)-(int64_t)n : (uint32_t)n;
	if ((size_t)(d->end - d->p) / 2 < nd)
		return NOPE;
	for (uint32_t i = 0; i < nd; i++) {
		unsigned dg = d->p[0] | d->p[1] << 8;
		d->p += 2;
		if (dg >= 1u << 15 || (i == nd - 1 && dg == 0))
			return NOPE;
		if (dg) {
			if (shift >= 64 || (shift > 0 && (uint64_t)dg >> (64 - shift)))
				return NOPE;
			acc |= (uint64_t)dg << shift;
		}
		shift += 15;
	}
	if (acc > (uint64_t)INT64_MAX)
		return NOPE;
	*ret = n < 0 ? -(int64_t)acc : (int64_t)acc;
	return 0;
}

/* A count: int or long. */
static int read_int_any(struct dec *d, int64_t *ret)
{
	unsigned c, t;
	size_t s = 0;
	int64_t v;
	int k;

	if (!have(d, 5))
		return NOPE;   /* every int form takes at least five bytes */
	c = *d->p++;
	t = c & ~FLAG_REF;
	if (t == 'r') {
		const struct slot *sl = ref(d, SK_INT);
		if (!sl)
			return NOPE;
		*ret = sl->u.i;
		return 0;
	}
	if ((c & FLAG_REF) && (k = reserve(d, &s)) < 0)
		return k;
	if (t == 'i') {
		v = (int32_t)le32(d->p);
		d->p += 4;
	} else if (t == 'l') {
		if ((k = read_long(d, &v)) != 0)
			return k;
	} else {
		return NOPE;
	}
	if (c & FLAG_REF) {
		d->kinds[s] = SK_INT;
		d->refs[s].u.i = v;
	}
	*ret = v;
	return 0;
}

/* A time: float (binary or text), or an int. */
static int read_time_any(struct dec *d, double *ret)
{
	unsigned c, t;
	size_t s = 0;
	double v;
	int k;

	if (!have(d, 1))
		return NOPE;
	c = *d->p;
	t = c & ~FLAG_REF;
	if (t == 'g') {
		uint64_t bits;
		if (!have(d, 9))
			return NOPE;
		if ((c & FLAG_REF) && (k = reserve(d, &s)) < 0)
			return k;
		memcpy(&bits, d->p + 1, 8);
		bits = le64toh(bits);
		memcpy(&v, &bits, sizeof(v));
		d->p += 9;
	} else if (t == 'f') {
		char tmp[257], *end;
		size_t n;
		if (!have(d, 2))
			return NOPE;
		n = d->p[1];
		if (!have(d, 2 + n) || n == 0)
			return NOPE;
		if ((c & FLAG_REF) && (k = reserve(d, &s)) < 0)
			return k;
		memcpy(tmp, d->p + 2, n);
		tmp[n] = '\0';
		d->p += 2 + n;
		v = strtod(tmp, &end);
		if (*end != '\0' || memchr(tmp, '\0', n))
			return NOPE;
	} else if (t == 'r') {
		uint32_t n;
		if (!have(d, 5))
			return NOPE;
		n = le32(d->p + 1);
		d->p += 5;
		if (n >= d->n_refs)
			return NOPE;
		if (d->kinds[n] == SK_FLOAT)
			*ret = d->refs[n].u.f;
		else if (d->kinds[n] == SK_INT)
			*ret = (double)d->refs[n].u.i;
		else
			return NOPE;
		return 0;
	} else {
		int64_t i;
		if ((k = read_int_any(d, &i)) != 0)
			return k;
		*ret = (double)i;
		return 0;
	}
	if (c & FLAG_REF) {
		d->kinds[s] = SK_FLOAT;
		d->refs[s].u.f = v;
	}
	*ret = v;
	return 0;
}

/* The forms nearly every count and time of a profile takes -- a plain int, a reference
 * to a remembered one, a plain binary float -- inline; the rest out of line. */
static inline __attribute__((always_inline)) int read_int(struct dec *d, int64_t *ret)
{
	uint32_t v;

	if (d->end - d->p >= 5) {
		v = le32(d->p + 1);
		if (d->p[0] == 'i') {
			*ret = (int32_t)v;
			d->p += 5;
			return 0;
		}
		if (d->p[0] == 'r' && v < d->n_refs && d->kinds[v] == SK_INT) {
			*ret = d->refs[v].u.i;
			d->p += 5;
			return 0;
		}
	}
	return read_int_any(d, ret);
}

static inline __attribute__((always_inline)) int read_time(struct dec *d, double *ret)
{
	uint64_t bits;

	if (d->end - d->p >= 9 && d->p[0] == 'g') {
		memcpy(&bits, d->p + 1, 8);
		bits = le64toh(bits);
		memcpy(ret, &bits, sizeof(*ret));
		d->p += 9;
		return 0;
	}
	return read_time_any(d, ret);
}

/* A string of a key. A file name (file) is interned, so that the files of a profile
 * compare by pointer (diff normalises each once); a function name gets a copy of its
 * own and is compared by content, which spares a table probe for each of the many
 * names a large profile has. *ret_slot is the slot the string is remembered in, or
 * SIZE_MAX. Without keep the string is only checked (*ret is NULL), unless it is
 * remembered for later references. */
static int read_str_any(struct dec *d, bool file, bool keep, const char **ret,
			size_t *ret_slot, uint32_t *ret_hash)
{
	const unsigned char *s;
	unsigned c, t;
	size_t n, slot = 0;
	bool latin1, high = false;
	const char *str;
	int k;

	if (!have(d, 2))
		return NOPE;
	c = *d->p++;
	t = c & ~FLAG_REF;
	switch (t) {
	case 'r': {
		struct slot *sl;
		if (!have(d, 4))
			return NOPE;
		n = le32(d->p);
		d->p += 4;
		if (n >= d->n_refs)
			return NOPE;
		sl = &d->refs[n];
		if (!keep && (d->kinds[n] == SK_FILE || d->kinds[n] == SK_STR)) {
			*ret = NULL;
		} else if (d->kinds[n] == SK_FILE || (d->kinds[n] == SK_STR && !file)) {
			*ret = sl->u.s;
			*ret_hash = d->kinds[n] == SK_STR ? sl->hash : pool_hash(sl->u.s, strlen(sl->u.s));
		} else if (d->kinds[n] == SK_STR) {
			/* a name's string, now a file's: the pool has (or takes) its copy */
			size_t len = strlen(sl->u.s);
			k = pool_intern(d->ps->pool, sl->u.s, len, pool_hash(sl->u.s, len), ret);
			if (k < 0)
				return k == -ENOMEM ? k : NOPE;
		} else {
			return NOPE;
		}
		*ret_slot = n;
		return 0;
	}
	case 'z': case 'Z':
		n = *d->p++;
		latin1 = true;
		break;
	case 'a': case 'A': case 'u': case 't':
		if (!have(d, 4))
			return NOPE;
		n = le32(d->p);
		d->p += 4;
		if (n > INT32_MAX)
			return NOPE;
		latin1 = t == 'a' || t == 'A';
		break;
	default:
		return NOPE;
	}
	if (!have(d, n))
		return NOPE;
	if ((c & FLAG_REF) && (k = reserve(d, &slot)) < 0)
		return k;
	s = d->p;
	d->p += n;
	{
		/* eight bytes at a time: names are ASCII but for rare exceptions */
		uint64_t w, any = 0;
		size_t i = 0;
		for (; i + 8 <= n; i += 8) {
			memcpy(&w, s + i, 8);
			any |= w;
		}
		for (; i < n; i++)
			any |= s[i];
		high = any & 0x8080808080808080ULL;
	}
	if (high) {
		size_t len = 0;
		if (grow((void **)&d->conv, &d->cap_conv, 2 * n, 1) < 0)
			return -ENOMEM;
		k = marshal_str_utf8(s, n, latin1, d->conv, &len);
		if (k < 0)
			return NOPE;
		if (k > 0) {
			s = d->conv;
			n = len;
		}
	}
	if (!keep && !(c & FLAG_REF)) {
		if (memchr(s, '\0', n))
			return NOPE;
		*ret = NULL;
		*ret_slot = SIZE_MAX;
		return 0;
	}
	if (file) {
		k = pool_intern(d->ps->pool, (const char *)s, n, pool_hash((const char *)s, n), &str);
		if (k < 0)
			return k == -ENOMEM ? k : NOPE;
	} else {
		if (memchr(s, '\0', n))
			return NOPE;
		str = pool_copy(d->ps->pool, (const char *)s, n);
		if (!str)
			return -ENOMEM;
		*ret_hash = pool_hash(str, n);
	}
	if (c & FLAG_REF) {
		d->kinds[slot] = file ? SK_FILE : SK_STR;
		d->refs[slot].func = NO_NODE;
		d->refs[slot].hash = file ? 0 : *ret_hash;
		d->refs[slot].u.s = str;
		*ret_slot = slot;
	} else {
		*ret_slot = SIZE_MAX;
	}
	*ret = str;
	return 0;
}

/* A back-reference to a string already taken the way it is needed, inline. */
static inline __attribute__((always_inline)) int read_file(struct dec *d, const char **ret,
							     size_t *ret_slot)
{
	uint32_t v, unused;

	if (d->end - d->p >= 5 && d->p[0] == 'r') {
		v = le32(d->p + 1);
		if (v < d->n_refs && d->kinds[v] == SK_FILE) {
			*ret = d->refs[v].u.s;
			*ret_slot = v;
			d->p += 5;
			return 0;
		}
	}
	return read_str_any(d, true, true, ret, ret_slot, &unused);
}

/* A function name, with its pool_hash(). */
static inline __attribute__((always_inline)) int read_name(struct dec *d, const char **ret,
							     size_t *ret_slot, uint32_t *ret_hash)
{
	uint32_t v;

	if (d->end - d->p >= 5 && d->p[0] == 'r') {
		v = le32(d->p + 1);
		if (v < d->n_refs && d->kinds[v] == SK_STR) {
			*ret = d->refs[v].u.s;
			*ret_hash = d->refs[v].hash;
			*ret_slot = v;
			d->p += 5;
			return 0;
		}
	}
	return read_str_any(d, false, true, ret, ret_slot, ret_hash);
}

static inline uint64_t node_hash(const char *file, uint32_t name_hash, int64_t line)
{
	uint64_t h = (uint64_t)(uintptr_t)file * 0x9e3779b97f4a7c15ULL;

	h ^= (uint64_t)name_hash * 0xc2b2ae3d27d4eb4fULL;
	h ^= (uint64_t)line * 0x165667b19e3779f9ULL;
	return h ^ (h >> 29);
}

static int map_grow(struct dec *d)
{
	size_t cap = d->cap_map ? d->cap_map * 2 : 4096;
	uint64_t *map = bigmem_calloc(cap, sizeof(*map));

	if (!map)
		return -ENOMEM;
	for (size_t j = 0; j < d->cap_map; j++) {
		size_t i;
		if (!d->map[j])
			continue;
		for (i = (d->map[j] >> 32) & (cap - 1); map[i]; i = (i + 1) & (cap - 1))
			;
		map[i] = d->map[j];
	}
	bigmem_free(d->map);
	d->map = map;
	d->cap_map = cap;
	return 0;
}

/* Under PSTATS_NO_CALLERS a function is met first as a key of the dict (or is looked
 * up only when it becomes one), so it takes its rank at once: the nodes are the
 * functions themselves, and no node table is built. */
static inline size_t n_nodes(const struct dec *d)
{
	return d->no_callers ? d->ps->n_funcs : d->n_nodes;
}

/* Whether node i is the function (file, line, name), names compared by pointer. */
static inline bool node_is(const struct dec *d, uint32_t i, const char *file, int64_t line,
			   const char *name)
{
	if (d->no_callers)
		return d->ps->funcs[i].file == file && d->ps->funcs[i].name == name &&
		       d->ps->funcs[i].line == line;
	return d->nodes[i].file == file && d->nodes[i].name == name && d->nodes[i].line == line;
}

/* The node of the function (file, line, name), a new one if not met before. The map
 * keeps part of each hash beside the index, so that a probe rarely has to look at a
 * node that is not the one sought. */
static int node_index(struct dec *d, const char *file, int64_t line, const char *name,
		      uint32_t nh, uint32_t *ret)
{
	struct pstats *ps = d->ps;
	uint64_t h, tag;
	size_t i, mask, n = n_nodes(d);

	if ((n + 1) * 4 > d->cap_map * 3 && map_grow(d) < 0)
		return -ENOMEM;
	mask = d->cap_map - 1;
	h = node_hash(file, nh, line);
	/* the tag places the entry too, so that growing the map needs no node */
	tag = h & 0xffffffff00000000ULL;
	for (i = (h >> 32) & mask; d->map[i]; i = (i + 1) & mask) {
		uint32_t at = (uint32_t)d->map[i] - 1;
		bool same;
		if ((d->map[i] & 0xffffffff00000000ULL) != tag)
			continue;
		if (d->no_callers) {
			const struct pstats_func *f = &ps->funcs[at];
			same = f->file == file && f->line == line &&
			       (f->name == name || !strcmp(f->name, name));
		} else {
			const struct node *f = &d->nodes[at];
			same = f->file == file && f->line == line && f->name_hash == nh &&
			       (f->name == name || !strcmp(f->name, name));
		}
		if (same) {
			*ret = at;
			return 0;
		}
	}
	if (n >= UINT32_MAX - 1)
		return NOPE;
	if (d->no_callers) {
		struct pstats_func *f;
		if (ps->n_funcs == d->cap_funcs &&
		    grow((void **)&ps->funcs, &d->cap_funcs, ps->n_funcs + 1, sizeof(*ps->funcs)) < 0)
			return -ENOMEM;
		f = &ps->funcs[ps->n_funcs++];
		memset(f, 0, sizeof(*f));
		f->file = file;
		f->name = name;
		f->line = line;
	} else {
		if (d->n_nodes == d->cap_nodes &&
		    grow((void **)&d->nodes, &d->cap_nodes, d->n_nodes + 1, sizeof(*d->nodes)) < 0)
			return -ENOMEM;
		d->nodes[d->n_nodes++] = (struct node){ .file = file, .name = name, .line = line,
							.name_hash = nh, .rank = NO_RANK };
	}
	d->map[i] = tag | (n + 1);
	*ret = (uint32_t)n;
	return 0;
}

/* A (file, line, name) key: its node. */
static int read_key_any(struct dec *d, uint32_t *ret)
{
	const char *file, *name;
	unsigned c, t;
	size_t n, slot = 0, file_slot, name_slot;
	uint32_t nh = 0;
	int64_t line;
	int k;

	if (!have(d, 2))
		return NOPE;
	c = *d->p++;
	t = c & ~FLAG_REF;
	if (t == 'r') {
		uint32_t v;
		const unsigned char *back;
		if (!have(d, 4))
			return NOPE;
		v = le32(d->p);
		d->p += 4;
		if (v >= d->n_refs)
			return NOPE;
		if (d->kinds[v] == SK_KEY) {
			*ret = d->refs[v].func;
			return 0;
		}
		if (d->kinds[v] != SK_LAZY_KEY || d->replay)
			return NOPE;
		/* a caller's key, now a key of the dict: read it again, looking it up */
		back = d->p;
		d->p = d->base + d->refs[v].u.i;
		d->replay = true;
		k = read_key_any(d, ret);
		d->replay = false;
		d->p = back;
		if (k != 0)
			return k;
		mark_key(d, v, SK_KEY);
		d->refs[v].func = *ret;
		return 0;
	}
	if (t == ')') {
		n = *d->p++;
	} else if (t == '(' && have(d, 4)) {
		n = le32(d->p);
		d->p += 4;
	} else {
		return NOPE;
	}
	if (n != 3)
		return NOPE;
	if ((c & FLAG_REF) && (k = reserve(d, &slot)) < 0)
		return k;
	if ((k = read_file(d, &file, &file_slot)) != 0 || (k = read_int(d, &line)) != 0 ||
	    (k = read_name(d, &name, &name_slot, &nh)) != 0)
		return k;
	/* cProfile writes each code object's name once and refers back to it: the key
	 * that last had this very string as its name is most often the one sought, and
	 * asking it saves hashing the name and probing the table */
	if (name_slot != SIZE_MAX && d->refs[name_slot].func != NO_NODE &&
	    node_is(d, d->refs[name_slot].func, file, line, name)) {
		*ret = d->refs[name_slot].func;
	} else {
		if ((k = node_index(d, file, line, name, nh, ret)) != 0)
			return k;
		if (name_slot != SIZE_MAX)
			d->refs[name_slot].func = *ret;
	}
	if (c & FLAG_REF) {
		mark_key(d, slot, SK_KEY);
		d->refs[slot].func = *ret;
	}
	return 0;
}

static inline __attribute__((always_inline)) int read_key(struct dec *d, uint32_t *ret)
{
	uint32_t v;

	if (d->end - d->p >= 5 && d->p[0] == 'r') {
		v = le32(d->p + 1);
		if (v < d->n_refs && d->kinds[v] == SK_KEY) {
			*ret = d->refs[v].func;
			d->p += 5;
			return 0;
		}
	}
	return read_key_any(d, ret);
}

/* A caller's key when the call graph is not kept: checked, not looked up. A
 * remembered one becomes a lazy key, looked up only if the dict refers to it as one of
 * its own keys. */
static int check_key(struct dec *d)
{
	const unsigned char *at = d->p;
	const char *unused;
	unsigned c, t;
	size_t n, slot = 0, str_slot;
	uint32_t hash;
	int64_t line;
	int k;

	if (!have(d, 5))
		return NOPE;
	c = *d->p;
	t = c & ~FLAG_REF;
	if (t == 'r') {
		uint32_t v = le32(d->p + 1);
		if (v >= d->n_refs || !(d->keys[v / 64] >> v % 64 & 1))
			return NOPE;
		d->p += 5;
		return 0;
	}
	d->p++;
	if (t == ')') {
		n = *d->p++;
	} else if (t == '(') {
		n = le32(d->p);
		d->p += 4;
	} else {
		return NOPE;
	}
	if (n != 3)
		return NOPE;
	if ((c & FLAG_REF) && (k = reserve(d, &slot)) < 0)
		return k;
	if ((k = read_str_any(d, true, false, &unused, &str_slot, &hash)) != 0 ||
	    (k = read_int(d, &line)) != 0 ||
	    (k = read_str_any(d, false, false, &unused, &str_slot, &hash)) != 0)
		return k;
	if (c & FLAG_REF) {
		mark_key(d, slot, SK_LAZY_KEY);
		d->refs[slot].u.i = at - d->base;
	}
	return 0;
}

/* A tuple header of n items; *ret_flag tells whether it is remembered (its slot). */
static int read_tuple_any(struct dec *d, size_t n, bool *ret_flag, size_t *ret_slot)
{
	unsigned c, t;
	size_t got;

	if (!have(d, 2))
		return NOPE;
	c = *d->p++;
	t = c & ~FLAG_REF;
	if (t == ')') {
		got = *d->p++;
	} else if (t == '(' && have(d, 4)) {
		got = le32(d->p);
		d->p += 4;
	} else {
		return NOPE;
	}
	if (got != n)
		return NOPE;
	*ret_flag = c & FLAG_REF;
	return *ret_flag ? reserve(d, ret_slot) : 0;
}

static inline __attribute__((always_inline)) int read_tuple(struct dec *d, size_t n,
							      bool *ret_flag, size_t *ret_slot)
{
	if (d->end - d->p >= 2 && d->p[0] == ')' && d->p[1] == n) {
		d->p += 2;
		*ret_flag = false;
		return 0;
	}
	return read_tuple_any(d, n, ret_flag, ret_slot);
}

/* '{' with its slot if remembered. */
static int read_dict_start(struct dec *d, bool *ret_flag, size_t *ret_slot)
{
	unsigned c;

	if (!have(d, 1) || (*d->p & ~FLAG_REF) != '{')
		return NOPE;
	c = *d->p++;
	*ret_flag = c & FLAG_REF;
	return *ret_flag ? reserve(d, ret_slot) : 0;
}

/* The end of a dict (TYPE_NULL), which the caller has seen. */
static inline bool dict_end(struct dec *d)
{
	if (have(d, 1) && *d->p == '0') {
		d->p++;
		return true;
	}
	return false;
}

/* {caller_key: (nc, cc, tt, ct) or int} of the function ranked callee. */
static int read_callers(struct dec *d, uint32_t callee)
{
	bool flag;
	size_t slot = 0, start = d->n_edges;
	int k;

	if ((k = read_dict_start(d, &flag, &slot)) != 0)
		return k;
	while (!dict_end(d)) {
		struct pstats_edge *e, unused;
		uint32_t caller;

		if (d->no_callers) {
			if ((k = check_key(d)) != 0)
				return k;
			e = &unused;
		} else {
			if ((k = read_key(d, &caller)) != 0)
				return k;
			if (d->n_edges == d->cap_edges &&
			    grow((void **)&d->edges, &d->cap_edges, d->n_edges + 1, sizeof(*d->edges)) < 0)
				return -ENOMEM;
			e = &d->edges[d->n_edges];
			e->callee = callee;
			if (d->nodes[caller].rank != NO_RANK) {
				e->caller = d->nodes[caller].rank;
			} else {
				/* its rank is known at the end */
				if (d->n_edges > UINT32_MAX)
					return NOPE;
				if (d->n_pending == d->cap_pending &&
				    grow((void **)&d->pending, &d->cap_pending, d->n_pending + 1,
					 sizeof(*d->pending)) < 0)
					return -ENOMEM;
				d->pending[d->n_pending++] = (uint32_t)d->n_edges;
				e->caller = caller;
			}
		}
		if (!have(d, 1))
			return NOPE;
		if ((*d->p & ~FLAG_REF) == ')' || (*d->p & ~FLAG_REF) == '(') {
			bool tflag;
			size_t tslot = 0;
			if ((k = read_tuple(d, 4, &tflag, &tslot)) != 0 || (k = read_int(d, &e->nc)) != 0 ||
			    (k = read_int(d, &e->cc)) != 0 || (k = read_time(d, &e->tt)) != 0 ||
			    (k = read_time(d, &e->ct)) != 0)
				return k;
			if (tflag)
				d->kinds[tslot] = SK_OTHER;
		} else {
			/* the pure-Python profile module's form: a call count */
			if ((k = read_int(d, &e->nc)) != 0)
				return k;
			e->cc = e->nc;
			e->tt = e->ct = 0;
		}
		if (!d->no_callers)
			d->n_edges++;
	}
	if (d->n_edges - start > UINT32_MAX)
		return NOPE;
	if (flag)
		d->kinds[slot] = SK_OTHER;
	return 0;
}

/* One item of the dict: key, then (cc, nc, tt, ct, callers). */
static int read_entry(struct dec *d)
{
	struct pstats *ps = d->ps;
	struct pstats_func *f;
	struct node *nd;
	uint32_t idx, rank;
	int64_t cc, nc;
	double tt, ct;
	bool flag;
	size_t slot = 0, start = d->n_edges, before = ps->n_funcs;
	int k;

	if ((k = read_key(d, &idx)) != 0)
		return k;
	if (d->no_callers) {
		/* the function is its own node: new now, or a repeated key */
		rank = idx;
		if (ps->n_funcs == before)
			d->dup = true;
		goto value;
	}
	nd = &d->nodes[idx];
	if (nd->rank == NO_RANK) {
		/* first met as a key of the dict: it takes its place in the dict's order */
		if (ps->n_funcs == d->cap_funcs &&
		    grow((void **)&ps->funcs, &d->cap_funcs, ps->n_funcs + 1, sizeof(*ps->funcs)) < 0)
			return -ENOMEM;
		rank = nd->rank = (uint32_t)ps->n_funcs++;
		f = &ps->funcs[rank];
		memset(f, 0, sizeof(*f));
		f->file = nd->file;
		f->name = nd->name;
		f->line = nd->line;
	} else {
		/* a repeated key: as in a dict, the last value wins, the place stays */
		rank = nd->rank;
		d->dup = true;
	}
value:
	if ((k = read_tuple(d, 5, &flag, &slot)) != 0 || (k = read_int(d, &cc)) != 0 ||
	    (k = read_int(d, &nc)) != 0 || (k = read_time(d, &tt)) != 0 ||
	    (k = read_time(d, &ct)) != 0 || (k = read_callers(d, rank)) != 0)
		return k;
	if (flag)
		d->kinds[slot] = SK_OTHER;
	f = &ps->funcs[rank];
	f->cc = cc;
	f->nc = nc;
	f->tt = tt;
	f->ct = ct;
	f->first_caller = start;
	f->n_callers = d->n_edges - start;
	return 0;
}

/* Adds the phantoms (functions met only as callers) after the dict's keys, in the order
 * they were met, gives the pending edges their callers' ranks, groups the edges by
 * callee if a repeated key left some unused, and sums the totals. */
static int finish(struct dec *d)
{
	struct pstats *ps = d->ps;
	size_t n_real = ps->n_funcs;
	struct pstats_edge *edges;

	for (size_t i = 0; i < d->n_nodes; i++) {
		struct node *nd = &d->nodes[i];
		struct pstats_func *f;
		if (nd->rank != NO_RANK)
			continue;
		if (ps->n_funcs == d->cap_funcs &&
		    grow((void **)&ps->funcs, &d->cap_funcs, ps->n_funcs + 1, sizeof(*ps->funcs)) < 0)
			return -ENOMEM;
		nd->rank = (uint32_t)ps->n_funcs;
		f = &ps->funcs[ps->n_funcs++];
		memset(f, 0, sizeof(*f));
		f->file = nd->file;
		f->name = nd->name;
		f->line = nd->line;
		f->phantom = true;
	}
	for (size_t i = 0; i < d->n_pending; i++) {
		struct pstats_edge *e = &d->edges[d->pending[i]];
		e->caller = d->nodes[e->caller].rank;
	}
	if (d->dup) {
		/* the edges of a replaced value stay in d->edges: copy the ones that count */
		size_t m = 0;
		edges = bigmem_alloc((d->n_edges + 1) * sizeof(*edges));
		if (!edges)
			return -ENOMEM;
		for (size_t i = 0; i < n_real; i++) {
			struct pstats_func *f = &ps->funcs[i];
			if (f->n_callers)
				memcpy(edges + m, d->edges + f->first_caller, f->n_callers * sizeof(*edges));
			f->first_caller = m;
			m += f->n_callers;
		}
		bigmem_free(d->edges);
		d->edges = edges;
		d->n_edges = m;
	} else if (!d->edges && !(d->edges = bigmem_alloc(sizeof(*d->edges)))) {
		return -ENOMEM;
	}
	/* the values came in the dict's order: the edges are grouped by callee */
	for (size_t i = n_real; i < ps->n_funcs; i++)
		ps->funcs[i].first_caller = d->n_edges;
	ps->n_real = n_real;
	ps->callers = d->edges;
	ps->n_callers = d->n_edges;
	d->edges = NULL;
	for (size_t i = 0; i < n_real; i++) {
		const struct pstats_func *f = &ps->funcs[i];
		if (__builtin_add_overflow(ps->total_calls, f->nc, &ps->total_calls) ||
		    __builtin_add_overflow(ps->prim_calls, f->cc, &ps->prim_calls))
			return NOPE;   /* the generic reader says so */
		ps->total_tt += f->tt;
	}
	return 0;
}

int pstats_parse_direct(const void *buf, size_t len, unsigned flags, struct pstats **ret)
{
	struct dec d = { .base = buf, .p = buf, .end = (const unsigned char *)buf + len,
			 .no_callers = flags & PSTATS_NO_CALLERS };
	bool flag;
	size_t slot = 0, items = 0;
	int k;

	d.ps = calloc(1, sizeof(*d.ps));
	if (!d.ps || !(d.ps->pool = calloc(1, sizeof(*d.ps->pool)))) {
		k = -ENOMEM;
		goto out;
	}
	if ((k = read_dict_start(&d, &flag, &slot)) != 0)
		goto out;
	while (!dict_end(&d)) {
		if ((k = read_entry(&d)) != 0)
			goto out;
		items++;
	}
	if (items > UINT32_MAX) {
		k = NOPE;
		goto out;
	}
	if ((k = finish(&d)) != 0)
		goto out;
	*ret = d.ps;
	d.ps = NULL;
out:
	pstats_free(d.ps);
	bigmem_free(d.refs);
	bigmem_free(d.kinds);
	bigmem_free(d.keys);
	bigmem_free(d.nodes);
	bigmem_free(d.map);
	bigmem_free(d.edges);
	bigmem_free(d.pending);
	bigmem_free(d.conv);
	return k;
}
