/*
 * kubelet.c - the kubelets of the simulated VMs and the node lifecycle and
 * pod garbage-collection controllers around them.  A VM that reaches
 * Succeeded boots for --boot-time, registers its Node (NotReady, with the
 * bootstrap labels and taints), turns Ready after the ready delay, and
 * drops its startup taints after the startup delay.  Pods bound to a Ready
 * node go Running.  When the VM is deleted or evicted the Node goes
 * NotReady (Unknown, unreachable taints) and, after the gone delay, is
 * deleted together with the pods bound to it, so their controllers make
 * new ones.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "hash.h"
#include "image.h"
#include "json.h"
#include "log.h"
#include "world.h"

/*
 * The bootstrap's kubernetesVersion (with a leading v), else the control
 * plane's when the node registers (/version, which a test may move).
 */
static const char *
kube_version(struct world *w, const struct world_vm *vm, char *buf, size_t size)
{
	const char *v = nap_json_str(vm->boot, "kubernetesVersion", NULL);

	if (v && *v) {
		snprintf(buf, size, "%s%s", *v == 'v' ? "" : "v", v);
		return buf;
	}
	v = gallery_k8s_version(w);
	return v && *v ? v : "v1.32.4";
}

/*
 * The osImage of the distribution the VM was created from (its image
 * reference, community or managed gallery), as AKS nodes report it; a VM
 * without a known AKS image reports Ubuntu 22.04, the default family's.
 */
static const char *
os_image(const struct world_vm *vm)
{
	static const struct {
		const char *prefix, *os;
	} os[] = {
	    {"2404", "Ubuntu 24.04.3 LTS"},
	    {"2004", "Ubuntu 20.04.6 LTS"},
	    {"V2", "CBL-Mariner/Linux"},
	    {"V3", "Microsoft Azure Linux 3.0"},
	};
	const char *id = nap_json_str(
	    vm->body, "properties.storageProfile.imageReference.communityGalleryImageId", NULL);
	const char *r = "Ubuntu 22.04.5 LTS";
	char *def, *ver;

	if (id == NULL)
		id = nap_json_str(vm->body, "properties.storageProfile.imageReference.id", NULL);
	if (nap_image_id_parse(id, &def, &ver) < 0)
		return r;
	for (size_t i = 0; i < sizeof(os) / sizeof(os[0]); i++)
		if (strncmp(def, os[i].prefix, strlen(os[i].prefix)) == 0)
			r = os[i].os;
	free(def);
	free(ver);
	return r;
}

static void
kubelet_wake(struct world *w, struct world_vm *vm, double delay)
{
	vm->node_at = sim_elapsed(w->sim) + delay;
	world_wake_in(w, delay);
}

void
kubelet_vm_running(struct world *w, struct world_vm *vm)
{
	if (!w->kubelet_on)
		return;
	vm->node = NODE_BOOTING;
	free(vm->node_name);
	vm->node_name = nap_xstrdup(vm->computer_name);
	kubelet_wake(w, vm, w->opts->boot_time);
}

static json_object *
taint(const char *key, const char *value, const char *effect, const char *added)
{
	json_object *t = json_object_new_object();

	json_object_object_add(t, "key", json_object_new_string(key));
	if (value)
		json_object_object_add(t, "value", json_object_new_string(value));
	json_object_object_add(t, "effect", json_object_new_string(effect));
	if (added)
		json_object_object_add(t, "timeAdded", json_object_new_string(added));
	return t;
}

static json_object *
condition(
    const char *type, const char *status, const char *reason, const char *message, const char *now)
{
	json_object *c = json_object_new_object();

	json_object_object_add(c, "type", json_object_new_string(type));
	json_object_object_add(c, "status", json_object_new_string(status));
	json_object_object_add(c, "lastHeartbeatTime", json_object_new_string(now));
	json_object_object_add(c, "lastTransitionTime", json_object_new_string(now));
	json_object_object_add(c, "reason", json_object_new_string(reason));
	json_object_object_add(c, "message", json_object_new_string(message));
	return c;
}

static const char *
vm_ip(struct world *w, const struct world_vm *vm)
{
	struct world_nic *nic = vm->nic_id ? world_nic_find_id(w, vm->nic_id) : NULL;
	json_object *c;

	if (nic == NULL)
		return "10.224.0.4";
	c = json_object_array_get_idx(nap_json_get(nic->body, "properties.ipConfigurations"), 0);
	return nap_json_str(c, "properties.privateIPAddress", "10.224.0.4");
}

/* Subtract a ResourceList (reservations) from r; unparsable entries are skipped. */
static void
res_sub_list(struct nap_res *r, json_object *list)
{
	struct nap_res sub;
	struct nap_err err;

	if (list == NULL || !json_object_is_type(list, json_type_object))
		return;
	nap_res_zero(&sub);
	if (nap_res_parse(&sub, list, NULL, 0, &err) == 0)
		nap_res_sub(r, &sub);
}

/* Kubelets report memory and disk in Ki, rounded down. */
static void
ki(json_object *list, const char *key, int64_t bytes)
{
	char buf[32];

	if (bytes <= 0)
		return;
	snprintf(buf, sizeof(buf), "%lldKi", (long long)(bytes / 1024));
	json_object_object_add(list, key, json_object_new_string(buf));
}

