/*
 * plan.c - the disruption loop: after SYNCED and then every --interval, the
 * planner (lib/disrupt, a pure function of the model and the time) says
 * which NodeClaims to remove; each is deleted (gracefully: its finalizer
 * then makes term.c drain it), or replaced first (replace.c), and a
 * Disruption record per command goes downstream.  --dry-run prints the
 * same plan instead: the Disruption records, then one DisruptionVerdict per
 * node.
 *
 * Validation (karpenter.md §4.6): an Empty or Underutilized command is not
 * carried out when it is first planned.  It waits 15 s (under
 * --time-scale), then the planner checks that very command again on the
 * cluster as it is then (lib/disrupt's opts.validate: every candidate still
 * a candidate within its budget, a consolidation simulated again, Karpenter's
 * rules).  Emptiness goes ahead with the nodes still empty; a consolidation
 * goes ahead whole, with the LaunchRequests of the new simulation, or is
 * dropped, with a message and a ConsolidationRejected event on each
 * candidate's Node naming why, and the next pass plans afresh.  Expired
 * and Drifted commands do not wait (Karpenter's drift has no validation
 * delay).
 *
 * A NodeClaim deleted here stays in the planner's queue until the model
 * shows its deletion, so a pass that runs before the watch catches up does
 * not pick it (or spend budget on it) twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "prog.h"
#include "tool.h"

#define QUEUE_KEEP_MS 60000
/* karpenter.md §4.6: commandValidationDelay. */
#define VALIDATION_MS 15000
/* karpenter.md 8.3: a nomination holds for 2 x BATCH_MAX_DURATION (10 s). */
#define NOMINATION_MS 20000

/* Drop queued names the model shows deleting or gone, or that waited too long. */
static void
queue_prune(struct ctx *x, int64_t now)
{
	size_t i, j = 0;

	for (i = 0; i < x->nqueued; i++) {
		const struct nap_nodeclaim *c = nap_cluster_nodeclaim(x->cl, x->queued[i]);

		/* a wait of ours: --time-scale shortens it like the others */
		if (c && !c->meta.deleted && x->queued_at[i] + scaled(x, QUEUE_KEEP_MS) > now) {
			x->queued[j] = x->queued[i];
			x->queued_at[j++] = x->queued_at[i];
		} else {
			free(x->queued[i]);
		}
	}
	x->nqueued = j;
}

static void
queue_add(struct ctx *x, const char *name, int64_t now)
{
	size_t a = x->aqueued;

	nap_xgrow(&x->queued, &x->aqueued, x->nqueued + 1, sizeof(*x->queued));
	nap_xgrow(&x->queued_at, &a, x->nqueued + 1, sizeof(*x->queued_at));
	x->queued[x->nqueued] = nap_xstrdup(name);
	x->queued_at[x->nqueued++] = now;
}

void
plan_nominated(struct ctx *x, const char *node)
{
	int added;
	void **slot;

	if (!node[0])
		return;
	slot = nap_hash_slot(&x->nominated, node, &added);
	if (added)
		*slot = nap_xmalloc(sizeof(int64_t));
	*(int64_t *)*slot = now_ms(x) + scaled(x, NOMINATION_MS);
}

/* The names still nominated, in a new array (the strings are the table's). */
static const char **
nominated_now(struct ctx *x, int64_t now, size_t *n)
{
	const char **out = NULL;
	size_t pos = 0, a = 0;
	const char *k;
	void *v;

	*n = 0;
	while (nap_hash_next(&x->nominated, &pos, &k, &v))
		if (*(int64_t *)v > now) {
			nap_xgrow(&out, &a, *n + 1, sizeof(*out));
			out[(*n)++] = k;
		}
	return out;
}

/*
 * The whole-pod bound of the pods the fleet runs, into r (the Disruption
 * records' and the summary's fleet.bound, the metrics): lib/bound-fleet,
 * kept on the count of records applied, so a second plan in the same pass
 * (validation) and a pass with nothing changed cost nothing, and the LP is
 * solved again only when the pods changed.  No catalog, no bound.
 */
