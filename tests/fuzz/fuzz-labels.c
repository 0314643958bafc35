/*
 * fuzz-labels - lib/labels.c: node-selector requirements and label selectors.
 *
 * Input: a JSON document.  Every array of objects in it is read as a
 * requirement list (nap_reqs_add_json), every object as a label map
 * (nap_reqs_add_labels) and as a label selector (nap_selector_parse); the
 * harness never depends on where they sit, so whole manifests are good seeds.
 * Contract, for any input:
 *   - (label maps are given only when valid, as the API server would)
 *   - a rejected list fills err; an accepted one gives a set sorted by key
 *     with sorted, unique values;
 *   - nap_reqs_to_json reads back (nap_reqs_add_json) to the same list, as
 *     labels.h promises, for every set whose minValues can be met, and
 *     nap_reqs_copy copies exactly;
 *   - a value nap_req_any picks is one nap_req_allows;
 *   - nap_req_intersects is symmetric, and a value the intersection of two
 *     sets allows is one both allow (and the other way round);
 *   - formatting (nap_req_fmt, the why of the predicates) stays within the
 *     buffer it is given;
 *   - selectors parse or fail with a message, and matching never crashes.
 */
#include <json-c/json.h>

#include "fuzz.h"
#include "labels.h"

#define MAX_SETS 4
#define MAX_MAPS 4

struct found {
	json_object *lists[MAX_SETS], *maps[MAX_MAPS];
	size_t nlists, nmaps;
};

static void
walk(json_object *o, struct found *f, int depth)
{
	if (depth > 40)
		return;
	if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);

		if (n > 0 &&
		    json_object_is_type(json_object_array_get_idx(o, 0), json_type_object) &&
		    f->nlists < MAX_SETS)
			f->lists[f->nlists++] = o;
		for (size_t i = 0; i < n; i++)
			walk(json_object_array_get_idx(o, i), f, depth + 1);
	} else if (json_object_is_type(o, json_type_object)) {
		if (f->nmaps < MAX_MAPS)
			f->maps[f->nmaps++] = o;
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			walk(v, f, depth + 1);
		}
	}
}

/*
 * nap_reqs_add_labels takes maps the API server has validated (nodeSelector,
 * template labels): feed it only those.
 */
static int
valid_label_map(json_object *map)
{
	json_object_object_foreach(map, k, v)
	{
		if (!nap_label_key_valid(k) || !json_object_is_type(v, json_type_string) ||
		    !nap_label_value_valid(json_object_get_string(v)))
			return 0;
	}
	return 1;
}

static void
check_sorted(const struct nap_reqs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct nap_req *q = &r->v[i];

		FUZZ_CHECK(i == 0 || strcmp(r->v[i - 1].key, q->key) < 0,
		    "keys out of order: %s, %s", r->v[i - 1].key, q->key);
		for (size_t j = 1; j < q->nvalues; j++)
			FUZZ_CHECK(strcmp(q->values[j - 1], q->values[j]) < 0,
			    "%s: values out of order: %s, %s", q->key, q->values[j - 1],
			    q->values[j]);
		FUZZ_CHECK(nap_reqs_get(r, q->key) == q, "nap_reqs_get misses %s", q->key);
	}
}

static char *
dump(const struct nap_reqs *r)
{
	json_object *j = nap_reqs_to_json(r);
	char *s = nap_xstrdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));

	json_object_put(j);
	return s;
}

/*
 * An intersection can leave an In with fewer values than its minValues (a
 * pool's In [spot on-demand] minValues 2 and a pod's spot).  Since
 * nap_reqs_min_values_needed counts only values the set allows, no instance
 * type list meets it, so nap never writes such a set out; reading it back is
 * refused, as the CRD would.
 */
static int
writable(const struct nap_reqs *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (!r->v[i].complement && r->v[i].nvalues < (size_t)r->v[i].min_values)
			return 0;
	return 1;
}

static void
check_round_trip(const struct nap_reqs *r)
{
	json_object *j = nap_reqs_to_json(r);
	struct nap_reqs back, copy;
	struct nap_err err = {0};
	char *a = dump(r), *b;
	int rc;

	nap_reqs_init(&back);
	rc = nap_reqs_add_json(&back, j, &err);
	FUZZ_CHECK(rc == 0, "nap_reqs_to_json gives %s, which reads back as: %s", a, err.msg);
	b = dump(&back);
	FUZZ_CHECK(strcmp(a, b) == 0, "round trip changed %s into %s", a, b);
	free(b);
	nap_reqs_init(&copy);
	nap_reqs_copy(&copy, r);
	b = dump(&copy);
	FUZZ_CHECK(strcmp(a, b) == 0, "copy of %s is %s", a, b);
	free(b);
	free(a);
	nap_reqs_free(&copy);
	nap_reqs_free(&back);
	json_object_put(j);
}

