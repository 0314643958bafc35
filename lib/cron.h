/*
 * cron.h - five-field cron schedules in UTC, for NodePool disruption budget
 * windows (karpenter.md §2.1, §4.4).
 *
 * Syntax: "minute hour day-of-month month day-of-week", each field a list
 * of "*", "N", "N-M", with an optional "/step" ("*" + step = the whole range
 * stepped; "N/step" = N to the end of the range stepped); months also
 * JAN..DEC and days SUN..SAT (any case); day-of-week 0-7, 0 and 7 both
 * Sunday; "?" is "*".  When both day fields are restricted a day matches
 * either (Vixie cron); when either is "*" both must match.  Macros:
 * @yearly and @annually (0 0 1 1 *), @monthly (0 0 1 * *), @weekly
 * (0 0 * * 0), @daily and @midnight (0 0 * * *), @hourly (0 * * * *).
 * There is no time zone and so no daylight saving: every time is UTC.
 *
 * Errors: nap_cron_parse returns 0, or -1 with err (NAP_EX_DATAERR) naming
 * the field and the text, e.g. `hour: "25" out of range 0-23`.
 */
#ifndef NAP_CRON_H
#define NAP_CRON_H

#include <stdint.h>

#include "nap.h"

struct nap_cron {
	uint64_t minute; /* bit n: minute n */
	uint32_t hour;
	uint32_t dom;		/* bits 1..31 */
	uint16_t month;		/* bits 1..12 */
	uint8_t dow;		/* bits 0..6, Sunday 0 */
	int dom_star, dow_star; /* the field was "*" or "?" (unrestricted) */
};

int nap_cron_parse(struct nap_cron *c, const char *spec, struct nap_err *err);
/*
 * The first fire strictly after t (epoch seconds, UTC), always at second 0
 * of a minute; -1 when there is none in the next eight years (such as
 * "0 0 30 2 *").
 */
int64_t nap_cron_next(const struct nap_cron *c, int64_t t);
/*
 * 1 when a window of duration_ms opened at a fire covers now_ms: the first
 * fire after now - duration is at or before now (Karpenter's rule), so a
 * window is [fire, fire + duration).  *until_ms (may be NULL) gets when
 * to look again: the window's end while active (a later fire may extend
 * it), else the next opening (0 when none).
 */
int nap_cron_active(
    const struct nap_cron *c, int64_t now_ms, int64_t duration_ms, int64_t *until_ms);

#endif
