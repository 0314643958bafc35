#!/bin/sh
# bench/sim.sh - nap-sim's Kubernetes store under load: 1,000 nodes and
# 10,000 pods written one request at a time over one keep-alive connection
# (plain HTTP, so TLS cost is not in the figure) while 10 watchers stream
# the pods.  Reports writes/s and the fan-out latency from a write being
# sent to its event reaching a watcher (median, p99), as the median of
# $RUNS runs (default 3).  The world's scheduler and kubelets are off so the
# figure is the core's: store, resourceVersion, history and fan-out.
#   NODES=1000 PODS=10000 WATCHERS=10 RUNS=3 sh bench/sim.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${NAP_BIN:=$(cd "$here/.." && pwd)/bin}"
: "${NODES:=1000}" "${PODS:=10000}" "${WATCHERS:=10}" "${RUNS:=3}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-sim.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

${CC:-cc} -O2 -o "$tmp/sim-load" "$here/sim-load.c"

run_once() {
	: >"$tmp/ready"
	"$NAP_BIN/nap-sim" --insecure-port 0 --world scheduler=off --world kubelet=off \
	    --history 20000 >"$tmp/ready" 2>"$tmp/stderr" &
	pid=$!
	i=0
	until [ -s "$tmp/ready" ]; do
		i=$((i + 1))
		[ "$i" -lt 600 ] || { echo "nap-sim did not start" >&2; cat "$tmp/stderr" >&2; exit 1; }
		sleep 0.05
	done
	port=$(sed -n 's/.*"insecure":"http:\/\/127.0.0.1:\([0-9]*\)".*/\1/p' "$tmp/ready")
	(cd "$tmp" && ./sim-load 127.0.0.1 "$port" "$NODES" "$PODS" "$WATCHERS") >"$tmp/out.$1"
	kill "$pid"
	wait "$pid" || :
	pid=
}

r=1
while [ "$r" -le "$RUNS" ]; do
	run_once "$r"
	r=$((r + 1))
done

median() {	# key
	for f in "$tmp"/out.*; do
		sed -n "s/^$1 //p" "$f"
	done | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

echo "nap-sim store: $NODES nodes + $PODS pods, $WATCHERS pod watchers, median of $RUNS runs"
echo "  writes/s            $(median writes_per_second)"
echo "  fan-out median ms   $(median fanout_median_ms)"
echo "  fan-out p99 ms      $(median fanout_p99_ms)"