static void
node_resources(struct world *w, const struct world_vm *vm, json_object **cap, json_object **alloc)
{
	struct nap_itype_opts o;
	struct nap_res c, a;
	json_object *kub = vm->boot ? nap_json_get(vm->boot, "kubelet") : NULL;
	int k;

	memset(&o, 0, sizeof(o));
	o.max_pods = (int)nap_json_int(kub, "maxPods", w->max_pods_default);
	o.os_disk_gb = (int)nap_json_int(vm->boot, "osDiskSizeGB", 0);
	nap_res_zero(&c);
	nap_res_zero(&a);
	if (vm->size && vm->size->itype) {
		nap_itype_capacity(vm->size->itype, &o, &c);
		if (kub &&
		    (nap_json_get(kub, "kubeReserved") || nap_json_get(kub, "systemReserved") ||
			nap_json_get(kub, "evictionHard"))) {
			json_object *eh = nap_json_get(kub, "evictionHard");
			json_object *mem = eh ? nap_json_key(eh, "memory.available") : NULL;

			a = c;
			res_sub_list(&a, nap_json_get(kub, "kubeReserved"));
			res_sub_list(&a, nap_json_get(kub, "systemReserved"));
			if (mem) {
				json_object *l = json_object_new_object();

				json_object_object_add(l, "memory", json_object_get(mem));
				res_sub_list(&a, l);
				json_object_put(l);
			}
			for (k = 0; k < NAP_RES_N; k++)
				if (a.v[k] < 0)
					a.v[k] = 0;
		} else {
			nap_itype_allocatable(vm->size->itype, &o, &a);
		}
	}
	*cap = nap_res_to_json(&c);
	*alloc = nap_res_to_json(&a);
	ki(*cap, "memory", c.v[NAP_RES_MEMORY]);
	ki(*cap, "ephemeral-storage", c.v[NAP_RES_EPHEMERAL]);
	ki(*alloc, "memory", a.v[NAP_RES_MEMORY]);
	ki(*alloc, "ephemeral-storage", a.v[NAP_RES_EPHEMERAL]);
}

static void
add_taints(json_object *dst, json_object *src)
{
	size_t i, n;

	if (src == NULL || !json_object_is_type(src, json_type_array))
		return;
	n = json_object_array_length(src);
	for (i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(src, i);

		if (nap_json_str(t, "key", NULL) && nap_json_str(t, "effect", NULL))
			json_object_array_add(dst, sim_dup(t));
	}
}

