/*
 * body.c - what nap-launch sends to Azure: resource paths, the tags, the
 * NIC, and the VM with its image and the bootstrap data nap-sim's kubelets
 * (and nap's documented NodeBootstrap format) read (azure-provider.md 4.2-4.4).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "image.h"
#include "json.h"
#include "labels.h"
#include "text.h"
#include "nap-launch.h"


/* Request paths: every segment escaped (nap_url_path). */
char *
arm_path_vm(struct ctx *x, const char *name)
{
	return nap_url_path("/subscriptions", x->sub, "resourceGroups", x->rg, "providers",
	    "Microsoft.Compute", "virtualMachines", name, (char *)NULL);
}

char *
arm_path_nic(struct ctx *x, const char *name)
{
	return nap_url_path("/subscriptions", x->sub, "resourceGroups", x->rg, "providers",
	    "Microsoft.Network", "networkInterfaces", name, (char *)NULL);
}

/*
 * A resource ID as ARM writes it in bodies and records: not a URL, so not
 * escaped.  type is "Microsoft.Compute/virtualMachines" or the like.
 */
char *
arm_id(struct ctx *x, const char *type, const char *name)
{
	return nap_xasprintf(
	    "/subscriptions/%s/resourceGroups/%s/providers/%s/%s", x->sub, x->rg, type, name);
}

/* azure:// + the VM ID with only the resource group lower-cased (4.3). */
char *
provider_id(struct ctx *x, const char *vm)
{
	return nap_xasprintf("azure:///subscriptions/%s/resourceGroups/%s/providers/"
			     "Microsoft.Compute/virtualMachines/%s",
	    x->sub, x->rg_lower, vm);
}

/*
 * The Kubernetes version a node of class nc runs: the class's
 * status.kubernetesVersion (the version nap-upgrade rolls the class to,
 * azure-provider.md 1.3), else the API server's.  Without a leading v.
 */
static const char *
k8s_version(struct ctx *x, const struct nap_nodeclass *nc)
{
	const char *v = nc && nc->kubernetes_version ? nc->kubernetes_version : "";

	if (v[0] == 'v')
		v++;
	return v[0] ? v : x->k8s_version;
}

void
itype_opts(struct ctx *x, const struct nap_nodeclass *nc, struct nap_itype_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (nc)
		nap_itype_opts_from_nodeclass(o, nc, k8s_version(x, nc), NULL, NULL);
}

/* Tag keys cannot hold "/": the provider writes "_" (4.4). */
static void
tag_put(json_object *tags, const char *key, json_object *val)
{
	char *k = nap_xstrdup(key), *p;

	for (p = k; *p; p++)
		if (*p == '/')
			*p = '_';
	json_object_object_add(tags, k, val);
	free(k);
}

json_object *
body_tags(struct ctx *x, struct claim *c, const struct nap_nodeclass *nc)
{
	json_object *tags = json_object_new_object();

	if (nc && nc->tags && json_object_is_type(nc->tags, json_type_object)) {
		json_object_object_foreach(nc->tags, k, v) tag_put(tags, k, json_object_get(v));
	}
	tag_put(tags, "karpenter.azure.com/cluster", json_object_new_string(x->cluster));
	tag_put(tags, "compute.aks.billing", json_object_new_string("linux"));
	tag_put(tags, "karpenter.sh/nodepool", json_object_new_string(c->pool ? c->pool : ""));
	return tags;
}

static json_object *
id_ref(const char *id)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(id));
	return o;
}

json_object *
body_nic(struct ctx *x, struct claim *c, const struct nap_nodeclass *nc)
{
	json_object *b = json_object_new_object(), *p = json_object_new_object();
	json_object *ipc = json_object_new_object(), *ipp = json_object_new_object();
	json_object *arr = json_object_new_array();
	const char *subnet = nc && nc->subnet_id && nc->subnet_id[0] ? nc->subnet_id : x->subnet;

	json_object_object_add(b, "location", json_object_new_string(x->region));
	json_object_object_add(b, "tags", body_tags(x, c, nc));
	json_object_object_add(ipc, "name", json_object_new_string(c->vm));
	json_object_object_add(ipp, "primary", json_object_new_boolean(1));
	json_object_object_add(ipp, "privateIPAllocationMethod", json_object_new_string("Dynamic"));
	json_object_object_add(ipp, "subnet", id_ref(subnet));
	json_object_object_add(ipc, "properties", ipp);
	json_object_array_add(arr, ipc);
	json_object_object_add(p, "ipConfigurations", arr);
	json_object_object_add(p, "enableAcceleratedNetworking",
	    json_object_new_boolean(c->cur.it && c->cur.it->accel_net == 1));
	json_object_object_add(p, "enableIPForwarding", json_object_new_boolean(0));
	json_object_object_add(b, "properties", p);
	return b;
}

