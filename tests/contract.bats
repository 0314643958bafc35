#!/usr/bin/env bats
# The contract every nap filter keeps (STYLE.md, "Tests"): usage errors,
# empty input, unknown records, malformed lines, closed and full outputs,
# and SIGTERM.  Filters are the tools that read records on stdin and write
# records on stdout; each is checked by the same tests.

FILTERS="nap-solve nap-disrupt nap-upgrade"
TOOLS="nap-watch nap-solve nap-launch nap-disrupt nap-upgrade nap-sim"

setup() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	present=""
	for t in $FILTERS; do
		[ -x "$NAP_BIN/$t" ] && present="$present $t"
	done
	tools=""
	for t in $TOOLS; do
		[ -x "$NAP_BIN/$t" ] && tools="$tools $t"
	done
}

@test "every tool answers a bad flag with exit 64 and a usage line" {
	[ -n "$tools" ] || skip "no tools built"
	for t in $tools; do
		run "$NAP_BIN/$t" --no-such-flag
		[ "$status" -eq 64 ] || { echo "$t exited $status"; false; }
		[[ "$output" == *"usage: $t"* ]] || { echo "$t: $output"; false; }
	done
}

@test "every filter exits 0 with no output on empty input" {
	[ -n "$present" ] || skip "no filters built"
	for t in $present; do
		run "$NAP_BIN/$t" </dev/null
		[ "$status" -eq 0 ] || { echo "$t exited $status: $output"; false; }
		[ -z "$output" ] || { echo "$t printed: $output"; false; }
	done
}

@test "every filter forwards a record of an unknown type byte for byte" {
	[ -n "$present" ] || skip "no filters built"
	rec='{"type":"SomethingNew","z":1,  "a":[1,2.50,"x\/y"]}'
	for t in $present; do
		out=$(printf '%s\n' "$rec" | "$NAP_BIN/$t" 2>/dev/null)
		[ "$out" = "$rec" ] || { echo "$t wrote: $out"; false; }
	done
}

@test "every filter reports a malformed line with its number and goes on" {
	[ -n "$present" ] || skip "no filters built"
	for t in $present; do
		out=$(printf '%s\n' '{"type":"X1"}' 'not json' '{"type":"X2"}' |
			"$NAP_BIN/$t" 2>"$BATS_TEST_TMPDIR/err")
		grep -q "$t: warning: .*line 2: malformed record" "$BATS_TEST_TMPDIR/err" ||
			{ echo "$t stderr: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
		[ "$out" = "$(printf '%s\n' '{"type":"X1"}' '{"type":"X2"}')" ] ||
			{ echo "$t wrote: $out"; false; }
	done
}

@test "every filter ends quietly when its reader goes away" {
	[ -n "$present" ] || skip "no filters built"
	for t in $present; do
		run bash -c "yes '{\"type\":\"Filler\"}' | head -n 200000 | '$NAP_BIN/$t' | head -n 1"
		[ "$status" -eq 0 ] || { echo "$t: exit $status"; false; }
		[ "$output" = '{"type":"Filler"}' ] || { echo "$t: $output"; false; }
	done
}

@test "every filter exits 74 when its output is full" {
	[ -n "$present" ] || skip "no filters built"
	for t in $present; do
		run bash -c "echo '{\"type\":\"Filler\"}' | '$NAP_BIN/$t' >/dev/full"
		[ "$status" -eq 74 ] || { echo "$t: exit $status: $output"; false; }
	done
}

@test "every filter exits 0 on SIGTERM with only complete lines written" {
	[ -n "$present" ] || skip "no filters built"
	for t in $present; do
		fifo="$BATS_TEST_TMPDIR/in-$t"
		out="$BATS_TEST_TMPDIR/out-$t"
		mkfifo "$fifo"
		"$NAP_BIN/$t" <"$fifo" >"$out" 2>/dev/null &
		pid=$!
		exec 9>"$fifo"
		echo '{"type":"Filler","n":1}' >&9
		for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.1; done
		kill -TERM "$pid"
		wait "$pid" && rc=0 || rc=$?
		exec 9>&-
		[ "$rc" -eq 0 ] || { echo "$t exited $rc"; false; }
		[ "$(cat "$out")" = '{"type":"Filler","n":1}' ] || { echo "$t: $(cat "$out")"; false; }
		[ -z "$(tail -c 1 "$out" | tr -d '\n')" ] || { echo "$t: half a line"; false; }
	done
}
