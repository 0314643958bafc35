/*
 * yaml.c - libyaml's event stream folded into json-c trees; see yaml.h for
 * the typing rules, which follow go-yaml v2 as Kubernetes uses it.
 *
 * The event API rather than libyaml's document loader, because the loader
 * forgets whether a scalar was plain or carried an explicit !!str, and
 * typing depends on exactly that.
 */
#include "yaml.h"
#include <yaml.h> /* libyaml's: lib/ is a quote-only include path */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

/* Key positions hung on a mapping as json-c userdata (NAP_YAML_KEYPOS). */
struct keypos {
	size_t n, alloc;
	struct keypos_ent {
		char *key;
		unsigned line, col;
	} * v;
};

struct anchor {
	char *name;
	json_object *val; /* a private copy; aliases copy it again */
	size_t weight;	  /* nodes in it */
	unsigned height;  /* nesting levels in it */
};

struct ld {
	yaml_parser_t parser;
	const char *name;
	const char *buf;
	size_t len;
	int flags;
	struct anchor *anchors;
	size_t nanchors, aanchors;
	size_t alias_nodes;
	struct nap_err *err;
};

/* What a subtree costs, for the alias caps. */
struct cost {
	size_t weight;
	unsigned height;
};

static int err_at(struct ld *ld, const yaml_mark_t *m, const char *fmt, ...) NAP_PRINTF(3, 4);

static int
err_at(struct ld *ld, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[NAP_ERR_MSG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return nap_err_set(
	    ld->err, NAP_EX_DATAERR, "%s:%zu:%zu: %s", ld->name, m->line + 1, m->column + 1, msg);
}

static int
parser_error(struct ld *ld)
{
	yaml_parser_t *p = &ld->parser;
	const char *problem = p->problem ? p->problem : "malformed yaml";
	yaml_mark_t m;
	size_t i;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return nap_err_set(
		    ld->err, NAP_EX_SOFTWARE, "%s: out of memory in libyaml", ld->name);
	case YAML_READER_ERROR:
		/* The reader reports a byte offset, not a mark. */
		memset(&m, 0, sizeof(m));
		for (i = 0; i < p->problem_offset && i < ld->len; i++) {
			if (ld->buf[i] == '\n') {
				m.line++;
				m.column = 0;
			} else if (((unsigned char)ld->buf[i] & 0xC0) != 0x80) {
				m.column++;
			}
		}
		if (p->problem_value != -1)
			return err_at(ld, &m, "%s (byte 0x%02x)", problem, p->problem_value);
		return err_at(ld, &m, "%s", problem);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (p->context != NULL)
			return err_at(ld, &p->problem_mark, "%s (%s at line %zu, column %zu)",
			    problem, p->context, p->context_mark.line + 1,
			    p->context_mark.column + 1);
		return err_at(ld, &p->problem_mark, "%s", problem);
	default:
		return err_at(ld, &p->mark, "%s", problem);
	}
}

static int
next_event(struct ld *ld, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&ld->parser, ev))
		return parser_error(ld);
	return 0;
}

/* ---- scalar typing (go-yaml v2 resolve) ---- */

static const struct special {
	const char *text;
	enum { SP_TRUE, SP_FALSE, SP_NULL, SP_NAN, SP_INF, SP_NINF } what;
} specials[] = {
    {"y", SP_TRUE},
    {"Y", SP_TRUE},
    {"yes", SP_TRUE},
    {"Yes", SP_TRUE},
    {"YES", SP_TRUE},
    {"true", SP_TRUE},
    {"True", SP_TRUE},
    {"TRUE", SP_TRUE},
    {"on", SP_TRUE},
    {"On", SP_TRUE},
    {"ON", SP_TRUE},
    {"n", SP_FALSE},
    {"N", SP_FALSE},
    {"no", SP_FALSE},
    {"No", SP_FALSE},
    {"NO", SP_FALSE},
    {"false", SP_FALSE},
    {"False", SP_FALSE},
    {"FALSE", SP_FALSE},
    {"off", SP_FALSE},
    {"Off", SP_FALSE},
    {"OFF", SP_FALSE},
    {"~", SP_NULL},
    {"null", SP_NULL},
    {"Null", SP_NULL},
    {"NULL", SP_NULL},
    {".nan", SP_NAN},
    {".NaN", SP_NAN},
    {".NAN", SP_NAN},
    {".inf", SP_INF},
    {".Inf", SP_INF},
    {".INF", SP_INF},
    {"+.inf", SP_INF},
    {"+.Inf", SP_INF},
    {"+.INF", SP_INF},
    {"-.inf", SP_NINF},
    {"-.Inf", SP_NINF},
    {"-.INF", SP_NINF},
};

