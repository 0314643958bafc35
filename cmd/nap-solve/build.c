/*
 * build.c - nap-solve's question for lib/simulate: its own state (offerings
 * nap-launch reported unavailable, claims planned and not yet seen, pods
 * nominated, nodes the scheduler turned a pod away from) as the
 * simulation's filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "solve.h"

/*
 * Pods of claims planned and not yet seen are left out; a pod nominated
 * lately holds its place; nodes the scheduler turned it away from lately
 * (main.c) are not tried for it.
 */
static void
pod_view(void *ctx, const struct nap_pod *p, struct nap_sim_pod_view *v)
{
	const struct solve *sv = ctx;
	const struct nomination *nm;
	const struct turned *t;
	char key[512];

	snprintf(key, sizeof(key), "%s/%s", p->meta.ns, p->meta.name);
	if (nap_hash_get(&sv->planned_pods, key) != NULL) {
		v->role = NAP_SIM_SKIP;
		return;
	}
	nm = nap_hash_get(&sv->nominated, key);
	if (nm && sv->now_ms && nm->until_ms > sv->now_ms) {
		v->role = NAP_SIM_HOLD;
		v->held_at = nm->target;
		v->held_is_claim = nm->is_claim;
		return;
	}
	t = nap_hash_get(&sv->turned, key);
	if (t == NULL || t->n == 0 || !sv->now_ms || t->until_ms <= sv->now_ms)
		return;
	v->avoid = (const char *const *)t->nodes;
	v->navoid = t->n;
}

int
solve_build(
    struct solve *sv, const struct nap_cluster *cl, struct nap_sim *sim, struct nap_err *err)
{
	struct nap_sim_opts o;
	struct nap_sim_usage *extra;
	size_t i;
	int r;

	memset(sim, 0, sizeof(*sim));
	if (solve_catalog(sv, cl, err) < 0)
		return -1;
	memset(&o, 0, sizeof(o));
	o.max_types = sv->max_types;
	o.packing = sv->packing;
	o.min_values_relax = sv->min_values_relax;
	o.ctx = sv;
	o.unavail = &sv->unavail;
	o.now_ms = sv->now_ms;
	o.pod_view = pod_view;
	/* claims planned count against their NodePool's limits until their NodeClaim shows */
	extra = nap_xcalloc(sv->npl + 1, sizeof(*extra));
	for (i = 0; i < sv->npl; i++) {
		extra[i].pool = sv->pl[i].pool;
		extra[i].claim = sv->pl[i].name;
		extra[i].capacity = sv->pl[i].capacity;
	}
	o.extra = extra;
	o.nextra = sv->npl;
	r = nap_sim_build(sim, cl, sv->cat, &o, err);
	free(extra);
	for (i = 0; r == 0 && i < sim->nwarnings; i++)
		nap_warn("%s", sim->warnings[i]);
	return r;
}
