/* Reading a command's usage text (the `usage` string of struct cmd, which `--help`
 * prints) for shell completion: completion is generated from the very strings the help
 * shows, so the two cannot drift apart.
 *
 * Two forms are read, as sctprof's usage texts write them:
 *   - the synopsis, from "usage:" to the first empty line:
 *       usage: sctprof bundle [--format tar.zst|tar.gz|zip] [-o FILE] RUN_DIR
 *     options in brackets, with the value they take; lower-case words after the command
 *     name are literal arguments ("sctprof hook bash");
 *   - option lines, indented by at most 8 columns:
 *       -p, --profile KIND     cprofile (default), ...
 * A value is a word in capitals (KIND, DIR, FILE, D) or a list of choices joined by '|'
 * (tar.zst|tar.gz|zip). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "strv.h"

struct usage_opt {
	char *name;       /* "-p", "--profile" */
	char *value;      /* "KIND", "tar.zst|tar.gz|zip", or NULL for a flag */
};

struct usage_spec {
	struct usage_opt *opts;
	size_t n_opts;
	struct strv literals;  /* literal arguments: "bash", "refresh" */
	bool command;          /* a bare "--" then a command ("run ... -- COMMAND") */
};

/* Reads usage; name is the command's name (words up to it are skipped in the synopsis),
 * or NULL for the program's own synopsis ("usage: sctprof [--version] ..."). */
int usage_parse(const char *usage, const char *name, struct usage_spec *ret);
void usage_spec_free(struct usage_spec *s);

/* The option named name, or NULL. */
const struct usage_opt *usage_find(const struct usage_spec *s, const char *name);
