/*
 * disrupt-consol.c - consolidation (karpenter.md §4.3-4.6) and drift's
 * simulated replacements, over the planner's rows (see disrupt.h for the
 * semantics, disrupt-int.h for the shared state).
 *
 * Every question is asked of the shared scheduler through lib/simulate:
 * the candidates' NodeClaims gone, their pods placed again in Karpenter's
 * packing, at most one new claim for consolidation, any number for drift.
 * A sim is built per question (the gone set changes what the scheduler
 * sees); a question that fails stops at its first pod that does not fit.
 * The replacement claims become LaunchRequest records through lib/claim,
 * serialized and parsed back so that the command owns them after the sim
 * is freed.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bound.h"
#include "catalog.h"
#include "claim.h"
#include "disrupt-int.h"
#include "json.h"
#include "sched.h"
#include "simulate.h"
#include "wellknown.h"

/* What one question answered. */
struct outcome {
	enum nap_disrupt_why why; /* NAP_WHY_DISRUPTED: a command is possible */
	char detail[1024];
	json_object **launch;
	size_t nlaunch;
	double after; /* USD/h: Σ worst-case launch prices */
	struct nap_disrupt_move *moves;
	size_t nmoves;
};

static void
outcome_free(struct outcome *o)
{
	size_t i;

	for (i = 0; i < o->nlaunch; i++)
		json_object_put(o->launch[i]);
	free(o->launch);
	o->launch = NULL;
	o->nlaunch = 0;
	for (i = 0; i < o->nmoves; i++) {
		free(o->moves[i].pod);
		free(o->moves[i].to);
	}
	free(o->moves);
	o->moves = NULL;
	o->nmoves = 0;
}

/* Where the run put each pod of the rows' nodes (the sim's moved pods). */
static void
moves_of(const struct nap_sim *sim, const struct nap_sched_result *res, struct row **rows, size_t n,
    struct outcome *out)
{
	size_t i, j;

	out->moves = nap_xcalloc(res->nplace + 1, sizeof(*out->moves));
	for (i = 0; i < res->nplace; i++) {
		const struct nap_pod *p = sim->pending_src[i];
		const struct nap_sched_place *pc = &res->place[i];
		int mine = 0;

		for (j = 0; j < n && !mine; j++)
			mine = rows[j]->node && strcmp(p->node_name, rows[j]->node->meta.name) == 0;
		if (!mine || pc->where == NAP_SCHED_NONE)
			continue;
		out->moves[out->nmoves].pod = nap_xasprintf("%s/%s", p->meta.ns, p->meta.name);
		out->moves[out->nmoves].new_claim = pc->where == NAP_SCHED_CLAIM;
		out->moves[out->nmoves++].to =
		    nap_xstrdup(pc->where == NAP_SCHED_CLAIM ? res->claims[pc->index].name
							     : sim->in.nodes[pc->index].name);
	}
}

/*
 * Pending pods: one nominated to a node holds its place there (the room it
 * was promised is not the candidates' to take); the others are nap-solve's
 * and left out, so they neither block a command nor open a claim.
 */
static void
pod_view(void *ctx, const struct nap_pod *p, struct nap_sim_pod_view *v)
{
	(void)ctx;
	if (p->nominated[0] != '\0') {
		v->role = NAP_SIM_HOLD;
		v->held_at = p->nominated;
		return;
	}
	v->role = NAP_SIM_SKIP;
}

/* A LaunchRequest the command owns: the sim's claim, written and read back. */
static json_object *
detach(json_object *o)
{
	json_object *c =
	    json_tokener_parse(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return c;
}

/* Is pod p bound to the node of one of the n rows? */
static int
on_candidate(const struct nap_pod *p, struct row *const *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rows[i]->node && strcmp(p->node_name, rows[i]->node->meta.name) == 0)
			return 1;
	return 0;
}

/*
 * Nodes still inside their consolidateAfter take none of the moved pods
 * (karpenter.md §5.10): a node that just changed is not a destination, or
 * two half-empty nodes would trade pods back and forth.  consolidateAfter
 * Never does not close a node.  Only moved pods are placed, so no room
 * closes to anyone else.
 */
static void
closed_to_moves(const struct plan *pl, struct nap_sim *sim)
{
	size_t i;

	for (i = 0; i < sim->in.nnodes; i++) {
		const struct nap_node *n;
		const struct nap_nodeclaim *cl;
		const struct nap_nodepool *np;
		int64_t at;

		if (strcmp(sim->node_kind[i], "Node") != 0 ||
		    (n = nap_cluster_node(pl->c, sim->nodes[i].name)) == NULL ||
		    (cl = nap_cluster_nodeclaim_of(pl->c, n)) == NULL || cl->nodepool == NULL ||
		    (np = nap_cluster_nodepool(pl->c, cl->nodepool)) == NULL)
			continue;
		at = disrupt_consolidatable_at(cl, np);
		if (at != INT64_MAX && at > pl->now)
			memset(&sim->nodes[i].avail, 0, sizeof(sim->nodes[i].avail));
	}
}

