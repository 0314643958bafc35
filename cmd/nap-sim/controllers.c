/*
 * controllers.c - the parts of kube-controller-manager and the API
 * server's admission that nap-sim plays: defaulting on create (pods,
 * workloads, Karpenter's CRD defaults), the deployment and replicaset
 * controllers (so `kubectl create deployment` and `kubectl scale` make
 * pods), the disruption controller (PDB status) and the eviction check it
 * backs, garbage collection by ownerReferences, pod GC for deleted nodes,
 * and namespace deletion.  All of it runs on the change queue: level-based
 * and idempotent, relying on the store to swallow no-op writes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "json.h"
#include "quantity.h"

/* -- quantities ---------------------------------------------------------- */

/*
 * The API server stores quantities canonically, in the family they were
 * written in: "1.5" -> "1500m", "1000" -> "1k", "0.5Gi" -> "512Mi",
 * bare numbers become strings.  Exponent forms and what does not parse
 * are left alone (the real server would refuse the latter).  Custom
 * resources keep what was written, as CRD storage does.
 */
static void
canonical_map(json_object *map)
{
	if (!map || !json_object_is_type(map, json_type_object))
		return;
	json_object_object_foreach(map, k, v)
	{
		char buf[NAP_QTY_BUFSZ];
		const char *s = json_object_get_string(v);
		int64_t milli;
		size_t n = strlen(s);
		int binary = n >= 2 && s[n - 1] == 'i';

		if (strpbrk(s, "eE") && !strchr(s, 'E'))
			continue;
		if (nap_qty_json_milli(v, &milli, NULL) < 0)
			continue;
		if (milli % 1000)
			nap_qty_fmt_milli(milli, buf, sizeof(buf));
		else if (binary)
			nap_qty_fmt(milli / 1000, buf, sizeof(buf));
		else
			nap_qty_fmt_decimal(milli / 1000, buf, sizeof(buf));
		if (json_object_is_type(v, json_type_string) && !strcmp(buf, s))
			continue;
		json_object_object_add(map, k, json_object_new_string(buf));
	}
}

static void
canonical_containers(json_object *spec, const char *field)
{
	size_t i, n;
	json_object *cs = nap_json_array(spec, field, &n);

	for (i = 0; cs && i < n; i++) {
		json_object *c = json_object_array_get_idx(cs, i);

		canonical_map(nap_json_get(c, "resources.requests"));
		canonical_map(nap_json_get(c, "resources.limits"));
	}
}

void
sim_canonical_quantities(int res, json_object *obj)
{
	const char *r = sim_rdescs[res].resource;
	json_object *spec = json_object_object_get(obj, "spec");

	if (!strcmp(r, "pods")) {
		canonical_containers(spec, "containers");
		canonical_containers(spec, "initContainers");
		canonical_map(json_object_object_get(spec, "overhead"));
	} else if (!strcmp(r, "nodes")) {
		canonical_map(nap_json_get(obj, "status.capacity"));
		canonical_map(nap_json_get(obj, "status.allocatable"));
	} else if (!strcmp(r, "deployments") || !strcmp(r, "replicasets") ||
	    !strcmp(r, "daemonsets") || !strcmp(r, "statefulsets")) {
		json_object *ts = nap_json_get(obj, "spec.template.spec");

		canonical_containers(ts, "containers");
		canonical_containers(ts, "initContainers");
	}
}

/* -- defaulting ---------------------------------------------------------- */

static void
set_default(json_object *obj, const char *path, json_object *val)
{
	if (nap_json_get(obj, path))
		json_object_put(val);
	else
		nap_json_set(obj, path, val);
}

static int
has_toleration(json_object *tols, const char *key)
{
	size_t i, n = tols ? json_object_array_length(tols) : 0;

	for (i = 0; i < n; i++)
		if (!strcmp(nap_json_str(json_object_array_get_idx(tols, i), "key", ""), key))
			return 1;
	return 0;
}

static void
default_containers(json_object *spec, const char *field)
{
	json_object *cs = json_object_object_get(spec, field);
	size_t i,
	    n = cs && json_object_is_type(cs, json_type_array) ? json_object_array_length(cs) : 0;

	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(cs, i);
		json_object *lim = nap_json_get(c, "resources.limits");

		set_default(c, "imagePullPolicy", json_object_new_string("IfNotPresent"));
		set_default(
		    c, "terminationMessagePath", json_object_new_string("/dev/termination-log"));
		set_default(c, "terminationMessagePolicy", json_object_new_string("File"));
		set_default(c, "resources", json_object_new_object());
		/* Limits-only containers request what they limit. */
		if (lim && json_object_is_type(lim, json_type_object)) {
			json_object_object_foreach(lim, k, v)
			{
				json_object *req = nap_json_get(c, "resources.requests");

				if (!req) {
					req = json_object_new_object();
					nap_json_set(c, "resources.requests", req);
				}
				if (!json_object_object_get(req, k))
					json_object_object_add(req, k, json_object_get(v));
			}
		}
	}
}

static void
default_pod_spec(json_object *spec)
{
	if (!spec || !json_object_is_type(spec, json_type_object))
		return;
	set_default(spec, "restartPolicy", json_object_new_string("Always"));
	set_default(spec, "terminationGracePeriodSeconds", json_object_new_int(30));
	set_default(spec, "dnsPolicy", json_object_new_string("ClusterFirst"));
	set_default(spec, "schedulerName", json_object_new_string("default-scheduler"));
	set_default(spec, "securityContext", json_object_new_object());
	default_containers(spec, "containers");
	default_containers(spec, "initContainers");
}

static void
default_pod(json_object *pod)
{
	json_object *spec = json_object_object_get(pod, "spec"), *tols;
	static const char *const keys[] = {
	    "node.kubernetes.io/not-ready",
	    "node.kubernetes.io/unreachable",
	};
	size_t i;

	default_pod_spec(spec);
	if (!spec)
		return;
	set_default(spec, "enableServiceLinks", json_object_new_boolean(1));
	set_default(spec, "preemptionPolicy", json_object_new_string("PreemptLowerPriority"));
	set_default(spec, "priority", json_object_new_int(0));
	set_default(spec, "serviceAccountName", json_object_new_string("default"));
	tols = json_object_object_get(spec, "tolerations");
	if (!tols || !json_object_is_type(tols, json_type_array)) {
		tols = json_object_new_array();
		json_object_object_add(spec, "tolerations", tols);
	}
	/* Admission's DefaultTolerationSeconds plugin. */
	for (i = 0; i < NAP_ARRAY_LEN(keys); i++) {
		json_object *t;

		if (has_toleration(tols, keys[i]))
			continue;
		t = json_object_new_object();
		json_object_object_add(t, "key", json_object_new_string(keys[i]));
		json_object_object_add(t, "operator", json_object_new_string("Exists"));
		json_object_object_add(t, "effect", json_object_new_string("NoExecute"));
		json_object_object_add(t, "tolerationSeconds", json_object_new_int(300));
		json_object_array_add(tols, t);
	}
	set_default(pod, "status.phase", json_object_new_string("Pending"));
	{
		json_object *cs = json_object_object_get(spec, "containers");
		size_t n = cs ? json_object_array_length(cs) : 0, k;
		int any = 0, guaranteed = n > 0;

		for (k = 0; k < n; k++) {
			json_object *c = json_object_array_get_idx(cs, k);
			json_object *req = nap_json_get(c, "resources.requests");
			json_object *lim = nap_json_get(c, "resources.limits");

			if ((req && json_object_object_length(req)) ||
			    (lim && json_object_object_length(lim)))
				any = 1;
			if (!lim || !nap_json_key(lim, "cpu") || !nap_json_key(lim, "memory") ||
			    !nap_json_equal(req, lim))
				guaranteed = 0;
		}
		set_default(pod, "status.qosClass",
		    json_object_new_string(guaranteed ? "Guaranteed"
			    : any		      ? "Burstable"
						      : "BestEffort"));
	}
}

