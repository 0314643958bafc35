/*
 * sched-final.c - finalisation: claims as nap-launch will see them.
 *
 * After the queue: each claim's sizes ranked by price and truncated,
 * requirements narrowed to the zones and capacity types its sizes offer,
 * requests with the smallest DaemonSet overhead; a claim that cannot be
 * launched fails its pods.  Names are <nodepool>-<5 chars> from its pods,
 * never a node's, a caller-held name (input.taken) or another claim's.
 */
#include "sched-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char name_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

static uint64_t
fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void
claim_name(
    struct st *s, const struct nap_sched_claim *c, char *buf, size_t len, struct nap_hash *used)
{
	const struct nap_sched_input *in = s->in;
	uint64_t h = 0xcbf29ce484222325ULL, x;
	unsigned salt = 0;
	size_t i;
	char sfx[6];

	for (i = 0; i < c->npods; i++) {
		h = fnv(h, in->pending[c->pods[i]].ns);
		h = fnv(h, "/");
		h = fnv(h, in->pending[c->pods[i]].name);
		h = fnv(h, "\n");
	}
	for (;;) {
		x = h ^ (salt * 0x9e3779b97f4a7c15ULL);
		for (i = 0; i < 5; i++) {
			sfx[i] = name_alphabet[x % (sizeof(name_alphabet) - 1)];
			x /= sizeof(name_alphabet) - 1;
		}
		sfx[5] = '\0';
		snprintf(buf, len, "%s-%s", in->pools[c->pool].name, sfx);
		if (!nap_hash_get(used, buf))
			break;
		salt++;
	}
	nap_hash_put(used, buf, (void *)1);
}

/* 1 when claim requirements r lowered a minValues of pool's, -1 when not, 0 when it has none. */
static int
min_values_relaxed(const struct nap_reqs *pool, const struct nap_reqs *r)
{
	size_t i;
	int got = 0;

	for (i = 0; i < pool->n; i++) {
		const struct nap_req *q;

		if (pool->v[i].min_values == 0)
			continue;
		q = nap_reqs_get(r, pool->v[i].key);
		if (!q || q->min_values < pool->v[i].min_values)
			return 1;
		got = -1;
	}
	return got;
}

/* Rank, truncate, narrow: the claim as nap-launch will see it. */
static int
claim_finalize(struct st *s, struct claim *c, struct nap_sched_claim *oc, char *why, size_t len)
{
	const struct nap_sched_input *in = s->in;
	struct ranked *rk = nap_xcalloc(c->ntypes + 1, sizeof(*rk));
	const char **names, **zones, **cts;
	size_t i, j, n = 0, nz = 0, nc = 0,
		     max = in->max_types > 0 ? (size_t)in->max_types : NAP_SCHED_MAX_TYPES,
		     base = c->pool * in->ntypes;
	struct nap_res mind;
	int first = 1;
	uint64_t zm, cm, zseen = 0, cseen = 0;

	zm = sched_small_mask(s->w->ozones, s->w->nozones, nap_reqs_get(&c->reqs, ZONE_KEY));
	cm = sched_small_mask(s->w->octypes, s->w->noctypes, nap_reqs_get(&c->reqs, CTYPE_KEY));
	{
		const struct rankc *rc = sched_rank_cached(s, c->pool, zm, cm);

		/* lazily narrowed lists (try_claim) may hold sizes that no longer fit */
		for (i = 0; i < c->ntypes; i++)
			s->mark[c->types[i]] =
			    nap_res_fits(&c->used, &s->w->cap[base + c->types[i]]);
		for (i = 0; i < rc->n; i++)
			if (s->mark[rc->rk[i].t])
				rk[n++] = rc->rk[i];
		for (i = 0; i < c->ntypes; i++)
			s->mark[c->types[i]] = 0;
	}
	if (n > max)
		n = max;
	oc->types = nap_xcalloc(n + 1, sizeof(*oc->types));
	for (i = 0; i < n; i++) {
		oc->types[i] = (uint16_t)rk[i].t;
		s->tbuf[i] = rk[i].t;
	}
	oc->ntypes = n;
	if (n == 0 || !sched_min_values_ok(s, &c->reqs, s->tbuf, n, why, len)) {
		if (n == 0)
			WHYF("no instance type has an available offering");
		else
			WHYF("NodePool couldn't meet minValues requirements");
		free(rk);
		return -1;
	}
	oc->price = rk[0].price;
	names = nap_xcalloc(n + 1, sizeof(*names));
	zones = nap_xcalloc(64, sizeof(*zones));
	cts = nap_xcalloc(64, sizeof(*cts));
	nap_res_zero(&mind);
	for (i = 0; i < n; i++) {
		const struct nap_sched_itype *t = &in->types[rk[i].t];

		names[i] = t->name;
		for (j = 0; j < t->noff; j++) {
			size_t o = s->w->obase[rk[i].t] + j;

			if (!t->off[j].available || !(zm >> s->w->oz[o] & 1) ||
			    !(cm >> s->w->oc[o] & 1))
				continue;
			zseen |= (uint64_t)1 << s->w->oz[o];
			cseen |= (uint64_t)1 << s->w->oc[o];
		}
		if (first || s->w->daemon[base + rk[i].t].v[NAP_RES_CPU] < mind.v[NAP_RES_CPU])
			mind = s->w->daemon[base + rk[i].t];
		first = 0;
	}
	for (j = 0; j < s->w->nozones; j++)
		if (zseen >> j & 1)
			zones[nz++] = s->w->ozones[j];
	for (j = 0; j < s->w->noctypes; j++)
		if (cseen >> j & 1)
			cts[nc++] = s->w->octypes[j];
	nap_reqs_init(&oc->reqs);
	nap_reqs_copy(&oc->reqs, &c->reqs);
	oc->min_values_relaxed = min_values_relaxed(&in->pools[c->pool].reqs, &c->reqs);
	{
		const struct nap_req *old = nap_reqs_get(&oc->reqs, ITYPE_KEY);
		int mv = old ? old->min_values : 0;

		/*
		 * Only the cheapest name goes in: sorting 600 names into a set per
		 * claim costs more than the scheduling, and the ranked list is types[].
		 */
		nap_reqs_del(&oc->reqs, ITYPE_KEY);
		nap_reqs_add(&oc->reqs, ITYPE_KEY, NAP_OP_IN, names, 1, mv > 1 ? 1 : mv, NULL);
		oc->min_values = mv;
	}
	nap_reqs_add(&oc->reqs, ZONE_KEY, NAP_OP_IN, zones, nz, 0, NULL);
	nap_reqs_add(&oc->reqs, CTYPE_KEY, NAP_OP_IN, cts, nc, 0, NULL);
	oc->requests = c->used;
	nap_res_add(&oc->requests, &mind);
	oc->pool = c->pool;
	free(names);
	free(zones);
	free(cts);
	free(rk);
	return 0;
}

