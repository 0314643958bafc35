#!/usr/bin/env bats
# The contract every nap tool keeps (DESIGN.md, "Tests"), checked over every
# tool it applies to: usage errors, --help and --version, long options never
# abbreviated, empty input, unknown records, malformed lines, a closed or
# full stdout, and SIGTERM.  A tool listed here that is not built fails the
# suite: a contract checked over whichever tools happen to exist checks
# nothing.  nap-launch and nap-watch need a cluster: one nap-sim serves the
# file, and every tool is pointed at the nap.yaml it writes.

load helpers/sim

# Every tool the project ships.
TOOLS="nap-watch nap-solve nap-launch nap-disrupt nap-upgrade nap-cost nap-elect nap-sim"
# The tools that read records on stdin and write records on stdout.
FILTERS="nap-solve nap-launch nap-disrupt nap-upgrade"

setup_file() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	export NAP_BIN REPO
	for t in $TOOLS; do
		if [ ! -x "$NAP_BIN/$t" ]; then
			echo "contract: $t is listed but $NAP_BIN/$t is not built" >&2
			return 1
		fi
	done
	sim_start --catalog "$REPO/data"
}

teardown_file() {
	sim_stop
}

# tool T ARGS...: T with what it needs to start against the simulator.
tool() {
	local t=$1
	shift
	case $t in
	nap-sim) exec "$NAP_BIN/nap-sim" "$@" ;;
	*) exec "$NAP_BIN/$t" --config "$SIM_CONFIG" "$@" ;;
	esac
}

# long_options T: the long options T's --help lists, one name a line.
long_options() {
	"$NAP_BIN/$1" --help | sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}--\([a-z0-9-]*\).*/\2/p'
}

@test "every listed tool is built" {
	for t in $TOOLS; do
		[ -x "$NAP_BIN/$t" ] || { echo "$t is missing from $NAP_BIN"; false; }
	done
}

