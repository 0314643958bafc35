/*
 * bound-fleet.c - the pods a cluster's fleet runs as the classes the bounds
 * of bound.h take, and the capacity types its NodePools allow: what
 * nap-cost and nap-disrupt set the fleet's price against.
 */
#include <stdlib.h>
#include <string.h>

#include "bound.h"
#include "hash.h"
#include "labels.h"
#include "taint.h"
#include "wellknown.h"

#define GIB (1024.0 * 1024 * 1024)

/*
 * The capacity types (NAP_BOUND_* bits) a pool allows to a pod whose node
 * requirements are term (NULL: none): on-demand only when the pool says
 * nothing, as in Karpenter.
 */
static unsigned
pool_captypes(const struct nap_nodepool *pool, const struct nap_reqs *term)
{
	const struct nap_req *q = nap_reqs_get(&pool->node_reqs, NAP_LABEL_CAPACITY_TYPE);
	const struct nap_req *t = term ? nap_reqs_get(term, NAP_LABEL_CAPACITY_TYPE) : NULL;
	unsigned bits = 0;

	if ((!q || nap_req_allows(q, "on-demand")) && (!t || nap_req_allows(t, "on-demand")))
		bits |= NAP_BOUND_ON_DEMAND;
	if (q && nap_req_allows(q, "spot") && (!t || nap_req_allows(t, "spot")))
		bits |= NAP_BOUND_SPOT;
	return bits;
}

unsigned
nap_bound_fleet_captypes(const struct nap_cluster *cl)
{
	size_t n, i;
	struct nap_nodepool *const *p = nap_cluster_nodepools(cl, &n);
	unsigned bits = 0;

	for (i = 0; i < n; i++)
		bits |= pool_captypes(p[i], NULL);
	return bits ? bits : NAP_BOUND_ON_DEMAND;
}

/*
 * The capacity types a pod could have been given: those of the NodePools
 * whose taints it tolerates and whose requirements meet one of its node
 * terms, as far as its own terms allow.  0 (any) when no NodePool would
 * take it: it runs on a node nap did not make.
 */
static unsigned
pod_captypes(const struct nap_cluster *cl, const struct nap_pod *p)
{
	size_t n, i, j;
	struct nap_nodepool *const *pools = nap_cluster_nodepools(cl, &n);
	unsigned bits = 0;

	for (i = 0; i < n; i++) {
		if (!nap_tolerates_all(
			p->tolerations, p->ntolerations, pools[i]->taints, pools[i]->ntaints, NULL))
			continue;
		for (j = 0; j < p->nnode_terms; j++)
			if (nap_reqs_intersects(
				&p->node_terms[j].reqs, &pools[i]->node_reqs, NULL, 0))
				bits |= pool_captypes(pools[i], &p->node_terms[j].reqs);
	}
	return bits;
}

size_t
nap_bound_fleet_classes(const struct nap_cluster *cl, struct nap_bound_class **out, double *pods)
{
	size_t n, i, k = 0, alloc = 0;
	struct nap_pod *const *p = nap_cluster_pods(cl, &n);
	struct nap_bound_class *c = NULL;

	*pods = 0;
	for (i = 0; i < n; i++) {
		/* per-node pods come with every node, in any packing: not the workload's */
		if (!*p[i]->node_name || nap_pod_is_terminal(p[i]) ||
		    nap_pod_is_daemon_or_static(p[i]))
			continue;
		nap_xgrow(&c, &alloc, k + 1, sizeof(*c));
		/* padding too: the classes' bytes are the bound cache's key */
		memset(&c[k], 0, sizeof(*c));
		c[k].cpu = (double)p[i]->requests.v[NAP_RES_CPU] / 1000.0;
		c[k].mem = (double)p[i]->requests.v[NAP_RES_MEMORY] / GIB;
		c[k].gpu = (double)(p[i]->requests.v[NAP_RES_NVIDIA_GPU] +
		    p[i]->requests.v[NAP_RES_AMD_GPU]);
		c[k].allow = pod_captypes(cl, p[i]);
		c[k++].n = 1;
		*pods += 1;
	}
	*out = c;
	return nap_bound_classes_merge(c, k);
}

size_t
nap_bound_fleet_types(const struct nap_cluster *cl, const struct nap_catalog *c,
    const struct nap_bound_class *k, size_t nk, struct nap_bound_type **out)
{
	size_t np, n, i, j, m = 0;
	struct nap_nodepool *const *pools = nap_cluster_nodepools(cl, &np);
	struct nap_bound_type *t;
	const struct nap_itype *ty = NULL;
	struct nap_reqs reqs;
	int any = 1;

	for (j = 0; j < np; j++)
		if (!pools[j]->meta.deleted)
			any = 0;
	for (j = 0; j < nk && !any; j++)
		any = k[j].allow == 0;
	if (any)
		return nap_bound_catalog_types(c, NULL, nap_bound_fleet_captypes(cl), out);
	n = nap_bound_catalog_types(c, NULL, NAP_BOUND_ON_DEMAND | NAP_BOUND_SPOT, &t);
	nap_reqs_init(&reqs);
	for (i = 0; i < n; i++) {
		unsigned bits = 0;

		/* a type's entries are adjacent (on-demand, then spot): its labels once */
		if (!ty || strcmp(ty->name, t[i].name) != 0) {
			ty = nap_catalog_find(c, t[i].name);
			nap_reqs_free(&reqs);
			nap_reqs_init(&reqs);
			nap_itype_reqs(ty, c, &reqs);
		}
		for (j = 0; j < np && !(bits & t[i].captype); j++)
			if (!pools[j]->meta.deleted &&
			    nap_reqs_intersects(&reqs, &pools[j]->node_reqs, NULL, 0))
				bits |= pool_captypes(pools[j], NULL);
		if (bits & t[i].captype)
			t[m++] = t[i];
	}
	nap_reqs_free(&reqs);
	*out = t;
	return m;
}

int
nap_bound_fleet(const struct nap_cluster *cl, const struct nap_catalog *cat, uint64_t gen,
    struct nap_bound_fleet_cache *cache, double *usd, struct nap_err *err)
{
	struct nap_bound_class *k = NULL;
	struct nap_bound_type *t = NULL;
	size_t nk, nt, i;
	double pods, unplaced;
	uint64_t key;
	int rc = 0;

	if (cache && cache->valid && gen != 0 && cache->gen == gen && cache->cat == cat) {
		*usd = cache->usd;
		return 0;
	}
	nk = nap_bound_fleet_classes(cl, &k, &pods);
	nt = nap_bound_fleet_types(cl, cat, k, nk, &t);
	/* the classes are zeroed, padding too: their bytes are the key, with the types' */
	key = nap_hash_str((const char *)k, nk * sizeof(*k));
	for (i = 0; i < nt; i++)
		key = key * 31 + ((uintptr_t)t[i].name ^ t[i].captype);
	if (cache && cache->valid && cache->key == key && cache->cat == cat) {
		*usd = cache->usd;
		cache->gen = gen;
		free(t);
		free(k);
		return 0;
	}
	if (nap_bound_whole(t, nt, k, nk, usd, &unplaced, NULL, err) < 0) {
		rc = -1;
	} else if (cache) {
		cache->gen = gen;
		cache->key = key;
		cache->cat = cat;
		cache->usd = *usd;
		cache->valid = 1;
		cache->solves++;
	}
	free(t);
	free(k);
	return rc;
}