static int
is_digit_in(int c, int base)
{
	if (c >= '0' && c <= '9')
		return c - '0' < base;
	if (base == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
		return 1;
	return 0;
}

static int
digit_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/*
 * Go's strconv.ParseInt(s, 0, 64), then ParseUint: sign, 0x/0o/0b prefixes,
 * a leading 0 meaning octal.  Returns 1 for int64 (*i), 2 for a uint64 above
 * INT64_MAX (*u), 0 when s is not an integer or overflows.
 */
static int
parse_go_int(const char *s, int64_t *i, uint64_t *u)
{
	int neg = 0, sign = 0, base = 10;
	uint64_t v = 0;
	const char *p = s;

	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		sign = 1;
		p++;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
		base = 8;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		base = 2;
		p += 2;
	} else if (p[0] == '0' && p[1] != '\0') {
		base = 8;
		p++;
	}
	if (*p == '\0')
		return 0;
	for (; *p; p++) {
		int d;

		if (!is_digit_in(*p, base))
			return 0;
		d = digit_val(*p);
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return 0;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return 0;
		*i = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		return 1;
	}
	if (v <= (uint64_t)INT64_MAX) {
		*i = (int64_t)v;
		return 1;
	}
	if (sign) /* ParseUint takes no sign */
		return 0;
	*u = v;
	return 2;
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int
is_yaml_float(const char *s)
{
	const char *p = s;

	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.') {
		p++;
		if (!is_digit_in(*p, 10))
			return 0;
		while (is_digit_in(*p, 10))
			p++;
	} else {
		if (!is_digit_in(*p, 10))
			return 0;
		while (is_digit_in(*p, 10))
			p++;
		if (*p == '.') {
			p++;
			while (is_digit_in(*p, 10))
				p++;
		}
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!is_digit_in(*p, 10))
			return 0;
		while (is_digit_in(*p, 10))
			p++;
	}
	return *p == '\0';
}

static int
parse_float(const char *s, double *d)
{
	char *end;

	errno = 0;
	*d = strtod(s, &end);
	if (*end != '\0')
		return 0;
	/* Go reports overflow as an error (the text stays a string), not underflow. */
	if (errno == ERANGE && isinf(*d))
		return 0;
	return 1;
}

enum rtype { R_STR, R_NULL, R_BOOL, R_INT, R_FLOAT };

