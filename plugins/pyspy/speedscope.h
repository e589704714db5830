/* Reads a speedscope file of "sampled" profiles (the format py-spy writes with
 * --format speedscope: https://www.speedscope.app/file-format-schema.json) into a call
 * tree, streaming, so an hour of samples needs memory for the tree, not the file. The
 * profiles (one per thread) are merged, weighted by their "weights". */
#pragma once

#include "calltree.h"

struct speedscope_info {
	size_t profiles;
	char unit[32];       /* of the first profile: "seconds", "none", ... */
	char exporter[64];   /* "py-spy@0.4.2" */
};

/* Returns 0, or a negative errno with err_set() naming the file and the byte offset. */
int speedscope_load(const char *path, struct flame *f, struct speedscope_info *ret_info);
/* The same from a buffer (for tests and fuzzing); name is used in messages. */
int speedscope_load_mem(const void *buf, size_t len, const char *name, struct flame *f,
			struct speedscope_info *ret_info);
