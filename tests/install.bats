#!/usr/bin/env bats
# make install into a temporary DESTDIR and PREFIX, then what is installed
# used from there alone, with nothing of the source tree on PATH: nap-demo,
# nap-sim and nap-dry-run as nap-dry-run(1) and nap(7) show them, and man on
# every installed page, without a warning.

setup_file() {
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	DEST=$BATS_FILE_TMPDIR/dest
	ROOT=$DEST/opt/nap
	export REPO DEST ROOT
	make -C "$REPO" --no-print-directory install DESTDIR="$DEST" PREFIX=/opt/nap \
	    >"$BATS_FILE_TMPDIR/install.log" 2>&1 || {
		cat "$BATS_FILE_TMPDIR/install.log"
		return 1
	}
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir -p tmp
	# Only the installed tools, and the system's.
	export PATH=$ROOT/bin:/usr/local/bin:/usr/bin:/bin TMPDIR=$BATS_TEST_TMPDIR/tmp
	unset NAP_BIN NAP_CONFIG KUBECONFIG
}

teardown() {
	local p
	if [ -s ready.json ]; then
		p=$(jq -r .pid ready.json)
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	fi
	return 0
}

@test "make install creates no empty directory and installs a page for every tool and pipeline" {
	run find "$ROOT" -type d -empty
	[ -z "$output" ] || { echo "empty: $output"; false; }
	for t in "$REPO"/cmd/nap-* "$REPO"/pipelines/*; do
		t=${t##*/}
		case $t in
		nap-demo) continue ;;	# documented in the README and run by make demo
		nap) page=$ROOT/share/man/man7/nap.7 ;;
		*) page=$ROOT/share/man/man1/$t.1 ;;
		esac
		[ -x "$ROOT/bin/$t" ] || { echo "$t is not installed"; false; }
		[ -s "$page" ] || { echo "$t has no page ($page)"; false; }
	done
	[ -x "$ROOT/libexec/nap/lp-bound" ]
	[ -s "$ROOT/share/nap/demo/workload.yaml" ]
	[ -s "$ROOT/share/nap/demo/nodepools.yaml" ]
}

@test "man shows every installed page without a warning" {
	local page sec name n=0
	for page in "$ROOT"/share/man/man*/*; do
		sec=${page%/*}
		sec=${sec##*/man}
		name=${page##*/}
		name=${name%.*}
		MANWIDTH=80 man -M "$ROOT/share/man" "$sec" "$name" >out 2>err || {
			echo "man $sec $name failed: $(cat err)"
			false
		}
		[ ! -s err ] || { echo "man $sec $name:"; cat err; false; }
		grep -q '^NAME' out
		n=$((n + 1))
	done
	echo "$n pages"
	[ "$n" -ge 9 ]
}

@test "every installed page is mandoc -Tlint clean" {
	run mandoc -Tlint -Wwarning "$ROOT"/share/man/man*/*
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -z "$output" ] || { echo "$output"; false; }
}

@test "the installed nap-demo runs a small workload to Running and bounds its cost" {
	[ "$(command -v nap-demo)" = "$ROOT/bin/nap-demo" ]
	run timeout 180 nap-demo --pods 100 --quiet --summary-json summary.json
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e '.pods == 100 and .running == 100 and .stuck == 0 and .nodes > 0
	    and .lp > 0 and .fleet >= .lp' summary.json
	[ -z "$(ls -A tmp)" ]
}

@test "the installed nap-sim and nap-dry-run answer what nap would launch, as nap(7) starts them" {
	[ "$(command -v nap-dry-run)" = "$ROOT/bin/nap-dry-run" ]
	nap-sim --config-out nap.yaml >ready.json 2>sim.err &
	until [ -s ready.json ]; do
		kill -0 "$!" 2>/dev/null || { cat sim.err; false; }
		sleep 0.1
	done
	export NAP_CONFIG=$PWD/nap.yaml KUBECONFIG=$PWD/nap.yaml.kubeconfig
	kubectl apply -f "$ROOT/share/nap/deploy/nodepools/default.yaml" >/dev/null
	kubectl create deployment web --image=nginx --replicas=3 >/dev/null
	kubectl wait --for=condition=PodScheduled=false pod --all >/dev/null
	run nap-dry-run
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" == default\ *Standard_D* ]]
	[[ "$output" == *"1 new node for 3 pods, "* ]]
	# The installed catalog, not the source tree's, answered.
	[ "$(grep -c '^catalog:' nap.yaml)" -eq 0 ]
}

@test "the installed nap-dry-run without a cluster prints no table and fails with the stage's status" {
	status=0
	nap-dry-run --config "$BATS_TEST_TMPDIR/none.yaml" >out 2>err || status=$?
	cat out err
	[ "$status" -eq 78 ]
	[ ! -s out ]
}
