/* A byte stream compressed into concatenated zstd frames on several threads. A .zst file
 * may hold any number of frames (zstd, GNU tar and libarchive read them as one stream),
 * so fixed-size pieces can be compressed independently and written in order. This is
 * what makes bundling use every core within a fixed amount of memory: libarchive's own
 * zstd threads (libzstd's multi-threaded mode) cannot be given a job size through
 * libarchive and take 70 to 140 MiB for two to four threads; here the memory is about
 * (2 x threads + 4) x 2 x the piece size plus 4 MiB a thread, whatever the input. Pieces
 * of 1 MiB compress as well as one stream and cost less CPU (bench/bundle). */
#pragma once

#include <stddef.h>

struct zframes;

/* Starts `threads` compressing threads (1..8) that write frames of `piece` input bytes
 * (level `level`) to fd, in order. */
int zframes_open(int fd, int threads, size_t piece, int level, struct zframes **ret);
/* Appends data; blocks while every buffer is taken, writing the oldest finished frame.
 * Returns 0 or a negative errno (a write error: -ENOSPC, -EIO) with err_set(). */
int zframes_write(struct zframes *z, const void *data, size_t len);
/* Compresses and writes what is left, then stops the threads. */
int zframes_close(struct zframes *z);
/* Stops the threads (discarding what is not written) and frees z; accepts NULL. */
void zframes_free(struct zframes *z);
