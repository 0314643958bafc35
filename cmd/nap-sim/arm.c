/*
 * arm.c - the Azure Resource Manager endpoint: virtual machines, network
 * interfaces, resource SKUs, compute usages and the long-running operations
 * that creating and deleting them start.  Paths, status codes, headers and
 * error bodies follow ARM (reference k8s-arm-protocol.md section 6); where
 * the real service is not documented, nap-sim(1) records the choice.
 */
#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "catalog.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "world.h"

#define SEG_MAX 16

struct arm_path {
	char *seg[SEG_MAX];
	size_t n;
	char *buf;
};

static void
path_split(const char *p, struct arm_path *ap)
{
	char *s, *save = NULL, *tok;

	ap->n = 0;
	ap->buf = nap_xstrdup(p);
	for (s = ap->buf; (tok = strtok_r(s, "/", &save)) != NULL; s = NULL) {
		if (ap->n == SEG_MAX) {
			ap->n = 0; /* too deep to be ours */
			return;
		}
		ap->seg[ap->n++] = tok;
	}
}

static int
seg_is(const struct arm_path *ap, size_t i, const char *s)
{
	return i < ap->n && strcasecmp(ap->seg[i], s) == 0;
}

void
arm_error(
    struct sim_resp *resp, int status, const char *code, const char *target, const char *fmt, ...)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	if (target)
		json_object_object_add(e, "target", json_object_new_string(target));
	json_object_object_add(o, "error", e);
	sim_resp_json(resp, status, o);
}

static char *
vm_id(struct world *w, const char *name)
{
	return nap_xasprintf(
	    "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s",
	    w->sub, w->rg, name);
}

static char *
nic_id(struct world *w, const char *name)
{
	return nap_xasprintf(
	    "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/networkInterfaces/%s",
	    w->sub, w->rg, name);
}

static char *
op_url(struct world *w, const struct world_op *op, const char *api, int monitor)
{
	return nap_xasprintf(
	    "%s/subscriptions/%s/providers/%s/locations/%s/operations/%s?%sapi-version=%s",
	    sim_arm_url(w->sim), w->sub, op->provider, w->region, op->id,
	    monitor ? "monitor=true&" : "", api);
}

/* ---- virtual machines ------------------------------------------------ */

static const char *
vm_prov_state(const struct world_vm *vm)
{
	switch (vm->state) {
	case VM_CREATING:
		return "Creating";
	case VM_FAILED:
		return "Failed";
	case VM_DELETING:
		return "Deleting";
	default:
		return "Succeeded";
	}
}

static void
vm_set_state(struct world_vm *vm, enum vm_state st)
{
	vm->state = st;
	nap_json_set(
	    vm->body, "properties.provisioningState", json_object_new_string(vm_prov_state(vm)));
}

static json_object *
status_entry(const char *code, const char *display, const char *time, const char *message)
{
	json_object *s = json_object_new_object();

	json_object_object_add(s, "code", json_object_new_string(code));
	json_object_object_add(
	    s, "level", json_object_new_string(strstr(code, "failed") ? "Error" : "Info"));
	json_object_object_add(s, "displayStatus", json_object_new_string(display));
	if (message)
		json_object_object_add(s, "message", json_object_new_string(message));
	if (time)
		json_object_object_add(s, "time", json_object_new_string(time));
	return s;
}

static json_object *
vm_instance_view(struct world *w, const struct world_vm *vm, const char *fail)
{
	json_object *iv = json_object_new_object(), *st = json_object_new_array();
	char ts[40];

	sim_rfc3339(w->sim, ts, sizeof(ts));
	json_object_object_add(iv, "computerName", json_object_new_string(vm->computer_name));
	json_object_object_add(iv, "osName", json_object_new_string("ubuntu"));
	json_object_object_add(iv, "osVersion", json_object_new_string("22.04"));
	json_object_object_add(iv, "hyperVGeneration", json_object_new_string("V2"));
	switch (vm->state) {
	case VM_CREATING:
		json_object_array_add(
		    st, status_entry("ProvisioningState/creating", "Creating", NULL, NULL));
		json_object_array_add(
		    st, status_entry("PowerState/starting", "VM starting", NULL, NULL));
		break;
	case VM_FAILED: {
		char code[128];

		snprintf(code, sizeof(code), "ProvisioningState/failed/%s",
		    fail ? fail : "InternalOperationError");
		json_object_array_add(st, status_entry(code, "Provisioning failed", ts, fail));
		break;
	}
	case VM_DELETING:
		json_object_array_add(
		    st, status_entry("ProvisioningState/deleting", "Deleting", NULL, NULL));
		json_object_array_add(
		    st, status_entry("PowerState/stopping", "VM stopping", NULL, NULL));
		break;
	case VM_DEALLOCATED:
		json_object_array_add(st,
		    status_entry(
			"ProvisioningState/succeeded", "Provisioning succeeded", ts, NULL));
		json_object_array_add(
		    st, status_entry("PowerState/deallocated", "VM deallocated", NULL, NULL));
		break;
	default:
		json_object_array_add(st,
		    status_entry(
			"ProvisioningState/succeeded", "Provisioning succeeded", ts, NULL));
		json_object_array_add(
		    st, status_entry("PowerState/running", "VM running", NULL, NULL));
		break;
	}
	json_object_object_add(iv, "statuses", st);
	return iv;
}

/* The most recent operation on a VM, for its failure code. */
static struct world_op *
vm_last_op(struct world *w, const struct world_vm *vm)
{
	size_t i;

	for (i = w->nops; i-- > 0;)
		if (w->ops[i]->target && strcasecmp(w->ops[i]->target, vm->name) == 0)
			return w->ops[i];
	return NULL;
}

static json_object *
vm_view(struct world *w, struct world_vm *vm, int expand)
{
	json_object *o = sim_dup(vm->body);

	if (expand) {
		struct world_op *op = vm_last_op(w, vm);

		nap_json_set(o, "properties.instanceView",
		    vm_instance_view(w, vm, op && op->fail_code ? op->fail_code : NULL));
	}
	return o;
}

static void
nic_detach(struct world *w, struct world_vm *vm, int delete_nics)
{
	json_object *a;
	size_t i, n;

	a = nap_json_array(vm->body, "properties.networkProfile.networkInterfaces", &n);
	for (i = 0; i < n; i++) {
		json_object *ref = json_object_array_get_idx(a, i);
		struct world_nic *nic = world_nic_find_id(w, nap_json_str(ref, "id", ""));

		if (nic == NULL)
			continue;
		free(nic->vm_id);
		nic->vm_id = NULL;
		json_object_object_del(
		    json_object_object_get(nic->body, "properties"), "virtualMachine");
		if (delete_nics &&
		    strcasecmp(nap_json_str(ref, "properties.deleteOption", "Detach"), "Delete") ==
			0)
			nic->deleted = 1;
	}
}

/* The VM is no longer there as far as ARM is concerned. */
static void
vm_remove(struct world *w, struct world_vm *vm)
{
	nic_detach(w, vm, 1);
	vm->deleted = 1;
	vm->state = VM_GONE;
	kubelet_vm_gone(w, vm);
}

int
world_vm_evict(struct world *w, const char *name)
{
	struct world_vm *vm = world_vm_find(w, name);

	if (vm == NULL || vm->state != VM_SUCCEEDED)
		return -1;
	if (vm->evict_deallocate) {
		vm_set_state(vm, VM_DEALLOCATED);
		kubelet_vm_gone(w, vm);
	} else {
		vm_remove(w, vm);
	}
	return 0;
}

void
arm_vm_complete(struct world *w, struct world_op *op)
{
	struct world_vm *vm;

	if (op->target == NULL || (vm = world_vm_find(w, op->target)) == NULL)
		return;
	switch (op->kind) {
	case WORLD_OP_VM_CREATE:
		if (vm->state != VM_CREATING)
			return;
		if (op->fail_code) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "code", json_object_new_string(op->fail_code));
			json_object_object_add(e, "message", json_object_new_string(op->fail_msg));
			op->error = e;
			vm_set_state(vm, VM_FAILED);
			return;
		}
		vm_set_state(vm, VM_SUCCEEDED);
		kubelet_vm_running(w, vm);
		break;
	case WORLD_OP_VM_UPDATE:
		if (vm->state == VM_SUCCEEDED)
			vm_set_state(vm, VM_SUCCEEDED);
		break;
	case WORLD_OP_VM_DELETE:
		if (vm->state == VM_DELETING)
			vm_remove(w, vm);
		break;
	default:
		break;
	}
}

