/*
 * kapi.c - the Kubernetes REST surface: parsing /api and /apis paths into
 * (resource, namespace, name, subresource), the verbs (list with selectors
 * and chunking, watch, get, create, update, patch, delete,
 * deletecollection), the status and scale subresources, binding and
 * eviction, and Status bodies with the reasons the real server uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "json.h"
#include "prog.h"
#include "wellknown.h"
#include "yaml.h"

struct route {
	int res;
	const char *version; /* the version the client asked for */
	char ns[256];
	char name[256];
	char sub[32];
	int has_ns, has_name;
};

static const char *
reason_for(long http)
{
	switch (http) {
	case 400:
		return "BadRequest";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "NotFound";
	case 405:
		return "MethodNotAllowed";
	case 406:
		return "NotAcceptable";
	case 409:
		return "Conflict";
	case 410:
		return "Expired"; /* "Gone" on older servers */
	case 413:
		return "RequestEntityTooLarge";
	case 415:
		return "UnsupportedMediaType";
	case 422:
		return "Invalid";
	case 429:
		return "TooManyRequests";
	case 503:
		return "ServiceUnavailable";
	case 504:
		return "Timeout";
	default:
		return "InternalError";
	}
}

/* A Status body for err, with details naming the object when known. */
static void
resp_err_details(struct sim_resp *resp, const struct nap_err *err, int res, const char *name)
{
	json_object *st = json_object_new_object(), *det;
	long http = err->http ? err->http : 500;
	const char *reason = reason_for(http);

	if (http == 409 && strstr(err->msg, "already exists"))
		reason = "AlreadyExists";
	json_object_object_add(st, "kind", json_object_new_string("Status"));
	json_object_object_add(st, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(st, "metadata", json_object_new_object());
	json_object_object_add(st, "status", json_object_new_string("Failure"));
	json_object_object_add(st, "message", json_object_new_string(err->msg));
	json_object_object_add(st, "reason", json_object_new_string(reason));
	if (res >= 0 && name && *name && (http == 404 || http == 409 || http == 422)) {
		det = json_object_new_object();
		json_object_object_add(det, "name", json_object_new_string(name));
		if (*sim_rdescs[res].group)
			json_object_object_add(
			    det, "group", json_object_new_string(sim_rdescs[res].group));
		json_object_object_add(det, "kind",
		    json_object_new_string(
			http == 422 ? sim_rdescs[res].kind : sim_rdescs[res].resource));
		json_object_object_add(st, "details", det);
	}
	if (http == 422) {
		/* "<Kind> \"name\" is invalid: <field>: <what>" carries one cause. */
		const char *p = strstr(err->msg, " is invalid: "), *colon;

		if (p && (colon = strstr(p + 13, ": "))) {
			json_object *causes = json_object_new_array(),
				    *c = json_object_new_object();

			det = json_object_object_get(st, "details");
			if (!det) {
				det = json_object_new_object();
				json_object_object_add(st, "details", det);
			}
			json_object_object_add(c, "reason",
			    json_object_new_string(strstr(colon, "Required value")
				    ? "FieldValueRequired"
				    : "FieldValueInvalid"));
			json_object_object_add(c, "message", json_object_new_string(colon + 2));
			json_object_object_add(c, "field",
			    json_object_new_string_len(p + 13, (int)(colon - (p + 13))));
			json_object_array_add(causes, c);
			json_object_object_add(det, "causes", causes);
		}
	}
	json_object_object_add(st, "code", json_object_new_int((int)http));
	sim_resp_json(resp, (int)http, st);
}

void
sim_resp_err(struct sim_resp *resp, const struct nap_err *err)
{
	resp_err_details(resp, err, -1, NULL);
}

static int
split(const char *path, char segs[][256], int max)
{
	int n = 0;
	const char *p = path, *s;

	while (*p == '/')
		p++;
	while (*p && n < max) {
		s = strchr(p, '/');
		if (!s)
			s = p + strlen(p);
		if ((size_t)(s - p) >= 256)
			return -1;
		memcpy(segs[n], p, (size_t)(s - p));
		segs[n][s - p] = '\0';
		n++;
		p = s;
		while (*p == '/')
			p++;
	}
	return *p ? -1 : n;
}

/* 1 = routed, 0 = not a resource path (404). */
static int
route(const char *path, struct route *r)
{
	char segs[8][256];
	int n = split(path, segs, 8), i;
	const char *group = "", *version;

	memset(r, 0, sizeof(*r));
	if (n < 3)
		return 0;
	if (!strcmp(segs[0], "api")) {
		if (strcmp(segs[1], "v1"))
			return 0;
		version = "v1";
		i = 2;
	} else if (!strcmp(segs[0], "apis") && n >= 4) {
		group = segs[1];
		version = segs[2];
		i = 3;
	} else {
		return 0;
	}
	if (!strcmp(segs[i], "namespaces") && n - i >= 3 && strcmp(segs[i + 2], "status") &&
	    strcmp(segs[i + 2], "finalize")) {
		snprintf(r->ns, sizeof(r->ns), "%s", segs[i + 1]);
		r->has_ns = 1;
		i += 2;
	}
	r->res = sim_rdesc_find_gv(group, version, segs[i]);
	if (r->res < 0)
		return 0;
	r->version = !strcmp(version, sim_rdescs[r->res].version) ? sim_rdescs[r->res].version
								  : sim_rdescs[r->res].alt_version;
	if (r->has_ns && !sim_rdescs[r->res].namespaced)
		return 0;
	i++;
	if (i < n) {
		snprintf(r->name, sizeof(r->name), "%s", segs[i]);
		r->has_name = 1;
		i++;
	}
	if (i < n) {
		snprintf(r->sub, sizeof(r->sub), "%s", segs[i]);
		i++;
	}
	return i == n;
}

static int
parse_body(const struct sim_req *req, json_object **out, struct nap_err *err)
{
	struct json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	size_t used;

	*out = NULL;
	if (!req->body_len)
		return sim_err_status(err, 400, "the body of the request was empty");
	if (req->content_type &&
	    !strncasecmp(req->content_type, "application/vnd.kubernetes.protobuf", 35))
		return sim_pb_decode(req->body, req->body_len, out, err);
	if (req->content_type &&
	    (!strncasecmp(req->content_type, "application/yaml", 16) ||
		!strncasecmp(req->content_type, "application/apply-patch+yaml", 28))) {
		json_object *docs;

		if (nap_yaml_load(req->body, req->body_len, "body", &docs, err) < 0) {
			err->http = 400;
			return -1;
		}
		if (json_object_array_length(docs) != 1) {
			json_object_put(docs);
			return sim_err_status(
			    err, 400, "the body must hold exactly one YAML document");
		}
		*out = json_object_get(json_object_array_get_idx(docs, 0));
		json_object_put(docs);
		return 0;
	}
	tok = json_tokener_new();
	obj = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
	jerr = json_tokener_get_error(tok);
	used = (size_t)json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue) {
		json_object_put(obj);
		return sim_err_status(err, 400,
		    "couldn't get version/kind; json parse error: unexpected end of JSON input");
	}
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		return sim_err_status(err, 400, "couldn't get version/kind; json parse error: %s",
		    json_tokener_error_desc(jerr));
	}
	while (used < req->body_len && strchr(" \t\r\n", req->body[used]))
		used++;
	if (used != req->body_len) {
		json_object_put(obj);
		return sim_err_status(err, 400,
		    "couldn't get version/kind; json parse error: invalid character after "
		    "top-level value");
	}
	*out = obj;
	return 0;
}

