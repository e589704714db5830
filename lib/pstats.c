/* pstats reader (see pstats.h). pstats_parse() tries the direct decoder first
 * (pstats_direct.c), which reads the form cProfile writes straight into the tables;
 * whatever it does not take -- another form, or corrupt data -- is read here the
 * generic way: marshal.c decodes the whole object, this file checks its shape and
 * turns it into a table of functions and caller edges, with the strings interned so
 * that a function's key is compared by pointer, and says what is wrong where. The
 * string pool, sorting and the text table are shared. */
#include "pstats.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bigmem.h"
#include "error.h"
#include "flame.h"
#include "log.h"
#include "marshal.h"
#include "pstats_impl.h"

struct pool_chunk {
	struct pool_chunk *next;
	size_t used, cap;
	char data[];
};

/* Eight bytes at a time: names are short, and most are read once (the rest are
 * back-references, resolved without hashing). */
uint32_t pool_hash(const char *s, size_t n)
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

static void pool_free(struct pstats_pool *p)
{
	struct pool_chunk *c, *n;

	if (!p)
		return;
	for (c = p->chunks; c; c = n) {
		n = c->next;
		bigmem_free(c);
	}
	bigmem_free(p->slots);
	free(p);
}

char *pool_copy(struct pstats_pool *p, const char *s, size_t n)
{
	struct pool_chunk *c = p->chunks;
	char *d;

	if (!c || c->cap - c->used < n + 1) {
		/* 64 KiB, then larger as the profile proves large */
		size_t cap = c ? (c->cap < ((size_t)4 << 20) ? c->cap * 2 : c->cap) : 65536;
		if (cap < n + 1)
			cap = n + 1;
		c = bigmem_alloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = p->chunks;
		p->chunks = c;
	}
	d = c->data + c->used;
	memcpy(d, s, n);
	d[n] = '\0';
	c->used += n + 1;
	return d;
}

static int pool_grow(struct pstats_pool *p)
{
	size_t cap = p->cap ? p->cap * 2 : 1024;
	struct pool_slot *slots = bigmem_calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t j = 0; j < p->cap; j++) {
		size_t i;
		if (!p->slots[j].s)
			continue;
		for (i = p->slots[j].hash & (cap - 1); slots[i].s; i = (i + 1) & (cap - 1))
			;
		slots[i] = p->slots[j];
	}
	bigmem_free(p->slots);
	p->slots = slots;
	p->cap = cap;
	return 0;
}

int pool_intern(struct pstats_pool *p, const char *s, size_t n, uint32_t hash,
		const char **ret)
{
	size_t i, mask;
	char *copy;

	if (n > UINT32_MAX)
		return -EINVAL;
	if (p->n * 2 >= p->cap && pool_grow(p) < 0)
		return -ENOMEM;
	mask = p->cap - 1;
	for (i = hash & mask; p->slots[i].s; i = (i + 1) & mask)
		if (p->slots[i].hash == hash && p->slots[i].len == n && memcmp(p->slots[i].s, s, n) == 0) {
			*ret = p->slots[i].s;
			return 0;
		}
	if (memchr(s, '\0', n))
		return -EINVAL;
	copy = pool_copy(p, s, n);
	if (!copy)
		return -ENOMEM;
	p->slots[i] = (struct pool_slot){ .s = copy, .len = (uint32_t)n, .hash = hash };
	p->n++;
	*ret = copy;
	return 0;
}

/* Function keys -> index into funcs. */
struct fmap {
	size_t *slots;         /* index + 1; 0 is empty */
	size_t cap;
};

struct builder {
	const char *what;
	struct pstats *ps;
	size_t cap_funcs, cap_callers;
	struct fmap map;
};

static int fmap_find(struct builder *b, const char *file, const char *name, int64_t line,
		     size_t *ret_slot)
{
	size_t mask = b->map.cap - 1, i;

	for (i = pstats_key_hash(file, name, line) & mask; b->map.slots[i]; i = (i + 1) & mask) {
		const struct pstats_func *f = &b->ps->funcs[b->map.slots[i] - 1];
		if (f->file == file && f->name == name && f->line == line) {
			*ret_slot = i;
			return 1;
		}
	}
	*ret_slot = i;
	return 0;
}

