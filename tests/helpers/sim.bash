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
# when it is this shell's child, else 0 (a second call is harmless); if
# nap-sim had died before it was stopped, it prints nap-sim's stderr and
# fails whatever the status, so a crash fails the test that saw it.
# Helpers:
#   sim_kubectl ARGS...        kubectl against the simulator
#   sim_kcurl PATH [ARGS...]   curl the Kubernetes API (TLS + bearer token)
#   sim_acurl PATH [ARGS...]   curl the ARM port (TLS; the simulator's token
#                              only for /nap-sim/ and the managed identity)
#   sim_poll SECONDS CMD...    run CMD until it succeeds; fail after SECONDS
#   sim_create_pdb NAME K=V MIN  a policy/v1 PodDisruptionBudget, any kubectl
#   sim_arm_login              an ARM token from the managed identity
#                              endpoint: sets SIM_ARM_TOKEN, SIM_SUBNET and
#                              the paths SIM_VMS, SIM_NICS (+ SIM_CV, SIM_NV)
#   sim_arm METHOD PATH [ARGS...]  an ARM request; prints the HTTP status
#   sim_launch NAME SIZE ZONE PRIORITY BOOTSTRAP  a NIC and a VM through ARM
#   sim_boot LABELS TAINTS STARTUP-TAINTS [MAXPODS]  a bootstrap document
#   sim_agent_daemonset        a DaemonSet "agent" (pods app=agent) in
#                              kube-system, tolerating nothing extra
#   sim_stat NAME              one counter of GET /nap-sim/stats (pdbViolations,
#                              doNotDisruptEvicted, vmsDeletedWithPods ...)
#   sim_alive                  fail, showing nap-sim's stderr, if it died
#   need_kubectl, need_fixtures   fail (never skip) when kubectl or the
#                              shared fixtures ($NAP_FIXTURES) are missing
# Nothing here sleeps to synchronise: every wait polls for a condition.

: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
# The shared fixtures: $NAP_SHARED (tests/run sets it), else ../shared
# beside the repository.  Required: a test that reads one fails without it.
NAP_FIXTURES=${NAP_SHARED:-$BATS_TEST_DIRNAME/../../shared}/fixtures

need_fixtures() {
	if [ -d "$NAP_FIXTURES" ]; then
		return 0
	fi
	echo "the shared fixtures are missing: $NAP_FIXTURES is not a directory" \
	    "(check out shared/ beside the repository, or set NAP_SHARED)"
	return 1
}

need_kubectl() {
	if command -v kubectl >/dev/null; then
		return 0
	fi
	echo "kubectl is not installed: make deps (bin/nap-deps) installs it"
	return 1
}

# sim_alive: succeeds while the nap-sim this shell started runs; once it
# has died (a zombie not yet reaped counts as dead) it prints nap-sim's
# exit and stderr and fails, so a test can tell a crash from a slow step.
sim_alive() {
	local state
	[ -n "${SIM_PID:-}" ] || return 0
	state=$(ps -o stat= -p "$SIM_PID" 2>/dev/null) || state=
	if [ -n "$state" ] && [ "${state#Z}" = "$state" ]; then
		return 0
	fi
	echo "nap-sim (pid $SIM_PID) died under the test; its stderr:"
	sed 's/^/  /' "$SIM_DIR/stderr" 2>/dev/null | tail -n 40
	return 1
}

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
	# --force: a restart in the same directory replaces what the last run wrote
	"$NAP_BIN/nap-sim" --kubeconfig-out "$dir/kubeconfig" \
	    --config-out "$dir/nap.yaml" --ca-out "$dir/ca.pem" --force \
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
	local pid=${SIM_PID:-} rc=0 deadline died=0 why
	[ -n "$pid" ] || return 0
	# Dead before it was told to stop: it crashed or exited under the test.
	why=$(sim_alive) || died=1
	SIM_PID=
	if [ "$died" = 0 ] && kill -TERM "$pid" 2>/dev/null; then
		deadline=$(($(date +%s) + 30))
		while kill -0 "$pid" 2>/dev/null; do
			if [ "$(date +%s)" -ge "$deadline" ]; then
				echo "nap-sim ignored SIGTERM for 30s; killed"
				kill -KILL "$pid" 2>/dev/null
				break
			fi
			sleep 0.05
		done
	fi
	wait "$pid" 2>/dev/null || rc=$?
	# 127: not this shell's child (started in another subshell): unknown.
	[ "$rc" -eq 127 ] && rc=0
	if [ "$died" = 1 ]; then
		echo "$why"
		echo "nap-sim's exit status: ${rc/#0/unknown}"
		[ "$rc" -ne 0 ] || rc=1
	elif [ "$rc" -ne 0 ]; then
		echo "nap-sim exited $rc on SIGTERM; its stderr:"
		sed 's/^/  /' "$SIM_DIR/stderr" 2>/dev/null | tail -n 40
	fi
	return "$rc"
}

