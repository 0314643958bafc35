/*
 * sched-plan.c - nap's tier plan (NAP_SCHED_PACK_TARGET, see sched.h).
 *
 * Per NodePool, from the batch's request shapes and the world's
 * capacities and prices: at most NAP_SCHED_TIERS sizes that new claims
 * fill, and for a request the tier it belongs to.  Pure: reads the world,
 * writes only the world's tiers; a run under Karpenter's packing never asks.
 */
#include "sched-int.h"

#include "bound.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Is pod in the plan?  Not when it can never schedule, nor when a required
 * hostname pod-affinity term of its own selects it: such a group must share
 * one node, which a claim capped at its tier's size may be too small to
 * hold, so it grows freely, as in Karpenter.  (A group bound to one zone
 * fills as many capped claims in that zone as it needs.)
 */
int
sched_pod_planned(const struct nap_sched_pod *pod)
{
	size_t i, j;

	if (pod->never)
		return 0;
	for (i = 0; i < pod->ntopo; i++) {
		const struct nap_sched_topo *t = &pod->topo[i];
		int ns_ok = t->all_namespaces || t->nnamespaces == 0;

		if (t->kind != NAP_SCHED_AFFINITY || !t->required || !t->sel ||
		    strcmp(t->key, HOST_KEY) != 0)
			continue;
		for (j = 0; j < t->nnamespaces && !ns_ok; j++)
			ns_ok = strcmp(t->namespaces[j], pod->ns ? pod->ns : "") == 0;
		if (ns_ok && nap_selector_matches(t->sel, pod->labels))
			return 0;
	}
	return 1;
}

/*
 * A pod the pattern plan packs: no constraint that ties it to other pods,
 * ports or sizes (topology, affinity, host ports, node affinity, a
 * volume's zone, volumes counted against attach limits, nodes to avoid),
 * no GPU.  The others keep the tiers by size.
 */
int
sched_pod_simple(const struct nap_sched_pod *pod)
{
	return !pod->never && pod->ntopo == 0 && pod->nports == 0 && pod->nterms == 0 &&
	    pod->nprefs == 0 && !pod->volume && pod->nvols == 0 && pod->navoid == 0 &&
	    pod->req.v[NAP_RES_NVIDIA_GPU] == 0 && pod->req.v[NAP_RES_AMD_GPU] == 0;
}

/*
 * The group (its constraint's sig) of a pod that keeps apart from others
 * by node, a required hostname anti-affinity or spread; NULL: none.
 */
static const char *
plan_apart_sig(const struct nap_sched_pod *pod)
{
	size_t i;

	for (i = 0; i < pod->ntopo; i++)
		if (pod->topo[i].required && pod->topo[i].sig &&
		    strcmp(pod->topo[i].key, HOST_KEY) == 0 &&
		    (pod->topo[i].kind == NAP_SCHED_ANTI || pod->topo[i].kind == NAP_SCHED_SPREAD))
			return pod->topo[i].sig;
	return NULL;
}

int
sched_pod_apart(const struct nap_sched_pod *pod)
{
	return plan_apart_sig(pod) != NULL;
}

#define PLAN_REST_TIERS 4 /* tiers by size after the pattern tiers */
#define PLAN_ROW_TRIES 3  /* plans under a node row, each with less room */

/* A request shape of the batch and how many pods have it. */
struct shape {
	struct nap_res req;
	double n;
	long disks; /* NAP_SCHED_DISK_DRIVER volumes a pod attaches */
};

static int
cmp_res(const void *x, const void *y)
{
	const struct nap_res *a = x, *b = y;
	int r;

	for (r = 0; r < NAP_RES_N; r++)
		if (a->v[r] != b->v[r])
			return a->v[r] < b->v[r] ? -1 : 1;
	return 0;
}

static int
cmp_shape(const void *x, const void *y)
{
	const struct shape *a = x, *b = y;
	int c = cmp_res(&a->req, &b->req);

	return c ? c : (a->disks > b->disks) - (a->disks < b->disks);
}

/* The shapes of n pods (sorted in place, one each), each with its count; *nsh gets how many. */
static struct shape *
plan_shapes(struct shape *pods, size_t n, size_t *nsh)
{
	struct shape *sh = nap_xcalloc(n + 1, sizeof(*sh));
	size_t i;

	qsort(pods, n, sizeof(*pods), cmp_shape);
	*nsh = 0;
	for (i = 0; i < n; i++) {
		if (*nsh && cmp_shape(&sh[*nsh - 1], &pods[i]) == 0) {
			sh[*nsh - 1].n++;
			continue;
		}
		sh[(*nsh)++] = pods[i];
	}
	return sh;
}

/* A pod's NAP_SCHED_DISK_DRIVER volumes; shared ones count for each pod. */
static long
plan_disks(const struct nap_sched_pod *pod)
{
	long k = 0;
	size_t i;

	for (i = 0; i < pod->nvols; i++)
		k += strcmp(pod->vols[i].driver, NAP_SCHED_DISK_DRIVER) == 0;
	return k;
}

/*
 * The dimensions a plan weighs.  GPUs are planned like CPU and memory: a
 * size without them cannot take a GPU pod's shape, and a batch of GPU pods
 * gets a tier of the size that covers them cheapest, instead of one claim
 * growing into the largest multi-GPU size.
 */
static const int plan_rs[] = {
    NAP_RES_CPU, NAP_RES_MEMORY, NAP_RES_PODS, NAP_RES_NVIDIA_GPU, NAP_RES_AMD_GPU};
#define PLAN_NRS (sizeof(plan_rs) / sizeof(plan_rs[0]))
#define PLAN_WHOLE(j) (plan_rs[j] == NAP_RES_NVIDIA_GPU || plan_rs[j] == NAP_RES_AMD_GPU)
/* and, after them, data disks: a size attaches max_disks (0: no known limit) */
#define PLAN_DISKS PLAN_NRS
#define PLAN_ND (PLAN_NRS + 1)

/*
 * What covering demand d (the sum of a set's requests, m its largest
 * request per dimension) with size k costs as a fraction of whole nodes:
 * price x the most nodes any dimension needs, each node's capacity less
 * half the set's mean request (what first-fit leaves unused on average).
 * Negative when the size cannot take the set's largest request.  Data
 * disks count like devices, against the size's attach limit when known.
 */
static double
plan_cover(const struct nap_sched_world *w, size_t k, const double *d, const double *m, double n,
    double lam)
{
	double need = 0;
	size_t j;

	if (n <= 0)
		return 0;
	for (j = 0; j < PLAN_ND; j++) {
		double c = j == PLAN_DISKS ? (double)w->in->types[k % w->in->ntypes].max_disks
					   : (double)w->cap[k].v[plan_rs[j]];
		double eff;

		if (j == PLAN_DISKS && c <= 0)
			continue; /* no known attach limit */
		if (m[j] > c)
			return -1;
		if (d[j] <= 0)
			continue;
		/*
		 * Devices come whole: a node holds as many pods of the mean
		 * request as fit in full, not half a pod less.
		 */
		if (j == PLAN_DISKS || PLAN_WHOLE(j))
			eff = floor(c / (d[j] / n)) * (d[j] / n);
		else
			eff = c - 0.5 * d[j] / n;
		if (eff <= 0)
			return -1;
		if (d[j] / eff > need)
			need = d[j] / eff;
	}
	/* under a binding node ceiling, a size too small for the density is out */
	if (w->plan_density > 0 && need * w->plan_density > n)
		return -1;
	if (lam > 0)
		need = ceil(need - 1e-9);
	return (w->tprice[k] + lam) * need;
}

