/*
 * t-model.c - lib/model: structs from Kubernetes objects, Karpenter and
 * Azure defaults, effective requests, the provisionable predicate, the
 * shared fixtures and the cluster model.
 *
 * Inputs: the YAML files in tests/fixtures/model (relative to the repository, where
 * make runs the tests), and the shared fixtures under $NAP_SHARED (default
 * ../shared), skipped when absent.
 */
#include <dirent.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "json.h"
#include "model.h"
#include "model-int.h"
#include "tap.h"
#include "util.h"
#include "yaml.h"

#define MS_PER_HOUR (INT64_C(3600) * 1000)

static json_object *fix_pods, *fix_bad, *fix_pools;

static json_object *
load_yaml(const char *path)
{
	struct nap_err err;
	json_object *docs = NULL;

	if (nap_yaml_load_file(path, &docs, &err) != 0) {
		printf("# cannot load %s: %s\n", path, err.msg);
		return json_object_new_array();
	}
	return docs;
}

/* The document named name in docs (borrowed), or an empty object. */
static json_object *
doc(json_object *docs, const char *name)
{
	static json_object *none;
	size_t i;

	for (i = 0; i < json_object_array_length(docs); i++) {
		json_object *d = json_object_array_get_idx(docs, i);

		if (strcmp(nap_json_str(d, "metadata.name", ""), name) == 0)
			return d;
	}
	printf("# no fixture document named %s\n", name);
	if (none == NULL)
		none = json_object_new_object();
	return none;
}

static json_object *
parse(const char *s)
{
	json_object *o = json_tokener_parse(s);

	if (o == NULL)
		printf("# bad JSON in test: %s\n", s);
	return o;
}

/* ---- defaults ---- */

static void
test_nodepool_defaults(void)
{
	struct nap_nodepool p;
	struct nap_err err;
	const struct nap_req *q;

	if (!TAP_OK(nap_nodepool_from_json(&p, doc(fix_pools, "minimal"), &err) == 0,
		"a NodePool with only a nodeClassRef loads"))
		printf("# %s\n", err.msg);
	TAP_IS_INT(p.expire_after, 720 * MS_PER_HOUR, "expireAfter defaults to 720h");
	TAP_IS_INT(p.consolidate_after, 0, "consolidateAfter defaults to 0s");
	TAP_IS_INT(p.policy, NAP_CONSOLIDATE_WHEN_EMPTY_OR_UNDERUTILIZED,
	    "consolidationPolicy defaults to WhenEmptyOrUnderutilized");
	TAP_OK(p.nbudgets == 1 && p.budgets[0].nodes == 10 && p.budgets[0].percent &&
		p.budgets[0].schedule == NULL && p.budgets[0].reasons == 0,
	    "budgets default to one budget of nodes 10%% for every reason");
	TAP_IS_INT(p.weight, 0, "weight defaults to 0");
	TAP_IS_INT(p.termination_grace, NAP_NEVER, "terminationGracePeriod defaults to none");
	TAP_OK(p.limits_set == 0 && p.limit_nodes == -1, "limits default to none");
	TAP_OK(strcmp(p.class_ref.group, "karpenter.azure.com") == 0 &&
		strcmp(p.class_ref.kind, "AKSNodeClass") == 0 &&
		strcmp(p.class_ref.name, "default") == 0,
	    "nodeClassRef group and kind default to AKSNodeClass");
	q = nap_reqs_get(&p.node_reqs, "karpenter.sh/nodepool");
	TAP_OK(q && nap_req_allows(q, "minimal") && !nap_req_allows(q, "other"),
	    "a pool's nodes satisfy karpenter.sh/nodepool In [its name]");
	nap_nodepool_free(&p);
}

static void
test_nodepool_explicit(void)
{
	struct nap_nodepool p;
	struct nap_err err;
	const struct nap_req *q;

	if (!TAP_OK(nap_nodepool_from_json(&p, doc(fix_pools, "tuned"), &err) == 0,
		"a NodePool with every field set loads"))
		printf("# %s\n", err.msg);
	TAP_IS_INT(p.expire_after, NAP_NEVER, "expireAfter Never is kept as never");
	TAP_IS_INT(
	    p.termination_grace, 90 * 60 * 1000, "terminationGracePeriod 1h30m is 90 minutes");
	TAP_IS_INT(p.consolidate_after, 10 * 60 * 1000, "consolidateAfter 10m is read");
	TAP_IS_INT(p.policy, NAP_CONSOLIDATE_WHEN_EMPTY, "consolidationPolicy WhenEmpty is read");
	TAP_OK(p.nbudgets == 2 && p.budgets[0].nodes == 0 && !p.budgets[0].percent &&
		p.budgets[0].schedule && p.budgets[0].duration == 8 * MS_PER_HOUR &&
		p.budgets[0].reasons == (NAP_REASON_DRIFTED | NAP_REASON_UNDERUTILIZED) &&
		p.budgets[1].nodes == 5 && p.budgets[1].reasons == 0,
	    "budgets keep schedule, duration, reasons and counts");
	TAP_OK((p.limits_set & (1u << NAP_RES_CPU)) && p.limits.v[NAP_RES_CPU] == 100000 &&
		(p.limits_set & (1u << NAP_RES_MEMORY)) &&
		p.limits.v[NAP_RES_MEMORY] == INT64_C(400) << 30 && p.limit_nodes == 20 &&
		!(p.limits_set & (1u << NAP_RES_NVIDIA_GPU)),
	    "limits on cpu, memory and nodes are read, others stay unlimited");
	TAP_IS_INT(p.weight, 50, "weight is read");
	TAP_OK(p.ntaints == 1 && p.taints[0].effect == NAP_EFFECT_NOSCHEDULE &&
		p.nstartup_taints == 1 && p.startup_taints[0].effect == NAP_EFFECT_NOEXECUTE,
	    "taints and startup taints are kept apart");
	q = nap_reqs_get(&p.reqs, "karpenter.azure.com/sku-family");
	TAP_OK(q && q->min_values == 2, "requirement minValues is kept");
	q = nap_reqs_get(&p.node_reqs, "team");
	TAP_OK(q && nap_req_allows(q, "blue") && nap_reqs_get(&p.reqs, "team") == NULL,
	    "template labels constrain the pool's nodes but not its written requirements");
	nap_nodepool_free(&p);
}

static void
test_nodeclass(void)
{
	struct nap_nodeclass c;
	struct nap_err err;

	if (!TAP_OK(nap_nodeclass_from_json(&c, doc(fix_pools, "default"), &err) == 0,
		"an empty AKSNodeClass loads"))
		printf("# %s\n", err.msg);
	TAP_IS_INT(c.image_family, NAP_IMAGE_UBUNTU, "imageFamily defaults to Ubuntu");
	TAP_IS_INT(c.os_disk_gb, 128, "osDiskSizeGB defaults to 128");
	TAP_IS_INT(nap_nodeclass_max_pods(&c, NULL, NULL), 250,
	    "maxPods defaults to 250 with the NAP network (Azure CNI overlay)");
	TAP_OK(c.subnet_id == NULL && !c.fips && c.gpu_driver && c.kubelet.cpu_cfs_quota &&
		strcmp(c.kubelet.cpu_manager_policy, "none") == 0 &&
		c.kubelet.container_log_max_files == 5 && c.kubelet.image_gc_high == -1,
	    "subnet, FIPS, GPU driver and kubelet settings take their defaults");
	TAP_IS_STR(nap_nodeclass_resolved_family(&c, "1.33.2"), "Ubuntu2204",
	    "Ubuntu means 22.04 below Kubernetes 1.34");
	TAP_IS_STR(nap_nodeclass_resolved_family(&c, "v1.34.0"), "Ubuntu2404",
	    "Ubuntu means 24.04 from Kubernetes 1.34");
	nap_nodeclass_free(&c);

	if (!TAP_OK(nap_nodeclass_from_json(&c, doc(fix_pools, "azl"), &err) == 0,
		"an AzureLinux AKSNodeClass with status loads"))
		printf("# %s\n", err.msg);
	TAP_OK(c.os_disk_gb == 256 && c.max_pods == 110 && c.encryption_at_host && c.subnet_id &&
		strstr(c.subnet_id, "/subnets/nodes") && c.kubelet.image_gc_high == 85 &&
		strcmp(c.kubelet.cpu_manager_policy, "static") == 0,
	    "explicit AKSNodeClass settings are read");
	TAP_OK(c.ready && c.nimages == 1 && strstr(c.images[0].id, "V3gen2") &&
		nap_reqs_get(&c.images[0].reqs, "kubernetes.io/arch") &&
		strcmp(c.kubernetes_version, "1.32.4") == 0,
	    "status images, Kubernetes version and readiness are read");
	TAP_IS_STR(nap_nodeclass_resolved_family(&c, NULL), "AzureLinux3",
	    "AzureLinux means AL3 from 1.32 (status version)");
	TAP_IS_STR(nap_nodeclass_resolved_family(&c, "1.31.9"), "AzureLinux",
	    "AzureLinux means AL2 below 1.32");
	nap_nodeclass_free(&c);
	TAP_OK(nap_max_pods_default("azure", NULL) == 30 &&
		nap_max_pods_default("azure", "overlay") == 250 &&
		nap_max_pods_default("none", NULL) == 250 &&
		nap_max_pods_default("kubenet", NULL) == 110,
	    "maxPods defaults follow the network plugin table");
}

/* ---- pods ---- */

static int
load_pod(struct nap_pod *p, const char *name)
{
	struct nap_err err;

	if (nap_pod_from_json(p, doc(fix_pods, name), &err) != 0) {
		printf("# pod %s: %s\n", name, err.msg);
		return -1;
	}
	return 0;
}

