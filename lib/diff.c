/* Comparing two runs (diff.h). Each side becomes a list of (normalised key, value)
 * entries in a hash table; equal keys on one side are summed (two folders that
 * normalise alike), then the sides are joined on the key, then the fallbacks of diff.h
 * pair what is left, looking candidates up by their group rather than trying pairs.
 * Each file name is normalised once, not once per function. */
#include "diff.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "error.h"

int diff_metric_parse(const char *s, enum diff_metric *ret)
{
	if (!strcmp(s, "cumtime") || !strcmp(s, "cumulative"))
		*ret = METRIC_CUMTIME;
	else if (!strcmp(s, "tottime"))
		*ret = METRIC_TOTTIME;
	else if (!strcmp(s, "calls") || !strcmp(s, "ncalls"))
		*ret = METRIC_CALLS;
	else if (!strcmp(s, "peak-memory"))
		*ret = METRIC_PEAK_MEMORY;
	else
		return err_set(EINVAL, "unknown metric '%s' (cumtime, tottime, calls or peak-memory)", s);
	return 0;
}

const char *diff_metric_name(enum diff_metric m)
{
	static const char *const names[] = { "cumtime", "tottime", "calls", "peak-memory" };
	return names[m];
}

static int parse_scaled(const char *s, const char *const *units, const double *scale,
			double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (size_t i = 0; units[i]; i++)
		if (!strcmp(end, units[i])) {
			*ret = v * scale[i];
			return 0;
		}
	return -EINVAL;
}

int diff_threshold_parse(const char *s, double *ret)
{
	static const char *const u[] = { "%", "", NULL };
	static const double k[] = { 0.01, 0.01 };

	if (parse_scaled(s, u, k, ret) < 0)
		return err_set(EINVAL, "threshold '%s' is not a percentage such as 10%%", s);
	return 0;
}

int diff_time_parse(const char *s, double *ret)
{
	static const char *const u[] = { "s", "ms", "us", "ns", "", NULL };
	static const double k[] = { 1, 1e-3, 1e-6, 1e-9, 1 };

	if (parse_scaled(s, u, k, ret) < 0)
		return err_set(EINVAL, "time '%s' is not a duration such as 5ms, 0.5s or 250us", s);
	return 0;
}

int diff_bytes_parse(const char *s, double *ret)
{
	static const char *const u[] = { "", "B", "K", "KiB", "M", "MiB", "G", "GiB", NULL };
	static const double k[] = { 1, 1, 1024, 1024, 1048576, 1048576, 1073741824, 1073741824 };

	if (parse_scaled(s, u, k, ret) < 0)
		return err_set(EINVAL, "size '%s' is not a size such as 1M, 512K or 100", s);
	return 0;
}

/* ---- normalising ---- */

static const char *after_last(const char *s, const char *needle)
{
	const char *p = NULL, *q = s;
	size_t n = strlen(needle);

	while ((q = strstr(q, needle))) {
		p = q + n;
		q += n;
	}
	return p;
}

/* "/usr/lib/python3.11/json/decoder.py" -> "json/decoder.py" */
static const char *after_stdlib(const char *s)
{
	const char *p = NULL, *q = s;

	while ((q = strstr(q, "/lib/python"))) {
		const char *r = q + strlen("/lib/python");
		while ((*r >= '0' && *r <= '9') || *r == '.')
			r++;
		if (*r == 't')   /* free-threaded builds: lib/python3.14t/ */
			r++;
		if (*r == '/')
			p = r + 1;
		q = r;
	}
	return p;
}

static bool root_applies(const char *file)
{
	return file[0] == '/' && !after_last(file, "site-packages/") &&
	       !after_last(file, "dist-packages/") && !after_stdlib(file);
}

void diff_normalise(const char *file, const char *root, char *buf, size_t size)
{
	const char *p;
	size_t rl = root ? strlen(root) : 0;

	if ((p = after_last(file, "site-packages/")) || (p = after_last(file, "dist-packages/")) ||
	    (p = after_stdlib(file)))
		snprintf(buf, size, "%s", p);
	else if (file[0] == '/' && rl && !strncmp(file, root, rl) && file[rl] == '/')
		snprintf(buf, size, "%s", file + rl + 1);
	else
		snprintf(buf, size, "%s", file);
}

/* The longest folder shared by every absolute path the other rules leave: fed one path
 * at a time, in the profile's order. */
struct root_acc {
	char *root;
	size_t size, len;
	bool any;
};

static void root_init(struct root_acc *a, char *root, size_t size)
{
	*a = (struct root_acc){ .root = root, .size = size };
	root[0] = '\0';
}

/* f is a path root_applies() to, flen its length. */
static void root_add(struct root_acc *a, const char *f, size_t flen)
{
	size_t j = 0;

	if (!a->any) {
		const char *slash = strrchr(f, '/');
		a->len = (size_t)(slash - f);
		if (a->len >= a->size)
			a->len = a->size - 1;
		memcpy(a->root, f, a->len);
		a->root[a->len] = '\0';
		a->any = true;
		return;
	}
	/* the usual case: f is inside the root as it stands */
	if (flen >= a->len && !memcmp(f, a->root, a->len) && (f[a->len] == '/' || f[a->len] == '\0'))
		return;
	while (j < a->len && f[j] == a->root[j])
		j++;
	if (j < a->len || (f[j] != '/' && f[j] != '\0')) {
		/* cut back to a folder boundary */
		while (j > 0 && a->root[j] != '/')
			j--;
		a->len = j;
		a->root[a->len] = '\0';
	}
}

static void common_root(const char *const *files, size_t n, char *root, size_t size)
{
	struct root_acc a;

	root_init(&a, root, size);
	for (size_t i = 0; i < n; i++)
		if (root_applies(files[i]))
			root_add(&a, files[i], strlen(files[i]));
}

/* ---- entries ---- */

/* The strings of one comparison -- keys, normalised files -- in large chunks; the rows'
 * keys stay in it, so the result owns it. */
struct diff_strings {
	struct str_chunk *chunks;
};

struct str_chunk {
	struct str_chunk *next;
	size_t used, cap;
	char data[];
};

static void strings_free(struct diff_strings *a)
{
	struct str_chunk *c, *n;

	if (!a)
		return;
	for (c = a->chunks; c; c = n) {
		n = c->next;
		bigmem_free(c);
	}
	free(a);
}

