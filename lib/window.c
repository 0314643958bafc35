/*
 * window.c - maintenance windows (window.h): the ConfigMap's fixed window,
 * and the recurring schedules of an AKS maintenance configuration evaluated
 * over civil dates in the schedule's UTC offset.
 */
#include "window.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "model.h"

#define MS_PER_MIN INT64_C(60000)
#define MS_PER_DAY INT64_C(86400000)

#define CM_START "aksManagedNodeOSUpgradeSchedule-start"
#define CM_END "aksManagedNodeOSUpgradeSchedule-end"

static const char *const weekdays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
    "Friday", "Saturday"};
static const char *const week_indexes[] = {"First", "Second", "Third", "Fourth", "Last"};

/* Days since 1970-01-01 of y-m-d: the usual era arithmetic (400-year cycles). */
int64_t
nap_days_from_civil(int y, int m, int d)
{
	int64_t yy = m <= 2 ? (int64_t)y - 1 : y;
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void
nap_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp, yy;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

int
nap_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (4). */
	int64_t w = (days + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

static int
days_in_month(int y, int m)
{
	return (int)(nap_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
		     nap_days_from_civil(y, m, 1));
}

/* Floor division, for intervals counted back from startDate. */
static int64_t
fdiv(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static int64_t
fmod64(int64_t a, int64_t b)
{
	return a - fdiv(a, b) * b;
}

/* Whether a window starts on local day z. */
static int
day_matches(const struct nap_window *w, int64_t z)
{
	int y, m, d, sy, sm, sd, dim;

	switch (w->kind) {
	case NAP_WINDOW_DAILY:
		return fmod64(z - w->start_day, w->interval) == 0;
	case NAP_WINDOW_WEEKLY:
		if (nap_weekday(z) != w->day_of_week)
			return 0;
		/* Weeks since the week of startDate (weeks start on Sunday). */
		return fmod64(fdiv(z - nap_weekday(z) - (w->start_day - nap_weekday(w->start_day)), 7),
			   w->interval) == 0;
	case NAP_WINDOW_ABS_MONTHLY:
	case NAP_WINDOW_REL_MONTHLY:
		nap_civil_from_days(z, &y, &m, &d);
		nap_civil_from_days(w->start_day, &sy, &sm, &sd);
		if (fmod64((int64_t)(y - sy) * 12 + (m - sm), w->interval) != 0)
			return 0;
		if (w->kind == NAP_WINDOW_ABS_MONTHLY)
			return d == w->day_of_month;
		if (nap_weekday(z) != w->day_of_week)
			return 0;
		dim = days_in_month(y, m);
		if (w->week_index == 5)
			return d > dim - 7;
		return (d - 1) / 7 + 1 == w->week_index;
	default:
		return 0;
	}
}

int64_t
nap_window_next(const struct nap_window *w, int64_t now_ms, int64_t *end_ms)
{
	int64_t off = w->utc_offset_min * MS_PER_MIN, local = now_ms + off, today, z, start, end;
	int64_t back;

	switch (w->kind) {
	case NAP_WINDOW_ALWAYS:
		if (end_ms)
			*end_ms = INT64_MAX;
		return now_ms;
	case NAP_WINDOW_FIXED:
		if (now_ms >= w->end_ms)
			return -1;
		if (end_ms)
			*end_ms = w->end_ms;
		return w->start_ms;
	default:
		break;
	}
	today = fdiv(local, MS_PER_DAY);
	/* A window that began on an earlier day may still be open. */
	back = (w->start_min + w->duration_min) / (24 * 60) + 1;
	for (z = today - back; z <= today + 3660; z++) {
		if (!day_matches(w, z))
			continue;
		start = z * MS_PER_DAY + w->start_min * MS_PER_MIN;
		end = start + w->duration_min * MS_PER_MIN;
		if (end <= local)
			continue;
		if (end_ms)
			*end_ms = end - off;
		return start - off;
	}
	return -1;
}

int
nap_window_open(const struct nap_window *w, int64_t now_ms)
{
	int64_t end, start = nap_window_next(w, now_ms, &end);

	return start >= 0 && start <= now_ms && now_ms < end;
}

int
nap_window_from_configmap(struct nap_window *w, json_object *data, struct nap_err *err)
{
	const char *s = data ? nap_json_str(data, CM_START, NULL) : NULL;
	const char *e = data ? nap_json_str(data, CM_END, NULL) : NULL;
	int64_t ts, te;

	memset(w, 0, sizeof(*w));
	w->kind = NAP_WINDOW_ALWAYS;
	w->interval = 1;
	if (s == NULL && e == NULL)
		return 0;
	if (s == NULL || e == NULL)
		return nap_err_set(err, NAP_EX_CONFIG,
		    "configmap upcoming-maintenance-window: %s without %s", s ? CM_START : CM_END,
		    s ? CM_END : CM_START);
	if (nap_time_parse(s, &ts) != 0)
		return nap_err_set(err, NAP_EX_CONFIG,
		    "configmap upcoming-maintenance-window: %s \"%s\" is not an RFC 3339 time",
		    CM_START, s);
	if (nap_time_parse(e, &te) != 0)
		return nap_err_set(err, NAP_EX_CONFIG,
		    "configmap upcoming-maintenance-window: %s \"%s\" is not an RFC 3339 time", CM_END,
		    e);
	if (te < ts)
		return nap_err_set(err, NAP_EX_CONFIG,
		    "configmap upcoming-maintenance-window: ends (%s) before it starts (%s)", e, s);
	w->kind = NAP_WINDOW_FIXED;
	w->start_ms = ts * 1000;
	w->end_ms = te * 1000;
	return 0;
}

static int
lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcasecmp(names[i], s) == 0)
			return i;
	return -1;
}

/* An integer field in [lo, hi], or dflt when absent. */
static int
int_field(json_object *o, const char *key, int lo, int hi, int dflt, int *out, struct nap_err *err)
{
	json_object *v = nap_json_key(o, key);
	int64_t n;

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return nap_err_set(err, NAP_EX_CONFIG, "maintenance window: %s is not an integer", key);
	n = json_object_get_int64(v);
	if (n < lo || n > hi)
		return nap_err_set(err, NAP_EX_CONFIG,
		    "maintenance window: %s %lld is outside %d..%d", key, (long long)n, lo, hi);
	*out = (int)n;
	return 0;
}

static int
parse_hhmm(const char *s, int *min)
{
	int h, m;

	if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[3] < '0' || s[3] > '9' || s[4] < '0' || s[4] > '9')
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	*min = h * 60 + m;
	return 0;
}