static void
test_requests(void)
{
	struct nap_pod p;

	load_pod(&p, "two-containers");
	TAP_OK(p.requests.v[NAP_RES_CPU] == 350 && p.requests.v[NAP_RES_MEMORY] == 192 << 20,
	    "app containers' requests add up");
	TAP_IS_INT(p.requests.v[NAP_RES_PODS], 1, "a pod asks for one pod slot");
	nap_pod_free(&p);

	load_pod(&p, "big-init");
	TAP_OK(
	    p.requests.v[NAP_RES_CPU] == 2000 && p.requests.v[NAP_RES_MEMORY] == INT64_C(2) << 30,
	    "an init container larger than the apps sets cpu, the apps set memory");
	nap_pod_free(&p);

	load_pod(&p, "sidecar-then-init");
	TAP_OK(p.requests.v[NAP_RES_CPU] == 600 && p.requests.v[NAP_RES_MEMORY] == 400 << 20,
	    "a sidecar counts beside later init containers and beside the apps");
	nap_pod_free(&p);

	load_pod(&p, "init-then-sidecar");
	TAP_IS_INT(p.requests.v[NAP_RES_CPU], 600,
	    "an init container before a sidecar does not run beside it");
	nap_pod_free(&p);

	load_pod(&p, "overhead");
	TAP_OK(p.requests.v[NAP_RES_CPU] == 1250 &&
		p.requests.v[NAP_RES_MEMORY] == (INT64_C(1024) + 160) << 20,
	    "RuntimeClass overhead is added");
	nap_pod_free(&p);

	load_pod(&p, "limits-only");
	TAP_OK(p.requests.v[NAP_RES_CPU] == 700 && p.requests.v[NAP_RES_NVIDIA_GPU] == 1,
	    "a limit stands in for a missing request (GPU included)");
	nap_pod_free(&p);

	load_pod(&p, "pod-level");
	TAP_OK(p.requests.v[NAP_RES_CPU] == 3000 && p.requests.v[NAP_RES_MEMORY] == 1 << 30,
	    "pod-level requests replace the containers' sum for what they name");
	nap_pod_free(&p);

	load_pod(&p, "extended");
	TAP_IS_STR(p.unknown_resource, "example.com/dongle",
	    "an untracked resource asked for (even by limit only) is named; zero ones are not");
	nap_pod_free(&p);
}

static void
test_constraints(void)
{
	struct nap_pod p;
	struct nap_taint t;
	char k_sku[] = "sku", v_gpu[] = "gpu", v_cpu[] = "cpu", k_any[] = "anything";
	const struct nap_taint *bad;
	json_object *lbl;

	if (load_pod(&p, "affinity") != 0) {
		TAP_OK(0, "the affinity pod loads");
		return;
	}
	TAP_OK(p.nnode_terms == 2 && nap_reqs_get(&p.node_terms[0].reqs, "kubernetes.io/os") &&
		nap_reqs_get(&p.node_terms[1].reqs, "kubernetes.io/os") &&
		nap_reqs_get(&p.node_terms[0].reqs, "topology.kubernetes.io/zone") &&
		!nap_reqs_get(&p.node_terms[0].reqs, "karpenter.sh/capacity-type"),
	    "nodeSelector is ANDed into each required node-affinity OR-term");
	TAP_OK(p.nnode_prefs == 2 && p.node_prefs[0].weight == 20 && p.node_prefs[1].weight == 80,
	    "preferred node-affinity terms keep their weights and order");
	TAP_OK(p.nanti_affinity == 2 && p.anti_affinity[0].weight == 0 &&
		strcmp(p.anti_affinity[0].topology_key, "kubernetes.io/hostname") == 0 &&
		p.anti_affinity[0].nnamespaces == 1 &&
		strcmp(p.anti_affinity[0].namespaces[0], "shop") == 0,
	    "a required anti-affinity term looks in the pod's own namespace by default");
	TAP_OK(p.anti_affinity[1].weight == 50 && p.anti_affinity[1].ns_selector &&
		p.anti_affinity[1].nnamespaces == 0,
	    "a preferred term with namespaceSelector {} keeps the selector");
	TAP_OK(p.naffinity == 1 && p.affinity[0].nnamespaces == 2,
	    "explicit affinity namespaces are kept");
	lbl = parse("{\"app\":\"web\"}");
	TAP_OK(nap_selector_matches(p.anti_affinity[0].selector, lbl),
	    "the anti-affinity selector matches the pod's own labels");
	json_object_put(lbl);
	TAP_OK(p.nspread == 2 && p.spread[0].do_not_schedule && p.spread[0].min_domains == 3 &&
		p.spread[0].honor_affinity && !p.spread[0].honor_taints &&
		p.spread[0].nmatch_label_keys == 1 && !p.spread[1].do_not_schedule &&
		!p.spread[1].honor_affinity && p.spread[1].honor_taints &&
		p.spread[1].max_skew == 2,
	    "topology spread keeps skew, policies, minDomains and matchLabelKeys");
	TAP_OK(p.npvcs == 2 && strcmp(p.pvcs[0], "data-web-0") == 0 &&
		strcmp(p.pvcs[1], "affinity-scratch") == 0,
	    "claims include generic ephemeral volumes named <pod>-<volume>");
	TAP_OK(p.nhost_ports == 1 && p.host_ports[0].port == 80 &&
		strcmp(p.host_ports[0].protocol, "TCP") == 0,
	    "host ports are collected");
	TAP_OK(p.priority == 1000 && p.preempt_never, "priority and preemption policy are read");
	{
		struct nap_pod q;
		json_object *o = json_object_get(doc(fix_pods, "affinity")), *copy = NULL;

		json_object_deep_copy(o, &copy, NULL);
		json_object_object_add(
		    nap_json_key(copy, "metadata"), "name", json_object_new_string("affinity-2"));
		TAP_OK(nap_pod_from_json(&q, copy, NULL) == 0 && q.sched_hash == p.sched_hash &&
			q.spread[0].hash == p.spread[0].hash &&
			q.anti_affinity[0].hash == p.anti_affinity[0].hash &&
			p.spread[0].hash != p.spread[1].hash,
		    "a replica under another name hashes the same, term by term");
		TAP_OK(q.spread[0].selector == p.spread[0].selector &&
			q.anti_affinity[0].selector == p.anti_affinity[0].selector,
		    "a replica shares the parsed selectors of its terms");
		nap_pod_free(&q);
		TAP_OK(nap_selector_matches(p.anti_affinity[0].selector, p.meta.labels) ==
			nap_selector_matches(p.anti_affinity[0].selector, p.meta.labels),
		    "a shared selector outlives the replica freed first");
		json_object_object_add(nap_json_key(copy, "spec"), "nodeSelector", NULL);
		TAP_OK(nap_pod_from_json(&q, copy, NULL) == 0 && q.sched_hash != p.sched_hash,
		    "a pod with another node selector hashes differently");
		nap_pod_free(&q);
		json_object_put(copy);
		json_object_put(o);
	}
	{
		struct nap_pod q;
		json_object *same = parse("{\"app\":\"web\",\"pod-template-hash\":\"abc\"}");
		json_object *other = parse("{\"app\":\"web\",\"pod-template-hash\":\"xyz\"}");
		json_object *red = parse("{\"app\":\"db\",\"tenant\":\"red\"}");
		json_object *blue = parse("{\"app\":\"db\",\"tenant\":\"blue\"}");

		if (load_pod(&q, "match-label-keys") == 0) {
			TAP_OK(nap_selector_matches(q.spread[0].selector, same) &&
				!nap_selector_matches(q.spread[0].selector, other),
			    "spread matchLabelKeys narrow the selector to the pod's own values");
			TAP_OK(nap_selector_matches(q.anti_affinity[0].selector, red) &&
				!nap_selector_matches(q.anti_affinity[0].selector, blue),
			    "mismatchLabelKeys exclude pods sharing the pod's value");
			nap_pod_free(&q);
		} else
			TAP_OK(0, "the match-label-keys pod loads");
		json_object_put(same);
		json_object_put(other);
		json_object_put(red);
		json_object_put(blue);
	}

	t.key = k_sku;
	t.value = v_gpu;
	t.effect = NAP_EFFECT_NOSCHEDULE;
	TAP_OK(
	    nap_tolerates(p.tolerations, p.ntolerations, &t), "Equal tolerates key=value:effect");
	t.value = v_cpu;
	TAP_OK(!nap_tolerates(p.tolerations, p.ntolerations, &t),
	    "Equal does not tolerate another value");
	t.key = k_any;
	t.effect = NAP_EFFECT_NOEXECUTE;
	TAP_OK(nap_tolerates(p.tolerations, p.ntolerations, &t),
	    "Exists without a key tolerates every taint of its effect");
	t.effect = NAP_EFFECT_NOSCHEDULE;
	TAP_OK(!nap_tolerates_all(p.tolerations, p.ntolerations, &t, 1, &bad) && bad == &t,
	    "an untolerated NoSchedule taint is reported");
	t.effect = NAP_EFFECT_PREFERNOSCHEDULE;
	TAP_OK(nap_tolerates_all(p.tolerations, p.ntolerations, &t, 1, &bad),
	    "PreferNoSchedule never blocks");
	nap_pod_free(&p);
}

static json_object *
mkpod(const char *ns, const char *name, const char *node, int cpu_milli, const char *extra)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
	    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
	    "\"%s\""
	    ",\"labels\":{\"app\":\"w\"}},"
	    "\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"c\",\"resources\":"
	    "{\"requests\":{\"cpu\":\"%dm\",\"memory\":\"64Mi\"}}}]},"
	    "\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":\"PodScheduled\","
	    "\"status\":\"%s\",\"reason\":\"Unschedulable\"}]}%s}",
	    name, ns, node, cpu_milli, *node ? "Running" : "Pending", *node ? "True" : "False",
	    extra ? extra : "");
	return parse(buf);
}

/* A pod shaped as the API server sends it (managedFields dropped, as nap-watch does). */
static json_object *
mkpod_real(const char *ns, const char *name, const char *node, int cpu_milli)
{
	char buf[4096];

	snprintf(buf, sizeof(buf),
	    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\","
	    "\"generateName\":\"web-7d4b9c-\",\"namespace\":\"%s\",\"uid\":\"0f3c-%s\","
	    "\"resourceVersion\":\"123456\",\"creationTimestamp\":\"2025-06-01T10:00:00Z\","
	    "\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"7d4b9c\",\"tier\":\"front\"},"
	    "\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2025-06-01T09:59:00Z\"},"
	    "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
	    "\"name\":\"web-7d4b9c\",\"uid\":\"rs-uid\",\"controller\":true,"
	    "\"blockOwnerDeletion\":true}]},"
	    "\"spec\":{\"volumes\":[{\"name\":\"kube-api-access\",\"projected\":{\"sources\":"
	    "[{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}}]}}],"
	    "\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.27\",\"ports\":[{"
	    "\"containerPort\":80,\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"MODE\",\"value\":"
	    "\"prod\"}],\"resources\":{\"limits\":{\"memory\":\"256Mi\"},\"requests\":{\"cpu\":"
	    "\"%dm\",\"memory\":\"128Mi\"}},\"volumeMounts\":[{\"name\":\"kube-api-access\","
	    "\"readOnly\":true,\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}],"
	    "\"terminationMessagePath\":\"/dev/termination-log\",\"imagePullPolicy\":"
	    "\"IfNotPresent\"}],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,"
	    "\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\",\"nodeName\":\"%s\","
	    "\"securityContext\":{},\"schedulerName\":\"default-scheduler\",\"tolerations\":["
	    "{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":"
	    "\"NoExecute\",\"tolerationSeconds\":300},{\"key\":\"node.kubernetes.io/unreachable\","
	    "\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],"
	    "\"priority\":0,\"enableServiceLinks\":true,\"preemptionPolicy\":"
	    "\"PreemptLowerPriority\"},"
	    "\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":"
	    "\"%s\",\"reason\":\"Unschedulable\",\"lastTransitionTime\":\"2025-06-01T10:00:00Z\"}],"
	    "\"qosClass\":\"Burstable\",\"startTime\":\"2025-06-01T10:00:01Z\"}}",
	    name, ns, name, cpu_milli, node, *node ? "Running" : "Pending",
	    *node ? "True" : "False");
	return parse(buf);
}

