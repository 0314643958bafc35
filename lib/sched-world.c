/*
 * sched-world.c - the prepared world: what every run of a batch shares.
 *
 * From the input alone: pools by weight, the sizes each NodePool can use
 * with their capacity net of the DaemonSets that would land (and the
 * cheapest offering the pool allows), limits left before any run, the
 * smallest pending request, every offering's zone and capacity type as a
 * small number (for bit masks), and the rankings of a pool's sizes by price
 * within zone and capacity-type masks, filled as runs ask (input-only, so
 * shared by every run; redone each time under nocache).  The tier plan is
 * made by the first run that packs by plan.  Runs never change the rest.
 */
#include "sched-int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
daemon_lands(const struct nap_sched_pod *d, const struct nap_sched_pool *pool,
    const struct nap_reqs *pool_reqs, const struct nap_sched_itype *t)
{
	size_t i, nt = d->nterms ? d->nterms : 1;

	/* daemons always tolerate PreferNoSchedule (karpenter.md 1.4) */
	if (!sched_taints_ok(pool->taints, pool->ntaints, d, 1, 0, NULL, 0))
		return 0;
	for (i = 0; i < nt; i++) {
		const struct nap_reqs *r = d->nterms ? &d->terms[i] : NULL;

		if (!r)
			return nap_reqs_intersects(&t->reqs, pool_reqs, NULL, 0);
		if (nap_reqs_compatible(
			pool_reqs, r, NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, NULL, 0) &&
		    nap_reqs_intersects(&t->reqs, r, NULL, 0))
			return 1;
	}
	return 0;
}

