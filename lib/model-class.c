/*
 * model-class.c - AKSNodeClass, PodDisruptionBudget, DaemonSet, volumes,
 * storage classes and namespaces to structs (see model.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "model.h"
#include "model-int.h"
#include "quantity.h"
#include "wellknown.h"

/* ---- AKSNodeClass ---- */

static const char *const family_names[] = {
    [NAP_IMAGE_UBUNTU] = "Ubuntu",
    [NAP_IMAGE_UBUNTU2204] = "Ubuntu2204",
    [NAP_IMAGE_UBUNTU2404] = "Ubuntu2404",
    [NAP_IMAGE_AZURELINUX] = "AzureLinux",
};

const char *
nap_image_family_name(enum nap_image_family f)
{
	return (unsigned)f < NAP_ARRAY_LEN(family_names) ? family_names[f] : "?";
}

static int
int_field(json_object *obj, const char *path, int64_t def, int64_t lo, int64_t hi, int64_t *out,
    struct nap_err *err)
{
	int rc = nap_json_int_in(obj, path, lo, hi, out, err);

	if (rc > 0)
		*out = def;
	return rc < 0 ? -1 : 0;
}

static int
nodeclass_spec(struct nap_nodeclass *c, json_object *spec, struct nap_err *err)
{
	const char *fam = nap_json_str(spec, "imageFamily", "Ubuntu");
	const char *gpu = nap_json_str(spec, "gpu.mode", "Driver");
	json_object *kl = nap_json_key(spec, "kubelet");
	int64_t v;
	size_t i;

	c->subnet_id = model_str_or_null(spec, "vnetSubnetID");
	c->fips = strcmp(nap_json_str(spec, "fipsMode", "Disabled"), "FIPS") == 0;
	c->tags = nap_json_key(spec, "tags");
	if (c->tags && !json_object_is_type(c->tags, json_type_object))
		c->tags = NULL;
	c->encryption_at_host = nap_json_bool(spec, "security.encryptionAtHost", 0);
	c->trusted_launch = nap_json_bool(spec, "security.trustedLaunch.vtpm", 0) ||
	    nap_json_bool(spec, "security.trustedLaunch.secureBoot", 0);
	c->artifact_streaming = nap_json_bool(spec, "artifactStreaming.enabled", 0);
	c->localdns_mode = model_str(spec, "localDNS.mode");
	c->kubelet.cpu_manager_policy = nap_xstrdup(nap_json_str(kl, "cpuManagerPolicy", "none"));
	c->kubelet.cpu_cfs_quota = nap_json_bool(kl, "cpuCFSQuota", 1);
	c->kubelet.cpu_cfs_quota_period =
	    nap_xstrdup(nap_json_str(kl, "cpuCFSQuotaPeriod", "100ms"));
	c->kubelet.topology_manager_policy =
	    nap_xstrdup(nap_json_str(kl, "topologyManagerPolicy", "none"));
	c->kubelet.container_log_max_size =
	    nap_xstrdup(nap_json_str(kl, "containerLogMaxSize", "50Mi"));
	if (model_strv(nap_json_key(kl, "allowedUnsafeSysctls"), &c->kubelet.allowed_unsafe_sysctls,
		&c->kubelet.nallowed_unsafe_sysctls, "kubelet.allowedUnsafeSysctls", err) != 0)
		return -1;
	for (i = 0; i < NAP_ARRAY_LEN(family_names); i++)
		if (strcmp(fam, family_names[i]) == 0)
			break;
	if (i == NAP_ARRAY_LEN(family_names))
		return nap_err_set(err, NAP_EX_DATAERR, "unknown imageFamily \"%s\"", fam);
	c->image_family = (enum nap_image_family)i;
	/* The AKS docs write "driver" and "none"; the CRD enum is capitalised. Take both. */
	if (strcasecmp(gpu, "Driver") == 0)
		c->gpu_driver = 1;
	else if (strcasecmp(gpu, "None") != 0)
		return nap_err_set(err, NAP_EX_DATAERR, "unknown gpu.mode \"%s\"", gpu);
	if (int_field(spec, "osDiskSizeGB", 128, 30, 2048, &v, err) != 0)
		return -1;
	c->os_disk_gb = (int)v;
	if (int_field(spec, "maxPods", 0, 10, 250, &v, err) != 0)
		return -1;
	c->max_pods = (int)v;
	if (int_field(kl, "imageGCHighThresholdPercent", -1, 0, 100, &v, err) != 0)
		return nap_err_prefix(err, "kubelet");
	c->kubelet.image_gc_high = (int)v;
	if (int_field(kl, "imageGCLowThresholdPercent", -1, 0, 100, &v, err) != 0)
		return nap_err_prefix(err, "kubelet");
	c->kubelet.image_gc_low = (int)v;
	if (c->kubelet.image_gc_high >= 0 && c->kubelet.image_gc_low >= 0 &&
	    c->kubelet.image_gc_high <= c->kubelet.image_gc_low)
		return nap_err_set(err, NAP_EX_DATAERR,
		    "kubelet: imageGCHighThresholdPercent must be above "
		    "imageGCLowThresholdPercent");
	if (int_field(kl, "containerLogMaxFiles", 5, 2, INT32_MAX, &v, err) != 0)
		return nap_err_prefix(err, "kubelet");
	c->kubelet.container_log_max_files = (int)v;
	if (int_field(kl, "podPidsLimit", -1, INT64_MIN, INT64_MAX, &v, err) != 0)
		return nap_err_prefix(err, "kubelet");
	c->kubelet.pod_pids_limit = v;
	return 0;
}

