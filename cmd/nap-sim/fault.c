/*
 * fault.c - the faults a test switches on, by --fault flags or by the
 * control endpoint on the ARM port (POST /nap-sim/faults, the same JSON
 * document): capacity per (size, zone, capacity type) with the real Azure
 * allocation errors, family / regional / spot vCPU quotas with the real
 * quota message, throttling and server errors at a rate, latency, spot
 * evictions, and on the Kubernetes side APF throttling, forced 410s and
 * dropped watches.  Rates draw from the world's --seed stream, so a run is
 * repeatable request for request.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "log.h"
#include "world.h"

void
fault_reset(struct world *w)
{
	size_t i;

	for (i = 0; i < w->faults.ncap; i++) {
		free(w->faults.cap[i].size);
		free(w->faults.cap[i].error);
	}
	w->faults.ncap = 0;
	if (w->faults.quotas)
		json_object_put(w->faults.quotas);
	w->faults.quotas = NULL;
	w->faults.throttle_rate = 0;
	w->faults.throttle_retry = 10;
	w->faults.error_rate = 0;
	w->faults.error_status = 500;
	w->faults.latency = 0;
	w->faults.k8s_throttle_rate = 0;
	w->faults.k8s_gone_rate = 0;
	w->faults.k8s_drop_rate = 0;
	w->faults.k8s_latency = 0;
}

static const char *const capacity_codes[] = {
    "SkuNotAvailable",
    "AllocationFailed",
    "ZonalAllocationFailed",
    "OverconstrainedAllocationRequest",
    "OverconstrainedZonalAllocationRequest",
};

static int
get_rate(json_object *o, const char *key, double *out, struct nap_err *err)
{
	json_object *v = nap_json_key(o, key);
	double d;

	if (v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return nap_err_set(err, NAP_EX_DATAERR, "%s: expected a number", key);
	d = json_object_get_double(v);
	if (d < 0)
		return nap_err_set(err, NAP_EX_DATAERR, "%s: must not be negative", key);
	*out = d;
	return 0;
}

static int
capacity_rule(struct world *w, json_object *r, struct nap_err *err)
{
	struct fault_capacity c = {0};
	const char *size = nap_json_str(r, "size", "*");
	const char *zone = nap_json_str(r, "zone", "*");
	const char *ct = nap_json_str(r, "capacityType", "*");
	const char *code = nap_json_str(r, "error", NULL);
	json_object *av = nap_json_get(r, "available"), *as = nap_json_get(r, "async");
	size_t i;

	if (!json_object_is_type(r, json_type_object))
		return nap_err_set(err, NAP_EX_DATAERR, "capacity: each rule is an object");
	if (strcmp(zone, "*") == 0) {
		c.zone = -1;
	} else {
		char *end;
		long z = strtol(zone, &end, 10);

		/* Accept "1" as well as the node label form "eastus-1". */
		if (*end != '\0' && strchr(zone, '-')) {
			z = strtol(strrchr(zone, '-') + 1, &end, 10);
		}
		if (*end != '\0' || z < 0 || z > 30)
			return nap_err_set(err, NAP_EX_DATAERR,
			    "capacity: zone %s: expected *, 0 (regional) or a zone number", zone);
		c.zone = (int)z;
	}
	if (strcmp(ct, "*") == 0)
		c.spot = -1;
	else if (strcmp(ct, "spot") == 0)
		c.spot = 1;
	else if (strcmp(ct, "on-demand") == 0)
		c.spot = 0;
	else
		return nap_err_set(err, NAP_EX_DATAERR,
		    "capacity: capacityType %s: expected spot, on-demand or *", ct);
	c.available = av ? (long)json_object_get_int64(av) : 0;
	if (c.available < 0)
		return nap_err_set(err, NAP_EX_DATAERR, "capacity: available must be >= 0");
	if (code) {
		for (i = 0; i < NAP_ARRAY_LEN(capacity_codes); i++)
			if (strcmp(code, capacity_codes[i]) == 0)
				break;
		if (i == NAP_ARRAY_LEN(capacity_codes))
			return nap_err_set(err, NAP_EX_DATAERR,
			    "capacity: error %s: expected one of SkuNotAvailable, "
			    "AllocationFailed, ZonalAllocationFailed, "
			    "OverconstrainedAllocationRequest, "
			    "OverconstrainedZonalAllocationRequest",
			    code);
	}
	c.async = as ? json_object_get_boolean(as) : -1;
	/* A rule for the same (size, zone, type) replaces the old one. */
	for (i = 0; i < w->faults.ncap; i++) {
		struct fault_capacity *o = &w->faults.cap[i];

		if (strcasecmp(o->size, size) == 0 && o->zone == c.zone && o->spot == c.spot) {
			free(o->size);
			free(o->error);
			o->size = nap_xstrdup(size);
			o->error = code ? nap_xstrdup(code) : NULL;
			o->available = c.available;
			o->async = c.async;
			return 0;
		}
	}
	c.size = nap_xstrdup(size);
	c.error = code ? nap_xstrdup(code) : NULL;
	nap_xgrow(&w->faults.cap, &w->faults.acap, w->faults.ncap + 1, sizeof(c));
	w->faults.cap[w->faults.ncap++] = c;
	return 0;
}