/*
 * The rows' nodes (and the deleting ones) gone, their pods placed again: 0 with sim and res the
 * caller's to free when every moved pod landed (never on an uninitialized
 * node), else -1 with out saying why (sim and res freed).
 */
static int
simulate(struct plan *pl, struct row **rows, size_t n, long max_claims, struct nap_sim *sim,
    struct nap_sched_result *res, struct outcome *out)
{
	struct nap_sim_opts so;
	struct nap_sched_run_opts ro = NAP_SCHED_RUN_OPTS_INIT;
	struct nap_sched_world *w = NULL;
	struct nap_err err;
	struct nap_nodeclaim *const *claims;
	const char **gone;
	size_t i, nclaims, ngone = n;

	memset(res, 0, sizeof(*res));
	/*
	 * The candidates, and the nodes already deleting: their pods need a
	 * place too, and consolidation must not take the room they will need
	 * (karpenter.md §4.5).
	 */
	claims = nap_cluster_nodeclaims(pl->c, &nclaims);
	gone = nap_xcalloc(n + nclaims + 1, sizeof(*gone));
	for (i = 0; i < n; i++)
		gone[i] = rows[i]->claim->meta.name;
	for (i = 0; i < nclaims; i++) {
		const struct nap_node *nd = nap_cluster_node_of(pl->c, claims[i]);

		if (nd && (claims[i]->meta.deleted || nd->meta.deleted))
			gone[ngone++] = claims[i]->meta.name;
	}
	memset(&so, 0, sizeof(so));
	so.packing = NAP_SCHED_PACK_KARPENTER;
	so.now_ms = pl->now;
	so.unavail = pl->o->unavail;
	so.pod_view = pod_view;
	so.gone = gone;
	so.ngone = ngone;
	nap_sim_build(sim, pl->c, pl->o->catalog, &so, &err);
	closed_to_moves(pl, sim);
	/* a new claim is never named as a candidate going away */
	sim->in.taken = gone;
	sim->in.ntaken = ngone;
	ro.packing = NAP_SCHED_PACK_KARPENTER;
	ro.max_claims = max_claims;
	ro.stop_at_fail = 1;
	pl->r->simulations++;
	if (nap_sched_prepare(&sim->in, &w, &err) < 0 || nap_sched_run(w, &ro, res, &err) < 0) {
		out->why = NAP_WHY_WOULD_NOT_FIT;
		snprintf(
		    out->detail, sizeof(out->detail), "the simulation failed: %.400s", err.msg);
		nap_sched_world_free(w);
		goto fail;
	}
	nap_sched_world_free(w);
	sim->in.taken = NULL;
	sim->in.ntaken = 0;
	for (i = 0; i < res->nplace; i++) {
		const struct nap_sched_place *pc = &res->place[i];
		const struct nap_pod *p = sim->pending_src[i];

		if (pc->where == NAP_SCHED_NONE) {
			if (pc->why && strncmp(pc->why, "not simulated", 13) == 0)
				continue;
			out->why = NAP_WHY_WOULD_NOT_FIT;
			snprintf(out->detail, sizeof(out->detail),
			    "pod %s/%s would not fit: %.600s", p->meta.ns, p->meta.name,
			    pc->why ? pc->why : "no reason given");
			goto fail;
		}
		/* pods of deleting nodes may wait for a node still coming up */
		if (pc->where == NAP_SCHED_NODE && !sim->in.nodes[pc->index].initialized &&
		    on_candidate(p, rows, n)) {
			out->why = NAP_WHY_WOULD_NOT_FIT;
			snprintf(out->detail, sizeof(out->detail),
			    "pod %s/%s would only fit on %s, which is not initialized", p->meta.ns,
			    p->meta.name, sim->in.nodes[pc->index].name);
			goto fail;
		}
	}
	free(gone);
	return 0;
fail:
	free(gone);
	nap_sched_result_free(res);
	nap_sim_free(sim);
	return -1;
}

/*
 * The worst-case launch price of type t for a claim whose zones and
 * capacity types are zr and cr: the dearest available offering it allows,
 * of spot when it allows spot and t has one (spot launches first), else of
 * on-demand; only spot when spot_only.  -1 when none.  *cheapest gets the
 * cheapest such offering.
 */