static int
nodeclass_status(struct nap_nodeclass *c, json_object *st, struct nap_err *err)
{
	json_object *arr;
	size_t i, n;

	c->kubernetes_version = model_str(st, "kubernetesVersion");
	model_conds(nap_json_key(st, "conditions"), &c->conds, &c->nconds);
	c->ready = nap_cond_status(c->conds, c->nconds, "Ready") == 1;
	arr = nap_json_array(st, "images", &n);
	if (n == 0)
		return 0;
	c->images = nap_xcalloc(n, sizeof(*c->images));
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		c->nimages = i + 1;
		nap_reqs_init(&c->images[i].reqs);
		c->images[i].id = model_str(o, "id");
		if (nap_reqs_add_json(&c->images[i].reqs, nap_json_key(o, "requirements"), err) !=
		    0)
			return nap_err_prefix(err, "status.images[%zu]", i);
	}
	return 0;
}

int
nap_nodeclass_from_json(struct nap_nodeclass *c, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];

	memset(c, 0, sizeof(*c));
	if (model_meta(&c->meta, obj, 0, "aksnodeclass", who, sizeof(who), err) != 0)
		return -1;
	if (nodeclass_spec(c, nap_json_key(obj, "spec"), err) != 0 ||
	    nodeclass_status(c, nap_json_key(obj, "status"), err) != 0) {
		nap_err_prefix(err, "%s", who);
		nap_nodeclass_free(c);
		return -1;
	}
	return 0;
}

void
nap_nodeclass_free(struct nap_nodeclass *c)
{
	size_t i;

	free(c->subnet_id);
	free(c->localdns_mode);
	free(c->kubelet.cpu_manager_policy);
	free(c->kubelet.cpu_cfs_quota_period);
	free(c->kubelet.topology_manager_policy);
	free(c->kubelet.container_log_max_size);
	model_strv_free(c->kubelet.allowed_unsafe_sysctls, c->kubelet.nallowed_unsafe_sysctls);
	for (i = 0; i < c->nimages; i++) {
		free(c->images[i].id);
		nap_reqs_free(&c->images[i].reqs);
	}
	free(c->images);
	free(c->kubernetes_version);
	model_conds_free(c->conds, c->nconds);
	model_meta_free(&c->meta);
	memset(c, 0, sizeof(*c));
}

