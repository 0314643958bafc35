/*
 * json.h - small json-c helpers for reading Kubernetes and ARM objects.
 *
 * Lookups take a dotted path ("metadata.name", "status.conditions") and
 * return borrowed pointers into the object (valid while it lives), or the
 * given default when any step is missing or of the wrong type.  Keys that
 * contain dots (labels such as "karpenter.sh/nodepool") are looked up with
 * nap_json_key, one step at a time.
 */
#ifndef NAP_JSON_H
#define NAP_JSON_H

#include <stdint.h>

#include <json-c/json.h>

/* The value at path, or NULL. */
json_object *nap_json_get(json_object *obj, const char *path);
/* obj[key] without path splitting, or NULL. */
json_object *nap_json_key(json_object *obj, const char *key);
const char *nap_json_str(json_object *obj, const char *path, const char *def);
int64_t nap_json_int(json_object *obj, const char *path, int64_t def);
int nap_json_bool(json_object *obj, const char *path, int def);
/* The array at path, or NULL; its length in *n (0 when absent). */
json_object *nap_json_array(json_object *obj, const char *path, size_t *n);
/*
 * Set obj[path] = val, creating intermediate objects; takes ownership of val.
 * Returns 0, or -1 when a step exists and is not an object (val is released).
 */
int nap_json_set(json_object *obj, const char *path, json_object *val);
/* Compact serialisation (owned by obj). */
const char *nap_json_dump(json_object *obj);
/* Deep equality. */
int nap_json_equal(json_object *a, json_object *b);

#endif
