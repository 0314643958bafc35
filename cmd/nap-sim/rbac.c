/*
 * rbac.c - what the API server does to Roles, ClusterRoles, RoleBindings
 * and ClusterRoleBindings before it stores them: the v1 defaults
 * (roleRef.apiGroup, a subject's apiGroup by its kind), the validation a
 * user meets (a rule needs verbs, a binding needs a roleRef naming a Role
 * or ClusterRole, subjects of a known kind) and, on update, the one
 * immutable field, roleRef.
 *
 * nap-sim serves these kinds so that RBAC manifests apply; it does not
 * authorize requests by them, so it also skips what only an authorizer
 * needs (escalation checks, ClusterRole aggregation).
 *
 * Messages are the real server's, for the first invalid field only (a real
 * server lists them all in brackets).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "json.h"
#include "text.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"

enum { K_NONE, K_ROLE, K_CLUSTERROLE, K_ROLEBINDING, K_CLUSTERROLEBINDING };

static int
rbac_kind(int res)
{
	const struct sim_rdesc *d = &sim_rdescs[res];

	if (strcmp(d->group, RBAC_GROUP))
		return K_NONE;
	if (!strcmp(d->resource, "roles"))
		return K_ROLE;
	if (!strcmp(d->resource, "clusterroles"))
		return K_CLUSTERROLE;
	if (!strcmp(d->resource, "rolebindings"))
		return K_ROLEBINDING;
	if (!strcmp(d->resource, "clusterrolebindings"))
		return K_CLUSTERROLEBINDING;
	return K_NONE;
}

/* s as Go's %q prints it, into buf. */
static const char *
goquote(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	if (size < 3)
		return "\"\"";
	buf[n++] = '"';
	for (; *s && n + 6 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else if (c == '\t') {
			buf[n++] = '\\';
			buf[n++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}

static int invalid(struct nap_err *err, int res, json_object *obj, const char *fmt, ...)
    NAP_PRINTF(4, 5);

/* "<Kind>.rbac.authorization.k8s.io "<name>" is invalid: <field>: <what>" */
static int
invalid(struct nap_err *err, int res, json_object *obj, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return sim_err_status(err, 422, "%s.%s \"%s\" is invalid: %s", sim_rdescs[res].kind,
	    RBAC_GROUP, nap_json_str(obj, "metadata.name", ""), what);
}

static const char *
json_type_go(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		return "bool";
	case json_type_int:
	case json_type_double:
		return "number";
	case json_type_string:
		return "string";
	case json_type_array:
		return "array";
	case json_type_object:
		return "object";
	default:
		return "null";
	}
}

/* What decoding answers when a field has the wrong JSON type. */
static int
undecodable(struct nap_err *err, int res, json_object *v, const char *field, const char *gotype)
{
	const char *kind = sim_rdescs[res].kind;

	return sim_err_status(err, 400,
	    "%s in version \"v1\" cannot be handled as a %s: json: cannot unmarshal %s into Go "
	    "struct field %s.%s of type %s",
	    kind, kind, json_type_go(v), kind, field, gotype);
}

/*
 * obj[key] when absent, null or of type t; else -1 and the decoding error.
 * *out is NULL for absent and null.
 */
static int
field_of(json_object *obj, const char *key, json_type t, const char *path, const char *gotype,
    int res, json_object **out, struct nap_err *err)
{
	json_object *v = json_object_object_get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_object_is_type(v, t))
		return undecodable(err, res, v, path, gotype);
	*out = v;
	return 0;
}

/* A list of strings at obj[key]: its length, or -1 and the decoding error. */
static long
strings_at(json_object *obj, const char *key, const char *path, int res, struct nap_err *err)
{
	json_object *a;
	size_t i, n;

	if (field_of(obj, key, json_type_array, path, "[]string", res, &a, err) < 0)
		return -1;
	n = a ? json_object_array_length(a) : 0;
	for (i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(a, i);

		if (!json_object_is_type(s, json_type_string))
			return undecodable(err, res, s, path, "string");
	}
	return (long)n;
}

/* The list as Go's %#v prints a []string. */
static const char *
gostrings(json_object *a, char *buf, size_t size)
{
	size_t i, n = json_object_array_length(a), k;
	char q[256];

	k = (size_t)snprintf(buf, size, "[]string{");
	for (i = 0; i < n && k < size; i++)
		k += (size_t)snprintf(buf + k, size - k, "%s%s", i ? ", " : "",
		    goquote(json_object_get_string(json_object_array_get_idx(a, i)), q, sizeof(q)));
	if (k < size)
		snprintf(buf + k, size - k, "}");
	return buf;
}

static int
check_rule(
    json_object *rule, size_t i, int namespaced, int res, json_object *obj, struct nap_err *err)
{
	long verbs, groups, resources, names, urls;
	char list[512];

	if (!json_object_is_type(rule, json_type_object))
		return undecodable(err, res, rule, "rules", "v1.PolicyRule");
	if ((verbs = strings_at(rule, "verbs", "rules.verbs", res, err)) < 0 ||
	    (groups = strings_at(rule, "apiGroups", "rules.apiGroups", res, err)) < 0 ||
	    (resources = strings_at(rule, "resources", "rules.resources", res, err)) < 0 ||
	    (names = strings_at(rule, "resourceNames", "rules.resourceNames", res, err)) < 0 ||
	    (urls = strings_at(rule, "nonResourceURLs", "rules.nonResourceURLs", res, err)) < 0)
		return -1;
	if (verbs == 0)
		return invalid(err, res, obj,
		    "rules[%zu].verbs: Required value: verbs must contain at least one value", i);
	if (urls > 0) {
		gostrings(json_object_object_get(rule, "nonResourceURLs"), list, sizeof(list));
		if (namespaced)
			return invalid(err, res, obj,
			    "rules[%zu].nonResourceURLs: Invalid value: %s: namespaced rules "
			    "cannot apply to non-resource URLs",
			    i, list);
		if (groups > 0 || resources > 0 || names > 0)
			return invalid(err, res, obj,
			    "rules[%zu].nonResourceURLs: Invalid value: %s: rules cannot apply to "
			    "both regular resources and non-resource URLs",
			    i, list);
		return 0;
	}
	if (groups == 0)
		return invalid(err, res, obj,
		    "rules[%zu].apiGroups: Required value: resource rules must supply at least "
		    "one api group",
		    i);
	if (resources == 0)
		return invalid(err, res, obj,
		    "rules[%zu].resources: Required value: resource rules must supply at least "
		    "one resource",
		    i);
	return 0;
}

static int
check_role(int kind, int res, json_object *obj, struct nap_err *err)
{
	json_object *rules, *agg, *sel;
	size_t i, n;

	if (field_of(obj, "rules", json_type_array, "rules", "[]v1.PolicyRule", res, &rules, err) <
	    0)
		return -1;
	n = rules ? json_object_array_length(rules) : 0;
	for (i = 0; i < n; i++)
		if (check_rule(
			json_object_array_get_idx(rules, i), i, kind == K_ROLE, res, obj, err) < 0)
			return -1;
	if (kind != K_CLUSTERROLE)
		return 0;
	if (field_of(obj, "aggregationRule", json_type_object, "aggregationRule",
		"v1.AggregationRule", res, &agg, err) < 0)
		return -1;
	if (!agg)
		return 0;
	if (field_of(agg, "clusterRoleSelectors", json_type_array,
		"aggregationRule.clusterRoleSelectors", "[]v1.LabelSelector", res, &sel, err) < 0)
		return -1;
	if (!sel || !json_object_array_length(sel))
		return invalid(err, res, obj,
		    "aggregationRule.clusterRoleSelectors: Required value: at least one "
		    "clusterRoleSelector required if aggregationRule is non-nil");
	return 0;
}

/* IsValidPathSegmentName: what a name must not be to sit in a URL path. */
static const char *
bad_segment(const char *name)
{
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return !strcmp(name, ".") ? "may not be '.'" : "may not be '..'";
	if (strchr(name, '/'))
		return "may not contain '/'";
	if (strchr(name, '%'))
		return "may not contain '%'";
	return NULL;
}

static int
check_subject(
    json_object *s, size_t i, int namespaced, int res, json_object *obj, struct nap_err *err)
{
	const char *kind, *group, *name, *why;
	char q[320];

	if (!json_object_is_type(s, json_type_object))
		return undecodable(err, res, s, "subjects", "v1.Subject");
	kind = nap_json_str(s, "kind", "");
	group = nap_json_str(s, "apiGroup", "");
	name = nap_json_str(s, "name", "");
	if (!*name)
		return invalid(err, res, obj, "subjects[%zu].name: Required value", i);
	if (!strcmp(kind, "ServiceAccount")) {
		/* IsDNS1123Subdomain, as a ServiceAccount's name must be */
		if (nap_k8s_name_check(name, 0, &why) < 0)
			return invalid(err, res, obj, "subjects[%zu].name: Invalid value: %s: %s",
			    i, goquote(name, q, sizeof(q)), why);
		if (*group)
			return invalid(err, res, obj,
			    "subjects[%zu].apiGroup: Unsupported value: %s: supported values: \"\"",
			    i, goquote(group, q, sizeof(q)));
		if (!namespaced && !*nap_json_str(s, "namespace", ""))
			return invalid(err, res, obj, "subjects[%zu].namespace: Required value", i);
	} else if (!strcmp(kind, "User") || !strcmp(kind, "Group")) {
		if (strcmp(group, RBAC_GROUP))
			return invalid(err, res, obj,
			    "subjects[%zu].apiGroup: Unsupported value: %s: supported values: "
			    "\"" RBAC_GROUP "\"",
			    i, goquote(group, q, sizeof(q)));
	} else {
		return invalid(err, res, obj,
		    "subjects[%zu].kind: Unsupported value: %s: supported values: "
		    "\"ServiceAccount\", \"User\", \"Group\"",
		    i, goquote(kind, q, sizeof(q)));
	}
	return 0;
}

/* The roleRef as Go's %#v prints the internal rbac.RoleRef. */
static const char *
roleref_go(json_object *ref, char *buf, size_t size)
{
	char g[256], k[256], n[320];

	snprintf(buf, size, "rbac.RoleRef{APIGroup:%s, Kind:%s, Name:%s}",
	    goquote(nap_json_str(ref, "apiGroup", ""), g, sizeof(g)),
	    goquote(nap_json_str(ref, "kind", ""), k, sizeof(k)),
	    goquote(nap_json_str(ref, "name", ""), n, sizeof(n)));
	return buf;
}

/* Equal as defaulted: a stored roleRef (say from --state) may lack apiGroup. */
static int
roleref_equal(json_object *a, json_object *b)
{
	static const char *const keys[] = {"apiGroup", "kind", "name"};
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(keys); i++) {
		const char *x = nap_json_str(a, keys[i], ""), *y = nap_json_str(b, keys[i], "");

		if (i == 0) {
			x = *x ? x : RBAC_GROUP;
			y = *y ? y : RBAC_GROUP;
		}
		if (strcmp(x, y))
			return 0;
	}
	return 1;
}

