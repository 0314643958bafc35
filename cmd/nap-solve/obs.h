/*
 * obs.h - nap-solve's metrics (obs.c): how long each scheduling pass took,
 * how many pods it considered and could not place, and its records.  Every
 * call is a no-op before obs_start.
 */
#ifndef NAP_SOLVE_OBS_H
#define NAP_SOLVE_OBS_H

#include <stddef.h>

#include "rec.h"

struct nap_config;

/* --metrics-file and --metrics-listen, before obs_start. */
void obs_option(const char *name, const char *arg);
void obs_start(const struct nap_config *cfg);
/* A record read, or a malformed line. */
void obs_read(const struct nap_rec *rec);
void obs_malformed(void);
/* A scheduling pass starts; it ends having considered npending pods. */
void obs_pass_begin(void);
void obs_pass_end(size_t npending);
void obs_stop(void);

#endif
