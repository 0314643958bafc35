/*
 * scan.c - a JSON scanner that finds value boundaries without building
 * trees.  nap-watch forwards objects as the API server wrote them, so for
 * the common case it only needs to know where an object's members are (to
 * read uid and resourceVersion and to cut managedFields out); building a
 * json-c tree per object and printing it again cost four times as much.
 *
 * The scanner checks structure (balanced containers, terminated strings,
 * commas and colons in place, the bytes literals and numbers are made of);
 * what it accepts is then valid JSON apart from malformed numbers or
 * literals such as "tru", which the API server does not write.
 */
#include "watch.h"

static const char *
ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* Bytes that end the plain run of a string: quote, backslash, controls. */
static const unsigned char special[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
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

const char *
scan_value(const char *p, const char *end)
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
				if (p >= end || *p != '"' || !(p = scan_string(p, end)))
					return NULL;
				p = ws(p, end);
				if (p >= end || *p != ':')
					return NULL;
				p = ws(p + 1, end);
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
			if (stack[depth - 1] == '}') {
				if (p >= end || *p != '"' || !(p = scan_string(p, end)))
					return NULL;
				p = ws(p, end);
				if (p >= end || *p != ':')
					return NULL;
				p = ws(p + 1, end);
			}
			break;
		}
	}
}

int
scan_object_begin(struct scan_obj *it, const char *p, const char *end)
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
scan_member_key(struct scan_obj *it, struct scan_member *m)
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
scan_member_end(struct scan_obj *it, struct scan_member *m, const char *val_end)
{
	if (!val_end)
		val_end = scan_value(m->val, it->end);
	if (!val_end)
		return -1;
	m->vallen = (size_t)(val_end - m->val);
	it->p = val_end;
	return 0;
}

int
scan_member(struct scan_obj *it, struct scan_member *m)
{
	int r = scan_member_key(it, m);

	if (r != 1)
		return r;
	return scan_member_end(it, m, NULL) == 0 ? 1 : -1;
}

int
scan_key_is(const struct scan_member *m, const char *key)
{
	size_t n = strlen(key);

	return m->keylen == n && memcmp(m->key, key, n) == 0;
}

int
scan_string_value(const struct scan_member *m, const char **s, size_t *len)
{
	if (m->vallen < 2 || m->val[0] != '"')
		return -1;
	if (memchr(m->val + 1, '\\', m->vallen - 2))
		return -1;
	*s = m->val + 1;
	*len = m->vallen - 2;
	return 0;
}
