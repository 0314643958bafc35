/*
 * t-jscan.c - value boundaries, member walks and Kubernetes object records
 * of lib/jscan, checked against json-c's reading of the same text.
 */
#include <stdlib.h>

#include "jscan.h"
#include "json.h"
#include "nap.h"
#include "tap.h"

static const char *
value_end(const char *s)
{
	return nap_jscan_value(s, s + strlen(s));
}

static void
test_values(void)
{
	static const char *const good[] = {
	    "{}",
	    "[]",
	    "\"\"",
	    "0",
	    "-1.5e+3",
	    "true",
	    "null",
	    "{\"a\":[1,2,{\"b\":\"c\\\"d}\"}],\"e\":null}",
	    " { \"a\" : [ ] , \"b\" : { } } ",
	    "[\"\\\\\",\"\\u00e9\",[[[]]]]",
	};
	static const char *const bad[] = {
	    "",
	    "}",
	    "{\"a\":}",
	    "{\"a\" 1}",
	    "[1,,2]",
	    "{\"a\":\"x",
	    "{\"a\":1,}",
	    "[1 2]",
	    "\"a\nb\"",
	    "{1:2}",
	    "{\"a\":1]",
	    "[\"x\\",
	};
	const char *s = "{\"k\":[1,{\"x\":\"]}\"}]} tail";

	for (size_t i = 0; i < NAP_ARRAY_LEN(good); i++) {
		const char *e = value_end(good[i]);
		size_t n = strlen(good[i]);

		while (n && good[i][n - 1] == ' ')
			n--;
		TAP_OK(e == good[i] + n, "the value %s ends where it ends", good[i]);
	}
	for (size_t i = 0; i < NAP_ARRAY_LEN(bad); i++)
		TAP_OK(value_end(bad[i]) == NULL, "malformed text %zu is refused", i);
	TAP_IS_STR(value_end(s), " tail", "a value followed by more text ends at the value");
}

static void
test_members(void)
{
	const char *s = "{\"kind\":\"Pod\", \"n\":[1,2], \"esc\":\"a\\\"b\",\"o\":{}}";
	struct nap_jscan_obj it;
	struct nap_jscan_member m;
	const char *str;
	size_t len;
	int n = 0;

	TAP_IS_INT(nap_jscan_object_begin(&it, s, s + strlen(s)), 0, "an object can be walked");
	while (nap_jscan_member(&it, &m) == 1) {
		n++;
		if (nap_jscan_key_is(&m, "kind")) {
			TAP_IS_INT(
			    nap_jscan_string(&m, &str, &len), 0, "a plain string is read raw");
			TAP_OK(
			    len == 3 && memcmp(str, "Pod", 3) == 0, "its bytes are the string's");
			TAP_OK(m.first, "the first member knows it is first");
		} else if (nap_jscan_key_is(&m, "n")) {
			TAP_OK(m.vallen == 5 && memcmp(m.val, "[1,2]", 5) == 0,
			    "an array value is spanned");
			TAP_OK(!m.first && *m.sep == ',', "a later member starts at its comma");
		} else if (nap_jscan_key_is(&m, "esc")) {
			TAP_IS_INT(nap_jscan_string(&m, &str, &len), -1,
			    "a string with escapes is not read raw");
		}
	}
	TAP_IS_INT(n, 4, "every member is visited");
	TAP_OK(it.p == s + strlen(s), "the walk ends past the closing brace");
}

/* Record text for obj, or NULL when the fast path declines. */
static char *
record(const char *obj, const char *type)
{
	struct nap_jscan_kobj o;
	char *buf = NULL;
	size_t len = 0, alloc = 0;

	if (nap_jscan_kobj(obj, obj + strlen(obj), &o) != 0)
		return NULL;
	nap_jscan_kobj_record(&o, type, "v1", "Pod", &buf, &len, &alloc);
	TAP_OK(strlen(buf) == len, "the record length is right");
	return buf;
}

