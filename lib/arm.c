/*
 * arm.c - the Azure Resource Manager client: calls queued behind per-kind
 * token buckets, sent on the shared lib/http pool, retried, and followed to
 * the end of their long-running operation (see arm.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "arm.h"
#include "clock.h"
#include "json.h"
#include "text.h"

/* ---- classification ---- */

enum nap_arm_class
nap_arm_classify(const char *code, const char *message)
{
	if (code == NULL)
		return NAP_ARM_OTHER;
	if (message == NULL)
		message = "";
	if (strcmp(code, "SkuNotAvailable") == 0)
		return NAP_ARM_SKU_NOT_AVAILABLE;
	if (strcmp(code, "ZonalAllocationFailed") == 0)
		return NAP_ARM_ZONAL_ALLOCATION;
	if (strcmp(code, "AllocationFailed") == 0)
		return NAP_ARM_ALLOCATION;
	if (strcmp(code, "OverconstrainedZonalAllocationRequest") == 0)
		return NAP_ARM_OVERCONSTRAINED_ZONAL;
	if (strcmp(code, "OverconstrainedAllocationRequest") == 0)
		return NAP_ARM_OVERCONSTRAINED;
	if (strcmp(code, "TooManyRequests") == 0 ||
	    strcmp(code, "SubscriptionRequestsThrottled") == 0)
		return NAP_ARM_THROTTLED;
	if (strcmp(code, "OperationNotAllowed") == 0 || strcmp(code, "QuotaExceeded") == 0) {
		/* The regional message also says "Cores quota": test it first. */
		if (strstr(message, "Total Regional Cores quota"))
			return NAP_ARM_REGIONAL_QUOTA;
		if (strstr(message, "LowPriorityCores"))
			return NAP_ARM_SPOT_QUOTA;
		if (strstr(message, "Family Cores quota"))
			return NAP_ARM_FAMILY_QUOTA;
	}
	return NAP_ARM_OTHER;
}

const char *
nap_arm_class_reason(enum nap_arm_class c)
{
	switch (c) {
	case NAP_ARM_SKU_NOT_AVAILABLE:
		return "SKUNotAvailable";
	case NAP_ARM_ZONAL_ALLOCATION:
		return "ZonalAllocationFailure";
	case NAP_ARM_ALLOCATION:
		return "AllocationFailure";
	case NAP_ARM_OVERCONSTRAINED_ZONAL:
		return "OverconstrainedZonalAllocationFailure";
	case NAP_ARM_OVERCONSTRAINED:
		return "OverconstrainedAllocationFailure";
	case NAP_ARM_FAMILY_QUOTA:
	case NAP_ARM_SPOT_QUOTA:
		return "SubscriptionQuotaReached";
	case NAP_ARM_REGIONAL_QUOTA:
		return "InsufficientCapacity";
	case NAP_ARM_THROTTLED:
		return "Throttled";
	default:
		return "LaunchFailed";
	}
}

long
nap_arm_class_ttl(enum nap_arm_class c, int spot, const char *message)
{
	switch (c) {
	case NAP_ARM_SKU_NOT_AVAILABLE:
		return spot ? 3600 : 23 * 3600;
	case NAP_ARM_ZONAL_ALLOCATION:
	case NAP_ARM_ALLOCATION:
	case NAP_ARM_OVERCONSTRAINED_ZONAL:
	case NAP_ARM_OVERCONSTRAINED:
	case NAP_ARM_SPOT_QUOTA:
		return 3600;
	case NAP_ARM_FAMILY_QUOTA:
		return message && strstr(message, "Current Limit: 0,") ? 3600 : 600;
	default:
		return 0;
	}
}

int
nap_arm_class_is_capacity(enum nap_arm_class c)
{
	return c != NAP_ARM_OTHER && c != NAP_ARM_THROTTLED && c != NAP_ARM_REGIONAL_QUOTA;
}

