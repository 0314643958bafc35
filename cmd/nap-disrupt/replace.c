/*
 * replace.c - commands whose candidates may go only once their replacements
 * are Initialized (karpenter.md §4.7): a non-empty Drifted command and a
 * consolidation that replaces (Underutilized, replacements > 0), with one
 * or more candidates and one or more replacement NodeClaims.
 *
 * Start: the replacements are the command's LaunchRequest records when the
 * planner gives them (lib/disrupt simulates where the candidates' pods go
 * and writes each claim with lib/claim, the writer nap-solve uses).  A
 * one-candidate command without them gets a NodeClaim of the candidate's
 * NodePool made from the pool's current template, pinned to the
 * candidate's instance type, zone and capacity type (the size that held
 * these pods, in the zone their volumes and spreads chose); a pool whose
 * requirements no longer admit that offering, or that sets minValues, holds
 * the command (DisruptionBlocked on the NodeClaim): nap does not guess
 * another size.  Each replacement is renamed "<pool>-<5 of [a-z0-9]>" from
 * the first candidate, the time and its index, so a retry never meets the
 * NodeClaim of an earlier attempt still being deleted.
 *
 * Then, in Karpenter's order: every candidate's NodeClaim is annotated with
 * the replacements' names (nap.dev/replacement, comma-separated) and the
 * start time, and its Node tainted karpenter.sh/disrupted:NoSchedule (a
 * write that fails undoes the ones before it and holds the command); then
 * the LaunchRequests go downstream (nap-solve forwards them, nap-launch
 * launches them through the same NIC/VM path and capacity fallback as any
 * other claim), a Nominated record for each pod a replacement is meant for,
 * and the Disruption record.
 *
 * Follow-up, every pass, from the API server's state alone (restart-safe):
 * for each NodeClaim carrying the annotation, every replacement Initialized
 * -> the candidate NodeClaim is deleted (termination drains it); one
 * replacement deleted, gone after it was seen, or not all Initialized
 * within the registration timeout (15 min, under --time-scale) after the
 * start -> the command is given up: every replacement still there is
 * deleted, the taint and the annotations removed, and a
 * DisruptionReplacementFailed event says so.  The candidates of one command
 * carry the same list, so they all go the same way.  Until the candidates
 * are gone the replacements count as nominated, so emptiness and
 * consolidation do not take them.
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

/* "<pool>-<5 of [a-z0-9]>", from the candidate, the time and the index (FNV-1a). */
static char *
replacement_name(const char *pool, const char *cand, int64_t now, size_t idx)
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
	for (i = 0; i < 8; i++)
		h = (h ^ (unsigned char)(idx >> (8 * i))) * 1099511628211ULL;
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
annotate(struct ctx *x, const char *claim, const char *name, const char *since, struct nap_err *err)
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
			"/metadata/labels/"
			"node.kubernetes.io~1exclude-from-external-load-balancers"));
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

/* The names of a comma-separated list, in a new array of new strings. */
static char **
split_names(const char *list, size_t *n)
{
	char **out = NULL;
	size_t a = 0;
	const char *s = list, *e;

	*n = 0;
	while (*s) {
		e = strchr(s, ',');
		if (e == NULL)
			e = s + strlen(s);
		if (e > s) {
			nap_xgrow(&out, &a, *n + 1, sizeof(*out));
			out[(*n)++] = nap_xstrndup(s, (size_t)(e - s));
		}
		s = *e ? e + 1 : e;
	}
	return out;
}

static void
free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The planner's LaunchRequest records of cmd (borrowed), NULL and 0 when it gave none. */
static json_object *const *
replace_launches(const struct nap_disrupt_command *cmd, size_t *n)
{
	*n = cmd->launch ? cmd->nlaunch : 0;
	return *n ? cmd->launch : NULL;
}

