/*
 * replace.c - commands whose candidate may go only once a replacement is
 * Initialized (karpenter.md §4.7): today the non-empty Drifted command of
 * lib/disrupt (one candidate, replacements = 1).
 *
 * Start: the replacement is a NodeClaim of the candidate's NodePool made
 * from the pool's current template (lib/claim, the writer nap-solve uses),
 * so it has not drifted, pinned to the candidate's instance type, zone and
 * capacity type (the size that held these pods, in the zone their volumes
 * and spreads chose), its requests the candidate's pods' requests.  The
 * candidate's NodeClaim is annotated with the replacement's name and the
 * start time, its Node is tainted karpenter.sh/disrupted:NoSchedule, then
 * a LaunchRequest goes downstream (nap-solve forwards it, nap-launch
 * launches it) with the Disruption record.  A pool whose requirements no
 * longer admit that offering, or that sets minValues, holds the command
 * (DisruptionBlocked on the NodeClaim): nap does not guess another size.
 *
 * Follow-up, every pass, from the API server's state alone (restart-safe):
 * for each NodeClaim carrying the annotation, the replacement Initialized →
 * the candidate NodeClaim is deleted (termination drains it); the
 * replacement deleted, or not Initialized within the registration timeout
 * (15 min, under --time-scale) after the start → the replacement is deleted,
 * the taint and the annotations removed, and a
 * DisruptionReplacementFailed event says so.  Until the candidate is gone
 * its replacement counts as nominated, so emptiness does not take it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "json.h"
#include "log.h"
#include "prog.h"
#include "tool.h"
#include "wellknown.h"

#define ANN_REPLACEMENT "nap.dev/replacement"
#define ANN_SINCE "nap.dev/replacement-since"
#define REGISTRATION_TIMEOUT_MS (15 * 60 * 1000)

/* "<pool>-<5 of [a-z0-9]>", from the candidate and the time (FNV-1a). */
static char *
replacement_name(const char *pool, const char *cand, int64_t now)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t h = 1469598103934665603ULL;
	char suffix[6];
	const char *s;
	int i;

	for (s = cand; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	for (i = 0; i < 8; i++)
		h = (h ^ (unsigned char)(now >> (8 * i))) * 1099511628211ULL;
	for (i = 0; i < 5; i++, h /= 36)
		suffix[i] = alnum[h % 36];
	suffix[5] = '\0';
	return nap_xasprintf("%s-%s", pool, suffix);
}

/*
 * The pool's requirements narrowed to the candidate's offering, as JSON;
 * NULL with why when the pool does not admit it.  *labels gets the labels
 * the requirements imply.
 */
static json_object *
replacement_reqs(const struct nap_nodepool *np, const struct nap_disrupt_candidate *cd,
    json_object **labels, char *why, size_t len)
{
	const char *keys[] = {NAP_LABEL_INSTANCE_TYPE, NAP_LABEL_ZONE, NAP_LABEL_CAPACITY_TYPE};
	const char *vals[] = {cd->instance_type, cd->zone, cd->capacity_type};
	struct nap_reqs r;
	struct nap_err err;
	json_object *out;
	size_t i;

	if (nap_reqs_has_min_values(&np->reqs)) {
		snprintf(why, len, "nodepool %s sets minValues, which one pinned size cannot meet",
		    np->meta.name);
		return NULL;
	}
	nap_reqs_init(&r);
	nap_reqs_copy(&r, &np->reqs);
	for (i = 0; i < NAP_ARRAY_LEN(keys); i++) {
		const struct nap_req *q = nap_reqs_get(&np->node_reqs, keys[i]);

		if (vals[i][0] == '\0') {
			snprintf(why, len, "nodeclaim %s has no %s label", cd->nodeclaim, keys[i]);
			nap_reqs_free(&r);
			return NULL;
		}
		if ((q && !nap_req_allows(q, vals[i])) ||
		    nap_reqs_add(&r, keys[i], NAP_OP_IN, &vals[i], 1, 0, &err) != 0) {
			snprintf(why, len, "nodepool %s no longer allows %s=%s", np->meta.name,
			    keys[i], vals[i]);
			nap_reqs_free(&r);
			return NULL;
		}
	}
	out = nap_reqs_to_json(&r);
	*labels = nap_reqs_labels(&r);
	nap_reqs_free(&r);
	return out;
}

static int
annotate(struct ctx *x, const char *claim, const char *name, const char *since,
    struct nap_err *err)
{
	json_object *p = json_object_new_object(), *md = json_object_new_object();
	json_object *ann = json_object_new_object();
	char *path = path_nodeclaim(claim);
	int rc;

