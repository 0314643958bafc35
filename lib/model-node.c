/*
 * model-node.c - Node and NodeClaim objects to structs (see model.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "model.h"
#include "model-int.h"
#include "quantity.h"
#include "wellknown.h"

/* A ResourceList field, with the untracked resources ignored (nodes advertise hugepages etc.). */
static int
res_field(json_object *obj, const char *path, struct nap_res *r, struct nap_err *err)
{
	nap_res_zero(r);
	if (nap_res_parse(r, nap_json_get(obj, path), NULL, 0, err) != 0)
		return nap_err_prefix(err, "%s", path);
	return 0;
}

static char *
owner_of_kind(json_object *md, const char *kind)
{
	json_object *arr;
	size_t i, n;

	arr = nap_json_array(md, "ownerReferences", &n);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		if (strcmp(nap_json_str(o, "kind", ""), kind) == 0)
			return model_str(o, "name");
	}
	return nap_xstrdup("");
}

static int
label_true(const struct nap_meta *m, const char *key)
{
	const char *v = nap_meta_label(m, key);

	return v && strcmp(v, "true") == 0;
}

int
nap_node_from_json(struct nap_node *n, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];
	json_object *st;

	memset(n, 0, sizeof(*n));
	if (model_meta(&n->meta, obj, 0, "node", who, sizeof(who), err) != 0)
		return -1;
	n->provider_id = model_str(obj, "spec.providerID");
	n->unschedulable = nap_json_bool(obj, "spec.unschedulable", 0);
	n->nodeclaim = owner_of_kind(nap_json_key(obj, "metadata"), "NodeClaim");
	n->nodepool = nap_meta_label(&n->meta, NAP_LABEL_NODEPOOL);
	n->instance_type = nap_meta_label(&n->meta, NAP_LABEL_INSTANCE_TYPE);
	n->zone = nap_meta_label(&n->meta, NAP_LABEL_ZONE);
	n->capacity_type = nap_meta_label(&n->meta, NAP_LABEL_CAPACITY_TYPE);
	n->hostname = nap_meta_label(&n->meta, NAP_LABEL_HOSTNAME);
	n->registered = label_true(&n->meta, NAP_LABEL_REGISTERED);
	n->initialized = label_true(&n->meta, NAP_LABEL_INITIALIZED);
	n->do_not_disrupt = nap_meta_annotation(&n->meta, NAP_ANN_DO_NOT_DISRUPT);
	st = nap_json_key(obj, "status");
	n->kubelet_version = model_str(st, "nodeInfo.kubeletVersion");
	{
		struct nap_cond *c;
		size_t nc;

		model_conds(nap_json_key(st, "conditions"), &c, &nc);
		n->ready = nap_cond_status(c, nc, "Ready");
		model_conds_free(c, nc);
	}
	if (model_taints(
		nap_json_get(obj, "spec.taints"), &n->taints, &n->ntaints, "taints", err) != 0 ||
	    res_field(st, "capacity", &n->capacity, err) != 0 ||
	    res_field(st, "allocatable", &n->allocatable, err) != 0) {
		nap_err_prefix(err, "%s", who);
		nap_node_free(n);
		return -1;
	}
	return 0;
}

void
nap_node_free(struct nap_node *n)
{
	free(n->provider_id);
	free(n->nodeclaim);
	free(n->kubelet_version);
	model_taints_free(n->taints, n->ntaints);
	model_meta_free(&n->meta);
	memset(n, 0, sizeof(*n));
}

/* nodeClassRef; group, kind and name default to the one class AKS NAP installs. */
static int
class_ref(struct nap_class_ref *r, json_object *ref, struct nap_err *err)
{
	r->group = nap_xstrdup(nap_json_str(ref, "group", "karpenter.azure.com"));
	r->kind = nap_xstrdup(nap_json_str(ref, "kind", "AKSNodeClass"));
	/* The AKS docs often leave the reference out: AKS NAP's own class is "default". */
	r->name = nap_xstrdup(nap_json_str(ref, "name", "default"));
	if (*r->name == '\0')
		return nap_err_set(err, NAP_EX_DATAERR, "nodeClassRef.name is empty");
	return 0;
}

