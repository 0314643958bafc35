/*
 * t-labels.c - requirement algebra with Karpenter's semantics, well-known and
 * restricted labels, minValues, JSON round trips and pod label selectors.
 */
#include <string.h>

#include "tap.h"
#include "labels.h"

#define ZONE "topology.kubernetes.io/zone"

static void
add(struct nap_reqs *r, const char *key, enum nap_op op, const char *v1, const char *v2)
{
	const char *vals[2];
	size_t n = 0;

	if (v1)
		vals[n++] = v1;
	if (v2)
		vals[n++] = v2;
	if (nap_reqs_add(r, key, op, vals, n, 0, NULL) < 0)
		printf("# add %s failed\n", key);
}

static char fmtbuf[512];

static const char *
fmt_key(const struct nap_reqs *r, const char *key)
{
	const struct nap_req *q = nap_reqs_get(r, key);

	if (q == NULL)
		return "(none)";
	nap_req_fmt(q, fmtbuf, sizeof(fmtbuf));
	return fmtbuf;
}

static void
test_operators(void)
{
	static const char *const names[] = {
	    "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte"};
	struct nap_reqs r;
	const struct nap_req *q;
	enum nap_op op;
	size_t i;
	int ok = 1;

	for (i = 0; i < NAP_ARRAY_LEN(names); i++)
		ok &= nap_op_parse(names[i], &op) == 0 && op == (enum nap_op)i &&
		    strcmp(nap_op_name(op), names[i]) == 0;
	TAP_OK(ok, "every operator name parses to its enum and prints back");
	TAP_OK(nap_op_parse("in", &op) == -1 && nap_op_parse("Inn", &op) == -1,
	    "operator names are case-sensitive and unknown ones are rejected");

	nap_reqs_init(&r);
	add(&r, "in", NAP_OP_IN, "b", "a");
	add(&r, "notin", NAP_OP_NOTIN, "a", NULL);
	add(&r, "exists", NAP_OP_EXISTS, NULL, NULL);
	add(&r, "dne", NAP_OP_DOESNOTEXIST, NULL, NULL);
	add(&r, "gt", NAP_OP_GT, "3", NULL);
	add(&r, "lt", NAP_OP_LT, "3", NULL);
	add(&r, "gte", NAP_OP_GTE, "3", NULL);
	add(&r, "lte", NAP_OP_LTE, "3", NULL);
	add(&r, "inempty", NAP_OP_IN, NULL, NULL);

	q = nap_reqs_get(&r, "in");
	TAP_OK(q && nap_req_allows(q, "a") && nap_req_allows(q, "b") && !nap_req_allows(q, "c"),
	    "In allows exactly its values");
	TAP_OK(q && q->nvalues == 2 && strcmp(q->values[0], "a") == 0, "In values are kept sorted");
	q = nap_reqs_get(&r, "notin");
	TAP_OK(q && !nap_req_allows(q, "a") && nap_req_allows(q, "b"),
	    "NotIn allows everything but its values");
	q = nap_reqs_get(&r, "exists");
	TAP_OK(q && nap_req_allows(q, "anything") && nap_req_op(q) == NAP_OP_EXISTS,
	    "Exists allows any value");
	q = nap_reqs_get(&r, "dne");
	TAP_OK(q && !nap_req_allows(q, "a") && nap_req_op(q) == NAP_OP_DOESNOTEXIST,
	    "DoesNotExist allows no value");
	q = nap_reqs_get(&r, "gt");
	TAP_OK(q && nap_req_allows(q, "4") && !nap_req_allows(q, "3") && !nap_req_allows(q, "x"),
	    "Gt 3 allows 4 but not 3 nor a non-integer");
	TAP_OK(q && nap_req_allows(q, "+5") && !nap_req_allows(q, " 5") &&
		!nap_req_allows(q, "5 ") && !nap_req_allows(q, "") && !nap_req_allows(q, "0x10") &&
		!nap_req_allows(q, "99999999999999999999"),
	    "bounds read values as Go's Atoi does: sign allowed, no spaces, no hex, no overflow");
	q = nap_reqs_get(&r, "lt");
	TAP_OK(q && nap_req_allows(q, "2") && !nap_req_allows(q, "3") && nap_req_allows(q, "-5"),
	    "Lt 3 allows 2 and -5 but not 3");
	q = nap_reqs_get(&r, "gte");
	TAP_OK(q && nap_req_allows(q, "3") && !nap_req_allows(q, "2") && q->gt == 2,
	    "Gte 3 allows 3 and is stored as the exclusive bound gt 2");
	q = nap_reqs_get(&r, "lte");
	TAP_OK(q && nap_req_allows(q, "3") && !nap_req_allows(q, "4") && q->lt == 4,
	    "Lte 3 allows 3 and is stored as the exclusive bound lt 4");
	q = nap_reqs_get(&r, "inempty");
	TAP_OK(q && nap_req_op(q) == NAP_OP_DOESNOTEXIST, "In with no values becomes DoesNotExist");
	TAP_OK(nap_reqs_add(&r, "bad", NAP_OP_GT, NULL, 0, 0, NULL) == -1,
	    "Gt without a value is rejected");
	nap_reqs_free(&r);
}

struct icase {
	enum nap_op op1;
	const char *a1, *b1;
	enum nap_op op2;
	const char *a2, *b2;
	const char *want;
	const char *name;
};

