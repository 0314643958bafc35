/*
 * sched.c - the queue and the run (see sched.h for the contract).
 *
 * nap_sched_run checks its options, sets up one run's state over a
 * prepared world (node room, pool limits left, topology counts), takes the
 * pending pods in FFD order through every relaxation step (try_add: existing
 * nodes, then open claims, then a new claim per NodePool by weight), sends
 * failures to the back of the queue until a full cycle makes no progress,
 * and hands the claims to sched-final.c.  nap_sched_solve is prepare + one
 * run.  Nothing here prints or keeps state between calls.
 */
#include "sched-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
avoided(const struct nap_sched_pod *p, const char *node)
{
	size_t i;

	for (i = 0; i < p->navoid; i++)
		if (strcmp(p->avoid[i], node) == 0)
			return 1;
	return 0;
}

static int
try_nodes(struct st *s, size_t pi, struct variant *v)
{
	const struct nap_sched_pod *p = &s->in->pending[pi];
	struct klass *k = &s->cls[v->cls];
	size_t i;

	char key[18 * NAP_RES_N + 1];
	size_t o = 0, from, lo = 0, hi = s->nopen;
	int prefix = 1, r;
	void *got;

	/*
	 * Nodes only lose room, so the leading nodes a request did not fit never
	 * will: each request remembers where its scan may start.
	 */
	for (r = 0; r < NAP_RES_N; r++)
		o = sched_hex_put(key, o, (uint64_t)p->req.v[r], ':');
	key[o] = '\0';
	got = s->nocache ? NULL : nap_hash_get(&s->fit_from, key);
	from = got ? (size_t)(uintptr_t)got - 1 : 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->open_nodes[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < s->nopen; i++) {
		size_t ni = s->open_nodes[i];
		struct cand cd;

		if (!nap_res_fits(&p->req, &s->avail[ni])) {
			if (prefix)
				from = ni + 1;
			continue;
		}
		prefix = 0;
		if (!sched_node_ok(s, v, ni) || (p->navoid && avoided(p, s->in->nodes[ni].name)))
			continue;
		if (!sched_node_ports_ok(s, pi, ni) || !sched_node_vols_ok(s, pi, ni, NULL, 0))
			continue;
		cd.kind = CAND_NODE;
		cd.idx = ni;
		cd.reqs = NULL;
		cd.host = (long)ni;
		if (!sched_topo_ok(s, k, v, &cd, NULL, 0))
			continue;
		nap_res_sub(&s->avail[ni], &p->req);
		sched_node_ports_add(s, pi, ni);
		sched_node_vols_add(s, pi, ni);
		sched_topo_record(s, pi, v, &cd, NULL);
		s->out->place[pi].where = NAP_SCHED_NODE;
		s->out->place[pi].index = ni;
		if (!s->nocache &&
		    (s->avail[ni].v[NAP_RES_CPU] < s->w->minreq.v[NAP_RES_CPU] ||
			s->avail[ni].v[NAP_RES_MEMORY] < s->w->minreq.v[NAP_RES_MEMORY] ||
			s->avail[ni].v[NAP_RES_PODS] < 1))
			memmove(&s->open_nodes[i], &s->open_nodes[i + 1],
			    (--s->nopen - i) * sizeof(size_t));
		nap_hash_put(&s->fit_from, key, (void *)(uintptr_t)(from + 1));
		return 1;
	}
	nap_hash_put(&s->fit_from, key, (void *)(uintptr_t)(from + 1));
	return 0;
}

/*
 * Try the open claims the pod may join: its tier's capped claims, pool by
 * pool in weight order, first fit in creation order (found through the
 * bucket's segment tree); then the free-growing claims, fewest pods first,
 * skipped whole when the pod exceeds their room bound.
 */
