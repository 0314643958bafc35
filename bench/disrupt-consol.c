/*
 * disrupt-consol.c - one consolidation decision pass (lib/disrupt:
 * emptiness, multi-node, single-node) over a fleet left fragmented by a
 * scale-down: N nodes of three D-series sizes in two NodePools (on-demand,
 * WhenEmptyOrUnderutilized), each holding P application pods (20: about
 * 70% of its CPU) of four request shapes, every 50th node empty, PDBs
 * allowing 1 over 20 namespaces, priced from the repository's catalog
 * (eastus).  With P >= 25 no node is empty and the pools allow only the
 * three sizes: at P = 28 (99% of CPU) consolidation finds nothing, and
 * single-node walks every candidate, its worst case.
 *
 * For each of R runs it times, on the same snapshot: the whole pass
 * (Karpenter's order: emptiness first, stopping at the first method with a
 * command), multi-node alone and single-node alone (emptiness off, so they
 * are what runs), and prints medians with the simulations each made, the
 * saving found, the fleet's $/h and its whole-pod LP bound (lib/bound),
 * and the fleet-to-bound ratio before and after each method's command;
 * then the peak RSS of the process.
 *
 * With "converge" after them, it instead empties half the pods (every
 * other one; the pools then allow any on-demand size), plans, carries every
 * command out at once in the model (replacements as Nodes of their cheapest
 * type, pods bound where the plan moved them), and plans again until a pass
 * makes no command: passes, CPU, and the fleet against the whole-pod bound.
 *
 * usage: disrupt-consol CATALOG [nodes [runs [pods-per-node [converge]]]]
 *        (defaults 2000 3 20)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "catalog.h"
#include "disrupt.h"
#include "json.h"
#include "model.h"

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of the process: the machine may be shared, the target is one core. */
static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
add(struct nap_cluster *c, const char *json)
{
	json_object *o = json_tokener_parse(json);
	struct nap_err err;

	if (o == NULL || nap_cluster_apply(c, "ADDED", o, &err) < 0) {
		fprintf(stderr, "bench: cannot apply %.200s: %s\n", json, o ? err.msg : "bad JSON");
		exit(1);
	}
	json_object_put(o);
}

static const struct {
	const char *name, *cpu, *mem, *acpu, *amem;
} sizes[] = {
    {"Standard_D4s_v5", "4", "16Gi", "3860m", "12Gi"},
    {"Standard_D8s_v5", "8", "32Gi", "7820m", "27Gi"},
    {"Standard_D16s_v5", "16", "64Gi", "15740m", "57Gi"},
};
/* per size: the CPU (m) and memory (Mi) of the four pod shapes, about 35% of a node in 20 pods */
static const int shape_cpu[] = {50, 100, 150, 250}, shape_mem[] = {128, 256, 512, 640};