/* The image definition for a resolved family, architecture and generation (5.1). */
/*
 * The first status.images entry whose requirements the type meets, as the
 * provider picks; without status images (no nap-upgrade yet), the family's
 * Community Gallery definition at its latest version.
 */
static char *
image_for(struct ctx *x, const struct nap_itype *it, const struct nap_nodeclass *nc)
{
	const char *gen = (it->hyperv & NAP_HYPERV_V2) ? "2" : "1", *fam;
	const struct nap_image_def *defs;
	size_t i, n;

	for (i = 0; nc && i < nc->nimages; i++) {
		const struct nap_req *a = nap_reqs_get(&nc->images[i].reqs, NAP_LABEL_ARCH);
		const struct nap_req *g =
		    nap_reqs_get(&nc->images[i].reqs, NAP_LABEL_SKU_HYPERV_GENERATION);

		if ((!a || nap_req_allows(a, it->arch)) && (!g || nap_req_allows(g, gen)))
			return nap_xstrdup(nc->images[i].id);
	}
	/* The provider's definitions for the family (lib/image), first match at latest. */
	fam = nc ? nap_nodeclass_resolved_family(nc, k8s_version(x, nc)) : "Ubuntu2204";
	defs = nap_image_defs(fam, nc ? nc->fips : 0, nc ? nc->trusted_launch : 0, &n);
	if (n == 0) {
		fam = "Ubuntu2204";
		defs = nap_image_defs(fam, 0, 0, &n);
	}
	for (i = 0; i < n; i++)
		if (strcmp(defs[i].arch, it->arch) == 0 && defs[i].gen == gen[0] - '0')
			return nap_image_id(fam, defs[i].name, "latest");
	/* None fits the size (it will be refused): the family's first, named in the error. */
	return nap_image_id(fam, defs[0].name, "latest");
}

static json_object *
qty_mi(int64_t mib)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lldMi", (long long)mib);
	return json_object_new_string(buf);
}

/*
 * What the offering says about a node (Karpenter's instance-type labels):
 * every single-valued label of the type, and the offering's zone and
 * capacity type.
 */
json_object *
offering_labels(struct ctx *x, const struct cand *k)
{
	json_object *l = json_object_new_object();
	struct nap_reqs r;
	size_t i;

	nap_reqs_init(&r);
	nap_itype_reqs(k->it, x->cat, &r);
	for (i = 0; i < r.n; i++)
		if (!r.v[i].complement && r.v[i].nvalues == 1)
			json_object_object_add(
			    l, r.v[i].key, json_object_new_string(r.v[i].values[0]));
	nap_reqs_free(&r);
	json_object_object_add(
	    l, "topology.kubernetes.io/zone", json_object_new_string(k->off->zone_label));
	json_object_object_add(
	    l, "karpenter.sh/capacity-type", json_object_new_string(k->off->capacity_type));
	json_object_object_add(l, "kubernetes.azure.com/scalesetpriority",
	    json_object_new_string(k->off->spot ? "spot" : "regular"));
	json_object_object_add(l, "karpenter.azure.com/placement-scope",
	    json_object_new_string(k->off->zone > 0 ? "zonal" : "regional"));
	return l;
}

