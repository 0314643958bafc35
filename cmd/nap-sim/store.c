/*
 * store.c - the Kubernetes object store: one sorted index per resource,
 * one resourceVersion counter, the history ring watches resume from, and
 * the queue of changes the controllers and the world react to.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "json.h"
#include "text.h"
#include "prog.h"

const char *const sim_ev_names[] = {"ADDED", "MODIFIED", "DELETED"};

int
sim_err_status(struct nap_err *err, int http, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nap_err_vset(err, http == 409 || http == 429 ? NAP_EX_TEMPFAIL : NAP_EX_DATAERR, fmt, ap);
	va_end(ap);
	if (err)
		err->http = http;
	return -1;
}

const char *
sim_qualified(int res, char *buf, size_t size)
{
	const struct sim_rdesc *d = &sim_rdescs[res];

	if (!*d->group)
		snprintf(buf, size, "%s", d->resource);
	else
		snprintf(buf, size, "%s.%s", d->resource, d->group);
	return buf;
}

static uint64_t rand_state;

static uint64_t
rand_next(void)
{
	uint64_t x;

	if (!rand_state) {
		struct timespec ts;
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (fd < 0 ||
		    read(fd, &rand_state, sizeof(rand_state)) != (ssize_t)sizeof(rand_state)) {
			clock_gettime(CLOCK_REALTIME, &ts);
			rand_state = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
		}
		if (fd >= 0)
			close(fd);
		rand_state |= 1;
	}
	x = rand_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rand_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

void
sim_rand_suffix(char *buf, size_t n)
{
	/* The alphabet Kubernetes uses for generated names: no vowels, no
	 * look-alikes, so generated names never spell words. */
	static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = alpha[rand_next() % (sizeof(alpha) - 1)];
	buf[n] = '\0';
}

void
sim_uuid(char *buf)
{
	uint64_t a = rand_next(), b = rand_next();

	snprintf(buf, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
	    (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
	    (unsigned)(0x8000 | ((b >> 48) & 0x3fff)), (unsigned long long)(b & 0xffffffffffffULL));
}

char *
sim_key(const char *ns, const char *name)
{
	if (ns && *ns)
		return nap_xasprintf("%s/%s", ns, name);
	return nap_xstrdup(name);
}

void
sim_store_init(struct sim *sim)
{
	sim->tables = nap_xcalloc(sim_nrdescs, sizeof(*sim->tables));
	nap_hash_init(&sim->event_keys);
	nap_hash_init(&sim->deferred);
	nap_hash_init(&sim->terminating);
	sim->hist_cap = sim->opts.history ? sim->opts.history : 10000;
	sim->hist = nap_xcalloc(sim->hist_cap, sizeof(*sim->hist));
}

static void
event_release(struct sim_event *ev)
{
	if (ev->obj)
		json_object_put(ev->obj);
	if (ev->old)
		json_object_put(ev->old);
	ev->obj = ev->old = NULL;
}

/* Free a hash whose values are heap blocks, values and all. */
static void
hash_free_all(struct nap_hash *h)
{
	size_t pos = 0;
	const char *k;
	void *v;

	while (nap_hash_next(h, &pos, &k, &v))
		free(v);
	nap_hash_free(h);
}

void
sim_store_free(struct sim *sim)
{
	size_t i, j;

	for (i = 0; i < sim_nrdescs; i++) {
		for (j = 0; j < sim->tables[i].n; j++) {
			free(sim->tables[i].v[j].key);
			json_object_put(sim->tables[i].v[j].obj);
		}
		free(sim->tables[i].v);
	}
	free(sim->tables);
	for (i = 0; i < sim->hist_n; i++)
		event_release(&sim->hist[(sim->hist_start + i) % sim->hist_cap]);
	free(sim->hist);
	for (i = sim->changes_head; i < sim->nchanges; i++)
		event_release(&sim->changes[i]);
	free(sim->changes);
	hash_free_all(&sim->event_keys);
	nap_hash_free(&sim->deferred);
	hash_free_all(&sim->terminating);
}

struct sim_table *
sim_table(struct sim *sim, int res)
{
	return &sim->tables[res];
}

/* Index of key, or of where it would go (with *found 0). */
static size_t
table_pos(const struct sim_table *t, const char *key, int *found)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->v[mid].key, key);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

struct sim_entry *
sim_table_find(struct sim_table *t, const char *key)
{
	int found;
	size_t i = table_pos(t, key, &found);

	return found ? &t->v[i] : NULL;
}

static void
table_insert(struct sim_table *t, char *key, json_object *obj)
{
	int found;
	size_t i = table_pos(t, key, &found);

	nap_xgrow(&t->v, &t->alloc, t->n + 1, sizeof(*t->v));
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
	t->v[i].key = key;
	t->v[i].obj = obj;
	t->n++;
}