int
fault_apply(struct world *w, json_object *doc, struct nap_err *err)
{
	json_object *v, *k;
	size_t i, n;

	if (!json_object_is_type(doc, json_type_object))
		return nap_err_set(err, NAP_EX_DATAERR, "a fault document is a JSON object");
	json_object_object_foreach(doc, key, val)
	{
		static const char *const known[] = {
		    "reset", "capacity", "quotas", "throttle", "errors", "latency", "k8s", "evict"};

		(void)val;
		for (i = 0; i < NAP_ARRAY_LEN(known); i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == NAP_ARRAY_LEN(known))
			return nap_err_set(err, NAP_EX_DATAERR, "unknown fault %s", key);
	}
	if (nap_json_bool(doc, "reset", 0))
		fault_reset(w);
	if ((v = nap_json_get(doc, "capacity")) != NULL) {
		if (!json_object_is_type(v, json_type_array))
			return nap_err_set(
			    err, NAP_EX_DATAERR, "capacity: expected an array of rules");
		n = json_object_array_length(v);
		for (i = 0; i < n; i++)
			if (capacity_rule(w, json_object_array_get_idx(v, i), err) < 0)
				return -1;
	}
	if ((v = nap_json_get(doc, "quotas")) != NULL) {
		if (!json_object_is_type(v, json_type_object))
			return nap_err_set(err, NAP_EX_DATAERR,
			    "quotas: expected {\"<quota family>\"|\"regional\"|\"lowPriority\": "
			    "limit}");
		if (w->faults.quotas == NULL)
			w->faults.quotas = json_object_new_object();
		json_object_object_foreach(v, fam, lim)
		{
			if (lim == NULL) {
				json_object_object_del(w->faults.quotas, fam);
				continue;
			}
			if (!json_object_is_type(lim, json_type_int) ||
			    json_object_get_int64(lim) < 0)
				return nap_err_set(
				    err, NAP_EX_DATAERR, "quotas: %s: expected a vCPU count", fam);
			json_object_object_add(w->faults.quotas, fam, json_object_get(lim));
		}
	}
	if ((v = nap_json_get(doc, "throttle")) != NULL) {
		if (get_rate(v, "rate", &w->faults.throttle_rate, err) < 0 ||
		    get_rate(v, "retryAfter", &w->faults.throttle_retry, err) < 0)
			return nap_err_prefix(err, "throttle");
	}
	if ((v = nap_json_get(doc, "errors")) != NULL) {
		if (get_rate(v, "rate", &w->faults.error_rate, err) < 0)
			return nap_err_prefix(err, "errors");
		if ((k = nap_json_key(v, "status")) != NULL) {
			int st = json_object_get_int(k);

			if (st < 500 || st > 599)
				return nap_err_set(
				    err, NAP_EX_DATAERR, "errors: status %d is not 5xx", st);
			w->faults.error_status = st;
		}
	}
	if ((v = nap_json_get(doc, "latency")) != NULL) {
		double d = json_object_get_double(v);

		if (json_object_is_type(v, json_type_object))
			d = json_object_get_double(nap_json_key(v, "seconds"));
		if (d < 0 || d > 600)
			return nap_err_set(err, NAP_EX_DATAERR, "latency: expected 0..600 seconds");
		w->faults.latency = d;
	}
	if ((v = nap_json_get(doc, "k8s")) != NULL) {
		if (get_rate(v, "throttleRate", &w->faults.k8s_throttle_rate, err) < 0 ||
		    get_rate(v, "goneRate", &w->faults.k8s_gone_rate, err) < 0 ||
		    get_rate(v, "dropRate", &w->faults.k8s_drop_rate, err) < 0 ||
		    get_rate(v, "latency", &w->faults.k8s_latency, err) < 0)
			return nap_err_prefix(err, "k8s");
		if (nap_json_bool(v, "dropWatches", 0))
			sim_watch_drop_all(w->sim);
		if (nap_json_bool(v, "compact", 0))
			sim_watch_compact(w->sim);
	}
	if ((v = nap_json_get(doc, "evict")) != NULL) {
		if (!json_object_is_type(v, json_type_array))
			return nap_err_set(
			    err, NAP_EX_DATAERR, "evict: expected an array of VM names");
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			const char *name = json_object_get_string(json_object_array_get_idx(v, i));

			if (name == NULL || world_vm_evict(w, name) < 0)
				return nap_err_set(err, NAP_EX_DATAERR,
				    "evict: no running virtual machine %s", name ? name : "(null)");
		}
	}
	return 0;
}

