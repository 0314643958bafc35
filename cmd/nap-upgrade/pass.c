/*
 * pass.c - one reconcile pass of nap-upgrade: the API server's version,
 * the maintenance window, the newest image of each definition (asked of
 * Azure's community galleries, or of AKS's nodeImageVersions for the
 * managed galleries; cached three days), then for each
 * AKSNodeClass its status (lib/upgrade) and for each of its NodeClaims
 * the drift checks (lib/drift) — written to the API server, or with --plan
 * reported as UpgradePlan records and nothing written.  It is also nap's
 * hash controller: the NodePool and AKSNodeClass hashes (lib/drift) are
 * stamped on their objects, and on NodeClaims stamped under another hash
 * version.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "clock.h"
#include "drift.h"
#include "image.h"
#include "json.h"
#include "log.h"
#include "prog.h"
#include "text.h"
#include "up.h"
#include "upgrade.h"
#include "wellknown.h"

#define GALLERY_API "2023-07-03"
#define AKS_API "2024-04-02-preview" /* nodeImageVersions, as the provider asks */
#define MAX_PAGES 100		     /* of nodeImageVersions: a bound on a looping nextLink */
#define CACHE_MS (INT64_C(3) * 24 * 3600 * 1000) /* the provider's ImageExpirationInterval */
#define CM_NAME "upcoming-maintenance-window"

int64_t
up_now(const struct up *u)
{
	return u->now_flag ? u->now_flag : nap_clock_wall_ms();
}

static json_object *
rfc3339(int64_t ms)
{
	char buf[NAP_CLOCK_RFC3339_LEN];

	nap_clock_rfc3339(ms, buf, sizeof(buf));
	return json_object_new_string(buf);
}

/* The server's version: --kubernetes-version, else /version; NULL when unknown. */
static const char *
server_version(struct up *u)
{
	json_object *v = NULL;
	struct nap_err err;

	if (u->k8s_flag)
		return u->k8s_flag;
	if (u->kube == NULL)
		return NULL;
	if (nap_kube_get(u->kube, "/version", &v, &err) < 0) {
		if (err.code == NAP_EX_NOPERM)
			nap_die_err(&err);
		nap_warn("kubernetes version: %s (keeping %s)", err.msg,
		    u->server_version ? u->server_version : "none");
		return u->server_version;
	}
	free(u->server_version);
	u->server_version = nap_xstrdup(nap_json_str(v, "gitVersion", ""));
	json_object_put(v);
	if (*u->server_version == '\0') {
		free(u->server_version);
		u->server_version = NULL;
	}
	return u->server_version;
}

/*
 * The window as it stands now: the schedule in nap.conf, else the ConfigMap
 * (missing: open, as the provider fails open).  An unreadable or malformed
 * ConfigMap closes it for this pass (the provider's reconcile fails and
 * changes nothing), with a warning naming it.
 */
static struct nap_window
window(struct up *u, int *known)
{
	struct nap_window w;
	struct nap_err err;
	json_object *cm = NULL;
	char *path;

	*known = 1;
	if (u->have_sched)
		return u->sched;
	nap_window_from_configmap(&w, NULL, NULL);
	if (u->kube == NULL) {
		*known = 0; /* no API server: as if there were no ConfigMap */
		return w;
	}
	path = nap_url_path("/api/v1/namespaces", u->cfg.upgrade.maintenance_namespace, "configmaps",
	    CM_NAME, NULL);
	if (nap_kube_get(u->kube, path, &cm, &err) < 0) {
		if (err.http != 404) {
			nap_warn("configmap %s/%s: %s: the window counts as closed",
			    u->cfg.upgrade.maintenance_namespace, CM_NAME, err.msg);
			w.kind = NAP_WINDOW_FIXED;
			w.start_ms = w.end_ms = 0;
		}
		free(path);
		return w;
	}
	free(path);
	if (nap_window_from_configmap(&w, nap_json_key(cm, "data"), &err) < 0) {
		nap_warn("%s: the window counts as closed", err.msg);
		w.kind = NAP_WINDOW_FIXED;
		w.start_ms = w.end_ms = 0;
	}
	json_object_put(cm);
	return w;
}