static int fmap_grow(struct builder *b)
{
	size_t cap = b->map.cap ? b->map.cap * 2 : 1024, *slots;

	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t j = 0; j < b->map.cap; j++) {
		size_t idx = b->map.slots[j], i;
		const struct pstats_func *f;
		if (!idx)
			continue;
		f = &b->ps->funcs[idx - 1];
		for (i = pstats_key_hash(f->file, f->name, f->line) & (cap - 1); slots[i]; i = (i + 1) & (cap - 1))
			;
		slots[i] = idx;
	}
	free(b->map.slots);
	b->map.slots = slots;
	b->map.cap = cap;
	return 0;
}

static int bad(struct builder *b, const struct mval *v, const char *what)
{
	return err_set(EBADMSG, "profile '%s': not a pstats file: %s at offset %zu, found %s",
		       b->what, what, v->off, mtype_name(v->type));
}

/* A (file, line, funcname) key: its function's index, added (as a phantom when not a
 * key of the dict) if new. */
static int key_index(struct builder *b, const struct mval *key, bool phantom, size_t *ret)
{
	const struct mval *it;
	const char *file, *name;
	size_t slot;
	int k;

	if (key->type != MV_TUPLE || key->len != 3)
		return bad(b, key, "a (file, line, function) key expected");
	it = key->u.items;
	if (it[0].type != MV_STR)
		return bad(b, &it[0], "a file name expected");
	if (it[1].type != MV_INT)
		return bad(b, &it[1], "a line number expected");
	if (it[2].type != MV_STR)
		return bad(b, &it[2], "a function name expected");
	if ((k = pool_intern(b->ps->pool, it[0].u.s, it[0].len, pool_hash(it[0].u.s, it[0].len),
			     &file)) < 0 ||
	    (k = pool_intern(b->ps->pool, it[2].u.s, it[2].len, pool_hash(it[2].u.s, it[2].len),
			     &name)) < 0) {
		if (k == -EINVAL)
			return err_set(EBADMSG, "profile '%s': NUL byte in a name at offset %zu",
				       b->what, key->off);
		return err_set(ENOMEM, "out of memory reading profile '%s'", b->what);
	}
	if (b->map.cap == 0 || (b->ps->n_funcs + 1) * 2 > b->map.cap)
		if (fmap_grow(b) < 0)
			return err_set(ENOMEM, "out of memory reading profile '%s'", b->what);
	if (fmap_find(b, file, name, it[1].u.i, &slot)) {
		*ret = b->map.slots[slot] - 1;
		return 0;
	}
	if (b->ps->n_funcs == b->cap_funcs) {
		size_t cap = b->cap_funcs ? b->cap_funcs * 2 : 1024;
		struct pstats_func *f = bigmem_realloc(b->ps->funcs, cap * sizeof(*f));
		if (!f)
			return err_set(ENOMEM, "out of memory reading profile '%s'", b->what);
		b->ps->funcs = f;
		b->cap_funcs = cap;
	}
	memset(&b->ps->funcs[b->ps->n_funcs], 0, sizeof(struct pstats_func));
	b->ps->funcs[b->ps->n_funcs].file = file;
	b->ps->funcs[b->ps->n_funcs].name = name;
	b->ps->funcs[b->ps->n_funcs].line = it[1].u.i;
	b->ps->funcs[b->ps->n_funcs].phantom = phantom;
	b->map.slots[slot] = b->ps->n_funcs + 1;
	*ret = b->ps->n_funcs++;
	return 0;
}

static int get_count(struct builder *b, const struct mval *v, int64_t *ret)
{
	if (v->type != MV_INT)
		return bad(b, v, "a call count expected");
	*ret = v->u.i;
	return 0;
}

static int get_time(struct builder *b, const struct mval *v, double *ret)
{
	if (v->type == MV_FLOAT)
		*ret = v->u.f;
	else if (v->type == MV_INT)
		*ret = (double)v->u.i;
	else
		return bad(b, v, "a time expected");
	return 0;
}

/* Where each function's caller edges sit in the raw list: a key that repeats replaces
 * the earlier value in place, as a dict does, so the last entry's edges win. */
struct entry_edges {
	size_t start, n;
};

static int oom(const char *what)
{
	return err_set(ENOMEM, "out of memory reading profile '%s'", what);
}

int pstats_parse_generic(const void *buf, size_t len, const char *what, unsigned flags,
			 struct pstats **ret)
{
	struct mreader *mr = NULL;
	const struct mval *root;
	struct builder b = { .what = what };
	struct pstats_edge *raw = NULL, *edges = NULL;
	struct entry_edges *ee = NULL;
	size_t n_raw = 0, cap_raw = 0, m = 0;
	int k;