long
world_vcpus_used(struct world *w, const char *family, int spot_only, int all)
{
	long sum = 0;
	size_t i;

	for (i = 0; i < w->nvms; i++) {
		const struct world_vm *vm = w->vms[i];

		if (vm->deleted || vm->state == VM_FAILED || vm->state == VM_DEALLOCATED ||
		    vm->size == NULL)
			continue;
		if (spot_only != vm->spot && !all)
			continue;
		if (family && strcasecmp(family, vm->size->family) != 0)
			continue;
		sum += vm->size->vcpus;
	}
	return sum;
}

static void
sku_not_available(struct world *w, struct sim_resp *resp, const char *size)
{
	arm_error(resp, 400, "SkuNotAvailable", NULL,
	    "The requested VM size for resource 'Following SKUs have failed for Capacity "
	    "Restrictions: %s' is currently not available in location '%s'. Please try another "
	    "size or deploy to a different location or zones. See "
	    "https://aka.ms/azureskunotavailable for details.",
	    size, w->region);
}

static int
missing(struct sim_resp *resp, const char *param)
{
	arm_error(resp, 400, "InvalidParameter", param,
	    "Required parameter '%s' is missing (null).", param);
	return -1;
}

/*
 * Check a VM body against the region, the catalog and the NICs; fill vm's
 * parsed fields.  -1 with the ARM error answered.
 */
static int
vm_validate(struct world *w, const char *name, json_object *body, struct world_vm *vm,
    struct sim_resp *resp)
{
	const char *loc = nap_json_str(body, "location", NULL);
	const char *size = nap_json_str(body, "properties.hardwareProfile.vmSize", NULL);
	const char *prio = nap_json_str(body, "properties.priority", "Regular");
	const char *evp = nap_json_str(body, "properties.evictionPolicy", NULL);
	const char *cd = nap_json_str(body, "properties.osProfile.customData", NULL);
	json_object *zones = nap_json_get(body, "zones"), *mp, *nics;
	const struct world_size *sz;
	char *myid = vm_id(w, name);
	size_t i, n;

	if (loc == NULL) {
		free(myid);
		arm_error(resp, 400, "LocationRequired", NULL,
		    "The location property is required for this definition.");
		return -1;
	}
	if (strcasecmp(loc, w->region) != 0) {
		free(myid);
		arm_error(resp, 400, "LocationNotAvailableForResourceType", NULL,
		    "The provided location '%s' is not available for resource type "
		    "'Microsoft.Compute/virtualMachines'. List of available regions for the "
		    "resource type is '%s'.",
		    loc, w->region);
		return -1;
	}
	if (size == NULL) {
		free(myid);
		return missing(resp, "hardwareProfile.vmSize");
	}
	if ((sz = world_size_find(w, size)) == NULL) {
		free(myid);
		sku_not_available(w, resp, size);
		return -1;
	}
	vm->size = sz;
	vm->zone = 0;
	if (zones && !json_object_is_type(zones, json_type_array)) {
		free(myid);
		arm_error(resp, 400, "InvalidParameter", "zones",
		    "The value of parameter zones is invalid.");
		return -1;
	}
	n = zones ? json_object_array_length(zones) : 0;
	if (n > 1) {
		free(myid);
		arm_error(resp, 400, "InvalidParameter", "zones",
		    "A single zone must be specified for a virtual machine; %zu were given.", n);
		return -1;
	}
	if (n == 1) {
		const char *z = json_object_get_string(json_object_array_get_idx(zones, 0));
		char *end;
		long zn = strtol(z ? z : "", &end, 10);

		if (z == NULL || end == z || *end != '\0' || zn < 1 || zn > 30 ||
		    !(w->zones & (1 << zn))) {
			char list[32] = "";
			int k;

			for (k = 1; k < 31; k++)
				if (w->zones & (1 << k))
					snprintf(list + strlen(list), sizeof(list) - strlen(list),
					    "%s%d", *list ? "," : "", k);
			arm_error(resp, 400, "InvalidParameter", "zones",
			    "The zone(s) '%s' for resource '%s' is not supported. The supported "
			    "zones for location '%s' are '%s'",
			    z ? z : "", myid, w->region, list);
			free(myid);
			return -1;
		}
		vm->zone = (int)zn;
		if (!(sz->zones & (1 << zn))) {
			free(myid);
			sku_not_available(w, resp, sz->name);
			return -1;
		}
	}
	if (strcasecmp(prio, "Spot") == 0 || strcasecmp(prio, "Low") == 0) {
		vm->spot = 1;
		if (evp == NULL) {
			free(myid);
			return missing(resp, "evictionPolicy");
		}
		if (strcasecmp(evp, "Delete") != 0 && strcasecmp(evp, "Deallocate") != 0) {
			free(myid);
			arm_error(resp, 400, "InvalidParameter", "evictionPolicy",
			    "The value '%s' of parameter 'evictionPolicy' is invalid. Allowed "
			    "values are 'Deallocate', 'Delete'.",
			    evp);
			return -1;
		}
		vm->evict_deallocate = strcasecmp(evp, "Deallocate") == 0;
		mp = nap_json_get(body, "properties.billingProfile.maxPrice");
		if (mp != NULL) {
			double v = json_object_get_double(mp);

			if (!(v == -1 || v > 0)) {
				free(myid);
				arm_error(resp, 400, "MaxPriceValueInvalid", "maxPrice",
				    "The value '%g' of parameter 'maxPrice' is invalid. Max price "
				    "must be -1 or greater than zero.",
				    v);
				return -1;
			}
		}
		if (!sz->spot) {
			free(myid);
			sku_not_available(w, resp, sz->name);
			return -1;
		}
	} else if (strcasecmp(prio, "Regular") == 0) {
		vm->spot = 0;
		if (evp != NULL) {
			free(myid);
			arm_error(resp, 400, "EvictionPolicyCanBeSetOnlyOnAzureSpotVirtualMachines",
			    "evictionPolicy",
			    "Eviction policy can be set only on Azure Spot Virtual Machines.");
			return -1;
		}
	} else {
		free(myid);
		arm_error(resp, 400, "InvalidParameter", "priority",
		    "The value '%s' of parameter 'priority' is invalid. Allowed values are "
		    "'Regular', 'Low', 'Spot'.",
		    prio);
		return -1;
	}
	nics = nap_json_array(body, "properties.networkProfile.networkInterfaces", &n);
	if (nics == NULL || n == 0) {
		free(myid);
		return missing(resp, "networkProfile");
	}
	for (i = 0; i < n; i++) {
		const char *id = nap_json_str(json_object_array_get_idx(nics, i), "id", "");
		struct world_nic *nic = world_nic_find_id(w, id);

		if (nic == NULL) {
			arm_error(resp, 400, "InvalidResourceReference", NULL,
			    "Resource %s referenced by resource %s was not found. Please make sure "
			    "that the referenced resource exists, and that both resources are in "
			    "the same region.",
			    id, myid);
			free(myid);
			return -1;
		}
		if (nic->vm_id && strcasecmp(nic->vm_id, myid) != 0) {
			arm_error(resp, 400, "NicInUse", NULL,
			    "Network interface %s is already in use by virtual machine %s.", id,
			    nic->vm_id);
			free(myid);
			return -1;
		}
		if (i == 0) {
			free(vm->nic_id);
			vm->nic_id = nap_xstrdup(nic->id);
		}
	}
	if (cd != NULL) {
		unsigned char *raw = NULL;
		size_t rlen = 0;

		if (nap_base64_decode(cd, strlen(cd), &raw, &rlen) < 0 || rlen > 65536) {
			free(raw);
			free(myid);
			arm_error(resp, 400, "InvalidParameter", "customData",
			    "Custom data in OSProfile must be in Base64 encoding and with a "
			    "maximum length of 87380 characters.");
			return -1;
		}
		if (vm->boot)
			json_object_put(vm->boot);
		vm->boot = json_tokener_parse((const char *)raw);
		if (vm->boot &&
		    strcmp(nap_json_str(vm->boot, "kind", ""), WORLD_BOOTSTRAP_KIND) != 0) {
			json_object_put(vm->boot);
			vm->boot = NULL;
		}
		free(raw);
	}
	free(vm->computer_name);
	vm->computer_name =
	    nap_xstrdup(nap_json_str(body, "properties.osProfile.computerName", name));
	for (i = 0; vm->computer_name[i]; i++)
		vm->computer_name[i] = (char)tolower((unsigned char)vm->computer_name[i]);
	free(myid);
	return 0;
}

