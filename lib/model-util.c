/*
 * model-util.c - what every kind of the model shares: metadata, conditions,
 * taints and tolerations, times and durations (see model.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "model.h"
#include "model-int.h"

char *
model_str(json_object *obj, const char *path)
{
	return nap_xstrdup(nap_json_str(obj, path, ""));
}

char *
model_str_or_null(json_object *obj, const char *path)
{
	const char *s = nap_json_str(obj, path, NULL);

	return s ? nap_xstrdup(s) : NULL;
}

void
model_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
model_strv(json_object *arr, char ***out, size_t *n, const char *what, struct nap_err *err)
{
	size_t i, len;

	*out = NULL;
	*n = 0;
	if (arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return nap_err_set(err, NAP_EX_DATAERR, "%s: not a list", what);
	len = json_object_array_length(arr);
	if (len == 0)
		return 0;
	*out = nap_xcalloc(len, sizeof(**out));
	for (i = 0; i < len; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(v, json_type_string)) {
			model_strv_free(*out, i);
			*out = NULL;
			return nap_err_set(err, NAP_EX_DATAERR, "%s[%zu]: not a string", what, i);
		}
		(*out)[i] = nap_xstrdup(json_object_get_string(v));
	}
	*n = len;
	return 0;
}

void
model_scan(json_object *obj, const struct model_key *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		*keys[i].dst = NULL;
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return;
	json_object_object_foreach(obj, k, v)
	{
		/* Cheap rejects first: most keys of an object are ones nobody asked for. */
		for (i = 0; i < n; i++)
			if (keys[i].name[0] == k[0] && keys[i].name[1] == k[1] &&
			    strcmp(keys[i].name, k) == 0) {
				*keys[i].dst = v;
				break;
			}
	}
}