static int
try_claims(struct st *s, size_t pi, struct variant *v)
{
	const struct nap_sched_input *in = s->in;
	const struct nap_res *req = &in->pending[pi].req;
	size_t i, k;
	int r;

	for (k = 0; k <= in->npools; k++) {
		struct corder *co;
		struct nap_res room;

		if (k < in->npools) {
			size_t p = s->w->pool_order[k], j = sched_tier_of(s, pi, p);

			if (j == NAP_SCHED_NPOS)
				continue;
			co = &s->corder[1 + p * NAP_SCHED_TIERS + j];
		} else {
			co = &s->corder[0];
		}
		if (co != &s->corder[0] && s->nocache) {
			for (i = 0; i < co->n; i++)
				if (sched_try_claim(s, pi, v, co->ci[i], NULL, 0))
					return 1;
			continue;
		}
		if (co != &s->corder[0]) {
			for (i = sched_seg_find(co, 0, req); i < co->n;
			     i = sched_seg_find(co, i + 1, req))
				if (sched_try_claim(s, pi, v, co->ci[i], NULL, 0))
					return 1;
			continue;
		}
		if (!s->nocache && !nap_res_fits(req, &co->room))
			continue;
		nap_res_zero(&room);
		for (i = 0; i < co->n; i++) {
			const struct claim *c = s->claims[co->ci[i]];

			for (r = 0; r < NAP_RES_N; r++)
				if (c->maxrem.v[r] > room.v[r])
					room.v[r] = c->maxrem.v[r];
			if (sched_try_claim(s, pi, v, c->idx, NULL, 0))
				return 1;
		}
		/* every open claim of the list was seen: its room is now exact */
		co->room = room;
	}
	return 0;
}

/* One attempt for one pod at one relaxation step; why gets the reasons. */
static int
try_add(struct st *s, size_t pi, struct variant *v, char *why, size_t len)
{
	size_t i, o = 0;
	char one[WHY];

	if (try_nodes(s, pi, v))
		return 1;
	s->cur_shape = s->nclaims ? sched_shape_of(s, v, &s->in->pending[pi].req) : -1;
	if (try_claims(s, pi, v))
		return 1;
	s->cur_shape = -1;
	why[0] = '\0';
	if (s->in->npools == 0) {
		WHYF("no nodepools found");
		return 0;
	}
	for (i = 0; i < s->in->npools; i++) {
		size_t p = s->w->pool_order[i];
		int w;

		one[0] = '\0';
		if (sched_try_new(s, pi, v, p, one, sizeof(one)))
			return 1;
		if (o + 1 < len) {
			w = snprintf(why + o, len - o, "%sincompatible with nodepool \"%s\", %s",
			    o ? "; " : "", s->in->pools[p].name, one);
			if (w > 0)
				o += (size_t)w;
		}
	}
	return 0;
}

/* ---- the run ---- */

