/* t-events - the dedupe windows, the rate limit, the Event object, and the
 * thread that posts them (against a fake API server). */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <microhttpd.h>

#include "events.h"
#include "tap.h"

#if MHD_VERSION < 0x00097002
typedef int mhd_result;
#else
typedef enum MHD_Result mhd_result;
#endif

#define MIN (60 * 1000L)

static const struct nap_event launched = {
    .api_version = "karpenter.sh/v1",
    .kind = "NodeClaim",
    .name = "general-abcde",
    .uid = "u-1",
    .type = "Normal",
    .reason = "Launched",
    .message = "Status condition transitioned, Type: Launched, Status: True",
};

static void
test_windows(void)
{
	TAP_IS_INT(nap_events_window("Launched"), 2 * MIN, "the default window is 2 minutes");
	TAP_IS_INT(nap_events_window("FailedScheduling"), 5 * MIN, "FailedScheduling: 5 minutes");
	TAP_IS_INT(nap_events_window("DisruptionBlocked"), 1 * MIN, "DisruptionBlocked: 1 minute");
	TAP_IS_INT(nap_events_window("Unconsolidatable"), 15 * MIN, "Unconsolidatable: 15 minutes");
	TAP_IS_INT(nap_events_window(NULL), 2 * MIN, "no reason: the default");
}

static void
test_dedupe(void)
{
	struct nap_events_cache c;
	const struct nap_event_seen *s = NULL;
	struct nap_event other = launched;
	int64_t t0 = 1700000000000LL;

	nap_events_cache_init(&c, 0, 0, t0);
	TAP_IS_INT(
	    nap_events_decide(&c, &launched, t0, &s), NAP_EVENT_CREATE, "a new event is posted");
	TAP_OK(s && s->count == 1 && strcmp(s->namespace, "default") == 0 &&
		strncmp(s->event_name, "general-abcde.", 14) == 0,
	    "a cluster-scoped object's Event goes to default, named after the object");
	TAP_IS_INT(nap_events_decide(&c, &launched, t0 + 2 * MIN - 1, &s), NAP_EVENT_DUPLICATE,
	    "the same event inside its 2 minute window is dropped");
	other.message = "another message";
	TAP_IS_INT(nap_events_decide(&c, &other, t0 + 1000, &s), NAP_EVENT_CREATE,
	    "another message is another event");
	TAP_IS_INT(nap_events_decide(&c, &launched, t0 + 2 * MIN, &s), NAP_EVENT_UPDATE,
	    "after the window it updates the Event posted before");
	TAP_OK(s && s->count == 2, "with count 2");
	TAP_IS_INT(nap_events_decide(&c, &launched, t0 + 3 * MIN, &s), NAP_EVENT_DUPLICATE,
	    "the window restarts at the repeat");

	other = launched;
	other.reason = "FailedScheduling";
	other.kind = "Pod";
	other.namespace = "ns";
	other.dedupe_key = "pod-uid";
	TAP_IS_INT(
	    nap_events_decide(&c, &other, t0, &s), NAP_EVENT_CREATE, "FailedScheduling posted");
	TAP_OK(s && strcmp(s->namespace, "ns") == 0, "a Pod's Event goes to its namespace");
	other.message = "a new reason to fail";
	TAP_IS_INT(nap_events_decide(&c, &other, t0 + 4 * MIN, &s), NAP_EVENT_DUPLICATE,
	    "keyed by pod, a new message inside 5 minutes is still a duplicate");
	other.dedupe_ms = 1000;
	TAP_IS_INT(nap_events_decide(&c, &other, t0 + 4 * MIN + 1, &s), NAP_EVENT_DUPLICATE,
	    "the window is the one the event was posted with");
	TAP_IS_INT(nap_events_decide(&c, &other, t0 + 5 * MIN, &s), NAP_EVENT_UPDATE,
	    "and after it, a repeat");
	/* An hour past its window an entry is forgotten: the Event has expired. */
	TAP_IS_INT(nap_events_decide(&c, &launched, t0 + 90 * MIN, &s), NAP_EVENT_CREATE,
	    "long after, an event is posted anew");
	nap_events_cache_free(&c);
}