json_object *
fault_to_json(struct world *w)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array(), *t;
	size_t i;

	for (i = 0; i < w->faults.ncap; i++) {
		const struct fault_capacity *c = &w->faults.cap[i];
		json_object *r = json_object_new_object();
		char z[16];

		json_object_object_add(r, "size", json_object_new_string(c->size));
		snprintf(z, sizeof(z), "%d", c->zone);
		json_object_object_add(r, "zone", json_object_new_string(c->zone < 0 ? "*" : z));
		json_object_object_add(r, "capacityType",
		    json_object_new_string(c->spot < 0 ? "*"
			    : c->spot		       ? "spot"
						       : "on-demand"));
		json_object_object_add(r, "available", json_object_new_int64(c->available));
		if (c->error)
			json_object_object_add(r, "error", json_object_new_string(c->error));
		if (c->async >= 0)
			json_object_object_add(r, "async", json_object_new_boolean(c->async));
		json_object_array_add(a, r);
	}
	json_object_object_add(o, "capacity", a);
	json_object_object_add(o, "quotas",
	    w->faults.quotas ? json_object_get(w->faults.quotas) : json_object_new_object());
	t = json_object_new_object();
	json_object_object_add(t, "rate", json_object_new_double(w->faults.throttle_rate));
	json_object_object_add(t, "retryAfter", json_object_new_double(w->faults.throttle_retry));
	json_object_object_add(o, "throttle", t);
	t = json_object_new_object();
	json_object_object_add(t, "rate", json_object_new_double(w->faults.error_rate));
	json_object_object_add(t, "status", json_object_new_int(w->faults.error_status));
	json_object_object_add(o, "errors", t);
	json_object_object_add(o, "latency", json_object_new_double(w->faults.latency));
	t = json_object_new_object();
	json_object_object_add(
	    t, "throttleRate", json_object_new_double(w->faults.k8s_throttle_rate));
	json_object_object_add(t, "goneRate", json_object_new_double(w->faults.k8s_gone_rate));
	json_object_object_add(t, "dropRate", json_object_new_double(w->faults.k8s_drop_rate));
	json_object_object_add(t, "latency", json_object_new_double(w->faults.k8s_latency));
	json_object_object_add(o, "k8s", t);
	return o;
}

/* One draw per enabled rate, so a fault switched off costs the stream nothing. */
static int
draw(struct world *w, double rate)
{
	if (rate <= 0)
		return 0;
	if (rate >= 1)
		return 1;
	return world_rand01(w) < rate;
}

