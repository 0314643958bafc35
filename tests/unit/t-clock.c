/* Unit tests for lib/clock: RFC 3339 by hand-worked instants, and clocks that move forward. */
#include <stdlib.h>

#include "clock.h"
#include "tap.h"

int
main(void)
{
	char buf[NAP_CLOCK_RFC3339_LEN], small[10];
	int64_t w, m;

	nap_clock_rfc3339(0, buf, sizeof(buf));
	TAP_IS_STR(buf, "1970-01-01T00:00:00Z", "the epoch");
	/* 2026-12-07 is day 20794 since the epoch: 20794 * 86400 = 1796601600 */
	nap_clock_rfc3339(
	    1796601600LL * 1000 + 12 * 3600000 + 26 * 60000 + 23999, buf, sizeof(buf));
	TAP_IS_STR(buf, "2026-12-07T12:26:23Z", "milliseconds are truncated, not rounded");
	nap_clock_rfc3339(-1, buf, sizeof(buf));
	TAP_IS_STR(
	    buf, "1969-12-31T23:59:59Z", "a millisecond before the epoch is the second before");
	nap_clock_rfc3339(0, small, sizeof(small));
	TAP_IS_STR(small, "", "a buffer too small gets an empty string, not half a time");

	w = nap_clock_wall_ms();
	TAP_OK(w > 1796601600LL * 1000 - 365LL * 86400 * 1000 * 10, "wall clock is in this era");
	m = nap_clock_mono_ms();
	TAP_OK(nap_clock_mono_ms() >= m, "monotonic clock does not go back");
	return tap_done();
}