void
nap_arm_error_parse(const char *body, size_t len, char *code, size_t codesz, char **message)
{
	json_object *root = NULL, *e, *d0;
	struct json_tokener *tok;
	const char *c = "", *m = "";

	if (body && len) {
		tok = json_tokener_new();
		root = json_tokener_parse_ex(tok, body, (int)len);
		json_tokener_free(tok);
	}
	if (root && json_object_is_type(root, json_type_object)) {
		e = nap_json_key(root, "error");
		if (!e || !json_object_is_type(e, json_type_object))
			e = root;
		c = nap_json_str(e, "code", "");
		m = nap_json_str(e, "message", "");
		/* Compute throttling: OperationNotAllowed with a TooManyRequests detail. */
		d0 = nap_json_key(e, "details");
		d0 = d0 && json_object_is_type(d0, json_type_array)
		    ? json_object_array_get_idx(d0, 0)
		    : NULL;
		if (d0 && strcmp(nap_json_str(d0, "code", ""), "TooManyRequests") == 0)
			c = "TooManyRequests";
		/* Template deployments nest the quota code in details. */
		if (d0 && strcmp(c, "InvalidTemplateDeployment") == 0 &&
		    strcmp(nap_json_str(d0, "code", ""), "QuotaExceeded") == 0) {
			c = "QuotaExceeded";
			m = nap_json_str(d0, "message", m);
		}
	}
	snprintf(code, codesz, "%s", c);
	*message = nap_xstrdup(m);
	if (root)
		json_object_put(root);
}

/* ---- buckets and backoff ---- */

void
nap_arm_bucket_init(struct nap_arm_bucket *b, double burst, double rate, int64_t now_ms)
{
	b->tokens = burst;
	b->burst = burst;
	b->rate = rate;
	b->at_ms = now_ms;
}

