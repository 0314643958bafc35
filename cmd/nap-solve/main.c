/*
 * nap-solve - the cheapest NodeClaims for the pending pods, with Karpenter's
 * semantics.  Reads state records, forwards them, and after SYNCED batches
 * the provisionable pods (1 s idle, 10 s max; at end of input at once),
 * then writes LaunchRequest, Nominated and Unschedulable records.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "json.h"
#include "obs.h"
#include "prog.h"
#include "rec.h"
#include "solve.h"

#define SYNOPSIS                                                                                   \
	"nap-solve [-hVv] [--batch-idle duration] [--batch-max duration] "                         \
	"[--catalog path] [--config file] [--input fifo] [--log-format text|json] "                \
	"[--max-nodes n] [--max-types n] [--metrics-file path] [--metrics-listen addr] "           \
	"[--min-values-policy Strict|BestEffort] [--packing target|karpenter] "                    \
	"[--region region] [--spot-prices file]"
#define MAX_INPUTS 8

/*
 * The model lives until exit and is not freed: tearing down 60,000 pods'
 * JSON costs more than deciding where they go, and the kernel does it at
 * once.  A global (not a static the compiler may drop) so that leak
 * checkers see it as reachable.
 */
struct nap_cluster *solve_model;

/* How often pods still Pending are looked at again without news of them. */
#define RECHECK_MS 10000

struct batch {
	int open;
	int64_t start, last;  /* monotonic ms */
	struct nap_hash seen; /* pod uids in this batch */
};

/* A provisionable pod arrived: open the batch, or extend it if the pod is new. */
static void
batch_trigger(struct batch *b, const struct nap_pod *p)
{
	const char *key = p->meta.uid[0] ? p->meta.uid : p->meta.name;
	int64_t now = nap_clock_mono_ms();

	if (!b->open) {
		b->open = 1;
		b->start = now;
		b->last = now;
	}
	if (!nap_hash_get(&b->seen, key)) {
		nap_hash_put(&b->seen, key, (void *)1);
		b->last = now;
	}
}

static void
batch_reset(struct batch *b)
{
	nap_hash_free(&b->seen);
	nap_hash_init(&b->seen);
	b->open = 0;
}

/*
 * A pod already decided on: on a claim planned but not seen yet, or
 * nominated until later.  News of it (the scheduler rewrites its message
 * whenever the node count changes) neither opens nor stretches a batch:
 * at 5,000 pending pods those rewrites held every batch open to its 10 s
 * maximum.
 */
static int
pod_waiting(const struct solve *sv, const struct nap_pod *p)
{
	const struct nomination *nm;
	char key[512];

	snprintf(key, sizeof(key), "%s/%s", p->meta.ns, p->meta.name);
	if (nap_hash_get(&sv->planned_pods, key))
		return 1;
	nm = nap_hash_get(&sv->nominated, key);
	return nm && nm->until_ms > nap_clock_wall_ms();
}

static void
trigger_all(const struct solve *sv, struct batch *b, const struct nap_cluster *cl)
{
	struct nap_pod *const *pods;
	size_t n, i;

	pods = nap_cluster_pods(cl, &n);
	for (i = 0; i < n; i++)
		if (nap_pod_is_provisionable(pods[i]) && !pod_waiting(sv, pods[i]))
			batch_trigger(b, pods[i]);
}

/* The pod stays with the in-flight claim it was planned on, as Karpenter nominates it. */
static void
nominate_to_claim(struct solve *sv, const struct nap_pod *pod, const char *key, const char *claim)
{
	struct nomination *nm = nap_xcalloc(1, sizeof(*nm)), *old;
	json_object *rec = json_object_new_object();

	nm->until_ms = nap_clock_wall_ms() + sv->nominate_ttl_ms;
	nm->target = nap_xstrdup(claim);
	nm->is_claim = 1;
	if ((old = nap_hash_put(&sv->nominated, key, nm)) != NULL)
		nomination_free(old);
	json_object_object_add(rec, "type", json_object_new_string("Nominated"));
	json_object_object_add(rec, "pod", json_object_new_string(key));
	json_object_object_add(rec, "uid", json_object_new_string(pod->meta.uid));
	json_object_object_add(rec, "node", json_object_new_string(claim));
	json_object_object_add(rec, "kind", json_object_new_string("NodeClaim"));
	nap_emit(rec);
	json_object_put(rec);
}

