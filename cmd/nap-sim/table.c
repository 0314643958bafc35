/*
 * table.c - meta.k8s.io/v1 Tables, what `kubectl get` asks for (Accept:
 * application/json;as=Table;v=v1;g=meta.k8s.io) and prints as columns:
 * the columns the real API server's printers give for the kinds nap-sim
 * serves (pods READY STATUS RESTARTS AGE, nodes STATUS ROLES AGE VERSION,
 * clusterroles CREATED AT, rolebindings ROLE AGE ...), and the CRDs'
 * printer columns for the Karpenter kinds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "json.h"

int
sim_wants_table(const struct sim_req *req)
{
	const char *a = sim_req_header(req, "Accept");

	return a && strstr(a, "as=Table") && strstr(a, "g=meta.k8s.io");
}

/* kubectl's HumanDuration, on creationTimestamp. */
static void
age(const char *ts, char *buf, size_t size)
{
	struct tm tm;
	time_t t, now = time(NULL);
	long long d, m, h, days;

	memset(&tm, 0, sizeof(tm));
	if (!ts || !strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		snprintf(buf, size, "<unknown>");
		return;
	}
	t = timegm(&tm);
	d = now > t ? (long long)(now - t) : 0;
	m = d / 60;
	h = d / 3600;
	days = d / 86400;
	if (d < 120)
		snprintf(buf, size, "%llds", d);
	else if (m < 10)
		snprintf(buf, size, "%lldm%llds", m, d % 60);
	else if (h < 3)
		snprintf(buf, size, "%lldm", m);
	else if (h < 8)
		snprintf(buf, size, "%lldh%lldm", h, m % 60);
	else if (h < 48)
		snprintf(buf, size, "%lldh", h);
	else if (days < 8)
		snprintf(buf, size, "%lldd%lldh", days, h % 24);
	else
		snprintf(buf, size, "%lldd", days);
}

static const char *
condition(json_object *obj, const char *type)
{
	size_t i, n;
	json_object *c = nap_json_array(obj, "status.conditions", &n);

	for (i = 0; c && i < n; i++) {
		json_object *e = json_object_array_get_idx(c, i);

		if (!strcmp(nap_json_str(e, "type", ""), type))
			return nap_json_str(e, "status", "Unknown");
	}
	return NULL;
}

static json_object *
str(const char *s)
{
	return json_object_new_string(s ? s : "");
}

static json_object *
intorstr(json_object *v)
{
	if (!v)
		return json_object_new_string("N/A");
	return json_object_new_string(json_object_get_string(v));
}

struct col {
	const char *name, *type;
	int priority;
};

