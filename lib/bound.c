/*
 * bound.c - the aggregate and whole-pod cost bounds (bound.h), over one
 * dense simplex for "maximise c.v subject to A v <= b, v >= 0" with b >= 0,
 * where the origin is feasible and no first phase is needed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bound.h"

#define EPS 1e-9
#define GIB (1024.0 * 1024 * 1024)
#define MASTER_ITERATIONS 500
#define CUTS_PER_ROUND 8

/*
 * max c.v subject to A v <= b, v >= 0 (A is m x n, row-major; b >= 0).
 * 0 with *val, v (n values) and dual (m values: each row's shadow price),
 * either may be NULL; 1 when unbounded; -1 when the pivot limit is reached.
 * Dantzig's rule, and Bland's after a run of degenerate pivots, so that it
 * cannot cycle.
 */
int
nap_bound_simplex(size_t m, size_t n, const double *A, const double *b, const double *c,
    double *val, double *v, double *dual)
{
	size_t cols = n + m + 1, i, j, *basis, it, limit = 50 * (m + n) + 1000;
	double *T = nap_xcalloc(m * cols, sizeof(double)), *z = nap_xcalloc(cols, sizeof(double));
	int rc = -1, stalled = 0;

	basis = nap_xcalloc(m ? m : 1, sizeof(size_t));
	for (i = 0; i < m; i++) {
		memcpy(&T[i * cols], &A[i * n], n * sizeof(double));
		T[i * cols + n + i] = 1;
		T[i * cols + cols - 1] = b[i];
		basis[i] = n + i;
	}
	for (j = 0; j < n; j++)
		z[j] = -c[j];
	for (it = 0; it < limit; it++) {
		size_t e = cols, r = m;
		double ratio = 0, pv, f;

		for (j = 0; j + 1 < cols; j++) {
			if (z[j] >= -EPS)
				continue;
			if (e == cols || (stalled < 50 && z[j] < z[e]))
				e = j;
			if (stalled >= 50)
				break; /* Bland: the first improving column */
		}
		if (e == cols) {
			rc = 0;
			break;
		}
		for (i = 0; i < m; i++) {
			double a = T[i * cols + e], q;

			if (a <= EPS)
				continue;
			q = T[i * cols + cols - 1] / a;
			if (r == m || q < ratio - EPS ||
			    (q <= ratio + EPS && basis[i] < basis[r])) {
				ratio = q;
				r = i;
			}
		}
		if (r == m) {
			rc = 1;
			break;
		}
		stalled = ratio <= EPS ? stalled + 1 : 0;
		pv = T[r * cols + e];
		for (j = 0; j < cols; j++)
			T[r * cols + j] /= pv;
		for (i = 0; i < m; i++) {
			if (i == r || (f = T[i * cols + e]) == 0)
				continue;
			for (j = 0; j < cols; j++)
				T[i * cols + j] -= f * T[r * cols + j];
		}
		f = z[e];
		for (j = 0; j < cols; j++)
			z[j] -= f * T[r * cols + j];
		basis[r] = e;
	}
	if (rc == 0) {
		*val = z[cols - 1];
		if (v) {
			memset(v, 0, n * sizeof(double));
			for (i = 0; i < m; i++)
				if (basis[i] < n)
					v[basis[i]] = T[i * cols + cols - 1];
		}
		if (dual)
			for (i = 0; i < m; i++)
				dual[i] = z[n + i];
	}
	free(T);
	free(z);
	free(basis);
	return rc;
}

static int
cmp_class(const void *a, const void *b)
{
	const struct nap_bound_class *x = a, *y = b;

	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	if (x->mem != y->mem)
		return x->mem < y->mem ? -1 : 1;
	if (x->gpu != y->gpu)
		return x->gpu < y->gpu ? -1 : 1;
	return (x->allow > y->allow) - (x->allow < y->allow);
}

size_t
nap_bound_classes_merge(struct nap_bound_class *k, size_t n)
{
	size_t i, m = 0;

	if (n)
		qsort(k, n, sizeof(*k), cmp_class);
	for (i = 0; i < n; i++) {
		if (m && cmp_class(&k[m - 1], &k[i]) == 0) {
			k[m - 1].n += k[i].n;
			continue;
		}
		k[m++] = k[i];
	}
	return m;
}

