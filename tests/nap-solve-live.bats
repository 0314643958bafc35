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

@test "a pod still Pending after its nomination lapses is planned again without news of it" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	$SOLVE --batch-idle 100ms --batch-max 1s <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	exec 7>"$BATS_TEST_TMPDIR/in"
	# An existing node with room: the pod is nominated to it, and then nothing more is said.
	cat "$CASES/existing-node-nominated/input.ndjson" >&7
	count() { grep -c '"type":"Nominated","pod":"default/p1"' "$BATS_TEST_TMPDIR/out" || :; }
	for _ in $(seq 1 100); do
		[ "$(count)" -ge 1 ] && break
		sleep 0.1
	done
	[ "$(count)" -eq 1 ] || { cat "$BATS_TEST_TMPDIR/out"; false; }
	# The nomination holds 10 s; the pod is looked at again within the next 10 s.
	for _ in $(seq 1 450); do
		[ "$(count)" -ge 2 ] && break
		sleep 0.1
	done
	[ "$(count)" -ge 2 ] || { echo "planned once only"; grep -v ADDED "$BATS_TEST_TMPDIR/out"; false; }
	exec 7>&-
	wait "$pid"
	pid=
}