static void
test_intersections(void)
{
	static const struct icase cases[] = {
	    {NAP_OP_IN, "a", "b", NAP_OP_NOTIN, "a", NULL, "k In [b]",
		"In ∩ NotIn removes the excluded values"},
	    {NAP_OP_IN, "a", NULL, NAP_OP_NOTIN, "a", NULL, "k DoesNotExist",
		"In ∩ NotIn of the same value is empty"},
	    {NAP_OP_IN, "a", "b", NAP_OP_IN, "b", "c", "k In [b]",
		"In ∩ In keeps the common values"},
	    {NAP_OP_NOTIN, "a", NULL, NAP_OP_NOTIN, "b", NULL, "k NotIn [a b]",
		"NotIn ∩ NotIn excludes both sets"},
	    {NAP_OP_EXISTS, NULL, NULL, NAP_OP_DOESNOTEXIST, NULL, NULL, "k DoesNotExist",
		"Exists ∩ DoesNotExist is empty"},
	    {NAP_OP_EXISTS, NULL, NULL, NAP_OP_IN, "a", NULL, "k In [a]",
		"Exists ∩ In is the In (Exists does not overwrite a value)"},
	    {NAP_OP_GT, "5", NULL, NAP_OP_LT, "3", NULL, "k DoesNotExist", "Gt 5 ∩ Lt 3 is empty"},
	    {NAP_OP_GT, "3", NULL, NAP_OP_LT, "3", NULL, "k DoesNotExist",
		"Gt 3 ∩ Lt 3 is empty: equal bounds are Karpenter's boundary for DoesNotExist"},
	    {NAP_OP_GT, "3", NULL, NAP_OP_LT, "4", NULL, "k Exists >3 <4",
		"Gt 3 ∩ Lt 4 keeps both bounds, as Karpenter does, though no integer fits"},
	    {NAP_OP_GT, "1", NULL, NAP_OP_LT, "9", NULL, "k Exists >1 <9",
		"Gt 1 ∩ Lt 9 keeps both bounds"},
	    {NAP_OP_GT, "1", NULL, NAP_OP_GT, "5", NULL, "k Exists >5",
		"Gt ∩ Gt keeps the larger bound"},
	    {NAP_OP_LT, "4", NULL, NAP_OP_LT, "9", NULL, "k Exists <4",
		"Lt ∩ Lt keeps the smaller bound"},
	    {NAP_OP_GTE, "4", NULL, NAP_OP_LTE, "4", NULL, "k Exists >3 <5",
		"Gte 4 ∩ Lte 4 pins the value 4"},
	    {NAP_OP_GT, "1", NULL, NAP_OP_IN, "0", "5", "k In [5]",
		"Gt ∩ In filters the values and drops the bound"},
	    {NAP_OP_GT, "1", NULL, NAP_OP_IN, "x", NULL, "k DoesNotExist",
		"Gt ∩ In of a non-integer is empty"},
	    {NAP_OP_NOTIN, "2", NULL, NAP_OP_GT, "1", NULL, "k NotIn [2] >1",
		"NotIn ∩ Gt keeps the exclusion and the bound"},
	    {NAP_OP_DOESNOTEXIST, NULL, NULL, NAP_OP_NOTIN, "a", NULL, "k DoesNotExist",
		"DoesNotExist ∩ NotIn stays DoesNotExist"},
	    {NAP_OP_EXISTS, NULL, NULL, NAP_OP_EXISTS, NULL, NULL, "k Exists",
		"Exists ∩ Exists is Exists"},
	    {NAP_OP_LTE, "3", NULL, NAP_OP_IN, "3", "4", "k In [3]",
		"Lte ∩ In keeps the boundary value"},
	};
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(cases); i++) {
		const struct icase *c = &cases[i];
		struct nap_reqs r;

		nap_reqs_init(&r);
		add(&r, "k", c->op1, c->a1, c->b1);
		add(&r, "k", c->op2, c->a2, c->b2);
		TAP_IS_STR(fmt_key(&r, "k"), c->want, "%s", c->name);
		TAP_OK(r.n == 1, "%s (one entry per key)", c->name);
		nap_reqs_free(&r);
	}
}

/*
 * Karpenter's compatibility table for a well-known key (zone): row = the
 * node side, column = the pod side, in the order below; 1 = compatible.
 */
static const char *const cnames[] = {
    "unconstrained",
    "exists",
    "doesNotExist",
    "inA",
    "inB",
    "inAB",
    "notInA",
    "in1",
    "in9",
    "in19",
    "notIn12",
    "greaterThan1",
    "greaterThan9",
    "lessThan1",
    "lessThan9",
};
static const char *const matrix[] = {
    "111111111111111",
    "110111111111111",
    "101000100010000",
    "110101000010000",
    "110011100010000",
    "110111100010000",
    "111011111111111",
    "110000110100001",
    "110000101111000",
    "110000111111001",
    "111111101111111",
    "110000101111101",
    "110000100011100",
    "110000100010011",
    "110000110111011",
};
/* Without the well-known allowance only the unconstrained row changes. */
static const char *const strict_unconstrained = "101000100010000";

