/*
 * kact.c - nap-disrupt's Kubernetes writes: deletes with a UID
 * precondition, evictions, the disrupted taint, annotations and the
 * finalizer.  Each returns 0 when done, 1 when the object is already gone
 * (404, or 409 for a UID that no longer matches: the object was replaced),
 * and -1 with err filled otherwise; k_evict also returns 2 for a refusal
 * that a PodDisruptionBudget caused (429).
 *
 * Writes that edit a list someone else also edits (finalizers, taints) are
 * JSON patches with a "test" of the list as read, so a concurrent writer's
 * change is never overwritten: the patch fails (422 or 409), and the next
 * pass reads the new list and tries again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"
#include "clock.h"
#include "json.h"
#include "log.h"
#include "text.h"
#include "wellknown.h"

char *
path_node(const char *name)
{
	return nap_url_path("/api/v1/nodes", name, (char *)NULL);
}

char *
path_nodeclaim(const char *name)
{
	return nap_url_path("/apis/karpenter.sh/v1/nodeclaims", name, (char *)NULL);
}

char *
path_pod(const char *ns, const char *name)
{
	return nap_url_path("/api/v1/namespaces", ns, "pods", name, (char *)NULL);
}

void
rfc3339(int64_t ms, char *buf, size_t len)
{
	nap_clock_rfc3339(ms, buf, len);
}

static int
gone(const struct nap_err *err)
{
	return err->http == 404 || err->http == 409;
}

static json_object *
delete_options(const char *uid, int64_t grace_s)
{
	json_object *o = json_object_new_object(), *pre;

	json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(o, "kind", json_object_new_string("DeleteOptions"));
	if (uid && uid[0]) {
		pre = json_object_new_object();
		json_object_object_add(pre, "uid", json_object_new_string(uid));
		json_object_object_add(o, "preconditions", pre);
	}
	if (grace_s >= 0)
		json_object_object_add(o, "gracePeriodSeconds", json_object_new_int64(grace_s));
	return o;
}

int
k_delete(struct ctx *x, const char *path, const char *uid, int64_t grace_s, struct nap_err *err)
{
	json_object *o = delete_options(uid, grace_s);
	int rc = nap_kube_delete(x->kube, path, o, NULL, err);

	json_object_put(o);
	if (rc < 0)
		return gone(err) ? 1 : -1;
	return 0;
}

int
k_evict(struct ctx *x, const struct nap_pod *p, struct nap_err *err)
{
	json_object *ev = json_object_new_object(), *md = json_object_new_object();
	char *path = nap_url_path(
	    "/api/v1/namespaces", p->meta.ns, "pods", p->meta.name, "eviction", (char *)NULL);
	int rc;

	json_object_object_add(ev, "apiVersion", json_object_new_string("policy/v1"));
	json_object_object_add(ev, "kind", json_object_new_string("Eviction"));
	json_object_object_add(md, "name", json_object_new_string(p->meta.name));
	json_object_object_add(md, "namespace", json_object_new_string(p->meta.ns));
	json_object_object_add(ev, "metadata", md);
	json_object_object_add(ev, "deleteOptions", delete_options(p->meta.uid, -1));
	/*
	 * A 429 here is the PDB's "not now", which the drain's own backoff
	 * handles; the client's retries would only hold the whole pass up.
	 */
	nap_kube_set_retry(x->kube, 0, 0);
	rc = nap_kube_create(x->kube, path, ev, NULL, err);
	nap_kube_set_retry(x->kube, 5, 10000);
	free(path);
	json_object_put(ev);
	if (rc == 0)
		return 0;
	if (gone(err))
		return 1;
	if (err->http == 429)
		return 2;
	return -1;
}

/* The finalizers of m with ours taken out, or NULL when ours is not there. */
static json_object *
finalizers_without(const struct nap_meta *m, json_object **cur)
{
	json_object *fins = m->raw ? nap_json_get(m->raw, "metadata.finalizers") : NULL, *out;
	size_t i, n;
	int found = 0;

	*cur = fins;
	if (!fins || !json_object_is_type(fins, json_type_array))
		return NULL;
	out = json_object_new_array();
	n = json_object_array_length(fins);
	for (i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(fins, i);

		if (json_object_is_type(f, json_type_string) &&
		    strcmp(json_object_get_string(f), NAP_FINALIZER_TERMINATION) == 0)
			found = 1;
		else
			json_object_array_add(out, json_object_get(f));
	}
	if (!found) {
		json_object_put(out);
		return NULL;
	}
	return out;
}

