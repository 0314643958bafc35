/*
 * config-bound.c - the configuration LP bound (Gilmore-Gomory) for
 * bench/solve.sh: the cheapest fleet of nodes, bought in fractions, where
 * each node is one whole packing of whole pods onto one size.  Unlike
 * lp-bound --fit, a node cannot hold half a pod, so a 1.5-CPU pod leaves
 * the rest of a 1.9-CPU node empty here as in any real packing; the optimum
 * is within a node or so per size of the best integer fleet.
 *
 *   config-bound [-i] [-n] [-v] [-g LEVEL] [-m NODES] CATALOG REGION  <requests
 *
 * stdin: one line per pod, "CPU_MILLI MEMORY_BYTES [GROUP]".  Pods of one
 * GROUP (any word but "-") are at most one to a node: the bench writes the
 * group of a pod whose required hostname anti-affinity, or hostname spread
 * of maxSkew 1, selects itself (and so every pod of the group; see
 * bench/bound-req.jq); -n ignores groups.  Other constraints
 * (zones, spreads) are left out, which keeps the answer a lower bound.
 *
 * Sizes: every size of the catalog with an available on-demand price in
 * REGION, allocatable as nap-solve computes it for the default
 * AKSNodeClass (as lp-bound --fit); a size that another beats on CPU,
 * memory, pods and price at once is dropped (never needed).
 *
 * Why it is a lower bound on every whole fleet: a real node of size t
 * holds some whole pods within t's allocatable CPU, memory and pods, at
 * most one pod of a GROUP: that is a column of the LP, so a whole fleet
 * is an integer solution of it and costs no less than its optimum.  Every
 * figure printed is at most that optimum (Farley's bound below), so at most
 * the cheapest whole fleet.  Rounding requests down (below) keeps every real
 * packing a packing, so it keeps this true.
 *
 * -m NODES: at most NODES nodes, one more row of the LP (nodes <= NODES;
 * bench/solve.sh passes nap-solve's solve.maxNodes, 5,000, less the
 * cluster's nodes).  Still a lower bound on every whole fleet of at most
 * NODES nodes: such a fleet is an integer solution of the LP with the row.
 * The row's dual mu (>= 0) charges each node in pricing: a packing prices
 * a column when worth more than its size's price plus mu.  Farley's bound
 * below becomes z / rho with rho the largest (worth - mu) / price, as
 * (duals, mu) / rho is a feasible dual of the LP with the row; and, with at
 * most NODES nodes, no fleet costs less than z - NODES * (the most a node's
 * worth exceeds its price plus mu), Lagrange's bound; the larger counts.
 * The start (each class alone) may break the row, so a slack buys nodes
 * over it at 100 times the dearest size's price: the LP with it is a
 * relaxation, so still a bound.  Should the LP still buy them at the end
 * stderr says so: no fleet within NODES was found (the figure carries that
 * penalty; -i finds no fleet and prints -1).
 *
 * Pods of equal requests (and group) are one class with a demand (cutting
 * stock: columns count pods of each class, not pods).  More than 100
 * distinct requests (thousands, say) are rounded down: to 10m and 1 MiB,
 * 25m and 4 MiB or 50m and 16 MiB, the finest that leaves at most 100;
 * else each CPU and memory request down to the largest of a few steps,
 * themselves requests (at the pods' quantiles), as many as leave 100.
 * -g LEVEL forces a grid: 0 none, 1 10m and 1 MiB, ... 8 1000m and 512
 * MiB (the grids[] table).  stderr names the grid or the steps.
 *
 * Solved by column generation with GLPK's simplex: the master LP covers
 * each class with packings (to start, each class alone; with groups also
 * first-fit-decreasing packings of every size, see seed()); for each size,
 * the packing worth most at the master's dual prices (a bounded knapsack
 * in CPU, memory and pods, each group at most one pod) prices a column.
 * A size whose knapsack LP is worth no more than its node costs prices
 * none and is skipped; others are searched by branch and bound over the
 * classes, pruned at the node's price (a packing worth less prices no
 * column) by the knapsack's LP with the three constraints added up
 * (surrogate weights: the LP's duals), where a group not yet on the node
 * counts as the upper hull of its pods' (weight, worth), the LP of the
 * multiple-choice knapsack.  The packings that bettered the best on the
 * way are columns too (8 a size at most).  A search cut short (20,000
 * nodes) goes again pruning what cannot beat the price by 0.02 %; still
 * cut short, GLPK's branch and bound on the same knapsack takes over: at
 * once for the (up to 3) sizes with the worst ratio below, whose bound
 * would be only the knapsack's LP; for all of them once no size priced a
 * column (two CPU seconds per size, four times that after a round where it
 * ran out of time and priced nothing, up to 32).
 * After each round the bound is the master's optimum divided by the largest
 * ratio of a packing's worth to its node's price that the search could not
 * rule out (Farley's bound): equal to the master's optimum when no packing
 * prices a column ("exact").
 *
 * With groups the master's duals jump about from round to round and the
 * bound tails off far below the master, so: first, in a child process,
 * phase 0 solves the LP without groups (classes of equal requests merged,
 * stderr "without groups"), whose packings include every packing here, so
 * its bound is a bound here too and the figure never falls below it.  Its
 * best duals, each grouped class at the dual of its requests, are the
 * center; each round then prices at ALPHA (0.8; CONFIG_BOUND_ALPHA) times
 * the center plus the rest times the master's duals (Wentges' smoothing).
 * Farley's bound holds at any duals d >= 0 and charge md: (d, md) / rho,
 * rho the largest ratio the search could not rule out at d, is a feasible
 * dual of the whole LP, worth (sum of demand times d, less room times md)
 * / rho; the best such d is the next center.  A round at d that prices no
 * column the master wants (a mispricing) is done again at the master's
 * duals, so "exact" still means that nothing prices at the master's.
 * CONFIG_BOUND_NO_CENTER skips phase 0 (and so the smoothing).  The CPU
 * seconds said and limited below count phase 0's.
 *
 * It stops at "exact", or "converged" once the
 * bound is within 0.1 % of the master's optimum (the LP optimum lies
 * between the two), or "inexact" after two CPU minutes (CONFIG_BOUND_SECONDS
 * sets another limit); stderr says which, how close, and the CPU seconds it
 * took.
 *
 *   config-bound [-i] [-v] -s SNAPSHOT CATALOG REGION
 *
 * With -s, the pods and the sizes come from SNAPSHOT, a cluster as
 * nap-watch --once writes it: the pods its nodes run and the sizes its
 * NodePools allow, as nap-cost bounds them (lib/bound-fleet: DaemonSet and
 * static pods left out, every size when a pod runs where no pool would put
 * it, a size priced at its cheapest offering of a capacity type some pool
 * allows); GPU pods are left out (counted).  This is the bound of a fleet
 * under its NodePools: bench/consolidate-e2e.sh sets nap's end fleet
 * against it.
 *
 * Prints the bound in USD per hour.  -i also prints the price of the
 * cheapest whole fleet made of the packings the search found (GLPK's
 * branch and bound, 10 s at most): a fleet that exists, so the best
 * integer fleet lies between the two.  -v prints, on stderr, the sizes
 * (allocatable and price) and that fleet (or the LP's): nodes of each size
 * and what one of them holds.
 * Built by bench/solve.sh when GLPK's headers are there
 * (libglpk-dev); not part of nap.
 */
