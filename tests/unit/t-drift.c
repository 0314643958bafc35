/*
 * Unit tests for lib/drift: the NodePool and AKSNodeClass hashes (what
 * moves them, what does not), each drift reason and their order, a change
 * of hash version drifting nothing, the re-stamping of claims stamped under
 * another version, and lib/claim stamping the pool's hash on new claims.
 */
#include "claim.h"
#include "drift.h"
#include "json.h"
#include "tap.h"
#include "wellknown.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CIG "/CommunityGalleries/AKSUbuntu-38d80f77-467a-481f-a8d4-09b6d4220bd2/images/"
#define IMG CIG "2204gen2containerd/versions/202511.07.0"
#define NOW INT64_C(1796000000000) /* 2026-12-01 */
#define HOUR (INT64_C(3600) * 1000)

/* The JSON object printf would write from fmt, parsed. */
static json_object *__attribute__((format(printf, 1, 2)))
J(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	json_object *o;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((o = json_tokener_parse(buf)) == NULL)
		printf("# bad JSON in the test: %s\n", buf);
	return o;
}

/* A NodePool "default" with template spec fields tspec and template metadata tmeta. */
static void
pool(struct nap_nodepool *np, const char *tmeta, const char *tspec, const char *rest)
{
	json_object *o;
	struct nap_err err = {0};

	o = J("{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodePool\","
	    "\"metadata\":{\"name\":\"default\",\"uid\":\"u1\"},"
	    "\"spec\":{%s\"template\":{\"metadata\":{%s},\"spec\":{"
	    "\"nodeClassRef\":{\"group\":\"karpenter.azure.com\",\"kind\":\"AKSNodeClass\","
	    "\"name\":\"default\"},\"requirements\":[]%s}}}}",
	    rest, tmeta, tspec);
	memset(np, 0, sizeof(*np));
	if (nap_nodepool_from_json(np, o, &err) != 0)
		printf("# pool: %s\n", err.msg);
	json_object_put(o);
}

static void
pool_hash(const char *tmeta, const char *tspec, const char *rest, char h[NAP_DRIFT_HASH_LEN])
{
	struct nap_nodepool np;

	pool(&np, tmeta, tspec, rest);
	nap_nodepool_hash(&np, h);
	nap_nodepool_free(&np);
}

/* The AKSNodeClass "default" with spec fields spec. */
static void
klass(struct nap_nodeclass *c, const char *spec)
{
	json_object *o;
	struct nap_err err = {0};

	o = J("{\"apiVersion\":\"karpenter.azure.com/v1beta1\",\"kind\":\"AKSNodeClass\","
	    "\"metadata\":{\"name\":\"default\"},\"spec\":{\"imageFamily\":\"Ubuntu2204\"%s},"
	    "\"status\":{\"kubernetesVersion\":\"1.33.2\",\"images\":[{\"id\":\"" IMG
	    "\",\"requirements\":[]}]}}",
	    spec);
	memset(c, 0, sizeof(*c));
	if (nap_nodeclass_from_json(c, o, &err) != 0)
		printf("# class: %s\n", err.msg);
	json_object_put(o);
}

static void
class_hash(const char *spec, char h[NAP_DRIFT_HASH_LEN])
{
	struct nap_nodeclass c;

	klass(&c, spec);
	nap_nodeclass_hash(&c, h);
	nap_nodeclass_free(&c);
}

/*
 * A launched NodeClaim of pool "default", class "default", created at
 * created, with extra labels (",\"k\":\"v\"..."), annotations (a JSON
 * object body), conditions (JSON array body) and image.
 */