/* Sum and maximum of the shapes in live[] (nonzero entries), n pods. */
static double
plan_sum(const struct shape *sh, size_t nsh, const unsigned char *live, double *d, double *m)
{
	double n = 0;
	size_t i, j;

	for (j = 0; j < PLAN_ND; j++)
		d[j] = m[j] = 0;
	for (i = 0; i < nsh; i++) {
		if (!live[i])
			continue;
		n += sh[i].n;
		for (j = 0; j < PLAN_ND; j++) {
			double v =
			    j == PLAN_DISKS ? (double)sh[i].disks : (double)sh[i].req.v[plan_rs[j]];

			d[j] += v * sh[i].n;
			if (v > m[j])
				m[j] = v;
		}
	}
	return n;
}

/* Does a usable size of pool p attach disks (or have no known limit)? */
static int
plan_disks_fit(const struct nap_sched_world *w, size_t p, long disks)
{
	const struct nap_sched_input *in = w->in;
	size_t t;

	for (t = 0; disks > 0 && t < in->ntypes; t++)
		if (w->usable[p * in->ntypes + t] &&
		    (in->types[t].max_disks <= 0 || in->types[t].max_disks >= disks))
			return 1;
	return disks <= 0;
}

/* The usable size of pool p covering (d, m) cheapest; NPOS when none can. */
static size_t
plan_single(const struct nap_sched_world *w, size_t p, const double *d, const double *m, double n,
    double lam, double *cost)
{
	const struct nap_sched_input *in = w->in;
	size_t t, best = NAP_SCHED_NPOS;

	for (t = 0; t < in->ntypes; t++) {
		size_t k = p * in->ntypes + t;
		double c;

		if (!w->usable[k] || w->tprice[k] <= 0)
			continue;
		c = plan_cover(w, k, d, m, n, lam);
		if (c < 0)
			continue;
		if (best == NAP_SCHED_NPOS || c < *cost ||
		    (c == *cost && w->tprice[k] < w->tprice[p * in->ntypes + best])) {
			*cost = c;
			best = t;
		}
	}
	return best;
}

/*
 * Per pool, the tiers new claims fill (at most NAP_SCHED_TIERS sizes): the
 * batch's request shapes are peeled greedily.  At each step, for every
 * usable size s, the shapes that fit s go to s and the rest to the single
 * size covering them cheapest; the split that costs least wins if it beats
 * covering every remaining shape with one size by more than 2 %.  A pod's
 * tier is then the first tier whose size it fits, and a claim takes only
 * pods of its own tier, up to that size: small pods fill small cheap nodes
 * and large ones large nodes, as the fractional optimum does, instead of
 * every claim growing into the largest (premium) sizes.
 */
/*
 * Pool p's tiers for the shapes sh (live and fit are scratch, nsh each);
 * returns the nodes they come to (each pod in the first tier it fits, as
 * plan_cover counts them); *cost gets their price, each tier's nodes
 * rounded up (nodes come whole).
 */
static double
plan_pool(struct nap_sched_world *w, size_t p, const struct shape *sh, size_t nsh, double lam,
    unsigned char *live, unsigned char *fit, double *cost)
{
	const struct nap_sched_input *in = w->in;
	double d[PLAN_ND], m[PLAN_ND], cnt, single = 0, nodes = 0;
	size_t i, t, base = p * in->ntypes, last;

	w->ntiers[p] = w->tier0[p];
	/* shapes no usable size takes are not planned for */
	for (i = 0; i < nsh; i++)
		live[i] = sh[i].n > 0 && nap_res_fits(&sh[i].req, &w->pool_max[p]) &&
		    plan_disks_fit(w, p, sh[i].disks);
	cnt = plan_sum(sh, nsh, live, d, m);
	if (cnt <= 0)
		return 0;
	last = plan_single(w, p, d, m, cnt, lam, &single);
	while (last != NAP_SCHED_NPOS && w->ntiers[p] + 1 < w->tier0[p] + PLAN_REST_TIERS) {
		double best = single * 0.98, bfc = 0;
		size_t bs = NAP_SCHED_NPOS;

		for (t = 0; t < in->ntypes; t++) {
			size_t k = base + t, rest;
			double fd[PLAN_ND], fm[PLAN_ND], rd[PLAN_ND], rm[PLAN_ND];
			double fc, rc = 0, c, fn, rn;
			int some = 0, all = 1;

			if (!w->usable[k] || w->tprice[k] <= 0)
				continue;
			for (i = 0; i < nsh; i++) {
				fit[i] = 0;
				if (!live[i])
					continue;
				fit[i] = nap_res_fits(&sh[i].req, &w->cap[k]);
				some |= fit[i];
				all &= fit[i];
			}
			if (!some || all)
				continue;
			fn = plan_sum(sh, nsh, fit, fd, fm);
			fc = plan_cover(w, k, fd, fm, fn, lam);
			if (fc < 0 || fc >= best)
				continue;
			for (i = 0; i < nsh; i++)
				fit[i] = live[i] && !fit[i];
			rn = plan_sum(sh, nsh, fit, rd, rm);
			rest = plan_single(w, p, rd, rm, rn, lam, &rc);
			if (rest == NAP_SCHED_NPOS)
				continue;
			c = fc + rc;
			if (c < best) {
				best = c;
				bfc = fc;
				bs = t;
			}
		}
		if (bs == NAP_SCHED_NPOS)
			break;
		nodes += bfc / (w->tprice[base + bs] + lam);
		*cost += ceil(bfc / (w->tprice[base + bs] + lam) - 1e-9) * w->tprice[base + bs];
		w->tcap[p * NAP_SCHED_TIERS + w->ntiers[p]] = w->cap[base + bs];
		w->tiers[p * NAP_SCHED_TIERS + w->ntiers[p]++] = bs;
		for (i = 0; i < nsh; i++)
			if (live[i] && nap_res_fits(&sh[i].req, &w->cap[base + bs]))
				live[i] = 0;
		cnt = plan_sum(sh, nsh, live, d, m);
		last = plan_single(w, p, d, m, cnt, lam, &single);
	}
	if (last != NAP_SCHED_NPOS) {
		w->tcap[p * NAP_SCHED_TIERS + w->ntiers[p]] = w->cap[base + last];
		w->tiers[p * NAP_SCHED_TIERS + w->ntiers[p]++] = last;
		nodes += single / (w->tprice[base + last] + lam);
		*cost += ceil(single / (w->tprice[base + last] + lam) - 1e-9) * w->tprice[base + last];
	}
	return nodes;
}

/*
 * The pattern plan: the configuration LP over the batch's simple shapes
 * (Gilmore and Gomory).  A column is one packing of whole pods onto one
 * size; the master LP buys columns, in fractions, to cover every pod at
 * least cost, and each round prices the shapes by the master's duals and
 * asks every size for the packing worth most at those prices (a bounded
 * knapsack, searched depth first with a node budget).  When none is worth
 * more than its node, or the rounds run out, each column the LP buys
 * whole becomes a tier of its size with a quota per shape: the pods of
 * that quota fill claims of that size only, so first fit in FFD order
 * rebuilds the packing.  What the rounding leaves goes to the tiers by
 * size.  Shapes are few (pods are not), so this is cheap.
 */