static int
check_binding(int kind, int res, json_object *obj, json_object *old, struct nap_err *err)
{
	json_object *ref, *subjects;
	const char *rk, *rn, *why;
	size_t i, n;
	char q[320], was[1024];

	/* Decoding made roleRef an object (RoleRef is no pointer) and defaulted it. */
	ref = json_object_object_get(obj, "roleRef");
	if (strcmp(nap_json_str(ref, "apiGroup", ""), RBAC_GROUP))
		return invalid(err, res, obj,
		    "roleRef.apiGroup: Unsupported value: %s: supported values: \"" RBAC_GROUP "\"",
		    goquote(nap_json_str(ref, "apiGroup", ""), q, sizeof(q)));
	rk = nap_json_str(ref, "kind", "");
	if (kind == K_ROLEBINDING && strcmp(rk, "Role") && strcmp(rk, "ClusterRole"))
		return invalid(err, res, obj,
		    "roleRef.kind: Unsupported value: %s: supported values: \"Role\", "
		    "\"ClusterRole\"",
		    goquote(rk, q, sizeof(q)));
	if (kind == K_CLUSTERROLEBINDING && strcmp(rk, "ClusterRole"))
		return invalid(err, res, obj,
		    "roleRef.kind: Unsupported value: %s: supported values: \"ClusterRole\"",
		    goquote(rk, q, sizeof(q)));
	rn = nap_json_str(ref, "name", "");
	if (!*rn)
		return invalid(err, res, obj, "roleRef.name: Required value");
	if ((why = bad_segment(rn)))
		return invalid(err, res, obj, "roleRef.name: Invalid value: %s: %s",
		    goquote(rn, q, sizeof(q)), why);
	if (field_of(obj, "subjects", json_type_array, "subjects", "[]v1.Subject", res, &subjects,
		err) < 0)
		return -1;
	n = subjects ? json_object_array_length(subjects) : 0;
	for (i = 0; i < n; i++)
		if (check_subject(json_object_array_get_idx(subjects, i), i, kind == K_ROLEBINDING,
			res, obj, err) < 0)
			return -1;
	if (old && !roleref_equal(ref, json_object_object_get(old, "roleRef")))
		return invalid(err, res, obj, "roleRef: Invalid value: %s: cannot change roleRef",
		    roleref_go(ref, was, sizeof(was)));
	return 0;
}