/* The one replacement of a one-candidate command: the candidate's own offering. */
static json_object *
own_offering(struct ctx *x, const struct nap_nodepool *np, const struct nap_disrupt_candidate *cd,
    const struct nap_node *n, char *why, size_t len)
{
	json_object *reqs, *labels = NULL, *rec, *pods;
	struct nap_pod *const *on;
	size_t i, non;

	reqs = replacement_reqs(np, cd, &labels, why, len);
	if (reqs == NULL)
		return NULL;
	rec = json_object_new_object();
	json_object_object_add(rec, "type", json_object_new_string("LaunchRequest"));
	json_object_object_add(
	    rec, "nodeClaim", nap_claim_object(np, "", labels, reqs, &cd->requests));
	pods = json_object_new_array();
	on = nap_cluster_pods_on_node(x->cl, n->meta.name, &non);
	for (i = 0; i < non; i++)
		if (!nap_pod_is_terminal(on[i]) && !nap_pod_is_daemon_or_static(on[i])) {
			char *key = nap_xasprintf("%s/%s", on[i]->meta.ns, on[i]->meta.name);

			json_object_array_add(pods, json_object_new_string(key));
			free(key);
		}
	json_object_object_add(rec, "pods", pods);
	json_object_object_add(
	    rec, "price", cd->price >= 0 ? json_object_new_double(cd->price) : NULL);
	return rec;
}

/* Undo the marks on the first n candidates: untaint, drop the annotations. */
static void
unmark(struct ctx *x, const struct nap_nodeclaim *const *cs, const struct nap_node *const *ns,
    size_t n)
{
	struct nap_err err;
	size_t i;

	for (i = 0; i < n; i++) {
		if (untaint(x, ns[i], &err) < 0)
			nap_warn("node %s: untaint: %s", ns[i]->meta.name, err.msg);
		if (annotate(x, cs[i]->meta.name, NULL, NULL, &err) < 0)
			nap_warn(
			    "nodeclaim %s: %s: %s", cs[i]->meta.name, ANN_REPLACEMENT, err.msg);
	}
}

/* A Nominated record for each pod the LaunchRequest lr is meant for. */
static void
nominate(struct ctx *x, json_object *lr, const char *name)
{
	size_t i, n;
	json_object *pods = nap_json_array(lr, "pods", &n);

	for (i = 0; pods && i < n; i++) {
		const char *key = json_object_get_string(json_object_array_get_idx(pods, i));
		const char *slash = key ? strchr(key, '/') : NULL;
		const struct nap_pod *p;
		json_object *rec;
		char *ns;

		if (slash == NULL)
			continue;
		ns = nap_xstrndup(key, (size_t)(slash - key));
		p = nap_cluster_pod(x->cl, ns, slash + 1);
		free(ns);
		rec = json_object_new_object();
		json_object_object_add(rec, "type", json_object_new_string("Nominated"));
		json_object_object_add(rec, "pod", json_object_new_string(key));
		json_object_object_add(rec, "uid", json_object_new_string(p ? p->meta.uid : ""));
		json_object_object_add(rec, "node", json_object_new_string(name));
		json_object_object_add(rec, "kind", json_object_new_string("NodeClaim"));
		nap_emit(rec);
		json_object_put(rec);
	}
}

int
replace_command(
    struct ctx *x, const struct nap_disrupt_result *r, const struct nap_disrupt_command *cmd)
{
	const struct nap_nodeclaim **cs;
	const struct nap_node **ns;
	const struct nap_nodepool *np;
	json_object *const *planned;
	json_object **lr = NULL, *rec, *md;
	struct nap_err err;
	char why[256], since[40], *names = NULL, *tmp;
	size_t i, nlr = 0, marked = 0;
	int64_t now = now_ms(x);
	int rc = 1;

	if (cmd->replacements == 0 || cmd->ncands == 0)
		return 0;
	np = nap_cluster_nodepool(x->cl, cmd->nodepool);
	if (np == NULL)
		return 1;
	cs = nap_xcalloc(cmd->ncands, sizeof(*cs));
	ns = nap_xcalloc(cmd->ncands, sizeof(*ns));
	for (i = 0; i < cmd->ncands; i++) {
		cs[i] = nap_cluster_nodeclaim(x->cl, cmd->cands[i].nodeclaim);
		ns[i] = cs[i] ? nap_cluster_node_of(x->cl, cs[i]) : NULL;
		if (cs[i] == NULL || ns[i] == NULL)
			goto out;
	}