static void
nics_attach(struct world *w, struct world_vm *vm)
{
	json_object *a, *ref;
	size_t i, n;

	a = nap_json_array(vm->body, "properties.networkProfile.networkInterfaces", &n);
	for (i = 0; i < n; i++) {
		struct world_nic *nic =
		    world_nic_find_id(w, nap_json_str(json_object_array_get_idx(a, i), "id", ""));

		if (nic == NULL)
			continue;
		free(nic->vm_id);
		nic->vm_id = nap_xstrdup(vm->id);
		ref = json_object_new_object();
		json_object_object_add(ref, "id", json_object_new_string(vm->id));
		nap_json_set(nic->body, "properties.virtualMachine", ref);
	}
}

/* The stored body: what the client sent, as ARM echoes it. */
static json_object *
vm_body(struct world *w, json_object *req, struct world_vm *vm)
{
	json_object *b = sim_dup(req), *os;
	char ts[40];

	json_object_object_del(b, "id");
	json_object_object_add(b, "id", json_object_new_string(vm->id));
	json_object_object_add(b, "name", json_object_new_string(vm->name));
	json_object_object_add(
	    b, "type", json_object_new_string("Microsoft.Compute/virtualMachines"));
	json_object_object_add(b, "location", json_object_new_string(w->region));
	/* customData goes to the VM and is never returned. */
	if ((os = nap_json_get(b, "properties.osProfile")) != NULL)
		json_object_object_del(os, "customData");
	nap_json_set(
	    b, "properties.osProfile.computerName", json_object_new_string(vm->computer_name));
	nap_json_set(b, "properties.vmId", json_object_new_string(vm->vm_uuid));
	sim_rfc3339(w->sim, ts, sizeof(ts));
	nap_json_set(b, "properties.timeCreated", json_object_new_string(ts));
	return b;
}

static int
vm_put(struct world *w, const struct sim_req *req, struct sim_resp *resp, const char *name,
    json_object *body)
{
	struct world_vm *vm = world_vm_find(w, name), tmp;
	struct world_op *op;
	char *code = NULL, *msg = NULL, uuid[40];
	int status = 0, async = 0, isnew = vm == NULL;

	if (vm && vm->state == VM_DELETING) {
		arm_error(resp, 409, "OperationNotAllowed", NULL,
		    "Operation 'createOrUpdate' is not allowed on VM '%s' since the VM is marked "
		    "for deletion. You can only retry the Delete operation (or wait for an ongoing "
		    "one to complete).",
		    name);
		return 1;
	}
	memset(&tmp, 0, sizeof(tmp));
	if (vm) {
		tmp.boot = vm->boot ? json_object_get(vm->boot) : NULL;
		tmp.nic_id = NULL;
	}
	if (vm_validate(w, name, body, &tmp, resp) < 0) {
		if (tmp.boot)
			json_object_put(tmp.boot);
		free(tmp.nic_id);
		free(tmp.computer_name);
		return 1;
	}
	if (vm && vm->state == VM_SUCCEEDED) {
		/* Update: tags and the like; the machine itself stays. */
		json_object *tags = nap_json_get(body, "tags");

		if (tags)
			json_object_object_add(vm->body, "tags", sim_dup(tags));
		if (tmp.boot)
			json_object_put(tmp.boot);
		free(tmp.nic_id);
		free(tmp.computer_name);
		nap_json_set(
		    vm->body, "properties.provisioningState", json_object_new_string("Updating"));
		op = world_op_new(
		    w, "Microsoft.Compute", WORLD_OP_VM_UPDATE, name, w->opts->lro_time / 4);
		resp->azure_async_operation = op_url(w, op, WORLD_API_COMPUTE, 0);
		sim_resp_json(resp, 200, vm_view(w, vm, 0));
		return 1;
	}
	if (vm && vm->state == VM_CREATING) {
		if (tmp.boot)
			json_object_put(tmp.boot);
		free(tmp.nic_id);
		free(tmp.computer_name);
		sim_resp_json(resp, 200, vm_view(w, vm, 0));
		return 1;
	}
	tmp.name = nap_xstrdup(name);
	if (fault_vm_create(w, &tmp, &status, &code, &msg, &async) != 0 && !async) {
		free(tmp.name);
		arm_error(resp, status, code, NULL, "%s", msg);
		free(code);
		free(msg);
		if (tmp.boot)
			json_object_put(tmp.boot);
		free(tmp.nic_id);
		free(tmp.computer_name);
		return 1;
	}
	if (isnew) {
		vm = nap_xcalloc(1, sizeof(*vm));
		vm->name = nap_xstrdup(name);
		vm->id = vm_id(w, name);
		world_uuid(w, uuid, sizeof(uuid));
		vm->vm_uuid = nap_xstrdup(uuid);
		nap_xgrow(&w->vms, &w->avms, w->nvms + 1, sizeof(*w->vms));
		w->vms[w->nvms++] = vm;
	} else {
		/* A failed VM is tried again in place. */
		if (vm->boot)
			json_object_put(vm->boot);
		free(vm->nic_id);
		free(vm->computer_name);
		json_object_put(vm->body);
	}
	free(tmp.name);
	vm->boot = tmp.boot;
	vm->nic_id = tmp.nic_id;
	vm->computer_name = tmp.computer_name;
	vm->size = tmp.size;
	vm->zone = tmp.zone;
	vm->spot = tmp.spot;
	vm->evict_deallocate = tmp.evict_deallocate;
	vm->node = NODE_NONE;
	vm->body = vm_body(w, body, vm);
	vm_set_state(vm, VM_CREATING);
	nics_attach(w, vm);
	op = world_op_new(w, "Microsoft.Compute", WORLD_OP_VM_CREATE, name, w->opts->lro_time);
	if (code) {
		op->fail_code = code;
		op->fail_msg = msg;
	}
	resp->azure_async_operation = op_url(w, op, WORLD_API_COMPUTE, 0);
	sim_resp_json(resp, isnew ? 201 : 200, vm_view(w, vm, 0));
	(void)req;
	return 1;
}

/* The first DELETE of a VM, against the pods its Node still holds. */
static void
count_vm_delete(struct world *w, const struct world_vm *vm)
{
	struct sim_stats *st = sim_stats(w->sim);

	st->vms_deleted++;
	if (!vm->node_name || !sim_node_has_drainable(w->sim, vm->node_name))
		return;
	if (sim_node_past_deadline(w->sim, vm->node_name))
		st->vms_deleted_past_deadline++;
	else
		st->vms_deleted_with_pods++;
}

static int
vm_delete(struct world *w, struct sim_resp *resp, const char *name)
{
	struct world_vm *vm = world_vm_find(w, name);
	struct world_op *op;

	if (vm == NULL) {
		resp->status = 204;
		return 1;
	}
	if (vm->state != VM_DELETING && !vm->deleted)
		count_vm_delete(w, vm);
	if (vm->state != VM_DELETING)
		vm_set_state(vm, VM_DELETING);
	op = world_op_new(w, "Microsoft.Compute", WORLD_OP_VM_DELETE, name, w->opts->lro_time);
	resp->azure_async_operation = op_url(w, op, WORLD_API_COMPUTE, 0);
	resp->location = op_url(w, op, WORLD_API_COMPUTE, 1);
	resp->status = 202;
	return 1;
}

static void
not_found(struct world *w, struct sim_resp *resp, const char *type, const char *name)
{
	arm_error(resp, 404, "ResourceNotFound", NULL,
	    "The Resource '%s/%s' under resource group '%s' was not found. For more details please "
	    "go to https://aka.ms/ARMResourceNotFoundFix",
	    type, name, w->rg);
}

