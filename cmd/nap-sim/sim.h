/*
 * sim.h - the contract between nap-sim's core (HTTPS serving, the Kubernetes
 * API server and its store: main.c http.c store.c kapi.c watch.c patch.c
 * discovery.c controllers.c tls.c) and its world (ARM, token endpoint,
 * scheduler, kubelets, faults: arm.c token.c sched.c kubelet.c fault.c
 * world.c world.h).
 *
 * Threading: everything runs on ONE thread, the main loop in main.c, which
 * drives libmicrohttpd, the timers and the change queue.  Nothing here is
 * locked and nothing may be called from another thread or a signal handler.
 *
 * Objects: Kubernetes objects are json_object trees owned by the store.  A
 * stored object is never modified in place: every write stores a new tree,
 * so a pointer obtained from sim_get() or sim_foreach() is a read-only
 * snapshot that stays valid until the next store call (take a reference
 * with json_object_get() to keep it longer).  To change an object, copy it
 * with sim_dup(), edit the copy and hand it to sim_update().
 *
 * Resources are named by their plural lower-case resource name as in URLs
 * ("pods", "nodes", "nodeclaims", "aksnodeclasses", "events", ...).
 * Cluster-scoped resources take ns NULL (or ""); namespaced ones need ns.
 *
 * Errors: store calls return 0 or -1 and fill err with the HTTP status in
 * err->http (404, 409, 422 ...), an exit code in err->code and a message in
 * the Kubernetes Status form ("pods \"x\" not found").
 *
 * Time: sim_now() is real monotonic seconds; the world runs on simulated
 * seconds, which pass --time-scale times faster.  sim_after() takes
 * simulated seconds.  Timestamps written into objects are real wall-clock
 * UTC (sim_rfc3339()).
 */
#ifndef NAP_SIM_H
#define NAP_SIM_H

#include <stddef.h>
#include <json-c/json.h>

#include "nap.h"

struct sim; /* the world; one per process */

/* Every command-line option; main.c fills it, sim_world_init() reads it. */
struct sim_opts {
	/* serving */
	const char *listen;			 /* address, default 127.0.0.1 */
	int allow_remote;			 /* --allow-remote: a non-loopback listen is meant */
	int port;				 /* Kubernetes API (HTTPS), 0 = ephemeral */
	int arm_port;				 /* ARM + token endpoint (HTTPS), 0 = ephemeral */
	int insecure_port;			 /* plain HTTP serving both by path, -1 = off */
	const char *tls_cert, *tls_key, *tls_ca; /* PEM files; NULL = generate */
	const char *token;			 /* Kubernetes bearer token; NULL = generate */
	const char *kubeconfig_out;		 /* written once ready */
	const char *config_out;			 /* nap.yaml written once ready */
	const char *ca_out;			 /* CA PEM written once ready (for caFile) */
	const char *state;			 /* state file, loaded at start, saved at exit */
	int force;				 /* replace existing *_out files */
	const char *kubernetes_version;		 /* "v1.32.4" style, for /version and nodes */
	size_t max_body;			 /* request size cap, 413 above it */
	size_t history;				 /* watch history events kept (410 beyond) */
	double continue_ttl;			 /* real seconds a continue token lives */
	int watch_410_http;			 /* too-old watch: HTTP 410, not an ERROR event */
	int verbose;

	/* the simulated cluster and subscription */
	const char *cluster_name;   /* default "nap-sim" */
	const char *region;	    /* default "eastus" */
	const char *subscription;   /* default 00000000-0000-0000-0000-000000000000 */
	const char *resource_group; /* node resource group, default MC_nap-sim_nap-sim_<region> */
	const char *subnet_id;	    /* default a vnet/subnet in resource_group */
	const char *tenant;	    /* default 00000000-...; token POST path */
	const char *catalog;	    /* catalog file or dir; NULL = installed data */

	/* the clock and the world (H7) */
	double time_scale;   /* --time-scale, default 1 */
	double boot_time;    /* simulated seconds, VM Running -> Node Ready, default 90 */
	double lro_time;     /* simulated seconds an ARM LRO takes, default 10 */
	unsigned long seed;  /* --seed, default 1 */
	const char **faults; /* --fault SPEC, repeatable, raw for the world to parse */
	size_t nfaults;
	const char **world_args; /* --world KEY=VALUE, repeatable, raw */
	size_t nworld_args;
};

/* One HTTP request as the handlers see it; everything borrowed for the call. */
struct sim_req {
	const char *method; /* "GET", "PUT" ... */
	const char *path;   /* decoded path, no query */
	const char *query;  /* raw query string without '?', "" if none */
	const char *body;   /* NUL-terminated for convenience; may hold NULs */
	size_t body_len;
	const char *content_type;  /* NULL if absent */
	const char *authorization; /* NULL if absent */
	int port_kind;		   /* SIM_PORT_KUBE, SIM_PORT_ARM or SIM_PORT_INSECURE */
	void *conn;		   /* core-private (header lookup) */
};