#define PAT_SHAPES 64	 /* more distinct simple shapes: tiers by size only */
#define PAT_ROUNDS 40	 /* column generation rounds */
#define PAT_NEW 8	 /* columns a round adds at most */
#define PAT_NODES 200	 /* search nodes per size and round */
#define PAT_SIZES 256	 /* sizes searched at most (cheapest first) */
#define PAT_STRICT 8	 /* packings of more pods keep to their counts per claim */
#define PAT_KEEP 3	 /* master columns per shape before unused ones go */
#define PAT_LAMBDA 0.005 /* USD/h a node, the first multiplier under a node ceiling */
#define PAT_BISECT 4	 /* steps refining that multiplier */
#define PAT_PASSES 12	 /* solves for what rounding leaves */
#define PAT_OVER 20.0	 /* USD/h a node past the master's node row */

struct pat {
	const struct shape *sh; /* the simple shapes */
	size_t nsh;
	const struct nap_res *cap;
	double *y;   /* dual price per shape */
	size_t *ord; /* shapes the size takes, by value density */
	size_t nord;
	long *cnt, *best; /* per shape: the packing searched, the best one */
	double bestv;
	double *sufy, *sufc, *sufm; /* suffix max of y, y/cpu, y/mem over ord */
	long nodes;
};

static void
pat_dfs(struct pat *pt, size_t o, struct nap_res *rem, double v)
{
	size_t j, r;
	long k, most;
	double ub;

	if (v > pt->bestv) {
		pt->bestv = v;
		memcpy(pt->best, pt->cnt, pt->nsh * sizeof(*pt->best));
	}
	if (o == pt->nord || pt->nodes <= 0)
		return;
	pt->nodes--;
	ub = (double)rem->v[NAP_RES_PODS] * pt->sufy[o];
	if (pt->sufc[o] >= 0)
		ub = fmin(ub, (double)rem->v[NAP_RES_CPU] * pt->sufc[o]);
	if (pt->sufm[o] >= 0)
		ub = fmin(ub, (double)rem->v[NAP_RES_MEMORY] * pt->sufm[o]);
	if (v + ub <= pt->bestv * (1 + 1e-9))
		return;
	j = pt->ord[o];
	most = (long)pt->sh[j].n;
	for (r = 0; r < NAP_RES_N; r++)
		if (pt->sh[j].req.v[r] > 0 && rem->v[r] / pt->sh[j].req.v[r] < most)
			most = (long)(rem->v[r] / pt->sh[j].req.v[r]);
	for (k = most; k >= 0; k--) {
		for (r = 0; r < NAP_RES_N; r++)
			rem->v[r] -= k * pt->sh[j].req.v[r];
		pt->cnt[j] = k;
		pat_dfs(pt, o + 1, rem, v + (double)k * pt->y[j]);
		pt->cnt[j] = 0;
		for (r = 0; r < NAP_RES_N; r++)
			rem->v[r] += k * pt->sh[j].req.v[r];
		if (pt->nodes <= 0)
			break;
	}
}

/*
 * Where the search ran out of nodes (a large size, many pods a node): the
 * knapsack's LP relaxation, rounded down (a basic solution has at most one
 * fractional count per resource), then filled greedily by density; kept
 * if worth more than what the search found.
 */
static void
pat_lp(struct pat *pt, const struct nap_res *cap)
{
	size_t m = NAP_RES_N + pt->nord, n = pt->nord, i, r;
	double *A = nap_xcalloc(m * n, sizeof(double)), *b = nap_xcalloc(m, sizeof(double));
	double *c = nap_xcalloc(n, sizeof(double)), *v = nap_xcalloc(n, sizeof(double)), val,
	       got = 0;
	struct nap_res rem = *cap;

	for (r = 0; r < NAP_RES_N; r++) {
		/* scaled to the capacity, so that bytes and counts pivot alike */
		b[r] = cap->v[r] > 0 ? 1 : 0;
		for (i = 0; i < n; i++)
			A[r * n + i] = cap->v[r] > 0
			    ? (double)pt->sh[pt->ord[i]].req.v[r] / (double)cap->v[r]
			    : 0;
	}
	for (i = 0; i < n; i++) {
		A[(NAP_RES_N + i) * n + i] = 1;
		b[NAP_RES_N + i] = pt->sh[pt->ord[i]].n;
		c[i] = pt->y[pt->ord[i]];
	}
	if (n && nap_bound_simplex(m, n, A, b, c, &val, v, NULL) == 0) {
		memset(pt->cnt, 0, pt->nsh * sizeof(*pt->cnt));
		for (i = 0; i < n; i++) {
			size_t j = pt->ord[i];
			long k = (long)floor(v[i] + 1e-9);

			for (r = 0; r < NAP_RES_N; r++)
				if (pt->sh[j].req.v[r] > 0 && rem.v[r] / pt->sh[j].req.v[r] < k)
					k = (long)(rem.v[r] / pt->sh[j].req.v[r]);
			pt->cnt[j] = k;
			for (r = 0; r < NAP_RES_N; r++)
				rem.v[r] -= k * pt->sh[j].req.v[r];
		}
		/* the room rounding left, by density */
		for (i = 0; i < n; i++) {
			size_t j = pt->ord[i];
			long k = (long)pt->sh[j].n - pt->cnt[j];

			for (r = 0; r < NAP_RES_N; r++)
				if (pt->sh[j].req.v[r] > 0 && rem.v[r] / pt->sh[j].req.v[r] < k)
					k = (long)(rem.v[r] / pt->sh[j].req.v[r]);
			pt->cnt[j] += k;
			for (r = 0; r < NAP_RES_N; r++)
				rem.v[r] -= k * pt->sh[j].req.v[r];
			got += (double)pt->cnt[j] * pt->y[j];
		}
		if (got > pt->bestv) {
			pt->bestv = got;
			memcpy(pt->best, pt->cnt, pt->nsh * sizeof(*pt->best));
		}
		memset(pt->cnt, 0, pt->nsh * sizeof(*pt->cnt));
	}
	free(A);
	free(b);
	free(c);
	free(v);
}

/* The packing of size cap worth most at prices pt->y into pt->best; its worth. */
static double
pat_price(struct pat *pt, const struct nap_res *cap)
{
	struct nap_res rem = *cap, all;
	size_t i, j, r;
	double *key = nap_xcalloc(pt->nsh + 1, sizeof(double));

	pt->nord = 0;
	for (j = 0; j < pt->nsh; j++) {
		double share = 0;

		pt->best[j] = pt->cnt[j] = 0;
		if (pt->y[j] <= 0 || !nap_res_fits(&pt->sh[j].req, cap))
			continue;
		for (r = 0; r < NAP_RES_N; r++)
			if (cap->v[r] > 0)
				share = fmax(share, (double)pt->sh[j].req.v[r] / (double)cap->v[r]);
		key[j] = pt->y[j] / fmax(share, 1e-12);
		/* insertion by density, highest first; ties by shape order */
		for (i = pt->nord++; i > 0 && key[pt->ord[i - 1]] < key[j]; i--)
			pt->ord[i] = pt->ord[i - 1];
		pt->ord[i] = j;
	}
	for (i = pt->nord; i-- > 0;) {
		const struct nap_res *q = &pt->sh[pt->ord[i]].req;
		double y = pt->y[pt->ord[i]], nx = i + 1 < pt->nord ? pt->sufy[i + 1] : 0;
		double cx = i + 1 < pt->nord ? pt->sufc[i + 1] : 0;
		double mx = i + 1 < pt->nord ? pt->sufm[i + 1] : 0;

		pt->sufy[i] = fmax(y, nx);
		/* -1: some shape takes none of that resource, no bound from it */
		pt->sufc[i] =
		    q->v[NAP_RES_CPU] > 0 && cx >= 0 ? fmax(y / (double)q->v[NAP_RES_CPU], cx) : -1;
		pt->sufm[i] = q->v[NAP_RES_MEMORY] > 0 && mx >= 0
		    ? fmax(y / (double)q->v[NAP_RES_MEMORY], mx)
		    : -1;
	}
	free(key);
	/* every pod left fits one node: that is the packing */
	nap_res_zero(&all);
	pt->bestv = 0;
	for (i = 0; i < pt->nord; i++) {
		size_t q = pt->ord[i];

		for (r = 0; r < NAP_RES_N; r++)
			all.v[r] += (int64_t)pt->sh[q].n * pt->sh[q].req.v[r];
		pt->best[q] = (long)pt->sh[q].n;
		pt->bestv += pt->sh[q].n * pt->y[q];
	}
	if (nap_res_fits(&all, cap))
		return pt->bestv;
	memset(pt->best, 0, pt->nsh * sizeof(*pt->best));
	pt->bestv = 0;
	pt->nodes = PAT_NODES;
	pat_dfs(pt, 0, &rem, 0);
	if (pt->nodes <= 0)
		pat_lp(pt, cap);
	return pt->bestv;
}

