/* Streaming speedscope reader: see speedscope.h. */
#include "speedscope.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jscan.h"

struct vec {
	void *v;
	size_t n, cap, size;
};

static int vec_push(struct vec *x, const void *item)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 1024;
		void *v = realloc(x->v, cap * x->size);

		if (!v)
			return -ENOMEM;
		x->v = v;
		x->cap = cap;
	}
	memcpy((char *)x->v + x->n * x->size, item, x->size);
	x->n++;
	return 0;
}

struct reader {
	struct jscan s;
	struct flame *f;
	struct speedscope_info info;
	const char *name;
	int r;
};

/* Records the first failure; returns -1 so parsers can `return bad(...)`. */
static int bad(struct reader *rd, int err, const char *what)
{
	if (rd->r == 0) {
		if (err == EBADMSG && rd->s.err[0])
			rd->r = err_set(EBADMSG, "speedscope '%s': %s", rd->name, rd->s.err);
		else
			rd->r = err_set(err, "speedscope '%s': %s", rd->name, what);
	}
	return -1;
}

static int expect(struct reader *rd, enum js_tok want, const char *what)
{
	enum js_tok t = jscan_next(&rd->s);

	if (t == want)
		return 0;
	if (t == JS_ERR)
		return bad(rd, EBADMSG, what);
	return bad(rd, EBADMSG, what);
}

static int skip_value(struct reader *rd)
{
	if (jscan_skip(&rd->s, jscan_next(&rd->s)) < 0)
		return bad(rd, EBADMSG, "malformed JSON");
	return 0;
}

static int read_index(struct reader *rd, double v, unsigned *ret)
{
	if (!(v >= 0 && v < 4294967295.0) || floor(v) != v)
		return bad(rd, EBADMSG, "frame index is not a small non-negative integer");
	*ret = (unsigned)v;
	return 0;
}

/* "samples": [[i, j, ...], ...], root first. Each ends at a node kept in leaves. */
static int read_samples(struct reader *rd, struct vec *leaves)
{
	enum js_tok t;

	if (expect(rd, JS_ARR, "\"samples\" is not an array") < 0)
		return -1;
	while ((t = jscan_next(&rd->s)) == JS_ARR) {
		struct flame_node *node = &rd->f->root;
		size_t depth = 0;
		bool cut = false;

		while ((t = jscan_next(&rd->s)) == JS_NUM) {
			unsigned idx;

			if (read_index(rd, rd->s.num, &idx) < 0)
				return -1;
			if (++depth > FLAME_MAX_DEPTH) {
				cut = true;
				continue;
			}
			node = flame_child(rd->f, node, idx);
			if (!node)
				return bad(rd, ENOMEM, "out of memory");
		}
		if (t != JS_ARR_END)
			return bad(rd, EBADMSG, "a sample is not an array of frame indices");
		if (cut)
			rd->f->truncated++;
		if (vec_push(leaves, &node) < 0)
			return bad(rd, ENOMEM, "out of memory");
	}
	if (t != JS_ARR_END)
		return bad(rd, EBADMSG, "\"samples\" is not an array of arrays");
	return 0;
}

static int read_weights(struct reader *rd, struct vec *weights)
{
	enum js_tok t;

	if (expect(rd, JS_ARR, "\"weights\" is not an array") < 0)
		return -1;
	while ((t = jscan_next(&rd->s)) == JS_NUM) {
		double w = rd->s.num;

		if (!isfinite(w) || w < 0)
			return bad(rd, EBADMSG, "a weight is negative or not finite");
		if (vec_push(weights, &w) < 0)
			return bad(rd, ENOMEM, "out of memory");
	}
	if (t != JS_ARR_END)
		return bad(rd, EBADMSG, "\"weights\" is not an array of numbers");
	return 0;
}

static int read_profile(struct reader *rd)
{
	struct vec leaves = { .size = sizeof(struct flame_node *) };
	struct vec weights = { .size = sizeof(double) };
	enum js_tok t;
	int r = -1;

	while ((t = jscan_next(&rd->s)) == JS_STR && rd->s.is_key) {
		if (strcmp(rd->s.str, "samples") == 0) {
			if (read_samples(rd, &leaves) < 0)
				goto out;
		} else if (strcmp(rd->s.str, "weights") == 0) {
			if (read_weights(rd, &weights) < 0)
				goto out;
		} else if (strcmp(rd->s.str, "unit") == 0 && rd->info.profiles == 0) {
			if (expect(rd, JS_STR, "\"unit\" is not a string") < 0)
				goto out;
			snprintf(rd->info.unit, sizeof(rd->info.unit), "%s", rd->s.str);
		} else if (skip_value(rd) < 0) {
			goto out;
		}
	}
	if (t != JS_OBJ_END) {
		bad(rd, EBADMSG, "a profile is not an object");
		goto out;
	}
	/* Samples and weights pair up by position; a file without weights counts one per
	 * sample. */
	for (size_t i = 0; i < leaves.n; i++) {
		struct flame_node *node = ((struct flame_node **)leaves.v)[i];

		node->self += weights.n ? (i < weights.n ? ((double *)weights.v)[i] : 0) : 1;
	}
	rd->f->n_samples += leaves.n;
	rd->info.profiles++;
	r = 0;
out:
	free(leaves.v);
	free(weights.v);
	return r;
}

