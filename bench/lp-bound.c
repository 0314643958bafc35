/*
 * lp-bound.c - the LP lower bound for bench/solve.sh: the cheapest
 * fractional cover of a total CPU, memory and pod count by the on-demand
 * instance types of a region (allocatable as nap-solve computes it with the
 * default AKSNodeClass; price of the cheapest available on-demand offering).
 *
 *   lp-bound CATALOG REGION CPU_MILLI MEMORY_BYTES PODS
 *
 * Prints the bound in USD per hour, computed by lib/bound (the aggregate
 * bound of bound.h).
 *
 *   lp-bound --whole CATALOG REGION  <requests
 *
 * Prints lib/bound's whole-pod bound of the pods on stdin (one line
 * "CPU_MILLI MEMORY_BYTES" per pod), the tool-side twin of --fit below.
 *
 *   lp-bound --fit CATALOG REGION [NODES]  <requests  >model.lp
 *
 * Writes (CPLEX LP format, for glpsol) the tighter bound that keeps each pod
 * whole: one line "CPU_MILLI MEMORY_BYTES" per pod on stdin; variables are
 * the nodes of each type (fractional) and how many pods of each distinct
 * request each type takes, only where the request fits the type; every
 * pod is placed and no type holds more CPU, memory or pods than its nodes
 * have.  Any real packing is a solution of it, so no packing costs less.
 * With NODES, one more row: the nodes of all types, NODES at most (the
 * room under nap-solve's node ceiling), so no packing of that many nodes
 * or fewer costs less.  --whole has no such row (lib/bound's LP).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bound.h"
#include "catalog.h"

/* Cheapest available on-demand price of type t, or -1. */
static double
od_price(const struct nap_itype *ty)
{
	double price = -1;
	size_t j;

	for (j = 0; j < ty->noff; j++)
		if (!ty->off[j].spot && ty->off[j].available &&
		    (price < 0 || ty->off[j].price < price))
			price = ty->off[j].price;
	return price;
}

#define GIB (1024.0 * 1024 * 1024)

/* The pods on stdin as classes of equal requests (cores, GiB); NULL when out of memory. */
static struct nap_bound_class *
read_classes(size_t *n)
{
	struct nap_bound_class *c = NULL;
	size_t nc = 0, ac = 0;
	long long cpu, mem;

	while (scanf("%lld %lld", &cpu, &mem) == 2) {
		if (nc == ac) {
			ac = ac ? 2 * ac : 64;
			c = realloc(c, ac * sizeof(*c));
			if (!c)
				return NULL;
		}
		c[nc].cpu = (double)cpu / 1000.0;
		c[nc].mem = (double)mem / GIB;
		c[nc++].n = 1;
	}
	*n = nap_bound_classes_merge(c, nc);
	return c ? c : calloc(1, sizeof(*c));
}

/* Whether a class fits type t's allocatable a, as lib/bound decides it (within 1e-9). */
static int
fits(const struct nap_bound_class *k, const struct nap_res *a)
{
	return k->cpu <= (double)a->v[NAP_RES_CPU] / 1000.0 + 1e-9 &&
	    k->mem <= (double)a->v[NAP_RES_MEMORY] / GIB + 1e-9;
}

