/* manifest.json: what ran, how it ended, where, and every artifact with its SHA-256.
 * Secrets are redacted before anything reaches it (lib/redact.h). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "artifacts.h"

/* {"host", "container", "sct", "jenkins"}: facts about where the run happened. */
json_t *manifest_environment(void);
/* [{"name", "size", "sha256"}] */
json_t *manifest_artifacts(const struct artifact_list *l);
/* ISO 8601 UTC with milliseconds, e.g. "2026-11-27T10:15:00.123Z". */
json_t *manifest_time(double epoch_seconds);
/* Serialises m (two-space indent, trailing newline); malloc'd. */
char *manifest_dump(const json_t *m, size_t *ret_len);

/* Sets m's "artifacts" from l and writes run_dir/manifest.json (fsync'd when durable);
 * returns the bytes written (malloc'd), which a bundle then carries as its last member.
 * The bundle callback of `run` and of `sctprof bundle`. */
int manifest_write(json_t *m, const char *run_dir, const struct artifact_list *l, bool durable,
		   char **ret, size_t *ret_len);
