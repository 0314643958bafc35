/*
 * protobuf.c - reading the Kubernetes protobuf envelope that client-go's
 * typed clients (kubectl create deployment|namespace|pdb|configmap|role|
 * rolebinding ..., drain's evictions, typed deletes) send since 1.32, into
 * the JSON the rest of nap-sim works on.
 *
 * The envelope is the magic "k8s\0" and a runtime.Unknown {typeMeta(1)
 * {apiVersion(1), kind(2)}, raw(2)}.  raw is decoded against a small table
 * of the messages and fields those commands fill; fields not in the table
 * are skipped.  Go's omitempty is mirrored: empty strings, zero numbers
 * (unless the field is a pointer) and empty messages are left out.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "json.h"

enum { F_STR, F_INT, F_INT0, F_BOOL, F_MSG, F_RSTR, F_RMSG, F_MAPSS, F_MAPQ, F_IOS, F_TIME };

struct pb_msg;

struct pb_field {
	int num;
	const char *name;
	int kind;
	const struct pb_msg *sub;
};

struct pb_msg {
	const struct pb_field *f;
	size_t n;
};

#define MSG(name, ...)                                                                             \
	static const struct pb_field name##_f[] = {__VA_ARGS__};                                   \
	static const struct pb_msg name = {name##_f, NAP_ARRAY_LEN(name##_f)}

MSG(m_owner, {1, "kind", F_STR, NULL}, {3, "name", F_STR, NULL}, {4, "uid", F_STR, NULL},
    {5, "apiVersion", F_STR, NULL}, {6, "controller", F_BOOL, NULL},
    {7, "blockOwnerDeletion", F_BOOL, NULL});
MSG(m_meta, {1, "name", F_STR, NULL}, {2, "generateName", F_STR, NULL},
    {3, "namespace", F_STR, NULL}, {5, "uid", F_STR, NULL}, {6, "resourceVersion", F_STR, NULL},
    {11, "labels", F_MAPSS, NULL}, {12, "annotations", F_MAPSS, NULL},
    {13, "ownerReferences", F_RMSG, &m_owner}, {14, "finalizers", F_RSTR, NULL});
MSG(m_req, {1, "key", F_STR, NULL}, {2, "operator", F_STR, NULL}, {3, "values", F_RSTR, NULL});
MSG(m_selector, {1, "matchLabels", F_MAPSS, NULL}, {2, "matchExpressions", F_RMSG, &m_req});
MSG(m_port, {1, "name", F_STR, NULL}, {2, "hostPort", F_INT, NULL},
    {3, "containerPort", F_INT, NULL}, {4, "protocol", F_STR, NULL});
MSG(m_env, {1, "name", F_STR, NULL}, {2, "value", F_STR, NULL});
MSG(m_resources, {1, "limits", F_MAPQ, NULL}, {2, "requests", F_MAPQ, NULL});
MSG(m_container, {1, "name", F_STR, NULL}, {2, "image", F_STR, NULL}, {3, "command", F_RSTR, NULL},
    {4, "args", F_RSTR, NULL}, {5, "workingDir", F_STR, NULL}, {6, "ports", F_RMSG, &m_port},
    {7, "env", F_RMSG, &m_env}, {8, "resources", F_MSG, &m_resources},
    {13, "terminationMessagePath", F_STR, NULL}, {14, "imagePullPolicy", F_STR, NULL},
    {16, "stdin", F_BOOL, NULL}, {18, "tty", F_BOOL, NULL},
    {20, "terminationMessagePolicy", F_STR, NULL});
MSG(m_toleration, {1, "key", F_STR, NULL}, {2, "operator", F_STR, NULL}, {3, "value", F_STR, NULL},
    {4, "effect", F_STR, NULL}, {5, "tolerationSeconds", F_INT0, NULL});
MSG(m_podspec, {2, "containers", F_RMSG, &m_container}, {3, "restartPolicy", F_STR, NULL},
    {4, "terminationGracePeriodSeconds", F_INT0, NULL}, {6, "dnsPolicy", F_STR, NULL},
    {7, "nodeSelector", F_MAPSS, NULL}, {8, "serviceAccountName", F_STR, NULL},
    {10, "nodeName", F_STR, NULL}, {19, "schedulerName", F_STR, NULL},
    {20, "initContainers", F_RMSG, &m_container}, {22, "tolerations", F_RMSG, &m_toleration},
    {24, "priorityClassName", F_STR, NULL}, {25, "priority", F_INT0, NULL});
MSG(m_template, {1, "metadata", F_MSG, &m_meta}, {2, "spec", F_MSG, &m_podspec});
MSG(m_rolling, {1, "maxUnavailable", F_IOS, NULL}, {2, "maxSurge", F_IOS, NULL});
MSG(m_strategy, {1, "type", F_STR, NULL}, {2, "rollingUpdate", F_MSG, &m_rolling});
MSG(m_depspec, {1, "replicas", F_INT0, NULL}, {2, "selector", F_MSG, &m_selector},
    {3, "template", F_MSG, &m_template}, {4, "strategy", F_MSG, &m_strategy},
    {5, "minReadySeconds", F_INT, NULL}, {6, "revisionHistoryLimit", F_INT0, NULL},
    {9, "progressDeadlineSeconds", F_INT0, NULL});
MSG(m_deployment, {1, "metadata", F_MSG, &m_meta}, {2, "spec", F_MSG, &m_depspec});
MSG(m_pod, {1, "metadata", F_MSG, &m_meta}, {2, "spec", F_MSG, &m_podspec});
MSG(m_namespace, {1, "metadata", F_MSG, &m_meta});
MSG(m_pdbspec, {1, "minAvailable", F_IOS, NULL}, {2, "selector", F_MSG, &m_selector},
    {3, "maxUnavailable", F_IOS, NULL}, {4, "unhealthyPodEvictionPolicy", F_STR, NULL});
MSG(m_pdb, {1, "metadata", F_MSG, &m_meta}, {2, "spec", F_MSG, &m_pdbspec});
MSG(m_configmap, {1, "metadata", F_MSG, &m_meta}, {2, "data", F_MAPSS, NULL},
    {4, "immutable", F_BOOL, NULL});
MSG(m_precond, {1, "uid", F_STR, NULL}, {2, "resourceVersion", F_STR, NULL});
MSG(m_delopts, {1, "gracePeriodSeconds", F_INT0, NULL}, {2, "preconditions", F_MSG, &m_precond},
    {3, "orphanDependents", F_BOOL, NULL}, {4, "propagationPolicy", F_STR, NULL},
    {5, "dryRun", F_RSTR, NULL});
MSG(m_eviction, {1, "metadata", F_MSG, &m_meta}, {2, "deleteOptions", F_MSG, &m_delopts});
MSG(m_binding, {1, "metadata", F_MSG, &m_meta}, {2, "target", F_MSG, &m_owner});
MSG(m_taint, {1, "key", F_STR, NULL}, {2, "value", F_STR, NULL}, {3, "effect", F_STR, NULL},
    {4, "timeAdded", F_TIME, NULL});
MSG(m_nodespec, {3, "providerID", F_STR, NULL}, {4, "unschedulable", F_BOOL, NULL},
    {5, "taints", F_RMSG, &m_taint});
MSG(m_node, {1, "metadata", F_MSG, &m_meta}, {2, "spec", F_MSG, &m_nodespec});
MSG(m_lease_spec, {1, "holderIdentity", F_STR, NULL}, {2, "leaseDurationSeconds", F_INT0, NULL},
    {5, "leaseTransitions", F_INT0, NULL});
MSG(m_lease, {1, "metadata", F_MSG, &m_meta}, {2, "spec", F_MSG, &m_lease_spec});
MSG(m_rule, {1, "verbs", F_RSTR, NULL}, {2, "apiGroups", F_RSTR, NULL},
    {3, "resources", F_RSTR, NULL}, {4, "resourceNames", F_RSTR, NULL},
    {5, "nonResourceURLs", F_RSTR, NULL});
MSG(m_aggregation, {1, "clusterRoleSelectors", F_RMSG, &m_selector});
MSG(m_role, {1, "metadata", F_MSG, &m_meta}, {2, "rules", F_RMSG, &m_rule},
    {3, "aggregationRule", F_MSG, &m_aggregation});
MSG(m_subject, {1, "kind", F_STR, NULL}, {2, "apiGroup", F_STR, NULL}, {3, "name", F_STR, NULL},
    {4, "namespace", F_STR, NULL});
MSG(m_roleref, {1, "apiGroup", F_STR, NULL}, {2, "kind", F_STR, NULL}, {3, "name", F_STR, NULL});
MSG(m_rolebinding, {1, "metadata", F_MSG, &m_meta}, {2, "subjects", F_RMSG, &m_subject},
    {3, "roleRef", F_MSG, &m_roleref});

static const struct {
	const char *kind;
	const struct pb_msg *msg;
} kinds[] = {
    {"Deployment", &m_deployment},
    {"Pod", &m_pod},
    {"Namespace", &m_namespace},
    {"PodDisruptionBudget", &m_pdb},
    {"ConfigMap", &m_configmap},
    {"Eviction", &m_eviction},
    {"DeleteOptions", &m_delopts},
    {"Binding", &m_binding},
    {"Node", &m_node},
    {"Lease", &m_lease},
    /* kubectl create role|clusterrole|rolebinding|clusterrolebinding */
    {"Role", &m_role},
    {"ClusterRole", &m_role},
    {"RoleBinding", &m_rolebinding},
    {"ClusterRoleBinding", &m_rolebinding},
};

