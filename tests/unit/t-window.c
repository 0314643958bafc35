/*
 * Unit tests for lib/window: civil dates, the ConfigMap's fixed window and
 * its fail-open rules, and the recurring schedules, against hand-worked
 * dates (December 2026: the 6th is a Sunday, the 25th the last Friday).
 */
#include "window.h"
#include "tap.h"

#include <stdlib.h>

#define S(x) ((int64_t)(x) * 1000)

/* 2026-12-06T02:00:00Z and friends, seconds (date -u -d ... +%s). */
#define SUN_0200 INT64_C(1796522400)
#define SUN_0600 INT64_C(1796536800)
#define MON_1200 INT64_C(1796644800)
#define NEXT_SUN_0200 INT64_C(1797127200)
#define SUN20_0200 INT64_C(1797732000)
#define SAT_1930 INT64_C(1796499000)
#define FRI25_0200 INT64_C(1798164000)
#define DEC31_0200 INT64_C(1798682400)

static json_object *
J(const char *s)
{
	return json_tokener_parse(s);
}

static int
sched(struct nap_window *w, const char *s)
{
	json_object *o = J(s);
	struct nap_err err = {0};
	int rc = nap_window_from_schedule(w, o, &err);

	if (rc != 0)
		printf("# %s\n", err.msg);
	json_object_put(o);
	return rc;
}

static void
dates(void)
{
	int y, m, d;

	TAP_IS_INT(nap_days_from_civil(1970, 1, 1), 0, "1970-01-01 is day 0");
	TAP_IS_INT(nap_days_from_civil(2000, 3, 1), 11017, "2000-03-01 is day 11017 (a leap century)");
	TAP_IS_INT(nap_days_from_civil(2026, 12, 7), 20794, "2026-12-07 is day 20794");
	TAP_IS_INT(nap_days_from_civil(1600, 2, 29), -135081, "1600-02-29 is day -135081");
	nap_civil_from_days(-135081, &y, &m, &d);
	TAP_OK(y == 1600 && m == 2 && d == 29, "and back: %d-%d-%d", y, m, d);
	nap_civil_from_days(20794, &y, &m, &d);
	TAP_OK(y == 2026 && m == 12 && d == 7, "day 20794 is 2026-12-07: %d-%d-%d", y, m, d);
	TAP_IS_INT(nap_weekday(0), 4, "1970-01-01 was a Thursday");
	TAP_IS_INT(nap_weekday(20794), 1, "2026-12-07 is a Monday");
	TAP_IS_INT(nap_weekday(-1), 3, "1969-12-31 was a Wednesday");
}

