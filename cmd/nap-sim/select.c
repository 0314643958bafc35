/*
 * select.c - label and field selectors as the API server parses them from
 * query strings, and metav1.LabelSelector objects (PDBs, ReplicaSets).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "json.h"

enum { OP_EQ, OP_NE, OP_IN, OP_NOTIN, OP_EXISTS, OP_NOTEXISTS, OP_GT, OP_LT };

struct term {
	char *key;
	int op;
	char **vals;
	size_t nvals;
};

struct sim_lsel {
	struct term *t;
	size_t n, alloc;
};

struct sim_fsel {
	struct term *t;
	size_t n, alloc;
};

static void
terms_free(struct term *t, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		free(t[i].key);
		for (j = 0; j < t[i].nvals; j++)
			free(t[i].vals[j]);
		free(t[i].vals);
	}
	free(t);
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int
keychar(int c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/';
}

static void
add_val(struct term *t, const char *s, size_t n)
{
	t->vals = nap_xrealloc(t->vals, (t->nvals + 1) * sizeof(*t->vals));
	t->vals[t->nvals++] = nap_xstrndup(s, n);
}

/* One term starting at *pp; leaves *pp after it (at ',' or end). */
static int
parse_term(const char **pp, struct term *t, struct nap_err *err)
{
	const char *p = skip_ws(*pp), *k;
	size_t n;

	memset(t, 0, sizeof(*t));
	if (*p == '!') {
		p = skip_ws(p + 1);
		k = p;
		while (keychar((unsigned char)*p))
			p++;
		if (p == k)
			return sim_err_status(
			    err, 400, "unable to parse requirement: key is empty");
		t->key = nap_xstrndup(k, (size_t)(p - k));
		t->op = OP_NOTEXISTS;
		*pp = skip_ws(p);
		return 0;
	}
	k = p;
	while (keychar((unsigned char)*p))
		p++;
	if (p == k)
		return sim_err_status(err, 400,
		    "unable to parse requirement: found '%c', expected: identifier", *p ? *p : ' ');
	t->key = nap_xstrndup(k, (size_t)(p - k));
	p = skip_ws(p);
	if (*p == ',' || !*p) {
		t->op = OP_EXISTS;
		*pp = p;
		return 0;
	}
	if (!strncmp(p, "==", 2)) {
		t->op = OP_EQ;
		p += 2;
	} else if (!strncmp(p, "!=", 2)) {
		t->op = OP_NE;
		p += 2;
	} else if (*p == '=') {
		t->op = OP_EQ;
		p++;
	} else if (*p == '>' || *p == '<') {
		t->op = *p == '>' ? OP_GT : OP_LT;
		p++;
	} else if (!strncmp(p, "in", 2) || !strncmp(p, "notin", 5)) {
		t->op = *p == 'i' ? OP_IN : OP_NOTIN;
		p = skip_ws(p + (t->op == OP_IN ? 2 : 5));
		if (*p != '(')
			return sim_err_status(err, 400,
			    "unable to parse requirement: found '%c', expected: '('",
			    *p ? *p : ' ');
		p++;
		for (;;) {
			p = skip_ws(p);
			k = p;
			while (*p && *p != ',' && *p != ')' && *p != ' ')
				p++;
			add_val(t, k, (size_t)(p - k));
			p = skip_ws(p);
			if (*p == ',') {
				p++;
				continue;
			}
			if (*p == ')') {
				p++;
				break;
			}
			return sim_err_status(
			    err, 400, "unable to parse requirement: unterminated set");
		}
		*pp = skip_ws(p);
		return 0;
	} else {
		return sim_err_status(err, 400,
		    "unable to parse requirement: found '%c', expected: in, notin, =, ==, !=, gt, "
		    "lt",
		    *p);
	}
	p = skip_ws(p);
	k = p;
	while (*p && *p != ',' && *p != ' ')
		p++;
	n = (size_t)(p - k);
	add_val(t, k, n);
	if (t->op == OP_GT || t->op == OP_LT) {
		char *end;

		strtoll(t->vals[0], &end, 10);
		if (!n || *end)
			return sim_err_status(err, 400,
			    "unable to parse requirement: for 'gt', 'lt' operators, the value must "
			    "be an integer");
	}
	*pp = skip_ws(p);
	return 0;
}