int
nap_window_from_schedule(struct nap_window *w, json_object *sched, struct nap_err *err)
{
	static const char *const freqs[] = {"Daily", "Weekly", "AbsoluteMonthly", "RelativeMonthly"};
	static const enum nap_window_kind kinds[] = {NAP_WINDOW_DAILY, NAP_WINDOW_WEEKLY,
	    NAP_WINDOW_ABS_MONTHLY, NAP_WINDOW_REL_MONTHLY};
	const char *freq, *s;
	int f, hours, min;

	memset(w, 0, sizeof(*w));
	w->kind = NAP_WINDOW_ALWAYS;
	w->interval = 1;
	if (sched == NULL)
		return 0;
	if (!json_object_is_type(sched, json_type_object))
		return nap_err_set(err, NAP_EX_CONFIG, "maintenance window: not a mapping");
	freq = nap_json_str(sched, "frequency", NULL);
	if (freq == NULL)
		return nap_err_set(err, NAP_EX_CONFIG, "maintenance window: frequency is required");
	f = lookup(freqs, 4, freq);
	if (f < 0)
		return nap_err_set(err, NAP_EX_CONFIG,
		    "maintenance window: frequency \"%s\" is not Daily, Weekly, AbsoluteMonthly or "
		    "RelativeMonthly",
		    freq);
	w->kind = kinds[f];
	if (int_field(sched, "interval", 1, 366, 1, &w->interval, err) != 0 ||
	    int_field(sched, "durationHours", 4, 24, 4, &hours, err) != 0)
		return -1;
	w->duration_min = hours * 60;
	s = nap_json_str(sched, "startTime", "00:00");
	if (parse_hhmm(s, &w->start_min) != 0)
		return nap_err_set(err, NAP_EX_CONFIG,
		    "maintenance window: startTime \"%s\" is not HH:MM", s);
	s = nap_json_str(sched, "utcOffset", "+00:00");
	if ((s[0] != '+' && s[0] != '-') || parse_hhmm(s + 1, &min) != 0 || min > 14 * 60)
		return nap_err_set(err, NAP_EX_CONFIG,
		    "maintenance window: utcOffset \"%s\" is not +HH:MM or -HH:MM", s);
	w->utc_offset_min = s[0] == '-' ? -min : min;
	s = nap_json_str(sched, "startDate", NULL);
	if (s != NULL) {
		int y, m, d;

		if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
		    sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 ||
		    d > days_in_month(y, m))
			return nap_err_set(err, NAP_EX_CONFIG,
			    "maintenance window: startDate \"%s\" is not YYYY-MM-DD", s);
		w->start_day = nap_days_from_civil(y, m, d);
	}
	if (w->kind == NAP_WINDOW_WEEKLY || w->kind == NAP_WINDOW_REL_MONTHLY) {
		s = nap_json_str(sched, "dayOfWeek", NULL);
		if (s == NULL || (w->day_of_week = lookup(weekdays, 7, s)) < 0)
			return nap_err_set(err, NAP_EX_CONFIG,
			    "maintenance window: %s needs dayOfWeek (Sunday..Saturday), got \"%s\"",
			    freq, s ? s : "");
	}
	if (w->kind == NAP_WINDOW_REL_MONTHLY) {
		s = nap_json_str(sched, "weekIndex", NULL);
		if (s == NULL || (w->week_index = lookup(week_indexes, 5, s)) < 0)
			return nap_err_set(err, NAP_EX_CONFIG,
			    "maintenance window: RelativeMonthly needs weekIndex (First, Second, "
			    "Third, Fourth or Last), got \"%s\"",
			    s ? s : "");
		w->week_index++;
	}
	if (w->kind == NAP_WINDOW_ABS_MONTHLY) {
		if (nap_json_key(sched, "dayOfMonth") == NULL)
			return nap_err_set(err, NAP_EX_CONFIG,
			    "maintenance window: AbsoluteMonthly needs dayOfMonth");
		if (int_field(sched, "dayOfMonth", 1, 31, 1, &w->day_of_month, err) != 0)
			return -1;
	}
	return 0;
}

