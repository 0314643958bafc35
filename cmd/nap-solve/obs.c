/*
 * obs.c - nap-solve's metrics: Karpenter's scheduler metrics, read off each
 * scheduling pass and the records it writes.  See nap-solve(1) METRICS.
 */
#include <string.h>
#include <time.h>

#include "config.h"
#include "json.h"
#include "log.h"
#include "obs.h"
#include "observe.h"
#include "prog.h"

static struct {
	struct nap_obs_opts oo;
	struct nap_obs *obs;
	struct nap_metric *duration, *depth, *unschedulable, *decisions;
	struct timespec t0;
	size_t nunsched;
} o;

void
obs_option(const char *name, const char *arg)
{
	nap_obs_option(&o.oo, name, arg);
}

static void
on_emit(void *arg, json_object *rec)
{
	const char *t = nap_json_str(rec, "type", "");

	(void)arg;
	nap_obs_written(o.obs, t);
	if (strcmp(t, "Unschedulable") == 0)
		o.nunsched++;
	if (strcmp(t, "LaunchRequest") == 0) {
		json_object *l = nap_json_get(rec, "nodeClaim.metadata.labels"), *p = NULL;

		if (json_object_is_type(l, json_type_object))
			p = json_object_object_get(l, "karpenter.sh/nodepool");
		nap_metric_inc(o.decisions, t, p ? json_object_get_string(p) : "");
	} else if (strcmp(t, "Nominated") == 0 || strcmp(t, "Unschedulable") == 0)
		nap_metric_inc(o.decisions, t, "");
}

void
obs_start(const struct nap_config *cfg)
{
	struct nap_metrics *m;
	struct nap_err err;

	o.oo.prog = "nap-solve";
	o.oo.on_error = nap_log_warn_cb;
	if (!nap_obs_wanted(&o.oo, cfg->metrics.textfile_dir))
		return; /* metrics off: every call stays a no-op */
	if (!(o.obs = nap_obs_open(&o.oo, cfg->metrics.textfile_dir, &err)))
		nap_die_err(&err);
	if (nap_obs_port(o.obs))
		nap_info("metrics on port %d, path /metrics", nap_obs_port(o.obs));
	m = nap_obs_metrics(o.obs);
	o.duration = nap_metrics_add(m, NAP_METRIC_HISTOGRAM,
	    "karpenter_scheduler_scheduling_duration_seconds",
	    "Duration of scheduling simulations used for deprovisioning and provisioning in "
	    "seconds.",
	    "controller", NULL, 0, NULL);
	o.depth = nap_metrics_add(m, NAP_METRIC_GAUGE, "karpenter_scheduler_queue_depth",
	    "The number of pods that the scheduler is attempting to schedule.", "controller", NULL,
	    0, NULL);
	o.unschedulable =
	    nap_metrics_add(m, NAP_METRIC_GAUGE, "karpenter_scheduler_unschedulable_pods_count",
		"The number of unschedulable Pods.", "controller", NULL, 0, NULL);
	o.decisions = nap_metrics_add(m, NAP_METRIC_COUNTER, "nap_solve_decisions_total",
	    "Pods and NodeClaims decided on: LaunchRequest (one a NodeClaim), Nominated and "
	    "Unschedulable (one a pod).",
	    "decision,nodepool", NULL, 0, NULL);
	nap_emit_observe(on_emit, NULL);
}

void
obs_read(const struct nap_rec *rec)
{
	nap_obs_read(o.obs, rec->type);
}

void
obs_malformed(void)
{
	nap_obs_malformed(o.obs);
}

void
obs_pass_begin(void)
{
	clock_gettime(CLOCK_MONOTONIC, &o.t0);
	o.nunsched = 0;
}

void
obs_pass_end(size_t npending)
{
	struct timespec t1;

	if (!o.obs)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	nap_metric_observe(o.duration,
	    (double)(t1.tv_sec - o.t0.tv_sec) + (double)(t1.tv_nsec - o.t0.tv_nsec) / 1e9,
	    "provisioner");
	nap_metric_set(o.depth, (double)npending, "provisioner");
	nap_metric_set(o.unschedulable, (double)o.nunsched, "provisioner");
}

void
obs_stop(void)
{
	if (!o.obs)
		return;
	nap_emit_observe(NULL, NULL);
	nap_obs_free(o.obs);
	memset(&o, 0, sizeof(o));
}