/* The implicit type of a plain scalar; *out is the typed value (NULL for null). */
static enum rtype
resolve_plain(const char *s, size_t len, json_object **out)
{
	char *clean, *q;
	size_t i;
	int64_t iv;
	uint64_t uv;
	double dv;
	int c = (unsigned char)s[0];

	*out = NULL;
	if (len == 0)
		return R_NULL;
	if (strchr("yYnNtTfFoO~.+-", c) != NULL) {
		for (i = 0; i < NAP_ARRAY_LEN(specials); i++) {
			if (strlen(specials[i].text) != len ||
			    memcmp(specials[i].text, s, len) != 0)
				continue;
			switch (specials[i].what) {
			case SP_TRUE:
				*out = json_object_new_boolean(1);
				return R_BOOL;
			case SP_FALSE:
				*out = json_object_new_boolean(0);
				return R_BOOL;
			case SP_NULL:
				return R_NULL;
			case SP_NAN:
				*out = json_object_new_double(NAN);
				return R_FLOAT;
			case SP_INF:
				*out = json_object_new_double(INFINITY);
				return R_FLOAT;
			case SP_NINF:
				*out = json_object_new_double(-INFINITY);
				return R_FLOAT;
			}
		}
	}
	if (c == '.') {
		if (memchr(s, '\0', len) == NULL && is_yaml_float(s) && parse_float(s, &dv)) {
			*out = json_object_new_double(dv);
			return R_FLOAT;
		}
		return R_STR;
	}
	if (!(c == '+' || c == '-' || (c >= '0' && c <= '9')))
		return R_STR;
	if (memchr(s, '\0', len) != NULL)
		return R_STR;
	/* go-yaml drops every underscore before trying numbers. */
	clean = nap_xmalloc(len + 1);
	for (q = clean, i = 0; i < len; i++)
		if (s[i] != '_')
			*q++ = s[i];
	*q = '\0';
	switch (parse_go_int(clean, &iv, &uv)) {
	case 1:
		*out = json_object_new_int64(iv);
		free(clean);
		return R_INT;
	case 2:
		*out = json_object_new_uint64(uv);
		free(clean);
		return R_INT;
	default:
		break;
	}
	if (is_yaml_float(clean) && parse_float(clean, &dv)) {
		*out = json_object_new_double(dv);
		free(clean);
		return R_FLOAT;
	}
	free(clean);
	return R_STR;
}

static int
tag_is(const char *tag, const char *name)
{
	size_t n = strlen(TAG_PREFIX);

	return tag != NULL && strncmp(tag, TAG_PREFIX, n) == 0 && strcmp(tag + n, name) == 0;
}

static int
load_scalar(struct ld *ld, const yaml_event_t *ev, json_object **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *want = NULL;
	enum rtype got, need = R_STR;

	if (tag == NULL && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (resolve_plain(s, len, out) == R_STR)
			*out = json_object_new_string_len(s, (int)len);
		return 0;
	}
	if (tag_is(tag, "int")) {
		need = R_INT;
		want = "!!int";
	} else if (tag_is(tag, "float")) {
		need = R_FLOAT;
		want = "!!float";
	} else if (tag_is(tag, "bool")) {
		need = R_BOOL;
		want = "!!bool";
	} else if (tag_is(tag, "null")) {
		need = R_NULL;
		want = "!!null";
	}
	if (need == R_STR) {
		/* quoted, block, !!str, "!", !!binary, !!timestamp, unknown tags */
		*out = json_object_new_string_len(s, (int)len);
		return 0;
	}
	got = resolve_plain(s, len, out);
	if (got == need)
		return 0;
	if (need == R_FLOAT && got == R_INT) {
		double d = (double)json_object_get_int64(*out);

		if (json_object_get_int64(*out) == INT64_MAX)
			d = (double)json_object_get_uint64(*out);
		json_object_put(*out);
		*out = json_object_new_double(d);
		return 0;
	}
	json_object_put(*out);
	*out = NULL;
	return err_at(
	    ld, &ev->start_mark, "cannot read \"%.*s\" as %s", len > 64 ? 64 : (int)len, s, want);
}

/* ---- key positions ---- */

static void
keypos_free(json_object *obj, void *data)
{
	struct keypos *kp = data;
	size_t i;

	(void)obj;
	for (i = 0; i < kp->n; i++)
		free(kp->v[i].key);
	free(kp->v);
	free(kp);
}

static void
keypos_add(json_object *map, const char *key, unsigned line, unsigned col)
{
	struct keypos *kp = json_object_get_userdata(map);

	if (kp == NULL) {
		kp = nap_xcalloc(1, sizeof(*kp));
		json_object_set_userdata(map, kp, keypos_free);
	}
	nap_xgrow(&kp->v, &kp->alloc, kp->n + 1, sizeof(kp->v[0]));
	kp->v[kp->n].key = nap_xstrdup(key);
	kp->v[kp->n].line = line;
	kp->v[kp->n].col = col;
	kp->n++;
}

