/*
 * obs.c - nap-disrupt's metrics (Karpenter's names where the meaning is the
 * same) and its Kubernetes Events, both through lib/observe.  Events go
 * through lib/events' thread, so a slow or failing API server never holds up
 * a drain; their dedupe windows are Karpenter's, shortened by --time-scale
 * like every other duration.  See nap-disrupt(1) METRICS and EVENTS.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "observe.h"
#include "prog.h"
#include "tool.h"
#include "wellknown.h"

#define MAX_INT32 2147483647.0 /* allowed_disruptions of a pool no budget limits, as Karpenter */

static struct {
	struct nap_obs_opts oo;
	int no_events, on;
	struct nap_obs *obs;
	struct nap_events *ev;
	struct nap_metric *allowed, *decisions, *eligible, *disrupted, *terminated, *drained;
	struct nap_metric *node_term, *node_terminated, *evictions, *forced, *eval, *passes;
	struct nap_metric *fleet, *bound;
	struct nap_hash why;   /* NodeClaim name -> its disruption reason (lower case), owned */
	struct nap_hash pools; /* NodePools with allowed_disruptions series -> pass number */
	uintptr_t pass;
} o;

/* Node termination, seconds: from a few seconds to the longest terminationGracePeriod. */
static const double term_buckets[] = {
    1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400};

void
obs_option(const char *name, const char *arg)
{
	if (!nap_obs_option(&o.oo, name, arg))
		o.no_events = 1; /* --no-events, the only other one */
}

static void
on_emit(void *arg, json_object *rec)
{
	(void)arg;
	nap_obs_written(o.obs, nap_json_str(rec, "type", ""));
}

static struct nap_metric *
add(struct nap_metrics *m, enum nap_metric_type t, const char *name, const char *help,
    const char *labels)
{
	return nap_metrics_add(m, t, name, help, labels, NULL, 0, NULL);
}

void
obs_start(struct ctx *x, const char *kubeconfig, const char *context)
{
	struct nap_metrics *m;
	struct nap_err err;

	o.oo.prog = "nap-disrupt";
	o.oo.on_error = nap_log_warn_cb;
	o.on = 1;
	nap_hash_init(&o.why);
	nap_hash_init(&o.pools);
	if (nap_obs_wanted(&o.oo, x->cfg.metrics.textfile_dir) &&
	    !(o.obs = nap_obs_open(&o.oo, x->cfg.metrics.textfile_dir, &err)))
		nap_die_err(&err);
	if (nap_obs_port(o.obs))
		nap_info("metrics on port %d, path /metrics", nap_obs_port(o.obs));
	m = nap_obs_metrics(o.obs);
	o.allowed = add(m, NAP_METRIC_GAUGE, "karpenter_nodepools_allowed_disruptions",
	    "The number of nodes for a given NodePool that can be concurrently disrupting at a "
	    "point in time. Labeled by NodePool and disruption reason.",
	    "nodepool,reason");
	o.decisions = add(m, NAP_METRIC_COUNTER, "karpenter_voluntary_disruption_decisions_total",
	    "Number of disruption decisions performed. Labeled by disruption decision, reason, and "
	    "consolidation type.",
	    "decision,reason,consolidation_type");
	o.eligible = add(m, NAP_METRIC_GAUGE, "karpenter_voluntary_disruption_eligible_nodes",
	    "Number of nodes eligible for disruption by Karpenter. Labeled by disruption reason.",
	    "reason");
	o.disrupted = add(m, NAP_METRIC_COUNTER, "karpenter_nodeclaims_disrupted_total",
	    "Number of nodeclaims disrupted in total by Karpenter. Labeled by reason, nodepool and "
	    "capacity type.",
	    "reason,nodepool,capacity_type");
	o.terminated = add(m, NAP_METRIC_COUNTER, "karpenter_nodeclaims_terminated_total",
	    "Number of nodeclaims terminated in total by Karpenter. Labeled by the owning nodepool "
	    "and capacity type.",
	    "nodepool,capacity_type");
	o.drained = add(m, NAP_METRIC_COUNTER, "karpenter_pods_drained_total",
	    "Number of pods drained during node termination. Labeled by the disruption reason of "
	    "the node.",
	    "reason");
	o.node_terminated = add(m, NAP_METRIC_COUNTER, "karpenter_nodes_terminated_total",
	    "Number of nodes terminated in total by Karpenter. Labeled by owning nodepool.",
	    "nodepool");
	o.node_term = nap_metrics_add(m, NAP_METRIC_HISTOGRAM,
	    "karpenter_nodes_termination_duration_seconds",
	    "The time taken between a node's deletion request and the removal of its finalizer. "
	    "Labeled by owning nodepool.",
	    "nodepool", term_buckets, NAP_ARRAY_LEN(term_buckets), NULL);
	o.evictions = add(m, NAP_METRIC_COUNTER, "karpenter_pods_eviction_requests_total",
	    "The number of pod eviction requests. Labeled by the HTTP status code of the answer "
	    "(\"error\" for none).",
	    "code");
	o.forced = add(m, NAP_METRIC_COUNTER, "nap_disrupt_pods_forced_total",
	    "Pods deleted past their PodDisruptionBudget or do-not-disrupt annotation because "
	    "their node's terminationGracePeriod ran out.",
	    NULL);
	o.eval = nap_metrics_add(m, NAP_METRIC_HISTOGRAM,
	    "karpenter_voluntary_disruption_decision_evaluation_duration_seconds",
	    "Duration of the disruption decision evaluation process in seconds. Labeled by method "
	    "and consolidation type.",
	    "method,consolidation_type", NULL, 0, NULL);
	o.passes = add(m, NAP_METRIC_COUNTER, "nap_disrupt_plan_passes_total",
	    "Passes of the disruption planner.", NULL);
	o.fleet = add(m, NAP_METRIC_GAUGE, "nap_disrupt_fleet_price_usd_per_hour",
	    "The fleet's price in US dollars per hour: the offerings of the NodeClaims not being "
	    "deleted, as of the last planner pass (NaN without prices).",
	    NULL);
	o.bound = add(m, NAP_METRIC_GAUGE, "nap_disrupt_fleet_bound_usd_per_hour",
	    "The whole-pod LP bound of the pods the fleet runs: the least any packing of them on "
	    "the catalog's sizes could cost, in US dollars per hour, as of the last planner pass "
	    "(NaN without prices).",
	    NULL);
	nap_metric_set(o.fleet, NAN);
	nap_metric_set(o.bound, NAN);
	nap_emit_observe(on_emit, NULL);
	if (!o.no_events) {
		struct nap_events_opts eo = {
		    .component = "nap-disrupt", .on_error = nap_log_warn_first_cb};

		o.ev = nap_obs_start_events(&x->cfg, kubeconfig, context, &eo, &err);
		if (!o.ev)
			nap_warn("events: %s: no Kubernetes Events will be posted", err.msg);
		nap_obs_events(o.obs, o.ev);
	}
}