static int read_frames(struct reader *rd)
{
	enum js_tok t;
	size_t i = 0;

	if (expect(rd, JS_ARR, "\"frames\" is not an array") < 0)
		return -1;
	while ((t = jscan_next(&rd->s)) == JS_OBJ) {
		char *name = NULL, *file = NULL;
		long line = 0;
		int r = 0;

		while ((t = jscan_next(&rd->s)) == JS_STR && rd->s.is_key) {
			char key[8];

			snprintf(key, sizeof(key), "%s", rd->s.str);
			t = jscan_next(&rd->s);
			if (strcmp(key, "name") == 0 && t == JS_STR) {
				free(name);
				name = strdup(rd->s.str);
			} else if (strcmp(key, "file") == 0 && t == JS_STR) {
				free(file);
				file = strdup(rd->s.str);
			} else if (strcmp(key, "line") == 0 && t == JS_NUM) {
				line = rd->s.num > 0 && rd->s.num < 1e9 ? (long)rd->s.num : 0;
			} else if (jscan_skip(&rd->s, t) < 0) {
				r = bad(rd, EBADMSG, "malformed frame");
				break;
			}
		}
		if (r == 0 && t != JS_OBJ_END)
			r = bad(rd, EBADMSG, "a frame is not an object");
		if (r == 0 && !name)
			r = bad(rd, EBADMSG, "a frame has no \"name\"");
		if (r == 0 && flame_set_frame(rd->f, i, name, file, line) < 0)
			r = bad(rd, ENOMEM, "out of memory");
		free(name);
		free(file);
		if (r < 0)
			return -1;
		i++;
	}
	if (t != JS_ARR_END)
		return bad(rd, EBADMSG, "\"frames\" is not an array of objects");
	return 0;
}

static int read_shared(struct reader *rd)
{
	enum js_tok t;

	if (expect(rd, JS_OBJ, "\"shared\" is not an object") < 0)
		return -1;
	while ((t = jscan_next(&rd->s)) == JS_STR && rd->s.is_key) {
		if (strcmp(rd->s.str, "frames") == 0) {
			if (read_frames(rd) < 0)
				return -1;
		} else if (skip_value(rd) < 0) {
			return -1;
		}
	}
	if (t != JS_OBJ_END)
		return bad(rd, EBADMSG, "malformed \"shared\"");
	return 0;
}

static int read_document(struct reader *rd)
{
	enum js_tok t;
	bool have_profiles = false;

	if (expect(rd, JS_OBJ, "not a JSON object") < 0)
		return -1;
	while ((t = jscan_next(&rd->s)) == JS_STR && rd->s.is_key) {
		if (strcmp(rd->s.str, "profiles") == 0) {
			if (expect(rd, JS_ARR, "\"profiles\" is not an array") < 0)
				return -1;
			while ((t = jscan_next(&rd->s)) == JS_OBJ)
				if (read_profile(rd) < 0)
					return -1;
			if (t != JS_ARR_END)
				return bad(rd, EBADMSG, "\"profiles\" is not an array of objects");
			have_profiles = true;
		} else if (strcmp(rd->s.str, "shared") == 0) {
			if (read_shared(rd) < 0)
				return -1;
		} else if (strcmp(rd->s.str, "exporter") == 0) {
			t = jscan_next(&rd->s);
			if (t == JS_STR)
				snprintf(rd->info.exporter, sizeof(rd->info.exporter), "%s",
					 rd->s.str);
			else if (jscan_skip(&rd->s, t) < 0)
				return bad(rd, EBADMSG, "malformed JSON");
		} else if (skip_value(rd) < 0) {
			return -1;
		}
	}
	if (t != JS_OBJ_END)
		return bad(rd, EBADMSG, "malformed JSON");
	if (jscan_next(&rd->s) != JS_EOF)
		return bad(rd, EBADMSG, "data after the document");
	if (!have_profiles)
		return bad(rd, EBADMSG, "no \"profiles\"");
	return 0;
}

static int load(struct reader *rd, struct flame *f, struct speedscope_info *ret_info)
{
	rd->f = f;
	if (read_document(rd) == 0) {
		if (f->err)
			rd->r = err_set(ENOMEM, "speedscope '%s': out of memory", rd->name);
		else
			flame_finish(f);
	}
	jscan_close(&rd->s);
	if (rd->r == 0 && ret_info)
		*ret_info = rd->info;
	return rd->r;
}

int speedscope_load(const char *path, struct flame *f, struct speedscope_info *ret_info)
{
	struct reader *rd = calloc(1, sizeof(*rd));
	int r;

	if (!rd)
		return -ENOMEM;
	rd->name = path;
	r = jscan_open_file(&rd->s, path);
	if (r == 0)
		r = load(rd, f, ret_info);
	free(rd);
	return r;
}

int speedscope_load_mem(const void *buf, size_t len, const char *name, struct flame *f,
			struct speedscope_info *ret_info)
{
	struct reader *rd = calloc(1, sizeof(*rd));
	int r;

	if (!rd)
		return -ENOMEM;
	rd->name = name;
	jscan_open_mem(&rd->s, buf, len);
	r = load(rd, f, ret_info);
	free(rd);
	return r;
}
