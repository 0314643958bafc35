/*
 * launch.c - the life of a NodeClaim in nap-launch: created from a
 * LaunchRequest (or adopted when found unlaunched at start-up), its VM
 * looked for, its NIC and VM created on the cheapest offering Azure still
 * accepts, its status written, its Node registered (with the termination
 * finalizer) and initialized.  When nap-launch gives up on a claim (no
 * offering left, no Node by the registration timeout) it removes the VM,
 * NIC and disk (lib/vm) and drops the finalizer itself: no pod can be on a
 * node that never registered.  A claim or Node deleted by anyone else is
 * left alone: draining it and removing its VM is nap-disrupt's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "drift.h"
#include "json.h"
#include "labels.h"
#include "log.h"
#include "prog.h"
#include "text.h"
#include "nap-launch.h"
#include "obs.h"

/* A Kubernetes or Azure refusal nothing can fix from here ends the run. */
static int
is_fatal(struct ctx *x, const struct nap_err *err)
{
	return fatal_err(&x->fatal, err);
}

/* ---- claims ---- */

/* 0, or -1 with err saying why name is no Kubernetes name. */
static int
name_check(const char *name, struct nap_err *err)
{
	const char *why;

	if (nap_k8s_name_check(name, 0, &why) == 0)
		return 0;
	return nap_err_set(err, NAP_EX_DATAERR, "invalid name: %s", why);
}

/* nodeclaim "NAME" with NAME quoted, for a warning about a name from outside (free it). */
static char *
claim_who(const char *name)
{
	char *q = nap_text_quote(name, 64), *who = nap_xasprintf("nodeclaim \"%s\"", q);

	free(q);
	return who;
}

/*
 * A claim for obj, or NULL with err.  Only a valid Kubernetes name is ever
 * taken: it goes into every Kubernetes and ARM path the claim makes.
 */
static struct claim *
claim_new(struct ctx *x, json_object *obj, struct nap_err *err)
{
	struct claim *c;

	if (name_check(nap_json_str(obj, "metadata.name", ""), err) < 0)
		return NULL;
	c = nap_xcalloc(1, sizeof(*c));
	if (nap_nodeclaim_from_json(&c->nc, obj, err) < 0) {
		free(c);
		return NULL;
	}
	c->obj = json_object_get(obj);
	c->name = nap_xstrdup(c->nc.meta.name);
	c->vm = nap_xasprintf("aks-%s", c->name);
	c->pool = nap_xstrdup(c->nc.nodepool ? c->nc.nodepool : "");
	c->klass = nap_xstrdup(c->nc.class_ref.name ? c->nc.class_ref.name : "default");
	c->nic_accel = -1;
	c->message = nap_xstrdup("");
	c->reason = nap_xstrdup("");
	nap_xgrow(&x->claims, &x->aclaims, x->nclaims + 1, sizeof(*x->claims));
	x->claims[x->nclaims++] = c;
	nap_hash_put(&x->byname, c->name, c);
	return c;
}

static void
claim_free(struct claim *c)
{
	nap_vm_delete_free(c->del);
	nap_nodeclaim_free(&c->nc);
	if (c->obj)
		json_object_put(c->obj);
	free(c->name);
	free(c->vm);
	free(c->pool);
	free(c->klass);
	free(c->cands);
	free(c->provider_id);
	free(c->image_id);
	free(c->node);
	free(c->message);
	free(c->reason);
	free(c);
}

static void
set_provider(struct ctx *x, struct claim *c, const char *pid)
{
	if (c->provider_id)
		nap_hash_del(&x->byprov, c->provider_id);
	free(c->provider_id);
	c->provider_id = nap_xstrdup(pid);
	nap_hash_put(&x->byprov, pid, c);
}

/* Finished with: forget it, and ignore what the watch still says of it. */
static void
claim_gone(struct ctx *x, struct claim *c)
{
	c->step = ST_GONE;
	nap_hash_del(&x->byname, c->name);
	if (c->provider_id)
		nap_hash_del(&x->byprov, c->provider_id);
	nap_hash_put(&x->done, c->name, (void *)1);
}

static void
set_error(struct claim *c, const char *reason, const char *code, const char *msg)
{
	free(c->reason);
	c->reason = nap_xstrdup(reason);
	snprintf(c->code, sizeof(c->code), "%s", code ? code : "");
	free(c->message);
	/* Karpenter truncates the condition message; so do we. */
	c->message = nap_xstrndup(msg ? msg : "", 1200);
}

/* ---- offerings ---- */

static int
cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (a->off->price != b->off->price)
		return a->off->price < b->off->price ? -1 : 1;
	if (a->off->spot != b->off->spot)
		return a->off->spot ? -1 : 1;
	if ((a->off->zone > 0) != (b->off->zone > 0))
		return a->off->zone > 0 ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank - b->rank;
	return a->off->zone - b->off->zone;
}

/*
 * Every offering the claim allows, cheapest first (spot before on-demand,
 * zonal before regional at equal price, then the request's own order).
 */
static void
cands_build(struct ctx *x, struct claim *c)
{
	const struct nap_req *zr = nap_reqs_get(&c->nc.reqs, "topology.kubernetes.io/zone");
	const struct nap_req *cr = nap_reqs_get(&c->nc.reqs, "karpenter.sh/capacity-type");
	json_object *reqs = nap_json_get(c->obj, "spec.requirements");
	size_t i, j, k,
	    n = reqs && json_object_is_type(reqs, json_type_array) ? json_object_array_length(reqs)
								   : 0;
	size_t alloc = 0;
	int rank = 0;

	free(c->cands);
	c->cands = NULL;
	c->ncands = c->next = 0;
	for (i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(reqs, i), *vals;
		size_t nv;

		if (strcmp(nap_json_str(r, "key", ""), "node.kubernetes.io/instance-type") != 0 ||
		    strcmp(nap_json_str(r, "operator", ""), "In") != 0)
			continue;
		/* values not a list (the model would have refused it): no sizes from it */
		vals = nap_json_array(r, "values", &nv);
		for (j = 0; j < nv; j++) {
			const char *name =
			    json_object_get_string(json_object_array_get_idx(vals, j));
			const struct nap_itype *it = name ? nap_catalog_find(x->cat, name) : NULL;

			if (!it) {
				nap_debug("nodeclaim %s: instance type %s not in the catalog",
				    c->name, name ? name : "?");
				continue;
			}
			for (k = 0; k < it->noff; k++) {
				const struct nap_offering *o = &it->off[k];

				if (!o->available || (zr && !nap_req_allows(zr, o->zone_label)) ||
				    (cr && !nap_req_allows(cr, o->capacity_type)))
					continue;
				nap_xgrow(&c->cands, &alloc, c->ncands + 1, sizeof(*c->cands));
				c->cands[c->ncands].it = it;
				c->cands[c->ncands].off = o;
				c->cands[c->ncands].rank = rank;
				c->ncands++;
			}
			rank++;
		}
	}
	/* no usable offering leaves c->cands NULL: qsort must not see it */
	if (c->ncands > 1)
		qsort(c->cands, c->ncands, sizeof(*c->cands), cand_cmp);
}

