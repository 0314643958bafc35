/*
 * t-csinode.c - lib/model-csinode.c and lib/catalog-disks.c: CSINode
 * objects, the CSI driver a volume claim attaches through, and the sizes'
 * data-disk counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "catalog.h"
#include "json.h"
#include "model.h"
#include "tap.h"

static const char *const csinode_ok =
    "{\"apiVersion\":\"storage.k8s.io/v1\",\"kind\":\"CSINode\",\"metadata\":{\"name\":\"n1\"},"
    "\"spec\":{\"drivers\":[{\"name\":\"disk.csi.azure.com\",\"nodeID\":\"n1\","
    "\"allocatable\":{\"count\":4}},{\"name\":\"file.csi.azure.com\",\"nodeID\":\"n1\"}]}}";

static void
parse_ok(void)
{
	json_object *o = json_tokener_parse(csinode_ok);
	struct nap_csinode n;
	struct nap_err err = {0};

	TAP_IS_INT(nap_csinode_from_json(&n, o, &err), 0, "a CSINode parses");
	TAP_IS_INT(n.ndrivers, 2, "two drivers");
	TAP_IS_INT(nap_csinode_limit(&n, "disk.csi.azure.com"), 4, "the disk driver's count");
	TAP_IS_INT(nap_csinode_limit(&n, "file.csi.azure.com"), -1, "no count: no limit");
	TAP_IS_INT(nap_csinode_limit(&n, "ebs.csi.aws.com"), -1, "a driver not there: no limit");
	TAP_IS_INT(nap_csinode_limit(NULL, "disk.csi.azure.com"), -1, "no CSINode: no limit");
	nap_csinode_free(&n);
	json_object_put(o);
	o = json_tokener_parse("{\"kind\":\"CSINode\",\"metadata\":{\"name\":\"n2\"},\"spec\":{}}");
	TAP_IS_INT(nap_csinode_from_json(&n, o, &err), 0, "a CSINode with no drivers parses");
	TAP_IS_INT(n.ndrivers, 0, "no drivers");
	nap_csinode_free(&n);
	json_object_put(o);
}

static void
bad(const char *json, const char *want)
{
	json_object *o = json_tokener_parse(json);
	struct nap_csinode n;
	struct nap_err err = {0};
	int rc = nap_csinode_from_json(&n, o, &err);

	TAP_IS_INT(rc, -1, "refused: %s", want);
	if (!TAP_OK(strstr(err.msg, want) != NULL, "message names it: %s", want))
		printf("#   got \"%s\"\n", err.msg);
	json_object_put(o);
}

static void
parse_bad(void)
{
	bad("{\"kind\":\"CSINode\",\"metadata\":{\"name\":\"n1\"},\"spec\":{\"drivers\":{}}}",
	    "csinode n1: spec.drivers is not a list");
	bad("{\"kind\":\"CSINode\",\"metadata\":{\"name\":\"n1\"},\"spec\":{\"drivers\":[{}]}}",
	    "csinode n1: spec.drivers[0] has no name");
	bad("{\"kind\":\"CSINode\",\"metadata\":{\"name\":\"n1\"},\"spec\":{\"drivers\":["
	    "{\"name\":\"d\",\"allocatable\":{\"count\":-1}}]}}",
	    "csinode n1: spec.drivers[0] (d)");
	bad("{\"kind\":\"CSINode\",\"metadata\":{\"name\":\"n1\"},\"spec\":{\"drivers\":["
	    "{\"name\":\"d\"},{\"name\":\"e\",\"allocatable\":{\"count\":\"many\"}}]}}",
	    "csinode n1: spec.drivers[1] (e)");
}

static int
apply(struct nap_cluster *c, const char *json)
{
	json_object *o = json_tokener_parse(json);
	struct nap_err err = {0};
	int rc = nap_cluster_apply(c, "ADDED", o, &err);

	if (rc != 0)
		printf("# apply: %s\n", err.msg);
	json_object_put(o);
	return rc;
}

static const char *
driver_of(struct nap_cluster *c, const char *claim)
{
	const struct nap_pvc *v = nap_cluster_get(c, NAP_KIND_PVC, "default", claim);

	return v ? nap_pvc_attach_driver(c, v) : "(no claim)";
}

static void
drivers(void)
{
	struct nap_cluster *c = nap_cluster_new();
	const struct nap_csinode *n;

	TAP_IS_STR(nap_csi_driver_name("kubernetes.io/azure-disk"), "disk.csi.azure.com",
	    "in-tree azure-disk is disk.csi.azure.com");
	TAP_IS_STR(nap_csi_driver_name("kubernetes.io/azure-file"), "file.csi.azure.com",
	    "in-tree azure-file is file.csi.azure.com");
	TAP_IS_STR(nap_csi_driver_name("example.com/nfs"), "example.com/nfs",
	    "any other provisioner is itself");
	TAP_IS_INT(apply(c, csinode_ok), 0, "the cluster takes a CSINode");
	n = nap_cluster_get(c, NAP_KIND_CSINODE, "", "n1");
	TAP_OK(n && nap_csinode_limit(n, "disk.csi.azure.com") == 4, "found by node name");
	TAP_IS_INT(nap_kind_lookup("CSINode"), NAP_KIND_CSINODE, "the kind's name");
	apply(c,
	    "{\"kind\":\"StorageClass\",\"metadata\":{\"name\":\"intree\"},"
	    "\"provisioner\":\"kubernetes.io/azure-disk\"}");
	apply(c,
	    "{\"kind\":\"StorageClass\",\"metadata\":{\"name\":\"files\"},"
	    "\"provisioner\":\"file.csi.azure.com\"}");
	apply(c,
	    "{\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pv-csi\"},"
	    "\"spec\":{\"csi\":{\"driver\":\"disk.csi.azure.com\",\"volumeHandle\":\"h\"}}}");
	apply(c,
	    "{\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pv-old\"},"
	    "\"spec\":{\"azureDisk\":{\"diskName\":\"d\",\"diskURI\":\"u\"}}}");
	apply(c,
	    "{\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pv-nfs\"},"
	    "\"spec\":{\"nfs\":{\"server\":\"s\",\"path\":\"/\"}}}");
	apply(c,
	    "{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"bound\","
	    "\"namespace\":\"default\"},\"spec\":{\"storageClassName\":\"files\","
	    "\"volumeName\":\"pv-csi\"}}");
	apply(c,
	    "{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"old\","
	    "\"namespace\":\"default\"},\"spec\":{\"volumeName\":\"pv-old\"}}");
	apply(c,
	    "{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"nfs\","
	    "\"namespace\":\"default\"},\"spec\":{\"volumeName\":\"pv-nfs\"}}");
	apply(c,
	    "{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"nfs-class\","
	    "\"namespace\":\"default\"},\"spec\":{\"storageClassName\":\"files\","
	    "\"volumeName\":\"pv-nfs\"}}");
	apply(c,
	    "{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"new\","
	    "\"namespace\":\"default\"},\"spec\":{\"storageClassName\":\"intree\"}}");
	apply(c,
	    "{\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"lost\","
	    "\"namespace\":\"default\"},\"spec\":{\"storageClassName\":\"gone\"}}");
	TAP_IS_STR(driver_of(c, "bound"), "disk.csi.azure.com", "a bound claim: its PV's driver");
	TAP_IS_STR(driver_of(c, "old"), "disk.csi.azure.com", "an in-tree azureDisk PV");
	TAP_IS_STR(driver_of(c, "nfs"), NULL, "an NFS PV with no class: no driver");
	TAP_IS_STR(driver_of(c, "nfs-class"), "file.csi.azure.com",
	    "a PV with no driver: the class's provisioner");
	TAP_IS_STR(driver_of(c, "new"), "disk.csi.azure.com",
	    "an unbound claim: its class's in-tree provisioner, translated");
	TAP_IS_STR(driver_of(c, "lost"), NULL, "a class not found: no driver");
	nap_cluster_free(c);
}

static void
disks(void)
{
	TAP_IS_INT(
	    nap_size_max_data_disks("Standard_D2s_v3", NULL, 0), 4, "Standard_D2s_v3 attaches 4");
	TAP_IS_INT(nap_size_max_data_disks("Standard_A0", NULL, 0), 1, "the first entry");
	TAP_IS_INT(
	    nap_size_max_data_disks("Standard_NV8ads_V710_v5", NULL, 0), 4, "the last entry");
	TAP_IS_INT(nap_size_max_data_disks("Standard_E96ias_v4", "Eias_v4", 96), 0, "unknown: 0");
	TAP_IS_INT(nap_itype_max_data_disks(NULL), 0, "no size: 0");
}

int
main(void)
{
	parse_ok();
	parse_bad();
	drivers();
	disks();
	return tap_done();
}