/* Values worth asking a requirement about. */
static size_t
candidates(const struct nap_reqs *a, const struct nap_reqs *b, const char *key, char (*buf)[64],
    const char **out, size_t max)
{
	static const char *const fixed[] = {
	    "", "0", "1", "2", "10", "-1", "a", "9223372036854775807"};
	const struct nap_reqs *sets[2] = {a, b};
	size_t n = 0;

	for (size_t i = 0; i < NAP_ARRAY_LEN(fixed) && n < max; i++)
		out[n++] = fixed[i];
	for (int s = 0; s < 2; s++) {
		const struct nap_req *q = nap_reqs_get(sets[s], key);

		if (q == NULL)
			continue;
		for (size_t i = 0; i < q->nvalues && n < max; i++)
			out[n++] = q->values[i];
		if (n < max && nap_req_any(q, buf[s], sizeof(buf[s])))
			out[n++] = buf[s];
		if (q->has_gt && n < max) {
			snprintf(buf[2 + s], sizeof(buf[2 + s]), "%lld", (long long)q->gt);
			out[n++] = buf[2 + s];
		}
	}
	return n;
}

static void
check_req(const struct nap_req *q)
{
	char buf[64], small[16];

	memset(buf, 'x', sizeof(buf));
	if (nap_req_any(q, buf, sizeof(buf))) {
		FUZZ_CHECK(
		    memchr(buf, '\0', sizeof(buf)) != NULL, "%s: unterminated value", q->key);
		FUZZ_CHECK(
		    nap_req_allows(q, buf), "%s: nap_req_any picks %s, not allowed", q->key, buf);
	}
	memset(small, 'x', sizeof(small));
	nap_req_fmt(q, small, sizeof(small));
	FUZZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL, "%s: nap_req_fmt overruns", q->key);
}

static void
check_pair(const struct nap_reqs *a, const struct nap_reqs *b)
{
	struct nap_reqs both;
	char why[96], buf[4][64];
	const char *vals[48];

	memset(why, 'x', sizeof(why));
	nap_reqs_intersects(a, b, why, sizeof(why));
	FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL, "why overruns");
	nap_reqs_compatible(a, b, NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, why, sizeof(why));
	nap_reqs_compatible(b, a, 0, why, sizeof(why));

	nap_reqs_init(&both);
	nap_reqs_copy(&both, a);
	nap_reqs_intersect(&both, b);
	check_sorted(&both);
	for (size_t i = 0; i < a->n; i++) {
		const struct nap_req *qa = &a->v[i], *qb = nap_reqs_get(b, qa->key);
		const struct nap_req *qi = nap_reqs_get(&both, qa->key);
		size_t n;

		FUZZ_CHECK(qi != NULL, "intersection lost key %s", qa->key);
		if (qb == NULL)
			continue;
		FUZZ_CHECK(nap_req_intersects(qa, qb) == nap_req_intersects(qb, qa),
		    "%s: intersects is not symmetric", qa->key);
		n = candidates(a, b, qa->key, buf, vals, NAP_ARRAY_LEN(vals));
		for (size_t j = 0; j < n; j++) {
			int in_a = nap_req_allows(qa, vals[j]), in_b = nap_req_allows(qb, vals[j]);

			FUZZ_CHECK(nap_req_allows(qi, vals[j]) == (in_a && in_b),
			    "%s: value \"%s\": a %d, b %d, a and b %d", qa->key, vals[j], in_a,
			    in_b, nap_req_allows(qi, vals[j]));
		}
	}
	nap_reqs_free(&both);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok;
	json_object *doc;
	struct found f = {0};
	struct nap_reqs sets[MAX_SETS + 1];
	size_t nsets = 0;

	/* Requirement lists are small; big documents only slow the search down. */
	if (size > 8192)
		return -1;
	tok = json_tokener_new();
	doc = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (doc == NULL)
		return 0;
	walk(doc, &f, 0);
	for (size_t i = 0; i < f.nlists; i++) {
		struct nap_err err = {0};

		nap_reqs_init(&sets[nsets]);
		if (nap_reqs_add_json(&sets[nsets], f.lists[i], &err) != 0)
			fuzz_check_err(&err);
		check_sorted(&sets[nsets]);
		nsets++;
	}
	nap_reqs_init(&sets[nsets]);
	for (size_t i = 0; i < f.nmaps; i++)
		if (valid_label_map(f.maps[i]))
			nap_reqs_add_labels(&sets[nsets], f.maps[i]);
	check_sorted(&sets[nsets]);
	nsets++;

	for (size_t i = 0; i < nsets; i++) {
		char why[128];

		for (size_t k = 0; k < sets[i].n; k++)
			check_req(&sets[i].v[k]);
		if (writable(&sets[i]))
			check_round_trip(&sets[i]);
		json_object_put(nap_reqs_labels(&sets[i]));
		nap_reqs_min_values_needed(
		    &sets[i], (const struct nap_reqs *const[]){&sets[0]}, 1, why, sizeof(why));
		for (size_t j = 0; j < nsets; j++)
			check_pair(&sets[i], &sets[j]);
	}
	for (size_t i = 0; i < f.nmaps; i++) {
		struct nap_selector *sel = NULL;
		struct nap_err err = {0};

		if (nap_selector_parse(&sel, f.maps[i], &err) != 0) {
			fuzz_check_err(&err);
			continue;
		}
		for (size_t j = 0; j < f.nmaps; j++)
			nap_selector_matches(sel, f.maps[j]);
		nap_selector_matches(sel, NULL);
		nap_selector_free(sel);
	}
	for (size_t i = 0; i < nsets; i++)
		nap_reqs_free(&sets[i]);
	json_object_put(doc);
	return 0;
}
