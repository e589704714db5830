/* Huge-page-backed large buffers (bigmem.h). Each buffer starts with a header that says
 * how it was allocated, so that bigmem_free() needs no size. Mappings are whole
 * multiples of 2 MiB, the size of a huge page on x86-64 and arm64 with 4 KiB pages: the
 * kernel places mappings that large on a huge-page boundary, so all of it can be
 * backed by huge pages. When the kernel has none to give (or THP is off) the advice
 * does nothing and the buffer works as any other. */
#include "bigmem.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE ((size_t)2 << 20)
#define BIG ((size_t)1 << 20)

struct hdr {
	size_t size;        /* what the caller asked for */
	size_t map_len;     /* 0: from malloc */
};

#define HDR ((sizeof(struct hdr) + alignof(max_align_t) - 1) / alignof(max_align_t) * \
	     alignof(max_align_t))

static struct hdr *hdr_of(void *p)
{
	return (struct hdr *)((char *)p - HDR);
}

static void *map(size_t size)
{
	size_t len = (size + HDR + HUGE - 1) / HUGE * HUGE;
	struct hdr *h;

	h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return NULL;
	(void)madvise(h, len, MADV_HUGEPAGE);
	h->size = size;
	h->map_len = len;
	return (char *)h + HDR;
}

void *bigmem_alloc(size_t size)
{
	struct hdr *h;

	if (size > SIZE_MAX / 2)
		return NULL;
	if (size + HDR >= BIG)
		return map(size);
	h = malloc(HDR + size);
	if (!h)
		return NULL;
	h->size = size;
	h->map_len = 0;
	return (char *)h + HDR;
}

void *bigmem_calloc(size_t n, size_t size)
{
	struct hdr *h;

	if (size && n > SIZE_MAX / 2 / size)
		return NULL;
	size *= n;
	if (size + HDR >= BIG)
		return map(size);
	h = calloc(1, HDR + size);
	if (!h)
		return NULL;
	h->size = size;
	h->map_len = 0;
	return (char *)h + HDR;
}

void *bigmem_realloc(void *p, size_t size)
{
	struct hdr *h, *n;
	size_t len;
	void *q;

	if (!p)
		return bigmem_alloc(size);
	if (size > SIZE_MAX / 2)
		return NULL;
	h = hdr_of(p);
	if (!h->map_len) {
		if (size + HDR < BIG) {
			n = realloc(h, HDR + size);
			if (!n)
				return NULL;
			n->size = size;
			return (char *)n + HDR;
		}
		q = map(size);
		if (!q)
			return NULL;
		memcpy(q, p, h->size < size ? h->size : size);
		free(h);
		return q;
	}
	if (size + HDR <= h->map_len) {
		h->size = size;
		return p;
	}
	len = (size + HDR + HUGE - 1) / HUGE * HUGE;
	n = mremap(h, h->map_len, len, MREMAP_MAYMOVE);
	if (n == MAP_FAILED)
		return NULL;
	(void)madvise(n, len, MADV_HUGEPAGE);
	n->size = size;
	n->map_len = len;
	return (char *)n + HDR;
}

void bigmem_free(void *p)
{
	struct hdr *h;

	if (!p)
		return;
	h = hdr_of(p);
	if (h->map_len)
		munmap(h, h->map_len);
	else
		free(h);
}
