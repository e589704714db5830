/* Uploads to S3 and to HTTP(S) PUT targets (upload.h).
 *
 * Every request is a job run by one small engine over a curl multi handle: jobs start
 * when due, up to `parallel` at a time; a job that fails with a connection error, a 5xx
 * or a 429 is put back with a delay (Retry-After, else exponential backoff with jitter);
 * any other failure stops the engine with the server's message. A multipart upload is
 * INIT, then the parts, then COMPLETE and a HEAD to check the result; when anything
 * fails after INIT the upload is aborted so that no parts are left behind (and billed).
 *
 * Request bodies are never held in memory: a part is hashed (MD5 for Content-MD5,
 * SHA-256 for the signed x-amz-content-sha256) by reading it once with pread() before it
 * is sent, then sent from the file by libcurl's read callback. */
#include "upload.h"
#include "awscred.h"
#include "error.h"
#include "exitcode.h"
#include "log.h"
#include "redact.h"
#include "strutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RESP_MAX (256 * 1024)
#define MAX_PARTS 10000u
#define MIN_PART (5 * UPLOAD_MIB)
#define HASH_CHUNK (1024 * 1024)
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum job_kind { JOB_PUT, JOB_INIT, JOB_PART, JOB_COMPLETE, JOB_HEAD, JOB_ABORT };

static const char *const job_names[] = {
	[JOB_PUT] = "PUT", [JOB_INIT] = "initiating the multipart upload",
	[JOB_PART] = "PUT part", [JOB_COMPLETE] = "completing the multipart upload",
	[JOB_HEAD] = "HEAD", [JOB_ABORT] = "aborting the multipart upload",
};

struct job {
	enum job_kind kind;
	unsigned part;                  /* 1-based, for JOB_PART */
	uint64_t off, len;              /* the file region sent (JOB_PUT, JOB_PART) */
	const char *body;               /* an in-memory body (JOB_COMPLETE) */
	size_t body_len;
	bool hashed;
	unsigned char md5[16];
	char md5_b64[32];
	char sha_hex[65];

	unsigned attempt;               /* attempts started */
	double due;                     /* monotonic time it may start */
	double first_failure;           /* monotonic time of its first failure, or 0 */
	bool running, done;
	struct up *up;
	CURL *h;
	struct curl_slist *hdrs;
	uint64_t pos;                   /* read position inside the region */
	uint64_t sent;                  /* bytes of this attempt the server took */
	char *resp;                     /* response body, at most RESP_MAX */
	size_t resp_n;
	char *etag;
	double retry_after;             /* seconds, or -1 */
	long status;
	curl_off_t content_length;
};

struct up {
	const struct upload_opts *o;
	int fd;
	uint64_t size;
	bool s3;
	char *bucket, *key;
	char *object_url;               /* what requests go to, may hold a presigned query */
	char *display;                  /* object_url, redacted, for messages */
	char *sigv4;
	struct aws_cred cred;
	CURLM *m;
	double t0, last_progress;
	unsigned retries;
	uint64_t done_bytes;            /* bytes of finished jobs */
	char *upload_id;
	unsigned attempts, retry_max_time, stall_time, parallel;
	char expect_etag[64];           /* what HEAD should show, "" when unknown */
	bool aborting;                  /* cleaning up: a cancel request no longer stops us */
	char *etag;                     /* the stored object's, from HEAD */
};

