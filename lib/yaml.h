/*
 * yaml.h - YAML streams (manifests, the configuration file) to json-c, typed
 * the way Kubernetes reads manifests.
 *
 * Kubernetes turns YAML into JSON with sigs.k8s.io/yaml over its go-yaml v2
 * fork, so nap does the same: a plain scalar is null ("", ~, null, Null,
 * NULL), a bool (true/false and the YAML 1.1 family y/yes/on, n/no/off in
 * their three spellings), an integer (decimal, 0x, 0o, 0b, a leading 0 is
 * octal, underscores ignored, sign allowed; beyond int64 an unsigned 64-bit
 * value), a float (1.5, 1e3, .5, .inf, -.inf, .nan; json-c prints the last
 * three as Infinity and NaN, which are not JSON), otherwise a string.
 * Quoted and block scalars are strings.  Explicit tags !!str, !!int,
 * !!float, !!bool, !!null are honoured (a value that does not fit its tag is
 * an error); !!binary, !!timestamp and unknown tags leave the text a string.
 * Mapping keys are converted to strings as Kubernetes does (1 -> "1",
 * on -> "true", 1e3 -> "1000"); null and collection keys are errors, and so
 * are duplicate keys (after conversion: 1 and "1" collide).  Unlike
 * Kubernetes, a plain date stays the string written, not a timestamp.
 *
 * Anchors and aliases are resolved by copying, so the result is a tree; the
 * nodes aliases may copy in are capped (NAP_YAML_MAX_ALIAS_NODES per stream)
 * against "billion laughs" documents, and so is nesting.  Merge keys (<<)
 * take a mapping or a sequence of mappings; explicit keys win, and earlier
 * sources win over later ones.  Documents that are empty or only null are
 * skipped.
 *
 * Ownership: *docs_array is a new json array owned by the caller
 * (json_object_put); it is set only on success.
 *
 * Errors: -1 and err filled; err->msg is "name:line:column: message" with
 * 1-based line and column, err->code NAP_EX_DATAERR for bad YAML and
 * NAP_EX_IOERR when the file cannot be read.
 */

#ifndef NAP_YAML_H
#define NAP_YAML_H

#include <stddef.h>
#include <json-c/json.h>

#include "nap.h"

#define NAP_YAML_MAX_ALIAS_NODES 100000 /* nodes copied by aliases, per stream */
#define NAP_YAML_MAX_DEPTH 512		/* nesting of collections */
#define NAP_YAML_MAX_FILE (64u << 20)	/* bytes nap_yaml_load_file reads */

/* Flags for the _ex variants. */
enum {
	/* Record where each mapping key was written, for nap_yaml_key_pos. */
	NAP_YAML_KEYPOS = 1 << 0,
};

/* name is used in messages; NULL means "<input>". */
int nap_yaml_load(
    const char *buf, size_t len, const char *name, json_object **docs_array, struct nap_err *err);
/* path "-" reads standard input (named "<stdin>" in messages). */
int nap_yaml_load_file(const char *path, json_object **docs_array, struct nap_err *err);

int nap_yaml_load_ex(const char *buf, size_t len, const char *name, int flags,
    json_object **docs_array, struct nap_err *err);
int nap_yaml_load_file_ex(
    const char *path, int flags, json_object **docs_array, struct nap_err *err);

/*
 * Where key of map was written (1-based), when loaded with NAP_YAML_KEYPOS.
 * Keys a merge (<<) brought in report the position in their source mapping.
 * Returns 0, or -1 when unknown (not a mapping, no such key, no positions).
 */
int nap_yaml_key_pos(json_object *map, const char *key, unsigned *line, unsigned *col);

#endif
