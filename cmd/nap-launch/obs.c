/*
 * obs.c - nap-launch's metrics (Karpenter's names where the meaning is the
 * same) and Events, read off the records it reads and writes.  See
 * nap-launch(1) METRICS and EVENTS.
 */
#include <string.h>

#include "json.h"
#include "nap-launch.h"
#include "log.h"
#include "obs.h"
#include "observe.h"
#include "prog.h"

static struct {
	struct nap_obs_opts oo;
	int no_events;
	int on; /* obs_start ran (metrics may still be off: o.obs NULL) */
	struct ctx *x;
	struct nap_obs *obs;
	struct nap_events *ev;
	struct nap_metric *created, *launched, *registered, *initialized, *failed, *cp_errors;
	struct nap_metric *arm_requests, *arm_throttled;
	char *reason;	   /* of the LaunchRequest being acted on */
	json_object *pods; /* its pods (reference held) */
} o;

void
obs_option(const char *name, const char *arg)
{
	if (!nap_obs_option(&o.oo, name, arg))
		o.no_events = 1; /* --no-events, the other one */
}

/* On the main thread, where the ARM client's counters change. */
static void
arm_sync(void)
{
	nap_metric_set(o.arm_requests, (double)nap_arm_requests(o.x->arm));
	nap_metric_set(o.arm_throttled, (double)nap_arm_throttled(o.x->arm));
	nap_obs_http(o.obs, "arm", o.x->http);
	nap_obs_http(o.obs, "kube", nap_kube_pool(o.x->kube));
}

static const char *
claim_uid(const char *name)
{
	struct claim *c = name ? nap_hash_get(&o.x->byname, name) : NULL;

	return c && c->obj ? nap_json_str(c->obj, "metadata.uid", NULL) : NULL;
}

static void
claim_event(
    const char *name, const char *type, const char *reason, const char *msg, const char *key)
{
	struct nap_event ev = {
	    .api_version = "karpenter.sh/v1",
	    .kind = "NodeClaim",
	    .name = name,
	    .uid = claim_uid(name),
	    .type = type,
	    .reason = reason,
	    .message = msg,
	    .dedupe_key = key,
	};

	if (name && *name)
		nap_events_emit(o.ev, &ev);
}

/* Karpenter's event for a status condition turning True (operatorpkg's words). */
static void
condition_event(const char *name, const char *cond)
{
	char *msg = nap_xasprintf(
	    "Status condition transitioned, Type: %s, Status: Unknown -> True, Reason: %s", cond,
	    cond);

	claim_event(name, "Normal", cond, msg, NULL);
	free(msg);
}

/* ns/name -> a Pod event; the uid from the record or from the pods nap-launch has seen. */
static void
pod_event(const char *key, const char *uid, const char *type, const char *reason, const char *msg)
{
	const char *slash = key ? strchr(key, '/') : NULL;
	char *ns;
	struct nap_pod *p;
	struct nap_event ev = {
	    .api_version = "v1", .kind = "Pod", .type = type, .reason = reason, .message = msg};

	if (!slash || slash == key || !slash[1])
		return;
	ns = nap_xstrndup(key, (size_t)(slash - key));
	if ((!uid || !*uid) && (p = nap_cluster_pod(o.x->cl, ns, slash + 1)) != NULL)
		uid = p->meta.uid;
	ev.namespace = ns;
	ev.name = slash + 1;
	ev.uid = uid;
	/* Karpenter dedupes pod events by the pod, whatever the message says. */
	ev.dedupe_key = uid && *uid ? uid : key;
	nap_events_emit(o.ev, &ev);
	free(ns);
}