static void
default_workload(json_object *obj, int replicas)
{
	json_object *tspec = nap_json_get(obj, "spec.template.spec");

	if (replicas)
		set_default(obj, "spec.replicas", json_object_new_int(1));
	set_default(obj, "spec.revisionHistoryLimit", json_object_new_int(10));
	default_pod_spec(tspec);
}

void
sim_apply_defaults(int res, json_object *obj)
{
	const char *r = sim_rdescs[res].resource;

	if (!strcmp(r, "pods")) {
		default_pod(obj);
	} else if (!strcmp(r, "deployments")) {
		default_workload(obj, 1);
		set_default(obj, "spec.progressDeadlineSeconds", json_object_new_int(600));
		if (!nap_json_get(obj, "spec.strategy")) {
			nap_json_set(
			    obj, "spec.strategy.type", json_object_new_string("RollingUpdate"));
			nap_json_set(obj, "spec.strategy.rollingUpdate.maxUnavailable",
			    json_object_new_string("25%"));
			nap_json_set(obj, "spec.strategy.rollingUpdate.maxSurge",
			    json_object_new_string("25%"));
		}
	} else if (!strcmp(r, "replicasets") || !strcmp(r, "statefulsets")) {
		default_workload(obj, 1);
	} else if (!strcmp(r, "daemonsets")) {
		default_workload(obj, 0);
	} else if (!strcmp(r, "namespaces")) {
		json_object *labels = nap_json_get(obj, "metadata.labels");

		if (!labels) {
			labels = json_object_new_object();
			nap_json_set(obj, "metadata.labels", labels);
		}
		json_object_object_add(labels, "kubernetes.io/metadata.name",
		    json_object_new_string(nap_json_str(obj, "metadata.name", "")));
		set_default(obj, "spec.finalizers", json_object_new_array());
		json_object_array_add(
		    nap_json_get(obj, "spec.finalizers"), json_object_new_string("kubernetes"));
		nap_json_set(obj, "status.phase", json_object_new_string("Active"));
	} else if (!strcmp(r, "nodepools")) {
		/* karpenter.sh/v1 NodePool CRD schema defaults. */
		set_default(obj, "spec.disruption.consolidateAfter", json_object_new_string("0s"));
		set_default(obj, "spec.disruption.consolidationPolicy",
		    json_object_new_string("WhenEmptyOrUnderutilized"));
		if (!nap_json_get(obj, "spec.disruption.budgets")) {
			json_object *b = json_object_new_array(), *one = json_object_new_object();

			json_object_object_add(one, "nodes", json_object_new_string("10%"));
			json_object_array_add(b, one);
			nap_json_set(obj, "spec.disruption.budgets", b);
		}
		set_default(obj, "spec.template.spec.expireAfter", json_object_new_string("720h"));
	} else if (!strcmp(r, "nodeclaims")) {
		set_default(obj, "spec.expireAfter", json_object_new_string("720h"));
	} else if (!strcmp(r, "aksnodeclasses")) {
		set_default(obj, "spec.imageFamily", json_object_new_string("Ubuntu"));
		set_default(obj, "spec.osDiskSizeGB", json_object_new_int(128));
	}
}

/* -- helpers ------------------------------------------------------------- */

struct collect {
	json_object *arr;
	const char *uid;       /* owner uid to match, or NULL */
	const char *node;      /* spec.nodeName to match, or NULL */
	json_object *selector; /* LabelSelector to match, or NULL */
};

static int
owned_by(json_object *obj, const char *uid)
{
	size_t i, n;
	json_object *refs = nap_json_array(obj, "metadata.ownerReferences", &n);

	for (i = 0; refs && i < n; i++)
		if (!strcmp(nap_json_str(json_object_array_get_idx(refs, i), "uid", ""), uid))
			return 1;
	return 0;
}

static int
collect_fn(struct sim *sim, json_object *obj, void *arg)
{
	struct collect *c = arg;

	(void)sim;
	if (c->uid && !owned_by(obj, c->uid))
		return 0;
	if (c->node && strcmp(nap_json_str(obj, "spec.nodeName", ""), c->node))
		return 0;
	if (c->selector && !sim_labelselector_match(c->selector, obj))
		return 0;
	json_object_array_add(c->arr, json_object_get(obj));
	return 0;
}

/* New array of references to matching objects (so callers may write). */
static json_object *
collect(struct sim *sim, const char *resource, const char *ns, const char *uid, const char *node,
    json_object *selector)
{
	struct collect c = {json_object_new_array(), uid, node, selector};

	sim_foreach(sim, resource, ns, collect_fn, &c);
	return c.arr;
}

/* A controller's pod deletion: with the pod's own grace, as client-go's is. */
static void
delete_gracefully(struct sim *sim, const char *ns, const char *name)
{
	json_object *last = NULL;

	sim_delete_graceful(sim, sim_rdesc_find("pods"), ns, name, -1, &last, NULL);
	json_object_put(last);
}

static int
pod_ready(json_object *pod)
{
	size_t i, n;
	json_object *conds = nap_json_array(pod, "status.conditions", &n);

	if (nap_json_get(pod, "metadata.deletionTimestamp"))
		return 0;
	for (i = 0; conds && i < n; i++) {
		json_object *c = json_object_array_get_idx(conds, i);

		if (!strcmp(nap_json_str(c, "type", ""), "Ready"))
			return !strcmp(nap_json_str(c, "status", ""), "True");
	}
	return 0;
}

static int
pod_active(json_object *pod)
{
	const char *phase = nap_json_str(pod, "status.phase", "Pending");

	return !nap_json_get(pod, "metadata.deletionTimestamp") && strcmp(phase, "Succeeded") &&
	    strcmp(phase, "Failed");
}

static json_object *
owner_ref(json_object *owner, const char *api_version, const char *kind)
{
	json_object *refs = json_object_new_array(), *r = json_object_new_object();

	json_object_object_add(r, "apiVersion", json_object_new_string(api_version));
	json_object_object_add(r, "kind", json_object_new_string(kind));
	json_object_object_add(
	    r, "name", json_object_new_string(nap_json_str(owner, "metadata.name", "")));
	json_object_object_add(
	    r, "uid", json_object_new_string(nap_json_str(owner, "metadata.uid", "")));
	json_object_object_add(r, "controller", json_object_new_boolean(1));
	json_object_object_add(r, "blockOwnerDeletion", json_object_new_boolean(1));
	json_object_array_add(refs, r);
	return refs;
}

static void
write_status(struct sim *sim, const char *resource, json_object *obj, json_object *status)
{
	json_object *copy = sim_dup(obj);

	json_object_object_add(copy, "status", status);
	json_object_object_del(json_object_object_get(copy, "metadata"), "resourceVersion");
	sim_update(sim, resource, copy, NULL, NULL);
}

/* -- replicasets --------------------------------------------------------- */

#define RS_SYNC_GAP 0.1

/* "res:ns/name" of a ReplicaSet -> real time of its last sync (double *). */
static struct nap_hash rs_synced = NAP_HASH_INIT;

