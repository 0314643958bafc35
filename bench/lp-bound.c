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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

int
main(int argc, char **argv)
{
	struct nap_catalog *cat;
	struct nap_err err;
	struct nap_itype_opts o;
	double b[3], *T, *z;
	size_t n = 0, i, j, cols, t;
	int it;

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