static int
build(struct nap_cluster *c, int nodes, int per, int half)
{
	char buf[4096];
	int i, k, npods = 0;

	add(c,
	    "{\"apiVersion\":\"karpenter.azure.com/v1beta1\",\"kind\":\"AKSNodeClass\","
	    "\"metadata\":{\"name\":\"default\",\"uid\":\"nc-1\"},\"spec\":{\"imageFamily\":"
	    "\"Ubuntu\"}}");
	for (k = 0; k < 2; k++) {
		snprintf(buf, sizeof(buf),
		    "{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodePool\",\"metadata\":{"
		    "\"name\":\"pool-%d\",\"uid\":\"np-%d\"},\"spec\":{\"template\":{\"spec\":{"
		    "\"requirements\":[{\"key\":\"karpenter.sh/capacity-type\",\"operator\":"
		    "\"In\",\"values\":[\"on-demand\"]},%s],\"nodeClassRef\":{"
		    "\"group\":\"karpenter.azure.com\",\"kind\":\"AKSNodeClass\",\"name\":"
		    "\"default\"}}},\"disruption\":{\"consolidationPolicy\":"
		    "\"WhenEmptyOrUnderutilized\",\"consolidateAfter\":\"30s\",\"budgets\":[{"
		    "\"nodes\":\"10%%\"}]}}}",
		    k, k,
		    half ? "{\"key\":\"kubernetes.io/"
			   "os\",\"operator\":\"In\",\"values\":[\"linux\"]}"
			: per < 25
			? "{\"key\":\"karpenter.azure.com/sku-family\",\"operator\":\"In\","
			  "\"values\":[\"D\"]}"
			: "{\"key\":\"node.kubernetes.io/instance-type\",\"operator\":\"In\","
			  "\"values\":[\"Standard_D4s_v5\",\"Standard_D8s_v5\","
			  "\"Standard_D16s_v5\"]}");
		add(c, buf);
	}
	for (i = 0; i < 200; i++) {
		snprintf(buf, sizeof(buf),
		    "{\"kind\":\"PodDisruptionBudget\",\"apiVersion\":\"policy/v1\",\"metadata\":{"
		    "\"namespace\":\"ns-%d\",\"name\":\"app-%d\"},\"spec\":{\"maxUnavailable\":1,"
		    "\"selector\":{\"matchLabels\":{\"app\":\"app-%d\"}}},\"status\":{"
		    "\"disruptionsAllowed\":1}}",
		    i % 20, i, i);
		add(c, buf);
	}
	for (i = 0; i < nodes; i++) {
		const char *pool = i % 2 ? "pool-1" : "pool-0";
		int s = i % 3, z = 1 + i % 3;

		snprintf(buf, sizeof(buf),
		    "{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodeClaim\",\"metadata\":{"
		    "\"name\":\"n-%d\",\"uid\":\"nc-%d\",\"creationTimestamp\":"
		    "\"2026-12-07T08:00:00Z\",\"labels\":{\"karpenter.sh/nodepool\":\"%s\","
		    "\"node.kubernetes.io/instance-type\":\"%s\",\"topology.kubernetes.io/"
		    "zone\":\"eastus-%d\",\"karpenter.sh/capacity-type\":\"on-demand\"}},"
		    "\"spec\":{\"requirements\":[],\"nodeClassRef\":{\"name\":\"default\"}},"
		    "\"status\":{\"nodeName\":\"n-%d\",\"lastPodEventTime\":"
		    "\"2026-12-07T10:00:00Z\",\"conditions\":[{\"type\":\"Initialized\","
		    "\"status\":\"True\"}]}}",
		    i, i, pool, sizes[s].name, z, i);
		add(c, buf);
		snprintf(buf, sizeof(buf),
		    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n-%d\","
		    "\"labels\":{\"karpenter.sh/nodepool\":\"%s\",\"node.kubernetes.io/"
		    "instance-type\":\"%s\",\"topology.kubernetes.io/zone\":\"eastus-%d\","
		    "\"karpenter.sh/capacity-type\":\"on-demand\",\"kubernetes.io/hostname\":"
		    "\"n-%d\",\"karpenter.sh/initialized\":\"true\"},\"ownerReferences\":[{"
		    "\"kind\":\"NodeClaim\",\"name\":\"n-%d\"}]},\"status\":{\"capacity\":{"
		    "\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"110\"},\"allocatable\":{"
		    "\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"110\"},\"conditions\":[{"
		    "\"type\":\"Ready\",\"status\":\"True\"}]}}",
		    i, pool, sizes[s].name, z, i, i, sizes[s].cpu, sizes[s].mem, sizes[s].acpu,
		    sizes[s].amem);
		add(c, buf);
		if (i % 50 == 0 && per < 25)
			continue;
		for (k = 0; k < per; k++, npods++) {
			int app = npods % 200, sh = (i + k) % 4, mult = 1 << s;

			if (half && (k + i) % 2) { /* the scale-down: every other pod gone */
				npods--;
				continue;
			}

			snprintf(buf, sizeof(buf),
			    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":"
			    "\"ns-%d\",\"name\":\"p-%d\",\"uid\":\"u-%d\",\"creationTimestamp\":"
			    "\"2026-12-07T09:00:00Z\",\"labels\":{\"app\":\"app-%d\"},"
			    "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"rs-%d\","
			    "\"controller\":true}]},\"spec\":{\"nodeName\":\"n-%d\",\"containers\":"
			    "[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"%dm\","
			    "\"memory\":\"%dMi\"}}}]},\"status\":{\"phase\":\"Running\"}}",
			    app % 20, npods, npods, app, app, i, shape_cpu[sh] * mult,
			    shape_mem[sh] * mult);
			add(c, buf);
		}
	}
	return npods;
}

struct figures {
	double ms, cpu;
	size_t sims, cands, launch;
	double saving, fleet, bound;
};

