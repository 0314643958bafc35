/*
 * disrupt.h - the disruption planner: which nodes nap-disrupt removes now,
 * and for every other node why not (karpenter.md §4.1-4.4, §3 Expiration).
 *
 * nap_disrupt_plan is a pure function of a cluster model and options: it
 * reads no clock (opts.now is the time), does no I/O and changes nothing.
 * Given the same snapshot and the same now it returns the same plan, so
 * --dry-run, the tests and the live loop share one decision.
 *
 * Methods, in Karpenter's order.  Expiration is forceful and separate: every
 * NodeClaim whose creationTimestamp + expireAfter <= now is expired, with no
 * budget, no do-not-disrupt and no replacement first (a NodeClaim without a
 * creationTimestamp never expires).  Then the graceful methods run and the
 * first that produces a command stops the pass (karpenter.md §4.1):
 * emptiness, then drift, then multi-node consolidation, then single-node
 * consolidation (reason Underutilized; disrupt-consol.c, described below).
 *
 * Drift (§4.8, §5.9): the candidates whose NodeClaim has Drifted=True
 * (nap-upgrade and the drift checks set it; the planner does not judge
 * drift itself).  Empty drifted nodes go first: every one the pool's Drifted
 * budget allows is deleted, with no replacement and no consolidateAfter
 * wait.  Only when none is, the oldest drift (the condition's transition,
 * then the name) among the non-empty ones whose pool still has Drifted
 * budget becomes a command of its own: its pods are placed again by the
 * simulation consolidation uses (below, with any number of new claims, at
 * any price); fitting elsewhere it is deleted (replacements 0), else it
 * carries every new claim (launch); a node whose pods would not fit is
 * skipped for the next (NAP_WHY_WOULD_NOT_FIT).  Without a catalog, one
 * replacement the caller sizes (replacements 1, nlaunch 0,
 * cands[0].requests what it must hold).  One non-empty node per plan, the
 * others wait (NAP_WHY_DRIFT_ONE_AT_A_TIME) or are held by the budget.  A command in flight keeps its candidate tainted, so it counts as
 * disrupting until it is gone.  Unlike Karpenter, a terminationGracePeriod
 * does not waive the pod checks for drift: a do-not-disrupt pod or a PDB at
 * 0 holds a drifted node as it holds an empty one.
 *
 * Consolidation (§4.3-4.6, policy WhenEmptyOrUnderutilized): the
 * candidates that are not empty, whose pool has consolidateAfter elapsed
 * and whose NodeClaim names its instance type, zone and capacity type with
 * a known price, sorted by savings per disruption cost (price / (1 + Σ
 * positive eviction costs), descending, then name).  Each question "can
 * these nodes go?" is one run of the shared scheduler (lib/simulate with
 * the nodes gone, lib/sched in Karpenter's packing, at most one new
 * claim): their pods and those of the nodes already deleting must all
 * land, the candidates' never on an uninitialized node, none on a node
 * still inside its consolidateAfter; pending pods nominated somewhere are
 * held there, other pending pods are nap-solve's and left out.  0 new claims: delete.  1 new claim: replace,
 * keeping only the claim's instance types whose worst-case launch price
 * (the dearest offering it allows, of spot when it allows spot) is
 * strictly below the candidates' total (multi-node: below the cheapest
 * candidate of a type it lists), minValues still held; a claim that may be
 * spot or on-demand is pinned to spot.  All candidates spot and the claim
 * may be spot: only with opts.spot_to_spot, the claim forced to spot, and
 * a single node needs 15 cheaper types (the launch list cut to 15, or to
 * minValues).  Multi-node binary-searches the largest prefix (2..100) of
 * the candidates with budget that gives a command; single-node then walks
 * them in order (NodePools interleaved; from opts.single_from, at most
 * opts.max_simulations runs) and takes the first.  The pass is skipped when
 * opts.generation equals opts.consolidated_gen (nothing changed since a
 * pass that found nothing), unless 5 minutes passed since then.
 *
 * Candidates (§4.2): a NodeClaim with a NodePool label whose NodePool exists,
 * with its Node, Initialized, not deleting, not already being disrupted (a
 * karpenter.sh/disrupted taint, a DisruptionReason condition, or a name in
 * opts.queued), not nominated (a pod's status.nominatedNodeName, or a name
 * in opts.nominated), no karpenter.sh/do-not-disrupt
 * on Node or NodeClaim, no pod with an active do-not-disrupt (DaemonSet and
 * mirror pods count; terminal and terminating pods do not), no evictable pod
 * covered by a PDB allowing 0 disruptions (a not-Ready pod under an
 * AlwaysAllow PDB excepted) or by more than one PDB.  Emptiness then also
 * wants consolidateAfter != Never, consolidateAfter elapsed since
 * status.lastPodEventTime (else the Initialized transition, else the
 * NodeClaim's creation), and no reschedulable pod with a positive eviction
 * cost (DaemonSet, mirror, terminal pods and terminating pods other than
 * StatefulSet ones do not count).
 *
 * Budgets (§4.4), per NodePool and reason (Empty, Drifted, Underutilized):
 * total = the pool's NodeClaims that are Initialized and not being deleted
 * by the instance (InstanceTerminating); disrupting = those of them deleting,
 * NotReady, already being disrupted, or expiring in this very plan; allowed = the minimum over active
 * budgets naming the reason (or none: all reasons), a percentage of total
 * rounded up; no active budget = unlimited; a budget whose schedule does not
 * parse = 0 (fails closed).  A scheduled budget is active when the cron's
 * first fire after now - duration is at or before now (UTC, lib/cron).
 * available = max(allowed - disrupting, 0), spent as candidates are chosen,
 * cheapest disruption cost first.
 *
 * Determinism: NodeClaims are taken by name, candidates of equal cost by
 * name, so a snapshot and a time give the same plan byte for byte.
 *
 * Ownership: the result owns copies of every string it holds (valid after
 * the cluster changes); free it with nap_disrupt_result_free (safe on a
 * zeroed struct and after a failed plan).  The JSON renderers return new
 * objects the caller puts.
 *
 * Errors: nap_disrupt_plan returns 0, or -1 with err (NAP_EX_DATAERR) only
 * for options that make no sense (now <= 0).  Odd cluster data never fails a
 * plan: it becomes a verdict naming the object (a NodeClaim whose NodePool is
 * gone, a budget schedule that does not parse).
 */
