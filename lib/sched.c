/*
 * sched.c - the scheduling simulation (see sched.h for the contract).
 *
 * Speed comes from three caches, because the same few pod shapes meet the
 * same nodes and NodePools thousands of times: a "variant" is a pod class
 * (equal sig) at one relaxation step, holding its effective requirements and
 * its verdict per node and per NodePool (with the instance types that pass
 * the pool's and the pod's requirements); a claim remembers which variants
 * are already known to leave its requirements unchanged; and nodes or claims
 * too full for the smallest pending pod leave the scan lists.
 */
#include "sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define ZONE_KEY "topology.kubernetes.io/zone"
#define CTYPE_KEY "karpenter.sh/capacity-type"
#define HOST_KEY "kubernetes.io/hostname"
#define ITYPE_KEY "node.kubernetes.io/instance-type"
#define WHY 512
#define CACHE_N 8
/* Reasons are written only when someone will read them: scans pass NULL. */
#define WHYF(...) ((void)(why && snprintf(why, len, __VA_ARGS__)))

/* A topology key and the domains nap knows for it. */
struct tkey {
	const char *key;
	int is_host;
	char **vals; /* sorted; label keys only */
	size_t nvals;
};

/* A topology group: pods that share one constraint (equal sig). */
struct group {
	enum nap_sched_topo_kind kind;
	size_t tk;
	const struct nap_sched_topo *t; /* the first owner's term */
	const char *ns;			/* the first owner's namespace */
	int *count;			/* matching pods per domain */
	int *owners;			/* owners per domain (anti only) */
	size_t ncount;
	long total;  /* matching pods anywhere */
	int inverse; /* a bound pod's required anti-affinity */
};

struct vpool {
	int state; /* 0 unknown, 1 ok, 2 no */
	char *why;
	struct nap_reqs reqs; /* pool ∩ pod */
	size_t *types;	      /* usable and intersecting, pool order */
	size_t ntypes;
};

struct variant {
	size_t cls;
	int step;
	int last; /* no further relaxation */
	struct nap_reqs reqs;
	unsigned char *topo_on; /* per topo term of the class prototype */
	int tol_prefer;
	signed char *node_ok; /* per node: -1 unknown */
	struct vpool *pool;   /* per pool */
	uint64_t *mask;	      /* per tkey: domains its requirements allow */
	unsigned char *mask_ok;
};

struct klass {
	const struct nap_sched_pod *proto;
	size_t *grp;	 /* per topo term: group index */
	size_t *matched; /* groups whose selector selects this class */
	size_t nmatched;
	unsigned char *selfsel; /* per topo term: its selector selects the class */
	struct variant **var;	/* by step */
	size_t nvar, avar;
	/* relaxation order of the prototype's relaxable parts */
	size_t *pref_order;	 /* prefs by weight desc */
	size_t *aff_order, naff; /* preferred affinity terms by weight desc */
	size_t *anti_order, nanti;
	size_t *any_order, nany; /* ScheduleAnyway spreads */
};

struct claim {
	size_t idx;
	size_t pool;
	struct nap_reqs reqs;
	uint16_t *types; /* candidate sizes, indices into types (at most UINT16_MAX) */
	size_t ntypes;
	struct nap_res used;
	struct nap_res maxrem; /* max over types of cap - used: a quick bound */
	struct nap_res maxcap; /* max over types of cap (within the target size) */
	size_t maxcap_n;       /* ntypes when maxcap was taken, 0 = never */
	int capped;	       /* holds only pods of its tier, within that size */
	size_t tier;	       /* the size of its tier, when capped */
	size_t bucket;	       /* its list in st.corder */
	size_t key;	       /* free-growing: npods when last placed in its list */
	size_t pos;	       /* capped: its index in the bucket's ci[] */
	int tier_in;	       /* capped and its tier's size among types[] */
	/* shapes (variant + request, no topology) it refused since it last changed */
	uint64_t *refused;
	size_t nrefused; /* words */
	size_t *pods;
	size_t npods, apods;
	struct variant *known[CACHE_N]; /* variants that leave reqs unchanged */
	size_t nknown;
	int closed;
	uint64_t *mask;		/* per tkey: domains its requirements allow */
	unsigned char *mask_ok; /* reset whenever reqs change */
};

struct pin {
	const char *key;
	const char *val;
};

struct ranked {
	size_t t;
	double price;
	const char *name;
};

/* The usable types of a pool with an offering in a zone and capacity-type mask. */
struct rankc {
	size_t pool;
	uint64_t zm, cm;
	struct ranked *rk; /* ranked by that offering's price */
	size_t n;
	double *price; /* per type: that price, -1 none (or not usable) */
};

#define NAP_SCHED_NPOS ((size_t)-1)
#define NAP_SCHED_TIERS 4 /* most sizes one pool's plan fills */

/*
 * What one batch's simulations share: built by nap_sched_prepare from the
 * input alone, never changed by a run's placements.  The rank and delta
 * caches fill lazily as runs need them (their entries depend on the input
 * only, so one run's entries are right for the next); the tier plan is made
 * by the first run that packs by plan.
 */
struct nap_sched_world {
	const struct nap_sched_input *in;
	size_t *pool_order; /* pools by weight desc, name desc */
	/* per pool x type */
	unsigned char *usable;
	struct nap_res *cap; /* allocatable minus daemon overhead */
	struct nap_res *daemon;
	double *tprice;		   /* cheapest offering the pool allows */
	struct nap_res *pool_max;  /* per pool: max cap over usable types */
	struct nap_res *remaining; /* per pool: limit - used, before any run */
	int64_t *nodes_left;	   /* per pool: node limit - used, before any run */
	int any_prefer_taint;
	struct nap_res minreq; /* the smallest pending request, per resource */
	/* the tier plan (enum nap_sched_packing), made once */
	int planned;
	size_t *tiers;	/* per pool x NAP_SCHED_TIERS: sizes claims fill */
	size_t *ntiers; /* per pool */
	size_t *ptier;	/* per pending pod x pool: its tier's index, NPOS none */
	/* offerings by number: zone and capacity type of offer j of type t */
	const char *ozones[64], *octypes[64];
	size_t nozones, noctypes;
	size_t *obase; /* per type: index of its first offer */
	unsigned char *oz, *oc;
	struct rankc *rankc; /* rankings by (pool, zone, capacity type) */
	size_t nrankc, arankc;
	struct nap_hash dmemo; /* delta_memo: per delta, per type */
	char *dkey;
	size_t adkey;
};

/* One run: the placements so far, over a world. */
struct st {
	struct nap_sched_world *w;
	const struct nap_sched_input *in;
	const struct nap_sched_run_opts *opt;
	int nocache; /* every cache off: recompute what a cache would give */
	long *ndom;  /* per tkey x node: value index, -1 none */
	struct nap_sched_result *out;
	struct nap_res *remaining; /* per pool: limit - used */
	int64_t *nodes_left;
	struct nap_req *delta; /* try_claim: borrowed requirements that changed */
	size_t adelta;
	/* nodes */
	unsigned char *excluded; /* per node: taken away by the run's options */
	struct nap_res *avail;
	size_t *open_nodes;
	size_t nopen;
	/* classes */
	struct nap_hash cls_by_sig;
	struct klass *cls;
	size_t ncls, acls;
	size_t *pod_cls;
	/* topology */
	struct tkey *tk;
	size_t ntk, atk;
	struct group *grp;
	size_t ngrp, agrp;
	struct nap_hash grp_by_sig;
	/* claims */
	struct claim **claims;
	size_t nclaims, aclaims;
	/*
	 * Open claims, one list per bucket: 0 for claims that grow freely, by
	 * (npods, idx); 1 + pool x NAP_SCHED_TIERS + tier for capped ones,
	 * which only pods of that tier may join, in creation order.
	 */
	struct corder {
		size_t *ci;
		size_t n, alloc;
		/*
		 * Bucket 0: an upper bound of every open claim's maxrem, exact
		 * after a walk that found no room, raised by each new claim,
		 * and only ever too high otherwise (claims lose room as pods
		 * land).  Capped buckets have their tree's root instead.
		 */
		struct nap_res room;
		/*
		 * Capped buckets: ci[] in creation order (append only) and a
		 * segment tree over it, seg[1] the root, leaves from segcap on,
		 * each node the componentwise max of its claims' maxrem (a
		 * closed claim's leaf is -1): first fit costs O(log n) per
		 * claim looked at, however many claims the tier has.
		 */
		struct nap_res *seg;
		size_t segcap;
	} * corder;
	size_t ncorder;
	unsigned char *mark;	  /* per type, zero between uses */
	struct nap_hash shapes;	  /* "variant:request" -> shape id + 1 */
	struct nap_hash fit_from; /* request -> first node index it may fit + 1 */
	long cur_shape;		  /* of the pod being tried, -1 none */
	/* nocache: the one ranking and delta memo, redone at every use */
	struct rankc rank1;
	unsigned char *memo1;
	/* scratch */
	struct nap_reqs tmp;
	size_t *tbuf, *tbuf2;
	struct pin pins[16];
	size_t npins;
	char why[WHY];
};

static int
res_fits_sum(const struct nap_res *a, const struct nap_res *b, const struct nap_res *have)
{
	int i, ok = 1;

	for (i = 0; i < NAP_RES_N; i++)
		ok &= a->v[i] + b->v[i] <= have->v[i];
	return ok;
}

int
nap_sched_tolerates(
    const struct nap_sched_toleration *tols, size_t ntols, const struct nap_sched_taint *t)
{
	size_t i;

	for (i = 0; i < ntols; i++) {
		const struct nap_sched_toleration *o = &tols[i];

		if (o->effect >= 0 && (enum nap_sched_effect)o->effect != t->effect)
			continue;
		if (o->key == NULL || o->key[0] == '\0') {
			if (o->exists)
				return 1;
			continue;
		}
		if (strcmp(o->key, t->key) != 0)
			continue;
		if (o->exists)
			return 1;
		if (strcmp(o->value ? o->value : "", t->value ? t->value : "") == 0)
			return 1;
	}
	return 0;
}

static const char *
effect_name(enum nap_sched_effect e)
{
	switch (e) {
	case NAP_SCHED_NOSCHEDULE:
		return "NoSchedule";
	case NAP_SCHED_PREFERNOSCHEDULE:
		return "PreferNoSchedule";
	case NAP_SCHED_NOEXECUTE:
		return "NoExecute";
	}
	return "?";
}

/* Taints an uninitialized node is expected to lose (karpenter.md 2.3). */
static int
taint_is_ephemeral(const struct nap_sched_taint *t)
{
	static const char *const keys[] = {
	    "node.kubernetes.io/not-ready",
	    "node.kubernetes.io/unreachable",
	    "node.cloudprovider.kubernetes.io/uninitialized",
	    "karpenter.sh/unregistered",
	};
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(keys); i++)
		if (strcmp(t->key, keys[i]) == 0)
			return 1;
	return strncmp(t->key, "readiness.k8s.io/", 17) == 0;
}

/* 1 when every taint is tolerated; why names the first that is not. */
static int
taints_ok(const struct nap_sched_taint *taints, size_t n, const struct nap_sched_pod *p,
    int tol_prefer, int skip_ephemeral, char *why, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct nap_sched_taint *t = &taints[i];

		if (tol_prefer && t->effect == NAP_SCHED_PREFERNOSCHEDULE)
			continue;
		if (skip_ephemeral && taint_is_ephemeral(t))
			continue;
		if (nap_sched_tolerates(p->tols, p->ntols, t))
			continue;
		if (why)
			WHYF("did not tolerate taint %s%s%s:%s", t->key,
			    t->value && t->value[0] ? "=" : "", t->value ? t->value : "",
			    effect_name(t->effect));
		return 0;
	}
	return 1;
}

