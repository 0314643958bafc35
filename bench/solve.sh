#!/bin/sh
# bench/solve.sh - nap-solve on Karpenter's "diverse" pod mix (bench/gen-diverse.c)
# at 1k, 5k, 20k and 50k pending pods, on an empty cluster and on 2,000
# existing nodes running 40,000 pods, against the full eastus catalog; the
# generic-only mix on an empty cluster for the cost figure; and the "varied"
# mix (the diverse mix's kinds and groups with a real cluster's variety of
# namespaces, names, labels, owners, annotations and request shapes; see
# bench/gen-diverse.c) at 20,000 pending pods (and VARIED_SIZES) on both
# clusters, for memory and time on input that shares little between pods.
# Per row: snapshot size, the json-c parse floor (bench/parse-floor.c: every
# line parsed, nothing else), nap-solve's wall time, its ratio to the floor,
# the same two in CPU seconds (user + system; what to compare when the
# machine is loaded and wall times stretch),
# microseconds per pending pod, peak RSS, new nodes and nodes per 1,000 pods
# put on them, their $/h, and three lower bounds on the price of any fleet
# for the pods put on new nodes, each with nap's ratio to it:
#   LP     the cheapest fractional cover of their CPU, memory and pod count
#          (bench/lp-bound.c, lib/bound's aggregate bound);
#   whole  each pod whole on a size it fits, nodes fractional (lp-bound
#          --whole, lib/bound's whole-pod bound; lp-bound --fit writes the
#          same LP for glpsol);
#   conf   the configuration LP: nodes fractional, but each one a whole
#          packing of whole pods (bench/config-bound.c, GLPK), within a
#          node or so per size of the best whole fleet; "-" when GLPK's
#          headers (libglpk-dev) are missing.  Like the other two it looks
#          at requests only, and it keeps to the room nap-solve has under
#          its node ceiling (config-bound -m: solve.maxNodes, 5,000, less
#          the cluster's nodes), so it bounds every fleet of these pods that
#          nap-solve may launch; where the ceiling binds it is above the
#          cheapest fleet without one (the "# conf:" line gives the charge
#          per node, $0 when it does not bind).
#          Where more than 100 distinct requests are on new nodes,
#          config-bound rounds them down first, to a grid or to a few
#          steps (still a bound, a weaker one; the "#" line says which);
#   confg  (rows whose pods have hostname anti-affinity or hostname
#          spread groups, bench/bound-req.jq) the same with at most one pod
#          of a group on a node, which every fleet nap-solve or Karpenter
#          makes keeps too: a tighter bound; where it stops "inexact"
#          below conf, conf (it bounds these fleets too; the "# confg:"
#          line has config-bound's own figure); "-" for rows without groups;
# and "int", the price of a whole fleet config-bound finds from its
# packings (one that exists: the best whole fleet costs between conf and
# int).  Under each row a "#" line quotes config-bound's summary from
# stderr for conf and confg: the grid or steps when it rounded, classes, CPU
# seconds, "exact" (the LP optimum), "converged" (Farley's bound within
# 0.1 % of the master LP, the optimum between the two) or "inexact" (its
# two CPU minutes ran out; the figure is still a bound), and how close.
# Rows use nap-solve's default tiered packing; "+karpenter" rows run
# Karpenter's greedy growth (--packing karpenter, see nap-solve(1)).
# Times and RSS are medians of $RUNS runs (default 3).
#   SIZES="1000 5000 20000 50000" VARIED_SIZES=20000 RUNS=3 sh bench/solve.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
: "${NAP_BIN:=$repo/bin}"
: "${SIZES:=1000 5000 20000 50000}" "${VARIED_SIZES:=20000}" "${RUNS:=3}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-solve.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

CC=${CC:-cc}
$CC -O2 -o "$tmp/gen" "$here/gen-diverse.c"
$CC -O2 -o "$tmp/floor" "$here/parse-floor.c" $(pkg-config --cflags --libs json-c)
$CC -O2 -D_GNU_SOURCE -I"$repo/lib" -include "$repo/lib/banned.h" -o "$tmp/lp" "$here/lp-bound.c" \
	"$repo/lib/libnap.a" $(pkg-config --cflags --libs json-c yaml-0.1 libcurl) -lm
