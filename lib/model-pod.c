/*
 * model-pod.c - Pod objects (and pod specs inside DaemonSet templates) to
 * struct nap_pod (see model.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "json.h"
#include "model.h"
#include "model-int.h"
#include "quantity.h"
#include "wellknown.h"

void
model_reqs_array_free(struct nap_reqs *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		nap_reqs_free(&r[i]);
	free(r);
}

/*
 * matchFields (only metadata.name exists) are not modelled: nap never
 * places a pod on a named node, and Karpenter ignores them too.
 */
int
model_node_terms(json_object *terms, struct nap_reqs **out, size_t *n, struct nap_err *err)
{
	size_t i, len;

	*out = NULL;
	*n = 0;
	if (terms == NULL)
		return 0;
	if (!json_object_is_type(terms, json_type_array))
		return nap_err_set(err, NAP_EX_DATAERR, "nodeSelectorTerms: not a list");
	len = json_object_array_length(terms);
	if (len == 0)
		return 0;
	*out = nap_xcalloc(len, sizeof(**out));
	for (i = 0; i < len; i++) {
		json_object *t = json_object_array_get_idx(terms, i);

		nap_reqs_init(&(*out)[i]);
		if (nap_reqs_add_json(&(*out)[i], nap_json_key(t, "matchExpressions"), err) != 0) {
			model_reqs_array_free(*out, i + 1);
			*out = NULL;
			return nap_err_prefix(err, "nodeSelectorTerms[%zu]", i);
		}
	}
	*n = len;
	return 0;
}

/* ---- resources ---- */

/*
 * A ResourceList into r (tracked resources, their bits in *mask); the first
 * untracked resource asked for in a non-zero amount goes to unknown.  One
 * pass over the list: pods carry these by the hundred thousand.
 */
static int
res_list(json_object *list, struct nap_res *r, unsigned *mask, char *unknown, size_t ulen,
    struct nap_err *err)
{
	nap_res_zero(r);
	*mask = 0;
	if (list == NULL)
		return 0;
	if (!json_object_is_type(list, json_type_object))
		return nap_err_set(err, NAP_EX_DATAERR, "resource list is not an object");
	json_object_object_foreach(list, name, val)
	{
		int k = nap_res_lookup(name), rc;
		const char *s;
		int64_t v;

		if (!json_object_is_type(val, json_type_string) &&
		    !json_object_is_type(val, json_type_int) &&
		    !json_object_is_type(val, json_type_double))
			return nap_err_set(
			    err, NAP_EX_DATAERR, "%s: quantity is not a string", name);
		s = json_object_get_string(val);
		rc = k == NAP_RES_CPU ? nap_qty_parse_milli(s, &v, err) : nap_qty_parse(s, &v, err);
		if (rc != 0)
			return nap_err_prefix(err, "%s", name);
		if (v < 0)
			return nap_err_set(
			    err, NAP_EX_DATAERR, "%s: negative quantity \"%s\"", name, s);
		if (k >= 0) {
			r->v[k] = v;
			*mask |= 1u << k;
		} else if (v != 0 && unknown[0] == '\0')
			snprintf(unknown, ulen, "%s", name);
	}
	return 0;
}

/*
 * A container's requests, with a limit standing in for a missing request
 * (API admission does that, so objects from the API server already carry
 * it; manifests read from files may not).
 */
static int
container_requests(json_object *c, struct nap_res *r, const char **restart, char *unknown,
    size_t ulen, struct nap_err *err)
{
	json_object *res, *req, *lim, *name, *rp;
	const struct model_key ckeys[] = {
	    {"resources", &res},
	    {"name", &name},
	    {"restartPolicy", &rp},
	};
	const struct model_key rkeys[] = {{"requests", &req}, {"limits", &lim}};
	struct nap_res l;
	unsigned mreq, mlim;
	int k;

	model_scan(c, ckeys, NAP_ARRAY_LEN(ckeys));
	model_scan(res, rkeys, NAP_ARRAY_LEN(rkeys));
	if (restart)
		*restart = model_jstr(rp, "");
	if (res_list(req, r, &mreq, unknown, ulen, err) != 0)
		return nap_err_prefix(err, "requests");
	if (lim != NULL) {
		if (res_list(lim, &l, &mlim, unknown, ulen, err) != 0)
			return nap_err_prefix(err, "limits");
		for (k = 0; k < NAP_RES_N; k++)
			if ((mlim & ~mreq) & (1u << k))
				r->v[k] = l.v[k];
	}
	return 0;
}

