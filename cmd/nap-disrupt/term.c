/*
 * term.c - the termination owner (karpenter.md §3, "NodeClaim
 * finalization" and "Node termination"): every Node and NodeClaim that is
 * being deleted and carries the karpenter.sh/termination finalizer is
 * drained, its VM deleted, and the finalizer dropped, in this order:
 *
 *   NodeClaim: stamp the termination deadline; delete its Node and wait for
 *   it to go; delete the VM until NotFound; drop the finalizer.
 *
 *   Node: delete its NodeClaim too; taint karpenter.sh/disrupted:NoSchedule;
 *   drain in four tiers through the Eviction API; wait for the
 *   VolumeAttachments of drained pods; delete the VM until NotFound; drop
 *   the finalizer.
 *
 * Each pass decides from the model alone, so a restarted nap-disrupt picks
 * up where the API server says things are.  The one rule everything here
 * protects: the VM is never deleted while a pod the drain must move is on
 * the node, unless the node's deadline has passed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "json.h"
#include "log.h"
#include "text.h"
#include "wellknown.h"

#define NO_DEADLINE INT64_MAX
#define STUCK_MS 60000	  /* a pod this long past its deletionTimestamp is bypassed */
#define MIN_DRAIN_MS 5000 /* karpenter.md §3: minimum drain time after the taint is seen */
#define EVICT_BACKOFF_MIN 100
#define EVICT_BACKOFF_MAX 10000

static char disrupted_key[] = NAP_TAINT_DISRUPTED, empty_value[] = "";
static const struct nap_taint disrupted = {disrupted_key, empty_value, NAP_EFFECT_NOSCHEDULE};

static int
has_finalizer(const struct nap_meta *m)
{
	size_t i, n;
	json_object *f = m->raw ? nap_json_array(m->raw, "metadata.finalizers", &n) : NULL;

	for (i = 0; f && i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(f, i)),
			NAP_FINALIZER_TERMINATION) == 0)
			return 1;
	return 0;
}

static int
node_tainted(const struct nap_node *n)
{
	size_t i;

	for (i = 0; i < n->ntaints; i++)
		if (strcmp(n->taints[i].key, NAP_TAINT_DISRUPTED) == 0 &&
		    n->taints[i].effect == NAP_EFFECT_NOSCHEDULE)
			return 1;
	return 0;
}

/* The VM's name: the last segment of the providerID, "" when there is none. */
static const char *
vm_name(const char *provider_id)
{
	const char *s = strrchr(provider_id, '/');

	return s && strstr(provider_id, "/virtualMachines/") ? s + 1 : "";
}

/*
 * The node's termination deadline, wall-clock ms: the NodeClaim's
 * annotation when stamped, else deletionTimestamp + terminationGracePeriod,
 * else none.
 */
static int64_t
deadline_of(const struct ctx *x, const struct nap_nodeclaim *c)
{
	const char *a;
	int64_t t;

	if (!c)
		return NO_DEADLINE;
	a = nap_meta_annotation(&c->meta, NAP_ANN_TERMINATION_TIMESTAMP);
	if (a && nap_time_parse(a, &t) == 0)
		return t * 1000;
	if (c->meta.deleted && c->termination_grace != NAP_NEVER)
		return c->meta.deleted * 1000 + c->termination_grace;
	return NO_DEADLINE;
}

static int
critical(const struct nap_pod *p)
{
	const char *pc = p->meta.raw ? nap_json_str(p->meta.raw, "spec.priorityClassName", "") : "";

	return strcmp(pc, "system-cluster-critical") == 0 ||
	    strcmp(pc, "system-node-critical") == 0;
}

/*
 * A pod the drain must move: not terminal, not a static (mirror) pod, not
 * tolerating the disrupted taint, not stuck terminating.
 */
static int
drainable(const struct ctx *x, const struct nap_pod *p, int64_t now)
{
	if (nap_pod_is_terminal(p) || p->mirror || p->owner == NAP_OWNER_NODE)
		return 0;
	if (nap_tolerates(p->tolerations, p->ntolerations, &disrupted))
		return 0;
	if (p->meta.deleted && now > p->meta.deleted * 1000 + STUCK_MS)
		return 0;
	return 1;
}

/* Karpenter's tiers: non-critical before critical, non-DaemonSet before DaemonSet. */
static int
tier(const struct nap_pod *p)
{
	return (critical(p) ? 2 : 0) + (p->owner == NAP_OWNER_DAEMONSET ? 1 : 0);
}

static struct podwait *
podwait(struct ctx *x, const struct nap_pod *p)
{
	int added;
	void **slot = nap_hash_slot(&x->waits, p->meta.uid, &added);

	if (added)
		*slot = nap_xcalloc(1, sizeof(struct podwait));
	return *slot;
}