/*
 * A NodeClaim this process planned has launched (its status gives its
 * allocatable): its pods are nominated to it, as planned.  Deciding on
 * them again against the claims in flight packed them otherwise, and a
 * few new claims came of it at every scale-up.  If the claim went, its
 * pods are decided again in the batch this opens.
 */
static void
plan_seen(struct solve *sv, const struct nap_cluster *cl, struct batch *b, const char *type,
    const char *name)
{
	const struct nap_nodeclaim *c = nap_cluster_nodeclaim(cl, name);
	int gone = strcmp(type, "DELETED") == 0 || c == NULL || c->meta.deleted;
	size_t i, j;

	if (!gone && c->allocatable.v[NAP_RES_CPU] == 0)
		return;
	for (i = 0; i < sv->npl; i++) {
		struct planned *p = &sv->pl[i];

		if (strcmp(p->name, name) != 0 || p->released)
			continue;
		p->released = 1;
		for (j = 0; j < p->npods; j++) {
			char *slash = strchr(p->pods[j], '/');
			const struct nap_pod *pod;

			nap_hash_del(&sv->planned_pods, p->pods[j]);
			if (slash == NULL)
				continue;
			*slash = '\0';
			pod = nap_cluster_pod(cl, p->pods[j], slash + 1);
			*slash = '/';
			if (pod == NULL || !nap_pod_is_provisionable(pod))
				continue;
			if (!gone)
				nominate_to_claim(sv, pod, p->pods[j], name);
			else if (!pod_waiting(sv, pod))
				batch_trigger(b, pod);
		}
	}
}

/*
 * Names a new NodeClaim must not take: every Node and NodeClaim the cluster
 * has, and the claims this process planned and has not yet seen.  The
 * array borrows the names; the caller frees it alone.
 */
static const char **
taken_names(const struct solve *sv, const struct nap_cluster *cl, size_t *n)
{
	struct nap_node *const *nodes;
	struct nap_nodeclaim *const *claims;
	size_t nn, nc, i, k = 0;
	const char **v;

	nodes = nap_cluster_nodes(cl, &nn);
	claims = nap_cluster_nodeclaims(cl, &nc);
	v = nap_xcalloc(nn + nc + sv->npl + 1, sizeof(*v));
	for (i = 0; i < nn; i++)
		v[k++] = nodes[i]->meta.name;
	for (i = 0; i < nc; i++)
		v[k++] = claims[i]->meta.name;
	for (i = 0; i < sv->npl; i++)
		v[k++] = sv->pl[i].name;
	*n = k;
	return v;
}

static void
decide(struct solve *sv, struct nap_cluster *cl, int at_eof)
{
	struct nap_sim pl;
	struct nap_sched_result res;
	struct nap_err err;

	int64_t t0 = nap_clock_mono_ms(), t1, t2, t3;

	obs_pass_begin();
	sv->now_ms = at_eof ? 0 : nap_clock_wall_ms();
	solve_expire(sv, cl);
	if (solve_build(sv, cl, &pl, &err) < 0)
		nap_die_err(&err);
	t1 = nap_clock_mono_ms();
	if (pl.in.npending > 0) {
		struct nap_sched_run_opts opt = NAP_SCHED_RUN_OPTS_INIT;
		struct nap_sched_world *w;
		const char **taken;
		const char *nc = getenv("NAP_SCHED_NOCACHE");

		/* NAP_SCHED_NOCACHE=1: every scheduler cache off (nap-solve(1), ENVIRONMENT) */
		opt.packing = pl.in.packing;
		opt.nocache = nc != NULL && strcmp(nc, "1") == 0;
		taken = taken_names(sv, cl, &pl.in.ntaken);
		pl.in.taken = taken;
		/* the node ceiling counts the claims planned and not yet seen */
		pl.in.max_nodes = (long)sv->cfg->solve.max_nodes;
		pl.in.nodes_extra = sv->npl;
		if (nap_sched_prepare(&pl.in, &w, &err) < 0 ||
		    nap_sched_run(w, &opt, &res, &err) < 0)
			nap_die_err(&err);
		nap_sched_world_free(w);
		free(taken);
		pl.in.taken = NULL;
		pl.in.ntaken = 0;
		t2 = nap_clock_mono_ms();
		solve_emit(sv, cl, &pl, &res);
		t3 = nap_clock_mono_ms();
		nap_debug("batch: %zu pods, %zu new nodeclaims, %lu relaxations; "
			  "build %lld ms, solve %lld ms, emit %lld ms%s",
		    pl.in.npending, res.nclaims, res.relaxations, (long long)(t1 - t0),
		    (long long)(t2 - t1), (long long)(t3 - t2),
		    opt.nocache ? "; scheduler caches off" : "");
		nap_sched_result_free(&res);
	}
	obs_pass_end(pl.in.npending);
	nap_sim_free(&pl);
}