struct rd {
	const unsigned char *p, *end;
};

static int
varint(struct rd *r, uint64_t *v)
{
	int shift = 0;

	*v = 0;
	while (r->p < r->end && shift < 64) {
		unsigned char b = *r->p++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
		shift += 7;
	}
	return -1;
}

/* Next field: number, wire type, and for length-delimited its bytes. */
static int
next(struct rd *r, int *num, int *wt, uint64_t *v, struct rd *sub)
{
	uint64_t key;

	if (varint(r, &key) < 0)
		return -1;
	*num = (int)(key >> 3);
	*wt = (int)(key & 7);
	switch (*wt) {
	case 0:
		return varint(r, v);
	case 1:
		if (r->end - r->p < 8)
			return -1;
		r->p += 8;
		return 0;
	case 5:
		if (r->end - r->p < 4)
			return -1;
		r->p += 4;
		return 0;
	case 2:
		if (varint(r, v) < 0 || *v > (uint64_t)(r->end - r->p))
			return -1;
		sub->p = r->p;
		sub->end = r->p + *v;
		r->p += *v;
		return 0;
	default:
		return -1;
	}
}

static json_object *decode(struct rd r, const struct pb_msg *m, int *bad);

/* A map entry {key(1), value(2)}; value is a string or a Quantity {string(1)}. */
static void
map_entry(struct rd r, json_object *map, int quantity, int *bad)
{
	char *key = NULL;
	json_object *val = NULL;
	int num, wt;
	uint64_t v;
	struct rd s;

	while (r.p < r.end) {
		if (next(&r, &num, &wt, &v, &s) < 0) {
			*bad = 1;
			break;
		}
		if (wt != 2)
			continue;
		if (num == 1) {
			free(key);
			key = nap_xstrndup((const char *)s.p, (size_t)(s.end - s.p));
		} else if (num == 2 && !quantity) {
			json_object_put(val);
			val = json_object_new_string_len((const char *)s.p, (int)(s.end - s.p));
		} else if (num == 2) {
			int qn, qw;
			uint64_t qv;
			struct rd qs;

			while (s.p < s.end && next(&s, &qn, &qw, &qv, &qs) == 0)
				if (qn == 1 && qw == 2) {
					json_object_put(val);
					val = json_object_new_string_len(
					    (const char *)qs.p, (int)(qs.end - qs.p));
				}
		}
	}
	if (key)
		json_object_object_add(map, key, val ? val : json_object_new_string(""));
	else
		json_object_put(val);
	free(key);
}

