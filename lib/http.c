/* libcurl set-up and its error convention (http.h). */
#include "http.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "redact.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int http_global_init(void)
{
	static bool done;

	if (done)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(ENOMEM, "libcurl: initialisation failed");
	done = true;
	return 0;
}

/* --verbose traces: headers and informational text only, each line redacted. Bodies are
 * never shown: they may be anything, and a part is megabytes. */
static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
	const char *dir;
	char *copy, *line, *save = NULL;

	switch (type) {
	case CURLINFO_TEXT: dir = "*"; break;
	case CURLINFO_HEADER_IN: dir = "<"; break;
	case CURLINFO_HEADER_OUT: dir = ">"; break;
	default: return 0;
	}
	copy = strndup(data, size);
	if (!copy)
		return 0;
	for (line = strtok_r(copy, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *r = redact_header(line);
		log_debug("http %s %s", dir, r ? r : REDACTED);
		free(r);
	}
	free(copy);
	return 0;
}

CURL *http_easy_new(const struct http_tls *tls)
{
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_USERAGENT, "sctprof/" SCTPROF_VERSION);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (tls && tls->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, tls->cacert);
	if (tls && tls->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (log_get_level() >= LOG_VERBOSE) {
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
	return h;
}

int http_errno(CURLcode c)
{
	switch (c) {
	case CURLE_OK: return 0;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY: return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM: return -ECONNRESET;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT: return -EPROTO;
	case CURLE_READ_ERROR:
	case CURLE_ABORTED_BY_CALLBACK: return -EIO;
	default: return -EIO;
	}
}

bool http_transient(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

struct sink {
	char *data;
	size_t n, max;
};

static size_t sink_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t len = size * nmemb, take = len;
	char *d;

	if (s->n + take > s->max)
		return 0;       /* too large: libcurl fails the transfer with a write error */
	d = realloc(s->data, s->n + take + 1);
	if (!d)
		return 0;
	memcpy(d + s->n, p, take);
	s->data = d;
	s->n += take;
	s->data[s->n] = '\0';
	return len;
}

int http_get(const char *url, const struct http_tls *tls, const char *const *headers,
	     size_t max, long *ret_status, char **ret_body)
{
	struct sink s = { NULL, 0, max };
	struct curl_slist *hl = NULL;
	CURL *h = NULL;
	CURLcode c;
	long status = 0;
	int r;

	r = http_global_init();
	if (r < 0)
		goto out;
	h = http_easy_new(tls);
	if (!h) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; headers && headers[i]; i++) {
		struct curl_slist *n = curl_slist_append(hl, headers[i]);
		if (!n) {
			r = -ENOMEM;
			goto out;
		}
		hl = n;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	c = curl_easy_perform(h);
	if (c != CURLE_OK) {
		char *u = redact_string(url);
		r = err_set(-http_errno(c), "'%s': %s", u ? u : REDACTED, curl_easy_strerror(c));
		free(u);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	*ret_status = status;
	*ret_body = s.data ? s.data : strdup("");
	s.data = NULL;
	r = *ret_body ? 0 : -ENOMEM;
out:
	free(s.data);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return r;
}
