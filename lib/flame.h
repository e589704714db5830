/* An icicle picture of a cProfile call graph, as a standalone SVG: callers above
 * callees, widths proportional to inclusive (cumulative) time, a <title> on each frame
 * with its numbers. The same profile always gives the same bytes. */
#pragma once

#include <stdio.h>

struct pstats;

/* title may be NULL. Returns 0 or a negative errno with err_set(). */
int flame_write_svg(FILE *f, const struct pstats *ps, const char *title);
