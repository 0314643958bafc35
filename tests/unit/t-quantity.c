/*
 * t-quantity.c - the Kubernetes quantity grammar, exact values, rounding,
 * overflow and canonical formatting.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "quantity.h"

struct qcase {
	const char *in;
	int ok;
	int64_t want;
	const char *why;
};

static const struct qcase units[] = {
    {"0", 1, 0, "zero is a valid quantity"},
    {"1", 1, 1, "a bare integer is whole units"},
    {"+1", 1, 1, "a leading plus sign is accepted"},
    {"-1", 1, -1, "a leading minus sign gives a negative value"},
    {"1k", 1, 1000, "k is the decimal kilo suffix"},
    {"1M", 1, 1000000, "M is mega"},
    {"1G", 1, 1000000000, "G is giga"},
    {"1T", 1, INT64_C(1000000000000), "T is tera"},
    {"1P", 1, INT64_C(1000000000000000), "P is peta"},
    {"1E", 1, INT64_C(1000000000000000000), "a lone E is exa, not an exponent"},
    {"1Ki", 1, 1024, "Ki is 2^10"},
    {"512Mi", 1, 536870912, "512Mi is 2^29 bytes"},
    {"2Gi", 1, INT64_C(2147483648), "2Gi is 2^31 bytes"},
    {"1Ti", 1, INT64_C(1099511627776), "Ti is 2^40"},
    {"1Pi", 1, INT64_C(1125899906842624), "Pi is 2^50"},
    {"7Ei", 1, INT64_C(8070450532247928832), "7Ei still fits in 64 bits"},
    {"1.5Gi", 1, INT64_C(1610612736), "a fraction with a binary suffix is exact"},
    {"0.5Gi", 1, 536870912, "half a gibibyte is 512Mi"},
    {"1e3", 1, 1000, "lowercase e is a decimal exponent"},
    {"1E3", 1, 1000, "E followed by digits is an exponent, not exa"},
    {"1e+3", 1, 1000, "an exponent may carry a plus sign"},
    {"1.5e3", 1, 1500, "a fraction with an exponent is exact"},
    {"1.5", 1, 2, "1.5 bytes rounds up to 2"},
    {"100m", 1, 1, "100m of a byte rounds up to 1"},
    {"1.", 1, 1, "a trailing decimal point is accepted"},
    {"1.G", 1, 1000000000, "a trailing point before a suffix is accepted"},
    {"-1.5", 1, -2, "negative fractions round away from zero"},
    {"9223372036854775807", 1, INT64_MAX, "the largest int64 parses exactly"},
    {"0.000000000000000000000000001", 1, 1, "a tiny positive value rounds up to 1"},
    {"0000000000000000000000000123", 1, 123, "leading zeros do not count against precision"},
    {"123000000000000000000e-3", 1, INT64_C(123000000000000000),
	"long digit strings scaled down fit"},
    {"1e-999999999999", 1, 1, "an absurd negative exponent still rounds up to 1"},
    {"0e999999999", 1, 0, "zero with an absurd exponent is zero"},
    {"8Ei", 0, 0, "8Ei overflows 64 bits"},
    {"9223372036854775808", 0, 0, "2^63 overflows"},
    {"1e19", 0, 0, "1e19 overflows"},
    {"1e999999999", 0, 0, "an absurd positive exponent overflows"},
    {"", 0, 0, "the empty string is invalid"},
    {"1ki", 0, 0, "ki is not a suffix (binary suffixes are capitalised)"},
    {"1K", 0, 0, "K is not a suffix (decimal kilo is k)"},
    {"1.5.5", 0, 0, "two decimal points are invalid"},
    {"Mi", 0, 0, "a suffix without digits is invalid"},
    {".", 0, 0, "a lone point is invalid"},
    {"+", 0, 0, "a lone sign is invalid"},
    {"1Mix", 0, 0, "trailing junk after a suffix is invalid"},
    {" 1", 0, 0, "a leading space is invalid"},
    {"1 ", 0, 0, "a trailing space is invalid"},
    {"1 Gi", 0, 0, "a space before the suffix is invalid"},
    {"1e", 0, 0, "an e without digits is invalid"},
    {"1e3.5", 0, 0, "a fractional exponent is invalid"},
    {"1m3", 0, 0, "digits after a suffix are invalid"},
    {"--1", 0, 0, "a double sign is invalid"},
    {"1Gib", 0, 0, "Gib is not a suffix"},
    {"0x10", 0, 0, "hexadecimal is invalid"},
};

static const struct qcase millis[] = {
    {"100m", 1, 100, "100m is 100 millicores"},
    {"1", 1, 1000, "one core is 1000 millicores"},
    {"1.5", 1, 1500, "1.5 cores is 1500m"},
    {".5", 1, 500, "a fraction without integer digits is accepted"},
    {"0.1m", 1, 1, "0.1m rounds up to 1m"},
    {"1e-3", 1, 1, "1e-3 is exactly 1m"},
    {"1500u", 1, 2, "1500u rounds up to 2m"},
    {"1n", 1, 1, "one nanocore rounds up to 1m"},
    {"250000000n", 1, 250, "nanocores convert exactly"},
    {"2k", 1, 2000000, "2k cores in millicores"},
    {"-100m", 1, -100, "negative millis keep their sign"},
    {"-0.1m", 1, -1, "negative sub-milli values round away from zero"},
    {"9223372036854775807m", 1, INT64_MAX, "the largest milli value parses"},
    {"9223372036854775808m", 0, 0, "one more overflows"},
    {"9223372036854776", 0, 0, "a whole number that overflows once multiplied by 1000 is rejected"},
    {"1E", 0, 0, "an exa of cores overflows in millis"},
};

static void
run(const struct qcase *c, size_t n, int milli)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct nap_err err = {0};
		int64_t got = 12345;
		int rc = milli ? nap_qty_parse_milli(c[i].in, &got, &err)
			       : nap_qty_parse(c[i].in, &got, &err);

		if (c[i].ok) {
			if (!TAP_OK(rc == 0 && got == c[i].want, "%s (\"%s\")", c[i].why, c[i].in))
				printf("#   rc %d, got %" PRId64 ", want %" PRId64 ", err %s\n", rc,
				    got, c[i].want, err.msg);
		} else {
			if (!TAP_OK(rc == -1 && got == 12345 && err.code == NAP_EX_DATAERR &&
				    strstr(err.msg, "quantity") != NULL,
				"%s (\"%s\")", c[i].why, c[i].in))
				printf("#   rc %d, got %" PRId64 ", err %s\n", rc, got, err.msg);
		}
	}
}

static void
test_messages(void)
{
	struct nap_err err = {0};
	int64_t v;

	nap_qty_parse("8Ei", &v, &err);
	TAP_IS_STR(
	    err.msg, "quantity \"8Ei\" overflows 64 bits", "the overflow message names the string");
	nap_qty_parse("1ki", &v, &err);
	TAP_IS_STR(err.msg, "invalid quantity \"1ki\": unknown suffix \"ki\"",
	    "the bad-suffix message names the string and the suffix");
	nap_qty_parse("", &v, &err);
	TAP_IS_STR(err.msg, "invalid quantity \"\": empty", "the empty string is called empty");
	TAP_OK(nap_qty_parse(NULL, &v, NULL) == -1, "a NULL string is rejected without an err");
}

static void
test_json(void)
{
	json_object *o =
	    json_tokener_parse("{\"a\":1,\"b\":0.5,\"c\":\"250m\",\"d\":true,\"e\":1e3}");
	int64_t v = 0;
	struct nap_err err = {0};

	TAP_OK(nap_qty_json_milli(json_object_object_get(o, "a"), &v, NULL) == 0 && v == 1000,
	    "a bare JSON integer is a quantity");
	TAP_OK(nap_qty_json_milli(json_object_object_get(o, "b"), &v, NULL) == 0 && v == 500,
	    "a bare JSON fraction is parsed exactly from its text");
	TAP_OK(nap_qty_json_milli(json_object_object_get(o, "c"), &v, NULL) == 0 && v == 250,
	    "a JSON string is parsed as a quantity");
	TAP_OK(nap_qty_json(json_object_object_get(o, "e"), &v, NULL) == 0 && v == 1000,
	    "a JSON number with an exponent is parsed from its text");
	TAP_OK(nap_qty_json(json_object_object_get(o, "d"), &v, &err) == -1 &&
		strstr(err.msg, "boolean") != NULL,
	    "a JSON boolean is not a quantity and the error says what it is");
	json_object_put(o);
}

struct fcase {
	int64_t v;
	const char *want;
};

static void
test_format(void)
{
	static const struct fcase bytes[] = {
	    {0, "0"},
	    {100, "100"},
	    {1000, "1k"},
	    {1024, "1Ki"},
	    {INT64_C(17179869184), "16Gi"},
	    {INT64_C(1610612736), "1536Mi"},
	    {1048576000, "1000Mi"},
	    {1000000000, "1G"},
	    {1500, "1500"},
	    {-2048, "-2Ki"},
	    {INT64_C(1152921504606846976), "1Ei"},
	    {INT64_MAX, "9223372036854775807"},
	};
	static const struct fcase milli[] = {
	    {0, "0"},
	    {100, "100m"},
	    {2000, "2"},
	    {1500, "1500m"},
	    {12000000, "12k"},
	    {-250, "-250m"},
	    {1, "1m"},
	};
	static const char *const round_trip[] = {
	    "16Gi",
	    "1536Mi",
	    "100",
	    "1k",
	    "7Ei",
	    "1G",
	    "3Ki",
	    "999",
	};
	char buf[NAP_QTY_BUFSZ];
	int64_t v;
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(bytes); i++)
		TAP_IS_STR(nap_qty_fmt(bytes[i].v, buf, sizeof(buf)), bytes[i].want,
		    "%" PRId64 " bytes print as %s", bytes[i].v, bytes[i].want);
	for (i = 0; i < NAP_ARRAY_LEN(milli); i++)
		TAP_IS_STR(nap_qty_fmt_milli(milli[i].v, buf, sizeof(buf)), milli[i].want,
		    "%" PRId64 " millis print as %s", milli[i].v, milli[i].want);
	TAP_IS_STR(nap_qty_fmt_milli(INT64_MIN, buf, sizeof(buf)), "-9223372036854775808m",
	    "the most negative milli value prints without overflow");
	TAP_IS_STR(nap_qty_fmt_decimal(2048, buf, sizeof(buf)), "2048",
	    "decimal formatting never picks a binary suffix");
	for (i = 0; i < NAP_ARRAY_LEN(round_trip); i++) {
		v = -1;
		nap_qty_parse(round_trip[i], &v, NULL);
		TAP_IS_STR(nap_qty_fmt(v, buf, sizeof(buf)), round_trip[i],
		    "%s survives parse then format", round_trip[i]);
	}
	nap_qty_parse_milli("1.5", &v, NULL);
	TAP_IS_STR(
	    nap_qty_fmt_milli(v, buf, sizeof(buf)), "1500m", "1.5 cores canonicalises to 1500m");
	nap_qty_parse_milli("1000m", &v, NULL);
	TAP_IS_STR(nap_qty_fmt_milli(v, buf, sizeof(buf)), "1", "1000m canonicalises to 1");
}

int
main(void)
{
	run(units, NAP_ARRAY_LEN(units), 0);
	run(millis, NAP_ARRAY_LEN(millis), 1);
	test_messages();
	test_json();
	test_format();
	return tap_done();
}
