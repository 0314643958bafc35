/*
 * volume.c - the storage a drain has to wait for, kept small: a
 * PersistentVolumeClaim is bound at once to a volume named pvc-<its uid>
 * (no PersistentVolume objects, no provisioner), and a pod bound to a node
 * with a persistentVolumeClaim volume has a storage.k8s.io/v1
 * VolumeAttachment for it on that node (attacher disk.csi.azure.com,
 * status.attached true), as the attach/detach controller and the Azure
 * disk CSI driver would make.  Once no pod on that node uses the claim any
 * longer (the pods were deleted or finished), the attachment goes after the
 * volume-detach-delay (simulated seconds, default 5).  A claim that does
 * not exist still gets an attachment, named from the claim; nap-sim does
 * not hold pods back for storage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "world.h"

#define ATTACHER "disk.csi.azure.com"
#define ANN_CLAIM "sim.nap.dev/claim" /* "ns/claim" the attachment serves */

/* The volume a claim is bound to: pvc-<claim uid>, or from its name. */
static void
volume_name(struct world *w, const char *ns, const char *claim, char *buf, size_t size)
{
	json_object *pvc = sim_get(w->sim, "persistentvolumeclaims", ns, claim);
	const char *v = nap_json_str(pvc, "spec.volumeName", NULL);
	char key[600];

	if (v && *v) {
		snprintf(buf, size, "%s", v);
		return;
	}
	snprintf(key, sizeof(key), "%s/%s", ns, claim);
	snprintf(buf, size, "pvc-%016llx",
	    (unsigned long long)nap_hash_str(key, strlen(key)));
}

/* The attachment's name, as the controller derives it from volume and node. */
static void
attachment_name(const char *volume, const char *node, char *buf, size_t size)
{
	char key[700];

	snprintf(key, sizeof(key), "%s%s%s", volume, ATTACHER, node);
	snprintf(buf, size, "csi-%016llx%016llx",
	    (unsigned long long)nap_hash_str(key, strlen(key)),
	    (unsigned long long)nap_hash_str(node, strlen(node)));
}

static void
attach(struct world *w, const char *ns, const char *claim, const char *node)
{
	json_object *va, *md, *ann, *spec, *src, *st;
	char vol[300], name[80], cl[600];
	struct nap_err err = {0};

	volume_name(w, ns, claim, vol, sizeof(vol));
	attachment_name(vol, node, name, sizeof(name));
	if (sim_get(w->sim, "volumeattachments", NULL, name))
		return;
	snprintf(cl, sizeof(cl), "%s/%s", ns, claim);
	va = json_object_new_object();
	md = json_object_new_object();
	ann = json_object_new_object();
	spec = json_object_new_object();
	src = json_object_new_object();
	st = json_object_new_object();
	json_object_object_add(va, "apiVersion", json_object_new_string("storage.k8s.io/v1"));
	json_object_object_add(va, "kind", json_object_new_string("VolumeAttachment"));
	json_object_object_add(md, "name", json_object_new_string(name));
	json_object_object_add(ann, ANN_CLAIM, json_object_new_string(cl));
	json_object_object_add(md, "annotations", ann);
	json_object_object_add(va, "metadata", md);
	json_object_object_add(spec, "attacher", json_object_new_string(ATTACHER));
	json_object_object_add(spec, "nodeName", json_object_new_string(node));
	json_object_object_add(src, "persistentVolumeName", json_object_new_string(vol));
	json_object_object_add(spec, "source", src);
	json_object_object_add(va, "spec", spec);
	json_object_object_add(st, "attached", json_object_new_boolean(1));
	json_object_object_add(va, "status", st);
	if (sim_create(w->sim, "volumeattachments", va, NULL, &err) < 0)
		nap_warn("attach volume %s to node %s: %s", vol, node, err.msg);
}