static bool cancelled(const struct up *u)
{
	return u->o->cancel && *u->o->cancel && !u->aborting;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* RFC 3986 unreserved characters pass; everything else is %XX, as S3's canonical URI
 * wants it (keeping '/' between key segments). */
static char *uri_encode(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
		    (keep_slash && c == '/')) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Keeps the first line of a message readable and short, and secret-free. */
static void clean_message(char *msg, size_t size)
{
	char *p;

	for (char *q = msg; *q; q++)
		if (*q == '\r' || *q == '\n' || *q == '\t')
			*q = ' ';
	p = str_trim(msg);
	memmove(msg, p, strlen(p) + 1);
	if (strlen(msg) > 300)
		strcpy(msg + 297, "...");
	redact_buf(msg, size);
}

/* The text of <tag>...</tag> in an S3 XML body, entities decoded; "" when absent. */
static void xml_value(const char *xml, const char *tag, char *out, size_t size)
{
	char open[64], close[64];
	const char *b, *e;
	size_t n = 0;

	out[0] = '\0';
	if (!xml)
		return;
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	b = strstr(xml, open);
	if (!b)
		return;
	b += strlen(open);
	e = strstr(b, close);
	if (!e)
		return;
	while (b < e && n + 1 < size) {
		static const struct { const char *ent; char c; } ents[] = {
			{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
			{ "&apos;", '\'' }, { "&#34;", '"' }, { "&#39;", '\'' },
		};
		bool hit = false;
		for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			size_t l = strlen(ents[i].ent);
			if ((size_t)(e - b) >= l && strncmp(b, ents[i].ent, l) == 0) {
				out[n++] = ents[i].c;
				b += l;
				hit = true;
				break;
			}
		}
		if (!hit)
			out[n++] = *b++;
	}
	out[n] = '\0';
}

/* "HTTP 403 AccessDenied: Access Denied" from a failed answer. */
static void describe_answer(const struct job *j, char *out, size_t size)
{
	char code[128], msg[512];

	xml_value(j->resp, "Code", code, sizeof(code));
	xml_value(j->resp, "Message", msg, sizeof(msg));
	if (!msg[0] && j->resp && j->resp_n && !strchr(j->resp, '<')) {
		snprintf(msg, sizeof(msg), "%s", j->resp);
	} else if (!msg[0] && j->resp && j->resp_n) {
		/* An HTML error page: its <title> says the most in the fewest words. */
		xml_value(j->resp, "title", msg, sizeof(msg));
	}
	clean_message(code, sizeof(code));
	clean_message(msg, sizeof(msg));
	snprintf(out, size, "HTTP %ld%s%s%s%s", j->status, code[0] ? " " : "", code,
		 msg[0] ? ": " : "", msg);
}

static void job_what(const struct job *j, char *out, size_t size)
{
	if (j->kind == JOB_PART)
		snprintf(out, size, "PUT part %u", j->part);
	else
		snprintf(out, size, "%s", job_names[j->kind]);
}

/* Reads the job's region once to hash it; the send reads it again from the page cache. */
static int job_hash(struct up *u, struct job *j)
{
	EVP_MD_CTX *md5 = EVP_MD_CTX_new(), *sha = EVP_MD_CTX_new();
	unsigned char *buf = NULL, digest[EVP_MAX_MD_SIZE];
	unsigned int dlen;
	uint64_t done = 0;
	int r = 0;

	if (!md5 || !sha || !(buf = malloc(HASH_CHUNK)) ||
	    !EVP_DigestInit_ex(md5, EVP_md5(), NULL) ||
	    !EVP_DigestInit_ex(sha, EVP_sha256(), NULL)) {
		r = err_set(ENOMEM, "cannot set up MD5/SHA-256 hashing");
		goto out;
	}
	if (j->body) {
		EVP_DigestUpdate(md5, j->body, j->body_len);
		EVP_DigestUpdate(sha, j->body, j->body_len);
	}
	while (!j->body && done < j->len) {
		size_t want = j->len - done > HASH_CHUNK ? HASH_CHUNK : (size_t)(j->len - done);
		ssize_t n = pread(u->fd, buf, want, (off_t)(j->off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = err_set(n < 0 ? errno : EIO, "reading the file at offset %" PRIu64 ": %s",
				    j->off + done, n < 0 ? strerror(errno) : "file shrank");
			goto out;
		}
		EVP_DigestUpdate(md5, buf, (size_t)n);
		EVP_DigestUpdate(sha, buf, (size_t)n);
		done += (uint64_t)n;
	}
	EVP_DigestFinal_ex(md5, j->md5, &dlen);
	EVP_EncodeBlock((unsigned char *)j->md5_b64, j->md5, 16);
	EVP_DigestFinal_ex(sha, digest, &dlen);
	for (unsigned i = 0; i < 32; i++)
		sprintf(j->sha_hex + 2 * i, "%02x", digest[i]);
	j->hashed = true;
out:
	free(buf);
	EVP_MD_CTX_free(md5);
	EVP_MD_CTX_free(sha);
	return r;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct job *j = ud;
	size_t want = size * nitems;
	ssize_t n;

	if (j->pos >= j->len)
		return 0;
	if (want > j->len - j->pos)
		want = (size_t)(j->len - j->pos);
	do
		n = pread(j->up->fd, buf, want, (off_t)(j->off + j->pos));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return CURL_READFUNC_ABORT;
	j->pos += (uint64_t)n;
	return (size_t)n;
}

static int seek_cb(void *ud, curl_off_t offset, int origin)
{
	struct job *j = ud;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > j->len)
		return CURL_SEEKFUNC_FAIL;
	j->pos = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct job *j = ud;
	size_t len = size * nmemb, take = len;
	char *d;

	/* Error bodies are small; anything beyond the cap is dropped, not an error. */
	if (j->resp_n + take > RESP_MAX)
		take = RESP_MAX - j->resp_n;
	if (!take)
		return len;
	d = realloc(j->resp, j->resp_n + take + 1);
	if (!d)
		return 0;
	memcpy(d + j->resp_n, p, take);
	j->resp = d;
	j->resp_n += take;
	j->resp[j->resp_n] = '\0';
	return len;
}

static char *header_value(const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *v, *e;

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return NULL;
	v = line + nl + 1;
	e = line + len;
	while (v < e && isspace((unsigned char)*v))
		v++;
	while (e > v && isspace((unsigned char)e[-1]))
		e--;
	return strndup(v, (size_t)(e - v));
}

/* Retry-After is either seconds or an HTTP date. */
static double parse_retry_after(const char *v)
{
	struct tm tm = { 0 };
	char *end;
	double s = strtod(v, &end);

	if (end != v && *end == '\0' && s >= 0)
		return s;
	if (strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
		double d = difftime(timegm(&tm), time(NULL));
		return d > 0 ? d : 0;
	}
	return -1;
}

static size_t header_cb(char *p, size_t size, size_t nitems, void *ud)
{
	struct job *j = ud;
	size_t len = size * nitems;
	char *v;

	if ((v = header_value(p, len, "ETag"))) {
		size_t n;
		char *s = v;
		if (*s == '"')
			s++;
		n = strlen(s);
		if (n && s[n - 1] == '"')
			s[n - 1] = '\0';
		free(j->etag);
		j->etag = strdup(s);
		free(v);
	} else if ((v = header_value(p, len, "Retry-After"))) {
		j->retry_after = parse_retry_after(v);
		free(v);
	}
	return len;
}

static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct job *j = ud;

	j->sent = ulnow > 0 ? (uint64_t)ulnow : 0;
	return cancelled(j->up) ? 1 : 0;
}