int
nap_sched_pod_cmp(const struct nap_sched_pod *a, const struct nap_sched_pod *b)
{
	int c;

	if (a->req.v[NAP_RES_CPU] != b->req.v[NAP_RES_CPU])
		return a->req.v[NAP_RES_CPU] > b->req.v[NAP_RES_CPU] ? -1 : 1;
	if (a->req.v[NAP_RES_MEMORY] != b->req.v[NAP_RES_MEMORY])
		return a->req.v[NAP_RES_MEMORY] > b->req.v[NAP_RES_MEMORY] ? -1 : 1;
	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	c = strcmp(a->uid ? a->uid : "", b->uid ? b->uid : "");
	if (c != 0)
		return c;
	c = strcmp(a->ns ? a->ns : "", b->ns ? b->ns : "");
	return c ? c : strcmp(a->name ? a->name : "", b->name ? b->name : "");
}

/* qsort_r over pending indices; ctx points to the pending array. */
static int
cmp_pending(const void *x, const void *y, void *ctx)
{
	const struct nap_sched_pod *pods = *(const struct nap_sched_pod **)ctx;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = nap_sched_pod_cmp(&pods[a], &pods[b]);

	return c ? c : (a < b ? -1 : a > b);
}

static int
req_equal(const struct nap_req *a, const struct nap_req *b)
{
	size_t i;

	if (strcmp(a->key, b->key) != 0 || a->complement != b->complement ||
	    a->nvalues != b->nvalues || a->has_gt != b->has_gt || a->has_lt != b->has_lt ||
	    (a->has_gt && a->gt != b->gt) || (a->has_lt && a->lt != b->lt) ||
	    a->min_values != b->min_values)
		return 0;
	for (i = 0; i < a->nvalues; i++)
		if (strcmp(a->values[i], b->values[i]) != 0)
			return 0;
	return 1;
}

static int
reqs_equal(const struct nap_reqs *a, const struct nap_reqs *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (!req_equal(&a->v[i], &b->v[i]))
			return 0;
	return 1;
}

/* An available offering of type t that reqs allow (zone and capacity type). */
static int
offering_ok(const struct nap_sched_itype *t, const struct nap_reqs *reqs, double *price)
{
	const struct nap_req *zr = nap_reqs_get(reqs, ZONE_KEY);
	const struct nap_req *cr = nap_reqs_get(reqs, CTYPE_KEY);
	size_t i;
	int ok = 0;

	for (i = 0; i < t->noff; i++) {
		const struct nap_sched_offer *o = &t->off[i];

		if (!o->available)
			continue;
		if (zr && !nap_req_allows(zr, o->zone))
			continue;
		if (cr && !nap_req_allows(cr, o->ctype))
			continue;
		if (!price)
			return 1;
		if (!ok || o->price < *price)
			*price = o->price;
		ok = 1;
	}
	return ok;
}

/* ---- topology keys and groups ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
tkey_get(struct st *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->ntk; i++)
		if (strcmp(s->tk[i].key, key) == 0)
			return i;
	nap_xgrow(&s->tk, &s->atk, s->ntk + 1, sizeof(*s->tk));
	memset(&s->tk[s->ntk], 0, sizeof(s->tk[0]));
	s->tk[s->ntk].key = key;
	s->tk[s->ntk].is_host = strcmp(key, HOST_KEY) == 0;
	return s->ntk++;
}

static void
tkey_add_val(struct tkey *k, const char *v, size_t *alloc)
{
	size_t i;

	for (i = 0; i < k->nvals; i++)
		if (strcmp(k->vals[i], v) == 0)
			return;
	nap_xgrow(&k->vals, alloc, k->nvals + 1, sizeof(*k->vals));
	k->vals[k->nvals++] = nap_xstrdup(v);
}

static long
tkey_find(const struct tkey *k, const char *v)
{
	size_t lo = 0, hi = k->nvals;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(k->vals[mid], v);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Bits of the domains of tk that r allows (tk has at most 64 domains). */
static uint64_t
reqs_mask(const struct nap_reqs *r, const struct tkey *tk)
{
	const struct nap_req *q = nap_reqs_get(r, tk->key);
	uint64_t m = 0;
	size_t j;

	for (j = 0; j < tk->nvals && j < 64; j++)
		if (!q || nap_req_allows(q, tk->vals[j]))
			m |= (uint64_t)1 << j;
	return m;
}

/* The value a node's labels give key, or NULL. */
static const char *
node_label(const struct nap_sched_node *n, const char *key)
{
	const struct nap_req *q;

	if (!n->labels)
		return NULL;
	q = nap_reqs_get(n->labels, key);
	if (!q || q->complement || q->nvalues != 1)
		return NULL;
	return q->values[0];
}

/*
 * The domains of every label key a topology term uses: values the usable
 * types allow under each pool, plus the labels of existing nodes.
 */
static void
tkeys_fill(struct st *s)
{
	const struct nap_sched_input *in = s->in;
	size_t k, p, t, i;

	for (k = 0; k < s->ntk; k++) {
		struct tkey *tk = &s->tk[k];
		size_t alloc = 0;

		if (tk->is_host)
			continue;
		for (p = 0; p < in->npools; p++) {
			const struct nap_req *pq = nap_reqs_get(&in->pools[p].reqs, tk->key);

			for (t = 0; t < in->ntypes; t++) {
				const struct nap_req *q;

				if (!s->w->usable[p * in->ntypes + t])
					continue;
				q = nap_reqs_get(&in->types[t].reqs, tk->key);
				if (q && !q->complement) {
					for (i = 0; i < q->nvalues; i++)
						if (!pq || nap_req_allows(pq, q->values[i]))
							tkey_add_val(tk, q->values[i], &alloc);
				} else if (pq && !pq->complement) {
					for (i = 0; i < pq->nvalues; i++)
						tkey_add_val(tk, pq->values[i], &alloc);
				}
			}
		}
		for (i = 0; i < in->nnodes; i++) {
			const char *v = node_label(&in->nodes[i], tk->key);

			if (v)
				tkey_add_val(tk, v, &alloc);
		}
		/* a key no pool, type or node defines has no values (and no array) */
		if (tk->nvals > 1)
			qsort(tk->vals, tk->nvals, sizeof(*tk->vals), cmp_str);
	}
}

static size_t
group_get(struct st *s, const struct nap_sched_topo *t, const char *ns)
{
	void *v = nap_hash_get(&s->grp_by_sig, t->sig);
	struct group *g;

	if (v)
		return (size_t)(uintptr_t)v - 1;
	nap_xgrow(&s->grp, &s->agrp, s->ngrp + 1, sizeof(*s->grp));
	g = &s->grp[s->ngrp];
	memset(g, 0, sizeof(*g));
	g->kind = t->kind;
	g->tk = tkey_get(s, t->key);
	g->t = t;
	g->ns = ns;
	nap_hash_put(&s->grp_by_sig, t->sig, (void *)(uintptr_t)(s->ngrp + 1));
	return s->ngrp++;
}

static int
group_selects(const struct group *g, const struct nap_sched_pod *p)
{
	size_t i;

	if (!g->t->sel)
		return 0;
	if (!g->t->all_namespaces) {
		int ok = 0;

		if (g->t->nnamespaces == 0)
			ok = strcmp(g->ns ? g->ns : "", p->ns ? p->ns : "") == 0;
		for (i = 0; i < g->t->nnamespaces && !ok; i++)
			ok = strcmp(g->t->namespaces[i], p->ns ? p->ns : "") == 0;
		if (!ok)
			return 0;
	}
	return nap_selector_matches(g->t->sel, p->labels);
}

static void
group_grow(struct group *g, size_t n)
{
	size_t old = g->ncount;

	if (n <= old)
		return;
	if (n < 2 * old)
		n = 2 * old;
	g->count = nap_xrealloc(g->count, n * sizeof(int));
	memset(g->count + old, 0, (n - old) * sizeof(int));
	if (g->kind == NAP_SCHED_ANTI) {
		g->owners = nap_xrealloc(g->owners, n * sizeof(int));
		memset(g->owners + old, 0, (n - old) * sizeof(int));
	}
	g->ncount = n;
}

static int
gcount(const struct group *g, long d)
{
	return d >= 0 && (size_t)d < g->ncount ? g->count[d] : 0;
}

static int
gowners(const struct group *g, long d)
{
	return g->owners && d >= 0 && (size_t)d < g->ncount ? g->owners[d] : 0;
}

static void
group_record(struct group *g, long d, int matched, int owner)
{
	if (d < 0)
		return;
	group_grow(g, (size_t)d + 1);
	if (matched) {
		g->count[d]++;
		g->total++;
	}
	if (owner && g->owners)
		g->owners[d]++;
}

/* ---- classes and variants ---- */

static struct klass *
class_of(struct st *s, size_t pi)
{
	return &s->cls[s->pod_cls[pi]];
}

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

static size_t
class_add(struct st *s, const struct nap_sched_pod *p)
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
		c->grp[i] = group_get(s, &p->topo[i], p->ns);
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

/*
 * The variant of class ci after step relaxations, in Karpenter's order:
 * required OR-terms (never the last), preferred pod affinity, preferred
 * anti-affinity, preferred node affinity (heaviest first), ScheduleAnyway
 * spreads, then tolerating PreferNoSchedule.  NULL when step is past the end.
 */
static struct variant *
variant_get(struct st *s, size_t ci, int step)
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
		struct variant *prev = variant_get(s, ci, step - 1);

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
	if (p->nterms > 0)
		nap_reqs_copy(&v->reqs, &p->terms[dterm]);
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
	v->node_ok = nap_xmalloc(s->in->nnodes + 1);
	memset(v->node_ok, -1, s->in->nnodes + 1);
	v->pool = nap_xcalloc(s->in->npools + 1, sizeof(*v->pool));
	c->var[step] = v;
	return v;
}

static void
variant_free(struct variant *v, size_t npools)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < npools; i++) {
		free(v->pool[i].why);
		free(v->pool[i].types);
		if (v->pool[i].state)
			nap_reqs_free(&v->pool[i].reqs);
	}
	free(v->pool);
	free(v->node_ok);
	free(v->topo_on);
	free(v->mask);
	free(v->mask_ok);
	nap_reqs_free(&v->reqs);
	free(v);
}

/* ---- topology evaluation ---- */

enum cand_kind { CAND_NODE, CAND_CLAIM, CAND_NEW };

struct cand {
	enum cand_kind kind;
	size_t idx;		     /* node or claim index */
	const struct nap_reqs *reqs; /* claim or new claim requirements */
	long host;		     /* host domain */
};

/* Does value index d pass every constraint of the pod on key k? */
static uint64_t var_mask(struct st *s, struct variant *v, size_t k);