/* Delete the pod with what is left of the node's deadline as its grace (never 0). */
static void
force_delete(
    struct ctx *x, const struct nap_node *n, const struct nap_pod *p, int64_t now, int64_t deadline)
{
	struct podwait *w = podwait(x, p);
	struct nap_err err;
	int64_t left = deadline > now ? deadline - now : 0, grace;
	char *path;
	int rc;

	if (now < w->next_ms || w->forced)
		return;
	grace = left / 1000;
	if (grace < 1)
		grace = 1;
	if (p->meta.deleted && p->meta.deleted * 1000 <= deadline)
		return; /* already going, and before the deadline */
	path = path_pod(p->meta.ns, p->meta.name);
	rc = k_delete(x, path, p->meta.uid, grace, &err);
	free(path);
	w->next_ms = now + scaled(x, 1000);
	if (rc < 0) {
		nap_warn("node %s: delete pod %s/%s: %s", n->meta.name, p->meta.ns, p->meta.name,
		    err.msg);
		return;
	}
	if (rc == 0) {
		w->forced = 1;
		x->nforced++;
		obs_forced();
		obs_event(x, "Pod", "v1", &p->meta, "Warning", "Disrupted",
		    "Deleting the pod with %llds grace to meet the termination deadline of node %s",
		    (long long)grace, n->meta.name);
	}
}

/* 1 when the pod was evicted or is gone, 0 when it must wait. */
static int
evict(struct ctx *x, const struct nap_node *n, const struct nap_pod *p, int64_t now)
{
	struct podwait *w = podwait(x, p);
	struct nap_err err;
	int rc;

	if (now < w->next_ms)
		return 0;
	if (nap_pod_do_not_disrupt(p, now / 1000)) {
		obs_event(x, "Node", "v1", &n->meta, "Warning", "FailedDraining",
		    "Pod %s/%s has the %s annotation; it stays until the node's deadline",
		    p->meta.ns, p->meta.name, NAP_ANN_DO_NOT_DISRUPT);
		w->next_ms = now + scaled(x, 1000);
		return 0;
	}
	rc = k_evict(x, p, &err);
	obs_evicted(x, n, rc == 0 ? 200 : (int)err.http);
	if (rc == 0 || rc == 1) {
		if (rc == 0) {
			x->nevicted++;
			nap_info(
			    "node %s: evicted pod %s/%s", n->meta.name, p->meta.ns, p->meta.name);
			obs_event(x, "Pod", "v1", &p->meta, "Normal", "Evicted",
			    "Evicted pod: the termination of node %s", n->meta.name);
		}
		/* Its deletion shows in the model next; do not ask again meanwhile. */
		w->next_ms = now + scaled(x, 10000);
		w->backoff_ms = 0;
		return 1;
	}
	w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : EVICT_BACKOFF_MIN;
	if (w->backoff_ms > EVICT_BACKOFF_MAX)
		w->backoff_ms = EVICT_BACKOFF_MAX;
	w->next_ms = now + scaled(x, w->backoff_ms);
	if (rc == 2) {
		x->nblocked++;
		obs_event(x, "Node", "v1", &n->meta, "Warning", "FailedDraining",
		    "Failed to drain node, pod %s/%s: %s", p->meta.ns, p->meta.name, err.msg);
	} else {
		nap_warn("node %s: evict pod %s/%s: %s", n->meta.name, p->meta.ns, p->meta.name,
		    err.msg);
	}
	return 0;
}

/*
 * One drain step.  Returns the number of drainable pods still on the node
 * (0: drained).
 */
static size_t
drain(struct ctx *x, const struct nap_node *n, int64_t now, int64_t deadline)
{
	size_t np, i, left = 0;
	struct nap_pod *const *pods = nap_cluster_pods_on_node(x->cl, n->meta.name, &np);
	int low = 4;

	for (i = 0; i < np; i++) {
		const struct nap_pod *p = pods[i];

		if (!drainable(x, p, now))
			continue;
		left++;
		/*
		 * A pod whose grace would outlive the deadline goes now, whatever
		 * its tier, PDB or annotation: that is what the deadline means.
		 */
		if (deadline != NO_DEADLINE && now + p->grace_seconds * 1000 >= deadline) {
			force_delete(x, n, p, now, deadline);
			continue;
		}
		if (tier(p) < low)
			low = tier(p);
	}
	if (left == 0 || low == 4)
		return left;
	for (i = 0; i < np; i++) {
		const struct nap_pod *p = pods[i];

		if (!drainable(x, p, now) || tier(p) != low || p->meta.deleted)
			continue;
		if (deadline != NO_DEADLINE && now + p->grace_seconds * 1000 >= deadline)
			continue;
		evict(x, n, p, now);
	}
	return left;
}

