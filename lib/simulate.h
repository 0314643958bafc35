/*
 * simulate.h - the cluster model (model.h) as the scheduler's question
 * (sched.h): instance types and offerings from the catalog, NodePools with
 * their AKSNodeClass applied, nodes and in-flight NodeClaims, bound pods for
 * topology, DaemonSets for overhead, and the pods to place; plus the map
 * back from the scheduler's indices to the model's objects, so that every
 * tool that asks "where would these pods go?" asks it the same way.
 *
 * The caller's filters (struct nap_sim_opts) say what differs between the
 * askers: which unbound pods are to be placed, left out, or held where they
 * were nominated; which nodes are gone (nap-disrupt's "remove node X"),
 * whose pods are then placed again and whose capacity may leave its
 * NodePool's limits; offerings known to be unavailable; usage the cluster
 * does not show yet.
 *
 * Ownership: nap_sim_build fills a caller-owned struct nap_sim; what it
 * allocates is freed by nap_sim_free.  The sim borrows from the cluster and
 * the catalog (names, labels, requirement sets of pods, the NodePool and
 * AKSNodeClass structs): neither may change or be freed while the sim is
 * used.  Nothing is written into the cluster or the catalog.
 *
 * Errors: none that the caller can cause; nap_sim_build returns 0.  What a
 * tool should warn about (a NodePool limit on a resource nap does not track)
 * is listed in sim->warnings, never printed.
 */
#ifndef NAP_SIMULATE_H
#define NAP_SIMULATE_H

#include <stddef.h>

#include "catalog.h"
#include "hash.h"
#include "model.h"
#include "sched.h"

/* What becomes of an unbound provisionable pod (nap_sim_opts.pod_view). */
enum nap_sim_role {
	NAP_SIM_PLACE, /* to be placed: one of in.pending */
	NAP_SIM_SKIP,  /* left out: decided elsewhere */
	NAP_SIM_HOLD,  /* held where it was nominated: counts there as if bound */
};

struct nap_sim_pod_view {
	enum nap_sim_role role;	  /* NAP_SIM_PLACE unless the callback says otherwise */
	const char *held_at;	  /* HOLD: a Node, or a NodeClaim (held_is_claim) */
	int held_is_claim;	  /* a registered claim's node stands for it */
	const char *const *avoid; /* PLACE: nodes not to try for it (borrowed) */
	size_t navoid;
};

/* Capacity a NodePool uses that the cluster does not show yet (a claim planned). */
struct nap_sim_usage {
	const char *pool;
	const char *claim;	 /* when the cluster has this NodeClaim, it is counted as itself */
	struct nap_res capacity; /* for limits: the largest of its candidate types */
};

struct nap_sim_opts {
	int max_types; /* 0: NAP_SCHED_MAX_TYPES */
	int packing;   /* enum nap_sched_packing */
	int min_values_relax; /* nap_sched_input.min_values_relax: 1 BestEffort */
	void *ctx;     /* passed to pod_view */
	/* offerings known to be unavailable at now_ms (0: no clock, every entry holds); may be NULL */
	const struct nap_unavail_set *unavail;
	int64_t now_ms;
	/*
	 * The caller's view of one unbound provisionable pod (v comes set to
	 * NAP_SIM_PLACE); NULL: every such pod is placed.  A pod held at a
	 * node not in the question (gone, unknown) is left out.
	 */
	void (*pod_view)(void *ctx, const struct nap_pod *p, struct nap_sim_pod_view *v);
	/*
	 * Nodes taken away, by Node or NodeClaim name (either names both): they
	 * take no pod and count for no topology; their pods that a drain would
	 * move (not DaemonSet, mirror, terminal or terminating) are placed
	 * again, after the pending ones, in the cluster's order (pod_view is
	 * not asked about them; nmoved counts them).  With gone_usage_counts
	 * 0, their capacity leaves their NodePool's limits, as it would once
	 * deleted.
	 */
	const char *const *gone;
	size_t ngone;
	int gone_usage_counts;
	const struct nap_sim_usage *extra;
	size_t nextra;
};

struct nap_sim {
	struct nap_sched_input in; /* the question: hand it to the scheduler */
	/* back-map, by the scheduler's indices */
	struct nap_sched_itype *types;	    /* in.types; [t].name is the catalog's */
	int *type_len;			    /* name length, -1 when it needs JSON escapes */
	struct nap_sched_offer *offers;	    /* every type's offerings, in.types[t].off */
	struct nap_sched_pool *pools;	    /* in.pools */
	struct nap_nodepool **pool_np;	    /* the NodePool of each pool */
	struct nap_nodeclass **pool_nc;	    /* its AKSNodeClass, or NULL */
	struct nap_res *alloc, *capacity;   /* npools x ntypes */
	struct nap_sched_node *nodes;	    /* in.nodes */
	const char **node_kind;		    /* "Node" or "NodeClaim" */
	struct nap_reqs *node_labels;	    /* per node */
	struct nap_sched_pod *pending;	    /* in.pending */
	const struct nap_pod **pending_src; /* the model's pod of each */
	struct nap_sched_pod *daemons;
	struct nap_sched_bpod *boundp;
	struct nap_sched_bound *bound;
	size_t nbound;
	size_t nmoved;	 /* pending pods that were bound to a gone node (the last nmoved) */
	char **warnings; /* what the caller may want to warn about */
	size_t nwarnings;
	struct nap_hash topo_memo; /* while building: pods' topology terms, by their hashes */
	void **strs;		   /* everything else the sim allocated */
	size_t nstrs, astrs;
};

int nap_sim_build(struct nap_sim *sim, const struct nap_cluster *cl, const struct nap_catalog *cat,
    const struct nap_sim_opts *opts, struct nap_err *err);
void nap_sim_free(struct nap_sim *sim);

#endif
