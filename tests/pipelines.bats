#!/usr/bin/env bats
# pipelines/nap and pipelines/nap-dry-run: their options, the dry-run table
# and records, and the loop script's process and FIFO hygiene against
# nap-sim.  The whole loop with nap-launch is the end-to-end suite's.

load helpers/sim

setup() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	REPO=$BATS_TEST_DIRNAME/..
	NAP=$REPO/pipelines/nap
	DRY=$REPO/pipelines/nap-dry-run
	CASES=$REPO/tests/fixtures/nap-solve
	export NAP_BIN
	# Offline runs must not read a real /etc/nap/nap.yaml.
	OFFLINE=(--config /dev/null --region eastus)
}

teardown() {
	if [ -n "${LOOP_PID:-}" ]; then
		kill -TERM "$LOOP_PID" 2>/dev/null
		wait "$LOOP_PID" 2>/dev/null
	fi
	sim_stop
}

# A cluster with the AKS defaults and three pending 1-CPU pods.
sim_with_workload() {
	need_kubectl
	sim_start
	sim_kubectl apply -f "$REPO/deploy/crds/" -f "$REPO/deploy/nodepools/" >/dev/null
	sim_kubectl create deployment web --image=nginx --replicas=3 >/dev/null
	sim_kubectl set resources deployment web --requests=cpu=1,memory=1Gi >/dev/null
	sim_poll 30 pods_unschedulable 3
}

pods_unschedulable() {
	local n
	n=$(sim_kubectl get pods -o json | jq '[.items[] | select(.status.conditions[]? |
	    .type == "PodScheduled" and .reason == "Unschedulable")] | length')
	[ "$n" -ge "$1" ]
}

# None of the given pids is alive.
none_alive() {
	local p
	for p in "$@"; do
		if kill -0 "$p" 2>/dev/null; then
			return 1
		fi
	done
	return 0
}

# stop_loop SIG STAGES: send SIG to the nap loop; it must exit 0, leave
# nothing in its TMPDIR ($BATS_TEST_TMPDIR/t), and take every stage with it.
stop_loop() {
	kill -"$1" "$LOOP_PID"
	status=0
	wait "$LOOP_PID" || status=$?
	LOOP_PID=
	echo "status $status; stderr: $(cat "$BATS_TEST_TMPDIR/err")"
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/t")" ]
	# shellcheck disable=SC2086
	sim_poll 15 none_alive $2
}

@test "nap with an unknown option exits 64 and prints its usage" {
	run "$NAP" --bogus
	[ "$status" -eq 64 ]
	[[ "$output" == usage:\ nap\ * ]]
}

@test "nap with an option missing its value exits 64" {
	run "$NAP" --region
	[ "$status" -eq 64 ]
	run "$NAP" --log-format yaml
	[ "$status" -eq 64 ]
}

@test "nap-dry-run with an unknown option or two snapshots exits 64 and prints its usage" {
	run "$DRY" --bogus
	[ "$status" -eq 64 ]
	[[ "$output" == usage:\ nap-dry-run\ * ]]
	run "$DRY" a.ndjson b.ndjson
	[ "$status" -eq 64 ]
}

@test "nap-dry-run on a snapshot it cannot read fails without running anything" {
	run "$DRY" "${OFFLINE[@]}" "$BATS_TEST_TMPDIR/missing.ndjson"
	[ "$status" -eq 74 ]
	[[ "$output" == *"unable to read"* ]]
}

@test "nap-dry-run prints a table with one line per new node and a summary" {
	run "$DRY" "${OFFLINE[@]}" "$CASES/three-pods-share/input.ndjson"
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "${lines[0]}" == NODEPOOL*"INSTANCE TYPE"*ZONES*"CAPACITY TYPE"*PODS*'$/HOUR' ]]
	[[ "${lines[1]}" == default\ *Standard_* ]]
	[[ "$output" == *"1 new node for 3 pods, "*' $/hour'* ]]
	[ "${#lines[@]}" -eq 3 ]
}