static int
json_content(const struct sim_req *req)
{
	const char *ct = req->content_type;

	if (!ct)
		return 1; /* Go clients without a body type: assume JSON */
	return !strncasecmp(ct, "application/json", 16) || !strncasecmp(ct, "*/*", 3) ||
	    !strncasecmp(ct, "application/vnd.kubernetes.protobuf", 35) ||
	    !strncasecmp(ct, "application/yaml", 16) ||
	    !strncasecmp(ct, "application/apply-patch+yaml", 28);
}

static void
unsupported_media(struct sim_resp *resp, const char *accepted)
{
	sim_resp_status(resp, 415, "UnsupportedMediaType",
	    "the body of the request was in an unknown format - accepted media types include: %s",
	    accepted);
}

static int
qbool(const struct sim_req *req, const char *key)
{
	const char *v = sim_req_query(req, key);

	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcmp(v, "t"));
}

static void
api_version_of(int res, const char *version, char *buf, size_t size)
{
	const struct sim_rdesc *d = &sim_rdescs[res];

	if (*d->group)
		snprintf(buf, size, "%s/%s", d->group, version ? version : d->version);
	else
		snprintf(buf, size, "%s", version ? version : d->version);
}

/* The object as served in the version the client asked for. */
static json_object *
served(json_object *obj, const struct route *r)
{
	char av[128];

	if (!sim_rdescs[r->res].alt_version)
		return json_object_get(obj);
	api_version_of(r->res, r->version, av, sizeof(av));
	if (!strcmp(nap_json_str(obj, "apiVersion", ""), av))
		return json_object_get(obj);
	obj = sim_dup(obj);
	json_object_object_add(obj, "apiVersion", json_object_new_string(av));
	return obj;
}

/* -- list ---------------------------------------------------------------- */

static void
cont_gc(struct sim *sim)
{
	double now = sim_now(sim);
	size_t i = 0;

	while (i < sim->nconts) {
		if (sim->conts[i].expires <= now) {
			free(sim->conts[i].token);
			json_object_put(sim->conts[i].items);
			sim->conts[i] = sim->conts[--sim->nconts];
		} else {
			i++;
		}
	}
}

static json_object *
list_object(const struct route *r, unsigned long long rv, json_object *items)
{
	json_object *list = json_object_new_object();
	char av[128], kind[128], rvs[32];

	api_version_of(r->res, r->version, av, sizeof(av));
	snprintf(kind, sizeof(kind), "%sList", sim_rdescs[r->res].kind);
	snprintf(rvs, sizeof(rvs), "%llu", rv);
	json_object_object_add(list, "kind", json_object_new_string(kind));
	json_object_object_add(list, "apiVersion", json_object_new_string(av));
	nap_json_set(list, "metadata.resourceVersion", json_object_new_string(rvs));
	json_object_object_add(list, "items", items);
	return list;
}

/* Hand out at most limit items of all, keeping the rest behind a token. */
static void
page(struct sim *sim, json_object *list, json_object *all, size_t from, long limit,
    unsigned long long rv)
{
	json_object *items = json_object_new_array();
	size_t n = json_object_array_length(all), i;

	for (i = from; i < n && (limit <= 0 || i - from < (size_t)limit); i++)
		json_object_array_add(items, json_object_get(json_object_array_get_idx(all, i)));
	json_object_object_add(list, "items", items);
	if (i < n) {
		struct sim_cont *c;

		nap_xgrow(&sim->conts, &sim->conts_alloc, sim->nconts + 1, sizeof(*sim->conts));
		c = &sim->conts[sim->nconts++];
		c->token = nap_xasprintf("nap-sim.%lu.%llu", ++sim->cont_seq, rv);
		c->expires = sim_now(sim) + sim->opts.continue_ttl;
		c->rv = rv;
		c->items = json_object_get(all);
		c->pos = i;
		nap_json_set(list, "metadata.continue", json_object_new_string(c->token));
		nap_json_set(
		    list, "metadata.remainingItemCount", json_object_new_int64((int64_t)(n - i)));
	}
}

