#!/usr/bin/env bats
# The scheduler's caches are an optimisation, never a rule: with every one
# of them off (NAP_SCHED_NOCACHE=1, see nap-solve(1)) nap-solve writes the
# same bytes as with them on, on every nap-solve scenario case and with
# both packings.

setup() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	REPO=$BATS_TEST_DIRNAME/..
	CASES=$REPO/tests/fixtures/nap-solve
	SOLVE="$NAP_BIN/nap-solve --config /dev/null --region eastus --catalog $REPO/data"
}

# same_output PACKING: every case solved with caches on and off; the first
# case whose output or exit status differs is named, with the diff.
same_output() {
	local d c args n=0
	for d in "$CASES"/*/; do
		c=$(basename "$d")
		[ -f "$d/input.ndjson" ] || continue
		args=""
		if [ -f "$d/args" ]; then
			args=$(cat "$d/args")
		fi
		# shellcheck disable=SC2086 # args are words
		rc_on=0
		$SOLVE $args --packing "$1" <"$d/input.ndjson" >"$BATS_TEST_TMPDIR/on" 2>/dev/null || rc_on=$?
		rc_off=0
		# shellcheck disable=SC2086
		NAP_SCHED_NOCACHE=1 $SOLVE $args --packing "$1" <"$d/input.ndjson" \
		    >"$BATS_TEST_TMPDIR/off" 2>/dev/null || rc_off=$?
		if [ "$rc_on" != "$rc_off" ]; then
			echo "$c: exit $rc_on with caches, $rc_off without"
			return 1
		fi
		if ! cmp -s "$BATS_TEST_TMPDIR/on" "$BATS_TEST_TMPDIR/off"; then
			echo "$c ($1 packing): output differs with every cache off"
			diff -u "$BATS_TEST_TMPDIR/on" "$BATS_TEST_TMPDIR/off" | cut -c1-300 | head -40
			return 1
		fi
		n=$((n + 1))
	done
	# the cases are there: a glob that matched nothing must not pass
	[ "$n" -ge 100 ] || { echo "only $n cases found in $CASES"; return 1; }
}

@test "with every scheduler cache off, nap-solve's output is byte for byte the same on every scenario case (nap's tiered packing)" {
	same_output target
}

@test "with every scheduler cache off, nap-solve's output is byte for byte the same on every scenario case (Karpenter's greedy packing)" {
	same_output karpenter
}

@test "nap-solve reads NAP_SCHED_NOCACHE=1 (its debug line says the caches are off), so the comparisons above compare something" {
	local d=$CASES/packing-tiers
	NAP_SCHED_NOCACHE=1 $SOLVE -vv <"$d/input.ndjson" >"$BATS_TEST_TMPDIR/off" 2>"$BATS_TEST_TMPDIR/err"
	grep -q '"LaunchRequest"' "$BATS_TEST_TMPDIR/off"
	grep -q 'scheduler caches off' "$BATS_TEST_TMPDIR/err"
	$SOLVE -vv <"$d/input.ndjson" >/dev/null 2>"$BATS_TEST_TMPDIR/err"
	run grep -c 'scheduler caches off' "$BATS_TEST_TMPDIR/err"
	[ "$output" = 0 ]
}