static int
next_offering(struct ctx *x, struct claim *c)
{
	while (c->next < c->ncands) {
		const struct cand *k = &c->cands[c->next++];

		if (cache_blocked(&x->oc, k->it, k->off))
			continue;
		c->cur = *k;
		c->price = k->off->price;
		return 0;
	}
	return -1;
}

/* ---- Kubernetes writes (blocking, short) ---- */

/* A finalizer list item that is ours (items of other types are someone else's). */
static int
fin_is_ours(json_object *f)
{
	return json_object_is_type(f, json_type_string) &&
	    strcmp(json_object_get_string(f), NAP_FINALIZER_TERMINATION) == 0;
}

static json_object *
cond(const char *type, int status, const char *reason, const char *msg, int64_t at)
{
	json_object *o = json_object_new_object();
	char ts[40];

	rfc3339(at ? at : wall_ms(), ts, sizeof(ts));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "status",
	    json_object_new_string(status > 0 ? "True"
		    : status == 0	      ? "False"
					      : "Unknown"));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "lastTransitionTime", json_object_new_string(ts));
	return o;
}

static void
status_patch(struct ctx *x, struct claim *c, int failed)
{
	json_object *p = json_object_new_object(), *st = json_object_new_object();
	json_object *conds = json_object_new_array();
	struct nap_err err;
	int launched = c->step >= ST_LAUNCHED && c->step <= ST_INITIALIZED;
	int reg = c->registered_wall > 0, init = c->initialized_wall > 0;
	char *path;

	if (c->provider_id)
		json_object_object_add(st, "providerID", json_object_new_string(c->provider_id));
	if (c->image_id)
		json_object_object_add(st, "imageID", json_object_new_string(c->image_id));
	if (c->node)
		json_object_object_add(st, "nodeName", json_object_new_string(c->node));
	if (launched && c->cur.it) {
		const struct nap_nodeclass *nc = nap_cluster_nodeclass(x->cl, c->klass);
		struct nap_itype_opts o;
		struct nap_res r;

		itype_opts(x, nc, &o);
		nap_itype_capacity(c->cur.it, &o, &r);
		json_object_object_add(st, "capacity", nap_res_to_json(&r));
		nap_itype_allocatable(c->cur.it, &o, &r);
		json_object_object_add(st, "allocatable", nap_res_to_json(&r));
	}
	if (failed)
		json_object_array_add(conds, cond("Launched", 0, c->reason, c->message, 0));
	else
		json_object_array_add(conds,
		    launched ? cond("Launched", 1, "Launched", "", c->launched_wall)
			     : cond("Launched", -1, "AwaitingLaunch", "", 0));
	json_object_array_add(conds,
	    reg ? cond("Registered", 1, "Registered", "", c->registered_wall)
		: cond("Registered", -1, "NodeNotFound", "Node not registered with cluster", 0));
	json_object_array_add(conds,
	    init ? cond("Initialized", 1, "Initialized", "", c->initialized_wall)
		 : cond("Initialized", -1, "NotInitialized", "Node not initialized", 0));
	json_object_array_add(conds,
	    init ? cond("Ready", 1, "Ready", "", c->initialized_wall)
		 : cond("Ready", -1, "NotReady", "", 0));
	json_object_object_add(st, "conditions", conds);
	json_object_object_add(p, "status", st);
	path = nc_path(c->name, "status");
	c->status_dirty = 0;
	if (nap_kube_patch(x->kube, path, "merge", p, NULL, &err) < 0 && !is_fatal(x, &err)) {
		nap_warn("patch nodeclaim %s status: %s", c->name, err.msg);
		/* The status is how everyone else learns of the VM: try again. */
		c->status_dirty = !failed && err.http != 404;
	}
	free(path);
	json_object_put(p);
}

/*
 * The offering's labels onto the NodeClaim, as Karpenter copies the
 * provider's (labels the claim already has win), so in-flight capacity
 * reads like the node it will be.
 */
static void
labels_patch(struct ctx *x, struct claim *c)
{
	json_object *p, *md, *l, *keep;
	struct nap_err err;
	char *path;

	if (!c->cur.it)
		return;
	l = offering_labels(x, &c->cur);
	keep = c->nc.meta.labels;
	if (keep) {
		json_object_object_foreach(keep, k, v)
		{
			(void)v;
			json_object_object_del(l, k);
		}
	}
	if (json_object_object_length(l) == 0) {
		json_object_put(l);
		return;
	}
	p = json_object_new_object();
	md = json_object_new_object();
	json_object_object_add(md, "labels", l);
	json_object_object_add(p, "metadata", md);
	path = nc_path(c->name, NULL);
	if (nap_kube_patch(x->kube, path, "merge", p, NULL, &err) < 0 && !is_fatal(x, &err))
		nap_warn("label nodeclaim %s: %s", c->name, err.msg);
	free(path);
	json_object_put(p);
}

/* Drop our finalizer; the API server then removes a NodeClaim being deleted. */
static void
finalizer_drop(struct ctx *x, const char *name)
{
	json_object *cur = NULL, *p, *md, *fins, *all;
	struct nap_err err;
	char *path = nc_path(name, NULL);
	size_t i, n;

	if (nap_kube_get(x->kube, path, &cur, &err) < 0) {
		if (err.http != 404 && !is_fatal(x, &err))
			nap_warn("get nodeclaim %s: %s", name, err.msg);
		free(path);
		return;
	}
	fins = json_object_new_array();
	all = nap_json_array(cur, "metadata.finalizers", &n);
	for (i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(all, i);

		if (!fin_is_ours(f))
			json_object_array_add(fins, json_object_get(f));
	}
	p = json_object_new_object();
	md = json_object_new_object();
	json_object_object_add(md, "finalizers", fins);
	/* Guard against a concurrent writer adding a finalizer meanwhile. */
	json_object_object_add(md, "resourceVersion",
	    json_object_new_string(nap_json_str(cur, "metadata.resourceVersion", "")));
	json_object_object_add(p, "metadata", md);
	if (nap_kube_patch(x->kube, path, "merge", p, NULL, &err) < 0 && err.http != 404 &&
	    !is_fatal(x, &err))
		nap_warn("remove finalizer of nodeclaim %s: %s", name, err.msg);
	json_object_put(p);
	json_object_put(cur);
	free(path);
}

static void
claim_delete(struct ctx *x, const char *name)
{
	struct nap_err err;
	char *path = nc_path(name, NULL);

	if (nap_kube_delete(x->kube, path, NULL, NULL, &err) < 0 && err.http != 404 &&
	    !is_fatal(x, &err))
		nap_warn("delete nodeclaim %s: %s", name, err.msg);
	free(path);
}

/* ---- records ---- */

