/*
 * patch.c - the three PATCH flavours kubectl and controllers send: JSON
 * merge patch (RFC 7386), JSON patch (RFC 6902, with test for optimistic
 * concurrency) and strategic merge patch for the built-in lists that merge
 * by key (containers by name, conditions by type, finalizers as a set ...)
 * and its directives ($patch, $setElementOrder, $deleteFromPrimitiveList,
 * $retainKeys).  A list not named here is atomic, replaced whole, as a
 * Node's spec.taints is in the real API (no patchMergeKey), so kubectl taint
 * NODE KEY- removes the taint.
 *
 * Each takes *target (owned by the caller) and may replace it; the patch
 * is borrowed.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "json.h"

static json_object *
merge(json_object *target, json_object *patch)
{
	if (!json_object_is_type(patch, json_type_object)) {
		json_object_put(target);
		return sim_dup(patch);
	}
	if (!json_object_is_type(target, json_type_object)) {
		json_object_put(target);
		target = json_object_new_object();
	}
	json_object_object_foreach(patch, k, v)
	{
		if (!v) {
			json_object_object_del(target, k);
			continue;
		}
		json_object *cur = json_object_object_get(target, k);

		json_object_get(cur);
		json_object_object_add(target, k, merge(cur, v));
	}
	return target;
}

int
sim_patch_merge(json_object **target, json_object *patch)
{
	*target = merge(*target, patch);
	return 0;
}

/* -- RFC 6902 ------------------------------------------------------------ */

/* Decode one reference token (~1 → /, ~0 → ~) into buf. */
static const char *
next_token(const char *p, char *buf, size_t size)
{
	size_t n = 0;

	while (*p && *p != '/' && n + 1 < size) {
		if (p[0] == '~' && p[1] == '1') {
			buf[n++] = '/';
			p += 2;
		} else if (p[0] == '~' && p[1] == '0') {
			buf[n++] = '~';
			p += 2;
		} else {
			buf[n++] = *p++;
		}
	}
	buf[n] = '\0';
	return p;
}

static int
array_index(const char *tok, size_t len, int allow_end, size_t *out)
{
	char *end;
	long v;

	if (allow_end && !strcmp(tok, "-")) {
		*out = len;
		return 0;
	}
	if (!*tok || (tok[0] == '0' && tok[1]))
		return -1;
	v = strtol(tok, &end, 10);
	if (*end || v < 0 || (size_t)v > len || (!allow_end && (size_t)v == len))
		return -1;
	*out = (size_t)v;
	return 0;
}

/* Find the parent container of path's last token. */
static json_object *
resolve_parent(json_object *root, const char *path, char *last, size_t size)
{
	json_object *cur = root;
	const char *p = path;
	char tok[256];

	if (*p != '/')
		return NULL;
	for (;;) {
		p = next_token(p + 1, tok, sizeof(tok));
		if (!*p) {
			snprintf(last, size, "%s", tok);
			return cur;
		}
		if (json_object_is_type(cur, json_type_object)) {
			cur = json_object_object_get(cur, tok);
		} else if (json_object_is_type(cur, json_type_array)) {
			size_t i;

			if (array_index(tok, json_object_array_length(cur), 0, &i) < 0)
				return NULL;
			cur = json_object_array_get_idx(cur, i);
		} else {
			return NULL;
		}
		if (!cur)
			return NULL;
	}
}

static json_object *
get_at(json_object *root, const char *path)
{
	char last[256];
	json_object *parent;

	if (!*path)
		return root;
	parent = resolve_parent(root, path, last, sizeof(last));
	if (!parent)
		return NULL;
	if (json_object_is_type(parent, json_type_object))
		return json_object_object_get(parent, last);
	if (json_object_is_type(parent, json_type_array)) {
		size_t i;

		if (array_index(last, json_object_array_length(parent), 0, &i) < 0)
			return NULL;
		return json_object_array_get_idx(parent, i);
	}
	return NULL;
}

static int
array_insert(json_object *arr, size_t at, json_object *val)
{
	size_t n = json_object_array_length(arr), i;

	json_object_array_add(arr, NULL);
	for (i = n; i > at; i--)
		json_object_array_put_idx(
		    arr, i, json_object_get(json_object_array_get_idx(arr, i - 1)));
	json_object_array_put_idx(arr, at, val);
	return 0;
}