static void
claim(struct nap_nodeclaim *nc, const char *labels, const char *ann, const char *conds,
    const char *image, int64_t created)
{
	char ts[32];
	json_object *o;
	struct nap_err err = {0};
	time_t t = (time_t)(created / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o = J("{\"apiVersion\":\"karpenter.sh/v1\",\"kind\":\"NodeClaim\","
	    "\"metadata\":{\"name\":\"default-abcde\",\"creationTimestamp\":\"%s\","
	    "\"labels\":{\"karpenter.sh/nodepool\":\"default\"%s},\"annotations\":{%s}},"
	    "\"spec\":{\"nodeClassRef\":{\"group\":\"karpenter.azure.com\",\"kind\":"
	    "\"AKSNodeClass\","
	    "\"name\":\"default\"},\"requirements\":[]},"
	    "\"status\":{\"imageID\":\"%s\",\"conditions\":[%s]}}",
	    ts, labels, ann, image, conds);
	memset(nc, 0, sizeof(*nc));
	if (nap_nodeclaim_from_json(nc, o, &err) != 0)
		printf("# claim: %s\n", err.msg);
	json_object_put(o);
}

#define LAUNCHED "{\"type\":\"Launched\",\"status\":\"True\"}"
#define DRIFTED "{\"type\":\"Drifted\",\"status\":\"True\",\"reason\":\"ImageDrift\"}"

static void
node(struct nap_node *n, const char *kubelet)
{
	json_object *o;
	struct nap_err err = {0};

	o = J("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"aks-default-abcde\"}"
	    ","
	    "\"status\":{\"nodeInfo\":{\"kubeletVersion\":\"%s\"}}}",
	    kubelet);
	memset(n, 0, sizeof(*n));
	nap_node_from_json(n, o, &err);
	json_object_put(o);
}

static void
pool_hashes(void)
{
	char a[NAP_DRIFT_HASH_LEN], b[NAP_DRIFT_HASH_LEN];
	const char *taints = ",\"taints\":[{\"key\":\"a\",\"effect\":\"NoSchedule\"},"
			     "{\"key\":\"b\",\"value\":\"1\",\"effect\":\"NoExecute\"}]";

	pool_hash("\"labels\":{\"team\":\"x\"}", taints, "", a);
	TAP_OK(strlen(a) > 0 && strspn(a, "0123456789") == strlen(a),
	    "a pool's hash is a number (%s)", a);
	pool_hash("\"labels\":{\"team\":\"x\"}",
	    ",\"taints\":[{\"effect\":\"NoExecute\",\"value\":\"1\",\"key\":\"b\"},"
	    "{\"key\":\"a\",\"effect\":\"NoSchedule\"}]",
	    "", b);
	TAP_IS_STR(b, a, "taints reordered, keys reordered: the same hash (lists are sets)");
	pool_hash("\"labels\":{\"team\":\"x\"}", taints,
	    "\"disruption\":{\"consolidateAfter\":\"1m\"},\"limits\":{\"cpu\":\"10\"},\"weight\":"
	    "5,",
	    b);
	TAP_IS_STR(b, a, "disruption, limits and weight are not hashed");
	pool_hash(
	    "\"labels\":{\"team\":\"x\"}", ",\"expireAfter\":\"720h\",\"startupTaints\":[]", "", b);
	pool_hash("\"labels\":{\"team\":\"x\"}", "", "", a);
	TAP_IS_STR(b, a, "expireAfter 720h and an empty list written out: the same hash as absent");
	pool_hash("\"labels\":{\"team\":\"y\"}", "", "", b);
	TAP_OK(strcmp(a, b) != 0, "a template label changed: another hash");
	pool_hash("\"labels\":{\"team\":\"x\"},\"annotations\":{\"n\":\"1\"}", "", "", b);
	TAP_OK(strcmp(a, b) != 0, "a template annotation added: another hash");
	pool_hash("\"labels\":{\"team\":\"x\"}", taints, "", b);
	TAP_OK(strcmp(a, b) != 0, "a taint added: another hash");
	pool_hash("\"labels\":{\"team\":\"x\"}",
	    ",\"startupTaints\":[{\"key\":\"s\",\"effect\":\"NoSchedule\"}]", "", b);
	TAP_OK(strcmp(a, b) != 0, "a startup taint added: another hash");
	pool_hash("\"labels\":{\"team\":\"x\"}", ",\"expireAfter\":\"24h\"", "", b);
	TAP_OK(strcmp(a, b) != 0, "expireAfter changed: another hash");
	pool_hash("\"labels\":{\"team\":\"x\"}", ",\"terminationGracePeriod\":\"1h\"", "", b);
	TAP_OK(strcmp(a, b) != 0, "terminationGracePeriod set: another hash");
}

static void
requirements_not_hashed(void)
{
	char a[NAP_DRIFT_HASH_LEN], b[NAP_DRIFT_HASH_LEN];
	struct nap_nodepool np;
	json_object *o = NULL;

	pool(&np, "", "", "");
	nap_nodepool_hash(&np, a);
	/* the same pool with requirements: edit the object as read, re-read it */
	json_object_deep_copy(np.meta.raw, &o, NULL);
	nap_json_set(o, "spec.template.spec.requirements",
	    J("[{\"key\":\"kubernetes.io/arch\",\"operator\":\"In\",\"values\":[\"arm64\"]}]"));
	nap_nodepool_free(&np);
	memset(&np, 0, sizeof(np));
	nap_nodepool_from_json(&np, o, NULL);
	nap_nodepool_hash(&np, b);
	TAP_IS_STR(b, a, "requirements are not hashed (RequirementsDrifted judges them)");
	nap_json_set(o, "spec.template.spec.nodeClassRef.name", json_object_new_string("other"));
	nap_nodepool_free(&np);
	memset(&np, 0, sizeof(np));
	nap_nodepool_from_json(&np, o, NULL);
	nap_nodepool_hash(&np, b);
	TAP_OK(strcmp(a, b) != 0, "nodeClassRef's name changed: another hash");
	nap_nodepool_free(&np);
	json_object_put(o);
}

static void
class_hashes(void)
{
	char a[NAP_DRIFT_HASH_LEN], b[NAP_DRIFT_HASH_LEN];

	class_hash(",\"osDiskSizeGB\":128,\"tags\":{\"team\":\"x\"}", a);
	class_hash(",\"osDiskSizeGB\":128,\"tags\":{\"team\":\"y\"}", b);
	TAP_IS_STR(b, a, "a class's tags are not hashed");
	class_hash(",\"osDiskSizeGB\":256", b);
	TAP_OK(strcmp(a, b) != 0, "osDiskSizeGB changed: another hash");
	class_hash(",\"kubelet\":{\"allowedUnsafeSysctls\":[\"a\",\"b\"]}", a);
	class_hash(",\"kubelet\":{\"allowedUnsafeSysctls\":[\"b\",\"a\"]}", b);
	TAP_IS_STR(b, a, "a list reordered: the same hash");
	class_hash(",\"fipsMode\":\"Disabled\",\"kubelet\":{},\"vnetSubnetID\":\"\"", a);
	class_hash(",\"fipsMode\":\"Disabled\"", b);
	TAP_IS_STR(b, a, "a zero value written out: the same hash");
}

static enum nap_drift
check(const struct nap_nodeclaim *nc, const struct nap_node *n, const struct nap_nodepool *np,
    const struct nap_nodeclass *c, const struct nap_catalog *cat)
{
	struct nap_drift_in in = {nc, n, np, c, cat, NOW, NAP_DRIFT_ITYPE_MIN_AGE_MS};

	return nap_drift_check(&in);
}

/* Annotations stamping claim hashes ph (pool) and ch (class) under versions pv, cv. */
static char *
stamps(const char *ph, const char *pv, const char *ch, const char *cv)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
	    "\"" NAP_ANN_NODEPOOL_HASH "\":\"%s\",\"" NAP_ANN_NODEPOOL_HASH_VERSION "\":\"%s\","
	    "\"" NAP_ANN_NODECLASS_HASH "\":\"%s\",\"" NAP_ANN_NODECLASS_HASH_VERSION "\":\"%s\"",
	    ph, pv, ch, cv);
	return buf;
}