static int
parse_terms(const char *s, struct term **out, size_t *nout, size_t *alloc, struct nap_err *err)
{
	const char *p = s;

	*out = NULL;
	*nout = *alloc = 0;
	p = skip_ws(p);
	while (*p) {
		struct term t;

		if (parse_term(&p, &t, err) < 0) {
			free(t.key);
			if (t.vals) {
				size_t j;

				for (j = 0; j < t.nvals; j++)
					free(t.vals[j]);
				free(t.vals);
			}
			terms_free(*out, *nout);
			*out = NULL;
			*nout = 0;
			return -1;
		}
		nap_xgrow(out, alloc, *nout + 1, sizeof(**out));
		(*out)[(*nout)++] = t;
		if (*p == ',')
			p = skip_ws(p + 1);
		else if (*p) {
			terms_free(*out, *nout);
			*out = NULL;
			*nout = 0;
			return sim_err_status(
			    err, 400, "unable to parse requirement: unexpected '%c'", *p);
		}
	}
	return 0;
}

int
sim_lsel_parse(const char *s, struct sim_lsel **out, struct nap_err *err)
{
	struct sim_lsel *sel = nap_xcalloc(1, sizeof(*sel));

	if (parse_terms(s, &sel->t, &sel->n, &sel->alloc, err) < 0) {
		free(sel);
		*out = NULL;
		return nap_err_prefix(err, "unable to parse labelSelector");
	}
	*out = sel;
	return 0;
}

void
sim_lsel_free(struct sim_lsel *sel)
{
	if (!sel)
		return;
	terms_free(sel->t, sel->n);
	free(sel);
}

static int
term_match(const struct term *t, const char *v)
{
	size_t i;
	char *end;
	long long a, b;

	switch (t->op) {
	case OP_EXISTS:
		return v != NULL;
	case OP_NOTEXISTS:
		return v == NULL;
	case OP_EQ:
		return v && !strcmp(v, t->vals[0]);
	case OP_NE:
		return !v || strcmp(v, t->vals[0]);
	case OP_IN:
	case OP_NOTIN:
		for (i = 0; v && i < t->nvals; i++)
			if (!strcmp(v, t->vals[i]))
				return t->op == OP_IN;
		return t->op == OP_NOTIN;
	case OP_GT:
	case OP_LT:
		if (!v)
			return 0;
		a = strtoll(v, &end, 10);
		if (*end || end == v)
			return 0;
		b = strtoll(t->vals[0], &end, 10);
		if (*end)
			return 0;
		return t->op == OP_GT ? a > b : a < b;
	}
	return 0;
}

int
sim_lsel_match(const struct sim_lsel *sel, json_object *obj)
{
	json_object *labels = nap_json_get(obj, "metadata.labels");
	size_t i;

	if (!sel)
		return 1;
	for (i = 0; i < sel->n; i++) {
		json_object *v = nap_json_key(labels, sel->t[i].key);

		if (!term_match(&sel->t[i], v ? json_object_get_string(v) : NULL))
			return 0;
	}
	return 1;
}

