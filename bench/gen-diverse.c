/*
 * gen-diverse.c - a cluster snapshot for bench/solve.sh: Karpenter's
 * "diverse" benchmark mix of pending pods (scheduling_benchmark_test.go:
 * 1/5 each generic, zonal spread DoNotSchedule, hostname spread, zonal
 * self-affinity, hostname anti-affinity; CPU from 100m..1.5, memory from
 * 100Mi..4Gi; labels from 7 values; fixed seed), optionally on a cluster of
 * existing nodes with running pods.
 *
 *   gen-diverse PENDING NODES RUNNING [diverse|generic|varied] [SEED]
 *
 * The NodePool allows every on-demand size of the catalog (Karpenter's
 * benchmark uses one NodePool without limits).  A pod's topology selector
 * matches its own two labels (app, mix), so each kind forms 7 groups.
 *
 * "varied" keeps the same five kinds (pod i is kind i % 5) and the same
 * groups (7 per constrained kind, a pod's selector matching its own group),
 * but its pods look like a real cluster's, so that nothing a reader might
 * share between pods (strings, label maps, request shapes) flatters it:
 *   - 24 namespaces with names of 3..40 characters; each group (and each
 *     generic workload) lives in one, as topology selectors are
 *     namespace-scoped;
 *   - workloads are Deployments (pods <name>-<hash10>-<5>, owned by their
 *     ReplicaSet), StatefulSets (<name>-<ordinal>) and Jobs (<name>-<5>),
 *     names of 5..52 characters so pod names run to 63; an ownerReference
 *     with a UUID on every pod; a generic workload per ~40 pods;
 *   - 2..10 labels per pod from app.kubernetes.io/{name,instance,version,
 *     component,part-of,managed-by}, pod-template-hash or
 *     controller-revision-hash and statefulset.kubernetes.io/pod-name, or
 *     job-name, batch.kubernetes.io/job-name and controller-uid, team, env,
 *     tier, version; a group's selector is app.kubernetes.io/name, with
 *     app.kubernetes.io/instance for some;
 *   - 0..4 annotations (checksums, prometheus, restartedAt, and on one pod
 *     in ten a description of 20..2,000 characters);
 *   - requests drawn per pod, CPU 100m..1.5 in 10m steps and memory
 *     100Mi..4Gi in Mi steps, both skewed towards small pods (so nearly every
 *     pod has its own shape); one pod in five with a sidecar (10m..200m,
 *     16Mi..256Mi), one in ten with an init container as large as the app,
 *     three in ten with limits, one in twenty with limits and no requests;
 *     0..5 environment variables, the default not-ready/unreachable
 *     tolerations, a service account;
 *   - running pods (on the existing nodes, kind i % 5 as in "diverse", the
 *     constrained ones in the pending groups' workloads) just as varied,
 *     with status IPs and start times.
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

/* the constraint of a pending pod of this kind, on selector s */
static void
constraint_sel(int kind, const char *s)
{
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
constraint(int kind, unsigned app)
{
	char s[256];

	snprintf(s, sizeof(s), "\"labelSelector\":{\"matchLabels\":{\"app\":\"app-%u\",\"mix\":\"%s\"}}",
	    app, kinds[kind]);
	constraint_sel(kind, s);
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

/* ---- the "varied" mix (see the header) ---- */

static const char *const words[] = { "api", "web", "frontend", "backend", "payments", "checkout",
	"search", "indexer", "ingest", "worker", "queue", "cache", "redis", "kafka", "zookeeper",
	"etl", "reporting", "billing", "auth", "identity", "gateway", "ml", "training", "inference",
	"feature-store", "notifications", "email", "sms", "ledger", "orders", "inventory", "catalog",
	"recommendations", "analytics", "metrics", "logging", "tracing", "scheduler", "cron",
	"media", "thumbnailer", "transcoder", "geo", "pricing", "fraud", "risk", "profile", "session" };
static const char *const teams[] = { "platform", "data", "growth", "core", "infra", "mobile",
	"commerce", "search-quality", "ml-platform", "sre", "security", "finance-eng" };
static const char *const components[] = { "server", "worker", "controller", "database", "cache",
	"proxy", "consumer", "producer", "migrator", "batch" };
static const char *const envs[] = { "prod", "staging", "dev", "canary", "perf" };
static const char *const tiers[] = { "frontend", "backend", "data", "control" };
static const char *const managers[] = { "Helm", "kustomize", "argocd", "flux", "terraform" };
static const char *const envnames[] = { "LOG_LEVEL", "GOMAXPROCS", "JAVA_OPTS", "PORT",
	"OTEL_EXPORTER_OTLP_ENDPOINT", "FEATURE_FLAGS", "DB_HOST", "REGION" };

#define NWORDS (sizeof(words) / sizeof(words[0]))
#define PICK(a) ((a)[next() % (sizeof(a) / sizeof((a)[0]))])
#define NNS 24
#define NGROUPS 7

struct workload {
	int ctl; /* 0 Deployment, 1 StatefulSet, 2 Job */
	int selkeys; /* selector: 1 = name, 2 = name and instance */
	unsigned opt; /* optional labels (bits) */
	int annots;
	const char *ns;
	char name[64], instance[64], hash[11], uid[40], version[24], team[24], part[32];
	const char *component, *env, *tier, *manager;
	unsigned long ordinal;
};

static char nsnames[NNS][72];
static struct workload groups[5][NGROUPS];	/* kinds 1..4 */
static struct workload *generic_wl;
static unsigned long ngeneric_wl, pod_serial;

/* a DNS label of len characters (5..52) from words */
static void
dnsname(char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	while (n < len) {
		const char *w = words[next() % NWORDS];

		n += (size_t)snprintf(out + n, 64 - n, "%s%s", n ? "-" : "", w);
		if (n >= 63)
			n = 63;
	}
	out[len] = '\0';
	while (len > 0 && out[len - 1] == '-')
		out[--len] = '\0';
}

static void
uuid(char *out)
{
	uint64_t a = next(), b = next();

	snprintf(out, 40, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
	    0x4000 | ((unsigned)a & 0x0fff), 0x8000 | ((unsigned)(b >> 48) & 0x3fff),
	    (unsigned long long)(b & 0xffffffffffffULL));
}

/* Kubernetes' rand.String alphabet */
static void
kstr(char *out, size_t len, uint64_t v)
{
	static const char al[] = "bcdfghjklmnpqrstvwxz2456789";
	size_t i;

	for (i = 0; i < len; i++) {
		out[i] = al[v % 27];
		v /= 27;
	}
	out[len] = '\0';
}

static void
workload_init(struct workload *w)
{
	w->ctl = (int)(next() % 10 < 7 ? 0 : next() % 2 + 1);
	w->ns = nsnames[next() % NNS];
	dnsname(w->name, 5 + next() % 48);
	snprintf(w->instance, sizeof(w->instance), "%.40s-%s", w->name, PICK(envs));
	kstr(w->hash, 10, next());
	uuid(w->uid);
	{
		/* drawn in order: the order a call evaluates its arguments in is unspecified */
		unsigned major = (unsigned)(next() % 5), minor = (unsigned)(next() % 30),
			 patch = (unsigned)(next() % 100);

		snprintf(w->version, sizeof(w->version), "%u.%u.%u", major, minor, patch);
	}
	snprintf(w->team, sizeof(w->team), "%s", PICK(teams));
	snprintf(w->part, sizeof(w->part), "%s", words[next() % NWORDS]);
	w->component = PICK(components);
	w->env = PICK(envs);
	w->tier = PICK(tiers);
	w->manager = PICK(managers);
	w->opt = (unsigned)(next() & next()); /* each optional label on one in four */
	w->selkeys = 1 + (int)(next() % 2);
	if (w->selkeys == 2)
		w->opt |= 1; /* the instance label the selector names */
	w->annots = (int)"00011234"[next() % 8] - '0';
	w->ordinal = 0;
}

/* CPU millicores lo..hi in 10m steps, skewed towards lo */
static unsigned
skewed(unsigned lo, unsigned hi, unsigned step)
{
	double u = (double)(next() % 1000000) / 1e6;

	return lo + (unsigned)(u * u * (double)((hi - lo) / step + 1)) * step;
}

static void
print_cpu(unsigned m)
{
	if (m % 1000 == 0)
		printf("\"%u\"", m / 1000);
	else
		printf("\"%um\"", m);
}

static void
print_mem(unsigned mi)
{
	if (mi % 1024 == 0)
		printf("\"%uGi\"", mi / 1024);
	else
		printf("\"%uMi\"", mi);
}

/* "what":{"cpu":...,"memory":...} */
static void
quantities(const char *what, unsigned cpu, unsigned mem)
{
	printf("\"%s\":{\"cpu\":", what);
	print_cpu(cpu);
	printf(",\"memory\":");
	print_mem(mem);
	printf("}");
}

static void
resources(unsigned cpu, unsigned mem)
{
	unsigned r = (unsigned)(next() % 20);

	printf("\"resources\":{");
	if (r == 0) /* limits only: they stand for the requests */
		quantities("limits", cpu, mem);
	else {
		quantities("requests", cpu, mem);
		if (r < 7) {
			printf(",");
			quantities("limits", cpu * 2, mem + mem / 2);
		}
	}
	printf("}");
}

static void
container(const char *name, const struct workload *w, unsigned cpu, unsigned mem)
{
	int env = next() % 3 ? 0 : 1 + (int)(next() % 4), i;

	printf("{\"name\":\"%s\",\"image\":\"registry.example.com/%s/%s:%s\",", name, w->team, w->name,
	    w->version);
	if (env) {
		printf("\"env\":[");
		for (i = 0; i < env; i++) {
			const char *var = PICK(envnames), *word = words[next() % NWORDS];
			unsigned num = (unsigned)(next() % 100000);

			printf("%s{\"name\":\"%s_%d\",\"value\":\"%s-%u\"}", i ? "," : "", var, i, word, num);
		}
		printf("],");
	}
	if (next() % 2)
		printf("\"ports\":[{\"containerPort\":%u}],", 8000 + (unsigned)(next() % 1000));
	resources(cpu, mem);
	printf("}");
}

static void
annotations(const struct workload *w)
{
	int i, n = w->annots, desc = next() % 10 == 0;

	if (n == 0 && !desc)
		return;
	printf(",\"annotations\":{");
	for (i = 0; i < n; i++) {
		char hex[65];
		int j;

		switch ((i + (int)(w->opt >> 20)) % 4) {
		case 0:
			for (j = 0; j < 64; j += 16)
				snprintf(hex + j, 17, "%016llx", (unsigned long long)next());
			printf("%s\"checksum/config\":\"%s\"", i ? "," : "", hex);
			break;
		case 1:
			printf("%s\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":\"%u\"", i ? "," : "",
			    9000 + (unsigned)(next() % 1000));
			break;
		case 2: {
			unsigned mon = 1 + (unsigned)(next() % 9), day = 1 + (unsigned)(next() % 28),
				 hour = (unsigned)(next() % 24), min = (unsigned)(next() % 60);

			printf("%s\"kubectl.kubernetes.io/restartedAt\":\"2026-0%u-%02uT%02u:%02u:00Z\"",
			    i ? "," : "", mon, day, hour, min);
			break;
		}
		default:
			printf("%s\"cluster-autoscaler.kubernetes.io/safe-to-evict\":\"%s\"", i ? "," : "",
			    next() % 2 ? "true" : "false");
			break;
		}
	}
	if (desc) { /* a free-text description, 20..2000 characters */
		size_t len = 20 + next() % 1981, k = 0;

		printf("%s\"description\":\"", n ? "," : "");
		while (k < len) {
			const char *t = words[next() % NWORDS];

			k += strlen(t) + 1;
			printf("%s ", t);
		}
		printf("\"");
	}
	printf("}");
}

static void
varied_pod(unsigned long i, int kind, const char *node, int running)
{
	struct workload *w;
	char podname[128], base[128], suffix[6], ip[20];
	const char *okind;
	unsigned cpu, mem, nlabels = 0, bit;
	unsigned long serial = pod_serial++;
	int sidecar, init;

	(void)i;
	if (kind == 0)
		w = &generic_wl[next() % ngeneric_wl];
	else
		w = &groups[kind][next() % NGROUPS];
	/* unique in the run: 7919 is prime to 27^5 */
	kstr(suffix, 5, (serial * 7919 + 12345) % 14348907ULL);
	/* generateName: the base cut to 58 characters, then 5 random ones */
	switch (w->ctl) {
	case 0:
		snprintf(base, sizeof(base), "%s-%s-", w->name, w->hash);
		okind = "ReplicaSet";
		break;
	case 1:
		base[0] = '\0';
		okind = "StatefulSet";
		break;
	default:
		snprintf(base, sizeof(base), "%s-", w->name);
		okind = "Job";
		break;
	}
	base[58] = '\0';
	if (w->ctl == 1)
		snprintf(podname, sizeof(podname), "%s-%lu", w->name, w->ordinal++);
	else
		snprintf(podname, sizeof(podname), "%s%s", base, suffix);
	printf("{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
	    "{\"name\":\"%s\",", podname);
	if (base[0])
		printf("\"generateName\":\"%s\",", base);
	printf("\"namespace\":\"%s\",\"uid\":\"", w->ns);
	{
		char u[40];

		uuid(u);
		printf("%s\",\"resourceVersion\":\"%lu\",", u, 1000 + serial * 3);
	}
	printf("\"creationTimestamp\":\"2026-01-%02luT%02lu:%02lu:%02luZ\",\"labels\":{"
	    "\"app.kubernetes.io/name\":\"%s\"", 1 + serial % 28, serial / 7 % 24, serial / 3 % 60,
	    serial % 60, w->name);
	nlabels = 1;
	switch (w->ctl) {
	case 0:
		printf(",\"pod-template-hash\":\"%s\"", w->hash);
		nlabels++;
		break;
	case 1:
		printf(",\"controller-revision-hash\":\"%.40s-%s\",\"statefulset.kubernetes.io/pod-name\":\"%s\"",
		    w->name, w->hash, podname);
		nlabels += 2;
		break;
	default:
		printf(",\"job-name\":\"%s\",\"batch.kubernetes.io/job-name\":\"%s\",\"controller-uid\":\"%s\"",
		    w->name, w->name, w->uid);
		nlabels += 3;
		break;
	}
	for (bit = 0; bit < 9 && nlabels < 10; bit++) {
		if (!(w->opt & (1u << bit)))
			continue;
		nlabels++;
		switch (bit) {
		case 0: printf(",\"app.kubernetes.io/instance\":\"%s\"", w->instance); break;
		case 1: printf(",\"app.kubernetes.io/version\":\"%s\"", w->version); break;
		case 2: printf(",\"app.kubernetes.io/component\":\"%s\"", w->component); break;
		case 3: printf(",\"app.kubernetes.io/part-of\":\"%s\"", w->part); break;
		case 4: printf(",\"app.kubernetes.io/managed-by\":\"%s\"", w->manager); break;
		case 5: printf(",\"team\":\"%s\"", w->team); break;
		case 6: printf(",\"env\":\"%s\"", w->env); break;
		case 7: printf(",\"tier\":\"%s\"", w->tier); break;
		default: printf(",\"version\":\"v%s\"", w->version); break;
		}
	}
	printf("}");
	annotations(w);
	printf(",\"ownerReferences\":[{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"name\":\"",
	    w->ctl == 2 ? "batch/v1" : "apps/v1", okind);
	if (w->ctl == 0)
		printf("%s-%s", w->name, w->hash);
	else
		printf("%s", w->name);
	printf("\",\"uid\":\"%s\",\"controller\":true,\"blockOwnerDeletion\":true}]},\"spec\":{", w->uid);
	if (node)
		printf("\"nodeName\":\"%s\",", node);
	cpu = skewed(100, 1500, 10);
	mem = skewed(100, 4096, 1);
	sidecar = next() % 5 == 0;
	init = next() % 10 == 0;
	if (init) {
		unsigned icpu = skewed(100, 1500, 10), imem = skewed(100, 4096, 1);

		printf("\"initContainers\":[");
		container("init", w, icpu, imem);
		printf("],");
	}
	printf("\"containers\":[");
	container(w->component, w, cpu, mem);
	if (sidecar) {
		unsigned scpu = skewed(10, 200, 10), smem = skewed(16, 256, 1);

		printf(",");
		container("sidecar", w, scpu, smem);
	}
	printf("],\"restartPolicy\":\"%s\",\"serviceAccountName\":\"%s\",\"schedulerName\":"
	    "\"default-scheduler\",\"priority\":0,\"tolerations\":[{\"key\":"
	    "\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
	    "\"tolerationSeconds\":300},{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":"
	    "\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]",
	    w->ctl == 2 ? "OnFailure" : "Always", w->team);
	if (!node && kind) {
		char s[256];

		if (w->selkeys == 2)
			snprintf(s, sizeof(s), "\"labelSelector\":{\"matchLabels\":{\"app.kubernetes.io/name\":"
			    "\"%s\",\"app.kubernetes.io/instance\":\"%s\"}}", w->name, w->instance);
		else
			snprintf(s, sizeof(s), "\"labelSelector\":{\"matchLabels\":{\"app.kubernetes.io/name\":"
			    "\"%s\"}}", w->name);
		constraint_sel(kind, s);
	}
	if (running) {
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", (unsigned)(serial >> 16 & 0xff),
		    (unsigned)(serial >> 8 & 0xff), (unsigned)(serial & 0xff));
		printf("},\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\",\"startTime\":"
		    "\"2026-01-%02luT%02lu:00:00Z\",\"qosClass\":\"Burstable\",\"conditions\":["
		    "{\"type\":\"PodScheduled\",\"status\":\"True\"},{\"type\":\"Ready\",\"status\":"
		    "\"True\"}]}}}\n", ip, 1 + serial % 28, serial % 24);
	} else
		printf("},\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\","
		    "\"status\":\"False\",\"reason\":\"Unschedulable\"}]}}}\n");
}

static void
varied_setup(unsigned long pending, unsigned long running)
{
	unsigned long i;
	int k, g;

	for (i = 0; i < NNS; i++) {
		char w[64];

		dnsname(w, 3 + next() % 38);
		snprintf(nsnames[i], sizeof(nsnames[i]), "%s-%lu", w, i);
	}
	for (k = 1; k < 5; k++)
		for (g = 0; g < NGROUPS; g++)
			workload_init(&groups[k][g]);
	ngeneric_wl = (pending + running) / 5 / 40 + 2;
	generic_wl = calloc(ngeneric_wl, sizeof(*generic_wl));
	if (!generic_wl) {
		perror("gen-diverse");
		exit(1);
	}
	for (i = 0; i < ngeneric_wl; i++)
		workload_init(&generic_wl[i]);
}

int
main(int argc, char **argv)
{
	unsigned long pending, nodes, running, i;
	int generic_only, varied;

	if (argc < 4) {
		fprintf(stderr, "usage: gen-diverse PENDING NODES RUNNING [diverse|generic|varied] [SEED]\n");
		return 64;
	}
	pending = strtoul(argv[1], NULL, 10);
	nodes = strtoul(argv[2], NULL, 10);
	running = strtoul(argv[3], NULL, 10);
	generic_only = argc > 4 && strcmp(argv[4], "generic") == 0;
	varied = argc > 4 && strcmp(argv[4], "varied") == 0;
	if (argc > 5)
		rng = strtoull(argv[5], NULL, 10) | 1;
	if (varied)
		varied_setup(pending, running);

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
		if (varied)
			varied_pod(i, (int)(i % 5), node, 1);
		else
			pod("run", i, generic_only ? 0 : (int)(i % 5), node);
	}
	for (i = 0; i < pending; i++) {
		if (varied)
			varied_pod(i, (int)(i % 5), NULL, 0);
		else
			pod("pend", i, generic_only ? 0 : (int)(i % 5), NULL);
	}
	printf("{\"type\":\"SYNCED\"}\n");
	return 0;
}