static int
op_add(json_object **root, const char *path, json_object *val, int replace)
{
	char last[256];
	json_object *parent;

	if (!*path) {
		json_object_put(*root);
		*root = val;
		return 0;
	}
	parent = resolve_parent(*root, path, last, sizeof(last));
	if (!parent) {
		json_object_put(val);
		return -1;
	}
	if (json_object_is_type(parent, json_type_object)) {
		if (replace && !json_object_object_get_ex(parent, last, NULL)) {
			json_object_put(val);
			return -1;
		}
		json_object_object_add(parent, last, val);
		return 0;
	}
	if (json_object_is_type(parent, json_type_array)) {
		size_t i, n = json_object_array_length(parent);

		if (array_index(last, n, !replace, &i) < 0) {
			json_object_put(val);
			return -1;
		}
		if (replace)
			json_object_array_put_idx(parent, i, val);
		else
			array_insert(parent, i, val);
		return 0;
	}
	json_object_put(val);
	return -1;
}

static int
op_remove(json_object *root, const char *path)
{
	char last[256];
	json_object *parent = resolve_parent(root, path, last, sizeof(last));

	if (!parent)
		return -1;
	if (json_object_is_type(parent, json_type_object)) {
		if (!json_object_object_get_ex(parent, last, NULL))
			return -1;
		json_object_object_del(parent, last);
		return 0;
	}
	if (json_object_is_type(parent, json_type_array)) {
		size_t i;

		if (array_index(last, json_object_array_length(parent), 0, &i) < 0)
			return -1;
		json_object_array_del_idx(parent, i, 1);
		return 0;
	}
	return -1;
}

int
sim_patch_json(json_object **target, json_object *ops, struct nap_err *err)
{
	size_t i, n;

	if (!json_object_is_type(ops, json_type_array))
		return sim_err_status(err, 400,
		    "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
	n = json_object_array_length(ops);
	for (i = 0; i < n; i++) {
		json_object *op = json_object_array_get_idx(ops, i);
		const char *kind = nap_json_str(op, "op", "");
		const char *path = nap_json_str(op, "path", NULL);
		const char *from = nap_json_str(op, "from", NULL);
		json_object *val = json_object_object_get(op, "value");
		int has_val = json_object_object_get_ex(op, "value", NULL);
		int rc = -1;

		if (!path)
			return sim_err_status(err, 422,
			    "the server rejected our request due to an error in our request: "
			    "operation %zu has no path",
			    i);
		if (!strcmp(kind, "add") || !strcmp(kind, "replace")) {
			if (!has_val)
				return sim_err_status(err, 422,
				    "the server rejected our request due to an error in our "
				    "request: operation %zu has no value",
				    i);
			rc = op_add(target, path, sim_dup(val), !strcmp(kind, "replace"));
		} else if (!strcmp(kind, "remove")) {
			rc = op_remove(*target, path);
		} else if (!strcmp(kind, "test")) {
			json_object *have = get_at(*target, path);

			if (!(have ? nap_json_equal(have, val) : !val))
				return sim_err_status(err, 422,
				    "the server rejected our request due to an error in our "
				    "request: testing value %s failed: test failed",
				    path);
			rc = 0;
		} else if ((!strcmp(kind, "move") || !strcmp(kind, "copy")) && from) {
			json_object *src = get_at(*target, from);

			if (src) {
				json_object *copy = sim_dup(src);

				rc = 0;
				if (!strcmp(kind, "move"))
					rc = op_remove(*target, from);
				if (rc == 0)
					rc = op_add(target, path, copy, 0);
				else
					json_object_put(copy);
			}
		} else {
			return sim_err_status(err, 422,
			    "the server rejected our request due to an error in our request: "
			    "Unexpected kind: %s",
			    kind);
		}
		if (rc < 0)
			return sim_err_status(err, 422,
			    "the server rejected our request due to an error in our request: %s "
			    "operation does not apply: doc is missing path: \"%s\"",
			    kind, path);
	}
	return 0;
}

/* -- strategic merge patch ------------------------------------------------ */

static const struct {
	const char *field;
	const char *key; /* NULL: a set of primitives */
} merge_keys[] = {
    {"containers", "name"},
    {"initContainers", "name"},
    {"ephemeralContainers", "name"},
    {"env", "name"},
    {"volumes", "name"},
    {"volumeMounts", "mountPath"},
    {"ports", "containerPort"},
    {"imagePullSecrets", "name"},
    {"conditions", "type"},
    {"addresses", "type"},
    {"ownerReferences", "uid"},
    {"hostAliases", "ip"},
    {"topologySpreadConstraints", "topologyKey"},
    {"finalizers", NULL},
};

static int
merge_key(const char *field, const char **key)
{
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(merge_keys); i++)
		if (!strcmp(merge_keys[i].field, field)) {
			*key = merge_keys[i].key;
			return 1;
		}
	return 0;
}

