/* Small string helpers shared by lib/ files that build messages and read "key = value"
 * text. */
#pragma once

/* A malloc'd string printed from fmt; NULL on ENOMEM. For messages built in one go,
 * where the caller checks the result once (or hands it to a function that does). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Cuts white space (isspace) off both ends of s in place; returns the first character
 * that is not white space, inside s. */
char *str_trim(char *s);