static json_object *
op(const char *verb, const char *path, json_object *value)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string(verb));
	json_object_object_add(o, "path", json_object_new_string(path));
	if (value)
		json_object_object_add(o, "value", value);
	return o;
}

static int
json_patch(struct ctx *x, const char *path, json_object *ops, struct nap_err *err)
{
	int rc = nap_kube_patch(x->kube, path, "json", ops, NULL, err);

	json_object_put(ops);
	if (rc < 0)
		return err->http == 404 ? 1 : -1;
	return 0;
}

int
k_drop_finalizer(struct ctx *x, const char *path, const struct nap_meta *m, struct nap_err *err)
{
	json_object *cur, *rest = finalizers_without(m, &cur), *ops;

	if (!rest)
		return 0;
	ops = json_object_new_array();
	json_object_array_add(ops, op("test", "/metadata/finalizers", json_object_get(cur)));
	json_object_array_add(ops, op("replace", "/metadata/finalizers", rest));
	return json_patch(x, path, ops, err);
}

/* Our finalizer onto an object that lacks it (a Node registered before nap-disrupt ran). */
int
k_add_finalizer(struct ctx *x, const char *path, const struct nap_meta *m, struct nap_err *err)
{
	json_object *fins = m->raw ? nap_json_get(m->raw, "metadata.finalizers") : NULL, *ops;

	ops = json_object_new_array();
	if (fins && json_object_is_type(fins, json_type_array)) {
		json_object_array_add(
		    ops, op("test", "/metadata/finalizers", json_object_get(fins)));
		json_object_array_add(ops,
		    op("add", "/metadata/finalizers/-",
			json_object_new_string(NAP_FINALIZER_TERMINATION)));
	} else {
		json_object *one = json_object_new_array();

		json_object_array_add(one, json_object_new_string(NAP_FINALIZER_TERMINATION));
		json_object_array_add(
		    ops, op("test", "/metadata/resourceVersion", json_object_new_string(m->rv)));
		json_object_array_add(ops, op("add", "/metadata/finalizers", one));
	}
	return json_patch(x, path, ops, err);
}

int
k_annotate(struct ctx *x, const char *path, const char *key, const char *val, struct nap_err *err)
{
	json_object *p = json_object_new_object(), *md = json_object_new_object();
	json_object *ann = json_object_new_object();
	int rc;

	json_object_object_add(ann, key, json_object_new_string(val));
	json_object_object_add(md, "annotations", ann);
	json_object_object_add(p, "metadata", md);
	rc = nap_kube_patch(x->kube, path, "merge", p, NULL, err);
	json_object_put(p);
	if (rc < 0)
		return err->http == 404 ? 1 : -1;
	return 0;
}

/* "a/b" as a JSON pointer segment: "a~1b". */
static char *
pointer_escape(const char *s)
{
	char *out = nap_xmalloc(strlen(s) * 2 + 1), *o = out;

	for (; *s; s++) {
		if (*s == '~') {
			*o++ = '~';
			*o++ = '0';
		} else if (*s == '/') {
			*o++ = '~';
			*o++ = '1';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

int
k_taint_disrupted(struct ctx *x, const struct nap_node *n, struct nap_err *err)
{
	json_object *taints = n->meta.raw ? nap_json_get(n->meta.raw, "spec.taints") : NULL;
	json_object *ops = json_object_new_array(), *t = json_object_new_object();
	char *path, *lb, *lbpath;
	int rc;

	json_object_object_add(t, "key", json_object_new_string(NAP_TAINT_DISRUPTED));
	json_object_object_add(t, "effect", json_object_new_string("NoSchedule"));
	if (taints && json_object_is_type(taints, json_type_array)) {
		json_object_array_add(ops, op("test", "/spec/taints", json_object_get(taints)));
		json_object_array_add(ops, op("add", "/spec/taints/-", t));
	} else {
		json_object *one = json_object_new_array();

		json_object_array_add(one, t);
		json_object_array_add(ops,
		    op("test", "/metadata/resourceVersion", json_object_new_string(n->meta.rv)));
		json_object_array_add(ops, op("add", "/spec/taints", one));
	}
	/* Karpenter keeps draining nodes out of external load balancers. */
	if (n->meta.labels) {
		lb = pointer_escape(NAP_LABEL_EXCLUDE_LB);
		lbpath = nap_xasprintf("/metadata/labels/%s", lb);
		json_object_array_add(ops, op("add", lbpath, json_object_new_string("karpenter")));
		free(lbpath);
		free(lb);
	}
	path = path_node(n->meta.name);
	rc = json_patch(x, path, ops, err);
	free(path);
	return rc;
}
