/*
 * window.h - maintenance windows: when nap-upgrade may pick up a new node
 * image (azure-provider.md §5.3, §5.6).
 *
 * Two sources, one type.  AKS publishes the next window of the cluster's
 * aksManagedNodeOSUpgradeSchedule as the ConfigMap
 * upcoming-maintenance-window, keys aksManagedNodeOSUpgradeSchedule-start
 * and -end (RFC 3339): nap_window_from_configmap reads its data, with the
 * provider's rules — no ConfigMap, no data, or neither key means "always
 * open" (fail open); one key without the other is an error.  Operators
 * without that ConfigMap describe the schedule itself in nap.conf, with the
 * fields of an AKS maintenance configuration: nap_window_from_schedule
 * reads {"frequency": "Daily"|"Weekly"|"AbsoluteMonthly"|"RelativeMonthly",
 * "interval": n, "dayOfWeek": "Monday", "dayOfMonth": 1..31,
 * "weekIndex": "First"|"Second"|"Third"|"Fourth"|"Last",
 * "startTime": "HH:MM", "durationHours": 4..24, "utcOffset": "+05:30",
 * "startDate": "YYYY-MM-DD"}.
 *
 * A schedule's windows start on the matching local days at startTime and
 * last durationHours; interval counts days, weeks or months from startDate
 * (default 1970-01-01, so interval 1 matches every period).  A monthly
 * dayOfMonth beyond the month's length (31 in April) has no window that
 * month, as with a cron day-of-month.
 *
 * Times are milliseconds since the epoch (UTC), passed in: nothing here
 * reads a clock.  Errors fill a struct nap_err naming the field.
 */
#ifndef NAP_WINDOW_H
#define NAP_WINDOW_H

#include <json-c/json.h>
#include <stdint.h>

#include "nap.h"

enum nap_window_kind {
	NAP_WINDOW_ALWAYS,    /* fail open: no window configured */
	NAP_WINDOW_FIXED,     /* one [start, end) from the ConfigMap */
	NAP_WINDOW_DAILY,
	NAP_WINDOW_WEEKLY,
	NAP_WINDOW_ABS_MONTHLY,
	NAP_WINDOW_REL_MONTHLY,
};

struct nap_window {
	enum nap_window_kind kind;
	int64_t start_ms, end_ms; /* FIXED */
	int interval;		  /* days, weeks or months; >= 1 */
	int day_of_week;	  /* 0 Sunday .. 6 Saturday */
	int day_of_month;	  /* 1..31 */
	int week_index;		  /* 1..4, or 5 for Last */
	int start_min;		  /* minutes after local midnight */
	int duration_min;
	int utc_offset_min; /* local = UTC + offset */
	int64_t start_day;  /* startDate as days since 1970-01-01 */
};

/* data: the ConfigMap's .data (NULL: no ConfigMap at all). */
int nap_window_from_configmap(struct nap_window *w, json_object *data, struct nap_err *err);
/* sched: the nap.conf object above (NULL: always open). */
int nap_window_from_schedule(struct nap_window *w, json_object *sched, struct nap_err *err);

/* 1 when now is inside a window. */
int nap_window_open(const struct nap_window *w, int64_t now_ms);
/*
 * The start of the window now is in, else of the next one; *end_ms (may be
 * NULL) gets its end.  -1 when there is none (a FIXED window in the past;
 * a schedule that never matches within ten years).  ALWAYS gives now.
 */
int64_t nap_window_next(const struct nap_window *w, int64_t now_ms, int64_t *end_ms);
/* A one-line description ("every 1 week(s) on Sunday at 02:00+00:00 for 4h"); the caller frees it. */
char *nap_window_describe(const struct nap_window *w);

/* Civil dates, proleptic Gregorian, days since 1970-01-01 (may be negative). */
int64_t nap_days_from_civil(int y, int m, int d);
void nap_civil_from_days(int64_t z, int *y, int *m, int *d);
/* 0 Sunday .. 6 Saturday */
int nap_weekday(int64_t days);

#endif
