/*
 * labels.c - Karpenter's requirement algebra over sorted string sets.
 *
 * Every set operation works on sorted, unique value arrays, so membership
 * is a binary search and intersections are merges.  The predicates build
 * nothing: integer bounds are checked by parsing the value in place.
 */
#include "labels.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[] = {
    [NAP_OP_IN] = "In",
    [NAP_OP_NOTIN] = "NotIn",
    [NAP_OP_EXISTS] = "Exists",
    [NAP_OP_DOESNOTEXIST] = "DoesNotExist",
    [NAP_OP_GT] = "Gt",
    [NAP_OP_LT] = "Lt",
    [NAP_OP_GTE] = "Gte",
    [NAP_OP_LTE] = "Lte",
};

int
nap_op_parse(const char *s, enum nap_op *op)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < NAP_ARRAY_LEN(op_names); i++) {
		if (strcmp(s, op_names[i]) == 0) {
			*op = (enum nap_op)i;
			return 0;
		}
	}
	return -1;
}

const char *
nap_op_name(enum nap_op op)
{
	if ((size_t)op >= NAP_ARRAY_LEN(op_names))
		return "?";
	return op_names[op];
}

/* ---- label lists ---- */

/* Sorted (strcmp) for bsearch. Core's list, then the Azure provider's. */
static const char *const wellknown[] = {
    "karpenter.azure.com/placement-scope",
    "karpenter.azure.com/sku-cpu",
    "karpenter.azure.com/sku-family",
    "karpenter.azure.com/sku-gpu-count",
    "karpenter.azure.com/sku-gpu-manufacturer",
    "karpenter.azure.com/sku-gpu-name",
    "karpenter.azure.com/sku-memory",
    "karpenter.azure.com/sku-name",
    "karpenter.azure.com/sku-networking-accelerated",
    "karpenter.azure.com/sku-series",
    "karpenter.azure.com/sku-storage-ephemeralos-maxsize",
    "karpenter.azure.com/sku-storage-premium-capable",
    "karpenter.azure.com/sku-storage-ultra-ssd",
    "karpenter.azure.com/sku-version",
    "karpenter.sh/capacity-type",
    "karpenter.sh/nodepool",
    "kubernetes.azure.com/cluster",
    "kubernetes.azure.com/fips_enabled",
    "kubernetes.azure.com/mode",
    "kubernetes.azure.com/os-sku",
    "kubernetes.azure.com/priority",
    "kubernetes.azure.com/scalesetpriority",
    "kubernetes.azure.com/sku-cpu",
    "kubernetes.azure.com/sku-memory",
    "kubernetes.io/arch",
    "kubernetes.io/os",
    "node.kubernetes.io/instance-type",
    "node.kubernetes.io/windows-build",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
};

/*
 * Order for typo hints: the core labels first, so "zone" suggests
 * topology.kubernetes.io/zone rather than some sku label.
 */
static const char *const hint_order[] = {
    "karpenter.sh/nodepool",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "node.kubernetes.io/instance-type",
    "kubernetes.io/arch",
    "kubernetes.io/os",
    "karpenter.sh/capacity-type",
    "node.kubernetes.io/windows-build",
};

static const char *const restricted_domains[] = {
    "kubernetes.io",
    "k8s.io",
    "karpenter.sh",
    "karpenter.azure.com",
};

static const char *const exception_domains[] = {
    "node-role.kubernetes.io",
    "kops.k8s.io",
    "node-restriction.kubernetes.io",
    "node.kubernetes.io",
};

static const char *const restricted_keys[] = {
    "kubernetes.io/hostname",
    "karpenter.azure.com/sku-hyperv-generation",
};

/* NodePool CEL allow-lists for the two Azure domains (azure-provider.md §2.1). */
static const char *const nodepool_karpenter_azure[] = {
    "aksnodeclass",
    "sku-name",
    "sku-family",
    "sku-series",
    "sku-version",
    "sku-cpu",
    "sku-memory",
    "sku-networking-accelerated",
    "sku-storage-premium-capable",
    "sku-storage-ultra-ssd",
    "sku-storage-ephemeralos-maxsize",
    "sku-gpu-name",
    "sku-gpu-manufacturer",
    "sku-gpu-count",
    "placement-scope",
};
static const char *const nodepool_kubernetes_azure[] = {
    "mode",
    "scalesetpriority",
    "priority",
    "fips_enabled",
    "os-sku",
    "cluster",
    "sku-cpu",
    "sku-memory",
    "ebpf-dataplane",
    "ebpf-host-routing",
    "network-policy",
    "hostedvm",
};

struct alias {
	const char *from, *to;
};

static const struct alias aliases[] = {
    {"beta.kubernetes.io/arch", "kubernetes.io/arch"},
    {"beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type"},
    {"beta.kubernetes.io/os", "kubernetes.io/os"},
    {"failure-domain.beta.kubernetes.io/region", "topology.kubernetes.io/region"},
    {"failure-domain.beta.kubernetes.io/zone", "topology.kubernetes.io/zone"},
};

static int
cmp_str_key(const void *key, const void *elem)
{
	return strcmp((const char *)key, *(const char *const *)elem);
}

static int
in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

const char *
nap_label_normalize(const char *key)
{
	size_t i;

	/* Every alias starts with 'b' or 'f'; skip the loop on the hot path. */
	if (key == NULL || (key[0] != 'b' && key[0] != 'f'))
		return key;
	for (i = 0; i < NAP_ARRAY_LEN(aliases); i++)
		if (strcmp(key, aliases[i].from) == 0)
			return aliases[i].to;
	return key;
}

int
nap_label_is_wellknown(const char *key)
{
	return bsearch(key, wellknown, NAP_ARRAY_LEN(wellknown), sizeof(wellknown[0]),
		   cmp_str_key) != NULL;
}

static int
has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Length of key's domain (the part before '/'), 0 when it has none. */
static size_t
domain_len(const char *key)
{
	const char *slash = strchr(key, '/');

	return slash ? (size_t)(slash - key) : 0;
}

