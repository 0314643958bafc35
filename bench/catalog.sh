#!/bin/sh
# bench/catalog.sh - how long loading one region of data/catalog.tsv takes
# (the solver does it on every run), and building every type's label
# requirements on top.  Median and max of 10 runs per region, in ms.
# Builds a small timing program against lib/libnap.a (make must have built it).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
[ -f lib/libnap.a ] || make -s lib/libnap.a
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-catalog.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

cat > "$tmp/b.c" <<'CEOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "catalog.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	double load[10], reqs[10], t;
	struct nap_catalog *c;
	struct nap_err err;
	size_t i, k, n = 0;

	for (k = 0; k < 10; k++) {
		t = now_ms();
		if (nap_catalog_load(&c, argv[1], argv[2], NULL, &err) < 0) {
			fprintf(stderr, "bench: %s\n", err.msg);
			return 1;
		}
		load[k] = now_ms() - t;
		t = now_ms();
		for (i = 0; i < c->ntypes; i++) {
			struct nap_reqs r;

			nap_reqs_init(&r);
			nap_itype_reqs(&c->types[i], c, &r);
			nap_reqs_free(&r);
		}
		reqs[k] = now_ms() - t;
		n = c->ntypes;
		nap_catalog_free(c);
	}
	qsort(load, 10, sizeof(double), cmp);
	qsort(reqs, 10, sizeof(double), cmp);
	printf("catalog load %-12s %4zu types: median %.2f ms (max %.2f); labels of all types: median %.2f ms\n",
	       argv[2], n, (load[4] + load[5]) / 2, load[9], (reqs[4] + reqs[5]) / 2);
	(void)argc;
	return 0;
}
CEOF
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -Ilib $(pkg-config --cflags json-c) -o "$tmp/b" "$tmp/b.c" \
	lib/libnap.a $(pkg-config --libs json-c yaml-0.1 libcurl) -lm
ls -l data/catalog.tsv | awk '{printf "catalog file: %d bytes\n", $5}'
for r in eastus westus2 westeurope; do
	"$tmp/b" data/catalog.tsv "$r"
done
