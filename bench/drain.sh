#!/bin/bash
# bench/drain.sh - scale-down through the whole loop: NODES nodes (default
# 100) of PER pods each (default 20) under a NodePool budget of BUDGET
# (default "10%") are emptied by scaling the deployment to 0, and the loop
# (pipelines/nap: nap-disrupt removes empty nodes) takes them away.  Against
# nap-sim at clock xSCALE (default 100).  Per run: real and simulated
# seconds from the scale-down to the last VM deleted, the most NodeClaims
# disrupting (deleting) at once in any sample and the budget then in force
# (nodes: "10%" of the NodePool's nodes, rounded up), the number of samples,
# and nap-sim's safety counters (PDB violations, do-not-disrupt pods
# evicted, VMs deleted with pods), which must all be 0; they are read just
# before the scale-down too, so that a breach while the nodes came up shows
# apart from one during the drain.  Medians over RUNS
# runs (default 1: one run takes minutes).
#   NODES=100 PER=20 BUDGET=10% SCALE=100 RUNS=1 KEEP=0 sh bench/drain.sh
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
: "${NAP_BIN:=$repo/bin}" "${NODES:=100}" "${PER:=20}" "${BUDGET:=10%}" "${SCALE:=100}"
: "${RUNS:=1}" "${TIMEOUT:=900}"
export NAP_BIN
pods=$((NODES * PER))
median() { sort -n | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# One size, Standard_D8s_v5, and pods sized so that PER of them fill one
# node's allocatable CPU (nap-sim's kubelet reserves as AKS does).
size=Standard_D8s_v5

run_once() {	# run_once DIR: one run, its figures as one JSON line on stdout
	local d=$1 sim_pid loop_pid i t0 now n max=0 maxb=0 samples=0 alloc cpu st
	mkdir -p "$d"
	"$NAP_BIN/nap-sim" --time-scale "$SCALE" --catalog "$repo/data" \
	    --kubeconfig-out "$d/kubeconfig" --config-out "$d/nap.yaml" --ca-out "$d/ca.pem" \
	    >"$d/ready.json" 2>"$d/sim.err" </dev/null &
	sim_pid=$!
	i=0
	until [ -s "$d/ready.json" ]; do
		kill -0 "$sim_pid" 2>/dev/null || { echo "nap-sim did not start" >&2; return 1; }
		[ $i -lt 300 ] || { echo "nap-sim not ready in 30 s" >&2; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
	export KUBECONFIG=$d/kubeconfig
	stats() {	# nap-sim's safety counters (nap-sim(1), GET /nap-sim/stats)
		curl -sS --cacert "$d/ca.pem" \
		    -H "Authorization: Bearer $(sed -n 's/^ *token: //p' "$d/kubeconfig")" \
		    "$(jq -r '.armURL // .arm // empty' "$d/ready.json")/nap-sim/stats"
	}
	k() { kubectl --request-timeout=60s "$@"; }
	k apply --server-side --force-conflicts -f "$repo/deploy/crds/" >"$d/apply.log" 2>&1 || return 1
	k apply -f "$repo/deploy/nodepools/default.yaml" >>"$d/apply.log" 2>&1 || return 1
	"$repo/pipelines/nap" --config "$d/nap.yaml" --time-scale "$SCALE" \
	    >"$([ "${KEEP:-0}" = 1 ] && echo "$d/loop.out" || echo /dev/null)" \
	    2>"$d/loop.err" </dev/null &
	loop_pid=$!
	# The allocatable CPU of one node of $size, from a probe node: the
	# first pod of the deployment brings one up.
	k apply -f - >>"$d/apply.log" 2>&1 <<-YAML || return 1
	apiVersion: karpenter.sh/v1
	kind: NodePool
	metadata: {name: drain}
	spec:
	  template:
	    metadata: {labels: {bench: drain}}
	    spec:
	      nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	      expireAfter: Never
	      requirements:
	        - {key: node.kubernetes.io/instance-type, operator: In, values: [$size]}
	        - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
	  disruption:
	    consolidationPolicy: WhenEmpty
	    consolidateAfter: 0s
	    budgets: [{nodes: "$BUDGET"}]
	YAML
	deploy() {	# deploy REPLICAS CPU
		k apply -f - >>"$d/apply.log" 2>&1 <<-YAML
		apiVersion: apps/v1
		kind: Deployment
		metadata: {name: drain, namespace: default}
		spec:
		  replicas: $1
		  selector: {matchLabels: {app: drain}}
		  template:
		    metadata: {labels: {app: drain}}
		    spec:
		      nodeSelector: {bench: drain}
		      terminationGracePeriodSeconds: 5
		      containers:
		        - name: main
		          image: mcr.microsoft.com/azurelinux/base/nginx:1
		          resources: {requests: {cpu: "$2", memory: 64Mi}}
		YAML
	}
	deploy 1 100m || return 1
	i=0
	until alloc=$(k get nodes -l bench=drain -o json 2>/dev/null |
	    jq -er '.items[0].status.allocatable.cpu'); do
		[ $i -lt 600 ] || { echo "no probe node in 60 s" >&2; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
	case $alloc in *m) alloc=${alloc%m} ;; *) alloc=$((alloc * 1000)) ;; esac
	# PER pods per node, less the DaemonSet pods' share (none in nap-sim's
	# default cluster beyond what allocatable already leaves).
	cpu=$((alloc / PER))m
	deploy "$pods" "$cpu" || return 1
	i=0
	while :; do
		n=$(k get --raw '/api/v1/namespaces/default/pods?labelSelector=app%3Ddrain&fieldSelector=status.phase%3DRunning' |
		    jq '.items | length')
		[ "${n:-0}" -ge "$pods" ] && break
		[ $i -lt "$TIMEOUT" ] || { echo "only $n of $pods pods Running after $TIMEOUT s" >&2; return 1; }
		sleep 1
		i=$((i + 1))
	done
	nodes_up=$(k get nodes -l bench=drain -o json | jq '.items | length')
	# The counters before the scale-down too: a breach during the scale-up
	# (nap-disrupt removing a node it saw empty while pods were landing)
	# shows apart from one during the drain.
	st0=$(stats)
	k scale deployment drain --replicas 0 >>"$d/apply.log" 2>&1 || return 1
	t0=$(date +%s.%N)
	while :; do
		k get nodeclaims -o json >"$d/nc.json" 2>/dev/null || { sleep 0.5; continue; }
		read -r n del < <(jq -r '[.items[] | select(.metadata.labels["karpenter.sh/nodepool"] == "drain")]
		    | "\(length) \([.[] | select(.metadata.deletionTimestamp)] | length)"' "$d/nc.json")
		samples=$((samples + 1))
		# The budget in force over the nodes there are now (deleting
		# ones included), rounded up as Karpenter does.
		case $BUDGET in
		*%) b=$(((n * ${BUDGET%\%} + 99) / 100)) ;;
		*) b=$BUDGET ;;
		esac
		[ "$del" -gt "$max" ] && max=$del
		[ "$del" -gt "$b" ] && [ $((del - b)) -gt "$maxb" ] && maxb=$((del - b))
		[ "$n" -eq 0 ] && break
		now=$(date +%s)
		[ "$(awk -v a="$now" -v b="$t0" 'BEGIN { print (a - b > '"$TIMEOUT"') }')" -eq 0 ] ||
		    { echo "$n NodeClaims left after $TIMEOUT s" >&2; return 1; }
		sleep 0.3
	done
	real=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
	st=$(stats)
	kill -TERM "$loop_pid" 2>/dev/null
	wait "$loop_pid" 2>/dev/null
	kill -TERM "$sim_pid" 2>/dev/null
	wait "$sim_pid" 2>/dev/null
	jq -cn --argjson real "$real" --argjson scale "$SCALE" --argjson max "$max" \
	    --argjson over "$maxb" --argjson samples "$samples" --argjson nodes "$nodes_up" \
	    --argjson pods "$pods" --argjson stats "${st:-null}" --argjson before "${st0:-null}" \
	    '{pods: $pods, nodes: $nodes, real: $real, simulated: ($real * $scale | round),
	      maxDisrupting: $max, overBudget: $over, samples: $samples, stats: $stats,
	      statsBeforeScaleDown: $before}'
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-drain.XXXXXX")
# KEEP=1 keeps the runs' logs (the loop's and nap-sim's stderr) in $tmp.
if [ "${KEEP:-0}" = 1 ]; then
	echo "logs in $tmp"
