/*
 * cron.c - five-field cron schedules in UTC (see cron.h).
 *
 * Times are broken down with integer civil-calendar arithmetic (days from
 * 1970-01-01 to year/month/day and back), not gmtime/timegm, so nothing
 * depends on the process's time zone or locale.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"

struct field {
	const char *name;
	int lo, hi;
	const char *const *names; /* names[i] stands for lo + i, or NULL */
};

static const char *const month_names[] = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

/* Day of week accepts 7 (Sunday again); it is folded onto 0 after parsing. */
static const struct field fields[5] = {
    {"minute", 0, 59, NULL},
    {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},
    {"month", 1, 12, month_names},
    {"day-of-week", 0, 7, dow_names},
};

static const struct {
	const char *name, *spec;
} macros[] = {
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* A number or (for fields with names) a three-letter name; end past it. */
static int
value(const struct field *f, const char *s, const char **end, int *out)
{
	if (isdigit((unsigned char)*s)) {
		long v = 0;

		while (isdigit((unsigned char)*s) && v <= 1000)
			v = v * 10 + (*s++ - '0');
		*end = s;
		*out = (int)v;
		return 0;
	}
	if (f->names != NULL) {
		int i;

		for (i = 0; f->names[i] != NULL; i++)
			if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
				*end = s + 3;
				*out = f->lo + i;
				return 0;
			}
	}
	return -1;
}

/* One comma-separated item of a field, "*", "N", "N-M", each with "/step". */
static int
item(const struct field *f, const char *s, size_t len, uint64_t *bits, int *star,
    struct nap_err *err)
{
	char buf[64];
	const char *p, *e;
	int a, b, step = 1, v, whole = 0;

	if (len >= sizeof(buf))
		return nap_err_set(
		    err, NAP_EX_DATAERR, "%s: \"%.*s\" too long", f->name, (int)len, s);
	memcpy(buf, s, len);
	buf[len] = '\0';
	p = buf;
	if (*p == '*' || *p == '?') {
		a = f->lo;
		b = f->hi == 7 ? 6 : f->hi;
		whole = 1;
		p++;
	} else {
		if (value(f, p, &e, &a) != 0)
			goto bad;
		p = e;
		b = a;
		if (*p == '-') {
			if (value(f, p + 1, &e, &b) != 0)
				goto bad;
			p = e;
		}
	}
	if (*p == '/') {
		if (!isdigit((unsigned char)p[1]) || value(f, p + 1, &e, &step) != 0 || step < 1)
			goto bad;
		p = e;
		/* "N/step" runs from N to the end of the range. */
		if (!whole && b == a && strchr(buf, '-') == NULL)
			b = f->hi == 7 ? 6 : f->hi;
	}
	if (*p != '\0')
		goto bad;
	if (a < f->lo || a > f->hi || b < f->lo || b > f->hi)
		return nap_err_set(err, NAP_EX_DATAERR, "%s: \"%s\" out of range %d-%d", f->name,
		    buf, f->lo, f->hi);
	if (b < a)
		return nap_err_set(
		    err, NAP_EX_DATAERR, "%s: \"%s\": range ends before it starts", f->name, buf);
	if (whole && step == 1)
		*star = 1;
	for (v = a; v <= b; v += step)
		*bits |= UINT64_C(1) << (v == 7 && f->hi == 7 ? 0 : v);
	return 0;
bad:
	return nap_err_set(err, NAP_EX_DATAERR, "%s: \"%s\" is not a cron field", f->name, buf);
}

static int
field(const struct field *f, const char *s, size_t len, uint64_t *bits, int *star,
    struct nap_err *err)
{
	size_t i = 0;

	*bits = 0;
	*star = 0;
	while (i <= len) {
		size_t j = i;

		while (j < len && s[j] != ',')
			j++;
		if (j == i)
			return nap_err_set(err, NAP_EX_DATAERR, "%s: empty list item in \"%.*s\"",
			    f->name, (int)len, s);
		if (item(f, s + i, j - i, bits, star, err) != 0)
			return -1;
		i = j + 1;
	}
	return 0;
}

