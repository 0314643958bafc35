/*
 * sched-class.c - requirement classes and their variants.
 *
 * Pending pods with an equal sig have equal constraints, so they form one
 * class; a variant is a class at one relaxation step (preferences still
 * required, Karpenter's relaxation order), with its effective requirements.
 * A variant caches its verdict per existing node and per NodePool (with the
 * sizes that pass both the pool's and its requirements, cheapest first),
 * in a struct vshare it shares with every variant equal in what those
 * verdicts read; under nocache each variant has its own and each verdict is
 * worked out again at every use.
 */
#include "sched-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t *
order_by_weight(
    const struct nap_sched_topo *topo, size_t ntopo, int kind, int spread_any, size_t *n)
{
	size_t *o = nap_xcalloc(ntopo + 1, sizeof(*o));
	size_t i, j, k = 0;

	for (i = 0; i < ntopo; i++) {
		if (topo[i].required)
			continue;
		if (spread_any ? topo[i].kind != NAP_SCHED_SPREAD : (int)topo[i].kind != kind)
			continue;
		o[k++] = i;
	}
	if (!spread_any) {
		for (i = 1; i < k; i++)
			for (j = i; j > 0 && topo[o[j]].weight > topo[o[j - 1]].weight; j--) {
				size_t x = o[j];

				o[j] = o[j - 1];
				o[j - 1] = x;
			}
	}
	*n = k;
	return o;
}

size_t
sched_class_add(struct st *s, const struct nap_sched_pod *p)
{
	struct klass *c;
	size_t i, j, n;

	if (p->sig) {
		void *v = nap_hash_get(&s->cls_by_sig, p->sig);

		if (v)
			return (size_t)(uintptr_t)v - 1;
	}
	nap_xgrow(&s->cls, &s->acls, s->ncls + 1, sizeof(*s->cls));
	c = &s->cls[s->ncls];
	memset(c, 0, sizeof(*c));
	c->proto = p;
	c->grp = nap_xcalloc(p->ntopo + 1, sizeof(*c->grp));
	for (i = 0; i < p->ntopo; i++)
		c->grp[i] = sched_group_get(s, &p->topo[i], p->ns);
	c->pref_order = nap_xcalloc(p->nprefs + 1, sizeof(*c->pref_order));
	for (i = 0; i < p->nprefs; i++)
		c->pref_order[i] = i;
	for (i = 1; i < p->nprefs; i++)
		for (j = i; j > 0 &&
		     p->prefs[c->pref_order[j]].weight > p->prefs[c->pref_order[j - 1]].weight;
		     j--) {
			n = c->pref_order[j];
			c->pref_order[j] = c->pref_order[j - 1];
			c->pref_order[j - 1] = n;
		}
	c->aff_order = order_by_weight(p->topo, p->ntopo, NAP_SCHED_AFFINITY, 0, &c->naff);
	c->anti_order = order_by_weight(p->topo, p->ntopo, NAP_SCHED_ANTI, 0, &c->nanti);
	c->any_order = order_by_weight(p->topo, p->ntopo, 0, 1, &c->nany);
	if (p->sig)
		nap_hash_put(&s->cls_by_sig, p->sig, (void *)(uintptr_t)(s->ncls + 1));
	return s->ncls++;
}

/* Append n bytes of p to the share key at *o, after their length (so no two keys run together). */
static void
key_put(struct st *s, size_t *o, const char *p, size_t n)
{
	nap_xgrow(&s->vkey, &s->avkey, *o + n + 18, 1);
	*o = sched_hex_put(s->vkey, *o, (uint64_t)n, ':');
	memcpy(s->vkey + *o, p, n);
	*o += n;
}

static void
key_num(struct st *s, size_t *o, int64_t v)
{
	nap_xgrow(&s->vkey, &s->avkey, *o + 18, 1);
	*o = sched_hex_put(s->vkey, *o, (uint64_t)v, ',');
}

static void
key_str(struct st *s, size_t *o, const char *p)
{
	key_put(s, o, p, strlen(p));
}

/*
 * Variant v's verdicts: shared with every variant that reads the same
 * requirements, tolerations, PreferNoSchedule choice and host ports (see
 * sched_node_verdict and sched_vpool_get); its own under nocache.
 */
