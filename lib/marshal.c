/* Python marshal decoder for pstats files (see marshal.h). The layout follows CPython's
 * Python/marshal.c: a type byte whose high bit (FLAG_REF) asks the reader to remember the
 * object for later TYPE_REF back-references; containers are remembered before their
 * items are read, scalars after. Every read is bounds-checked and every error names the
 * offset of the object that is wrong, so a truncated or corrupt profile is one clear
 * line, never a crash. Nesting is bounded (pstats needs a depth of five). */
#include "marshal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define FLAG_REF 0x80
#define MAX_DEPTH 100

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct mreader {
	const unsigned char *buf;
	size_t len, pos;
	struct chunk *chunks;
	struct mval *refs;           /* remembered objects, by index */
	size_t n_refs, cap_refs;
	struct mval *stack;          /* dict pairs under construction */
	size_t n_stack, cap_stack;
	struct mval root;
};

const char *mtype_name(int type)
{
	switch (type) {
	case MV_NONE: return "None";
	case MV_INT: return "int";
	case MV_FLOAT: return "float";
	case MV_STR: return "str";
	case MV_TUPLE: return "tuple";
	case MV_DICT: return "dict";
	default: return "unfinished object";
	}
}

static void *arena_alloc(struct mreader *r, size_t size)
{
	struct chunk *c = r->chunks;
	size_t align = sizeof(max_align_t);

	size = (size + align - 1) / align * align;
	if (!c || c->cap - c->used < size) {
		size_t cap = size > (1u << 20) ? size : (1u << 20);
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = r->chunks;
		r->chunks = c;
	}
	c->used += size;
	return (char *)c->data + c->used - size;
}

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap * 2 : 256;
	while (n < need)
		n *= 2;
	p = realloc(*v, n * elem);
	if (!p)
		return err_set(ENOMEM, "out of memory reading marshal data");
	*v = p;
	*cap = n;
	return 0;
}

static int truncated(const struct mreader *r, size_t at)
{
	return err_set(EBADMSG, "truncated marshal data at offset %zu (object at offset %zu)",
		       r->len, at);
}

static int need(const struct mreader *r, size_t n, size_t at)
{
	if (r->len - r->pos < n)
		return truncated(r, at);
	return 0;
}

static uint32_t rd32(struct mreader *r)
{
	const unsigned char *p = r->buf + r->pos;

	r->pos += 4;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Python's "surrogatepass" UTF-8: well-formed sequences, surrogates allowed. Returns
 * whether s holds one, and whether any surrogate was seen. */
static bool utf8_valid(const unsigned char *s, size_t n, bool *ret_surrogate)
{
	size_t i = 0;
	bool sur = false;

	while (i < n) {
		unsigned c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1; cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2; cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3; cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		if (cp >= 0xd800 && cp <= 0xdfff)
			sur = true;
		i += k + 1;
	}
	*ret_surrogate = sur;
	return true;
}

int marshal_str_utf8(const unsigned char *s, size_t n, bool latin1, unsigned char *out,
		     size_t *ret_len)
{
	bool high = false, sur = false;
	unsigned char *o = out;

	if (latin1) {
		for (size_t i = 0; i < n; i++)
			if (s[i] & 0x80)
				high = true;
		if (!high)
			return 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] < 0x80) {
				*o++ = s[i];
			} else {
				*o++ = (unsigned char)(0xc0 | s[i] >> 6);
				*o++ = (unsigned char)(0x80 | (s[i] & 0x3f));
			}
		}
		*ret_len = (size_t)(o - out);
		return 1;
	}
	if (!utf8_valid(s, n, &sur))
		return -EBADMSG;
	if (!sur)
		return 0;
	for (size_t i = 0; i < n;) {
		if (s[i] == 0xed && i + 2 < n && s[i + 1] >= 0xa0) {
			/* U+FFFD is three bytes, as a surrogate is */
			*o++ = 0xef; *o++ = 0xbf; *o++ = 0xbd;
			i += 3;
		} else {
			*o++ = s[i++];
		}
	}
	*ret_len = (size_t)(o - out);
	return 1;
}

