/* Secret masking for output, logs, errors and written records (redact.h). The text
 * passes are simple scans: the inputs are one-line messages, headers and URLs. */
#include "redact.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char **secrets;
static size_t n_secrets;

int redact_add(const char *value)
{
	char **v;

	if (!value || strlen(value) < 4)
		return 0;
	for (size_t i = 0; i < n_secrets; i++)
		if (strcmp(secrets[i], value) == 0)
			return 0;
	v = realloc(secrets, (n_secrets + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	secrets = v;
	secrets[n_secrets] = strdup(value);
	if (!secrets[n_secrets])
		return -ENOMEM;
	n_secrets++;
	return 0;
}

void redact_reset(void)
{
	for (size_t i = 0; i < n_secrets; i++)
		free(secrets[i]);
	free(secrets);
	secrets = NULL;
	n_secrets = 0;
}

static bool contains_ci(const char *s, const char *word)
{
	return strcasestr(s, word) != NULL;
}

bool redact_env_name(const char *name)
{
	static const char *const harmless[] = {
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL",
		"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE", NULL,
	};
	static const char *const words[] = {
		"SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL", "API_KEY", "APIKEY",
		"PRIVATE_KEY", NULL,
	};

	for (size_t i = 0; words[i]; i++)
		if (contains_ci(name, words[i]))
			return true;
	if (strncmp(name, "AWS_", 4) != 0)
		return false;
	for (size_t i = 0; harmless[i]; i++)
		if (strcmp(name, harmless[i]) == 0)
			return false;
	return true;
}

bool redact_query_name(const char *name, size_t len)
{
	static const char *const names[] = {
		"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "Signature",
		"AWSAccessKeyId", "sig", "token", "access_token", "password", "X-Goog-Signature",
		"X-Goog-Credential", "api_key", "apikey", NULL,
	};

	for (size_t i = 0; names[i]; i++)
		if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
			return true;
	return false;
}

struct buf {
	char *s;
	size_t n, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static char *finish(struct buf *b)
{
	if (!b->oom && !b->s)
		put(b, "", 0);
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

static bool url_stop(char c)
{
	return c == '\0' || c == '/' || c == '?' || c == '#' || isspace((unsigned char)c) ||
	       c == '"' || c == '\'' || c == '<' || c == '>';
}

static bool value_stop(char c)
{
	return c == '\0' || c == '&' || c == '#' || isspace((unsigned char)c) || c == '"' ||
	       c == '\'' || c == '<' || c == '>' || c == ',' || c == ';';
}

/* Pass 1: URL user information ("scheme://user:pass@host") and signature query values. */
static char *mask_shapes(const char *text)
{
	struct buf b = { 0 };
	const char *p = text;

	while (*p) {
		const char *q = p;
		if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
			const char *host = p + 3, *at = NULL;
			for (q = host; !url_stop(*q); q++)
				if (*q == '@')
					at = q;
			put(&b, p, 3);
			if (at) {
				put(&b, REDACTED, strlen(REDACTED));
				put(&b, at, (size_t)(q - at));
			} else {
				put(&b, host, (size_t)(q - host));
			}
			p = q;
			continue;
		}
		if ((p[0] == '?' || p[0] == '&') && p[1]) {
			const char *name = p + 1, *eq;
			for (eq = name; *eq && (isalnum((unsigned char)*eq) || *eq == '-' || *eq == '_'); eq++)
				;
			if (*eq == '=' && redact_query_name(name, (size_t)(eq - name))) {
				put(&b, p, (size_t)(eq - p) + 1);
				for (q = eq + 1; !value_stop(*q); q++)
					;
				put(&b, REDACTED, strlen(REDACTED));
				p = q;
				continue;
			}
		}
		put(&b, p, 1);
		p++;
	}
	return finish(&b);
}

/* Pass 2: registered values wherever they appear. */
static char *mask_values(char *text)
{
	for (size_t i = 0; i < n_secrets && text; i++) {
		struct buf b = { 0 };
		const char *p = text, *hit;
		size_t len = strlen(secrets[i]);

		if (!strstr(text, secrets[i]))
			continue;
		while ((hit = strstr(p, secrets[i]))) {
			put(&b, p, (size_t)(hit - p));
			put(&b, REDACTED, strlen(REDACTED));
			p = hit + len;
		}
		put(&b, p, strlen(p));
		free(text);
		text = finish(&b);
	}
	return text;
}

char *redact_text(const char *text)
{
	if (!text)
		return NULL;
	return mask_values(mask_shapes(text));
}

char *redact_url(const char *url)
{
	return redact_text(url);
}

char *redact_url_location(const char *url)
{
	struct buf b = { 0 };
	const char *scheme = strstr(url, "://"), *host, *end, *at = NULL;

	if (!scheme)
		return redact_text(url);
	host = scheme + 3;
	for (end = host; *end && *end != '/' && *end != '?' && *end != '#'; end++)
		if (*end == '@')
			at = end;
	put(&b, url, (size_t)(host - url));
	if (at)
		host = at + 1;
	put(&b, host, (size_t)(end - host));
	host = end;
	end += strcspn(end, "?#");
	put(&b, host, (size_t)(end - host));
	return mask_values(finish(&b));
}

char *redact_header(const char *line)
{
	static const char *const names[] = {
		"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
		"x-amz-security-token", "X-Auth-Token", "X-JFrog-Art-Api", NULL,
	};
	const char *colon = strchr(line, ':');

	if (colon) {
		size_t len = (size_t)(colon - line);
		for (size_t i = 0; names[i]; i++) {
			if (strlen(names[i]) == len && strncasecmp(line, names[i], len) == 0) {
				struct buf b = { 0 };
				const char *eol = colon + strcspn(colon, "\r\n");
				put(&b, line, len + 1);
				put(&b, " " REDACTED, strlen(REDACTED) + 1);
				put(&b, eol, strlen(eol));
				return finish(&b);
			}
		}
	}
	return redact_text(line);
}

void redact_buf(char *buf, size_t size)
{
	char *r;

	if (!size)
		return;
	r = redact_text(buf);
	if (!r) {
		/* Failing closed: nothing is better than a leaked secret. */
		snprintf(buf, size, "%s", REDACTED);
		return;
	}
	snprintf(buf, size, "%s", r);
	free(r);
}
