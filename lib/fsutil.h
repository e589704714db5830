/* Small file-system helpers with errno-style returns. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p, mode 0755. */
int mkdir_p(const char *path);
/* Writes data to path atomically: a temporary name in the same folder, fsync, rename,
 * fsync of the folder. On failure the temporary file is removed and path untouched. */
int write_file_atomic(const char *path, const void *data, size_t len);
/* The same without the two fsyncs: still never a partial file at path, but not durable
 * across a power loss. For copies whose durable version is elsewhere (a run folder's
 * manifest.json, which the fsync'd bundle carries). */
int write_file_replace(const char *path, const void *data, size_t len);
/* fsync of a directory, so that a rename in it is durable. */
int fsync_dir(const char *dir);
/* Reads a whole file (NUL-terminated, *ret_len without the NUL). */
int read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Replaces link (a symlink) atomically so that it points at target. */
int symlink_atomic(const char *target, const char *link);
/* Returns a malloc'd absolute path for path (not resolving links), or NULL. */
char *path_absolute(const char *path);
