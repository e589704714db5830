/* Parsing usage texts for completion (see usage.h for the two forms read). */
#include "usage.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* An option name: "-p", "--profile" (not "--" alone). */
static bool is_option(const char *w)
{
	return w[0] == '-' && (isalpha((unsigned char)w[1]) ||
			       (w[1] == '-' && isalpha((unsigned char)w[2])));
}

/* A value placeholder: capitals (KIND, RUN_DIR, X.Y), or choices joined by '|'. */
static bool is_value(const char *w)
{
	bool upper = false;

	if (!*w || *w == '-')
		return false;
	if (strchr(w, '|'))
		return true;
	for (const char *p = w; *p; p++) {
		if (islower((unsigned char)*p))
			return false;
		if (isupper((unsigned char)*p))
			upper = true;
	}
	return upper;
}

static bool is_literal(const char *w)
{
	if (!islower((unsigned char)*w))
		return false;
	for (const char *p = w; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

static int add_opt(struct usage_spec *s, const char *name, size_t len, const char *value)
{
	struct usage_opt *v;

	for (size_t i = 0; i < s->n_opts; i++)
		if (strlen(s->opts[i].name) == len && !strncmp(s->opts[i].name, name, len)) {
			if (!s->opts[i].value && value && !(s->opts[i].value = strdup(value)))
				return -ENOMEM;
			return 0;
		}
	v = realloc(s->opts, (s->n_opts + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->opts = v;
	v[s->n_opts].name = strndup(name, len);
	v[s->n_opts].value = value ? strdup(value) : NULL;
	if (!v[s->n_opts].name || (value && !v[s->n_opts].value)) {
		free(v[s->n_opts].name);
		free(v[s->n_opts].value);
		return -ENOMEM;
	}
	s->n_opts++;
	return 0;
}

/* "-v|--verbose" (or "--profile=KIND"): every alternative, each taking value. */
static int add_alternatives(struct usage_spec *s, const char *w, const char *value)
{
	const char *p = w;

	while (*p) {
		size_t len = strcspn(p, "|=");
		int r;
		if (len > 1 && is_option(p) && (r = add_opt(s, p, len, value)) < 0)
			return r;
		p += len;
		if (*p == '=')
			break;
		if (*p == '|')
			p++;
	}
	return 0;
}

/* A synopsis word, brackets removed. */
struct word {
	char *w;
	bool in_group;  /* inside [...] */
	bool closes;    /* a ']' ended the word: what follows is outside its group */
};

static int synopsis(struct usage_spec *s, const char *text, size_t len, const char *name)
{
	char *buf = strndup(text, len), *save = NULL;
	struct word *ws = NULL;
	size_t n = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	int depth = 0;

	for (char *t = strtok_r(buf, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		struct word *nw;
		size_t l;
		bool closes = false;

		while (*t == '[') {
			t++;
			depth++;
		}
		l = strlen(t);
		while (l > 0 && t[l - 1] == ']') {
			t[--l] = '\0';
			closes = true;
			depth--;
		}
		/* "X.Y[.Z" keeps its inner bracket: values are not looked into. */
		if (!*t || !strcmp(t, "|") || !strcmp(t, "usage:"))
			continue;
		nw = realloc(ws, (n + 1) * sizeof(*ws));
		if (!nw) {
			r = -ENOMEM;
			goto out;
		}
		ws = nw;
		ws[n++] = (struct word){ .w = t, .in_group = depth > 0 || closes, .closes = closes };
	}
	for (size_t i = 0; i < n; i++) {
		const char *w = ws[i].w;

		if (!strcmp(w, "sctprof")) {
			/* A synopsis line starts: skip the command's own name. */
			if (name && i + 1 < n && !strcmp(ws[i + 1].w, name))
				i++;
			continue;
		}
		if (!strcmp(w, "--")) {
			s->command = true;
			continue;
		}
		if (is_option(w)) {
			const char *value = NULL;
			if (strchr(w, '='))
				value = strchr(w, '=') + 1;
			else if (!ws[i].closes && i + 1 < n && !is_option(ws[i + 1].w) &&
				 strcmp(ws[i + 1].w, "--") != 0 && (ws[i].in_group || is_value(ws[i + 1].w)))
				/* "[--threshold 10%]": within a group, the word after an option
				 * is its value, whatever it looks like. */
				value = ws[++i].w;
			if ((r = add_alternatives(s, w, value)) < 0)
				goto out;
			continue;
		}
		if (strcmp(w, "OPTIONS") != 0 && (!is_value(w) || islower((unsigned char)*w))) {
			/* "validate|refresh" or "bash": literal arguments. */
			char *alt = strdup(w), *save2 = NULL;
			if (!alt) {
				r = -ENOMEM;
				goto out;
			}
			for (char *a = strtok_r(alt, "|", &save2); a; a = strtok_r(NULL, "|", &save2))
				if (is_literal(a) && (r = strv_push(&s->literals, a)) < 0)
					break;
			free(alt);
			if (r < 0)
				goto out;
		}
	}
out:
	free(ws);
	free(buf);
	return r;
}

/* "  -p, --profile KIND     text": the names, then a value word if there is one; two
 * spaces end the head of the line and start the description. */
static int option_line(struct usage_spec *s, const char *line, size_t len)
{
	const char *gap = strstr(line, "  ");
	char *buf, *save = NULL, *names[4];
	const char *value = NULL;
	size_t n = 0;
	int r = 0;

	if (gap && (size_t)(gap - line) < len)
		len = (size_t)(gap - line);
	buf = strndup(line, len);
	if (!buf)
		return -ENOMEM;
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		size_t l = strlen(t);
		if (l > 0 && t[l - 1] == ',')
			t[l - 1] = '\0';
		if (is_option(t) && n < 4) {
			names[n++] = t;
			continue;
		}
		if (n > 0 && is_value(t))
			value = t;
		break;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = add_alternatives(s, names[i], value);
	free(buf);
	return r;
}

int usage_parse(const char *usage, const char *name, struct usage_spec *ret)
{
	struct usage_spec s = { 0 };
	const char *p = usage, *end_syn = strstr(usage, "\n\n");
	int r;

	if (!end_syn)
		end_syn = usage + strlen(usage);
	r = synopsis(&s, usage, (size_t)(end_syn - usage), name);
	while (r == 0 && *p) {
		size_t len = strcspn(p, "\n"), indent = strspn(p, " ");
		if (p >= end_syn && indent >= 1 && indent <= 8 && is_option(p + indent))
			r = option_line(&s, p + indent, len - indent);
		p += len;
		if (*p == '\n')
			p++;
	}
	if (r < 0) {
		usage_spec_free(&s);
		return r;
	}
	*ret = s;
	return 0;
}

void usage_spec_free(struct usage_spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_opts; i++) {
		free(s->opts[i].name);
		free(s->opts[i].value);
	}
	free(s->opts);
	strv_free(&s->literals);
	*s = (struct usage_spec){ 0 };
}

const struct usage_opt *usage_find(const struct usage_spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_opts; i++)
		if (!strcmp(s->opts[i].name, name))
			return &s->opts[i];
	return NULL;
}
