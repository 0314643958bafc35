/*
 * util.h - helpers the unit tests share: every non-t-*.c file in
 * tests/unit is linked into every test.
 */
#ifndef NAP_TEST_UTIL_H
#define NAP_TEST_UTIL_H

#include <stddef.h>

/* The whole file, NUL-terminated (caller frees), its length in *lenp if not NULL; NULL if unreadable. */
char *test_slurp(const char *path, size_t *lenp);

#endif