static json_object *
node_build(struct world *w, struct world_vm *vm)
{
	json_object *n = json_object_new_object(), *md = json_object_new_object();
	json_object *labels = json_object_new_object(), *ann = json_object_new_object();
	json_object *spec = json_object_new_object(), *st = json_object_new_object();
	json_object *taints = json_object_new_array(), *conds, *addr, *a, *info, *cap, *alloc;
	json_object *bl = vm->boot ? nap_json_get(vm->boot, "labels") : NULL;
	const char *arch = vm->size ? vm->size->arch : "amd64", *np;
	char zone[64], now[40], uuid[40], kv[64], *pid, *rg;
	size_t i;

	sim_rfc3339(w->sim, now, sizeof(now));
	if (bl && json_object_is_type(bl, json_type_object)) {
		json_object_object_foreach(bl, k, v) if (json_object_is_type(v, json_type_string))
		    json_object_object_add(labels, k, json_object_get(v));
	}
	np = nap_json_str(
	    nap_json_key(nap_json_get(vm->body, "tags"), "karpenter.sh_nodepool"), "", NULL);
	if (np && nap_json_key(labels, "karpenter.sh/nodepool") == NULL)
		json_object_object_add(labels, "karpenter.sh/nodepool", json_object_new_string(np));
	if (vm->zone > 0)
		snprintf(zone, sizeof(zone), "%s-%d", w->region, vm->zone);
	else
		snprintf(zone, sizeof(zone), "0");
	/* What the kubelet sets itself wins over the launch labels. */
	json_object_object_add(
	    labels, "kubernetes.io/hostname", json_object_new_string(vm->node_name));
	json_object_object_add(labels, "kubernetes.io/os", json_object_new_string("linux"));
	json_object_object_add(labels, "kubernetes.io/arch", json_object_new_string(arch));
	json_object_object_add(labels, "beta.kubernetes.io/os", json_object_new_string("linux"));
	json_object_object_add(labels, "beta.kubernetes.io/arch", json_object_new_string(arch));
	json_object_object_add(labels, "node.kubernetes.io/instance-type",
	    json_object_new_string(vm->size ? vm->size->name : "unknown"));
	json_object_object_add(
	    labels, "topology.kubernetes.io/region", json_object_new_string(w->region));
	json_object_object_add(labels, "topology.kubernetes.io/zone", json_object_new_string(zone));
	json_object_object_add(labels, "karpenter.sh/capacity-type",
	    json_object_new_string(vm->spot ? "spot" : "on-demand"));
	json_object_object_add(labels, "kubernetes.azure.com/scalesetpriority",
	    json_object_new_string(vm->spot ? "spot" : "regular"));
	json_object_object_add(md, "name", json_object_new_string(vm->node_name));
	json_object_object_add(md, "labels", labels);
	json_object_object_add(ann, "node.alpha.kubernetes.io/ttl", json_object_new_string("0"));
	json_object_object_add(ann, "volumes.kubernetes.io/controller-managed-attach-detach",
	    json_object_new_string("true"));
	json_object_object_add(md, "annotations", ann);
	json_object_object_add(n, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(n, "kind", json_object_new_string("Node"));
	json_object_object_add(n, "metadata", md);

	/* The resource group is lower-cased in provider IDs (karpenter-provider-azure). */
	rg = nap_xstrdup(w->rg);
	for (i = 0; rg[i]; i++)
		rg[i] = (char)tolower((unsigned char)rg[i]);
	pid = nap_xasprintf("azure:///subscriptions/%s/resourceGroups/%s/providers/"
			    "Microsoft.Compute/virtualMachines/%s",
	    w->sub, rg, vm->name);
	free(rg);
	json_object_object_add(spec, "providerID", json_object_new_string(pid));
	free(pid);
	if (vm->boot) {
		add_taints(taints, nap_json_get(vm->boot, "taints"));
		add_taints(taints, nap_json_get(vm->boot, "startupTaints"));
	}
	json_object_array_add(
	    taints, taint("node.kubernetes.io/not-ready", NULL, "NoSchedule", NULL));
	json_object_object_add(spec, "taints", taints);
	json_object_object_add(n, "spec", spec);

	node_resources(w, vm, &cap, &alloc);
	json_object_object_add(st, "capacity", cap);
	json_object_object_add(st, "allocatable", alloc);
	conds = json_object_new_array();
	json_object_array_add(conds,
	    condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
		"kubelet has sufficient memory available", now));
	json_object_array_add(conds,
	    condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
		"kubelet has no disk pressure", now));
	json_object_array_add(conds,
	    condition("PIDPressure", "False", "KubeletHasSufficientPID",
		"kubelet has sufficient PID available", now));
	json_object_array_add(conds,
	    condition("Ready", "False", "KubeletNotReady",
		"container runtime network not ready: NetworkReady=false "
		"reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not "
		"initialized",
		now));
	json_object_object_add(st, "conditions", conds);
	addr = json_object_new_array();
	a = json_object_new_object();
	json_object_object_add(a, "type", json_object_new_string("InternalIP"));
	json_object_object_add(a, "address", json_object_new_string(vm_ip(w, vm)));
	json_object_array_add(addr, a);
	a = json_object_new_object();
	json_object_object_add(a, "type", json_object_new_string("Hostname"));
	json_object_object_add(a, "address", json_object_new_string(vm->node_name));
	json_object_array_add(addr, a);
	json_object_object_add(st, "addresses", addr);
	info = json_object_new_object();
	world_uuid(w, uuid, sizeof(uuid));
	json_object_object_add(info, "machineID", json_object_new_string(uuid));
	json_object_object_add(info, "systemUUID", json_object_new_string(vm->vm_uuid));
	world_uuid(w, uuid, sizeof(uuid));
	json_object_object_add(info, "bootID", json_object_new_string(uuid));
	json_object_object_add(info, "kernelVersion", json_object_new_string("5.15.0-1089-azure"));
	json_object_object_add(info, "osImage", json_object_new_string(os_image(vm)));
	json_object_object_add(
	    info, "containerRuntimeVersion", json_object_new_string("containerd://1.7.27-1"));
	json_object_object_add(
	    info, "kubeletVersion", json_object_new_string(kube_version(w, vm, kv, sizeof(kv))));
	json_object_object_add(
	    info, "kubeProxyVersion", json_object_new_string(kube_version(w, vm, kv, sizeof(kv))));
	json_object_object_add(info, "operatingSystem", json_object_new_string("linux"));
	json_object_object_add(info, "architecture", json_object_new_string(arch));
	json_object_object_add(st, "nodeInfo", info);
	json_object_object_add(n, "status", st);
	return n;
}

/* Edit the stored Node with fn; 0 when stored, -1 when the Node is gone. */
static int
node_edit(struct world *w, const char *name,
    void (*fn)(struct world *, json_object *, const char *), const char *now)
{
	json_object *cur = sim_get(w->sim, "nodes", NULL, name), *n;
	struct nap_err err = {0};

	if (cur == NULL)
		return -1;
	n = sim_dup(cur);
	fn(w, n, now);
	json_object_object_del(json_object_object_get(n, "metadata"), "resourceVersion");
	if (sim_update(w->sim, "nodes", n, NULL, &err) < 0) {
		nap_debug("kubelet: update node %s: %s", name, err.msg);
		return -1;
	}
	return 0;
}

static json_object *
ready_condition(json_object *node)
{
	json_object *conds = nap_json_get(node, "status.conditions");
	size_t i, n = conds ? json_object_array_length(conds) : 0;

	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(conds, i);

		if (strcmp(nap_json_str(c, "type", ""), "Ready") == 0)
			return c;
	}
	return NULL;
}

static int
node_ready(json_object *node)
{
	return strcmp(nap_json_str(ready_condition(node), "status", ""), "True") == 0;
}

static void
set_ready(
    json_object *n, const char *status, const char *reason, const char *message, const char *now)
{
	json_object *c = ready_condition(n);

	if (c == NULL)
		return;
	if (strcmp(nap_json_str(c, "status", ""), status) != 0)
		json_object_object_add(c, "lastTransitionTime", json_object_new_string(now));
	json_object_object_add(c, "status", json_object_new_string(status));
	json_object_object_add(c, "reason", json_object_new_string(reason));
	json_object_object_add(c, "message", json_object_new_string(message));
	json_object_object_add(c, "lastHeartbeatTime", json_object_new_string(now));
}