static void
fleet_bound(struct ctx *x, struct nap_disrupt_result *r)
{
	struct nap_err err;
	double usd;

	if (!x->cat)
		return;
	if (nap_bound_fleet(x->cl, x->cat, x->generation + 1, &x->bound_cache, &usd, &err) < 0) {
		nap_warn("the fleet's whole-pod bound: %s", err.msg);
		return;
	}
	r->bound = usd;
}

/* A plan, or with validate the check of that earlier command (lib/disrupt's opts.validate). */
static int
plan(struct ctx *x, struct nap_disrupt_result *r, const struct nap_disrupt_command *validate)
{
	struct nap_disrupt_opts o;
	struct nap_err err;
	const char **nom;
	char **rep;
	size_t nnom, nrep, k;
	int rc = 0;

	memset(&o, 0, sizeof(o));
	o.now_ms = now_ms(x);
	o.methods = NAP_DISRUPT_M_ALL;
	o.catalog = x->cat;
	o.bound = 0; /* fleet_bound, kept between passes */
	o.queued = (const char *const *)x->queued;
	o.nqueued = x->nqueued;
	nom = nominated_now(x, o.now_ms, &nnom);
	/* and the replacements in flight (replace.c) */
	replace_nominated(x, &rep, &nrep);
	nom = nap_xrealloc(nom, (nnom + nrep + 1) * sizeof(*nom));
	for (k = 0; k < nrep; k++)
		nom[nnom++] = rep[k];
	o.nominated = nom;
	o.nnominated = nnom;
	/* 1 + the records applied: 0 would mean "no generation kept" */
	o.generation = x->generation + 1;
	o.consolidated_gen = x->consolidated_gen;
	o.consolidated_ms = x->consolidated_ms;
	o.validate = validate;
	o.unavail = &x->unavail;
	o.max_simulations = x->max_simulations;
	o.single_from = x->single_next;
	memset(r, 0, sizeof(*r));
	if (nap_disrupt_plan(x->cl, &o, r, &err) < 0) {
		nap_warn("plan: %s", err.msg);
		rc = -1;
	} else {
		fleet_bound(x, r);
		if (r->consolidated && validate == NULL) {
			x->consolidated_gen = o.generation;
			x->consolidated_ms = o.now_ms;
		}
		/*
		 * A single-node walk cut short by max_simulations goes on
		 * there next pass (it wraps, so an old place is harmless).
		 */
		if (validate == NULL && r->single_next) {
			free(x->single_next);
			x->single_next = nap_xstrdup(r->single_next);
		}
	}
	free(nom);
	for (k = 0; k < nrep; k++)
		free(rep[k]);
	free(rep);
	return rc;
}

/* DisruptionBlocked on each NodePool whose budget stopped a method this pass. */
static void
blocked_events(struct ctx *x, const struct nap_disrupt_result *r)
{
	size_t i;

	for (i = 0; i < r->nverdicts; i++) {
		const struct nap_disrupt_verdict *v = &r->verdicts[i];
		const struct nap_nodepool *p;

		if (v->why != NAP_WHY_BUDGET || !v->nodepool[0])
			continue;
		p = nap_cluster_nodepool(x->cl, v->nodepool);
		if (p)
			obs_event(x, "NodePool", "karpenter.sh/v1", &p->meta, "Normal",
			    "DisruptionBlocked",
			    "No allowed disruptions for disruption reason %s due to blocking "
			    "budget",
			    nap_disrupt_reason_name(v->reason));
	}
}

static void
act(struct ctx *x, const struct nap_disrupt_result *r, const struct nap_disrupt_command *cmd)
{
	struct nap_err err;
	size_t i;
	json_object *rec;

	for (i = 0; i < cmd->ncands; i++) {
		const struct nap_disrupt_candidate *cd = &cmd->cands[i];
		const struct nap_nodeclaim *c = nap_cluster_nodeclaim(x->cl, cd->nodeclaim);
		char *path = path_nodeclaim(cd->nodeclaim);
		int rc;

		rc = k_delete(x, path, c ? c->meta.uid : NULL, -1, &err);
		free(path);
		if (rc < 0) {
			nap_warn("%s: delete nodeclaim %s: %s",
			    nap_disrupt_reason_name(cmd->reason), cd->nodeclaim, err.msg);
			continue;
		}
		queue_add(x, cd->nodeclaim, now_ms(x));
		obs_disrupted(cmd, cd);
		nap_info("nodeclaim %s: disrupting (%s)", cd->nodeclaim,
		    nap_disrupt_reason_name(cmd->reason));
		if (c)
			obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Normal",
			    "DisruptionTerminating", "Disrupting NodeClaim: %s",
			    nap_disrupt_reason_name(cmd->reason));
	}
	rec = nap_disrupt_command_json(r, cmd);
	nap_emit(rec);
	json_object_put(rec);
	x->ncommands++;
	obs_command(cmd);
}