#include <errno.h>
#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bound.h"
#include "catalog.h"
#include "json.h"
#include "model.h"

#define GIB (1024.0 * 1024 * 1024)
#define MAX_ITER 2000
#define GAP 1e-3	      /* stop when the bound is this close to the master's optimum */
#define BB_NODES 20000L	      /* per size and iteration */
#define SECONDS_MAX 120	      /* CPU seconds, then stop: the answer is still a bound */
#define MIP_SECONDS 2.0	      /* CPU seconds of GLPK's search where ours is cut short, per size */
#define MIP_SECONDS_MAX 32.0  /* ... at most, when a round of it priced nothing */
#define MAX_SHAPES 100	      /* more distinct requests: rounded down to a grid (coarsen) */
#define EPS 1e-9	      /* a packing worth less than 1 + EPS times its price prices no column */
#define FOCUS 3		      /* sizes a round GLPK searches for Farley's bound */
#define NPOOL 8		      /* columns a size adds a round at most */
#define TOL 2e-4	      /* a search cut short is done again pruning at 1 + TOL times the price */
#define SLACK_PRICE 100	      /* a node over the ceiling (-m) costs this many of the dearest size */
#define ALPHA 0.8	      /* Wentges' smoothing: the center's share of the duals priced at */

struct cls {
	long long cpu, mem; /* milli, bytes */
	int group;	    /* 0 = none */
	double n;
};

struct size {
	const char *name;
	long long cpu, mem, pods;
	double price;
};

struct col {
	size_t t;
	int lpcol; /* its column in the master LP */
	int *a;	   /* pods of each class */
};

static struct cls *K;
static size_t nk;
static struct size *T;
static size_t nt;
static struct col *C;
static size_t ncol, acol;
static int ngroups;
static double room = -1; /* -m: nodes at most (< 0: no ceiling row) */
static struct nap_catalog *cat; /* T's names point into it */

static void *
xrealloc(void *p, size_t n)
{
	if (!(p = realloc(p, n ? n : 1))) {
		fprintf(stderr, "config-bound: out of memory\n");
		exit(70);
	}
	return p;
}

static int
cls_cmp(const void *a, const void *b)
{
	const struct cls *x = a, *y = b;

	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	if (x->mem != y->mem)
		return x->mem < y->mem ? -1 : 1;
	return (x->group > y->group) - (x->group < y->group);
}

/* K's equal classes into one. */
static void
merge(void)
{
	size_t m, i;

	if (!nk)
		return;
	qsort(K, nk, sizeof(*K), cls_cmp);
	for (m = 0, i = 1; i < nk; i++) {
		if (cls_cmp(&K[m], &K[i]) == 0)
			K[m].n += K[i].n;
		else
			K[++m] = K[i];
	}
	nk = m + 1;
}

/* stdin into K (merged classes); group words numbered from 1. */
static int
read_classes(void)
{
	char line[512], word[256], **names = NULL;
	size_t ak = 0, i;
	long long cpu, mem;
	int f;

	while (fgets(line, sizeof(line), stdin)) {
		f = sscanf(line, "%lld %lld %255s", &cpu, &mem, word);
		if (f < 2) {
			if (strspn(line, " \t\r\n") == strlen(line))
				continue;
			fprintf(stderr, "config-bound: bad line: %s", line);
			return -1;
		}
		if (nk == ak) {
			ak = ak ? 2 * ak : 256;
			K = xrealloc(K, ak * sizeof(*K));
		}
		K[nk].cpu = cpu;
		K[nk].mem = mem;
		K[nk].n = 1;
		K[nk].group = 0;
		if (f == 3 && strcmp(word, "-") != 0) {
			int g;

			for (g = 0; g < ngroups && strcmp(names[g], word) != 0; g++)
				;
			if (g == ngroups) {
				names = xrealloc(names, (size_t)(ngroups + 1) * sizeof(*names));
				names[ngroups] = xrealloc(NULL, strlen(word) + 1);
				memcpy(names[ngroups++], word, strlen(word) + 1);
			}
			K[nk].group = g + 1;
		}
		nk++;
	}
	for (i = 0; i < (size_t)ngroups; i++)
		free(names[i]);
	free(names);
	merge();
	return 0;
}

/*
 * The grids a pod's requests are rounded down to, finest first: CPU in
 * millicores, memory in MiB (0: not rounded).  Rounding a pod down leaves
 * every real packing a packing, so the bound stays a bound on every fleet;
 * it only gets weaker, by at most a grid step per pod.
 */
static const struct {
	long long cpu, mib;
} grids[] = { { 1, 0 }, { 10, 1 }, { 25, 4 }, { 50, 16 }, { 100, 32 }, { 100, 64 },
	{ 250, 128 }, { 500, 256 }, { 1000, 512 } };
#define NGRIDS (sizeof(grids) / sizeof(grids[0]))
#define AUTO_GRIDS 4 /* at most 50m and 16 MiB lost per pod; then steps */

/* Distinct requests in K (merged), whatever their groups. */
static size_t
shapes(void)
{
	size_t i, n = nk > 0;

	for (i = 1; i < nk; i++)
		n += K[i].cpu != K[i - 1].cpu || K[i].mem != K[i - 1].mem;
	return n;
}

struct val {
	long long v;
	double n; /* pods */
};

static int
val_cmp(const void *a, const void *b)
{
	const struct val *x = a, *y = b;

	return (x->v > y->v) - (x->v < y->v);
}

/*
 * Into step: the values of v (sorted, pods n in all) at the pods' quantiles
 * 0, 1/b, 2/b, ..., each once; returns how many.  step[0] is the least, so
 * every value rounds down to a step.
 */
static size_t
quantiles(const struct val *v, size_t nv, double n, size_t b, long long *step)
{
	size_t i = 0, j, ns = 0;
	double cum = v[0].n;

	for (j = 0; j < b; j++) {
		while (i + 1 < nv && cum <= n * (double)j / (double)b)
			cum += v[++i].n;
		if (ns == 0 || step[ns - 1] != v[i].v)
			step[ns++] = v[i].v;
	}
	return ns;
}