/*
 * List paging.  Items go out sorted by name (case-insensitively, as ARM
 * compares names), and a page's $skiptoken names the last item it held, so
 * the next page starts after that name: an item that lives through the
 * whole listing is seen exactly once, even while others come and go
 * between pages (an offset would skip one for each deletion in front of
 * it).  The token is opaque to clients: hex of a check value and the name,
 * the check a hash of a key drawn when nap-sim starts, the collection's
 * path and the name.  A token that was edited, belongs to another
 * collection or was issued by an earlier nap-sim is refused with 400
 * InvalidSkipToken, as ARM refuses a token it cannot use.
 */
static uint64_t
skip_key(void)
{
	static uint64_t key;
	int fd;

	if (key)
		return key;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, &key, sizeof(key)) != (ssize_t)sizeof(key))
		key = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
	if (fd >= 0)
		close(fd);
	if (key == 0)
		key = 1;
	return key;
}

static uint64_t
skip_check(const char *path, const char *name)
{
	char *s = nap_xasprintf("%016llx|%s|%s", (unsigned long long)skip_key(), path, name);
	char *p;
	uint64_t h;

	for (p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	h = nap_hash_str(s, strlen(s));
	free(s);
	return h;
}

static char *
skip_token(const char *path, const char *name)
{
	size_t n = strlen(name), i;
	char *t = nap_xmalloc(16 + 2 * n + 1);

	snprintf(t, 17, "%016llx", (unsigned long long)skip_check(path, name));
	for (i = 0; i < n; i++)
		snprintf(t + 16 + 2 * i, 3, "%02x", (unsigned char)name[i]);
	return t;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The name a token carries (the caller frees it), or NULL when it is not ours. */
static char *
skip_name(const char *path, const char *tok)
{
	size_t n = strlen(tok), i;
	unsigned long long want;
	char *name, *end;

	if (n < 18 || n % 2 != 0)
		return NULL;
	for (i = 0; i < n; i++)
		if (hexval(tok[i]) < 0)
			return NULL;
	name = nap_xmalloc((n - 16) / 2 + 1);
	for (i = 16; i < n; i += 2) {
		name[(i - 16) / 2] = (char)(hexval(tok[i]) * 16 + hexval(tok[i + 1]));
		if (name[(i - 16) / 2] == '\0') {
			free(name);
			return NULL;
		}
	}
	name[(n - 16) / 2] = '\0';
	{
		char head[17];

		memcpy(head, tok, 16);
		head[16] = '\0';
		want = strtoull(head, &end, 16);
	}
	if ((uint64_t)want != skip_check(path, name)) {
		free(name);
		return NULL;
	}
	return name;
}

static int
name_cmp(const char *a, const char *b)
{
	int c = strcasecmp(a, b);

	return c ? c : strcmp(a, b);
}

static int
item_cmp(const void *pa, const void *pb)
{
	json_object *const *a = pa, *const *b = pb;

	return name_cmp(nap_json_str(*a, "name", ""), nap_json_str(*b, "name", ""));
}

/*
 * A list answer, paged as ARM pages: at most arm-page-size items, and a
 * nextLink (an absolute URL on the base the request came in on, with
 * $skiptoken) while more remain.  items is taken.
 */
static void
list_answer(struct world *w, const struct sim_req *req, struct sim_resp *resp, json_object *items)
{
	json_object *o, *page;
	const char *tok = sim_req_query(req, "$skiptoken");
	size_t n, from = 0, i;
	char *after = NULL;

	if (tok && (after = skip_name(req->path, tok)) == NULL) {
		json_object_put(items);
		arm_error(resp, 400, "InvalidSkipToken", NULL,
		    "The skip token '%.200s' is not valid for this collection.", tok);
		return;
	}
	json_object_array_sort(items, item_cmp);
	n = json_object_array_length(items);
	if (after) {
		while (from < n &&
		    name_cmp(nap_json_str(json_object_array_get_idx(items, from), "name", ""),
			after) <= 0)
			from++;
		free(after);
	}
	o = json_object_new_object();
	page = json_object_new_array();
	for (i = from; i < n && i < from + w->page_size; i++)
		json_object_array_add(page, json_object_get(json_object_array_get_idx(items, i)));
	json_object_object_add(o, "value", page);
	if (i < n) {
		const char *host = sim_req_header(req, "Host");
		const char *last =
		    nap_json_str(json_object_array_get_idx(items, i - 1), "name", "");
		char *t = skip_token(req->path, last), *base, *link;
		const char *api;

		/* The plain-HTTP port serves ARM too: link back to where the client is. */
		base = req->port_kind == SIM_PORT_INSECURE && host
		    ? nap_xasprintf("http://%s", host)
		    : nap_xstrdup(sim_arm_url(w->sim));
		api = sim_req_query(req, "api-version");
		link = nap_xasprintf(
		    "%s%s?api-version=%s&%%24skiptoken=%s", base, req->path, api ? api : "", t);
		json_object_object_add(o, "nextLink", json_object_new_string(link));
		free(link);
		free(base);
		free(t);
	}
	json_object_put(items);
	sim_resp_json(resp, 200, o);
}

static int
vm_list(struct world *w, const struct sim_req *req, struct sim_resp *resp)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < w->nvms; i++)
		if (!w->vms[i]->deleted)
			json_object_array_add(a, vm_view(w, w->vms[i], 0));
	list_answer(w, req, resp, a);
	return 1;
}

static json_object *
parse_body(const struct sim_req *req, struct sim_resp *resp)
{
	struct json_tokener *tok;
	json_object *o;
	enum json_tokener_error jerr;

	if (req->content_type && strncasecmp(req->content_type, "application/json", 16) != 0) {
		arm_error(resp, 415, "UnsupportedMediaType", NULL,
		    "The content media type '%s' is not supported. Only 'application/json' is "
		    "supported.",
		    req->content_type);
		return NULL;
	}
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, req->body ? req->body : "", (int)req->body_len);
	jerr = json_tokener_get_error(tok);
	if (o != NULL && tok->char_offset < (int)req->body_len) {
		size_t k;

		for (k = (size_t)tok->char_offset; k < req->body_len; k++)
			if (!isspace((unsigned char)req->body[k]))
				break;
		if (k < req->body_len) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		arm_error(resp, 400, "InvalidRequestContent", NULL,
		    "The request content was invalid and could not be deserialized: '%s'.",
		    o == NULL ? json_tokener_error_desc(jerr) : "expected a JSON object");
		if (o)
			json_object_put(o);
		return NULL;
	}
	return o;
}

static int
vm_route(
    struct world *w, const struct sim_req *req, struct sim_resp *resp, const struct arm_path *ap)
{
	const char *name = ap->n > 7 ? ap->seg[7] : NULL;
	struct world_vm *vm;
	json_object *body;
	const char *ex;

	if (name == NULL) {
		if (strcmp(req->method, "GET") != 0)
			goto method;
		return vm_list(w, req, resp);
	}
	if (ap->n == 8) {
		if (strcmp(req->method, "PUT") == 0) {
			int r;

			if ((body = parse_body(req, resp)) == NULL)
				return 1;
			r = vm_put(w, req, resp, name, body);
			json_object_put(body);
			return r;
		}
		if (strcmp(req->method, "DELETE") == 0)
			return vm_delete(w, resp, name);
		if (strcmp(req->method, "GET") != 0)
			goto method;
		if ((vm = world_vm_find(w, name)) == NULL) {
			not_found(w, resp, "Microsoft.Compute/virtualMachines", name);
			return 1;
		}
		ex = sim_req_query(req, "$expand");
		sim_resp_json(resp, 200, vm_view(w, vm, ex && strcasecmp(ex, "instanceView") == 0));
		return 1;
	}
	vm = world_vm_find(w, name);
	if (ap->n == 9 && seg_is(ap, 8, "instanceView") && strcmp(req->method, "GET") == 0) {
		struct world_op *op;

		if (vm == NULL) {
			not_found(w, resp, "Microsoft.Compute/virtualMachines", name);
			return 1;
		}
		op = vm_last_op(w, vm);
		sim_resp_json(
		    resp, 200, vm_instance_view(w, vm, op && op->fail_code ? op->fail_code : NULL));
		return 1;
	}
	if (ap->n == 9 && seg_is(ap, 8, "simulateEviction") && strcmp(req->method, "POST") == 0) {
		if (vm == NULL) {
			not_found(w, resp, "Microsoft.Compute/virtualMachines", name);
			return 1;
		}
		if (!vm->spot) {
			arm_error(resp, 409, "OperationNotAllowed", NULL,
			    "Simulate eviction is supported only for Azure Spot Virtual Machines.");
			return 1;
		}
		world_vm_evict(w, name);
		resp->status = 204;
		return 1;
	}
	arm_error(resp, 404, "InvalidResourceType", NULL,
	    "The resource type could not be found in the namespace 'Microsoft.Compute' for api "
	    "version '%s'.",
	    sim_req_query(req, "api-version"));
	return 1;
method:
	arm_error(resp, 405, "MethodNotAllowed", NULL,
	    "The requested method '%s' is not allowed for this resource.", req->method);
	return 1;
}

