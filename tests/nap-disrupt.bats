#!/usr/bin/env bats
# nap-disrupt: the record-filter contract, and termination against nap-sim:
# deleting a NodeClaim or a Node drains it through the Eviction API before
# the VM goes; a PodDisruptionBudget holds the drain until the
# terminationGracePeriod, a do-not-disrupt pod is held until the deadline;
# --dry-run on fixture snapshots.  nap-sim runs 50x faster; durations
# written in objects (terminationGracePeriod) are obeyed as written.

# shellcheck disable=SC2030,SC2031  # each @test is a subshell: DPID and WPID are per test
load helpers/sim
bats_require_minimum_version 1.5.0

SCALE=50
SUB=00000000-0000-0000-0000-000000000000

setup() {
	REPO=$BATS_TEST_DIRNAME/..
	F=$BATS_TEST_DIRNAME/fixtures/nap-disrupt
	OUT=$BATS_TEST_TMPDIR/out.ndjson
	ERR=$BATS_TEST_TMPDIR/err
	DPID=
}

teardown() {
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null || :
		wait "$DPID" 2>/dev/null || :
	fi
	if [ -n "${WPID:-}" ]; then
		kill -TERM "$WPID" 2>/dev/null || :
	fi
	sim_stop || :
}

disrupt() {
	"$NAP_BIN/nap-disrupt" "$@"
}

# start_sim: nap-sim with one AKSNodeClass and the NodePool "default".
start_sim() {
	sim_start --catalog "$REPO/data" --time-scale "$SCALE"
	RG=$(sed -n 's/^ *resourceGroup: //p' "$SIM_CONFIG")
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
	  template:
	    spec:
	      nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	      requirements:
	      - {key: node.kubernetes.io/instance-type, operator: In, values: [Standard_D2s_v3]}
	EOF
}

