/*
 * discovery.c - what the API server says about itself: the resources it
 * serves (the one table every other file consults), /version, the legacy
 * discovery documents kubectl reads (/api, /apis, group/version resource
 * lists), health endpoints, a minimal OpenAPI, and the
 * CustomResourceDefinition objects for the Karpenter kinds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "json.h"
#include "world.h"

static int discovery(struct sim *sim, const struct sim_req *req, struct sim_resp *resp);

#define RW "create,delete,deletecollection,get,list,patch,update,watch"

const struct sim_rdesc sim_rdescs[] = {
    /* group, version, alt, resource, singular, kind, short, categories,
	 * namespaced, status, scale, crd, verbs */
    {"", "v1", NULL, "namespaces", "namespace", "Namespace", "ns", NULL, 0, 1, 0, 0,
	"create,delete,get,list,patch,update,watch"},
    {"", "v1", NULL, "nodes", "node", "Node", "no", NULL, 0, 1, 0, 0, RW},
    {"", "v1", NULL, "pods", "pod", "Pod", "po", "all", 1, 1, 0, 0, RW},
    {"", "v1", NULL, "events", "event", "Event", "ev", NULL, 1, 0, 0, 0, RW},
    {"", "v1", NULL, "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim",
	"pvc", NULL, 1, 1, 0, 0, RW},
    {"", "v1", NULL, "configmaps", "configmap", "ConfigMap", "cm", NULL, 1, 0, 0, 0, RW},
    {"", "v1", NULL, "services", "service", "Service", "svc", "all", 1, 1, 0, 0,
	"create,delete,get,list,patch,update,watch"},
    {"", "v1", NULL, "serviceaccounts", "serviceaccount", "ServiceAccount", "sa", NULL, 1, 0, 0, 0,
	RW},
    {"apps", "v1", NULL, "deployments", "deployment", "Deployment", "deploy", "all", 1, 1, 1, 0,
	RW},
    {"apps", "v1", NULL, "replicasets", "replicaset", "ReplicaSet", "rs", "all", 1, 1, 1, 0, RW},
    {"apps", "v1", NULL, "daemonsets", "daemonset", "DaemonSet", "ds", "all", 1, 1, 0, 0, RW},
    {"apps", "v1", NULL, "statefulsets", "statefulset", "StatefulSet", "sts", "all", 1, 1, 1, 0,
	RW},
    {"policy", "v1", NULL, "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget",
	"pdb", NULL, 1, 1, 0, 0, RW},
    /* The same Events in the newer shape; controllers.c mirrors the two. */
    {"events.k8s.io", "v1", NULL, "events", "event", "Event", "ev", NULL, 1, 0, 0, 0, RW},
    {"storage.k8s.io", "v1", NULL, "volumeattachments", "volumeattachment", "VolumeAttachment",
	NULL, NULL, 0, 1, 0, 0, RW},
    {"storage.k8s.io", "v1", NULL, "csinodes", "csinode", "CSINode", NULL, NULL, 0, 0, 0, 0, RW},
    {"coordination.k8s.io", "v1", NULL, "leases", "lease", "Lease", NULL, NULL, 1, 0, 0, 0, RW},
    {"rbac.authorization.k8s.io", "v1", NULL, "clusterroles", "clusterrole", "ClusterRole", NULL,
	NULL, 0, 0, 0, 0, RW},
    {"rbac.authorization.k8s.io", "v1", NULL, "clusterrolebindings", "clusterrolebinding",
	"ClusterRoleBinding", NULL, NULL, 0, 0, 0, 0, RW},
    {"rbac.authorization.k8s.io", "v1", NULL, "roles", "role", "Role", NULL, NULL, 1, 0, 0, 0, RW},
    {"rbac.authorization.k8s.io", "v1", NULL, "rolebindings", "rolebinding", "RoleBinding", NULL,
	NULL, 1, 0, 0, 0, RW},
    {"scheduling.k8s.io", "v1", NULL, "priorityclasses", "priorityclass", "PriorityClass", "pc",
	NULL, 0, 0, 0, 0, RW},
    {"apiextensions.k8s.io", "v1", NULL, "customresourcedefinitions", "customresourcedefinition",
	"CustomResourceDefinition", "crd,crds", "api-extensions", 0, 1, 0, 0, RW},
    {"karpenter.sh", "v1", NULL, "nodepools", "nodepool", "NodePool", "np", "karpenter,nap", 0, 1,
	0, 1, RW},
    {"karpenter.sh", "v1", NULL, "nodeclaims", "nodeclaim", "NodeClaim", "nc", "karpenter,nap", 0,
	1, 0, 1, RW},
    {"karpenter.azure.com", "v1beta1", "v1alpha2", "aksnodeclasses", "aksnodeclass", "AKSNodeClass",
	"aksnc,aksncs", "karpenter,nap", 0, 1, 0, 1, RW},
};
const size_t sim_nrdescs = NAP_ARRAY_LEN(sim_rdescs);