static double
worst_price(const struct nap_sched_itype *t, const struct nap_req *zr, const struct nap_req *cr,
    int spot_only, double *cheapest)
{
	double spot = -1, od = -1, spot_lo = -1, od_lo = -1;
	size_t i;

	for (i = 0; i < t->noff; i++) {
		const struct nap_sched_offer *of = &t->off[i];
		int is_spot = strcmp(of->ctype, "spot") == 0;

		if (!of->available ||
		    (zr && strcmp(of->zone, "0") != 0 && !nap_req_allows(zr, of->zone)) ||
		    (cr && !nap_req_allows(cr, of->ctype)))
			continue;
		if (is_spot) {
			spot = of->price > spot ? of->price : spot;
			spot_lo = spot_lo < 0 || of->price < spot_lo ? of->price : spot_lo;
		} else {
			od = of->price > od ? of->price : od;
			od_lo = od_lo < 0 || of->price < od_lo ? of->price : od_lo;
		}
	}
	if (spot >= 0 || spot_only) {
		*cheapest = spot_lo;
		return spot;
	}
	*cheapest = od_lo;
	return od;
}

/* Keep claim c's types whose worst price is below limit; returns how many are left. */
static size_t
cut_types(const struct nap_sim *sim, struct nap_sched_claim *c, double limit, int spot_only)
{
	const struct nap_req *zr = nap_reqs_get(&c->reqs, NAP_LABEL_ZONE);
	const struct nap_req *cr = nap_reqs_get(&c->reqs, NAP_LABEL_CAPACITY_TYPE);
	size_t i, k = 0;
	double lo;

	for (i = 0; i < c->ntypes; i++) {
		double wp = worst_price(&sim->in.types[c->types[i]], zr, cr, spot_only, &lo);

		if (wp >= 0 && wp < limit)
			c->types[k++] = c->types[i];
	}
	c->ntypes = k;
	return k;
}

/*
 * The one new claim of a consolidation: cut to the strictly cheaper types,
 * spot rules applied; 0 with out->launch set, or -1 with out->why.
 */
static int
replacement(struct plan *pl, struct row **rows, size_t n, struct nap_sim *sim,
    struct nap_sched_claim *c, double before, struct outcome *out)
{
	const struct nap_req *cr = nap_reqs_get(&c->reqs, NAP_LABEL_CAPACITY_TYPE);
	int may_spot = cr == NULL || nap_req_allows(cr, "spot");
	int may_od = cr == NULL || nap_req_allows(cr, "on-demand");
	int all_spot = 1, spot_only = 0, pin = 0;
	double limit = before, lo, hi = 0, cheapest = -1;
	const struct nap_reqs **its;
	const char *spot = "spot";
	struct nap_err err;
	size_t i, j, ncheaper;
	long need;
	char why[256];

