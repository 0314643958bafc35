/*
 * sched.c - nap-sim's kube-scheduler.  Written apart from nap-solve on
 * purpose: it checks nap's work the way the real scheduler would.  Each
 * pass takes the pending pods (highest priority, then oldest, first), runs
 * the default profile's filters over every node in kube-scheduler's order
 * (NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts,
 * NodeResourcesFit, NodeVolumeLimits, PodTopologySpread, InterPodAffinity),
 * binds the pod to
 * the least allocated node that passes, and otherwise writes PodScheduled
 * False / Unschedulable with kube-scheduler's message.  It never preempts.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "json.h"
#include "log.h"
#include "world.h"

struct snode {
	json_object *obj; /* referenced */
	const char *name;
	json_object *labels;
	json_object *taints;
	int unschedulable;
	struct nap_res alloc, used;
	struct nap_res used_nz; /* with the scoring defaults for unset requests */
	json_object *alloc_list;
	json_object *ports; /* array of "proto/port" strings in use */
	json_object *vols;  /* "ns/claim" of the claims its pods use (repeats allowed) */
	int64_t vol_limit;  /* its CSINode's disk.csi.azure.com count; -1 none */
};

struct pcache;

struct spod {
	const struct pcache *pc;
	json_object *obj; /* held by the cache */
	const char *ns, *name;
	json_object *labels;
	int node;     /* index in nodes, -1 unbound */
	int has_anti; /* carries required anti-affinity terms */
};

struct sstate {
	struct world *w;
	struct snode *nodes;
	size_t nn, an;
	struct spod *pods;
	size_t np, ap;
	size_t *pending; /* indexes of pods to place */
	size_t npend, apend;
	unsigned long binds;  /* pods bound so far in this pass */
	struct nap_hash same; /* ReplicaSet uid -> struct verdict, this pass */
	size_t *bound;	      /* pods bound in this pass, in order (binds of them) */
	size_t abound;
	struct nap_hash spread; /* ReplicaSet uid + constraint -> struct spread_memo */
};

/*
 * What a pass needs of a pod, worked out once per stored version: the store
 * never changes a stored tree, and the cache holds a reference, so the
 * object's address names the version.  Entries not seen in a pass go.
 */
struct pcache {
	json_object *obj;
	unsigned long gen;
	int skip;	  /* terminal, or unbound and not ours to place */
	int deleting;	  /* metadata.deletionTimestamp set */
	const char *node; /* "" when unbound */
	const char *ns, *name, *created, *owner_rs, *uid;
	json_object *labels;
	int has_anti;
	int64_t prio;
	struct nap_res req, nz;
	json_object *ports;  /* "proto/port" strings */
	json_object *claims; /* "ns/claim" of its persistentVolumeClaim volumes */
};

/* Where a pass that yielded stopped: the queue order's key of the last pod tried. */
struct cursor {
	int set;
	int64_t prio;
	char *created, *ns, *name;
};

struct scache {
	struct nap_hash h;
	unsigned long gen;
	struct nap_hash parked; /* uid -> struct parked: found unschedulable */
	struct cursor cur;
};

static void cursor_clear(struct cursor *k);

/*
 * A pass yields after this many real seconds and the next one goes on after
 * the last pod it tried: nap-sim serves one thread, and a pass over
 * thousands of pending pods would leave the API unanswered and the watches
 * undrained for seconds (the pods' writes of one pass overran a watcher's
 * 64 MB and cut it off).
 */
#define SCHED_SLICE 0.15

/* A pod found unschedulable at epoch, waiting for a change that may help. */
struct parked {
	unsigned long epoch, gen;
	double at; /* real time it was parked */
};

/*
 * kube-scheduler moves every unschedulable pod back to the active queue
 * after five minutes whatever happened; here five simulated minutes, but
 * at most 30 real seconds, so a change the epoch missed cannot strand a pod.
 */
#define PARK_FLUSH_SIM 300.0
#define PARK_FLUSH_REAL 30.0

/* The failure of one pod of a ReplicaSet, reused for its siblings while
 * nothing has been bound since. */
struct verdict {
	unsigned long binds;
	char *reason, *msg;
};

/* ---- selectors, tolerations, node affinity --------------------------- */

static int
str_in(json_object *arr, const char *v)
{
	size_t i, n;

	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

		if (s && strcmp(s, v) == 0)
			return 1;
	}
	return 0;
}

/*
 * The set operators shared by label selectors and node-selector terms:
 * does a label value (NULL when the label is absent) satisfy op over vals?
 * An operator this does not know satisfies nothing.
 */
static int
set_op_ok(const char *op, json_object *vals, const char *have)
{
	if (strcmp(op, "In") == 0)
		return have != NULL && str_in(vals, have);
	if (strcmp(op, "NotIn") == 0)
		return have == NULL || !str_in(vals, have);
	if (strcmp(op, "Exists") == 0)
		return have != NULL;
	if (strcmp(op, "DoesNotExist") == 0)
		return have == NULL;
	return 0;
}

/* A LabelSelector: NULL matches nothing, {} everything. */
int
sched_selector_matches(json_object *sel, json_object *labels)
{
	json_object *ml, *me;
	size_t i, n;

	if (sel == NULL || !json_object_is_type(sel, json_type_object))
		return 0;
	if ((ml = nap_json_key(sel, "matchLabels")) != NULL &&
	    json_object_is_type(ml, json_type_object)) {
		json_object_object_foreach(ml, k, v)
		{
			const char *have = nap_json_str(nap_json_key(labels, k), "", NULL);

			if (have == NULL || strcmp(have, json_object_get_string(v)) != 0)
				return 0;
		}
	}
	me = nap_json_array(sel, "matchExpressions", &n);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(me, i);
		const char *k = nap_json_str(e, "key", "");
		const char *op = nap_json_str(e, "operator", "");
		json_object *vals = nap_json_get(e, "values");
		const char *have = nap_json_str(nap_json_key(labels, k), "", NULL);

		if (!set_op_ok(op, vals, have))
			return 0;
	}
	return 1;
}

int
sched_pod_tolerates(json_object *pod, json_object *taint)
{
	json_object *tols = nap_json_get(pod, "spec.tolerations");
	const char *tk = nap_json_str(taint, "key", "");
	const char *tv = nap_json_str(taint, "value", "");
	const char *te = nap_json_str(taint, "effect", "");
	size_t i,
	    n = tols && json_object_is_type(tols, json_type_array) ? json_object_array_length(tols)
								   : 0;

	for (i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(tols, i);
		const char *k = nap_json_str(t, "key", "");
		const char *op = nap_json_str(t, "operator", "Equal");
		const char *v = nap_json_str(t, "value", "");
		const char *e = nap_json_str(t, "effect", "");

		if (*e && strcmp(e, te) != 0)
			continue;
		if (*k == '\0') {
			if (strcmp(op, "Exists") == 0)
				return 1;
			continue;
		}
		if (strcmp(k, tk) != 0)
			continue;
		if (strcmp(op, "Exists") == 0 || strcmp(v, tv) == 0)
			return 1;
	}
	return 0;
}