void
obs_read(const char *type, int malformed)
{
	if (malformed)
		nap_obs_malformed(o.obs);
	else
		nap_obs_read(o.obs, type);
}

void
obs_event(struct ctx *x, const char *kind, const char *api_version, const struct nap_meta *on,
    const char *type, const char *reason, const char *fmt, ...)
{
	struct nap_event ev;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof(ev));
	ev.api_version = api_version;
	ev.kind = kind;
	ev.namespace = on->ns;
	ev.name = on->name;
	ev.uid = on->uid[0] ? on->uid : NULL;
	ev.type = type;
	ev.reason = reason;
	ev.message = msg;
	ev.dedupe_ms = scaled(x, nap_events_window(reason));
	if (!o.ev) {
		nap_debug(
		    "%s %s%s%s: %s: %s", kind, on->ns, on->ns[0] ? "/" : "", on->name, reason, msg);
		return;
	}
	switch (nap_events_emit(o.ev, &ev)) {
	case NAP_EVENT_CREATE:
	case NAP_EVENT_UPDATE:
		nap_info(
		    "%s %s%s%s: %s: %s", kind, on->ns, on->ns[0] ? "/" : "", on->name, reason, msg);
		break;
	default:
		break;
	}
}

static void
lower(char *out, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	out[i] = '\0';
}

/* The series of NodePools this pass did not see (deleted ones), one by one: never all at once. */
static void
forget_pools(void)
{
	size_t pos = 0, n = 0, i, k;
	const char *key;
	void *v;
	char **old = nap_xcalloc(nap_hash_count(&o.pools) + 1, sizeof(*old));

	while (nap_hash_next(&o.pools, &pos, &key, &v))
		if ((uintptr_t)v != o.pass)
			old[n++] = nap_xstrdup(key);
	for (i = 0; i < n; i++) {
		for (k = 0; k < NAP_DISRUPT_NBUDGET_REASONS; k++)
			nap_metric_remove(o.allowed, old[i], nap_disrupt_reason_name(k));
		nap_hash_del(&o.pools, old[i]);
		free(old[i]);
	}
	free(old);
}