	/* NULL values remove the annotations (merge patch). */
	json_object_object_add(ann, ANN_REPLACEMENT, name ? json_object_new_string(name) : NULL);
	json_object_object_add(ann, ANN_SINCE, since ? json_object_new_string(since) : NULL);
	json_object_object_add(md, "annotations", ann);
	json_object_object_add(p, "metadata", md);
	rc = nap_kube_patch(x->kube, path, "merge", p, NULL, err);
	json_object_put(p);
	free(path);
	return rc;
}

/* Remove the karpenter.sh/disrupted taint and the load-balancer label from node n. */
static int
untaint(struct ctx *x, const struct nap_node *n, struct nap_err *err)
{
	json_object *taints = n->meta.raw ? nap_json_get(n->meta.raw, "spec.taints") : NULL;
	json_object *keep = json_object_new_array(), *ops = json_object_new_array(), *o;
	char *path;
	size_t i, nt = taints ? json_object_array_length(taints) : 0;
	int rc, had = 0;

	for (i = 0; i < nt; i++) {
		json_object *t = json_object_array_get_idx(taints, i);

		if (strcmp(nap_json_str(t, "key", ""), NAP_TAINT_DISRUPTED) == 0)
			had = 1;
		else
			json_object_array_add(keep, json_object_get(t));
	}
	if (had) {
		o = json_object_new_object();
		json_object_object_add(o, "op", json_object_new_string("test"));
		json_object_object_add(o, "path", json_object_new_string("/spec/taints"));
		json_object_object_add(o, "value", json_object_get(taints));
		json_object_array_add(ops, o);
		o = json_object_new_object();
		json_object_object_add(o, "op", json_object_new_string("replace"));
		json_object_object_add(o, "path", json_object_new_string("/spec/taints"));
		json_object_object_add(o, "value", json_object_get(keep));
		json_object_array_add(ops, o);
	}
	if (nap_meta_label(&n->meta, NAP_LABEL_EXCLUDE_LB) != NULL) {
		o = json_object_new_object();
		json_object_object_add(o, "op", json_object_new_string("remove"));
		json_object_object_add(o, "path",
		    json_object_new_string(
			"/metadata/labels/node.kubernetes.io~1exclude-from-external-load-balancers"));
		json_object_array_add(ops, o);
	}
	rc = 0;
	if (json_object_array_length(ops) > 0) {
		path = path_node(n->meta.name);
		rc = nap_kube_patch(x->kube, path, "json", ops, NULL, err);
		free(path);
	}
	json_object_put(ops);
	json_object_put(keep);
	return rc;
}

int
replace_command(
    struct ctx *x, const struct nap_disrupt_result *r, const struct nap_disrupt_command *cmd)
{
	const struct nap_disrupt_candidate *cd;
	const struct nap_nodeclaim *c;
	const struct nap_node *n;
	const struct nap_nodepool *np;
	json_object *reqs, *labels = NULL, *rec, *pods;
	struct nap_pod *const *on;
	struct nap_err err;
	char why[256], since[40], *name;
	size_t i, non;

	if (cmd->replacements == 0)
		return 0;
	if (cmd->ncands != 1)
		return 1; /* the planner makes one-candidate commands only */
	cd = &cmd->cands[0];
	c = nap_cluster_nodeclaim(x->cl, cd->nodeclaim);
	n = c ? nap_cluster_node_of(x->cl, c) : NULL;
	np = nap_cluster_nodepool(x->cl, cmd->nodepool);
	if (c == NULL || n == NULL || np == NULL)
		return 1;
	reqs = replacement_reqs(np, cd, &labels, why, sizeof(why));
	if (reqs == NULL) {
		obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Normal", "DisruptionBlocked",
		    "%s: not disrupted, no replacement: %s", nap_disrupt_reason_name(cmd->reason),
		    why);
		return 1;
	}
	name = replacement_name(np->meta.name, cd->nodeclaim, now_ms(x));
	rfc3339(now_ms(x), since, sizeof(since));
	if (annotate(x, cd->nodeclaim, name, since, &err) < 0) {
		nap_warn("nodeclaim %s: annotate %s: %s", cd->nodeclaim, ANN_REPLACEMENT, err.msg);
		goto fail;
	}
	if (k_taint_disrupted(x, n, &err) < 0) {
		nap_warn("node %s: taint %s: %s", n->meta.name, NAP_TAINT_DISRUPTED, err.msg);
		if (annotate(x, cd->nodeclaim, NULL, NULL, &err) < 0)
			nap_warn("nodeclaim %s: %s: %s", cd->nodeclaim, ANN_REPLACEMENT, err.msg);
		goto fail;
	}
	rec = json_object_new_object();
	json_object_object_add(rec, "type", json_object_new_string("LaunchRequest"));
	json_object_object_add(
	    rec, "nodeClaim", nap_claim_object(np, name, labels, reqs, &cd->requests));
	labels = reqs = NULL;
	pods = json_object_new_array();
	on = nap_cluster_pods_on_node(x->cl, n->meta.name, &non);
	for (i = 0; i < non; i++)
		if (!nap_pod_is_terminal(on[i]) && !nap_pod_is_daemon_or_static(on[i])) {
			char *key = nap_xasprintf("%s/%s", on[i]->meta.ns, on[i]->meta.name);

			json_object_array_add(pods, json_object_new_string(key));
			free(key);
		}
	json_object_object_add(rec, "pods", pods);
	json_object_object_add(rec, "price", cd->price >= 0 ? json_object_new_double(cd->price) : NULL);
	nap_emit(rec);
	json_object_put(rec);
	rec = nap_disrupt_command_json(r, cmd);
	nap_emit(rec);
	json_object_put(rec);
	x->ncommands++;
	nap_info("nodeclaim %s: %s, replacement %s launching", cd->nodeclaim,
	    nap_disrupt_reason_name(cmd->reason), name);
	obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Normal", "DisruptionLaunching",
	    "Launching NodeClaim: %s (replacing %s)", nap_disrupt_reason_name(cmd->reason), name);
	free(name);
	return 2;