#define D2 ",\"node.kubernetes.io/instance-type\":\"Standard_D2s_v3\""
#define EAST1 ",\"topology.kubernetes.io/zone\":\"eastus-1\""
#define OD ",\"karpenter.sh/capacity-type\":\"on-demand\""

static void
reasons(void)
{
	struct nap_nodepool np, np2;
	struct nap_nodeclass c, c2;
	struct nap_nodeclaim nc;
	struct nap_node n;
	char ph[NAP_DRIFT_HASH_LEN], ch[NAP_DRIFT_HASH_LEN];
	const char *V = NAP_NODEPOOL_HASH_VERSION;

	pool(&np, "\"labels\":{\"team\":\"x\"}", "", "");
	nap_nodepool_hash(&np, ph);
	klass(&c, "");
	nap_nodeclass_hash(&c, ch);
	node(&n, "v1.33.2");

	claim(&nc, D2 EAST1 OD, stamps(ph, V, ch, V), LAUNCHED, IMG, NOW - 2 * HOUR);
	TAP_IS_INT(check(&nc, &n, &np, &c, NULL), NAP_DRIFT_NONE,
	    "stamped with the pool's and the class's hashes, on the listed image: not drifted");

	/* the pool's template changes: NodePoolDrifted, first of all */
	pool(&np2, "\"labels\":{\"team\":\"y\"}",
	    ",\"requirements\":[{\"key\":\"node.kubernetes.io/instance-type\",\"operator\":\"In\","
	    "\"values\":[\"Standard_D4s_v3\"]}]",
	    "");
	klass(&c2, ",\"osDiskSizeGB\":256");
	TAP_IS_INT(check(&nc, &n, &np2, &c2, NULL), NAP_DRIFT_NODEPOOL,
	    "a template label changed: NodePoolDrifted, before any other reason");
	TAP_IS_STR(
	    nap_drift_reason(NAP_DRIFT_NODEPOOL), "NodePoolDrifted", "named as Karpenter does");
	nap_nodepool_free(&np2);

	/* requirements */
	pool(&np2, "\"labels\":{\"team\":\"x\"}",
	    ",\"requirements\":[{\"key\":\"node.kubernetes.io/instance-type\",\"operator\":\"In\","
	    "\"values\":[\"Standard_D4s_v3\"]}]",
	    "");
	TAP_IS_INT(check(&nc, &n, &np2, &c2, NULL), NAP_DRIFT_REQUIREMENTS,
	    "its size no longer allowed by the requirements: RequirementsDrifted, before the "
	    "class");
	TAP_IS_STR(nap_drift_reason(NAP_DRIFT_REQUIREMENTS), "RequirementsDrifted",
	    "named as Karpenter does");
	nap_nodepool_free(&np2);
	pool(&np2, "\"labels\":{\"team\":\"x\"}",
	    ",\"requirements\":[{\"key\":\"node.kubernetes.io/instance-type\",\"operator\":\"In\","
	    "\"values\":[\"Standard_D2s_v3\",\"Standard_D4s_v3\"]},"
	    "{\"key\":\"kubernetes.io/arch\",\"operator\":\"In\",\"values\":[\"amd64\"]}]",
	    "");
	TAP_IS_INT(check(&nc, &n, &np2, &c, NULL), NAP_DRIFT_NONE,
	    "requirements it still satisfies (an undefined well-known label is allowed): not "
	    "drifted");
	nap_nodepool_free(&np2);
	pool(&np2, "\"labels\":{\"team\":\"x\"}",
	    ",\"requirements\":[{\"key\":\"example.com/tier\",\"operator\":\"In\","
	    "\"values\":[\"gold\"]}]",
	    "");
	TAP_IS_INT(check(&nc, &n, &np2, &c, NULL), NAP_DRIFT_REQUIREMENTS,
	    "a custom label it does not have: RequirementsDrifted");
	nap_nodepool_free(&np2);

	/* the class */
	TAP_IS_INT(check(&nc, &n, &np, &c2, NULL), NAP_DRIFT_NODECLASS,
	    "the class's spec changed: NodeClassDrift");
	TAP_IS_INT(check(&nc, &n, NULL, &c2, NULL), NAP_DRIFT_NODECLASS,
	    "without its pool the class is still checked");
	TAP_IS_INT(check(&nc, &n, &np, NULL, NULL), NAP_DRIFT_NONE,
	    "without its class only the pool is checked");
	nap_node_free(&n);
	node(&n, "v1.32.9");
	TAP_IS_INT(check(&nc, &n, &np, &c2, NULL), NAP_DRIFT_NODECLASS,
	    "NodeClassDrift comes before K8sVersionDrift");
	TAP_IS_INT(check(&nc, &n, &np, &c, NULL), NAP_DRIFT_K8S_VERSION,
	    "an older kubelet: K8sVersionDrift");
	nap_node_free(&n);
	node(&n, "v1.33.2");
	nap_nodeclaim_free(&nc);

	claim(&nc, D2 EAST1 OD, stamps(ph, V, ch, V), LAUNCHED,
	    CIG "2204gen2containerd/versions/1.0", NOW - 2 * HOUR);
	TAP_IS_INT(check(&nc, &n, &np, &c, NULL), NAP_DRIFT_IMAGE,
	    "an image no longer listed: ImageDrift");
	TAP_IS_INT(check(&nc, NULL, &np, &c, NULL), NAP_DRIFT_IMAGE,
	    "without a Node the version is not checked");
	nap_nodeclaim_free(&nc);

	/* a change of hash version drifts nothing */
	claim(&nc, D2 EAST1 OD, stamps("111", "v3", "222", "v3"), LAUNCHED, IMG, NOW - 2 * HOUR);
	TAP_IS_INT(check(&nc, &n, &np, &c, NULL), NAP_DRIFT_NONE,
	    "hashes stamped under Karpenter's version (v3): neither pool nor class drift");
	pool(&np2, "\"labels\":{\"team\":\"y\"}", "", "");
	TAP_IS_INT(check(&nc, &n, &np2, &c2, NULL), NAP_DRIFT_NONE,
	    "not even when pool and class changed since");
	nap_nodepool_free(&np2);
	nap_nodeclaim_free(&nc);
	claim(&nc, D2 EAST1 OD, "", LAUNCHED, IMG, NOW - 2 * HOUR);
	TAP_IS_INT(
	    check(&nc, &n, &np, &c2, NULL), NAP_DRIFT_NONE, "no hashes at all: no hash drift");
	nap_nodeclaim_free(&nc);

	/* not launched, deleting */
	claim(&nc, D2 EAST1 OD, stamps("1", V, "2", V), "", "", NOW - 2 * HOUR);
	TAP_IS_INT(check(&nc, &n, &np, &c, NULL), NAP_DRIFT_NONE, "not launched (no condition, no imageID): not drifted");
	nap_nodeclaim_free(&nc);
	claim(&nc, D2 EAST1 OD, stamps("1", V, "2", V),
	    "{\"type\":\"Initialized\",\"status\":\"True\"}", IMG, NOW - 2 * HOUR);
	TAP_IS_INT(
	    check(&nc, &n, &np, &c, NULL), NAP_DRIFT_NODEPOOL, "Initialized (so launched): judged");
	nc.meta.deleted = NOW / 1000;
	TAP_IS_INT(check(&nc, &n, &np, &c, NULL), NAP_DRIFT_NONE, "deleting: not drifted");
	nap_nodeclaim_free(&nc);

	nap_nodepool_free(&np);
	nap_nodeclass_free(&c);
	nap_nodeclass_free(&c2);
	nap_node_free(&n);
}