/* Carry out one command: replacement first, or delete its NodeClaims. */
static void
execute(struct ctx *x, const struct nap_disrupt_result *r, const struct nap_disrupt_command *cmd)
{
	int rc = replace_command(x, r, cmd);
	size_t j;

	if (rc == 0)
		act(x, r, cmd);
	for (j = 0; rc == 2 && j < cmd->ncands; j++)
		queue_add(x, cmd->cands[j].nodeclaim, now_ms(x));
}

static int
validated(const struct nap_disrupt_command *cmd)
{
	return !cmd->forceful &&
	    (cmd->reason == NAP_DISRUPT_EMPTY || cmd->reason == NAP_DISRUPT_UNDERUTILIZED);
}

static void
pending_clear(struct ctx *x)
{
	size_t i, j;

	for (i = 0; i < x->npend; i++) {
		struct nap_disrupt_command *c = &x->pend[i];

		for (j = 0; j < c->ncands; j++)
			free(c->cands[j].nodeclaim);
		for (j = 0; j < c->nlaunch; j++)
			json_object_put(c->launch[j]);
		free(c->cands);
		free(c->launch);
		free(c->nodepool);
	}
	free(x->pend);
	x->pend = NULL;
	x->npend = 0;
	x->pend_due_ms = 0;
}

/*
 * Keep what validation reads of cmd (lib/disrupt.h, opts.validate): its
 * reason, pool, candidates' names and launch records (referenced).  The
 * candidates' other strings are "", never NULL.
 */
static void
pending_add(struct ctx *x, const struct nap_disrupt_command *cmd)
{
	static char none[] = "";
	struct nap_disrupt_command *c;
	size_t j;

	x->pend = nap_xrealloc(x->pend, (x->npend + 1) * sizeof(*x->pend));
	c = &x->pend[x->npend++];
	*c = *cmd;
	c->nodepool = nap_xstrdup(cmd->nodepool);
	c->cands = nap_xcalloc(cmd->ncands ? cmd->ncands : 1, sizeof(*c->cands));
	for (j = 0; j < cmd->ncands; j++) {
		c->cands[j] = cmd->cands[j];
		c->cands[j].nodeclaim = nap_xstrdup(cmd->cands[j].nodeclaim);
		c->cands[j].node = c->cands[j].provider_id = c->cands[j].instance_type = none;
		c->cands[j].zone = c->cands[j].capacity_type = c->cands[j].drift_reason = none;
	}
	c->launch = cmd->nlaunch ? nap_xcalloc(cmd->nlaunch, sizeof(*c->launch)) : NULL;
	for (j = 0; j < cmd->nlaunch; j++)
		c->launch[j] = json_object_get(cmd->launch[j]);
}

static int
has_cand(const struct nap_disrupt_command *cmd, const char *nodeclaim)
{
	size_t i;

	for (i = 0; i < cmd->ncands; i++)
		if (strcmp(cmd->cands[i].nodeclaim, nodeclaim) == 0)
			return 1;
	return 0;
}

/* A validation that failed: a message, and ConsolidationRejected on each candidate's Node. */
static void
reject(struct ctx *x, const struct nap_disrupt_command *p, const char *why)
{
	size_t i;

	nap_info("%s command on nodepool %s dropped after validation: %s",
	    nap_disrupt_reason_name(p->reason), p->nodepool, why);
	for (i = 0; i < p->ncands; i++) {
		const struct nap_nodeclaim *c = nap_cluster_nodeclaim(x->cl, p->cands[i].nodeclaim);
		const struct nap_node *n = c ? nap_cluster_node_of(x->cl, c) : NULL;

		if (n)
			obs_event(x, "Node", "v1", &n->meta, "Normal", "ConsolidationRejected",
			    "%s disruption rejected after validation: %s",
			    nap_disrupt_reason_name(p->reason), why);
	}
}

