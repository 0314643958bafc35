/*
 * claim.c - a NodeClaim from its NodePool's template (claim.h).
 */
#include "claim.h"
#include "json.h"

static json_object *
jcopy(json_object *o)
{
	json_object *c = NULL;

	if (!o)
		return NULL;
	if (json_object_deep_copy(o, &c, NULL) != 0)
		return NULL;
	return c;
}

json_object *
nap_claim_json(const struct nap_nodepool *np, const char *name, json_object *labels,
    json_object *reqs, const struct nap_res *requests)
{
	json_object *raw = np->meta.raw;
	json_object *nc = json_object_new_object();
	json_object *md = json_object_new_object();
	json_object *spec = json_object_new_object(), *o, *ref;
	json_object_iter it;

	json_object_object_add(nc, "apiVersion", json_object_new_string("karpenter.sh/v1"));
	json_object_object_add(nc, "kind", json_object_new_string("NodeClaim"));
	json_object_object_add(md, "name", json_object_new_string(name));
	/* the caller's labels first, then template labels and the pool's own */
	if (labels == NULL)
		labels = json_object_new_object();
	if (np->tmpl_labels)
		json_object_object_foreachC(np->tmpl_labels, it)
		    json_object_object_add(labels, it.key, json_object_get(it.val));
	json_object_object_add(
	    labels, "karpenter.sh/nodepool", json_object_new_string(np->meta.name));
	if (np->class_ref.name)
		json_object_object_add(labels, "karpenter.azure.com/aksnodeclass",
		    json_object_new_string(np->class_ref.name));
	json_object_object_add(md, "labels", labels);
	o = json_object_new_object();
	if (np->tmpl_annotations)
		json_object_object_foreachC(np->tmpl_annotations, it)
		    json_object_object_add(o, it.key, json_object_get(it.val));
	json_object_object_add(md, "annotations", o);
	ref = json_object_new_object();
	json_object_object_add(ref, "apiVersion", json_object_new_string("karpenter.sh/v1"));
	json_object_object_add(ref, "kind", json_object_new_string("NodePool"));
	json_object_object_add(ref, "name", json_object_new_string(np->meta.name));
	json_object_object_add(ref, "uid", json_object_new_string(np->meta.uid));
	json_object_object_add(ref, "blockOwnerDeletion", json_object_new_boolean(1));
	o = json_object_new_array();
	json_object_array_add(o, ref);
	json_object_object_add(md, "ownerReferences", o);
	json_object_object_add(nc, "metadata", md);

	json_object_object_add(spec, "requirements", reqs ? reqs : json_object_new_array());
	o = json_object_new_object();
	json_object_object_add(o, "requests", nap_res_to_json(requests));
	json_object_object_add(spec, "resources", o);
	if ((o = nap_json_get(raw, "spec.template.spec.taints")))
		json_object_object_add(spec, "taints", jcopy(o));
	if ((o = nap_json_get(raw, "spec.template.spec.startupTaints")))
		json_object_object_add(spec, "startupTaints", jcopy(o));
	json_object_object_add(spec, "expireAfter",
	    json_object_new_string(nap_json_str(raw, "spec.template.spec.expireAfter", "720h")));
	if ((o = nap_json_get(raw, "spec.template.spec.terminationGracePeriod")))
		json_object_object_add(spec, "terminationGracePeriod", jcopy(o));
	ref = json_object_new_object();
	json_object_object_add(ref, "group",
	    json_object_new_string(
		np->class_ref.group ? np->class_ref.group : "karpenter.azure.com"));
	json_object_object_add(ref, "kind",
	    json_object_new_string(np->class_ref.kind ? np->class_ref.kind : "AKSNodeClass"));
	json_object_object_add(
	    ref, "name", json_object_new_string(np->class_ref.name ? np->class_ref.name : ""));
	json_object_object_add(spec, "nodeClassRef", ref);
	json_object_object_add(nc, "spec", spec);
	return nc;
}
