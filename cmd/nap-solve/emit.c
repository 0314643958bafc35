/*
 * emit.c - nap-solve's decisions as records (LaunchRequest, Nominated,
 * Unschedulable), the catalog, and the state kept between batches:
 * offerings Azure refused and claims planned but not yet seen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "json.h"
#include "log.h"
#include "prog.h"
#include "solve.h"

static json_object *
pod_key(const struct nap_sched_pod *p)
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
	const struct plan *pl;
	const int *len; /* per type: its name's length, -1 when it needs escapes */
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
		const char *name = tl->pl->types[tl->types[i]].name;

		if (i)
			printbuf_memappend(pb, ",", 1);
		printbuf_memappend(pb, "\"", 1);
		printbuf_memappend(pb, name, tl->len[tl->types[i]]);
		printbuf_memappend(pb, "\"", 1);
	}
	printbuf_memappend(pb, "]", 1);
	return 0;
}

/* Needs no JSON escaping: what Azure size names are made of. */
static int
plain_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			(*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

/*
 * Requirements keep values sorted; the launch list must be cheapest first.
 * Up to 600 names per claim and thousands of claims: the list is written
 * into the output directly instead of as one json-c string object per name
 * (same bytes; a name needing escapes takes the slow path).
 */
static void
ranked_types(
    const struct plan *pl, const int *len, const struct nap_sched_claim *c, json_object *reqs)
{
	size_t i, n = json_object_array_length(reqs);

	for (i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(reqs, i), *vals;
		size_t j;
		int plain = 1;

		if (strcmp(nap_json_str(r, "key", ""), "node.kubernetes.io/instance-type") != 0)
			continue;
		vals = json_object_new_array();
		for (j = 0; j < c->ntypes && plain; j++)
			plain = len[c->types[j]] >= 0;
		if (plain) {
			struct tlist *tl = nap_xmalloc(sizeof(*tl));

			tl->pl = pl;
			tl->len = len;
			tl->types = c->types;
			tl->n = c->ntypes;
			json_object_set_serializer(
			    vals, tlist_serialize, tl, json_object_free_userdata);
		} else {
			for (j = 0; j < c->ntypes; j++)
				json_object_array_add(
				    vals, json_object_new_string(pl->types[c->types[j]].name));
		}
		json_object_object_add(r, "values", vals);
		if (c->min_values > 0)
			json_object_object_add(r, "minValues", json_object_new_int(c->min_values));
		else
			json_object_object_del(r, "minValues");
	}
}

static json_object *
nodeclaim_json(const struct plan *pl, const int *len, const struct nap_sched_claim *c)
{
	json_object *reqs = nap_reqs_to_json(&c->reqs);

	ranked_types(pl, len, c, reqs);
	/* custom single-valued requirements are labels too */
	return nap_claim_json(
	    pl->pool_np[c->pool], c->name, nap_reqs_labels(&c->reqs), reqs, &c->requests);
}

void
solve_emit(struct solve *sv, const struct nap_cluster *cl, struct plan *pl,
    const struct nap_sched_result *res)
{
	size_t i, j;
	int *len = nap_xcalloc(pl->in.ntypes + 1, sizeof(*len));

	(void)cl;
	for (i = 0; i < pl->in.ntypes; i++)
		len[i] = plain_name(pl->types[i].name) ? (int)strlen(pl->types[i].name) : -1;
	for (i = 0; i < res->nclaims; i++) {
		const struct nap_sched_claim *c = &res->claims[i];
		json_object *rec = json_object_new_object(), *pods = json_object_new_array();
		struct planned *p;

		json_object_object_add(rec, "type", json_object_new_string("LaunchRequest"));
		json_object_object_add(rec, "nodeClaim", nodeclaim_json(pl, len, c));
		for (j = 0; j < c->npods; j++)
			json_object_array_add(pods, pod_key(&pl->pending[c->pods[j]]));
		json_object_object_add(rec, "pods", pods);
		json_object_object_add(rec, "price", price_json(c->price));
		nap_emit(rec);
		json_object_put(rec);

		nap_xgrow(&sv->pl, &sv->apl, sv->npl + 1, sizeof(*sv->pl));
		p = &sv->pl[sv->npl++];
		memset(p, 0, sizeof(*p));
		p->name = nap_xstrdup(c->name);
		p->pool = nap_xstrdup(pl->pools[c->pool].name);
		p->at_ms = sv->now_ms;
		p->pods = nap_xcalloc(c->npods + 1, sizeof(*p->pods));
		for (j = 0; j < c->npods; j++) {
			const struct nap_sched_pod *sp = &pl->pending[c->pods[j]];

			p->pods[j] = nap_xasprintf("%s/%s", sp->ns, sp->name);
			nap_hash_put(&sv->planned_pods, p->pods[j], (void *)1);
		}
		p->npods = c->npods;
		for (j = 0; j < c->ntypes; j++)
			nap_res_max(&p->capacity, &pl->pools[c->pool].capacity[c->types[j]]);
	}
	for (i = 0; i < pl->in.npending; i++) {
		const struct nap_sched_pod *p = &pl->pending[i];
		const struct nap_sched_place *pc = &res->place[i];
		json_object *rec;

		if (pc->where == NAP_SCHED_CLAIM)
			continue;
		rec = json_object_new_object();
		if (pc->where == NAP_SCHED_NODE) {
			json_object_object_add(rec, "type", json_object_new_string("Nominated"));
			json_object_object_add(rec, "pod", pod_key(p));
			json_object_object_add(rec, "uid", json_object_new_string(p->uid));
			json_object_object_add(
			    rec, "node", json_object_new_string(pl->nodes[pc->index].name));
			json_object_object_add(
			    rec, "kind", json_object_new_string(pl->node_kind[pc->index]));
			if (sv->now_ms) {
				struct nomination *nm = nap_xcalloc(1, sizeof(*nm)), *old;
				char key[512];

				snprintf(key, sizeof(key), "%s/%s", p->ns, p->name);
				nm->until_ms = sv->now_ms + sv->nominate_ttl_ms;
				nm->target = nap_xstrdup(pl->nodes[pc->index].name);
				nm->is_claim = strcmp(pl->node_kind[pc->index], "NodeClaim") == 0;
				if ((old = nap_hash_put(&sv->nominated, key, nm)) != NULL)
					nomination_free(old);
			}
		} else {
			json_object_object_add(
			    rec, "type", json_object_new_string("Unschedulable"));
			json_object_object_add(rec, "pod", pod_key(p));
			json_object_object_add(rec, "uid", json_object_new_string(p->uid));
			json_object_object_add(rec, "reason",
			    json_object_new_string(pc->why ? pc->why : "no progress"));
		}
		nap_emit(rec);
		json_object_put(rec);
	}
	free(len);
}

int
solve_catalog(struct solve *sv, const struct nap_cluster *cl, struct nap_err *err)
{
	const char *region = sv->region;

	if (sv->cat)
		return 0;
	if (!region || !region[0]) {
		struct nap_node *const *nodes;
		size_t n, i;

		nodes = nap_cluster_nodes(cl, &n);
		for (i = 0; i < n && (!region || !region[0]); i++)
			region = nap_meta_label(&nodes[i]->meta, "topology.kubernetes.io/region");
	}
	if (!region || !region[0])
		return nap_err_set(err, NAP_EX_CONFIG,
		    "no region: give --region, set cluster.region in the config file, "
		    "or label the nodes topology.kubernetes.io/region");
	return nap_catalog_load(&sv->cat, sv->catalog_path, region, sv->spot_prices, err) < 0 ? -1
											      : 0;
}

int
solve_unavailable(struct solve *sv, json_object *rec, struct nap_err *err)
{
	const char *it = nap_json_str(rec, "instanceType", NULL);
	const char *zone = nap_json_str(rec, "zone", NULL);
	const char *ct = nap_json_str(rec, "capacityType", NULL);
	const char *until = nap_json_str(rec, "until", NULL);
	struct unavail *u;
	int64_t t = 0;

	if (!it || !it[0])
		return nap_err_set(err, NAP_EX_DATAERR, "OfferingUnavailable without instanceType");
	if (until && nap_time_parse(until, &t) < 0)
		return nap_err_set(err, NAP_EX_DATAERR,
		    "OfferingUnavailable %s: until: bad time \"%s\"", it, until);
	nap_xgrow(&sv->un, &sv->aun, sv->nun + 1, sizeof(*sv->un));
	u = &sv->un[sv->nun++];
	u->itype = nap_xstrdup(it);
	u->zone = zone && zone[0] ? nap_xstrdup(zone) : NULL;
	u->ctype = ct && ct[0] ? nap_xstrdup(ct) : NULL;
	u->until_ms = t * 1000;
	return 0;
}

static void
planned_free(struct planned *p)
{
	size_t j;

	for (j = 0; j < p->npods; j++)
		free(p->pods[j]);
	free(p->pods);
	free(p->name);
	free(p->pool);
}

void
solve_expire(struct solve *sv, const struct nap_cluster *cl)
{
	size_t i, k = 0;

	for (i = 0; i < sv->npl; i++) {
		struct planned *p = &sv->pl[i];

		if (p->released || (sv->now_ms && p->at_ms + sv->plan_ttl_ms <= sv->now_ms) ||
		    (!sv->now_ms && nap_cluster_nodeclaim(cl, p->name))) {
			size_t j;

			for (j = 0; j < p->npods; j++)
				nap_hash_del(&sv->planned_pods, p->pods[j]);
			planned_free(p);
			continue;
		}
		sv->pl[k++] = *p;
	}
	sv->npl = k;
}

void
nomination_free(struct nomination *nm)
{
	if (nm == NULL)
		return;
	free(nm->target);
	free(nm);
}

void
turned_free(struct turned *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free(t->nodes[i]);
	free(t->nodes);
	free(t);
}

void
solve_free(struct solve *sv)
{
	size_t i, pos;
	const char *key;
	void *val;

	for (i = 0; i < sv->npl; i++)
		planned_free(&sv->pl[i]);
	free(sv->pl);
	for (i = 0; i < sv->nun; i++) {
		free(sv->un[i].itype);
		free(sv->un[i].zone);
		free(sv->un[i].ctype);
	}
	free(sv->un);
	pos = 0;
	while (nap_hash_next(&sv->nominated, &pos, &key, &val))
		nomination_free(val);
	nap_hash_free(&sv->nominated);
	pos = 0;
	while (nap_hash_next(&sv->turned, &pos, &key, &val))
		turned_free(val);
	nap_hash_free(&sv->turned);
	nap_hash_free(&sv->usable_rv);
	nap_hash_free(&sv->planned_pods);
	if (sv->cat)
		nap_catalog_free(sv->cat);
}