/* A NUL-terminated copy of s[0..n). */
static char *strings_put(struct diff_strings *a, const char *s, size_t n)
{
	struct str_chunk *c = a->chunks;
	char *d;

	if (!c || c->cap - c->used < n + 1) {
		size_t cap = c ? (c->cap < ((size_t)4 << 20) ? c->cap * 2 : c->cap) : 65536;
		if (cap < n + 1)
			cap = n + 1;
		c = bigmem_alloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = a->chunks;
		a->chunks = c;
	}
	d = c->data + c->used;
	memcpy(d, s, n);
	d[n] = '\0';
	c->used += n + 1;
	return d;
}

/* What a profile's file names become: whether the checkout root applies to each, and
 * its normalised form. A profile names few files many times, and its pool keeps one
 * copy of each (pstats.h), so they are told apart by pointer. */
struct file_info {
	const char *file;
	size_t len;
	const char *norm;
	size_t norm_len;
	bool applies;
};

struct files {
	struct file_info *v;
	size_t cap, n;
};

static size_t file_slot(const struct file_info *v, size_t cap, const char *file)
{
	uint64_t h = (uint64_t)(uintptr_t)file * 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = (h >> 32) & (cap - 1); v[i].file && v[i].file != file; i = (i + 1) & (cap - 1))
		;
	return i;
}

/* file's record, added if new (then NULL when out of memory). */
static struct file_info *file_info(struct files *fs, const char *file)
{
	size_t i;

	if (fs->cap) {
		i = file_slot(fs->v, fs->cap, file);
		if (fs->v[i].file)
			return &fs->v[i];
	}
	if ((fs->n + 1) * 2 > fs->cap) {
		size_t cap = fs->cap ? fs->cap * 2 : 256;
		struct file_info *v = calloc(cap, sizeof(*v));
		if (!v)
			return NULL;
		for (size_t j = 0; j < fs->cap; j++)
			if (fs->v[j].file)
				v[file_slot(v, cap, fs->v[j].file)] = fs->v[j];
		free(fs->v);
		fs->v = v;
		fs->cap = cap;
	}
	i = file_slot(fs->v, fs->cap, file);
	fs->v[i] = (struct file_info){ .file = file, .len = strlen(file), .applies = root_applies(file) };
	fs->n++;
	return &fs->v[i];
}

/* Where a location of memory data came from: its parts. */
struct origin {
	const char *file;    /* normalised */
	const char *name;
	int64_t line;
};

/* One side: where its keys came from -- the functions of a cProfile profile, or the
 * locations of memory data -- and its total. */
struct side {
	int which;           /* 0: base, 1: new */
	const struct pstats *ps;
	struct files *fs;    /* ps's files, normalised */
	struct origin *orig; /* memory data's locations */
	size_t n_orig, cap_orig;
	size_t hint;         /* the record the next key is likely to have */
	bool guessed;        /* the last key had it */
	double total;
};

/* Every key of both sides, in one hash table. A key's record holds each side's value
 * (equal keys on one side summed: two folders that normalise alike are one function)
 * and where it first came from on that side, so that building the second side is the
 * join, and an entry needs no memory of its own. */
struct key_rec {
	const char *key;
	uint32_t len;
	uint32_t src[2];     /* on each side: the function's index, or the origin's */
	double value[2];
	uint8_t in;          /* bit s: side s has the key */
	uint8_t matched;     /* bit s: a fallback paired side s's entry */
};

struct keys {
	uint64_t *map;       /* hash << 32 | record + 1; 0 is empty */
	size_t cap_map;
	struct key_rec *r;
	size_t n, cap;
};

/* One side's entry: a record seen from that side. */
struct entry {
	struct key_rec *r;
	struct side *s;
};

static const char *ent_file(const struct entry *e)
{
	uint32_t src = e->r->src[e->s->which];

	if (e->s->ps)
		return file_info(e->s->fs, e->s->ps->funcs[src].file)->norm;
	return e->s->orig[src].file;
}

static const char *ent_name(const struct entry *e)
{
	uint32_t src = e->r->src[e->s->which];

	return e->s->ps ? e->s->ps->funcs[src].name : e->s->orig[src].name;
}

static int64_t ent_line(const struct entry *e)
{
	uint32_t src = e->r->src[e->s->which];

	return e->s->ps ? e->s->ps->funcs[src].line : e->s->orig[src].line;
}

static bool ent_matched(const struct entry *e)
{
	return e->r->matched & (1u << e->s->which);
}

static void ent_match(const struct entry *e)
{
	e->r->matched |= (uint8_t)(1u << e->s->which);
}

static uint32_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return (uint32_t)(h ^ h >> 32);
}

static int keys_grow(struct keys *ks)
{
	size_t cap = ks->cap_map ? ks->cap_map * 2 : 1024;
	uint64_t *map = bigmem_calloc(cap, sizeof(*map));

	if (!map)
		return err_set(ENOMEM, "out of memory");
	for (size_t j = 0; j < ks->cap_map; j++) {
		size_t i;
		if (!ks->map[j])
			continue;
		for (i = (ks->map[j] >> 32) & (cap - 1); map[i]; i = (i + 1) & (cap - 1))
			;
		map[i] = ks->map[j];
	}
	bigmem_free(ks->map);
	ks->map = map;
	ks->cap_map = cap;
	return 0;
}

/* The record of key (hash_bytes() of it: hash), a new one if needed (its key copied
 * into strs). *hint is the record the caller expects, and becomes the one after the
 * record found; *ret_guessed tells whether the hint was right. */