@test "nap-dry-run's table names the cheapest instance type nap-solve ranked first, and its price" {
	"$NAP_BIN/nap-solve" "${OFFLINE[@]}" <"$CASES/three-pods-share/input.ndjson" |
	    jq -r 'select(.type == "LaunchRequest") | (.nodeClaim.spec.requirements[]
		| select(.key == "node.kubernetes.io/instance-type") | .values[0]), .price' \
	    >"$BATS_TEST_TMPDIR/want"
	run "$DRY" "${OFFLINE[@]}" "$CASES/three-pods-share/input.ndjson"
	[ "$status" -eq 0 ]
	type=$(sed -n 1p "$BATS_TEST_TMPDIR/want")
	price=$(sed -n 2p "$BATS_TEST_TMPDIR/want")
	[ -n "$type" ]
	[[ "${lines[1]}" == *" $type "*" $price" ]]
}

@test "nap-dry-run lists the pods that cannot be scheduled with nap-solve's reason" {
	run "$DRY" "${OFFLINE[@]}" "$CASES/impossible-request/input.ndjson"
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 pod cannot be scheduled:"* ]]
	[[ "$output" == *"default/huge: incompatible with nodepool \"default\""* ]]
}

@test "nap-dry-run counts the pods that fit nodes the cluster already has" {
	run "$DRY" "${OFFLINE[@]}" "$CASES/existing-node-nominated/input.ndjson"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 new nodes for 0 pods"* ]]
	[[ "$output" == *"1 pod fit existing or in-flight nodes:"*"n1: 1 pod"* ]]
}

@test "nap-dry-run --records prints nap-solve's decision records and no state records" {
	"$NAP_BIN/nap-solve" "${OFFLINE[@]}" <"$CASES/impossible-request/input.ndjson" |
	    jq -c 'select(.type == "LaunchRequest" or .type == "Unschedulable"
		or .type == "Nominated")' >"$BATS_TEST_TMPDIR/want"
	"$DRY" --records "${OFFLINE[@]}" "$CASES/impossible-request/input.ndjson" \
	    >"$BATS_TEST_TMPDIR/got"
	[ -s "$BATS_TEST_TMPDIR/got" ]
	diff -u "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	! jq -e 'select(.type == "ADDED" or .type == "SYNCED")' "$BATS_TEST_TMPDIR/got" >/dev/null
}

@test "nap-dry-run reads a snapshot from standard input when given -" {
	run "$DRY" --records "${OFFLINE[@]}" - <"$CASES/three-pods-share/input.ndjson"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -s '[.[] | select(.type == "LaunchRequest")] | length')" -eq 1 ]
}

@test "nap-dry-run passes a failing stage's status on" {
	run "$DRY" --config "$BATS_TEST_TMPDIR/nonexistent.yaml"
	[ "$status" -eq 78 ]
}

@test "nap-dry-run prints no table when a stage fails, only the stage's message" {
	status=0
	"$DRY" --config "$BATS_TEST_TMPDIR/nonexistent.yaml" >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err" || status=$?
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"
	[ "$status" -eq 78 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	grep -q 'nonexistent.yaml: cannot read configuration' "$BATS_TEST_TMPDIR/err"
}

@test "nap-dry-run on a snapshot with a bad configuration fails with 78 before printing anything" {
	printf 'cluster:\n  regoin: eastus\n' >"$BATS_TEST_TMPDIR/bad.yaml"
	status=0
	"$DRY" --config "$BATS_TEST_TMPDIR/bad.yaml" "$CASES/three-pods-share/input.ndjson" \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || status=$?
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"
	[ "$status" -eq 78 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
}

@test "nap-dry-run on a live cluster launches for its pending pods from the default NodePool and creates nothing" {
	sim_with_workload
	run "$DRY" --config "$SIM_CONFIG"
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "${lines[1]}" == default\ *Standard_D* ]]
	[[ "$output" == *" new node"*" for 3 pods"* ]]
	[ "$(sim_kubectl get nodeclaims -o json | jq '.items | length')" -eq 0 ]
}