/* Reads a str of n bytes at r->pos (see marshal_str_utf8()). */
static int read_str(struct mreader *r, size_t n, bool latin1, size_t at, struct mval *v)
{
	const unsigned char *s;
	unsigned char *out = NULL;
	size_t outlen = 0;
	int k;

	if (need(r, n, at) < 0)
		return truncated(r, at);
	s = r->buf + r->pos;
	r->pos += n;
	v->type = MV_STR;
	v->off = at;
	/* Only a conversion needs the copy; ASCII is by far the common case. */
	for (size_t i = 0; i < n; i++)
		if (s[i] & 0x80) {
			out = arena_alloc(r, 2 * n + 1);
			if (!out)
				return err_set(ENOMEM, "out of memory reading marshal data");
			break;
		}
	k = out ? marshal_str_utf8(s, n, latin1, out, &outlen) : 0;
	if (k < 0)
		return err_set(EBADMSG, "invalid UTF-8 in string at offset %zu", at);
	v->u.s = k ? (const char *)out : (const char *)s;
	v->len = (uint32_t)(k ? outlen : n);
	return 0;
}

static int read_long(struct mreader *r, size_t at, struct mval *v)
{
	int32_t n;
	uint32_t nd;
	uint64_t acc = 0;
	int shift = 0;

	if (need(r, 4, at) < 0)
		return truncated(r, at);
	n = (int32_t)rd32(r);
	nd = n < 0 ? (uint32_t)-(int64_t)n : (uint32_t)n;
	if (need(r, (size_t)nd * 2, at) < 0)
		return truncated(r, at);
	for (uint32_t i = 0; i < nd; i++) {
		unsigned d = r->buf[r->pos] | r->buf[r->pos + 1] << 8;
		r->pos += 2;
		if (d >= 1u << 15)
			return err_set(EBADMSG, "bad marshal data at offset %zu: digit out of range in long", at);
		if (i == nd - 1 && d == 0)
			return err_set(EBADMSG, "bad marshal data at offset %zu: unnormalized long", at);
		if (d) {
			if (shift >= 64 || (shift > 0 && (uint64_t)d >> (64 - shift)))
				return err_set(ERANGE, "integer at offset %zu does not fit in 64 bits", at);
			acc |= (uint64_t)d << shift;
		}
		shift += 15;
	}
	if (acc > (uint64_t)INT64_MAX)
		return err_set(ERANGE, "integer at offset %zu does not fit in 64 bits", at);
	v->type = MV_INT;
	v->off = at;
	v->u.i = n < 0 ? -(int64_t)acc : (int64_t)acc;
	return 0;
}

static int read_text_float(struct mreader *r, size_t at, struct mval *v)
{
	char tmp[257], *end;
	size_t n;

	if (need(r, 1, at) < 0)
		return truncated(r, at);
	n = r->buf[r->pos++];
	if (need(r, n, at) < 0)
		return truncated(r, at);
	memcpy(tmp, r->buf + r->pos, n);
	tmp[n] = '\0';
	r->pos += n;
	errno = 0;
	v->u.f = strtod(tmp, &end);
	if (n == 0 || *end != '\0' || memchr(tmp, '\0', n))
		return err_set(EBADMSG, "bad marshal data at offset %zu: float '%.40s' is not a number",
			       at, tmp);
	v->type = MV_FLOAT;
	v->off = at;
	return 0;
}

static int read_object(struct mreader *r, struct mval *v, int depth, bool *ret_null);