/* nap_nodepool_from_json on a pool with spec extra: 0, or -1 with the message in msg. */
static int
pool_with(const char *extra, char *msg, size_t len)
{
	char buf[1024];
	struct nap_nodepool p;
	struct nap_err err;
	json_object *o;
	int r;

	snprintf(buf, sizeof(buf),
	    "{\"kind\":\"NodePool\",\"metadata\":{\"name\":\"np\",\"uid\":\"u\"},"
	    "\"spec\":{%s\"template\":{\"spec\":{\"nodeClassRef\":{\"group\":"
	    "\"karpenter.azure.com\",\"kind\":\"AKSNodeClass\",\"name\":\"default\"}}}}}",
	    extra);
	o = parse(buf);
	r = nap_nodepool_from_json(&p, o, &err);
	if (r == 0)
		nap_nodepool_free(&p);
	snprintf(msg, len, "%s", r == 0 ? "" : err.msg);
	json_object_put(o);
	return r;
}

/* nap_pod_from_json on a pod with spec extra: as pool_with. */
static int
pod_spec_with(const char *extra, char *msg, size_t len)
{
	char buf[1024];
	struct nap_pod p;
	struct nap_err err;
	json_object *o;
	int r;

	snprintf(buf, sizeof(buf),
	    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"d\","
	    "\"uid\":\"u\",\"labels\":{\"app\":\"x\"}},\"spec\":{%s\"containers\":[]}}",
	    extra);
	o = parse(buf);
	r = nap_pod_from_json(&p, o, &err);
	if (r == 0)
		nap_pod_free(&p);
	snprintf(msg, len, "%s", r == 0 ? "" : err.msg);
	json_object_put(o);
	return r;
}

#define SPREAD(skew)                                                                               \
	"\"topologySpreadConstraints\":[{\"maxSkew\":" skew ",\"topologyKey\":\"zone\","         \
	"\"whenUnsatisfiable\":\"DoNotSchedule\"}],"

/* Integers are checked whole against the CRD's and the API's ranges, never truncated. */
static void
test_ranges(void)
{
	char msg[NAP_ERR_MSG];

	TAP_IS_INT(pool_with("\"weight\":100,", msg, sizeof(msg)), 0, "weight 100 is taken");
	TAP_IS_INT(pool_with("", msg, sizeof(msg)), 0, "a pool without weight is taken");
	TAP_IS_INT(pool_with("\"weight\":4294967346,", msg, sizeof(msg)), -1,
	    "weight 2^32 + 50 is refused, not read as 50");
	TAP_OK(strstr(msg, "nodepool np") && strstr(msg, "weight 4294967346 not in 1..100"),
	    "the message names the pool and the weight as written: %s", msg);
	TAP_IS_INT(pool_with("\"weight\":4294967295,", msg, sizeof(msg)), -1,
	    "weight 2^32 - 1 is refused");
	TAP_OK(strstr(msg, "4294967295") != NULL, "and named as written, not as -1: %s", msg);
	TAP_IS_INT(pool_with("\"weight\":0,", msg, sizeof(msg)), -1,
	    "weight 0 written out is refused, as the CRD's minimum 1 refuses it");
	TAP_IS_INT(pool_with("\"replicas\":-1,", msg, sizeof(msg)), -1, "negative replicas are refused");
	TAP_IS_INT(pod_spec_with(SPREAD("1"), msg, sizeof(msg)), 0, "maxSkew 1 is taken");
	TAP_IS_INT(pod_spec_with(SPREAD("4294967297"), msg, sizeof(msg)), -1,
	    "maxSkew 2^32 + 1 is refused, not read as 1");
	TAP_OK(strstr(msg, "maxSkew 4294967297 not in 1..2147483647") != NULL, "and says why: %s",
	    msg);
	TAP_IS_INT(pod_spec_with(SPREAD("0"), msg, sizeof(msg)), -1, "maxSkew 0 is refused");
	TAP_IS_INT(pod_spec_with("\"affinity\":{\"nodeAffinity\":{\"preferredDuringScheduling"
			    "IgnoredDuringExecution\":[{\"weight\":4294967297,\"preference\":{}}]}},",
		       msg, sizeof(msg)),
	    -1, "a preferred node-affinity weight of 2^32 + 1 is refused");
	TAP_OK(strstr(msg, "weight 4294967297 not in 1..100") != NULL, "and named: %s", msg);
}

static int
provisionable(const char *json)
{
	struct nap_pod p;
	struct nap_err err;
	json_object *o = parse(json);
	int r = -1;

	if (o && nap_pod_from_json(&p, o, &err) == 0) {
		r = nap_pod_is_provisionable(&p);
		nap_pod_free(&p);
	} else
		printf("# %s\n", o ? err.msg : "bad json");
	json_object_put(o);
	return r;
}

#define POD_HEAD "{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\""
#define UNSCHED                                                                                    \
	"\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":"              \
	"\"Unschedulable\"}]"

static void
test_provisionable(void)
{
	TAP_IS_INT(provisionable(POD_HEAD "},\"spec\":{},\"status\":{" UNSCHED "}}"), 1,
	    "an unbound pod the scheduler marked Unschedulable is provisionable");
	TAP_IS_INT(
	    provisionable(POD_HEAD "},\"spec\":{\"nodeName\":\"n1\"},\"status\":{" UNSCHED "}}"), 0,
	    "a bound pod is not provisionable");
	TAP_IS_INT(provisionable(POD_HEAD
		       "},\"spec\":{},\"status\":{\"nominatedNodeName\":\"n1\"," UNSCHED "}}"),
	    0, "a pod nominated for preemption is not provisionable");
	TAP_IS_INT(
	    provisionable(POD_HEAD
		",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
		"\"kind\":\"DaemonSet\",\"name\":\"ds\",\"uid\":\"u\",\"controller\":true}]},"
		"\"spec\":{},\"status\":{" UNSCHED "}}"),
	    0, "a DaemonSet-owned pod is not provisionable");
	TAP_IS_INT(provisionable(POD_HEAD
		       ",\"ownerReferences\":[{\"apiVersion\":\"v1\","
		       "\"kind\":\"Node\",\"name\":\"n1\",\"uid\":\"u\",\"controller\":true}]},"
		       "\"spec\":{},\"status\":{" UNSCHED "}}"),
	    0, "a static (Node-owned) pod is not provisionable");
	TAP_IS_INT(provisionable(POD_HEAD
		       "},\"spec\":{},\"status\":{\"conditions\":[{\"type\":"
		       "\"PodScheduled\",\"status\":\"False\",\"reason\":\"SchedulingGated\"}]}}"),
	    0, "a pod whose PodScheduled reason is not Unschedulable is not provisionable");
	TAP_IS_INT(provisionable(POD_HEAD "},\"spec\":{},\"status\":{\"phase\":\"Pending\"}}"), 0,
	    "a pod the scheduler has not looked at yet is not provisionable");
	TAP_IS_INT(
	    provisionable(POD_HEAD "},\"spec\":{},\"status\":{\"phase\":\"Failed\"," UNSCHED "}}"),
	    0, "a terminal pod is not provisionable");
	TAP_IS_INT(provisionable(POD_HEAD ",\"deletionTimestamp\":\"2025-01-01T00:00:00Z\"},"
					  "\"spec\":{},\"status\":{" UNSCHED "}}"),
	    0, "a terminating pod is not provisionable");
	TAP_IS_INT(
	    provisionable(POD_HEAD
		",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
		"\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"uid\":\"u\",\"controller\":true}]},"
		"\"spec\":{},\"status\":{" UNSCHED "}}"),
	    1, "a ReplicaSet-owned pod is provisionable");
}

static struct nap_pod *
pod_with(struct nap_pod *p, const char *annotations, int priority, const char *start)
{
	char buf[1024];
	json_object *o;
	int rc;

	snprintf(buf, sizeof(buf),
	    "{\"metadata\":{\"name\":\"x\",\"namespace\":\"d\",\"annotations\":{%s}},"
	    "\"spec\":{\"priority\":%d},\"status\":{\"phase\":\"Running\",\"startTime\":\"%s\"}}",
	    annotations, priority, start);
	o = parse(buf);
	rc = nap_pod_from_json(p, o, NULL);
	json_object_put(o);
	return rc == 0 ? p : NULL;
}

static void
test_disruption_helpers(void)
{
	struct nap_pod p;
	int64_t start = 1748772000; /* 2025-06-01T10:00:00Z */

	TAP_OK(
	    pod_with(&p, "\"karpenter.sh/do-not-disrupt\":\"true\"", 0, "2025-06-01T10:00:00Z") &&
		nap_pod_do_not_disrupt(&p, start + 86400 * 365),
	    "do-not-disrupt \"true\" holds for ever");
	nap_pod_free(&p);
	TAP_OK(pod_with(&p, "\"karpenter.sh/do-not-disrupt\":\"30m\"", 0, "2025-06-01T10:00:00Z") &&
		nap_pod_do_not_disrupt(&p, start + 29 * 60) &&
		!nap_pod_do_not_disrupt(&p, start + 31 * 60),
	    "a do-not-disrupt duration runs from the pod's start");
	nap_pod_free(&p);
	TAP_OK(
	    pod_with(&p, "\"karpenter.sh/do-not-disrupt\":\"soon\"", 0, "2025-06-01T10:00:00Z") &&
		!nap_pod_do_not_disrupt(&p, start),
	    "an invalid do-not-disrupt value is ignored");
	nap_pod_free(&p);
	TAP_OK(pod_with(&p, "\"controller.kubernetes.io/pod-deletion-cost\":\"134217728\"",
		   33554432, "2025-06-01T10:00:00Z") &&
		nap_pod_eviction_cost(&p) == 3.0,
	    "eviction cost adds deletion cost / 2^27 and priority / 2^25");
	nap_pod_free(&p);
	TAP_OK(pod_with(&p, "", 2000000000, "2025-06-01T10:00:00Z") &&
		nap_pod_eviction_cost(&p) == 10.0,
	    "eviction cost is clamped at 10 (system-critical pods)");
	nap_pod_free(&p);
}

/* ---- malformed input ---- */

