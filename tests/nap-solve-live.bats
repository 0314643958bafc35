#!/usr/bin/env bats
# nap-solve on a live stream: what it does between records.

setup() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	REPO=$BATS_TEST_DIRNAME/..
	CASES=$REPO/tests/fixtures/nap-solve
	SOLVE="$NAP_BIN/nap-solve --config /dev/null --region eastus --catalog $REPO/data"
}

teardown() {
	exec 7>&- 2>/dev/null || :
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || :
}

# seen PATTERN: how many lines of nap-solve's output match
seen() { grep -c "$1" "$BATS_TEST_TMPDIR/out" || :; }

# wait_seen PATTERN N [SECONDS]: poll (default 30 s, a loaded machine) until
# PATTERN is in the output at least N times
wait_seen() {
	local i
	for i in $(seq 1 $((${3:-30} * 10))); do
		if [ "$(seen "$1")" -ge "$2" ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# nominated_p1: nap-solve on a FIFO (fd 7, output in $out, pid in $pid) with
# --batch-max 30s, so a nomination holds 60 s and the 10 s re-look skips it;
# fed existing-node-nominated with n1 Ready and initialized at
# resourceVersion 10 and p1 at 5; returns once p1 is nominated to n1, once.
nominated_p1() {
	in=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out
	mkfifo "$in"
	$SOLVE --batch-idle 100ms --batch-max 30s <"$in" >"$out" 2>&1 &
	pid=$!
	exec 7>"$in"
	jq -c 'if .object.kind == "Node" then .object.metadata.resourceVersion = "10"
	    elif .object.kind == "Pod" then .object.metadata.resourceVersion = "5" else . end' \
	    "$CASES/existing-node-nominated/input.ndjson" >&7
	wait_seen '"type":"Nominated","pod":"default/p1"' 1 || { cat "$out"; false; }
	[ "$(seen '"type":"Nominated","pod":"default/p1"')" -eq 1 ]
}

@test "a pod still Pending after its nomination lapses is planned again without news of it" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	$SOLVE --batch-idle 100ms --batch-max 1s <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	exec 7>"$BATS_TEST_TMPDIR/in"
	# An existing node with room: the pod is nominated to it, and then nothing more is said.
	cat "$CASES/existing-node-nominated/input.ndjson" >&7
	nom='"type":"Nominated","pod":"default/p1"'
	wait_seen "$nom" 1 || { cat "$BATS_TEST_TMPDIR/out"; false; }
	[ "$(seen "$nom")" -eq 1 ]
	# The nomination holds 10 s; the pod is looked at again within the next 10 s.
	wait_seen "$nom" 2 60 || { echo "planned once only"; grep -v ADDED "$BATS_TEST_TMPDIR/out"; false; }
	exec 7>&-
	wait "$pid"
	pid=
}

@test "a nominated pod the scheduler turns away once its node is Ready is decided again at once, not when its nomination lapses" {
	nominated_p1
	# The scheduler filled n1 with another pod and wrote p1 again, still
	# Unschedulable: n1 did not take it.
	jq -c 'select(.object.kind == "Pod") | .type = "ADDED" | .object.metadata.name = "b1"
	    | .object.metadata.uid = "uid-b1" | .object.metadata.resourceVersion = "11"
	    | .object.spec.nodeName = "n1" | .object.spec.containers[0].resources.requests.cpu = "7"
	    | .object.status = {phase: "Running", conditions: [{type: "PodScheduled", status: "True"}]}' \
	    "$CASES/existing-node-nominated/input.ndjson" >&7
	jq -c 'select(.object.kind == "Pod") | .type = "MODIFIED" | .object.metadata.resourceVersion = "12"
	    | .object.status.conditions[0].message = "0/1 nodes are available: 1 Insufficient cpu."' \
	    "$CASES/existing-node-nominated/input.ndjson" >&7
	wait_seen '"type":"LaunchRequest"' 1 || { echo "not decided again"; grep -v ADDED "$out"; false; }
	grep '"type":"LaunchRequest"' "$out" | jq -e '.pods == ["default/p1"]'
	exec 7>&-
	wait "$pid"
	pid=
}

@test "a pod the scheduler keeps turning away from a node nap-solve thinks fits is provisioned elsewhere" {
	nominated_p1
	# n1 still has room as nap-solve sees it, but the scheduler, seeing
	# something nap-solve does not, wrote p1 again Unschedulable.
	jq -c 'select(.object.kind == "Pod") | .type = "MODIFIED" | .object.metadata.resourceVersion = "12"
	    | .object.status.conditions[0].message = "0/1 nodes are available: 1 node(s) didn'"'"'t match pod topology spread constraints."' \
	    "$CASES/existing-node-nominated/input.ndjson" >&7
	wait_seen '"type":"LaunchRequest"' 1 || { echo "not provisioned"; grep -v ADDED "$out"; false; }
	grep '"type":"LaunchRequest"' "$out" | jq -e '.pods == ["default/p1"]'
	[ "$(seen '"type":"Nominated","pod":"default/p1"')" -eq 1 ]
	exec 7>&-
	wait "$pid"
	pid=
}