static void
instance_type(void)
{
	struct nap_catalog *cat = NULL;
	struct nap_err err = {0};
	struct nap_nodepool np;
	struct nap_nodeclass c;
	struct nap_nodeclaim nc;
	char ph[NAP_DRIFT_HASH_LEN], ch[NAP_DRIFT_HASH_LEN], an[512];
	const char *V = NAP_NODEPOOL_HASH_VERSION;

	if (nap_catalog_load(&cat, NULL, "eastus", NULL, &err) < 0) {
		TAP_OK(0, "the catalog loads: %s", err.msg);
		return;
	}
	pool(&np, "", "", "");
	nap_nodepool_hash(&np, ph);
	klass(&c, "");
	nap_nodeclass_hash(&c, ch);
	snprintf(an, sizeof(an), "%s", stamps(ph, V, ch, V));

	claim(&nc, D2 EAST1 OD, an, LAUNCHED, IMG, NOW - 2 * HOUR);
	TAP_IS_INT(
	    check(&nc, NULL, &np, &c, cat), NAP_DRIFT_NONE, "a size offered in its zone: fine");
	nap_nodeclaim_free(&nc);
	claim(&nc, D2 EAST1 ",\"karpenter.sh/capacity-type\":\"reserved\"", an, LAUNCHED, IMG,
	    NOW - 2 * HOUR);
	TAP_IS_INT(check(&nc, NULL, &np, &c, cat), NAP_DRIFT_NONE,
	    "reserved falls back to on-demand: fine");
	nap_nodeclaim_free(&nc);
	claim(&nc, ",\"node.kubernetes.io/instance-type\":\"Standard_Gone_v9\"" EAST1 OD, an,
	    LAUNCHED, IMG, NOW - 2 * HOUR);
	TAP_IS_INT(check(&nc, NULL, &np, &c, cat), NAP_DRIFT_INSTANCE_TYPE,
	    "a size the catalog no longer has: InstanceTypeNotFound");
	TAP_IS_STR(nap_drift_reason(NAP_DRIFT_INSTANCE_TYPE), "InstanceTypeNotFound",
	    "named as Karpenter does");
	TAP_IS_INT(
	    check(&nc, NULL, &np, &c, NULL), NAP_DRIFT_NONE, "without a catalog: not checked");
	nap_nodeclaim_free(&nc);
	claim(&nc, ",\"node.kubernetes.io/instance-type\":\"Standard_Gone_v9\"" EAST1 OD, an,
	    LAUNCHED, IMG, NOW - HOUR / 2);
	TAP_IS_INT(
	    check(&nc, NULL, &np, &c, cat), NAP_DRIFT_NONE, "younger than an hour: not judged yet");
	nap_nodeclaim_free(&nc);
	claim(&nc, D2 ",\"topology.kubernetes.io/zone\":\"eastus-9\"" OD, an, LAUNCHED, IMG,
	    NOW - 2 * HOUR);
	TAP_IS_INT(check(&nc, NULL, &np, &c, cat), NAP_DRIFT_INSTANCE_TYPE,
	    "no offering in its zone: InstanceTypeNotFound");
	nap_nodeclaim_free(&nc);
	claim(&nc, "", an, LAUNCHED, IMG, NOW - 2 * HOUR);
	TAP_IS_INT(check(&nc, NULL, &np, &c, cat), NAP_DRIFT_NONE, "no size label: not judged");
	nap_nodeclaim_free(&nc);
	nap_nodepool_free(&np);
	nap_nodeclass_free(&c);
	nap_catalog_free(cat);
}