int
nap_label_is_restricted_node(const char *key)
{
	size_t i, dl;

	if (nap_label_is_wellknown(key))
		return 1;
	dl = domain_len(key);
	/* Suffix matches, as Karpenter's: subdomains share their parent's fate. */
	for (i = 0; i < NAP_ARRAY_LEN(exception_domains); i++)
		if (has_suffix(key, dl, exception_domains[i]))
			return 0;
	for (i = 0; i < NAP_ARRAY_LEN(restricted_domains); i++)
		if (has_suffix(key, dl, restricted_domains[i]))
			return 1;
	return in_list(key, restricted_keys, NAP_ARRAY_LEN(restricted_keys));
}

int
nap_label_is_restricted(const char *key)
{
	if (nap_label_is_wellknown(key))
		return 0;
	return nap_label_is_restricted_node(key);
}

int
nap_label_is_restricted_nodepool(const char *key)
{
	size_t dl = domain_len(key);

	if (strcmp(key, "karpenter.sh/nodepool") == 0)
		return 1;
	if (dl == strlen("karpenter.azure.com") &&
	    strncmp(key, "karpenter.azure.com/", dl + 1) == 0)
		return !in_list(key + dl + 1, nodepool_karpenter_azure,
		    NAP_ARRAY_LEN(nodepool_karpenter_azure));
	if (dl == strlen("kubernetes.azure.com") &&
	    strncmp(key, "kubernetes.azure.com/", dl + 1) == 0)
		return !in_list(key + dl + 1, nodepool_kubernetes_azure,
		    NAP_ARRAY_LEN(nodepool_kubernetes_azure));
	return nap_label_is_restricted(key);
}

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 characters. */
static int
name_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return 0;
	for (i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

/* A DNS-1123 subdomain: lowercase labels of [a-z0-9-] joined by dots, at most 253. */
static int
subdomain_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int edge = i == 0 || i == n - 1 || s[i - 1] == '.' || s[i + 1] == '.';

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if ((c == '-' || c == '.') && !edge)
			continue;
		return 0;
	}
	return 1;
}

int
nap_label_key_valid(const char *key)
{
	size_t dl;

	if (key == NULL)
		return 0;
	if (strchr(key, '/') == NULL)
		return name_valid(key, strlen(key));
	dl = domain_len(key);
	return subdomain_valid(key, dl) && name_valid(key + dl + 1, strlen(key + dl + 1));
}

int
nap_label_value_valid(const char *value)
{
	return value != NULL && (*value == '\0' || name_valid(value, strlen(value)));
}

struct known_values {
	const char *key;
	const char *const *values;
};

static const char *const kv_capacity[] = {"on-demand", "spot", NULL};
static const char *const kv_bool[] = {"true", "false", NULL};
static const char *const kv_gpu[] = {"nvidia", "amd", NULL};
static const char *const kv_placement[] = {"zonal", "regional", NULL};
static const char *const kv_mode[] = {"system", "user", NULL};
static const char *const kv_priority[] = {"regular", "spot", NULL};
static const char *const kv_ossku[] = {"Ubuntu", "AzureLinux", NULL};
static const char *const kv_true[] = {"true", NULL};

/* azure-provider.md §2.1 "Registered exact value sets". */
static const struct known_values known_values[] = {
    {"karpenter.sh/capacity-type", kv_capacity},
    {"karpenter.azure.com/sku-networking-accelerated", kv_bool},
    {"karpenter.azure.com/sku-storage-premium-capable", kv_bool},
    {"karpenter.azure.com/sku-storage-ultra-ssd", kv_bool},
    {"karpenter.azure.com/sku-gpu-manufacturer", kv_gpu},
    {"karpenter.azure.com/placement-scope", kv_placement},
    {"kubernetes.azure.com/mode", kv_mode},
    {"kubernetes.azure.com/scalesetpriority", kv_priority},
    {"kubernetes.azure.com/priority", kv_priority},
    {"kubernetes.azure.com/os-sku", kv_ossku},
    {"kubernetes.azure.com/fips_enabled", kv_true},
};

const char *const *
nap_label_known_values(const char *key)
{
	size_t i;

	key = nap_label_normalize(key);
	for (i = 0; i < NAP_ARRAY_LEN(known_values); i++)
		if (strcmp(key, known_values[i].key) == 0)
			return known_values[i].values;
	return NULL;
}

/* ---- single requirements ---- */

/* Go's strconv.Atoi on 64 bits: optional sign, digits, nothing else. */
static int
parse_int(const char *s, int64_t *v)
{
	char *end;
	long long x;

	if (s == NULL)
		return -1;
	/* strtoll would skip leading space and Atoi does not. */
	if (!((*s >= '0' && *s <= '9') || ((*s == '+' || *s == '-') && s[1] >= '0' && s[1] <= '9')))
		return -1;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = (int64_t)x;
	return 0;
}

static int
within(const char *value, int has_gt, int64_t gt, int has_lt, int64_t lt)
{
	int64_t v;

	if (!has_gt && !has_lt)
		return 1;
	/* With bounds, a value that is not an integer is out. */
	if (parse_int(value, &v) < 0)
		return 0;
	if (has_gt && v <= gt)
		return 0;
	if (has_lt && v >= lt)
		return 0;
	return 1;
}

