/*
 * simulate.c - the cluster model as the scheduler's input (see simulate.h):
 * instance types and offerings, NodePools with their AKSNodeClass, nodes
 * and in-flight NodeClaims minus the gone ones, bound pods for topology,
 * DaemonSets for overhead, and the pods to place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "simulate.h"
#include "wellknown.h"

#define SEP "\x1f"

static void *
keep(struct nap_sim *sim, void *p)
{
	nap_xgrow(&sim->strs, &sim->astrs, sim->nstrs + 1, sizeof(*sim->strs));
	sim->strs[sim->nstrs++] = p;
	return p;
}

static void *
kalloc(struct nap_sim *sim, size_t n, size_t size)
{
	return keep(sim, nap_xcalloc(n + 1, size));
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
sig_make(struct nap_sim *sim, const char *a, uint64_t h, const char *b, const char *c)
{
	size_t al = a ? strlen(a) : 0, bl = b ? strlen(b) : 0, cl = c ? strlen(c) : 0;
	char *s = keep(sim, nap_xmalloc(al + bl + cl + 20)), *q = s;

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

/*
 * Its topology terms (anti_only: its required anti-affinity only), *nt of
 * them; NULL none.  Pods whose terms hash alike (each term's hash covers
 * it as written, its namespace and its label-key values: what its group's
 * sig stands for) share one array, ended by a term without a sig: the
 * pods of a workload have the same terms, and a batch has thousands.
 */
static const struct nap_sched_topo *
pod_topo(struct nap_sim *sim, const struct nap_pod *p, int anti_only, size_t *nt)
{
	size_t n = p->nspread + p->naffinity + p->nanti_affinity, i, k = 0, o = 0;
	struct nap_sched_topo *t;
	char key[1 + 8 * 32];
	void **slot = NULL;
	int added;

	*nt = 0;
	if (n == 0)
		return NULL;
	if (n <= 8) {
		key[o++] = anti_only ? 'a' : 't';
		for (i = 0; i < n; i++) {
			int anti = i >= p->nspread + p->naffinity;
			const struct nap_pod_term *pt = i < p->nspread ? NULL
			    : anti ? &p->anti_affinity[i - p->nspread - p->naffinity]
				   : &p->affinity[i - p->nspread];

			o += (size_t)snprintf(key + o, sizeof(key) - o, "%c%016llx:%d;",
			    pt ? "fx"[anti] : 's',
			    (unsigned long long)(pt ? pt->hash : p->spread[i].hash),
			    pt ? pt->weight : -1);
		}
		slot = nap_hash_slot(&sim->topo_memo, key, &added);
		if (!added) {
			for (t = *slot; t[k].sig; k++)
				;
			*nt = k;
			return t;
		}
	}
	t = kalloc(sim, n, sizeof(*t));
	if (slot)
		*slot = t;
	for (i = 0; i < p->nspread && !anti_only; i++) {
		const struct nap_spread *s = &p->spread[i];

		t[k].kind = NAP_SCHED_SPREAD;
		t[k].key = s->topology_key;
		t[k].sel = s->selector;
		t[k].max_skew = s->max_skew;
		t[k].min_domains = s->min_domains;
		t[k].required = s->do_not_schedule;
		t[k].sig = sig_make(sim, "spread", s->hash, NULL, NULL);
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
		t[k].sig = sig_make(sim, anti ? "anti" : "aff", pt->hash, NULL, NULL);
		k++;
	}
	*nt = k;
	return t;
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

static int
cmp_vol(const void *a, const void *b)
{
	const struct nap_sched_vol *x = a, *y = b;
	int c = strcmp(x->driver, y->driver);

	return c ? c : strcmp(x->id, y->id);
}

/* Sort by driver and id and drop repeats; the count left. */
static size_t
vols_uniq(struct nap_sched_vol *v, size_t n)
{
	size_t i, o = 0;

	qsort(v, n, sizeof(*v), cmp_vol);
	for (i = 0; i < n; i++)
		if (o == 0 || cmp_vol(&v[o - 1], &v[i]) != 0)
			v[o++] = v[i];
	return o;
}

/*
 * The volumes pod p attaches through a CSI driver (its claims whose driver
 * nap_pvc_attach_driver finds), by driver and id, each once; keep_driver,
 * when set, keeps only the volumes of drivers it accepts.  NULL when none.
 */
static const struct nap_sched_vol *
pod_vols(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_pod *p,
    const struct nap_csinode *keep_driver, size_t *n)
{
	struct nap_sched_vol *v;
	size_t i, k = 0, o;

	*n = 0;
	if (!cl || p->npvcs == 0)
		return NULL;
	v = kalloc(sim, p->npvcs, sizeof(*v));
	for (i = 0; i < p->npvcs; i++) {
		const struct nap_pvc *c = nap_cluster_get(cl, NAP_KIND_PVC, p->meta.ns, p->pvcs[i]);
		const char *d = c ? nap_pvc_attach_driver(cl, c) : NULL;

		if (!d || (keep_driver && nap_csinode_limit(keep_driver, d) < 0))
			continue;
		v[k].driver = d;
		v[k++].id = keep(sim, nap_xasprintf("%s/%s", p->meta.ns, p->pvcs[i]));
	}
	o = vols_uniq(v, k);
	*n = o;
	return o ? v : NULL;
}

static void
pod_conv(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_pod *p,
    struct nap_sched_pod *o)
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
	o->ports = p->host_ports;
	o->nports = p->nhost_ports;
	if (p->unknown_resource[0])
		o->never = keep(sim,
		    nap_xasprintf(
			"no instance type provides resource \"%s\"", p->unknown_resource));
	if (p->nnode_terms > 1 || (p->nnode_terms == 1 && p->node_terms[0].reqs.n > 0)) {
		struct nap_reqs *t = kalloc(sim, p->nnode_terms, sizeof(*t));

		for (i = 0; i < p->nnode_terms; i++) {
			t[i] = p->node_terms[i].reqs;
			for (j = 0; j < t[i].n && !o->never; j++)
				if (nap_label_is_restricted(t[i].v[j].key))
					o->never = keep(sim,
					    nap_xasprintf(
						"label \"%s\" is restricted", t[i].v[j].key));
		}
		o->terms = t;
		o->nterms = p->nnode_terms;
	}
	if (p->nnode_prefs) {
		struct nap_sched_pref *pr = kalloc(sim, p->nnode_prefs, sizeof(*pr));

		for (i = 0; i < p->nnode_prefs; i++) {
			pr[i].weight = p->node_prefs[i].weight;
			pr[i].reqs = p->node_prefs[i].reqs;
		}
		o->prefs = pr;
		o->nprefs = p->nnode_prefs;
	}
	o->tols = p->tolerations;
	o->ntols = p->ntolerations;
	o->topo = pod_topo(sim, p, 0, &o->ntopo);
	if (cl) {
		o->volume = pod_volume(cl, p, &vsig);
		o->vols = pod_vols(sim, cl, p, NULL, &o->nvols);
	}
	/* the model's structural hash stands for the pod's JSON, which it does not keep */
	o->sig = sig_make(sim, NULL, p->constraints_hash, vsig, o->never ? o->never : "");
}

