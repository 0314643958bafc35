#!/usr/bin/env bats
# The command lines of the tools, where one tool differs from the rest:
# nap-sim's output files are never replaced without --force, and no
# abbreviation of an output option writes anything; bad option values are
# usage errors; a catalog nap-sim cannot load is fatal; messages carry the
# tool's own name; and each man page lists the options --help lists.
# (The contract all tools share is tests/contract.bats.)

setup() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	D=$BATS_TEST_TMPDIR
	SIM_PID=
}

teardown() {
	if [ -n "$SIM_PID" ]; then
		kill -TERM "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null || :
	fi
}

# precious FILE...: give each FILE a content no tool writes, and remember it.
precious() {
	for f in "$@"; do
		printf 'precious %s\n' "$f" >"$f"
		cp "$f" "$f.orig"
	done
}

# untouched FILE...: each FILE still holds what precious wrote, byte for byte.
untouched() {
	for f in "$@"; do
		cmp "$f" "$f.orig" || { echo "$f was changed"; return 1; }
	done
}

# Every run that should end at once is bounded by timeout, so a regression
# that starts serving fails the test instead of hanging it.

# sim_serving ARGS...: nap-sim with ARGS in $D, up and serving (its ready line written).
sim_serving() {
	"$NAP_BIN/nap-sim" --catalog "$REPO/data" "$@" >"$D/ready.json" 2>"$D/sim.err" &
	SIM_PID=$!
	for _ in $(seq 600); do
		[ -s "$D/ready.json" ] && return 0
		kill -0 "$SIM_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "nap-sim did not serve: $(cat "$D/sim.err")"
	return 1
}

@test "nap-sim --config F is refused with a usage error and leaves F untouched" {
	cd "$D"
	precious F
	run timeout 30 "$NAP_BIN/nap-sim" --config F
	[ "$status" -eq 64 ]
	[[ "$output" == *"nap-sim: fatal: unknown option --config (long options are never abbreviated: --config-out?)"* ]]
	[[ "$output" == *"usage: nap-sim "* ]]
	untouched F
	[ ! -e F.kubeconfig ] && [ ! -e F.ca.pem ]
}