size_t
nap_bound_catalog_types(const struct nap_catalog *c, const struct nap_itype_opts *o,
    unsigned captypes, struct nap_bound_type **out)
{
	struct nap_itype_opts def;
	size_t i, j, n = 0;

	if (!o) {
		memset(&def, 0, sizeof(def));
		o = &def;
	}
	*out = nap_xcalloc(2 * c->ntypes + 1, sizeof(**out));
	for (i = 0; i < c->ntypes; i++) {
		const struct nap_itype *ty = &c->types[i];
		unsigned ct;
		struct nap_res a;

		nap_itype_allocatable(ty, o, &a);
		if (a.v[NAP_RES_CPU] <= 0 || a.v[NAP_RES_MEMORY] <= 0 || a.v[NAP_RES_PODS] <= 0)
			continue;
		for (ct = NAP_BOUND_ON_DEMAND; ct <= NAP_BOUND_SPOT; ct <<= 1) {
			double price = -1;

			if (!(captypes & ct))
				continue;
			for (j = 0; j < ty->noff; j++) {
				const struct nap_offering *of = &ty->off[j];

				if (!of->available || of->price <= 0 ||
				    of->price >= NAP_CATALOG_MISSING_PRICE)
					continue;
				if ((of->spot ? NAP_BOUND_SPOT : NAP_BOUND_ON_DEMAND) != ct)
					continue;
				if (price < 0 || of->price < price)
					price = of->price;
			}
			if (price <= 0)
				continue;
			(*out)[n].name = ty->name;
			(*out)[n].price = price;
			(*out)[n].cpu = (double)a.v[NAP_RES_CPU] / 1000.0;
			(*out)[n].mem = (double)a.v[NAP_RES_MEMORY] / GIB;
			(*out)[n].pods = (double)a.v[NAP_RES_PODS];
			(*out)[n].gpu = (double)(a.v[NAP_RES_NVIDIA_GPU] + a.v[NAP_RES_AMD_GPU]);
			(*out)[n].captype = ct;
			n++;
		}
	}
	return n;
}

int
nap_bound_aggregate(const struct nap_bound_type *t, size_t nt, double cpu, double mem, double pods,
    double *usd, struct nap_err *err)
{
	/* the dual: prices per core, GiB and pod that no type's node exceeds */
	double *A = nap_xcalloc(3 * (nt ? nt : 1), sizeof(double));
	double *b = nap_xcalloc(nt ? nt : 1, sizeof(double)), c[3] = {cpu, mem, pods};
	size_t i;
	int rc;

	for (i = 0; i < nt; i++) {
		A[3 * i] = t[i].cpu;
		A[3 * i + 1] = t[i].mem;
		A[3 * i + 2] = t[i].pods;
		b[i] = t[i].price;
	}
	rc = nap_bound_simplex(nt, 3, A, b, c, usd, NULL, NULL);
	free(A);
	free(b);
	if (rc != 0)
		return nap_err_set(err, NAP_EX_SOFTWARE, "aggregate bound: the simplex %s",
		    rc > 0 ? "found no bound (no instance type?)" : "did not converge");
	return 0;
}

static int
fits(const struct nap_bound_type *t, const struct nap_bound_class *k)
{
	if (k->allow && t->captype && !(k->allow & t->captype))
		return 0;
	return k->cpu <= t->cpu + EPS && k->mem <= t->mem + EPS && k->gpu <= t->gpu + EPS;
}

int
nap_bound_aggregate_classes(const struct nap_bound_type *t, size_t nt,
    const struct nap_bound_class *k, size_t nk, double *usd, struct nap_err *err)
{
	double cpu = 0, mem = 0, pods = 0;
	size_t i, j;

	for (j = 0; j < nk; j++) {
		for (i = 0; i < nt && !fits(&t[i], &k[j]); i++)
			;
		if (i == nt)
			continue;
		cpu += k[j].cpu * k[j].n;
		mem += k[j].mem * k[j].n;
		pods += k[j].n;
	}
	return nap_bound_aggregate(t, nt, cpu, mem, pods, usd, err);
}

/*
 * The most a single node of type t holds at prices y: max y.mu over the
 * fillings mu of the classes that fit t.  The filling goes to mu.
 */
static int
best_filling(const struct nap_bound_type *t, const struct nap_bound_class *k, size_t nk,
    const double *y, double *mu, double *value)
{
	double *A = nap_xcalloc(4 * nk, sizeof(double)), b[4] = {t->cpu, t->mem, t->pods, t->gpu};
	double *c = nap_xcalloc(nk, sizeof(double));
	size_t j;
	int rc;

	for (j = 0; j < nk; j++) {
		if (!fits(t, &k[j]))
			continue; /* all zero: no room is taken, and no value given */
		A[j] = k[j].cpu;
		A[nk + j] = k[j].mem;
		A[2 * nk + j] = 1;
		A[3 * nk + j] = k[j].gpu;
		c[j] = y[j];
	}
	rc = nap_bound_simplex(4, nk, A, b, c, value, mu, NULL);
	free(A);
	free(c);
	return rc;
}

