/*
 * launch.c - the life of a NodeClaim in nap-launch: created from a
 * LaunchRequest (or adopted when found unlaunched at start-up), its VM
 * looked for, its NIC and VM created on the cheapest offering Azure still
 * accepts, its status written, its Node registered and initialized; on
 * failure or deletion its Azure resources removed and its finalizer dropped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "json.h"
#include "labels.h"
#include "log.h"
#include "prog.h"
#include "text.h"
#include "launch.h"
#include "obs.h"

#define NC_PATH "/apis/karpenter.sh/v1/nodeclaims"

int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
rfc3339(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A Kubernetes or Azure refusal nothing can fix from here ends the run. */
static int
fatal_err(struct ctx *x, const struct nap_err *err)
{
	if (err->code == NAP_EX_NOPERM || err->code == NAP_EX_CONFIG ||
	    (err->code == NAP_EX_UNAVAILABLE && err->http == 0)) {
		if (!x->fatal) {
			nap_log(NAP_LOG_ERROR, "%s%s", err->msg,
			    err->http == 401 ? " (the credential was refused)"
				: err->http == 403
				? " (not permitted: check the identity's role assignments)"
				: "");
			x->fatal = err->code;
		}
		return 1;
	}
	return 0;
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

		if (cache_blocked(x, k->it, k->off))
			continue;
		c->cur = *k;
		c->price = k->off->price;
		return 0;
	}
	return -1;
}

/* ---- Kubernetes writes (blocking, short) ---- */

static char *
nc_path(const char *name, const char *sub)
{
	return nap_url_path(NC_PATH, name, sub, (char *)NULL);
}