static void
pools_prepare(struct nap_sched_world *w)
{
	const struct nap_sched_input *in = w->in;
	size_t p, t, d, i, j;
	static const char *const yes[] = {"true"};

	w->pool_order = nap_xcalloc(in->npools + 1, sizeof(size_t));
	for (i = 0; i < in->npools; i++)
		w->pool_order[i] = i;
	for (i = 1; i < in->npools; i++)
		for (j = i; j > 0; j--) {
			const struct nap_sched_pool *a = &in->pools[w->pool_order[j]];
			const struct nap_sched_pool *b = &in->pools[w->pool_order[j - 1]];
			size_t x;

			if (a->weight < b->weight ||
			    (a->weight == b->weight && strcmp(a->name, b->name) <= 0))
				break;
			x = w->pool_order[j];
			w->pool_order[j] = w->pool_order[j - 1];
			w->pool_order[j - 1] = x;
		}
	w->usable = nap_xcalloc(in->npools * in->ntypes + 1, 1);
	w->cap = nap_xcalloc(in->npools * in->ntypes + 1, sizeof(*w->cap));
	w->daemon = nap_xcalloc(in->npools * in->ntypes + 1, sizeof(*w->daemon));
	w->tprice = nap_xcalloc(in->npools * in->ntypes + 1, sizeof(*w->tprice));
	w->tiers = nap_xcalloc(in->npools * NAP_SCHED_TIERS + 1, sizeof(*w->tiers));
	w->ntiers = nap_xcalloc(in->npools + 1, sizeof(*w->ntiers));
	w->tier0 = nap_xcalloc(in->npools + 1, sizeof(*w->tier0));
	w->tcap = nap_xcalloc(in->npools * NAP_SCHED_TIERS + 1, sizeof(*w->tcap));
	w->tstrict = nap_xcalloc(in->npools * NAP_SCHED_TIERS + 1, 1);
	w->quota = nap_xcalloc(in->npools + 1, sizeof(*w->quota));
	w->nquota = nap_xcalloc(in->npools + 1, sizeof(*w->nquota));
	w->pool_max = nap_xcalloc(in->npools + 1, sizeof(*w->pool_max));
	w->remaining = nap_xcalloc(in->npools + 1, sizeof(*w->remaining));
	w->nodes_left = nap_xcalloc(in->npools + 1, sizeof(*w->nodes_left));
	w->pdaemon = nap_xcalloc(in->ndaemons + 1, sizeof(*w->pdaemon));
	for (d = 0; d < in->ndaemons; d++)
		if (in->daemons[d].nports)
			w->pdaemon[w->npdaemon++] = d;
	w->dwords = (w->npdaemon + 63) / 64;
	if (w->npdaemon)
		w->dports = nap_xcalloc(in->npools * in->ntypes * w->dwords + 1, sizeof(uint64_t));
	for (p = 0; p < in->npools; p++) {
		const struct nap_sched_pool *pool = &in->pools[p];
		struct nap_reqs dreqs;

		for (i = 0; i < pool->ntaints; i++)
			if (pool->taints[i].effect == NAP_EFFECT_PREFERNOSCHEDULE)
				w->any_prefer_taint = 1;
		for (i = 0; i < NAP_RES_N; i++)
			w->remaining[p].v[i] =
			    pool->has_limit[i] ? pool->limit.v[i] - pool->used.v[i] : INT64_MAX / 4;
		w->nodes_left[p] =
		    pool->limit_nodes < 0 ? INT64_MAX / 4 : pool->limit_nodes - pool->used_nodes;
		if (pool->unusable || !pool->alloc)
			continue;
		/* daemons may select on the simulation-only labels (karpenter.md 1.4) */
		nap_reqs_init(&dreqs);
		nap_reqs_copy(&dreqs, &pool->reqs);
		nap_reqs_add(&dreqs, "karpenter.sh/registered", NAP_OP_IN, yes, 1, 0, NULL);
		nap_reqs_add(&dreqs, "karpenter.sh/initialized", NAP_OP_IN, yes, 1, 0, NULL);
		for (t = 0; t < in->ntypes; t++) {
			size_t k = p * in->ntypes + t;
			const struct nap_sched_itype *it = &in->types[t];

			if (pool->alloc[t].v[NAP_RES_CPU] <= 0)
				continue;
			if (!nap_reqs_intersects(&it->reqs, &pool->reqs, NULL, 0))
				continue;
			if (!sched_offering_ok(it, &pool->reqs, NULL))
				continue;
			for (d = 0; d < in->ndaemons; d++)
				if (daemon_lands(&in->daemons[d], pool, &dreqs, it))
					nap_res_add(&w->daemon[k], &in->daemons[d].req);
			/* the few that hold host ports: which of them land here */
			for (j = 0; j < w->npdaemon; j++)
				if (daemon_lands(&in->daemons[w->pdaemon[j]], pool, &dreqs, it))
					w->dports[k * w->dwords + j / 64] |= (uint64_t)1
					    << (j % 64);
			w->cap[k] = pool->alloc[t];
			nap_res_sub(&w->cap[k], &w->daemon[k]);
			if (w->cap[k].v[NAP_RES_CPU] < 0 || w->cap[k].v[NAP_RES_MEMORY] < 0 ||
			    w->cap[k].v[NAP_RES_PODS] < 1)
				continue;
			w->usable[k] = 1;
			sched_offering_ok(it, &pool->reqs, &w->tprice[k]);
			nap_res_max(&w->pool_max[p], &w->cap[k]);
		}
		nap_reqs_free(&dreqs);
	}
}

uint64_t
sched_small_mask(const char *const *tab, size_t n, const struct nap_req *q)
{
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (!q || nap_req_allows(q, tab[i]))
			m |= (uint64_t)1 << i;
	return m;
}

/* A type's cheapest offering within masks zm and cm; negative when none. */
static double
offer_price(const struct st *s, size_t t, uint64_t zm, uint64_t cm)
{
	const struct nap_sched_itype *ty = &s->in->types[t];
	double pr = -1;
	size_t j;

	for (j = 0; j < ty->noff; j++) {
		size_t o = s->w->obase[t] + j;

		if (!ty->off[j].available || !(zm >> s->w->oz[o] & 1) || !(cm >> s->w->oc[o] & 1))
			continue;
		if (pr < 0 || ty->off[j].price < pr)
			pr = ty->off[j].price;
	}
	return pr;
}

