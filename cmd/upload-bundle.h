/* Shared by `sctprof upload` and `sctprof run --upload`: one bundle sent, with progress on
 * a terminal, the final URL printed on stdout, and upload.json written beside it. */
#pragma once

#include "upload.h"

#include <stdbool.h>

/* Uploads bundle to url with o (its progress fields are filled in here), prints the URL
 * (stdout) and a summary (stderr), records upload.json unless no_record. Returns 0 or an
 * exit status (exitcode.h), having printed the one-line reason. */
int cmd_upload_bundle(const char *bundle, const char *url, struct upload_opts *o,
		      bool no_record);
