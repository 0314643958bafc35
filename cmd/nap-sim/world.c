/*
 * world.c - the world's life cycle (init, tick, change dispatch, save and
 * load, fini), its tunables, its one random stream and the clock of due
 * work that the ARM operations and the kubelets share.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "catalog.h"
#include "json.h"
#include "log.h"
#include "prog.h"
#include "world.h"

struct world *
world_of(struct sim *sim)
{
	return sim_world(sim);
}

/* splitmix64: small, fast, and the same stream for the same --seed. */
uint64_t
world_rand(struct world *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double
world_rand01(struct world *w)
{
	return (double)(world_rand(w) >> 11) / 9007199254740992.0;
}

void
world_uuid(struct world *w, char *buf, size_t size)
{
	uint64_t a = world_rand(w), b = world_rand(w);

	snprintf(buf, size, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
	    (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xfff),
	    (unsigned)(0x8000 | ((b >> 48) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffULL));
}

double
world_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
world_rfc3339_at(double wall, char *buf, size_t size)
{
	time_t t = (time_t)wall;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
world_parse_bool(const char *s, int *out)
{
	if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0 || strcasecmp(s, "on") == 0 ||
	    strcasecmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0 || strcasecmp(s, "off") == 0 ||
	    strcasecmp(s, "no") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

char *
world_retry_after(struct world *w, double sim_seconds)
{
	double s = ceil(sim_seconds / sim_scale(w->sim));

	if (s < 1)
		s = 1;
	return nap_xasprintf("%.0f", s);
}

const struct world_size *
world_size_find(struct world *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nsizes; i++)
		if (strcasecmp(w->sizes[i].name, name) == 0)
			return &w->sizes[i];
	return NULL;
}

struct world_vm *
world_vm_find(struct world *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nvms; i++)
		if (!w->vms[i]->deleted && strcasecmp(w->vms[i]->name, name) == 0)
			return w->vms[i];
	return NULL;
}

struct world_nic *
world_nic_find(struct world *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nnics; i++)
		if (!w->nics[i]->deleted && strcasecmp(w->nics[i]->name, name) == 0)
			return w->nics[i];
	return NULL;
}

struct world_nic *
world_nic_find_id(struct world *w, const char *id)
{
	size_t i;

	for (i = 0; i < w->nnics; i++)
		if (!w->nics[i]->deleted && strcasecmp(w->nics[i]->id, id) == 0)
			return w->nics[i];
	return NULL;
}

struct world_op *
world_op_find(struct world *w, const char *id)
{
	size_t i;

	for (i = 0; i < w->nops; i++)
		if (strcasecmp(w->ops[i]->id, id) == 0)
			return w->ops[i];
	return NULL;
}

static void
world_wake(struct sim *sim, void *arg)
{
	struct world *w = world_of(sim);

	(void)arg;
	if (w != NULL)
		world_process_due(w);
}

void
world_wake_in(struct world *w, double sim_seconds)
{
	/* A hair later than due, so that the due check below sees it passed. */
	sim_after(w->sim, sim_seconds + 1e-6, world_wake, NULL);
}

struct world_op *
world_op_new(
    struct world *w, const char *provider, int kind, const char *target, double sim_seconds)
{
	struct world_op *op = nap_xcalloc(1, sizeof(*op));
	char id[40], ts[40];

	world_uuid(w, id, sizeof(id));
	sim_rfc3339(w->sim, ts, sizeof(ts));
	op->id = nap_xstrdup(id);
	op->provider = nap_xstrdup(provider);
	op->start = nap_xstrdup(ts);
	op->kind = kind;
	op->target = target ? nap_xstrdup(target) : NULL;
	op->due = sim_elapsed(w->sim) + sim_seconds;
	nap_xgrow(&w->ops, &w->aops, w->nops + 1, sizeof(*w->ops));
	w->ops[w->nops++] = op;
	if (sim_seconds <= 0 && kind == WORLD_OP_NONE) {
		op->done = 1;
		op->done_real = sim_now(w->sim);
		op->end = nap_xstrdup(ts);
	} else {
		world_wake_in(w, sim_seconds > 0 ? sim_seconds : 0);
	}
	return op;
}

static void
op_free(struct world_op *op)
{
	free(op->id);
	free(op->provider);
	free(op->start);
	free(op->end);
	if (op->error)
		json_object_put(op->error);
	free(op->target);
	free(op->fail_code);
	free(op->fail_msg);
	free(op);
}

void
world_vm_free(struct world_vm *vm)
{
	free(vm->name);
	free(vm->id);
	if (vm->body)
		json_object_put(vm->body);
	if (vm->boot)
		json_object_put(vm->boot);
	free(vm->nic_id);
	free(vm->computer_name);
	free(vm->vm_uuid);
	free(vm->node_name);
	free(vm);
}

static void
nic_free(struct world_nic *nic)
{
	free(nic->name);
	free(nic->id);
	json_object_put(nic->body);
	free(nic->vm_id);
	free(nic);
}

/*
 * Forget what clients can no longer ask about: operations finished an hour
 * ago (real time, since clients poll on their own clock), deleted NICs, and
 * deleted VMs whose Node is gone.  Order is kept: the newest operation of a
 * VM is the last one.
 */
static void
world_sweep(struct world *w)
{
	double now = sim_now(w->sim);
	size_t i, j;

	for (i = j = 0; i < w->nops; i++) {
		if (w->ops[i]->done && now - w->ops[i]->done_real > 3600)
			op_free(w->ops[i]);
		else
			w->ops[j++] = w->ops[i];
	}
	w->nops = j;
	for (i = j = 0; i < w->nvms; i++) {
		struct world_vm *vm = w->vms[i];

		if (vm->deleted && (vm->node == NODE_DELETED || vm->node == NODE_NONE))
			world_vm_free(vm);
		else
			w->vms[j++] = vm;
	}
	w->nvms = j;
	for (i = j = 0; i < w->nnics; i++) {
		if (w->nics[i]->deleted)
			nic_free(w->nics[i]);
		else
			w->nics[j++] = w->nics[i];
	}
	w->nnics = j;
}

void
world_process_due(struct world *w)
{
	double now = sim_elapsed(w->sim);
	char ts[40];
	size_t i;

	for (i = 0; i < w->nops; i++) {
		struct world_op *op = w->ops[i];

		if (op->done || op->due > now)
			continue;
		op->done = 1;
		op->done_real = sim_now(w->sim);
		sim_rfc3339(w->sim, ts, sizeof(ts));
		op->end = nap_xstrdup(ts);
		arm_vm_complete(w, op);
	}
	for (i = 0; i < w->nvms; i++) {
		struct world_vm *vm = w->vms[i];

		if (vm->node != NODE_NONE && vm->node != NODE_DELETED &&
		    vm->node != NODE_INITIALIZED && vm->node_at <= now)
			kubelet_step(w, vm);
	}
	world_sweep(w);
}

/* Load the region's VM sizes from the catalog into plain structs. */
static int
world_load_sizes(struct world *w, const struct sim_opts *o, struct nap_err *err)
{
	struct nap_catalog *cat = NULL;
	size_t i, j;

	if (nap_catalog_load(&cat, o->catalog, w->region, NULL, err) < 0)
		return -1;
	w->catalog = cat;
	w->zones = 0;
	for (i = 0; i < cat->nzones; i++)
		if (cat->zones[i] > 0 && cat->zones[i] < 31)
			w->zones |= 1 << cat->zones[i];
	w->sizes = nap_xcalloc(cat->ntypes ? cat->ntypes : 1, sizeof(*w->sizes));
	for (i = 0; i < cat->ntypes; i++) {
		const struct nap_itype *t = &cat->types[i];
		struct world_size *s = &w->sizes[w->nsizes++];

		s->name = t->name;
		s->vcpus = t->vcpus;
		s->memory_mib = t->memory_mib;
		s->gpus = t->gpus;
		s->gpu_manufacturer = t->gpu_manufacturer;
		s->arch = t->arch;
		s->family = t->quota_family;
		s->premium_io = t->premium_io;
		s->accel_net = t->accel_net;
		s->hyperv = t->hyperv;
		s->ephemeral_os_max_gb = t->ephemeral_os_max_gb;
		s->itype = t;
		for (j = 0; j < t->noff; j++) {
			if (t->off[j].zone > 0 && t->off[j].zone < 31)
				s->zones |= 1 << t->off[j].zone;
			if (t->off[j].spot)
				s->spot = 1;
		}
	}
	return 0;
}

static void
world_tunable(struct world *w, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[64], *end;
	double v;
	int b;

	if (eq == NULL || (size_t)(eq - kv) >= sizeof(key)) {
		nap_warn("--world %s: expected KEY=VALUE", kv);
		return;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	eq++;
	if (strcmp(key, "scheduler") == 0 || strcmp(key, "kubelet") == 0) {
		if (world_parse_bool(eq, &b) < 0) {
			nap_warn("--world %s: expected on or off", kv);
			return;
		}
		if (key[0] == 's')
			w->scheduler_on = b;
		else
			w->kubelet_on = b;
		return;
	}
	v = strtod(eq, &end);
	if (end == eq || *end != '\0' || v < 0) {
		nap_warn("--world %s: expected a number >= 0", kv);
		return;
	}
	if (strcmp(key, "ready-delay") == 0)
		w->ready_delay = v;
	else if (strcmp(key, "startup-taint-delay") == 0)
		w->startup_delay = v;
	else if (strcmp(key, "node-gone-delay") == 0)
		w->gone_delay = v;
	else if (strcmp(key, "kubelet-audit") == 0)
		w->audit_gap = v;
	else if (strcmp(key, "pod-gc-delay") == 0)
		w->pod_gc_delay = v;
	else if (strcmp(key, "volume-detach-delay") == 0)
		w->detach_delay = v;
	else if (strcmp(key, "token-lifetime") == 0)
		w->token_lifetime = v;
	else if (strcmp(key, "max-pods") == 0 && v >= 1)
		w->max_pods_default = (int)v;
	else if (strcmp(key, "arm-page-size") == 0 && v >= 1)
		w->page_size = (size_t)v;
	else
		nap_warn("--world %s: unknown key %s", kv, key);
}

void
sim_world_init(struct sim *sim, const struct sim_opts *o)
{
	struct world *w = nap_xcalloc(1, sizeof(*w));
	struct nap_err err = {0};
	size_t i;

	w->sim = sim;
	w->opts = o;
	w->region = nap_xstrdup(o->region ? o->region : "eastus");
	w->sub =
	    nap_xstrdup(o->subscription ? o->subscription : "00000000-0000-0000-0000-000000000000");
	w->cluster = nap_xstrdup(o->cluster_name ? o->cluster_name : "nap-sim");
	w->rg = o->resource_group ? nap_xstrdup(o->resource_group)
				  : nap_xasprintf("MC_%s_%s_%s", w->cluster, w->cluster, w->region);
	w->tenant = nap_xstrdup(o->tenant ? o->tenant : "00000000-0000-0000-0000-000000000000");
	w->rng = o->seed;
	w->ready_delay = 5;
	w->startup_delay = 5;
	w->gone_delay = 5;
	w->detach_delay = 5;
	w->pod_gc_delay = 40; /* kube-controller-manager's PodGC quarantine */
	w->audit_gap = 5;
	w->token_lifetime = 86399;
	w->scheduler_on = 1;
	w->kubelet_on = 1;
	w->max_pods_default = 250;
	w->page_size = 1000;
	w->ip_next = 4;
	w->pod_ip_next = 2;
	w->bucket[0] = 250;
	w->bucket[1] = 200;
	w->bucket[2] = 200;
	w->faults.throttle_retry = 10;
	w->faults.error_status = 500;
	sim_set_world(sim, w);

	for (i = 0; i < o->nworld_args; i++)
		world_tunable(w, o->world_args[i]);
	if (world_load_sizes(w, o, &err) < 0) /* an ARM that knows no VM sizes is no use */
		nap_die(
		    err.code ? err.code : NAP_EX_CONFIG, "catalog for %s: %s", w->region, err.msg);
	for (i = 0; i < o->nfaults; i++) {
		json_object *doc = json_tokener_parse(o->faults[i]);

		nap_err_clear(&err);
		if (doc == NULL || !json_object_is_type(doc, json_type_object))
			nap_warn("--fault %s: not a JSON object", o->faults[i]);
		else if (fault_apply(w, doc, &err) < 0)
			nap_warn("--fault: %s", err.msg);
		json_object_put(doc);
	}
}

/* The passes run at most this often (real seconds), so a burst of writes
 * costs one scheduler pass, not one per write. */
#define WORLD_PASS_GAP 0.05

void
sim_world_tick(struct sim *sim)
{
	struct world *w = world_of(sim);
	int audit;

	if (w == NULL)
		return;
	world_process_due(w);
	if (sim_now(sim) - w->pass_last < WORLD_PASS_GAP)
		return;
	w->pass_last = sim_now(sim);
	/* The audit looks at what the change handlers have all seen. */
	audit = sim_now(sim) - w->kubelet_audit_last > w->audit_gap && !sim_changes_pending(sim);
	if (w->kubelet_on && (w->kubelet_dirty || audit)) {
		w->kubelet_dirty = 0;
		if (audit)
			w->kubelet_audit_last = sim_now(sim);
		kubelet_pass(w, audit);
	}
	/* Unschedulable pods are retried now and then even without news. */
	if (w->scheduler_on && (w->sched_dirty || sim_now(sim) - w->sched_last > 5.0)) {
		w->sched_dirty = 0;
		w->sched_last = sim_now(sim);
		sched_pass(w);
	}
}

static void
world_soon(struct sim *sim, void *arg)
{
	struct world *w = world_of(sim);

	(void)arg;
	if (w == NULL)
		return;
	w->soon_pending = 0;
	sim_world_tick(sim);
	/* Writes of this pass, or ones the gap held back, need another. */
	if ((w->sched_dirty || w->kubelet_dirty) && !w->soon_pending) {
		w->soon_pending = 1;
		sim_after(sim, WORLD_PASS_GAP * sim_scale(sim), world_soon, NULL);
	}
}

void
sim_world_on_change(struct sim *sim, const char *resource, const char *type, json_object *obj)
{
	struct world *w = world_of(sim);
	double wait;

	if (w == NULL)
		return;
	volume_on_change(w, resource, type, obj);
	if (strcmp(resource, "pods") != 0 && strcmp(resource, "nodes") != 0)
		return;
	kubelet_on_change(w, resource, type, obj);
	/*
	 * Like kube-scheduler's unschedulable queue, a pod found unschedulable
	 * is tried again only after a change that might help it: a node, a
	 * pod going away, or a bound pod changing (its labels count for
	 * affinity and spread).  New or updated pending pods help no one.
	 */
	if (strcmp(resource, "nodes") == 0 || strcmp(type, "DELETED") == 0 ||
	    *nap_json_str(obj, "spec.nodeName", "") != '\0')
		w->sched_epoch++;
	w->sched_dirty = 1;
	w->kubelet_dirty = 1;
	if (!w->soon_pending) {
		w->soon_pending = 1;
		wait = w->pass_last + WORLD_PASS_GAP - sim_now(sim);
		sim_after(sim, wait > 0 ? wait * sim_scale(sim) : 0, world_soon, NULL);
	}
}

static json_object *
vm_save(const struct world_vm *vm)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(vm->name));
	json_object_object_add(o, "body", json_object_get(vm->body));
	if (vm->boot)
		json_object_object_add(o, "boot", json_object_get(vm->boot));
	json_object_object_add(o, "state", json_object_new_int(vm->state));
	json_object_object_add(o, "node", json_object_new_int(vm->node));
	return o;
}

