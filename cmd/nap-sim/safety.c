/*
 * safety.c - the invariants a tool that removes nodes must keep, counted as
 * nap-sim sees them happen, for GET /nap-sim/stats: pod deletions that took
 * a PodDisruptionBudget below its minimum, do-not-disrupt pods evicted, VMs
 * deleted with pods still to drain.  A deletion on the drain's forced path
 * (the node's termination deadline reached) is counted apart, because
 * Karpenter's termination bypasses budgets there on purpose.
 *
 * Everything here reads the store and bumps counters; nothing writes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "json.h"
#include "kube.h"
#include "wellknown.h"

struct sim_stats *
sim_stats(struct sim *sim)
{
	return &sim->stats;
}

json_object *
sim_stats_json(struct sim *sim)
{
	const struct sim_stats *s = &sim->stats;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pdbViolations", json_object_new_int64((int64_t)s->pdb_violations));
	json_object_object_add(o, "deadlinePodDeletions",
	    json_object_new_int64((int64_t)s->deadline_pod_deletions));
	json_object_object_add(o, "doNotDisruptEvicted",
	    json_object_new_int64((int64_t)s->do_not_disrupt_evicted));
	json_object_object_add(o, "evictions", json_object_new_int64((int64_t)s->evictions));
	json_object_object_add(
	    o, "evictionsRefused", json_object_new_int64((int64_t)s->evictions_refused));
	json_object_object_add(o, "vmsDeleted", json_object_new_int64((int64_t)s->vms_deleted));
	json_object_object_add(o, "vmsDeletedWithPods",
	    json_object_new_int64((int64_t)s->vms_deleted_with_pods));
	json_object_object_add(o, "vmsDeletedPastDeadline",
	    json_object_new_int64((int64_t)s->vms_deleted_past_deadline));
	return o;
}

/* The termination deadline stamped on obj, or -1. */
static long long
deadline_of(json_object *obj)
{
	json_object *a = nap_json_key(
	    nap_json_get(obj, "metadata.annotations"), NAP_ANN_TERMINATION_TIMESTAMP);
	time_t t;

	if (!json_object_is_type(a, json_type_string) ||
	    nap_kube_time_parse(json_object_get_string(a), &t) < 0)
		return -1;
	return (long long)t;
}

struct claim_find {
	const char *node;
	long long deadline;
};

static int
claim_fn(struct sim *sim, json_object *nc, void *arg)
{
	struct claim_find *f = arg;

	(void)sim;
	if (strcmp(nap_json_str(nc, "status.nodeName", ""), f->node))
		return 0;
	f->deadline = deadline_of(nc);
	return 1;
}

/* The node's deadline: its own annotation, else its NodeClaim's; -1 if none. */
static long long
node_deadline(struct sim *sim, const char *node)
{
	json_object *n = sim_get(sim, "nodes", NULL, node);
	struct claim_find f = {node, -1};

	if (n && deadline_of(n) >= 0)
		return deadline_of(n);
	sim_foreach(sim, "nodeclaims", NULL, claim_fn, &f);
	return f.deadline;
}

int
sim_past_deadline(struct sim *sim, const char *node, long grace)
{
	long long d;

	if (!node || !*node)
		return 0;
	d = node_deadline(sim, node);
	/* One second of slack: the stamp has whole seconds. */
	return d >= 0 && (long long)time(NULL) + (grace > 0 ? grace : 0) + 1 >= d;
}

int
sim_node_past_deadline(struct sim *sim, const char *node)
{
	return sim_past_deadline(sim, node, 0);
}

void
sim_count_pod_delete(struct sim *sim, json_object *pod, long grace)
{
	if (nap_json_get(pod, "metadata.deletionTimestamp") || !sim_pdb_blocks(sim, pod))
		return;
	if (grace < 0)
		grace = (long)nap_json_int(pod, "spec.terminationGracePeriodSeconds", 30);
	if (sim_past_deadline(sim, nap_json_str(pod, "spec.nodeName", ""), grace))
		sim->stats.deadline_pod_deletions++;
	else
		sim->stats.pdb_violations++;
}

static int
owned_by_daemonset(json_object *pod)
{
	size_t i, n;
	json_object *refs = nap_json_array(pod, "metadata.ownerReferences", &n);

	for (i = 0; refs && i < n; i++)
		if (!strcmp(nap_json_str(json_object_array_get_idx(refs, i), "kind", ""),
			"DaemonSet"))
			return 1;
	return 0;
}

struct drainable {
	const char *node;
	int found;
};

static int
drainable_fn(struct sim *sim, json_object *pod, void *arg)
{
	struct drainable *d = arg;
	const char *phase = nap_json_str(pod, "status.phase", "Pending");

	(void)sim;
	if (strcmp(nap_json_str(pod, "spec.nodeName", ""), d->node) || owned_by_daemonset(pod) ||
	    nap_json_key(nap_json_get(pod, "metadata.annotations"), "kubernetes.io/config.mirror") ||
	    !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))
		return 0;
	d->found = 1;
	return 1;
}

int
sim_node_has_drainable(struct sim *sim, const char *node)
{
	struct drainable d = {node, 0};

	if (!node || !*node)
		return 0;
	sim_foreach(sim, "pods", NULL, drainable_fn, &d);
	return d.found;
}
