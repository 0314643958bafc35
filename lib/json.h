/*
 * json.h - small json-c helpers for reading Kubernetes and ARM objects.
 *
 * Lookups take a dotted path ("metadata.name", "status.conditions") and
 * return borrowed pointers into the object (valid while it lives), or the
 * given default when any step is missing or of the wrong type.  Keys that
 * contain dots (labels such as "karpenter.sh/nodepool") are looked up with
 * nap_json_key, one step at a time.
 *
 * nap_json_parse_fast builds the tree json_tokener would build for the
 * plain JSON Kubernetes objects are made of, at about half json-c's cost;
 * it declines (returns -1) whatever it does not handle so that the caller
 * falls back to json_tokener and gets json-c's own result and errors.  Its
 * object keys come from a process-wide table (not thread-safe; nap's tools
 * are single-threaded).
 */
#ifndef NAP_JSON_H
#define NAP_JSON_H

#include <stdint.h>

#include <json-c/json.h>

#include "nap.h"

/* The value at path, or NULL. */
json_object *nap_json_get(json_object *obj, const char *path);
/* obj[key] without path splitting, or NULL. */
json_object *nap_json_key(json_object *obj, const char *key);
const char *nap_json_str(json_object *obj, const char *path, const char *def);
/* An integer (or a double, truncated and clamped to int64_t), else def. */
int64_t nap_json_int(json_object *obj, const char *path, int64_t def);
/*
 * The integer at path, checked as a CRD's minimum and maximum check it: 0
 * with *out set; 1 when absent (*out untouched); -1 with err ("<path> <value
 * as written> not in lo..hi", or "is not an integer") when it is not a whole
 * number within [lo, hi], however large: nothing is truncated.
 */
int nap_json_int_in(json_object *obj, const char *path, int64_t lo, int64_t hi, int64_t *out,
    struct nap_err *err);
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
/*
 * Parse the JSON object or array in [s, s + len), blanks (space, tab)
 * allowed around it: 0 with *out set, or -1 when the text is not
 * something the fast path takes (malformed, a unicode escape, a number other
 * than a plain integer of up to 18 digits, a key repeated in one object,
 * nesting deeper than 24 levels, control bytes in strings); then nothing is
 * allocated and json_tokener decides.  The tree equals json_tokener's:
 * same types, values and key order.  Keys of up to 63 bytes (the first
 * 8,192 distinct ones) are interned for the life of the process and shared
 * by every tree as json-c constant keys: no copy per key and no free.
 */
int nap_json_parse_fast(const char *s, size_t len, json_object **out);
/* Deep equality. */
int nap_json_equal(json_object *a, json_object *b);

#endif