static void
configmap(void)
{
	struct nap_window w;
	struct nap_err err = {0};
	json_object *o;

	TAP_IS_INT(nap_window_from_configmap(&w, NULL, &err), 0, "no ConfigMap is not an error");
	TAP_OK(w.kind == NAP_WINDOW_ALWAYS && nap_window_open(&w, S(MON_1200)),
	    "no ConfigMap: always open (fail open)");
	o = J("{}");
	TAP_OK(nap_window_from_configmap(&w, o, &err) == 0 && nap_window_open(&w, S(MON_1200)),
	    "empty data: always open");
	json_object_put(o);
	o = J("{\"aksManagedNodeOSUpgradeSchedule-start\":\"2026-12-06T02:00:00Z\","
	      "\"aksManagedNodeOSUpgradeSchedule-end\":\"2026-12-06T06:00:00Z\"}");
	TAP_IS_INT(nap_window_from_configmap(&w, o, &err), 0, "both keys: a fixed window");
	TAP_OK(nap_window_open(&w, S(SUN_0200)), "open at its start");
	TAP_OK(!nap_window_open(&w, S(SUN_0600)), "closed at its end (end is exclusive)");
	TAP_OK(!nap_window_open(&w, S(SUN_0200 - 1)), "closed a second before");
	TAP_IS_INT(nap_window_next(&w, S(SUN_0200 - 3600), NULL), S(SUN_0200),
	    "before it, the next window is its start");
	TAP_IS_INT(nap_window_next(&w, S(MON_1200), NULL), -1, "after it, there is no next window");
	json_object_put(o);
	o = J("{\"aksManagedNodeOSUpgradeSchedule-start\":\"2026-12-06T02:00:00Z\"}");
	TAP_IS_INT(nap_window_from_configmap(&w, o, &err), -1, "a start without an end is an error");
	TAP_OK(strstr(err.msg, "-start without") != NULL, "naming the key: %s", err.msg);
	json_object_put(o);
	o = J("{\"aksManagedNodeOSUpgradeSchedule-end\":\"2026-12-06T02:00:00Z\"}");
	TAP_IS_INT(nap_window_from_configmap(&w, o, &err), -1, "an end without a start too");
	json_object_put(o);
	o = J("{\"aksManagedNodeOSUpgradeSchedule-start\":\"Sunday\","
	      "\"aksManagedNodeOSUpgradeSchedule-end\":\"2026-12-06T06:00:00Z\"}");
	TAP_IS_INT(nap_window_from_configmap(&w, o, &err), -1, "a start that is no time is an error");
	json_object_put(o);
	o = J("{\"aksManagedNodeOSUpgradeSchedule-start\":\"2026-12-06T06:00:00Z\","
	      "\"aksManagedNodeOSUpgradeSchedule-end\":\"2026-12-06T02:00:00Z\"}");
	TAP_IS_INT(nap_window_from_configmap(&w, o, &err), -1, "an end before the start is an error");
	json_object_put(o);
}

static void
weekly(void)
{
	struct nap_window w;
	int64_t end = 0;

	TAP_IS_INT(sched(&w, "{\"frequency\":\"Weekly\",\"dayOfWeek\":\"Sunday\","
			     "\"startTime\":\"02:00\",\"durationHours\":4}"),
	    0, "weekly on Sunday 02:00 for 4h parses");
	TAP_OK(nap_window_open(&w, S(SUN_0200)), "open on Sunday 02:00Z");
	TAP_OK(nap_window_open(&w, S(SUN_0600 - 1)), "open at 05:59:59");
	TAP_OK(!nap_window_open(&w, S(SUN_0600)), "closed at 06:00");
	TAP_OK(!nap_window_open(&w, S(MON_1200)), "closed on Monday");
	TAP_IS_INT(nap_window_next(&w, S(MON_1200), &end), S(NEXT_SUN_0200),
	    "from Monday the next window is the next Sunday 02:00Z");
	TAP_IS_INT(end, S(NEXT_SUN_0200 + 4 * 3600), "and it ends 4 hours later");
	TAP_IS_INT(nap_window_next(&w, S(SUN_0200 + 60), NULL), S(SUN_0200),
	    "inside a window, next gives the window's own start");

	TAP_IS_INT(sched(&w, "{\"frequency\":\"Weekly\",\"dayOfWeek\":\"Sunday\","
			     "\"startTime\":\"01:00\",\"utcOffset\":\"+05:30\"}"),
	    0, "Sunday 01:00 at +05:30 parses");
	TAP_OK(nap_window_open(&w, S(SAT_1930)), "which is Saturday 19:30Z");
	TAP_OK(!nap_window_open(&w, S(SUN_0200)), "and is over by Sunday 02:00Z (23:30Z end)");

	TAP_IS_INT(sched(&w, "{\"frequency\":\"Weekly\",\"interval\":2,\"dayOfWeek\":\"Sunday\","
			     "\"startTime\":\"02:00\",\"startDate\":\"2026-12-06\"}"),
	    0, "every second week from 2026-12-06");
	TAP_IS_INT(nap_window_next(&w, S(MON_1200), NULL), S(SUN20_0200),
	    "skips the 13th: next is Sunday the 20th");
	TAP_OK(!nap_window_open(&w, S(NEXT_SUN_0200)), "closed on the 13th");
}

