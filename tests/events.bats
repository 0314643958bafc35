#!/usr/bin/env bats
# Kubernetes Events of the provision loop against nap-sim, as kubectl shows
# them: nap-launch posts Karpenter's reasons for the NodeClaims it launches
# (Launched, Registered, Initialized), for Azure's capacity refusals
# (InsufficientCapacityError, with zones 1 and 2 out of every size), for the
# pods nap-solve placed (Nominated) and the one it could not
# (FailedScheduling), each once however often it comes up again; and
# nap-disrupt, the loop's termination owner, its own (Evicted pods and
# DisruptionTerminating on a deleted node, DisruptionBlocked on a NodePool
# whose budget is 0).

load helpers/sim

SCALE=20

setup_file() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	F=$BATS_FILE_TMPDIR
	export NAP_BIN REPO F
	sim_start_in "$F/sim" --time-scale "$SCALE" --catalog "$REPO/data" \
	    --fault '{"capacity":[{"size":"*","zone":"1","capacityType":"*","available":0},
	      {"size":"*","zone":"2","capacityType":"*","available":0}]}'
	sed 's|^catalog:.*|catalog: "'"$REPO"'/data"|' "$SIM_CONFIG" >"$F/nap.yaml"
	sim_kubectl apply --server-side --force-conflicts -f "$REPO/deploy/crds/" >"$F/apply.log"
	sim_kubectl apply -f "$REPO/deploy/nodepools/default.yaml" >>"$F/apply.log"

	"$REPO/pipelines/nap" --config "$F/nap.yaml" --time-scale "$SCALE" \
	    >"$F/loop.out" 2>"$F/loop.err" </dev/null 3>&- &
	LOOP_PID=$!
	export LOOP_PID
	sim_poll 60 grep -q '"type":"SYNCED"' "$F/loop.out"

	sim_kubectl create deployment web --image=nginx --replicas=4 >>"$F/apply.log"
	sim_kubectl set resources deployment web --requests=cpu=1,memory=2Gi >>"$F/apply.log"
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
	sim_poll 120 settled || :
	sim_kubectl get events -A -o json >"$F/events.json"
}

teardown_file() {
	if [ -n "${LOOP_PID:-}" ]; then
		kill -TERM "$LOOP_PID" 2>/dev/null
		wait "$LOOP_PID" 2>/dev/null
	fi
	sim_stop
}

# loop_said: what the loop and nap-sim said last, for a failure's log.
loop_said() {
	echo "--- loop.err (last 60 lines)"
	tail -n 60 "$F/loop.err"
	echo "--- nodeclaims"
	sim_kubectl get nodeclaims -o wide 2>&1
	echo "--- pods"
	sim_kubectl get pods -A -o wide 2>&1
}

# The web pods run, their NodeClaims are Initialized, and nap has said why huge waits.
settled() {
	[ "$(sim_kubectl get pods -l app=web -o json |
	    jq '[.items[] | select(.status.phase == "Running")] | length')" -eq 4 ] &&
	    [ "$(sim_kubectl get events -A -o json | jq '[.items[] | select(.source.component == "nap-launch")
	        | select(.reason == "Initialized" or .reason == "FailedScheduling")] | map(.reason) | unique | length')" -eq 2 ]
}

# ev JQ-FILTER: the events nap-launch posted that pass the filter, as a JSON array.
ev() {
	jq "[.items[] | select(.source.component == \"nap-launch\") | $1]" "$F/events.json"
}

