/*
 * lease.c - leader election with a coordination.k8s.io/v1 Lease (lease.h):
 * the decision from the record and the local clock, and the reads and
 * resourceVersion-guarded writes that carry it out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "kube.h"
#include "lease.h"
#include "text.h"

void
nap_lease_init(
    struct nap_lease *l, const char *ns, const char *name, const char *identity, int duration_s)
{
	memset(l, 0, sizeof(*l));
	l->ns = nap_xstrdup(ns);
	l->name = nap_xstrdup(name);
	l->identity = nap_xstrdup(identity);
	l->duration_s = duration_s > 0 ? duration_s : NAP_LEASE_DURATION_MS / 1000;
}

void
nap_lease_free(struct nap_lease *l)
{
	free(l->ns);
	free(l->name);
	free(l->identity);
	free(l->seen);
	free(l->holder);
	memset(l, 0, sizeof(*l));
}

void
nap_lease_microtime(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06ldZ", sec, ts.tv_nsec / 1000);
}

enum nap_lease_act
nap_lease_decide(struct nap_lease *l, json_object *lease, int64_t now_ms)
{
	const char *holder, *rv, *renew;
	int64_t dur;
	char *key;

	if (!lease) {
		free(l->seen);
		l->seen = NULL;
		free(l->holder);
		l->holder = nap_xstrdup("");
		l->transitions = 0;
		return NAP_LEASE_CREATE;
	}
	holder = nap_json_str(lease, "spec.holderIdentity", "");
	rv = nap_json_str(lease, "metadata.resourceVersion", "");
	renew = nap_json_str(lease, "spec.renewTime", "");
	/* the record, not the clock: a change of any of these restarts the count */
	key = nap_xasprintf("%s\n%s\n%s", rv, holder, renew);
	if (!l->seen || strcmp(l->seen, key) != 0) {
		free(l->seen);
		l->seen = key;
		l->seen_ms = now_ms;
	} else
		free(key);
	free(l->holder);
	l->holder = nap_xstrdup(holder);
	l->transitions = nap_json_int(lease, "spec.leaseTransitions", 0);
	if (strcmp(holder, l->identity) == 0)
		return NAP_LEASE_RENEW;
	if (!*holder)
		return NAP_LEASE_TAKE;
	dur = nap_json_int(lease, "spec.leaseDurationSeconds", 0);
	if (dur <= 0)
		dur = l->duration_s;
	if (now_ms - l->seen_ms >= dur * 1000)
		return NAP_LEASE_TAKE;
	return NAP_LEASE_WAIT;
}

json_object *
nap_lease_fill(
    const struct nap_lease *l, json_object *lease, enum nap_lease_act act, const char *now)
{
	json_object *o;

	if (act == NAP_LEASE_CREATE || !lease) {
		o = json_object_new_object();
		json_object_object_add(
		    o, "apiVersion", json_object_new_string("coordination.k8s.io/v1"));
		json_object_object_add(o, "kind", json_object_new_string("Lease"));
		nap_json_set(o, "metadata.name", json_object_new_string(l->name));
		nap_json_set(o, "metadata.namespace", json_object_new_string(l->ns));
		nap_json_set(o, "spec.leaseTransitions", json_object_new_int64(0));
		nap_json_set(o, "spec.acquireTime", json_object_new_string(now));
	} else {
		o = json_object_get(lease);
		if (act == NAP_LEASE_TAKE) {
			const char *was = nap_json_str(o, "spec.holderIdentity", "");
			int64_t n = nap_json_int(o, "spec.leaseTransitions", 0);

			/* a transition is a change of holder, as client-go counts them */
			if (*was)
				n++;
			nap_json_set(o, "spec.leaseTransitions", json_object_new_int64(n));
			nap_json_set(o, "spec.acquireTime", json_object_new_string(now));
		}
	}
	nap_json_set(o, "spec.holderIdentity", json_object_new_string(l->identity));
	nap_json_set(o, "spec.leaseDurationSeconds", json_object_new_int(l->duration_s));
	nap_json_set(o, "spec.renewTime", json_object_new_string(now));
	return o;
}

/* GET the Lease: 0 with *out (NULL when there is none), or -1 with err. */
static int
lease_get(struct nap_kube *k, const struct nap_lease *l, json_object **out, struct nap_err *err)
{
	char *path = nap_url_path(
	    "/apis/coordination.k8s.io/v1/namespaces", l->ns, "leases", l->name, (char *)NULL);
	int rc = nap_kube_get(k, path, out, err);

	free(path);
	if (rc < 0 && err && err->http == 404) {
		*out = NULL;
		return 0;
	}
	if (rc < 0)
		return nap_err_prefix(err, "get lease %s/%s", l->ns, l->name);
	return 0;
}

/* Write o (POST when creating, else PUT): 1 written, 0 conflict, -1 error. */
static int
lease_put(
    struct nap_kube *k, const struct nap_lease *l, json_object *o, int create, struct nap_err *err)
{
	char *path;
	int rc;

	if (create)
		path = nap_url_path(
		    "/apis/coordination.k8s.io/v1/namespaces", l->ns, "leases", (char *)NULL);
	else
		path = nap_url_path("/apis/coordination.k8s.io/v1/namespaces", l->ns, "leases",
		    l->name, (char *)NULL);
	rc = create ? nap_kube_create(k, path, o, NULL, err)
		    : nap_kube_update(k, path, o, NULL, err);
	free(path);
	if (rc == 0)
		return 1;
	/* 409: another wrote first (a PUT's stale resourceVersion, a POST's AlreadyExists) */
	if (err && err->http == 409)
		return 0;
	return nap_err_prefix(err, "%s lease %s/%s", create ? "create" : "update", l->ns, l->name);
}

int
nap_lease_try(struct nap_kube *k, struct nap_lease *l, int64_t now_ms, struct nap_err *err)
{
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		json_object *cur, *o;
		enum nap_lease_act act;
		char now[40];
		int rc;

		if (lease_get(k, l, &cur, err) < 0)
			return -1;
		act = nap_lease_decide(l, cur, now_ms);
		if (act == NAP_LEASE_WAIT) {
			json_object_put(cur);
			return 0;
		}
		nap_lease_microtime(now, sizeof(now));
		o = nap_lease_fill(l, cur, act, now);
		rc = lease_put(k, l, o, act == NAP_LEASE_CREATE, err);
		json_object_put(o);
		json_object_put(cur);
		if (rc != 0) {
			if (rc > 0) {
				free(l->holder);
				l->holder = nap_xstrdup(l->identity);
			}
			return rc;
		}
		/* lost a race: read again, and decide on what the winner wrote */
	}
	return 0;
}

int
nap_lease_release(struct nap_kube *k, struct nap_lease *l, struct nap_err *err)
{
	json_object *cur;
	char now[40];
	int rc;

	if (lease_get(k, l, &cur, err) < 0)
		return -1;
	if (!cur)
		return 0;
	if (strcmp(nap_json_str(cur, "spec.holderIdentity", ""), l->identity) != 0) {
		json_object_put(cur);
		return 0;
	}
	nap_lease_microtime(now, sizeof(now));
	nap_json_set(cur, "spec.holderIdentity", json_object_new_string(""));
	nap_json_set(cur, "spec.leaseDurationSeconds", json_object_new_int(1));
	nap_json_set(cur, "spec.renewTime", json_object_new_string(now));
	rc = lease_put(k, l, cur, 0, err);
	json_object_put(cur);
	if (rc < 0)
		return -1;
	free(l->holder);
	l->holder = nap_xstrdup("");
	return 0;
}
