/*
 * sched-rules.c - the small shared rules of the simulation.
 *
 * Taints and tolerations (kube's ToleratesTaint, start-up taints), the FFD
 * pod order, requirement equality, whether a size has an offering the
 * requirements allow, and the formatting of reasons.  Pure functions.
 */
#include "sched-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 when every taint is tolerated; why names the first that is not. */
int
sched_taints_ok(const struct nap_taint *taints, size_t n, const struct nap_sched_pod *p,
    int tol_prefer, int skip_ephemeral, char *why, size_t len)
{
	const struct nap_taint *t;

	if (nap_taints_tolerated(p->tols, p->ntols, taints, n,
		(tol_prefer ? NAP_TAINTS_SKIP_PREFER : 0u) |
		    (skip_ephemeral ? NAP_TAINTS_SKIP_EPHEMERAL : 0u),
		&t))
		return 1;
	if (why)
		WHYF("did not tolerate taint %s%s%s:%s", t->key, t->value[0] ? "=" : "", t->value,
		    nap_effect_name(t->effect));
	return 0;
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
int
sched_cmp_pending(const void *x, const void *y, void *ctx)
{
	const struct nap_sched_pod *pods = *(const struct nap_sched_pod **)ctx;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = nap_sched_pod_cmp(&pods[a], &pods[b]);

	return c ? c : (a < b ? -1 : a > b);
}

int
sched_req_equal(const struct nap_req *a, const struct nap_req *b)
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

int
sched_reqs_equal(const struct nap_reqs *a, const struct nap_reqs *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (!sched_req_equal(&a->v[i], &b->v[i]))
			return 0;
	return 1;
}

/* An available offering of type t that reqs allow (zone and capacity type). */
int
sched_offering_ok(const struct nap_sched_itype *t, const struct nap_reqs *reqs, double *price)
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

void
sched_fmt_reqs(const struct nap_reqs *r, char *buf, size_t len)
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
void
sched_fmt_res_json(const struct nap_res *r, char *buf, size_t len)
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
 * Volume attach limits.  A node's CSINode says how many volumes of each
 * driver it can attach; a pod may go there when, for every driver it
 * attaches through, the distinct volumes of that driver (those attached
 * there, those of pods this run put there, and its own) stay within the
 * limit: a volume already there counts once (Karpenter's ExceedsLimits).
 * Each node's set is kept as pods land, so a check costs the pod's volumes
 * times the node's, not a rebuild.
 * New claims have no CSINode: only a size's known data-disk count bounds
 * them, for NAP_SCHED_DISK_DRIVER volumes.
 */

/* Add the ids of driver d among vols to set (no repeats). */
static void
vol_set_add(const char ***set, size_t *n, size_t *alloc, const struct nap_sched_vol *vols,
    size_t nvols, const char *d)
{
	size_t i, j;

	for (i = 0; i < nvols; i++) {
		if (strcmp(vols[i].driver, d) != 0)
			continue;
		for (j = 0; j < *n && strcmp((*set)[j], vols[i].id) != 0; j++)
			;
		if (j < *n)
			continue;
		nap_xgrow(set, alloc, *n + 1, sizeof(**set));
		(*set)[(*n)++] = vols[i].id;
	}
}

static int
has_driver(const struct nap_sched_vol *vols, size_t nvols, const char *d)
{
	size_t i;

	for (i = 0; i < nvols; i++)
		if (strcmp(vols[i].driver, d) == 0)
			return 1;
	return 0;
}

static uint64_t
vol_hash(const struct nap_sched_vol *v)
{
	return nap_hash_str(v->id, strlen(v->id)) ^
	    (nap_hash_str(v->driver, strlen(v->driver)) * UINT64_C(0x9e3779b97f4a7c15));
}

static size_t
limit_of(const struct nap_sched_node *n, const char *driver)
{
	size_t i;

	for (i = 0; i < n->nvlimits; i++)
		if (strcmp(n->vlimits[i].driver, driver) == 0)
			return i;
	return NAP_SCHED_NPOS;
}

static int
vset_has(const struct sched_vset *vs, const struct nap_sched_vol *v, uint64_t h)
{
	size_t i;

	for (i = 0; i < vs->n; i++)
		if (vs->h[i] == h && strcmp(vs->v[i].id, v->id) == 0 &&
		    strcmp(vs->v[i].driver, v->driver) == 0)
			return 1;
	return 0;
}

static void
vset_put(struct sched_vset *vs, const struct nap_sched_vol *v, uint64_t h, size_t lim)
{
	if (vs->n == vs->alloc) {
		vs->alloc = vs->alloc ? 2 * vs->alloc : 8;
		vs->v = nap_xrealloc(vs->v, vs->alloc * sizeof(*vs->v));
		vs->h = nap_xrealloc(vs->h, vs->alloc * sizeof(*vs->h));
	}
	vs->v[vs->n] = *v;
	vs->h[vs->n++] = h;
	vs->cnt[lim]++;
}

/* The volumes on node ni under limits (its own, then what this run put there), made on first use. */
static struct sched_vset *
node_vset(struct st *s, size_t ni)
{
	const struct nap_sched_node *n = &s->in->nodes[ni];
	struct sched_vset *vs;
	size_t i;

	if (!s->node_vset)
		s->node_vset = nap_xcalloc(s->in->nnodes + 1, sizeof(*s->node_vset));
	vs = &s->node_vset[ni];
	if (!vs->cnt) {
		vs->cnt = nap_xcalloc(n->nvlimits + 1, sizeof(*vs->cnt));
		for (i = 0; i < n->nvols; i++) {
			size_t lim = limit_of(n, n->vols[i].driver);

			if (lim != NAP_SCHED_NPOS)
				vset_put(vs, &n->vols[i], vol_hash(&n->vols[i]), lim);
		}
	}
	return vs;
}

int
sched_node_vols_ok(struct st *s, size_t pi, size_t ni, char *why, size_t len)
{
	const struct nap_sched_pod *p = &s->in->pending[pi];
	const struct nap_sched_node *n = &s->in->nodes[ni];
	const struct sched_vset *vs;
	size_t i, k;

	if (!p->nvols || !n->nvlimits)
		return 1;
	vs = node_vset(s, ni);
	for (i = 0; i < n->nvlimits; i++) {
		const char *d = n->vlimits[i].driver;
		long extra = 0, mine = 0;

		for (k = 0; k < p->nvols; k++)
			mine += strcmp(p->vols[k].driver, d) == 0;
		if (mine == 0 || vs->cnt[i] + mine <= n->vlimits[i].count)
			continue;
		/* the pod's volumes are distinct: each not there yet adds one */
		for (k = 0; k < p->nvols; k++)
			extra += strcmp(p->vols[k].driver, d) == 0 &&
			    !vset_has(vs, &p->vols[k], vol_hash(&p->vols[k]));
		if (vs->cnt[i] + extra > n->vlimits[i].count) {
			WHYF("would exceed the node's limit of %ld %s volumes", n->vlimits[i].count,
			    d);
			return 0;
		}
	}
	return 1;
}

void
sched_node_vols_add(struct st *s, size_t pi, size_t ni)
{
	const struct nap_sched_pod *p = &s->in->pending[pi];
	const struct nap_sched_node *n = &s->in->nodes[ni];
	struct sched_vset *vs;
	size_t k;

	if (!p->nvols || !n->nvlimits)
		return;
	vs = node_vset(s, ni);
	for (k = 0; k < p->nvols; k++) {
		size_t lim = limit_of(n, p->vols[k].driver);
		uint64_t h = vol_hash(&p->vols[k]);

		if (lim != NAP_SCHED_NPOS && !vset_has(vs, &p->vols[k], h))
			vset_put(vs, &p->vols[k], h, lim);
	}
}

long
sched_claim_disks(const struct st *s, const size_t *pods, size_t npods, size_t pi)
{
	const struct nap_sched_pod *p = &s->in->pending[pi];
	const char **set = NULL;
	size_t i, nset = 0, aset = 0;

	if (!has_driver(p->vols, p->nvols, NAP_SCHED_DISK_DRIVER))
		return 0;
	for (i = 0; i < npods; i++) {
		const struct nap_sched_pod *q = &s->in->pending[pods[i]];

		vol_set_add(&set, &nset, &aset, q->vols, q->nvols, NAP_SCHED_DISK_DRIVER);
	}
	vol_set_add(&set, &nset, &aset, p->vols, p->nvols, NAP_SCHED_DISK_DRIVER);
	free(set);
	return (long)nset;
}
