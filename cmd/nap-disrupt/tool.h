/*
 * tool.h - nap-disrupt's state: the cluster model its state records keep,
 * the clients it acts through, and what termination remembers between
 * passes.
 *
 * Termination is restart-safe: every decision is taken from the model (the
 * API server's truth as the watch delivers it).  What lives only here is a
 * courtesy to the API server: per-pod eviction backoff, the VM deletions in
 * flight, and when each draining node was first seen tainted (the minimum
 * drain time).  Losing it all on a restart costs a few repeated requests,
 * never a wrong action.  Events are deduplicated by lib/events (obs.c).
 *
 * Everything runs on one thread: Kubernetes writes are short blocking
 * requests, ARM deletions are asynchronous calls (lib/arm) followed from the
 * main loop.
 */
#ifndef NAP_DISRUPT_TOOL_H
#define NAP_DISRUPT_TOOL_H

#include <stdint.h>
#include <json-c/json.h>

#include "arm.h"
#include "auth.h"
#include "bound.h"
#include "catalog.h"
#include "config.h"
#include "disrupt.h"
#include "hash.h"
#include "http.h"
#include "kube.h"
#include "model.h"
#include "vm.h"

/* A VM being deleted, with its NIC and OS disk (vm.c over lib/vm). */
struct vmdel {
	char *name;
	struct nap_vm_del *del; /* the deletion under way, NULL between attempts */
	int gone;		/* VM, NIC and disk answered NotFound */
	int64_t retry_ms;	/* wall clock: not before this after a failure */
	unsigned failures;
};

/* Per pod (by uid): when the next eviction may be tried. */
struct podwait {
	int64_t next_ms;
	int64_t backoff_ms;
	/*
	 * Deleted for the deadline, accepted: not again, though the watch may
	 * not show it yet (the passes now outrun it, events being off the
	 * loop), nor when the grace rounded up to 1 s ends past the deadline.
	 */
	int forced;
};

struct ctx {
	struct nap_config cfg;
	struct nap_http *http;
	struct nap_kube *kube; /* NULL with --dry-run */
	struct nap_auth *auth;
	struct nap_arm *arm;
	struct nap_cluster *cl;
	struct nap_http_tls tls;
	double scale;	   /* --time-scale */
	int64_t now_fixed; /* --now, epoch ms; 0 = the clock */
	int dry_run;
	int synced;
	int64_t plan_every_ms; /* unscaled */
	int64_t next_plan_ms;  /* wall clock */
	int64_t next_term_ms;
	struct nap_hash vms;	 /* VM name -> struct vmdel */
	struct nap_hash waits;	 /* pod uid -> struct podwait */
	struct nap_hash tainted; /* node uid -> int64_t *: first pass that saw it tainted */
	struct nap_hash done; /* uid -> int64_t *: finalizer dropped at (stale records ignored) */
	int64_t next_purge_ms;
	struct nap_catalog *cat; /* prices for records; NULL = unknown */
	/* offerings nap-launch found without capacity (OfferingUnavailable), for the simulation */
	struct nap_unavail_set unavail;
	char **queued; /* NodeClaims this process deleted, not yet seen deleting */
	int64_t *queued_at;
	size_t nqueued, aqueued;
	struct nap_hash nominated; /* node or NodeClaim name -> int64_t *: nominated until */
	struct nap_hash seen_repl; /* replacement NodeClaims seen in the model (replace.c) */
	/* commands waiting for validation, all due at once (plan.c's copies) */
	struct nap_disrupt_command *pend;
	size_t npend;
	int64_t pend_due_ms; /* decisions' clock: the first pass at or after it validates */
	/* consolidation's short-circuit (lib/disrupt): records applied, and the last fruitless pass */
	uint64_t generation, consolidated_gen;
	int64_t consolidated_ms;
	/* single-node consolidation: runs a pass (0: no limit), and where the next pass starts */
	size_t max_simulations;
	char *single_next;
	/* the fleet's whole-pod bound, kept on generation (plan.c) */
	struct nap_bound_fleet_cache bound_cache;
	int fatal;
	/* counters, for messages and tests */
	unsigned long nevicted, nblocked, nforced, nvm_deleted, nfinalized, ncommands;
};

