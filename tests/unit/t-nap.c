#include "nap.h"
#include "tap.h"

#include <stdlib.h>

int
main(void)
{
	struct nap_err err;
	char *s;
	int *v = NULL;
	size_t alloc = 0;

	TAP_IS_INT(
	    nap_err_set(&err, NAP_EX_DATAERR, "pod %s: bad", "a/b"), -1, "nap_err_set returns -1");
	TAP_IS_INT(err.code, NAP_EX_DATAERR, "nap_err_set records the exit code");
	TAP_IS_STR(err.msg, "pod a/b: bad", "nap_err_set formats the message");
	nap_err_prefix(&err, "line %d", 3);
	TAP_IS_STR(err.msg, "line 3: pod a/b: bad", "nap_err_prefix adds context in front");
	TAP_IS_INT(nap_err_set(NULL, 1, "x"), -1, "a NULL err is allowed");
	s = nap_xasprintf("%s-%d", "aks", 7);
	TAP_IS_STR(s, "aks-7", "nap_xasprintf formats");
	free(s);
	nap_xgrow(&v, &alloc, 100, sizeof(*v));
	TAP_OK(alloc >= 100 && v != NULL, "nap_xgrow grows to at least n");
	v[99] = 1;
	free(v);
	return tap_done();
}