static int
pod_requests(struct nap_pod *p, json_object *containers, json_object *inits, json_object *podres,
    json_object *overhead, struct nap_err *err)
{
	struct nap_res apps, sidecars, init, one;
	char unknown[64] = "";
	json_object *c;
	const char *restart;
	size_t i, n;
	unsigned mask;
	int k;

	nap_res_zero(&apps);
	nap_res_zero(&sidecars);
	nap_res_zero(&init);
	n = containers && json_object_is_type(containers, json_type_array)
	    ? json_object_array_length(containers)
	    : 0;
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(containers, i);
		if (container_requests(c, &one, NULL, unknown, sizeof(unknown), err) != 0)
			return nap_err_prefix(err, "container %s", nap_json_str(c, "name", "?"));
		nap_res_add(&apps, &one);
	}
	/*
	 * Init containers run one at a time, each alongside the sidecars
	 * (restartPolicy Always) started before it; a sidecar keeps running,
	 * so it also counts with the app containers.
	 */
	n = inits && json_object_is_type(inits, json_type_array) ? json_object_array_length(inits)
								 : 0;
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(inits, i);
		if (container_requests(c, &one, &restart, unknown, sizeof(unknown), err) != 0)
			return nap_err_prefix(
			    err, "init container %s", nap_json_str(c, "name", "?"));
		if (strcmp(restart, "Always") == 0) {
			nap_res_add(&sidecars, &one);
			nap_res_max(&init, &sidecars);
		} else {
			nap_res_add(&one, &sidecars);
			nap_res_max(&init, &one);
		}
	}
	nap_res_add(&apps, &sidecars);
	nap_res_max(&apps, &init);
	/* Pod-level resources replace the container aggregate for what they name. */
	if (podres != NULL) {
		json_object *req = nap_json_key(podres, "requests");

		if (res_list(req, &one, &mask, unknown, sizeof(unknown), err) != 0)
			return nap_err_prefix(err, "resources.requests");
		for (k = 0; k < NAP_RES_N; k++)
			if (mask & (1u << k))
				apps.v[k] = one.v[k];
	}
	if (res_list(overhead, &one, &mask, unknown, sizeof(unknown), err) != 0)
		return nap_err_prefix(err, "overhead");
	nap_res_add(&apps, &one);
	apps.v[NAP_RES_PODS] = 1;
	p->requests = apps;
	p->unknown_resource = model_pool_dup(&p->strings, unknown);
	return 0;
}

/* ---- affinity ---- */

/*
 * The label selectors of pod terms and spread constraints, shared by every
 * term whose selector, merged, is the same JSON text: the replicas of a
 * workload carry the same ones, and a parsed selector costs some 500 bytes
 * against a few for a reference.  Process-wide (nap's tools are
 * single-threaded); an entry goes with its last reference.
 */
struct shared_sel {
	struct nap_selector *sel;
	size_t refs;
	char *text; /* its key in shared_by_text */
};

static struct nap_hash shared_by_text = NAP_HASH_INIT;
static struct nap_hash shared_by_addr = NAP_HASH_INIT; /* "%p" of sel -> entry */

static void
sel_addr(char *buf, size_t len, const struct nap_selector *s)
{
	snprintf(buf, len, "%p", (const void *)s);
}

static int
shared_selector(struct nap_selector **out, json_object *sel, struct nap_err *err)
{
	const char *text;
	struct shared_sel *e;
	char addr[32];

	if (sel == NULL || !json_object_is_type(sel, json_type_object))
		return nap_selector_parse(out, sel, err);
	text = json_object_to_json_string_ext(sel, JSON_C_TO_STRING_PLAIN);
	e = nap_hash_get(&shared_by_text, text);
	if (e) {
		e->refs++;
		*out = e->sel;
		return 0;
	}
	if (nap_selector_parse(out, sel, err) != 0)
		return -1;
	if (*out == NULL)
		return 0;
	e = nap_xmalloc(sizeof(*e));
	e->sel = *out;
	e->refs = 1;
	e->text = nap_xstrdup(text);
	nap_hash_put(&shared_by_text, text, e);
	sel_addr(addr, sizeof(addr), *out);
	nap_hash_put(&shared_by_addr, addr, e);
	return 0;
}

static void
sel_free(struct nap_selector *s)
{
	struct shared_sel *e;
	char addr[32];

	if (s == NULL)
		return;
	sel_addr(addr, sizeof(addr), s);
	e = nap_hash_get(&shared_by_addr, addr);
	if (e == NULL) {
		nap_selector_free(s);
		return;
	}
	if (--e->refs > 0)
		return;
	nap_hash_del(&shared_by_addr, addr);
	nap_hash_del(&shared_by_text, e->text);
	nap_selector_free(e->sel);
	free(e->text);
	free(e);
	if (nap_hash_count(&shared_by_text) == 0) {
		/* nothing shared any more: give the tables back too (leak checkers, tests) */
		nap_hash_free(&shared_by_text);
		nap_hash_free(&shared_by_addr);
	}
}