static int
domain_ok(struct st *s, const struct klass *c, struct variant *v, size_t k, long d,
    int selfsel_ok_empty, char *why, size_t len)
{
	const struct nap_sched_pod *p = c->proto;
	size_t i;

	for (i = 0; i < p->ntopo; i++) {
		const struct group *g = &s->grp[c->grp[i]];
		const struct nap_sched_topo *t = &p->topo[i];

		if (!v->topo_on[i] || g->tk != k)
			continue;
		switch (t->kind) {
		case NAP_SCHED_SPREAD: {
			long gmin = 0;
			int skew = t->max_skew > 0 ? t->max_skew : 1;
			int self = c->selfsel[i];

			if (!s->tk[k].is_host) {
				size_t j, elig = 0;
				uint64_t m = var_mask(s, v, k);

				gmin = -1;
				for (j = 0; j < s->tk[k].nvals && j < 64; j++) {
					if (!(m & ((uint64_t)1 << j)))
						continue;
					elig++;
					if (gmin < 0 || gcount(g, (long)j) < gmin)
						gmin = gcount(g, (long)j);
				}
				if (gmin < 0 ||
				    (t->min_domains > 0 && elig < (size_t)t->min_domains))
					gmin = 0;
			}
			if (gcount(g, d) + self - gmin > skew) {
				WHYF(
				    "unsatisfiable topology spread constraint, key=%s (maxSkew %d)",
				    t->key, skew);
				return 0;
			}
			break;
		}
		case NAP_SCHED_AFFINITY:
			if (g->total > 0 ? gcount(g, d) == 0
					 : !(selfsel_ok_empty && c->selfsel[i])) {
				WHYF("unsatisfiable topology constraint for pod affinity, key=%s",
				    t->key);
				return 0;
			}
			break;
		case NAP_SCHED_ANTI:
			if (gcount(g, d) > 0) {
				WHYF("unsatisfiable topology constraint for pod anti-affinity, "
				     "key=%s",
				    t->key);
				return 0;
			}
			break;
		}
	}
	/*
	 * inverse anti-affinity: running pods keep the pods they select out of
	 * their domains; as in Karpenter, pods placed in this run do not
	 */
	for (i = 0; i < c->nmatched; i++) {
		const struct group *g = &s->grp[c->matched[i]];

		if (!g->inverse || g->tk != k)
			continue;
		if (gowners(g, d) > 0) {
			WHYF("unsatisfiable topology constraint for pod anti-affinity, key=%s "
			     "(inverse)",
			    s->tk[k].key);
			return 0;
		}
	}
	return 1;
}

/* The first spread group on key k the pod owns (to choose its domain), or -1. */
static long
spread_group(const struct st *s, const struct klass *c, const struct variant *v, size_t k)
{
	size_t i;

	for (i = 0; i < c->proto->ntopo; i++)
		if (v->topo_on[i] && c->proto->topo[i].kind == NAP_SCHED_SPREAD &&
		    s->grp[c->grp[i]].tk == k)
			return (long)c->grp[i];
	return -1;
}

/* Does the pod have anything to do with topology key k? */
static int
key_involved(const struct st *s, const struct klass *c, const struct variant *v, size_t k)
{
	size_t i;

	for (i = 0; i < c->proto->ntopo; i++)
		if (v->topo_on[i] && s->grp[c->grp[i]].tk == k)
			return 1;
	for (i = 0; i < c->nmatched; i++)
		if (s->grp[c->matched[i]].tk == k)
			return 1;
	return 0;
}

/* reqs_mask on key k, cached per key in *mask (allocated on first use). */
static uint64_t
cached_mask(
    struct st *s, uint64_t **mask, unsigned char **ok, const struct nap_reqs *reqs, size_t k)
{
	if (!*mask) {
		*mask = nap_xcalloc(s->ntk + 1, sizeof(**mask));
		*ok = nap_xcalloc(s->ntk + 1, 1);
	}
	if (!(*ok)[k] || s->nocache) {
		(*mask)[k] = reqs_mask(reqs, &s->tk[k]);
		(*ok)[k] = 1;
	}
	return (*mask)[k];
}

static uint64_t
var_mask(struct st *s, struct variant *v, size_t k)
{
	return cached_mask(s, &v->mask, &v->mask_ok, &v->reqs, k);
}

static uint64_t
claim_mask(struct st *s, struct claim *c, size_t k)
{
	return cached_mask(s, &c->mask, &c->mask_ok, &c->reqs, k);
}

/*
 * Check the pod's topology against a candidate; for claims, choose the
 * domain of each label key involved and leave the choice in s->pins.
 */
static int
topo_ok(struct st *s, const struct klass *c, struct variant *v, const struct cand *cd, char *why,
    size_t len)
{
	size_t k, j;

	s->npins = 0;
	for (k = 0; k < s->ntk; k++) {
		const struct tkey *tk = &s->tk[k];

		if (!key_involved(s, c, v, k))
			continue;
		if (tk->is_host) {
			if (!domain_ok(s, c, v, k, cd->host, 1, why, len))
				return 0;
			continue;
		}
		if (cd->kind == CAND_NODE) {
			long d = s->ndom[k * s->in->nnodes + cd->idx];

			if (d < 0) {
				size_t i;

				for (i = 0; i < c->proto->ntopo; i++)
					if (v->topo_on[i] && s->grp[c->grp[i]].tk == k &&
					    c->proto->topo[i].kind != NAP_SCHED_ANTI) {
						WHYF("node has no label %s", tk->key);
						return 0;
					}
				continue;
			}
			if (!domain_ok(s, c, v, k, d, 1, why, len))
				return 0;
			continue;
		} else {
			uint64_t m = var_mask(s, v, k);
			long sg = spread_group(s, c, v, k), best = -1;
			int bestc = 0;

			m &= cd->kind == CAND_CLAIM ? claim_mask(s, s->claims[cd->idx], k)
						    : reqs_mask(cd->reqs, tk);
			for (j = 0; j < tk->nvals && j < 64; j++) {
				if (!(m & ((uint64_t)1 << j)))
					continue;
				if (!domain_ok(s, c, v, k, (long)j, 1, why, len))
					continue;
				if (sg < 0) {
					best = (long)j;
					break;
				}
				if (best < 0 || gcount(&s->grp[sg], (long)j) < bestc) {
					best = (long)j;
					bestc = gcount(&s->grp[sg], (long)j);
				}
			}
			if (best < 0) {
				if (why && (!why[0] || tk->nvals == 0))
					WHYF("no domain of %s satisfies the topology constraints",
					    tk->key);
				return 0;
			}
			if (s->npins < NAP_ARRAY_LEN(s->pins)) {
				s->pins[s->npins].key = tk->key;
				s->pins[s->npins].val = tk->vals[best];
				s->npins++;
			}
		}
	}
	return 1;
}

/* Count a pod placed in the domains of a candidate (after pins applied). */
static void
topo_record(struct st *s, size_t pi, const struct variant *v, const struct cand *cd,
    const struct nap_reqs *reqs)
{
	const struct klass *c = class_of(s, pi);
	size_t i;

	for (i = 0; i < c->nmatched; i++) {
		struct group *g = &s->grp[c->matched[i]];
		const struct tkey *tk = &s->tk[g->tk];
		long d = -1;

		if (tk->is_host) {
			d = cd->host;
		} else if (cd->kind == CAND_NODE) {
			d = s->ndom[g->tk * s->in->nnodes + cd->idx];
		} else {
			const struct nap_req *q = nap_reqs_get(reqs, tk->key);

			if (q && !q->complement && q->nvalues == 1)
				d = tkey_find(tk, q->values[0]);
		}
		group_record(g, d, 1, 0);
	}
}

/* ---- NodePools and instance types ---- */

static int
daemon_lands(const struct nap_sched_pod *d, const struct nap_sched_pool *pool,
    const struct nap_reqs *pool_reqs, const struct nap_sched_itype *t)
{
	size_t i, nt = d->nterms ? d->nterms : 1;

	/* daemons always tolerate PreferNoSchedule (karpenter.md 1.4) */
	if (!taints_ok(pool->taints, pool->ntaints, d, 1, 0, NULL, 0))
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
	w->pool_max = nap_xcalloc(in->npools + 1, sizeof(*w->pool_max));
	w->remaining = nap_xcalloc(in->npools + 1, sizeof(*w->remaining));
	w->nodes_left = nap_xcalloc(in->npools + 1, sizeof(*w->nodes_left));
	for (p = 0; p < in->npools; p++) {
		const struct nap_sched_pool *pool = &in->pools[p];
		struct nap_reqs dreqs;

		for (i = 0; i < pool->ntaints; i++)
			if (pool->taints[i].effect == NAP_SCHED_PREFERNOSCHEDULE)
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
			if (!offering_ok(it, &pool->reqs, NULL))
				continue;
			for (d = 0; d < in->ndaemons; d++)
				if (daemon_lands(&in->daemons[d], pool, &dreqs, it))
					nap_res_add(&w->daemon[k], &in->daemons[d].req);
			w->cap[k] = pool->alloc[t];
			nap_res_sub(&w->cap[k], &w->daemon[k]);
			if (w->cap[k].v[NAP_RES_CPU] < 0 || w->cap[k].v[NAP_RES_MEMORY] < 0 ||
			    w->cap[k].v[NAP_RES_PODS] < 1)
				continue;
			w->usable[k] = 1;
			offering_ok(it, &pool->reqs, &w->tprice[k]);
			nap_res_max(&w->pool_max[p], &w->cap[k]);
		}
		nap_reqs_free(&dreqs);
	}
}