/* ---- network interfaces --------------------------------------------- */

static json_object *
nic_body(struct world *w, json_object *req, const char *name, const char *id)
{
	json_object *b = sim_dup(req), *ipc;
	char guid[40];
	size_t i, n;

	json_object_object_del(b, "id");
	json_object_object_add(b, "id", json_object_new_string(id));
	json_object_object_add(b, "name", json_object_new_string(name));
	json_object_object_add(
	    b, "type", json_object_new_string("Microsoft.Network/networkInterfaces"));
	json_object_object_add(b, "location", json_object_new_string(w->region));
	world_uuid(w, guid, sizeof(guid));
	nap_json_set(b, "properties.provisioningState", json_object_new_string("Succeeded"));
	nap_json_set(b, "properties.resourceGuid", json_object_new_string(guid));
	ipc = nap_json_array(b, "properties.ipConfigurations", &n);
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(ipc, i);
		const char *cn = nap_json_str(c, "name", NULL);
		char *cid, ip[32];
		unsigned long h = w->ip_next++;

		if (cn == NULL) {
			char gen[32];

			snprintf(gen, sizeof(gen), "ipconfig%zu", i + 1);
			json_object_object_add(c, "name", json_object_new_string(gen));
			cn = nap_json_str(c, "name", "");
		}
		cid = nap_xasprintf("%s/ipConfigurations/%s", id, cn);
		json_object_object_add(c, "id", json_object_new_string(cid));
		free(cid);
		snprintf(ip, sizeof(ip), "10.224.%lu.%lu", (h / 250) % 256, h % 250 + 4);
		nap_json_set(
		    c, "properties.provisioningState", json_object_new_string("Succeeded"));
		nap_json_set(c, "properties.privateIPAddress", json_object_new_string(ip));
		nap_json_set(
		    c, "properties.privateIPAddressVersion", json_object_new_string("IPv4"));
		if (nap_json_get(c, "properties.privateIPAllocationMethod") == NULL)
			nap_json_set(c, "properties.privateIPAllocationMethod",
			    json_object_new_string("Dynamic"));
		if (nap_json_get(c, "properties.primary") == NULL)
			nap_json_set(c, "properties.primary", json_object_new_boolean(i == 0));
	}
	return b;
}

static void
nic_store(struct world *w, const char *name, json_object *body)
{
	struct world_nic *nic = nap_xcalloc(1, sizeof(*nic));

	nic->name = nap_xstrdup(name);
	nic->id = nap_xstrdup(nap_json_str(body, "id", ""));
	nic->body = body;
	nap_xgrow(&w->nics, &w->anics, w->nnics + 1, sizeof(*w->nics));
	w->nics[w->nnics++] = nic;
}

void
arm_nic_restore(struct world *w, json_object *body)
{
	const char *name = nap_json_str(body, "name", NULL);
	const char *vmid = nap_json_str(body, "properties.virtualMachine.id", NULL);

	if (name == NULL)
		return;
	nic_store(w, name, json_object_get(body));
	if (vmid)
		w->nics[w->nnics - 1]->vm_id = nap_xstrdup(vmid);
}

void
arm_vm_restore(struct world *w, json_object *saved)
{
	const char *name = nap_json_str(saved, "name", NULL);
	json_object *body = nap_json_get(saved, "body"), *nics;
	struct world_vm *vm;
	const char *size, *z;

	if (name == NULL || body == NULL)
		return;
	vm = nap_xcalloc(1, sizeof(*vm));
	vm->name = nap_xstrdup(name);
	vm->id = vm_id(w, name);
	vm->body = json_object_get(body);
	if (nap_json_get(saved, "boot"))
		vm->boot = json_object_get(nap_json_get(saved, "boot"));
	size = nap_json_str(body, "properties.hardwareProfile.vmSize", "");
	vm->size = world_size_find(w, size);
	z = NULL;
	if (json_object_is_type(nap_json_get(body, "zones"), json_type_array) &&
	    json_object_array_length(nap_json_get(body, "zones")) > 0)
		z = json_object_get_string(
		    json_object_array_get_idx(nap_json_get(body, "zones"), 0));
	vm->zone = z ? (int)strtol(z, NULL, 10) : 0;
	vm->spot = strcasecmp(nap_json_str(body, "properties.priority", "Regular"), "Regular") != 0;
	vm->evict_deallocate =
	    strcasecmp(nap_json_str(body, "properties.evictionPolicy", ""), "Deallocate") == 0;
	vm->computer_name =
	    nap_xstrdup(nap_json_str(body, "properties.osProfile.computerName", name));
	vm->vm_uuid = nap_xstrdup(nap_json_str(body, "properties.vmId", ""));
	nics = json_object_array_get_idx(
	    nap_json_get(body, "properties.networkProfile.networkInterfaces"), 0);
	if (nics)
		vm->nic_id = nap_xstrdup(nap_json_str(nics, "id", ""));
	vm->state = (enum vm_state)nap_json_int(saved, "state", VM_SUCCEEDED);
	if (vm->state == VM_CREATING || vm->state == VM_DELETING)
		vm->state = vm->state == VM_CREATING ? VM_SUCCEEDED : VM_GONE;
	vm->node = (enum node_state)nap_json_int(saved, "node", NODE_NONE);
	if (vm->node != NODE_NONE)
		vm->node_name = nap_xstrdup(vm->computer_name);
	if (vm->state == VM_GONE) {
		world_vm_free(vm);
		return;
	}
	vm_set_state(vm, vm->state);
	nap_xgrow(&w->vms, &w->avms, w->nvms + 1, sizeof(*w->vms));
	w->vms[w->nvms++] = vm;
	/* A node between steps resumes on the next tick (node_at is 0). */
	if (vm->state == VM_SUCCEEDED && (vm->node == NODE_NONE || vm->node == NODE_BOOTING))
		kubelet_vm_running(w, vm);
}

/*
 * Managed disks, only as far as a VM's OS disk: nap-sim keeps no disks of
 * their own, so a disk is there while a VM (not deleted) names it as its OS
 * disk, and goes with that VM (deleteOption Delete, or not: nap-sim does not
 * keep detached disks).  DELETE of a disk still attached is refused as
 * Azure refuses it; of a missing one answers 204.  Only single disks: the
 * list is not served (an unknown type, as before).
 */
static int
disk_route(
    struct world *w, const struct sim_req *req, struct sim_resp *resp, const struct arm_path *ap)
{
	const char *name = ap->seg[7];
	struct world_vm *vm = NULL;
	json_object *d;
	size_t i;