static void
make_case(struct nap_reqs *r, size_t i)
{
	nap_reqs_init(r);
	switch (i) {
	case 0:
		break;
	case 1:
		add(r, ZONE, NAP_OP_EXISTS, NULL, NULL);
		break;
	case 2:
		add(r, ZONE, NAP_OP_DOESNOTEXIST, NULL, NULL);
		break;
	case 3:
		add(r, ZONE, NAP_OP_IN, "A", NULL);
		break;
	case 4:
		add(r, ZONE, NAP_OP_IN, "B", NULL);
		break;
	case 5:
		add(r, ZONE, NAP_OP_IN, "A", "B");
		break;
	case 6:
		add(r, ZONE, NAP_OP_NOTIN, "A", NULL);
		break;
	case 7:
		add(r, ZONE, NAP_OP_IN, "1", NULL);
		break;
	case 8:
		add(r, ZONE, NAP_OP_IN, "9", NULL);
		break;
	case 9:
		add(r, ZONE, NAP_OP_IN, "1", "9");
		break;
	case 10:
		add(r, ZONE, NAP_OP_NOTIN, "1", "2");
		break;
	case 11:
		add(r, ZONE, NAP_OP_GT, "1", NULL);
		break;
	case 12:
		add(r, ZONE, NAP_OP_GT, "9", NULL);
		break;
	case 13:
		add(r, ZONE, NAP_OP_LT, "1", NULL);
		break;
	default:
		add(r, ZONE, NAP_OP_LT, "9", NULL);
		break;
	}
}

static void
test_compatible_matrix(void)
{
	struct nap_reqs c[15];
	char why[512];
	size_t i, j;

	for (i = 0; i < 15; i++)
		make_case(&c[i], i);
	for (i = 0; i < 15; i++) {
		int ok = 1;

		for (j = 0; j < 15; j++) {
			int want = matrix[i][j] == '1';
			int got = nap_reqs_compatible(
			    &c[i], &c[j], NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, why, sizeof(why));
			int fast = nap_reqs_compatible(
			    &c[i], &c[j], NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, NULL, 0);

			if (got != want || fast != want || (got && why[0] != '\0')) {
				printf("# node %s, pod %s: got %d (fast %d), want %d: %s\n",
				    cnames[i], cnames[j], got, fast, want, why);
				ok = 0;
			}
		}
		TAP_OK(ok, "a node with zone %s is compatible with exactly Karpenter's pods",
		    cnames[i]);
	}
	for (i = 0; i < 15; i++) {
		int ok = 1;

		for (j = 0; j < 15; j++) {
			int want = (i == 0 ? strict_unconstrained : matrix[i])[j] == '1';

			if (nap_reqs_compatible(&c[i], &c[j], 0, NULL, 0) != want) {
				printf("# strict node %s, pod %s: want %d\n", cnames[i], cnames[j],
				    want);
				ok = 0;
			}
		}
		TAP_OK(ok,
		    "strictly (no undefined keys allowed), a node with zone %s matches Karpenter",
		    cnames[i]);
	}
	for (i = 0; i < 15; i++)
		nap_reqs_free(&c[i]);
}

static void
test_undefined_keys(void)
{
	static const struct {
		enum nap_op op;
		const char *v;
		int want;
		const char *name;
	} custom[] = {
	    {NAP_OP_IN, "x", 0, "a custom key the pool does not define fails In"},
	    {NAP_OP_NOTIN, "x", 1, "a custom key the pool does not define passes NotIn"},
	    {NAP_OP_EXISTS, NULL, 0, "a custom key the pool does not define fails Exists"},
	    {NAP_OP_DOESNOTEXIST, NULL, 1,
		"a custom key the pool does not define passes DoesNotExist"},
	};
	struct nap_reqs node, pod;
	char why[512];
	size_t i;

	nap_reqs_init(&node);
	add(&node, "kubernetes.io/arch", NAP_OP_IN, "amd64", NULL);
	for (i = 0; i < NAP_ARRAY_LEN(custom); i++) {
		nap_reqs_init(&pod);
		add(&pod, "example.com/team", custom[i].op, custom[i].v, NULL);
		TAP_IS_INT(nap_reqs_compatible(
			       &node, &pod, NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, why, sizeof(why)),
		    custom[i].want, "%s", custom[i].name);
		nap_reqs_free(&pod);
	}
	nap_reqs_init(&pod);
	add(&pod, "karpenter.azure.com/sku-family", NAP_OP_IN, "D", NULL);
	TAP_OK(nap_reqs_compatible(&node, &pod, NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, NULL, 0),
	    "an undefined well-known Azure sku label is allowed");
	TAP_OK(!nap_reqs_compatible(&node, &pod, 0, NULL, 0),
	    "without the flag even a well-known key must be defined");
	nap_reqs_free(&pod);

	nap_reqs_init(&pod);
	add(&pod, "example.com/team", NAP_OP_EXISTS, NULL, NULL);
	add(&node, "example.com/team", NAP_OP_IN, "a", NULL);
	TAP_OK(nap_reqs_compatible(&node, &pod, 0, NULL, 0), "a defined key passes Exists");
	nap_reqs_free(&pod);
	nap_reqs_init(&pod);
	add(&pod, "example.com/team", NAP_OP_DOESNOTEXIST, NULL, NULL);
	TAP_OK(!nap_reqs_compatible(&node, &pod, 0, NULL, 0), "a defined key fails DoesNotExist");
	nap_reqs_free(&pod);
	nap_reqs_init(&pod);
	add(&pod, "example.com/team", NAP_OP_NOTIN, "a", NULL);
	TAP_OK(!nap_reqs_compatible(&node, &pod, 0, NULL, 0),
	    "a defined key fails NotIn of its only value");
	nap_reqs_free(&pod);
	nap_reqs_free(&node);
}

