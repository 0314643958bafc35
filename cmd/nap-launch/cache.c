/*
 * cache.c - the unavailable-offerings cache (cache.h): marks, their TTLs,
 * and the OfferingUnavailable records (on stdout and on the feedback FIFO).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "prog.h"
#include "cache.h"
#include "util.h"

static void
key_of(char *buf, size_t size, const char *type, const char *zone, const char *ct)
{
	snprintf(buf, size, "%s/%s/%s", type, zone, ct);
}

static void
put(struct offcache *x, const char *key, int min_vcpus, int64_t until)
{
	size_t i;

	for (i = 0; i < x->nun; i++)
		if (strcmp(x->un[i].key, key) == 0 && x->un[i].min_vcpus == min_vcpus) {
			if (until > x->un[i].until_ms)
				x->un[i].until_ms = until;
			return;
		}
	nap_xgrow(&x->un, &x->aun, x->nun + 1, sizeof(*x->un));
	x->un[x->nun].key = nap_xstrdup(key);
	x->un[x->nun].min_vcpus = min_vcpus;
	x->un[x->nun].until_ms = until;
	x->nun++;
}

static int
live(const struct offcache *x, const char *key, int vcpus, int64_t now)
{
	size_t i;

	for (i = 0; i < x->nun; i++)
		if (x->un[i].until_ms > now && strcmp(x->un[i].key, key) == 0 &&
		    vcpus >= x->un[i].min_vcpus)
			return 1;
	return 0;
}

int
cache_blocked(const struct offcache *x, const struct nap_itype *it,
    const struct nap_offering *off)
{
	int64_t now = wall_ms();
	char key[256];

	key_of(key, sizeof(key), it->name, off->zone_label, off->capacity_type);
	if (live(x, key, 0, now))
		return 1;
	if (off->spot && live(x, "spot", 0, now))
		return 1;
	snprintf(key, sizeof(key), "family:%s/%s/%s", it->quota_family, off->zone_label,
	    off->capacity_type);
	return live(x, key, it->vcpus, now);
}

/* The record on stdout, and on the feedback FIFO when one is open. */
static void
announce(struct offcache *x, const char *claim, const char *type, const char *zone, const char *ct,
    const char *code, enum nap_arm_class cls, int64_t until)
{
	json_object *r = json_object_new_object();
	char ts[40];

	rfc3339(until, ts, sizeof(ts));
	json_object_object_add(r, "type", json_object_new_string("OfferingUnavailable"));
	json_object_object_add(r, "instanceType", json_object_new_string(type));
	if (zone)
		json_object_object_add(r, "zone", json_object_new_string(zone));
	if (ct)
		json_object_object_add(r, "capacityType", json_object_new_string(ct));
	json_object_object_add(r, "code", json_object_new_string(code));
	json_object_object_add(r, "reason", json_object_new_string(nap_arm_class_reason(cls)));
	json_object_object_add(r, "until", json_object_new_string(ts));
	json_object_object_add(r, "nodeClaim", json_object_new_string(claim));
	nap_emit(r);
	if (x->feedback_fd >= 0) {
		size_t len;
		const char *s = nap_json_line(r, &len);
		char *line = nap_xmalloc(len + 1);
		ssize_t w;

		memcpy(line, s, len);
		line[len] = '\n';
		/* Non-blocking: a slow or absent reader costs records, never a stall. */
		w = write(x->feedback_fd, line, len + 1);
		if (w < 0 && errno != EAGAIN && errno != EPIPE)
			nap_warn("write %s: %s", x->feedback_path, strerror(errno));
		else if (w >= 0 && (size_t)w != len + 1)
			nap_warn("write %s: short write, record cut", x->feedback_path);
		free(line);
	}
	json_object_put(r);
}

/* Mark one (type, zone, ct) and say so. */
static void
mark(struct offcache *x, const char *claim, const struct nap_itype *it, const struct nap_offering *o,
    const char *code, enum nap_arm_class cls, int64_t until)
{
	char key[256];

	key_of(key, sizeof(key), it->name, o->zone_label, o->capacity_type);
	if (live(x, key, 0, wall_ms()))
		return;
	put(x, key, 0, until);
	announce(x, claim, it->name, o->zone_label, o->capacity_type, code, cls, until);
}