static void
run(const struct nap_cluster *c, const struct nap_catalog *cat, unsigned methods, struct figures *f)
{
	struct nap_disrupt_opts o;
	struct nap_disrupt_result r;
	struct nap_err err;
	double t;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.now_ms = INT64_C(1796644800) * 1000; /* 2026-12-07T12:00:00Z */
	o.catalog = cat;
	o.methods = methods;
	o.bound = 1;
	t = mono_ms();
	f->cpu = cpu_ms();
	if (nap_disrupt_plan(c, &o, &r, &err) != 0) {
		fprintf(stderr, "bench: %s\n", err.msg);
		exit(70);
	}
	f->ms = mono_ms() - t;
	f->cpu = cpu_ms() - f->cpu;
	f->sims = r.simulations;
	f->cands = f->launch = 0;
	f->saving = 0;
	for (i = 0; i < r.ncmds; i++) {
		f->cands += r.cmds[i].ncands;
		f->launch += r.cmds[i].nlaunch;
		f->saving += r.cmds[i].savings;
	}
	f->fleet = r.fleet_price;
	f->bound = r.bound;
	nap_disrupt_result_free(&r);
}

static void
report(const char *what, struct figures *f, int runs)
{
	double *ms = calloc((size_t)runs, sizeof(double)),
	       *cpu = calloc((size_t)runs, sizeof(double));
	int i;

	for (i = 0; i < runs; i++) {
		ms[i] = f[i].ms;
		cpu[i] = f[i].cpu;
	}
	qsort(ms, (size_t)runs, sizeof(double), cmp);
	qsort(cpu, (size_t)runs, sizeof(double), cmp);
	printf("%-12s median %7.0f ms wall (max %.0f), %.0f ms CPU; %zu simulations (%.0f ms CPU "
	       "each); %zu nodes out, %zu new; saving $%.3f/h; fleet/bound %.3f -> %.3f\n",
	    what, ms[runs / 2], ms[runs - 1], cpu[runs / 2], f[0].sims,
	    f[0].sims ? cpu[runs / 2] / (double)f[0].sims : 0, f[0].cands, f[0].launch, f[0].saving,
	    f[0].bound > 0 ? f[0].fleet / f[0].bound : 0,
	    f[0].bound > 0 ? (f[0].fleet - f[0].saving) / f[0].bound : 0);
	free(ms);
	free(cpu);
}

/* A pod of the model written back as the bench's JSON, bound to node. */
static void
rebind(struct nap_cluster *c, const struct nap_pod *p, const char *node)
{
	char buf[2048];
	const char *app = nap_meta_label(&p->meta, "app");

	snprintf(buf, sizeof(buf),
	    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"%s\","
	    "\"name\":\"%s\",\"uid\":\"%s\",\"creationTimestamp\":\"2026-12-07T09:00:00Z\","
	    "\"labels\":{\"app\":\"%s\"},\"ownerReferences\":[{\"kind\":\"ReplicaSet\","
	    "\"name\":\"rs-%s\",\"controller\":true}]},\"spec\":{\"nodeName\":\"%s\","
	    "\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"%lldm\","
	    "\"memory\":\"%lld\"}}}]},\"status\":{\"phase\":\"Running\"}}",
	    p->meta.ns, p->meta.name, p->meta.uid, app ? app : "", app ? app : "", node,
	    (long long)p->requests.v[NAP_RES_CPU], (long long)p->requests.v[NAP_RES_MEMORY]);
	add(c, buf);
}

static void
del(struct nap_cluster *c, const char *kind, const char *ns, const char *name)
{
	char buf[512];
	json_object *o;
	struct nap_err err;

	snprintf(buf, sizeof(buf), "{\"kind\":\"%s\",\"metadata\":{%s%s%s\"name\":\"%s\"}}", kind,
	    ns ? "\"namespace\":\"" : "", ns ? ns : "", ns ? "\"," : "", name);
	o = json_tokener_parse(buf);
	if (nap_cluster_apply(c, "DELETED", o, &err) < 0)
		fprintf(stderr, "bench: delete %s %s: %s\n", kind, name, err.msg);
	json_object_put(o);
}

/* The first value of the requirement key in a LaunchRequest's NodeClaim that is not "0". */
static const char *
first(json_object *launch, const char *key)
{
	json_object *reqs = nap_json_get(launch, "nodeClaim.spec.requirements");
	size_t i, j;

	for (i = 0; reqs && i < json_object_array_length(reqs); i++) {
		json_object *q = json_object_array_get_idx(reqs, i), *v;

		if (strcmp(nap_json_str(q, "key", ""), key) != 0)
			continue;
		v = nap_json_get(q, "values");
		for (j = 0; v && j < json_object_array_length(v); j++) {
			const char *s = json_object_get_string(json_object_array_get_idx(v, j));

			if (strcmp(s, "0") != 0)
				return s;
		}
	}
	return NULL;
}

