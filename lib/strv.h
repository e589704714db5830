/* A growable NULL-terminated vector of owned strings: argv and env building. */
#pragma once

#include <stddef.h>

struct strv {
	char **v;       /* always NULL-terminated once anything was pushed */
	size_t n;
	size_t cap;
};

#define STRV_INIT { NULL, 0, 0 }

int strv_push(struct strv *s, const char *str);
int strv_pushf(struct strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strv_extend(struct strv *s, char *const *v, size_t n);
/* Takes ownership of str. */
int strv_consume(struct strv *s, char *str);
void strv_free(struct strv *s);
/* Returns s->v, never NULL (an empty vector yields a static {NULL}). */
char **strv_argv(struct strv *s);
