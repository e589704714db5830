/* The runner's side of lib/post.h: creating the step record and reading it back. */
#pragma once

#include <jansson.h>

#include "post.h"

struct post {
	const char *run_dir;
	double timeout;          /* seconds per step */
	json_t *steps;           /* [{name, ok, seconds, detail}] */
	json_t *warnings;        /* ["..."] */
};

void post_init(struct post *p, const char *run_dir, double timeout);
void post_done(struct post *p);