static int
same_json(const char *got, const char *want)
{
	json_object *a = got ? json_tokener_parse(got) : NULL, *b = json_tokener_parse(want);
	int eq = a && b && nap_json_equal(a, b);

	if (!eq)
		printf("#   got  %s\n#   want %s\n", got ? got : "(declined)", want);
	json_object_put(a);
	json_object_put(b);
	return eq;
}

static void
test_kobj(void)
{
	static const struct {
		const char *name, *in, *want;
	} cases[] = {
	    {"managedFields last",
		"{\"metadata\":{\"name\":\"a\",\"uid\":\"u1\",\"resourceVersion\":\"7\","
		"\"managedFields\":[{\"manager\":\"m\"}]},\"spec\":{}}",
		"{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
		"\"metadata\":{\"name\":\"a\",\"uid\":\"u1\",\"resourceVersion\":\"7\"},\"spec\":{}"
		"}}"},
	    {"managedFields first",
		"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{ \"managedFields\" : [] , "
		"\"uid\":\"u1\",\"name\":\"a\"}}",
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
		"\"metadata\":{\"uid\":\"u1\",\"name\":\"a\"}}}"},
	    {"managedFields in the middle",
		"{\"metadata\":{\"uid\":\"u1\",\"managedFields\":[{\"a\":{\"f:x\":{}}}],"
		"\"name\":\"a\"},\"kind\":\"Pod\"}",
		"{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"metadata\":{\"uid\":"
		"\"u1\","
		"\"name\":\"a\"},\"kind\":\"Pod\"}}"},
	    {"no managedFields",
		"{\"apiVersion\":\"v2\",\"kind\":\"Pod\",\"metadata\":{\"uid\":\"u1\"}}",
		"{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v2\",\"kind\":\"Pod\","
		"\"metadata\":{\"uid\":\"u1\"}}}"},
	    {"escaped text elsewhere",
		"{\"metadata\":{\"uid\":\"u1\",\"annotations\":{\"a\":\"x\\\"}\\n\"}}}",
		"{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
		"\"metadata\":{\"uid\":\"u1\",\"annotations\":{\"a\":\"x\\\"}\\n\"}}}}"},
	};
	static const char *const declined[] = {
	    "{\"metadata\":{\"name\":\"a\"}}",
	    "{\"metadata\":{\"uid\":\"u\\u0031\"}}",
	    "{\"metadata\":{\"uid\":\"u1\"},\n\"spec\":{}}",
	    "{\"metadata\":{\"uid\":\"u1\"}",
	    "[1]",
	};
	struct nap_jscan_kobj o;
	const char *lead;
	const char *obj = "{\"metadata\":{\"namespace\":\"ns\",\"name\":\"n\",\"uid\":\"u\","
			  "\"resourceVersion\":\"42\"}}";
	char *got;

	for (size_t i = 0; i < NAP_ARRAY_LEN(cases); i++) {
		got = record(cases[i].in, "ADDED");
		TAP_OK(same_json(got, cases[i].want),
		    "%s: the record is the object less managedFields", cases[i].name);
		TAP_OK(
		    got && strchr(got, '\n') == NULL, "%s: the record is one line", cases[i].name);
		free(got);
	}
	for (size_t i = 0; i < NAP_ARRAY_LEN(declined); i++) {
		got = record(declined[i], "ADDED");
		TAP_OK(got == NULL, "object %zu is left to json-c", i);
		free(got);
	}
	TAP_IS_INT(nap_jscan_kobj(obj, obj + strlen(obj), &o), 0, "facts are read");
	TAP_OK(o.nslen == 2 && memcmp(o.ns, "ns", 2) == 0, "namespace");
	TAP_OK(o.namelen == 1 && *o.name == 'n', "name");
	TAP_OK(o.rlen == 2 && memcmp(o.rv, "42", 2) == 0, "resourceVersion");
	TAP_OK(o.ulen == 1 && *o.uid == 'u', "uid");
	got = record(obj, "DELETED");
	lead = "{\"type\":\"DELETED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",";
	TAP_OK(got && strncmp(got, lead, strlen(lead)) == 0,
	    "the type and the missing apiVersion and kind lead the record");
	free(got);
}

int
main(void)
{
	test_values();
	test_members();
	test_kobj();
	return tap_done();
}