/* x rounded down to the largest of the ns steps not over it */
static long long
step_down(long long x, const long long *step, size_t ns)
{
	size_t lo = 0, hi = ns;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (step[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return step[lo];
}

static void
print_steps(const char *what, const long long *step, size_t ns, long long unit)
{
	size_t i;

	fprintf(stderr, "config-bound: %s steps:", what);
	for (i = 0; i < ns; i++)
		fprintf(stderr, " %lld", step[i] / unit);
	fprintf(stderr, "\n");
}

/*
 * Round K down to the finest of the first AUTO_GRIDS grids that leaves at
 * most max_shapes distinct requests, or to grid level (-g); when none
 * does, each request down to the largest of a few steps, the requests'
 * own values at the pods' quantiles (so a pod at a step loses nothing),
 * as many steps as leave max_shapes.  Says which on stderr.
 */
static void
coarsen(size_t max_shapes, int level)
{
	struct cls *k0 = xrealloc(NULL, (nk ? nk : 1) * sizeof(*k0));
	struct val *vc, *vm;
	long long *sc, *sm;
	size_t n0 = nk, i, g, b, nc = 0, nm = 0;
	double pods = 0;

	memcpy(k0, K, n0 * sizeof(*k0));
	for (g = level >= 0 ? (size_t)level : 0; g < (level >= 0 ? NGRIDS : AUTO_GRIDS); g++) {
		long long mg = grids[g].mib ? grids[g].mib * 1024 * 1024 : 1;

		for (i = 0; i < n0; i++) {
			K[i] = k0[i];
			K[i].cpu -= K[i].cpu % grids[g].cpu;
			K[i].mem -= K[i].mem % mg;
		}
		nk = n0;
		merge();
		if (level >= 0 || shapes() <= max_shapes) {
			if (g > 0)
				fprintf(stderr,
				    "config-bound: requests rounded down to %lldm CPU and %lld MiB "
				    "memory (%zu distinct)\n",
				    grids[g].cpu, grids[g].mib, shapes());
			free(k0);
			return;
		}
	}
	vc = xrealloc(NULL, n0 * sizeof(*vc));
	vm = xrealloc(NULL, n0 * sizeof(*vm));
	sc = xrealloc(NULL, n0 * sizeof(*sc));
	sm = xrealloc(NULL, n0 * sizeof(*sm));
	for (i = 0; i < n0; i++) {
		vc[i].v = k0[i].cpu;
		vm[i].v = k0[i].mem;
		vc[i].n = vm[i].n = k0[i].n;
		pods += k0[i].n;
	}
	qsort(vc, n0, sizeof(*vc), val_cmp);
	qsort(vm, n0, sizeof(*vm), val_cmp);
	for (b = max_shapes; b >= 1; b = b * 4 / 5) {
		nc = quantiles(vc, n0, pods, b, sc);
		nm = quantiles(vm, n0, pods, b, sm);
		for (i = 0; i < n0; i++) {
			K[i] = k0[i];
			K[i].cpu = step_down(K[i].cpu, sc, nc);
			K[i].mem = step_down(K[i].mem, sm, nm);
		}
		nk = n0;
		merge();
		if (shapes() <= max_shapes || b == 1)
			break;
	}
	fprintf(stderr,
	    "config-bound: requests rounded down to %zu CPU and %zu memory steps (%zu distinct)\n",
	    nc, nm, shapes());
	print_steps("CPU (m)", sc, nc, 1);
	print_steps("memory (MiB)", sm, nm, 1024 * 1024);
	free(vc);
	free(vm);
	free(sc);
	free(sm);
	free(k0);
}

static int
dominated(const struct size *t, const struct size *u)
{
	return u->cpu >= t->cpu && u->mem >= t->mem && u->pods >= t->pods && u->price <= t->price &&
	    (u->cpu > t->cpu || u->mem > t->mem || u->pods > t->pods || u->price < t->price);
}

/*
 * The sizes of the catalog (it must be loaded) into T: every size with an
 * available on-demand price, or with allow (n entries in catalog order, from
 * nap_bound_fleet_types) only those it lists, at its cheapest entry.
 */
static int
load_sizes(const struct nap_bound_type *allow, size_t nallow)
{
	struct nap_itype_opts o;
	size_t i, j, m, at = 0;

	memset(&o, 0, sizeof(o));
	T = xrealloc(NULL, cat->ntypes * sizeof(*T));
	for (i = 0; i < cat->ntypes; i++) {
		const struct nap_itype *ty = &cat->types[i];
		double price = -1;
		struct nap_res a;

		if (allow) {
			for (; at < nallow && strcmp(allow[at].name, ty->name) < 0; at++)
				;
			for (j = at; j < nallow && strcmp(allow[j].name, ty->name) == 0; j++)
				if (price < 0 || allow[j].price < price)
					price = allow[j].price;
		} else {
			for (j = 0; j < ty->noff; j++)
				if (!ty->off[j].spot && ty->off[j].available &&
				    (price < 0 || ty->off[j].price < price))
					price = ty->off[j].price;
		}
		if (price <= 0)
			continue;
		nap_itype_allocatable(ty, &o, &a);
		if (a.v[NAP_RES_CPU] <= 0 || a.v[NAP_RES_MEMORY] <= 0 || a.v[NAP_RES_PODS] <= 0)
			continue;
		T[nt].name = ty->name; /* the catalog is kept until exit */
		T[nt].cpu = a.v[NAP_RES_CPU];
		T[nt].mem = a.v[NAP_RES_MEMORY];
		T[nt].pods = a.v[NAP_RES_PODS];
		T[nt++].price = price;
	}
	/* drop dominated sizes (and all but one of equal ones) */
	for (m = 0, i = 0; i < nt; i++) {
		int dom = 0;

		for (j = 0; j < nt && !dom; j++)
			dom = j != i &&
			    (dominated(&T[i], &T[j]) ||
				(j < i && T[j].cpu == T[i].cpu && T[j].mem == T[i].mem &&
				    T[j].pods == T[i].pods && T[j].price == T[i].price));
		if (!dom)
			T[m++] = T[i];
	}
	nt = m;
	return 0;
}

static long long
fit_count(const struct cls *k, const struct size *t)
{
	long long u = t->pods;

	if (k->cpu > 0 && t->cpu / k->cpu < u)
		u = t->cpu / k->cpu;
	if (k->mem > 0 && t->mem / k->mem < u)
		u = t->mem / k->mem;
	if (k->group && u > 1)
		u = 1;
	if ((double)u > k->n)
		u = (long long)k->n;
	return u;
}

/* --- pricing: the packing of one size worth most at prices pi --- */

static const double *pi;
static const struct size *bt;
static size_t *items, ni; /* classes with a price that fit, best first */
static int *cur, *best;	  /* counts by position in items */
static double *wt;	  /* surrogate weight of each item (by position) */
static double lam[3];	  /* surrogate multipliers: per core, GiB, pod */
static double best_v, thr; /* thr: the node's price and charge, a little over */
static long bb_nodes, bb_limit = BB_NODES;
static int use_mip;   /* where our search is cut short, GLPK's takes over */
static double seconds_max = SECONDS_MAX; /* CPU seconds, then stop */
static int cut_short; /* price_size's bound is not the best packing's worth */
static int *pool;   /* the last NPOOL packings that bettered the best, by class */
static size_t npool;
static unsigned char *gused;

/* How many pods of k fit in c, m, p left (and its group). */
static long long
fit_left(const struct cls *k, long long c, long long m, long long p)
{
	long long u = fit_count(k, bt);

	if (k->cpu > 0 && c / k->cpu < u)
		u = c / k->cpu;
	if (k->mem > 0 && m / k->mem < u)
		u = m / k->mem;
	if (p < u)
		u = p;
	if (k->group && gused[k->group])
		u = 0;
	return u;
}

/*
 * Into v and w: u at most of an item of weight wt_ and worth val each,
 * taken fractionally into the weight w left.
 */
static void
take(double u, double wt_, double val, double *v, double *w)
{
	if (wt_ <= 1e-15)
		*v += u * val;
	else if (u * wt_ <= *w) {
		*v += u * val;
		*w -= u * wt_;
	} else {
		*v += *w / wt_ * val;
		*w = 0;
	}
}

/*
 * What bound_from walks, best worth per weight first (set by order_items):
 * ent[e] >= 0 an item without a group, by position; < 0 the segment
 * -1 - ent[e] of a group's hull: sw more weight for sv more worth.
 */
static long *ent;
static size_t nent;
static double *sw, *sv;
static int *sg;

static double
ent_ratio(long e)
{
	double w = e >= 0 ? wt[e] : sw[-1 - e], v = e >= 0 ? pi[items[e]] : sv[-1 - e];

	return w > 1e-15 ? v / w : INFINITY;
}

static int
ent_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	double rx = ent_ratio(x), ry = ent_ratio(y);

	if (rx != ry)
		return rx < ry ? 1 : -1;
	return (x > y) - (x < y);
}

static int
by_weight(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (wt[x] != wt[y])
		return wt[x] < wt[y] ? -1 : 1;
	return (pi[items[y]] > pi[items[x]]) - (pi[items[y]] < pi[items[x]]);
}

/*
 * ent from items (sorted, with wt set): the items without a group as they
 * are, and each group as the upper hull of its pods' (weight, worth) from
 * (0, 0), a segment per hull edge.  Taking at most one pod of a group is
 * the multiple-choice knapsack, whose LP is filled greedily by these
 * segments (Sinha and Zoltners): a bound on any packing.
 */
static void
order_items(void)
{
	size_t j, n, k, h = 0, *pos = xrealloc(NULL, (ni ? ni : 1) * sizeof(*pos));
	double *hw = xrealloc(NULL, (ni + 1) * sizeof(*hw)), *hv = xrealloc(NULL, (ni + 1) * sizeof(*hv));
	int g;

	nent = 0;
	for (j = 0; j < ni; j++)
		if (!K[items[j]].group)
			ent[nent++] = (long)j;
	for (g = 1; g <= ngroups; g++) {
		for (n = 0, j = 0; j < ni; j++)
			if (K[items[j]].group == g)
				pos[n++] = j;
		qsort(pos, n, sizeof(*pos), by_weight);
		/* hull points by weight, from (0, 0), each worth more than the last */
		hw[0] = hv[0] = 0;
		for (k = 1, j = 0; j < n; j++) {
			double w = wt[pos[j]], v = pi[items[pos[j]]];

			if (v <= hv[k - 1])
				continue;
			/* the last point goes while it is not above the new edge */
			while (k >= 2 &&
			    (hv[k - 1] - hv[k - 2]) * (w - hw[k - 2]) <=
				(v - hv[k - 2]) * (hw[k - 1] - hw[k - 2]))
				k--;
			hw[k] = w;
			hv[k++] = v;
		}
		for (j = 1; j < k; j++, h++) {
			sw[h] = hw[j] - hw[j - 1];
			sv[h] = hv[j] - hv[j - 1];
			sg[h] = g;
			ent[nent++] = -1 - (long)h;
		}
	}
	free(pos);
	free(hw);
	free(hv);
	qsort(ent, nent, sizeof(*ent), ent_cmp);
}

/*
 * An upper bound on what the items from position i on add in c, m, p left:
 * the surrogate knapsack (the three constraints added with weights lam),
 * filled fractionally in order of worth per weight, each item at most what
 * fits of it alone, each group not yet on the node by its hull (order_items;
 * its pods before position i too: a bound still).
 */
static double
bound_from(size_t i, long long c, long long m, long long p)
{
	double w = lam[0] * (double)c / 1000.0 + lam[1] * (double)m / GIB + lam[2] * (double)p,
	       v = 0;
	size_t e;

	for (e = 0; e < nent; e++) {
		long x = ent[e];

		if (w <= 0 && ent_ratio(x) < INFINITY) /* full: only weightless ones add */
			break;

		if (x < 0) {
			if (!gused[sg[-1 - x]])
				take(1, sw[-1 - x], sv[-1 - x], &v, &w);
		} else if ((size_t)x >= i) {
			double u = (double)fit_left(&K[items[x]], c, m, p);

			if (u > 0)
				take(u, wt[x], pi[items[x]], &v, &w);
		}
	}
	return v;
}

static void
dfs(size_t i, long long c, long long m, long long p, double v)
{
	const struct cls *k;
	long long u, x;

	if (v > best_v + 1e-12) {
		best_v = v;
		memcpy(best, cur, ni * sizeof(*cur));
		if (v > thr) { /* a column too, if not the best: into the pool */
			int *q = pool + (size_t)(npool++ % NPOOL) * nk;
			size_t j;

			memset(q, 0, nk * sizeof(*q));
			for (j = 0; j < ni; j++)
				q[items[j]] = cur[j];
		}
	}
	if (i == ni || p == 0 || bb_nodes >= bb_limit)
		return;
	bb_nodes++;
	/* nothing below worth more than the best so far, nor than the node costs */
	if (v + bound_from(i, c, m, p) <= (best_v > thr ? best_v * (1 + 1e-12) : thr))
		return;
	k = &K[items[i]];
	u = fit_left(k, c, m, p);
	for (x = u; x >= 0; x--) {
		cur[i] = (int)x;
		if (k->group && x)
			gused[k->group] = 1;
		dfs(i + 1, c - x * k->cpu, m - x * k->mem, p - x, v + (double)x * pi[items[i]]);
		if (k->group && x)
			gused[k->group] = 0;
		if (bb_nodes >= bb_limit)
			break;
	}
	cur[i] = 0;
}

static int
item_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	double wx = lam[0] * (double)K[x].cpu / 1000.0 + lam[1] * (double)K[x].mem / GIB + lam[2];
	double wy = lam[0] * (double)K[y].cpu / 1000.0 + lam[1] * (double)K[y].mem / GIB + lam[2];
	double ex = wx > 1e-15 ? pi[x] / wx : INFINITY, ey = wy > 1e-15 ? pi[y] / wy : INFINITY;

	if (ex != ey)
		return ex < ey ? 1 : -1;
	return (x > y) - (x < y);
}