/* Every offering of it that the rule selects. */
static void
mark_where(struct offcache *x, const char *claim, const struct nap_itype *it, const char *code,
    enum nap_arm_class cls, int64_t until, int zonal, int zone, int spot)
{
	size_t i;

	for (i = 0; i < it->noff; i++) {
		const struct nap_offering *o = &it->off[i];

		if (spot >= 0 && o->spot != spot)
			continue;
		if (zone >= 0 && o->zone != zone)
			continue;
		/* "the attempted placement scope": zonal offerings, or the regional one */
		if (zone < 0 && zonal >= 0 && (o->zone > 0) != zonal)
			continue;
		mark(x, claim, it, o, code, cls, until);
	}
}

/*
 * Block the VM family in a zone and capacity type for every size with at
 * least the failed size's vCPUs; announce the catalog's sizes it covers.
 */
static void
mark_family(struct offcache *x, const char *claim, const struct nap_itype *failed, int zone, int spot,
    const char *code, enum nap_arm_class cls, int64_t until, int whole)
{
	size_t i, j;
	int min = whole ? 0 : failed->vcpus;
	char key[256];

	for (i = 0; i < failed->noff; i++) {
		const struct nap_offering *o = &failed->off[i];

		if (o->spot != spot || (zone >= 0 && o->zone != zone))
			continue;
		snprintf(key, sizeof(key), "family:%s/%s/%s", failed->quota_family, o->zone_label,
		    o->capacity_type);
		put(x, key, min, until);
	}
	for (i = 0; i < x->cat->ntypes; i++) {
		const struct nap_itype *it = &x->cat->types[i];

		if (it == failed || strcmp(it->quota_family, failed->quota_family) != 0 ||
		    it->vcpus < min)
			continue;
		for (j = 0; j < it->noff; j++) {
			const struct nap_offering *o = &it->off[j];

			if (o->spot != spot || (zone >= 0 && o->zone != zone))
				continue;
			mark(x, claim, it, o, code, cls, until);
		}
	}
}

void
cache_mark(struct offcache *x, const char *claim, const struct cand *tried,
    const struct cand *cands, size_t ncands, enum nap_arm_class cls, const char *code,
    const char *message)
{
	const struct nap_itype *it = tried->it;
	const struct nap_offering *off = tried->off;
	int64_t ttl = nap_arm_class_ttl(cls, off->spot, message) * 1000;
	int64_t until = wall_ms() + (int64_t)((double)ttl / x->scale);
	int zonal = off->zone > 0;
	size_t i;

	switch (cls) {
	case NAP_ARM_SPOT_QUOTA:
		/* All of spot; the records name the sizes this claim could use. */
		put(x, "spot", 0, until);
		for (i = 0; i < ncands; i++)
			if (cands[i].off->spot && (i == 0 || cands[i].it != cands[i - 1].it))
				announce(x, claim, cands[i].it->name, NULL, "spot", code, cls, until);
		return;
	case NAP_ARM_FAMILY_QUOTA:
		mark_where(x, claim, it, code, cls, until, -1, -1, off->spot);
		mark_family(x, claim, it, -1, off->spot, code, cls, until, 1);
		return;
	case NAP_ARM_SKU_NOT_AVAILABLE:
		mark_where(x, claim, it, code, cls, until, zonal, -1, off->spot);
		break;
	case NAP_ARM_ZONAL_ALLOCATION:
		mark_where(x, claim, it, code, cls, until, -1, off->zone, -1);
		break;
	case NAP_ARM_ALLOCATION:
		mark_where(x, claim, it, code, cls, until, zonal, -1, -1);
		break;
	case NAP_ARM_OVERCONSTRAINED_ZONAL:
		mark_where(x, claim, it, code, cls, until, -1, off->zone, off->spot);
		break;
	case NAP_ARM_OVERCONSTRAINED:
		mark_where(x, claim, it, code, cls, until, zonal, -1, off->spot);
		break;
	default:
		return;
	}
	/* Per-offering marks also block bigger sizes of the family there (4.5). */
	mark_family(x, claim, it, zonal ? off->zone : 0, off->spot, code, cls, until, 0);
}

void
cache_free(struct offcache *x)
{
	size_t i;

	for (i = 0; i < x->nun; i++)
		free(x->un[i].key);
	free(x->un);
	x->un = NULL;
	x->nun = x->aun = 0;
}