/* The nodes the caller leaves out for the pod: in its sig, so pods that differ there do not share. */
static void
pod_avoid(struct nap_sim *sim, const struct nap_sim_pod_view *v, struct nap_sched_pod *o)
{
	char *sig;
	size_t i;

	if (v->navoid == 0)
		return;
	o->avoid = v->avoid;
	o->navoid = v->navoid;
	sig = nap_xstrdup(o->sig);
	for (i = 0; i < v->navoid; i++) {
		char *next = nap_xasprintf("%s" SEP "%s", sig, v->avoid[i]);

		free(sig);
		sig = next;
	}
	o->sig = keep(sim, sig);
}

/*
 * What an AKSNodeClass does to its sizes: lib's one rule
 * (nap_itype_opts_from_nodeclass), with the node class's own Kubernetes
 * version and AKS's default network (Azure CNI overlay).
 */
static void
itype_opts(const struct nap_nodeclass *nc, struct nap_itype_opts *o)
{
	nap_itype_opts_from_nodeclass(o, nc, NULL, NULL, NULL);
}

static int
nodepool_ready_false(const struct nap_nodepool *np)
{
	return nap_cond_status(np->conds, np->nconds, "Ready") == 0;
}

static size_t
pool_index(const struct nap_sim *sim, const char *name)
{
	size_t i;

	for (i = 0; name && i < sim->in.npools; i++)
		if (strcmp(sim->pools[i].name, name) == 0)
			return i;
	return (size_t)-1;
}