/* A finalizer list item that is ours (items of other types are someone else's). */
static int
fin_is_ours(json_object *f)
{
	return json_object_is_type(f, json_type_string) &&
	    strcmp(json_object_get_string(f), FINALIZER) == 0;
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
	if (nap_kube_patch(x->kube, path, "merge", p, NULL, &err) < 0 && !fatal_err(x, &err)) {
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
	if (nap_kube_patch(x->kube, path, "merge", p, NULL, &err) < 0 && !fatal_err(x, &err))
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
		if (err.http != 404 && !fatal_err(x, &err))
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
	    !fatal_err(x, &err))
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
	    !fatal_err(x, &err))
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
	} else if (!fatal_err(x, &err) && err.http != 404) {
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
		if (!fatal_err(x, &err))
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

/* DELETE with forceDeletion, as the provider deletes its VMs (4.6). */
static char *
vm_delete_path(struct ctx *x, const char *vm)
{
	char *p = arm_path_vm(x, vm), *q = nap_xasprintf("%s?forceDeletion=true", p);

	free(p);
	return q;
}
static void terminate(struct ctx *x, struct claim *c);

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

/* ---- garbage collection (azure-provider.md 4.7) ---- */

/* A list longer than this is not followed to its end: the round is dropped. */
#define GC_MAX_PAGES 1000

enum gc_phase { GC_IDLE, GC_NICS, GC_VMS };

/* A NIC DELETE garbage collection has out. */
struct gc_del {
	struct nap_arm_call *call;
	char *nic;
};

/*
 * A round lists every NIC (every 5 minutes, as the provider's NIC GC) and
 * then every VM of the node resource group, page by page, and decides only
 * once both lists are whole: a VM on a page not read would otherwise count
 * as missing.  NICs are listed first so that a NIC and VM made between the
 * two lists show up as a pair rather than as a lone NIC.
 *
 * The round's state is only this section's business, so it lives here
 * rather than in struct ctx (one context per process).
 */
static struct {
	enum gc_phase phase;
	unsigned pages;		    /* of the list being read */
	json_object *vms, *nics;    /* items of the pages read so far (owned) */
	int with_nics;		    /* this round lists NICs */
	int64_t nic_next_ms;	    /* wall clock */
	struct nap_hash nic_orphan; /* NIC name -> int64_t *: wall ms first seen orphaned */
	struct gc_del *dels;
	size_t ndels, adels;
} gc;

static int64_t
created_ms(json_object *vm)
{
	int64_t t;

	if (nap_time_parse(nap_json_str(vm, "properties.timeCreated", ""), &t) < 0)
		return 0;
	return t * 1000;
}

/* The VM or NIC is this cluster's and named for a NodeClaim (aks-<name>). */
static int
gc_ours(struct ctx *x, json_object *res, const char *name)
{
	json_object *tags = nap_json_key(res, "tags"), *cl;

	if (strncmp(name, "aks-", 4) != 0 || !tags || !json_object_is_type(tags, json_type_object))
		return 0;
	/* Tag keys hold dots: look them up whole, not as paths. */
	cl = json_object_object_get(tags, "karpenter.azure.com_cluster");
	return cl && strcmp(json_object_get_string(cl), x->cluster) == 0 &&
	    json_object_object_get(tags, "karpenter.sh_nodepool") != NULL;
}

static int
gc_claimed(struct ctx *x, const char *claim)
{
	return nap_hash_get(&x->byname, claim) || nap_cluster_nodeclaim(x->cl, claim);
}

/*
 * The last word before a delete is the API server's, not the stream's: a
 * stream behind it (or one that never carried a claim) must not cost a
 * live VM.  1: the NodeClaim exists, 0: it does not (404), -1: unknown.
 */
static int
gc_claim_exists(struct ctx *x, const char *claim)
{
	struct nap_err err;
	char *path = nc_path(claim, NULL);
	int rc;

	rc = nap_kube_get(x->kube, path, NULL, &err);
	free(path);
	if (rc == 0)
		return 1;
	if (err.http == 404)
		return 0;
	if (!fatal_err(x, &err))
		nap_warn("garbage collection: get nodeclaim %s: %s: kept this round", claim,
		    err.msg);
	return -1;
}

static void
gc_reset(void)
{
	if (gc.vms)
		json_object_put(gc.vms);
	if (gc.nics)
		json_object_put(gc.nics);
	gc.vms = gc.nics = NULL;
	gc.phase = GC_IDLE;
	gc.pages = 0;
	gc.with_nics = 0;
}

/* Give up on this round: nothing is deleted on partial information. */
static void gc_abort(const char *fmt, ...) NAP_PRINTF(1, 2);

static void
gc_abort(const char *fmt, ...)
{
	char msg[NAP_ERR_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nap_warn("garbage collection: %s: nothing collected this round", msg);
	if (gc.with_nics)
		gc.nic_next_ms = 0; /* the NICs again next round, not in 5 minutes */
	gc_reset();
}

/*
 * A VM of this cluster named for a NodeClaim that exists nowhere (a claim
 * whose finalizer someone removed by hand, say) is deleted with its NIC,
 * once it is older than 5 minutes, so a launch in flight is never taken
 * for debris.
 */
static void
gc_vms(struct ctx *x, struct nap_hash *names)
{
	int64_t now = wall_ms(), age = (int64_t)(300000.0 / x->scale);
	size_t i, n = json_object_array_length(gc.vms);

	for (i = 0; i < n; i++) {
		json_object *vm = json_object_array_get_idx(gc.vms, i), *obj;
		const char *name = nap_json_str(vm, "name", "");
		struct nap_err err;
		struct claim *c;
		int64_t born;

		nap_hash_put(names, name, vm);
		if (!gc_ours(x, vm, name) || gc_claimed(x, name + 4))
			continue;
		born = created_ms(vm);
		if (!born || now - born < age)
			continue;
		if (gc_claim_exists(x, name + 4) != 0) {
			nap_debug("garbage collection: vm %s: nodeclaim %s exists: kept", name,
			    name + 4);
			continue;
		}
		obj = json_object_new_object();
		json_object_object_add(obj, "kind", json_object_new_string("NodeClaim"));
		nap_json_set(obj, "metadata.name", json_object_new_string(name + 4));
		nap_hash_del(&x->done, name + 4);
		c = claim_new(x, obj, &err);
		json_object_put(obj);
		if (!c)
			continue;
		nap_warn("vm %s belongs to no nodeclaim: deleting it", name);
		c->adopted = 1;
		terminate(x, c);
	}
}

static int
gc_deleting(const char *nic)
{
	size_t i;

	for (i = 0; i < gc.ndels; i++)
		if (strcmp(gc.dels[i].nic, nic) == 0)
			return 1;
	return 0;
}

/*
 * A NIC of this cluster named aks-<name> with no VM of that name, no
 * NodeClaim <name> and no VM attached is deleted (4.7).  NICs carry no
 * creation time, so the provider's 5 minutes of grace are counted from the
 * round that first found the NIC orphaned: a NIC made just before its VM
 * or NodeClaim is never taken for debris.
 */
static void
gc_nics(struct ctx *x, const struct nap_hash *vm_names)
{
	int64_t now = wall_ms(), grace = (int64_t)(300000.0 / x->scale), *first;
	struct nap_hash still = NAP_HASH_INIT;
	const char *key;
	void *val;
	char **gone = NULL;
	size_t i, n = json_object_array_length(gc.nics), pos = 0, ngone = 0, agone = 0;

	for (i = 0; i < n; i++) {
		json_object *nic = json_object_array_get_idx(gc.nics, i);
		const char *name = nap_json_str(nic, "name", "");
		struct gc_del *d;

		if (!gc_ours(x, nic, name) || nap_hash_get(vm_names, name) ||
		    nap_json_get(nic, "properties.virtualMachine.id") || gc_claimed(x, name + 4) ||
		    gc_deleting(name))
			continue;
		first = nap_hash_get(&gc.nic_orphan, name);
		if (first == NULL) {
			first = nap_xmalloc(sizeof(*first));
			*first = now;
			nap_hash_put(&gc.nic_orphan, name, first);
		}
		if (now - *first < grace || gc_claim_exists(x, name + 4) != 0) {
			nap_hash_put(&still, name, first);
			continue;
		}
		nap_warn("nic %s belongs to no vm and no nodeclaim: deleting it", name);
		nap_xgrow(&gc.dels, &gc.adels, gc.ndels + 1, sizeof(*gc.dels));
		d = &gc.dels[gc.ndels++];
		d->nic = nap_xstrdup(name);
		{
			char *path = arm_path_nic(x, name);

			d->call = nap_arm_start(
			    x->arm, "DELETE", path, NAP_ARM_API_NETWORK, NULL, NAP_ARM_LRO, NULL);
			free(path);
		}
	}
	/* Forget NICs no longer orphaned (claimed since, or being deleted). */
	while (nap_hash_next(&gc.nic_orphan, &pos, &key, &val))
		if (!nap_hash_get(&still, key)) {
			nap_xgrow(&gone, &agone, ngone + 1, sizeof(*gone));
			gone[ngone++] = nap_xstrdup(key);
		}
	for (i = 0; i < ngone; i++) {
		free(nap_hash_del(&gc.nic_orphan, gone[i]));
		free(gone[i]);
	}
	free(gone);
	nap_hash_free(&still);
}

static void
gc_list(struct ctx *x, const char *path, const char *api)
{
	gc.pages = 0;
	x->gc_call = nap_arm_start(x->arm, "GET", path, api, NULL, 0, NULL);
}

/* One page of the list being read: keep its items, then the next page or the next list. */
static void
gc_page(struct ctx *x, const struct nap_arm_result *r)
{
	const char *what = gc.phase == GC_NICS ? "nics" : "vms", *next;
	json_object *items, *into = gc.phase == GC_NICS ? gc.nics : gc.vms;
	struct nap_hash names = NAP_HASH_INIT;
	struct nap_err err;
	size_t i, n;

	if (!r->ok) {
		gc_abort("list %s, page %u: %s", what, gc.pages + 1, r->err.msg);
		return;
	}
	gc.pages++;
	items = nap_json_array(r->body, "value", &n);
	if (items == NULL) {
		gc_abort("list %s, page %u: no value array", what, gc.pages);
		return;
	}
	for (i = 0; i < n; i++)
		json_object_array_add(into, json_object_get(json_object_array_get_idx(items, i)));
	next = nap_json_str(r->body, "nextLink", NULL);
	if (next && *next) {
		if (gc.pages >= GC_MAX_PAGES) {
			gc_abort("list %s: more than %d pages", what, GC_MAX_PAGES);
			return;
		}
		x->gc_call = nap_arm_start_url(x->arm, next, NULL, &err);
		if (x->gc_call == NULL)
			gc_abort("list %s, page %u: %s", what, gc.pages + 1, err.msg);
		return;
	}
	if (gc.phase == GC_NICS) {
		char *path = nap_url_path("/subscriptions", x->sub, "resourceGroups", x->rg,
		    "providers", "Microsoft.Compute", "virtualMachines", (char *)NULL);

		gc.phase = GC_VMS;
		gc_list(x, path, NAP_ARM_API_COMPUTE);
		free(path);
		return;
	}
	gc_vms(x, &names);
	if (gc.nics)
		gc_nics(x, &names);
	nap_hash_free(&names);
	gc_reset();
}

static void
gc_start(struct ctx *x)
{
	char *path;
	int64_t now = wall_ms();

	if (!x->gc_allowed || gc.phase != GC_IDLE || x->gc_call || now < x->gc_next_ms)
		return;
	/* Every 2 minutes, as the provider's instance GC; NICs every 5. */
	x->gc_next_ms = now + (int64_t)(120000.0 / x->scale);
	gc.vms = json_object_new_array();
	if (now >= gc.nic_next_ms) {
		gc.nic_next_ms = now + (int64_t)(300000.0 / x->scale);
		gc.with_nics = 1;
		gc.nics = json_object_new_array();
		gc.phase = GC_NICS;
		path = nap_url_path("/subscriptions", x->sub, "resourceGroups", x->rg, "providers",
		    "Microsoft.Network", "networkInterfaces", (char *)NULL);
		gc_list(x, path, NAP_ARM_API_NETWORK);
	} else {
		gc.phase = GC_VMS;
		path = nap_url_path("/subscriptions", x->sub, "resourceGroups", x->rg, "providers",
		    "Microsoft.Compute", "virtualMachines", (char *)NULL);
		gc_list(x, path, NAP_ARM_API_COMPUTE);
	}
	free(path);
}

/* 1 when the call was garbage collection's (and is now freed). */
static int
gc_arm_done(struct ctx *x, struct nap_arm_call *call)
{
	const struct nap_arm_result *r = nap_arm_result(call);
	size_t i;

	if (call == x->gc_call) {
		x->gc_call = NULL;
		if (!r->ok && fatal_err(x, &r->err))
			gc_reset();
		else
			gc_page(x, r);
		nap_arm_call_free(call);
		return 1;
	}
	for (i = 0; i < gc.ndels; i++) {
		if (gc.dels[i].call != call)
			continue;
		if (r->ok)
			nap_info("nic %s deleted", gc.dels[i].nic);
		else if (!fatal_err(x, &r->err))
			nap_warn("delete nic %s: %s", gc.dels[i].nic, r->err.msg);
		free(gc.dels[i].nic);
		gc.dels[i] = gc.dels[--gc.ndels];
		nap_arm_call_free(call);
		return 1;
	}
	return 0;
}

static void
gc_free(void)
{
	const char *key;
	void *val;
	size_t i, pos = 0;

	gc_reset();
	while (nap_hash_next(&gc.nic_orphan, &pos, &key, &val))
		free(val);
	nap_hash_free(&gc.nic_orphan);
	for (i = 0; i < gc.ndels; i++)
		free(gc.dels[i].nic);
	free(gc.dels);
	gc.dels = NULL;
	gc.ndels = gc.adels = 0;
}

void
launch_arm_done(struct ctx *x, struct nap_arm_call *call)
{
	struct claim *c = nap_arm_call_arg(call);
	const struct nap_arm_result *r = nap_arm_result(call);
	enum nap_arm_class cls;

	if (gc_arm_done(x, call))
		return;

	if (c == NULL || c->call != call) {
		nap_arm_call_free(call);
		return;
	}
	c->call = NULL;
	if (!r->ok && r->err.code != NAP_EX_NO && fatal_err(x, &r->err)) {
		nap_arm_call_free(call);
		return;
	}
	if (c->want_term && c->step != ST_TERM_VM && c->step != ST_TERM_NIC) {
		c->want_term = 0;
		nap_arm_call_free(call);
		terminate(x, c);
		return;
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
			arm(x, c, ST_VM_CLEANUP, "DELETE", vm_delete_path(x, c->vm),
			    NAP_ARM_API_COMPUTE, NULL, NAP_ARM_LRO);
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
			cache_mark(x, c, cls, r->code, r->message);
		if (r->async) {
			/* The failed VM stays as debris: delete it before the next try. */
			arm(x, c, ST_VM_CLEANUP, "DELETE", vm_delete_path(x, c->vm),
			    NAP_ARM_API_COMPUTE, NULL, NAP_ARM_LRO);
		} else if (nap_arm_class_is_capacity(cls)) {
			try_next(x, c);
		} else {
			fail_claim(x, c);
		}
		break;
	case ST_VM_CLEANUP:
		if (!r->ok)
			nap_warn(
			    "nodeclaim %s: delete failed vm %s: %s", c->name, c->vm, r->err.msg);
		c->nic_accel = -1; /* the NIC went with the VM (deleteOption Delete) */
		if (c->cur.it == NULL) {
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
	case ST_FAIL_NIC:
		if (!r->ok)
			nap_warn("nodeclaim %s: delete nic %s: %s", c->name, c->vm, r->err.msg);
		claim_delete(x, c->name);
		finalizer_drop(x, c->name);
		claim_gone(x, c);
		break;
	case ST_TERM_VM:
		if (!r->ok)
			nap_warn("nodeclaim %s: delete vm %s: %s", c->name, c->vm, r->err.msg);
		arm(x, c, ST_TERM_NIC, "DELETE", arm_path_nic(x, c->vm), NAP_ARM_API_NETWORK, NULL,
		    NAP_ARM_LRO);
		break;
	case ST_TERM_NIC:
		if (!r->ok)
			nap_warn("nodeclaim %s: delete nic %s: %s", c->name, c->vm, r->err.msg);
		finalizer_drop(x, c->name);
		nap_info("nodeclaim %s terminated: vm and nic deleted", c->name);
		claim_gone(x, c);
		break;
	default:
		break;
	}
	nap_arm_call_free(call);
}

/* No offering left (or a refusal no other offering helps): undo and give up. */
static void
fail_claim(struct ctx *x, struct claim *c)
{
	c->step = ST_FAIL_NIC;
	x->nfailed++;
	status_patch(x, c, 1);
	emit_simple("LaunchFailed", c, NULL, NULL);
	nap_warn("nodeclaim %s: launch failed: %s: %s", c->name, c->reason, c->message);
	arm(x, c, ST_FAIL_NIC, "DELETE", arm_path_nic(x, c->vm), NAP_ARM_API_NETWORK, NULL,
	    NAP_ARM_LRO);
}

/* The NodeClaim is being deleted: VM, then NIC, then the finalizer. */
static void
terminate(struct ctx *x, struct claim *c)
{
	if (c->call) {
		c->want_term = 1;
		return;
	}
	nap_info("nodeclaim %s: deleting vm %s", c->name, c->vm);
	arm(x, c, ST_TERM_VM, "DELETE", vm_delete_path(x, c->vm), NAP_ARM_API_COMPUTE, NULL,
	    NAP_ARM_LRO);
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
		json_object_array_add(fins, json_object_new_string(FINALIZER));
	ann = nap_json_get(nc, "metadata.annotations");
	if (!ann || !json_object_is_type(ann, json_type_object)) {
		ann = json_object_new_object();
		json_object_object_add(md, "annotations", ann);
	}
	if (cls) {
		const char *h =
		    nap_meta_annotation(&cls->meta, "karpenter.azure.com/aksnodeclass-hash");
		const char *v = nap_meta_annotation(
		    &cls->meta, "karpenter.azure.com/aksnodeclass-hash-version");

		if (h)
			json_object_object_add(ann, "karpenter.azure.com/aksnodeclass-hash",
			    json_object_new_string(h));
		if (v)
			json_object_object_add(ann, "karpenter.azure.com/aksnodeclass-hash-version",
			    json_object_new_string(v));
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
			if (!fatal_err(x, &err))
				nap_warn("create nodeclaim %s: %s", name, err.msg);
			goto out;
		}
		/* Already there (a repeated request): carry on with what exists. */
		{
			char *p = nc_path(name, NULL);

			if (nap_kube_get(x->kube, p, &out, &err) < 0) {
				free(p);
				if (!fatal_err(x, &err))
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

static json_object *
taint_json(const struct nap_taint *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "key", json_object_new_string(t->key));
	if (t->value && t->value[0])
		json_object_object_add(o, "value", json_object_new_string(t->value));
	json_object_object_add(o, "effect", json_object_new_string(nap_effect_name(t->effect)));
	return o;
}

/* Labels, taints and owner onto the Node; the unregistered taint off. */
static int
register_node(struct ctx *x, struct claim *c, const struct nap_node *n)
{
	json_object *p = json_object_new_object(), *md = json_object_new_object();
	json_object *labels = json_object_new_object(), *spec = json_object_new_object();
	json_object *taints = json_object_new_array(), *refs = json_object_new_array(), *ref;
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
	/* Optimistic concurrency: the kubelet edits taints too. */
	json_object_object_add(md, "resourceVersion", json_object_new_string(n->meta.rv));
	json_object_object_add(p, "metadata", md);
	for (i = 0; i < n->ntaints; i++)
		if (strcmp(n->taints[i].key, UNREGISTERED_TAINT) != 0)
			json_object_array_add(taints, taint_json(&n->taints[i]));
	for (i = 0; i < c->nc.ntaints; i++)
		if (!has_taint(n, c->nc.taints[i].key))
			json_object_array_add(taints, taint_json(&c->nc.taints[i]));
	json_object_object_add(spec, "taints", taints);
	json_object_object_add(p, "spec", spec);
	path = nap_url_path("/api/v1/nodes", n->meta.name, (char *)NULL);
	if (nap_kube_patch(x->kube, path, "merge", p, NULL, &err) < 0) {
		if (!fatal_err(x, &err) && err.http != 409)
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

	if (n->ready != 1 || has_taint(n, UNREGISTERED_TAINT))
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
 * karpenter.sh/initialized=true onto the Node, unless it is there already.
 * Called on every record of an initialized claim's Node and from the
 * sweep, so a label a throttled or killed run never wrote (or someone
 * removed) is put back: the claim's status alone says Initialized, and
 * nothing else would ever repair the Node.  At most every 10 s per claim,
 * since the model shows the patch only once its record comes back.
 */
static void
label_initialized(struct ctx *x, struct claim *c, const struct nap_node *n)
{
	const char *v = nap_meta_label(&n->meta, "karpenter.sh/initialized");
	json_object *p, *md, *labels;
	struct nap_err err;
	int64_t now = wall_ms();
	char *path;

	if ((v && strcmp(v, "true") == 0) || (c->init_label_ms && now - c->init_label_ms < 10000))
		return;
	c->init_label_ms = now;
	p = json_object_new_object();
	md = json_object_new_object();
	labels = json_object_new_object();
	json_object_object_add(labels, "karpenter.sh/initialized", json_object_new_string("true"));
	json_object_object_add(md, "labels", labels);
	json_object_object_add(p, "metadata", md);
	path = nap_url_path("/api/v1/nodes", n->meta.name, (char *)NULL);
	if (nap_kube_patch(x->kube, path, "merge", p, NULL, &err) < 0) {
		if (!fatal_err(x, &err))
			nap_warn("label node %s initialized: %s", n->meta.name, err.msg);
	} else if (c->initialized_wall) {
		nap_info("node %s: karpenter.sh/initialized label restored", n->meta.name);
	}
	free(path);
	json_object_put(p);
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
		label_initialized(x, c, n);
		c->step = ST_INITIALIZED;
		c->initialized_wall = wall_ms();
		status_patch(x, c, 0);
		emit_simple("Initialized", c, "node", n->meta.name);
		return;
	}
	if (c->step == ST_INITIALIZED)
		label_initialized(x, c, n);
}

/* ---- state records ---- */

static int64_t
cond_time(const struct nap_nodeclaim *nc, const char *type)
{
	const struct nap_cond *k = nap_cond_find(nc->conds, nc->nconds, type);

	return k && k->since ? k->since * 1000 : 0;
}

static int
has_finalizer(json_object *obj)
{
	json_object *f;
	size_t i, n;

	f = nap_json_array(obj, "metadata.finalizers", &n);
	for (i = 0; f && i < n; i++)
		if (fin_is_ours(json_object_array_get_idx(f, i)))
			return 1;
	return 0;
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
		if (c && c->step != ST_TERM_VM && c->step != ST_TERM_NIC && !c->call)
			claim_gone(x, c);
		return;
	}
	if (c) {
		const char *uid = nap_json_str(obj, "metadata.uid", "");

		/* A record of an earlier claim of the same name. */
		if (*uid && c->nc.meta.uid[0] && strcmp(uid, c->nc.meta.uid) != 0)
			return;
		if (nap_json_get(obj, "metadata.deletionTimestamp") && has_finalizer(obj) &&
		    c->step != ST_TERM_VM && c->step != ST_TERM_NIC && c->step != ST_FAIL_NIC)
			terminate(x, c);
		return;
	}
	if (nap_json_get(obj, "metadata.deletionTimestamp")) {
		if (!has_finalizer(obj))
			return;
		if ((c = claim_new(x, obj, &err)) == NULL) {
			char *who = claim_who(name);

			nap_warn("%s: %s", who, err.msg);
			free(who);
			return;
		}
		c->adopted = 1;
		terminate(x, c);
		return;
	}
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

/*
 * Does this SYNCED vouch for the NodeClaims?  Only when its "kinds" names
 * them: a stream of pods and nodes alone says nothing of which claims
 * exist, and garbage collection on it would delete every VM.
 */
static int
synced_covers_claims(json_object *rec)
{
	json_object *kinds = nap_json_key(rec, "kinds");
	size_t i, n;

	if (!kinds || !json_object_is_type(kinds, json_type_array))
		return 0;
	n = json_object_array_length(kinds);
	for (i = 0; i < n; i++) {
		json_object *k = json_object_array_get_idx(kinds, i);

		if (json_object_is_type(k, json_type_string) &&
		    strcmp(json_object_get_string(k), "nodeclaims") == 0)
			return 1;
	}
	return 0;
}

void
launch_synced(struct ctx *x, json_object *rec)
{
	struct nap_node *const *nodes;
	size_t i, n;

	x->synced = 1;
	x->gc_allowed = synced_covers_claims(rec);
	if (!x->gc_allowed && !x->gc_warned) {
		x->gc_warned = 1;
		nap_warn("garbage collection: SYNCED does not list nodeclaims among its kinds "
			 "(nap-watch --kinds without nodeclaims?): no VM or NIC will be collected");
	}
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

	gc_start(x);
	if (now >= x->sweep_ms) {
		/* Once a second: writes that failed, Nodes whose record we missed. */
		x->sweep_ms = now + 1000;
		for (i = 0; i < x->nclaims; i++) {
			struct claim *c = x->claims[i];

			if (c->call || c->step < ST_LAUNCHED || c->step > ST_INITIALIZED)
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
			terminate(x, c);
		}
	}
	for (i = 0; i < x->nclaims; i++) {
		struct claim *c = x->claims[i];

		if (c->step == ST_GONE && !c->call) {
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
		if (x->claims[i]->call)
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
	for (i = 0; i < x->nun; i++)
		free(x->un[i].key);
	free(x->un);
	nap_hash_free(&x->byname);
	nap_hash_free(&x->done);
	nap_hash_free(&x->byprov);
	gc_free();
}
