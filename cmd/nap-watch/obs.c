/*
 * obs.c - nap-watch's metrics, read off the records it writes.  See
 * nap-watch(1) METRICS.
 */
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "obs.h"
#include "observe.h"
#include "prog.h"

/* What a pod's karpenter_pods_state series was last set with. */
struct pod_series {
	char *ns, *name, *node, *phase;
};

static struct {
	struct nap_obs_opts oo;
	struct nap_obs *obs;
	struct nap_metric *pods, *nodes, *synced, *syncs, *objects;
	struct nap_hash seen;	/* "kind/uid" -> kind counted in objects */
	struct nap_hash podser; /* pod uid -> struct pod_series */
	struct nap_hash kinds;	/* kind -> live count (as a pointer-sized integer) */
	struct nap_http *pool;
} o;

void
obs_option(const char *name, const char *arg)
{
	nap_obs_option(&o.oo, name, arg);
}

static void
pod_series_free(struct pod_series *p)
{
	if (!p)
		return;
	nap_metric_remove(o.pods, p->name, p->ns, p->node, p->phase);
	free(p->ns);
	free(p->name);
	free(p->node);
	free(p->phase);
	free(p);
}

static void
on_pod(const char *t, json_object *obj, const char *uid)
{
	struct pod_series *p;

	pod_series_free(nap_hash_del(&o.podser, uid));
	if (strcmp(t, "DELETED") == 0)
		return;
	p = nap_xcalloc(1, sizeof(*p));
	p->ns = nap_xstrdup(nap_json_str(obj, "metadata.namespace", ""));
	p->name = nap_xstrdup(nap_json_str(obj, "metadata.name", ""));
	p->node = nap_xstrdup(nap_json_str(obj, "spec.nodeName", ""));
	p->phase = nap_xstrdup(nap_json_str(obj, "status.phase", "Pending"));
	nap_metric_set(o.pods, 1, p->name, p->ns, p->node, p->phase);
	nap_hash_put(&o.podser, uid, p);
}

/* Live objects per kind, from ADDED / MODIFIED / DELETED by uid. */
static void
count(const char *t, const char *kind, const char *uid)
{
	char *key = nap_xasprintf("%s/%s", kind, uid);
	int was = nap_hash_get(&o.seen, key) != NULL, is = strcmp(t, "DELETED") != 0;
	void **slot;
	int added;

	if (was != is) {
		if (is)
			nap_hash_put(&o.seen, key, (void *)1);
		else
			nap_hash_del(&o.seen, key);
		slot = nap_hash_slot(&o.kinds, kind, &added);
		*slot = (void *)((intptr_t)*slot + (is ? 1 : -1));
		nap_metric_set(o.objects, (double)(intptr_t)*slot, kind);
		if (strcmp(kind, "Node") == 0)
			nap_metric_set(o.nodes, (double)(intptr_t)*slot);
	}
	free(key);
}

static void
on_emit(void *arg, json_object *rec)
{
	const char *t = nap_json_str(rec, "type", "");
	json_object *obj = nap_json_get(rec, "object");
	const char *kind, *uid;

	(void)arg;
	nap_obs_written(o.obs, t);
	if (strcmp(t, "SYNCED") == 0) {
		nap_obs_http(o.obs, "kube", o.pool);
		nap_metric_set(o.synced, 1);
		nap_metric_inc(o.syncs);
		return;
	}
	if (!obj)
		return;
	kind = nap_json_str(obj, "kind", "");
	uid = nap_json_str(obj, "metadata.uid", "");
	if (!*kind || !*uid)
		return;
	count(t, kind, uid);
	if (strcmp(kind, "Pod") == 0)
		on_pod(t, obj, uid);
}

void
obs_raw(
    const char *type, const char *kind, const char *uid, size_t ulen, const char *line, size_t len)
{
	char *u;

	if (!o.obs)
		return;
	nap_obs_written(o.obs, type);
	nap_obs_http(o.obs, "kube", o.pool);
	if (strcmp(kind, "Pod") == 0) {
		/* phase and node are not scanned: parse (costs only with metrics on) */
		struct json_tokener *tok = json_tokener_new();
		json_object *rec = json_tokener_parse_ex(tok, line, (int)len);
		json_object *obj = rec ? nap_json_get(rec, "object") : NULL;

		json_tokener_free(tok);
		if (obj) {
			u = nap_xstrndup(uid, ulen);
			count(type, kind, u);
			on_pod(type, obj, u);
			free(u);
		}
		json_object_put(rec);
		return;
	}
	u = nap_xstrndup(uid, ulen);
	count(type, kind, u);
	free(u);
}

void
obs_start(const struct nap_config *cfg)
{
	struct nap_metrics *m;
	struct nap_err err;

	o.oo.prog = "nap-watch";
	o.oo.on_error = nap_log_warn_cb;
	if (!nap_obs_wanted(&o.oo, cfg->metrics.textfile_dir))
		return; /* metrics off: every call stays a no-op */
	if (!(o.obs = nap_obs_open(&o.oo, cfg->metrics.textfile_dir, &err)))
		nap_die_err(&err);
	if (nap_obs_port(o.obs))
		nap_info("metrics on port %d, path /metrics", nap_obs_port(o.obs));
	nap_hash_init(&o.seen);
	nap_hash_init(&o.podser);
	nap_hash_init(&o.kinds);
	m = nap_obs_metrics(o.obs);
	o.pods = nap_metrics_add(m, NAP_METRIC_GAUGE, "karpenter_pods_state",
	    "Pod state is the current state of pods. This metric can be used several ways as it is "
	    "labeled by the pod name, namespace, node and phase.",
	    "name,namespace,node,phase", NULL, 0, NULL);
	o.nodes = nap_metrics_add(m, NAP_METRIC_GAUGE, "karpenter_cluster_state_node_count",
	    "Current count of nodes in cluster state", NULL, NULL, 0, NULL);
	o.synced = nap_metrics_add(m, NAP_METRIC_GAUGE, "karpenter_cluster_state_synced",
	    "Returns 1 if cluster state is synced and 0 otherwise. Synced checks that nodeclaims "
	    "and nodes that are stored in the APIServer have the same representation as "
	    "Karpenter's "
	    "cluster state",
	    NULL, NULL, 0, NULL);
	o.syncs = nap_metrics_add(m, NAP_METRIC_COUNTER, "nap_watch_synced_total",
	    "SYNCED records written: the first list of every kind, then one a relist.", NULL, NULL,
	    0, NULL);
	o.objects = nap_metrics_add(m, NAP_METRIC_GAUGE, "nap_watch_objects",
	    "Objects mirrored, by kind.", "kind", NULL, 0, NULL);
	nap_emit_observe(on_emit, NULL);
}

void
obs_pool(struct nap_http *pool)
{
	o.pool = pool;
}

void
obs_stop(void)
{
	size_t pos = 0;
	const char *k;
	void *v;

	if (!o.obs)
		return;
	nap_obs_http(o.obs, "kube", o.pool);
	nap_emit_observe(NULL, NULL);
	nap_obs_free(o.obs);
	while (nap_hash_next(&o.podser, &pos, &k, &v)) {
		struct pod_series *p = v;

		free(p->ns);
		free(p->name);
		free(p->node);
		free(p->phase);
		free(p);
	}
	nap_hash_free(&o.podser);
	nap_hash_free(&o.seen);
	nap_hash_free(&o.kinds);
	memset(&o, 0, sizeof(o));
}