	for (i = 0; i < n; i++) {
		const char *ct = disrupt_label(rows[i], NAP_LABEL_CAPACITY_TYPE);

		all_spot &= ct != NULL && strcmp(ct, "spot") == 0;
	}
	if (all_spot && may_spot) {
		if (!pl->o->spot_to_spot) {
			out->why = NAP_WHY_SPOT_TO_SPOT;
			snprintf(out->detail, sizeof(out->detail),
			    "spot-to-spot consolidation is off: a spot node is not replaced by "
			    "another spot node");
			return -1;
		}
		spot_only = 1;
	}
	ncheaper = cut_types(sim, c, limit, spot_only);
	/*
	 * Multi-node: a type being removed may come back only below the
	 * cheapest such node's price; otherwise deleting the others is better.
	 */
	for (i = 0; n > 1 && i < c->ntypes; i++) {
		const char *name = sim->in.types[c->types[i]].name;

		for (j = 0; j < n; j++) {
			const char *it = disrupt_label(rows[j], NAP_LABEL_INSTANCE_TYPE);

			if (it && strcmp(it, name) == 0 && rows[j]->v->price < limit)
				limit = rows[j]->v->price;
		}
	}
	if (limit < before)
		ncheaper = cut_types(sim, c, limit, spot_only);
	if (ncheaper == 0) {
		out->why = NAP_WHY_NOT_CHEAPER;
		snprintf(out->detail, sizeof(out->detail),
		    "no cheaper replacement: no instance type that holds the pods launches for "
		    "less than $%.4f/h%s",
		    limit, spot_only ? " on spot" : "");
		return -1;
	}
	/* A claim that may be spot or on-demand is pinned to spot: a capacity error never buys dearer on-demand. */
	if (!spot_only && may_spot && may_od) {
		const struct nap_req *zr = nap_reqs_get(&c->reqs, NAP_LABEL_ZONE);

		for (i = 0; i < c->ntypes && !pin; i++)
			pin = worst_price(&sim->in.types[c->types[i]], zr, NULL, 1, &lo) >= 0;
	}
	if (pin || spot_only) {
		nap_reqs_add(&c->reqs, NAP_LABEL_CAPACITY_TYPE, NAP_OP_IN, &spot, 1, 0, &err);
		ncheaper = cut_types(sim, c, limit, 1);
	}
	its = nap_xcalloc(c->ntypes + 1, sizeof(*its));
	for (i = 0; i < c->ntypes; i++)
		its[i] = &sim->in.types[c->types[i]].reqs;
	need = nap_reqs_min_values_needed(&c->reqs, its, c->ntypes, why, sizeof(why));
	free(its);
	/* the claim keeps the instance-type minValues apart from its requirements */
	if (need >= 0 && c->min_values > 0 && c->ntypes < (size_t)c->min_values) {
		snprintf(
		    why, sizeof(why), "%s minValues %d", NAP_LABEL_INSTANCE_TYPE, c->min_values);
		need = -1;
	}
	if (need >= 0 && c->min_values > need)
		need = c->min_values;
	if (need < 0) {
		out->why = NAP_WHY_NOT_CHEAPER;
		snprintf(out->detail, sizeof(out->detail),
		    "no cheaper replacement: the %zu cheaper instance type%s break minValues (%s)",
		    ncheaper, ncheaper == 1 ? "" : "s", why);
		return -1;
	}
	if (spot_only && n == 1) {
		size_t keep =
		    (size_t)need > NAP_DISRUPT_SPOT_TYPES ? (size_t)need : NAP_DISRUPT_SPOT_TYPES;

		if (c->ntypes < NAP_DISRUPT_SPOT_TYPES) {
			out->why = NAP_WHY_SPOT_TO_SPOT;
			snprintf(out->detail, sizeof(out->detail),
			    "spot-to-spot consolidation needs %d cheaper instance types, %zu found",
			    NAP_DISRUPT_SPOT_TYPES, c->ntypes);
			return -1;
		}
		if (c->ntypes > keep)
			c->ntypes = keep;
	}
	{
		const struct nap_req *zr = nap_reqs_get(&c->reqs, NAP_LABEL_ZONE);

		cr = nap_reqs_get(&c->reqs, NAP_LABEL_CAPACITY_TYPE);
		for (i = 0; i < c->ntypes; i++) {
			double wp = worst_price(&sim->in.types[c->types[i]], zr, cr, 0, &lo);

			hi = wp > hi ? wp : hi;
			if (lo >= 0 && (cheapest < 0 || lo < cheapest))
				cheapest = lo;
		}
	}
	if (cheapest >= 0)
		c->price = cheapest;
	out->launch = nap_xcalloc(1, sizeof(*out->launch));
	out->launch[0] = detach(nap_claim_launch_request(sim, c));
	out->nlaunch = 1;
	out->after = hi;
	return 0;
}

/* The candidates' total price. */
static double
price_of(struct row **rows, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += rows[i]->v->price;
	return s;
}

/* Can rows go (all of them, one command)?  out->why NAP_WHY_DISRUPTED when so. */
static void
consolidation(struct plan *pl, struct row **rows, size_t n, struct outcome *out)
{
	struct nap_sim sim;
	struct nap_sched_result res;
	double before = price_of(rows, n);

	memset(out, 0, sizeof(*out));
	if (simulate(pl, rows, n, 1, &sim, &res, out) < 0)
		return;
	if (res.nclaims == 0) {
		out->why = NAP_WHY_DISRUPTED;
		snprintf(out->detail, sizeof(out->detail), "its pods fit on the other nodes");
	} else if (replacement(pl, rows, n, &sim, &res.claims[0], before, out) == 0) {
		out->why = NAP_WHY_DISRUPTED;
		snprintf(out->detail, sizeof(out->detail),
		    "replaced by one cheaper node ($%.4f/h for $%.4f/h)", out->after, before);
	}
	if (out->why == NAP_WHY_DISRUPTED)
		moves_of(&sim, &res, rows, n, out);
	nap_sched_result_free(&res);
	nap_sim_free(&sim);
}