static int
has_value(const struct nap_req *q, const char *value)
{
	size_t lo = 0, hi = q->nvalues;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(value, q->values[mid]);

		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

enum nap_op
nap_req_op(const struct nap_req *q)
{
	if (q->complement)
		return q->nvalues ? NAP_OP_NOTIN : NAP_OP_EXISTS;
	return q->nvalues ? NAP_OP_IN : NAP_OP_DOESNOTEXIST;
}

int
nap_req_allows(const struct nap_req *q, const char *value)
{
	if (q->complement)
		return !has_value(q, value) && within(value, q->has_gt, q->gt, q->has_lt, q->lt);
	return has_value(q, value) && within(value, q->has_gt, q->gt, q->has_lt, q->lt);
}

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A requirement lives in one allocation: the key, the value pointers and
 * the value strings, so copying a set costs one malloc per key.  The block
 * starts at q->key, which is what req_free hands back.
 */
static void
req_build(struct nap_req *q, const char *key, const char *const *vals, size_t n)
{
	size_t klen = strlen(key) + 1, off, total, i;
	char *mem, *p;

	/* The pointer array follows the key, aligned. */
	off = (klen + sizeof(char *) - 1) / sizeof(char *) * sizeof(char *);
	total = off + n * sizeof(char *);
	for (i = 0; i < n; i++)
		total += strlen(vals[i]) + 1;
	mem = nap_xmalloc(total);
	memcpy(mem, key, klen);
	q->key = mem;
	q->values = n ? (char **)(void *)(mem + off) : NULL;
	q->nvalues = n;
	p = mem + off + n * sizeof(char *);
	for (i = 0; i < n; i++) {
		size_t len = strlen(vals[i]) + 1;

		memcpy(p, vals[i], len);
		q->values[i] = p;
		p += len;
	}
}

static void
req_free(struct nap_req *q)
{
	free(q->key);
	memset(q, 0, sizeof(*q));
}

static void
req_copy(struct nap_req *dst, const struct nap_req *src)
{
	*dst = *src;
	req_build(dst, src->key, (const char *const *)src->values, src->nvalues);
}

/* A scratch list of borrowed value pointers; small lists stay on the stack. */
struct vlist {
	const char *stack[16];
	const char **v;
	size_t n;
};

static void
vlist_init(struct vlist *l, size_t cap)
{
	l->v = cap <= NAP_ARRAY_LEN(l->stack) ? l->stack : nap_xmalloc(cap * sizeof(char *));
	l->n = 0;
}

static void
vlist_done(struct vlist *l)
{
	if (l->v != l->stack)
		free(l->v);
}

/* Sort and deduplicate in place. */
static void
vlist_normalise(struct vlist *l)
{
	size_t i, j;

	if (l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(l->v[0]), cmp_strp);
	for (i = 1, j = 1; i < l->n; i++)
		if (strcmp(l->v[i], l->v[j - 1]) != 0)
			l->v[j++] = l->v[i];
	l->n = j;
}

/* Build a normalised requirement; bounds already checked by the caller. */
static int
req_make(struct nap_req *q, const char *key, enum nap_op op, const char *const *vals, size_t n,
    int min_values, struct nap_err *err)
{
	struct vlist l;
	int64_t bound = 0;

	memset(q, 0, sizeof(*q));
	key = nap_label_normalize(key);
	if (op == NAP_OP_IN && n == 0)
		op = NAP_OP_DOESNOTEXIST;
	if (op == NAP_OP_GT || op == NAP_OP_LT || op == NAP_OP_GTE || op == NAP_OP_LTE) {
		if (n != 1 || parse_int(vals[0], &bound) < 0)
			return nap_err_set(err, NAP_EX_DATAERR,
			    "requirement \"%s\": operator %s needs exactly one integer value", key,
			    nap_op_name(op));
	} else if ((size_t)op >= NAP_ARRAY_LEN(op_names)) {
		return nap_err_set(
		    err, NAP_EX_DATAERR, "requirement \"%s\": unknown operator %d", key, (int)op);
	}
	q->min_values = min_values > 0 ? min_values : 0;
	q->complement = !(op == NAP_OP_IN || op == NAP_OP_DOESNOTEXIST);
	switch (op) {
	case NAP_OP_IN:
	case NAP_OP_NOTIN:
		vlist_init(&l, n);
		if (n > 0) /* vals may be NULL then */
			memcpy(l.v, vals, n * sizeof(char *));
		l.n = n;
		vlist_normalise(&l);
		req_build(q, key, l.v, l.n);
		vlist_done(&l);
		return 0;
	case NAP_OP_GT:
	case NAP_OP_GTE:
		/* Gte n is Gt n-1; nothing lies below INT64_MIN, so it clamps. */
		q->has_gt = 1;
		q->gt = op == NAP_OP_GTE && bound > INT64_MIN ? bound - 1 : bound;
		break;
	case NAP_OP_LT:
	case NAP_OP_LTE:
		q->has_lt = 1;
		q->lt = op == NAP_OP_LTE && bound < INT64_MAX ? bound + 1 : bound;
		break;
	default:
		break;
	}
	req_build(q, key, NULL, 0);
	return 0;
}

/* Values of a that are (want_in ? in : not in) b and within the bounds; a, b sorted. */
static void
merge_values(struct vlist *out, const struct nap_req *a, const struct nap_req *b, int want_in,
    int has_gt, int64_t gt, int has_lt, int64_t lt)
{
	size_t i;

	for (i = 0; i < a->nvalues; i++) {
		const char *v = a->values[i];

		if (has_value(b, v) == want_in && within(v, has_gt, gt, has_lt, lt))
			out->v[out->n++] = v;
	}
}

/* out = a ∩ b (Karpenter's Requirement.Intersection); out is fresh. */
static void
req_intersection(struct nap_req *out, const struct nap_req *a, const struct nap_req *b)
{
	int has_gt = a->has_gt || b->has_gt, has_lt = a->has_lt || b->has_lt;
	int64_t gt = 0, lt = 0;
	struct vlist l;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	out->min_values = a->min_values > b->min_values ? a->min_values : b->min_values;
	if (has_gt)
		gt = !a->has_gt ? b->gt : !b->has_gt ? a->gt : a->gt > b->gt ? a->gt : b->gt;
	if (has_lt)
		lt = !a->has_lt ? b->lt : !b->has_lt ? a->lt : a->lt < b->lt ? a->lt : b->lt;
	if (has_gt && has_lt && gt >= lt) {
		req_build(out, a->key, NULL, 0); /* DoesNotExist */
		return;
	}
	out->complement = a->complement && b->complement;
	vlist_init(&l, a->nvalues + b->nvalues);
	if (a->complement && b->complement) {
		/* Union of two sorted lists, filtered by the bounds. */
		for (i = 0, j = 0; i < a->nvalues || j < b->nvalues;) {
			const char *v;
			int c = i == a->nvalues ? 1
			    : j == b->nvalues	? -1
						: strcmp(a->values[i], b->values[j]);

			v = c <= 0 ? a->values[i] : b->values[j];
			if (c <= 0)
				i++;
			if (c >= 0)
				j++;
			if (within(v, has_gt, gt, has_lt, lt))
				l.v[l.n++] = v;
		}
	} else if (a->complement) {
		merge_values(&l, b, a, 0, has_gt, gt, has_lt, lt);
	} else if (b->complement) {
		merge_values(&l, a, b, 0, has_gt, gt, has_lt, lt);
	} else {
		merge_values(&l, a->nvalues <= b->nvalues ? a : b, a->nvalues <= b->nvalues ? b : a,
		    1, has_gt, gt, has_lt, lt);
	}
	req_build(out, a->key, l.v, l.n);
	vlist_done(&l);
	/* A finite set has its bounds applied already. */
	if (out->complement) {
		out->has_gt = has_gt;
		out->gt = gt;
		out->has_lt = has_lt;
		out->lt = lt;
	}
}

int
nap_req_intersects(const struct nap_req *a, const struct nap_req *b)
{
	int has_gt = a->has_gt || b->has_gt, has_lt = a->has_lt || b->has_lt;
	const struct nap_req *small, *big;
	int64_t gt = 0, lt = 0;
	size_t i;

	if (has_gt)
		gt = !a->has_gt ? b->gt : !b->has_gt ? a->gt : a->gt > b->gt ? a->gt : b->gt;
	if (has_lt)
		lt = !a->has_lt ? b->lt : !b->has_lt ? a->lt : a->lt < b->lt ? a->lt : b->lt;
	if (has_gt && has_lt && gt >= lt)
		return 0;
	if (a->complement && b->complement)
		return 1;
	if (a->complement || b->complement) {
		const struct nap_req *fin = a->complement ? b : a, *co = a->complement ? a : b;

		for (i = 0; i < fin->nvalues; i++)
			if (!has_value(co, fin->values[i]) &&
			    within(fin->values[i], has_gt, gt, has_lt, lt))
				return 1;
		return 0;
	}
	small = a->nvalues <= b->nvalues ? a : b;
	big = small == a ? b : a;
	for (i = 0; i < small->nvalues; i++)
		if (has_value(big, small->values[i]) &&
		    within(small->values[i], has_gt, gt, has_lt, lt))
			return 1;
	return 0;
}

int
nap_req_any(const struct nap_req *q, char *buf, size_t len)
{
	enum nap_op op = nap_req_op(q);
	int64_t v, max;
	char tmp[24];

	if (op == NAP_OP_IN) {
		snprintf(buf, len, "%s", q->values[0]);
		return 1;
	}
	if (op == NAP_OP_DOESNOTEXIST)
		return 0;
	/*
	 * Karpenter picks at random in [gt+1, lt); the smallest allowed value
	 * is as good and makes runs repeatable.
	 */
	v = q->has_gt ? (q->gt == INT64_MAX ? INT64_MAX : q->gt + 1) : 0;
	max = q->has_lt ? q->lt : INT64_MAX;
	for (; v < max; v++) {
		snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
		if (!has_value(q, tmp)) {
			snprintf(buf, len, "%s", tmp);
			return 1;
		}
	}
	return 0;
}

/* Append to a bounded buffer; *used tracks the logical length. */
static void NAP_PRINTF(4, 5) bprintf(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (buf == NULL || len == 0)
		return;
	if (*used >= len - 1) {
		*used = len - 1;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n;
	if (*used >= len)
		*used = len - 1;
}

static void
req_fmt_at(const struct nap_req *q, char *buf, size_t len, size_t *used)
{
	enum nap_op op = nap_req_op(q);
	size_t i, shown;

	bprintf(buf, len, used, "%s %s", q->key, nap_op_name(op));
	if (op == NAP_OP_IN || op == NAP_OP_NOTIN) {
		shown = q->nvalues > 5 ? 5 : q->nvalues;
		bprintf(buf, len, used, " [");
		for (i = 0; i < shown; i++)
			bprintf(buf, len, used, "%s%s", i ? " " : "", q->values[i]);
		if (q->nvalues > 5)
			bprintf(buf, len, used, " and %zu others", q->nvalues - 5);
		bprintf(buf, len, used, "]");
	}
	if (q->has_gt)
		bprintf(buf, len, used, " >%lld", (long long)q->gt);
	if (q->has_lt)
		bprintf(buf, len, used, " <%lld", (long long)q->lt);
	if (q->min_values)
		bprintf(buf, len, used, " minValues %d", q->min_values);
}

void
nap_req_fmt(const struct nap_req *q, char *buf, size_t len)
{
	size_t used = 0;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	req_fmt_at(q, buf, len, &used);
}

/* ---- requirement sets ---- */

void
nap_reqs_init(struct nap_reqs *r)
{
	r->v = NULL;
	r->n = 0;
	r->alloc = 0;
}

void
nap_reqs_free(struct nap_reqs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		req_free(&r->v[i]);
	free(r->v);
	nap_reqs_init(r);
}

void
nap_reqs_copy(struct nap_reqs *dst, const struct nap_reqs *src)
{
	size_t i;

	if (dst == src)
		return;
	/* Keep dst's array: the solver copies into the same scratch set often. */
	for (i = 0; i < dst->n; i++)
		req_free(&dst->v[i]);
	dst->n = 0;
	if (src->n == 0)
		return;
	nap_xgrow(&dst->v, &dst->alloc, src->n, sizeof(dst->v[0]));
	for (i = 0; i < src->n; i++)
		req_copy(&dst->v[i], &src->v[i]);
	dst->n = src->n;
}

/* Index of key, or -(insertion point) - 1. */
static long
reqs_find(const struct nap_reqs *r, const char *key)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, r->v[mid].key);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(long)lo - 1;
}

