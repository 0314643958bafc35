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

int
nap_bound_fleet(const struct nap_cluster *cl, const struct nap_catalog *cat, uint64_t gen,
    struct nap_bound_fleet_cache *cache, double *usd, struct nap_err *err)
{
	struct nap_bound_class *k = NULL;
	struct nap_bound_type *t = NULL;
	size_t nk, nt;
	double pods, unplaced;
	unsigned bits;
	uint64_t key;
	int rc = 0;

	if (cache && cache->valid && gen != 0 && cache->gen == gen && cache->cat == cat) {
		*usd = cache->usd;
		return 0;
	}
	bits = nap_bound_fleet_captypes(cl);
	nk = nap_bound_fleet_classes(cl, &k, &pods);
	/* the classes are zeroed, padding too: their bytes are the key */
	key = nap_hash_str((const char *)k, nk * sizeof(*k)) ^ ((uint64_t)bits << 60);
	if (cache && cache->valid && cache->key == key && cache->cat == cat) {
		*usd = cache->usd;
		cache->gen = gen;
		free(k);
		return 0;
	}
	nt = nap_bound_catalog_types(cat, NULL, bits, &t);
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
