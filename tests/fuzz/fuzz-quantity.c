/*
 * fuzz-quantity - lib/quantity.c: Kubernetes quantities to exact integers.
 *
 * Input: any bytes, taken as the quantity text (and, separately, as JSON).
 * Contract:
 *   - nap_qty_parse and nap_qty_parse_milli return 0 with a value, or -1
 *     with an error message and *out untouched;
 *   - a value formats (nap_qty_fmt, _fmt_decimal, _fmt_milli) into fewer
 *     than NAP_QTY_BUFSZ bytes, and the text parses back to the same value;
 *   - whole units and milli-units agree: when the milli value parses, the
 *     whole value parses too and is the milli value / 1000 rounded away
 *     from zero (both round away from zero, and ceilings compose);
 *   - a JSON string or number reads as the same quantity as its text.
 */
#include <json-c/json.h>

#include "fuzz.h"
#include "quantity.h"

#define SENTINEL INT64_C(0x5a5a5a5a5a5a5a5a)

static int
parse_checked(const char *s, int milli, int64_t *out)
{
	struct nap_err err = {0};
	int64_t v = SENTINEL;
	int rc = milli ? nap_qty_parse_milli(s, &v, &err) : nap_qty_parse(s, &v, &err);

	FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
	if (rc != 0) {
		FUZZ_CHECK(v == SENTINEL, "*out written on error: %lld", (long long)v);
		fuzz_check_err(&err);
	}
	*out = v;
	return rc;
}

static void
round_trip(int64_t v, int milli, char *(*fmt)(int64_t, char *, size_t))
{
	char buf[NAP_QTY_BUFSZ + 8];
	int64_t back;

	memset(buf, 'x', sizeof(buf));
	fmt(v, buf, NAP_QTY_BUFSZ);
	FUZZ_CHECK(
	    memchr(buf, '\0', NAP_QTY_BUFSZ) != NULL, "unterminated format of %lld", (long long)v);
	FUZZ_CHECK(strlen(buf) + 1 < NAP_QTY_BUFSZ, "format of %lld fills the buffer: %s",
	    (long long)v, buf);
	FUZZ_CHECK(parse_checked(buf, milli, &back) == 0, "format %s of %lld does not parse", buf,
	    (long long)v);
	FUZZ_CHECK(
	    back == v, "%lld formats as %s, which reads %lld", (long long)v, buf, (long long)back);
}

/* m / 1000 rounded away from zero, without overflow. */
static int64_t
milli_to_whole(int64_t m)
{
	int64_t q = m / 1000, r = m % 1000;

	return r == 0 ? q : m > 0 ? q + 1 : q - 1;
}

static void
check_json(const char *s, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, s, (int)len);
	struct nap_err err = {0};
	int64_t a = SENTINEL, b = SENTINEL;
	int rca, rcb;

	if (o && json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == len) {
		rca = nap_qty_json(o, &a, &err);
		if (rca != 0)
			fuzz_check_err(&err);
		rcb = nap_qty_json_milli(o, &b, &err);
		if (rcb != 0)
			fuzz_check_err(&err);
		if (json_object_is_type(o, json_type_string)) {
			int64_t t;
			const char *str = json_object_get_string(o);

			/* A string with a NUL inside is a shorter C string: compare what lib/ sees. */
			FUZZ_CHECK(
			    (parse_checked(str, 0, &t) == 0) == (rca == 0) && (rca || t == a),
			    "JSON string %s reads differently from its text", s);
		}
	}
	json_object_put(o);
	json_tokener_free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	int64_t v, m;
	int rcv, rcm;

	if (size > 4096)
		return -1;
	s = fuzz_strdup(data, size);
	rcv = parse_checked(s, 0, &v);
	rcm = parse_checked(s, 1, &m);
	if (rcv == 0) {
		round_trip(v, 0, nap_qty_fmt);
		round_trip(v, 0, nap_qty_fmt_decimal);
	}
	if (rcm == 0) {
		round_trip(m, 1, nap_qty_fmt_milli);
		FUZZ_CHECK(rcv == 0, "%s parses in milli-units (%lld) but not in whole units", s,
		    (long long)m);
		FUZZ_CHECK(milli_to_whole(m) == v, "%s: %lld milli but %lld whole", s, (long long)m,
		    (long long)v);
	}
	check_json(s, size);
	free(s);
	return 0;
}