static int read_tuple(struct mreader *r, size_t n, size_t at, int depth, struct mval *v)
{
	struct mval *items = NULL;
	int k;

	/* each item takes at least one byte: a count beyond the input is corrupt */
	if (n > r->len - r->pos)
		return truncated(r, at);
	if (n > 0) {
		items = arena_alloc(r, n * sizeof(*items));
		if (!items)
			return err_set(ENOMEM, "out of memory reading marshal data");
	}
	for (size_t i = 0; i < n; i++) {
		bool null = false;
		if ((k = read_object(r, &items[i], depth + 1, &null)) < 0)
			return k;
		if (null)
			return err_set(EBADMSG, "bad marshal data at offset %zu: NULL object in tuple", at);
	}
	v->type = MV_TUPLE;
	v->off = at;
	v->len = (uint32_t)n;
	v->u.items = items;
	return 0;
}

static int read_dict(struct mreader *r, size_t at, int depth, struct mval *v)
{
	size_t base = r->n_stack, pairs;
	struct mval *items = NULL;
	int k;

	for (;;) {
		struct mval key, val;
		bool null = false;

		if ((k = read_object(r, &key, depth + 1, &null)) < 0)
			goto out;
		if (null)
			break;
		if ((k = read_object(r, &val, depth + 1, &null)) < 0)
			goto out;
		if (null)   /* as CPython: a NULL value ends the dict, the key is dropped */
			break;
		if ((k = grow((void **)&r->stack, &r->cap_stack, r->n_stack + 2, sizeof(*r->stack))) < 0)
			goto out;
		r->stack[r->n_stack++] = key;
		r->stack[r->n_stack++] = val;
	}
	pairs = (r->n_stack - base) / 2;
	if (pairs > UINT32_MAX) {
		k = err_set(E2BIG, "dict at offset %zu is too large", at);
		goto out;
	}
	if (pairs > 0) {
		items = arena_alloc(r, 2 * pairs * sizeof(*items));
		if (!items) {
			k = err_set(ENOMEM, "out of memory reading marshal data");
			goto out;
		}
		memcpy(items, r->stack + base, 2 * pairs * sizeof(*items));
	}
	v->type = MV_DICT;
	v->off = at;
	v->len = (uint32_t)pairs;
	v->u.items = items;
	k = 0;
out:
	r->n_stack = base;
	return k;
}