void
arm_throttled(struct world *w, struct sim_resp *resp, const char *group, long allowed,
    long measured, double window, double retry)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	json_object *d = json_object_new_array(), *d0 = json_object_new_object();
	double now = world_wall();
	char ts0[40], ts1[40], inner[400];

	world_rfc3339_at(now - window / sim_scale(w->sim), ts0, sizeof(ts0));
	world_rfc3339_at(now, ts1, sizeof(ts1));
	/* Compute's throttling message is itself JSON. */
	snprintf(inner, sizeof(inner),
	    "{\"operationGroup\":\"%s\",\"startTime\":\"%s\",\"endTime\":\"%s\","
	    "\"allowedRequestCount\":%ld,\"measuredRequestCount\":%ld}",
	    group, ts0, ts1, allowed, measured);
	json_object_object_add(d0, "code", json_object_new_string("TooManyRequests"));
	json_object_object_add(d0, "target", json_object_new_string(group));
	json_object_object_add(d0, "message", json_object_new_string(inner));
	json_object_array_add(d, d0);
	json_object_object_add(e, "code", json_object_new_string("OperationNotAllowed"));
	json_object_object_add(e, "message", json_object_new_string(inner));
	json_object_object_add(e, "target", json_object_new_string(group));
	json_object_object_add(e, "details", d);
	json_object_object_add(o, "error", e);
	resp->retry_after = world_retry_after(w, retry);
	sim_resp_json(resp, 429, o);
}

int
fault_arm_request(struct world *w, const struct sim_req *req, struct sim_resp *resp)
{
	resp->delay = w->faults.latency;
	if (draw(w, w->faults.throttle_rate)) {
		const char *group = strcmp(req->method, "PUT") == 0 ? "PutVM3Min"
		    : strcmp(req->method, "DELETE") == 0	    ? "DeleteVM3Min"
								    : "HighCostGet3Min";

		arm_throttled(w, resp, group, 240, 241, 180, w->faults.throttle_retry);
		sim_resp_header(resp, "x-ms-ratelimit-remaining-resource",
		    strcmp(group, "PutVM3Min") == 0
			? "Microsoft.Compute/PutVM3Min;0,Microsoft.Compute/PutVM30Min;1198"
			: strcmp(group, "DeleteVM3Min") == 0
			? "Microsoft.Compute/DeleteVM3Min;0,Microsoft.Compute/DeleteVM30Min;1198"
			: "Microsoft.Compute/HighCostGet3Min;0,Microsoft.Compute/"
			  "HighCostGet30Min;798");
		return 1;
	}
	if (draw(w, w->faults.error_rate)) {
		int st = w->faults.error_status;

		if (st == 503) {
			resp->retry_after = world_retry_after(w, 10);
			arm_error(resp, st, "ServiceUnavailable", NULL,
			    "The service is currently unavailable. Please try again later.");
		} else if (st == 504) {
			arm_error(resp, st, "GatewayTimeout", NULL,
			    "The gateway did not receive a response from 'Microsoft.Compute' "
			    "within the specified time period.");
		} else if (st == 502) {
			arm_error(resp, st, "BadGateway", NULL,
			    "The gateway received an invalid response from 'Microsoft.Compute'.");
		} else {
			arm_error(resp, st, "InternalServerError", NULL,
			    "An internal execution error occurred. Please retry later.");
		}
		return 1;
	}
	return 0;
}

static int
cap_matches(const struct fault_capacity *c, const char *size, int zone, int spot)
{
	return (strcmp(c->size, "*") == 0 || strcasecmp(c->size, size) == 0) &&
	    (c->zone < 0 || c->zone == zone) && (c->spot < 0 || c->spot == spot);
}

static void
quota_fail(struct world *w, const char *what, long limit, long used, long need, int *status,
    char **code, char **msg)
{
	*status = 409;
	*code = nap_xstrdup("OperationNotAllowed");
	*msg = nap_xasprintf(
	    "Operation could not be completed as it results in exceeding approved %s quota. "
	    "Additional details - Deployment Model: Resource Manager, Location: %s, Current Limit: "
	    "%ld, Current Usage: %ld, Additional Required: %ld, (Minimum) New Limit Required: %ld. "
	    "Setup Alerts when Quota reaches threshold. Learn more at "
	    "https://aka.ms/quotamonitoringalerting . Submit a request for Quota increase at "
	    "https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView/"
	    "Parameters/"
	    "%%7B%%22subscriptionId%%22:%%22%s%%22,%%22command%%22:%%22openQuotaApprovalBlade%%22,%"
	    "%22quotas%%22:[%%7B%%22location%%22:%%22%s%%22%%7D]%%7D by specifying parameters "
	    "listed in the \u2018Details\u2019 section for deployment to succeed. Please read more "
	    "about quota limits at "
	    "https://docs.microsoft.com/en-us/azure/azure-supportability/per-vm-quota-requests",
	    what, w->region, limit, used, need, used + need, w->sub, w->region);
}

