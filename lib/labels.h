/*
 * labels.h - node-selector requirement algebra with Karpenter's semantics,
 * the well-known and restricted label lists, and pod label selectors.
 *
 * A requirement (struct nap_req) is normalised the way Karpenter's is: per
 * key either a finite allowed set (complement == 0: In, or DoesNotExist when
 * empty) or everything except a set (complement == 1: NotIn, or Exists when
 * empty), plus optional exclusive integer bounds (Gt n keeps gt = n, Gte n
 * keeps gt = n-1, Lt n keeps lt = n, Lte n keeps lt = n+1) and minValues
 * (0 = unset).  Values are sorted and unique, so membership is a binary
 * search.  A set of requirements (struct nap_reqs) holds one entry per key,
 * sorted by key; adding a second requirement on a key intersects the two.
 * Alias keys are normalised on the way in (beta.kubernetes.io/arch →
 * kubernetes.io/arch, failure-domain.beta.kubernetes.io/zone →
 * topology.kubernetes.io/zone, ...).
 *
 * Ownership: a nap_reqs owns its keys and values (copies of what it was
 * given, one allocation per requirement); read them, never write or free
 * them; free the set with nap_reqs_free.  Pointers returned by nap_reqs_get
 * are borrowed and valid until the set is next modified.  The predicates
 * (allows, intersects, compatible) never allocate: the solver calls them
 * millions of times.
 *
 * Errors: functions that can fail return 0 or -1 and fill err with code
 * NAP_EX_DATAERR and a message naming the key, e.g.
 * `requirement "kubernetes.io/arch": unknown operator "Inn"`.  Predicates
 * return 1 (yes) or 0 (no) and, when "why" is not NULL, write Karpenter's
 * wording of the reason there, e.g.
 * `incompatible requirements, key karpenter.sh/capacity-type,
 * karpenter.sh/capacity-type In [spot] not in karpenter.sh/capacity-type
 * In [on-demand]`; several reasons are joined with "; ".
 */
#ifndef NAP_LABELS_H
#define NAP_LABELS_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "nap.h"

enum nap_op {
	NAP_OP_IN,
	NAP_OP_NOTIN,
	NAP_OP_EXISTS,
	NAP_OP_DOESNOTEXIST,
	NAP_OP_GT,
	NAP_OP_LT,
	NAP_OP_GTE,
	NAP_OP_LTE,
};

/* "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte"; -1 unknown. */
int nap_op_parse(const char *s, enum nap_op *op);
const char *nap_op_name(enum nap_op op);

struct nap_req {
	char *key;
	int complement; /* 1: everything except values */
	char **values;	/* sorted (strcmp), unique */
	size_t nvalues;
	int has_gt, has_lt; /* exclusive integer bounds */
	int64_t gt, lt;
	int min_values; /* 0 = unset */
};

struct nap_reqs {
	struct nap_req *v; /* sorted by key, one entry per key */
	size_t n, alloc;
};

void nap_reqs_init(struct nap_reqs *r);
void nap_reqs_free(struct nap_reqs *r);
/* dst must be initialised; its previous contents are freed, its array reused. */
void nap_reqs_copy(struct nap_reqs *dst, const struct nap_reqs *src);

/*
 * Add "key op vals" (intersected with any requirement already on key).
 * Gt/Lt/Gte/Lte need exactly one integer value; In with no values becomes
 * DoesNotExist, as Karpenter does.  min_values 0 = unset.
 */
int nap_reqs_add(struct nap_reqs *r, const char *key, enum nap_op op, const char *const *vals,
    size_t n, int min_values, struct nap_err *err);
/* Add (intersect) one requirement, already normalised. */
void nap_reqs_add_req(struct nap_reqs *r, const struct nap_req *q);
/*
 * [{key, operator, values, minValues}] as in a NodePool's
 * spec.template.spec.requirements or a nodeSelectorTerm's matchExpressions.
 * Validates as the API and Karpenter do: a valid label key and values, a
 * known operator, In and NotIn with at least one value, Exists and
 * DoesNotExist with none, Gt/Lt/Gte/Lte with exactly one non-negative
 * integer, minValues 1..50 and for In not above the number of values.
 * On error r may hold the items before the bad one.
 */
int nap_reqs_add_json(struct nap_reqs *r, json_object *arr, struct nap_err *err);
/* {k: v, ...} (nodeSelector, template labels) → k In [v] each. */
void nap_reqs_add_labels(struct nap_reqs *r, json_object *map);
/* Remove key's requirement if present. */
void nap_reqs_del(struct nap_reqs *r, const char *key);

/* Borrowed; NULL when key has no requirement. */
const struct nap_req *nap_reqs_get(const struct nap_reqs *r, const char *key);

/* The operator Karpenter would print for q (In, NotIn, Exists, DoesNotExist). */
enum nap_op nap_req_op(const struct nap_req *q);
/* 1 when value satisfies q. */
int nap_req_allows(const struct nap_req *q, const char *value);
/*
 * Pick a value q allows into buf: the first value of an In; for NotIn and
 * Exists the smallest non-negative integer inside the bounds and not
 * excluded (Karpenter picks a random one; nap is deterministic).  Returns 1
 * when a value was written, 0 when q allows none (DoesNotExist, empty).
 */
int nap_req_any(const struct nap_req *q, char *buf, size_t len);
/* 1 when some value satisfies both a and b (Karpenter's HasIntersection). */
int nap_req_intersects(const struct nap_req *a, const struct nap_req *b);
/* "key In [a b]", "key Exists >3 <10 minValues 2", as Karpenter prints. */
void nap_req_fmt(const struct nap_req *q, char *buf, size_t len);

