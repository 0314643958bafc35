/*
 * util.h - small helpers every part of nap-launch uses, tied to none of
 * them: the wall clock, RFC 3339 times, NodeClaim paths, and the rule for
 * which errors end the run.
 */
#ifndef NAP_LAUNCH_UTIL_H
#define NAP_LAUNCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "nap.h"

#define NC_PATH "/apis/karpenter.sh/v1/nodeclaims"

/* Milliseconds since the epoch (the clock Kubernetes times are read against). */
int64_t wall_ms(void);
/* ms as "2006-01-02T15:04:05Z" into buf. */
void rfc3339(int64_t ms, char *buf, size_t size);
/* The path of NodeClaim name, or of its subresource sub (NULL: none); free it. */
char *nc_path(const char *name, const char *sub);
/*
 * A Kubernetes or Azure refusal nothing can fix from here (401, 403, a
 * bad configuration, an endpoint never reached): said once, and its exit
 * code kept in *fatal.  1 for such an error, 0 for any other.
 */
int fatal_err(int *fatal, const struct nap_err *err);

#endif