struct hcase {
	const char *key;
	unsigned flags;
	const char *want;
};

static void
test_messages(void)
{
	static const struct hcase hints[] = {
	    {"zone", 1,
		"label \"zone\" does not have known values (typo of "
		"\"topology.kubernetes.io/zone\"?)"},
	    {"region", 1,
		"label \"region\" does not have known values (typo of "
		"\"topology.kubernetes.io/region\"?)"},
	    {"nodepool", 1,
		"label \"nodepool\" does not have known values (typo of "
		"\"karpenter.sh/nodepool\"?)"},
	    {"instance-type", 1,
		"label \"instance-type\" does not have known values (typo of "
		"\"node.kubernetes.io/instance-type\"?)"},
	    {"arch", 1,
		"label \"arch\" does not have known values (typo of \"kubernetes.io/arch\"?)"},
	    {"capacity-type", 1,
		"label \"capacity-type\" does not have known values (typo of "
		"\"karpenter.sh/capacity-type\"?)"},
	    {"topology.kubernetesio/zone", 1,
		"label \"topology.kubernetesio/zone\" does not have known values (typo of "
		"\"topology.kubernetes.io/zone\"?)"},
	    {"node.io/zone", 1,
		"label \"node.io/zone\" does not have known values (typo of "
		"\"topology.kubernetes.io/zone\"?)"},
	    {"topology.kubernetes.io/regio", 1,
		"label \"topology.kubernetes.io/regio\" does not have known values (typo of "
		"\"topology.kubernetes.io/region\"?)"},
	    {"karpenter/nodepool", 1,
		"label \"karpenter/nodepool\" does not have known values (typo of "
		"\"karpenter.sh/nodepool\"?)"},
	    {"deployment", 0, "label \"deployment\" does not have known values"},
	};
	struct nap_reqs node, pod;
	char why[512];
	size_t i;

	nap_reqs_init(&node);
	for (i = 0; i < NAP_ARRAY_LEN(hints); i++) {
		char want[512];

		nap_reqs_init(&pod);
		add(&pod, hints[i].key, NAP_OP_EXISTS, NULL, NULL);
		nap_reqs_compatible(&node, &pod, hints[i].flags, why, sizeof(why));
		snprintf(want, sizeof(want), "incompatible requirements, %s", hints[i].want);
		TAP_IS_STR(why, want, "an undefined key \"%s\" is reported%s", hints[i].key,
		    strstr(hints[i].want, "typo") ? " with a typo hint" : " without a hint");
		nap_reqs_free(&pod);
	}

	nap_reqs_init(&pod);
	add(&node, "karpenter.sh/capacity-type", NAP_OP_IN, "on-demand", NULL);
	add(&pod, "karpenter.sh/capacity-type", NAP_OP_IN, "spot", NULL);
	nap_reqs_compatible(&node, &pod, NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, why, sizeof(why));
	TAP_IS_STR(why,
	    "incompatible requirements, key karpenter.sh/capacity-type, karpenter.sh/capacity-type "
	    "In [spot] not in karpenter.sh/capacity-type In [on-demand]",
	    "conflicting values are reported the way Karpenter words them");
	TAP_OK(!nap_reqs_intersects(&node, &pod, why, sizeof(why)) &&
		strncmp(why, "key karpenter.sh/capacity-type, ", 32) == 0,
	    "intersects reports the key without the compatibility prefix");
	add(&pod, "example.com/x", NAP_OP_IN, "1", NULL);
	nap_reqs_compatible(&node, &pod, NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, why, sizeof(why));
	TAP_IS_STR(why,
	    "incompatible requirements, label \"example.com/x\" does not have known values; "
	    "key karpenter.sh/capacity-type, karpenter.sh/capacity-type In [spot] not in "
	    "karpenter.sh/capacity-type In [on-demand]",
	    "several reasons are joined with semicolons");
	nap_reqs_compatible(&node, &pod, NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN, why, 20);
	TAP_OK(strlen(why) == 19, "a short why buffer is filled and terminated, not overrun");
	nap_reqs_free(&pod);
	nap_reqs_free(&node);
}

