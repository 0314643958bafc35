/*
 * upgrade.c - the AKSNodeClass status (upgrade.h).
 */
#include "upgrade.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "image.h"
#include "json.h"

const char *
nap_upgrade_k8s_version(const struct nap_nodeclass *c, const char *server_version)
{
	const char *cur = c->kubernetes_version ? c->kubernetes_version : "";
	const char *srv = server_version ? server_version + (server_version[0] == 'v') : "";

	if (*srv == '\0')
		return cur;
	if (*cur == '\0' || nap_version_cmp(srv, cur) > 0)
		return srv;
	return cur;
}

const char *
nap_upgrade_subnet_id(const struct nap_nodeclass *c, const char *def)
{
	if (c->subnet_id && *c->subnet_id)
		return c->subnet_id;
	return def ? def : "";
}

/* The next segment of an ID after a '/': its length, or 0 when empty or none. */
static size_t
segment(const char *p)
{
	return *p == '/' ? strcspn(p + 1, "/") : 0;
}

/* Whether p starts with "/word" as a whole segment (any case); then *p is moved past it. */
static int
literal(const char **p, const char *word)
{
	size_t n = strlen(word);

	if (segment(*p) != n || strncasecmp(*p + 1, word, n) != 0)
		return 0;
	*p += n + 1;
	return 1;
}

/* A segment of 1..max characters, moved past: 1, or 0 when none. */
static size_t
any(const char **p, size_t max)
{
	size_t n = segment(*p);

	if (n == 0 || n > max)
		return 0;
	*p += n + 1;
	return n;
}

int
nap_upgrade_subnet_valid(const char *id)
{
	const char *p = id, *rg;
	size_t n;

	if (id == NULL || !literal(&p, "subscriptions") || !any(&p, SIZE_MAX) ||
	    !literal(&p, "resourceGroups"))
		return 0;
	rg = p + 1;
	if ((n = any(&p, 90)) == 0 || rg[n - 1] == '.' || strspn(rg, "abcdefghijklmnopqrstuvwxyz"
								 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
								 "0123456789_-().") < n)
		return 0;
	return literal(&p, "providers") && literal(&p, "Microsoft.Network") &&
	       literal(&p, "virtualNetworks") && any(&p, SIZE_MAX) && literal(&p, "subnets") &&
	       any(&p, SIZE_MAX) && *p == '\0';
}

static json_object *
rfc3339(int64_t ms)
{
	char buf[NAP_CLOCK_RFC3339_LEN];

	nap_clock_rfc3339(ms, buf, sizeof(buf));
	return json_object_new_string(buf);
}

/* A condition, keeping the class's lastTransitionTime when the status is unchanged. */
static json_object *
cond(const struct nap_nodeclass *c, const char *type, int ok, const char *reason, const char *msg,
    int64_t now_ms)
{
	const struct nap_cond *old = nap_cond_find(c->conds, c->nconds, type);
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "status", json_object_new_string(ok ? "True" : "False"));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "observedGeneration", json_object_new_int64(c->meta.generation));
	json_object_object_add(o, "lastTransitionTime",
	    rfc3339(old && old->status == ok && old->since > 0 ? old->since * 1000 : now_ms));
	return o;
}

static int
is_ours(const char *type)
{
	return !strcmp(type, "KubernetesVersionReady") || !strcmp(type, "ImagesReady") ||
	       !strcmp(type, "SubnetsReady") || !strcmp(type, "ValidationSucceeded") ||
	       !strcmp(type, "Ready");
}

/* SubnetsReady as the check found it (upgrade.h); NULL when not checked and none is kept. */
static json_object *
subnets_cond(const struct nap_nodeclass *c, const struct nap_upgrade_in *in)
{
	const char *id = nap_upgrade_subnet_id(c, in->default_subnet);
	json_object *o;
	char *msg;

	if (!nap_upgrade_subnet_valid(id)) {
		msg = *id ? nap_xasprintf("%s is not a subnet ID (/subscriptions/.../resourceGroups/"
					  ".../providers/Microsoft.Network/virtualNetworks/.../"
					  "subnets/...)",
				id) :
			    nap_xasprintf("no subnet: neither vnetSubnetID nor the config names one");
		o = cond(c, "SubnetsReady", 0, "SubnetIDInvalid", msg, in->now_ms);
	} else if (in->subnet == NAP_SUBNET_FOUND) {
		return cond(c, "SubnetsReady", 1, "SubnetsReady", "", in->now_ms);
	} else if (in->subnet == NAP_SUBNET_NOT_FOUND) {
		msg = nap_xasprintf("subnet %s was not found", id);
		o = cond(c, "SubnetsReady", 0, "SubnetNotFound", msg, in->now_ms);
	} else if (in->subnet == NAP_SUBNET_ERROR) {
		msg = nap_xasprintf("subnet %s: %s", id,
		    in->subnet_detail ? in->subnet_detail : "unknown error");
		o = cond(c, "SubnetsReady", 0, "SubnetUnknownError", msg, in->now_ms);
	} else
		return NULL;
	free(msg);
	return o;
}

