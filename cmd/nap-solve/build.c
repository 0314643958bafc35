/*
 * build.c - the cluster model as the scheduler's input: instance types and
 * offerings from the catalog, NodePools with their AKSNodeClass applied,
 * nodes and in-flight NodeClaims, bound pods for topology, DaemonSets for
 * overhead, and the provisionable pods of this batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "solve.h"

#define SEP "\x1f"

static void *
keep(struct plan *pl, void *p)
{
	nap_xgrow(&pl->strs, &pl->astrs, pl->nstrs + 1, sizeof(*pl->strs));
	pl->strs[pl->nstrs++] = p;
	return p;
}

static void *
kalloc(struct plan *pl, size_t n, size_t size)
{
	return keep(pl, nap_xcalloc(n + 1, size));
}

/* "%016llx" of h: a bound pod and a pending pod's terms each need one, snprintf costs more. */
static void
hex16(char *out, uint64_t h)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 15; i >= 0; i--) {
		out[i] = digits[h & 0xf];
		h >>= 4;
	}
	out[16] = '\0';
}

/* a SEP hex(h) SEP b SEP c, without the parts that are NULL, kept by the plan. */
static const char *
sig_make(struct plan *pl, const char *a, uint64_t h, const char *b, const char *c)
{
	size_t al = a ? strlen(a) : 0, bl = b ? strlen(b) : 0, cl = c ? strlen(c) : 0;
	char *s = keep(pl, nap_xmalloc(al + bl + cl + 20)), *q = s;

	if (a) {
		memcpy(q, a, al);
		q += al;
		*q++ = SEP[0];
	}
	hex16(q, h);
	q += 16;
	if (b) {
		*q++ = SEP[0];
		memcpy(q, b, bl);
		q += bl;
	}
	if (c) {
		*q++ = SEP[0];
		memcpy(q, c, cl);
		q += cl;
	}
	*q = '\0';
	return s;
}

static int
effect_of(enum nap_effect e)
{
	switch (e) {
	case NAP_EFFECT_NOSCHEDULE:
		return NAP_SCHED_NOSCHEDULE;
	case NAP_EFFECT_PREFERNOSCHEDULE:
		return NAP_SCHED_PREFERNOSCHEDULE;
	case NAP_EFFECT_NOEXECUTE:
		return NAP_SCHED_NOEXECUTE;
	case NAP_EFFECT_ANY:
	case NAP_EFFECT_OTHER:
		break;
	}
	return -1;
}

static const struct nap_sched_taint *
taints_conv(struct plan *pl, const struct nap_taint *t, size_t n, size_t *out_n)
{
	struct nap_sched_taint *o = kalloc(pl, n, sizeof(*o));
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		int e = effect_of(t[i].effect);

		/* an effect nap does not know cannot be tolerated by effect: treat as NoSchedule */
		o[k].key = t[i].key;
		o[k].value = t[i].value;
		o[k].effect = e < 0 ? NAP_SCHED_NOSCHEDULE : (enum nap_sched_effect)e;
		k++;
	}
	*out_n = k;
	return o;
}

static void
pod_topo(struct plan *pl, const struct nap_pod *p, struct nap_sched_pod *o, int anti_only)
{
	size_t n = p->nspread + p->naffinity + p->nanti_affinity, i, k = 0;
	struct nap_sched_topo *t;

	if (n == 0)
		return;
	t = kalloc(pl, n, sizeof(*t));
	for (i = 0; i < p->nspread && !anti_only; i++) {
		const struct nap_spread *s = &p->spread[i];

		t[k].kind = NAP_SCHED_SPREAD;
		t[k].key = s->topology_key;
		t[k].sel = s->selector;
		t[k].max_skew = s->max_skew;
		t[k].min_domains = s->min_domains;
		t[k].required = s->do_not_schedule;
		t[k].sig = sig_make(pl, "spread", s->hash, NULL, NULL);
		k++;
	}
	for (i = 0; i < p->naffinity + p->nanti_affinity; i++) {
		int anti = i >= p->naffinity;
		const struct nap_pod_term *pt =
		    anti ? &p->anti_affinity[i - p->naffinity] : &p->affinity[i];

		if (anti_only && (!anti || pt->weight))
			continue;
		t[k].kind = anti ? NAP_SCHED_ANTI : NAP_SCHED_AFFINITY;
		t[k].key = pt->topology_key;
		t[k].sel = pt->selector;
		t[k].namespaces = (const char *const *)pt->namespaces;
		t[k].nnamespaces = pt->nnamespaces;
		t[k].all_namespaces = pt->ns_selector != NULL;
		t[k].required = pt->weight == 0;
		t[k].weight = pt->weight;
		t[k].sig = sig_make(pl, anti ? "anti" : "aff", pt->hash, NULL, NULL);
		k++;
	}
	o->topo = t;
	o->ntopo = k;
}