const struct nap_req *
nap_reqs_get(const struct nap_reqs *r, const char *key)
{
	long i = reqs_find(r, nap_label_normalize(key));

	return i >= 0 ? &r->v[i] : NULL;
}

/* Take ownership of *q: store it, intersecting with any requirement on its key. */
static void
reqs_put(struct nap_reqs *r, struct nap_req *q)
{
	long i = reqs_find(r, q->key);
	struct nap_req merged;
	size_t at;

	if (i >= 0) {
		req_intersection(&merged, q, &r->v[i]);
		req_free(q);
		req_free(&r->v[i]);
		r->v[i] = merged;
		return;
	}
	at = (size_t)(-i - 1);
	nap_xgrow(&r->v, &r->alloc, r->n + 1, sizeof(r->v[0]));
	memmove(&r->v[at + 1], &r->v[at], (r->n - at) * sizeof(r->v[0]));
	r->v[at] = *q;
	r->n++;
}

int
nap_reqs_add(struct nap_reqs *r, const char *key, enum nap_op op, const char *const *vals, size_t n,
    int min_values, struct nap_err *err)
{
	struct nap_req q;

	if (key == NULL || *key == '\0')
		return nap_err_set(err, NAP_EX_DATAERR, "requirement with an empty key");
	if (req_make(&q, key, op, vals, n, min_values, err) < 0)
		return -1;
	reqs_put(r, &q);
	return 0;
}

