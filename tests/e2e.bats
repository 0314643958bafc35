#!/usr/bin/env bats
# The provision loop end to end: nap-sim with the AKS defaults and two more
# NodePools (tests/fixtures/e2e/), pipelines/nap run as nap(7) shows it, and
# the 500-pod mixed workload of make demo plus one pod no NodePool can take.
# setup_file runs the scale-up once and keeps the final state; each test
# checks one property of it against the API server and ARM, not against the
# loop's own records.  Then pipelines/nap-demo itself, on a smaller workload.

load helpers/sim

# Simulated seconds per real one: a VM boots in 4.5 s, a node is Ready 0.25 s
# after it registers, so the nodes of one plan register close together.
SCALE=20
SPOT_CPU_LIMIT=16

setup_file() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	F=$BATS_FILE_TMPDIR
	export NAP_BIN REPO F
	sim_start_in "$F/sim" --time-scale "$SCALE" --catalog "$REPO/data"
	sed 's|^catalog:.*|catalog: "'"$REPO"'/data"|' "$SIM_CONFIG" >"$F/nap.yaml"
	sim_kubectl apply --server-side --force-conflicts -f "$REPO/deploy/crds/" >"$F/apply.log"
	sim_kubectl apply -f "$REPO/deploy/nodepools/default.yaml" \
	    -f "$REPO/deploy/nodepools/system-surge.yaml" \
	    -f "$REPO/tests/fixtures/e2e/nodepools.yaml" >>"$F/apply.log"
	# A spot limit the workload's 24 one-CPU spot pods overrun.
	sim_kubectl patch nodepool spot --type merge \
	    -p '{"spec":{"limits":{"cpu":"'"$SPOT_CPU_LIMIT"'"}}}' >>"$F/apply.log"

	"$REPO/pipelines/nap" --config "$F/nap.yaml" --time-scale "$SCALE" \
	    >"$F/loop.out" 2>"$F/loop.err" </dev/null 3>&- &
	LOOP_PID=$!
	export LOOP_PID
	sim_poll 60 grep -q '"type":"SYNCED"' "$F/loop.out"

	sim_kubectl apply -f "$REPO/tests/fixtures/e2e/workload.yaml" >>"$F/apply.log"
	sim_kubectl apply -f - >>"$F/apply.log" <<-'EOF'
	apiVersion: v1
	kind: Pod
	metadata: {name: huge, namespace: default}
	spec:
	  containers:
	    - name: main
	      image: mcr.microsoft.com/azurelinux/base/nginx:1
	      resources: {requests: {cpu: "1000", memory: 1Gi}}
	EOF
	# Settled, or two and a half minutes: the tests say what went wrong.
	sim_poll 150 settled || :
	# Then no new disruption (consolidateAfter: Never holds every method
	# but drift and expiry), the commands under way finished, and the loop
	# stopped, so that the state read is at rest.
	sim_kubectl get nodepools -o name | while read -r np; do
		sim_kubectl patch "$np" --type merge \
		    -p '{"spec":{"disruption":{"consolidateAfter":"Never"}}}' >>"$F/apply.log"
	done
	sim_poll 60 settled || :
	kill -TERM "$LOOP_PID" 2>/dev/null
	wait "$LOOP_PID" 2>/dev/null
	LOOP_PID=
	capture
}

teardown_file() {
	if [ -n "${LOOP_PID:-}" ]; then
		kill -TERM "$LOOP_PID" 2>/dev/null
		wait "$LOOP_PID" 2>/dev/null
	fi
	sim_stop
}

# Everything that can run runs: the pods left are "huge" and spot pods the
# spot limit keeps out (less than the 2 vCPUs of the smallest size left);
# and the fleet is at rest: no NodeClaim being deleted or without its Node
# (nap-disrupt consolidates the pools as the pods land).
settled() {
	sim_kubectl get pods -A -o json >"$F/poll-pods.json" &&
	    sim_kubectl get nodes -o json >"$F/poll-nodes.json" &&
	    sim_kubectl get nodeclaims -o json >"$F/poll-claims.json" || return 1
	[ "$(waiting "$F/poll-pods.json" "$F/poll-nodes.json" | jq 'length')" -eq 0 ] &&
	    jq -e --slurpfile n "$F/poll-nodes.json" '[.items[] | select(.metadata.deletionTimestamp)] == []
	        and (.items | length) == ($n[0].items | length)' "$F/poll-claims.json" >/dev/null
}