static json_object *smp(json_object *target, json_object *patch);

static json_object *
smp_list(json_object *target, json_object *patch, const char *key)
{
	size_t i, j, n;

	if (!json_object_is_type(target, json_type_array)) {
		json_object_put(target);
		target = json_object_new_array();
	}
	n = json_object_array_length(patch);
	for (i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(patch, i);
		size_t tn = json_object_array_length(target);
		int found = -1;

		if (!key) {
			for (j = 0; j < tn; j++)
				if (nap_json_equal(json_object_array_get_idx(target, j), p))
					found = (int)j;
			if (found < 0)
				json_object_array_add(target, sim_dup(p));
			continue;
		}
		if (!json_object_is_type(p, json_type_object))
			continue;
		for (j = 0; j < tn; j++) {
			json_object *t = json_object_array_get_idx(target, j);

			if (nap_json_equal(
				json_object_object_get(t, key), json_object_object_get(p, key)))
				found = (int)j;
		}
		if (!strcmp(nap_json_str(p, "$patch", ""), "delete")) {
			if (found >= 0)
				json_object_array_del_idx(target, (size_t)found, 1);
			continue;
		}
		if (found >= 0) {
			json_object *t =
			    json_object_get(json_object_array_get_idx(target, (size_t)found));

			json_object_array_put_idx(target, (size_t)found, smp(t, p));
		} else {
			json_object_array_add(target, smp(NULL, p));
		}
	}
	return target;
}

static json_object *
smp(json_object *target, json_object *patch)
{
	const char *directive;

	if (!json_object_is_type(patch, json_type_object)) {
		json_object_put(target);
		return sim_dup(patch);
	}
	directive = nap_json_str(patch, "$patch", "");
	if (!strcmp(directive, "replace")) {
		json_object *copy = sim_dup(patch);

		json_object_put(target);
		json_object_object_del(copy, "$patch");
		return copy;
	}
	if (!json_object_is_type(target, json_type_object)) {
		json_object_put(target);
		target = json_object_new_object();
	}
	json_object_object_foreach(patch, k, v)
	{
		json_object *cur;
		const char *key;

		if (!strcmp(k, "$patch") || !strncmp(k, "$setElementOrder/", 17) ||
		    !strcmp(k, "$retainKeys"))
			continue;
		if (!strncmp(k, "$deleteFromPrimitiveList/", 25)) {
			json_object *list = json_object_object_get(target, k + 25);
			size_t i, j;

			for (i = 0; list && v && i < json_object_array_length(v); i++)
				for (j = json_object_array_length(list); j-- > 0;)
					if (nap_json_equal(json_object_array_get_idx(list, j),
						json_object_array_get_idx(v, i)))
						json_object_array_del_idx(list, j, 1);
			continue;
		}
		if (!v) {
			json_object_object_del(target, k);
			continue;
		}
		cur = json_object_get(json_object_object_get(target, k));
		if (json_object_is_type(v, json_type_array) && merge_key(k, &key))
			json_object_object_add(target, k, smp_list(cur, v, key));
		else if (json_object_is_type(v, json_type_object))
			json_object_object_add(target, k, smp(cur, v));
		else {
			json_object_put(cur);
			json_object_object_add(target, k, sim_dup(v));
		}
	}
	json_object_object_del(target, "$patch");
	return target;
}

int
sim_patch_strategic(json_object **target, json_object *patch, struct nap_err *err)
{
	if (!json_object_is_type(patch, json_type_object))
		return sim_err_status(err, 400, "the body of the request must be a JSON object");
	*target = smp(*target, patch);
	return 0;
}
