/* A pull tokenizer for JSON that reads a file in chunks (plain or gzip-compressed,
 * through zlib's transparent reader) or a buffer, so that a profile of a gigabyte is
 * summarised in bounded memory: the caller walks the structure token by token and skips
 * what it does not need. Grammar is checked (nesting, commas, colons, literals, number
 * syntax, string escapes); a malformed document is an error with its byte offset. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum js_tok {
	JS_ERR = -1,
	JS_EOF = 0,
	JS_OBJ,     /* { */
	JS_OBJ_END, /* } */
	JS_ARR,     /* [ */
	JS_ARR_END, /* ] */
	JS_STR,     /* a string value, or a key when jscan.is_key */
	JS_NUM,
	JS_TRUE,
	JS_FALSE,
	JS_NULL,
};

#define JS_MAX_DEPTH 256
#define JS_MAX_STRING (1u << 20)

struct jscan {
	void *gz;                /* gzFile when reading a file */
	const unsigned char *mem;
	size_t memlen;
	unsigned char buf[65536];
	size_t pos, len;
	unsigned long long offset;  /* of buf[0] in the input */
	bool eof;

	char *str;               /* JS_STR: decoded, NUL-terminated (may hold NULs) */
	size_t str_len, str_cap;
	double num;              /* JS_NUM */
	bool is_key;             /* JS_STR in key position */

	char stack[JS_MAX_DEPTH];  /* 'o' or 'a' */
	int depth;
	int state;
	char err[160];
};

/* Opens path for reading; 0 or a negative errno (with err_set). */
int jscan_open_file(struct jscan *s, const char *path);
void jscan_open_mem(struct jscan *s, const void *buf, size_t len);
void jscan_close(struct jscan *s);

/* The next token. JS_ERR leaves a reason in s->err. */
enum js_tok jscan_next(struct jscan *s);

/* Skips the rest of a value whose first token was tok (a whole object or array, or
 * nothing for a scalar). Returns 0 or -1 on a malformed document. */
int jscan_skip(struct jscan *s, enum js_tok tok);

/* The current nesting depth: 1 inside the top-level object or array. */
static inline int jscan_depth(const struct jscan *s)
{
	return s->depth;
}
