/* What `sctprof report` and `sctprof diff` read, loaded whole into memory before any
 * parsing, so that the parsers can run inside the sandbox (sandbox.h) with no file
 * opened afterwards: one file, a run folder, or a bundle (RUN_ID.tar.zst, .tar.gz,
 * .zip: members under RUN_ID/), read through libarchive. From a folder or a bundle only
 * the files a report uses are kept: manifest.json, pstats files (*.stats, *.prof,
 * *.pstats), memray-stats*.json, scalene*.json and importtime*.log. */
#pragma once

#include <stddef.h>

struct input_file {
	char *name;        /* relative to the run folder, or the file's own name */
	char *data;        /* NUL-terminated (the NUL is not counted in len) */
	size_t len;
	size_t mapped;     /* data is a mapping of the file this long; 0: from bigmem.h */
};

enum input_kind { INPUT_FILE, INPUT_DIR, INPUT_ARCHIVE };

struct input {
	char *path;
	enum input_kind kind;
	struct input_file *files;   /* sorted by name */
	size_t n;
};

/* -ENOENT for a missing path; -EBADMSG for an archive libarchive cannot read. */
int input_load(const char *path, struct input **ret);
void input_free(struct input *in);

/* Whether a run folder's member of this name is one a report reads. */
int input_wanted(const char *name);
