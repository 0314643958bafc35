/*
 * drift.c - NodePool and AKSNodeClass hashes, the drift reasons in
 * Karpenter's order, and the re-stamping of hashes (see drift.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "image.h"
#include "json.h"
#include "labels.h"
#include "nap.h"
#include "wellknown.h"

/* ---- order-free hashes of JSON values ---- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t
fnv(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * FNV_PRIME;
	return h;
}

/* The values Karpenter's hashing ignores (IgnoreZeroValue). */
static int
zero(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return !json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) == 0;
	case json_type_double:
		return json_object_get_double(v) == 0;
	case json_type_string:
		return json_object_get_string_len(v) == 0;
	case json_type_array:
		return json_object_array_length(v) == 0;
	case json_type_object:
		return json_object_object_length(v) == 0;
	}
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint64_t value_hash(json_object *v);

/* An object: its keys sorted, zero values and the key skip (may be NULL) left out. */
static uint64_t
object_hash(json_object *o, const char *skip)
{
	size_t n = 0, k = 0;
	const char **keys;
	uint64_t h = fnv("{", 1, FNV_OFFSET);

	json_object_object_foreach(o, key0, val0)
	{
		(void)key0;
		(void)val0;
		n++;
	}
	keys = nap_xcalloc(n ? n : 1, sizeof(*keys));
	json_object_object_foreach(o, key, val)
	{
		if (!zero(val) && !(skip && strcmp(key, skip) == 0))
			keys[k++] = key;
	}
	qsort(keys, k, sizeof(*keys), cmp_str);
	for (size_t i = 0; i < k; i++) {
		uint64_t vh = value_hash(json_object_object_get(o, keys[i]));

		h = fnv(keys[i], strlen(keys[i]) + 1, h);
		h = fnv(&vh, sizeof(vh), h);
	}
	free(keys);
	return h;
}

/* A list is a set (SlicesAsSets): its elements' hashes sorted, repeats once. */
static uint64_t
array_hash(json_object *a)
{
	size_t n = json_object_array_length(a), k = 0;
	uint64_t *hs = nap_xcalloc(n ? n : 1, sizeof(*hs));
	uint64_t h = fnv("[", 1, FNV_OFFSET);

	for (size_t i = 0; i < n; i++)
		hs[i] = value_hash(json_object_array_get_idx(a, i));
	qsort(hs, n, sizeof(*hs), cmp_u64);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || hs[i] != hs[k - 1])
			hs[k++] = hs[i];
	h = fnv(hs, k * sizeof(*hs), h);
	free(hs);
	return h;
}

static uint64_t
value_hash(json_object *v)
{
	unsigned char tag = (unsigned char)json_object_get_type(v);
	uint64_t h;

	switch (json_object_get_type(v)) {
	case json_type_object:
		return object_hash(v, NULL);
	case json_type_array:
		return array_hash(v);
	case json_type_int:
	case json_type_double: {
		/* 128 and 128.0 are one number */
		double d = json_object_get_double(v);

		tag = (unsigned char)json_type_double;
		h = fnv(&tag, 1, FNV_OFFSET);
		return fnv(&d, sizeof(d), h);
	}
	case json_type_string:
		h = fnv(&tag, 1, FNV_OFFSET);
		return fnv(json_object_get_string(v), (size_t)json_object_get_string_len(v), h);
	case json_type_boolean:
	case json_type_null:
		break;
	}
	h = fnv(&tag, 1, FNV_OFFSET);
	tag = v ? (unsigned char)json_object_get_boolean(v) : 0;
	return fnv(&tag, 1, h);
}

static void
hash_str(uint64_t h, char buf[NAP_DRIFT_HASH_LEN])
{
	snprintf(buf, NAP_DRIFT_HASH_LEN, "%" PRIu64, h);
}

static void
take(json_object *dst, const char *key, json_object *v)
{
	if (v)
		json_object_object_add(dst, key, json_object_get(v));
}