void
nap_reqs_add_req(struct nap_reqs *r, const struct nap_req *q)
{
	struct nap_req c;

	req_copy(&c, q);
	reqs_put(r, &c);
}

void
nap_reqs_del(struct nap_reqs *r, const char *key)
{
	long i = reqs_find(r, nap_label_normalize(key));

	if (i < 0)
		return;
	req_free(&r->v[i]);
	memmove(&r->v[i], &r->v[i + 1], (r->n - (size_t)i - 1) * sizeof(r->v[0]));
	r->n--;
}

void
nap_reqs_intersect(struct nap_reqs *dst, const struct nap_reqs *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		nap_reqs_add_req(dst, &src->v[i]);
}

static int
is_nonneg_int(const char *s)
{
	int64_t v;

	return s[0] != '-' && s[0] != '+' && parse_int(s, &v) == 0 && v >= 0;
}

/* One {key, operator, values, minValues} item, validated as the API server and Karpenter do. */
static int
add_json_item(struct nap_reqs *r, json_object *item, size_t idx, struct nap_err *err)
{
	json_object *jkey, *jop, *jvals = NULL, *jmin = NULL;
	const char *key, *opname, *stackvals[8], **vals = stackvals;
	enum nap_op op;
	size_t n = 0, i;
	int min_values = 0, rc = -1;

	if (!json_object_is_type(item, json_type_object))
		return nap_err_set(err, NAP_EX_DATAERR, "requirement %zu: not an object", idx);
	if (!json_object_object_get_ex(item, "key", &jkey) ||
	    !json_object_is_type(jkey, json_type_string) || json_object_get_string_len(jkey) == 0)
		return nap_err_set(err, NAP_EX_DATAERR, "requirement %zu: missing key", idx);
	key = json_object_get_string(jkey);
	if (!nap_label_key_valid(key))
		return nap_err_set(
		    err, NAP_EX_DATAERR, "requirement \"%s\": invalid label key", key);
	if (!json_object_object_get_ex(item, "operator", &jop) ||
	    !json_object_is_type(jop, json_type_string))
		return nap_err_set(
		    err, NAP_EX_DATAERR, "requirement \"%s\": missing operator", key);
	opname = json_object_get_string(jop);
	if (nap_op_parse(opname, &op) < 0)
		return nap_err_set(err, NAP_EX_DATAERR,
		    "requirement \"%s\": unknown operator \"%s\"", key, opname);
	if (json_object_object_get_ex(item, "values", &jvals) && jvals != NULL) {
		if (!json_object_is_type(jvals, json_type_array))
			return nap_err_set(
			    err, NAP_EX_DATAERR, "requirement \"%s\": values is not an array", key);
		n = json_object_array_length(jvals);
	}
	if (json_object_object_get_ex(item, "minValues", &jmin) && jmin != NULL) {
		int64_t m;

		if (!json_object_is_type(jmin, json_type_int) ||
		    (m = json_object_get_int64(jmin)) < 1 || m > 50)
			return nap_err_set(err, NAP_EX_DATAERR,
			    "requirement \"%s\": minValues %s outside 1..50", key,
			    json_object_to_json_string(jmin));
		min_values = (int)m;
	}
	if (n > NAP_ARRAY_LEN(stackvals))
		vals = nap_xmalloc(n * sizeof(*vals));
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(jvals, i);

		if (!json_object_is_type(v, json_type_string)) {
			nap_err_set(err, NAP_EX_DATAERR,
			    "requirement \"%s\": value %zu is not a string", key, i);
			goto out;
		}
		vals[i] = json_object_get_string(v);
		if ((op == NAP_OP_IN || op == NAP_OP_NOTIN) && !nap_label_value_valid(vals[i])) {
			nap_err_set(err, NAP_EX_DATAERR,
			    "requirement \"%s\": invalid label value \"%s\"", key, vals[i]);
			goto out;
		}
	}
	switch (op) {
	case NAP_OP_IN:
	case NAP_OP_NOTIN:
		if (n == 0) {
			nap_err_set(err, NAP_EX_DATAERR,
			    "requirement \"%s\": operator %s needs at least one value", key,
			    opname);
			goto out;
		}
		if (op == NAP_OP_IN && min_values > (int)n) {
			nap_err_set(err, NAP_EX_DATAERR,
			    "requirement \"%s\": minValues %d is more than the %zu values of In",
			    key, min_values, n);
			goto out;
		}
		break;
	case NAP_OP_EXISTS:
	case NAP_OP_DOESNOTEXIST:
		if (n != 0) {
			nap_err_set(err, NAP_EX_DATAERR,
			    "requirement \"%s\": operator %s takes no values", key, opname);
			goto out;
		}
		break;
	default:
		if (n != 1 || !is_nonneg_int(vals[0])) {
			nap_err_set(err, NAP_EX_DATAERR,
			    "requirement \"%s\": operator %s needs exactly one non-negative "
			    "integer value%s%s%s",
			    key, opname, n == 1 ? ", not \"" : "", n == 1 ? vals[0] : "",
			    n == 1 ? "\"" : "");
			goto out;
		}
		break;
	}
	rc = nap_reqs_add(r, key, op, vals, n, min_values, err);
out:
	if (vals != stackvals)
		free(vals);
	return rc;
}

int
nap_reqs_add_json(struct nap_reqs *r, json_object *arr, struct nap_err *err)
{
	size_t i, n;

	if (arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return nap_err_set(err, NAP_EX_DATAERR, "requirements: not an array");
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++)
		if (add_json_item(r, json_object_array_get_idx(arr, i), i, err) < 0)
			return -1;
	return 0;
}