/*
 * A command carried out at once: each replacement a Node of its cheapest
 * type, the candidates' pods bound where the simulation put them, the
 * candidates gone.
 */
static void
apply(struct nap_cluster *c, const struct nap_catalog *cat, const struct nap_disrupt_command *cmd)
{
	char buf[4096];
	size_t i, j, n;

	for (i = 0; i < cmd->nlaunch; i++) {
		json_object *l = cmd->launch[i];
		const char *name = nap_json_str(l, "nodeClaim.metadata.name", "");
		json_object *pl = nap_json_key(
		    nap_json_get(l, "nodeClaim.metadata.labels"), "karpenter.sh/nodepool");
		const char *pool = pl ? json_object_get_string(pl) : "pool-0";
		const char *type = first(l, "node.kubernetes.io/instance-type");
		const char *zone = first(l, "topology.kubernetes.io/zone");
		const char *ct = first(l, "karpenter.sh/capacity-type");
		const struct nap_itype *it = type ? nap_catalog_find(cat, type) : NULL;
		struct nap_res al, ca;

		if (it == NULL)
			continue;
		nap_itype_allocatable(it, NULL, &al);
		nap_itype_capacity(it, NULL, &ca);
		snprintf(buf, sizeof(buf),
		    "{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodeClaim\",\"metadata\":{"
		    "\"name\":\"%s\",\"uid\":\"nc-%s\",\"creationTimestamp\":\"2026-12-07T08:00:"
		    "00Z\","
		    "\"labels\":{\"karpenter.sh/nodepool\":\"%s\",\"node.kubernetes.io/"
		    "instance-type\":"
		    "\"%s\",\"topology.kubernetes.io/zone\":\"%s\",\"karpenter.sh/"
		    "capacity-type\":\"%s\"}},"
		    "\"spec\":{\"requirements\":[],\"nodeClassRef\":{\"name\":\"default\"}},"
		    "\"status\":{"
		    "\"nodeName\":\"%s\",\"lastPodEventTime\":\"2026-12-07T10:00:00Z\","
		    "\"conditions\":[{"
		    "\"type\":\"Initialized\",\"status\":\"True\"}]}}",
		    name, name, pool, type, zone ? zone : "eastus-1", ct ? ct : "on-demand", name);
		add(c, buf);
		snprintf(buf, sizeof(buf),
		    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\","
		    "\"labels\":{"
		    "\"karpenter.sh/nodepool\":\"%s\",\"node.kubernetes.io/instance-type\":\"%s\","
		    "\"topology.kubernetes.io/zone\":\"%s\",\"karpenter.sh/capacity-type\":\"%s\","
		    "\"kubernetes.io/hostname\":\"%s\",\"karpenter.sh/initialized\":\"true\"},"
		    "\"ownerReferences\":[{\"kind\":\"NodeClaim\",\"name\":\"%s\"}]},\"status\":{"
		    "\"capacity\":{\"cpu\":\"%lldm\",\"memory\":\"%lld\",\"pods\":\"%lld\"},"
		    "\"allocatable\":{\"cpu\":\"%lldm\",\"memory\":\"%lld\",\"pods\":\"%lld\"},"
		    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
		    name, pool, type, zone ? zone : "eastus-1", ct ? ct : "on-demand", name, name,
		    (long long)ca.v[NAP_RES_CPU], (long long)ca.v[NAP_RES_MEMORY],
		    (long long)ca.v[NAP_RES_PODS], (long long)al.v[NAP_RES_CPU],
		    (long long)al.v[NAP_RES_MEMORY], (long long)al.v[NAP_RES_PODS]);
		add(c, buf);
	}
	for (i = 0; i < cmd->nmoves; i++) {
		const struct nap_disrupt_move *m = &cmd->moves[i];
		char ns[256];
		const char *slash = strchr(m->pod, '/');
		struct nap_pod *const *pods;

		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - m->pod), m->pod);
		for (j = 0; j < cmd->ncands; j++) {
			size_t k;

			pods = nap_cluster_pods_on_node(c, cmd->cands[j].node, &n);
			for (k = 0; k < n; k++)
				if (strcmp(pods[k]->meta.ns, ns) == 0 &&
				    strcmp(pods[k]->meta.name, slash + 1) == 0) {
					rebind(c, pods[k], m->to);
					break;
				}
		}
	}
	for (i = 0; i < cmd->ncands; i++) {
		del(c, "Node", NULL, cmd->cands[i].node);
		del(c, "NodeClaim", NULL, cmd->cands[i].nodeclaim);
	}
}

