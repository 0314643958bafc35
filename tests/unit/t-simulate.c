/*
 * t-simulate.c - lib/simulate: the question built from a small cluster, with
 * each of the caller's filters (gone nodes, by Node or NodeClaim name, their
 * pods placed again and their usage freed or kept; skipped and held pods;
 * unavailable offerings, not written into the catalog; usage not seen yet),
 * and nap-disrupt's question answered by the scheduler: remove node n1,
 * does its pod fit on n2 with no new claim?  Run from the repository root
 * (make unit does), where data/catalog.tsv lives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "claim.h"
#include "json.h"
#include "model.h"
#include "simulate.h"
#include "tap.h"

#define NODE(name, it, cpu, pid)                                                                   \
	"{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"" name                  \
	"\",\"uid\":\"u-" name "\",\"labels\":{\"kubernetes.io/hostname\":\"" name                 \
	"\",\"node.kubernetes.io/instance-type\":\"" it "\","                                      \
	"\"topology.kubernetes.io/zone\":\"eastus-1\",\"karpenter.sh/"                             \
	"capacity-type\":\"on-demand\","                                                           \
	"\"karpenter.sh/nodepool\":\"default\",\"karpenter.sh/registered\":\"true\","              \
	"\"karpenter.sh/initialized\":\"true\",\"kubernetes.io/arch\":\"amd64\","                  \
	"\"kubernetes.io/os\":\"linux\"}},\"spec\":{\"providerID\":\"" pid "\"},"                  \
	"\"status\":{\"allocatable\":{\"cpu\":\"" cpu "\",\"memory\":\"12Gi\",\"pods\":\"110\"},"  \
	"\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}"
#define CLAIM(name, it, cpu, pid)                                                                  \
	"{\"apiVersion\":\"karpenter.sh/"                                                          \
	"v1\",\"kind\":\"NodeClaim\",\"metadata\":{\"name\":\"" name "\",\"uid\":\"u-" name        \
	"\",\"labels\":{\"karpenter.sh/nodepool\":\"default\"}},"                                  \
	"\"spec\":{\"nodeClassRef\":{\"name\":\"default\"},\"requirements\":[{\"key\":"            \
	"\"node.kubernetes.io/instance-type\",\"operator\":\"In\",\"values\":[\"" it "\"]}]},"     \
	"\"status\":{\"providerID\":\"" pid "\",\"capacity\":{\"cpu\":\"" cpu "\","                \
	"\"memory\":\"16Gi\",\"pods\":\"110\"}}}"
#define POD(name, node, cpu, extra)                                                                \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name                   \
	"\",\"namespace\":\"default\",\"uid\":\"u-" name "\"" extra                                \
	"},\"spec\":{\"nodeName\":\"" node                                                         \
	"\",\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"" cpu "\","     \
	"\"memory\":\"1Gi\"}}}]},\"status\":{\"phase\":\"Running\"}}"

static const char *const objects[] = {
    "{\"apiVersion\":\"karpenter.azure.com/v1beta1\",\"kind\":\"AKSNodeClass\",\"metadata\":"
    "{\"name\":\"default\",\"uid\":\"nc\"},\"spec\":{\"imageFamily\":\"Ubuntu\"}}",
    "{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodePool\",\"metadata\":{\"name\":\"default\","
    "\"uid\":\"np\"},\"spec\":{\"limits\":{\"cpu\":\"100\",\"example.com/foo\":\"1\"},"
    "\"template\":{\"spec\":{\"nodeClassRef\":{\"name\":\"default\"},\"requirements\":["
    "{\"key\":\"karpenter.azure.com/sku-family\",\"operator\":\"In\",\"values\":[\"D\"]},"
    "{\"key\":\"karpenter.sh/capacity-type\",\"operator\":\"In\",\"values\":[\"on-demand\"]}]}}}}",
    NODE("n1", "Standard_D2s_v5", "1900m", "azure:///n1"),
    NODE("n2", "Standard_D4s_v5", "3860m", "azure:///n2"),
    CLAIM("c1", "Standard_D2s_v5", "2", "azure:///n1"),
    CLAIM("c2", "Standard_D4s_v5", "4", "azure:///n2"),
    POD("web", "n1", "1", ""),
    POD("other", "n2", "1", ""),
    POD("done", "n1", "1", ""),
    POD("agent", "n1", "100m",
	",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"name\":\"ds\","
	"\"uid\":\"ds\",\"controller\":true}]"),
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"new\",\"namespace\":"
    "\"default\",\"uid\":\"u-new\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":"
    "{\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}]},\"status\":{\"phase\":\"Pending\","
    "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":"
    "\"Unschedulable\"}]}}",
};

static struct nap_cluster *
cluster(void)
{
	struct nap_cluster *c = nap_cluster_new();
	struct nap_err err;
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(objects); i++) {
		json_object *o = json_tokener_parse(objects[i]);

		if (o == NULL || nap_cluster_apply(c, "ADDED", o, &err) != 0) {
			printf("# object %zu: %s\n", i, o ? err.msg : "does not parse");
			exit(1);
		}
		json_object_put(o);
	}
	/* "done" has finished: it takes no room and is not moved */
	{
		json_object *o = json_tokener_parse(POD("done", "n1", "1", ""));

		json_object_object_add(json_object_object_get(o, "status"), "phase",
		    json_object_new_string("Succeeded"));
		nap_cluster_apply(c, "MODIFIED", o, &err);
		json_object_put(o);
	}
	return c;
}

