/*
 * sched-claim.c - claims: a pod joining an open claim, or opening a new one.
 *
 * The placement rules (requirements compatible, topology, capacity on some
 * candidate size, the tier's size for a capped claim, minValues, the run's
 * claim cap and price ceiling) and, apart from them, the upkeep of the
 * caches that make them fast: shapes a claim refused, variants known to
 * leave its requirements unchanged, per-delta verdicts per size, room
 * bounds and the segment trees that find the first claim with room.  Each
 * cache is bypassed under nocache, with the same result.
 */
#include "sched-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
			c->maxcap = s->w->tcap[c->bucket - 1];
			c->maxcap_n = c->ntypes;
		}
	}
	if (c->maxcap_n != c->ntypes) {
		nap_res_zero(&c->maxcap);
		for (i = 0; i < c->ntypes; i++)
			nap_res_max(&c->maxcap, &s->w->cap[base + c->types[i]]);
		if (c->capped)
			for (k = 0; k < NAP_RES_N; k++)
				if (sched_claim_cap(s, c)->v[k] < c->maxcap.v[k])
					c->maxcap.v[k] = sched_claim_cap(s, c)->v[k];
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
size_t
sched_seg_find(const struct corder *co, size_t from, const struct nap_res *req)
{
	size_t got;

	if (!co->segcap)
		return co->n;
	got = seg_find_r(co, 1, 0, co->segcap, from, req);
	return got == NAP_SCHED_NPOS || got >= co->n ? co->n : got;
}

/* The first of the n leading entries of a free-growing list not before c. */
static size_t
claim_lower_bound(const struct st *s, const struct corder *co, size_t n, const struct claim *c)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (claim_before(s->claims[co->ci[mid]], c))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
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
	size_t n = co->n, lo, from;

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
		lo = claim_lower_bound(s, co, n, c);
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
	lo = claim_lower_bound(s, co, n - 1, c);
	memmove(&co->ci[lo + 1], &co->ci[lo], (n - 1 - lo) * sizeof(size_t));
	co->ci[lo] = ci;
}

/* ---- host ports ---- */

static void
plist_add(struct plist *l, size_t pi)
{
	nap_xgrow(&l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = pi;
}

/* Does a port of pending pod p clash with one of the pending pods in l? */
static int
ports_clash(const struct st *s, const struct nap_sched_pod *p, const struct plist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct nap_sched_pod *q = &s->in->pending[l->v[i]];

		if (nap_host_ports_clash(p->ports, p->nports, q->ports, q->nports))
			return 1;
	}
	return 0;
}

/* 1 when no DaemonSet that lands on type t of pool holds a port pod p needs. */
int
sched_daemon_ports_ok(
    const struct nap_sched_world *w, const struct nap_sched_pod *p, size_t pool, size_t t)
{
	const uint64_t *bits;
	size_t i;

	if (!p->nports || !w->npdaemon)
		return 1;
	bits = &w->dports[(pool * w->in->ntypes + t) * w->dwords];
	for (i = 0; i < w->npdaemon; i++) {
		const struct nap_sched_pod *d = &w->in->daemons[w->pdaemon[i]];

		if ((bits[i / 64] >> (i % 64) & 1) &&
		    nap_host_ports_clash(p->ports, p->nports, d->ports, d->nports))
			return 0;
	}
	return 1;
}

/*
 * May pending pod pi go to existing node ni as far as host ports go: none
 * held there by a bound pod, nor by a pod this run put there.  DaemonSet
 * pods count once bound, as in Karpenter.
 */
int
sched_node_ports_ok(struct st *s, size_t pi, size_t ni)
{
	const struct nap_sched_pod *p = &s->in->pending[pi];
	const struct nap_sched_node *n = &s->in->nodes[ni];

	if (!p->nports)
		return 1;
	if (nap_host_ports_clash(p->ports, p->nports, n->ports, n->nports))
		return 0;
	return !s->node_ported || !ports_clash(s, p, &s->node_ported[ni]);
}

