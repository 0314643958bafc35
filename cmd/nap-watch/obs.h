/*
 * obs.h - nap-watch's metrics (obs.c): the objects it mirrors, pods by
 * phase the way Karpenter's karpenter_pods_state has them, nodes, and how
 * often it (re)listed.  Every call is a no-op before obs_start.
 */
#ifndef NAP_WATCH_OBS_H
#define NAP_WATCH_OBS_H

#include <stddef.h>

struct nap_config;

/* --metrics-file and --metrics-listen, before obs_start. */
void obs_option(const char *name, const char *arg);
void obs_start(const struct nap_config *cfg);
/*
 * A record written by the fast path (nap_emit_raw, not seen by the emit
 * observer): its type, the kind and uid, and the line.
 */
void obs_raw(
    const char *type, const char *kind, const char *uid, size_t ulen, const char *line, size_t len);
/* The pool the informers run on, whose answers are counted. */
struct nap_http;
void obs_pool(struct nap_http *pool);
void obs_stop(void);

#endif