/*
 * VolumeAttachments on the node that drained pods may still hold: every
 * attachment to the node except those of PersistentVolumes a pod that stays
 * (a DaemonSet or static pod, or one tolerating the taint) uses.  -1 when
 * they cannot be read (the node waits).
 */
static int
attachments(struct ctx *x, const struct nap_node *n, int64_t now)
{
	json_object *items = NULL;
	struct nap_err err;
	char *rv = NULL;
	size_t i, k, np, cnt = 0;
	struct nap_pod *const *pods = nap_cluster_pods_on_node(x->cl, n->meta.name, &np);

	if (nap_kube_list(
		x->kube, "/apis/storage.k8s.io/v1/volumeattachments", 0, &items, &rv, &err) < 0) {
		free(rv);
		if (err.http == 404)
			return 0; /* not served: nothing to wait for */
		nap_warn("node %s: list volumeattachments: %s", n->meta.name, err.msg);
		return -1;
	}
	free(rv);
	for (i = 0; i < json_object_array_length(items); i++) {
		json_object *va = json_object_array_get_idx(items, i);
		const char *pv = nap_json_str(va, "spec.source.persistentVolumeName", "");
		int kept = 0;

		if (strcmp(nap_json_str(va, "spec.nodeName", ""), n->meta.name) != 0)
			continue;
		for (k = 0; k < np && !kept; k++) {
			const struct nap_pod *p = pods[k];
			size_t j;

			if (drainable(x, p, now) || nap_pod_is_terminal(p))
				continue;
			for (j = 0; j < p->npvcs && !kept; j++) {
				const struct nap_pvc *c =
				    nap_cluster_get(x->cl, NAP_KIND_PVC, p->meta.ns, p->pvcs[j]);

				kept = c && strcmp(c->volume_name, pv) == 0;
			}
		}
		if (!kept)
			cnt++;
	}
	json_object_put(items);
	return (int)cnt;
}

/*
 * The VM, then the finalizer.  last: no other object waits on this VM (the
 * NodeClaim, or a Node without one), so what vm.c remembers of it can go.
 */
static void
finish(struct ctx *x, const char *kind, const struct nap_meta *m, const char *provider_id, int last)
{
	const char *vm = vm_name(provider_id);
	struct nap_err err;
	char *path;
	int rc;

	if (vm[0] && vm_delete(x, vm) != 1)
		return;
	path = strcmp(kind, "Node") == 0 ? path_node(m->name) : path_nodeclaim(m->name);
	rc = k_drop_finalizer(x, path, m, &err);
	free(path);
	if (rc < 0) {
		nap_warn("%s %s: remove finalizer: %s",
		    strcmp(kind, "Node") == 0 ? "node" : "nodeclaim", m->name, err.msg);
		return;
	}
	x->nfinalized++;
	obs_finished(x, kind, m);
	if (m->uid[0] && !nap_hash_get(&x->done, m->uid)) {
		int64_t *t = nap_xmalloc(sizeof(*t));

		*t = wall_ms();
		nap_hash_put(&x->done, m->uid, t);
	}
	nap_info("%s %s: terminated", strcmp(kind, "Node") == 0 ? "node" : "nodeclaim", m->name);
	if (last && vm[0])
		vm_forget(x, vm);
}

static void
node_pass(struct ctx *x, const struct nap_node *n, int64_t now)
{
	struct nap_nodeclaim *c = nap_cluster_nodeclaim_of(x->cl, n);
	int64_t deadline = deadline_of(x, c);
	struct nap_err err;
	size_t left;
	char *path;
	int va, *seen, added;
	void **slot;

	/* Deleting a Node deletes its NodeClaim, as in Karpenter. */
	if (c && !c->meta.deleted) {
		path = path_nodeclaim(c->meta.name);
		if (k_delete(x, path, c->meta.uid, -1, &err) < 0)
			nap_warn("node %s: delete nodeclaim %s: %s", n->meta.name, c->meta.name,
			    err.msg);
		free(path);
	}
	if (!node_tainted(n)) {
		if (k_taint_disrupted(x, n, &err) < 0)
			nap_debug("node %s: taint: %s", n->meta.name, err.msg);
		return; /* drain once the taint is seen: no pod can land after that */
	}
	slot = nap_hash_slot(&x->tainted, n->meta.uid, &added);
	if (added) {
		*slot = nap_xmalloc(sizeof(int64_t));
		*(int64_t *)*slot = now;
		obs_event(
		    x, "Node", "v1", &n->meta, "Normal", "DisruptionTerminating", "Draining node");
	}
	seen = *slot;
	left = drain(x, n, now, deadline);
	if (left > 0 && now < deadline)
		return;
	if (now < *(int64_t *)seen + scaled(x, MIN_DRAIN_MS) && now < deadline)
		return;
	if (now < deadline) {
		va = attachments(x, n, now);
		if (va != 0) {
			if (va > 0)
				obs_event(x, "Node", "v1", &n->meta, "Normal",
				    "AwaitingVolumeDetachment",
				    "Awaiting deletion of %d VolumeAttachments bound to node", va);
			return;
		}
	}
	if (left > 0)
		nap_warn("node %s: deadline passed with %zu pods left; deleting the vm",
		    n->meta.name, left);
	finish(x, "Node", &n->meta, c && c->provider_id[0] ? c->provider_id : n->provider_id, !c);
}

