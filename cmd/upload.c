/* sctprof upload: send a bundle to S3 or an HTTP(S) PUT URL (lib/upload.h). */
#include "upload-bundle.h"
#include "cmd.h"
#include "exitcode.h"
#include "log.h"
#include "redact.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SCTPROF_FRONT /* the engine only: see cmd/cmd.h */

static volatile sig_atomic_t cancelled;

static void on_signal(int sig)
{
	cancelled = sig;
}

struct progress_state {
	bool tty;
	bool shown;
	double last;
};

static void human(uint64_t n, char *out, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	unsigned u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* On a terminal: one line, redrawn at most once a second, cleared at the end. */
static void show_progress(const struct upload_progress *p, void *ud)
{
	struct progress_state *s = ud;
	char done[32], total[32], rate[32], left[32] = "";
	double r;

	if (!s->tty || log_get_level() == LOG_QUIET)
		return;
	if (p->final) {
		if (s->shown)
			fputs("\r\033[K", stderr);
		s->shown = false;
		return;
	}
	if (p->elapsed - s->last < 1.0)
		return;
	s->last = p->elapsed;
	r = p->elapsed > 0 ? (double)p->done / p->elapsed : 0;
	human(p->done, done, sizeof(done));
	human(p->total, total, sizeof(total));
	human((uint64_t)r, rate, sizeof(rate));
	if (r > 0 && p->total >= p->done) {
		unsigned t = (unsigned)((double)(p->total - p->done) / r);
		snprintf(left, sizeof(left), ", %u:%02u left", t / 60, t % 60);
	}
	fprintf(stderr, "\r\033[Kuploading %s / %s (%s/s%s", done, total, rate, left);
	if (p->retries)
		fprintf(stderr, ", %u retr%s", p->retries, p->retries == 1 ? "y" : "ies");
	fputc(')', stderr);
	fflush(stderr);
	s->shown = true;
}

int cmd_upload_bundle(const char *bundle, const char *url, struct upload_opts *o,
		      bool no_record)
{
	struct progress_state ps = { .tty = isatty(STDERR_FILENO) == 1, .last = 0 };
	struct upload_result res = { 0 };
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	char size[32], rate[32];
	int r, status = 0;

	if (o->tls.insecure)
		log_warn("--insecure: the server's TLS certificate is not verified");
	o->progress = show_progress;
	o->progress_ud = &ps;
	o->cancel = &cancelled;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	r = upload_file(bundle, url, o, &res);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (r < 0) {
		status = log_fail(r, upload_exit_status(r));
		goto out;
	}
	human(res.size, size, sizeof(size));
	human(res.seconds > 0 ? (uint64_t)((double)res.size / res.seconds) : res.size, rate,
	      sizeof(rate));
	if (res.parts)
		log_info("uploaded '%s': %s in %.1f s (%s/s), %u parts, %u retries", bundle, size,
			 res.seconds, rate, res.parts, res.retries);
	else
		log_info("uploaded '%s': %s in %.1f s (%s/s), %u retries", bundle, size,
			 res.seconds, rate, res.retries);
	printf("%s\n", res.url);
	if (!no_record) {
		r = upload_record_write(bundle, &res);
		if (r < 0)
			status = log_fail(r, EXIT_CANTCREAT);
	}
out:
	upload_result_free(&res);
	return status;
}

#endif

static const char usage[] =
	"usage: sctprof upload [OPTIONS] BUNDLE URL\n"
	"\n"
	"Send BUNDLE (any file) to URL and print where it went; the record goes to upload.json\n"
	"beside the bundle. URL is s3://BUCKET/PREFIX/ (AWS Signature V4; the file name is\n"
	"appended when URL ends in '/') or an http:// or https:// URL that takes a PUT\n"
	"(presigned URLs, WebDAV, Artifactory). Files above the multipart threshold go to S3\n"
	"in parts sent in parallel.\n"
	"\n"
	"Options:\n"
	"  --endpoint URL          S3-compatible store, path-style (default $AWS_ENDPOINT_URL)\n"
	"  --region REGION         S3 region (default $AWS_REGION, $AWS_DEFAULT_REGION, the\n"
	"                          profile's, us-east-1)\n"
	"  --profile NAME          credentials profile (default $AWS_PROFILE, \"default\")\n"
	"  --cacert FILE           CA certificates to verify the server with\n"
	"  --insecure              do not verify the server's certificate (warns)\n"
	"  --attempts N            tries per request (default 5)\n"
	"  --retry-max-time SECS   time one request may spend retrying (default 300)\n"
	"  --stall-timeout SECS    fail an attempt that makes no progress this long (default 60)\n"
	"  --parallel N            parts in flight (default 4)\n"
	"  --part-size MIB         multipart part size (default 16)\n"
	"  --multipart-threshold MIB  send larger files in parts (default 64)\n"
	"  --no-record             do not write upload.json\n"
	"  -h, --help              this text\n"
	"\n"
	"Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, else the\n"
	"profile in ~/.aws/credentials. Proxies: http_proxy, https_proxy, no_proxy.\n"
	"Exit status: 0, 64 usage, 66 no such bundle, 75 unreachable or still failing after\n"
	"retries, 76 the server refused (or TLS verification failed), 78 no credentials.\n";

#ifndef SCTPROF_FRONT

const struct cmd cmd_upload;

static int parse_uint(const char *arg, const char *name, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	v = strtoul(arg, &end, 10);
	if (!*arg || *end || v == 0 || v > max)
		return cmd_usage_error(&cmd_upload, "%s: '%s' is not a number from 1 to %lu",
				       name, arg, max);
	*ret = v;
	return 0;
}

static int run(int argc, char **argv)
{
	enum { O_ENDPOINT = 256, O_REGION, O_PROFILE, O_CACERT, O_INSECURE, O_ATTEMPTS,
	       O_RETRY_TIME, O_STALL, O_PARALLEL, O_PART, O_THRESHOLD, O_NO_RECORD };
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, O_ENDPOINT },
		{ "region", required_argument, NULL, O_REGION },
		{ "profile", required_argument, NULL, O_PROFILE },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "insecure", no_argument, NULL, O_INSECURE },
		{ "attempts", required_argument, NULL, O_ATTEMPTS },
		{ "retry-max-time", required_argument, NULL, O_RETRY_TIME },
		{ "stall-timeout", required_argument, NULL, O_STALL },
		{ "parallel", required_argument, NULL, O_PARALLEL },
		{ "part-size", required_argument, NULL, O_PART },
		{ "multipart-threshold", required_argument, NULL, O_THRESHOLD },
		{ "no-record", no_argument, NULL, O_NO_RECORD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct upload_opts o = { 0 };
	bool no_record = false;
	unsigned long v;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		r = 0;
		switch (c) {
		case O_ENDPOINT: o.endpoint = optarg; break;
		case O_REGION: o.region = optarg; break;
		case O_PROFILE: o.profile = optarg; break;
		case O_CACERT: o.tls.cacert = optarg; break;
		case O_INSECURE: o.tls.insecure = true; break;
		case O_ATTEMPTS:
			r = parse_uint(optarg, "--attempts", 100, &v);
			o.attempts = (unsigned)v;
			break;
		case O_RETRY_TIME:
			r = parse_uint(optarg, "--retry-max-time", 86400, &v);
			o.retry_max_time = (unsigned)v;
			break;
		case O_STALL:
			r = parse_uint(optarg, "--stall-timeout", 86400, &v);
			o.stall_time = (unsigned)v;
			break;
		case O_PARALLEL:
			r = parse_uint(optarg, "--parallel", 64, &v);
			o.parallel = (unsigned)v;
			break;
		case O_PART:
			r = parse_uint(optarg, "--part-size", 5120, &v);
			o.part_size = v * UPLOAD_MIB;
			break;
		case O_THRESHOLD:
			r = parse_uint(optarg, "--multipart-threshold", 1024 * 1024, &v);
			o.multipart_threshold = v * UPLOAD_MIB;
			break;
		case O_NO_RECORD: no_record = true; break;
		case 'h': return cmd_help(&cmd_upload);
		default: return cmd_usage_error(&cmd_upload, "unknown option");
		}
		if (r)
			return r;
	}
	if (argc - optind != 2)
		return cmd_usage_error(&cmd_upload, "expected BUNDLE and URL");
	return cmd_upload_bundle(argv[optind], argv[optind + 1], &o, no_record);
}

#endif /* SCTPROF_FRONT */

const struct cmd cmd_upload = {
	.name = "upload",
	.summary = "send a bundle to S3 or an HTTP(S) URL",
	.usage = usage,
	.run = CMD_ENGINE(run),
};
