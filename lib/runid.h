/* Run identity: RUN_ID = YYYYmmddTHHMMSSZ-KIND-TESTID, TESTID being SCT_TEST_ID's first
 * 8 characters, else the pid. The run folder OUTDIR/RUN_ID is created exclusively; when
 * two runs meet in the same second a suffix (-2, -3, ...) keeps them apart. */
#pragma once

#include <sys/types.h>
#include <time.h>

/* Formats the id (without collision suffix) into buf. test_id may be NULL. */
int runid_format(char *buf, size_t size, time_t t, const char *kind, const char *test_id,
		 pid_t pid);

/* Creates OUTDIR (with parents) and a fresh OUTDIR/RUN_ID folder. Returns malloc'd id and
 * absolute folder path. */
int runid_create_dir(const char *outdir, time_t t, const char *kind, const char *test_id,
		     pid_t pid, char **ret_id, char **ret_dir);
