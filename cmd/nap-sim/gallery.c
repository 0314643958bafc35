/*
 * gallery.c - what nap-upgrade asks of Azure and of the API server about
 * versions: the community galleries' image versions (the list ARM serves
 * at .../locations/L/communityGalleries/G/images/D/versions), AKS's
 * nodeImageVersions for the managed galleries (the same versions: each
 * definition's highest, as AKS lists only the latest, plus the legacy
 * old-scheme entry AKS still lists for the Ubuntu 22.04 definitions), and a
 * Kubernetes version that a test may change while nap-sim runs.
 *
 * Every image definition of lib/image's families starts with two versions,
 * 202511.07.0 (published 2025-11-08) and 202512.01.0 (2025-12-02).  The
 * control endpoints, on the ARM port with the simulator's token as the
 * fault endpoint wants:
 *   GET  /nap-sim/images     every definition's versions
 *   POST /nap-sim/images     {"definition": D, "version": V,
 *                             "publishedDate": RFC 3339 (default now)}
 *                            publishes V of D (D "*": of every definition)
 *   GET  /nap-sim/version    {"gitVersion": ...}
 *   POST /nap-sim/version    {"gitVersion": "v1.33.2"} changes /version
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "image.h"
#include "json.h"
#include "world.h"

static const char *const families[] = {
    "Ubuntu2204", "Ubuntu2404", "Ubuntu2004", "AzureLinux", "AzureLinux3"};

static void
add_version(json_object *list, const char *v, const char *date)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(v));
	json_object_object_add(o, "publishedDate", json_object_new_string(date));
	json_object_array_add(list, o);
}

/* definition -> [{name, publishedDate}], made on first use. */
static json_object *
gallery(struct world *w)
{
	if (w->gallery)
		return w->gallery;
	w->gallery = json_object_new_object();
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
		for (int v = 0; v < 4; v++) {
			size_t n;
			const struct nap_image_def *d = nap_image_defs(families[f], v & 1, v & 2, &n);

			for (size_t i = 0; i < n; i++) {
				json_object *list;

				if (json_object_object_get_ex(w->gallery, d[i].name, NULL))
					continue;
				list = json_object_new_array();
				add_version(list, "202511.07.0", "2025-11-08T00:00:00Z");
				add_version(list, "202512.01.0", "2025-12-02T00:00:00Z");
				json_object_object_add(w->gallery, d[i].name, list);
			}
		}
	return w->gallery;
}

const char *
gallery_k8s_version(struct world *w)
{
	return w->k8s_version ? w->k8s_version : w->opts->kubernetes_version;
}

int
gallery_versions(struct world *w, struct sim_resp *resp, const char *location, const char *g,
    const char *def)
{
	json_object *list, *out, *value;

	if (strcasecmp(location, w->region) != 0) {
		arm_error(resp, 404, "GalleryImageNotFound", NULL,
		    "The gallery image %s is not available in location %s.", def, location);
		return 1;
	}
	if (strncmp(g, "AKSUbuntu-", 10) != 0 && strncmp(g, "AKSAzureLinux-", 14) != 0) {
		arm_error(resp, 404, "GalleryNotFound", NULL,
		    "The community gallery %s could not be found.", g);
		return 1;
	}
	if (!json_object_object_get_ex(gallery(w), def, &list)) {
		arm_error(resp, 404, "GalleryImageNotFound", NULL,
		    "The gallery image %s could not be found in gallery %s.", def, g);
		return 1;
	}
	out = json_object_new_object();
	value = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i), *o = json_object_new_object();
		json_object *props = json_object_new_object(), *ident = json_object_new_object();
		const char *name = nap_json_str(it, "name", "");
		char *uid = nap_xasprintf("/CommunityGalleries/%s/Images/%s/Versions/%s", g, def, name);

		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "location", json_object_new_string(w->region));
		json_object_object_add(o, "type",
		    json_object_new_string("Microsoft.Compute/locations/communityGalleries/images/versions"));
		json_object_object_add(ident, "uniqueId", json_object_new_string(uid));
		json_object_object_add(o, "identifier", ident);
		json_object_object_add(props, "publishedDate",
		    json_object_new_string(nap_json_str(it, "publishedDate", "")));
		json_object_object_add(props, "excludeFromLatest", json_object_new_boolean(0));
		json_object_object_add(o, "properties", props);
		json_object_array_add(value, o);
		free(uid);
	}
	json_object_object_add(out, "value", value);
	sim_resp_json(resp, 200, out);
	return 1;
}

