/* Unit tests for lib/json: dotted-path lookups and setters on Kubernetes-shaped objects. */
#include "json.h"
#include "tap.h"

int
main(void)
{
	json_object *o = json_tokener_parse(
	    "{\"metadata\":{\"name\":\"web-1\",\"labels\":{\"karpenter.sh/nodepool\":\"default\"},"
	    "\"generation\":3},\"spec\":{\"replicas\":2.0,\"paused\":false,\"items\":[1,2,3]}}");
	json_object *arr;
	size_t n;

	TAP_IS_STR(nap_json_str(o, "metadata.name", NULL), "web-1", "a dotted path finds a string");
	TAP_IS_STR(nap_json_str(o, "metadata.missing", "dflt"), "dflt",
	    "a missing step gives the default");
	TAP_IS_STR(nap_json_str(o, "metadata.generation", "dflt"), "dflt",
	    "a value of another type gives the default");
	TAP_IS_STR(nap_json_str(nap_json_get(o, "metadata.labels"), "karpenter.sh/nodepool", "x"),
	    "x", "a label key with dots is not found through a path");
	TAP_IS_STR(json_object_get_string(
		       nap_json_key(nap_json_get(o, "metadata.labels"), "karpenter.sh/nodepool")),
	    "default", "nap_json_key looks up a key with dots in one step");
	TAP_IS_INT(nap_json_int(o, "metadata.generation", -1), 3, "an integer is read");
	TAP_IS_INT(nap_json_int(o, "spec.replicas", -1), 2, "a whole double reads as an integer");
	TAP_IS_INT(nap_json_bool(o, "spec.paused", 1), 0, "a boolean is read");
	arr = nap_json_array(o, "spec.items", &n);
	TAP_OK(arr != NULL && n == 3, "an array and its length are found");
	TAP_OK(nap_json_array(o, "spec.paused", &n) == NULL && n == 0,
	    "a non-array gives NULL and length 0");
	TAP_IS_INT(nap_json_set(o, "status.conditions.ready", json_object_new_boolean(1)), 0,
	    "a set creates the objects on its path");
	TAP_IS_INT(nap_json_bool(o, "status.conditions.ready", 0), 1, "the set value is there");
	TAP_IS_INT(nap_json_set(o, "metadata.name.x", json_object_new_int(1)), -1,
	    "setting below a string fails");
	TAP_IS_STR(nap_json_dump(json_object_object_get(o, "metadata")),
	    "{\"name\":\"web-1\",\"labels\":{\"karpenter.sh/"
	    "nodepool\":\"default\"},\"generation\":3}",
	    "dumps are compact and do not escape slashes");
	json_object_put(o);
	return tap_done();
}
