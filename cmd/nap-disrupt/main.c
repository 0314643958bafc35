/*
 * nap-disrupt - removes nodes safely.  Reads state records on stdin (the
 * cluster model, as nap-solve does) and forwards every one unchanged, so it
 * composes before nap-solve.  Owns termination: every Node and NodeClaim
 * deleted with the karpenter.sh/termination finalizer is drained through
 * the Eviction API and its VM deleted before the finalizer goes (term.c).
 * Decides which nodes to remove (emptiness, expiration, within budgets;
 * plan.c) and deletes their NodeClaims, writing Disruption records.  With
 * --dry-run it reads a snapshot and prints its decisions only.  See
 * nap-disrupt(1).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "clock.h"
#include "log.h"
#include "prog.h"
#include "rec.h"
#include "tool.h"
#include "wellknown.h"

#define SYNOPSIS                                                                                   \
	"nap-disrupt [-hVv] [--catalog path] [--config file] [--context name] [--dry-run] "        \
	"[--input fifo] [--interval duration] [--kubeconfig file] [--log-format text|json] "       \
	"[--max-simulations n] [--metrics-file path] [--metrics-listen addr] [--no-events] "       \
	"[--now time] [--region region] [--time-scale n]"

#define TERM_EVERY_MS 1000 /* karpenter.md §3: termination requeues every second */
#define MIN_TICK_MS 20
#define MAX_INPUTS 8

int64_t
wall_ms(void)
{
	return nap_clock_wall_ms();
}

int64_t
now_ms(const struct ctx *x)
{
	return x->now_fixed ? x->now_fixed : wall_ms();
}

int64_t
scaled(const struct ctx *x, int64_t d)
{
	return x->scale > 1 ? (int64_t)((double)d / x->scale) : d;
}

static void
on_record(struct ctx *x, const struct nap_rec *rec)
{
	const char *t = rec->type;
	struct nap_err err;

	if (strcmp(t, "ADDED") == 0 || strcmp(t, "MODIFIED") == 0 || strcmp(t, "DELETED") == 0) {
		if (nap_cluster_apply_record(x->cl, rec->obj, &err) < 0)
			nap_warn("line %lu: %s", rec->lineno, err.msg);
		x->generation++;
	} else if (strcmp(t, "SYNCED") == 0) {
		x->synced = 1;
	} else if (strcmp(t, "Nominated") == 0) {
		plan_nominated(x, nap_json_str(rec->obj, "node", ""));
	} else if (strcmp(t, "OfferingUnavailable") == 0) {
		if (nap_unavail_add_record(&x->unavail, rec->obj, &err) < 0)
			nap_warn("line %lu: %s", rec->lineno, err.msg);
	}
	if (!x->dry_run)
		nap_emit_raw(rec->line, rec->len);
}

/*
 * A record on an --input FIFO (nap-launch's feedback): an
 * OfferingUnavailable is kept and forwarded, so that nap-solve downstream
 * hears of it on its standard input; anything else is ignored.
 */
static void
on_feedback(struct ctx *x, const struct nap_rec *rec, const char *name)
{
	struct nap_err err;

	if (strcmp(rec->type, "OfferingUnavailable") != 0)
		return;
	if (nap_unavail_add_record(&x->unavail, rec->obj, &err) < 0) {
		nap_warn("%s: line %lu: %s", name, rec->lineno, err.msg);
		return;
	}
	nap_emit_raw(rec->line, rec->len);
}

/* Records buffered on stdin (or a feedback FIFO): 0 at its end, 1 otherwise. */
static int
drain_input(struct ctx *x, struct nap_rec_reader *rd, int is_stdin)
{
	struct nap_rec rec;
	struct nap_err err;
	int r;

	for (;;) {
		r = nap_rec_next(rd, &rec, &err);
		if (r == NAP_REC_OK) {
			obs_read(rec.type, 0);
			if (is_stdin)
				on_record(x, &rec);
			else
				on_feedback(x, &rec, nap_rec_name(rd));
			continue;
		}
		if (r == NAP_REC_BAD) {
			obs_read(NULL, 1);
			nap_warn("%s: %s", nap_rec_name(rd), err.msg);
			continue;
		}
		return r != NAP_REC_EOF;
	}
}