static int
term_matches(json_object *term, const struct snode *nd)
{
	json_object *me, *mf;
	size_t i, n, nf;

	me = nap_json_array(term, "matchExpressions", &n);
	mf = nap_json_array(term, "matchFields", &nf);
	if (n == 0 && nf == 0)
		return 0; /* an empty term matches no objects */
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(me, i);
		const char *k = nap_json_str(e, "key", "");
		const char *op = nap_json_str(e, "operator", "");
		json_object *vals = nap_json_get(e, "values");
		const char *have = nap_json_str(nap_json_key(nd->labels, k), "", NULL);

		if (strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0) {
			const char *v = json_object_get_string(json_object_array_get_idx(vals, 0));
			char *e1, *e2;
			long long a, b;

			if (have == NULL || v == NULL)
				return 0;
			a = strtoll(have, &e1, 10);
			b = strtoll(v, &e2, 10);
			if (*e1 || *e2 || (op[0] == 'G' ? !(a > b) : !(a < b)))
				return 0;
			continue;
		}
		if (!set_op_ok(op, vals, have))
			return 0;
	}
	for (i = 0; i < nf; i++) {
		json_object *e = json_object_array_get_idx(mf, i);
		const char *op = nap_json_str(e, "operator", "");
		int in = str_in(nap_json_get(e, "values"), nd->name);

		if (strcmp(nap_json_str(e, "key", ""), "metadata.name") != 0)
			return 0;
		if ((strcmp(op, "In") == 0 && !in) || (strcmp(op, "NotIn") == 0 && in))
			return 0;
	}
	return 1;
}

/* nodeSelector and required node affinity. */
static int
node_affinity_ok(json_object *pod, const struct snode *nd)
{
	json_object *ns = nap_json_get(pod, "spec.nodeSelector"), *terms;
	size_t i, n;

	if (ns && json_object_is_type(ns, json_type_object)) {
		json_object_object_foreach(ns, k, v)
		{
			const char *have = nap_json_str(nap_json_key(nd->labels, k), "", NULL);

			if (have == NULL || strcmp(have, json_object_get_string(v)) != 0)
				return 0;
		}
	}
	terms = nap_json_array(pod,
	    "spec.affinity.nodeAffinity."
	    "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
	    &n);
	if (terms == NULL)
		return 1;
	for (i = 0; i < n; i++)
		if (term_matches(json_object_array_get_idx(terms, i), nd))
			return 1;
	return 0;
}

/* ---- pod requests ---------------------------------------------------- */

static void
container_sum(json_object *ctrs, struct nap_res *sum, char *unknown, size_t ulen, int sidecars_only,
    struct nap_res *init_max)
{
	struct nap_res side;
	struct nap_err err;
	size_t i, n;

	nap_res_zero(&side);
	n = ctrs && json_object_is_type(ctrs, json_type_array) ? json_object_array_length(ctrs) : 0;
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(ctrs, i);
		json_object *req = nap_json_get(c, "resources.requests");
		struct nap_res r;

		if (req == NULL)
			req = nap_json_get(c, "resources.limits");
		nap_res_zero(&r);
		if (req)
			nap_res_parse(&r, req, unknown, ulen, &err);
		if (!sidecars_only) {
			nap_res_add(sum, &r);
		} else if (strcmp(nap_json_str(c, "restartPolicy", ""), "Always") == 0) {
			nap_res_add(&side, &r);
		} else {
			/* A plain init container runs with the sidecars started before it. */
			nap_res_add(&r, &side);
			nap_res_max(init_max, &r);
		}
	}
	if (sidecars_only) {
		nap_res_max(init_max, &side);
		nap_res_add(sum, &side);
	}
}

static void
pod_request(json_object *pod, struct nap_res *out, char *unknown, size_t ulen)
{
	struct nap_res steady, init;
	struct nap_err err;
	json_object *ov;

	nap_res_zero(&steady);
	nap_res_zero(&init);
	container_sum(nap_json_get(pod, "spec.containers"), &steady, unknown, ulen, 0, NULL);
	container_sum(nap_json_get(pod, "spec.initContainers"), &steady, unknown, ulen, 1, &init);
	nap_res_max(&steady, &init);
	if ((ov = nap_json_get(pod, "spec.overhead")) != NULL)
		nap_res_parse(&steady, ov, NULL, 0, &err);
	steady.v[NAP_RES_PODS] = 1;
	*out = steady;
}

static void
pod_ports(json_object *pod, json_object *into)
{
	json_object *ctrs, *ports;
	size_t i, j, n, m;

	ctrs = nap_json_array(pod, "spec.containers", &n);
	for (i = 0; i < n; i++) {
		ports = nap_json_array(json_object_array_get_idx(ctrs, i), "ports", &m);
		for (j = 0; j < m; j++) {
			json_object *p = json_object_array_get_idx(ports, j);
			int64_t hp = nap_json_int(p, "hostPort", 0);
			char key[48];

			if (hp <= 0)
				continue;
			snprintf(key, sizeof(key), "%s/%lld", nap_json_str(p, "protocol", "TCP"),
			    (long long)hp);
			json_object_array_add(into, json_object_new_string(key));
		}
	}
}

/* The pod's persistentVolumeClaim volumes as "ns/claim" (all attach as Azure disks here). */
static void
pod_claims(json_object *pod, json_object *into)
{
	json_object *vols = nap_json_array(pod, "spec.volumes", NULL);
	const char *ns = nap_json_str(pod, "metadata.namespace", "default");
	size_t i, n = vols ? json_object_array_length(vols) : 0;

	for (i = 0; i < n; i++) {
		const char *c = nap_json_str(
		    json_object_array_get_idx(vols, i), "persistentVolumeClaim.claimName", "");
		char *key;

		if (!*c)
			continue;
		key = nap_xasprintf("%s/%s", ns, c);
		json_object_array_add(into, json_object_new_string(key));
		free(key);
	}
}

static void
add_all(json_object *into, json_object *from)
{
	size_t i, n = json_object_array_length(from);

	for (i = 0; i < n; i++)
		json_object_array_add(into, json_object_get(json_object_array_get_idx(from, i)));
}

/*
 * NodeVolumeLimits: the distinct claims on the node with the pod's would
 * pass the node's CSINode count (a claim already there counts once).
 */
