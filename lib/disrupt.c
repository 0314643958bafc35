/*
 * disrupt.c - the disruption planner (see disrupt.h): candidates, budgets,
 * expiration and emptiness over a cluster model, without I/O or clock.
 *
 * One pass over the NodeClaims fills a working row per claim (its Node,
 * NodePool, pods' verdicts), one pass over the pools fills the budgets,
 * then the methods pick from the rows.  Pods are reached through the
 * model's pods-by-node index and PDBs through a by-namespace sort, so a
 * plan is O(pods x PDBs-per-namespace + n log n).
 */
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "clock.h"
#include "cron.h"
#include "disrupt.h"
#include "disrupt-int.h"
#include "hash.h"
#include "wellknown.h"

static const char *const reason_names[NAP_DISRUPT_NREASONS] = {
    "Empty",
    "Drifted",
    "Underutilized",
    "Expired",
};

static const char *const why_names[NAP_WHY_N] = {
    "Disrupted",
    "Candidate",
    "NotManaged",
    "NoNodePool",
    "NodePoolNotFound",
    "StaticNodePool",
    "NoNodeClaim",
    "NotRegistered",
    "NotInitialized",
    "Deleting",
    "InFlight",
    "Nominated",
    "NodeDoNotDisrupt",
    "PodDoNotDisrupt",
    "PDBBlocks",
    "MultiplePDBs",
    "ConsolidateAfterNever",
    "NotConsolidatable",
    "NotEmpty",
    "DriftOneAtATime",
    "Budget",
    "Unconsolidatable",
    "WouldNotFit",
    "NotCheaper",
    "SpotToSpot",
    "Consolidated",
};

const char *
nap_disrupt_reason_name(enum nap_disrupt_reason r)
{
	return (unsigned)r < NAP_DISRUPT_NREASONS ? reason_names[r] : "Unknown";
}

unsigned
nap_disrupt_reason_bit(enum nap_disrupt_reason r)
{
	switch (r) {
	case NAP_DISRUPT_EMPTY:
		return NAP_REASON_EMPTY;
	case NAP_DISRUPT_DRIFTED:
		return NAP_REASON_DRIFTED;
	case NAP_DISRUPT_UNDERUTILIZED:
		return NAP_REASON_UNDERUTILIZED;
	default:
		return 0;
	}
}

const char *
nap_disrupt_why_name(enum nap_disrupt_why w)
{
	return (unsigned)w < NAP_WHY_N ? why_names[w] : "Unknown";
}

void
disrupt_next_at(struct plan *pl, int64_t ms)
{
	if (ms > pl->now && (pl->r->next_ms == 0 || ms < pl->r->next_ms))
		pl->r->next_ms = ms;
}

