/*
 * t-arm - lib/arm without a network: error bodies, the classification of
 * capacity and quota errors with the provider's TTLs, the token bucket and
 * the jittered backoff, and which nextLink URLs the client agrees to follow.
 */
#include <stdlib.h>
#include <string.h>

#include "arm.h"
#include "tap.h"

static const char quota_msg[] =
    "Operation could not be completed as it results in exceeding approved standardDSv3Family "
    "Cores quota. Additional details - Deployment Model: Resource Manager, Location: eastus, "
    "Current Limit: 10, Current Usage: 8, Additional Required: 4, (Minimum) New Limit "
    "Required: 12. Setup Alerts when Quota reaches threshold.";

static void
test_error_bodies(void)
{
	char code[128], *msg;
	const char *wrapped = "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"gone\"}}";
	const char *bare = "{\"code\":\"AllocationFailed\",\"message\":\"no room\"}";
	const char *throttled =
	    "{\"error\":{\"code\":\"OperationNotAllowed\",\"message\":\"{}\","
	    "\"details\":[{\"code\":\"TooManyRequests\",\"target\":\"PutVM3Min\"}]}}";

	nap_arm_error_parse(wrapped, strlen(wrapped), code, sizeof(code), &msg);
	TAP_IS_STR(code, "ResourceNotFound", "an error wrapped in \"error\" gives its code");
	TAP_IS_STR(msg, "gone", "and its message");
	free(msg);
	nap_arm_error_parse(bare, strlen(bare), code, sizeof(code), &msg);
	TAP_IS_STR(code, "AllocationFailed", "a bare {code,message} body is read too");
	free(msg);
	nap_arm_error_parse(throttled, strlen(throttled), code, sizeof(code), &msg);
	TAP_IS_STR(code, "TooManyRequests", "compute throttling is recognised by its detail");
	free(msg);
	nap_arm_error_parse("not json", 8, code, sizeof(code), &msg);
	TAP_IS_STR(code, "", "a body that is not JSON gives an empty code");
	TAP_IS_STR(msg, "", "and an empty message");
	free(msg);
	nap_arm_error_parse(NULL, 0, code, sizeof(code), &msg);
	TAP_IS_STR(code, "", "an empty body gives an empty code");
	free(msg);
}

static void
test_classify(void)
{
	TAP_IS_INT(nap_arm_classify("SkuNotAvailable", ""), NAP_ARM_SKU_NOT_AVAILABLE,
	    "SkuNotAvailable is its own class");
	TAP_IS_INT(nap_arm_classify("ZonalAllocationFailed", ""), NAP_ARM_ZONAL_ALLOCATION,
	    "ZonalAllocationFailed is a zonal allocation failure");
	TAP_IS_INT(nap_arm_classify("OperationNotAllowed", quota_msg), NAP_ARM_FAMILY_QUOTA,
	    "a family cores quota message is a family quota error");
	TAP_IS_INT(nap_arm_classify("OperationNotAllowed",
		       "exceeding approved Total Regional Cores quota. Current Limit: 10"),
	    NAP_ARM_REGIONAL_QUOTA, "the regional quota is told apart from the family one");
	TAP_IS_INT(
	    nap_arm_classify("OperationNotAllowed", "exceeding approved LowPriorityCores quota"),
	    NAP_ARM_SPOT_QUOTA, "LowPriorityCores is the spot quota");
	TAP_IS_INT(nap_arm_classify("OperationNotAllowed", "VM is marked for deletion"),
	    NAP_ARM_OTHER, "another OperationNotAllowed is not a quota error");
	TAP_IS_INT(
	    nap_arm_classify("InvalidParameter", "x"), NAP_ARM_OTHER, "an unrelated code is OTHER");
	TAP_IS_INT(nap_arm_classify(NULL, NULL), NAP_ARM_OTHER, "no code is OTHER");
	TAP_OK(!nap_arm_class_is_capacity(NAP_ARM_REGIONAL_QUOTA),
	    "the regional quota caches nothing: no other size would help");
	TAP_OK(nap_arm_class_is_capacity(NAP_ARM_OVERCONSTRAINED),
	    "overconstrained requests are capacity errors");
	TAP_IS_STR(nap_arm_class_reason(NAP_ARM_ZONAL_ALLOCATION), "ZonalAllocationFailure",
	    "reasons are the provider's words");
}

