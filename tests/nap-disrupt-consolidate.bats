#!/usr/bin/env bats
# nap-disrupt and consolidation (issue 15) against one nap-sim for the
# file, 50x faster.  setup_file launches a fleet a scale-down left
# fragmented, in NodePools of their own:
#   frag  4 x Standard_D2s_v3, one 400m pod each (a second Deployment that
#         doubled them scaled to 0): three can go, their pods fit on one;
#   big   1 x Standard_D8s_v3 holding two 400m pods, in a pool that also
#         allows Standard_D2s_v3: one cheaper node holds them;
#   held  2 x Standard_D2s_v3, one karpenter.sh/do-not-disrupt pod each;
#   pdb   2 x Standard_D2s_v3, one pod each under a PDB that allows none.
# The loop (pipelines/nap) then consolidates what may go, replacement first,
# and the invariant sampler (helpers/invariants) runs from start to end.
# The capacity case has a pool of its own (ice).

load helpers/sim
load helpers/invariants
bats_require_minimum_version 1.5.0

SCALE=50

# pool NAME TYPES: a NodePool of these on-demand sizes that consolidates at once.
pool() {
	sim_kubectl apply -f - >/dev/null <<-EOF
	apiVersion: karpenter.sh/v1
	kind: NodePool
	metadata: {name: $1}
	spec:
	  disruption:
	    consolidationPolicy: WhenEmptyOrUnderutilized
	    consolidateAfter: 0s
	    budgets: [{nodes: "100%"}]
	  template:
	    spec:
	      nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	      expireAfter: Never
	      requirements:
	      - {key: node.kubernetes.io/instance-type, operator: In, values: [$2]}
	      - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
	EOF
}

# launch "NAME POOL TYPE"...: NodeClaims through nap-launch, followed to
# Initialized; nap-launch is then stopped (termination is nap-disrupt's).
launch() {
	local st=$BATS_FILE_TMPDIR/launch w l spec
	for spec in "$@"; do
		set -- $spec
		jq -cn --arg n "$1" --arg p "$2" --arg t "$3" '{type: "LaunchRequest", pods: [], price: 0.1,
		  nodeClaim: {apiVersion: "karpenter.sh/v1", kind: "NodeClaim",
		    metadata: {name: $n, labels: {"karpenter.sh/nodepool": $p}},
		    spec: {requirements: [
		        {key: "node.kubernetes.io/instance-type", operator: "In", values: [$t]},
		        {key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"]}],
		      resources: {requests: {cpu: "100m"}},
		      nodeClassRef: {group: "karpenter.azure.com", kind: "AKSNodeClass", name: "default"}}}}'
	done >"$st.req"
	mkfifo "$st"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$st" 2>"$st.werr" &
	w=$!
	(cat "$st.req"; exec cat "$st") | "$NAP_BIN/nap-launch" --config "$SIM_CONFIG" \
	    --time-scale "$SCALE" >"$st.out" 2>"$st.err" &
	l=$!
	sim_poll 120 initialized "$st.out" "$(wc -l <"$st.req")" || { tail -n 20 "$st.err"; return 1; }
	kill -TERM "$w" "$l" 2>/dev/null || :
	wait "$w" "$l" 2>/dev/null || :
	rm -f "$st"
}

initialized() { [ "$(grep -c '^{"type":"Initialized"' "$1")" -ge "$2" ]; }

# deploy NAME POOL REPLICAS [ANNOTATIONS-JSON]: 400m pods on that pool's nodes.
deploy() {
	jq -n --arg n "$1" --arg p "$2" --argjson r "$3" --argjson a "${4:-{\}}" '{
	  apiVersion: "apps/v1", kind: "Deployment", metadata: {name: $n},
	  spec: {replicas: $r, selector: {matchLabels: {app: $n}},
	    template: {metadata: {labels: {app: $n, pool: $p}, annotations: $a},
	      spec: {nodeSelector: {"karpenter.sh/nodepool": $p}, terminationGracePeriodSeconds: 2,
	        containers: [{name: "c", image: "nginx", resources: {requests: {cpu: "400m"}}}]}}}}' |
	    sim_kubectl apply -f - >/dev/null
}

running() {	# running N [POOL]: N pods Running (of that pool's Deployments)
	[ "$(sim_kubectl get pods -o json | jq --arg p "${2:-}" '[.items[] | select(.status.phase == "Running"
	    and ($p == "" or .metadata.labels.pool == $p))] | length')" -eq "$1" ]
}