/* A key's string in object o (keys with dots are not paths), or NULL. */
static const char *
key(json_object *o, const char *k)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static void
restamp(void)
{
	struct nap_nodepool np;
	struct nap_nodeclass c;
	struct nap_nodeclaim nc;
	char ph[NAP_DRIFT_HASH_LEN], ch[NAP_DRIFT_HASH_LEN];
	json_object *a;

	pool(&np, "", "", "");
	nap_nodepool_hash(&np, ph);
	klass(&c, "");
	nap_nodeclass_hash(&c, ch);

	claim(&nc, "", stamps("111", "v3", "222", "v3"), LAUNCHED, IMG, NOW);
	a = nap_drift_restamp(&nc, &np, &c);
	TAP_IS_STR(key(a, NAP_ANN_NODEPOOL_HASH_VERSION), NAP_NODEPOOL_HASH_VERSION,
	    "another hash version: re-stamped with nap's");
	TAP_IS_STR(key(a, NAP_ANN_NODEPOOL_HASH), ph, "and the pool's hash");
	TAP_IS_STR(key(a, NAP_ANN_NODECLASS_HASH), ch, "and the class's hash");
	json_object_put(a);
	nap_nodeclaim_free(&nc);

	claim(&nc, "", stamps("111", "v3", "222", "v3"), LAUNCHED "," DRIFTED, IMG, NOW);
	a = nap_drift_restamp(&nc, &np, &c);
	TAP_IS_STR(key(a, NAP_ANN_NODECLASS_HASH_VERSION), NAP_NODECLASS_HASH_VERSION,
	    "a drifted claim gets the version");
	TAP_OK(key(a, NAP_ANN_NODEPOOL_HASH) == NULL && key(a, NAP_ANN_NODECLASS_HASH) == NULL,
	    "but keeps its old hashes (it stays drifted)");
	json_object_put(a);
	nap_nodeclaim_free(&nc);

	claim(&nc, "", stamps("1", NAP_NODEPOOL_HASH_VERSION, "2", NAP_NODECLASS_HASH_VERSION),
	    LAUNCHED, IMG, NOW);
	TAP_OK(nap_drift_restamp(&nc, &np, &c) == NULL,
	    "stamped under nap's versions: nothing to write");
	nap_nodeclaim_free(&nc);
	nap_nodepool_free(&np);
	nap_nodeclass_free(&c);
}