	planned = replace_launches(cmd, &nlr);
	if (nlr > 0) {
		/* renamed in place, so that the Disruption record names them too */
		lr = nap_xcalloc(nlr, sizeof(*lr));
		for (i = 0; i < nlr; i++)
			lr[i] = json_object_get(planned[i]);
	} else if (cmd->ncands == 1) {
		lr = nap_xcalloc(1, sizeof(*lr));
		if ((lr[0] = own_offering(x, np, &cmd->cands[0], ns[0], why, sizeof(why))) != NULL)
			nlr = 1;
	} else {
		snprintf(
		    why, sizeof(why), "the planner gave no replacement for %zu nodes", cmd->ncands);
	}
	if (nlr == 0) {
		for (i = 0; i < cmd->ncands; i++)
			obs_event(x, "NodeClaim", "karpenter.sh/v1", &cs[i]->meta, "Normal",
			    "DisruptionBlocked", "%s: not disrupted, no replacement: %s",
			    nap_disrupt_reason_name(cmd->reason), why);
		goto out;
	}
	for (i = 0; i < nlr; i++) {
		char *name = replacement_name(np->meta.name, cmd->cands[0].nodeclaim, now, i);

		md = nap_json_get(lr[i], "nodeClaim.metadata");
		if (md == NULL || !json_object_is_type(md, json_type_object)) {
			nap_warn("nodepool %s: %s replacement %zu has no nodeClaim.metadata",
			    np->meta.name, nap_disrupt_reason_name(cmd->reason), i);
			free(name);
			goto out;
		}
		json_object_object_add(md, "name", json_object_new_string(name));
		tmp = names ? nap_xasprintf("%s,%s", names, name) : nap_xstrdup(name);
		free(names);
		names = tmp;
		free(name);
	}

	rfc3339(now, since, sizeof(since));
	for (marked = 0; marked < cmd->ncands; marked++) {
		if (annotate(x, cs[marked]->meta.name, names, since, &err) < 0) {
			nap_warn("nodeclaim %s: annotate %s: %s", cs[marked]->meta.name,
			    ANN_REPLACEMENT, err.msg);
			break;
		}
		if (k_taint_disrupted(x, ns[marked], &err) < 0) {
			nap_warn("node %s: taint %s: %s", ns[marked]->meta.name,
			    NAP_TAINT_DISRUPTED, err.msg);
			if (annotate(x, cs[marked]->meta.name, NULL, NULL, &err) < 0)
				nap_warn("nodeclaim %s: %s: %s", cs[marked]->meta.name,
				    ANN_REPLACEMENT, err.msg);
			break;
		}
	}
	if (marked < cmd->ncands) {
		unmark(x, cs, ns, marked);
		goto out;
	}

	for (i = 0; i < nlr; i++) {
		const char *name = nap_json_str(lr[i], "nodeClaim.metadata.name", "");

		nap_emit(lr[i]);
		nominate(x, lr[i], name);
	}
	rec = nap_disrupt_command_json(r, cmd);
	nap_emit(rec);
	json_object_put(rec);
	x->ncommands++;
	for (i = 0; i < cmd->ncands; i++) {
		nap_info("nodeclaim %s: %s, replacement %s launching", cs[i]->meta.name,
		    nap_disrupt_reason_name(cmd->reason), names);
		obs_event(x, "NodeClaim", "karpenter.sh/v1", &cs[i]->meta, "Normal",
		    "DisruptionLaunching", "Launching NodeClaim: %s (replacing %s)",
		    nap_disrupt_reason_name(cmd->reason), names);
	}
	rc = 2;
out:
	for (i = 0; i < nlr; i++)
		json_object_put(lr[i]);
	free(lr);
	free(names);
	free(cs);
	free(ns);
	return rc;
}

/* Give the command up: the replacements go, the candidate is as before. */
static void
give_up(struct ctx *x, const struct nap_nodeclaim *c, char *const *names, size_t nnames,
    const char *list, const char *what)
{
	const struct nap_node *n = nap_cluster_node_of(x->cl, c);
	struct nap_err err;
	char *path;
	size_t i;

	for (i = 0; i < nnames; i++) {
		const struct nap_nodeclaim *repl = nap_cluster_nodeclaim(x->cl, names[i]);

		if (repl == NULL || repl->meta.deleted)
			continue;
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
	nap_warn("nodeclaim %s: replacement %s %s: disruption given up", c->meta.name, list, what);
	obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Warning",
	    "DisruptionReplacementFailed", "Replacement %s %s; the node stays", list, what);
}

