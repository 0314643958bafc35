#!/bin/sh
# bench/consolidate-e2e.sh - the figure of issue 15: a fleet half emptied by
# a scale-down, consolidated by the whole loop (pipelines/nap) against
# nap-sim at clock x$SCALE, ends within 1.15x the whole-pod bound of the pods
# that remain, breaking no PDB.
#
# Per run: a NodePool "default" as deploy/nodepools/default.yaml without its
# D-family requirement (on-demand, amd64 Linux, WhenEmptyOrUnderutilized,
# the default 10% budget), of sizes up to $MAXCPU vCPUs (16): a fleet of a
# few 120-vCPU nodes (what the cheapest cores make of an unbounded pool)
# leaves consolidation, which replaces m nodes by at most one, nothing to
# do.  The whole-pod bound nap-cost reports is over the sizes the pool
# allows (nap-cost(1)): a bound that may use sizes the pool forbids (arm64,
# 120 vCPUs) is not one any fleet of this pool can reach.  Two sets of three
# Deployments (250m/512Mi, 500m/1Gi, 1/2Gi; $PODS pods in all, half in
# each set) created at once, so that nap-solve packs both sets onto the same
# nodes; every Deployment of the first set under a PDB that lets one pod go
# at a time.  Once all run, the second set is deleted, and the loop left to
# consolidate until the fleet has not changed for $STABLE wall seconds.
# nap-cost prices the fleet against the whole-pod bound (nap-cost(1)) before
# the scale-down, just after it, and at the end.  At the end the fleet is
# also set against the configuration LP bound of the same pods over the same
# sizes (bench/config-bound.c -s, when GLPK's headers are there: each node
# holds whole pods, so no fleet of this pool costs less; "xC2") and against
# what nap-solve makes of the same pods from scratch ("xS2": a fleet that
# exists, so what is left above it consolidation could still win).  Printed
# per run: nodes and the fleet/bound ratio at each point, the simulated
# seconds to settle, the Disruption records by reason, nap-sim's safety
# counters; then the medians of $RUNS runs (default 3).  KEEP=1 keeps the
# runs' logs (the path is printed on stderr).
#   PODS=300 RUNS=3 SCALE=50 sh bench/consolidate-e2e.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
: "${NAP_BIN:=$repo/bin}" "${PODS:=300}" "${RUNS:=3}" "${SCALE:=50}" "${STABLE:=20}"
: "${TIMEOUT:=900}" "${MAXCPU:=16}"
export NAP_BIN
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-consol.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	if [ -n "${KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT INT TERM

conf=
if echo '#include <glpk.h>' | ${CC:-cc} -E - >/dev/null 2>&1; then
	# shellcheck disable=SC2046  # pkg-config's flags are words
	${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -iquote "$repo/lib" -include "$repo/lib/banned.h" \
	    $(pkg-config --cflags json-c) -o "$tmp/config-bound" "$here/config-bound.c" \
	    "$repo/lib/libnap.a" $(pkg-config --libs json-c yaml-0.1 libcurl gnutls) -lglpk -lm
	conf=$tmp/config-bound
fi

# ratio A B: A/B to 3 places, "-" without a B.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.3f", a / b; else printf "-"}'; }

# fresh DIR: the $/h of what nap-solve makes of DIR/after.ndjson's running
# pods from scratch (the same NodePool, every pod pending, no node).
fresh() {
	jq -c 'select(.type == "ADDED") | .object as $o |
	    select($o.kind == "NodePool" or $o.kind == "AKSNodeClass" or ($o.kind == "Pod" and
	      ($o.spec.nodeName // "") != "" and ($o.status.phase | IN("Succeeded", "Failed") | not) and
	      ([$o.metadata.ownerReferences[]?.kind] | index("DaemonSet") | not))) |
	    if $o.kind == "Pod" then del(.object.spec.nodeName) | .object.status = {phase: "Pending",
	      conditions: [{type: "PodScheduled", status: "False", reason: "Unschedulable"}]} else . end' \
	    "$1/after.ndjson" >"$1/fresh.ndjson"
	echo '{"type":"SYNCED"}' >>"$1/fresh.ndjson"
	"$NAP_BIN/nap-solve" --catalog "$repo/data" --region eastus --config /dev/null \
	    <"$1/fresh.ndjson" 2>"$1/fresh.err" | jq -s '[.[] | select(.type == "LaunchRequest") | .price] | add // 0'
}

median() { sort -n | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# kubectl, tried again when a loaded machine makes the simulator slow to answer.
k() {
	for _ in 1 2 3 4 5; do
		kubectl --request-timeout=60s "$@" && return 0
		sleep 1
	done
	return 1
}

# cost DIR NAME: nodes, $/h, bound and ratio of the cluster now, "n usd
# bound ratio"; the snapshot stays in DIR/NAME.ndjson.
cost() {
	"$NAP_BIN/nap-watch" --config "$1/nap.yaml" --once 2>/dev/null | tee "$1/$2.ndjson" |
	    "$NAP_BIN/nap-cost" --catalog "$repo/data" --region eastus --ndjson 2>/dev/null |
	    tail -n 1 | jq -r '"\(.nodes) \(.usdPerHour) \(.boundUsdPerHour) \(.ratio)"'
}

# deployments SET: the set's three Deployments, PODS/6 pods each.
deployments() {
	n=$((PODS / 6))
	for sz in "s 250m 512Mi" "m 500m 1Gi" "l 1 2Gi"; do
		# shellcheck disable=SC2086
		set -- $sz
		jq -n --arg name "$SET-$1" --arg cpu "$2" --arg mem "$3" --argjson r "$n" '{
		  apiVersion: "apps/v1", kind: "Deployment", metadata: {name: $name},
		  spec: {replicas: $r, selector: {matchLabels: {app: $name}},
		    template: {metadata: {labels: {app: $name}},
		      spec: {terminationGracePeriodSeconds: 5, containers: [{name: "c", image: "nginx",
		        resources: {requests: {cpu: $cpu, memory: $mem}}}]}}}}'
	done
}

running() {
	k get pods -o json | jq '[.items[] | select(.status.phase == "Running")] | length'
}

# The fleet as a line that changes whenever a node comes, goes or starts to go.
fleet() {
	k get nodeclaims -o json | jq -r '[.items[] | "\(.metadata.name):\(.metadata.deletionTimestamp != null)"] | sort | join(",")'
}

run() {
	d=$tmp/run$1
	mkdir -p "$d"
	"$NAP_BIN/nap-sim" --kubeconfig-out "$d/kc" --config-out "$d/nap.yaml" \
	    --ca-out "$d/ca.pem" --catalog "$repo/data" --time-scale "$SCALE" \
	    >"$d/ready.json" 2>"$d/sim.err" &
	sim=$!
	pids="$pids $sim"
	i=0
	while [ ! -s "$d/ready.json" ]; do
		i=$((i + 1))
		[ "$i" -lt 600 ] || { echo "nap-sim did not start" >&2; return 1; }
		sleep 0.05
	done
	KUBECONFIG=$d/kc
	export KUBECONFIG
	arm=$(jq -r .arm "$d/ready.json")
	tok=$(sed -n 's/^ *token: //p' "$d/kc")
	k apply --server-side --force-conflicts -f "$repo/deploy/crds/" >/dev/null
	k apply -f - >/dev/null <<-EOF
	apiVersion: karpenter.azure.com/v1beta1
	kind: AKSNodeClass
	metadata: {name: default}
	spec: {imageFamily: Ubuntu}
	---
	apiVersion: karpenter.sh/v1
	kind: NodePool
	metadata: {name: default}
	spec:
	  disruption: {consolidationPolicy: WhenEmptyOrUnderutilized}
	  template:
	    spec:
	      nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	      expireAfter: Never
	      requirements:
	      - {key: kubernetes.io/arch, operator: In, values: [amd64]}
	      - {key: kubernetes.io/os, operator: In, values: [linux]}
	      - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
	      - {key: karpenter.azure.com/sku-cpu, operator: Lt, values: ["$((MAXCPU + 1))"]}
	EOF

	"$repo/pipelines/nap" --config "$d/nap.yaml" --time-scale "$SCALE" --region eastus \
	    >"$d/loop.out" 2>"$d/loop.err" &
	loop=$!
	pids="$pids $loop"
	for SET in a b; do deployments; done | k apply -f - >/dev/null
	for sz in s m l; do
		k create pdb "a-$sz" --selector="app=a-$sz" --max-unavailable=1 >/dev/null
	done
	want=$(((PODS / 6) * 6))
	t=0
	while [ "$(running)" -lt "$want" ]; do
		t=$((t + 1))
		[ "$t" -lt "$TIMEOUT" ] || { echo "run $1: the pods did not all run" >&2; tail -n 20 "$d/loop.err" >&2; return 1; }
		sleep 1
	done
	before=$(cost "$d" before)

	k delete deployment b-s b-m b-l --wait=false >/dev/null
	while [ "$(running)" -gt "$((want / 2))" ]; do sleep 0.5; done
	t0=$(date +%s.%N)
	half=$(cost "$d" half)
	last=$(fleet)
	since=$(date +%s)
	start=$since
	while :; do
		sleep 1
		now=$(fleet)
		if [ "$now" != "$last" ]; then
			last=$now
			since=$(date +%s)
		elif [ $(($(date +%s) - since)) -ge "$STABLE" ] && ! echo "$now" | grep -q ':true'; then
			break
		fi
		[ $(($(date +%s) - start)) -lt "$TIMEOUT" ] || { echo "run $1: the fleet did not settle" >&2; break; }
	done
	t1=$(date -d "@$since" +%s.%N)
	after=$(cost "$d" after)
	pdb=$(curl -sS --cacert "$d/ca.pem" -H "Authorization: Bearer $tok" "$arm/nap-sim/stats" |
	    jq -r '"\(.pdbViolations) \(.doNotDisruptEvicted) \(.vmsDeletedWithPods)"')
	left=$(running)
	reasons=$(jq -r 'select(.type == "Disruption") | "\(.reason)/\(.replacements)"' "$d/loop.out" |
	    sort | uniq -c | awk '{printf "%s%s:%s", (NR > 1 ? "," : ""), $2, $1}')
	kill "$loop" 2>/dev/null || :
	wait "$loop" 2>/dev/null || :
	kill "$sim" 2>/dev/null || :
	wait "$sim" 2>/dev/null || :
	usd=$(echo "$after" | cut -d' ' -f2)
	xc=-
	if [ -n "$conf" ]; then
		b=$("$conf" -s "$d/after.ndjson" "$repo/data" eastus 2>"$d/config-bound.err" || :)
		xc=$(ratio "$usd" "$b")
		echo "$xc" >>"$tmp/xcs"
	fi
	xs=$(ratio "$usd" "$(fresh "$d")")
	echo "$xs" >>"$tmp/xss"
	# shellcheck disable=SC2086
	set -- $before $half $after
	settle=$(echo "$t0 $t1" | awk -v s="$SCALE" '{printf "%.0f", ($2 - $1) * s}')
	printf '%-4s %5s %6s %6s %6s %6s %6s %6s %6s %6s %8s %6s  %-9s %s\n' "$RUN" "$left" \
	    "$1" "$(printf %.3f "$4")" "$5" "$(printf %.3f "$8")" "$9" "$(printf %.3f "${12}")" \
	    "$xc" "$xs" "$settle" "$(printf %.3f "${11}")" "$(echo "$pdb" | tr ' ' /)" \
	    "${reasons:--}"
	echo "${12}" >>"$tmp/ratios"
	echo "$settle" >>"$tmp/settles"
	echo "$pdb" | cut -d' ' -f1 >>"$tmp/pdbs"
}

printf '%-4s %5s %6s %6s %6s %6s %6s %6s %6s %6s %8s %6s  %-9s %s\n' run pods nodes0 xB0 nodes1 \
    xB1 nodes2 xB2 xC2 xS2 settle_s bound safety disruptions
RUN=1
while [ "$RUN" -le "$RUNS" ]; do
	run "$RUN" || echo "run $RUN: FAILED"
	RUN=$((RUN + 1))
done
[ -s "$tmp/ratios" ] || exit 1
echo "median fleet/bound at the end: $(median <"$tmp/ratios") (target <= 1.15);" \
    "median simulated seconds to settle: $(median <"$tmp/settles");" \
    "PDB violations in all: $(awk '{s += $1} END {print s}' "$tmp/pdbs")"
[ ! -s "$tmp/xcs" ] || echo "median fleet/configuration LP bound at the end: $(median <"$tmp/xcs")"
echo "median fleet/nap-solve's packing of the same pods from scratch: $(median <"$tmp/xss")"
