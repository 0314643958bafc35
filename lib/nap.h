/*
 * nap.h - what every part of nap shares: the exit-status table, the error
 * record that lib/ fills instead of printing, and the allocators.
 *
 * Errors: a lib/ function that can fail returns 0 on success and -1 on
 * failure, and fills the caller-owned struct nap_err (which may be NULL when
 * the caller does not care).  The err's code is the exit status a tool
 * should use if it decides to die of this error; http is the HTTP status when
 * one was involved, else 0; msg names the object and says what went wrong,
 * lowercase, without the program name and without a trailing newline.
 *
 * Memory: out of memory is the one condition lib/ does not report: the
 * nap_x* allocators abort with a message, as git's do, because no caller
 * could do anything useful with it.  Everything else lib/ allocates is owned
 * by the caller unless the header of the function says otherwise.
 */
#ifndef NAP_H
#define NAP_H

#include <stddef.h>
#include <stdarg.h>

/* One exit-status table for every tool (sysexits numbers, our names). */
enum {
	NAP_EX_OK = 0,		 /* done */
	NAP_EX_NO = 1,		 /* a well-formed "no" */
	NAP_EX_USAGE = 64,	 /* bad flag or argument */
	NAP_EX_DATAERR = 65,	 /* unusable input */
	NAP_EX_UNAVAILABLE = 69, /* endpoint unavailable after retries */
	NAP_EX_SOFTWARE = 70,	 /* internal bug */
	NAP_EX_IOERR = 74,	 /* I/O error (disk full, broken output) */
	NAP_EX_TEMPFAIL = 75,	 /* try again later */
	NAP_EX_NOPERM = 77,	 /* 401/403 */
	NAP_EX_CONFIG = 78,	 /* bad configuration */
};

#define NAP_ERR_MSG 512

struct nap_err {
	int code;  /* NAP_EX_* a tool would exit with */
	long http; /* HTTP status involved, else 0 */
	char msg[NAP_ERR_MSG];
};

#if defined(__GNUC__)
#define NAP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define NAP_NORETURN __attribute__((noreturn))
#define NAP_UNUSED __attribute__((unused))
#else
#define NAP_PRINTF(f, a)
#define NAP_NORETURN
#define NAP_UNUSED
#endif

#define NAP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Fill err (if not NULL) and return -1, so callers can "return nap_err_set(...)". */
int nap_err_set(struct nap_err *err, int code, const char *fmt, ...) NAP_PRINTF(3, 4);
int nap_err_vset(struct nap_err *err, int code, const char *fmt, va_list ap) NAP_PRINTF(3, 0);
/* Prefix err->msg with "what: " (for adding context on the way up); returns -1. */
int nap_err_prefix(struct nap_err *err, const char *fmt, ...) NAP_PRINTF(2, 3);
void nap_err_clear(struct nap_err *err);

void *nap_xmalloc(size_t n);
void *nap_xcalloc(size_t nmemb, size_t size);
void *nap_xrealloc(void *p, size_t n);
/* Grow *p (holding *alloc elements of size) to hold at least n elements. */
void nap_xgrow(void *pp, size_t *alloc, size_t n, size_t size);
char *nap_xstrdup(const char *s);
char *nap_xstrndup(const char *s, size_t n);
char *nap_xasprintf(const char *fmt, ...) NAP_PRINTF(1, 2);

#endif