static void
fmt_reqs(const struct nap_reqs *r, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < r->n && o + 1 < len; i++) {
		char one[256];
		int w;

		nap_req_fmt(&r->v[i], one, sizeof(one));
		w = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", one);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

/*
 * The pod's requests as Karpenter prints a ResourceList in its message,
 * {"cpu":"1500m","memory":"2Gi"}, made from nap_res_fmt's "cpu=1500m
 * memory=2Gi": names and quantities need no escaping.
 */
static void
fmt_res_json(const struct nap_res *r, char *buf, size_t len)
{
	char plain[256];
	const char *p;
	size_t o = 0;
	int w;

	nap_res_fmt(r, plain, sizeof(plain));
	w = snprintf(buf, len, "{");
	o = w > 0 ? (size_t)w : 0;
	for (p = plain; *p && o < len;) {
		size_t nl = strcspn(p, "="), vl;

		if (p[nl] != '=')
			break;
		vl = strcspn(p + nl + 1, " ");
		w = snprintf(buf + o, len - o, "%s\"%.*s\":\"%.*s\"", p == plain ? "" : ",",
		    (int)nl, p, (int)vl, p + nl + 1);
		if (w < 0)
			break;
		o += (size_t)w;
		p += nl + 1 + vl;
		p += *p == ' ';
	}
	if (o < len)
		snprintf(buf + o, len - o, "}");
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

static struct vpool *
vpool_get(struct st *s, struct variant *v, size_t p)
{
	const struct nap_sched_input *in = s->in;
	const struct nap_sched_pool *pool = &in->pools[p];
	const struct nap_sched_pod *proto = s->cls[v->cls].proto;
	struct vpool *vp = &v->pool[p];
	char why[WHY];
	size_t t;
	int nreq = 0;

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
	if (!taints_ok(pool->taints, pool->ntaints, proto, v->tol_prefer, 0, why, sizeof(why))) {
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
		if (!offering_ok(&in->types[t], &vp->reqs, NULL))
			continue;
		vp->types[vp->ntypes++] = t;
	}
	qsort_r(vp->types, vp->ntypes, sizeof(size_t), cmp_price, &s->w->tprice[p * in->ntypes]);
	if (vp->ntypes == 0) {
		char rs[WHY / 2];

		fmt_reqs(&vp->reqs, rs, sizeof(rs));
		vp->why = nap_xasprintf("no instance type satisfied requirements %s (%s)", rs,
		    nreq ? "no instance type has the required offering"
			 : "no instance type met the scheduling requirements");
		return vp;
	}
	vp->state = 1;
	return vp;
}

/* ---- the tiered plan (enum nap_sched_packing) ---- */

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

/* The dimensions a plan weighs; GPU pods are left out of plans. */
static const int plan_rs[] = {NAP_RES_CPU, NAP_RES_MEMORY, NAP_RES_PODS};
#define PLAN_NRS (sizeof(plan_rs) / sizeof(plan_rs[0]))

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
		eff = c - 0.5 * d[j] / n;
		if (eff <= 0)
			return -1;
		if (d[j] / eff > need)
			need = d[j] / eff;
	}
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
plan_single(const struct nap_sched_world *w, size_t p, const double *d, const double *m, double n, double *cost)
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
static void
pool_plan(struct nap_sched_world *w)
{
	const struct nap_sched_input *in = w->in;
	struct shape *sh;
	struct nap_res *reqs;
	unsigned char *live, *fit;
	size_t i, n = 0, nsh = 0, p, t;

	reqs = nap_xcalloc(in->npending + 1, sizeof(*reqs));
	for (i = 0; i < in->npending; i++) {
		const struct nap_sched_pod *pod = &in->pending[i];

		if (pod->never || pod->req.v[NAP_RES_NVIDIA_GPU] > 0 ||
		    pod->req.v[NAP_RES_AMD_GPU] > 0)
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
		double d[PLAN_NRS], m[PLAN_NRS], cnt, single = 0;
		size_t base = p * in->ntypes, last;

		w->ntiers[p] = 0;
		/* shapes no usable size takes are not planned for */
		for (i = 0; i < nsh; i++)
			live[i] = nap_res_fits(&sh[i].req, &w->pool_max[p]);
		cnt = plan_sum(sh, nsh, live, d, m);
		if (cnt <= 0)
			continue;
		last = plan_single(w, p, d, m, cnt, &single);
		while (last != NAP_SCHED_NPOS && w->ntiers[p] + 1 < NAP_SCHED_TIERS) {
			double best = single * 0.98;
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
					bs = t;
				}
			}
			if (bs == NAP_SCHED_NPOS)
				break;
			w->tiers[p * NAP_SCHED_TIERS + w->ntiers[p]++] = bs;
			for (i = 0; i < nsh; i++)
				if (live[i] && nap_res_fits(&sh[i].req, &w->cap[base + bs]))
					live[i] = 0;
			cnt = plan_sum(sh, nsh, live, d, m);
			last = plan_single(w, p, d, m, cnt, &single);
		}
		if (last != NAP_SCHED_NPOS)
			w->tiers[p * NAP_SCHED_TIERS + w->ntiers[p]++] = last;
	}
	free(live);
	free(fit);
	free(sh);
}

/* The index of the tier of pool p a pod of request req fills, or NPOS: grows freely. */
static size_t
pod_tier(const struct nap_sched_world *w, size_t p, const struct nap_res *req)
{
	size_t j, base = p * w->in->ntypes;

	if (req->v[NAP_RES_NVIDIA_GPU] > 0 || req->v[NAP_RES_AMD_GPU] > 0)
		return NAP_SCHED_NPOS;
	for (j = 0; j < w->ntiers[p]; j++) {
		size_t t = w->tiers[p * NAP_SCHED_TIERS + j];

		if (nap_res_fits(req, &w->cap[base + t]))
			return j;
	}
	return NAP_SCHED_NPOS;
}

/* Pending pod pi's tier in pool p under the run's packing, or NPOS. */
static size_t
tier_of(const struct st *s, size_t pi, size_t p)
{
	if (s->opt->packing != NAP_SCHED_PACK_TARGET)
		return NAP_SCHED_NPOS;
	return s->w->ptier[pi * s->in->npools + p];
}

/* The capacity a capped claim may fill, or NULL when it grows freely. */
static const struct nap_res *
claim_cap(const struct st *s, const struct claim *c)
{
	if (!c->capped)
		return NULL;
	return &s->w->cap[c->pool * s->in->ntypes + c->tier];
}

/* ---- claims ---- */

static void
claim_tier_in(struct claim *c)
{
	size_t i;

	c->tier_in = 0;
	for (i = 0; c->capped && i < c->ntypes && !c->tier_in; i++)
		c->tier_in = c->types[i] == c->tier;
}

static void
claim_maxrem(struct st *s, struct claim *c)
{
	size_t i, base = c->pool * s->in->ntypes;
	int k;

	if (s->nocache)
		c->maxcap_n = 0;
	/* its sizes only ever shrink to a subset: an equal count is the same set */
	if (c->maxcap_n != c->ntypes && !s->nocache) {
		/*
		 * Capped and its tier's size still a candidate: no other size
		 * can raise the bound above the tier's, so that is the bound.
		 */
		if (c->tier_in) {
			c->maxcap = s->w->cap[c->pool * s->in->ntypes + c->tier];
			c->maxcap_n = c->ntypes;
		}
	}
	if (c->maxcap_n != c->ntypes) {
		nap_res_zero(&c->maxcap);
		for (i = 0; i < c->ntypes; i++)
			nap_res_max(&c->maxcap, &s->w->cap[base + c->types[i]]);
		if (c->capped)
			for (k = 0; k < NAP_RES_N; k++)
				if (claim_cap(s, c)->v[k] < c->maxcap.v[k])
					c->maxcap.v[k] = claim_cap(s, c)->v[k];
		c->maxcap_n = c->ntypes;
	}
	for (k = 0; k < NAP_RES_N; k++)
		c->maxrem.v[k] = c->maxcap.v[k] - c->used.v[k];
	if (s->nocache)
		return;
	if (c->maxrem.v[NAP_RES_CPU] < s->w->minreq.v[NAP_RES_CPU] ||
	    c->maxrem.v[NAP_RES_MEMORY] < s->w->minreq.v[NAP_RES_MEMORY] ||
	    c->maxrem.v[NAP_RES_PODS] < 1)
		c->closed = 1;
}

/*
 * In a free-growing list, is claim a before claim b?  Fewest pods first,
 * as Karpenter tries them, then creation; by the pod counts they were
 * filed under.
 */
static int
claim_before(const struct claim *a, const struct claim *b)
{
	return a->key < b->key || (a->key == b->key && a->idx < b->idx);
}

static void
seg_pull(struct corder *co, size_t x)
{
	int r;

	for (r = 0; r < NAP_RES_N; r++)
		co->seg[x].v[r] = co->seg[2 * x].v[r] > co->seg[2 * x + 1].v[r]
		    ? co->seg[2 * x].v[r]
		    : co->seg[2 * x + 1].v[r];
}

/* Set leaf i (the tree grown as needed) to room and fix its ancestors. */
static void
seg_set(struct corder *co, size_t i, const struct nap_res *room)
{
	size_t x;
	int r;

	if (i >= co->segcap) {
		size_t cap = co->segcap ? co->segcap : 64, old = co->segcap, j;
		struct nap_res *seg;

		while (cap <= i)
			cap *= 2;
		seg = nap_xcalloc(2 * cap, sizeof(*seg));
		for (j = 0; j < 2 * cap; j++)
			for (r = 0; r < NAP_RES_N; r++)
				seg[j].v[r] = -1;
		for (j = 0; j < old; j++)
			seg[cap + j] = co->seg[old + j];
		free(co->seg);
		co->seg = seg;
		co->segcap = cap;
		for (x = cap - 1; x >= 1; x--)
			seg_pull(co, x);
	}
	x = co->segcap + i;
	co->seg[x] = *room;
	for (x /= 2; x >= 1; x /= 2)
		seg_pull(co, x);
}

static size_t
seg_find_r(
    const struct corder *co, size_t x, size_t lo, size_t hi, size_t from, const struct nap_res *req)
{
	size_t mid, got;

	if (hi <= from || !nap_res_fits(req, &co->seg[x]))
		return NAP_SCHED_NPOS;
	if (x >= co->segcap)
		return lo;
	mid = lo + (hi - lo) / 2;
	got = seg_find_r(co, 2 * x, lo, mid, from, req);
	return got != NAP_SCHED_NPOS ? got : seg_find_r(co, 2 * x + 1, mid, hi, from, req);
}

/* The first claim at or after from whose room fits req, or co->n. */
static size_t
seg_find(const struct corder *co, size_t from, const struct nap_res *req)
{
	size_t got;

	if (!co->segcap)
		return co->n;
	got = seg_find_r(co, 1, 0, co->segcap, from, req);
	return got == NAP_SCHED_NPOS || got >= co->n ? co->n : got;
}

/*
 * Keep a claim's corder list sorted by (key, creation) after claim ci
 * changed (a new claim is appended last): take it out from where its stored
 * key puts it and put it back where its new key belongs, both found by
 * binary search.  A claim that closed stays out: no pod is tried on it
 * again.
 */
static void
claim_reorder(struct st *s, size_t ci, int is_new)
{
	struct claim *c = s->claims[ci];
	struct corder *co = &s->corder[c->bucket];
	size_t n = co->n, lo = 0, hi, from;

	if (c->capped) {
		struct nap_res gone;
		int r;

		for (r = 0; r < NAP_RES_N; r++)
			gone.v[r] = -1;
		seg_set(co, c->pos, c->closed ? &gone : &c->maxrem);
		return;
	}
	if (is_new) {
		from = n - 1;
	} else {
		hi = n;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			const struct claim *m = s->claims[co->ci[mid]];

			if (claim_before(m, c))
				lo = mid + 1;
			else
				hi = mid;
		}
		for (from = lo; from < n && co->ci[from] != ci; from++)
			;
		if (from == n)
			return;
	}
	memmove(&co->ci[from], &co->ci[from + 1], (n - 1 - from) * sizeof(size_t));
	if (c->closed) {
		co->n--;
		return;
	}
	c->key = c->npods;
	lo = 0;
	hi = n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct claim *m = s->claims[co->ci[mid]];

		if (claim_before(m, c))
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&co->ci[lo + 1], &co->ci[lo], (n - 1 - lo) * sizeof(size_t));
	co->ci[lo] = ci;
}

static void
claim_add_pod(struct claim *c, size_t pi)
{
	nap_xgrow(&c->pods, &c->apods, c->npods + 1, sizeof(*c->pods));
	c->pods[c->npods++] = pi;
}

static void
apply_pins(struct st *s, struct nap_reqs *r)
{
	size_t i;

	for (i = 0; i < s->npins; i++) {
		const char *v = s->pins[i].val;

		nap_reqs_add(r, s->pins[i].key, NAP_OP_IN, &v, 1, 0, NULL);
	}
}

static int
pins_change(struct st *s, const struct nap_reqs *r)
{
	size_t i;

	for (i = 0; i < s->npins; i++) {
		const struct nap_req *q = nap_reqs_get(r, s->pins[i].key);

		if (!q || q->complement || q->nvalues != 1 ||
		    strcmp(q->values[0], s->pins[i].val) != 0)
			return 1;
	}
	return 0;
}

static int
min_values_ok(
    struct st *s, const struct nap_reqs *r, const size_t *types, size_t n, char *why, size_t len)
{
	const struct nap_reqs **its;
	size_t i;
	long need;

	if (!nap_reqs_has_min_values(r))
		return 1;
	its = nap_xcalloc(n + 1, sizeof(*its));
	for (i = 0; i < n; i++)
		its[i] = &s->in->types[types[i]].reqs;
	need = nap_reqs_min_values_needed(r, (const struct nap_reqs *const *)its, n, why, len);
	free(its);
	return need >= 0;
}