#ifndef NAP_DISRUPT_H
#define NAP_DISRUPT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "nap.h"
#include "model.h"

struct nap_catalog;
struct nap_unavail_set;

/* Why a node is disrupted. The first three index budgets (budget reasons). */
enum nap_disrupt_reason {
	NAP_DISRUPT_EMPTY,
	NAP_DISRUPT_DRIFTED,
	NAP_DISRUPT_UNDERUTILIZED,
	NAP_DISRUPT_EXPIRED, /* forceful; no budget */
	NAP_DISRUPT_NREASONS
};
#define NAP_DISRUPT_NBUDGET_REASONS 3

/* "Empty", "Drifted", "Underutilized", "Expired". */
const char *nap_disrupt_reason_name(enum nap_disrupt_reason r);
/* The NAP_REASON_* budget bit of a reason (model.h), 0 for Expired. */
unsigned nap_disrupt_reason_bit(enum nap_disrupt_reason r);

/*
 * A verdict: what the planner decided for one NodeClaim (or one Node nap
 * does not manage).  NAP_WHY_DISRUPTED means "in a command of this plan";
 * NAP_WHY_CANDIDATE means it passed every check but no method wanted it.
 * Every other value is the first check it failed, in the order listed.
 */
enum nap_disrupt_why {
	NAP_WHY_DISRUPTED,
	NAP_WHY_CANDIDATE,	    /* eligible, no method chose it (e.g. not empty) */
	NAP_WHY_NOT_MANAGED,	    /* a Node with no NodeClaim and no karpenter.sh/nodepool */
	NAP_WHY_NO_NODEPOOL,	    /* NodeClaim without the karpenter.sh/nodepool label */
	NAP_WHY_NODEPOOL_NOT_FOUND, /* its NodePool does not exist */
	NAP_WHY_STATIC_POOL,	    /* the NodePool has replicas (static capacity) */
	NAP_WHY_NO_NODECLAIM,	    /* a managed Node whose NodeClaim is unknown */
	NAP_WHY_NOT_REGISTERED,	    /* a NodeClaim with no Node yet */
	NAP_WHY_NOT_INITIALIZED,
	NAP_WHY_DELETING,	     /* NodeClaim or Node has a deletionTimestamp */
	NAP_WHY_IN_FLIGHT,	     /* already being disrupted (taint, condition, queue) */
	NAP_WHY_NOMINATED,	     /* a pod is nominated to the node */
	NAP_WHY_NODE_DO_NOT_DISRUPT, /* annotation on the Node or NodeClaim */
	NAP_WHY_POD_DO_NOT_DISRUPT,
	NAP_WHY_PDB_BLOCKS,	    /* a PDB of one of its pods allows 0 disruptions */
	NAP_WHY_MULTIPLE_PDBS,	    /* a pod is covered by more than one PDB */
	NAP_WHY_CONSOLIDATE_NEVER,  /* consolidateAfter: Never */
	NAP_WHY_NOT_CONSOLIDATABLE, /* consolidateAfter not yet elapsed */
	NAP_WHY_NOT_EMPTY,	    /* holds reschedulable pods (consolidation: issue 15) */
	NAP_WHY_DRIFT_ONE_AT_A_TIME, /* drifted, not empty: another goes first this plan */
	NAP_WHY_BUDGET,		    /* its NodePool's budget for the reason is spent */
	/* consolidation (Underutilized) looked at it and found no command */
	NAP_WHY_UNCONSOLIDATABLE, /* no instance type, zone, capacity type or price known */
	NAP_WHY_WOULD_NOT_FIT,	  /* its pods would not fit elsewhere plus one new node */
	NAP_WHY_NOT_CHEAPER,	  /* the one new node it needs is not strictly cheaper */
	NAP_WHY_SPOT_TO_SPOT,	  /* spot replaced by spot: off, or fewer than 15 cheaper types */
	NAP_WHY_CONSOLIDATED,	  /* nothing changed since consolidation last found nothing */
	NAP_WHY_N
};

