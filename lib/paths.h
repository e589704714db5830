/* Where sctprof's own data lives: the compatibility matrix and the backends' data files
 * (launchers). The same relative layout serves an installed copy ($datadir/sctprof/) and
 * the source tree (when running from build/), so "data/compat-matrix.yaml" and
 * "plugins/cprofile/launcher.py" are found under one root. */
#pragma once

/* The root: $SCTPROF_DATA_DIR if set; else $datadir/sctprof when the binary is
 * installed under the prefix meson was configured with; else the source tree. Never NULL. */
const char *data_root(void);

/* data_root()/rel in a static buffer that the next call overwrites. */
const char *data_path(const char *rel);