/* Wait for the one call started: 0 and *out (the caller's), or -1 with err. */
static int
arm_wait(struct up *u, json_object **out, struct nap_err *err)
{
	struct nap_arm_call *c;
	const struct nap_arm_result *r;
	int rc;

	while ((c = nap_arm_done(u->arm)) == NULL)
		if (nap_arm_wait(u->arm, -1, 1000, err) < 0)
			return -1;
	r = nap_arm_result(c);
	rc = r->ok ? 0 : -1;
	if (r->ok)
		*out = r->body ? json_object_get(r->body) : json_object_new_object();
	else
		*err = r->err;
	nap_arm_call_free(c);
	return rc;
}

/* ARM GET, waited for: 0 and *out (the caller's), or -1 with err. */
static int
arm_get(struct up *u, const char *path, const char *api, json_object **out, struct nap_err *err)
{
	nap_arm_start(u->arm, "GET", path, api, NULL, 0, NULL);
	return arm_wait(u, out, err);
}

/*
 * AKS's nodeImageVersions for the region, every page in one {"value": [...]}:
 * 0 and *out (the caller's), or -1 with err.
 */
static int
node_image_versions(struct up *u, json_object **out, struct nap_err *err)
{
	json_object *page = NULL, *all = json_object_new_array(), *items;
	char *path = nap_url_path("/subscriptions", u->cfg.cluster.subscription_id, "providers",
	    "Microsoft.ContainerService", "locations", u->cfg.cluster.region, "nodeImageVersions",
	    NULL);
	int rc = arm_get(u, path, AKS_API, &page, err), pages = 1;

	free(path);
	while (rc == 0) {
		const char *next = nap_json_str(page, "nextLink", "");
		items = nap_json_key(page, "value");
		for (size_t i = 0; items && json_object_is_type(items, json_type_array) &&
				   i < json_object_array_length(items);
		     i++)
			json_object_array_add(all, json_object_get(json_object_array_get_idx(items, i)));
		if (*next == '\0')
			break;
		if (++pages > MAX_PAGES) {
			nap_err_set(err, NAP_EX_DATAERR, "nodeImageVersions: more than %d pages",
			    MAX_PAGES);
			rc = -1;
			break;
		}
		if (nap_arm_start_url(u->arm, next, NULL, err) == NULL) {
			rc = -1;
			break;
		}
		json_object_put(page);
		page = NULL;
		rc = arm_wait(u, &page, err);
	}
	json_object_put(page);
	if (rc < 0) {
		json_object_put(all);
		return -1;
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "value", all);
	return 0;
}

/* The gallery an image definition lives in: Azure Linux's are named V2..., V3... */
static const char *
gallery_of(const char *def)
{
	return nap_image_gallery(def[0] == 'V' ? "AzureLinux" : "Ubuntu");
}

/* Whether an answer of wall time at is still good (the cache's rule). */
static int
fresh(const struct up *u, int64_t at)
{
	return at >= u->fresh_after && up_now(u) - at < (int64_t)((double)CACHE_MS / u->scale);
}

/*
 * The newest version of def as Azure says now (a new answer, the caller's,
 * may be NULL), or -1 when Azure could not be asked.  The managed galleries
 * answer every definition in one list, kept for the cache's time.
 */
static int
ask(struct up *u, const char *def, char **version)
{
	json_object *list = NULL;
	struct nap_err err;
	char *path;
	const char *v;
	int64_t now = up_now(u);

	if (u->sig_sub) {
		if (u->sig_list == NULL || !fresh(u, u->sig_at)) {
			if (node_image_versions(u, &list, &err) < 0) {
				nap_warn("node image versions: %s", err.msg);
				return -1;
			}
			json_object_put(u->sig_list);
			u->sig_list = list;
			u->sig_at = now;
		}
		v = nap_image_sig_latest(u->sig_list, def);
		*version = v ? nap_xstrdup(v) : NULL;
		return 0;
	}
	path = nap_url_path("/subscriptions", u->cfg.cluster.subscription_id, "providers",
	    "Microsoft.Compute", "locations", u->cfg.cluster.region, "communityGalleries",
	    gallery_of(def), "images", def, "versions", NULL);
	if (arm_get(u, path, GALLERY_API, &list, &err) < 0) {
		nap_warn("image versions of %s: %s", def, err.msg);
		free(path);
		return -1;
	}
	free(path);
	v = nap_image_latest(list);
	*version = v ? nap_xstrdup(v) : NULL;
	json_object_put(list);
	return 0;
}

