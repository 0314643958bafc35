/*
 * Unit tests for lib/image: the provider's image definitions per family,
 * image version IDs (community and managed galleries), version order, the
 * newest gallery version and the highest nodeImageVersions entry,
 * status.images (full and partial refresh).  The drift checks are t-drift's.
 */
#include "image.h"
#include "tap.h"

#include <stdlib.h>

#define UBUNTU_CIG "/CommunityGalleries/AKSUbuntu-38d80f77-467a-481f-a8d4-09b6d4220bd2/images/"

static json_object *
J(const char *s)
{
	json_object *o = json_tokener_parse(s);

	if (o == NULL)
		printf("# bad JSON in the test: %s\n", s);
	return o;
}

static void
defs(void)
{
	size_t n;
	const struct nap_image_def *d;

	d = nap_image_defs("Ubuntu2204", 0, 0, &n);
	TAP_IS_INT(n, 3, "Ubuntu2204 has three definitions");
	TAP_IS_STR(d[0].name, "2204gen2containerd", "gen2 amd64 first");
	TAP_OK(strcmp(d[1].name, "2204containerd") == 0 && d[1].gen == 1, "then gen1");
	TAP_OK(strcmp(d[2].arch, "arm64") == 0, "then arm64");
	d = nap_image_defs("Ubuntu2204", 1, 1, &n);
	TAP_OK(n == 1 && strcmp(d[0].name, "2204gen2fipsTLcontainerd") == 0,
	    "FIPS with trusted launch on 22.04: 2204gen2fipsTLcontainerd");
	d = nap_image_defs("Ubuntu2404", 1, 0, &n);
	TAP_IS_INT(n, 0, "no FIPS image on 24.04");
	d = nap_image_defs("Ubuntu2004", 1, 0, &n);
	TAP_OK(n == 2 && strcmp(d[0].name, "2004gen2fipscontainerd") == 0, "FIPS Ubuntu is 20.04");
	d = nap_image_defs("AzureLinux3", 1, 0, &n);
	TAP_OK(n == 3 && strcmp(d[2].name, "V3gen2arm64fips") == 0,
	    "Azure Linux 3 has an arm64 FIPS image");
	d = nap_image_defs("AzureLinux", 0, 1, &n);
	TAP_OK(n == 1 && strcmp(d[0].name, "V2gen2TL") == 0, "trusted launch on Azure Linux 2");
	nap_image_defs("Windows2022", 0, 0, &n);
	TAP_IS_INT(n, 0, "an unknown family has none");
}

static void
ids(void)
{
	char *id = nap_image_id("Ubuntu2204", "2204gen2containerd", "202511.07.0"), *d, *v;

	TAP_IS_STR(id, UBUNTU_CIG "2204gen2containerd/versions/202511.07.0",
	    "a community-gallery version ID");
	TAP_OK(nap_image_id_parse(id, &d, &v) == 0 && strcmp(d, "2204gen2containerd") == 0 &&
		   strcmp(v, "202511.07.0") == 0,
	    "parses back to its definition and version");
	free(id);
	free(d);
	free(v);
	id = nap_image_id("AzureLinux3", "V3gen2", "1.2.3");
	TAP_OK(strstr(id, "AKSAzureLinux-f7c7cda5") != NULL, "Azure Linux in its own gallery");
	free(id);
	TAP_OK(nap_image_id_parse("/subscriptions/s/resourceGroups/AKS-Ubuntu/providers/"
				  "Microsoft.Compute/galleries/AKSUbuntu/images/2204containerd/"
				  "versions/2022.10.03",
		   &d, &v) == 0 &&
		   strcmp(d, "2204containerd") == 0 && strcmp(v, "2022.10.03") == 0,
	    "a managed-gallery ID parses too");
	free(d);
	free(v);
	id = nap_image_sig_id("Ubuntu2204", "2204gen2containerd", "202512.01.0", "sub-1");
	TAP_IS_STR(id,
	    "/subscriptions/sub-1/resourceGroups/AKS-Ubuntu/providers/Microsoft.Compute/galleries/"
	    "AKSUbuntu/images/2204gen2containerd/versions/202512.01.0",
	    "a managed-gallery version ID in the SIG subscription");
	free(id);
	id = nap_image_sig_id("AzureLinux3", "V3gen2", "202512.01.0", "sub-1");
	TAP_OK(strstr(id, "/resourceGroups/AKS-AzureLinux/") && strstr(id, "/galleries/AKSAzureLinux/"),
	    "Azure Linux in AKS-AzureLinux/AKSAzureLinux");
	free(id);
	id = nap_image_sig_id("Ubuntu2204", "2204containerd", "1.0", "");
	TAP_OK(strncmp(id, "/CommunityGalleries/", 20) == 0,
	    "without a SIG subscription, the community gallery's");
	free(id);
	TAP_IS_INT(nap_image_id_parse(UBUNTU_CIG "2204containerd", &d, &v), -1,
	    "an image definition without a version is not a version ID");
	TAP_IS_INT(nap_image_id_parse(UBUNTU_CIG "x/versions/", &d, &v), -1, "nor an empty version");
	TAP_IS_INT(nap_image_id_parse(NULL, &d, &v), -1, "nor NULL");
}