/* The allocatable of a NodeClaim nobody has measured yet: the smallest of its types. */
static void
claim_guess(const struct nap_catalog *cat, const struct nap_nodeclaim *c,
    const struct nap_nodeclass *nc, struct nap_res *alloc, struct nap_res *cap)
{
	const struct nap_req *q = nap_reqs_get(&c->reqs, NAP_LABEL_INSTANCE_TYPE);
	struct nap_itype_opts o;
	size_t i;
	int first = 1, k;

	nap_res_zero(alloc);
	nap_res_zero(cap);
	itype_opts(nc, &o);
	for (i = 0; q && !q->complement && i < q->nvalues; i++) {
		const struct nap_itype *it = nap_catalog_find(cat, q->values[i]);
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
 * Where a held pod counts, as its index in node_idx plus one; 0 when that
 * node is not in the question (gone, or never seen).
 */
static size_t
held_at(
    const struct nap_cluster *cl, const struct nap_hash *node_idx, const struct nap_sim_pod_view *v)
{
	const char *name = v->held_at;

	if (name == NULL)
		return 0;
	if (v->held_is_claim) {
		const struct nap_nodeclaim *c = nap_cluster_nodeclaim(cl, name);
		const struct nap_node *n = c ? nap_cluster_node_of(cl, c) : NULL;

		if (n)
			name = n->meta.name; /* registered: its node stands for it */
	}
	return (size_t)(uintptr_t)nap_hash_get(node_idx, name);
}

/*
 * The gone set: every name given, and for each the name of its other half
 * (a claim's node, a node's claim), so that either name takes both away.
 */
static void
gone_set(const struct nap_cluster *cl, const struct nap_sim_opts *opts, struct nap_hash *gone)
{
	size_t i;

	for (i = 0; i < opts->ngone; i++) {
		const char *name = opts->gone[i];
		const struct nap_nodeclaim *c = nap_cluster_nodeclaim(cl, name);
		const struct nap_node *n = nap_cluster_node(cl, name);

		nap_hash_put(gone, name, (void *)1);
		if (c && (n = nap_cluster_node_of(cl, c)) != NULL)
			nap_hash_put(gone, n->meta.name, (void *)1);
		else if (n && (c = nap_cluster_nodeclaim_of(cl, n)) != NULL)
			nap_hash_put(gone, c->meta.name, (void *)1);
	}
}

/* Needs no JSON escaping: what Azure size names are made of (the claim writer's fast path). */
static int
plain_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			(*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

static void
warn(struct nap_sim *sim, char *msg)
{
	sim->warnings = nap_xrealloc(sim->warnings, (sim->nwarnings + 1) * sizeof(*sim->warnings));
	sim->warnings[sim->nwarnings++] = msg;
}

/* Instance types and offerings; offerings the caller knows unavailable are marked so here only. */
static void
build_types(struct nap_sim *sim, const struct nap_catalog *cat, const struct nap_sim_opts *opts)
{
	size_t t, k, noff = 0;
	int *avail;

	for (t = 0; t < cat->ntypes; t++)
		noff += cat->types[t].noff;
	sim->types = nap_xcalloc(cat->ntypes + 1, sizeof(*sim->types));
	sim->type_len = nap_xcalloc(cat->ntypes + 1, sizeof(*sim->type_len));
	sim->offers = nap_xcalloc(noff + 1, sizeof(*sim->offers));
	avail = kalloc(sim, noff, sizeof(*avail));
	noff = 0;
	for (t = 0; t < cat->ntypes; t++) {
		const struct nap_itype *it = &cat->types[t];
		struct nap_sched_itype *st = &sim->types[t];

		for (k = 0; k < it->noff; k++) {
			const struct nap_offering *o = &it->off[k];
			struct nap_sched_offer *so = &sim->offers[noff + k];

			avail[noff + k] =
			    o->available && !nap_unavail_has(opts->unavail, it, o, opts->now_ms);
			so->zone = o->zone_label;
			so->ctype = o->capacity_type;
			so->price = o->price;
			so->available = avail[noff + k];
		}
		st->name = it->name;
		st->off = &sim->offers[noff];
		st->noff = it->noff;
		nap_reqs_init(&st->reqs);
		nap_itype_reqs_avail(it, cat, &avail[noff], &st->reqs);
		sim->type_len[t] = plain_name(it->name) ? (int)strlen(it->name) : -1;
		st->max_disks = nap_itype_max_data_disks(it);
		noff += it->noff;
	}
	sim->in.types = sim->types;
	sim->in.ntypes = cat->ntypes;
}

/* NodePools, each with its AKSNodeClass's sizes; deleting and static pools are no pools here. */
static void
build_pools(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_catalog *cat)
{
	struct nap_nodepool *const *nps;
	size_t nnp, i, t, k;

	nps = nap_cluster_nodepools(cl, &nnp);
	sim->pools = nap_xcalloc(nnp + 1, sizeof(*sim->pools));
	sim->pool_np = nap_xcalloc(nnp + 1, sizeof(*sim->pool_np));
	sim->pool_nc = nap_xcalloc(nnp + 1, sizeof(*sim->pool_nc));
	sim->alloc = nap_xcalloc(nnp * cat->ntypes + 1, sizeof(*sim->alloc));
	sim->capacity = nap_xcalloc(nnp * cat->ntypes + 1, sizeof(*sim->capacity));
	for (i = 0; i < nnp; i++) {
		struct nap_nodepool *np = nps[i];
		struct nap_sched_pool *p = &sim->pools[sim->in.npools];
		struct nap_nodeclass *nc;
		const struct nap_cond *rc;
		struct nap_itype_opts o;
		struct nap_res *al = &sim->alloc[sim->in.npools * cat->ntypes];
		struct nap_res *ca = &sim->capacity[sim->in.npools * cat->ntypes];
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
		if (!nap_reqs_get(&p->reqs, NAP_LABEL_AZURE_MODE)) {
			static const char *const user[] = {"user"};

			nap_reqs_add(&p->reqs, NAP_LABEL_AZURE_MODE, NAP_OP_IN, user, 1, 0, NULL);
		}
		p->taints = np->taints;
		p->ntaints = np->ntaints;
		p->alloc = al;
		p->capacity = ca;
		p->limit_nodes = np->limit_nodes;
		for (r = 0; r < NAP_RES_N; r++)
			if (np->limits_set & (1u << r)) {
				p->has_limit[r] = 1;
				p->limit.v[r] = np->limits.v[r];
			}
		if (np->limit_unknown[0])
			warn(sim,
			    nap_xasprintf(
				"nodepool %s: limit on resource %s is not tracked, ignored",
				np->meta.name, np->limit_unknown));
		if (nodepool_ready_false(np))
			p->unusable = "nodepool is not ready";
		else if (!nc)
			p->unusable = keep(sim,
			    nap_xasprintf("nodeclass \"%s\" not found",
				np->class_ref.name ? np->class_ref.name : ""));
		else if (nc->meta.deleted)
			p->unusable = "nodeclass is terminating";
		else if ((rc = nap_cond_find(nc->conds, nc->nconds, "Ready")) != NULL &&
		    rc->status == 0)
			/*
			 * The provider refuses to provision from a class whose
			 * Ready is False (NodeClassNotReady: a subnet not
			 * found, no image).  Unknown or absent is used: a
			 * class nap-upgrade has not judged yet stays usable.
			 */
			p->unusable = keep(sim,
			    nap_xasprintf("nodeclass \"%s\" is not ready (%s%s%s)",
				nc->meta.name, rc->reason, rc->message[0] ? ": " : "", rc->message));
		itype_opts(nc, &o);
		for (t = 0; t < cat->ntypes && nc; t++) {
			const struct nap_itype *it = &cat->types[t];
			int img_ok = nc->nimages == 0;

			for (k = 0; k < nc->nimages && !img_ok; k++)
				img_ok = nap_reqs_intersects(
				    &nc->images[k].reqs, &sim->types[t].reqs, NULL, 0);
			if (!img_ok || nap_itype_unusable(it, &o))
				continue;
			nap_itype_allocatable(it, &o, &al[t]);
			nap_itype_capacity(it, &o, &ca[t]);
		}
		sim->pool_np[sim->in.npools] = np;
		sim->pool_nc[sim->in.npools] = nc;
		sim->in.npools++;
	}
	sim->in.pools = sim->pools;
}

/* Limits: what every NodeClaim of a pool (gone ones as the caller says, and usage not seen yet) uses. */
static void
build_usage(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_catalog *cat,
    const struct nap_sim_opts *opts, const struct nap_hash *gone)
{
	struct nap_nodeclaim *const *claims;
	size_t nclaims, i;

	claims = nap_cluster_nodeclaims(cl, &nclaims);
	for (i = 0; i < nclaims; i++) {
		const struct nap_nodeclaim *c = claims[i];
		size_t p = pool_index(sim, c->nodepool);
		struct nap_res al, ca;

		if (p == (size_t)-1 || c->meta.deleted)
			continue;
		if (!opts->gone_usage_counts && nap_hash_get(gone, c->meta.name))
			continue;
		ca = c->capacity;
		if (ca.v[NAP_RES_CPU] == 0)
			claim_guess(cat, c, sim->pool_nc[p], &al, &ca);
		nap_res_add(&sim->pools[p].used, &ca);
		sim->pools[p].used_nodes++;
	}
	for (i = 0; i < opts->nextra; i++) {
		const struct nap_sim_usage *u = &opts->extra[i];
		size_t p = pool_index(sim, u->pool);

		/* one whose NodeClaim exists is counted above, as the claim */
		if (p == (size_t)-1 || (u->claim && nap_cluster_nodeclaim(cl, u->claim)))
			continue;
		nap_res_add(&sim->pools[p].used, &u->capacity);
		sim->pools[p].used_nodes++;
	}
}

/*
 * The taints a pod must tolerate on node n: all of them once it is
 * initialized; before, its NodeClaim's startupTaints (its NodePool's when
 * no claim is known) are left out, as taints an agent will remove, matched
 * as Karpenter does by key and effect.  The known ephemeral taints the
 * scheduler leaves out itself.  Either n's own array or one the sim keeps.
 */
static const struct nap_taint *
node_taints(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_node *n,
    int initialized, size_t *ntaints)
{
	const struct nap_nodeclaim *c;
	const struct nap_nodepool *np;
	const struct nap_taint *st = NULL;
	struct nap_taint *out;
	size_t nst = 0, i, j, k = 0;

	*ntaints = n->ntaints;
	if (initialized || !n->nodepool || n->ntaints == 0)
		return n->taints;
	if ((c = nap_cluster_nodeclaim_of(cl, n)) != NULL) {
		st = c->startup_taints;
		nst = c->nstartup_taints;
	} else if ((np = nap_cluster_nodepool(cl, n->nodepool)) != NULL) {
		st = np->startup_taints;
		nst = np->nstartup_taints;
	}
	if (nst == 0)
		return n->taints;
	out = kalloc(sim, n->ntaints, sizeof(*out));
	for (i = 0; i < n->ntaints; i++) {
		for (j = 0; j < nst; j++)
			if (st[j].effect == n->taints[i].effect &&
			    strcmp(st[j].key, n->taints[i].key) == 0)
				break;
		if (j == nst)
			out[k++] = n->taints[i];
	}
	*ntaints = k;
	return out;
}

/*
 * A node's volume attach limits, from its CSINode (drivers with an
 * allocatable count), and the volumes of those drivers its non-terminal
 * pods attach.  In-flight claims have no CSINode yet: no limit, as in
 * Karpenter.
 */
static void
node_vols(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_node *n,
    struct nap_sched_node *o)
{
	const struct nap_csinode *cn = nap_cluster_get(cl, NAP_KIND_CSINODE, "", n->meta.name);
	struct nap_sched_vol_limit *lim;
	struct nap_sched_vol *all = NULL;
	struct nap_pod *const *pods;
	size_t i, k = 0, npods, nall = 0, aall = 0;

	if (!cn)
		return;
	lim = kalloc(sim, cn->ndrivers + 1, sizeof(*lim));
	for (i = 0; i < cn->ndrivers; i++)
		if (cn->drivers[i].count >= 0) {
			lim[k].driver = cn->drivers[i].driver;
			lim[k++].count = (long)cn->drivers[i].count;
		}
	if (k == 0)
		return;
	o->vlimits = lim;
	o->nvlimits = k;
	pods = nap_cluster_pods_on_node(cl, n->meta.name, &npods);
	for (i = 0; i < npods; i++) {
		const struct nap_sched_vol *v;
		size_t nv, j;

		if (nap_pod_is_terminal(pods[i]))
			continue;
		v = pod_vols(sim, cl, pods[i], cn, &nv);
		for (j = 0; j < nv; j++) {
			nap_xgrow(&all, &aall, nall + 1, sizeof(*all));
			all[nall++] = v[j];
		}
	}
	if (nall == 0)
		return;
	keep(sim, all);
	o->vols = all;
	o->nvols = vols_uniq(all, nall);
}

/* A pod held at node o counts its volumes there too, as a bound pod's. */
static void
node_vols_hold(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_pod *p,
    struct nap_sched_node *o)
{
	const struct nap_csinode *cn;
	const struct nap_sched_vol *v;
	struct nap_sched_vol *all;
	size_t nv;

	if (!o->nvlimits || p->npvcs == 0 ||
	    (cn = nap_cluster_get(cl, NAP_KIND_CSINODE, "", o->name)) == NULL)
		return;
	v = pod_vols(sim, cl, p, cn, &nv);
	if (nv == 0)
		return;
	all = kalloc(sim, o->nvols + nv, sizeof(*all));
	if (o->nvols)
		memcpy(all, o->vols, o->nvols * sizeof(*all));
	memcpy(all + o->nvols, v, nv * sizeof(*all));
	o->vols = all;
	o->nvols = vols_uniq(all, o->nvols + nv);
}

/* Nodes, then in-flight claims, initialized first, then by name; node_idx maps name to index + 1. */
static void
build_nodes(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_catalog *cat,
    const struct nap_hash *gone, struct nap_hash *node_idx)
{
	struct nap_node *const *nodes;
	struct nap_nodeclaim *const *claims;
	size_t nnodes, nclaims, nrefs = 0, i;
	struct nref *refs;

	nodes = nap_cluster_nodes(cl, &nnodes);
	claims = nap_cluster_nodeclaims(cl, &nclaims);
	refs = nap_xcalloc(nnodes + nclaims + 1, sizeof(*refs));
	for (i = 0; i < nnodes; i++) {
		const struct nap_node *n = nodes[i];

		if (nap_hash_get(gone, n->meta.name))
			continue;
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

		if (c->meta.deleted || nap_cluster_node_of(cl, c) ||
		    nap_hash_get(gone, c->meta.name))
			continue;
		refs[nrefs].name = c->meta.name;
		refs[nrefs].claim = c;
		refs[nrefs].initialized = 0;
		nrefs++;
	}
	qsort(refs, nrefs, sizeof(*refs), cmp_nref);
	sim->nodes = nap_xcalloc(nrefs + 1, sizeof(*sim->nodes));
	sim->node_kind = nap_xcalloc(nrefs + 1, sizeof(*sim->node_kind));
	sim->node_labels = nap_xcalloc(nrefs + 1, sizeof(*sim->node_labels));
	for (i = 0; i < nrefs; i++) {
		struct nap_sched_node *o = &sim->nodes[i];

		o->name = refs[i].name;
		o->initialized = refs[i].initialized;
		nap_reqs_init(&sim->node_labels[i]);
		if (refs[i].node) {
			const struct nap_node *n = refs[i].node;

			sim->node_kind[i] = "Node";
			nap_reqs_add_labels(&sim->node_labels[i], n->meta.labels);
			o->labels = &sim->node_labels[i];
			o->taints = node_taints(sim, cl, n, o->initialized, &o->ntaints);
			o->avail = n->allocatable;
			nap_res_sub(&o->avail, nap_cluster_node_requests(cl, n->meta.name));
			if (refs[i].closed)
				memset(&o->avail, 0, sizeof(o->avail));
			o->pool = (int)pool_index(sim, n->nodepool);
			node_vols(sim, cl, n, o);
		} else {
			const struct nap_nodeclaim *c = refs[i].claim;
			size_t p = pool_index(sim, c->nodepool);
			struct nap_res al, ca;

			sim->node_kind[i] = "NodeClaim";
			nap_reqs_copy(&sim->node_labels[i], &c->reqs);
			o->labels = &sim->node_labels[i];
			o->taints = c->taints;
			o->ntaints = c->ntaints;
			o->in_flight = 1;
			al = c->allocatable;
			if (al.v[NAP_RES_CPU] == 0)
				claim_guess(
				    cat, c, p == (size_t)-1 ? NULL : sim->pool_nc[p], &al, &ca);
			o->avail = al;
			nap_res_sub(&o->avail, nap_cluster_node_requests(cl, c->meta.name));
			o->pool = p == (size_t)-1 ? -1 : (int)p;
		}
		nap_hash_put(node_idx, o->name, (void *)(uintptr_t)(i + 1));
	}
	sim->in.nodes = sim->nodes;
	sim->in.nnodes = nrefs;
	free(refs);
}

/* A pod bound to a gone node that a drain would move: placed again. */
static int
moves(const struct nap_pod *p, const struct nap_hash *gone)
{
	return gone->n && p->node_name[0] && nap_hash_get(gone, p->node_name) &&
	    !nap_pod_is_terminal(p) && !p->meta.deleted && !nap_pod_is_daemon_or_static(p);
}

static void
add_pending(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_pod *p,
    const struct nap_sim_pod_view *v)
{
	size_t j = sim->in.npending++;

	sim->pending_src[j] = p;
	pod_conv(sim, cl, p, &sim->pending[j]);
	pod_avoid(sim, v, &sim->pending[j]);
}

/* A bound or held pod with host ports, and its node. */
struct ported {
	const struct nap_pod *pod;
	size_t node;
};

/* Each node's host ports in use: those of the pods bound or held there. */
static void
node_ports(struct nap_sim *sim, const struct ported *pp, size_t n)
{
	struct nap_host_port **at;
	size_t i, *cnt;

	if (n == 0)
		return;
	cnt = nap_xcalloc(sim->in.nnodes + 1, sizeof(*cnt));
	at = nap_xcalloc(sim->in.nnodes + 1, sizeof(*at));
	for (i = 0; i < n; i++)
		cnt[pp[i].node] += pp[i].pod->nhost_ports;
	for (i = 0; i < n; i++) {
		struct nap_sched_node *o = &sim->nodes[pp[i].node];
		size_t ni = pp[i].node;

		if (!at[ni])
			o->ports = at[ni] = kalloc(sim, cnt[ni], sizeof(**at));
		memcpy(at[ni] + o->nports, pp[i].pod->host_ports,
		    pp[i].pod->nhost_ports * sizeof(**at));
		o->nports += pp[i].pod->nhost_ports;
	}
	free(at);
	free(cnt);
}

/* Bound pods (topology counts), held pods, and the pods to place. */
static void
build_pods(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_sim_opts *opts,
    const struct nap_hash *gone, struct nap_hash *node_idx)
{
	struct nap_pod *const *pods;
	struct nap_hash bound_by_hash = NAP_HASH_INIT;
	struct nap_sched_bpod *sp;
	struct nap_sim_pod_view none;
	size_t npods, i, nbound = 0, nmoved = 0, nboundp = 0, nported = 0, aported = 0;
	struct ported *ported = NULL;
	char hkey[24];

	pods = nap_cluster_pods(cl, &npods);
	/*
	 * Sized by kind: a pending pod converts to some 220 bytes, at 60,000
	 * pods it adds up; a bound one only to what topology reads (struct
	 * nap_sched_bpod, 32 bytes).  Pending pods may all be held, so both
	 * arrays allow them.
	 */
	for (i = 0; i < npods; i++) {
		nbound += pods[i]->node_name[0] != '\0';
		nmoved += moves(pods[i], gone);
	}
	sim->pending = nap_xcalloc(npods - nbound + nmoved + 1, sizeof(*sim->pending));
	sim->pending_src = nap_xcalloc(npods - nbound + nmoved + 1, sizeof(*sim->pending_src));
	sim->boundp = nap_xcalloc(npods + 1, sizeof(*sim->boundp));
	sim->bound = nap_xcalloc(npods + 1, sizeof(*sim->bound));
	memset(&none, 0, sizeof(none));
	for (i = 0; i < npods; i++) {
		const struct nap_pod *p = pods[i];
		struct nap_sim_pod_view v;
		size_t at; /* the node it counts on, plus one */

		if (p->node_name[0]) {
			if (nap_pod_is_terminal(p) || p->meta.deleted)
				continue;
			at = (size_t)(uintptr_t)nap_hash_get(node_idx, p->node_name);
			if (!at)
				continue;
		} else {
			if (!nap_pod_is_provisionable(p))
				continue;
			memset(&v, 0, sizeof(v));
			v.role = NAP_SIM_PLACE;
			if (opts->pod_view)
				opts->pod_view(opts->ctx, p, &v);
			if (v.role == NAP_SIM_SKIP)
				continue;
			at = v.role == NAP_SIM_HOLD ? held_at(cl, node_idx, &v) : 0;
			if (v.role == NAP_SIM_HOLD && !at)
				continue;
			/*
			 * A pod nominated earlier is not decided again while the
			 * nomination holds, but it holds its place: its request and
			 * its topology count on its node as if it were bound.  Left
			 * out, the next batch put there a pod its anti-affinity
			 * excludes (or more than the room), the scheduler bound
			 * one, and the other waited out a nomination.
			 */
			if (at) {
				nap_res_sub(&sim->nodes[at - 1].avail, &p->requests);
				node_vols_hold(sim, cl, p, &sim->nodes[at - 1]);
			} else {
				add_pending(sim, cl, p, &v);
				continue;
			}
		}
		/*
		 * The scheduler reads only a bound pod's namespace, labels and
		 * anti-affinity, all in constraints_hash: pods equal there share
		 * one converted pod.
		 */
		hex16(hkey, p->constraints_hash);
		if (!(sp = nap_hash_get(&bound_by_hash, hkey))) {
			sp = &sim->boundp[nboundp++];
			sp->ns = p->meta.ns;
			sp->labels = p->meta.labels;
			sp->topo = pod_topo(sim, p, 1, &sp->ntopo);
			nap_hash_put(&bound_by_hash, hkey, sp);
		}
		sim->bound[sim->nbound].pod = sp;
		sim->bound[sim->nbound].node = at - 1;
		sim->nbound++;
		if (p->nhost_ports) {
			nap_xgrow(&ported, &aported, nported + 1, sizeof(*ported));
			ported[nported].pod = p;
			ported[nported++].node = at - 1;
		}
	}
	node_ports(sim, ported, nported);
	free(ported);
	for (i = 0; i < npods && nmoved; i++)
		if (moves(pods[i], gone)) {
			add_pending(sim, cl, pods[i], &none);
			sim->nmoved++;
		}
	sim->in.pending = sim->pending;
	sim->in.bound = sim->bound;
	sim->in.nbound = sim->nbound;
	nap_hash_free(&bound_by_hash);
}

/*
 * The newest pod each DaemonSet controls (creationTimestamp, the first
 * seen on a tie), as Karpenter's cluster state keeps it: into pod[d], NULL
 * for a DaemonSet with no pod yet.  A pod is the DaemonSet's when its
 * DaemonSet owner reference names it in its namespace, with its UID when
 * both carry one.
 */
static void
daemon_pods(const struct nap_cluster *cl, struct nap_daemonset *const *dss, size_t nds,
    const struct nap_pod **pod)
{
	struct nap_pod *const *pods;
	struct nap_hash idx = NAP_HASH_INIT;
	size_t npods, i;

	if (nds == 0)
		return;
	for (i = 0; i < nds; i++) {
		char *key = nap_xasprintf("%s" SEP "%s", dss[i]->meta.ns, dss[i]->meta.name);

		nap_hash_put(&idx, key, (void *)(uintptr_t)(i + 1));
		free(key);
	}
	pods = nap_cluster_pods(cl, &npods);
	for (i = 0; i < npods; i++) {
		const struct nap_pod *p = pods[i];
		const struct nap_daemonset *d;
		char *key;
		size_t at;

		if (p->owner != NAP_OWNER_DAEMONSET)
			continue;
		key = nap_xasprintf("%s" SEP "%s", p->meta.ns, p->owner_name);
		at = (size_t)(uintptr_t)nap_hash_get(&idx, key);
		free(key);
		if (!at)
			continue;
		d = dss[at - 1];
		if (d->meta.uid[0] && p->owner_uid[0] && strcmp(d->meta.uid, p->owner_uid) != 0)
			continue;
		if (!pod[at - 1] || p->meta.created > pod[at - 1]->meta.created)
			pod[at - 1] = p;
	}
	nap_hash_free(&idx);
}

/*
 * One pod per DaemonSet, the per-node overhead (karpenter.md 1.4): its
 * newest pod when it has one, whose requests are what the kubelet reserves
 * (a LimitRange or a mutating webhook may have changed the template's),
 * else its template.  Where it lands is always the template's node
 * selection: the DaemonSet controller rewrites each pod's required node
 * affinity to pin it to its own node, which would match no new one.
 */
static void
build_daemons(struct nap_sim *sim, const struct nap_cluster *cl,
    struct nap_daemonset *const *dss, size_t nds)
{
	const struct nap_pod **pod = nap_xcalloc(nds + 1, sizeof(*pod));
	struct nap_sched_pod tmpl;
	size_t i;

	daemon_pods(cl, dss, nds, pod);
	for (i = 0; i < nds; i++) {
		struct nap_sched_pod *o = &sim->daemons[i];

		pod_conv(sim, NULL, &dss[i]->tmpl, o);
		if (!pod[i])
			continue;
		tmpl = *o;
		pod_conv(sim, NULL, pod[i], o);
		o->terms = tmpl.terms;
		o->nterms = tmpl.nterms;
	}
	free(pod);
}

int
nap_sim_build(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_catalog *cat,
    const struct nap_sim_opts *opts, struct nap_err *err)
{
	struct nap_daemonset *const *dss;
	struct nap_hash node_idx = NAP_HASH_INIT, gone = NAP_HASH_INIT;
	size_t nds;

	(void)err;
	memset(sim, 0, sizeof(*sim));
	gone_set(cl, opts, &gone);
	build_types(sim, cat, opts);
	sim->in.max_types = opts->max_types;
	sim->in.packing = opts->packing;
	sim->in.min_values_relax = opts->min_values_relax;
	build_pools(sim, cl, cat);
	build_usage(sim, cl, cat, opts, &gone);
	build_nodes(sim, cl, cat, &gone, &node_idx);

	dss = nap_cluster_daemonsets(cl, &nds);
	sim->daemons = nap_xcalloc(nds + 1, sizeof(*sim->daemons));
	build_daemons(sim, cl, dss, nds);
	sim->in.daemons = sim->daemons;
	sim->in.ndaemons = nds;

	build_pods(sim, cl, opts, &gone, &node_idx);
	nap_hash_free(&sim->topo_memo);
	nap_hash_free(&node_idx);
	nap_hash_free(&gone);
	return 0;
}

void
nap_sim_free(struct nap_sim *sim)
{
	size_t i;

	for (i = 0; i < sim->in.ntypes; i++)
		nap_reqs_free(&sim->types[i].reqs);
	for (i = 0; i < sim->in.npools; i++)
		nap_reqs_free(&sim->pools[i].reqs);
	for (i = 0; i < sim->in.nnodes; i++)
		nap_reqs_free(&sim->node_labels[i]);
	for (i = 0; i < sim->nstrs; i++)
		free(sim->strs[i]);
	for (i = 0; i < sim->nwarnings; i++)
		free(sim->warnings[i]);
	free(sim->warnings);
	free(sim->strs);
	free(sim->types);
	free(sim->type_len);
	free(sim->offers);
	free(sim->pools);
	free(sim->pool_np);
	free(sim->pool_nc);
	free(sim->alloc);
	free(sim->capacity);
	free(sim->nodes);
	free(sim->node_kind);
	free(sim->node_labels);
	free(sim->daemons);
	free(sim->pending);
	free(sim->pending_src);
	free(sim->boundp);
	free(sim->bound);
	memset(sim, 0, sizeof(*sim));
}
