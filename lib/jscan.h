/*
 * jscan.h - finding things in JSON text without building a tree: where a
 * value ends, what the members of an object are, and, for Kubernetes
 * objects, the few facts a mirror needs (uid, resourceVersion, name,
 * namespace, whether kind and apiVersion are present, where
 * metadata.managedFields sits so it can be left out).
 *
 * For forwarding objects as the API server wrote them: building a json-c
 * tree per object and printing it again costs several times as much as
 * scanning.  The scanner checks structure (balanced containers, terminated
 * strings without raw control bytes, commas and colons in place, the bytes
 * numbers and literals are made of); a malformed number or literal such as
 * "tru" passes, so use it on text from a JSON writer, not as a validator.
 *
 * Everything returned points into the caller's buffer; nothing is
 * allocated except by nap_jscan_kobj_record, which appends to a caller-owned
 * growable buffer.  Functions return -1 on malformed text and never print.
 */
#ifndef NAP_JSCAN_H
#define NAP_JSCAN_H

#include <stddef.h>

struct nap_jscan_obj {
	const char *p, *end;
	int first;
};

struct nap_jscan_member {
	const char *sep;   /* end of the previous member (or just past the brace) */
	const char *start; /* the key's opening quote */
	const char *key;   /* raw key bytes, without quotes */
	size_t keylen;
	const char *val;
	size_t vallen;
	int first; /* the object's first member */
};

/* Past the end of the value at p (leading blanks skipped), or NULL. */
const char *nap_jscan_value(const char *p, const char *end);
/* p at an object (blanks allowed before it). */
int nap_jscan_object_begin(struct nap_jscan_obj *it, const char *p, const char *end);
/* 1: m filled; 0: end of the object (it->p past the brace); -1: malformed. */
int nap_jscan_member(struct nap_jscan_obj *it, struct nap_jscan_member *m);
/*
 * The same in two steps, for a caller that walks a value itself: the key
 * (m->val set, vallen 0), then nap_jscan_member_end with the value's end,
 * or NULL to have it scanned.
 */
int nap_jscan_member_key(struct nap_jscan_obj *it, struct nap_jscan_member *m);
int nap_jscan_member_end(struct nap_jscan_obj *it, struct nap_jscan_member *m, const char *val_end);
int nap_jscan_key_is(const struct nap_jscan_member *m, const char *key);
/* The raw bytes of a string value that has no escapes; -1 otherwise. */
int nap_jscan_string(const struct nap_jscan_member *m, const char **s, size_t *len);

/* The facts of one Kubernetes object. */
struct nap_jscan_kobj {
	const char *body, *end;		  /* '{' .. just past '}' */
	const char *uid, *rv, *ns, *name; /* "" when absent */
	size_t ulen, rlen, nslen, namelen;
	const char *cut, *cut_end; /* metadata.managedFields with one comma, or NULL */
	int has_kind, has_api;
};

/*
 * Scan the object in [p, end).  -1 when it is malformed, spans lines, has
 * no metadata.uid, or one of the strings above uses escapes (the caller
 * then takes the slow path through json-c).
 */
int nap_jscan_kobj(const char *p, const char *end, struct nap_jscan_kobj *o);

/*
 * Append {"type":TYPE,"object":OBJ} to *buf (length *len, capacity *alloc)
 * where OBJ is the object without managedFields and with apiVersion and
 * kind (those given) first when it lacked them.
 */
void nap_jscan_kobj_record(const struct nap_jscan_kobj *o, const char *type,
    const char *api_version, const char *kind, char **buf, size_t *len, size_t *alloc);

#endif
