/*
 * disrupt.c - one disruption planning run (lib/disrupt) on a large cluster:
 * N nodes (NodeClaim + Node) in two NodePools, 19 application pods and 2
 * DaemonSet pods on each node except every tenth (empty but for its
 * DaemonSet pods), P PodDisruptionBudgets over 20 namespaces (every 40th
 * allowing 0 disruptions), a few do-not-disrupt pods.  Prints the median and
 * max of R planning runs, and of rendering every record of a plan (what
 * nap-disrupt --dry-run writes), in ms.
 *
 * usage: disrupt [nodes [pdbs [runs]]]    (defaults 2000 200 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "disrupt.h"
#include "json.h"
#include "model.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
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

int
main(int argc, char **argv)
{
	int nodes = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 2000,
	    npdbs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 200;
	int runs = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5, i, k, npods = 0;
	struct nap_cluster *c = nap_cluster_new();
	double t, *plan = calloc((size_t)runs, sizeof(double)),
		  *render = calloc((size_t)runs, sizeof(double));
	char buf[4096];
	size_t disrupted = 0, blocked_pdb = 0, j;

	if (runs < 1 || nodes < 1 || plan == NULL || render == NULL)
		return 64;
	nap_cluster_keep_pod_json(c, 0);
	nap_cluster_keep_node_json(c, 0);
	t = now_ms();
	for (k = 0; k < 2; k++) {
		snprintf(buf, sizeof(buf),
		    "{\"kind\":\"NodePool\",\"metadata\":{\"name\":\"pool-%d\"},\"spec\":{"
		    "\"template\":"
		    "{\"spec\":{\"requirements\":[],\"nodeClassRef\":{\"name\":\"default\"}}},"
		    "\"disruption\":{\"consolidationPolicy\":\"WhenEmpty\",\"consolidateAfter\":"
		    "\"30s\","
		    "\"budgets\":[{\"nodes\":\"10%%\"},{\"nodes\":\"0\",\"schedule\":\"0 9 * * "
		    "1-5\","
		    "\"duration\":\"8h\",\"reasons\":[\"Drifted\"]}]}}}",
		    k);
		add(c, buf);
	}
	for (i = 0; i < npdbs; i++) {
		snprintf(buf, sizeof(buf),
		    "{\"kind\":\"PodDisruptionBudget\",\"metadata\":{\"namespace\":\"ns-%d\","
		    "\"name\":"
		    "\"app-%d\"},\"spec\":{\"maxUnavailable\":1,\"selector\":{\"matchLabels\":{"
		    "\"app\":"
		    "\"app-%d\"}}},\"status\":{\"disruptionsAllowed\":%d}}",
		    i % 20, i, i, i % 40 == 0 ? 0 : 1);
		add(c, buf);
	}
	for (i = 0; i < nodes; i++) {
		const char *pool = i % 2 ? "pool-1" : "pool-0";

		snprintf(buf, sizeof(buf),
		    "{\"kind\":\"NodeClaim\",\"metadata\":{\"name\":\"n-%d\",\"creationTimestamp\":"
		    "\"2026-12-07T08:00:00Z\",\"labels\":{\"karpenter.sh/nodepool\":\"%s\","
		    "\"node.kubernetes.io/instance-type\":\"Standard_D8s_v5\"}},\"spec\":{"
		    "\"requirements\":[],\"nodeClassRef\":{\"name\":\"default\"}},\"status\":{"
		    "\"nodeName\":\"n-%d\",\"lastPodEventTime\":\"2026-12-07T10:00:00Z\","
		    "\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\"}]}}",
		    i, pool, i);
		add(c, buf);
		snprintf(buf, sizeof(buf),
		    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"n-%d\",\"labels\":{"
		    "\"karpenter.sh/"
		    "nodepool\":\"%s\"},\"ownerReferences\":[{\"kind\":\"NodeClaim\","
		    "\"name\":\"n-%d\"}]},\"status\":{\"conditions\":[{\"type\":\"Ready\","
		    "\"status\":"
		    "\"True\"}]}}",
		    i, pool, i);
		add(c, buf);
		for (k = 0; k < 2; k++, npods++) {
			snprintf(buf, sizeof(buf),
			    "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"kube-system\","
			    "\"name\":"
			    "\"ds%d-%d\",\"labels\":{\"app\":\"ds%d\"},\"ownerReferences\":[{"
			    "\"kind\":"
			    "\"DaemonSet\",\"name\":\"ds%d\",\"controller\":true}]},\"spec\":{"
			    "\"nodeName\":\"n-%d\",\"containers\":[{\"name\":\"c\"}]},\"status\":{"
			    "\"phase\":\"Running\"}}",
			    k, i, k, k, i);
			add(c, buf);
		}
		if (i % 10 == 0)
			continue;
		for (k = 0; k < 19; k++, npods++) {
			int app = npods % (npdbs > 0 ? npdbs : 1);

			snprintf(buf, sizeof(buf),
			    "{\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"ns-%d\",\"name\":"
			    "\"p-%d\",\"labels\":{\"app\":\"app-%d\"}%s,\"ownerReferences\":[{"
			    "\"kind\":\"ReplicaSet\",\"name\":\"rs-%d\",\"controller\":true}]},"
			    "\"spec\":{\"nodeName\":\"n-%d\",\"containers\":[{\"name\":\"c\","
			    "\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]},\"status\":{"
			    "\"phase\":\"Running\"}}",
			    app % 20, npods, app,
			    npods % 997 == 0
				? ",\"annotations\":{\"karpenter.sh/do-not-disrupt\":\"true\"}"
				: "",
			    app, i);
			add(c, buf);
		}
	}
	printf("cluster: %d nodes, %d pods, %d PDBs, 2 NodePools; built in %.0f ms\n", nodes, npods,
	    npdbs, now_ms() - t);
	for (i = 0; i < runs; i++) {
		struct nap_disrupt_opts o;
		struct nap_disrupt_result r;
		struct nap_err err;

		memset(&o, 0, sizeof(o));
		o.now_ms = INT64_C(1796644800) * 1000; /* 2026-12-07T12:00:00Z */
		t = now_ms();
		if (nap_disrupt_plan(c, &o, &r, &err) != 0) {
			fprintf(stderr, "bench: %s\n", err.msg);
			return 70;
		}
		plan[i] = now_ms() - t;
		t = now_ms();
		for (j = 0; j < r.ncmds + r.nverdicts; j++) {
			json_object *rec = j < r.ncmds
			    ? nap_disrupt_command_json(&r, &r.cmds[j])
			    : nap_disrupt_verdict_json(&r, &r.verdicts[j - r.ncmds]);

			(void)nap_json_dump(rec);
			json_object_put(rec);
		}
		render[i] = now_ms() - t;
		disrupted = blocked_pdb = 0;
		for (j = 0; j < r.nverdicts; j++) {
			disrupted += r.verdicts[j].why == NAP_WHY_DISRUPTED;
			blocked_pdb += r.verdicts[j].why == NAP_WHY_PDB_BLOCKS;
		}
		nap_disrupt_result_free(&r);
	}
	qsort(plan, (size_t)runs, sizeof(double), cmp);
	qsort(render, (size_t)runs, sizeof(double), cmp);
	printf("plan: %zu disrupted, %zu held by a PDB; median %.1f ms (max %.1f) over %d runs\n",
	    disrupted, blocked_pdb, plan[runs / 2], plan[runs - 1], runs);
	printf("records of a plan (--dry-run): median %.1f ms (max %.1f)\n", render[runs / 2],
	    render[runs - 1]);
	free(plan);
	free(render);
	nap_cluster_free(c);
	return 0;
}