static void
claim_stamped(void)
{
	struct nap_nodepool np;
	struct nap_res req;
	json_object *o, *ann;
	char h[NAP_DRIFT_HASH_LEN];

	pool(&np, "\"labels\":{\"team\":\"x\"}", "", "");
	nap_nodepool_hash(&np, h);
	memset(&req, 0, sizeof(req));
	o = nap_claim_object(&np, "default-x1y2z", NULL, NULL, &req);
	ann = nap_json_get(o, "metadata.annotations");
	TAP_IS_STR(key(ann, NAP_ANN_NODEPOOL_HASH), h, "a new NodeClaim carries its pool's hash");
	TAP_IS_STR(key(ann, NAP_ANN_NODEPOOL_HASH_VERSION), NAP_NODEPOOL_HASH_VERSION,
	    "under nap's hash version");
	json_object_put(o);
	nap_nodepool_free(&np);
}

static void
names(void)
{
	TAP_IS_STR(nap_drift_reason(NAP_DRIFT_NODECLASS), "NodeClassDrift", "the provider's names");
	TAP_IS_STR(nap_drift_reason(NAP_DRIFT_K8S_VERSION), "K8sVersionDrift", "K8sVersionDrift");
	TAP_IS_STR(nap_drift_reason(NAP_DRIFT_IMAGE), "ImageDrift", "ImageDrift");
	TAP_IS_STR(nap_drift_reason(NAP_DRIFT_NONE), "", "none: empty");
	TAP_OK(nap_drift_reason_known("RequirementsDrifted") && !nap_drift_reason_known("Other") &&
		!nap_drift_reason_known(""),
	    "known reasons are nap's six");
}

int
main(void)
{
	pool_hashes();
	requirements_not_hashed();
	class_hashes();
	reasons();
	instance_type();
	restamp();
	claim_stamped();
	names();
	return tap_done();
}
