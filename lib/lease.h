/*
 * lease.h - leader election with a coordination.k8s.io/v1 Lease, the way
 * client-go's leaderelection does it, so that several copies of a program
 * can stand by and exactly one acts.
 *
 * The rule (k8s-arm-protocol.md 5.3): a candidate reads the Lease.  Absent,
 * it creates it with itself as holder.  Held by itself, it renews
 * (renewTime = now).  Held by another, it remembers the record it saw and
 * when, on its own monotonic clock, that record last changed; only once the
 * record has stayed the same for the lease's leaseDurationSeconds of local
 * time (or names no holder) does it take the Lease over.  Remote times are
 * never compared with the local clock, so clock skew between machines
 * does not matter.  Every write is a PUT carrying the resourceVersion that
 * was read: a 409 Conflict means another candidate wrote first, and the
 * record is read again before deciding anything.
 *
 * nap_lease_decide and nap_lease_fill are the deciding part, pure functions
 * of the record and the times given (unit-tested without a server);
 * nap_lease_try and nap_lease_release act through lib/kube.
 *
 * Ownership: struct nap_lease is the caller's; nap_lease_init copies the
 * strings it is given, nap_lease_free frees them.  Errors: the acting
 * functions return -1 with err filled (the API server could not be reached
 * or refused the request for a reason other than a conflict); a lost race is
 * not an error.
 */
#ifndef NAP_LEASE_H
#define NAP_LEASE_H

#include <stdint.h>

#include <json-c/json.h>

#include "nap.h"

struct nap_kube;

/* client-go's defaults, which Karpenter uses. */
#define NAP_LEASE_DURATION_MS 15000
#define NAP_LEASE_RENEW_DEADLINE_MS 10000
#define NAP_LEASE_RETRY_MS 2000

struct nap_lease {
	char *ns, *name, *identity;
	int duration_s; /* leaseDurationSeconds we write */
	/* what was last observed: */
	char *seen;	     /* resourceVersion, holder and renewTime of the record, or NULL */
	int64_t seen_ms;     /* local monotonic time the record last changed */
	char *holder;	     /* its holderIdentity, "" when none, NULL before the first read */
	int64_t transitions; /* its leaseTransitions */
};

enum nap_lease_act {
	NAP_LEASE_WAIT,	  /* another holds it and its lease still runs */
	NAP_LEASE_CREATE, /* there is no Lease: create one holding it */
	NAP_LEASE_RENEW,  /* we hold it: renew */
	NAP_LEASE_TAKE,	  /* free or expired: take it over */
};

void nap_lease_init(
    struct nap_lease *l, const char *ns, const char *name, const char *identity, int duration_s);
void nap_lease_free(struct nap_lease *l);

/*
 * What to do about lease (the object read, NULL when there is none) at local
 * monotonic time now_ms.  Updates l's record of what it has seen.
 */
enum nap_lease_act nap_lease_decide(struct nap_lease *l, json_object *lease, int64_t now_ms);

/*
 * The object to write for act (CREATE, RENEW or TAKE): for CREATE a new
 * Lease, else lease itself changed in place (and returned with a new
 * reference).  now is the wall-clock time as a MicroTime string
 * (nap_lease_microtime).  Caller puts the result.
 */
json_object *nap_lease_fill(
    const struct nap_lease *l, json_object *lease, enum nap_lease_act act, const char *now);

/* The wall-clock time as a Kubernetes MicroTime, "2026-01-02T03:04:05.123456Z". */
void nap_lease_microtime(char *buf, size_t len);

/*
 * One round of the election at local monotonic time now_ms: read the
 * Lease, decide, write if the decision says so.  1 when, after it, we hold
 * the Lease; 0 when another does (a 409 is read again once, then counts as
 * lost); -1 with err when the API server could not say.
 */
int nap_lease_try(struct nap_kube *k, struct nap_lease *l, int64_t now_ms, struct nap_err *err);

/*
 * Give the Lease up, if we hold it: holderIdentity "" and
 * leaseDurationSeconds 1, so a stand-by takes over at its next try instead
 * of waiting out the lease.  0 (also when another holds it by now), or -1
 * with err.
 */
int nap_lease_release(struct nap_kube *k, struct nap_lease *l, struct nap_err *err);

#endif
