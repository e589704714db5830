/* The bundle: one archive of a run folder for Jenkins' archiveArtifacts, written the way
 * bsdtar writes (every return checked, r < ARCHIVE_WARN fatal), under a temporary name,
 * fsync'd and renamed, so that a full disk or an abort never leaves a partial bundle at
 * the final name. Members are RUN_ID/<file>; manifest.json is the last member, so that
 * it can carry the SHA-256 of every file hashed while the archive was written. */
#pragma once

#include <stdint.h>

#include "artifacts.h"

enum bundle_format { BUNDLE_TAR_ZST, BUNDLE_TAR_GZ, BUNDLE_ZIP };

/* "tar.zst", "tar.gz", "zip" (also "tgz", "zst"); -EINVAL otherwise. */
int bundle_format_parse(const char *s, enum bundle_format *ret);
const char *bundle_format_ext(enum bundle_format f);

struct bundle_cb {
	/* Called after every file was added and hashed: writes manifest.json into the run
	 * folder and returns its bytes (malloc'd) to be added as the last member. */
	int (*manifest)(void *ud, const struct artifact_list *l, char **ret, size_t *ret_len);
	/* Optional: bytes done of total, called at most every few MiB. */
	void (*progress)(void *ud, uint64_t done, uint64_t total);
	/* Optional: non-zero to abort (the temporary file is removed). */
	int (*aborted)(void *ud);
	void *ud;
};

/* Writes out_path from run_dir's files l (hashing them on the way). */
int bundle_write(const char *run_dir, const char *run_id, struct artifact_list *l,
		 enum bundle_format f, const char *out_path, const struct bundle_cb *cb);
