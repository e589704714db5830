/* The one boundary to libcurl: handles set up the same way everywhere (TLS verified
 * unless asked otherwise, proxies from the environment, a user agent, redacted
 * --verbose traces), CURLcode turned into a negative errno plus a reason, and a small
 * GET for JSON APIs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

struct http_tls {
	const char *cacert;     /* CA bundle file, or NULL for the system's */
	bool insecure;          /* skip verification (the command warns) */
};

/* Initialises libcurl once per process. Returns 0 or a negative errno. */
int http_global_init(void);

/* A new easy handle with sctprof's defaults. NULL on allocation failure. */
CURL *http_easy_new(const struct http_tls *tls);

/* The errno that stands for c: -ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT, -ECONNRESET,
 * -EPROTO (TLS verification, a broken answer), -ENOMEM, -EIO... */
int http_errno(CURLcode c);

/* True when a failure with this code is worth another attempt (connection trouble). */
bool http_transient(CURLcode c);

/* A GET of url into a NUL-terminated body (at most max bytes). ret_status gets the
 * HTTP status. Network failures are a negative errno with err_set(); any status is
 * success at this level. The URL in messages is redacted. */
int http_get(const char *url, const struct http_tls *tls, const char *const *headers,
	     size_t max, long *ret_status, char **ret_body);