/* Drop taints whose key is in keys (NULL-terminated) or, with startup, the
 * bootstrap's startup taints. */
static void
drop_taints(json_object *n, const char *const *keys, json_object *startup)
{
	json_object *old = nap_json_get(n, "spec.taints"), *nt;
	size_t i, j, len;

	if (old == NULL || !json_object_is_type(old, json_type_array))
		return;
	nt = json_object_new_array();
	len = json_object_array_length(old);
	for (i = 0; i < len; i++) {
		json_object *t = json_object_array_get_idx(old, i);
		const char *k = nap_json_str(t, "key", "");
		int drop = 0;

		for (j = 0; keys && keys[j]; j++)
			if (strcmp(keys[j], k) == 0)
				drop = 1;
		if (startup && json_object_is_type(startup, json_type_array)) {
			size_t sn = json_object_array_length(startup);

			for (j = 0; j < sn; j++) {
				json_object *s = json_object_array_get_idx(startup, j);

				if (strcmp(nap_json_str(s, "key", ""), k) == 0 &&
				    strcmp(nap_json_str(s, "effect", ""),
					nap_json_str(t, "effect", "")) == 0)
					drop = 1;
			}
		}
		if (!drop)
			json_object_array_add(nt, json_object_get(t));
	}
	json_object_object_add(json_object_object_get(n, "spec"), "taints", nt);
}

static void
edit_ready(struct world *w, json_object *n, const char *now)
{
	static const char *const keys[] = {"node.kubernetes.io/not-ready", NULL};

	(void)w;
	set_ready(n, "True", "KubeletReady", "kubelet is posting ready status", now);
	drop_taints(n, keys, NULL);
}

static struct world_vm *edit_vm; /* the VM whose startup taints go; one thread */

static void
edit_untaint(struct world *w, json_object *n, const char *now)
{
	(void)w;
	(void)now;
	drop_taints(n, NULL,
	    edit_vm && edit_vm->boot ? nap_json_get(edit_vm->boot, "startupTaints") : NULL);
}

static void
edit_lost(struct world *w, json_object *n, const char *now)
{
	static const char *const keys[] = {
	    "node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready", NULL};
	json_object *t;

	(void)w;
	set_ready(n, "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.", now);
	drop_taints(n, keys, NULL);
	t = nap_json_get(n, "spec.taints");
	if (t == NULL) {
		t = json_object_new_array();
		nap_json_set(n, "spec.taints", t);
	}
	json_object_array_add(t, taint("node.kubernetes.io/unreachable", NULL, "NoSchedule", NULL));
	json_object_array_add(t, taint("node.kubernetes.io/unreachable", NULL, "NoExecute", now));
}

struct pod_ref {
	char *ns, *name;
};

struct pod_refs {
	struct pod_ref *v;
	size_t n, alloc;
	const char *node;
};

static int
collect_on_node(struct sim *sim, json_object *pod, void *arg)
{
	struct pod_refs *r = arg;

	(void)sim;
	if (strcmp(nap_json_str(pod, "spec.nodeName", ""), r->node) != 0)
		return 0;
	nap_xgrow(&r->v, &r->alloc, r->n + 1, sizeof(*r->v));
	r->v[r->n].ns = nap_xstrdup(nap_json_str(pod, "metadata.namespace", "default"));
	r->v[r->n++].name = nap_xstrdup(nap_json_str(pod, "metadata.name", ""));
	return 0;
}