static int add_header(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_header(struct job *j, const char *fmt, ...)
{
	struct curl_slist *n;
	va_list ap;
	char *line;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	n = curl_slist_append(j->hdrs, line);
	free(line);
	if (!n)
		return -ENOMEM;
	j->hdrs = n;
	return 0;
}

/* Lets go of the transfer; keeps what it learnt (ETag, status, answer) for the caller. */
static void job_release(struct job *j)
{
	curl_slist_free_all(j->hdrs);
	j->hdrs = NULL;
	if (j->h) {
		curl_multi_remove_handle(j->up->m, j->h);
		curl_easy_cleanup(j->h);
		j->h = NULL;
	}
	j->running = false;
}

/* Ready for a new attempt. */
static void job_reset(struct job *j)
{
	job_release(j);
	free(j->resp);
	j->resp = NULL;
	j->resp_n = 0;
	free(j->etag);
	j->etag = NULL;
	j->retry_after = -1;
	j->status = 0;
	j->pos = 0;
	j->sent = 0;
	j->content_length = -1;
}

static int job_start(struct up *u, struct job *j)
{
	char *url = NULL;
	int r = 0;

	job_reset(j);
	if (!j->hashed && (j->kind == JOB_PUT || j->kind == JOB_PART || j->kind == JOB_COMPLETE)) {
		r = job_hash(u, j);
		if (r < 0)
			goto out;
	}
	switch (j->kind) {
	case JOB_PUT:
	case JOB_HEAD:
		url = strdup(u->object_url);
		break;
	case JOB_INIT:
		r = asprintf(&url, "%s?uploads=", u->object_url);
		break;
	case JOB_PART:
		/* Sorted parameters: S3's canonical query string is in byte order. */
		r = asprintf(&url, "%s?partNumber=%u&uploadId=%s", u->object_url, j->part,
			     u->upload_id);
		break;
	case JOB_COMPLETE:
	case JOB_ABORT:
		r = asprintf(&url, "%s?uploadId=%s", u->object_url, u->upload_id);
		break;
	}
	if (r < 0 || !url) {
		url = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = 0;
	j->h = http_easy_new(&u->o->tls);
	if (!j->h) {
		r = -ENOMEM;
		goto out;
	}
	curl_easy_setopt(j->h, CURLOPT_URL, url);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(j->h, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(j->h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(j->h, CURLOPT_HEADERDATA, j);
	curl_easy_setopt(j->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(j->h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	curl_easy_setopt(j->h, CURLOPT_XFERINFODATA, j);
	/* A stalled server: less than 1 byte/s for stall_time seconds fails the attempt. */
	curl_easy_setopt(j->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(j->h, CURLOPT_LOW_SPEED_TIME, (long)u->stall_time);
	if (u->s3) {
		curl_easy_setopt(j->h, CURLOPT_AWS_SIGV4, u->sigv4);
		curl_easy_setopt(j->h, CURLOPT_USERNAME, u->cred.access_key);
		curl_easy_setopt(j->h, CURLOPT_PASSWORD, u->cred.secret_key);
		if (u->cred.session_token &&
		    add_header(j, "x-amz-security-token: %s", u->cred.session_token) < 0)
			r = -ENOMEM;
		if (add_header(j, "x-amz-content-sha256: %s",
			       j->hashed ? j->sha_hex : EMPTY_SHA256) < 0)
			r = -ENOMEM;
	}
	if (j->hashed && add_header(j, "Content-MD5: %s", j->md5_b64) < 0)
		r = -ENOMEM;
	if (r < 0)
		goto out;
	switch (j->kind) {
	case JOB_PUT:
	case JOB_PART:
		curl_easy_setopt(j->h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(j->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->len);
		curl_easy_setopt(j->h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(j->h, CURLOPT_READDATA, j);
		curl_easy_setopt(j->h, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(j->h, CURLOPT_SEEKDATA, j);
		curl_easy_setopt(j->h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024L);
		if (j->kind == JOB_PUT && add_header(j, "Content-Type: application/octet-stream") < 0)
			r = -ENOMEM;
		break;
	case JOB_INIT:
		curl_easy_setopt(j->h, CURLOPT_POST, 1L);
		curl_easy_setopt(j->h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(j->h, CURLOPT_POSTFIELDSIZE, 0L);
		if (add_header(j, "Content-Type: application/octet-stream") < 0)
			r = -ENOMEM;
		break;
	case JOB_COMPLETE:
		curl_easy_setopt(j->h, CURLOPT_POST, 1L);
		curl_easy_setopt(j->h, CURLOPT_POSTFIELDS, j->body);
		curl_easy_setopt(j->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
		if (add_header(j, "Content-Type: application/xml") < 0)
			r = -ENOMEM;
		break;
	case JOB_HEAD:
		curl_easy_setopt(j->h, CURLOPT_NOBODY, 1L);
		break;
	case JOB_ABORT:
		curl_easy_setopt(j->h, CURLOPT_CUSTOMREQUEST, "DELETE");
		break;
	}
	if (r < 0)
		goto out;
	curl_easy_setopt(j->h, CURLOPT_HTTPHEADER, j->hdrs);
	if (curl_multi_add_handle(u->m, j->h) != CURLM_OK) {
		r = err_set(ENOMEM, "libcurl: cannot add a transfer");
		goto out;
	}
	j->attempt++;
	j->running = true;
out:
	free(url);
	return r;
}

/* Exponential backoff with equal jitter: half the step fixed, half random. */
static double backoff(unsigned attempt)
{
	double step = 0.5 * pow(2.0, attempt > 1 ? attempt - 1 : 0);
	uint32_t rnd = 0;

	if (step > 20.0)
		step = 20.0;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		rnd = (uint32_t)rand();
	return step / 2 + step / 2 * ((double)rnd / 4294967296.0);
}

/* A failed attempt: schedule another one, or say why not. err holds the description. */
static int job_retry_or_fail(struct up *u, struct job *j, int err, const char *why)
{
	char what[64];
	double t = now(), delay;
	bool by_server = j->retry_after >= 0;

	job_what(j, what, sizeof(what));
	if (!j->first_failure)
		j->first_failure = t;
	delay = by_server ? j->retry_after : backoff(j->attempt);
	if (j->attempt >= u->attempts)
		return err_set(-err, "'%s': %s gave up after %u attempt%s: %s", u->display, what,
			       j->attempt, j->attempt == 1 ? "" : "s", why);
	if (t + delay - j->first_failure > u->retry_max_time)
		return err_set(-err, "'%s': %s gave up after %u attempt%s (%s%.0f s more would "
			       "exceed --retry-max-time %u s): %s", u->display, what, j->attempt,
			       j->attempt == 1 ? "" : "s", by_server ? "Retry-After: " : "", delay,
			       u->retry_max_time, why);
	log_debug("'%s': %s attempt %u failed (%s); retrying in %.1f s%s", u->display, what,
		  j->attempt, why, delay, by_server ? " (Retry-After)" : "");
	u->retries++;
	j->due = t + delay;
	job_reset(j);
	return 0;
}

static int job_done(struct up *u, struct job *j);
static int check_head(struct up *u, struct job *j, const char *expect_etag);

/* One finished transfer: success, a retry scheduled, or a failure (negative). */
static int job_finished(struct up *u, struct job *j, CURLcode c)
{
	char why[768], what[64];
	int r;

	job_what(j, what, sizeof(what));
	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &j->status);
	curl_easy_getinfo(j->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &j->content_length);
	if (c != CURLE_OK) {
		if (c == CURLE_ABORTED_BY_CALLBACK && cancelled(u))
			return err_set(ECANCELED, "'%s': upload cancelled", u->display);
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(c));
		if (c == CURLE_OPERATION_TIMEDOUT)
			snprintf(why, sizeof(why), "no progress for %u s", u->stall_time);
		if (c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE)
			return err_set(EPROTO, "'%s': TLS certificate verification failed "
				       "(give the CA with --cacert): %s", u->display,
				       curl_easy_strerror(c));
		if (!http_transient(c))
			return err_set(-http_errno(c), "'%s': %s failed: %s", u->display, what, why);
		return job_retry_or_fail(u, j, http_errno(c), why);
	}
	/* S3 may answer 200 to CompleteMultipartUpload and put the error in the body. */
	if (j->status / 100 == 2 && j->kind == JOB_COMPLETE && j->resp &&
	    strstr(j->resp, "<Error>")) {
		char code[128];
		xml_value(j->resp, "Code", code, sizeof(code));
		j->status = strcmp(code, "InternalError") == 0 || strcmp(code, "SlowDown") == 0 ?
			    500 : 400;
	}
	if (j->status / 100 == 2) {
		r = job_done(u, j);
		if (r < 0)
			return r;
		j->done = true;
		u->done_bytes += j->len;
		job_release(j);
		return 0;
	}
	describe_answer(j, why, sizeof(why));
	if (j->status >= 500 || j->status == 429 || j->status == 408)
		return job_retry_or_fail(u, j, -EAGAIN, why);
	return err_set(EPROTO, "'%s': %s refused: %s", u->display, what, why);
}

/* Runs jobs until all are done or one fails for good. */
static int run_jobs(struct up *u, struct job *jobs, size_t n)
{
	int r = 0, still = 0;

	for (;;) {
		size_t running = 0, pending = 0;
		double t = now(), next = INFINITY;
		uint64_t inflight = 0;
		CURLMsg *msg;
		int left;

		if (cancelled(u)) {
			r = err_set(ECANCELED, "'%s': upload cancelled", u->display);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (jobs[i].running)
				running++;
		for (size_t i = 0; i < n && running < u->parallel; i++) {
			struct job *j = &jobs[i];
			if (j->done || j->running)
				continue;
			if (j->due > t) {
				if (j->due < next)
					next = j->due;
				continue;
			}
			r = job_start(u, j);
			if (r < 0)
				goto out;
			running++;
		}
		for (size_t i = 0; i < n; i++) {
			if (!jobs[i].done && !jobs[i].running)
				pending++;
			if (jobs[i].running)
				inflight += jobs[i].sent;
		}
		if (!running && !pending)
			break;
		if (u->o->progress && now() - u->last_progress >= 0.25) {
			struct upload_progress p = {
				.done = u->done_bytes + inflight, .total = u->size,
				.retries = u->retries, .elapsed = now() - u->t0,
			};
			u->last_progress = now();
			u->o->progress(&p, u->o->progress_ud);
		}
		if (running) {
			int ms = 250;
			if (next != INFINITY && (next - now()) * 1000 < ms)
				ms = (int)((next - now()) * 1000) + 1;
			if (ms < 0)
				ms = 0;
			if (curl_multi_perform(u->m, &still) != CURLM_OK ||
			    curl_multi_poll(u->m, NULL, 0, ms, NULL) != CURLM_OK) {
				r = err_set(EIO, "libcurl: multi interface failed");
				goto out;
			}
			curl_multi_perform(u->m, &still);
		} else {
			/* Only waiting for a retry to become due. */
			double wait = next - now();
			if (wait > 0.25)
				wait = 0.25;
			if (wait > 0) {
				struct timespec ts = { 0, (long)(wait * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
		while ((msg = curl_multi_info_read(u->m, &left))) {
			struct job *j = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			r = job_finished(u, j, msg->data.result);
			if (r < 0)
				goto out;
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		if (jobs[i].running)
			job_reset(&jobs[i]);
	return r;
}

/* What each finished request means. */
static int job_done(struct up *u, struct job *j)
{
	char id[512];
	int r;

	switch (j->kind) {
	case JOB_INIT:
		xml_value(j->resp, "UploadId", id, sizeof(id));
		if (!id[0])
			return err_set(EPROTO, "'%s': the server started a multipart upload "
				       "without an UploadId", u->display);
		u->upload_id = uri_encode(id, false);
		if (!u->upload_id)
			return -ENOMEM;
		break;
	case JOB_PART:
		if (!j->etag)
			return err_set(EPROTO, "'%s': part %u was accepted without an ETag",
				       u->display, j->part);
		break;
	case JOB_HEAD:
		r = check_head(u, j, u->expect_etag[0] ? u->expect_etag : NULL);
		if (r < 0)
			return r;
		free(u->etag);
		u->etag = j->etag ? strdup(j->etag) : NULL;
		break;
	default:
		break;
	}
	return 0;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	job_reset(j);
}

static void job_init(struct up *u, struct job *j, enum job_kind kind)
{
	memset(j, 0, sizeof(*j));
	j->kind = kind;
	j->up = u;
	j->retry_after = -1;
	j->content_length = -1;
}

/* The multipart ETag S3 computes: MD5 of the parts' binary MD5s, "-N". */
static void multipart_etag(const struct job *parts, unsigned n, char *out, size_t size)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char d[16];
	unsigned int dl;
	size_t o = 0;

	out[0] = '\0';
	if (!c)
		return;
	EVP_DigestInit_ex(c, EVP_md5(), NULL);
	for (unsigned i = 0; i < n; i++)
		EVP_DigestUpdate(c, parts[i].md5, 16);
	EVP_DigestFinal_ex(c, d, &dl);
	EVP_MD_CTX_free(c);
	for (unsigned i = 0; i < 16; i++)
		o += (size_t)snprintf(out + o, size - o, "%02x", d[i]);
	snprintf(out + o, size - o, "-%u", n);
}

static void hex16(const unsigned char *d, char *out)
{
	for (unsigned i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* The stored object must have the file's size, and the ETag S3 computes for the parts
 * sent when the server computes ETags that way (s3rver gives a whole-object MD5). */
static int check_head(struct up *u, struct job *j, const char *expect_etag)
{
	if (j->content_length >= 0 && (uint64_t)j->content_length != u->size)
		return err_set(EPROTO, "'%s': the stored object has %" PRId64 " bytes, the file "
			       "%" PRIu64, u->display, (int64_t)j->content_length, u->size);
	if (expect_etag && j->etag && strchr(j->etag, '-') && strcasecmp(j->etag, expect_etag))
		return err_set(EPROTO, "'%s': the stored object's ETag '%s' is not the '%s' "
			       "of the parts sent", u->display, j->etag, expect_etag);
	return 0;
}

static int parse_s3_url(struct up *u, const char *url, const char *path)
{
	const char *b = url + 5, *slash = strchr(b, '/');
	const char *key;

	if (!slash || slash == b)
		return err_set(EINVAL, "'%s': an S3 URL is s3://BUCKET/PREFIX/ or "
			       "s3://BUCKET/KEY", url);
	u->bucket = strndup(b, (size_t)(slash - b));
	key = slash + 1;
	if (!*key || key[strlen(key) - 1] == '/') {
		if (asprintf(&u->key, "%s%s", key, base_name(path)) < 0)
			u->key = NULL;
	} else {
		u->key = strdup(key);
	}
	if (!u->bucket || !u->key)
		return -ENOMEM;
	return 0;
}

static int s3_setup(struct up *u, const char *url, const char *path)
{
	const char *endpoint = u->o->endpoint;
	char *ekey = NULL;
	int r;

	r = parse_s3_url(u, url, path);
	if (r < 0)
		return r;
	r = aws_cred_load(u->o->profile, &u->cred);
	if (r < 0)
		return r;
	if (u->o->region) {
		free(u->cred.region);
		u->cred.region = strdup(u->o->region);
		if (!u->cred.region)
			return -ENOMEM;
	}
	if (!endpoint || !*endpoint)
		endpoint = getenv("AWS_ENDPOINT_URL");
	ekey = uri_encode(u->key, true);
	if (!ekey)
		return -ENOMEM;
	if (endpoint && *endpoint) {
		size_t n = strlen(endpoint);
		while (n && endpoint[n - 1] == '/')
			n--;
		if (strncmp(endpoint, "http://", 7) && strncmp(endpoint, "https://", 8)) {
			free(ekey);
			return err_set(EINVAL, "endpoint '%s': not an http:// or https:// URL",
				       endpoint);
		}
		r = asprintf(&u->object_url, "%.*s/%s/%s", (int)n, endpoint, u->bucket, ekey);
	} else if (strchr(u->bucket, '.')) {
		/* Dotted bucket names break the wildcard certificate: path-style. */
		r = asprintf(&u->object_url, "https://s3.%s.amazonaws.com/%s/%s",
			     u->cred.region, u->bucket, ekey);
	} else {
		r = asprintf(&u->object_url, "https://%s.s3.%s.amazonaws.com/%s", u->bucket,
			     u->cred.region, ekey);
	}
	free(ekey);
	if (r < 0 || asprintf(&u->sigv4, "aws:amz:%s:s3", u->cred.region) < 0)
		return -ENOMEM;
	u->s3 = true;
	return 0;
}

static int http_setup(struct up *u, const char *url, const char *path)
{
	CURLU *cu = curl_url();
	char *pw = NULL, *query = NULL;
	int r = 0;

	if (!cu)
		return -ENOMEM;
	if (curl_url_set(cu, CURLUPART_URL, url, 0) != CURLUE_OK) {
		char *d = redact_string(url);
		r = err_set(EINVAL, "'%s': not a valid URL", d ? d : REDACTED);
		free(d);
		goto out;
	}
	/* Whatever is secret in the URL is masked from here on, encoded or not. */
	if (curl_url_get(cu, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK && redact_add(pw) < 0)
		r = -ENOMEM;
	curl_free(pw);
	pw = NULL;
	if (curl_url_get(cu, CURLUPART_PASSWORD, &pw, CURLU_URLDECODE) == CURLUE_OK &&
	    redact_add(pw) < 0)
		r = -ENOMEM;
	if (curl_url_get(cu, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
		char *save = NULL;
		for (char *kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(kv, '=');
			bool secret = false;
			if (eq) {
				*eq = '\0';
				secret = redact_is_secret_name(kv);
				*eq = '=';
			}
			if (secret) {
				char *dec;
				int dl;
				if (redact_add(eq + 1) < 0)
					r = -ENOMEM;
				dec = curl_easy_unescape(NULL, eq + 1, 0, &dl);
				if (dec && redact_add(dec) < 0)
					r = -ENOMEM;
				curl_free(dec);
			}
		}
	}
	if (r < 0)
		goto out;
	{
		const char *q = strchr(url, '?');
		size_t pathlen = q ? (size_t)(q - url) : strlen(url);
		if (pathlen && url[pathlen - 1] == '/') {
			char *name = uri_encode(base_name(path), false);
			if (!name) {
				r = -ENOMEM;
				goto out;
			}
			r = asprintf(&u->object_url, "%.*s%s%s", (int)pathlen, url, name,
				     q ? q : "");
			free(name);
			if (r < 0) {
				u->object_url = NULL;
				r = -ENOMEM;
				goto out;
			}
			r = 0;
		} else {
			u->object_url = strdup(url);
			if (!u->object_url)
				r = -ENOMEM;
		}
	}
out:
	curl_free(pw);
	curl_free(query);
	curl_url_cleanup(cu);
	return r;
}

static char *complete_body(const struct up *u, const struct job *parts, unsigned n,
			   size_t *ret_len)
{
	size_t cap = 128 + (size_t)n * 200, len = 0;
	char *b = malloc(cap);

	if (!b)
		return NULL;
	len += (size_t)snprintf(b + len, cap - len, "<CompleteMultipartUpload>");
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(b + len, cap - len,
					"<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>",
					parts[i].part, parts[i].etag ? parts[i].etag : "");
	len += (size_t)snprintf(b + len, cap - len, "</CompleteMultipartUpload>");
	*ret_len = len;
	return b;
}

static int multipart(struct up *u, struct upload_result *res)
{
	struct job init, complete, head, abort_job, *parts = NULL;
	uint64_t part_size = u->o->part_size ? u->o->part_size : 16 * UPLOAD_MIB;
	unsigned n;
	char *body = NULL;
	int r;

	job_init(u, &init, JOB_INIT);
	job_init(u, &complete, JOB_COMPLETE);
	job_init(u, &head, JOB_HEAD);
	job_init(u, &abort_job, JOB_ABORT);
	if (part_size < MIN_PART)
		part_size = MIN_PART;
	while ((u->size + part_size - 1) / part_size > MAX_PARTS)
		part_size *= 2;
	n = (unsigned)((u->size + part_size - 1) / part_size);

	r = run_jobs(u, &init, 1);
	if (r < 0)
		goto out;
	log_debug("'%s': multipart upload of %u parts of %" PRIu64 " bytes", u->display, n,
		  part_size);
	parts = calloc(n, sizeof(*parts));
	if (!parts) {
		r = -ENOMEM;
		goto abort;
	}
	for (unsigned i = 0; i < n; i++) {
		job_init(u, &parts[i], JOB_PART);
		parts[i].part = i + 1;
		parts[i].off = (uint64_t)i * part_size;
		parts[i].len = i + 1 < n ? part_size : u->size - parts[i].off;
	}
	r = run_jobs(u, parts, n);
	if (r < 0)
		goto abort;
	body = complete_body(u, parts, n, &complete.body_len);
	if (!body) {
		r = -ENOMEM;
		goto abort;
	}
	complete.body = body;
	r = run_jobs(u, &complete, 1);
	if (r < 0)
		goto abort;
	multipart_etag(parts, n, u->expect_etag, sizeof(u->expect_etag));
	r = run_jobs(u, &head, 1);
	if (r < 0)
		goto out;       /* completed: nothing left to abort */
	res->parts = n;
	res->part_size = part_size;
	if (asprintf(&res->checksum, "md5-of-parts:%s", u->expect_etag) < 0)
		res->checksum = NULL;
	goto out;
abort:
	{
		/* Keep the first failure's reason; add what became of the abort. */
		char first[1024];
		int ra;
		snprintf(first, sizeof(first), "%s", err_msg_for(r));
		u->attempts = 3;
		u->retry_max_time = 10;
		u->aborting = true;
		ra = run_jobs(u, &abort_job, 1);
		if (ra < 0) {
			char why[512];
			snprintf(why, sizeof(why), "%s", err_msg_for(ra));
			err_set(-r, "%s; the multipart upload could not be aborted and its "
				"parts may remain (%s)", first, why);
		} else {
			log_debug("'%s': multipart upload aborted", u->display);
			err_set(-r, "%s (multipart upload aborted)", first);
		}
	}
out:
	for (unsigned i = 0; parts && i < n; i++)
		job_free(&parts[i]);
	free(parts);
	free(body);
	job_free(&init);
	job_free(&complete);
	job_free(&head);
	job_free(&abort_job);
	return r;
}

static int single_put(struct up *u, struct upload_result *res)
{
	struct job put, head;
	char hex[33];
	int r;

	job_init(u, &put, JOB_PUT);
	job_init(u, &head, JOB_HEAD);
	put.len = u->size;
	r = run_jobs(u, &put, 1);
	if (r < 0)
		goto out;
	hex16(put.md5, hex);
	if (asprintf(&res->checksum, "md5:%s", hex) < 0) {
		res->checksum = NULL;
		r = -ENOMEM;
		goto out;
	}
	if (u->s3) {
		r = run_jobs(u, &head, 1);
		if (r < 0)
			goto out;
	} else if (put.etag) {
		u->etag = strdup(put.etag);
	}
out:
	job_free(&put);
	job_free(&head);
	return r;
}

static void up_free(struct up *u)
{
	if (u->m)
		curl_multi_cleanup(u->m);
	if (u->fd >= 0)
		close(u->fd);
	aws_cred_free(&u->cred);
	free(u->bucket);
	free(u->key);
	free(u->object_url);
	free(u->display);
	free(u->sigv4);
	free(u->upload_id);
	free(u->etag);
}

int upload_file(const char *path, const char *url, const struct upload_opts *o,
		struct upload_result *ret)
{
	struct upload_result res = { 0 };
	struct up u = { 0 };
	struct stat st;
	uint64_t threshold;
	int r;

	u.o = o;
	u.fd = -1;
	u.attempts = o->attempts ? o->attempts : 5;
	u.retry_max_time = o->retry_max_time ? o->retry_max_time : 300;
	u.stall_time = o->stall_time ? o->stall_time : 60;
	u.parallel = o->parallel ? o->parallel : 4;
	threshold = o->multipart_threshold ? o->multipart_threshold : 64 * UPLOAD_MIB;

	r = http_global_init();
	if (r < 0)
		goto out;
	u.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (u.fd < 0) {
		r = err_set(errno, "'%s': %s", path, strerror(errno));
		goto out;
	}
	if (fstat(u.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = err_set(S_ISDIR(st.st_mode) ? EISDIR : EINVAL, "'%s': not a regular file", path);
		goto out;
	}
	u.size = (uint64_t)st.st_size;
	if (strncmp(url, "s3://", 5) == 0) {
		r = s3_setup(&u, url, path);
		if (r < 0)
			goto out;
		if (asprintf(&res.url, "s3://%s/%s", u.bucket, u.key) < 0)
			res.url = NULL;
		u.display = res.url ? redact_string(res.url) : NULL;
	} else if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0) {
		r = http_setup(&u, url, path);
		if (r < 0)
			goto out;
		res.url = redact_url_location(u.object_url);
		u.display = redact_string(u.object_url);
	} else {
		char *d = redact_string(url);
		r = err_set(EINVAL, "'%s': an upload URL is s3://BUCKET/PREFIX/, http:// or "
			    "https://", d ? d : REDACTED);
		free(d);
		goto out;
	}
	res.http_url = redact_url_location(u.object_url);
	if (!res.url || !res.http_url || !u.display) {
		r = -ENOMEM;
		goto out;
	}
	u.m = curl_multi_init();
	if (!u.m) {
		r = -ENOMEM;
		goto out;
	}
	u.t0 = now();
	if (u.s3 && u.size > threshold)
		r = multipart(&u, &res);
	else
		r = single_put(&u, &res);
	if (o->progress) {
		struct upload_progress p = {
			.done = r < 0 ? u.done_bytes : u.size, .total = u.size,
			.retries = u.retries, .elapsed = now() - u.t0, .final = true,
		};
		o->progress(&p, o->progress_ud);
	}
	if (r < 0)
		goto out;
	res.size = u.size;
	res.retries = u.retries;
	res.seconds = now() - u.t0;
	if (u.etag) {
		res.etag = u.etag;
		u.etag = NULL;
	}
	*ret = res;
	memset(&res, 0, sizeof(res));
out:
	upload_result_free(&res);
	up_free(&u);
	return r;
}

void upload_result_free(struct upload_result *r)
{
	if (!r)
		return;
	free(r->url);
	free(r->http_url);
	free(r->etag);
	free(r->checksum);
	memset(r, 0, sizeof(*r));
}

static json_t *record_entry(const char *name, const struct upload_result *r)
{
	char when[32], *url = redact_url_location(r->url);
	char *http_url = redact_url_location(r->http_url);
	time_t t = time(NULL);
	struct tm tm;
	json_t *e;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	e = json_pack("{s:s, s:s?, s:s?, s:I, s:s?, s:s?, s:i, s:I, s:i, s:f, s:s}",
		      "bundle", name, "url", url, "http_url", http_url,
		      "size", (json_int_t)r->size, "etag", r->etag, "checksum", r->checksum,
		      "parts", (int)r->parts, "part_size", (json_int_t)r->part_size,
		      "retries", (int)r->retries, "seconds", r->seconds,
		      "uploaded_at", when);
	free(url);
	free(http_url);
	return e;
}

int upload_record_write(const char *bundle_path, const struct upload_result *r)
{
	const char *name = base_name(bundle_path);
	char *dir = NULL, *path = NULL, *tmp = NULL;
	json_t *root = NULL, *list, *entry = NULL, *kept;
	size_t i;
	FILE *f = NULL;
	int fd, rc = 0;

	dir = name == bundle_path ? strdup(".") : strndup(bundle_path, (size_t)(name - bundle_path - 1));
	if (!dir || asprintf(&path, "%s/upload.json", *dir ? dir : "/") < 0 ||
	    asprintf(&tmp, "%s/.upload.json.XXXXXX", *dir ? dir : "/") < 0) {
		path = tmp = NULL;
		rc = -ENOMEM;
		goto out;
	}
	root = json_load_file(path, 0, NULL);
	if (!json_is_object(root) || !json_is_array(json_object_get(root, "uploads"))) {
		json_decref(root);
		root = json_pack("{s:[]}", "uploads");
	}
	entry = record_entry(name, r);
	if (!root || !entry) {
		rc = -ENOMEM;
		goto out;
	}
	kept = json_array();
	if (!kept) {
		rc = -ENOMEM;
		goto out;
	}
	list = json_object_get(root, "uploads");
	for (i = 0; i < json_array_size(list); i++) {
		json_t *e = json_array_get(list, i);
		const char *b = json_string_value(json_object_get(e, "bundle"));
		if (!b || strcmp(b, name) != 0)
			json_array_append(kept, e);
	}
	json_array_append(kept, entry);
	json_object_set_new(root, "uploads", kept);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = err_set(errno, "'%s': %s", path, strerror(errno));
		goto out;
	}
	fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		rc = err_set(errno, "'%s': %s", path, strerror(errno));
		goto out;
	}
	if (json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 || fputc('\n', f) == EOF ||
	    fflush(f) != 0 || fsync(fileno(f)) < 0) {
		rc = err_set(errno ? errno : EIO, "'%s': write failed: %s", path,
			     strerror(errno ? errno : EIO));
		fclose(f);
		f = NULL;
		unlink(tmp);
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		rc = err_set(errno, "'%s': write failed: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) < 0) {
		rc = err_set(errno, "'%s': %s", path, strerror(errno));
		unlink(tmp);
	}
out:
	json_decref(entry);
	json_decref(root);
	free(dir);
	free(path);
	free(tmp);
	return rc;
}

int upload_exit_status(int r)
{
	switch (-r) {
	case ENOENT:
	case EISDIR:
		return EXIT_NOINPUT;
	case EINVAL:
		return EXIT_USAGE;
	case ENOKEY:
		return EXIT_CONFIG;
	case EPROTO:
		return EXIT_PROTOCOL;
	case EAGAIN:
	case ECONNREFUSED:
	case ECONNRESET:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ETIMEDOUT:
		return EXIT_TEMPFAIL;
	case ECANCELED:
		return 128 + SIGINT;
	case EIO:
		return EXIT_IOERR;
	default:
		return EXIT_SOFTWARE;
	}
}