static int
cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->price != y->price)
		return x->price < y->price ? -1 : 1;
	/* the catalog is sorted by name: its order is the name order */
	return x->t < y->t ? -1 : x->t > y->t;
}

static unsigned char
intern_small(const char **tab, size_t *n, const char *v)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(tab[i], v) == 0)
			return (unsigned char)i;
	if (*n < 63)
		tab[(*n)++] = v;
	return (unsigned char)(*n - 1);
}

/* Number every offering's zone and capacity type once, for bit-mask tests. */
static void
offers_index(struct nap_sched_world *w)
{
	const struct nap_sched_input *in = w->in;
	size_t t, j, k = 0;

	w->obase = nap_xcalloc(in->ntypes + 1, sizeof(size_t));
	for (t = 0; t < in->ntypes; t++) {
		w->obase[t] = k;
		k += in->types[t].noff;
	}
	w->obase[in->ntypes] = k;
	w->oz = nap_xcalloc(k + 1, 1);
	w->oc = nap_xcalloc(k + 1, 1);
	for (t = 0; t < in->ntypes; t++)
		for (j = 0; j < in->types[t].noff; j++) {
			w->oz[w->obase[t] + j] =
			    intern_small(w->ozones, &w->nozones, in->types[t].off[j].zone);
			w->oc[w->obase[t] + j] =
			    intern_small(w->octypes, &w->noctypes, in->types[t].off[j].ctype);
		}
}

/*
 * Every usable type of a pool that has an offering within the zone and
 * capacity-type masks, ranked by that offering's price: claims with the
 * same pool and masks (most of them) share one sort and keep the subset.
 */
const struct rankc *
sched_rank_cached(struct st *s, size_t p, uint64_t zm, uint64_t cm)
{
	const struct nap_sched_input *in = s->in;
	struct rankc *rc;
	size_t i, t;

	if (s->nocache) {
		/* no cache: ranked again every time, into one scratch entry */
		rc = &s->rank1;
		if (!rc->rk) {
			rc->rk = nap_xcalloc(in->ntypes + 1, sizeof(*rc->rk));
			rc->price = nap_xcalloc(in->ntypes + 1, sizeof(*rc->price));
		}
	} else {
		for (i = 0; i < s->w->nrankc; i++)
			if (s->w->rankc[i].pool == p && s->w->rankc[i].zm == zm &&
			    s->w->rankc[i].cm == cm)
				return &s->w->rankc[i];
		nap_xgrow(&s->w->rankc, &s->w->arankc, s->w->nrankc + 1, sizeof(*s->w->rankc));
		rc = &s->w->rankc[s->w->nrankc++];
		rc->rk = nap_xcalloc(in->ntypes + 1, sizeof(*rc->rk));
		rc->price = nap_xcalloc(in->ntypes + 1, sizeof(*rc->price));
	}
	rc->pool = p;
	rc->zm = zm;
	rc->cm = cm;
	rc->n = 0;
	for (t = 0; t < in->ntypes; t++) {
		double pr;

		rc->price[t] = -1;
		if (!s->w->usable[p * in->ntypes + t])
			continue;
		pr = offer_price(s, t, zm, cm);
		rc->price[t] = pr;
		if (pr < 0)
			continue;
		rc->rk[rc->n].t = t;
		rc->rk[rc->n].price = pr;
		rc->rk[rc->n].name = in->types[t].name;
		rc->n++;
	}
	qsort(rc->rk, rc->n, sizeof(*rc->rk), cmp_ranked);
	return rc;
}