	for (i = 0; i < w->nvms && vm == NULL; i++)
		if (!w->vms[i]->deleted &&
		    strcasecmp(nap_json_str(w->vms[i]->body, "properties.storageProfile.osDisk.name",
				   ""),
			name) == 0)
			vm = w->vms[i];
	if (strcmp(req->method, "GET") == 0) {
		if (vm == NULL) {
			not_found(w, resp, "Microsoft.Compute/disks", name);
			return 1;
		}
		d = json_object_new_object();
		json_object_object_add(d, "name", json_object_new_string(name));
		json_object_object_add(d, "type", json_object_new_string("Microsoft.Compute/disks"));
		json_object_object_add(d, "location", json_object_new_string(w->region));
		nap_json_set(d, "managedBy", json_object_new_string(vm->id));
		nap_json_set(d, "properties.diskState", json_object_new_string("Attached"));
		nap_json_set(d, "properties.provisioningState", json_object_new_string("Succeeded"));
		sim_resp_json(resp, 200, d);
		return 1;
	}
	if (strcmp(req->method, "DELETE") != 0)
		goto method;
	if (vm != NULL) {
		arm_error(resp, 409, "OperationNotAllowed", NULL,
		    "Disk %s is attached to VM %s.", name, vm->id);
		return 1;
	}
	resp->status = 204;
	return 1;
method:
	arm_error(resp, 405, "MethodNotAllowed", NULL,
	    "The requested method '%s' is not allowed for this resource.", req->method);
	return 1;
}

static int
nic_route(
    struct world *w, const struct sim_req *req, struct sim_resp *resp, const struct arm_path *ap)
{
	const char *name = ap->n > 7 ? ap->seg[7] : NULL;
	struct world_nic *nic;
	struct world_op *op;
	json_object *body, *ipc;
	size_t i, n;

	if (name == NULL || ap->n > 8) {
		json_object *a;

		if (ap->n > 8 || strcmp(req->method, "GET") != 0) {
			arm_error(resp, 405, "MethodNotAllowed", NULL,
			    "The requested method '%s' is not allowed for this resource.",
			    req->method);
			return 1;
		}
		a = json_object_new_array();
		for (i = 0; i < w->nnics; i++)
			if (!w->nics[i]->deleted)
				json_object_array_add(a, sim_dup(w->nics[i]->body));
		list_answer(w, req, resp, a);
		return 1;
	}
	nic = world_nic_find(w, name);
	if (strcmp(req->method, "GET") == 0) {
		if (nic == NULL) {
			not_found(w, resp, "Microsoft.Network/networkInterfaces", name);
			return 1;
		}
		sim_resp_json(resp, 200, sim_dup(nic->body));
		return 1;
	}
	if (strcmp(req->method, "DELETE") == 0) {
		if (nic == NULL) {
			resp->status = 204;
			return 1;
		}
		if (nic->vm_id) {
			arm_error(resp, 400, "NicInUse", NULL,
			    "Network Interface %s is used by existing resource %s. In order to "
			    "delete the network interface, it must be dissociated from the "
			    "resource. To learn more, see aka.ms/deletenic.",
			    nic->id, nic->vm_id);
			return 1;
		}
		nic->deleted = 1;
		op = world_op_new(w, "Microsoft.Network", WORLD_OP_NONE, NULL, 0);
		resp->azure_async_operation = op_url(w, op, WORLD_API_NETWORK, 0);
		resp->location = op_url(w, op, WORLD_API_NETWORK, 1);
		resp->status = 202;
		return 1;
	}
	if (strcmp(req->method, "PUT") != 0) {
		arm_error(resp, 405, "MethodNotAllowed", NULL,
		    "The requested method '%s' is not allowed for this resource.", req->method);
		return 1;
	}
	if ((body = parse_body(req, resp)) == NULL)
		return 1;
	if (nap_json_str(body, "location", NULL) == NULL) {
		arm_error(resp, 400, "LocationRequired", NULL,
		    "The location property is required for this definition.");
		json_object_put(body);
		return 1;
	}
	if (strcasecmp(nap_json_str(body, "location", ""), w->region) != 0) {
		arm_error(resp, 400, "InvalidResourceLocation", NULL,
		    "The resource '%s' must be in location '%s' with its virtual network.", name,
		    w->region);
		json_object_put(body);
		return 1;
	}
	ipc = nap_json_array(body, "properties.ipConfigurations", &n);
	if (ipc == NULL || n == 0) {
		arm_error(resp, 400, "NetworkInterfaceMustHaveIpConfiguration", NULL,
		    "Network interface %s must have at least one IP configuration.", name);
		json_object_put(body);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (nap_json_str(json_object_array_get_idx(ipc, i), "properties.subnet.id", NULL) ==
		    NULL) {
			arm_error(resp, 400, "InvalidRequestFormat", NULL,
			    "Cannot parse the request. IP configuration %zu of network interface "
			    "%s has no subnet.",
			    i, name);
			json_object_put(body);
			return 1;
		}
	}
	{
		char *id = nic_id(w, name);
		json_object *nb = nic_body(w, body, name, id);
		int isnew = nic == NULL;

		if (nic) {
			/* Keep the addresses and the attachment of the existing NIC. */
			json_object *vmref = nap_json_get(nic->body, "properties.virtualMachine");

			json_object_object_add(
			    nb, "properties", sim_dup(nap_json_get(nic->body, "properties")));
			if (nap_json_get(body, "tags"))
				json_object_object_add(
				    nb, "tags", sim_dup(nap_json_get(body, "tags")));
			(void)vmref;
			json_object_put(nic->body);
			nic->body = nb;
		} else {
			nic_store(w, name, nb);
		}
		free(id);
		json_object_put(body);
		op = world_op_new(w, "Microsoft.Network", WORLD_OP_NONE, NULL, 0);
		resp->azure_async_operation = op_url(w, op, WORLD_API_NETWORK, 0);
		sim_resp_json(resp, isnew ? 201 : 200, sim_dup(nb));
	}
	return 1;
}

/* ---- SKUs, usages, operations --------------------------------------- */

static void cap_add(json_object *caps, const char *name, const char *fmt, ...) NAP_PRINTF(3, 4);

static void
cap_add(json_object *caps, const char *name, const char *fmt, ...)
{
	json_object *c = json_object_new_object();
	char v[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	json_object_object_add(c, "name", json_object_new_string(name));
	json_object_object_add(c, "value", json_object_new_string(v));
	json_object_array_add(caps, c);
}

static json_object *
sku_item(struct world *w, const struct world_size *s)
{
	const struct nap_itype *t = s->itype;
	json_object *o = json_object_new_object(), *a, *li, *z, *caps;
	const char *tf = "False", *tt = "True";
	int k;

	json_object_object_add(o, "resourceType", json_object_new_string("virtualMachines"));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "tier", json_object_new_string("Standard"));
	json_object_object_add(o, "size",
	    json_object_new_string(strncmp(s->name, "Standard_", 9) == 0 ? s->name + 9 : s->name));
	json_object_object_add(o, "family", json_object_new_string(s->family));
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string(w->region));
	json_object_object_add(o, "locations", a);
	li = json_object_new_object();
	json_object_object_add(li, "location", json_object_new_string(w->region));
	z = json_object_new_array();
	for (k = 1; k < 31; k++) {
		if (s->zones & (1 << k)) {
			char zs[8];

			snprintf(zs, sizeof(zs), "%d", k);
			json_object_array_add(z, json_object_new_string(zs));
		}
	}
	json_object_object_add(li, "zones", z);
	json_object_object_add(li, "zoneDetails", json_object_new_array());
	a = json_object_new_array();
	json_object_array_add(a, li);
	json_object_object_add(o, "locationInfo", a);
	caps = json_object_new_array();
	cap_add(caps, "vCPUs", "%d", s->vcpus);
	cap_add(caps, "vCPUsAvailable", "%d", s->vcpus);
	cap_add(caps, "MemoryGB", "%g", (double)s->memory_mib / 1024.0);
	if (s->gpus > 0)
		cap_add(caps, "GPUs", "%d", s->gpus);
	cap_add(caps, "CpuArchitectureType", "%s", strcmp(s->arch, "arm64") == 0 ? "Arm64" : "x64");
	cap_add(caps, "HyperVGenerations", "%s",
	    s->hyperv == 3	 ? "V1,V2"
		: s->hyperv == 2 ? "V2"
				 : "V1");
	cap_add(caps, "LowPriorityCapable", "%s", s->spot ? tt : tf);
	cap_add(caps, "PremiumIO", "%s", s->premium_io > 0 ? tt : tf);
	cap_add(caps, "AcceleratedNetworkingEnabled", "%s", s->accel_net > 0 ? tt : tf);
	cap_add(caps, "EphemeralOSDiskSupported", "%s", s->ephemeral_os_max_gb > 0 ? tt : tf);
	if (t && s->ephemeral_os_max_gb > 0 && t->ephemeral_placement && *t->ephemeral_placement) {
		cap_add(caps, "SupportedEphemeralOSDiskPlacements", "%s", t->ephemeral_placement);
		if (strcmp(t->ephemeral_placement, "CacheDisk") == 0)
			cap_add(caps, "CachedDiskBytes", "%lld",
			    (long long)s->ephemeral_os_max_gb * 1000000000LL);
		else if (strcmp(t->ephemeral_placement, "ResourceDisk") == 0)
			cap_add(caps, "MaxResourceVolumeMB", "%lld",
			    (long long)s->ephemeral_os_max_gb * 1000000000LL / 1048576 + 1);
		else
			cap_add(caps, "NvmeDiskSizeInMiB", "%lld",
			    (long long)s->ephemeral_os_max_gb * 1000000000LL / 1048576 + 1);
	}
	if (t && t->encryption_at_host >= 0)
		cap_add(caps, "EncryptionAtHostSupported", "%s", t->encryption_at_host ? tt : tf);
	if (t && t->trusted_launch_disabled > 0)
		cap_add(caps, "TrustedLaunchDisabled", "%s", tt);
	json_object_object_add(o, "capabilities", caps);
	json_object_object_add(o, "restrictions", json_object_new_array());
	return o;
}