json_object *
sim_world_save(struct sim *sim)
{
	struct world *w = world_of(sim);
	json_object *o, *a;
	size_t i;

	if (w == NULL)
		return NULL;
	o = json_object_new_object();
	a = json_object_new_array();
	for (i = 0; i < w->nvms; i++)
		if (!w->vms[i]->deleted)
			json_object_array_add(a, vm_save(w->vms[i]));
	json_object_object_add(o, "vms", a);
	a = json_object_new_array();
	for (i = 0; i < w->nnics; i++) {
		if (w->nics[i]->deleted)
			continue;
		json_object_array_add(a, json_object_get(w->nics[i]->body));
	}
	json_object_object_add(o, "nics", a);
	a = json_object_new_array();
	for (i = 0; i < w->ntokens; i++) {
		json_object *t = json_object_new_object();

		json_object_object_add(t, "token", json_object_new_string(w->tokens[i].token));
		json_object_object_add(
		    t, "expiresOn", json_object_new_double(w->tokens[i].expires_on));
		json_object_array_add(a, t);
	}
	json_object_object_add(o, "tokens", a);
	json_object_object_add(o, "faults", fault_to_json(w));
	json_object_object_add(o, "rng", json_object_new_uint64(w->rng));
	json_object_object_add(o, "ipNext", json_object_new_uint64(w->ip_next));
	json_object_object_add(o, "podIPNext", json_object_new_uint64(w->pod_ip_next));
	return o;
}

