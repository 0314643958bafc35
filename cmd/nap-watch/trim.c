/*
 * trim.c - what nap-watch leaves out of objects.  managedFields are always
 * dropped (server bookkeeping, often half the object).  --slim also drops
 * what no nap tool reads: container commands, environment, probes, mounts,
 * per-container status, node image lists.  Everything scheduling reads
 * stays: resources, ports, affinity, tolerations, volumes, conditions.
 */
#include "json.h"
#include "watch.h"

static const char *const container_drop[] = {
    "args",
    "command",
    "env",
    "envFrom",
    "imagePullPolicy",
    "lifecycle",
    "livenessProbe",
    "readinessProbe",
    "securityContext",
    "startupProbe",
    "stdin",
    "stdinOnce",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "tty",
    "volumeDevices",
    "volumeMounts",
    "workingDir",
    NULL,
};

static const char *const pod_status_drop[] = {
    "containerStatuses",
    "ephemeralContainerStatuses",
    "initContainerStatuses",
    NULL,
};

static const char *const node_status_drop[] = {
    "config",
    "daemonEndpoints",
    "images",
    "volumesAttached",
    "volumesInUse",
    NULL,
};

static void
drop(json_object *o, const char *const *keys)
{
	if (!o || !json_object_is_type(o, json_type_object))
		return;
	for (; *keys; keys++)
		json_object_object_del(o, *keys);
}

static void
drop_containers(json_object *spec, const char *list)
{
	json_object *arr = nap_json_key(spec, list);
	size_t n;

	if (!arr || !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++)
		drop(json_object_array_get_idx(arr, i), container_drop);
}

static void
trim_pod_spec(json_object *spec)
{
	if (!spec)
		return;
	drop_containers(spec, "containers");
	drop_containers(spec, "initContainers");
	drop_containers(spec, "ephemeralContainers");
}

void
watch_trim(json_object *obj, int slim)
{
	json_object *md = nap_json_key(obj, "metadata");
	const char *kind;

	if (md && json_object_is_type(md, json_type_object))
		json_object_object_del(md, "managedFields");
	if (!slim)
		return;
	if (md) {
		json_object *ann = nap_json_key(md, "annotations");

		json_object_object_del(md, "selfLink");
		if (ann && json_object_is_type(ann, json_type_object))
			json_object_object_del(
			    ann, "kubectl.kubernetes.io/last-applied-configuration");
	}
	kind = nap_json_str(obj, "kind", "");
	if (strcmp(kind, "Pod") == 0) {
		trim_pod_spec(nap_json_key(obj, "spec"));
		drop(nap_json_key(obj, "status"), pod_status_drop);
	} else if (strcmp(kind, "Node") == 0) {
		drop(nap_json_key(obj, "status"), node_status_drop);
	} else if (strcmp(kind, "DaemonSet") == 0) {
		trim_pod_spec(nap_json_get(obj, "spec.template.spec"));
	}
}
