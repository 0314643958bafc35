/*
 * vm.c - deleting a VM, then its NIC, then its OS disk, until ARM says
 * NotFound for each (vm.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"
#include "vm.h"

struct nap_vm_del {
	struct nap_arm *arm;
	void *arg;
	char *sub, *rg, *vm, *nic, *disk;
	enum nap_vm_stage stage;
	int forced;		   /* the VM DELETE carries forceDeletion=true */
	struct nap_arm_call *call; /* the DELETE out, or NULL */
};

void
nap_vm_names(struct nap_vm_names *n, const char *sub, const char *rg, const char *vm)
{
	n->sub = sub;
	n->rg = rg;
	n->vm = n->nic = n->disk = vm;
}

static char *
dup_or_null(const char *s)
{
	return s ? nap_xstrdup(s) : NULL;
}

static char *
res_path(const struct nap_vm_del *d, const char *provider, const char *type, const char *name)
{
	return nap_url_path("/subscriptions", d->sub, "resourceGroups", d->rg, "providers",
	    provider, type, name, (char *)NULL);
}

/* The DELETE of the stage d is at; a stage with nothing to delete is skipped. */
static void
send(struct nap_vm_del *d)
{
	const char *provider, *type, *name, *api;
	char *path, *q;

	for (;;) {
		switch (d->stage) {
		case NAP_VM_DEL_VM:
			provider = "Microsoft.Compute", type = "virtualMachines", name = d->vm;
			api = NAP_ARM_API_COMPUTE;
			break;
		case NAP_VM_DEL_NIC:
			provider = "Microsoft.Network", type = "networkInterfaces", name = d->nic;
			api = NAP_ARM_API_NETWORK;
			break;
		case NAP_VM_DEL_DISK:
			provider = "Microsoft.Compute", type = "disks", name = d->disk;
			api = NAP_ARM_API_DISK;
			break;
		default:
			return;
		}
		if (name && *name)
			break;
		d->stage++;
	}
	path = res_path(d, provider, type, name);
	if (d->stage == NAP_VM_DEL_VM && d->forced) {
		q = nap_xasprintf("%s?forceDeletion=true", path);
		free(path);
		path = q;
	}
	d->call = nap_arm_start(d->arm, "DELETE", path, api, NULL, NAP_ARM_LRO, d->arg);
	free(path);
}

struct nap_vm_del *
nap_vm_delete_start(struct nap_arm *a, const struct nap_vm_names *n, void *arg)
{
	struct nap_vm_del *d = nap_xcalloc(1, sizeof(*d));

	d->arm = a;
	d->arg = arg;
	d->sub = nap_xstrdup(n->sub);
	d->rg = nap_xstrdup(n->rg);
	d->vm = dup_or_null(n->vm);
	d->nic = dup_or_null(n->nic);
	d->disk = dup_or_null(n->disk);
	d->stage = NAP_VM_DEL_VM;
	d->forced = 1;
	send(d);
	return d;
}

/* The first name given, for messages about the deletion as a whole. */
static const char *
d_name(const struct nap_vm_del *d)
{
	return d->vm ? d->vm : d->nic ? d->nic : d->disk ? d->disk : "?";
}

int
nap_vm_delete_owns(const struct nap_vm_del *d, const struct nap_arm_call *call)
{
	return d && call && d->call == call;
}

/* Azure will not force-delete this VM: a 400 that says so. */
static int
force_refused(const struct nap_arm_result *r)
{
	return r->status == 400 &&
	    (strcasestr(r->code, "force") != NULL || strcasestr(r->message, "force") != NULL);
}

static const char *
stage_word(enum nap_vm_stage s)
{
	switch (s) {
	case NAP_VM_DEL_VM:
		return "vm";
	case NAP_VM_DEL_NIC:
		return "nic";
	case NAP_VM_DEL_DISK:
		return "disk";
	default:
		return "?";
	}
}

int
nap_vm_delete_step(struct nap_vm_del *d, struct nap_arm_call *call, struct nap_err *err)
{
	const struct nap_arm_result *r = nap_arm_result(call);
	const char *name;

	if (!nap_vm_delete_owns(d, call)) {
		return nap_err_set(err, NAP_EX_SOFTWARE, "delete %s: a call not of this deletion",
		    d ? d_name(d) : "?");
	}
	d->call = NULL;
	if (r->ok) {
		nap_arm_call_free(call);
		d->stage++;
		send(d);
		return d->stage == NAP_VM_DEL_DONE ? 0 : 1;
	}
	if (d->stage == NAP_VM_DEL_VM && d->forced && force_refused(r)) {
		nap_arm_call_free(call);
		d->forced = 0;
		send(d);
		return 1;
	}
	name = d->stage == NAP_VM_DEL_VM ? d->vm : d->stage == NAP_VM_DEL_NIC ? d->nic : d->disk;
	if (err) {
		*err = r->err;
		nap_err_prefix(err, "delete %s %s", stage_word(d->stage), name);
	}
	d->stage = NAP_VM_DEL_FAILED;
	nap_arm_call_free(call);
	return -1;
}

enum nap_vm_stage
nap_vm_delete_stage(const struct nap_vm_del *d)
{
	return d->stage;
}

const char *
nap_vm_delete_vm(const struct nap_vm_del *d)
{
	return d->vm;
}

void
nap_vm_delete_free(struct nap_vm_del *d)
{
	if (!d)
		return;
	free(d->sub);
	free(d->rg);
	free(d->vm);
	free(d->nic);
	free(d->disk);
	free(d);
}

int
nap_vm_delete(struct nap_arm *a, const struct nap_vm_names *n, struct nap_err *err)
{
	struct nap_vm_del *d;
	struct nap_arm_call *call;
	int rc = 1;

	if (nap_arm_pending(a) != 0)
		return nap_err_set(err, NAP_EX_SOFTWARE,
		    "delete %s: the client has %zu other calls out",
		    n->vm ? n->vm : n->nic ? n->nic : "?", nap_arm_pending(a));
	d = nap_vm_delete_start(a, n, NULL);
	while (rc == 1) {
		if (nap_arm_wait(a, -1, -1, err) < 0) {
			rc = -1;
			break;
		}
		while (rc == 1 && (call = nap_arm_done(a)) != NULL)
			rc = nap_vm_delete_step(d, call, err);
	}
	nap_vm_delete_free(d);
	return rc;
}
