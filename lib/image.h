/*
 * image.h - node images as the Azure provider chooses them
 * (azure-provider.md §1.3, §5.1-5.5): the image definitions of each
 * family in priority order, the newest version of each, the AKSNodeClass
 * status.images list built from them.  Images come from Azure's community
 * galleries, or, as AKS-managed NAP takes them, from the managed shared
 * image galleries (SIG) whose versions AKS lists as nodeImageVersions.
 * The drift checks that use them are lib/drift's.
 *
 * Pure: inputs are the model's structs and the JSON bodies ARM returned;
 * nothing here talks to the network or reads a clock.  Returned strings
 * are the caller's to free unless said otherwise.
 */
#ifndef NAP_IMAGE_H
#define NAP_IMAGE_H

#include <json-c/json.h>
#include <stddef.h>

#include "model.h"

struct nap_image_def {
	const char *name; /* "2204gen2containerd" */
	const char *arch; /* "amd64" or "arm64" */
	int gen;	  /* Hyper-V generation, 1 or 2 */
};

/*
 * The definitions for a resolved family (nap_nodeclass_resolved_family:
 * "Ubuntu2204", "Ubuntu2404", "Ubuntu2004", "AzureLinux", "AzureLinux3"),
 * FIPS and trusted launch, in priority order; *n gets their count (0 for a
 * combination the provider does not offer, e.g. FIPS with trusted launch
 * on 24.04).  The array is static.
 */
const struct nap_image_def *nap_image_defs(const char *family, int fips, int trusted_launch,
    size_t *n);
/* The community gallery of a family ("AKSUbuntu-38d8..." or "AKSAzureLinux-f7c7..."). */
const char *nap_image_gallery(const char *family);
/* The full community-gallery image version ID, as status.images[].id holds it. */
char *nap_image_id(const char *family, const char *def, const char *version);
/*
 * The full managed-gallery image version ID in subscription sig_sub
 * (/subscriptions/S/resourceGroups/AKS-Ubuntu/providers/Microsoft.Compute/
 * galleries/AKSUbuntu/images/D/versions/V); sig_sub NULL or "": nap_image_id.
 */
char *nap_image_sig_id(const char *family, const char *def, const char *version,
    const char *sig_sub);
/* The os nodeImageVersions lists a definition under: "AKSAzureLinux" (V2..., V3...) or "AKSUbuntu". */
const char *nap_image_sig_os(const char *def);
/* The definition and version of an image version ID (either gallery form); NULL when not one. */
int nap_image_id_parse(const char *id, char **def, char **version);

/* Dotted integer versions ("202511.07.0" < "202512.01.0"; "1.33.10" > "1.33.9"): <0, 0, >0. */
int nap_version_cmp(const char *a, const char *b);

/*
 * The newest version in a community-gallery versions list (ARM's
 * {"value": [{"name": "...", "properties": {"publishedDate": "..."}}]}):
 * the newest publishedDate, ties to the higher version.  Borrowed from
 * list; NULL when it has none.
 */
const char *nap_image_latest(json_object *list);

/*
 * The newest version of definition def in AKS's nodeImageVersions list
 * ({"value": [{"os": "AKSUbuntu", "sku": "2204gen2containerd", "version":
 * "202512.01.0", ...}]}), as the provider picks it: only entries of def's
 * os (nap_image_sig_os; AKSUbuntuEdgeZone, AKSWindows ... are not it), the
 * highest dotted version (so "202512.01.0" beats the old scheme's
 * "2022.10.03").  Borrowed from list; NULL when it has none.
 */
const char *nap_image_sig_latest(json_object *list, const char *def);

/*
 * status.images for a class: for each definition, its version.  full: every
 * definition at latest(def) (ImagesReady not True, or the window open);
 * otherwise partial: a definition already in cur keeps its version, new
 * ones come at their latest, ones no longer selected go.  latest returns
 * the newest version of a definition, or NULL when unknown (that
 * definition is then left out, or kept as it is in a partial update).
 * The IDs are the managed gallery's in subscription sig_sub when it is
 * given, else the community gallery's (nap_image_sig_id).  Returns the new
 * JSON array (each {id, requirements}), never NULL.
 */
json_object *nap_image_status(const struct nap_nodeclass *c, const char *family, int full,
    const char *sig_sub, const char *(*latest)(void *arg, const char *def), void *arg);

#endif