static void
versions(void)
{
	TAP_OK(nap_version_cmp("202511.07.0", "202512.01.0") < 0, "202511.07.0 < 202512.01.0");
	TAP_OK(nap_version_cmp("1.33.10", "1.33.9") > 0, "1.33.10 > 1.33.9 (numbers, not strings)");
	TAP_IS_INT(nap_version_cmp("1.33", "1.33.0"), 0, "1.33 == 1.33.0");
	TAP_OK(nap_version_cmp("1.33", "1.33.1") < 0, "1.33 < 1.33.1");
	TAP_OK(nap_version_cmp("2022.10.03", "202511.07.0") < 0, "the old scheme sorts before the new");
	TAP_IS_INT(nap_version_cmp("1.32.4", "1.32.4"), 0, "equal");
}

static void
latest(void)
{
	json_object *l = J("{\"value\":["
			   "{\"name\":\"202511.07.0\",\"properties\":{\"publishedDate\":\"2025-11-08T01:00:00Z\"}},"
			   "{\"name\":\"202512.01.0\",\"properties\":{\"publishedDate\":\"2025-12-02T01:00:00Z\"}},"
			   "{\"name\":\"202510.20.0\",\"properties\":{\"publishedDate\":\"2025-12-03T01:00:00Z\"}}]}");

	TAP_IS_STR(nap_image_latest(l), "202510.20.0",
	    "the newest publishedDate wins, even over a higher version");
	json_object_put(l);
	l = J("{\"value\":["
	      "{\"name\":\"1.0.9\",\"properties\":{\"publishedDate\":\"2025-11-08T01:00:00Z\"}},"
	      "{\"name\":\"1.0.10\",\"properties\":{\"publishedDate\":\"2025-11-08T01:00:00Z\"}}]}");
	TAP_IS_STR(nap_image_latest(l), "1.0.10", "on the same date, the higher version");
	json_object_put(l);
	l = J("{\"value\":[]}");
	TAP_IS_STR(nap_image_latest(l), NULL, "an empty list has none");
	json_object_put(l);
}

static void
sig_latest(void)
{
	/* As AKS answers: other OSes, an edge-zone twin, an old-scheme legacy entry. */
	json_object *l = J("{\"value\":["
	    "{\"os\":\"AKSUbuntuEdgeZone\",\"sku\":\"2204gen2containerd\",\"version\":\"202701.01.0\"},"
	    "{\"os\":\"AKSUbuntu\",\"sku\":\"2204gen2containerd\",\"version\":\"202512.01.0\"},"
	    "{\"os\":\"AKSUbuntu\",\"sku\":\"2204gen2containerd\",\"version\":\"2022.10.03\"},"
	    "{\"os\":\"AKSUbuntu\",\"sku\":\"2204gen2containerd\",\"version\":\"202511.07.10\"},"
	    "{\"os\":\"AKSWindows\",\"sku\":\"V3gen2\",\"version\":\"202701.01.0\"},"
	    "{\"os\":\"AKSAzureLinux\",\"sku\":\"V3gen2\",\"version\":\"202511.07.0\"}]}");

	TAP_IS_STR(nap_image_sig_latest(l, "2204gen2containerd"), "202512.01.0",
	    "nodeImageVersions: the highest dotted version of the definition's os and sku, "
	    "not the edge zone's, not the old scheme's");
	TAP_IS_STR(nap_image_sig_latest(l, "V3gen2"), "202511.07.0",
	    "Azure Linux definitions under AKSAzureLinux, not another os's");
	TAP_IS_STR(nap_image_sig_latest(l, "2204containerd"), NULL, "a definition not listed has none");
	json_object_put(l);
}

