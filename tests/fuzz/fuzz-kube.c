/*
 * fuzz-kube - the Kubernetes side's parsers: lib/model-*.c turning API
 * objects into structs, the cluster model that watch records keep up to
 * date, and lib/kube.c's reading of Status error bodies.
 *
 * Input: NDJSON, as nap-watch writes it: {"type":"ADDED","object":{...}}
 * lines (a bare object is taken as its own "object").  Every object goes
 * through every kind's nap_<kind>_from_json, whatever its kind says; every
 * record is applied, in order, to one cluster model.
 * Contract:
 *   - a fill returns 0 with a name, or -1 with an error (NAP_EX_DATAERR) and
 *     the struct zeroed; freeing is safe after both, and twice;
 *   - nap_cluster_apply returns 0, 1 or -1, and after -1 the model is
 *     unchanged (every kind's count and version);
 *   - the model agrees with itself: lists are as long as the counts, and
 *     each object listed is found by its name;
 *   - queries on what the model holds (pods on a node, requests, the claim
 *     of a node, the node of a claim, pod predicates) do not crash;
 *   - a CSINode's limits are counts or -1, a PV's CSI driver a string;
 *   - nap_kube_status_err turns any body into -1 and a message.
 */
#include <json-c/json.h>

#include "fuzz.h"
#include "json.h"
#include "kube.h"
#include "model.h"

#define MAX_LINES 32

union any {
	struct nap_pod pod;
	struct nap_node node;
	struct nap_nodeclaim claim;
	struct nap_nodepool pool;
	struct nap_nodeclass class;
	struct nap_pdb pdb;
	struct nap_daemonset ds;
	struct nap_pvc pvc;
	struct nap_pv pv;
	struct nap_storageclass sc;
	struct nap_namespace ns;
	struct nap_csinode csinode;
};

typedef int fill_fn(void *, json_object *, struct nap_err *);
typedef void free_fn(void *);

static const struct {
	fill_fn *fill;
	free_fn *free;
	size_t size;
	size_t meta; /* offset of struct nap_meta */
} kinds[] = {
#define K(fill, free, type)                                                                        \
	{                                                                                          \
		(fill_fn *)(void (*)(void))fill, (free_fn *)(void (*)(void))free, sizeof(type),    \
		    offsetof(type, meta)                                                           \
	}
    K(nap_pod_from_json, nap_pod_free, struct nap_pod),
    K(nap_node_from_json, nap_node_free, struct nap_node),
    K(nap_nodeclaim_from_json, nap_nodeclaim_free, struct nap_nodeclaim),
    K(nap_nodepool_from_json, nap_nodepool_free, struct nap_nodepool),
    K(nap_nodeclass_from_json, nap_nodeclass_free, struct nap_nodeclass),
    K(nap_pdb_from_json, nap_pdb_free, struct nap_pdb),
    K(nap_daemonset_from_json, nap_daemonset_free, struct nap_daemonset),
    K(nap_pvc_from_json, nap_pvc_free, struct nap_pvc),
    K(nap_pv_from_json, nap_pv_free, struct nap_pv),
    K(nap_storageclass_from_json, nap_storageclass_free, struct nap_storageclass),
    K(nap_namespace_from_json, nap_namespace_free, struct nap_namespace),
    K(nap_csinode_from_json, nap_csinode_free, struct nap_csinode),
#undef K
};

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static void
fill_every_kind(json_object *obj)
{
	for (size_t k = 0; k < NAP_ARRAY_LEN(kinds); k++) {
		union any u;
		struct nap_err err = {0};

		memset(&u, 0, sizeof(u));
		if (kinds[k].fill(&u, obj, &err) == 0) {
			const struct nap_meta *m =
			    (const struct nap_meta *)((const char *)&u + kinds[k].meta);

			FUZZ_CHECK(
			    m->name != NULL && m->ns != NULL, "kind %zu: filled without a name", k);
		} else {
			fuzz_check_err(&err);
			FUZZ_CHECK(err.code == NAP_EX_DATAERR, "kind %zu: code %d: %s", k, err.code,
			    err.msg);
			FUZZ_CHECK(all_zero(&u, kinds[k].size), "kind %zu: not zeroed after: %s", k,
			    err.msg);
		}
		kinds[k].free(&u);
		kinds[k].free(&u);
	}
}

static void
snapshot(const struct nap_cluster *c, size_t *count, uint64_t *version)
{
	for (int k = 0; k < NAP_KIND_N; k++) {
		count[k] = nap_cluster_count(c, (enum nap_kind)k);
		version[k] = nap_cluster_version(c, (enum nap_kind)k);
	}
}