const char *
model_jstr(json_object *v, const char *def)
{
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

int64_t
model_jint(json_object *v, int64_t def)
{
	return v &&
		(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
	    ? json_object_get_int64(v)
	    : def;
}

static int64_t
jtime(json_object *v)
{
	int64_t t;
	const char *s = model_jstr(v, NULL);

	return s && nap_time_parse(s, &t) == 0 ? t : 0;
}

static int
meta_fill(struct nap_meta *m, json_object *obj, int namespaced, const char *word, char *who,
    size_t wholen, struct nap_strpool **pool, struct nap_err *err)
{
	json_object *md = NULL, *jname, *jns, *juid, *jrv, *jgen, *jcreated, *jdeleted, *jlabels,
		    *jannotations;
	const struct model_key keys[] = {
	    {"name", &jname},
	    {"namespace", &jns},
	    {"uid", &juid},
	    {"resourceVersion", &jrv},
	    {"generation", &jgen},
	    {"creationTimestamp", &jcreated},
	    {"deletionTimestamp", &jdeleted},
	    {"labels", &jlabels},
	    {"annotations", &jannotations},
	};
	const char *name, *ns;

	memset(m, 0, sizeof(*m));
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		if (who)
			snprintf(who, wholen, "%s", word);
		return nap_err_set(err, NAP_EX_DATAERR, "%s: not a JSON object", word);
	}
	json_object_object_get_ex(obj, "metadata", &md);
	model_scan(md, keys, NAP_ARRAY_LEN(keys));
	name = model_jstr(jname, NULL);
	if (name == NULL || *name == '\0') {
		if (who)
			snprintf(who, wholen, "%s", word);
		return nap_err_set(err, NAP_EX_DATAERR, "%s without metadata.name", word);
	}
	ns = namespaced ? model_jstr(jns, "") : "";
	/* A manifest without a namespace lands in "default", as kubectl puts it there. */
	if (namespaced && *ns == '\0')
		ns = "default";
	if (who && namespaced)
		snprintf(who, wholen, "%s %s/%s", word, ns, name);
	else if (who)
		snprintf(who, wholen, "%s %s", word, name);
	if (pool) {
		m->ns = model_pool_dup(pool, ns);
		m->name = model_pool_dup(pool, name);
		m->uid = model_pool_dup(pool, model_jstr(juid, ""));
		m->rv = model_pool_dup(pool, model_jstr(jrv, ""));
	} else {
		m->ns = nap_xstrdup(ns);
		m->name = nap_xstrdup(name);
		m->uid = nap_xstrdup(model_jstr(juid, ""));
		m->rv = nap_xstrdup(model_jstr(jrv, ""));
	}
	m->generation = model_jint(jgen, 0);
	m->created = jtime(jcreated);
	m->deleted = jtime(jdeleted);
	/* References of their own, so the maps outlive raw when a cluster drops it. */
	if (jlabels && json_object_is_type(jlabels, json_type_object))
		m->labels = json_object_get(jlabels);
	if (jannotations && json_object_is_type(jannotations, json_type_object))
		m->annotations = json_object_get(jannotations);
	m->raw = json_object_get(obj);
	return 0;
}

int
model_meta(struct nap_meta *m, json_object *obj, int namespaced, const char *word, char *who,
    size_t wholen, struct nap_err *err)
{
	return meta_fill(m, obj, namespaced, word, who, wholen, NULL, err);
}

int
model_meta_pooled(struct nap_meta *m, json_object *obj, int namespaced, const char *word,
    struct nap_strpool **pool, struct nap_err *err)
{
	return meta_fill(m, obj, namespaced, word, NULL, 0, pool, err);
}

void
model_meta_drop_json(struct nap_meta *m)
{
	if (m->annotations)
		json_object_put(m->annotations);
	if (m->raw)
		json_object_put(m->raw);
	m->annotations = NULL;
	m->raw = NULL;
}

void
model_meta_free_pooled(struct nap_meta *m)
{
	m->ns = m->name = m->uid = m->rv = NULL;
	model_meta_free(m);
}

void
model_meta_free(struct nap_meta *m)
{
	if (m->labels)
		json_object_put(m->labels);
	if (m->annotations)
		json_object_put(m->annotations);
	free(m->ns);
	free(m->name);
	free(m->uid);
	free(m->rv);
	if (m->raw)
		json_object_put(m->raw);
	memset(m, 0, sizeof(*m));
}

static const char *
map_get(json_object *map, const char *key)
{
	json_object *v;

	if (map == NULL || !json_object_object_get_ex(map, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

const char *
nap_meta_label(const struct nap_meta *m, const char *key)
{
	return map_get(m->labels, key);
}

const char *
nap_meta_annotation(const struct nap_meta *m, const char *key)
{
	return map_get(m->annotations, key);
}

/* ---- string pools ---- */

struct nap_strpool {
	struct nap_strpool *next;
	size_t used, cap;
	char buf[];
};

/* Whether s lies in one of the pool's blocks. */
static int
pool_owns(const struct nap_strpool *b, const char *s)
{
	uintptr_t a = (uintptr_t)s;

	for (; b; b = b->next)
		if (a >= (uintptr_t)b->buf && a < (uintptr_t)b->buf + b->used)
			return 1;
	return 0;
}

/*
 * Pods are many and their small strings (node name, owner, toleration keys)
 * are many more: one block per pod instead of a malloc per string.
 */
char *
model_pool_dup(struct nap_strpool **pool, const char *s)
{
	static char empty[1];
	struct nap_strpool *b = *pool;
	size_t n;
	char *p;

	if (s == NULL || *s == '\0')
		return empty;
	n = strlen(s) + 1;
	if (b == NULL || b->cap - b->used < n) {
		/*
		 * A pod's namespace, name, uid, node name and reason are some
		 * 60 to 200 bytes: start small (header and all, one 96-byte
		 * request) and double.
		 */
		size_t cap = b ? 2 * b->cap : 96 - sizeof(*b);

		if (cap < n)
			cap = n;

		b = nap_xmalloc(sizeof(*b) + cap);
		b->next = *pool;
		b->used = 0;
		b->cap = cap;
		*pool = b;
	}
	p = b->buf + b->used;
	memcpy(p, s, n);
	b->used += n;
	return p;
}

char *
model_pool_pack(struct nap_strpool **pool, char **const *fields, size_t n)
{
	struct nap_strpool *b, *packed;
	size_t used = 0, moved = 0, i, len;

	if (*pool == NULL || (*pool)->next == NULL)
		return NULL; /* nothing to gain from one block but its slack */
	for (b = *pool; b; b = b->next)
		used += b->used;
	for (i = 0; i < n; i++)
		if (pool_owns(*pool, *fields[i]))
			moved += strlen(*fields[i]) + 1;
	if (moved != used)
		return NULL; /* a string in the pool that fields does not name: keep all */
	packed = nap_xmalloc(sizeof(*packed) + used);
	packed->next = NULL;
	packed->used = packed->cap = used;
	for (i = 0, moved = 0; i < n; i++) {
		if (!pool_owns(*pool, *fields[i]))
			continue;
		len = strlen(*fields[i]) + 1;
		memcpy(packed->buf + moved, *fields[i], len);
		*fields[i] = packed->buf + moved;
		moved += len;
	}
	model_pool_free(*pool);
	*pool = packed;
	return packed->buf;
}

size_t
model_pool_size(const struct nap_strpool *pool, size_t *blocks)
{
	size_t n = 0;

	*blocks = 0;
	for (; pool; pool = pool->next) {
		n += sizeof(*pool) + pool->cap;
		(*blocks)++;
	}
	return n;
}

void
model_pool_free(struct nap_strpool *pool)
{
	while (pool) {
		struct nap_strpool *next = pool->next;

		free(pool);
		pool = next;
	}
}

/* ---- conditions ---- */

void
model_conds_free(struct nap_cond *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(c[i].type);
		free(c[i].reason);
		free(c[i].message);
	}
	free(c);
}

void
model_conds(json_object *arr, struct nap_cond **out, size_t *n)
{
	size_t i, len, k = 0;

	*out = NULL;
	*n = 0;
	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return;
	len = json_object_array_length(arr);
	if (len == 0)
		return;
	*out = nap_xcalloc(len, sizeof(**out));
	for (i = 0; i < len; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *type = nap_json_str(o, "type", NULL), *st, *ts;
		struct nap_cond *c = &(*out)[k];

		if (type == NULL)
			continue;
		c->type = nap_xstrdup(type);
		st = nap_json_str(o, "status", "");
		c->status = strcmp(st, "True") == 0 ? 1 : strcmp(st, "False") == 0 ? 0 : -1;
		c->reason = model_str(o, "reason");
		c->message = model_str(o, "message");
		ts = nap_json_str(o, "lastTransitionTime", NULL);
		if (ts == NULL || nap_time_parse(ts, &c->since) != 0)
			c->since = 0;
		c->observed_generation = nap_json_int(o, "observedGeneration", 0);
		k++;
	}
	*n = k;
}

const struct nap_cond *
nap_cond_find(const struct nap_cond *c, size_t n, const char *type)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(c[i].type, type) == 0)
			return &c[i];
	return NULL;
}

int
nap_cond_status(const struct nap_cond *c, size_t n, const char *type)
{
	const struct nap_cond *f = nap_cond_find(c, n, type);

	return f ? f->status : -1;
}

/* ---- taints and tolerations ---- */

void
model_taints_free(struct nap_taint *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(t[i].key);
		free(t[i].value);
	}
	free(t);
}