static void
pod_terms_free(struct nap_pod_term *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(t[i].topology_key);
		sel_free(t[i].selector);
		sel_free(t[i].ns_selector);
		model_strv_free(t[i].namespaces, t[i].nnamespaces);
		model_strv_free(t[i].match_label_keys, t[i].nmatch_label_keys);
		model_strv_free(t[i].mismatch_label_keys, t[i].nmismatch_label_keys);
	}
	free(t);
}

/*
 * Parse a label selector with matchLabelKeys (In the pod's value) and
 * mismatchLabelKeys (NotIn it) merged in, as the API server does for pod
 * affinity and Karpenter and kube-scheduler do for topology spread; a key
 * the pod has no label for adds nothing.  An absent selector stays absent.
 */
static int
merged_selector(struct nap_selector **out, json_object *sel, json_object *labels, char **match,
    size_t nmatch, char **mismatch, size_t nmismatch, struct nap_err *err)
{
	json_object *copy = NULL, *exprs;
	size_t i;
	int rc;

	*out = NULL;
	if (sel == NULL)
		return 0;
	if (nmatch + nmismatch == 0 || !json_object_is_type(sel, json_type_object))
		return shared_selector(out, sel, err);
	json_object_deep_copy(sel, &copy, NULL);
	exprs = nap_json_key(copy, "matchExpressions");
	if (exprs != NULL && !json_object_is_type(exprs, json_type_array)) {
		/* Malformed: let the selector parser say so, merged or not. */
		json_object_put(copy);
		return nap_selector_parse(out, sel, err);
	}
	if (exprs == NULL) {
		exprs = json_object_new_array();
		json_object_object_add(copy, "matchExpressions", exprs);
	}
	for (i = 0; i < nmatch + nmismatch; i++) {
		const char *key = i < nmatch ? match[i] : mismatch[i - nmatch];
		json_object *e, *vals;
		const char *v;

		v = labels ? model_jstr(nap_json_key(labels, key), NULL) : NULL;
		if (v == NULL)
			continue;
		e = json_object_new_object();
		vals = json_object_new_array();
		json_object_array_add(vals, json_object_new_string(v));
		json_object_object_add(e, "key", json_object_new_string(key));
		json_object_object_add(
		    e, "operator", json_object_new_string(i < nmatch ? "In" : "NotIn"));
		json_object_object_add(e, "values", vals);
		json_object_array_add(exprs, e);
	}
	rc = shared_selector(out, copy, err);
	json_object_put(copy);
	return rc;
}

/* A term's hash: as written, in the pod's namespace, with its label-key values. */
static uint64_t
term_hash(
    json_object *o, const struct nap_pod *p, char **keys, size_t nkeys, char **keys2, size_t nkeys2)
{
	uint64_t h = model_json_hash(o, model_str_hash(p->meta.ns, 0));
	size_t i;

	for (i = 0; i < nkeys + nkeys2; i++) {
		const char *k = i < nkeys ? keys[i] : keys2[i - nkeys];
		const char *v =
		    p->meta.labels ? model_jstr(nap_json_key(p->meta.labels, k), "") : "";

		h = model_str_hash(v, h);
	}
	return h;
}

static int
pod_term(struct nap_pod_term *t, json_object *o, int weight, const struct nap_pod *p,
    struct nap_err *err)
{
	json_object *sel = nap_json_key(o, "labelSelector");
	json_object *nsel = nap_json_key(o, "namespaceSelector");
	const char *tk = nap_json_str(o, "topologyKey", "");

	t->weight = weight;
	t->topology_key = nap_xstrdup(tk);
	if (*tk == '\0')
		return nap_err_set(err, NAP_EX_DATAERR, "topologyKey is empty");
	if (model_strv(nap_json_key(o, "matchLabelKeys"), &t->match_label_keys,
		&t->nmatch_label_keys, "matchLabelKeys", err) != 0 ||
	    model_strv(nap_json_key(o, "mismatchLabelKeys"), &t->mismatch_label_keys,
		&t->nmismatch_label_keys, "mismatchLabelKeys", err) != 0)
		return -1;
	t->hash = term_hash(o, p, t->match_label_keys, t->nmatch_label_keys, t->mismatch_label_keys,
		      t->nmismatch_label_keys) +
	    (uint64_t)weight;
	if (merged_selector(&t->selector, sel, p->meta.labels, t->match_label_keys,
		t->nmatch_label_keys, t->mismatch_label_keys, t->nmismatch_label_keys, err) != 0)
		return nap_err_prefix(err, "labelSelector");
	if (nsel != NULL && nap_selector_parse(&t->ns_selector, nsel, err) != 0)
		return nap_err_prefix(err, "namespaceSelector");
	if (model_strv(nap_json_key(o, "namespaces"), &t->namespaces, &t->nnamespaces, "namespaces",
		err) != 0)
		return -1;
	if (t->nnamespaces == 0 && nsel == NULL) {
		t->namespaces = nap_xcalloc(1, sizeof(char *));
		t->namespaces[0] = nap_xstrdup(p->meta.ns);
		t->nnamespaces = 1;
	}
	return 0;
}