fail:
	json_object_put(reqs);
	json_object_put(labels);
	free(name);
	return 1;
}

/* Give the command up: the replacement goes, the candidate is as before. */
static void
give_up(struct ctx *x, const struct nap_nodeclaim *c, const char *name,
    const struct nap_nodeclaim *repl, const char *what)
{
	const struct nap_node *n = nap_cluster_node_of(x->cl, c);
	struct nap_err err;
	char *path;

	if (repl && !repl->meta.deleted) {
		path = path_nodeclaim(repl->meta.name);
		if (k_delete(x, path, repl->meta.uid, -1, &err) < 0)
			nap_warn("nodeclaim %s: delete: %s", repl->meta.name, err.msg);
		free(path);
	}
	if (n && untaint(x, n, &err) < 0) {
		nap_warn("node %s: untaint: %s", n->meta.name, err.msg);
		return; /* the annotations stay: the next pass tries again */
	}
	if (annotate(x, c->meta.name, NULL, NULL, &err) < 0) {
		nap_warn("nodeclaim %s: %s: %s", c->meta.name, ANN_REPLACEMENT, err.msg);
		return;
	}
	nap_warn("nodeclaim %s: replacement %s %s: disruption given up", c->meta.name, name, what);
	obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Warning",
	    "DisruptionReplacementFailed", "Replacement %s %s; the node stays", name, what);
}

void
replace_pass(struct ctx *x)
{
	struct nap_nodeclaim *const *claims;
	size_t i, n;
	int64_t now = now_ms(x);

	claims = nap_cluster_nodeclaims(x->cl, &n);
	for (i = 0; i < n; i++) {
		const struct nap_nodeclaim *c = claims[i], *repl;
		const char *name = nap_meta_annotation(&c->meta, ANN_REPLACEMENT);
		const char *since_s = nap_meta_annotation(&c->meta, ANN_SINCE);
		int64_t since = 0;
		struct nap_err err;
		char *path;

		if (name == NULL || c->meta.deleted)
			continue;
		repl = nap_cluster_nodeclaim(x->cl, name);
		if (repl && repl->initialized && !repl->meta.deleted) {
			path = path_nodeclaim(c->meta.name);
			if (k_delete(x, path, c->meta.uid, -1, &err) < 0)
				nap_warn("nodeclaim %s: delete: %s", c->meta.name, err.msg);
			else
				obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Normal",
				    "DisruptionTerminating",
				    "Disrupting NodeClaim: replacement %s is initialized", name);
			free(path);
			continue;
		}
		if (repl && repl->meta.deleted) {
			give_up(x, c, name, repl, "is being deleted");
			continue;
		}
		/* A start time that does not parse counts as long ago: fail safe, untaint. */
		if (since_s == NULL || nap_time_parse(since_s, &since) != 0 ||
		    now - since * 1000 > scaled(x, REGISTRATION_TIMEOUT_MS)) {
			give_up(x, c, name, repl, "was not initialized in time");
			continue;
		}
		if (repl == NULL)
			obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Normal",
			    "DisruptionLaunching", "Launching NodeClaim: replacement %s", name);
		else
			obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Normal",
			    "DisruptionWaitingReadiness",
			    "Waiting on readiness to continue disruption: replacement %s", name);
	}
}

const char **
replace_nominated(const struct ctx *x, size_t *nout)
{
	struct nap_nodeclaim *const *claims;
	const char **out;
	size_t i, n, k = 0;

	claims = nap_cluster_nodeclaims(x->cl, &n);
	out = nap_xcalloc(n ? n : 1, sizeof(*out));
	for (i = 0; i < n; i++) {
		const char *name = nap_meta_annotation(&claims[i]->meta, ANN_REPLACEMENT);

		if (name != NULL)
			out[k++] = name;
	}
	*nout = k;
	return out;
}