json_object *
nap_upgrade_status(const struct nap_nodeclass *c, const struct nap_upgrade_in *in, int *changed)
{
	json_object *old = c->meta.raw ? nap_json_key(c->meta.raw, "status") : NULL, *st, *conds,
		    *imgs, *oldconds, *sub;
	const char *cur = c->kubernetes_version ? c->kubernetes_version : "";
	const char *k8s = nap_upgrade_k8s_version(c, in->server_version);
	int upgraded = *cur != '\0' && strcmp(k8s, cur) != 0;
	int images_ready = nap_cond_status(c->conds, c->nconds, "ImagesReady") == 1;
	int full = !images_ready || upgraded || in->window_open;
	const char *family = nap_nodeclass_resolved_family(c, *k8s ? k8s : NULL);
	size_t nimg;
	char *msg;
	const char *des;

	st = old && json_object_is_type(old, json_type_object) ? json_object_get(old) : NULL;
	if (st) {
		/* A deep copy: the caller's class keeps its own. */
		json_object *cp = NULL;

		json_object_deep_copy(st, &cp, NULL);
		json_object_put(st);
		st = cp;
	} else
		st = json_object_new_object();
	if (*k8s)
		json_object_object_add(st, "kubernetesVersion", json_object_new_string(k8s));
	imgs = nap_image_status(c, family, full, in->sig_subscription, in->latest, in->arg);
	nimg = json_object_array_length(imgs);
	json_object_object_add(st, "images", imgs);

	conds = json_object_new_array();
	oldconds = nap_json_key(st, "conditions");
	for (size_t i = 0; oldconds && json_object_is_type(oldconds, json_type_array) &&
			   i < json_object_array_length(oldconds);
	     i++) {
		json_object *o = json_object_array_get_idx(oldconds, i);
		const char *t = nap_json_str(o, "type", "");

		if (!is_ours(t))
			json_object_array_add(conds, json_object_get(o));
	}
	json_object_array_add(conds,
	    *k8s ? cond(c, "KubernetesVersionReady", 1, "KubernetesVersionReady", "", in->now_ms) :
		   cond(c, "KubernetesVersionReady", 0, "KubernetesVersionNotFound",
		       "the API server's version is not known yet", in->now_ms));
	msg = nap_xasprintf("no image of family %s has a known version", family);
	json_object_array_add(conds, nimg > 0 ? cond(c, "ImagesReady", 1, "ImagesReady", "", in->now_ms) :
						 cond(c, "ImagesReady", 0, "ImagesNotFound", msg, in->now_ms));
	free(msg);
	sub = subnets_cond(c, in);
	if (sub == NULL) { /* not checked: the one the class has, if any */
		const struct nap_cond *k = nap_cond_find(c->conds, c->nconds, "SubnetsReady");

		for (size_t i = 0; k && oldconds && i < json_object_array_length(oldconds); i++)
			if (!strcmp(nap_json_str(json_object_array_get_idx(oldconds, i), "type", ""),
				"SubnetsReady"))
				sub = json_object_get(json_object_array_get_idx(oldconds, i));
	}
	if (sub)
		json_object_array_add(conds, sub);
	des = in->des_id && *in->des_id ? in->des_id :
	      c->meta.raw ? nap_json_str(c->meta.raw, "spec.diskEncryptionSetID", NULL) : NULL;
	msg = nap_xasprintf("disk encryption set %s: nap does not validate its RBAC and does not "
			    "encrypt with one",
	    des ? des : "");
	json_object_array_add(conds,
	    des && *des ? cond(c, "ValidationSucceeded", 0, "DiskEncryptionSetNotSupported", msg,
			      in->now_ms) :
			  cond(c, "ValidationSucceeded", 1, "ValidationSucceeded", "", in->now_ms));
	free(msg);
	/* The provider's aggregate: UnhealthyDependents, naming each False one in its order. */
	msg = nap_xstrdup("");
	{
		static const char *const order[] = {"ImagesReady", "KubernetesVersionReady",
		    "SubnetsReady", "ValidationSucceeded"};

		for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
			const char *stt = NULL;
			char *m;

			for (size_t j = 0; j < json_object_array_length(conds) && !stt; j++) {
				json_object *o = json_object_array_get_idx(conds, j);

				if (!strcmp(nap_json_str(o, "type", ""), order[i]))
					stt = nap_json_str(o, "status", "");
			}
			if (stt == NULL || !strcmp(stt, "True"))
				continue;
			m = nap_xasprintf("%s%s%s=%s", msg, *msg ? ", " : "", order[i], stt);
			free(msg);
			msg = m;
		}
	}
	json_object_array_add(conds, *msg == '\0' ? cond(c, "Ready", 1, "Ready", "", in->now_ms) :
						     cond(c, "Ready", 0, "UnhealthyDependents", msg,
							 in->now_ms));
	free(msg);
	json_object_object_add(st, "conditions", conds);
	if (changed)
		*changed = old == NULL || !json_object_equal(old, st);
	return st;
}
