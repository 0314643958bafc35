/* Unit tests for lib/base64 (RFC 4648 test vectors and the odd cases). */
#include "base64.h"
#include "tap.h"

#include <stdlib.h>

static void
check(const char *plain, const char *b64)
{
	unsigned char *dec;
	size_t len;
	char *enc = nap_base64_encode(plain, strlen(plain));

	TAP_IS_STR(enc, b64, "\"%s\" encodes to \"%s\"", plain, b64);
	TAP_OK(nap_base64_decode(b64, strlen(b64), &dec, &len) == 0 && len == strlen(plain) &&
		memcmp(dec, plain, len) == 0,
	    "\"%s\" decodes back", b64);
	free(enc);
	free(dec);
}

int
main(void)
{
	unsigned char bin[] = {0xfb, 0xff, 0xfe}, *dec;
	size_t len;
	char *s;

	check("", "");
	check("f", "Zg==");
	check("fo", "Zm8=");
	check("foo", "Zm9v");
	check("foob", "Zm9vYg==");
	check("fooba", "Zm9vYmE=");
	check("foobar", "Zm9vYmFy");
	s = nap_base64url_encode(bin, sizeof(bin));
	TAP_IS_STR(s, "-__-", "the URL-safe alphabet uses - and _");
	free(s);
	s = nap_base64url_encode("f", 1);
	TAP_IS_STR(s, "Zg", "the URL-safe form is unpadded");
	free(s);
	TAP_OK(nap_base64_decode("Zm9v\nYmFy\n", 10, &dec, &len) == 0 && len == 6,
	    "line breaks inside the data are ignored");
	free(dec);
	TAP_OK(nap_base64_decode("Zg", 2, &dec, &len) == 0 && len == 1 && dec[0] == 'f',
	    "unpadded input decodes");
	free(dec);
	TAP_IS_INT(nap_base64_decode("Zm9v!", 5, &dec, &len), -1, "a stray character is an error");
	TAP_IS_INT(nap_base64_decode("Z", 1, &dec, &len), -1, "a cut input is an error");
	TAP_IS_INT(
	    nap_base64_decode("Zg==Zg", 6, &dec, &len), -1, "data after padding is an error");
	return tap_done();
}