static void
emit_launched(struct ctx *x, struct claim *c)
{
	json_object *r = json_object_new_object();
	char *vm = arm_id(x, "Microsoft.Compute/virtualMachines", c->vm);
	char buf[32];

	json_object_object_add(r, "type", json_object_new_string("Launched"));
	json_object_object_add(r, "nodeClaim", json_object_new_string(c->name));
	json_object_object_add(r, "nodePool", json_object_new_string(c->pool));
	json_object_object_add(r, "vm", json_object_new_string(vm));
	json_object_object_add(r, "providerID", json_object_new_string(c->provider_id));
	if (c->cur.it) {
		json_object_object_add(r, "instanceType", json_object_new_string(c->cur.it->name));
		json_object_object_add(r, "zone", json_object_new_string(c->cur.off->zone_label));
		json_object_object_add(
		    r, "capacityType", json_object_new_string(c->cur.off->capacity_type));
		snprintf(buf, sizeof(buf), "%.6g", c->price);
		json_object_object_add(r, "price", json_object_new_double_s(c->price, buf));
	}
	if (c->image_id)
		json_object_object_add(r, "imageID", json_object_new_string(c->image_id));
	nap_emit(r);
	json_object_put(r);
	free(vm);
}

static void
emit_simple(const char *type, struct claim *c, const char *k1, const char *v1)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "type", json_object_new_string(type));
	json_object_object_add(r, "nodeClaim", json_object_new_string(c->name));
	json_object_object_add(r, "nodePool", json_object_new_string(c->pool));
	if (k1 && v1)
		json_object_object_add(r, k1, json_object_new_string(v1));
	if (strcmp(type, "LaunchFailed") == 0) {
		json_object_object_add(r, "reason", json_object_new_string(c->reason));
		json_object_object_add(r, "code", json_object_new_string(c->code));
		json_object_object_add(r, "message", json_object_new_string(c->message));
	}
	if (c->provider_id && strcmp(type, "Registered") == 0)
		json_object_object_add(r, "providerID", json_object_new_string(c->provider_id));
	nap_emit(r);
	json_object_put(r);
}

/* ---- ARM steps ---- */

static void
arm(struct ctx *x, struct claim *c, enum step st, const char *method, char *path, const char *api,
    json_object *body, unsigned flags)
{
	c->step = st;
	c->call = nap_arm_start(x->arm, method, path, api, body, flags, c);
	free(path);
	if (body)
		json_object_put(body);
}

static const struct nap_nodeclass *
nodeclass(struct ctx *x, const char *name)
{
	const struct nap_nodeclass *nc = nap_cluster_nodeclass(x->cl, name);
	json_object *obj = NULL;
	struct nap_err err;
	char *path;

	if (nc)
		return nc;
	/* Not in the stream (run alone, or before SYNCED): ask once. */
	path = nap_url_path("/apis/karpenter.azure.com/v1beta1/aksnodeclasses", name, (char *)NULL);
	if (nap_kube_get(x->kube, path, &obj, &err) == 0) {
		if (json_object_is_type(obj, json_type_object))
			json_object_object_add(obj, "kind", json_object_new_string("AKSNodeClass"));
		if (nap_cluster_apply(x->cl, "ADDED", obj, &err) < 0)
			nap_warn("aksnodeclass %s: %s", name, err.msg);
		json_object_put(obj);
	} else if (!is_fatal(x, &err) && err.http != 404) {
		nap_warn("get aksnodeclass %s: %s", name, err.msg);
	}
	free(path);
	return nap_cluster_nodeclass(x->cl, name);
}

static void fail_claim(struct ctx *x, struct claim *c);
static void on_node(struct ctx *x, const struct nap_node *n);

/*
 * The claim's Node in the model, if it registered with the claim's VM:
 * the kubelet names the Node after the VM's computer name, in lower case.
 */
