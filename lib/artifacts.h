/* The files of a run folder, with size and SHA-256, as listed in manifest.json. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct artifact {
	char *name;                /* relative to the run folder, '/'-separated */
	uint64_t size;
	unsigned char sha256[32];
	bool hashed;
};

struct artifact_list {
	struct artifact *v;
	size_t n;
	uint64_t total;            /* bytes */
	size_t skipped;            /* symlinks and special files left out */
};

/* Walks run_dir (sub-folders included, symlinks never followed: they are left out and
 * counted in skipped), sorted by name; manifest.json, temporary files and the records of
 * `run --inject` (.proc-PID, unredacted command lines) are left out. */
int artifacts_scan(const char *run_dir, struct artifact_list *ret);
/* Hashes every file that is not hashed yet (used without an archive). */
int artifacts_hash(const char *run_dir, struct artifact_list *l);
void artifacts_free(struct artifact_list *l);
/* Lower-case hex of an artifact's digest into out[65]. */
void artifact_hex(const struct artifact *a, char out[65]);

/* Streaming SHA-256 through OpenSSL's libcrypto. */
struct sha256;
struct sha256 *sha256_new(void);
int sha256_update(struct sha256 *h, const void *data, size_t len);
int sha256_final(struct sha256 *h, unsigned char out[32]);  /* frees h */
void sha256_free(struct sha256 *h);