/*
 * The figure offline: a fleet half emptied by a scale-down (every
 * other pod of the 70% fleet gone; pools that allow any on-demand size),
 * consolidated pass after pass, each command carried out at once, until a
 * pass makes none; the fleet's ratio to the whole-pod bound then.
 */
static int
converge(struct nap_cluster *c, const struct nap_catalog *cat, int nodes, int per)
{
	struct nap_disrupt_opts o;
	struct nap_disrupt_result r;
	struct nap_err err;
	double cpu = 0, first_ratio = 0, bound = 0, fleet = 0;
	int pass, npods = build(c, nodes, per, 1);
	size_t i, cmds = 0, out = 0, launched = 0;

	printf("converge: %d nodes, %d pods after the scale-down\n", nodes, npods);
	for (pass = 0; pass < 500; pass++) {
		double t = cpu_ms();

		memset(&o, 0, sizeof(o));
		o.now_ms = INT64_C(1796644800) * 1000;
		o.catalog = cat;
		o.bound = 1;
		o.max_simulations = 100;
		if (nap_disrupt_plan(c, &o, &r, &err) != 0)
			return 70;
		cpu += cpu_ms() - t;
		bound = r.bound;
		fleet = r.fleet_price;
		if (pass == 0)
			first_ratio = r.fleet_price / r.bound;
		if (r.ncmds == 0) {
			nap_disrupt_result_free(&r);
			break;
		}
		for (i = 0; i < r.ncmds; i++) {
			apply(c, cat, &r.cmds[i]);
			cmds++;
			out += r.cmds[i].ncands;
			launched += r.cmds[i].nlaunch;
		}
		nap_disrupt_result_free(&r);
	}
	printf("converge: %d passes, %zu commands (%zu nodes out, %zu new), %.0f ms CPU planning; "
	       "fleet $%.3f/h, bound $%.3f/h: fleet/bound %.3f -> %.3f\n",
	    pass, cmds, out, launched, cpu, fleet, bound, first_ratio,
	    bound > 0 ? fleet / bound : 0);
	nap_cluster_free(c);
	nap_catalog_free((struct nap_catalog *)cat);
	return 0;
}

int
main(int argc, char **argv)
{
	int nodes = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 2000;
	int runs = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3, i, npods;
	int per = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 20;
	struct nap_cluster *c = nap_cluster_new();
	struct nap_catalog *cat;
	struct nap_err err;
	struct figures *pass, *multi, *single;
	struct rusage ru;
	double t;

	if (argc < 2 || runs < 1 || nodes < 1 || per < 0) {
		fprintf(stderr, "usage: disrupt-consol CATALOG [nodes [runs [pods-per-node]]]\n");
		return 64;
	}
	if (nap_catalog_load(&cat, argv[1], "eastus", NULL, &err) < 0) {
		fprintf(stderr, "bench: %s\n", err.msg);
		return 66;
	}
	nap_cluster_keep_pod_json(c, 0);
	nap_cluster_keep_node_json(c, 0);
	t = mono_ms();
	if (argc > 5 && strcmp(argv[5], "converge") == 0)
		return converge(c, cat, nodes, per);
	npods = build(c, nodes, per, 0);
	printf("cluster: %d nodes (D4s/D8s/D16s_v5, 2 on-demand pools, every 50th empty), %d "
	       "application pods (%d a node) + PDBs; built in %.0f ms\n",
	    nodes, npods, per, mono_ms() - t);
	pass = calloc((size_t)runs, sizeof(*pass));
	multi = calloc((size_t)runs, sizeof(*multi));
	single = calloc((size_t)runs, sizeof(*single));
	for (i = 0; i < runs; i++) {
		run(c, cat, NAP_DISRUPT_M_ALL, &pass[i]);
		run(c, cat, NAP_DISRUPT_M_MULTI, &multi[i]);
		run(c, cat, NAP_DISRUPT_M_SINGLE, &single[i]);
	}
	printf("fleet $%.3f/h, whole-pod bound $%.3f/h\n", pass[0].fleet, pass[0].bound);
	report("pass", pass, runs);
	report("multi-node", multi, runs);
	report("single-node", single, runs);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS %.0f MB\n", (double)ru.ru_maxrss / 1024.0);
	free(pass);
	free(multi);
	free(single);
	nap_catalog_free(cat);
	nap_cluster_free(c);
	return 0;
}
