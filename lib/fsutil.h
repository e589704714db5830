/* Small file-system helpers with errno-style returns. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* mkdir -p, mode 0755. */
int mkdir_p(const char *path);
/* Writes data to path atomically: a temporary name in the same folder, fsync, rename,
 * fsync of the folder. A file replaced keeps its permission bits; a new one is 0644
 * (less the umask). On failure the temporary file is removed and path untouched. */
int write_file_atomic(const char *path, const void *data, size_t len);
/* The same without the two fsyncs: still never a partial file at path, but not durable
 * across a power loss. For copies whose durable version is elsewhere (a run folder's
 * manifest.json, which the fsync'd bundle carries). */
int write_file_replace(const char *path, const void *data, size_t len);
/* fsync of a directory, so that a rename in it is durable. */
int fsync_dir(const char *dir);
/* Reads a whole file (NUL-terminated, *ret_len without the NUL). */
int read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Reads the first max bytes of a file at most (NUL-terminated, *ret_len without the NUL
 * when ret_len is given), cutting the rest; a read error ends the text where it happened.
 * For probes of files that may well be missing (pyvenv.cfg, /proc entries, a program's
 * '#!' line): returns 0 or the negative errno of open() and sets no reason, so that a
 * probe does not overwrite one. */
int read_head(const char *path, size_t max, char **ret, size_t *ret_len);
/* Replaces link (a symlink) atomically so that it points at target. */
int symlink_atomic(const char *target, const char *link);
/* Returns a malloc'd absolute path for path (not resolving links, so that a venv's
 * bin/python, a link to the base interpreter, stays in the venv), or NULL. */
char *path_absolute(const char *path);
/* The folder part of path, malloc'd: "." for a bare name, "/" for "/name"; NULL on ENOMEM. */
char *path_dirname(const char *path);
/* Whether path is a regular file this process may execute. */
bool path_is_exec(const char *path);
/* The first executable regular file called name (no '/') in the folders of $PATH
 * (/usr/local/bin:/usr/bin:/bin when PATH is unset; an empty entry is the current
 * folder), as path_absolute() makes it; NULL when there is none. With skip_dir, a folder
 * for which it is true is passed over, and the first file passed over is returned in
 * *ret_skipped (malloc'd, NULL when none) when ret_skipped is given. */
char *path_search(const char *name, bool (*skip_dir)(const char *dir), char **ret_skipped);