static json_object *
int_or_string(struct rd r, int *bad)
{
	int num, wt;
	uint64_t v, type = 0, ival = 0;
	struct rd s;
	json_object *str = NULL;

	while (r.p < r.end) {
		if (next(&r, &num, &wt, &v, &s) < 0) {
			*bad = 1;
			break;
		}
		if (num == 1 && wt == 0)
			type = v;
		else if (num == 2 && wt == 0)
			ival = v;
		else if (num == 3 && wt == 2) {
			json_object_put(str);
			str = json_object_new_string_len((const char *)s.p, (int)(s.end - s.p));
		}
	}
	if (type == 1)
		return str ? str : json_object_new_string("");
	json_object_put(str);
	return json_object_new_int((int32_t)ival);
}

static json_object *
timestamp(struct rd r, int *bad)
{
	int num, wt;
	uint64_t v, secs = 0;
	struct rd s;
	char buf[40];
	time_t t;
	struct tm tm;

	while (r.p < r.end) {
		if (next(&r, &num, &wt, &v, &s) < 0) {
			*bad = 1;
			return NULL;
		}
		if (num == 1 && wt == 0)
			secs = v;
	}
	if (!secs)
		return NULL;
	t = (time_t)secs;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_object_new_string(buf);
}

static const struct pb_field *
field(const struct pb_msg *m, int num)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->f[i].num == num)
			return &m->f[i];
	return NULL;
}