/*
 * GLPK's branch and bound is told to stop once no open node can hold a
 * packing worth more than thr: the size prices no column, and its bound
 * is thr.
 */
static double mip_bound, mip_start, mip_seconds = MIP_SECONDS;

static double phase0_cpu; /* CPU seconds of phase 0's child, counted here too */

static double
cpu_seconds(void)
{
	return (double)clock() / CLOCKS_PER_SEC + phase0_cpu;
}

static void
mip_cb(glp_tree *tree, void *info)
{
	int n;

	(void)info;
	if (cpu_seconds() - mip_start > mip_seconds) {
		glp_ios_terminate(tree);
		return;
	}
	if (glp_ios_reason(tree) != GLP_ISELECT && glp_ios_reason(tree) != GLP_IBINGO)
		return;
	if ((n = glp_ios_best_node(tree)) == 0)
		return;
	mip_bound = glp_ios_node_bound(tree, n);
	if (mip_bound <= thr)
		glp_ios_terminate(tree);
}

/*
 * lam: the duals of the LP relaxation of size bt's knapsack at prices pi
 * (CPU, memory and pods; each group at most one pod).  Returns that LP's
 * optimum, a bound on any packing's worth; INFINITY if the simplex fails.
 */
static double
surrogate(int mip, int *exact)
{
	glp_prob *kp = glp_create_prob();
	glp_smcp parm;
	int *ind = xrealloc(NULL, (ni + 1) * sizeof(int));
	double *val = xrealloc(NULL, (ni + 1) * sizeof(double)), opt = INFINITY;
	size_t j;
	int w, g, len;

	glp_set_obj_dir(kp, GLP_MAX);
	glp_add_rows(kp, 3 + ngroups);
	glp_set_row_bnds(kp, 1, GLP_UP, 0, (double)bt->cpu / 1000.0);
	glp_set_row_bnds(kp, 2, GLP_UP, 0, (double)bt->mem / GIB);
	glp_set_row_bnds(kp, 3, GLP_UP, 0, (double)bt->pods);
	for (g = 1; g <= ngroups; g++)
		glp_set_row_bnds(kp, 3 + g, GLP_UP, 0, 1);
	glp_add_cols(kp, (int)ni);
	for (j = 0; j < ni; j++) {
		const struct cls *k = &K[items[j]];
		int cj = (int)j + 1;

		glp_set_col_bnds(kp, cj, GLP_DB, 0, (double)fit_count(k, bt));
		glp_set_obj_coef(kp, cj, pi[items[j]]);
	}
	for (w = 0; w < 3; w++) {
		for (j = 0; j < ni; j++) {
			const struct cls *k = &K[items[j]];

			ind[j + 1] = (int)j + 1;
			val[j + 1] = w == 0 ? (double)k->cpu / 1000.0
			    : w == 1	    ? (double)k->mem / GIB
					    : 1;
		}
		glp_set_mat_row(kp, w + 1, (int)ni, ind, val);
	}
	for (g = 1; g <= ngroups; g++) {
		for (len = 0, j = 0; j < ni; j++)
			if (K[items[j]].group == g) {
				ind[++len] = (int)j + 1;
				val[len] = 1;
			}
		glp_set_mat_row(kp, 3 + g, len, ind, val);
	}
	glp_init_smcp(&parm);
	parm.msg_lev = GLP_MSG_OFF;
	if (mip) {
		glp_iocp ip;

		for (j = 0; j < ni; j++)
			glp_set_col_kind(kp, (int)j + 1, GLP_IV);
		glp_init_iocp(&ip);
		ip.msg_lev = GLP_MSG_OFF;
		ip.presolve = GLP_ON;
		ip.cb_func = mip_cb;
		mip_bound = INFINITY;
		mip_start = cpu_seconds();
		*exact = 0;
		opt = -1;
		if (glp_intopt(kp, &ip) == 0 || glp_mip_status(kp) == GLP_FEAS) {
			opt = glp_mip_obj_val(kp);
			*exact = glp_mip_status(kp) == GLP_OPT || mip_bound <= thr;
			for (j = 0; j < ni; j++)
				best[j] = (int)lround(glp_mip_col_val(kp, (int)j + 1));
		} else if (mip_bound <= thr) /* stopped before it found a packing */
			*exact = 1;
		glp_delete_prob(kp);
		free(ind);
		free(val);
		return opt;
	}
	lam[0] = lam[1] = lam[2] = 0;
	if (glp_simplex(kp, &parm) == 0 && glp_get_status(kp) == GLP_OPT) {
		for (w = 0; w < 3; w++)
			lam[w] = fabs(glp_get_row_dual(kp, w + 1));
		opt = glp_get_obj_val(kp);
	} else /* any weights give a bound; these just a weaker one */
		lam[0] = lam[1] = lam[2] = 1;
	glp_delete_prob(kp);
	free(ind);
	free(val);
	return opt;
}