/* The names of the pending pods (nodes_too 0) or of the nodes, joined by spaces. */
static const char *
names(const struct nap_sim *s, int nodes_too)
{
	static char buf[256];
	size_t i, n = nodes_too ? s->in.nnodes : s->in.npending;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? " " : "",
		    nodes_too ? s->nodes[i].name : s->pending[i].name);
	return buf;
}

#define pending(s) names((s), 0)
#define nodes(s) names((s), 1)

static size_t
type_index(const struct nap_sim *s, const char *name)
{
	size_t t;

	for (t = 0; t < s->in.ntypes; t++)
		if (strcmp(s->types[t].name, name) == 0)
			return t;
	return (size_t)-1;
}

/* The types' on-demand prices rise, and the first is price. */
static int
ranked(const struct nap_catalog *cat, json_object *names, double price)
{
	size_t i;
	double last = 0;

	for (i = 0; i < json_object_array_length(names); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(names, i));
		const struct nap_itype *it = nap_catalog_find(cat, name);

		if (it == NULL || it->on_demand_price < last ||
		    (i == 0 && it->on_demand_price != price)) {
			printf("#   %s at %g after %g (claim at %g)\n", name,
			    it ? it->on_demand_price : -1, last, price);
			return 0;
		}
		last = it->on_demand_price;
	}
	return 1;
}

static const char *view_mode;

static void
view(void *ctx, const struct nap_pod *p, struct nap_sim_pod_view *v)
{
	(void)ctx;
	if (strcmp(p->meta.name, "new") != 0)
		return;
	if (strcmp(view_mode, "skip") == 0) {
		v->role = NAP_SIM_SKIP;
	} else if (strcmp(view_mode, "hold") == 0) {
		v->role = NAP_SIM_HOLD;
		v->held_at = "n2";
	} else if (strcmp(view_mode, "hold-claim") == 0) {
		v->role = NAP_SIM_HOLD;
		v->held_at = "c2";
		v->held_is_claim = 1;
	} else if (strcmp(view_mode, "hold-gone") == 0) {
		v->role = NAP_SIM_HOLD;
		v->held_at = "n1";
	}
}

#define PENDING_ANTI(name, hash, app)                                                              \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name                   \
	"\",\"namespace\":\"default\",\"uid\":\"u-" name "\",\"labels\":{\"app\":\"" app           \
	"\",\"pod-template-hash\":\"" hash "\"}},\"spec\":{\"affinity\":{\"podAntiAffinity\":"     \
	"{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"topologyKey\":"                   \
	"\"kubernetes.io/hostname\",\"labelSelector\":{\"matchLabels\":{\"app\":\"" app            \
	"\"}}}]}},"                                                                                \
	"\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]},"         \
	"\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\","            \
	"\"status\":\"False\",\"reason\":\"Unschedulable\"}]}}"

/*
 * Pending pods whose topology terms are alike share one converted array
 * (a batch of a workload's pods holds thousands): pods that differ only in
 * labels and name do, a pod with another term does not.
 */