static void
reconcile_rs(struct sim *sim, json_object *rs)
{
	const char *ns = nap_json_str(rs, "metadata.namespace", "default");
	const char *uid = nap_json_str(rs, "metadata.uid", "");
	const char *name = nap_json_str(rs, "metadata.name", "");
	int64_t want = nap_json_int(rs, "spec.replicas", 1);
	json_object *pods, *active, *st;
	size_t i, n;
	int64_t have, ready = 0;
	int changed;

	if (nap_json_get(rs, "metadata.deletionTimestamp"))
		return;
	pods = collect(sim, "pods", ns, uid, NULL, NULL);
	active = json_object_new_array();
	n = json_object_array_length(pods);
	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(pods, i);

		if (pod_active(p))
			json_object_array_add(active, json_object_get(p));
	}
	have = (int64_t)json_object_array_length(active);
	changed = have != want;
	for (; have < want; have++) {
		json_object *pod = json_object_new_object();
		json_object *tmeta = nap_json_get(rs, "spec.template.metadata");
		char *gen = nap_xasprintf("%s-", name);

		if (tmeta)
			json_object_object_add(pod, "metadata", sim_dup(tmeta));
		nap_json_set(pod, "metadata.generateName", json_object_new_string(gen));
		nap_json_set(pod, "metadata.namespace", json_object_new_string(ns));
		json_object_object_del(json_object_object_get(pod, "metadata"), "name");
		nap_json_set(
		    pod, "metadata.ownerReferences", owner_ref(rs, "apps/v1", "ReplicaSet"));
		json_object_object_add(pod, "apiVersion", json_object_new_string("v1"));
		json_object_object_add(
		    pod, "spec", sim_dup(nap_json_get(rs, "spec.template.spec")));
		free(gen);
		if (sim_create(sim, "pods", pod, NULL, NULL) < 0)
			break;
	}
	/* Scale down unscheduled pods first, then the youngest. */
	while (have > want) {
		json_object *victim = NULL;
		size_t an = json_object_array_length(active);

		for (i = 0; i < an && !victim; i++) {
			json_object *p = json_object_array_get_idx(active, i);

			if (p && !*nap_json_str(p, "spec.nodeName", ""))
				victim = p;
		}
		for (i = 0; i < an && !victim; i++) {
			json_object *p = json_object_array_get_idx(active, i);

			if (p &&
			    (!victim ||
				strcmp(nap_json_str(p, "metadata.creationTimestamp", ""),
				    nap_json_str(victim, "metadata.creationTimestamp", "")) > 0))
				victim = p;
		}
		if (!victim)
			break;
		delete_gracefully(sim, ns, nap_json_str(victim, "metadata.name", ""));
		for (i = 0; i < an; i++)
			if (json_object_array_get_idx(active, i) == victim)
				json_object_array_put_idx(active, i, NULL);
		have--;
	}
	json_object_put(active);

	/* Count again only if pods came or went: the walk is the whole namespace. */
	if (changed) {
		json_object_put(pods);
		pods = collect(sim, "pods", ns, uid, NULL, NULL);
	}
	n = json_object_array_length(pods);
	have = 0;
	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(pods, i);

		if (!pod_active(p))
			continue;
		have++;
		if (pod_ready(p))
			ready++;
	}
	json_object_put(pods);
	st = json_object_new_object();
	json_object_object_add(st, "replicas", json_object_new_int64(have));
	json_object_object_add(st, "fullyLabeledReplicas", json_object_new_int64(have));
	if (ready) {
		json_object_object_add(st, "readyReplicas", json_object_new_int64(ready));
		json_object_object_add(st, "availableReplicas", json_object_new_int64(ready));
	}
	json_object_object_add(st, "observedGeneration",
	    json_object_new_int64(nap_json_int(rs, "metadata.generation", 1)));
	rs = sim_get(sim, "replicasets", ns, name);
	if (rs)
		write_status(sim, "replicasets", rs, st);
	else
		json_object_put(st);
}

/* -- deployments --------------------------------------------------------- */

static void
template_hash(json_object *tmpl, char *buf)
{
	static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
	const char *s = nap_json_dump(tmpl);
	uint32_t h = 2166136261u;
	int i;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	for (i = 0; i < 10; i++) {
		buf[i] = alpha[h % (sizeof(alpha) - 1)];
		h = h / (sizeof(alpha) - 1) ^ (h << 7) ^ (uint32_t)i;
	}
	buf[10] = '\0';
}