/* One nodeImageVersions entry. */
static void
add_node_image(json_object *value, const char *os, const char *sku, const char *version)
{
	json_object *o = json_object_new_object();
	char *full = nap_xasprintf("%s-%s-%s", os, sku, version);

	json_object_object_add(o, "fullName", json_object_new_string(full));
	json_object_object_add(o, "os", json_object_new_string(os));
	json_object_object_add(o, "sku", json_object_new_string(sku));
	json_object_object_add(o, "version", json_object_new_string(version));
	json_object_array_add(value, o);
	free(full);
}

int
gallery_node_images(struct world *w, struct sim_resp *resp, const char *location)
{
	json_object *out, *value;

	if (strcasecmp(location, w->region) != 0) {
		arm_error(resp, 404, "LocationNotAvailableForResourceType", NULL,
		    "The provided location '%s' is not available for resource type "
		    "'Microsoft.ContainerService/locations/nodeImageVersions'.",
		    location);
		return 1;
	}
	out = json_object_new_object();
	value = json_object_new_array();
	json_object_object_foreach(gallery(w), def, list)
	{
		const char *best = NULL;

		for (size_t i = 0; i < json_object_array_length(list); i++) {
			const char *v = nap_json_str(json_object_array_get_idx(list, i), "name", "");

			if (best == NULL || nap_version_cmp(v, best) > 0)
				best = v;
		}
		if (best)
			add_node_image(value, nap_image_sig_os(def), def, best);
		if (strncmp(def, "2204", 4) == 0)
			add_node_image(value, "AKSUbuntu", def, "2022.10.03");
	}
	json_object_object_add(out, "value", value);
	sim_resp_json(resp, 200, out);
	return 1;
}

static int
publish(struct world *w, json_object *doc, struct sim_resp *resp)
{
	const char *def = nap_json_str(doc, "definition", ""), *v = nap_json_str(doc, "version", "");
	char now[40];
	const char *date;
	json_object *g = gallery(w), *list;
	int n = 0;

	world_rfc3339_at(world_wall(), now, sizeof(now));
	date = nap_json_str(doc, "publishedDate", now);
	if (!*def || !*v) {
		arm_error(resp, 400, "InvalidParameter", NULL,
		    "Publishing needs \"definition\" and \"version\".");
		return 1;
	}
	json_object_object_foreach(g, name, l)
	{
		if (strcmp(def, "*") != 0 && strcmp(def, name) != 0)
			continue;
		add_version(l, v, date);
		n++;
	}
	if (n == 0) {
		arm_error(resp, 404, "GalleryImageNotFound", NULL, "No image definition %s.", def);
		return 1;
	}
	(void)list;
	sim_resp_json(resp, 200, json_object_get(g));
	return 1;
}

int
gallery_control(struct world *w, const struct sim_req *req, struct sim_resp *resp)
{
	int images = strcmp(req->path, "/nap-sim/images") == 0;
	json_object *doc, *o;

	/* fault_control has checked the simulator's token already */
	if (!images && strcmp(req->path, "/nap-sim/version") != 0)
		return 0;
	if (strcmp(req->method, "GET") == 0) {
		if (images)
			sim_resp_json(resp, 200, json_object_get(gallery(w)));
		else {
			o = json_object_new_object();
			json_object_object_add(
			    o, "gitVersion", json_object_new_string(gallery_k8s_version(w)));
			sim_resp_json(resp, 200, o);
		}
		return 1;
	}
	if (strcmp(req->method, "POST") != 0) {
		arm_error(resp, 405, "MethodNotAllowed", NULL,
		    "The requested method '%s' is not allowed for this resource.", req->method);
		return 1;
	}
	doc = json_tokener_parse(req->body ? req->body : "");
	if (doc == NULL || !json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		arm_error(resp, 400, "InvalidRequestContent", NULL, "The body is not a JSON object.");
		return 1;
	}
	if (images) {
		publish(w, doc, resp);
	} else {
		const char *v = nap_json_str(doc, "gitVersion", "");

		if (v[0] != 'v' || strchr(v, '.') == NULL) {
			arm_error(resp, 400, "InvalidParameter", NULL,
			    "gitVersion \"%s\" is not like v1.33.2.", v);
		} else {
			free(w->k8s_version);
			w->k8s_version = nap_xstrdup(v);
			o = json_object_new_object();
			json_object_object_add(o, "gitVersion", json_object_new_string(v));
			sim_resp_json(resp, 200, o);
		}
	}
	json_object_put(doc);
	return 1;
}

void
gallery_fini(struct world *w)
{
	json_object_put(w->gallery);
	w->gallery = NULL;
	free(w->k8s_version);
	w->k8s_version = NULL;
}