static const struct col c_default[] = {{"Name", "string", 0}, {"Age", "string", 0}};
static const struct col c_pods[] = {
    {"Name", "string", 0},
    {"Ready", "string", 0},
    {"Status", "string", 0},
    {"Restarts", "string", 0},
    {"Age", "string", 0},
    {"IP", "string", 1},
    {"Node", "string", 1},
    {"Nominated Node", "string", 1},
    {"Readiness Gates", "string", 1},
};
static const struct col c_nodes[] = {
    {"Name", "string", 0},
    {"Status", "string", 0},
    {"Roles", "string", 0},
    {"Age", "string", 0},
    {"Version", "string", 0},
    {"Internal-IP", "string", 1},
    {"Instance-Type", "string", 1},
};
static const struct col c_deploy[] = {
    {"Name", "string", 0},
    {"Ready", "string", 0},
    {"Up-to-date", "integer", 0},
    {"Available", "integer", 0},
    {"Age", "string", 0},
};
static const struct col c_rs[] = {
    {"Name", "string", 0},
    {"Desired", "integer", 0},
    {"Current", "integer", 0},
    {"Ready", "integer", 0},
    {"Age", "string", 0},
};
static const struct col c_ds[] = {
    {"Name", "string", 0},
    {"Desired", "integer", 0},
    {"Current", "integer", 0},
    {"Ready", "integer", 0},
    {"Up-to-date", "integer", 0},
    {"Available", "integer", 0},
    {"Node Selector", "string", 0},
    {"Age", "string", 0},
};
static const struct col c_sts[] = {
    {"Name", "string", 0},
    {"Ready", "string", 0},
    {"Age", "string", 0},
};
static const struct col c_ns[] = {
    {"Name", "string", 0},
    {"Status", "string", 0},
    {"Age", "string", 0},
};
static const struct col c_pdb[] = {
    {"Name", "string", 0},
    {"Min Available", "string", 0},
    {"Max Unavailable", "string", 0},
    {"Allowed Disruptions", "integer", 0},
    {"Age", "string", 0},
};
static const struct col c_events[] = {
    {"Last Seen", "string", 0},
    {"Type", "string", 0},
    {"Reason", "string", 0},
    {"Object", "string", 0},
    {"Message", "string", 0},
};
static const struct col c_va[] = {
    {"Name", "string", 0},
    {"Attacher", "string", 0},
    {"PV", "string", 0},
    {"Node", "string", 0},
    {"Attached", "boolean", 0},
    {"Age", "string", 0},
};
static const struct col c_csinodes[] = {
    {"Name", "string", 0},
    {"Drivers", "integer", 0},
    {"Age", "string", 0},
};
static const struct col c_nodepools[] = {
    {"Name", "string", 0},
    {"NodeClass", "string", 0},
    {"Nodes", "string", 0},
    {"Ready", "string", 0},
    {"Age", "date", 0},
    {"Weight", "integer", 1},
    {"CPU", "string", 1},
    {"Memory", "string", 1},
};
static const struct col c_nodeclaims[] = {
    {"Name", "string", 0},
    {"Type", "string", 0},
    {"Capacity", "string", 0},
    {"Zone", "string", 0},
    {"Node", "string", 0},
    {"Ready", "string", 0},
    {"Age", "date", 0},
    {"ID", "string", 1},
    {"NodePool", "string", 1},
    {"NodeClass", "string", 1},
};
static const struct col c_nodeclasses[] = {
    {"Name", "string", 0},
    {"Ready", "string", 0},
    {"Age", "date", 0},
};
/* CRDs, Roles and ClusterRoles: the creation time itself, not an age. */
static const struct col c_created[] = {{"Name", "string", 0}, {"Created At", "date", 0}};
static const struct col c_bindings[] = {
    {"Name", "string", 0},
    {"Role", "string", 0},
    {"Age", "string", 0},
    {"Users", "string", 1},
    {"Groups", "string", 1},
    {"ServiceAccounts", "string", 1},
};

static const struct col *
columns(const char *r, size_t *n)
{
#define C(a) (*n = NAP_ARRAY_LEN(a), a)
	if (!strcmp(r, "pods"))
		return C(c_pods);
	if (!strcmp(r, "nodes"))
		return C(c_nodes);
	if (!strcmp(r, "deployments"))
		return C(c_deploy);
	if (!strcmp(r, "replicasets"))
		return C(c_rs);
	if (!strcmp(r, "namespaces"))
		return C(c_ns);
	if (!strcmp(r, "daemonsets"))
		return C(c_ds);
	if (!strcmp(r, "statefulsets"))
		return C(c_sts);
	if (!strcmp(r, "poddisruptionbudgets"))
		return C(c_pdb);
	if (!strcmp(r, "events"))
		return C(c_events);
	if (!strcmp(r, "volumeattachments"))
		return C(c_va);
	if (!strcmp(r, "csinodes"))
		return C(c_csinodes);
	if (!strcmp(r, "nodepools"))
		return C(c_nodepools);
	if (!strcmp(r, "nodeclaims"))
		return C(c_nodeclaims);
	if (!strcmp(r, "aksnodeclasses"))
		return C(c_nodeclasses);
	if (!strcmp(r, "customresourcedefinitions") || !strcmp(r, "roles") ||
	    !strcmp(r, "clusterroles"))
		return C(c_created);
	if (!strcmp(r, "rolebindings") || !strcmp(r, "clusterrolebindings"))
		return C(c_bindings);
	return C(c_default);
#undef C
}

static void
pod_cells(json_object *o, json_object *cells)
{
	size_t i, n, ready = 0, restarts = 0;
	json_object *cs = nap_json_array(o, "status.containerStatuses", &n);
	size_t total = 0;
	char buf[32];
	const char *status = nap_json_str(o, "status.reason", NULL);

	nap_json_array(o, "spec.containers", &total);
	for (i = 0; cs && i < n; i++) {
		json_object *c = json_object_array_get_idx(cs, i);

		if (nap_json_bool(c, "ready", 0))
			ready++;
		restarts += (size_t)nap_json_int(c, "restartCount", 0);
	}
	if (!status)
		status = nap_json_str(o, "status.phase", "Pending");
	if (nap_json_get(o, "metadata.deletionTimestamp"))
		status = "Terminating";
	snprintf(buf, sizeof(buf), "%zu/%zu", ready, total);
	json_object_array_add(cells, str(buf));
	json_object_array_add(cells, str(status));
	snprintf(buf, sizeof(buf), "%zu", restarts);
	json_object_array_add(cells, str(buf));
}