static void
apply(struct nap_cluster *c, json_object *rec)
{
	size_t count[NAP_KIND_N], count2[NAP_KIND_N];
	uint64_t version[NAP_KIND_N], version2[NAP_KIND_N];
	struct nap_err err = {0};
	int rc;

	snapshot(c, count, version);
	rc = nap_cluster_apply_record(c, rec, &err);
	FUZZ_CHECK(rc >= -1 && rc <= 1, "nap_cluster_apply_record returned %d", rc);
	if (rc == -1) {
		fuzz_check_err(&err);
		snapshot(c, count2, version2);
		FUZZ_CHECK(memcmp(count, count2, sizeof(count)) == 0 &&
			memcmp(version, version2, sizeof(version)) == 0,
		    "model changed by a refused record: %s", err.msg);
	}
}

static void
check_model(const struct nap_cluster *c)
{
	int64_t now = 1700000000;

	for (int k = 0; k < NAP_KIND_N; k++) {
		size_t n;
		void *const *v = nap_cluster_list(c, (enum nap_kind)k, &n);

		FUZZ_CHECK(n == nap_cluster_count(c, (enum nap_kind)k),
		    "kind %d: %zu listed, %zu counted", k, n,
		    nap_cluster_count(c, (enum nap_kind)k));
		for (size_t i = 0; i < n; i++) {
			/* Every kind's struct starts with its nap_meta. */
			const struct nap_meta *m = v[i];

			FUZZ_CHECK(nap_cluster_get(c, (enum nap_kind)k, m->ns, m->name) == v[i],
			    "kind %d: %s/%s listed but not found", k, m->ns, m->name);
		}
	}
	{
		size_t n;
		struct nap_node *const *nodes = nap_cluster_nodes(c, &n);

		for (size_t i = 0; i < n; i++) {
			size_t np;
			struct nap_pod *const *pods =
			    nap_cluster_pods_on_node(c, nodes[i]->meta.name, &np);

			for (size_t j = 0; j < np; j++)
				FUZZ_CHECK(strcmp(pods[j]->node_name, nodes[i]->meta.name) == 0,
				    "pod %s listed on node %s, bound to %s", pods[j]->meta.name,
				    nodes[i]->meta.name, pods[j]->node_name);
			(void)nap_cluster_node_requests(c, nodes[i]->meta.name);
			(void)nap_cluster_nodeclaim_of(c, nodes[i]);
		}
	}
	{
		size_t n;
		void *const *v = nap_cluster_list(c, NAP_KIND_CSINODE, &n);

		for (size_t i = 0; i < n; i++) {
			const struct nap_csinode *cn = v[i];

			for (size_t j = 0; j < cn->ndrivers; j++)
				FUZZ_CHECK(nap_csinode_limit(cn, cn->drivers[j].driver) >= -1,
				    "csinode %s: limit below -1", cn->meta.name);
			(void)nap_csinode_limit(cn, "disk.csi.azure.com");
		}
		v = nap_cluster_list(c, NAP_KIND_PV, &n);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(nap_pv_csi_driver(v[i]) != NULL, "pv without a driver string");
	}
	{
		size_t n;
		struct nap_nodeclaim *const *claims = nap_cluster_nodeclaims(c, &n);

		for (size_t i = 0; i < n; i++)
			(void)nap_cluster_node_of(c, claims[i]);
	}
	{
		size_t n;
		struct nap_pod *const *pods = nap_cluster_pods(c, &n);

		for (size_t i = 0; i < n; i++) {
			(void)nap_pod_is_provisionable(pods[i]);
			(void)nap_pod_do_not_disrupt(pods[i], now);
			(void)nap_pod_eviction_cost(pods[i]);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nap_cluster *c;
	struct json_tokener *tok;
	size_t pos = 0;
	int lines = 0;

	if (size > 64 * 1024)
		return -1;
	c = nap_cluster_new();
	nap_cluster_keep_pod_json(c, size % 2);
	nap_cluster_keep_node_json(c, size % 3 != 0);
	tok = json_tokener_new();
	while (pos < size && lines++ < MAX_LINES) {
		const char *line = (const char *)data + pos;
		const char *nl = memchr(line, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - line) : size - pos;
		json_object *o, *obj;
		struct nap_err err = {0};

		pos += len + 1;
		FUZZ_CHECK(
		    nap_kube_status_err(400 + (long)(len % 200), line, len, "fuzz", &err) == -1,
		    "a Status body is not an error");
		fuzz_check_err(&err);
		json_tokener_reset(tok);
		o = json_tokener_parse_ex(tok, line, (int)len);
		if (o == NULL)
			continue;
		obj = nap_json_key(o, "object");
		if (obj == NULL || !json_object_is_type(obj, json_type_object))
			obj = o;
		fill_every_kind(obj);
		if (obj != o)
			apply(c, o);
		json_object_put(o);
	}
	check_model(c);
	json_tokener_free(tok);
	nap_cluster_free(c);
	return 0;
}
