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

int
sched_node_vols_ok(struct st *s, size_t pi, size_t ni, char *why, size_t len)
{
	const struct nap_sched_pod *p = &s->in->pending[pi];
	const struct nap_sched_node *n = &s->in->nodes[ni];
	const char **set = NULL;
	size_t i, k, nset, aset = 0;
	int ok = 1;

	if (!p->nvols || !n->nvlimits)
		return 1;
	for (i = 0; i < n->nvlimits && ok; i++) {
		const char *d = n->vlimits[i].driver;
		const struct plist *l = s->node_voled ? &s->node_voled[ni] : NULL;

		if (!has_driver(p->vols, p->nvols, d))
			continue;
		nset = 0;
		vol_set_add(&set, &nset, &aset, n->vols, n->nvols, d);
		for (k = 0; l && k < l->n; k++) {
			const struct nap_sched_pod *q = &s->in->pending[l->v[k]];

			vol_set_add(&set, &nset, &aset, q->vols, q->nvols, d);
		}
		vol_set_add(&set, &nset, &aset, p->vols, p->nvols, d);
		if ((long)nset > n->vlimits[i].count) {
			WHYF("would exceed the node's limit of %ld %s volumes", n->vlimits[i].count,
			    d);
			ok = 0;
		}
	}
	free(set);
	return ok;
}

void
sched_node_vols_add(struct st *s, size_t pi, size_t ni)
{
	struct plist *l;

	if (!s->in->pending[pi].nvols || !s->in->nodes[ni].nvlimits)
		return;
	if (!s->node_voled)
		s->node_voled = nap_xcalloc(s->in->nnodes + 1, sizeof(*s->node_voled));
	l = &s->node_voled[ni];
	nap_xgrow(&l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = pi;
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