# Pods not Running for no reason the NodePools give, as a JSON array.
waiting() {
	jq -n --slurpfile p "$1" --slurpfile n "$2" --argjson lim "$SPOT_CPU_LIMIT" '
		def cpu: if endswith("m") then .[:-1] | tonumber / 1000 else tonumber end;
		([$n[0].items[] | select(.metadata.labels["karpenter.sh/nodepool"] == "spot")
		  | .status.capacity.cpu | cpu] | add // 0) as $spot
		| [$p[0].items[] | select(.status.phase != "Running")
		   | select(.metadata.name != "huge")
		   | select((.metadata.labels.app == "spot-render" and $spot + 2 > $lim) | not)
		   | .metadata.namespace + "/" + .metadata.name]'
}

# The final state, from the API server and from ARM.
capture() {
	local arm tok
	sim_kubectl get pods -A -o json >"$F/pods.json"
	sim_kubectl get nodes -o json >"$F/nodes.json"
	sim_kubectl get nodeclaims -o json >"$F/nodeclaims.json"
	sim_kubectl get nodepools -o json >"$F/nodepools.json"
	tok=$(sim_acurl '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/' \
	    -H 'Metadata: true' | jq -r .access_token)
	arm="/subscriptions/$(sed -n 's/^ *subscriptionID: //p' "$SIM_CONFIG")"
	sim_acurl "$arm/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01" \
	    -H "Authorization: Bearer $tok" >"$F/vms.json"
}

# jq over the captured state: $pods, $nodes, $ncs, $vms, $pools are the items.
q() {
	local f=$1
	shift
	jq -n --slurpfile p "$F/pods.json" --slurpfile n "$F/nodes.json" \
	    --slurpfile c "$F/nodeclaims.json" --slurpfile v "$F/vms.json" \
	    --slurpfile np "$F/nodepools.json" "$@" \
	    '$p[0].items as $pods | $n[0].items as $nodes | $c[0].items as $ncs
	    | $v[0].value as $vms | $np[0].items as $pools | '"$f"
}

nothing_runs_in() {
	! pgrep -f "$1" >/dev/null
}

# The node a pod runs on.
node_of='(.spec.nodeName) as $nn | [$nodes[] | select(.metadata.name == $nn)][0]'

@test "a scale-up of 500 mixed pods reaches Running, but for the pods no NodePool allows" {
	[ "$(q '$pods | length')" -eq 501 ]
	run waiting "$F/pods.json" "$F/nodes.json"
	echo "left waiting: $output"
	[ "$output" = "[]" ]
	[ "$(q '[$pods[] | select(.status.phase == "Running")] | length')" -ge 485 ]
}

@test "the pod no NodePool can take stays Pending, and nap-solve says why" {
	[ "$(q '$pods[] | select(.metadata.name == "huge") | .status.phase' -r)" = Pending ]
	grep '"type":"Unschedulable"' "$F/loop.out" | grep -q '"pod":"default/huge"'
}

@test "every NodeClaim has one VM, every VM one Node, and no Node lacks a NodeClaim" {
	run q '{claims: ($ncs | length), vms: ($vms | length), nodes: ($nodes | length),
	    vmnames: ($vms | map(.name | ascii_downcase) | unique | length),
	    claimpids: ($ncs | map(.status.providerID) | unique | length),
	    nodepids: ($nodes | map(.spec.providerID) | unique | length),
	    matched: ([$ncs[].status.providerID] - [$nodes[].spec.providerID] | length),
	    orphans: ([$nodes[].spec.providerID] - [$ncs[].status.providerID] | length),
	    failed: ($vms | map(select(.properties.provisioningState != "Succeeded")) | length)}' -c
	echo "$output"
	[ "$(jq '.claims > 0' <<<"$output")" = true ]
	[ "$(jq '.claims == .vms and .vms == .nodes and .vms == .vmnames' <<<"$output")" = true ]
	[ "$(jq '.claimpids == .claims and .nodepids == .nodes' <<<"$output")" = true ]
	[ "$(jq '.matched == 0 and .orphans == 0 and .failed == 0' <<<"$output")" = true ]
}