void
nap_reqs_add_labels(struct nap_reqs *r, json_object *map)
{
	if (map == NULL || !json_object_is_type(map, json_type_object))
		return;
	json_object_object_foreach(map, k, v)
	{
		const char *val = json_object_get_string(v);

		if (*k == '\0' || val == NULL)
			continue;
		nap_reqs_add(r, k, NAP_OP_IN, &val, 1, 0, NULL);
	}
}

/* ---- set predicates ---- */

static int
op_is_negative(enum nap_op op)
{
	return op == NAP_OP_NOTIN || op == NAP_OP_DOESNOTEXIST;
}

/* Append "; " between reasons. */
static void
why_sep(char *why, size_t len, size_t *used, int *nerr)
{
	if ((*nerr)++ > 0)
		bprintf(why, len, used, "; ");
}

static void
why_incompatible(char *why, size_t len, size_t *used, const struct nap_req *existing,
    const struct nap_req *incoming)
{
	bprintf(why, len, used, "key %s, ", incoming->key);
	req_fmt_at(incoming, why, len, used);
	bprintf(why, len, used, " not in ");
	req_fmt_at(existing, why, len, used);
}

/* Merge-walk the keys a and b share; count (and describe) the conflicts. */
static int
intersects_at(const struct nap_reqs *a, const struct nap_reqs *b, char *why, size_t len,
    size_t *used, int *nerr)
{
	size_t i = 0, j = 0;
	int bad = 0;

	while (i < a->n && j < b->n) {
		int c = strcmp(a->v[i].key, b->v[j].key);

		if (c < 0) {
			i++;
		} else if (c > 0) {
			j++;
		} else {
			const struct nap_req *ex = &a->v[i], *in = &b->v[j];

			if (!nap_req_intersects(ex, in) &&
			    !(op_is_negative(nap_req_op(in)) && op_is_negative(nap_req_op(ex)))) {
				bad++;
				if (why == NULL)
					return bad;
				why_sep(why, len, used, nerr);
				why_incompatible(why, len, used, ex, in);
			}
			i++;
			j++;
		}
	}
	return bad;
}

int
nap_reqs_intersects(const struct nap_reqs *a, const struct nap_reqs *b, char *why, size_t len)
{
	size_t used = 0;
	int nerr = 0;

	if (why != NULL && len > 0)
		why[0] = '\0';
	return intersects_at(a, b, why, len, &used, &nerr) == 0;
}

/* Levenshtein distance, for typo hints only (error path). */
static size_t
edit_distance(const char *s, const char *t)
{
	size_t m = strlen(s), n = strlen(t), i, j, row[256], prev, tmp;

	if (n >= NAP_ARRAY_LEN(row))
		return SIZE_MAX;
	for (j = 0; j <= n; j++)
		row[j] = j;
	for (i = 1; i <= m; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= n; j++) {
			size_t best = row[j] + 1;

			tmp = row[j];
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (prev + (s[i - 1] != t[j - 1]) < best)
				best = prev + (s[i - 1] != t[j - 1]);
			row[j] = best;
			prev = tmp;
		}
	}
	return row[n];
}

static int
looks_like(const char *key, const char *cand)
{
	const char *slash = strchr(key, '/');
	const char *suffix = slash ? slash + 1 : key;
	size_t m = strlen(key), n = strlen(cand);

	/*
	 * The distance is at least the difference in length, so a key far
	 * longer than any candidate (a hostile one of 64 KiB) costs no
	 * quadratic work on this error path.
	 */
	if (strstr(cand, key) != NULL ||
	    ((m > n ? m - n : n - m) < n / 5 && edit_distance(key, cand) < n / 5))
		return 1;
	return *suffix != '\0' && has_suffix(cand, strlen(cand), suffix);
}

/* Karpenter's labelHint: a well-known label (if allowed) or a node key the user may have meant. */
static const char *
label_hint(const struct nap_reqs *node, const char *key, unsigned flags)
{
	size_t i;

	if (flags & NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN) {
		for (i = 0; i < NAP_ARRAY_LEN(hint_order); i++)
			if (looks_like(key, hint_order[i]))
				return hint_order[i];
		for (i = 0; i < NAP_ARRAY_LEN(wellknown); i++)
			if (looks_like(key, wellknown[i]))
				return wellknown[i];
	}
	for (i = 0; i < node->n; i++)
		if (looks_like(key, node->v[i].key))
			return node->v[i].key;
	return NULL;
}

int
nap_reqs_compatible(
    const struct nap_reqs *node, const struct nap_reqs *pod, unsigned flags, char *why, size_t len)
{
	size_t i, j = 0, used = 0;
	int nerr = 0;

	/* The solver's hot path: one merge over both sets, stop at the first no. */
	if (why == NULL) {
		for (i = 0; i < pod->n; i++) {
			const struct nap_req *q = &pod->v[i], *ex;
			int c = 1;

			while (j < node->n && (c = strcmp(node->v[j].key, q->key)) < 0)
				j++;
			if (j < node->n && c == 0) {
				ex = &node->v[j];
				if (!nap_req_intersects(ex, q) &&
				    !(op_is_negative(nap_req_op(q)) &&
					op_is_negative(nap_req_op(ex))))
					return 0;
				continue;
			}
			if (op_is_negative(nap_req_op(q)))
				continue;
			if (!(flags & NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN) ||
			    !nap_label_is_wellknown(q->key))
				return 0;
		}
		return 1;
	}
	/* Karpenter's CanAdd wraps every reason in this one prefix. */
	if (len > 0) {
		why[0] = '\0';
		bprintf(why, len, &used, "incompatible requirements, ");
	}
	/* Both sorted by key: one merge finds the pod keys the node lacks. */
	for (i = 0; i < pod->n; i++) {
		const struct nap_req *q = &pod->v[i];
		const char *hint;
		int c = 1;

		while (j < node->n && (c = strcmp(node->v[j].key, q->key)) < 0)
			j++;
		if (j < node->n && c == 0)
			continue;
		if (op_is_negative(nap_req_op(q)))
			continue;
		if ((flags & NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN) && nap_label_is_wellknown(q->key))
			continue;
		why_sep(why, len, &used, &nerr);
		bprintf(why, len, &used, "label \"%s\" does not have known values", q->key);
		if ((hint = label_hint(node, q->key, flags)) != NULL)
			bprintf(why, len, &used, " (typo of \"%s\"?)", hint);
	}
	/* Karpenter lists the undefined keys first, then the conflicts. */
	intersects_at(node, pod, why, len, &used, &nerr);
	if (nerr == 0 && len > 0)
		why[0] = '\0';
	return nerr == 0;
}