int
nap_yaml_key_pos(json_object *map, const char *key, unsigned *line, unsigned *col)
{
	struct keypos *kp;
	size_t i;

	if (map == NULL || !json_object_is_type(map, json_type_object))
		return -1;
	kp = json_object_get_userdata(map);
	if (kp == NULL)
		return -1;
	for (i = 0; i < kp->n; i++) {
		if (strcmp(kp->v[i].key, key) == 0) {
			if (line != NULL)
				*line = kp->v[i].line;
			if (col != NULL)
				*col = kp->v[i].col;
			return 0;
		}
	}
	return -1;
}

/*
 * A tree copy of our own: json_object_deep_copy refuses objects that carry
 * userdata, and the key positions are userdata.
 */
static json_object *
copy_tree(json_object *v)
{
	json_object *c;
	size_t i, n;
	unsigned line, col;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return NULL;
	case json_type_boolean:
		return json_object_new_boolean(json_object_get_boolean(v));
	case json_type_double:
		return json_object_new_double(json_object_get_double(v));
	case json_type_int:
		if (json_object_get_int64(v) == INT64_MAX &&
		    json_object_get_uint64(v) > (uint64_t)INT64_MAX)
			return json_object_new_uint64(json_object_get_uint64(v));
		return json_object_new_int64(json_object_get_int64(v));
	case json_type_string:
		return json_object_new_string_len(
		    json_object_get_string(v), json_object_get_string_len(v));
	case json_type_array:
		n = json_object_array_length(v);
		c = json_object_new_array_ext((int)n);
		for (i = 0; i < n; i++)
			json_object_array_add(c, copy_tree(json_object_array_get_idx(v, i)));
		return c;
	case json_type_object:
		c = json_object_new_object();
		json_object_object_foreach(v, key, val)
		{
			json_object_object_add(c, key, copy_tree(val));
			if (nap_yaml_key_pos(v, key, &line, &col) == 0)
				keypos_add(c, key, line, col);
		}
		return c;
	}
	return NULL;
}

/* ---- anchors ---- */

static void
anchors_clear(struct ld *ld)
{
	size_t i;

	for (i = 0; i < ld->nanchors; i++) {
		free(ld->anchors[i].name);
		json_object_put(ld->anchors[i].val);
	}
	ld->nanchors = 0;
}

static void
anchor_set(struct ld *ld, const char *name, json_object *val, const struct cost *cost)
{
	struct anchor *a;

	nap_xgrow(&ld->anchors, &ld->aanchors, ld->nanchors + 1, sizeof(*ld->anchors));
	a = &ld->anchors[ld->nanchors++];
	a->name = nap_xstrdup(name);
	a->val = copy_tree(val);
	a->weight = cost->weight;
	a->height = cost->height;
}

static const struct anchor *
anchor_find(const struct ld *ld, const char *name)
{
	size_t i;

	/* A redefined anchor means its latest definition. */
	for (i = ld->nanchors; i > 0; i--)
		if (strcmp(ld->anchors[i - 1].name, name) == 0)
			return &ld->anchors[i - 1];
	return NULL;
}

/* ---- nodes ---- */

static int load_node(
    struct ld *ld, yaml_event_t *ev, unsigned depth, json_object **out, struct cost *cost);

/* The exponent of a "%e" rendering. */
static int
atoi_exp(const char *s)
{
	const char *e = strchr(s, 'e');

	return e != NULL ? (int)strtol(e + 1, NULL, 10) : 0;
}