/* A pod that holds its volumes: bound and not finished. */
static int
holds_volumes(json_object *pod)
{
	const char *phase = nap_json_str(pod, "status.phase", "Pending");

	return *nap_json_str(pod, "spec.nodeName", "") && strcmp(phase, "Succeeded") &&
	    strcmp(phase, "Failed");
}

struct user {
	const char *ns, *claim, *node;
	int found;
};

static int
user_fn(struct sim *sim, json_object *pod, void *arg)
{
	struct user *u = arg;
	size_t i, n;
	json_object *vols;

	(void)sim;
	if (!holds_volumes(pod) || strcmp(nap_json_str(pod, "spec.nodeName", ""), u->node))
		return 0;
	vols = nap_json_array(pod, "spec.volumes", &n);
	for (i = 0; vols && i < n; i++)
		if (!strcmp(nap_json_str(json_object_array_get_idx(vols, i),
				"persistentVolumeClaim.claimName", ""),
			u->claim)) {
			u->found = 1;
			return 1;
		}
	return 0;
}

struct detach {
	char *ns, *claim, *node;
};

static void
detach_free(void *arg)
{
	struct detach *d = arg;

	free(d->ns);
	free(d->claim);
	free(d->node);
	free(d);
}

struct va_find {
	const char *claim, *node;
	char *name;
};

static int
va_fn(struct sim *sim, json_object *va, void *arg)
{
	struct va_find *f = arg;
	json_object *c = nap_json_key(nap_json_get(va, "metadata.annotations"), ANN_CLAIM);

	(void)sim;
	if (strcmp(nap_json_str(va, "spec.nodeName", ""), f->node) ||
	    !json_object_is_type(c, json_type_string) ||
	    strcmp(json_object_get_string(c), f->claim))
		return 0;
	f->name = nap_xstrdup(nap_json_str(va, "metadata.name", ""));
	return 1;
}

static void
detach_now(struct sim *sim, void *arg)
{
	struct detach *d = arg;
	struct user u = {d->ns, d->claim, d->node, 0};
	char cl[600];
	struct va_find f = {cl, d->node, NULL};

	sim_foreach(sim, "pods", d->ns, user_fn, &u);
	if (!u.found) {
		snprintf(cl, sizeof(cl), "%s/%s", d->ns, d->claim);
		sim_foreach(sim, "volumeattachments", NULL, va_fn, &f);
		if (f.name)
			sim_delete(sim, "volumeattachments", NULL, f.name, NULL);
		free(f.name);
	}
	detach_free(d);
}

/* Bind a new claim to its volume at once, as a default StorageClass would. */
static void
bind_claim(struct world *w, json_object *pvc)
{
	json_object *c;
	char vol[80];

	if (*nap_json_str(pvc, "spec.volumeName", "") ||
	    nap_json_get(pvc, "metadata.deletionTimestamp"))
		return;
	c = sim_dup(pvc);
	snprintf(vol, sizeof(vol), "pvc-%s", nap_json_str(pvc, "metadata.uid", ""));
	nap_json_set(c, "spec.volumeName", json_object_new_string(vol));
	nap_json_set(c, "status.phase", json_object_new_string("Bound"));
	if (nap_json_get(pvc, "spec.accessModes"))
		nap_json_set(c, "status.accessModes",
		    sim_dup(nap_json_get(pvc, "spec.accessModes")));
	if (nap_json_get(pvc, "spec.resources.requests.storage"))
		nap_json_set(c, "status.capacity.storage",
		    sim_dup(nap_json_get(pvc, "spec.resources.requests.storage")));
	sim_update(w->sim, "persistentvolumeclaims", c, NULL, NULL);
}