/* The command of a possible outcome over rows (one pool's name: the first row's). */
static void
command(struct plan *pl, struct row **rows, size_t n, struct outcome *out, const char *how)
{
	struct nap_disrupt_command *cmd =
	    disrupt_command_new(pl->r, NAP_DISRUPT_UNDERUTILIZED, rows[0]->v->nodepool);
	size_t i;

	for (i = 0; i < n; i++) {
		disrupt_cand_add(pl, cmd, rows[i]);
		rows[i]->pool->b->used[NAP_DISRUPT_UNDERUTILIZED]++;
		free(rows[i]->v->detail);
		rows[i]->v->detail = nap_xasprintf(
		    "%s consolidation of %zu node%s: %s", how, n, n == 1 ? "" : "s", out->detail);
	}
	cmd->launch = out->launch;
	cmd->nlaunch = out->nlaunch;
	cmd->moves = out->moves;
	cmd->nmoves = out->nmoves;
	out->moves = NULL;
	out->nmoves = 0;
	cmd->replacements = out->nlaunch;
	cmd->price_after = out->after;
	cmd->savings = cmd->price_before - cmd->price_after;
	out->launch = NULL;
	out->nlaunch = 0;
}

/* Reschedule disruption cost (§4.3): 1 + Σ positive eviction costs of the pods a drain moves. */
static double
reschedule_cost(const struct plan *pl, const struct row *w)
{
	struct nap_pod *const *pods;
	double cost = 1;
	size_t i, np;

	pods = nap_cluster_pods_on_node(pl->c, w->node->meta.name, &np);
	for (i = 0; i < np; i++)
		if (disrupt_pod_reschedulable(pods[i]) && nap_pod_eviction_cost(pods[i]) > 0)
			cost += nap_pod_eviction_cost(pods[i]);
	return cost;
}

static int
cmp_ratio(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;

	if (x->v->savings_ratio != y->v->savings_ratio)
		return x->v->savings_ratio > y->v->savings_ratio ? -1 : 1;
	return strcmp(x->claim->meta.name, y->claim->meta.name);
}

/* Karpenter's single-node order: the NodePools interleaved, each in ratio order. */
static void
interleave(struct row **c, size_t n)
{
	struct row **out = nap_xcalloc(n + 1, sizeof(*out));
	unsigned char *taken = nap_xcalloc(n + 1, 1);
	size_t k = 0, i;

	while (k < n) {
		const char **seen = nap_xcalloc(n + 1, sizeof(*seen));
		size_t nseen = 0, j;

		for (i = 0; i < n; i++) {
			int dup = 0;

			if (taken[i])
				continue;
			for (j = 0; j < nseen && !dup; j++)
				dup = strcmp(seen[j], c[i]->v->nodepool) == 0;
			if (dup)
				continue;
			seen[nseen++] = c[i]->v->nodepool;
			taken[i] = 1;
			out[k++] = c[i];
		}
		free(seen);
	}
	memcpy(c, out, n * sizeof(*c));
	free(out);
	free(taken);
}

/* Multi-node (§4.6): the largest prefix of 2..n that gives a command. */
static int
multi(struct plan *pl, struct row **c, size_t n)
{
	struct outcome best, o;
	size_t lo = 1, hi = n > NAP_DISRUPT_MULTI_MAX ? NAP_DISRUPT_MULTI_MAX - 1 : n - 1, got = 0;

	if (n < 2)
		return 0;
	memset(&best, 0, sizeof(best));
	while (lo <= hi) {
		size_t mid = (lo + hi) / 2;

		consolidation(pl, c, mid + 1, &o);
		if (o.why == NAP_WHY_DISRUPTED) {
			outcome_free(&best);
			best = o;
			got = mid + 1;
			lo = mid + 1;
		} else {
			outcome_free(&o);
			hi = mid - 1;
		}
	}
	if (got == 0)
		return 0;
	command(pl, c, got, &best, "multi-node");
	outcome_free(&best);
	return 1;
}

/*
 * Single-node (§4.6): the first candidate, in order from opts.single_from,
 * that gives a command, within opts.max_simulations.
 */