int
model_taints(
    json_object *arr, struct nap_taint **out, size_t *n, const char *what, struct nap_err *err)
{
	size_t i, len;

	*out = NULL;
	*n = 0;
	if (arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return nap_err_set(err, NAP_EX_DATAERR, "%s: not a list", what);
	len = json_object_array_length(arr);
	if (len == 0)
		return 0;
	*out = nap_xcalloc(len, sizeof(**out));
	for (i = 0; i < len; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		const char *key = nap_json_str(o, "key", NULL);

		if (key == NULL || *key == '\0') {
			model_taints_free(*out, i);
			*out = NULL;
			return nap_err_set(
			    err, NAP_EX_DATAERR, "%s[%zu]: taint without a key", what, i);
		}
		(*out)[i].key = nap_xstrdup(key);
		(*out)[i].value = model_str(o, "value");
		/* An unknown effect is the API server's to reject; keep it, tolerate it only by key. */
		(*out)[i].effect = nap_effect_parse(nap_json_str(o, "effect", "?"));
		if ((*out)[i].effect == NAP_EFFECT_ANY)
			(*out)[i].effect = NAP_EFFECT_OTHER;
	}
	*n = len;
	return 0;
}

/*
 * Toleration keys most pods carry, shared instead of copied: the taints the
 * node lifecycle controller and Karpenter set, and the usual opt-ins.
 */
static char well_known_keys[][40] = {
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/unschedulable",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
    "karpenter.sh/disrupted",
    "CriticalAddonsOnly",
    "kubernetes.azure.com/scalesetpriority",
    "nvidia.com/gpu",
    "sku",
};
static char no_value[1];

/*
 * The two tolerations the API server's DefaultTolerationSeconds admission
 * adds to every pod that has none of its own for these taints: nearly every
 * pod's whole list, so pods with exactly these share one (read-only) copy.
 */
static struct nap_toleration admission_default[2] = {
    {well_known_keys[0], 1, no_value, NAP_EFFECT_NOEXECUTE, 300},
    {well_known_keys[1], 1, no_value, NAP_EFFECT_NOEXECUTE, 300},
};

static char *
toleration_key(struct nap_strpool **pool, const char *key)
{
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(well_known_keys); i++)
		if (strcmp(key, well_known_keys[i]) == 0)
			return well_known_keys[i];
	return model_pool_dup(pool, key);
}