/* The string Kubernetes makes of a map key (sigs.k8s.io/yaml). */
static char *
key_string(struct ld *ld, json_object *k, const yaml_mark_t *m)
{
	char buf[64];
	double d;
	float f;
	int prec, exp10;

	switch (json_object_get_type(k)) {
	case json_type_string:
		return nap_xstrdup(json_object_get_string(k));
	case json_type_boolean:
		return nap_xstrdup(json_object_get_boolean(k) ? "true" : "false");
	case json_type_int:
		if (json_object_get_int64(k) == INT64_MAX &&
		    json_object_get_uint64(k) > (uint64_t)INT64_MAX)
			snprintf(buf, sizeof(buf), "%llu",
			    (unsigned long long)json_object_get_uint64(k));
		else
			snprintf(buf, sizeof(buf), "%lld", (long long)json_object_get_int64(k));
		return nap_xstrdup(buf);
	case json_type_double:
		d = json_object_get_double(k);
		if (isnan(d))
			return nap_xstrdup(".nan");
		if (isinf(d))
			return nap_xstrdup(d > 0 ? ".inf" : "-.inf");
		/*
		 * Go: FormatFloat(d, 'g', -1, 32): the fewest digits that give
		 * the float32 back, in exponent form only when the exponent is
		 * below -4 or at least 6 (21 is "21", not "2.1e+01").
		 */
		f = (float)d;
		for (prec = 1; prec < 9; prec++) {
			snprintf(buf, sizeof(buf), "%.*e", prec - 1, (double)f);
			if (strtof(buf, NULL) == f)
				break;
		}
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, (double)f);
		exp10 = atoi_exp(buf);
		if (exp10 >= -4 && exp10 < 6)
			snprintf(buf, sizeof(buf), "%.*f",
			    prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, (double)f);
		return nap_xstrdup(buf);
	case json_type_null:
		err_at(ld, m, "null map key is not supported");
		return NULL;
	default:
		err_at(ld, m, "map key must be a scalar");
		return NULL;
	}
}

static int
is_merge_key(const yaml_event_t *ev)
{
	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.length != 2 ||
	    memcmp(ev->data.scalar.value, "<<", 2) != 0)
		return 0;
	if (ev->data.scalar.tag != NULL)
		return tag_is((const char *)ev->data.scalar.tag, "merge");
	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* Add the keys of src that map lacks; with positions, theirs or the <<'s. */
static void
merge_into(json_object *map, json_object *src, int keypos, unsigned line, unsigned col)
{
	unsigned l, c;

	json_object_object_foreach(src, key, val)
	{
		if (json_object_object_get_ex(map, key, NULL))
			continue;
		json_object_object_add(map, key, json_object_get(val));
		if (!keypos)
			continue;
		if (nap_yaml_key_pos(src, key, &l, &c) == 0)
			keypos_add(map, key, l, c);
		else
			keypos_add(map, key, line, col);
	}
}