void
obs_plan(struct ctx *x, const struct nap_disrupt_result *r, double seconds)
{
	size_t i, k;
	char lr[32];

	if (!o.obs)
		return;
	/* The clients' answers so far, copied on the thread that drives them. */
	nap_obs_http(o.obs, "arm", x->http);
	nap_obs_http(o.obs, "kube", nap_kube_pool(x->kube));
	nap_metric_inc(o.passes);
	nap_metric_observe(o.eval, seconds, "all", "");
	nap_metric_set(o.fleet, x->cat ? r->fleet_price : NAN);
	nap_metric_set(o.bound, x->cat && r->bound >= 0 ? r->bound : NAN);
	o.pass++;
	for (i = 0; i < r->nbudgets; i++) {
		const struct nap_disrupt_budget *b = &r->budgets[i];

		for (k = 0; k < NAP_DISRUPT_NBUDGET_REASONS; k++)
			nap_metric_set(o.allowed,
			    b->allowed[k] == INT64_MAX ? MAX_INT32 : (double)b->available[k],
			    b->nodepool, nap_disrupt_reason_name(k));
		nap_hash_put(&o.pools, b->nodepool, (void *)o.pass);
	}
	forget_pools();
	/* Eligible: nodes that passed a method's own test, chosen or stopped by the budget. */
	for (k = 0; k < NAP_DISRUPT_NBUDGET_REASONS; k++) {
		size_t n = 0;

		for (i = 0; i < r->nverdicts; i++) {
			const struct nap_disrupt_verdict *v = &r->verdicts[i];

			if ((v->why == NAP_WHY_DISRUPTED || v->why == NAP_WHY_BUDGET) &&
			    v->reason == (enum nap_disrupt_reason)k)
				n++;
		}
		lower(lr, sizeof(lr), nap_disrupt_reason_name(k));
		nap_metric_set(o.eligible, (double)n, lr);
	}
}

void
obs_command(const struct nap_disrupt_command *cmd)
{
	char lr[32];

	lower(lr, sizeof(lr), nap_disrupt_reason_name(cmd->reason));
	nap_metric_inc(o.decisions, cmd->replacements ? "replace" : "delete", lr,
	    cmd->reason == NAP_DISRUPT_EMPTY ? "empty" : "");
}

void
obs_disrupted(const struct nap_disrupt_command *cmd, const struct nap_disrupt_candidate *cd)
{
	char lr[32];

	if (!o.on)
		return;
	lower(lr, sizeof(lr), nap_disrupt_reason_name(cmd->reason));
	nap_metric_inc(o.disrupted, lr, cmd->nodepool, cd->capacity_type);
	free(nap_hash_put(&o.why, cd->nodeclaim, nap_xstrdup(lr)));
}

void
obs_evicted(struct ctx *x, const struct nap_node *n, int http)
{
	const struct nap_nodeclaim *c;
	const char *why = NULL;
	char code[16];

	if (!o.on)
		return;
	if (http > 0)
		snprintf(code, sizeof(code), "%d", http);
	else
		snprintf(code, sizeof(code), "error");
	nap_metric_inc(o.evictions, code);
	if (http < 200 || http > 299)
		return;
	c = nap_cluster_nodeclaim_of(x->cl, n);
	if (c)
		why = nap_hash_get(&o.why, c->meta.name);
	nap_metric_inc(o.drained, why ? why : "deleted");
}

void
obs_forced(void)
{
	nap_metric_inc(o.forced);
}

void
obs_finished(struct ctx *x, const char *kind, const struct nap_meta *m)
{
	const char *pool = nap_meta_label(m, NAP_LABEL_NODEPOOL);
	int64_t now = wall_ms();

	if (!o.on)
		return;
	if (strcmp(kind, "Node") == 0) {
		nap_metric_inc(o.node_terminated, pool);
		if (m->deleted)
			nap_metric_observe(o.node_term,
			    now > m->deleted * 1000 ? (double)(now - m->deleted * 1000) / 1000 : 0,
			    pool);
		return;
	}
	nap_metric_inc(o.terminated, pool, nap_meta_label(m, NAP_LABEL_CAPACITY_TYPE));
	free(nap_hash_del(&o.why, m->name));
	(void)x;
}

void
obs_stop(void)
{
	size_t pos = 0;
	const char *k;
	void *v;

	if (!o.on)
		return;
	nap_emit_observe(NULL, NULL);
	nap_events_drain(o.ev, 2000);
	nap_obs_free(o.obs); /* the last textfile, events counted */
	nap_events_free(o.ev, 0);
	while (nap_hash_next(&o.why, &pos, &k, &v))
		free(v);
	nap_hash_free(&o.why);
	nap_hash_free(&o.pools);
	memset(&o, 0, sizeof(o));
}