static int
skus_list(struct world *w, const struct sim_req *req, struct sim_resp *resp)
{
	const char *f = sim_req_query(req, "$filter");
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	char want[64] = "";
	size_t i;

	if (f != NULL) {
		const char *q = strchr(f, '\'');
		const char *e = q ? strchr(q + 1, '\'') : NULL;

		if (strncasecmp(f, "location eq ", 12) != 0 || q == NULL || e == NULL) {
			json_object_put(o);
			json_object_put(a);
			arm_error(resp, 400, "InvalidFilterInQueryString", NULL,
			    "The filter '%s' is not valid. Only the filter location eq "
			    "'<location>' is supported.",
			    f);
			return 1;
		}
		snprintf(want, sizeof(want), "%.*s", (int)(e - q - 1), q + 1);
	}
	if (*want == '\0' || strcasecmp(want, w->region) == 0)
		for (i = 0; i < w->nsizes; i++)
			json_object_array_add(a, sku_item(w, &w->sizes[i]));
	json_object_object_add(o, "value", a);
	sim_resp_json(resp, 200, o);
	return 1;
}

static json_object *
usage_item(const char *name, const char *local, long used, long limit)
{
	json_object *u = json_object_new_object(), *n = json_object_new_object();

	json_object_object_add(u, "limit", json_object_new_int64(limit));
	json_object_object_add(u, "unit", json_object_new_string("Count"));
	json_object_object_add(u, "currentValue", json_object_new_int64(used));
	json_object_object_add(n, "value", json_object_new_string(name));
	json_object_object_add(n, "localizedValue", json_object_new_string(local));
	json_object_object_add(u, "name", n);
	return u;
}

/* Limits when no quota fault names them: generous, so quotas only bite on request. */
#define QUOTA_DEFAULT 100000

static long
quota_limit(struct world *w, const char *key)
{
	json_object *v = w->faults.quotas ? nap_json_key(w->faults.quotas, key) : NULL;

	return v ? (long)json_object_get_int64(v) : QUOTA_DEFAULT;
}

static int
usages_list(struct world *w, struct sim_resp *resp)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t i, j;

	json_object_array_add(a,
	    usage_item("cores", "Total Regional vCPUs", world_vcpus_used(w, NULL, 0, 0),
		quota_limit(w, "regional")));
	json_object_array_add(a,
	    usage_item("lowPriorityCores", "Total Regional Low-priority vCPUs",
		world_vcpus_used(w, NULL, 1, 0), quota_limit(w, "lowPriority")));
	for (i = 0; i < w->nsizes; i++) {
		const char *fam = w->sizes[i].family;
		char local[160];

		for (j = 0; j < i; j++)
			if (strcmp(w->sizes[j].family, fam) == 0)
				break;
		if (j < i)
			continue;
		snprintf(local, sizeof(local), "%s vCPUs", fam);
		json_object_array_add(
		    a, usage_item(fam, local, world_vcpus_used(w, fam, 0, 0), quota_limit(w, fam)));
	}
	json_object_object_add(o, "value", a);
	sim_resp_json(resp, 200, o);
	return 1;
}

static int
op_status(struct world *w, const struct sim_req *req, struct sim_resp *resp, const char *id)
{
	struct world_op *op = world_op_find(w, id);
	const char *mon = sim_req_query(req, "monitor");
	json_object *o;

	if (op == NULL) {
		arm_error(resp, 404, "NotFound", NULL, "The operation '%s' was not found.", id);
		return 1;
	}
	if (mon && strcasecmp(mon, "true") == 0) {
		/* The Location flavour: 202 while running, then the final answer. */
		if (!op->done) {
			resp->status = 202;
			resp->retry_after = world_retry_after(w, 5);
			resp->location = op_url(w, op, sim_req_query(req, "api-version"), 1);
			return 1;
		}
		if (op->error) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "error", json_object_get(op->error));
			sim_resp_json(resp, 200, e);
			return 1;
		}
		resp->status = op->kind == WORLD_OP_VM_DELETE ? 200 : 204;
		return 1;
	}
	o = json_object_new_object();
	json_object_object_add(o, "startTime", json_object_new_string(op->start));
	if (op->done)
		json_object_object_add(o, "endTime", json_object_new_string(op->end));
	json_object_object_add(o, "status",
	    json_object_new_string(!op->done ? "InProgress"
		    : op->error		     ? "Failed"
					     : "Succeeded"));
	if (op->error)
		json_object_object_add(o, "error", json_object_get(op->error));
	json_object_object_add(o, "name", json_object_new_string(op->id));
	sim_resp_json(resp, 200, o);
	return 1;
}

/* ---- the entry point ------------------------------------------------- */