static void
class_ref_free(struct nap_class_ref *r)
{
	free(r->group);
	free(r->kind);
	free(r->name);
}

int
nap_nodeclaim_from_json(struct nap_nodeclaim *c, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];
	json_object *spec, *st;
	const char *ts;

	memset(c, 0, sizeof(*c));
	nap_reqs_init(&c->reqs);
	if (model_meta(&c->meta, obj, 0, "nodeclaim", who, sizeof(who), err) != 0)
		return -1;
	spec = nap_json_key(obj, "spec");
	st = nap_json_key(obj, "status");
	c->nodepool = nap_meta_label(&c->meta, NAP_LABEL_NODEPOOL);
	c->do_not_disrupt = nap_meta_annotation(&c->meta, NAP_ANN_DO_NOT_DISRUPT);
	c->node_name = model_str(st, "nodeName");
	c->provider_id = model_str(st, "providerID");
	c->image_id = model_str(st, "imageID");
	ts = nap_json_str(st, "lastPodEventTime", NULL);
	if (ts == NULL || nap_time_parse(ts, &c->last_pod_event) != 0)
		c->last_pod_event = 0;
	model_conds(nap_json_key(st, "conditions"), &c->conds, &c->nconds);
	c->launched = nap_cond_status(c->conds, c->nconds, "Launched") == 1;
	c->registered = nap_cond_status(c->conds, c->nconds, "Registered") == 1;
	c->initialized = nap_cond_status(c->conds, c->nconds, "Initialized") == 1;
	c->ready = nap_cond_status(c->conds, c->nconds, "Ready") == 1;
	c->drifted = nap_cond_status(c->conds, c->nconds, "Drifted") == 1;
	c->consolidatable = nap_cond_status(c->conds, c->nconds, "Consolidatable") == 1;
	if (nap_reqs_add_json(&c->reqs, nap_json_key(spec, "requirements"), err) != 0 ||
	    model_taints(nap_json_key(spec, "taints"), &c->taints, &c->ntaints, "taints", err) !=
		0 ||
	    model_taints(nap_json_key(spec, "startupTaints"), &c->startup_taints,
		&c->nstartup_taints, "startupTaints", err) != 0 ||
	    res_field(spec, "resources.requests", &c->requests, err) != 0 ||
	    class_ref(&c->class_ref, nap_json_key(spec, "nodeClassRef"), err) != 0 ||
	    model_duration_field(
		spec, "expireAfter", INT64_C(720) * 3600 * 1000, &c->expire_after, err) != 0 ||
	    model_duration_field(
		spec, "terminationGracePeriod", NAP_NEVER, &c->termination_grace, err) != 0 ||
	    res_field(st, "capacity", &c->capacity, err) != 0 ||
	    res_field(st, "allocatable", &c->allocatable, err) != 0) {
		nap_err_prefix(err, "%s", who);
		nap_nodeclaim_free(c);
		return -1;
	}
	return 0;
}

void
nap_nodeclaim_free(struct nap_nodeclaim *c)
{
	nap_reqs_free(&c->reqs);
	model_taints_free(c->taints, c->ntaints);
	model_taints_free(c->startup_taints, c->nstartup_taints);
	class_ref_free(&c->class_ref);
	free(c->node_name);
	free(c->provider_id);
	free(c->image_id);
	model_conds_free(c->conds, c->nconds);
	model_meta_free(&c->meta);
	memset(c, 0, sizeof(*c));
}

/* ---- NodePool ---- */