/* lib/upgrade's lookup: pinned, else cached, else asked of Azure. */
static const char *
latest(void *arg, const char *def)
{
	struct up *u = arg;
	struct cached *c = nap_hash_get(&u->cache, def);
	const char *pin = nap_hash_get(&u->pinned, def);
	char *v;

	if (pin)
		return pin;
	if (c && fresh(u, c->at))
		return c->version;
	if (u->arm == NULL || ask(u, def, &v) < 0)
		return c ? c->version : NULL; /* the last answer, however old */
	if (c == NULL) {
		c = nap_xcalloc(1, sizeof(*c));
		nap_hash_put(&u->cache, def, c);
	}
	free(c->version);
	c->version = v;
	c->at = up_now(u);
	if (c->version == NULL)
		nap_warn("image %s: %s lists no version", def,
		    u->sig_sub ? "nodeImageVersions" : "the gallery");
	return c->version;
}

/* Forget the cache when the Kubernetes version moves (the provider's cache key). */
static void
cache_key(struct up *u, const char *k8s)
{
	size_t pos = 0;
	const char *key;
	void *v;

	if (u->cache_k8s && strcmp(u->cache_k8s, k8s) == 0)
		return;
	while (nap_hash_next(&u->cache, &pos, &key, &v)) {
		free(((struct cached *)v)->version);
		free(v);
	}
	nap_hash_free(&u->cache);
	nap_hash_init(&u->cache);
	json_object_put(u->sig_list);
	u->sig_list = NULL;
	free(u->cache_k8s);
	u->cache_k8s = nap_xstrdup(k8s);
}

/* The class as it will be with status st: a new struct, or NULL (warned). */
static struct nap_nodeclass *
class_with(const struct nap_nodeclass *c, json_object *st)
{
	json_object *copy = NULL;
	struct nap_nodeclass *n = nap_xcalloc(1, sizeof(*n));
	struct nap_err err;

	json_object_deep_copy(c->meta.raw, &copy, NULL);
	json_object_object_add(copy, "status", json_object_get(st));
	if (nap_nodeclass_from_json(n, copy, &err) < 0) {
		nap_warn("aksnodeclass %s: its new status does not read back: %s", c->meta.name,
		    err.msg);
		free(n);
		n = NULL;
	}
	json_object_put(copy);
	return n;
}

static int
write_class(struct up *u, const struct nap_nodeclass *c, json_object *st)
{
	json_object *p = json_object_new_object(), *md = json_object_new_object();
	struct nap_err err;
	char *path = nap_url_path("/apis/karpenter.azure.com/v1beta1/aksnodeclasses", c->meta.name,
	    "status", NULL);
	int rc;

	/* resourceVersion: a class changed meanwhile is a 409, looked at again next pass. */
	if (*c->meta.rv)
		json_object_object_add(md, "resourceVersion", json_object_new_string(c->meta.rv));
	json_object_object_add(p, "metadata", md);
	json_object_object_add(p, "status", json_object_get(st));
	rc = nap_kube_patch(u->kube, path, "merge", p, NULL, &err);
	if (rc < 0 && err.code == NAP_EX_NOPERM)
		nap_die(NAP_EX_NOPERM, "aksnodeclass %s: status: %s", c->meta.name, err.msg);
	if (rc < 0)
		nap_warn("aksnodeclass %s: status: %s", c->meta.name, err.msg);
	else {
		u->class_writes++;
		nap_info("aksnodeclass %s: status: kubernetesVersion %s, %zu images", c->meta.name,
		    nap_json_str(st, "kubernetesVersion", "?"),
		    json_object_array_length(nap_json_key(st, "images")));
	}
	json_object_put(p);
	free(path);
	return rc;
}

/*
 * Set (reason non-NULL) or clear the NodeClaim's Drifted condition: its
 * other conditions are sent back as they are, with its resourceVersion.
 */