static json_object *
decode(struct rd r, const struct pb_msg *m, int *bad)
{
	json_object *obj = json_object_new_object();
	int num, wt;
	uint64_t v;
	struct rd s;

	while (r.p < r.end && !*bad) {
		const struct pb_field *f;
		json_object *val = NULL, *arr;

		if (next(&r, &num, &wt, &v, &s) < 0) {
			*bad = 1;
			break;
		}
		f = field(m, num);
		if (!f)
			continue;
		switch (f->kind) {
		case F_STR:
			if (wt == 2 && s.end > s.p)
				val = json_object_new_string_len(
				    (const char *)s.p, (int)(s.end - s.p));
			break;
		case F_INT:
		case F_INT0:
			if (wt == 0 && (v || f->kind == F_INT0))
				val = json_object_new_int64((int64_t)v);
			break;
		case F_BOOL:
			if (wt == 0 && v)
				val = json_object_new_boolean(1);
			break;
		case F_MSG:
			if (wt == 2) {
				val = decode(s, f->sub, bad);
				if (!json_object_object_length(val)) {
					json_object_put(val);
					val = NULL;
				}
			}
			break;
		case F_IOS:
			if (wt == 2)
				val = int_or_string(s, bad);
			break;
		case F_TIME:
			if (wt == 2)
				val = timestamp(s, bad);
			break;
		case F_RSTR:
		case F_RMSG:
			if (wt != 2)
				break;
			arr = json_object_object_get(obj, f->name);
			if (!arr) {
				arr = json_object_new_array();
				json_object_object_add(obj, f->name, arr);
			}
			json_object_array_add(arr,
			    f->kind == F_RSTR
				? json_object_new_string_len((const char *)s.p, (int)(s.end - s.p))
				: decode(s, f->sub, bad));
			break;
		case F_MAPSS:
		case F_MAPQ:
			if (wt != 2)
				break;
			arr = json_object_object_get(obj, f->name);
			if (!arr) {
				arr = json_object_new_object();
				json_object_object_add(obj, f->name, arr);
			}
			map_entry(s, arr, f->kind == F_MAPQ, bad);
			break;
		}
		if (val)
			json_object_object_add(obj, f->name, val);
	}
	return obj;
}

int
sim_pb_decode(const char *buf, size_t len, json_object **out, struct nap_err *err)
{
	struct rd r = {(const unsigned char *)buf, (const unsigned char *)buf + len};
	struct rd s, raw = {NULL, NULL}, tm = {NULL, NULL};
	char kind[64] = "", av[128] = "";
	int num, wt, bad = 0;
	uint64_t v;
	size_t i;

	*out = NULL;
	if (len < 4 || memcmp(buf, "k8s\0", 4))
		return sim_err_status(
		    err, 400, "the body of the request is not a Kubernetes protobuf message");
	r.p += 4;
	while (r.p < r.end) {
		if (next(&r, &num, &wt, &v, &s) < 0)
			return sim_err_status(err, 400, "malformed protobuf envelope");
		if (num == 1 && wt == 2)
			tm = s;
		else if (num == 2 && wt == 2)
			raw = s;
	}
	while (tm.p && tm.p < tm.end) {
		if (next(&tm, &num, &wt, &v, &s) < 0)
			return sim_err_status(err, 400, "malformed protobuf type meta");
		if (wt == 2 && num == 1)
			snprintf(av, sizeof(av), "%.*s", (int)(s.end - s.p), (const char *)s.p);
		else if (wt == 2 && num == 2)
			snprintf(kind, sizeof(kind), "%.*s", (int)(s.end - s.p), (const char *)s.p);
	}
	for (i = 0; i < NAP_ARRAY_LEN(kinds); i++)
		if (!strcmp(kinds[i].kind, kind))
			break;
	if (i == NAP_ARRAY_LEN(kinds))
		return sim_err_status(err, 415,
		    "nap-sim reads protobuf bodies only for the kinds kubectl's typed commands "
		    "send; %s is not one: send JSON",
		    *kind ? kind : "(no kind)");
	if (!raw.p)
		raw.p = raw.end = (const unsigned char *)buf + len;
	*out = decode(raw, kinds[i].msg, &bad);
	if (bad) {
		json_object_put(*out);
		*out = NULL;
		return sim_err_status(err, 400, "malformed protobuf %s", kind);
	}
	if (*av)
		json_object_object_add(*out, "apiVersion", json_object_new_string(av));
	json_object_object_add(*out, "kind", json_object_new_string(kind));
	return 0;
}