enum { SIM_PORT_KUBE = 1, SIM_PORT_ARM = 2, SIM_PORT_INSECURE = 3 };

#define SIM_RESP_MAX_HEADERS 8

/*
 * A response being built.  The core zeroes it before a handler runs and
 * frees everything in it after sending: body and every header string are
 * owned by the response (heap, from nap_x* or json-c's strdup).
 */
struct sim_resp {
	int status;
	char *body;
	size_t body_len;
	const char *content_type;	      /* static string; default application/json */
	char *retry_after;		      /* Retry-After value, or NULL */
	char *azure_async_operation;	      /* Azure-AsyncOperation URL, or NULL */
	char *location;			      /* Location URL, or NULL */
	char *hdr_name[SIM_RESP_MAX_HEADERS]; /* further headers, see sim_resp_header() */
	char *hdr_value[SIM_RESP_MAX_HEADERS];
	int nhdr;
	double delay; /* REAL seconds to hold the answer (latency faults) */
	int drop;     /* close the connection without answering */
	void *stream; /* core-private: a watch to stream */
};

/* Serialise body (taken: its reference is released) as the response. */
void sim_resp_json(struct sim_resp *resp, int status, json_object *body);
/* A Kubernetes metav1.Status failure body: code, reason ("NotFound",
 * "Conflict", "TooManyRequests" ...), message. */
void sim_resp_status(struct sim_resp *resp, int code, const char *reason, const char *fmt, ...)
    NAP_PRINTF(4, 5);
/* Add a header (both strings copied); silently ignored past the limit. */
void sim_resp_header(struct sim_resp *resp, const char *name, const char *value);

/* A request header by case-insensitive name, NULL if absent. */
const char *sim_req_header(const struct sim_req *req, const char *name);
/* A decoded query parameter, NULL if absent. */
const char *sim_req_query(const struct sim_req *req, const char *key);

/*
 * The simulator's one secret (the bearer token in the kubeconfig it
 * writes): 1 when s is it, compared in constant time; sim_req_admin when
 * the request's Authorization is "Bearer <it>".  Everything that grants
 * something (the Kubernetes API, the fault control, both token endpoints)
 * asks for it.
 */
int sim_secret_ok(const struct sim *sim, const char *s);
int sim_req_admin(const struct sim *sim, const struct sim_req *req);

/*
 * The safety counters of GET /nap-sim/stats, as nap-sim(1) defines them;
 * DELETE /nap-sim/stats zeroes them.
 */
struct sim_stats {
	unsigned long pdb_violations;	       /* pod deletions a budget forbade */
	unsigned long deadline_pod_deletions;  /* the same, on the deadline path */
	unsigned long do_not_disrupt_evicted;  /* evictions of do-not-disrupt pods */
	unsigned long evictions;	       /* evictions granted */
	unsigned long evictions_refused;       /* evictions answered 429 */
	unsigned long vms_deleted;	       /* ARM VM DELETEs of a VM that existed */
	unsigned long vms_deleted_with_pods;   /* ... while drainable pods were bound */
	unsigned long vms_deleted_past_deadline; /* ... the same, after the deadline */
};
struct sim_stats *sim_stats(struct sim *sim);
json_object *sim_stats_json(struct sim *sim);
/* 1 when the node has a pod bound that a drain must move first (no
 * DaemonSet pod, no mirror pod, none Succeeded or Failed). */
int sim_node_has_drainable(struct sim *sim, const char *node);
int sim_node_past_deadline(struct sim *sim, const char *node);

/* The clock. */
double sim_scale(const struct sim *sim);   /* --time-scale N */
double sim_now(const struct sim *sim);	   /* real monotonic seconds */
double sim_elapsed(const struct sim *sim); /* simulated seconds since start */
/* Real wall-clock UTC as "2026-11-27T20:49:24Z" into buf (at least 32 bytes). */
void sim_rfc3339(const struct sim *sim, char *buf, size_t size);
/* The same for wall-clock seconds since the epoch. */
void sim_rfc3339_at(long long t, char *buf, size_t size);


/*
 * Timers on the main loop: fn(sim, arg) runs once, sim_seconds SIMULATED
 * seconds from now (real delay = sim_seconds / time scale).  Returns an id
 * for sim_cancel() (never 0).  Timers with equal due times run in the order
 * they were set.  arg is the caller's; the core never frees it.
 */
unsigned long sim_after(
    struct sim *sim, double sim_seconds, void (*fn)(struct sim *, void *), void *arg);
void sim_cancel(struct sim *sim, unsigned long id);
/* sim_after whose arg the core frees with free_arg if it never runs. */
unsigned long sim_after_owned(struct sim *sim, double sim_seconds, void (*fn)(struct sim *, void *),
    void *arg, void (*free_arg)(void *));