static void
reconcile_deployment(struct sim *sim, json_object *d)
{
	const char *ns = nap_json_str(d, "metadata.namespace", "default");
	const char *uid = nap_json_str(d, "metadata.uid", "");
	const char *name = nap_json_str(d, "metadata.name", "");
	int64_t want = nap_json_int(d, "spec.replicas", 1);
	json_object *tmpl = nap_json_get(d, "spec.template");
	json_object *rss, *cur = NULL, *st, *conds, *c;
	int64_t replicas = 0, ready = 0, updated = 0;
	char hash[16], ts[40];
	size_t i, n;

	if (!tmpl || nap_json_get(d, "metadata.deletionTimestamp"))
		return;
	template_hash(tmpl, hash);
	rss = collect(sim, "replicasets", ns, uid, NULL, NULL);
	n = json_object_array_length(rss);
	for (i = 0; i < n; i++) {
		json_object *rs = json_object_array_get_idx(rss, i);

		if (!strcmp(nap_json_str(rs, "metadata.labels.pod-template-hash", ""), hash))
			cur = rs;
	}
	if (!cur) {
		json_object *rs = json_object_new_object(), *labels, *sel;
		char *rsname = nap_xasprintf("%s-%s", name, hash);

		json_object_object_add(rs, "apiVersion", json_object_new_string("apps/v1"));
		json_object_object_add(rs, "kind", json_object_new_string("ReplicaSet"));
		nap_json_set(rs, "metadata.name", json_object_new_string(rsname));
		nap_json_set(rs, "metadata.namespace", json_object_new_string(ns));
		labels = sim_dup(nap_json_get(tmpl, "metadata.labels"));
		if (!labels)
			labels = json_object_new_object();
		json_object_object_add(labels, "pod-template-hash", json_object_new_string(hash));
		nap_json_set(rs, "metadata.labels", labels);
		nap_json_set(rs, "metadata.ownerReferences", owner_ref(d, "apps/v1", "Deployment"));
		nap_json_set(rs, "spec.replicas", json_object_new_int64(want));
		sel = sim_dup(nap_json_get(d, "spec.selector"));
		if (!sel)
			sel = json_object_new_object();
		nap_json_set(sel, "matchLabels.pod-template-hash", json_object_new_string(hash));
		nap_json_set(rs, "spec.selector", sel);
		nap_json_set(rs, "spec.template", sim_dup(tmpl));
		nap_json_set(rs, "spec.template.metadata.labels.pod-template-hash",
		    json_object_new_string(hash));
		free(rsname);
		sim_create(sim, "replicasets", rs, &cur, NULL);
	}
	/* Roll out at once: the current set gets every replica, old ones none. */
	for (i = 0; i < n; i++) {
		json_object *rs = json_object_array_get_idx(rss, i);
		int64_t target = rs == cur ? want : 0;

		if (nap_json_int(rs, "spec.replicas", 1) != target) {
			json_object *copy = sim_dup(rs);

			nap_json_set(copy, "spec.replicas", json_object_new_int64(target));
			json_object_object_del(
			    json_object_object_get(copy, "metadata"), "resourceVersion");
			sim_update(sim, "replicasets", copy, NULL, NULL);
		}
	}
	json_object_put(rss);
	rss = collect(sim, "replicasets", ns, uid, NULL, NULL);
	n = json_object_array_length(rss);
	for (i = 0; i < n; i++) {
		json_object *rs = json_object_array_get_idx(rss, i);

		replicas += nap_json_int(rs, "status.replicas", 0);
		ready += nap_json_int(rs, "status.readyReplicas", 0);
		if (!strcmp(nap_json_str(rs, "metadata.labels.pod-template-hash", ""), hash))
			updated = nap_json_int(rs, "status.replicas", 0);
	}
	json_object_put(rss);
	st = json_object_new_object();
	json_object_object_add(st, "observedGeneration",
	    json_object_new_int64(nap_json_int(d, "metadata.generation", 1)));
	json_object_object_add(st, "replicas", json_object_new_int64(replicas));
	json_object_object_add(st, "updatedReplicas", json_object_new_int64(updated));
	if (ready) {
		json_object_object_add(st, "readyReplicas", json_object_new_int64(ready));
		json_object_object_add(st, "availableReplicas", json_object_new_int64(ready));
	}
	if (replicas > ready)
		json_object_object_add(
		    st, "unavailableReplicas", json_object_new_int64(replicas - ready));
	conds = json_object_new_array();
	/* Keep transition times stable so no-op reconciles stay no-ops. */
	{
		json_object *old = nap_json_get(d, "status.conditions");
		const char *avail = ready >= want ? "True" : "False";
		const char *oldts = NULL;

		for (i = 0; old && i < json_object_array_length(old); i++) {
			json_object *oc = json_object_array_get_idx(old, i);

			if (!strcmp(nap_json_str(oc, "type", ""), "Available") &&
			    !strcmp(nap_json_str(oc, "status", ""), avail))
				oldts = nap_json_str(oc, "lastTransitionTime", NULL);
		}
		sim_rfc3339(sim, ts, sizeof(ts));
		c = json_object_new_object();
		json_object_object_add(c, "type", json_object_new_string("Available"));
		json_object_object_add(c, "status", json_object_new_string(avail));
		json_object_object_add(c, "reason",
		    json_object_new_string(
			ready >= want ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable"));
		json_object_object_add(c, "message",
		    json_object_new_string(ready >= want
			    ? "Deployment has minimum availability."
			    : "Deployment does not have minimum availability."));
		json_object_object_add(
		    c, "lastUpdateTime", json_object_new_string(oldts ? oldts : ts));
		json_object_object_add(
		    c, "lastTransitionTime", json_object_new_string(oldts ? oldts : ts));
		json_object_array_add(conds, c);
	}
	json_object_object_add(st, "conditions", conds);
	d = sim_get(sim, "deployments", ns, name);
	if (d)
		write_status(sim, "deployments", d, st);
	else
		json_object_put(st);
}

/* -- disruption budgets -------------------------------------------------- */

/* An int-or-percent of total; percentages round up, as the controller does. */
static int64_t
int_or_percent(json_object *v, int64_t total)
{
	const char *s;
	char *end;
	double pct;

	if (!v)
		return -1;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	s = json_object_get_string(v);
	pct = strtod(s, &end);
	if (*end == '%')
		return (int64_t)ceil(pct * (double)total / 100.0);
	return (int64_t)pct;
}

/* What the disruption controller counts for a budget, from the pods now. */
static void
pdb_counts(struct sim *sim, json_object *pdb, int64_t *expected, int64_t *healthy,
    int64_t *desired)
{
	const char *ns = nap_json_str(pdb, "metadata.namespace", "default");
	json_object *pods, *minav, *maxun;
	size_t i, n;

	*expected = *healthy = *desired = 0;
	pods = collect(sim, "pods", ns, NULL, NULL, nap_json_get(pdb, "spec.selector"));
	n = json_object_array_length(pods);
	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(pods, i);

		if (!pod_active(p))
			continue;
		(*expected)++;
		if (pod_ready(p))
			(*healthy)++;
	}
	json_object_put(pods);
	minav = nap_json_get(pdb, "spec.minAvailable");
	maxun = nap_json_get(pdb, "spec.maxUnavailable");
	if (minav)
		*desired = int_or_percent(minav, *expected);
	else if (maxun)
		*desired = *expected - int_or_percent(maxun, *expected);
	if (*desired < 0)
		*desired = 0;
}

static void
reconcile_pdb(struct sim *sim, json_object *pdb)
{
	json_object *st, *conds, *c, *old;
	int64_t expected, healthy, desired, allowed;
	char ts[40];
	const char *oldts = NULL, *reason;
	size_t i;

	pdb_counts(sim, pdb, &expected, &healthy, &desired);
	allowed = healthy - desired;
	if (allowed < 0)
		allowed = 0;
	st = json_object_new_object();
	json_object_object_add(st, "observedGeneration",
	    json_object_new_int64(nap_json_int(pdb, "metadata.generation", 1)));
	json_object_object_add(st, "disruptionsAllowed", json_object_new_int64(allowed));
	json_object_object_add(st, "currentHealthy", json_object_new_int64(healthy));
	json_object_object_add(st, "desiredHealthy", json_object_new_int64(desired));
	json_object_object_add(st, "expectedPods", json_object_new_int64(expected));
	reason = allowed > 0 ? "SufficientPods" : "InsufficientPods";
	old = nap_json_get(pdb, "status.conditions");
	for (i = 0; old && i < json_object_array_length(old); i++) {
		json_object *oc = json_object_array_get_idx(old, i);

		if (!strcmp(nap_json_str(oc, "reason", ""), reason))
			oldts = nap_json_str(oc, "lastTransitionTime", NULL);
	}
	sim_rfc3339(sim, ts, sizeof(ts));
	conds = json_object_new_array();
	c = json_object_new_object();
	json_object_object_add(c, "type", json_object_new_string("DisruptionAllowed"));
	json_object_object_add(c, "status", json_object_new_string(allowed > 0 ? "True" : "False"));
	json_object_object_add(c, "reason", json_object_new_string(reason));
	json_object_object_add(c, "message", json_object_new_string(""));
	json_object_object_add(c, "observedGeneration",
	    json_object_new_int64(nap_json_int(pdb, "metadata.generation", 1)));
	json_object_object_add(c, "lastTransitionTime", json_object_new_string(oldts ? oldts : ts));
	json_object_array_add(conds, c);
	json_object_object_add(st, "conditions", conds);
	write_status(sim, "poddisruptionbudgets", pdb, st);
}

static void defer(struct sim *sim, int res, const char *ns, const char *name);

static void
pdbs_for_pod(struct sim *sim, const char *ns, json_object *pod)
{
	json_object *all = collect(sim, "poddisruptionbudgets", ns, NULL, NULL, NULL);
	size_t i, n = json_object_array_length(all);

	for (i = 0; i < n; i++) {
		json_object *pdb = json_object_array_get_idx(all, i);

		if (sim_labelselector_match(nap_json_get(pdb, "spec.selector"), pod))
			defer(sim, sim_rdesc_find("poddisruptionbudgets"), ns,
			    nap_json_str(pdb, "metadata.name", ""));
	}
	json_object_put(all);
}

int
sim_pdb_evict_check(struct sim *sim, json_object *pod, struct sim_resp *resp)
{
	const char *ns = nap_json_str(pod, "metadata.namespace", "default");
	json_object *all = collect(sim, "poddisruptionbudgets", ns, NULL, NULL, NULL);
	json_object *pdb = NULL, *copy, *dp;
	size_t i, n = json_object_array_length(all), matched = 0;
	int64_t allowed, healthy, desired;
	char ts[40];

	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(all, i);

		if (sim_labelselector_match(nap_json_get(p, "spec.selector"), pod)) {
			pdb = p;
			matched++;
		}
	}
	if (matched == 0) {
		json_object_put(all);
		return 0;
	}
	if (matched > 1) {
		json_object_put(all);
		sim_resp_status(resp, 500, "InternalError",
		    "This pod has more than one PodDisruptionBudget, which the eviction "
		    "subresource does not support.");
		return 1;
	}
	healthy = nap_json_int(pdb, "status.currentHealthy", 0);
	desired = nap_json_int(pdb, "status.desiredHealthy", 0);
	if (!pod_ready(pod) &&
	    ((healthy >= desired && desired > 0) ||
		!strcmp(nap_json_str(pdb, "spec.unhealthyPodEvictionPolicy", ""), "AlwaysAllow"))) {
		json_object_put(all);
		return 0;
	}
	if (nap_json_int(pdb, "status.observedGeneration", 0) <
	    nap_json_int(pdb, "metadata.generation", 1)) {
		json_object *st = json_object_new_object(), *det = json_object_new_object();
		json_object *causes = json_object_new_array(), *cause = json_object_new_object();
		char msg[400];

		snprintf(msg, sizeof(msg),
		    "The disruption budget %s is still being processed by the server.",
		    nap_json_str(pdb, "metadata.name", ""));
		json_object_object_add(st, "kind", json_object_new_string("Status"));
		json_object_object_add(st, "apiVersion", json_object_new_string("v1"));
		json_object_object_add(st, "metadata", json_object_new_object());
		json_object_object_add(st, "status", json_object_new_string("Failure"));
		json_object_object_add(st, "message", json_object_new_string(msg));
		json_object_object_add(st, "reason", json_object_new_string("TooManyRequests"));
		json_object_object_add(cause, "reason", json_object_new_string("DisruptionBudget"));
		json_object_object_add(cause, "message", json_object_new_string(msg));
		json_object_array_add(causes, cause);
		json_object_object_add(det, "causes", causes);
		json_object_object_add(det, "retryAfterSeconds", json_object_new_int(10));
		json_object_object_add(st, "details", det);
		json_object_object_add(st, "code", json_object_new_int(429));
		sim_resp_json(resp, 429, st);
		resp->retry_after = nap_xstrdup("10");
		json_object_put(all);
		return 1;
	}
	allowed = nap_json_int(pdb, "status.disruptionsAllowed", 0);
	if (allowed <= 0) {
		json_object *st = json_object_new_object(), *det = json_object_new_object();
		json_object *causes = json_object_new_array(), *cause = json_object_new_object();
		char msg[400];

		snprintf(msg, sizeof(msg),
		    "The disruption budget %s needs %lld healthy pods and has %lld currently",
		    nap_json_str(pdb, "metadata.name", ""), (long long)desired, (long long)healthy);
		json_object_object_add(st, "kind", json_object_new_string("Status"));
		json_object_object_add(st, "apiVersion", json_object_new_string("v1"));
		json_object_object_add(st, "metadata", json_object_new_object());
		json_object_object_add(st, "status", json_object_new_string("Failure"));
		json_object_object_add(st, "message",
		    json_object_new_string(
			"Cannot evict pod as it would violate the pod's disruption budget."));
		json_object_object_add(st, "reason", json_object_new_string("TooManyRequests"));
		json_object_object_add(cause, "reason", json_object_new_string("DisruptionBudget"));
		json_object_object_add(cause, "message", json_object_new_string(msg));
		json_object_array_add(causes, cause);
		json_object_object_add(det, "causes", causes);
		json_object_object_add(st, "details", det);
		json_object_object_add(st, "code", json_object_new_int(429));
		sim_resp_json(resp, 429, st);
		json_object_put(all);
		return 1;
	}
	copy = sim_dup(pdb);
	nap_json_set(copy, "status.disruptionsAllowed", json_object_new_int64(allowed - 1));
	dp = nap_json_get(copy, "status.disruptedPods");
	if (!dp) {
		dp = json_object_new_object();
		nap_json_set(copy, "status.disruptedPods", dp);
	}
	sim_rfc3339(sim, ts, sizeof(ts));
	json_object_object_add(
	    dp, nap_json_str(pod, "metadata.name", ""), json_object_new_string(ts));
	json_object_put(all);
	sim_update(sim, "poddisruptionbudgets", copy, NULL, NULL);
	return 0;
}

