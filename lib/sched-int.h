/*
 * sched-int.h - what the lib/sched*.c files share; not part of the
 * library's interface (sched.h is).  A run's state (struct st) points to
 * its world (struct nap_sched_world, built by nap_sched_prepare) and to the
 * run's options; nothing is global.  Reasons (why, len) are written only
 * when someone will read them: scans pass NULL.
 *
 * Speed comes from caches, because the same few pod shapes meet the same
 * nodes and NodePools thousands of times: a "variant" is a pod class (equal
 * sig) at one relaxation step, holding its effective requirements and its
 * verdict per node and per NodePool (with the instance types that pass the
 * pool's and the pod's requirements), the verdicts shared by every variant
 * that reads the same requirements, tolerations and host ports (struct
 * vshare: on a real cluster pods differ mostly in labels and requests,
 * which they do not read); a claim remembers which variants are
 * already known to leave its requirements unchanged; and nodes or claims
 * too full for the smallest pending pod leave the scan lists.  Every cache
 * is an optimisation, never a rule: run option nocache bypasses them all.
 */
#ifndef NAP_SCHED_INT_H
#define NAP_SCHED_INT_H

#include <stdint.h>

#include "hash.h"
#include "sched.h"

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
	int inverse; /* a required anti-affinity: its owners keep out the pods it selects */
};

struct vpool {
	int state; /* 0 unknown, 1 ok, 2 no */
	char *why;
	struct nap_reqs reqs; /* pool ∩ pod */
	size_t *types;	      /* usable and intersecting, pool order */
	size_t ntypes;
};

/*
 * The verdicts of every variant equal in requirements, tolerations (and
 * whether PreferNoSchedule is tolerated) and host ports, which are all
 * they read: pods that differ only in labels or requests share them.
 */
struct vshare {
	signed char *node_ok; /* per node: -1 unknown */
	struct vpool *pool;   /* per pool */
};

