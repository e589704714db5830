/* AWS credentials and region, found the way the AWS CLI finds them: the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), else a profile
 * (AWS_PROFILE, default "default") of the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials). The region comes from
 * AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the config file
 * (AWS_CONFIG_FILE, default ~/.aws/config), else us-east-1. Every secret found is
 * registered with redact_add(). */
#pragma once

struct aws_cred {
	char *access_key;
	char *secret_key;
	char *session_token;    /* NULL when there is none */
	char *region;
	char *source;           /* "environment" or "profile 'NAME' in '/path'" */
};

/* profile: NULL for AWS_PROFILE or "default". -ENOKEY (err_set) when no credentials
 * are found; -EINVAL for a half-given pair. */
int aws_cred_load(const char *profile, struct aws_cred *ret);
void aws_cred_free(struct aws_cred *c);

/* The value of key in [section] of an INI-style AWS file, or NULL (allocated). */
char *aws_ini_get(const char *path, const char *section, const char *key);