# make_node NAME [TGP [SPEC-JSON]]: a NodeClaim (terminationGracePeriod TGP,
# none when empty; more spec fields from SPEC-JSON) made by nap-launch,
# followed to Initialized; nap-launch is then stopped, so that termination is
# nap-disrupt's alone.
make_node() {
	local name=$1 tgp=${2:-} more=${3:-'{}'} st=$BATS_TEST_TMPDIR/st-$1 w l
	jq -cn --arg n "$name" --arg g "$tgp" --argjson m "$more" '{type: "LaunchRequest", pods: [], price: 0.1,
	  nodeClaim: {apiVersion: "karpenter.sh/v1", kind: "NodeClaim",
	    metadata: {name: $n, labels: {"karpenter.sh/nodepool": "default"}},
	    spec: ({requirements: [
	        {key: "node.kubernetes.io/instance-type", operator: "In", values: ["Standard_D2s_v3"]},
	        {key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"]}],
	      resources: {requests: {cpu: "100m"}},
	      nodeClassRef: {group: "karpenter.azure.com", kind: "AKSNodeClass", name: "default"}}
	      + (if $g == "" then {} else {terminationGracePeriod: $g} end) + $m)}}' >"$st.req"
	mkfifo "$st"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$st" 2>"$st.werr" &
	w=$!
	(cat "$st.req"; exec cat "$st") | "$NAP_BIN/nap-launch" --config "$SIM_CONFIG" \
	    --time-scale "$SCALE" >"$st.out" 2>"$st.err" &
	l=$!
	sim_poll 60 grep -q '^{"type":"Initialized"' "$st.out"
	kill -TERM "$w" "$l" 2>/dev/null || :
	wait "$w" "$l" 2>/dev/null || :
}

# make_nodes PREFIX N: N NodeClaims PREFIX0..PREFIX<N-1> launched together,
# followed to Initialized; nap-launch is then stopped.
make_nodes() {
	local st=$BATS_TEST_TMPDIR/st-$1 w l
	jq -cn --arg p "$1" --argjson n "$2" 'range($n) | {type: "LaunchRequest", pods: [], price: 0.1,
	  nodeClaim: {apiVersion: "karpenter.sh/v1", kind: "NodeClaim",
	    metadata: {name: "\($p)\(.)", labels: {"karpenter.sh/nodepool": "default"}},
	    spec: {requirements: [
	        {key: "node.kubernetes.io/instance-type", operator: "In", values: ["Standard_D2s_v3"]},
	        {key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"]}],
	      resources: {requests: {cpu: "100m"}},
	      nodeClassRef: {group: "karpenter.azure.com", kind: "AKSNodeClass", name: "default"}}}}' >"$st.req"
	mkfifo "$st"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$st" 2>"$st.werr" &
	w=$!
	(cat "$st.req"; exec cat "$st") | "$NAP_BIN/nap-launch" --config "$SIM_CONFIG" \
	    --time-scale "$SCALE" >"$st.out" 2>"$st.err" &
	l=$!
	sim_poll 120 sh -c "[ \$(grep -c '^{\"type\":\"Initialized\"' '$st.out') -ge $2 ]"
	kill -TERM "$w" "$l" 2>/dev/null || :
	wait "$w" "$l" 2>/dev/null || :
}

# workload NAME REPLICAS [ANNOTATIONS-JSON] [GRACE]: a Deployment whose pods
# stop in GRACE simulated seconds (2 by default).
workload() {
	local ann=${3:-'{}'} grace=${4:-2}
	jq -n --arg n "$1" --argjson r "$2" --argjson a "$ann" --argjson g "$grace" '{apiVersion: "apps/v1",
	  kind: "Deployment", metadata: {name: $n},
	  spec: {replicas: $r, selector: {matchLabels: {app: $n}},
	    template: {metadata: {labels: {app: $n}, annotations: $a},
	      spec: {terminationGracePeriodSeconds: $g,
	        containers: [{name: "c", image: "nginx", resources: {requests: {cpu: "50m"}}}]}}}}' |
	    sim_kubectl apply -f - >/dev/null
}

running_on() {	# running_on NODE N: N pods Running on NODE
	[ "$(sim_kubectl get pods -o json | jq --arg n "$1" \
	    '[.items[] | select(.spec.nodeName == $n and .status.phase == "Running")] | length')" -eq "$2" ]
}

pods_on() {	# pods_on NODE: how many pods are bound to NODE
	sim_kubectl get pods -o json | jq --arg n "$1" '[.items[] | select(.spec.nodeName == $n)] | length'
}

# start_disrupt [ARGS...]: nap-watch | nap-disrupt in the background, through
# a FIFO so that DPID is nap-disrupt itself (stop_disrupt: its stats line).
start_disrupt() {
	local st=$BATS_TEST_TMPDIR/state
	mkfifo "$st"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$st" 2>"$BATS_TEST_TMPDIR/watch.err" &
	WPID=$!
	NAP_DISRUPT_STATS=1 "$NAP_BIN/nap-disrupt" --config "$SIM_CONFIG" \
	    --time-scale "$SCALE" "$@" <"$st" >"$OUT" 2>"$ERR" &
	DPID=$!
}

stop_disrupt() {
	kill -TERM "$DPID"
	wait "$DPID"
	DPID=
}

# has JQ-FILTER: some record nap-disrupt wrote passes the filter (jq -e alone
# judges by the last input only).
has() {
	[ "$(jq -c "$1" "$OUT" | wc -l)" -ge 1 ]
}

# safe: nap-sim saw no PDB broken before a deadline, no do-not-disrupt pod
# evicted, no VM deleted with a pod still to drain before its deadline.
safe() {
	[ "$(sim_stat pdbViolations)" -eq 0 ]
	[ "$(sim_stat doNotDisruptEvicted)" -eq 0 ]
	[ "$(sim_stat vmsDeletedWithPods)" -eq 0 ]
}

arm_token() {
	curl -sS --cacert "$SIM_CA" -H 'Metadata: true' \
	    "$SIM_ARM_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F&key=$SIM_TOKEN" |
	    jq -r .access_token
}

vm_exists() {
	[ "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$SIM_CA" \
	    -H "Authorization: Bearer $(arm_token)" \
	    "$SIM_ARM_URL/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/virtualMachines/$1?api-version=2024-07-01")" = 200 ]
}

vm_gone() { ! vm_exists "$1"; }

gone() {	# gone KIND NAME
	! sim_kubectl get "$1" "$2" >/dev/null 2>&1
}

has_finalizer() {
	sim_kubectl get node "$1" -o json | jqe '.metadata.finalizers | index("karpenter.sh/termination") != null' >/dev/null
}

event() {	# event REASON NAME: an event of that reason about the object NAME
	sim_kubectl get events -o json | jqe --arg r "$1" --arg n "$2" \
	    '[.items[] | select(.reason == $r and .involvedObject.name == $n)] | length > 0' >/dev/null
}

# ---- the filter contract ----

@test "nap-disrupt answers a bad flag with 64 and its usage" {
	run disrupt --bogus
	[ "$status" -eq 64 ]
	[[ "$output" == *"usage: nap-disrupt"* ]]
}

@test "nap-disrupt --dry-run on empty input exits 0 and prints nothing" {
	run disrupt --dry-run </dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "nap-disrupt --now that is not a time is a usage error" {
	run disrupt --dry-run --now yesterday </dev/null
	[ "$status" -eq 64 ]
	[[ "$output" == *"--now"* ]]
}

@test "nap-disrupt without a usable configuration exits 78" {
	run disrupt --config /nonexistent/nap.yaml </dev/null
	[ "$status" -eq 78 ]
}

@test "nap-disrupt forwards every record unchanged and warns about a malformed line by number" {
	start_sim
	printf '%s\n' '{"type":"Whatever","x":[1,2]}' 'not json' \
	    '{"type":"ADDED","object":{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}}' \
	    >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr disrupt --config "$SIM_CONFIG" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "$output" = "$(sed -n '1p;3p' "$BATS_TEST_TMPDIR/in")" ]
	[[ "$stderr" == *"line 2"* ]]
}

@test "nap-disrupt writing to a full disk exits 74" {
	run bash -c "'$NAP_BIN/nap-disrupt' --dry-run --now '$(cat "$F/sim-snapshot/now")' <'$F/sim-snapshot/input.ndjson' >/dev/full"
	[ "$status" -eq 74 ]
}

@test "nap-disrupt | head -n 1 ends quietly" {
	run --separate-stderr bash -c "'$NAP_BIN/nap-disrupt' --dry-run --now '$(cat "$F/sim-snapshot/now")' <'$F/sim-snapshot/input.ndjson' | head -n 1"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(echo "$output" | jq -r .type)" = Disruption ]
}

@test "nap-disrupt ends with 0 on SIGTERM, its output whole records" {
	start_sim
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 7<>"$BATS_TEST_TMPDIR/in"
	"$NAP_BIN/nap-disrupt" --config "$SIM_CONFIG" <"$BATS_TEST_TMPDIR/in" >"$OUT" 2>"$ERR" &
	DPID=$!
	cat "$F/sim-snapshot/input.ndjson" >&7
	sim_poll 20 sh -c "[ \$(wc -l <'$OUT') -ge 14 ]"
	kill -TERM "$DPID"
	wait "$DPID"
	DPID=
	exec 7>&-
	jq -c . "$OUT" >/dev/null
	[ "$(wc -l <"$OUT")" -ge 14 ]
}

# ---- termination against nap-sim ----

@test "kubectl delete nodeclaim evicts the pods, then deletes the VM, the Node and the NodeClaim" {
	start_sim
	make_node t1 5m
	workload web 3 '{"sim.nap.dev/shutdown-seconds":"30"}' 60
	sim_poll 30 running_on aks-t1 3
	start_disrupt
	sim_poll 20 has_finalizer aks-t1
	sim_kubectl delete nodeclaim t1 --wait=false
	sim_poll 60 gone node aks-t1
	sim_poll 30 gone nodeclaim t1
	sim_poll 30 vm_gone aks-t1
	stop_disrupt
	safe
	grep -q 'stats: evicted=3 blocked=0 forced=0 vms_deleted=1' "$ERR"
	grep -q 'evicted pod default/web-' "$ERR"
	sim_kubectl get nodeclaim t1 2>&1 | grep -q NotFound
	event DisruptionTerminating aks-t1
	event TerminationGracePeriodExpiring t1
	[ "$(sim_kubectl get events -o json | jq '[.items[] | select(.reason == "Evicted")] | length')" -eq 3 ]
}

@test "kubectl delete node drains the same way and deletes its NodeClaim too" {
	start_sim
	make_node t2
	workload web 2
	sim_poll 30 running_on aks-t2 2
	start_disrupt
	sim_poll 20 has_finalizer aks-t2
	sim_kubectl delete node aks-t2 --wait=false
	sim_poll 60 gone nodeclaim t2
	sim_poll 30 gone node aks-t2
	sim_poll 30 vm_gone aks-t2
	stop_disrupt
	safe
	grep -q 'stats: evicted=2 blocked=0 forced=0 vms_deleted=1' "$ERR"
}

@test "a PDB that allows no disruption holds the drain and the VM until terminationGracePeriod, then the pods are forced" {
	start_sim
	make_node t3 25s
	workload web 2
	sim_poll 30 running_on aks-t3 2
	sim_create_pdb web app=web 2 >/dev/null
	start_disrupt
	sim_poll 20 has_finalizer aks-t3
	sim_kubectl delete nodeclaim t3 --wait=false
	sim_poll 30 event FailedDraining aks-t3
	# blocked: the pods are still on the node, and so is its VM
	[ "$(pods_on aks-t3)" -eq 2 ]
	vm_exists aks-t3
	sim_kubectl get node aks-t3 -o json | jqe '.spec.taints | map(.key) | index("karpenter.sh/disrupted") != null'
	sim_kubectl get nodeclaim t3 -o json |
	    jqe '.metadata.annotations["karpenter.sh/nodeclaim-termination-timestamp"] | test("Z$")'
	# the deadline: deleted with the time left, then the VM goes
	sim_poll 60 gone node aks-t3
	sim_poll 30 vm_gone aks-t3
	stop_disrupt
	safe
	grep -q 'stats: evicted=0 blocked=[1-9][0-9]* forced=2 vms_deleted=1' "$ERR"
	# the two forced pods each have their Disrupted event
	[ "$(sim_kubectl get events -o json | jq '[.items[] | select(.reason == "Disrupted" and .source.component == "nap-disrupt")] | length')" -eq 2 ]
}

@test "a do-not-disrupt pod is held until the deadline while the others are evicted" {
	start_sim
	make_node t4 20s
	workload keep 1 '{"karpenter.sh/do-not-disrupt":"true"}'
	workload web 2
	sim_poll 30 running_on aks-t4 3
	start_disrupt
	sim_poll 20 has_finalizer aks-t4
	sim_kubectl delete nodeclaim t4 --wait=false
	sim_poll 30 sh -c "grep -c 'evicted pod default/web-' '$ERR' | grep -qx 2"
	# the held pod keeps the node and its VM
	sim_kubectl get pods -l app=keep -o json | jqe '.items | map(select(.spec.nodeName == "aks-t4")) | length == 1'
	vm_exists aks-t4
	sim_poll 60 gone node aks-t4
	sim_poll 30 vm_gone aks-t4
	stop_disrupt
	safe
	grep -q 'stats: evicted=2 blocked=0 forced=1 vms_deleted=1' "$ERR"
}

@test "nap-disrupt killed mid-drain and started again finishes the termination from the API server's state" {
	start_sim
	make_node r1 5m
	workload web 3 '{"sim.nap.dev/shutdown-seconds":"30"}' 60
	sim_poll 30 running_on aks-r1 3
	start_disrupt
	sim_poll 20 has_finalizer aks-r1
	sim_kubectl delete nodeclaim r1 --wait=false
	sim_poll 30 grep -q 'evicted pod default/web-' "$ERR"
	kill -KILL "$DPID"
	wait "$DPID" || :
	kill -TERM "$WPID" 2>/dev/null || :
	wait "$WPID" 2>/dev/null || :
	rm -f "$BATS_TEST_TMPDIR/state"
	start_disrupt
	sim_poll 60 gone node aks-r1
	sim_poll 30 gone nodeclaim r1
	sim_poll 30 vm_gone aks-r1
	stop_disrupt
	safe
}

# ---- the disruption loop against nap-sim ----

# pool_disruption JSON: the NodePool's spec.disruption.
pool_disruption() {
	sim_kubectl patch nodepool default --type merge -p "{\"spec\":{\"disruption\":$1}}" >/dev/null
}

@test "a budget of 0 holds empty nodes; at 1 they go one at a time, each with a Disruption record" {
	start_sim
	pool_disruption '{"consolidationPolicy":"WhenEmpty","consolidateAfter":"1s","budgets":[{"nodes":"0"}]}'
	make_node e1
	make_node e2
	start_disrupt --interval 2s
	sim_poll 30 event DisruptionBlocked default
	[ "$(sim_kubectl get nodeclaims -o name | wc -l)" -eq 2 ]
	[ -z "$(jq -c 'select(.type == "Disruption")' "$OUT")" ]
	pool_disruption '{"consolidationPolicy":"WhenEmpty","consolidateAfter":"1s","budgets":[{"nodes":"1"}]}'
	sim_poll 60 gone nodeclaim e1
	sim_poll 60 gone nodeclaim e2
	sim_poll 30 vm_gone aks-e1
	sim_poll 30 vm_gone aks-e2
	stop_disrupt
	[ "$(jq -c 'select(.type == "Disruption")' "$OUT" | wc -l)" -eq 2 ]
	[ "$(jq -c 'select(.type == "Disruption" and .reason == "Empty" and (.nodeClaims | length) == 1
	    and .forceful == false and .budget.allowed == 1)' "$OUT" | wc -l)" -eq 2 ]
	safe
}

@test "a 20% budget on 10 empty nodes never has more than 2 NodeClaims deleting at once" {
	start_sim
	pool_disruption '{"consolidationPolicy":"WhenEmpty","consolidateAfter":"0s","budgets":[{"nodes":"20%"}]}'
	make_nodes p 10
	start_disrupt --interval 2s
	max=0
	end=$(($(date +%s) + 120))
	while :; do
		[ "$(date +%s)" -lt "$end" ] || { echo "nodes left after 120 s: $left"; false; }
		s=$(sim_kcurl /apis/karpenter.sh/v1/nodeclaims | jq -r '[(.items | length),
		    ([.items[] | select(.metadata.deletionTimestamp)] | length)] | @tsv')
		left=$(echo "$s" | cut -f1)
		deleting=$(echo "$s" | cut -f2)
		if [ "$deleting" -gt "$max" ]; then
			max=$deleting
		fi
		if [ "$left" -eq 0 ]; then
			break
		fi
		sim_alive
		sleep 0.05
	done
	[ "$max" -ge 1 ]
	[ "$max" -le 2 ]
	stop_disrupt
	[ "$(jq -c 'select(.type == "Disruption") | .nodeClaims[]' "$OUT" | wc -l)" -eq 10 ]
	safe
}

@test "a NodeClaim past its expireAfter is deleted without a budget, and drained like any other" {
	start_sim
	pool_disruption '{"consolidateAfter":"Never","budgets":[{"nodes":"0"}]}'
	make_node x1 5m '{"expireAfter":"5s"}'
	workload web 2
	sim_poll 30 running_on aks-x1 2
	start_disrupt --interval 1s
	sim_poll 60 has 'select(.type == "Disruption" and .reason == "Expired")'
	has 'select(.type == "Disruption" and .forceful == true and .nodeClaims[0].name == "x1")'
	sim_poll 60 gone nodeclaim x1
	sim_poll 30 vm_gone aks-x1
	stop_disrupt
	grep -q 'stats: evicted=2 blocked=0 forced=0 vms_deleted=1' "$ERR"
	safe
}

# sim-snapshot/input.ndjson: nap-watch --once of nap-sim with four NodeClaims of the
# pool "default" (WhenEmpty, consolidateAfter 30s, budget 1 node): "busy"
# with two pods, "held" with a do-not-disrupt pod, "empty", and "old" whose
# expireAfter (1h) has passed at the time in "now".
@test "--dry-run expires the old node, and says why each other node stays" {
	run disrupt --dry-run --now "$(cat "$F/sim-snapshot/now")" <"$F/sim-snapshot/input.ndjson"
	[ "$status" -eq 0 ]
	diff -u <(jq -cS . "$F/sim-snapshot/expected.ndjson") <(echo "$output" | jq -cS .)
	echo "$output" | jq -se 'map(select(.type == "DisruptionVerdict")) | map({(.nodeClaim): .why}) | add ==
	    {busy: "NotEmpty", empty: "Budget", held: "PodDoNotDisrupt", old: "Disrupted"}'
}

# The planning cases of tests/fixtures/nap-disrupt/<case>/ (gen.sh writes
# them; t-disrupt checks lib/disrupt against them): the tool prints the same.
@test "--dry-run prints the Disruption and DisruptionVerdict records of every planning case" {
	n=0
	for d in "$F"/*/; do
		[ -f "$d/input.ndjson" ] || continue
		run disrupt --dry-run --region eastus --now "$(cat "$d/now")" <"$d/input.ndjson"
		[ "$status" -eq 0 ] || { echo "$d: exit $status"; false; }
		diff -u <(jq -cS . "$d/expected.ndjson") <(echo "$output" | jq -cS .) ||
			{ echo "case $d differs"; false; }
		n=$((n + 1))
	done
	[ "$n" -ge 9 ]
}

@test "--dry-run leaves alone an empty node a Nominated record points at" {
	d=$F/empty-node-removed
	run disrupt --dry-run --region eastus --now "$(cat "$d/now")" <"$d/input.ndjson"
	[ "$status" -eq 0 ]
	node=$(echo "$output" | jq -r 'select(.type == "Disruption") | .nodeClaims[0].node' | head -n 1)
	[ -n "$node" ]
	run disrupt --dry-run --region eastus --now "$(cat "$d/now")" \
	    < <(cat "$d/input.ndjson"; jq -cn --arg n "$node" '{type: "Nominated", pod: "default/p", node: $n, kind: "Node"}')
	[ "$status" -eq 0 ]
	[ -z "$(echo "$output" | jq -c 'select(.type == "Disruption")')" ]
	echo "$output" | jq -se --arg n "$node" 'map(select(.node == $n))[0].why == "Nominated"'
}

@test "--dry-run decides the same twice from the same snapshot and --now, and touches nothing" {
	run disrupt --dry-run --now "$(cat "$F/sim-snapshot/now")" --config /nonexistent <"$F/sim-snapshot/input.ndjson"
	[ "$status" -eq 0 ]
	first=$output
	run disrupt --dry-run --now "$(cat "$F/sim-snapshot/now")" <"$F/sim-snapshot/input.ndjson"
	[ "$output" = "$first" ]
}

@test "--dry-run before consolidateAfter has passed removes nothing gracefully" {
	created=$(jq -r 'select(.object.kind == "NodeClaim" and .object.metadata.name == "empty")
	    | .object.metadata.creationTimestamp' "$F/sim-snapshot/input.ndjson")
	run disrupt --dry-run --now "$created" <"$F/sim-snapshot/input.ndjson"
	[ "$status" -eq 0 ]
	[ -z "$(echo "$output" | jq -c 'select(.type == "Disruption")')" ]
	echo "$output" | jq -se 'map(select(.nodeClaim == "empty"))[0].why == "NotConsolidatable"'
}

@test "--dry-run sets the fleet against the same whole-pod bound nap-cost reports" {
	d=$F/consol-deleting-node
	run disrupt --dry-run --region eastus --now "$(cat "$d/now")" <"$d/input.ndjson"
	[ "$status" -eq 0 ]
	bound=$("$NAP_BIN/nap-cost" --ndjson --region eastus <"$d/input.ndjson" | jq '.boundUsdPerHour')
	echo "$output" | jq -se --argjson b "$bound" 'map(select(.type == "DisruptionSummary"))[0].fleet
	    | $b > 0 and .bound == $b and ((.ratio - .price / .bound) | . * . < 1e-8)'
}

@test "--max-simulations cuts single-node consolidation short, the candidates not reached left Candidate" {
	d=$F/consol-deleting-node
	run disrupt --dry-run --region eastus --now "$(cat "$d/now")" --max-simulations 1 <"$d/input.ndjson"
	[ "$status" -eq 0 ]
	echo "$output" | jq -se 'map(select(.type == "DisruptionVerdict")) | map({(.nodeClaim): .why}) | add
	    | .keep == "NotCheaper" and .spare == "Candidate"'
	echo "$output" | jq -se 'map(select(.type == "DisruptionSummary"))[0].consolidated == false'
	# The default (100) walks both, as no limit (0) does, and finds nothing.
	for lim in "" "--max-simulations 0"; do
		# shellcheck disable=SC2086  # $lim is no words or two
		run disrupt --dry-run --region eastus --now "$(cat "$d/now")" $lim <"$d/input.ndjson"
		[ "$status" -eq 0 ]
		echo "$output" | jq -se 'map(select(.type == "DisruptionVerdict")) | map({(.nodeClaim): .why}) | add
		    | .keep == "NotCheaper" and .spare == "NotCheaper"'
		echo "$output" | jq -se 'map(select(.type == "DisruptionSummary"))[0].consolidated == true'
	done
	run disrupt --dry-run --max-simulations -1 </dev/null
	[ "$status" -eq 64 ]
}

@test "--dry-run leaves out an offering an OfferingUnavailable record names while it holds, and no dearer one comes instead" {
	d=$F/consol-replace-cheaper
	types() {	# the instance types of the Disruption's replacement, one a line
		jq -r 'select(.type == "Disruption") | .launch[0].nodeClaim.spec.requirements[]
		    | select(.key == "node.kubernetes.io/instance-type") | .values[]'
	}
	unavail() {	# unavail TYPE UNTIL: the case's snapshot, then the record
		cat "$d/input.ndjson"
		jq -cn --arg t "$1" --arg u "$2" '{type: "OfferingUnavailable", instanceType: $t,
		    capacityType: "on-demand", code: "SkuNotAvailable", until: $u}'
	}
	now=$(cat "$d/now")
	run disrupt --dry-run --region eastus --now "$now" <"$d/input.ndjson"
	[ "$(echo "$output" | types | head -n 1)" = Standard_D2s_v5 ]
	run disrupt --dry-run --region eastus --now "$now" < <(unavail Standard_D2s_v5 2026-12-07T13:00:00Z)
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | types)" = Standard_D4s_v5 ]
	echo "$output" | jq -se 'map(select(.type == "Disruption"))[0] | .priceAfter < .priceBefore'
	# Both cheaper sizes out: the node stays.
	run disrupt --dry-run --region eastus --now "$now" \
	    < <(unavail Standard_D2s_v5 2026-12-07T13:00:00Z; unavail Standard_D4s_v5 2026-12-07T13:00:00Z | tail -n 1)
	[ -z "$(echo "$output" | types)" ]
	echo "$output" | jq -se 'map(select(.type == "DisruptionVerdict" and .nodeClaim == "big"))[0].why == "NotCheaper"'
	# A record whose until has passed no longer counts.
	run disrupt --dry-run --region eastus --now "$now" < <(unavail Standard_D2s_v5 2026-12-07T11:59:59Z)
	[ "$(echo "$output" | types | head -n 1)" = Standard_D2s_v5 ]
	# The dry run reads its snapshot only: a feedback FIFO is a usage error.
	run disrupt --dry-run --input "$BATS_TEST_TMPDIR/fifo" </dev/null
	[ "$status" -eq 64 ]
	[[ "$output" == *"--input: not with --dry-run"* ]]
}