/* ---- minValues ---- */

int
nap_reqs_has_min_values(const struct nap_reqs *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->v[i].min_values > 0)
			return 1;
	return 0;
}

struct seen {
	const char **v;
	size_t n, alloc;
};

static int
seen_add(struct seen *s, const char *value)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], value) == 0)
			return 0;
	nap_xgrow(&s->v, &s->alloc, s->n + 1, sizeof(s->v[0]));
	s->v[s->n++] = value;
	return 1;
}

/*
 * The values type it brings to requirement q: only its concrete values count
 * (a NotIn names what it lacks), and only those q itself allows: a claim
 * narrowed to In [spot] can never use a type's on-demand.
 */
static void
seen_type(const struct nap_req *q, const struct nap_reqs *it, struct seen *seen)
{
	const struct nap_req *t = nap_reqs_get(it, q->key);
	size_t v;

	if (t != NULL && !t->complement)
		for (v = 0; v < t->nvalues; v++)
			if (nap_req_allows(q, t->values[v]))
				seen_add(seen, t->values[v]);
}

int
nap_reqs_min_values_relax(struct nap_reqs *r, const struct nap_reqs *const *its, size_t n)
{
	size_t i, k;
	int lowered = 0;

	for (k = 0; k < r->n; k++) {
		struct seen seen = {NULL, 0, 0};

		if (r->v[k].min_values == 0)
			continue;
		for (i = 0; i < n && seen.n < (size_t)r->v[k].min_values; i++)
			seen_type(&r->v[k], its[i], &seen);
		if (seen.n < (size_t)r->v[k].min_values) {
			r->v[k].min_values = (int)seen.n;
			lowered++;
		}
		free(seen.v);
	}
	return lowered;
}

long
nap_reqs_min_values_needed(
    const struct nap_reqs *r, const struct nap_reqs *const *its, size_t n, char *why, size_t len)
{
	struct seen *seen;
	size_t i, k, used = 0;
	long result = -1;
	int nerr = 0;

	if (why != NULL && len > 0)
		why[0] = '\0';
	if (!nap_reqs_has_min_values(r))
		return 0;
	seen = nap_xcalloc(r->n, sizeof(*seen));
	for (i = 0; i < n && result < 0; i++) {
		int ok = 1;

		for (k = 0; k < r->n; k++) {
			if (r->v[k].min_values == 0)
				continue;
			seen_type(&r->v[k], its[i], &seen[k]);
			if (seen[k].n < (size_t)r->v[k].min_values)
				ok = 0;
		}
		if (ok)
			result = (long)i + 1;
	}
	if (result < 0) {
		bprintf(why, len, &used, "minValues requirement is not met for label(s) (");
		for (k = 0; k < r->n; k++) {
			if (r->v[k].min_values == 0 || seen[k].n >= (size_t)r->v[k].min_values)
				continue;
			bprintf(why, len, &used, "%s%s: %zu of %d", nerr++ ? ", " : "", r->v[k].key,
			    seen[k].n, r->v[k].min_values);
		}
		bprintf(why, len, &used, ")");
	}
	for (k = 0; k < r->n; k++)
		free(seen[k].v);
	free(seen);
	return result;
}

/* ---- conversions ---- */

static json_object *
item_json(const char *key, const char *op, const char *const *vals, size_t n, int min_values)
{
	json_object *o = json_object_new_object(), *a;
	size_t i;

	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "operator", json_object_new_string(op));
	if (n > 0) {
		a = json_object_new_array_ext((int)n);
		for (i = 0; i < n; i++)
			json_object_array_add(a, json_object_new_string(vals[i]));
		json_object_object_add(o, "values", a);
	}
	if (min_values > 0)
		json_object_object_add(o, "minValues", json_object_new_int(min_values));
	return o;
}

json_object *
nap_reqs_to_json(const struct nap_reqs *r)
{
	json_object *arr = json_object_new_array();
	char num[24];
	const char *p = num;
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct nap_req *q = &r->v[i];
		enum nap_op op = nap_req_op(q);
		int mv = q->min_values, emitted = 0;

		/*
		 * Karpenter writes only the Gt of a Gt-and-Lt range; nap writes one
		 * item per constraint so that reading the list back gives the same
		 * requirement.
		 */
		if (op != NAP_OP_EXISTS || (!q->has_gt && !q->has_lt)) {
			json_object_array_add(arr,
			    item_json(q->key, nap_op_name(op), (const char *const *)q->values,
				q->nvalues, mv));
			emitted = 1;
		}
		if (q->has_gt) {
			/*
			 * Gte 0 is kept as gt -1, which no Gt can say: the CRDs take
			 * non-negative values only, so it goes out as Gte again.
			 */
			int gte = q->gt < 0;

			snprintf(num, sizeof(num), "%lld", (long long)(gte ? q->gt + 1 : q->gt));
			json_object_array_add(
			    arr, item_json(q->key, gte ? "Gte" : "Gt", &p, 1, emitted ? 0 : mv));
			emitted = 1;
		}
		if (q->has_lt) {
			snprintf(num, sizeof(num), "%lld", (long long)q->lt);
			json_object_array_add(
			    arr, item_json(q->key, "Lt", &p, 1, emitted ? 0 : mv));
		}
	}
	return arr;
}

json_object *
nap_reqs_labels(const struct nap_reqs *r)
{
	json_object *m = json_object_new_object();
	char buf[512];
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (nap_label_is_restricted_node(r->v[i].key))
			continue;
		if (nap_req_any(&r->v[i], buf, sizeof(buf)))
			json_object_object_add(m, r->v[i].key, json_object_new_string(buf));
	}
	return m;
}

