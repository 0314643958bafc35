/*
 * drift.h - whether a NodeClaim has drifted from what its NodePool and
 * AKSNodeClass now say, with Karpenter's reasons in Karpenter's order
 * (karpenter.md §4.8, azure-provider.md §1.2, §5.5), and the hashes that
 * make template drift cheap to see.
 *
 * Hashes.  A NodePool's hash covers what Karpenter's does: the template's
 * labels, annotations, taints, startupTaints, nodeClassRef, expireAfter
 * (720h when absent) and terminationGracePeriod; not the requirements
 * (RequirementsDrifted judges those), nor disruption, limits or weight.  An
 * AKSNodeClass's hash covers its whole spec but tags.  Both treat lists as
 * sets and leave out zero values (null, "", 0, false, empty lists and
 * maps), so reordering a list or writing a default out changes nothing.
 * nap's hashes are not Karpenter's: they carry hash versions of nap's own
 * (NAP_NODEPOOL_HASH_VERSION, NAP_NODECLASS_HASH_VERSION), and a NodeClaim
 * stamped under another version (by Karpenter, or an older nap) is never
 * drifted by hash: it is re-stamped instead (nap_drift_restamp), so that a
 * change of hashing drifts nothing.
 *
 * Pure: no clock, no network, nothing printed.  Hash strings are written
 * into the caller's buffer; the restamp object is the caller's.
 */
#ifndef NAP_DRIFT_H
#define NAP_DRIFT_H

#include <json-c/json.h>
#include <stdint.h>

#include "catalog.h"
#include "model.h"

#define NAP_NODEPOOL_HASH_VERSION "nap-v1"
#define NAP_NODECLASS_HASH_VERSION "nap-v1"

/* A hash as written in the annotations: a 64-bit number in decimal. */
#define NAP_DRIFT_HASH_LEN 24

/* The hash of NodePool np's template (from its object as read). */
void nap_nodepool_hash(const struct nap_nodepool *np, char buf[NAP_DRIFT_HASH_LEN]);
/* The hash of AKSNodeClass c's spec (from its object as read). */
void nap_nodeclass_hash(const struct nap_nodeclass *c, char buf[NAP_DRIFT_HASH_LEN]);

/* The reasons, first hit wins, in this order. */
enum nap_drift {
	NAP_DRIFT_NONE,
	NAP_DRIFT_NODEPOOL,	 /* NodePoolDrifted: the template's hash moved */
	NAP_DRIFT_REQUIREMENTS,	 /* RequirementsDrifted: its labels leave the requirements */
	NAP_DRIFT_INSTANCE_TYPE, /* InstanceTypeNotFound: its size or offering is gone */
	NAP_DRIFT_NODECLASS,	 /* NodeClassDrift: the class's hash moved */
	NAP_DRIFT_K8S_VERSION,	 /* K8sVersionDrift */
	NAP_DRIFT_IMAGE,	 /* ImageDrift */
};

/* The Drifted condition's reason for d ("" for none), as Karpenter and the provider write it. */
const char *nap_drift_reason(enum nap_drift d);
/* 1 when reason is one of the above: a Drifted condition nap may set and clear. */
int nap_drift_reason_known(const char *reason);

/* Claims younger than this are not judged for InstanceTypeNotFound (Karpenter's 1 h). */
#define NAP_DRIFT_ITYPE_MIN_AGE_MS (INT64_C(3600) * 1000)

struct nap_drift_in {
	const struct nap_nodeclaim *nc;
	const struct nap_node *node;	    /* its Node, NULL before it registers */
	const struct nap_nodepool *pool;    /* NULL: the pool's reasons are not checked */
	const struct nap_nodeclass *nclass; /* NULL: the class's reasons are not checked */
	const struct nap_catalog *cat;	    /* NULL: InstanceTypeNotFound is not checked */
	int64_t now_ms;
	int64_t itype_min_age_ms; /* NAP_DRIFT_ITYPE_MIN_AGE_MS, or less under a time scale */
};

/*
 * Whether in->nc has drifted, first hit wins:
 *   NodePoolDrifted      its karpenter.sh/nodepool-hash differs from the
 *                        pool's hash, only when its hash version is nap's;
 *   RequirementsDrifted  its labels no longer satisfy the pool's
 *                        requirements (Karpenter's Compatible, undefined
 *                        well-known labels allowed);
 *   InstanceTypeNotFound at least itype_min_age_ms old, and its
 *                        node.kubernetes.io/instance-type is not in the
 *                        catalog, or no available offering matches its zone
 *                        and capacity type (reserved counts as on-demand);
 *   NodeClassDrift       its karpenter.azure.com/aksnodeclass-hash differs
 *                        from the class's, only when its version is nap's;
 *   K8sVersionDrift      the Node's kubeletVersion, without "v", differs
 *                        from the class's status.kubernetesVersion (unknown
 *                        either side: not drifted);
 *   ImageDrift           its status.imageID is not among status.images (an
 *                        empty imageID or list: not drifted).
 * A claim not yet launched (no Launched or Initialized True, no
 * providerID or imageID) or deleting has not drifted.
 */
enum nap_drift nap_drift_check(const struct nap_drift_in *in);

/*
 * The annotations to merge into nc so its hashes follow nap's hashing, or
 * NULL when there is nothing to write: for the pool (np may be NULL) and
 * the class (c may be NULL) whose hash version on nc is not nap's, the
 * version, and the hash too unless nc is Drifted (a drifted claim stays
 * drifted: under the old hashing nap cannot tell whether it still is).
 */
json_object *nap_drift_restamp(
    const struct nap_nodeclaim *nc, const struct nap_nodepool *np, const struct nap_nodeclass *c);

#endif