int64_t
nap_arm_bucket_take(struct nap_arm_bucket *b, int64_t now_ms)
{
	double need;

	if (now_ms > b->at_ms) {
		b->tokens += (double)(now_ms - b->at_ms) * b->rate / 1000.0;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->at_ms = now_ms;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	if (b->rate <= 0)
		return INT64_MAX / 4;
	need = (1.0 - b->tokens) * 1000.0 / b->rate;
	return (int64_t)need + 1;
}

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

int64_t
nap_arm_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms, uint64_t *rng)
{
	int64_t d = base_ms, half;
	unsigned i;

	for (i = 1; i < attempt && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	half = d / 2;
	if (half <= 0)
		return d;
	return half + (int64_t)(xorshift(rng) % (uint64_t)(half + 1));
}

/* ---- the client ---- */

enum call_state {
	CS_QUEUED,  /* waiting for its due time and a token */
	CS_RUNNING, /* an HTTP request is out */
	CS_DONE,    /* in the done queue */
	CS_HANDED,  /* returned to the caller */
};

enum { K_READ, K_WRITE, K_DELETE };

struct nap_arm_call {
	struct nap_arm *arm;
	char *method;
	char *url;	/* the request */
	char *poll_url; /* resource GET for the operation */
	char *body;
	size_t body_len;
	unsigned flags;
	int polling; /* the first answer came; now GETting the resource */
	int kind;    /* bucket of the next request */
	int64_t due_ms;
	unsigned attempts, throttled;
	int auth_retried;
	struct nap_http_req *req;
	enum call_state state;
	void *arg;
	struct nap_arm_result res;
	struct nap_arm_call *next; /* done queue */
};

struct nap_arm {
	struct nap_http *http;
	struct nap_auth *auth;
	const struct nap_http_tls *tls;
	char *endpoint;
	double scale;
	unsigned max_attempts, max_throttled;
	long timeout_ms, poll_ms;
	int max_inflight, inflight;
	struct nap_arm_bucket bucket[3];
	struct nap_arm_call **q; /* queued or running, in arrival order */
	size_t nq, aq;
	struct nap_arm_call *done_head, *done_tail;
	uint64_t rng;
	unsigned long requests, throttles;
};

static int64_t
now_ms(void)
{
	return nap_clock_mono_ms();
}

static int64_t
scaled(const struct nap_arm *a, int64_t ms)
{
	int64_t v = (int64_t)((double)ms / a->scale);

	return v < 1 ? 1 : v;
}

struct nap_arm *
nap_arm_new(struct nap_http *http, const struct nap_arm_opts *o, struct nap_err *err)
{
	static const double def_burst[3] = {250, 200, 200}, def_rate[3] = {25, 10, 10};
	const struct nap_arm_limit *lim[3] = {&o->reads, &o->writes, &o->deletes};
	struct nap_arm *a;
	int64_t now = now_ms();
	size_t n;
	int k, fd;

	if (o->endpoint == NULL || o->endpoint[0] == '\0') {
		nap_err_set(err, NAP_EX_CONFIG, "arm: no endpoint");
		return NULL;
	}
	a = nap_xcalloc(1, sizeof(*a));
	a->http = http;
	a->auth = o->auth;
	a->tls = o->tls;
	a->endpoint = nap_xstrdup(o->endpoint);
	n = strlen(a->endpoint);
	while (n > 0 && a->endpoint[n - 1] == '/')
		a->endpoint[--n] = '\0';
	a->scale = o->time_scale >= 1 ? o->time_scale : 1;
	a->max_attempts = o->max_attempts ? o->max_attempts : 6;
	a->max_throttled = o->max_throttled ? o->max_throttled : 30;
	a->timeout_ms = o->timeout_ms ? o->timeout_ms : 60000;
	a->poll_ms = o->poll_ms ? o->poll_ms : 3000;
	a->max_inflight = o->max_inflight > 0 ? o->max_inflight : 128;
	for (k = 0; k < 3; k++)
		nap_arm_bucket_init(&a->bucket[k], lim[k]->burst > 0 ? lim[k]->burst : def_burst[k],
		    (lim[k]->rate > 0 ? lim[k]->rate : def_rate[k]) * a->scale, now);
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, &a->rng, sizeof(a->rng)) != (ssize_t)sizeof(a->rng))
		a->rng = (uint64_t)now * 2654435761u + (uint64_t)getpid();
	if (fd >= 0)
		close(fd);
	if (a->rng == 0)
		a->rng = 1;
	return a;
}

static void
call_free(struct nap_arm_call *c)
{
	if (!c)
		return;
	nap_http_req_free(c->req);
	free(c->method);
	free(c->url);
	free(c->poll_url);
	free(c->body);
	free(c->res.message);
	if (c->res.body)
		json_object_put(c->res.body);
	free(c);
}

void
nap_arm_free(struct nap_arm *a)
{
	struct nap_arm_call *c, *n;
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nq; i++)
		call_free(a->q[i]);
	for (c = a->done_head; c; c = n) {
		n = c->next;
		call_free(c);
	}
	free(a->q);
	free(a->endpoint);
	free(a);
}

static int
method_kind(const char *m)
{
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return K_READ;
	if (strcmp(m, "DELETE") == 0)
		return K_DELETE;
	return K_WRITE;
}

static void finish(struct nap_arm_call *c);