/* The NodeBootstrap document (nap-launch(1), BOOTSTRAP). */
static json_object *
bootstrap(struct ctx *x, struct claim *c, const struct nap_nodeclass *nc)
{
	const struct nap_itype *it = c->cur.it;
	const struct nap_offering *off = c->cur.off;
	json_object *b = json_object_new_object(), *labels, *taints, *st, *k, *kr, *eh;
	struct nap_itype_opts o;
	char buf[64];
	size_t i;

	itype_opts(x, nc, &o);
	json_object_object_add(b, "apiVersion", json_object_new_string("nap.azure.com/v1"));
	json_object_object_add(b, "kind", json_object_new_string("NodeBootstrap"));
	/* Single-valued requirements, then the claim's labels (they win), then the offering. */
	labels = offering_labels(x, &c->cur);
	{
		json_object *rl = nap_reqs_labels(&c->nc.reqs);

		json_object_object_foreach(rl, rk, rv)
		    json_object_object_add(labels, rk, json_object_get(rv));
		json_object_put(rl);
	}
	if (c->nc.meta.labels) {
		json_object_object_foreach(c->nc.meta.labels, lk, lv)
		    json_object_object_add(labels, lk, json_object_get(lv));
	}
	json_object_object_add(
	    labels, "node.kubernetes.io/instance-type", json_object_new_string(it->name));
	json_object_object_add(
	    labels, "topology.kubernetes.io/zone", json_object_new_string(off->zone_label));
	json_object_object_add(
	    labels, "karpenter.sh/capacity-type", json_object_new_string(off->capacity_type));
	json_object_object_add(labels, "kubernetes.azure.com/scalesetpriority",
	    json_object_new_string(off->spot ? "spot" : "regular"));
	json_object_object_add(
	    labels, "kubernetes.azure.com/role", json_object_new_string("agent"));
	json_object_object_add(
	    labels, "kubernetes.azure.com/cluster", json_object_new_string(x->rg));
	/* user is only the default: a NodePool that asks for mode=system (label or requirement) gets it. */
	if (!json_object_object_get_ex(labels, "kubernetes.azure.com/mode", NULL))
		json_object_object_add(
		    labels, "kubernetes.azure.com/mode", json_object_new_string("user"));
	if (nc) {
		const char *fam = nap_nodeclass_resolved_family(nc, k8s_version(x, nc));

		json_object_object_add(labels, "kubernetes.azure.com/os-sku-requested",
		    json_object_new_string(nap_image_family_name(nc->image_family)));
		json_object_object_add(
		    labels, "kubernetes.azure.com/os-sku-effective", json_object_new_string(fam));
	}
	json_object_object_add(b, "labels", labels);

	taints = json_object_new_array();
	for (i = 0; i < c->nc.ntaints; i++)
		json_object_array_add(taints, nap_taint_json(&c->nc.taints[i]));
	{
		struct nap_taint u = {(char *)(uintptr_t)NAP_TAINT_UNREGISTERED, (char *)(uintptr_t) "",
		    NAP_EFFECT_NOEXECUTE};

		json_object_array_add(taints, nap_taint_json(&u));
	}
	json_object_object_add(b, "taints", taints);
	st = json_object_new_array();
	for (i = 0; i < c->nc.nstartup_taints; i++)
		json_object_array_add(st, nap_taint_json(&c->nc.startup_taints[i]));
	json_object_object_add(b, "startupTaints", st);

	k = json_object_new_object();
	json_object_object_add(k, "maxPods", json_object_new_int(o.max_pods ? o.max_pods : 250));
	kr = json_object_new_object();
	snprintf(buf, sizeof(buf), "%lldm", (long long)nap_itype_kube_reserved_cpu(it->vcpus));
	json_object_object_add(kr, "cpu", json_object_new_string(buf));
	json_object_object_add(kr, "memory", qty_mi(nap_itype_kube_reserved_mib(it->memory_mib)));
	json_object_object_add(k, "kubeReserved", kr);
	json_object_object_add(k, "systemReserved", json_object_new_object());
	eh = json_object_new_object();
	json_object_object_add(eh, "memory.available", json_object_new_string("750Mi"));
	json_object_object_add(k, "evictionHard", eh);
	if (nc) {
		json_object_object_add(k, "cpuManagerPolicy",
		    json_object_new_string(
			nc->kubelet.cpu_manager_policy ? nc->kubelet.cpu_manager_policy : "none"));
		json_object_object_add(k, "containerLogMaxFiles",
		    json_object_new_int(nc->kubelet.container_log_max_files));
		if (nc->kubelet.container_log_max_size)
			json_object_object_add(k, "containerLogMaxSize",
			    json_object_new_string(nc->kubelet.container_log_max_size));
		if (nc->kubelet.pod_pids_limit >= 0)
			json_object_object_add(
			    k, "podPidsLimit", json_object_new_int64(nc->kubelet.pod_pids_limit));
	}
	json_object_object_add(b, "kubelet", k);
	json_object_object_add(
	    b, "osDiskSizeGB", json_object_new_int(o.os_disk_gb ? o.os_disk_gb : 128));
	json_object_object_add(
	    b, "kubernetesVersion", json_object_new_string(k8s_version(x, nc)));
	return b;
}