/* A stable identifier for records and metrics: "Disrupted", "PodDoNotDisrupt", ... */
const char *nap_disrupt_why_name(enum nap_disrupt_why w);

struct nap_disrupt_verdict {
	char *nodeclaim; /* "" for a Node without NodeClaim */
	char *node;	 /* "" when not registered */
	char *nodepool;	 /* "" when none */
	enum nap_disrupt_why why;
	enum nap_disrupt_reason reason; /* for DISRUPTED, and for BUDGET: the method blocked */
	/*
	 * For a person, naming the object that decided: `pod default/web-1
	 * has karpenter.sh/do-not-disrupt`, `pdb default/web allows 0
	 * disruptions (pod default/web-1)`, `consolidateAfter 5m not elapsed
	 * (3m10s left)`.  Never NULL.
	 */
	char *detail;
	/*
	 * When the verdict will change by the clock alone (epoch ms): the
	 * consolidateAfter instant, a do-not-disrupt duration's end, the
	 * expiry; 0 when no time would change it.  A tool can sleep until the
	 * earliest (nap_disrupt_result.next_ms).
	 */
	int64_t until_ms;
	int expired;		/* creation + expireAfter <= now (independent of why) */
	int empty;		/* no reschedulable pod counted (see above) */
	size_t pods;		/* reschedulable pods on the node */
	double disruption_cost; /* §4.3: Σ eviction cost x lifetime remaining */
	double price;		/* USD/h of its offering; < 0 unknown */
	/* consolidation: price / reschedule disruption cost (§4.3); 0 when not a candidate */
	double savings_ratio;
};

