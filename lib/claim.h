/*
 * claim.h - the NodeClaim writer: a new claim the scheduler decided on
 * (struct nap_sched_claim, over a struct nap_sim) as the karpenter.sh/v1
 * NodeClaim a user would write, and as the LaunchRequest record nap-launch
 * reads (nap-records(5)), so that every tool that plans capacity asks for
 * it in the same bytes.
 *
 * The NodeClaim carries its NodePool's labels (custom single-valued
 * requirements, template labels, karpenter.sh/nodepool,
 * karpenter.azure.com/aksnodeclass), template annotations, an owner
 * reference to the NodePool, the pool's hash and hash version (lib/drift,
 * for NodePoolDrifted), the narrowed requirements with the instance
 * types ranked cheapest first (and minValues), the requests, taints,
 * startupTaints, expireAfter (default 720h), terminationGracePeriod and the
 * nodeClassRef.
 *
 * Ownership: the caller owns (json_object_put) what is returned.  The
 * instance-type list is written from the sim when the object is serialized:
 * serialize it before nap_sim_free.  Nothing here fails, prints or reads
 * the clock.
 */
#ifndef NAP_CLAIM_H
#define NAP_CLAIM_H

#include <json-c/json.h>

#include "sched.h"
#include "simulate.h"

/*
 * The NodeClaim object of NodePool np's current template named name, with
 * labels (the caller's first, may be NULL), the requirements reqs and the
 * requests: the one writer, which nap_claim_json calls for the scheduler's
 * claims and nap-disrupt for a replacement.  labels and reqs are taken (the
 * caller hands its references over); reqs NULL means none.
 */
json_object *nap_claim_object(const struct nap_nodepool *np, const char *name, json_object *labels,
    json_object *reqs, const struct nap_res *requests);
/* The NodeClaim object for claim c of sim. */
json_object *nap_claim_json(const struct nap_sim *sim, const struct nap_sched_claim *c);
/* {"type":"LaunchRequest","nodeClaim":...,"pods":["ns/name",...],"price":...}. */
json_object *nap_claim_launch_request(const struct nap_sim *sim, const struct nap_sched_claim *c);
/* "namespace/name" of a pod, as records name pods. */
json_object *nap_claim_pod_ref(const struct nap_sched_pod *p);

#endif