static int
pod_terms(json_object *aff, const struct nap_pod *p, struct nap_pod_term **out, size_t *n,
    struct nap_err *err)
{
	json_object *req = nap_json_key(aff, "requiredDuringSchedulingIgnoredDuringExecution");
	json_object *pref = nap_json_key(aff, "preferredDuringSchedulingIgnoredDuringExecution");
	size_t nreq = 0, npref = 0, i;

	*out = NULL;
	*n = 0;
	if ((req && !json_object_is_type(req, json_type_array)) ||
	    (pref && !json_object_is_type(pref, json_type_array)))
		return nap_err_set(err, NAP_EX_DATAERR, "terms are not a list");
	if (req)
		nreq = json_object_array_length(req);
	if (pref)
		npref = json_object_array_length(pref);
	if (nreq + npref == 0)
		return 0;
	*out = nap_xcalloc(nreq + npref, sizeof(**out));
	for (i = 0; i < nreq + npref; i++) {
		json_object *o;
		int64_t w = 0;
		int rc;

		*n = i + 1;
		if (i < nreq) {
			o = json_object_array_get_idx(req, i);
			rc = pod_term(&(*out)[i], o, 0, p, err);
		} else {
			o = json_object_array_get_idx(pref, i - nreq);
			rc = nap_json_int_in(o, "weight", 1, 100, &w, err);
			if (rc > 0)
				rc = nap_err_set(err, NAP_EX_DATAERR, "weight is missing");
			if (rc < 0)
				return nap_err_prefix(err, "preferred term %zu", i - nreq);
			rc = pod_term(
			    &(*out)[i], nap_json_key(o, "podAffinityTerm"), (int)w, p, err);
		}
		if (rc != 0)
			return i < nreq ? nap_err_prefix(err, "required term %zu", i)
					: nap_err_prefix(err, "preferred term %zu", i - nreq);
	}
	return 0;
}

/* The one node term of the many pods that do not restrict their node: shared, never freed. */
static struct nap_node_term any_node;

static int
node_affinity(struct nap_pod *p, json_object *sel, json_object *na, struct nap_err *err)
{
	json_object *req = nap_json_key(na, "requiredDuringSchedulingIgnoredDuringExecution");
	json_object *terms = nap_json_key(req, "nodeSelectorTerms");
	json_object *pref = nap_json_key(na, "preferredDuringSchedulingIgnoredDuringExecution");
	struct nap_reqs *r = NULL;
	size_t n = 0, i;

	if (sel && !json_object_is_type(sel, json_type_object))
		return nap_err_set(err, NAP_EX_DATAERR, "nodeSelector: not a map");
	if (req != NULL && !json_object_is_type(req, json_type_object))
		return nap_err_set(err, NAP_EX_DATAERR,
		    "required node affinity: not an object with nodeSelectorTerms");
	if (model_node_terms(terms, &r, &n, err) != 0)
		return nap_err_prefix(err, "required node affinity");
	if (n == 0 && (sel == NULL || json_object_object_length(sel) == 0)) {
		p->node_terms = &any_node;
		p->nnode_terms = 1;
	} else {
		if (n == 0) {
			r = nap_xcalloc(1, sizeof(*r));
			nap_reqs_init(r);
			n = 1;
		}
		p->node_terms = nap_xcalloc(n, sizeof(*p->node_terms));
		for (i = 0; i < n; i++) {
			p->node_terms[i].reqs = r[i];
			if (sel)
				nap_reqs_add_labels(&p->node_terms[i].reqs, sel);
		}
		p->nnode_terms = n;
		free(r);
	}

	if (pref == NULL)
		return 0;
	if (!json_object_is_type(pref, json_type_array))
		return nap_err_set(err, NAP_EX_DATAERR, "preferred node affinity: not a list");
	n = json_object_array_length(pref);
	if (n == 0)
		return 0;
	p->node_prefs = nap_xcalloc(n, sizeof(*p->node_prefs));
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(pref, i);
		struct nap_node_term *t = &p->node_prefs[i];
		int64_t w = 0;
		int rc;

		p->nnode_prefs = i + 1;
		nap_reqs_init(&t->reqs);
		rc = nap_json_int_in(o, "weight", 1, 100, &w, err);
		if (rc > 0)
			rc = nap_err_set(err, NAP_EX_DATAERR, "weight is missing");
		if (rc < 0)
			return nap_err_prefix(err, "preferred node affinity %zu", i);
		t->weight = (int)w;
		if (nap_reqs_add_json(
			&t->reqs, nap_json_get(o, "preference.matchExpressions"), err) != 0)
			return nap_err_prefix(err, "preferred node affinity %zu", i);
	}
	return 0;
}

