/* The profile kinds: what the user asks for. The matrix maps each to its tools. */
#pragma once

#include <stdbool.h>

/* NULL-terminated: cprofile, sampling, memory, timeline, scalene, imports. */
extern const char *const run_kinds[];
bool run_kind_known(const char *kind);
