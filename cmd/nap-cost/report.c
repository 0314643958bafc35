/*
 * report.c - the fleet at one moment as nap-cost reports it (cost.h).
 *
 * The fleet is every launched NodeClaim (it has an instance-type label; its
 * VM is billed whether or not its Node has registered) and every Node no
 * NodeClaim owns (a system pool, nodes from elsewhere).  A node's price is
 * the catalog's for its size, zone and capacity type; a size the catalog
 * does not price is counted as unpriced, never as free.
 */
#include <stdlib.h>
#include <string.h>

#include "cost.h"
#include "hash.h"
#include "labels.h"
#include "wellknown.h"

#define GIB (1024.0 * 1024 * 1024)

static struct cost_row *
row_get(struct cost_rows *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].key, key) == 0)
			return &r->v[i];
	nap_xgrow(&r->v, &r->alloc, r->n + 1, sizeof(*r->v));
	memset(&r->v[r->n], 0, sizeof(*r->v));
	r->v[r->n].key = nap_xstrdup(key);
	return &r->v[r->n++];
}

static void
row_add(struct cost_row *dst, const struct cost_row *n)
{
	dst->nodes += n->nodes;
	dst->unpriced += n->unpriced;
	dst->usd += n->usd;
	dst->cpu_req += n->cpu_req;
	dst->cpu_alloc += n->cpu_alloc;
	dst->mem_req += n->mem_req;
	dst->mem_alloc += n->mem_alloc;
}

static void
row_free(struct cost_row *r)
{
	free(r->key);
	free(r->pool);
	free(r->size);
	free(r->zone);
	free(r->captype);
}

static int
cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct cost_row *)a)->key, ((const struct cost_row *)b)->key);
}

/* Price of size in zone at capacity type ct: the matching offering, else the size's list price; -1 when unknown. */
static double
price_of(const struct nap_catalog *cat, const char *size, const char *zone, const char *ct)
{
	const struct nap_itype *it = cat && size ? nap_catalog_find(cat, size) : NULL;
	int spot = strcmp(ct, "spot") == 0;
	size_t i;

	if (!it)
		return -1;
	for (i = 0; i < it->noff; i++)
		if (it->off[i].spot == spot && zone && strcmp(it->off[i].zone_label, zone) == 0)
			return it->off[i].price;
	if (spot)
		return it->spot_price;
	return it->on_demand_price;
}

/* One node of the fleet: from its NodeClaim (may be NULL) and its Node (may be NULL). */
static void
add_node(struct cost_sample *s, const struct nap_cluster *cl, const struct nap_catalog *cat,
    const struct nap_nodeclaim *claim, const struct nap_node *node)
{
	const struct nap_meta *m = node ? &node->meta : &claim->meta;
	const char *pool = claim && claim->nodepool ? claim->nodepool
	    : node && node->nodepool		    ? node->nodepool
						    : "-";
	const char *size = nap_meta_label(m, NAP_LABEL_INSTANCE_TYPE);
	const char *zone = nap_meta_label(m, NAP_LABEL_ZONE);
	const char *ct = nap_meta_label(m, NAP_LABEL_CAPACITY_TYPE);
	struct cost_row r, *g;
	double usd;

	if (!size && claim)
		size = nap_meta_label(&claim->meta, NAP_LABEL_INSTANCE_TYPE);
	if (!zone && claim)
		zone = nap_meta_label(&claim->meta, NAP_LABEL_ZONE);
	if (!ct && claim)
		ct = nap_meta_label(&claim->meta, NAP_LABEL_CAPACITY_TYPE);
	if (!ct) /* AKS marks spot pools by scale-set priority; anything else pays list price */
		ct = nap_meta_label(m, "kubernetes.azure.com/scalesetpriority");
	if (!ct || strcmp(ct, "spot") != 0)
		ct = "on-demand";
	usd = price_of(cat, size, zone, ct);
	memset(&r, 0, sizeof(r));
	r.key = nap_xstrdup(node ? node->meta.name : claim->meta.name);
	r.pool = nap_xstrdup(pool);
	r.size = nap_xstrdup(size ? size : "-");
	r.zone = nap_xstrdup(zone ? zone : "-");
	r.captype = nap_xstrdup(ct);
	r.nodes = 1;
	if (usd < 0 || usd >= NAP_CATALOG_MISSING_PRICE)
		r.unpriced = 1;
	else
		r.usd = usd;
	if (node) {
		const struct nap_res *req = nap_cluster_node_requests(cl, node->meta.name);

		r.cpu_alloc = node->allocatable.v[NAP_RES_CPU];
		r.mem_alloc = node->allocatable.v[NAP_RES_MEMORY];
		r.cpu_req = req->v[NAP_RES_CPU];
		r.mem_req = req->v[NAP_RES_MEMORY];
	} else {
		r.cpu_alloc = claim->allocatable.v[NAP_RES_CPU];
		r.mem_alloc = claim->allocatable.v[NAP_RES_MEMORY];
	}
	row_add(&s->all, &r);
	row_add(row_get(&s->by[COST_BY_POOL], r.pool), &r);
	row_add(row_get(&s->by[COST_BY_CAPTYPE], r.captype), &r);
	row_add(row_get(&s->by[COST_BY_ZONE], r.zone), &r);
	row_add(row_get(&s->by[COST_BY_SIZE], r.size), &r);
	g = row_get(&s->nodes, r.key);
	free(g->key);
	*g = r;
}

