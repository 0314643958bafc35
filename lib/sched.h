/*
 * sched.h - Karpenter's scheduling simulation: where pending pods go.
 *
 * Given the instance types on offer, the NodePools (as templates), the
 * capacity that exists (nodes) or is on its way (in-flight NodeClaims), the
 * pods already bound (for topology counting and inverse anti-affinity), the
 * DaemonSets (for per-instance-type overhead) and the pending pods, it
 * decides for each pending pod: an existing or in-flight node it fits on, a
 * new NodeClaim (NodePool, narrowed requirements, ranked instance types), or
 * why it fits nowhere.  nap-solve uses it to provision; nap-disrupt uses it
 * to simulate where the pods of a candidate node would go.
 *
 * Semantics (karpenter.md 1.4-1.10): pods are tried in first-fit-decreasing
 * order (CPU, memory, creation, UID); each against existing nodes in the
 * given order, then the NodeClaims created in this run (fewest pods first),
 * then a new claim from each NodePool by weight (desc) and name (desc).
 * Preferences (heaviest preferred node-affinity term, preferred pod
 * (anti-)affinity, ScheduleAnyway spreads) are required until relaxed one at
 * a time in Karpenter's order; a pod that fails goes to the back of the
 * queue, and the run stops after a full cycle without progress.
 * How far a new claim grows is nap_sched_input.packing: by default within
 * its tier of the NodePool's plan for the batch (nap's departure, see enum
 * nap_sched_packing), or Karpenter's pure greedy growth.
 *
 * Ownership: the input is the caller's and is only read (strings, reqs and
 * JSON it points to must outlive the call).  The result is the caller's,
 * released with nap_sched_result_free.  Identical input gives an identical
 * result: no clocks, no randomness, no hash-order dependence.
 *
 * Errors: nap_sched_solve returns -1 only for input it cannot use at all
 * (err filled, NAP_EX_DATAERR); a pod that fits nowhere is not an error,
 * its placement says why.
 */
#ifndef NAP_SCHED_H
#define NAP_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "hostport.h"
#include "labels.h"
#include "nap.h"
#include "resources.h"
#include "taint.h"

/* The most instance types a new NodeClaim lists (Karpenter HEAD: 600). */
#define NAP_SCHED_MAX_TYPES 600

/* Taints and tolerations are lib/taint's (struct nap_taint, struct nap_toleration): one matcher. */

enum nap_sched_topo_kind {
	NAP_SCHED_SPREAD,   /* topologySpreadConstraints */
	NAP_SCHED_AFFINITY, /* podAffinity term */
	NAP_SCHED_ANTI,	    /* podAntiAffinity term */
};

/*
 * One topology constraint of a pod.  sig names the group: constraints with
 * the same sig share counts (the caller builds it from kind, key, namespaces,
 * selector, maxSkew, minDomains), so one Deployment's replicas form one group.
 */
struct nap_sched_topo {
	enum nap_sched_topo_kind kind;
	const char *key; /* topologyKey */
	const char *sig;
	const struct nap_selector *sel; /* NULL matches nothing */
	const char *const *namespaces;	/* NULL: the pod's own namespace */
	size_t nnamespaces;
	int all_namespaces; /* namespaceSelector {} */
	int max_skew;
	int min_domains;
	int required; /* DoNotSchedule / required term; else relaxable */
	int weight;   /* preferred affinity terms: heavier relaxed last */
};

struct nap_sched_pref {
	int weight;
	struct nap_reqs reqs;
};

struct nap_sched_pod {
	const char *ns;
	const char *name;
	const char *uid;
	int64_t created;     /* creationTimestamp, seconds */
	json_object *labels; /* borrowed; may be NULL */
	struct nap_res req;  /* effective requests incl. pods=1 */
	const char *never;   /* why it can never schedule, or NULL */
	const char *sig;     /* constraints signature: equal sig, equal constraints */
	/* required node affinity OR-terms with the nodeSelector folded into each;
	 * nterms == 0 means no node requirement at all */
	struct nap_reqs *terms;
	size_t nterms;
	struct nap_sched_pref *prefs; /* preferred node-affinity terms */
	size_t nprefs;
	const struct nap_toleration *tols;
	size_t ntols;
	const struct nap_sched_topo *topo;
	size_t ntopo;
	const struct nap_reqs *volume; /* zone pinned by a bound volume, or NULL */
	/*
	 * Nodes (by name) the cluster's scheduler turned this pod away from:
	 * not tried for it.  Pods whose lists differ need different sigs.
	 */
	const char *const *avoid;
	size_t navoid;
	/*
	 * Host ports its containers hold: two pods whose ports clash
	 * (hostport.h) never share a node, nor does a pod and a DaemonSet that
	 * would run there.  Pods whose ports differ need different sigs.
	 */
	const struct nap_host_port *ports;
	size_t nports;
	/*
	 * The volumes it attaches through a CSI driver, each once (sorted by
	 * driver, then id): counted against a node's attach limits.
	 */
	const struct nap_sched_vol *vols;
	size_t nvols;
};