static void
expect_bad(int (*fill)(json_object *, struct nap_err *), const char *name, const char *want1,
    const char *want2, const char *what)
{
	struct nap_err err;
	int rc;

	err.msg[0] = '\0';
	rc = fill(doc(fix_bad, name), &err);
	if (!TAP_OK(rc == -1 && strstr(err.msg, want1) && (!want2 || strstr(err.msg, want2)) &&
		    err.code == NAP_EX_DATAERR,
		"%s", what))
		printf("#   message: %s\n", err.msg);
}

static int
fill_pod(json_object *o, struct nap_err *err)
{
	struct nap_pod p;
	int rc = nap_pod_from_json(&p, o, err);

	if (rc == 0)
		nap_pod_free(&p);
	return rc;
}

static int
fill_pool(json_object *o, struct nap_err *err)
{
	struct nap_nodepool p;
	int rc = nap_nodepool_from_json(&p, o, err);

	if (rc == 0)
		nap_nodepool_free(&p);
	return rc;
}

static int
fill_class(json_object *o, struct nap_err *err)
{
	struct nap_nodeclass c;
	int rc = nap_nodeclass_from_json(&c, o, err);

	if (rc == 0)
		nap_nodeclass_free(&c);
	return rc;
}

static int
fill_pdb(json_object *o, struct nap_err *err)
{
	struct nap_pdb b;
	int rc = nap_pdb_from_json(&b, o, err);

	if (rc == 0)
		nap_pdb_free(&b);
	return rc;
}

static void
test_malformed(void)
{
	expect_bad(fill_pod, "web-1", "pod default/web-1: container app: requests: cpu", "1x",
	    "a bad cpu quantity names the pod, the container and the field");
	expect_bad(fill_pod, "web-2", "pod default/web-2", "Inn",
	    "an unknown node-affinity operator names the pod and the operator");
	expect_bad(fill_pod, "web-3", "pod default/web-3: topologySpreadConstraints[0]", "maxSkew",
	    "a spread constraint with maxSkew 0 is rejected");
	expect_bad(fill_pool, "broken-policy", "nodepool broken-policy", "WhenIdle",
	    "an unknown consolidationPolicy names the NodePool");
	expect_bad(fill_pool, "broken-expiry", "nodepool broken-expiry", "expireAfter",
	    "an unparseable expireAfter names the NodePool and the field");
	expect_bad(fill_class, "broken-family", "aksnodeclass broken-family", "Windows2022",
	    "an unknown imageFamily names the AKSNodeClass");
	expect_bad(fill_pdb, "both", "pdb default/both", "both set",
	    "a PDB with minAvailable and maxUnavailable is rejected");
	{
		struct nap_pod p;
		struct nap_err err;
		json_object *o = parse("{\"metadata\":{\"namespace\":\"x\"}}");

		TAP_OK(nap_pod_from_json(&p, o, &err) == -1 && strstr(err.msg, "metadata.name"),
		    "an object without a name is rejected");
		json_object_put(o);
		o = parse("[1,2]");
		TAP_OK(nap_pod_from_json(&p, o, &err) == -1,
		    "a non-object is rejected, not crashed on");
		json_object_put(o);
	}
}

/* ---- shared fixtures ---- */

static const char *
shared_dir(void)
{
	return test_shared();
}

static json_object *
load_json_file(const char *rel)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/fixtures/%s", shared_dir(), rel);
	return json_object_from_file(path);
}

/* Replace every string value equal to from with to (the API fixtures use "<field>Value" placeholders). */
static void
replace_strings(json_object *o, const char *from, const char *to)
{
	size_t i;

	if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++) {
			json_object *v = json_object_array_get_idx(o, i);

			if (json_object_is_type(v, json_type_string) &&
			    strcmp(json_object_get_string(v), from) == 0)
				json_object_array_put_idx(o, i, json_object_new_string(to));
			else
				replace_strings(v, from, to);
		}
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			if (json_object_is_type(v, json_type_string) &&
			    strcmp(json_object_get_string(v), from) == 0)
				json_object_object_add(o, k, json_object_new_string(to));
			else
				replace_strings(v, from, to);
		}
	}
}

/* Make the placeholder pod spec valid: operators, effects and policies get real values. */
static void
fix_pod_spec(json_object *spec)
{
	json_object *tol = json_object_array_get_idx(nap_json_key(spec, "tolerations"), 0);
	json_object *tsc =
	    json_object_array_get_idx(nap_json_key(spec, "topologySpreadConstraints"), 0);

	json_object_object_add(tol, "operator", json_object_new_string("Exists"));
	json_object_object_add(tol, "effect", json_object_new_string("NoSchedule"));
	json_object_object_add(tsc, "whenUnsatisfiable", json_object_new_string("DoNotSchedule"));
	json_object_object_add(tsc, "nodeAffinityPolicy", json_object_new_string("Honor"));
	json_object_object_add(tsc, "nodeTaintsPolicy", json_object_new_string("Honor"));
	replace_strings(spec, "operatorValue", "In");
}

static void
test_api_fixtures(void)
{
	json_object *o;
	struct nap_err err;
	struct nap_pod p;
	struct nap_node n;
	struct nap_pdb b;
	struct nap_daemonset d;
	char path[1024];

	snprintf(path, sizeof(path), "%s/fixtures/kube/core.v1.Pod.json", shared_dir());
	if (access(path, R_OK) != 0) {
		TAP_OK(0, "%s is readable " TEST_SHARED_HINT, path);
		return;
	}
	o = load_json_file("kube/core.v1.Pod.json");
	TAP_OK(nap_pod_from_json(&p, o, &err) == -1 &&
		strstr(err.msg, "pod namespaceValue/nameValue") && strstr(err.msg, "operatorValue"),
	    "the API round-trip Pod is rejected for its placeholder operator, naming the pod");
	fix_pod_spec(nap_json_key(o, "spec"));
	if (!TAP_OK(nap_pod_from_json(&p, o, &err) == 0,
		"the API round-trip Pod loads once its placeholders are real values"))
		printf("# %s\n", err.msg);
	else {
		TAP_OK(p.priority == 25 && strcmp(p.nominated, "nominatedNodeNameValue") == 0 &&
			p.meta.deleted != 0 && p.meta.created == 1199149261 &&
			strcmp(nap_meta_label(&p.meta, "labelsKey"), "labelsValue") == 0 &&
			p.nnode_terms == 1 && p.nnode_prefs == 1 && p.naffinity == 2 &&
			p.nanti_affinity == 2 && p.nspread == 1 && p.ntolerations == 1 &&
			p.requests.v[NAP_RES_PODS] == 1 && p.unknown_resource[0] == '\0',
		    "the round-trip Pod's fields land in the struct");
		nap_pod_free(&p);
	}
	json_object_put(o);

	o = load_json_file("kube/core.v1.Node.json");
	if (!TAP_OK(nap_node_from_json(&n, o, &err) == 0, "the API round-trip Node loads"))
		printf("# %s\n", err.msg);
	else {
		TAP_OK(n.unschedulable && strcmp(n.provider_id, "providerIDValue") == 0 &&
			n.ntaints == 1 && n.taints[0].effect == NAP_EFFECT_OTHER && n.ready == -1,
		    "the round-trip Node keeps providerID, cordon and its (unknown-effect) taint");
		nap_node_free(&n);
	}
	json_object_put(o);

	o = load_json_file("kube/policy.v1.PodDisruptionBudget.json");
	TAP_OK(
	    nap_pdb_from_json(&b, o, &err) == -1 && strstr(err.msg, "pdb namespaceValue/nameValue"),
	    "the round-trip PDB (both bounds, placeholder values) is rejected, naming it");
	json_object_object_del(nap_json_key(o, "spec"), "maxUnavailable");
	json_object_object_add(
	    nap_json_key(o, "spec"), "minAvailable", json_object_new_string("50%"));
	replace_strings(o, "operatorValue", "In");
	if (!TAP_OK(nap_pdb_from_json(&b, o, &err) == 0, "the round-trip PDB loads once fixed"))
		printf("# %s\n", err.msg);
	else {
		TAP_OK(b.has_min_available && b.percent && b.value == 50 &&
			b.disruptions_allowed == 3 && b.current_healthy == 4 &&
			b.desired_healthy == 5 && b.selector != NULL,
		    "the PDB's budget and status are read");
		nap_pdb_free(&b);
	}
	json_object_put(o);

	o = load_json_file("kube/apps.v1.DaemonSet.json");
	fix_pod_spec(nap_json_get(o, "spec.template.spec"));
	replace_strings(o, "operatorValue", "In");
	if (!TAP_OK(nap_daemonset_from_json(&d, o, &err) == 0,
		"the round-trip DaemonSet loads with its template as a pod"))
		printf("# %s\n", err.msg);
	else {
		TAP_OK(d.tmpl.owner == NAP_OWNER_DAEMONSET &&
			d.tmpl.requests.v[NAP_RES_PODS] == 1 &&
			strcmp(d.tmpl.meta.ns, d.meta.ns) == 0 &&
			!nap_pod_is_provisionable(&d.tmpl),
		    "the DaemonSet template is a DaemonSet-owned pod in its namespace");
		nap_daemonset_free(&d);
	}
	json_object_put(o);
}

/* Every Pod / PDB / DaemonSet document in the kubernetes.io examples loads. */
static void
test_kube_examples(void)
{
	static const char *files[] = {
	    "pod-nginx.yaml",
	    "pod-with-node-affinity.yaml",
	    "pod-with-pod-affinity.yaml",
	    "pod-with-toleration.yaml",
	    "pod-with-affinity-preferred-weight.yaml",
	    "one-constraint.yaml",
	    "two-constraints.yaml",
	    "one-constraint-with-nodeaffinity.yaml",
	    "d82c28e-one-constraint.yaml",
	    "qos-pod.yaml",
	    "qos-pod-2.yaml",
	    "qos-pod-3.yaml",
	    "qos-pod-4.yaml",
	    "qos-pod-5.yaml",
	    "high-priority-pod.yaml",
	    "zookeeper-pod-disruption-budget-maxunavailable.yaml",
	    "zookeeper-pod-disruption-budget-minavailable.yaml",
	    "core.v1.Pod.yaml",
	};
	struct nap_cluster *c = nap_cluster_new();
	char path[1024];
	size_t i, j, objs = 0, bad = 0;
	struct nap_pod *pp;

	snprintf(path, sizeof(path), "%s/fixtures/kube", shared_dir());
	if (access(path, R_OK) != 0) {
		TAP_OK(0, "%s is readable " TEST_SHARED_HINT, path);
		nap_cluster_free(c);
		return;
	}
	for (i = 0; i < NAP_ARRAY_LEN(files); i++) {
		json_object *docs;
		struct nap_err err;

		snprintf(path, sizeof(path), "%s/fixtures/kube/%s", shared_dir(), files[i]);
		docs = load_yaml(path);
		for (j = 0; j < json_object_array_length(docs); j++) {
			json_object *o = json_object_array_get_idx(docs, j);
			int rc = nap_cluster_apply(c, "ADDED", o, &err);

			/* core.v1.Pod.yaml is the placeholder round-trip pod: its rejection is the point. */
			if (strcmp(files[i], "core.v1.Pod.yaml") == 0) {
				TAP_OK(rc == -1 && strstr(err.msg, "pod namespaceValue/nameValue"),
				    "the placeholder Pod in YAML is rejected too, naming it");
				continue;
			}
			/* This copy of the example has a preferred term under "required": invalid. */
			if (strcmp(files[i], "pod-with-node-affinity.yaml") == 0) {
				TAP_OK(rc == -1 &&
					strstr(err.msg,
					    "pod default/with-node-affinity: "
					    "required node affinity"),
				    "a required node affinity that is a list is rejected, naming "
				    "the pod");
				continue;
			}
			if (rc < 0) {
				printf("# %s: %s\n", files[i], err.msg);
				bad++;
			} else if (rc == 0)
				objs++;
		}
		json_object_put(docs);
	}
	TAP_OK(bad == 0 && objs >= 15, "the kubernetes.io scheduling examples load (%zu objects)",
	    objs);
	pp = nap_cluster_pod(c, "default", "with-pod-affinity");
	TAP_OK(pp && pp->naffinity == 1 && pp->nanti_affinity == 1 &&
		pp->anti_affinity[0].weight == 100,
	    "the pod-affinity example has a required affinity and a preferred anti-affinity");
	{
		struct nap_pdb *b = nap_cluster_get(c, NAP_KIND_PDB, "default", "zk-pdb");

		TAP_OK(nap_cluster_count(c, NAP_KIND_PDB) == 1 && b && b->has_min_available &&
			b->value == 2,
		    "the second zk-pdb example replaces the first of the same name");
	}
	nap_cluster_free(c);
}