static void
test_ttls(void)
{
	TAP_IS_INT(nap_arm_class_ttl(NAP_ARM_SKU_NOT_AVAILABLE, 1, ""), 3600,
	    "SkuNotAvailable on spot is cached for an hour");
	TAP_IS_INT(nap_arm_class_ttl(NAP_ARM_SKU_NOT_AVAILABLE, 0, ""), 23 * 3600,
	    "SkuNotAvailable on demand is cached for 23 hours");
	TAP_IS_INT(nap_arm_class_ttl(NAP_ARM_ALLOCATION, 0, ""), 3600,
	    "allocation failures are cached for an hour");
	TAP_IS_INT(nap_arm_class_ttl(NAP_ARM_FAMILY_QUOTA, 0, quota_msg), 600,
	    "a family quota with room left is retried after 10 minutes");
	TAP_IS_INT(nap_arm_class_ttl(NAP_ARM_FAMILY_QUOTA, 0,
		       "standardDSv3Family Cores quota. Current Limit: 0, Current Usage: 0"),
	    3600, "a family quota of zero is cached for an hour");
	TAP_IS_INT(nap_arm_class_ttl(NAP_ARM_OTHER, 0, ""), 0, "other errors are not cached");
}

static void
test_bucket(void)
{
	struct nap_arm_bucket b;
	int i, taken = 0;

	nap_arm_bucket_init(&b, 3, 10, 1000);
	for (i = 0; i < 5; i++)
		if (nap_arm_bucket_take(&b, 1000) == 0)
			taken++;
	TAP_IS_INT(taken, 3, "a full bucket gives its burst at once and no more");
	TAP_OK(nap_arm_bucket_take(&b, 1000) > 0, "an empty bucket says how long to wait");
	TAP_IS_INT(nap_arm_bucket_take(&b, 1000), 101, "one token at 10/s is due in about 100 ms");
	TAP_IS_INT(nap_arm_bucket_take(&b, 1100), 0, "and is there 100 ms later");
	TAP_OK(nap_arm_bucket_take(&b, 1100) > 0, "only one token refilled in 100 ms");
	taken = 0;
	for (i = 0; i < 10; i++)
		if (nap_arm_bucket_take(&b, 100000) == 0)
			taken++;
	TAP_IS_INT(taken, 3, "a long pause refills no more than the burst");
}

static void
test_backoff(void)
{
	uint64_t rng = 42;
	int64_t d, prev_max = 0;
	unsigned a;
	int ok = 1, grows = 1;

	for (a = 1; a <= 10; a++) {
		int64_t cap = 1000LL << (a - 1);
		int k;

		if (cap > 30000)
			cap = 30000;
		for (k = 0; k < 50; k++) {
			d = nap_arm_backoff_ms(a, 1000, 30000, &rng);
			if (d < cap / 2 || d > cap)
				ok = 0;
		}
		if (cap < prev_max)
			grows = 0;
		prev_max = cap;
	}
	TAP_OK(ok, "each backoff lies in the upper half of base x 2^(attempt-1), capped");
	TAP_OK(grows, "the ceiling never shrinks with more attempts");
	{
		uint64_t r1 = 7, r2 = 7;
		int same = 1, k, spread = 0;
		int64_t first = nap_arm_backoff_ms(3, 1000, 30000, &r1);

		nap_arm_backoff_ms(3, 1000, 30000, &r2);
		for (k = 0; k < 20; k++) {
			int64_t x = nap_arm_backoff_ms(3, 1000, 30000, &r1);
			int64_t y = nap_arm_backoff_ms(3, 1000, 30000, &r2);

			if (x != y)
				same = 0;
			if (x != first)
				spread = 1;
		}
		TAP_OK(same, "the same random state gives the same delays");
		TAP_OK(spread, "delays are jittered, not all equal");
	}
}