static void
st_free(struct st *s)
{
	size_t i, j;

	for (i = 0; i < s->ncls; i++) {
		for (j = 0; j < s->cls[i].nvar; j++)
			sched_variant_free(s->cls[i].var[j]);
		free(s->cls[i].var);
		free(s->cls[i].grp);
		free(s->cls[i].matched);
		free(s->cls[i].selfsel);
		free(s->cls[i].pref_order);
		free(s->cls[i].aff_order);
		free(s->cls[i].anti_order);
		free(s->cls[i].any_order);
	}
	free(s->cls);
	for (i = 0; i < s->nvsh; i++)
		sched_vshare_free(s->vsh[i], s->in->npools);
	free(s->vsh);
	free(s->vkey);
	nap_hash_free(&s->vsh_by_key);
	for (i = 0; i < s->topo.ngrp; i++) {
		free(s->topo.grp[i].count);
		free(s->topo.grp[i].owners);
	}
	free(s->topo.grp);
	for (i = 0; i < s->topo.ntk; i++) {
		for (j = 0; j < s->topo.tk[i].nvals; j++)
			free(s->topo.tk[i].vals[j]);
		free(s->topo.tk[i].vals);
	}
	free(s->topo.tk);
	for (i = 0; i < s->nclaims; i++) {
		nap_reqs_free(&s->claims[i]->reqs);
		free(s->claims[i]->types);
		free(s->claims[i]->pods);
		free(s->claims[i]->patused);
		free(s->claims[i]->mask);
		free(s->claims[i]->mask_ok);
		free(s->claims[i]->uncounted);
		free(s->claims[i]->refused);
		free(s->claims[i]->ported.v);
		free(s->claims[i]);
	}
	free(s->claims);
	for (i = 0; i < s->ncorder; i++) {
		free(s->corder[i].ci);
		free(s->corder[i].seg);
	}
	free(s->corder);
	free(s->mark);
	nap_hash_free(&s->cls_by_sig);
	nap_hash_free(&s->topo.grp_by_sig);
	nap_hash_free(&s->shapes);
	nap_hash_free(&s->fit_from);
	free(s->pod_cls);
	free(s->excluded);
	free(s->rank1.rk);
	free(s->rank1.price);
	free(s->memo1);
	free(s->delta);
	free(s->remaining);
	free(s->nodes_left);
	free(s->avail);
	free(s->topo.ndom);
	free(s->open_nodes);
	for (i = 0; s->node_ported && i < s->in->nnodes; i++)
		free(s->node_ported[i].v);
	free(s->node_ported);
	for (i = 0; s->node_vset && i < s->in->nnodes; i++) {
		free(s->node_vset[i].v);
		free(s->node_vset[i].h);
		free(s->node_vset[i].cnt);
	}
	free(s->node_vset);
	free(s->tbuf);
	free(s->tbuf2);
	nap_reqs_free(&s->tmp);
	nap_reqs_free(&s->tmp2);
}

/* One pod at every relaxation step until it lands: 1 placed, 0 not (why says why). */
static int
place_pod(struct st *s, size_t pi, char *why, size_t len)
{
	int step;

	for (step = 0;; step++) {
		struct variant *v = sched_variant_get(s, s->pod_cls[pi], step);

		if (!v)
			return 0;
		if (step > 0)
			s->out->relaxations++;
		why[0] = '\0';
		if (try_add(s, pi, v, why, len))
			return 1;
		if (v->last)
			return 0;
	}
}

/*
 * The queue: pods in FFD order; a pod that fails goes to the back, and the
 * run ends after a full cycle without progress (or at the first failure,
 * when the options say so).
 */
static void
run_queue(struct st *s, char *why, size_t len)
{
	const struct nap_sched_input *in = s->in;
	struct nap_sched_result *out = s->out;
	size_t *q, qhead = 0, qtail = 0, qcap = in->npending + 1, i, qlen, prev_fail = (size_t)-1;
	unsigned long *lastlen, progress = 0, prev_progress = 0;
	const struct nap_sched_pod *pods = in->pending;

	q = nap_xcalloc(qcap, sizeof(*q));
	lastlen = nap_xcalloc(in->npending + 1, sizeof(*lastlen));
	for (i = 0; i < in->npending; i++) {
		if (in->pending[i].never) {
			out->place[i].where = NAP_SCHED_NONE;
			out->place[i].why = nap_xstrdup(in->pending[i].never);
			continue;
		}
		q[qtail++] = i;
	}
	qsort_r(q, qtail, sizeof(*q), sched_cmp_pending, &pods);
	/* a ring buffer: at most npending live entries */
	qlen = qtail;
	qtail %= qcap;
	while (qlen > 0) {
		size_t pi = q[qhead];
		int ok = 0;

		if (lastlen[pi] == qlen)
			break;
		qhead = (qhead + 1) % qcap;
		qlen--;
		/*
		 * An identical pod just failed with nothing placed since: so will
		 * this one.  Not after a pod with volumes, which the class does not
		 * hold: one with fewer disks may fit where it did not.
		 */
		if (!s->nocache && prev_fail != (size_t)-1 && prev_progress == progress &&
		    s->pod_cls[prev_fail] == s->pod_cls[pi] && !pods[prev_fail].nvols &&
		    memcmp(&in->pending[prev_fail].req, &in->pending[pi].req,
			sizeof(struct nap_res)) == 0) {
			free(out->place[pi].why);
			out->place[pi].why = nap_xstrdup(out->place[prev_fail].why);
		} else {
			ok = place_pod(s, pi, why, len);
			if (!ok) {
				free(out->place[pi].why);
				out->place[pi].why = nap_xstrdup(why);
			}
		}
		if (ok) {
			progress++;
			free(out->place[pi].why);
			out->place[pi].why = NULL;
			prev_fail = (size_t)-1;
			continue;
		}
		out->place[pi].where = NAP_SCHED_NONE;
		if (s->opt->stop_at_fail) {
			out->stopped = 1;
			break;
		}
		prev_fail = pi;
		prev_progress = progress;
		q[qtail] = pi;
		qtail = (qtail + 1) % qcap;
		qlen++;
		lastlen[pi] = qlen;
	}
	/* pods the run never reached when it stopped early */
	for (; out->stopped && qlen > 0; qlen--) {
		size_t pi = q[qhead];

		qhead = (qhead + 1) % qcap;
		out->place[pi].where = NAP_SCHED_NONE;
		free(out->place[pi].why);
		out->place[pi].why =
		    nap_xstrdup("not simulated: the run stopped at the first pod that did not fit");
	}
	free(q);
	free(lastlen);
}

