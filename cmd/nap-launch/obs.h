/*
 * obs.h - nap-launch's metrics and Events (obs.c): the NodeClaims it
 * creates, launches, sees register and initialise, Azure's refusals, and the
 * Events Karpenter posts for them and for the pods nap-solve nominated or
 * could not place.  Every call is a no-op before obs_start.
 */
#ifndef NAP_LAUNCH_OBS_H
#define NAP_LAUNCH_OBS_H

#include <json-c/json.h>

#include "rec.h"

struct ctx;

/* --metrics-file, --metrics-listen and --no-events, before obs_start. */
void obs_option(const char *name, const char *arg);
void obs_start(struct ctx *x, const char *kubeconfig, const char *context);
/* A record read (before it is acted on), or a malformed line. */
void obs_read(const struct nap_rec *rec);
void obs_malformed(void);
/* The NodeClaim object nc was created in the API (not found there already). */
void obs_nodeclaim_created(json_object *nc);
void obs_stop(void);

#endif
