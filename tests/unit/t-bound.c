/* Unit tests for lib/bound: the aggregate and whole-pod bounds against values worked by hand, and on the catalog. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bound.h"
#include "json.h"
#include "tap.h"
#include "util.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-6)

/*
 * Three types: S (1 $/h; 2 cores, 4 GiB), M (1.8; 4, 8) and C (1.2; 4, 2),
 * 10 pods each.  Worked by hand:
 *  - 8 cores, 8 GiB, 4 pods spread freely: 4/3 C + 2/3 M = 2.8 $/h, proved
 *    by the prices 0.25 $/core and 0.1 $/GiB, which no type's node exceeds
 *    (S 0.9, M 1.8, C 1.2).
 *  - two pods of 3 cores 1 GiB (fit M and C, not S) and one of 0.5 cores
 *    6 GiB (fits M only): the memory pod needs 0.75 M; one CPU pod beside it
 *    makes 7/8 M, the other on 3/4 C: 1.575 + 0.9 = 2.475 $/h, above the
 *    aggregate bound of the same totals (6.5 cores, 8 GiB): 2.425.
 */
static const struct nap_bound_type types[] = {
    {"S", 1.0, 2, 4, 10, 0, NAP_BOUND_ON_DEMAND},
    {"M", 1.8, 4, 8, 10, 0, NAP_BOUND_ON_DEMAND},
    {"C", 1.2, 4, 2, 10, 0, NAP_BOUND_ON_DEMAND},
    {"S-spot", 0.2, 2, 4, 10, 0, NAP_BOUND_SPOT},
    {"G", 3.0, 8, 32, 10, 1, NAP_BOUND_ON_DEMAND},
};

/* n pods of cpu cores and mem GiB, no GPU, any capacity type */
#define K(cpu, mem, n)                                                                             \
	{                                                                                          \
		cpu, mem, 0, n, 0                                                                  \
	}

/*
 * nap_bound_fleet on a snapshot (a nap-disrupt fixture): the cache changes
 * no answer; the same generation costs no solve, nor a new one with the
 * same pods; a pod more is solved again.
 */
