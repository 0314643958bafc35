/*
 * vm.c - the VM of a terminating node, with its NIC and OS disk, deleted
 * through lib/vm until Azure says NotFound for each.  One deletion per VM
 * at a time; a failed one is started again after a backoff, never given
 * up: the finalizer stays until the VM is gone.
 */
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "log.h"
#include "vm.h"

#define RETRY_BASE_MS 1000
#define RETRY_MAX_MS 60000

static void
start(struct ctx *x, struct vmdel *v)
{
	struct nap_vm_names n;

	nap_vm_names(&n, x->cfg.cluster.subscription_id, x->cfg.cluster.resource_group, v->name);
	v->del = nap_vm_delete_start(x->arm, &n, v);
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
		nap_hash_put(&x->vms, vm, v);
		nap_info("vm %s: deleting, with its nic and os disk", vm);
		start(x, v);
		return 0;
	}
	if (v->gone)
		return 1;
	if (!v->del && wall_ms() >= v->retry_ms)
		start(x, v);
	return 0;
}

void
vm_arm_done(struct ctx *x, struct nap_arm_call *call)
{
	struct vmdel *v = nap_arm_call_arg(call);
	struct nap_err err;
	int64_t b;
	int rc;

	if (!v || !v->del || !nap_vm_delete_owns(v->del, call)) {
		nap_arm_call_free(call);
		return;
	}
	rc = nap_vm_delete_step(v->del, call, &err);
	if (rc == 1)
		return;
	nap_vm_delete_free(v->del);
	v->del = NULL;
	if (rc == 0) {
		v->gone = 1;
		v->failures = 0;
		x->nvm_deleted++;
		nap_info("vm %s: gone, with its nic and os disk", v->name);
		return;
	}
	b = (int64_t)RETRY_BASE_MS << (v->failures < 6 ? v->failures : 6);
	if (b > RETRY_MAX_MS)
		b = RETRY_MAX_MS;
	v->failures++;
	v->retry_ms = wall_ms() + scaled(x, b);
	nap_warn(
	    "vm %s: %s, retry in %llds", v->name, err.msg, (long long)(scaled(x, b) + 999) / 1000);
	if (err.code == NAP_EX_NOPERM || err.code == NAP_EX_CONFIG)
		x->fatal = err.code;
}

void
vm_forget(struct ctx *x, const char *vm)
{
	struct vmdel *v = nap_hash_get(&x->vms, vm);

	if (!v || v->del)
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

		if (v->del)
			nap_vm_delete_free(v->del);
		free(v->name);
		free(v);
	}
	nap_hash_free(&x->vms);
}