static int
single(struct plan *pl, struct row **c, size_t n)
{
	struct outcome o;
	size_t i, start = 0, sims = 0;

	for (i = 0; pl->o->single_from && i < n; i++)
		if (strcmp(c[i]->claim->meta.name, pl->o->single_from) == 0)
			start = i;
	if (start > 0) {
		struct row **r = nap_xcalloc(n, sizeof(*r));

		memcpy(r, c + start, (n - start) * sizeof(*r));
		memcpy(r + n - start, c, start * sizeof(*r));
		memcpy(c, r, n * sizeof(*r));
		free(r);
	}
	for (i = 0; i < n; i++) {
		if (pl->o->max_simulations && sims == pl->o->max_simulations) {
			free(pl->r->single_next);
			pl->r->single_next = nap_xstrdup(c[i]->claim->meta.name);
			pl->budget_blocked = 1; /* not consolidated: the walk goes on next pass */
			for (; i < n; i++)
				disrupt_verdict(c[i]->v, NAP_WHY_CANDIDATE, 0,
				    "not simulated: single-node consolidation's %zu simulations "
				    "were spent this pass",
				    pl->o->max_simulations);
			return 0;
		}
		if (!disrupt_budget_left(c[i], NAP_DISRUPT_UNDERUTILIZED)) {
			pl->budget_blocked = 1;
			continue;
		}
		consolidation(pl, &c[i], 1, &o);
		sims++;
		if (o.why == NAP_WHY_DISRUPTED) {
			command(pl, &c[i], 1, &o, "single-node");
			outcome_free(&o);
			for (i++; i < n; i++)
				disrupt_verdict(c[i]->v, NAP_WHY_CANDIDATE, 0,
				    "consolidation took nodeclaim %s first this pass",
				    pl->r->cmds[pl->r->ncmds - 1].cands[0].nodeclaim);
			return 1;
		}
		disrupt_verdict(c[i]->v, o.why, 0, "%s", o.detail);
		c[i]->v->reason = NAP_DISRUPT_UNDERUTILIZED;
		outcome_free(&o);
	}
	return 0;
}

int
disrupt_consolidate(struct plan *pl, struct row **cands, size_t n, unsigned methods)
{
	const struct nap_disrupt_opts *o = pl->o;
	struct row **c = nap_xcalloc(n + 1, sizeof(*c)), **m;
	size_t i, nc = 0, nm = 0;
	int64_t *taken;
	int made = 0;

	for (i = 0; i < n; i++) {
		struct row *w = cands[i];
		const char *it = disrupt_label(w, NAP_LABEL_INSTANCE_TYPE);
		const char *zone = disrupt_label(w, NAP_LABEL_ZONE);
		const char *ct = disrupt_label(w, NAP_LABEL_CAPACITY_TYPE);

		if (w->v->why != NAP_WHY_NOT_EMPTY)
			continue;
		if (w->pool->np->policy == NAP_CONSOLIDATE_WHEN_EMPTY) {
			char *d = nap_xasprintf("%s; consolidationPolicy WhenEmpty", w->v->detail);

			free(w->v->detail);
			w->v->detail = d;
			continue;
		}
		if (!it || !zone || !ct || w->v->price < 0) {
			disrupt_verdict(w->v, NAP_WHY_UNCONSOLIDATABLE, 0, "nodeclaim %s: %s",
			    w->claim->meta.name,
			    !it		? "no instance type label"
				: !zone ? "no zone label"
				: !ct	? "no capacity type label"
					: "no price known for its offering");
			continue;
		}
		w->v->savings_ratio = w->v->price / reschedule_cost(pl, w);
		c[nc++] = w;
	}
	if (o->generation != 0 && o->generation == o->consolidated_gen &&
	    pl->now < o->consolidated_ms + NAP_DISRUPT_RECHECK_MS) {
		for (i = 0; i < nc; i++)
			disrupt_verdict(c[i]->v, NAP_WHY_CONSOLIDATED,
			    o->consolidated_ms + NAP_DISRUPT_RECHECK_MS,
			    "nothing changed since consolidation last found nothing");
		disrupt_next_at(pl, o->consolidated_ms + NAP_DISRUPT_RECHECK_MS);
		pl->r->skipped_consolidated = 1;
		free(c);
		return 0;
	}
	qsort(c, nc, sizeof(*c), cmp_ratio);
	/* multi-node: the candidates each pool's budget lets go, at most 100 */
	m = nap_xcalloc(nc + 1, sizeof(*m));
	taken = nap_xcalloc(pl->npools + 1, sizeof(*taken));
	for (i = 0; i < nc && nm < NAP_DISRUPT_MULTI_MAX; i++) {
		struct nap_disrupt_budget *b = c[i]->pool->b;
		size_t p = (size_t)(c[i]->pool - pl->pools);

		if (b->available[NAP_DISRUPT_UNDERUTILIZED] != INT64_MAX &&
		    b->used[NAP_DISRUPT_UNDERUTILIZED] + taken[p] >=
			b->available[NAP_DISRUPT_UNDERUTILIZED])
			continue;
		taken[p]++;
		m[nm++] = c[i];
	}
	free(taken);
	if ((methods & NAP_DISRUPT_M_MULTI) && multi(pl, m, nm)) {
		for (i = 0; i < nc; i++)
			if (c[i]->v->why != NAP_WHY_DISRUPTED)
				disrupt_verdict(c[i]->v, NAP_WHY_CANDIDATE, 0,
				    "multi-node consolidation took %zu other nodes first this pass",
				    pl->r->cmds[pl->r->ncmds - 1].ncands);
		pl->r->method = NAP_DISRUPT_UNDERUTILIZED;
		made = 1;
	}
	free(m);
	if (!made && (methods & NAP_DISRUPT_M_SINGLE)) {
		interleave(c, nc);
		made = single(pl, c, nc);
	}
	if (!made && (methods & NAP_DISRUPT_M_SINGLE) && !pl->budget_blocked)
		pl->r->consolidated = 1;
	free(c);
	return made;
}