static const struct nap_node *
claim_node(struct ctx *x, struct claim *c)
{
	const struct nap_node *n;
	char *name = nap_xstrdup(c->vm), *p;

	for (p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	n = nap_cluster_node(x->cl, name);
	free(name);
	return n && c->provider_id && strcmp(n->provider_id, c->provider_id) == 0 ? n : NULL;
}

/*
 * A Node that registered before we knew the claim's providerID (a restart
 * that found the VM running) gets no new record to trigger on: look for it.
 */
static void
node_check(struct ctx *x, struct claim *c)
{
	const struct nap_node *n = claim_node(x, c);

	if (n)
		on_node(x, n);
}

/*
 * The Nodes as the API server has them now, into the model: records reach
 * nap-launch well behind the API server when the pipeline is busy, so claims
 * about to time out look there before they delete nodes that registered.
 * One LIST for all of them, at most once a second: a GET per claim per tick
 * held the loop (and the pipeline behind it) for seconds.
 */
static void
nodes_list(struct ctx *x)
{
	json_object *obj = NULL, *items;
	struct nap_err err;
	size_t i, n;

	if (nap_kube_get(x->kube, "/api/v1/nodes", &obj, &err) < 0) {
		if (!is_fatal(x, &err))
			nap_warn("list nodes: %s", err.msg);
		return;
	}
	items = nap_json_array(obj, "items", &n);
	for (i = 0; items && i < n; i++) {
		json_object *node = json_object_array_get_idx(items, i);

		if (!json_object_is_type(node, json_type_object))
			continue;
		json_object_object_add(node, "kind", json_object_new_string("Node"));
		if (nap_cluster_apply(x->cl, "MODIFIED", node, &err) < 0)
			nap_warn("node %s: %s", nap_json_str(node, "metadata.name", "?"), err.msg);
	}
	json_object_put(obj);
}

/* Is the claim's Node in the model (registered, whatever we made of it yet)? */
static int
node_known(struct ctx *x, struct claim *c)
{
	return claim_node(x, c) != NULL;
}

/*
 * Delete the claim's VM, NIC and OS disk (lib/vm) on the way to step st:
 * a failed VM before the next offering, or everything of a claim nap-launch
 * gives up on.  Never a claim someone else deletes: that is nap-disrupt's.
 */
static void
vm_del(struct ctx *x, struct claim *c, enum step st)
{
	struct nap_vm_names n;

	nap_vm_names(&n, x->sub, x->rg, c->vm);
	c->step = st;
	c->del = nap_vm_delete_start(x->arm, &n, c);
}

static void vm_deleted(struct ctx *x, struct claim *c, int rc, const struct nap_err *err);

static void
put_nic(struct ctx *x, struct claim *c)
{
	const struct nap_nodeclass *nc = nodeclass(x, c->klass);

	c->nic_accel = c->cur.it->accel_net == 1;
	arm(x, c, ST_NIC_PUT, "PUT", arm_path_nic(x, c->vm), NAP_ARM_API_NETWORK,
	    body_nic(x, c, nc), NAP_ARM_LRO);
}

static void
put_vm(struct ctx *x, struct claim *c)
{
	const struct nap_nodeclass *nc = nodeclass(x, c->klass);
	json_object *b;

	free(c->image_id);
	c->image_id = NULL;
	b = body_vm(x, c, nc, &c->image_id);
	nap_debug("nodeclaim %s: create vm %s: %s %s %s", c->name, c->vm, c->cur.it->name,
	    c->cur.off->zone_label, c->cur.off->capacity_type);
	arm(x, c, ST_VM_PUT, "PUT", arm_path_vm(x, c->vm), NAP_ARM_API_COMPUTE, b,
	    NAP_ARM_LRO | NAP_ARM_EXPAND_IV);
}

/* Try the next offering, or give up. */
static void
try_next(struct ctx *x, struct claim *c)
{
	if (next_offering(x, c) < 0) {
		if (!c->reason[0] || strcmp(c->reason, "LaunchFailed") == 0)
			set_error(c, "InsufficientCapacity", c->code,
			    c->message[0] ? c->message : "no offering of the request is available");
		else if (!c->message[0])
			set_error(c, c->reason, c->code, "no offering of the request is available");
		fail_claim(x, c);
		return;
	}
	if (c->nic_accel != (c->cur.it->accel_net == 1))
		put_nic(x, c);
	else
		put_vm(x, c);
}

static void
launched(struct ctx *x, struct claim *c)
{
	char *pid = provider_id(x, c->vm);

	set_provider(x, c, pid);
	free(pid);
	c->step = ST_LAUNCHED;
	if (!c->launched_wall)
		c->launched_wall = wall_ms();
	labels_patch(x, c);
	status_patch(x, c, 0);
	emit_launched(x, c);
	x->nlaunched++;
	nap_info("nodeclaim %s launched: %s %s %s", c->name, c->cur.it ? c->cur.it->name : "?",
	    c->cur.it ? c->cur.off->zone_label : "", c->cur.it ? c->cur.off->capacity_type : "");
	node_check(x, c);
}

static int
zone_num(const char *s)
{
	char *end;
	long v;

	if (!s)
		return 0;
	v = strtol(s, &end, 10);
	return end != s && *end == '\0' && v > 0 && v <= NAP_CATALOG_MAX_ZONES ? (int)v : 0;
}

/* A VM found by name (restart): take its size and place as the offering. */
static void
adopt_vm(struct ctx *x, struct claim *c, json_object *vm)
{
	const char *size = nap_json_str(vm, "properties.hardwareProfile.vmSize", "");
	const char *prio = nap_json_str(vm, "properties.priority", "Regular");
	json_object *zones = nap_json_get(vm, "zones");
	const struct nap_itype *it = nap_catalog_find(x->cat, size);
	int zone = 0, spot = strcasecmp(prio, "Spot") == 0 || strcasecmp(prio, "Low") == 0;
	size_t i;

	if (zones && json_object_is_type(zones, json_type_array) &&
	    json_object_array_length(zones) > 0)
		zone = zone_num(json_object_get_string(json_object_array_get_idx(zones, 0)));
	memset(&c->cur, 0, sizeof(c->cur));
	for (i = 0; it && i < it->noff; i++)
		if (it->off[i].zone == zone && it->off[i].spot == spot) {
			c->cur.it = it;
			c->cur.off = &it->off[i];
			c->price = it->off[i].price;
		}
	free(c->image_id);
	c->image_id = NULL;
	{
		const char *img = nap_json_str(
		    vm, "properties.storageProfile.imageReference.communityGalleryImageId", NULL);

		if (!img)
			img = nap_json_str(vm, "properties.storageProfile.imageReference.id", NULL);
		if (img)
			c->image_id = nap_xstrdup(img);
	}
}

int
launch_arm_done(struct ctx *x, struct nap_arm_call *call)
{
	struct claim *c = nap_arm_call_arg(call);
	const struct nap_arm_result *r = nap_arm_result(call);
	enum nap_arm_class cls;

	if (c != NULL && c->del && nap_vm_delete_owns(c->del, call)) {
		struct nap_err err;
		int rc = nap_vm_delete_step(c->del, call, &err);

		if (rc != 1)
			vm_deleted(x, c, rc, &err);
		return 1;
	}
	if (c == NULL)
		return 0;
	if (c->call != call) {
		nap_arm_call_free(call);
		return 1;
	}
	c->call = NULL;
	if (!r->ok && r->err.code != NAP_EX_NO && is_fatal(x, &r->err)) {
		nap_arm_call_free(call);
		return 1;
	}
	if (c->stop) {
		/* Deleted meanwhile: what this call made is nap-disrupt's to remove. */
		nap_info("nodeclaim %s: being deleted: launch stopped, termination left to "
			 "nap-disrupt",
		    c->name);
		nap_arm_call_free(call);
		claim_gone(x, c);
		return 1;
	}
	switch (c->step) {
	case ST_VM_GET:
		if (r->ok) {
			adopt_vm(x, c, r->body);
			if (c->cur.it == NULL)
				nap_warn("nodeclaim %s: vm %s has a size or place the catalog does "
					 "not offer",
				    c->name, c->vm);
			launched(x, c);
		} else if (r->status == 404 || strcmp(r->code, "ResourceNotFound") == 0) {
			if (next_offering(x, c) < 0) {
				set_error(c, "InsufficientCapacity", "",
				    "no offering of the request is available");
				fail_claim(x, c);
			} else {
				put_nic(x, c);
			}
		} else if (r->async) {
			/* A VM left Failed by an earlier run: remove it, then launch. */
			set_error(c, nap_arm_class_reason(nap_arm_classify(r->code, r->message)),
			    r->code, r->message);
			vm_del(x, c, ST_VM_CLEANUP);
		} else {
			set_error(c, "LaunchFailed", r->code, r->err.msg);
			fail_claim(x, c);
		}
		break;
	case ST_NIC_PUT:
		if (r->ok) {
			put_vm(x, c);
		} else {
			nap_warn("nodeclaim %s: create nic %s: %s", c->name, c->vm, r->err.msg);
			set_error(
			    c, "LaunchFailed", r->code, r->message[0] ? r->message : r->err.msg);
			fail_claim(x, c);
		}
		break;
	case ST_VM_PUT:
		if (r->ok) {
			launched(x, c);
			break;
		}
		cls = nap_arm_classify(r->code, r->message);
		set_error(
		    c, nap_arm_class_reason(cls), r->code, r->message[0] ? r->message : r->err.msg);
		nap_warn("nodeclaim %s: create vm %s (%s %s %s): %s: %s", c->name, c->vm,
		    c->cur.it->name, c->cur.off->zone_label, c->cur.off->capacity_type,
		    r->code[0] ? r->code : "error", r->message[0] ? r->message : r->err.msg);
		if (nap_arm_class_is_capacity(cls))
			cache_mark(&x->oc, c->name, &c->cur, c->cands, c->ncands, cls, r->code, r->message);
		if (r->async) {
			/* The failed VM stays as debris: delete it before the next try. */
			vm_del(x, c, ST_VM_CLEANUP);
		} else if (nap_arm_class_is_capacity(cls)) {
			try_next(x, c);
		} else {
			fail_claim(x, c);
		}
		break;
	default:
		break;
	}
	nap_arm_call_free(call);
	return 1;
}

/* The claim's deletion (vm_del) ended: rc 0 all gone, -1 err. */
static void
vm_deleted(struct ctx *x, struct claim *c, int rc, const struct nap_err *err)
{
	nap_vm_delete_free(c->del);
	c->del = NULL;
	if (rc < 0 && !is_fatal(x, err))
		nap_warn("nodeclaim %s: %s", c->name, err->msg);
	if (x->fatal)
		return;
	switch (c->step) {
	case ST_VM_CLEANUP:
		c->nic_accel = -1; /* the NIC went too */
		if (c->stop) {
			claim_gone(x, c);
		} else if (c->cur.it == NULL) {
			/* Debris of an earlier run: now launch as if new. */
			if (next_offering(x, c) < 0) {
				set_error(c, "InsufficientCapacity", c->code,
				    "no offering of the request is available");
				fail_claim(x, c);
			} else {
				put_nic(x, c);
			}
		} else {
			try_next(x, c);
		}
		break;
	case ST_FAIL_DEL:
		claim_delete(x, c->name);
		finalizer_drop(x, c->name);
		claim_gone(x, c);
		break;
	case ST_TIMEOUT_DEL:
		finalizer_drop(x, c->name);
		if (rc == 0)
			nap_info("nodeclaim %s: given up: vm, nic and disk deleted", c->name);
		claim_gone(x, c);
		break;
	default:
		break;
	}
}

/* No offering left (or a refusal no other offering helps): undo and give up. */
static void
fail_claim(struct ctx *x, struct claim *c)
{
	c->step = ST_FAIL_DEL;
	x->nfailed++;
	status_patch(x, c, 1);
	emit_simple("LaunchFailed", c, NULL, NULL);
	nap_warn("nodeclaim %s: launch failed: %s: %s", c->name, c->reason, c->message);
	vm_del(x, c, ST_FAIL_DEL);
}

/*
 * fresh: we have just created the NodeClaim, so no earlier run can have made
 * its VM (a VM is only ever made for an existing claim, and our finalizer
 * keeps a claim until its VM is gone): skip the lookup.
 */
static void
start(struct ctx *x, struct claim *c, int fresh)
{
	cands_build(x, c);
	if (fresh) {
		if (next_offering(x, c) < 0) {
			set_error(c, "InsufficientCapacity", "",
			    "no offering of the request is available");
			fail_claim(x, c);
		} else {
			put_nic(x, c);
		}
		return;
	}
	/* GET first: a VM made by an earlier run is reused, never doubled (4.1 step 8). */
	arm(x, c, ST_VM_GET, "GET", arm_path_vm(x, c->vm), NAP_ARM_API_COMPUTE, NULL,
	    NAP_ARM_LRO | NAP_ARM_EXPAND_IV);
}

/* ---- requests ---- */

static char *
gen_name(json_object *rec, const char *pool)
{
	static const char b36[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	const char *s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN);
	uint64_t h = nap_hash_str(s, strlen(s));
	char suf[6];
	int i;

	for (i = 0; i < 5; i++) {
		suf[i] = b36[h % 36];
		h /= 36;
	}
	suf[5] = '\0';
	return nap_xasprintf("%s-%s", pool && *pool ? pool : "default", suf);
}

static void
stamp(struct ctx *x, json_object *nc, const char *klass)
{
	json_object *md = nap_json_get(nc, "metadata"), *fins, *ann;
	const struct nap_nodeclass *cls = nodeclass(x, klass);
	size_t i, n;
	int have = 0;

	fins = nap_json_array(nc, "metadata.finalizers", &n);
	if (!fins) {
		fins = json_object_new_array();
		json_object_object_add(md, "finalizers", fins);
	}
	for (i = 0; i < n; i++)
		if (fin_is_ours(json_object_array_get_idx(fins, i)))
			have = 1;
	if (!have)
		json_object_array_add(fins, json_object_new_string(NAP_FINALIZER_TERMINATION));
	ann = nap_json_get(nc, "metadata.annotations");
	if (!ann || !json_object_is_type(ann, json_type_object)) {
		ann = json_object_new_object();
		json_object_object_add(md, "annotations", ann);
	}
	if (cls && cls->meta.raw) { /* the class it was made from, for NodeClassDrift */
		char h[NAP_DRIFT_HASH_LEN];

		nap_nodeclass_hash(cls, h);
		json_object_object_add(ann, NAP_ANN_NODECLASS_HASH, json_object_new_string(h));
		json_object_object_add(ann, NAP_ANN_NODECLASS_HASH_VERSION,
		    json_object_new_string(NAP_NODECLASS_HASH_VERSION));
	}
	json_object_object_del(nc, "status");
}

/* "a string", "an array", "null": what a JSON value is, for a message. */
static const char *
type_word(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
	case json_type_int:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "?";
}

/*
 * What a LaunchRequest's nodeClaim must be before anything is done with it
 * (the rest is the API server's to check): metadata an object, with a
 * string name when it has one, and finalizers a list of strings.  0, or
 * -1 with err.
 */
static int
request_check(json_object *nc, struct nap_err *err)
{
	json_object *md = nap_json_key(nc, "metadata"), *v, *fins;
	size_t i, n;

	if (md == NULL || json_object_is_type(md, json_type_null))
		return 0;
	if (!json_object_is_type(md, json_type_object))
		return nap_err_set(
		    err, NAP_EX_DATAERR, "metadata is %s, not an object", type_word(md));
	v = nap_json_key(md, "name");
	if (v && !json_object_is_type(v, json_type_string))
		return nap_err_set(
		    err, NAP_EX_DATAERR, "metadata.name is %s, not a string", type_word(v));
	fins = nap_json_key(md, "finalizers");
	if (fins == NULL || json_object_is_type(fins, json_type_null))
		return 0;
	if (!json_object_is_type(fins, json_type_array))
		return nap_err_set(err, NAP_EX_DATAERR, "metadata.finalizers is %s, not a list",
		    type_word(fins));
	n = json_object_array_length(fins);
	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(fins, i), json_type_string))
			return nap_err_set(err, NAP_EX_DATAERR,
			    "metadata.finalizers[%zu] is %s, not a string", i,
			    type_word(json_object_array_get_idx(fins, i)));
	return 0;
}

