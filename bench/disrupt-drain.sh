#!/bin/sh
# bench/disrupt-drain.sh - N nodes of about P pods each in nap-sim, the workload
# scaled to zero, and nap-disrupt removing the empty nodes under a 10%
# budget (NodePool "default": WhenEmpty, consolidateAfter 0s): the time from
# the scale-down to the last VM deleted (wall, and simulated = wall x SCALE),
# the most NodeClaims seen deleting at once (sampled every 0.2 s) against
# the budget, and nap-sim's safety counters.  One run (its setup, N
# launches and N x P pods, is most of the cost).
#   N=100 P=20 SCALE=100 sh bench/disrupt-drain.sh
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
: "${NAP_BIN:=$here/bin}"
N=${N:-100}
P=${P:-20}
SCALE=${SCALE:-100}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-disrupt.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$NAP_BIN/nap-sim" --kubeconfig-out "$tmp/kc" --config-out "$tmp/nap.yaml" \
    --ca-out "$tmp/ca.pem" --catalog "$here/data" --time-scale "$SCALE" \
    >"$tmp/ready.json" 2>"$tmp/sim.err" &
pids="$!"
i=0
while [ ! -s "$tmp/ready.json" ]; do
	i=$((i + 1))
	[ "$i" -lt 600 ] || { echo "nap-sim did not start" >&2; exit 1; }
	sleep 0.05
done
export KUBECONFIG="$tmp/kc"
arm=$(jq -r .arm "$tmp/ready.json")
kube=$(jq -r .kube "$tmp/ready.json")
tok=$(sed -n 's/^ *token: //p' "$tmp/kc")
# GET of the Kubernetes API, for the loops: lighter than kubectl on a
# loaded machine; an answer that is not JSON is retried.
kget() {
	for _ in 1 2 3 4 5; do
		curl -sS --max-time 60 --cacert "$tmp/ca.pem" -H "Authorization: Bearer $tok" \
		    "$kube$1" >"$tmp/get.json" && jq -e .items "$tmp/get.json" >/dev/null && return 0
		sleep 1
	done
	return 1
}

# kubectl, tried again when a loaded machine makes the simulator slow to answer.
k() {
	for _ in 1 2 3 4 5; do
		kubectl --request-timeout=60s "$@" && return 0
		sleep 1
	done
	return 1
}

k apply -f - >/dev/null <<'EOF'
apiVersion: karpenter.azure.com/v1beta1
kind: AKSNodeClass
metadata: {name: default}
spec: {imageFamily: Ubuntu}
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: 0s
    budgets: [{nodes: "10%"}]
  template:
    spec:
      nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
      expireAfter: Never
      requirements:
      - {key: node.kubernetes.io/instance-type, operator: In, values: [Standard_D2s_v3]}
EOF

# N nodes, launched and followed to Initialized; then nap-launch goes.
jq -cn --argjson n "$N" 'range($n) | {type: "LaunchRequest", pods: [], price: 0.096,
  nodeClaim: {apiVersion: "karpenter.sh/v1", kind: "NodeClaim",
    metadata: {name: "b\(.)", labels: {"karpenter.sh/nodepool": "default"}},
    spec: {requirements: [
      {key: "node.kubernetes.io/instance-type", operator: "In", values: ["Standard_D2s_v3"]},
      {key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"]}],
     resources: {requests: {cpu: "100m"}},
     nodeClassRef: {group: "karpenter.azure.com", kind: "AKSNodeClass", name: "default"}}}}' \
    >"$tmp/reqs.ndjson"
mkfifo "$tmp/st"
"$NAP_BIN/nap-watch" --config "$tmp/nap.yaml" >"$tmp/st" 2>"$tmp/w1.err" &
w1=$!
(cat "$tmp/reqs.ndjson"; exec cat "$tmp/st") |
    "$NAP_BIN/nap-launch" --config "$tmp/nap.yaml" --time-scale "$SCALE" \
    >"$tmp/launch.out" 2>"$tmp/launch.err" &
l1=$!
pids="$pids $w1 $l1"
i=0
while [ "$(grep -c '^{"type":"Initialized"' "$tmp/launch.out" || :)" -lt "$N" ]; do
	i=$((i + 1))
	[ "$i" -lt 6000 ] || { echo "the nodes did not initialize" >&2; exit 1; }
	sleep 0.1
done
kill "$w1" "$l1" 2>/dev/null || :

# About P pods a node: 90m of the 1.9 CPU a D2s_v3 offers holds 21.
k create deployment bench --image=nginx --replicas=$((N * P)) >/dev/null
k set resources deployment bench --requests=cpu=90m >/dev/null
i=0
while kget /api/v1/pods && [ "$(jq '[.items[] | select(.status.phase == "Running")] | length' "$tmp/get.json")" -lt $((N * P)) ]; do
	i=$((i + 1))
	[ "$i" -lt 1200 ] || { echo "the pods did not all run" >&2; exit 1; }
	sleep 0.25
done
kget /api/v1/pods
jq -r '.items[].spec.nodeName' "$tmp/get.json" | sort | uniq -c |
    awk '{ n++; s += $1; if ($1 > max) max = $1 } END { printf "pods: %d on %d nodes, at most %d on one\n", s, n, max }'

mkfifo "$tmp/st2"
"$NAP_BIN/nap-watch" --config "$tmp/nap.yaml" >"$tmp/st2" 2>"$tmp/w2.err" &
pids="$pids $!"
NAP_DISRUPT_STATS=1 "$NAP_BIN/nap-disrupt" --config "$tmp/nap.yaml" --time-scale "$SCALE" \
    <"$tmp/st2" >"$tmp/disrupt.out" 2>"$tmp/disrupt.err" &
d=$!
pids="$pids $d"
until grep -q '^{"type":"SYNCED"' "$tmp/disrupt.out" 2>/dev/null; do sleep 0.05; done

t0=$(date +%s.%N)
k scale deployment bench --replicas=0 >/dev/null
max=0
while :; do
	kget /apis/karpenter.sh/v1/nodeclaims
	left=$(jq '.items | length' "$tmp/get.json")
	deleting=$(jq '[.items[] | select(.metadata.deletionTimestamp)] | length' "$tmp/get.json")
	[ "$deleting" -gt "$max" ] && max=$deleting
	[ "$left" -eq 0 ] && break
	sleep 0.2
done
vms() {
	curl -sS --cacert "$tmp/ca.pem" -H "Authorization: Bearer $(curl -sS --cacert "$tmp/ca.pem" -H 'Metadata: true' \
	    "$arm/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F&key=$tok" | jq -r .access_token)" \
	    "$arm/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/MC_nap-sim_nap-sim_eastus/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01" |
	    jq '.value | length'
}
while [ "$(vms)" -gt 0 ]; do sleep 0.1; done
t1=$(date +%s.%N)
kill "$d"
wait "$d" || :
echo "$t0 $t1" | awk -v s="$SCALE" -v n="$N" -v m="$max" '{
	w = $2 - $1
	printf "nodes removed: %d; scale-down to last VM deleted: %.1f s wall, %.0f s simulated (x%d)\n", n, w, w * s, s
	printf "most NodeClaims deleting at once (sampled): %d; budget 10%% of %d = %d\n", m, n, int((n + 9) / 10)
}'
grep stats "$tmp/disrupt.err"
echo "nap-sim safety: $(curl -sS --cacert "$tmp/ca.pem" -H "Authorization: Bearer $tok" "$arm/nap-sim/stats")"
echo "Disruption records: $(grep -c '^{"type":"Disruption"' "$tmp/disrupt.out")"