/* Every NodePool and AKSNodeClass in the AKS docs and the provider's repository loads. */
static void
test_manifests(const char *sub, const char *prefix, const char *what, int strict)
{
	char dir[1024], path[1400];
	DIR *dp;
	struct dirent *de;
	size_t pools = 0, classes = 0, claims = 0, bad = 0, broken = 0, refused = 0;

	snprintf(dir, sizeof(dir), "%s/fixtures/%s", shared_dir(), sub);
	dp = opendir(dir);
	if (dp == NULL) {
		TAP_OK(0, "%s is readable " TEST_SHARED_HINT, dir);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		json_object *docs = NULL;
		struct nap_err err;
		size_t j, len = strlen(de->d_name);

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 || len < 5 ||
		    strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (nap_yaml_load_file(path, &docs, &err) != 0) {
			broken++; /* broken upstream; lib/yaml's tests own that */
			continue;
		}
		for (j = 0; j < json_object_array_length(docs); j++) {
			json_object *o = json_object_array_get_idx(docs, j);
			const char *kind = nap_json_str(o, "kind", "");
			int rc = 0;

			if (strcmp(kind, "NodePool") == 0) {
				rc = fill_pool(o, &err);
				pools++;
			} else if (strcmp(kind, "AKSNodeClass") == 0) {
				rc = fill_class(o, &err);
				classes++;
			} else if (strcmp(kind, "NodeClaim") == 0) {
				struct nap_nodeclaim nc;

				rc = nap_nodeclaim_from_json(&nc, o, &err);
				if (rc == 0)
					nap_nodeclaim_free(&nc);
				claims++;
			}
			if (rc == 0)
				continue;
			refused++;
			/* Design notes and API references hold sketches; those must be refused by name. */
			if (strict ||
			    (strncmp(err.msg, "nodepool", 8) != 0 &&
				strncmp(err.msg, "aksnodeclass", 12) != 0 &&
				strncmp(err.msg, "nodeclaim", 9) != 0)) {
				printf("# %s: %s\n", de->d_name, err.msg);
				bad++;
			}
		}
		json_object_put(docs);
	}
	closedir(dp);
	TAP_OK(bad == 0 && pools + classes > 5,
	    "%s: of %zu NodePools, %zu AKSNodeClasses and %zu NodeClaims, %s (%zu files "
	    "broken upstream)",
	    what, pools, classes, claims,
	    strict ? "every one loads" : "each loads or is refused by name", broken);
	if (!strict)
		printf("# %zu refused by name\n", refused);
}

static void
test_volumes(void)
{
	json_object *docs = load_yaml("tests/fixtures/model/volumes.yaml");
	struct nap_cluster *c = nap_cluster_new();
	struct nap_err err;
	struct nap_pvc *pvc;
	struct nap_pv *pv;
	struct nap_storageclass *sc;
	struct nap_namespace *ns;
	struct nap_daemonset *const *ds;
	size_t i, n, bad = 0;
	const struct nap_req *q;

	for (i = 0; i < json_object_array_length(docs); i++)
		if (nap_cluster_apply(c, "ADDED", json_object_array_get_idx(docs, i), &err) != 0) {
			printf("# %s\n", err.msg);
			bad++;
		}
	TAP_IS_INT(bad, 0, "claims, volumes, a storage class, a namespace and a DaemonSet apply");
	pvc = nap_cluster_get(c, NAP_KIND_PVC, "shop", "data-web-0");
	TAP_OK(pvc && strcmp(pvc->volume_name, "pvc-1234") == 0 &&
		strcmp(pvc->storage_class, "managed-csi") == 0 &&
		pvc->storage == INT64_C(10) << 30 && strcmp(pvc->phase, "Bound") == 0,
	    "a bound claim names its volume, class and size");
	pv = nap_cluster_get(c, NAP_KIND_PV, NULL, "pvc-1234");
	q = pv && pv->nterms == 1 ? nap_reqs_get(&pv->terms[0], "topology.disk.csi.azure.com/zone")
				  : NULL;
	TAP_OK(q && nap_req_allows(q, "eastus-2") && !nap_req_allows(q, "eastus-1") &&
		strcmp(pv->claim_name, "data-web-0") == 0 && !pv->local,
	    "a volume's node affinity pins its zone");
	sc = nap_cluster_get(c, NAP_KIND_STORAGECLASS, NULL, "managed-csi");
	q = sc && sc->nterms == 1 ? nap_reqs_get(&sc->terms[0], "topology.disk.csi.azure.com/zone")
				  : NULL;
	TAP_OK(sc && sc->is_default && sc->wait_for_consumer && q && nap_req_allows(q, "eastus-1"),
	    "a storage class's default flag, binding mode and allowed zones are read");
	ns = nap_cluster_get(c, NAP_KIND_NAMESPACE, NULL, "shop");
	TAP_OK(ns && strcmp(nap_meta_label(&ns->meta, "team"), "blue") == 0,
	    "a namespace keeps its labels (for namespaceSelector)");
	ds = nap_cluster_daemonsets(c, &n);
	TAP_OK(n == 1 && ds[0]->tmpl.requests.v[NAP_RES_CPU] == 500 &&
		ds[0]->tmpl.requests.v[NAP_RES_MEMORY] == 250 << 20 &&
		ds[0]->tmpl.ntolerations == 1 && ds[0]->tmpl.nnode_terms == 1 &&
		nap_reqs_get(&ds[0]->tmpl.node_terms[0].reqs, "kubernetes.io/os"),
	    "a DaemonSet's overhead is its template's effective request");
	nap_cluster_free(c);
	json_object_put(docs);
}

/* ---- robustness: every field of real objects replaced by values of every other type ---- */

static json_object *
mut_value(int m)
{
	switch (m) {
	case 0:
		return json_object_new_int(-5);
	case 1:
		return json_object_new_string("x");
	case 2:
		return json_object_new_array();
	case 3:
		return json_object_new_object();
	default:
		return NULL; /* JSON null */
	}
}

#define MUT_KINDS 5

/* Find the target-th node (pre-order, root excluded) under o: its parent and place. */
static int
mut_find(
    json_object *o, int *counter, int target, json_object **parent, const char **key, size_t *idx)
{
	size_t i;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			if (++*counter == target) {
				*parent = o;
				*key = k;
				return 1;
			}
			if (mut_find(v, counter, target, parent, key, idx))
				return 1;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++) {
			if (++*counter == target) {
				*parent = o;
				*key = NULL;
				*idx = i;
				return 1;
			}
			if (mut_find(
				json_object_array_get_idx(o, i), counter, target, parent, key, idx))
				return 1;
		}
	}
	return 0;
}

/* Put val at the place found; returns the value that was there, still referenced. */
static json_object *
mut_swap(json_object *parent, const char *key, size_t idx, json_object *val)
{
	json_object *old;

	if (key) {
		old = json_object_get(nap_json_key(parent, key));
		json_object_object_add(parent, key, val);
	} else {
		old = json_object_get(json_object_array_get_idx(parent, idx));
		json_object_array_put_idx(parent, idx, val);
	}
	return old;
}

/*
 * Apply obj, then every single-field mutation of it as MODIFIED: each must
 * be taken or refused with a message, never crash, and a refusal must leave
 * the stored object in place.  obj is mutated in place and restored; the
 * model keeps a separate copy so that nothing it borrows is swapped out
 * under it.  Returns the number of misbehaviours.
 */
static size_t
mutate_all(json_object *obj, size_t *tried, size_t *refused)
{
	struct nap_cluster *c = nap_cluster_new();
	struct nap_err err;
	json_object *base = NULL;
	const char *kind = nap_json_str(obj, "kind", "");
	const char *name = nap_json_str(obj, "metadata.name", "");
	const char *ns = nap_json_str(obj, "metadata.namespace", "default");
	int k = nap_kind_lookup(kind), target, m;
	size_t bad = 0;

	/* Without a resourceVersion, so that no mutation passes for unchanged. */
	json_object_object_del(nap_json_key(obj, "metadata"), "resourceVersion");
	json_object_deep_copy(obj, &base, NULL);
	if (k < 0 || nap_cluster_apply(c, "ADDED", base, &err) != 0) {
		printf("# mutation base %s %s does not load: %s\n", kind, name, err.msg);
		json_object_put(base);
		nap_cluster_free(c);
		return 1;
	}
	for (target = 1;; target++) {
		json_object *parent = NULL, *orig;
		const char *key = NULL;
		size_t idx = 0;
		int counter = 0;

		if (!mut_find(obj, &counter, target, &parent, &key, &idx))
			break;
		for (m = 0; m < MUT_KINDS; m++) {
			int rc;

			orig = mut_swap(parent, key, idx, mut_value(m));
			err.msg[0] = '\0';
			rc = nap_cluster_apply(c, "MODIFIED", obj, &err);
			(*tried)++;
			if (rc < 0) {
				(*refused)++;
				if (err.msg[0] == '\0' ||
				    nap_cluster_get(c, (enum nap_kind)k, ns, name) == NULL) {
					printf("# %s %s: mutation %d/%d refused badly: \"%s\"\n",
					    kind, name, target, m, err.msg);
					bad++;
				}
			} else if (nap_cluster_apply(c, "MODIFIED", base, &err) != 0)
				bad++;
			json_object_put(mut_swap(parent, key, idx, orig));
		}
	}
	json_object_put(base);
	nap_cluster_free(c);
	return bad;
}

