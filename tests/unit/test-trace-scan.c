/* Streaming summary of viztracer traces (plugins/viztracer/trace_scan.c). */
#include "tap.h"

#include <errno.h>

#include <unistd.h>
#include <zlib.h>

#include "error.h"
#include "trace_scan.h"

static const char trace[] =
	"{\"traceEvents\": ["
	"{\"ph\": \"M\", \"pid\": 1, \"tid\": 1, \"name\": \"process_name\", \"args\": {\"name\": \"x\"}},"
	"{\"pid\": 1, \"tid\": 1, \"ts\": 100.0, \"dur\": 50.0, \"name\": \"f (a.py:1)\", \"ph\": \"X\", \"cat\": \"FEE\"},"
	"{\"pid\": 1, \"tid\": 2, \"ts\": 120.0, \"dur\": 10.0, \"name\": \"f (a.py:1)\", \"ph\": \"X\"},"
	"{\"pid\": 1, \"tid\": 1, \"ts\": 200.0, \"dur\": 1000.0, \"name\": \"g (a.py:9)\", \"ph\": \"X\"},"
	"{\"pid\": 2, \"tid\": 7, \"ts\": 300.0, \"name\": \"instant\", \"ph\": \"i\"}],"
	" \"viztracer_metadata\": {\"version\": \"1.1.1\", \"overflow\": true},"
	" \"file_info\": {\"files\": {}, \"functions\": {}}}";

int main(void)
{
	struct trace_stats st;
	char *sum;

	is_int(trace_scan_mem(trace, sizeof(trace) - 1, "t", &st), 0, "a trace scans");
	is_int(st.events, 5, "five events");
	is_int(st.complete_events, 3, "three complete calls");
	is_int(st.processes, 2, "two processes");
	is_int(st.threads, 3, "three threads");
	ok(st.overflow, "overflow is read from viztracer_metadata");
	is_str(st.version, "1.1.1", "the version is read");
	ok(st.first_ts == 100.0 && st.last_end == 1200.0, "the span is 100..1200 us");
	sum = trace_summary(&st, "trace.json", 10);
	ok(sum && strstr(sum, "circular buffer overflowed"), "the summary warns of the overflow");
	{
		const char *g = sum ? strstr(sum, "g (a.py:9)") : NULL;
		const char *f = sum ? strstr(sum, "f (a.py:1)") : NULL;

		ok(g && f && g < f, "functions are sorted by total time");
		ok(sum && strstr(sum, "       0.060          2        0.050  f (a.py:1)"),
		   "f: 60 us in 2 calls, the longest 50 us");
	}
	free(sum);
	trace_stats_free(&st);

	{
		const char *t = "{\"traceEvents\": [], \"viztracer_metadata\": {\"overflow\": false}}";

		is_int(trace_scan_mem(t, strlen(t), "t", &st), 0, "an empty trace scans");
	}
	ok(!st.overflow && st.has_metadata, "no overflow");
	sum = trace_summary(&st, "trace.json", 10);
	ok(sum && strstr(sum, "no complete calls"), "the summary says there is nothing");
	free(sum);
	trace_stats_free(&st);

	{
		const char *t = "[{\"ph\": \"X\", \"name\": \"a\", \"dur\": 1, \"ts\": 0}]";

		is_int(trace_scan_mem(t, strlen(t), "t", &st), 0, "a bare array of events scans");
	}
	is_int(st.complete_events, 1, "with its event");
	trace_stats_free(&st);

	{
		const char *t1 = "{\"traceEvents\": [{\"ph\": \"X\"", *t2 = "{\"traceEvents\": 3}";

		ok(trace_scan_mem(t1, strlen(t1), "t", &st) == -EBADMSG,
		   "a truncated trace is an error");
		ok(trace_scan_mem(t2, strlen(t2), "t", &st) == -EBADMSG,
		   "traceEvents must be an array");
	}

	{
		char path[] = "/tmp/sctprof-test-trace-XXXXXX";
		int fd = mkstemp(path);
		gzFile gz = gzdopen(fd, "wb");

		gzwrite(gz, trace, sizeof(trace) - 1);
		gzclose(gz);
		is_int(trace_scan(path, &st), 0, "a trace.json.gz scans");
		ok(st.overflow && st.complete_events == 3, "with the same content");
		trace_stats_free(&st);
		unlink(path);
	}
	ok(trace_scan("/nonexistent/trace.json", &st) == -ENOENT, "a missing file is -ENOENT");
	return tap_done();
}
