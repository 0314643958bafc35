/*
 * util.h - helpers the unit tests share: every non-t-*.c file in
 * tests/unit is linked into every test.
 */
#ifndef NAP_TEST_UTIL_H
#define NAP_TEST_UTIL_H

#include <stddef.h>

/* The whole file, NUL-terminated (caller frees), its length in *lenp if not NULL; NULL if unreadable. */
char *test_slurp(const char *path, size_t *lenp);

/*
 * The shared fixtures and data: $NAP_SHARED, else ../shared (the tests run
 * from the repository, beside which shared/ is checked out).  They are
 * required: a check that cannot read one fails, naming the path and
 * ending its message with TEST_SHARED_HINT; it never skips.
 */
const char *test_shared(void);
#define TEST_SHARED_HINT "(the shared fixtures are required: ../shared, or set NAP_SHARED)"

/*
 * A TCP socket listening on 127.0.0.1 at a port the kernel chose, written to
 * *port; a failure bails out of the test (TAP "Bail out!").
 */
int test_listener(int *port);

#endif