static int keys_get(struct keys *ks, struct diff_strings *strs, const char *key, size_t len,
		    uint32_t hash, size_t *hint, bool *ret_guessed, struct key_rec **ret)
{
	size_t mask, i;
	struct key_rec *r;

	if (len > UINT32_MAX || ks->n >= UINT32_MAX - 1)
		return err_set(E2BIG, "too many functions to compare");
	/* two runs of one program list their functions in much the same order: the record
	 * after the one the last key found is worth a look before the table */
	*ret_guessed = *hint < ks->n && ks->r[*hint].len == len && !memcmp(ks->r[*hint].key, key, len);
	if (*ret_guessed) {
		*ret = &ks->r[(*hint)++];
		return 0;
	}
	if ((ks->n + 1) * 4 > ks->cap_map * 3 && keys_grow(ks) < 0)
		return -ENOMEM;
	mask = ks->cap_map - 1;
	for (i = hash & mask; ks->map[i]; i = (i + 1) & mask) {
		if ((uint32_t)(ks->map[i] >> 32) != hash)
			continue;
		r = &ks->r[(uint32_t)ks->map[i] - 1];
		if (r->len == len && !memcmp(r->key, key, len)) {
			*hint = (uint32_t)ks->map[i];
			*ret = r;
			return 0;
		}
	}
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 256;
		struct key_rec *p = bigmem_realloc(ks->r, cap * sizeof(*p));
		if (!p)
			return err_set(ENOMEM, "out of memory");
		ks->r = p;
		ks->cap = cap;
	}
	r = &ks->r[ks->n];
	*r = (struct key_rec){ .len = (uint32_t)len };
	r->key = strings_put(strs, key, len);
	if (!r->key)
		return err_set(ENOMEM, "out of memory");
	ks->map[i] = (uint64_t)hash << 32 | (uint32_t)++ks->n;
	*hint = ks->n;
	*ret = r;
	return 0;
}

static void keys_free(struct keys *ks)
{
	bigmem_free(ks->map);
	bigmem_free(ks->r);
}

/* Adds value under key (hash_bytes() of it: hash) on side s; src is where it comes
 * from. */
static int side_add(struct side *s, struct keys *ks, struct diff_strings *strs,
		    const char *key, size_t len, uint32_t hash, size_t src, double value)
{
	struct key_rec *r = NULL;
	unsigned bit = 1u << s->which;
	int k;

	if (src > UINT32_MAX)
		return err_set(E2BIG, "too many functions to compare");
	if ((k = keys_get(ks, strs, key, len, hash, &s->hint, &s->guessed, &r)) < 0)
		return k;
	if (!r)
		return -EINVAL;   /* keys_get() gives a record whenever it succeeds */
	if (r->in & bit) {
		r->value[s->which] += value;
		return 0;
	}
	r->in |= (uint8_t)bit;
	r->value[s->which] = value;
	r->src[s->which] = (uint32_t)src;
	return 0;
}

/* Where the next location of memory data comes from. */
static int side_origin(struct side *s, const char *file, const char *name, int64_t line,
		       size_t *ret)
{
	if (s->n_orig == s->cap_orig) {
		size_t cap = s->cap_orig ? s->cap_orig * 2 : 64;
		struct origin *p = realloc(s->orig, cap * sizeof(*p));
		if (!p)
			return err_set(ENOMEM, "out of memory");
		s->orig = p;
		s->cap_orig = cap;
	}
	s->orig[s->n_orig] = (struct origin){ .file = file, .name = name, .line = line };
	*ret = s->n_orig++;
	return 0;
}

/* A string s[0..n) appended to buf of size cap as snprintf() would: cut at cap - 1. */
static size_t put(char *buf, size_t cap, size_t len, const char *s, size_t n)
{
	if (len + 1 >= cap)
		return len;
	if (n > cap - 1 - len)
		n = cap - 1 - len;
	memcpy(buf + len, s, n);
	return len + n;
}

/* pstats_label() of (file, line, name) in buf (NUL-terminated, cut as snprintf() cuts);
 * returns its length. */
static size_t make_label(char *buf, size_t cap, const char *file, size_t flen, int64_t line,
			 const char *name)
{
	size_t n = strlen(name), len = 0;
	char num[24], *p = num + sizeof(num);
	uint64_t v = line < 0 ? -(uint64_t)line : (uint64_t)line;

	if (flen == 1 && file[0] == '~' && line == 0) {
		if (n >= 2 && name[0] == '<' && name[n - 1] == '>') {
			len = put(buf, cap, len, "{", 1);
			len = put(buf, cap, len, name + 1, n - 2);
			len = put(buf, cap, len, "}", 1);
		} else {
			len = put(buf, cap, len, name, n);
		}
		buf[len] = '\0';
		return len;
	}
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	if (line < 0)
		*--p = '-';
	len = put(buf, cap, len, file, flen);
	len = put(buf, cap, len, ":", 1);
	len = put(buf, cap, len, p, (size_t)(num + sizeof(num) - p));
	len = put(buf, cap, len, "(", 1);
	len = put(buf, cap, len, name, n);
	len = put(buf, cap, len, ")", 1);
	buf[len] = '\0';
	return len;
}

static int root_of_pstats(const struct pstats *ps, struct files *fs, char *root, size_t size)
{
	struct root_acc a;
	const char *last = NULL;
	struct file_info *fi = NULL;

	root_init(&a, root, size);
	for (size_t i = 0; i < ps->n_real; i++) {
		const char *f = ps->funcs[i].file;
		if (f != last) {
			fi = file_info(fs, f);
			if (!fi)
				return err_set(ENOMEM, "out of memory");
			last = f;
		}
		if (fi->applies)
			root_add(&a, f, fi->len);
	}
	return 0;
}

/* Labels made ahead of their turn, so that the key table's slot for each can be
 * fetched while the labels before it are added: the table is too large for the
 * cache, and a label's slot is anywhere in it. */
#define AHEAD 8

struct label {
	char buf[8192];
	size_t len;
	uint32_t hash;
};

static int side_from_pstats(struct side *s, struct keys *ks, struct diff_strings *strs,
			    enum diff_metric m, const char *root)
{
	const struct pstats *ps = s->ps;
	struct files *fs = s->fs;
	char file[4096];
	const char *last = NULL;
	struct file_info *fi = NULL;
	struct label *ring;
	int k = 0;

