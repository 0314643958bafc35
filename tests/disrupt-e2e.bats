#!/usr/bin/env bats
# Removal through the whole loop (pipelines/nap: nap-watch | nap-upgrade |
# nap-disrupt | nap-solve | nap-launch) against nap-sim at clock x50: scale
# a workload down and its empty nodes go after consolidateAfter, within the
# NodePool's budget; a budget of 0 blocks; expireAfter replaces nodes and
# their pods run again elsewhere; kubectl delete node / nodeclaim drain
# before the VM goes.  In every test nap-sim's safety counters are sampled
# in the background from start to end (helpers/invariants.bash): no PDB
# broken, no do-not-disrupt pod evicted, no VM deleted with a drainable pod.

load helpers/sim
load helpers/invariants

SCALE=50

setup() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	LOOP_PID= SAMPLER_PID=
	sim_start --catalog "$REPO/data" --time-scale "$SCALE"
	sim_kubectl apply --server-side --force-conflicts -f "$REPO/deploy/crds/" >/dev/null
	sim_kubectl apply -f "$REPO/deploy/nodepools/default.yaml" >/dev/null
	invariants_start
}

teardown() {
	[ -z "$SAMPLER_PID" ] || { kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null || :; }
	if [ -n "$LOOP_PID" ]; then
		kill -TERM "$LOOP_PID" 2>/dev/null || :
		wait "$LOOP_PID" 2>/dev/null || :
	fi
	invariants_stop
	sim_stop
}

# pool NAME BUDGET [CONSOLIDATE_AFTER [EXPIRE_AFTER [POLICY]]]: a NodePool of
# one small size (one 1-CPU pod a node), so N pods make N nodes.
pool() {
	sim_kubectl apply -f - >/dev/null <<-EOF
	apiVersion: karpenter.sh/v1
	kind: NodePool
	metadata: {name: $1}
	spec:
	  template:
	    metadata: {labels: {e2e: $1}}
	    spec:
	      nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	      expireAfter: ${4:-Never}
	      requirements:
	        - {key: node.kubernetes.io/instance-type, operator: In, values: [Standard_D2s_v5]}
	        - {key: karpenter.sh/capacity-type, operator: In, values: [on-demand]}
	  disruption:
	    consolidationPolicy: ${5:-WhenEmpty}
	    consolidateAfter: ${3:-0s}
	    budgets: [{nodes: "$2"}]
	EOF
}

# deploy NAME POOL REPLICAS: pods of 1 CPU on that pool's nodes.
deploy() {
	sim_kubectl apply -f - >/dev/null <<-EOF
	apiVersion: apps/v1
	kind: Deployment
	metadata: {name: $1, namespace: default}
	spec:
	  replicas: $3
	  selector: {matchLabels: {app: $1}}
	  template:
	    metadata: {labels: {app: $1}}
	    spec:
	      nodeSelector: {e2e: $2}
	      terminationGracePeriodSeconds: 5
	      containers:
	        - name: main
	          image: mcr.microsoft.com/azurelinux/base/nginx:1
	          resources: {requests: {cpu: "1", memory: 256Mi}}
	EOF
}

loop() {
	"$REPO/pipelines/nap" --config "$SIM_CONFIG" --time-scale "$SCALE" \
	    >"$BATS_TEST_TMPDIR/loop.out" 2>"$BATS_TEST_TMPDIR/loop.err" </dev/null 3>&- &
	LOOP_PID=$!
	sim_poll 60 grep -q '"type":"SYNCED"' "$BATS_TEST_TMPDIR/loop.out"
}

running() {	# running APP N: N pods of APP Running
	[ "$(sim_kubectl get pods -l "app=$1" --field-selector=status.phase=Running -o name | wc -l)" -eq "$2" ]
}

claims() {	# claims POOL: how many NodeClaims the pool has
	sim_kubectl get nodeclaims -l "karpenter.sh/nodepool=$1" -o name | wc -l
}

no_claims() {
	[ "$(claims "$1")" -eq 0 ]
}

no_pods() {	# no_pods APP: none left, not even terminating
	[ "$(sim_kubectl get pods -l "app=$1" -o name | wc -l)" -eq 0 ]
}

gone() {	# gone KIND/NAME
	! sim_kubectl get "$1" >/dev/null 2>&1
}

claims_match_vms() {	# every VM has its NodeClaim and back
	[ "$(sim_kubectl get nodeclaims -o name | wc -l)" -eq "$(vms)" ]
}

blocked_event() {
	sim_kubectl get events -A --field-selector reason=DisruptionBlocked -o name | grep -q .
}

vms() {
	sim_acurl "/subscriptions/$(sed -n 's/^ *subscriptionID: //p' "$SIM_CONFIG")/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01" \
	    -H "Authorization: Bearer $(arm_token)" | jq '.value | length'
}

arm_token() {
	sim_acurl '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/' \
	    -H 'Metadata: true' | jq -r .access_token
}

# sample_disrupting POOL: in the background, the most NodeClaims of POOL
# deleting at once, into $BATS_TEST_TMPDIR/maxdel.
sample_disrupting() {
	echo 0 >"$BATS_TEST_TMPDIR/maxdel"
	(
		max=0
		while :; do
			n=$(sim_kubectl get nodeclaims -l "karpenter.sh/nodepool=$1" -o json 2>/dev/null |
			    jq '[.items[] | select(.metadata.deletionTimestamp)] | length' 2>/dev/null)
			if [ -n "$n" ] && [ "$n" -gt "$max" ]; then
				max=$n
				echo "$max" >"$BATS_TEST_TMPDIR/maxdel"
			fi
			sleep 0.2
		done
	) 3>&- &
	SAMPLER_PID=$!
}