static void
test_mutations(void)
{
	json_object *objs[16];
	size_t nobj = 0, i, tried = 0, refused = 0, bad = 0;
	char path[1024];
	json_object *o, *docs;

	objs[nobj++] = json_object_get(doc(fix_pods, "affinity"));
	objs[nobj++] = json_object_get(doc(fix_pools, "tuned"));
	objs[nobj++] = json_object_get(doc(fix_pools, "azl"));
	snprintf(path, sizeof(path), "%s/fixtures/kube/core.v1.Pod.json", shared_dir());
	if (access(path, R_OK) != 0)
		TAP_OK(0, "%s is readable " TEST_SHARED_HINT, path);
	else {
		o = load_json_file("kube/core.v1.Pod.json");
		fix_pod_spec(nap_json_key(o, "spec"));
		objs[nobj++] = o;
		objs[nobj++] = load_json_file("kube/core.v1.Node.json");
		o = load_json_file("kube/apps.v1.DaemonSet.json");
		fix_pod_spec(nap_json_get(o, "spec.template.spec"));
		replace_strings(o, "operatorValue", "In");
		objs[nobj++] = o;
		o = load_json_file("kube/policy.v1.PodDisruptionBudget.json");
		json_object_object_del(nap_json_key(o, "spec"), "maxUnavailable");
		replace_strings(o, "operatorValue", "In");
		json_object_object_add(
		    nap_json_key(o, "spec"), "minAvailable", json_object_new_int(1));
		objs[nobj++] = o;
		snprintf(path, sizeof(path),
		    "%s/fixtures/aks-docs/"
		    "node-auto-provisioning-aksnodeclass-19.yaml",
		    shared_dir());
		docs = load_yaml(path);
		for (i = 0; i < json_object_array_length(docs) && nobj < 16; i++)
			objs[nobj++] = json_object_get(json_object_array_get_idx(docs, i));
		json_object_put(docs);
	}
	for (i = 0; i < nobj; i++) {
		bad += mutate_all(objs[i], &tried, &refused);
		json_object_put(objs[i]);
	}
	TAP_OK(bad == 0 && tried > 1000,
	    "%zu single-field type mutations of %zu objects: none crashes, %zu refused with a "
	    "message and the model kept",
	    tried, nobj, refused);
}

/* ---- the cluster model ---- */

static int
apply(struct nap_cluster *c, const char *type, json_object *o)
{
	struct nap_err err;
	int rc = nap_cluster_apply(c, type, o, &err);

	if (rc < 0)
		printf("# apply: %s\n", err.msg);
	json_object_put(o);
	return rc;
}

static void
test_cluster(void)
{
	struct nap_cluster *c = nap_cluster_new();
	struct nap_err err;
	struct nap_pod *const *on;
	struct nap_pod *p;
	struct nap_node *node;
	struct nap_nodeclaim *claim;
	json_object *o;
	size_t n;
	uint64_t v;

	nap_cluster_keep_pod_json(c, 0);
	apply(c, "ADDED", mkpod("a", "p1", "n1", 100, NULL));
	apply(c, "ADDED", mkpod("a", "p2", "n1", 200, NULL));
	apply(c, "ADDED", mkpod("b", "p1", "", 300, NULL));
	TAP_IS_INT(nap_cluster_count(c, NAP_KIND_POD), 3, "three pods added");
	TAP_OK(nap_cluster_pod(c, "a", "p1")->meta.labels ==
		    nap_cluster_pod(c, "a", "p2")->meta.labels &&
		nap_cluster_pod(c, "a", "p1")->meta.raw == NULL,
	    "pods with equal labels share one map, and keep no JSON when asked not to");
	p = nap_cluster_pod(c, "b", "p1");
	TAP_OK(p && p->requests.v[NAP_RES_CPU] == 300 && nap_pod_is_provisionable(p),
	    "pods are keyed by namespace and name");
	on = nap_cluster_pods_on_node(c, "n1", &n);
	TAP_OK(n == 2 && on != NULL, "pods are found by node name before the node exists");
	TAP_IS_INT(nap_cluster_node_requests(c, "n1")->v[NAP_RES_CPU], 300,
	    "a node's bound requests are summed");
	TAP_IS_INT(nap_cluster_node_requests(c, "n1")->v[NAP_RES_PODS], 2,
	    "a node's bound pod count is kept");

	v = nap_cluster_version(c, NAP_KIND_POD);
	TAP_IS_INT(apply(c, "MODIFIED", mkpod("a", "p2", "n2", 200, NULL)), 0,
	    "MODIFIED of a known pod is taken");
	TAP_OK(nap_cluster_version(c, NAP_KIND_POD) > v, "a change bumps the kind's version");
	TAP_OK(nap_cluster_node_requests(c, "n1")->v[NAP_RES_CPU] == 100 &&
		nap_cluster_node_requests(c, "n2")->v[NAP_RES_CPU] == 200,
	    "a pod that moves node moves its requests");
	apply(c, "MODIFIED", mkpod("a", "p1", "n1", 100, ",\"x\":1"));
	o = mkpod("a", "p1", "n1", 100, NULL);
	json_object_object_add(
	    nap_json_key(o, "status"), "phase", json_object_new_string("Succeeded"));
	apply(c, "MODIFIED", o);
	TAP_OK(nap_cluster_node_requests(c, "n1")->v[NAP_RES_CPU] == 0 &&
		(nap_cluster_pods_on_node(c, "n1", &n), n == 1),
	    "a terminal pod stays listed on its node but no longer counts");
	TAP_IS_INT(apply(c, "MODIFIED", mkpod("c", "new", "", 50, NULL)), 0,
	    "MODIFIED of an unknown pod adds it");
	TAP_OK(nap_cluster_pod(c, "c", "new") != NULL, "the added pod is found");

	o = mkpod("c", "new", "", 50, NULL);
	json_object_object_add(
	    nap_json_get(json_object_array_get_idx(nap_json_get(o, "spec.containers"), 0),
		"resources.requests"),
	    "cpu", json_object_new_string("lots"));
	TAP_OK(nap_cluster_apply(c, "MODIFIED", o, &err) == -1 &&
		strstr(err.msg, "pod c/new: container c: requests: cpu"),
	    "a malformed MODIFIED is an error naming the pod");
	json_object_put(o);
	p = nap_cluster_pod(c, "c", "new");
	TAP_OK(p && p->requests.v[NAP_RES_CPU] == 50,
	    "a malformed MODIFIED leaves the previous version in place");

	/* a pod deleted and recreated under its name: the old tombstone arrives late */
	o = mkpod("u", "p", "", 10, NULL);
	json_object_object_add(nap_json_key(o, "metadata"), "uid", json_object_new_string("uid-new"));
	apply(c, "ADDED", o);
	TAP_IS_INT(apply(c, "DELETED",
		       parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"u\","
			     "\"uid\":\"uid-old\"}}")),
	    1, "a DELETED of an earlier uid is not applied");
	TAP_OK(nap_cluster_pod(c, "u", "p") != NULL, "the live pod of that name stays");
	TAP_IS_INT(apply(c, "DELETED",
		       parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"u\","
			     "\"uid\":\"uid-new\"}}")),
	    0, "a DELETED of the live uid is applied");
	TAP_OK(nap_cluster_pod(c, "u", "p") == NULL, "and removes the pod");
	apply(c, "ADDED", mkpod("u", "q", "", 10, NULL));
	TAP_IS_INT(apply(c, "DELETED",
		       parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"q\",\"namespace\":\"u\","
			     "\"uid\":\"any\"}}")),
	    0, "a stored object without a uid is deleted by name");
	TAP_OK(nap_cluster_pod(c, "u", "q") == NULL, "and is gone");

	apply(c, "ADDED", mkpod("rv", "p", "", 10, ",\"x\":0"));
	o = mkpod("rv", "p", "", 10, NULL);
	json_object_object_add(
	    nap_json_key(o, "metadata"), "resourceVersion", json_object_new_string("7"));
	apply(c, "MODIFIED", o);
	o = mkpod("rv", "p", "", 20, NULL);
	json_object_object_add(
	    nap_json_key(o, "metadata"), "resourceVersion", json_object_new_string("7"));
	v = nap_cluster_version(c, NAP_KIND_POD);
	apply(c, "MODIFIED", o);
	TAP_OK(nap_cluster_pod(c, "rv", "p")->requests.v[NAP_RES_CPU] == 10 &&
		nap_cluster_version(c, NAP_KIND_POD) == v,
	    "an event with the stored resourceVersion is taken as unchanged");
	o = mkpod("rv", "p", "", 20, NULL);
	json_object_object_add(
	    nap_json_key(o, "metadata"), "resourceVersion", json_object_new_string("8"));
	apply(c, "MODIFIED", o);
	TAP_OK(nap_cluster_pod(c, "rv", "p")->requests.v[NAP_RES_CPU] == 20,
	    "a new resourceVersion is parsed");
	apply(c, "DELETED", mkpod("rv", "p", "", 20, NULL));
	TAP_IS_INT(apply(c, "DELETED", mkpod("a", "p2", "n2", 200, NULL)), 0, "DELETED is taken");
	TAP_OK(nap_cluster_pod(c, "a", "p2") == NULL &&
		(nap_cluster_pods_on_node(c, "n2", &n), n == 0) &&
		nap_cluster_node_requests(c, "n2")->v[NAP_RES_CPU] == 0,
	    "a deleted pod leaves the model and its node");
	TAP_IS_INT(apply(c, "DELETED",
		       parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"ghost\","
			     "\"namespace\":\"a\"}}")),
	    0, "DELETED of an unknown pod is fine");
	TAP_IS_INT(nap_cluster_count(c, NAP_KIND_POD), 3, "the count follows adds and deletes");
	p = nap_cluster_pod(c, "a", "p1");
	TAP_OK(p && p->meta.labels && strcmp(nap_meta_label(&p->meta, "app"), "w") == 0,
	    "a shared label map outlives the deletion of a pod that shared it");
	nap_cluster_keep_pod_json(c, 1);
	apply(c, "ADDED", mkpod("k", "keep", "", 10, NULL));
	p = nap_cluster_pod(c, "k", "keep");
	TAP_OK(p && p->meta.raw && nap_json_get(p->meta.raw, "spec.containers") != NULL,
	    "a cluster asked to keep pod JSON keeps it");
	apply(c, "DELETED", mkpod("k", "keep", "", 10, NULL));

	TAP_IS_INT(
	    apply(c, "ADDED", parse("{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"}}")), 1,
	    "a kind the model does not keep is passed over");
	o = parse("{\"metadata\":{\"name\":\"x\"}}");
	TAP_OK(nap_cluster_apply(c, "ADDED", o, &err) == -1 && strstr(err.msg, "kind"),
	    "an object without a kind is an error");
	TAP_OK(nap_cluster_apply(c, "BOOKMARK", o, &err) == -1 && strstr(err.msg, "BOOKMARK"),
	    "an unknown event type is an error");
	json_object_put(o);

	apply(c, "ADDED",
	    parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\",\"labels\":"
		  "{\"karpenter.sh/nodepool\":\"default\",\"topology.kubernetes.io/"
		  "zone\":\"eastus-1\"}},"
		  "\"spec\":{\"providerID\":\"azure:///subscriptions/s/resourceGroups/rg/providers/"
		  "Microsoft.Compute/virtualMachines/"
		  "aks-default-abcde\"},\"status\":{\"allocatable\":"
		  "{\"cpu\":\"3860m\",\"memory\":\"12880436Ki\",\"pods\":\"110\"},\"conditions\":"
		  "[{\"type\":\"Ready\",\"status\":\"True\"}]}}"));
	apply(c, "ADDED",
	    parse(
		"{\"kind\":\"NodeClaim\",\"metadata\":{\"name\":\"default-abcde\","
		"\"labels\":{\"karpenter.sh/nodepool\":\"default\"}},\"spec\":{\"nodeClassRef\":"
		"{\"group\":\"karpenter.azure.com\",\"kind\":\"AKSNodeClass\",\"name\":\"default\"}"
		","
		"\"requirements\":[{\"key\":\"node.kubernetes.io/"
		"instance-type\",\"operator\":\"In\","
		"\"values\":[\"Standard_D4s_v5\"]}]},\"status\":{\"providerID\":\"azure:///"
		"subscriptions/"
		"s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/"
		"aks-default-abcde\","
		"\"conditions\":[{\"type\":\"Launched\",\"status\":\"True\"},{\"type\":\"Drifted\","
		"\"status\":\"True\",\"reason\":\"NodeClassDrifted\"}]}}"));
	node = nap_cluster_node(c, "n1");
	claim = nap_cluster_nodeclaim(c, "default-abcde");
	TAP_OK(node && node->ready == 1 && node->allocatable.v[NAP_RES_CPU] == 3860 &&
		node->allocatable.v[NAP_RES_MEMORY] == INT64_C(12880436) * 1024 &&
		strcmp(node->zone, "eastus-1") == 0 && strcmp(node->nodepool, "default") == 0,
	    "a node's allocatable, readiness and well-known labels are read");
	TAP_OK(claim && claim->launched && !claim->registered && claim->drifted &&
		claim->expire_after == 720 * MS_PER_HOUR &&
		strcmp(nap_cond_find(claim->conds, claim->nconds, "Drifted")->reason,
		    "NodeClassDrifted") == 0,
	    "a NodeClaim's conditions and defaults are read");
	TAP_OK(node && claim && nap_cluster_nodeclaim_of(c, node) == claim &&
		nap_cluster_node_of(c, claim) == node,
	    "a Node and its NodeClaim join by providerID");
	apply(c, "DELETED",
	    parse("{\"kind\":\"NodeClaim\",\"metadata\":{\"name\":\"default-abcde\"}}"));
	TAP_OK(nap_cluster_nodeclaim_of(c, nap_cluster_node(c, "n1")) == NULL,
	    "a deleted NodeClaim no longer joins");
	nap_cluster_free(c);
}