static int
vols_exceed(const struct snode *nd, json_object *claims)
{
	size_t i, j, n = json_object_array_length(claims), m = json_object_array_length(nd->vols);
	int64_t distinct = 0;

	if (n == 0 || nd->vol_limit < 0)
		return 0;
	for (i = 0; i < m; i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(nd->vols, i));

		for (j = 0; j < i; j++)
			if (!strcmp(
				v, json_object_get_string(json_object_array_get_idx(nd->vols, j))))
				break;
		distinct += j == i;
	}
	for (i = 0; i < n; i++) {
		const char *v = json_object_get_string(json_object_array_get_idx(claims, i));

		for (j = 0; j < i; j++)
			if (!strcmp(
				v, json_object_get_string(json_object_array_get_idx(claims, j))))
				break;
		distinct += j == i && !str_in(nd->vols, v);
	}
	return distinct > nd->vol_limit;
}

/* ---- the pass -------------------------------------------------------- */

/* kube-scheduler scores a request left unset as 100m CPU and 200 MB memory. */
static void
nonzero(struct nap_res *r)
{
	if (r->v[NAP_RES_CPU] == 0)
		r->v[NAP_RES_CPU] = 100;
	if (r->v[NAP_RES_MEMORY] == 0)
		r->v[NAP_RES_MEMORY] = 200LL * 1024 * 1024;
}

static int
collect_node(struct sim *sim, json_object *n, void *arg)
{
	struct sstate *s = arg;
	struct snode *nd;
	struct nap_err err;
	json_object *al = nap_json_get(n, "status.allocatable");

	nap_xgrow(&s->nodes, &s->an, s->nn + 1, sizeof(*s->nodes));
	nd = &s->nodes[s->nn++];
	memset(nd, 0, sizeof(*nd));
	nd->obj = json_object_get(n);
	nd->name = nap_json_str(n, "metadata.name", "");
	nd->labels = nap_json_get(n, "metadata.labels");
	nd->taints = nap_json_get(n, "spec.taints");
	nd->unschedulable = nap_json_bool(n, "spec.unschedulable", 0);
	nd->alloc_list = al;
	nap_res_zero(&nd->alloc);
	nap_res_zero(&nd->used);
	nap_res_zero(&nd->used_nz);
	if (al)
		nap_res_parse(&nd->alloc, al, NULL, 0, &err);
	nd->ports = json_object_new_array();
	nd->vols = json_object_new_array();
	nd->vol_limit = -1;
	{
		json_object *cn = sim_get(sim, "csinodes", NULL, nd->name), *ds;
		size_t i, nds;

		ds = cn ? nap_json_array(cn, "spec.drivers", &nds) : NULL;
		for (i = 0; ds && i < nds; i++) {
			json_object *d = json_object_array_get_idx(ds, i);

			if (!strcmp(nap_json_str(d, "name", ""), "disk.csi.azure.com"))
				nd->vol_limit = nap_json_int(d, "allocatable.count", -1);
		}
	}
	return 0;
}

static int
node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snode *)a)->name, ((const struct snode *)b)->name);
}