	/* each file normalised once */
	for (size_t j = 0; j < fs->cap; j++) {
		struct file_info *f = &fs->v[j];
		if (!f->file)
			continue;
		diff_normalise(f->file, root, file, sizeof(file));
		f->norm_len = strlen(file);
		f->norm = strings_put(strs, file, f->norm_len);
		if (!f->norm)
			return err_set(ENOMEM, "out of memory");
	}
	ring = malloc(AHEAD * sizeof(*ring));
	if (!ring)
		return err_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < ps->n_real + AHEAD && k >= 0; i++) {
		if (i >= AHEAD) {
			/* the label made AHEAD turns ago: its turn */
			const struct label *l = &ring[(i - AHEAD) % AHEAD];
			const struct pstats_func *f = &ps->funcs[i - AHEAD];
			double v = m == METRIC_TOTTIME ? f->tt : m == METRIC_CALLS ? (double)f->nc : f->ct;
			k = side_add(s, ks, strs, l->buf, l->len, l->hash, i - AHEAD, v);
		}
		if (i < ps->n_real && k >= 0) {
			const struct pstats_func *f = &ps->funcs[i];
			struct label *l = &ring[i % AHEAD];
			if (f->file != last) {
				fi = file_info(fs, f->file);
				if (!fi) {
					k = err_set(ENOMEM, "out of memory");
					break;
				}
				last = f->file;
			}
			l->len = make_label(l->buf, sizeof(l->buf), fi->norm, fi->norm_len, f->line, f->name);
			l->hash = hash_bytes(l->buf, l->len);
			/* the second side finds most keys by guessing (keys_get()) */
			if (ks->cap_map && (s->which == 0 || !s->guessed))
				__builtin_prefetch(&ks->map[l->hash & (ks->cap_map - 1)]);
		}
	}
	free(ring);
	s->total = m == METRIC_CALLS ? (double)ps->total_calls : ps->total_tt;
	return k;
}

/* Two checkouts' roots as found may differ in depth as well as place: a run that only
 * touched sdcm/ has .../sct/sdcm as its root. The folders both roots end with belong to
 * the project, not to the checkout: keep them. Equal roots are the same checkout. */
static void adjust_roots(char *a, char *b)
{
	size_t la = strlen(a), lb = strlen(b), cut_a = la, cut_b = lb;

	if (!strcmp(a, b))
		return;
	while (la && lb && a[la - 1] == b[lb - 1]) {
		la--;
		lb--;
		if (a[la] == '/' && b[lb] == '/') {
			cut_a = la;
			cut_b = lb;
		}
	}
	a[cut_a] = '\0';
	b[cut_b] = '\0';
}

