/* Unit tests for lib/text: UTF-8 validity, message quoting, Kubernetes names, URL paths. */
#include <stdlib.h>

#include "tap.h"
#include "text.h"

static size_t
valid(const char *s)
{
	return nap_utf8_valid(s, strlen(s));
}

static int
name_ok(const char *s, int label)
{
	const char *why;

	return nap_k8s_name_check(s, label, &why) == 0 && why == NULL;
}

static int
quote_is(const char *s, size_t max, const char *want)
{
	char *q = nap_text_quote(s, max);
	int ok = strcmp(q, want) == 0;

	if (!ok)
		printf("#   got \"%s\"\n", q);
	free(q);
	return ok;
}

static int
path_is(char *got, const char *want)
{
	int ok = strcmp(got, want) == 0;

	if (!ok)
		printf("#   got \"%s\"\n", got);
	free(got);
	return ok;
}

int
main(void)
{
	char long_ascii[300], *big;
	const char *why;

	TAP_IS_INT(valid("plain ascii, longer than eight bytes"), 36, "ASCII is valid");
	TAP_IS_INT(valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), 14,
	    "two-, three- and four-byte sequences are valid");
	TAP_IS_INT(valid("bad\xff\xfename"), 3, "0xff is invalid where it stands");
	TAP_IS_INT(valid("abcdefgh\x80"), 8, "a stray continuation byte after an ASCII run");
	TAP_IS_INT(valid("\xc0\xaf"), 0, "an overlong two-byte form is invalid");
	TAP_IS_INT(valid("\xe0\x80\xaf"), 0, "an overlong three-byte form is invalid");
	TAP_IS_INT(valid("\xf0\x80\x80\xaf"), 0, "an overlong four-byte form is invalid");
	TAP_IS_INT(valid("x\xed\xa0\x80"), 1, "a UTF-16 surrogate is invalid");
	TAP_IS_INT(valid("\xf4\x90\x80\x80"), 0, "a code point above U+10FFFF is invalid");
	TAP_IS_INT(valid("ok\xe2\x82"), 2, "a sequence cut short at the end is invalid");
	TAP_IS_INT(valid("\xe2\x28\xa1"), 0, "a sequence cut short by ASCII is invalid");
	TAP_IS_INT(nap_utf8_valid("a\0b", 3), 3, "NUL is valid UTF-8 (JSON escapes it anyway)");

	TAP_OK(quote_is("a b\nc", 0, "a b\\nc"), "a newline is quoted");
	TAP_OK(quote_is("bad\xff\xfename \"x\" \\", 0, "bad\\xff\\xfename \\\"x\\\" \\\\"),
	    "invalid bytes, quotes and backslashes are quoted");
	TAP_OK(quote_is("caf\xc3\xa9\x01\x7f", 0, "caf\xc3\xa9\\x01\\x7f"),
	    "valid UTF-8 is kept, control bytes are quoted");
	TAP_OK(quote_is("abcdefgh", 3, "abc..."), "a long string is cut");
	TAP_OK(quote_is("\xc3\xa9\xc3\xa9", 3, "\xc3\xa9\\xc3..."),
	    "a cut through a sequence leaves no invalid UTF-8");

	TAP_OK(name_ok("web-1", 0) && name_ok("a.b-c.d", 0) && name_ok("0", 0),
	    "DNS-1123 subdomains are valid names");
	TAP_OK(!name_ok("a b\nc", 0), "a space and a newline are not");
	TAP_OK(!name_ok("UPPER_Case", 0), "upper case and '_' are not");
	TAP_OK(!name_ok("", 0) && !name_ok("-a", 0) && !name_ok("a-", 0) && !name_ok("a..b", 0) &&
		!name_ok("a.-b", 0) && !name_ok("a-.b", 0) && !name_ok(".a", 0) && !name_ok("a.", 0),
	    "empty, or a part not starting and ending alphanumeric, is not");
	TAP_OK(!name_ok("a/../../x", 0) && !name_ok("a?b#c", 0) && !name_ok("..", 0),
	    "path characters are not");
	memset(long_ascii, 'a', sizeof(long_ascii));
	long_ascii[253] = '\0';
	TAP_OK(name_ok(long_ascii, 0), "253 characters are valid");
	long_ascii[253] = 'a';
	long_ascii[254] = '\0';
	TAP_OK(nap_k8s_name_check(long_ascii, 0, &why) < 0 &&
		strcmp(why, "must be no more than 253 characters") == 0,
	    "254 are not, in the API server's words");
	big = malloc(10001);
	memset(big, 'a', 10000);
	big[10000] = '\0';
	TAP_OK(!name_ok(big, 0), "a 10,000-character name is not");
	free(big);
	TAP_OK(nap_k8s_name_check("UPPER", 0, &why) < 0 &&
		strstr(why, "a lowercase RFC 1123 subdomain must consist of") == why,
	    "the reason is the API server's");
	TAP_OK(name_ok("team-a", 1) && !name_ok("team.a", 1), "a label takes no dots");
	long_ascii[64] = '\0';
	TAP_OK(!name_ok(long_ascii, 1), "a label of 64 characters is too long");

	TAP_OK(path_is(nap_url_path("/apis/karpenter.sh/v1/nodeclaims", "web-1", "status", NULL),
		   "/apis/karpenter.sh/v1/nodeclaims/web-1/status"),
	    "plain segments are joined with slashes");
	TAP_OK(path_is(nap_url_path("/api/v1/nodes", "a/../../x", NULL),
		   "/api/v1/nodes/a%2F..%2F..%2Fx"),
	    "a slash in a segment cannot climb");
	TAP_OK(path_is(nap_url_path("", "a b\nc?d#e%", NULL), "/a%20b%0Ac%3Fd%23e%25"),
	    "space, newline, ?, # and %% are escaped");
	TAP_OK(path_is(nap_url_path("/x", "..", ".", "a.b", NULL), "/x/%2E%2E/%2E/a.b"),
	    "dot segments are escaped whole; other dots stay");
	TAP_OK(path_is(nap_url_path("/subscriptions", "s-1", "resourceGroups", "MC_rg(1)",
			   "providers", "Microsoft.Compute", "virtualMachines", "aks-x", NULL),
		   "/subscriptions/s-1/resourceGroups/MC_rg%281%29/providers/Microsoft.Compute/"
		   "virtualMachines/aks-x"),
	    "an ARM path keeps its unreserved characters");
	TAP_OK(path_is(nap_url_path("/base", NULL), "/base"), "no segment gives the base");

	TAP_IS_INT(nap_url_path_check("/api/v1/pods?watch=1&resourceVersion=10&labelSelector=a%3Db"),
	    59, "a path with an escaped query is a URL path");
	TAP_IS_INT(nap_url_path_check("/apis/karpenter.sh/v1/nodeclaims/a b\nc"), 34,
	    "a raw space is where it stops");
	TAP_IS_INT(nap_url_path_check("/x/a#frag"), 4, "a '#' would start a fragment");
	TAP_IS_INT(nap_url_path_check("/x/%2"), 3, "a '%%' without two hex digits is not an escape");
	TAP_IS_INT(nap_url_path_check("/x/caf\xc3\xa9"), 6, "a byte above 0x7f is not a URL byte");
	return tap_done();
}