static int
budgets(struct nap_nodepool *p, json_object *arr, struct nap_err *err)
{
	size_t i, n;

	if (arr == NULL) {
		p->budgets = nap_xcalloc(1, sizeof(*p->budgets));
		p->budgets[0].nodes = 10;
		p->budgets[0].percent = 1;
		p->nbudgets = 1;
		return 0;
	}
	if (!json_object_is_type(arr, json_type_array))
		return nap_err_set(err, NAP_EX_DATAERR, "disruption.budgets: not a list");
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	p->budgets = nap_xcalloc(n, sizeof(*p->budgets));
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *reasons;
		struct nap_budget *b = &p->budgets[i];
		json_object *jn = nap_json_key(o, "nodes");
		/* The CRD types nodes as a string; YAML writers often give a number. */
		const char *nodes = "10%", *sched;
		char *end;
		size_t j, nr;

		if (jn &&
		    (json_object_is_type(jn, json_type_string) ||
			json_object_is_type(jn, json_type_int)))
			nodes = json_object_get_string(jn);
		p->nbudgets = i + 1;
		b->nodes = strtoll(nodes, &end, 10);
		b->percent = *end == '%';
		if (end == nodes || (*end != '\0' && strcmp(end, "%") != 0) || b->nodes < 0 ||
		    (b->percent && b->nodes > 100))
			return nap_err_set(err, NAP_EX_DATAERR,
			    "disruption.budgets[%zu]: invalid nodes \"%s\"", i, nodes);
		sched = nap_json_str(o, "schedule", NULL);
		b->schedule = sched ? nap_xstrdup(sched) : NULL;
		if (model_duration_field(o, "duration", 0, &b->duration, err) != 0)
			return nap_err_prefix(err, "disruption.budgets[%zu]", i);
		if ((b->schedule == NULL) != (nap_json_key(o, "duration") == NULL))
			return nap_err_set(err, NAP_EX_DATAERR,
			    "disruption.budgets[%zu]: schedule and duration must be set together",
			    i);
		reasons = nap_json_array(o, "reasons", &nr);
		for (j = 0; j < nr; j++) {
			const char *r =
			    json_object_get_string(json_object_array_get_idx(reasons, j));

			if (r && strcmp(r, "Underutilized") == 0)
				b->reasons |= NAP_REASON_UNDERUTILIZED;
			else if (r && strcmp(r, "Empty") == 0)
				b->reasons |= NAP_REASON_EMPTY;
			else if (r && strcmp(r, "Drifted") == 0)
				b->reasons |= NAP_REASON_DRIFTED;
			else
				return nap_err_set(err, NAP_EX_DATAERR,
				    "disruption.budgets[%zu]: unknown reason \"%s\"", i,
				    r ? r : "");
		}
	}
	return 0;
}

static int
limits(struct nap_nodepool *p, json_object *lim, struct nap_err *err)
{
	int k;

	p->limit_nodes = -1;
	if (lim == NULL)
		return 0;
	if (!json_object_is_type(lim, json_type_object))
		return nap_err_set(err, NAP_EX_DATAERR, "limits: not a map");
	if (nap_res_parse(&p->limits, lim, NULL, 0, err) != 0)
		return nap_err_prefix(err, "limits");
	for (k = 0; k < NAP_RES_N; k++)
		if (nap_json_key(lim, nap_res_name(k)) != NULL)
			p->limits_set |= 1u << k;
	json_object_object_foreach(lim, name, val)
	{
		if (strcmp(name, "nodes") == 0) {
			if (nap_qty_parse(json_object_get_string(val), &p->limit_nodes, err) != 0)
				return nap_err_prefix(err, "limits: nodes");
		} else if (nap_res_lookup(name) < 0 && p->limit_unknown[0] == '\0') {
			snprintf(p->limit_unknown, sizeof(p->limit_unknown), "%s", name);
		}
	}
	return 0;
}