/* ---- pod label selectors ---- */

struct sel_expr {
	enum nap_op op;
	struct nap_req set; /* key and values; the operator is op */
};

struct nap_selector {
	int match_none;
	struct sel_expr *e;
	size_t n, alloc;
};

static void
sel_push(struct nap_selector *s, const char *key, enum nap_op op, const char *const *vals, size_t n)
{
	struct sel_expr *e;
	struct vlist l;

	nap_xgrow(&s->e, &s->alloc, s->n + 1, sizeof(s->e[0]));
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	e->op = op;
	vlist_init(&l, n);
	if (n > 0) /* vals may be NULL then */
		memcpy(l.v, vals, n * sizeof(char *));
	l.n = n;
	vlist_normalise(&l);
	req_build(&e->set, key, l.v, l.n);
	vlist_done(&l);
}

void
nap_selector_free(struct nap_selector *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		req_free(&s->e[i].set);
	free(s->e);
	free(s);
}

static int
sel_parse_expr(struct nap_selector *s, json_object *x, size_t idx, struct nap_err *err)
{
	json_object *jkey, *jop, *jvals = NULL;
	const char *key, *opname, *stackvals[8], **vals = stackvals;
	enum nap_op op;
	size_t n = 0, i;
	int rc = -1;

	if (!json_object_is_type(x, json_type_object) ||
	    !json_object_object_get_ex(x, "key", &jkey) ||
	    !json_object_is_type(jkey, json_type_string) || json_object_get_string_len(jkey) == 0)
		return nap_err_set(
		    err, NAP_EX_DATAERR, "label selector: matchExpressions[%zu]: missing key", idx);
	key = json_object_get_string(jkey);
	opname = json_object_object_get_ex(x, "operator", &jop) ? json_object_get_string(jop) : "";
	if (opname == NULL)
		opname = "";
	if (nap_op_parse(opname, &op) < 0 || op > NAP_OP_DOESNOTEXIST)
		return nap_err_set(err, NAP_EX_DATAERR,
		    "label selector: key \"%s\": unsupported operator \"%s\"", key, opname);
	if (json_object_object_get_ex(x, "values", &jvals) && jvals != NULL) {
		if (!json_object_is_type(jvals, json_type_array))
			return nap_err_set(err, NAP_EX_DATAERR,
			    "label selector: key \"%s\": values is not an array", key);
		n = json_object_array_length(jvals);
	}
	if ((op == NAP_OP_IN || op == NAP_OP_NOTIN) && n == 0)
		return nap_err_set(err, NAP_EX_DATAERR,
		    "label selector: key \"%s\": operator %s needs at least one value", key,
		    opname);
	if ((op == NAP_OP_EXISTS || op == NAP_OP_DOESNOTEXIST) && n != 0)
		return nap_err_set(err, NAP_EX_DATAERR,
		    "label selector: key \"%s\": operator %s takes no values", key, opname);
	if (n > NAP_ARRAY_LEN(stackvals))
		vals = nap_xmalloc(n * sizeof(*vals));
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(jvals, i);

		if (!json_object_is_type(v, json_type_string)) {
			nap_err_set(err, NAP_EX_DATAERR,
			    "label selector: key \"%s\": value %zu is not a string", key, i);
			goto out;
		}
		vals[i] = json_object_get_string(v);
	}
	sel_push(s, key, op, vals, n);
	rc = 0;
out:
	if (vals != stackvals)
		free(vals);
	return rc;
}

int
nap_selector_parse(struct nap_selector **out, json_object *sel, struct nap_err *err)
{
	struct nap_selector *s = nap_xcalloc(1, sizeof(*s));
	json_object *ml, *me;
	size_t i, n;

	*out = NULL;
	if (sel == NULL) {
		s->match_none = 1;
		*out = s;
		return 0;
	}
	if (!json_object_is_type(sel, json_type_object)) {
		nap_selector_free(s);
		return nap_err_set(err, NAP_EX_DATAERR, "label selector: not an object");
	}
	if (json_object_object_get_ex(sel, "matchLabels", &ml) && ml != NULL) {
		if (!json_object_is_type(ml, json_type_object)) {
			nap_selector_free(s);
			return nap_err_set(
			    err, NAP_EX_DATAERR, "label selector: matchLabels is not an object");
		}
		json_object_object_foreach(ml, k, v)
		{
			const char *val = json_object_get_string(v);

			if (!json_object_is_type(v, json_type_string)) {
				nap_selector_free(s);
				return nap_err_set(err, NAP_EX_DATAERR,
				    "label selector: matchLabels \"%s\" is not a string", k);
			}
			sel_push(s, k, NAP_OP_IN, &val, 1);
		}
	}
	if (json_object_object_get_ex(sel, "matchExpressions", &me) && me != NULL) {
		if (!json_object_is_type(me, json_type_array)) {
			nap_selector_free(s);
			return nap_err_set(err, NAP_EX_DATAERR,
			    "label selector: matchExpressions is not an array");
		}
		n = json_object_array_length(me);
		for (i = 0; i < n; i++) {
			if (sel_parse_expr(s, json_object_array_get_idx(me, i), i, err) < 0) {
				nap_selector_free(s);
				return -1;
			}
		}
	}
	*out = s;
	return 0;
}

int
nap_selector_matches(const struct nap_selector *s, json_object *labels_map)
{
	size_t i;

	if (s == NULL || s->match_none)
		return 0;
	for (i = 0; i < s->n; i++) {
		const struct sel_expr *e = &s->e[i];
		json_object *v = NULL;
		int present = labels_map != NULL &&
		    json_object_object_get_ex(labels_map, e->set.key, &v) &&
		    json_object_is_type(v, json_type_string);

		switch (e->op) {
		case NAP_OP_IN:
			if (!present || !has_value(&e->set, json_object_get_string(v)))
				return 0;
			break;
		case NAP_OP_NOTIN:
			if (present && has_value(&e->set, json_object_get_string(v)))
				return 0;
			break;
		case NAP_OP_EXISTS:
			if (!present)
				return 0;
			break;
		default:
			if (present)
				return 0;
			break;
		}
	}
	return 1;
}