/*
 * Which request a warning is about, quoted: nodeclaim "NAME", or "for
 * pod(s) NS/NAME, ..." when it has no name (free it).
 */
static char *
request_who(json_object *rec)
{
	const char *name = nap_json_str(rec, "nodeClaim.metadata.name", NULL);
	json_object *pods;
	char *who, *q;
	size_t i, n, len, alloc = 0;

	if (name)
		return claim_who(name);
	pods = nap_json_array(rec, "pods", &n);
	if (n == 0)
		return nap_xstrdup("without a name or pods");
	who = NULL;
	len = 0;
	for (i = 0; i < n && len < 200; i++) {
		q = nap_text_quote(nap_json_str(json_object_array_get_idx(pods, i), "", "?"), 64);
		nap_xgrow(&who, &alloc, len + strlen(q) + 16, 1);
		len += (size_t)snprintf(who + len, alloc - len, "%s%s",
		    i ? ", " : n > 1 ? "for pods " : "for pod ", q);
		free(q);
	}
	if (i < n)
		snprintf(who + len, alloc - len, ", ...");
	return who;
}

void
launch_request(struct ctx *x, json_object *rec)
{
	json_object *in = nap_json_get(rec, "nodeClaim"), *nc = NULL, *out = NULL;
	struct nap_err err;
	struct claim *c;
	const char *name, *pool;
	char *gen = NULL, *who;
	int fresh = 0;

	if (!in || !json_object_is_type(in, json_type_object)) {
		nap_warn("LaunchRequest without a nodeClaim object: skipped");
		return;
	}
	/* One bad request is skipped, named; the launcher goes on with the next. */
	if (request_check(in, &err) < 0 ||
	    ((name = nap_json_str(in, "metadata.name", NULL)) && name_check(name, &err) < 0)) {
		who = request_who(rec);
		nap_warn("LaunchRequest %s: %s: skipped", who, err.msg);
		free(who);
		return;
	}
	if (json_object_deep_copy(in, &nc, NULL) != 0)
		return;
	if (!nap_json_key(nc, "metadata") ||
	    json_object_is_type(nap_json_key(nc, "metadata"), json_type_null))
		json_object_object_add(nc, "metadata", json_object_new_object());
	{
		json_object *l = nap_json_get(nc, "metadata.labels"), *v;

		v = l && json_object_is_type(l, json_type_object)
		    ? json_object_object_get(l, "karpenter.sh/nodepool")
		    : NULL;
		pool = v ? json_object_get_string(v) : NULL;
	}
	name = nap_json_str(nc, "metadata.name", NULL);
	if (!name || !*name) {
		gen = gen_name(rec, pool);
		if (name_check(gen, &err) < 0) {
			who = request_who(rec);
			nap_warn("LaunchRequest %s: generated %s: skipped", who, err.msg);
			free(who);
			goto out;
		}
		json_object_object_add(
		    nap_json_get(nc, "metadata"), "name", json_object_new_string(gen));
		name = gen;
	}
	if (nap_hash_get(&x->byname, name)) {
		nap_debug("nodeclaim %s: already in hand, request ignored", name);
		goto out;
	}
	if (nap_hash_get(&x->collecting, name)) {
		nap_info("nodeclaim %s: its old vm is being garbage-collected: request dropped",
		    name);
		goto out;
	}
	/* A name seen before: nap-solve names claims after their pods, and asks again. */
	nap_hash_del(&x->done, name);
	json_object_object_add(nc, "apiVersion", json_object_new_string("karpenter.sh/v1"));
	json_object_object_add(nc, "kind", json_object_new_string("NodeClaim"));
	stamp(x, nc, nap_json_str(nc, "spec.nodeClassRef.name", "default"));
	if (nap_kube_create(x->kube, NC_PATH, nc, &out, &err) == 0) {
		fresh = 1;
		obs_nodeclaim_created(out);
	} else {
		if (err.http != 409) {
			if (!is_fatal(x, &err))
				nap_warn("create nodeclaim %s: %s", name, err.msg);
			goto out;
		}
		/* Already there (a repeated request): carry on with what exists. */
		{
			char *p = nc_path(name, NULL);

			if (nap_kube_get(x->kube, p, &out, &err) < 0) {
				free(p);
				if (!is_fatal(x, &err))
					nap_warn("get nodeclaim %s: %s", name, err.msg);
				goto out;
			}
			free(p);
		}
		if (nap_json_get(out, "metadata.deletionTimestamp")) {
			nap_info("nodeclaim %s: still being deleted: request dropped", name);
			goto out;
		}
	}
	if (!json_object_is_type(out, json_type_object)) {
		nap_warn("nodeclaim %s: the API server answered with a %s, not an object", name,
		    json_type_to_name(json_object_get_type(out)));
		goto out;
	}
	if (!nap_json_key(out, "kind"))
		json_object_object_add(out, "kind", json_object_new_string("NodeClaim"));
	c = claim_new(x, out, &err);
	if (!c) {
		nap_warn("nodeclaim %s: %s", name, err.msg);
		goto out;
	}
	if (c->nc.provider_id[0]) {
		/* Launched by an earlier run: follow it. */
		set_provider(x, c, c->nc.provider_id);
		c->step = ST_LAUNCHED;
		c->launched_wall = wall_ms();
	} else {
		start(x, c, fresh);
	}
out:
	if (out)
		json_object_put(out);
	json_object_put(nc);
	free(gen);
}