/* Whether arr is exactly admission_default, member for member. */
static int
is_admission_default(json_object *arr, size_t len)
{
	size_t i;

	if (len != NAP_ARRAY_LEN(admission_default))
		return 0;
	for (i = 0; i < len; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *secs;

		if (!json_object_is_type(o, json_type_object) || json_object_object_length(o) != 4 ||
		    strcmp(nap_json_str(o, "key", ""), admission_default[i].key) != 0 ||
		    strcmp(nap_json_str(o, "operator", ""), "Exists") != 0 ||
		    strcmp(nap_json_str(o, "effect", ""), "NoExecute") != 0 ||
		    !json_object_object_get_ex(o, "tolerationSeconds", &secs) ||
		    !json_object_is_type(secs, json_type_int) ||
		    json_object_get_int64(secs) != admission_default[i].seconds)
			return 0;
	}
	return 1;
}

void
model_tolerations_free(struct nap_toleration *t)
{
	if (t != admission_default)
		free(t);
}

int
model_tolerations_shared(const struct nap_toleration *t)
{
	return t == admission_default;
}

int
model_tolerations(json_object *arr, struct nap_toleration **out, size_t *n,
    struct nap_strpool **pool, struct nap_err *err)
{
	size_t i, len;

	*out = NULL;
	*n = 0;
	if (arr == NULL)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return nap_err_set(err, NAP_EX_DATAERR, "tolerations: not a list");
	len = json_object_array_length(arr);
	if (len == 0)
		return 0;
	if (is_admission_default(arr, len)) {
		*out = admission_default;
		*n = len;
		return 0;
	}
	*out = nap_xcalloc(len, sizeof(**out));
	for (i = 0; i < len; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		struct nap_toleration *t = &(*out)[i];
		const char *op = nap_json_str(o, "operator", ""),
			   *eff = nap_json_str(o, "effect", "");

		t->key = toleration_key(pool, nap_json_str(o, "key", ""));
		t->value = model_pool_dup(pool, nap_json_str(o, "value", ""));
		t->seconds = nap_json_get(o, "tolerationSeconds")
		    ? nap_json_int(o, "tolerationSeconds", -1)
		    : -1;
		if (*op == '\0' || strcmp(op, "Equal") == 0)
			t->exists = 0;
		else if (strcmp(op, "Exists") == 0)
			t->exists = 1;
		else {
			*n = i + 1;
			return nap_err_set(
			    err, NAP_EX_DATAERR, "toleration %zu: unknown operator \"%s\"", i, op);
		}
		t->effect = nap_effect_parse(eff);
		if (t->effect == NAP_EFFECT_OTHER) {
			*n = i + 1;
			return nap_err_set(
			    err, NAP_EX_DATAERR, "toleration %zu: unknown effect \"%s\"", i, eff);
		}
		if (!t->exists && *t->key == '\0') {
			*n = i + 1;
			return nap_err_set(
			    err, NAP_EX_DATAERR, "toleration %zu: operator Equal needs a key", i);
		}
	}
	*n = len;
	return 0;
}