/* "3m10s", "2h0m", "45s": a duration for a person, rounded up to seconds. */
void
disrupt_human_ms(int64_t ms, char *buf, size_t n)
{
	int64_t s = (ms + 999) / 1000;

	if (s >= 3600)
		snprintf(buf, n, "%lldh%lldm%llds", (long long)(s / 3600),
		    (long long)(s % 3600 / 60), (long long)(s % 60));
	else if (s >= 60)
		snprintf(buf, n, "%lldm%llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(buf, n, "%llds", (long long)s);
}

static int
cmp_pdb_ns(const void *a, const void *b)
{
	const struct nap_pdb *x = *(const struct nap_pdb *const *)a;
	const struct nap_pdb *y = *(const struct nap_pdb *const *)b;
	int d = strcmp(x->meta.ns, y->meta.ns);

	return d ? d : strcmp(x->meta.name, y->meta.name);
}

static int
cmp_pool(const void *a, const void *b)
{
	return strcmp(
	    ((const struct pool *)a)->np->meta.name, ((const struct pool *)b)->np->meta.name);
}

static struct pool *
find_pool(struct plan *pl, const char *name)
{
	size_t lo = 0, hi = pl->npools;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(name, pl->pools[mid].np->meta.name);

		if (d == 0)
			return &pl->pools[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/*
 * "<map address in hex>\t<ns>" (snprintf would be most of a plan's time);
 * -1 when it does not fit, and the pod is then not cached.
 */
static int
cache_key(char *buf, size_t n, const void *map, const char *ns)
{
	uintptr_t a = (uintptr_t)map;
	size_t i, len = strlen(ns);

	if (2 * sizeof(a) + 2 + len > n)
		return -1;
	for (i = 0; i < 2 * sizeof(a); i++)
		buf[i] = "0123456789abcdef"[(a >> (4 * (2 * sizeof(a) - 1 - i))) & 0xf];
	buf[i++] = '\t';
	memcpy(buf + i, ns, len + 1);
	return 0;
}

/*
 * The PDBs selecting pod p: the first and how many.  Pods with equal labels
 * share one label map in the model (nap_cluster_keep_pod_json 0), so the
 * answer is cached per map and namespace; opts.no_cache turns that off.
 */
static struct pdb_hit
pdbs_of(struct plan *pl, const struct nap_pod *p)
{
	const struct span *sp = nap_hash_get(&pl->pdb_ns, p->meta.ns);
	struct pdb_hit h = {NULL, 0}, **slot = NULL;
	char key[512];
	size_t j;
	int added;

	if (sp == NULL)
		return h;
	if (!pl->o->no_cache && p->meta.labels != NULL &&
	    cache_key(key, sizeof(key), p->meta.labels, p->meta.ns) == 0) {
		slot = (struct pdb_hit **)nap_hash_slot(&pl->pdb_cache, key, &added);
		if (!added)
			return **slot;
		*slot = nap_xcalloc(1, sizeof(**slot));
	}
	for (j = sp->start; j < sp->start + sp->n; j++)
		if (nap_pdb_selects(pl->pdbs[j], p) && h.n++ == 0)
			h.first = pl->pdbs[j];
	if (slot)
		**slot = h;
	return h;
}

void
disrupt_verdict(
    struct nap_disrupt_verdict *v, enum nap_disrupt_why why, int64_t until, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	v->why = why;
	v->until_ms = until;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(v->detail);
	v->detail = nap_xstrdup(buf);
}

/* ---- budgets ---- */

static int
has_taint(const struct nap_node *n, const char *key)
{
	size_t i;

	for (i = 0; n && i < n->ntaints; i++)
		if (strcmp(n->taints[i].key, key) == 0)
			return 1;
	return 0;
}

/*
 * Fill one pool's allowed/available per reason from its budgets, counting
 * window changes toward next_ms.
 */
static void
pool_budgets(struct plan *pl, struct pool *p)
{
	struct nap_disrupt_budget *b = p->b;
	size_t i;
	int k;

	for (k = 0; k < NAP_DISRUPT_NBUDGET_REASONS; k++)
		b->allowed[k] = INT64_MAX;
	b->bad_budget = -1;
	for (i = 0; i < p->np->nbudgets; i++) {
		const struct nap_budget *bu = &p->np->budgets[i];
		int64_t val;

		if (bu->schedule != NULL) {
			struct nap_cron cron;
			struct nap_err err;
			int64_t until = 0;

			if (nap_cron_parse(&cron, bu->schedule, &err) != 0) {
				/* An invalid budget fails closed. */
				if (b->bad_budget < 0) {
					b->bad_budget = (int)i;
					free(b->bad_detail);
					b->bad_detail = nap_xasprintf(
					    "disruption.budgets[%zu]: schedule: %s", i, err.msg);
				}
				val = 0;
				goto apply;
			}
			if (!nap_cron_active(&cron, pl->now, bu->duration, &until)) {
				disrupt_next_at(pl, until);
				continue;
			}
			disrupt_next_at(pl, until);
		}
		val = bu->percent ? (b->total * bu->nodes + 99) / 100 : bu->nodes;
	apply:
		for (k = 0; k < NAP_DISRUPT_NBUDGET_REASONS; k++)
			if ((bu->reasons == 0 ||
				(bu->reasons &
				    nap_disrupt_reason_bit((enum nap_disrupt_reason)k))) &&
			    val < b->allowed[k])
				b->allowed[k] = val;
	}
	for (k = 0; k < NAP_DISRUPT_NBUDGET_REASONS; k++)
		b->available[k] = b->allowed[k] == INT64_MAX ? INT64_MAX
		    : b->allowed[k] > b->disrupting	     ? b->allowed[k] - b->disrupting
							     : 0;
}

/* ---- prices ---- */

static double
offering_price(const struct plan *pl, const char *type, const char *zone, const char *ct)
{
	const struct nap_itype *it;
	size_t i;

	if (pl->o->catalog == NULL || type == NULL)
		return -1;
	it = nap_catalog_find(pl->o->catalog, type);
	if (it == NULL)
		return -1;
	if (ct == NULL)
		ct = "on-demand";
	for (i = 0; i < it->noff; i++) {
		const struct nap_offering *of = &it->off[i];

		if (strcmp(of->capacity_type, ct) != 0)
			continue;
		/* A regional offering stands for any zone. */
		if (zone == NULL || of->zone == 0 || strcmp(of->zone_label, zone) == 0)
			return of->price;
	}
	return -1;
}

const char *
disrupt_label(const struct row *w, const char *key)
{
	const char *v = w->node ? nap_meta_label(&w->node->meta, key) : NULL;

	return v ? v : nap_meta_label(&w->claim->meta, key);
}

/* ---- candidates ---- */

int
disrupt_pod_reschedulable(const struct nap_pod *p)
{
	return !nap_pod_is_terminal(p) &&
	    (p->meta.deleted == 0 || p->owner == NAP_OWNER_STATEFULSET) &&
	    !nap_pod_is_daemon_or_static(p);
}

/*
 * The pod checks of §4.2 over the node's pods; fills empty, pods and cost
 * on v.  Returns the failing verdict (filled), or NAP_WHY_CANDIDATE.
 */
static enum nap_disrupt_why
pods_check(struct plan *pl, struct row *w, double lifetime)
{
	struct nap_disrupt_verdict *v = w->v;
	struct nap_pod *const *pods;
	const struct nap_pod *dnd = NULL, *pdb_pod = NULL;
	const struct nap_pdb *pdb = NULL;
	int64_t dnd_until = 0, now_s = pl->now / 1000;
	int dnd_forever = 0, multi = 0;
	double cost = 0;
	size_t i, n;

	pods = nap_cluster_pods_on_node(pl->c, w->node->meta.name, &n);
	v->empty = 1;
	for (i = 0; i < n; i++) {
		const struct nap_pod *p = pods[i];
		int terminating = p->meta.deleted != 0;

		if (nap_pod_is_terminal(p))
			continue;
		cost += nap_pod_eviction_cost(p);
		if (disrupt_pod_reschedulable(p)) {
			v->pods++;
			if (nap_pod_eviction_cost(p) > 0)
				v->empty = 0;
		}
		if (terminating)
			continue;
		if (nap_pod_do_not_disrupt(p, now_s)) {
			int64_t ms;

			/* The pod named is the one that holds longest. */
			if (strcmp(p->do_not_disrupt, "true") == 0 ||
			    nap_model_duration(p->do_not_disrupt, &ms, NULL) != 0 ||
			    p->started == 0) {
				if (!dnd_forever)
					dnd = p;
				dnd_forever = 1;
			} else if (!dnd_forever && p->started * 1000 + ms > dnd_until) {
				dnd = p;
				dnd_until = p->started * 1000 + ms;
			}
		}
		/*
		 * PDBs: a drain evicts DaemonSet pods too, but never mirror
		 * or static pods, so their PDBs cannot block it.
		 */
		if (pdb_pod == NULL && !p->mirror && p->owner != NAP_OWNER_NODE) {
			struct pdb_hit h = pdbs_of(pl, p);
			const struct nap_pdb *hit = h.first;
			size_t nhit = h.n;

			if (nhit > 1) {
				pdb_pod = p;
				multi = 1;
			} else if (nhit == 1 && hit->disruptions_allowed <= 0 &&
			    !(hit->always_allow && !p->ready)) {
				pdb_pod = p;
				pdb = hit;
			}
		}
	}
	v->disruption_cost = cost * lifetime;
	if (dnd != NULL) {
		if (dnd_forever) {
			disrupt_verdict(v, NAP_WHY_POD_DO_NOT_DISRUPT, 0,
			    "pod %s/%s has karpenter.sh/do-not-disrupt=%s", dnd->meta.ns,
			    dnd->meta.name, dnd->do_not_disrupt);
		} else {
			char left[32];

			disrupt_human_ms(dnd_until - pl->now, left, sizeof(left));
			disrupt_verdict(v, NAP_WHY_POD_DO_NOT_DISRUPT, dnd_until,
			    "pod %s/%s has karpenter.sh/do-not-disrupt=%s (%s left)", dnd->meta.ns,
			    dnd->meta.name, dnd->do_not_disrupt, left);
			disrupt_next_at(pl, dnd_until);
		}
		return v->why;
	}
	if (multi) {
		disrupt_verdict(v, NAP_WHY_MULTIPLE_PDBS, 0,
		    "pod %s/%s is covered by more than one PodDisruptionBudget", pdb_pod->meta.ns,
		    pdb_pod->meta.name);
		return v->why;
	}
	if (pdb != NULL) {
		disrupt_verdict(v, NAP_WHY_PDB_BLOCKS, 0, "pdb %s/%s allows 0 disruptions (pod %s/%s)",
		    pdb->meta.ns, pdb->meta.name, pdb_pod->meta.ns, pdb_pod->meta.name);
		return v->why;
	}
	return NAP_WHY_CANDIDATE;
}

/* Lifetime remaining (§4.3): 1 for claims that never expire. */
static double
lifetime(const struct plan *pl, const struct nap_nodeclaim *cl)
{
	double age, l;

	if (cl->expire_after == NAP_NEVER || cl->expire_after <= 0 || cl->meta.created == 0)
		return 1.0;
	age = (double)(pl->now - cl->meta.created * 1000);
	l = ((double)cl->expire_after - age) / (double)cl->expire_after;
	return l < 0 ? 0 : l > 1 ? 1 : l;
}

static int
in_flight(const struct plan *pl, const struct row *w)
{
	return nap_hash_get(&pl->queued, w->claim->meta.name) != NULL ||
	    has_taint(w->node, NAP_TAINT_DISRUPTED) ||
	    nap_cond_status(w->claim->conds, w->claim->nconds, "DisruptionReason") == 1;
}

/*
 * The generic candidate checks, in the order of enum nap_disrupt_why; the
 * verdict is left filled when one fails.
 */
static enum nap_disrupt_why
candidate(struct plan *pl, struct row *w)
{
	struct nap_disrupt_verdict *v = w->v;
	const struct nap_nodeclaim *cl = w->claim;
	const struct nap_node *n = w->node;

	if (cl->nodepool == NULL) {
		disrupt_verdict(v, NAP_WHY_NO_NODEPOOL, 0, "nodeclaim %s has no %s label", cl->meta.name,
		    NAP_LABEL_NODEPOOL);
		return v->why;
	}
	if (w->pool == NULL) {
		disrupt_verdict(
		    v, NAP_WHY_NODEPOOL_NOT_FOUND, 0, "nodepool %s does not exist", cl->nodepool);
		return v->why;
	}
	if (w->pool->np->replicas >= 0) {
		disrupt_verdict(v, NAP_WHY_STATIC_POOL, 0, "nodepool %s is static (replicas %lld)",
		    cl->nodepool, (long long)w->pool->np->replicas);
		return v->why;
	}
	if (n == NULL) {
		disrupt_verdict(
		    v, NAP_WHY_NOT_REGISTERED, 0, "nodeclaim %s has no node yet", cl->meta.name);
		return v->why;
	}
	if (!cl->initialized) {
		disrupt_verdict(v, NAP_WHY_NOT_INITIALIZED, 0, "nodeclaim %s is not initialized",
		    cl->meta.name);
		return v->why;
	}
	if (cl->meta.deleted || n->meta.deleted) {
		disrupt_verdict(v, NAP_WHY_DELETING, 0, "%s %s is being deleted",
		    cl->meta.deleted ? "nodeclaim" : "node",
		    cl->meta.deleted ? cl->meta.name : n->meta.name);
		return v->why;
	}
	if (in_flight(pl, w)) {
		disrupt_verdict(v, NAP_WHY_IN_FLIGHT, 0, "nodeclaim %s is already being disrupted",
		    cl->meta.name);
		return v->why;
	}
	{
		const char *pod = nap_hash_get(&pl->nominated, n->meta.name);

		if (pod == NULL)
			pod = nap_hash_get(&pl->nominated, cl->meta.name);
		if (pod != NULL) {
			disrupt_verdict(v, NAP_WHY_NOMINATED, 0, "%s is nominated to node %s", pod,
			    n->meta.name);
			return v->why;
		}
	}
	if ((n->do_not_disrupt && strcmp(n->do_not_disrupt, "true") == 0) ||
	    (cl->do_not_disrupt && strcmp(cl->do_not_disrupt, "true") == 0)) {
		int on_node = n->do_not_disrupt && strcmp(n->do_not_disrupt, "true") == 0;

		disrupt_verdict(v, NAP_WHY_NODE_DO_NOT_DISRUPT, 0, "%s %s has %s=true",
		    on_node ? "node" : "nodeclaim", on_node ? n->meta.name : cl->meta.name,
		    NAP_ANN_DO_NOT_DISRUPT);
		return v->why;
	}
	return pods_check(pl, w, lifetime(pl, cl));
}

int64_t
disrupt_consolidatable_at(const struct nap_nodeclaim *cl, const struct nap_nodepool *np)
{
	const struct nap_cond *init = nap_cond_find(cl->conds, cl->nconds, "Initialized");
	int64_t since = cl->last_pod_event ? cl->last_pod_event
	    : init && init->since	   ? init->since
					   : cl->meta.created;

	return np->consolidate_after == NAP_NEVER ? INT64_MAX
						  : since * 1000 + np->consolidate_after;
}

/* Emptiness's own filters (§4.2) on a candidate. */
static enum nap_disrupt_why
emptiness_check(struct plan *pl, struct row *w)
{
	struct nap_disrupt_verdict *v = w->v;
	const struct nap_nodepool *np = w->pool->np;
	const struct nap_nodeclaim *cl = w->claim;
	int64_t at;

	if (np->consolidate_after == NAP_NEVER) {
		disrupt_verdict(v, NAP_WHY_CONSOLIDATE_NEVER, 0, "nodepool %s has consolidateAfter: Never",
		    np->meta.name);
		return v->why;
	}
	at = disrupt_consolidatable_at(cl, np);
	if (at > pl->now) {
		char after[32], left[32];

		disrupt_human_ms(np->consolidate_after, after, sizeof(after));
		disrupt_human_ms(at - pl->now, left, sizeof(left));
		disrupt_verdict(v, NAP_WHY_NOT_CONSOLIDATABLE, at,
		    "consolidateAfter %s not elapsed since the last pod event (%s left)", after,
		    left);
		disrupt_next_at(pl, at);
		return v->why;
	}
	if (!v->empty) {
		disrupt_verdict(v, NAP_WHY_NOT_EMPTY, 0, "node %s has %zu reschedulable pod%s",
		    w->node->meta.name, v->pods, v->pods == 1 ? "" : "s");
		return v->why;
	}
	return NAP_WHY_CANDIDATE;
}

/* ---- commands ---- */

/* The Drifted condition's reason ("" when none or not drifted). */
const char *
disrupt_drift_reason(const struct row *w)
{
	const struct nap_cond *d = nap_cond_find(w->claim->conds, w->claim->nconds, "Drifted");

	return d && d->status == 1 ? d->reason : "";
}

struct nap_disrupt_command *
disrupt_command_new(struct nap_disrupt_result *r, enum nap_disrupt_reason reason, const char *pool)
{
	struct nap_disrupt_command *cmd;

	r->cmds = nap_xrealloc(r->cmds, (r->ncmds + 1) * sizeof(*r->cmds));
	cmd = &r->cmds[r->ncmds++];
	memset(cmd, 0, sizeof(*cmd));
	cmd->reason = reason;
	cmd->forceful = reason == NAP_DISRUPT_EXPIRED;
	cmd->nodepool = nap_xstrdup(pool);
	cmd->savings_known = 1;
	return cmd;
}

static struct nap_disrupt_command *
command_for(struct nap_disrupt_result *r, enum nap_disrupt_reason reason, const char *pool)
{
	size_t i;

	for (i = 0; i < r->ncmds; i++)
		if (r->cmds[i].reason == reason && strcmp(r->cmds[i].nodepool, pool) == 0)
			return &r->cmds[i];
	return disrupt_command_new(r, reason, pool);
}

void
disrupt_cand_add(struct plan *pl, struct nap_disrupt_command *cmd, struct row *w)
{
	enum nap_disrupt_reason reason = cmd->reason;
	struct nap_disrupt_candidate *cd;
	const char *s;

	cmd->cands = nap_xrealloc(cmd->cands, (cmd->ncands + 1) * sizeof(*cmd->cands));
	cd = &cmd->cands[cmd->ncands++];
	memset(cd, 0, sizeof(*cd));
	cd->nodeclaim = nap_xstrdup(w->claim->meta.name);
	cd->node = nap_xstrdup(w->v->node);
	cd->provider_id = nap_xstrdup(w->claim->provider_id);
	s = disrupt_label(w, NAP_LABEL_INSTANCE_TYPE);
	cd->instance_type = nap_xstrdup(s ? s : "");
	s = disrupt_label(w, NAP_LABEL_ZONE);
	cd->zone = nap_xstrdup(s ? s : "");
	s = disrupt_label(w, NAP_LABEL_CAPACITY_TYPE);
	cd->capacity_type = nap_xstrdup(s ? s : "");
	cd->price = w->v->price;
	cd->disruption_cost = w->v->disruption_cost;
	cd->drift_reason = nap_xstrdup(disrupt_drift_reason(w));
	if (w->node != NULL) {
		struct nap_pod *const *pods;
		size_t i, np;

		pods = nap_cluster_pods_on_node(pl->c, w->node->meta.name, &np);
		for (i = 0; i < np; i++)
			if (disrupt_pod_reschedulable(pods[i]))
				nap_res_add(&cd->requests, &pods[i]->requests);
	}
	if (cd->price >= 0) {
		cmd->savings += cd->price;
		cmd->price_before += cd->price;
	} else {
		cmd->savings_known = 0;
	}
	w->v->why = NAP_WHY_DISRUPTED;
	w->v->reason = reason;
	w->v->until_ms = 0;
	free(w->v->detail);
	if (reason == NAP_DISRUPT_EXPIRED)
		w->v->detail = nap_xasprintf("nodeclaim %s expired (expireAfter)", w->claim->meta.name);
	else if (reason == NAP_DISRUPT_DRIFTED && w->v->empty)
		w->v->detail = nap_xasprintf("nodeclaim %s drifted (%s); node %s is empty",
		    w->claim->meta.name, cd->drift_reason, w->v->node);
	else if (reason == NAP_DISRUPT_DRIFTED)
		w->v->detail = nap_xasprintf(
		    "nodeclaim %s drifted (%s); replaced first (%zu pod%s)", w->claim->meta.name,
		    cd->drift_reason, w->v->pods, w->v->pods == 1 ? "" : "s");
	else
		w->v->detail = nap_xasprintf("node %s is empty", w->v->node);
}

static void
command_add(struct plan *pl, struct row *w, enum nap_disrupt_reason reason)
{
	disrupt_cand_add(pl, command_for(pl->r, reason, w->v->nodepool), w);
}

static int
cmp_rows_cost(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;

	if (x->v->disruption_cost != y->v->disruption_cost)
		return x->v->disruption_cost < y->v->disruption_cost ? -1 : 1;
	return strcmp(x->claim->meta.name, y->claim->meta.name);
}

static int
cmp_rows_name(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return strcmp(x->claim->meta.name, y->claim->meta.name);
}

static int
cmp_cmds(const void *a, const void *b)
{
	const struct nap_disrupt_command *x = a, *y = b;

	/* Expired (forceful) first, then by pool name. */
	if (x->forceful != y->forceful)
		return y->forceful - x->forceful;
	return strcmp(x->nodepool, y->nodepool);
}

/* Budget for reason left in w's pool this plan? Else the verdict says why not. */
int
disrupt_budget_left(struct row *w, enum nap_disrupt_reason k)
{
	struct nap_disrupt_budget *b = w->pool->b;

	if (b->available[k] == INT64_MAX || b->used[k] < b->available[k])
		return 1;
	disrupt_verdict(w->v, NAP_WHY_BUDGET, 0,
	    "nodepool %s: no %s disruption left in budget (allows %lld, %lld disrupting, %lld "
	    "chosen now)",
	    w->pool->np->meta.name, nap_disrupt_reason_name(k), (long long)b->allowed[k],
	    (long long)b->disrupting, (long long)b->used[k]);
	w->v->reason = k;
	return 0;
}

/* Emptiness over the rows that passed the generic checks; 1 when it made a command. */
static int
emptiness(struct plan *pl, struct row **cands, size_t n, int act)
{
	struct row **empty = nap_xcalloc(n ? n : 1, sizeof(*empty));
	size_t i, ne = 0;
	int made = 0;

	for (i = 0; i < n; i++)
		if (emptiness_check(pl, cands[i]) == NAP_WHY_CANDIDATE)
			empty[ne++] = cands[i];
	if (!act)
		ne = 0;
	qsort(empty, ne, sizeof(*empty), cmp_rows_cost);
	for (i = 0; i < ne; i++) {
		struct row *w = empty[i];

		if (!disrupt_budget_left(w, NAP_DISRUPT_EMPTY))
			continue;
		w->pool->b->used[NAP_DISRUPT_EMPTY]++;
		command_add(pl, w, NAP_DISRUPT_EMPTY);
		made = 1;
	}
	free(empty);
	return made;
}

/* Drift order (§4.3): empty first, then the oldest Drifted transition, then the name. */
static int
cmp_rows_drift(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	const struct nap_cond *dx = nap_cond_find(x->claim->conds, x->claim->nconds, "Drifted");
	const struct nap_cond *dy = nap_cond_find(y->claim->conds, y->claim->nconds, "Drifted");
	int64_t tx = dx ? dx->since : 0, ty = dy ? dy->since : 0;

	if (x->v->empty != y->v->empty)
		return y->v->empty - x->v->empty;
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(x->claim->meta.name, y->claim->meta.name);
}

/*
 * Drift over the rows that passed the generic checks (emptiness made no
 * command); 1 when it made one.  Empty drifted nodes all go (budget
 * permitting); else one non-empty node, replaced first.
 */
static int
drift(struct plan *pl, struct row **cands, size_t n)
{
	struct row **d = nap_xcalloc(n ? n : 1, sizeof(*d));
	struct row *chosen = NULL;
	size_t i, nd = 0;
	int made = 0, sim;

	for (i = 0; i < n; i++)
		if (cands[i]->claim->drifted)
			d[nd++] = cands[i];
	qsort(d, nd, sizeof(*d), cmp_rows_drift);
	for (i = 0; i < nd && d[i]->v->empty; i++) {
		if (!disrupt_budget_left(d[i], NAP_DISRUPT_DRIFTED))
			continue;
		d[i]->pool->b->used[NAP_DISRUPT_DRIFTED]++;
		command_add(pl, d[i], NAP_DISRUPT_DRIFTED);
		made = 1;
	}
	for (; i < nd; i++) {
		struct row *w = d[i];

		if (made) {
			disrupt_verdict(w->v, NAP_WHY_DRIFT_ONE_AT_A_TIME, 0,
			    "nodeclaim %s drifted (%s); empty drifted nodes go first",
			    w->claim->meta.name, disrupt_drift_reason(w));
			w->v->reason = NAP_DISRUPT_DRIFTED;
			continue;
		}
		if (!disrupt_budget_left(w, NAP_DISRUPT_DRIFTED))
			continue;
		if (chosen != NULL) {
			disrupt_verdict(w->v, NAP_WHY_DRIFT_ONE_AT_A_TIME, 0,
			    "nodeclaim %s drifted (%s); one non-empty drifted node at a time "
			    "(nodeclaim %s first)",
			    w->claim->meta.name, disrupt_drift_reason(w), chosen->claim->meta.name);
			w->v->reason = NAP_DISRUPT_DRIFTED;
			continue;
		}
		/*
		 * Its own command (no other Drifted one was made): the
		 * simulation says what replaces it; a node whose pods would
		 * not fit is skipped for the next (§5.9).  Without a catalog,
		 * one replacement the caller sizes.
		 */
		sim = disrupt_drift_simulate(pl, w);
		if (sim == 0)
			continue;
		chosen = w;
		w->pool->b->used[NAP_DISRUPT_DRIFTED]++;
		if (sim < 0) {
			command_add(pl, w, NAP_DISRUPT_DRIFTED);
			command_for(pl->r, NAP_DISRUPT_DRIFTED, w->v->nodepool)->replacements = 1;
		}
	}
	free(d);
	return made || chosen != NULL;
}

/* ---- the plan ---- */

static void
setup(struct plan *pl)
{
	struct nap_nodepool *const *nps;
	struct nap_pdb *const *pdbs;
	struct nap_pod *const *pods;
	size_t i, n;

	nps = nap_cluster_nodepools(pl->c, &n);
	pl->pools = nap_xcalloc(n ? n : 1, sizeof(*pl->pools));
	pl->r->budgets = nap_xcalloc(n ? n : 1, sizeof(*pl->r->budgets));
	for (i = 0; i < n; i++)
		pl->pools[i].np = nps[i];
	pl->npools = n;
	qsort(pl->pools, n, sizeof(*pl->pools), cmp_pool);
	for (i = 0; i < n; i++) {
		pl->pools[i].b = &pl->r->budgets[i];
		pl->r->budgets[i].nodepool = nap_xstrdup(pl->pools[i].np->meta.name);
		pl->r->budgets[i].bad_detail = nap_xstrdup("");
	}
	pl->r->nbudgets = n;

	pdbs = nap_cluster_pdbs(pl->c, &n);
	pl->pdbs = nap_xcalloc(n ? n : 1, sizeof(*pl->pdbs));
	if (n > 0)
		memcpy(pl->pdbs, pdbs, n * sizeof(*pdbs));
	pl->npdbs = n;
	qsort(pl->pdbs, n, sizeof(*pl->pdbs), cmp_pdb_ns);
	nap_hash_init(&pl->pdb_ns);
	nap_hash_init(&pl->pdb_cache);
	for (i = 0; i < n; i++) {
		struct span *sp = nap_hash_get(&pl->pdb_ns, pl->pdbs[i]->meta.ns);

		if (sp == NULL) {
			sp = nap_xcalloc(1, sizeof(*sp));
			sp->start = i;
			nap_hash_put(&pl->pdb_ns, pl->pdbs[i]->meta.ns, sp);
		}
		sp->n++;
	}

	nap_hash_init(&pl->nominated);
	nap_hash_init(&pl->queued);
	pods = nap_cluster_pods(pl->c, &n);
	for (i = 0; i < n; i++) {
		const struct nap_pod *p = pods[i];

		if (p->nominated[0] != '\0' && !nap_pod_is_terminal(p) && p->meta.deleted == 0 &&
		    nap_hash_get(&pl->nominated, p->nominated) == NULL)
			nap_hash_put(&pl->nominated, p->nominated,
			    nap_xasprintf("pod %s/%s", p->meta.ns, p->meta.name));
	}
	for (i = 0; i < pl->o->nnominated; i++)
		if (nap_hash_get(&pl->nominated, pl->o->nominated[i]) == NULL)
			nap_hash_put(&pl->nominated, pl->o->nominated[i],
			    nap_xstrdup("a pending pod (Nominated record)"));
	for (i = 0; i < pl->o->nqueued; i++)
		nap_hash_put(&pl->queued, pl->o->queued[i], (void *)1);
}

static void
teardown(struct plan *pl)
{
	size_t pos = 0;
	const char *key;
	void *val;

	while (nap_hash_next(&pl->nominated, &pos, &key, &val))
		free(val);
	nap_hash_free(&pl->nominated);
	nap_hash_free(&pl->queued);
	pos = 0;
	while (nap_hash_next(&pl->pdb_ns, &pos, &key, &val))
		free(val);
	nap_hash_free(&pl->pdb_ns);
	pos = 0;
	while (nap_hash_next(&pl->pdb_cache, &pos, &key, &val))
		free(val);
	nap_hash_free(&pl->pdb_cache);
	free(pl->pools);
	free(pl->pdbs);
}

static int
expired(const struct plan *pl, const struct nap_nodeclaim *cl, int64_t *at)
{
	*at = 0;
	if (cl->meta.created == 0 || cl->expire_after == NAP_NEVER)
		return 0;
	*at = cl->meta.created * 1000 + cl->expire_after;
	return *at <= pl->now;
}

int
nap_disrupt_plan(const struct nap_cluster *c, const struct nap_disrupt_opts *o,
    struct nap_disrupt_result *out, struct nap_err *err)
{
	struct plan pl;
	struct nap_nodeclaim *const *claims;
	struct nap_node *const *nodes;
	struct row *rows, **cands;
	size_t i, n, nn, ncands = 0, nv;
	/* validating one command: no method runs, expiration included */
	unsigned methods = o->validate ? 0 : o->methods ? o->methods : NAP_DISRUPT_M_ALL;

	memset(out, 0, sizeof(*out));
	out->method = -1;
	if (o->now_ms <= 0)
		return nap_err_set(err, NAP_EX_DATAERR, "disruption plan: no time given (now)");
	memset(&pl, 0, sizeof(pl));
	pl.c = c;
	pl.o = o;
	pl.now = o->now_ms;
	pl.r = out;
	out->now_ms = o->now_ms;
	setup(&pl);

	claims = nap_cluster_nodeclaims(c, &n);
	nodes = nap_cluster_nodes(c, &nn);
	rows = nap_xcalloc(n ? n : 1, sizeof(*rows));
	out->verdicts = nap_xcalloc(n + nn ? n + nn : 1, sizeof(*out->verdicts));
	for (i = 0; i < n; i++) {
		rows[i].claim = claims[i];
		rows[i].node = nap_cluster_node_of(c, claims[i]);
		rows[i].pool = claims[i]->nodepool ? find_pool(&pl, claims[i]->nodepool) : NULL;
	}
	qsort(rows, n, sizeof(*rows), cmp_rows_name);
	pl.rows = rows;
	pl.nrows = n;

	/* Verdict skeletons and budget counts. */
	for (i = 0; i < n; i++) {
		struct row *w = &rows[i];
		struct nap_disrupt_verdict *v = &out->verdicts[i];
		const struct nap_nodeclaim *cl = w->claim;
		int64_t at;

		w->v = v;
		v->nodeclaim = nap_xstrdup(cl->meta.name);
		v->node = nap_xstrdup(w->node ? w->node->meta.name : "");
		v->nodepool = nap_xstrdup(cl->nodepool ? cl->nodepool : "");
		v->detail = nap_xstrdup("");
		v->why = NAP_WHY_CANDIDATE;
		v->price = offering_price(&pl, disrupt_label(w, NAP_LABEL_INSTANCE_TYPE),
		    disrupt_label(w, NAP_LABEL_ZONE), disrupt_label(w, NAP_LABEL_CAPACITY_TYPE));
		v->expired = expired(&pl, cl, &at) && cl->meta.deleted == 0;
		if (!v->expired && cl->meta.deleted == 0 && (methods & NAP_DISRUPT_M_EXPIRATION))
			disrupt_next_at(&pl, at);
		if (w->pool != NULL && cl->initialized &&
		    nap_cond_status(cl->conds, cl->nconds, "InstanceTerminating") != 1) {
			w->counted = 1;
			w->pool->b->total++;
			/*
			 * Expiring in this plan counts as deleting: the
			 * graceful methods must not spend budget it uses.
			 */
			w->disrupting = cl->meta.deleted || (w->node && w->node->meta.deleted) ||
			    (w->node && w->node->ready != 1) || in_flight(&pl, w) ||
			    (v->expired && (methods & NAP_DISRUPT_M_EXPIRATION));
			w->pool->b->disrupting += w->disrupting;
		}
	}
	for (i = 0; i < pl.npools; i++)
		pool_budgets(&pl, &pl.pools[i]);

	/* Expiration: forceful, before and apart from the graceful methods. */
	cands = nap_xcalloc(n ? n : 1, sizeof(*cands));
	for (i = 0; i < n; i++) {
		struct row *w = &rows[i];

		if (w->v->expired && (methods & NAP_DISRUPT_M_EXPIRATION)) {
			/* Still compute cost and emptiness for the record. */
			if (w->node)
				(void)candidate(&pl, w);
			command_add(&pl, w, NAP_DISRUPT_EXPIRED);
			continue;
		}
		if (candidate(&pl, w) == NAP_WHY_CANDIDATE)
			cands[ncands++] = w;
	}
	/* the emptiness checks fill every candidate's verdict (consolidation reads them) */
	if (o->validate) {
		(void)emptiness(&pl, cands, ncands, 0);
		if (disrupt_validate(&pl, cands, ncands))
			out->method = (int)o->validate->reason;
	} else if (emptiness(&pl, cands, ncands, (methods & NAP_DISRUPT_M_EMPTINESS) != 0))
		out->method = NAP_DISRUPT_EMPTY;
	else if ((methods & NAP_DISRUPT_M_DRIFT) && drift(&pl, cands, ncands))
		out->method = NAP_DISRUPT_DRIFTED;
	else if ((methods & (NAP_DISRUPT_M_MULTI | NAP_DISRUPT_M_SINGLE)) &&
	    disrupt_consolidate(&pl, cands, ncands, methods))
		out->method = NAP_DISRUPT_UNDERUTILIZED;
	free(cands);

	/* Nodes with no NodeClaim. */
	nv = n;
	for (i = 0; i < nn; i++) {
		const struct nap_node *nd = nodes[i];
		struct nap_disrupt_verdict *v;

		if (nap_cluster_nodeclaim_of(c, nd) != NULL)
			continue;
		v = &out->verdicts[nv++];
		v->nodeclaim = nap_xstrdup("");
		v->node = nap_xstrdup(nd->meta.name);
		v->nodepool = nap_xstrdup(nd->nodepool ? nd->nodepool : "");
		v->price = -1;
		v->detail = NULL;
		if (nd->nodepool == NULL)
			disrupt_verdict(v, NAP_WHY_NOT_MANAGED, 0, "node %s is not managed by nap (no %s)",
			    nd->meta.name, NAP_LABEL_NODEPOOL);
		else
			disrupt_verdict(
			    v, NAP_WHY_NO_NODECLAIM, 0, "node %s has no nodeclaim", nd->meta.name);
	}
	/* Sort the unowned nodes' verdicts by node name. */
	if (nv > n) {
		size_t a, b;

		for (a = n + 1; a < nv; a++)
			for (b = a;
			     b > n && strcmp(out->verdicts[b - 1].node, out->verdicts[b].node) > 0;
			     b--) {
				struct nap_disrupt_verdict t = out->verdicts[b];

				out->verdicts[b] = out->verdicts[b - 1];
				out->verdicts[b - 1] = t;
			}
	}
	out->nverdicts = nv;
	disrupt_fleet(&pl);
	if (out->ncmds > 1)
		qsort(out->cmds, out->ncmds, sizeof(*out->cmds), cmp_cmds);
	free(rows);
	teardown(&pl);
	return 0;
}

void
nap_disrupt_result_free(struct nap_disrupt_result *r)
{
	size_t i, j;

	for (i = 0; i < r->ncmds; i++) {
		struct nap_disrupt_command *cmd = &r->cmds[i];

		for (j = 0; j < cmd->ncands; j++) {
			struct nap_disrupt_candidate *cd = &cmd->cands[j];

			free(cd->nodeclaim);
			free(cd->node);
			free(cd->provider_id);
			free(cd->instance_type);
			free(cd->zone);
			free(cd->capacity_type);
			free(cd->drift_reason);
		}
		free(cmd->cands);
		free(cmd->nodepool);
		for (j = 0; j < cmd->nlaunch; j++)
			json_object_put(cmd->launch[j]);
		free(cmd->launch);
		for (j = 0; j < cmd->nmoves; j++) {
			free(cmd->moves[j].pod);
			free(cmd->moves[j].to);
		}
		free(cmd->moves);
	}
	free(r->cmds);
	for (i = 0; i < r->nverdicts; i++) {
		free(r->verdicts[i].nodeclaim);
		free(r->verdicts[i].node);
		free(r->verdicts[i].nodepool);
		free(r->verdicts[i].detail);
	}
	free(r->verdicts);
	for (i = 0; i < r->nbudgets; i++) {
		free(r->budgets[i].nodepool);
		free(r->budgets[i].bad_detail);
	}
	free(r->budgets);
	free(r->single_next);
	free(r->invalid);
	memset(r, 0, sizeof(*r));
	r->method = -1;
}

/* ---- records ---- */

static json_object *
time_json(int64_t ms)
{
	char buf[NAP_CLOCK_RFC3339_LEN];

	nap_clock_rfc3339(ms, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static json_object *
num_json(double v)
{
	char buf[32];

	/* Rounded to a millionth of a dollar, written without float noise. */
	v = round(v * 1e6) / 1e6;
	snprintf(buf, sizeof(buf), "%.6g", v);
	return json_object_new_double_s(v, buf);
}

static json_object *
count_json(int64_t v)
{
	return v == INT64_MAX ? NULL : json_object_new_int64(v);
}

static const struct nap_disrupt_budget *
budget_of(const struct nap_disrupt_result *r, const char *pool)
{
	size_t i;

	for (i = 0; i < r->nbudgets; i++)
		if (strcmp(r->budgets[i].nodepool, pool) == 0)
			return &r->budgets[i];
	return NULL;
}

/* The fleet's $/h now and after the plan's commands, against the whole-pod bound. */
static json_object *
fleet_json(const struct nap_disrupt_result *r)
{
	json_object *f = json_object_new_object();
	double saved = 0;
	size_t i;

	for (i = 0; i < r->ncmds; i++)
		saved += r->cmds[i].savings;
	json_object_object_add(f, "price", num_json(r->fleet_price));
	json_object_object_add(f, "after", num_json(r->fleet_price - saved));
	json_object_object_add(
	    f, "unknownPrices", json_object_new_int64((int64_t)r->fleet_unknown));
	json_object_object_add(f, "bound", r->bound > 0 ? num_json(r->bound) : NULL);
	json_object_object_add(
	    f, "ratio", r->bound > 0 ? num_json(r->fleet_price / r->bound) : NULL);
	json_object_object_add(f, "ratioAfter",
	    r->bound > 0 ? num_json((r->fleet_price - saved) / r->bound) : NULL);
	return f;
}

json_object *
nap_disrupt_summary_json(const struct nap_disrupt_result *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string("DisruptionSummary"));
	json_object_object_add(o, "commands", json_object_new_int64((int64_t)r->ncmds));
	json_object_object_add(o, "method",
	    r->method >= 0 ? json_object_new_string(
				 nap_disrupt_reason_name((enum nap_disrupt_reason)r->method))
			   : NULL);
	json_object_object_add(o, "consolidated", json_object_new_boolean(r->consolidated));
	json_object_object_add(
	    o, "simulations", json_object_new_int64((int64_t)r->simulations));
	json_object_object_add(o, "fleet", fleet_json(r));
	json_object_object_add(o, "time", time_json(r->now_ms));
	return o;
}

json_object *
nap_disrupt_command_json(const struct nap_disrupt_result *r, const struct nap_disrupt_command *cmd)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	const struct nap_disrupt_budget *b = budget_of(r, cmd->nodepool);
	size_t i;

	json_object_object_add(o, "type", json_object_new_string("Disruption"));
	json_object_object_add(
	    o, "reason", json_object_new_string(nap_disrupt_reason_name(cmd->reason)));
	json_object_object_add(o, "forceful", json_object_new_boolean(cmd->forceful));
	json_object_object_add(o, "nodePool", json_object_new_string(cmd->nodepool));
	for (i = 0; i < cmd->ncands; i++) {
		const struct nap_disrupt_candidate *cd = &cmd->cands[i];
		json_object *c = json_object_new_object();

		json_object_object_add(c, "name", json_object_new_string(cd->nodeclaim));
		json_object_object_add(c, "node", json_object_new_string(cd->node));
		json_object_object_add(c, "providerID", json_object_new_string(cd->provider_id));
		json_object_object_add(
		    c, "instanceType", json_object_new_string(cd->instance_type));
		json_object_object_add(c, "zone", json_object_new_string(cd->zone));
		json_object_object_add(
		    c, "capacityType", json_object_new_string(cd->capacity_type));
		json_object_object_add(c, "price", cd->price >= 0 ? num_json(cd->price) : NULL);
		json_object_array_add(arr, c);
	}
	json_object_object_add(o, "nodeClaims", arr);
	json_object_object_add(
	    o, "replacements", json_object_new_int64((int64_t)cmd->replacements));
	json_object_object_add(o, "savings", cmd->savings_known ? num_json(cmd->savings) : NULL);
	json_object_object_add(
	    o, "priceBefore", cmd->savings_known ? num_json(cmd->price_before) : NULL);
	json_object_object_add(o, "priceAfter", num_json(cmd->price_after));
	if (cmd->nlaunch > 0) {
		json_object *l = json_object_new_array();

		for (i = 0; i < cmd->nlaunch; i++)
			json_object_array_add(l, json_object_get(cmd->launch[i]));
		json_object_object_add(o, "launch", l);
	}
	json_object_object_add(o, "fleet", fleet_json(r));
	if (!cmd->forceful && b != NULL && (unsigned)cmd->reason < NAP_DISRUPT_NBUDGET_REASONS) {
		json_object *bj = json_object_new_object();

		json_object_object_add(bj, "total", json_object_new_int64(b->total));
		json_object_object_add(bj, "disrupting", json_object_new_int64(b->disrupting));
		json_object_object_add(bj, "allowed", count_json(b->allowed[cmd->reason]));
		json_object_object_add(bj, "available", count_json(b->available[cmd->reason]));
		json_object_object_add(o, "budget", bj);
	}
	json_object_object_add(o, "time", time_json(r->now_ms));
	return o;
}

json_object *
nap_disrupt_verdict_json(const struct nap_disrupt_result *r, const struct nap_disrupt_verdict *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string("DisruptionVerdict"));
	json_object_object_add(o, "nodeClaim", json_object_new_string(v->nodeclaim));
	json_object_object_add(o, "node", json_object_new_string(v->node));
	json_object_object_add(o, "nodePool", json_object_new_string(v->nodepool));
	json_object_object_add(o, "decision",
	    json_object_new_string(v->why == NAP_WHY_DISRUPTED ? "Disrupted" : "NotDisrupted"));
	json_object_object_add(o, "why", json_object_new_string(nap_disrupt_why_name(v->why)));
	if (v->why == NAP_WHY_DISRUPTED || v->why == NAP_WHY_BUDGET ||
	    v->why == NAP_WHY_DRIFT_ONE_AT_A_TIME || v->why == NAP_WHY_WOULD_NOT_FIT ||
	    v->why == NAP_WHY_NOT_CHEAPER || v->why == NAP_WHY_SPOT_TO_SPOT)
		json_object_object_add(
		    o, "reason", json_object_new_string(nap_disrupt_reason_name(v->reason)));
	json_object_object_add(o, "detail", json_object_new_string(v->detail));
	if (v->until_ms > 0)
		json_object_object_add(o, "until", time_json(v->until_ms));
	json_object_object_add(o, "expired", json_object_new_boolean(v->expired));
	json_object_object_add(o, "empty", json_object_new_boolean(v->empty));
	json_object_object_add(o, "pods", json_object_new_int64((int64_t)v->pods));
	json_object_object_add(o, "disruptionCost", num_json(v->disruption_cost));
	json_object_object_add(o, "price", v->price >= 0 ? num_json(v->price) : NULL);
	json_object_object_add(o, "time", time_json(r->now_ms));
	return o;
}
