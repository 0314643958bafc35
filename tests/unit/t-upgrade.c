/*
 * Unit tests for lib/upgrade: the AKSNodeClass status nap-upgrade keeps —
 * the Kubernetes version follows upgrades only, images refresh fully on
 * the first pass, after an upgrade and in the window, partially otherwise,
 * and the conditions read as the provider writes them.
 */
#include "upgrade.h"
#include "tap.h"

#include <stdlib.h>

#include "json.h"

#define CIG "/CommunityGalleries/AKSUbuntu-38d80f77-467a-481f-a8d4-09b6d4220bd2/images/"
#define NOW INT64_C(1796644800000) /* 2026-12-07T12:00:00Z */

static const char *newest = "202512.01.0";

static const char *
latest(void *arg, const char *def)
{
	(void)arg;
	(void)def;
	return newest;
}

/* A class from its JSON; status may be "" (none). */
static int
class(struct nap_nodeclass *c, const char *spec, const char *status)
{
	char buf[8192];
	json_object *o;
	struct nap_err err = {0};
	int rc;

	snprintf(buf, sizeof(buf),
	    "{\"apiVersion\":\"karpenter.azure.com/v1beta1\",\"kind\":\"AKSNodeClass\","
	    "\"metadata\":{\"name\":\"default\",\"generation\":3},\"spec\":{%s}%s%s}",
	    spec, *status ? ",\"status\":" : "", status);
	o = json_tokener_parse(buf);
	if (o == NULL) {
		printf("# bad JSON: %s\n", buf);
		return -1;
	}
	rc = nap_nodeclass_from_json(c, o, &err);
	if (rc != 0)
		printf("# %s\n", err.msg);
	json_object_put(o);
	return rc;
}

static const char *
s(json_object *st, const char *path)
{
	return nap_json_str(st, path, NULL);
}

static const char *
cond(json_object *st, const char *type, const char *field)
{
	json_object *cs = nap_json_key(st, "conditions");

	for (size_t i = 0; cs && i < json_object_array_length(cs); i++) {
		json_object *c = json_object_array_get_idx(cs, i);

		if (strcmp(nap_json_str(c, "type", ""), type) == 0)
			return nap_json_str(c, field, NULL);
	}
	return NULL;
}

static const char *
image0(json_object *st)
{
	return nap_json_str(json_object_array_get_idx(nap_json_key(st, "images"), 0), "id", NULL);
}