static int
write_drift(struct up *u, const struct nap_nodeclaim *nc, const char *reason, int64_t now)
{
	json_object *old = nap_json_get(nc->meta.raw, "status.conditions");
	json_object *conds = json_object_new_array(), *p, *md, *st;
	struct nap_err err;
	char *path;
	int rc;

	for (size_t i = 0; old && json_object_is_type(old, json_type_array) &&
			   i < json_object_array_length(old);
	     i++) {
		json_object *c = json_object_array_get_idx(old, i);

		if (strcmp(nap_json_str(c, "type", ""), "Drifted") != 0)
			json_object_array_add(conds, json_object_get(c));
	}
	if (reason) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "type", json_object_new_string("Drifted"));
		json_object_object_add(c, "status", json_object_new_string("True"));
		json_object_object_add(c, "reason", json_object_new_string(reason));
		json_object_object_add(c, "message", json_object_new_string(reason));
		json_object_object_add(c, "lastTransitionTime", rfc3339(now));
		json_object_object_add(
		    c, "observedGeneration", json_object_new_int64(nc->meta.generation));
		json_object_array_add(conds, c);
	}
	p = json_object_new_object();
	md = json_object_new_object();
	st = json_object_new_object();
	if (*nc->meta.rv)
		json_object_object_add(md, "resourceVersion", json_object_new_string(nc->meta.rv));
	json_object_object_add(p, "metadata", md);
	json_object_object_add(st, "conditions", conds);
	json_object_object_add(p, "status", st);
	path = nap_url_path("/apis/karpenter.sh/v1/nodeclaims", nc->meta.name, "status", NULL);
	rc = nap_kube_patch(u->kube, path, "merge", p, NULL, &err);
	if (rc < 0)
		nap_warn("nodeclaim %s: %s Drifted: %s", nc->meta.name, reason ? "set" : "clear",
		    err.msg);
	json_object_put(p);
	free(path);
	return rc;
}

static void
emit_drifted(const struct nap_nodeclaim *nc, const struct nap_nodeclass *c, const char *reason)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "type", json_object_new_string("Drifted"));
	json_object_object_add(r, "nodeClaim", json_object_new_string(nc->meta.name));
	json_object_object_add(r, "nodePool", json_object_new_string(nc->nodepool ? nc->nodepool : ""));
	json_object_object_add(r, "nodeClass", json_object_new_string(c->meta.name));
	json_object_object_add(r, "reason", json_object_new_string(reason));
	nap_emit(r);
	json_object_put(r);
}

/*
 * Merge annotations ann into the object at path (no resourceVersion: only
 * nap's own keys change, so a concurrent writer loses nothing).  Takes ann.
 */
static int
write_annotations(struct up *u, const char *path, const char *what, json_object *ann)
{
	json_object *p = json_object_new_object(), *md = json_object_new_object();
	struct nap_err err;
	int rc;

	json_object_object_add(md, "annotations", ann);
	json_object_object_add(p, "metadata", md);
	rc = nap_kube_patch(u->kube, path, "merge", p, NULL, &err);
	if (rc < 0 && err.code == NAP_EX_NOPERM)
		nap_die(NAP_EX_NOPERM, "%s: hash: %s", what, err.msg);
	if (rc < 0)
		nap_warn("%s: hash: %s", what, err.msg);
	json_object_put(p);
	return rc;
}

/* Stamp hash and version on an object whose annotations say otherwise (Karpenter's hash controllers). */
static void
stamp_hash(struct up *u, const struct nap_meta *m, const char *collection, const char *what,
    const char *key, const char *vkey, const char *hash, const char *version)
{
	json_object *ann;
	char *path, *name;
	const char *h = nap_meta_annotation(m, key), *v = nap_meta_annotation(m, vkey);

	if (u->plan || m->deleted || (h && v && !strcmp(h, hash) && !strcmp(v, version)))
		return;
	ann = json_object_new_object();
	json_object_object_add(ann, key, json_object_new_string(hash));
	json_object_object_add(ann, vkey, json_object_new_string(version));
	path = nap_url_path(collection, m->name, NULL);
	name = nap_xasprintf("%s %s", what, m->name);
	if (write_annotations(u, path, name, ann) == 0)
		nap_info("%s: %s %s", name, key, hash);
	free(name);
	free(path);
}

/* The catalog InstanceTypeNotFound is judged against, loaded at the first pass; NULL when none. */
static const struct nap_catalog *
catalog(struct up *u)
{
	struct nap_err err;

	if (u->cat || u->cat_tried)
		return u->cat;
	u->cat_tried = 1;
	if (nap_catalog_load_config(&u->cat, &u->cfg, NULL, NULL, NULL, &err) < 0) {
		u->cat = NULL;
		if (u->cfg.cluster.region[0])
			nap_warn("%s: InstanceTypeNotFound is not checked", err.msg);
		else
			nap_debug("no region: InstanceTypeNotFound is not checked");
	}
	return u->cat;
}

/*
 * The drift of each NodeClaim of class c (as it will be), acted on or
 * listed in plan; then, acting, its hashes re-stamped when it carries
 * another hash version (without the hash when it is Drifted).
 */
