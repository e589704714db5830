/* Owned string vectors. */
#include "strv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(struct strv *s)
{
	size_t cap;
	char **v;

	if (s->n + 1 < s->cap)
		return 0;
	cap = s->cap ? s->cap * 2 : 8;
	v = realloc(s->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	s->cap = cap;
	return 0;
}

int strv_consume(struct strv *s, char *str)
{
	if (!str)
		return -ENOMEM;
	if (grow(s) < 0) {
		free(str);
		return -ENOMEM;
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
	return 0;
}

int strv_push(struct strv *s, const char *str)
{
	return strv_consume(s, strdup(str));
}

int strv_pushf(struct strv *s, const char *fmt, ...)
{
	va_list ap;
	char *str;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&str, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return strv_consume(s, str);
}

int strv_extend(struct strv *s, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = strv_push(s, v[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

void strv_free(struct strv *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

char **strv_argv(struct strv *s)
{
	static char *empty[] = { NULL };
	return s->v ? s->v : empty;
}
