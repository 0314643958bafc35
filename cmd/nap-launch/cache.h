/*
 * cache.h - the unavailable-offerings cache (azure-provider.md 4.5): what an
 * Azure capacity or quota error rules out, for how long, and the
 * OfferingUnavailable records that tell nap-solve so.  It knows offerings
 * and the catalog, nothing of NodeClaims or of the rest of nap-launch.
 */
#ifndef NAP_LAUNCH_CACHE_H
#define NAP_LAUNCH_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "arm.h"
#include "catalog.h"

/* One offering to try: an instance type in a zone with a capacity type. */
struct cand {
	const struct nap_itype *it;
	const struct nap_offering *off;
	int rank; /* position of the type in the request */
};

struct unavail {
	char *key;	  /* "<type>/<zone label>/<capacity type>", or "family:<f>/<zone>/<ct>" */
	int min_vcpus;	  /* family entries: sizes with at least this many vCPUs */
	int64_t until_ms; /* wall clock */
};

/* Zeroed, then cat, scale and the feedback FIFO set by the owner. */
struct offcache {
	const struct nap_catalog *cat; /* borrowed */
	double scale;		       /* TTLs are divided by it */
	int feedback_fd;	       /* -1: none */
	const char *feedback_path;
	struct unavail *un;
	size_t nun, aun;
};

/* 1 when the offering is ruled out now. */
int cache_blocked(const struct offcache *k, const struct nap_itype *it,
    const struct nap_offering *off);
/*
 * Azure refused tried (for claim) with an error of class cls: mark what the
 * provider's rule rules out and announce each new mark.  cands are the
 * claim's offerings (a spot quota names every spot size among them).
 */
void cache_mark(struct offcache *k, const char *claim, const struct cand *tried,
    const struct cand *cands, size_t ncands, enum nap_arm_class cls, const char *code,
    const char *message);
void cache_free(struct offcache *k);

#endif
