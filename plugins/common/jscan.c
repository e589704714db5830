/* Streaming JSON tokenizer: see jscan.h. */
#include "jscan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "error.h"

/* What may come next. */
enum {
	ST_VALUE,        /* a value (top level, after ':' or after ',' in an array) */
	ST_FIRST_KEY,    /* a key or '}' right after '{' */
	ST_KEY,          /* a key after ',' */
	ST_COLON,
	ST_FIRST_VALUE,  /* a value or ']' right after '[' */
	ST_NEXT,         /* ',' or the closing bracket */
	ST_DONE,         /* the top-level value ended */
};

int jscan_open_file(struct jscan *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->gz = gzopen(path, "rb");
	if (!s->gz)
		return err_set(errno ? errno : ENOMEM, "cannot open '%s': %s", path,
			       strerror(errno ? errno : ENOMEM));
	gzbuffer(s->gz, 128 * 1024);
	return 0;
}

void jscan_open_mem(struct jscan *s, const void *buf, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->mem = buf;
	s->memlen = len;
}

void jscan_close(struct jscan *s)
{
	if (s->gz)
		gzclose(s->gz);
	s->gz = NULL;
	free(s->str);
	s->str = NULL;
}

static enum js_tok fail(struct jscan *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum js_tok fail(struct jscan *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(s->err, sizeof(s->err), "byte %llu: ",
		     s->offset + (unsigned long long)s->pos);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(s->err))
		vsnprintf(s->err + n, sizeof(s->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return JS_ERR;
}

/* Refills buf; returns false at the end of input or on a read error (s->err set). */
static bool fill(struct jscan *s)
{
	int n;

	if (s->eof)
		return false;
	s->offset += s->len;
	s->pos = s->len = 0;
	if (s->mem) {
		size_t take = s->memlen < sizeof(s->buf) ? s->memlen : sizeof(s->buf);

		memcpy(s->buf, s->mem, take);
		s->mem += take;
		s->memlen -= take;
		s->len = take;
		if (take == 0)
			s->eof = true;
		return take > 0;
	}
	n = gzread(s->gz, s->buf, sizeof(s->buf));
	if (n < 0) {
		int e;
		const char *m = gzerror(s->gz, &e);

		fail(s, "read error: %s", e == Z_ERRNO ? strerror(errno) : m);
		s->eof = true;
		return false;
	}
	if (n == 0) {
		/* A truncated gzip stream reads as a short file; the grammar check then
		 * reports the unexpected end. */
		s->eof = true;
		return false;
	}
	s->len = (size_t)n;
	return true;
}

static int peek(struct jscan *s)
{
	if (s->pos >= s->len && !fill(s))
		return -1;
	return s->buf[s->pos];
}

static int getc_(struct jscan *s)
{
	int c = peek(s);

	if (c >= 0)
		s->pos++;
	return c;
}

static bool str_put(struct jscan *s, char c)
{
	if (s->str_len + 2 > s->str_cap) {
		size_t cap = s->str_cap ? s->str_cap * 2 : 256;
		char *p;

		if (cap > JS_MAX_STRING + 2) {
			if (s->str_cap >= JS_MAX_STRING + 2)
				return false;
			cap = JS_MAX_STRING + 2;
		}
		p = realloc(s->str, cap);
		if (!p)
			return false;
		s->str = p;
		s->str_cap = cap;
	}
	s->str[s->str_len++] = c;
	return true;
}

static bool str_utf8(struct jscan *s, unsigned long cp)
{
	if (cp < 0x80)
		return str_put(s, (char)cp);
	if (cp < 0x800)
		return str_put(s, (char)(0xC0 | (cp >> 6))) &&
		       str_put(s, (char)(0x80 | (cp & 0x3F)));
	if (cp < 0x10000)
		return str_put(s, (char)(0xE0 | (cp >> 12))) &&
		       str_put(s, (char)(0x80 | ((cp >> 6) & 0x3F))) &&
		       str_put(s, (char)(0x80 | (cp & 0x3F)));
	return str_put(s, (char)(0xF0 | (cp >> 18))) &&
	       str_put(s, (char)(0x80 | ((cp >> 12) & 0x3F))) &&
	       str_put(s, (char)(0x80 | ((cp >> 6) & 0x3F))) &&
	       str_put(s, (char)(0x80 | (cp & 0x3F)));
}

static long hex4(struct jscan *s)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int c = getc_(s);

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static enum js_tok lex_string(struct jscan *s)
{
	s->str_len = 0;
	for (;;) {
		int c = getc_(s);

		if (c < 0)
			return fail(s, "unterminated string");
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(s, "control character in string");
		if (c == '\\') {
			long cp;

			c = getc_(s);
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				cp = hex4(s);
				if (cp < 0)
					return fail(s, "bad \\u escape");
				if (cp >= 0xD800 && cp < 0xDC00) {
					long lo;

					if (getc_(s) != '\\' || getc_(s) != 'u' ||
					    (lo = hex4(s)) < 0xDC00 || lo > 0xDFFF)
						return fail(s, "unpaired surrogate");
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				} else if (cp >= 0xDC00 && cp < 0xE000) {
					return fail(s, "unpaired surrogate");
				}
				if (!str_utf8(s, (unsigned long)cp))
					return fail(s, "string longer than %u bytes", JS_MAX_STRING);
				continue;
			default:
				return fail(s, "bad escape");
			}
		}
		if (!str_put(s, (char)c))
			return fail(s, "string longer than %u bytes", JS_MAX_STRING);
	}
	if (!str_put(s, '\0'))
		return fail(s, "string longer than %u bytes", JS_MAX_STRING);
	s->str_len--;
	return JS_STR;
}

static enum js_tok lex_number(struct jscan *s, int first)
{
	char text[64];
	size_t n = 0;
	int c = first;

	/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
#define PUT(ch) do { if (n + 1 >= sizeof(text)) return fail(s, "number too long"); \
		     text[n++] = (char)(ch); } while (0)
	if (c == '-') {
		PUT(c);
		c = getc_(s);
	}
	if (c == '0') {
		PUT(c);
	} else if (c >= '1' && c <= '9') {
		PUT(c);
		while ((c = peek(s)) >= '0' && c <= '9') {
			PUT(c);
			s->pos++;
		}
	} else {
		return fail(s, "bad number");
	}
	if (peek(s) == '.') {
		PUT('.');
		s->pos++;
		if ((c = peek(s)) < '0' || c > '9')
			return fail(s, "bad number");
		while ((c = peek(s)) >= '0' && c <= '9') {
			PUT(c);
			s->pos++;
		}
	}
	if ((c = peek(s)) == 'e' || c == 'E') {
		PUT(c);
		s->pos++;
		if ((c = peek(s)) == '+' || c == '-') {
			PUT(c);
			s->pos++;
		}
		if ((c = peek(s)) < '0' || c > '9')
			return fail(s, "bad number");
		while ((c = peek(s)) >= '0' && c <= '9') {
			PUT(c);
			s->pos++;
		}
	}
#undef PUT
	text[n] = '\0';
	s->num = strtod(text, NULL);
	return JS_NUM;
}

