/*
 * clock.c - wall and monotonic milliseconds, and RFC 3339 timestamps.
 */
#include <time.h>

#include "clock.h"

static int64_t
ms_of(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
nap_clock_wall_ms(void)
{
	return ms_of(CLOCK_REALTIME);
}

int64_t
nap_clock_mono_ms(void)
{
	return ms_of(CLOCK_MONOTONIC);
}

void
nap_clock_rfc3339(int64_t ms, char *buf, size_t size)
{
	/* floor, so that a time before the epoch is not rounded towards it */
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
	struct tm tm;

	if (size == 0)
		return;
	buf[0] = '\0';
	if (gmtime_r(&t, &tm) == NULL)
		return;
	if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
}
