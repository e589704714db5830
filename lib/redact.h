/* Keeping secrets out of manifests, logs and errors. A secret is the value of an
 * environment variable named like *SECRET*, *TOKEN*, *PASSWORD*, *PASSWD*, *KEY*,
 * *CREDENTIAL* or AWS_* (case-insensitive), the value of a command-line option so named,
 * a URL's user:password, and a presigned URL's signature and credential parameters. */
#pragma once

#include <stdbool.h>

#include "strv.h"

#define REDACTED "***"

bool redact_is_secret_name(const char *name);

/* A copy of s with every secret replaced by "***": URL credentials, presigned query
 * parameters, NAME=value pairs with a secret NAME, and any value of a secret environment
 * variable (at least 4 characters long) that appears verbatim. NULL on ENOMEM. */
char *redact_string(const char *s);

/* A copy of argv, redacted as above, plus the word after an option named like a secret
 * ("--password X", "--aws-secret-key X"). */
int redact_argv(char *const *argv, size_t n, struct strv *ret);

/* A value known to be secret whatever its name (credentials read from a file, a URL's
 * password): redact_string() and the functions below mask it from now on. Copies value;
 * values under 4 characters are ignored. Returns 0 or -ENOMEM. */
int redact_add(const char *value);

/* One HTTP header line as libcurl's debug callback shows it: the values of Authorization,
 * Proxy-Authorization, Cookie, Set-Cookie and x-amz-security-token become "***"; the rest
 * goes through redact_string(). NULL on ENOMEM. */
char *redact_header(const char *line);

/* url without user information, query or fragment, registered values masked: where an
 * object is, to print and record. NULL on ENOMEM. */
char *redact_url_location(const char *url);

/* redact_string() of buf into buf, truncated to size; on ENOMEM buf becomes "***". */
void redact_buf(char *buf, size_t size);
