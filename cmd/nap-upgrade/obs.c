/*
 * obs.c - nap-upgrade's metrics through lib/observe: its passes, the
 * AKSNodeClass statuses it wrote, and the NodeClaims it marked drifted, by
 * reason (read off its Drifted records).  See nap-upgrade(1) METRICS.
 * Every call is a no-op before obs_start and with --plan.
 */
#include <string.h>

#include "json.h"
#include "log.h"
#include "observe.h"
#include "prog.h"
#include "up.h"

static struct {
	struct nap_obs_opts oo;
	int on;
	struct nap_obs *obs;
	struct nap_metric *passes, *writes, *drifted, *cleared;
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
	if (strcmp(t, "Drifted") == 0)
		nap_metric_inc(o.drifted, nap_json_str(rec, "reason", ""));
}

void
obs_start(struct up *u)
{
	struct nap_metrics *m;
	struct nap_err err;

	o.oo.prog = "nap-upgrade";
	o.oo.on_error = nap_log_warn_cb;
	if (!nap_obs_wanted(&o.oo, u->cfg.metrics.textfile_dir))
		return;
	if (!(o.obs = nap_obs_open(&o.oo, u->cfg.metrics.textfile_dir, &err)))
		nap_die_err(&err);
	o.on = 1;
	if (nap_obs_port(o.obs))
		nap_info("metrics on port %d, path /metrics", nap_obs_port(o.obs));
	m = nap_obs_metrics(o.obs);
	o.passes = nap_metrics_add(m, NAP_METRIC_COUNTER, "nap_upgrade_passes_total",
	    "Reconcile passes over every AKSNodeClass and NodeClaim.", NULL, NULL, 0, NULL);
	o.writes = nap_metrics_add(m, NAP_METRIC_COUNTER, "nap_upgrade_nodeclass_writes_total",
	    "AKSNodeClass statuses written (versions, images, conditions).", NULL, NULL, 0, NULL);
	o.drifted = nap_metrics_add(m, NAP_METRIC_COUNTER, "nap_upgrade_drifted_total",
	    "NodeClaims marked Drifted, by reason (K8sVersionDrift, ImageDrift, ...).", "reason",
	    NULL, 0, NULL);
	o.cleared = nap_metrics_add(m, NAP_METRIC_COUNTER, "nap_upgrade_drift_cleared_total",
	    "NodeClaims whose Drifted condition nap-upgrade cleared.", NULL, NULL, 0, NULL);
	nap_emit_observe(on_emit, NULL);
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
obs_sync(const struct up *u)
{
	if (!o.on)
		return;
	nap_metric_set(o.passes, (double)u->passes);
	nap_metric_set(o.writes, (double)u->class_writes);
	nap_metric_set(o.cleared, (double)u->drift_clears);
	nap_obs_http(o.obs, "arm", u->http);
	if (u->kube)
		nap_obs_http(o.obs, "kube", nap_kube_pool(u->kube));
}

void
obs_stop(const struct up *u)
{
	obs_sync(u);
	if (!o.on)
		return;
	nap_emit_observe(NULL, NULL);
	nap_obs_free(o.obs);
	memset(&o, 0, sizeof(o));
}