	if ((k = marshal_parse(buf, len, &mr, &root)) < 0) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", err_msg_for(k));
		k = err_set(-k, "profile '%s': %s", what, msg);
		goto out;
	}
	b.ps = calloc(1, sizeof(*b.ps));
	if (!b.ps || !(b.ps->pool = calloc(1, sizeof(*b.ps->pool)))) {
		k = oom(what);
		goto out;
	}
	if (root->type != MV_DICT) {
		k = bad(&b, root, "a dict expected");
		goto out;
	}
	/* Pass 1: the dict's keys, so that its functions come first, in its order. */
	for (size_t i = 0; i < root->len; i++) {
		size_t idx;
		if ((k = key_index(&b, &root->u.items[2 * i], false, &idx)) < 0)
			goto out;
	}
	b.ps->n_real = b.ps->n_funcs;
	ee = calloc(b.ps->n_real + 1, sizeof(*ee));
	if (!ee) {
		k = oom(what);
		goto out;
	}
	/* Pass 2: values; callers not in the dict are added after, as phantoms. */
	for (size_t i = 0; i < root->len; i++) {
		const struct mval *val = &root->u.items[2 * i + 1], *t, *cd;
		struct pstats_func *f;
		size_t idx;

		if ((k = key_index(&b, &root->u.items[2 * i], false, &idx)) < 0)
			goto out;
		if (val->type != MV_TUPLE || val->len != 5) {
			k = bad(&b, val, "a (cc, nc, tt, ct, callers) tuple expected");
			goto out;
		}
		t = val->u.items;
		f = &b.ps->funcs[idx];
		if ((k = get_count(&b, &t[0], &f->cc)) < 0 || (k = get_count(&b, &t[1], &f->nc)) < 0 ||
		    (k = get_time(&b, &t[2], &f->tt)) < 0 || (k = get_time(&b, &t[3], &f->ct)) < 0)
			goto out;
		cd = &t[4];
		if (cd->type != MV_DICT) {
			k = bad(&b, cd, "a callers dict expected");
			goto out;
		}
		ee[idx].start = n_raw;
		ee[idx].n = cd->len;
		for (size_t j = 0; j < cd->len; j++) {
			const struct mval *ck = &cd->u.items[2 * j], *cv = &cd->u.items[2 * j + 1];
			struct pstats_edge e = { .callee = idx };

			if ((k = key_index(&b, ck, true, &e.caller)) < 0)
				goto out;
			if (cv->type == MV_INT) {
				e.nc = e.cc = cv->u.i;
			} else if (cv->type == MV_TUPLE && cv->len == 4) {
				const struct mval *c = cv->u.items;
				if ((k = get_count(&b, &c[0], &e.nc)) < 0 ||
				    (k = get_count(&b, &c[1], &e.cc)) < 0 ||
				    (k = get_time(&b, &c[2], &e.tt)) < 0 ||
				    (k = get_time(&b, &c[3], &e.ct)) < 0)
					goto out;
			} else {
				k = bad(&b, cv, "a caller's (nc, cc, tt, ct) tuple expected");
				goto out;
			}
			if (n_raw == cap_raw) {
				size_t cap = cap_raw ? cap_raw * 2 : 1024;
				struct pstats_edge *p = realloc(raw, cap * sizeof(*p));
				if (!p) {
					k = oom(what);
					goto out;
				}
				raw = p;
				cap_raw = cap;
			}
			raw[n_raw++] = e;
		}
	}
	/* Edges grouped by callee, in the functions' order. A caller key repeated inside
	 * one callers dict also replaces the earlier one in Python; cProfile never writes
	 * that, and here both are kept. */
	edges = bigmem_alloc((n_raw + 1) * sizeof(*edges));
	if (!edges) {
		k = oom(what);
		goto out;
	}
	for (size_t i = 0; i < b.ps->n_funcs; i++) {
		struct pstats_func *f = &b.ps->funcs[i];
		f->first_caller = m;
		f->n_callers = i < b.ps->n_real ? ee[i].n : 0;
		if (f->n_callers)
			memcpy(edges + m, raw + ee[i].start, f->n_callers * sizeof(*edges));
		m += f->n_callers;
	}
	if (flags & PSTATS_NO_CALLERS) {
		/* the phantoms come last: they go with the edges */
		b.ps->n_funcs = b.ps->n_real;
		for (size_t i = 0; i < b.ps->n_funcs; i++)
			b.ps->funcs[i].first_caller = b.ps->funcs[i].n_callers = 0;
		m = 0;
	}
	b.ps->callers = edges;
	b.ps->n_callers = m;
	edges = NULL;
	for (size_t i = 0; i < b.ps->n_real; i++) {
		const struct pstats_func *f = &b.ps->funcs[i];
		if (__builtin_add_overflow(b.ps->total_calls, f->nc, &b.ps->total_calls) ||
		    __builtin_add_overflow(b.ps->prim_calls, f->cc, &b.ps->prim_calls)) {
			k = err_set(ERANGE, "profile '%s': the total of the call counts does not "
				    "fit in 64 bits", what);
			goto out;
		}
		b.ps->total_tt += f->tt;
	}
	*ret = b.ps;
	b.ps = NULL;
	k = 0;