# two_emptied: two nodes for a deployment of pool e2e, then the deployment
# scaled to 0 and every pod of it gone.
two_emptied() {
	deploy web e2e 2
	sim_poll 120 running web 2
	sim_kubectl scale deployment web --replicas 0 >/dev/null
	sim_poll 60 no_pods web
}

@test "a workload scaled to 0 leaves empty nodes that go after consolidateAfter, never more at once than 20% allows" {
	pool e2e 20% 5s
	loop
	deploy web e2e 10
	sim_poll 120 running web 10
	[ "$(claims e2e)" -eq 10 ]
	sample_disrupting e2e
	sim_kubectl scale deployment web --replicas 0 >/dev/null
	sim_poll 240 no_claims e2e
	max=$(cat "$BATS_TEST_TMPDIR/maxdel")
	echo "at most $max NodeClaims deleting at once"
	[ "$max" -ge 1 ]
	# 20% of 10 is 2 (and fewer as the pool shrinks)
	[ "$max" -le 2 ]
	jq -e -s 'any(.[]; .type == "Disruption" and .reason == "Empty")' "$BATS_TEST_TMPDIR/loop.out" >/dev/null
	invariants_check
}

@test "a budget of nodes: 0 keeps empty nodes, and says why with a DisruptionBlocked event" {
	pool e2e 0 0s
	loop
	two_emptied
	sim_poll 60 blocked_event
	# ten simulated minutes later the nodes are still there
	sleep $((600 / SCALE))
	[ "$(claims e2e)" -eq 2 ]
	invariants_check
}

@test "consolidateAfter: Never keeps empty nodes" {
	pool e2e 100% Never
	loop
	two_emptied
	sleep $((600 / SCALE))
	[ "$(claims e2e)" -eq 2 ]
	invariants_check
}

@test "expireAfter replaces the nodes and their pods run again on new ones" {
	pool e2e 100% Never 20s
	loop
	deploy web e2e 3
	sim_poll 120 running web 3
	sim_kubectl get nodeclaims -l karpenter.sh/nodepool=e2e -o name | sort >"$BATS_TEST_TMPDIR/first"
	# twenty seconds (durations in objects are wall-clock time, not scaled) and a little: every first claim expired and gone
	gone() {
		now=$(sim_kubectl get nodeclaims -l karpenter.sh/nodepool=e2e -o name | sort)
		[ -z "$(comm -12 "$BATS_TEST_TMPDIR/first" <(echo "$now"))" ]
	}
	sim_poll 240 gone
	sim_poll 240 running web 3
	jq -e -s 'any(.[]; .type == "Disruption" and .reason == "Expired")' "$BATS_TEST_TMPDIR/loop.out" >/dev/null
	invariants_check
}

@test "kubectl delete nodeclaim drains: the pod runs elsewhere before the VM goes, and no VM is left" {
	pool e2e 100% Never
	loop
	deploy web e2e 2
	sim_poll 120 running web 2
	nc=$(sim_kubectl get nodeclaims -l karpenter.sh/nodepool=e2e -o name | head -n 1)
	sim_kubectl delete "$nc" --wait=false >/dev/null
	sim_poll 240 gone "$nc"
	sim_poll 240 running web 2
	sim_poll 120 claims_match_vms
	invariants_check
}

@test "kubectl delete node drains the same way" {
	pool e2e 100% Never
	loop
	deploy web e2e 2
	sim_poll 120 running web 2
	node=$(sim_kubectl get nodes -l e2e=e2e -o name | head -n 1)
	sim_kubectl delete "$node" --wait=false >/dev/null
	sim_poll 240 gone "$node"
	sim_poll 240 running web 2
	invariants_check
}

# The window of a budget, decided on a snapshot of nap-sim: the loop makes
# two nodes and empties them under nodes: "0", then stops; the NodePool's
# budget becomes nodes: "0" from 09:00 UTC for an hour, and nap-watch --once
# takes the snapshot.  nap-disrupt --dry-run --now T on it removes both
# empty nodes before the window and after it, and none inside, where the
# verdict is Budget.
@test "a cron window: nodes: 0 from 09:00 for 1h blocks inside the window and not outside (dry run on a snapshot)" {
	pool e2e 0 0s
	loop
	two_emptied
	kill -TERM "$LOOP_PID"
	wait "$LOOP_PID" || :
	LOOP_PID=
	sim_kubectl patch nodepool e2e --type merge \
	    -p '{"spec":{"disruption":{"budgets":[{"nodes":"0","schedule":"0 9 * * *","duration":"1h"}]}}}' >/dev/null
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --once >"$BATS_TEST_TMPDIR/snap" 2>"$BATS_TEST_TMPDIR/watch.err"
	# two days on, past any simulated time the run reached
	day=$(date -u -d '+2 days' +%F)
	decide() {	# decide HH:MM: the nodes removed, then the verdicts
		"$NAP_BIN/nap-disrupt" --dry-run --now "${day}T$1:00Z" <"$BATS_TEST_TMPDIR/snap" |
		    jq -sc '[(map(select(.type == "Disruption" and .nodePool == "e2e") | .nodeClaims | length) | add // 0),
		        (map(select(.type == "DisruptionVerdict" and .nodePool == "e2e") | .why) | unique)]'
	}
	run decide 08:59
	[ "$output" = '[2,["Disrupted"]]' ]
	run decide 09:00
	[ "$output" = '[0,["Budget"]]' ]
	run decide 09:59
	[ "$output" = '[0,["Budget"]]' ]
	run decide 10:00
	[ "$output" = '[2,["Disrupted"]]' ]
	invariants_check
}
