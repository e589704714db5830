/* Keeping secrets out of everything sctprof prints or writes: access keys, secret keys,
 * session tokens, passwords in URLs and the signature parts of presigned URLs. Values
 * known to be secret are registered once (redact_add) and masked wherever they appear;
 * the shapes that are secret whatever their value (URL user information, signature
 * query parameters, Authorization headers) are masked by pattern. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define REDACTED "REDACTED"

/* Remembers value (a copy) as secret; values shorter than 4 characters are ignored, as
 * masking them would garble ordinary text. Returns 0 or -ENOMEM. */
int redact_add(const char *value);
/* Forgets every registered value (tests). */
void redact_reset(void);

/* True for environment variable names whose values are secret: *SECRET*, *TOKEN*,
 * *PASSWORD*, *PASSWD*, *CREDENTIAL*, *API_KEY*, and every AWS_* but the harmless
 * AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE and AWS_ENDPOINT_URL. */
bool redact_env_name(const char *name);

/* True for query parameter names that carry a signature or credential
 * (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token, Signature, sig, token...). */
bool redact_query_name(const char *name, size_t len);

/* A copy of text with every registered value, every URL's user information and every
 * signature query value replaced by REDACTED. NULL on allocation failure. */
char *redact_text(const char *text);

/* A copy of url for display: user information and signature query values masked. */
char *redact_url(const char *url);

/* url without user information, query or fragment: where an object is, to print and
 * record. NULL on allocation failure. */
char *redact_url_location(const char *url);

/* One HTTP header line (as libcurl's debug callback shows it), in place semantics via
 * a copy: Authorization, Proxy-Authorization, Cookie and x-amz-security-token values
 * are masked, and the rest goes through redact_text(). */
char *redact_header(const char *line);

/* Masks text in place, for fixed buffers: the result is truncated to size. */
void redact_buf(char *buf, size_t size);
