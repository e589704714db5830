/* Progress of sctprof's own long phases (post-processing, bundling, upload) on stderr.
 *
 * While the test runs it owns the terminal and nothing is shown. A phase shows, on a
 * terminal, one live line — phase, bytes done of total, rate, time left — redrawn at
 * most once a second by a ticker thread and cleared at the end; elsewhere (a CI log) one
 * plain line when the phase starts and one a minute while it lasts. lib/ shows nothing
 * until the command layer calls progress_setup(): it decides where progress goes.
 *
 * Usage, for any phase that moves bytes:
 *     struct progress *p = progress_begin("uploading", total, "s3://bucket/x.tar.zst");
 *     ... progress_update(p, done); ...      (cheap: call it as often as you like)
 *     progress_end(p);
 * Every call accepts NULL (what progress_begin returns when nothing is shown). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum progress_mode {
	PROGRESS_AUTO,    /* a live line when the output is a terminal, else plain lines */
	PROGRESS_ALWAYS,  /* a live line even when the output is not a terminal */
	PROGRESS_NEVER,   /* plain lines only: one per phase and one a minute */
	PROGRESS_OFF,     /* nothing at all (sctprof -q) */
};

/* "auto", "always", "never"; -EINVAL otherwise. */
int progress_mode_parse(const char *s, enum progress_mode *ret);
/* Where progress goes (an fd, normally stderr's) and how; for cmd/ only. */
void progress_setup(int fd, enum progress_mode mode);

struct progress;

/* Starts a phase: its name ("bundling"), its size in bytes (0 when unknown: elapsed
 * time is shown instead) and an optional detail for the plain line (the destination).
 * Returns NULL when progress is not shown. */
struct progress *progress_begin(const char *phase, uint64_t total, const char *detail);
void progress_update(struct progress *p, uint64_t done);
/* Clears the live line and frees p. */
void progress_end(struct progress *p);
/* An adapter for callbacks shaped like struct bundle_cb's: ud is a struct progress. */
void progress_cb(void *ud, uint64_t done, uint64_t total);

/* Around any other output to the same terminal (lib/log.c does it): hold clears the
 * live line and keeps it off until release; the next tick redraws it. */
void progress_hold(void);
void progress_release(void);

/* "1.5 GiB", "512.0 KiB", "17 B" into buf. */
void progress_format_bytes(char *buf, unsigned size, uint64_t bytes);
