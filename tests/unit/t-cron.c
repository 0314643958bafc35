/*
 * t-cron.c - lib/cron: five-field schedules, macros and budget windows,
 * against worked examples (dates checked against a calendar; 2026-12-07 is
 * a Monday, 2028 a leap year).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "model.h"
#include "tap.h"

static int64_t
at(const char *iso)
{
	int64_t t = 0;

	if (nap_time_parse(iso, &t) != 0)
		printf("# bad time in test: %s\n", iso);
	return t;
}

static void
fmt(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0) {
		snprintf(buf, n, "never");
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The first fire of spec after from is want ("never" for none). */
static void
next_is(const char *spec, const char *from, const char *want)
{
	struct nap_cron c;
	struct nap_err err;
	char got[64];

	if (nap_cron_parse(&c, spec, &err) != 0) {
		TAP_OK(0, "\"%s\" after %s is %s", spec, from, want);
		printf("#   parse failed: %s\n", err.msg);
		return;
	}
	fmt(nap_cron_next(&c, at(from)), got, sizeof(got));
	if (!TAP_OK(strcmp(got, want) == 0, "\"%s\" after %s is %s", spec, from, want))
		printf("#   got %s\n", got);
}

static void
test_fields(void)
{
	next_is("*/15 * * * *", "2026-03-01T10:07:00Z", "2026-03-01T10:15:00Z");
	next_is("*/15 * * * *", "2026-03-01T10:45:00Z", "2026-03-01T11:00:00Z");
	next_is("* * * * *", "2026-03-01T10:07:59Z", "2026-03-01T10:08:00Z");
	next_is("0 9 * * 1-5", "2026-12-04T09:00:00Z", "2026-12-07T09:00:00Z");
	next_is("0 9 * * 1-5", "2026-12-07T08:59:59Z", "2026-12-07T09:00:00Z");
	next_is("10-30/10 * * * *", "2026-12-07T10:00:00Z", "2026-12-07T10:10:00Z");
	next_is("10-30/10 * * * *", "2026-12-07T10:10:00Z", "2026-12-07T10:20:00Z");
	next_is("10-30/10 * * * *", "2026-12-07T10:30:00Z", "2026-12-07T11:10:00Z");
	next_is("5/20 * * * *", "2026-12-07T10:26:00Z", "2026-12-07T10:45:00Z");
	next_is("1,2,40 3 * * *", "2026-12-07T03:02:00Z", "2026-12-07T03:40:00Z");
	next_is("0 0,12 * * *", "2026-12-07T00:00:00Z", "2026-12-07T12:00:00Z");
	next_is("59 23 31 12 *", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z");
	next_is("30 2 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T02:30:00Z");
	next_is("0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z");
	next_is("0 0 30 2 *", "2026-01-01T00:00:00Z", "never");
}

static void
test_names_and_days(void)
{
	/* Day-of-month "*": both day fields must match, Sundays of Jan or Jul. */
	next_is("0 12 * jan,JUL sun", "2026-12-07T00:00:00Z", "2027-01-03T12:00:00Z");
	next_is("0 12 * Jan-Mar Sat", "2026-12-07T00:00:00Z", "2027-01-02T12:00:00Z");
	/* Both restricted: the 13th or a Friday (Vixie cron). */
	next_is("0 0 13 * 5", "2026-12-07T00:00:00Z", "2026-12-11T00:00:00Z");
	next_is("0 0 13 * 5", "2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z");
	/* A stepped "*" is a restriction: odd days or Mondays. */
	next_is("0 0 */2 * 1", "2026-12-07T00:00:00Z", "2026-12-09T00:00:00Z");
	/* 7 is Sunday, as 0. */
	next_is("0 0 * * 7", "2026-12-07T00:00:00Z", "2026-12-13T00:00:00Z");
	next_is("0 0 * * 5-7", "2026-12-12T00:00:00Z", "2026-12-13T00:00:00Z");
	next_is("0 0 ? * mon", "2026-12-07T00:00:00Z", "2026-12-14T00:00:00Z");
}

static void
test_macros(void)
{
	next_is("@daily", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z");
	next_is("@midnight", "2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z");
	next_is("@hourly", "2026-12-07T10:00:00Z", "2026-12-07T11:00:00Z");
	next_is("@weekly", "2026-12-07T00:00:00Z", "2026-12-13T00:00:00Z");
	next_is("@monthly", "2026-12-07T00:00:00Z", "2027-01-01T00:00:00Z");
	next_is("@yearly", "2026-12-07T00:00:00Z", "2027-01-01T00:00:00Z");
	next_is("@annually", "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z");
	next_is("  @Daily ", "2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z");
}

static void
bad(const char *spec, const char *want)
{
	struct nap_cron c;
	struct nap_err err;

	if (TAP_OK(nap_cron_parse(&c, spec, &err) != 0, "\"%s\" is refused", spec))
		TAP_IS_STR(err.msg, want, "\"%s\": the message names the field", spec);
}

static void
test_errors(void)
{
	bad("60 * * * *", "minute: \"60\" out of range 0-59");
	bad("* 24 * * *", "hour: \"24\" out of range 0-23");
	bad("* * 0 * *", "day-of-month: \"0\" out of range 1-31");
	bad("* * * 13 *", "month: \"13\" out of range 1-12");
	bad("* * * * 8", "day-of-week: \"8\" out of range 0-7");
	bad("* * * *",
	    "\"* * * *\": want 5 fields (minute hour day-of-month month day-of-week), got 4");
	bad("* * * * * *",
	    "\"* * * * * *\": want 5 fields (minute hour day-of-month month day-of-week), got "
	    "more");
	bad("@every 1h", "unknown cron macro \"@every 1h\"");
	bad("a * * * *", "minute: \"a\" is not a cron field");
	bad("* * * foo *", "month: \"foo\" is not a cron field");
	bad("5-1 * * * *", "minute: \"5-1\": range ends before it starts");
	bad("*/0 * * * *", "minute: \"*/0\" is not a cron field");
	bad("1,,2 * * * *", "minute: empty list item in \"1,,2\"");
	bad("", "\"\": want 5 fields (minute hour day-of-month month day-of-week), got 0");
}

static void
active_is(const char *spec, int64_t dur_h, const char *now, int want, const char *want_until)
{
	struct nap_cron c;
	struct nap_err err;
	int64_t until = -2;
	char got[64];
	int a;

	if (nap_cron_parse(&c, spec, &err) != 0) {
		TAP_OK(0, "\"%s\" parses: %s", spec, err.msg);
		return;
	}
	a = nap_cron_active(&c, at(now) * 1000, dur_h * 3600 * 1000, &until);
	TAP_IS_INT(a, want, "\"%s\" for %lldh is %s at %s", spec, (long long)dur_h,
	    want ? "active" : "inactive", now);
	fmt(until / 1000, got, sizeof(got));
	if (!TAP_OK(strcmp(got, want_until) == 0, "\"%s\" for %lldh at %s: changes at %s", spec,
		(long long)dur_h, now, want_until))
		printf("#   got %s\n", got);
}

static void
test_windows(void)
{
	active_is("0 9 * * *", 8, "2026-12-07T12:00:00Z", 1, "2026-12-07T17:00:00Z");
	active_is("0 9 * * *", 8, "2026-12-07T09:00:00Z", 1, "2026-12-07T17:00:00Z");
	active_is("0 9 * * *", 8, "2026-12-07T17:00:00Z", 0, "2026-12-08T09:00:00Z");
	active_is("0 9 * * *", 8, "2026-12-07T08:59:59Z", 0, "2026-12-07T09:00:00Z");
	/* Mid-duration, across midnight. */
	active_is("0 22 * * *", 4, "2026-12-08T01:30:00Z", 1, "2026-12-08T02:00:00Z");
	/* A duration longer than the recurrence is always active. */
	active_is("@hourly", 2, "2026-12-07T10:30:00Z", 1, "2026-12-07T11:00:00Z");
	active_is("@hourly", 2, "2026-12-07T10:00:00Z", 1, "2026-12-07T11:00:00Z");
	/* Weekend window: Saturday 00:00 for 48h. */
	active_is("0 0 * * sat", 48, "2026-12-13T23:59:00Z", 1, "2026-12-14T00:00:00Z");
	active_is("0 0 * * sat", 48, "2026-12-14T00:00:00Z", 0, "2026-12-19T00:00:00Z");
}

/* Budgets are UTC whatever the machine's zone: TZ must not move a fire. */
static void
test_utc(void)
{
	setenv("TZ", "America/New_York", 1);
	tzset();
	next_is("0 9 * * *", "2026-03-08T08:00:00Z", "2026-03-08T09:00:00Z");
	next_is("30 2 * * *", "2026-03-08T00:00:00Z", "2026-03-08T02:30:00Z");
	unsetenv("TZ");
	tzset();
}

int
main(void)
{
	test_fields();
	test_names_and_days();
	test_macros();
	test_errors();
	test_windows();
	test_utc();
	return tap_done();
}