struct variant {
	size_t cls;
	int step;
	int last; /* no further relaxation */
	struct nap_reqs reqs;
	unsigned char *topo_on; /* per topo term of the class prototype */
	int tol_prefer;
	struct vshare *sh;    /* its own under nocache */
	uint64_t *mask;	      /* per tkey: domains its requirements allow */
	unsigned char *mask_ok;
	/*
	 * Its strict requirements (the required node-affinity term in force,
	 * no preference, no volume; NULL: none), which alone bound the domains
	 * of its spreads and affinities, as Karpenter's pod domains do.
	 */
	const struct nap_reqs *strict;
	uint64_t *smask; /* per tkey: domains its strict requirements allow */
	unsigned char *smask_ok;
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

/* A growable list of pending pod indices. */
struct plist {
	size_t *v;
	size_t n, alloc;
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
	struct variant *known[CACHE_N]; /* variants that leave reqs unchanged (and their shares') */
	size_t nknown;
	int closed;
	uint64_t *mask;		/* per tkey: domains its requirements allow */
	unsigned char *mask_ok; /* reset whenever reqs change */
	/*
	 * Per tkey, allocated on first use: some of its pods were not counted
	 * by a spread or an affinity on that key while its domain was open;
	 * they are when it narrows to one (sched-topo.c).
	 */
	unsigned char *uncounted;
	struct plist ported; /* its pods that hold host ports */
	/*
	 * A claim of a strict pattern tier: per quota entry of its pool, the
	 * pods of that request it holds (at most the entry's per); NULL else.
	 */
	long *patused;
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
#define NAP_SCHED_TIERS 40 /* most tiers one pool's plan fills */

/* n pods of request req go to tier (of the pattern plan, sched-plan.c) */
struct sched_quota {
	struct nap_res req;
	size_t tier;
	long n;
	long per; /* pods of req one claim of the tier holds */
};

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
	long node_room;		   /* new claims the node ceiling allows; LONG_MAX none */
	double plan_density;	   /* pods per node the tier plan must reach; 0 any */
	/*
	 * Under a binding ceiling: plan_ceiled, some pool's plan is
	 * plan_ceiling's (priced on estimates); plan_dense, the plan is made
	 * without it (sizes dense enough only); plan_checked, a run has
	 * compared the two and the world keeps the winner (nap_sched_run).
	 */
	int plan_ceiled, plan_dense, plan_checked;
	int any_prefer_taint;
	struct nap_res minreq; /* the smallest pending request, per resource */
	/* the tier plan (enum nap_sched_packing), made once */
	int planned;
	size_t *tiers;		    /* per pool x NAP_SCHED_TIERS: sizes claims fill */
	struct nap_res *tcap;	    /* per pool x NAP_SCHED_TIERS: what one claim may hold */
	size_t *ntiers;		    /* per pool */
	size_t *ptier;		    /* per pending pod x pool: its tier's index, NPOS none */
	size_t *tier0;		    /* per pool: its first tier by size (before: pattern tiers) */
	unsigned char *tstrict;	    /* per pool x NAP_SCHED_TIERS: claims keep to the packing */
	struct sched_quota **quota; /* per pool: by request, then tier */
	size_t *nquota;		    /* per pool */
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
	/* DaemonSets holding host ports, and per pool x type which land there */
	size_t *pdaemon; /* indices into in->daemons */
	size_t npdaemon, dwords;
	uint64_t *dports; /* per pool x type, dwords words: bit i = pdaemon[i] lands */
};

/* A run's topology: keys, their domains per node, and the groups' counts (sched-topo.c). */
struct topo {
	struct tkey *tk;
	size_t ntk, atk;
	long *ndom; /* per tkey x node: value index, -1 none */
	struct group *grp;
	size_t ngrp, agrp;
	struct nap_hash grp_by_sig;
};

/* The distinct volumes on a node under attach limits: its own, then those placed there. */
struct sched_vset {
	struct nap_sched_vol *v; /* (driver, id) */
	uint64_t *h;		 /* their hashes */
	size_t n, alloc;
	long *cnt; /* per limit of the node: its volumes; NULL until first use */
};

/* One run: the placements so far, over a world. */
struct st {
	struct nap_sched_world *w;
	const struct nap_sched_input *in;
	const struct nap_sched_run_opts *opt;
	int nocache; /* every cache off: recompute what a cache would give */
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
	struct plist *node_ported;    /* per node: pods placed there that hold host ports */
	struct sched_vset *node_vset; /* per node with attach limits (sched-rules.c) */
	/* classes */
	struct nap_hash cls_by_sig;
	struct klass *cls;
	size_t ncls, acls;
	struct nap_hash vsh_by_key; /* variants' verdicts, by what they read */
	struct vshare **vsh;
	size_t nvsh, avsh;
	char *vkey; /* scratch: a share's key */
	size_t avkey;
	size_t *pod_cls;
	struct topo topo;
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
	struct nap_reqs tmp2; /* try_new: a new claim's requirements, minValues relaxed */
	size_t *tbuf, *tbuf2;
	struct pin pins[16];
	size_t npins;
	char why[WHY];
};

enum cand_kind { CAND_NODE, CAND_CLAIM, CAND_NEW };

struct cand {
	enum cand_kind kind;
	size_t idx;		     /* node or claim index */
	const struct nap_reqs *reqs; /* claim or new claim requirements */
	long host;		     /* host domain */
};

/* sched-rules.c */
int sched_taints_ok(const struct nap_taint *taints, size_t n, const struct nap_sched_pod *p,
    int tol_prefer, int skip_ephemeral, char *why, size_t len);
int sched_cmp_pending(const void *x, const void *y, void *ctx);
int sched_req_equal(const struct nap_req *a, const struct nap_req *b);
int sched_reqs_equal(const struct nap_reqs *a, const struct nap_reqs *b);
int sched_offering_ok(const struct nap_sched_itype *t, const struct nap_reqs *reqs, double *price);
void sched_fmt_reqs(const struct nap_reqs *r, char *buf, size_t len);
void sched_fmt_res_json(const struct nap_res *r, char *buf, size_t len);
int sched_node_vols_ok(struct st *s, size_t pi, size_t ni, char *why, size_t len);
void sched_node_vols_add(struct st *s, size_t pi, size_t ni);
/* Distinct NAP_SCHED_DISK_DRIVER volumes of pods[] and pi; 0 when pi has none. */
long sched_claim_disks(const struct st *s, const size_t *pods, size_t npods, size_t pi);

/* sched-world.c */
uint64_t sched_small_mask(const char *const *tab, size_t n, const struct nap_req *q);
const struct rankc *sched_rank_cached(struct st *s, size_t p, uint64_t zm, uint64_t cm);
void sched_world_plan(struct nap_sched_world *w);
void sched_world_unplan(struct nap_sched_world *w);

/* sched-plan.c */
void sched_pool_plan(struct nap_sched_world *w);
void sched_plan_unpattern(struct nap_sched_world *w, size_t p);
int sched_pod_apart(const struct nap_sched_pod *pod);
size_t sched_pod_tier(const struct nap_sched_world *w, size_t p, const struct nap_res *req);
size_t sched_quota_take(struct nap_sched_world *w, size_t p, const struct nap_res *req);
size_t sched_quota_find(
    const struct nap_sched_world *w, size_t p, const struct nap_res *req, size_t tier);
int sched_pod_planned(const struct nap_sched_pod *pod);
int sched_pod_simple(const struct nap_sched_pod *pod);

/* sched-class.c */
size_t sched_class_add(struct st *s, const struct nap_sched_pod *p);
struct variant *sched_variant_get(struct st *s, size_t ci, int step);
void sched_variant_free(struct variant *v);
void sched_vshare_free(struct vshare *sh, size_t npools);
struct vpool *sched_vpool_get(struct st *s, struct variant *v, size_t p);
int sched_node_verdict(const struct st *s, const struct variant *v, size_t ni);

/* sched-topo.c */
size_t sched_group_get(struct st *s, const struct nap_sched_topo *t, const char *ns);
int sched_topo_ok(struct st *s, const struct klass *c, struct variant *v, const struct cand *cd,
    char *why, size_t len);
void sched_topo_record(struct st *s, size_t pi, const struct variant *v, const struct cand *cd,
    const struct nap_reqs *reqs);
void sched_setup_topology(struct st *s);

/* sched-claim.c */
int sched_daemon_ports_ok(
    const struct nap_sched_world *w, const struct nap_sched_pod *p, size_t pool, size_t t);
int sched_node_ports_ok(struct st *s, size_t pi, size_t ni);
void sched_node_ports_add(struct st *s, size_t pi, size_t ni);
size_t sched_seg_find(const struct corder *co, size_t from, const struct nap_res *req);
int sched_min_values_ok(
    struct st *s, struct nap_reqs *r, const size_t *types, size_t n, char *why, size_t len);
long sched_shape_of(struct st *s, const struct variant *v, const struct nap_res *req);
int sched_try_claim(struct st *s, size_t pi, struct variant *v, size_t ci, char *why, size_t len);
int sched_try_new(struct st *s, size_t pi, struct variant *v, size_t p, char *why, size_t len);

/* sched-final.c */
void sched_finalize_claims(struct st *s, char *why, size_t len);

/*
 * Small helpers of the hot loops, inline: a call into another file costs
 * more than they do.
 */

/* a + b fits within have, every resource */
static inline int
sched_res_fits_sum(const struct nap_res *a, const struct nap_res *b, const struct nap_res *have)
{
	int i, ok = 1;

	for (i = 0; i < NAP_RES_N; i++)
		ok &= a->v[i] + b->v[i] <= have->v[i];
	return ok;
}

/* Pending pod pi's tier in pool p under the run's packing, or NPOS. */
static inline size_t
sched_tier_of(const struct st *s, size_t pi, size_t p)
{
	if (s->opt->packing != NAP_SCHED_PACK_TARGET)
		return NAP_SCHED_NPOS;
	return s->w->ptier[pi * s->in->npools + p];
}

/* The capacity a capped claim may fill, or NULL when it grows freely. */
static inline const struct nap_res *
sched_claim_cap(const struct st *s, const struct claim *c)
{
	if (!c->capped)
		return NULL;
	return &s->w->tcap[c->bucket - 1];
}

/* Append v as lowercase hex and a separator; returns the new length. */
static inline size_t
sched_hex_put(char *buf, size_t o, uint64_t v, char sep)
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

static inline struct klass *
sched_class_of(struct st *s, size_t pi)
{
	return &s->cls[s->pod_cls[pi]];
}

/* sched_node_verdict, remembered per variant and node (worked out again under nocache) */
static inline int
sched_node_ok(struct st *s, struct variant *v, size_t ni)
{
	signed char *ok = v->sh->node_ok;

	if (ok[ni] < 0 || s->nocache)
		ok[ni] = (signed char)sched_node_verdict(s, v, ni);
	return ok[ni];
}

#endif