static long
quota_of(struct world *w, const char *key)
{
	json_object *v = w->faults.quotas ? nap_json_key(w->faults.quotas, key) : NULL;

	return v ? (long)json_object_get_int64(v) : -1;
}

int
fault_vm_create(
    struct world *w, const struct world_vm *vm, int *status, char **code, char **msg, int *async)
{
	const struct world_size *sz = vm->size;
	long lim, used, n;
	size_t i, j;

	*async = 0;
	/* Quotas first: ARM checks them before it looks for a host. */
	if (vm->spot) {
		if ((lim = quota_of(w, "lowPriority")) >= 0 &&
		    (used = world_vcpus_used(w, NULL, 1, 0)) + sz->vcpus > lim) {
			quota_fail(w, "LowPriorityCores", lim, used, sz->vcpus, status, code, msg);
			return -1;
		}
	} else {
		if ((lim = quota_of(w, sz->family)) >= 0 &&
		    (used = world_vcpus_used(w, sz->family, 0, 0)) + sz->vcpus > lim) {
			char what[160];

			snprintf(what, sizeof(what), "%s Cores", sz->family);
			quota_fail(w, what, lim, used, sz->vcpus, status, code, msg);
			return -1;
		}
		if ((lim = quota_of(w, "regional")) >= 0 &&
		    (used = world_vcpus_used(w, NULL, 0, 0)) + sz->vcpus > lim) {
			quota_fail(
			    w, "Total Regional Cores", lim, used, sz->vcpus, status, code, msg);
			return -1;
		}
	}
	for (i = 0; i < w->faults.ncap; i++) {
		const struct fault_capacity *c = &w->faults.cap[i];
		const char *ec;

		if (!cap_matches(c, sz->name, vm->zone, vm->spot))
			continue;
		for (n = 0, j = 0; j < w->nvms; j++) {
			const struct world_vm *o = w->vms[j];

			if (o->deleted || o->state == VM_FAILED || o->state == VM_DEALLOCATED ||
			    o->size == NULL || strcasecmp(o->name, vm->name) == 0)
				continue;
			if (cap_matches(c, o->size->name, o->zone, o->spot))
				n++;
		}
		if (n < c->available)
			continue;
		ec = c->error	   ? c->error
		    : vm->zone > 0 ? "ZonalAllocationFailed"
				   : "AllocationFailed";
		*code = nap_xstrdup(ec);
		if (strcmp(ec, "SkuNotAvailable") == 0) {
			*status = 400;
			*msg = nap_xasprintf(
			    "The requested VM size for resource 'Following SKUs have failed for "
			    "Capacity Restrictions: %s' is currently not available in location "
			    "'%s'. Please try another size or deploy to a different location or "
			    "zones. See https://aka.ms/azureskunotavailable for details.",
			    sz->name, w->region);
			*async = c->async > 0;
		} else {
			*status = 409;
			if (strncmp(ec, "Overconstrained", 15) == 0)
				*msg = nap_xstrdup(
				    "Allocation failed. VM(s) with the following constraints "
				    "cannot be allocated, because the condition is too "
				    "restrictive. Please remove some constraints and try again. "
				    "Constraints applied are:\n  - Differencing (Ephemeral) "
				    "Disks\n  - Networking Constraints (such as Accelerated "
				    "Networking or IPv6)\n  - VM Size\n");
			else
				*msg = nap_xasprintf(
				    "Allocation failed. We do not have sufficient capacity for the "
				    "requested VM size in this %s. Read more about improving "
				    "likelihood of allocation success at "
				    "http://aka.ms/allocation-guidance",
				    strcmp(ec, "ZonalAllocationFailed") == 0 ? "zone" : "region");
			*async = c->async != 0;
		}
		return -1;
	}
	return 0;
}

