/* The file-system helpers lib/ shares (lib/fsutil.h): folder names, reading the head of
 * a file, PATH look-ups that pass over some folders, and rewriting a file in place. */
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fsutil.h"

static char dir[] = "/tmp/sctprof-test-fsutil-XXXXXX";

static bool is_first(const char *folder)
{
	return strstr(folder, "/first") != NULL;
}

int main(void)
{
	char path[600], *s = NULL, *skipped = NULL;
	size_t len = 0;
	struct stat st;

	if (!mkdtemp(dir))
		return 1;

	s = path_dirname("a/b/c");
	is_str(s, "a/b", "the folder of a relative path");
	free(s);
	s = path_dirname("/top");
	is_str(s, "/", "the folder of a top-level entry");
	free(s);
	s = path_dirname("bare");
	is_str(s, ".", "the folder of a bare name");
	free(s);

	put_text(dir, "text", "hello world\n", -1);
	snprintf(path, sizeof(path), "%s/text", dir);
	s = NULL;
	is_int(read_head(path, 5, &s, &len), 0, "the head of a file is read");
	is_str(s, "hello", "  cut at the limit");
	is_int(len, 5, "  its length");
	free(s);
	snprintf(path, sizeof(path), "%s/missing", dir);
	is_int(read_head(path, 5, &s, NULL), -ENOENT, "a missing file is -ENOENT");

	snprintf(path, sizeof(path), "%s/first", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/second", dir);
	mkdir(path, 0755);
	put_text(dir, "first/tool", "#!/bin/sh\n", 0755);
	put_text(dir, "second/tool", "#!/bin/sh\n", 0755);
	put_text(dir, "first/data", "not a program\n", 0644);
	snprintf(path, sizeof(path), "%s/first:%s/second", dir, dir);
	setenv("PATH", path, 1);
	s = path_search("tool", NULL, NULL);
	ok(s && strstr(s, "/first/tool"), "PATH is searched in order");
	free(s);
	s = path_search("tool", is_first, &skipped);
	ok(s && strstr(s, "/second/tool"), "a folder the filter names is passed over");
	ok(skipped && strstr(skipped, "/first/tool"), "  the file passed over is returned");
	free(s);
	free(skipped);
	ok(path_search("data", NULL, NULL) == NULL, "a file that is not executable is not found");

	snprintf(path, sizeof(path), "%s/private", dir);
	put_text(dir, "private", "old\n", 0600);
	is_int(write_file_atomic(path, "new\n", 4), 0, "a file is rewritten");
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "  and keeps its mode");
	s = NULL;
	ok(read_head(path, 64, &s, NULL) == 0 && s && !strcmp(s, "new\n"), "  with the new text");
	free(s);
	return tap_done();
}
