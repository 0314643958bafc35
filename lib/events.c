/*
 * events.c - Kubernetes Events: the dedupe and rate decision, the Event
 * object, and the thread that posts them (contract in events.h).
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "clock.h"
#include "text.h"
#include "thread.h"

#define MIN_MS (60 * 1000L)
#define FORGET_AFTER_MS (60 * MIN_MS) /* the API server's default Event TTL */

/* Karpenter's windows where they differ from its 2 minute default (pkg/events, callers). */
static const struct {
	const char *reason;
	int64_t ms;
} windows[] = {
    {"DisruptionBlocked", 1 * MIN_MS},
    {"FailedScheduling", 5 * MIN_MS},
    {"NodeRepairBlocked", 5 * MIN_MS},
    {"Unconsolidatable", 15 * MIN_MS},
};

int64_t
nap_events_window(const char *reason)
{
	for (size_t i = 0; reason && i < NAP_ARRAY_LEN(windows); i++)
		if (strcmp(windows[i].reason, reason) == 0)
			return windows[i].ms;
	return 2 * MIN_MS;
}

void
nap_events_cache_init(struct nap_events_cache *c, double burst, double rate, int64_t now_ms)
{
	memset(c, 0, sizeof(*c));
	nap_hash_init(&c->seen);
	nap_arm_bucket_init(&c->bucket, burst > 0 ? burst : 25, rate > 0 ? rate : 1, now_ms);
	c->last_sweep_ms = now_ms;
}

static void
seen_free(struct nap_event_seen *s)
{
	if (!s)
		return;
	free(s->event_name);
	free(s->namespace);
	free(s->first_ts);
	free(s);
}

void
nap_events_cache_free(struct nap_events_cache *c)
{
	size_t pos = 0;
	const char *k;
	void *v;

	while (nap_hash_next(&c->seen, &pos, &k, &v))
		seen_free(v);
	nap_hash_free(&c->seen);
}

static const char *
str(const char *s)
{
	return s ? s : "";
}

/* Forget entries an hour past their window, at most once a minute. */
static void
sweep(struct nap_events_cache *c, int64_t now_ms)
{
	size_t pos = 0, n = 0;
	const char *k;
	void *v;
	char **old;

	if (now_ms - c->last_sweep_ms < MIN_MS)
		return;
	c->last_sweep_ms = now_ms;
	old = nap_xcalloc(nap_hash_count(&c->seen) + 1, sizeof(*old));
	while (nap_hash_next(&c->seen, &pos, &k, &v)) {
		const struct nap_event_seen *s = v;

		if (now_ms - s->at_ms > s->window_ms + FORGET_AFTER_MS)
			old[n++] = nap_xstrdup(k);
	}
	for (size_t i = 0; i < n; i++) {
		seen_free(nap_hash_del(&c->seen, old[i]));
		free(old[i]);
	}
	free(old);
}

static void
rfc3339(int64_t ms, char *out, size_t size)
{
	nap_clock_rfc3339(ms, out, size);
}

enum nap_event_action
nap_events_decide(struct nap_events_cache *c, const struct nap_event *ev, int64_t now_ms,
    const struct nap_event_seen **seen)
{
	int64_t window = ev->dedupe_ms > 0 ? ev->dedupe_ms : nap_events_window(ev->reason);
	char *key;
	struct nap_event_seen *s;

	sweep(c, now_ms);
	if (ev->dedupe_key)
		key = nap_xasprintf("%s\x1f%s", str(ev->reason), ev->dedupe_key);
	else
		key = nap_xasprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s", str(ev->kind), str(ev->namespace),
		    str(ev->name), str(ev->reason), str(ev->message));
	s = nap_hash_get(&c->seen, key);
	if (s && now_ms - s->at_ms < s->window_ms) {
		free(key);
		return NAP_EVENT_DUPLICATE;
	}
	if (nap_arm_bucket_take(&c->bucket, now_ms) != 0) {
		free(key);
		return NAP_EVENT_THROTTLED;
	}
	if (s) {
		s->at_ms = now_ms;
		s->window_ms = window;
		s->count++;
		free(key);
		*seen = s;
		return NAP_EVENT_UPDATE;
	}
	s = nap_xcalloc(1, sizeof(*s));
	/* client-go's naming: the object's name, a dot, the time in hex nanoseconds. */
	s->event_name = nap_xasprintf("%s.%llx", str(ev->name),
	    (unsigned long long)now_ms * 1000000ULL + (unsigned long long)nap_hash_count(&c->seen));
	s->namespace = nap_xstrdup(ev->namespace && *ev->namespace ? ev->namespace : "default");
	s->first_ts = nap_xmalloc(32);
	rfc3339(now_ms, s->first_ts, 32);
	s->at_ms = now_ms;
	s->window_ms = window;
	s->count = 1;
	nap_hash_put(&c->seen, key, s);
	free(key);
	*seen = s;
	return NAP_EVENT_CREATE;
}

static void
add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

