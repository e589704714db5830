/* sctprof bundle: (re)bundle a run folder, e.g. one whose run was killed before its
 * bundle was written, or after adding files to it. Updates manifest.json's artifact
 * list and writes OUTDIR/RUN_ID.<ext> beside the folder. */
#include "bundle.h"
#include "cmd.h"
#include "error.h"
#include "exitcode.h"
#include "fsutil.h"
#include "log.h"
#include "manifest.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: sctprof bundle [--format tar.zst|tar.gz|zip] [-o FILE] RUN_DIR\n"
	"\n"
	"Bundle a run folder into RUN_DIR.tar.zst beside it (or FILE), refreshing the\n"
	"artifact list and SHA-256 values in its manifest.json.\n";

#ifndef SCTPROF_FRONT /* the engine only: see cmd/cmd.h */

extern const struct cmd cmd_bundle;

struct ctx {
	const char *run_dir;
	json_t *m;
};

static int manifest_cb(void *ud, const struct artifact_list *l, char **ret, size_t *ret_len)
{
	struct ctx *c = ud;

	return manifest_write(c->m, c->run_dir, l, true, ret, ret_len);
}

static int bundle_main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum bundle_format fmt = BUNDLE_TAR_ZST;
	struct artifact_list l = { 0 };
	struct ctx ctx = { 0 };
	struct bundle_cb cb = { .manifest = manifest_cb, .ud = &ctx };
	const char *out = NULL;
	char *dir = NULL, *id, *target = NULL, mpath[PATH_MAX];
	struct stat st;
	int c, r, code = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f:o:h", options, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (bundle_format_parse(optarg, &fmt) < 0)
				return cmd_usage_error(&cmd_bundle, "unknown --format '%s'", optarg);
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			return cmd_help(&cmd_bundle);
		default:
			return cmd_usage_error(&cmd_bundle, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(&cmd_bundle, "give exactly one run folder");
	dir = path_absolute(argv[optind]);
	if (!dir)
		return EXIT_SOFTWARE;
	while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
		dir[strlen(dir) - 1] = '\0';
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_error("run folder '%s' does not exist", argv[optind]);
		code = EXIT_NOINPUT;
		goto out;
	}
	id = strrchr(dir, '/') + 1;
	ctx.run_dir = dir;
	snprintf(mpath, sizeof(mpath), "%s/manifest.json", dir);
	if (access(mpath, F_OK) == 0) {
		json_error_t je;
		ctx.m = json_load_file(mpath, 0, &je);
		if (!ctx.m || !json_is_object(ctx.m)) {
			log_error("'%s':%d:%d: %s", mpath, je.line, je.column, je.text);
			code = EXIT_DATAERR;
			goto out;
		}
	} else {
		ctx.m = json_pack("{s:s}", "run_id", id);
	}
	if (out)
		target = strdup(out);
	else if (asprintf(&target, "%s.%s", dir, bundle_format_ext(fmt)) < 0)
		target = NULL;
	if (!target) {
		code = EXIT_SOFTWARE;
		goto out;
	}
	r = artifacts_scan(dir, &l);
	if (r == 0)
		r = bundle_write(dir, id, &l, fmt, target, &cb);
	if (r < 0) {
		code = log_fail(r, EXIT_IOERR);
		goto out;
	}
	printf("%s\n", target);
out:
	artifacts_free(&l);
	json_decref(ctx.m);
	free(target);
	free(dir);
	return code;
}

#endif /* SCTPROF_FRONT */

const struct cmd cmd_bundle = {
	.name = "bundle",
	.summary = "bundle a run folder (again) with a fresh manifest",
	.usage = usage,
	.run = CMD_ENGINE(bundle_main),
};