/*
 * The best packing of size t at prices p, a node charged mu on top of its
 * price (the ceiling row's dual): its worth (a column in col when worth >
 * price + mu), and in *ub what no packing of t can be worth more than (at
 * least price + mu, a little over: that is all the bound needs).
 */
static double
price_size(size_t t, const double *p, double mu, int *col, double *ub)
{
	double lpub;
	size_t j;

	pi = p;
	bt = &T[t];
	thr = (bt->price + mu) * (1 + EPS);
	npool = 0;
	cut_short = 0;
	ni = 0;
	for (j = 0; j < nk; j++)
		if (p[j] > 1e-12 && fit_count(&K[j], bt) > 0)
			items[ni++] = j;
	memset(col, 0, nk * sizeof(*col));
	*ub = 0;
	if (!ni)
		return 0;
	lpub = surrogate(0, NULL);
	if (lpub <= thr) { /* not even the knapsack's LP beats the price */
		*ub = lpub;
		return 0;
	}
	qsort(items, ni, sizeof(*items), item_cmp);
	for (j = 0; j < ni; j++)
		wt[j] = lam[0] * (double)K[items[j]].cpu / 1000.0 +
		    lam[1] * (double)K[items[j]].mem / GIB + lam[2];
	order_items();
	memset(cur, 0, nk * sizeof(*cur));
	memset(best, 0, nk * sizeof(*best));
	best_v = 0;
	bb_nodes = 0;
	*ub = bound_from(0, bt->cpu, bt->mem, bt->pods);
	if (lpub < *ub)
		*ub = lpub;
	dfs(0, bt->cpu, bt->mem, bt->pods, 0);
	if (bb_nodes >= bb_limit) {
		/*
		 * Cut short, often on a plateau of packings all worth about the
		 * price: again, pruning what cannot beat it by TOL (a bound a
		 * little weaker, at most TOL on this size's ratio).
		 */
		thr = (bt->price + mu) * (1 + TOL);
		bb_nodes = 0;
		memset(cur, 0, nk * sizeof(*cur));
		dfs(0, bt->cpu, bt->mem, bt->pods, 0);
	}
	cut_short = bb_nodes >= bb_limit;
	if (bb_nodes < bb_limit) /* searched to the end */
		*ub = best_v > thr ? best_v : thr;
	else if (use_mip && cpu_seconds() < seconds_max) {
		/* cut short (large sizes): GLPK's branch and bound */
		int exact;
		int *keep = xrealloc(NULL, ni * sizeof(int));
		double mv;

		memcpy(keep, best, ni * sizeof(int));
		mv = surrogate(1, &exact);
		if (mv > best_v)
			best_v = mv;
		else
			memcpy(best, keep, ni * sizeof(int));
		if (exact)
			*ub = best_v > thr ? best_v : thr;
		cut_short = !exact;
		free(keep);
	}
	for (j = 0; j < ni; j++)
		col[items[j]] = best[j];
	return best_v;
}

/* --- the master LP --- */

static void add_col(glp_prob *lp, size_t t, const int *a);

/*
 * More columns to start from, where groups make the master's first duals
 * poor (each grouped class alone is a node a pod): for each size, the
 * packings of first fit decreasing (largest CPU first, a group's pod where
 * none of it is yet), each as many nodes as what is left allows, until
 * what is left fits the size no more.  Only a start: any columns would do.
 */
static void
seed(glp_prob *lp, int *a)
{
	double *rem = xrealloc(NULL, nk * sizeof(*rem));
	size_t t, j;

	for (t = 0; t < nt; t++) {
		int any = 1;

		for (j = 0; j < nk; j++)
			rem[j] = ceil(K[j].n);
		while (any) {
			long long c = T[t].cpu, m = T[t].mem, p = T[t].pods, x;
			double r = INFINITY;

			memset(gused, 0, (size_t)ngroups + 1);
			memset(a, 0, nk * sizeof(*a));
			any = 0;
			for (j = nk; j-- > 0 && p > 0;) {
				const struct cls *k = &K[j];

				if (rem[j] < 1 || (k->group && gused[k->group]))
					continue;
				x = (long long)rem[j];
				if (k->group)
					x = 1;
				if (x > p)
					x = p;
				if (k->cpu > 0 && c / k->cpu < x)
					x = c / k->cpu;
				if (k->mem > 0 && m / k->mem < x)
					x = m / k->mem;
				if (x <= 0)
					continue;
				a[j] = (int)x;
				c -= x * k->cpu;
				m -= x * k->mem;
				p -= x;
				if (k->group)
					gused[k->group] = 1;
				any = 1;
			}
			if (!any)
				break;
			/* as many nodes of it as what is left allows */
			for (j = 0; j < nk; j++)
				if (a[j] && floor(rem[j] / a[j]) < r)
					r = floor(rem[j] / a[j]);
			for (j = 0; j < nk; j++)
				rem[j] -= r * a[j];
			add_col(lp, t, a);
		}
	}
	memset(gused, 0, (size_t)ngroups + 1);
	free(rem);
}

