/* Call tree, SVG flame graph and top-functions table: see calltree.h. */
#include "calltree.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SVG_WIDTH 1200.0
#define FRAME_H 16
#define PAD_TOP 44
#define PAD_BOTTOM 24
#define PAD_SIDE 10.0
#define MIN_WIDTH_PX 0.1
#define CHAR_PX 7.0

void flame_init(struct flame *f)
{
	memset(f, 0, sizeof(*f));
	f->root.frame = UINT32_MAX;
}

void flame_free(struct flame *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_slots; i++)
		free(f->slots[i]);
	free(f->slots);
	for (size_t i = 0; i < f->n_frames; i++) {
		free(f->frames[i].name);
		free(f->frames[i].file);
	}
	free(f->frames);
	flame_init(f);
}

static int frames_reserve(struct flame *f, size_t n)
{
	struct flame_frame *fr;
	size_t cap;

	if (n <= f->cap_frames)
		return 0;
	cap = f->cap_frames ? f->cap_frames : 256;
	while (cap < n)
		cap *= 2;
	fr = realloc(f->frames, cap * sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	memset(fr + f->cap_frames, 0, (cap - f->cap_frames) * sizeof(*fr));
	f->frames = fr;
	f->cap_frames = cap;
	return 0;
}

int flame_set_frame(struct flame *f, size_t i, const char *name, const char *file, long line)
{
	struct flame_frame *fr;

	if (i >= UINT32_MAX || frames_reserve(f, i + 1) < 0)
		return -ENOMEM;
	fr = &f->frames[i];
	free(fr->name);
	free(fr->file);
	fr->name = strdup(name ? name : "?");
	fr->file = file && *file ? strdup(file) : NULL;
	fr->line = line;
	if (!fr->name || (file && *file && !fr->file))
		return -ENOMEM;
	if (i >= f->n_frames)
		f->n_frames = i + 1;
	return 0;
}

static size_t slot_of(const struct flame *f, const struct flame_node *parent, unsigned frame)
{
	uint64_t h = (uint64_t)(uintptr_t)parent * 0x9E3779B97F4A7C15ull;

	h ^= (uint64_t)frame * 0xC2B2AE3D27D4EB4Full;
	h ^= h >> 29;
	return (size_t)(h & (f->n_slots - 1));
}

static int rehash(struct flame *f)
{
	size_t n = f->n_slots ? f->n_slots * 2 : 1024;
	struct flame_node **old = f->slots;
	size_t old_n = f->n_slots;

	f->slots = calloc(n, sizeof(*f->slots));
	if (!f->slots) {
		f->slots = old;
		return -ENOMEM;
	}
	f->n_slots = n;
	for (size_t i = 0; i < old_n; i++) {
		struct flame_node *node = old[i];
		size_t j;

		if (!node)
			continue;
		for (j = slot_of(f, node->parent, node->frame); f->slots[j];
		     j = (j + 1) & (n - 1))
			;
		f->slots[j] = node;
	}
	free(old);
	return 0;
}

struct flame_node *flame_child(struct flame *f, struct flame_node *parent, unsigned frame)
{
	struct flame_node *node;
	size_t j;

	if (f->err)
		return NULL;
	if ((f->n_nodes + 1) * 2 > f->n_slots && rehash(f) < 0) {
		f->err = -ENOMEM;
		return NULL;
	}
	for (j = slot_of(f, parent, frame); (node = f->slots[j]); j = (j + 1) & (f->n_slots - 1))
		if (node->parent == parent && node->frame == frame)
			return node;
	node = calloc(1, sizeof(*node));
	if (!node) {
		f->err = -ENOMEM;
		return NULL;
	}
	node->parent = parent;
	node->frame = frame;
	node->depth = parent->depth + 1;
	node->next = parent->child;
	parent->child = node;
	f->slots[j] = node;
	f->n_nodes++;
	return node;
}

static const char *frame_name(const struct flame *f, unsigned frame)
{
	return frame < f->n_frames && f->frames[frame].name ? f->frames[frame].name : NULL;
}

static const char *frame_file(const struct flame *f, unsigned frame)
{
	return frame < f->n_frames ? f->frames[frame].file : NULL;
}

static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return a ? 1 : b ? -1 : 0;
	return strcmp(a, b);
}