int
nap_nodepool_from_json(struct nap_nodepool *p, json_object *obj, struct nap_err *err)
{
	char who[MODEL_WHO];
	json_object *spec, *tspec, *dis, *st;
	const char *pol;
	int64_t weight = 0;

	memset(p, 0, sizeof(*p));
	nap_reqs_init(&p->reqs);
	nap_reqs_init(&p->node_reqs);
	if (model_meta(&p->meta, obj, 0, "nodepool", who, sizeof(who), err) != 0)
		return -1;
	spec = nap_json_key(obj, "spec");
	tspec = nap_json_get(spec, "template.spec");
	dis = nap_json_key(spec, "disruption");
	st = nap_json_key(obj, "status");
	/* As the CRD checks them: weight 1..100 (absent: 0), replicas >= 0 (absent: dynamic). */
	p->replicas = -1;
	if (nap_json_int_in(spec, "weight", 1, 100, &weight, err) < 0 ||
	    nap_json_int_in(spec, "replicas", 0, INT64_MAX, &p->replicas, err) < 0)
		goto fail;
	p->weight = (int)weight;
	p->tmpl_labels = nap_json_get(spec, "template.metadata.labels");
	if (p->tmpl_labels && !json_object_is_type(p->tmpl_labels, json_type_object))
		p->tmpl_labels = NULL;
	p->tmpl_annotations = nap_json_get(spec, "template.metadata.annotations");
	if (p->tmpl_annotations && !json_object_is_type(p->tmpl_annotations, json_type_object))
		p->tmpl_annotations = NULL;
	pol = nap_json_str(dis, "consolidationPolicy", "WhenEmptyOrUnderutilized");
	p->nodes = nap_json_int(st, "nodes", 0);
	model_conds(nap_json_key(st, "conditions"), &p->conds, &p->nconds);
	if (strcmp(pol, "WhenEmptyOrUnderutilized") == 0)
		p->policy = NAP_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED;
	/* v1beta1's name for it, still in circulation in manifests. */
	else if (strcmp(pol, "WhenUnderutilized") == 0)
		p->policy = NAP_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED;
	else if (strcmp(pol, "WhenEmpty") == 0)
		p->policy = NAP_CONSOLIDATE_WHEN_EMPTY;
	else if (strcmp(pol, "Balanced") == 0)
		p->policy = NAP_CONSOLIDATE_BALANCED;
	else {
		nap_err_set(err, NAP_EX_DATAERR, "unknown consolidationPolicy \"%s\"", pol);
		goto fail;
	}
	if (nap_reqs_add_json(&p->reqs, nap_json_key(tspec, "requirements"), err) != 0 ||
	    model_taints(nap_json_key(tspec, "taints"), &p->taints, &p->ntaints, "taints", err) !=
		0 ||
	    model_taints(nap_json_key(tspec, "startupTaints"), &p->startup_taints,
		&p->nstartup_taints, "startupTaints", err) != 0 ||
	    class_ref(&p->class_ref, nap_json_key(tspec, "nodeClassRef"), err) != 0 ||
	    model_duration_field(
		tspec, "expireAfter", INT64_C(720) * 3600 * 1000, &p->expire_after, err) != 0 ||
	    (nap_json_key(tspec, "expireAfter") == NULL &&
		model_duration_field(dis, "expireAfter", p->expire_after, &p->expire_after, err) !=
		    0) ||
	    model_duration_field(
		tspec, "terminationGracePeriod", NAP_NEVER, &p->termination_grace, err) != 0 ||
	    model_duration_field(dis, "consolidateAfter", 0, &p->consolidate_after, err) != 0 ||
	    budgets(p, nap_json_key(dis, "budgets"), err) != 0 ||
	    limits(p, nap_json_key(spec, "limits"), err) != 0)
		goto fail;
	if (nap_res_parse(&p->used, nap_json_key(st, "resources"), NULL, 0, err) != 0) {
		nap_err_prefix(err, "status.resources");
		goto fail;
	}
	nap_reqs_copy(&p->node_reqs, &p->reqs);
	if (p->tmpl_labels)
		nap_reqs_add_labels(&p->node_reqs, p->tmpl_labels);
	{
		const char *name = p->meta.name;

		if (nap_reqs_add(&p->node_reqs, NAP_LABEL_NODEPOOL, NAP_OP_IN, &name, 1, 0, err) !=
		    0)
			goto fail;
	}
	return 0;
fail:
	nap_err_prefix(err, "%s", who);
	nap_nodepool_free(p);
	return -1;
}

void
nap_nodepool_free(struct nap_nodepool *p)
{
	size_t i;

	nap_reqs_free(&p->reqs);
	nap_reqs_free(&p->node_reqs);
	model_taints_free(p->taints, p->ntaints);
	model_taints_free(p->startup_taints, p->nstartup_taints);
	class_ref_free(&p->class_ref);
	for (i = 0; i < p->nbudgets; i++)
		free(p->budgets[i].schedule);
	free(p->budgets);
	model_conds_free(p->conds, p->nconds);
	model_meta_free(&p->meta);
	memset(p, 0, sizeof(*p));
}
