/*
 * disrupt-int.h - what lib/disrupt.c (candidates, budgets, emptiness,
 * drift, expiration, records) and lib/disrupt-consol.c (consolidation and
 * the simulated replacements) share; not part of the library's interface
 * (disrupt.h is).  A plan's state (struct plan) lives on nap_disrupt_plan's
 * stack and points into the result it fills; nothing is global.
 */
#ifndef NAP_DISRUPT_INT_H
#define NAP_DISRUPT_INT_H

#include "disrupt.h"
#include "hash.h"
#include "nap.h"

struct pool {
	const struct nap_nodepool *np;
	struct nap_disrupt_budget *b; /* in the result */
};

struct row {
	const struct nap_nodeclaim *claim;
	const struct nap_node *node;
	struct pool *pool;
	struct nap_disrupt_verdict *v; /* in the result */
	int counted;		       /* in its pool's budget total */
	int disrupting;		       /* counts against the budget */
};

struct plan {
	const struct nap_cluster *c;
	const struct nap_disrupt_opts *o;
	int64_t now; /* ms */
	struct nap_disrupt_result *r;
	struct pool *pools;
	size_t npools;
	struct nap_hash nominated, queued;
	const struct nap_pdb **pdbs; /* sorted by namespace */
	size_t npdbs;
	struct nap_hash pdb_ns;	   /* namespace -> struct span of pdbs */
	struct nap_hash pdb_cache; /* "<labels map>\t<ns>" -> struct pdb_hit */
	int budget_blocked;	   /* consolidation left a node to a spent budget */
	struct row *rows;	   /* one per NodeClaim, by name */
	size_t nrows;
};

/* The PDBs of one namespace: pdbs[start .. start + n). */
struct span {
	size_t start, n;
};

/* Which PDBs select pods of a label set: the first, and how many. */
struct pdb_hit {
	const struct nap_pdb *first;
	size_t n;
};

/* ---- disrupt.c ---- */

/* Bring result next_ms forward to ms when it is a later instant than now. */
void disrupt_next_at(struct plan *pl, int64_t ms);
/* "3m10s": a duration for a person, rounded up to seconds. */
void disrupt_human_ms(int64_t ms, char *buf, size_t n);
/* Set v's why, until and detail (printf). */
void disrupt_verdict(struct nap_disrupt_verdict *v, enum nap_disrupt_why why, int64_t until,
    const char *fmt, ...) NAP_PRINTF(4, 5);
/* A label of the node, else of its NodeClaim; NULL when neither has it. */
const char *disrupt_label(const struct row *w, const char *key);
/* A pod a drain would move: not terminal, DaemonSet, mirror, or terminating (StatefulSet pods excepted). */
int disrupt_pod_reschedulable(const struct nap_pod *p);
/* Budget for reason k left in w's pool this plan?  Else w's verdict says why not. */
int disrupt_budget_left(struct row *w, enum nap_disrupt_reason k);
/* The Drifted condition's reason ("" when not drifted). */
const char *disrupt_drift_reason(const struct row *w);
/*
 * When cl becomes Consolidatable (§4.2): consolidateAfter after its last
 * pod event (else its Initialized transition, else its creation), epoch
 * ms; INT64_MAX for consolidateAfter Never.
 */
int64_t disrupt_consolidatable_at(const struct nap_nodeclaim *cl, const struct nap_nodepool *np);
/* A new, empty command of the result. */
struct nap_disrupt_command *disrupt_command_new(
    struct nap_disrupt_result *r, enum nap_disrupt_reason reason, const char *pool);
/* w as one more candidate of cmd: its verdict becomes Disrupted. */
void disrupt_cand_add(struct plan *pl, struct nap_disrupt_command *cmd, struct row *w);

/* ---- disrupt-consol.c ---- */

/*
 * Multi-node then single-node consolidation over the candidates (rows whose
 * emptiness verdict is NotEmpty), as methods allows; 1 when it made a
 * command.  Sets the result's consolidated flags.
 */
int disrupt_consolidate(struct plan *pl, struct row **cands, size_t n, unsigned methods);
/*
 * Drift's replacement for one non-empty drifted row through the simulation:
 * 1 with a command made (DELETE or REPLACE with every claim the pods need),
 * 0 when its pods would not fit (the verdict says why; the caller tries the
 * next), -1 when there is nothing to simulate with (no catalog).
 */
int disrupt_drift_simulate(struct plan *pl, struct row *w);
/*
 * opts.validate over the candidates (emptiness verdicts filled): 1 with the
 * command made again, 0 with the result's invalid set.
 */
int disrupt_validate(struct plan *pl, struct row **cands, size_t n);
/* The result's fleet price and, with opts.bound, the whole-pod bound. */
void disrupt_fleet(struct plan *pl);

#endif
