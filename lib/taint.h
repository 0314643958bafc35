/*
 * taint.h - node taints and pod tolerations, and the one matcher every
 * deciding tool uses (k8s-arm-protocol §4.2, kube-scheduler's
 * TaintToleration and Karpenter's scheduling.Taints.ToleratesPod).
 *
 * Ownership: the structs hold plain strings that are never NULL ("" when
 * absent); who owns them is the filler's business (the cluster model owns
 * those it parses, see model.h).  Nothing here allocates, prints or fails.
 */
#ifndef NAP_TAINT_H
#define NAP_TAINT_H

#include <stddef.h>
#include <stdint.h>

enum nap_effect {
	NAP_EFFECT_ANY, /* toleration with no effect: matches every effect */
	NAP_EFFECT_NOSCHEDULE,
	NAP_EFFECT_PREFERNOSCHEDULE,
	NAP_EFFECT_NOEXECUTE,
	NAP_EFFECT_OTHER, /* a taint effect nap does not know (kept, never tolerated by effect) */
};

struct nap_taint {
	char *key;
	char *value; /* "" when absent */
	enum nap_effect effect;
};

struct nap_toleration {
	char *key;  /* "" with exists = every key */
	int exists; /* operator Exists (else Equal, the default) */
	char *value;
	enum nap_effect effect; /* NAP_EFFECT_ANY when empty */
	int64_t seconds;	/* tolerationSeconds, -1 when absent */
};

/* "NoSchedule", "PreferNoSchedule", "NoExecute"; "" for ANY, "?" for OTHER. */
const char *nap_effect_name(enum nap_effect e);
/* The effect of that name; "" is NAP_EFFECT_ANY, anything unknown NAP_EFFECT_OTHER. */
enum nap_effect nap_effect_parse(const char *s);

/* 1 when one of the n tolerations matches the taint. */
int nap_tolerates(const struct nap_toleration *tol, size_t n, const struct nap_taint *t);

/* What nap_taints_tolerated leaves aside. */
enum {
	NAP_TAINTS_SKIP_PREFER = 1,    /* PreferNoSchedule taints (they never block a pod) */
	NAP_TAINTS_SKIP_EPHEMERAL = 2, /* taints a starting node loses (nap_taint_is_ephemeral) */
};

/*
 * 1 when every taint not skipped by flags (NAP_TAINTS_*) is tolerated;
 * otherwise 0 and, if bad is not NULL, the first taint not tolerated
 * (*bad is NULL on success).
 */
int nap_taints_tolerated(const struct nap_toleration *tol, size_t n, const struct nap_taint *taints,
    size_t ntaints, unsigned flags, const struct nap_taint **bad);
/* nap_taints_tolerated with NAP_TAINTS_SKIP_PREFER: may the pod schedule there at all? */
int nap_tolerates_all(const struct nap_toleration *tol, size_t n, const struct nap_taint *taints,
    size_t ntaints, const struct nap_taint **bad);

/*
 * 1 when a taint with this key is one a node carries only while it starts
 * and is expected to lose (karpenter.md §2.3): karpenter.sh/unregistered,
 * node.kubernetes.io/not-ready and unreachable,
 * node.cloudprovider.kubernetes.io/uninitialized, and any readiness.k8s.io/
 * gate.  A NodePool's own startupTaints are the caller's to add.
 */
int nap_taint_is_ephemeral(const char *key);

#endif
