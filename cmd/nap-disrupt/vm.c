/*
 * vm.c - delete a node's VM, then its NIC, then its OS disk, each until
 * Azure says it is gone (a finished long-running DELETE, or 404).  The NIC
 * and the OS disk share the VM's name (nap-launch(1)) and are made with
 * deleteOption Delete, so in Azure they usually go with the VM and their
 * DELETE answers 404 at once; asking anyway is what makes a VM made by an
 * older nap, or by hand, leave nothing behind.
 *
 * Calls are asynchronous: vm_delete() starts or checks, the main loop hands
 * finished calls to vm_arm_done().  A failure is retried with backoff, never
 * given up: the node's finalizer stays until the VM is gone.
 */
#include <stdlib.h>
#include <string.h>

#include "disrupt.h"
#include "log.h"
#include "text.h"

#define RETRY_BASE_MS 1000
#define RETRY_MAX_MS 60000

static char *
arm_path(struct ctx *x, enum vm_step step, const char *name)
{
	const char *prov = step == VM_DEL_NIC ? "Microsoft.Network" : "Microsoft.Compute";
	const char *type = step == VM_DEL_VM	? "virtualMachines"
			   : step == VM_DEL_NIC ? "networkInterfaces"
						: "disks";

	return nap_url_path("/subscriptions", x->cfg.cluster.subscription_id, "resourceGroups",
	    x->cfg.cluster.resource_group, "providers", prov, type, name, (char *)NULL);
}

static const char *
step_word(enum vm_step s)
{
	return s == VM_DEL_VM ? "vm" : s == VM_DEL_NIC ? "nic" : "os disk";
}

static void
start(struct ctx *x, struct vmdel *v)
{
	char *path = arm_path(x, v->step, v->name);

	nap_debug("deleting %s %s", step_word(v->step), v->name);
	v->call = nap_arm_start(x->arm, "DELETE", path,
	    v->step == VM_DEL_NIC ? NAP_ARM_API_NETWORK : NAP_ARM_API_COMPUTE, NULL, NAP_ARM_LRO,
	    v);
	free(path);
}

int
vm_delete(struct ctx *x, const char *vm)
{
	struct vmdel *v = nap_hash_get(&x->vms, vm);

	if (!x->arm)
		return 0;
	if (!v) {
		v = nap_xcalloc(1, sizeof(*v));
		v->name = nap_xstrdup(vm);
		v->step = VM_DEL_VM;
		nap_hash_put(&x->vms, vm, v);
		nap_info("vm %s: deleting, with its nic and os disk", vm);
		start(x, v);
		return 0;
	}
	if (v->call)
		return 0;
	if (v->step == VM_GONE)
		return 1;
	if (wall_ms() < v->retry_ms)
		return 0;
	start(x, v);
	return 0;
}

void
vm_arm_done(struct ctx *x, struct nap_arm_call *call)
{
	struct vmdel *v = nap_arm_call_arg(call);
	const struct nap_arm_result *r = nap_arm_result(call);

	v->call = NULL;
	/*
	 * InvalidResourceType: an endpoint that has no such resource type (a
	 * simulator without managed disks) holds nothing of that type to delete.
	 */
	if (r->ok || r->status == 404 ||
	    (v->step != VM_DEL_VM && strcmp(r->code, "InvalidResourceType") == 0)) {
		v->failures = 0;
		if (v->step == VM_DEL_VM)
			x->nvm_deleted++;
		v->step = v->step == VM_DEL_VM ? VM_DEL_NIC
			  : v->step == VM_DEL_NIC ? VM_DEL_DISK
						  : VM_GONE;
		if (v->step != VM_GONE)
			start(x, v);
		else
			nap_info("vm %s: gone", v->name);
	} else {
		int64_t b = RETRY_BASE_MS << (v->failures < 6 ? v->failures : 6);

		v->failures++;
		if (b > RETRY_MAX_MS)
			b = RETRY_MAX_MS;
		v->retry_ms = wall_ms() + scaled(x, b);
		nap_warn("delete %s %s: %s%s%s, retry in %llds", step_word(v->step), v->name,
		    r->code[0] ? r->code : "", r->code[0] ? ": " : "", r->err.msg,
		    (long long)(scaled(x, b) + 999) / 1000);
		if (r->err.code == NAP_EX_NOPERM || r->err.code == NAP_EX_CONFIG)
			x->fatal = r->err.code;
	}
	nap_arm_call_free(call);
}

void
vm_forget(struct ctx *x, const char *vm)
{
	struct vmdel *v = nap_hash_get(&x->vms, vm);

	if (!v || v->call)
		return;
	nap_hash_del(&x->vms, vm);
	free(v->name);
	free(v);
}

void
vm_free_all(struct ctx *x)
{
	size_t pos = 0;
	const char *k;
	void *val;

	while (nap_hash_next(&x->vms, &pos, &k, &val)) {
		struct vmdel *v = val;

		free(v->name);
		free(v);
	}
	nap_hash_free(&x->vms);
}