# spread POOL: every node of the pool holds exactly one Running pod.
spread() {
	sim_kubectl get pods -o json | jqe --arg p "$1" '[.items[] | select(.metadata.labels.pool == $p
	    and .status.phase == "Running") | .spec.nodeName] | (length == (unique | length))' >/dev/null
}

setup_file() {
	unset KUBECONFIG KUBERNETES_SERVICE_HOST NAP_CONFIG
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	export NAP_BIN
	sim_start --catalog "$BATS_TEST_DIRNAME/../data" --time-scale "$SCALE"
	sim_kubectl apply --server-side --force-conflicts -f "$BATS_TEST_DIRNAME/../deploy/crds/" >/dev/null
	sim_kubectl apply -f - >/dev/null <<-EOF
	apiVersion: karpenter.azure.com/v1beta1
	kind: AKSNodeClass
	metadata: {name: default}
	spec: {imageFamily: Ubuntu}
	EOF
	pool frag Standard_D2s_v3
	pool big "Standard_D2s_v3, Standard_D8s_v3"
	pool held Standard_D2s_v3
	pool pdb Standard_D2s_v3
	# The class's image resolved first: NodeClaims launched before it
	# would all be ImageDrift, and drift goes before consolidation.
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --once | "$NAP_BIN/nap-upgrade" --config "$SIM_CONFIG" >/dev/null
	launch "frag1 frag Standard_D2s_v3" "frag2 frag Standard_D2s_v3" "frag3 frag Standard_D2s_v3" \
	    "frag4 frag Standard_D2s_v3" "big1 big Standard_D8s_v3" "held1 held Standard_D2s_v3" \
	    "held2 held Standard_D2s_v3" "pdb1 pdb Standard_D2s_v3" "pdb2 pdb Standard_D2s_v3"
	# One pod a node (the scheduler takes the least allocated), then
	# as many again, then the second Deployment scaled to 0.
	deploy base frag 4
	sim_poll 60 running 4 frag
	deploy burst frag 4
	sim_poll 60 running 8 frag
	sim_kubectl scale deployment burst --replicas 0 >/dev/null
	deploy big big 2
	deploy held held 2 '{"karpenter.sh/do-not-disrupt": "true"}'
	deploy guarded pdb 2
	sim_create_pdb guarded app=guarded 2 >/dev/null
	sim_poll 60 running 10
	spread frag
	spread held
	spread pdb
}

teardown_file() {
	sim_stop || :
}

setup() {
	OUT=$BATS_TEST_TMPDIR/out.ndjson
	ERR=$BATS_TEST_TMPDIR/err
	LOOP_PID='' WPID=''
}

teardown() {
	[ -z "$WPID" ] || kill -TERM "$WPID" 2>/dev/null || :
	if [ -n "$LOOP_PID" ]; then
		kill -TERM "$LOOP_PID" 2>/dev/null || :
		wait "$LOOP_PID" 2>/dev/null || :
	fi
	invariants_stop
}

# loop: the live loop of pipelines/nap in the background, its output in
# $OUT, its messages in $ERR, the tools' metrics in $PROM.
loop() {
	PROM=$BATS_TEST_TMPDIR/prom
	mkdir -p "$PROM"
	cp "$SIM_CONFIG" "$BATS_TEST_TMPDIR/nap.yaml"
	printf 'metrics:\n  textfileDirectory: %s\n' "$PROM" >>"$BATS_TEST_TMPDIR/nap.yaml"
	"$BATS_TEST_DIRNAME/../pipelines/nap" --config "$BATS_TEST_TMPDIR/nap.yaml" \
	    --time-scale "$SCALE" --region eastus >"$OUT" 2>"$ERR" &
	LOOP_PID=$!
}

# metric NAME: its value in nap-disrupt's textfile (empty before the first).
metric() {
	sed -n "s/^$1 //p" "$PROM/nap-disrupt.prom" 2>/dev/null
}

# bounded: the gauges show a fleet priced at or above the whole-pod bound of its pods.
bounded() {
	awk -v f="$(metric nap_disrupt_fleet_price_usd_per_hour)" \
	    -v b="$(metric nap_disrupt_fleet_bound_usd_per_hour)" 'BEGIN { exit !(b > 0 && b <= f) }'
}

