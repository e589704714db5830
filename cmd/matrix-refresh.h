/* `sctprof matrix refresh`, a subcommand of cmd/matrix.c's table. */
#pragma once

/* argv[0] is "refresh". Returns an exit status. */
int cmd_matrix_refresh(int argc, char **argv);

/* What `sctprof matrix refresh --help` prints. */
extern const char cmd_matrix_refresh_usage[];