/*
 * Remember a refusal that depends only on the claim and the pod's shape (its
 * variant and request, for pods without topology, whose counts move as other
 * pods land), so every later pod of that shape is refused with one bit test
 * until the claim changes.
 */
static int
refuse(struct st *s, struct claim *c)
{
	long sh = s->cur_shape;

	if (sh < 0 || s->nocache)
		return 0;
	if ((size_t)sh / 64 >= c->nrefused) {
		size_t old = c->nrefused, n = (size_t)sh / 64 + 1;

		c->refused = nap_xrealloc(c->refused, n * sizeof(uint64_t));
		memset(c->refused + old, 0, (n - old) * sizeof(uint64_t));
		c->nrefused = n;
	}
	c->refused[sh / 64] |= (uint64_t)1 << (sh % 64);
	return 0;
}

static int
refused(const struct st *s, const struct claim *c)
{
	long sh = s->cur_shape;

	return sh >= 0 && !s->nocache && (size_t)sh / 64 < c->nrefused && (c->refused[sh / 64] >> (sh % 64) & 1);
}

/* The shape id of a pod at a variant, or -1 when topology makes it unique. */
/* Append v as lowercase hex and a separator; returns the new length. */
static size_t
hex_put(char *buf, size_t o, uint64_t v, char sep)
{
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	while (n)
		buf[o++] = tmp[--n];
	buf[o++] = sep;
	return o;
}

static long
shape_of(struct st *s, const struct variant *v, const struct nap_res *req)
{
	const struct klass *k = &s->cls[v->cls];
	char key[18 * (NAP_RES_N + 1) + 1];
	size_t o;
	int r;
	void *got;

	if (k->proto->ntopo > 0 || k->nmatched > 0)
		return -1;
	/* by hand: this runs for every pod placed, and snprintf showed */
	o = hex_put(key, 0, (uint64_t)(uintptr_t)v, ':');
	for (r = 0; r < NAP_RES_N; r++)
		o = hex_put(key, o, (uint64_t)req->v[r], ':');
	key[o] = '\0';
	got = nap_hash_get(&s->shapes, key);
	if (got)
		return (long)(uintptr_t)got - 1;
	nap_hash_put(&s->shapes, key, (void *)(uintptr_t)(nap_hash_count(&s->shapes) + 1));
	return (long)nap_hash_count(&s->shapes) - 1;
}

static int
op_negative(const struct nap_req *q)
{
	enum nap_op op = nap_req_op(q);

	return op == NAP_OP_NOTIN || op == NAP_OP_DOESNOTEXIST;
}

/* nap_reqs_intersects(r, d) for a short d: a lookup per key of d, not a merge. */
static int
delta_ok(const struct nap_reqs *r, const struct nap_reqs *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct nap_req *q = nap_reqs_get(r, d->v[i].key);

		if (q && !nap_req_intersects(q, &d->v[i]) &&
		    !(op_negative(q) && op_negative(&d->v[i])))
			return 0;
	}
	return 1;
}

static uint64_t
small_mask(const char *const *tab, size_t n, const struct nap_req *q)
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

static const struct rankc *rank_cached(struct st *s, size_t p, uint64_t zm, uint64_t cm);

/*
 * Per distinct delta (the requirements a join narrows), delta_ok's verdict
 * per type, filled as asked: 0 not yet known, 1 ok, 2 not.  Joins narrow
 * the same few ways (a zone pinned, a capacity type chosen) over and over.
 */
static unsigned char *
delta_memo(struct st *s, const struct nap_reqs *d)
{
	size_t i, j, o = 0;
	unsigned char *m;

	if (s->nocache) {
		/* no cache: every type tested again */
		if (!s->memo1)
			s->memo1 = nap_xcalloc(s->in->ntypes + 1, 1);
		memset(s->memo1, 0, s->in->ntypes + 1);
		return s->memo1;
	}
	/* label keys and values hold no control characters: \x1f and \x1e separate */
	for (i = 0; i < d->n; i++) {
		const struct nap_req *q = &d->v[i];
		size_t need = strlen(q->key) + 96;

		for (j = 0; j < q->nvalues; j++)
			need += strlen(q->values[j]) + 1;
		nap_xgrow(&s->w->dkey, &s->w->adkey, o + need + 1, 1);
		o += (size_t)snprintf(s->w->dkey + o, need, "%s\x1f%d,%d,%lld,%d,%lld,%d", q->key,
		    q->complement, q->has_gt, (long long)q->gt, q->has_lt, (long long)q->lt,
		    q->min_values);
		for (j = 0; j < q->nvalues; j++)
			o += (size_t)snprintf(s->w->dkey + o, need, "\x1f%s", q->values[j]);
		s->w->dkey[o++] = '\x1e';
	}
	nap_xgrow(&s->w->dkey, &s->w->adkey, o + 1, 1);
	s->w->dkey[o] = '\0';
	m = nap_hash_get(&s->w->dmemo, s->w->dkey);
	if (!m) {
		m = nap_xcalloc(s->in->ntypes + 1, 1);
		nap_hash_put(&s->w->dmemo, s->w->dkey, m);
	}
	return m;
}

static int
try_claim(struct st *s, size_t pi, struct variant *v, size_t ci, char *why, size_t len)
{
	const struct nap_sched_input *in = s->in;
	const struct nap_sched_pod *p = &in->pending[pi];
	struct klass *k = &s->cls[v->cls];
	struct claim *c = s->claims[ci];
	const struct nap_reqs *nr = &c->reqs;
	struct cand cd;
	struct nap_reqs delta = {NULL, 0, 0};
	size_t i, n = 0, base = c->pool * in->ntypes;
	int known = 0, changed;
	unsigned char *memo = NULL;
	const double *price = NULL;
	uint64_t zm = 0, cm = 0;

	if (c->closed || !nap_res_fits(&p->req, &c->maxrem))
		return 0;
	if (refused(s, c))
		return 0;
	if (vpool_get(s, v, c->pool)->state != 1)
		return 0;
	for (i = 0; i < c->nknown && !s->nocache; i++)
		known |= c->known[i] == v;
	if (!known &&
	    !nap_reqs_compatible(&c->reqs, &v->reqs, NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, why, len))
		return 0;
	/* topology reads the claim's and the pod's requirements side by side: no copy yet */
	cd.kind = CAND_CLAIM;
	cd.idx = ci;
	cd.reqs = &c->reqs;
	cd.host = (long)(in->nnodes + c->idx);
	if (!topo_ok(s, k, v, &cd, why, len))
		return 0;
	if (c->tier_in && !s->nocache) {
		/* its tier's size is the bound, and a candidate: it decides */
		if (!res_fits_sum(&c->used, &p->req, &s->w->cap[base + c->tier]))
			return refuse(s, c);
	} else {
		for (i = 0; i < c->ntypes; i++)
			if (res_fits_sum(&c->used, &p->req, &s->w->cap[base + c->types[i]]))
				break;
		if (i == c->ntypes)
			return refuse(s, c);
	}
	if (!known) {
		nap_reqs_copy(&s->tmp, &c->reqs);
		nap_reqs_intersect(&s->tmp, &v->reqs);
		nr = &s->tmp;
	}
	cd.reqs = nr;
	if (s->npins && pins_change(s, nr)) {
		if (nr != &s->tmp) {
			nap_reqs_copy(&s->tmp, &c->reqs);
			nr = &s->tmp;
		}
		apply_pins(s, &s->tmp);
	}
	changed = nr == &s->tmp && !reqs_equal(&s->tmp, &c->reqs);
	if (c->capped && !res_fits_sum(&c->used, &p->req, claim_cap(s, c)))
		return refuse(s, c);
	if (changed) {
		/*
		 * The claim's types already intersect its requirements and nr only
		 * narrows them (intersection is per key), so only the keys that
		 * changed need testing: borrowed entries, not a copy.
		 */
		nap_xgrow(&s->delta, &s->adelta, nr->n + 1, sizeof(*s->delta));
		delta.v = s->delta;
		delta.n = 0;
		for (i = 0; i < nr->n; i++) {
			const struct nap_req *was = nap_reqs_get(&c->reqs, nr->v[i].key);

			if (!was || !req_equal(was, &nr->v[i]))
				delta.v[delta.n++] = nr->v[i];
		}
	}
	/*
	 * Lazy narrowing: a capped claim whose tier size is still a candidate,
	 * joined without new requirements and with no minValues to keep, fits
	 * the pod on that size; its list keeps sizes that no longer fit, and
	 * claim_finalize drops them (used only grows, so the final list is the
	 * same as narrowing at every join).
	 */
	if (c->tier_in && !changed && !nap_reqs_has_min_values(nr) && !s->nocache) {
		nap_res_add(&c->used, &p->req);
		goto joined;
	}
	if (changed) {
		memo = delta_memo(s, &delta);
		zm = small_mask(s->w->ozones, s->w->nozones, nap_reqs_get(nr, ZONE_KEY));
		cm = small_mask(s->w->octypes, s->w->noctypes, nap_reqs_get(nr, CTYPE_KEY));
		price = rank_cached(s, c->pool, zm, cm)->price;
	}
	for (i = 0; i < c->ntypes; i++) {
		size_t t = c->types[i];

		if (!res_fits_sum(&c->used, &p->req, &s->w->cap[base + t]))
			continue;
		if (changed) {
			if (!memo[t])
				memo[t] = delta_ok(&in->types[t].reqs, &delta) ? 1 : 2;
			if (memo[t] != 1 || price[t] < 0)
				continue;
			if (s->opt->max_price > 0 && price[t] >= s->opt->max_price)
				continue;
		}
		s->tbuf[n++] = t;
	}
	if (n == 0) {
		WHYF("no instance type of the claim fits the pod");
		return 0;
	}
	if (!min_values_ok(s, nr, s->tbuf, n, why, len))
		return 0;
	/* commit */
	for (i = 0; i < n; i++)
		c->types[i] = (uint16_t)s->tbuf[i];
	c->ntypes = n;
	claim_tier_in(c);
	nap_res_add(&c->used, &p->req);
joined:
	if (changed) {
		nap_reqs_copy(&c->reqs, &s->tmp);
		c->nknown = 0;
		if (c->mask_ok)
			memset(c->mask_ok, 0, s->ntk);
	}
	if (c->nknown < CACHE_N && (changed || !known) && !s->nocache)
		c->known[c->nknown++] = v;
	claim_add_pod(c, pi);
	if (c->nrefused)
		memset(c->refused, 0, c->nrefused * sizeof(uint64_t));
	topo_record(s, pi, v, &cd, &c->reqs);
	claim_maxrem(s, c);
	claim_reorder(s, ci, 0);
	s->out->place[pi].where = NAP_SCHED_CLAIM;
	s->out->place[pi].index = ci;
	return 1;
}

