#include "util.h"

#include <stdio.h>
#include <stdlib.h>

#include "nap.h"

char *
test_slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, alloc = 0, n;

	if (f == NULL)
		return NULL;
	for (;;) {
		nap_xgrow(&buf, &alloc, len + 4096, 1);
		n = fread(buf + len, 1, alloc - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

const char *
test_shared(void)
{
	const char *s = getenv("NAP_SHARED");

	return s != NULL && *s != '\0' ? s : "../shared";
}
