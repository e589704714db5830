/* A TAP producer for the C unit tests, in the manner of bubblewrap's tests: no
 * framework, one line per check, `ok N # SKIP reason` when a feature is missing. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline bool tap_ok(bool cond, const char *file, int line, const char *what)
{
	tap_n++;
	if (cond) {
		printf("ok %d - %s\n", tap_n, what);
	} else {
		tap_failed++;
		printf("not ok %d - %s\n# at %s:%d\n", tap_n, what, file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, what) tap_ok((cond), __FILE__, __LINE__, (what))
#define is_int(got, want, what) do {                                              \
		long long g_ = (long long)(got), w_ = (long long)(want);          \
		if (!ok(g_ == w_, what))                                          \
			printf("#   got %lld, want %lld\n", g_, w_);              \
	} while (0)
#define is_str(got, want, what) do {                                              \
		const char *g_ = (got), *w_ = (want);                             \
		if (!ok(g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_, what))        \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)",   \
			       w_ ? w_ : "(null)");                               \
	} while (0)

static inline void tap_skip(const char *what, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", ++tap_n, what, why);
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