static void
test_format_and_any(void)
{
	static const char *const many[] = {"g", "f", "e", "d", "c", "b", "a"};
	struct nap_reqs r;
	const struct nap_req *q;
	char buf[64];

	nap_reqs_init(&r);
	nap_reqs_add(&r, "k", NAP_OP_IN, many, 7, 2, NULL);
	TAP_IS_STR(fmt_key(&r, "k"), "k In [a b c d e and 2 others] minValues 2",
	    "more than five values are abbreviated as Karpenter does");
	add(&r, "b", NAP_OP_GT, "3", NULL);
	q = nap_reqs_get(&r, "b");
	TAP_OK(nap_req_any(q, buf, sizeof(buf)) == 1 && strcmp(buf, "4") == 0,
	    "any() of Gt 3 is the smallest integer above the bound");
	add(&r, "n", NAP_OP_NOTIN, "0", "1");
	q = nap_reqs_get(&r, "n");
	TAP_OK(nap_req_any(q, buf, sizeof(buf)) == 1 && strcmp(buf, "2") == 0,
	    "any() of NotIn [0 1] skips the excluded values");
	q = nap_reqs_get(&r, "k");
	TAP_OK(nap_req_any(q, buf, sizeof(buf)) == 1 && strcmp(buf, "a") == 0,
	    "any() of In is its first value");
	add(&r, "d", NAP_OP_DOESNOTEXIST, NULL, NULL);
	TAP_OK(nap_req_any(nap_reqs_get(&r, "d"), buf, sizeof(buf)) == 0,
	    "any() of DoesNotExist gives nothing");
	add(&r, "full", NAP_OP_GT, "1", NULL);
	add(&r, "full", NAP_OP_LT, "3", NULL);
	add(&r, "full", NAP_OP_NOTIN, "2", NULL);
	TAP_OK(nap_req_any(nap_reqs_get(&r, "full"), buf, sizeof(buf)) == 0,
	    "any() of a range whose only integer is excluded gives nothing");
	nap_reqs_free(&r);
}

static void
test_sets(void)
{
	struct nap_reqs a, b, c;

	nap_reqs_init(&a);
	nap_reqs_init(&b);
	nap_reqs_init(&c);
	add(&a, "failure-domain.beta.kubernetes.io/zone", NAP_OP_IN, "eastus-1", NULL);
	TAP_OK(nap_reqs_get(&a, ZONE) != NULL && a.n == 1 && strcmp(a.v[0].key, ZONE) == 0,
	    "an aliased zone key is stored under topology.kubernetes.io/zone");
	TAP_OK(nap_reqs_get(&a, "failure-domain.beta.kubernetes.io/zone") != NULL,
	    "looking up by the alias finds the normalised key");
	add(&a, "b", NAP_OP_IN, "1", NULL);
	add(&a, "a", NAP_OP_IN, "1", NULL);
	TAP_OK(a.n == 3 && strcmp(a.v[0].key, "a") == 0 && strcmp(a.v[1].key, "b") == 0,
	    "requirements are kept sorted by key");
	nap_reqs_copy(&c, &a);
	nap_reqs_del(&a, "a");
	TAP_OK(a.n == 2 && c.n == 3 && nap_reqs_get(&c, "a") != NULL,
	    "a copy is deep: deleting from the original leaves it intact");
	add(&b, ZONE, NAP_OP_IN, "eastus-1", "eastus-2");
	add(&b, "z", NAP_OP_EXISTS, NULL, NULL);
	TAP_OK(nap_reqs_intersects(&a, &b, NULL, 0), "sets with overlapping zones intersect");
	nap_reqs_intersect(&b, &a);
	TAP_IS_STR(
	    fmt_key(&b, ZONE), ZONE " In [eastus-1]", "set intersection narrows shared keys");
	TAP_OK(b.n == 3 && nap_reqs_get(&b, "z") && nap_reqs_get(&b, "b"),
	    "set intersection keeps keys from both sides");
	nap_reqs_free(&a);
	nap_reqs_free(&b);
	nap_reqs_free(&c);
}

static json_object *
parse(const char *s)
{
	return json_tokener_parse(s);
}

struct ecase {
	const char *json;
	const char *want;
};