@test "every tool answers a bad flag with exit 64, its name and a usage line on stderr" {
	for t in $TOOLS; do
		"$NAP_BIN/$t" --no-such-flag >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &&
			rc=0 || rc=$?
		[ "$rc" -eq 64 ] || { echo "$t exited $rc"; false; }
		[ ! -s "$BATS_TEST_TMPDIR/out" ] || { echo "$t wrote on stdout"; false; }
		grep -q "^usage: $t " "$BATS_TEST_TMPDIR/err" || { echo "$t: no usage line"; false; }
		grep -q "^$t: fatal: unknown option --no-such-flag$" "$BATS_TEST_TMPDIR/err" ||
			{ echo "$t: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
		# invoked by a path, messages still start with the tool's name
		! grep -qF "$NAP_BIN" "$BATS_TEST_TMPDIR/err" || { echo "$t names its path"; false; }
	done
}

@test "every tool prints its usage and options on stdout for --help and -h, and exits 0" {
	for t in $TOOLS; do
		for flag in --help -h; do
			"$NAP_BIN/$t" "$flag" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &&
				rc=0 || rc=$?
			[ "$rc" -eq 0 ] || { echo "$t $flag exited $rc"; false; }
			[ ! -s "$BATS_TEST_TMPDIR/err" ] || { echo "$t $flag wrote on stderr"; false; }
			head -n 1 "$BATS_TEST_TMPDIR/out" | grep -q "^usage: $t " ||
				{ echo "$t $flag: $(head -n 1 "$BATS_TEST_TMPDIR/out")"; false; }
			grep -q -- '--version  ' "$BATS_TEST_TMPDIR/out" ||
				{ echo "$t $flag lists no options"; false; }
		done
	done
}

@test "every tool prints its name and the one project version for --version, and exits 0" {
	versions=""
	for t in $TOOLS; do
		run "$NAP_BIN/$t" --version
		[ "$status" -eq 0 ] || { echo "$t --version exited $status"; false; }
		[[ "$output" =~ ^$t\ [0-9]+\.[0-9]+\.[0-9]+[^[:space:]]*$ ]] ||
			{ echo "$t --version: $output"; false; }
		versions="$versions ${output#"$t "}"
	done
	[ "$(printf '%s\n' $versions | sort -u | wc -l)" -eq 1 ] ||
		{ echo "versions differ:$versions"; false; }
}

@test "every tool refuses every abbreviation of every long option with exit 64" {
	printf 'precious\n' >"$BATS_TEST_TMPDIR/F"
	checked=0
	for t in $TOOLS; do
		names=$(long_options "$t")
		[ "$(echo "$names" | wc -l)" -ge 3 ] || { echo "$t: no options in --help"; false; }
		for name in $names; do
			for ((n = 1; n < ${#name}; n++)); do
				abbrev=${name:0:n}
				# a prefix that is itself an option's name is that option
				grep -qx -- "$abbrev" <<<"$names" && continue
				(cd "$BATS_TEST_TMPDIR" && "$NAP_BIN/$t" "--$abbrev" F \
				    </dev/null >out 2>err) && rc=0 || rc=$?
				[ "$rc" -eq 64 ] || { echo "$t --$abbrev exited $rc"; false; }
				grep -q "^usage: $t " "$BATS_TEST_TMPDIR/err" ||
					{ echo "$t --$abbrev: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
				checked=$((checked + 1))
			done
		done
	done
	[ "$(cat "$BATS_TEST_TMPDIR/F")" = precious ]
	[ -z "$(cd "$BATS_TEST_TMPDIR" && ls | grep -v -x -e F -e out -e err)" ] ||
		{ echo "files appeared: $(ls "$BATS_TEST_TMPDIR")"; false; }
	echo "# $checked abbreviations refused" >&3
	[ "$checked" -gt 100 ]
}

@test "every tool's --help and --version exit 74 when stdout is full" {
	for t in $TOOLS; do
		for flag in --help --version; do
			"$NAP_BIN/$t" "$flag" >/dev/full 2>"$BATS_TEST_TMPDIR/err" && rc=0 || rc=$?
			[ "$rc" -eq 74 ] || { echo "$t $flag >/dev/full exited $rc"; false; }
			grep -q "^$t: fatal: unable to write" "$BATS_TEST_TMPDIR/err"
		done
	done
}

@test "every filter exits 0 with no output on empty input" {
	for t in $FILTERS; do
		(tool "$t" </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err") &&
			rc=0 || rc=$?
		[ "$rc" -eq 0 ] || { echo "$t exited $rc: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
		[ ! -s "$BATS_TEST_TMPDIR/out" ] || { echo "$t printed: $(cat "$BATS_TEST_TMPDIR/out")"; false; }
	done
}

@test "every filter forwards a record of an unknown type byte for byte" {
	rec='{"type":"SomethingNew","z":1,  "a":[1,2.50,"x\/y"]}   '
	for t in $FILTERS; do
		out=$(printf '%s\n' "$rec" | (tool "$t" 2>"$BATS_TEST_TMPDIR/err"))
		[ "$out" = "$rec" ] || { echo "$t wrote: $out"; cat "$BATS_TEST_TMPDIR/err"; false; }
	done
}

@test "every filter warns of a malformed line by number, in words, and goes on" {
	for t in $FILTERS; do
		out=$(printf '%s\n' '{"type":"X1"}' 'hello' 'null' '{"type":"X2"}' |
			(tool "$t" 2>"$BATS_TEST_TMPDIR/err"))
		grep -qx "$t: warning: stdin: line 2: malformed record: not a JSON object (expected one JSON object per line)" \
		    "$BATS_TEST_TMPDIR/err" || { echo "$t stderr: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
		grep -qx "$t: warning: stdin: line 3: malformed record: not a JSON object but a JSON null (expected one JSON object per line)" \
		    "$BATS_TEST_TMPDIR/err" || { echo "$t stderr: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
		[ "$out" = "$(printf '%s\n' '{"type":"X1"}' '{"type":"X2"}')" ] ||
			{ echo "$t wrote: $out"; false; }
	done
}

@test "every record writer ends quietly when its reader goes away" {
	for t in $FILTERS; do
		yes '{"type":"Filler"}' | head -n 200000 >"$BATS_TEST_TMPDIR/in"
		out=$( (tool "$t" <"$BATS_TEST_TMPDIR/in" 2>"$BATS_TEST_TMPDIR/err") | head -n 1)
		[ "$out" = '{"type":"Filler"}' ] || { echo "$t: $out"; false; }
		[ ! -s "$BATS_TEST_TMPDIR/err" ] || { echo "$t: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
	done
	# a source: nap-watch lists the cluster and dies of SIGPIPE, quietly
	out=$( (tool nap-watch --once 2>"$BATS_TEST_TMPDIR/err") | head -n 1)
	[ -n "$out" ]
	[ ! -s "$BATS_TEST_TMPDIR/err" ] || { echo "nap-watch: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
}

@test "every record writer exits 74 when its output is full" {
	for t in $FILTERS; do
		echo '{"type":"Filler"}' | (tool "$t" >/dev/full 2>"$BATS_TEST_TMPDIR/err") &&
			rc=0 || rc=$?
		[ "$rc" -eq 74 ] || { echo "$t: exit $rc: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
		grep -q "^$t: fatal: unable to write records to stdout: No space left on device" \
		    "$BATS_TEST_TMPDIR/err"
	done
	(tool nap-watch --once </dev/null >/dev/full 2>"$BATS_TEST_TMPDIR/err") && rc=0 || rc=$?
	[ "$rc" -eq 74 ] || { echo "nap-watch: exit $rc: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
	# nap-sim's one record is the ready line
	(tool nap-sim --catalog "$REPO/data" </dev/null >/dev/full 2>"$BATS_TEST_TMPDIR/err") &&
		rc=0 || rc=$?
	[ "$rc" -eq 74 ] || { echo "nap-sim: exit $rc: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
}

# sigterm_check T IN OUT ARGS...: start T reading IN, writing OUT, wait for
# its first line, SIGTERM it; checks exit 0 and that OUT ends in a whole line.
sigterm_check() {
	local t=$1 in=$2 out=$3 pid rc
	shift 3
	(tool "$t" "$@" <"$in" >"$out" 2>"$BATS_TEST_TMPDIR/err-$t") &
	pid=$! # the subshell execs the tool: this is the tool's pid
	sim_poll 60 test -s "$out" || { echo "$t wrote nothing: $(cat "$BATS_TEST_TMPDIR/err-$t")"; return 1; }
	kill -TERM "$pid"
	wait "$pid" && rc=0 || rc=$?
	[ "$rc" -eq 0 ] || { echo "$t exited $rc: $(cat "$BATS_TEST_TMPDIR/err-$t")"; return 1; }
	[ -z "$(tail -c 1 "$out" | tr -d '\n')" ] || { echo "$t: half a line"; return 1; }
}

@test "every record writer exits 0 on SIGTERM with only complete lines written" {
	for t in $FILTERS; do
		fifo=$BATS_TEST_TMPDIR/in-$t
		out=$BATS_TEST_TMPDIR/out-$t
		mkfifo "$fifo"
		exec 9<>"$fifo"
		echo '{"type":"Filler","n":1}' >&9
		sigterm_check "$t" "$fifo" "$out"
		exec 9>&-
		[ "$(cat "$out")" = '{"type":"Filler","n":1}' ] || { echo "$t: $(cat "$out")"; false; }
	done
	# nap-watch, watching after the list
	sigterm_check nap-watch /dev/null "$BATS_TEST_TMPDIR/out-watch"
	jq -e .type "$BATS_TEST_TMPDIR/out-watch" >/dev/null
	# a second nap-sim, serving
	sigterm_check nap-sim /dev/null "$BATS_TEST_TMPDIR/out-sim" --catalog "$REPO/data"
	[ "$(jq -r .type "$BATS_TEST_TMPDIR/out-sim")" = ready ]
}
