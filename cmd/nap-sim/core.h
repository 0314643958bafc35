/*
 * core.h - what the files of nap-sim's core share among themselves (the
 * world sees only sim.h).  The struct sim lives here; the store, the
 * watchers, the timers and the HTTP daemons hang off it.
 *
 * Ownership follows sim.h: stored objects are immutable json_object trees
 * owned by the store; history events, watchers and queued changes hold
 * their own references.  Functions that can fail return 0 / -1 and fill a
 * struct nap_err whose http member is the HTTP status to answer with.
 */
#ifndef NAP_SIM_CORE_H
#define NAP_SIM_CORE_H

#include <stdint.h>

#include "hash.h"
#include "sim.h"

/* One kind of object the API server serves. */
struct sim_rdesc {
	const char *group;	 /* "" for core */
	const char *version;	 /* preferred version */
	const char *alt_version; /* a second served version, or NULL */
	const char *resource;	 /* plural */
	const char *singular;
	const char *kind;
	const char *short_names; /* comma-separated, or NULL */
	const char *categories;	 /* comma-separated, or NULL */
	int namespaced;
	int has_status;	   /* status subresource */
	int has_scale;	   /* scale subresource */
	int crd;	   /* served as a CustomResourceDefinition too */
	const char *verbs; /* comma-separated */
};

extern const struct sim_rdesc sim_rdescs[];
extern const size_t sim_nrdescs;
int sim_rdesc_find(const char *resource); /* index or -1 */
int sim_rdesc_find_gv(const char *group, const char *version, const char *resource);

/* One object in the store's per-resource sorted index. */
struct sim_entry {
	char *key; /* "ns/name" or "name" */
	json_object *obj;
};

struct sim_table {
	struct sim_entry *v;
	size_t n, alloc;
};

/* One change, kept in the history ring for watch resumption. */
struct sim_event {
	unsigned long long rv;
	int res;	  /* index in sim_rdescs */
	int type;	  /* SIM_EV_* */
	json_object *obj; /* the version of this change */
	json_object *old; /* the previous version (MODIFIED), or NULL */
};

enum { SIM_EV_ADDED, SIM_EV_MODIFIED, SIM_EV_DELETED };
extern const char *const sim_ev_names[];

struct sim_timer {
	double due; /* real monotonic seconds */
	unsigned long id;
	unsigned long seq;
	void (*fn)(struct sim *, void *);
	void *arg;
	void (*free_arg)(void *); /* for timers pending at exit, or NULL */
};

struct sim_watch;
struct sim_conn;
struct sim_http;

struct sim_cont { /* a live continue token's snapshot */
	char *token;
	double expires;
	unsigned long long rv;
	json_object *items; /* array of remaining items */
	size_t pos;
};

struct sim {
	struct sim_opts opts;
	double t0; /* monotonic start */

	struct sim_table *tables; /* one per sim_rdescs entry */
	unsigned long long rv;

	struct sim_event *hist; /* ring */
	size_t hist_cap, hist_start, hist_n;
	unsigned long long horizon; /* oldest RV a watch may resume from */

	struct sim_event *changes; /* queue for controllers and the world */
	size_t nchanges, changes_alloc, changes_head;

	struct sim_timer *timers; /* binary heap */
	size_t ntimers, timers_alloc;
	unsigned long timer_ids, timer_seq;

	struct sim_watch *watches; /* doubly linked */

	struct sim_cont *conts;
	size_t nconts, conts_alloc;
	unsigned long cont_seq;

	struct sim_http *http;
	char *kube_url, *arm_url, *insecure_url;
	char *token;
	char *ca_pem, *cert_pem, *key_pem;
	void *world;
	unsigned long uid_seq;
	int ready;
	struct nap_hash event_keys; /* sim_event dedup: what happened -> "ns/name" */
	double events_gc;	    /* when old events were last collected */
	int watch_dirty;	    /* some watch has unsent events */
	double watch_flushed;	    /* when parked watchers were last woken */
	struct nap_hash deferred;   /* owners to reconcile once the queue drains */
	struct nap_hash terminating; /* pod uid -> struct sim_term, while in its grace */
	struct sim_stats stats;	     /* GET /nap-sim/stats */
};

/* When a terminating pod's grace began, so a shorter grace counts from it. */
struct sim_term {
	double start;	 /* simulated seconds (sim_elapsed) */
	long long wall;	 /* wall-clock seconds since the epoch */
};

/* store.c */
void sim_store_init(struct sim *sim);
void sim_store_free(struct sim *sim);
struct sim_table *sim_table(struct sim *sim, int res);
struct sim_entry *sim_table_find(struct sim_table *t, const char *key);
char *sim_key(const char *ns, const char *name);
int sim_create_res(
    struct sim *sim, int res, json_object *obj, json_object **out, struct nap_err *err);
int sim_update_res(
    struct sim *sim, int res, json_object *obj, json_object **out, struct nap_err *err);
int sim_delete_res(struct sim *sim, int res, const char *ns, const char *name, json_object **out,
    struct nap_err *err);
/*
 * DELETE as the API server does it: grace < 0 = the object's default.  A
 * bound pod deleted with a grace period gets deletionTimestamp (now +
 * grace) and deletionGracePeriodSeconds and goes when its containers stop
 * (sim.nap.dev/shutdown-seconds, default 1) or its grace ends, as if its
 * kubelet confirmed; a second DELETE only shortens the grace.  *last: a new
 * reference to the object's last state.
 */
int sim_delete_graceful(struct sim *sim, int res, const char *ns, const char *name, long grace,
    json_object **last, struct nap_err *err);