/*
 * A deletion that starts the end of a healthy pod while a budget covering
 * it has no disruption left takes that budget below its minimum.  Counted
 * from the pods as they are now, not from a status that may lag a burst.
 */
int
sim_pdb_blocks(struct sim *sim, json_object *pod)
{
	const char *ns = nap_json_str(pod, "metadata.namespace", "default");
	json_object *all;
	size_t i, n;
	int blocks = 0;

	if (!pod_ready(pod))
		return 0;
	all = collect(sim, "poddisruptionbudgets", ns, NULL, NULL, NULL);
	n = json_object_array_length(all);
	for (i = 0; i < n && !blocks; i++) {
		json_object *pdb = json_object_array_get_idx(all, i);
		int64_t expected, healthy, desired;

		if (!sim_labelselector_match(nap_json_get(pdb, "spec.selector"), pod))
			continue;
		pdb_counts(sim, pdb, &expected, &healthy, &desired);
		blocks = healthy - desired <= 0;
	}
	json_object_put(all);
	return blocks;
}

/* -- daemonsets ---------------------------------------------------------- */

/* The tolerations the DaemonSet controller adds to every pod it makes. */
static void
ds_tolerations(json_object *spec)
{
	static const struct {
		const char *key, *effect;
	} add[] = {
	    {"node.kubernetes.io/not-ready", "NoExecute"},
	    {"node.kubernetes.io/unreachable", "NoExecute"},
	    {"node.kubernetes.io/disk-pressure", "NoSchedule"},
	    {"node.kubernetes.io/memory-pressure", "NoSchedule"},
	    {"node.kubernetes.io/pid-pressure", "NoSchedule"},
	    {"node.kubernetes.io/unschedulable", "NoSchedule"},
	};
	json_object *tols = json_object_object_get(spec, "tolerations");
	size_t i;

	if (!tols || !json_object_is_type(tols, json_type_array)) {
		tols = json_object_new_array();
		json_object_object_add(spec, "tolerations", tols);
	}
	for (i = 0; i < NAP_ARRAY_LEN(add); i++) {
		json_object *t;

		if (has_toleration(tols, add[i].key))
			continue;
		t = json_object_new_object();
		json_object_object_add(t, "key", json_object_new_string(add[i].key));
		json_object_object_add(t, "operator", json_object_new_string("Exists"));
		json_object_object_add(t, "effect", json_object_new_string(add[i].effect));
		json_object_array_add(tols, t);
	}
}

static int
tolerated(json_object *tols, json_object *taint)
{
	size_t i,
	    n = tols && json_object_is_type(tols, json_type_array) ? json_object_array_length(tols)
								   : 0;
	const char *tk = nap_json_str(taint, "key", ""), *tv = nap_json_str(taint, "value", "");
	const char *te = nap_json_str(taint, "effect", "");

	for (i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(tols, i);
		const char *k = nap_json_str(t, "key", ""), *e = nap_json_str(t, "effect", "");
		int exists = !strcmp(nap_json_str(t, "operator", "Equal"), "Exists");

		if (*e && strcmp(e, te))
			continue;
		if (!*k && exists)
			return 1;
		if (!strcmp(k, tk) && (exists || !strcmp(nap_json_str(t, "value", ""), tv)))
			return 1;
	}
	return 0;
}

/*
 * Would the DaemonSet run on node: nodeSelector, then the node's taints;
 * a pod already running there only has to tolerate NoExecute ones.
 */
static int
ds_wants(json_object *ds, json_object *node, json_object *tols, int running)
{
	json_object *sel = nap_json_get(ds, "spec.template.spec.nodeSelector");
	json_object *labels = nap_json_get(node, "metadata.labels");
	json_object *taints;
	size_t i, n;

	if (sel && json_object_is_type(sel, json_type_object)) {
		json_object_object_foreach(sel, k, v)
		{
			json_object *have = nap_json_key(labels, k);

			if (!have ||
			    strcmp(json_object_get_string(have), json_object_get_string(v)))
				return 0;
		}
	}
	taints = nap_json_array(node, "spec.taints", &n);
	for (i = 0; taints && i < n; i++) {
		json_object *t = json_object_array_get_idx(taints, i);
		const char *e = nap_json_str(t, "effect", "");

		if (((!running && !strcmp(e, "NoSchedule")) || !strcmp(e, "NoExecute")) &&
		    !tolerated(tols, t))
			return 0;
	}
	return 1;
}

/* The node a DaemonSet pod is for: its nodeName, else its matchFields pin. */
static const char *
ds_pod_node(json_object *pod)
{
	const char *n = nap_json_str(pod, "spec.nodeName", "");
	json_object *terms, *mf, *vals;

	if (*n)
		return n;
	terms = nap_json_get(pod,
	    "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
	    "nodeSelectorTerms");
	mf = terms ? json_object_object_get(json_object_array_get_idx(terms, 0), "matchFields")
		   : NULL;
	vals = mf ? json_object_object_get(json_object_array_get_idx(mf, 0), "values") : NULL;
	return vals ? json_object_get_string(json_object_array_get_idx(vals, 0)) : "";
}