static void
table_delete(struct sim_table *t, struct sim_entry *e)
{
	size_t i = (size_t)(e - t->v);

	free(e->key);
	json_object_put(e->obj);
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
}

static void
set_rv(json_object *obj, unsigned long long rv)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", rv);
	nap_json_set(obj, "metadata.resourceVersion", json_object_new_string(buf));
}

/* Record a change: history for resuming watches, fan-out, and the queue. */
static void
emit(struct sim *sim, int res, int type, json_object *obj, json_object *old)
{
	struct sim_event ev = {sim->rv, res, type, obj, old};
	struct sim_event *slot;

	if (type == SIM_EV_DELETED && !strcmp(sim_rdescs[res].resource, "pods"))
		free(nap_hash_del(&sim->terminating, nap_json_str(obj, "metadata.uid", "")));

	if (sim->hist_n == sim->hist_cap) {
		slot = &sim->hist[sim->hist_start];
		sim->horizon = slot->rv;
		event_release(slot);
		sim->hist_start = (sim->hist_start + 1) % sim->hist_cap;
		sim->hist_n--;
	}
	slot = &sim->hist[(sim->hist_start + sim->hist_n) % sim->hist_cap];
	*slot = ev;
	json_object_get(obj);
	if (old)
		json_object_get(old);
	sim->hist_n++;

	sim_watch_event(sim, &ev);

	if (sim->changes_head == sim->nchanges)
		sim->changes_head = sim->nchanges = 0;
	nap_xgrow(&sim->changes, &sim->changes_alloc, sim->nchanges + 1, sizeof(*sim->changes));
	sim->changes[sim->nchanges++] = ev;
	json_object_get(obj);
	if (old)
		json_object_get(old);
}

int
sim_changes_pending(const struct sim *sim)
{
	return sim->changes_head < sim->nchanges;
}

void
sim_changes_drain(struct sim *sim)
{
	/* Handlers write, which appends; indices stay valid across growth. */
	do {
		while (sim->changes_head < sim->nchanges) {
			struct sim_event ev = sim->changes[sim->changes_head++];

			sim_controllers_on_change(sim, &ev);
			sim_world_on_change(
			    sim, sim_rdescs[ev.res].resource, sim_ev_names[ev.type], ev.obj);
			event_release(&ev);
		}
		sim->changes_head = sim->nchanges = 0;
	} while (sim_controllers_flush(sim));
}

static const char *
obj_ns(json_object *obj)
{
	return nap_json_str(obj, "metadata.namespace", NULL);
}

static int
has_finalizers(json_object *obj)
{
	size_t n;

	nap_json_array(obj, "metadata.finalizers", &n);
	return n > 0;
}

/*
 * A finalizer obj has and cur, which is being deleted, has not: the API
 * server lets a deleting object lose finalizers, never gain one.
 */
static const char *
new_finalizer(json_object *obj, json_object *cur)
{
	size_t i, j, n, cn;
	json_object *f, *cf;

	if (!nap_json_get(cur, "metadata.deletionTimestamp"))
		return NULL;
	f = nap_json_array(obj, "metadata.finalizers", &n);
	cf = nap_json_array(cur, "metadata.finalizers", &cn);
	for (i = 0; f && i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(f, i));

		for (j = 0; s && cf && j < cn; j++) {
			const char *c = json_object_get_string(json_object_array_get_idx(cf, j));

			if (c && !strcmp(s, c))
				break;
		}
		if (!s)
			continue;
		if (!cf || j == cn)
			return s;
	}
	return NULL;
}

/* A pod whose kubelet has not yet confirmed its end (grace left). */
static int
in_grace(int res, json_object *obj)
{
	return !strcmp(sim_rdescs[res].resource, "pods") &&
	    nap_json_int(obj, "metadata.deletionGracePeriodSeconds", 0) > 0;
}

/*
 * 1 with a 422 in err, worded as the API server words it, when name is no
 * valid name for the resource: a DNS-1123 label for namespaces, a DNS-1123
 * subdomain for every other kind nap-sim serves but RBAC's, whose names
 * ("system:nap:reader") only need to sit in a path (rbac.c checks those).
 */
static int
name_invalid(int res, const char *name, struct nap_err *err)
{
	const struct sim_rdesc *d = &sim_rdescs[res];
	const char *why;
	char *q;

	if (strcmp(d->group, "rbac.authorization.k8s.io") == 0 ||
	    nap_k8s_name_check(name, strcmp(d->resource, "namespaces") == 0, &why) == 0)
		return 0;
	/* %q-like, and short: the Status must still say why after a 10,000-byte name */
	q = nap_text_quote(name, 64);
	sim_err_status(err, 422, "%s%s%s \"%s\" is invalid: metadata.name: Invalid value: \"%s\": %s",
	    d->kind, *d->group ? "." : "", d->group, q, q, why);
	free(q);
	return 1;
}