static int
node_index(struct sstate *s, const char *name)
{
	size_t lo = 0, hi = s->nn;

	/* sched_pass sorts the table by name. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(s->nodes[mid].name, name);

		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int
terminal(json_object *pod)
{
	const char *ph = nap_json_str(pod, "status.phase", "");

	return strcmp(ph, "Succeeded") == 0 || strcmp(ph, "Failed") == 0;
}

static void
pcache_fill(struct pcache *pc, json_object *p)
{
	const char *sched = nap_json_str(p, "spec.schedulerName", "default-scheduler");
	json_object *owners;
	size_t i, n;

	pc->obj = json_object_get(p);
	pc->node = nap_json_str(p, "spec.nodeName", "");
	pc->deleting = nap_json_get(p, "metadata.deletionTimestamp") != NULL;
	pc->skip = terminal(p) ||
	    (*pc->node == '\0' && (pc->deleting || strcmp(sched, "default-scheduler") != 0));
	pc->ns = nap_json_str(p, "metadata.namespace", "default");
	pc->name = nap_json_str(p, "metadata.name", "");
	pc->created = nap_json_str(p, "metadata.creationTimestamp", "");
	pc->uid = nap_json_str(p, "metadata.uid", "");
	pc->labels = nap_json_get(p, "metadata.labels");
	pc->has_anti = nap_json_get(p,
			   "spec.affinity.podAntiAffinity."
			   "requiredDuringSchedulingIgnoredDuringExecution") != NULL;
	pc->prio = nap_json_int(p, "spec.priority", 0);
	owners = nap_json_array(p, "metadata.ownerReferences", &n);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(owners, i);

		if (nap_json_bool(o, "controller", 0) &&
		    strcmp(nap_json_str(o, "kind", ""), "ReplicaSet") == 0)
			pc->owner_rs = nap_json_str(o, "uid", NULL);
	}
	pod_request(p, &pc->req, NULL, 0);
	pc->nz = pc->req;
	nonzero(&pc->nz);
	pc->ports = json_object_new_array();
	pod_ports(p, pc->ports);
	pc->claims = json_object_new_array();
	pod_claims(p, pc->claims);
}

static void
pcache_free(struct pcache *pc)
{
	json_object_put(pc->ports);
	json_object_put(pc->claims);
	json_object_put(pc->obj);
	free(pc);
}

static int
collect_pod(struct sim *sim, json_object *p, void *arg)
{
	struct sstate *s = arg;
	struct scache *c = s->w->sched_cache;
	struct pcache *pc;
	struct spod *sp;
	char key[32];

	(void)sim;
	snprintf(key, sizeof(key), "%p", (void *)p);
	if ((pc = nap_hash_get(&c->h, key)) == NULL) {
		pc = nap_xcalloc(1, sizeof(*pc));
		pcache_fill(pc, p);
		nap_hash_put(&c->h, key, pc);
	}
	pc->gen = c->gen;
	if (pc->skip)
		return 0;
	nap_xgrow(&s->pods, &s->ap, s->np + 1, sizeof(*s->pods));
	sp = &s->pods[s->np];
	sp->pc = pc;
	sp->obj = pc->obj;
	sp->ns = pc->ns;
	sp->name = pc->name;
	sp->labels = pc->labels;
	sp->has_anti = pc->has_anti;
	if (*pc->node) {
		sp->node = node_index(s, pc->node);
		if (sp->node >= 0) {
			struct snode *nd = &s->nodes[sp->node];

			nap_res_add(&nd->used, &pc->req);
			nap_res_add(&nd->used_nz, &pc->nz);
			add_all(nd->ports, pc->ports);
			add_all(nd->vols, pc->claims);
		}
	} else {
		sp->node = -1;
		nap_xgrow(&s->pending, &s->apend, s->npend + 1, sizeof(*s->pending));
		s->pending[s->npend++] = s->np;
	}
	s->np++;
	return 0;
}

/* Drop the cache entries of versions the pass did not see. */
static void
scache_sweep(struct scache *c)
{
	char **gone = NULL;
	size_t n = 0, alloc = 0, pos = 0, i;
	const char *key;
	void *val;

	while (nap_hash_next(&c->h, &pos, &key, &val)) {
		if (((struct pcache *)val)->gen == c->gen)
			continue;
		nap_xgrow(&gone, &alloc, n + 1, sizeof(*gone));
		gone[n++] = nap_xstrdup(key);
	}
	for (i = 0; i < n; i++) {
		pcache_free(nap_hash_del(&c->h, gone[i]));
		free(gone[i]);
	}
	free(gone);
	/* Parked pods that are no longer pending are forgotten. */
	n = alloc = pos = 0;
	gone = NULL;
	while (nap_hash_next(&c->parked, &pos, &key, &val)) {
		if (((struct parked *)val)->gen == c->gen)
			continue;
		nap_xgrow(&gone, &alloc, n + 1, sizeof(*gone));
		gone[n++] = nap_xstrdup(key);
	}
	for (i = 0; i < n; i++) {
		free(nap_hash_del(&c->parked, gone[i]));
		free(gone[i]);
	}
	free(gone);
}

void
sched_fini(struct world *w)
{
	struct scache *c = w->sched_cache;

	if (c == NULL)
		return;
	c->gen++;
	scache_sweep(c);
	nap_hash_free(&c->h);
	nap_hash_free(&c->parked);
	cursor_clear(&c->cur);
	free(c);
	w->sched_cache = NULL;
}

static struct sstate *sort_state; /* qsort has no context argument; one thread */

static void
cursor_clear(struct cursor *k)
{
	free(k->created);
	free(k->ns);
	free(k->name);
	memset(k, 0, sizeof(*k));
}

static void
cursor_set(struct cursor *k, const struct pcache *pc)
{
	cursor_clear(k);
	k->set = 1;
	k->prio = pc->prio;
	k->created = nap_xstrdup(pc->created);
	k->ns = nap_xstrdup(pc->ns);
	k->name = nap_xstrdup(pc->name);
}

/* pending_cmp's order of a pod against the cursor. */
static int
cursor_cmp(const struct pcache *pc, const struct cursor *k)
{
	int c;

	if (pc->prio != k->prio)
		return pc->prio > k->prio ? -1 : 1;
	if ((c = strcmp(pc->created, k->created)) != 0)
		return c;
	if ((c = strcmp(pc->ns, k->ns)) != 0)
		return c;
	return strcmp(pc->name, k->name);
}

static int
pending_cmp(const void *a, const void *b)
{
	const struct pcache *pa = sort_state->pods[*(const size_t *)a].pc;
	const struct pcache *pb = sort_state->pods[*(const size_t *)b].pc;
	int c;

	if (pa->prio != pb->prio)
		return pa->prio > pb->prio ? -1 : 1;
	if ((c = strcmp(pa->created, pb->created)) != 0)
		return c;
	if ((c = strcmp(pa->ns, pb->ns)) != 0)
		return c;
	return strcmp(pa->name, pb->name);
}

/* The namespaces a pod affinity term applies to (NULL = all). */
static int
term_ns_ok(json_object *term, const char *owner_ns, const char *ns)
{
	json_object *nss = nap_json_get(term, "namespaces");
	json_object *nsel = nap_json_get(term, "namespaceSelector");

	if (nss && json_object_is_type(nss, json_type_array) && json_object_array_length(nss) > 0)
		return str_in(nss, ns);
	if (nsel && json_object_is_type(nsel, json_type_object) &&
	    json_object_object_length(nsel) == 0)
		return 1;
	return strcmp(owner_ns, ns) == 0;
}

static const char *
label_of(json_object *labels, const char *key)
{
	return nap_json_str(nap_json_key(labels, key), "", NULL);
}

/*
 * What a pending pod's constraints need to know of the other pods, worked
 * out once per pod so that checking a node is cheap: for each required
 * (anti-)affinity term the topology values that hold a matching pod, for
 * each DoNotSchedule spread constraint the matching pods per domain, and
 * the (key, value) domains that placed pods' anti-affinity forbids.
 */
struct term_ctx {
	json_object *term;
	const char *key;
	json_object *vals; /* set: topology value -> true */
	int any;	   /* some pod anywhere matches */
	int self;	   /* the pod matches its own term */
};

struct spread_ctx {
	const char *key;
	json_object *sel;
	int64_t skew;
	json_object *dom; /* eligible domain -> matching pods */
	int64_t min;
	int self;
};

struct pod_ctx {
	json_object *ports;
	struct term_ctx *aff, *anti;
	size_t naff, nanti;
	struct spread_ctx *spread;
	size_t nspread;
	json_object *forbid; /* array of [key, value] */
};

static void
term_ctx_build(struct sstate *s, size_t pi, json_object *term, struct term_ctx *tc)
{
	struct spod *sp = &s->pods[pi];
	json_object *sel = nap_json_get(term, "labelSelector");
	size_t i;

	tc->term = term;
	tc->key = nap_json_str(term, "topologyKey", "");
	tc->vals = json_object_new_object();
	tc->any = 0;
	tc->self = term_ns_ok(term, sp->ns, sp->ns) && sched_selector_matches(sel, sp->labels);
	for (i = 0; i < s->np; i++) {
		const struct spod *p = &s->pods[i];
		const char *v;

		if (i == pi || p->node < 0 || !term_ns_ok(term, sp->ns, p->ns) ||
		    !sched_selector_matches(sel, p->labels))
			continue;
		tc->any = 1;
		if ((v = label_of(s->nodes[p->node].labels, tc->key)) != NULL)
			json_object_object_add(tc->vals, v, json_object_new_boolean(1));
	}
}

static int
node_tolerated(json_object *pod, const struct snode *o)
{
	size_t t,
	    tn = o->taints && json_object_is_type(o->taints, json_type_array)
	    ? json_object_array_length(o->taints)
	    : 0;

	for (t = 0; t < tn; t++) {
		json_object *tt = json_object_array_get_idx(o->taints, t);
		const char *e = nap_json_str(tt, "effect", "");

		if ((strcmp(e, "NoSchedule") == 0 || strcmp(e, "NoExecute") == 0) &&
		    !sched_pod_tolerates(pod, tt))
			return 0;
	}
	return 1;
}

/*
 * The domain counts of one spread constraint of one ReplicaSet's pods in a
 * pass: its replicas share them, so they are counted once and then kept up
 * to date with the pods bound since (counting every bound pod for each of
 * thousands of pending replicas made a pass quadratic).
 */
struct spread_memo {
	json_object *dom;
	unsigned long upto; /* s->bound entries counted */
};

/* A bound pod counts in sc's domain if it is a matching pod of the namespace. */
static void
spread_count(struct sstate *s, const struct spod *sp, struct spread_ctx *sc, const struct spod *p)
{
	json_object *cnt;
	const char *pv;

	if (p->node < 0 || p->pc->deleting || strcmp(p->ns, sp->ns) != 0 ||
	    !sched_selector_matches(sc->sel, p->labels))
		return;
	pv = label_of(s->nodes[p->node].labels, sc->key);
	if (pv == NULL || (cnt = nap_json_key(sc->dom, pv)) == NULL)
		return;
	json_object_object_add(sc->dom, pv, json_object_new_int64(json_object_get_int64(cnt) + 1));
}

static void
spread_min(struct spread_ctx *sc, int64_t mind)
{
	int64_t ndom = 0;

	sc->min = -1;
	{
		json_object_object_foreach(sc->dom, dk, dv)
		{
			int64_t v = json_object_get_int64(dv);

			(void)dk;
			ndom++;
			if (sc->min < 0 || v < sc->min)
				sc->min = v;
		}
	}
	if (sc->min < 0 || ndom < mind)
		sc->min = 0;
}

static void
spread_ctx_build(struct sstate *s, size_t pi, size_t ci, json_object *c, struct spread_ctx *sc)
{
	struct spod *sp = &s->pods[pi];
	json_object *pod = sp->obj;
	int honor = strcmp(nap_json_str(c, "nodeAffinityPolicy", "Honor"), "Honor") == 0;
	int taints = strcmp(nap_json_str(c, "nodeTaintsPolicy", "Ignore"), "Honor") == 0;
	int64_t mind = nap_json_int(c, "minDomains", 1);
	struct spread_memo *m = NULL;
	char key[160];
	size_t j;

	sc->key = nap_json_str(c, "topologyKey", "");
	sc->sel = nap_json_get(c, "labelSelector");
	sc->skew = nap_json_int(c, "maxSkew", 1);
	sc->self = sched_selector_matches(sc->sel, sp->labels);
	if (sp->pc->owner_rs) {
		snprintf(key, sizeof(key), "%s/%zu", sp->pc->owner_rs, ci);
		if ((m = nap_hash_get(&s->spread, key)) != NULL) {
			sc->dom = m->dom;
			for (; m->upto < s->binds; m->upto++)
				spread_count(s, sp, sc, &s->pods[s->bound[m->upto]]);
			sc->dom = json_object_get(m->dom);
			spread_min(sc, mind);
			return;
		}
	}
	sc->dom = json_object_new_object();
	for (j = 0; j < s->nn; j++) {
		const struct snode *o = &s->nodes[j];
		const char *ov = label_of(o->labels, sc->key);

		if (ov == NULL || (honor && !node_affinity_ok(pod, o)) ||
		    (taints && !node_tolerated(pod, o)))
			continue;
		if (nap_json_key(sc->dom, ov) == NULL)
			json_object_object_add(sc->dom, ov, json_object_new_int64(0));
	}
	for (j = 0; j < s->np; j++)
		spread_count(s, sp, sc, &s->pods[j]);
	spread_min(sc, mind);
	if (sp->pc->owner_rs) {
		m = nap_xcalloc(1, sizeof(*m));
		m->dom = json_object_get(sc->dom);
		m->upto = s->binds;
		nap_hash_put(&s->spread, key, m);
	}
}

static void
pod_ctx_build(struct sstate *s, size_t pi, struct pod_ctx *pc)
{
	struct spod *sp = &s->pods[pi];
	json_object *pod = sp->obj, *a;
	size_t i, k, n, m;

	memset(pc, 0, sizeof(*pc));
	pc->ports = json_object_new_array();
	pod_ports(pod, pc->ports);
	a = nap_json_array(pod,
	    "spec.affinity.podAffinity."
	    "requiredDuringSchedulingIgnoredDuringExecution",
	    &n);
	pc->aff = nap_xcalloc(n ? n : 1, sizeof(*pc->aff));
	for (i = 0; i < n; i++)
		term_ctx_build(s, pi, json_object_array_get_idx(a, i), &pc->aff[pc->naff++]);
	a = nap_json_array(pod,
	    "spec.affinity.podAntiAffinity."
	    "requiredDuringSchedulingIgnoredDuringExecution",
	    &n);
	pc->anti = nap_xcalloc(n ? n : 1, sizeof(*pc->anti));
	for (i = 0; i < n; i++)
		term_ctx_build(s, pi, json_object_array_get_idx(a, i), &pc->anti[pc->nanti++]);
	a = nap_json_array(pod, "spec.topologySpreadConstraints", &n);
	pc->spread = nap_xcalloc(n ? n : 1, sizeof(*pc->spread));
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(a, i);

		if (strcmp(nap_json_str(c, "whenUnsatisfiable", "DoNotSchedule"),
			"DoNotSchedule") == 0)
			spread_ctx_build(s, pi, i, c, &pc->spread[pc->nspread++]);
	}
	pc->forbid = json_object_new_array();
	for (i = 0; i < s->np; i++) {
		const struct spod *p = &s->pods[i];

		if (!p->has_anti || p->node < 0)
			continue;
		a = nap_json_array(p->obj,
		    "spec.affinity.podAntiAffinity."
		    "requiredDuringSchedulingIgnoredDuringExecution",
		    &m);
		for (k = 0; k < m; k++) {
			json_object *t = json_object_array_get_idx(a, k), *pair;
			const char *key = nap_json_str(t, "topologyKey", "");
			const char *v = label_of(s->nodes[p->node].labels, key);

			if (v == NULL || !term_ns_ok(t, p->ns, sp->ns) ||
			    !sched_selector_matches(nap_json_get(t, "labelSelector"), sp->labels))
				continue;
			pair = json_object_new_array();
			json_object_array_add(pair, json_object_new_string(key));
			json_object_array_add(pair, json_object_new_string(v));
			json_object_array_add(pc->forbid, pair);
		}
	}
}

