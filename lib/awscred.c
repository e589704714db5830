/* AWS credential and region look-up (awscred.h). */
#include "awscred.h"
#include "error.h"
#include "redact.h"
#include "strutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *aws_ini_get(const char *path, const char *section, const char *key)
{
	FILE *f = fopen(path, "re");
	char line[4096], *found = NULL;
	int in = 0;

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		char *l = str_trim(line), *eq;
		if (*l == '#' || *l == ';' || !*l)
			continue;
		if (*l == '[') {
			char *end = strchr(l, ']');
			if (end) {
				*end = '\0';
				in = strcmp(str_trim(l + 1), section) == 0;
			}
			continue;
		}
		eq = strchr(l, '=');
		if (!in || !eq)
			continue;
		*eq = '\0';
		if (strcmp(str_trim(l), key) == 0)
			found = strdup(str_trim(eq + 1));
	}
	fclose(f);
	return found;
}

static char *home_file(const char *env, const char *rel)
{
	const char *v = getenv(env), *home = getenv("HOME");
	char *p = NULL;

	if (v && *v)
		return strdup(v);
	if (!home || !*home)
		return NULL;
	if (asprintf(&p, "%s/%s", home, rel) < 0)
		return NULL;
	return p;
}

static char *env_dup(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? strdup(v) : NULL;
}

int aws_cred_load(const char *profile, struct aws_cred *ret)
{
	struct aws_cred c = { 0 };
	char *credfile = NULL, *cfgfile = NULL, *cfgsec = NULL;
	int r = 0;

	if (!profile)
		profile = getenv("AWS_PROFILE");
	if (!profile || !*profile)
		profile = "default";

	c.access_key = env_dup("AWS_ACCESS_KEY_ID");
	c.secret_key = env_dup("AWS_SECRET_ACCESS_KEY");
	if (c.access_key || c.secret_key) {
		if (!c.access_key || !c.secret_key) {
			r = err_set(EINVAL, "AWS credentials: %s is set but %s is not",
				    c.access_key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
				    c.access_key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
			goto out;
		}
		c.session_token = env_dup("AWS_SESSION_TOKEN");
		c.source = strdup("environment");
	} else {
		credfile = home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
		if (credfile) {
			c.access_key = aws_ini_get(credfile, profile, "aws_access_key_id");
			c.secret_key = aws_ini_get(credfile, profile, "aws_secret_access_key");
			c.session_token = aws_ini_get(credfile, profile, "aws_session_token");
		}
		if (!c.access_key || !c.secret_key) {
			r = err_set(ENOKEY, "no AWS credentials: set AWS_ACCESS_KEY_ID and "
				    "AWS_SECRET_ACCESS_KEY, or a profile '%s' in '%s'", profile,
				    credfile ? credfile : "~/.aws/credentials");
			goto out;
		}
		if (asprintf(&c.source, "profile '%s' in '%s'", profile, credfile) < 0)
			c.source = NULL;
	}
	if (!c.source) {
		r = -ENOMEM;
		goto out;
	}

	c.region = env_dup("AWS_REGION");
	if (!c.region)
		c.region = env_dup("AWS_DEFAULT_REGION");
	if (!c.region) {
		cfgfile = home_file("AWS_CONFIG_FILE", ".aws/config");
		if (cfgfile) {
			if (strcmp(profile, "default") == 0)
				cfgsec = strdup("default");
			else if (asprintf(&cfgsec, "profile %s", profile) < 0)
				cfgsec = NULL;
			if (cfgsec)
				c.region = aws_ini_get(cfgfile, cfgsec, "region");
		}
	}
	if (!c.region)
		c.region = strdup("us-east-1");
	if (!c.region) {
		r = -ENOMEM;
		goto out;
	}
	if (redact_add(c.access_key) < 0 || redact_add(c.secret_key) < 0 ||
	    redact_add(c.session_token) < 0) {
		r = -ENOMEM;
		goto out;
	}
	*ret = c;
	memset(&c, 0, sizeof(c));
out:
	aws_cred_free(&c);
	free(credfile);
	free(cfgfile);
	free(cfgsec);
	return r;
}

void aws_cred_free(struct aws_cred *c)
{
	if (!c)
		return;
	if (c->secret_key)
		explicit_bzero(c->secret_key, strlen(c->secret_key));
	free(c->access_key);
	free(c->secret_key);
	free(c->session_token);
	free(c->region);
	free(c->source);
	memset(c, 0, sizeof(*c));
}