static void
test_fleet(const struct nap_catalog *cat)
{
	struct nap_bound_fleet_cache cache;
	struct nap_cluster *c = nap_cluster_new();
	struct nap_bound_class *k;
	struct nap_bound_type *t;
	struct nap_err err;
	char *input =
	    test_slurp("tests/fixtures/nap-disrupt/consol-deleting-node/input.ndjson", NULL);
	char *line, *save = NULL;
	double usd = -1, nocache = -2, direct = -3, pods, more = -1;
	size_t nk, nt;
	json_object *pod;
	int rc;

	if (!TAP_OK(input != NULL, "the fixture consol-deleting-node reads")) {
		nap_cluster_free(c);
		return;
	}
	for (line = strtok_r(input, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *rec = json_tokener_parse(line);

		if (strcmp(nap_json_str(rec, "type", ""), "ADDED") == 0)
			nap_cluster_apply_record(c, rec, &err);
		json_object_put(rec);
	}
	free(input);
	/* what nap-cost computes, by hand */
	nk = nap_bound_fleet_classes(c, &k, &pods);
	nt = nap_bound_fleet_types(c, cat, k, nk, &t);
	nap_bound_whole(t, nt, k, nk, &direct, NULL, NULL, &err);
	free(k);
	free(t);
	memset(&cache, 0, sizeof(cache));
	TAP_OK(nap_bound_fleet(c, cat, 0, NULL, &nocache, &err) == 0 && NEAR(nocache, direct) &&
		direct > 0,
	    "the fleet's bound without a cache is the whole-pod bound of its classes: %.6f",
	    direct);
	TAP_OK(nap_bound_fleet(c, cat, 7, &cache, &usd, &err) == 0 && usd == nocache &&
		cache.solves == 1,
	    "with a cache: the same answer, one solve");
	usd = -1;
	TAP_OK(nap_bound_fleet(c, cat, 7, &cache, &usd, &err) == 0 && usd == nocache &&
		cache.solves == 1,
	    "the same generation again: the same answer, no solve");
	usd = -1;
	TAP_OK(nap_bound_fleet(c, cat, 8, &cache, &usd, &err) == 0 && usd == nocache &&
		cache.solves == 1 && cache.gen == 8,
	    "another generation with the same pods: no solve either");
	pod = json_tokener_parse(
	    "{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
	    "\"metadata\":{\"name\":\"extra\",\"namespace\":\"default\",\"uid\":\"u-extra\"},"
	    "\"spec\":{\"nodeName\":\"keep\",\"containers\":[{\"name\":\"c\","
	    "\"resources\":{\"requests\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]},"
	    "\"status\":{\"phase\":\"Running\"}}}");
	TAP_OK(nap_cluster_apply_record(c, pod, &err) == 0, "a pod of 1 core more is applied");
	json_object_put(pod);
	rc = nap_bound_fleet(c, cat, 9, &cache, &more, &err);
	TAP_OK(rc == 0 && cache.solves == 2 && more > usd,
	    "a pod more: solved again, the bound higher (%.6f)", more);
	TAP_OK(nap_bound_fleet(c, cat, 0, NULL, &nocache, &err) == 0 && NEAR(nocache, more),
	    "and the same as without the cache");
	nap_cluster_free(c);
}

int
main(void)
{
	struct nap_bound_class k[] = {K(3, 1, 2), K(0.5, 6, 1), K(10, 1, 4)};
	struct nap_bound_type *ct;
	struct nap_catalog *cat;
	struct nap_err err;
	double usd = -1, agg = -1, unplaced = -1;
	unsigned flags = 9;
	size_t n;
	int rc;

	rc = nap_bound_aggregate(types, 3, 8, 8, 4, &usd, &err);
	TAP_OK(rc == 0 && NEAR(usd, 2.8),
	    "the aggregate bound of 8 cores and 8 GiB is 4/3 C + 2/3 M = 2.8 $/h (got %.6f)", usd);
	rc = nap_bound_aggregate(types, 3, 6.5, 8, 3, &agg, &err);
	TAP_OK(rc == 0 && NEAR(agg, 2.425),
	    "the aggregate bound of 6.5 cores and 8 GiB is 2.425 $/h (got %.6f)", agg);
	rc = nap_bound_whole(types, 3, k, 2, &usd, &unplaced, &flags, &err);
	TAP_OK(rc == 0 && NEAR(usd, 2.475),
	    "the whole-pod bound of two CPU pods and a memory pod is 2.475 $/h (got %.6f)", usd);
	TAP_OK(usd > agg + 1e-6, "keeping pods whole raises the bound above the aggregate one");
	TAP_OK(flags == 0 && unplaced == 0, "the bound is exact and every pod is placed");
	rc = nap_bound_whole(types, 3, k, 3, &usd, &unplaced, &flags, &err);
	TAP_OK(rc == 0 && NEAR(usd, 2.475) && unplaced == 4,
	    "four pods of 10 cores fit no type: counted as unplaced, left out of the bound");
	{
		struct nap_bound_class one = K(1, 2, 5);

		rc = nap_bound_whole(types, 3, &one, 1, &usd, NULL, NULL, &err);
		TAP_OK(rc == 0 && NEAR(usd, 2.25),
		    "five pods of 1 core 2 GiB: 1.25 nodes of M, four to a node (got %.6f)", usd);
		one.allow = NAP_BOUND_ON_DEMAND;
		rc = nap_bound_whole(types, 4, &one, 1, &usd, NULL, NULL, &err);
		TAP_OK(rc == 0 && NEAR(usd, 2.25),
		    "pods that allow on-demand only leave the cheap spot S alone (got %.6f)", usd);
		one.allow = 0;
		rc = nap_bound_whole(types, 4, &one, 1, &usd, NULL, NULL, &err);
		TAP_OK(rc == 0 && NEAR(usd, 0.5),
		    "pods that allow any capacity type take 2.5 spot S at 0.2 (got %.6f)", usd);
	}
	{
		struct nap_bound_class g[] = {{1, 2, 1, 2, 0}, K(2, 4, 4)};

		rc = nap_bound_whole(types, 5, g, 1, &usd, NULL, NULL, &err);
		TAP_OK(rc == 0 && NEAR(usd, 6),
		    "two pods of one GPU each need two nodes of G, the one type with a GPU (got "
		    "%.6f)",
		    usd);
		rc = nap_bound_whole(types, 5, g, 2, &usd, NULL, NULL, &err);
		TAP_OK(rc == 0 && NEAR(usd, 6),
		    "four pods of 2 cores 4 GiB beside them fit in the room the GPU nodes leave "
		    "(got %.6f)",
		    usd);
	}
	TAP_OK(nap_bound_whole(types, 3, k, 0, &usd, NULL, NULL, &err) == 0 && usd == 0,
	    "no pods cost nothing");

	{
		struct nap_bound_class m[] = {K(1, 2, 1), K(0.5, 1, 2), K(1, 2, 3), K(1, 4, 1)};
		size_t nm = nap_bound_classes_merge(m, 4);

		TAP_OK(nm == 3 && m[0].cpu == 0.5 && m[0].n == 2 && m[1].cpu == 1 &&
			m[1].mem == 2 && m[1].n == 4 && m[2].mem == 4 && m[2].n == 1,
		    "classes of equal requests merge, their counts added, sorted by CPU then "
		    "memory");
	}

	if (nap_catalog_load(&cat, NULL, "eastus", NULL, &err) < 0) {
		TAP_OK(0, "the catalog loads: %s", err.msg);
		return tap_done();
	}
	n = nap_bound_catalog_types(cat, NULL, NAP_BOUND_ON_DEMAND, &ct);
	TAP_OK(n > 100 && n <= cat->ntypes, "eastus has %zu on-demand types to bound with", n);
	{
		/* 300 web pods (250m, 512Mi), 20 caches (2, 14Gi), 10 batch (7, 4Gi) */
		struct nap_bound_class mix[] = {K(0.25, 0.5, 300), K(2, 14, 20), K(7, 4, 10)};
		double cpu = 0, mem = 0, pods = 0;
		size_t i;

		for (i = 0; i < 3; i++) {
			cpu += mix[i].cpu * mix[i].n;
			mem += mix[i].mem * mix[i].n;
			pods += mix[i].n;
		}
		rc = nap_bound_aggregate(ct, n, cpu, mem, pods, &agg, &err);
		TAP_OK(rc == 0 && agg > 0,
		    "the catalog's aggregate bound of a mixed workload: %.4f $/h", agg);
		rc = nap_bound_whole(ct, n, mix, 3, &usd, &unplaced, &flags, &err);
		TAP_OK(rc == 0 && usd >= agg - 1e-6 && flags == 0 && unplaced == 0,
		    "its whole-pod bound is exact and at least the aggregate: %.4f $/h", usd);
	}
	free(ct);
	test_fleet(cat);
	nap_catalog_free(cat);
	return tap_done();
}