static void
pod_ctx_free(struct pod_ctx *pc)
{
	size_t i;

	json_object_put(pc->ports);
	for (i = 0; i < pc->naff; i++)
		json_object_put(pc->aff[i].vals);
	for (i = 0; i < pc->nanti; i++)
		json_object_put(pc->anti[i].vals);
	for (i = 0; i < pc->nspread; i++)
		json_object_put(pc->spread[i].dom);
	free(pc->aff);
	free(pc->anti);
	free(pc->spread);
	json_object_put(pc->forbid);
}

enum {
	R_UNSCHED = 1,
	R_TAINT,
	R_AFFINITY,
	R_PORTS,
	R_RESOURCES,
	R_SPREAD,
	R_SPREAD_LABEL,
	R_EXISTING_ANTI,
	R_POD_AFFINITY,
	R_POD_ANTI,
	R_VOLUMES,
};

/* Returns 0 when pod fits node, else a reason R_* (and text for taints /
 * resources in why). */
static int
filter(struct sstate *s, size_t pi, const struct pod_ctx *pc, const struct nap_res *req,
    const char *unknown, struct snode *nd, char *why, size_t wlen)
{
	struct spod *sp = &s->pods[pi];
	json_object *pod = sp->obj;
	size_t i, n, k;
	int bad = 0;

	*why = '\0';
	if (nd->unschedulable) {
		json_object *t = json_object_new_object();
		int ok;

		json_object_object_add(
		    t, "key", json_object_new_string("node.kubernetes.io/unschedulable"));
		json_object_object_add(t, "effect", json_object_new_string("NoSchedule"));
		ok = sched_pod_tolerates(pod, t);
		json_object_put(t);
		if (!ok)
			return R_UNSCHED;
	}
	n = nd->taints && json_object_is_type(nd->taints, json_type_array)
	    ? json_object_array_length(nd->taints)
	    : 0;
	for (i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(nd->taints, i);
		const char *e = nap_json_str(t, "effect", "");

		if (strcmp(e, "NoSchedule") != 0 && strcmp(e, "NoExecute") != 0)
			continue;
		if (!sched_pod_tolerates(pod, t)) {
			snprintf(why, wlen, "node(s) had untolerated taint {%s: %s}",
			    nap_json_str(t, "key", ""), nap_json_str(t, "value", ""));
			return R_TAINT;
		}
	}
	if (!node_affinity_ok(pod, nd))
		return R_AFFINITY;
	n = json_object_array_length(pc->ports);
	for (i = 0; i < n; i++)
		if (str_in(
			nd->ports, json_object_get_string(json_object_array_get_idx(pc->ports, i))))
			return R_PORTS;
	/* NodeResourcesFit reports every short resource at once. */
	if (nd->used.v[NAP_RES_PODS] + 1 > nd->alloc.v[NAP_RES_PODS]) {
		snprintf(why, wlen, "Too many pods");
		bad = 1;
	}
	for (k = 0; k < NAP_RES_N; k++) {
		if (k == NAP_RES_PODS || req->v[k] == 0)
			continue;
		if (nd->used.v[k] + req->v[k] > nd->alloc.v[k]) {
			snprintf(why + strlen(why), wlen - strlen(why), "%sInsufficient %s",
			    *why ? "\n" : "", nap_res_name((enum nap_res_kind)k));
			bad = 1;
		}
	}
	if (unknown && *unknown && nap_json_key(nd->alloc_list, unknown) == NULL) {
		snprintf(why + strlen(why), wlen - strlen(why), "%sInsufficient %s",
		    *why ? "\n" : "", unknown);
		bad = 1;
	}
	if (bad)
		return R_RESOURCES;
	if (vols_exceed(nd, sp->pc->claims))
		return R_VOLUMES;
	/* PodTopologySpread, DoNotSchedule constraints only. */
	for (i = 0; i < pc->nspread; i++) {
		const struct spread_ctx *sc = &pc->spread[i];
		const char *val = label_of(nd->labels, sc->key);
		json_object *cnt;

		if (val == NULL)
			return R_SPREAD_LABEL;
		cnt = nap_json_key(sc->dom, val);
		if ((cnt ? json_object_get_int64(cnt) : 0) + sc->self - sc->min > sc->skew)
			return R_SPREAD;
	}
	/* InterPodAffinity, in kube-scheduler's order: affinity, anti-affinity,
	 * then the existing pods' anti-affinity. */
	for (i = 0; i < pc->naff; i++) {
		const struct term_ctx *tc = &pc->aff[i];
		const char *val = label_of(nd->labels, tc->key);

		if (val && nap_json_key(tc->vals, val))
			continue;
		/* The first pod of a group that matches its own term may go anywhere. */
		if (!tc->any && tc->self && val)
			continue;
		return R_POD_AFFINITY;
	}
	for (i = 0; i < pc->nanti; i++) {
		const char *val = label_of(nd->labels, pc->anti[i].key);

		if (val && nap_json_key(pc->anti[i].vals, val))
			return R_POD_ANTI;
	}
	n = json_object_array_length(pc->forbid);
	for (i = 0; i < n; i++) {
		json_object *pair = json_object_array_get_idx(pc->forbid, i);
		const char *v = label_of(
		    nd->labels, json_object_get_string(json_object_array_get_idx(pair, 0)));

		if (v && strcmp(v, json_object_get_string(json_object_array_get_idx(pair, 1))) == 0)
			return R_EXISTING_ANTI;
	}
	return 0;
}