/* One NodeClaim a command removes. */
struct nap_disrupt_candidate {
	char *nodeclaim;
	char *node;	   /* "" when not registered (possible for Expired) */
	char *provider_id; /* "" when not launched */
	char *instance_type, *zone, *capacity_type; /* "" when unknown */
	double price;				    /* USD/h; < 0 unknown */
	double disruption_cost;
	/*
	 * The effective requests of its reschedulable pods, summed (pods =
	 * their count): what a replacement must hold at least.
	 */
	struct nap_res requests;
	char *drift_reason; /* the Drifted condition's reason, "" when not drifted */
};

/* One pod of a command's candidates and where it goes. */
struct nap_disrupt_move {
	char *pod; /* "namespace/name" */
	char *to;  /* a Node's name, or a NodeClaim's (new_claim: a launch record's) */
	int new_claim;
};

/*
 * A command: delete these NodeClaims of one NodePool for one reason.
 * forceful (Expired) commands skip budgets and do-not-disrupt; the drain
 * still honours PDBs until terminationGracePeriod.  Empty and empty
 * Drifted commands need no replacement; a non-empty Drifted command has one
 * candidate and replacements = 1: its candidate may be deleted only once
 * that replacement is Initialized (the caller's orchestration).
 */
struct nap_disrupt_command {
	enum nap_disrupt_reason reason;
	int forceful;
	char *nodepool;
	struct nap_disrupt_candidate *cands;
	size_t ncands;
	/*
	 * How many new NodeClaims must be Initialized before any candidate
	 * may be deleted.  0: delete at once (Empty, Expired, a consolidation
	 * or drift DELETE whose pods fit elsewhere).
	 */
	size_t replacements;
	/*
	 * The replacements themselves: nlaunch LaunchRequest records
	 * (nap-records(5), written by lib/claim: {"type":"LaunchRequest",
	 * "nodeClaim":{..a complete NodeClaim, its name chosen..},"pods":[
	 * "ns/name",..],"price":..}), the pods being the candidates' pods the
	 * simulation put on it.  The command owns them (freed with the
	 * result); a caller keeping one takes a reference (json_object_get).
	 * nlaunch == replacements whenever launch is set; a Drifted command
	 * with replacements > 0 and nlaunch == 0 was not simulated (no
	 * catalog): the caller sizes its replacement itself.  For
	 * consolidation the NodeClaim's instance types are already cut to
	 * those strictly cheaper than the candidates (and capacity type
	 * pinned to spot when spot was possible): launch nothing else.
	 */
	json_object **launch;
	size_t nlaunch;
	/*
	 * Where the simulation put each of the candidates' pods (consolidation
	 * and simulated drift; empty otherwise): the destinations Karpenter
	 * nominates, an existing Node (or in-flight NodeClaim) or one of the
	 * launch records' NodeClaims.
	 */
	struct nap_disrupt_move *moves;
	size_t nmoves;
	double savings;	   /* USD/h: price_before - price_after (unknown prices count 0) */
	int savings_known; /* every candidate's price was known */
	/*
	 * USD/h: Σ candidates' offering prices, and Σ the replacements'
	 * worst-case launch prices (0 when nothing is launched).
	 */
	double price_before, price_after;
};

/* A NodePool's budget state for this plan (for records and metrics). */
struct nap_disrupt_budget {
	char *nodepool;
	int64_t total;	    /* Initialized, not InstanceTerminating */
	int64_t disrupting; /* of total: deleting, NotReady or in flight */
	/*
	 * Per budget reason (enum nap_disrupt_reason < NAP_DISRUPT_NBUDGET_REASONS):
	 * allowed is the most restrictive active budget (INT64_MAX: none
	 * active = unlimited); available = max(allowed - disrupting, 0) before
	 * this plan; used = how many this plan's commands took.
	 * karpenter_nodepools_allowed_disruptions is available.
	 */
	int64_t allowed[NAP_DISRUPT_NBUDGET_REASONS];
	int64_t available[NAP_DISRUPT_NBUDGET_REASONS];
	int64_t used[NAP_DISRUPT_NBUDGET_REASONS];
	/* The first budget of the pool whose schedule does not parse, -1 none (it counts as 0). */
	int bad_budget;
	char *bad_detail; /* why, "" when none */
};