static void
arm_headers(struct world *w, const struct sim_req *req, struct sim_resp *resp, int kind)
{
	static const char *const names[] = {
	    "x-ms-ratelimit-remaining-subscription-reads",
	    "x-ms-ratelimit-remaining-subscription-writes",
	    "x-ms-ratelimit-remaining-subscription-deletes",
	};
	char id[40], v[128];
	const char *cid = sim_req_header(req, "x-ms-client-request-id");

	world_uuid(w, id, sizeof(id));
	sim_resp_header(resp, "x-ms-request-id", id);
	sim_resp_header(resp, "x-ms-correlation-request-id", id);
	snprintf(v, sizeof(v), "%s:%.0f:%s", w->region, world_wall(), id);
	for (char *p = v; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	sim_resp_header(resp, "x-ms-routing-request-id", v);
	if (cid)
		sim_resp_header(resp, "x-ms-client-request-id", cid);
	snprintf(v, sizeof(v), "%.0f", w->bucket[kind] < 0 ? 0 : w->bucket[kind]);
	sim_resp_header(resp, names[kind], v);
}

/* ARM's per-subscription token buckets, refilled in simulated time. */
static int
bucket_take(struct world *w, int kind)
{
	static const double cap[3] = {250, 200, 200}, rate[3] = {25, 10, 10};
	double now = sim_elapsed(w->sim), dt = now - w->bucket_at;
	int k;

	for (k = 0; k < 3; k++) {
		w->bucket[k] += dt * rate[k];
		if (w->bucket[k] > cap[k])
			w->bucket[k] = cap[k];
	}
	w->bucket_at = now;
	if (w->bucket[kind] < 1)
		return -1;
	w->bucket[kind] -= 1;
	return 0;
}

/*
 * The compute resource provider's own limits, per operation group, over a
 * 3-minute and a 30-minute window (simulated time): every VM answer says
 * what is left in x-ms-ratelimit-remaining-resource, and a request past a
 * limit is 429 until its window ends.
 */
static int
rp_policy(
    struct world *w, const struct sim_req *req, struct sim_resp *resp, const struct arm_path *ap)
{
	static const struct {
		const char *name;
		long limit[2];
	} pol[4] = {
	    {"PutVM", {240, 1200}},
	    {"DeleteVM", {240, 1200}},
	    {"LowCostGet", {4000, 32000}},
	    {"HighCostGet", {240, 800}},
	};
	static const double win[2] = {180, 1800};
	static const char *const wname[2] = {"3Min", "30Min"};
	double now = sim_elapsed(w->sim);
	char hdr[200], group[40];
	int k, i;

	if (strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0 ||
	    strcmp(req->method, "POST") == 0)
		k = 0;
	else if (strcmp(req->method, "DELETE") == 0)
		k = 1;
	else
		k = ap->n > 7 ? 2 : 3;
	for (i = 0; i < 2; i++) {
		if (now - w->rp_start[k][i] >= win[i]) {
			w->rp_start[k][i] = now - fmod(now, win[i]);
			w->rp_count[k][i] = 0;
		}
	}
	for (i = 0; i < 2; i++) {
		if (w->rp_count[k][i] >= pol[k].limit[i]) {
			snprintf(group, sizeof(group), "%s%s", pol[k].name, wname[i]);
			arm_throttled(w, resp, group, pol[k].limit[i], w->rp_count[k][i] + 1,
			    win[i], w->rp_start[k][i] + win[i] - now);
			snprintf(hdr, sizeof(hdr),
			    "Microsoft.Compute/%s3Min;%ld,Microsoft.Compute/%s30Min;%ld",
			    pol[k].name, pol[k].limit[0] - w->rp_count[k][0], pol[k].name,
			    pol[k].limit[1] - w->rp_count[k][1]);
			sim_resp_header(resp, "x-ms-ratelimit-remaining-resource", hdr);
			return 1;
		}
	}
	w->rp_count[k][0]++;
	w->rp_count[k][1]++;
	snprintf(hdr, sizeof(hdr), "Microsoft.Compute/%s3Min;%ld,Microsoft.Compute/%s30Min;%ld",
	    pol[k].name, pol[k].limit[0] - w->rp_count[k][0], pol[k].name,
	    pol[k].limit[1] - w->rp_count[k][1]);
	sim_resp_header(resp, "x-ms-ratelimit-remaining-resource", hdr);
	return 0;
}

static int
arm_dispatch(
    struct world *w, const struct sim_req *req, struct sim_resp *resp, const struct arm_path *ap)
{
	const char *code;
	char msg[512];
	int kind;

	resp->delay = w->faults.latency;
	if (!world_token_check(w, req->authorization, &code, msg, sizeof(msg))) {
		char hdr[300];

		snprintf(hdr, sizeof(hdr),
		    "Bearer authorization_uri=\"https://login.windows.net/%s\", "
		    "error=\"invalid_token\", error_description=\"%s\"",
		    w->tenant, code);
		sim_resp_header(resp, "WWW-Authenticate", hdr);
		arm_error(resp, 401, code, NULL, "%s", msg);
		return 1;
	}
	if (sim_req_query(req, "api-version") == NULL) {
		arm_error(resp, 400, "MissingApiVersionParameter", NULL,
		    "The api-version query parameter (?api-version=) is required for all "
		    "requests.");
		return 1;
	}
	if (!seg_is(ap, 0, "subscriptions") || ap->n < 2)
		return 0;
	if (strcasecmp(ap->seg[1], w->sub) != 0) {
		arm_error(resp, 404, "SubscriptionNotFound", NULL,
		    "The subscription '%s' could not be found.", ap->seg[1]);
		return 1;
	}
	kind = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0 ? 0
	    : strcmp(req->method, "DELETE") == 0				   ? 2
										   : 1;
	if (bucket_take(w, kind) < 0) {
		static const char *const kn[] = {"read", "write", "delete"};

		resp->retry_after = world_retry_after(w, 5);
		arm_error(resp, 429, "SubscriptionRequestsThrottled", NULL,
		    "Number of '%s' requests for subscription '%s' actor 'nap' exceeded. Please "
		    "try again after '%s' seconds after the additional tokens are available. Refer "
		    "to https://aka.ms/arm-throttling for additional information.",
		    kn[kind], w->sub, resp->retry_after);
		arm_headers(w, req, resp, kind);
		return 1;
	}
	if (fault_arm_request(w, req, resp)) {
		arm_headers(w, req, resp, kind);
		return 1;
	}
	arm_headers(w, req, resp, kind);
	/* /subscriptions/S/providers/P/... */
	if (seg_is(ap, 2, "providers")) {
		if (seg_is(ap, 3, "Microsoft.Compute") && seg_is(ap, 4, "skus") && ap->n == 5) {
			if (strcmp(req->method, "GET") != 0)
				goto method;
			return skus_list(w, req, resp);
		}
		if ((seg_is(ap, 3, "Microsoft.Compute") || seg_is(ap, 3, "Microsoft.Network")) &&
		    seg_is(ap, 4, "locations") && ap->n == 8 && seg_is(ap, 6, "operations")) {
			if (strcmp(req->method, "GET") != 0)
				goto method;
			return op_status(w, req, resp, ap->seg[7]);
		}
		if (seg_is(ap, 3, "Microsoft.Compute") && seg_is(ap, 4, "locations") &&
		    ap->n == 7 && seg_is(ap, 6, "usages")) {
			if (strcmp(req->method, "GET") != 0)
				goto method;
			return usages_list(w, resp);
		}
		/* .../locations/L/communityGalleries/G/images/D/versions */
		if (seg_is(ap, 3, "Microsoft.Compute") && seg_is(ap, 4, "locations") &&
		    ap->n == 11 && seg_is(ap, 6, "communityGalleries") && seg_is(ap, 8, "images") &&
		    seg_is(ap, 10, "versions")) {
			if (strcmp(req->method, "GET") != 0)
				goto method;
			return gallery_versions(w, resp, ap->seg[5], ap->seg[7], ap->seg[9]);
		}
		if (seg_is(ap, 3, "Microsoft.ContainerService") && seg_is(ap, 4, "locations") &&
		    ap->n == 7 && seg_is(ap, 6, "nodeImageVersions")) {
			if (strcmp(req->method, "GET") != 0)
				goto method;
			return gallery_node_images(w, resp, ap->seg[5]);
		}
		if (seg_is(ap, 3, "Microsoft.Compute") && seg_is(ap, 4, "virtualMachines") &&
		    ap->n == 5) {
			if (strcmp(req->method, "GET") != 0)
				goto method;
			return vm_list(w, req, resp);
		}
		goto unknown;
	}
	if (!seg_is(ap, 2, "resourceGroups") || ap->n < 4)
		goto unknown;
	if (strcasecmp(ap->seg[3], w->rg) != 0) {
		arm_error(resp, 404, "ResourceGroupNotFound", NULL,
		    "Resource group '%s' could not be found.", ap->seg[3]);
		return 1;
	}
	if (seg_is(ap, 4, "providers") && seg_is(ap, 5, "Microsoft.Compute") &&
	    seg_is(ap, 6, "virtualMachines")) {
		if (rp_policy(w, req, resp, ap))
			return 1;
		return vm_route(w, req, resp, ap);
	}
	if (seg_is(ap, 4, "providers") && seg_is(ap, 5, "Microsoft.Network") &&
	    seg_is(ap, 6, "networkInterfaces"))
		return nic_route(w, req, resp, ap);
	if (seg_is(ap, 4, "providers") && seg_is(ap, 5, "Microsoft.Compute") &&
	    seg_is(ap, 6, "disks") && ap->n == 8)
		return disk_route(w, req, resp, ap);
unknown:
	arm_error(resp, 400, "InvalidResourceType", NULL,
	    "The resource type '%s' could not be found.", req->path);
	return 1;
method:
	arm_error(resp, 405, "MethodNotAllowed", NULL,
	    "The requested method '%s' is not allowed for this resource.", req->method);
	return 1;
}

int
sim_arm_handle(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	struct world *w = world_of(sim);
	struct arm_path ap;
	int r;

	if (w == NULL)
		return 0;
	if (fault_control(w, req, resp))
		return 1;
	if (strncasecmp(req->path, "/subscriptions", 14) != 0)
		return 0;
	path_split(req->path, &ap);
	r = arm_dispatch(w, req, resp, &ap);
	free(ap.buf);
	return r;
}