static const char *
fake_latest(void *arg, const char *def)
{
	(void)arg;
	if (strcmp(def, "2204containerd") == 0)
		return NULL; /* unknown */
	return "202512.01.0";
}

static int
class(struct nap_nodeclass *c, const char *status_images, const char *extra)
{
	char buf[4096];
	json_object *o;
	struct nap_err err = {0};
	int rc;

	snprintf(buf, sizeof(buf),
	    "{\"apiVersion\":\"karpenter.azure.com/v1beta1\",\"kind\":\"AKSNodeClass\","
	    "\"metadata\":{\"name\":\"default\",\"annotations\":{"
	    "\"karpenter.azure.com/aksnodeclass-hash\":\"111\","
	    "\"karpenter.azure.com/aksnodeclass-hash-version\":\"v3\"}},"
	    "\"spec\":{\"imageFamily\":\"Ubuntu2204\"%s},"
	    "\"status\":{\"kubernetesVersion\":\"1.33.2\",\"images\":%s}}",
	    extra, status_images);
	o = J(buf);
	rc = nap_nodeclass_from_json(c, o, &err);
	if (rc != 0)
		printf("# %s\n", err.msg);
	json_object_put(o);
	return rc;
}

static void
status(void)
{
	struct nap_nodeclass c;
	json_object *imgs;
	const char *id0;

	TAP_IS_INT(class(&c,
		       "[{\"id\":\"" UBUNTU_CIG "2204gen2containerd/versions/202511.07.0\","
		       "\"requirements\":[]}]",
		       ""),
	    0, "a class with one image in its status");
	imgs = nap_image_status(&c, "Ubuntu2204", 1, NULL, fake_latest, NULL);
	TAP_IS_INT(json_object_array_length(imgs), 2,
	    "full refresh: every definition whose latest version is known (2 of 3)");
	id0 = json_object_get_string(
	    json_object_object_get(json_object_array_get_idx(imgs, 0), "id"));
	TAP_IS_STR(id0, UBUNTU_CIG "2204gen2containerd/versions/202512.01.0",
	    "at its latest version, in priority order");
	TAP_IS_STR(json_object_to_json_string_ext(
		       json_object_object_get(json_object_array_get_idx(imgs, 1), "requirements"),
		       JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    "[{\"key\":\"kubernetes.io/arch\",\"operator\":\"In\",\"values\":[\"arm64\"]},"
	    "{\"key\":\"karpenter.azure.com/sku-hyperv-generation\",\"operator\":\"In\","
	    "\"values\":[\"2\"]}]",
	    "each with its arch and Hyper-V generation as requirements");
	json_object_put(imgs);
	imgs = nap_image_status(&c, "Ubuntu2204", 0, NULL, fake_latest, NULL);
	id0 = json_object_get_string(
	    json_object_object_get(json_object_array_get_idx(imgs, 0), "id"));
	TAP_IS_STR(id0, UBUNTU_CIG "2204gen2containerd/versions/202511.07.0",
	    "partial refresh: a definition already there keeps its version");
	TAP_IS_INT(json_object_array_length(imgs), 2, "and new definitions come at their latest");
	json_object_put(imgs);
	imgs = nap_image_status(&c, "Ubuntu2404", 0, NULL, fake_latest, NULL);
	id0 = json_object_get_string(
	    json_object_object_get(json_object_array_get_idx(imgs, 0), "id"));
	TAP_IS_STR(id0, UBUNTU_CIG "2404gen2containerd/versions/202512.01.0",
	    "definitions no longer selected go (family changed to 24.04)");
	json_object_put(imgs);
	imgs = nap_image_status(&c, "Ubuntu2204", 1, "sub-1", fake_latest, NULL);
	id0 = json_object_get_string(
	    json_object_object_get(json_object_array_get_idx(imgs, 0), "id"));
	TAP_IS_STR(id0,
	    "/subscriptions/sub-1/resourceGroups/AKS-Ubuntu/providers/Microsoft.Compute/galleries/"
	    "AKSUbuntu/images/2204gen2containerd/versions/202512.01.0",
	    "with a SIG subscription the IDs are the managed gallery's");
	json_object_put(imgs);
	nap_nodeclass_free(&c);
}

int
main(void)
{
	defs();
	ids();
	versions();
	latest();
	sig_latest();
	status();
	return tap_done();
}