else
	trap 'rm -rf "$tmp"' EXIT INT TERM
fi
printf '%-4s %6s %6s %9s %11s %9s %9s %8s  %s\n' run pods nodes real-s simulated-s \
    max-disr over-bdgt samples 'safety (pdb, dnd, vm-with-pods; before the scale-down)'
status=0
for i in $(seq 1 "$RUNS"); do
	if out=$(run_once "$tmp/run$i"); then
		echo "$out" >>"$tmp/runs.ndjson"
		jq -r --arg i "$i" '[$i, .pods, .nodes, .real, .simulated, .maxDisrupting, .overBudget,
		    .samples, "\(.stats.pdbViolations) \(.stats.doNotDisruptEvicted) \(.stats.vmsDeletedWithPods);" +
		    " \(.statsBeforeScaleDown | "\(.pdbViolations) \(.doNotDisruptEvicted) \(.vmsDeletedWithPods)")"]
		    | @tsv' <<<"$out" | awk -F'\t' '{ printf "%-4s %6s %6s %9s %11s %9s %9s %8s  %s\n",
		    $1, $2, $3, $4, $5, $6, $7, $8, $9 }'
		jq -e '.overBudget == 0 and .stats.pdbViolations == 0 and .stats.doNotDisruptEvicted == 0
		    and .stats.vmsDeletedWithPods == 0' <<<"$out" >/dev/null || status=1
	else
		echo "run $i failed; logs:"
		tail -5 "$tmp/run$i/loop.err" "$tmp/run$i/sim.err" 2>/dev/null
		status=1
	fi
done
if [ -s "$tmp/runs.ndjson" ]; then
	echo "median: $(jq .real "$tmp/runs.ndjson" | median) s real," \
	    "$(jq .simulated "$tmp/runs.ndjson" | median) s simulated," \
	    "at most $(jq .maxDisrupting "$tmp/runs.ndjson" | sort -n | tail -1) disrupting at once" \
	    "(budget $BUDGET)"
fi
exit $status
