/*
 * fuzz.h - what every libFuzzer harness in tests/fuzz shares.
 *
 * A harness states its contract in its opening comment and checks it with
 * FUZZ_CHECK: a broken promise aborts, which libFuzzer reports as a crash
 * and saves as a reproducer, like any sanitizer finding.  Harnesses never
 * print on the normal path: the fuzzer's own lines are the report.
 */
#ifndef NAP_FUZZ_H
#define NAP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(                                                                   \
			    stderr, "%s:%d: contract broken: %s: ", __FILE__, __LINE__, #cond);    \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input as a NUL-terminated string the caller frees (NUL bytes inside stay). */
static inline char *
fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = nap_xmalloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * An error a lib/ call filled must say something and carry an exit code.
 * (Messages quote input verbatim, control bytes included: lib/log.c is
 * where a line would be kept whole, so that is not checked here.)
 */
static inline void
fuzz_check_err(const struct nap_err *err)
{
	FUZZ_CHECK(err->msg[0] != '\0', "empty error message (code %d)", err->code);
	FUZZ_CHECK(err->code > 0, "error without an exit code: %s", err->msg);
}

#endif