static uint64_t
rv_num(const char *rv)
{
	unsigned long long v;
	char *end;

	if (rv == NULL || *rv == '\0')
		return 0;
	errno = 0;
	v = strtoull(rv, &end, 10);
	return errno || *end ? 0 : (uint64_t)v;
}

/*
 * A node the scheduler may bind pods to now: Ready, not cordoned or going,
 * and without the taints of a node still starting (nap_taint_is_ephemeral,
 * its NodePool's startup taints).  Not "initialized": nap-launch
 * labels that after the scheduler has already had its go at the node, and
 * the scheduler writes a pod again only when its verdict changes.
 */
static int
node_usable(const struct nap_cluster *cl, const struct nap_node *n)
{
	const struct nap_nodepool *np;
	size_t i, j;

	if (!n || n->meta.deleted || n->unschedulable || n->ready != 1)
		return 0;
	if (n->initialized)
		return 1;
	np = n->nodepool ? nap_cluster_nodepool(cl, n->nodepool) : NULL;
	for (i = 0; i < n->ntaints; i++) {
		const char *k = n->taints[i].key;

		if (nap_taint_is_ephemeral(k))
			return 0;
		for (j = 0; np && j < np->nstartup_taints; j++)
			if (strcmp(k, np->startup_taints[j].key) == 0)
				return 0;
	}
	return 1;
}

/* Remember the resourceVersion at which a node could first take pods. */
static void
note_node(struct solve *sv, const struct nap_cluster *cl, const char *type, const char *name)
{
	const struct nap_node *n;
	uint64_t rv;

	if (strcmp(type, "DELETED") == 0) {
		nap_hash_del(&sv->usable_rv, name);
		return;
	}
	n = nap_cluster_node(cl, name);
	if (!node_usable(cl, n) || nap_hash_get(&sv->usable_rv, name))
		return;
	if ((rv = rv_num(n->meta.rv)) != 0)
		nap_hash_put(&sv->usable_rv, name, (void *)(uintptr_t)rv);
}

/*
 * Remember that the scheduler turned the pod away from node, for as long as
 * a plan holds: where nap-solve and the scheduler see a node differently,
 * deciding again on the same view would nominate the pod to it again, and
 * the pod would wait for ever; so the next decisions leave that node out
 * for it, and provision elsewhere if nothing else fits.
 */
static void
turned_away(struct solve *sv, const char *key, const char *node)
{
	struct turned *t = nap_hash_get(&sv->turned, key);
	size_t i;

	if (t == NULL) {
		t = nap_xcalloc(1, sizeof(*t));
		nap_hash_put(&sv->turned, key, t);
	}
	t->until_ms = nap_clock_wall_ms() + sv->plan_ttl_ms;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->nodes[i], node) == 0)
			return;
	t->nodes = nap_xrealloc(t->nodes, (t->n + 1) * sizeof(*t->nodes));
	t->nodes[t->n++] = nap_xstrdup(node);
}

/*
 * A nominated pod that the scheduler wrote again, still Unschedulable,
 * after the node it was nominated to could take pods, was turned away from
 * that node (taken by pods the scheduler placed otherwise than planned, or
 * a rule seen differently): drop the nomination so that the next batch
 * decides again on what is there now, instead of waiting out its time.
 * So is one whose NodeClaim went away.  resourceVersions are compared as
 * numbers: they are one counter across kinds in etcd and in nap-sim; where
 * they are not numbers the nomination just lapses.
 */
