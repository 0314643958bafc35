/*
 * solve.h - the parts of nap-solve: the record loop (main.c), turning the
 * cluster model into the scheduler's input with nap-solve's filters
 * (build.c, over lib/simulate), and writing the decisions (emit.c, with
 * lib/claim).
 *
 * Ownership: struct solve owns the catalog, the unavailable-offerings list
 * and the planned-claim table across batches; a struct nap_sim is built per
 * batch from the model and freed after its decisions are written.
 */
#ifndef NAP_SOLVE_H
#define NAP_SOLVE_H

#include <stdint.h>

#include "catalog.h"
#include "config.h"
#include "hash.h"
#include "model.h"
#include "sched.h"
#include "simulate.h"

/* A claim this process planned, kept until the NodeClaim object shows up. */
struct planned {
	char *name;
	char **pods; /* namespace/name */
	size_t npods;
	struct nap_res capacity; /* the largest candidate type: for limits */
	char *pool;
	int64_t at_ms;
	int released; /* its NodeClaim launched or went: its pods are pending again */
};

/*
 * A pod this process nominated to a node or an in-flight NodeClaim: it is
 * left out of later batches until until_ms, or until the scheduler is seen
 * to turn it away from target once target could take it (main.c).
 */
struct nomination {
	int64_t until_ms;
	char *target; /* node or NodeClaim name */
	int is_claim;
};

/* Nodes the scheduler turned a pod away from (main.c), kept until until_ms. */
struct turned {
	char **nodes;
	size_t n;
	int64_t until_ms;
};

struct solve {
	struct nap_catalog *cat;
	const struct nap_config *cfg; /* catalog, cluster.region and spotPrices under the flags */
	const char *catalog_path;     /* the flags, NULL when not given */
	const char *spot_prices;
	char *region;
	int max_types;
	int packing;			/* enum nap_sched_packing */
	int min_values_relax;		/* --min-values-policy BestEffort */
	struct nap_unavail_set unavail; /* OfferingUnavailable records read */
	struct planned *pl;
	size_t npl, apl;
	struct nap_hash planned_pods; /* ns/name -> 1: pods of planned claims not yet seen */
	struct nap_hash nominated;    /* ns/name -> struct nomination */
	struct nap_hash turned;	      /* ns/name -> struct turned */
	/* node name -> the resourceVersion (a number, never 0) at which it could first take pods */
	struct nap_hash usable_rv;
	int64_t now_ms; /* 0 at end of input: no clock */
	int64_t plan_ttl_ms;
	int64_t nominate_ttl_ms;
};

/* The cluster model, kept until exit (main.c). */
extern struct nap_cluster *solve_model;

/* This batch's question (lib/simulate) with nap-solve's filters; free with nap_sim_free. */
int solve_build(
    struct solve *sv, const struct nap_cluster *cl, struct nap_sim *sim, struct nap_err *err);
/* Write the decisions, record planned claims and nominations. */
void solve_emit(struct solve *sv, const struct nap_cluster *cl, struct nap_sim *sim,
    const struct nap_sched_result *res);
/* Load the catalog on first use (flags, then the config); region: then node labels. */
int solve_catalog(struct solve *sv, const struct nap_cluster *cl, struct nap_err *err);
/* Forget planned claims whose NodeClaim exists or whose time is up. */
void solve_expire(struct solve *sv, const struct nap_cluster *cl);
void nomination_free(struct nomination *nm);
void turned_free(struct turned *t);
void solve_free(struct solve *sv);

#endif
