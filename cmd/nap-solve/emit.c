/*
 * emit.c - nap-solve's decisions as records (LaunchRequest by lib/claim,
 * Nominated, Unschedulable), the catalog, and the state kept between batches:
 * offerings Azure refused and claims planned but not yet seen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "claim.h"
#include "prog.h"
#include "solve.h"
#include "wellknown.h"

static json_object *
pod_record(const char *type, const struct nap_sched_pod *p)
{
	json_object *rec = json_object_new_object();

	json_object_object_add(rec, "type", json_object_new_string(type));
	json_object_object_add(rec, "pod", nap_claim_pod_ref(p));
	json_object_object_add(rec, "uid", json_object_new_string(p->uid));
	return rec;
}

/* Remember a claim planned, so that its pods wait for it and it counts against limits. */
static void
plan_keep(struct solve *sv, const struct nap_sim *sim, const struct nap_sched_claim *c)
{
	struct planned *p;
	size_t j;

	nap_xgrow(&sv->pl, &sv->apl, sv->npl + 1, sizeof(*sv->pl));
	p = &sv->pl[sv->npl++];
	memset(p, 0, sizeof(*p));
	p->name = nap_xstrdup(c->name);
	p->pool = nap_xstrdup(sim->pools[c->pool].name);
	p->at_ms = sv->now_ms;
	p->pods = nap_xcalloc(c->npods + 1, sizeof(*p->pods));
	for (j = 0; j < c->npods; j++) {
		const struct nap_sched_pod *sp = &sim->pending[c->pods[j]];

		p->pods[j] = nap_xasprintf("%s/%s", sp->ns, sp->name);
		nap_hash_put(&sv->planned_pods, p->pods[j], (void *)1);
	}
	p->npods = c->npods;
	for (j = 0; j < c->ntypes; j++)
		nap_res_max(&p->capacity, &sim->pools[c->pool].capacity[c->types[j]]);
}

void
solve_emit(struct solve *sv, const struct nap_cluster *cl, struct nap_sim *sim,
    const struct nap_sched_result *res)
{
	size_t i;

	(void)cl;
	for (i = 0; i < res->nclaims; i++) {
		json_object *rec = nap_claim_launch_request(sim, &res->claims[i]);

		nap_emit(rec);
		json_object_put(rec);
		plan_keep(sv, sim, &res->claims[i]);
	}
	for (i = 0; i < sim->in.npending; i++) {
		const struct nap_sched_pod *p = &sim->pending[i];
		const struct nap_sched_place *pc = &res->place[i];
		json_object *rec;

		if (pc->where == NAP_SCHED_CLAIM)
			continue;
		if (pc->where == NAP_SCHED_NODE) {
			rec = pod_record("Nominated", p);
			json_object_object_add(
			    rec, "node", json_object_new_string(sim->nodes[pc->index].name));
			json_object_object_add(
			    rec, "kind", json_object_new_string(sim->node_kind[pc->index]));
			if (sv->now_ms) {
				struct nomination *nm = nap_xcalloc(1, sizeof(*nm)), *old;
				char key[512];

				snprintf(key, sizeof(key), "%s/%s", p->ns, p->name);
				nm->until_ms = sv->now_ms + sv->nominate_ttl_ms;
				nm->target = nap_xstrdup(sim->nodes[pc->index].name);
				nm->is_claim = strcmp(sim->node_kind[pc->index], "NodeClaim") == 0;
				if ((old = nap_hash_put(&sv->nominated, key, nm)) != NULL)
					nomination_free(old);
			}
		} else {
			rec = pod_record("Unschedulable", p);
			json_object_object_add(rec, "reason",
			    json_object_new_string(pc->why ? pc->why : "no progress"));
		}
		nap_emit(rec);
		json_object_put(rec);
	}
}

int
solve_catalog(struct solve *sv, const struct nap_cluster *cl, struct nap_err *err)
{
	const char *region = sv->region;

	if (sv->cat)
		return 0;
	if ((!region || !region[0]) && sv->cfg)
		region = sv->cfg->cluster.region;
	if (!region || !region[0]) {
		struct nap_node *const *nodes;
		size_t n, i;

		nodes = nap_cluster_nodes(cl, &n);
		for (i = 0; i < n && (!region || !region[0]); i++)
			region = nap_meta_label(&nodes[i]->meta, NAP_LABEL_REGION);
	}
	if (!region || !region[0])
		return nap_err_set(err, NAP_EX_CONFIG,
		    "no region: give --region, set cluster.region in the config file, "
		    "or label the nodes topology.kubernetes.io/region");
	return nap_catalog_load_config(
	    &sv->cat, sv->cfg, sv->catalog_path, region, sv->spot_prices, err);
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
	nap_unavail_free(&sv->unavail);
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
