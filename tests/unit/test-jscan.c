/* The streaming JSON tokenizer (plugins/common/jscan.c): tokens, keys, escapes,
 * grammar errors, nesting limits, and gzip input read through zlib. */
#include "tap.h"

#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "jscan.h"

/* Tokenizes text into a compact trace: { } [ ] k:KEY s:STR n:NUM t f z, or "ERR". */
static const char *trace(const char *text)
{
	static char out[1024];
	struct jscan *s = calloc(1, sizeof(*s));
	size_t n = 0;
	enum js_tok t;

	out[0] = '\0';
	jscan_open_mem(s, text, strlen(text));
	while ((t = jscan_next(s)) != JS_EOF && n < sizeof(out) - 64) {
		switch (t) {
		case JS_ERR: n += (size_t)snprintf(out + n, sizeof(out) - n, "ERR"); goto done;
		case JS_OBJ: out[n++] = '{'; break;
		case JS_OBJ_END: out[n++] = '}'; break;
		case JS_ARR: out[n++] = '['; break;
		case JS_ARR_END: out[n++] = ']'; break;
		case JS_STR:
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s:%s ",
					      s->is_key ? "k" : "s", s->str);
			break;
		case JS_NUM: n += (size_t)snprintf(out + n, sizeof(out) - n, "n:%g ", s->num); break;
		case JS_TRUE: out[n++] = 't'; break;
		case JS_FALSE: out[n++] = 'f'; break;
		case JS_NULL: out[n++] = 'z'; break;
		default: break;
		}
		out[n] = '\0';
	}
done:
	out[n] = '\0';
	jscan_close(s);
	free(s);
	return out;
}

int main(void)
{
	is_str(trace("{\"a\": [1, -2.5e3, true, false, null], \"b\": {}}"),
	       "{k:a [n:1 n:-2500 tfz]k:b {}}", "objects, arrays, keys and scalars");
	is_str(trace("\"\\u00e9\\ud83d\\ude00\\n\\\"\""), "s:\xc3\xa9\xf0\x9f\x98\x80\n\" ",
	       "escapes: \\u, surrogate pairs, \\n, \\\"");
	is_str(trace("[]"), "[]", "empty array");
	is_str(trace("  7  "), "n:7 ", "a bare number at top level");
	is_str(trace("{\"a\" 1}"), "{k:a ERR", "a missing colon is an error");
	is_str(trace("[1,]"), "[n:1 ERR", "a trailing comma is an error");
	is_str(trace("[1 2]"), "[n:1 ERR", "a missing comma is an error");
	is_str(trace("{1: 2}"), "{ERR", "a non-string key is an error");
	is_str(trace("[1}"), "[n:1 ERR", "mismatched brackets are an error");
	is_str(trace("[01]"), "[n:0 ERR", "a leading zero is an error");
	is_str(trace("[1.]"), "[ERR", "a bare decimal point is an error");
	is_str(trace("[tru]"), "[ERR", "a misspelt literal is an error");
	is_str(trace("\"\\ud800x\""), "ERR", "an unpaired surrogate is an error");
	is_str(trace("\"a\nb\""), "ERR", "a raw control character in a string is an error");
	is_str(trace("[1] 2"), "[n:1 ]ERR", "data after the document is an error");
	is_str(trace("[1"), "[n:1 ERR", "a truncated document is an error");
	is_str(trace(""), "ERR", "empty input is an error");
	{
		char deep[JS_MAX_DEPTH + 8];

		memset(deep, '[', sizeof(deep) - 1);
		deep[sizeof(deep) - 1] = '\0';
		ok(strstr(trace(deep), "ERR") != NULL, "nesting deeper than the limit is an error");
	}
	{
		/* jscan_skip jumps over a whole value. */
		const char *text = "{\"skip\": {\"x\": [1, {\"y\": 2}]}, \"keep\": 3}";
		struct jscan *s = calloc(1, sizeof(*s));
		enum js_tok t;

		jscan_open_mem(s, text, strlen(text));
		jscan_next(s);
		jscan_next(s);
		ok(jscan_skip(s, jscan_next(s)) == 0, "jscan_skip over an object");
		t = jscan_next(s);
		ok(t == JS_STR && s->is_key && !strcmp(s->str, "keep"), "the next key follows");
		jscan_close(s);
		free(s);
	}
	{
		/* A gzip file and a plain one read alike. */
		char path[] = "/tmp/sctprof-test-jscan-XXXXXX";
		int fd = mkstemp(path);
		gzFile gz = gzdopen(fd, "wb");
		struct jscan *s = calloc(1, sizeof(*s));
		int ok_all = 1;

		gzputs(gz, "{\"traceEvents\": [1, 2, 3]}");
		gzclose(gz);
		ok(jscan_open_file(s, path) == 0, "opening a gzip file");
		for (const enum js_tok *w = (const enum js_tok[]){ JS_OBJ, JS_STR, JS_ARR, JS_NUM,
			JS_NUM, JS_NUM, JS_ARR_END, JS_OBJ_END, JS_EOF, JS_ERR }; *w != JS_ERR; w++)
			if (jscan_next(s) != *w)
				ok_all = 0;
		ok(ok_all, "a gzip-compressed document tokenizes");
		jscan_close(s);
		free(s);
		unlink(path);
	}
	return tap_done();
}
