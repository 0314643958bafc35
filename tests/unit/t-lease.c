/* Unit tests for lib/lease: the leader-election decision (acquire, renew, expire, conflict) and the records it writes. */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "lease.h"
#include "tap.h"

static json_object *
lease_obj(const char *rv, const char *holder, const char *renew, int dur, int transitions)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
	    "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
	    "\"metadata\":{\"name\":\"nap\",\"namespace\":\"kube-system\",\"resourceVersion\":\"%"
	    "s\"},"
	    "\"spec\":{\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":%d,"
	    "\"renewTime\":\"%s\",\"leaseTransitions\":%d}}",
	    rv, holder, dur, renew, transitions);
	return json_tokener_parse(buf);
}

int
main(void)
{
	struct nap_lease l;
	json_object *o, *w;
	char now[40];

	nap_lease_init(&l, "kube-system", "nap", "vm-a_42", 15);

	/* acquire */
	TAP_IS_INT(nap_lease_decide(&l, NULL, 0), NAP_LEASE_CREATE,
	    "with no Lease the candidate creates one");
	w = nap_lease_fill(&l, NULL, NAP_LEASE_CREATE, "2026-01-02T03:04:05.000001Z");
	TAP_IS_STR(nap_json_str(w, "spec.holderIdentity", NULL), "vm-a_42",
	    "the created Lease names the candidate as holder");
	TAP_IS_INT(nap_json_int(w, "spec.leaseDurationSeconds", 0), 15,
	    "the created Lease has the lease duration");
	TAP_IS_INT(nap_json_int(w, "spec.leaseTransitions", -1), 0,
	    "the created Lease starts with no transition");
	TAP_IS_STR(nap_json_str(w, "spec.acquireTime", NULL), "2026-01-02T03:04:05.000001Z",
	    "acquireTime is the time given");
	TAP_IS_STR(nap_json_str(w, "metadata.namespace", NULL), "kube-system",
	    "the created Lease is in the namespace asked for");
	json_object_put(w);

	o = lease_obj("7", "", "2026-01-02T03:04:05.000001Z", 1, 2);
	TAP_IS_INT(nap_lease_decide(&l, o, 1000), NAP_LEASE_TAKE,
	    "a released Lease (no holder) is taken at once");
	json_object_put(o);

	/* renew */
	o = lease_obj("8", "vm-a_42", "2026-01-02T03:04:05.000001Z", 15, 2);
	TAP_IS_INT(nap_lease_decide(&l, o, 2000), NAP_LEASE_RENEW,
	    "a Lease the candidate holds is renewed");
	w = nap_lease_fill(&l, o, NAP_LEASE_RENEW, "2026-01-02T03:04:07.000001Z");
	TAP_IS_STR(nap_json_str(w, "spec.renewTime", NULL), "2026-01-02T03:04:07.000001Z",
	    "a renewal moves renewTime");
	TAP_IS_STR(nap_json_str(w, "metadata.resourceVersion", NULL), "8",
	    "a renewal carries the resourceVersion read, so a concurrent write conflicts");
	TAP_IS_INT(
	    nap_json_int(w, "spec.leaseTransitions", -1), 2, "a renewal is not a transition");
	json_object_put(w);
	json_object_put(o);

	/* expire: counted on the local clock from when the record last changed */
	o = lease_obj("20", "vm-b_7", "2020-01-01T00:00:00.000000Z", 15, 3);
	TAP_IS_INT(nap_lease_decide(&l, o, 100000), NAP_LEASE_WAIT,
	    "another's Lease is not taken the moment it is seen, however old its renewTime");
	TAP_IS_INT(nap_lease_decide(&l, o, 114999), NAP_LEASE_WAIT,
	    "nor 1 ms before it has stayed unchanged for leaseDurationSeconds");
	TAP_IS_STR(l.holder, "vm-b_7", "the holder seen is kept for messages");
	json_object_put(o);
	o = lease_obj("21", "vm-b_7", "2026-01-02T03:04:09.000001Z", 15, 3);
	TAP_IS_INT(nap_lease_decide(&l, o, 110000), NAP_LEASE_WAIT,
	    "a renewal by the holder restarts the count");
	TAP_IS_INT(nap_lease_decide(&l, o, 124999), NAP_LEASE_WAIT,
	    "so the lease has not expired 15 s after it was first seen");
	TAP_IS_INT(nap_lease_decide(&l, o, 125000), NAP_LEASE_TAKE,
	    "it has 15 s after the renewal was seen");
	w = nap_lease_fill(&l, o, NAP_LEASE_TAKE, "2026-01-02T03:04:30.000001Z");
	TAP_IS_INT(nap_json_int(w, "spec.leaseTransitions", -1), 4,
	    "a take-over from another holder is a transition");
	TAP_IS_STR(nap_json_str(w, "spec.holderIdentity", NULL), "vm-a_42",
	    "a take-over writes the candidate as holder");
	TAP_IS_STR(nap_json_str(w, "spec.acquireTime", NULL), "2026-01-02T03:04:30.000001Z",
	    "a take-over sets acquireTime");
	json_object_put(w);
	json_object_put(o);

	o = lease_obj("30", "vm-b_7", "2026-01-02T03:04:09.000001Z", 4, 3);
	TAP_IS_INT(
	    nap_lease_decide(&l, o, 200000), NAP_LEASE_WAIT, "a new record restarts the count");
	TAP_IS_INT(nap_lease_decide(&l, o, 204000), NAP_LEASE_TAKE,
	    "the holder's leaseDurationSeconds, not ours, says when it expires");
	json_object_put(o);

	/* conflict: what another wrote between our read and our write is read again */
	o = lease_obj("40", "vm-a_42", "2026-01-02T03:05:00.000001Z", 15, 4);
	TAP_IS_INT(nap_lease_decide(&l, o, 300000), NAP_LEASE_RENEW, "we hold it at rv 40");
	json_object_put(o);
	o = lease_obj("41", "vm-c_9", "2026-01-02T03:05:01.000001Z", 15, 5);
	TAP_IS_INT(nap_lease_decide(&l, o, 300001), NAP_LEASE_WAIT,
	    "after a conflict the record re-read names the winner, and the candidate waits");
	TAP_IS_INT(nap_lease_decide(&l, o, 314999), NAP_LEASE_WAIT,
	    "for the winner's whole lease, from when its record was seen");
	json_object_put(o);

	nap_lease_microtime(now, sizeof(now));
	TAP_OK(strlen(now) == 27 && now[10] == 'T' && now[19] == '.' && now[26] == 'Z',
	    "MicroTime has six fractional digits: %s", now);
	nap_lease_free(&l);
	return tap_done();
}