@test "no abbreviation of any nap-sim output option writes a file" {
	cd "$D"
	n=0
	for opt in config-out kubeconfig-out ca-out state; do
		for ((i = 1; i < ${#opt}; i++)); do
			abbrev=${opt:0:i}
			rm -f F F.*
			precious F
			timeout 30 "$NAP_BIN/nap-sim" "--$abbrev" F --catalog "$REPO/data" \
			    >out 2>err && rc=0 || rc=$?
			[ "$rc" -eq 64 ] || { echo "--$abbrev exited $rc"; false; }
			grep -q '^usage: nap-sim ' err
			untouched F
			[ ! -s out ] || { echo "--$abbrev wrote on stdout"; false; }
			[ ! -e F.kubeconfig ] || { echo "--$abbrev wrote F.kubeconfig"; false; }
			[ ! -e F.ca.pem ] || { echo "--$abbrev wrote F.ca.pem"; false; }
			n=$((n + 1))
		done
	done
	[ "$n" -eq 31 ]
}

@test "nap-sim refuses to replace an existing --config-out, --kubeconfig-out or --ca-out file" {
	cd "$D"
	for opt in --config-out --kubeconfig-out --ca-out; do
		rm -f F F.*
		precious F
		run timeout 30 "$NAP_BIN/nap-sim" "$opt" F --catalog "$REPO/data"
		[ "$status" -eq 64 ]
		[[ "$output" == *"nap-sim: fatal: $opt F: file exists (--force replaces it)"* ]]
		untouched F
		[ ! -e F.kubeconfig ] || { echo "$opt wrote F.kubeconfig"; false; }
		[ ! -e F.ca.pem ] || { echo "$opt wrote F.ca.pem"; false; }
	done
}

@test "nap-sim refuses to replace the kubeconfig or CA it would write beside --config-out" {
	cd "$D"
	for beside in F.kubeconfig F.ca.pem; do
		rm -f F F.*
		precious "$beside"
		run timeout 30 "$NAP_BIN/nap-sim" --config-out F --catalog "$REPO/data"
		[ "$status" -eq 64 ]
		[[ "$output" == *"nap-sim: fatal: $beside (the "*" beside --config-out): file exists (--force replaces it)"* ]]
		untouched "$beside"
		[ ! -e F ]
	done
}

@test "nap-sim --force replaces its output files" {
	cd "$D"
	precious F F.kubeconfig F.ca.pem
	sim_serving --config-out F --force
	grep -q '^kubeconfig: ' F
	grep -q '^kind: Config' F.kubeconfig
	grep -q 'BEGIN CERTIFICATE' F.ca.pem
	[ "$(jq -r .config ready.json)" = F ]
}

@test "nap-sim writes new output files and leaves no temporary file beside them" {
	cd "$D"
	sim_serving --config-out new.yaml --kubeconfig-out kc --ca-out ca.pem
	[ -s new.yaml ]
	[ -s kc ]
	[ -s ca.pem ]
	[ "$(ls | grep -c tmp)" -eq 0 ]
	[ "$(stat -c %a kc)" = 600 ]
}

@test "nap-sim --time-scale x is a usage error and says no warning" {
	run timeout 30 "$NAP_BIN/nap-sim" --time-scale x
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = 'nap-sim: fatal: --time-scale: "x" is not a number' ]
	[[ "${lines[1]}" == "usage: nap-sim "* ]]
	[[ "$output" != *warning* ]]
}

@test "every bad option value is a usage error naming the option" {
	cases=(
		"nap-sim --port 70000|--port: 70000 is out of range (0 to 65535)"
		"nap-sim --watch-410 maybe|--watch-410: \"maybe\" is neither http nor event"
		"nap-sim --log-format xml|--log-format: \"xml\" is neither text nor json"
		"nap-solve --max-types 0|--max-types: 0 is out of range (1 to 100000)"
		"nap-solve --packing tight|--packing: \"tight\" is neither target nor karpenter"
		"nap-solve --batch-idle soon|--batch-idle: "
		"nap-launch --time-scale 0.5|--time-scale: 0.5 is out of range (1 to 1e+06)"
		"nap-launch --registration-timeout 0s|--registration-timeout: \"0s\" must be at least 1ms"
		"nap-watch --page-size x|--page-size: \"x\" is not a whole number"
		"nap-watch --kinds pods,widgets|--kinds: unknown kind \"widgets\""
	)
	for c in "${cases[@]}"; do
		cmd=${c%%|*} want=${c#*|}
		t=${cmd%% *}
		# shellcheck disable=SC2086
		run timeout 30 "$NAP_BIN/"$cmd
		[ "$status" -eq 64 ] || { echo "$cmd exited $status: $output"; false; }
		[[ "${lines[0]}" == "$t: fatal: $want"* ]] || { echo "$cmd: ${lines[0]}"; false; }
		[[ "${lines[1]}" == "usage: $t "* ]] || { echo "$cmd: $output"; false; }
	done
}

@test "nap-sim --catalog /nonexistent exits 78 before it serves" {
	run timeout 30 "$NAP_BIN/nap-sim" --catalog /nonexistent --kubeconfig-out "$D/kc"
	[ "$status" -eq 78 ]
	[[ "$output" == *"nap-sim: fatal: catalog for eastus: "*"/nonexistent"* ]]
	[[ "$output" != *'"ready"'* ]]
	[ ! -e "$D/kc" ]
}

@test "nap-sim with a region its catalog does not know exits 78" {
	run timeout 30 "$NAP_BIN/nap-sim" --catalog "$REPO/data" --region atlantis-1
	[ "$status" -eq 78 ]
	[[ "$output" == *"nap-sim: fatal: catalog for atlantis-1: "* ]]
}

@test "messages carry the tool's name, however it was invoked" {
	ln -s "$NAP_BIN/nap-solve" "$D/solver"
	cd "$D"
	run ./solver --no-such-flag
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = "nap-solve: fatal: unknown option --no-such-flag" ]
	run ./solver --version
	[[ "$output" == "nap-solve "* ]]
	run bash -c 'echo hello | ./solver --config /dev/null --region eastus --catalog "$1"' _ "$REPO/data"
	[ "$status" -eq 0 ]
	[ "$output" = "nap-solve: warning: stdin: line 1: malformed record: not a JSON object (expected one JSON object per line)" ]
}

@test "each tool's man page lists exactly the options its --help lists, and the rule" {
	for t in nap-watch nap-solve nap-launch nap-disrupt nap-upgrade nap-cost nap-elect nap-sim; do
		page=$REPO/man/$t.1
		"$NAP_BIN/$t" --help >"$D/help"
		# options with a short form are -hVv in the SYNOPSIS
		long=$(sed -n 's/^      --\([a-z0-9-]*\).*/\1/p' "$D/help" | sort -u)
		all=$(sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}--\([a-z0-9-]*\).*/\2/p' "$D/help" | grep . | sort -u)
		shorts=$(sed -n 's/^  -\([a-zA-Z]\), --.*/\1/p' "$D/help" | tr -d '\n')
		[ -n "$long" ] && [ "$shorts" = hVv ] || { echo "$t --help: $(cat "$D/help")"; false; }
		# ".Fl Fl name" and ".Fl -name" both render as --name
		sed 's/Fl Fl /Fl -/g' "$page" >"$D/page"
		synopsis=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$D/page" |
			grep -o 'Fl -[a-z0-9-]*' | sed 's/^Fl -//' | grep . | sort -u)
		options=$(sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$D/page" |
			grep '^\.It' | grep -o 'Fl -[a-z0-9-]*' | sed 's/^Fl -//' | sort -u)
		[ "$long" = "$synopsis" ] ||
			{ echo "$t: --help vs SYNOPSIS:"; diff <(echo "$long") <(echo "$synopsis"); false; }
		sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$D/page" | grep -qx '\.Op Fl hVv' ||
			{ echo "$t.1: the SYNOPSIS lacks -hVv"; false; }
		[ "$all" = "$options" ] ||
			{ echo "$t: --help vs OPTIONS:"; diff <(echo "$all") <(echo "$options"); false; }
		sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$D/page" | tr '\n' ' ' |
			grep -q 'Long options are never abbreviated' ||
			{ echo "$t.1 does not state the rule in OPTIONS"; false; }
		mandoc -Tlint -Wwarning "$page" >/dev/null 2>"$D/lint" || :
		! grep -v 'STYLE\|mandoc.db' "$D/lint" | grep -q . || { cat "$D/lint"; false; }
	done
}

@test "each pipeline script prints its usage on stdout for --help, its version for --version, and refuses an unknown option with 64" {
	for s in nap nap-dry-run nap-demo; do
		run "$REPO/pipelines/$s" --help
		[ "$status" -eq 0 ] || { echo "$s --help exited $status"; false; }
		[[ "${lines[0]}" == "usage: $s "* ]] || { echo "$s --help: $output"; false; }
		run "$REPO/pipelines/$s" --version
		[ "$status" -eq 0 ] || { echo "$s --version exited $status"; false; }
		[ "$output" = "$s $("$NAP_BIN/nap-watch" --version | cut -d' ' -f2)" ] ||
			{ echo "$s --version: $output"; false; }
		"$REPO/pipelines/$s" --no-such-flag >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &&
			rc=0 || rc=$?
		[ "$rc" -eq 64 ] || { echo "$s --no-such-flag exited $rc"; false; }
		[ ! -s "$BATS_TEST_TMPDIR/out" ] || { echo "$s wrote on stdout"; false; }
		grep -q "^usage: $s " "$BATS_TEST_TMPDIR/err" || { echo "$s: $(cat "$BATS_TEST_TMPDIR/err")"; false; }
	done
}
