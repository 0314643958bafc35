#!/bin/sh
# bench/e2e.sh - the whole provision loop on PODS pending pods (default 5,000)
# of the mixed workload (tests/fixtures/e2e/), against nap-sim at clock x$SCALE,
# through pipelines/nap-demo --quiet.  Per run: real seconds from the first
# pending pod to all Running, the part beyond one simulated VM boot (90 s
# simulated, 90/SCALE real: what the loop itself adds), new nodes, the fleet's
# $/h, the LP lower bound (nap-demo's: cheapest fractional cover of the pods'
# CPU, memory and pod count by the sizes their NodePools allow) and the ratio.
# Then the medians of $RUNS runs (default 3).  LOGS=dir keeps each run's
# logs (nap-demo --log-dir) in dir/run<i>, to see where the time went.
#   PODS=5000 RUNS=3 SCALE=100 sh bench/e2e.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
: "${NAP_BIN:=$repo/bin}" "${PODS:=5000}" "${RUNS:=3}" "${SCALE:=100}" "${TIMEOUT:=300}"
: "${LOGS:=}"
export NAP_BIN
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-e2e.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

median() { sort -n | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

printf '%-4s %6s %6s %8s %7s %6s %9s %9s %6s  %s\n' run pods scale seconds beyond nodes \
    '$/h' 'LP$/h' xLP status
i=1
while [ "$i" -le "$RUNS" ]; do
	st=0
	set --
	[ -n "$LOGS" ] && set -- --log-dir "$LOGS/run$i"
	"$repo/pipelines/nap-demo" --quiet --pods "$PODS" --time-scale "$SCALE" \
	    --timeout "$TIMEOUT" --summary-json "$tmp/run$i.json" "$@" >"$tmp/out$i" 2>&1 || st=$?
	if [ -s "$tmp/run$i.json" ]; then
		jq -r --arg i "$i" --arg st "$st" '
			def f(n): . * pow(10; n) | round / pow(10; n);
			[$i, .pods, .timeScale,
			 (if .seconds == null then "-" else .seconds end),
			 (if .seconds == null then "-" else (.seconds - .bootSeconds / .timeScale | f(1)) end),
			 .nodes, (.fleet | f(3)), (.lp | f(3)),
			 (if .lp > 0 then (.fleet / .lp | f(3)) else "-" end),
			 (if $st == "0" then "ok" else "exit \($st), \(.stuck) pods not Running" end)]
			| @tsv' "$tmp/run$i.json" |
		    awk -F'\t' '{ printf "%-4s %6s %6s %8s %7s %6s %9s %9s %6s  %s\n",
			$1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'
	else
		echo "run $i: nap-demo failed (status $st):"
		tail -5 "$tmp/out$i"
	fi
	i=$((i + 1))
done

# Medians over the runs that reached all Running: the others have no time
# and an unfinished fleet.
for f in "$tmp"/run*.json; do
	[ -s "$f" ] || continue
	jq -r 'select(.seconds != null and .stuck == 0) | [.seconds,
	    .seconds - .bootSeconds / .timeScale, .fleet, .lp,
	    (if .lp > 0 then .fleet / .lp else 0 end)] | @tsv' "$f"
done >"$tmp/all"
if [ -s "$tmp/all" ]; then
	awk -F'\t' -v n="$(wc -l <"$tmp/all")" \
	    -v t="$(cut -f1 "$tmp/all" | median)" -v b="$(cut -f2 "$tmp/all" | median)" \
	    -v c="$(cut -f3 "$tmp/all" | median)" -v l="$(cut -f4 "$tmp/all" | median)" \
	    -v x="$(cut -f5 "$tmp/all" | median)" 'BEGIN {
		printf "median of %d: %.1f s to all Running (%.1f s beyond the boot), " \
		    "fleet %.3f $/h, LP bound %.3f $/h, x%.3f\n", n, t, b, c, l, x }'
else
	echo "no run reached all Running"
	exit 1
fi