/* ---- registration and initialization ---- */

static int
has_taint(const struct nap_node *n, const char *key)
{
	size_t i;

	for (i = 0; i < n->ntaints; i++)
		if (strcmp(n->taints[i].key, key) == 0)
			return 1;
	return 0;
}

/*
 * The Node's finalizers with karpenter.sh/termination added (a new list to
 * merge-patch in, under the Node's resourceVersion), or NULL when it has it
 * already or is being deleted (no finalizer may be added then).
 */
static json_object *
node_fins(const struct nap_node *n)
{
	json_object *all, *fins;
	size_t i, k;

	if (n->meta.deleted)
		return NULL;
	all = n->meta.raw ? nap_json_array(n->meta.raw, "metadata.finalizers", &k) : NULL;
	for (i = 0; all && i < k; i++)
		if (fin_is_ours(json_object_array_get_idx(all, i)))
			return NULL;
	fins = json_object_new_array();
	for (i = 0; all && i < k; i++)
		json_object_array_add(fins, json_object_get(json_object_array_get_idx(all, i)));
	json_object_array_add(fins, json_object_new_string(NAP_FINALIZER_TERMINATION));
	return fins;
}

/*
 * Labels, taints, owner and the termination finalizer onto the Node (as
 * Karpenter's registration does: nap-disrupt then drains a Node deleted by
 * kubectl before its VM goes); the unregistered taint off.
 */