/* ---- topology spread ---- */

static void
spread_free(struct nap_spread *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(s[i].topology_key);
		sel_free(s[i].selector);
		model_strv_free(s[i].match_label_keys, s[i].nmatch_label_keys);
	}
	free(s);
}

static int
spread_one(struct nap_spread *s, json_object *o, const struct nap_pod *p, struct nap_err *err)
{
	const char *w = nap_json_str(o, "whenUnsatisfiable", "");
	const char *ap = nap_json_str(o, "nodeAffinityPolicy", "Honor");
	const char *tp = nap_json_str(o, "nodeTaintsPolicy", "Ignore");
	json_object *sel = nap_json_key(o, "labelSelector");
	int64_t v = 0;
	int rc;

	s->topology_key = model_str(o, "topologyKey");
	if (*s->topology_key == '\0')
		return nap_err_set(err, NAP_EX_DATAERR, "topologyKey is empty");
	/* int32 fields in the API: checked whole, never truncated (2^32 + 1 is not 1) */
	rc = nap_json_int_in(o, "maxSkew", 1, INT32_MAX, &v, err);
	if (rc > 0)
		rc = nap_err_set(err, NAP_EX_DATAERR, "maxSkew is missing");
	if (rc < 0)
		return -1;
	s->max_skew = (int)v;
	if (strcmp(w, "DoNotSchedule") == 0)
		s->do_not_schedule = 1;
	else if (strcmp(w, "ScheduleAnyway") != 0)
		return nap_err_set(err, NAP_EX_DATAERR, "unknown whenUnsatisfiable \"%s\"", w);
	v = 0;
	if (nap_json_int_in(o, "minDomains", 1, INT32_MAX, &v, err) < 0)
		return -1;
	s->min_domains = (int)v;
	if (strcmp(ap, "Honor") == 0)
		s->honor_affinity = 1;
	else if (strcmp(ap, "Ignore") != 0)
		return nap_err_set(err, NAP_EX_DATAERR, "unknown nodeAffinityPolicy \"%s\"", ap);
	if (strcmp(tp, "Honor") == 0)
		s->honor_taints = 1;
	else if (strcmp(tp, "Ignore") != 0)
		return nap_err_set(err, NAP_EX_DATAERR, "unknown nodeTaintsPolicy \"%s\"", tp);
	if (model_strv(nap_json_key(o, "matchLabelKeys"), &s->match_label_keys,
		&s->nmatch_label_keys, "matchLabelKeys", err) != 0)
		return -1;
	s->hash = term_hash(o, p, s->match_label_keys, s->nmatch_label_keys, NULL, 0);
	if (merged_selector(&s->selector, sel, p->meta.labels, s->match_label_keys,
		s->nmatch_label_keys, NULL, 0, err) != 0)
		return nap_err_prefix(err, "labelSelector");
	return 0;
}

static int
spreads(struct nap_pod *p, json_object *arr, struct nap_err *err)
{
	size_t i, n;

	if (arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return nap_err_set(err, NAP_EX_DATAERR, "topologySpreadConstraints: not a list");
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	p->spread = nap_xcalloc(n, sizeof(*p->spread));
	for (i = 0; i < n; i++) {
		p->nspread = i + 1;
		if (spread_one(&p->spread[i], json_object_array_get_idx(arr, i), p, err) != 0)
			return nap_err_prefix(err, "topologySpreadConstraints[%zu]", i);
	}
	return 0;
}

/* ---- volumes and ports ---- */

static void
volumes(struct nap_pod *p, json_object *arr)
{
	size_t i, n, alloc = 0;

	n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		json_object *name, *pvc, *eph;
		const struct model_key keys[] = {
		    {"name", &name},
		    {"persistentVolumeClaim", &pvc},
		    {"ephemeral", &eph},
		};
		const char *claim;

		model_scan(json_object_array_get_idx(arr, i), keys, NAP_ARRAY_LEN(keys));
		claim = nap_json_str(pvc, "claimName", NULL);
		if (claim == NULL && eph == NULL)
			continue;
		nap_xgrow(&p->pvcs, &alloc, p->npvcs + 1, sizeof(*p->pvcs));
		/* The ephemeral volume controller names the claim <pod>-<volume>. */
		p->pvcs[p->npvcs++] = claim
		    ? nap_xstrdup(claim)
		    : nap_xasprintf("%s-%s", p->meta.name, model_jstr(name, ""));
	}
}

