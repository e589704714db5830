/* A call tree of stack samples, and the two views made from it: a self-contained SVG
 * flame graph (root at the bottom, width proportional to weight, a tooltip per frame, as
 * flamegraph.pl draws them) and a text table of the heaviest functions. Backends fill the
 * tree from whatever their tool wrote (py-spy's speedscope JSON, for one). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"

/* Deeper stacks are cut (and counted) rather than recursed into. */
#define FLAME_MAX_DEPTH 2048

struct flame_frame {
	char *name;
	char *file;      /* may be NULL */
	long line;       /* 0 when unknown */
};

struct flame_node {
	struct flame_node *parent, *child, *next;
	unsigned frame;
	unsigned depth;
	double self, total;
	double x;        /* left edge in weight units, set while drawing */
};

struct flame {
	struct flame_node root;
	struct flame_frame *frames;
	size_t n_frames, cap_frames;
	/* (parent, frame) -> child, open addressing. */
	struct flame_node **slots;
	size_t n_slots, n_nodes;
	size_t n_samples;
	size_t truncated;   /* samples deeper than FLAME_MAX_DEPTH */
	int err;            /* first allocation failure, sticky */
};

void flame_init(struct flame *f);
void flame_free(struct flame *f);

/* Sets frame i's description (copies the strings). */
int flame_set_frame(struct flame *f, size_t i, const char *name, const char *file, long line);

/* The child of parent for frame, created on first use; NULL when out of memory. */
struct flame_node *flame_child(struct flame *f, struct flame_node *parent, unsigned frame);

/* Sums self weights into totals; call once after all samples were added. */
void flame_finish(struct flame *f);

/* "name (file:line)" with the file's base name, as flame graphs label frames. */
void flame_label(const struct flame *f, unsigned frame, struct sbuf *out, bool full_path);

/* A self-contained SVG; unit names the weight ("samples", "s", "bytes"). */
int flame_svg(const struct flame *f, const char *title, const char *unit, struct sbuf *out);

/* The n heaviest functions by own and by inclusive weight (a recursive function counts
 * once per stack), as two aligned tables. */
int flame_top(const struct flame *f, size_t n, const char *unit, struct sbuf *out);