static const char *const reason_text[] = {
    [R_UNSCHED] = "node(s) were unschedulable",
    [R_AFFINITY] = "node(s) didn't match Pod's node affinity/selector",
    [R_PORTS] = "node(s) didn't have free ports for the requested pod ports",
    [R_SPREAD] = "node(s) didn't match pod topology spread constraints",
    [R_SPREAD_LABEL] =
	"node(s) didn't match pod topology spread constraints (missing required label)",
    [R_EXISTING_ANTI] = "node(s) didn't satisfy existing pods anti-affinity rules",
    [R_POD_AFFINITY] = "node(s) didn't match pod affinity rules",
    [R_POD_ANTI] = "node(s) didn't match pod anti-affinity rules",
    [R_VOLUMES] = "node(s) exceed max volume count",
};

/* Failures preemption cannot cure (UnschedulableAndUnresolvable). */
static int
unresolvable(int r)
{
	return r == R_UNSCHED || r == R_TAINT || r == R_AFFINITY || r == R_SPREAD_LABEL ||
	    r == R_POD_AFFINITY;
}

struct tally {
	char **text;
	int *count;
	size_t n, alloc;
};

static void
tally_add(struct tally *t, const char *text)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->text[i], text) == 0) {
			t->count[i]++;
			return;
		}
	}
	if (t->n == t->alloc) {
		t->alloc = t->alloc ? 2 * t->alloc : 8;
		t->text = nap_xrealloc(t->text, t->alloc * sizeof(*t->text));
		t->count = nap_xrealloc(t->count, t->alloc * sizeof(*t->count));
	}
	t->text[t->n] = nap_xstrdup(text);
	t->count[t->n++] = 1;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "1 Insufficient cpu, 2 node(s) had ..." sorted as whole strings; frees t. */