static int
try_new(struct st *s, size_t pi, struct variant *v, size_t p, char *why, size_t len)
{
	const struct nap_sched_input *in = s->in;
	const struct nap_sched_pod *pod = &in->pending[pi];
	struct klass *k = &s->cls[v->cls];
	struct vpool *vp = vpool_get(s, v, p);
	const struct nap_reqs *nr;
	struct nap_res maxcap;
	struct claim *c;
	struct cand cd;
	size_t i, j, n = 0, base = p * in->ntypes, nfit = 0, dear = 0;
	const double *price = NULL, ceiling = s->opt->max_price;
	uint64_t zm = 0, cm = 0;
	int r;

	if (vp->state != 1) {
		WHYF("%s", vp->why);
		return 0;
	}
	if (s->nodes_left[p] <= 0) {
		WHYF("all available instance types exceed limits for nodepool: \"%s\"",
		    in->pools[p].name);
		return 0;
	}
	if (s->opt->max_claims >= 0 && s->nclaims >= (size_t)s->opt->max_claims) {
		WHYF("no new nodeclaim allowed: the simulation may make at most %ld",
		    s->opt->max_claims);
		return 0;
	}
	cd.kind = CAND_NEW;
	cd.idx = 0;
	cd.reqs = &vp->reqs;
	cd.host = (long)(in->nnodes + s->nclaims);
	if (!topo_ok(s, k, v, &cd, why, len))
		return 0;
	nr = &vp->reqs;
	if (s->npins && pins_change(s, nr)) {
		nap_reqs_copy(&s->tmp, &vp->reqs);
		apply_pins(s, &s->tmp);
		nr = &s->tmp;
	}
	if (nr != &vp->reqs || ceiling > 0) {
		zm = small_mask(s->w->ozones, s->w->nozones, nap_reqs_get(nr, ZONE_KEY));
		cm = small_mask(s->w->octypes, s->w->noctypes, nap_reqs_get(nr, CTYPE_KEY));
		price = rank_cached(s, p, zm, cm)->price;
	}
	for (i = 0; i < vp->ntypes; i++) {
		size_t t = vp->types[i];
		const struct nap_res *capy = &in->pools[p].capacity[t];

		if (!nap_res_fits(&pod->req, &s->w->cap[base + t]))
			continue;
		nfit++;
		for (r = 0; r < NAP_RES_N; r++)
			if (in->pools[p].has_limit[r] && capy->v[r] > s->remaining[p].v[r])
				break;
		if (r < NAP_RES_N)
			continue;
		if (price && price[t] < 0)
			continue;
		if (ceiling > 0 && price[t] >= ceiling) {
			dear++;
			continue;
		}
		s->tbuf[n++] = t;
	}
	if (n == 0 && dear) {
		WHYF("no instance type of nodepool \"%s\" that fits is cheaper than $%g/h",
		    in->pools[p].name, ceiling);
		return 0;
	}
	if (n == 0) {
		char rs[WHY / 2], res[128], *msg;

		if (nfit && n == 0 && nr == &vp->reqs) {
			WHYF("all available instance types exceed limits for nodepool: \"%s\"",
			    in->pools[p].name);
			return 0;
		}
		fmt_reqs(nr, rs, sizeof(rs));
		fmt_res_json(&pod->req, res, sizeof(res));
		msg = nap_xasprintf(
		    "no instance type satisfied resources %s and requirements %s (%s)%s", res, rs,
		    nfit ? "no instance type which had enough resources and the required "
			   "offering met the scheduling requirements"
			 : "no instance type has enough resources",
		    pod->req.v[NAP_RES_CPU] >= 1000000000
			? " (cpu request looks like a typo: m vs M?)"
			: "");
		WHYF("%s", msg);
		free(msg);
		return 0;
	}
	if (!min_values_ok(s, nr, s->tbuf, n, why, len))
		return 0;
	c = nap_xcalloc(1, sizeof(*c));
	c->idx = s->nclaims;
	c->pool = p;
	nap_reqs_init(&c->reqs);
	nap_reqs_copy(&c->reqs, nr);
	j = tier_of(s, pi, p);
	c->capped = j != NAP_SCHED_NPOS;
	c->tier = c->capped ? s->w->tiers[p * NAP_SCHED_TIERS + j] : NAP_SCHED_NPOS;
	c->bucket = c->capped ? 1 + p * NAP_SCHED_TIERS + j : 0;
	c->types = nap_xcalloc(n + 1, sizeof(*c->types)); /* only ever shrinks */
	for (i = 0; i < n; i++)
		c->types[i] = (uint16_t)s->tbuf[i];
	claim_tier_in(c);
	c->ntypes = n;
	c->used = pod->req;
	if (nr == &vp->reqs && !s->nocache)
		c->known[c->nknown++] = v;
	claim_add_pod(c, pi);
	nap_res_zero(&maxcap);
	for (i = 0; i < n; i++)
		nap_res_max(&maxcap, &in->pools[p].capacity[c->types[i]]);
	nap_res_sub(&s->remaining[p], &maxcap);
	s->nodes_left[p]--;
	nap_xgrow(&s->claims, &s->aclaims, s->nclaims + 1, sizeof(*s->claims));
	s->claims[s->nclaims] = c;
	{
		struct corder *co = &s->corder[c->bucket];

		nap_xgrow(&co->ci, &co->alloc, co->n + 1, sizeof(*co->ci));
		c->pos = co->n;
		co->ci[co->n++] = s->nclaims;
	}
	s->nclaims++;
	cd.kind = CAND_CLAIM;
	cd.idx = c->idx;
	topo_record(s, pi, v, &cd, &c->reqs);
	claim_maxrem(s, c);
	if (!c->capped)
		nap_res_max(&s->corder[0].room, &c->maxrem);
	claim_reorder(s, c->idx, 1);
	s->out->place[pi].where = NAP_SCHED_CLAIM;
	s->out->place[pi].index = c->idx;
	return 1;
}

static int
node_ok(struct st *s, struct variant *v, size_t ni)
{
	const struct nap_sched_node *n = &s->in->nodes[ni];
	const struct nap_sched_pod *proto = s->cls[v->cls].proto;

	if (v->node_ok[ni] < 0 || s->nocache) {
		static const struct nap_reqs none;

		v->node_ok[ni] = taints_ok(n->taints, n->ntaints, proto, v->tol_prefer,
				     !n->initialized, NULL, 0) &&
		    nap_reqs_compatible(n->labels ? n->labels : &none, &v->reqs, 0, NULL, 0);
	}
	return v->node_ok[ni];
}

static int
avoided(const struct nap_sched_pod *p, const char *node)
{
	size_t i;

	for (i = 0; i < p->navoid; i++)
		if (strcmp(p->avoid[i], node) == 0)
			return 1;
	return 0;
}

static int
try_nodes(struct st *s, size_t pi, struct variant *v)
{
	const struct nap_sched_pod *p = &s->in->pending[pi];
	struct klass *k = &s->cls[v->cls];
	size_t i;

	char key[18 * NAP_RES_N + 1];
	size_t o = 0, from, lo = 0, hi = s->nopen;
	int prefix = 1, r;
	void *got;

	/*
	 * Nodes only lose room, so the leading nodes a request did not fit never
	 * will: each request remembers where its scan may start.
	 */
	for (r = 0; r < NAP_RES_N; r++)
		o = hex_put(key, o, (uint64_t)p->req.v[r], ':');
	key[o] = '\0';
	got = s->nocache ? NULL : nap_hash_get(&s->fit_from, key);
	from = got ? (size_t)(uintptr_t)got - 1 : 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->open_nodes[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < s->nopen; i++) {
		size_t ni = s->open_nodes[i];
		struct cand cd;

		if (!nap_res_fits(&p->req, &s->avail[ni])) {
			if (prefix)
				from = ni + 1;
			continue;
		}
		prefix = 0;
		if (!node_ok(s, v, ni) || (p->navoid && avoided(p, s->in->nodes[ni].name)))
			continue;
		cd.kind = CAND_NODE;
		cd.idx = ni;
		cd.reqs = NULL;
		cd.host = (long)ni;
		if (!topo_ok(s, k, v, &cd, NULL, 0))
			continue;
		nap_res_sub(&s->avail[ni], &p->req);
		topo_record(s, pi, v, &cd, NULL);
		s->out->place[pi].where = NAP_SCHED_NODE;
		s->out->place[pi].index = ni;
		if (!s->nocache && (s->avail[ni].v[NAP_RES_CPU] < s->w->minreq.v[NAP_RES_CPU] ||
		    s->avail[ni].v[NAP_RES_MEMORY] < s->w->minreq.v[NAP_RES_MEMORY] ||
		    s->avail[ni].v[NAP_RES_PODS] < 1))
			memmove(&s->open_nodes[i], &s->open_nodes[i + 1],
			    (--s->nopen - i) * sizeof(size_t));
		nap_hash_put(&s->fit_from, key, (void *)(uintptr_t)(from + 1));
		return 1;
	}
	nap_hash_put(&s->fit_from, key, (void *)(uintptr_t)(from + 1));
	return 0;
}

/*
 * Try the open claims the pod may join: its tier's capped claims, pool by
 * pool in weight order, first fit in creation order (found through the
 * bucket's segment tree); then the free-growing claims, fewest pods first,
 * skipped whole when the pod exceeds their room bound.
 */
static int
try_claims(struct st *s, size_t pi, struct variant *v)
{
	const struct nap_sched_input *in = s->in;
	const struct nap_res *req = &in->pending[pi].req;
	size_t i, k;
	int r;

	for (k = 0; k <= in->npools; k++) {
		struct corder *co;
		struct nap_res room;

		if (k < in->npools) {
			size_t p = s->w->pool_order[k], j = tier_of(s, pi, p);

			if (j == NAP_SCHED_NPOS)
				continue;
			co = &s->corder[1 + p * NAP_SCHED_TIERS + j];
		} else {
			co = &s->corder[0];
		}
		if (co != &s->corder[0] && s->nocache) {
			for (i = 0; i < co->n; i++)
				if (try_claim(s, pi, v, co->ci[i], NULL, 0))
					return 1;
			continue;
		}
		if (co != &s->corder[0]) {
			for (i = seg_find(co, 0, req); i < co->n; i = seg_find(co, i + 1, req))
				if (try_claim(s, pi, v, co->ci[i], NULL, 0))
					return 1;
			continue;
		}
		if (!s->nocache && !nap_res_fits(req, &co->room))
			continue;
		nap_res_zero(&room);
		for (i = 0; i < co->n; i++) {
			const struct claim *c = s->claims[co->ci[i]];

			for (r = 0; r < NAP_RES_N; r++)
				if (c->maxrem.v[r] > room.v[r])
					room.v[r] = c->maxrem.v[r];
			if (try_claim(s, pi, v, c->idx, NULL, 0))
				return 1;
		}
		/* every open claim of the list was seen: its room is now exact */
		co->room = room;
	}
	return 0;
}

/* One attempt for one pod at one relaxation step; why gets the reasons. */
static int
try_add(struct st *s, size_t pi, struct variant *v, char *why, size_t len)
{
	size_t i, o = 0;
	char one[WHY];

	if (try_nodes(s, pi, v))
		return 1;
	s->cur_shape = s->nclaims ? shape_of(s, v, &s->in->pending[pi].req) : -1;
	if (try_claims(s, pi, v))
		return 1;
	s->cur_shape = -1;
	why[0] = '\0';
	if (s->in->npools == 0) {
		WHYF("no nodepools found");
		return 0;
	}
	for (i = 0; i < s->in->npools; i++) {
		size_t p = s->w->pool_order[i];
		int w;

		one[0] = '\0';
		if (try_new(s, pi, v, p, one, sizeof(one)))
			return 1;
		if (o + 1 < len) {
			w = snprintf(why + o, len - o, "%sincompatible with nodepool \"%s\", %s",
			    o ? "; " : "", s->in->pools[p].name, one);
			if (w > 0)
				o += (size_t)w;
		}
	}
	return 0;
}

/* ---- the run ---- */

