/*
 * model-csinode.c - CSINode objects (storage.k8s.io/v1) and the CSI driver
 * a pod's volume attaches through (see model.h): what volume attach limits
 * are counted from.
 *
 * A CSINode is named after its node; each of spec.drivers[] may say how many
 * volumes of that driver the node can attach (allocatable.count).  A
 * PersistentVolumeClaim attaches through its bound PersistentVolume's CSI
 * driver (spec.csi.driver, or the CSI twin of an in-tree source), else
 * through its StorageClass's provisioner (in-tree names translated the same
 * way), as Karpenter resolves it; NFS, local, hostPath and other sources
 * without a CSI driver attach nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "model.h"
#include "model-int.h"

int
nap_csinode_from_json(struct nap_csinode *n, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];
	json_object *arr;
	size_t i, nd;

	memset(n, 0, sizeof(*n));
	if (model_meta(&n->meta, obj, 0, "csinode", who, sizeof(who), err) != 0)
		return -1;
	arr = nap_json_get(obj, "spec.drivers");
	if (arr && !json_object_is_type(arr, json_type_array)) {
		nap_err_set(err, NAP_EX_DATAERR, "%s: spec.drivers is not a list", who);
		nap_csinode_free(n);
		return -1;
	}
	nd = arr ? json_object_array_length(arr) : 0;
	n->drivers = nap_xcalloc(nd + 1, sizeof(*n->drivers));
	for (i = 0; i < nd; i++) {
		json_object *d = json_object_array_get_idx(arr, i);
		struct nap_csi_limit *l = &n->drivers[n->ndrivers];
		json_object *name = nap_json_key(d, "name");
		int rc;

		if (!json_object_is_type(d, json_type_object) || !name ||
		    !json_object_is_type(name, json_type_string) ||
		    json_object_get_string_len(name) == 0) {
			nap_err_set(
			    err, NAP_EX_DATAERR, "%s: spec.drivers[%zu] has no name", who, i);
			nap_csinode_free(n);
			return -1;
		}
		l->count = -1;
		rc = nap_json_int_in(d, "allocatable.count", 0, INT32_MAX, &l->count, err);
		if (rc < 0) {
			nap_err_prefix(err, "%s: spec.drivers[%zu] (%s)", who, i,
			    json_object_get_string(name));
			nap_csinode_free(n);
			return -1;
		}
		l->driver = nap_xstrdup(json_object_get_string(name));
		n->ndrivers++;
	}
	return 0;
}

void
nap_csinode_free(struct nap_csinode *n)
{
	size_t i;

	for (i = 0; i < n->ndrivers; i++)
		free(n->drivers[i].driver);
	free(n->drivers);
	model_meta_free(&n->meta);
	memset(n, 0, sizeof(*n));
}

int64_t
nap_csinode_limit(const struct nap_csinode *n, const char *driver)
{
	size_t i;

	for (i = 0; n && i < n->ndrivers; i++)
		if (strcmp(n->drivers[i].driver, driver) == 0)
			return n->drivers[i].count;
	return -1;
}

/* In-tree volume plugins and their CSI twins (Kubernetes' CSI migration). */
static const struct {
	const char *plugin; /* provisioner name */
	const char *source; /* PersistentVolume spec key */
	const char *csi;
} intree[] = {
    {"kubernetes.io/azure-disk", "azureDisk", "disk.csi.azure.com"},
    {"kubernetes.io/azure-file", "azureFile", "file.csi.azure.com"},
    {"kubernetes.io/aws-ebs", "awsElasticBlockStore", "ebs.csi.aws.com"},
    {"kubernetes.io/gce-pd", "gcePersistentDisk", "pd.csi.storage.gke.io"},
    {"kubernetes.io/cinder", "cinder", "cinder.csi.openstack.org"},
    {"kubernetes.io/vsphere-volume", "vsphereVolume", "csi.vsphere.vmware.com"},
    {"kubernetes.io/portworx-volume", "portworxVolume", "pxd.portworx.com"},
};

const char *
nap_csi_driver_name(const char *provisioner)
{
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(intree); i++)
		if (strcmp(provisioner, intree[i].plugin) == 0)
			return intree[i].csi;
	return provisioner;
}

const char *
nap_pv_csi_driver(const struct nap_pv *v)
{
	json_object *spec = nap_json_key(v->meta.raw, "spec");
	const char *d = nap_json_str(spec, "csi.driver", "");
	size_t i;

	if (d[0])
		return d;
	for (i = 0; i < NAP_ARRAY_LEN(intree); i++)
		if (nap_json_key(spec, intree[i].source))
			return intree[i].csi;
	return "";
}

const char *
nap_pvc_attach_driver(const struct nap_cluster *cl, const struct nap_pvc *c)
{
	const struct nap_pv *v;
	const struct nap_storageclass *sc;
	const char *d;

	if (c->volume_name[0] &&
	    (v = nap_cluster_get(cl, NAP_KIND_PV, "", c->volume_name)) != NULL &&
	    (d = nap_pv_csi_driver(v))[0])
		return d;
	if (c->storage_class[0] &&
	    (sc = nap_cluster_get(cl, NAP_KIND_STORAGECLASS, "", c->storage_class)) != NULL &&
	    sc->provisioner[0])
		return nap_csi_driver_name(sc->provisioner);
	return NULL;
}