static void
test_rate(void)
{
	struct nap_events_cache c;
	const struct nap_event_seen *s = NULL;
	struct nap_event ev = launched;
	char name[32];
	int created = 0, throttled = 0;
	int64_t t0 = 1700000000000LL;

	nap_events_cache_init(&c, 3, 0.5, t0);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "nc-%d", i);
		ev.name = name;
		switch (nap_events_decide(&c, &ev, t0, &s)) {
		case NAP_EVENT_CREATE:
			created++;
			break;
		case NAP_EVENT_THROTTLED:
			throttled++;
			break;
		default:
			break;
		}
	}
	TAP_OK(created == 3 && throttled == 2, "a burst of 3 posts 3, drops 2 (%d, %d)", created,
	    throttled);
	TAP_IS_INT(nap_events_decide(&c, &ev, t0 + 2000, &s), NAP_EVENT_CREATE,
	    "a throttled event was not remembered: it posts when a token is back");
	nap_events_cache_free(&c);
}

static void
test_object(void)
{
	struct nap_events_cache c;
	const struct nap_event_seen *s = NULL;
	struct nap_event ev = launched;
	int64_t t0 = 1700000000123LL;
	json_object *o, *x;
	char *longmsg = malloc(3000);

	memset(longmsg, 'x', 2999);
	longmsg[2999] = '\0';
	nap_events_cache_init(&c, 0, 0, t0);
	nap_events_decide(&c, &ev, t0, &s);
	o = nap_event_object(&ev, s, "nap-launch", "vm1", t0);
	TAP_IS_STR(
	    json_object_get_string(json_object_object_get(o, "reason")), "Launched", "reason");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o, "type")), "Normal", "type");
	TAP_IS_INT(json_object_get_int(json_object_object_get(o, "count")), 1, "count");
	x = json_object_object_get(o, "involvedObject");
	TAP_IS_STR(json_object_get_string(json_object_object_get(x, "kind")), "NodeClaim",
	    "involvedObject.kind");
	TAP_OK(json_object_object_get(x, "namespace") == NULL,
	    "a cluster-scoped object has no namespace in involvedObject");
	TAP_IS_STR(json_object_get_string(json_object_object_get(x, "uid")), "u-1", "its uid");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o, "firstTimestamp")),
	    "2023-11-14T22:13:20Z", "firstTimestamp in RFC 3339");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o, "eventTime")),
	    "2023-11-14T22:13:20.123000Z", "eventTime in microseconds");
	x = json_object_object_get(o, "source");
	TAP_IS_STR(json_object_get_string(json_object_object_get(x, "component")), "nap-launch",
	    "source.component");
	TAP_IS_STR(json_object_get_string(json_object_object_get(o, "reportingInstance")), "vm1",
	    "reportingInstance");
	json_object_put(o);
	ev.message = longmsg;
	ev.name = "other";
	nap_events_decide(&c, &ev, t0, &s);
	o = nap_event_object(&ev, s, "nap-launch", NULL, t0);
	TAP_IS_INT(strlen(json_object_get_string(json_object_object_get(o, "message"))), 1024,
	    "a long message is cut to the API server's 1024 bytes");
	json_object_put(o);
	free(longmsg);
	nap_events_cache_free(&c);
}

/* ---- the thread, against a fake API server ---- */

static struct {
	pthread_mutex_t mu;
	char log[8192]; /* "METHOD PATH BODY\n" per request */
	int patch_status;
	int n;
} fake = {PTHREAD_MUTEX_INITIALIZER, "", 200, 0};

struct upload {
	char body[4096];
	size_t len;
};

static mhd_result
fake_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	struct upload *u = *con_cls;
	struct MHD_Response *r;
	const char *answer = "{}";
	unsigned status;
	mhd_result ret;

	(void)cls;
	(void)version;
	if (!u) {
		*con_cls = calloc(1, sizeof(struct upload));
		return MHD_YES;
	}
	if (*size) {
		size_t n =
		    *size < sizeof(u->body) - 1 - u->len ? *size : sizeof(u->body) - 1 - u->len;

		memcpy(u->body + u->len, data, n);
		u->len += n;
		*size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&fake.mu);
	snprintf(fake.log + strlen(fake.log), sizeof(fake.log) - strlen(fake.log), "%s %s %s\n",
	    method, url, u->body);
	fake.n++;
	status = strcmp(method, "PATCH") == 0 ? (unsigned)fake.patch_status : 201;
	pthread_mutex_unlock(&fake.mu);
	if (status == 404)
		answer = "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"code\":404}";
	r = MHD_create_response_from_buffer(
	    strlen(answer), (void *)(uintptr_t)answer, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void
fake_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
	(void)cls;
	(void)c;
	(void)t;
	free(*con_cls);
	*con_cls = NULL;
}

