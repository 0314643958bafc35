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
 * --time-scale), then the planner runs again on the cluster as it is then,
 * and the command goes ahead only as that pass confirms it.  Emptiness
 * keeps Karpenter's rule: the candidates the new pass still deletes as
 * empty go, the others are dropped one by one.  A consolidation goes ahead
 * only whole: the new pass must consolidate the very same NodeClaims, with
 * as many replacements, and replacements no dearer than planned; it is then
 * carried out as the new pass has it (its LaunchRequests are the fresher).
 * Otherwise it is dropped, with a message and a ConsolidationRejected
 * event on each candidate's Node naming why, and the next pass plans
 * afresh.  Expired and Drifted commands do not wait (Karpenter's drift has
 * no validation delay).
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
/* Prices compared after a re-plan: a float's noise is not "dearer". */
#define PRICE_EPSILON 1e-9
/* karpenter.md 8.3: a nomination holds for 2 x BATCH_MAX_DURATION (10 s). */
#define NOMINATION_MS 20000

/* Drop queued names the model shows deleting or gone, or that waited too long. */
static void
queue_prune(struct ctx *x, int64_t now)
{
	size_t i, j = 0;

	for (i = 0; i < x->nqueued; i++) {
		const struct nap_nodeclaim *c = nap_cluster_nodeclaim(x->cl, x->queued[i]);

		if (c && !c->meta.deleted && x->queued_at[i] + QUEUE_KEEP_MS > now) {
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

static int
plan(struct ctx *x, struct nap_disrupt_result *r)
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
	o.bound = x->dry_run; /* the whole-pod bound costs a solve: the dry run's summary */
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
	memset(r, 0, sizeof(*r));
	if (nap_disrupt_plan(x->cl, &o, r, &err) < 0) {
		nap_warn("plan: %s", err.msg);
		rc = -1;
	} else if (r->consolidated) {
		x->consolidated_gen = o.generation;
		x->consolidated_ms = o.now_ms;
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

/* The replacements' worst-case $/h as the planner priced them, < 0 when there are none. */
static double
replacement_price(const struct nap_disrupt_command *cmd)
{
	return cmd->replacements > 0 && cmd->nlaunch > 0 ? cmd->price_after : -1;
}

static void
pending_clear(struct ctx *x)
{
	size_t i, j;

	for (i = 0; i < x->npend; i++) {
		for (j = 0; j < x->pend[i].ncands; j++)
			free(x->pend[i].cands[j]);
		free(x->pend[i].cands);
		free(x->pend[i].nodepool);
	}
	free(x->pend);
	x->pend = NULL;
	x->npend = 0;
	x->pend_due_ms = 0;
}

static void
pending_add(struct ctx *x, const struct nap_disrupt_command *cmd)
{
	struct pending *p;
	size_t j;

	x->pend = nap_xrealloc(x->pend, (x->npend + 1) * sizeof(*x->pend));
	p = &x->pend[x->npend++];
	p->reason = cmd->reason;
	p->nodepool = nap_xstrdup(cmd->nodepool);
	p->ncands = cmd->ncands;
	p->cands = nap_xcalloc(cmd->ncands ? cmd->ncands : 1, sizeof(*p->cands));
	for (j = 0; j < cmd->ncands; j++)
		p->cands[j] = nap_xstrdup(cmd->cands[j].nodeclaim);
	p->replacements = cmd->replacements;
	p->price = replacement_price(cmd);
}

static const struct nap_disrupt_verdict *
verdict_of(const struct nap_disrupt_result *r, const char *nodeclaim)
{
	size_t i;

	for (i = 0; i < r->nverdicts; i++)
		if (strcmp(r->verdicts[i].nodeclaim, nodeclaim) == 0)
			return &r->verdicts[i];
	return NULL;
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

/* Why nodeclaim is not in the new pass's command: its verdict, for a person. */
static void
why_not(const struct nap_disrupt_result *r, const char *nodeclaim, char *buf, size_t len)
{
	const struct nap_disrupt_verdict *v = verdict_of(r, nodeclaim);

	if (v == NULL)
		snprintf(buf, len, "nodeclaim %s is gone", nodeclaim);
	else if (v->why == NAP_WHY_DISRUPTED)
		snprintf(buf, len, "nodeclaim %s is now in another command (%s)", nodeclaim,
		    nap_disrupt_reason_name(v->reason));
	else if (v->why == NAP_WHY_CANDIDATE)
		snprintf(buf, len, "nodeclaim %s is no longer chosen", nodeclaim);
	else
		snprintf(buf, len, "nodeclaim %s: %s%s%s", nodeclaim, nap_disrupt_why_name(v->why),
		    v->detail[0] ? ": " : "", v->detail);
}

/* A validation that failed: a message, and ConsolidationRejected on each candidate's Node. */
static void
reject(struct ctx *x, const struct pending *p, const char *why)
{
	size_t i;

	nap_info("%s command on nodepool %s dropped after validation: %s",
	    nap_disrupt_reason_name(p->reason), p->nodepool, why);
	for (i = 0; i < p->ncands; i++) {
		const struct nap_nodeclaim *c = nap_cluster_nodeclaim(x->cl, p->cands[i]);
		const struct nap_node *n = c ? nap_cluster_node_of(x->cl, c) : NULL;

		if (n)
			obs_event(x, "Node", "v1", &n->meta, "Normal", "ConsolidationRejected",
			    "%s disruption rejected after validation: %s",
			    nap_disrupt_reason_name(p->reason), why);
	}
}

/*
 * The command of r confirming p, or NULL with why: for emptiness a command
 * in *sub holding the candidates still deleted (its cands the caller frees),
 * for a consolidation the new pass's own.
 */
static const struct nap_disrupt_command *
confirm(const struct nap_disrupt_result *r, const struct pending *p,
    struct nap_disrupt_command *sub, char *why, size_t len)
{
	const struct nap_disrupt_command *cmd = NULL;
	size_t i;
	double price;

	for (i = 0; i < r->ncmds && cmd == NULL; i++)
		if (validated(&r->cmds[i]) && r->cmds[i].reason == p->reason &&
		    strcmp(r->cmds[i].nodepool, p->nodepool) == 0)
			cmd = &r->cmds[i];
	if (p->reason == NAP_DISRUPT_EMPTY) {
		*sub = cmd ? *cmd : (struct nap_disrupt_command){0};
		sub->cands = nap_xcalloc(p->ncands, sizeof(*sub->cands));
		sub->ncands = 0;
		sub->savings = 0;
		sub->savings_known = 1;
		for (i = 0; cmd && i < cmd->ncands; i++) {
			size_t k;

			for (k = 0; k < p->ncands; k++)
				if (strcmp(cmd->cands[i].nodeclaim, p->cands[k]) == 0)
					break;
			if (k == p->ncands)
				continue;
			sub->cands[sub->ncands++] = cmd->cands[i];
			if (cmd->cands[i].price >= 0)
				sub->savings += cmd->cands[i].price;
			else
				sub->savings_known = 0;
		}
		if (sub->ncands == 0) {
			free(sub->cands);
			sub->cands = NULL;
			why_not(r, p->cands[0], why, len);
			return NULL;
		}
		return sub;
	}
	if (cmd == NULL) {
		why_not(r, p->cands[0], why, len);
		return NULL;
	}
	for (i = 0; i < p->ncands; i++)
		if (!has_cand(cmd, p->cands[i])) {
			why_not(r, p->cands[i], why, len);
			return NULL;
		}
	if (cmd->ncands != p->ncands) {
		snprintf(why, len, "the plan now consolidates %zu nodes, not %zu", cmd->ncands,
		    p->ncands);
		return NULL;
	}
	if (cmd->replacements != p->replacements) {
		snprintf(why, len, "it now needs %zu replacements, not %zu", cmd->replacements,
		    p->replacements);
		return NULL;
	}
	price = replacement_price(cmd);
	if (p->replacements > 0 && p->price >= 0 &&
	    (price < 0 || price > p->price + PRICE_EPSILON)) {
		if (price < 0)
			snprintf(why, len, "the replacement's price is now unknown (was $%.4f/h)",
			    p->price);
		else
			snprintf(why, len, "the replacement now costs $%.4f/h, more than $%.4f/h",
			    price, p->price);
		return NULL;
	}
	return cmd;
}

/* The validation delay is over: carry out what the new pass confirms, drop the rest. */
static void
validate(struct ctx *x, const struct nap_disrupt_result *r)
{
	struct nap_disrupt_command sub;
	const struct nap_disrupt_command *cmd;
	char why[512];
	size_t i, k;

	for (i = 0; i < x->npend; i++) {
		const struct pending *p = &x->pend[i];

		memset(&sub, 0, sizeof(sub));
		cmd = confirm(r, p, &sub, why, sizeof(why));
		if (cmd == NULL) {
			reject(x, p, why);
			continue;
		}
		if (p->reason == NAP_DISRUPT_EMPTY)
			for (k = 0; k < p->ncands; k++)
				if (!has_cand(cmd, p->cands[k])) {
					why_not(r, p->cands[k], why, sizeof(why));
					nap_info("Empty: nodeclaim %s dropped after validation: %s",
					    p->cands[k], why);
				}
		execute(x, r, cmd);
		free(sub.cands);
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
	if (plan(x, &r) < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	obs_plan(x, &r, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	now = now_ms(x);
	due = x->npend > 0 && now >= x->pend_due_ms;
	for (i = 0; i < r.ncmds; i++)
		if (!validated(&r.cmds[i]))
			execute(x, &r, &r.cmds[i]);
	if (due) {
		validate(x, &r);
	} else if (x->npend == 0) {
		for (i = 0; i < r.ncmds; i++)
			if (validated(&r.cmds[i]))
				pending_add(x, &r.cmds[i]);
		x->pend_due_ms = now + scaled(x, VALIDATION_MS);
		for (i = 0; i < x->npend; i++)
			nap_info("%s command on nodepool %s planned: validating in %ds (%zu "
				 "nodeclaims, first %s)",
			    nap_disrupt_reason_name(x->pend[i].reason), x->pend[i].nodepool,
			    VALIDATION_MS / 1000, x->pend[i].ncands, x->pend[i].cands[0]);
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

	if (plan(x, &r) < 0) {
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
}