static void
test_next_link(void)
{
	static const char ep[] = "https://management.azure.com";
	struct nap_arm_opts o;
	struct nap_http *h;
	struct nap_arm *a;
	struct nap_arm_call *c;
	struct nap_err err;
	const char *evil = "https://evil.example/subscriptions/s/providers/x?$skiptoken=1";

	TAP_OK(nap_arm_same_origin(ep,
		   "https://management.azure.com/subscriptions/s/resourceGroups/"
		   "rg/providers/Microsoft.Compute/virtualMachines?api-version="
		   "2024-07-01&$skiptoken=abc"),
	    "a nextLink on the endpoint has its origin");
	TAP_OK(nap_arm_same_origin(ep, "HTTPS://Management.Azure.COM:443/x"),
	    "scheme and host compare without case, and 443 is https's own port");
	TAP_OK(!nap_arm_same_origin(ep, "https://management.azure.com:8443/x"),
	    "another port is another origin");
	TAP_OK(!nap_arm_same_origin(ep, "http://management.azure.com/x"),
	    "plain http is another origin");
	TAP_OK(!nap_arm_same_origin(ep, "https://management.azure.com.evil.example/x"),
	    "a host that merely starts like the endpoint's is another origin");
	TAP_OK(!nap_arm_same_origin(ep, "https://management.azure.com@evil.example/x"),
	    "user information before another host is refused");
	TAP_OK(!nap_arm_same_origin(ep, "/subscriptions/s"), "a relative link has no origin");
	TAP_OK(nap_arm_same_origin("https://127.0.0.1:40322/", "https://127.0.0.1:40322/a?b=c"),
	    "a simulator's endpoint with a trailing slash matches its links");

	h = nap_http_new(&err);
	memset(&o, 0, sizeof(o));
	o.endpoint = ep;
	a = h ? nap_arm_new(h, &o, &err) : NULL;
	TAP_OK(a != NULL, "a client is made without a network");
	if (a == NULL) {
		nap_http_free(h);
		return;
	}
	memset(&err, 0, sizeof(err));
	c = nap_arm_start_url(a, evil, NULL, &err);
	TAP_OK(c == NULL, "a foreign nextLink is refused");
	TAP_IS_INT(err.code, NAP_EX_DATAERR, "as unusable input");
	TAP_OK(strstr(err.msg, evil) != NULL, "naming the URL");
	TAP_IS_INT((long)nap_arm_pending(a), 0, "and nothing is queued for it");
	c = nap_arm_start_url(a,
	    "https://management.azure.com/subscriptions/s/providers/x?api-version=1&$skiptoken=2",
	    NULL, &err);
	TAP_OK(c != NULL, "a nextLink on the endpoint is queued");
	TAP_IS_INT((long)nap_arm_pending(a), 1, "as one pending call");
	TAP_IS_INT((long)nap_arm_requests(a), 0, "sent only when the client is driven");
	c = nap_arm_start(a, "GET",
	    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/aks-a b\nc",
	    "2024-07-01", NULL, 0, NULL);
	TAP_OK(c != NULL && nap_arm_done(a) == c, "a path with a raw space and newline is done at once");
	TAP_OK(c && !nap_arm_result(c)->ok && nap_arm_result(c)->err.code == NAP_EX_DATAERR,
	    "as bad input, not as an unreachable endpoint");
	TAP_OK(c && strstr(nap_arm_result(c)->err.msg, "aks-a b\\nc") != NULL,
	    "naming the path, quoted: %s", c ? nap_arm_result(c)->err.msg : "");
	TAP_IS_INT((long)nap_arm_pending(a), 1, "nothing more is pending for it");
	if (c)
		nap_arm_call_free(c);
	nap_arm_free(a);
	nap_http_free(h);
}

int
main(void)
{
	test_error_bodies();
	test_classify();
	test_ttls();
	test_bucket();
	test_backoff();
	test_next_link();
	return tap_done();
}