static struct vshare *
share_get(struct st *s, const struct variant *v, const struct nap_sched_pod *p)
{
	struct vshare *sh;
	void **slot = NULL;
	size_t o = 0, i, j;
	int added;

	if (!s->nocache) {
		key_num(s, &o, v->tol_prefer);
		key_num(s, &o, (int64_t)v->reqs.n);
		for (i = 0; i < v->reqs.n; i++) {
			const struct nap_req *q = &v->reqs.v[i];

			key_str(s, &o, q->key);
			key_num(s, &o, q->complement);
			key_num(s, &o, q->has_gt ? q->gt : 0);
			key_num(s, &o, q->has_lt ? q->lt : 0);
			key_num(s, &o, (int64_t)(q->has_gt | q->has_lt << 1));
			key_num(s, &o, q->min_values);
			key_num(s, &o, (int64_t)q->nvalues);
			for (j = 0; j < q->nvalues; j++)
				key_str(s, &o, q->values[j]);
		}
		key_num(s, &o, (int64_t)p->ntols);
		for (i = 0; i < p->ntols; i++) {
			const struct nap_toleration *t = &p->tols[i];

			key_str(s, &o, t->key);
			key_num(s, &o, t->exists);
			key_str(s, &o, t->value);
			key_num(s, &o, t->effect);
			key_num(s, &o, t->seconds);
		}
		key_num(s, &o, (int64_t)p->nports);
		for (i = 0; i < p->nports; i++) {
			key_num(s, &o, p->ports[i].port);
			key_str(s, &o, p->ports[i].protocol);
			key_str(s, &o, p->ports[i].ip);
		}
		s->vkey[o] = '\0';
		slot = nap_hash_slot(&s->vsh_by_key, s->vkey, &added);
		if (!added)
			return *slot;
	}
	sh = nap_xcalloc(1, sizeof(*sh));
	sh->node_ok = nap_xmalloc(s->in->nnodes + 1);
	memset(sh->node_ok, -1, s->in->nnodes + 1);
	sh->pool = nap_xcalloc(s->in->npools + 1, sizeof(*sh->pool));
	nap_xgrow(&s->vsh, &s->avsh, s->nvsh + 1, sizeof(*s->vsh));
	s->vsh[s->nvsh++] = sh;
	if (slot)
		*slot = sh;
	return sh;
}

void
sched_vshare_free(struct vshare *sh, size_t npools)
{
	size_t i;

	for (i = 0; i < npools; i++) {
		free(sh->pool[i].why);
		free(sh->pool[i].types);
		if (sh->pool[i].state)
			nap_reqs_free(&sh->pool[i].reqs);
	}
	free(sh->pool);
	free(sh->node_ok);
	free(sh);
}

/*
 * The variant of class ci after step relaxations, in Karpenter's order:
 * required OR-terms (never the last), preferred pod affinity, preferred
 * anti-affinity, preferred node affinity (heaviest first), ScheduleAnyway
 * spreads, then tolerating PreferNoSchedule.  NULL when step is past the end.
 */
struct variant *
sched_variant_get(struct st *s, size_t ci, int step)
{
	struct klass *c = &s->cls[ci];
	const struct nap_sched_pod *p = c->proto;
	struct variant *v;
	size_t dterm = 0, daff = 0, danti = 0, dpref = 0, dany = 0, i;
	int tol = 0, k;

	while ((size_t)step >= c->nvar) {
		nap_xgrow(&c->var, &c->avar, c->nvar + 1, sizeof(*c->var));
		c->var[c->nvar++] = NULL;
	}
	if (c->var[step])
		return c->var[step];
	if (step > 0) {
		struct variant *prev = sched_variant_get(s, ci, step - 1);

		if (!prev || prev->last)
			return NULL;
	}
	for (k = 0; k < step; k++) {
		if (p->nterms > 1 && dterm < p->nterms - 1)
			dterm++;
		else if (daff < c->naff)
			daff++;
		else if (danti < c->nanti)
			danti++;
		else if (dpref < p->nprefs)
			dpref++;
		else if (dany < c->nany)
			dany++;
		else if (s->w->any_prefer_taint && !tol)
			tol = 1;
	}
	v = nap_xcalloc(1, sizeof(*v));
	v->cls = ci;
	v->step = step;
	v->tol_prefer = tol;
	v->last =
	    !((p->nterms > 1 && dterm < p->nterms - 1) || daff < c->naff || danti < c->nanti ||
		dpref < p->nprefs || dany < c->nany || (s->w->any_prefer_taint && !tol));
	nap_reqs_init(&v->reqs);
	if (p->nterms > 0) {
		nap_reqs_copy(&v->reqs, &p->terms[dterm]);
		v->strict = &p->terms[dterm];
	}
	if (dpref < p->nprefs)
		nap_reqs_intersect(&v->reqs, &p->prefs[c->pref_order[dpref]].reqs);
	if (p->volume)
		nap_reqs_intersect(&v->reqs, p->volume);
	v->topo_on = nap_xcalloc(p->ntopo + 1, 1);
	for (i = 0; i < p->ntopo; i++)
		v->topo_on[i] = 1;
	for (i = 0; i < daff; i++)
		v->topo_on[c->aff_order[i]] = 0;
	for (i = 0; i < danti; i++)
		v->topo_on[c->anti_order[i]] = 0;
	for (i = 0; i < dany; i++)
		v->topo_on[c->any_order[i]] = 0;
	v->sh = share_get(s, v, p);
	c->var[step] = v;
	return v;
}