static json_object *
ds_pod(json_object *ds, const char *node)
{
	json_object *pod = json_object_new_object(), *spec, *tmeta, *terms, *term, *mf, *req, *vals;
	const char *name = nap_json_str(ds, "metadata.name", "");
	char *gen = nap_xasprintf("%s-", name);

	tmeta = nap_json_get(ds, "spec.template.metadata");
	if (tmeta)
		json_object_object_add(pod, "metadata", sim_dup(tmeta));
	nap_json_set(pod, "metadata.generateName", json_object_new_string(gen));
	free(gen);
	json_object_object_del(json_object_object_get(pod, "metadata"), "name");
	nap_json_set(pod, "metadata.namespace",
	    json_object_new_string(nap_json_str(ds, "metadata.namespace", "default")));
	nap_json_set(pod, "metadata.ownerReferences", owner_ref(ds, "apps/v1", "DaemonSet"));
	json_object_object_add(pod, "apiVersion", json_object_new_string("v1"));
	spec = sim_dup(nap_json_get(ds, "spec.template.spec"));
	if (!spec)
		spec = json_object_new_object();
	ds_tolerations(spec);
	/* Pinned with node affinity, for the scheduler to bind, as since 1.12. */
	req = json_object_new_object();
	json_object_object_add(req, "key", json_object_new_string("metadata.name"));
	json_object_object_add(req, "operator", json_object_new_string("In"));
	vals = json_object_new_array();
	json_object_array_add(vals, json_object_new_string(node));
	json_object_object_add(req, "values", vals);
	mf = json_object_new_array();
	json_object_array_add(mf, req);
	term = json_object_new_object();
	json_object_object_add(term, "matchFields", mf);
	terms = json_object_new_array();
	json_object_array_add(terms, term);
	nap_json_set(spec,
	    "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
	    "nodeSelectorTerms",
	    terms);
	json_object_object_add(pod, "spec", spec);
	return pod;
}

static void
reconcile_ds(struct sim *sim, json_object *ds)
{
	const char *ns = nap_json_str(ds, "metadata.namespace", "default");
	const char *uid = nap_json_str(ds, "metadata.uid", "");
	const char *dsname = nap_json_str(ds, "metadata.name", "");
	json_object *nodes, *pods, *tols, *st;
	size_t i, j, nn, np;
	int64_t desired = 0, current = 0, ready = 0;

	if (nap_json_get(ds, "metadata.deletionTimestamp"))
		return;
	tols = sim_dup(nap_json_get(ds, "spec.template.spec"));
	if (!tols)
		tols = json_object_new_object();
	ds_tolerations(tols);
	nodes = collect(sim, "nodes", NULL, NULL, NULL, NULL);
	pods = collect(sim, "pods", ns, uid, NULL, NULL);
	nn = json_object_array_length(nodes);
	np = json_object_array_length(pods);
	for (i = 0; i < nn; i++) {
		json_object *node = json_object_array_get_idx(nodes, i);
		const char *nname = nap_json_str(node, "metadata.name", "");
		json_object *t = json_object_object_get(tols, "tolerations");
		int want = ds_wants(ds, node, t, 0), have = 0;

		for (j = 0; j < np && !want; j++) {
			json_object *p = json_object_array_get_idx(pods, j);

			if (pod_active(p) && !strcmp(ds_pod_node(p), nname))
				want = ds_wants(ds, node, t, 1);
		}
		if (want)
			desired++;
		for (j = 0; j < np; j++) {
			json_object *p = json_object_array_get_idx(pods, j);

			if (!pod_active(p) || strcmp(ds_pod_node(p), nname))
				continue;
			if (want && !have) {
				have = 1;
				current++;
				if (pod_ready(p))
					ready++;
			} else {
				delete_gracefully(sim, ns, nap_json_str(p, "metadata.name", ""));
			}
		}
		if (want && !have) {
			sim_create(sim, "pods", ds_pod(ds, nname), NULL, NULL);
			current++;
		}
	}
	/* Pods for nodes that are gone. */
	for (j = 0; j < np; j++) {
		json_object *p = json_object_array_get_idx(pods, j);
		const char *pn = ds_pod_node(p);

		if (pod_active(p) && *pn && !sim_get(sim, "nodes", NULL, pn))
			sim_delete(sim, "pods", ns, nap_json_str(p, "metadata.name", ""), NULL);
	}
	json_object_put(nodes);
	json_object_put(pods);
	json_object_put(tols);
	st = json_object_new_object();
	json_object_object_add(st, "currentNumberScheduled", json_object_new_int64(current));
	json_object_object_add(st, "desiredNumberScheduled", json_object_new_int64(desired));
	json_object_object_add(st, "numberMisscheduled", json_object_new_int64(0));
	json_object_object_add(st, "numberReady", json_object_new_int64(ready));
	json_object_object_add(st, "numberAvailable", json_object_new_int64(ready));
	json_object_object_add(st, "updatedNumberScheduled", json_object_new_int64(current));
	json_object_object_add(st, "observedGeneration",
	    json_object_new_int64(nap_json_int(ds, "metadata.generation", 1)));
	ds = sim_get(sim, "daemonsets", ns, dsname);
	if (ds)
		write_status(sim, "daemonsets", ds, st);
	else
		json_object_put(st);
}

static void
reconcile_all_ds(struct sim *sim)
{
	json_object *all = collect(sim, "daemonsets", NULL, NULL, NULL, NULL);
	size_t i, n = json_object_array_length(all);

	for (i = 0; i < n; i++)
		reconcile_ds(sim, json_object_array_get_idx(all, i));
	json_object_put(all);
}

/* -- statefulsets -------------------------------------------------------- */

static int
ordered_parallel(json_object *sts)
{
	return !strcmp(nap_json_str(sts, "spec.podManagementPolicy", "OrderedReady"), "Parallel");
}