/* The node requirement a bound volume (or its storage class) pins, or NULL. */
static const struct nap_reqs *
pod_volume(const struct nap_cluster *cl, const struct nap_pod *p, const char **sigp)
{
	size_t i;

	for (i = 0; i < p->npvcs; i++) {
		const struct nap_pvc *c = nap_cluster_get(cl, NAP_KIND_PVC, p->meta.ns, p->pvcs[i]);
		const struct nap_pv *v;
		const struct nap_storageclass *sc;

		if (!c)
			continue;
		if (c->volume_name[0]) {
			v = nap_cluster_get(cl, NAP_KIND_PV, "", c->volume_name);
			if (v && v->nterms > 0) {
				*sigp = v->meta.name;
				return &v->terms[0];
			}
			continue;
		}
		sc = c->storage_class[0]
		    ? nap_cluster_get(cl, NAP_KIND_STORAGECLASS, "", c->storage_class)
		    : NULL;
		if (sc && sc->nterms > 0) {
			*sigp = sc->meta.name;
			return &sc->terms[0];
		}
	}
	return NULL;
}

static void
pod_conv(struct plan *pl, const struct nap_cluster *cl, const struct nap_pod *p,
    struct nap_sched_pod *o, int full)
{
	size_t i, j;
	const char *vsig = "";

	memset(o, 0, sizeof(*o));
	o->ns = p->meta.ns;
	o->name = p->meta.name;
	o->uid = p->meta.uid;
	o->created = p->meta.created;
	o->labels = p->meta.labels;
	o->req = p->requests;
	if (!full) {
		pod_topo(pl, p, o, 1);
		return;
	}
	if (p->unknown_resource[0])
		o->never = keep(pl,
		    nap_xasprintf(
			"no instance type provides resource \"%s\"", p->unknown_resource));
	if (p->nnode_terms > 1 || (p->nnode_terms == 1 && p->node_terms[0].reqs.n > 0)) {
		struct nap_reqs *t = kalloc(pl, p->nnode_terms, sizeof(*t));

		for (i = 0; i < p->nnode_terms; i++) {
			t[i] = p->node_terms[i].reqs;
			for (j = 0; j < t[i].n && !o->never; j++)
				if (nap_label_is_restricted(t[i].v[j].key))
					o->never = keep(pl,
					    nap_xasprintf(
						"label \"%s\" is restricted", t[i].v[j].key));
		}
		o->terms = t;
		o->nterms = p->nnode_terms;
	}
	if (p->nnode_prefs) {
		struct nap_sched_pref *pr = kalloc(pl, p->nnode_prefs, sizeof(*pr));

		for (i = 0; i < p->nnode_prefs; i++) {
			pr[i].weight = p->node_prefs[i].weight;
			pr[i].reqs = p->node_prefs[i].reqs;
		}
		o->prefs = pr;
		o->nprefs = p->nnode_prefs;
	}
	if (p->ntolerations) {
		struct nap_sched_toleration *t = kalloc(pl, p->ntolerations, sizeof(*t));

		for (i = 0; i < p->ntolerations; i++) {
			t[i].key = p->tolerations[i].key;
			t[i].value = p->tolerations[i].value;
			t[i].exists = p->tolerations[i].exists;
			t[i].effect = effect_of(p->tolerations[i].effect);
		}
		o->tols = t;
		o->ntols = p->ntolerations;
	}
	pod_topo(pl, p, o, 0);
	if (cl)
		o->volume = pod_volume(cl, p, &vsig);
	/* the model's structural hash stands for the pod's JSON, which it does not keep */
	o->sig = sig_make(pl, NULL, p->constraints_hash, vsig, o->never ? o->never : "");
}