/* Field selectors every resource supports, then the per-resource ones. */
static int
field_supported(int res, const char *f)
{
	static const char *const pod_fields[] = {
	    "spec.nodeName",
	    "spec.restartPolicy",
	    "spec.schedulerName",
	    "spec.serviceAccountName",
	    "spec.hostNetwork",
	    "status.phase",
	    "status.podIP",
	    "status.nominatedNodeName",
	    NULL,
	};
	static const char *const event_fields[] = {
	    "involvedObject.kind",
	    "involvedObject.namespace",
	    "involvedObject.name",
	    "involvedObject.uid",
	    "involvedObject.apiVersion",
	    "involvedObject.resourceVersion",
	    "involvedObject.fieldPath",
	    "reason",
	    "reportingComponent",
	    "source",
	    "type",
	    NULL,
	};
	static const char *const node_fields[] = {"spec.unschedulable", NULL};
	const char *const *list = NULL;
	const char *r = sim_rdescs[res].resource;
	size_t i;

	if (!strcmp(f, "metadata.name") || !strcmp(f, "metadata.namespace"))
		return 1;
	if (!strcmp(r, "pods"))
		list = pod_fields;
	else if (!strcmp(r, "events"))
		list = event_fields;
	else if (!strcmp(r, "nodes"))
		list = node_fields;
	for (i = 0; list && list[i]; i++)
		if (!strcmp(list[i], f))
			return 1;
	return 0;
}

int
sim_fsel_parse(const char *s, int res, struct sim_fsel **out, struct nap_err *err)
{
	struct sim_fsel *sel = nap_xcalloc(1, sizeof(*sel));
	size_t i;

	*out = NULL;
	if (parse_terms(s, &sel->t, &sel->n, &sel->alloc, err) < 0) {
		free(sel);
		return nap_err_prefix(err, "unable to parse fieldSelector");
	}
	for (i = 0; i < sel->n; i++) {
		if (sel->t[i].op != OP_EQ && sel->t[i].op != OP_NE) {
			sim_err_status(err, 400, "invalid selector: '%s'; can't understand '%s'", s,
			    sel->t[i].key);
			sim_fsel_free(sel);
			return -1;
		}
		if (!field_supported(res, sel->t[i].key)) {
			sim_err_status(err, 400, "field label not supported: %s", sel->t[i].key);
			sim_fsel_free(sel);
			return -1;
		}
	}
	*out = sel;
	return 0;
}

void
sim_fsel_free(struct sim_fsel *sel)
{
	if (!sel)
		return;
	terms_free(sel->t, sel->n);
	free(sel);
}

int
sim_fsel_match(const struct sim_fsel *sel, json_object *obj)
{
	size_t i;

	if (!sel)
		return 1;
	for (i = 0; i < sel->n; i++) {
		json_object *v = nap_json_get(obj, sel->t[i].key);
		const char *s = "";

		if (v && json_object_is_type(v, json_type_boolean))
			s = json_object_get_boolean(v) ? "true" : "false";
		else if (v)
			s = json_object_get_string(v);
		if (!term_match(&sel->t[i], s))
			return 0;
	}
	return 1;
}

int
sim_labelselector_match(json_object *selector, json_object *obj)
{
	json_object *labels = nap_json_get(obj, "metadata.labels");
	json_object *ml, *me;
	size_t i, j, n;

	if (!selector || !json_object_is_type(selector, json_type_object))
		return 0;
	ml = json_object_object_get(selector, "matchLabels");
	if (ml && json_object_is_type(ml, json_type_object)) {
		json_object_object_foreach(ml, k, v)
		{
			json_object *have = nap_json_key(labels, k);

			if (!have ||
			    strcmp(json_object_get_string(have), json_object_get_string(v)))
				return 0;
		}
	}
	me = json_object_object_get(selector, "matchExpressions");
	n = me && json_object_is_type(me, json_type_array) ? json_object_array_length(me) : 0;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(me, i);
		const char *key = nap_json_str(e, "key", "");
		const char *op = nap_json_str(e, "operator", "");
		json_object *vals = json_object_object_get(e, "values");
		json_object *have = nap_json_key(labels, key);
		const char *hv = have ? json_object_get_string(have) : NULL;
		int in = 0;

		for (j = 0; hv && vals && j < json_object_array_length(vals); j++)
			if (!strcmp(hv, json_object_get_string(json_object_array_get_idx(vals, j))))
				in = 1;
		if (!strcmp(op, "In") && !in)
			return 0;
		if (!strcmp(op, "NotIn") && in)
			return 0;
		if (!strcmp(op, "Exists") && !hv)
			return 0;
		if (!strcmp(op, "DoesNotExist") && hv)
			return 0;
	}
	return 1;
}