/* The minor of "1.33.2" / "v1.33"; -1 when it does not parse. */
static int
k8s_minor(const char *v)
{
	long major, minor;
	char *end;

	if (v == NULL)
		return -1;
	if (*v == 'v')
		v++;
	major = strtol(v, &end, 10);
	if (end == v || *end != '.' || major != 1)
		return -1;
	v = end + 1;
	minor = strtol(v, &end, 10);
	if (end == v || minor < 0 || minor > 1000)
		return -1;
	return (int)minor;
}

const char *
nap_nodeclass_resolved_family(const struct nap_nodeclass *c, const char *k8s_version)
{
	int minor = k8s_minor(k8s_version);

	if (minor < 0)
		minor = k8s_minor(c->kubernetes_version);
	switch (c->image_family) {
	case NAP_IMAGE_UBUNTU2204:
		return "Ubuntu2204";
	case NAP_IMAGE_UBUNTU2404:
		return "Ubuntu2404";
	case NAP_IMAGE_AZURELINUX:
		return minor >= 32 ? "AzureLinux3" : "AzureLinux";
	case NAP_IMAGE_UBUNTU:
	default:
		if (c->trusted_launch)
			return "Ubuntu2204";
		if (c->fips)
			return "Ubuntu2004";
		return minor >= 34 ? "Ubuntu2404" : "Ubuntu2204";
	}
}

int
nap_max_pods_default(const char *plugin, const char *mode)
{
	if (plugin == NULL)
		return 250;
	if (strcmp(plugin, "azure") == 0)
		return mode && strcmp(mode, "overlay") == 0 ? 250 : 30;
	if (strcmp(plugin, "none") == 0)
		return 250;
	return 110;
}

int
nap_nodeclass_max_pods(const struct nap_nodeclass *c, const char *plugin, const char *mode)
{
	return c && c->max_pods > 0 ? c->max_pods : nap_max_pods_default(plugin, mode);
}

/* ---- PodDisruptionBudget ---- */

/* An IntOrString: 3 or "3" or "30%". */
static int
int_or_percent(json_object *v, int64_t *out, int *percent, const char *what, struct nap_err *err)
{
	const char *s;
	char *end;

	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		*percent = 0;
	} else if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		*out = strtoll(s, &end, 10);
		*percent = *end == '%';
		if (end == s || (*percent ? end[1] != '\0' : *end != '\0'))
			return nap_err_set(err, NAP_EX_DATAERR,
			    "%s: \"%s\" is neither an integer nor a percentage", what, s);
	} else
		return nap_err_set(err, NAP_EX_DATAERR, "%s: not an integer or a string", what);
	if (*out < 0 || (*percent && *out > 100))
		return nap_err_set(err, NAP_EX_DATAERR, "%s: %lld%s out of range", what,
		    (long long)*out, *percent ? "%" : "");
	return 0;
}

int
nap_pdb_from_json(struct nap_pdb *b, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];
	json_object *spec, *st, *minav, *maxun, *sel;

	memset(b, 0, sizeof(*b));
	if (model_meta(&b->meta, obj, 1, "pdb", who, sizeof(who), err) != 0)
		return -1;
	spec = nap_json_key(obj, "spec");
	st = nap_json_key(obj, "status");
	minav = nap_json_key(spec, "minAvailable");
	maxun = nap_json_key(spec, "maxUnavailable");
	sel = nap_json_key(spec, "selector");
	b->always_allow =
	    strcmp(nap_json_str(spec, "unhealthyPodEvictionPolicy", ""), "AlwaysAllow") == 0;
	b->disruptions_allowed = nap_json_int(st, "disruptionsAllowed", 0);
	b->current_healthy = nap_json_int(st, "currentHealthy", 0);
	b->desired_healthy = nap_json_int(st, "desiredHealthy", 0);
	b->expected_pods = nap_json_int(st, "expectedPods", 0);
	b->observed_generation = nap_json_int(st, "observedGeneration", 0);
	if (minav && maxun) {
		nap_err_set(err, NAP_EX_DATAERR, "minAvailable and maxUnavailable are both set");
		goto fail;
	}
	if (minav) {
		b->has_min_available = 1;
		if (int_or_percent(minav, &b->value, &b->percent, "minAvailable", err) != 0)
			goto fail;
	} else if (maxun) {
		b->has_max_unavailable = 1;
		if (int_or_percent(maxun, &b->value, &b->percent, "maxUnavailable", err) != 0)
			goto fail;
	}
	if (sel && nap_selector_parse(&b->selector, sel, err) != 0) {
		nap_err_prefix(err, "selector");
		goto fail;
	}
	return 0;