conf=0
if echo '#include <glpk.h>' | $CC -E - >/dev/null 2>&1; then
	$CC -O2 -D_GNU_SOURCE -I"$repo/lib" -include "$repo/lib/banned.h" -o "$tmp/conf" \
		"$here/config-bound.c" "$repo/lib/libnap.a" \
		$(pkg-config --cflags --libs json-c yaml-0.1 libcurl) -lglpk -lm
	conf=1
fi

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

printf '%-17s %7s %12s %4s %7s %6s %6s %6s %6s %6s %7s %6s %6s %6s %8s %8s %6s %8s %6s %8s %6s %8s %8s %6s\n' \
	mix pending cluster MB floor_s wall_s xfloor fcpu_s cpu_s xfcpu us/pod RSS_MB nodes \
	n/kpod '$/h' 'LP$/h' xLP 'whole$/h' xwhole 'conf$/h' xconf 'int$/h' 'confg$/h' xconfg
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
	fit=0 cb=0 ci=0 cg=0
	: >"$tmp/conf.err"
	if [ "$nodes" -gt 0 ]; then
		lp=$("$tmp/lp" "$repo/data" eastus "$cpu" "$mem" "$pods")
		# the pods put on new nodes, one line each: requests, and the group
		# of a pod that shares a node with no other of its group
		jq -r -n --rawfile new "$tmp/newpods" -f "$here/bound-req.jq" "$tmp/snap" >"$tmp/req"
		room=$((5000 - $3))
		fit=$(cut -f1,2 "$tmp/req" | "$tmp/lp" --whole "$repo/data" eastus)
		if [ "$conf" = 1 ]; then
			read -r cb ci <<-EOF
			$(cut -f1,2 "$tmp/req" | "$tmp/conf" -i -m "$room" "$repo/data" eastus 2>"$tmp/conf.e")
			EOF
			sed 's/^config-bound: /# conf:  /' "$tmp/conf.e" >>"$tmp/conf.err"
			if cut -f3 "$tmp/req" | grep -qv '^-$'; then
				cg=$("$tmp/conf" -m "$room" "$repo/data" eastus <"$tmp/req" 2>"$tmp/conf.e")
				cg=$(echo "$cg $cb" | awk '{print ($1 > $2 ? $1 : $2)}')
				sed 's/^config-bound: /# confg: /' "$tmp/conf.e" >>"$tmp/conf.err"
			fi
		fi
	else
		lp=0
	fi
	cluster=none
	[ "$3" -gt 0 ] && cluster="${3}n/${4}p"
	awk -v mix="$1" -v n="$2" -v c="$cluster" -v mb="$mb" -v f="$floor" -v w="$wall" \
	    -v r="$rss" -v nodes="$nodes" -v cost="$cost" -v lp="$lp" -v fc="$fcpu" -v cc="$cpusec" \
	    -v fit="$fit" -v cb="$cb" -v ci="$ci" -v cg="$cg" -v pods="$pods" '
	function ratio(b) { return b > 0 ? sprintf("%.3f", cost / b) : "-" }
	function usd(b) { return b > 0 ? sprintf("%.2f", b) : "-" }
	BEGIN {
		printf "%-17s %7d %12s %4d %7.2f %6.2f %6.2f %6.2f %6.2f %6.2f %7.1f %6.0f %6d %6.1f %8.2f %8s %6s %8s %6s %8s %6s %8s %8s %6s\n",
		    mix, n, c, mb, f, w, (f > 0 ? w / f : 0), fc, cc, (fc > 0 ? cc / fc : 0),
		    w * 1e6 / n, r / 1024, nodes, (pods > 0 ? nodes * 1000 / pods : 0), cost,
		    usd(lp), ratio(lp), usd(fit), ratio(fit), usd(cb), ratio(cb), usd(ci), usd(cg), ratio(cg) }'
	cat "$tmp/conf.err"
}

for n in $SIZES; do
	row diverse "$n" 0 0
	row diverse "$n" 2000 40000
done
for n in $SIZES; do
	row generic "$n" 0 0
	row generic+karpenter "$n" 0 0 "--packing karpenter"
done
for n in $VARIED_SIZES; do
	row varied "$n" 0 0
	row varied "$n" 2000 40000
done
