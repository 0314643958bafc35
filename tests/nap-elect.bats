#!/usr/bin/env bats
# nap-elect against nap-sim: one of two candidates runs the command; SIGKILL
# of the active one hands over to the stand-by, never with both commands
# running; the renew deadline, a clean release, the command's own exit.

bats_require_minimum_version 1.5.0

load helpers/sim

setup() {
	PIDS=()
	W=$BATS_TEST_TMPDIR
	unset KUBECONFIG KUBERNETES_SERVICE_HOST NAP_CONFIG
	# The command every candidate runs: it says when it starts and stops,
	# and notes an OVERLAP if another candidate's command is still alive.
	cat >"$W/cmd" <<-'EOF'
		#!/bin/sh
		# cmd ID DIR
		id=$1 dir=$2
		if [ -s "$dir/running" ] && kill -0 "$(cat "$dir/running")" 2>/dev/null; then
			echo "OVERLAP $id $(cat "$dir/running")" >>"$dir/log"
		fi
		echo $$ >"$dir/running"
		echo "start $id $(date +%s.%N)" >>"$dir/log"
		trap 'echo "stop $id" >>"$dir/log"; exit 0' TERM
		while :; do sleep 0.1; done
	EOF
	chmod +x "$W/cmd"
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	sim_stop
}

# elect ID [nap-elect options...]: a candidate in the background, its pid in PIDS and ELECT_<ID>
elect() {
	local id=$1
	shift
	"$NAP_BIN/nap-elect" --kubeconfig "$SIM_KUBECONFIG" --lease nap --identity "$id" "$@" \
	    -- "$W/cmd" "$id" "$W" 2>>"$W/err-$id" &
	PIDS+=($!)
	printf -v "ELECT_$id" %s "$!"
}

started() { grep -q "^start $1 " "$W/log" 2>/dev/null; }
holder() { sim_kubectl get lease nap -n default -o jsonpath='{.spec.holderIdentity}'; }
no_overlap() {
	if grep OVERLAP "$W/log"; then
		cat "$W/log"
		return 1
	fi
}
started_twice() { [ "$(grep -c '^start A ' "$W/log")" -eq 2 ]; }
proc_gone() { ! kill -0 "$1" 2>/dev/null; }

FAST=(--lease-duration 4s --renew-deadline 2s --retry-period 500ms)

@test "nap-elect refuses a bad flag, a missing --lease or command, and unsafe timings with 64" {
	run "$NAP_BIN/nap-elect" --bogus -- true
	[ "$status" -eq 64 ]
	[[ "$output" == *usage:* ]]
	run "$NAP_BIN/nap-elect" -- true
	[ "$status" -eq 64 ]
	[[ "$output" == *"--lease is required"* ]]
	run "$NAP_BIN/nap-elect" --lease x
	[ "$status" -eq 64 ]
	[[ "$output" == *"no command"* ]]
	run "$NAP_BIN/nap-elect" --lease x --lease-duration 10s --renew-deadline 10s -- true
	[ "$status" -eq 64 ]
	[[ "$output" == *"shorter than --lease-duration"* ]]
	run "$NAP_BIN/nap-elect" --lease x --retry-period 10s -- true
	[ "$status" -eq 64 ]
	[[ "$output" == *"shorter than --renew-deadline"* ]]
}

@test "of two candidates one runs the command; after SIGKILL of it the other takes over, three times, never both at once" {
	local round a b t0 t1 took pid
	sim_start
	elect A
	sim_poll 30 started A
	elect B
	for round in 1 2 3; do
		if [ $((round % 2)) = 1 ]; then a=A b=B; else a=B b=A; fi
		# the stand-by really stands by: its command has not run this round
		sleep 3
		run ! started "$b"
		[ "$(holder)" = "$a" ]
		pid=$(cat "$W/running")
		eval "t0=\$(date +%s.%N); kill -KILL \$ELECT_$a"
		# the guard stops the dead candidate's command at once
		sim_poll 10 proc_gone "$pid"
		sim_poll 60 started "$b" || { cat "$W/log" "$W"/err-*; false; }
		t1=$(grep "^start $b " "$W/log" | tail -n 1 | cut -d' ' -f3)
		took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
		echo "# round $round: $b took over ${took}s after SIGKILL of $a" >&3
		echo "$took" >>"$W/takeovers"
		# not before the lease could have expired, well within a generous bound
		awk -v t="$took" 'BEGIN { exit !(t >= 10 && t < 40) }'
		[ "$(holder)" = "$b" ]
		no_overlap
		# the killed candidate comes back as the stand-by
		elect "$a"
		# earlier starts are history: the next round looks for a new one
		sed -i 's/^start /started /' "$W/log"
	done
	[ "$(wc -l <"$W/takeovers")" -eq 3 ]
}

@test "a candidate that cannot renew stops its command within the renew deadline, and starts it again once it can" {
	local pid
	sim_start
	elect A "${FAST[@]}"
	sim_poll 30 started A
	pid=$(cat "$W/running")
	kill -STOP "$SIM_PID"
	# renew deadline 2 s + grace 1 s: gone well before a stand-by's 4 s lease could end
	sim_poll 8 proc_gone "$pid" || { kill -CONT "$SIM_PID"; false; }
	grep -q "^stop A" "$W/log"
	kill -CONT "$SIM_PID"
	sim_poll 30 started_twice
	[ "$(holder)" = A ]
}

