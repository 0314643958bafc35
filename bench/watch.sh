#!/bin/sh
# bench/watch.sh - nap-watch against nap-sim holding 50,000 pods on 2,000
# nodes (PODS, NODES to change): the initial paginated list of both kinds
# through to SYNCED.  Figures: wall time to SYNCED, records/s through
# nap-watch, records per CPU-second of nap-watch itself (the server shares
# the machine), peak RSS.  Medians of RUNS (default 5) runs.
# Targets (issue 4): >= 50,000 records/s, <= 150 MB RSS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${NAP_BIN:=$(cd "$here/.." && pwd)/bin}"
PODS=${PODS:-50000}
NODES=${NODES:-2000}
RUNS=${RUNS:-5}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench/watch.sh: needs GNU time at $TIME" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-watch.XXXXXX")
sim_pid=
cleanup() {
	[ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# A cluster of Running pods bound to Ready nodes, in nap-sim's state format.
jq -n --argjson pods "$PODS" --argjson nodes "$NODES" '
def node($i): {apiVersion: "v1", kind: "Node",
  metadata: {name: "aks-default-\($i)", uid: "00000000-0000-4000-8000-\($i + 1000000 | tostring)",
    resourceVersion: "\($i + 10)", creationTimestamp: "2026-11-27T10:00:00Z",
    labels: {"kubernetes.io/hostname": "aks-default-\($i)", "karpenter.sh/nodepool": "default",
      "node.kubernetes.io/instance-type": "Standard_D4s_v5",
      "topology.kubernetes.io/zone": "eastus-\($i % 3 + 1)", "karpenter.sh/capacity-type": "on-demand",
      "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
  spec: {providerID: "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/aks-default-\($i)"},
  status: {capacity: {cpu: "4", memory: "16374584Ki", pods: "110"},
    allocatable: {cpu: "3860m", memory: "12880696Ki", pods: "110"},
    conditions: [{type: "Ready", status: "True", reason: "KubeletReady",
      lastTransitionTime: "2026-11-27T10:01:00Z", lastHeartbeatTime: "2026-11-27T10:01:00Z"}],
    nodeInfo: {kubeletVersion: "v1.30.5", osImage: "Ubuntu 22.04.5 LTS", architecture: "amd64"}}};
def pod($i): {apiVersion: "v1", kind: "Pod",
  metadata: {name: "web-\($i)", namespace: "ns-\($i % 50)",
    uid: "10000000-0000-4000-8000-\($i + 1000000 | tostring)",
    resourceVersion: "\($i + $nodes + 10)", creationTimestamp: "2026-11-27T10:02:00Z",
    labels: {app: "web-\($i % 100)", "pod-template-hash": "5d8f7c9b4"},
    ownerReferences: [{apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-\($i % 100)-5d8f7c9b4",
      uid: "20000000-0000-4000-8000-000000000000", controller: true, blockOwnerDeletion: true}]},
  spec: {nodeName: "aks-default-\($i % $nodes)", schedulerName: "default-scheduler",
    containers: [{name: "app", image: "nginx:1.25",
      resources: {requests: {cpu: "100m", memory: "128Mi"}, limits: {memory: "256Mi"}},
      ports: [{containerPort: 80, protocol: "TCP"}]}],
    tolerations: [{key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute",
      tolerationSeconds: 300}]},
  status: {phase: "Running", qosClass: "Burstable", podIP: "10.244.\($i / 256 | floor % 256).\($i % 256)",
    conditions: [{type: "Ready", status: "True"}, {type: "PodScheduled", status: "True"}]}};
{resourceVersion: ($pods + $nodes + 100),
 objects: {nodes: [range($nodes) | node(.)], pods: [range($pods) | pod(.)]}}' >"$tmp/state.json"

"$NAP_BIN/nap-sim" --state "$tmp/state.json" --kubeconfig-out "$tmp/kubeconfig" \
    --config-out "$tmp/nap.yaml" --ca-out "$tmp/ca.pem" >"$tmp/ready.json" 2>"$tmp/sim.err" &
sim_pid=$!
i=0
until [ -s "$tmp/ready.json" ]; do
	i=$((i + 1))
	if [ "$i" -gt 1200 ] || ! kill -0 "$sim_pid" 2>/dev/null; then
		echo "bench/watch.sh: nap-sim did not start" >&2
		cat "$tmp/sim.err" >&2
		exit 1
	fi
	sleep 0.05
done

want=$((PODS + NODES + 1))
run=0
: >"$tmp/figures"
while [ "$run" -lt "$RUNS" ]; do
	run=$((run + 1))
	"$TIME" -f "%e %U %S %M" -o "$tmp/time" "$NAP_BIN/nap-watch" \
	    --kubeconfig "$tmp/kubeconfig" --once --kinds pods,nodes >"$tmp/out" 2>"$tmp/err"
	got=$(wc -l <"$tmp/out")
	if [ "$got" -ne "$want" ]; then
		echo "bench/watch.sh: run $run printed $got records, want $want" >&2
		cat "$tmp/err" >&2
		exit 1
	fi
	read -r wall user sys rss <"$tmp/time"
	echo "$wall $user $sys $rss" | awk -v n="$want" '{ cpu = $2 + $3; if (cpu < 0.01) cpu = 0.01;
	    printf "%.3f %.0f %.0f %.1f\n", $1, n / $1, n / cpu, $4 / 1024 }' >>"$tmp/figures"
done

median() {	# column
	sort -n -k "$1" "$tmp/figures" | awk -v c="$1" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}
printf 'watch: %d pods + %d nodes, %d runs (median)\n' "$PODS" "$NODES" "$RUNS"
printf '  time to SYNCED               %9s s\n' "$(median 1)"
printf '  records/s, wall clock        %9s\n' "$(median 2)"
printf '  records per nap-watch CPU-s  %9s\n' "$(median 3)"
printf '  peak RSS of nap-watch        %9s MB\n' "$(median 4)"