static void
delete_refs(struct world *w, struct pod_refs *r)
{
	struct nap_err err;
	size_t i;

	for (i = 0; i < r->n; i++) {
		nap_err_clear(&err);
		if (sim_delete(w->sim, "pods", r->v[i].ns, r->v[i].name, &err) < 0 &&
		    err.http != 404)
			nap_debug("pod gc: delete %s/%s: %s", r->v[i].ns, r->v[i].name, err.msg);
		free(r->v[i].ns);
		free(r->v[i].name);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static void
node_forget(struct world *w, struct world_vm *vm)
{
	struct pod_refs r = {0};
	struct nap_err err = {0};

	r.node = vm->node_name;
	sim_foreach(w->sim, "pods", NULL, collect_on_node, &r);
	delete_refs(w, &r);
	if (sim_delete(w->sim, "nodes", NULL, vm->node_name, &err) < 0 && err.http != 404)
		nap_debug("node lifecycle: delete node %s: %s", vm->node_name, err.msg);
	vm->node = NODE_DELETED;
}

void
kubelet_vm_gone(struct world *w, struct world_vm *vm)
{
	char now[40];

	switch (vm->node) {
	case NODE_NONE:
	case NODE_BOOTING:
		vm->node = NODE_DELETED;
		return;
	case NODE_NOTREADY:
	case NODE_READY:
	case NODE_INITIALIZED:
		sim_rfc3339(w->sim, now, sizeof(now));
		if (node_edit(w, vm->node_name, edit_lost, now) < 0) {
			vm->node = NODE_DELETED;
			return;
		}
		sim_event(w->sim, sim_get(w->sim, "nodes", NULL, vm->node_name), "Normal",
		    "NodeNotReady", "Node %s status is now: NodeNotReady", vm->node_name);
		vm->node = NODE_LOST;
		kubelet_wake(w, vm, w->gone_delay);
		return;
	default:
		return;
	}
}

void
kubelet_step(struct world *w, struct world_vm *vm)
{
	struct nap_err err = {0};
	char now[40];
	json_object *st;

	sim_rfc3339(w->sim, now, sizeof(now));
	switch (vm->node) {
	case NODE_BOOTING:
		if (vm->state != VM_SUCCEEDED) {
			vm->node = NODE_DELETED;
			return;
		}
		if (sim_create(w->sim, "nodes", node_build(w, vm), NULL, &err) < 0 &&
		    err.http != 409) {
			nap_warn("kubelet: register node %s: %s", vm->node_name, err.msg);
			kubelet_wake(w, vm, 5);
			return;
		}
		volume_csinode_register(w, vm);
		sim_event(w->sim, sim_get(w->sim, "nodes", NULL, vm->node_name), "Normal",
		    "RegisteredNode", "Node %s event: Registered Node %s in Controller",
		    vm->node_name, vm->node_name);
		vm->node = NODE_NOTREADY;
		kubelet_wake(w, vm, w->ready_delay);
		return;
	case NODE_NOTREADY:
		if (node_edit(w, vm->node_name, edit_ready, now) < 0) {
			vm->node = NODE_DELETED;
			return;
		}
		sim_event(w->sim, sim_get(w->sim, "nodes", NULL, vm->node_name), "Normal",
		    "NodeReady", "Node %s status is now: NodeReady", vm->node_name);
		st = vm->boot ? nap_json_get(vm->boot, "startupTaints") : NULL;
		if (st && json_object_is_type(st, json_type_array) &&
		    json_object_array_length(st) > 0) {
			vm->node = NODE_READY;
			kubelet_wake(w, vm, w->startup_delay);
		} else {
			vm->node = NODE_INITIALIZED;
		}
		w->kubelet_dirty = 1;
		return;
	case NODE_READY:
		edit_vm = vm;
		if (node_edit(w, vm->node_name, edit_untaint, now) < 0)
			vm->node = NODE_DELETED;
		else
			vm->node = NODE_INITIALIZED;
		edit_vm = NULL;
		return;
	case NODE_LOST:
		node_forget(w, vm);
		return;
	default:
		return;
	}
}

/* ---- pods ------------------------------------------------------------ */

struct pass {
	struct world *w;
	struct pod_refs start;	/* bound to a Ready node, still Pending */
	struct pod_refs orphan; /* bound to a node that does not exist */
};

static void
ref_add(struct pod_refs *r, json_object *pod)
{
	nap_xgrow(&r->v, &r->alloc, r->n + 1, sizeof(*r->v));
	r->v[r->n].ns = nap_xstrdup(nap_json_str(pod, "metadata.namespace", "default"));
	r->v[r->n++].name = nap_xstrdup(nap_json_str(pod, "metadata.name", ""));
}

/* A pod bound to a node not found: since when, and which pod (a name comes back). */
struct orphan {
	double since;
	char *uid;
};

static void
orphan_forget(struct world *w, const char *key)
{
	struct orphan *o = w->kubelet_orphans ? nap_hash_del(w->kubelet_orphans, key) : NULL;

	if (o != NULL) {
		free(o->uid);
		free(o);
	}
}

/*
 * A pod bound to a node that is not there (a name that has not registered
 * yet, or went before the pod was bound) is collected after the pod GC
 * delay, as kube-controller-manager's PodGC quarantines a node it does not
 * see.  The pods of a Node being deleted go with it (controllers.c).
 */
static int
orphan_due(struct world *w, const char *key, json_object *pod, const char *node)
{
	const char *uid = nap_json_str(pod, "metadata.uid", "");
	double now = sim_elapsed(w->sim);
	struct orphan *o;
	int added;
	void **slot;

	if (w->kubelet_orphans == NULL) {
		w->kubelet_orphans = nap_xmalloc(sizeof(struct nap_hash));
		nap_hash_init(w->kubelet_orphans);
	}
	slot = nap_hash_slot(w->kubelet_orphans, key, &added);
	if (added)
		*slot = nap_xcalloc(1, sizeof(struct orphan));
	o = *slot;
	if (added || strcmp(o->uid, uid) != 0) {
		free(o->uid);
		o->uid = nap_xstrdup(uid);
		o->since = now;
		nap_debug("pod gc: %s is bound to node %s, which does not exist; collected in %g s "
			  "unless it registers",
		    key, node, w->pod_gc_delay);
	}
	return now - o->since >= w->pod_gc_delay;
}

static const char *
pod_key(json_object *pod, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", nap_json_str(pod, "metadata.namespace", "default"),
	    nap_json_str(pod, "metadata.name", ""));
	return buf;
}

static int
pass_pod(struct sim *sim, json_object *pod, void *arg)
{
	struct pass *p = arg;
	struct nap_hash *o = p->w->kubelet_orphans;
	const char *node = nap_json_str(pod, "spec.nodeName", "");
	const char *phase = nap_json_str(pod, "status.phase", "Pending");
	int bound = *node != '\0' && !nap_json_get(pod, "metadata.deletionTimestamp");
	json_object *n = bound ? sim_get(sim, "nodes", NULL, node) : NULL;
	char key[512];

	if (bound && n == NULL) {
		if (orphan_due(p->w, pod_key(pod, key, sizeof(key)), pod, node)) {
			orphan_forget(p->w, key);
			ref_add(&p->orphan, pod);
		}
		return 0;
	}
	if (o != NULL && nap_hash_count(o) > 0)
		orphan_forget(p->w, pod_key(pod, key, sizeof(key)));
	if (n != NULL && strcmp(phase, "Pending") == 0 && node_ready(n))
		ref_add(&p->start, pod);
	return 0;
}

static json_object *
cond(const char *type, const char *now)
{
	json_object *c = json_object_new_object();

	json_object_object_add(c, "type", json_object_new_string(type));
	json_object_object_add(c, "status", json_object_new_string("True"));
	json_object_object_add(c, "lastProbeTime", NULL);
	json_object_object_add(c, "lastTransitionTime", json_object_new_string(now));
	return c;
}

static void
pod_start(struct world *w, const char *ns, const char *name)
{
	json_object *cur = sim_get(w->sim, "pods", ns, name), *p, *st, *a, *cs, *ips, *ip;
	json_object *node, *ctrs;
	struct nap_err err = {0};
	char now[40], podip[32], cid[80];
	const char *hostip = "10.224.0.4";
	unsigned long h;
	size_t i, n;

	if (cur == NULL)
		return;
	sim_rfc3339(w->sim, now, sizeof(now));
	node = sim_get(w->sim, "nodes", NULL, nap_json_str(cur, "spec.nodeName", ""));
	a = nap_json_get(node, "status.addresses");
	for (i = 0, n = a ? json_object_array_length(a) : 0; i < n; i++)
		if (strcmp(nap_json_str(json_object_array_get_idx(a, i), "type", ""),
			"InternalIP") == 0)
			hostip = nap_json_str(json_object_array_get_idx(a, i), "address", hostip);
	p = sim_dup(cur);
	st = json_object_object_get(p, "status");
	if (st == NULL || !json_object_is_type(st, json_type_object)) {
		st = json_object_new_object();
		json_object_object_add(p, "status", st);
	}
	h = w->pod_ip_next++;
	snprintf(podip, sizeof(podip), "10.244.%lu.%lu", (h / 250) % 256, h % 250 + 2);
	json_object_object_add(st, "phase", json_object_new_string("Running"));
	a = json_object_new_array();
	json_object_array_add(a, cond("PodReadyToStartContainers", now));
	json_object_array_add(a, cond("Initialized", now));
	json_object_array_add(a, cond("Ready", now));
	json_object_array_add(a, cond("ContainersReady", now));
	json_object_array_add(a, cond("PodScheduled", now));
	json_object_object_add(st, "conditions", a);
	json_object_object_add(st, "hostIP", json_object_new_string(hostip));
	ips = json_object_new_array();
	ip = json_object_new_object();
	json_object_object_add(ip, "ip", json_object_new_string(hostip));
	json_object_array_add(ips, ip);
	json_object_object_add(st, "hostIPs", ips);
	json_object_object_add(st, "podIP", json_object_new_string(podip));
	ips = json_object_new_array();
	ip = json_object_new_object();
	json_object_object_add(ip, "ip", json_object_new_string(podip));
	json_object_array_add(ips, ip);
	json_object_object_add(st, "podIPs", ips);
	json_object_object_add(st, "startTime", json_object_new_string(now));
	cs = json_object_new_array();
	ctrs = nap_json_array(p, "spec.containers", &n);
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(ctrs, i), *s = json_object_new_object();
		json_object *state = json_object_new_object(), *run = json_object_new_object();

		json_object_object_add(
		    s, "name", json_object_new_string(nap_json_str(c, "name", "")));
		json_object_object_add(
		    s, "image", json_object_new_string(nap_json_str(c, "image", "")));
		json_object_object_add(s, "imageID", json_object_new_string(""));
		snprintf(cid, sizeof(cid), "containerd://%016llx%016llx",
		    (unsigned long long)world_rand(w), (unsigned long long)world_rand(w));
		json_object_object_add(s, "containerID", json_object_new_string(cid));
		json_object_object_add(s, "ready", json_object_new_boolean(1));
		json_object_object_add(s, "started", json_object_new_boolean(1));
		json_object_object_add(s, "restartCount", json_object_new_int(0));
		json_object_object_add(run, "startedAt", json_object_new_string(now));
		json_object_object_add(state, "running", run);
		json_object_object_add(s, "state", state);
		json_object_array_add(cs, s);
	}
	json_object_object_add(st, "containerStatuses", cs);
	json_object_object_del(json_object_object_get(p, "metadata"), "resourceVersion");
	if (sim_update(w->sim, "pods", p, NULL, &err) < 0)
		nap_debug("kubelet: start pod %s/%s: %s", ns, name, err.msg);
}