/*
 * 50,000 API-server-shaped pods on 2,000 nodes: correctness at scale, and
 * the time it takes (reported as a TAP comment, never asserted).
 */
static void
test_scale(void)
{
	enum { NODES = 2000, PODS = 50000 };
	json_object **objs = nap_xcalloc(PODS + NODES, sizeof(*objs));
	struct nap_cluster *c = nap_cluster_new();
	struct nap_err err;
	struct timespec t0, t1;
	size_t i, bad = 0, n;
	char name[64], node[64], buf[1024];

	for (i = 0; i < NODES; i++) {
		snprintf(buf, sizeof(buf),
		    "{\"kind\":\"Node\",\"metadata\":{\"name\":\"node-%zu\","
		    "\"labels\":{\"kubernetes.io/"
		    "hostname\":\"node-%zu\"}},\"spec\":{\"providerID\":"
		    "\"azure:///vm/node-%zu\"},\"status\":{\"allocatable\":{\"cpu\":\"4\","
		    "\"memory\":\"16Gi\",\"pods\":\"110\"}}}",
		    i, i, i);
		objs[i] = parse(buf);
	}
	for (i = 0; i < PODS; i++) {
		snprintf(name, sizeof(name), "web-%zu", i);
		snprintf(node, sizeof(node), "node-%zu", i % NODES);
		objs[NODES + i] = mkpod_real(
		    i % 2 ? "shop" : "default", name, i % 5 ? node : "", 100 + (int)(i % 7));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < PODS + NODES; i++)
		if (nap_cluster_apply(c, "ADDED", objs[i], &err) != 0)
			bad++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# applied %d pods + %d nodes in %.1f ms\n", PODS, NODES,
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	TAP_OK(bad == 0 && nap_cluster_count(c, NAP_KIND_POD) == PODS &&
		nap_cluster_count(c, NAP_KIND_NODE) == NODES,
	    "50,000 pods and 2,000 nodes apply");
	nap_cluster_pods_on_node(c, "node-7", &n);
	TAP_IS_INT(n, 25, "each node holds its 25 bound pods");
	for (i = 0; i < PODS; i += 2) {
		snprintf(buf, sizeof(buf),
		    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-%zu\","
		    "\"namespace\":\"default\"}}",
		    i);
		apply(c, "DELETED", parse(buf));
	}
	n = 0;
	for (i = 0; i < NODES; i++) {
		size_t k;

		snprintf(node, sizeof(node), "node-%zu", i);
		nap_cluster_pods_on_node(c, node, &k);
		n += k;
	}
	TAP_OK(nap_cluster_count(c, NAP_KIND_POD) == PODS / 2 && n == PODS / 2 * 4 / 5 &&
		nap_cluster_pod(c, "shop", "web-49999") != NULL &&
		nap_cluster_pod(c, "default", "web-0") == NULL,
	    "deleting half the pods keeps lookups and node buckets consistent");
	for (i = 0; i < PODS + NODES; i++)
		json_object_put(objs[i]);
	free(objs);
	nap_cluster_free(c);
}

static void
test_hash(void)
{
	struct nap_hash h = NAP_HASH_INIT;
	char k[32];
	int i, ok = 1;
	size_t pos = 0, seen = 0;

	for (i = 0; i < 10000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		nap_hash_put(&h, k, (void *)(intptr_t)(i + 1));
	}
	for (i = 0; i < 10000; i += 2) {
		snprintf(k, sizeof(k), "k%d", i);
		ok &= nap_hash_del(&h, k) == (void *)(intptr_t)(i + 1);
	}
	for (i = 0; i < 10000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		ok &= nap_hash_get(&h, k) == (i % 2 ? (void *)(intptr_t)(i + 1) : NULL);
	}
	while (nap_hash_next(&h, &pos, NULL, NULL))
		seen++;
	TAP_OK(ok && nap_hash_count(&h) == 5000 && seen == 5000,
	    "the hash table keeps puts and deletes straight over 10,000 keys");
	TAP_OK(nap_hash_put(&h, "k1", (void *)1) == (void *)(intptr_t)2 &&
		nap_hash_get(&h, "k1") == (void *)1,
	    "put on an existing key replaces and returns the old value");
	nap_hash_free(&h);
}

/*
 * The cluster's index keeps no key of its own: it finds an object by its
 * own namespace and name, so deletions (the last object moving into the
 * hole), additions after them, replacements and namespaces that differ only
 * where the slash goes must all still find the right one.
 */
static void
test_cluster_index(void)
{
	struct nap_cluster *c = nap_cluster_new();
	struct nap_err err;
	const struct nap_pod *p;
	json_object *o;
	char name[32], buf[512];
	int i, ok = 1;

	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "pod-%d", i);
		o = mkpod_real(i % 3 ? "team-a" : "team-b", name, "", 100 + i);
		ok &= nap_cluster_apply(c, "ADDED", o, &err) == 0;
		json_object_put(o);
	}
	for (i = 0; i < 300; i += 3) { /* every team-b pod: the last ones move into the holes */
		snprintf(buf, sizeof(buf),
		    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-%d\",\"namespace\":\"team-b\"}}",
		    i);
		o = parse(buf);
		ok &= nap_cluster_apply(c, "DELETED", o, &err) == 0;
		json_object_put(o);
	}
	for (i = 300; i < 400; i++) { /* added after the moves, into the moved ones' old places */
		snprintf(name, sizeof(name), "pod-%d", i);
		o = mkpod_real("team-b", name, "", 100 + i);
		ok &= nap_cluster_apply(c, "ADDED", o, &err) == 0;
		json_object_put(o);
	}
	for (i = 0; i < 400; i++) {
		const char *ns = i < 300 && i % 3 ? "team-a" : "team-b";

		snprintf(name, sizeof(name), "pod-%d", i);
		p = nap_cluster_pod(c, ns, name);
		if (i < 300 && i % 3 == 0)
			ok &= p == NULL && nap_cluster_pod(c, "team-a", name) == NULL;
		else
			ok &= p != NULL && strcmp(p->meta.name, name) == 0 &&
			    strcmp(p->meta.ns, ns) == 0 && p->requests.v[NAP_RES_CPU] == 100 + i &&
			    nap_cluster_pod(c, ns[5] == 'a' ? "team-b" : "team-a", name) == NULL;
	}
	TAP_OK(ok && nap_cluster_count(c, NAP_KIND_POD) == 300,
	    "deletes, moves and later adds keep every pod findable by namespace and name");
	o = mkpod_real("team-a", "pod-1", "", 999);
	json_object_object_add(nap_json_key(o, "metadata"), "resourceVersion",
	    json_object_new_string("123457"));
	nap_cluster_apply(c, "MODIFIED", o, &err);
	json_object_put(o);
	p = nap_cluster_pod(c, "team-a", "pod-1");
	TAP_OK(p && p->requests.v[NAP_RES_CPU] == 999 && nap_cluster_count(c, NAP_KIND_POD) == 300,
	    "a MODIFIED replaces the pod in place");
	o = mkpod_real("a", "b-c", "", 1);
	nap_cluster_apply(c, "ADDED", o, &err);
	json_object_put(o);
	TAP_OK(nap_cluster_pod(c, "a", "b-c") && !nap_cluster_pod(c, "a-b", "c") &&
		!nap_cluster_pod(c, "a", "b"),
	    "a lookup matches namespace and name whole");
	nap_cluster_free(c);
}

