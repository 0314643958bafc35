/*
 * sched-plan.c - nap's tier plan (NAP_SCHED_PACK_TARGET, see sched.h).
 *
 * Per NodePool, from the batch's request shapes and the world's
 * capacities and prices: at most NAP_SCHED_TIERS sizes that new claims
 * fill, and for a request the tier it belongs to.  Pure: reads the world,
 * writes only the world's tiers; a run under Karpenter's packing never asks.
 */
#include "sched-int.h"

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

/* A request shape of the batch and how many pods have it. */
struct shape {
	struct nap_res req;
	double n;
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

/*
 * What covering demand d (the sum of a set's requests, m its largest
 * request per dimension) with size k costs as a fraction of whole nodes:
 * price x the most nodes any dimension needs, each node's capacity less
 * half the set's mean request (what first-fit leaves unused on average).
 * Negative when the size cannot take the set's largest request.
 */
static double
plan_cover(const struct nap_sched_world *w, size_t k, const double *d, const double *m, double n)
{
	double need = 0;
	size_t j;

	if (n <= 0)
		return 0;
	for (j = 0; j < PLAN_NRS; j++) {
		double c = (double)w->cap[k].v[plan_rs[j]], eff;

		if (m[j] > c)
			return -1;
		if (d[j] <= 0)
			continue;
		/*
		 * Devices come whole: a node holds as many pods of the mean
		 * request as fit in full, not half a pod less.
		 */
		if (PLAN_WHOLE(j))
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
	return w->tprice[k] * need;
}

/* Sum and maximum of the shapes in live[] (nonzero entries), n pods. */
static double
plan_sum(const struct shape *sh, size_t nsh, const unsigned char *live, double *d, double *m)
{
	double n = 0;
	size_t i, j;

	for (j = 0; j < PLAN_NRS; j++)
		d[j] = m[j] = 0;
	for (i = 0; i < nsh; i++) {
		if (!live[i])
			continue;
		n += sh[i].n;
		for (j = 0; j < PLAN_NRS; j++) {
			double v = (double)sh[i].req.v[plan_rs[j]];

			d[j] += v * sh[i].n;
			if (v > m[j])
				m[j] = v;
		}
	}
	return n;
}

/* The usable size of pool p covering (d, m) cheapest; NPOS when none can. */
static size_t
plan_single(const struct nap_sched_world *w, size_t p, const double *d, const double *m, double n,
    double *cost)
{
	const struct nap_sched_input *in = w->in;
	size_t t, best = NAP_SCHED_NPOS;

	for (t = 0; t < in->ntypes; t++) {
		size_t k = p * in->ntypes + t;
		double c;

		if (!w->usable[k] || w->tprice[k] <= 0)
			continue;
		c = plan_cover(w, k, d, m, n);
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
 * plan_cover counts them).
 */
static double
plan_pool(struct nap_sched_world *w, size_t p, const struct shape *sh, size_t nsh,
    unsigned char *live, unsigned char *fit)
{
	const struct nap_sched_input *in = w->in;
	double d[PLAN_NRS], m[PLAN_NRS], cnt, single = 0, nodes = 0;
	size_t i, t, base = p * in->ntypes, last;

	w->ntiers[p] = 0;
	/* shapes no usable size takes are not planned for */
	for (i = 0; i < nsh; i++)
		live[i] = nap_res_fits(&sh[i].req, &w->pool_max[p]);
	cnt = plan_sum(sh, nsh, live, d, m);
	if (cnt <= 0)
		return 0;
	last = plan_single(w, p, d, m, cnt, &single);
	while (last != NAP_SCHED_NPOS && w->ntiers[p] + 1 < NAP_SCHED_TIERS) {
		double best = single * 0.98, bfc = 0;
		size_t bs = NAP_SCHED_NPOS;

		for (t = 0; t < in->ntypes; t++) {
			size_t k = base + t, rest;
			double fd[PLAN_NRS], fm[PLAN_NRS], rd[PLAN_NRS], rm[PLAN_NRS];
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
			fc = plan_cover(w, k, fd, fm, fn);
			if (fc < 0 || fc >= best)
				continue;
			for (i = 0; i < nsh; i++)
				fit[i] = live[i] && !fit[i];
			rn = plan_sum(sh, nsh, fit, rd, rm);
			rest = plan_single(w, p, rd, rm, rn, &rc);
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
		nodes += bfc / w->tprice[base + bs];
		w->tiers[p * NAP_SCHED_TIERS + w->ntiers[p]++] = bs;
		for (i = 0; i < nsh; i++)
			if (live[i] && nap_res_fits(&sh[i].req, &w->cap[base + bs]))
				live[i] = 0;
		cnt = plan_sum(sh, nsh, live, d, m);
		last = plan_single(w, p, d, m, cnt, &single);
	}
	if (last != NAP_SCHED_NPOS) {
		w->tiers[p * NAP_SCHED_TIERS + w->ntiers[p]++] = last;
		nodes += single / w->tprice[base + last];
	}
	return nodes;
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
 * Under a node ceiling (solve.maxNodes): when a pool's plan comes to more
 * nodes than 90 % of the room the ceiling leaves, it is made again with
 * only sizes that hold the batch's pods in that room (pods per node at
 * least pods / room); a pool where none does plans no tier, so its claims
 * grow as large as Karpenter's and make the fewest nodes.  The claims
 * themselves stop at the ceiling (sched-claim.c).
 */
void
sched_pool_plan(struct nap_sched_world *w)
{
	const struct nap_sched_input *in = w->in;
	struct shape *sh;
	struct nap_res *reqs;
	unsigned char *live, *fit;
	size_t i, n = 0, nsh = 0, p;

	reqs = nap_xcalloc(in->npending + 1, sizeof(*reqs));
	for (i = 0; i < in->npending; i++) {
		const struct nap_sched_pod *pod = &in->pending[i];

		if (!sched_pod_planned(pod))
			continue;
		reqs[n++] = pod->req;
	}
	qsort(reqs, n, sizeof(*reqs), cmp_res);
	sh = nap_xcalloc(n + 1, sizeof(*sh));
	for (i = 0; i < n; i++) {
		if (nsh && cmp_res(&sh[nsh - 1].req, &reqs[i]) == 0) {
			sh[nsh - 1].n++;
			continue;
		}
		sh[nsh].req = reqs[i];
		sh[nsh++].n = 1;
	}
	free(reqs);
	live = nap_xcalloc(nsh + 1, 1);
	fit = nap_xcalloc(nsh + 1, 1);
	for (p = 0; p < in->npools; p++) {
		double nodes = plan_pool(w, p, sh, nsh, live, fit);

		if (w->node_room == LONG_MAX || w->node_room <= 0 ||
		    nodes <= 0.9 * (double)w->node_room)
			continue;
		w->plan_density = (double)n / (0.9 * (double)w->node_room);
		plan_pool(w, p, sh, nsh, live, fit);
		w->plan_density = 0;
	}
	free(live);
	free(fit);
	free(sh);
}

/* The index of the tier of pool p a pod of request req fills, or NPOS: grows freely. */
size_t
sched_pod_tier(const struct nap_sched_world *w, size_t p, const struct nap_res *req)
{
	size_t j, base = p * w->in->ntypes;

	for (j = 0; j < w->ntiers[p]; j++) {
		size_t t = w->tiers[p * NAP_SCHED_TIERS + j];

		if (nap_res_fits(req, &w->cap[base + t]))
			return j;
	}
	return NAP_SCHED_NPOS;
}
