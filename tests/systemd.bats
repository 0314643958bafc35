#!/usr/bin/env bats
# systemd/: the units of the provision loop, their target, the FIFOs
# tmpfiles.d makes and the user sysusers.d makes.  systemd-analyze checks
# the units in a staged root laid out as "make install PREFIX=/usr/local"
# lays them out, with the host's own units beside them; nothing is
# installed on this machine and no unit is started.

setup_file() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	export NAP_BIN
	command -v systemd-analyze >/dev/null || return 0
	ROOT=$BATS_FILE_TMPDIR/root
	export ROOT
	mkdir -p "$ROOT/usr/local/bin" "$ROOT/usr/local/lib/systemd/system" \
	    "$ROOT/usr/lib/systemd" "$ROOT/etc"
	# The host's units: verify needs sysinit.target and friends.
	for d in /usr/lib/systemd/system /lib/systemd/system; do
		if [ -d "$d" ]; then
			cp -a "$d" "$ROOT/usr/lib/systemd/"
			break
		fi
	done
	for t in "$NAP_BIN"/nap-*; do
		if [ -x "$t" ]; then
			cp "$t" "$ROOT/usr/local/bin/"
		fi
	done
	cp "$BATS_TEST_DIRNAME"/../systemd/*.service "$BATS_TEST_DIRNAME"/../systemd/*.target \
	    "$ROOT/usr/local/lib/systemd/system/"
}

setup() {
	REPO=$BATS_TEST_DIRNAME/..
	SD=$REPO/systemd
}

need_analyze() {
	command -v systemd-analyze >/dev/null ||
	    { echo "systemd-analyze is not installed (Debian package systemd): make deps installs it"; false; }
}

# Every unit, a template as an instance of it (systemd-analyze loads no bare template).
units() {
	(cd "$SD" && ls ./*.service ./*.target) | sed 's|^\./||; s|@\.|@test.|'
}

# The stages of nap.target (not the per-cluster templates).
services() {
	(cd "$SD" && ls ./*.service) | sed 's|^\./||' | grep -v '@\.service$'
}

# Every service, templates included: what all of them must do.
all_services() {
	(cd "$SD" && ls ./*.service) | sed 's|^\./||'
}

# unit_values UNIT KEY: the values of KEY=, one per line, in order.
unit_values() {
	sed -n "s/^$2=//p" "$SD/$1"
}

@test "systemd-analyze verify accepts nap.target and every unit" {
	need_analyze
	for u in $(units); do
		run systemd-analyze verify --man=no --root="$ROOT" "$u"
		echo "$u: $output"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
	done
}

@test "every page a unit's Documentation= names exists in man/" {
	for u in $(units | sed 's|@test\.|@.|'); do
		for doc in $(unit_values "$u" Documentation); do
			page=${doc#man:}
			name=${page%(*}
			sect=${page##*(}
			sect=${sect%)}
			[ -f "$REPO/man/$name.$sect" ] || { echo "$u: no man/$name.$sect"; return 1; }
		done
	done
}

@test "systemd-analyze security rates every service's exposure below 2.0 (OK)" {
	need_analyze
	for u in $(all_services | sed 's|@\.|@test.|'); do
		run systemd-analyze security --offline=yes --root="$ROOT" "$u"
		[ "$status" -eq 0 ]
		line=$(echo "$output" | grep 'Overall exposure level')
		echo "$line"
		score=$(echo "$line" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')
		[ -n "$score" ]
		awk -v s="$score" 'BEGIN { exit !(s < 2.0) }'
	done
}

@test "every stage restarts on failure but not after a usage, permission or configuration error" {
	for u in $(all_services); do
		[ "$(unit_values "$u" Restart)" = on-failure ]
		[ "$(unit_values "$u" RestartPreventExitStatus)" = "64 77 78" ]
	done
}

@test "every stage runs as nap with no capabilities, no new privileges and a read-only system" {
	for u in $(all_services); do
		[ "$(unit_values "$u" User)" = nap ]
		[ "$(unit_values "$u" NoNewPrivileges)" = yes ]
		[ "$(unit_values "$u" CapabilityBoundingSet)" = "" ]
		grep -qx 'CapabilityBoundingSet=' "$SD/$u"
		[ "$(unit_values "$u" ProtectSystem)" = strict ]
		[ "$(unit_values "$u" ProtectHome)" = yes ]
		[ "$(unit_values "$u" PrivateTmp)" = yes ]
		unit_values "$u" SystemCallFilter | grep -qx '@system-service'
		[ -n "$(unit_values "$u" RestrictAddressFamilies)" ]
	done
}

@test "every stage reads nap.yaml and takes credentials from an optional environment file" {
	for u in $(services); do
		[ "$(unit_values "$u" EnvironmentFile)" = -/etc/nap/nap.env ]
		unit_values "$u" ExecStart | grep -q -- '--config /etc/nap/nap.yaml'
	done
	[ -f "$SD/nap.env.example" ]
}

@test "nap-solve has no network at all" {
	[ "$(unit_values nap-solve.service PrivateNetwork)" = yes ]
	[ "$(unit_values nap-solve.service RestrictAddressFamilies)" = AF_UNIX ]
}

@test "nap.target wants every stage, and every stage is installed for nap.target" {
	wants=$(unit_values nap.target Wants | tr ' ' '\n' | grep '\.service$' | sort)
	[ "$wants" = "$(services | sort)" ]
	for u in $(services); do
		[ "$(unit_values "$u" WantedBy)" = nap.target ]
		[ "$(unit_values "$u" PartOf)" = nap.target ]
	done
}

@test "each FIFO has one writer and one reader among the units, and tmpfiles.d makes every one" {
	: >"$BATS_TEST_TMPDIR/w"
	: >"$BATS_TEST_TMPDIR/r"
	for u in $(services); do
		unit_values "$u" StandardOutput | sed -n 's/^file://p' >>"$BATS_TEST_TMPDIR/w"
		unit_values "$u" StandardInput | sed -n 's/^file://p' >>"$BATS_TEST_TMPDIR/r"
		unit_values "$u" ExecStart | grep -o -- '--feedback [^ ]*' | cut -d' ' -f2 \
		    >>"$BATS_TEST_TMPDIR/w"
		unit_values "$u" ExecStart | grep -o -- '--input [^ ]*' | cut -d' ' -f2 \
		    >>"$BATS_TEST_TMPDIR/r"
	done
	sort "$BATS_TEST_TMPDIR/w" >"$BATS_TEST_TMPDIR/ws"
	sort "$BATS_TEST_TMPDIR/r" >"$BATS_TEST_TMPDIR/rs"
	awk '$1 == "p" { print $2 }' "$SD/nap.conf" | sort >"$BATS_TEST_TMPDIR/fifos"
	[ -s "$BATS_TEST_TMPDIR/fifos" ]
	# sort -u equal to sort: nobody writes or reads a FIFO twice.
	diff -u "$BATS_TEST_TMPDIR/fifos" "$BATS_TEST_TMPDIR/ws"
	diff -u "$BATS_TEST_TMPDIR/fifos" "$BATS_TEST_TMPDIR/rs"
	awk '$1 == "p" && $3 != "0600" { exit 1 }' "$SD/nap.conf"
}

@test "every unit that opens a FIFO asserts that it exists, so a missing one is never made a plain file" {
	for u in $(services); do
		for f in $(unit_values "$u" StandardOutput | sed -n 's/^file://p') \
		    $(unit_values "$u" StandardInput | sed -n 's/^file://p'); do
			unit_values "$u" AssertPathExists | grep -qx "$f" ||
			    { echo "$u: no AssertPathExists=$f"; return 1; }
		done
	done
}

@test "the units pass each tool only options its usage lists" {
	for u in $(all_services); do
		exec=$(unit_values "$u" ExecStart)
		# nap-elect's command after "--": the loop, whose usage is nap's
		if [[ "$exec" == *" -- "* ]]; then
			usage=$(NAP_BIN=$NAP_BIN "$REPO/pipelines/nap" --help 2>&1 || :)
			for o in $(echo "${exec#* -- }" | grep -o -- '--[a-z-]*'); do
				[[ "$usage" == *"$o"* ]] || { echo "$u: nap has no $o"; return 1; }
			done
			exec=${exec%% -- *}
		fi
		tool=$(basename "${exec%% *}")
		[ -x "$NAP_BIN/$tool" ] || { echo "$tool is not built"; return 1; }
		usage=$("$NAP_BIN/$tool" --help 2>&1 || :)
		for o in $(echo "$exec" | grep -o -- '--[a-z-]*'); do
			[[ "$usage" == *"$o"* ]] || { echo "$u: $tool has no $o"; return 1; }
		done
	done
}

@test "sysusers.d makes the nap user and tmpfiles.d makes /run/nap and its FIFOs, mode 0600, owned by nap" {
	command -v systemd-tmpfiles >/dev/null || { echo "systemd-tmpfiles is not installed: make deps installs it"; false; }
	command -v systemd-sysusers >/dev/null || { echo "systemd-sysusers is not installed: make deps installs it"; false; }
	[ "$(id -u)" -eq 0 ] || skip "changing file owners needs root"
	r=$BATS_TEST_TMPDIR/r
	mkdir -p "$r/etc"
	systemd-sysusers --root="$r" "$SD/nap.sysusers"
	uid=$(awk -F: '$1 == "nap" { print $3 }' "$r/etc/passwd")
	gid=$(awk -F: '$1 == "nap" { print $3 }' "$r/etc/group")
	[ -n "$uid" ]
	[ -n "$gid" ]
	systemd-tmpfiles --root="$r" --create "$SD/nap.conf"
	[ "$(stat -c '%a %u %g' "$r/run/nap")" = "750 $uid $gid" ]
	for f in watch.out upgrade.out disrupt.out solve.out launch.feedback; do
		[ -p "$r/run/nap/$f" ]
		[ "$(stat -c '%a %u %g' "$r/run/nap/$f")" = "600 $uid $gid" ]
	done
}

@test "nap@CLUSTER.target wants nap-elect@CLUSTER, which is installed for it and part of it" {
	[ "$(unit_values nap@.target Wants | tr ' ' '\n' | grep '\.service$')" = "nap-elect@%i.service" ]
	[ "$(unit_values nap-elect@.service PartOf)" = "nap@%i.target" ]
	[ "$(unit_values nap-elect@.service WantedBy)" = "nap@%i.target" ]
	[ "$(unit_values nap@.target WantedBy)" = multi-user.target ]
}

@test "nap-elect@CLUSTER reads /etc/nap/CLUSTER and keeps its FIFOs in /run/nap/CLUSTER" {
	local exec
	exec=$(unit_values nap-elect@.service ExecStart)
	[ "$(unit_values nap-elect@.service EnvironmentFile)" = -/etc/nap/%i/nap.env ]
	[ "$(unit_values nap-elect@.service AssertPathExists)" = /etc/nap/%i/nap.yaml ]
	[ "$(unit_values nap-elect@.service RuntimeDirectory)" = nap/%i ]
	unit_values nap-elect@.service Environment | grep -q 'TMPDIR=/run/nap/%i'
	# nap-elect and the loop it runs both read the cluster's nap.yaml
	[ "$(grep -o -- '--config /etc/nap/%i/nap.yaml' <<<"$exec" | wc -l)" -eq 2 ]
	# the loop runs in a private directory under $TMPDIR (pipelines/nap)
	grep -q 'mktemp -d "${TMPDIR:-/tmp}' "$REPO/pipelines/nap"
}

@test "nap-elect@CLUSTER holds the Lease nap-CLUSTER as the host, and stops the loop through nap-elect" {
	local exec
	exec=$(unit_values nap-elect@.service ExecStart)
	[[ "$exec" == "/usr/local/bin/nap-elect "*" --lease nap-%i "*" -- /usr/local/bin/nap "* ]]
	[[ "$exec" == *" --identity %H "* ]]
	# SIGTERM to nap-elect only, so it can release the Lease; SIGKILL to all later
	[ "$(unit_values nap-elect@.service KillMode)" = mixed ]
}

@test "two clusters' instances share no path" {
	local a b
	a=$(sed 's/%i/prod/g' "$SD/nap-elect@.service" | grep -o '/[a-z/]*prod[a-z/.]*' | sort -u)
	b=$(sed 's/%i/staging/g' "$SD/nap-elect@.service" | grep -o '/[a-z/]*staging[a-z/.]*' | sort -u)
	[ -n "$a" ]
	[ "$(comm -12 <(echo "$a") <(echo "$b"))" = "" ]
	[ "$(echo "$a" | wc -l)" -ge 3 ]
}