/*
 * What a cluster holds per pod, measured: a bench-independent guard on the
 * model's memory (issue 17: 60,000 pods in under 100 MB with everything
 * else).  Real pods of one workload (shared labels, the admission-default
 * tolerations) bound to nodes, with their JSON dropped as nap-solve does.
 */
#if defined(__SANITIZE_ADDRESS__)
#define T_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_ASAN 1
#endif
#endif
#ifdef T_ASAN
/* ASan's allocator replaces glibc's, whose mallinfo2 then reads 0: ask ASan. */
size_t __sanitizer_get_current_allocated_bytes(void);
#define HEAP_IN_USE() ((long)__sanitizer_get_current_allocated_bytes())
#elif defined(__GLIBC__)
#define HEAP_IN_USE() ((long)mallinfo2().uordblks)
#endif

static void
test_cluster_bytes_per_pod(void)
{
#ifdef HEAP_IN_USE
	enum { PODS = 4000 };
	struct nap_cluster *c;
	struct nap_err err;
	long a, b;
	char name[64], node[64];
	json_object *o;
	size_t i;
	long per;
	int ok = 1;

	a = HEAP_IN_USE();
	c = nap_cluster_new();
	nap_cluster_keep_pod_json(c, 0);
	for (i = 0; i < PODS; i++) {
		snprintf(name, sizeof(name), "checkout-api-server-7d4b9c-%05zu", i);
		snprintf(node, sizeof(node), "aks-general-12345678-vmss%06zu", i % 200);
		o = mkpod_real("payments-checkout-production", name, node, 100);
		ok &= nap_cluster_apply(c, "ADDED", o, &err) == 0;
		json_object_put(o); /* what the model holds, not the events */
	}
	b = HEAP_IN_USE();
	per = (b - a) / PODS;
	TAP_OK(ok && per > 0 && per <= 700, "a cluster holds %ld bytes per real pod (at most 700)", per);
	nap_cluster_free(c);
#endif
}

/*
 * What one pod keeps of its own: a cluster holds tens of thousands, so each
 * is one struct, one block of its strings at their exact size, and the
 * admission-default tolerations shared, not copied.
 */
static void
test_pod_footprint(void)
{
	char nr_key[] = "node.kubernetes.io/not-ready", team[] = "team", ml[] = "ml", none[] = "";
	struct nap_taint not_ready = {nr_key, none, NAP_EFFECT_NOEXECUTE},
			 other = {team, ml, NAP_EFFECT_NOSCHEDULE};
	/* long enough that the pool's doubling spreads them over three blocks */
	const char *strs[] = {"payments-checkout-production", "checkout-api-server-7d4b9c-x8k2p",
	    "0f3c-checkout-api-server-7d4b9c-x8k2p", "123456", "aks-general-purpose-12345678-vmss0001",
	    "web-7d4b9c", "rs-uid"};
	json_object *o = mkpod_real(strs[0], strs[1], strs[4], 250);
	struct nap_pod p, q;
	struct nap_err err;
	size_t blocks, bytes, strbytes = 0, i;
	char buf[1024];

	for (i = 0; i < NAP_ARRAY_LEN(strs); i++)
		strbytes += strlen(strs[i]) + 1;
	if (!TAP_OK(nap_pod_from_json(&p, o, &err) == 0, "a real pod parses"))
		return;
	TAP_IS_STR(p.meta.ns, strs[0], "namespace kept");
	TAP_IS_STR(p.meta.name, strs[1], "name kept");
	TAP_IS_STR(p.meta.uid, strs[2], "uid kept");
	TAP_IS_STR(p.meta.rv, "123456", "resourceVersion kept");
	TAP_IS_STR(p.node_name, strs[4], "node name kept");
	TAP_IS_STR(p.owner_name, "web-7d4b9c", "owner name kept");
	TAP_IS_STR(p.owner_uid, "rs-uid", "owner uid kept");
	TAP_IS_STR(p.scheduled_reason, "", "a bound pod has no PodScheduled=False reason");
	bytes = model_pool_size(p.strings, &blocks);
	TAP_IS_INT(blocks, 1, "a pod's strings sit in one block");
	TAP_OK(bytes <= strbytes + 24,
	    "that block is their exact size (with its header): %zu bytes for %zu", bytes, strbytes);
	TAP_OK(model_tolerations_shared(p.tolerations) && p.ntolerations == 2,
	    "the admission-default tolerations are the shared copy");
	TAP_IS_STR(p.tolerations[1].key, "node.kubernetes.io/unreachable", "shared: second key");
	TAP_OK(p.tolerations[0].exists && p.tolerations[0].seconds == 300 &&
		p.tolerations[0].effect == NAP_EFFECT_NOEXECUTE,
	    "shared: Exists, NoExecute, 300 s");
	TAP_OK(nap_tolerates(p.tolerations, p.ntolerations, &not_ready) &&
		!nap_tolerates(p.tolerations, p.ntolerations, &other),
	    "the shared tolerations tolerate not-ready and nothing else");
	TAP_OK(sizeof(p) + bytes <= 392 + 24 + strbytes,
	    "a bound pod keeps at most its struct and its strings: %zu bytes", sizeof(p) + bytes);
	nap_pod_free(&p);
	json_object_put(o);

	/* anything else is the pod's own: another value, another key, a member more */
	snprintf(buf, sizeof(buf),
	    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"uid\":\"u\"},"
	    "\"spec\":{\"containers\":[],\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\","
	    "\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
	    "{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\",\"effect\":"
	    "\"NoExecute\",\"tolerationSeconds\":301}]}}");
	o = parse(buf);
	if (TAP_OK(nap_pod_from_json(&q, o, &err) == 0, "a pod with 301 s parses")) {
		TAP_OK(!model_tolerations_shared(q.tolerations) && q.ntolerations == 2 &&
			q.tolerations[1].seconds == 301,
		    "tolerationSeconds 301 is not the shared default");
		nap_pod_free(&q);
	}
	json_object_put(o);
	snprintf(buf, sizeof(buf),
	    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"uid\":\"u\"},"
	    "\"spec\":{\"containers\":[],\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\","
	    "\"operator\":\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
	    "{\"key\":\"team\",\"operator\":\"Equal\",\"value\":\"ml\",\"effect\":"
	    "\"NoSchedule\"}]},\"status\":{\"nominatedNodeName\":\"node-9\"}}");
	o = parse(buf);
	if (TAP_OK(nap_pod_from_json(&q, o, &err) == 0, "a pod with its own toleration parses")) {
		TAP_OK(!model_tolerations_shared(q.tolerations) && q.ntolerations == 2,
		    "its list is its own");
		TAP_IS_STR(q.tolerations[1].key, "team", "its own key kept");
		TAP_IS_STR(q.tolerations[1].value, "ml", "its own value kept");
		TAP_IS_STR(q.nominated, "node-9", "nominated node kept");
		TAP_OK(nap_tolerates(q.tolerations, q.ntolerations, &other) &&
			nap_tolerates(q.tolerations, q.ntolerations, &not_ready),
		    "it tolerates team=ml:NoSchedule and not-ready");
		model_pool_size(q.strings, &blocks);
		TAP_IS_INT(blocks, 1, "its strings, toleration ones too, sit in one block");
		nap_pod_free(&q);
	}
	json_object_put(o);
}

static void
test_keep_node_json(void)
{
	struct nap_cluster *c = nap_cluster_new();
	const struct nap_node *n;

	nap_cluster_keep_node_json(c, 0);
	apply(c, "ADDED",
	    parse("{\"kind\":\"Node\",\"metadata\":{\"name\":\"n9\",\"labels\":"
		  "{\"topology.kubernetes.io/zone\":\"eastus-2\"},\"annotations\":{\"a\":\"b\"}},"
		  "\"status\":{\"allocatable\":{\"cpu\":\"2\",\"memory\":\"4Gi\",\"pods\":\"30\"}}"
		  "}"));
	n = nap_cluster_node(c, "n9");
	TAP_OK(n && n->meta.raw == NULL && n->meta.annotations == NULL &&
		strcmp(nap_meta_label(&n->meta, "topology.kubernetes.io/zone"), "eastus-2") == 0,
	    "a cluster asked not to keep node JSON keeps a node's labels but not its JSON");
	nap_cluster_free(c);
}

static void
test_helpers(void)
{
	int64_t v = 0;

	TAP_OK(nap_time_parse("2025-03-04T05:06:07Z", &v) == 0 && v == 1741064767,
	    "RFC 3339 UTC times parse");
	TAP_OK(nap_time_parse("2025-03-04T06:06:07.123+01:00", &v) == 0 && v == 1741064767,
	    "fractions and offsets are honoured");
	TAP_OK(nap_time_parse("yesterday", &v) == -1, "garbage is not a time");
	{
		/* Found by tests/fuzz/fuzz-kube; on the heap so that ASan sees a read past the end. */
		char *cut = nap_xstrdup("2026-01-01T00:00:00+");

		TAP_OK(nap_time_parse(cut, &v) == -1,
		    "a time cut after its offset sign is refused, without reading past its end");
		free(cut);
	}
	TAP_OK(nap_model_duration("1h30m", &v, NULL) == 0 && v == 5400000,
	    "Go durations combine units");
	TAP_OK(nap_model_duration("Never", &v, NULL) == 0 && v == NAP_NEVER, "Never is never");
	TAP_OK(nap_model_duration("10", &v, NULL) == -1, "a duration needs a unit");
}

int
main(void)
{
	char path[256];

	snprintf(path, sizeof(path), "tests/fixtures/model/pods.yaml");
	fix_pods = load_yaml(path);
	fix_bad = load_yaml("tests/fixtures/model/bad.yaml");
	fix_pools = load_yaml("tests/fixtures/model/pools.yaml");

	test_nodepool_defaults();
	test_nodepool_explicit();
	test_nodeclass();
	test_requests();
	test_constraints();
	test_provisionable();
	test_ranges();
	test_disruption_helpers();
	test_malformed();
	test_api_fixtures();
	test_kube_examples();
	test_manifests("aks-docs", "", "the AKS NAP docs", 1);
	test_manifests("karpenter", "azure-", "the Azure provider's manifests", 1);
	test_manifests("karpenter", "aws-examples-", "Karpenter's v1 examples", 1);
	test_manifests("karpenter", "", "all Karpenter fixtures, design sketches included", 0);
	test_cluster();
	test_volumes();
	test_mutations();
	test_scale();
	test_hash();
	test_helpers();
	test_keep_node_json();
	test_pod_footprint();
	test_cluster_index();
	test_cluster_bytes_per_pod();

	json_object_put(fix_pods);
	json_object_put(fix_bad);
	json_object_put(fix_pools);
	return tap_done();
}