static void
recheck_nomination(struct solve *sv, const struct nap_cluster *cl, const struct nap_pod *p)
{
	const struct nap_node *n = NULL;
	struct nomination *nm;
	char key[512];
	void *v;

	snprintf(key, sizeof(key), "%s/%s", p->meta.ns, p->meta.name);
	if ((nm = nap_hash_get(&sv->nominated, key)) == NULL)
		return;
	if (nm->is_claim) {
		const struct nap_nodeclaim *c = nap_cluster_nodeclaim(cl, nm->target);

		if (c && !c->meta.deleted && (n = nap_cluster_node_of(cl, c)) == NULL)
			return; /* not registered yet */
	} else {
		n = nap_cluster_node(cl, nm->target);
	}
	if (n && !n->meta.deleted) {
		if (!node_usable(cl, n) ||
		    (v = nap_hash_get(&sv->usable_rv, n->meta.name)) == NULL ||
		    rv_num(p->meta.rv) <= (uint64_t)(uintptr_t)v)
			return;
	}
	nap_debug("pod %s: not taken by %s it was nominated to: deciding again", key, nm->target);
	if (n && !n->meta.deleted)
		turned_away(sv, key, n->meta.name);
	nomination_free(nap_hash_del(&sv->nominated, key));
}

/* One record from stdin: keep the model up to date and forward it. */
static void
on_record(struct solve *sv, struct nap_cluster *cl, struct batch *b, int *synced,
    const struct nap_rec *rec, const char *name)
{
	struct nap_err err;
	const char *t = rec->type, *kind = nap_json_str(rec->obj, "object.kind", "");
	int r;

	if (strcmp(t, "ADDED") == 0 || strcmp(t, "MODIFIED") == 0 || strcmp(t, "DELETED") == 0) {
		r = nap_cluster_apply_record(cl, rec->obj, &err);
		if (r < 0) {
			nap_warn("%s: line %lu: %s", name, rec->lineno, err.msg);
		} else if (r > 0) {
			/* not applied: a kind not modelled, or a tombstone of an earlier uid */
		} else if (strcmp(kind, "Node") == 0) {
			note_node(sv, cl, t, nap_json_str(rec->obj, "object.metadata.name", ""));
		} else if (*synced && strcmp(kind, "NodeClaim") == 0) {
			plan_seen(sv, cl, b, t, nap_json_str(rec->obj, "object.metadata.name", ""));
		} else if (*synced && strcmp(t, "DELETED") != 0 && strcmp(kind, "Pod") == 0) {
			const struct nap_pod *p = nap_cluster_pod(cl,
			    nap_json_str(rec->obj, "object.metadata.namespace", "default"),
			    nap_json_str(rec->obj, "object.metadata.name", ""));

			if (p && nap_pod_is_provisionable(p)) {
				recheck_nomination(sv, cl, p);
				if (!pod_waiting(sv, p))
					batch_trigger(b, p);
			}
		}
	} else if (strcmp(t, "SYNCED") == 0) {
		*synced = 1;
		trigger_all(sv, b, cl);
	} else if (strcmp(t, "OfferingUnavailable") == 0) {
		if (nap_unavail_add_record(&sv->unavail, rec->obj, &err) < 0)
			nap_warn("%s: line %lu: %s", name, rec->lineno, err.msg);
	}
	nap_emit_raw(rec->line, rec->len);
}

/* Records on a feedback FIFO: only OfferingUnavailable matters, nothing is forwarded. */
static void
on_feedback(struct solve *sv, const struct nap_rec *rec, const char *name)
{
	struct nap_err err;

	if (strcmp(rec->type, "OfferingUnavailable") != 0)
		return;
	if (nap_unavail_add_record(&sv->unavail, rec->obj, &err) < 0)
		nap_warn("%s: line %lu: %s", name, rec->lineno, err.msg);
}

/* Drain what is buffered; returns 0 at end of input, 1 otherwise. */
static int
drain(struct nap_rec_reader *rd, int is_stdin, struct solve *sv, struct nap_cluster *cl,
    struct batch *b, int *synced)
{
	struct nap_rec rec;
	struct nap_err err;
	int r;

	for (;;) {
		r = nap_rec_next(rd, &rec, &err);
		if (r == NAP_REC_OK) {
			obs_read(&rec);
			if (is_stdin)
				on_record(sv, cl, b, synced, &rec, nap_rec_name(rd));
			else
				on_feedback(sv, &rec, nap_rec_name(rd));
			continue;
		}
		if (r == NAP_REC_BAD) {
			nap_warn("%s: %s", nap_rec_name(rd), err.msg);
			obs_malformed();
			continue;
		}
		return r != NAP_REC_EOF;
	}
}