@test "SIGTERM stops the command, releases the lease and exits 0; the stand-by takes over without waiting out the lease" {
	local rc=0
	sim_start
	elect A --lease-duration 60s --renew-deadline 20s --retry-period 500ms
	sim_poll 30 started A
	elect B --lease-duration 60s --renew-deadline 20s --retry-period 500ms
	sleep 1
	kill -TERM "$ELECT_A"
	wait "$ELECT_A" || rc=$?
	[ "$rc" -eq 0 ]
	grep -q "^stop A" "$W/log"
	grep -q "released lease default/nap" "$W/err-A"
	# a 60 s lease, taken over in seconds: the release said it was free
	sim_poll 10 started B
	no_overlap
}

@test "when the command exits by itself nap-elect releases the lease and exits with its status" {
	local rc=0
	sim_start
	"$NAP_BIN/nap-elect" --kubeconfig "$SIM_KUBECONFIG" --lease once --identity A -- \
	    sh -c 'exit 3' 2>"$W/err" || rc=$?
	[ "$rc" -eq 3 ]
	[ "$(sim_kubectl get lease once -n default -o jsonpath='{.spec.holderIdentity}')" = "" ]
	run -127 "$NAP_BIN/nap-elect" --kubeconfig "$SIM_KUBECONFIG" --lease once -- /nonexistent/cmd
	[[ "$output" == *"unable to run /nonexistent/cmd"* ]]
}

# The provision loop (pipelines/nap) of candidate ID, under nap-elect.
elect_loop() {
	local id=$1
	"$NAP_BIN/nap-elect" --kubeconfig "$SIM_KUBECONFIG" --lease nap-loop --identity "$id" \
	    --lease-duration 6s --renew-deadline 3s --retry-period 1s -- \
	    "$REPO/pipelines/nap" --config "$W/nap.yaml" --time-scale 20 \
	    >"$W/loop-$id.out" 2>"$W/loop-$id.err" </dev/null &
	PIDS+=($!)
	printf -v "ELECT_$id" %s "$!"
}

synced() { grep -q '"type":"SYNCED"' "$W/loop-$1.out" 2>/dev/null; }
has_claims() { [ "$(sim_kubectl get nodeclaims -o name | wc -l)" -ge 1 ]; }
all_running() {
	[ "$(sim_kubectl get pods -l app -o json |
	    jq '[.items[] | select(.status.phase != "Running")] | length')" -eq 0 ]
}
# web N: a deployment of 10 N pods of 0.9 N cores and N GiB each
web() {
	sim_kubectl create deployment "web$1" --image=nginx --replicas=$((10 * $1)) >>"$W/apply.log"
	sim_kubectl set resources deployment "web$1" --requests=cpu=$(($1 * 900))m,memory=${1}Gi \
	    >>"$W/apply.log"
}
launches() { pgrep -fc -- "nap-launch --config $W/nap.yaml" || :; }

@test "two loops under nap-elect: SIGKILL of the active one mid scale-up, the other finishes it, no VM twice, none orphaned" {
	local tok arm sub
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	sim_start --time-scale 20 --catalog "$REPO/data"
	sed 's|^catalog:.*|catalog: "'"$REPO"'/data"|' "$SIM_CONFIG" >"$W/nap.yaml"
	sim_kubectl apply --server-side --force-conflicts -f "$REPO/deploy/crds/" >"$W/apply.log"
	sim_kubectl apply -f "$REPO/deploy/nodepools/default.yaml" >>"$W/apply.log"
	elect_loop A
	sim_poll 60 synced A
	elect_loop B
	sleep 3
	# the stand-by runs nothing: one loop, one nap-launch
	[ ! -s "$W/loop-B.out" ]
	[ "$(launches)" -eq 1 ]
	web 1
	sim_poll 60 has_claims
	# mid scale-up: A's NodeClaim is in flight, and more pods come while nobody leads
	kill -KILL "$ELECT_A"
	web 2
	web 3
	sim_poll 60 synced B || { cat "$W"/loop-*.err; false; }
	[ "$(launches)" -eq 1 ]
	sim_poll 180 all_running || { sim_kubectl get pods -o wide; cat "$W"/loop-B.err; false; }
	# the API server and ARM agree: one VM per NodeClaim, one Node per VM
	sim_kubectl get nodeclaims -o json >"$W/ncs.json"
	sim_kubectl get nodes -o json >"$W/nodes.json"
	tok=$(sim_acurl '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/' \
	    -H 'Metadata: true' | jq -r .access_token)
	sub=$(sed -n 's/^ *subscriptionID: //p' "$SIM_CONFIG")
	sim_acurl "/subscriptions/$sub/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01" \
	    -H "Authorization: Bearer $tok" >"$W/vms.json"
	run jq -n --slurpfile c "$W/ncs.json" --slurpfile n "$W/nodes.json" --slurpfile v "$W/vms.json" -c '
	    {claims: ($c[0].items | length), nodes: ($n[0].items | length), vms: ($v[0].value | length),
	     vmnames: ($v[0].value | map(.name | ascii_downcase) | unique | length),
	     orphans: ([$n[0].items[].spec.providerID] - [$c[0].items[].status.providerID] | length),
	     failed: ($v[0].value | map(select(.properties.provisioningState != "Succeeded")) | length)}'
	echo "$output" >&3
	[ "$(jq '.claims > 1 and .claims == .vms and .vms == .nodes and .vms == .vmnames' <<<"$output")" = true ]
	[ "$(jq '.orphans == 0 and .failed == 0' <<<"$output")" = true ]
	# the new leader launched what came after the handover
	grep -q '"type":"Launched"' "$W/loop-B.out"
}
