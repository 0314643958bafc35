/* Unit tests for lib/hash: puts, gets, deletes and in-place slots at a scale that rehashes. */
#include <stdio.h>

#include "hash.h"
#include "tap.h"

int
main(void)
{
	struct nap_hash h = NAP_HASH_INIT;
	static int vals[5000];
	char key[32];
	void **v;
	int added, ok = 1, i;

	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "default/web-%d", i);
		ok &= nap_hash_put(&h, key, &vals[i]) == NULL;
	}
	TAP_OK(
	    ok && nap_hash_count(&h) == 5000, "5,000 new keys are added, each put returning NULL");
	for (i = 0, ok = 1; i < 5000; i++) {
		snprintf(key, sizeof(key), "default/web-%d", i);
		ok &= nap_hash_get(&h, key) == &vals[i];
	}
	TAP_OK(ok, "every key finds its value after the table has grown");
	TAP_OK(nap_hash_put(&h, "default/web-7", &vals[8]) == &vals[7] &&
		nap_hash_get(&h, "default/web-7") == &vals[8] && nap_hash_count(&h) == 5000,
	    "a put on a present key replaces the value and returns the old one");

	v = nap_hash_slot(&h, "default/web-9", &added);
	TAP_OK(!added && *v == &vals[9], "a slot of a present key holds its value");
	*v = &vals[10];
	TAP_OK(nap_hash_get(&h, "default/web-9") == &vals[10],
	    "a value set through a slot is read back");
	v = nap_hash_slot(&h, "kube-system/dns", &added);
	TAP_OK(added && *v == NULL && nap_hash_count(&h) == 5001,
	    "a slot of an absent key adds it with a NULL value");
	*v = &vals[0];
	TAP_OK(
	    nap_hash_get(&h, "kube-system/dns") == &vals[0], "the new key's value is set in place");

	for (i = 0, ok = 1; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "default/web-%d", i);
		ok &= nap_hash_del(&h, key) != NULL;
	}
	TAP_OK(ok && nap_hash_count(&h) == 2501 && nap_hash_get(&h, "default/web-4") == NULL &&
		nap_hash_get(&h, "default/web-5") == &vals[5],
	    "deleted keys are gone and the others stay");
	v = nap_hash_slot(&h, "default/web-4", &added);
	*v = &vals[4];
	TAP_OK(added && nap_hash_get(&h, "default/web-4") == &vals[4] && nap_hash_count(&h) == 2502,
	    "a slot re-adds a deleted key (in a tombstone's place)");
	nap_hash_free(&h);
	TAP_OK(nap_hash_count(&h) == 0 && nap_hash_get(&h, "default/web-5") == NULL,
	    "a freed table is empty and usable");
	return tap_done();
}
