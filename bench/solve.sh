#!/bin/sh
# bench/solve.sh - nap-solve on Karpenter's "diverse" pod mix (bench/gen-diverse.c)
# at 1k, 5k, 20k and 50k pending pods, on an empty cluster and on 2,000
# existing nodes running 40,000 pods, against the full eastus catalog; and
# the generic-only mix on an empty cluster for the cost figure.
# Per row: snapshot size, the json-c parse floor (bench/parse-floor.c: every
# line parsed, nothing else), nap-solve's wall time, its ratio to the floor,
# the same two in CPU seconds (user + system; what to compare when the
# machine is loaded and wall times stretch),
# microseconds per pending pod, peak RSS, new nodes, their $/h, the LP lower
# bound for the pods put on new nodes (bench/lp-bound.c: cheapest fractional
# cover of their CPU, memory and pod count, lib/bound's aggregate bound) and
# the ratio; then the tighter bound that keeps each pod whole (lp-bound --fit,
# solved by glpsol: pods of each request only on sizes they fit; lp-bound
# --whole is lib/bound's own solution of it) and the ratio to it.  Rows use nap-solve's default tiered packing;
# "+karpenter" rows run Karpenter's greedy growth (--packing karpenter, see
# nap-solve(1)).  Times and RSS are medians of $RUNS runs (default 3).
#   SIZES="1000 5000 20000 50000" RUNS=3 sh bench/solve.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
: "${NAP_BIN:=$repo/bin}"
: "${SIZES:=1000 5000 20000 50000}" "${RUNS:=3}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-solve.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

CC=${CC:-cc}
$CC -O2 -o "$tmp/gen" "$here/gen-diverse.c"
$CC -O2 -o "$tmp/floor" "$here/parse-floor.c" $(pkg-config --cflags --libs json-c)
$CC -O2 -D_GNU_SOURCE -I"$repo/lib" -include "$repo/lib/banned.h" -o "$tmp/lp" "$here/lp-bound.c" \
	"$repo/lib/libnap.a" $(pkg-config --cflags --libs json-c yaml-0.1 libcurl) -lm

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

printf '%-17s %7s %12s %4s %7s %6s %6s %6s %6s %6s %7s %6s %6s %9s %9s %6s %9s %6s\n' mix pending cluster MB \
	floor_s wall_s xfloor fcpu_s cpu_s xfcpu us/pod RSS_MB nodes '$/h' 'LP$/h' xLP 'fitLP$/h' xfit
row() {	# mix pending nodes running [nap-solve flags]
	"$tmp/gen" "$2" "$3" "$4" "${1%+*}" >"$tmp/snap"
	mb=$(du -m "$tmp/snap" | cut -f1)
	: >"$tmp/floor.t"
	: >"$tmp/wall.t"
	: >"$tmp/rss.t"
	: >"$tmp/fcpu.t"
	: >"$tmp/cpu.t"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		"$tmp/floor" <"$tmp/snap" >"$tmp/floor.o"
		cut -d' ' -f1 "$tmp/floor.o" >>"$tmp/floor.t"
		cut -d' ' -f3 "$tmp/floor.o" >>"$tmp/fcpu.t"
		/usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$NAP_BIN/nap-solve" --config /dev/null \
			--region eastus --catalog "$repo/data" ${5:-} <"$tmp/snap" >"$tmp/out"
		cut -d' ' -f1 "$tmp/time" >>"$tmp/wall.t"
		cut -d' ' -f2 "$tmp/time" >>"$tmp/rss.t"
		awk '{print $3 + $4}' "$tmp/time" >>"$tmp/cpu.t"
		i=$((i + 1))
	done
	floor=$(median <"$tmp/floor.t")
	wall=$(median <"$tmp/wall.t")
	rss=$(median <"$tmp/rss.t")
	fcpu=$(median <"$tmp/fcpu.t")
	cpusec=$(median <"$tmp/cpu.t")
	# streamed, not slurped: the output of a large run is hundreds of MB
	jq -n -r '
		def cpu: if endswith("m") then .[:-1] | tonumber else tonumber * 1000 end;
		def mem: capture("^(?<n>[0-9.]+)(?<u>[A-Za-z]*)$")
			| (.n | tonumber) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
			  "Ki": 1024, "Mi": 1048576, "Gi": 1073741824, "Ti": 1099511627776}[.u];
		reduce (inputs | select(.type == "LaunchRequest")) as $l ([0, 0, 0, 0, 0];
			[.[0] + 1, .[1] + $l.price,
			 .[2] + ($l.nodeClaim.spec.resources.requests.cpu | cpu),
			 .[3] + ($l.nodeClaim.spec.resources.requests.memory | mem),
			 .[4] + ($l.pods | length)]) | @tsv' "$tmp/out" >"$tmp/sum"
	jq -r 'select(.type == "LaunchRequest") | .pods[]' "$tmp/out" >"$tmp/newpods"
	read -r nodes cost cpu mem pods <"$tmp/sum"
	fit=0
	if [ "$nodes" -gt 0 ]; then
		lp=$("$tmp/lp" "$repo/data" eastus "$cpu" "$mem" "$pods")
		if command -v glpsol >/dev/null; then
			# the requests of the pods put on new nodes, one line each
			jq -r -n --rawfile new "$tmp/newpods" '
				def cpu: if endswith("m") then .[:-1] | tonumber else tonumber * 1000 end;
				def mem: capture("^(?<n>[0-9.]+)(?<u>[A-Za-z]*)$")
					| (.n | tonumber) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9,
					  "Ki": 1024, "Mi": 1048576, "Gi": 1073741824}[.u];
				($new | split("\n") | map(select(. != "") | {key: ., value: 1})
				 | from_entries) as $new
				| inputs | .object | select(.kind == "Pod")
				| select($new[.metadata.namespace + "/" + .metadata.name])
				| [([.spec.containers[].resources.requests.cpu // "0" | cpu] | add),
				   ([.spec.containers[].resources.requests.memory // "0" | mem] | add)]
				| @tsv' "$tmp/snap" | "$tmp/lp" --fit "$repo/data" eastus >"$tmp/fit.lp"
			glpsol --lp "$tmp/fit.lp" -o "$tmp/fit.out" >/dev/null &&
			    fit=$(awk '/^Objective:/ {print $4}' "$tmp/fit.out")
		fi
	else
		lp=0
	fi
	cluster=none
	[ "$3" -gt 0 ] && cluster="${3}n/${4}p"
	awk -v mix="$1" -v n="$2" -v c="$cluster" -v mb="$mb" -v f="$floor" -v w="$wall" \
	    -v r="$rss" -v nodes="$nodes" -v cost="$cost" -v lp="$lp" -v fc="$fcpu" -v cc="$cpusec" \
	    -v fit="$fit" 'BEGIN {
		printf "%-17s %7d %12s %4d %7.2f %6.2f %6.2f %6.2f %6.2f %6.2f %7.1f %6.0f %6d %9.2f %9.2f %6s %9.2f %6s\n",
		    mix, n, c, mb, f, w, (f > 0 ? w / f : 0), fc, cc, (fc > 0 ? cc / fc : 0),
		    w * 1e6 / n, r / 1024, nodes, cost, lp,
		    (lp > 0 ? sprintf("%.3f", cost / lp) : "-"), fit,
		    (fit > 0 ? sprintf("%.3f", cost / fit) : "-") }'
}

for n in $SIZES; do
	row diverse "$n" 0 0
	row diverse "$n" 2000 40000
done
for n in $SIZES; do
	row generic "$n" 0 0
	row generic+karpenter "$n" 0 0 "--packing karpenter"
done
