/* Icicle SVG of a pstats call graph (flame.h).
 *
 * cProfile keeps caller -> callee totals, not whole stacks, so the tree is rebuilt the
 * way gprof does: a callee reached from a caller gets that edge's cumulative time, and
 * its own callees share that time in the proportions they have overall. A function
 * already on the path (recursion, mutual recursion, cycles) is not entered again: its
 * time is already inside the frame above. Children never exceed their parent's width
 * (recursive edges count time twice; they are scaled down), frames narrower than half a
 * pixel are left out, and the frame count and depth are bounded, so a graph with many
 * paths cannot blow up. */
#include "flame.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pstats.h"

#define WIDTH 1200.0
#define FRAME_H 17
#define TOP 34
#define MAX_DEPTH 256
#define MAX_FRAMES 50000

struct frame {
	size_t func;
	int depth;
	double x, w;      /* in seconds */
};

struct child {
	size_t func;
	double w;
};

struct flame {
	const struct pstats *ps;
	size_t *adj_start;          /* callees of each function: CSR over edge indices */
	size_t *adj;
	bool *on_path;
	struct frame *frames;
	size_t n_frames, cap_frames;
	double min_w;
	int max_depth_seen;
	bool truncated;
	double *root_w;
};

static int push_frame(struct flame *fl, size_t func, int depth, double x, double w)
{
	if (fl->n_frames >= MAX_FRAMES) {
		fl->truncated = true;
		return 0;
	}
	if (fl->n_frames == fl->cap_frames) {
		size_t cap = fl->cap_frames ? fl->cap_frames * 2 : 1024;
		struct frame *p = realloc(fl->frames, cap * sizeof(*p));
		if (!p)
			return err_set(ENOMEM, "out of memory drawing the profile");
		fl->frames = p;
		fl->cap_frames = cap;
	}
	fl->frames[fl->n_frames++] = (struct frame){ func, depth, x, w };
	if (depth > fl->max_depth_seen)
		fl->max_depth_seen = depth;
	return 0;
}

static int cmp_child(const void *a, const void *b)
{
	const struct child *x = a, *y = b;

	if (x->w != y->w)
		return x->w > y->w ? -1 : 1;
	return x->func < y->func ? -1 : x->func > y->func;
}

static int expand(struct flame *fl, size_t func, int depth, double x, double w)
{
	const struct pstats *ps = fl->ps;
	const struct pstats_func *f = &ps->funcs[func];
	struct child *kids = NULL;
	size_t nk = 0;
	double sum = 0, scale;
	int k;

	if ((k = push_frame(fl, func, depth, x, w)) < 0)
		return k;
	if (depth + 1 >= MAX_DEPTH || fl->truncated || f->ct <= 0) {
		if (depth + 1 >= MAX_DEPTH)
			fl->truncated = true;
		return 0;
	}
	fl->on_path[func] = true;
	kids = malloc((fl->adj_start[func + 1] - fl->adj_start[func] + 1) * sizeof(*kids));
	if (!kids) {
		k = err_set(ENOMEM, "out of memory drawing the profile");
		goto out;
	}
	scale = w / f->ct;
	for (size_t i = fl->adj_start[func]; i < fl->adj_start[func + 1]; i++) {
		const struct pstats_edge *e = &ps->callers[fl->adj[i]];
		if (fl->on_path[e->callee] || e->ct <= 0)
			continue;
		kids[nk].func = e->callee;
		kids[nk].w = e->ct * scale;
		sum += kids[nk].w;
		nk++;
	}
	if (sum > w) {
		for (size_t i = 0; i < nk; i++)
			kids[i].w *= w / sum;
	}
	qsort(kids, nk, sizeof(*kids), cmp_child);
	for (size_t i = 0; i < nk; i++) {
		if (kids[i].w < fl->min_w)
			break;
		if ((k = expand(fl, kids[i].func, depth + 1, x, kids[i].w)) < 0)
			goto out;
		x += kids[i].w;
	}
	k = 0;
out:
	fl->on_path[func] = false;
	free(kids);
	return k;
}

