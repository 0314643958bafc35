/*
 * nap-cost - what the fleet costs: reads state records (a snapshot or a
 * stream), prices every node from the catalog, and reports $/h by NodePool,
 * capacity type, zone and size, utilisation per node and pool, and the
 * whole-pod bound of the pods the fleet runs; as a table at the end of
 * input, as Cost records, or as an SVG chart over time.
 *
 * Time comes from the records: the latest creationTimestamp,
 * deletionTimestamp or condition lastTransitionTime read so far.  A sample
 * is taken at each SYNCED, whenever that time moves on after the first
 * SYNCED (the state as it stood at the time before), and at end of input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bound.h"
#include "catalog.h"
#include "config.h"
#include "cost.h"
#include "json.h"
#include "model.h"
#include "prog.h"
#include "rec.h"
#include "wellknown.h"

#define SYNOPSIS                                                                                   \
	"nap-cost [-hVv] [--catalog path] [--config file] [--region region]\n"                     \
	"       [--spot-prices file] [--ndjson] [--svg file] [--no-bound-cache]\n"                 \
	"       [--log-format text|json]"

enum {
	OPT_CATALOG = 256,
	OPT_CONFIG,
	OPT_LOG_FORMAT,
	OPT_NDJSON,
	OPT_NO_BOUND_CACHE,
	OPT_REGION,
	OPT_SPOT_PRICES,
	OPT_SVG,
};

static const struct nap_opt opts[] = {
    {"catalog", OPT_CATALOG, "path", "the VM-size catalog, nap-catalog(5)"},
    {"config", OPT_CONFIG, "file", "the nap.conf(5) file (default /etc/nap/nap.yaml)"},
    {"log-format", OPT_LOG_FORMAT, "text|json", "how messages on stderr are written"},
    {"ndjson", OPT_NDJSON, NULL, "write a Cost record per sample instead of the table"},
    {"no-bound-cache", OPT_NO_BOUND_CACHE, NULL, "solve the bound at every sample, changed or not"},
    {"region", OPT_REGION, "region", "the Azure region whose prices count (default: the nodes')"},
    {"spot-prices", OPT_SPOT_PRICES, "file", "spot prices to use instead of the catalog's"},
    {"svg", OPT_SVG, "file", "also draw $/h and the bound over time into file"},
    {"verbose", 'v', NULL, "more messages (twice: debug)"},
    {NULL, 0, NULL, NULL},
};

struct run {
	const char *catalog_path, *region, *spot_prices, *svg;
	int ndjson, no_cache;
	struct nap_cluster *cl;
	struct nap_catalog *cat;
	struct cost_bound_cache cache;
	struct cost_sample last; /* the last sample taken (the table prints it) */
	int have_last;
	struct cost_point *points;
	size_t npoints, apoints;
};

/* The latest time a record carries (see the top), or 0. */
static int64_t
record_time(json_object *rec)
{
	static const char *const paths[] = {
	    "object.metadata.creationTimestamp", "object.metadata.deletionTimestamp"};
	json_object *conds;
	int64_t best = 0, t;
	size_t i, n;

	for (i = 0; i < NAP_ARRAY_LEN(paths); i++)
		if (nap_time_parse(nap_json_str(rec, paths[i], ""), &t) == 0 && t > best)
			best = t;
	conds = nap_json_array(rec, "object.status.conditions", &n);
	for (i = 0; i < n; i++) {
		const char *s =
		    nap_json_str(json_object_array_get_idx(conds, i), "lastTransitionTime", "");

		if (nap_time_parse(s, &t) == 0 && t > best)
			best = t;
	}
	return best;
}

/* The catalog, loaded at the first sample: the region may come from the nodes. */
static void
load_catalog(struct run *r)
{
	struct nap_err err;
	const char *region = r->region;

	if (r->cat)
		return;
	if (!region) {
		size_t n, i;
		struct nap_node *const *nodes = nap_cluster_nodes(r->cl, &n);

		for (i = 0; i < n && !region; i++)
			region = nap_meta_label(&nodes[i]->meta, NAP_LABEL_REGION);
	}
	if (!region && !nap_cluster_count(r->cl, NAP_KIND_NODE) &&
	    !nap_cluster_count(r->cl, NAP_KIND_NODECLAIM))
		return; /* nothing to price yet */
	if (!region)
		nap_die(NAP_EX_CONFIG,
		    "no region: give --region, or cluster.region in nap.conf "
		    "(no node says topology.kubernetes.io/region)");
	if (nap_catalog_load(&r->cat, r->catalog_path, region, r->spot_prices, &err) < 0)
		nap_die_err(&err);
}