int
fault_control(struct world *w, const struct sim_req *req, struct sim_resp *resp)
{
	struct nap_err err = {0};
	json_object *doc;

	if (strncmp(req->path, "/nap-sim/", 9) != 0)
		return 0;
	/* Faults can stop every launch: only the holder of the simulator's token sets them. */
	if (!sim_req_admin(w->sim, req)) {
		arm_error(resp, 401, "AuthenticationFailed", NULL,
		    "The control endpoint needs the simulator's token "
		    "(Authorization: Bearer, as in the kubeconfig nap-sim wrote).");
		return 1;
	}
	if (gallery_control(w, req, resp))
		return 1;
	if (strcmp(req->path, "/nap-sim/stats") == 0) {
		if (strcmp(req->method, "DELETE") == 0)
			memset(sim_stats(w->sim), 0, sizeof(struct sim_stats));
		else if (strcmp(req->method, "GET") != 0) {
			arm_error(resp, 405, "MethodNotAllowed", NULL,
			    "The requested method '%s' is not allowed for this resource.",
			    req->method);
			return 1;
		}
		sim_resp_json(resp, 200, sim_stats_json(w->sim));
		return 1;
	}
	if (strcmp(req->path, "/nap-sim/faults") != 0) {
		arm_error(resp, 404, "NotFound", NULL, "No control endpoint %s.", req->path);
		return 1;
	}
	if (strcmp(req->method, "GET") == 0) {
		sim_resp_json(resp, 200, fault_to_json(w));
		return 1;
	}
	if (strcmp(req->method, "DELETE") == 0) {
		fault_reset(w);
		sim_resp_json(resp, 200, fault_to_json(w));
		return 1;
	}
	if (strcmp(req->method, "POST") != 0) {
		arm_error(resp, 405, "MethodNotAllowed", NULL,
		    "The requested method '%s' is not allowed for this resource.", req->method);
		return 1;
	}
	doc = json_tokener_parse(req->body ? req->body : "");
	if (doc == NULL || !json_object_is_type(doc, json_type_object)) {
		if (doc)
			json_object_put(doc);
		arm_error(resp, 400, "InvalidRequestContent", NULL,
		    "The fault document must be a JSON object.");
		return 1;
	}
	if (fault_apply(w, doc, &err) < 0) {
		json_object_put(doc);
		arm_error(resp, 400, "InvalidFault", NULL, "%s", err.msg);
		return 1;
	}
	json_object_put(doc);
	sim_resp_json(resp, 200, fault_to_json(w));
	return 1;
}

static int
is_watch(const struct sim_req *req)
{
	const char *wq = sim_req_query(req, "watch");

	return (wq && (strcmp(wq, "true") == 0 || strcmp(wq, "1") == 0)) ||
	    strstr(req->path, "/watch/") != NULL;
}

int
sim_fault_k8s(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	struct world *w = world_of(sim);
	const char *rv;

	if (w == NULL)
		return 0;
	resp->delay = w->faults.k8s_latency;
	if (draw(w, w->faults.k8s_throttle_rate)) {
		/* API priority and fairness rejecting: the Status carries retryAfterSeconds. */
		json_object *st = json_object_new_object(), *d = json_object_new_object();

		json_object_object_add(st, "kind", json_object_new_string("Status"));
		json_object_object_add(st, "apiVersion", json_object_new_string("v1"));
		json_object_object_add(st, "metadata", json_object_new_object());
		json_object_object_add(st, "status", json_object_new_string("Failure"));
		json_object_object_add(st, "message",
		    json_object_new_string("Too many requests, please try again later."));
		json_object_object_add(st, "reason", json_object_new_string("TooManyRequests"));
		json_object_object_add(d, "retryAfterSeconds", json_object_new_int(1));
		json_object_object_add(st, "details", d);
		json_object_object_add(st, "code", json_object_new_int(429));
		resp->retry_after = nap_xstrdup("1");
		sim_resp_json(resp, 429, st);
		return 1;
	}
	if (strcmp(req->method, "GET") != 0)
		return 0;
	rv = sim_req_query(req, "resourceVersion");
	if (is_watch(req) && rv && strcmp(rv, "0") != 0 && *rv &&
	    draw(w, w->faults.k8s_gone_rate)) {
		sim_resp_status(
		    resp, 410, "Expired", "too old resource version: %s (%llu)", rv, sim_rv(sim));
		return 1;
	}
	if (is_watch(req) && draw(w, w->faults.k8s_drop_rate)) {
		resp->drop = 1;
		return 1;
	}
	return 0;
}