static enum js_tok lex_word(struct jscan *s, const char *rest, enum js_tok tok)
{
	for (; *rest; rest++)
		if (getc_(s) != *rest)
			return fail(s, "bad literal");
	return tok;
}

/* After a complete value: what the enclosing container expects next. */
static void value_done(struct jscan *s)
{
	s->state = s->depth == 0 ? ST_DONE : ST_NEXT;
}

enum js_tok jscan_next(struct jscan *s)
{
	enum js_tok tok;
	int c;

	s->is_key = false;
	for (;;) {
		c = getc_(s);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c < 0) {
			if (s->err[0])
				return JS_ERR;
			if (s->state == ST_DONE)
				return JS_EOF;
			return fail(s, "unexpected end of input");
		}
		if (s->state == ST_DONE)
			return fail(s, "data after the top-level value");
		if (c == ',' && s->state == ST_NEXT) {
			s->state = s->stack[s->depth - 1] == 'o' ? ST_KEY : ST_VALUE;
			continue;
		}
		if (c == ':' && s->state == ST_COLON) {
			s->state = ST_VALUE;
			continue;
		}
		break;
	}
	switch (s->state) {
	case ST_FIRST_KEY:
		if (c == '}')
			goto close;
		/* fall through */
	case ST_KEY:
		if (c != '"')
			return fail(s, "expected a key");
		tok = lex_string(s);
		if (tok == JS_STR) {
			s->is_key = true;
			s->state = ST_COLON;
		}
		return tok;
	case ST_NEXT:
		if (c == '}' || c == ']')
			goto close;
		return fail(s, "expected ',' or a closing bracket");
	case ST_COLON:
		return fail(s, "expected ':'");
	case ST_FIRST_VALUE:
		if (c == ']')
			goto close;
		break;
	default:
		break;
	}
	/* A value. */
	switch (c) {
	case '{':
	case '[':
		if (s->depth >= JS_MAX_DEPTH)
			return fail(s, "nested deeper than %d", JS_MAX_DEPTH);
		s->stack[s->depth++] = c == '{' ? 'o' : 'a';
		s->state = c == '{' ? ST_FIRST_KEY : ST_FIRST_VALUE;
		return c == '{' ? JS_OBJ : JS_ARR;
	case '"':
		tok = lex_string(s);
		break;
	case 't':
		tok = lex_word(s, "rue", JS_TRUE);
		break;
	case 'f':
		tok = lex_word(s, "alse", JS_FALSE);
		break;
	case 'n':
		tok = lex_word(s, "ull", JS_NULL);
		break;
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			tok = lex_number(s, c);
		else
			return fail(s, "unexpected character 0x%02x", c);
	}
	if (tok != JS_ERR)
		value_done(s);
	return tok;

close:
	if ((c == '}') != (s->stack[s->depth - 1] == 'o'))
		return fail(s, "mismatched bracket");
	s->depth--;
	value_done(s);
	return c == '}' ? JS_OBJ_END : JS_ARR_END;
}

int jscan_skip(struct jscan *s, enum js_tok tok)
{
	int depth;

	if (tok == JS_ERR)
		return -1;
	if (tok != JS_OBJ && tok != JS_ARR)
		return 0;
	depth = s->depth - 1;
	while (s->depth > depth) {
		tok = jscan_next(s);
		if (tok == JS_ERR || tok == JS_EOF)
			return -1;
	}
	return 0;
}
