/*
 * cost.h - nap-cost's report of the fleet at one moment: what each node
 * costs per hour (by NodePool, capacity type, zone and size), how much of
 * each node and pool the pods request, and the whole-pod bound of those
 * pods; and the three ways of writing it (table, NDJSON, SVG chart).
 *
 * cost_sample is a pure function of the cluster model, the catalog and
 * the bound types (report.c); the writers (print.c) only format.  A sample
 * owns its strings and arrays; free it with cost_sample_free.
 */
#ifndef NAP_COST_H
#define NAP_COST_H

#include <stdint.h>
#include <stdio.h>

#include "bound.h"
#include "catalog.h"
#include "model.h"

/* One row of a breakdown, or one node. */
struct cost_row {
	char *key;			    /* NodePool, capacity type, zone, size, or node name */
	char *pool, *size, *zone, *captype; /* nodes only */
	int nodes;
	int unpriced; /* nodes whose size the catalog does not price */
	double usd;
	int64_t cpu_req, cpu_alloc; /* milli-cores */
	int64_t mem_req, mem_alloc; /* bytes */
};

struct cost_rows {
	struct cost_row *v;
	size_t n, alloc;
};

enum { COST_BY_POOL, COST_BY_CAPTYPE, COST_BY_ZONE, COST_BY_SIZE, COST_BY_N };

struct cost_sample {
	int64_t time;	     /* seconds since the epoch, 0 when no record said */
	struct cost_row all; /* the fleet */
	struct cost_rows by[COST_BY_N];
	struct cost_rows nodes;
	double pods;	  /* pods in the bound (bound to a node, not DaemonSet or static) */
	double unplaced;  /* of those, pods no instance type fits */
	double bound;	  /* whole-pod bound, USD/h */
	double aggregate; /* aggregate bound, USD/h */
	unsigned bound_flags;
};

/* The cache of the last bound, so an unchanged set of pods is not solved again. */
struct cost_bound_cache {
	uint64_t key;
	int valid;
	double bound, aggregate, unplaced;
	unsigned flags;
};

/*
 * The fleet of cl priced from cat (may be NULL: nothing to price yet), its
 * pods bounded over the types their NodePools allow
 * (nap_bound_fleet_types); cache keeps the bound while the pods and the
 * NodePools stay as they were.  0, or -1 with err when the bound could not
 * be solved.
 */
int cost_sample(struct cost_sample *s, const struct nap_cluster *cl, const struct nap_catalog *cat,
    struct cost_bound_cache *cache, struct nap_err *err);
void cost_sample_free(struct cost_sample *s);

/* Writers. */
void cost_print_table(FILE *f, const struct cost_sample *s);
json_object *cost_record(const struct cost_sample *s);
/* What the chart needs of a sample. */
struct cost_point {
	int64_t time;
	double usd, bound;
};

/* An SVG line chart of $/h and bound over the points' times; 0, or -1 with errno. */
int cost_write_svg(const char *path, const struct cost_point *p, size_t n);

#endif
