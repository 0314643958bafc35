/*
 * bound.h - lower bounds on what it costs per hour to run a set of pods on
 * the instance types of a catalog: no packing of those pods onto nodes of
 * those types, whoever computes it, costs less.  nap-cost sets a fleet's
 * price against them; bench/ judges nap-solve's plans by them.
 *
 * Two bounds, both linear programs over nodes that may be bought in
 * fractions:
 *
 *   aggregate  the cheapest cover of the pods' total CPU, memory and pod
 *              count (a pod may be split across nodes; GPUs and capacity
 *              types are not looked at);
 *   whole-pod  every pod placed whole on a type it fits (its CPU, memory
 *              and GPUs each at most the type's allocatable, at a capacity
 *              type it allows), no type holding more CPU, memory, GPUs or
 *              pods than its nodes have.  Any real
 *              packing is a solution of it, so it is at least as tight as
 *              the aggregate bound and still a bound.
 *
 * The whole-pod bound is solved by column generation on node fillings (one
 * node of a type filled with fractions of pods of each request), in its
 * dual form: a small master program prices each distinct request, and each
 * type checks whether some filling of one node is worth more than the
 * node costs at those prices.  When no filling is, the prices prove the
 * bound exact; if the iteration limit comes first, the prices are scaled
 * down until no filling is worth more than its node, which keeps the
 * answer a bound (NAP_BOUND_INEXACT says so).
 *
 * Units: cores, GiB and pods; prices in USD per hour.  Nothing here reads
 * JSON or the catalog except nap_bound_catalog_types.  Ownership: callers
 * own every array.  Errors: -1 with err NAP_EX_SOFTWARE when the simplex
 * fails (it should not: both programs are feasible and bounded).
 */
#ifndef NAP_BOUND_H
#define NAP_BOUND_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "model.h"
#include "nap.h"

struct nap_bound_type {
	const char *name;      /* borrowed (from the catalog), for messages */
	double price;	       /* USD/h, > 0 */
	double cpu, mem, pods; /* allocatable: cores, GiB, pods */
	double gpu;	       /* allocatable GPUs (NVIDIA or AMD) */
	unsigned captype;      /* the NAP_BOUND_* capacity type it is priced at; 0 = any */
};

/*
 * n pods that each request cpu cores, mem GiB and gpu GPUs (and one pod
 * slot), and may run on the capacity types in allow (NAP_BOUND_* bits; 0 =
 * any).
 */
struct nap_bound_class {
	double cpu, mem, gpu;
	double n;
	unsigned allow;
};

/*
 * Sort k by CPU, memory, GPUs and capacity types, and merge the classes
 * that are equal in all four (their counts added); returns how many classes
 * are left at the front of k.
 */
size_t nap_bound_classes_merge(struct nap_bound_class *k, size_t n);

/* Capacity types nap_bound_catalog_types may price a type at (a bit set). */
#define NAP_BOUND_ON_DEMAND 1u
#define NAP_BOUND_SPOT 2u

/* nap_bound_whole's *flags */
#define NAP_BOUND_INEXACT 1u /* the iteration limit came first: a bound, not the optimum */

/*
 * The instance types of c as bound types: allocatable under o (NULL = the
 * default AKSNodeClass), one entry for each capacity type in captypes the
 * type is offered at, priced at its cheapest available offering of that
 * capacity type.  Types with no such offering, or only the
 * placeholder price NAP_CATALOG_MISSING_PRICE, are left out.  *out is a new
 * array (caller frees); returns its length.
 */
size_t nap_bound_catalog_types(const struct nap_catalog *c, const struct nap_itype_opts *o,
    unsigned captypes, struct nap_bound_type **out);

/* The aggregate bound of cpu cores, mem GiB and pods pods: 0 with *usd, or -1. */
int nap_bound_aggregate(const struct nap_bound_type *t, size_t nt, double cpu, double mem,
    double pods, double *usd, struct nap_err *err);

/* The aggregate bound of the classes k, those no type fits left out. */
int nap_bound_aggregate_classes(const struct nap_bound_type *t, size_t nt,
    const struct nap_bound_class *k, size_t nk, double *usd, struct nap_err *err);

/*
 * The whole-pod bound of the classes k: 0 with *usd, or -1.  Pods of a
 * class no type fits are left out and counted in *unplaced (may be NULL).
 * flags (may be NULL) gets NAP_BOUND_* bits.
 */
int nap_bound_whole(const struct nap_bound_type *t, size_t nt, const struct nap_bound_class *k,
    size_t nk, double *usd, double *unplaced, unsigned *flags, struct nap_err *err);

/*
 * The dense simplex under both bounds, for other planners: max c.v subject
 * to A v <= b, v >= 0, A m x n row-major, b >= 0 (the origin is feasible).
 * 0 with *val, v (n values) and dual (m values, each row's shadow price;
 * v and dual may be NULL); 1 when unbounded; -1 at the pivot limit.
 */
int nap_bound_simplex(size_t m, size_t n, const double *A, const double *b, const double *c,
    double *val, double *v, double *dual);

/* The capacity types (NAP_BOUND_* bits) the NodePools of cl allow; on-demand when none. */
unsigned nap_bound_fleet_captypes(const struct nap_cluster *cl);
/*
 * The instance types of c the fleet of cl may run on, as
 * nap_bound_catalog_types gives them: each type at each capacity type some
 * NodePool of cl allows it (the pool's requirements meet the type's labels);
 * every type at the capacity types of nap_bound_fleet_captypes when cl has
 * no NodePool, or when some pod in classes k (nk of them) has allow 0 (it
 * runs where no NodePool would put it).  A bound over sizes or capacity a
 * NodePool forbids is not the bound of the pods that pool runs.  *out is a
 * new array (caller frees); returns its length.
 */
size_t nap_bound_fleet_types(const struct nap_cluster *cl, const struct nap_catalog *c,
    const struct nap_bound_class *k, size_t nk, struct nap_bound_type **out);
/*
 * The pods cl's nodes run (bound, not terminal, not DaemonSet or static:
 * those come with every node in any packing) as merged classes, each
 * allowed the capacity types of the NodePools that would take it (0, any,
 * when none would: it runs on a node nap did not make).  *out is a new
 * array (caller frees); *pods gets how many pods; returns how many classes.
 */
size_t nap_bound_fleet_classes(
    const struct nap_cluster *cl, struct nap_bound_class **out, double *pods);

/*
 * What nap_bound_fleet remembers between calls.  Zero-initialise; it holds
 * nothing to free.  solves counts the LP solves it made (tests, benches).
 */
struct nap_bound_fleet_cache {
	uint64_t gen; /* the caller's generation of the answer; 0: none kept */
	uint64_t key; /* the classes, capacity types and type count it was solved for */
	int valid;
	const struct nap_catalog *cat;
	double usd;
	size_t solves;
};

/*
 * The whole-pod bound of the pods cl's fleet runs (nap_bound_fleet_classes),
 * over the sizes of cat its NodePools allow (nap_bound_fleet_types): the
 * cheapest any packing of them could cost, what nap-cost and nap-disrupt
 * set the fleet's price against.  cache (NULL: none) keeps the last
 * answer: asked again with the same gen (the caller's count of cluster
 * changes, > 0) and catalog it is returned without looking at cl; with
 * another gen the classes and sizes are worked out again but the LP is
 * solved only when they or the catalog changed.  0 and *usd, or -1 and
 * err.
 */
int nap_bound_fleet(const struct nap_cluster *cl, const struct nap_catalog *cat, uint64_t gen,
    struct nap_bound_fleet_cache *cache, double *usd, struct nap_err *err);

#endif