/* Pods loaded terminating from --state finish their grace from now. */
void sim_store_resume_terminating(struct sim *sim);
/* Remove at once, finalizers or not. */
void sim_remove(struct sim *sim, int res, const char *key);
void sim_changes_drain(struct sim *sim);
/* Events older than an hour go, as the API server's event TTL has them. */
void sim_events_gc(struct sim *sim);
json_object *sim_store_save(struct sim *sim);
int sim_store_load(struct sim *sim, json_object *state, struct nap_err *err);
int sim_err_status(struct nap_err *err, int http, const char *fmt, ...) NAP_PRINTF(3, 4);
/* "pods" or "nodepools.karpenter.sh" as Status messages name a resource. */
const char *sim_qualified(int res, char *buf, size_t size);

/* select.c */
struct sim_lsel;
struct sim_fsel;
int sim_lsel_parse(const char *s, struct sim_lsel **out, struct nap_err *err);
int sim_lsel_match(const struct sim_lsel *sel, json_object *obj);
void sim_lsel_free(struct sim_lsel *sel);
int sim_fsel_parse(const char *s, int res, struct sim_fsel **out, struct nap_err *err);
int sim_fsel_match(const struct sim_fsel *sel, json_object *obj);
void sim_fsel_free(struct sim_fsel *sel);
/* metav1.LabelSelector object: NULL matches nothing, {} everything. */
int sim_labelselector_match(json_object *selector, json_object *obj);

/* watch.c */
void sim_watch_event(struct sim *sim, const struct sim_event *ev);
void sim_watch_tick(struct sim *sim);
/* Wake watchers with new events; returns when to call again (or -1). */
double sim_watch_flush(struct sim *sim, int force);
void sim_watch_close_all(struct sim *sim);
struct sim_watch *sim_watch_new(struct sim *sim, int res, const char *ns, struct sim_lsel *lsel,
    struct sim_fsel *fsel, int bookmarks, double timeout);
int sim_watch_start(struct sim *sim, struct sim_watch *w, const char *rv, struct nap_err *err);
void sim_watch_free(struct sim *sim, struct sim_watch *w);
void sim_watch_initial_end(struct sim *sim, struct sim_watch *w);
/* For http.c: copy up to max pending bytes; 0 = nothing now, -1 = ended. */
long sim_watch_read(struct sim_watch *w, char *buf, size_t max);
void sim_watch_attach(struct sim_watch *w, void *conn, void (*wake)(void *conn));
void sim_watch_set_waiting(struct sim_watch *w, int on);

/* patch.c */
int sim_patch_merge(json_object **target, json_object *patch);
int sim_patch_json(json_object **target, json_object *ops, struct nap_err *err);
int sim_patch_strategic(json_object **target, json_object *patch, struct nap_err *err);

/* protobuf.c: a "k8s\0" envelope into JSON (kind and apiVersion set). */
int sim_pb_decode(const char *buf, size_t len, json_object **out, struct nap_err *err);

/*
 * rbac.c: the defaults and validation of the rbac.authorization.k8s.io
 * kinds for obj (modified in place) against old (the stored version on
 * update, or NULL).  0 when obj may be stored or res is no RBAC kind; -1
 * with err->http 422 (invalid) or 400 (a field of the wrong JSON type).
 */
int sim_rbac_admit(int res, json_object *obj, json_object *old, struct nap_err *err);

/* kapi.c */
void sim_kapi_handle(struct sim *sim, const struct sim_req *req, struct sim_resp *resp);
/* A Status failure from a filled nap_err. */
void sim_resp_err(struct sim_resp *resp, const struct nap_err *err);

/* table.c: kubectl get's Tables */
int sim_wants_table(const struct sim_req *req);
json_object *sim_table_of(int res, json_object *items, const char *rv, const char *cont);
void sim_watch_set_table(struct sim_watch *w);

/* discovery.c */
int sim_discovery_handle(struct sim *sim, const struct sim_req *req, struct sim_resp *resp);
json_object *sim_crd_object(int res);

/* controllers.c */
void sim_controllers_init(struct sim *sim);
void sim_controllers_on_change(struct sim *sim, const struct sim_event *ev);
/* Reconcile the owners on_change deferred; 1 if there were any. */
int sim_controllers_flush(struct sim *sim);
int sim_pdb_evict_check(struct sim *sim, json_object *pod, struct sim_resp *resp);
/* 1 when pod counts as healthy for a budget that has no disruption left. */
int sim_pdb_blocks(struct sim *sim, json_object *pod);
/*
 * 1 when the termination deadline of the node pod is bound to
 * (karpenter.sh/nodeclaim-termination-timestamp on the Node or on the
 * NodeClaim that owns it) falls within grace seconds from now: the drain's
 * forced path, which PDBs do not hold.
 */
int sim_past_deadline(struct sim *sim, const char *node, long grace);
/* The counters a pod deletion moves: pdbViolations or deadlinePodDeletions. */
void sim_count_pod_delete(struct sim *sim, json_object *pod, long grace);
void sim_apply_defaults(int res, json_object *obj);
void sim_canonical_quantities(int res, json_object *obj);

/* timers (main.c) */
void sim_timers_run(struct sim *sim);

/* http.c */
int sim_http_start(struct sim *sim, struct nap_err *err);
int sim_http_poll(struct sim *sim, double timeout);
void sim_http_stop(struct sim *sim);
void sim_resp_free(struct sim_resp *resp);
void sim_resp_set_watch(struct sim_resp *resp, struct sim_watch *w);

/* tls.c */
int sim_tls_generate(struct sim *sim, struct nap_err *err);
int sim_tls_load(struct sim *sim, struct nap_err *err);

/* random identifiers */
void sim_rand_suffix(char *buf, size_t n); /* n chars of [bcdfghjklmnpqrstvwxz2-9] */
void sim_uuid(char *buf);		   /* 37 bytes */

#endif