void
nap_sched_world_free(struct nap_sched_world *w)
{
	size_t i, pos = 0;
	const char *k;
	void *m;

	if (!w)
		return;
	for (i = 0; i < w->nrankc; i++) {
		free(w->rankc[i].rk);
		free(w->rankc[i].price);
	}
	free(w->rankc);
	while (nap_hash_next(&w->dmemo, &pos, &k, &m))
		free(m);
	nap_hash_free(&w->dmemo);
	free(w->dkey);
	free(w->pool_order);
	free(w->usable);
	free(w->cap);
	free(w->daemon);
	free(w->tprice);
	free(w->pool_max);
	free(w->remaining);
	free(w->nodes_left);
	free(w->obase);
	free(w->oz);
	free(w->oc);
	free(w->tiers);
	free(w->ntiers);
	free(w->ptier);
	for (i = 0; i < w->in->npools; i++)
		free(w->quota[i]);
	free(w->quota);
	free(w->nquota);
	free(w->tier0);
	free(w->tcap);
	free(w->tstrict);
	free(w->pdaemon);
	free(w->dports);
	free(w);
}

int
nap_sched_prepare(
    const struct nap_sched_input *in, struct nap_sched_world **out, struct nap_err *err)
{
	struct nap_sched_world *w;
	size_t i;
	int r;

	*out = NULL;
	if (in->ntypes && !in->types)
		return nap_err_set(err, NAP_EX_DATAERR, "scheduler: instance types missing");
	if (in->ntypes > UINT16_MAX)
		return nap_err_set(err, NAP_EX_DATAERR,
		    "scheduler: %zu instance types, at most %u supported", in->ntypes,
		    (unsigned)UINT16_MAX);
	w = nap_xcalloc(1, sizeof(*w));
	w->in = in;
	nap_hash_init(&w->dmemo);
	pools_prepare(w);
	offers_index(w);
	w->node_room = LONG_MAX;
	if (in->max_nodes > 0) {
		long used = (long)(in->nnodes + in->nodes_extra);

		w->node_room = in->max_nodes > used ? in->max_nodes - used : 0;
	}
	for (r = 0; r < NAP_RES_N; r++)
		w->minreq.v[r] = INT64_MAX / 4;
	for (i = 0; i < in->npending; i++)
		for (r = 0; r < NAP_RES_N; r++)
			if (in->pending[i].req.v[r] < w->minreq.v[r])
				w->minreq.v[r] = in->pending[i].req.v[r];
	*out = w;
	return 0;
}

/* The tier plan and every pending pod's tier in it, made by the first run that needs them. */
void
sched_world_plan(struct nap_sched_world *w)
{
	const struct nap_sched_input *in = w->in;
	size_t i, p;
	int pass;

	if (w->planned)
		return;
	sched_pool_plan(w);
	w->ptier = nap_xcalloc(in->npending * in->npools + 1, sizeof(*w->ptier));
	/*
	 * Quotas of pattern tiers are for simple pods; with none (tier0 0), a
	 * split plan's are for any planned pod (sched-plan.c, plan_split),
	 * those that keep apart by node taking what the others leave.
	 */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < in->npending; i++) {
			const struct nap_sched_pod *pod = &in->pending[i];
			int planned = sched_pod_planned(pod),
			    simple = planned && sched_pod_simple(pod);

			if (sched_pod_apart(pod) != pass)
				continue;
			for (p = 0; p < in->npools; p++) {
				size_t j = simple || (planned && w->tier0[p] == 0)
				    ? sched_quota_take(w, p, &pod->req)
				    : NAP_SCHED_NPOS;

				if (j == NAP_SCHED_NPOS && planned)
					j = sched_pod_tier(w, p, &pod->req);
				w->ptier[i * in->npools + p] = j;
			}
		}
	w->planned = 1;
}

/* The tier plan undone, for sched_world_plan to make again (nap_sched_run). */
void
sched_world_unplan(struct nap_sched_world *w)
{
	size_t p;

	for (p = 0; p < w->in->npools; p++) {
		sched_plan_unpattern(w, p);
		w->ntiers[p] = 0;
	}
	free(w->ptier);
	w->ptier = NULL;
	w->planned = w->plan_ceiled = 0;
}