void
nap_nodepool_hash(const struct nap_nodepool *np, char buf[NAP_DRIFT_HASH_LEN])
{
	json_object *raw = np->meta.raw, *t = json_object_new_object(), *v;

	take(t, "labels", nap_json_get(raw, "spec.template.metadata.labels"));
	take(t, "annotations", nap_json_get(raw, "spec.template.metadata.annotations"));
	take(t, "taints", nap_json_get(raw, "spec.template.spec.taints"));
	take(t, "startupTaints", nap_json_get(raw, "spec.template.spec.startupTaints"));
	take(t, "nodeClassRef", nap_json_get(raw, "spec.template.spec.nodeClassRef"));
	take(t, "terminationGracePeriod",
	    nap_json_get(raw, "spec.template.spec.terminationGracePeriod"));
	/* the API server's default, so writing it out is no change */
	v = nap_json_get(raw, "spec.template.spec.expireAfter");
	if (v && !zero(v))
		take(t, "expireAfter", v);
	else
		json_object_object_add(t, "expireAfter", json_object_new_string("720h"));
	hash_str(object_hash(t, NULL), buf);
	json_object_put(t);
}

void
nap_nodeclass_hash(const struct nap_nodeclass *c, char buf[NAP_DRIFT_HASH_LEN])
{
	json_object *spec = nap_json_get(c->meta.raw, "spec");

	hash_str(spec && json_object_is_type(spec, json_type_object) ? object_hash(spec, "tags")
								     : value_hash(NULL),
	    buf);
}

/* ---- the reasons ---- */

static const char *const reasons[] = {
    [NAP_DRIFT_NONE] = "",
    [NAP_DRIFT_NODEPOOL] = "NodePoolDrifted",
    [NAP_DRIFT_REQUIREMENTS] = "RequirementsDrifted",
    [NAP_DRIFT_INSTANCE_TYPE] = "InstanceTypeNotFound",
    [NAP_DRIFT_NODECLASS] = "NodeClassDrift",
    [NAP_DRIFT_K8S_VERSION] = "K8sVersionDrift",
    [NAP_DRIFT_IMAGE] = "ImageDrift",
};

const char *
nap_drift_reason(enum nap_drift d)
{
	return (size_t)d < sizeof(reasons) / sizeof(reasons[0]) ? reasons[d] : "";
}

int
nap_drift_reason_known(const char *reason)
{
	for (size_t i = 1; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reason && strcmp(reason, reasons[i]) == 0)
			return 1;
	return 0;
}

static int
streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Its hash annotation differs from hash, under nap's version. */
static int
hash_moved(const struct nap_nodeclaim *nc, const char *key, const char *vkey, const char *version,
    const char *hash)
{
	const char *h = nap_meta_annotation(&nc->meta, key);

	return h && streq(nap_meta_annotation(&nc->meta, vkey), version) && strcmp(h, hash) != 0;
}

static int
requirements_drifted(const struct nap_nodeclaim *nc, const struct nap_nodepool *np)
{
	struct nap_reqs have;
	int ok;

	nap_reqs_init(&have);
	if (nc->meta.labels)
		nap_reqs_add_labels(&have, nc->meta.labels);
	ok = nap_reqs_compatible(&have, &np->reqs, NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, NULL, 0);
	nap_reqs_free(&have);
	return !ok;
}

/*
 * Its size is gone from the catalog, or no available offering has its zone
 * and capacity type.  A claim without the size label is not judged.
 */
static int
itype_gone(const struct nap_nodeclaim *nc, const struct nap_catalog *cat)
{
	const char *name = nap_meta_label(&nc->meta, NAP_LABEL_INSTANCE_TYPE);
	const char *zone = nap_meta_label(&nc->meta, NAP_LABEL_ZONE);
	const char *ct = nap_meta_label(&nc->meta, NAP_LABEL_CAPACITY_TYPE);
	const struct nap_itype *it;

	if (name == NULL || *name == '\0')
		return 0;
	if ((it = nap_catalog_find(cat, name)) == NULL)
		return 1;
	if (ct && strcmp(ct, "reserved") == 0)
		ct = "on-demand"; /* a reservation falls back to on-demand */
	for (size_t i = 0; i < it->noff; i++) {
		const struct nap_offering *o = &it->off[i];

		if (o->available && (zone == NULL || strcmp(zone, o->zone_label) == 0) &&
		    (ct == NULL || strcmp(ct, o->capacity_type) == 0))
			return 0;
	}
	return 1;
}