/* Claim names: <nodepool>-<5 chars>, none equal to a node's or a name the caller holds. */
static void
name_claims(struct st *s)
{
	const struct nap_sched_input *in = s->in;
	struct nap_sched_result *out = s->out;
	struct nap_hash names = NAP_HASH_INIT;
	size_t i;

	for (i = 0; i < in->nnodes; i++)
		if (in->nodes[i].name)
			nap_hash_put(&names, in->nodes[i].name, (void *)1);
	for (i = 0; i < in->ntaken; i++)
		nap_hash_put(&names, in->taken[i], (void *)1);
	for (i = 0; i < out->nclaims; i++)
		claim_name(
		    s, &out->claims[i], out->claims[i].name, sizeof(out->claims[i].name), &names);
	nap_hash_free(&names);
}

/* Finalise claims; a claim that cannot be launched fails its pods. */
void
sched_finalize_claims(struct st *s, char *why, size_t len)
{
	const struct nap_sched_input *in = s->in;
	struct nap_sched_result *out = s->out;
	size_t *remap, ci, i, j;

	out->claims = nap_xcalloc(s->nclaims + 1, sizeof(*out->claims));
	remap = nap_xcalloc(s->nclaims + 1, sizeof(size_t));
	for (ci = 0; ci < s->nclaims; ci++) {
		struct claim *c = s->claims[ci];
		struct nap_sched_claim *oc = &out->claims[out->nclaims];

		memset(oc, 0, sizeof(*oc));
		if (claim_finalize(s, c, oc, why, len) < 0) {
			for (j = 0; j < c->npods; j++) {
				struct nap_sched_place *pl = &out->place[c->pods[j]];

				pl->where = NAP_SCHED_NONE;
				free(pl->why);
				pl->why = nap_xasprintf("incompatible with nodepool \"%s\", %s",
				    in->pools[c->pool].name, why);
			}
			free(oc->types);
			memset(oc, 0, sizeof(*oc));
			remap[ci] = (size_t)-1;
			continue;
		}
		oc->pods = nap_xcalloc(c->npods + 1, sizeof(size_t));
		if (c->npods > 0)
			memcpy(oc->pods, c->pods, c->npods * sizeof(size_t));
		oc->npods = c->npods;
		remap[ci] = out->nclaims++;
	}
	for (i = 0; i < in->npending; i++)
		if (out->place[i].where == NAP_SCHED_CLAIM)
			out->place[i].index = remap[out->place[i].index];
	free(remap);
	name_claims(s);
}
