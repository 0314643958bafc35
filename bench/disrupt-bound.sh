#!/bin/sh
# bench/disrupt-bound.sh - what the whole-pod LP bound in nap-disrupt's live
# Disruption records and metrics costs (bench/disrupt-bound.c) on the
# 2,000-node / 40,000-pod fleet of bench/disrupt-consol.c: a cold solve, a
# call with nothing changed, a call with the same pods.  Medians of 3.
# Builds against lib/libnap.a (make must have built it).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
[ -f lib/libnap.a ] || make -s lib/libnap.a
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-bound.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# shellcheck disable=SC2046  # pkg-config's flags are words
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -iquote lib -iquote bench -include lib/banned.h \
	$(pkg-config --cflags json-c) -o "$tmp/b" bench/disrupt-bound.c \
	lib/libnap.a $(pkg-config --libs json-c yaml-0.1 libcurl gnutls) -lm
"$tmp/b" data/catalog.tsv 2000 3