static int
fake_count(void)
{
	int n;

	pthread_mutex_lock(&fake.mu);
	n = fake.n;
	pthread_mutex_unlock(&fake.mu);
	return n;
}

static void
on_error(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void
test_thread(void)
{
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
	    fake_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, fake_done, NULL, MHD_OPTION_END);
	const union MHD_DaemonInfo *info =
	    d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
	struct nap_events_opts o = {.component = "t-events", .on_error = on_error};
	struct nap_event ev = launched;
	struct nap_kube_config c;
	struct nap_events_stats st;
	struct nap_events *e;
	struct nap_kube *k;
	struct nap_err err;

	if (!TAP_OK(d && info, "a fake API server"))
		return;
	nap_kube_config_init(&c);
	c.server = nap_xasprintf("http://127.0.0.1:%d", info->port);
	c.token = nap_xstrdup("t");
	k = nap_kube_new(&c, NULL, &err);
	e = k ? nap_events_new(k, &o, &err) : NULL;
	if (!TAP_OK(e != NULL, "an events client"))
		return;
	ev.dedupe_ms = 1; /* a repeat is due at once */
	TAP_IS_INT(nap_events_emit(e, &ev), NAP_EVENT_CREATE, "the first event is a create");
	nap_events_drain(e, 5000);
	usleep(5000);
	TAP_IS_INT(
	    nap_events_emit(e, &ev), NAP_EVENT_UPDATE, "a repeat after its window, an update");
	nap_events_drain(e, 5000);
	pthread_mutex_lock(&fake.mu);
	fake.patch_status = 404;
	pthread_mutex_unlock(&fake.mu);
	usleep(5000);
	nap_events_emit(e, &ev);
	nap_events_drain(e, 5000);
	TAP_IS_INT(fake_count(), 4, "four requests: POST, PATCH, PATCH answered 404, POST");
	pthread_mutex_lock(&fake.mu);
	{
		char *l[4] = {NULL}, *p = fake.log;
		const char *l1, *l2, *l3, *l4;

		/* one string a request, so each check reads its own line */
		for (int i = 0; i < 4 && p && *p; i++) {
			l[i] = p;
			if ((p = strchr(p, '\n')) != NULL)
				*p++ = '\0';
		}
		l1 = l[0] ? l[0] : "";
		l2 = l[1] ? l[1] : "";
		l3 = l[2] ? l[2] : "";
		l4 = l[3] ? l[3] : "";

		TAP_OK(strncmp(l1, "POST /api/v1/namespaces/default/events {", 40) == 0 &&
			strstr(l1, "\"reason\":\"Launched\"") && strstr(l1, "\"count\":1"),
		    "a create POSTs the Event to the default namespace");
		TAP_OK(strncmp(l2, "PATCH /api/v1/namespaces/default/events/general-abcde.", 54) ==
			    0 &&
			strstr(l2, "\"count\":2") && strstr(l2, "\"lastTimestamp\":\"") &&
			!strstr(l2, "\"reason\""),
		    "a repeat merge-patches count and lastTimestamp of the Event it posted");
		TAP_OK(strncmp(l3, "PATCH ", 6) == 0 && strstr(l3, "\"count\":3"),
		    "the next, count 3");
		TAP_OK(strncmp(l4, "POST /api/v1/namespaces/default/events ", 39) == 0 &&
			strstr(l4, "\"count\":3"),
		    "and when the Event has expired (404), it is posted anew");
	}
	pthread_mutex_unlock(&fake.mu);
	nap_events_stats(e, &st);
	TAP_OK(st.posted == 2 && st.updated == 1 && st.failed == 0,
	    "stats: 2 posted, 1 updated, none failed (%lu %lu %lu)", st.posted, st.updated,
	    st.failed);
	nap_events_free(e, 1000);
	nap_kube_config_free(&c);
	MHD_stop_daemon(d);
}

int
main(void)
{
	test_windows();
	test_dedupe();
	test_rate();
	test_object();
	test_thread();
	return tap_done();
}