/* The nodes the scheduler turned the pod away from lately (main.c), left out for it. */
static void
pod_avoid(const struct solve *sv, struct plan *pl, const struct nap_pod *p, struct nap_sched_pod *o)
{
	const struct turned *t;
	char key[512], *sig;
	size_t i;

	snprintf(key, sizeof(key), "%s/%s", p->meta.ns, p->meta.name);
	t = nap_hash_get(&sv->turned, key);
	if (t == NULL || t->n == 0 || !sv->now_ms || t->until_ms <= sv->now_ms)
		return;
	o->avoid = (const char *const *)t->nodes;
	o->navoid = t->n;
	sig = nap_xstrdup(o->sig);
	for (i = 0; i < t->n; i++) {
		char *next = nap_xasprintf("%s" SEP "%s", sig, t->nodes[i]);

		free(sig);
		sig = next;
	}
	o->sig = keep(pl, sig);
}

static int64_t
now_or_zero(const struct solve *sv)
{
	return sv->now_ms;
}

static int
offering_unavailable(const struct solve *sv, const char *it, const struct nap_offering *o)
{
	size_t i;

	for (i = 0; i < sv->nun; i++) {
		const struct unavail *u = &sv->un[i];

		if (u->until_ms && now_or_zero(sv) && u->until_ms <= now_or_zero(sv))
			continue;
		if (strcmp(u->itype, it) != 0)
			continue;
		if (u->zone && strcmp(u->zone, o->zone_label) != 0)
			continue;
		if (u->ctype && strcmp(u->ctype, o->capacity_type) != 0)
			continue;
		return 1;
	}
	return 0;
}

static void
itype_opts(const struct nap_nodeclass *nc, struct nap_itype_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (!nc)
		return;
	o->max_pods = nap_nodeclass_max_pods(nc, NULL, NULL);
	o->os_disk_gb = nc->os_disk_gb;
	o->gpu_mode_none = !nc->gpu_driver;
	o->encryption_at_host = nc->encryption_at_host;
	o->trusted_launch = nc->trusted_launch;
	o->localdns = nc->localdns_mode && strcmp(nc->localdns_mode, "Required") == 0;
	o->artifact_streaming = nc->artifact_streaming;
	switch (nc->image_family) {
	case NAP_IMAGE_AZURELINUX:
		o->gpu_os = NAP_GPU_OS_AZURELINUX | NAP_GPU_OS_AZURELINUX3;
		break;
	default:
		o->gpu_os = NAP_GPU_OS_UBUNTU;
		break;
	}
}

static int
nodepool_ready_false(const struct nap_nodepool *np)
{
	return nap_cond_status(np->conds, np->nconds, "Ready") == 0;
}

static size_t
pool_index(const struct plan *pl, const char *name)
{
	size_t i;

	for (i = 0; name && i < pl->in.npools; i++)
		if (strcmp(pl->pools[i].name, name) == 0)
			return i;
	return (size_t)-1;
}

/* The allocatable of a NodeClaim nobody has measured yet: the smallest of its types. */
static void
claim_guess(const struct solve *sv, const struct nap_nodeclaim *c, const struct nap_nodeclass *nc,
    struct nap_res *alloc, struct nap_res *cap)
{
	const struct nap_req *q = nap_reqs_get(&c->reqs, "node.kubernetes.io/instance-type");
	struct nap_itype_opts o;
	size_t i;
	int first = 1, k;

	nap_res_zero(alloc);
	nap_res_zero(cap);
	itype_opts(nc, &o);
	for (i = 0; q && !q->complement && i < q->nvalues; i++) {
		const struct nap_itype *it = nap_catalog_find(sv->cat, q->values[i]);
		struct nap_res a, c2;

		if (!it)
			continue;
		nap_itype_allocatable(it, &o, &a);
		nap_itype_capacity(it, &o, &c2);
		nap_res_max(cap, &c2);
		if (first) {
			*alloc = a;
		} else {
			for (k = 0; k < NAP_RES_N; k++)
				if (a.v[k] < alloc->v[k])
					alloc->v[k] = a.v[k];
		}
		first = 0;
	}
}