void
sim_world_load(struct sim *sim, json_object *state)
{
	struct world *w = world_of(sim);
	struct nap_err err = {0};
	json_object *a, *f;
	size_t i, n;

	if (w == NULL || state == NULL)
		return;
	a = nap_json_array(state, "nics", &n);
	for (i = 0; i < n; i++)
		arm_nic_restore(w, json_object_array_get_idx(a, i));
	a = nap_json_array(state, "vms", &n);
	for (i = 0; i < n; i++)
		arm_vm_restore(w, json_object_array_get_idx(a, i));
	a = nap_json_array(state, "tokens", &n);
	for (i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(a, i);
		const char *tok = nap_json_str(t, "token", NULL);
		json_object *e = nap_json_get(t, "expiresOn");

		if (tok == NULL || e == NULL)
			continue;
		nap_xgrow(&w->tokens, &w->atokens, w->ntokens + 1, sizeof(*w->tokens));
		w->tokens[w->ntokens].token = nap_xstrdup(tok);
		w->tokens[w->ntokens++].expires_on = json_object_get_double(e);
	}
	if ((f = nap_json_get(state, "faults")) != NULL && fault_apply(w, f, &err) < 0)
		nap_warn("state: faults: %s", err.msg);
	if ((f = nap_json_get(state, "rng")) != NULL)
		w->rng = json_object_get_uint64(f);
	if ((f = nap_json_get(state, "ipNext")) != NULL)
		w->ip_next = json_object_get_uint64(f);
	if ((f = nap_json_get(state, "podIPNext")) != NULL)
		w->pod_ip_next = json_object_get_uint64(f);
	w->sched_dirty = w->kubelet_dirty = 1;
	w->kubelet_full = 1;
}

void
sim_world_fini(struct sim *sim)
{
	struct world *w = world_of(sim);
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nvms; i++)
		world_vm_free(w->vms[i]);
	free(w->vms);
	for (i = 0; i < w->nnics; i++)
		nic_free(w->nics[i]);
	free(w->nics);
	for (i = 0; i < w->nops; i++)
		op_free(w->ops[i]);
	free(w->ops);
	for (i = 0; i < w->ntokens; i++)
		free(w->tokens[i].token);
	free(w->tokens);
	kubelet_fini(w);
	sched_fini(w);
	gallery_fini(w);
	fault_reset(w);
	free(w->faults.cap);
	free(w->sizes);
	if (w->catalog)
		nap_catalog_free(w->catalog);
	free(w->region);
	free(w->sub);
	free(w->cluster);
	free(w->rg);
	free(w->tenant);
	sim_set_world(sim, NULL);
	free(w);
}