json_object *
nap_event_object(const struct nap_event *ev, const struct nap_event_seen *seen,
    const char *component, const char *host, int64_t now_ms)
{
	json_object *o = json_object_new_object(), *md = json_object_new_object();
	json_object *io = json_object_new_object(), *src = json_object_new_object();
	char ts[32], micro[40];
	char *msg = nap_xstrndup(str(ev->message), 1024); /* the API server's limit */

	rfc3339(now_ms, ts, sizeof(ts));
	snprintf(micro, sizeof(micro), "%.19s.%06ldZ", ts, (long)(now_ms % 1000) * 1000);
	add_str(o, "apiVersion", "v1");
	add_str(o, "kind", "Event");
	add_str(md, "name", seen->event_name);
	add_str(md, "namespace", seen->namespace);
	json_object_object_add(o, "metadata", md);
	add_str(io, "apiVersion", str(ev->api_version));
	add_str(io, "kind", str(ev->kind));
	if (ev->namespace && *ev->namespace)
		add_str(io, "namespace", ev->namespace);
	add_str(io, "name", str(ev->name));
	if (ev->uid && *ev->uid)
		add_str(io, "uid", ev->uid);
	json_object_object_add(o, "involvedObject", io);
	add_str(o, "reason", str(ev->reason));
	add_str(o, "message", msg);
	add_str(o, "type", ev->type && *ev->type ? ev->type : "Normal");
	add_str(src, "component", str(component));
	if (host && *host)
		add_str(src, "host", host);
	json_object_object_add(o, "source", src);
	add_str(o, "firstTimestamp", seen->first_ts);
	add_str(o, "lastTimestamp", ts);
	add_str(o, "eventTime", micro);
	json_object_object_add(o, "count", json_object_new_int64(seen->count));
	add_str(o, "action", str(ev->reason));
	add_str(o, "reportingComponent", str(component));
	add_str(o, "reportingInstance", host && *host ? host : str(component));
	free(msg);
	return o;
}

/* ---- the thread ---- */

struct job {
	char *path_create; /* POST here ... */
	char *create;	   /* ... this Event */
	char *path_update; /* or, for a repeat, merge-PATCH here first */
	char *update;
	char *what; /* "event Launched on NodeClaim x", for messages */
};

struct nap_events {
	struct nap_events_opts o;
	char *component, host[256];
	struct nap_kube *kube;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct nap_events_cache cache; /* under mu */
	struct job *q;		       /* ring, under mu */
	size_t head, n, cap;
	int busy, stop;
	int64_t stop_by_ms;
	struct nap_events_stats st;
};

static int64_t
now_ms(void)
{
	return nap_clock_wall_ms();
}

static void
job_free(struct job *j)
{
	free(j->path_create);
	free(j->create);
	free(j->path_update);
	free(j->update);
	free(j->what);
	memset(j, 0, sizeof(*j));
}

/* One request, given up on at the timeout or when closing passes its deadline. */
static long
send_one(struct nap_events *e, const char *method, const char *path, const char *ctype,
    const char *body, struct nap_err *err)
{
	struct nap_http *pool = nap_kube_pool(e->kube);
	struct nap_http_req *r, *done = NULL;
	const struct nap_http_resp *resp;
	long status = 0;

	r = nap_kube_start(
	    e->kube, method, path, ctype, body, strlen(body), NULL, NULL, e->o.timeout_ms, 0, err);
	if (!r)
		return -1;
	while (!done) {
		int late;

		pthread_mutex_lock(&e->mu);
		late = e->stop && now_ms() >= e->stop_by_ms;
		pthread_mutex_unlock(&e->mu);
		if (late) {
			nap_http_req_free(r);
			nap_err_set(err, NAP_EX_TEMPFAIL, "given up on at exit");
			return -1;
		}
		if (nap_http_wait(pool, -1, 100, err) < 0) {
			nap_http_req_free(r);
			return -1;
		}
		done = nap_http_done(pool);
	}
	if (nap_http_result(done, &resp, err) == 0) {
		status = resp->status;
		if (status < 200 || status > 299)
			nap_kube_status_err(status, resp->body, resp->len, path, err);
	} else {
		status = -1;
	}
	nap_http_req_free(done);
	return status;
}

static void
run_job(struct nap_events *e, struct job *j)
{
	struct nap_err err;
	long status;
	int ok = 0, updated = 0;

	nap_err_clear(&err);
	if (j->update) {
		status = send_one(
		    e, "PATCH", j->path_update, "application/merge-patch+json", j->update, &err);
		updated = ok = status >= 200 && status <= 299;
		if (ok || status != 404) /* 404: the Event expired, post it anew */
			goto out;
	}
	nap_err_clear(&err);
	status = send_one(e, "POST", j->path_create, "application/json", j->create, &err);
	ok = status >= 200 && status <= 299;
out:
	pthread_mutex_lock(&e->mu);
	if (!ok)
		e->st.failed++;
	else if (updated)
		e->st.updated++;
	else
		e->st.posted++;
	pthread_mutex_unlock(&e->mu);
	if (!ok && e->o.on_error) {
		char *msg = nap_xasprintf("post %s: %s", j->what, err.msg);

		e->o.on_error(e->o.arg, msg);
		free(msg);
	}
}

