#include "nap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
nap_err_vset(struct nap_err *err, int code, const char *fmt, va_list ap)
{
	if (err == NULL)
		return -1;
	err->code = code;
	err->http = 0;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int
nap_err_set(struct nap_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nap_err_vset(err, code, fmt, ap);
	va_end(ap);
	return -1;
}

int
nap_err_prefix(struct nap_err *err, const char *fmt, ...)
{
	char pre[NAP_ERR_MSG], old[NAP_ERR_MSG];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* A message cut at NAP_ERR_MSG is still the most useful part; the result is checked only for that. */
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", pre, old) < 0)
		err->msg[0] = '\0';
	return -1;
}

void
nap_err_clear(struct nap_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->http = 0;
	err->msg[0] = '\0';
}

static void NAP_NORETURN
oom(size_t n)
{
	fprintf(stderr, "nap: fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
nap_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
nap_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
nap_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

void
nap_xgrow(void *pp, size_t *alloc, size_t n, size_t size)
{
	void **p = pp;
	size_t want;

	if (n <= *alloc)
		return;
	want = *alloc ? *alloc : 8;
	while (want < n) {
		if (want > ((size_t)-1) / 2 / size)
			oom(n * size);
		want *= 2;
	}
	*p = nap_xrealloc(*p, want * size);
	*alloc = want;
}

char *
nap_xstrdup(const char *s)
{
	return nap_xstrndup(s, strlen(s));
}

char *
nap_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = nap_xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
nap_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	p = nap_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