/* Method bits of nap_disrupt_opts.methods. */
#define NAP_DISRUPT_M_EXPIRATION 0x1
#define NAP_DISRUPT_M_EMPTINESS 0x2
#define NAP_DISRUPT_M_DRIFT 0x4
#define NAP_DISRUPT_M_MULTI 0x8  /* multi-node consolidation */
#define NAP_DISRUPT_M_SINGLE 0x10 /* single-node consolidation */
#define NAP_DISRUPT_M_ALL                                                                          \
	(NAP_DISRUPT_M_EXPIRATION | NAP_DISRUPT_M_EMPTINESS | NAP_DISRUPT_M_DRIFT |                \
	    NAP_DISRUPT_M_MULTI | NAP_DISRUPT_M_SINGLE)

/* The most candidates multi-node consolidation considers at once (Karpenter's). */
#define NAP_DISRUPT_MULTI_MAX 100
/* Spot-to-spot single-node consolidation wants this many cheaper types. */
#define NAP_DISRUPT_SPOT_TYPES 15
/* A fruitless consolidation is re-checked after this long even if nothing changed. */
#define NAP_DISRUPT_RECHECK_MS (5 * 60 * 1000)

struct nap_disrupt_opts {
	int64_t now_ms;			   /* the time, epoch ms (required, > 0) */
	unsigned methods;		   /* NAP_DISRUPT_M_*; 0 = all */
	const struct nap_catalog *catalog; /* for prices; NULL = prices unknown */
	/* NodeClaims the caller is already disrupting (its queue); may be NULL. */
	const char *const *queued;
	size_t nqueued;
	/*
	 * Node or NodeClaim names pending pods were recently nominated to
	 * (nap-solve's Nominated records), beside the pods' own
	 * status.nominatedNodeName; may be NULL.  Without them a node
	 * launched for pods that have not bound yet looks empty.
	 */
	const char *const *nominated;
	size_t nnominated;
	/*
	 * Offerings nap-launch found without capacity (OfferingUnavailable),
	 * left out of every simulation while they hold at now_ms, as nap-solve
	 * leaves them out; may be NULL.
	 */
	const struct nap_unavail_set *unavail;
	/* 1: match every pod against its PDBs, without the per-label-set cache. */
	int no_cache;
	/* 1: a spot node may be replaced by a cheaper spot node (Karpenter's feature gate; off). */
	int spot_to_spot;
	/*
	 * The "consolidated" short-circuit.  generation: the caller's count of
	 * cluster changes (0: none kept, consolidation always runs);
	 * consolidated_gen and consolidated_ms: the generation and time of the
	 * last plan whose result said consolidated (0: none).  Consolidation
	 * is skipped while generation == consolidated_gen and now is less than
	 * NAP_DISRUPT_RECHECK_MS after consolidated_ms.
	 */
	uint64_t generation, consolidated_gen;
	int64_t consolidated_ms;
	/*
	 * At most this many scheduler runs for single-node consolidation per
	 * plan (0: no limit), Karpenter's 3-minute timeout made deterministic:
	 * the candidates left get verdict Candidate and the plan is not
	 * consolidated.  single_from: the nodeclaim to start the walk at
	 * (the previous result's single_next; NULL or unknown: the first),
	 * the walk wrapping around, so a large fleet is walked over passes.
	 */
	size_t max_simulations;
	const char *single_from;
	/*
	 * Validation (§4.6): instead of choosing, check this command of an
	 * earlier plan again (an Empty or Underutilized one, some 15 s later,
	 * before acting on it).  Every candidate must still pass the candidate
	 * checks (Empty: those that do not are dropped, as Karpenter's
	 * emptiness does) and its pool's budget; Underutilized is simulated
	 * again: a delete must still need no new node, a replacement exactly
	 * one, listing at least the instance types the command listed.  The
	 * result then holds the command again (fresh launch records) as its
	 * only command, or none and invalid says why.  Expiration and the
	 * methods do not run.
	 */
	const struct nap_disrupt_command *validate;
	/*
	 * 1: also compute the whole-pod LP bound of the pods the fleet runs
	 * (lib/bound, as nap-cost does) into the result; it costs a solve.
	 */
	int bound;
};