struct nref {
	const char *name;
	int initialized;
	int closed; /* cordoned or being deleted: counts for topology, takes no pod */
	const struct nap_node *node;
	const struct nap_nodeclaim *claim;
};

static int
cmp_nref(const void *a, const void *b)
{
	const struct nref *x = a, *y = b;

	if (x->initialized != y->initialized)
		return x->initialized ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * The node (or in-flight NodeClaim) of a nomination, as its index in
 * node_idx plus one; 0 when it is not in the input (gone).
 */
static size_t
nominated_at(
    const struct nap_cluster *cl, const struct nap_hash *node_idx, const struct nomination *nm)
{
	const char *name = nm->target;

	if (nm->is_claim) {
		const struct nap_nodeclaim *c = nap_cluster_nodeclaim(cl, nm->target);
		const struct nap_node *n = c ? nap_cluster_node_of(cl, c) : NULL;

		if (n)
			name = n->meta.name; /* registered: its node stands for it */
	}
	return (size_t)(uintptr_t)nap_hash_get(node_idx, name);
}

static int
planned_pod(const struct solve *sv, const char *key)
{
	return nap_hash_get(&sv->planned_pods, key) != NULL;
}

int
solve_build(struct solve *sv, const struct nap_cluster *cl, struct plan *pl, struct nap_err *err)
{
	const struct nap_catalog *cat;
	struct nap_nodepool *const *nps;
	struct nap_node *const *nodes;
	struct nap_nodeclaim *const *claims;
	struct nap_pod *const *pods;
	struct nap_daemonset *const *dss;
	size_t nnp, nnodes, nclaims, npods, nds, i, j, t, k, noff = 0;
	struct nref *refs;
	size_t nrefs = 0;
	struct nap_hash node_idx = NAP_HASH_INIT;
	struct nap_hash bound_by_hash = NAP_HASH_INIT;
	struct nap_sched_pod *sp;
	size_t nboundp = 0;
	char hkey[24];

	memset(pl, 0, sizeof(*pl));
	if (solve_catalog(sv, cl, err) < 0)
		return -1;
	cat = sv->cat;

	/* instance types and offerings */
	for (t = 0; t < cat->ntypes; t++)
		noff += cat->types[t].noff;
	pl->types = nap_xcalloc(cat->ntypes + 1, sizeof(*pl->types));
	pl->offers = nap_xcalloc(noff + 1, sizeof(*pl->offers));
	noff = 0;
	for (t = 0; t < cat->ntypes; t++) {
		struct nap_itype *it = &cat->types[t];
		struct nap_sched_itype *st = &pl->types[t];

		for (k = 0; k < it->noff; k++) {
			struct nap_offering *o = &it->off[k];
			struct nap_sched_offer *so = &pl->offers[noff + k];

			o->available = !offering_unavailable(sv, it->name, o);
			so->zone = o->zone_label;
			so->ctype = o->capacity_type;
			so->price = o->price;
			so->available = o->available;
		}
		st->name = it->name;
		st->off = &pl->offers[noff];
		st->noff = it->noff;
		noff += it->noff;
		nap_reqs_init(&st->reqs);
		nap_itype_reqs(it, cat, &st->reqs);
	}
	pl->in.types = pl->types;
	pl->in.ntypes = cat->ntypes;
	pl->in.max_types = sv->max_types;
	pl->in.packing = sv->packing;

	/* NodePools */
	nps = nap_cluster_nodepools(cl, &nnp);
	pl->pools = nap_xcalloc(nnp + 1, sizeof(*pl->pools));
	pl->pool_np = nap_xcalloc(nnp + 1, sizeof(*pl->pool_np));
	pl->pool_nc = nap_xcalloc(nnp + 1, sizeof(*pl->pool_nc));
	pl->alloc = nap_xcalloc(nnp * cat->ntypes + 1, sizeof(*pl->alloc));
	pl->capacity = nap_xcalloc(nnp * cat->ntypes + 1, sizeof(*pl->capacity));
	for (i = 0; i < nnp; i++) {
		struct nap_nodepool *np = nps[i];
		struct nap_sched_pool *p = &pl->pools[pl->in.npools];
		struct nap_nodeclass *nc;
		struct nap_itype_opts o;
		struct nap_res *al = &pl->alloc[pl->in.npools * cat->ntypes];
		struct nap_res *ca = &pl->capacity[pl->in.npools * cat->ntypes];
		int r;

		if (np->meta.deleted || np->replicas >= 0)
			continue;
		nc = nap_cluster_nodeclass(cl, np->class_ref.name);
		p->name = np->meta.name;
		p->weight = np->weight;
		nap_reqs_init(&p->reqs);
		nap_reqs_copy(&p->reqs, &np->node_reqs);
		/*
		 * The provider labels a node kubernetes.azure.com/mode=user
		 * unless its NodePool says system (template label or
		 * requirement).  Left undefined, the well-known label let a pod
		 * selecting mode=system (a system add-on) narrow a claim of such
		 * a pool, whose node then came up user and never took the pod.
		 */
		if (!nap_reqs_get(&p->reqs, "kubernetes.azure.com/mode")) {
			static const char *const user[] = {"user"};

			nap_reqs_add(
			    &p->reqs, "kubernetes.azure.com/mode", NAP_OP_IN, user, 1, 0, NULL);
		}
		p->taints = taints_conv(pl, np->taints, np->ntaints, &p->ntaints);
		p->alloc = al;
		p->capacity = ca;
		p->limit_nodes = np->limit_nodes;
		for (r = 0; r < NAP_RES_N; r++)
			if (np->limits_set & (1u << r)) {
				p->has_limit[r] = 1;
				p->limit.v[r] = np->limits.v[r];
			}
		if (np->limit_unknown[0])
			nap_warn("nodepool %s: limit on resource %s is not tracked, ignored",
			    np->meta.name, np->limit_unknown);
		if (nodepool_ready_false(np))
			p->unusable = "nodepool is not ready";
		else if (!nc)
			p->unusable = keep(pl,
			    nap_xasprintf("nodeclass \"%s\" not found",
				np->class_ref.name ? np->class_ref.name : ""));
		else if (nc->meta.deleted)
			p->unusable = "nodeclass is terminating";
		itype_opts(nc, &o);
		for (t = 0; t < cat->ntypes && nc; t++) {
			const struct nap_itype *it = &cat->types[t];
			int img_ok = nc->nimages == 0;

			for (k = 0; k < nc->nimages && !img_ok; k++)
				img_ok = nap_reqs_intersects(
				    &nc->images[k].reqs, &pl->types[t].reqs, NULL, 0);
			if (!img_ok || nap_itype_unusable(it, &o))
				continue;
			nap_itype_allocatable(it, &o, &al[t]);
			nap_itype_capacity(it, &o, &ca[t]);
		}
		pl->pool_np[pl->in.npools] = np;
		pl->pool_nc[pl->in.npools] = nc;
		pl->in.npools++;
	}
	pl->in.pools = pl->pools;

	/* limits: what every NodeClaim of a pool (and every claim planned) may use */
	claims = nap_cluster_nodeclaims(cl, &nclaims);
	for (i = 0; i < nclaims; i++) {
		const struct nap_nodeclaim *c = claims[i];
		size_t p = pool_index(pl, c->nodepool);
		struct nap_res al, ca;

		if (p == (size_t)-1 || c->meta.deleted)
			continue;
		ca = c->capacity;
		if (ca.v[NAP_RES_CPU] == 0)
			claim_guess(sv, c, pl->pool_nc[p], &al, &ca);
		nap_res_add(&pl->pools[p].used, &ca);
		pl->pools[p].used_nodes++;
	}
	for (i = 0; i < sv->npl; i++) {
		size_t p = pool_index(pl, sv->pl[i].pool);

		/* a plan whose NodeClaim exists is counted above, as the claim */
		if (p == (size_t)-1 || nap_cluster_nodeclaim(cl, sv->pl[i].name))
			continue;
		nap_res_add(&pl->pools[p].used, &sv->pl[i].capacity);
		pl->pools[p].used_nodes++;
	}

	/* nodes, then in-flight claims, initialized first, then by name */
	nodes = nap_cluster_nodes(cl, &nnodes);
	refs = nap_xcalloc(nnodes + nclaims + 1, sizeof(*refs));
	for (i = 0; i < nnodes; i++) {
		const struct nap_node *n = nodes[i];

		/*
		 * A cordoned or deleting node stays in the input with no room:
		 * kube-scheduler counts its zone and its pods for topology spread
		 * (taints and cordons do not take a node out of the domains), and
		 * a spread that left them out was satisfied here and not there.
		 */
		refs[nrefs].closed = n->meta.deleted || n->unschedulable;
		refs[nrefs].name = n->meta.name;
		refs[nrefs].node = n;
		refs[nrefs].initialized = n->initialized || (!n->nodepool && n->ready == 1);
		nrefs++;
	}
	for (i = 0; i < nclaims; i++) {
		const struct nap_nodeclaim *c = claims[i];

		if (c->meta.deleted || nap_cluster_node_of(cl, c))
			continue;
		refs[nrefs].name = c->meta.name;
		refs[nrefs].claim = c;
		refs[nrefs].initialized = 0;
		nrefs++;
	}
	qsort(refs, nrefs, sizeof(*refs), cmp_nref);
	pl->nodes = nap_xcalloc(nrefs + 1, sizeof(*pl->nodes));
	pl->node_kind = nap_xcalloc(nrefs + 1, sizeof(*pl->node_kind));
	pl->node_labels = nap_xcalloc(nrefs + 1, sizeof(*pl->node_labels));
	for (i = 0; i < nrefs; i++) {
		struct nap_sched_node *o = &pl->nodes[i];

		o->name = refs[i].name;
		o->initialized = refs[i].initialized;
		nap_reqs_init(&pl->node_labels[i]);
		if (refs[i].node) {
			const struct nap_node *n = refs[i].node;

			pl->node_kind[i] = "Node";
			nap_reqs_add_labels(&pl->node_labels[i], n->meta.labels);
			o->labels = &pl->node_labels[i];
			o->taints = taints_conv(pl, n->taints, n->ntaints, &o->ntaints);
			o->avail = n->allocatable;
			nap_res_sub(&o->avail, nap_cluster_node_requests(cl, n->meta.name));
			if (refs[i].closed)
				memset(&o->avail, 0, sizeof(o->avail));
			o->pool = (int)pool_index(pl, n->nodepool);
		} else {
			const struct nap_nodeclaim *c = refs[i].claim;
			size_t p = pool_index(pl, c->nodepool);
			struct nap_res al, ca;

			pl->node_kind[i] = "NodeClaim";
			nap_reqs_copy(&pl->node_labels[i], &c->reqs);
			o->labels = &pl->node_labels[i];
			o->taints = taints_conv(pl, c->taints, c->ntaints, &o->ntaints);
			o->in_flight = 1;
			al = c->allocatable;
			if (al.v[NAP_RES_CPU] == 0)
				claim_guess(
				    sv, c, p == (size_t)-1 ? NULL : pl->pool_nc[p], &al, &ca);
			o->avail = al;
			nap_res_sub(&o->avail, nap_cluster_node_requests(cl, c->meta.name));
			o->pool = p == (size_t)-1 ? -1 : (int)p;
		}
		nap_hash_put(&node_idx, o->name, (void *)(uintptr_t)(i + 1));
	}
	pl->in.nodes = pl->nodes;
	pl->in.nnodes = nrefs;
	free(refs);

	/* DaemonSets: their template is the per-node overhead */
	dss = nap_cluster_daemonsets(cl, &nds);
	pl->daemons = nap_xcalloc(nds + 1, sizeof(*pl->daemons));
	for (i = 0; i < nds; i++)
		pod_conv(pl, NULL, &dss[i]->tmpl, &pl->daemons[i], 1);
	pl->in.daemons = pl->daemons;
	pl->in.ndaemons = nds;

	/* bound pods (topology counts) and this batch's provisionable pods */
	pods = nap_cluster_pods(cl, &npods);
	/*
	 * Sized by kind: a converted pod is some 180 bytes, at 60,000 pods it
	 * adds up.  Pending pods may all be nominated, so both arrays allow them.
	 */
	for (i = 0, j = 0; i < npods; i++)
		j += pods[i]->node_name[0] != '\0';
	pl->pending = nap_xcalloc(npods - j + 1, sizeof(*pl->pending));
	pl->pending_src = nap_xcalloc(npods - j + 1, sizeof(*pl->pending_src));
	pl->boundp = nap_xcalloc(npods + 1, sizeof(*pl->boundp));
	pl->bound = nap_xcalloc(npods + 1, sizeof(*pl->bound));
	for (i = 0; i < npods; i++) {
		const struct nap_pod *p = pods[i];
		size_t at; /* the node it counts on, plus one */

		if (p->node_name[0]) {
			if (nap_pod_is_terminal(p) || p->meta.deleted)
				continue;
			at = (size_t)(uintptr_t)nap_hash_get(&node_idx, p->node_name);
			if (!at)
				continue;
		} else {
			const struct nomination *nm;
			char key[512];

			if (!nap_pod_is_provisionable(p))
				continue;
			snprintf(key, sizeof(key), "%s/%s", p->meta.ns, p->meta.name);
			if (planned_pod(sv, key))
				continue;
			nm = nap_hash_get(&sv->nominated, key);
			if (nm && (!sv->now_ms || nm->until_ms <= sv->now_ms))
				nm = NULL;
			at = nm ? nominated_at(cl, &node_idx, nm) : 0;
			if (nm && !at)
				continue;
			/*
			 * A pod nominated earlier is not decided again while the
			 * nomination holds, but it holds its place: its request and
			 * its topology count on its node as if it were bound.  Left
			 * out, the next batch put there a pod its anti-affinity
			 * excludes (or more than the room), the scheduler bound
			 * one, and the other waited out a nomination.
			 */
			if (at)
				nap_res_sub(&pl->nodes[at - 1].avail, &p->requests);
		}
		if (at) {
			/*
			 * The scheduler reads only a bound pod's namespace, labels
			 * and anti-affinity, all in constraints_hash: pods equal
			 * there share one converted pod.
			 */
			hex16(hkey, p->constraints_hash);
			if (!(sp = nap_hash_get(&bound_by_hash, hkey))) {
				sp = &pl->boundp[nboundp++];
				pod_conv(pl, cl, p, sp, 0);
				nap_hash_put(&bound_by_hash, hkey, sp);
			}
			pl->bound[pl->nbound].pod = sp;
			pl->bound[pl->nbound].node = at - 1;
			pl->nbound++;
			continue;
		}
		j = pl->in.npending++;
		pl->pending_src[j] = p;
		pod_conv(pl, cl, p, &pl->pending[j], 1);
		pod_avoid(sv, pl, p, &pl->pending[j]);
	}
	pl->in.pending = pl->pending;
	pl->in.bound = pl->bound;
	pl->in.nbound = pl->nbound;
	nap_hash_free(&node_idx);
	nap_hash_free(&bound_by_hash);
	return 0;
}

void
solve_plan_free(struct plan *pl)
{
	size_t i;

	for (i = 0; i < pl->in.ntypes; i++)
		nap_reqs_free(&pl->types[i].reqs);
	for (i = 0; i < pl->in.npools; i++)
		nap_reqs_free(&pl->pools[i].reqs);
	for (i = 0; i < pl->in.nnodes; i++)
		nap_reqs_free(&pl->node_labels[i]);
	for (i = 0; i < pl->nstrs; i++)
		free(pl->strs[i]);
	free(pl->strs);
	free(pl->types);
	free(pl->offers);
	free(pl->pools);
	free(pl->pool_np);
	free(pl->pool_nc);
	free(pl->alloc);
	free(pl->capacity);
	free(pl->nodes);
	free(pl->node_kind);
	free(pl->node_labels);
	free(pl->daemons);
	free(pl->pending);
	free(pl->pending_src);
	free(pl->boundp);
	free(pl->bound);
	memset(pl, 0, sizeof(*pl));
}
