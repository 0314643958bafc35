/*
 * claim.c - a scheduler claim as a karpenter.sh/v1 NodeClaim and a
 * LaunchRequest record (see claim.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "drift.h"
#include "json.h"
#include "wellknown.h"

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
nap_claim_pod_ref(const struct nap_sched_pod *p)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", p->ns, p->name);
	return json_object_new_string(buf);
}

static json_object *
price_json(double price)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.6g", price);
	return json_object_new_double_s(price, buf);
}

/* A launch list, written straight into json-c's output buffer. */
struct tlist {
	const struct nap_sim *sim;
	const uint16_t *types;
	size_t n;
};

static int
tlist_serialize(json_object *jso, struct printbuf *pb, int level, int flags)
{
	const struct tlist *tl = json_object_get_userdata(jso);
	size_t i;

	(void)level;
	(void)flags;
	printbuf_memappend(pb, "[", 1);
	for (i = 0; i < tl->n; i++) {
		const char *name = tl->sim->types[tl->types[i]].name;

		if (i)
			printbuf_memappend(pb, ",", 1);
		printbuf_memappend(pb, "\"", 1);
		printbuf_memappend(pb, name, tl->sim->type_len[tl->types[i]]);
		printbuf_memappend(pb, "\"", 1);
	}
	printbuf_memappend(pb, "]", 1);
	return 0;
}

/*
 * Requirements keep values sorted; the launch list must be cheapest first.
 * Up to 600 names per claim and thousands of claims: the list is written
 * into the output directly instead of as one json-c string object per name
 * (same bytes; a name needing escapes takes the slow path).
 */
static void
ranked_types(const struct nap_sim *sim, const struct nap_sched_claim *c, json_object *reqs)
{
	size_t i, n = json_object_array_length(reqs);

	for (i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(reqs, i), *vals;
		size_t j;
		int plain = 1;

		if (strcmp(nap_json_str(r, "key", ""), NAP_LABEL_INSTANCE_TYPE) != 0)
			continue;
		vals = json_object_new_array();
		for (j = 0; j < c->ntypes && plain; j++)
			plain = sim->type_len[c->types[j]] >= 0;
		if (plain) {
			struct tlist *tl = nap_xmalloc(sizeof(*tl));

			tl->sim = sim;
			tl->types = c->types;
			tl->n = c->ntypes;
			json_object_set_serializer(
			    vals, tlist_serialize, tl, json_object_free_userdata);
		} else {
			for (j = 0; j < c->ntypes; j++)
				json_object_array_add(
				    vals, json_object_new_string(sim->types[c->types[j]].name));
		}
		json_object_object_add(r, "values", vals);
		if (c->min_values > 0)
			json_object_object_add(r, "minValues", json_object_new_int(c->min_values));
		else
			json_object_object_del(r, "minValues");
	}
}

json_object *
nap_claim_object(const struct nap_nodepool *np, const char *name, json_object *labels,
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
	json_object_object_add(labels, NAP_LABEL_NODEPOOL, json_object_new_string(np->meta.name));
	if (np->class_ref.name)
		json_object_object_add(
		    labels, NAP_LABEL_AKSNODECLASS, json_object_new_string(np->class_ref.name));
	json_object_object_add(md, "labels", labels);
	o = json_object_new_object();
	if (np->tmpl_annotations)
		json_object_object_foreachC(np->tmpl_annotations, it)
		    json_object_object_add(o, it.key, json_object_get(it.val));
	if (np->meta.raw) { /* the template it was made from, for NodePoolDrifted */
		char hash[NAP_DRIFT_HASH_LEN];

		nap_nodepool_hash(np, hash);
		json_object_object_add(o, NAP_ANN_NODEPOOL_HASH, json_object_new_string(hash));
		json_object_object_add(
		    o, NAP_ANN_NODEPOOL_HASH_VERSION, json_object_new_string(NAP_NODEPOOL_HASH_VERSION));
	}
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

json_object *
nap_claim_json(const struct nap_sim *sim, const struct nap_sched_claim *c)
{
	json_object *reqs = nap_reqs_to_json(&c->reqs), *nc, *ann;

	/* custom single-valued requirements become labels */
	ranked_types(sim, c, reqs);
	nc = nap_claim_object(
	    sim->pool_np[c->pool], c->name, nap_reqs_labels(&c->reqs), reqs, &c->requests);
	/* Karpenter's: whether BestEffort lowered a minValues (only where there is one) */
	if (c->min_values_relaxed && (ann = nap_json_get(nc, "metadata.annotations")))
		json_object_object_add(ann, NAP_ANN_MIN_VALUES_RELAXED,
		    json_object_new_string(c->min_values_relaxed > 0 ? "true" : "false"));
	return nc;
}

json_object *
nap_claim_launch_request(const struct nap_sim *sim, const struct nap_sched_claim *c)
{
	json_object *rec = json_object_new_object(), *pods = json_object_new_array();
	size_t j;

	json_object_object_add(rec, "type", json_object_new_string("LaunchRequest"));
	json_object_object_add(rec, "nodeClaim", nap_claim_json(sim, c));
	for (j = 0; j < c->npods; j++)
		json_object_array_add(pods, nap_claim_pod_ref(&sim->pending[c->pods[j]]));
	json_object_object_add(rec, "pods", pods);
	json_object_object_add(rec, "price", price_json(c->price));
	return rec;
}