enum {
	OPT_BATCH_IDLE = 256,
	OPT_BATCH_MAX,
	OPT_CATALOG,
	OPT_CONFIG,
	OPT_INPUT,
	OPT_LOG_FORMAT,
	OPT_MAX_NODES,
	OPT_MAX_TYPES,
	OPT_MIN_VALUES_POLICY,
	OPT_OBS, /* --metrics-file, --metrics-listen: obs.c */
	OPT_PACKING,
	OPT_REGION,
	OPT_SPOT_PRICES,
};

static const struct nap_opt opts[] = {
    {"batch-idle", OPT_BATCH_IDLE, "duration", "decide after pods stop arriving this long (1s)"},
    {"batch-max", OPT_BATCH_MAX, "duration",
	"decide at the latest this long after a batch opens (10s)"},
    {"catalog", OPT_CATALOG, "path", "the VM-size catalog, nap-catalog(5)"},
    {"config", OPT_CONFIG, "file", "the nap.conf(5) file (default /etc/nap/nap.yaml)"},
    {"input", OPT_INPUT, "fifo", "also read OfferingUnavailable records here (up to 8)"},
    {"log-format", OPT_LOG_FORMAT, "text|json", "how messages on stderr are written"},
    {"max-nodes", OPT_MAX_NODES, "n", "the cluster's node ceiling, 0 none (solve.maxNodes, 5000)"},
    {"max-types", OPT_MAX_TYPES, "n", "instance types kept per NodeClaim (1 to 100000)"},
    {"min-values-policy", OPT_MIN_VALUES_POLICY, "Strict|BestEffort",
	"when sizes cannot meet a minValues: no claim, or relax it"},
    {"metrics-file", OPT_OBS, "path", "write Prometheus metrics to this textfile"},
    {"metrics-listen", OPT_OBS, "addr", "serve Prometheus metrics on [host:]port"},
    {"packing", OPT_PACKING, "target|karpenter", "how pods are packed onto new nodes"},
    {"region", OPT_REGION, "region", "the Azure region whose sizes and prices count"},
    {"spot-prices", OPT_SPOT_PRICES, "file", "spot prices to use instead of the catalog's"},
    {"verbose", 'v', NULL, "more messages (twice: debug)"},
    {NULL, 0, NULL, NULL},
};

