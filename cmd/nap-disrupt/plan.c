/*
 * plan.c - the disruption loop: after SYNCED and then every --interval, the
 * planner (lib/disrupt, a pure function of the model and the time) says
 * which NodeClaims to remove; each is deleted (gracefully: its finalizer
 * then makes term.c drain it), and a Disruption record per command goes
 * downstream.  --dry-run prints the same plan instead: the Disruption
 * records, then one DisruptionVerdict per node.
 *
 * A NodeClaim deleted here stays in the planner's queue until the model
 * shows its deletion, so a pass that runs before the watch catches up does
 * not pick it (or spend budget on it) twice.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "prog.h"
#include "tool.h"

#define QUEUE_KEEP_MS 60000
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
	size_t nnom;
	int rc = 0;

	memset(&o, 0, sizeof(o));
	o.now_ms = now_ms(x);
	/*
	 * Consolidation's replacements are to be launched from cmd->launch
	 * (lib/disrupt.h) by the orchestration, which does not read them yet:
	 * until it does, the live loop leaves consolidation to --dry-run.
	 */
	o.methods = x->dry_run ? NAP_DISRUPT_M_ALL
			       : NAP_DISRUPT_M_ALL & ~(NAP_DISRUPT_M_MULTI | NAP_DISRUPT_M_SINGLE);
	o.catalog = x->cat;
	o.bound = x->dry_run; /* the whole-pod bound costs a solve: the dry run's summary */
	o.queued = (const char *const *)x->queued;
	o.nqueued = x->nqueued;
	nom = nominated_now(x, o.now_ms, &nnom);
	{
		/* and the replacements in flight (replace.c) */
		size_t nrep, k;
		const char **rep = replace_nominated(x, &nrep);

		nom = nap_xrealloc(nom, (nnom + nrep + 1) * sizeof(*nom));
		for (k = 0; k < nrep; k++)
			nom[nnom++] = rep[k];
		free(rep);
	}
	o.nominated = nom;
	o.nnominated = nnom;
	memset(r, 0, sizeof(*r));
	if (nap_disrupt_plan(x->cl, &o, r, &err) < 0) {
		nap_warn("plan: %s", err.msg);
		rc = -1;
	}
	free(nom);
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

void
plan_pass(struct ctx *x)
{
	struct nap_disrupt_result r;
	struct timespec t0, t1;
	size_t i;

	queue_prune(x, now_ms(x));
	replace_pass(x);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (plan(x, &r) < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	obs_plan(x, &r, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (i = 0; i < r.ncmds; i++) {
		int rc = replace_command(x, &r, &r.cmds[i]);
		size_t j;

		if (rc == 0)
			act(x, &r, &r.cmds[i]);
		for (j = 0; rc == 2 && j < r.cmds[i].ncands; j++)
			queue_add(x, r.cmds[i].cands[j].nodeclaim, now_ms(x));
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
}