json_object *
body_vm(struct ctx *x, struct claim *c, const struct nap_nodeclass *nc, char **image_id)
{
	const struct nap_itype *it = c->cur.it;
	const struct nap_offering *off = c->cur.off;
	json_object *b = json_object_new_object(), *p = json_object_new_object();
	json_object *sp = json_object_new_object(), *img = json_object_new_object();
	json_object *od = json_object_new_object(), *os = json_object_new_object();
	json_object *lc = json_object_new_object(), *np = json_object_new_object();
	json_object *nics = json_object_new_array(), *nic, *nicp, *hw, *boot;
	struct nap_itype_opts o;
	const char *s;
	char *nicid, *sub, *b64, zone[8];
	size_t len;

	itype_opts(x, nc, &o);
	json_object_object_add(b, "location", json_object_new_string(x->region));
	if (off->zone > 0) {
		json_object *z = json_object_new_array();

		snprintf(zone, sizeof(zone), "%d", off->zone);
		json_object_array_add(z, json_object_new_string(zone));
		json_object_object_add(b, "zones", z);
	}
	json_object_object_add(b, "tags", body_tags(x, c, nc));
	hw = json_object_new_object();
	json_object_object_add(hw, "vmSize", json_object_new_string(it->name));
	json_object_object_add(p, "hardwareProfile", hw);

	*image_id = image_for(x, it, nc);
	json_object_object_add(img,
	    strncmp(*image_id, "/CommunityGalleries/", 20) == 0 ? "communityGalleryImageId" : "id",
	    json_object_new_string(*image_id));
	json_object_object_add(sp, "imageReference", img);
	json_object_object_add(od, "name", json_object_new_string(c->vm));
	json_object_object_add(od, "createOption", json_object_new_string("FromImage"));
	json_object_object_add(od, "deleteOption", json_object_new_string("Delete"));
	json_object_object_add(
	    od, "diskSizeGB", json_object_new_int(o.os_disk_gb ? o.os_disk_gb : 128));
	if (nap_itype_ephemeral_os(it, &o) && it->ephemeral_placement[0]) {
		json_object *dd = json_object_new_object();

		json_object_object_add(dd, "option", json_object_new_string("Local"));
		json_object_object_add(
		    dd, "placement", json_object_new_string(it->ephemeral_placement));
		json_object_object_add(od, "diffDiskSettings", dd);
		json_object_object_add(od, "caching", json_object_new_string("ReadOnly"));
	} else {
		json_object *md = json_object_new_object();

		json_object_object_add(md, "storageAccountType",
		    json_object_new_string(it->premium_io == 1 ? "Premium_LRS" : "Standard_LRS"));
		json_object_object_add(od, "managedDisk", md);
	}
	json_object_object_add(sp, "osDisk", od);
	json_object_object_add(p, "storageProfile", sp);

	json_object_object_add(os, "computerName", json_object_new_string(c->vm));
	json_object_object_add(os, "adminUsername", json_object_new_string("azureuser"));
	boot = bootstrap(x, c, nc);
	s = json_object_to_json_string_length(
	    boot, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	b64 = nap_base64_encode(s, len);
	json_object_object_add(os, "customData", json_object_new_string(b64));
	free(b64);
	json_object_put(boot);
	json_object_object_add(lc, "disablePasswordAuthentication", json_object_new_boolean(1));
	json_object_object_add(os, "linuxConfiguration", lc);
	json_object_object_add(p, "osProfile", os);

	nic = json_object_new_object();
	sub = arm_id(x, "Microsoft.Network/networkInterfaces", c->vm);
	nicid = sub;
	json_object_object_add(nic, "id", json_object_new_string(nicid));
	free(sub);
	nicp = json_object_new_object();
	json_object_object_add(nicp, "primary", json_object_new_boolean(1));
	json_object_object_add(nicp, "deleteOption", json_object_new_string("Delete"));
	json_object_object_add(nic, "properties", nicp);
	json_object_array_add(nics, nic);
	json_object_object_add(np, "networkInterfaces", nics);
	json_object_object_add(p, "networkProfile", np);

	if (off->spot) {
		json_object *bp = json_object_new_object();

		json_object_object_add(p, "priority", json_object_new_string("Spot"));
		json_object_object_add(p, "evictionPolicy", json_object_new_string("Delete"));
		json_object_object_add(bp, "maxPrice", json_object_new_int(-1));
		json_object_object_add(p, "billingProfile", bp);
	} else {
		json_object_object_add(p, "priority", json_object_new_string("Regular"));
	}
	if (nc && (nc->encryption_at_host || nc->trusted_launch)) {
		json_object *sec = json_object_new_object();

		if (nc->encryption_at_host)
			json_object_object_add(sec, "encryptionAtHost", json_object_new_boolean(1));
		if (nc->trusted_launch)
			json_object_object_add(
			    sec, "securityType", json_object_new_string("TrustedLaunch"));
		json_object_object_add(p, "securityProfile", sec);
	}
	json_object_object_add(b, "properties", p);
	return b;
}