/* memray's "function:file:line", scalene's "file:line function" */
static int side_add_location(struct side *s, struct keys *ks, struct diff_strings *strs,
			     const char *loc, bool memray, const char *root, double value)
{
	char file[4096], buf[4096], key[8192], name[1024] = "";
	const char *c1, *c2, *f, *nm;
	long long line = 0;
	size_t src;
	int k;

	if (memray) {
		c1 = strchr(loc, ':');
		c2 = strrchr(loc, ':');
		if (!c1 || c1 == c2)
			goto whole;
		snprintf(name, sizeof(name), "%.*s", (int)(c1 - loc), loc);
		snprintf(buf, sizeof(buf), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
		line = atoll(c2 + 1);
		diff_normalise(buf, root, file, sizeof(file));
		snprintf(key, sizeof(key), "%s:%s:%lld", name, file, line);
	} else {
		const char *sp = strchr(loc, ' ');
		c2 = sp ? sp : loc + strlen(loc);
		for (c1 = c2; c1 > loc && c1[-1] != ':'; c1--)
			;
		if (c1 == loc)
			goto whole;
		snprintf(buf, sizeof(buf), "%.*s", (int)(c1 - loc - 1), loc);
		line = atoll(c1);
		snprintf(name, sizeof(name), "%s", sp ? sp + 1 : "");
		diff_normalise(buf, root, file, sizeof(file));
		snprintf(key, sizeof(key), "%s:%lld %s", file, line, name);
	}
	f = strings_put(strs, file, strlen(file));
	nm = strings_put(strs, name, strlen(name));
	if (!f || !nm)
		return err_set(ENOMEM, "out of memory");
	if ((k = side_origin(s, f, nm, line, &src)) < 0)
		return k;
	return side_add(s, ks, strs, key, strlen(key), hash_bytes(key, strlen(key)), src, value);
whole:
	/* no parts: the location is its own key, file and name */
	if ((k = side_origin(s, loc, loc, 0, &src)) < 0)
		return k;
	return side_add(s, ks, strs, loc, strlen(loc), hash_bytes(loc, strlen(loc)), src, value);
}

static void root_of_memory(const struct profile *p, char *root, size_t size)
{
	const char *files[256];
	static char store[256][1024];
	size_t nf = 0;

	if (p->type == PROF_MEMRAY) {
		const struct memray_stats *m = p->memray;
		for (size_t i = 0; i < m->n_by_size && nf < 256; i++) {
			const char *c1 = strchr(m->by_size[i].location, ':');
			const char *c2 = strrchr(m->by_size[i].location, ':');
			if (c1 && c2 > c1) {
				snprintf(store[nf], sizeof(store[nf]), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
				files[nf] = store[nf];
				nf++;
			}
		}
	} else {
		const struct scalene_profile *sc = p->scalene;
		for (size_t i = 0; i < sc->n && nf < 256; i++) {
			const char *loc = sc->rows[i].location, *sp = strchr(loc, ' ');
			const char *c = sp ? sp : loc + strlen(loc);
			while (c > loc && c[-1] != ':')
				c--;
			if (c > loc) {
				snprintf(store[nf], sizeof(store[nf]), "%.*s", (int)(c - loc - 1), loc);
				files[nf] = store[nf];
				nf++;
			}
		}
	}
	common_root(files, nf, root, size);
}

static int side_from_memory(struct side *s, struct keys *ks, struct diff_strings *strs,
			    const struct profile *p, const char *root)
{
	int k = 0;

	if (p->type == PROF_MEMRAY) {
		const struct memray_stats *m = p->memray;
		for (size_t i = 0; i < m->n_by_size && k >= 0; i++)
			k = side_add_location(s, ks, strs, m->by_size[i].location, true, root,
					      (double)m->by_size[i].value);
		s->total = m->peak_memory >= 0 ? (double)m->peak_memory : 0;
	} else {
		const struct scalene_profile *sc = p->scalene;
		for (size_t i = 0; i < sc->n && k >= 0; i++)
			k = side_add_location(s, ks, strs, sc->rows[i].location, false, root,
					      sc->rows[i].peak_mb * 1048576.0);
		s->total = sc->max_footprint_mb >= 0 ? sc->max_footprint_mb * 1048576.0 : 0;
	}
	return k;
}

/* ---- matching ---- */

struct rows {
	struct diff_row *v;
	size_t n, cap;
};

static int row_add(struct rows *rows, const struct key_rec *b, const struct key_rec *n)
{
	struct diff_row *row;

	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 256;
		struct diff_row *p = bigmem_realloc(rows->v, cap * sizeof(*p));
		if (!p)
			return err_set(ENOMEM, "out of memory");
		rows->v = p;
		rows->cap = cap;
	}
	row = &rows->v[rows->n];
	memset(row, 0, sizeof(*row));
	row->key = (char *)(n ? n->key : b->key);
	row->in_base = b != NULL;
	row->in_new = n != NULL;
	row->base = b ? b->value[0] : 0;
	row->new = n ? n->value[1] : 0;
	rows->n++;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Path components two files share at their ends. */
static size_t common_suffix(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = 0;

	while (la && lb && a[la - 1] == b[lb - 1]) {
		la--;
		lb--;
		if (a[la] == '/')
			n++;
	}
	if ((la == 0 || a[la - 1] == '/') && (lb == 0 || b[lb - 1] == '/'))
		n++;
	return n;
}

static int cmp_entry_key(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->r->key, ((const struct entry *)b)->r->key);
}

/* Side s's entries that no other side's has the key of, in key order: the fallbacks go
 * through them in that order, so that which pairs they make does not depend on the
 * profiles' order. */
static int unmatched(const struct keys *ks, struct side *s, struct entry **ret, size_t *ret_n)
{
	struct entry *v;
	unsigned only = 1u << s->which;
	size_t n = 0;

	for (size_t i = 0; i < ks->n; i++)
		n += ks->r[i].in == only;
	v = malloc((n + 1) * sizeof(*v));
	if (!v)
		return err_set(ENOMEM, "out of memory");
	n = 0;
	for (size_t i = 0; i < ks->n; i++)
		if (ks->r[i].in == only)
			v[n++] = (struct entry){ .r = &ks->r[i], .s = s };
	qsort(v, n, sizeof(*v), cmp_entry_key);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The groups the fallbacks look entries up in: step 2's (line, name, file's base name)
 * and step 3's (name, file). Each group chains its base entries in key order. */
struct group {
	const struct entry *first;  /* an entry of the group: its key */
	size_t head, tail;          /* into next[], + 1; 0: none */
	size_t n_base, n_new;       /* step 3: unmatched entries on each side */
	const struct entry *cand;   /* step 3: the base entry, when there is one */
};

struct groups {
	struct group *g;
	size_t cap;
	bool by_line;               /* step 2 */
};

static uint32_t group_hash(const struct groups *gs, const struct entry *e)
{
	const char *name = ent_name(e), *f = gs->by_line ? base_name(ent_file(e)) : ent_file(e);
	uint32_t h = hash_bytes(name, strlen(name)) * 0x9e3779b1u;

	h ^= hash_bytes(f, strlen(f));
	if (gs->by_line)
		h ^= (uint32_t)((uint64_t)ent_line(e) * 0x9e3779b97f4a7c15ULL >> 32);
	return h;
}

static bool group_eq(const struct groups *gs, const struct entry *a, const struct entry *b)
{
	if (gs->by_line)
		return ent_line(a) == ent_line(b) && !strcmp(ent_name(a), ent_name(b)) &&
		       !strcmp(base_name(ent_file(a)), base_name(ent_file(b)));
	return !strcmp(ent_name(a), ent_name(b)) && !strcmp(ent_file(a), ent_file(b));
}

static int groups_init(struct groups *gs, size_t n, bool by_line)
{
	gs->cap = 16;
	while (gs->cap < 2 * n + 2)
		gs->cap *= 2;
	gs->g = calloc(gs->cap, sizeof(*gs->g));
	gs->by_line = by_line;
	return gs->g ? 0 : err_set(ENOMEM, "out of memory");
}

static struct group *group_of(struct groups *gs, const struct entry *e, bool add)
{
	size_t mask = gs->cap - 1, i;

	for (i = group_hash(gs, e) & mask; gs->g[i].first; i = (i + 1) & mask)
		if (group_eq(gs, gs->g[i].first, e))
			return &gs->g[i];
	if (!add)
		return NULL;
	gs->g[i].first = e;
	return &gs->g[i];
}

/* 2: same name, line and file name; the longest common path ending. For each new entry
 * in key order, the unmatched base entries of its group in key order; the first of the
 * longest ending wins. */
static int match_moved_folder(const struct entry *ub, size_t nub, const struct entry *un,
			      size_t nun, struct rows *rows)
{
	struct groups gs;
	size_t *next;
	int k = 0;

	if ((k = groups_init(&gs, nub, true)) < 0)
		return k;
	next = calloc(nub + 1, sizeof(*next));
	if (!next) {
		free(gs.g);
		return err_set(ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < nub; i++) {
		struct group *g = group_of(&gs, &ub[i], true);
		if (g->tail)
			next[g->tail - 1] = i + 1;
		else
			g->head = i + 1;
		g->tail = i + 1;
	}
	for (size_t j = 0; j < nun && k >= 0; j++) {
		const struct entry *ne = &un[j], *best = NULL;
		const struct group *g = group_of(&gs, ne, false);
		const char *nf;
		size_t best_len = 0;
		if (!g)
			continue;
		nf = ent_file(ne);
		for (size_t i = g->head; i; i = next[i - 1]) {
			const struct entry *be = &ub[i - 1];
			size_t l;
			if (ent_matched(be))
				continue;
			l = common_suffix(ent_file(be), nf);
			if (l > best_len) {
				best = be;
				best_len = l;
			}
		}
		if (best) {
			ent_match(best);
			ent_match(ne);
			k = row_add(rows, best->r, ne->r);
		}
	}
	free(next);
	free(gs.g);
	return k;
}

/* 3: one function of that name in that file on each side: its line moved. A pair made
 * here leaves its group empty, so the counts taken before the first pair hold for every
 * group still unpaired. */
static int match_moved_line(const struct entry *ub, size_t nub, const struct entry *un,
			    size_t nun, struct rows *rows)
{
	struct groups gs;
	int k = 0;

	if ((k = groups_init(&gs, nub + nun, false)) < 0)
		return k;
	for (size_t i = 0; i < nub; i++) {
		struct group *g;
		if (ent_matched(&ub[i]))
			continue;
		g = group_of(&gs, &ub[i], true);
		g->n_base++;
		g->cand = &ub[i];
	}
	for (size_t j = 0; j < nun; j++)
		if (!ent_matched(&un[j]))
			group_of(&gs, &un[j], true)->n_new++;
	for (size_t j = 0; j < nun && k >= 0; j++) {
		const struct entry *ne = &un[j];
		struct group *g;
		if (ent_matched(ne) || !strcmp(ent_file(ne), "~"))
			continue;
		g = group_of(&gs, ne, false);
		if (g && g->n_base == 1 && g->n_new == 1) {
			ent_match(g->cand);
			ent_match(ne);
			g->n_base = g->n_new = 0;
			k = row_add(rows, g->cand->r, ne->r);
		}
	}
	free(gs.g);
	return k;
}

/* The rows of what the key did not pair: pairs the fallbacks make, then what is left
 * on each side. */
static int match(struct side *b, struct side *n, const struct keys *ks, struct rows *rows)
{
	struct entry *ub = NULL, *un = NULL;
	size_t nub = 0, nun = 0;
	int k;

	/* 1: equal keys -- the records both sides have, left where they are: each is a
	 * row (row_of()), and only the rows shown are copied out */
	/* 2 and 3 on what is left */
	if ((k = unmatched(ks, b, &ub, &nub)) < 0 || (k = unmatched(ks, n, &un, &nun)) < 0)
		goto out;
	if (nub && nun && ((k = match_moved_folder(ub, nub, un, nun, rows)) < 0 ||
			   (k = match_moved_line(ub, nub, un, nun, rows)) < 0))
		goto out;
	for (size_t i = 0; i < nub; i++)
		if (!ent_matched(&ub[i]) && (k = row_add(rows, ub[i].r, NULL)) < 0)
			goto out;
	for (size_t j = 0; j < nun; j++)
		if (!ent_matched(&un[j]) && (k = row_add(rows, NULL, un[j].r)) < 0)
			goto out;
	k = 0;
out:
	free(ub);
	free(un);
	return k;
}
static bool is_regression(const struct diff_row *r, const struct diff_opts *o)
{
	double change = r->new - r->base;
	double min = o->metric == METRIC_PEAK_MEMORY ? o->min_bytes :
		     o->metric == METRIC_CALLS ? 1 : o->min_time;

	if (!r->in_base || !r->in_new || change <= 0 || change < min)
		return false;
	return r->base == 0 || change > o->threshold * r->base;
}

static int cmp_row(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;
	double cx = fabs(x->new - x->base), cy = fabs(y->new - y->base);

	if (x->regression != y->regression)
		return x->regression ? -1 : 1;
	if (cx != cy)
		return cx > cy ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The row of a key both sides have. */
static void row_of(const struct key_rec *r, const struct diff_opts *o, struct diff_row *row)
{
	*row = (struct diff_row){ .key = (char *)r->key, .base = r->value[0], .new = r->value[1],
				  .in_base = true, .in_new = true };
	row->regression = is_regression(row, o);
}

static void sift_down(struct diff_row *h, size_t m, size_t p)
{
	struct diff_row t;

	for (;;) {
		size_t l = 2 * p + 1, r = l + 1, q = p;
		if (l < m && cmp_row(&h[l], &h[q]) > 0)
			q = l;
		if (r < m && cmp_row(&h[r], &h[q]) > 0)
			q = r;
		if (q == p)
			return;
		t = h[p];
		h[p] = h[q];
		h[q] = t;
		p = q;
	}
}

/* Keeps the best m rows offered (cmp_row() order) in h: a heap with the last of them at
 * its root until it is full. */
struct best {
	struct diff_row *h;
	size_t m, n;
};

static void offer(struct best *b, const struct diff_row *row)
{
	if (b->n < b->m) {
		b->h[b->n++] = *row;
		if (b->n == b->m)
			for (size_t i = b->m / 2; i-- > 0;)
				sift_down(b->h, b->m, i);
	} else if (b->m && cmp_row(row, &b->h[0]) < 0) {
		b->h[0] = *row;
		sift_down(b->h, b->m, 0);
	}
}

/* The m rows that are shown (diff_opts.top, and every regression), sorted: the first of
 * cmp_row()'s order among the shared keys' rows and the others. The others are taken
 * over (and freed). */
static int shown_rows(const struct keys *ks, const struct diff_opts *o, struct rows *others,
		      size_t n, size_t m, struct diff_row **ret)
{
	struct best b = { .m = m };
	struct diff_row row;

	if (m > n / 4) {
		/* most of them: all rows, sorted */
		if (others->cap < n + 1) {
			struct diff_row *p = bigmem_realloc(others->v, (n + 1) * sizeof(*p));
			if (!p)
				return err_set(ENOMEM, "out of memory");
			others->v = p;
			others->cap = n + 1;
		}
		for (size_t i = 0; i < ks->n; i++)
			if (ks->r[i].in == 3)
				row_of(&ks->r[i], o, &others->v[others->n++]);
		qsort(others->v, others->n, sizeof(*others->v), cmp_row);
		*ret = others->v;
		others->v = NULL;
		return 0;
	}
	b.h = bigmem_alloc((m + 1) * sizeof(*b.h));
	if (!b.h)
		return err_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < ks->n; i++)
		if (ks->r[i].in == 3) {
			row_of(&ks->r[i], o, &row);
			offer(&b, &row);
		}
	for (size_t i = 0; i < others->n; i++)
		offer(&b, &others->v[i]);
	qsort(b.h, b.n, sizeof(*b.h), cmp_row);
	*ret = b.h;
	return 0;
}

void diff_result_free(struct diff_result *r)
{
	if (!r)
		return;
	bigmem_free(r->rows);
	strings_free(r->strings);
	free(r);
}

static const struct profile *pick(const struct run_data *d, enum diff_metric m)
{
	for (size_t i = 0; i < d->n; i++) {
		enum profile_type t = d->profiles[i].type;
		if (m == METRIC_PEAK_MEMORY ? (t == PROF_MEMRAY || t == PROF_SCALENE) : t == PROF_CPROFILE)
			return &d->profiles[i];
	}
	return NULL;
}

int diff_runs(const struct run_data *base, const struct run_data *new,
	      const struct diff_opts *o, struct diff_result **ret)
{
	const struct profile *pb = pick(base, o->metric), *pn = pick(new, o->metric);
	struct files fb = { 0 }, fn = { 0 };
	struct side sb = { .which = 0, .fs = &fb }, sn = { .which = 1, .fs = &fn };
	struct keys ks = { 0 };
	struct rows rows = { 0 };
	struct diff_result *r = NULL;
	struct diff_strings *strs = NULL;
	char root_b[4096], root_n[4096];
	size_t m;
	int k;

	if (!pb || !pn) {
		const struct run_data *d = pb ? new : base;
		return err_set(ENODATA, "'%s' holds no %s data to compare", d->in->path,
			       o->metric == METRIC_PEAK_MEMORY ? "memory (memray or scalene)" : "cProfile");
	}
	strs = calloc(1, sizeof(*strs));
	if (!strs)
		return err_set(ENOMEM, "out of memory");
	if (o->metric == METRIC_PEAK_MEMORY) {
		if (pb->type != pn->type) {
			k = err_set(EINVAL, "cannot compare %s memory data with %s's",
				    pb->type == PROF_MEMRAY ? "memray" : "scalene",
				    pn->type == PROF_MEMRAY ? "memray" : "scalene");
			goto out;
		}
		root_of_memory(pb, root_b, sizeof(root_b));
		root_of_memory(pn, root_n, sizeof(root_n));
		adjust_roots(root_b, root_n);
		if ((k = side_from_memory(&sb, &ks, strs, pb, root_b)) < 0 ||
		    (k = side_from_memory(&sn, &ks, strs, pn, root_n)) < 0)
			goto out;
	} else {
		if ((k = root_of_pstats(pb->ps, &fb, root_b, sizeof(root_b))) < 0 ||
		    (k = root_of_pstats(pn->ps, &fn, root_n, sizeof(root_n))) < 0)
			goto out;
		adjust_roots(root_b, root_n);
		sb.ps = pb->ps;
		sn.ps = pn->ps;
		if ((k = side_from_pstats(&sb, &ks, strs, o->metric, root_b)) < 0 ||
		    (k = side_from_pstats(&sn, &ks, strs, o->metric, root_n)) < 0)
			goto out;
	}
	if ((k = match(&sb, &sn, &ks, &rows)) < 0)
		goto out;
	r = calloc(1, sizeof(*r));
	if (!r) {
		k = err_set(ENOMEM, "out of memory");
		goto out;
	}
	r->base_name = base->in->path;
	r->new_name = new->in->path;
	r->metric = o->metric;
	r->total = (struct diff_row){ .key = (char *)"total", .base = sb.total, .new = sn.total,
				      .in_base = true, .in_new = true };
	r->total.regression = is_regression(&r->total, o);
	r->n_regressions = r->total.regression;
	r->n = rows.n;
	for (size_t i = 0; i < rows.n; i++) {
		rows.v[i].regression = is_regression(&rows.v[i], o);
		r->n_regressions += rows.v[i].regression;
	}
	for (size_t i = 0; i < ks.n; i++)
		if (ks.r[i].in == 3) {
			struct diff_row row;
			row_of(&ks.r[i], o, &row);
			r->n_regressions += row.regression;
			r->n++;
		}
	/* as diff_write() shows them: --top rows, or every regression if there are more */
	m = o->top && o->top < r->n ? o->top : r->n;
	if (m < r->n_regressions)
		m = r->n_regressions < r->n ? r->n_regressions : r->n;
	if ((k = shown_rows(&ks, o, &rows, r->n, m, &r->rows)) < 0)
		goto out;
	r->strings = strs;
	strs = NULL;
	*ret = r;
	r = NULL;
	k = 0;
out:
	diff_result_free(r);
	bigmem_free(rows.v);
	strings_free(strs);
	free(sb.orig);
	free(sn.orig);
	keys_free(&ks);
	free(fb.v);
	free(fn.v);
	return k;
}

/* ---- output ---- */

static void fmt_value(char *buf, size_t size, enum diff_metric m, double v)
{
	if (m == METRIC_PEAK_MEMORY)
		fmt_bytes(buf, size, v);
	else if (m == METRIC_CALLS)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.3f s", v);
}

static void fmt_change(char *buf, size_t size, enum diff_metric m, const struct diff_row *r)
{
	char v[64];
	double c = r->new - r->base;

	fmt_value(v, sizeof(v), m, fabs(c));
	if (!r->in_base)
		snprintf(buf, size, "new");
	else if (!r->in_new)
		snprintf(buf, size, "gone");
	else if (r->base > 0)
		snprintf(buf, size, "%c%s %+.1f%%", c < 0 ? '-' : '+', v, 100.0 * c / r->base);
	else
		snprintf(buf, size, "%c%s", c < 0 ? '-' : '+', v);
}

static size_t shown(const struct diff_result *r, const struct diff_opts *o)
{
	size_t n = o->top && o->top < r->n ? o->top : r->n;

	return n < r->n_regressions ? (r->n_regressions < r->n ? r->n_regressions : r->n) : n;
}

static void describe_limits(FILE *f, const struct diff_opts *o)
{
	char min[64];

	if (o->metric == METRIC_PEAK_MEMORY)
		fmt_bytes(min, sizeof(min), o->min_bytes);
	else if (o->metric == METRIC_CALLS)
		snprintf(min, sizeof(min), "1 call");
	else
		snprintf(min, sizeof(min), "%g ms", o->min_time * 1000);
	fprintf(f, "metric %s, threshold %g%%, minimum change %s", diff_metric_name(o->metric),
		o->threshold * 100, min);
}

static void write_text(FILE *f, const struct diff_result *r, const struct diff_opts *o)
{
	char b[64], n[64], c[96];
	size_t m = shown(r, o);

	fprintf(f, "sctprof diff: %s -> %s\n  ", r->base_name, r->new_name);
	describe_limits(f, o);
	fmt_value(b, sizeof(b), r->metric, r->total.base);
	fmt_value(n, sizeof(n), r->metric, r->total.new);
	fmt_change(c, sizeof(c), r->metric, &r->total);
	fprintf(f, "\n\n  total: %s -> %s (%s)%s\n\n", b, n, c, r->total.regression ? "  REGRESSION" : "");
	fprintf(f, "  %12s %12s  %-22s %s\n", "base", "new", "change", "function");
	for (size_t i = 0; i < m; i++) {
		const struct diff_row *row = &r->rows[i];
		fmt_value(b, sizeof(b), r->metric, row->base);
		fmt_value(n, sizeof(n), r->metric, row->new);
		fmt_change(c, sizeof(c), r->metric, row);
		fprintf(f, "  %12s %12s  %-22s %s%s\n", row->in_base ? b : "-", row->in_new ? n : "-", c,
			row->key, row->regression ? "  REGRESSION" : "");
	}
	if (m < r->n)
		fprintf(f, "  ... %zu more\n", r->n - m);
	fprintf(f, "\n%zu regression%s beyond the threshold\n", r->n_regressions,
		r->n_regressions == 1 ? "" : "s");
}

static void write_markdown(FILE *f, const struct diff_result *r, const struct diff_opts *o)
{
	char b[64], n[64], c[96];
	size_t m = shown(r, o);

	fprintf(f, "### sctprof diff: %s\n\n",
		r->n_regressions ? "regressions found" : "no regression");
	md_code(f, r->base_name);
	fputs(" → ", f);
	md_code(f, r->new_name);
	fputs("; ", f);
	describe_limits(f, o);
	fmt_value(b, sizeof(b), r->metric, r->total.base);
	fmt_value(n, sizeof(n), r->metric, r->total.new);
	fmt_change(c, sizeof(c), r->metric, &r->total);
	fprintf(f, "\n\n**total: %s → %s (%s)**%s\n\n", b, n, c,
		r->total.regression ? " — **regression**" : "");
	fputs("| base | new | change | function | |\n|---:|---:|---:|---|---|\n", f);
	for (size_t i = 0; i < m; i++) {
		const struct diff_row *row = &r->rows[i];
		fmt_value(b, sizeof(b), r->metric, row->base);
		fmt_value(n, sizeof(n), r->metric, row->new);
		fmt_change(c, sizeof(c), r->metric, row);
		fprintf(f, "| %s | %s | %s | ", row->in_base ? b : "-", row->in_new ? n : "-", c);
		md_code(f, row->key);
		fprintf(f, " | %s |\n", row->regression ? "**regression**" : "");
	}
	if (m < r->n)
		fprintf(f, "\n%zu more rows not shown.\n", r->n - m);
}

static json_t *row_json(const struct diff_row *r)
{
	json_t *o = json_object();
	const char *status = !r->in_base ? "new" : !r->in_new ? "gone" :
			     r->regression ? "regression" : "ok";

	json_object_set_new(o, "function", json_string(r->key));
	json_object_set_new(o, "base", r->in_base && isfinite(r->base) ? json_real(r->base) : json_null());
	json_object_set_new(o, "new", r->in_new && isfinite(r->new) ? json_real(r->new) : json_null());
	json_object_set_new(o, "change", isfinite(r->new - r->base) ? json_real(r->new - r->base) : json_null());
	json_object_set_new(o, "change_percent", r->in_base && r->in_new && r->base > 0 ?
			    json_real(100.0 * (r->new - r->base) / r->base) : json_null());
	json_object_set_new(o, "status", json_string(status));
	return o;
}

static int write_json(FILE *f, const struct diff_result *r, const struct diff_opts *o)
{
	json_t *root = json_object(), *rows = json_array();
	size_t m = shown(r, o);
	int k = 0;

	json_object_set_new(root, "sctprof_diff", json_integer(1));
	json_object_set_new(root, "base", json_string(r->base_name));
	json_object_set_new(root, "new", json_string(r->new_name));
	json_object_set_new(root, "metric", json_string(diff_metric_name(r->metric)));
	json_object_set_new(root, "threshold_percent", json_real(o->threshold * 100));
	json_object_set_new(root, "min_change", json_real(o->metric == METRIC_PEAK_MEMORY ? o->min_bytes :
		o->metric == METRIC_CALLS ? 1.0 : o->min_time));
	json_object_set_new(root, "regressions", json_integer((json_int_t)r->n_regressions));
	json_object_set_new(root, "total", row_json(&r->total));
	json_object_set_new(root, "functions_compared", json_integer((json_int_t)r->n));
	for (size_t i = 0; i < m; i++)
		json_array_append_new(rows, row_json(&r->rows[i]));
	json_object_set_new(root, "functions", rows);
	if (json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		k = err_set(EIO, "cannot write the JSON diff");
	else
		fputc('\n', f);
	json_decref(root);
	return k;
}

static void xml(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}

static void junit_case(FILE *f, const struct diff_result *r, const struct diff_opts *o,
		       const struct diff_row *row)
{
	char b[64], n[64], c[96], msg[512];

	fprintf(f, "    <testcase classname=\"sctprof.diff.%s\" name=\"", diff_metric_name(r->metric));
	xml(f, row->key);
	if (!row->regression) {
		fputs("\"/>\n", f);
		return;
	}
	fmt_value(b, sizeof(b), r->metric, row->base);
	fmt_value(n, sizeof(n), r->metric, row->new);
	fmt_change(c, sizeof(c), r->metric, row);
	snprintf(msg, sizeof(msg), "%s %s -> %s (%s), beyond %g%%", diff_metric_name(r->metric), b, n,
		 c, o->threshold * 100);
	fputs("\">\n      <failure type=\"regression\" message=\"", f);
	xml(f, msg);
	fputs("\">", f);
	xml(f, row->key);
	fputs(": ", f);
	xml(f, msg);
	fprintf(f, "\nbase: ");
	xml(f, r->base_name);
	fprintf(f, "\nnew: ");
	xml(f, r->new_name);
	fputs("</failure>\n    </testcase>\n", f);
}

/* One testcase for the total and one failing testcase per regressing function, so that
 * Jenkins' junit step lists each regression by name. */
static void write_junit(FILE *f, const struct diff_result *r, const struct diff_opts *o)
{
	size_t tests = 1 + (r->n_regressions - r->total.regression);

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"sctprof diff\" tests=\"%zu\" failures=\"%zu\">\n", tests,
		r->n_regressions);
	fprintf(f, "  <testsuite name=\"sctprof.diff.%s\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n",
		diff_metric_name(r->metric), tests, r->n_regressions);
	junit_case(f, r, o, &r->total);
	/* every regression is among the rows shown */
	for (size_t i = 0; i < shown(r, o); i++)
		if (r->rows[i].regression)
			junit_case(f, r, o, &r->rows[i]);
	fputs("  </testsuite>\n</testsuites>\n", f);
}

int diff_write(FILE *f, const struct diff_result *r, const struct diff_opts *o)
{
	switch (o->format) {
	case FMT_MARKDOWN:
		write_markdown(f, r, o);
		return 0;
	case FMT_JSON:
		return write_json(f, r, o);
	case FMT_JUNIT:
		write_junit(f, r, o);
		return 0;
	default:
		write_text(f, r, o);
		return 0;
	}
}
