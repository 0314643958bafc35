/*
 * fuzz-yaml - lib/yaml.c: YAML streams (manifests, nap.yaml) to json-c.
 *
 * Input: a YAML stream.
 * Contract:
 *   - nap_yaml_load_ex returns 0 with an array of documents, none of them
 *     null, or -1 with no array and an error (NAP_EX_DATAERR) that starts
 *     with the stream's name and a line and column;
 *   - with NAP_YAML_KEYPOS every key of every mapping has a position, line
 *     and column from 1, the line within the input;
 *   - loading with and without key positions gives the same documents, and
 *     they serialise (aliases are resolved by copying, so the result is a
 *     tree: no cycle to loop on).
 */
#include <json-c/json.h>

#include "fuzz.h"
#include "yaml.h"

/* At least as many lines as libyaml counts (it also breaks at NEL, LS and PS). */
static unsigned
count_lines(const uint8_t *data, size_t size)
{
	unsigned n = 1;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 ||
		    (data[i] == 0xe2 && i + 2 < size && data[i + 1] == 0x80 &&
			(data[i + 2] == 0xa8 || data[i + 2] == 0xa9));
	return n;
}

static void
check_pos(json_object *o, unsigned lines, int depth, unsigned *budget)
{
	if (depth > NAP_YAML_MAX_DEPTH + 2 || *budget == 0)
		return;
	if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);

		for (size_t i = 0; i < n && *budget; i++)
			check_pos(json_object_array_get_idx(o, i), lines, depth + 1, budget);
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			unsigned line = 0, col = 0;

			(*budget)--;
			FUZZ_CHECK(
			    nap_yaml_key_pos(o, k, &line, &col) == 0, "key %s has no position", k);
			FUZZ_CHECK(line >= 1 && col >= 1 && line <= lines,
			    "key %s at %u:%u, input has %u lines", k, line, col, lines);
			check_pos(v, lines, depth + 1, budget);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *docs = NULL, *plain = NULL;
	struct nap_err err = {0};
	int rc;

	if (size > 16 * 1024)
		return -1;
	rc = nap_yaml_load_ex((const char *)data, size, "fuzz", NAP_YAML_KEYPOS, &docs, &err);
	if (rc != 0) {
		FUZZ_CHECK(rc == -1 && docs == NULL, "rc %d, docs %p", rc, (void *)docs);
		fuzz_check_err(&err);
		FUZZ_CHECK(
		    err.code == NAP_EX_DATAERR, "code %d for bad YAML: %s", err.code, err.msg);
		FUZZ_CHECK(
		    strncmp(err.msg, "fuzz:", 5) == 0, "error without its position: %s", err.msg);
		/* The same input without positions fails the same way. */
		FUZZ_CHECK(nap_yaml_load((const char *)data, size, "fuzz", &plain, &err) == -1,
		    "loads without NAP_YAML_KEYPOS only");
		return 0;
	}
	FUZZ_CHECK(json_object_is_type(docs, json_type_array), "docs is not an array");
	{
		size_t n = json_object_array_length(docs);
		unsigned budget = 20000;

		for (size_t i = 0; i < n; i++) {
			json_object *d = json_object_array_get_idx(docs, i);

			FUZZ_CHECK(d != NULL, "document %zu is null", i);
			check_pos(d, count_lines(data, size), 0, &budget);
		}
	}
	FUZZ_CHECK(nap_yaml_load((const char *)data, size, "fuzz", &plain, &err) == 0,
	    "loads only with NAP_YAML_KEYPOS: %s", err.msg);
	{
		char *a = nap_xstrdup(json_object_to_json_string_ext(docs, JSON_C_TO_STRING_PLAIN));

		FUZZ_CHECK(
		    strcmp(a, json_object_to_json_string_ext(plain, JSON_C_TO_STRING_PLAIN)) == 0,
		    "documents differ with and without key positions");
		free(a);
	}
	json_object_put(plain);
	json_object_put(docs);
	return 0;
}