@test "nap --dry-run prints decisions from a live cluster, and SIGTERM stops every stage and removes its FIFOs" {
	sim_with_workload
	mkdir "$BATS_TEST_TMPDIR/t"
	TMPDIR=$BATS_TEST_TMPDIR/t "$NAP" --dry-run --config "$SIM_CONFIG" \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	LOOP_PID=$!
	sim_poll 60 grep -q '"type":"LaunchRequest"' "$BATS_TEST_TMPDIR/out"
	fifo_dir=$(echo "$BATS_TEST_TMPDIR"/t/nap.*)
	[ -p "$fifo_dir/watch.out" ]
	[ "$(stat -c %a "$fifo_dir")" = 700 ]
	[ "$(stat -c %a "$fifo_dir/watch.out")" = 600 ]
	# The stages are the script's children: jq, nap-solve, nap-watch.
	stages=$(pgrep -P "$LOOP_PID")
	[ "$(echo "$stages" | wc -l)" -eq 3 ]
	stop_loop TERM "$stages"
	! jq -e 'select(.type != "LaunchRequest" and .type != "Nominated"
	    and .type != "Unschedulable")' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "nap --dry-run stops on SIGINT as on SIGTERM" {
	sim_with_workload
	mkdir "$BATS_TEST_TMPDIR/t"
	# A background job of a non-interactive shell starts with SIGINT
	# ignored, and a shell cannot trap what it inherits ignored; perl puts
	# the default back, as a terminal's ^C would find it.
	command -v perl >/dev/null || { echo "perl is not installed (Debian's perl-base is essential)"; false; }
	TMPDIR=$BATS_TEST_TMPDIR/t perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
	    "$NAP" --dry-run --config "$SIM_CONFIG" \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	LOOP_PID=$!
	sim_poll 60 grep -q '"type":"LaunchRequest"' "$BATS_TEST_TMPDIR/out"
	fifo_dir=$(echo "$BATS_TEST_TMPDIR"/t/nap.*)
	[ -d "$fifo_dir" ]
	stages=$(pgrep -P "$LOOP_PID")
	[ "$(echo "$stages" | wc -l)" -eq 3 ]
	stop_loop INT "$stages"
}

@test "nap --dry-run | head -n 1 ends the loop quietly once head has its line" {
	sim_with_workload
	mkdir "$BATS_TEST_TMPDIR/t"
	(TMPDIR=$BATS_TEST_TMPDIR/t "$NAP" --dry-run --config "$SIM_CONFIG" \
	    2>"$BATS_TEST_TMPDIR/err" | head -n 1 >"$BATS_TEST_TMPDIR/out") &
	LOOP_PID=$!
	sim_poll 60 test -s "$BATS_TEST_TMPDIR/out"
	jq -e '.type == "LaunchRequest"' "$BATS_TEST_TMPDIR/out"
	# The loop notices the closed pipe at its next record; more pending
	# pods bring one.
	sim_kubectl scale deployment web --replicas=6 >/dev/null
	sim_poll 90 bash -c "! kill -0 $LOOP_PID 2>/dev/null"
	wait "$LOOP_PID" || :
	LOOP_PID=
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/t")" ]
	[ ! -s "$BATS_TEST_TMPDIR/err" ] || { cat "$BATS_TEST_TMPDIR/err"; false; }
}

@test "nap ends with the status of the first stage to fail and removes its FIFOs" {
	mkdir "$BATS_TEST_TMPDIR/t"
	TMPDIR=$BATS_TEST_TMPDIR/t run "$NAP" --dry-run --config "$BATS_TEST_TMPDIR/nonexistent.yaml"
	[ "$status" -eq 78 ]
	[[ "$output" == *"exited with status 78; stopping the loop"* ]]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/t")" ]
}

@test "the pipelines are clean under shellcheck" {
	command -v shellcheck >/dev/null || { echo "shellcheck is not installed: make deps installs it"; false; }
	shellcheck "$NAP" "$DRY"
}
