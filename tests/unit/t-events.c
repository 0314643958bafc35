/* t-events - the dedupe windows, the rate limit and the Event object. */
#include <stdlib.h>

#include "events.h"
#include "tap.h"

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
	TAP_IS_INT(nap_events_decide(&c, &launched, t0, &s), NAP_EVENT_CREATE, "a new event is posted");
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
	TAP_IS_INT(nap_events_decide(&c, &other, t0, &s), NAP_EVENT_CREATE, "FailedScheduling posted");
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
	TAP_IS_STR(json_object_get_string(json_object_object_get(o, "reason")), "Launched", "reason");
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

int
main(void)
{
	test_windows();
	test_dedupe();
	test_rate();
	test_object();
	return tap_done();
}