static void
topo_share_cases(const struct nap_catalog *cat)
{
	static const char *const pods[] = {
	    PENDING_ANTI("web-a", "h1", "web"),
	    PENDING_ANTI("web-b", "h2", "web"),
	    PENDING_ANTI("db-a", "h3", "db"),
	};
	struct nap_cluster *cl = nap_cluster_new();
	struct nap_sim_opts o;
	struct nap_sim s;
	struct nap_err err;
	static const char *const want[] = {"web-a", "web-b", "db-a"};
	const struct nap_sched_pod *p[3] = {NULL, NULL, NULL};
	size_t i, j;

	for (i = 0; i < NAP_ARRAY_LEN(objects) && i < 2; i++) {
		json_object *ob = json_tokener_parse(objects[i]);

		nap_cluster_apply(cl, "ADDED", ob, &err);
		json_object_put(ob);
	}
	for (i = 0; i < NAP_ARRAY_LEN(pods); i++) {
		json_object *ob = json_tokener_parse(pods[i]);

		if (ob == NULL || nap_cluster_apply(cl, "ADDED", ob, &err) != 0)
			printf("# pod %zu: %s\n", i, ob ? err.msg : "does not parse");
		json_object_put(ob);
	}
	memset(&o, 0, sizeof(o));
	nap_sim_build(&s, cl, cat, &o, &err);
	for (i = 0; i < s.in.npending; i++)
		for (j = 0; j < 3; j++)
			if (strcmp(s.pending[i].name, want[j]) == 0)
				p[j] = &s.pending[i];
	if (TAP_OK(p[0] && p[1] && p[2], "the three pods are pending")) {
		TAP_OK(p[0]->ntopo == 1 && p[1]->ntopo == 1 && p[2]->ntopo == 1 &&
			p[0]->topo[0].kind == NAP_SCHED_ANTI && p[0]->topo[0].required,
		    "each has its required anti-affinity term");
		TAP_OK(p[0]->topo == p[1]->topo,
		    "two pods of a workload (labels apart) share one array of terms");
		TAP_OK(
		    p[2]->topo != p[0]->topo && strcmp(p[2]->topo[0].sig, p[0]->topo[0].sig) != 0,
		    "a pod with another selector has its own");
	}
	nap_sim_free(&s);
	nap_cluster_free(cl);
}

