/* A small YAML document tree built from libyaml's event parser, for sctprof's own data
 * files. Every node keeps its line and column, so that a schema check can name where a
 * value is wrong. Deliberately plain: scalars are text (no tag resolution, so "3.10"
 * stays "3.10"), aliases are refused (no expansion bombs, no cycles), mapping keys must
 * be scalars and unique, nesting is bounded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum ynode_type { YNODE_SCALAR, YNODE_SEQUENCE, YNODE_MAPPING };

struct ynode {
	enum ynode_type type;
	int line, column;       /* 1-based, where the node starts */
	char *value;            /* scalar text, NUL-terminated (NUL bytes are refused) */
	bool plain;             /* scalar written without quotes */
	bool quoted;            /* scalar written in '...' or "..." on its line */
	struct ynode **items;   /* sequence: items; mapping: key, value, key, value, ... */
	size_t n;               /* number of entries in items */
};

/* Parses buf (len bytes) as exactly one YAML document. label names the input in errors:
 * "LABEL:LINE:COLUMN: problem". Returns 0, -ENOMEM, or -EBADMSG with err_set(). */
int ytree_parse(const char *label, const char *buf, size_t len, struct ynode **ret);
void ytree_free(struct ynode *n);

/* A plain empty scalar, "~", "null" or "Null"/"NULL": YAML's null. */
bool ynode_is_null(const struct ynode *n);
const char *ynode_type_name(enum ynode_type t);
