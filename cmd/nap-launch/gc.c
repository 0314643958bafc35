/*
 * gc.c - garbage collection (azure-provider.md 4.7): VMs and NICs of this
 * cluster named for a NodeClaim that exists nowhere are deleted, with
 * their OS disks, once older than 5 minutes, through lib/vm.  It decides on
 * whole lists only, asks the API server before each deletion, and runs
 * only while a SYNCED has vouched for the NodeClaims.  It never touches a
 * NodeClaim: those, and their VMs, are launch.c's and nap-disrupt's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "text.h"
#include "nap-launch.h"

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

/* A list longer than this is not followed to its end: the round is dropped. */
#define GC_MAX_PAGES 1000

enum gc_phase { GC_IDLE, GC_NICS, GC_VMS };

/* A deletion garbage collection has out: a VM (with NIC and disk), or a lone NIC. */
struct gc_del {
	struct nap_vm_del *del;
	char *name;
};

/*
 * A round lists every NIC (every 5 minutes, as the provider's NIC GC) and
 * then every VM of the node resource group, page by page, and decides only
 * once both lists are whole: a VM on a page not read would otherwise count
 * as missing.  NICs are listed first so that a NIC and VM made between the
 * two lists show up as a pair rather than as a lone NIC.
 *
 * The round's state is only this file's business, so it lives here
 * rather than in struct ctx (one context per process).
 */
static struct {
	int allowed;		    /* the last SYNCED covered NodeClaims */
	int warned;		    /* "not covered" said once */
	struct nap_arm_call *call;  /* the list page being read */
	int64_t next_ms;	    /* wall clock of the next round */
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
	if (!fatal_err(&x->fatal, &err))
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

static int
gc_deleting(const char *name)
{
	size_t i;

	for (i = 0; i < gc.ndels; i++)
		if (strcmp(gc.dels[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * Delete the VM, NIC and OS disk named name (vm 0: there is no VM, only the
 * NIC and perhaps a disk).  The claim name is held in x->collecting meanwhile,
 * so that a request for a new NodeClaim of that name waits for the deletion.
 */
static void
gc_collect(struct ctx *x, const char *name, int vm)
{
	struct nap_vm_names n;
	struct gc_del *d;

	nap_vm_names(&n, x->sub, x->rg, name);
	if (!vm)
		n.vm = NULL;
	nap_xgrow(&gc.dels, &gc.adels, gc.ndels + 1, sizeof(*gc.dels));
	d = &gc.dels[gc.ndels++];
	d->name = nap_xstrdup(name);
	d->del = nap_vm_delete_start(x->arm, &n, NULL);
	nap_hash_put(&x->collecting, name + 4, (void *)1);
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
		json_object *vm = json_object_array_get_idx(gc.vms, i);
		const char *name = nap_json_str(vm, "name", "");
		int64_t born;

		nap_hash_put(names, name, vm);
		if (!gc_ours(x, vm, name) || gc_claimed(x, name + 4) || gc_deleting(name))
			continue;
		born = created_ms(vm);
		if (!born || now - born < age)
			continue;
		if (gc_claim_exists(x, name + 4) != 0) {
			nap_debug("garbage collection: vm %s: nodeclaim %s exists: kept", name,
			    name + 4);
			continue;
		}
		nap_warn("vm %s belongs to no nodeclaim: deleting it", name);
		gc_collect(x, name, 1);
	}
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
		gc_collect(x, name, 0);
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
	gc.call = nap_arm_start(x->arm, "GET", path, api, NULL, 0, NULL);
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
		gc.call = nap_arm_start_url(x->arm, next, NULL, &err);
		if (gc.call == NULL)
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

void
gc_synced(struct ctx *x, json_object *rec)
{
	(void)x;
	gc.allowed = synced_covers_claims(rec);
	if (!gc.allowed && !gc.warned) {
		gc.warned = 1;
		nap_warn("garbage collection: SYNCED does not list nodeclaims among its kinds "
			 "(nap-watch --kinds without nodeclaims?): no VM or NIC will be collected");
	}
}

/* A round, when one is due and the NodeClaims are vouched for. */
void
gc_tick(struct ctx *x)
{
	char *path;
	int64_t now = wall_ms();

	if (!gc.allowed || gc.phase != GC_IDLE || gc.call || now < gc.next_ms)
		return;
	/* Every 2 minutes, as the provider's instance GC; NICs every 5. */
	gc.next_ms = now + (int64_t)(120000.0 / x->scale);
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

static void
gc_del_drop(struct ctx *x, size_t i)
{
	nap_hash_del(&x->collecting, gc.dels[i].name + 4);
	nap_vm_delete_free(gc.dels[i].del);
	free(gc.dels[i].name);
	gc.dels[i] = gc.dels[--gc.ndels];
}

int
gc_arm_done(struct ctx *x, struct nap_arm_call *call)
{
	const struct nap_arm_result *r = nap_arm_result(call);
	struct nap_err err;
	size_t i;
	int rc;

	if (call == gc.call) {
		gc.call = NULL;
		if (!r->ok && fatal_err(&x->fatal, &r->err))
			gc_reset();
		else
			gc_page(x, r);
		nap_arm_call_free(call);
		return 1;
	}
	for (i = 0; i < gc.ndels; i++) {
		if (!nap_vm_delete_owns(gc.dels[i].del, call))
			continue;
		rc = nap_vm_delete_step(gc.dels[i].del, call, &err);
		if (rc == 1)
			return 1;
		if (rc == 0)
			nap_info("%s deleted", gc.dels[i].name);
		else if (!fatal_err(&x->fatal, &err))
			nap_warn("garbage collection: %s", err.msg);
		gc_del_drop(x, i);
		return 1;
	}
	return 0;
}

/* Deletions garbage collection has out (what end of input waits for). */
size_t
gc_busy(void)
{
	return gc.ndels;
}

void
gc_free(struct ctx *x)
{
	const char *key;
	void *val;
	size_t pos = 0;

	gc_reset();
	while (nap_hash_next(&gc.nic_orphan, &pos, &key, &val))
		free(val);
	nap_hash_free(&gc.nic_orphan);
	while (gc.ndels)
		gc_del_drop(x, 0);
	free(gc.dels);
	gc.dels = NULL;
	gc.adels = 0;
}