/* The records nap-launch writes. */
static void
on_emit(void *arg, json_object *rec)
{
	const char *t = nap_json_str(rec, "type", ""), *nc = nap_json_str(rec, "nodeClaim", "");
	const char *pool = nap_json_str(rec, "nodePool", "");
	char *msg;

	(void)arg;
	nap_obs_written(o.obs, t);
	arm_sync();
	if (strcmp(t, "Launched") == 0) {
		nap_metric_inc(o.launched, pool);
		condition_event(nc, "Launched");
	} else if (strcmp(t, "Registered") == 0) {
		nap_metric_inc(o.registered, pool);
		condition_event(nc, "Registered");
	} else if (strcmp(t, "Initialized") == 0) {
		nap_metric_inc(o.initialized, pool);
		condition_event(nc, "Initialized");
	} else if (strcmp(t, "OfferingUnavailable") == 0) {
		const char *code = nap_json_str(rec, "code", "");

		nap_metric_inc(o.cp_errors, "nodeclaim.lifecycle", "Create", "azure", code);
		msg = nap_xasprintf("NodeClaim %s event: %s: %s in %s (%s) is unavailable", nc,
		    code, nap_json_str(rec, "instanceType", ""),
		    nap_json_str(rec, "zone", "any zone"),
		    nap_json_str(rec, "capacityType", "any capacity type"));
		/* one a claim: Karpenter dedupes this event by the NodeClaim */
		claim_event(nc, "Warning", "InsufficientCapacityError", msg, nc);
		free(msg);
	} else if (strcmp(t, "LaunchFailed") == 0) {
		const char *reason = nap_json_str(rec, "reason", "");
		int ice = strcmp(reason, "InsufficientCapacity") == 0;

		nap_metric_inc(o.failed, pool, reason);
		msg = nap_xasprintf("NodeClaim %s event: %s%s%s", nc,
		    nap_json_str(rec, "code", reason),
		    *nap_json_str(rec, "message", "") ? ": " : "",
		    nap_json_str(rec, "message", ""));
		claim_event(nc, "Warning", ice ? "InsufficientCapacityError" : "LaunchFailed", msg,
		    ice ? nc : NULL);
		free(msg);
	}
}

void
obs_start(struct ctx *x, const char *kubeconfig, const char *context)
{
	struct nap_metrics *m;
	struct nap_err err;

	o.x = x;
	o.oo.prog = "nap-launch";
	o.oo.on_error = nap_log_warn_cb;
	o.on = 1;
	if (nap_obs_wanted(&o.oo, x->cfg.metrics.textfile_dir) &&
	    !(o.obs = nap_obs_open(&o.oo, x->cfg.metrics.textfile_dir, &err)))
		nap_die_err(&err);
	if (nap_obs_port(o.obs))
		nap_info("metrics on port %d, path /metrics", nap_obs_port(o.obs));
	m = nap_obs_metrics(o.obs);
	o.created = nap_metrics_add(m, NAP_METRIC_COUNTER, "karpenter_nodeclaims_created_total",
	    "Number of nodeclaims created in total by Karpenter. Labeled by reason the nodeclaim "
	    "was created and the owning nodepool.",
	    "reason,nodepool,min_values_relaxed", NULL, 0, NULL);
	o.launched = nap_metrics_add(m, NAP_METRIC_COUNTER, "karpenter_nodeclaims_launched_total",
	    "Number of nodeclaims launched in total by Karpenter. Labeled by the owning nodepool.",
	    "nodepool", NULL, 0, NULL);
	o.registered =
	    nap_metrics_add(m, NAP_METRIC_COUNTER, "karpenter_nodeclaims_registered_total",
		"Number of nodeclaims registered in total by Karpenter. Labeled by the owning "
		"nodepool.",
		"nodepool", NULL, 0, NULL);
	o.initialized =
	    nap_metrics_add(m, NAP_METRIC_COUNTER, "karpenter_nodeclaims_initialized_total",
		"Number of nodeclaims initialized in total by Karpenter. Labeled by the owning "
		"nodepool.",
		"nodepool", NULL, 0, NULL);
	o.cp_errors = nap_metrics_add(m, NAP_METRIC_COUNTER, "karpenter_cloudprovider_errors_total",
	    "Total number of errors returned from CloudProvider calls.",
	    "controller,method,provider,error", NULL, 0, NULL);
	o.failed = nap_metrics_add(m, NAP_METRIC_COUNTER, "nap_launch_failed_total",
	    "NodeClaims nap-launch gave up on, by nodepool and reason.", "nodepool,reason", NULL, 0,
	    NULL);
	o.arm_requests = nap_metrics_add(m, NAP_METRIC_COUNTER, "nap_arm_requests_total",
	    "Requests sent to Azure Resource Manager.", NULL, NULL, 0, NULL);
	o.arm_throttled = nap_metrics_add(m, NAP_METRIC_COUNTER, "nap_arm_throttled_total",
	    "Azure Resource Manager answers that were 429 (throttled).", NULL, NULL, 0, NULL);
	nap_emit_observe(on_emit, NULL);
	if (!o.no_events) {
		struct nap_events_opts eo = {
		    .component = "nap-launch", .on_error = nap_log_warn_first_cb};

		o.ev = nap_obs_start_events(&x->cfg, kubeconfig, context, &eo, &err);
		if (!o.ev)
			nap_warn("events: %s: no Kubernetes Events will be posted", err.msg);
		nap_obs_events(o.obs, o.ev);
	}
}