/*
 * The validation delay is over: each waiting command is checked again by
 * the planner (opts.validate) on the cluster as it is now, and carried out
 * as that check gives it back (fresh LaunchRequests; Empty without the
 * nodes no longer empty), or dropped with the reason it gives.
 */
static void
validate(struct ctx *x)
{
	struct nap_disrupt_result r;
	size_t i, k;

	for (i = 0; i < x->npend; i++) {
		const struct nap_disrupt_command *p = &x->pend[i];

		if (plan(x, &r, p) < 0)
			continue;
		if (r.ncmds != 1) {
			reject(x, p, r.invalid ? r.invalid : "the planner gave no command back");
			nap_disrupt_result_free(&r);
			continue;
		}
		for (k = 0; k < p->ncands; k++)
			if (!has_cand(&r.cmds[0], p->cands[k].nodeclaim))
				nap_info(
				    "%s: nodeclaim %s dropped after validation: no longer empty "
				    "or within budget",
				    nap_disrupt_reason_name(p->reason), p->cands[k].nodeclaim);
		execute(x, &r, &r.cmds[0]);
		nap_disrupt_result_free(&r);
	}
	pending_clear(x);
}

void
plan_pass(struct ctx *x)
{
	struct nap_disrupt_result r;
	struct timespec t0, t1;
	int64_t now;
	size_t i;
	int due;

	queue_prune(x, now_ms(x));
	replace_pass(x);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (plan(x, &r, NULL) < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	obs_plan(x, &r, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	now = now_ms(x);
	due = x->npend > 0 && now >= x->pend_due_ms;
	for (i = 0; i < r.ncmds; i++)
		if (!validated(&r.cmds[i]))
			execute(x, &r, &r.cmds[i]);
	if (due) {
		validate(x);
	} else if (x->npend == 0) {
		for (i = 0; i < r.ncmds; i++)
			if (validated(&r.cmds[i]))
				pending_add(x, &r.cmds[i]);
		x->pend_due_ms = now + scaled(x, VALIDATION_MS);
		for (i = 0; i < x->npend; i++)
			nap_info("%s command on nodepool %s planned: validating in %ds (%zu "
				 "nodeclaims, first %s)",
			    nap_disrupt_reason_name(x->pend[i].reason), x->pend[i].nodepool,
			    VALIDATION_MS / 1000, x->pend[i].ncands, x->pend[i].cands[0].nodeclaim);
	}
	blocked_events(x, &r);
	nap_disrupt_result_free(&r);
}

void
plan_dry_run(struct ctx *x)
{
	struct nap_disrupt_result r;
	json_object *rec;
	size_t i;

	if (plan(x, &r, NULL) < 0) {
		x->fatal = NAP_EX_DATAERR;
		return;
	}
	for (i = 0; i < r.ncmds; i++) {
		rec = nap_disrupt_command_json(&r, &r.cmds[i]);
		nap_emit(rec);
		json_object_put(rec);
	}
	for (i = 0; i < r.nverdicts; i++) {
		rec = nap_disrupt_verdict_json(&r, &r.verdicts[i]);
		nap_emit(rec);
		json_object_put(rec);
	}
	if (r.nverdicts > 0) { /* no node, no fleet: empty input stays empty output */
		rec = nap_disrupt_summary_json(&r);
		nap_emit(rec);
		json_object_put(rec);
	}
	nap_disrupt_result_free(&r);
}

void
plan_free(struct ctx *x)
{
	size_t i;

	size_t pos = 0;
	const char *k;
	void *v;

	for (i = 0; i < x->nqueued; i++)
		free(x->queued[i]);
	free(x->queued);
	free(x->queued_at);
	while (nap_hash_next(&x->nominated, &pos, &k, &v))
		free(v);
	nap_hash_free(&x->nominated);
	pending_clear(x);
	free(x->single_next);
}