static int
register_node(struct ctx *x, struct claim *c, const struct nap_node *n)
{
	json_object *p = json_object_new_object(), *md = json_object_new_object();
	json_object *labels = json_object_new_object(), *spec = json_object_new_object();
	json_object *taints = json_object_new_array(), *refs = json_object_new_array(), *ref;
	json_object *fins;
	struct nap_err err;
	char *path;
	size_t i;
	int rc = 0;

	if (c->nc.meta.labels) {
		json_object_object_foreach(c->nc.meta.labels, k, v)
		    json_object_object_add(labels, k, json_object_get(v));
	}
	json_object_object_add(labels, "karpenter.sh/registered", json_object_new_string("true"));
	json_object_object_add(md, "labels", labels);
	ref = json_object_new_object();
	json_object_object_add(ref, "apiVersion", json_object_new_string("karpenter.sh/v1"));
	json_object_object_add(ref, "kind", json_object_new_string("NodeClaim"));
	json_object_object_add(ref, "name", json_object_new_string(c->name));
	json_object_object_add(ref, "uid", json_object_new_string(c->nc.meta.uid));
	json_object_object_add(ref, "blockOwnerDeletion", json_object_new_boolean(1));
	json_object_array_add(refs, ref);
	json_object_object_add(md, "ownerReferences", refs);
	if ((fins = node_fins(n)) != NULL)
		json_object_object_add(md, "finalizers", fins);
	/* Optimistic concurrency: the kubelet edits taints too; finalizers are a list. */
	json_object_object_add(md, "resourceVersion", json_object_new_string(n->meta.rv));
	json_object_object_add(p, "metadata", md);
	for (i = 0; i < n->ntaints; i++)
		if (strcmp(n->taints[i].key, NAP_TAINT_UNREGISTERED) != 0)
			json_object_array_add(taints, nap_taint_json(&n->taints[i]));
	for (i = 0; i < c->nc.ntaints; i++)
		if (!has_taint(n, c->nc.taints[i].key))
			json_object_array_add(taints, nap_taint_json(&c->nc.taints[i]));
	json_object_object_add(spec, "taints", taints);
	json_object_object_add(p, "spec", spec);
	path = nap_url_path("/api/v1/nodes", n->meta.name, (char *)NULL);
	if (nap_kube_patch(x->kube, path, "merge", p, NULL, &err) < 0) {
		if (!is_fatal(x, &err) && err.http != 409)
			nap_warn("register node %s: %s", n->meta.name, err.msg);
		rc = -1; /* 409: a newer Node record is on its way */
	}
	free(path);
	json_object_put(p);
	return rc;
}

static int
initialized(const struct claim *c, const struct nap_node *n)
{
	size_t i;
	int k;

	if (n->ready != 1 || has_taint(n, NAP_TAINT_UNREGISTERED))
		return 0;
	for (i = 0; i < c->nc.nstartup_taints; i++)
		if (has_taint(n, c->nc.startup_taints[i].key))
			return 0;
	/* Requested extended resources must be advertised (device plugins up). */
	for (k = 0; k < NAP_RES_N; k++)
		if (c->nc.requests.v[k] > 0 && n->allocatable.v[k] <= 0)
			return 0;
	return 1;
}

/*
 * Merge-patch the Node's metadata.key to val (taken), under resourceVersion
 * rv when not NULL; what names the change in a warning.  0 or -1.
 */
static int
node_patch(struct ctx *x, const struct nap_node *n, const char *key, json_object *val,
    const char *rv, const char *what)
{
	json_object *p = json_object_new_object(), *md = json_object_new_object();
	struct nap_err err;
	char *path = nap_url_path("/api/v1/nodes", n->meta.name, (char *)NULL);
	int rc;

	json_object_object_add(md, key, val);
	if (rv)
		json_object_object_add(md, "resourceVersion", json_object_new_string(rv));
	json_object_object_add(p, "metadata", md);
	rc = nap_kube_patch(x->kube, path, "merge", p, NULL, &err);
	if (rc < 0 && !is_fatal(x, &err) && err.http != 409)
		nap_warn("%s node %s: %s", what, n->meta.name, err.msg);
	free(path);
	json_object_put(p);
	return rc;
}

/*
 * What an initialized claim's Node must keep: karpenter.sh/initialized=true
 * and the termination finalizer.  Called on every record of the Node and
 * from the sweep, so a label a throttled or killed run never wrote (or
 * someone removed), or a finalizer a Node registered by an older nap-launch
 * lacks, is put back: nothing else would ever repair the Node.  At most
 * every 10 s per claim, since the model shows the patch only once its
 * record comes back.
 */
static void
node_upkeep(struct ctx *x, struct claim *c, const struct nap_node *n)
{
	const char *v = nap_meta_label(&n->meta, "karpenter.sh/initialized");
	int labelled = v && strcmp(v, "true") == 0;
	json_object *fins, *labels;
	int64_t now = wall_ms();

	if (c->init_label_ms && now - c->init_label_ms < 10000)
		return;
	fins = node_fins(n);
	if (labelled && !fins)
		return;
	c->init_label_ms = now;
	if (!labelled) {
		labels = json_object_new_object();
		json_object_object_add(
		    labels, "karpenter.sh/initialized", json_object_new_string("true"));
		if (node_patch(x, n, "labels", labels, NULL, "label initialized") == 0 &&
		    c->initialized_wall)
			nap_info("node %s: karpenter.sh/initialized label restored", n->meta.name);
	}
	/* A list: merged under the resourceVersion it was read at (409: next time). */
	if (fins && node_patch(x, n, "finalizers", fins, n->meta.rv, "add finalizer") == 0)
		nap_info("node %s: termination finalizer added", n->meta.name);
}

static void
on_node(struct ctx *x, const struct nap_node *n)
{
	struct claim *c;
	struct nap_err err;

	if (!n->provider_id[0] || (c = nap_hash_get(&x->byprov, n->provider_id)) == NULL)
		return;
	if (c->step == ST_LAUNCHED) {
		if (register_node(x, c, n) < 0)
			return;
		c->step = ST_REGISTERED;
		free(c->node);
		c->node = nap_xstrdup(n->meta.name);
		c->registered_wall = wall_ms();
		status_patch(x, c, 0);
		emit_simple("Registered", c, "node", n->meta.name);
		(void)err;
	}
	if (c->step == ST_REGISTERED && initialized(c, n)) {
		node_upkeep(x, c, n);
		c->step = ST_INITIALIZED;
		c->initialized_wall = wall_ms();
		status_patch(x, c, 0);
		emit_simple("Initialized", c, "node", n->meta.name);
		return;
	}
	if (c->step == ST_INITIALIZED)
		node_upkeep(x, c, n);
}

/* ---- state records ---- */

static int64_t
cond_time(const struct nap_nodeclaim *nc, const char *type)
{
	const struct nap_cond *k = nap_cond_find(nc->conds, nc->nconds, type);

	return k && k->since ? k->since * 1000 : 0;
}

/*
 * The NodeClaim is being deleted (or is gone) by someone else: nap-launch
 * neither deletes its VM nor drops its finalizer (nap-disrupt drains the
 * node first, then does both).  A launch in flight stops when its ARM call
 * (or its clearing of a failed VM) returns; a deletion of nap-launch's own
 * (a failed launch, a registration timeout) runs to its end.
 */
static void
let_go(struct ctx *x, struct claim *c)
{
	if (c->del) {
		/* Clearing a failed VM between two offerings: no next offering. */
		if (c->step == ST_VM_CLEANUP)
			c->stop = 1;
		return;
	}
	if (c->call) {
		c->stop = 1;
		return;
	}
	if (c->step >= ST_LAUNCHED && c->step <= ST_INITIALIZED)
		nap_info("nodeclaim %s: being deleted: left to nap-disrupt", c->name);
	claim_gone(x, c);
}