/* Pods <name>-0 .. <name>-(replicas-1), made in order and removed from the top. */
static void
reconcile_sts(struct sim *sim, json_object *sts)
{
	const char *ns = nap_json_str(sts, "metadata.namespace", "default");
	const char *name = nap_json_str(sts, "metadata.name", "");
	const char *uid = nap_json_str(sts, "metadata.uid", "");
	int64_t want = nap_json_int(sts, "spec.replicas", 1), i, have = 0, ready = 0;
	json_object *pods, *st, *p;
	size_t k, n;
	char pname[320];

	if (nap_json_get(sts, "metadata.deletionTimestamp"))
		return;
	for (i = 0; i < want; i++) {
		snprintf(pname, sizeof(pname), "%s-%lld", name, (long long)i);
		p = sim_get(sim, "pods", ns, pname);
		if (p) {
			have++;
			if (pod_ready(p))
				ready++;
			else if (!ordered_parallel(sts))
				break;
			continue;
		}
		{
			json_object *pod = json_object_new_object();
			json_object *tmeta = nap_json_get(sts, "spec.template.metadata");
			char ord[24];

			if (tmeta)
				json_object_object_add(pod, "metadata", sim_dup(tmeta));
			nap_json_set(pod, "metadata.name", json_object_new_string(pname));
			nap_json_set(pod, "metadata.namespace", json_object_new_string(ns));
			nap_json_set(pod, "metadata.ownerReferences",
			    owner_ref(sts, "apps/v1", "StatefulSet"));
			snprintf(ord, sizeof(ord), "%lld", (long long)i);
			if (!nap_json_get(pod, "metadata.labels"))
				nap_json_set(pod, "metadata.labels", json_object_new_object());
			json_object_object_add(nap_json_get(pod, "metadata.labels"),
			    "statefulset.kubernetes.io/pod-name", json_object_new_string(pname));
			json_object_object_add(nap_json_get(pod, "metadata.labels"),
			    "apps.kubernetes.io/pod-index", json_object_new_string(ord));
			json_object_object_add(pod, "apiVersion", json_object_new_string("v1"));
			json_object_object_add(
			    pod, "spec", sim_dup(nap_json_get(sts, "spec.template.spec")));
			nap_json_set(pod, "spec.hostname", json_object_new_string(pname));
			if (sim_create(sim, "pods", pod, NULL, NULL) == 0)
				have++;
		}
		/* OrderedReady: the next ordinal waits for this one. */
		if (!ordered_parallel(sts))
			break;
	}
	pods = collect(sim, "pods", ns, uid, NULL, NULL);
	n = json_object_array_length(pods);
	for (k = 0; k < n; k++) {
		const char *pn;
		const char *dash;

		p = json_object_array_get_idx(pods, k);
		pn = nap_json_str(p, "metadata.name", "");
		dash = strrchr(pn, '-');
		if (dash && strtoll(dash + 1, NULL, 10) >= want && pod_active(p))
			delete_gracefully(sim, ns, pn);
	}
	json_object_put(pods);
	st = json_object_new_object();
	json_object_object_add(st, "observedGeneration",
	    json_object_new_int64(nap_json_int(sts, "metadata.generation", 1)));
	json_object_object_add(st, "replicas", json_object_new_int64(have));
	json_object_object_add(st, "currentReplicas", json_object_new_int64(have));
	json_object_object_add(st, "updatedReplicas", json_object_new_int64(have));
	json_object_object_add(st, "readyReplicas", json_object_new_int64(ready));
	json_object_object_add(st, "availableReplicas", json_object_new_int64(ready));
	sts = sim_get(sim, "statefulsets", ns, name);
	if (sts)
		write_status(sim, "statefulsets", sts, st);
	else
		json_object_put(st);
}

/* -- node lifecycle ------------------------------------------------------ */

/* Mirror spec.unschedulable as the node.kubernetes.io/unschedulable taint. */
static void
reconcile_node_taints(struct sim *sim, json_object *node)
{
	static const char key[] = "node.kubernetes.io/unschedulable";
	int want = nap_json_bool(node, "spec.unschedulable", 0), have = -1;
	json_object *copy, *taints, *nt, *t;
	size_t i, n;
	char ts[40];

	taints = nap_json_array(node, "spec.taints", &n);
	for (i = 0; taints && i < n; i++)
		if (!strcmp(nap_json_str(json_object_array_get_idx(taints, i), "key", ""), key))
			have = (int)i;
	if (want == (have >= 0))
		return;
	copy = sim_dup(node);
	json_object_object_del(json_object_object_get(copy, "metadata"), "resourceVersion");
	if (want) {
		taints = nap_json_get(copy, "spec.taints");
		if (!taints || !json_object_is_type(taints, json_type_array)) {
			taints = json_object_new_array();
			nap_json_set(copy, "spec.taints", taints);
		}
		t = json_object_new_object();
		json_object_object_add(t, "key", json_object_new_string(key));
		json_object_object_add(t, "effect", json_object_new_string("NoSchedule"));
		sim_rfc3339(sim, ts, sizeof(ts));
		json_object_object_add(t, "timeAdded", json_object_new_string(ts));
		json_object_array_add(taints, t);
	} else {
		taints = nap_json_get(copy, "spec.taints");
		nt = json_object_new_array();
		for (i = 0; i < n; i++)
			if ((int)i != have)
				json_object_array_add(
				    nt, json_object_get(json_object_array_get_idx(taints, i)));
		if (json_object_array_length(nt))
			nap_json_set(copy, "spec.taints", nt);
		else {
			json_object_put(nt);
			json_object_object_del(json_object_object_get(copy, "spec"), "taints");
		}
	}
	sim_update(sim, "nodes", copy, NULL, NULL);
}

/* -- garbage collection -------------------------------------------------- */

static void
delete_all(struct sim *sim, const char *resource, json_object *arr)
{
	size_t i, n = json_object_array_length(arr);

	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		if (!strcmp(resource, "pods"))
			delete_gracefully(sim, nap_json_str(o, "metadata.namespace", NULL),
			    nap_json_str(o, "metadata.name", ""));
		else
			sim_delete(sim, resource, nap_json_str(o, "metadata.namespace", NULL),
			    nap_json_str(o, "metadata.name", ""), NULL);
	}
	json_object_put(arr);
}

static void
collect_dependents(struct sim *sim, json_object *owner)
{
	const char *ns = nap_json_str(owner, "metadata.namespace", NULL);
	const char *uid = nap_json_str(owner, "metadata.uid", "");

	if (!ns)
		return;
	delete_all(sim, "replicasets", collect(sim, "replicasets", ns, uid, NULL, NULL));
	delete_all(sim, "pods", collect(sim, "pods", ns, uid, NULL, NULL));
}

static void
delete_namespace_contents(struct sim *sim, const char *ns)
{
	size_t i;

	for (i = 0; i < sim_nrdescs; i++)
		if (sim_rdescs[i].namespaced)
			delete_all(sim, sim_rdescs[i].resource,
			    collect(sim, sim_rdescs[i].resource, ns, NULL, NULL, NULL));
}

/* -- events.k8s.io/v1 ---------------------------------------------------- */

/*
 * core/v1 and events.k8s.io/v1 Events are one set of objects in two shapes,
 * as the API server stores them once: a change to either is written to the
 * other, renamed field by field.  The renaming is its own inverse, so the
 * echo of a mirrored write is a no-op write and the exchange stops there.
 */
static const char *const event_fields[][2] = {
    {"involvedObject", "regarding"},
    {"message", "note"},
    {"reportingComponent", "reportingController"},
    {"source", "deprecatedSource"},
    {"firstTimestamp", "deprecatedFirstTimestamp"},
    {"lastTimestamp", "deprecatedLastTimestamp"},
    {"count", "deprecatedCount"},
};

/* obj (borrowed) in the other shape: to_new = core -> events.k8s.io. */
static json_object *
event_convert(json_object *obj, int to_new)
{
	json_object *out = json_object_new_object();
	size_t i;

	json_object_object_foreach(obj, k, v)
	{
		const char *name = k;

		for (i = 0; i < NAP_ARRAY_LEN(event_fields); i++)
			if (!strcmp(k, event_fields[i][to_new ? 0 : 1]))
				name = event_fields[i][to_new ? 1 : 0];
		if (!strcmp(k, "apiVersion"))
			json_object_object_add(out, k,
			    json_object_new_string(to_new ? "events.k8s.io/v1" : "v1"));
		else
			json_object_object_add(out, name, sim_dup(v));
	}
	json_object_object_del(json_object_object_get(out, "metadata"), "resourceVersion");
	return out;
}

static void
mirror_event(struct sim *sim, const struct sim_event *ev)
{
	int to_new = !*sim_rdescs[ev->res].group;
	int other = to_new ? sim_rdesc_find_gv("events.k8s.io", "v1", "events")
			   : sim_rdesc_find("events");
	const char *ns = nap_json_str(ev->obj, "metadata.namespace", NULL);
	const char *name = nap_json_str(ev->obj, "metadata.name", "");
	char *key = sim_key(ns, name);
	struct sim_entry *mine = sim_table_find(sim_table(sim, ev->res), key);
	struct sim_entry *theirs = sim_table_find(sim_table(sim, other), key);

	free(key);
	if (!mine) { /* gone here (maybe already replaced): gone there too */
		if (theirs)
			sim_delete_res(sim, other, ns, name, NULL, NULL);
		return;
	}
	if (theirs)
		sim_update_res(sim, other, event_convert(mine->obj, to_new), NULL, NULL);
	else
		sim_create_res(sim, other, event_convert(mine->obj, to_new), NULL, NULL);
}