/* The list, or the Table kubectl get asked for (list taken). */
static void
answer_list(
    const struct sim_req *req, const struct route *r, struct sim_resp *resp, json_object *list)
{
	json_object *t;

	if (!sim_wants_table(req)) {
		sim_resp_json(resp, 200, list);
		return;
	}
	t = sim_table_of(r->res, json_object_object_get(list, "items"),
	    nap_json_str(list, "metadata.resourceVersion", ""),
	    nap_json_str(list, "metadata.continue", NULL));
	if (nap_json_get(list, "metadata.remainingItemCount"))
		nap_json_set(t, "metadata.remainingItemCount",
		    json_object_get(nap_json_get(list, "metadata.remainingItemCount")));
	json_object_put(list);
	sim_resp_json(resp, 200, t);
}

static void
do_list(struct sim *sim, const struct sim_req *req, const struct route *r, struct sim_resp *resp)
{
	const char *ls = sim_req_query(req, "labelSelector");
	const char *fs = sim_req_query(req, "fieldSelector");
	const char *lim = sim_req_query(req, "limit");
	const char *cont = sim_req_query(req, "continue");
	struct sim_lsel *lsel = NULL;
	struct sim_fsel *fsel = NULL;
	struct nap_err err;
	long limit = 0;
	char *end;

	if (lim && *lim) {
		limit = strtol(lim, &end, 10);
		if (*end || limit < 0) {
			sim_resp_status(resp, 400, "BadRequest", "invalid limit: %s", lim);
			return;
		}
	}
	cont_gc(sim);
	if (cont && *cont) {
		size_t i;
		json_object *list;

		if (strncmp(cont, "nap-sim.", 8)) {
			sim_resp_status(resp, 400, "BadRequest",
			    "continue key is not valid: incorrect encoded start resourceVersion "
			    "(version meta.k8s.io/v1)");
			return;
		}
		for (i = 0; i < sim->nconts; i++)
			if (!strcmp(sim->conts[i].token, cont))
				break;
		if (i == sim->nconts) {
			sim_resp_status(resp, 410, "Expired",
			    "The provided continue parameter is too old to display a consistent "
			    "list result. You can start a new list without the continue "
			    "parameter.");
			return;
		}
		list = list_object(r, sim->conts[i].rv, json_object_new_array());
		page(sim, list, sim->conts[i].items, sim->conts[i].pos, limit, sim->conts[i].rv);
		answer_list(req, r, resp, list);
		return;
	}
	if ((ls && *ls && sim_lsel_parse(ls, &lsel, &err) < 0) ||
	    (fs && *fs && sim_fsel_parse(fs, r->res, &fsel, &err) < 0)) {
		sim_lsel_free(lsel);
		sim_resp_err(resp, &err);
		return;
	}
	{
		struct sim_table *t = sim_table(sim, r->res);
		json_object *all = json_object_new_array(), *list;
		size_t i;

		for (i = 0; i < t->n; i++) {
			json_object *o = t->v[i].obj;

			if (r->has_ns && strcmp(nap_json_str(o, "metadata.namespace", ""), r->ns))
				continue;
			if (!sim_lsel_match(lsel, o) || !sim_fsel_match(fsel, o))
				continue;
			json_object_array_add(all, served(o, r));
		}
		list = list_object(r, sim->rv, json_object_new_array());
		page(sim, list, all, 0, limit, sim->rv);
		json_object_put(all);
		answer_list(req, r, resp, list);
	}
	sim_lsel_free(lsel);
	sim_fsel_free(fsel);
}

static void
do_watch(struct sim *sim, const struct sim_req *req, const struct route *r, struct sim_resp *resp)
{
	const char *ls = sim_req_query(req, "labelSelector");
	const char *fs = sim_req_query(req, "fieldSelector");
	const char *to = sim_req_query(req, "timeoutSeconds");
	struct sim_lsel *lsel = NULL;
	struct sim_fsel *fsel = NULL;
	struct sim_watch *w;
	struct nap_err err;
	double timeout = 1800;
	char *end;

	if (to && *to) {
		timeout = strtod(to, &end);
		if (*end || timeout < 0) {
			sim_resp_status(resp, 400, "BadRequest", "invalid timeoutSeconds: %s", to);
			return;
		}
	}
	if ((ls && *ls && sim_lsel_parse(ls, &lsel, &err) < 0) ||
	    (fs && *fs && sim_fsel_parse(fs, r->res, &fsel, &err) < 0)) {
		sim_lsel_free(lsel);
		sim_resp_err(resp, &err);
		return;
	}
	if (r->has_name) {
		/* A watch on one object is a watch with a name field selector. */
		char *f = nap_xasprintf("metadata.name=%s", r->name);

		sim_fsel_free(fsel);
		sim_fsel_parse(f, r->res, &fsel, NULL);
		free(f);
	}
	w = sim_watch_new(sim, r->res, r->has_ns ? r->ns : NULL, lsel, fsel,
	    qbool(req, "allowWatchBookmarks"), timeout);
	if (sim_wants_table(req))
		sim_watch_set_table(w);
	if (qbool(req, "sendInitialEvents")) {
		/* Watch-list: the current state, a marker, then changes. */
		const char *m = sim_req_query(req, "resourceVersionMatch");

		if (!m || strcmp(m, "NotOlderThan") || !qbool(req, "allowWatchBookmarks")) {
			sim_watch_free(sim, w);
			sim_resp_status(resp, 422, "Invalid",
			    "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: "
			    "Forbidden: sendInitialEvents is forbidden for watch unless "
			    "resourceVersionMatch is set to NotOlderThan and allowWatchBookmarks "
			    "is set");
			return;
		}
		sim_watch_start(sim, w, NULL, NULL);
		sim_watch_initial_end(sim, w);
	} else if (sim_watch_start(sim, w, sim_req_query(req, "resourceVersion"), &err) < 0) {
		sim_watch_free(sim, w);
		sim_resp_err(resp, &err);
		return;
	}
	sim_resp_set_watch(resp, w);
}