static void
host_ports(struct nap_pod *p, json_object *arr)
{
	json_object *ports;
	size_t i, j, n, np, k = 0, alloc = 0;
	char ip[64];

	n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		ports = nap_json_array(json_object_array_get_idx(arr, i), "ports", &np);
		for (j = 0; j < np; j++) {
			json_object *o = json_object_array_get_idx(ports, j);
			int64_t hp = 0;

			/* a port the API server would refuse (not 1..65535) reserves nothing */
			if (nap_json_int_in(o, "hostPort", 1, 65535, &hp, NULL) != 0)
				continue;
			nap_xgrow(&p->host_ports, &alloc, k + 1, sizeof(*p->host_ports));
			p->host_ports[k].port = (int)hp;
			p->host_ports[k].protocol = nap_xstrdup(nap_json_str(o, "protocol", "TCP"));
			nap_host_ip_canon(nap_json_str(o, "hostIP", ""), ip, sizeof(ip));
			p->host_ports[k].ip = nap_xstrdup(ip);
			k++;
		}
	}
	p->nhost_ports = k;
}

/* ---- the spec ---- */

int
model_pod_spec(struct nap_pod *p, json_object *spec, struct nap_err *err)
{
	json_object *node, *prio, *preempt, *gates, *grace, *containers, *inits, *res, *overhead,
	    *sel, *aff, *tol, *tsc, *vols;
	const struct model_key keys[] = {
	    {"nodeName", &node},
	    {"priority", &prio},
	    {"preemptionPolicy", &preempt},
	    {"schedulingGates", &gates},
	    {"terminationGracePeriodSeconds", &grace},
	    {"containers", &containers},
	    {"initContainers", &inits},
	    {"resources", &res},
	    {"overhead", &overhead},
	    {"nodeSelector", &sel},
	    {"affinity", &aff},
	    {"tolerations", &tol},
	    {"topologySpreadConstraints", &tsc},
	    {"volumes", &vols},
	};

	model_scan(spec, keys, NAP_ARRAY_LEN(keys));
	p->unknown_resource = model_pool_dup(&p->strings, "");
	p->node_name = model_pool_dup(&p->strings, model_jstr(node, ""));
	p->priority = (int32_t)model_jint(prio, 0);
	p->preempt_never = strcmp(model_jstr(preempt, ""), "Never") == 0;
	p->gated = gates && json_object_is_type(gates, json_type_array) &&
	    json_object_array_length(gates) > 0;
	p->grace_seconds = model_jint(grace, 30);
	if (spec != NULL && !json_object_is_type(spec, json_type_object))
		return nap_err_set(err, NAP_EX_DATAERR, "spec: not an object");
	if ((containers && !json_object_is_type(containers, json_type_array)) ||
	    (inits && !json_object_is_type(inits, json_type_array)) ||
	    (vols && !json_object_is_type(vols, json_type_array)))
		return nap_err_set(
		    err, NAP_EX_DATAERR, "containers, initContainers and volumes must be lists");
	if (pod_requests(p, containers, inits, res, overhead, err) != 0)
		return -1;
	if (node_affinity(p, sel, nap_json_key(aff, "nodeAffinity"), err) != 0)
		return -1;
	if (model_tolerations(tol, &p->tolerations, &p->ntolerations, &p->strings, err) != 0)
		return -1;
	if (aff != NULL) {
		if (pod_terms(
			nap_json_key(aff, "podAffinity"), p, &p->affinity, &p->naffinity, err) != 0)
			return nap_err_prefix(err, "pod affinity");
		if (pod_terms(nap_json_key(aff, "podAntiAffinity"), p, &p->anti_affinity,
			&p->nanti_affinity, err) != 0)
			return nap_err_prefix(err, "pod anti-affinity");
	}
	if (spreads(p, tsc, err) != 0)
		return -1;
	volumes(p, vols);
	host_ports(p, containers);
	{
		uint64_t h = model_str_hash(p->meta.ns, 0);
		size_t i;

		h = model_json_hash(p->meta.labels, h);
		h = model_json_hash(sel, h);
		h = model_json_hash(aff, h);
		h = model_json_hash(tol, h);
		h = model_json_hash(tsc, h);
		h = model_json_hash(gates, h);
		/* host ports keep a pod off nodes where another holds them: a constraint */
		for (i = 0; i < p->nhost_ports; i++) {
			const struct nap_host_port *hp = &p->host_ports[i];

			h = model_bytes_hash(&hp->port, sizeof(hp->port), h);
			h = model_str_hash(hp->protocol, h);
			h = model_str_hash(hp->ip, h);
		}
		p->constraints_hash = h;
		h = model_bytes_hash(&p->requests, sizeof(p->requests), h);
		p->sched_hash = model_str_hash(p->unknown_resource, h);
	}
	return 0;
}

