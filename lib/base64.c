#include "base64.h"

#include <stdint.h>

#include "nap.h"

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *
encode(const unsigned char *p, size_t len, const char *alpha, int pad)
{
	char *out = nap_xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*o++ = alpha[v >> 18 & 63];
		*o++ = alpha[v >> 12 & 63];
		*o++ = alpha[v >> 6 & 63];
		*o++ = alpha[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);

		*o++ = alpha[v >> 18 & 63];
		*o++ = alpha[v >> 12 & 63];
		if (i + 1 < len)
			*o++ = alpha[v >> 6 & 63];
		else if (pad)
			*o++ = '=';
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

char *
nap_base64_encode(const void *data, size_t len)
{
	return encode(data, len, std_alpha, 1);
}

char *
nap_base64url_encode(const void *data, size_t len)
{
	return encode(data, len, url_alpha, 0);
}

static int
sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int
nap_base64_decode(const char *in, size_t inlen, unsigned char **out, size_t *len)
{
	unsigned char *buf = nap_xmalloc(inlen / 4 * 3 + 4);
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0, padding = 0;

	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		int s;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			padding++;
			continue;
		}
		s = sextet(c);
		if (s < 0 || padding > 0)
			goto bad;
		acc = acc << 6 | (uint32_t)s;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	/* Six leftover bits cannot hold a byte: the input was cut. */
	if (bits >= 6 || padding > 2)
		goto bad;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
bad:
	free(buf);
	return -1;
}