static void
setup_topology(struct st *s)
{
	const struct nap_sched_input *in = s->in;
	size_t i, j, g, nmemo = 0, amemo = 0;
	unsigned char *memo;
	struct nap_hash seen;

	for (i = 0; i < in->npending; i++)
		s->pod_cls[i] = class_add(s, &in->pending[i]);
	/* bound pods' anti-affinity keeps pending pods out (inverse anti-affinity) */
	for (i = 0; i < in->nbound; i++) {
		const struct nap_sched_pod *b = in->bound[i].pod;

		for (j = 0; j < b->ntopo; j++)
			if (b->topo[j].kind == NAP_SCHED_ANTI && b->topo[j].required &&
			    b->topo[j].sig) {
				size_t g1 = group_get(s, &b->topo[j], b->ns);

				s->grp[g1].inverse = 1;
			}
	}
	tkeys_fill(s);
	s->ndom = nap_xcalloc(s->ntk * in->nnodes + 1, sizeof(long));
	for (g = 0; g < s->ntk; g++)
		for (i = 0; i < in->nnodes; i++) {
			const char *v =
			    s->tk[g].is_host ? NULL : node_label(&in->nodes[i], s->tk[g].key);

			s->ndom[g * in->nnodes + i] = s->tk[g].is_host ? (long)i
			    : v					       ? tkey_find(&s->tk[g], v)
								       : -1;
		}
	for (i = 0; i < s->ncls; i++) {
		struct klass *c = &s->cls[i];

		c->matched = nap_xcalloc(s->ngrp + 1, sizeof(size_t));
		for (g = 0; g < s->ngrp; g++)
			if (group_selects(&s->grp[g], c->proto))
				c->matched[c->nmatched++] = g;
		c->selfsel = nap_xcalloc(c->proto->ntopo + 1, 1);
		for (j = 0; j < c->proto->ntopo; j++)
			for (g = 0; g < c->nmatched; g++)
				if (c->matched[g] == c->grp[j])
					c->selfsel[j] = 1;
	}
	for (g = 0; g < s->ngrp; g++) {
		struct group *gr = &s->grp[g];
		const struct tkey *tk = &s->tk[gr->tk];

		group_grow(gr, tk->is_host ? in->nnodes + 1 : tk->nvals + 1);
	}
	/*
	 * Bound pods often share one converted pod (the caller may pass the same
	 * pointer for pods equal in namespace, labels and constraints): whether
	 * a group selects or owns it is worked out once per pointer.
	 */
	memo = nap_xcalloc(s->ngrp + 1, 1);
	nap_hash_init(&seen);
	for (i = 0; i < in->nbound; i++) {
		const struct nap_sched_pod *b = in->bound[i].pod;
		size_t ni = in->bound[i].node;
		unsigned char *m;
		char key[32];

		if (ni >= in->nnodes || s->excluded[ni])
			continue;
		snprintf(key, sizeof(key), "%p", (const void *)b);
		if (s->nocache || !(m = nap_hash_get(&seen, key))) {
			nap_xgrow(&memo, &amemo, (nmemo + 1) * (s->ngrp + 1), 1);
			m = memo + nmemo * (s->ngrp + 1);
			for (g = 0; g < s->ngrp; g++) {
				const struct group *gr = &s->grp[g];
				int own = 0;

				if (gr->kind == NAP_SCHED_ANTI)
					for (j = 0; j < b->ntopo; j++)
						own |= b->topo[j].sig &&
						    strcmp(b->topo[j].sig, gr->t->sig) == 0;
				m[g] = (unsigned char)(group_selects(gr, b) | own << 1);
			}
			nmemo++;
			/* offsets, not pointers: memo moves as it grows */
			nap_hash_put(&seen, key, (void *)(uintptr_t)nmemo);
		} else {
			m = memo + ((uintptr_t)m - 1) * (s->ngrp + 1);
		}
		for (g = 0; g < s->ngrp; g++) {
			struct group *gr = &s->grp[g];
			const struct tkey *tk = &s->tk[gr->tk];
			int sel = m[g] & 1, own = m[g] >> 1 & 1;
			long d;

			if (!sel && !own)
				continue;
			if (tk->is_host) {
				d = (long)ni;
			} else {
				const char *v = node_label(&in->nodes[ni], tk->key);

				d = v ? tkey_find(tk, v) : -1;
			}
			group_record(gr, d, sel, own);
		}
	}
	free(memo);
	nap_hash_free(&seen);
}