passes_past() {	# passes_past N: more than N planner passes so far
	local n
	n=$(metric nap_disrupt_plan_passes_total)
	[ -n "$n" ] && [ "$n" -gt "$1" ]
}

stop_loop() {
	kill -TERM "$LOOP_PID" 2>/dev/null || :
	wait "$LOOP_PID" 2>/dev/null || :
	LOOP_PID=
}

# poll SECONDS CMD...: sim_poll, showing the loop's last words when it gives up.
poll() {
	sim_poll "$@" || { echo "loop.err:"; tail -n 30 "$ERR"; false; }
}

claims() {	# claims POOL: the pool's NodeClaims not being deleted, "name type" a line
	sim_kubectl get nodeclaims -o json | jq -r --arg p "$1" '.items[]
	    | select(.metadata.labels["karpenter.sh/nodepool"] == $p and (.metadata.deletionTimestamp | not))
	    | "\(.metadata.name) \(.metadata.labels["node.kubernetes.io/instance-type"])"'
}

nclaims() { [ "$(claims "$1" | wc -l)" -eq "$2" ]; }


sampled() { invariants_replaced_first; "$@"; }	# sampled CMD...: sample, then CMD

no_breach() { [ ! -s "$BATS_TEST_TMPDIR/breach" ] || { cat "$BATS_TEST_TMPDIR/breach"; false; }; }

untainted() {	# untainted NODE: no karpenter.sh/disrupted taint
	sim_kubectl get node "$1" -o json | jqe '[.spec.taints[]? | select(.key == "karpenter.sh/disrupted")] | length == 0' >/dev/null
}

@test "--dry-run on the fragmented fleet plans a consolidation, and says do-not-disrupt and the PDB hold theirs" {
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --once >"$BATS_TEST_TMPDIR/snap"
	run "$NAP_BIN/nap-disrupt" --dry-run --region eastus <"$BATS_TEST_TMPDIR/snap"
	[ "$status" -eq 0 ]
	echo "$output" | jq -se 'map(select(.type == "Disruption")) | length == 1 and .[0].reason == "Underutilized"'
	echo "$output" | jq -se 'map(select(.type == "DisruptionVerdict")) | map({(.nodeClaim): .why}) | add
	    | .held1 == "PodDoNotDisrupt" and .held2 == "PodDoNotDisrupt" and .pdb1 == "PDBBlocks" and .pdb2 == "PDBBlocks"'
}

@test "the fragmented fleet consolidates: three nodes deleted at once, the big one replaced by a cheaper size, the held ones kept" {
	invariants_start
	loop
	poll 120 sampled nclaims frag 1
	poll 120 sampled eval '[ "$(claims big | cut -d" " -f2)" = Standard_D2s_v3 ]'
	poll 60 sampled running 10
	poll 60 bounded
	stop_loop
	invariants_check
	no_breach
	# Every command gives the fleet's $/h against the whole-pod bound of its pods.
	jq -se 'map(select(.type == "Disruption")) | length >= 2
	    and all(.[]; .fleet.bound > 0 and .fleet.bound <= .fleet.price and .fleet.ratio >= 1)' "$OUT"
	# Multi-node: one command deleted the frag nodes without a replacement.
	jq -se 'map(select(.type == "Disruption" and .reason == "Underutilized" and .replacements == 0
	    and (.nodeClaims | length) >= 2 and all(.nodeClaims[]; .name | startswith("frag")))) | length >= 1' "$OUT"
	# The big node: replaced by a cheaper size, the NodeClaim the command
	# names (nap-launch took its LaunchRequest; the last command, should an
	# earlier one have been given up), its two pods nominated to it.
	repl=$(jq -r 'select(.type == "Disruption" and .reason == "Underutilized" and .replacements == 1
	    and any(.nodeClaims[]; .name == "big1")) | .launch[0].nodeClaim.metadata.name' "$OUT" | tail -n 1)
	[ -n "$repl" ]
	[ "$(claims big)" = "$repl Standard_D2s_v3" ]
	jq -se --arg r "$repl" 'map(select(.type == "Nominated" and .node == $r and .kind == "NodeClaim")) | length == 2' "$OUT"
	# The held nodes were never in a command, nor tainted.
	run ! jq -e 'select(.type == "Disruption") | .nodeClaims[] | select(.name | test("^(held|pdb)"))' "$OUT"
	[ "$(claims held | wc -l)" -eq 2 ]
	[ "$(claims pdb | wc -l)" -eq 2 ]
	for n in held1 held2 pdb1 pdb2; do untainted "aks-$n"; done
}

