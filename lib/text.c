/*
 * text.c - UTF-8 checks, message quoting, Kubernetes names and URL path
 * segments, for text.h.
 */
#include "text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nap.h"

/* The length of the valid sequence at s (n bytes left), or 0 when it is not valid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else
		return 0; /* a continuation byte, 0xc0, 0xc1 or 0xf5.. */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t
nap_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < len) {
		/* Records are mostly ASCII: eight bytes at a time. */
		while (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if (w & UINT64_C(0x8080808080808080))
				break;
			i += 8;
		}
		if (i == len)
			break;
		if ((k = utf8_seq(p + i, len - i)) == 0)
			return i;
		i += k;
	}
	return len;
}

char *
nap_text_quote(const char *s, size_t max)
{
	size_t n = strlen(s), cut = max && n > max ? max : n, i = 0, k, len = 0, alloc = 0;
	char *out = NULL;

	/* at most 4 bytes out per byte in, and "..." */
	nap_xgrow(&out, &alloc, cut * 4 + 4, 1);
	while (i < cut) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80 && (k = utf8_seq((const unsigned char *)s + i, cut - i)) > 0) {
			memcpy(out + len, s + i, k);
			len += k;
			i += k;
			continue;
		}
		if (c == '"' || c == '\\') {
			out[len++] = '\\';
			out[len++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			out[len++] = '\\';
			out[len++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(out + len, 5, "\\x%02x", c);
			len += 4;
		} else {
			out[len++] = (char)c;
		}
		i++;
	}
	if (cut < n) {
		memcpy(out + len, "...", 3);
		len += 3;
	}
	out[len] = '\0';
	return out;
}

static int
alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int
nap_k8s_name_check(const char *name, int label, const char **why)
{
	size_t n = strlen(name), i;
	int part_start = 1;

	if (n > (label ? 63u : 253u)) {
		*why = label ? "must be no more than 63 characters"
			     : "must be no more than 253 characters";
		return -1;
	}
	*why = label ? "a lowercase RFC 1123 label must consist of lower case alphanumeric "
		       "characters or '-', and must start and end with an alphanumeric "
		       "character (e.g. 'my-name',  or '123-abc', regex used for validation is "
		       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
		     : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
		       "characters, '-' or '.', and must start and end with an alphanumeric "
		       "character (e.g. 'example.com', regex used for validation is "
		       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (c == '.' && !label) {
			/* a part ends here: it must have ended in an alphanumeric */
			if (part_start || !alnum(name[i - 1]))
				return -1;
			part_start = 1;
			continue;
		}
		if (c != '-' && !alnum(c))
			return -1;
		if (part_start && !alnum(c))
			return -1;
		part_start = 0;
	}
	if (!alnum(name[n - 1]))
		return -1;
	*why = NULL;
	return 0;
}

static int
unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

static int
hexdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

size_t
nap_url_path_check(const char *path)
{
	/* RFC 3986 pchar, "/" and "?": unreserved, sub-delims, ":", "@", and %XX */
	static const char ok[] = "!$&'()*+,;=:@/?";
	size_t i;

	for (i = 0; path[i]; i++) {
		unsigned char c = (unsigned char)path[i];

		if (unreserved(c) || (c != '\0' && strchr(ok, c)))
			continue;
		if (c == '%' && hexdigit(path[i + 1]) && hexdigit(path[i + 2])) {
			i += 2;
			continue;
		}
		return i;
	}
	return i;
}

char *
nap_url_path(const char *base, ...)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(base), alloc = 0;
	char *out = NULL;
	const char *seg;
	va_list ap;

	nap_xgrow(&out, &alloc, len + 1, 1);
	memcpy(out, base, len + 1);
	va_start(ap, base);
	while ((seg = va_arg(ap, const char *)) != NULL) {
		/* "." and ".." would be taken as the path's own dot segments */
		int dots = strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0;
		size_t n = strlen(seg), i;

		nap_xgrow(&out, &alloc, len + 1 + 3 * n + 1, 1);
		out[len++] = '/';
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)seg[i];

			if (unreserved(c) && !(dots && c == '.')) {
				out[len++] = (char)c;
			} else {
				out[len++] = '%';
				out[len++] = hex[c >> 4];
				out[len++] = hex[c & 15];
			}
		}
		out[len] = '\0';
	}
	va_end(ap);
	return out;
}
