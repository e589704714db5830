/* Sending a file (a bundle) where SCT keeps its logs: an S3 bucket (s3://bucket/prefix/,
 * AWS Signature V4) or any HTTP(S) URL that takes a PUT (presigned URLs, WebDAV,
 * Artifactory). Files above the multipart threshold go to S3 in parts sent in parallel,
 * each with its MD5 and SHA-256 checked by the server; memory stays bounded whatever the
 * size because parts are read from the file as they are sent. Connection errors, 5xx
 * and 429 are retried with exponential backoff and jitter (Retry-After honoured); other
 * answers fail at once with the server's own message. Nothing secret reaches a message,
 * a trace or the record (redact.h). */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "http.h"

#define UPLOAD_MIB (1024ull * 1024ull)

struct upload_progress {
	uint64_t done;          /* bytes the server has taken (a retried part counts again) */
	uint64_t total;
	unsigned retries;
	double elapsed;         /* seconds since the upload started */
	bool final;             /* the last call, once the upload ended either way */
};

struct upload_opts {
	/* S3 only. endpoint: an S3-compatible store ("http://127.0.0.1:9000"), addressed
	 * path-style; NULL for $AWS_ENDPOINT_URL, else AWS (virtual-hosted style).
	 * region: NULL for awscred.h's look-up. profile: NULL for $AWS_PROFILE. */
	const char *endpoint;
	const char *region;
	const char *profile;
	struct http_tls tls;
	unsigned attempts;              /* per request; 0 means 5 */
	unsigned retry_max_time;        /* seconds a request may spend retrying; 0 means 300 */
	unsigned stall_time;            /* seconds without progress that fail an attempt; 0: 60 */
	unsigned parallel;              /* parts in flight; 0 means 4 */
	uint64_t part_size;             /* 0 means 16 MiB (grown to stay within 10000 parts) */
	uint64_t multipart_threshold;   /* 0 means 64 MiB; larger files go in parts */
	/* Called at most a few times a second, and once more with final set. */
	void (*progress)(const struct upload_progress *p, void *ud);
	void *progress_ud;
	/* When it becomes non-zero (a signal handler's flag) the upload stops, and a
	 * multipart upload is aborted. May be NULL. */
	volatile sig_atomic_t *cancel;
};

struct upload_result {
	char *url;              /* s3://bucket/key, or the HTTP(S) URL without credentials or query */
	char *http_url;         /* the object's HTTP(S) location, likewise cleaned */
	char *etag;             /* as the server gave it, quotes removed; NULL if none */
	uint64_t size;
	unsigned parts;         /* 0 for a single PUT */
	uint64_t part_size;
	unsigned retries;
	double seconds;
	char *checksum;         /* "md5:HEX" of a single PUT, "md5-of-parts:HEX-N" otherwise */
};

/* Uploads path to url. A url ending in '/' (s3://bucket/prefix/, https://host/dir/)
 * gets the file's base name appended. Errors (negative errno, err_set): -ENOENT the file,
 * -EINVAL the URL, -ENOKEY no credentials, -EPROTO the server refused or TLS failed,
 * -EAGAIN/-ECONNREFUSED/-ETIMEDOUT/-ECONNRESET/-EHOSTUNREACH still failing after the
 * retries, -ECANCELED cancelled, -EIO reading the file. */
int upload_file(const char *path, const char *url, const struct upload_opts *o,
		struct upload_result *ret);
void upload_result_free(struct upload_result *r);

/* Records r for the bundle at bundle_path in upload.json in the bundle's folder (one
 * entry per bundle name, replaced on a new upload; written atomically). */
int upload_record_write(const char *bundle_path, const struct upload_result *r);

/* The sctprof exit status (exitcode.h) for a failure r of upload_file(). */
int upload_exit_status(int r);
