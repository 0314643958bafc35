/*
 * clock.h - the one place nap reads the clock: wall time in milliseconds
 * (for records and deadlines other processes see), monotonic time in
 * milliseconds (for intervals within one process, immune to clock steps),
 * and the RFC 3339 form Kubernetes and ARM write.
 *
 * None of these can fail or allocate; nap_clock_rfc3339 writes into the
 * caller's buffer (NAP_CLOCK_RFC3339_LEN bytes suffice).
 */
#ifndef NAP_CLOCK_H
#define NAP_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* "2026-12-07T12:26:23Z" and its terminating NUL. */
#define NAP_CLOCK_RFC3339_LEN 21

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t nap_clock_wall_ms(void);
/* Milliseconds since an arbitrary point (CLOCK_MONOTONIC): only differences mean anything. */
int64_t nap_clock_mono_ms(void);
/*
 * ms (epoch milliseconds) as "YYYY-MM-DDTHH:MM:SSZ", whole seconds
 * (truncated), UTC, into buf of size bytes; "" when it does not fit.
 */
void nap_clock_rfc3339(int64_t ms, char *buf, size_t size);

#endif