static int
load_mapping(struct ld *ld, unsigned depth, json_object **out, struct cost *cost)
{
	json_object *map = json_object_new_object(), *k, *v;
	struct merge {
		json_object *src;
		unsigned line, col;
	} *merges = NULL;
	size_t nmerges = 0, amerges = 0, i, j;
	yaml_event_t ev;
	yaml_mark_t km;
	struct cost c;
	char *key;

	for (;;) {
		if (next_event(ld, &ev) < 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		km = ev.start_mark;
		if (is_merge_key(&ev)) {
			yaml_event_delete(&ev);
			if (next_event(ld, &ev) < 0)
				goto fail;
			km = ev.start_mark;
			if (load_node(ld, &ev, depth + 1, &v, &c) < 0)
				goto fail;
			cost->weight += c.weight + 1;
			if (c.height + 1 > cost->height)
				cost->height = c.height + 1;
			if (json_object_is_type(v, json_type_array)) {
				for (j = 0; j < json_object_array_length(v); j++)
					if (!json_object_is_type(
						json_object_array_get_idx(v, j), json_type_object))
						break;
				if (j < json_object_array_length(v)) {
					json_object_put(v);
					err_at(ld, &km,
					    "merge key << takes a mapping or a sequence "
					    "of mappings");
					goto fail;
				}
			} else if (!json_object_is_type(v, json_type_object)) {
				json_object_put(v);
				err_at(ld, &km,
				    "merge key << takes a mapping or a sequence of mappings");
				goto fail;
			}
			nap_xgrow(&merges, &amerges, nmerges + 1, sizeof(*merges));
			merges[nmerges].src = v;
			merges[nmerges].line = (unsigned)km.line + 1;
			merges[nmerges].col = (unsigned)km.column + 1;
			nmerges++;
			continue;
		}
		if (load_node(ld, &ev, depth + 1, &k, &c) < 0)
			goto fail;
		cost->weight += c.weight;
		key = key_string(ld, k, &km);
		json_object_put(k);
		if (key == NULL)
			goto fail;
		if (json_object_object_get_ex(map, key, NULL)) {
			err_at(ld, &km, "duplicate key \"%s\"", key);
			free(key);
			goto fail;
		}
		if (next_event(ld, &ev) < 0 || load_node(ld, &ev, depth + 1, &v, &c) < 0) {
			free(key);
			goto fail;
		}
		cost->weight += c.weight;
		if (c.height + 1 > cost->height)
			cost->height = c.height + 1;
		json_object_object_add(map, key, v);
		if (ld->flags & NAP_YAML_KEYPOS)
			keypos_add(map, key, (unsigned)km.line + 1, (unsigned)km.column + 1);
		free(key);
	}
	/* Explicit keys win; among merge sources the earlier one wins. */
	for (i = 0; i < nmerges; i++) {
		json_object *src = merges[i].src;

		if (json_object_is_type(src, json_type_object)) {
			merge_into(
			    map, src, ld->flags & NAP_YAML_KEYPOS, merges[i].line, merges[i].col);
		} else {
			for (j = 0; j < json_object_array_length(src); j++)
				merge_into(map, json_object_array_get_idx(src, j),
				    ld->flags & NAP_YAML_KEYPOS, merges[i].line, merges[i].col);
		}
	}
	for (i = 0; i < nmerges; i++)
		json_object_put(merges[i].src);
	free(merges);
	*out = map;
	return 0;
fail:
	for (i = 0; i < nmerges; i++)
		json_object_put(merges[i].src);
	free(merges);
	json_object_put(map);
	return -1;
}

static int
load_sequence(struct ld *ld, unsigned depth, json_object **out, struct cost *cost)
{
	json_object *arr = json_object_new_array(), *v;
	yaml_event_t ev;
	struct cost c;

	for (;;) {
		if (next_event(ld, &ev) < 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (load_node(ld, &ev, depth + 1, &v, &c) < 0)
			goto fail;
		cost->weight += c.weight;
		if (c.height + 1 > cost->height)
			cost->height = c.height + 1;
		json_object_array_add(arr, v);
	}
	*out = arr;
	return 0;
fail:
	json_object_put(arr);
	return -1;
}

/* Consumes *ev (and the events of the node's children). */
static int
load_node(struct ld *ld, yaml_event_t *ev, unsigned depth, json_object **out, struct cost *cost)
{
	const struct anchor *a;
	char *anchor = NULL;
	yaml_mark_t m = ev->start_mark;
	int rc = 0;

	*out = NULL;
	cost->weight = 1;
	cost->height = 0;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		a = anchor_find(ld, (const char *)ev->data.alias.anchor);
		if (a == NULL) {
			rc = err_at(
			    ld, &m, "unknown anchor \"%s\"", (const char *)ev->data.alias.anchor);
			break;
		}
		if (a->weight > NAP_YAML_MAX_ALIAS_NODES - ld->alias_nodes) {
			rc = err_at(ld, &m, "aliases expand to more than %d nodes",
			    NAP_YAML_MAX_ALIAS_NODES);
			break;
		}
		if (depth + a->height > NAP_YAML_MAX_DEPTH) {
			rc = err_at(ld, &m, "nesting deeper than %d levels", NAP_YAML_MAX_DEPTH);
			break;
		}
		ld->alias_nodes += a->weight;
		cost->weight = a->weight;
		cost->height = a->height;
		*out = copy_tree(a->val);
		break;
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor != NULL)
			anchor = nap_xstrdup((const char *)ev->data.scalar.anchor);
		rc = load_scalar(ld, ev, out);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (depth >= NAP_YAML_MAX_DEPTH) {
			rc = err_at(ld, &m, "nesting deeper than %d levels", NAP_YAML_MAX_DEPTH);
			break;
		}
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			if (ev->data.sequence_start.anchor != NULL)
				anchor = nap_xstrdup((const char *)ev->data.sequence_start.anchor);
			yaml_event_delete(ev);
			rc = load_sequence(ld, depth, out, cost);
		} else {
			if (ev->data.mapping_start.anchor != NULL)
				anchor = nap_xstrdup((const char *)ev->data.mapping_start.anchor);
			yaml_event_delete(ev);
			rc = load_mapping(ld, depth, out, cost);
		}
		break;
	default:
		rc = err_at(ld, &m, "unexpected yaml event %d", (int)ev->type);
		break;
	}
	yaml_event_delete(ev);
	if (rc == 0 && anchor != NULL)
		anchor_set(ld, anchor, *out, cost);
	free(anchor);
	return rc;
}