/* The pod "ns/name" (key), or NULL. */
static json_object *
pod_by_key(struct world *w, const char *key)
{
	const char *slash = strchr(key, '/');
	char ns[256];

	if (slash == NULL || (size_t)(slash - key) >= sizeof(ns))
		return NULL;
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - key), key);
	return sim_get(w->sim, "pods", ns, slash + 1);
}

static void
orphans_due(struct sim *sim, void *arg)
{
	struct world *w = world_of(sim);

	(void)arg;
	if (w == NULL)
		return;
	w->kubelet_recheck = 0;
	w->kubelet_dirty = 1;
}

/*
 * Look again at the pods waiting for their node (those the pass did not
 * see already), forget the ones gone, and wake the kubelets when the first
 * of the rest is due.
 */
static void
orphans_recheck(struct world *w, struct pass *p, int scanned)
{
	struct nap_hash *o = w->kubelet_orphans;
	double due = 0, now = sim_elapsed(w->sim);
	int any = 0;
	char **keys = NULL;
	size_t i, n = 0, alloc = 0, pos = 0;
	const char *key;
	void *val;

	if (o == NULL || nap_hash_count(o) == 0)
		return;
	while (nap_hash_next(o, &pos, &key, NULL)) {
		nap_xgrow(&keys, &alloc, n + 1, sizeof(*keys));
		keys[n++] = nap_xstrdup(key);
	}
	for (i = 0; i < n; i++) {
		json_object *pod = pod_by_key(w, keys[i]);

		if (pod == NULL)
			orphan_forget(w, keys[i]);
		else if (!scanned &&
		    (w->kubelet_queue == NULL || !nap_hash_get(w->kubelet_queue, keys[i])))
			pass_pod(w->sim, pod, p);
		free(keys[i]);
	}
	free(keys);
	pos = 0;
	while (nap_hash_next(o, &pos, &key, &val)) {
		double d = ((struct orphan *)val)->since + w->pod_gc_delay;

		if (!any++ || d < due)
			due = d;
	}
	if (any && (w->kubelet_recheck == 0 || due < w->kubelet_recheck)) {
		w->kubelet_recheck = due;
		sim_after(w->sim, due > now ? due - now : 0, orphans_due, NULL);
	}
}

