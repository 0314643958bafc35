/*
 * util.c - the wall clock, RFC 3339 times, NodeClaim paths and the fatal
 * error rule of nap-launch (util.h).
 */
#include <time.h>

#include "log.h"
#include "clock.h"
#include "text.h"
#include "util.h"

int64_t
wall_ms(void)
{
	return nap_clock_wall_ms();
}

void
rfc3339(int64_t ms, char *buf, size_t size)
{
	nap_clock_rfc3339(ms, buf, size);
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