int
main(void)
{
	struct nap_cluster *cl = cluster();
	struct nap_catalog *cat = NULL;
	struct nap_sim s;
	struct nap_sim_opts o;
	struct nap_sched_input in;
	struct nap_sched_result res;
	struct nap_err err;
	const char *gone_n1[] = {"n1"}, *gone_c1[] = {"c1"}, *gone_both[] = {"n1", "n2"};
	struct nap_sim_usage extra[] = {{"default", "c2", {{0}}}, {"default", "planned", {{0}}}};
	size_t t, k;
	struct nap_unavail_set un = {NULL, 0, 0};
	json_object *rec;
	int d2_off = 0, d2_cat = 1;

	if (nap_catalog_load(&cat, "data/catalog.tsv", "eastus", NULL, &err) < 0) {
		printf("# %s\n", err.msg);
		return 1;
	}
	memset(&o, 0, sizeof(o));

	nap_sim_build(&s, cl, cat, &o, &err);
	TAP_IS_STR(pending(&s), "new", "with no filter the pending pod is the one to place");
	TAP_IS_STR(nodes(&s), "n1 n2", "both nodes take pods");
	TAP_IS_INT(s.nbound, 3, "three live bound pods count for topology (the finished one not)");
	TAP_IS_INT(s.pools[0].used_nodes, 2, "both claims count against the limits");
	TAP_IS_INT(s.pools[0].used.v[NAP_RES_CPU], 6000, "their capacity is 2 + 4 CPUs");
	TAP_OK(s.nwarnings == 1 && strstr(s.warnings[0], "example.com/foo") != NULL,
	    "a limit on an untracked resource is a warning for the caller, not printed");
	nap_sim_free(&s);

	o.gone = gone_n1;
	o.ngone = 1;
	nap_sim_build(&s, cl, cat, &o, &err);
	TAP_IS_STR(nodes(&s), "n2", "a gone node takes no pod");
	TAP_IS_STR(pending(&s), "new web",
	    "its pod is placed again, after the pending; not its DaemonSet or finished pod");
	TAP_IS_INT(s.nmoved, 1, "one pod moved");
	TAP_IS_INT(s.nbound, 1, "the gone node's pods no longer count for topology");
	TAP_IS_INT(s.pools[0].used_nodes, 1, "its claim's capacity leaves the limits");
	TAP_IS_INT(s.pools[0].used.v[NAP_RES_CPU], 4000, "only n2's 4 CPUs count");
	/* nap-disrupt's question: with no new claim, where does web go? */
	in = s.in;
	in.npools = 0;
	if (nap_sched_solve(&in, &res, &err) == 0) {
		TAP_OK(res.place[1].where == NAP_SCHED_NODE &&
			strcmp(s.nodes[res.place[1].index].name, "n2") == 0,
		    "remove n1: its pod fits on n2 (3860m - 1 CPU leaves room for 1 CPU)");
		TAP_OK(res.place[0].where == NAP_SCHED_NODE, "and so does the pending 500m pod");
		TAP_IS_INT(res.nclaims, 0, "no new claim");
		nap_sched_result_free(&res);
	} else {
		TAP_OK(0, "the scheduler answers: %s", err.msg);
	}
	nap_sim_free(&s);

	o.gone = gone_c1;
	nap_sim_build(&s, cl, cat, &o, &err);
	TAP_IS_STR(nodes(&s), "n2", "a NodeClaim's name takes its node away too");
	TAP_IS_STR(pending(&s), "new web", "and its pods are placed again");
	nap_sim_free(&s);

	o.gone_usage_counts = 1;
	nap_sim_build(&s, cl, cat, &o, &err);
	TAP_IS_INT(s.pools[0].used_nodes, 2, "gone_usage_counts keeps a gone claim in the limits");
	nap_sim_free(&s);
	o.gone = NULL;
	o.ngone = 0;
	o.gone_usage_counts = 0;

	o.pod_view = view;
	view_mode = "skip";
	nap_sim_build(&s, cl, cat, &o, &err);
	TAP_IS_STR(pending(&s), "", "a skipped pod is not placed");
	TAP_IS_INT(s.nbound, 3, "nor counted anywhere");
	nap_sim_free(&s);
	view_mode = "hold";
	nap_sim_build(&s, cl, cat, &o, &err);
	TAP_IS_STR(pending(&s), "", "a held pod is not placed");
	TAP_IS_INT(s.nbound, 4, "it counts where it is held");
	TAP_IS_INT(
	    s.nodes[1].avail.v[NAP_RES_CPU], 3860 - 1000 - 500, "its request takes room there");
	nap_sim_free(&s);
	view_mode = "hold-claim";
	nap_sim_build(&s, cl, cat, &o, &err);
	TAP_IS_INT(s.nodes[1].avail.v[NAP_RES_CPU], 3860 - 1000 - 500,
	    "held at a registered claim, it counts on the claim's node");
	nap_sim_free(&s);
	view_mode = "hold-gone";
	o.gone = gone_n1;
	o.ngone = 1;
	nap_sim_build(&s, cl, cat, &o, &err);
	TAP_IS_STR(pending(&s), "web", "held at a gone node, it is left out");
	nap_sim_free(&s);
	o.gone = NULL;
	o.ngone = 0;
	o.pod_view = NULL;

	rec = json_tokener_parse("{\"type\":\"OfferingUnavailable\","
				 "\"instanceType\":\"Standard_D2s_v5\"}");
	nap_unavail_add_record(&un, rec, &err);
	json_object_put(rec);
	o.unavail = &un;
	nap_sim_build(&s, cl, cat, &o, &err);
	t = type_index(&s, "Standard_D2s_v5");
	for (k = 0; t != (size_t)-1 && k < s.types[t].noff; k++)
		d2_off |= s.types[t].off[k].available;
	for (k = 0; k < nap_catalog_find(cat, "Standard_D2s_v5")->noff; k++)
		d2_cat &= nap_catalog_find(cat, "Standard_D2s_v5")->off[k].available;
	TAP_OK(t != (size_t)-1 && !d2_off, "offerings reported unavailable are not offered");
	TAP_OK(d2_cat, "and the catalog is not written");
	TAP_OK(t != (size_t)-1 && nap_reqs_get(&s.types[t].reqs, "topology.kubernetes.io/zone") &&
		nap_reqs_get(&s.types[t].reqs, "topology.kubernetes.io/zone")->nvalues == 0,
	    "a type with no available offering selects no zone");
	nap_sim_free(&s);
	o.unavail = NULL;
	nap_unavail_free(&un);

	extra[0].capacity.v[NAP_RES_CPU] = 8000;
	extra[1].capacity.v[NAP_RES_CPU] = 16000;
	o.extra = extra;
	o.nextra = 2;
	nap_sim_build(&s, cl, cat, &o, &err);
	TAP_IS_INT(s.pools[0].used_nodes, 3, "usage not seen yet counts, once per claim");
	TAP_IS_INT(s.pools[0].used.v[NAP_RES_CPU], 6000 + 16000,
	    "a planned claim that exists counts as itself, not again");
	nap_sim_free(&s);

	/* every node gone: the pods need one new claim, written as nap-launch reads it */
	o.gone = gone_both;
	o.ngone = 2;
	o.extra = NULL;
	o.nextra = 0;
	nap_sim_build(&s, cl, cat, &o, &err);
	if (nap_sched_solve(&s.in, &res, &err) == 0 && res.nclaims == 1) {
		json_object *lr = nap_claim_launch_request(&s, &res.claims[0]);
		json_object *back = json_tokener_parse(json_object_to_json_string(lr));
		json_object *reqs = nap_json_get(back, "nodeClaim.spec.requirements"), *it = NULL;
		size_t i;

		for (i = 0; reqs && i < json_object_array_length(reqs); i++)
			if (strcmp(nap_json_str(json_object_array_get_idx(reqs, i), "key", ""),
				"node.kubernetes.io/instance-type") == 0)
				it = nap_json_get(json_object_array_get_idx(reqs, i), "values");
		TAP_IS_STR(nap_json_str(back, "type", NULL), "LaunchRequest", "a LaunchRequest");
		TAP_IS_STR(
		    json_object_get_string(json_object_object_get(
			nap_json_get(back, "nodeClaim.metadata.labels"), "karpenter.sh/nodepool")),
		    "default", "its NodePool label");
		TAP_IS_STR(
		    nap_json_str(json_object_array_get_idx(
				     nap_json_get(back, "nodeClaim.metadata.ownerReferences"), 0),
			"name", NULL),
		    "default", "owned by its NodePool");
		TAP_IS_INT(json_object_array_length(nap_json_get(back, "pods")), 3,
		    "for the pending pod and the two moved");
		TAP_OK(
		    it && json_object_array_length(it) > 1 && ranked(cat, it, res.claims[0].price),
		    "instance types ranked cheapest first (on demand), the first at the claim's "
		    "price");
		json_object_put(back);
		json_object_put(lr);
		nap_sched_result_free(&res);
	} else {
		TAP_OK(0, "one claim for the pods of every gone node: %s", err.msg);
	}
	nap_sim_free(&s);

	/*
	 * The DaemonSet of pod "agent" (100m): its pod gives the overhead, its
	 * template (2 CPUs, a nodeSelector) only where it lands; with no pod
	 * left the template gives both.
	 */
	{
		json_object *ds = json_tokener_parse(
		    "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":"
		    "\"ds\",\"namespace\":\"default\",\"uid\":\"ds\"},\"spec\":{\"template\":"
		    "{\"spec\":{\"nodeSelector\":{\"kubernetes.io/os\":\"linux\"},\"containers\":"
		    "[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"2\"}}}]}}}}");
		json_object *agent = json_tokener_parse(POD("agent", "n1", "100m", ""));

		nap_cluster_apply(cl, "ADDED", ds, &err);
		memset(&o, 0, sizeof(o));
		nap_sim_build(&s, cl, cat, &o, &err);
		TAP_OK(s.in.ndaemons == 1 && s.daemons[0].req.v[NAP_RES_CPU] == 100,
		    "a DaemonSet's overhead is its pod's requests, not its template's");
		TAP_OK(s.daemons[0].nterms == 1 &&
			nap_reqs_get(&s.daemons[0].terms[0], "kubernetes.io/os") != NULL,
		    "and where it lands is its template's node selection");
		nap_sim_free(&s);
		nap_cluster_apply(cl, "DELETED", agent, &err);
		nap_sim_build(&s, cl, cat, &o, &err);
		TAP_IS_INT(s.daemons[0].req.v[NAP_RES_CPU], 2000,
		    "with no pod of it left, its template is the overhead");
		nap_sim_free(&s);
		json_object_put(ds);
		json_object_put(agent);
	}

	topo_share_cases(cat);
	nap_catalog_free(cat);
	nap_cluster_free(cl);
	return tap_done();
}
