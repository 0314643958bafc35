/*
 * arm.h - an Azure Resource Manager client for many operations in flight on
 * one thread: requests on a lib/http pool with a bearer token from lib/auth,
 * ?api-version= on every URL and an x-ms-client-request-id per request;
 * ARM error bodies parsed ({"error":{"code","message"}} or a bare
 * {"code","message"}); 429 retried after Retry-After; 5xx and transport
 * failures retried with jittered exponential backoff; a client-side token
 * bucket per kind of request (reads, writes, deletes) for the one
 * subscription the client talks to; long-running operations followed to a
 * terminal provisioningState.
 *
 * A long-running PUT or DELETE is followed by GETting the resource (for a
 * virtual machine with $expand=instanceView, whose statuses carry the code
 * of an asynchronous failure, e.g. ProvisioningState/failed/ZonalAllocationFailed)
 * until provisioningState is Succeeded, Failed or Canceled, or, for a
 * DELETE, until the resource answers 404.  lib/http does not hand response
 * headers other than Retry-After to its callers, so the
 * Azure-AsyncOperation and Location URLs are not used; the resource GET is
 * the third way ARM documents, and gives the same outcome.
 *
 * Driving: nap_arm_start() queues a call; nap_arm_wait() waits for network
 * activity, a timer or an extra fd, and moves calls on; nap_arm_done() hands
 * back finished calls.  Nothing blocks except fetching a token, which
 * lib/auth does synchronously when its cache is empty or stale.
 *
 * Time: opts.time_scale (>= 1) divides every wait the client chooses itself
 * (poll interval, backoff) and multiplies the bucket refill rates, so a
 * client pointed at nap-sim --time-scale N behaves as against Azure, N times
 * faster.  Retry-After is obeyed as sent.
 *
 * Ownership: the client borrows the pool and the auth (both must outlive
 * it).  A call belongs to the client until nap_arm_done() returns it, then
 * to the caller, who frees it with nap_arm_call_free(); its result (body,
 * strings) lives as long as the call.  nap_arm_free() frees calls not yet
 * handed back.
 *
 * Paging: an ARM list answers {"value":[...],"nextLink":URL} while more
 * remain.  nap_arm_start_url() GETs such a URL verbatim (its query already
 * carries api-version and $skiptoken) through the same token, retries and
 * read bucket as any other call, but only when its scheme, host and port are
 * the client's endpoint's: the bearer token is never sent anywhere else, and
 * a foreign nextLink is refused at once (NAP_EX_DATAERR, the URL named in
 * the message).  Following the pages, and bounding them, is the caller's.
 *
 * Errors: the result's err: NAP_EX_NOPERM for 401 (after one token refresh)
 * and 403, NAP_EX_UNAVAILABLE when retries are exhausted or the endpoint
 * cannot be reached, NAP_EX_CONFIG for TLS verification failures, NAP_EX_NO
 * for any other refusal (4xx, a failed long-running operation), whose ARM
 * code and message are in the result.
 */
#ifndef NAP_ARM_H
#define NAP_ARM_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "auth.h"
#include "http.h"
#include "nap.h"

#define NAP_ARM_API_COMPUTE "2024-07-01"
#define NAP_ARM_API_NETWORK "2024-05-01"

/* ---- error classification (azure-provider.md 4.5, k8s-arm-protocol.md 6.8) ---- */

enum nap_arm_class {
	NAP_ARM_OTHER,		       /* not a capacity or quota error */
	NAP_ARM_SKU_NOT_AVAILABLE,     /* SkuNotAvailable */
	NAP_ARM_ZONAL_ALLOCATION,      /* ZonalAllocationFailed */
	NAP_ARM_ALLOCATION,	       /* AllocationFailed */
	NAP_ARM_OVERCONSTRAINED_ZONAL, /* OverconstrainedZonalAllocationRequest */
	NAP_ARM_OVERCONSTRAINED,       /* OverconstrainedAllocationRequest */
	NAP_ARM_FAMILY_QUOTA,	       /* OperationNotAllowed + "Family Cores quota" */
	NAP_ARM_SPOT_QUOTA,	       /* OperationNotAllowed + "LowPriorityCores" */
	NAP_ARM_REGIONAL_QUOTA,	       /* OperationNotAllowed + "Total Regional Cores quota" */
	NAP_ARM_THROTTLED, /* 429 bodies: TooManyRequests, SubscriptionRequestsThrottled */
};

/* Classify an ARM error by code and (for OperationNotAllowed) message. */
enum nap_arm_class nap_arm_classify(const char *code, const char *message);
/* The provider's reason word ("ZonalAllocationFailure", "SubscriptionQuotaReached", ...). */
const char *nap_arm_class_reason(enum nap_arm_class c);
/*
 * How long (seconds) the unavailable-offerings cache keeps what the error
 * marks, for a spot or on-demand attempt; 0 when nothing is cached.  A
 * family quota error whose message says "Current Limit: 0" keeps 1 h,
 * otherwise 10 min.
 */
long nap_arm_class_ttl(enum nap_arm_class c, int spot, const char *message);
/* 1 for the classes that put offerings into the cache. */
int nap_arm_class_is_capacity(enum nap_arm_class c);

