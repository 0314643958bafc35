/*
 * events.h - Kubernetes Events (core/v1) with Karpenter's reasons, dedupe
 * windows and a rate limit, posted from a thread so that they never block or
 * fail the tool's work.
 *
 * Deciding (pure, exposed for tests): struct nap_events_cache remembers each
 * event by its dedupe key (the involved object's kind, namespace and name, the
 * reason and the message, unless the caller gives a key).  An event seen again
 * inside its dedupe window (2 min by default; some reasons 1, 5 or 15 min as
 * Karpenter has them, see nap_events_window) is dropped.  One seen again after
 * the window updates the Event posted before: count + 1, lastTimestamp now,
 * the way client-go's correlator does.  A token bucket (burst 25, one more
 * token a second by default) bounds what one tool posts; an event that finds
 * the bucket empty is dropped, counted, and not remembered, so it may come
 * again.
 *
 * Acting: nap_events_new() takes a kube client (its own: the thread is its
 * only user) and starts the thread; nap_events_emit() decides and queues (a
 * bounded queue: when full the event is dropped and counted); the thread
 * POSTs new Events and merge-PATCHes repeats (a repeat whose Event has gone,
 * 404, is posted anew).  A failed request is not retried: the error goes to
 * the on_error callback (from the thread) and the event is dropped.
 * Cluster-scoped objects (Node, NodeClaim, NodePool) get their Events in the
 * namespace "default", as kubectl describe looks for them.
 *
 * Ownership: the event's strings are copied; nothing the caller passes is
 * kept.  nap_events_free() waits up to drain_ms for the queue to empty, then
 * cancels what is left, stops the thread and frees the client.
 */
#ifndef NAP_EVENTS_H
#define NAP_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "arm.h"
#include "hash.h"
#include "kube.h"
#include "nap.h"

struct nap_event {
	/* involvedObject */
	const char *api_version; /* e.g. "v1", "karpenter.sh/v1" */
	const char *kind;	 /* Pod, Node, NodeClaim, NodePool */
	const char *namespace;	 /* NULL or "" for cluster-scoped objects */
	const char *name;
	const char *uid; /* may be NULL */
	/* what happened */
	const char *type;   /* "Normal" or "Warning" */
	const char *reason; /* Karpenter's: Launched, InsufficientCapacityError, ... */
	const char *message;
	int64_t dedupe_ms;	/* 0: nap_events_window(reason) */
	const char *dedupe_key; /* NULL: kind/namespace/name/reason/message */
};

/* Karpenter's dedupe window for a reason: 2 min unless it says otherwise. */
int64_t nap_events_window(const char *reason);

/* ---- deciding ---- */

enum nap_event_action {
	NAP_EVENT_DUPLICATE, /* inside its dedupe window: dropped */
	NAP_EVENT_THROTTLED, /* the rate limit: dropped */
	NAP_EVENT_CREATE,    /* post a new Event */
	NAP_EVENT_UPDATE,    /* count + 1 on the Event posted before */
};

struct nap_events_cache {
	struct nap_hash seen; /* dedupe key -> struct nap_event_seen */
	struct nap_arm_bucket bucket;
	int64_t last_sweep_ms;
};

struct nap_event_seen {
	char *event_name; /* metadata.name of the Event posted */
	char *namespace;
	char *first_ts; /* RFC 3339, the first posting */
	int64_t at_ms;	/* last posted */
	int64_t window_ms;
	long count;
};

/* burst, rate: tokens and tokens per second; 0 = 25 and 1. */
void nap_events_cache_init(struct nap_events_cache *c, double burst, double rate, int64_t now_ms);
void nap_events_cache_free(struct nap_events_cache *c);
/*
 * What to do with ev at now_ms; for CREATE and UPDATE *seen (owned by the
 * cache) says the Event's name, namespace and count to post.  Entries whose
 * window has long passed are forgotten as time goes on (an hour after their
 * window, as the API server's Events expire).
 */
enum nap_event_action nap_events_decide(struct nap_events_cache *c, const struct nap_event *ev,
    int64_t now_ms, const struct nap_event_seen **seen);

/*
 * The Event object for a CREATE (component: source.component and
 * reportingController; host: reportingInstance).  Caller puts it.
 */
json_object *nap_event_object(const struct nap_event *ev, const struct nap_event_seen *seen,
    const char *component, const char *host, int64_t now_ms);

/* ---- acting ---- */

struct nap_events_opts {
	const char *component; /* e.g. "nap-launch" (source and reportingController) */
	double burst, rate;    /* the bucket; 0 = 25 and 1 a second */
	size_t queue_max;      /* 0 = 1000 */
	long timeout_ms;       /* per request; 0 = 5000 */
	/* Called from the events thread with a message naming the event; may be NULL. */
	void (*on_error)(void *arg, const char *msg);
	void *arg;
};

struct nap_events_stats {
	unsigned long posted, updated, duplicate, throttled, overflow, failed;
};

struct nap_events;

/* Start the thread; kube is taken over (freed by nap_events_free).  NULL with err. */
struct nap_events *nap_events_new(
    struct nap_kube *kube, const struct nap_events_opts *o, struct nap_err *err);
/* Decide and queue; never blocks on the network.  Returns the action taken. */
enum nap_event_action nap_events_emit(struct nap_events *e, const struct nap_event *ev);
/* Counters so far (a tool exports them as metrics). */
void nap_events_stats(struct nap_events *e, struct nap_events_stats *out);
/* Wait up to ms for the queue to empty and the request in flight to end. */
void nap_events_drain(struct nap_events *e, long ms);
/* Wait up to drain_ms for the queue to empty, then stop.  NULL is fine. */
void nap_events_free(struct nap_events *e, long drain_ms);

#endif