static void
claims(struct up *u, const struct nap_nodeclass *c, json_object *plan, int64_t now)
{
	size_t n;
	struct nap_nodeclaim *const *ncs = nap_cluster_nodeclaims(u->cl, &n);
	struct nap_drift_in in = {0};

	in.nclass = c;
	in.cat = catalog(u);
	in.now_ms = now;
	in.itype_min_age_ms = (int64_t)((double)NAP_DRIFT_ITYPE_MIN_AGE_MS / u->scale);
	for (size_t i = 0; i < n; i++) {
		const struct nap_nodeclaim *nc = ncs[i];
		const struct nap_cond *dc = nap_cond_find(nc->conds, nc->nconds, "Drifted");
		const char *had = dc && dc->status == 1 ? dc->reason : NULL;
		enum nap_drift d;
		const char *why;
		json_object *ann;

		if (strcmp(nc->class_ref.name, c->meta.name) != 0 ||
		    strcmp(nc->class_ref.kind, "AKSNodeClass") != 0 || nc->meta.deleted)
			continue;
		in.nc = nc;
		in.node = nap_cluster_node_of(u->cl, nc);
		in.pool = nc->nodepool ? nap_cluster_nodepool(u->cl, nc->nodepool) : NULL;
		if (in.pool && in.pool->meta.deleted)
			in.pool = NULL;
		d = nap_drift_check(&in);
		why = nap_drift_reason(d);
		if (plan) {
			json_object *o;

			if (d == NAP_DRIFT_NONE)
				continue;
			o = json_object_new_object();
			json_object_object_add(o, "nodeClaim", json_object_new_string(nc->meta.name));
			json_object_object_add(o, "reason", json_object_new_string(why));
			json_object_array_add(plan, o);
			continue;
		}
		if (d != NAP_DRIFT_NONE && (had == NULL || strcmp(had, why) != 0)) {
			if (had && !nap_drift_reason_known(had))
				continue; /* drifted for a reason nap does not judge: leave it */
			if (write_drift(u, nc, why, now) == 0) {
				u->drift_marks++;
				nap_info("nodeclaim %s: drifted (%s)", nc->meta.name, why);
				emit_drifted(nc, c, why);
			}
		} else if (d == NAP_DRIFT_NONE && had && nap_drift_reason_known(had)) {
			if (write_drift(u, nc, NULL, now) == 0) {
				u->drift_clears++;
				nap_info("nodeclaim %s: no longer drifted (was %s)", nc->meta.name, had);
			}
		}
		if ((ann = nap_drift_restamp(nc, in.pool, c)) != NULL) {
			char *path = nap_url_path("/apis/karpenter.sh/v1/nodeclaims", nc->meta.name, NULL);
			char *what = nap_xasprintf("nodeclaim %s", nc->meta.name);

			if (d != NAP_DRIFT_NONE) { /* just marked: it keeps its old hashes */
				json_object_object_del(ann, NAP_ANN_NODEPOOL_HASH);
				json_object_object_del(ann, NAP_ANN_NODECLASS_HASH);
			}
			if (write_annotations(u, path, what, ann) == 0)
				nap_info("%s: hashes re-stamped under nap's hash version", what);
			free(what);
			free(path);
		}
	}
}

static json_object *
image_ids(json_object *images)
{
	json_object *out = json_object_new_array();

	for (size_t i = 0; images && json_object_is_type(images, json_type_array) &&
			   i < json_object_array_length(images);
	     i++)
		json_object_array_add(out,
		    json_object_new_string(nap_json_str(json_object_array_get_idx(images, i), "id", "")));
	return out;
}

static void
emit_plan(const struct nap_nodeclass *c, json_object *st, const struct nap_window *w, int known,
    int64_t now, json_object *drifted)
{
	json_object *r = json_object_new_object(), *k = json_object_new_object();
	json_object *im = json_object_new_object(), *win = json_object_new_object();
	int64_t end = 0, next = nap_window_next(w, now, &end);
	char *desc = nap_window_describe(w);

	json_object_object_add(r, "type", json_object_new_string("UpgradePlan"));
	json_object_object_add(r, "nodeClass", json_object_new_string(c->meta.name));
	json_object_object_add(k, "from", json_object_new_string(c->kubernetes_version));
	json_object_object_add(
	    k, "to", json_object_new_string(nap_json_str(st, "kubernetesVersion", "")));
	json_object_object_add(r, "kubernetesVersion", k);
	json_object_object_add(im, "from", image_ids(nap_json_get(c->meta.raw, "status.images")));
	json_object_object_add(im, "to", image_ids(nap_json_key(st, "images")));
	json_object_object_add(r, "images", im);
	json_object_object_add(win, "open", json_object_new_boolean(nap_window_open(w, now)));
	json_object_object_add(win, "known", json_object_new_boolean(known));
	json_object_object_add(win, "schedule", json_object_new_string(desc));
	json_object_object_add(win, "next",
	    w->kind == NAP_WINDOW_ALWAYS || next < 0 ? NULL : rfc3339(next));
	json_object_object_add(win, "end",
	    w->kind == NAP_WINDOW_ALWAYS || next < 0 ? NULL : rfc3339(end));
	json_object_object_add(r, "window", win);
	json_object_object_add(r, "drifted", json_object_get(drifted));
	json_object_object_add(r, "at", rfc3339(now));
	nap_emit(r);
	json_object_put(r);
	free(desc);
}