void
volume_on_change(struct world *w, const char *resource, const char *type, json_object *obj)
{
	const char *ns, *node;
	json_object *vols;
	size_t i, n;
	int gone;

	if (strcmp(resource, "persistentvolumeclaims") == 0) {
		if (strcmp(type, "DELETED") != 0)
			bind_claim(w, obj);
		return;
	}
	if (strcmp(resource, "pods") != 0)
		return;
	vols = nap_json_array(obj, "spec.volumes", &n);
	node = nap_json_str(obj, "spec.nodeName", "");
	if (!vols || !*node)
		return;
	ns = nap_json_str(obj, "metadata.namespace", "default");
	gone = strcmp(type, "DELETED") == 0 || !holds_volumes(obj);
	for (i = 0; i < n; i++) {
		const char *claim = nap_json_str(
		    json_object_array_get_idx(vols, i), "persistentVolumeClaim.claimName", "");
		struct detach *d;

		if (!*claim)
			continue;
		if (!gone) {
			attach(w, ns, claim, node);
			continue;
		}
		d = nap_xcalloc(1, sizeof(*d));
		d->ns = nap_xstrdup(ns);
		d->claim = nap_xstrdup(claim);
		d->node = nap_xstrdup(node);
		sim_after_owned(w->sim, w->detach_delay, detach_now, d, detach_free);
	}
}

/*
 * The CSINode a node's kubelet registers (the CSI node plugins' report):
 * the Azure disk driver, which may attach the size's maxDataDiskCount
 * volumes (2 per vCPU, at most 32, when nap's catalog does not know it),
 * and the Azure Files driver, which has no limit.  Owned by the Node; the
 * garbage collector removes it with the Node (controllers.c).
 */
void
volume_csinode_register(struct world *w, const struct world_vm *vm)
{
	json_object *node = sim_get(w->sim, "nodes", NULL, vm->node_name);
	json_object *o, *md, *refs, *ref, *drivers, *d, *alloc, *keys;
	struct nap_err err = {0};
	int count = vm->size ? nap_itype_max_data_disks(vm->size->itype) : 0;

	if (!node)
		return;
	if (count <= 0) {
		count = vm->size ? 2 * vm->size->vcpus : 8;
		count = count > 32 ? 32 : count < 1 ? 1 : count;
	}
	o = json_object_new_object();
	md = json_object_new_object();
	json_object_object_add(o, "apiVersion", json_object_new_string("storage.k8s.io/v1"));
	json_object_object_add(o, "kind", json_object_new_string("CSINode"));
	json_object_object_add(md, "name", json_object_new_string(vm->node_name));
	refs = json_object_new_array();
	ref = json_object_new_object();
	json_object_object_add(ref, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(ref, "kind", json_object_new_string("Node"));
	json_object_object_add(ref, "name", json_object_new_string(vm->node_name));
	json_object_object_add(
	    ref, "uid", json_object_new_string(nap_json_str(node, "metadata.uid", "")));
	json_object_array_add(refs, ref);
	json_object_object_add(md, "ownerReferences", refs);
	json_object_object_add(o, "metadata", md);
	drivers = json_object_new_array();
	d = json_object_new_object();
	json_object_object_add(d, "name", json_object_new_string(ATTACHER));
	json_object_object_add(d, "nodeID", json_object_new_string(vm->node_name));
	keys = json_object_new_array();
	json_object_array_add(keys, json_object_new_string("topology.disk.csi.azure.com/zone"));
	json_object_object_add(d, "topologyKeys", keys);
	alloc = json_object_new_object();
	json_object_object_add(alloc, "count", json_object_new_int(count));
	json_object_object_add(d, "allocatable", alloc);
	json_object_array_add(drivers, d);
	d = json_object_new_object();
	json_object_object_add(d, "name", json_object_new_string("file.csi.azure.com"));
	json_object_object_add(d, "nodeID", json_object_new_string(vm->node_name));
	json_object_array_add(drivers, d);
	md = json_object_new_object();
	json_object_object_add(md, "drivers", drivers);
	json_object_object_add(o, "spec", md);
	if (sim_create(w->sim, "csinodes", o, NULL, &err) < 0 && err.http != 409)
		nap_warn("kubelet: register csinode %s: %s", vm->node_name, err.msg);
}
