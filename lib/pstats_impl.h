/* What pstats.c and pstats_direct.c share: the string pool that makes a function's file
 * and name comparable by pointer, and the two readers behind pstats_parse(). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pstats.h"

struct pool_slot {
	const char *s;              /* NUL-terminated copy; NULL: empty slot */
	uint32_t len;
	uint32_t hash;
};

struct pstats_pool {
	struct pool_slot *slots;    /* open addressing, at most half full */
	size_t cap, n;
	struct pool_chunk *chunks;
};

uint32_t pool_hash(const char *s, size_t n);
/* A NUL-terminated copy of s[0..n) kept with the pool, not interned; NULL when out of
 * memory. */
char *pool_copy(struct pstats_pool *p, const char *s, size_t n);
/* The one copy of s[0..n) (hash: pool_hash(s, n)) in *ret. -EINVAL when s holds a NUL,
 * -ENOMEM. */
int pool_intern(struct pstats_pool *p, const char *s, size_t n, uint32_t hash,
		const char **ret);

/* The (file, line, name) key of interned strings, hashed for the function tables. */
static inline uint64_t pstats_key_hash(const char *file, const char *name, int64_t line)
{
	uint64_t h = (uint64_t)(uintptr_t)file * 0x9e3779b97f4a7c15ULL;
	h ^= (uint64_t)(uintptr_t)name * 0xc2b2ae3d27d4eb4fULL;
	h ^= (uint64_t)line * 0x165667b19e3779f9ULL;
	return h ^ (h >> 29);
}

/* Returned by pstats_parse_direct() for input it does not handle. */
#define PSTATS_NOT_HANDLED 1

/* Decodes the marshal stream straight into the table, for the shape cProfile writes.
 * 0 on success; PSTATS_NOT_HANDLED for anything else it meets -- other shapes, other
 * references, corrupt data -- which pstats_parse_generic() then reads or explains;
 * -ENOMEM. */
int pstats_parse_direct(const void *buf, size_t len, unsigned flags, struct pstats **ret);
/* Decodes the whole marshal object (marshal.h), then checks its shape: slower, but it
 * reads every form marshal can write and names the offset of whatever is wrong. */
int pstats_parse_generic(const void *buf, size_t len, const char *what, unsigned flags,
			 struct pstats **ret);