int
sim_create_res(struct sim *sim, int res, json_object *obj, json_object **out, struct nap_err *err)
{
	const struct sim_rdesc *d = &sim_rdescs[res];
	json_object *meta;
	const char *name, *ns, *gen;
	char q[128], buf[64], uid[40];
	char *key, *genname = NULL;

	if (out)
		*out = NULL;
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return sim_err_status(err, 400, "the body of the request is not a JSON object");
	}
	meta = json_object_object_get(obj, "metadata");
	if (!meta) {
		meta = json_object_new_object();
		json_object_object_add(obj, "metadata", meta);
	} else if (!json_object_is_type(meta, json_type_object)) {
		json_object_put(obj);
		return sim_err_status(err, 400, "metadata must be an object");
	}
	if (d->namespaced) {
		ns = obj_ns(obj);
		if (!ns || !*ns) {
			json_object_object_add(
			    meta, "namespace", json_object_new_string("default"));
			ns = "default";
		}
		key = sim_key("", ns);
		if (!sim_table_find(&sim->tables[sim_rdesc_find("namespaces")], key)) {
			sim_err_status(err, 404, "namespaces \"%s\" not found", ns);
			free(key);
			json_object_put(obj);
			return -1;
		}
		free(key);
	} else {
		ns = NULL;
		json_object_object_del(meta, "namespace");
	}
	name = nap_json_str(obj, "metadata.name", NULL);
	gen = nap_json_str(obj, "metadata.generateName", NULL);
	if ((!name || !*name) && gen && *gen) {
		char sfx[8];

		sim_rand_suffix(sfx, 5);
		genname = nap_xasprintf("%s%s", gen, sfx);
		json_object_object_add(meta, "name", json_object_new_string(genname));
		name = genname;
	}
	if (!name || !*name) {
		json_object_put(obj);
		return sim_err_status(err, 422,
		    "%s \"\" is invalid: metadata.name: Required value: name or generateName is "
		    "required",
		    d->kind);
	}
	if (name_invalid(res, name, err)) {
		free(genname);
		json_object_put(obj);
		return -1;
	}
	key = sim_key(ns, name);
	if (sim_table_find(&sim->tables[res], key)) {
		sim_err_status(
		    err, 409, "%s \"%s\" already exists", sim_qualified(res, q, sizeof(q)), name);
		free(key);
		free(genname);
		json_object_put(obj);
		return -1;
	}
	free(genname);

	if (!json_object_object_get(obj, "apiVersion")) {
		if (*d->group)
			snprintf(buf, sizeof(buf), "%s/%s", d->group, d->version);
		else
			snprintf(buf, sizeof(buf), "%s", d->version);
		json_object_object_add(obj, "apiVersion", json_object_new_string(buf));
	}
	json_object_object_add(obj, "kind", json_object_new_string(d->kind));
	sim_uuid(uid);
	json_object_object_add(meta, "uid", json_object_new_string(uid));
	sim_rfc3339(sim, buf, sizeof(buf));
	json_object_object_add(meta, "creationTimestamp", json_object_new_string(buf));
	json_object_object_add(meta, "generation", json_object_new_int64(1));
	json_object_object_del(meta, "deletionTimestamp");
	json_object_object_del(meta, "deletionGracePeriodSeconds");
	json_object_object_del(meta, "managedFields");
	sim_apply_defaults(res, obj);
	sim_canonical_quantities(res, obj);
	sim->rv++;
	set_rv(obj, sim->rv);
	table_insert(&sim->tables[res], key, obj);
	emit(sim, res, SIM_EV_ADDED, obj, NULL);
	if (out)
		*out = obj;
	return 0;
}

/* Fields the server owns: carried over from the stored version. */
static void
keep_server_fields(json_object *obj, json_object *cur, int deleting)
{
	static const char *const keep[] = {
	    "uid",
	    "creationTimestamp",
	    "deletionTimestamp",
	    "deletionGracePeriodSeconds",
	    "generation",
	};
	json_object *meta = json_object_object_get(obj, "metadata");
	json_object *cmeta = json_object_object_get(cur, "metadata");
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(keep); i++) {
		json_object *v = json_object_object_get(cmeta, keep[i]);

		if (deleting && (i == 2 || i == 3))
			continue;
		if (v)
			json_object_object_add(meta, keep[i], json_object_get(v));
		else
			json_object_object_del(meta, keep[i]);
	}
	if (!json_object_object_get(obj, "kind"))
		json_object_object_add(
		    obj, "kind", json_object_get(json_object_object_get(cur, "kind")));
	if (!json_object_object_get(obj, "apiVersion"))
		json_object_object_add(
		    obj, "apiVersion", json_object_get(json_object_object_get(cur, "apiVersion")));
}