out:
	pstats_free(b.ps);
	free(b.map.slots);
	free(raw);
	bigmem_free(edges);
	free(ee);
	marshal_free(mr);
	return k;
}

int pstats_parse_flags(const void *buf, size_t len, const char *what, unsigned flags,
		       struct pstats **ret)
{
	int k = pstats_parse_direct(buf, len, flags, ret);

	if (k == PSTATS_NOT_HANDLED) {
		log_debug("profile '%s': not in the form cProfile writes; reading it generically", what);
		k = pstats_parse_generic(buf, len, what, flags, ret);
	} else if (k < 0) {
		k = err_set(-k, "out of memory reading profile '%s'", what);
	}
	return k;
}

int pstats_parse(const void *buf, size_t len, const char *what, struct pstats **ret)
{
	return pstats_parse_flags(buf, len, what, 0, ret);
}

void pstats_free(struct pstats *ps)
{
	if (!ps)
		return;
	bigmem_free(ps->funcs);
	bigmem_free(ps->callers);
	pool_free(ps->pool);
	free(ps);
}

int read_whole_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	int fd, k;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		k = errno;
		return err_set(k, "cannot open '%s': %s", path, strerror(k));
	}
	if (fstat(fd, &st) < 0) {
		k = err_set(errno, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		k = err_set(EISDIR, "'%s' is a folder", path);
		goto out;
	}
	/* a regular file's size is known: one buffer of that size (and the NUL), filled
	 * without copies; the buffer grows only if the file does while it is read */
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
	if (cap - 1 > max) {
		k = err_set(EFBIG, "'%s' is larger than %zu bytes", path, max);
		goto out;
	}
	buf = bigmem_alloc(cap);
	if (!buf) {
		k = err_set(ENOMEM, "out of memory reading '%s'", path);
		goto out;
	}
	for (;;) {
		ssize_t n;
		if (len + 1 == cap) {
			/* full: read one byte more before growing, so that the usual end of
			 * file costs no reallocation */
			char c;
			char *p;
			n = read(fd, &c, 1);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				k = err_set(errno, "cannot read '%s': %s", path, strerror(errno));
				goto out;
			}
			if (n == 0)
				break;
			if (cap > max) {
				k = err_set(EFBIG, "'%s' is larger than %zu bytes", path, max);
				goto out;
			}
			p = bigmem_realloc(buf, cap * 2);
			if (!p) {
				k = err_set(ENOMEM, "out of memory reading '%s'", path);
				goto out;
			}
			buf = p;
			cap *= 2;
			buf[len++] = c;
			continue;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			k = err_set(errno, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
	k = 0;
out:
	bigmem_free(buf);
	close(fd);
	return k;
}

int pstats_load(const char *path, struct pstats **ret)
{
	char *buf = NULL;
	size_t len;
	int k;

	if ((k = read_whole_file(path, SIZE_MAX / 2, &buf, &len)) < 0)
		return k;
	k = pstats_parse(buf, len, path, ret);
	bigmem_free(buf);
	return k;
}

int pstats_label(const struct pstats_func *f, char *buf, size_t size)
{
	size_t n;

	if (strcmp(f->file, "~") == 0 && f->line == 0) {
		n = strlen(f->name);
		if (n >= 2 && f->name[0] == '<' && f->name[n - 1] == '>')
			return snprintf(buf, size, "{%.*s}", (int)(n - 2), f->name + 1);
		return snprintf(buf, size, "%s", f->name);
	}
	return snprintf(buf, size, "%s:%lld(%s)", f->file, (long long)f->line, f->name);
}

int pstats_sort_parse(const char *name, enum pstats_sort *ret)
{
	/* pstats' own abbreviations too: "cumtime", "time", "ncalls" */
	if (!strcmp(name, "cumulative") || !strcmp(name, "cumtime") || !strcmp(name, "cum"))
		*ret = PSTATS_SORT_CUMULATIVE;
	else if (!strcmp(name, "tottime") || !strcmp(name, "time"))
		*ret = PSTATS_SORT_TOTTIME;
	else if (!strcmp(name, "calls") || !strcmp(name, "ncalls"))
		*ret = PSTATS_SORT_CALLS;
	else
		return err_set(EINVAL, "unknown sort key '%s' (cumulative, tottime or calls)", name);
	return 0;
}

static int before(const struct pstats *ps, enum pstats_sort key, size_t a, size_t b)
{
	const struct pstats_func *x = &ps->funcs[a], *y = &ps->funcs[b];

	switch (key) {
	case PSTATS_SORT_TOTTIME:
		return x->tt > y->tt;
	case PSTATS_SORT_CALLS:
		return x->nc > y->nc;
	default:
		return x->ct > y->ct;
	}
}

/* Stable merge sort of a[0..n): pstats sorts with Python's stable sort. */
static int sort_idx(const struct pstats *ps, enum pstats_sort key, size_t *a, size_t n)
{
	size_t *tmp = malloc((n + 1) * sizeof(*tmp));

	if (!tmp)
		return err_set(ENOMEM, "out of memory sorting the profile");
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				tmp[o++] = before(ps, key, a[j], a[i]) ? a[j++] : a[i++];
			while (i < mid)
				tmp[o++] = a[i++];
			while (j < hi)
				tmp[o++] = a[j++];
		}
		memcpy(a, tmp, n * sizeof(*a));
	}
	free(tmp);
	return 0;
}