void
model_pod_spec_free(struct nap_pod *p)
{
	size_t i;

	if (p->node_terms != &any_node) {
		for (i = 0; i < p->nnode_terms; i++)
			nap_reqs_free(&p->node_terms[i].reqs);
		free(p->node_terms);
	}
	for (i = 0; i < p->nnode_prefs; i++)
		nap_reqs_free(&p->node_prefs[i].reqs);
	free(p->node_prefs);
	model_tolerations_free(p->tolerations);
	pod_terms_free(p->affinity, p->naffinity);
	pod_terms_free(p->anti_affinity, p->nanti_affinity);
	spread_free(p->spread, p->nspread);
	model_strv_free(p->pvcs, p->npvcs);
	for (i = 0; i < p->nhost_ports; i++) {
		free(p->host_ports[i].protocol);
		free(p->host_ports[i].ip);
	}
	free(p->host_ports);
}

/* ---- the pod ---- */

static enum nap_phase
phase_parse(const char *s)
{
	if (strcmp(s, "Running") == 0)
		return NAP_PHASE_RUNNING;
	if (strcmp(s, "Succeeded") == 0)
		return NAP_PHASE_SUCCEEDED;
	if (strcmp(s, "Failed") == 0)
		return NAP_PHASE_FAILED;
	if (strcmp(s, "Unknown") == 0)
		return NAP_PHASE_UNKNOWN;
	return NAP_PHASE_PENDING;
}

static enum nap_owner_kind
owner_kind(const char *kind)
{
	static const struct {
		const char *kind;
		enum nap_owner_kind k;
	} map[] = {
	    {"DaemonSet", NAP_OWNER_DAEMONSET},
	    {"Node", NAP_OWNER_NODE},
	    {"ReplicaSet", NAP_OWNER_REPLICASET},
	    {"StatefulSet", NAP_OWNER_STATEFULSET},
	    {"Job", NAP_OWNER_JOB},
	};
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(map); i++)
		if (strcmp(kind, map[i].kind) == 0)
			return map[i].k;
	return NAP_OWNER_OTHER;
}

/*
 * DaemonSet and Node owners decide provisioning whether or not they are the
 * controller (Karpenter checks every owner reference); otherwise the
 * controller owner names the pod's workload.
 */
static void
owners(struct nap_pod *p, json_object *md)
{
	json_object *arr, *pick = NULL;
	size_t i, n;
	enum nap_owner_kind best = NAP_OWNER_NONE;

	arr = nap_json_array(md, "ownerReferences", &n);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		enum nap_owner_kind k = owner_kind(nap_json_str(o, "kind", ""));

		if (k == NAP_OWNER_DAEMONSET ||
		    (k == NAP_OWNER_NODE && best != NAP_OWNER_DAEMONSET)) {
			best = k;
			pick = o;
		} else if (best == NAP_OWNER_NONE &&
		    (pick == NULL || nap_json_bool(o, "controller", 0))) {
			pick = o;
		}
	}
	if (pick && best == NAP_OWNER_NONE)
		best = owner_kind(nap_json_str(pick, "kind", ""));
	p->owner = best;
	p->owner_name = model_pool_dup(&p->strings, nap_json_str(pick, "name", ""));
	p->owner_uid = model_pool_dup(&p->strings, nap_json_str(pick, "uid", ""));
}

static void
pod_status(struct nap_pod *p, json_object *st)
{
	json_object *phase, *nominated, *start, *conds;
	const struct model_key keys[] = {
	    {"phase", &phase},
	    {"nominatedNodeName", &nominated},
	    {"startTime", &start},
	    {"conditions", &conds},
	};
	size_t i, n;
	const char *ts;

	model_scan(st, keys, NAP_ARRAY_LEN(keys));
	p->phase = phase_parse(model_jstr(phase, ""));
	p->nominated = model_pool_dup(&p->strings, model_jstr(nominated, ""));
	ts = model_jstr(start, NULL);
	if (ts == NULL || nap_time_parse(ts, &p->started) != 0)
		p->started = 0;
	n = conds && json_object_is_type(conds, json_type_array) ? json_object_array_length(conds)
								 : 0;
	for (i = 0; i < n; i++) {
		json_object *type, *status, *reason;
		const struct model_key ck[] = {
		    {"type", &type},
		    {"status", &status},
		    {"reason", &reason},
		};
		const char *t, *s;

		model_scan(json_object_array_get_idx(conds, i), ck, NAP_ARRAY_LEN(ck));
		t = model_jstr(type, "");
		s = model_jstr(status, "");
		if (strcmp(t, "PodScheduled") == 0 && strcmp(s, "False") == 0 &&
		    p->scheduled_reason == NULL)
			p->scheduled_reason = model_pool_dup(&p->strings, model_jstr(reason, ""));
		else if (strcmp(t, "Ready") == 0)
			p->ready = strcmp(s, "True") == 0;
	}
	if (p->scheduled_reason == NULL)
		p->scheduled_reason = model_pool_dup(&p->strings, "");
}

