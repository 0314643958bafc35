/*
 * upgrade.h - the AKSNodeClass status nap-upgrade keeps, as the Azure
 * provider keeps it (azure-provider.md §1.3, §5.3, §5.4).
 *
 * nap_upgrade_status is pure: given a class as it is now, the API server's
 * version, whether the maintenance window is open and a lookup of the
 * newest version of each image definition, it returns the status the class
 * should have:
 *   kubernetesVersion  the server's, the first time; later only upgrades
 *                      are followed (a lower server version is ignored);
 *   images             lib/image's list (community or managed gallery
 *                      IDs, as sig_subscription says): a full refresh when ImagesReady
 *                      is not True, when the Kubernetes version has just
 *                      gone up (the provider's KubernetesUpgrade reset) or
 *                      when the window is open; a partial one otherwise;
 *   conditions         KubernetesVersionReady, ImagesReady (False,
 *                      ImagesNotFound, when no definition has a version)
 *                      and Ready (both True; else False, UnhealthyDependents,
 *                      "ImagesReady=False" as the provider says); each with the class's
 *                      generation as observedGeneration and its
 *                      lastTransitionTime kept while its status is unchanged.
 * Other status fields and conditions of the class are kept as they are.
 *
 * The caller owns the returned object (json_object_put).  *changed is set
 * when it differs from the class's current status, so a tool writes only
 * what changed.
 */
#ifndef NAP_UPGRADE_H
#define NAP_UPGRADE_H

#include <json-c/json.h>
#include <stdint.h>

#include "model.h"

struct nap_upgrade_in {
	const char *server_version; /* "/version" gitVersion ("v1.33.2" or "1.33.2"), NULL unknown */
	int window_open;
	/* The newest version of an image definition, or NULL when unknown. */
	const char *(*latest)(void *arg, const char *def);
	void *arg;
	int64_t now_ms;
	const char *sig_subscription; /* images from the managed galleries there; NULL: community */
};

json_object *nap_upgrade_status(const struct nap_nodeclass *c, const struct nap_upgrade_in *in,
    int *changed);

/* The Kubernetes version the class should have ("1.33.2"), borrowed; "" when none known. */
const char *nap_upgrade_k8s_version(const struct nap_nodeclass *c, const char *server_version);

#endif