int pstats_order(const struct pstats *ps, enum pstats_sort key, size_t **ret_order)
{
	size_t n = ps->n_real, *a;
	int k;

	a = malloc((n + 1) * sizeof(*a));
	if (!a)
		return err_set(ENOMEM, "out of memory sorting the profile");
	for (size_t i = 0; i < n; i++)
		a[i] = i;
	if ((k = sort_idx(ps, key, a, n)) < 0) {
		free(a);
		return k;
	}
	*ret_order = a;
	return 0;
}

/* Whether a comes before b in the stable sort of ascending indices: a strict total
 * order, as long as no key is NaN. */
static bool ahead(const struct pstats *ps, enum pstats_sort key, size_t a, size_t b)
{
	if (before(ps, key, a, b))
		return true;
	return !before(ps, key, b, a) && a < b;
}

/* The heap keeps the best k seen so far with the last of them at its root. */
static void sift_down(const struct pstats *ps, enum pstats_sort key, size_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i, t;
		if (l < n && ahead(ps, key, h[m], h[l]))
			m = l;
		if (r < n && ahead(ps, key, h[m], h[r]))
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

int pstats_top(const struct pstats *ps, enum pstats_sort key, size_t *idx, size_t n, size_t k)
{
	bool nan = false;

	if (k > n)
		k = n;
	if (key != PSTATS_SORT_CALLS)
		for (size_t i = 0; i < n && !nan; i++)
			nan = isnan(key == PSTATS_SORT_TOTTIME ? ps->funcs[idx[i]].tt : ps->funcs[idx[i]].ct);
	/* NaN compares as neither greater nor less: then only the merge sort itself says
	 * where things go. A large k gains nothing from the heap. */
	if (nan || k > n / 4)
		return sort_idx(ps, key, idx, n);
	if (k == 0)
		return 0;
	/* idx[0..k) is the heap; each later index either misses it or replaces its last */
	for (size_t i = k / 2; i-- > 0;)
		sift_down(ps, key, idx, k, i);
	for (size_t i = k; i < n; i++)
		if (ahead(ps, key, idx[i], idx[0])) {
			idx[0] = idx[i];
			sift_down(ps, key, idx, k, 0);
		}
	/* take the last out one at a time: idx[0..k) ends up best first */
	for (size_t m = k; m > 1; m--) {
		size_t t = idx[0];
		idx[0] = idx[m - 1];
		idx[m - 1] = t;
		sift_down(ps, key, idx, m - 1, 0);
	}
	return 0;
}

static void f8(FILE *f, double x)
{
	fprintf(f, "%8.3f ", x);
}

int pstats_print_text(FILE *f, const struct pstats *ps, const size_t *order, size_t n,
		      const char *ordered_by)
{
	char label[4096];

	fprintf(f, "%12lld function calls", (long long)ps->total_calls);
	if (ps->total_calls != ps->prim_calls)
		fprintf(f, " (%lld primitive calls)", (long long)ps->prim_calls);
	fprintf(f, " in %.3f seconds\n\n", ps->total_tt);
	if (ordered_by)
		fprintf(f, "   Ordered by: %s\n\n", ordered_by);
	fputs("   ncalls  tottime  percall  cumtime  percall filename:lineno(function)\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct pstats_func *fn = &ps->funcs[order[i]];
		char c[48];
		if (fn->nc != fn->cc)
			snprintf(c, sizeof(c), "%lld/%lld", (long long)fn->nc, (long long)fn->cc);
		else
			snprintf(c, sizeof(c), "%lld", (long long)fn->nc);
		fprintf(f, "%9s ", c);
		f8(f, fn->tt);
		if (fn->nc == 0)
			fputs("         ", f);
		else
			f8(f, fn->tt / (double)fn->nc);
		f8(f, fn->ct);
		if (fn->cc == 0)
			fputs("         ", f);
		else
			f8(f, fn->ct / (double)fn->cc);
		pstats_label(fn, label, sizeof(label));
		fprintf(f, "%s\n", label);
	}
	return 0;
}

/* Writes through a temporary name and renames, so a reader never sees half a file. */
static int write_atomic(const char *path, int (*fill)(FILE *, void *), void *arg)
{
	char tmp[4096];
	FILE *f;
	int k;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid()) >= sizeof(tmp))
		return err_set(ENAMETOOLONG, "path '%s' is too long", path);
	f = fopen(tmp, "we");
	if (!f)
		return err_set(errno, "cannot create '%s': %s", path, strerror(errno));
	k = fill(f, arg);
	if (fflush(f) != 0 || ferror(f)) {
		int e = errno ? errno : EIO;
		if (k >= 0)
			k = err_set(e, "cannot write '%s': %s", path, strerror(e));
	}
	if (fclose(f) != 0 && k >= 0)
		k = err_set(errno, "cannot write '%s': %s", path, strerror(errno));
	if (k >= 0 && rename(tmp, path) < 0)
		k = err_set(errno, "cannot rename to '%s': %s", path, strerror(errno));
	if (k < 0)
		unlink(tmp);
	return k;
}

