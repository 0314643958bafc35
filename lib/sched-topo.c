/*
 * sched-topo.c - topology: spreads, pod affinity and anti-affinity.
 *
 * Topology keys and their known domains, groups of pods sharing one
 * constraint with their counts per domain (bound pods on excluded nodes
 * count nowhere), whether a candidate (a node, an open claim, a new claim)
 * passes a variant's constraints, and the counting when a pod lands.  Domain
 * masks of a variant's or claim's requirements are cached per key and reset
 * when a claim's requirements change (never read under nocache).
 */
#include "sched-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- keys and groups ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
tkey_get(struct st *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->topo.ntk; i++)
		if (strcmp(s->topo.tk[i].key, key) == 0)
			return i;
	nap_xgrow(&s->topo.tk, &s->topo.atk, s->topo.ntk + 1, sizeof(*s->topo.tk));
	memset(&s->topo.tk[s->topo.ntk], 0, sizeof(s->topo.tk[0]));
	s->topo.tk[s->topo.ntk].key = key;
	s->topo.tk[s->topo.ntk].is_host = strcmp(key, HOST_KEY) == 0;
	return s->topo.ntk++;
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

	for (k = 0; k < s->topo.ntk; k++) {
		struct tkey *tk = &s->topo.tk[k];
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

size_t
sched_group_get(struct st *s, const struct nap_sched_topo *t, const char *ns)
{
	void *v = nap_hash_get(&s->topo.grp_by_sig, t->sig);
	struct group *g;

	if (v)
		return (size_t)(uintptr_t)v - 1;
	nap_xgrow(&s->topo.grp, &s->topo.agrp, s->topo.ngrp + 1, sizeof(*s->topo.grp));
	g = &s->topo.grp[s->topo.ngrp];
	memset(g, 0, sizeof(*g));
	g->kind = t->kind;
	g->tk = tkey_get(s, t->key);
	g->t = t;
	g->ns = ns;
	nap_hash_put(&s->topo.grp_by_sig, t->sig, (void *)(uintptr_t)(s->topo.ngrp + 1));
	return s->topo.ngrp++;
}

static int
group_selects(const struct group *g, const char *ns, json_object *labels)
{
	size_t i;

	if (!g->t->sel)
		return 0;
	if (!g->t->all_namespaces) {
		int ok = 0;

		if (g->t->nnamespaces == 0)
			ok = strcmp(g->ns ? g->ns : "", ns ? ns : "") == 0;
		for (i = 0; i < g->t->nnamespaces && !ok; i++)
			ok = strcmp(g->t->namespaces[i], ns ? ns : "") == 0;
		if (!ok)
			return 0;
	}
	return nap_selector_matches(g->t->sel, labels);
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

/* ---- topology evaluation ---- */

static uint64_t var_mask(struct st *s, struct variant *v, size_t k);
static uint64_t strict_mask(struct st *s, struct variant *v, size_t k);

/*
 * Is a pod matching affinity group g (on key k) in a domain the variant's
 * strict requirements allow?  On hostname, anywhere: a pod cannot restrict
 * its host by requirements.
 */
static int
target_reachable(struct st *s, const struct group *g, struct variant *v, size_t k)
{
	uint64_t m;
	size_t j;

	if (g->total == 0 || s->topo.tk[k].is_host)
		return g->total > 0;
	m = strict_mask(s, v, k);
	for (j = 0; j < s->topo.tk[k].nvals && j < 64; j++)
		if ((m >> j & 1) && gcount(g, (long)j) > 0)
			return 1;
	return 0;
}

/* Does value index d pass every constraint of the pod on key k? */
static int
domain_ok(struct st *s, const struct klass *c, struct variant *v, size_t k, long d,
    int selfsel_ok_empty, char *why, size_t len)
{
	const struct nap_sched_pod *p = c->proto;
	size_t i;

	for (i = 0; i < p->ntopo; i++) {
		const struct group *g = &s->topo.grp[c->grp[i]];
		const struct nap_sched_topo *t = &p->topo[i];

		if (!v->topo_on[i] || g->tk != k)
			continue;
		switch (t->kind) {
		case NAP_SCHED_SPREAD: {
			long gmin = 0;
			int skew = t->max_skew > 0 ? t->max_skew : 1;
			int self = c->selfsel[i];

			if (!s->topo.tk[k].is_host) {
				size_t j, elig = 0;
				/* a preference does not narrow where the skew is measured */
				uint64_t m = strict_mask(s, v, k);

				gmin = -1;
				for (j = 0; j < s->topo.tk[k].nvals && j < 64; j++) {
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
			/*
			 * a pod its own selector selects may open a domain when no
			 * matching pod is where it may go (none yet, or all in
			 * domains its strict requirements rule out)
			 */
			if (gcount(g, d) == 0 &&
			    !(selfsel_ok_empty && c->selfsel[i] && !target_reachable(s, g, v, k))) {
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
	 * inverse anti-affinity: a running pod, or a pod placed earlier in this
	 * run, keeps the pods its required anti-affinity selects out of its
	 * domains (every domain it may land in, while its claim's is open)
	 */
	for (i = 0; i < c->nmatched; i++) {
		const struct group *g = &s->topo.grp[c->matched[i]];

		if (!g->inverse || g->tk != k)
			continue;
		if (gowners(g, d) > 0) {
			WHYF("unsatisfiable topology constraint for pod anti-affinity, key=%s "
			     "(inverse)",
			    s->topo.tk[k].key);
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
		    s->topo.grp[c->grp[i]].tk == k)
			return (long)c->grp[i];
	return -1;
}

/* The first spread on key k that selects the pod (others' or its own), or -1. */
static long
selecting_spread(const struct st *s, const struct klass *c, size_t k)
{
	size_t i;

	for (i = 0; i < c->nmatched; i++)
		if (s->topo.grp[c->matched[i]].tk == k &&
		    s->topo.grp[c->matched[i]].kind == NAP_SCHED_SPREAD)
			return (long)c->matched[i];
	return -1;
}

/*
 * What the pod has to do with topology key k: 2, one of its own
 * constraints (in force) uses it; 1, only others' groups select it; 0, none.
 */
static int
key_role(const struct st *s, const struct klass *c, const struct variant *v, size_t k)
{
	size_t i;

	for (i = 0; i < c->proto->ntopo; i++)
		if (v->topo_on[i] && s->topo.grp[c->grp[i]].tk == k)
			return 2;
	for (i = 0; i < c->nmatched; i++)
		if (s->topo.grp[c->matched[i]].tk == k)
			return 1;
	return 0;
}

/* reqs_mask on key k, cached per key in *mask (allocated on first use). */
static uint64_t
cached_mask(
    struct st *s, uint64_t **mask, unsigned char **ok, const struct nap_reqs *reqs, size_t k)
{
	if (!*mask) {
		*mask = nap_xcalloc(s->topo.ntk + 1, sizeof(**mask));
		*ok = nap_xcalloc(s->topo.ntk + 1, 1);
	}
	if (!(*ok)[k] || s->nocache) {
		(*mask)[k] = reqs_mask(reqs, &s->topo.tk[k]);
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
strict_mask(struct st *s, struct variant *v, size_t k)
{
	static const struct nap_reqs none;

	return cached_mask(s, &v->smask, &v->smask_ok, v->strict ? v->strict : &none, k);
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
int
sched_topo_ok(struct st *s, const struct klass *c, struct variant *v, const struct cand *cd,
    char *why, size_t len)
{
	size_t k, j;

	s->npins = 0;
	for (k = 0; k < s->topo.ntk; k++) {
		const struct tkey *tk = &s->topo.tk[k];
		int role = key_role(s, c, v, k);

		if (!role)
			continue;
		if (tk->is_host) {
			if (!domain_ok(s, c, v, k, cd->host, 1, why, len))
				return 0;
			continue;
		}
		if (cd->kind == CAND_NODE) {
			long d = s->topo.ndom[k * s->in->nnodes + cd->idx];

			if (d < 0) {
				size_t i;

				for (i = 0; i < c->proto->ntopo; i++)
					if (v->topo_on[i] && s->topo.grp[c->grp[i]].tk == k &&
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
			uint64_t m = var_mask(s, v, k), pass = 0;
			long sg = spread_group(s, c, v, k), best = -1;
			int bestc = 0, pin;

			/*
			 * A spread that selects the pod counts it where it lands, so
			 * it needs a domain: the least loaded of that spread.
			 */
			if (sg < 0)
				sg = selecting_spread(s, c, k);
			pin = role == 2 || sg >= 0;

			m &= cd->kind == CAND_CLAIM ? claim_mask(s, s->claims[cd->idx], k)
						    : reqs_mask(cd->reqs, tk);
			for (j = 0; j < tk->nvals && j < 64; j++) {
				if (!(m & ((uint64_t)1 << j)))
					continue;
				if (!domain_ok(s, c, v, k, (long)j, 1, why, len))
					continue;
				pass |= (uint64_t)1 << j;
				if (best < 0 && !pin)
					best = (long)j;
				if (!pin)
					continue;
				if (sg < 0) {
					best = (long)j;
					break;
				}
				if (best < 0 || gcount(&s->topo.grp[sg], (long)j) < bestc) {
					best = (long)j;
					bestc = gcount(&s->topo.grp[sg], (long)j);
				}
			}
			/*
			 * Only the pod's own constraints and the spreads that count
			 * it choose a domain: a pod that others' affinities or
			 * anti-affinities merely select leaves the claim's domains
			 * open, for nap-launch to choose among, unless a running or
			 * placed pod's anti-affinity rules some of them out.
			 */
			if (!pin && pass == m)
				continue;
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

/* The one domain of key tk that reqs allow, or -1 (none, or several). */
static long
single_domain(const struct nap_reqs *reqs, const struct tkey *tk)
{
	const struct nap_req *q = nap_reqs_get(reqs, tk->key);

	if (q && !q->complement && q->nvalues == 1)
		return tkey_find(tk, q->values[0]);
	return -1;
}

/*
 * Count a pod in group g where it landed (a candidate, after pins applied):
 * as a pod the group selects (matched) or as an owner of its anti-affinity.
 * On a claim whose domain is still open, a spread or an affinity cannot
 * count it yet (the claim remembers that it owes the count), and an
 * anti-affinity counts it in every domain it may land in.
 */
static void
record_at(struct st *s, struct group *g, const struct cand *cd, const struct nap_reqs *reqs,
    int matched, int owner)
{
	const struct tkey *tk = &s->topo.tk[g->tk];
	uint64_t m;
	size_t j;
	long d;

	if (tk->is_host) {
		group_record(g, cd->host, matched, owner);
		return;
	}
	if (cd->kind == CAND_NODE) {
		group_record(g, s->topo.ndom[g->tk * s->in->nnodes + cd->idx], matched, owner);
		return;
	}
	if ((d = single_domain(reqs, tk)) >= 0) {
		group_record(g, d, matched, owner);
		return;
	}
	if (g->kind != NAP_SCHED_ANTI) {
		struct claim *c = s->claims[cd->idx];

		if (!c->uncounted)
			c->uncounted = nap_xcalloc(s->topo.ntk + 1, 1);
		c->uncounted[g->tk] = 1;
		return;
	}
	m = reqs_mask(reqs, tk);
	for (j = 0; j < tk->nvals && j < 64; j++)
		if (m >> j & 1)
			group_record(g, (long)j, matched, owner);
}

/*
 * The claim's domain on a key it owed counts on has narrowed to one (the
 * pod pi joining it narrowed it, and is counted by the caller): its other
 * pods count there now for the spreads and affinities that select them.
 */
static void
count_narrowed(struct st *s, struct claim *cl, size_t pi)
{
	size_t k, i, j;

	for (k = 0; k < s->topo.ntk; k++) {
		long d;

		if (!cl->uncounted[k] || (d = single_domain(&cl->reqs, &s->topo.tk[k])) < 0)
			continue;
		cl->uncounted[k] = 0;
		for (i = 0; i < cl->npods; i++) {
			const struct klass *c = sched_class_of(s, cl->pods[i]);

			if (cl->pods[i] == pi)
				continue;
			for (j = 0; j < c->nmatched; j++) {
				struct group *g = &s->topo.grp[c->matched[j]];

				if (g->tk == k && g->kind != NAP_SCHED_ANTI)
					group_record(g, d, 1, 0);
			}
		}
	}
}

/* Count a pod placed in the domains of a candidate (after pins applied). */
void
sched_topo_record(struct st *s, size_t pi, const struct variant *v, const struct cand *cd,
    const struct nap_reqs *reqs)
{
	const struct klass *c = sched_class_of(s, pi);
	const struct nap_sched_pod *p = c->proto;
	size_t i;

	if (cd->kind == CAND_CLAIM && s->claims[cd->idx]->uncounted)
		count_narrowed(s, s->claims[cd->idx], pi);
	for (i = 0; i < c->nmatched; i++)
		record_at(s, &s->topo.grp[c->matched[i]], cd, reqs, 1, 0);
	/* its required anti-affinity keeps the pods it selects away (inverse) */
	for (i = 0; i < p->ntopo; i++)
		if (p->topo[i].kind == NAP_SCHED_ANTI && p->topo[i].required && v->topo_on[i])
			record_at(s, &s->topo.grp[c->grp[i]], cd, reqs, 0, 1);
}

void
sched_setup_topology(struct st *s)
{
	const struct nap_sched_input *in = s->in;
	size_t i, j, g, nmemo = 0, amemo = 0;
	unsigned char *memo;
	struct nap_hash seen;

	for (i = 0; i < in->npending; i++)
		s->pod_cls[i] = sched_class_add(s, &in->pending[i]);
	/* pending pods' required anti-affinity keeps out the pods it selects, once placed */
	for (i = 0; i < s->ncls; i++)
		for (j = 0; j < s->cls[i].proto->ntopo; j++)
			if (s->cls[i].proto->topo[j].kind == NAP_SCHED_ANTI &&
			    s->cls[i].proto->topo[j].required)
				s->topo.grp[s->cls[i].grp[j]].inverse = 1;
	/* bound pods' anti-affinity keeps pending pods out (inverse anti-affinity) */
	for (i = 0; i < in->nbound; i++) {
		const struct nap_sched_bpod *b = in->bound[i].pod;

		for (j = 0; j < b->ntopo; j++)
			if (b->topo[j].kind == NAP_SCHED_ANTI && b->topo[j].required &&
			    b->topo[j].sig) {
				size_t g1 = sched_group_get(s, &b->topo[j], b->ns);

				s->topo.grp[g1].inverse = 1;
			}
	}
	tkeys_fill(s);
	s->topo.ndom = nap_xcalloc(s->topo.ntk * in->nnodes + 1, sizeof(long));
	for (g = 0; g < s->topo.ntk; g++)
		for (i = 0; i < in->nnodes; i++) {
			const char *v = s->topo.tk[g].is_host
			    ? NULL
			    : node_label(&in->nodes[i], s->topo.tk[g].key);

			s->topo.ndom[g * in->nnodes + i] = s->topo.tk[g].is_host ? (long)i
			    : v ? tkey_find(&s->topo.tk[g], v)
				: -1;
		}
	for (i = 0; i < s->ncls; i++) {
		struct klass *c = &s->cls[i];

		c->matched = nap_xcalloc(s->topo.ngrp + 1, sizeof(size_t));
		for (g = 0; g < s->topo.ngrp; g++)
			if (group_selects(&s->topo.grp[g], c->proto->ns, c->proto->labels))
				c->matched[c->nmatched++] = g;
		c->selfsel = nap_xcalloc(c->proto->ntopo + 1, 1);
		for (j = 0; j < c->proto->ntopo; j++)
			for (g = 0; g < c->nmatched; g++)
				if (c->matched[g] == c->grp[j])
					c->selfsel[j] = 1;
	}
	for (g = 0; g < s->topo.ngrp; g++) {
		struct group *gr = &s->topo.grp[g];
		const struct tkey *tk = &s->topo.tk[gr->tk];

		group_grow(gr, tk->is_host ? in->nnodes + 1 : tk->nvals + 1);
	}
	/*
	 * Bound pods often share one converted pod (the caller may pass the same
	 * pointer for pods equal in namespace, labels and constraints): whether
	 * a group selects or owns it is worked out once per pointer.
	 */
	memo = nap_xcalloc(s->topo.ngrp + 1, 1);
	nap_hash_init(&seen);
	for (i = 0; i < in->nbound; i++) {
		const struct nap_sched_bpod *b = in->bound[i].pod;
		size_t ni = in->bound[i].node;
		unsigned char *m;
		char key[32];

		if (ni >= in->nnodes || s->excluded[ni])
			continue;
		snprintf(key, sizeof(key), "%p", (const void *)b);
		if (s->nocache || !(m = nap_hash_get(&seen, key))) {
			nap_xgrow(&memo, &amemo, (nmemo + 1) * (s->topo.ngrp + 1), 1);
			m = memo + nmemo * (s->topo.ngrp + 1);
			for (g = 0; g < s->topo.ngrp; g++) {
				const struct group *gr = &s->topo.grp[g];
				int own = 0;

				if (gr->kind == NAP_SCHED_ANTI)
					for (j = 0; j < b->ntopo; j++)
						own |= b->topo[j].sig &&
						    strcmp(b->topo[j].sig, gr->t->sig) == 0;
				m[g] =
				    (unsigned char)(group_selects(gr, b->ns, b->labels) | own << 1);
			}
			nmemo++;
			/* offsets, not pointers: memo moves as it grows */
			nap_hash_put(&seen, key, (void *)(uintptr_t)nmemo);
		} else {
			m = memo + ((uintptr_t)m - 1) * (s->topo.ngrp + 1);
		}
		for (g = 0; g < s->topo.ngrp; g++) {
			struct group *gr = &s->topo.grp[g];
			const struct tkey *tk = &s->topo.tk[gr->tk];
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
