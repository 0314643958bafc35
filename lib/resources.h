/*
 * resources.h - resource vectors: the fixed set of resources nap schedules on,
 * as exact integers (CPU in milli-cores, memory and ephemeral storage in
 * bytes, pods and devices as counts).  A plain array, so the scheduler's
 * fits test is a short loop with no allocation.
 *
 * A request for a resource outside this set (an extended resource nap does
 * not know) cannot be expressed here; the model records its name so the
 * scheduler can say why the pod fits nowhere.
 */
#ifndef NAP_RESOURCES_H
#define NAP_RESOURCES_H

#include <stdint.h>
#include <json-c/json.h>

#include "nap.h"

enum nap_res_kind {
	NAP_RES_CPU,	    /* milli-cores */
	NAP_RES_MEMORY,	    /* bytes */
	NAP_RES_PODS,	    /* count */
	NAP_RES_EPHEMERAL,  /* bytes of ephemeral-storage */
	NAP_RES_NVIDIA_GPU, /* nvidia.com/gpu */
	NAP_RES_AMD_GPU,    /* amd.com/gpu */
	NAP_RES_N
};

struct nap_res {
	int64_t v[NAP_RES_N];
};

/* The Kubernetes name of each resource ("cpu", "memory", ...). */
const char *nap_res_name(enum nap_res_kind k);
/* The kind for a Kubernetes resource name; -1 when nap does not track it. */
int nap_res_lookup(const char *name);

void nap_res_zero(struct nap_res *r);
void nap_res_add(struct nap_res *dst, const struct nap_res *a);
void nap_res_sub(struct nap_res *dst, const struct nap_res *a);
/* dst[i] = max(dst[i], a[i]) */
void nap_res_max(struct nap_res *dst, const struct nap_res *a);
/* 1 when every component of need is <= have. */
int nap_res_fits(const struct nap_res *need, const struct nap_res *have);
/* The first resource where need exceeds have, or -1. */
int nap_res_first_short(const struct nap_res *need, const struct nap_res *have);
int nap_res_is_zero(const struct nap_res *r);

/*
 * Parse a Kubernetes ResourceList ({"cpu":"100m","memory":"1Gi",...}) into r
 * (added to what r holds).  A quantity that does not parse is an error naming
 * the resource; a resource outside the set is skipped, its name copied to
 * unknown (if not NULL and still empty) so the caller can report it.
 */
int nap_res_parse(
    struct nap_res *r, json_object *list, char *unknown, size_t unknown_len, struct nap_err *err);
/* A ResourceList with the non-zero components (cpu as "1500m", memory as "1536Mi", ...). */
json_object *nap_res_to_json(const struct nap_res *r);
/* "cpu=1500m memory=2Gi pods=3" for messages. */
void nap_res_fmt(const struct nap_res *r, char *buf, size_t len);

#endif