int
nap_bound_whole(const struct nap_bound_type *t, size_t nt, const struct nap_bound_class *k,
    size_t nk, double *usd, double *unplaced, unsigned *flags, struct nap_err *err)
{
	struct nap_bound_class *kk = nap_xcalloc(nk ? nk : 1, sizeof(*kk));
	struct lone {
		size_t cls;
		double per;
	} *lone = NULL;
	double *A = NULL, *b = NULL, *y, *mu, *ratio, *obj, val = 0, best = 0;
	size_t nkk = 0, rows = 0, arows = 0, i, j, round;
	int rc = 0;

	if (unplaced)
		*unplaced = 0;
	if (flags)
		*flags = 0;
	/* classes no type fits are left out; each other one gets its cheapest lone filling */
	for (j = 0; j < nk; j++) {
		size_t bt = nt;
		double bc = 0, bper = 0;

		if (k[j].n <= 0)
			continue;
		for (i = 0; i < nt; i++) {
			double per;

			if (!fits(&t[i], &k[j]))
				continue;
			per = fmin(t[i].cpu / fmax(k[j].cpu, EPS),
			    fmin(t[i].mem / fmax(k[j].mem, EPS), t[i].pods));
			if (k[j].gpu > 0)
				per = fmin(per, t[i].gpu / k[j].gpu);
			if (bt == nt || t[i].price / per < bc) {
				bt = i;
				bc = t[i].price / per;
				bper = per;
			}
		}
		if (bt == nt) {
			if (unplaced)
				*unplaced += k[j].n;
			continue;
		}
		kk[nkk++] = k[j];
		/* the first cut: a node of that type full of this class alone (bounds its price) */
		nap_xgrow(&A, &arows, rows + 1, nk * sizeof(double));
		b = nap_xrealloc(b, arows * sizeof(double));
		b[rows++] = t[bt].price;
		lone = nap_xrealloc(lone, rows * sizeof(*lone));
		lone[rows - 1] = (struct lone){nkk - 1, bper};
	}
	*usd = 0;
	if (!nkk) {
		free(kk);
		free(A);
		free(b);
		free(lone);
		return 0;
	}
	/* the rows were sized for nk columns; lay the lone cuts out for nkk */
	for (i = 0; i < rows; i++) {
		memset(&A[i * nkk], 0, nkk * sizeof(double));
		A[i * nkk + lone[i].cls] = lone[i].per;
	}
	free(lone);
	y = nap_xcalloc(nkk, sizeof(double));
	mu = nap_xcalloc(nkk, sizeof(double));
	obj = nap_xcalloc(nkk, sizeof(double));
	ratio = nap_xcalloc(nt ? nt : 1, sizeof(double));
	for (j = 0; j < nkk; j++)
		obj[j] = kk[j].n;
	for (round = 0; round < MASTER_ITERATIONS; round++) {
		double worst = 1;
		size_t added = 0;

		if ((rc = nap_bound_simplex(rows, nkk, A, b, obj, &val, y, NULL)) != 0)
			break;
		for (i = 0; i < nt && rc == 0; i++) {
			double v = 0;

			rc = best_filling(&t[i], kk, nkk, y, mu, &v);
			ratio[i] = v / t[i].price;
			if (ratio[i] > worst)
				worst = ratio[i];
		}
		if (rc != 0)
			break;
		/* prices scaled so that no node is worth more than it costs: a bound */
		if (val / worst > best)
			best = val / worst;
		if (worst <= 1 + 1e-9)
			break;
		/* the most violated fillings become cuts */
		while (added < CUTS_PER_ROUND) {
			size_t w = nt;
			double v;

			for (i = 0; i < nt; i++)
				if (ratio[i] > 1 + 1e-9 && (w == nt || ratio[i] > ratio[w]))
					w = i;
			if (w == nt)
				break;
			ratio[w] = 0;
			best_filling(&t[w], kk, nkk, y, mu, &v);
			nap_xgrow(&A, &arows, rows + 1, nkk * sizeof(double));
			b = nap_xrealloc(b, arows * sizeof(double));
			memcpy(&A[rows * nkk], mu, nkk * sizeof(double));
			b[rows++] = t[w].price;
			added++;
		}
	}
	if (round == MASTER_ITERATIONS && flags)
		*flags |= NAP_BOUND_INEXACT;
	free(kk);
	free(y);
	free(mu);
	free(obj);
	free(ratio);
	free(A);
	free(b);
	if (rc != 0)
		return nap_err_set(err, NAP_EX_SOFTWARE, "whole-pod bound: the simplex %s",
		    rc > 0 ? "found no bound" : "did not converge");
	*usd = best;
	return 0;
}
