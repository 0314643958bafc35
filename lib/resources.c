#include "resources.h"

#include <stdio.h>
#include <string.h>

#include "quantity.h"

static const char *const res_names[NAP_RES_N] = {
    [NAP_RES_CPU] = "cpu",
    [NAP_RES_MEMORY] = "memory",
    [NAP_RES_PODS] = "pods",
    [NAP_RES_EPHEMERAL] = "ephemeral-storage",
    [NAP_RES_NVIDIA_GPU] = "nvidia.com/gpu",
    [NAP_RES_AMD_GPU] = "amd.com/gpu",
};

const char *
nap_res_name(enum nap_res_kind k)
{
	return (unsigned)k < NAP_RES_N ? res_names[k] : "?";
}

int
nap_res_lookup(const char *name)
{
	int i;

	for (i = 0; i < NAP_RES_N; i++)
		if (strcmp(name, res_names[i]) == 0)
			return i;
	return -1;
}

void
nap_res_zero(struct nap_res *r)
{
	memset(r, 0, sizeof(*r));
}

void
nap_res_add(struct nap_res *dst, const struct nap_res *a)
{
	int i;

	for (i = 0; i < NAP_RES_N; i++)
		dst->v[i] += a->v[i];
}

void
nap_res_sub(struct nap_res *dst, const struct nap_res *a)
{
	int i;

	for (i = 0; i < NAP_RES_N; i++)
		dst->v[i] -= a->v[i];
}

void
nap_res_max(struct nap_res *dst, const struct nap_res *a)
{
	int i;

	for (i = 0; i < NAP_RES_N; i++)
		if (a->v[i] > dst->v[i])
			dst->v[i] = a->v[i];
}

int
nap_res_fits(const struct nap_res *need, const struct nap_res *have)
{
	int i, ok = 1;

	/* No early exit: a branch-free loop over six values is faster than the branch. */
	for (i = 0; i < NAP_RES_N; i++)
		ok &= need->v[i] <= have->v[i];
	return ok;
}

int
nap_res_first_short(const struct nap_res *need, const struct nap_res *have)
{
	int i;

	for (i = 0; i < NAP_RES_N; i++)
		if (need->v[i] > have->v[i])
			return i;
	return -1;
}

int
nap_res_is_zero(const struct nap_res *r)
{
	int i;

	for (i = 0; i < NAP_RES_N; i++)
		if (r->v[i] != 0)
			return 0;
	return 1;
}

int
nap_res_parse(
    struct nap_res *r, json_object *list, char *unknown, size_t unknown_len, struct nap_err *err)
{
	struct nap_res add;
	int64_t v;
	int k, rc;

	if (list == NULL)
		return 0;
	if (!json_object_is_type(list, json_type_object))
		return nap_err_set(err, NAP_EX_DATAERR, "resource list is not an object");
	nap_res_zero(&add);
	json_object_object_foreach(list, name, val)
	{
		const char *s;

		k = nap_res_lookup(name);
		if (k < 0) {
			if (unknown != NULL && unknown_len > 0 && unknown[0] == '\0')
				snprintf(unknown, unknown_len, "%s", name);
			continue;
		}
		/* The API server accepts numbers too; json-c hands us their text. */
		if (!json_object_is_type(val, json_type_string) &&
		    !json_object_is_type(val, json_type_int) &&
		    !json_object_is_type(val, json_type_double))
			return nap_err_set(
			    err, NAP_EX_DATAERR, "%s: quantity is not a string", name);
		s = json_object_get_string(val);
		rc = k == NAP_RES_CPU ? nap_qty_parse_milli(s, &v, err) : nap_qty_parse(s, &v, err);
		if (rc != 0)
			return nap_err_prefix(err, "%s", name);
		if (v < 0)
			return nap_err_set(
			    err, NAP_EX_DATAERR, "%s: negative quantity \"%s\"", name, s);
		add.v[k] = v;
	}
	nap_res_add(r, &add);
	return 0;
}

static void
fmt_one(enum nap_res_kind k, int64_t v, char *buf, size_t len)
{
	if (k == NAP_RES_CPU)
		nap_qty_fmt_milli(v, buf, len);
	else if (k == NAP_RES_MEMORY || k == NAP_RES_EPHEMERAL)
		nap_qty_fmt(v, buf, len);
	else
		snprintf(buf, len, "%lld", (long long)v);
}

json_object *
nap_res_to_json(const struct nap_res *r)
{
	json_object *o = json_object_new_object();
	char buf[NAP_QTY_BUFSZ];
	int i;

	for (i = 0; i < NAP_RES_N; i++) {
		if (r->v[i] == 0)
			continue;
		fmt_one((enum nap_res_kind)i, r->v[i], buf, sizeof(buf));
		json_object_object_add(o, res_names[i], json_object_new_string(buf));
	}
	return o;
}

void
nap_res_fmt(const struct nap_res *r, char *buf, size_t len)
{
	char q[NAP_QTY_BUFSZ];
	size_t used = 0;
	int i, n;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < NAP_RES_N && used < len; i++) {
		if (r->v[i] == 0)
			continue;
		fmt_one((enum nap_res_kind)i, r->v[i], q, sizeof(q));
		n = snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", res_names[i], q);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}