void
sched_variant_free(struct variant *v)
{
	if (!v)
		return;
	free(v->topo_on);
	free(v->mask);
	free(v->mask_ok);
	free(v->smask);
	free(v->smask_ok);
	nap_reqs_free(&v->reqs);
	free(v);
}

/*
 * Types cheapest first (ties by catalog order), so a claim's first type is
 * what it would launch; ctx is the per-type price array (qsort_r).
 */
static int
cmp_price(const void *x, const void *y, void *ctx)
{
	const double *sort_price = ctx;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	if (sort_price[a] != sort_price[b])
		return sort_price[a] < sort_price[b] ? -1 : 1;
	return a < b ? -1 : a > b;
}

struct vpool *
sched_vpool_get(struct st *s, struct variant *v, size_t p)
{
	const struct nap_sched_input *in = s->in;
	const struct nap_sched_pool *pool = &in->pools[p];
	const struct nap_sched_pod *proto = s->cls[v->cls].proto;
	struct vpool *vp = &v->sh->pool[p];
	char why[WHY];
	size_t t;
	int nreq = 0, nport = 0;

	if (vp->state && !s->nocache)
		return vp;
	if (vp->state) {
		/* no cache: work it out again, from nothing */
		nap_reqs_free(&vp->reqs);
		free(vp->types);
		free(vp->why);
		memset(vp, 0, sizeof(*vp));
	}
	nap_reqs_init(&vp->reqs);
	vp->state = 2;
	if (pool->unusable) {
		vp->why = nap_xstrdup(pool->unusable);
		return vp;
	}
	if (!sched_taints_ok(
		pool->taints, pool->ntaints, proto, v->tol_prefer, 0, why, sizeof(why))) {
		vp->why = nap_xstrdup(why);
		return vp;
	}
	if (!nap_reqs_compatible(
		&pool->reqs, &v->reqs, NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, why, sizeof(why))) {
		vp->why = nap_xstrdup(why);
		return vp;
	}
	nap_reqs_copy(&vp->reqs, &pool->reqs);
	nap_reqs_intersect(&vp->reqs, &v->reqs);
	vp->types = nap_xcalloc(in->ntypes + 1, sizeof(size_t));
	for (t = 0; t < in->ntypes; t++) {
		if (!s->w->usable[p * in->ntypes + t])
			continue;
		if (!nap_reqs_intersects(&in->types[t].reqs, &vp->reqs, NULL, 0))
			continue;
		nreq++;
		if (!sched_offering_ok(&in->types[t], &vp->reqs, NULL))
			continue;
		/* a DaemonSet there holds a host port the pod needs (karpenter.md 1.6) */
		if (!sched_daemon_ports_ok(s->w, proto, p, t)) {
			nport++;
			continue;
		}
		vp->types[vp->ntypes++] = t;
	}
	qsort_r(vp->types, vp->ntypes, sizeof(size_t), cmp_price, &s->w->tprice[p * in->ntypes]);
	vp->types = nap_xrealloc(vp->types, (vp->ntypes + 1) * sizeof(size_t));
	if (vp->ntypes == 0) {
		char rs[WHY / 2];

		sched_fmt_reqs(&vp->reqs, rs, sizeof(rs));
		vp->why = nap_xasprintf("no instance type satisfied requirements %s (%s)", rs,
		    nport ? "a DaemonSet holds a host port the pod asks for on every instance type"
		    : nreq ? "no instance type has the required offering"
			   : "no instance type met the scheduling requirements");
		return vp;
	}
	vp->state = 1;
	return vp;
}

/* Does existing node ni take pods of variant v (taints, labels)?  Not cached here. */
int
sched_node_verdict(const struct st *s, const struct variant *v, size_t ni)
{
	static const struct nap_reqs none;
	const struct nap_sched_node *n = &s->in->nodes[ni];
	const struct nap_sched_pod *proto = s->cls[v->cls].proto;

	return sched_taints_ok(
		   n->taints, n->ntaints, proto, v->tol_prefer, !n->initialized, NULL, 0) &&
	    nap_reqs_compatible(n->labels ? n->labels : &none, &v->reqs, 0, NULL, 0);
}