struct summary_arg {
	const struct pstats *ps;
	int top;
};

static int fill_summary(FILE *f, void *arg)
{
	struct summary_arg *a = arg;
	size_t *order = NULL, n;
	char by[128];
	int k;

	if (a->ps->n_real == 0) {
		fputs("no profile data: the program ran no Python code\n", f);
		return 0;
	}
	n = a->top > 0 && (size_t)a->top < a->ps->n_real ? (size_t)a->top : a->ps->n_real;
	order = malloc((a->ps->n_real + 1) * sizeof(*order));
	if (!order)
		return err_set(ENOMEM, "out of memory sorting the profile");
	for (size_t i = 0; i < a->ps->n_real; i++)
		order[i] = i;
	if ((k = pstats_top(a->ps, PSTATS_SORT_CUMULATIVE, order, a->ps->n_real, n)) < 0) {
		free(order);
		return k;
	}
	if (n < a->ps->n_real)
		snprintf(by, sizeof(by), "cumulative time; the top %zu of %zu functions", n, a->ps->n_real);
	else
		snprintf(by, sizeof(by), "cumulative time");
	k = pstats_print_text(f, a->ps, order, n, by);
	free(order);
	return k;
}

int pstats_write_summary(const char *stats_path, const char *summary_txt_path, int top)
{
	struct pstats *ps = NULL;
	struct summary_arg a;
	int k;

	if ((k = pstats_load(stats_path, &ps)) < 0)
		return k;
	a.ps = ps;
	a.top = top;
	k = write_atomic(summary_txt_path, fill_summary, &a);
	pstats_free(ps);
	return k;
}

static int fill_svg(FILE *f, void *arg)
{
	return flame_write_svg(f, arg, NULL);
}

int pstats_write_svg(const char *stats_path, const char *svg_path)
{
	struct pstats *ps = NULL;
	int k;

	if ((k = pstats_load(stats_path, &ps)) < 0)
		return k;
	k = write_atomic(svg_path, fill_svg, ps);
	pstats_free(ps);
	return k;
}
