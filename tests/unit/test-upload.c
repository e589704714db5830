/* The pieces of uploading that need no server: secret masking for headers and URLs,
 * AWS credential look-up, URL checks, exit statuses and the upload.json record. */
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "awscred.h"
#include "error.h"
#include "exitcode.h"
#include "redact.h"
#include "upload.h"

static char dir[] = "/tmp/sctprof-test-upload-XXXXXX";

static void test_redact(void)
{
	char *s, buf[64];

	redact_add("s3cr3t-from-a-file");
	s = redact_string("signing with s3cr3t-from-a-file failed");
	is_str(s, "signing with *** failed", "a registered value is masked");
	free(s);
	s = redact_header("Authorization: AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=ab");
	is_str(s, "Authorization: ***", "Authorization header value masked");
	free(s);
	s = redact_header("X-Amz-Security-Token: tok");
	is_str(s, "X-Amz-Security-Token: ***", "session token header masked, any case");
	free(s);
	s = redact_header("PUT /b/k?X-Amz-Signature=abcdef&partNumber=1 HTTP/1.1");
	is_str(s, "PUT /b/k?X-Amz-Signature=***&partNumber=1 HTTP/1.1",
	       "request line: signature masked, the rest kept");
	free(s);
	s = redact_url_location("https://u:pw@host:8443/dav/x.tar.zst?X-Amz-Credential=A%2Fb#f");
	is_str(s, "https://host:8443/dav/x.tar.zst", "location: no credentials, query or fragment");
	free(s);
	snprintf(buf, sizeof(buf), "%s", "key s3cr3t-from-a-file here");
	redact_buf(buf, sizeof(buf));
	is_str(buf, "key *** here", "redact_buf masks in place");
}

static void test_awscred(void)
{
	struct aws_cred c = { 0 };
	char path[600];
	int r;

	snprintf(path, sizeof(path), "%s/credentials", dir);
	put_text(dir, "credentials", "[default]\naws_access_key_id = AKIADEFAULT\n"
		 "aws_secret_access_key = def-secret\n\n[ci]\n# comment\n"
		 "aws_access_key_id=AKIACI0001\naws_secret_access_key = ci-secret-value\n"
		 "aws_session_token = ci-token-value\n", -1);
	put_text(dir, "config", "[default]\nregion = eu-west-1\n[profile ci]\nregion = us-west-2\n",
		 -1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	snprintf(path, sizeof(path), "%s/config", dir);
	setenv("AWS_CONFIG_FILE", path, 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unsetenv("AWS_PROFILE");

	r = aws_cred_load("ci", &c);
	is_int(r, 0, "profile 'ci' found");
	is_str(c.access_key, "AKIACI0001", "its access key");
	is_str(c.session_token, "ci-token-value", "its session token");
	is_str(c.region, "us-west-2", "its region from the config file");
	aws_cred_free(&c);

	setenv("AWS_PROFILE", "nope", 1);
	r = aws_cred_load(NULL, &c);
	is_int(r, -ENOKEY, "a missing profile is -ENOKEY");
	ok(strstr(err_msg_for(r), "profile 'nope'") != NULL, "the message names the profile");

	setenv("AWS_ACCESS_KEY_ID", "AKIAENV0001", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value", 1);
	setenv("AWS_REGION", "ap-south-1", 1);
	r = aws_cred_load(NULL, &c);
	is_int(r, 0, "the environment wins over the file");
	is_str(c.access_key, "AKIAENV0001", "environment key");
	ok(c.session_token == NULL, "no token unless AWS_SESSION_TOKEN");
	is_str(c.region, "ap-south-1", "AWS_REGION");
	aws_cred_free(&c);

	unsetenv("AWS_SECRET_ACCESS_KEY");
	r = aws_cred_load(NULL, &c);
	is_int(r, -EINVAL, "a key without its secret is an error");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_REGION");
}

static void test_upload_errors(void)
{
	struct upload_opts o = { 0 };
	struct upload_result res = { 0 };
	char path[600];
	int r;

	snprintf(path, sizeof(path), "%s/missing.tar.zst", dir);
	r = upload_file(path, "s3://b/p/", &o, &res);
	is_int(r, -ENOENT, "a missing bundle is -ENOENT");
	is_int(upload_exit_status(r), EXIT_NOINPUT, "... exit 66");
	put_text(dir, "b.tar.zst", "data", -1);
	snprintf(path, sizeof(path), "%s/b.tar.zst", dir);
	r = upload_file(path, "ftp://host/x/", &o, &res);
	is_int(r, -EINVAL, "an ftp:// URL is refused");
	is_int(upload_exit_status(r), EXIT_USAGE, "... exit 64");
	r = upload_file(path, "s3:///key", &o, &res);
	is_int(r, -EINVAL, "an S3 URL without a bucket is refused");
	r = upload_file(path, "https://u:hunter22@[::1/x", &o, &res);
	is_int(r, -EINVAL, "a malformed URL is refused");
	ok(strstr(err_msg_for(r), "hunter22") == NULL, "... without showing its password");
	is_int(upload_exit_status(-EPROTO), EXIT_PROTOCOL, "a refusal is 76");
	is_int(upload_exit_status(-ECONNREFUSED), EXIT_TEMPFAIL, "unreachable is 75");
	is_int(upload_exit_status(-ENOKEY), EXIT_CONFIG, "no credentials is 78");
}

static void test_record(void)
{
	char u1[] = "s3://b/p/one.tar.zst", h1[] = "https://x/b/p/one.tar.zst", c1[] = "md5:00";
	char u2[] = "s3://b/p/two.tar.zst", h2[] = "https://x/two";
	struct upload_result a = { .url = u1, .http_url = h1, .size = 10, .checksum = c1 };
	struct upload_result b = { .url = u2, .http_url = h2, .size = 20, .parts = 2, .part_size = 5 };
	char one[600], two[600], rec[600];
	json_t *j;

	snprintf(one, sizeof(one), "%s/one.tar.zst", dir);
	snprintf(two, sizeof(two), "%s/two.tar.zst", dir);
	snprintf(rec, sizeof(rec), "%s/upload.json", dir);
	is_int(upload_record_write(one, &a), 0, "record for one");
	is_int(upload_record_write(two, &b), 0, "record for two");
	a.size = 11;
	is_int(upload_record_write(one, &a), 0, "record for one again");
	j = json_load_file(rec, 0, NULL);
	is_int(json_array_size(json_object_get(j, "uploads")), 2, "one entry per bundle");
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(j, "uploads"), 1),
						 "bundle")), "one.tar.zst", "the newer upload last");
	is_int(json_integer_value(json_object_get(json_array_get(json_object_get(j, "uploads"), 1),
						  "size")), 11, "with its new facts");
	json_decref(j);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_redact();
	test_awscred();
	test_upload_errors();
	test_record();
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
