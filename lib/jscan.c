/*
 * jscan.c - JSON value boundaries and Kubernetes object facts without
 * trees, for jscan.h.
 */
#include "jscan.h"
#include "nap.h"

static const char *
ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* Bytes that end the plain run of a string: quote, backslash, controls. */
static const unsigned char special[256] = {
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    ['"'] = 1,
    ['\\'] = 1,
};

/* p at the opening quote; returns just past the closing one, or NULL. */
static const char *
scan_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (!special[(unsigned char)*p])
			continue;
		if (*p == '"')
			return p + 1;
		if (*p != '\\' || ++p >= end)
			return NULL;
	}
	return NULL;
}

static int
bare_byte(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' ||
	    c == '.' || c == 'E';
}

/* An object's key and its colon at p: the start of the value after them, or NULL. */
static const char *
scan_key(const char *p, const char *end)
{
	if (p >= end || *p != '"' || !(p = scan_string(p, end)))
		return NULL;
	p = ws(p, end);
	if (p >= end || *p != ':')
		return NULL;
	return ws(p + 1, end);
}

const char *
nap_jscan_value(const char *p, const char *end)
{
	char stack[256];
	int depth = 0;

	p = ws(p, end);
	for (;;) {
		if (p >= end)
			return NULL;
		/* A value. */
		if (*p == '"') {
			if (!(p = scan_string(p, end)))
				return NULL;
		} else if (*p == '{' || *p == '[') {
			char close = *p == '{' ? '}' : ']';

			if (depth == (int)sizeof(stack))
				return NULL;
			stack[depth++] = close;
			p = ws(p + 1, end);
			if (p < end && *p == close) {
				depth--;
				p++;
			} else if (close == '}') {
				/* First key. */
				if (!(p = scan_key(p, end)))
					return NULL;
				continue;
			} else {
				continue;
			}
		} else if (bare_byte(*p)) {
			while (p < end && bare_byte(*p))
				p++;
		} else {
			return NULL;
		}
		/* After a value: a separator or the end of containers. */
		for (;;) {
			if (depth == 0)
				return p;
			p = ws(p, end);
			if (p >= end)
				return NULL;
			if (*p == stack[depth - 1]) {
				depth--;
				p++;
				continue;
			}
			if (*p != ',')
				return NULL;
			p = ws(p + 1, end);
			if (stack[depth - 1] == '}' && !(p = scan_key(p, end)))
				return NULL;
			break;
		}
	}
}

int
nap_jscan_object_begin(struct nap_jscan_obj *it, const char *p, const char *end)
{
	p = ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	it->p = p + 1;
	it->end = end;
	it->first = 1;
	return 0;
}

int
nap_jscan_member_key(struct nap_jscan_obj *it, struct nap_jscan_member *m)
{
	const char *p = ws(it->p, it->end), *k;

	m->sep = it->p;
	m->first = it->first;
	if (p >= it->end)
		return -1;
	if (*p == '}') {
		it->p = p + 1;
		return 0;
	}
	if (!it->first) {
		if (*p != ',')
			return -1;
		p = ws(p + 1, it->end);
	}
	if (p >= it->end || *p != '"')
		return -1;
	k = scan_string(p, it->end);
	if (!k)
		return -1;
	m->key = p + 1;
	m->keylen = (size_t)(k - p - 2);
	m->start = p;
	p = ws(k, it->end);
	if (p >= it->end || *p != ':')
		return -1;
	m->val = ws(p + 1, it->end);
	m->vallen = 0;
	it->p = m->val;
	it->first = 0;
	return 1;
}

int
nap_jscan_member_end(struct nap_jscan_obj *it, struct nap_jscan_member *m, const char *val_end)
{
	if (!val_end)
		val_end = nap_jscan_value(m->val, it->end);
	if (!val_end)
		return -1;
	m->vallen = (size_t)(val_end - m->val);
	it->p = val_end;
	return 0;
}

int
nap_jscan_member(struct nap_jscan_obj *it, struct nap_jscan_member *m)
{
	int r = nap_jscan_member_key(it, m);

	if (r != 1)
		return r;
	return nap_jscan_member_end(it, m, NULL) == 0 ? 1 : -1;
}

int
nap_jscan_key_is(const struct nap_jscan_member *m, const char *key)
{
	size_t n = strlen(key);

	return m->keylen == n && memcmp(m->key, key, n) == 0;
}