/* main.c */
int64_t wall_ms(void);
/* The clock decisions use: --now, else the wall clock (epoch ms). */
int64_t now_ms(const struct ctx *x);
/* d (a duration in ms as written in objects) as wall-clock ms under --time-scale. */
int64_t scaled(const struct ctx *x, int64_t d);

/* term.c: the termination owner. */
void term_pass(struct ctx *x);

/* vm.c: VM, NIC and OS disk deletion until NotFound. */
/* 1 when the VM and its parts are gone, else 0 (in progress; failures are retried). */
int vm_delete(struct ctx *x, const char *vm);
void vm_arm_done(struct ctx *x, struct nap_arm_call *call);
void vm_forget(struct ctx *x, const char *vm);
void vm_free_all(struct ctx *x);

/* kact.c: Kubernetes writes. */
int k_delete(
    struct ctx *x, const char *path, const char *uid, int64_t grace_s, struct nap_err *err);
int k_evict(struct ctx *x, const struct nap_pod *p, struct nap_err *err);
int k_drop_finalizer(
    struct ctx *x, const char *path, const struct nap_meta *m, struct nap_err *err);
int k_add_finalizer(struct ctx *x, const char *path, const struct nap_meta *m, struct nap_err *err);
int k_annotate(
    struct ctx *x, const char *path, const char *key, const char *val, struct nap_err *err);
int k_taint_disrupted(struct ctx *x, const struct nap_node *n, struct nap_err *err);
/* ms since the epoch as RFC 3339 UTC, whole seconds ("2026-12-07T13:00:00Z"). */
void rfc3339(int64_t ms, char *buf, size_t len);
char *path_node(const char *name);
char *path_nodeclaim(const char *name);
char *path_pod(const char *ns, const char *name);

/*
 * replace.c: replacement first.  replace_command: for a command that needs
 * replacements, 2 when they were started (plan.c queues its candidates), 1
 * when it is held; 0 for any other command (plan.c carries it out).
 * replace_pass: follow the started ones from the model (delete the
 * candidates once all their replacements are Initialized, or give up).
 * replace_nominated: the replacements in flight (new strings in a new
 * array, the caller frees both), which the planner treats as nominated.
 * replace_free: what replace_pass remembers, at exit.
 */
int replace_command(
    struct ctx *x, const struct nap_disrupt_result *r, const struct nap_disrupt_command *cmd);
void replace_pass(struct ctx *x);
void replace_nominated(const struct ctx *x, char ***names, size_t *n);
void replace_free(struct ctx *x);

/* plan.c: the disruption loop. */
void plan_pass(struct ctx *x);
void plan_dry_run(struct ctx *x);
void plan_free(struct ctx *x);
/* A Nominated record's node (or NodeClaim): not disrupted for the nomination window. */
void plan_nominated(struct ctx *x, const char *node);

/*
 * obs.c: metrics and Events (lib/observe, lib/events).  Every call is a
 * no-op before obs_start (--dry-run); the events go from a thread of their
 * own and never hold up termination.
 */
/* --metrics-file, --metrics-listen and --no-events, before obs_start. */
void obs_option(const char *name, const char *arg);
void obs_start(struct ctx *x, const char *kubeconfig, const char *context);
/* A record read (type), or a malformed line (malformed 1). */
void obs_read(const char *type, int malformed);
/* An Event on the object, deduplicated in Karpenter's window for the reason (scaled). */
void obs_event(struct ctx *x, const char *kind, const char *api_version, const struct nap_meta *on,
    const char *type, const char *reason, const char *fmt, ...) NAP_PRINTF(7, 8);
/*
 * A planner pass and how long it took: budgets, eligible nodes, HTTP
 * answers, the fleet's $/h and its bound (r->bound < 0: unknown).
 */
void obs_plan(struct ctx *x, const struct nap_disrupt_result *r, double seconds);
/* A command acted on, and each of its NodeClaims deleted. */
void obs_command(const struct nap_disrupt_command *cmd);
void obs_disrupted(const struct nap_disrupt_command *cmd, const struct nap_disrupt_candidate *cd);
/* An eviction of a pod on n answered http (0: no answer); a 2xx drained it. */
void obs_evicted(struct ctx *x, const struct nap_node *n, int http);
/* A pod deleted to meet its node's deadline. */
void obs_forced(void);
/* The finalizer of a Node or NodeClaim dropped: terminated. */
void obs_finished(struct ctx *x, const char *kind, const struct nap_meta *m);
void obs_stop(void);

#endif