/* The instance types a LaunchRequest's NodeClaim lists, or NULL. */
static json_object *
launch_types(json_object *launch)
{
	json_object *reqs = nap_json_get(launch, "nodeClaim.spec.requirements");
	size_t i;

	for (i = 0; reqs && i < json_object_array_length(reqs); i++) {
		json_object *q = json_object_array_get_idx(reqs, i);

		if (strcmp(nap_json_str(q, "key", ""), NAP_LABEL_INSTANCE_TYPE) == 0)
			return nap_json_get(q, "values");
	}
	return NULL;
}

/* Does every instance type of launch a appear in launch b? */
static int
types_subset(json_object *a, json_object *b)
{
	json_object *ta = launch_types(a), *tb = launch_types(b);
	size_t i, j, na = ta ? json_object_array_length(ta) : 0;
	size_t nb = tb ? json_object_array_length(tb) : 0;

	for (i = 0; i < na; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(ta, i));
		int found = 0;

		for (j = 0; j < nb && !found; j++)
			found = strcmp(t,
				    json_object_get_string(json_object_array_get_idx(tb, j))) == 0;
		if (!found)
			return 0;
	}
	return 1;
}

static int invalid(struct plan *pl, const char *fmt, ...) NAP_PRINTF(2, 3);

static int
invalid(struct plan *pl, const char *fmt, ...)
{
	va_list ap;
	char buf[1200];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(pl->r->invalid);
	pl->r->invalid = nap_xstrdup(buf);
	return 0;
}

int
disrupt_validate(struct plan *pl, struct row **cands, size_t n)
{
	const struct nap_disrupt_command *old = pl->o->validate;
	struct row **rows = nap_xcalloc(old->ncands + 1, sizeof(*rows));
	struct nap_disrupt_command *cmd;
	struct outcome o;
	size_t i, j, k = 0;
	int ok = 1;

	if (old->reason != NAP_DISRUPT_EMPTY && old->reason != NAP_DISRUPT_UNDERUTILIZED) {
		free(rows);
		return invalid(pl, "only Empty and Underutilized commands are validated, not %s",
		    nap_disrupt_reason_name(old->reason));
	}
	for (i = 0; i < old->ncands && ok; i++) {
		const char *name = old->cands[i].nodeclaim;
		struct row *w = NULL;
		int still;

		for (j = 0; j < n && !w; j++)
			if (strcmp(cands[j]->claim->meta.name, name) == 0)
				w = cands[j];
		still = w != NULL &&
		    (old->reason == NAP_DISRUPT_EMPTY
			    ? w->v->why == NAP_WHY_CANDIDATE
			    : w->v->why == NAP_WHY_NOT_EMPTY || w->v->why == NAP_WHY_CANDIDATE) &&
		    disrupt_budget_left(w, old->reason);
		if (still) {
			w->pool->b->used[old->reason]++; /* the next candidate's budget */
			rows[k++] = w;
			continue;
		}
		/* emptiness drops the one; consolidation gives the command up */
		if (old->reason == NAP_DISRUPT_UNDERUTILIZED) {
			const struct nap_disrupt_verdict *v = NULL;

			for (j = 0; j < pl->nrows && !v; j++)
				if (strcmp(pl->rows[j].claim->meta.name, name) == 0)
					v = pl->rows[j].v;
			ok = invalid(pl, "nodeclaim %s is no longer a candidate: %s", name,
			    v ? v->detail : "it is gone");
		}
	}
	if (ok && k == 0)
		ok = invalid(pl, "no candidate of the command is still empty");
	if (ok && old->reason == NAP_DISRUPT_EMPTY) {
		cmd = disrupt_command_new(pl->r, NAP_DISRUPT_EMPTY, rows[0]->v->nodepool);
		for (i = 0; i < k; i++)
			disrupt_cand_add(pl, cmd, rows[i]);
	} else if (ok) {
		for (i = 0; i < k; i++)
			rows[i]->pool->b->used[old->reason]--; /* command() counts them */
		consolidation(pl, rows, k, &o);
		if (o.why != NAP_WHY_DISRUPTED)
			ok = invalid(pl, "%s", o.detail);
		else if (o.nlaunch != old->nlaunch)
			ok = invalid(pl, "the candidates now need %zu new node%s, not %zu",
			    o.nlaunch, o.nlaunch == 1 ? "" : "s", old->nlaunch);
		else if (o.nlaunch == 1 && !types_subset(old->launch[0], o.launch[0]))
			ok = invalid(pl,
			    "the replacement may no longer be every instance type the "
			    "command listed");
		if (ok)
			command(pl, rows, k, &o, "validated");
		outcome_free(&o);
	}
	free(rows);
	return ok;
}