int
sim_rdesc_find(const char *resource)
{
	size_t i;

	for (i = 0; resource && i < sim_nrdescs; i++)
		if (!strcmp(sim_rdescs[i].resource, resource))
			return (int)i;
	return -1;
}

/* A resource name can be served by two groups (events): match all three. */
int
sim_rdesc_find_gv(const char *group, const char *version, const char *resource)
{
	size_t i;

	for (i = 0; resource && i < sim_nrdescs; i++) {
		const struct sim_rdesc *d = &sim_rdescs[i];

		if (strcmp(d->resource, resource) || strcmp(d->group, group))
			continue;
		if (strcmp(d->version, version) &&
		    (!d->alt_version || strcmp(d->alt_version, version)))
			continue;
		return (int)i;
	}
	return -1;
}

static json_object *
csv_array(const char *csv)
{
	json_object *a = json_object_new_array();
	const char *p = csv, *c;

	while (p && *p) {
		c = strchr(p, ',');
		if (!c)
			c = p + strlen(p);
		json_object_array_add(a, json_object_new_string_len(p, (int)(c - p)));
		p = *c ? c + 1 : c;
	}
	return a;
}

static json_object *
api_resource(const char *name, const char *singular, int namespaced, const char *group,
    const char *version, const char *kind, const char *verbs)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "name", json_object_new_string(name));
	json_object_object_add(r, "singularName", json_object_new_string(singular));
	json_object_object_add(r, "namespaced", json_object_new_boolean(namespaced));
	if (group) {
		json_object_object_add(r, "group", json_object_new_string(group));
		json_object_object_add(r, "version", json_object_new_string(version));
	}
	json_object_object_add(r, "kind", json_object_new_string(kind));
	json_object_object_add(r, "verbs", csv_array(verbs));
	return r;
}

