/*
 * vm.h - deleting one Azure VM with its NIC and its OS disk, until Azure
 * Resource Manager says NotFound for each, over lib/arm.
 *
 * Order: the VM first (DELETE ...?forceDeletion=true, as the Azure
 * provider deletes its instances), then the NIC, then the OS disk; each
 * DELETE is followed to its end (lib/arm polls the resource until it
 * answers 404), so a deletion that ends well means all three are gone.  A
 * resource already gone answers 204 and counts as deleted: a deletion can be
 * started again at any time, after a crash, from another tool, or while an
 * earlier one is still on its way in Azure.  The NIC and disk normally go
 * with the VM (nap-launch creates both with deleteOption Delete); their own
 * DELETEs remove what a VM made otherwise, or never made, left behind.
 *
 * forceDeletion: where Azure refuses it for this VM (an answer 400 whose
 * code or message names force deletion), the VM is deleted once more
 * without it.
 *
 * Retries: 429 and 5xx are lib/arm's to retry (its Retry-After, backoff and
 * attempt limits).  Anything else that fails ends the deletion at that
 * resource: the NIC is never tried while the VM may still hold it, the disk
 * never while the VM may still have it attached.  The caller tries again
 * later (Karpenter's finalizer retries every 5 s); two deletions of the same
 * VM at once are harmless but wasteful, and suppressing them is the caller's.
 *
 * Names: nap-launch names the VM, its NIC and its OS disk alike, aks-<NodeClaim
 * name>; nap_vm_names() fills them that way.  Names are path segments; they
 * are escaped here.
 *
 * Driving: asynchronously, alongside the caller's other calls on the same
 * client.  nap_vm_delete_start() queues the first DELETE; every call of the
 * deletion is started with the caller's arg, so the caller's dispatch on
 * nap_arm_call_arg() finds its own object; the caller hands each call
 * nap_arm_done() returns for which nap_vm_delete_owns() is true to
 * nap_vm_delete_step(), which frees it and starts the next DELETE.
 * nap_vm_delete() does the same synchronously, for a client that carries
 * no other call (tests, scripts, a tool deleting one VM at a time).
 *
 * Ownership: the deletion borrows the client (which must outlive it) and
 * copies the names.  nap_vm_delete_free() may be called at any time; a call
 * still out then comes back from nap_arm_done() owned by nobody but the
 * caller, who recognises it by nap_vm_delete_owns() having been false for
 * every live deletion, and frees it.
 *
 * Errors: err (code NAP_EX_* as lib/arm gives it, http, a message naming the
 * resource: "delete nic aks-x: ...").  Nothing is printed.
 */
#ifndef NAP_VM_H
#define NAP_VM_H

#include "arm.h"
#include "nap.h"

#define NAP_ARM_API_DISK "2024-03-02"

/* The resources of one node, in one resource group of one subscription. */
struct nap_vm_names {
	const char *sub, *rg;
	const char *vm;	  /* virtualMachines/<vm>; NULL: none (a lone NIC, say) */
	const char *nic;  /* networkInterfaces/<nic>; NULL: none to delete */
	const char *disk; /* disks/<disk>; NULL: none to delete */
};

/* Where a deletion stands (nap_vm_delete_stage). */
enum nap_vm_stage {
	NAP_VM_DEL_VM,	 /* deleting the VM */
	NAP_VM_DEL_NIC,	 /* the VM is gone; deleting the NIC */
	NAP_VM_DEL_DISK, /* the VM and NIC are gone; deleting the OS disk */
	NAP_VM_DEL_DONE, /* all gone */
	NAP_VM_DEL_FAILED,
};

struct nap_vm_del;

/* n filled as nap-launch names a NodeClaim's resources: all three vm (borrowed). */
void nap_vm_names(struct nap_vm_names *n, const char *sub, const char *rg, const char *vm);

/* Start deleting; never NULL.  arg is given to every call the deletion starts. */
struct nap_vm_del *nap_vm_delete_start(
    struct nap_arm *a, const struct nap_vm_names *n, void *arg);
/* 1 when call (from nap_arm_done) is the one this deletion has out. */
int nap_vm_delete_owns(const struct nap_vm_del *d, const struct nap_arm_call *call);
/*
 * Feed the deletion its finished call (which it frees).  1: the next DELETE
 * is out, wait for it; 0: VM, NIC and disk are gone; -1: failed, err says
 * at which resource and why (the deletion is then over: free it, start
 * another later).
 */
int nap_vm_delete_step(struct nap_vm_del *d, struct nap_arm_call *call, struct nap_err *err);
enum nap_vm_stage nap_vm_delete_stage(const struct nap_vm_del *d);
/* The VM's name, as given (NULL when none was). */
const char *nap_vm_delete_vm(const struct nap_vm_del *d);
void nap_vm_delete_free(struct nap_vm_del *d);

/*
 * The whole deletion, waiting on the client until it ends: 0 when all three
 * are gone, -1 with err.  The client must have no other call out (refused
 * with NAP_EX_SOFTWARE otherwise): a call of someone else's finishing
 * meanwhile would be lost.
 */
int nap_vm_delete(struct nap_arm *a, const struct nap_vm_names *n, struct nap_err *err);

#endif