@test "every NodeClaim shows Launched, Registered and Initialized, once each, from nap-launch" {
	local names n
	names=$(sim_kubectl get nodeclaims -o json | jq -r '.items[].metadata.name')
	[ -n "$names" ]
	for n in $names; do
		for r in Launched Registered Initialized; do
			echo "$n $r"
			[ "$(ev "select(.involvedObject.kind == \"NodeClaim\" and .involvedObject.name == \"$n\" and .reason == \"$r\")" | jq length)" -eq 1 ]
		done
	done
	[ "$(ev 'select(.reason == "Launched") | .type' | jq -r 'unique[]')" = Normal ]
}

@test "a capacity refusal shows as InsufficientCapacityError on the NodeClaim, once a NodeClaim" {
	grep -q '"type":"OfferingUnavailable"' "$F/loop.out"
	run ev 'select(.reason == "InsufficientCapacityError")'
	echo "$output"
	[ "$(jq length <<<"$output")" -ge 1 ]
	[ "$(jq -r '.[0].type' <<<"$output")" = Warning ]
	[ "$(jq -r '.[0].involvedObject.kind' <<<"$output")" = NodeClaim ]
	[[ "$(jq -r '.[0].message' <<<"$output")" == *"ZonalAllocationFailed"* ]]
	[ "$(jq '[.[].involvedObject.name] | length == (unique | length)' <<<"$output")" = true ]
}

@test "the pods nap placed show Nominated, on the NodeClaim they wait for" {
	local pods p
	pods=$(sim_kubectl get pods -l app=web -o json | jq -r '.items[].metadata.name')
	for p in $pods; do
		echo "$p"
		ev "select(.involvedObject.kind == \"Pod\" and .involvedObject.name == \"$p\" and .reason == \"Nominated\")" >"$BATS_TEST_TMPDIR/nom"
		[ "$(jq length "$BATS_TEST_TMPDIR/nom")" -eq 1 ]
		[[ "$(jq -r '.[0].message' "$BATS_TEST_TMPDIR/nom")" == "Pod should schedule on: nodeclaim/"* ]]
		[ "$(jq -r '.[0].involvedObject.namespace + "/" + .[0].metadata.namespace' "$BATS_TEST_TMPDIR/nom")" = default/default ]
	done
}

@test "the pod no NodePool can take shows FailedScheduling from nap, once, in Karpenter's words" {
	run ev 'select(.involvedObject.name == "huge" and .reason == "FailedScheduling")'
	echo "$output"
	[ "$(jq length <<<"$output")" -eq 1 ]
	[ "$(jq -r '.[0].count' <<<"$output")" -eq 1 ]
	[[ "$(jq -r '.[0].message' <<<"$output")" == "Failed to schedule pod, "* ]]
	[ "$(jq -r '.[0].type' <<<"$output")" = Warning ]
	# it carries the pod's uid, so kubectl describe finds it
	[ "$(jq -r '.[0].involvedObject.uid' <<<"$output")" = "$(sim_kubectl get pod huge -o jsonpath='{.metadata.uid}')" ]
}

@test "kubectl describe nodeclaim lists its events" {
	local n
	n=$(sim_kubectl get nodeclaims -o json | jq -r '.items[0].metadata.name')
	run sim_kubectl describe nodeclaim "$n"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Launched"*"Status condition transitioned, Type: Launched"* ]]
	[[ "$output" == *"Initialized"* ]]
}

@test "nap-launch posted its events without a warning" {
	! grep -i 'event' "$F/loop.err"
}

# ---- nap-disrupt, the loop's termination owner ----

# dev JQ-FILTER: the events nap-disrupt has posted by now that pass the filter, as a JSON array.
dev() {
	sim_kubectl get events -A -o json |
	    jq "[.items[] | select(.source.component == \"nap-disrupt\") | $1]"
}

evicted_all() {	# evicted_all POD...: each pod has nap-disrupt's Evicted event
	local p
	for p in "$@"; do
		[ "$(dev "select(.reason == \"Evicted\" and .involvedObject.kind == \"Pod\" and .involvedObject.name == \"$p\")" | jq length)" -eq 1 ] || return 1
	done
}

@test "kubectl delete node: nap-disrupt's DisruptionTerminating on the Node and Evicted on each pod it drained" {
	local node pods
	node=$(sim_kubectl get pods -l app=web -o json |
	    jq -r '[.items[] | select(.status.phase == "Running") | .spec.nodeName] | sort | .[0]')
	[ -n "$node" ]
	[ "$node" != null ]
	pods=$(sim_kubectl get pods -l app=web -o json |
	    jq -r --arg n "$node" '.items[] | select(.spec.nodeName == $n) | .metadata.name')
	[ -n "$pods" ]
	sim_kubectl delete node "$node" --wait=false
	# shellcheck disable=SC2086  # one argument a pod
	sim_poll 60 evicted_all $pods
	run dev "select(.reason == \"Evicted\" and .involvedObject.name == \"$(echo "$pods" | head -n 1)\")"
	echo "$output"
	[ "$(jq -r '.[0].type' <<<"$output")" = Normal ]
	[[ "$(jq -r '.[0].message' <<<"$output")" == "Evicted pod: the termination of node $node" ]]
	[ "$(jq -r '.[0].involvedObject.uid' <<<"$output")" != null ]
	[ "$(dev "select(.reason == \"DisruptionTerminating\" and .involvedObject.kind == \"Node\" and .involvedObject.name == \"$node\")" | jq length)" -eq 1 ]
	sim_poll 60 sh -c "! kubectl get node '$node' >/dev/null 2>&1"
}

blocked() {
	[ "$(dev 'select(.reason == "DisruptionBlocked" and .involvedObject.kind == "NodePool" and .involvedObject.name == "default")' | jq length)" -ge 1 ]
}

web_running() {
	sim_kubectl get pods -l app=web -o json | jqe 'any(.items[]; .status.phase == "Running")' >/dev/null
}

@test "a NodePool whose budget is 0 shows DisruptionBlocked from nap-disrupt, one Event however often it is blocked" {
	# The test before deletes the web pods' node: wait for their new one,
	# or there may be no node left to be empty and blocked.
	sim_poll 120 web_running || { loop_said; false; }
	sim_kubectl patch nodepool default --type merge -p '{"spec":{"disruption":{
	    "consolidationPolicy":"WhenEmpty","consolidateAfter":"1s","budgets":[{"nodes":"0"}]}}}' >/dev/null
	sim_kubectl scale deployment web --replicas=0 >/dev/null
	sim_poll 120 blocked || { loop_said; false; }
	run dev 'select(.reason == "DisruptionBlocked")'
	echo "$output"
	[ "$(jq length <<<"$output")" -eq 1 ]
	[ "$(jq -r '.[0].type + " " + .[0].metadata.namespace' <<<"$output")" = "Normal default" ]
	[ "$(jq -r '.[0].message' <<<"$output")" = "No allowed disruptions for disruption reason Empty due to blocking budget" ]
	# the empty nodes stay
	[ "$(sim_kubectl get nodeclaims -o json | jq '[.items[] | select(.metadata.deletionTimestamp)] | length')" -eq 0 ]
}
