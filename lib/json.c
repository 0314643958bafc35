#include "json.h"

#include <string.h>

#include "nap.h"

json_object *
nap_json_key(json_object *obj, const char *key)
{
	json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

json_object *
nap_json_get(json_object *obj, const char *path)
{
	char step[256];
	const char *p = path, *dot;
	size_t n;

	while (obj != NULL && *p != '\0') {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(step))
			return NULL;
		memcpy(step, p, n);
		step[n] = '\0';
		obj = nap_json_key(obj, step);
		p += n + (dot != NULL);
	}
	return obj;
}

const char *
nap_json_str(json_object *obj, const char *path, const char *def)
{
	json_object *v = nap_json_get(obj, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

int64_t
nap_json_int(json_object *obj, const char *path, int64_t def)
{
	json_object *v = nap_json_get(obj, path);

	if (v == NULL)
		return def;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	if (json_object_is_type(v, json_type_double))
		return (int64_t)json_object_get_double(v);
	return def;
}

int
nap_json_bool(json_object *obj, const char *path, int def)
{
	json_object *v = nap_json_get(obj, path);

	return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

json_object *
nap_json_array(json_object *obj, const char *path, size_t *n)
{
	json_object *v = nap_json_get(obj, path);

	if (v == NULL || !json_object_is_type(v, json_type_array)) {
		if (n)
			*n = 0;
		return NULL;
	}
	if (n)
		*n = json_object_array_length(v);
	return v;
}

int
nap_json_set(json_object *obj, const char *path, json_object *val)
{
	char step[256];
	const char *p = path, *dot;
	json_object *next;
	size_t n;

	for (;;) {
		if (obj == NULL || !json_object_is_type(obj, json_type_object))
			break;
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(step))
			break;
		memcpy(step, p, n);
		step[n] = '\0';
		if (dot == NULL) {
			json_object_object_add(obj, step, val);
			return 0;
		}
		next = nap_json_key(obj, step);
		if (next == NULL) {
			next = json_object_new_object();
			json_object_object_add(obj, step, next);
		}
		obj = next;
		p = dot + 1;
	}
	json_object_put(val);
	return -1;
}

const char *
nap_json_dump(json_object *obj)
{
	return json_object_to_json_string_ext(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

int
nap_json_equal(json_object *a, json_object *b)
{
	return json_object_equal(a, b);
}