/* -- dispatch ------------------------------------------------------------ */

static json_object *
owner_of(struct sim *sim, json_object *obj, const char *kind, const char *resource)
{
	size_t i, n;
	json_object *refs = nap_json_array(obj, "metadata.ownerReferences", &n);

	for (i = 0; refs && i < n; i++) {
		json_object *r = json_object_array_get_idx(refs, i);

		if (!strcmp(nap_json_str(r, "kind", ""), kind))
			return sim_get(sim, resource, nap_json_str(obj, "metadata.namespace", ""),
			    nap_json_str(r, "name", ""));
	}
	return NULL;
}

/*
 * Owners whose pods changed are reconciled once after the change queue
 * drains, not once per pod event: a ReplicaSet's or a PDB's reconcile walks
 * its namespace's pods, so doing it per event made creating or binding a
 * large deployment quadratic.  The controller-manager's work queues
 * deduplicate the same way.  Key: resource index, NUL, "ns/name".
 */
static void
defer(struct sim *sim, int res, const char *ns, const char *name)
{
	char *key = nap_xasprintf("%d:%s/%s", res, ns ? ns : "", name);

	if (!nap_hash_get(&sim->deferred, key))
		nap_hash_put(&sim->deferred, key, sim);
	free(key);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sim_controllers_flush(struct sim *sim)
{
	size_t pos = 0, n = 0, i, done = 0;
	const char *key;
	void *val;
	char **keys;
	double now = sim_now(sim), *last;

	if (!nap_hash_count(&sim->deferred))
		return 0;
	keys = nap_xcalloc(nap_hash_count(&sim->deferred), sizeof(*keys));
	while (nap_hash_next(&sim->deferred, &pos, &key, &val))
		keys[n++] = nap_xstrdup(key);
	nap_hash_free(&sim->deferred);
	nap_hash_init(&sim->deferred);
	/* A fixed order keeps runs with one seed reproducible. */
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++) {
		char *colon = strchr(keys[i], ':'), *slash;
		int res = (int)strtol(keys[i], NULL, 10);
		const char *r = sim_rdescs[res].resource;
		json_object *cur;

		/*
		 * A ReplicaSet is synced at most every RS_SYNC_GAP real seconds,
		 * as a controller's work queue coalesces its pods' events: each
		 * sync walks the namespace's pods, and the scheduler's and the
		 * kubelets' writes to thousands of pods marked it again after
		 * every slice and every request.  What waits is kept for a later
		 * drain (the main loop drains at least every tenth of a second).
		 */
		if (!strcmp(r, "replicasets")) {
			if ((last = nap_hash_get(&rs_synced, keys[i])) == NULL) {
				last = nap_xcalloc(1, sizeof(*last));
				*last = -RS_SYNC_GAP;
				nap_hash_put(&rs_synced, keys[i], last);
			}
			if (now - *last < RS_SYNC_GAP) {
				nap_hash_put(&sim->deferred, keys[i], sim);
				free(keys[i]);
				continue;
			}
			*last = now;
		}
		done++;
		slash = strchr(colon + 1, '/');
		*slash = '\0';
		cur = sim_get(sim, r, colon + 1, slash + 1);
		if (cur && !strcmp(r, "replicasets"))
			reconcile_rs(sim, cur);
		else if (cur && !strcmp(r, "poddisruptionbudgets"))
			reconcile_pdb(sim, cur);
		free(keys[i]);
	}
	free(keys);
	return done > 0;
}

static void
defer_owner(struct sim *sim, json_object *obj, const char *kind, const char *resource)
{
	size_t i, n;
	json_object *refs = nap_json_array(obj, "metadata.ownerReferences", &n);

	for (i = 0; refs && i < n; i++) {
		json_object *r = json_object_array_get_idx(refs, i);

		if (!strcmp(nap_json_str(r, "kind", ""), kind)) {
			defer(sim, sim_rdesc_find(resource),
			    nap_json_str(obj, "metadata.namespace", ""),
			    nap_json_str(r, "name", ""));
			return;
		}
	}
}

void
sim_controllers_on_change(struct sim *sim, const struct sim_event *ev)
{
	const char *r = sim_rdescs[ev->res].resource;
	json_object *obj = ev->obj, *cur, *dep;
	const char *ns = nap_json_str(obj, "metadata.namespace", NULL);
	const char *name = nap_json_str(obj, "metadata.name", "");

	if (!strcmp(r, "events")) {
		mirror_event(sim, ev);
		return;
	}
	cur = sim_get(sim, r, ns, name);
	if (!strcmp(r, "pods")) {
		defer_owner(sim, obj, "ReplicaSet", "replicasets");
		dep = owner_of(sim, obj, "StatefulSet", "statefulsets");
		if (dep)
			reconcile_sts(sim, dep);
		dep = owner_of(sim, obj, "DaemonSet", "daemonsets");
		if (dep &&
		    (ev->type != SIM_EV_MODIFIED ||
			!nap_json_equal(nap_json_get(ev->obj, "status.conditions"),
			    nap_json_get(ev->old, "status.conditions")) ||
			!cur))
			reconcile_ds(sim, dep);
		pdbs_for_pod(sim, ns, cur ? cur : obj);
	} else if (!strcmp(r, "replicasets")) {
		if (cur)
			defer(sim, ev->res, ns, name);
		dep = owner_of(sim, obj, "Deployment", "deployments");
		if (dep)
			reconcile_deployment(sim, dep);
	} else if (!strcmp(r, "deployments")) {
		if (cur)
			reconcile_deployment(sim, cur);
	} else if (!strcmp(r, "poddisruptionbudgets")) {
		if (cur)
			reconcile_pdb(sim, cur);
	} else if (!strcmp(r, "daemonsets")) {
		if (cur)
			reconcile_ds(sim, cur);
	} else if (!strcmp(r, "statefulsets")) {
		if (cur)
			reconcile_sts(sim, cur);
	} else if (!strcmp(r, "nodes")) {
		if (cur)
			reconcile_node_taints(sim, cur);
		cur = sim_get(sim, r, ns, name);
		if (ev->type == SIM_EV_DELETED) {
			delete_all(sim, "pods", collect(sim, "pods", NULL, NULL, name, NULL));
			/* its CSINode, owned by it */
			sim_delete(sim, "csinodes", NULL, name, NULL);
		}
		/* Labels and taints decide where daemons run; status does not. */
		if (ev->type != SIM_EV_MODIFIED ||
		    !nap_json_equal(json_object_object_get(ev->obj, "spec"),
			json_object_object_get(ev->old, "spec")) ||
		    !nap_json_equal(nap_json_get(ev->obj, "metadata.labels"),
			nap_json_get(ev->old, "metadata.labels")))
			reconcile_all_ds(sim);
	} else if (!strcmp(r, "namespaces") && ev->type == SIM_EV_DELETED) {
		delete_namespace_contents(sim, name);
	}
	if (ev->type == SIM_EV_DELETED)
		collect_dependents(sim, obj);
}

static void
ensure(struct sim *sim, const char *resource, json_object *obj)
{
	if (sim_get(sim, resource, NULL, nap_json_str(obj, "metadata.name", "")))
		json_object_put(obj);
	else
		sim_create(sim, resource, obj, NULL, NULL);
}

void
sim_controllers_init(struct sim *sim)
{
	static const char *const nss[] = {
	    "default",
	    "kube-system",
	    "kube-public",
	    "kube-node-lease",
	};
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(nss); i++) {
		json_object *ns = json_object_new_object();

		nap_json_set(ns, "metadata.name", json_object_new_string(nss[i]));
		ensure(sim, "namespaces", ns);
	}
	for (i = 0; i < sim_nrdescs; i++)
		if (sim_rdescs[i].crd)
			ensure(sim, "customresourcedefinitions", sim_crd_object((int)i));
}