static void
setup(struct ctx *x, const char *config, const char *kubeconfig, const char *context)
{
	struct nap_arm_opts mo;
	struct nap_err err;
	const struct nap_config *cf = &x->cfg;
	char *warning = NULL;

	if (nap_config_load(&x->cfg, config, config != NULL, &err) < 0)
		nap_die_err(&err);
	if (cf->log.level[0])
		nap_log_set_level_name(cf->log.level);
	if (!cf->cluster.subscription_id[0] || !cf->cluster.resource_group[0])
		nap_die(NAP_EX_CONFIG,
		    "%s: cluster.subscriptionID and resourceGroup are needed to delete VMs",
		    cf->path[0] ? cf->path : "configuration");
	if ((x->http = nap_http_new(&err)) == NULL)
		nap_die_err(&err);
	memset(&x->tls, 0, sizeof(x->tls));
	if (cf->azure.ca_file[0]) {
		x->tls.ca_file = cf->azure.ca_file;
		x->tls.ca_add = 1; /* nap.conf(5): in addition to the system CAs */
	}

	x->kube = nap_kube_open(cf, kubeconfig, context, &warning, &err);
	if (!x->kube)
		nap_die_err(&err);
	if (warning) {
		nap_warn("%s", warning);
		free(warning);
	}

	if (nap_auth_new_from_config(&x->auth, cf, x->tls.ca_file ? &x->tls : NULL, x->http, &err) <
	    0)
		nap_die_err(&err);

	memset(&mo, 0, sizeof(mo));
	mo.endpoint = cf->azure.arm_endpoint;
	mo.auth = x->auth;
	mo.tls = x->tls.ca_file ? &x->tls : NULL;
	mo.time_scale = x->scale;
	if ((x->arm = nap_arm_new(x->http, &mo, &err)) == NULL)
		nap_die_err(&err);
}

/*
 * The feedback FIFOs, without waiting: whatever they hold now.  They are
 * looked at every time round the loop, at least once per termination step.
 */
