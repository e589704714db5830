/* Secret redaction for everything sctprof writes about a run. */
#include "redact.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char **environ;

static const char *const secret_words[] = {
	"SECRET", "TOKEN", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "SIGNATURE", NULL
};

static bool contains_ci(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

static bool secret_name_n(const char *name, size_t len)
{
	if (len >= 4 && strncasecmp(name, "AWS_", 4) == 0)
		return true;
	for (size_t i = 0; secret_words[i]; i++)
		if (contains_ci(name, len, secret_words[i]))
			return true;
	return false;
}

bool redact_is_secret_name(const char *name)
{
	return secret_name_n(name, strlen(name));
}

/* A growable output buffer. */
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

/* The text put into b, or NULL (and b freed) when an allocation failed. */
static char *finish(struct buf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

/* Replaces every occurrence of val in s by REDACTED. Takes s; NULL on ENOMEM. */
static char *mask_value(char *s, const char *val)
{
	size_t vlen = strlen(val);
	char *hit;

	while ((hit = strstr(s, val))) {
		struct buf b = { 0 };
		put(&b, s, (size_t)(hit - s));
		put(&b, REDACTED, strlen(REDACTED));
		put(&b, hit + vlen, strlen(hit + vlen));
		free(s);
		if (!(s = finish(&b)))
			return NULL;
	}
	return s;
}

/* Masks the values of secret environment variables in s. Takes s (may be NULL). */
static char *mask_env_values(char *s)
{
	for (char **e = environ; s && e && *e; e++) {
		const char *eq = strchr(*e, '=');

		if (eq && secret_name_n(*e, (size_t)(eq - *e)) && strlen(eq + 1) >= 4)
			s = mask_value(s, eq + 1);
	}
	return s;
}

static char **registered;
static size_t n_registered;

int redact_add(const char *value)
{
	char **v;

	if (!value || strlen(value) < 4)
		return 0;
	for (size_t i = 0; i < n_registered; i++)
		if (strcmp(registered[i], value) == 0)
			return 0;
	v = realloc(registered, (n_registered + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	registered = v;
	registered[n_registered] = strdup(value);
	if (!registered[n_registered])
		return -ENOMEM;
	n_registered++;
	return 0;
}

/* As mask_env_values(), for the values given to redact_add(). Takes s (may be NULL). */
static char *mask_registered(char *s)
{
	for (size_t i = 0; s && i < n_registered; i++)
		s = mask_value(s, registered[i]);
	return s;
}

char *redact_string(const char *s)
{
	struct buf b = { 0 };
	const char *p = s;

	put(&b, "", 0);
	while (*p) {
		const char *scheme = strstr(p, "://");
		const char *eq = strchr(p, '=');

		/* URL credentials: "scheme://user:pass@host" becomes "scheme://" REDACTED "@host" */
		if (scheme && (!eq || scheme < eq)) {
			const char *auth = scheme + 3;
			size_t span = strcspn(auth, "/?#@ \t\"'");
			put(&b, p, (size_t)(auth - p));
			if (auth[span] == '@') {
				put(&b, REDACTED, strlen(REDACTED));
				p = auth + span;
			} else {
				p = auth;
			}
			continue;
		}
		/* NAME=value (env assignment, query parameter, --opt=value) with a secret NAME. */
		if (eq) {
			const char *name = eq;
			size_t vlen;
			while (name > p && (isalnum((unsigned char)name[-1]) || name[-1] == '_' ||
					    name[-1] == '-' || name[-1] == '.'))
				name--;
			put(&b, p, (size_t)(eq + 1 - p));
			vlen = strcspn(eq + 1, "&; \t\"'");
			if (eq > name && secret_name_n(name, (size_t)(eq - name)) && vlen > 0)
				put(&b, REDACTED, strlen(REDACTED));
			else
				put(&b, eq + 1, vlen);
			p = eq + 1 + vlen;
			continue;
		}
		put(&b, p, strlen(p));
		break;
	}
	return mask_registered(mask_env_values(finish(&b)));
}

int redact_argv(char *const *argv, size_t n, struct strv *ret)
{
	bool next_secret = false;
	int r;

	for (size_t i = 0; i < n; i++) {
		const char *a = argv[i];
		char *red;

		if (next_secret) {
			next_secret = false;
			if ((r = strv_push(ret, REDACTED)) < 0)
				return r;
			continue;
		}
		if (a[0] == '-' && !strchr(a, '=')) {
			const char *name = a + strspn(a, "-");
			if (*name && secret_name_n(name, strlen(name)))
				next_secret = true;
		}
		red = redact_string(a);
		if (!red)
			return -ENOMEM;
		if ((r = strv_consume(ret, red)) < 0)
			return r;
	}
	return 0;
}

char *redact_header(const char *line)
{
	static const char *const names[] = {
		"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
		"x-amz-security-token", NULL,
	};
	const char *colon = strchr(line, ':');

	for (size_t i = 0; colon && names[i]; i++) {
		size_t len = (size_t)(colon - line);
		if (strlen(names[i]) == len && strncasecmp(line, names[i], len) == 0) {
			struct buf b = { 0 };
			put(&b, line, len + 1);
			put(&b, " " REDACTED, strlen(REDACTED) + 1);
			return finish(&b);
		}
	}
	return redact_string(line);
}

char *redact_url_location(const char *url)
{
	struct buf b = { 0 };
	const char *scheme = strstr(url, "://"), *host, *end, *at = NULL;

	if (!scheme)
		return redact_string(url);
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
	return mask_registered(finish(&b));
}

void redact_buf(char *buf, size_t size)
{
	char *r;

	if (!size)
		return;
	r = redact_string(buf);
	snprintf(buf, size, "%s", r ? r : REDACTED);
	free(r);
}
