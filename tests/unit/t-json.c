/* Unit tests for lib/json: dotted-path lookups and setters on Kubernetes-shaped objects. */
#include "json.h"
#include "tap.h"

/* The fast parser's tree for text equals json_tokener's, in value and in key order. */
static int
fast_same(const char *text)
{
	json_object *fast = NULL, *slow = json_tokener_parse(text);
	int ok;

	if (nap_json_parse_fast(text, strlen(text), &fast) != 0) {
		json_object_put(slow);
		return 0;
	}
	ok = json_object_equal(fast, slow) &&
	    strcmp(json_object_to_json_string_ext(fast, JSON_C_TO_STRING_PLAIN),
		json_object_to_json_string_ext(slow, JSON_C_TO_STRING_PLAIN)) == 0;
	json_object_put(fast);
	json_object_put(slow);
	return ok;
}

static int
fast_declines(const char *text)
{
	json_object *o = (json_object *)1;

	return nap_json_parse_fast(text, strlen(text), &o) == -1 && o == NULL;
}

int
main(void)
{
	json_object *o = json_tokener_parse(
	    "{\"metadata\":{\"name\":\"web-1\",\"labels\":{\"karpenter.sh/nodepool\":\"default\"},"
	    "\"generation\":3},\"spec\":{\"replicas\":2.0,\"paused\":false,\"items\":[1,2,3]}}");
	json_object *arr;
	size_t n;

	TAP_IS_STR(nap_json_str(o, "metadata.name", NULL), "web-1", "a dotted path finds a string");
	TAP_IS_STR(nap_json_str(o, "metadata.missing", "dflt"), "dflt",
	    "a missing step gives the default");
	TAP_IS_STR(nap_json_str(o, "metadata.generation", "dflt"), "dflt",
	    "a value of another type gives the default");
	TAP_IS_STR(nap_json_str(nap_json_get(o, "metadata.labels"), "karpenter.sh/nodepool", "x"),
	    "x", "a label key with dots is not found through a path");
	TAP_IS_STR(json_object_get_string(
		       nap_json_key(nap_json_get(o, "metadata.labels"), "karpenter.sh/nodepool")),
	    "default", "nap_json_key looks up a key with dots in one step");
	TAP_IS_INT(nap_json_int(o, "metadata.generation", -1), 3, "an integer is read");
	TAP_IS_INT(nap_json_int(o, "spec.replicas", -1), 2, "a whole double reads as an integer");
	TAP_IS_INT(nap_json_bool(o, "spec.paused", 1), 0, "a boolean is read");
	arr = nap_json_array(o, "spec.items", &n);
	TAP_OK(arr != NULL && n == 3, "an array and its length are found");
	TAP_OK(nap_json_array(o, "spec.paused", &n) == NULL && n == 0,
	    "a non-array gives NULL and length 0");
	TAP_IS_INT(nap_json_set(o, "status.conditions.ready", json_object_new_boolean(1)), 0,
	    "a set creates the objects on its path");
	TAP_IS_INT(nap_json_bool(o, "status.conditions.ready", 0), 1, "the set value is there");
	TAP_IS_INT(nap_json_set(o, "metadata.name.x", json_object_new_int(1)), -1,
	    "setting below a string fails");
	TAP_IS_STR(nap_json_dump(json_object_object_get(o, "metadata")),
	    "{\"name\":\"web-1\",\"labels\":{\"karpenter.sh/"
	    "nodepool\":\"default\"},\"generation\":3}",
	    "dumps are compact and do not escape slashes");
	TAP_OK(
	    fast_same(
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
		"{\"name\":\"a\",\"labels\":{\"app\":\"x\",\"tier\":\"web\"}},\"spec\":"
		"{\"priority\":-12,\"n\":0,\"big\":123456789012345678,\"ok\":true,"
		"\"no\":false,\"nil\":null,\"e\":[],\"o\":{},\"l\":[1,\"two\",[3],{\"4\":4}]}}}"),
	    "the fast parser builds the tokener's tree for a plain record");
	TAP_OK(fast_same(" { \"a\" : [ 1 , 2 ] ,\t\"b\" : \"c\" }  \t"),
	    "blanks between tokens and after the value are taken");
	TAP_OK(fast_same("{\"k\\\"q\":\"tab\\there\\n\\\\ \\/ \\b\\f\\r \\\"end\\\"\"}"),
	    "short escapes in keys and values are decoded as json-c does");
	TAP_OK(fast_same(
		   "{\"a-key-longer-than-sixty-three-bytes-is-copied-not-interned-xxxxxxxx\":1,"
		   "\"another-key-longer-than-sixty-three-bytes-is-copied-not-interned-yyy\":2}"),
	    "keys too long to intern are copied");
	TAP_OK(fast_same("{\"\\u00e9t\\u00e9\":1}") == 0 && fast_declines("{\"\\u00e9\":1}"),
	    "a unicode escape is left to json-c");
	TAP_OK(fast_declines("{\"a\":1.5}") && fast_declines("{\"a\":1e3}") &&
		fast_declines("{\"a\":-0}") && fast_declines("{\"a\":007}") &&
		fast_declines("{\"a\":1234567890123456789}"),
	    "numbers other than plain integers of up to 18 digits are left to json-c");
	TAP_OK(fast_declines("{\"a\":1,\"a\":2}") &&
		fast_declines(
		    "{\"a-key-longer-than-sixty-three-bytes-is-copied-not-interned-xxxxxxxx\":1,"
		    "\"a-key-longer-than-sixty-three-bytes-is-copied-not-interned-xxxxxxxx\":2}"),
	    "a key repeated in one object is left to json-c (it keeps the last value)");
	TAP_OK(fast_declines("{\"a\":1,}") && fast_declines("{\"a\":tru}") &&
		fast_declines("{\"a\":\"x}") && fast_declines("{\"a\" 1}") &&
		fast_declines("{\"a\":1} x") && fast_declines("{\"a\":\"\x01\"}") &&
		fast_declines("{'a':1}") && fast_declines("[1,2"),
	    "malformed or non-strict text is left to json-c");
	TAP_OK(fast_declines("  2") && fast_declines("\"s\"") && fast_declines("true") &&
		fast_declines("null") && fast_declines(""),
	    "a value other than an object or an array is left to json-c");
	TAP_OK(fast_declines("[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]") &&
		fast_same("[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]"),
	    "nesting deeper than 24 levels is left to json-c");
	TAP_OK(fast_declines("{\"n\":99999999999999999999}") &&
		fast_declines("{\"n\":9223372036854775808}") &&
		fast_declines("{\"n\":-9999999999999999999}") &&
		fast_declines("[1234567890123456789]"),
	    "an integer of 19 digits or more is left to json-c, never overflowed");
	TAP_OK(fast_same("[999999999999999999,-999999999999999999]"),
	    "18 digits are read by the fast parser");
	json_object_put(o);

	{
		struct nap_err err;
		int64_t v = 7;

		o = json_tokener_parse("{\"w\":50,\"big\":4294967346,\"huge\":99999999999999999999,"
				       "\"top\":9223372036854775808,\"neg\":-5,\"d\":20.0,"
				       "\"frac\":1.5,\"exp\":1e300,\"s\":\"50\",\"nan\":NaN}");
		TAP_IS_INT(nap_json_int_in(o, "w", 1, 100, &v, &err), 0, "an integer in range is read");
		TAP_IS_INT(v, 50, "its value is kept");
		v = 7;
		TAP_IS_INT(nap_json_int_in(o, "absent", 1, 100, &v, &err), 1,
		    "an absent integer is told apart");
		TAP_IS_INT(v, 7, "and leaves the output alone");
		TAP_IS_INT(nap_json_int_in(o, "big", 1, 100, &v, &err), -1,
		    "2^32 + 50 is out of range, not 50");
		TAP_IS_STR(err.msg, "big 4294967346 not in 1..100", "the message gives the value as written");
		TAP_IS_INT(nap_json_int_in(o, "huge", INT64_MIN, INT64_MAX, &v, &err), -1,
		    "a number past 2^64 is out of any int64 range");
		TAP_IS_INT(nap_json_int_in(o, "top", 0, INT64_MAX, &v, &err), -1,
		    "2^63 is not read as INT64_MAX");
		TAP_IS_STR(err.msg, "top 9223372036854775808 not in 0..9223372036854775807",
		    "and is named as written");
		TAP_IS_INT(nap_json_int_in(o, "neg", 0, 10, &v, &err), -1, "below the minimum");
		TAP_IS_INT(nap_json_int_in(o, "d", 1, 100, &v, &err), 0, "a whole double is an integer");
		TAP_IS_INT(v, 20, "of its value");
		TAP_IS_INT(nap_json_int_in(o, "frac", 0, 10, &v, &err), -1, "a fraction is not");
		TAP_IS_INT(nap_json_int_in(o, "exp", INT64_MIN, INT64_MAX, &v, &err), -1,
		    "1e300 is out of range, not converted");
		TAP_IS_INT(nap_json_int_in(o, "nan", INT64_MIN, INT64_MAX, &v, &err), -1,
		    "NaN is not an integer");
		TAP_IS_INT(nap_json_int_in(o, "s", 0, 100, &v, &err), -1, "a string is not an integer");
		TAP_IS_STR(err.msg, "s \"50\" is not an integer", "and says so");
		TAP_IS_INT(nap_json_int(o, "exp", 0), INT64_MAX, "nap_json_int clamps a huge double");
		TAP_IS_INT(nap_json_int(o, "nan", 3), 0, "and reads NaN as 0");
		json_object_put(o);
	}
	return tap_done();
}
