#!/bin/sh
# bench/disrupt-consol.sh - one consolidation decision pass (emptiness,
# multi-node, single-node) over a fragmented 2,000-node / 40,000-pod fleet
# (bench/disrupt-consol.c): wall time, simulations, saving, the fleet's
# ratio to the whole-pod LP bound before and after, peak RSS.  Medians of 3.
# Then single-node's worst case, a packed 500-node fleet where it walks
# every candidate (one run: the time per simulation is the figure).  Last,
# a fleet half emptied by a scale-down, consolidated until nothing is left
# to do.
# Builds against lib/libnap.a (make must have built it).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
[ -f lib/libnap.a ] || make -s lib/libnap.a
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-consol.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# shellcheck disable=SC2046  # pkg-config's flags are words
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -iquote lib -include lib/banned.h \
	$(pkg-config --cflags json-c) -o "$tmp/b" bench/disrupt-consol.c \
	lib/libnap.a $(pkg-config --libs json-c yaml-0.1 libcurl gnutls) -lm
"$tmp/b" data/catalog.tsv 2000 3
"$tmp/b" data/catalog.tsv 500 1 28
# The issue's figure offline: 100 nodes half emptied by a scale-down,
# consolidated pass after pass (each command carried out at once) until a
# pass makes none; the fleet against the whole-pod bound then.
"$tmp/b" data/catalog.tsv 100 1 20 converge