static int node_cmp(const struct flame *f, const struct flame_node *a, const struct flame_node *b)
{
	int c = cmp_str(frame_name(f, a->frame), frame_name(f, b->frame));

	if (c)
		return c;
	if ((c = cmp_str(frame_file(f, a->frame), frame_file(f, b->frame))))
		return c;
	return a->frame < b->frame ? -1 : a->frame > b->frame;
}

/* Merge sort of a sibling list, so that the drawing does not depend on sample order. */
static struct flame_node *sort_list(const struct flame *f, struct flame_node *head)
{
	struct flame_node *a = NULL, *b = NULL, **tail, *out = NULL;
	size_t n = 0;

	for (struct flame_node *p = head; p; p = p->next)
		n++;
	if (n < 2)
		return head;
	/* Split in two halves. */
	a = head;
	for (size_t i = 1; i < n / 2; i++)
		head = head->next;
	b = head->next;
	head->next = NULL;
	a = sort_list(f, a);
	b = sort_list(f, b);
	tail = &out;
	while (a && b) {
		struct flame_node **take = node_cmp(f, a, b) <= 0 ? &a : &b;

		*tail = *take;
		tail = &(*take)->next;
		*take = (*take)->next;
	}
	*tail = a ? a : b;
	return out;
}

/* Visits every node below the root, depth first, calling enter (which may return false
 * to skip the node's children) and leave. No recursion: stacks can be deep. */
static void walk(const struct flame *f, bool (*enter)(struct flame_node *, void *),
		 void (*leave)(struct flame_node *, void *), void *ctx)
{
	struct flame_node *node = f->root.child;

	while (node) {
		if (enter(node, ctx) && node->child) {
			node = node->child;
			continue;
		}
		while (node) {
			if (leave)
				leave(node, ctx);
			if (node->next) {
				node = node->next;
				break;
			}
			node = node->parent == &f->root ? NULL : node->parent;
		}
	}
}

static bool sort_enter(struct flame_node *node, void *ctx)
{
	node->child = sort_list(ctx, node->child);
	return true;
}

static void total_leave(struct flame_node *node, void *ctx)
{
	(void)ctx;
	node->total += node->self;
	node->parent->total += node->total;
}

static bool zero_enter(struct flame_node *node, void *ctx)
{
	(void)ctx;
	node->total = 0;
	return true;
}