/* Reads one object into *v. A TYPE_NULL (the end of a dict) sets *ret_null instead. */
static int read_object(struct mreader *r, struct mval *v, int depth, bool *ret_null)
{
	size_t at = r->pos, slot = SIZE_MAX;
	unsigned code, type;
	bool flag;
	int k;

	if (depth > MAX_DEPTH)
		return err_set(EBADMSG, "marshal data nested too deeply at offset %zu", at);
	if (r->pos >= r->len)
		return err_set(EBADMSG, "truncated marshal data at offset %zu: object expected", at);
	code = r->buf[r->pos++];
	flag = code & FLAG_REF;
	type = code & ~FLAG_REF;
	memset(v, 0, sizeof(*v));
	if (flag && type != 'r') {
		/* Reserve the slot now: containers are numbered before their items. */
		if ((k = grow((void **)&r->refs, &r->cap_refs, r->n_refs + 1, sizeof(*r->refs))) < 0)
			return k;
		slot = r->n_refs++;
		memset(&r->refs[slot], 0, sizeof(r->refs[slot]));
		r->refs[slot].off = at;
	}

	switch (type) {
	case '0':
		if (flag)
			return err_set(EBADMSG, "bad marshal data at offset %zu: NULL with a reference flag", at);
		*ret_null = true;
		return 0;
	case 'N':
		v->type = MV_NONE;
		v->off = at;
		break;
	case 'i':
		if (need(r, 4, at) < 0)
			return truncated(r, at);
		v->type = MV_INT;
		v->off = at;
		v->u.i = (int32_t)rd32(r);
		break;
	case 'l':
		if ((k = read_long(r, at, v)) < 0)
			return k;
		break;
	case 'g': {
		uint64_t bits = 0;
		if (need(r, 8, at) < 0)
			return truncated(r, at);
		for (int i = 7; i >= 0; i--)
			bits = bits << 8 | r->buf[r->pos + i];
		r->pos += 8;
		v->type = MV_FLOAT;
		v->off = at;
		memcpy(&v->u.f, &bits, sizeof(bits));
		break;
	}
	case 'f':
		if ((k = read_text_float(r, at, v)) < 0)
			return k;
		break;
	case 'a': case 'A': case 'u': case 't': {
		uint32_t n;
		if (need(r, 4, at) < 0)
			return truncated(r, at);
		n = rd32(r);
		if (n > INT32_MAX)
			return err_set(EBADMSG, "bad marshal data at offset %zu: negative string size", at);
		if ((k = read_str(r, n, type == 'a' || type == 'A', at, v)) < 0)
			return k;
		break;
	}
	case 'z': case 'Z': {
		size_t n;
		if (need(r, 1, at) < 0)
			return truncated(r, at);
		n = r->buf[r->pos++];
		if ((k = read_str(r, n, true, at, v)) < 0)
			return k;
		break;
	}
	case '(': {
		uint32_t n;
		if (need(r, 4, at) < 0)
			return truncated(r, at);
		n = rd32(r);
		if (n > INT32_MAX)
			return err_set(EBADMSG, "bad marshal data at offset %zu: negative tuple size", at);
		if ((k = read_tuple(r, n, at, depth, v)) < 0)
			return k;
		break;
	}
	case ')': {
		size_t n;
		if (need(r, 1, at) < 0)
			return truncated(r, at);
		n = r->buf[r->pos++];
		if ((k = read_tuple(r, n, at, depth, v)) < 0)
			return k;
		break;
	}
	case '{':
		if ((k = read_dict(r, at, depth, v)) < 0)
			return k;
		break;
	case 'r': {
		uint32_t n;
		if (need(r, 4, at) < 0)
			return truncated(r, at);
		n = rd32(r);
		if (n >= r->n_refs)
			return err_set(EBADMSG, "bad marshal data at offset %zu: invalid reference %u",
				       at, n);
		if (r->refs[n].type == MV_UNSET)
			return err_set(EBADMSG, "bad marshal data at offset %zu: reference %u to an object "
				       "still being read", at, n);
		*v = r->refs[n];
		return 0;
	}
	default:
		if (type >= 0x20 && type < 0x7f)
			return err_set(EBADMSG, "unsupported marshal type '%c' at offset %zu "
				       "(not written by cProfile)", (char)type, at);
		return err_set(EBADMSG, "bad marshal data at offset %zu: unknown type code 0x%02x",
			       at, code);
	}
	if (slot != SIZE_MAX)
		r->refs[slot] = *v;
	return 0;
}

void marshal_free(struct mreader *r)
{
	struct chunk *c, *n;

	if (!r)
		return;
	for (c = r->chunks; c; c = n) {
		n = c->next;
		free(c);
	}
	free(r->refs);
	free(r->stack);
	free(r);
}

int marshal_parse(const void *buf, size_t len, struct mreader **ret_reader,
		  const struct mval **ret_root)
{
	struct mreader *r;
	bool null = false;
	int k;

	r = calloc(1, sizeof(*r));
	if (!r)
		return err_set(ENOMEM, "out of memory reading marshal data");
	r->buf = buf;
	r->len = len;
	if (len == 0) {
		k = err_set(EBADMSG, "empty file: no marshal data");
		goto out;
	}
	if ((k = read_object(r, &r->root, 0, &null)) < 0)
		goto out;
	if (null) {
		k = err_set(EBADMSG, "bad marshal data at offset 0: NULL object");
		goto out;
	}
	/* Like marshal.load() on a file, bytes after the object are not read. */
	free(r->refs);
	r->refs = NULL;
	free(r->stack);
	r->stack = NULL;
	*ret_root = &r->root;
	*ret_reader = r;
	return 0;
out:
	marshal_free(r);
	return k;
}