/* Simulated seconds a bound pod waits for its node before the audit says so. */
#define KUBELET_STUCK 60.0

/* A bound pod whose node is not Ready: since when the audit saw it so. */
struct stuck {
	double since;
	int told;
};

struct audit {
	struct world *w;
	struct nap_hash seen;	/* uid -> struct stuck, this audit's */
	struct pod_refs missed; /* bound to a Ready node, Pending after the pass */
};

static int
audit_pod(struct sim *sim, json_object *pod, void *arg)
{
	struct audit *a = arg;
	const char *node = nap_json_str(pod, "spec.nodeName", "");
	const char *uid = nap_json_str(pod, "metadata.uid", "");
	double now = sim_elapsed(sim);
	json_object *n, *c;
	struct stuck *s;
	int added;

	if (*node == '\0' || nap_json_get(pod, "metadata.deletionTimestamp") ||
	    strcmp(nap_json_str(pod, "status.phase", "Pending"), "Pending") != 0 ||
	    (n = sim_get(sim, "nodes", NULL, node)) == NULL)
		return 0;
	if (node_ready(n)) {
		ref_add(&a->missed, pod);
		return 0;
	}
	s = a->w->kubelet_stuck ? nap_hash_del(a->w->kubelet_stuck, uid) : NULL;
	if (s == NULL) {
		s = nap_xcalloc(1, sizeof(*s));
		s->since = now;
	}
	*nap_hash_slot(&a->seen, uid, &added) = s;
	if (!s->told && now - s->since >= KUBELET_STUCK) {
		s->told = 1;
		c = ready_condition(n);
		nap_info("kubelet: pod %s/%s has waited %.0f s for node %s: Ready %s (%s)%s",
		    nap_json_str(pod, "metadata.namespace", "default"),
		    nap_json_str(pod, "metadata.name", ""), now - s->since, node,
		    nap_json_str(c, "status", "missing"), nap_json_str(c, "reason", ""),
		    nap_json_get(n, "metadata.deletionTimestamp") ? ", the Node is being deleted"
								  : "");
	}
	return 0;
}

static void
stuck_free(struct nap_hash *h)
{
	size_t pos = 0;
	void *val;

	while (nap_hash_next(h, &pos, NULL, &val))
		free(val);
	nap_hash_free(h);
}

/*
 * Every bound pod, after the pass: one Pending on a Ready node is a change
 * the triggers missed (a nap-sim bug: said, and the pod started); one
 * whose node stays not Ready is said once, so a test that waits for it to
 * run can tell why it does not.
 */
static void
kubelet_audit(struct world *w)
{
	struct audit a;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.w = w;
	nap_hash_init(&a.seen);
	sim_foreach(w->sim, "pods", NULL, audit_pod, &a);
	if (w->kubelet_stuck == NULL)
		w->kubelet_stuck = nap_xmalloc(sizeof(struct nap_hash));
	else
		stuck_free(w->kubelet_stuck);
	*w->kubelet_stuck = a.seen;
	for (i = 0; i < a.missed.n; i++) {
		nap_warn("kubelet: pod %s/%s is bound to a Ready node and was left Pending by the "
			 "changes that made it startable; started by the audit",
		    a.missed.v[i].ns, a.missed.v[i].name);
		pod_start(w, a.missed.v[i].ns, a.missed.v[i].name);
		free(a.missed.v[i].ns);
		free(a.missed.v[i].name);
	}
	free(a.missed.v);
}