static void
test_json(void)
{
	static const struct ecase errs[] = {
	    {"[{\"key\":\"kubernetes.io/arch\",\"operator\":\"Inn\",\"values\":[\"amd64\"]}]",
		"requirement \"kubernetes.io/arch\": unknown operator \"Inn\""},
	    {"[{\"key\":\"k\",\"operator\":\"In\",\"values\":[]}]",
		"requirement \"k\": operator In needs at least one value"},
	    {"[{\"key\":\"k\",\"operator\":\"Gt\",\"values\":[\"abc\"]}]",
		"requirement \"k\": operator Gt needs exactly one non-negative integer value, not "
		"\"abc\""},
	    {"[{\"key\":\"k\",\"operator\":\"Lte\",\"values\":[\"-1\"]}]",
		"requirement \"k\": operator Lte needs exactly one non-negative integer value, not "
		"\"-1\""},
	    {"[{\"key\":\"k\",\"operator\":\"Lt\",\"values\":[\"1\",\"2\"]}]",
		"requirement \"k\": operator Lt needs exactly one non-negative integer value"},
	    {"[{\"key\":\"k\",\"operator\":\"Exists\",\"values\":[\"a\"]}]",
		"requirement \"k\": operator Exists takes no values"},
	    {"[{\"key\":\"k\",\"operator\":\"Exists\",\"minValues\":51}]",
		"requirement \"k\": minValues 51 outside 1..50"},
	    {"[{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"a\"],\"minValues\":2}]",
		"requirement \"k\": minValues 2 is more than the 1 values of In"},
	    {"[{\"operator\":\"In\",\"values\":[\"a\"]}]", "requirement 0: missing key"},
	    {"[{\"key\":\"k\",\"operator\":\"In\",\"values\":[1]}]",
		"requirement \"k\": value 0 is not a string"},
	    {"{}", "requirements: not an array"},
	    {"[{\"key\":\"bad key\",\"operator\":\"Exists\"}]",
		"requirement \"bad key\": invalid label key"},
	    {"[{\"key\":\"k\",\"operator\":\"In\",\"values\":[\"-x\"]}]",
		"requirement \"k\": invalid label value \"-x\""},
	};
	const char *in =
	    "[{\"key\":\"karpenter.sh/"
	    "capacity-type\",\"operator\":\"In\",\"values\":[\"spot\",\"on-demand\"]},"
	    "{\"key\":\"karpenter.azure.com/sku-cpu\",\"operator\":\"Gt\",\"values\":[\"3\"]},"
	    "{\"key\":\"karpenter.azure.com/sku-cpu\",\"operator\":\"Lte\",\"values\":[\"16\"]},"
	    "{\"key\":\"karpenter.azure.com/sku-family\",\"operator\":\"Exists\",\"minValues\":3},"
	    "{\"key\":\"example.com/gone\",\"operator\":\"DoesNotExist\"},"
	    "{\"key\":\"karpenter.azure.com/"
	    "sku-name\",\"operator\":\"NotIn\",\"values\":[\"Standard_B1s\"]}]";
	const char *want =
	    "[{\"key\":\"example.com/gone\",\"operator\":\"DoesNotExist\"},"
	    "{\"key\":\"karpenter.azure.com/sku-cpu\",\"operator\":\"Gt\",\"values\":[\"3\"]},"
	    "{\"key\":\"karpenter.azure.com/sku-cpu\",\"operator\":\"Lt\",\"values\":[\"17\"]},"
	    "{\"key\":\"karpenter.azure.com/sku-family\",\"operator\":\"Exists\",\"minValues\":3},"
	    "{\"key\":\"karpenter.azure.com/"
	    "sku-name\",\"operator\":\"NotIn\",\"values\":[\"Standard_B1s\"]},"
	    "{\"key\":\"karpenter.sh/"
	    "capacity-type\",\"operator\":\"In\",\"values\":[\"on-demand\",\"spot\"]}]";
	struct nap_reqs r, r2;
	struct nap_err err;
	json_object *j, *out, *out2;
	size_t i;

	nap_reqs_init(&r);
	nap_reqs_init(&r2);
	j = parse(in);
	TAP_OK(nap_reqs_add_json(&r, j, &err) == 0 && r.n == 5,
	    "a NodePool requirements list loads, one entry per key");
	out = nap_reqs_to_json(&r);
	TAP_IS_STR(json_object_to_json_string_ext(
		       out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    want, "requirements convert back to sorted JSON items, ranges as Gt and Lt");
	TAP_OK(nap_reqs_add_json(&r2, out, NULL) == 0, "the converted JSON loads again");
	out2 = nap_reqs_to_json(&r2);
	TAP_OK(json_object_equal(out, out2), "JSON round trip is stable");
	json_object_put(out);
	json_object_put(out2);
	json_object_put(j);
	nap_reqs_free(&r);
	nap_reqs_free(&r2);

	/* Found by tests/fuzz/fuzz-labels: Gte 0 went out as "Gt -1", which the CRDs refuse. */
	nap_reqs_init(&r);
	nap_reqs_init(&r2);
	j = parse("[{\"key\":\"example.com/cpu\",\"operator\":\"Gte\",\"values\":[\"0\"]}]");
	nap_reqs_add_json(&r, j, NULL);
	out = nap_reqs_to_json(&r);
	TAP_IS_STR(json_object_to_json_string_ext(
		       out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    "[{\"key\":\"example.com/cpu\",\"operator\":\"Gte\",\"values\":[\"0\"]}]",
	    "Gte 0 converts back as Gte 0, not as a negative Gt");
	TAP_OK(nap_reqs_add_json(&r2, out, NULL) == 0 && r2.n == 1 && r2.v[0].has_gt &&
		r2.v[0].gt == -1,
	    "and reads back to the same bound");
	json_object_put(out);
	json_object_put(j);
	nap_reqs_free(&r);
	nap_reqs_free(&r2);

	for (i = 0; i < NAP_ARRAY_LEN(errs); i++) {
		nap_reqs_init(&r);
		memset(&err, 0, sizeof(err));
		j = parse(errs[i].json);
		if (TAP_OK(nap_reqs_add_json(&r, j, &err) == -1 && err.code == NAP_EX_DATAERR,
			"bad requirement %zu is rejected", i))
			TAP_IS_STR(
			    err.msg, errs[i].want, "the error for bad requirement %zu names it", i);
		else
			TAP_OK(0, "the error for bad requirement %zu names it", i);
		json_object_put(j);
		nap_reqs_free(&r);
	}

	nap_reqs_init(&r);
	j = parse("{\"kubernetes.io/os\":\"linux\",\"team\":\"a\"}");
	nap_reqs_add_labels(&r, j);
	TAP_IS_STR(fmt_key(&r, "team"), "team In [a]", "a label map becomes In requirements");
	json_object_put(j);
	TAP_OK(nap_reqs_add_json(&r, NULL, NULL) == 0 && r.n == 2,
	    "an absent requirements list adds nothing");
	out = nap_reqs_labels(&r);
	TAP_IS_STR(json_object_to_json_string_ext(
		       out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	    "{\"team\":\"a\"}",
	    "node labels from requirements skip well-known and restricted keys");
	json_object_put(out);
	nap_reqs_free(&r);
}

static void
test_min_values(void)
{
	static const char *const fam[] = {"D", "D", "E", "F"};
	struct nap_reqs r, its[4];
	const struct nap_reqs *p[4];
	char why[256];
	size_t i;

	nap_reqs_init(&r);
	TAP_IS_INT(nap_reqs_min_values_needed(&r, NULL, 0, why, sizeof(why)), 0,
	    "without minValues no instance types are needed");
	nap_reqs_add(&r, "karpenter.azure.com/sku-family", NAP_OP_EXISTS, NULL, 0, 3, NULL);
	TAP_OK(nap_reqs_has_min_values(&r), "a requirement with minValues is noticed");
	for (i = 0; i < 4; i++) {
		nap_reqs_init(&its[i]);
		add(&its[i], "karpenter.azure.com/sku-family", NAP_OP_IN, fam[i], NULL);
		p[i] = &its[i];
	}
	TAP_IS_INT(nap_reqs_min_values_needed(&r, p, 4, why, sizeof(why)), 4,
	    "three distinct families need the first four types (D D E F)");
	TAP_IS_INT(nap_reqs_min_values_needed(&r, p, 3, why, sizeof(why)), -1,
	    "two families do not satisfy minValues 3");
	TAP_IS_STR(why,
	    "minValues requirement is not met for label(s) (karpenter.azure.com/sku-family: 2 of "
	    "3)",
	    "the minValues failure names the key and the shortfall");
	TAP_IS_INT(nap_reqs_min_values_relax(&r, p, 4), 0, "BestEffort lowers nothing that is met");
	TAP_IS_INT(nap_reqs_get(&r, "karpenter.azure.com/sku-family")->min_values, 3,
	    "and a met minValues stays");
	TAP_IS_INT(nap_reqs_min_values_relax(&r, p, 3), 1,
	    "BestEffort lowers a minValues the types do not meet");
	TAP_IS_INT(nap_reqs_get(&r, "karpenter.azure.com/sku-family")->min_values, 2,
	    "to the number of distinct values they provide");
	TAP_IS_INT(nap_reqs_min_values_needed(&r, p, 3, why, sizeof(why)), 3,
	    "after which the types meet it");
	nap_reqs_add(&r, "karpenter.azure.com/sku-family", NAP_OP_IN, fam + 2, 2, 5, NULL);
	TAP_IS_INT(nap_reqs_get(&r, "karpenter.azure.com/sku-family")->min_values, 5,
	    "intersecting keeps the larger minValues");
	for (i = 0; i < 4; i++)
		nap_reqs_free(&its[i]);
	nap_reqs_free(&r);

	/*
	 * Found by tests/fuzz/fuzz-labels: a pool's capacity-type In [spot
	 * on-demand] minValues 2 narrowed by a pod to In [spot] counted the
	 * types' on-demand too, and nap-solve wrote a NodeClaim the CRD refuses.
	 */
	{
		static const char *const both[] = {"spot", "on-demand"};

		nap_reqs_init(&r);
		nap_reqs_add(&r, "karpenter.sh/capacity-type", NAP_OP_IN, both, 2, 2, NULL);
		add(&r, "karpenter.sh/capacity-type", NAP_OP_IN, "spot", NULL);
		nap_reqs_init(&its[0]);
		add(&its[0], "karpenter.sh/capacity-type", NAP_OP_IN, "spot", "on-demand");
		p[0] = &its[0];
		TAP_IS_INT(nap_reqs_min_values_needed(&r, p, 1, why, sizeof(why)), -1,
		    "only values the requirement allows count towards its minValues");
		TAP_IS_STR(why,
		    "minValues requirement is not met for label(s) (karpenter.sh/capacity-type: 1 "
		    "of 2)",
		    "and the shortfall counts only those");
		nap_reqs_free(&its[0]);
		nap_reqs_free(&r);
	}
}

static void
test_label_lists(void)
{
	static const struct {
		const char *key;
		int wellknown, restricted, nodepool;
	} keys[] = {
	    {"kubernetes.io/arch", 1, 0, 0},
	    {"karpenter.sh/capacity-type", 1, 0, 0},
	    {"karpenter.sh/nodepool", 1, 0, 1},
	    {"karpenter.azure.com/sku-family", 1, 0, 0},
	    {"kubernetes.io/hostname", 0, 1, 1},
	    {"karpenter.sh/custom", 0, 1, 1},
	    {"foo.kubernetes.io/x", 0, 1, 1},
	    {"k8s.io/x", 0, 1, 1},
	    {"node.kubernetes.io/pool", 0, 0, 0},
	    {"sub.node.kubernetes.io/pool", 0, 0, 0},
	    {"node-role.kubernetes.io/worker", 0, 0, 0},
	    {"node-restriction.kubernetes.io/x", 0, 0, 0},
	    {"kops.k8s.io/instancegroup", 0, 0, 0},
	    {"karpenter.azure.com/sku-hyperv-generation", 0, 1, 1},
	    {"karpenter.azure.com/aksnodeclass", 0, 1, 0},
	    {"kubernetes.azure.com/agentpool", 0, 0, 1},
	    {"kubernetes.azure.com/ebpf-dataplane", 0, 0, 0},
	    {"example.com/team", 0, 0, 0},
	    {"team", 0, 0, 0},
	};
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(keys); i++) {
		int w = nap_label_is_wellknown(keys[i].key),
		    r = nap_label_is_restricted(keys[i].key),
		    np = nap_label_is_restricted_nodepool(keys[i].key);

		if (!TAP_OK(
			w == keys[i].wellknown && r == keys[i].restricted && np == keys[i].nodepool,
			"%s is %swell-known, %srestricted for pods, %sallowed in a NodePool",
			keys[i].key, keys[i].wellknown ? "" : "not ",
			keys[i].restricted ? "" : "not ", keys[i].nodepool ? "not " : ""))
			printf("#   got wellknown %d restricted %d nodepool %d\n", w, r, np);
	}
	TAP_IS_STR(nap_label_normalize("beta.kubernetes.io/arch"), "kubernetes.io/arch",
	    "beta.kubernetes.io/arch normalises to kubernetes.io/arch");
	TAP_OK(nap_label_key_valid("example.com/team") && nap_label_key_valid("team") &&
		nap_label_key_valid("a.b-c/X_y.z") && !nap_label_key_valid("Example.com/x") &&
		!nap_label_key_valid("/x") && !nap_label_key_valid("a/") &&
		!nap_label_key_valid("a/b/c") && !nap_label_key_valid("-a.com/x") &&
		!nap_label_key_valid(""),
	    "label keys follow the qualified-name syntax");
	TAP_OK(nap_label_value_valid("") && nap_label_value_valid("Standard_D4s_v3") &&
		!nap_label_value_valid("a b") && !nap_label_value_valid("x-") &&
		!nap_label_value_valid(
		    "0123456789012345678901234567890123456789012345678901234567890123"),
	    "label values may be empty and otherwise follow the name syntax up to 63");
	{
		const char *const *kv = nap_label_known_values("karpenter.sh/capacity-type");

		TAP_OK(
		    kv && strcmp(kv[0], "on-demand") == 0 && strcmp(kv[1], "spot") == 0 && !kv[2],
		    "capacity-type has the registered values on-demand and spot");
		TAP_OK(nap_label_known_values("kubernetes.io/arch") == NULL,
		    "arch has no registered value set");
	}
}

struct scase {
	const char *labels;
	int want;
	const char *name;
};

static void
test_selectors(void)
{
	static const struct scase cases[] = {
	    {"{\"app\":\"web\",\"tier\":\"a\"}", 1, "a pod with every selected label matches"},
	    {"{\"app\":\"web\",\"tier\":\"c\"}", 0, "a pod with a NotIn value does not match"},
	    {"{\"app\":\"db\",\"tier\":\"a\"}", 0,
		"a pod with another matchLabels value does not match"},
	    {"{\"app\":\"web\",\"tier\":\"a\",\"canary\":\"1\"}", 0,
		"a pod with a DoesNotExist label does not match"},
	    {"{\"app\":\"web\"}", 0, "a pod missing an In label does not match"},
	    {"null", 0, "a pod without labels does not match a non-empty selector"},
	};
	const char *sel = "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
			  "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]},"
			  "{\"key\":\"tier\",\"operator\":\"NotIn\",\"values\":[\"c\"]},"
			  "{\"key\":\"app\",\"operator\":\"Exists\"},"
			  "{\"key\":\"canary\",\"operator\":\"DoesNotExist\"}]}";
	struct nap_selector *s;
	struct nap_err err;
	json_object *j, *l;
	size_t i;

	j = parse(sel);
	TAP_OK(nap_selector_parse(&s, j, &err) == 0 && s != NULL, "a full label selector parses");
	for (i = 0; i < NAP_ARRAY_LEN(cases); i++) {
		l = parse(cases[i].labels);
		TAP_IS_INT(nap_selector_matches(s, l), cases[i].want, "%s", cases[i].name);
		json_object_put(l);
	}
	nap_selector_free(s);
	json_object_put(j);

	j = parse("{}");
	l = parse("{\"x\":\"y\"}");
	nap_selector_parse(&s, j, NULL);
	TAP_OK(nap_selector_matches(s, l) && nap_selector_matches(s, NULL),
	    "an empty selector matches every pod, with or without labels");
	nap_selector_free(s);
	nap_selector_parse(&s, NULL, NULL);
	TAP_OK(!nap_selector_matches(s, l) && !nap_selector_matches(s, NULL),
	    "an absent selector matches no pod");
	nap_selector_free(s);
	json_object_put(j);
	json_object_put(l);

	j = parse(
	    "{\"matchExpressions\":[{\"key\":\"n\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}");
	TAP_OK(nap_selector_parse(&s, j, &err) == -1 && s == NULL &&
		strcmp(err.msg, "label selector: key \"n\": unsupported operator \"Gt\"") == 0,
	    "a label selector rejects Gt and names the key and operator");
	json_object_put(j);
	j = parse("{\"matchExpressions\":[{\"key\":\"n\",\"operator\":\"In\"}]}");
	TAP_OK(nap_selector_parse(&s, j, &err) == -1 && strstr(err.msg, "at least one value"),
	    "a label selector In without values is rejected");
	json_object_put(j);
}

int
main(void)
{
	test_operators();
	test_intersections();
	test_compatible_matrix();
	test_undefined_keys();
	test_messages();
	test_format_and_any();
	test_sets();
	test_json();
	test_min_values();
	test_label_lists();
	test_selectors();
	return tap_done();
}