static void xml_escape(FILE *f, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s && n < max; s++, n++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			/* control characters are not allowed in XML 1.0 */
			if ((unsigned char)*s < 0x20 && *s != '\t')
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/* Counts UTF-8 characters, for how many fit in a frame. */
static size_t bytes_for_chars(const char *s, size_t chars)
{
	size_t i = 0, c = 0;

	while (s[i] && c < chars) {
		i++;
		while ((s[i] & 0xc0) == 0x80)
			i++;
		c++;
	}
	return i;
}

static size_t utf8_len(const char *s)
{
	size_t c = 0;

	for (; *s; s++)
		if ((*s & 0xc0) != 0x80)
			c++;
	return c;
}

int flame_write_svg(FILE *out, const struct pstats *ps, const char *title)
{
	struct flame fl = { .ps = ps };
	size_t *roots = NULL, n_roots = 0, *fill = NULL;
	double total = 0, x = 0, px;
	char label[4096];
	int k, height;

	fl.adj_start = calloc(ps->n_funcs + 2, sizeof(size_t));
	fl.adj = malloc((ps->n_callers + 1) * sizeof(size_t));
	fl.on_path = calloc(ps->n_funcs + 1, sizeof(bool));
	roots = malloc((ps->n_funcs + 1) * sizeof(size_t));
	fill = calloc(ps->n_funcs + 1, sizeof(size_t));
	if (!fl.adj_start || !fl.adj || !fl.on_path || !roots || !fill) {
		k = err_set(ENOMEM, "out of memory drawing the profile");
		goto out;
	}
	/* callees of each caller, in edge order */
	for (size_t i = 0; i < ps->n_callers; i++)
		fl.adj_start[ps->callers[i].caller + 1]++;
	for (size_t i = 0; i < ps->n_funcs; i++)
		fl.adj_start[i + 1] += fl.adj_start[i];
	for (size_t i = 0; i < ps->n_callers; i++) {
		size_t c = ps->callers[i].caller;
		fl.adj[fl.adj_start[c] + fill[c]++] = i;
	}
	/* Roots: functions with calls no recorded caller accounts for (the first exec,
	 * a thread's bootstrap, the profiler's own disable()). A root's width is its
	 * cumulative time less what callers outside its own subtree account for. */
	{
		bool *desc = calloc(ps->n_funcs + 1, sizeof(bool));
		size_t *stack = malloc((ps->n_funcs + 1) * sizeof(size_t));
		double *weight = calloc(ps->n_funcs + 1, sizeof(double));
		if (!desc || !stack || !weight) {
			free(desc);
			free(stack);
			free(weight);
			k = err_set(ENOMEM, "out of memory drawing the profile");
			goto out;
		}
		for (size_t i = 0; i < ps->n_real && n_roots < 64; i++) {
			const struct pstats_func *f = &ps->funcs[i];
			int64_t seen = 0;
			size_t sp = 0;
			double w = f->ct;
			for (size_t j = 0; j < f->n_callers; j++)
				if (ps->callers[f->first_caller + j].caller != i)
					seen += ps->callers[f->first_caller + j].nc;
			if (f->ct <= 0 || (f->n_callers && seen >= f->nc))
				continue;
			if (f->n_callers) {
				memset(desc, 0, (ps->n_funcs + 1) * sizeof(bool));
				stack[sp++] = i;
				desc[i] = true;
				while (sp) {
					size_t c = stack[--sp];
					for (size_t q = fl.adj_start[c]; q < fl.adj_start[c + 1]; q++) {
						size_t callee = ps->callers[fl.adj[q]].callee;
						if (!desc[callee]) {
							desc[callee] = true;
							stack[sp++] = callee;
						}
					}
				}
				for (size_t j = 0; j < f->n_callers; j++) {
					const struct pstats_edge *e = &ps->callers[f->first_caller + j];
					if (!desc[e->caller])
						w -= e->ct;
				}
			}
			if (w <= 0)
				continue;
			weight[i] = w;
			roots[n_roots++] = i;
			total += w;
		}
		free(desc);
		free(stack);
		/* widest first; equal widths in file order */
		for (size_t i = 1; i < n_roots; i++) {
			size_t v = roots[i], j = i;
			while (j > 0 && weight[roots[j - 1]] < weight[v]) {
				roots[j] = roots[j - 1];
				j--;
			}
			roots[j] = v;
		}
		fl.root_w = weight;
	}
	if (n_roots == 0) {
		/* all in cycles: start from the most expensive function */
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < ps->n_real; i++)
			if (ps->funcs[i].ct > 0 && (best == SIZE_MAX || ps->funcs[i].ct > ps->funcs[best].ct))
				best = i;
		if (best != SIZE_MAX) {
			roots[n_roots++] = best;
			total = fl.root_w[best] = ps->funcs[best].ct;
		}
	}
	fl.min_w = total * 0.5 / WIDTH;
	for (size_t i = 0; i < n_roots; i++) {
		double w = fl.root_w[roots[i]];
		if (w < fl.min_w)
			continue;
		if ((k = expand(&fl, roots[i], 0, x, w)) < 0)
			goto out;
		x += w;
	}

	height = TOP + (fl.max_depth_seen + 1) * FRAME_H + 24;
	px = total > 0 ? (WIDTH - 20) / total : 0;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"Verdana, sans-serif\" font-size=\"11\">\n",
		(int)WIDTH, height, (int)WIDTH, height);
	fputs("<style>g.f:hover rect{stroke:#000;stroke-width:0.8}text{pointer-events:none}</style>\n", out);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#f8f8f4\"/>\n",
		(int)WIDTH, height);
	fputs("<text x=\"600\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">", out);
	xml_escape(out, title ? title : "cProfile: cumulative time, callers above callees", 300);
	fputs("</text>\n", out);
	fprintf(out, "<text x=\"10\" y=\"%d\" fill=\"#555\">%lld function calls (%lld primitive) in %.3f s; "
		"hover a frame for its numbers%s</text>\n", height - 8,
		(long long)ps->total_calls, (long long)ps->prim_calls, ps->total_tt,
		fl.truncated ? "; deep or very many paths were cut" : "");
	for (size_t i = 0; i < fl.n_frames; i++) {
		const struct frame *fr = &fl.frames[i];
		const struct pstats_func *f = &ps->funcs[fr->func];
		double rx = 10 + fr->x * px, rw = fr->w * px;
		uint32_t h = hash_str(f->file) ^ (hash_str(f->name) * 31u);
		size_t chars;

		pstats_label(f, label, sizeof(label));
		fputs("<g class=\"f\"><title>", out);
		xml_escape(out, label, SIZE_MAX);
		fprintf(out, "\n%.6f s here (%.2f%% of %.6f s)\ncalls %lld/%lld, tottime %.6f s, cumtime %.6f s</title>",
			fr->w, total > 0 ? 100.0 * fr->w / total : 0.0, total,
			(long long)f->nc, (long long)f->cc, f->tt, f->ct);
		fprintf(out, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" rx=\"2\" "
			"fill=\"rgb(%u,%u,%u)\"/>", rx, TOP + fr->depth * FRAME_H, rw, FRAME_H - 1,
			205 + h % 50, 90 + (h >> 8) % 120, 40 + (h >> 16) % 60);
		chars = rw > 14 ? (size_t)((rw - 6) / 6.6) : 0;
		if (chars >= 3) {
			const char *shown = f->name;
			bool cut;
			pstats_label(f, label, sizeof(label));
			/* the function name alone when the whole label does not fit */
			shown = utf8_len(label) <= chars ? label : f->name;
			cut = utf8_len(shown) > chars;
			fprintf(out, "<text x=\"%.2f\" y=\"%d\">", rx + 3, TOP + fr->depth * FRAME_H + 12);
			xml_escape(out, shown, cut ? bytes_for_chars(shown, chars - 2) : SIZE_MAX);
			if (cut)
				fputs("..", out);
			fputs("</text>", out);
		}
		fputs("</g>\n", out);
	}
	fputs("</svg>\n", out);
	k = 0;
out:
	free(fl.adj_start);
	free(fl.adj);
	free(fl.on_path);
	free(fl.frames);
	free(fl.root_w);
	free(roots);
	free(fill);
	return k;
}