/* Forget the replacements seen that no annotation names any more. */
static void
seen_prune(struct ctx *x)
{
	struct nap_hash keep;
	char **names;
	size_t j, nn;

	if (nap_hash_count(&x->seen_repl) == 0)
		return;
	nap_hash_init(&keep);
	replace_nominated(x, &names, &nn);
	for (j = 0; j < nn; j++)
		if (nap_hash_get(&x->seen_repl, names[j]))
			nap_hash_put(&keep, names[j], (void *)1);
	free_names(names, nn);
	nap_hash_free(&x->seen_repl);
	x->seen_repl = keep;
}

void
replace_pass(struct ctx *x)
{
	struct nap_nodeclaim *const *claims;
	size_t i, j, n;
	int64_t now = now_ms(x);

	claims = nap_cluster_nodeclaims(x->cl, &n);
	for (i = 0; i < n; i++) {
		const struct nap_nodeclaim *c = claims[i], *repl;
		const char *list = nap_meta_annotation(&c->meta, ANN_REPLACEMENT);
		const char *since_s = nap_meta_annotation(&c->meta, ANN_SINCE);
		const char *what = NULL;
		int64_t since = 0;
		int ready = 1, launched = 1;
		struct nap_err err;
		char **names, *path;
		size_t nn;

		if (list == NULL || c->meta.deleted)
			continue;
		names = split_names(list, &nn);
		for (j = 0; j < nn && what == NULL; j++) {
			repl = nap_cluster_nodeclaim(x->cl, names[j]);
			if (repl == NULL) {
				if (nap_hash_get(&x->seen_repl, names[j]))
					what = "is gone";
				ready = launched = 0;
				continue;
			}
			nap_hash_put(&x->seen_repl, names[j], (void *)1);
			if (repl->meta.deleted)
				what = "is being deleted";
			else if (!repl->initialized)
				ready = 0;
		}
		if (nn == 0)
			what = "is not named";
		if (what == NULL && ready) {
			path = path_nodeclaim(c->meta.name);
			if (k_delete(x, path, c->meta.uid, -1, &err) < 0)
				nap_warn("nodeclaim %s: delete: %s", c->meta.name, err.msg);
			else
				obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Normal",
				    "DisruptionTerminating",
				    "Disrupting NodeClaim: replacement %s is initialized", list);
			free(path);
			free_names(names, nn);
			continue;
		}
		/* A start time that does not parse counts as long ago: fail safe, untaint. */
		if (what == NULL &&
		    (since_s == NULL || nap_time_parse(since_s, &since) != 0 ||
			now - since * 1000 > scaled(x, REGISTRATION_TIMEOUT_MS)))
			what = "was not initialized in time";
		if (what != NULL)
			give_up(x, c, names, nn, list, what);
		else if (!launched)
			obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Normal",
			    "DisruptionLaunching", "Launching NodeClaim: replacement %s", list);
		else
			obs_event(x, "NodeClaim", "karpenter.sh/v1", &c->meta, "Normal",
			    "DisruptionWaitingReadiness",
			    "Waiting on readiness to continue disruption: replacement %s", list);
		free_names(names, nn);
	}
	seen_prune(x);
}

void
replace_nominated(const struct ctx *x, char ***out, size_t *nout)
{
	struct nap_nodeclaim *const *claims;
	size_t i, j, n, nn, a = 0;

	*out = NULL;
	*nout = 0;
	claims = nap_cluster_nodeclaims(x->cl, &n);
	for (i = 0; i < n; i++) {
		const char *list = nap_meta_annotation(&claims[i]->meta, ANN_REPLACEMENT);
		char **names;

		if (list == NULL)
			continue;
		names = split_names(list, &nn);
		nap_xgrow(out, &a, *nout + nn, sizeof(**out));
		for (j = 0; j < nn; j++)
			(*out)[(*nout)++] = names[j];
		free(names);
	}
}

void
replace_free(struct ctx *x)
{
	nap_hash_free(&x->seen_repl);
}