/* One simulation over the world as planned. */
static void
run_once(struct nap_sched_world *w, const struct nap_sched_run_opts *opt,
    struct nap_sched_result *out)
{
	const struct nap_sched_input *in = w->in;
	struct st s;
	char why[4 * WHY];
	size_t i;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	s.w = w;
	s.in = in;
	s.opt = opt;
	s.nocache = opt->nocache;
	s.out = out;
	nap_hash_init(&s.cls_by_sig);
	nap_hash_init(&s.topo.grp_by_sig);
	nap_hash_init(&s.shapes);
	nap_hash_init(&s.fit_from);
	nap_reqs_init(&s.tmp);
	out->place = nap_xcalloc(in->npending + 1, sizeof(*out->place));
	out->nplace = in->npending;
	s.pod_cls = nap_xcalloc(in->npending + 1, sizeof(size_t));
	s.tbuf = nap_xcalloc(in->ntypes + 1, sizeof(size_t));
	s.tbuf2 = nap_xcalloc(in->ntypes + 1, sizeof(size_t));
	s.remaining = nap_xcalloc(in->npools + 1, sizeof(*s.remaining));
	s.nodes_left = nap_xcalloc(in->npools + 1, sizeof(*s.nodes_left));
	if (in->npools) {
		memcpy(s.remaining, w->remaining, in->npools * sizeof(*s.remaining));
		memcpy(s.nodes_left, w->nodes_left, in->npools * sizeof(*s.nodes_left));
	}
	s.ncorder = 1 + in->npools * NAP_SCHED_TIERS;
	s.corder = nap_xcalloc(s.ncorder, sizeof(*s.corder));
	s.mark = nap_xcalloc(in->ntypes + 1, 1);
	s.excluded = nap_xcalloc(in->nnodes + 1, 1);
	for (i = 0; i < opt->nexclude; i++)
		s.excluded[opt->exclude[i]] = 1;
	s.avail = nap_xcalloc(in->nnodes + 1, sizeof(*s.avail));
	s.open_nodes = nap_xcalloc(in->nnodes + 1, sizeof(size_t));
	for (i = 0; i < in->nnodes; i++) {
		s.avail[i] = in->nodes[i].avail;
		if (s.excluded[i])
			continue;
		if (s.nocache ||
		    (s.avail[i].v[NAP_RES_PODS] >= 1 &&
			s.avail[i].v[NAP_RES_CPU] >= w->minreq.v[NAP_RES_CPU] &&
			s.avail[i].v[NAP_RES_MEMORY] >= w->minreq.v[NAP_RES_MEMORY]))
			s.open_nodes[s.nopen++] = i;
	}
	sched_setup_topology(&s);
	run_queue(&s, why, sizeof(why));
	sched_finalize_claims(&s, why, sizeof(why));
	st_free(&s);
}