int
nap_jscan_string(const struct nap_jscan_member *m, const char **s, size_t *len)
{
	if (m->vallen < 2 || m->val[0] != '"')
		return -1;
	if (memchr(m->val + 1, '\\', m->vallen - 2))
		return -1;
	*s = m->val + 1;
	*len = m->vallen - 2;
	return 0;
}

int
nap_jscan_kobj(const char *p, const char *end, struct nap_jscan_kobj *f)
{
	struct nap_jscan_obj it, md;
	struct nap_jscan_member m, k;
	int r, rk;

	memset(f, 0, sizeof(*f));
	f->uid = f->rv = f->ns = f->name = "";
	/* A pretty-printed object would print as several lines: json-c re-prints it. */
	if (memchr(p, '\n', (size_t)(end - p)) || memchr(p, '\r', (size_t)(end - p)))
		return -1;
	if (nap_jscan_object_begin(&it, p, end) != 0)
		return -1;
	f->body = it.p - 1;
	while ((r = nap_jscan_member(&it, &m)) == 1) {
		if (nap_jscan_key_is(&m, "kind")) {
			f->has_kind = 1;
		} else if (nap_jscan_key_is(&m, "apiVersion")) {
			f->has_api = 1;
		} else if (nap_jscan_key_is(&m, "metadata")) {
			if (nap_jscan_object_begin(&md, m.val, m.val + m.vallen) != 0)
				return -1;
			while ((rk = nap_jscan_member(&md, &k)) == 1) {
				if (nap_jscan_key_is(&k, "uid")) {
					if (nap_jscan_string(&k, &f->uid, &f->ulen))
						return -1;
				} else if (nap_jscan_key_is(&k, "resourceVersion")) {
					if (nap_jscan_string(&k, &f->rv, &f->rlen))
						return -1;
				} else if (nap_jscan_key_is(&k, "namespace")) {
					if (nap_jscan_string(&k, &f->ns, &f->nslen))
						return -1;
				} else if (nap_jscan_key_is(&k, "name")) {
					if (nap_jscan_string(&k, &f->name, &f->namelen))
						return -1;
				} else if (nap_jscan_key_is(&k, "managedFields")) {
					const char *ve = k.val + k.vallen, *q = ve;

					if (!k.first) {
						/* The comma before it goes with it. */
						f->cut = k.sep;
						f->cut_end = ve;
						continue;
					}
					while (q < md.end &&
					    (*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t'))
						q++;
					f->cut = k.start;
					f->cut_end = q < md.end && *q == ',' ? q + 1 : ve;
				}
			}
			if (rk < 0)
				return -1;
		}
	}
	if (r < 0)
		return -1;
	f->end = it.p;
	return f->ulen ? 0 : -1;
}

static void
add(char **buf, size_t *len, size_t *alloc, const char *s, size_t n)
{
	nap_xgrow(buf, alloc, *len + n + 1, 1);
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void
add_str(char **buf, size_t *len, size_t *alloc, const char *s)
{
	add(buf, len, alloc, s, strlen(s));
}

void
nap_jscan_kobj_record(const struct nap_jscan_kobj *o, const char *type, const char *api_version,
    const char *kind, char **buf, size_t *len, size_t *alloc)
{
	const char *inner = o->body + 1, *q = ws(inner, o->end);
	int empty = q < o->end && *q == '}';

	add_str(buf, len, alloc, "{\"type\":\"");
	add_str(buf, len, alloc, type);
	add_str(buf, len, alloc, "\",\"object\":{");
	if (!o->has_api) {
		add_str(buf, len, alloc, "\"apiVersion\":\"");
		add_str(buf, len, alloc, api_version);
		add_str(buf, len, alloc, empty && o->has_kind ? "\"" : "\",");
	}
	if (!o->has_kind) {
		add_str(buf, len, alloc, "\"kind\":\"");
		add_str(buf, len, alloc, kind);
		add_str(buf, len, alloc, empty ? "\"" : "\",");
	}
	if (o->cut) {
		add(buf, len, alloc, inner, (size_t)(o->cut - inner));
		add(buf, len, alloc, o->cut_end, (size_t)(o->end - o->cut_end));
	} else {
		add(buf, len, alloc, inner, (size_t)(o->end - inner));
	}
	add_str(buf, len, alloc, "}");
}
