/*
 * gen-diverse.c - a cluster snapshot for bench/solve.sh: Karpenter's
 * "diverse" benchmark mix of pending pods (scheduling_benchmark_test.go:
 * 1/5 each generic, zonal spread DoNotSchedule, hostname spread, zonal
 * self-affinity, hostname anti-affinity; CPU from 100m..1.5, memory from
 * 100Mi..4Gi; labels from 7 values; fixed seed), optionally on a cluster of
 * existing nodes with running pods.
 *
 *   gen-diverse PENDING NODES RUNNING [diverse|generic] [SEED]
 *
 * The NodePool allows every on-demand size of the catalog (Karpenter's
 * benchmark uses one NodePool without limits).  A pod's topology selector
 * matches its own two labels (app, mix), so each kind forms 7 groups.
 * Built and run by bench/solve.sh only; not part of nap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 42;

static uint64_t
next(void)
{
	/* xorshift64*: fixed seed, same sequence on every machine */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static const char *const cpus[] = { "100m", "250m", "500m", "1", "1500m" };
static const char *const mems[] = { "100Mi", "256Mi", "512Mi", "1Gi", "2Gi", "4Gi" };
static const char *const kinds[] = { "generic", "zone-spread", "host-spread", "zone-affinity",
	"host-anti" };

static void
constraint(int kind, unsigned app)
{
	const char *sel = "\"labelSelector\":{\"matchLabels\":{\"app\":\"app-%u\",\"mix\":\"%s\"}}";
	char s[256];

	snprintf(s, sizeof(s), sel, app, kinds[kind]);
	switch (kind) {
	case 1:
		printf(",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":"
		    "\"topology.kubernetes.io/zone\",\"whenUnsatisfiable\":\"DoNotSchedule\",%s}]", s);
		break;
	case 2:
		printf(",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":"
		    "\"kubernetes.io/hostname\",\"whenUnsatisfiable\":\"DoNotSchedule\",%s}]", s);
		break;
	case 3:
		printf(",\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
		    "[{\"topologyKey\":\"topology.kubernetes.io/zone\",%s}]}}", s);
		break;
	case 4:
		printf(",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
		    "[{\"topologyKey\":\"kubernetes.io/hostname\",%s}]}}", s);
		break;
	default:
		break;
	}
}

static void
pod(const char *prefix, unsigned long i, int kind, const char *node)
{
	unsigned app = (unsigned)(next() % 7);
	const char *cpu = cpus[next() % 5], *mem = mems[next() % 6];

	printf("{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
	    "{\"name\":\"%s-%lu\",\"namespace\":\"bench\",\"uid\":\"%s-uid-%lu\","
	    "\"creationTimestamp\":\"2026-01-01T00:00:00Z\",\"labels\":{\"app\":\"app-%u\",\"mix\":\"%s\"}},"
	    "\"spec\":{", prefix, i, prefix, i, app, kinds[kind]);
	if (node)
		printf("\"nodeName\":\"%s\",", node);
	printf("\"containers\":[{\"name\":\"app\",\"image\":\"registry.k8s.io/pause\",\"resources\":"
	    "{\"requests\":{\"cpu\":\"%s\",\"memory\":\"%s\"}}}]", cpu, mem);
	if (!node)
		constraint(kind, app);
	if (node)
		printf("},\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"PodScheduled\","
		    "\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"True\"}]}}}\n");
	else
		printf("},\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\","
		    "\"status\":\"False\",\"reason\":\"Unschedulable\"}]}}}\n");
}

int
main(int argc, char **argv)
{
	unsigned long pending, nodes, running, i;
	int generic_only;

	if (argc < 4) {
		fprintf(stderr, "usage: gen-diverse PENDING NODES RUNNING [diverse|generic] [SEED]\n");
		return 64;
	}
	pending = strtoul(argv[1], NULL, 10);
	nodes = strtoul(argv[2], NULL, 10);
	running = strtoul(argv[3], NULL, 10);
	generic_only = argc > 4 && strcmp(argv[4], "generic") == 0;
	if (argc > 5)
		rng = strtoull(argv[5], NULL, 10) | 1;

	printf("{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"karpenter.azure.com/v1beta1\","
	    "\"kind\":\"AKSNodeClass\",\"metadata\":{\"name\":\"default\",\"uid\":\"nc\"},"
	    "\"spec\":{\"imageFamily\":\"Ubuntu\"}}}\n");
	printf("{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodePool\","
	    "\"metadata\":{\"name\":\"default\",\"uid\":\"np\"},\"spec\":{\"template\":{\"spec\":{"
	    "\"nodeClassRef\":{\"group\":\"karpenter.azure.com\",\"kind\":\"AKSNodeClass\",\"name\":\"default\"},"
	    "\"requirements\":[{\"key\":\"kubernetes.io/os\",\"operator\":\"In\",\"values\":[\"linux\"]},"
	    "{\"key\":\"karpenter.sh/capacity-type\",\"operator\":\"In\",\"values\":[\"on-demand\"]}]}}}}}\n");
	for (i = 0; i < nodes; i++) {
		printf("{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":"
		    "{\"name\":\"node-%lu\",\"uid\":\"node-uid-%lu\",\"labels\":{\"kubernetes.io/hostname\":"
		    "\"node-%lu\",\"node.kubernetes.io/instance-type\":\"Standard_D16s_v5\","
		    "\"topology.kubernetes.io/zone\":\"eastus-%lu\",\"topology.kubernetes.io/region\":\"eastus\","
		    "\"karpenter.sh/capacity-type\":\"on-demand\",\"karpenter.sh/nodepool\":\"default\","
		    "\"karpenter.sh/registered\":\"true\",\"karpenter.sh/initialized\":\"true\","
		    "\"kubernetes.io/arch\":\"amd64\",\"kubernetes.io/os\":\"linux\"}},"
		    "\"spec\":{\"providerID\":\"azure:///node-%lu\"},\"status\":{"
		    "\"capacity\":{\"cpu\":\"16\",\"memory\":\"62Gi\",\"pods\":\"250\"},"
		    "\"allocatable\":{\"cpu\":\"15740m\",\"memory\":\"56Gi\",\"pods\":\"250\"},"
		    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}}\n",
		    i, i, i, i % 3 + 1, i);
	}
	for (i = 0; i < running; i++) {
		char node[32];

		snprintf(node, sizeof(node), "node-%lu", nodes ? i % nodes : 0);
		pod("run", i, generic_only ? 0 : (int)(i % 5), node);
	}
	for (i = 0; i < pending; i++)
		pod("pend", i, generic_only ? 0 : (int)(i % 5), NULL);
	printf("{\"type\":\"SYNCED\"}\n");
	return 0;
}