/*
 * Parse an ARM error body: code from error.code, else the top-level code;
 * message likewise.  A throttling body whose detail says TooManyRequests
 * yields "TooManyRequests".  code/message become "" when absent.  message
 * is a new string the caller frees.
 */
void nap_arm_error_parse(const char *body, size_t len, char *code, size_t codesz, char **message);

/* ---- rate limiting and backoff (exposed for tests) ---- */

struct nap_arm_bucket {
	double tokens, burst, rate; /* rate: tokens per second */
	int64_t at_ms;		    /* last refill */
};

void nap_arm_bucket_init(struct nap_arm_bucket *b, double burst, double rate, int64_t now_ms);
/* Take one token: 0 when taken, else the milliseconds until one is due. */
int64_t nap_arm_bucket_take(struct nap_arm_bucket *b, int64_t now_ms);
/*
 * Retry delay after `attempt` failures (1, 2, ...): base x 2^(attempt-1)
 * capped at cap, then a random point in its upper half (so many clients
 * that failed together spread out), drawn from *rng (xorshift state, not 0).
 */
int64_t nap_arm_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms, uint64_t *rng);

/* ---- the client ---- */

struct nap_arm_limit {
	double burst, rate; /* 0 = ARM's own: reads 250/25 s^-1, writes 200/10, deletes 200/10 */
};

struct nap_arm_opts {
	const char *endpoint;		/* "https://management.azure.com" */
	struct nap_auth *auth;		/* NULL: no Authorization header */
	const struct nap_http_tls *tls; /* NULL: system CAs */
	double time_scale;		/* 0 or 1: real time */
	unsigned max_attempts;		/* 5xx / transport attempts; 0 = 6 */
	unsigned max_throttled;		/* 429 answers tolerated per call; 0 = 30 */
	long timeout_ms;		/* per HTTP request; 0 = 60 s */
	long poll_ms;			/* LRO poll interval (before scaling); 0 = 3 s */
	int max_inflight;		/* concurrent HTTP requests; 0 = 128 */
	struct nap_arm_limit reads, writes, deletes;
};

/* Flags of a call. */
enum {
	NAP_ARM_LRO = 1,       /* follow a PUT or DELETE to its end */
	NAP_ARM_EXPAND_IV = 2, /* poll with $expand=instanceView (VMs) */
};

struct nap_arm_result {
	int ok;		    /* the request (and operation) succeeded */
	long status;	    /* HTTP status of the last answer, 0 when none */
	json_object *body;  /* last body parsed (the resource when polled), or NULL */
	char code[128];	    /* ARM error code, "" when none */
	char *message;	    /* ARM error message, never NULL */
	int async;	    /* the failure came from the long-running operation */
	unsigned requests;  /* HTTP requests this call made */
	struct nap_err err; /* when !ok */
};

struct nap_arm;
struct nap_arm_call;

struct nap_arm *nap_arm_new(
    struct nap_http *http, const struct nap_arm_opts *o, struct nap_err *err);
void nap_arm_free(struct nap_arm *a);

/*
 * Queue a call.  path starts with "/subscriptions/..." and has no query;
 * its segments escaped (nap_url_path): a path a URL cannot carry as it is
 * makes the call finish at once, not ok, with err NAP_EX_DATAERR.  body
 * (may be NULL) is serialised now.  arg is the caller's, returned by
 * nap_arm_call_arg().
 */
struct nap_arm_call *nap_arm_start(struct nap_arm *a, const char *method, const char *path,
    const char *api_version, json_object *body, unsigned flags, void *arg);
/*
 * Queue a GET of an absolute URL, a list's nextLink, sent as given.  NULL
 * with err filled (NAP_EX_DATAERR) when the URL is not on the client's
 * endpoint (scheme, host and port, default ports filled in) or carries
 * user information.
 */
struct nap_arm_call *nap_arm_start_url(
    struct nap_arm *a, const char *url, void *arg, struct nap_err *err);
/* 1 when url and endpoint have the same scheme, host and port, else 0. */
int nap_arm_same_origin(const char *endpoint, const char *url);
/*
 * Wait up to timeout_ms (-1: until something happens) for the network, the
 * next timer or extra_fd (-1: none), then move calls on.  Returns 1 when
 * extra_fd is readable, 0 otherwise, -1 on a libcurl failure.
 */
int nap_arm_wait(struct nap_arm *a, int extra_fd, int timeout_ms, struct nap_err *err);
/* A finished call, now the caller's, or NULL. */
struct nap_arm_call *nap_arm_done(struct nap_arm *a);
const struct nap_arm_result *nap_arm_result(const struct nap_arm_call *c);
void *nap_arm_call_arg(const struct nap_arm_call *c);
void nap_arm_call_free(struct nap_arm_call *c);
/* Calls queued, running or waiting, not yet finished. */
size_t nap_arm_pending(const struct nap_arm *a);
/* HTTP requests sent so far, and how many were answered 429. */
unsigned long nap_arm_requests(const struct nap_arm *a);
unsigned long nap_arm_throttled(const struct nap_arm *a);
/* Milliseconds until the client next needs nap_arm_wait, -1 when idle. */
int nap_arm_next_ms(const struct nap_arm *a);

#endif