char *
nap_window_describe(const struct nap_window *w)
{
	char when[64];
	int off = w->utc_offset_min < 0 ? -w->utc_offset_min : w->utc_offset_min;

	snprintf(when, sizeof(when), "%02d:%02d%c%02d:%02d for %dh", w->start_min / 60,
	    w->start_min % 60, w->utc_offset_min < 0 ? '-' : '+', off / 60, off % 60,
	    w->duration_min / 60);
	switch (w->kind) {
	case NAP_WINDOW_ALWAYS:
		return nap_xstrdup("always open");
	case NAP_WINDOW_FIXED:
		return nap_xstrdup("the window of configmap upcoming-maintenance-window");
	case NAP_WINDOW_DAILY:
		return nap_xasprintf("every %d day(s) at %s", w->interval, when);
	case NAP_WINDOW_WEEKLY:
		return nap_xasprintf("every %d week(s) on %s at %s", w->interval,
		    weekdays[w->day_of_week], when);
	case NAP_WINDOW_ABS_MONTHLY:
		return nap_xasprintf("every %d month(s) on day %d at %s", w->interval,
		    w->day_of_month, when);
	case NAP_WINDOW_REL_MONTHLY:
		return nap_xasprintf("every %d month(s) on the %s %s at %s", w->interval,
		    week_indexes[w->week_index - 1], weekdays[w->day_of_week], when);
	}
	return nap_xstrdup("?");
}