/*
 * A binding's Users, Groups and ServiceAccounts cells: names joined by
 * ", ", a ServiceAccount as namespace:name.
 */
static void
subject_cells(json_object *o, json_object *cells)
{
	static const char *const kinds[] = {"User", "Group", "ServiceAccount"};
	json_object *subjects;
	size_t i, k, n;

	subjects = nap_json_array(o, "subjects", &n);
	for (k = 0; k < NAP_ARRAY_LEN(kinds); k++) {
		char *joined = nap_xstrdup(""), *next;

		for (i = 0; subjects && i < n; i++) {
			json_object *s = json_object_array_get_idx(subjects, i);
			const char *ns = nap_json_str(s, "namespace", "");

			if (strcmp(nap_json_str(s, "kind", ""), kinds[k]))
				continue;
			next = nap_xasprintf("%s%s%s%s%s", joined, *joined ? ", " : "",
			    k == 2 && *ns ? ns : "", k == 2 && *ns ? ":" : "",
			    nap_json_str(s, "name", ""));
			free(joined);
			joined = next;
		}
		json_object_array_add(cells, str(joined));
		free(joined);
	}
}

static json_object *
cells_for(int res, json_object *o)
{
	const char *r = sim_rdescs[res].resource;
	json_object *cells = json_object_new_array();
	const char *name = nap_json_str(o, "metadata.name", "");
	char a[32], buf[128];

	age(nap_json_str(o, "metadata.creationTimestamp", NULL), a, sizeof(a));
	if (!strcmp(r, "events")) {
		/* Either shape: core/v1's fields, else events.k8s.io/v1's. */
		json_object *about = nap_json_get(o, "involvedObject");

		if (!about)
			about = nap_json_get(o, "regarding");
		age(nap_json_str(o, "lastTimestamp",
			nap_json_str(o, "deprecatedLastTimestamp",
			    nap_json_str(o, "metadata.creationTimestamp", NULL))),
		    a, sizeof(a));
		json_object_array_add(cells, str(a));
		json_object_array_add(cells, str(nap_json_str(o, "type", "")));
		json_object_array_add(cells, str(nap_json_str(o, "reason", "")));
		snprintf(buf, sizeof(buf), "%s/%s", nap_json_str(about, "kind", ""),
		    nap_json_str(about, "name", ""));
		for (char *p = buf; *p && *p != '/'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		json_object_array_add(cells, str(buf));
		json_object_array_add(
		    cells, str(nap_json_str(o, "message", nap_json_str(o, "note", ""))));
		return cells;
	}
	json_object_array_add(cells, str(name));
	if (!strcmp(r, "pods")) {
		pod_cells(o, cells);
		json_object_array_add(cells, str(a));
		json_object_array_add(cells, str(nap_json_str(o, "status.podIP", "<none>")));
		json_object_array_add(cells, str(nap_json_str(o, "spec.nodeName", "<none>")));
		json_object_array_add(
		    cells, str(nap_json_str(o, "status.nominatedNodeName", "<none>")));
		json_object_array_add(cells, str("<none>"));
	} else if (!strcmp(r, "nodes")) {
		const char *ready = condition(o, "Ready");

		snprintf(buf, sizeof(buf), "%s%s",
		    ready && !strcmp(ready, "True") ? "Ready"
			: ready			    ? "NotReady"
						    : "Unknown",
		    nap_json_bool(o, "spec.unschedulable", 0) ? ",SchedulingDisabled" : "");
		json_object_array_add(cells, str(buf));
		json_object_array_add(cells, str("<none>"));
		json_object_array_add(cells, str(a));
		json_object_array_add(
		    cells, str(nap_json_str(o, "status.nodeInfo.kubeletVersion", "")));
		json_object_array_add(cells, str("<none>"));
		json_object_array_add(cells,
		    str(nap_json_str(nap_json_get(o, "metadata.labels")
			    ? json_object_object_get(nap_json_get(o, "metadata.labels"),
				  "node.kubernetes.io/instance-type")
			    : NULL,
			"", "<none>")));
	} else if (!strcmp(r, "deployments")) {
		snprintf(buf, sizeof(buf), "%lld/%lld",
		    (long long)nap_json_int(o, "status.readyReplicas", 0),
		    (long long)nap_json_int(o, "spec.replicas", 1));
		json_object_array_add(cells, str(buf));
		json_object_array_add(
		    cells, json_object_new_int64(nap_json_int(o, "status.updatedReplicas", 0)));
		json_object_array_add(
		    cells, json_object_new_int64(nap_json_int(o, "status.availableReplicas", 0)));
		json_object_array_add(cells, str(a));
	} else if (!strcmp(r, "replicasets")) {
		json_object_array_add(
		    cells, json_object_new_int64(nap_json_int(o, "spec.replicas", 1)));
		json_object_array_add(
		    cells, json_object_new_int64(nap_json_int(o, "status.replicas", 0)));
		json_object_array_add(
		    cells, json_object_new_int64(nap_json_int(o, "status.readyReplicas", 0)));
		json_object_array_add(cells, str(a));
	} else if (!strcmp(r, "statefulsets")) {
		snprintf(buf, sizeof(buf), "%lld/%lld",
		    (long long)nap_json_int(o, "status.readyReplicas", 0),
		    (long long)nap_json_int(o, "spec.replicas", 1));
		json_object_array_add(cells, str(buf));
		json_object_array_add(cells, str(a));
	} else if (!strcmp(r, "daemonsets")) {
		json_object *sel = nap_json_get(o, "spec.template.spec.nodeSelector");
		size_t k = 0;

		buf[0] = '\0';
		if (sel && json_object_is_type(sel, json_type_object)) {
			json_object_object_foreach(sel, sk, sv)
			{
				k +=
				    (size_t)snprintf(buf + k, k < sizeof(buf) ? sizeof(buf) - k : 0,
					"%s%s=%s", k ? "," : "", sk, json_object_get_string(sv));
				if (k >= sizeof(buf))
					break;
			}
		}
		json_object_array_add(cells,
		    json_object_new_int64(nap_json_int(o, "status.desiredNumberScheduled", 0)));
		json_object_array_add(cells,
		    json_object_new_int64(nap_json_int(o, "status.currentNumberScheduled", 0)));
		json_object_array_add(
		    cells, json_object_new_int64(nap_json_int(o, "status.numberReady", 0)));
		json_object_array_add(cells,
		    json_object_new_int64(nap_json_int(o, "status.updatedNumberScheduled", 0)));
		json_object_array_add(
		    cells, json_object_new_int64(nap_json_int(o, "status.numberAvailable", 0)));
		json_object_array_add(cells, str(*buf ? buf : "<none>"));
		json_object_array_add(cells, str(a));
	} else if (!strcmp(r, "namespaces")) {
		json_object_array_add(cells,
		    str(nap_json_get(o, "metadata.deletionTimestamp")
			    ? "Terminating"
			    : nap_json_str(o, "status.phase", "Active")));
		json_object_array_add(cells, str(a));
	} else if (!strcmp(r, "poddisruptionbudgets")) {
		json_object_array_add(cells, intorstr(nap_json_get(o, "spec.minAvailable")));
		json_object_array_add(cells, intorstr(nap_json_get(o, "spec.maxUnavailable")));
		json_object_array_add(
		    cells, json_object_new_int64(nap_json_int(o, "status.disruptionsAllowed", 0)));
		json_object_array_add(cells, str(a));
	} else if (!strcmp(r, "volumeattachments")) {
		json_object_array_add(cells, str(nap_json_str(o, "spec.attacher", "")));
		json_object_array_add(
		    cells, str(nap_json_str(o, "spec.source.persistentVolumeName", "")));
		json_object_array_add(cells, str(nap_json_str(o, "spec.nodeName", "")));
		json_object_array_add(
		    cells, json_object_new_boolean(nap_json_bool(o, "status.attached", 0)));
		json_object_array_add(cells, str(a));
	} else if (!strcmp(r, "csinodes")) {
		size_t nd;

		nap_json_array(o, "spec.drivers", &nd);
		json_object_array_add(cells, json_object_new_int64((int64_t)nd));
		json_object_array_add(cells, str(a));
	} else if (!strcmp(r, "nodepools")) {
		json_object_array_add(
		    cells, str(nap_json_str(o, "spec.template.spec.nodeClassRef.name", "")));
		snprintf(buf, sizeof(buf), "%lld", (long long)nap_json_int(o, "status.nodes", 0));
		json_object_array_add(cells, str(buf));
		json_object_array_add(cells, str(condition(o, "Ready")));
		json_object_array_add(cells, str(a));
		json_object_array_add(cells,
		    nap_json_get(o, "spec.weight")
			? json_object_new_int64(nap_json_int(o, "spec.weight", 0))
			: NULL);
		json_object_array_add(cells, str(nap_json_str(o, "status.resources.cpu", "")));
		json_object_array_add(cells, str(nap_json_str(o, "status.resources.memory", "")));
	} else if (!strcmp(r, "nodeclaims")) {
		json_object *labels = nap_json_get(o, "metadata.labels");

		json_object_array_add(cells,
		    str(nap_json_str(
			nap_json_key(labels, "node.kubernetes.io/instance-type"), "", "")));
		json_object_array_add(cells,
		    str(nap_json_str(nap_json_key(labels, "karpenter.sh/capacity-type"), "", "")));
		json_object_array_add(cells,
		    str(nap_json_str(nap_json_key(labels, "topology.kubernetes.io/zone"), "", "")));
		json_object_array_add(cells, str(nap_json_str(o, "status.nodeName", "")));
		json_object_array_add(cells, str(condition(o, "Ready")));
		json_object_array_add(cells, str(a));
		json_object_array_add(cells, str(nap_json_str(o, "status.providerID", "")));
		json_object_array_add(cells,
		    str(nap_json_str(nap_json_key(labels, "karpenter.sh/nodepool"), "", "")));
		json_object_array_add(cells, str(nap_json_str(o, "spec.nodeClassRef.name", "")));
	} else if (!strcmp(r, "aksnodeclasses")) {
		json_object_array_add(cells, str(condition(o, "Ready")));
		json_object_array_add(cells, str(a));
	} else if (!strcmp(r, "customresourcedefinitions") || !strcmp(r, "roles") ||
	    !strcmp(r, "clusterroles")) {
		json_object_array_add(
		    cells, str(nap_json_str(o, "metadata.creationTimestamp", "<unknown>")));
	} else if (!strcmp(r, "rolebindings") || !strcmp(r, "clusterrolebindings")) {
		char *ref = nap_xasprintf("%s/%s", nap_json_str(o, "roleRef.kind", ""),
		    nap_json_str(o, "roleRef.name", ""));

		json_object_array_add(cells, str(ref));
		free(ref);
		json_object_array_add(cells, str(a));
		subject_cells(o, cells);
	} else {
		json_object_array_add(cells, str(a));
	}
	return cells;
}

static json_object *
row(int res, json_object *o)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "cells", cells_for(res, o));
	json_object_object_add(r, "object", json_object_get(o));
	return r;
}