static int
cmp_quota(const void *x, const void *y)
{
	const struct sched_quota *a = x, *b = y;
	int c = cmp_res(&a->req, &b->req);

	return c ? c : (a->tier > b->tier) - (a->tier < b->tier);
}

/*
 * Up to copies nodes of size t of pool p packed as a (per shape), as many
 * as the shapes' counts allow: a new tier, its quotas, the counts taken.
 * Returns the nodes.
 */
static long
pat_tier(struct nap_sched_world *w, size_t p, struct shape *sh, size_t nsh, const long *a,
    long copies, size_t t)
{
	struct nap_res sum, *cap;
	size_t j, r;

	for (j = 0; j < nsh; j++)
		if (a[j] > 0 && (long)sh[j].n / a[j] < copies)
			copies = (long)sh[j].n / a[j];
	if (copies <= 0 || w->ntiers[p] + PLAN_REST_TIERS >= NAP_SCHED_TIERS)
		return 0;
	for (j = 0; j < nsh; j++) {
		struct sched_quota *q;

		if (a[j] == 0)
			continue;
		w->quota[p] = nap_xrealloc(w->quota[p], (w->nquota[p] + 1) * sizeof(*w->quota[p]));
		q = &w->quota[p][w->nquota[p]++];
		q->req = sh[j].req;
		q->tier = w->ntiers[p];
		q->n = copies * a[j];
		q->per = a[j];
		sh[j].n -= (double)(copies * a[j]);
	}
	/*
	 * A claim of the tier holds no more CPU, memory and pods than the
	 * packing: first fit in FFD order could otherwise crowd the first
	 * claims with the largest pods and leave the rest no room.
	 */
	cap = &w->tcap[p * NAP_SCHED_TIERS + w->ntiers[p]];
	*cap = w->cap[p * w->in->ntypes + t];
	nap_res_zero(&sum);
	for (j = 0; j < nsh; j++)
		for (r = 0; r < NAP_RES_N; r++)
			sum.v[r] += a[j] * sh[j].req.v[r];
	for (r = NAP_RES_CPU; r <= NAP_RES_PODS; r++)
		if (sum.v[r] < cap->v[r])
			cap->v[r] = sum.v[r];
	/*
	 * Nor, on a large packing, more pods of a request than it has: in
	 * decreasing order the first claims would take every large pod.  (A
	 * small packing, few pods a node, first fit rebuilds unaided, and
	 * claims by the thousand need no per-claim count.)
	 */
	w->tstrict[p * NAP_SCHED_TIERS + w->ntiers[p]] = sum.v[NAP_RES_PODS] > PAT_STRICT;
	w->tiers[p * NAP_SCHED_TIERS + w->ntiers[p]++] = t;
	return copies;
}

/*
 * Pool p's pattern tiers for the simple shapes sh (counts in sh[].n; what
 * the tiers take is subtracted), each node priced lam more than its size
 * (a Lagrange multiplier on the node count).  With room >= 0 the master
 * has a row more: its columns come to at most room nodes (less those
 * earlier passes made), each node past it at PAT_OVER, so the LP mixes
 * dense and cheap packings to meet a node ceiling exactly; the row's
 * shadow price adds to lam when the sizes are searched, and the largest
 * goes to *mup.  Returns the nodes they come to, their price (without
 * lam) added to *cost.
 */