int
cost_sample(struct cost_sample *s, const struct nap_cluster *cl, const struct nap_catalog *cat,
    struct cost_bound_cache *cache, struct nap_err *err)
{
	struct nap_nodeclaim *const *claims;
	struct nap_node *const *nodes;
	struct nap_bound_class *k;
	struct nap_bound_type *t = NULL;
	size_t nc, nn, i, nk, nt = 0;
	uint64_t key;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->all.key = nap_xstrdup("fleet");
	claims = nap_cluster_nodeclaims(cl, &nc);
	for (i = 0; i < nc; i++)
		if (nap_meta_label(&claims[i]->meta, NAP_LABEL_INSTANCE_TYPE))
			add_node(s, cl, cat, claims[i], nap_cluster_node_of(cl, claims[i]));
	nodes = nap_cluster_nodes(cl, &nn);
	for (i = 0; i < nn; i++) {
		const struct nap_nodeclaim *c = nap_cluster_nodeclaim_of(cl, nodes[i]);

		if (!c || !nap_meta_label(&c->meta, NAP_LABEL_INSTANCE_TYPE))
			add_node(s, cl, cat, NULL, nodes[i]);
	}
	for (i = 0; i < COST_BY_N; i++)
		if (s->by[i].n)
			qsort(s->by[i].v, s->by[i].n, sizeof(*s->by[i].v), cmp_row);
	if (s->nodes.n)
		qsort(s->nodes.v, s->nodes.n, sizeof(*s->nodes.v), cmp_row);

	nk = nap_bound_fleet_classes(cl, &k, &s->pods);
	/* the types follow the NodePools; no catalog, no type (nothing priced yet) */
	key = nap_hash_str((const char *)k, nk * sizeof(*k)) ^
	    (nap_cluster_version(cl, NAP_KIND_NODEPOOL) * 0x9e3779b97f4a7c15ull) ^ (cat != NULL);
	if (!cache->valid || cache->key != key) {
		if (cat)
			nt = nap_bound_fleet_types(cl, cat, k, nk, &t);
		if (nap_bound_whole(
			t, nt, k, nk, &cache->bound, &cache->unplaced, &cache->flags, err) < 0 ||
		    nap_bound_aggregate_classes(t, nt, k, nk, &cache->aggregate, err) < 0)
			rc = -1;
		cache->key = key;
		cache->valid = rc == 0;
	}
	free(t);
	free(k);
	if (rc < 0)
		return -1;
	s->bound = cache->bound;
	s->aggregate = cache->aggregate;
	s->unplaced = cache->unplaced;
	s->bound_flags = cache->flags;
	return 0;
}

void
cost_sample_free(struct cost_sample *s)
{
	size_t i, j;

	row_free(&s->all);
	for (i = 0; i < COST_BY_N; i++) {
		for (j = 0; j < s->by[i].n; j++)
			row_free(&s->by[i].v[j]);
		free(s->by[i].v);
	}
	for (j = 0; j < s->nodes.n; j++)
		row_free(&s->nodes.v[j]);
	free(s->nodes.v);
	memset(s, 0, sizeof(*s));
}