struct nap_disrupt_result {
	int64_t now_ms;
	struct nap_disrupt_command *cmds; /* Expired first, then the graceful method's */
	size_t ncmds;
	/* One per NodeClaim, by name, then one per Node without NodeClaim, by name. */
	struct nap_disrupt_verdict *verdicts;
	size_t nverdicts;
	struct nap_disrupt_budget *budgets; /* one per NodePool, sorted by name */
	size_t nbudgets;
	/* The earliest until_ms > now over the verdicts and budget windows; 0 none. */
	int64_t next_ms;
	/* The graceful method that produced commands (its reason), or -1 when none. */
	int method;
	/*
	 * 1: consolidation ran, found nothing, and no budget held a node back:
	 * the caller keeps opts.generation and now for the next plan's
	 * short-circuit.  skipped_consolidated: this plan skipped it so.
	 */
	int consolidated, skipped_consolidated;
	size_t simulations; /* scheduler runs consolidation made */
	/* the candidate single-node stopped before at max_simulations (NULL none), for opts.single_from */
	char *single_next;
	/* opts.validate: why the command no longer holds, NULL when it does */
	char *invalid;
	/*
	 * The fleet: Σ the offering prices of the NodeClaims not being
	 * deleted (USD/h; fleet_unknown counts those whose price is unknown),
	 * and with opts.bound the whole-pod LP bound of the pods bound to
	 * nodes (bound < 0: not computed).
	 */
	double fleet_price, bound;
	size_t fleet_unknown;
};

int nap_disrupt_plan(const struct nap_cluster *c, const struct nap_disrupt_opts *o,
    struct nap_disrupt_result *out, struct nap_err *err);
void nap_disrupt_result_free(struct nap_disrupt_result *r);

/*
 * Records (nap-records(5)).  A Disruption record for one command:
 * {"type":"Disruption","reason":"Empty","forceful":false,"nodePool":"default",
 *  "nodeClaims":[{"name":..,"node":..,"providerID":..,"instanceType":..,
 *  "zone":..,"capacityType":..,"price":..}],"replacements":0,
 *  "savings":0.192,"priceBefore":0.192,"priceAfter":0,
 *  "launch":[LaunchRequest..],"fleet":{..as in DisruptionSummary..},
 *  "budget":{"total":..,"disrupting":..,"allowed":..,
 *  "available":..},"time":"2026-..Z"}; savings is null when a price is
 * unknown, budget is absent for Expired, allowed null when unlimited,
 * launch is absent when nothing is launched, fleet.bound null when not
 * computed.
 */
json_object *nap_disrupt_command_json(
    const struct nap_disrupt_result *r, const struct nap_disrupt_command *cmd);
/*
 * A DisruptionVerdict record for one verdict:
 * {"type":"DisruptionVerdict","nodeClaim":..,"node":..,"nodePool":..,
 *  "decision":"Disrupted"|"NotDisrupted","why":"PodDoNotDisrupt",
 *  "reason":"Empty"(when Disrupted, Budget or DriftOneAtATime),"detail":..,
 *  "until":"..Z"(when until_ms),"expired":..,"empty":..,"pods":..,
 *  "disruptionCost":..,"price":..(null when unknown),"time":..}
 */
json_object *nap_disrupt_verdict_json(
    const struct nap_disrupt_result *r, const struct nap_disrupt_verdict *v);

/*
 * A DisruptionSummary record for the whole plan (nap-disrupt --dry-run
 * ends with it):
 * {"type":"DisruptionSummary","commands":1,"method":"Underutilized"|null,
 *  "consolidated":false,"simulations":7,"fleet":{"price":..,"after":..,
 *  "unknownPrices":0,"bound":..,"ratio":..,"ratioAfter":..},"time":..}:
 * the fleet's $/h now and after this plan's commands, and (with
 * opts.bound) against the whole-pod LP bound of the pods it runs, the
 * cheapest any packing of them could cost; bound and ratios null when not
 * computed.
 */
json_object *nap_disrupt_summary_json(const struct nap_disrupt_result *r);

#endif