static int
update(struct sim *sim, int res, json_object *obj, json_object **out, struct nap_err *err,
    int deleting)
{
	const struct sim_rdesc *d = &sim_rdescs[res];
	struct sim_table *t = &sim->tables[res];
	struct sim_entry *e;
	const char *name, *rv;
	json_object *meta, *cur;
	char q[128];
	char *key;

	if (out)
		*out = NULL;
	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_is_type(
		meta = json_object_object_get(obj, "metadata"), json_type_object)) {
		json_object_put(obj);
		return sim_err_status(err, 400, "the body of the request has no metadata object");
	}
	name = nap_json_str(obj, "metadata.name", "");
	key = sim_key(d->namespaced ? obj_ns(obj) : NULL, name);
	e = sim_table_find(t, key);
	free(key);
	if (!e) {
		sim_err_status(
		    err, 404, "%s \"%s\" not found", sim_qualified(res, q, sizeof(q)), name);
		json_object_put(obj);
		return -1;
	}
	cur = e->obj;
	rv = nap_json_str(obj, "metadata.resourceVersion", NULL);
	if (rv && *rv && strcmp(rv, nap_json_str(cur, "metadata.resourceVersion", ""))) {
		sim_err_status(err, 409,
		    "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
		    "please apply your changes to the latest version and try again",
		    sim_qualified(res, q, sizeof(q)), name);
		json_object_put(obj);
		return -1;
	}
	if (new_finalizer(obj, cur)) {
		sim_err_status(err, 422,
		    "%s \"%s\" is invalid: metadata.finalizers: Forbidden: no new finalizers can "
		    "be added if the object is being deleted, found new finalizers []string{\"%s\"}",
		    sim_qualified(res, q, sizeof(q)), name, new_finalizer(obj, cur));
		json_object_put(obj);
		return -1;
	}
	keep_server_fields(obj, cur, deleting);
	sim_canonical_quantities(res, obj);
	if (!d->namespaced)
		json_object_object_del(meta, "namespace");
	json_object_object_add(meta, "resourceVersion",
	    json_object_get(json_object_object_get(
		json_object_object_get(cur, "metadata"), "resourceVersion")));
	if (nap_json_equal(obj, cur)) {
		/* A no-op write changes nothing, as on a real server. */
		json_object_put(obj);
		if (out)
			*out = cur;
		return 0;
	}
	if (!nap_json_equal(
		json_object_object_get(obj, "spec"), json_object_object_get(cur, "spec")))
		json_object_object_add(meta, "generation",
		    json_object_new_int64(nap_json_int(cur, "metadata.generation", 1) + 1));
	sim->rv++;
	set_rv(obj, sim->rv);
	if (nap_json_get(obj, "metadata.deletionTimestamp") && !has_finalizers(obj) &&
	    !in_grace(res, obj)) {
		json_object_get(cur);
		table_delete(t, e);
		emit(sim, res, SIM_EV_DELETED, obj, cur);
		json_object_put(cur);
		/* The caller's borrowed pointer must outlive the table entry. */
		if (out)
			*out = obj;
		json_object_put(obj);
		return 0;
	}
	/* cur is e->obj: hold it before the table lets go, or it may be freed here. */
	json_object_get(cur);
	json_object_put(e->obj);
	e->obj = obj;
	emit(sim, res, SIM_EV_MODIFIED, obj, cur);
	json_object_put(cur);
	if (out)
		*out = obj;
	return 0;
}

int
sim_update_res(struct sim *sim, int res, json_object *obj, json_object **out, struct nap_err *err)
{
	return update(sim, res, obj, out, err, 0);
}

void
sim_remove(struct sim *sim, int res, const char *key)
{
	struct sim_table *t = &sim->tables[res];
	struct sim_entry *e = sim_table_find(t, key);
	json_object *last;

	if (!e)
		return;
	last = sim_dup(e->obj);
	sim->rv++;
	set_rv(last, sim->rv);
	table_delete(t, e);
	emit(sim, res, SIM_EV_DELETED, last, NULL);
	json_object_put(last);
}

int
sim_delete_res(struct sim *sim, int res, const char *ns, const char *name, json_object **out,
    struct nap_err *err)
{
	const struct sim_rdesc *d = &sim_rdescs[res];
	struct sim_table *t = &sim->tables[res];
	struct sim_entry *e;
	json_object *obj;
	char q[128], buf[40];
	char *key;