static int
fit_lp(const char *catalog, const char *region, const char *nodes)
{
	struct nap_catalog *cat;
	struct nap_err err;
	struct nap_itype_opts o;
	struct nap_bound_class *c;
	size_t nc, k, t, w;

	if (nap_catalog_load(&cat, catalog, region, NULL, &err) < 0) {
		fprintf(stderr, "lp-bound: %s\n", err.msg);
		return err.code;
	}
	if (!(c = read_classes(&nc)))
		return 70;
	memset(&o, 0, sizeof(o));
	printf("Minimize\n obj:");
	for (t = 0; t < cat->ntypes; t++) {
		double pr = od_price(&cat->types[t]);

		if (pr > 0)
			printf(" + %.6f x%zu", pr, t);
	}
	printf("\nSubject To\n");
	for (k = 0; k < nc; k++) {
		printf(" d%zu:", k);
		for (t = 0; t < cat->ntypes; t++) {
			struct nap_res a;

			if (od_price(&cat->types[t]) <= 0)
				continue;
			nap_itype_allocatable(&cat->types[t], &o, &a);
			if (fits(&c[k], &a))
				printf(" + a%zu_%zu", k, t);
		}
		printf(" = %.0f\n", c[k].n);
	}
	for (t = 0; t < cat->ntypes; t++) {
		static const char *const row[] = {"c", "m", "p"};
		struct nap_res a;
		int any = 0;

		if (od_price(&cat->types[t]) <= 0)
			continue;
		nap_itype_allocatable(&cat->types[t], &o, &a);
		for (k = 0; k < nc; k++)
			any |= fits(&c[k], &a);
		if (!any)
			continue;
		for (w = 0; w < 3; w++) {
			printf(" %s%zu:", row[w], t);
			for (k = 0; k < nc; k++)
				if (fits(&c[k], &a))
					printf(" + %.9g a%zu_%zu",
					    w == 0	 ? c[k].cpu
						: w == 1 ? c[k].mem
							 : 1.0,
					    k, t);
			printf(" - %.9g x%zu <= 0\n",
			    w == 0	 ? (double)a.v[NAP_RES_CPU] / 1000.0
				: w == 1 ? (double)a.v[NAP_RES_MEMORY] / GIB
					 : (double)a.v[NAP_RES_PODS],
			    t);
		}
	}
	if (nodes) {
		printf(" n:");
		for (t = 0; t < cat->ntypes; t++)
			if (od_price(&cat->types[t]) > 0)
				printf(" + x%zu", t);
		printf(" <= %s\n", nodes);
	}
	printf("End\n");
	free(c);
	nap_catalog_free(cat);
	return 0;
}

int
main(int argc, char **argv)
{
	struct nap_catalog *cat;
	struct nap_bound_type *t;
	struct nap_err err;
	double usd;
	size_t nt;

	if ((argc == 4 || argc == 5) && strcmp(argv[1], "--fit") == 0) {
		char *end;

		if (argc == 5 && (strtol(argv[4], &end, 10) < 0 || *end || end == argv[4])) {
			fprintf(stderr, "lp-bound: %s: not a node count\n", argv[4]);
			return 64;
		}
		return fit_lp(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	}
	if (!(argc == 4 && strcmp(argv[1], "--whole") == 0) && argc != 6) {
		fprintf(stderr, "usage: lp-bound CATALOG REGION CPU_MILLI MEMORY_BYTES PODS\n");
		return 64;
	}
	if (nap_catalog_load(&cat, argv[argc == 4 ? 2 : 1], argv[argc == 4 ? 3 : 2], NULL, &err) <
	    0) {
		fprintf(stderr, "lp-bound: %s\n", err.msg);
		return err.code;
	}
	nt = nap_bound_catalog_types(cat, NULL, NAP_BOUND_ON_DEMAND, &t);
	if (argc == 4) {
		struct nap_bound_class *k;
		size_t nk;
		double unplaced;

		if (!(k = read_classes(&nk)))
			return 70;
		if (nap_bound_whole(t, nt, k, nk, &usd, &unplaced, NULL, &err) < 0) {
			fprintf(stderr, "lp-bound: %s\n", err.msg);
			return err.code;
		}
		if (unplaced > 0)
			fprintf(stderr, "lp-bound: %.0f pods fit no type\n", unplaced);
		free(k);
	} else if (nap_bound_aggregate(t, nt, strtod(argv[3], NULL) / 1000.0,
		       strtod(argv[4], NULL) / GIB, strtod(argv[5], NULL), &usd, &err) < 0) {
		fprintf(stderr, "lp-bound: %s\n", err.msg);
		return err.code;
	}
	printf("%.4f\n", usd);
	free(t);
	nap_catalog_free(cat);
	return 0;
}
