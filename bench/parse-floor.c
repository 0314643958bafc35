/*
 * parse-floor.c - the floor for any json-c reader, for bench/solve.sh: read
 * NDJSON on stdin with getline, parse every line with one reused
 * json_tokener, free each object; print the seconds taken (wall), the
 * object count and the CPU seconds (the figure to compare on a loaded machine).
 * Built and run by bench/solve.sh only; not part of nap.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <json-c/json.h>

int
main(void)
{
	struct json_tokener *tok = json_tokener_new();
	struct timespec a, b, ca, cb;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long objs = 0;

	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_object *o = json_tokener_parse_ex(tok, line, (int)n);

		if (o)
			objs++;
		json_object_put(o);
		json_tokener_reset(tok);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
	printf("%.3f %lu %.3f\n", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
	    objs, (double)(cb.tv_sec - ca.tv_sec) + (double)(cb.tv_nsec - ca.tv_nsec) / 1e9);
	free(line);
	json_tokener_free(tok);
	return 0;
}