json_object *
sim_table_of(int res, json_object *items, const char *rv, const char *cont)
{
	json_object *t = json_object_new_object(), *defs = json_object_new_array();
	json_object *rows = json_object_new_array();
	const struct col *cols;
	size_t i, n;

	json_object_object_add(t, "kind", json_object_new_string("Table"));
	json_object_object_add(t, "apiVersion", json_object_new_string("meta.k8s.io/v1"));
	nap_json_set(t, "metadata.resourceVersion", json_object_new_string(rv ? rv : ""));
	if (cont)
		nap_json_set(t, "metadata.continue", json_object_new_string(cont));
	cols = columns(sim_rdescs[res].resource, &n);
	for (i = 0; i < n; i++) {
		json_object *d = json_object_new_object();

		json_object_object_add(d, "name", json_object_new_string(cols[i].name));
		json_object_object_add(d, "type", json_object_new_string(cols[i].type));
		json_object_object_add(d, "format",
		    json_object_new_string(!strcmp(cols[i].name, "Name") ? "name" : ""));
		json_object_object_add(d, "description", json_object_new_string(""));
		json_object_object_add(d, "priority", json_object_new_int(cols[i].priority));
		json_object_array_add(defs, d);
	}
	json_object_object_add(t, "columnDefinitions", defs);
	n = items ? json_object_array_length(items) : 0;
	for (i = 0; i < n; i++)
		json_object_array_add(rows, row(res, json_object_array_get_idx(items, i)));
	json_object_object_add(t, "rows", rows);
	return t;
}
