#!/usr/bin/env bats
# nap-disrupt and drift (issue 15, part) against nap-sim, 50x faster:
# nap-upgrade marks the NodeClaims ImageDrift once a new gallery image is
# published; nap-disrupt then deletes the empty drifted nodes within the
# pool's Drifted budget, sampled throughout, and holds the non-empty one
# (replacement first is not carried out yet, so it must not go at all).
# The planning cases (tests/fixtures/nap-disrupt/drift-*) run in
# nap-disrupt.bats and t-disrupt with the others.

load helpers/sim
bats_require_minimum_version 1.5.0

SCALE=50

setup() {
	unset KUBECONFIG KUBERNETES_SERVICE_HOST NAP_CONFIG
	OUT=$BATS_TEST_TMPDIR/out.ndjson
	ERR=$BATS_TEST_TMPDIR/err
	DPID= WPID=
}

teardown() {
	[ -z "$DPID" ] || { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; } || :
	[ -z "$WPID" ] || kill -TERM "$WPID" 2>/dev/null || :
	sim_stop || :
}

# upgrade_pass: one nap-upgrade pass over a fresh snapshot.
upgrade_pass() {
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --once >"$BATS_TEST_TMPDIR/snap" &&
	    "$NAP_BIN/nap-upgrade" --config "$SIM_CONFIG" <"$BATS_TEST_TMPDIR/snap" \
	    >>"$BATS_TEST_TMPDIR/upgrade.out" 2>>"$BATS_TEST_TMPDIR/upgrade.err"
}

