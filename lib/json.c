#include "json.h"

#include <string.h>

#include "nap.h"

json_object *
nap_json_key(json_object *obj, const char *key)
{
	json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

json_object *
nap_json_get(json_object *obj, const char *path)
{
	char step[256];
	const char *p = path, *dot;
	size_t n;

	while (obj != NULL && *p != '\0') {
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(step))
			return NULL;
		memcpy(step, p, n);
		step[n] = '\0';
		obj = nap_json_key(obj, step);
		p += n + (dot != NULL);
	}
	return obj;
}

const char *
nap_json_str(json_object *obj, const char *path, const char *def)
{
	json_object *v = nap_json_get(obj, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

/*
 * A double as an integer, clamped to int64_t: converting one out of range
 * (or NaN, which json-c reads) is undefined.  1 when d is a whole number
 * within range.
 */
static int
whole(double d, int64_t *out)
{
	/* 2^63 is exact as a double; INT64_MAX is not. */
	if (!(d >= -9223372036854775808.0)) {
		*out = d != d ? 0 : INT64_MIN;
		return 0;
	}
	if (d >= 9223372036854775808.0) {
		*out = INT64_MAX;
		return 0;
	}
	*out = (int64_t)d;
	return (double)*out == d;
}

int64_t
nap_json_int(json_object *obj, const char *path, int64_t def)
{
	json_object *v = nap_json_get(obj, path);
	int64_t i;

	if (v == NULL)
		return def;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	if (json_object_is_type(v, json_type_double)) {
		whole(json_object_get_double(v), &i);
		return i;
	}
	return def;
}

int
nap_json_int_in(json_object *obj, const char *path, int64_t lo, int64_t hi, int64_t *out,
    struct nap_err *err)
{
	json_object *v = nap_json_get(obj, path);
	int64_t i = 0;
	int ok;

	if (v == NULL)
		return 1;
	if (json_object_is_type(v, json_type_int)) {
		/* json-c keeps 2^63..2^64-1 as unsigned and reads them as INT64_MAX */
		i = json_object_get_int64(v);
		ok = !(i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX);
	} else if (json_object_is_type(v, json_type_double)) {
		ok = whole(json_object_get_double(v), &i);
	} else {
		return nap_err_set(err, NAP_EX_DATAERR, "%s %s is not an integer", path,
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	}
	if (!ok || i < lo || i > hi)
		return nap_err_set(err, NAP_EX_DATAERR, "%s %s not in %lld..%lld", path,
		    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), (long long)lo,
		    (long long)hi);
	*out = i;
	return 0;
}

int
nap_json_bool(json_object *obj, const char *path, int def)
{
	json_object *v = nap_json_get(obj, path);

	return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

json_object *
nap_json_array(json_object *obj, const char *path, size_t *n)
{
	json_object *v = nap_json_get(obj, path);

	if (v == NULL || !json_object_is_type(v, json_type_array)) {
		if (n)
			*n = 0;
		return NULL;
	}
	if (n)
		*n = json_object_array_length(v);
	return v;
}

int
nap_json_set(json_object *obj, const char *path, json_object *val)
{
	char step[256];
	const char *p = path, *dot;
	json_object *next;
	size_t n;

	for (;;) {
		if (obj == NULL || !json_object_is_type(obj, json_type_object))
			break;
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(step))
			break;
		memcpy(step, p, n);
		step[n] = '\0';
		if (dot == NULL) {
			json_object_object_add(obj, step, val);
			return 0;
		}
		next = nap_json_key(obj, step);
		if (next == NULL) {
			next = json_object_new_object();
			json_object_object_add(obj, step, next);
		}
		obj = next;
		p = dot + 1;
	}
	json_object_put(val);
	return -1;
}

const char *
nap_json_dump(json_object *obj)
{
	return json_object_to_json_string_ext(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

int
nap_json_equal(json_object *a, json_object *b)
{
	return json_object_equal(a, b);
}

/* ---- the fast parser ---- */

#define FAST_MAX_DEPTH 24
#define INTERN_MAX_LEN 63
#define INTERN_MAX 8192
#define INTERN_SLOTS (2 * INTERN_MAX)
/* Keys of one object checked for repeats by pointer before json-c's own lookup takes over. */
#define FAST_DUP_KEYS 32

struct intern_slot {
	const char *key; /* NUL-terminated, never freed */
	uint64_t h;
	size_t len;
};

/* Kubernetes objects use a few hundred distinct keys: interned, a key costs nothing per tree. */
static struct intern_slot *intern_tab;
static size_t intern_n;

/*
 * Keys are short and few: length, first and last eight bytes tell them
 * apart well enough for a probe or two, at a fraction of a byte loop's cost.
 */
static uint64_t
fast_hash(const char *s, size_t len)
{
	uint64_t a = 0, b = 0, h;

	if (len >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + len - 8, 8);
	} else {
		memcpy(&a, s, len);
	}
	h = (a ^ (b * 0x9e3779b97f4a7c15ULL) ^ len) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 32);
}

/* The interned copy of s, or NULL when s is too long or the table is full. */
static const char *
intern(const char *s, size_t len)
{
	uint64_t h;
	size_t i;
	char *k;

	if (len > INTERN_MAX_LEN)
		return NULL;
	if (intern_tab == NULL)
		intern_tab = nap_xcalloc(INTERN_SLOTS, sizeof(*intern_tab));
	h = fast_hash(s, len);
	for (i = h & (INTERN_SLOTS - 1); intern_tab[i].key; i = (i + 1) & (INTERN_SLOTS - 1))
		if (intern_tab[i].h == h && intern_tab[i].len == len &&
		    memcmp(intern_tab[i].key, s, len) == 0)
			return intern_tab[i].key;
	if (intern_n == INTERN_MAX)
		return NULL;
	k = nap_xstrndup(s, len);
	intern_tab[i].key = k;
	intern_tab[i].h = h;
	intern_tab[i].len = len;
	intern_n++;
	return k;
}

struct fast {
	const char *p, *end;
	char *buf; /* unescaped strings */
	size_t alloc;
	int depth;
};

static int fast_value(struct fast *f, json_object **out);

static void
fast_blanks(struct fast *f)
{
	while (f->p < f->end && (*f->p == ' ' || *f->p == '\t' || *f->p == '\n' || *f->p == '\r'))
		f->p++;
}

/* Bytes that end the plain run of a string: the quote, a backslash, control bytes. */
static const unsigned char str_stop[256] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ['"'] = 1, ['\\'] = 1};

/*
 * The string at f->p (past its opening quote): *s and *len point into the
 * text when it has no escapes, else into f->buf; NUL-terminated only in
 * f->buf.  0, or -1 for what the fast path leaves to json-c.
 */
static int
fast_string(struct fast *f, const char **s, size_t *len, int *copied)
{
	const char *start = f->p, *q = f->p;
	size_t n = 0;

	while (q < f->end && !str_stop[(unsigned char)*q])
		q++;
	if (q < f->end && *q == '"') {
		*s = start;
		*len = (size_t)(q - start);
		*copied = 0;
		f->p = q + 1;
		return 0;
	}
	for (q = start; q < f->end && *q != '"'; q++) {
		char c = *q;

		if ((unsigned char)c < 0x20)
			return -1;
		if (c == '\\') {
			if (++q == f->end)
				return -1;
			switch (*q) {
			case '"':
			case '\\':
			case '/':
				c = *q;
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			default:
				return -1;
			}
		}
		nap_xgrow(&f->buf, &f->alloc, n + 2, 1);
		f->buf[n++] = c;
	}
	if (q == f->end)
		return -1;
	nap_xgrow(&f->buf, &f->alloc, n + 1, 1);
	f->buf[n] = '\0';
	*s = f->buf;
	*len = n;
	*copied = 1;
	f->p = q + 1;
	return 0;
}

static int
fast_delim(const struct fast *f)
{
	return f->p == f->end || *f->p == ',' || *f->p == '}' || *f->p == ']' || *f->p == ' ' ||
	    *f->p == '\t' || *f->p == '\n' || *f->p == '\r';
}

static int
fast_number(struct fast *f, json_object **out)
{
	const char *q = f->p;
	int neg = 0, digits = 0;
	int64_t v = 0;

	if (*q == '-') {
		neg = 1;
		q++;
	}
	if (q == f->end || *q < '0' || *q > '9' || (*q == '0' && neg))
		return -1;
	if (*q == '0') {
		q++;
		digits = 1;
	} else {
		/* 18 digits always fit in int64_t; a 19th may not: json-c decides on those */
		while (q < f->end && *q >= '0' && *q <= '9' && digits < 18) {
			v = v * 10 + (*q++ - '0');
			digits++;
		}
	}
	f->p = q;
	if ((q < f->end && *q >= '0' && *q <= '9') || !fast_delim(f))
		return -1;
	*out = json_object_new_int64(neg ? -v : v);
	return 0;
}

static int
fast_literal(struct fast *f, const char *word, size_t n)
{
	if ((size_t)(f->end - f->p) < n || memcmp(f->p, word, n) != 0)
		return -1;
	f->p += n;
	return fast_delim(f) ? 0 : -1;
}

/*
 * 1 when key was added to o before.  keys[] holds the first FAST_DUP_KEYS
 * keys added, interned ones by address (equal keys share one), others as NULL.
 */
static int
fast_repeated(json_object *o, const char *key, int interned, const char **keys, size_t nkeys)
{
	size_t i;

	if (nkeys > FAST_DUP_KEYS)
		return json_object_object_get_ex(o, key, NULL);
	for (i = 0; i < nkeys; i++) {
		if (keys[i] == key)
			return 1;
		/* two keys not interned: json-c holds the earlier one's copy */
		if (keys[i] == NULL && !interned)
			return json_object_object_get_ex(o, key, NULL);
	}
	return 0;
}

static int
fast_object(struct fast *f, json_object **out)
{
	json_object *o = json_object_new_object();
	const char *keys[FAST_DUP_KEYS];
	size_t nkeys = 0;

	f->p++;
	fast_blanks(f);
	if (f->p < f->end && *f->p == '}') {
		f->p++;
		*out = o;
		return 0;
	}
	for (;;) {
		const char *s, *key;
		char *own = NULL;
		size_t len;
		int copied, rc;
		json_object *v;

		if (f->p == f->end || *f->p != '"')
			goto fail;
		f->p++;
		if (fast_string(f, &s, &len, &copied) < 0)
			goto fail;
		/* parsing the value may reuse f->buf: a key not interned gets a copy */
		if ((key = intern(s, len)) == NULL)
			key = own = nap_xstrndup(s, len);
		if (fast_repeated(o, key, own == NULL, keys, nkeys)) {
			free(own);
			goto fail;
		}
		fast_blanks(f);
		rc = f->p < f->end && *f->p == ':' ? 0 : -1;
		if (rc == 0) {
			f->p++;
			fast_blanks(f);
			rc = fast_value(f, &v);
		}
		if (rc == 0 &&
		    json_object_object_add_ex(o, key, v,
			JSON_C_OBJECT_ADD_KEY_IS_NEW | (own ? 0 : JSON_C_OBJECT_KEY_IS_CONSTANT))) {
			json_object_put(v);
			rc = -1;
		}
		free(own);
		if (rc < 0)
			goto fail;
		if (nkeys < FAST_DUP_KEYS)
			keys[nkeys] = own ? NULL : key;
		nkeys++;
		fast_blanks(f);
		if (f->p == f->end)
			goto fail;
		if (*f->p == '}') {
			f->p++;
			*out = o;
			return 0;
		}
		if (*f->p != ',')
			goto fail;
		f->p++;
		fast_blanks(f);
	}
fail:
	json_object_put(o);
	return -1;
}

static int
fast_array(struct fast *f, json_object **out)
{
	json_object *a = json_object_new_array_ext(4), *v;

	f->p++;
	fast_blanks(f);
	if (f->p < f->end && *f->p == ']') {
		f->p++;
		*out = a;
		return 0;
	}
	for (;;) {
		if (fast_value(f, &v) < 0 || json_object_array_add(a, v) != 0)
			break;
		fast_blanks(f);
		if (f->p == f->end)
			break;
		if (*f->p == ']') {
			f->p++;
			*out = a;
			return 0;
		}
		if (*f->p != ',')
			break;
		f->p++;
		fast_blanks(f);
	}
	json_object_put(a);
	return -1;
}

static int
fast_value(struct fast *f, json_object **out)
{
	const char *s;
	size_t len;
	int copied, rc;

	*out = NULL;
	if (f->p == f->end)
		return -1;
	switch (*f->p) {
	case '{':
	case '[':
		if (++f->depth > FAST_MAX_DEPTH)
			return -1;
		rc = *f->p == '{' ? fast_object(f, out) : fast_array(f, out);
		f->depth--;
		return rc;
	case '"':
		f->p++;
		if (fast_string(f, &s, &len, &copied) < 0)
			return -1;
		*out = json_object_new_string_len(s, (int)len);
		return 0;
	case 't':
		if (fast_literal(f, "true", 4) < 0)
			return -1;
		*out = json_object_new_boolean(1);
		return 0;
	case 'f':
		if (fast_literal(f, "false", 5) < 0)
			return -1;
		*out = json_object_new_boolean(0);
		return 0;
	case 'n':
		return fast_literal(f, "null", 4);
	default:
		return fast_number(f, out);
	}
}

int
nap_json_parse_fast(const char *s, size_t len, json_object **out)
{
	struct fast f = {s, s + len, NULL, 0, 0};
	json_object *v;
	int rc;

	*out = NULL;
	if (len > INT32_MAX)
		return -1;
	while (f.p < f.end && (*f.p == ' ' || *f.p == '\t'))
		f.p++;
	/* json_tokener cannot tell where a number or literal at the top ends: containers only */
	if (f.p == f.end || (*f.p != '{' && *f.p != '['))
		return -1;
	rc = fast_value(&f, &v);
	while (rc == 0 && f.p < f.end && (*f.p == ' ' || *f.p == '\t'))
		f.p++;
	free(f.buf);
	if (rc < 0 || f.p != f.end) {
		json_object_put(v);
		return -1;
	}
	*out = v;
	return 0;
}