struct nap_arm_call *
nap_arm_start(struct nap_arm *a, const char *method, const char *path, const char *api_version,
    json_object *body, unsigned flags, void *arg)
{
	struct nap_arm_call *c = nap_xcalloc(1, sizeof(*c));
	const char *s;
	size_t len;

	c->arm = a;
	c->method = nap_xstrdup(method);
	c->url = nap_xasprintf(
	    "%s%s%capi-version=%s", a->endpoint, path, strchr(path, '?') ? '&' : '?', api_version);
	/* The resource is polled without the request's own query (forceDeletion ...). */
	c->poll_url = nap_xasprintf("%s%.*s?api-version=%s%s", a->endpoint, (int)strcspn(path, "?"),
	    path, api_version, (flags & NAP_ARM_EXPAND_IV) ? "&$expand=instanceView" : "");
	if (body) {
		s = json_object_to_json_string_length(
		    body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
		c->body = nap_xstrndup(s, len);
		c->body_len = len;
	}
	c->flags = flags;
	c->kind = method_kind(method);
	c->arg = arg;
	c->state = CS_QUEUED;
	c->due_ms = 0;
	c->res.message = nap_xstrdup("");
	nap_xgrow(&a->q, &a->aq, a->nq + 1, sizeof(*a->q));
	a->q[a->nq++] = c;
	/* A name pasted in unescaped: the call fails at once as bad input, nothing is sent. */
	if (nap_url_path_check(path) != strlen(path)) {
		char *q = nap_text_quote(path, 200);

		nap_err_set(&c->res.err, NAP_EX_DATAERR,
		    "%s %s: not a URL path (a segment is not escaped)", method, q);
		free(q);
		finish(c);
	}
	return c;
}

/* scheme://host:port of url, lowercased, default port filled in; NULL when unusable. */
static char *
origin(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *o = NULL, *p;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	/* "https://management.azure.com@elsewhere/" is elsewhere: refuse any userinfo. */
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		goto out;
	o = nap_xasprintf("%s://%s:%s", scheme, host, port);
	for (p = o; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return o;
}

int
nap_arm_same_origin(const char *endpoint, const char *url)
{
	char *a = origin(endpoint), *b = a ? origin(url) : NULL;
	int same = a && b && strcmp(a, b) == 0;

	free(a);
	free(b);
	return same;
}

struct nap_arm_call *
nap_arm_start_url(struct nap_arm *a, const char *url, void *arg, struct nap_err *err)
{
	struct nap_arm_call *c;

	if (url == NULL || !nap_arm_same_origin(a->endpoint, url)) {
		nap_err_set(err, NAP_EX_DATAERR, "arm: nextLink %s is not on the endpoint %s",
		    url ? url : "(null)", a->endpoint);
		return NULL;
	}
	c = nap_xcalloc(1, sizeof(*c));
	c->arm = a;
	c->method = nap_xstrdup("GET");
	c->url = nap_xstrdup(url);
	c->poll_url = nap_xstrdup(url);
	c->kind = K_READ;
	c->arg = arg;
	c->state = CS_QUEUED;
	c->res.message = nap_xstrdup("");
	nap_xgrow(&a->q, &a->aq, a->nq + 1, sizeof(*a->q));
	a->q[a->nq++] = c;
	return c;
}

static void
finish(struct nap_arm_call *c)
{
	struct nap_arm *a = c->arm;
	size_t i;

	for (i = 0; i < a->nq; i++)
		if (a->q[i] == c) {
			memmove(&a->q[i], &a->q[i + 1], (a->nq - i - 1) * sizeof(*a->q));
			a->nq--;
			break;
		}
	c->state = CS_DONE;
	c->next = NULL;
	if (a->done_tail)
		a->done_tail->next = c;
	else
		a->done_head = c;
	a->done_tail = c;
}

static void
uuid4(uint64_t *rng, char *buf, size_t size)
{
	uint64_t h = xorshift(rng), l = xorshift(rng);

	snprintf(buf, size, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(h >> 32),
	    (unsigned)(h >> 16) & 0xffff, (unsigned)h & 0xfff,
	    (unsigned)((l >> 48) & 0x3fff) | 0x8000, (unsigned long long)(l & 0xffffffffffffULL));
}

/* Send the call's next HTTP request; -1 when it failed before sending. */
static int
send_req(struct nap_arm_call *c)
{
	struct nap_arm *a = c->arm;
	struct nap_http_opts o;
	struct nap_err err;
	const char *token = NULL;
	char rid[80], id[40];
	const char *hdrs[3];

	if (a->auth && nap_auth_token(a->auth, &token, &err) < 0) {
		c->res.ok = 0;
		c->res.err = err;
		finish(c);
		return -1;
	}
	uuid4(&a->rng, id, sizeof(id));
	snprintf(rid, sizeof(rid), "x-ms-client-request-id: %s", id);
	hdrs[0] = rid;
	hdrs[1] = "Accept: application/json";
	hdrs[2] = NULL;
	memset(&o, 0, sizeof(o));
	if (c->polling) {
		o.method = "GET";
		o.url = c->poll_url;
	} else {
		o.method = c->method;
		o.url = c->url;
		if (c->body) {
			o.body = c->body;
			o.body_len = c->body_len;
			o.content_type = "application/json";
		}
	}
	o.headers = hdrs;
	o.bearer = token;
	o.tls = a->tls;
	o.timeout_ms = a->timeout_ms;
	o.max_body = 16u << 20;
	o.arg = c;
	c->req = nap_http_start(a->http, &o, &err);
	if (c->req == NULL) {
		c->res.ok = 0;
		c->res.err = err;
		finish(c);
		return -1;
	}
	c->state = CS_RUNNING;
	a->inflight++;
	a->requests++;
	c->res.requests++;
	return 0;
}

static void
retry_in(struct nap_arm_call *c, int64_t ms)
{
	c->state = CS_QUEUED;
	c->due_ms = now_ms() + ms;
}

static const char *
prov_state(json_object *body)
{
	return nap_json_str(body, "properties.provisioningState", NULL);
}

/* The code of a failed VM's instance view: ProvisioningState/failed/<Code>. */
static void
failed_code(struct nap_arm_call *c)
{
	json_object *st;
	size_t i, n;

	st = nap_json_array(c->res.body, "properties.instanceView.statuses", &n);
	for (i = 0; st && i < n; i++) {
		json_object *s = json_object_array_get_idx(st, i);
		const char *code = nap_json_str(s, "code", "");

		if (strncmp(code, "ProvisioningState/failed/", 25) == 0) {
			snprintf(c->res.code, sizeof(c->res.code), "%s", code + 25);
			free(c->res.message);
			c->res.message = nap_xstrdup(
			    nap_json_str(s, "message", nap_json_str(s, "displayStatus", "")));
			return;
		}
	}
	snprintf(c->res.code, sizeof(c->res.code), "%s", "ProvisioningFailed");
}

static void
set_body(struct nap_arm_call *c, const struct nap_http_resp *r)
{
	struct json_tokener *tok;

	if (c->res.body)
		json_object_put(c->res.body);
	c->res.body = NULL;
	if (r->body && r->len) {
		tok = json_tokener_new();
		c->res.body = json_tokener_parse_ex(tok, r->body, (int)r->len);
		json_tokener_free(tok);
	}
}

static void
schedule_poll(struct nap_arm_call *c)
{
	c->polling = 1;
	c->kind = K_READ;
	c->attempts = 0;
	retry_in(c, scaled(c->arm, c->arm->poll_ms));
}

/* A 2xx answer: done, or the operation goes on. */
static void
on_success(struct nap_arm_call *c, const struct nap_http_resp *r)
{
	const char *ps;

	set_body(c, r);
	c->res.code[0] = '\0';
	if (!(c->flags & NAP_ARM_LRO)) {
		c->res.ok = 1;
		finish(c);
		return;
	}
	if (strcmp(c->method, "DELETE") == 0) {
		/* 204: nothing was there; 200/202: gone once the GET says 404. */
		if (!c->polling && r->status == 204) {
			c->res.ok = 1;
			finish(c);
			return;
		}
		schedule_poll(c);
		return;
	}
	ps = prov_state(c->res.body);
	if (ps == NULL || strcasecmp(ps, "Succeeded") == 0) {
		c->res.ok = 1;
		finish(c);
	} else if (strcasecmp(ps, "Failed") == 0 || strcasecmp(ps, "Canceled") == 0) {
		c->res.async = 1;
		failed_code(c);
		c->res.ok = 0;
		nap_err_set(&c->res.err, NAP_EX_NO, "%s %s: operation %s: %s: %s", c->method,
		    c->url, ps, c->res.code, c->res.message);
		finish(c);
	} else if (!c->polling && (c->flags & NAP_ARM_EXPAND_IV)) {
		schedule_poll(c);
	} else {
		schedule_poll(c);
	}
}

static void
on_answer(struct nap_arm_call *c)
{
	struct nap_arm *a = c->arm;
	const struct nap_http_resp *r = NULL;
	struct nap_err err;
	int rc;

	rc = nap_http_result(c->req, &r, &err);
	c->res.status = r ? r->status : 0;
	if (rc < 0) {
		nap_http_req_free(c->req);
		c->req = NULL;
		if (err.code == NAP_EX_CONFIG || ++c->attempts >= a->max_attempts) {
			c->res.ok = 0;
			c->res.err = err;
			finish(c);
			return;
		}
		retry_in(
		    c, nap_arm_backoff_ms(c->attempts, scaled(a, 1000), scaled(a, 30000), &a->rng));
		return;
	}
	if (r->status >= 200 && r->status < 300) {
		on_success(c, r);
		nap_http_req_free(c->req);
		c->req = NULL;
		return;
	}
	free(c->res.message);
	c->res.message = NULL;
	nap_arm_error_parse(r->body, r->len, c->res.code, sizeof(c->res.code), &c->res.message);
	if (r->status == 404 && c->polling && strcmp(c->method, "DELETE") == 0) {
		c->res.ok = 1;
		c->res.code[0] = '\0';
		nap_http_req_free(c->req);
		c->req = NULL;
		finish(c);
		return;
	}
	if (r->status == 429) {
		long ra = r->retry_after;

		a->throttles++;
		nap_http_req_free(c->req);
		c->req = NULL;
		if (++c->throttled > a->max_throttled) {
			c->res.ok = 0;
			nap_err_set(&c->res.err, NAP_EX_UNAVAILABLE,
			    "%s %s: still throttled after %u answers 429: %s", c->method, c->url,
			    c->throttled - 1, c->res.code);
			c->res.err.http = 429;
			finish(c);
			return;
		}
		retry_in(c,
		    ra >= 0 ? ra * 1000
			    : nap_arm_backoff_ms(
				  c->throttled, scaled(a, 5000), scaled(a, 60000), &a->rng));
		return;
	}
	if (r->status >= 500 || r->status == 408) {
		long st = r->status, ra = r->retry_after;

		nap_http_req_free(c->req);
		c->req = NULL;
		if (++c->attempts >= a->max_attempts) {
			c->res.ok = 0;
			nap_err_set(&c->res.err, NAP_EX_UNAVAILABLE,
			    "%s %s: %ld %s after %u attempts", c->method, c->url, st, c->res.code,
			    c->attempts);
			c->res.err.http = st;
			finish(c);
			return;
		}
		retry_in(c,
		    ra >= 0 ? ra * 1000
			    : nap_arm_backoff_ms(
				  c->attempts, scaled(a, 1000), scaled(a, 30000), &a->rng));
		return;
	}
	if (r->status == 401 && !c->auth_retried && a->auth) {
		/* A token revoked or expired early: fetch a new one, once. */
		c->auth_retried = 1;
		nap_auth_invalidate(a->auth);
		nap_http_req_free(c->req);
		c->req = NULL;
		retry_in(c, 0);
		return;
	}
	set_body(c, r);
	c->res.ok = 0;
	nap_err_set(&c->res.err,
	    nap_http_status_code(r->status) == NAP_EX_NOPERM ? NAP_EX_NOPERM : NAP_EX_NO,
	    "%s %s: %ld %s: %s", c->method, c->polling ? c->poll_url : c->url, r->status,
	    c->res.code, c->res.message);
	c->res.err.http = r->status;
	nap_http_req_free(c->req); /* r was the request's: not used after this */
	c->req = NULL;
	finish(c);
}

/* Start what is due and has a token; returns ms until the next due thing, -1 idle. */
static int64_t
dispatch(struct nap_arm *a)
{
	int64_t now = now_ms(), next = -1, w;
	size_t i;
	int blocked[3] = {0, 0, 0};

	for (i = 0; i < a->nq; i++) {
		struct nap_arm_call *c = a->q[i];

		if (c->state != CS_QUEUED)
			continue;
		if (c->due_ms > now) {
			w = c->due_ms - now;
			if (next < 0 || w < next)
				next = w;
			continue;
		}
		if (a->inflight >= a->max_inflight || blocked[c->kind])
			continue;
		w = nap_arm_bucket_take(&a->bucket[c->kind], now);
		if (w > 0) {
			/* Keep arrival order within a kind: nobody overtakes. */
			blocked[c->kind] = 1;
			if (next < 0 || w < next)
				next = w;
			continue;
		}
		if (send_req(c) < 0)
			i--; /* finish() removed it from the queue */
	}
	return next;
}

static void
collect(struct nap_arm *a)
{
	struct nap_http_req *r;

	while ((r = nap_http_done(a->http)) != NULL) {
		struct nap_arm_call *c = nap_http_req_arg(r);
		size_t i;
		int ours = 0;

		for (i = 0; c && i < a->nq; i++)
			if (a->q[i] == c && c->req == r) {
				ours = 1;
				break;
			}
		if (!ours) {
			/* Not an ARM request (nothing else here runs async): drop it. */
			nap_http_req_free(r);
			continue;
		}
		a->inflight--;
		on_answer(c);
	}
}

int
nap_arm_next_ms(const struct nap_arm *a)
{
	int64_t now = now_ms(), next = -1, w;
	size_t i;

	if (a->done_head)
		return 0;
	for (i = 0; i < a->nq; i++) {
		const struct nap_arm_call *c = a->q[i];

		if (c->state != CS_QUEUED)
			continue;
		w = c->due_ms > now ? c->due_ms - now : 0;
		if (next < 0 || w < next)
			next = w;
	}
	return next > INT32_MAX ? INT32_MAX : (int)next;
}

int
nap_arm_wait(struct nap_arm *a, int extra_fd, int timeout_ms, struct nap_err *err)
{
	int64_t next;
	int t = timeout_ms, r;

	next = dispatch(a);
	if (a->done_head)
		t = 0;
	else if (next >= 0 && (t < 0 || next < t))
		t = next > INT32_MAX ? INT32_MAX : (int)next;
	if (t < 0 && a->inflight == 0 && extra_fd < 0)
		t = 1000;
	if (t < 0)
		t = 1000; /* curl needs a bound; nothing is lost by waking */
	r = nap_http_wait(a->http, extra_fd, t, err);
	if (r < 0)
		return -1;
	collect(a);
	dispatch(a);
	return r;
}

struct nap_arm_call *
nap_arm_done(struct nap_arm *a)
{
	struct nap_arm_call *c = a->done_head;

	if (!c)
		return NULL;
	a->done_head = c->next;
	if (!a->done_head)
		a->done_tail = NULL;
	c->next = NULL;
	c->state = CS_HANDED;
	return c;
}

const struct nap_arm_result *
nap_arm_result(const struct nap_arm_call *c)
{
	return &c->res;
}

void *
nap_arm_call_arg(const struct nap_arm_call *c)
{
	return c->arg;
}

void
nap_arm_call_free(struct nap_arm_call *c)
{
	call_free(c);
}

size_t
nap_arm_pending(const struct nap_arm *a)
{
	return a->nq;
}

unsigned long
nap_arm_requests(const struct nap_arm *a)
{
	return a->requests;
}

unsigned long
nap_arm_throttled(const struct nap_arm *a)
{
	return a->throttles;
}