int
nap_cron_parse(struct nap_cron *c, const char *spec, struct nap_err *err)
{
	const char *p = spec;
	uint64_t bits[5];
	int star[5];
	size_t i, k;

	memset(c, 0, sizeof(*c));
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '@') {
		size_t n = strcspn(p, " \t\r\n");

		for (i = 0; i < NAP_ARRAY_LEN(macros); i++)
			if (strlen(macros[i].name) == n && strncasecmp(p, macros[i].name, n) == 0)
				break;
		if (i == NAP_ARRAY_LEN(macros) || p[n + strspn(p + n, " \t\r\n")] != '\0')
			return nap_err_set(err, NAP_EX_DATAERR, "unknown cron macro \"%s\"", spec);
		return nap_cron_parse(c, macros[i].spec, err);
	}
	for (k = 0; k < 5; k++) {
		size_t n = strcspn(p, " \t\r\n");

		if (n == 0)
			return nap_err_set(err, NAP_EX_DATAERR,
			    "\"%s\": want 5 fields (minute hour day-of-month month day-of-week), "
			    "got %zu",
			    spec, k);
		if (field(&fields[k], p, n, &bits[k], &star[k], err) != 0)
			return -1;
		p += n;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (*p != '\0')
		return nap_err_set(err, NAP_EX_DATAERR,
		    "\"%s\": want 5 fields (minute hour day-of-month month day-of-week), got more",
		    spec);
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint16_t)bits[3];
	c->dow = (uint8_t)bits[4];
	c->dom_star = star[2];
	c->dow_star = star[4];
	return 0;
}

/* ---- civil calendar (proleptic Gregorian, UTC) ---- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Days since 1970-01-01 of y-m-d (m 1..12). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
day_matches(const struct nap_cron *c, int64_t days, int dom)
{
	/* 1970-01-01 was a Thursday (4). */
	int dow = (int)(((days % 7) + 11) % 7);
	int dm = (c->dom >> dom) & 1, wm = (c->dow >> dow) & 1;

	if (c->dom_star || c->dow_star)
		return dm && wm;
	return dm || wm;
}

int64_t
nap_cron_next(const struct nap_cron *c, int64_t t)
{
	int64_t days, limit, y;
	int m, d, mi = -1, h;

	if (c->minute == 0 || c->hour == 0 || c->month == 0 || (c->dom == 0 && c->dow == 0))
		return -1;
	/* The next whole minute after t. */
	t = floor_div(t, 60) * 60 + 60;
	days = floor_div(t, 86400);
	limit = days + 8 * 366;
	h = (int)((t - days * 86400) / 3600);
	mi = (int)((t - days * 86400) % 3600 / 60);
	for (; days <= limit; days++, h = 0, mi = 0) {
		civil_from_days(days, &y, &m, &d);
		if (!((c->month >> m) & 1)) {
			/* Skip to the first of next month. */
			days = days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1;
			continue;
		}
		if (!day_matches(c, days, d))
			continue;
		for (; h < 24; h++, mi = 0) {
			if (!((c->hour >> h) & 1))
				continue;
			for (; mi < 60; mi++)
				if ((c->minute >> mi) & 1)
					return days * 86400 + h * 3600 + mi * 60;
		}
	}
	return -1;
}

int
nap_cron_active(const struct nap_cron *c, int64_t now_ms, int64_t duration_ms, int64_t *until_ms)
{
	/*
	 * Fires are whole minutes, so the first fire after the second
	 * holding now - duration is also the first after the instant.
	 */
	int64_t fire = nap_cron_next(c, floor_div(now_ms - duration_ms, 1000));

	if (fire >= 0 && fire * 1000 <= now_ms) {
		if (until_ms)
			*until_ms = fire * 1000 + duration_ms;
		return 1;
	}
	if (until_ms)
		*until_ms = fire >= 0 ? fire * 1000 : 0;
	return 0;
}