@test "a replacement that cannot launch leaves its node untainted and running, and nothing dearer is launched instead" {
	pool ice "Standard_D2s_v5, Standard_D4s_v3"
	launch "ice1 ice Standard_D4s_v3"
	deploy icy ice 1
	poll 60 running 1 ice
	sim_acurl /nap-sim/faults -X POST -H 'Content-Type: application/json' \
	    -d '{"capacity": [{"size": "Standard_D2s_v5", "zone": "*", "capacityType": "*", "available": 0}]}' >/dev/null
	invariants_start
	loop
	poll 120 grep -q '"type":"LaunchFailed"' "$OUT"
	poll 60 eval 'sim_kubectl get events -o json | jqe "[.items[] | select(.reason == \"DisruptionReplacementFailed\"
	    and .involvedObject.name == \"ice1\")] | length > 0" >/dev/null'
	poll 60 untainted aks-ice1
	# nap-launch's OfferingUnavailable came back to nap-disrupt (--input):
	# the passes after the failure plan ice1 no more, Standard_D2s_v5 being
	# out and Standard_D4s_v3 not cheaper (and no dearer on-demand size
	# ever offered instead).
	p=$(metric nap_disrupt_plan_passes_total)
	poll 60 passes_past $((${p:-0} + 60))
	jq -se '[.[] | select(.type == "Disruption" and .nodeClaims[0].name == "ice1")] | length == 1' "$OUT" ||
	    { tail -n 30 "$ERR"; false; }
	# nap-disrupt passed them on: nap-solve read them on its standard input.
	poll 30 grep -q '^nap_records_read_total{type="OfferingUnavailable"} [1-9]' "$PROM/nap-solve.prom"
	stop_loop
	invariants_check
	sim_acurl /nap-sim/faults -X DELETE >/dev/null
	[ -z "$(sim_kubectl get nodeclaim ice1 -o jsonpath='{.metadata.deletionTimestamp}')" ]
	running 1 ice
	# Every replacement asked for was the cheaper size only, and none but
	# ice1 of the pool is left.
	jq -se 'map(select(.type == "Disruption" and .nodeClaims[0].name == "ice1") | .launch[])
	    | length >= 1 and all(.[]; [.nodeClaim.spec.requirements[]
	        | select(.key == "node.kubernetes.io/instance-type") | .values[]] == ["Standard_D2s_v5"])' "$OUT"
	poll 60 eval '[ "$(claims ice)" = "ice1 Standard_D4s_v3" ]'
}

@test "a consolidation waits 15 s and is dropped when a do-not-disrupt pod arrives meanwhile" {
	# ice1 (Standard_D4s_v3) may be replaced by a Standard_D2s_v5 again.
	# nap-disrupt alone, at 2x: the validation delay is 7.5 s.
	mkfifo "$BATS_TEST_TMPDIR/state"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$BATS_TEST_TMPDIR/state" 2>"$BATS_TEST_TMPDIR/watch.err" &
	WPID=$!
	"$NAP_BIN/nap-disrupt" --config "$SIM_CONFIG" --time-scale 2 --interval 1s --region eastus -v \
	    <"$BATS_TEST_TMPDIR/state" >"$OUT" 2>"$ERR" &
	LOOP_PID=$!
	poll 60 grep -q 'Underutilized command on nodepool ice planned: validating' "$ERR"
	pod=$(sim_kubectl get pods -l app=icy -o jsonpath='{.items[0].metadata.name}')
	sim_kubectl annotate pod "$pod" karpenter.sh/do-not-disrupt=true >/dev/null
	poll 60 grep -q 'Underutilized command on nodepool ice dropped after validation: nodeclaim ice1 is no longer a candidate: .*do-not-disrupt' "$ERR"
	stop_loop
	kill -TERM "$WPID" 2>/dev/null || :
	wait "$WPID" 2>/dev/null || :
	run ! grep -q '"type":"Disruption"' "$OUT"
	untainted aks-ice1
	sim_kubectl get events -o json | jqe '[.items[] | select(.reason == "ConsolidationRejected"
	    and .involvedObject.name == "aks-ice1")] | length == 1' >/dev/null
}