/* -- single objects ------------------------------------------------------- */

static json_object *
lookup(struct sim *sim, const struct route *r)
{
	return sim_get(sim, sim_rdescs[r->res].resource, r->ns, r->name);
}

static void
not_found(struct sim_resp *resp, const struct route *r)
{
	struct nap_err err;
	char q[128];

	sim_err_status(
	    &err, 404, "%s \"%s\" not found", sim_qualified(r->res, q, sizeof(q)), r->name);
	resp_err_details(resp, &err, r->res, r->name);
}

static json_object *
scale_of(json_object *obj)
{
	json_object *s = json_object_new_object(), *m = json_object_new_object();
	json_object *sel = nap_json_get(obj, "spec.selector.matchLabels");
	static const char *const keep[] = {
	    "name",
	    "namespace",
	    "uid",
	    "resourceVersion",
	    "creationTimestamp",
	};
	char selbuf[512] = "";
	size_t i, n = 0;

	json_object_object_add(s, "kind", json_object_new_string("Scale"));
	json_object_object_add(s, "apiVersion", json_object_new_string("autoscaling/v1"));
	for (i = 0; i < NAP_ARRAY_LEN(keep); i++) {
		json_object *v = nap_json_get(obj, "metadata");

		v = json_object_object_get(v, keep[i]);
		if (v)
			json_object_object_add(m, keep[i], json_object_get(v));
	}
	json_object_object_add(s, "metadata", m);
	nap_json_set(
	    s, "spec.replicas", json_object_new_int64(nap_json_int(obj, "spec.replicas", 1)));
	nap_json_set(
	    s, "status.replicas", json_object_new_int64(nap_json_int(obj, "status.replicas", 0)));
	if (sel && json_object_is_type(sel, json_type_object)) {
		json_object_object_foreach(sel, k, v)
		{
			n += (size_t)snprintf(selbuf + n,
			    n < sizeof(selbuf) ? sizeof(selbuf) - n : 0, "%s%s=%s", n ? "," : "", k,
			    json_object_get_string(v));
			if (n >= sizeof(selbuf))
				break;
		}
		nap_json_set(s, "status.selector", json_object_new_string(selbuf));
	}
	return s;
}

static void
store_answer(struct sim_resp *resp, int rc, json_object *obj, const struct nap_err *err,
    const struct route *r, int status)
{
	if (rc < 0) {
		resp_err_details(resp, err, r->res, r->name);
		return;
	}
	sim_resp_json(resp, status, served(obj, r));
}

/* Writes through the main resource ignore status; /status writes only it. */
static void
split_status(json_object *obj, json_object *cur, int status_write)
{
	json_object *st = json_object_object_get(cur, "status");

	if (!status_write) {
		if (st)
			json_object_object_add(obj, "status", json_object_get(st));
		else
			json_object_object_del(obj, "status");
		return;
	}
	json_object_object_foreach(cur, k, v)
	{
		if (!strcmp(k, "status") || !strcmp(k, "metadata"))
			continue;
		json_object_object_add(obj, k, json_object_get(v));
	}
}

/* What an update must satisfy beyond the store's checks: validation, immutable fields. */
static int
admit_update(int res, json_object *obj, json_object *cur, struct nap_err *err)
{
	if (sim_rbac_admit(res, obj, cur, err) < 0)
		return -1;
	if (!strcmp(sim_rdescs[res].resource, "nodeclaims") &&
	    !nap_json_equal(
		json_object_object_get(obj, "spec"), json_object_object_get(cur, "spec")))
		return sim_err_status(err, 422,
		    "NodeClaim.karpenter.sh \"%s\" is invalid: spec: Invalid value: \"object\": "
		    "spec is immutable",
		    nap_json_str(cur, "metadata.name", ""));
	return 0;
}

/* Replace cur by obj (taken) through the rules of the subresource. */
static void
write_back(struct sim *sim, const struct route *r, json_object *obj, json_object *cur,
    struct sim_resp *resp)
{
	const struct sim_rdesc *d = &sim_rdescs[r->res];
	struct nap_err err;
	json_object *out;
	int rc;

	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		sim_resp_status(resp, 400, "BadRequest", "the object is not a JSON object");
		return;
	}
	if (strcmp(nap_json_str(obj, "metadata.name", r->name), r->name)) {
		json_object_put(obj);
		sim_resp_status(resp, 400, "BadRequest",
		    "the name of the object (%s) does not match the name on the URL (%s)",
		    nap_json_str(obj, "metadata.name", ""), r->name);
		return;
	}
	nap_json_set(obj, "metadata.name", json_object_new_string(r->name));
	if (d->namespaced)
		nap_json_set(obj, "metadata.namespace", json_object_new_string(r->ns));
	if (d->has_status)
		split_status(obj, cur, !strcmp(r->sub, "status"));
	if (admit_update(r->res, obj, cur, &err) < 0) {
		json_object_put(obj);
		resp_err_details(resp, &err, r->res, r->name);
		return;
	}
	rc = sim_update_res(sim, r->res, obj, &out, &err);
	store_answer(resp, rc, out, &err, r, 200);
}

static void
do_scale(struct sim *sim, const struct sim_req *req, const struct route *r, json_object *cur,
    struct sim_resp *resp)
{
	json_object *scale = scale_of(cur), *body = NULL, *obj;
	struct nap_err err;
	int64_t replicas;
	const char *ct = req->content_type ? req->content_type : "application/json";