static json_object *
resource_list(const char *group, const char *version)
{
	json_object *list = json_object_new_object(), *arr = json_object_new_array();
	char gv[128];
	size_t i;

	if (*group)
		snprintf(gv, sizeof(gv), "%s/%s", group, version);
	else
		snprintf(gv, sizeof(gv), "%s", version);
	json_object_object_add(list, "kind", json_object_new_string("APIResourceList"));
	json_object_object_add(list, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(list, "groupVersion", json_object_new_string(gv));
	for (i = 0; i < sim_nrdescs; i++) {
		const struct sim_rdesc *d = &sim_rdescs[i];
		json_object *r;
		char sub[128];

		if (sim_rdesc_find_gv(group, version, d->resource) != (int)i)
			continue;
		r = api_resource(
		    d->resource, d->singular, d->namespaced, NULL, NULL, d->kind, d->verbs);
		if (d->short_names)
			json_object_object_add(r, "shortNames", csv_array(d->short_names));
		if (d->categories)
			json_object_object_add(r, "categories", csv_array(d->categories));
		json_object_array_add(arr, r);
		if (d->has_status) {
			snprintf(sub, sizeof(sub), "%s/status", d->resource);
			json_object_array_add(arr,
			    api_resource(
				sub, "", d->namespaced, NULL, NULL, d->kind, "get,patch,update"));
		}
		if (d->has_scale) {
			snprintf(sub, sizeof(sub), "%s/scale", d->resource);
			json_object_array_add(arr,
			    api_resource(sub, "", d->namespaced, "autoscaling", "v1", "Scale",
				"get,patch,update"));
		}
		if (!strcmp(d->resource, "pods")) {
			json_object_array_add(arr,
			    api_resource(
				"pods/eviction", "", 1, "policy", "v1", "Eviction", "create"));
			json_object_array_add(arr,
			    api_resource("pods/binding", "", 1, NULL, NULL, "Binding", "create"));
		}
	}
	json_object_object_add(list, "resources", arr);
	return list;
}

static json_object *
group_versions(const char *group)
{
	json_object *vs = json_object_new_array();
	size_t i;

	for (i = 0; i < sim_nrdescs; i++) {
		const char *v[2] = {sim_rdescs[i].version, sim_rdescs[i].alt_version};
		int k;

		if (strcmp(sim_rdescs[i].group, group))
			continue;
		for (k = 0; k < 2 && v[k]; k++) {
			size_t j;
			int dup = 0;
			json_object *o;
			char gv[128];

			for (j = 0; j < json_object_array_length(vs); j++)
				if (!strcmp(nap_json_str(
						json_object_array_get_idx(vs, j), "version", ""),
					v[k]))
					dup = 1;
			if (dup)
				continue;
			snprintf(gv, sizeof(gv), "%s/%s", group, v[k]);
			o = json_object_new_object();
			json_object_object_add(o, "groupVersion", json_object_new_string(gv));
			json_object_object_add(o, "version", json_object_new_string(v[k]));
			json_object_array_add(vs, o);
		}
	}
	return vs;
}

static json_object *
api_group(const char *group)
{
	json_object *g = json_object_new_object();
	json_object *vs = group_versions(group);

	json_object_object_add(g, "name", json_object_new_string(group));
	json_object_object_add(g, "versions", vs);
	json_object_object_add(
	    g, "preferredVersion", json_object_get(json_object_array_get_idx(vs, 0)));
	return g;
}

static json_object *
group_list(void)
{
	json_object *list = json_object_new_object(), *arr = json_object_new_array();
	size_t i, j;

	json_object_object_add(list, "kind", json_object_new_string("APIGroupList"));
	json_object_object_add(list, "apiVersion", json_object_new_string("v1"));
	for (i = 0; i < sim_nrdescs; i++) {
		int seen = 0;

		if (!*sim_rdescs[i].group)
			continue;
		for (j = 0; j < i; j++)
			if (!strcmp(sim_rdescs[j].group, sim_rdescs[i].group))
				seen = 1;
		if (!seen)
			json_object_array_add(arr, api_group(sim_rdescs[i].group));
	}
	json_object_object_add(list, "groups", arr);
	return list;
}

static json_object *
version_info(struct sim *sim)
{
	struct world *w = world_of(sim);
	const char *v = w ? gallery_k8s_version(w) : sim->opts.kubernetes_version;
	json_object *o = json_object_new_object();
	char major[8] = "1", minor[8] = "32";

	sscanf(v, "v%7[0-9].%7[0-9]", major, minor);
	json_object_object_add(o, "major", json_object_new_string(major));
	json_object_object_add(o, "minor", json_object_new_string(minor));
	json_object_object_add(o, "gitVersion", json_object_new_string(v));
	json_object_object_add(o, "gitCommit", json_object_new_string("nap-sim"));
	json_object_object_add(o, "gitTreeState", json_object_new_string("clean"));
	json_object_object_add(o, "buildDate", json_object_new_string("2026-01-01T00:00:00Z"));
	json_object_object_add(o, "goVersion", json_object_new_string("go1.23.0"));
	json_object_object_add(o, "compiler", json_object_new_string("gc"));
	json_object_object_add(o, "platform", json_object_new_string("linux/amd64"));
	return o;
}

/*
 * OpenAPI v3, just enough for kubectl: the index of group versions, and per
 * group version the PATCH operations tagged with their kind and the
 * fieldValidation parameter, which tells kubectl to let the server validate
 * (so it never needs full schemas).  Schemas say only "an object of this
 * kind, any fields".
 */
static json_object *
openapi_index(void)
{
	json_object *o = json_object_new_object(), *paths = json_object_new_object();
	size_t i;

	for (i = 0; i < sim_nrdescs; i++) {
		const struct sim_rdesc *d = &sim_rdescs[i];
		const char *v[2] = {d->version, d->alt_version};
		int k;

		for (k = 0; k < 2 && v[k]; k++) {
			char key[160], url[200];
			json_object *e;

			if (*d->group)
				snprintf(key, sizeof(key), "apis/%s/%s", d->group, v[k]);
			else
				snprintf(key, sizeof(key), "api/%s", v[k]);
			if (json_object_object_get(paths, key))
				continue;
			snprintf(url, sizeof(url), "/openapi/v3/%s?hash=nap-sim", key);
			e = json_object_new_object();
			json_object_object_add(e, "serverRelativeURL", json_object_new_string(url));
			json_object_object_add(paths, key, e);
		}
	}
	json_object_object_add(o, "paths", paths);
	return o;
}

static json_object *
gvk_ext(const char *group, const char *version, const char *kind)
{
	json_object *g = json_object_new_object();

	json_object_object_add(g, "group", json_object_new_string(group));
	json_object_object_add(g, "version", json_object_new_string(version));
	json_object_object_add(g, "kind", json_object_new_string(kind));
	return g;
}

static json_object *
openapi_gv(const char *group, const char *version)
{
	json_object *o = json_object_new_object(), *paths = json_object_new_object();
	json_object *schemas = json_object_new_object(), *info = json_object_new_object();
	size_t i;

	json_object_object_add(o, "openapi", json_object_new_string("3.0.0"));
	json_object_object_add(info, "title", json_object_new_string("Kubernetes"));
	json_object_object_add(info, "version", json_object_new_string("nap-sim"));
	json_object_object_add(o, "info", info);
	for (i = 0; i < sim_nrdescs; i++) {
		const struct sim_rdesc *d = &sim_rdescs[i];
		json_object *op, *params, *p, *item, *sch, *gvks, *resps;
		char path[300], sname[200];

		if (sim_rdesc_find_gv(group, version, d->resource) != (int)i)
			continue;
		snprintf(path, sizeof(path), "/%s%s%s/%s%s/%s/{name}", *group ? "apis/" : "api",
		    group, *group ? "/" : "", version,
		    d->namespaced ? "/namespaces/{namespace}" : "", d->resource);
		if (!*group)
			snprintf(path, sizeof(path), "/api/%s%s/%s/{name}", version,
			    d->namespaced ? "/namespaces/{namespace}" : "", d->resource);
		op = json_object_new_object();
		json_object_object_add(
		    op, "x-kubernetes-group-version-kind", gvk_ext(group, version, d->kind));
		params = json_object_new_array();
		p = json_object_new_object();
		json_object_object_add(p, "name", json_object_new_string("fieldValidation"));
		json_object_object_add(p, "in", json_object_new_string("query"));
		nap_json_set(p, "schema.type", json_object_new_string("string"));
		json_object_array_add(params, p);
		json_object_object_add(op, "parameters", params);
		resps = json_object_new_object();
		nap_json_set(resps, "200.description", json_object_new_string("OK"));
		json_object_object_add(op, "responses", resps);
		item = json_object_new_object();
		json_object_object_add(item, "patch", op);
		json_object_object_add(paths, path, item);

		snprintf(sname, sizeof(sname), "%s%s%s.%s", *group ? group : "io.k8s.api.core", "",
		    "", d->kind);
		sch = json_object_new_object();
		json_object_object_add(sch, "type", json_object_new_string("object"));
		json_object_object_add(
		    sch, "x-kubernetes-preserve-unknown-fields", json_object_new_boolean(1));
		gvks = json_object_new_array();
		json_object_array_add(gvks, gvk_ext(group, version, d->kind));
		json_object_object_add(sch, "x-kubernetes-group-version-kind", gvks);
		json_object_object_add(schemas, sname, sch);
	}
	json_object_object_add(o, "paths", paths);
	nap_json_set(o, "components.schemas", schemas);
	return o;
}

/*
 * OpenAPI v2, for the kubectl releases before 1.27 (Debian 12's
 * kubernetes-client is 1.20), which fetch /openapi/v2 before every create
 * and apply to validate on the client, and fail when it is missing.  The
 * document has no paths and no definitions: such a kubectl finds no schema
 * for any kind, so it skips client-side validation (the server validates),
 * and apply computes strategic merge patches for core kinds from the types
 * compiled into it and JSON merge patches for the Karpenter kinds, as it
 * does against a real server whose CRDs have no schema.  It is served as
 * the protobuf those clients ask for (gnostic's openapi_v2.Document:
 * swagger(1), info(2) {title(1), version(2)}, paths(8), definitions(9)),
 * typed application/octet-stream as a real server types it (Go's mime
 * parser rejects the '@' in the media type the client asks for), and as
 * JSON otherwise.
 */
struct pbuf {
	unsigned char *b;
	size_t len, cap;
};

static void
pb_put(struct pbuf *p, const void *d, size_t n)
{
	if (p->len + n > p->cap) {
		p->cap = (p->len + n) * 2 + 64;
		p->b = nap_xrealloc(p->b, p->cap);
	}
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

static void
pb_varint(struct pbuf *p, unsigned long long v)
{
	unsigned char c;

	do {
		c = v & 0x7f;
		v >>= 7;
		if (v)
			c |= 0x80;
		pb_put(p, &c, 1);
	} while (v);
}

/* A length-delimited field (wire type 2): a string or an embedded message. */
static void
pb_bytes(struct pbuf *p, unsigned field, const void *d, size_t n)
{
	pb_varint(p, (unsigned long long)field << 3 | 2);
	pb_varint(p, n);
	pb_put(p, d, n);
}

static void
openapi_v2(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	const char *accept = sim_req_header(req, "Accept");
	const char *title = "Kubernetes", *version = sim->opts.kubernetes_version;
	struct pbuf doc = {0}, info = {0};
	json_object *o;

	if (!accept || !strstr(accept, "protobuf")) {
		o = json_object_new_object();
		json_object_object_add(o, "swagger", json_object_new_string("2.0"));
		nap_json_set(o, "info.title", json_object_new_string(title));
		nap_json_set(o, "info.version", json_object_new_string(version));
		json_object_object_add(o, "paths", json_object_new_object());
		json_object_object_add(o, "definitions", json_object_new_object());
		sim_resp_json(resp, 200, o);
		return;
	}
	pb_bytes(&info, 1, title, strlen(title));
	pb_bytes(&info, 2, version, strlen(version));
	pb_bytes(&doc, 1, "2.0", 3);
	pb_bytes(&doc, 2, info.b, info.len);
	pb_bytes(&doc, 8, "", 0);
	pb_bytes(&doc, 9, "", 0);
	free(info.b);
	resp->status = 200;
	resp->body = (char *)doc.b;
	resp->body_len = doc.len;
	resp->content_type = "application/octet-stream";
}

int
sim_discovery_handle(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	if (!strcmp(req->path, "/openapi/v2") || !strcmp(req->path, "/openapi/v2/")) {
		openapi_v2(sim, req, resp);
		return 1;
	}
	if (!strcmp(req->path, "/openapi/v3") || !strcmp(req->path, "/openapi/v3/")) {
		sim_resp_json(resp, 200, openapi_index());
		return 1;
	}
	if (!strncmp(req->path, "/openapi/v3/api/", 16)) {
		if (strcmp(req->path + 16, "v1"))
			return 0;
		sim_resp_json(resp, 200, openapi_gv("", "v1"));
		return 1;
	}
	if (!strncmp(req->path, "/openapi/v3/apis/", 17)) {
		char g[128], v[64];
		size_t i;

		if (sscanf(req->path + 17, "%127[^/]/%63[^/]", g, v) != 2)
			return 0;
		for (i = 0; i < sim_nrdescs; i++)
			if (sim_rdesc_find_gv(g, v, sim_rdescs[i].resource) >= 0)
				break;
		if (i == sim_nrdescs)
			return 0;
		sim_resp_json(resp, 200, openapi_gv(g, v));
		return 1;
	}
	return discovery(sim, req, resp);
}

static int
discovery(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	const char *p = req->path;
	char group[128], version[64], rest[8];
	int n;

	if (!strcmp(p, "/version") || !strcmp(p, "/version/")) {
		sim_resp_json(resp, 200, version_info(sim));
		return 1;
	}
	if (!strcmp(p, "/healthz") || !strcmp(p, "/livez") || !strcmp(p, "/readyz")) {
		resp->status = 200;
		resp->body = nap_xstrdup("ok");
		resp->body_len = 2;
		resp->content_type = "text/plain; charset=utf-8";
		return 1;
	}
	if (!strcmp(p, "/api") || !strcmp(p, "/api/")) {
		json_object *o = json_object_new_object(), *a, *c;
		const char *host = strstr(sim->kube_url, "//");

		json_object_object_add(o, "kind", json_object_new_string("APIVersions"));
		a = json_object_new_array();
		json_object_array_add(a, json_object_new_string("v1"));
		json_object_object_add(o, "versions", a);
		a = json_object_new_array();
		c = json_object_new_object();
		json_object_object_add(c, "clientCIDR", json_object_new_string("0.0.0.0/0"));
		json_object_object_add(
		    c, "serverAddress", json_object_new_string(host ? host + 2 : sim->kube_url));
		json_object_array_add(a, c);
		json_object_object_add(o, "serverAddressByClientCIDRs", a);
		sim_resp_json(resp, 200, o);
		return 1;
	}
	if (!strcmp(p, "/api/v1") || !strcmp(p, "/api/v1/")) {
		sim_resp_json(resp, 200, resource_list("", "v1"));
		return 1;
	}
	if (!strcmp(p, "/apis") || !strcmp(p, "/apis/")) {
		sim_resp_json(resp, 200, group_list());
		return 1;
	}
	n = sscanf(p, "/apis/%127[^/]/%63[^/]%7s", group, version, rest);
	if (n == 1 || (n == 2 && version[0] == '\0')) {
		json_object *g;
		size_t i;

		for (i = 0; i < sim_nrdescs; i++)
			if (!strcmp(sim_rdescs[i].group, group))
				break;
		if (i == sim_nrdescs)
			return 0;
		g = api_group(group);
		json_object_object_add(g, "kind", json_object_new_string("APIGroup"));
		json_object_object_add(g, "apiVersion", json_object_new_string("v1"));
		sim_resp_json(resp, 200, g);
		return 1;
	}
	if (n == 2 || (n == 3 && !strcmp(rest, "/"))) {
		json_object *l = resource_list(group, version);

		if (json_object_array_length(json_object_object_get(l, "resources")) == 0) {
			json_object_put(l);
			return 0;
		}
		sim_resp_json(resp, 200, l);
		return 1;
	}
	return 0;
}

/* A CRD that says what nap-sim serves: names, scope, versions, status. */
json_object *
sim_crd_object(int res)
{
	const struct sim_rdesc *d = &sim_rdescs[res];
	json_object *crd = json_object_new_object(), *spec, *names, *vers;
	const char *v[2] = {d->version, d->alt_version};
	char name[160];
	int k;

	json_object_object_add(
	    crd, "apiVersion", json_object_new_string("apiextensions.k8s.io/v1"));
	json_object_object_add(crd, "kind", json_object_new_string("CustomResourceDefinition"));
	snprintf(name, sizeof(name), "%s.%s", d->resource, d->group);
	nap_json_set(crd, "metadata.name", json_object_new_string(name));
	spec = json_object_new_object();
	json_object_object_add(spec, "group", json_object_new_string(d->group));
	names = json_object_new_object();
	json_object_object_add(names, "kind", json_object_new_string(d->kind));
	snprintf(name, sizeof(name), "%sList", d->kind);
	json_object_object_add(names, "listKind", json_object_new_string(name));
	json_object_object_add(names, "plural", json_object_new_string(d->resource));
	json_object_object_add(names, "singular", json_object_new_string(d->singular));
	if (d->short_names)
		json_object_object_add(names, "shortNames", csv_array(d->short_names));
	if (d->categories)
		json_object_object_add(names, "categories", csv_array(d->categories));
	json_object_object_add(spec, "names", names);
	json_object_object_add(
	    spec, "scope", json_object_new_string(d->namespaced ? "Namespaced" : "Cluster"));
	vers = json_object_new_array();
	for (k = 0; k < 2 && v[k]; k++) {
		json_object *ver = json_object_new_object();

		json_object_object_add(ver, "name", json_object_new_string(v[k]));
		json_object_object_add(ver, "served", json_object_new_boolean(1));
		json_object_object_add(ver, "storage", json_object_new_boolean(k == 0));
		nap_json_set(ver, "schema.openAPIV3Schema.type", json_object_new_string("object"));
		nap_json_set(ver, "schema.openAPIV3Schema.x-kubernetes-preserve-unknown-fields",
		    json_object_new_boolean(1));
		nap_json_set(ver, "subresources.status", json_object_new_object());
		json_object_array_add(vers, ver);
	}
	json_object_object_add(spec, "versions", vers);
	json_object_object_add(crd, "spec", spec);
	return crd;
}