static double
plan_patterns(struct nap_sched_world *w, size_t p, struct shape *sh, size_t nsh, double lam,
    double room, double *mup, double *cost)
{
	const struct nap_sched_input *in = w->in;
	size_t base = p * in->ntypes, *sz, nsz = 0, t, u, j, c, ncol = 0, acol = 0, round, pass;
	size_t *csize = NULL, *order;

	long *ca = NULL, *keep;
	double *A = NULL, *b = NULL, *obj, *x = NULL, val, nodes = 0, mu = 0;
	struct pat pt;
	int ok = 1, row = room >= 0;
	size_t nv = nsh + (size_t)row; /* the master's variables: a price per shape, mu */

	if (nsh == 0 || nsh > PAT_SHAPES)
		return 0;
	/* sizes no other beats on price and every resource at once, cheapest first */
	sz = nap_xcalloc(in->ntypes + 1, sizeof(*sz));
	for (t = 0; t < in->ntypes; t++) {
		size_t k = base + t;
		int dom = 0;

		if (!w->usable[k] || w->tprice[k] <= 0)
			continue;
		for (u = 0; u < in->ntypes && !dom; u++) {
			size_t l = base + u;

			if (u == t || !w->usable[l] || w->tprice[l] <= 0 ||
			    w->tprice[l] > w->tprice[k] || !nap_res_fits(&w->cap[k], &w->cap[l]))
				continue;
			/* equal on all: the first one stays */
			dom = w->tprice[l] < w->tprice[k] || cmp_res(&w->cap[k], &w->cap[l]) != 0 ||
			    u < t;
		}
		if (!dom)
			sz[nsz++] = k;
	}
	for (t = 1; t < nsz; t++)
		for (u = t; u > 0 && w->tprice[sz[u - 1]] > w->tprice[sz[u]]; u--) {
			size_t q = sz[u];

			sz[u] = sz[u - 1];
			sz[u - 1] = q;
		}
	if (nsz > PAT_SIZES)
		nsz = PAT_SIZES;
	memset(&pt, 0, sizeof(pt));
	pt.sh = sh;
	pt.nsh = nsh;
	pt.y = nap_xcalloc(nv, sizeof(double));
	pt.ord = nap_xcalloc(nsh, sizeof(size_t));
	pt.cnt = nap_xcalloc(nsh, sizeof(long));
	pt.best = nap_xcalloc(nsh, sizeof(long));
	pt.sufy = nap_xcalloc(nsh, sizeof(double));
	pt.sufc = nap_xcalloc(nsh, sizeof(double));
	pt.sufm = nap_xcalloc(nsh, sizeof(double));
	obj = nap_xcalloc(nv, sizeof(double));
	/* the first columns: each shape alone on the size that holds it cheapest */
	for (j = 0; j < nsh && ok; j++) {
		size_t bk = NAP_SCHED_NPOS;
		long bn = 0;

		obj[j] = sh[j].n;
		for (t = 0; t < nsz; t++) {
			long most = (long)sh[j].n;
			size_t r;

			for (r = 0; r < NAP_RES_N; r++)
				if (sh[j].req.v[r] > 0 &&
				    w->cap[sz[t]].v[r] / sh[j].req.v[r] < most)
					most = (long)(w->cap[sz[t]].v[r] / sh[j].req.v[r]);
			if (most > 0 &&
			    (bk == NAP_SCHED_NPOS ||
				(w->tprice[sz[t]] + lam) / (double)most <
				    (w->tprice[bk] + lam) / (double)bn)) {
				bk = sz[t];
				bn = most;
			}
		}
		if (bk == NAP_SCHED_NPOS) {
			ok = 0;
			break;
		}
		nap_xgrow(&ca, &acol, ncol + 1, nsh * sizeof(*ca));
		csize = nap_xrealloc(csize, acol * sizeof(*csize));
		memset(&ca[ncol * nsh], 0, nsh * sizeof(*ca));
		ca[ncol * nsh + j] = bn;
		csize[ncol++] = bk;
	}
	keep = nap_xcalloc(nsh, sizeof(long));
	order = nap_xcalloc(nsh + 1, sizeof(*order));
	for (pass = 0; ok && pass < PAT_PASSES && w->ntiers[p] + PLAN_REST_TIERS < NAP_SCHED_TIERS;
	     pass++) {
		double left = 0;
		size_t added = 0, bc = NAP_SCHED_NPOS;

		for (j = 0; j < nsh; j++)
			left += obj[j] = sh[j].n;
		if (left <= 0)
			break;
		if (row)
			obj[nsh] = -fmax(room - nodes, 0);
		/* a column holds no more of a shape than is left: still a packing */
		for (c = 0; c < ncol; c++)
			for (j = 0; j < nsh; j++)
				if (ca[c * nsh + j] > (long)sh[j].n)
					ca[c * nsh + j] = (long)sh[j].n;
		for (round = 0; ok; round++) {
			size_t nnew = 0, newk[PAT_NEW];
			double newr[PAT_NEW];
			long *newa = nap_xcalloc(PAT_NEW * nsh, sizeof(long));

			/*
			 * The master, in its dual form: max n.y - room.mu, each
			 * column's worth at most its price and mu, mu at most
			 * PAT_OVER.
			 */
			A = nap_xrealloc(A, (ncol + 1) * nv * sizeof(double));
			b = nap_xrealloc(b, (ncol + 1) * sizeof(double));
			x = nap_xrealloc(x, (ncol + 1) * sizeof(double));
			for (c = 0; c < ncol; c++) {
				for (j = 0; j < nsh; j++)
					A[c * nv + j] = (double)ca[c * nsh + j];
				if (row)
					A[c * nv + nsh] = -1;
				b[c] = w->tprice[csize[c]] + lam;
			}
			if (row) {
				memset(&A[ncol * nv], 0, nv * sizeof(double));
				A[ncol * nv + nsh] = 1;
				b[ncol] = PAT_OVER;
			}
			if (nap_bound_simplex(ncol + (size_t)row, nv, A, b, obj, &val, pt.y, x) != 0) {
				ok = 0;
				free(newa);
				break;
			}
			if (row) {
				mu = pt.y[nsh];
				*mup = fmax(*mup, mu);
			}
			for (t = 0; t < nsz && round < (pass ? PAT_ROUNDS / 4 : PAT_ROUNDS); t++) {
				double v = pat_price(&pt, &w->cap[sz[t]]),
				       rr = v / (w->tprice[sz[t]] + lam + mu);
				size_t i;

				if (rr <= 1 + 1e-6)
					continue;
				/* keep the PAT_NEW best by worth per price, ties to the cheaper size */
				for (i = nnew < PAT_NEW ? nnew++ : PAT_NEW;
				     i > 0 && newr[i - 1] < rr; i--) {
					if (i < PAT_NEW) {
						newr[i] = newr[i - 1];
						newk[i] = newk[i - 1];
						memcpy(&newa[i * nsh], &newa[(i - 1) * nsh],
						    nsh * sizeof(long));
					}
				}
				if (i < PAT_NEW) {
					newr[i] = rr;
					newk[i] = sz[t];
					memcpy(&newa[i * nsh], pt.best, nsh * sizeof(long));
				}
			}
			/*
			 * The master's rows are its columns: past a few per
			 * shape, drop those it buys none of (the lone ones stay,
			 * so it stays bounded).
			 */
			if (nnew && ncol > PAT_KEEP * nsh) {
				size_t kept = nsh;

				for (c = nsh; c < ncol; c++) {
					if (x[c] <= 1e-12)
						continue;
					memmove(&ca[kept * nsh], &ca[c * nsh], nsh * sizeof(*ca));
					csize[kept++] = csize[c];
				}
				ncol = kept;
			}
			for (c = 0; c < nnew; c++) {
				nap_xgrow(&ca, &acol, ncol + 1, nsh * sizeof(*ca));
				csize = nap_xrealloc(csize, acol * sizeof(*csize));
				memcpy(&ca[ncol * nsh], &newa[c * nsh], nsh * sizeof(*ca));
				csize[ncol++] = newk[c];
			}
			free(newa);
			if (nnew == 0)
				break;
		}
		if (!ok)
			break;
		/*
		 * The columns bought whole become tiers, most bought first;
		 * when none is, the one bought most, once, with what is left
		 * of its pods.  The next pass solves again for the rest.
		 */
		order = nap_xrealloc(order, ncol * sizeof(*order));
		for (c = 0; c < ncol; c++) {
			order[c] = c;
			for (u = c; u > 0 && x[order[u - 1]] < x[order[u]]; u--) {
				size_t q = order[u];

				order[u] = order[u - 1];
				order[u - 1] = q;
			}
		}
		for (u = 0; u < ncol; u++) {
			long got;

			c = order[u];
			got = pat_tier(
			    w, p, sh, nsh, &ca[c * nsh], (long)floor(x[c] + 0.5), csize[c] - base);
			nodes += (double)got;
			*cost += (double)got * w->tprice[csize[c]];
			added += got > 0;
			if (bc == NAP_SCHED_NPOS && x[c] > 1e-9)
				bc = c;
		}
		if (added || bc == NAP_SCHED_NPOS)
			continue;
		for (j = 0; j < nsh; j++)
			keep[j] =
			    ca[bc * nsh + j] < (long)sh[j].n ? ca[bc * nsh + j] : (long)sh[j].n;
		if (pat_tier(w, p, sh, nsh, keep, 1, csize[bc] - base)) {
			nodes += 1;
			*cost += w->tprice[csize[bc]];
		}
	}
	free(order);
	free(keep);
	if (w->nquota[p])
		qsort(w->quota[p], w->nquota[p], sizeof(*w->quota[p]), cmp_quota);
	free(sz);
	free(csize);
	free(ca);
	free(A);
	free(b);
	free(x);
	free(obj);
	free(pt.y);
	free(pt.ord);
	free(pt.cnt);
	free(pt.best);
	free(pt.sufy);
	free(pt.sufc);
	free(pt.sufm);
	return nodes;
}

/* The quota entry of pool p for request req in tier, or NPOS. */
size_t
sched_quota_find(const struct nap_sched_world *w, size_t p, const struct nap_res *req, size_t tier)
{
	const struct sched_quota *q = w->quota[p];
	size_t lo = 0, hi = w->nquota[p];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_res(&q[mid].req, req);

		if (c < 0 || (c == 0 && q[mid].tier < tier))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->nquota[p] && q[lo].tier == tier && cmp_res(&q[lo].req, req) == 0
	    ? lo
	    : NAP_SCHED_NPOS;
}