int
main(int argc, char **argv)
{
	const char *config = NULL, *inputs[MAX_INPUTS];
	struct nap_rec_reader *rd[MAX_INPUTS + 1];
	struct pollfd pfd[MAX_INPUTS + 1];
	size_t ninputs = 0, i;
	struct nap_config cfg;
	struct nap_cluster *cl;
	struct solve sv;
	struct batch b;
	struct nap_err err;
	int64_t idle = -1, bmax = -1, recheck_at; /* -1: from the configuration */
	long max_nodes = -1;			  /* likewise */
	struct nap_getopt g;
	int c, verbose = 0, synced = 0, stdin_open = 1;

	nap_prog_init("nap-solve");
	memset(&sv, 0, sizeof(sv));
	nap_hash_init(&sv.nominated);
	nap_hash_init(&sv.usable_rv);
	nap_hash_init(&sv.turned);
	nap_getopt_init(&g, opts, SYNOPSIS);
	while ((c = nap_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case OPT_BATCH_IDLE:
			idle = nap_opt_duration(&g, 0);
			break;
		case OPT_BATCH_MAX:
			bmax = nap_opt_duration(&g, 0);
			break;
		case OPT_CATALOG:
			sv.catalog_path = g.arg;
			break;
		case OPT_CONFIG:
			config = g.arg;
			break;
		case OPT_INPUT:
			if (ninputs == MAX_INPUTS)
				nap_usage_error(SYNOPSIS, "at most %d --input FIFOs", MAX_INPUTS);
			inputs[ninputs++] = g.arg;
			break;
		case OPT_LOG_FORMAT:
			if (nap_log_set_format(g.arg) < 0)
				nap_usage_error(SYNOPSIS,
				    "--log-format: \"%s\" is neither text nor json", g.arg);
			break;
		case OPT_MAX_NODES:
			max_nodes = nap_opt_long(&g, 0, 1000000);
			break;
		case OPT_MAX_TYPES:
			sv.max_types = (int)nap_opt_long(&g, 1, 100000);
			break;
		case OPT_MIN_VALUES_POLICY:
			if (strcmp(g.arg, "Strict") == 0)
				sv.min_values_relax = 0;
			else if (strcmp(g.arg, "BestEffort") == 0)
				sv.min_values_relax = 1;
			else
				nap_usage_error(SYNOPSIS,
				    "--min-values-policy: \"%s\" is neither Strict nor BestEffort",
				    g.arg);
			break;
		case OPT_OBS:
			obs_option(g.name, g.arg);
			break;
		case OPT_PACKING:
			if (strcmp(g.arg, "target") == 0)
				sv.packing = NAP_SCHED_PACK_TARGET;
			else if (strcmp(g.arg, "karpenter") == 0)
				sv.packing = NAP_SCHED_PACK_KARPENTER;
			else
				nap_usage_error(SYNOPSIS,
				    "--packing: \"%s\" is neither target nor karpenter", g.arg);
			break;
		case OPT_REGION:
			sv.region = g.arg;
			break;
		case OPT_SPOT_PRICES:
			sv.spot_prices = g.arg;
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
	if (idle < 0)
		idle = cfg.solve.batch_idle_ms;
	if (bmax < 0)
		bmax = cfg.solve.batch_max_ms;
	if (max_nodes >= 0)
		cfg.solve.max_nodes = max_nodes;
	sv.cfg = &cfg;
	obs_start(&cfg);
	sv.plan_ttl_ms = 2 * 60 * 1000;
	sv.nominate_ttl_ms = 2 * bmax > 10000 ? 2 * bmax : 10000;

	rd[0] = nap_rec_reader_new(0, "stdin");
	for (i = 0; i < ninputs; i++)
		if ((rd[i + 1] = nap_rec_open_fifo(inputs[i], &err)) == NULL)
			nap_die_err(&err);
	/* forwarded records are most of the output: fewer, fuller writes */
	nap_emit_batch(1);
	cl = solve_model = nap_cluster_new();
	/* the parsed structs and structural hashes suffice: the JSON would be most of the RSS */
	nap_cluster_keep_pod_json(cl, 0);
	nap_cluster_keep_node_json(cl, 0);
	memset(&b, 0, sizeof(b));
	nap_hash_init(&b.seen);
	recheck_at = nap_clock_mono_ms() + RECHECK_MS;

	while (stdin_open && !nap_stopping()) {
		int timeout = -1, n;
		size_t np = 0;

		/*
		 * Pods can stay Pending with no new record about them: the
		 * scheduler placed others where they were planned, or their
		 * nomination lapsed.  Like Karpenter, look again every 10 s.
		 */
		if (!b.open && synced) {
			int64_t now = nap_clock_mono_ms();

			if (now >= recheck_at) {
				/* plans whose NodeClaim never came lapse here */
				sv.now_ms = nap_clock_wall_ms();
				solve_expire(&sv, cl);
				trigger_all(&sv, &b, cl);
				recheck_at = now + RECHECK_MS;
				if (b.open)
					continue;
			}
			timeout = (int)(recheck_at - now);
		}
		if (b.open) {
			int64_t now = nap_clock_mono_ms(), due = b.last + idle;

			if (b.start + bmax < due)
				due = b.start + bmax;
			if (due <= now) {
				decide(&sv, cl, 0);
				batch_reset(&b);
				continue;
			}
			timeout = (int)(due - now);
		}
		for (i = 0; i <= ninputs; i++) {
			pfd[np].fd = nap_rec_fd(rd[i]);
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			np++;
		}
		/* what was forwarded or decided goes out before we wait */
		nap_emit_flush();
		n = poll(pfd, np, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			nap_die(NAP_EX_IOERR, "poll: %s", strerror(errno));
		}
		for (i = 0; i < np; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (nap_rec_fill(rd[i], &err) < 0)
				nap_die_err(&err);
			if (!drain(rd[i], i == 0, &sv, cl, &b, &synced) && i == 0)
				stdin_open = 0;
		}
	}
	if (!stdin_open && !nap_stopping() && synced && b.open)
		decide(&sv, cl, 1);

	for (i = 0; i <= ninputs; i++)
		nap_rec_reader_free(rd[i]);
	nap_hash_free(&b.seen);
	solve_free(&sv);
	obs_stop();
	nap_config_free(&cfg);
	return nap_exit(0);
}