static void
add_col(glp_prob *lp, size_t t, const int *a)
{
	int *ind = xrealloc(NULL, (nk + 2) * sizeof(int));
	double *val = xrealloc(NULL, (nk + 2) * sizeof(double));
	int j, len = 0, c;

	for (j = 0; j < (int)nk; j++)
		if (a[j]) {
			ind[++len] = j + 1;
			val[len] = a[j];
		}
	if (room >= 0) { /* a node of the ceiling row */
		ind[++len] = (int)nk + 1;
		val[len] = 1;
	}
	c = glp_add_cols(lp, 1);
	glp_set_col_bnds(lp, c, GLP_LO, 0, 0);
	glp_set_obj_coef(lp, c, T[t].price);
	glp_set_mat_col(lp, c, len, ind, val);
	if (ncol == acol) {
		acol = acol ? 2 * acol : 256;
		C = xrealloc(C, acol * sizeof(*C));
	}
	C[ncol].t = t;
	C[ncol].lpcol = c;
	C[ncol].a = xrealloc(NULL, nk * sizeof(int));
	memcpy(C[ncol++].a, a, nk * sizeof(int));
	free(ind);
	free(val);
}

/*
 * Worth of packing a of size t at duals d and node charge md, less its
 * price: > 0 when it prices a column there.
 */
static double
reduced(const double *d, double md, size_t t, const int *a)
{
	double v = -md - T[t].price;
	size_t j;

	for (j = 0; j < nk; j++)
		v += d[j] * a[j];
	return v;
}

/*
 * One round of pricing at duals d (classes) and node charge md: a column
 * for every size whose best packing is worth more than its price plus md
 * (and the search's other such packings), GLPK's search for the FOCUS
 * sizes whose bound is only the knapsack's LP.  Into *rho the largest
 * ratio of what a packing of a size may be worth, less md, to its price
 * (1 at least; worst: that size), into *gain the most a node may be worth
 * over its price plus md, into *open whether a packing may price at d.
 * Returns the columns added; *better counts those that price at the
 * master's own duals (p, mu), which smoothed duals d need not do.
 */
static int
price_round(glp_prob *lp, const double *d, double md, const double *p, double mu, int *a,
    double *ubs, int *cut, double *rho, double *gain, size_t *worst, int *open, int *better)
{
	size_t t, j;
	int f, added = 0;

	*rho = 1;
	*gain = 0;
	*worst = 0;
	*open = 0;
	*better = 0;
	for (t = 0; t < nt; t++) {
		double v = price_size(t, d, md, a, &ubs[t]);

		cut[t] = cut_short;
		if (v > (T[t].price + md) * (1 + EPS)) {
			add_col(lp, t, a);
			*better += reduced(p, mu, t, a) > T[t].price * EPS;
			added++;
		}
		/* the search's other packings that price: more columns a round */
		for (j = 1; j < npool && j < NPOOL; j++) {
			const int *q = pool + (size_t)((npool - 1 - j) % NPOOL) * nk;

			add_col(lp, t, q);
			*better += reduced(p, mu, t, q) > T[t].price * EPS;
			added++;
		}
	}
	/*
	 * Farley's bound rests on the size whose packings may be worth most
	 * for their price: where that is only the knapsack's LP (our search
	 * cut short), GLPK's branch and bound searches it, for the FOCUS
	 * worst sizes at most a round.
	 */
	for (f = 0; f < FOCUS; f++) {
		double v, best_r = 1 + EPS;
		size_t w = nt;
		int um = use_mip;

		for (t = 0; t < nt; t++)
			if (cut[t] && (ubs[t] - md) / T[t].price > best_r) {
				best_r = (ubs[t] - md) / T[t].price;
				w = t;
			}
		if (w == nt)
			break;
		for (t = 0; t < nt; t++)
			if (!cut[t] && (ubs[t] - md) / T[t].price > best_r)
				break;
		if (t < nt) /* a size searched to the end is worse: no use */
			break;
		use_mip = 1;
		v = price_size(w, d, md, a, &ubs[w]);
		use_mip = um;
		cut[w] = 0;
		if (v > (T[w].price + md) * (1 + EPS)) {
			add_col(lp, w, a);
			*better += reduced(p, mu, w, a) > T[w].price * EPS;
			added++;
		}
	}
	for (t = 0; t < nt; t++) {
		if ((ubs[t] - md) / T[t].price > *rho) {
			*rho = (ubs[t] - md) / T[t].price;
			*worst = t;
		}
		if (ubs[t] - md - T[t].price > *gain)
			*gain = ubs[t] - md - T[t].price;
		if (ubs[t] > (T[t].price + md) * (1 + EPS))
			*open = 1;
	}
	return added;
}

static void
print_fleet(glp_prob *lp, int mip)
{
	size_t c, j;
	double nodes = 0;

	for (c = 0; c < ncol; c++) {
		double x = mip ? glp_mip_col_val(lp, C[c].lpcol) : glp_get_col_prim(lp, C[c].lpcol);

		if (x < 1e-9)
			continue;
		nodes += x;
		fprintf(stderr, "%10.3f x %-24s $%.4f/h:", x, T[C[c].t].name, T[C[c].t].price);
		for (j = 0; j < nk; j++)
			if (C[c].a[j])
				fprintf(stderr, " %d*(%lldm,%lldMi%s)", C[c].a[j], K[j].cpu,
				    K[j].mem / (1024 * 1024), K[j].group ? ",g" : "");
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "%10.3f nodes\n", nodes);
}

/*
 * The pods the fleet of snapshot path runs into K, and the sizes its
 * NodePools allow into T (the catalog loaded).
 */
static int
load_snapshot(const char *path)
{
	FILE *f = fopen(path, "r");
	struct nap_cluster *cl = nap_cluster_new();
	struct nap_bound_class *k;
	struct nap_bound_type *allow;
	struct nap_err err;
	char *line = NULL;
	size_t cap = 0, n, i, nallow, lineno = 0, gpu = 0;
	double pods;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "config-bound: %s: %s\n", path, strerror(errno));
		nap_cluster_free(cl);
		return -1;
	}
	nap_cluster_keep_pod_json(cl, 0);
	nap_cluster_keep_node_json(cl, 0);
	while (rc == 0 && getline(&line, &cap, f) > 0) {
		json_object *rec = json_tokener_parse(line);

		lineno++;
		if (!rec) {
			fprintf(stderr, "config-bound: %s:%zu: not JSON\n", path, lineno);
			rc = -1;
		} else if (nap_json_key(rec, "object") &&
		    nap_cluster_apply_record(cl, rec, &err) < 0) {
			fprintf(stderr, "config-bound: %s:%zu: %s\n", path, lineno, err.msg);
			rc = -1;
		}
		json_object_put(rec);
	}
	free(line);
	fclose(f);
	if (rc == 0) {
		n = nap_bound_fleet_classes(cl, &k, &pods);
		nallow = nap_bound_fleet_types(cl, cat, k, n, &allow);
		K = xrealloc(NULL, (n ? n : 1) * sizeof(*K));
		for (i = 0; i < n; i++) {
			if (k[i].gpu > 0) {
				gpu += (size_t)k[i].n;
				continue;
			}
			K[nk].cpu = llround(k[i].cpu * 1000);
			K[nk].mem = llround(k[i].mem * GIB);
			K[nk].group = 0;
			K[nk++].n = k[i].n;
		}
		if (gpu)
			fprintf(stderr, "config-bound: %zu GPU pods left out\n", gpu);
		rc = load_sizes(allow, nallow);
		free(allow);
		free(k);
	}
	nap_cluster_free(cl);
	return rc;
}

