/*
 * fuzz-arm - lib/arm.c's reading of Azure Resource Manager answers: error
 * bodies and their classification (what the offerings cache keeps, and for
 * how long), the nextLink of a list (the one URL the bearer token may follow
 * to), and the fields the client and nap-launch look up in a resource body
 * (provisioningState, an instance view's status codes, a list's values).
 *
 * Input: an ARM response body (JSON or not).  Its nextLink, or else its
 * first line, is the URL; its second line, if any, the endpoint.
 * Contract:
 *   - nap_arm_error_parse always gives a NUL-terminated code within the
 *     buffer it is given (however small) and a message, never NULL; with a
 *     roomy buffer the code is "" or a string the body holds;
 *   - a class has a reason, and puts offerings in the cache (a TTL above 0,
 *     spot or not) exactly when nap_arm_class_is_capacity says so;
 *   - nap_arm_same_origin is symmetric, and nothing that holds user
 *     information (an "@" before the host) is the endpoint's origin.
 */
#include <json-c/json.h>

#include "arm.h"
#include "fuzz.h"
#include "json.h"

#define ENDPOINT "https://management.azure.com"

/* 1 when some string in o (at any depth) is s. */
static int
holds_string(json_object *o, const char *s, int depth)
{
	if (o == NULL || depth > 64)
		return 0;
	if (json_object_is_type(o, json_type_string))
		return strcmp(json_object_get_string(o), s) == 0;
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (holds_string(json_object_array_get_idx(o, i), s, depth + 1))
				return 1;
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			if (holds_string(v, s, depth + 1))
				return 1;
		}
	}
	return 0;
}

static void
check_error(const uint8_t *data, size_t size, json_object *body)
{
	char code[128], tiny[5];
	char *msg = NULL, *msg2 = NULL;
	enum nap_arm_class c;

	memset(code, 'x', sizeof(code));
	nap_arm_error_parse((const char *)data, size, code, sizeof(code), &msg);
	FUZZ_CHECK(memchr(code, '\0', sizeof(code)) != NULL, "code not terminated");
	FUZZ_CHECK(msg != NULL, "NULL message");
	memset(tiny, 'x', sizeof(tiny));
	nap_arm_error_parse((const char *)data, size, tiny, sizeof(tiny), &msg2);
	FUZZ_CHECK(memchr(tiny, '\0', sizeof(tiny)) != NULL, "small code buffer overrun");
	FUZZ_CHECK(strncmp(tiny, code, sizeof(tiny) - 1) == 0, "codes differ: %s, %s", tiny, code);
	if (code[0] != '\0' && strlen(code) < sizeof(code) - 1)
		FUZZ_CHECK(holds_string(body, code, 0), "code %s is not in the body", code);

	c = nap_arm_classify(code, msg);
	FUZZ_CHECK(nap_arm_class_reason(c) != NULL && *nap_arm_class_reason(c), "class %d", c);
	for (int spot = 0; spot < 2; spot++) {
		long ttl = nap_arm_class_ttl(c, spot, msg);

		FUZZ_CHECK(ttl >= 0, "negative TTL");
		FUZZ_CHECK((ttl > 0) == (nap_arm_class_is_capacity(c) != 0),
		    "class %d: TTL %ld but is_capacity %d", c, ttl, nap_arm_class_is_capacity(c));
	}
	free(msg);
	free(msg2);
}

static void
check_origin(const char *endpoint, const char *url)
{
	int same = nap_arm_same_origin(endpoint, url);
	const char *auth, *end, *at;

	FUZZ_CHECK(same == nap_arm_same_origin(url, endpoint), "same_origin(%s, %s) not symmetric",
	    endpoint, url);
	if (!same)
		return;
	/* Between "//" and the path, an "@" would mean credentials for another host. */
	auth = strstr(url, "//");
	if (auth == NULL)
		return;
	auth += 2;
	end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(end - auth));
	FUZZ_CHECK(at == NULL, "%s with user information is on %s", url, endpoint);
}

/* What arm.c and nap-launch read out of an answer. */
static void
lookups(json_object *body)
{
	size_t n;
	json_object *a;

	(void)nap_json_str(body, "properties.provisioningState", NULL);
	a = nap_json_array(body, "properties.instanceView.statuses", &n);
	for (size_t i = 0; a && i < n; i++) {
		json_object *s = json_object_array_get_idx(a, i);

		(void)nap_json_str(s, "code", "");
		(void)nap_json_str(s, "message", nap_json_str(s, "displayStatus", ""));
	}
	a = nap_json_array(body, "value", &n);
	for (size_t i = 0; a && i < n; i++) {
		json_object *v = json_object_array_get_idx(a, i);

		(void)nap_json_str(v, "name", NULL);
		(void)nap_json_get(v, "tags");
		(void)nap_json_int(v, "properties.hardwareProfile.vmSize", 0);
		(void)nap_json_bool(v, "properties.primary", 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok;
	json_object *body;
	char *s, *nl, *url, *endpoint = NULL;

	if (size > 64 * 1024)
		return -1;
	tok = json_tokener_new();
	body = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	check_error(data, size, body);
	lookups(body);

	s = fuzz_strdup(data, size);
	url = s;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		endpoint = nl + 1;
		if ((nl = strchr(endpoint, '\n')) != NULL)
			*nl = '\0';
	}
	if (body && nap_json_str(body, "nextLink", NULL))
		check_origin(ENDPOINT, nap_json_str(body, "nextLink", NULL));
	else
		check_origin(ENDPOINT, url);
	if (endpoint)
		check_origin(endpoint, url);
	free(s);
	json_object_put(body);
	return 0;
}
