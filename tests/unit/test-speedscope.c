/* speedscope -> call tree -> SVG flame graph and top-functions table
 * (plugins/pyspy/speedscope.c, plugins/common/calltree.c). */
#include "tap.h"

#include <errno.h>

#include "error.h"
#include "calltree.h"
#include "speedscope.h"

/* Two threads, py-spy's shape: root-first frame indices, weights of 1/rate seconds;
 * "shared" after "profiles", as py-spy writes it. f is recursive in one sample. */
static const char pyspy_like[] =
	"{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
	"\"profiles\":["
	"{\"type\":\"sampled\",\"name\":\"Thread 1 \\\"MainThread\\\"\",\"unit\":\"seconds\","
	" \"startValue\":0,\"endValue\":0.04,"
	" \"samples\":[[0,1],[0,1],[0,1,2],[0,2,2]],\"weights\":[0.01,0.01,0.01,0.01]},"
	"{\"type\":\"sampled\",\"name\":\"Thread 2 \\\"worker\\\"\",\"unit\":\"seconds\","
	" \"startValue\":0,\"endValue\":0.01,\"samples\":[[3]],\"weights\":[0.01]}],"
	"\"shared\":{\"frames\":["
	"{\"name\":\"<module>\",\"file\":\"/t/main.py\",\"line\":1,\"col\":null},"
	"{\"name\":\"work\",\"file\":\"/t/main.py\",\"line\":5},"
	"{\"name\":\"f\",\"file\":\"/t/lib.py\",\"line\":9},"
	"{\"name\":\"run\",\"file\":\"/usr/lib/python3.11/threading.py\",\"line\":975}]},"
	"\"activeProfileIndex\":null,\"exporter\":\"py-spy@0.4.2\",\"name\":\"py-spy profile\"}";

static int load(const char *text, struct flame *f, struct speedscope_info *info)
{
	flame_init(f);
	err_clear();
	return speedscope_load_mem(text, strlen(text), "test", f, info);
}

static int bad(const char *text)
{
	struct flame f;
	int r = load(text, &f, NULL);

	flame_free(&f);
	return r;
}

int main(void)
{
	struct speedscope_info info;
	struct sbuf svg = { 0 }, top = { 0 };
	struct flame f;

	is_int(load(pyspy_like, &f, &info), 0, "py-spy's speedscope loads");
	is_int(f.n_samples, 5, "5 samples in 2 profiles");
	is_int(info.profiles, 2, "2 profiles counted");
	is_str(info.unit, "seconds", "the unit is read");
	is_str(info.exporter, "py-spy@0.4.2", "the exporter is read");
	ok(f.root.total > 0.0499 && f.root.total < 0.0501, "weights sum to 0.05 s");
	ok(f.root.child && !strcmp(f.frames[f.root.child->frame].name, "<module>"),
	   "children are sorted by name: <module> first");

	is_int(flame_svg(&f, "title <&>", "s", &svg), 0, "the SVG renders");
	ok(svg.s && strstr(svg.s, "<svg ") && strstr(svg.s, "</svg>"), "it is an SVG document");
	ok(svg.s && strstr(svg.s, "title &lt;&amp;&gt;"), "the title is escaped");
	ok(svg.s && strstr(svg.s, "<title>work (/t/main.py:5) (0.03 s, 60.00%)</title>"),
	   "work has 3 of 5 samples, with its full path in the tooltip");
	ok(svg.s && strstr(svg.s, "width=\"1180.0\"") == NULL,
	   "no frame spans everything: there are two roots");

	is_int(flame_top(&f, 10, "s", &top), 0, "the table renders");
	/* Own: work 0.02, f 0.02, run 0.01. Total: <module> 0.04, work 0.03, f 0.02 (once
	 * per stack though it appears twice in the last sample). */
	ok(top.s && strstr(top.s, "0.04  80.00%              0   0.00%  <module> (/t/main.py)"),
	   "<module> is 80% total, 0% own");
	ok(top.s && strstr(top.s, "0.02  40.00%           0.02  40.00%  f (/t/lib.py)"),
	   "a recursive function counts once per stack in its total");
	flame_free(&f);
	sbuf_free(&svg);
	sbuf_free(&top);

	/* Frames may come before the profiles; weights may be missing (one per sample). */
	is_int(load("{\"shared\":{\"frames\":[{\"name\":\"a\"}]},\"profiles\":[{\"type\":"
		    "\"sampled\",\"samples\":[[0],[0]]}]}", &f, NULL), 0,
	       "frames first and no weights");
	ok(f.root.total == 2, "two samples weigh 2");
	flame_free(&f);

	ok(bad("{\"profiles\":[{\"samples\":[[-1]]}]}") == -EBADMSG, "a negative index is refused");
	ok(bad("{\"profiles\":[{\"samples\":[[1.5]]}]}") == -EBADMSG, "a fractional index is refused");
	ok(bad("{\"profiles\":[{\"samples\":[[0]],\"weights\":[-1]}]}") == -EBADMSG,
	   "a negative weight is refused");
	ok(bad("{\"profiles\":[{\"samples\":[0]}]}") == -EBADMSG, "a sample must be an array");
	ok(bad("{\"shared\":{}}") == -EBADMSG, "a file without profiles is refused");
	ok(bad("{\"profiles\":[{\"samples\":[[0]") == -EBADMSG, "a truncated file is refused");
	ok(strstr(err_msg_for(-EBADMSG), "byte ") != NULL, "the error names the byte offset");
	ok(bad("[]") == -EBADMSG, "a top-level array is refused");

	/* Unknown frames (indices past the frame table) still draw, as "<frame N>". */
	is_int(load("{\"profiles\":[{\"samples\":[[7]],\"weights\":[1]}]}", &f, NULL), 0,
	       "samples with undescribed frames load");
	svg = (struct sbuf){ 0 };
	flame_svg(&f, "t", "s", &svg);
	ok(svg.s && strstr(svg.s, "&lt;frame 7&gt;"), "an undescribed frame is labelled by index");
	top = (struct sbuf){ 0 };
	is_int(flame_top(&f, 5, "s", &top), 0, "the table handles undescribed frames");
	flame_free(&f);
	sbuf_free(&svg);
	sbuf_free(&top);

	{
		/* A stack deeper than FLAME_MAX_DEPTH is cut, not recursed into. */
		struct sbuf deep = { 0 };

		sbuf_printf(&deep, "{\"profiles\":[{\"samples\":[[");
		for (int i = 0; i < FLAME_MAX_DEPTH + 100; i++)
			sbuf_printf(&deep, "%s%d", i ? "," : "", i % 3);
		sbuf_printf(&deep, "]],\"weights\":[1]}]}");
		is_int(load(deep.s, &f, NULL), 0, "a very deep stack loads");
		is_int(f.truncated, 1, "and is counted as cut");
		svg = (struct sbuf){ 0 };
		is_int(flame_svg(&f, "t", "s", &svg), 0, "and draws");
		flame_free(&f);
		sbuf_free(&svg);
		sbuf_free(&deep);
	}
	return tap_done();
}