	if (!strcmp(req->method, "GET")) {
		sim_resp_json(resp, 200, scale);
		return;
	}
	if (parse_body(req, &body, &err) < 0) {
		json_object_put(scale);
		sim_resp_err(resp, &err);
		return;
	}
	if (!strcmp(req->method, "PUT")) {
		json_object_put(scale);
		scale = body;
	} else if (!strncasecmp(ct, "application/json-patch+json", 27)) {
		if (sim_patch_json(&scale, body, &err) < 0) {
			json_object_put(body);
			json_object_put(scale);
			sim_resp_err(resp, &err);
			return;
		}
		json_object_put(body);
	} else {
		sim_patch_merge(&scale, body);
		json_object_put(body);
	}
	replicas = nap_json_int(scale, "spec.replicas", -1);
	if (replicas < 0) {
		json_object_put(scale);
		sim_resp_status(resp, 422, "Invalid",
		    "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid value: must be "
		    "greater than or equal to 0",
		    r->name);
		return;
	}
	obj = sim_dup(cur);
	nap_json_set(obj, "spec.replicas", json_object_new_int64(replicas));
	{
		const char *rv = nap_json_str(scale, "metadata.resourceVersion", NULL);

		if (rv)
			nap_json_set(obj, "metadata.resourceVersion", json_object_new_string(rv));
	}
	json_object_put(scale);
	if (sim_update_res(sim, r->res, obj, &obj, &err) < 0) {
		resp_err_details(resp, &err, r->res, r->name);
		return;
	}
	sim_resp_json(resp, 200, scale_of(obj));
}

enum { PATCH_JSON, PATCH_MERGE, PATCH_SMP };

static void
do_patch(struct sim *sim, const struct sim_req *req, const struct route *r, json_object *cur,
    struct sim_resp *resp)
{
	const char *ct = req->content_type ? req->content_type : "";
	json_object *patch, *obj;
	struct nap_err err;
	int rc = 0, kind;

	if (!strncasecmp(ct, "application/json-patch+json", 27)) {
		kind = PATCH_JSON;
	} else if (!strncasecmp(ct, "application/merge-patch+json", 28) ||
	    !strncasecmp(ct, "application/apply-patch+yaml", 28)) {
		kind = PATCH_MERGE;
	} else if (!strncasecmp(ct, "application/strategic-merge-patch+json", 38) &&
	    !sim_rdescs[r->res].crd) {
		kind = PATCH_SMP;
	} else {
		unsupported_media(resp,
		    sim_rdescs[r->res].crd
			? "application/json-patch+json, application/merge-patch+json, "
			  "application/apply-patch+yaml"
			: "application/json-patch+json, application/merge-patch+json, "
			  "application/apply-patch+yaml, application/strategic-merge-patch+json");
		return;
	}
	if (parse_body(req, &patch, &err) < 0) {
		sim_resp_err(resp, &err);
		return;
	}
	obj = sim_dup(cur);
	if (kind == PATCH_JSON)
		rc = sim_patch_json(&obj, patch, &err);
	else if (kind == PATCH_MERGE)
		rc = sim_patch_merge(&obj, patch);
	else
		rc = sim_patch_strategic(&obj, patch, &err);
	json_object_put(patch);
	if (rc < 0) {
		json_object_put(obj);
		if (!err.http)
			err.http = 422;
		sim_resp_err(resp, &err);
		return;
	}
	/* A patch that does not name a version applies to the current one. */
	if (!nap_json_get(obj, "metadata.resourceVersion"))
		nap_json_set(obj, "metadata.resourceVersion",
		    json_object_new_string(nap_json_str(cur, "metadata.resourceVersion", "")));
	write_back(sim, r, obj, cur, resp);
}

static int
check_kind(const struct route *r, json_object *obj, struct nap_err *err)
{
	const char *kind = nap_json_str(obj, "kind", NULL);
	const char *av = nap_json_str(obj, "apiVersion", NULL);
	const struct sim_rdesc *d = &sim_rdescs[r->res];
	char want[128];

	if (kind && strcmp(kind, d->kind))
		return sim_err_status(err, 400,
		    "the kind of the object (%s) does not match the resource on the URL (%s)", kind,
		    d->kind);
	api_version_of(r->res, r->version, want, sizeof(want));
	if (av && strcmp(av, want)) {
		char alt[128];

		api_version_of(
		    r->res, d->alt_version ? d->alt_version : d->version, alt, sizeof(alt));
		if (strcmp(av, alt) || !d->alt_version)
			return sim_err_status(err, 400,
			    "the API version in the data (%s) does not match the expected API "
			    "version (%s)",
			    av, want);
	}
	return 0;
}

static void
do_create(struct sim *sim, const struct sim_req *req, const struct route *r, struct sim_resp *resp)
{
	const struct sim_rdesc *d = &sim_rdescs[r->res];
	json_object *obj, *out;
	const char *ns;
	struct nap_err err;
	char av[128], *name;
	int rc;

	if (!json_content(req)) {
		unsupported_media(resp,
		    "application/json, application/yaml, application/vnd.kubernetes.protobuf");
		return;
	}
	if (parse_body(req, &obj, &err) < 0) {
		sim_resp_err(resp, &err);
		return;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		sim_resp_status(resp, 400, "BadRequest",
		    "couldn't get version/kind; json parse error: json: cannot unmarshal %s into "
		    "Go value of type struct { APIVersion string "
		    "\"json:\\\"apiVersion,omitempty\\\"\"; Kind string "
		    "\"json:\\\"kind,omitempty\\\"\" }",
		    json_type_to_name(json_object_get_type(obj)));
		return;
	}
	if (check_kind(r, obj, &err) < 0) {
		json_object_put(obj);
		sim_resp_err(resp, &err);
		return;
	}
	if (nap_json_get(obj, "metadata") &&
	    !json_object_is_type(nap_json_get(obj, "metadata"), json_type_object)) {
		json_object_put(obj);
		sim_resp_status(resp, 400, "BadRequest", "metadata must be an object");
		return;
	}
	ns = nap_json_str(obj, "metadata.namespace", NULL);
	if (d->namespaced) {
		if (ns && *ns && strcmp(ns, r->ns)) {
			json_object_put(obj);
			sim_resp_status(resp, 400, "BadRequest",
			    "the namespace of the provided object does not match the namespace "
			    "sent on the request");
			return;
		}
		nap_json_set(obj, "metadata.namespace", json_object_new_string(r->ns));
	}
	api_version_of(r->res, r->version, av, sizeof(av));
	json_object_object_add(obj, "apiVersion", json_object_new_string(av));
	if (!strcmp(d->resource, "pods") && nap_json_array(obj, "spec.containers", NULL) == NULL) {
		json_object_put(obj);
		sim_resp_status(resp, 422, "Invalid",
		    "Pod \"%s\" is invalid: spec.containers: Required value",
		    nap_json_str(obj, "metadata.name", ""));
		return;
	}
	if (sim_rbac_admit(r->res, obj, NULL, &err) < 0) {
		name = nap_xstrdup(nap_json_str(obj, "metadata.name", ""));
		json_object_put(obj);
		resp_err_details(resp, &err, r->res, name);
		free(name);
		return;
	}
	if (d->has_status && strcmp(d->resource, "nodes"))
		json_object_object_del(obj, "status");
	name = nap_xstrdup(nap_json_str(obj, "metadata.name", ""));
	rc = sim_create_res(sim, r->res, obj, &out, &err);
	if (rc < 0) {
		resp_err_details(resp, &err, r->res, name);
		free(name);
		return;
	}
	free(name);
	sim_resp_json(resp, 201, served(out, r));
}