/* ---- times and durations ---- */

/* n decimal digits at s, or -1. */
static int
digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Hand-rolled: every pod carries two or three of these, and sscanf is slow. */
int
nap_time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec;
	const char *p;
	int64_t off = 0;

	if (s == NULL || strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    sec < 0 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
		int oh = digits(p + 1, 2), om = digits(p + 4, 2);

		if (oh < 0 || om < 0)
			return -1;
		off = (int64_t)oh * 3600 + om * 60;
		if (*p == '+')
			off = -off;
		p += 6;
	} else
		return -1;
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm) + off;
	return 0;
}

int
nap_model_duration(const char *s, int64_t *ms, struct nap_err *err)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {
	    {"ns", 1e-6},
	    {"us", 1e-3},
	    {"\xc2\xb5s", 1e-3},
	    {"ms", 1},
	    {"s", 1e3},
	    {"m", 60e3},
	    {"h", 3600e3},
	};
	const char *p = s;
	double total = 0;
	int neg = 0;

	if (s == NULL || *s == '\0')
		return nap_err_set(err, NAP_EX_DATAERR, "empty duration");
	if (strcmp(s, "Never") == 0) {
		*ms = NAP_NEVER;
		return 0;
	}
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*p) {
		char *end;
		double v;
		size_t i, best = NAP_ARRAY_LEN(units), blen = 0;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return nap_err_set(err, NAP_EX_DATAERR, "invalid duration \"%s\"", s);
		v = strtod(p, &end);
		if (end == p)
			return nap_err_set(err, NAP_EX_DATAERR, "invalid duration \"%s\"", s);
		p = end;
		for (i = 0; i < NAP_ARRAY_LEN(units); i++) {
			size_t l = strlen(units[i].unit);

			if (strncmp(p, units[i].unit, l) == 0 && l > blen) {
				best = i;
				blen = l;
			}
		}
		if (best == NAP_ARRAY_LEN(units))
			return nap_err_set(
			    err, NAP_EX_DATAERR, "invalid duration \"%s\": missing unit", s);
		total += v * units[best].ms;
		p += blen;
	}
	if (neg)
		return nap_err_set(err, NAP_EX_DATAERR, "negative duration \"%s\"", s);
	if (total > 9.2e18)
		return nap_err_set(err, NAP_EX_DATAERR, "duration \"%s\" overflows", s);
	*ms = (int64_t)total;
	return 0;
}

/* A duration field that may be absent (def), a Go duration or "Never". */
int
model_duration_field(
    json_object *obj, const char *path, int64_t def, int64_t *out, struct nap_err *err)
{
	json_object *v = nap_json_get(obj, path);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return nap_err_set(err, NAP_EX_DATAERR, "%s: not a duration string", path);
	if (nap_model_duration(json_object_get_string(v), out, err) != 0)
		return nap_err_prefix(err, "%s", path);
	return 0;
}

