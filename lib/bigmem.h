/* Large buffers -- a profile read whole, the tables decoded from it -- in anonymous
 * mappings of their own that ask for transparent huge pages (MADV_HUGEPAGE), and grow
 * with mremap() without copying. Filling 50 MB then takes a few dozen page faults
 * rather than twelve thousand, which on a virtual machine is most of the cost of
 * reading a large profile. Buffers under a megabyte come from malloc.
 *
 * The contract is malloc's: the memory is not zeroed; bigmem_realloc(NULL, n) allocates;
 * bigmem_free(NULL) does nothing; a pointer from here goes back here, never to free(). */
#pragma once

#include <stddef.h>

void *bigmem_alloc(size_t size);
/* Zeroed, as calloc(): a new mapping already is, so large tables cost no memset. */
void *bigmem_calloc(size_t n, size_t size);
void *bigmem_realloc(void *p, size_t size);
void bigmem_free(void *p);