	if (out)
		*out = NULL;
	key = sim_key(d->namespaced ? ns : NULL, name);
	e = sim_table_find(t, key);
	if (!e) {
		free(key);
		return sim_err_status(
		    err, 404, "%s \"%s\" not found", sim_qualified(res, q, sizeof(q)), name);
	}
	if (has_finalizers(e->obj)) {
		if (nap_json_get(e->obj, "metadata.deletionTimestamp")) {
			free(key);
			if (out)
				*out = json_object_get(e->obj);
			return 0;
		}
		obj = sim_dup(e->obj);
		sim_rfc3339(sim, buf, sizeof(buf));
		nap_json_set(obj, "metadata.deletionTimestamp", json_object_new_string(buf));
		/* An immediate delete: nothing but the finalizers holds a pod. */
		if (res == sim_rdesc_find("pods"))
			nap_json_set(
			    obj, "metadata.deletionGracePeriodSeconds", json_object_new_int64(0));
		free(key);
		if (update(sim, res, obj, &obj, err, 1) < 0)
			return -1;
		if (out)
			*out = json_object_get(obj);
		return 0;
	}
	if (out) {
		*out = json_object_get(e->obj);
	}
	sim_remove(sim, res, key);
	free(key);
	return 0;
}

/* The public store API of sim.h, by resource name. */

static int
res_or_err(const char *resource, struct nap_err *err)
{
	int res = sim_rdesc_find(resource);

	if (res < 0)
		sim_err_status(err, 404, "the server could not find the requested resource (%s)",
		    resource ? resource : "");
	return res;
}

json_object *
sim_get(struct sim *sim, const char *resource, const char *ns, const char *name)
{
	int res = sim_rdesc_find(resource);
	struct sim_entry *e;
	char *key;

	if (res < 0 || !name)
		return NULL;
	key = sim_key(sim_rdescs[res].namespaced ? ns : NULL, name);
	e = sim_table_find(&sim->tables[res], key);
	free(key);
	return e ? e->obj : NULL;
}

int
sim_create(
    struct sim *sim, const char *resource, json_object *obj, json_object **out, struct nap_err *err)
{
	int res = res_or_err(resource, err);

	if (res < 0) {
		json_object_put(obj);
		return -1;
	}
	return sim_create_res(sim, res, obj, out, err);
}

int
sim_update(
    struct sim *sim, const char *resource, json_object *obj, json_object **out, struct nap_err *err)
{
	int res = res_or_err(resource, err);

	if (res < 0) {
		json_object_put(obj);
		return -1;
	}
	return sim_update_res(sim, res, obj, out, err);
}

int
sim_delete(
    struct sim *sim, const char *resource, const char *ns, const char *name, struct nap_err *err)
{
	json_object *last;
	int res = res_or_err(resource, err);

	if (res < 0)
		return -1;
	if (sim_delete_res(sim, res, ns, name, &last, err) < 0)
		return -1;
	json_object_put(last);
	return 0;
}

void
sim_foreach(struct sim *sim, const char *resource, const char *ns_or_NULL,
    int (*fn)(struct sim *, json_object *, void *), void *arg)
{
	int res = sim_rdesc_find(resource);
	struct sim_table *t;
	size_t i = 0, plen = 0;
	char *prefix = NULL;
	int found;

	if (res < 0)
		return;
	t = &sim->tables[res];
	if (ns_or_NULL && *ns_or_NULL && sim_rdescs[res].namespaced) {
		prefix = nap_xasprintf("%s/", ns_or_NULL);
		plen = strlen(prefix);
		i = table_pos(t, prefix, &found);
	}
	for (; i < t->n; i++) {
		if (prefix && strncmp(t->v[i].key, prefix, plen))
			break;
		if (fn(sim, t->v[i].obj, arg))
			break;
	}
	free(prefix);
}

size_t
sim_count(struct sim *sim, const char *resource)
{
	int res = sim_rdesc_find(resource);

	return res < 0 ? 0 : sim->tables[res].n;
}

json_object *
sim_dup(json_object *obj)
{
	json_object *copy = NULL;

	if (!obj)
		return NULL;
	if (json_object_deep_copy(obj, &copy, NULL) < 0)
		nap_die(NAP_EX_SOFTWARE, "unable to copy an object");
	return copy;
}

unsigned long long
sim_rv(const struct sim *sim)
{
	return sim->rv;
}

void
sim_event(
    struct sim *sim, json_object *obj, const char *type, const char *reason, const char *fmt, ...)
{
	json_object *ev, *io, *src;
	const char *ns = nap_json_str(obj, "metadata.namespace", NULL);
	const char *name = nap_json_str(obj, "metadata.name", "");
	char buf[40], sfx[20];
	char *msg, *evname, *dkey, *old;
	struct sim_entry *e;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		nap_die(NAP_EX_SOFTWARE, "out of memory");
	va_end(ap);
	sim_rfc3339(sim, buf, sizeof(buf));