fail:
	nap_err_prefix(err, "%s", who);
	nap_pdb_free(b);
	return -1;
}

void
nap_pdb_free(struct nap_pdb *b)
{
	if (b->selector)
		nap_selector_free(b->selector);
	model_meta_free(&b->meta);
	memset(b, 0, sizeof(*b));
}

int
nap_pdb_selects(const struct nap_pdb *b, const struct nap_pod *p)
{
	return b->selector && strcmp(b->meta.ns, p->meta.ns) == 0 &&
	    nap_selector_matches(b->selector, p->meta.labels);
}

/* ---- DaemonSet ---- */

int
nap_daemonset_from_json(struct nap_daemonset *d, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];
	json_object *tmpl, *labels;
	struct nap_pod *p = &d->tmpl;

	memset(d, 0, sizeof(*d));
	if (model_meta(&d->meta, obj, 1, "daemonset", who, sizeof(who), err) != 0)
		return -1;
	tmpl = nap_json_get(obj, "spec.template");
	/* a pod's meta strings live in its pool (nap_pod_free) */
	p->meta.ns = model_pool_dup(&p->strings, d->meta.ns);
	p->meta.name = model_pool_dup(&p->strings, d->meta.name);
	p->meta.uid = model_pool_dup(&p->strings, "");
	p->meta.rv = model_pool_dup(&p->strings, "");
	labels = nap_json_get(tmpl, "metadata.labels");
	p->meta.labels = labels && json_object_is_type(labels, json_type_object)
	    ? json_object_get(labels)
	    : NULL;
	labels = nap_json_get(tmpl, "metadata.annotations");
	p->meta.annotations = labels && json_object_is_type(labels, json_type_object)
	    ? json_object_get(labels)
	    : NULL;
	p->nominated = model_pool_dup(&p->strings, "");
	p->scheduled_reason = model_pool_dup(&p->strings, "");
	p->owner = NAP_OWNER_DAEMONSET;
	p->owner_name = model_pool_dup(&p->strings, d->meta.name);
	p->owner_uid = model_pool_dup(&p->strings, d->meta.uid);
	if (model_pod_spec(p, nap_json_key(tmpl, "spec"), err) != 0) {
		nap_err_prefix(err, "%s: template", who);
		nap_daemonset_free(d);
		return -1;
	}
	return 0;
}

void
nap_daemonset_free(struct nap_daemonset *d)
{
	nap_pod_free(&d->tmpl);
	model_meta_free(&d->meta);
	memset(d, 0, sizeof(*d));
}

/* ---- volumes, storage classes, namespaces ---- */

int
nap_pvc_from_json(struct nap_pvc *v, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];
	const char *st;

	memset(v, 0, sizeof(*v));
	if (model_meta(&v->meta, obj, 1, "pvc", who, sizeof(who), err) != 0)
		return -1;
	v->volume_name = model_str(obj, "spec.volumeName");
	v->storage_class = model_str(obj, "spec.storageClassName");
	v->phase = model_str(obj, "status.phase");
	st = nap_json_str(obj, "spec.resources.requests.storage", NULL);
	if (st && nap_qty_parse(st, &v->storage, err) != 0) {
		nap_err_prefix(err, "%s: requests: storage", who);
		nap_pvc_free(v);
		return -1;
	}
	return 0;
}