static void
tally_fmt(struct tally *t, char *buf, size_t len)
{
	char **items = nap_xcalloc(t->n ? t->n : 1, sizeof(*items));
	size_t i;

	for (i = 0; i < t->n; i++)
		items[i] = nap_xasprintf("%d %s", t->count[i], t->text[i]);
	qsort(items, t->n, sizeof(*items), str_cmp);
	*buf = '\0';
	for (i = 0; i < t->n; i++) {
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? ", " : "", items[i]);
		free(items[i]);
		free(t->text[i]);
	}
	free(items);
	free(t->text);
	free(t->count);
	memset(t, 0, sizeof(*t));
}

static int
has_condition(
    json_object *pod, const char *type, const char *status, const char *reason, const char *message)
{
	json_object *conds = nap_json_get(pod, "status.conditions");
	size_t i,
	    n = conds && json_object_is_type(conds, json_type_array)
	    ? json_object_array_length(conds)
	    : 0;

	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(conds, i);

		if (strcmp(nap_json_str(c, "type", ""), type) == 0)
			return strcmp(nap_json_str(c, "status", ""), status) == 0 &&
			    strcmp(nap_json_str(c, "reason", ""), reason ? reason : "") == 0 &&
			    strcmp(nap_json_str(c, "message", ""), message ? message : "") == 0;
	}
	return 0;
}

/* Replace (or add) the PodScheduled condition of pod. */
static void
set_scheduled(
    json_object *pod, const char *status, const char *reason, const char *message, const char *now)
{
	json_object *st = json_object_object_get(pod, "status"), *conds, *nc, *c;
	size_t i, n;

	if (st == NULL || !json_object_is_type(st, json_type_object)) {
		st = json_object_new_object();
		json_object_object_add(pod, "status", st);
	}
	if (json_object_object_get(st, "phase") == NULL)
		json_object_object_add(st, "phase", json_object_new_string("Pending"));
	conds = json_object_object_get(st, "conditions");
	nc = json_object_new_array();
	n = conds && json_object_is_type(conds, json_type_array) ? json_object_array_length(conds)
								 : 0;
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(conds, i);

		if (strcmp(nap_json_str(o, "type", ""), "PodScheduled") != 0)
			json_object_array_add(nc, json_object_get(o));
	}
	c = json_object_new_object();
	json_object_object_add(c, "type", json_object_new_string("PodScheduled"));
	json_object_object_add(c, "status", json_object_new_string(status));
	json_object_object_add(c, "lastProbeTime", NULL);
	json_object_object_add(c, "lastTransitionTime", json_object_new_string(now));
	if (reason)
		json_object_object_add(c, "reason", json_object_new_string(reason));
	if (message)
		json_object_object_add(c, "message", json_object_new_string(message));
	json_object_array_add(nc, c);
	json_object_object_add(st, "conditions", nc);
}

static void
write_pod(struct world *w, json_object *p)
{
	struct nap_err err = {0};
	char who[300];

	snprintf(who, sizeof(who), "%s/%s", nap_json_str(p, "metadata.namespace", ""),
	    nap_json_str(p, "metadata.name", ""));
	if (sim_update(w->sim, "pods", p, NULL, &err) < 0)
		nap_debug("scheduler: update pod %s: %s", who, err.msg);
}

static void
unschedulable(struct world *w, struct spod *sp, const char *reason, const char *msg)
{
	char now[40];
	json_object *p;

	if (has_condition(sp->obj, "PodScheduled", "False", reason, msg))
		return;
	sim_rfc3339(w->sim, now, sizeof(now));
	p = sim_dup(sp->obj);
	set_scheduled(p, "False", reason, msg, now);
	write_pod(w, p);
	if (strcmp(reason, "Unschedulable") == 0)
		sim_event(w->sim, sp->obj, "Warning", "FailedScheduling", "%s", msg);
}

static void
bind(struct world *w, struct sstate *s, size_t pi, int ni, const struct nap_res *req)
{
	struct spod *sp = &s->pods[pi];
	struct snode *nd = &s->nodes[ni];
	struct nap_res nz;
	char now[40];
	json_object *p = sim_dup(sp->obj);

	sim_rfc3339(w->sim, now, sizeof(now));
	nap_json_set(p, "spec.nodeName", json_object_new_string(nd->name));
	set_scheduled(p, "True", NULL, NULL, now);
	write_pod(w, p);
	sim_event(w->sim, sp->obj, "Normal", "Scheduled", "Successfully assigned %s/%s to %s",
	    sp->ns, sp->name, nd->name);
	sp->node = ni;
	nap_xgrow(&s->bound, &s->abound, s->binds + 1, sizeof(*s->bound));
	s->bound[s->binds++] = pi;
	nap_res_add(&nd->used, req);
	nz = *req;
	nonzero(&nz);
	nap_res_add(&nd->used_nz, &nz);
	pod_ports(sp->obj, nd->ports);
	add_all(nd->vols, sp->pc->claims);
}

/*
 * Park a pod found unschedulable until the epoch moves.  The scheduler's
 * own status write is a change to a pending pod, so it does not move it.
 */
static void
park(struct world *w, const struct spod *sp)
{
	struct scache *c = w->sched_cache;
	struct parked *pk;

	if (*sp->pc->uid == '\0')
		return;
	if ((pk = nap_hash_get(&c->parked, sp->pc->uid)) == NULL) {
		pk = nap_xcalloc(1, sizeof(*pk));
		nap_hash_put(&c->parked, sp->pc->uid, pk);
	}
	pk->at = sim_now(w->sim);
	pk->epoch = w->sched_epoch;
	pk->gen = c->gen;
}

static double
score(const struct snode *nd, const struct nap_res *request)
{
	struct nap_res req = *request;
	double c, m;

	nonzero(&req);
	c = nd->alloc.v[NAP_RES_CPU] > 0
	    ? (double)(nd->alloc.v[NAP_RES_CPU] - nd->used_nz.v[NAP_RES_CPU] - req.v[NAP_RES_CPU]) /
		(double)nd->alloc.v[NAP_RES_CPU]
	    : 0;
	m = nd->alloc.v[NAP_RES_MEMORY] > 0
	    ? (double)(nd->alloc.v[NAP_RES_MEMORY] - nd->used_nz.v[NAP_RES_MEMORY] -
		  req.v[NAP_RES_MEMORY]) /
		(double)nd->alloc.v[NAP_RES_MEMORY]
	    : 0;
	return (c + m) / 2; /* LeastAllocated; ties go to the first node by name */
}

