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