/* Pods a run left unplaced, and the price of its claims. */
static size_t
run_score(const struct nap_sched_result *r, double *price)
{
	size_t i, left = 0;

	*price = 0;
	for (i = 0; i < r->nplace; i++)
		left += r->place[i].where == NAP_SCHED_NONE;
	for (i = 0; i < r->nclaims; i++)
		*price += r->claims[i].price;
	return left;
}

/*
 * The plan under a binding node ceiling (sched-plan.c, plan_ceiling) is
 * chosen on estimates of how claims will fill, and an estimate can be
 * wrong: too few nodes counted leaves pods out at the ceiling, a split
 * that looked cheap can fill worse.  So the first run under it is made
 * again with the plan of dense sizes only, and the world keeps whichever
 * run placed more pods, then cost less (ties: the first).  Always when the
 * first run left a pod out; when it placed every pod, only for a batch of
 * at most CHECK_PODS, where the second run costs little: on large batches
 * the ceiling's plans were the cheaper wherever measured (nap-solve(1)),
 * and the second run would double the scheduler's time.  Later runs over
 * the same world use the plan kept without comparing again.
 */
#define CHECK_PODS 5000
static void
run_checked(struct nap_sched_world *w, const struct nap_sched_run_opts *opt,
    struct nap_sched_result *out)
{
	struct nap_sched_result alt;
	double pc, pd;
	size_t lc, ld;

	run_once(w, opt, out);
	if (!w->plan_ceiled || w->plan_checked)
		return;
	w->plan_checked = 1;
	lc = run_score(out, &pc);
	if (lc == 0 && w->in->npending > CHECK_PODS)
		return;
	sched_world_unplan(w);
	w->plan_dense = 1;
	sched_world_plan(w);
	run_once(w, opt, &alt);
	ld = run_score(&alt, &pd);
	if (ld < lc || (ld == lc && pd < pc - 1e-9)) {
		nap_sched_result_free(out);
		*out = alt;
		return;
	}
	nap_sched_result_free(&alt);
	sched_world_unplan(w);
	w->plan_dense = 0;
	sched_world_plan(w);
}

int
nap_sched_run(struct nap_sched_world *w, const struct nap_sched_run_opts *opt,
    struct nap_sched_result *out, struct nap_err *err)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < opt->nexclude; i++)
		if (opt->exclude[i] >= w->in->nnodes)
			return nap_err_set(err, NAP_EX_DATAERR,
			    "scheduler: excluded node %zu: out of range (%zu nodes)",
			    opt->exclude[i], w->in->nnodes);
	if (opt->packing != NAP_SCHED_PACK_TARGET && opt->packing != NAP_SCHED_PACK_KARPENTER)
		return nap_err_set(
		    err, NAP_EX_DATAERR, "scheduler: packing %d: unknown", opt->packing);
	if (opt->packing != NAP_SCHED_PACK_TARGET) {
		run_once(w, opt, out);
		return 0;
	}
	sched_world_plan(w);
	run_checked(w, opt, out);
	return 0;
}

int
nap_sched_solve(const struct nap_sched_input *in, struct nap_sched_result *out, struct nap_err *err)
{
	struct nap_sched_run_opts opt = NAP_SCHED_RUN_OPTS_INIT;
	struct nap_sched_world *w;
	int rc;

	memset(out, 0, sizeof(*out));
	if (nap_sched_prepare(in, &w, err) < 0)
		return -1;
	opt.packing = in->packing;
	rc = nap_sched_run(w, &opt, out, err);
	nap_sched_world_free(w);
	return rc;
}

void
nap_sched_result_free(struct nap_sched_result *out)
{
	size_t i;

	if (!out)
		return;
	for (i = 0; i < out->nclaims; i++) {
		nap_reqs_free(&out->claims[i].reqs);
		free(out->claims[i].types);
		free(out->claims[i].pods);
	}
	free(out->claims);
	for (i = 0; i < out->nplace; i++)
		free(out->place[i].why);
	free(out->place);
	memset(out, 0, sizeof(*out));
}
