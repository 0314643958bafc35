#!/bin/sh
# bench/launch.sh - 1,000 LaunchRequests against nap-sim with 200 ms of
# latency on every ARM answer: wall time until nap-launch has every claim
# Launched (it exits at end of input once the Azure work is done), its peak
# RSS, and the ARM requests it made.  Simulated time runs 100x faster in both
# (LROs of 10 s take 0.1 s; ARM's token buckets refill 100x faster), so what
# is measured is nap-launch's concurrency against the latency.  Kubelets are
# off: registration is not part of the figure.  nap-sim enforces the compute
# provider's PutVM limit (240 per 3 simulated minutes, 1.8 s here), so 1,000
# VMs cannot take less than about 7 s; its 429s are counted.  Median of 3 runs.
#   N=1000 RUNS=3 LATENCY=0.2 SCALE=100 sh bench/launch.sh
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
: "${NAP_BIN:=$here/bin}"
N=${N:-1000}
RUNS=${RUNS:-3}
LATENCY=${LATENCY:-0.2}
SCALE=${SCALE:-100}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-launch.XXXXXX")
simpid=
cleanup() {
	[ -n "$simpid" ] && kill "$simpid" 2>/dev/null || :
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The requests: two or three sizes each, all zones, on-demand.
jq -cn --argjson n "$N" '
  ["Standard_D2s_v3","Standard_D2s_v5","Standard_D2as_v5","Standard_D4s_v3"] as $t |
  range($n) | {type: "LaunchRequest", pods: ["bench/p-\(.)"], price: 0.1,
    nodeClaim: {apiVersion: "karpenter.sh/v1", kind: "NodeClaim",
      metadata: {name: "bench-\(.)", labels: {"karpenter.sh/nodepool": "default"}},
      spec: {requirements: [
        {key: "node.kubernetes.io/instance-type", operator: "In",
         values: [$t[. % 4], $t[(. + 1) % 4]]},
        {key: "topology.kubernetes.io/zone", operator: "In",
         values: ["eastus-1", "eastus-2", "eastus-3"]},
        {key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"]}],
       resources: {requests: {cpu: "1"}},
       nodeClassRef: {group: "karpenter.azure.com", kind: "AKSNodeClass", name: "default"}}}}' \
    >"$tmp/reqs.ndjson"

run_one() {
	d=$tmp/run$1
	mkdir -p "$d"
	"$NAP_BIN/nap-sim" --kubeconfig-out "$d/kc" --config-out "$d/nap.yaml" \
	    --ca-out "$d/ca.pem" --catalog "$here/data" --time-scale "$SCALE" \
	    --world kubelet=false --world scheduler=false \
	    --fault "{\"latency\":{\"seconds\":$LATENCY}}" >"$d/ready.json" 2>"$d/sim.err" &
	simpid=$!
	i=0
	while [ ! -s "$d/ready.json" ]; do
		i=$((i + 1))
		[ "$i" -lt 600 ] || { echo "nap-sim did not start" >&2; cat "$d/sim.err" >&2; exit 1; }
		sleep 0.05
	done
	NAP_LAUNCH_STATS=1 /usr/bin/time -f 'time %e %M %U %S' "$NAP_BIN/nap-launch" \
	    --config "$d/nap.yaml" --time-scale "$SCALE" --max-inflight 512 \
	    <"$tmp/reqs.ndjson" >"$d/out.ndjson" 2>"$d/launch.err" || {
		echo "nap-launch failed:" >&2
		tail -5 "$d/launch.err" >&2
		exit 1
	}
	kill "$simpid" 2>/dev/null || :
	wait "$simpid" 2>/dev/null || :
	simpid=
	launched=$(grep -c '"type":"Launched"' "$d/out.ndjson" || :)
	set -- $(sed -n 's/^time //p' "$d/launch.err")
	secs=$1 rss=$2 cpu=$(echo "$3 + $4" | bc)
	calls=$(sed -n 's/.*arm_requests=\([0-9]*\).*/\1/p' "$d/launch.err")
	thr=$(sed -n 's/.*arm_throttled=\([0-9]*\).*/\1/p' "$d/launch.err")
	echo "$secs $rss $calls $thr $launched $cpu"
}

: >"$tmp/results"
r=1
while [ "$r" -le "$RUNS" ]; do
	res=$(run_one "$r")
	echo "run $r: $(echo "$res" | awk '{printf "%.2f s, peak RSS %d KiB, %d ARM requests (%d answered 429), %d launched, nap-launch CPU %.2f s", $1, $2, $3, $4, $5, $6}')"
	echo "$res" >>"$tmp/results"
	r=$((r + 1))
done
sort -n "$tmp/results" | awk -v n="$N" -v runs="$RUNS" -v lat="$LATENCY" '
  { t[NR] = $1; m[NR] = $2; c[NR] = $3; l[NR] = $5 }
  END {
    k = int((NR + 1) / 2)
    printf "launch %d requests, ARM latency %s s: median %.2f s to all Launched (%d launched), peak RSS %.1f MiB, %d ARM requests (median of %d)\n",
      n, lat, t[k], l[k], m[k] / 1024, c[k], runs
  }'
