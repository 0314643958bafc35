/*
 * hash.c - open-addressing string hash table (see hash.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "nap.h"

/* A distinct non-NULL address marks a deleted slot. */
static char tomb_mark;
#define NAP_HASH_TOMB (&tomb_mark)

void
nap_hash_init(struct nap_hash *h)
{
	h->slots = NULL;
	h->cap = h->n = h->used = 0;
}

void
nap_hash_free(struct nap_hash *h)
{
	size_t i;

	for (i = 0; i < h->cap; i++)
		if (h->slots[i].key && h->slots[i].key != NAP_HASH_TOMB)
			free(h->slots[i].key);
	free(h->slots);
	nap_hash_init(h);
}

/*
 * FNV-1a followed by a 64-bit finaliser: FNV alone clusters badly for keys
 * that differ only in their last characters ("web-1", "web-2"), which is
 * exactly what pod names look like.
 */
uint64_t
nap_hash_str(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static int
slot_is(const struct nap_hash_slot *sl, uint64_t hv, const char *key, size_t len)
{
	return sl->key && sl->key != NAP_HASH_TOMB && sl->h == hv &&
	    strncmp(sl->key, key, len) == 0 && sl->key[len] == '\0';
}

static struct nap_hash_slot *
find(const struct nap_hash *h, const char *key, size_t len, uint64_t hv)
{
	size_t mask, i;

	if (h->cap == 0)
		return NULL;
	mask = h->cap - 1;
	for (i = hv & mask;; i = (i + 1) & mask) {
		struct nap_hash_slot *sl = &h->slots[i];

		if (sl->key == NULL)
			return NULL;
		if (slot_is(sl, hv, key, len))
			return sl;
	}
}

static void
rehash(struct nap_hash *h, size_t cap)
{
	struct nap_hash_slot *old = h->slots;
	size_t oldcap = h->cap, i, mask = cap - 1;

	h->slots = nap_xcalloc(cap, sizeof(*h->slots));
	h->cap = cap;
	h->used = h->n;
	for (i = 0; i < oldcap; i++) {
		size_t j;

		if (old[i].key == NULL || old[i].key == NAP_HASH_TOMB)
			continue;
		for (j = old[i].h & mask; h->slots[j].key; j = (j + 1) & mask)
			;
		h->slots[j] = old[i];
	}
	free(old);
}

void *
nap_hash_getn(const struct nap_hash *h, const char *key, size_t len)
{
	struct nap_hash_slot *sl = find(h, key, len, nap_hash_str(key, len));

	return sl ? sl->val : NULL;
}

void *
nap_hash_get(const struct nap_hash *h, const char *key)
{
	return nap_hash_getn(h, key, strlen(key));
}

void **
nap_hash_slot(struct nap_hash *h, const char *key, int *added)
{
	size_t len = strlen(key), mask, i;
	uint64_t hv = nap_hash_str(key, len);
	struct nap_hash_slot *sl = find(h, key, len, hv), *tomb = NULL;

	*added = sl == NULL;
	if (sl)
		return &sl->val;
	if ((h->used + 1) * 10 >= h->cap * 7) {
		size_t cap = h->cap ? h->cap : 16;

		/* Grow only when live entries need it; otherwise sweeping the tombstones is enough. */
		while ((h->n + 1) * 10 >= cap * 5)
			cap *= 2;
		rehash(h, cap);
	}
	mask = h->cap - 1;
	for (i = hv & mask; h->slots[i].key; i = (i + 1) & mask)
		if (h->slots[i].key == NAP_HASH_TOMB && !tomb)
			tomb = &h->slots[i];
	if (tomb)
		sl = tomb;
	else {
		sl = &h->slots[i];
		h->used++;
	}
	sl->key = nap_xstrndup(key, len);
	sl->h = hv;
	sl->val = NULL;
	h->n++;
	return &sl->val;
}

void *
nap_hash_put(struct nap_hash *h, const char *key, void *val)
{
	int added;
	void **v = nap_hash_slot(h, key, &added), *old = *v;

	*v = val;
	return added ? NULL : old;
}

void *
nap_hash_del(struct nap_hash *h, const char *key)
{
	size_t len = strlen(key);
	struct nap_hash_slot *sl = find(h, key, len, nap_hash_str(key, len));
	void *old;

	if (!sl)
		return NULL;
	old = sl->val;
	free(sl->key);
	sl->key = NAP_HASH_TOMB;
	sl->val = NULL;
	h->n--;
	return old;
}

size_t
nap_hash_count(const struct nap_hash *h)
{
	return h->n;
}

int
nap_hash_next(const struct nap_hash *h, size_t *pos, const char **key, void **val)
{
	while (*pos < h->cap) {
		struct nap_hash_slot *sl = &h->slots[(*pos)++];

		if (sl->key && sl->key != NAP_HASH_TOMB) {
			if (key)
				*key = sl->key;
			if (val)
				*val = sl->val;
			return 1;
		}
	}
	return 0;
}