static enum nap_drift
class_drift(
    const struct nap_nodeclaim *nc, const struct nap_node *node, const struct nap_nodeclass *c)
{
	char hash[NAP_DRIFT_HASH_LEN];

	nap_nodeclass_hash(c, hash);
	if (hash_moved(nc, NAP_ANN_NODECLASS_HASH, NAP_ANN_NODECLASS_HASH_VERSION,
		NAP_NODECLASS_HASH_VERSION, hash))
		return NAP_DRIFT_NODECLASS;
	if (node && node->kubelet_version && *node->kubelet_version && c->kubernetes_version &&
	    *c->kubernetes_version) {
		const char *kv = node->kubelet_version + (node->kubelet_version[0] == 'v');

		if (nap_version_cmp(kv, c->kubernetes_version) != 0)
			return NAP_DRIFT_K8S_VERSION;
	}
	if (nc->image_id && *nc->image_id && c->nimages > 0) {
		for (size_t i = 0; i < c->nimages; i++)
			if (streq(c->images[i].id, nc->image_id))
				return NAP_DRIFT_NONE;
		return NAP_DRIFT_IMAGE;
	}
	return NAP_DRIFT_NONE;
}

enum nap_drift
nap_drift_check(const struct nap_drift_in *in)
{
	const struct nap_nodeclaim *nc = in->nc;

	if (nc->meta.deleted || !(nc->launched || nc->initialized || *nc->provider_id || *nc->image_id))
		return NAP_DRIFT_NONE;
	if (in->pool) {
		char hash[NAP_DRIFT_HASH_LEN];

		nap_nodepool_hash(in->pool, hash);
		if (hash_moved(nc, NAP_ANN_NODEPOOL_HASH, NAP_ANN_NODEPOOL_HASH_VERSION,
			NAP_NODEPOOL_HASH_VERSION, hash))
			return NAP_DRIFT_NODEPOOL;
		if (requirements_drifted(nc, in->pool))
			return NAP_DRIFT_REQUIREMENTS;
	}
	if (in->cat && nc->meta.created > 0 &&
	    in->now_ms - nc->meta.created * 1000 >= in->itype_min_age_ms && itype_gone(nc, in->cat))
		return NAP_DRIFT_INSTANCE_TYPE;
	return in->nclass ? class_drift(nc, in->node, in->nclass) : NAP_DRIFT_NONE;
}

/* Add the version (and hash, unless drifted) when nc's version is not nap's. */
static void
restamp(json_object **out, const struct nap_nodeclaim *nc, const char *key, const char *vkey,
    const char *version, const char *hash)
{
	if (streq(nap_meta_annotation(&nc->meta, vkey), version))
		return;
	if (*out == NULL)
		*out = json_object_new_object();
	json_object_object_add(*out, vkey, json_object_new_string(version));
	if (nap_cond_find(nc->conds, nc->nconds, "Drifted") == NULL)
		json_object_object_add(*out, key, json_object_new_string(hash));
}

json_object *
nap_drift_restamp(
    const struct nap_nodeclaim *nc, const struct nap_nodepool *np, const struct nap_nodeclass *c)
{
	json_object *out = NULL;
	char hash[NAP_DRIFT_HASH_LEN];

	if (np) {
		nap_nodepool_hash(np, hash);
		restamp(&out, nc, NAP_ANN_NODEPOOL_HASH, NAP_ANN_NODEPOOL_HASH_VERSION,
		    NAP_NODEPOOL_HASH_VERSION, hash);
	}
	if (c) {
		nap_nodeclass_hash(c, hash);
		restamp(&out, nc, NAP_ANN_NODECLASS_HASH, NAP_ANN_NODECLASS_HASH_VERSION,
		    NAP_NODECLASS_HASH_VERSION, hash);
	}
	return out;
}
