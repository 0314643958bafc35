/*
 * tap.h - a tiny TAP producer for the C unit tests of lib/.
 * Each check prints "ok N - name" or "not ok N - name" and a diagnostic;
 * tap_done() prints the plan and returns the exit status (1 if any failed).
 */
#ifndef NAP_TAP_H
#define NAP_TAP_H

#include <stdio.h>
#include <stdarg.h>
#include <string.h>

static int tap_n, tap_failed;

#define TAP_OK(cond, ...) tap_ok_((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)
#define TAP_IS_INT(got, want, ...)                                                                 \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (!TAP_OK(g_ == w_, __VA_ARGS__))                                                \
			printf("#   got %lld, want %lld\n", g_, w_);                               \
	} while (0)
#define TAP_IS_STR(got, want, ...)                                                                 \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		int eq_ = (g_ == NULL || w_ == NULL) ? g_ == w_ : strcmp(g_, w_) == 0;             \
		if (!TAP_OK(eq_, __VA_ARGS__))                                                     \
			printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)",                \
			    w_ ? w_ : "(null)");                                                   \
	} while (0)

static int __attribute__((format(printf, 4, 5), unused))
tap_ok_(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", ok ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok) {
		tap_failed++;
		printf("#   at %s:%d\n", file, line);
	}
	return ok;
}

static int __attribute__((unused)) tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