	/* The same thing happening again bumps count, as EventRecorder does. */
	dkey = nap_xasprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s", nap_json_str(obj, "metadata.uid", name),
	    ns ? ns : "", type, reason, msg);
	old = nap_hash_get(&sim->event_keys, dkey);
	e = old ? sim_table_find(&sim->tables[sim_rdesc_find("events")], old) : NULL;
	if (e) {
		ev = sim_dup(e->obj);
		json_object_object_add(
		    ev, "count", json_object_new_int64(nap_json_int(ev, "count", 1) + 1));
		json_object_object_add(ev, "lastTimestamp", json_object_new_string(buf));
		json_object_object_del(json_object_object_get(ev, "metadata"), "resourceVersion");
		sim_update(sim, "events", ev, NULL, NULL);
		free(dkey);
		free(msg);
		return;
	}

	snprintf(sfx, sizeof(sfx), "%llx", (unsigned long long)rand_next() & 0xffffffffffffULL);
	evname = nap_xasprintf("%s.%s", name, sfx);
	ev = json_object_new_object();
	nap_json_set(ev, "metadata.name", json_object_new_string(evname));
	nap_json_set(ev, "metadata.namespace", json_object_new_string(ns && *ns ? ns : "default"));
	io = json_object_new_object();
	json_object_object_add(
	    io, "apiVersion", json_object_new_string(nap_json_str(obj, "apiVersion", "v1")));
	json_object_object_add(io, "kind", json_object_new_string(nap_json_str(obj, "kind", "")));
	json_object_object_add(io, "name", json_object_new_string(name));
	if (ns)
		json_object_object_add(io, "namespace", json_object_new_string(ns));
	json_object_object_add(
	    io, "uid", json_object_new_string(nap_json_str(obj, "metadata.uid", "")));
	json_object_object_add(io, "resourceVersion",
	    json_object_new_string(nap_json_str(obj, "metadata.resourceVersion", "")));
	json_object_object_add(ev, "involvedObject", io);
	json_object_object_add(ev, "reason", json_object_new_string(reason));
	json_object_object_add(ev, "message", json_object_new_string(msg));
	json_object_object_add(ev, "type", json_object_new_string(type));
	src = json_object_new_object();
	json_object_object_add(src, "component", json_object_new_string("nap-sim"));
	json_object_object_add(ev, "source", src);
	json_object_object_add(ev, "firstTimestamp", json_object_new_string(buf));
	json_object_object_add(ev, "lastTimestamp", json_object_new_string(buf));
	json_object_object_add(ev, "count", json_object_new_int(1));
	json_object_object_add(ev, "reportingComponent", json_object_new_string("nap-sim"));
	if (sim_create(sim, "events", ev, NULL, NULL) == 0) {
		old = nap_hash_put(
		    &sim->event_keys, dkey, sim_key(ns && *ns ? ns : "default", evname));
		free(old);
	}
	free(dkey);
	free(evname);
	free(msg);
}

void
sim_events_gc(struct sim *sim)
{
	int res = sim_rdesc_find("events");
	struct sim_table *t = &sim->tables[res];
	time_t now = time(NULL);
	char **victims = NULL;
	size_t i, n = 0, alloc = 0;

	if (sim_now(sim) - sim->events_gc < 60)
		return;
	sim->events_gc = sim_now(sim);
	for (i = 0; i < t->n; i++) {
		struct tm tm;
		const char *ts = nap_json_str(t->v[i].obj, "lastTimestamp",
		    nap_json_str(t->v[i].obj, "metadata.creationTimestamp", ""));

		memset(&tm, 0, sizeof(tm));
		if (!strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) || now - timegm(&tm) < 3600)
			continue;
		nap_xgrow(&victims, &alloc, n + 1, sizeof(*victims));
		victims[n++] = nap_xstrdup(t->v[i].key);
	}
	for (i = 0; i < n; i++) {
		sim_remove(sim, res, victims[i]);
		free(victims[i]);
	}
	free(victims);
}

void
sim_watch_compact(struct sim *sim)
{
	size_t i;

	for (i = 0; i < sim->hist_n; i++)
		event_release(&sim->hist[(sim->hist_start + i) % sim->hist_cap]);
	sim->hist_start = sim->hist_n = 0;
	sim->horizon = sim->rv;
}

/* The key of table i in a state file: the resource, qualified by its group
 * when an earlier table serves the same name (events.k8s.io's events). */