void
obs_read(const struct nap_rec *rec)
{
	const char *t = rec->type;

	if (!o.on)
		return;
	nap_obs_read(o.obs, t);
	arm_sync();
	if (strcmp(t, "LaunchRequest") == 0) {
		free(o.reason);
		o.reason = nap_xstrdup(nap_json_str(rec->obj, "reason", "provisioning"));
		if (o.pods)
			json_object_put(o.pods);
		o.pods = json_object_get(nap_json_get(rec->obj, "pods"));
	} else if (strcmp(t, "Nominated") == 0) {
		const char *kind = nap_json_str(rec->obj, "kind", "Node");
		char *msg = nap_xasprintf("Pod should schedule on: %s/%s",
		    strcmp(kind, "NodeClaim") == 0 ? "nodeclaim" : "node",
		    nap_json_str(rec->obj, "node", ""));

		pod_event(nap_json_str(rec->obj, "pod", NULL), nap_json_str(rec->obj, "uid", NULL),
		    "Normal", "Nominated", msg);
		free(msg);
	} else if (strcmp(t, "Unschedulable") == 0) {
		char *msg = nap_xasprintf("Failed to schedule pod, %s",
		    nap_json_str(rec->obj, "reason", "no reason given"));

		pod_event(nap_json_str(rec->obj, "pod", NULL), nap_json_str(rec->obj, "uid", NULL),
		    "Warning", "FailedScheduling", msg);
		free(msg);
	}
}

void
obs_malformed(void)
{
	nap_obs_malformed(o.obs);
}

void
obs_nodeclaim_created(json_object *nc)
{
	const char *name = nap_json_str(nc, "metadata.name", "");
	json_object *labels = nap_json_get(nc, "metadata.labels"), *pool = NULL;
	char *msg;

	if (!o.on)
		return;
	if (json_object_is_type(labels, json_type_object))
		pool = json_object_object_get(labels, "karpenter.sh/nodepool");
	nap_metric_inc(o.created, o.reason ? o.reason : "provisioning",
	    pool ? json_object_get_string(pool) : "", "false");
	msg = nap_xasprintf("Pod should schedule on: nodeclaim/%s", name);
	for (size_t i = 0; o.pods && i < json_object_array_length(o.pods); i++)
		pod_event(json_object_get_string(json_object_array_get_idx(o.pods, i)), NULL,
		    "Normal", "Nominated", msg);
	free(msg);
}

void
obs_stop(void)
{
	if (!o.on)
		return;
	arm_sync();
	nap_emit_observe(NULL, NULL);
	nap_events_drain(o.ev, 2000);
	nap_obs_free(o.obs); /* the last textfile, events counted */
	nap_events_free(o.ev, 0);
	if (o.pods)
		json_object_put(o.pods);
	free(o.reason);
	memset(&o, 0, sizeof(o));
}