/* A pattern tier of pool p with room for one more pod of req, its quota taken; NPOS none. */
size_t
sched_quota_take(struct nap_sched_world *w, size_t p, const struct nap_res *req)
{
	struct sched_quota *q = w->quota[p];
	size_t lo = 0, hi = w->nquota[p];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_res(&q[mid].req, req) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < w->nquota[p] && cmp_res(&q[lo].req, req) == 0; lo++)
		if (q[lo].n > 0) {
			q[lo].n--;
			return q[lo].tier;
		}
	return NAP_SCHED_NPOS;
}

/*
 * Pool p's pattern tiers for the simple shapes ssh at multiplier lam (and
 * under a node row of room nodes; room < 0: none), then the tiers by size
 * for the other shapes (rest[0..nrest)) and what the patterns left, at lam
 * plus the row's shadow price; rest has room for nssh more.  Returns the
 * nodes, *cost gets the price.
 */
static double
plan_mixed(struct nap_sched_world *w, size_t p, const struct shape *ssh, size_t nssh,
    struct shape *rest, size_t nrest, double lam, double room, unsigned char *live,
    unsigned char *fit, double *cost)
{
	size_t i, nr = nrest;
	double nodes, mu = 0;

	for (i = 0; i < nssh; i++) {
		rest[nr] = ssh[i];
		if (!nap_res_fits(&ssh[i].req, &w->pool_max[p]))
			rest[nr].n = 0;
		nr++;
	}
	w->ntiers[p] = 0;
	nodes = plan_patterns(w, p, rest + nrest, nssh, lam, room, &mu, cost);
	w->tier0[p] = w->ntiers[p];
	/* the rest at the node price the patterns' row came to */
	return nodes + plan_pool(w, p, rest, nr, lam + mu, live, fit, cost);
}

/* Pool p back to the tiers by size alone: no pattern tier, no quota. */
void
sched_plan_unpattern(struct nap_sched_world *w, size_t p)
{
	free(w->quota[p]);
	w->quota[p] = NULL;
	w->nquota[p] = 0;
	w->tier0[p] = 0;
	memset(&w->tstrict[p * NAP_SCHED_TIERS], 0, NAP_SCHED_TIERS);
}

/* The batch's shapes as sched_pool_plan splits them, and plan_pool's scratch. */
struct plan_in {
	const struct shape *ssh; /* simple shapes; nssh 0: no pattern tiers */
	size_t nssh;
	struct shape *rest; /* the other shapes, room for nssh more */
	size_t nrest;
	const struct shape *sh; /* every planned shape */
	size_t nsh;
	size_t apart; /* planned pods that keep apart by node (sched_pod_apart) */
	size_t group; /* the most of them in one group: nodes they need at least */
	unsigned char *live, *fit;
};

/*
 * Pool p planned afresh with every node dearer by lam (USD/h, a Lagrange
 * multiplier on the node count) in the pattern tiers and the tiers by size
 * alike: the patterns and the rest when there are simple shapes, else the
 * tiers by size alone.  Returns the nodes; *cost gets the price (without lam).
 */
static double
plan_priced(struct nap_sched_world *w, size_t p, const struct plan_in *pl, double lam, double room,
    double *cost)
{
	*cost = 0;
	sched_plan_unpattern(w, p);
	if (pl->nssh)
		return plan_mixed(w, p, pl->ssh, pl->nssh, pl->rest, pl->nrest, lam, room,
		    pl->live, pl->fit, cost);
	w->ntiers[p] = 0;
	return plan_pool(w, p, pl->sh, pl->nsh, lam, pl->live, pl->fit, cost);
}

/* The cheapest plan that fits so far: its multiplier, node row and price. */
struct plan_best {
	double lam, left, cost, nodes;
	int any;
};

/* Pool p planned at (lam, left) (see plan_priced); kept in *b when it fits room for less. */
static double
plan_try(struct nap_sched_world *w, size_t p, const struct plan_in *pl, double lam, double left,
    double room, struct plan_best *b)
{
	double cost, nodes = plan_priced(w, p, pl, lam, left, &cost);

	if (nodes <= room && (!b->any || cost < b->cost)) {
		b->lam = lam;
		b->left = left;
		b->cost = cost;
		b->nodes = nodes;
		b->any = 1;
	}
	return nodes;
}

/* Nodes of size k (pool x type) one pod of shape s takes, as plan_cover counts; -1 none. */
static double
plan_per_pod(const struct nap_sched_world *w, size_t k, const struct shape *s)
{
	double d[PLAN_ND], c;
	size_t j;

	for (j = 0; j < PLAN_ND; j++)
		d[j] = j == PLAN_DISKS ? (double)s->disks : (double)s->req.v[plan_rs[j]];
	c = plan_cover(w, k, d, d, 1, 0);
	return c < 0 ? -1 : c / w->tprice[k];
}

/* A shape's move to the dense size: per pod, the nodes it saves and what it costs more. */
struct plan_move {
	size_t i;
	double saved, extra;
};