void flame_finish(struct flame *f)
{
	f->root.child = sort_list(f, f->root.child);
	walk(f, sort_enter, NULL, f);
	f->root.total = f->root.self;
	walk(f, zero_enter, total_leave, NULL);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

void flame_label(const struct flame *f, unsigned frame, struct sbuf *out, bool full_path)
{
	const char *name = frame_name(f, frame), *file = frame_file(f, frame);

	if (!name) {
		sbuf_printf(out, "<frame %u>", frame);
		return;
	}
	sbuf_printf(out, "%s", name);
	if (file) {
		sbuf_printf(out, " (%s", full_path ? file : base_name(file));
		if (f->frames[frame].line > 0)
			sbuf_printf(out, ":%ld", f->frames[frame].line);
		sbuf_putc(out, ')');
	}
}

/* --- SVG ------------------------------------------------------------------------- */

struct draw {
	const struct flame *f;
	struct sbuf *out;
	double scale;        /* px per weight unit */
	unsigned height;     /* drawing height in px */
	const char *unit;
	struct sbuf label;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Children sit side by side from their parent's left edge. */
static void place_children(struct flame_node *node)
{
	double x = node->x;

	for (struct flame_node *c = node->child; c; c = c->next) {
		c->x = x;
		x += c->total;
	}
}

static bool draw_enter(struct flame_node *node, void *ctx)
{
	struct draw *d = ctx;
	double w, x, y, pct;
	uint32_t h;
	size_t fit;

	place_children(node);
	w = node->total * d->scale;
	if (w < MIN_WIDTH_PX)
		return false;
	x = PAD_SIDE + node->x * d->scale;
	y = PAD_TOP + (double)d->height - (double)node->depth * FRAME_H;
	pct = d->f->root.total > 0 ? 100.0 * node->total / d->f->root.total : 0;
	d->label.len = 0;
	if (d->label.s)
		d->label.s[0] = '\0';
	flame_label(d->f, node->frame, &d->label, true);
	h = hash_str(frame_name(d->f, node->frame));
	sbuf_printf(d->out, "<g><title>");
	sbuf_xml(d->out, d->label.s ? d->label.s : "");
	sbuf_printf(d->out, " (%.6g %s, %.2f%%)</title><rect x=\"%.1f\" y=\"%.1f\" "
		    "width=\"%.1f\" height=\"%d\" fill=\"rgb(%u,%u,%u)\" rx=\"2\"/>",
		    node->total, d->unit, pct, x, y, w, FRAME_H - 1,
		    205 + (h % 50), (h >> 8) % 230, (h >> 16) % 55);
	fit = (size_t)((w - 6) / CHAR_PX);
	if (fit >= 3) {
		d->label.len = 0;
		flame_label(d->f, node->frame, &d->label, false);
		sbuf_printf(d->out, "<text x=\"%.1f\" y=\"%.1f\">", x + 3, y + 11.5);
		if (d->label.s && d->label.len > fit) {
			d->label.s[fit - 2] = '\0';
			sbuf_xml(d->out, d->label.s);
			sbuf_printf(d->out, "..");
		} else {
			sbuf_xml(d->out, d->label.s ? d->label.s : "");
		}
		sbuf_printf(d->out, "</text>");
	}
	sbuf_printf(d->out, "</g>\n");
	return true;
}

static bool depth_enter(struct flame_node *node, void *ctx)
{
	unsigned *max = ctx;

	if (node->depth > *max)
		*max = node->depth;
	return true;
}

int flame_svg(const struct flame *f, const char *title, const char *unit, struct sbuf *out)
{
	struct draw d = { .f = f, .out = out, .unit = unit };
	unsigned depth = 0;
	double width;
	int r;

	walk(f, depth_enter, NULL, &depth);
	d.height = depth * FRAME_H;
	width = SVG_WIDTH - 2 * PAD_SIDE;
	d.scale = f->root.total > 0 ? width / f->root.total : 0;
	sbuf_printf(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		    "<svg version=\"1.1\" width=\"%.0f\" height=\"%u\" "
		    "xmlns=\"http://www.w3.org/2000/svg\">\n"
		    "<style>text { font-family: Verdana, sans-serif; font-size: 12px; "
		    "fill: #000; pointer-events: none; } rect:hover { stroke: #000; }</style>\n"
		    "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n"
		    "<text x=\"%.0f\" y=\"24\" text-anchor=\"middle\" style=\"font-size:17px\">",
		    SVG_WIDTH, d.height + PAD_TOP + PAD_BOTTOM + FRAME_H, SVG_WIDTH / 2);
	sbuf_xml(out, title);
	sbuf_printf(out, "</text>\n<text x=\"%.0f\" y=\"%u\">%.6g %s in %zu samples%s</text>\n",
		    PAD_SIDE, d.height + PAD_TOP + FRAME_H + 16, f->root.total, unit,
		    f->n_samples, f->root.total > 0 ? "" : ": nothing to draw");
	/* The root is not drawn; its children sit on the bottom row. */
	((struct flame *)f)->root.x = 0;
	place_children((struct flame_node *)&f->root);
	walk(f, draw_enter, NULL, &d);
	sbuf_printf(out, "</svg>\n");
	r = out->err ? out->err : d.label.err;
	sbuf_free(&d.label);
	return r;
}

/* --- top functions ----------------------------------------------------------------- */

struct fn {
	const char *name, *file;
	double self, incl;
	unsigned on_path;
};

struct top {
	const struct flame *f;
	struct fn *fns;
	unsigned *fn_of;     /* frame -> function */
};

static int by_frame_name(const void *a, const void *b, void *ctx)
{
	const struct flame *f = ctx;
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	int c = cmp_str(frame_name(f, x), frame_name(f, y));

	return c ? c : cmp_str(frame_file(f, x), frame_file(f, y));
}

static bool top_enter(struct flame_node *node, void *ctx)
{
	struct top *t = ctx;
	struct fn *fn = &t->fns[t->fn_of[node->frame]];

	fn->self += node->self;
	if (fn->on_path++ == 0)
		fn->incl += node->total;
	return true;
}

static void top_leave(struct flame_node *node, void *ctx)
{
	struct top *t = ctx;

	t->fns[t->fn_of[node->frame]].on_path--;
}

static int by_self(const void *a, const void *b)
{
	const struct fn *x = a, *y = b;

	return x->self < y->self ? 1 : x->self > y->self ? -1 : cmp_str(x->name, y->name);
}

static int by_incl(const void *a, const void *b)
{
	const struct fn *x = a, *y = b;

	return x->incl < y->incl ? 1 : x->incl > y->incl ? -1 : cmp_str(x->name, y->name);
}

static void table(struct sbuf *out, struct fn *fns, size_t n_fns, size_t n, double total,
		  const char *unit, bool self)
{
	sbuf_printf(out, "%14s %7s %14s %7s  function (file)\n", self ? "own" : "total", "%",
		    self ? "total" : "own", "%");
	for (size_t i = 0; i < n_fns && i < n; i++) {
		double a = self ? fns[i].self : fns[i].incl, b = self ? fns[i].incl : fns[i].self;

		if (a <= 0)
			break;
		sbuf_printf(out, "%14.6g %6.2f%% %14.6g %6.2f%%  %s", a, 100 * a / total, b,
			    100 * b / total, fns[i].name);
		if (fns[i].file)
			sbuf_printf(out, " (%s)", fns[i].file);
		sbuf_putc(out, '\n');
	}
	(void)unit;
}

int flame_top(const struct flame *f, size_t n, const char *unit, struct sbuf *out)
{
	struct top t = { .f = f };
	unsigned *order = NULL, max_frame = 0;
	size_t n_fns = 0, n_idx;
	int r = 0;

	/* Frames referenced by samples may lack a description (a truncated file). */
	n_idx = f->n_frames;
	for (size_t i = 0; i < f->n_slots; i++)
		if (f->slots[i] && f->slots[i]->frame >= max_frame)
			max_frame = f->slots[i]->frame + 1;
	/* A truncated file may lack the last frames' descriptions, not millions of them:
	 * an index far past the table is corrupt data, not a size to allocate. */
	if ((size_t)max_frame > n_idx + (1u << 20)) {
		sbuf_printf(out, "corrupt profile: a sample refers to frame %u of %zu\n",
			    max_frame - 1, f->n_frames);
		return out->err ? out->err : -EBADMSG;
	}
	if (max_frame > n_idx)
		n_idx = max_frame;
	if (f->root.total <= 0) {
		sbuf_printf(out, "no samples\n");
		return out->err;
	}
	order = malloc((n_idx ? n_idx : 1) * sizeof(*order));
	t.fn_of = malloc((n_idx ? n_idx : 1) * sizeof(*t.fn_of));
	t.fns = calloc(n_idx ? n_idx : 1, sizeof(*t.fns));
	if (!order || !t.fn_of || !t.fns) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < n_idx; i++)
		order[i] = i;
	qsort_r(order, n_idx, sizeof(*order), by_frame_name, (void *)f);
	for (size_t i = 0; i < n_idx; i++) {
		if (i == 0 || by_frame_name(&order[i - 1], &order[i], (void *)f) != 0) {
			t.fns[n_fns].name = frame_name(f, order[i]) ? frame_name(f, order[i]) :
					    "<unknown frame>";
			t.fns[n_fns].file = frame_file(f, order[i]);
			n_fns++;
		}
		t.fn_of[order[i]] = (unsigned)(n_fns - 1);
	}
	walk(f, top_enter, top_leave, &t);
	sbuf_printf(out, "Heaviest functions by own weight (%s; own = at the top of the stack):\n",
		    unit);
	qsort(t.fns, n_fns, sizeof(*t.fns), by_self);
	table(out, t.fns, n_fns, n, f->root.total, unit, true);
	sbuf_printf(out, "\nHeaviest functions by total weight (%s; total = anywhere on the "
		    "stack):\n", unit);
	qsort(t.fns, n_fns, sizeof(*t.fns), by_incl);
	table(out, t.fns, n_fns, n, f->root.total, unit, false);
	r = out->err;
out:
	free(order);
	free(t.fn_of);
	free(t.fns);
	return r;
}