static void
others(void)
{
	struct nap_window w;

	TAP_IS_INT(sched(&w, "{\"frequency\":\"Daily\",\"startTime\":\"22:00\",\"durationHours\":4}"),
	    0, "daily 22:00 for 4h");
	TAP_OK(nap_window_open(&w, S(SUN_0200 - 3600)), "open at 01:00 the next day (across midnight)");
	TAP_OK(!nap_window_open(&w, S(SUN_0200)), "closed at 02:00");

	TAP_IS_INT(sched(&w, "{\"frequency\":\"RelativeMonthly\",\"weekIndex\":\"Last\","
			     "\"dayOfWeek\":\"Friday\",\"startTime\":\"02:00\"}"),
	    0, "the last Friday of each month");
	TAP_IS_INT(nap_window_next(&w, S(MON_1200), NULL), S(FRI25_0200),
	    "in December 2026 that is the 25th");
	TAP_IS_INT(sched(&w, "{\"frequency\":\"RelativeMonthly\",\"weekIndex\":\"First\","
			     "\"dayOfWeek\":\"Monday\",\"startTime\":\"10:00\"}"),
	    0, "the first Monday");
	TAP_OK(nap_window_open(&w, S(MON_1200)), "is 2026-12-07, open at noon");

	TAP_IS_INT(sched(&w, "{\"frequency\":\"AbsoluteMonthly\",\"dayOfMonth\":31,"
			     "\"startTime\":\"02:00\"}"),
	    0, "day 31 of each month");
	TAP_IS_INT(nap_window_next(&w, S(MON_1200 - 20 * 86400), NULL), S(DEC31_0200),
	    "November has no 31st: from mid-November the next is 31 December");
}

static void
errors(void)
{
	struct nap_window w;

	TAP_IS_INT(sched(&w, "{\"frequency\":\"Weekly\",\"startTime\":\"02:00\"}"), -1,
	    "weekly without dayOfWeek is an error");
	TAP_IS_INT(sched(&w, "{\"frequency\":\"Weekly\",\"dayOfWeek\":\"Sun\"}"), -1,
	    "a dayOfWeek that is not a day's full name is an error");
	TAP_IS_INT(sched(&w, "{\"frequency\":\"Daily\",\"durationHours\":3}"), -1,
	    "durationHours below 4 is an error (AKS's minimum)");
	TAP_IS_INT(sched(&w, "{\"frequency\":\"Daily\",\"startTime\":\"24:00\"}"), -1,
	    "startTime 24:00 is an error");
	TAP_IS_INT(sched(&w, "{\"frequency\":\"Hourly\"}"), -1, "an unknown frequency is an error");
	TAP_IS_INT(sched(&w, "{\"frequency\":\"AbsoluteMonthly\"}"), -1,
	    "AbsoluteMonthly without dayOfMonth is an error");
	TAP_IS_INT(sched(&w, "{\"frequency\":\"Daily\",\"utcOffset\":\"5:30\"}"), -1,
	    "a utcOffset without its sign is an error");
	TAP_IS_INT(sched(&w, "{\"frequency\":\"Daily\",\"startDate\":\"2026-02-30\"}"), -1,
	    "a startDate that does not exist is an error");
	TAP_IS_INT(nap_window_from_schedule(&w, NULL, NULL), 0, "no schedule is always open");
	TAP_OK(nap_window_open(&w, 0), "(open)");
}

static void
describe(void)
{
	struct nap_window w;
	char *s;

	sched(&w, "{\"frequency\":\"Weekly\",\"dayOfWeek\":\"sunday\",\"startTime\":\"02:00\","
		  "\"utcOffset\":\"-08:00\",\"durationHours\":6}");
	s = nap_window_describe(&w);
	TAP_IS_STR(s, "every 1 week(s) on Sunday at 02:00-08:00 for 6h", "described in one line");
	free(s);
}

int
main(void)
{
	dates();
	configmap();
	weekly();
	others();
	errors();
	describe();
	return tap_done();
}