static void
on_nodeclaim(struct ctx *x, const char *type, json_object *obj)
{
	const char *name = nap_json_str(obj, "metadata.name", "");
	struct claim *c = nap_hash_get(&x->byname, name);
	struct nap_err err;

	if (!*name || nap_hash_get(&x->done, name))
		return;
	if (strcmp(type, "DELETED") == 0) {
		const char *uid = nap_json_str(obj, "metadata.uid", "");

		/* A tombstone of an earlier claim of this name leaves the live one alone. */
		if (c && *uid && c->nc.meta.uid[0] && strcmp(uid, c->nc.meta.uid) != 0)
			return;
		if (c)
			let_go(x, c);
		return;
	}
	if (c) {
		const char *uid = nap_json_str(obj, "metadata.uid", "");

		/* A record of an earlier claim of the same name. */
		if (*uid && c->nc.meta.uid[0] && strcmp(uid, c->nc.meta.uid) != 0)
			return;
		if (nap_json_get(obj, "metadata.deletionTimestamp"))
			let_go(x, c);
		return;
	}
	/* Being deleted: nap-disrupt's to drain and terminate, never ours. */
	if (nap_json_get(obj, "metadata.deletionTimestamp"))
		return;
	if ((c = claim_new(x, obj, &err)) == NULL) {
		char *who = claim_who(name);

		nap_warn("%s: %s", who, err.msg);
		free(who);
		return;
	}
	c->adopted = 1;
	if (!c->nc.provider_id[0]) {
		nap_info("nodeclaim %s: not launched yet: resuming", name);
		start(x, c, 0);
		return;
	}
	set_provider(x, c, c->nc.provider_id);
	if (c->nc.initialized) {
		/* Done, but its Node may lack the label a throttled run never wrote. */
		c->step = ST_INITIALIZED;
		c->initialized_wall = cond_time(&c->nc, "Initialized");
		if (!c->initialized_wall)
			c->initialized_wall = wall_ms();
		node_check(x, c);
		return;
	}
	{
		const char *it = nap_meta_label(&c->nc.meta, "node.kubernetes.io/instance-type");
		const char *z = nap_meta_label(&c->nc.meta, "topology.kubernetes.io/zone");
		const char *ct = nap_meta_label(&c->nc.meta, "karpenter.sh/capacity-type");
		const struct nap_itype *t = it ? nap_catalog_find(x->cat, it) : NULL;
		size_t i;

		for (i = 0; t && z && ct && i < t->noff; i++)
			if (strcmp(t->off[i].zone_label, z) == 0 &&
			    strcmp(t->off[i].capacity_type, ct) == 0) {
				c->cur.it = t;
				c->cur.off = &t->off[i];
				c->price = t->off[i].price;
			}
	}
	c->image_id = c->nc.image_id[0] ? nap_xstrdup(c->nc.image_id) : NULL;
	c->launched_wall = cond_time(&c->nc, "Launched");
	if (!c->launched_wall)
		c->launched_wall = wall_ms();
	if (c->nc.registered) {
		c->step = ST_REGISTERED;
		c->registered_wall = cond_time(&c->nc, "Registered");
		c->node = c->nc.node_name[0] ? nap_xstrdup(c->nc.node_name) : NULL;
	} else {
		c->step = ST_LAUNCHED;
	}
	node_check(x, c);
}

void
launch_state(struct ctx *x, json_object *rec)
{
	const char *type = nap_json_str(rec, "type", "");
	json_object *obj = nap_json_get(rec, "object");
	const char *kind = nap_json_str(obj, "kind", "");
	struct nap_err err;

	if (nap_cluster_apply_record(x->cl, rec, &err) < 0) {
		nap_warn("%s", err.msg);
		return;
	}
	if (strcmp(kind, "NodeClaim") == 0) {
		on_nodeclaim(x, type, obj);
	} else if (strcmp(kind, "Node") == 0 && strcmp(type, "DELETED") != 0) {
		const struct nap_node *n =
		    nap_cluster_node(x->cl, nap_json_str(obj, "metadata.name", ""));

		if (n)
			on_node(x, n);
	}
}

void
launch_synced(struct ctx *x, json_object *rec)
{
	struct nap_node *const *nodes;
	size_t i, n;

	(void)rec;
	x->synced = 1;
	nodes = nap_cluster_nodes(x->cl, &n);
	for (i = 0; i < n; i++)
		on_node(x, nodes[i]);
}

/* Registration timeout, and forgetting what is finished. */
void
launch_tick(struct ctx *x)
{
	int64_t now = wall_ms(), limit = (int64_t)((double)x->reg_timeout_ms / x->scale);
	size_t i, k = 0;

	if (now >= x->sweep_ms) {
		/* Once a second: writes that failed, Nodes whose record we missed. */
		x->sweep_ms = now + 1000;
		for (i = 0; i < x->nclaims; i++) {
			struct claim *c = x->claims[i];

			if (c->call || c->del || c->step < ST_LAUNCHED || c->step > ST_INITIALIZED)
				continue;
			if (c->status_dirty)
				status_patch(x, c, 0);
			node_check(x, c); /* also repairs an initialized Node's label */
		}
	}
	for (i = 0; i < x->nclaims; i++) {
		struct claim *c = x->claims[i];

		if (c->step == ST_LAUNCHED && !c->call && c->launched_wall &&
		    now - c->launched_wall >= limit) {
			char msg[128];

			if (now >= x->nodes_listed_ms + 1000) {
				x->nodes_listed_ms = now;
				nodes_list(x);
			}
			if (node_known(x, c)) {
				node_check(x, c); /* registers it, or tries again next tick */
				continue;
			}

			snprintf(msg, sizeof(msg), "no node registered within %lld ms",
			    (long long)limit);
			set_error(c, "RegistrationTimeout", "", msg);
			c->timed_out = 1;
			emit_simple("LaunchFailed", c, NULL, NULL);
			nap_warn("nodeclaim %s: %s: deleting it and vm %s", c->name, msg, c->vm);
			claim_delete(x, c->name);
			vm_del(x, c, ST_TIMEOUT_DEL);
		}
	}
	for (i = 0; i < x->nclaims; i++) {
		struct claim *c = x->claims[i];

		if (c->step == ST_GONE && !c->call && !c->del) {
			claim_free(c);
			continue;
		}
		x->claims[k++] = c;
	}
	x->nclaims = k;
}

/* Claims with ARM work outstanding (what end of input waits for). */
size_t
launch_busy(const struct ctx *x)
{
	size_t i, n = 0;

	for (i = 0; i < x->nclaims; i++)
		if (x->claims[i]->call || x->claims[i]->del)
			n++;
	return n;
}

void
launch_free(struct ctx *x)
{
	size_t i;

	for (i = 0; i < x->nclaims; i++)
		claim_free(x->claims[i]);
	free(x->claims);
	nap_hash_free(&x->byname);
	nap_hash_free(&x->done);
	nap_hash_free(&x->byprov);
}