static void *
worker(void *arg)
{
	struct nap_events *e = arg;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		struct job j;

		while (!e->n && !e->stop)
			pthread_cond_wait(&e->cv, &e->mu);
		if (!e->n || (e->stop && now_ms() >= e->stop_by_ms))
			break;
		j = e->q[e->head];
		memset(&e->q[e->head], 0, sizeof(j));
		e->head = (e->head + 1) % e->cap;
		e->n--;
		e->busy = 1;
		pthread_mutex_unlock(&e->mu);
		run_job(e, &j);
		job_free(&j);
		pthread_mutex_lock(&e->mu);
		e->busy = 0;
		pthread_cond_broadcast(&e->cv);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

/* Everything but the thread (stopped or never started). */
static void
release(struct nap_events *e)
{
	for (size_t i = 0; i < e->n; i++)
		job_free(&e->q[(e->head + i) % e->cap]);
	free(e->q);
	nap_events_cache_free(&e->cache);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	nap_kube_free(e->kube);
	free(e->component);
	free(e);
}

struct nap_events *
nap_events_new(struct nap_kube *kube, const struct nap_events_opts *o, struct nap_err *err)
{
	struct nap_events *e = nap_xcalloc(1, sizeof(*e));

	e->o = *o;
	e->component = nap_xstrdup(o->component ? o->component : "nap");
	e->o.component = e->component;
	if (!e->o.queue_max)
		e->o.queue_max = 1000;
	if (e->o.timeout_ms <= 0)
		e->o.timeout_ms = 5000;
	if (gethostname(e->host, sizeof(e->host) - 1) != 0)
		e->host[0] = '\0';
	e->kube = kube;
	e->cap = e->o.queue_max;
	e->q = nap_xcalloc(e->cap, sizeof(*e->q));
	nap_events_cache_init(&e->cache, o->burst, o->rate, now_ms());
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	if (nap_thread_create(&e->thread, worker, e) != 0) {
		nap_err_set(err, NAP_EX_SOFTWARE, "unable to start the events thread");
		e->kube = NULL; /* still the caller's */
		release(e);
		return NULL;
	}
	return e;
}

static char *
events_path(const char *ns, const char *name)
{
	return name ? nap_url_path("/api/v1/namespaces", ns, "events", name, NULL)
		    : nap_url_path("/api/v1/namespaces", ns, "events", NULL);
}

enum nap_event_action
nap_events_emit(struct nap_events *e, const struct nap_event *ev)
{
	const struct nap_event_seen *seen = NULL;
	enum nap_event_action a;
	int64_t now = now_ms();
	struct job j;
	json_object *obj;

	if (!e || !ev)
		return NAP_EVENT_DUPLICATE;
	pthread_mutex_lock(&e->mu);
	a = nap_events_decide(&e->cache, ev, now, &seen);
	if (a == NAP_EVENT_DUPLICATE) {
		e->st.duplicate++;
		goto out;
	}
	if (a == NAP_EVENT_THROTTLED) {
		e->st.throttled++;
		goto out;
	}
	if (e->n == e->cap || e->stop) {
		e->st.overflow++;
		goto out;
	}
	memset(&j, 0, sizeof(j));
	obj = nap_event_object(ev, seen, e->component, e->host, now);
	j.create = nap_xstrdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
	j.path_create = events_path(seen->namespace, NULL);
	if (a == NAP_EVENT_UPDATE) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "count", json_object_new_int64(seen->count));
		json_object_object_add(p, "lastTimestamp",
		    json_object_get(json_object_object_get(obj, "lastTimestamp")));
		j.update = nap_xstrdup(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
		j.path_update = events_path(seen->namespace, seen->event_name);
		json_object_put(p);
	}
	json_object_put(obj);
	j.what = nap_xasprintf("event %s on %s %s%s%s", str(ev->reason), str(ev->kind),
	    ev->namespace && *ev->namespace ? ev->namespace : "",
	    ev->namespace && *ev->namespace ? "/" : "", str(ev->name));
	e->q[(e->head + e->n) % e->cap] = j;
	e->n++;
	pthread_cond_broadcast(&e->cv);
out:
	pthread_mutex_unlock(&e->mu);
	return a;
}

void
nap_events_stats(struct nap_events *e, struct nap_events_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	*out = e->st;
	pthread_mutex_unlock(&e->mu);
}

void
nap_events_drain(struct nap_events *e, long ms)
{
	struct timespec at;

	if (!e)
		return;
	nap_thread_deadline(&at, ms);
	pthread_mutex_lock(&e->mu);
	while ((e->n || e->busy) && pthread_cond_timedwait(&e->cv, &e->mu, &at) == 0)
		;
	pthread_mutex_unlock(&e->mu);
}

void
nap_events_free(struct nap_events *e, long drain_ms)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->stop = 1;
	e->stop_by_ms = now_ms() + (drain_ms > 0 ? drain_ms : 0);
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	pthread_join(e->thread, NULL);
	release(e);
}