static int
cmp_move(const void *x, const void *y)
{
	const struct plan_move *a = x, *b = y;
	double ra = a->extra / a->saved, rb = b->extra / b->saved;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

/*
 * The moves mv (nm, cheapest per node saved first) made until the tiers'
 * nodes (tn, n0 tiers; a0 and k0 per shape) come to room: moved[] gets
 * each shape's pods moved, tn what stays.  Returns the dense tier's
 * nodes, -1 when the moves cannot meet the room.
 */
static double
plan_split_greedy(const struct plan_in *pl, const double *a0, const size_t *k0,
    const struct plan_move *mv, size_t nm, double room, double *moved, double *tn, size_t n0)
{
	double need = -room, dn = 0;
	size_t i, j;

	memset(tn, 0, (n0 + 1) * sizeof(*tn));
	for (i = 0; i < pl->nsh; i++) {
		moved[i] = 0;
		if (a0[i] < 0)
			continue;
		need += a0[i] * pl->sh[i].n;
		tn[k0[i]] += a0[i] * pl->sh[i].n;
	}
	for (j = 0; j < nm && (need > 0 || mv[j].extra < 0); j++) {
		i = mv[j].i;
		moved[i] = mv[j].extra < 0 ? pl->sh[i].n
					   : fmin(pl->sh[i].n, ceil(need / mv[j].saved - 1e-9));
		need -= moved[i] * mv[j].saved;
		tn[k0[i]] -= moved[i] * a0[i];
		dn += moved[i] * (a0[i] - mv[j].saved);
	}
	return need > 0 ? -1 : dn;
}

/*
 * The dense nodes the pods moved[] need at least: those of a shape past
 * its free_n (pods that need no node of their own) keep apart by node, as
 * many nodes as there are such pods, at most the largest group.
 */
static double
plan_split_least(const struct plan_in *pl, const double *moved, const double *free_n)
{
	double n = 0;
	size_t i;

	for (i = 0; i < pl->nsh; i++)
		n += fmax(moved[i] - free_n[i], 0);
	return fmin(n, (double)pl->group);
}

/*
 * How much further the room goes for the pods the existing nodes take:
 * the tiers count every planned pod, but the existing nodes' free room
 * takes some first.  Of each node, the pods of the batch's mean request
 * that fit it whole; half of those are counted (the mean fits where the
 * actual pods, their topology and zones may not), and the room scales as
 * the pods left for new nodes.  1 with no existing nodes.
 */
static double
plan_split_existing(const struct nap_sched_world *w, const struct plan_in *pl)
{
	const struct nap_sched_input *in = w->in;
	double m[NAP_RES_N] = {0}, n = 0, took = 0;
	size_t i, r;

	for (i = 0; i < pl->nsh; i++) {
		for (r = 0; r < NAP_RES_N; r++)
			m[r] += (double)pl->sh[i].req.v[r] * pl->sh[i].n;
		n += pl->sh[i].n;
	}
	for (i = 0; n > 0 && i < in->nnodes; i++) {
		double k = (double)in->nodes[i].avail.v[NAP_RES_PODS];

		for (r = 0; r < NAP_RES_N; r++)
			if (r != NAP_RES_PODS && m[r] > 0)
				k = fmin(k, floor((double)in->nodes[i].avail.v[r] / (m[r] / n)));
		took += fmax(k, 0);
	}
	took *= 0.5;
	return took > 0 && took < n ? n / (n - took) : 1;
}

/*
 * Pool p's plan split by count: the plan with no ceiling (its tiers by
 * size, a pod in the first that fits it), and of each shape as many pods
 * as the room requires moved to one dense size, a tier after those, by a
 * quota per shape.  Which pods move is a knapsack with one row (the
 * nodes): the shapes that save a node for the least extra price first,
 * the last one in part, so a shape's pods can fill cheap small nodes and
 * dense ones both, which a tier by size (all of a shape or none) cannot.
 * Every usable size is tried as the dense one, each tier's count a node
 * a zone higher (claims left part full).  The cheapest that fits room is
 * installed and 1 returned; else 0, the pool's plan left to the caller.
 */
static int
plan_split(struct nap_sched_world *w, size_t p, const struct plan_in *pl, double room)
{
	const struct nap_sched_input *in = w->in;
	size_t base = p * in->ntypes, i, j, t, n0, bd = NAP_SCHED_NPOS, nm;
	double c0 = 0, bcost = -1, *a0, *tn, *moved, *bmoved, *free_n;
	size_t *k0;
	struct plan_move *mv;

	plan_priced(w, p, pl, 0, -1, &c0);
	n0 = w->ntiers[p];
	if (n0 == 0 || n0 + 1 >= NAP_SCHED_TIERS)
		return 0;
	a0 = nap_xcalloc(pl->nsh + 1, sizeof(*a0));
	k0 = nap_xcalloc(pl->nsh + 1, sizeof(*k0));
	tn = nap_xcalloc(n0 + 2, sizeof(*tn));
	moved = nap_xcalloc(pl->nsh + 1, sizeof(*moved));
	bmoved = nap_xcalloc(pl->nsh + 1, sizeof(*bmoved));
	mv = nap_xcalloc(pl->nsh + 1, sizeof(*mv));
	free_n = nap_xcalloc(pl->nsh + 1, sizeof(*free_n));
	/*
	 * A shape's pods that need no node of their own take its quota first
	 * (sched_world_plan); those that keep apart by node, moved, need as
	 * many dense nodes as the largest group of them.
	 */
	for (i = 0; i < in->npending; i++) {
		const struct nap_sched_pod *pod = &in->pending[i];
		struct shape key = {pod->req, 1, plan_disks(pod)};
		const struct shape *hit;

		if (!sched_pod_planned(pod) || sched_pod_apart(pod))
			continue;
		hit = bsearch(&key, pl->sh, pl->nsh, sizeof(*pl->sh), cmp_shape);
		if (hit)
			free_n[hit - pl->sh]++;
	}
	/* each shape in its tier of the plan with no ceiling */
	for (i = 0; i < pl->nsh; i++) {
		k0[i] = sched_pod_tier(w, p, &pl->sh[i].req);
		a0[i] = k0[i] == NAP_SCHED_NPOS || pl->sh[i].n <= 0
		    ? -1
		    : plan_per_pod(w, base + w->tiers[p * NAP_SCHED_TIERS + k0[i]], &pl->sh[i]);
	}
	/* room for the tiers' part-full claims: one a zone each */
	room -= (double)(w->nozones * (n0 + 1));
	room *= plan_split_existing(w, pl);
	for (t = 0; t < in->ntypes; t++) {
		size_t k = base + t;
		double dn, cost, nodes, least;

		if (!w->usable[k] || w->tprice[k] <= 0)
			continue;
		nm = 0;
		for (i = 0; i < pl->nsh; i++) {
			double ad = a0[i] < 0 ? -1 : plan_per_pod(w, k, &pl->sh[i]);

			if (ad < 0 || ad >= a0[i])
				continue;
			mv[nm].i = i;
			mv[nm].saved = a0[i] - ad;
			mv[nm++].extra = w->tprice[k] * ad -
			    w->tprice[base + w->tiers[p * NAP_SCHED_TIERS + k0[i]]] * a0[i];
		}
		qsort(mv, nm, sizeof(*mv), cmp_move);
		/*
		 * Moves that save nodes for less, all; then until the room is
		 * met.  When pods that keep apart are moved, the dense tier
		 * needs their largest group's nodes (least), more than the
		 * moved pods' own (dn): the moved pods fill those nodes, so
		 * again with the room less the difference, until it holds.
		 */
		dn = plan_split_greedy(pl, a0, k0, mv, nm, room, moved, tn, n0);
		least = plan_split_least(pl, moved, free_n);
		for (j = 0; j < PLAN_ROW_TRIES && dn >= 0 && least > dn + 0.5; j++) {
			dn =
			    plan_split_greedy(pl, a0, k0, mv, nm, room - least + dn, moved, tn, n0);
			least = plan_split_least(pl, moved, free_n);
		}
		if (dn <= 0)
			continue;
		dn = fmax(dn, least);
		for (nodes = dn, j = 0; j < n0; j++)
			nodes += tn[j];
		if (nodes > room)
			continue;
		cost = ceil(dn - 1e-9) * w->tprice[k];
		for (j = 0; j < n0; j++)
			cost += ceil(tn[j] - 1e-9) *
			    w->tprice[base + w->tiers[p * NAP_SCHED_TIERS + j]];
		if (bcost < 0 || cost < bcost) {
			bcost = cost;
			bd = t;
			memcpy(bmoved, moved, pl->nsh * sizeof(*bmoved));
		}
	}
	if (bd != NAP_SCHED_NPOS) {
		/* the dense tier last, and the pods moved to it by quota */
		w->tcap[p * NAP_SCHED_TIERS + n0] = w->cap[base + bd];
		w->tiers[p * NAP_SCHED_TIERS + w->ntiers[p]++] = bd;
		for (i = 0; i < pl->nsh; i++) {
			struct sched_quota *q;

			if (bmoved[i] <= 0)
				continue;
			w->quota[p] =
			    nap_xrealloc(w->quota[p], (w->nquota[p] + 1) * sizeof(*w->quota[p]));
			q = &w->quota[p][w->nquota[p]++];
			q->req = pl->sh[i].req;
			q->tier = n0;
			q->n = (long)bmoved[i];
			q->per = 0;
		}
		qsort(w->quota[p], w->nquota[p], sizeof(*w->quota[p]), cmp_quota);
	}
	free(a0);
	free(k0);
	free(tn);
	free(moved);
	free(bmoved);
	free(mv);
	free(free_n);
	return bd != NAP_SCHED_NPOS;
}

/*
 * Pool p's plan when the cheapest one comes to more than room nodes: the
 * cheapest of those found that fit.  With pattern tiers, first under a
 * node row (plan_patterns) of the whole room, and where the tiers by size
 * and rounding overshoot, again with that much less room.  Then every node
 * dearer by lam, in the patterns and the tiers by size alike, doubled until
 * the plan fits and bisected back towards the multiplier that did not: the
 * fleet buys larger sizes only as far as the room requires.  With no
 * pattern tiers, when pods that keep apart by node outnumber that plan's
 * nodes (or none fits), the plan split by count (plan_split) instead, if
 * one fits.  Returns 0 when no plan fits.
 */
static int
plan_ceiling(struct nap_sched_world *w, size_t p, const struct plan_in *pl, double room)
{
	struct plan_best b = {0, 0, 0, 0, 0};
	double lam, left = room, lo, hi, mid;
	size_t i;

	for (i = 0; pl->nssh && i < PLAN_ROW_TRIES && !b.any; i++)
		left -= plan_try(w, p, pl, 0, left, room, &b) - room;
	for (lam = PAT_LAMBDA; lam < PAT_LAMBDA * 4096; lam *= 2)
		if (plan_try(w, p, pl, lam, -1, room, &b) <= room)
			break;
	for (hi = lam, lo = lam / 2, i = 0; lam < PAT_LAMBDA * 4096 && i < PAT_BISECT; i++) {
		mid = (lo + hi) / 2;
		if (plan_try(w, p, pl, mid, -1, room, &b) > room)
			lo = mid;
		else
			hi = mid;
	}
	/*
	 * With no pattern tiers, the plan split by count when it costs less;
	 * or when more pods keep apart by node than the best plan has nodes:
	 * they need nodes its estimate does not count (each on its own claim
	 * of a dense tier), and the split, which moves only as many pods as
	 * the room needs, keeps them on the cheap plan's small sizes.
	 */
	if (!pl->nssh && (!b.any || (double)pl->apart > b.nodes) && plan_split(w, p, pl, room))
		return 1;
	if (b.any)
		plan_priced(w, p, pl, b.lam, b.left, &b.cost);
	return b.any;
}

/*
 * Per pool, the tiers new claims fill (at most NAP_SCHED_TIERS sizes): the
 * batch's request shapes are peeled greedily.  At each step, for every
 * usable size s, the shapes that fit s go to s and the rest to the single
 * size covering them cheapest; the split that costs least wins if it beats
 * covering every remaining shape with one size by more than 2 %.  A pod's
 * tier is then the first tier whose size it fits, and a claim takes only
 * pods of its own tier, up to that size: small pods fill small cheap nodes
 * and large ones large nodes, as the fractional optimum does, instead of
 * every claim growing into the largest (premium) sizes.
 *
 * Before those, when simple pods (sched_pod_simple) are at least half the
 * batch, their pattern tiers (plan_patterns); the tiers by size then take
 * the other pods and what the patterns left.  The pool keeps the patterns
 * only when they and the rest cost less than the tiers by size alone.
 *
 * Under a node ceiling (solve.maxNodes): when a pool's plan comes to more
 * nodes than 90 % of the room the ceiling leaves, the cheapest plan that
 * fits (plan_ceiling, skipped under w->plan_dense); when none does, it is
 * made again with only sizes that hold the batch's pods in that room (pods
 * per node at least pods / room); a pool where none does plans no tier, so
 * its claims grow as large as Karpenter's and make the fewest nodes.  The
 * claims themselves stop at the ceiling (sched-claim.c), and nap_sched_run
 * checks plan_ceiling's plans against the dense one (sched.c, run_checked).
 */
void
sched_pool_plan(struct nap_sched_world *w)
{
	const struct nap_sched_input *in = w->in;
	struct shape *sh, *ssh, *rest, *reqs;
	unsigned char *live, *fit;
	size_t i, n = 0, ns = 0, nsh, nssh, nrest, p, apart = 0, group = 0, *gsize;
	struct nap_hash groups;
	struct plan_in pl;

	/* the planned pods' requests and disks, the simple ones first */
	reqs = nap_xcalloc(in->npending + 1, sizeof(*reqs));
	gsize = nap_xcalloc(in->npending + 1, sizeof(*gsize));
	nap_hash_init(&groups);
	for (i = 0; i < in->npending; i++) {
		const char *sig = plan_apart_sig(&in->pending[i]);
		size_t **g;
		int added;

		if (!sig || !sched_pod_planned(&in->pending[i]))
			continue;
		g = (size_t **)nap_hash_slot(&groups, sig, &added);
		if (added)
			*g = &gsize[apart];
		if (++**g > group)
			group = **g;
		apart++;
	}
	nap_hash_free(&groups);
	free(gsize);
	for (i = 0; i < in->npending; i++)
		if (sched_pod_planned(&in->pending[i]) && sched_pod_simple(&in->pending[i]))
			reqs[n++] = (struct shape){in->pending[i].req, 1, 0};
	ns = n;
	for (i = 0; i < in->npending; i++)
		if (sched_pod_planned(&in->pending[i]) && !sched_pod_simple(&in->pending[i]))
			reqs[n++] =
			    (struct shape){in->pending[i].req, 1, plan_disks(&in->pending[i])};
	ssh = plan_shapes(reqs, ns, &nssh);
	/*
	 * Patterns only when the simple pods are most of the batch: split
	 * off a small share, they would leave the tiers by size less to mix.
	 */
	if (2 * ns < n)
		nssh = 0;
	/* the others, then every planned pod (the plan by size alone) */
	rest = nap_xcalloc(nssh + n - ns + 1, sizeof(*rest));
	sh = plan_shapes(reqs + ns, n - ns, &nrest);
	memcpy(rest, sh, nrest * sizeof(*rest));
	free(sh);
	sh = plan_shapes(reqs, n, &nsh);
	free(reqs);
	live = nap_xcalloc(nsh + nrest + nssh + 1, 1);
	fit = nap_xcalloc(nsh + nrest + nssh + 1, 1);
	pl = (struct plan_in){ssh, nssh, rest, nrest, sh, nsh, apart, group, live, fit};
	for (p = 0; p < in->npools; p++) {
		double nodes, pn, oc = 0, pc = 0, room = 0.9 * (double)w->node_room;

		w->ntiers[p] = w->tier0[p] = 0;
		nodes = plan_pool(w, p, sh, nsh, 0, live, fit, &oc);
		if (nssh) {
			pn = plan_mixed(w, p, ssh, nssh, rest, nrest, 0, -1, live, fit, &pc);
			if (pc < oc) {
				nodes = pn;
			} else {
				sched_plan_unpattern(w, p);
				nodes = plan_pool(w, p, sh, nsh, 0, live, fit, &oc);
			}
		}
		if (w->node_room == LONG_MAX || w->node_room <= 0 || nodes <= room)
			continue;
		if (!w->plan_dense && plan_ceiling(w, p, &pl, room)) {
			w->plan_ceiled = 1;
			continue;
		}
		/* none fits: only sizes dense enough, one per part */
		sched_plan_unpattern(w, p);
		w->plan_density = (double)n / room;
		plan_pool(w, p, sh, nsh, 0, live, fit, &oc);
		w->plan_density = 0;
	}
	free(live);
	free(fit);
	free(sh);
	free(ssh);
	free(rest);
}

/* The index of the tier of pool p a pod of request req fills, or NPOS: grows freely. */
size_t
sched_pod_tier(const struct nap_sched_world *w, size_t p, const struct nap_res *req)
{
	size_t j, base = p * w->in->ntypes;

	for (j = w->tier0[p]; j < w->ntiers[p]; j++) {
		size_t t = w->tiers[p * NAP_SCHED_TIERS + j];

		if (nap_res_fits(req, &w->cap[base + t]))
			return j;
	}
	return NAP_SCHED_NPOS;
}