@test "NodePool limits hold: the spot pool stops at its CPU limit, the gpu pool within its GPUs" {
	run q '
	    def num: if endswith("m") then .[:-1] | tonumber / 1000 else tonumber end;
	    [$pools[] | select(.spec.limits) | .metadata.name as $np | .spec.limits | to_entries[]
	     | .key as $k
	     | {pool: $np, res: $k, limit: (.value | num),
	        used: ([$nodes[] | select(.metadata.labels["karpenter.sh/nodepool"] == $np)
	               | .status.capacity[$k] // "0" | num] | add // 0)}]' -c
	echo "$output"
	[ "$(jq 'length >= 3' <<<"$output")" = true ]
	[ "$(jq 'all(.used <= .limit)' <<<"$output")" = true ]
	# The limit was reached, so it mattered: spot pods are left waiting.
	[ "$(q '[$pods[] | select(.metadata.labels.app == "spot-render" and .status.phase != "Running")]
	    | length')" -gt 0 ]
}

@test "spot capacity is used only by the spot NodePool and only spot pods run there" {
	run q "[\$pods[] | select(.spec.nodeName) | {app: .metadata.labels.app,
	    ct: ($node_of | .metadata.labels[\"karpenter.sh/capacity-type\"]),
	    pool: ($node_of | .metadata.labels[\"karpenter.sh/nodepool\"])}]" -c
	[ "$(jq '[.[] | select(.ct == "spot")] | length > 0' <<<"$output")" = true ]
	[ "$(jq 'all(.[]; (.ct == "spot") == (.app == "spot-render"))' <<<"$output")" = true ]
	[ "$(jq 'all(.[] | select(.ct == "spot"); .pool == "spot")' <<<"$output")" = true ]
	# ARM agrees: Spot VMs are exactly the spot nodes.
	[ "$(q '[$vms[] | select(.properties.priority == "Spot") | .name | ascii_downcase] | sort')" = \
	    "$(q '[$nodes[] | select(.metadata.labels["karpenter.sh/capacity-type"] == "spot")
	    | .metadata.name] | sort')" ]
}

@test "GPU pods run on GPU sizes, and no other pod does" {
	run q "[\$pods[] | select(.spec.nodeName) | {app: .metadata.labels.app,
	    gpus: ($node_of | .status.allocatable[\"nvidia.com/gpu\"] // \"0\" | tonumber),
	    size: ($node_of | .metadata.labels[\"node.kubernetes.io/instance-type\"])}]" -c
	[ "$(jq '[.[] | select(.app == "inference")] | length' <<<"$output")" -eq 4 ]
	[ "$(jq 'all(.[]; (.gpus > 0) == (.app == "inference"))' <<<"$output")" = true ]
	# The catalog says those sizes have NVIDIA GPUs.
	for s in $(jq -r '.[] | select(.app == "inference") | .size' <<<"$output" | sort -u); do
		awk -F'\t' -v s="$s" '$1 == "S" && $2 == s && $5 > 0 && $6 == "nvidia" { f = 1 }
		    END { exit !f }' "$REPO/data/catalog.tsv"
	done
}

@test "anti-affinity puts each cache pod on its own node, and the zone spread spreads" {
	run q '[$pods[] | select(.metadata.labels.app == "cache") | .spec.nodeName]'
	[ "$(jq 'length' <<<"$output")" -eq 6 ]
	[ "$(jq 'map(select(.)) | unique | length' <<<"$output")" -eq 6 ]
	run q "[\$pods[] | select(.metadata.labels.app == \"checkout\" and .spec.nodeName)
	    | $node_of | .metadata.labels[\"topology.kubernetes.io/zone\"]]
	    | group_by(.) | map(length)" -c
	echo "checkout pods per zone: $output"
	[ "$(jq 'add' <<<"$output")" -eq 60 ]
	# maxSkew 1 holds at each binding over the zones of that moment; a zone
	# whose first node comes later may stay behind, so the final counts are
	# checked for what must hold in any case: three zones or more, none with
	# more than a third of the pods plus one.
	[ "$(jq 'length >= 3 and max <= 21' <<<"$output")" = true ]
}

@test "system add-ons land on system-surge nodes, which carry the system mode label" {
	run q "[\$pods[] | select(.metadata.labels.app == \"addon-surge\") | $node_of
	    | {pool: .metadata.labels[\"karpenter.sh/nodepool\"],
	       mode: .metadata.labels[\"kubernetes.azure.com/mode\"]}]" -c
	[ "$(jq 'length' <<<"$output")" -eq 6 ]
	[ "$(jq 'all(.pool == "system-surge" and .mode == "system")' <<<"$output")" = true ]
}

@test "nap-demo with an unknown option exits 64 and prints its usage" {
	run "$REPO/pipelines/nap-demo" --bogus
	[ "$status" -eq 64 ]
	[[ "$output" == usage:\ nap-demo\ * ]]
}

@test "nap-demo runs a small mixed workload to Running, scales it down, sums it up, and leaves nothing behind" {
	mkdir -p "$BATS_TEST_TMPDIR/t"
	TMPDIR=$BATS_TEST_TMPDIR/t run timeout 120 "$REPO/pipelines/nap-demo" --pods 100 \
	    --time-scale 50 --timeout 60 --summary-json "$BATS_TEST_TMPDIR/sum.json" \
	    --record "$BATS_TEST_TMPDIR/demo.ndjson"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"pods Running          100 of 100"* ]]
	[[ "$output" == *"LP bound"* ]]
	[ "$(jq '.running == 100 and .stuck == 0 and .nodes > 0 and .fleet >= .lp and .lp > 0' \
	    "$BATS_TEST_TMPDIR/sum.json")" = true ]
	# the scale-down: the default pool's deployments to 0, their nodes gone
	[[ "$output" == *"Scale-down "*"before"*"after"* ]]
	[ "$(jq '.nodes as $n | .scaleDown | .nodesBefore == $n and .nodesAfter < .nodesBefore
	    and .fleetAfter < .fleetBefore and .seconds > 0 and .maxDeleting >= 1' \
	    "$BATS_TEST_TMPDIR/sum.json")" = true ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/t")" ]
	run pgrep -f "$BATS_TEST_TMPDIR/t/"
	[ "$status" -ne 0 ]
	# the demo's recorded stream, charted by nap-cost and drawn to PNG
	command -v rsvg-convert >/dev/null || { echo "rsvg-convert is missing (librsvg2-bin)"; false; }
	"$NAP_BIN/nap-cost" --config /dev/null --catalog "$REPO/data" --region eastus \
	    --svg "$BATS_TEST_TMPDIR/demo.svg" <"$BATS_TEST_TMPDIR/demo.ndjson" >"$BATS_TEST_TMPDIR/cost.txt"
	grep -q '<polyline id="fleet"' "$BATS_TEST_TMPDIR/demo.svg"
	rsvg-convert -o "$BATS_TEST_TMPDIR/demo.png" "$BATS_TEST_TMPDIR/demo.svg"
	[ "$(head -c 8 "$BATS_TEST_TMPDIR/demo.png" | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ]
}

@test "nap-demo stops the simulator and the loop on SIGTERM and removes its directory" {
	mkdir -p "$BATS_TEST_TMPDIR/t"
	TMPDIR=$BATS_TEST_TMPDIR/t "$REPO/pipelines/nap-demo" --pods 100 --time-scale 50 \
	    >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	pid=$!
	sim_poll 120 grep -q 'provision loop' "$BATS_TEST_TMPDIR/out"
	pgrep -f "$BATS_TEST_TMPDIR/t/" >/dev/null
	kill -TERM "$pid"
	wait "$pid" || st=$?
	[ "${st:-0}" -eq 143 ]
	sim_poll 30 nothing_runs_in "$BATS_TEST_TMPDIR/t/"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/t")" ]
}
