# tests/helpers/sim.bash - start and stop nap-sim from bats suites.
#
#   load helpers/sim                       # from a suite in tests/
#   setup()    { sim_start [nap-sim options...]; }
#   teardown() { sim_stop; }
#
# sim_start runs "$NAP_BIN/nap-sim" on ephemeral loopback ports in
# $BATS_TEST_TMPDIR/sim (or $1 of sim_start_in), waits until it has written
# its kubeconfig and nap.yaml (it writes them only once it serves), and
# exports:
#   SIM_DIR SIM_PID SIM_KUBECONFIG SIM_CONFIG SIM_CA SIM_TOKEN
#   SIM_KUBE_URL SIM_ARM_URL SIM_INSECURE_URL   KUBECONFIG (= SIM_KUBECONFIG)
# sim_stop sends SIGTERM, waits for the exit and returns nap-sim's status
# when it is this shell's child, else 0 (a second call is harmless).
# Helpers:
#   sim_kubectl ARGS...        kubectl against the simulator
#   sim_kcurl PATH [ARGS...]   curl the Kubernetes API (TLS + bearer token)
#   sim_acurl PATH [ARGS...]   curl the ARM port (TLS; the simulator's token
#                              only for /nap-sim/ and the managed identity)
#   sim_poll SECONDS CMD...    run CMD until it succeeds; fail after SECONDS
# Nothing here sleeps to synchronise: every wait polls for a condition.

: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"

sim_poll() {
	local timeout=$1 deadline
	shift
	deadline=$(($(date +%s) + timeout))
	until "$@"; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "sim_poll: gave up after ${timeout}s: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

_sim_wait_ready() {	# until the ready record, nap-sim's death, or 60 s
	local deadline=$(($(date +%s) + 60))
	until [ -s "$SIM_DIR/ready.json" ]; do
		if ! kill -0 "$SIM_PID" 2>/dev/null; then
			echo "nap-sim exited before it was ready:" >&2
			cat "$SIM_DIR/stderr" >&2
			return 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "nap-sim was not ready after 60s" >&2
			return 1
		fi
		sleep 0.05
	done
}

sim_start_in() {
	local dir=$1 rc
	shift
	mkdir -p "$dir"
	SIM_DIR=$dir
	rm -f "$dir/ready.json"
	"$NAP_BIN/nap-sim" --kubeconfig-out "$dir/kubeconfig" \
	    --config-out "$dir/nap.yaml" --ca-out "$dir/ca.pem" \
	    --insecure-port 0 "$@" >"$dir/ready.json" 2>"$dir/stderr" 3>&- &
	SIM_PID=$!
	export SIM_DIR SIM_PID
	_sim_wait_ready
	rc=$?
	if [ "$rc" -ne 0 ]; then
		sim_stop >/dev/null 2>&1
		return 1
	fi
	SIM_KUBECONFIG=$dir/kubeconfig
	SIM_CONFIG=$dir/nap.yaml
	SIM_CA=$dir/ca.pem
	SIM_KUBE_URL=$(jq -r .kube "$dir/ready.json")
	SIM_ARM_URL=$(jq -r .arm "$dir/ready.json")
	SIM_INSECURE_URL=$(jq -r '.insecure // empty' "$dir/ready.json")
	SIM_TOKEN=$(sed -n 's/^ *token: //p' "$SIM_KUBECONFIG")
	KUBECONFIG=$SIM_KUBECONFIG
	export SIM_KUBECONFIG SIM_CONFIG SIM_CA SIM_KUBE_URL SIM_ARM_URL \
	    SIM_INSECURE_URL SIM_TOKEN KUBECONFIG
}

sim_start() {	# in setup_file too (BATS_FILE_TMPDIR)
	sim_start_in "${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:?}}/sim" "$@"
}

sim_stop() {
	local pid=${SIM_PID:-} rc=0 deadline
	[ -n "$pid" ] || return 0
	SIM_PID=
	kill -TERM "$pid" 2>/dev/null || return 0
	deadline=$(($(date +%s) + 30))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.05
	done
	wait "$pid" 2>/dev/null || rc=$?
	# 127: not this shell's child (started in another subshell): unknown.
	[ "$rc" -eq 127 ] && rc=0
	return "$rc"
}

sim_kubectl() {
	kubectl --kubeconfig "$SIM_KUBECONFIG" --request-timeout=30s "$@"
}

sim_kcurl() {
	local path=$1
	shift
	curl -sS --max-time 30 --cacert "$SIM_CA" \
	    -H "Authorization: Bearer $SIM_TOKEN" "$@" "$SIM_KUBE_URL$path"
}

sim_acurl() {
	local path=$1
	shift
	# The simulator's token opens its control endpoint and its managed
	# identity endpoint (as ?key=), as nap-sim(1) says.
	case $path in
	/nap-sim/*) set -- -H "Authorization: Bearer $SIM_TOKEN" "$@" ;;
	/metadata/identity/*) path="$path&key=$SIM_TOKEN" ;;
	esac
	curl -sS --max-time 30 --cacert "$SIM_CA" "$@" "$SIM_ARM_URL$path"
}