static void
status_success(struct sim_resp *resp, int code, const struct route *r, json_object *obj)
{
	json_object *st = json_object_new_object(), *det = json_object_new_object();

	json_object_object_add(st, "kind", json_object_new_string("Status"));
	json_object_object_add(st, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(st, "metadata", json_object_new_object());
	json_object_object_add(st, "status", json_object_new_string("Success"));
	json_object_object_add(det, "name", json_object_new_string(r->name));
	if (*sim_rdescs[r->res].group)
		json_object_object_add(
		    det, "group", json_object_new_string(sim_rdescs[r->res].group));
	json_object_object_add(det, "kind", json_object_new_string(sim_rdescs[r->res].resource));
	if (obj)
		json_object_object_add(
		    det, "uid", json_object_new_string(nap_json_str(obj, "metadata.uid", "")));
	json_object_object_add(st, "details", det);
	sim_resp_json(resp, code, st);
}

/* gracePeriodSeconds from the query or a DeleteOptions body; -1 = default. */
static long
delete_options(const struct sim_req *req, json_object **opts, struct nap_err *err)
{
	const char *g = sim_req_query(req, "gracePeriodSeconds");
	long grace = -1;

	*opts = NULL;
	if (req->body_len) {
		if (parse_body(req, opts, err) < 0)
			return -2;
		if (nap_json_get(*opts, "gracePeriodSeconds"))
			grace = (long)nap_json_int(*opts, "gracePeriodSeconds", -1);
	}
	if (g && *g)
		grace = strtol(g, NULL, 10);
	return grace;
}

/*
 * The preconditions of a DeleteOptions (a DELETE's body or an Eviction's
 * deleteOptions) against the stored object: 0 when they hold, else 1 with
 * the answer in resp (400 for a non-string, 409 Conflict for a mismatch).
 */
static int
preconditions_fail(json_object *opts, json_object *cur, struct sim_resp *resp)
{
	const char *puid, *prv;

	if ((nap_json_get(opts, "preconditions.uid") &&
		!json_object_is_type(nap_json_get(opts, "preconditions.uid"), json_type_string)) ||
	    (nap_json_get(opts, "preconditions.resourceVersion") &&
		!json_object_is_type(
		    nap_json_get(opts, "preconditions.resourceVersion"), json_type_string))) {
		sim_resp_status(resp, 400, "BadRequest",
		    "json: cannot unmarshal a non-string into Go struct field Preconditions of "
		    "type string");
		return 1;
	}
	puid = nap_json_str(opts, "preconditions.uid", NULL);
	prv = nap_json_str(opts, "preconditions.resourceVersion", NULL);
	if (puid && strcmp(puid, nap_json_str(cur, "metadata.uid", ""))) {
		sim_resp_status(resp, 409, "Conflict",
		    "Precondition failed: UID in precondition: %s, UID in object meta: %s", puid,
		    nap_json_str(cur, "metadata.uid", ""));
		return 1;
	}
	if (prv && strcmp(prv, nap_json_str(cur, "metadata.resourceVersion", ""))) {
		sim_resp_status(resp, 409, "Conflict",
		    "Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in "
		    "object meta: %s",
		    prv, nap_json_str(cur, "metadata.resourceVersion", ""));
		return 1;
	}
	return 0;
}

static void
do_delete(struct sim *sim, const struct sim_req *req, const struct route *r, json_object *cur,
    struct sim_resp *resp)
{
	json_object *opts, *last;
	struct nap_err err;
	long grace = delete_options(req, &opts, &err);
	int pods = !strcmp(sim_rdescs[r->res].resource, "pods");

	if (grace == -2) {
		sim_resp_err(resp, &err);
		return;
	}
	if (preconditions_fail(opts, cur, resp)) {
		json_object_put(opts);
		return;
	}
	json_object_put(opts);
	if (!strcmp(sim_rdescs[r->res].resource, "namespaces") &&
	    (!strcmp(r->name, "default") || !strcmp(r->name, "kube-system") ||
		!strcmp(r->name, "kube-public"))) {
		sim_resp_status(resp, 403, "Forbidden",
		    "namespaces \"%s\" is forbidden: this namespace may not be deleted", r->name);
		return;
	}
	if (pods)
		sim_count_pod_delete(sim, cur, grace);
	if (sim_delete_graceful(sim, r->res, r->ns, r->name, grace, &last, &err) < 0) {
		resp_err_details(resp, &err, r->res, r->name);
		return;
	}
	if (pods || nap_json_get(last, "metadata.deletionTimestamp")) {
		json_object *still = lookup(sim, r);

		sim_resp_json(resp, 200, served(still ? still : last, r));
	} else {
		status_success(resp, 200, r, last);
	}
	json_object_put(last);
}

static void
do_deletecollection(
    struct sim *sim, const struct sim_req *req, const struct route *r, struct sim_resp *resp)
{
	const char *ls = sim_req_query(req, "labelSelector");
	const char *fs = sim_req_query(req, "fieldSelector");
	struct sim_lsel *lsel = NULL;
	struct sim_fsel *fsel = NULL;
	struct sim_table *t = sim_table(sim, r->res);
	struct nap_err err;
	json_object *victims = json_object_new_array(), *list;
	size_t i;

	if ((ls && *ls && sim_lsel_parse(ls, &lsel, &err) < 0) ||
	    (fs && *fs && sim_fsel_parse(fs, r->res, &fsel, &err) < 0)) {
		sim_lsel_free(lsel);
		json_object_put(victims);
		sim_resp_err(resp, &err);
		return;
	}
	for (i = 0; i < t->n; i++) {
		json_object *o = t->v[i].obj;

		if (r->has_ns && strcmp(nap_json_str(o, "metadata.namespace", ""), r->ns))
			continue;
		if (sim_lsel_match(lsel, o) && sim_fsel_match(fsel, o))
			json_object_array_add(victims, json_object_get(o));
	}
	for (i = 0; i < json_object_array_length(victims); i++) {
		json_object *o = json_object_array_get_idx(victims, i), *last = NULL;

		if (!strcmp(sim_rdescs[r->res].resource, "pods"))
			sim_count_pod_delete(sim, o, -1);
		sim_delete_graceful(sim, r->res, nap_json_str(o, "metadata.namespace", NULL),
		    nap_json_str(o, "metadata.name", ""), -1, &last, NULL);
		json_object_put(last);
	}
	list = list_object(r, sim->rv, victims);
	sim_resp_json(resp, 200, list);
	sim_lsel_free(lsel);
	sim_fsel_free(fsel);
}

/* karpenter.sh/do-not-disrupt: "true" on the pod. */
static int
do_not_disrupt(json_object *pod)
{
	json_object *a =
	    nap_json_key(nap_json_get(pod, "metadata.annotations"), NAP_ANN_DO_NOT_DISRUPT);

	return json_object_is_type(a, json_type_string) &&
	    !strcmp(json_object_get_string(a), "true");
}

static void
do_eviction(struct sim *sim, const struct sim_req *req, const struct route *r, json_object *pod,
    struct sim_resp *resp)
{
	json_object *ev, *last = NULL;
	struct nap_err err;
	const char *phase;
	long grace;
	int terminating = nap_json_get(pod, "metadata.deletionTimestamp") != NULL;

	if (parse_body(req, &ev, &err) < 0) {
		sim_resp_err(resp, &err);
		return;
	}
	if (strcmp(nap_json_str(ev, "metadata.name", ""), r->name)) {
		sim_resp_status(
		    resp, 400, "BadRequest", "name in URL does not match name in Eviction object");
		json_object_put(ev);
		return;
	}
	if (preconditions_fail(nap_json_get(ev, "deleteOptions"), pod, resp)) {
		json_object_put(ev);
		return;
	}
	grace = nap_json_get(ev, "deleteOptions.gracePeriodSeconds")
	    ? (long)nap_json_int(ev, "deleteOptions.gracePeriodSeconds", -1)
	    : -1;
	json_object_put(ev);
	phase = nap_json_str(pod, "status.phase", "Pending");
	if (strcmp(phase, "Succeeded") && strcmp(phase, "Failed") && strcmp(phase, "Pending") &&
	    !terminating && sim_pdb_evict_check(sim, pod, resp)) {
		if (resp->status == 429)
			sim->stats.evictions_refused++;
		return;
	}
	if (!terminating) {
		sim->stats.evictions++;
		if (do_not_disrupt(pod))
			sim->stats.do_not_disrupt_evicted++;
	}
	if (sim_delete_graceful(sim, r->res, r->ns, r->name, grace, &last, &err) < 0) {
		resp_err_details(resp, &err, r->res, r->name);
		return;
	}
	json_object_put(last);
	{
		json_object *st = json_object_new_object();

		json_object_object_add(st, "kind", json_object_new_string("Status"));
		json_object_object_add(st, "apiVersion", json_object_new_string("v1"));
		json_object_object_add(st, "metadata", json_object_new_object());
		json_object_object_add(st, "status", json_object_new_string("Success"));
		sim_resp_json(resp, 201, st);
	}
}

static void
do_binding(struct sim *sim, const struct sim_req *req, const struct route *r, json_object *pod,
    struct sim_resp *resp)
{
	json_object *b, *obj, *conds, *c;
	const char *node;
	struct nap_err err;
	char ts[40];
	size_t i, n;

	if (parse_body(req, &b, &err) < 0) {
		sim_resp_err(resp, &err);
		return;
	}
	node = nap_json_str(b, "target.name", "");
	if (!*node) {
		json_object_put(b);
		sim_resp_status(resp, 422, "Invalid",
		    "Binding \"%s\" is invalid: target.name: Required value", r->name);
		return;
	}
	if (*nap_json_str(pod, "spec.nodeName", "")) {
		sim_resp_status(resp, 409, "Conflict",
		    "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is already "
		    "assigned to node \"%s\"",
		    r->name, r->name, nap_json_str(pod, "spec.nodeName", ""));
		json_object_put(b);
		return;
	}
	obj = sim_dup(pod);
	nap_json_set(obj, "spec.nodeName", json_object_new_string(node));
	json_object_put(b);
	sim_rfc3339(sim, ts, sizeof(ts));
	conds = nap_json_array(obj, "status.conditions", &n);
	if (!conds) {
		conds = json_object_new_array();
		nap_json_set(obj, "status.conditions", conds);
	}
	for (i = 0; i < n; i++)
		if (!strcmp(nap_json_str(json_object_array_get_idx(conds, i), "type", ""),
			"PodScheduled"))
			break;
	c = json_object_new_object();
	json_object_object_add(c, "type", json_object_new_string("PodScheduled"));
	json_object_object_add(c, "status", json_object_new_string("True"));
	json_object_object_add(c, "lastProbeTime", NULL);
	json_object_object_add(c, "lastTransitionTime", json_object_new_string(ts));
	if (i < n)
		json_object_array_put_idx(conds, i, c);
	else
		json_object_array_add(conds, c);
	if (sim_update_res(sim, r->res, obj, NULL, &err) < 0) {
		resp_err_details(resp, &err, r->res, r->name);
		return;
	}
	{
		json_object *st = json_object_new_object();

		json_object_object_add(st, "kind", json_object_new_string("Status"));
		json_object_object_add(st, "apiVersion", json_object_new_string("v1"));
		json_object_object_add(st, "metadata", json_object_new_object());
		json_object_object_add(st, "status", json_object_new_string("Success"));
		json_object_object_add(st, "code", json_object_new_int(201));
		sim_resp_json(resp, 201, st);
	}
}

static void
method_not_allowed(struct sim_resp *resp, const char *method)
{
	sim_resp_status(resp, 405, "MethodNotAllowed",
	    "the server does not allow this method on the requested resource (%s)", method);
}

void
sim_kapi_handle(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	const char *m = req->method;
	struct route r;
	json_object *cur;

	if (!route(req->path, &r)) {
		if (!strncmp(req->path, "/openapi/", 9) || !strcmp(req->path, "/openapi"))
			sim_resp_status(resp, 404, "NotFound",
			    "the server could not find the requested resource");
		else
			sim_resp_status(resp, 404, "NotFound",
			    "the server could not find the requested resource");
		return;
	}
	if (sim_rdescs[r.res].namespaced && !r.has_ns && r.has_name) {
		sim_resp_status(
		    resp, 404, "NotFound", "the server could not find the requested resource");
		return;
	}
	if (!r.has_name) {
		if (!strcmp(m, "GET")) {
			if (qbool(req, "watch"))
				do_watch(sim, req, &r, resp);
			else
				do_list(sim, req, &r, resp);
		} else if (!strcmp(m, "POST")) {
			if (sim_rdescs[r.res].namespaced && !r.has_ns) {
				method_not_allowed(resp, m);
				return;
			}
			do_create(sim, req, &r, resp);
		} else if (!strcmp(m, "DELETE")) {
			do_deletecollection(sim, req, &r, resp);
		} else {
			method_not_allowed(resp, m);
		}
		return;
	}
	if (!strcmp(m, "GET") && qbool(req, "watch")) {
		do_watch(sim, req, &r, resp);
		return;
	}
	cur = lookup(sim, &r);
	if (!cur &&
	    !(!strcmp(m, "PATCH") && req->content_type &&
		!strncasecmp(req->content_type, "application/apply-patch", 23))) {
		not_found(resp, &r);
		return;
	}
	if (*r.sub) {
		const struct sim_rdesc *d = &sim_rdescs[r.res];
		int pods = !strcmp(d->resource, "pods");

		if (!strcmp(r.sub, "eviction") && pods && !strcmp(m, "POST")) {
			do_eviction(sim, req, &r, cur, resp);
		} else if (!strcmp(r.sub, "binding") && pods && !strcmp(m, "POST")) {
			do_binding(sim, req, &r, cur, resp);
		} else if (!strcmp(r.sub, "scale") && d->has_scale) {
			do_scale(sim, req, &r, cur, resp);
		} else if (!strcmp(r.sub, "status") && d->has_status) {
			if (!strcmp(m, "GET"))
				sim_resp_json(resp, 200, served(cur, &r));
			else if (!strcmp(m, "PUT")) {
				json_object *obj;
				struct nap_err err;

				if (parse_body(req, &obj, &err) < 0)
					sim_resp_err(resp, &err);
				else
					write_back(sim, &r, obj, cur, resp);
			} else if (!strcmp(m, "PATCH"))
				do_patch(sim, req, &r, cur, resp);
			else
				method_not_allowed(resp, m);
		} else {
			sim_resp_status(resp, 404, "NotFound",
			    "the server could not find the requested resource");
		}
		return;
	}
	if (!strcmp(m, "GET")) {
		json_object *one = json_object_new_array(), *t;

		if (!sim_wants_table(req)) {
			json_object_put(one);
			sim_resp_json(resp, 200, served(cur, &r));
			return;
		}
		json_object_array_add(one, served(cur, &r));
		t = sim_table_of(
		    r.res, one, nap_json_str(cur, "metadata.resourceVersion", ""), NULL);
		json_object_put(one);
		sim_resp_json(resp, 200, t);
	} else if (!strcmp(m, "PUT")) {
		json_object *obj;
		struct nap_err err;

		if (!json_content(req)) {
			unsupported_media(resp,
			    "application/json, application/yaml, "
			    "application/vnd.kubernetes.protobuf");
			return;
		}
		if (parse_body(req, &obj, &err) < 0) {
			sim_resp_err(resp, &err);
			return;
		}
		if (check_kind(&r, obj, &err) < 0) {
			json_object_put(obj);
			sim_resp_err(resp, &err);
			return;
		}
		write_back(sim, &r, obj, cur, resp);
	} else if (!strcmp(m, "PATCH")) {
		if (!cur) {
			/* Server-side apply creates what does not exist yet. */
			struct sim_req creq = *req;

			do_create(sim, &creq, &r, resp);
			return;
		}
		do_patch(sim, req, &r, cur, resp);
	} else if (!strcmp(m, "DELETE")) {
		do_delete(sim, req, &r, cur, resp);
	} else {
		method_not_allowed(resp, m);
	}
}