/* The v1 defaults, applied as decoding would, before validation. */
static int
set_defaults(int kind, int res, json_object *obj, struct nap_err *err)
{
	json_object *ref, *subjects;
	size_t i, n;

	if (kind != K_ROLEBINDING && kind != K_CLUSTERROLEBINDING)
		return 0;
	if (field_of(obj, "roleRef", json_type_object, "roleRef", "v1.RoleRef", res, &ref, err) < 0)
		return -1;
	if (!ref) {
		ref = json_object_new_object();
		json_object_object_add(obj, "roleRef", ref);
	}
	if (!*nap_json_str(ref, "apiGroup", ""))
		json_object_object_add(ref, "apiGroup", json_object_new_string(RBAC_GROUP));
	subjects = json_object_object_get(obj, "subjects");
	n = json_object_is_type(subjects, json_type_array) ? json_object_array_length(subjects) : 0;
	for (i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(subjects, i);
		const char *k = nap_json_str(s, "kind", "");

		if (!json_object_is_type(s, json_type_object) || *nap_json_str(s, "apiGroup", ""))
			continue;
		if (!strcmp(k, "User") || !strcmp(k, "Group"))
			json_object_object_add(s, "apiGroup", json_object_new_string(RBAC_GROUP));
	}
	return 0;
}

int
sim_rbac_admit(int res, json_object *obj, json_object *old, struct nap_err *err)
{
	int kind = rbac_kind(res);
	const char *name, *why;
	char q[320];

	if (kind == K_NONE)
		return 0;
	if (set_defaults(kind, res, obj, err) < 0)
		return -1;
	name = nap_json_str(obj, "metadata.name", "");
	if (*name && (why = bad_segment(name)))
		return invalid(err, res, obj, "metadata.name: Invalid value: %s: %s",
		    goquote(name, q, sizeof(q)), why);
	if (kind == K_ROLE || kind == K_CLUSTERROLE)
		return check_role(kind, res, obj, err);
	return check_binding(kind, res, obj, old, err);
}