void
nap_pvc_free(struct nap_pvc *v)
{
	free(v->volume_name);
	free(v->storage_class);
	free(v->phase);
	model_meta_free(&v->meta);
	memset(v, 0, sizeof(*v));
}

int
nap_pv_from_json(struct nap_pv *v, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];
	json_object *spec;

	memset(v, 0, sizeof(*v));
	if (model_meta(&v->meta, obj, 0, "pv", who, sizeof(who), err) != 0)
		return -1;
	spec = nap_json_key(obj, "spec");
	v->claim_ns = model_str(spec, "claimRef.namespace");
	v->claim_name = model_str(spec, "claimRef.name");
	v->storage_class = model_str(spec, "storageClassName");
	v->local = nap_json_key(spec, "local") != NULL || nap_json_key(spec, "hostPath") != NULL;
	if (model_node_terms(nap_json_get(spec, "nodeAffinity.required.nodeSelectorTerms"),
		&v->terms, &v->nterms, err) != 0) {
		nap_err_prefix(err, "%s: nodeAffinity", who);
		nap_pv_free(v);
		return -1;
	}
	return 0;
}

void
nap_pv_free(struct nap_pv *v)
{
	model_reqs_array_free(v->terms, v->nterms);
	free(v->claim_ns);
	free(v->claim_name);
	free(v->storage_class);
	model_meta_free(&v->meta);
	memset(v, 0, sizeof(*v));
}

int
nap_storageclass_from_json(struct nap_storageclass *s, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];
	json_object *arr;
	const char *def;
	size_t i, n;

	memset(s, 0, sizeof(*s));
	if (model_meta(&s->meta, obj, 0, "storageclass", who, sizeof(who), err) != 0)
		return -1;
	s->provisioner = model_str(obj, "provisioner");
	def = nap_meta_annotation(&s->meta, NAP_ANN_DEFAULT_STORAGECLASS);
	s->is_default = def && strcmp(def, "true") == 0;
	s->wait_for_consumer =
	    strcmp(nap_json_str(obj, "volumeBindingMode", ""), "WaitForFirstConsumer") == 0;
	arr = nap_json_array(obj, "allowedTopologies", &n);
	if (n == 0)
		return 0;
	s->terms = nap_xcalloc(n, sizeof(*s->terms));
	for (i = 0; i < n; i++) {
		json_object *exprs;
		size_t j, ne;

		s->nterms = i + 1;
		nap_reqs_init(&s->terms[i]);
		exprs =
		    nap_json_array(json_object_array_get_idx(arr, i), "matchLabelExpressions", &ne);
		for (j = 0; j < ne; j++) {
			json_object *e = json_object_array_get_idx(exprs, j);
			const char *key = nap_json_str(e, "key", "");
			char **vals = NULL;
			size_t nv = 0;
			int rc;

			if (model_strv(nap_json_key(e, "values"), &vals, &nv, "values", err) != 0)
				goto fail;
			rc = nap_reqs_add(
			    &s->terms[i], key, NAP_OP_IN, (const char *const *)vals, nv, 0, err);
			model_strv_free(vals, nv);
			if (rc != 0)
				goto fail;
		}
	}
	return 0;
fail:
	nap_err_prefix(err, "%s: allowedTopologies", who);
	nap_storageclass_free(s);
	return -1;
}

void
nap_storageclass_free(struct nap_storageclass *s)
{
	model_reqs_array_free(s->terms, s->nterms);
	free(s->provisioner);
	model_meta_free(&s->meta);
	memset(s, 0, sizeof(*s));
}

int
nap_namespace_from_json(struct nap_namespace *n, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];

	memset(n, 0, sizeof(*n));
	return model_meta(&n->meta, obj, 0, "namespace", who, sizeof(who), err);
}

void
nap_namespace_free(struct nap_namespace *n)
{
	model_meta_free(&n->meta);
	memset(n, 0, sizeof(*n));
}