void
sched_node_ports_add(struct st *s, size_t pi, size_t ni)
{
	if (!s->in->pending[pi].nports)
		return;
	if (!s->node_ported)
		s->node_ported = nap_xcalloc(s->in->nnodes + 1, sizeof(*s->node_ported));
	plist_add(&s->node_ported[ni], pi);
}

/* The quota entry of a strict pattern claim c that pod pi counts against, or NPOS. */
static size_t
claim_pat_slot(const struct st *s, const struct claim *c, size_t pi)
{
	if (!c->patused)
		return NAP_SCHED_NPOS;
	return sched_quota_find(
	    s->w, c->pool, &s->in->pending[pi].req, c->bucket - 1 - c->pool * NAP_SCHED_TIERS);
}

static void
claim_add_pod(struct st *s, struct claim *c, size_t pi)
{
	size_t q = claim_pat_slot(s, c, pi);

	if (q != NAP_SCHED_NPOS)
		c->patused[q]++;
	nap_xgrow(&c->pods, &c->apods, c->npods + 1, sizeof(*c->pods));
	c->pods[c->npods++] = pi;
	if (s->in->pending[pi].nports)
		plist_add(&c->ported, pi);
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

/*
 * Do the n sizes types[] meet r's minValues?  1 yes; 2 not, but under
 * BestEffort r's unmet minValues were lowered to what they meet (r is the
 * caller's scratch or claim requirements, never a shared cache's); 0 not
 * (why says which keys).
 */
int
sched_min_values_ok(
    struct st *s, struct nap_reqs *r, const size_t *types, size_t n, char *why, size_t len)
{
	const struct nap_reqs **its;
	size_t i;
	long need;
	int rc = 1;

	if (!nap_reqs_has_min_values(r))
		return 1;
	its = nap_xcalloc(n + 1, sizeof(*its));
	for (i = 0; i < n; i++)
		its[i] = &s->in->types[types[i]].reqs;
	need = nap_reqs_min_values_needed(r, (const struct nap_reqs *const *)its, n, why, len);
	if (need < 0)
		rc = s->in->min_values_relax &&
			nap_reqs_min_values_relax(r, (const struct nap_reqs *const *)its, n)
		    ? 2
		    : 0;
	free(its);
	return rc;
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

	return sh >= 0 && !s->nocache && (size_t)sh / 64 < c->nrefused &&
	    (c->refused[sh / 64] >> (sh % 64) & 1);
}

/* The shape id of a pod at a variant, or -1 when topology makes it unique. */
long
sched_shape_of(struct st *s, const struct variant *v, const struct nap_res *req)
{
	const struct klass *k = &s->cls[v->cls];
	char key[18 * (NAP_RES_N + 1) + 1];
	size_t o;
	int r;
	void *got;

	if (k->proto->ntopo > 0 || k->nmatched > 0)
		return -1;
	/* by hand: this runs for every pod placed, and snprintf showed */
	o = sched_hex_put(key, 0, (uint64_t)(uintptr_t)v, ':');
	for (r = 0; r < NAP_RES_N; r++)
		o = sched_hex_put(key, o, (uint64_t)req->v[r], ':');
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

/*
 * The keys of nr that differ from the claim's requirements, into *d
 * (borrowed entries, not a copy): the claim's types already intersect its
 * requirements and nr only narrows them (intersection is per key), so only
 * those keys need testing.
 */
static void
claim_delta(struct st *s, const struct claim *c, const struct nap_reqs *nr, struct nap_reqs *d)
{
	size_t i;

	nap_xgrow(&s->delta, &s->adelta, nr->n + 1, sizeof(*s->delta));
	d->v = s->delta;
	d->n = 0;
	for (i = 0; i < nr->n; i++) {
		const struct nap_req *was = nap_reqs_get(&c->reqs, nr->v[i].key);

		if (!was || !sched_req_equal(was, &nr->v[i]))
			d->v[d->n++] = nr->v[i];
	}
}

/*
 * The claim's sizes that still fit with the pod on board and, when its
 * requirements narrow to nr (delta: the keys that changed), that nr allows
 * with an offering under the run's price ceiling: into s->tbuf, the count
 * returned (0: why says why).
 */
static size_t
claim_sizes(struct st *s, const struct claim *c, const struct nap_sched_pod *p,
    const struct nap_reqs *nr, const struct nap_reqs *delta, long disks, char *why, size_t len)
{
	const struct nap_sched_input *in = s->in;
	size_t i, n = 0, base = c->pool * in->ntypes;
	unsigned char *memo = NULL;
	const double *price = NULL;

	if (delta) {
		uint64_t zm, cm;

		memo = delta_memo(s, delta);
		zm = sched_small_mask(s->w->ozones, s->w->nozones, nap_reqs_get(nr, ZONE_KEY));
		cm = sched_small_mask(s->w->octypes, s->w->noctypes, nap_reqs_get(nr, CTYPE_KEY));
		price = sched_rank_cached(s, c->pool, zm, cm)->price;
	}
	for (i = 0; i < c->ntypes; i++) {
		size_t t = c->types[i];

		if (!sched_res_fits_sum(&c->used, &p->req, &s->w->cap[base + t]))
			continue;
		if (!sched_daemon_ports_ok(s->w, p, c->pool, t))
			continue;
		if (disks > 0 && in->types[t].max_disks > 0 && disks > in->types[t].max_disks)
			continue;
		if (delta) {
			if (!memo[t])
				memo[t] = delta_ok(&in->types[t].reqs, delta) ? 1 : 2;
			if (memo[t] != 1 || price[t] < 0)
				continue;
			if (s->opt->max_price > 0 && price[t] >= s->opt->max_price)
				continue;
		}
		s->tbuf[n++] = t;
	}
	if (n == 0)
		WHYF("no instance type of the claim fits the pod");
	return n;
}

/*
 * Pod pi has joined claim ci (its sizes and used already updated): take on
 * the narrowed requirements (s->tmp) when they changed, and keep the
 * caches true: known variants, refused shapes (the claim changed), domain
 * masks, room bound and list order; count the pod's topology.
 */
static int
claim_joined(struct st *s, size_t ci, size_t pi, struct variant *v, const struct cand *cd,
    int changed, int known)
{
	struct claim *c = s->claims[ci];

	if (changed) {
		nap_reqs_copy(&c->reqs, &s->tmp);
		c->nknown = 0;
		if (c->mask_ok)
			memset(c->mask_ok, 0, s->topo.ntk);
	}
	if (c->nknown < CACHE_N && (changed || !known) && !s->nocache)
		c->known[c->nknown++] = v;
	claim_add_pod(s, c, pi);
	if (c->nrefused)
		memset(c->refused, 0, c->nrefused * sizeof(uint64_t));
	sched_topo_record(s, pi, v, cd, &c->reqs);
	claim_maxrem(s, c);
	claim_reorder(s, ci, 0);
	s->out->place[pi].where = NAP_SCHED_CLAIM;
	s->out->place[pi].index = ci;
	return 1;
}

/* Can claim ci take pending pod pi at variant v?  1: it has (why: why not). */
int
sched_try_claim(struct st *s, size_t pi, struct variant *v, size_t ci, char *why, size_t len)
{
	const struct nap_sched_input *in = s->in;
	const struct nap_sched_pod *p = &in->pending[pi];
	struct klass *k = &s->cls[v->cls];
	struct claim *c = s->claims[ci];
	const struct nap_reqs *nr = &c->reqs;
	struct cand cd;
	struct nap_reqs delta = {NULL, 0, 0};
	size_t i, n, base = c->pool * in->ntypes;
	int known = 0, changed;
	long disks;

	if (c->closed || !nap_res_fits(&p->req, &c->maxrem))
		return 0;
	if (c->patused) {
		/* a strict pattern claim: no more pods of this request than its packing */
		size_t q = claim_pat_slot(s, c, pi);

		if (q == NAP_SCHED_NPOS || c->patused[q] >= s->w->quota[c->pool][q].per)
			return 0;
	}
	if (refused(s, c))
		return 0;
	if (p->nports && ports_clash(s, p, &c->ported)) {
		WHYF("a pod on the claim holds a host port the pod asks for");
		return refuse(s, c);
	}
	if (sched_vpool_get(s, v, c->pool)->state != 1)
		return 0;
	for (i = 0; i < c->nknown && !s->nocache; i++)
		known |= c->known[i]->sh == v->sh; /* equal shares, equal requirements */
	if (!known &&
	    !nap_reqs_compatible(&c->reqs, &v->reqs, NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, why, len))
		return 0;
	/* topology reads the claim's and the pod's requirements side by side: no copy yet */
	cd.kind = CAND_CLAIM;
	cd.idx = ci;
	cd.reqs = &c->reqs;
	cd.host = (long)(in->nnodes + c->idx);
	if (!sched_topo_ok(s, k, v, &cd, why, len))
		return 0;
	if (c->tier_in && !s->nocache) {
		/* its tier's size is the bound, and a candidate: it decides */
		if (!sched_res_fits_sum(&c->used, &p->req, &s->w->tcap[c->bucket - 1]))
			return refuse(s, c);
	} else {
		for (i = 0; i < c->ntypes; i++)
			if (sched_res_fits_sum(&c->used, &p->req, &s->w->cap[base + c->types[i]]))
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
	changed = nr == &s->tmp && !sched_reqs_equal(&s->tmp, &c->reqs);
	/* not refuse(): a pod of the same shape with fewer disks may still join */
	disks = sched_claim_disks(s, c->pods, c->npods, pi);
	if (c->capped && in->types[c->tier].max_disks > 0 && disks > in->types[c->tier].max_disks) {
		WHYF("the claim's planned size attaches %d disks", in->types[c->tier].max_disks);
		return 0;
	}
	if (c->capped && !sched_res_fits_sum(&c->used, &p->req, sched_claim_cap(s, c)))
		return refuse(s, c);
	/*
	 * Lazy narrowing: a capped claim whose tier size is still a candidate,
	 * joined without new requirements, no minValues to keep and no
	 * DaemonSet host port to weigh, fits the pod on that size; its list
	 * keeps sizes that no longer fit, and
	 * claim_finalize drops them (used only grows, so the final list is the
	 * same as narrowing at every join).
	 */
	if (c->tier_in && !changed && !nap_reqs_has_min_values(nr) && !s->nocache &&
	    !(p->nports && s->w->npdaemon) && disks == 0) {
		nap_res_add(&c->used, &p->req);
		return claim_joined(s, ci, pi, v, &cd, changed, known);
	}
	if (changed)
		claim_delta(s, c, nr, &delta);
	n = claim_sizes(s, c, p, nr, changed ? &delta : NULL, disks, why, len);
	if (n == 0)
		return 0;
	/* nr is the claim's own requirements or the run's scratch: either may be relaxed */
	switch (sched_min_values_ok(s, nr == &s->tmp ? &s->tmp : &c->reqs, s->tbuf, n, why, len)) {
	case 0:
		return 0;
	case 2:
		changed = nr == &s->tmp;
		break;
	}
	for (i = 0; i < n; i++)
		c->types[i] = (uint16_t)s->tbuf[i];
	c->ntypes = n;
	claim_tier_in(c);
	nap_res_add(&c->used, &p->req);
	return claim_joined(s, ci, pi, v, &cd, changed, known);
}

int
sched_try_new(struct st *s, size_t pi, struct variant *v, size_t p, char *why, size_t len)
{
	const struct nap_sched_input *in = s->in;
	const struct nap_sched_pod *pod = &in->pending[pi];
	struct klass *k = &s->cls[v->cls];
	struct vpool *vp = sched_vpool_get(s, v, p);
	const struct nap_reqs *nr;
	struct nap_res maxcap;
	struct claim *c;
	struct cand cd;
	size_t i, j, n = 0, base = p * in->ntypes, nfit = 0, dear = 0, ndisk = 0;
	const double *price = NULL, ceiling = s->opt->max_price;
	uint64_t zm = 0, cm = 0;
	long disks = sched_claim_disks(s, NULL, 0, pi);
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
	if ((long)s->nclaims >= s->w->node_room) {
		WHYF("no new nodeclaim allowed: the cluster is at its node ceiling of %ld "
		     "(solve.maxNodes)",
		    in->max_nodes);
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
	if (!sched_topo_ok(s, k, v, &cd, why, len))
		return 0;
	nr = &vp->reqs;
	if (s->npins && pins_change(s, nr)) {
		nap_reqs_copy(&s->tmp, &vp->reqs);
		apply_pins(s, &s->tmp);
		nr = &s->tmp;
	}
	if (nr != &vp->reqs || ceiling > 0) {
		zm = sched_small_mask(s->w->ozones, s->w->nozones, nap_reqs_get(nr, ZONE_KEY));
		cm = sched_small_mask(s->w->octypes, s->w->noctypes, nap_reqs_get(nr, CTYPE_KEY));
		price = sched_rank_cached(s, p, zm, cm)->price;
	}
	for (i = 0; i < vp->ntypes; i++) {
		size_t t = vp->types[i];
		const struct nap_res *capy = &in->pools[p].capacity[t];

		if (!nap_res_fits(&pod->req, &s->w->cap[base + t]))
			continue;
		if (disks > 0 && in->types[t].max_disks > 0 && disks > in->types[t].max_disks) {
			ndisk++;
			continue;
		}
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
	if (n == 0 && ndisk && !nfit) {
		WHYF("no instance type of nodepool \"%s\" that fits can attach the pod's %ld "
		     "Azure disks",
		    in->pools[p].name, disks);
		return 0;
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
		sched_fmt_reqs(nr, rs, sizeof(rs));
		sched_fmt_res_json(&pod->req, res, sizeof(res));
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
	if (nap_reqs_has_min_values(nr)) {
		/* checked on a copy: nr may be the variant's cached requirements */
		nap_reqs_copy(&s->tmp2, nr);
		if (!sched_min_values_ok(s, &s->tmp2, s->tbuf, n, why, len))
			return 0;
		nr = &s->tmp2;
	}
	c = nap_xcalloc(1, sizeof(*c));
	c->idx = s->nclaims;
	c->pool = p;
	nap_reqs_init(&c->reqs);
	nap_reqs_copy(&c->reqs, nr);
	j = sched_tier_of(s, pi, p);
	c->capped = j != NAP_SCHED_NPOS;
	c->tier = c->capped ? s->w->tiers[p * NAP_SCHED_TIERS + j] : NAP_SCHED_NPOS;
	c->bucket = c->capped ? 1 + p * NAP_SCHED_TIERS + j : 0;
	if (c->capped && s->w->tstrict[c->bucket - 1])
		c->patused = nap_xcalloc(s->w->nquota[p] + 1, sizeof(*c->patused));
	c->types = nap_xcalloc(n + 1, sizeof(*c->types)); /* only ever shrinks */
	for (i = 0; i < n; i++)
		c->types[i] = (uint16_t)s->tbuf[i];
	claim_tier_in(c);
	c->ntypes = n;
	c->used = pod->req;
	if (nr == &vp->reqs && !s->nocache)
		c->known[c->nknown++] = v;
	claim_add_pod(s, c, pi);
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
	sched_topo_record(s, pi, v, &cd, &c->reqs);
	claim_maxrem(s, c);
	if (!c->capped)
		nap_res_max(&s->corder[0].room, &c->maxrem);
	claim_reorder(s, c->idx, 1);
	s->out->place[pi].where = NAP_SCHED_CLAIM;
	s->out->place[pi].index = c->idx;
	return 1;
}