static const char *
state_key(size_t i, char *buf, size_t size)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(sim_rdescs[j].resource, sim_rdescs[i].resource)) {
			snprintf(buf, size, "%s.%s", sim_rdescs[i].resource, sim_rdescs[i].group);
			return buf;
		}
	return sim_rdescs[i].resource;
}

json_object *
sim_store_save(struct sim *sim)
{
	json_object *state = json_object_new_object(), *objs;
	size_t i, j;

	json_object_object_add(state, "resourceVersion", json_object_new_int64((int64_t)sim->rv));
	objs = json_object_new_object();
	for (i = 0; i < sim_nrdescs; i++) {
		json_object *arr = json_object_new_array();
		char kb[128];

		for (j = 0; j < sim->tables[i].n; j++)
			json_object_array_add(arr, json_object_get(sim->tables[i].v[j].obj));
		json_object_object_add(objs, state_key(i, kb, sizeof(kb)), arr);
	}
	json_object_object_add(state, "objects", objs);
	return state;
}

int
sim_store_load(struct sim *sim, json_object *state, struct nap_err *err)
{
	json_object *objs = json_object_object_get(state, "objects");
	size_t i, j;

	if (!json_object_is_type(objs, json_type_object))
		return nap_err_set(err, NAP_EX_DATAERR, "no objects in the state");
	for (i = 0; i < sim_nrdescs; i++) {
		char kb[128];
		json_object *arr = json_object_object_get(objs, state_key(i, kb, sizeof(kb)));
		struct sim_table *t = &sim->tables[i];

		for (j = 0; j < t->n; j++) {
			free(t->v[j].key);
			json_object_put(t->v[j].obj);
		}
		t->n = 0;
		for (j = 0; arr && j < json_object_array_length(arr); j++) {
			json_object *o = json_object_array_get_idx(arr, j);
			const char *name = nap_json_str(o, "metadata.name", NULL);
			char *key;

			if (!name)
				continue;
			key = sim_key(sim_rdescs[i].namespaced
				? nap_json_str(o, "metadata.namespace", "")
				: NULL,
			    name);
			if (sim_table_find(t, key)) {
				free(key);
				continue;
			}
			table_insert(t, key, json_object_get(o));
		}
	}
	sim->rv = (unsigned long long)nap_json_int(state, "resourceVersion", 0);
	sim->horizon = sim->rv;
	return 0;
}

struct pending_delete {
	int res;
	char *key;
	char *uid;
};

static void
pending_free(void *arg)
{
	struct pending_delete *pd = arg;

	free(pd->key);
	free(pd->uid);
	free(pd);
}

/*
 * The kubelet's end of a graceful deletion: the containers have stopped
 * (or were killed at the end of the grace), so it deletes the pod with
 * grace 0.  Finalizers still hold it; their last removal then deletes it.
 */
static void
finish_delete(struct sim *sim, void *arg)
{
	struct pending_delete *pd = arg;
	struct sim_entry *e = sim_table_find(&sim->tables[pd->res], pd->key);
	json_object *obj;

	if (e && !strcmp(nap_json_str(e->obj, "metadata.uid", ""), pd->uid) &&
	    nap_json_get(e->obj, "metadata.deletionTimestamp")) {
		if (!has_finalizers(e->obj)) {
			sim_remove(sim, pd->res, pd->key);
		} else if (in_grace(pd->res, e->obj)) {
			obj = sim_dup(e->obj);
			nap_json_set(
			    obj, "metadata.deletionGracePeriodSeconds", json_object_new_int64(0));
			update(sim, pd->res, obj, NULL, NULL, 1);
		}
	}
	pending_free(pd);
}

/* How long the pod's containers really take to stop, in simulated seconds. */
static double
shutdown_seconds(json_object *pod)
{
	json_object *a = nap_json_key(nap_json_get(pod, "metadata.annotations"),
	    "sim.nap.dev/shutdown-seconds");
	const char *s = json_object_is_type(a, json_type_string) ? json_object_get_string(a) : NULL;
	char *end;
	double v;

	if (!s)
		return 1.0;
	v = strtod(s, &end);
	if (end == s || *end || !(v >= 0) || v > 1e9)
		return 1.0;
	return v;
}

/* Set the kubelet's confirmation for when the pod's grace or shutdown ends. */
static void
schedule_finish(struct sim *sim, int res, json_object *pod, const struct sim_term *t, long grace)
{
	struct pending_delete *pd = nap_xcalloc(1, sizeof(*pd));
	double end = shutdown_seconds(pod), due;

	if ((double)grace < end)
		end = (double)grace;
	due = t->start + end - sim_elapsed(sim);
	pd->res = res;
	pd->key = sim_key(nap_json_str(pod, "metadata.namespace", NULL),
	    nap_json_str(pod, "metadata.name", ""));
	pd->uid = nap_xstrdup(nap_json_str(pod, "metadata.uid", ""));
	sim_after_owned(sim, due > 0 ? due : 0, finish_delete, pd, pending_free);
}

