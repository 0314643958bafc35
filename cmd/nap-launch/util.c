/*
 * util.c - the wall clock, RFC 3339 times, NodeClaim paths and the fatal
 * error rule of nap-launch (util.h).
 */
#include <time.h>

#include "log.h"
#include "text.h"
#include "util.h"

int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
rfc3339(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *
nc_path(const char *name, const char *sub)
{
	return nap_url_path(NC_PATH, name, sub, (char *)NULL);
}

int
fatal_err(int *fatal, const struct nap_err *err)
{
	if (err->code == NAP_EX_NOPERM || err->code == NAP_EX_CONFIG ||
	    (err->code == NAP_EX_UNAVAILABLE && err->http == 0)) {
		if (!*fatal) {
			nap_log(NAP_LOG_ERROR, "%s%s", err->msg,
			    err->http == 401 ? " (the credential was refused)"
				: err->http == 403
				? " (not permitted: check the identity's role assignments)"
				: "");
			*fatal = err->code;
		}
		return 1;
	}
	return 0;
}