int
disrupt_drift_simulate(struct plan *pl, struct row *w)
{
	struct nap_sim sim;
	struct nap_sched_result res;
	struct outcome out;
	struct nap_disrupt_command *cmd;
	size_t i;

	if (pl->o->catalog == NULL)
		return -1;
	memset(&out, 0, sizeof(out));
	if (simulate(pl, &w, 1, -1, &sim, &res, &out) < 0) {
		disrupt_verdict(w->v, NAP_WHY_WOULD_NOT_FIT, 0, "nodeclaim %s drifted (%s); %s",
		    w->claim->meta.name, disrupt_drift_reason(w), out.detail);
		w->v->reason = NAP_DISRUPT_DRIFTED;
		return 0;
	}
	cmd = disrupt_command_new(pl->r, NAP_DISRUPT_DRIFTED, w->v->nodepool);
	disrupt_cand_add(pl, cmd, w);
	cmd->launch = nap_xcalloc(res.nclaims + 1, sizeof(*cmd->launch));
	for (i = 0; i < res.nclaims; i++) {
		struct nap_sched_claim *c = &res.claims[i];
		const struct nap_req *zr = nap_reqs_get(&c->reqs, NAP_LABEL_ZONE);
		const struct nap_req *cr = nap_reqs_get(&c->reqs, NAP_LABEL_CAPACITY_TYPE);
		double lo, hi = 0;
		size_t t;

		for (t = 0; t < c->ntypes; t++) {
			double wp = worst_price(&sim.in.types[c->types[t]], zr, cr, 0, &lo);

			hi = wp > hi ? wp : hi;
		}
		cmd->price_after += hi;
		cmd->launch[cmd->nlaunch++] = detach(nap_claim_launch_request(&sim, c));
	}
	cmd->replacements = cmd->nlaunch;
	cmd->savings = cmd->price_before - cmd->price_after;
	moves_of(&sim, &res, &w, 1, &out);
	cmd->moves = out.moves;
	cmd->nmoves = out.nmoves;
	free(w->v->detail);
	w->v->detail = cmd->nlaunch == 0
	    ? nap_xasprintf("nodeclaim %s drifted (%s); its %zu pod%s fit on the other nodes",
		  w->claim->meta.name, cmd->cands[0].drift_reason, w->v->pods,
		  w->v->pods == 1 ? "" : "s")
	    : nap_xasprintf("nodeclaim %s drifted (%s); replaced first by %zu new node%s",
		  w->claim->meta.name, cmd->cands[0].drift_reason, cmd->nlaunch,
		  cmd->nlaunch == 1 ? "" : "s");
	nap_sched_result_free(&res);
	nap_sim_free(&sim);
	return 1;
}

void
disrupt_fleet(struct plan *pl)
{
	struct nap_disrupt_result *r = pl->r;
	struct nap_bound_class *k = NULL;
	struct nap_bound_type *t = NULL;
	struct nap_err err;
	size_t i, nk, nt;
	double pods, unplaced;

	r->bound = -1;
	for (i = 0; i < r->nverdicts; i++) {
		const struct nap_disrupt_verdict *v = &r->verdicts[i];

		if (!v->nodeclaim[0] || v->why == NAP_WHY_DELETING)
			continue;
		if (v->price >= 0)
			r->fleet_price += v->price;
		else
			r->fleet_unknown++;
	}
	if (!pl->o->bound || pl->o->catalog == NULL)
		return;
	/* the bound nap-cost sets the fleet against: the same classes and types */
	nk = nap_bound_fleet_classes(pl->c, &k, &pods);
	nt = nap_bound_fleet_types(pl->c, pl->o->catalog, k, nk, &t);
	if (nap_bound_whole(t, nt, k, nk, &r->bound, &unplaced, NULL, &err) < 0)
		r->bound = -1;
	free(t);
	free(k);
}