/* Every NodePool's hash on the NodePool, as Karpenter's hash controller keeps it. */
static void
pools(struct up *u)
{
	size_t n;
	struct nap_nodepool *const *nps = nap_cluster_nodepools(u->cl, &n);
	char hash[NAP_DRIFT_HASH_LEN];

	for (size_t i = 0; i < n && !u->plan; i++) {
		if (nps[i]->meta.raw == NULL)
			continue;
		nap_nodepool_hash(nps[i], hash);
		stamp_hash(u, &nps[i]->meta, "/apis/karpenter.sh/v1/nodepools", "nodepool",
		    NAP_ANN_NODEPOOL_HASH, NAP_ANN_NODEPOOL_HASH_VERSION, hash,
		    NAP_NODEPOOL_HASH_VERSION);
	}
}

void
up_pass(struct up *u)
{
	int64_t now = up_now(u);
	int known;
	struct nap_window w = window(u, &known);
	struct nap_upgrade_in in = {
	    .server_version = server_version(u),
	    .window_open = nap_window_open(&w, now),
	    .latest = latest,
	    .arg = u,
	    .now_ms = now,
	    .sig_subscription = u->sig_sub,
	};
	size_t n;
	struct nap_nodeclass *const *cls;

	u->passes++;
	pools(u);
	/*
	 * A window that has opened since an answer was cached asks again, so
	 * each window starts from the newest images, not from up to three days
	 * before it.  Always open (no window known): the cache alone decides.
	 */
	u->fresh_after = in.window_open && w.kind != NAP_WINDOW_ALWAYS ? nap_window_next(&w, now, NULL) : 0;
	cls = nap_cluster_nodeclasses(u->cl, &n);
	for (size_t i = 0; i < n; i++) {
		const struct nap_nodeclass *c = cls[i];
		struct nap_nodeclass *next;
		json_object *st, *plan = u->plan ? json_object_new_array() : NULL;
		int changed;

		if (c->meta.deleted || c->meta.raw == NULL)
			continue;
		cache_key(u, nap_upgrade_k8s_version(c, in.server_version));
		st = nap_upgrade_status(c, &in, &changed);
		if (!u->plan && changed && write_class(u, c, st) < 0) {
			json_object_put(st);
			continue; /* drift against a status not written would be a guess */
		}
		if (!u->plan) {
			char hash[NAP_DRIFT_HASH_LEN];

			nap_nodeclass_hash(c, hash);
			stamp_hash(u, &c->meta, "/apis/karpenter.azure.com/v1beta1/aksnodeclasses",
			    "aksnodeclass", NAP_ANN_NODECLASS_HASH, NAP_ANN_NODECLASS_HASH_VERSION, hash,
			    NAP_NODECLASS_HASH_VERSION);
		}
		next = class_with(c, st);
		if (next) {
			claims(u, next, plan, now);
			nap_nodeclass_free(next);
			free(next);
		}
		if (u->plan)
			emit_plan(c, st, &w, known, now, plan);
		json_object_put(plan);
		json_object_put(st);
	}
}

void
up_free(struct up *u)
{
	size_t pos = 0;
	const char *key;
	void *v;

	while (nap_hash_next(&u->cache, &pos, &key, &v)) {
		free(((struct cached *)v)->version);
		free(v);
	}
	nap_hash_free(&u->cache);
	pos = 0;
	while (nap_hash_next(&u->pinned, &pos, &key, &v))
		free(v);
	nap_hash_free(&u->pinned);
	free(u->cache_k8s);
	free(u->server_version);
	if (u->cat)
		nap_catalog_free(u->cat);
	json_object_put(u->sig_list);
}