/*
 * The pod's strings in one block of their exact size: a cluster keeps tens
 * of thousands of pods, and the pool's doubling leaves up to half of each
 * pod's last block empty.  Every string the pod keeps in its pool is named
 * here; model_pool_pack leaves the pool alone if one is missing.
 */
static void
pod_pack(struct nap_pod *p)
{
	char **fixed[] = {&p->meta.ns, &p->meta.name, &p->meta.uid, &p->meta.rv, &p->node_name,
	    &p->nominated, &p->scheduled_reason, &p->owner_name, &p->owner_uid,
	    &p->unknown_resource, &p->do_not_disrupt};
	char **stack[32], ***f = stack;
	size_t n = 0, i, ntol = model_tolerations_shared(p->tolerations) ? 0 : p->ntolerations;

	if (NAP_ARRAY_LEN(fixed) + 2 * ntol > NAP_ARRAY_LEN(stack))
		f = nap_xcalloc(NAP_ARRAY_LEN(fixed) + 2 * ntol, sizeof(*f));
	for (i = 0; i < NAP_ARRAY_LEN(fixed); i++)
		f[n++] = fixed[i];
	for (i = 0; i < ntol; i++) {
		f[n++] = &p->tolerations[i].key;
		f[n++] = &p->tolerations[i].value;
	}
	model_pool_pack(&p->strings, (char **const *)f, n);
	if (f != stack)
		free(f);
}

int
nap_pod_from_json(struct nap_pod *p, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];
	const char *cost;
	json_object *md, *spec, *st;
	const struct model_key keys[] = {
	    {"metadata", &md},
	    {"spec", &spec},
	    {"status", &st},
	};

	memset(p, 0, sizeof(*p));
	if (model_meta_pooled(&p->meta, obj, 1, "pod", &p->strings, err) != 0) {
		nap_pod_free(p);
		return -1;
	}
	model_scan(obj, keys, NAP_ARRAY_LEN(keys));
	owners(p, md);
	pod_status(p, st);
	if (p->meta.annotations) {
		p->mirror = nap_meta_annotation(&p->meta, NAP_ANN_MIRROR_POD) != NULL;
		p->do_not_disrupt = nap_meta_annotation(&p->meta, NAP_ANN_DO_NOT_DISRUPT)
		    ? model_pool_dup(
			  &p->strings, nap_meta_annotation(&p->meta, NAP_ANN_DO_NOT_DISRUPT))
		    : NULL;
		cost = nap_meta_annotation(&p->meta, NAP_ANN_POD_DELETION_COST);
		if (cost) {
			char *end;
			long long v = strtoll(cost, &end, 10);

			/* An invalid cost is ignored, as the ReplicaSet controller does. */
			p->deletion_cost = (end != cost && *end == '\0') ? (int64_t)v : 0;
		}
	}
	if (model_pod_spec(p, spec, err) != 0) {
		snprintf(who, sizeof(who), "pod %s/%s", p->meta.ns, p->meta.name);
		nap_err_prefix(err, "%s", who);
		nap_pod_free(p);
		return -1;
	}
	pod_pack(p);
	return 0;
}

void
nap_pod_free(struct nap_pod *p)
{
	model_pod_spec_free(p);
	model_meta_free_pooled(&p->meta);
	model_pool_free(p->strings);
	memset(p, 0, sizeof(*p));
}

int
nap_pod_is_terminal(const struct nap_pod *p)
{
	return p->phase == NAP_PHASE_SUCCEEDED || p->phase == NAP_PHASE_FAILED;
}

int
nap_pod_is_daemon_or_static(const struct nap_pod *p)
{
	return p->owner == NAP_OWNER_DAEMONSET || p->owner == NAP_OWNER_NODE || p->mirror;
}

int
nap_pod_is_provisionable(const struct nap_pod *p)
{
	return strcmp(p->scheduled_reason, "Unschedulable") == 0 && p->node_name[0] == '\0' &&
	    p->nominated[0] == '\0' && p->owner != NAP_OWNER_DAEMONSET &&
	    p->owner != NAP_OWNER_NODE && !nap_pod_is_terminal(p) && p->meta.deleted == 0;
}

int
nap_pod_do_not_disrupt(const struct nap_pod *p, int64_t now)
{
	int64_t ms;

	if (p->do_not_disrupt == NULL)
		return 0;
	if (strcmp(p->do_not_disrupt, "true") == 0)
		return 1;
	if (nap_model_duration(p->do_not_disrupt, &ms, NULL) != 0 || ms == NAP_NEVER)
		return 0;
	/* A pod not started yet has its whole window ahead of it. */
	return p->started == 0 || now < p->started + ms / 1000;
}

double
nap_pod_eviction_cost(const struct nap_pod *p)
{
	double c = 1.0 + (double)p->deletion_cost / 134217728.0 + (double)p->priority / 33554432.0;

	return c < -10.0 ? -10.0 : c > 10.0 ? 10.0 : c;
}