static void
take_sample(struct run *r, int64_t when)
{
	struct cost_sample s;
	struct nap_err err;

	load_catalog(r);
	if (r->no_cache)
		r->cache.valid = 0;
	if (cost_sample(&s, r->cl, r->cat, &r->cache, &err) < 0)
		nap_die_err(&err);
	s.time = when;
	if (r->have_last && s.all.nodes == r->last.all.nodes && s.all.usd == r->last.all.usd &&
	    s.bound == r->last.bound && s.pods == r->last.pods) {
		/* nothing a reader of the report would see has moved */
		r->last.time = when;
		cost_sample_free(&s);
		return;
	}
	if (r->ndjson) {
		json_object *rec = cost_record(&s);

		nap_emit(rec);
		json_object_put(rec);
	}
	nap_xgrow(&r->points, &r->apoints, r->npoints + 1, sizeof(*r->points));
	r->points[r->npoints++] = (struct cost_point){when, s.all.usd, s.bound};
	if (r->have_last)
		cost_sample_free(&r->last);
	r->last = s;
	r->have_last = 1;
}

static int
run(struct run *r, struct nap_rec_reader *rd)
{
	struct nap_rec rec;
	struct nap_err err;
	int64_t now = 0;
	int synced = 0, dirty = 0, seen = 0, rc;

	while (!nap_stopping()) {
		rc = nap_rec_read(rd, &rec, &err);
		if (rc == NAP_REC_EOF)
			break;
		if (rc < 0)
			nap_die_err(&err);
		if (rc == NAP_REC_NONE)
			continue;
		if (rc == NAP_REC_BAD) {
			nap_warn("%s", err.msg);
			continue;
		}
		if (strcmp(rec.type, "SYNCED") == 0) {
			synced = 1;
			take_sample(r, now);
			dirty = 0;
			continue;
		}
		if (strcmp(rec.type, "ADDED") != 0 && strcmp(rec.type, "MODIFIED") != 0 &&
		    strcmp(rec.type, "DELETED") != 0)
			continue; /* decisions and other records: nap-cost only reports */
		{
			int64_t t = record_time(rec.obj);

			if (synced && dirty && t > now) {
				take_sample(r, now);
				dirty = 0;
			}
			if (t > now)
				now = t;
		}
		if (nap_cluster_apply_record(r->cl, rec.obj, &err) < 0) {
			nap_warn("line %lu: %s", rec.lineno, err.msg);
			continue;
		}
		dirty = seen = 1;
	}
	/* no state at all (empty input): nothing to report */
	if (dirty || (seen && !r->have_last))
		take_sample(r, now);
	return r->have_last;
}

int
main(int argc, char **argv)
{
	const char *config = NULL;
	struct nap_rec_reader *rd;
	struct nap_config cfg;
	struct nap_getopt g;
	struct nap_err err;
	struct run r;
	int c, verbose = 0;

	nap_prog_init("nap-cost");
	memset(&r, 0, sizeof(r));
	nap_getopt_init(&g, opts, SYNOPSIS);
	while ((c = nap_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_CATALOG:
			r.catalog_path = g.arg;
			break;
		case OPT_CONFIG:
			config = g.arg;
			break;
		case OPT_LOG_FORMAT:
			if (nap_log_set_format(g.arg) < 0)
				nap_usage_error(SYNOPSIS,
				    "--log-format: \"%s\" is neither text nor json", g.arg);
			break;
		case OPT_NDJSON:
			r.ndjson = 1;
			break;
		case OPT_NO_BOUND_CACHE:
			r.no_cache = 1;
			break;
		case OPT_REGION:
			r.region = g.arg;
			break;
		case OPT_SPOT_PRICES:
			r.spot_prices = g.arg;
			break;
		case OPT_SVG:
			r.svg = g.arg;
			break;
		case 'v':
			verbose++;
			break;
		}
	}
	nap_log_set_level(verbose);
	nap_config_init(&cfg);
	if (nap_config_load(&cfg, config, config != NULL, &err) < 0)
		nap_die_err(&err);
	if (!r.region && cfg.cluster.region && cfg.cluster.region[0])
		r.region = cfg.cluster.region;
	if (!r.catalog_path && cfg.catalog && cfg.catalog[0])
		r.catalog_path = cfg.catalog;

	r.cl = nap_cluster_new();
	nap_cluster_keep_pod_json(r.cl, 0);
	nap_cluster_keep_node_json(r.cl, 0);
	rd = nap_rec_reader_new(0, "stdin");
	if (!run(&r, rd) && !r.svg) {
		nap_rec_reader_free(rd);
		nap_cluster_free(r.cl);
		nap_config_free(&cfg);
		return nap_exit(0);
	}
	if (r.svg && cost_write_svg(r.svg, r.points, r.npoints) < 0)
		nap_die(NAP_EX_IOERR, "unable to write %s: %s", r.svg, strerror(errno));
	if (!r.ndjson && r.have_last) {
		cost_print_table(stdout, &r.last);
		fflush(stdout);
	}
	nap_rec_reader_free(rd);
	cost_sample_free(&r.last);
	free(r.points);
	if (r.cat)
		nap_catalog_free(r.cat);
	nap_cluster_free(r.cl);
	nap_config_free(&cfg);
	return nap_exit(0);
}
