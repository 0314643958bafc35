#!/bin/sh
# bench/disrupt.sh - one disruption planning run (lib/disrupt) over 2,000
# nodes, 38,200 pods and 200 PDBs, and the same at 4x, to show how it scales
# (bench/disrupt.c).  Medians of 5 runs, in ms.
# Builds against lib/libnap.a (make must have built it).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
[ -f lib/libnap.a ] || make -s lib/libnap.a
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-disrupt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# shellcheck disable=SC2046  # pkg-config's flags are words
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -iquote lib -include lib/banned.h \
	$(pkg-config --cflags json-c) -o "$tmp/b" bench/disrupt.c \
	lib/libnap.a $(pkg-config --libs json-c yaml-0.1 libcurl gnutls) -lm
"$tmp/b" 2000 200 5
"$tmp/b" 8000 800 5
