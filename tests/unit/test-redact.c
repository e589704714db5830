/* Redaction: secret names, URL credentials, NAME=value pairs, values of secret
 * environment variables wherever they appear, and the word after a secret option. */
#include "tap.h"

#include "redact.h"
#include "strv.h"

static void red(const char *in, const char *want, const char *what)
{
	char *got = redact_string(in);

	is_str(got, want, what);
	free(got);
}

int main(void)
{
	struct strv out = STRV_INIT;
	char *const argv[] = { (char *)"./sct.py", (char *)"--password", (char *)"hunter2",
			       (char *)"--token=abc123", (char *)"--db-url",
			       (char *)"postgres://sct:pw@db:5432/x", (char *)"--nodes",
			       (char *)"3", (char *)"--keyspace", (char *)"ks1" };

	ok(redact_is_secret_name("SCT_SECRET") && redact_is_secret_name("github_token") &&
	   redact_is_secret_name("DB_PASSWORD") && redact_is_secret_name("API_KEY") &&
	   redact_is_secret_name("Passwd") && redact_is_secret_name("GOOGLE_CREDENTIALS"),
	   "secret names, any case");
	ok(redact_is_secret_name("AWS_REGION") && redact_is_secret_name("aws_profile"),
	   "AWS_* is secret whatever follows");
	ok(!redact_is_secret_name("PATH") && !redact_is_secret_name("SCT_TEST_ID") &&
	   !redact_is_secret_name("JOB_NAME") && !redact_is_secret_name("MY_AWS"),
	   "other names are not");

	red("https://user:pa55@host.example/x?y=1", "https://***@host.example/x?y=1",
	    "URL user:password");
	red("s3://AKIA:secret@bucket/prefix/", "s3://***@bucket/prefix/", "any scheme");
	red("https://host.example/path", "https://host.example/path", "URL without credentials kept");
	red("clone https://tok@github.com/scylladb/sct.git now",
	    "clone https://***@github.com/scylladb/sct.git now", "a URL inside a sentence");
	red("GITHUB_TOKEN=ghp_abc", "GITHUB_TOKEN=***", "NAME=value with a secret name");
	red("--api-key=xyz --limit=3", "--api-key=*** --limit=3", "options with =");
	red("https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=deadbeef&x=1",
	    "https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&x=1",
	    "presigned URL parameters");
	red("backend=docker", "backend=docker", "harmless NAME=value kept");
	red("", "", "empty string");

	setenv("SCT_RUNNER_TOKEN", "tok-1234567", 1);
	setenv("SHORT_KEY", "abc", 1);
	setenv("NOT_HIDDEN", "visible-value", 1);
	red("argument tok-1234567 and tok-1234567.", "argument *** and ***.",
	    "a secret variable's value, wherever it appears");
	red("abc visible-value", "abc visible-value",
	    "values shorter than 4 characters and of other variables are kept");

	is_int(redact_argv(argv, sizeof(argv) / sizeof(argv[0]), &out), 0, "redact_argv");
	is_int(out.n, 10, "  same length");
	is_str(out.v[0], "./sct.py", "  program kept");
	is_str(out.v[2], "***", "  the word after --password");
	is_str(out.v[3], "--token=***", "  --token=value");
	is_str(out.v[5], "postgres://***@db:5432/x", "  URL credentials in an argument");
	is_str(out.v[7], "3", "  the word after a harmless option kept");
	/* *KEY* errs on the side of hiding: --keyspace's value goes too. */
	is_str(out.v[9], "***", "  the word after an option containing KEY");
	strv_free(&out);
	return tap_done();
}
