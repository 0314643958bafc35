/*
 * upgrade.c - the AKSNodeClass status (upgrade.h).
 */
#include "upgrade.h"
#include "clock.h"

#include <stdlib.h>
#include <string.h>
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
	       !strcmp(type, "Ready");
}

json_object *
nap_upgrade_status(const struct nap_nodeclass *c, const struct nap_upgrade_in *in, int *changed)
{
	json_object *old = c->meta.raw ? nap_json_key(c->meta.raw, "status") : NULL, *st, *conds,
		    *imgs, *oldconds;
	const char *cur = c->kubernetes_version ? c->kubernetes_version : "";
	const char *k8s = nap_upgrade_k8s_version(c, in->server_version);
	int upgraded = *cur != '\0' && strcmp(k8s, cur) != 0;
	int images_ready = nap_cond_status(c->conds, c->nconds, "ImagesReady") == 1;
	int full = !images_ready || upgraded || in->window_open;
	const char *family = nap_nodeclass_resolved_family(c, *k8s ? k8s : NULL);
	size_t nimg;
	char *msg;

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
	/* The provider's aggregate: UnhealthyDependents, naming each False one in its order. */
	msg = nap_xasprintf("%s%s%s", nimg > 0 ? "" : "ImagesReady=False",
	    nimg > 0 || *k8s ? "" : ", ", *k8s ? "" : "KubernetesVersionReady=False");
	json_object_array_add(conds, *k8s && nimg > 0 ?
					 cond(c, "Ready", 1, "Ready", "", in->now_ms) :
					 cond(c, "Ready", 0, "UnhealthyDependents", msg, in->now_ms));
	free(msg);
	json_object_object_add(st, "conditions", conds);
	if (changed)
		*changed = old == NULL || !json_object_equal(old, st);
	return st;
}