/* ---- structural hashes ---- */

uint64_t
model_bytes_hash(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * A hash of a JSON value's structure and content, in document order, without
 * serialising it (json-c would cache a print buffer in every node).
 */
uint64_t
model_json_hash(json_object *o, uint64_t h)
{
	unsigned char tag = (unsigned char)json_object_get_type(o);
	size_t i, n;

	h = model_bytes_hash(&tag, 1, h);
	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, k, v)
		{
			h = model_bytes_hash(k, strlen(k) + 1, h);
			h = model_json_hash(v, h);
		}
		break;
	}
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			h = model_json_hash(json_object_array_get_idx(o, i), h);
		break;
	case json_type_string:
		h = model_bytes_hash(
		    json_object_get_string(o), (size_t)json_object_get_string_len(o) + 1, h);
		break;
	case json_type_int: {
		int64_t iv = json_object_get_int64(o);

		h = model_bytes_hash(&iv, sizeof(iv), h);
		break;
	}
	case json_type_double: {
		double dv = json_object_get_double(o);

		h = model_bytes_hash(&dv, sizeof(dv), h);
		break;
	}
	case json_type_boolean:
		tag = (unsigned char)json_object_get_boolean(o);
		h = model_bytes_hash(&tag, 1, h);
		break;
	case json_type_null:
		break;
	}
	return h;
}

uint64_t
model_str_hash(const char *s, uint64_t h)
{
	return model_bytes_hash(s, strlen(s) + 1, h ? h : 0xcbf29ce484222325ULL);
}

/* ---- kinds ---- */

static const struct {
	const char *name, *word;
	int namespaced;
} kinds[NAP_KIND_N] = {
    [NAP_KIND_POD] = {"Pod", "pod", 1},
    [NAP_KIND_NODE] = {"Node", "node", 0},
    [NAP_KIND_NODECLAIM] = {"NodeClaim", "nodeclaim", 0},
    [NAP_KIND_NODEPOOL] = {"NodePool", "nodepool", 0},
    [NAP_KIND_NODECLASS] = {"AKSNodeClass", "aksnodeclass", 0},
    [NAP_KIND_PDB] = {"PodDisruptionBudget", "pdb", 1},
    [NAP_KIND_DAEMONSET] = {"DaemonSet", "daemonset", 1},
    [NAP_KIND_PVC] = {"PersistentVolumeClaim", "pvc", 1},
    [NAP_KIND_PV] = {"PersistentVolume", "pv", 0},
    [NAP_KIND_STORAGECLASS] = {"StorageClass", "storageclass", 0},
    [NAP_KIND_NAMESPACE] = {"Namespace", "namespace", 0},
    [NAP_KIND_CSINODE] = {"CSINode", "csinode", 0},
};

int
nap_kind_lookup(const char *kind)
{
	int i;

	if (kind == NULL)
		return -1;
	for (i = 0; i < NAP_KIND_N; i++)
		if (strcmp(kind, kinds[i].name) == 0)
			return i;
	return -1;
}

const char *
nap_kind_name(enum nap_kind k)
{
	return (unsigned)k < NAP_KIND_N ? kinds[k].name : "?";
}

const char *
nap_kind_word(enum nap_kind k)
{
	return (unsigned)k < NAP_KIND_N ? kinds[k].word : "object";
}

int
model_kind_namespaced(enum nap_kind k)
{
	return (unsigned)k < NAP_KIND_N ? kinds[k].namespaced : 0;
}

json_object *
nap_taint_json(const struct nap_taint *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "key", json_object_new_string(t->key));
	if (t->value && t->value[0])
		json_object_object_add(o, "value", json_object_new_string(t->value));
	json_object_object_add(o, "effect", json_object_new_string(nap_effect_name(t->effect)));
	return o;
}