/* A volume a pod attaches: its CSI driver and an id ("namespace/claim"). */
struct nap_sched_vol {
	const char *driver;
	const char *id;
};

/* How many volumes of a driver a node can attach (its CSINode's allocatable.count). */
struct nap_sched_vol_limit {
	const char *driver;
	long count;
};

/* The CSI driver whose attach limit new claims take from the size (max_disks). */
#define NAP_SCHED_DISK_DRIVER "disk.csi.azure.com"

/* An instance type and its offerings, as the catalog gives them. */
struct nap_sched_offer {
	const char *zone;  /* "eastus-1", or "0" for regional */
	const char *ctype; /* "on-demand" or "spot" */
	double price;
	int available;
};

struct nap_sched_itype {
	const char *name;
	struct nap_reqs reqs; /* labels, incl. zone and capacity-type sets */
	const struct nap_sched_offer *off;
	size_t noff;
	/* data disks it can attach (NAP_SCHED_DISK_DRIVER volumes); 0 unknown: no limit */
	int max_disks;
};

struct nap_sched_pool {
	const char *name;
	int weight;
	struct nap_reqs reqs;		      /* requirements + template labels + nodepool label */
	const struct nap_taint *taints; /* spec.template.spec.taints */
	size_t ntaints;
	/* per instance type (index into types) under this pool's AKSNodeClass;
	 * a cpu of 0 in alloc marks a type the node class cannot use */
	const struct nap_res *alloc;
	const struct nap_res *capacity;
	int has_limit[NAP_RES_N];
	struct nap_res limit;
	int64_t limit_nodes; /* -1: no limit */
	struct nap_res used; /* capacity of its existing nodes and claims */
	int64_t used_nodes;
	const char *unusable; /* why the pool is not used, or NULL */
};

/* An existing node, or an in-flight NodeClaim (not yet a node). */
struct nap_sched_node {
	const char *name;
	int pool;		       /* index into pools, or -1 */
	const struct nap_reqs *labels; /* its labels as In requirements */
	const struct nap_taint *taints;
	size_t ntaints;
	struct nap_res avail; /* allocatable minus bound requests */
	int in_flight;
	int initialized;
	const struct nap_host_port *ports; /* held by the pods bound (or held) there */
	size_t nports;
	/* attach limits per driver (none: no limit), and the volumes attached there */
	const struct nap_sched_vol_limit *vlimits;
	size_t nvlimits;
	const struct nap_sched_vol *vols;
	size_t nvols;
};

/*
 * A pod on an existing node, as topology reads it: its namespace and labels
 * (what selectors match) and its required anti-affinity terms.  A cluster
 * has tens of thousands, so it is not a struct nap_sched_pod.
 */
struct nap_sched_bpod {
	const char *ns;
	json_object *labels; /* borrowed; may be NULL */
	const struct nap_sched_topo *topo;
	size_t ntopo;
};

struct nap_sched_bound {
	const struct nap_sched_bpod *pod;
	size_t node; /* index into nodes */
};

/*
 * NAP_SCHED_PACK_TARGET (nap's default): a tiered plan per NodePool.  The
 * batch's request shapes are split greedily into at most four tiers, each
 * the pods that fit a size and not an earlier tier's, when the split's
 * single-size fractional covers (price x the most nodes any of CPU, memory,
 * pods, GPUs needs; capacity net of DaemonSet overhead and of half the mean
 * request, GPUs whole) cost 2% less than covering them with one size.  A
 * claim opened by a pod of a tier holds only that tier's pods, within its
 * size, and pods go to the oldest such claim that takes them (first fit);
 * pods of no tier (too big, or in a self-selecting required hostname
 * pod-affinity group) grow claims as Karpenter does.  NAP_SCHED_PACK_KARPENTER:
 * Karpenter's pure greedy growth.
 */
enum nap_sched_packing {
	NAP_SCHED_PACK_TARGET,
	NAP_SCHED_PACK_KARPENTER,
};

struct nap_sched_input {
	const struct nap_sched_itype *types;
	size_t ntypes;
	const struct nap_sched_pool *pools;
	size_t npools;
	const struct nap_sched_node *nodes;
	size_t nnodes;
	const struct nap_sched_bound *bound;
	size_t nbound;
	const struct nap_sched_pod *daemons; /* one pod per DaemonSet */
	size_t ndaemons;
	const struct nap_sched_pod *pending;
	size_t npending;
	int max_types; /* 0: NAP_SCHED_MAX_TYPES */
	/*
	 * Packing rule (see enum nap_sched_packing): how far a new claim grows.
	 * The zero value is nap's default, the target-size rule.  Read by
	 * nap_sched_solve only; runs take theirs from nap_sched_run_opts.
	 */
	int packing;
	/*
	 * Karpenter's MIN_VALUES_POLICY: 0 Strict (a claim whose sizes cannot
	 * meet a minValues is not made), 1 BestEffort (the claim lowers that
	 * minValues to what its sizes meet, and says so: min_values_relaxed).
	 * Consolidation keeps it 0, as Karpenter never relaxes there.
	 */
	int min_values_relax;
	/*
	 * Names in use besides the nodes' (NodeClaims not yet nodes, claims
	 * planned and not yet seen): no new claim is given one of these, nor
	 * a node's name.
	 */
	const char *const *taken;
	size_t ntaken;
	/*
	 * The cluster's node ceiling (nap.conf(5) solve.maxNodes); 0 = none.
	 * nodes[] and nodes_extra (claims planned, not yet nodes) count
	 * against it: no new claim past it, and the tier plan chooses larger
	 * sizes when the fleet it would make does not fit under it.
	 */
	long max_nodes;
	size_t nodes_extra;
};