static void
claim_pass(struct ctx *x, const struct nap_nodeclaim *c, int64_t now)
{
	const struct nap_node *n = nap_cluster_node_of(x->cl, c);
	struct nap_err err;
	char *path, ts[32];

	if (c->termination_grace != NAP_NEVER &&
	    !nap_meta_annotation(&c->meta, NAP_ANN_TERMINATION_TIMESTAMP)) {
		rfc3339(deadline_of(x, c), ts, sizeof(ts));
		path = path_nodeclaim(c->meta.name);
		if (k_annotate(x, path, NAP_ANN_TERMINATION_TIMESTAMP, ts, &err) < 0)
			nap_warn("nodeclaim %s: annotate: %s", c->meta.name, err.msg);
		else
			obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Warning",
			    "TerminationGracePeriodExpiring", "All pods will be deleted by %s", ts);
		free(path);
	}
	if (n) {
		if (!n->meta.deleted) {
			path = path_node(n->meta.name);
			if (k_delete(x, path, n->meta.uid, -1, &err) < 0)
				nap_warn("nodeclaim %s: delete node %s: %s", c->meta.name,
				    n->meta.name, err.msg);
			free(path);
		}
		return; /* the Node's own termination drains; wait for it to go */
	}
	finish(x, "NodeClaim", &c->meta, c->provider_id, 1);
}

/* A registered Node of ours without the finalizer gets it, so that deleting it drains. */
static void
adopt(struct ctx *x, const struct nap_node *n)
{
	struct nap_err err;
	char *path;

	if (!n->nodeclaim[0] && !n->nodepool)
		return;
	path = path_node(n->meta.name);
	if (k_add_finalizer(x, path, &n->meta, &err) < 0)
		nap_debug("node %s: add finalizer: %s", n->meta.name, err.msg);
	free(path);
}

/*
 * What the passes remember and no longer need: pods not tried for a minute,
 * objects finished and nodes first seen tainted ten minutes ago (by then
 * the deletion has reached us).
 */
static void
purge(struct ctx *x, int64_t now)
{
	struct nap_hash *h[3] = {&x->waits, &x->done, &x->tainted};
	int64_t keep[3] = {60000, 600000, 600000};
	size_t i, pos;
	const char *k;
	void *v;
	char **old = NULL;
	size_t nold = 0, aold = 0;

	for (i = 0; i < 3; i++) {
		pos = 0;
		nold = 0;
		while (nap_hash_next(h[i], &pos, &k, &v)) {
			/* struct podwait starts with next_ms; done and tainted hold a bare time */
			if (*(int64_t *)v + keep[i] < now) {
				nap_xgrow(&old, &aold, nold + 1, sizeof(*old));
				old[nold++] = nap_xstrdup(k);
			}
		}
		while (nold > 0) {
			nold--;
			free(nap_hash_del(h[i], old[nold]));
			free(old[nold]);
		}
	}
	free(old);
}

void
term_pass(struct ctx *x)
{
	size_t i, nn, nc;
	struct nap_node *const *nodes = nap_cluster_nodes(x->cl, &nn);
	struct nap_nodeclaim *const *claims;
	int64_t now = now_ms(x);

	if (now >= x->next_purge_ms) {
		purge(x, now);
		x->next_purge_ms = now + 60000;
	}
	for (i = 0; i < nn; i++) {
		const struct nap_node *n = nodes[i];

		if (nap_hash_get(&x->done, n->meta.uid))
			continue;

		if (!has_finalizer(&n->meta)) {
			if (!n->meta.deleted && n->registered)
				adopt(x, n);
			continue;
		}
		if (n->meta.deleted)
			node_pass(x, n, now);
	}
	/* node_pass acts through the API only; the model is unchanged, so claims is valid. */
	claims = nap_cluster_nodeclaims(x->cl, &nc);
	for (i = 0; i < nc; i++)
		if (claims[i]->meta.deleted && has_finalizer(&claims[i]->meta) &&
		    !nap_hash_get(&x->done, claims[i]->meta.uid))
			claim_pass(x, claims[i], now);
}