# launch NAME...: one LaunchRequest per name through nap-launch, followed to
# Initialized; nap-launch is then stopped (termination is nap-disrupt's).
launch() {
	local st=$BATS_TEST_TMPDIR/launch w l n
	for n in "$@"; do
		jq -cn --arg n "$n" '{type: "LaunchRequest", pods: [], price: 0.1,
		  nodeClaim: {apiVersion: "karpenter.sh/v1", kind: "NodeClaim",
		    metadata: {name: $n, labels: {"karpenter.sh/nodepool": "default"}},
		    spec: {requirements: [
		        {key: "node.kubernetes.io/instance-type", operator: "In", values: ["Standard_D2s_v3"]},
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
	sim_poll 90 initialized "$st.out" "$#"
	kill -TERM "$w" "$l" 2>/dev/null || :
	wait "$w" "$l" 2>/dev/null || :
}

initialized() { [ "$(grep -c '^{"type":"Initialized"' "$1")" -ge "$2" ]; }

drift_of() {
	sim_kubectl get nodeclaim "$1" -o jsonpath='{.status.conditions[?(@.type=="Drifted")].reason}'
}

gone() { ! sim_kubectl get nodeclaim "$1" >/dev/null 2>&1; }

# sample: how many NodeClaims are being deleted now, the most seen kept in $BATS_TEST_TMPDIR/max.
sample() {
	local n m
	n=$(sim_kubectl get nodeclaims -o json | jq '[.items[] | select(.metadata.deletionTimestamp)] | length')
	m=$(cat "$BATS_TEST_TMPDIR/max" 2>/dev/null || echo 0)
	[ "$n" -le "$m" ] || echo "$n" >"$BATS_TEST_TMPDIR/max"
}

# both_gone A B: sampled while waiting.
both_gone() { sample; gone "$1" && gone "$2"; }

blocked_event() {
	sim_kubectl get events -o json | jq -e --arg n "$1" \
	    '[.items[] | select(.reason == "DisruptionBlocked" and .involvedObject.name == $n)] | length > 0' >/dev/null
}

@test "after a new image, the empty drifted nodes go one per budget, the non-empty one is held, nothing unsafe" {
	sim_start --catalog "$BATS_TEST_DIRNAME/../data" --time-scale "$SCALE"
	sim_kubectl apply --server-side --force-conflicts -f "$BATS_TEST_DIRNAME/../deploy/crds/" >/dev/null
	sim_kubectl apply -f - >/dev/null <<-'EOF'
	apiVersion: karpenter.azure.com/v1beta1
	kind: AKSNodeClass
	metadata:
	  name: default
	spec:
	  imageFamily: Ubuntu
	---
	apiVersion: karpenter.sh/v1
	kind: NodePool
	metadata:
	  name: default
	spec:
	  disruption:
	    consolidateAfter: Never
	    budgets:
	    - {nodes: "1", reasons: [Drifted]}
	    - {nodes: "100%"}
	  template:
	    spec:
	      nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	      requirements:
	      - {key: node.kubernetes.io/instance-type, operator: In, values: [Standard_D2s_v3]}
	EOF
	upgrade_pass
	launch d1 d2 d3
	jq -n '{apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "web"},
	  spec: {replicas: 2, selector: {matchLabels: {app: "web"}},
	    template: {metadata: {labels: {app: "web"}},
	      spec: {nodeSelector: {"kubernetes.io/hostname": "aks-d3"}, terminationGracePeriodSeconds: 2,
	        containers: [{name: "c", image: "nginx", resources: {requests: {cpu: "50m"}}}]}}}}' |
	    sim_kubectl apply -f - >/dev/null
	sim_poll 60 eval '[ "$(sim_kubectl get pods -o json | jq "[.items[] | select(.status.phase == \"Running\")] | length")" -eq 2 ]'

	sim_acurl /nap-sim/images -X POST -d '{"definition":"*","version":"202701.01.0"}' >/dev/null
	upgrade_pass
	[ "$(drift_of d1)" = ImageDrift ]
	[ "$(drift_of d2)" = ImageDrift ]
	[ "$(drift_of d3)" = ImageDrift ]

	mkfifo "$BATS_TEST_TMPDIR/state"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$BATS_TEST_TMPDIR/state" 2>"$BATS_TEST_TMPDIR/watch.err" &
	WPID=$!
	start=$(date +%s.%N)
	"$NAP_BIN/nap-disrupt" --config "$SIM_CONFIG" --time-scale "$SCALE" --interval 1s \
	    <"$BATS_TEST_TMPDIR/state" >"$OUT" 2>"$ERR" &
	DPID=$!
	sim_poll 120 both_gone d1 d2
	end=$(date +%s.%N)
	sim_poll 30 blocked_event d3
	sample
	kill -TERM "$DPID"
	wait "$DPID"
	DPID=

	# One at a time: the budget (1 for Drifted) was never exceeded.
	[ "$(cat "$BATS_TEST_TMPDIR/max")" -le 1 ]
	[ "$(jq -c 'select(.type == "Disruption" and .reason == "Drifted" and .replacements == 0
	    and (.nodeClaims | length) == 1 and .budget.allowed == 1)' "$OUT" | wc -l)" -eq 2 ]
	[ -z "$(jq -c 'select(.type == "Disruption" and .nodeClaims[0].name == "d3")' "$OUT")" ]
	# The non-empty drifted node is untouched: not deleting, not tainted, its pods Running.
	[ -z "$(sim_kubectl get nodeclaim d3 -o jsonpath='{.metadata.deletionTimestamp}')" ]
	[ -z "$(sim_kubectl get node aks-d3 -o json | jq -c '.spec.taints[]? | select(.key == "karpenter.sh/disrupted")')" ]
	[ "$(sim_kubectl get pods -o json | jq '[.items[] | select(.status.phase == "Running" and .spec.nodeName == "aks-d3")] | length')" -eq 2 ]
	[ "$(sim_stat pdbViolations)" -eq 0 ]
	[ "$(sim_stat doNotDisruptEvicted)" -eq 0 ]
	[ "$(sim_stat vmsDeletedWithPods)" -eq 0 ]
	# Simulated time to remove the two empty drifted nodes under a budget of 1.
	echo "# rolled 2 empty drifted nodes in $(echo "($end - $start) * $SCALE" | bc -l | cut -d. -f1) simulated s" >&3
}