static void
feedback(struct ctx *x, struct nap_rec_reader **fb, int *fb_open, size_t nfb)
{
	struct pollfd pfd[MAX_INPUTS];
	struct nap_err err;
	size_t i;
	int n;

	for (i = 0; i < nfb; i++) {
		pfd[i].fd = fb_open[i] ? nap_rec_fd(fb[i]) : -1;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if ((n = poll(pfd, nfb, 0)) <= 0) {
		if (n < 0 && errno != EINTR)
			nap_die(NAP_EX_IOERR, "poll: %s", strerror(errno));
		return;
	}
	for (i = 0; i < nfb; i++) {
		if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (nap_rec_fill(fb[i], &err) < 0)
			nap_die_err(&err);
		fb_open[i] = drain_input(x, fb[i], 0);
	}
}

/* The loop: records in, termination and planning passes on their timers, ARM calls moved on. */
static void
run(struct ctx *x, const char *const *inputs, size_t ninputs)
{
	struct nap_rec_reader *rd = nap_rec_reader_new(0, "stdin");
	struct nap_rec_reader *fb[MAX_INPUTS];
	int fb_open[MAX_INPUTS];
	struct nap_err err;
	int open_in = 1, readable = 1;
	size_t i;

	for (i = 0; i < ninputs; i++) {
		if ((fb[i] = nap_rec_open_fifo(inputs[i], &err)) == NULL)
			nap_die_err(&err);
		fb_open[i] = 1;
	}
	while (!nap_stopping() && !x->fatal) {
		struct nap_arm_call *call;
		int64_t now, wait_ms;
		int r;

		if (open_in && readable) {
			if (nap_rec_fill(rd, &err) < 0)
				nap_die_err(&err);
			open_in = drain_input(x, rd, 1);
		}
		if (ninputs > 0)
			feedback(x, fb, fb_open, ninputs);
		now = wall_ms();
		if (x->synced && open_in && now >= x->next_term_ms) {
			term_pass(x);
			x->next_term_ms = now + scaled(x, TERM_EVERY_MS);
			if (x->next_term_ms < now + MIN_TICK_MS)
				x->next_term_ms = now + MIN_TICK_MS;
		}
		if (x->synced && open_in && now >= x->next_plan_ms) {
			plan_pass(x);
			x->next_plan_ms = now + scaled(x, x->plan_every_ms);
			/* a command waiting for validation is looked at when it is due */
			if (x->npend > 0 && x->pend_due_ms < x->next_plan_ms)
				x->next_plan_ms = x->pend_due_ms;
			if (x->next_plan_ms < now + MIN_TICK_MS)
				x->next_plan_ms = now + MIN_TICK_MS;
		}
		while ((call = nap_arm_done(x->arm)) != NULL)
			vm_arm_done(x, call);
		if (!open_in && nap_arm_pending(x->arm) == 0)
			break;
		nap_emit_flush();
		wait_ms = open_in ? (x->synced ? x->next_term_ms - wall_ms() : 1000) : 100;
		if (wait_ms < 0)
			wait_ms = 0;
		r = nap_arm_wait(x->arm, open_in ? nap_rec_fd(rd) : -1, (int)wait_ms, &err);
		if (r < 0)
			nap_die_err(&err);
		readable = r == 1;
	}
	nap_rec_reader_free(rd);
	for (i = 0; i < ninputs; i++)
		nap_rec_reader_free(fb[i]);
}

/*
 * --dry-run: the whole input, then the decisions.  Prices come from the
 * catalog for --region, else for the topology.kubernetes.io/region label of
 * the first node; with neither, they are unknown (null in the records).
 */
static void
dry_run(struct ctx *x, const char *catalog, const char *region)
{
	struct nap_rec_reader *rd = nap_rec_reader_new(0, "stdin");
	struct nap_rec rec;
	struct nap_err err;
	int r;

	while ((r = nap_rec_read(rd, &rec, &err)) != NAP_REC_EOF && !nap_stopping()) {
		if (r == NAP_REC_BAD) {
			nap_warn("%s: %s", nap_rec_name(rd), err.msg);
			continue;
		}
		if (r < 0)
			nap_die_err(&err);
		if (r == NAP_REC_OK)
			on_record(x, &rec);
	}
	nap_rec_reader_free(rd);
	if (!region) {
		struct nap_node *const *nodes;
		size_t i, n;

		nodes = nap_cluster_nodes(x->cl, &n);
		for (i = 0; i < n && !region; i++)
			region = nap_meta_label(&nodes[i]->meta, NAP_LABEL_REGION);
	}
	if (region && nap_catalog_load(&x->cat, catalog, region, NULL, &err) < 0)
		nap_die_err(&err);
	if (!nap_stopping())
		plan_dry_run(x);
}

enum {
	OPT_CATALOG = 256,
	OPT_CONFIG,
	OPT_CONTEXT,
	OPT_DRY_RUN,
	OPT_INPUT,
	OPT_INTERVAL,
	OPT_KUBECONFIG,
	OPT_LOG_FORMAT,
	OPT_MAX_SIMULATIONS,
	OPT_NOW,
	OPT_OBS, /* --metrics-file, --metrics-listen, --no-events: obs.c */
	OPT_REGION,
	OPT_TIME_SCALE,
};

static const struct nap_opt opts[] = {
    {"catalog", OPT_CATALOG, "path", "VM prices for the records, nap-catalog(5)"},
    {"config", OPT_CONFIG, "file", "the nap.conf(5) file (default /etc/nap/nap.yaml)"},
    {"context", OPT_CONTEXT, "name", "the kubeconfig context to use"},
    {"dry-run", OPT_DRY_RUN, NULL, "read a snapshot, print the decisions, touch nothing"},
    {"input", OPT_INPUT, "fifo", "also read OfferingUnavailable records here (up to 8)"},
    {"interval", OPT_INTERVAL, "duration", "how often the planner runs (10s)"},
    {"kubeconfig", OPT_KUBECONFIG, "file", "the kubeconfig to reach the API server with"},
    {"log-format", OPT_LOG_FORMAT, "text|json", "how messages on stderr are written"},
    {"max-simulations", OPT_MAX_SIMULATIONS, "n",
	"single-node consolidation's simulations a pass, 0 no limit (disrupt.maxSimulations)"},
    {"metrics-file", OPT_OBS, "path", "write Prometheus metrics to this textfile"},
    {"metrics-listen", OPT_OBS, "addr", "serve Prometheus metrics on [host:]port"},
    {"no-events", OPT_OBS, NULL, "post no Kubernetes Events"},
    {"now", OPT_NOW, "time", "decide as at this RFC 3339 time (with --dry-run)"},
    {"region", OPT_REGION, "region", "the Azure region whose prices count"},
    {"time-scale", OPT_TIME_SCALE, "n", "run n times faster than real time (1 to 1e6)"},
    {"verbose", 'v', NULL, "more messages (twice: debug)"},
    {NULL, 0, NULL, NULL},
};

int
main(int argc, char **argv)
{
	const char *config = NULL, *kubeconfig = NULL, *context = NULL, *catalog = NULL;
	const char *region = NULL, *inputs[MAX_INPUTS];
	size_t ninputs = 0;
	long max_sims = -1;
	struct nap_getopt g;
	struct nap_err err;
	struct ctx x;
	int64_t t;
	int c, verbose = 0, code;
	size_t pos = 0;
	const char *k;
	void *v;

	nap_prog_init("nap-disrupt");
	memset(&x, 0, sizeof(x));
	x.scale = 1;
	x.plan_every_ms = 10000;
	nap_getopt_init(&g, opts, SYNOPSIS);
	while ((c = nap_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_CATALOG:
			catalog = g.arg;
			break;
		case OPT_CONFIG:
			config = g.arg;
			break;
		case OPT_CONTEXT:
			context = g.arg;
			break;
		case OPT_DRY_RUN:
			x.dry_run = 1;
			break;
		case OPT_INPUT:
			if (ninputs == MAX_INPUTS)
				nap_usage_error(SYNOPSIS, "at most %d --input FIFOs", MAX_INPUTS);
			inputs[ninputs++] = g.arg;
			break;
		case OPT_MAX_SIMULATIONS:
			max_sims = nap_opt_long(&g, 0, 1000000);
			break;
		case OPT_INTERVAL:
			x.plan_every_ms = nap_opt_duration(&g, 1);
			break;
		case OPT_KUBECONFIG:
			kubeconfig = g.arg;
			break;
		case OPT_LOG_FORMAT:
			if (nap_log_set_format(g.arg) < 0)
				nap_usage_error(SYNOPSIS,
				    "--log-format: \"%s\" is neither text nor json", g.arg);
			break;
		case OPT_NOW:
			if (nap_time_parse(g.arg, &t) < 0)
				nap_usage_error(
				    SYNOPSIS, "--now: \"%s\" is not an RFC 3339 time", g.arg);
			x.now_fixed = t * 1000;
			break;
		case OPT_OBS:
			obs_option(g.name, g.arg);
			break;
		case OPT_REGION:
			region = g.arg;
			break;
		case OPT_TIME_SCALE:
			x.scale = nap_opt_double(&g, 1, 1e6);
			break;
		case 'v':
			verbose++;
			break;
		}
	}
	nap_log_set_level(verbose);
	nap_config_init(&x.cfg);
	x.cl = nap_cluster_new();
	nap_hash_init(&x.vms);
	nap_hash_init(&x.waits);
	nap_hash_init(&x.tainted);
	nap_hash_init(&x.done);
	nap_hash_init(&x.nominated);
	nap_hash_init(&x.seen_repl);
	if (x.dry_run && ninputs > 0)
		nap_usage_error(
		    SYNOPSIS, "--input: not with --dry-run (it reads standard input only)");
	x.max_simulations = x.cfg.disrupt.max_simulations; /* the default, without a file */
	if (x.dry_run) {
		if (max_sims >= 0)
			x.max_simulations = (size_t)max_sims;
		dry_run(&x, catalog, region);
	} else {
		setup(&x, config, kubeconfig, context);
		x.max_simulations =
		    (size_t)(max_sims >= 0 ? max_sims : x.cfg.disrupt.max_simulations);
		if (verbose)
			nap_log_set_level(verbose);
		if (!catalog && x.cfg.catalog[0])
			catalog = x.cfg.catalog;
		if (!region && x.cfg.cluster.region[0])
			region = x.cfg.cluster.region;
		if (!region)
			nap_warn(
			    "no region (--region, cluster.region): Disruption records carry no "
			    "prices");
		else if (nap_catalog_load(&x.cat, catalog, region, NULL, &err) < 0) {
			nap_warn("%s; Disruption records carry no prices", err.msg);
			x.cat = NULL;
		}
		obs_start(&x, kubeconfig, context);
		run(&x, inputs, ninputs);
		obs_stop();
	}
	code = x.fatal;
	if (getenv("NAP_DISRUPT_STATS"))
		fprintf(stderr,
		    "nap-disrupt: stats: evicted=%lu blocked=%lu forced=%lu vms_deleted=%lu "
		    "finalized=%lu commands=%lu\n",
		    x.nevicted, x.nblocked, x.nforced, x.nvm_deleted, x.nfinalized, x.ncommands);
	vm_free_all(&x);
	plan_free(&x);
	replace_free(&x);
	if (x.cat)
		nap_catalog_free(x.cat);
	nap_unavail_free(&x.unavail);
	while (nap_hash_next(&x.waits, &pos, &k, &v))
		free(v);
	pos = 0;
	while (nap_hash_next(&x.tainted, &pos, &k, &v))
		free(v);
	pos = 0;
	while (nap_hash_next(&x.done, &pos, &k, &v))
		free(v);
	nap_hash_free(&x.waits);
	nap_hash_free(&x.tainted);
	nap_hash_free(&x.done);
	if (x.arm)
		nap_arm_free(x.arm);
	if (x.auth)
		nap_auth_free(x.auth);
	if (x.kube)
		nap_kube_free(x.kube);
	if (x.http)
		nap_http_free(x.http);
	nap_cluster_free(x.cl);
	nap_config_free(&x.cfg);
	return nap_exit(code);
}