enum nap_sched_where {
	NAP_SCHED_NONE,	 /* fits nowhere: why */
	NAP_SCHED_NODE,	 /* an existing or in-flight node: index */
	NAP_SCHED_CLAIM, /* a new claim: index into claims */
};

struct nap_sched_place {
	enum nap_sched_where where;
	size_t index;
	char *why; /* NAP_SCHED_NONE: Karpenter-style reason */
};

struct nap_sched_claim {
	char name[80]; /* <nodepool>-<5 chars> from its pods */
	size_t pool;
	/*
	 * Narrowed requirements: zone and capacity-type cut to the offerings of
	 * its sizes; the instance-type requirement names only the cheapest size
	 * (the ranked list is types[], its minValues is min_values).
	 */
	struct nap_reqs reqs;
	uint16_t *types; /* ranked cheapest first, truncated */
	int min_values;	 /* of the instance-type requirement, 0 = none */
	/* 1: a minValues of its NodePool was lowered (BestEffort); -1: none was
	 * lowered; 0: the NodePool has no minValues */
	int min_values_relaxed;
	size_t ntypes;
	double price; /* cheapest available compatible offering */
	size_t *pods; /* indices into pending, in placement order */
	size_t npods;
	struct nap_res requests; /* pods + the smallest daemon overhead */
};

struct nap_sched_result {
	struct nap_sched_place *place; /* one per pending pod */
	size_t nplace;
	struct nap_sched_claim *claims;
	size_t nclaims;
	unsigned long relaxations; /* preference relaxations made */
	int stopped;		   /* stop_at_fail ended the run: some pods were not simulated */
};

/*
 * Prepare once, run many.  nap_sched_prepare builds from the input what no
 * run changes (usable sizes and capacity net of DaemonSet overhead per
 * NodePool, limits, offerings, the tier plan, rankings); the world borrows
 * the input, which must stay unchanged and alive until nap_sched_world_free.
 * nap_sched_run simulates once over the world with its options and fills
 * out (the caller's, nap_sched_result_free).  A world holds caches that
 * runs fill, so it serves one run at a time; distinct worlds share nothing
 * (no globals), so threads may each run their own.  Both return -1 only for
 * input they cannot use (err filled, NAP_EX_DATAERR).
 */
struct nap_sched_world;

struct nap_sched_run_opts {
	int packing; /* enum nap_sched_packing */
	/* nodes (indices into input nodes) taken away: nothing lands on them and
	 * their bound pods count for no topology; the caller passes their pods
	 * as pending if it wants them placed, and leaves their capacity out of
	 * pools[].used if it should not count against limits */
	const size_t *exclude;
	size_t nexclude;
	/* at most this many new claims; < 0 no limit (0: "can these pods go
	 * elsewhere?", 1: "one replacement?") */
	long max_claims;
	/* > 0: new claims keep only sizes with an offering cheaper than this,
	 * $/h (Karpenter's consolidation: strictly cheaper) */
	double max_price;
	/* end the run at the first pod that fails (FFD order, before any
	 * retry); the rest are left unsimulated and result.stopped is set */
	int stop_at_fail;
	/* every cache off: the same result, slower (tests show it is the same) */
	int nocache;
};

#define NAP_SCHED_RUN_OPTS_INIT                                                                    \
	{                                                                                          \
		NAP_SCHED_PACK_TARGET, NULL, 0, -1, 0, 0, 0                                        \
	}

int nap_sched_prepare(
    const struct nap_sched_input *in, struct nap_sched_world **w, struct nap_err *err);
int nap_sched_run(struct nap_sched_world *w, const struct nap_sched_run_opts *opts,
    struct nap_sched_result *out, struct nap_err *err);
void nap_sched_world_free(struct nap_sched_world *w);

/* prepare, one run with the input's packing and default options, free */
int nap_sched_solve(
    const struct nap_sched_input *in, struct nap_sched_result *out, struct nap_err *err);
void nap_sched_result_free(struct nap_sched_result *out);

/* Karpenter's FFD order: CPU desc, memory desc, created asc, UID asc. */
int nap_sched_pod_cmp(const struct nap_sched_pod *a, const struct nap_sched_pod *b);

#endif