static const char name_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static uint64_t
fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void
claim_name(struct st *s, const struct nap_sched_claim *c, char *buf, size_t len, struct nap_hash *used)
{
	const struct nap_sched_input *in = s->in;
	uint64_t h = 0xcbf29ce484222325ULL, x;
	unsigned salt = 0;
	size_t i;
	char sfx[6];

	for (i = 0; i < c->npods; i++) {
		h = fnv(h, in->pending[c->pods[i]].ns);
		h = fnv(h, "/");
		h = fnv(h, in->pending[c->pods[i]].name);
		h = fnv(h, "\n");
	}
	for (;;) {
		x = h ^ (salt * 0x9e3779b97f4a7c15ULL);
		for (i = 0; i < 5; i++) {
			sfx[i] = name_alphabet[x % (sizeof(name_alphabet) - 1)];
			x /= sizeof(name_alphabet) - 1;
		}
		sfx[5] = '\0';
		snprintf(buf, len, "%s-%s", in->pools[c->pool].name, sfx);
		if (!nap_hash_get(used, buf))
			break;
		salt++;
	}
	nap_hash_put(used, buf, (void *)1);
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
static const struct rankc *
rank_cached(struct st *s, size_t p, uint64_t zm, uint64_t cm)
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

/* Rank, truncate, narrow: the claim as nap-launch will see it. */
static int
claim_finalize(struct st *s, struct claim *c, struct nap_sched_claim *oc, char *why, size_t len)
{
	const struct nap_sched_input *in = s->in;
	struct ranked *rk = nap_xcalloc(c->ntypes + 1, sizeof(*rk));
	const char **names, **zones, **cts;
	size_t i, j, n = 0, nz = 0, nc = 0,
		     max = in->max_types > 0 ? (size_t)in->max_types : NAP_SCHED_MAX_TYPES,
		     base = c->pool * in->ntypes;
	struct nap_res mind;
	int first = 1;
	uint64_t zm, cm, zseen = 0, cseen = 0;

	zm = small_mask(s->w->ozones, s->w->nozones, nap_reqs_get(&c->reqs, ZONE_KEY));
	cm = small_mask(s->w->octypes, s->w->noctypes, nap_reqs_get(&c->reqs, CTYPE_KEY));
	{
		const struct rankc *rc = rank_cached(s, c->pool, zm, cm);

		/* lazily narrowed lists (try_claim) may hold sizes that no longer fit */
		for (i = 0; i < c->ntypes; i++)
			s->mark[c->types[i]] = nap_res_fits(&c->used, &s->w->cap[base + c->types[i]]);
		for (i = 0; i < rc->n; i++)
			if (s->mark[rc->rk[i].t])
				rk[n++] = rc->rk[i];
		for (i = 0; i < c->ntypes; i++)
			s->mark[c->types[i]] = 0;
	}
	if (n > max)
		n = max;
	oc->types = nap_xcalloc(n + 1, sizeof(*oc->types));
	for (i = 0; i < n; i++) {
		oc->types[i] = (uint16_t)rk[i].t;
		s->tbuf[i] = rk[i].t;
	}
	oc->ntypes = n;
	if (n == 0 || !min_values_ok(s, &c->reqs, s->tbuf, n, why, len)) {
		if (n == 0)
			WHYF("no instance type has an available offering");
		else
			WHYF("NodePool couldn't meet minValues requirements");
		free(rk);
		return -1;
	}
	oc->price = rk[0].price;
	names = nap_xcalloc(n + 1, sizeof(*names));
	zones = nap_xcalloc(64, sizeof(*zones));
	cts = nap_xcalloc(64, sizeof(*cts));
	nap_res_zero(&mind);
	for (i = 0; i < n; i++) {
		const struct nap_sched_itype *t = &in->types[rk[i].t];

		names[i] = t->name;
		for (j = 0; j < t->noff; j++) {
			size_t o = s->w->obase[rk[i].t] + j;

			if (!t->off[j].available || !(zm >> s->w->oz[o] & 1) || !(cm >> s->w->oc[o] & 1))
				continue;
			zseen |= (uint64_t)1 << s->w->oz[o];
			cseen |= (uint64_t)1 << s->w->oc[o];
		}
		if (first || s->w->daemon[base + rk[i].t].v[NAP_RES_CPU] < mind.v[NAP_RES_CPU])
			mind = s->w->daemon[base + rk[i].t];
		first = 0;
	}
	for (j = 0; j < s->w->nozones; j++)
		if (zseen >> j & 1)
			zones[nz++] = s->w->ozones[j];
	for (j = 0; j < s->w->noctypes; j++)
		if (cseen >> j & 1)
			cts[nc++] = s->w->octypes[j];
	nap_reqs_init(&oc->reqs);
	nap_reqs_copy(&oc->reqs, &c->reqs);
	{
		const struct nap_req *old = nap_reqs_get(&oc->reqs, ITYPE_KEY);
		int mv = old ? old->min_values : 0;

		/*
		 * Only the cheapest name goes in: sorting 600 names into a set per
		 * claim costs more than the scheduling, and the ranked list is types[].
		 */
		nap_reqs_del(&oc->reqs, ITYPE_KEY);
		nap_reqs_add(&oc->reqs, ITYPE_KEY, NAP_OP_IN, names, 1, mv > 1 ? 1 : mv, NULL);
		oc->min_values = mv;
	}
	nap_reqs_add(&oc->reqs, ZONE_KEY, NAP_OP_IN, zones, nz, 0, NULL);
	nap_reqs_add(&oc->reqs, CTYPE_KEY, NAP_OP_IN, cts, nc, 0, NULL);
	oc->requests = c->used;
	nap_res_add(&oc->requests, &mind);
	oc->pool = c->pool;
	free(names);
	free(zones);
	free(cts);
	free(rk);
	return 0;
}

static void
st_free(struct st *s)
{
	size_t i, j;

	for (i = 0; i < s->ncls; i++) {
		for (j = 0; j < s->cls[i].nvar; j++)
			variant_free(s->cls[i].var[j], s->in->npools);
		free(s->cls[i].var);
		free(s->cls[i].grp);
		free(s->cls[i].matched);
		free(s->cls[i].selfsel);
		free(s->cls[i].pref_order);
		free(s->cls[i].aff_order);
		free(s->cls[i].anti_order);
		free(s->cls[i].any_order);
	}
	free(s->cls);
	for (i = 0; i < s->ngrp; i++) {
		free(s->grp[i].count);
		free(s->grp[i].owners);
	}
	free(s->grp);
	for (i = 0; i < s->ntk; i++) {
		for (j = 0; j < s->tk[i].nvals; j++)
			free(s->tk[i].vals[j]);
		free(s->tk[i].vals);
	}
	free(s->tk);
	for (i = 0; i < s->nclaims; i++) {
		nap_reqs_free(&s->claims[i]->reqs);
		free(s->claims[i]->types);
		free(s->claims[i]->pods);
		free(s->claims[i]->mask);
		free(s->claims[i]->mask_ok);
		free(s->claims[i]->refused);
		free(s->claims[i]);
	}
	free(s->claims);
	for (i = 0; i < s->ncorder; i++) {
		free(s->corder[i].ci);
		free(s->corder[i].seg);
	}
	free(s->corder);
	free(s->mark);
	nap_hash_free(&s->cls_by_sig);
	nap_hash_free(&s->grp_by_sig);
	nap_hash_free(&s->shapes);
	nap_hash_free(&s->fit_from);
	free(s->pod_cls);
	free(s->excluded);
	free(s->rank1.rk);
	free(s->rank1.price);
	free(s->memo1);
	free(s->delta);
	free(s->remaining);
	free(s->nodes_left);
	free(s->avail);
	free(s->ndom);
	free(s->open_nodes);
	free(s->tbuf);
	free(s->tbuf2);
	nap_reqs_free(&s->tmp);
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
static void
world_plan(struct nap_sched_world *w)
{
	const struct nap_sched_input *in = w->in;
	size_t i, p;

	if (w->planned)
		return;
	pool_plan(w);
	w->ptier = nap_xcalloc(in->npending * in->npools + 1, sizeof(*w->ptier));
	for (i = 0; i < in->npending; i++)
		for (p = 0; p < in->npools; p++)
			w->ptier[i * in->npools + p] = pod_tier(w, p, &in->pending[i].req);
	w->planned = 1;
}

/* Claim names: <nodepool>-<5 chars>, none equal to a node's or a name the caller holds. */
static void
name_claims(struct st *s)
{
	const struct nap_sched_input *in = s->in;
	struct nap_sched_result *out = s->out;
	struct nap_hash names = NAP_HASH_INIT;
	size_t i;

	for (i = 0; i < in->nnodes; i++)
		if (in->nodes[i].name)
			nap_hash_put(&names, in->nodes[i].name, (void *)1);
	for (i = 0; i < in->ntaken; i++)
		nap_hash_put(&names, in->taken[i], (void *)1);
	for (i = 0; i < out->nclaims; i++)
		claim_name(s, &out->claims[i], out->claims[i].name, sizeof(out->claims[i].name),
		    &names);
	nap_hash_free(&names);
}

/* Finalise claims; a claim that cannot be launched fails its pods. */
static void
finalize_claims(struct st *s, char *why, size_t len)
{
	const struct nap_sched_input *in = s->in;
	struct nap_sched_result *out = s->out;
	size_t *remap, ci, i, j;

	out->claims = nap_xcalloc(s->nclaims + 1, sizeof(*out->claims));
	remap = nap_xcalloc(s->nclaims + 1, sizeof(size_t));
	for (ci = 0; ci < s->nclaims; ci++) {
		struct claim *c = s->claims[ci];
		struct nap_sched_claim *oc = &out->claims[out->nclaims];

		memset(oc, 0, sizeof(*oc));
		if (claim_finalize(s, c, oc, why, len) < 0) {
			for (j = 0; j < c->npods; j++) {
				struct nap_sched_place *pl = &out->place[c->pods[j]];

				pl->where = NAP_SCHED_NONE;
				free(pl->why);
				pl->why = nap_xasprintf("incompatible with nodepool \"%s\", %s",
				    in->pools[c->pool].name, why);
			}
			free(oc->types);
			memset(oc, 0, sizeof(*oc));
			remap[ci] = (size_t)-1;
			continue;
		}
		oc->pods = nap_xcalloc(c->npods + 1, sizeof(size_t));
		if (c->npods > 0)
			memcpy(oc->pods, c->pods, c->npods * sizeof(size_t));
		oc->npods = c->npods;
		remap[ci] = out->nclaims++;
	}
	for (i = 0; i < in->npending; i++)
		if (out->place[i].where == NAP_SCHED_CLAIM)
			out->place[i].index = remap[out->place[i].index];
	free(remap);
	name_claims(s);
}

/* One pod at every relaxation step until it lands: 1 placed, 0 not (why says why). */
static int
place_pod(struct st *s, size_t pi, char *why, size_t len)
{
	int step;

	for (step = 0;; step++) {
		struct variant *v = variant_get(s, s->pod_cls[pi], step);

		if (!v)
			return 0;
		if (step > 0)
			s->out->relaxations++;
		why[0] = '\0';
		if (try_add(s, pi, v, why, len))
			return 1;
		if (v->last)
			return 0;
	}
}

/*
 * The queue: pods in FFD order; a pod that fails goes to the back, and the
 * run ends after a full cycle without progress (or at the first failure,
 * when the options say so).
 */
static void
run_queue(struct st *s, char *why, size_t len)
{
	const struct nap_sched_input *in = s->in;
	struct nap_sched_result *out = s->out;
	size_t *q, qhead = 0, qtail = 0, qcap = in->npending + 1, i, qlen, prev_fail = (size_t)-1;
	unsigned long *lastlen, progress = 0, prev_progress = 0;
	const struct nap_sched_pod *pods = in->pending;

	q = nap_xcalloc(qcap, sizeof(*q));
	lastlen = nap_xcalloc(in->npending + 1, sizeof(*lastlen));
	for (i = 0; i < in->npending; i++) {
		if (in->pending[i].never) {
			out->place[i].where = NAP_SCHED_NONE;
			out->place[i].why = nap_xstrdup(in->pending[i].never);
			continue;
		}
		q[qtail++] = i;
	}
	qsort_r(q, qtail, sizeof(*q), cmp_pending, &pods);
	/* a ring buffer: at most npending live entries */
	qlen = qtail;
	qtail %= qcap;
	while (qlen > 0) {
		size_t pi = q[qhead];
		int ok = 0;

		if (lastlen[pi] == qlen)
			break;
		qhead = (qhead + 1) % qcap;
		qlen--;
		/* an identical pod just failed with nothing placed since: so will this one */
		if (!s->nocache && prev_fail != (size_t)-1 && prev_progress == progress &&
		    s->pod_cls[prev_fail] == s->pod_cls[pi] &&
		    memcmp(&in->pending[prev_fail].req, &in->pending[pi].req,
			sizeof(struct nap_res)) == 0) {
			free(out->place[pi].why);
			out->place[pi].why = nap_xstrdup(out->place[prev_fail].why);
		} else {
			ok = place_pod(s, pi, why, len);
			if (!ok) {
				free(out->place[pi].why);
				out->place[pi].why = nap_xstrdup(why);
			}
		}
		if (ok) {
			progress++;
			free(out->place[pi].why);
			out->place[pi].why = NULL;
			prev_fail = (size_t)-1;
			continue;
		}
		out->place[pi].where = NAP_SCHED_NONE;
		if (s->opt->stop_at_fail) {
			out->stopped = 1;
			break;
		}
		prev_fail = pi;
		prev_progress = progress;
		q[qtail] = pi;
		qtail = (qtail + 1) % qcap;
		qlen++;
		lastlen[pi] = qlen;
	}
	/* pods the run never reached when it stopped early */
	for (; out->stopped && qlen > 0; qlen--) {
		size_t pi = q[qhead];

		qhead = (qhead + 1) % qcap;
		out->place[pi].where = NAP_SCHED_NONE;
		free(out->place[pi].why);
		out->place[pi].why =
		    nap_xstrdup("not simulated: the run stopped at the first pod that did not fit");
	}
	free(q);
	free(lastlen);
}

int
nap_sched_run(struct nap_sched_world *w, const struct nap_sched_run_opts *opt,
    struct nap_sched_result *out, struct nap_err *err)
{
	const struct nap_sched_input *in = w->in;
	struct st s;
	char why[4 * WHY];
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < opt->nexclude; i++)
		if (opt->exclude[i] >= in->nnodes)
			return nap_err_set(err, NAP_EX_DATAERR,
			    "scheduler: excluded node %zu: out of range (%zu nodes)", opt->exclude[i],
			    in->nnodes);
	if (opt->packing != NAP_SCHED_PACK_TARGET && opt->packing != NAP_SCHED_PACK_KARPENTER)
		return nap_err_set(err, NAP_EX_DATAERR, "scheduler: packing %d: unknown",
		    opt->packing);
	if (opt->packing == NAP_SCHED_PACK_TARGET)
		world_plan(w);
	memset(&s, 0, sizeof(s));
	s.w = w;
	s.in = in;
	s.opt = opt;
	s.nocache = opt->nocache;
	s.out = out;
	nap_hash_init(&s.cls_by_sig);
	nap_hash_init(&s.grp_by_sig);
	nap_hash_init(&s.shapes);
	nap_hash_init(&s.fit_from);
	nap_reqs_init(&s.tmp);
	out->place = nap_xcalloc(in->npending + 1, sizeof(*out->place));
	out->nplace = in->npending;
	s.pod_cls = nap_xcalloc(in->npending + 1, sizeof(size_t));
	s.tbuf = nap_xcalloc(in->ntypes + 1, sizeof(size_t));
	s.tbuf2 = nap_xcalloc(in->ntypes + 1, sizeof(size_t));
	s.remaining = nap_xcalloc(in->npools + 1, sizeof(*s.remaining));
	s.nodes_left = nap_xcalloc(in->npools + 1, sizeof(*s.nodes_left));
	if (in->npools) {
		memcpy(s.remaining, w->remaining, in->npools * sizeof(*s.remaining));
		memcpy(s.nodes_left, w->nodes_left, in->npools * sizeof(*s.nodes_left));
	}
	s.ncorder = 1 + in->npools * NAP_SCHED_TIERS;
	s.corder = nap_xcalloc(s.ncorder, sizeof(*s.corder));
	s.mark = nap_xcalloc(in->ntypes + 1, 1);
	s.excluded = nap_xcalloc(in->nnodes + 1, 1);
	for (i = 0; i < opt->nexclude; i++)
		s.excluded[opt->exclude[i]] = 1;
	s.avail = nap_xcalloc(in->nnodes + 1, sizeof(*s.avail));
	s.open_nodes = nap_xcalloc(in->nnodes + 1, sizeof(size_t));
	for (i = 0; i < in->nnodes; i++) {
		s.avail[i] = in->nodes[i].avail;
		if (s.excluded[i])
			continue;
		if (s.nocache || (s.avail[i].v[NAP_RES_PODS] >= 1 &&
				     s.avail[i].v[NAP_RES_CPU] >= w->minreq.v[NAP_RES_CPU] &&
				     s.avail[i].v[NAP_RES_MEMORY] >= w->minreq.v[NAP_RES_MEMORY]))
			s.open_nodes[s.nopen++] = i;
	}
	setup_topology(&s);
	run_queue(&s, why, sizeof(why));
	finalize_claims(&s, why, sizeof(why));
	st_free(&s);
	return 0;
}

int
nap_sched_solve(const struct nap_sched_input *in, struct nap_sched_result *out, struct nap_err *err)
{
	struct nap_sched_run_opts opt = NAP_SCHED_RUN_OPTS_INIT;
	struct nap_sched_world *w;
	int rc;

	memset(out, 0, sizeof(*out));
	if (nap_sched_prepare(in, &w, err) < 0)
		return -1;
	opt.packing = in->packing;
	rc = nap_sched_run(w, &opt, out, err);
	nap_sched_world_free(w);
	return rc;
}

void
nap_sched_result_free(struct nap_sched_result *out)
{
	size_t i;

	if (!out)
		return;
	for (i = 0; i < out->nclaims; i++) {
		nap_reqs_free(&out->claims[i].reqs);
		free(out->claims[i].types);
		free(out->claims[i].pods);
	}
	free(out->claims);
	for (i = 0; i < out->nplace; i++)
		free(out->place[i].why);
	free(out->place);
	memset(out, 0, sizeof(*out));
}
