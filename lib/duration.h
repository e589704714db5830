/* Durations on the command line: "45s", "90m", "2h30m", "1.5" (seconds), "500ms". */
#pragma once

int duration_parse(const char *s, double *ret_seconds);