/* Options as parsed, and the world's private state (H7 sets it in init). */
const struct sim_opts *sim_options(const struct sim *sim);
void *sim_world(const struct sim *sim);
void sim_set_world(struct sim *sim, void *world);

/* The endpoints as clients reach them ("https://127.0.0.1:PORT"). */
const char *sim_kube_url(const struct sim *sim);
const char *sim_arm_url(const struct sim *sim);

/*
 * The Kubernetes store.  Every write bumps the one resourceVersion counter,
 * sets metadata.resourceVersion, fans the change out to watchers and queues
 * it for sim_world_on_change(), and returns the stored object (borrowed,
 * may be NULL when the caller passes out = NULL).
 *
 * sim_create: fills uid, creationTimestamp, namespace, name from
 *   generateName, generation 1, the resource's apiVersion/kind if absent and
 *   Karpenter's CRD defaults; 409 AlreadyExists.
 * sim_update: replaces the object whole.  If obj carries a
 *   metadata.resourceVersion that is not the stored one: 409 Conflict; if it
 *   carries none the update is unconditional.  uid and creationTimestamp are
 *   kept; generation is bumped when spec changed.  An update that leaves a
 *   deleting object without finalizers removes it.
 * sim_delete: with finalizers the object gets deletionTimestamp and stays
 *   until an update removes the last finalizer; otherwise it goes at once
 *   (a pod as if force-deleted, grace 0: pod garbage collection).  404 if
 *   absent.  An update may remove finalizers from a deleting object, not
 *   add one (422).
 */
json_object *sim_get(struct sim *sim, const char *resource, const char *ns, const char *name);
int sim_create(struct sim *sim, const char *resource, json_object *obj, json_object **out,
    struct nap_err *err);
int sim_update(struct sim *sim, const char *resource, json_object *obj, json_object **out,
    struct nap_err *err);
int sim_delete(
    struct sim *sim, const char *resource, const char *ns, const char *name, struct nap_err *err);
/* Visit each object (in name order within a namespace); fn returns nonzero
 * to stop.  fn must not write to the store (collect, then write). */
void sim_foreach(struct sim *sim, const char *resource, const char *ns_or_NULL,
    int (*fn)(struct sim *, json_object *, void *), void *arg);
size_t sim_count(struct sim *sim, const char *resource);
/* A deep copy, owned by the caller. */
json_object *sim_dup(json_object *obj);
/* 1 while writes wait for the change handlers (the world's among them). */
int sim_changes_pending(const struct sim *sim);
/* The current resourceVersion counter. */
unsigned long long sim_rv(const struct sim *sim);
/* Record a core/v1 Event about obj (borrowed): type "Normal"/"Warning". */
void sim_event(struct sim *sim, json_object *obj, const char *type, const char *reason,
    const char *fmt, ...) NAP_PRINTF(5, 6);

/* Hooks for faults on the Kubernetes side. */
void sim_watch_drop_all(struct sim *sim); /* close every open watch now */
void sim_watch_compact(struct sim *sim);  /* horizon := now: resumes get 410 */

/*
 * Hooks the world implements (H7) and the core calls.
 *
 * sim_token_handle, sim_arm_handle: requests on the ARM port (and ARM-shaped
 *   paths on the insecure port); the core tries the token endpoint first.
 *   Return 1 if the request was answered into resp, 0 if it is not theirs
 *   (the core then answers 404).
 * sim_fault_k8s: asked before every Kubernetes request; 1 = the fault
 *   answered it (resp filled, or resp->drop set), 0 = serve normally.
 * sim_world_init: after the core is set up, before serving and before
 *   sim_world_load.
 * sim_world_tick: about every 100 ms real time.
 * sim_world_on_change: after every stored change, from the main loop (not
 *   inside the sim_* write call), in resourceVersion order; type is
 *   "ADDED", "MODIFIED" or "DELETED"; obj is the version of that change,
 *   borrowed for the call (it may already be superseded).  It may write.
 * sim_world_save: the world's state for --state, a new reference or NULL.
 * sim_world_load: restore from what save returned (borrowed).
 * sim_world_fini: at exit, after save; free the world.
 */
int sim_token_handle(struct sim *sim, const struct sim_req *req, struct sim_resp *resp);
int sim_arm_handle(struct sim *sim, const struct sim_req *req, struct sim_resp *resp);
int sim_fault_k8s(struct sim *sim, const struct sim_req *req, struct sim_resp *resp);
void sim_world_init(struct sim *sim, const struct sim_opts *opts);
void sim_world_tick(struct sim *sim);
void sim_world_on_change(struct sim *sim, const char *resource, const char *type, json_object *obj);
json_object *sim_world_save(struct sim *sim);
void sim_world_load(struct sim *sim, json_object *state);
void sim_world_fini(struct sim *sim);

#endif