static void
place(struct world *w, struct sstate *s, size_t pi)
{
	struct spod *sp = &s->pods[pi];
	struct nap_res req;
	struct tally why = {0}, pre = {0};
	struct scache *c = w->sched_cache;
	struct parked *pk;
	struct pod_ctx pc;
	char unknown[128] = "", text[512], msg[4096], pmsg[1024], full[6000];
	int best = -1, never;
	double best_score = -1e18;
	size_t ni;

	if (nap_json_array(sp->obj, "spec.schedulingGates", NULL) &&
	    json_object_array_length(nap_json_get(sp->obj, "spec.schedulingGates")) > 0) {
		unschedulable(w, sp, "SchedulingGated",
		    "Scheduling is blocked due to non-empty scheduling gates");
		return;
	}
	if (*sp->pc->uid && (pk = nap_hash_get(&c->parked, sp->pc->uid)) != NULL) {
		double age = sim_now(w->sim) - pk->at;

		pk->gen = c->gen;
		if (pk->epoch == w->sched_epoch && age < PARK_FLUSH_REAL &&
		    age * sim_scale(w->sim) < PARK_FLUSH_SIM)
			return; /* nothing that could help it has happened */
	}
	if (sp->pc->owner_rs != NULL) {
		struct verdict *v = nap_hash_get(&s->same, sp->pc->owner_rs);

		/* A sibling just failed and nothing moved since: same answer. */
		if (v != NULL && v->binds == s->binds) {
			unschedulable(w, sp, v->reason, v->msg);
			park(w, sp);
			return;
		}
	}
	pod_request(sp->obj, &req, unknown, sizeof(unknown));
	pod_ctx_build(s, pi, &pc);
	for (ni = 0; ni < s->nn; ni++) {
		int r = filter(s, pi, &pc, &req, unknown, &s->nodes[ni], text, sizeof(text));

		if (r == 0) {
			double sc = score(&s->nodes[ni], &req);

			if (sc > best_score) {
				best_score = sc;
				best = (int)ni;
			}
			continue;
		}
		if (r == R_TAINT) {
			tally_add(&why, text);
		} else if (r == R_RESOURCES) {
			char *save = NULL, *tok, *p;

			for (p = text; (tok = strtok_r(p, "\n", &save)) != NULL; p = NULL)
				tally_add(&why, tok);
		} else {
			tally_add(&why, reason_text[r]);
		}
		if (unresolvable(r))
			tally_add(&pre, "Preemption is not helpful for scheduling");
		else
			tally_add(&pre, "No preemption victims found for incoming pod");
	}
	pod_ctx_free(&pc);
	if (best >= 0) {
		tally_fmt(&why, text, sizeof(text));
		tally_fmt(&pre, text, sizeof(text));
		bind(w, s, pi, best, &req);
		return;
	}
	if (s->nn == 0) {
		unschedulable(w, sp, "Unschedulable", "no nodes available to schedule pods");
		return;
	}
	never = strcmp(nap_json_str(sp->obj, "spec.preemptionPolicy", ""), "Never") == 0;
	tally_fmt(&why, msg, sizeof(msg));
	tally_fmt(&pre, pmsg, sizeof(pmsg));
	if (never)
		snprintf(full, sizeof(full),
		    "0/%zu nodes are available: %s. preemption: not eligible due to "
		    "preemptionPolicy=Never.",
		    s->nn, msg);
	else
		snprintf(full, sizeof(full),
		    "0/%zu nodes are available: %s. preemption: 0/%zu nodes are available: "
		    "%s.",
		    s->nn, msg, s->nn, pmsg);
	unschedulable(w, sp, "Unschedulable", full);
	park(w, sp);
	if (sp->pc->owner_rs != NULL) {
		struct verdict *v = nap_xcalloc(1, sizeof(*v)), *old;

		v->binds = s->binds;
		v->reason = nap_xstrdup("Unschedulable");
		v->msg = nap_xstrdup(full);
		if ((old = nap_hash_put(&s->same, sp->pc->owner_rs, v)) != NULL) {
			free(old->reason);
			free(old->msg);
			free(old);
		}
	}
}

void
sched_pass(struct world *w)
{
	struct sstate s;
	struct scache *c;
	size_t i, pos = 0;
	double start;
	const char *key;
	void *val;

	if (w->sched_cache == NULL) {
		c = nap_xcalloc(1, sizeof(*c));
		nap_hash_init(&c->h);
		nap_hash_init(&c->parked);
		w->sched_cache = c;
	}
	c = w->sched_cache;
	c->gen++;
	memset(&s, 0, sizeof(s));
	s.w = w;
	nap_hash_init(&s.same);
	nap_hash_init(&s.spread);
	sim_foreach(w->sim, "nodes", NULL, collect_node, &s);
	if (s.nn > 1)
		qsort(s.nodes, s.nn, sizeof(*s.nodes), node_cmp);
	sim_foreach(w->sim, "pods", NULL, collect_pod, &s);
	sort_state = &s;
	if (s.npend > 1)
		qsort(s.pending, s.npend, sizeof(*s.pending), pending_cmp);
	sort_state = NULL;
	i = 0;
	if (c->cur.set)
		while (i < s.npend && cursor_cmp(s.pods[s.pending[i]].pc, &c->cur) <= 0)
			i++;
	start = sim_now(w->sim);
	for (; i < s.npend; i++) {
		place(w, &s, s.pending[i]);
		if (i + 1 < s.npend && sim_now(w->sim) - start > SCHED_SLICE) {
			cursor_set(&c->cur, s.pods[s.pending[i]].pc);
			w->sched_dirty = 1;
			break;
		}
	}
	if (i >= s.npend)
		cursor_clear(&c->cur);
	for (i = 0; i < s.nn; i++) {
		json_object_put(s.nodes[i].ports);
		json_object_put(s.nodes[i].vols);
		json_object_put(s.nodes[i].obj);
	}
	while (nap_hash_next(&s.same, &pos, &key, &val)) {
		struct verdict *v = val;

		free(v->reason);
		free(v->msg);
		free(v);
	}
	nap_hash_free(&s.same);
	pos = 0;
	while (nap_hash_next(&s.spread, &pos, &key, &val)) {
		struct spread_memo *m = val;

		json_object_put(m->dom);
		free(m);
	}
	nap_hash_free(&s.spread);
	free(s.bound);
	free(s.nodes);
	free(s.pods);
	free(s.pending);
	scache_sweep(c);
}