static int
load_stream(struct ld *ld, json_object *docs)
{
	yaml_event_t ev;
	json_object *root;
	struct cost c;

	if (next_event(ld, &ev) < 0)
		return -1;
	yaml_event_delete(&ev); /* STREAM-START */
	for (;;) {
		if (next_event(ld, &ev) < 0)
			return -1;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		yaml_event_delete(&ev); /* DOCUMENT-START */
		if (next_event(ld, &ev) < 0 || load_node(ld, &ev, 0, &root, &c) < 0)
			return -1;
		if (next_event(ld, &ev) < 0) {
			json_object_put(root);
			return -1;
		}
		yaml_event_delete(&ev); /* DOCUMENT-END */
		anchors_clear(ld);	/* anchors do not cross documents */
		if (root != NULL)
			json_object_array_add(docs, root);
	}
}

int
nap_yaml_load_ex(const char *buf, size_t len, const char *name, int flags, json_object **docs_array,
    struct nap_err *err)
{
	struct ld ld;
	json_object *docs;
	int rc;

	memset(&ld, 0, sizeof(ld));
	ld.name = name != NULL ? name : "<input>";
	ld.buf = buf;
	ld.len = len;
	ld.flags = flags;
	ld.err = err;
	if (!yaml_parser_initialize(&ld.parser))
		return nap_err_set(err, NAP_EX_SOFTWARE, "%s: cannot initialise libyaml", ld.name);
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)buf, len);
	docs = json_object_new_array();
	rc = load_stream(&ld, docs);
	anchors_clear(&ld);
	free(ld.anchors);
	yaml_parser_delete(&ld.parser);
	if (rc < 0) {
		json_object_put(docs);
		return -1;
	}
	*docs_array = docs;
	return 0;
}

int
nap_yaml_load(
    const char *buf, size_t len, const char *name, json_object **docs_array, struct nap_err *err)
{
	return nap_yaml_load_ex(buf, len, name, 0, docs_array, err);
}

static int
read_all(int fd, const char *name, char **bufp, size_t *lenp, struct nap_err *err)
{
	char *buf = NULL;
	size_t len = 0, alloc = 0;
	ssize_t n;

	for (;;) {
		nap_xgrow(&buf, &alloc, len + 65536, 1);
		n = read(fd, buf + len, alloc - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			nap_err_set(
			    err, NAP_EX_IOERR, "%s: cannot read: %s", name, strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > NAP_YAML_MAX_FILE) {
			free(buf);
			return nap_err_set(err, NAP_EX_DATAERR, "%s: larger than %u bytes", name,
			    NAP_YAML_MAX_FILE);
		}
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int
nap_yaml_load_file_ex(const char *path, int flags, json_object **docs_array, struct nap_err *err)
{
	const char *name = path;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
		name = "<stdin>";
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return nap_err_set(
			    err, NAP_EX_IOERR, "%s: cannot open: %s", path, strerror(errno));
	}
	rc = read_all(fd, name, &buf, &len, err);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc < 0)
		return -1;
	rc = nap_yaml_load_ex(buf, len, name, flags, docs_array, err);
	free(buf);
	return rc;
}

int
nap_yaml_load_file(const char *path, json_object **docs_array, struct nap_err *err)
{
	return nap_yaml_load_file_ex(path, 0, docs_array, err);
}
