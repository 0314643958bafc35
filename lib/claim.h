/*
 * claim.h - a NodeClaim (karpenter.sh/v1) from its NodePool's current
 * template: the one writer of the nodeClaim of LaunchRequest records
 * (nap-records(5)), shared by nap-solve (new capacity) and nap-disrupt
 * (replacements).
 *
 * nap_claim_json builds the object: metadata.name; labels = the given
 * labels (the claim's single-valued requirements, may be NULL), then the
 * template labels, karpenter.sh/nodepool and karpenter.azure.com/aksnodeclass;
 * the template annotations; an ownerReference to the NodePool;
 * spec.requirements = reqs (taken: the caller hands its reference over);
 * spec.resources.requests; the template's taints, startupTaints, expireAfter
 * (720h when absent) and terminationGracePeriod; nodeClassRef (group and kind
 * defaulted).  Pure: no I/O; the result is a new object the caller puts.
 */
#ifndef NAP_CLAIM_H
#define NAP_CLAIM_H

#include <json-c/json.h>

#include "model.h"

json_object *nap_claim_json(const struct nap_nodepool *np, const char *name, json_object *labels,
    json_object *reqs, const struct nap_res *requests);

#endif