sim_kubectl() {
	need_kubectl || return 1
	kubectl --kubeconfig "$SIM_KUBECONFIG" --request-timeout=30s "$@"
}

# jqe ARGS...: jq -e ARGS over standard input, false when the input is
# empty.  jq 1.6's -e exits 0 when it reads nothing, so "sim_kubectl get X
# -o json | jq -e F" passed when X did not exist (kubectl's error goes to
# stderr, and a pipeline's status is its last command's).
jqe() {
	local in
	in=$(cat)
	[ -n "$in" ] || return 1
	printf '%s\n' "$in" | jq -e "$@"
}

# sim_create_pdb NAME LABEL=VALUE MIN-AVAILABLE: a policy/v1 budget.  kubectl
# 1.21 and later create it with "kubectl create pdb" (typed, protobuf since
# 1.32); kubectl 1.20 (Debian 12's kubernetes-client) makes that a
# policy/v1beta1 object, which nap-sim, like every server since 1.25, does
# not serve, so with it the same budget is applied as YAML.
sim_create_pdb() {
	local minor
	minor=$(kubectl version --client -o json | jq -r '.clientVersion.minor | tonumber? // 99')
	if [ "$minor" -ge 21 ]; then
		sim_kubectl create pdb "$1" --selector="$2" --min-available="$3"
		return
	fi
	sim_kubectl apply -f - <<-EOF
		apiVersion: policy/v1
		kind: PodDisruptionBudget
		metadata: {name: $1}
		spec: {minAvailable: $3, selector: {matchLabels: {${2%%=*}: ${2#*=}}}}
		EOF
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

# sim_stat NAME: a safety counter of nap-sim (nap-sim(1), "Safety
# counters"); fails, printing the answer, when the counter is not there.
sim_stat() {
	local out
	out=$(sim_acurl /nap-sim/stats) || return 1
	jq -er --arg k "$1" '.[$k] // error("no counter \($k)")' <<<"$out" || {
		echo "sim_stat: $1: $out" >&2
		return 1
	}
}

SIM_RG=/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/MC_nap-sim_nap-sim_eastus
SIM_VMS=$SIM_RG/providers/Microsoft.Compute/virtualMachines
SIM_NICS=$SIM_RG/providers/Microsoft.Network/networkInterfaces
SIM_CV=api-version=2024-07-01
SIM_NV=api-version=2024-05-01

sim_arm_login() {
	SIM_ARM_TOKEN=$(sim_acurl "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F" \
	    -H 'Metadata: true' | jq -r .access_token)
	SIM_SUBNET=$(sed -n 's/^ *subnetID: //p' "$SIM_CONFIG")
}

sim_arm() {
	local m=$1 p=$2
	shift 2
	sim_acurl "$p" -X "$m" -o /dev/null -w '%{http_code}' \
	    -H "Authorization: Bearer $SIM_ARM_TOKEN" -H 'Content-Type: application/json' "$@"
}

sim_launch() {
	local name=$1 size=$2 zone=$3 prio=$4 boot=$5 cd
	cd=$(printf '%s' "$boot" | base64 -w0)
	[ "$(sim_arm PUT "$SIM_NICS/$name?$SIM_NV" -d "$(jq -cn --arg s "$SIM_SUBNET" --arg n "$name" \
	    '{location:"eastus",properties:{ipConfigurations:[{name:$n,properties:{subnet:{id:$s}}}]}}')")" = 201 ]
	[ "$(sim_arm PUT "$SIM_VMS/$name?$SIM_CV" -d "$(jq -cn --arg n "$name" --arg size "$size" \
	    --arg z "$zone" --arg prio "$prio" --arg cd "$cd" --arg nic "$SIM_NICS/$name" '
	    {location:"eastus", zones:[$z], tags:{"karpenter.sh_nodepool":"tagged"},
	     properties:{hardwareProfile:{vmSize:$size},
	       osProfile:{computerName:$n, customData:$cd},
	       networkProfile:{networkInterfaces:[{id:$nic,properties:{deleteOption:"Delete"}}]},
	       priority:$prio}}
	    | if $prio == "Spot" then .properties.evictionPolicy = "Delete" else . end')")" = 201 ]
}

sim_boot() {
	jq -cn --argjson l "$1" --argjson t "$2" --argjson s "$3" --argjson mp "${4:-110}" \
	    '{apiVersion:"nap.azure.com/v1",kind:"NodeBootstrap",labels:$l,taints:$t,startupTaints:$s,kubelet:{maxPods:$mp},kubernetesVersion:"1.31.2"}'
}

sim_agent_daemonset() {
	sim_kubectl apply -f - <<-'EOF'
	apiVersion: apps/v1
	kind: DaemonSet
	metadata: {name: agent, namespace: kube-system}
	spec:
	  selector: {matchLabels: {app: agent}}
	  template:
	    metadata: {labels: {app: agent}}
	    spec:
	      containers: [{name: a, image: busybox}]
	EOF
}