/* dst = dst ∩ src, key by key. */
void nap_reqs_intersect(struct nap_reqs *dst, const struct nap_reqs *src);
/*
 * Karpenter's Requirements.Intersects: every key both define must have a
 * common value, except that two requirements that are both NotIn or
 * DoesNotExist are fine.  Keys only one side defines are allowed.
 */
int nap_reqs_intersects(const struct nap_reqs *a, const struct nap_reqs *b, char *why, size_t len);

/* Flags for nap_reqs_compatible. */
#define NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN 0x1

/*
 * Karpenter's Requirements.Compatible(pod, options): a pod key the node does
 * not define is allowed only if the pod's requirement on it is NotIn or
 * DoesNotExist, or (with NAP_REQS_ALLOW_UNDEFINED_WELLKNOWN) the key is a
 * well-known label.  Then nap_reqs_intersects(node, pod).  why reads as
 * Karpenter's CanAdd error: `incompatible requirements, label "foo" does
 * not have known values (typo of "bar"?)`, `incompatible requirements, key
 * k, k In [a] not in k In [b]`, several reasons joined by "; ".
 */
int nap_reqs_compatible(
    const struct nap_reqs *node, const struct nap_reqs *pod, unsigned flags, char *why, size_t len);

/* 1 when some requirement has minValues set. */
int nap_reqs_has_min_values(const struct nap_reqs *r);
/*
 * minValues check over candidate instance types, in the order given (cheapest
 * first): for each key of r with minValues, count the distinct values the
 * types' requirements on that key carry.  Returns the smallest prefix length
 * of its[] that satisfies every minValues (0 when r has none), or -1 when
 * even all n types do not; why then names the keys, as Karpenter does:
 * `minValues requirement is not met for label(s) (karpenter.azure.com/sku-family)`.
 */
long nap_reqs_min_values_needed(
    const struct nap_reqs *r, const struct nap_reqs *const *its, size_t n, char *why, size_t len);
/*
 * Karpenter's MIN_VALUES_POLICY=BestEffort: every minValues of r that the n
 * types its[] do not meet is lowered to the number of distinct values they
 * provide (counted as above).  Returns how many were lowered, 0 when r was
 * met already.
 */
int nap_reqs_min_values_relax(struct nap_reqs *r, const struct nap_reqs *const *its, size_t n);

/* Back to [{key, operator, values[, minValues]}]; caller owns the result. */
json_object *nap_reqs_to_json(const struct nap_reqs *r);
/*
 * Labels a node launched for r gets from it (Karpenter's Labels()): a value
 * for each key that is not a restricted node label (well-known labels come
 * from the instance type instead); caller owns the map.
 */
json_object *nap_reqs_labels(const struct nap_reqs *r);

/* The canonical key for an alias (beta.kubernetes.io/arch ...), else key itself. */
const char *nap_label_normalize(const char *key);
/*
 * Well-known labels: may be undefined on a NodePool and still be required by
 * a pod (Karpenter core's list plus the Azure provider's sku labels).
 */
int nap_label_is_wellknown(const char *key);
/*
 * Karpenter's IsRestrictedLabel: keys a pod's node selector or a NodePool
 * may not use: kubernetes.io/hostname, karpenter.azure.com/sku-hyperv-
 * generation, and any key whose domain ends in a restricted domain
 * (kubernetes.io, k8s.io, karpenter.sh, karpenter.azure.com) unless the key
 * is well-known or its domain ends in an exception (node.kubernetes.io,
 * node-role.kubernetes.io, node-restriction.kubernetes.io, kops.k8s.io).
 */
int nap_label_is_restricted(const char *key);
/*
 * What a NodePool's requirements may not use on top of that (its CEL
 * rules): karpenter.sh/nodepool, and in the karpenter.azure.com and
 * kubernetes.azure.com domains any key outside the provider's allow-list.
 */
int nap_label_is_restricted_nodepool(const char *key);
/*
 * Karpenter's IsRestrictedNodeLabel: keys nap must not copy from
 * requirements onto a node (well-known ones come from the instance type;
 * restricted domains are the kubelet's).
 */
int nap_label_is_restricted_node(const char *key);

/* Label syntax: an optional DNS-subdomain prefix and '/', then a name of at most 63. */
int nap_label_key_valid(const char *key);
/* Empty, or at most 63 of [A-Za-z0-9-_.] starting and ending alphanumeric. */
int nap_label_value_valid(const char *value);
/*
 * The registered value set of a well-known key (capacity-type {on-demand,
 * spot}, the Azure booleans, mode, priority, os-sku, ...) as a
 * NULL-terminated static list, or NULL when any value may appear.  A pod
 * whose In on such a key names none of them can never be scheduled.
 */
const char *const *nap_label_known_values(const char *key);

/*
 * Pod label selectors (metav1.LabelSelector: PDB selector, affinity and
 * topology-spread labelSelector).  An empty selector {} matches every pod;
 * an absent one (NULL json) matches none.  Operators In, NotIn, Exists,
 * DoesNotExist; anything else is an error naming it.
 */
struct nap_selector;
int nap_selector_parse(struct nap_selector **out, json_object *sel, struct nap_err *err);
/* labels_map is a pod's metadata.labels (NULL = no labels). */
int nap_selector_matches(const struct nap_selector *s, json_object *labels_map);
void nap_selector_free(struct nap_selector *s);

#endif
