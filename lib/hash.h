/*
 * hash.h - an open-addressing hash table from strings to pointers, for the
 * lookups that must stay O(1) at cluster scale (50,000 pods, pods by node).
 *
 * Keys are copied into the table and freed by it; values are the caller's
 * and are never freed by the table.  Linear probing with tombstones; the
 * table doubles at 70% load (live entries plus tombstones), so a churn of
 * puts and deletes never degrades into long probe chains.  Iteration order
 * is the slot order: stable while the table is not modified, but not
 * meaningful; callers that need a deterministic order sort.
 *
 * Nothing here fails: out of memory aborts through nap_x*.
 */
#ifndef NAP_HASH_H
#define NAP_HASH_H

#include <stddef.h>
#include <stdint.h>

struct nap_hash_slot {
	char *key; /* NULL empty, NAP_HASH_TOMB deleted */
	uint64_t h;
	void *val;
};

struct nap_hash {
	struct nap_hash_slot *slots;
	size_t cap;  /* power of two, or 0 */
	size_t n;    /* live entries */
	size_t used; /* live entries plus tombstones */
};

#define NAP_HASH_INIT                                                                              \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

void nap_hash_init(struct nap_hash *h);
/* Frees the keys and the slots, not the values. */
void nap_hash_free(struct nap_hash *h);
uint64_t nap_hash_str(const char *s, size_t len);

void *nap_hash_get(const struct nap_hash *h, const char *key);
void *nap_hash_getn(const struct nap_hash *h, const char *key, size_t len);
/*
 * Map key to val (val must not be NULL); returns the value it replaced, or
 * NULL when the key is new.
 */
void *nap_hash_put(struct nap_hash *h, const char *key, void *val);
/*
 * The value of key, to read or set in place: one lookup where a get and a
 * put would do two.  When key was absent it is added with a NULL value,
 * *added is 1, and the caller must store a value before the next call on
 * h.  The pointer is valid until the next put, slot or delete.
 */
void **nap_hash_slot(struct nap_hash *h, const char *key, int *added);
/* Remove key; returns its value, or NULL when it was absent. */
void *nap_hash_del(struct nap_hash *h, const char *key);
size_t nap_hash_count(const struct nap_hash *h);
/*
 * Iterate: start with *pos = 0; each call returns 1 and sets *key and *val
 * for the next live entry, or 0 at the end.  Do not modify the table while
 * iterating.
 */
int nap_hash_next(const struct nap_hash *h, size_t *pos, const char **key, void **val);

#endif