/*
 * DELETE of a pod as the API server and the kubelet do it together.  A pod
 * that is not bound, or has finished, goes at once (grace 0).  Otherwise
 * grace < 0 takes spec.terminationGracePeriodSeconds (default 30); the pod
 * gets deletionTimestamp = now + grace and deletionGracePeriodSeconds =
 * grace and is removed when its containers stop (the
 * sim.nap.dev/shutdown-seconds annotation, default 1) or the grace ends,
 * whichever comes first.  A second DELETE may only shorten the grace,
 * counted from the first (the API server's rule); grace 0 removes the pod
 * now.  Finalizers hold the pod after that until they are removed.
 */
static int
delete_pod(struct sim *sim, int res, struct sim_entry *e, long grace, json_object **last,
    struct nap_err *err)
{
	json_object *obj;
	const char *phase = nap_json_str(e->obj, "status.phase", "Pending");
	const char *uid = nap_json_str(e->obj, "metadata.uid", "");
	struct sim_term *t;
	long cur = -1;
	char buf[40], *key;
	int added;

	if (!*nap_json_str(e->obj, "spec.nodeName", "") || !strcmp(phase, "Succeeded") ||
	    !strcmp(phase, "Failed"))
		grace = 0;
	else if (grace < 0)
		grace = (long)nap_json_int(e->obj, "spec.terminationGracePeriodSeconds", 30);
	if (grace < 0)
		grace = 0;
	if (nap_json_get(e->obj, "metadata.deletionTimestamp")) {
		cur = (long)nap_json_int(e->obj, "metadata.deletionGracePeriodSeconds", 0);
		if (grace >= cur) {
			*last = json_object_get(e->obj);
			return 0;
		}
	}
	if (grace == 0 && !has_finalizers(e->obj)) {
		*last = json_object_get(e->obj);
		key = nap_xstrdup(e->key);
		sim_remove(sim, res, key);
		free(key);
		return 0;
	}
	t = (struct sim_term *)nap_hash_get(&sim->terminating, uid);
	if (!t) {
		t = nap_xcalloc(1, sizeof(*t));
		t->start = sim_elapsed(sim);
		t->wall = (long long)time(NULL);
		*nap_hash_slot(&sim->terminating, uid, &added) = t;
	}
	obj = sim_dup(e->obj);
	sim_rfc3339_at(t->wall + grace, buf, sizeof(buf));
	nap_json_set(obj, "metadata.deletionTimestamp", json_object_new_string(buf));
	nap_json_set(obj, "metadata.deletionGracePeriodSeconds", json_object_new_int64(grace));
	if (update(sim, res, obj, &obj, err, 1) < 0)
		return -1;
	*last = json_object_get(obj);
	if (grace > 0)
		schedule_finish(sim, res, obj, t, grace);
	return 0;
}

int
sim_delete_graceful(struct sim *sim, int res, const char *ns, const char *name, long grace,
    json_object **last, struct nap_err *err)
{
	struct sim_entry *e;
	char *key;

	*last = NULL;
	if (strcmp(sim_rdescs[res].resource, "pods"))
		return sim_delete_res(sim, res, ns, name, last, err);
	key = sim_key(ns, name);
	e = sim_table_find(&sim->tables[res], key);
	free(key);
	if (!e)
		return sim_delete_res(sim, res, ns, name, last, err);
	return delete_pod(sim, res, e, grace, last, err);
}

/* Pods loaded terminating from --state finish their grace from now. */
void
sim_store_resume_terminating(struct sim *sim)
{
	int res = sim_rdesc_find("pods");
	struct sim_table *tb = &sim->tables[res];
	size_t i;
	int added;

	for (i = 0; i < tb->n; i++) {
		json_object *p = tb->v[i].obj;
		long grace = (long)nap_json_int(p, "metadata.deletionGracePeriodSeconds", 0);
		struct sim_term *t;

		if (!nap_json_get(p, "metadata.deletionTimestamp") || grace <= 0)
			continue;
		t = nap_xcalloc(1, sizeof(*t));
		t->start = sim_elapsed(sim);
		t->wall = (long long)time(NULL);
		free(*nap_hash_slot(&sim->terminating, nap_json_str(p, "metadata.uid", ""), &added));
		*nap_hash_slot(&sim->terminating, nap_json_str(p, "metadata.uid", ""), &added) = t;
		schedule_finish(sim, res, p, t, grace);
	}
}
