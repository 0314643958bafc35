/*
 * lp-bound.c - the LP lower bound for bench/solve.sh: the cheapest
 * fractional cover of a total CPU, memory and pod count by the on-demand
 * instance types of a region (allocatable as nap-solve computes it with the
 * default AKSNodeClass; price of the cheapest available on-demand offering).
 *
 *   lp-bound CATALOG REGION CPU_MILLI MEMORY_BYTES PODS
 *
 * Prints the bound in USD per hour.  Solved as the dual (three variables,
 * one constraint per type) with a dense simplex; y = 0 is feasible since
 * every price is positive.  Built and run by bench/solve.sh only.
 *
 *   lp-bound --fit CATALOG REGION  <requests  >model.lp
 *
 * Writes (CPLEX LP format, for glpsol) the tighter bound that keeps each pod
 * whole: one line "CPU_MILLI MEMORY_BYTES" per pod on stdin; variables are
 * the nodes of each type (fractional) and how many pods of each distinct
 * request each type takes, only where the request fits the type; every
 * pod is placed and no type holds more CPU, memory or pods than its nodes
 * have.  Any real packing is a solution of it, so no packing costs less.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

struct cls {
	long long cpu, mem;
	long n;
};

static int
cmp_cls(const void *x, const void *y)
{
	const struct cls *a = x, *b = y;

	if (a->cpu != b->cpu)
		return a->cpu < b->cpu ? -1 : 1;
	return (a->mem > b->mem) - (a->mem < b->mem);
}

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

static int
fit_lp(const char *catalog, const char *region)
{
	struct nap_catalog *cat;
	struct nap_err err;
	struct nap_itype_opts o;
	struct cls *c = NULL;
	size_t nc = 0, ac = 0, i, k, t, w;
	long long cpu, mem;

	if (nap_catalog_load(&cat, catalog, region, NULL, &err) < 0) {
		fprintf(stderr, "lp-bound: %s\n", err.msg);
		return err.code;
	}
	while (scanf("%lld %lld", &cpu, &mem) == 2) {
		if (nc == ac) {
			ac = ac ? 2 * ac : 64;
			c = realloc(c, ac * sizeof(*c));
			if (!c)
				return 70;
		}
		c[nc].cpu = cpu;
		c[nc].mem = mem;
		c[nc++].n = 1;
	}
	qsort(c, nc, sizeof(*c), cmp_cls);
	for (i = 0, k = 0; i < nc; i++) {
		if (k && c[k - 1].cpu == c[i].cpu && c[k - 1].mem == c[i].mem) {
			c[k - 1].n++;
			continue;
		}
		c[k++] = c[i];
	}
	nc = k;
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
			if (c[k].cpu <= a.v[NAP_RES_CPU] && c[k].mem <= a.v[NAP_RES_MEMORY])
				printf(" + a%zu_%zu", k, t);
		}
		printf(" = %ld\n", c[k].n);
	}
	for (t = 0; t < cat->ntypes; t++) {
		static const char *const row[] = {"c", "m", "p"};
		struct nap_res a;
		int any = 0;

		if (od_price(&cat->types[t]) <= 0)
			continue;
		nap_itype_allocatable(&cat->types[t], &o, &a);
		for (k = 0; k < nc; k++)
			any |= c[k].cpu <= a.v[NAP_RES_CPU] && c[k].mem <= a.v[NAP_RES_MEMORY];
		if (!any)
			continue;
		for (w = 0; w < 3; w++) {
			printf(" %s%zu:", row[w], t);
			for (k = 0; k < nc; k++)
				if (c[k].cpu <= a.v[NAP_RES_CPU] && c[k].mem <= a.v[NAP_RES_MEMORY])
					printf(" + %.9g a%zu_%zu",
					    w == 0 ? (double)c[k].cpu / 1000.0
						   : w == 1 ? (double)c[k].mem / (1024.0 * 1024 * 1024) : 1.0,
					    k, t);
			printf(" - %.9g x%zu <= 0\n",
			    w == 0 ? (double)a.v[NAP_RES_CPU] / 1000.0
				   : w == 1 ? (double)a.v[NAP_RES_MEMORY] / (1024.0 * 1024 * 1024)
					    : (double)a.v[NAP_RES_PODS],
			    t);
		}
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
	struct nap_err err;
	struct nap_itype_opts o;
	double b[3], *T, *z;
	size_t n = 0, i, j, cols, t;
	int it;

	if (argc == 4 && strcmp(argv[1], "--fit") == 0)
		return fit_lp(argv[2], argv[3]);
	if (argc != 6) {
		fprintf(stderr, "usage: lp-bound CATALOG REGION CPU_MILLI MEMORY_BYTES PODS\n");
		return 64;
	}
	if (nap_catalog_load(&cat, argv[1], argv[2], NULL, &err) < 0) {
		fprintf(stderr, "lp-bound: %s\n", err.msg);
		return err.code;
	}
	b[0] = strtod(argv[3], NULL) / 1000.0;			/* cores */
	b[1] = strtod(argv[4], NULL) / (1024.0 * 1024 * 1024);	/* GiB */
	b[2] = strtod(argv[5], NULL);
	memset(&o, 0, sizeof(o));
	cols = 3 + cat->ntypes + 1;
	T = calloc(cat->ntypes * cols + 1, sizeof(double));
	z = calloc(cols, sizeof(double));
	if (!T || !z)
		return 70;
	for (t = 0; t < cat->ntypes; t++) {
		const struct nap_itype *ty = &cat->types[t];
		struct nap_res a;
		double price = -1;

		for (j = 0; j < ty->noff; j++)
			if (!ty->off[j].spot && ty->off[j].available &&
			    (price < 0 || ty->off[j].price < price))
				price = ty->off[j].price;
		nap_itype_allocatable(ty, &o, &a);
		if (price <= 0 || a.v[NAP_RES_CPU] <= 0 || a.v[NAP_RES_MEMORY] <= 0)
			continue;
		T[n * cols + 0] = (double)a.v[NAP_RES_CPU] / 1000.0;
		T[n * cols + 1] = (double)a.v[NAP_RES_MEMORY] / (1024.0 * 1024 * 1024);
		T[n * cols + 2] = (double)a.v[NAP_RES_PODS];
		T[n * cols + 3 + n] = 1;
		T[n * cols + cols - 1] = price;
		n++;
	}
	for (j = 0; j < 3; j++)
		z[j] = -b[j];
	for (it = 0; it < 1000; it++) {
		size_t e = cols, r = n;
		double best = -1e-12, ratio = 0;

		for (j = 0; j + 1 < cols; j++)
			if (z[j] < best) {
				best = z[j];
				e = j;
			}
		if (e == cols)
			break;
		for (i = 0; i < n; i++) {
			double a = T[i * cols + e];

			if (a > 1e-12 && (r == n || T[i * cols + cols - 1] / a < ratio)) {
				ratio = T[i * cols + cols - 1] / a;
				r = i;
			}
		}
		if (r == n)
			break;
		{
			double pv = T[r * cols + e];

			for (j = 0; j < cols; j++)
				T[r * cols + j] /= pv;
			for (i = 0; i < n; i++) {
				double f = T[i * cols + e];

				if (i == r || f == 0)
					continue;
				for (j = 0; j < cols; j++)
					T[i * cols + j] -= f * T[r * cols + j];
			}
			pv = z[e];
			for (j = 0; j < cols; j++)
				z[j] -= pv * T[r * cols + j];
		}
	}
	printf("%.4f\n", z[cols - 1]);
	/* LP_VERBOSE: the primal solution, the sizes the bound buys (to stderr) */
	if (getenv("LP_VERBOSE"))
		for (t = 0, i = 0; t < cat->ntypes && i < n; t++) {
			const struct nap_itype *ty = &cat->types[t];
			struct nap_res a;
			int usable = 0;

			for (j = 0; j < ty->noff; j++)
				usable |= !ty->off[j].spot && ty->off[j].available && ty->off[j].price > 0;
			nap_itype_allocatable(ty, &o, &a);
			if (!usable || a.v[NAP_RES_CPU] <= 0 || a.v[NAP_RES_MEMORY] <= 0)
				continue;
			if (z[3 + i] > 1e-9)
				fprintf(stderr, "%s x %.2f\n", ty->name, z[3 + i]);
			i++;
		}
	free(T);
	free(z);
	nap_catalog_free(cat);
	return 0;
}