int
main(void)
{
	struct nap_nodeclass c;
	struct nap_upgrade_in in = {
	    .server_version = "v1.33.2", .latest = latest, .now_ms = NOW};
	json_object *st, *st2;
	int changed;
	char status[8192];

	/* First pass: no status at all. */
	class(&c, "\"imageFamily\":\"Ubuntu\"", "");
	st = nap_upgrade_status(&c, &in, &changed);
	TAP_IS_STR(s(st, "kubernetesVersion"), "1.33.2", "first pass: the server's version, without v");
	TAP_IS_STR(image0(st), CIG "2204gen2containerd/versions/202512.01.0",
	    "Ubuntu below 1.34 is 22.04, at the newest version");
	TAP_IS_INT(json_object_array_length(nap_json_key(st, "images")), 3, "all three definitions");
	TAP_IS_STR(cond(st, "Ready", "status"), "True", "Ready True");
	TAP_IS_STR(cond(st, "ImagesReady", "reason"), "ImagesReady", "ImagesReady True, reason ImagesReady");
	TAP_IS_STR(cond(st, "KubernetesVersionReady", "status"), "True", "KubernetesVersionReady True");
	TAP_IS_STR(cond(st, "Ready", "lastTransitionTime"), "2026-12-07T12:00:00Z",
	    "transition time now");
	TAP_OK(json_object_get_int64(json_object_object_get(
		   json_object_array_get_idx(nap_json_key(st, "conditions"), 0), "observedGeneration")) == 3,
	    "observedGeneration is the class's generation");
	TAP_IS_INT(changed, 1, "changed");
	nap_nodeclass_free(&c);

	/* The same again, an hour later, with a newer image out and the window closed. */
	snprintf(status, sizeof(status), "%s", json_object_to_json_string(st));
	class(&c, "\"imageFamily\":\"Ubuntu\"", status);
	newest = "202601.05.0";
	in.now_ms = NOW + 3600 * 1000;
	st2 = nap_upgrade_status(&c, &in, &changed);
	TAP_IS_STR(image0(st2), CIG "2204gen2containerd/versions/202512.01.0",
	    "window closed, ImagesReady True: the image stays (partial refresh)");
	TAP_IS_INT(changed, 0, "nothing changed, so nothing to write");
	TAP_IS_STR(cond(st2, "Ready", "lastTransitionTime"), "2026-12-07T12:00:00Z",
	    "the transition time is kept");
	json_object_put(st2);

	in.window_open = 1;
	st2 = nap_upgrade_status(&c, &in, &changed);
	TAP_IS_STR(image0(st2), CIG "2204gen2containerd/versions/202601.05.0",
	    "window open: the newest image (full refresh)");
	TAP_IS_INT(changed, 1, "changed");
	json_object_put(st2);
	in.window_open = 0;

	in.server_version = "v1.32.9";
	st2 = nap_upgrade_status(&c, &in, &changed);
	TAP_IS_STR(s(st2, "kubernetesVersion"), "1.33.2", "a downgrade of the server is ignored");
	TAP_IS_INT(changed, 0, "and changes nothing");
	json_object_put(st2);

	in.server_version = "1.34.1";
	st2 = nap_upgrade_status(&c, &in, &changed);
	TAP_IS_STR(s(st2, "kubernetesVersion"), "1.34.1", "an upgrade is followed");
	TAP_IS_STR(image0(st2), CIG "2404gen2containerd/versions/202601.05.0",
	    "and refreshes the images fully, outside the window (Ubuntu is 24.04 from 1.34)");
	json_object_put(st2);
	nap_nodeclass_free(&c);

	/* ImagesReady False: full refresh even with the window closed. */
	snprintf(status, sizeof(status),
	    "{\"kubernetesVersion\":\"1.33.2\",\"images\":[{\"id\":\"" CIG
	    "2204gen2containerd/versions/202401.01.0\",\"requirements\":[]}],"
	    "\"conditions\":[{\"type\":\"ImagesReady\",\"status\":\"False\",\"reason\":\"ImagesNotFound\"},"
	    "{\"type\":\"SubnetsReady\",\"status\":\"True\",\"reason\":\"SubnetsReady\"}]}");
	class(&c, "\"imageFamily\":\"Ubuntu2204\"", status);
	in.server_version = "v1.33.2";
	st2 = nap_upgrade_status(&c, &in, &changed);
	TAP_IS_STR(image0(st2), CIG "2204gen2containerd/versions/202601.05.0",
	    "ImagesReady False: a full refresh, window closed or not");
	TAP_IS_STR(cond(st2, "SubnetsReady", "status"), "True", "conditions nap does not own are kept");
	json_object_put(st2);

	newest = NULL;
	st2 = nap_upgrade_status(&c, &in, &changed);
	TAP_IS_STR(cond(st2, "ImagesReady", "reason"), "ImagesNotFound",
	    "no version known for any image: ImagesReady False, ImagesNotFound");
	TAP_IS_STR(cond(st2, "Ready", "status"), "False", "and Ready False");
	TAP_IS_STR(cond(st2, "Ready", "reason"), "UnhealthyDependents",
	    "with the provider's reason, UnhealthyDependents");
	TAP_IS_STR(cond(st2, "Ready", "message"), "ImagesReady=False", "naming the False one");
	json_object_put(st2);
	in.server_version = NULL;
	nap_nodeclass_free(&c);
	class(&c, "\"imageFamily\":\"Ubuntu\"", "");
	st2 = nap_upgrade_status(&c, &in, &changed);
	TAP_IS_STR(cond(st2, "Ready", "message"), "ImagesReady=False, KubernetesVersionReady=False",
	    "each False one, in the provider's order");
	json_object_put(st2);
	nap_nodeclass_free(&c);
	json_object_put(st);
	return tap_done();
}
