/*
 * disrupt-bound.c - what the whole-pod LP bound costs nap-disrupt live
 * (lib/bound-fleet.c's nap_bound_fleet, as cmd/nap-disrupt/plan.c calls it
 * after a command), on the 2,000-node / 40,000-pod fleet of
 * bench/disrupt-consol.c (its generator, compiled in here): CPU and wall
 * of a cold solve (no cache), of a call with the generation unchanged, and
 * of one with the generation changed but the same pods (classes rebuilt,
 * no solve); medians of R runs.
 *
 * usage: disrupt-bound CATALOG [nodes [runs]]   (defaults 2000 3)
 */
#define main consol_main
#include "disrupt-consol.c"
#undef main

#include "bound.h"

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

int
main(int argc, char **argv)
{
	int nodes = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 2000;
	int runs = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3, i, k, npods;
	struct nap_cluster *c = nap_cluster_new();
	struct nap_catalog *cat;
	struct nap_err err;
	double *cpu[3], *ms[3], usd = 0, t, u;
	static const char *what[3] = {
	    "cold (classes + solve)", "same generation", "new generation, same pods"};

	if (argc < 2 || runs < 1 || nodes < 1) {
		fprintf(stderr, "usage: disrupt-bound CATALOG [nodes [runs]]\n");
		return 64;
	}
	if (nap_catalog_load(&cat, argv[1], "eastus", NULL, &err) < 0) {
		fprintf(stderr, "bench: %s\n", err.msg);
		return 66;
	}
	nap_cluster_keep_pod_json(c, 0);
	nap_cluster_keep_node_json(c, 0);
	npods = build(c, nodes, 20, 0);
	for (k = 0; k < 3; k++) {
		cpu[k] = calloc((size_t)runs, sizeof(double));
		ms[k] = calloc((size_t)runs, sizeof(double));
	}
	for (i = 0; i < runs; i++) {
		struct nap_bound_fleet_cache cache;

		memset(&cache, 0, sizeof(cache));
		for (k = 0; k < 3; k++) {
			t = mono_ms();
			u = cpu_ms();
			/* generations 1, 1, 2: cold, unchanged, changed with the same pods */
			if (nap_bound_fleet(c, cat, k == 2 ? 2 : 1, &cache, &usd, &err) < 0) {
				fprintf(stderr, "bench: %s\n", err.msg);
				return 70;
			}
			cpu[k][i] = cpu_ms() - u;
			ms[k][i] = mono_ms() - t;
		}
		if (cache.solves != 1) {
			fprintf(stderr, "bench: %zu solves, want 1\n", cache.solves);
			return 70;
		}
	}
	printf("bound: %d nodes, %d pods: whole-pod bound $%.3f/h\n", nodes, npods, usd);
	for (k = 0; k < 3; k++)
		printf("  %-28s CPU %8.2f ms  wall %8.2f ms (median of %d)\n", what[k],
		    median(cpu[k], runs), median(ms[k], runs), runs);
	for (k = 0; k < 3; k++) {
		free(cpu[k]);
		free(ms[k]);
	}
	nap_catalog_free(cat);
	nap_cluster_free(c);
	return 0;
}