/*
 * Start the queued pods (bound, Pending) whose node is Ready and collect
 * those whose node is gone.  A full scan replaces the queue when a node
 * turned Ready or went away, since that concerns pods that did not change.
 */
void
kubelet_pass(struct world *w, int audit)
{
	struct pass p;
	struct nap_hash *q = w->kubelet_queue;
	size_t i, pos = 0;
	const char *key;
	int full = w->kubelet_full;

	memset(&p, 0, sizeof(p));
	p.w = w;
	if (full) {
		w->kubelet_full = 0;
		sim_foreach(w->sim, "pods", NULL, pass_pod, &p);
	} else if (q != NULL) {
		while (nap_hash_next(q, &pos, &key, NULL)) {
			json_object *pod = pod_by_key(w, key);

			if (pod != NULL)
				pass_pod(w->sim, pod, &p);
		}
	}
	orphans_recheck(w, &p, full);
	if (q != NULL) {
		nap_hash_free(q);
		nap_hash_init(q);
	}
	for (i = 0; i < p.start.n; i++) {
		pod_start(w, p.start.v[i].ns, p.start.v[i].name);
		free(p.start.v[i].ns);
		free(p.start.v[i].name);
	}
	free(p.start.v);
	/* Pod garbage collection: pods bound to a node that is gone. */
	delete_refs(w, &p.orphan);
	if (audit)
		kubelet_audit(w);
}

static void
hash_drop(struct nap_hash **h)
{
	if (*h != NULL) {
		nap_hash_free(*h);
		free(*h);
		*h = NULL;
	}
}

/* The node carries one of the VM's startup taints. */
static int
startup_tainted(const struct world_vm *vm, json_object *node)
{
	json_object *st = vm->boot ? nap_json_get(vm->boot, "startupTaints") : NULL;
	json_object *t = nap_json_get(node, "spec.taints");
	size_t i, j, ns, nt;

	if (st == NULL || t == NULL || !json_object_is_type(st, json_type_array) ||
	    !json_object_is_type(t, json_type_array))
		return 0;
	ns = json_object_array_length(st);
	nt = json_object_array_length(t);
	for (i = 0; i < ns; i++) {
		json_object *a = json_object_array_get_idx(st, i);

		for (j = 0; j < nt; j++) {
			json_object *b = json_object_array_get_idx(t, j);

			if (strcmp(nap_json_str(a, "key", ""), nap_json_str(b, "key", "")) == 0 &&
			    strcmp(nap_json_str(a, "effect", ""), nap_json_str(b, "effect", "")) ==
				0)
				return 1;
		}
	}
	return 0;
}

void
kubelet_on_change(struct world *w, const char *resource, const char *type, json_object *obj)
{
	const char *name;
	size_t i;

	if (strcmp(resource, "pods") == 0) {
		const char *node = nap_json_str(obj, "spec.nodeName", "");
		char key[512];

		/* Only a bound pod still Pending (or bound to a missing node) is news. */
		if (*node == '\0' || strcmp(type, "DELETED") == 0 ||
		    strcmp(nap_json_str(obj, "status.phase", "Pending"), "Pending") != 0)
			return;
		if (w->kubelet_queue == NULL) {
			w->kubelet_queue = nap_xmalloc(sizeof(struct nap_hash));
			nap_hash_init(w->kubelet_queue);
		}
		snprintf(key, sizeof(key), "%s/%s",
		    nap_json_str(obj, "metadata.namespace", "default"),
		    nap_json_str(obj, "metadata.name", ""));
		nap_hash_put(w->kubelet_queue, key, w);
		return;
	}
	if (strcmp(resource, "nodes") != 0)
		return;
	/* A node that turned Ready or went away concerns pods that did not change. */
	w->kubelet_full = 1;
	name = nap_json_str(obj, "metadata.name", "");
	if (strcmp(type, "DELETED") != 0) {
		/*
		 * A client that wrote the taints back from an older read (a merge
		 * patch of the whole list) can bring a startup taint back; the
		 * agents that removed it would remove it again.
		 */
		for (i = 0; i < w->nvms; i++) {
			struct world_vm *vm = w->vms[i];

			if (vm->node == NODE_INITIALIZED && vm->node_name &&
			    strcmp(vm->node_name, name) == 0 && startup_tainted(vm, obj)) {
				vm->node = NODE_READY;
				kubelet_wake(w, vm, 0);
			}
		}
		return;
	}
	for (i = 0; i < w->nvms; i++) {
		struct world_vm *vm = w->vms[i];

		/* A Node deleted by a client stays deleted: its kubelet does not
		 * re-register (nap deletes the Node just before the VM). */
		if (vm->node_name && strcmp(vm->node_name, name) == 0 && vm->node != NODE_BOOTING)
			vm->node = NODE_DELETED;
	}
}

void
kubelet_fini(struct world *w)
{
	size_t pos = 0;
	void *val;

	if (w->kubelet_orphans != NULL) {
		while (nap_hash_next(w->kubelet_orphans, &pos, NULL, &val)) {
			free(((struct orphan *)val)->uid);
			free(val);
		}
	}
	if (w->kubelet_stuck != NULL)
		stuck_free(w->kubelet_stuck);
	hash_drop(&w->kubelet_queue);
	hash_drop(&w->kubelet_orphans);
	hash_drop(&w->kubelet_stuck);
}
