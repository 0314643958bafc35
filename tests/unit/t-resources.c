/* Unit tests for lib/resources: resource vectors parsed from ResourceLists. */
#include "resources.h"
#include "tap.h"

#include <stdlib.h>

static json_object *
J(const char *s)
{
	return json_tokener_parse(s);
}

int
main(void)
{
	struct nap_res a, b;
	struct nap_err err;
	char unknown[64] = "", buf[128];
	json_object *o;

	nap_res_zero(&a);
	o = J("{\"cpu\":\"1500m\",\"memory\":\"1Gi\",\"pods\":\"110\",\"nvidia.com/gpu\":1,"
	      "\"example.com/foo\":\"2\"}");
	TAP_IS_INT(nap_res_parse(&a, o, unknown, sizeof(unknown), &err), 0,
	    "a resource list with cpu, memory, pods and a GPU parses");
	TAP_IS_INT(a.v[NAP_RES_CPU], 1500, "cpu is kept in millicores");
	TAP_IS_INT(a.v[NAP_RES_MEMORY], 1073741824, "memory is kept in bytes");
	TAP_IS_INT(a.v[NAP_RES_PODS], 110, "pods are a count");
	TAP_IS_INT(a.v[NAP_RES_NVIDIA_GPU], 1, "a numeric GPU count is accepted");
	TAP_IS_STR(unknown, "example.com/foo", "an untracked extended resource is named");
	json_object_put(o);

	nap_res_fmt(&a, buf, sizeof(buf));
	TAP_IS_STR(
	    buf, "cpu=1500m memory=1Gi pods=110 nvidia.com/gpu=1", "a vector formats for messages");
	o = nap_res_to_json(&a);
	TAP_IS_STR(json_object_to_json_string_ext(
		       o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    "{\"cpu\":\"1500m\",\"memory\":\"1Gi\",\"pods\":\"110\",\"nvidia.com/gpu\":\"1\"}",
	    "a vector becomes a ResourceList again");
	json_object_put(o);

	nap_res_zero(&b);
	b.v[NAP_RES_CPU] = 2000;
	b.v[NAP_RES_MEMORY] = 2LL << 30;
	b.v[NAP_RES_PODS] = 110;
	b.v[NAP_RES_NVIDIA_GPU] = 1;
	TAP_OK(nap_res_fits(&a, &b), "a request fits a node with more of everything");
	b.v[NAP_RES_NVIDIA_GPU] = 0;
	TAP_OK(!nap_res_fits(&a, &b), "a GPU request does not fit a node without GPUs");
	TAP_IS_INT(
	    nap_res_first_short(&a, &b), NAP_RES_NVIDIA_GPU, "the missing resource is named");
	nap_res_sub(&b, &a);
	TAP_IS_INT(b.v[NAP_RES_CPU], 500, "subtraction leaves what remains");
	nap_res_max(&b, &a);
	TAP_IS_INT(b.v[NAP_RES_CPU], 1500, "max takes the larger component");

	nap_res_zero(&a);
	o = J("{\"cpu\":\"1ki\"}");
	TAP_IS_INT(nap_res_parse(&a, o, NULL, 0, &err), -1, "a bad quantity is an error");
	TAP_OK(strncmp(err.msg, "cpu: ", 5) == 0, "the error names the resource: %s", err.msg);
	json_object_put(o);
	o = J("{\"memory\":\"-1Gi\"}");
	TAP_IS_INT(nap_res_parse(&a, o, NULL, 0, &err), -1, "a negative request is an error");
	json_object_put(o);
	o = J("{\"memory\":[1]}");
	TAP_IS_INT(nap_res_parse(&a, o, NULL, 0, &err), -1, "a non-scalar quantity is an error");
	json_object_put(o);
	TAP_OK(nap_res_is_zero(&a), "a failed parse adds nothing");
	TAP_IS_INT(nap_res_lookup("ephemeral-storage"), NAP_RES_EPHEMERAL, "names look up kinds");
	TAP_IS_INT(nap_res_lookup("hugepages-2Mi"), -1, "untracked names look up as -1");
	return tap_done();
}