int
main(int argc, char **argv)
{
	glp_prob *lp;
	glp_smcp parm;
	double *p, z = 0, lb = 0, *ubs, mu = 0, over = 0, *d, *pc, muc = 0, alpha = ALPHA;
	int *a, *cut, verbose = 0, integer = 0, iter, exact = 0, level = -1, nogroups = 0, slack = 0;
	int have = 0, mispriced = 0, center_fd = -1;
	double whole = -1;
	size_t j, t, unfit = 0;

	const char *snapshot = NULL;
	struct nap_err err;

	while (argc > 1 &&
	    (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "-i") == 0 ||
		strcmp(argv[1], "-n") == 0 ||
		((strcmp(argv[1], "-s") == 0 || strcmp(argv[1], "-g") == 0 ||
		     strcmp(argv[1], "-m") == 0) &&
		    argc > 2))) {
		if (argv[1][1] == 'v')
			verbose = 1;
		else if (argv[1][1] == 'i')
			integer = 1;
		else if (argv[1][1] == 'n')
			nogroups = 1;
		else {
			if (argv[1][1] == 's')
				snapshot = argv[2];
			else if (argv[1][1] == 'm') {
				char *end;
				long l = strtol(argv[2], &end, 10);

				room = *end || l < 0 ? -1 : (double)l;
				level = *end || l < 0 ? -2 : level;
			} else {
				char *end;
				long l = strtol(argv[2], &end, 10);

				level = *end || l < 0 || (size_t)l >= NGRIDS ? -2 : (int)l;
			}
			argv++;
			argc--;
		}
		argv++;
		argc--;
	}
	if (argc != 3 || level < -1) {
		fprintf(stderr,
		    "usage: config-bound [-i] [-n] [-v] [-g LEVEL] [-m NODES] [-s SNAPSHOT] CATALOG "
		    "REGION [<requests]\n");
		return 64;
	}
	if (nap_catalog_load(&cat, argv[1], argv[2], NULL, &err) < 0) {
		fprintf(stderr, "config-bound: %s\n", err.msg);
		return 65;
	}
	if (snapshot ? load_snapshot(snapshot) < 0 : read_classes() < 0 || load_sizes(NULL, 0) < 0)
		return 65;
	if (nogroups) {
		for (j = 0; j < nk; j++)
			K[j].group = 0;
		ngroups = 0;
		merge();
	}
	coarsen(MAX_SHAPES, level);
	if (verbose)
		for (t = 0; t < nt; t++)
			fprintf(stderr, "size %s %lldm %lldKi %lld pods $%.4f/h\n", T[t].name, T[t].cpu,
			    T[t].mem / 1024, T[t].pods, T[t].price);
	/* classes no size fits are left out (counted on stderr) */
	for (j = 0; j < nk;) {
		for (t = 0; t < nt && fit_count(&K[j], &T[t]) == 0; t++)
			;
		if (t == nt) {
			unfit += (size_t)K[j].n;
			K[j] = K[--nk];
		} else
			j++;
	}
	if (unfit)
		fprintf(stderr, "config-bound: %zu pods fit no size\n", unfit);
	if (!nk) {
		printf("0.0000\n");
		return 0;
	}
	qsort(K, nk, sizeof(*K), cls_cmp);
	p = xrealloc(NULL, nk * sizeof(double));
	d = xrealloc(NULL, nk * sizeof(double));
	pc = xrealloc(NULL, nk * sizeof(double));
	a = xrealloc(NULL, nk * sizeof(int));
	ubs = xrealloc(NULL, nt * sizeof(double));
	cut = xrealloc(NULL, nt * sizeof(int));
	items = xrealloc(NULL, nk * sizeof(size_t));
	pool = xrealloc(NULL, NPOOL * nk * sizeof(int));
	cur = xrealloc(NULL, nk * sizeof(int));
	best = xrealloc(NULL, nk * sizeof(int));
	wt = xrealloc(NULL, nk * sizeof(double));
	gused = xrealloc(NULL, (size_t)ngroups + 1);
	memset(gused, 0, (size_t)ngroups + 1);
	ent = xrealloc(NULL, nk * sizeof(*ent));
	sw = xrealloc(NULL, nk * sizeof(*sw));
	sv = xrealloc(NULL, nk * sizeof(*sv));
	sg = xrealloc(NULL, nk * sizeof(*sg));

	if (getenv("CONFIG_BOUND_SECONDS"))
		seconds_max = atof(getenv("CONFIG_BOUND_SECONDS"));
	if (getenv("CONFIG_BOUND_ALPHA"))
		alpha = atof(getenv("CONFIG_BOUND_ALPHA"));
	if (ngroups && !getenv("CONFIG_BOUND_NO_CENTER")) {
		/*
		 * Phase 0, in a child: the LP without groups (classes of equal
		 * requests merged).  Its packings include all of this LP's, so
		 * its bound is one here too; and its best duals, each class at
		 * the dual of its requests, are a center to smooth from (their
		 * Farley bound here is at least phase 0's).
		 */
		int fd[2];
		pid_t pid;

		if (pipe(fd) < 0 || (pid = fork()) < 0) {
			fprintf(stderr, "config-bound: phase 0: %s\n", strerror(errno));
			return 71;
		}
		if (pid == 0) {
			close(fd[0]);
			center_fd = fd[1];
			for (j = 0; j < nk; j++)
				K[j].group = 0;
			ngroups = 0;
			merge();
			alpha = 0; /* converges fast as it is */
		} else {
			FILE *in = fdopen(fd[0], "r");
			double cs = 0, lb0 = 0, v;
			long long c_, m_;
			int it0 = 0, st;

			close(fd[1]);
			for (j = 0; j < nk; j++)
				pc[j] = 0;
			if (!in || fscanf(in, "%lg %lg %lg %d", &lb0, &muc, &cs, &it0) != 4) {
				fprintf(stderr, "config-bound: phase 0 failed\n");
				return 71;
			}
			while (fscanf(in, "%lld %lld %lg", &c_, &m_, &v) == 3)
				for (j = 0; j < nk; j++)
					if (K[j].cpu == c_ && K[j].mem == m_)
						pc[j] = v;
			fclose(in);
			if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "config-bound: phase 0 failed\n");
				return 71;
			}
			fprintf(stderr,
			    "config-bound: without groups %.4f, %d iterations, %.1f CPU s\n", lb0,
			    it0, cs);
			lb = lb0;
			have = 1;
			phase0_cpu = cs;
		}
	}
	glp_term_out(GLP_OFF);
	lp = glp_create_prob();
	glp_set_obj_dir(lp, GLP_MIN);
	glp_add_rows(lp, (int)nk + (room >= 0));
	for (j = 0; j < nk; j++)
		glp_set_row_bnds(lp, (int)j + 1, GLP_LO, K[j].n, 0);
	if (room >= 0) {
		/*
		 * The ceiling: nodes <= room.  The start below may break it, so
		 * a slack buys nodes over it at a price dearer than any size's
		 * (a relaxation: the bound stays one on fleets within room);
		 * fixed at 0 for -i.
		 */
		int ind[2] = { 0, (int)nk + 1 };
		double val[2] = { 0, -1 }, dear = 0;

		for (t = 0; t < nt; t++)
			if (T[t].price > dear)
				dear = T[t].price;
		glp_set_row_bnds(lp, (int)nk + 1, GLP_UP, 0, room);
		slack = glp_add_cols(lp, 1);
		glp_set_col_bnds(lp, slack, GLP_LO, 0, 0);
		glp_set_obj_coef(lp, slack, SLACK_PRICE * dear);
		glp_set_mat_col(lp, slack, 1, ind, val);
	}
	/* start: each class alone on the size that holds it cheapest per pod */
	for (j = 0; j < nk; j++) {
		size_t bt_ = 0;
		double bc = -1;

		for (t = 0; t < nt; t++) {
			long long u = fit_count(&K[j], &T[t]);

			if (u > 0 && (bc < 0 || T[t].price / (double)u < bc)) {
				bc = T[t].price / (double)u;
				bt_ = t;
			}
		}
		memset(a, 0, nk * sizeof(*a));
		a[j] = (int)fit_count(&K[j], &T[bt_]);
		add_col(lp, bt_, a);
	}
	if (ngroups)
		seed(lp, a);
	glp_init_smcp(&parm);
	parm.msg_lev = GLP_MSG_OFF;
	for (iter = 0; iter < MAX_ITER; iter++) {
		double rho, gain, md, dz, al = have ? alpha : 0;
		size_t worst;
		int added, open, better;

		if (glp_simplex(lp, &parm) != 0 || glp_get_status(lp) != GLP_OPT) {
			fprintf(stderr, "config-bound: the simplex failed\n");
			return 70;
		}
		z = glp_get_obj_val(lp);
		for (j = 0; j < nk; j++)
			p[j] = glp_get_row_dual(lp, (int)j + 1);
		/* the charge of a node: the ceiling row's dual (<= 0 in a minimum) */
		mu = room >= 0 ? fmax(0, -glp_get_row_dual(lp, (int)nk + 1)) : 0;
		over = slack ? glp_get_col_prim(lp, slack) : 0;
		for (;;) {
			/*
			 * Wentges' smoothing: price at duals between the master's
			 * and the best so far (the center), which jump about less
			 * than the master's from round to round.
			 */
			for (j = 0; j < nk; j++)
				d[j] = al * pc[j] + (1 - al) * p[j];
			md = al * muc + (1 - al) * mu;
			added = price_round(lp, d, md, p, mu, a, ubs, cut, &rho, &gain, &worst, &open,
			    &better);
			/*
			 * (d, md) / rho is a feasible dual of the whole LP (every
			 * packing a of every size t: d.a - md <= rho price_t; md at
			 * most the slack's price, as mu and muc are), worth dz / rho;
			 * and with at most room nodes no fleet costs less than dz -
			 * room * gain (Lagrange: the most a node can save at (d, md)).
			 * At the master's own duals (al 0) dz is z.
			 */
			for (dz = room >= 0 ? -room * md : 0, j = 0; j < nk; j++)
				dz += K[j].n * d[j];
			if (dz / rho > lb || (room >= 0 && dz - room * gain > lb) || !have) {
				lb = fmax(dz / rho, room >= 0 ? dz - room * gain : 0);
				memcpy(pc, d, nk * sizeof(*pc));
				muc = md;
				have = 1;
			}
			if (getenv("CONFIG_BOUND_TRACE"))
				fprintf(stderr,
				    "iter %d: z %.4f alpha %.2f rho %.6f (%s) lb %.4f mu %.6f over %.1f "
				    "cols %zu better %d cpu %.2f\n",
				    iter, z, al, rho, T[worst].name, lb, md, over, ncol, better,
				    cpu_seconds());
			if (al == 0 || better)
				break;
			/* a mispricing: nothing the master wants; again at its duals */
			al = 0;
			mispriced++;
		}
		if (!open) { /* at the master's duals: nothing prices */
			exact = 1;
			lb = z;
			break;
		}
		if (lb >= z * (1 - GAP))
			break;
		if (cpu_seconds() > seconds_max)
			break;
		/*
		 * Where our search was cut short, GLPK's searches too, but only
		 * once ours finds no column anywhere: it is the slow part.
		 */
		if (added)
			use_mip = 0;
		else if (use_mip && mip_seconds >= MIP_SECONDS_MAX)
			break; /* GLPK's search ran out of time too */
		else if (use_mip)
			mip_seconds *= 4; /* it did somewhere: longer */
		else
			use_mip = 1;
	}
	if (center_fd >= 0) { /* phase 0's answer: its bound and center */
		FILE *o = fdopen(center_fd, "w");

		fprintf(o, "%.17g %.17g %.3f %d\n", lb, muc, cpu_seconds(), iter + 1);
		for (j = 0; j < nk; j++)
			fprintf(o, "%lld %lld %.17g\n", K[j].cpu, K[j].mem, pc[j]);
		fclose(o);
		_exit(0);
	}
	if (integer) {
		/* the best whole fleet of the columns found: a fleet nap could buy */
		glp_iocp ip;

		for (j = 0; j < ncol; j++)
			glp_set_col_kind(lp, C[j].lpcol, GLP_IV);
		if (slack)
			glp_set_col_bnds(lp, slack, GLP_FX, 0, 0);
		glp_init_iocp(&ip);
		ip.msg_lev = GLP_MSG_OFF;
		ip.presolve = GLP_ON;
		ip.tm_lim = 10000;
		ip.mip_gap = 1e-3;
		if (glp_intopt(lp, &ip) == 0 || glp_mip_status(lp) == GLP_FEAS)
			whole = glp_mip_obj_val(lp);
	}
	if (verbose)
		print_fleet(lp, integer && whole >= 0);
	if (room >= 0 && over > 1e-6)
		fprintf(stderr,
		    "config-bound: at most %.0f nodes: the LP still puts %.1f over it, each at "
		    "%d times the dearest size\n",
		    room, over, SLACK_PRICE);
	else if (room >= 0)
		fprintf(stderr, "config-bound: at most %.0f nodes: a node charged $%.4f/h more\n",
		    room, mu);
	/* the optimum lies between lb and z */
	fprintf(stderr,
	    "config-bound: %zu classes, %zu sizes, %zu columns, %d iterations (%d mispriced), %.1f CPU s, %s, "
	    "within %.3f %% of the optimum (master %.4f)\n",
	    nk, nt, ncol, iter + 1, mispriced, cpu_seconds(),
	    exact		      ? "exact"
		: lb >= z * (1 - GAP) ? "converged"
				      : "inexact",
	    z > 0 ? (z - lb) / z * 100 : 0, z);
	if (integer)
		printf("%.4f %.4f\n", lb, whole);
	else
		printf("%.4f\n", lb);
	glp_delete_prob(lp);
	for (j = 0; j < ncol; j++)
		free(C[j].a);
	free(C);
	free(p);
	free(d);
	free(pc);
	free(a);
	free(ubs);
	free(cut);
	free(items);
	free(pool);
	free(cur);
	free(best);
	free(wt);
	free(gused);
	free(ent);
	free(sw);
	free(sv);
	free(sg);
	free(K);
	free(T);
	nap_catalog_free(cat);
	return 0;
}
