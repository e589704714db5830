/* libyaml events to a tree of struct ynode, converting libyaml's problem/mark reports to
 * one err_set() line at this boundary. */
#include "yamltree.h"
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Deep enough for any schema of ours, shallow enough for a small stack. */
#define MAX_DEPTH 32

struct yctx {
	yaml_parser_t parser;
	const char *label;
	const char *buf;
	size_t len;
};

static int fail_at(const struct yctx *c, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_at(const struct yctx *c, int line, int column, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(EBADMSG, "%s:%d:%d: %s", c->label, line, column, what);
}

/* libyaml's reader errors (bad encoding) carry a byte offset instead of a mark. */
static void offset_to_mark(const struct yctx *c, size_t off, int *line, int *column)
{
	*line = 1;
	*column = 1;
	for (size_t i = 0; i < off && i < c->len; i++) {
		if (c->buf[i] == '\n') {
			(*line)++;
			*column = 1;
		} else {
			(*column)++;
		}
	}
}

static int parser_fail(struct yctx *c)
{
	yaml_parser_t *p = &c->parser;
	int line, column;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		offset_to_mark(c, p->problem_offset, &line, &column);
	} else {
		line = (int)p->problem_mark.line + 1;
		column = (int)p->problem_mark.column + 1;
	}
	if (p->context)
		return err_set(EBADMSG, "%s:%d:%d: %s %s", c->label, line, column,
			       p->problem ? p->problem : "invalid YAML", p->context);
	return err_set(EBADMSG, "%s:%d:%d: %s", c->label, line, column,
		       p->problem ? p->problem : "invalid YAML");
}

static int next_event(struct yctx *c, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&c->parser, ev))
		return parser_fail(c);
	return 0;
}

void ytree_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ytree_free(n->items[i]);
	free(n->items);
	free(n->value);
	free(n);
}

static int push_item(struct ynode *parent, struct ynode *child)
{
	struct ynode **items = realloc(parent->items, (parent->n + 1) * sizeof(*items));

	if (!items)
		return -ENOMEM;
	parent->items = items;
	parent->items[parent->n++] = child;
	return 0;
}

/* Builds the node that starts with ev (consumed by the caller afterwards). */
static int load_node(struct yctx *c, yaml_event_t *ev, int depth, struct ynode **ret)
{
	struct ynode *n = NULL;
	yaml_event_t sub;
	bool have_sub = false;
	int r = 0;

	if (ev->type == YAML_ALIAS_EVENT)
		return fail_at(c, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			       "alias '*%.100s' is not supported: write the value out",
			       (const char *)ev->data.alias.anchor);
	if (ev->type != YAML_SCALAR_EVENT && ev->type != YAML_SEQUENCE_START_EVENT &&
	    ev->type != YAML_MAPPING_START_EVENT)
		return fail_at(c, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			       "%s", "expected a value");
	if (depth > MAX_DEPTH)
		return fail_at(c, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			       "%s", "nested too deeply");
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->line = (int)ev->start_mark.line + 1;
	n->column = (int)ev->start_mark.column + 1;

	if (ev->type == YAML_SCALAR_EVENT) {
		size_t len = ev->data.scalar.length;
		n->type = YNODE_SCALAR;
		if (memchr(ev->data.scalar.value, '\0', len)) {
			r = fail_at(c, n->line, n->column, "%s", "a NUL character in a value");
			goto out;
		}
		n->value = strndup((const char *)ev->data.scalar.value, len);
		if (!n->value) {
			r = -ENOMEM;
			goto out;
		}
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		goto out;
	}

	n->type = ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQUENCE : YNODE_MAPPING;
	for (;;) {
		struct ynode *child = NULL;

		if ((r = next_event(c, &sub)) < 0)
			goto out;
		have_sub = true;
		if (sub.type == YAML_SEQUENCE_END_EVENT || sub.type == YAML_MAPPING_END_EVENT)
			break;
		if ((r = load_node(c, &sub, depth + 1, &child)) < 0)
			goto out;
		if (n->type == YNODE_MAPPING && n->n % 2 == 0) {
			/* A key: a scalar, not seen before in this mapping. */
			if (child->type != YNODE_SCALAR) {
				r = fail_at(c, child->line, child->column, "%s",
					    "a key must be a plain word, not a list or mapping");
				ytree_free(child);
				goto out;
			}
			for (size_t i = 0; i < n->n; i += 2) {
				if (strcmp(n->items[i]->value, child->value) == 0) {
					r = fail_at(c, child->line, child->column,
						    "duplicate key '%.200s' (first at line %d)",
						    child->value, n->items[i]->line);
					ytree_free(child);
					goto out;
				}
			}
		}
		if ((r = push_item(n, child)) < 0) {
			ytree_free(child);
			goto out;
		}
		yaml_event_delete(&sub);
		have_sub = false;
	}
out:
	if (have_sub)
		yaml_event_delete(&sub);
	if (r < 0) {
		ytree_free(n);
		return r;
	}
	*ret = n;
	return 0;
}

int ytree_parse(const char *label, const char *buf, size_t len, struct ynode **ret)
{
	struct yctx c = { .label = label, .buf = buf, .len = len };
	struct ynode *root = NULL;
	yaml_event_t ev;
	bool have_ev = false;
	int r;

	if (!yaml_parser_initialize(&c.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)buf, len);

	/* stream start, document start (or an empty stream) */
	if ((r = next_event(&c, &ev)) < 0)
		goto out;
	yaml_event_delete(&ev);
	if ((r = next_event(&c, &ev)) < 0)
		goto out;
	have_ev = true;
	if (ev.type == YAML_STREAM_END_EVENT) {
		r = err_set(EBADMSG, "%s:1:1: empty document", label);
		goto out;
	}
	yaml_event_delete(&ev);
	have_ev = false;
	if ((r = next_event(&c, &ev)) < 0)
		goto out;
	have_ev = true;
	if ((r = load_node(&c, &ev, 0, &root)) < 0)
		goto out;
	yaml_event_delete(&ev);
	have_ev = false;
	/* document end, then the stream must end */
	if ((r = next_event(&c, &ev)) < 0)
		goto out;
	yaml_event_delete(&ev);
	if ((r = next_event(&c, &ev)) < 0)
		goto out;
	have_ev = true;
	if (ev.type != YAML_STREAM_END_EVENT) {
		r = fail_at(&c, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1, "%s",
			    "a second document: the file must hold one");
		goto out;
	}
out:
	if (have_ev)
		yaml_event_delete(&ev);
	yaml_parser_delete(&c.parser);
	if (r < 0) {
		ytree_free(root);
		return r;
	}
	*ret = root;
	return 0;
}

bool ynode_is_null(const struct ynode *n)
{
	return n->type == YNODE_SCALAR && n->plain &&
	       (!n->value[0] || !strcmp(n->value, "~") || !strcmp(n->value, "null") ||
		!strcmp(n->value, "Null") || !strcmp(n->value, "NULL"));
}

const char *ynode_type_name(enum ynode_type t)
{
	switch (t) {
	case YNODE_SCALAR: return "a value";
	case YNODE_SEQUENCE: return "a list";
	case YNODE_MAPPING: return "a mapping";
	}
	return "?";
}
