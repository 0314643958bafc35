#!/bin/bash
# shellcheck disable=SC2317  # trap handlers and background loops are called indirectly
# tests/chaos/chaos.sh - the provision loop under chaos, with its invariants
# checked all along.
#
# nap-sim plays the cluster with faults switched on: ARM answers 429 to 20%
# of requests and 5xx to 5% (500, 502, 503, 504 in turn), the three
# offerings the loop wants first have no capacity, the Kubernetes API
# answers 429 to a share of requests and 410 to a share of watch
# resumptions, every watch is closed every 10 s and every third time the
# watch history is compacted too, so that every resumption is refused and
# the watchers relist.  The loop (nap-watch | nap-upgrade | nap-disrupt |
# nap-solve | nap-launch) runs
# as the systemd units run it, or as pipelines/nap, under a supervisor that
# restarts it as systemd would, while a random stage is killed with SIGKILL
# every 5 s.  Meanwhile deployments scale between 0 and the pod count.
# Then the chaos stops, the pods go back to the full count, and the loop
# must settle.
#
# Invariants, sampled about once a second from the API server and ARM (not
# from the loop's own records) and checked again once settled:
#   duplicates  0 VMs sharing a NodeClaim: VM names are aks-<NodeClaim>, so
#               two VMs for one NodeClaim show as the same name in another
#               case, as NodeClaims or Nodes sharing a providerID, or as a
#               stray: a VM neither Deleting nor Failed whose NodeClaim does
#               not exist, in two samples running (a NodeClaim goes only
#               once its VM is Deleting)
#   leaked      once settled, VMs = NICs = NodeClaims = Nodes and no VM or
#               NIC without a NodeClaim
#   stranded    once settled, every pod Running; meanwhile every Pending
#               pod older than 30 s has the scheduler's reason
#   safety      nap-sim's safety counters (nap-sim(1), GET /nap-sim/stats)
#               stay 0 all along: no pod evicted or deleted against its
#               PodDisruptionBudget, no do-not-disrupt pod evicted, no VM
#               deleted while a drainable pod was bound to its Node
#               (nap-disrupt removes nodes as deployments shrink; nap-sim
#               counts each breach at the moment it happens)
#   exits       every exit of every stage accounted for: SIGKILL (137)
#               for the ones killed, 0 (or 141, SIGPIPE, for a writer whose
#               reader went first) for the ones stopped, nothing else
#   faults      every kind of fault happened, and nap-sim took every fault
#               document
#   samples     the sampler saw the whole run: samples a median of 3 s
#               apart at most, never 20 s
#
# Usage: tests/chaos/chaos.sh [-k] [-p pods] [-d seconds] [-m units|pipeline]
#            [-s time-scale] [-S seed] [-t settle-timeout]
#   -p  pods at full scale (default $CHAOS_PODS or 2000)
#   -d  seconds of chaos (default $CHAOS_DURATION or 300)
#   -m  units: each stage its own process joined by FIFOs, a stage that dies
#       stops the others (BindsTo=) and all restart (Restart=on-failure);
#       pipeline: pipelines/nap restarted whenever it exits (default units)
#   -s  nap-sim's and nap-launch's --time-scale (default 20)
#   -S  nap-sim's --seed and this script's random stream (default: random)
#   -t  seconds allowed to settle after the chaos (default 600)
#   -k  keep the work directory
# Exit 0 when every invariant held; the last lines are a summary of counts
# ("chaos: vms=... duplicates=0 leaked=0 ...") and "N passed, N failed"
# with one test per invariant.  Everything listens on loopback; every
# process started here is stopped on the way out, also on SIGINT/SIGTERM.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${NAP_BIN:=$repo/bin}"

pods=${CHAOS_PODS:-2000} duration=${CHAOS_DURATION:-300} mode=${CHAOS_MODE:-units}
scale=${CHAOS_SCALE:-20} seed=${CHAOS_SEED:-$((RANDOM * 32768 + RANDOM))}
settle_timeout=${CHAOS_SETTLE:-600} keep=0
kill_every=5 drop_every=10

usage() {
	echo "usage: chaos.sh [-k] [-p pods] [-d seconds] [-m units|pipeline]" \
	    "[-s time-scale] [-S seed] [-t settle-timeout]" >&2
	exit 64
}
while getopts kp:d:m:s:S:t: o; do
	case $o in
	k) keep=1 ;;
	p) pods=$OPTARG ;;
	d) duration=$OPTARG ;;
	m) mode=$OPTARG ;;
	s) scale=$OPTARG ;;
	S) seed=$OPTARG ;;
	t) settle_timeout=$OPTARG ;;
	*) usage ;;
	esac
done
[ $OPTIND -gt $# ] || usage
case $mode in units | pipeline) ;; *) usage ;; esac
for n in "$pods" "$duration" "$scale" "$seed" "$settle_timeout"; do
	case $n in '' | *[!0-9]*) usage ;; esac
done
RANDOM=$seed

die() {
	echo "chaos: $*" >&2
	exit 1
}
say() {
	echo "chaos: $(date -u +%T) $*"
}

for t in kubectl jq curl; do
	command -v "$t" >/dev/null || die "$t is not installed"
done
for t in nap-sim nap-watch nap-upgrade nap-disrupt nap-solve nap-launch; do
	[ -x "$NAP_BIN/$t" ] || die "$NAP_BIN/$t: not built (make all)"
done

W=$(mktemp -d "${TMPDIR:-/tmp}/nap-chaos.XXXXXX") || exit 1
mkdir "$W/run" "$W/log" "$W/samples"
bg=()	# this script's background jobs: nap-sim, supervisor, chaos loops

# Every stage pid the supervisor started is in $W/run/*.pid: killed too, in
# case its supervisor was killed before it could stop it.
cleanup() {
	local p f i
	trap - EXIT INT TERM HUP
	touch "$W/stop" "$W/calm"
	# Last started first: the chaos, the samplers, the loop, then nap-sim.
	for ((i = ${#bg[@]} - 1; i >= 0; i--)); do
		kill -TERM "${bg[i]}" 2>/dev/null
		reap "${bg[i]}" 30
	done
	for f in "$W"/run/*.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	if [ "$keep" -eq 1 ]; then
		echo "chaos: work dir kept: $W" >&2
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# reap PID SECONDS: wait for a child of this shell to end, SIGKILL after
# SECONDS; its status (as wait gives it) in $reaped.  Not in $(...): a
# subshell cannot wait for its parent's children.
reap() {
	local pid=$1 deadline=$(($(date +%s) + $2))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	reaped=0
	wait "$pid" 2>/dev/null || reaped=$?
}

# --- nap-sim and the API clients -------------------------------------------

say "work dir $W; pods $pods, $duration s of chaos, mode $mode, time scale $scale, seed $seed"
# -v: one line per request with its status, which is how the faults
# injected are counted.
"$NAP_BIN/nap-sim" -v --kubeconfig-out "$W/kubeconfig" --config-out "$W/sim.yaml" \
    --ca-out "$W/ca.pem" --catalog "$repo/data" --time-scale "$scale" --seed "$seed" \
    >"$W/ready.json" 2>"$W/log/nap-sim.err" </dev/null &
sim=$!
bg+=("$sim")
deadline=$(($(date +%s) + 60))
until [ -s "$W/ready.json" ]; do
	kill -0 "$sim" 2>/dev/null || { cat "$W/log/nap-sim.err" >&2; die "nap-sim exited"; }
	[ "$(date +%s)" -lt "$deadline" ] || die "nap-sim not ready after 60 s"
	sleep 0.1
done
sed 's|^catalog:.*|catalog: "'"$repo"'/data"|' "$W/sim.yaml" >"$W/nap.yaml"
KUBE=$(jq -r .kube "$W/ready.json")
ARM=$(jq -r .arm "$W/ready.json")
TOKEN=$(sed -n 's/^ *token: //p' "$W/kubeconfig")
SUB=$(sed -n 's/^ *subscriptionID: //p' "$W/nap.yaml")
RG=$(sed -n 's/^ *resourceGroup: //p' "$W/nap.yaml")

k() {
	kubectl --kubeconfig "$W/kubeconfig" --request-timeout=60s "$@"
}
# kr ARGS...: kubectl, again while the faults make it fail (10 tries).
kr() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		k "$@" && return 0
		sleep 1
	done
	return 1
}
# kget PATH OUT: GET from the API server into OUT, through its 429s.
kget() {
	local i code
	for i in 1 2 3 4 5 6 7 8 9 10; do
		code=$(curl -sS --max-time 60 --cacert "$W/ca.pem" -o "$2" -w '%{http_code}' \
		    -H "Authorization: Bearer $TOKEN" "$KUBE$1") && [ "$code" = 200 ] && return 0
		sleep 0.5
	done
	return 1
}
arm_token() {
	curl -sS --max-time 60 --cacert "$W/ca.pem" -H 'Metadata: true' \
	    "$ARM/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/&key=$TOKEN" |
	    jq -r .access_token
}
# mget BASE TOKEN OUT PATH [OUT PATH]: both GETs on one curl (one TLS
# handshake, in parallel), again until both are 200 with no nextLink.
mget() {
	local base=$1 tok=$2 i codes
	shift 2
	for i in 1 2 3 4 5 6 7 8 9 10; do
		codes=$(curl -sS --no-progress-meter --max-time 60 --cacert "$W/ca.pem" --parallel \
		    -H "Authorization: Bearer $tok" -w '%{http_code}\n' \
		    -o "$1" "$base$2" ${3:+-o "$3" "$base$4"}) &&
		    ! grep -qv '^200$' <<<"$codes" &&
		    ! jq -e '.nextLink // empty' "$1" ${3:+"$3"} >/dev/null && return 0
		sleep 0.2
	done
	return 1
}
fault() {
	curl -sS --max-time 60 --cacert "$W/ca.pem" -X POST -H 'Content-Type: application/json' \
	    -H "Authorization: Bearer $TOKEN" -d "$1" -o /dev/null -w '%{http_code}' \
	    "$ARM/nap-sim/faults" | grep -q 200
}
ARM_TOKEN=$(arm_token)
case $ARM_TOKEN in '' | null) die "no ARM token from nap-sim" ;; esac

kr apply --server-side --force-conflicts -f "$repo/deploy/crds/" >"$W/log/apply" ||
    die "kubectl apply of the CRDs failed"
kr apply -f "$repo/deploy/nodepools/default.yaml" -f "$here/workload.yaml" >>"$W/log/apply" ||
    die "kubectl apply of the NodePools and the workload failed"

# The deployments and their shares of the pods.
deploys=(small medium spread big)
shares=(50 30 15 5)
# scale_to PERCENT: PERCENT of $pods, shared out; "small" takes the rest.
scale_to() {
	local i n total=$((pods * $1 / 100)) left
	left=$total
	for i in 3 2 1 0; do
		n=$((total * shares[i] / 100))
		[ "$i" -eq 0 ] && n=$left
		left=$((left - n))
		kr -n chaos scale deployment "${deploys[i]}" --replicas="$n" >/dev/null ||
		    echo "chaos: warning: scale ${deploys[i]} to $n failed" >&2
	done
	echo "$total" >"$W/target"
	say "pods scaled to $1% ($total)"
}

# --- the three offerings the loop wants first ------------------------------

# A dry plan of the full workload on the empty cluster: the instance type
# each LaunchRequest ranks first, in each zone it allows, in the plan's
# order.  Those three offerings get no capacity, so that every launch of
# the first plans fails and falls back to the next offering.
scale_to 100
target=$(cat "$W/target")
deadline=$(($(date +%s) + 120))
while :; do
	kget "/api/v1/namespaces/chaos/pods" "$W/pods0.json" &&
	    [ "$(jq '.items | length' "$W/pods0.json")" -ge "$target" ] && break
	[ "$(date +%s)" -lt "$deadline" ] || die "the $target pods were not all created in 120 s"
	sleep 0.5
done
"$NAP_BIN/nap-watch" --config "$W/nap.yaml" --once 2>"$W/log/plan.err" </dev/null |
    "$NAP_BIN/nap-solve" --config "$W/nap.yaml" >"$W/plan.ndjson" 2>>"$W/log/plan.err"
capacity=$(jq -sc '[.[] | select(.type == "LaunchRequest") | .nodeClaim.spec.requirements as $r
	| ($r[] | select(.key == "node.kubernetes.io/instance-type") | .values[0]) as $size
	| ($r[] | select(.key == "topology.kubernetes.io/zone") | .values[]) as $zone
	| {size: $size, zone: (if $zone == "0" then "0" else ($zone | sub("^.*-"; "")) end),
	   capacityType: "on-demand", available: 0}] | reduce .[] as $o ([];
	    if any(.[]; .size == $o.size and .zone == $o.zone) then . else . + [$o] end) | .[:3]' \
    "$W/plan.ndjson")
[ "$(jq length <<<"$capacity")" -eq 3 ] || die "the dry plan did not give three offerings: $capacity"
say "no capacity for $(jq -r 'map("\(.size) zone \(.zone)") | join(", ")' <<<"$capacity")"

# --- the loop under a supervisor --------------------------------------------

# Every exit goes to $W/exits as "gen name pid status cause": cause killed
# (SIGKILLed by the killer: its pid is in $W/run/killed), stopped (this
# supervisor stopped it, or it ended after a neighbour was killed: at the
# end of its input, or of SIGPIPE) or own (it ended by itself, first, and
# no stage of its generation was killed).
restart_sec=$(awk -v s="$scale" 'BEGIN { r = 5 / s; if (r < 0.2) r = 0.2; print r }')

cause_of() {	# cause_of PID DEFAULT
	if grep -qx "$1" "$W/run/killed" 2>/dev/null; then
		echo killed
	else
		echo "$2"
	fi
}

# As the units: nap-launch reads solve.out, writes feedback; nap-solve reads
# disrupt.out and feedback, writes solve.out; nap-disrupt reads upgrade.out,
# writes disrupt.out; nap-upgrade reads watch.out, writes upgrade.out;
# nap-watch writes watch.out.  The
# FIFOs stay from one start to the next, as /run/nap's do (tmpfiles).
sup_units() {
	local gen=0 first first_st st pid i own
	local -a spid sname st_of
	trap 'touch "$W/stop"' TERM
	mkfifo -m 600 "$W/run/watch.out" "$W/run/upgrade.out" "$W/run/disrupt.out" \
	    "$W/run/solve.out" "$W/run/feedback"
	while [ ! -e "$W/stop" ]; do
		gen=$((gen + 1))
		"$NAP_BIN/nap-launch" --config "$W/nap.yaml" --time-scale "$scale" \
		    --feedback "$W/run/feedback" <"$W/run/solve.out" >/dev/null \
		    2>"$W/log/nap-launch.$gen.err" &
		spid=("$!")
		"$NAP_BIN/nap-solve" --config "$W/nap.yaml" --input "$W/run/feedback" \
		    <"$W/run/disrupt.out" >"$W/run/solve.out" 2>"$W/log/nap-solve.$gen.err" &
		spid+=("$!")
		"$NAP_BIN/nap-disrupt" --config "$W/nap.yaml" --time-scale "$scale" \
		    <"$W/run/upgrade.out" >"$W/run/disrupt.out" 2>"$W/log/nap-disrupt.$gen.err" &
		spid+=("$!")
		"$NAP_BIN/nap-upgrade" --config "$W/nap.yaml" --time-scale "$scale" \
		    <"$W/run/watch.out" >"$W/run/upgrade.out" 2>"$W/log/nap-upgrade.$gen.err" &
		spid+=("$!")
		"$NAP_BIN/nap-watch" --config "$W/nap.yaml" --slim </dev/null \
		    >"$W/run/watch.out" 2>"$W/log/nap-watch.$gen.err" &
		spid+=("$!")
		sname=(nap-launch nap-solve nap-disrupt nap-upgrade nap-watch)
		for i in "${!spid[@]}"; do
			echo "${spid[i]}" >"$W/run/${sname[i]}.pid"
		done
		echo "$gen" >"$W/run/gen"
		first=
		while [ -z "$first" ]; do
			pid=
			wait -n -p pid "${spid[@]}" 2>/dev/null
			st=$?
			# A trapped signal leaves pid unset.
			if [ -n "${pid:-}" ]; then
				first=$pid
			elif [ -e "$W/stop" ]; then
				break
			fi
		done
		# BindsTo=: the others stop (SIGTERM, SIGKILL after
		# TimeoutStopSec=30s) and all start again after RestartSec.
		# The first to end is not always the one killed: a stage whose
		# neighbour was killed may end (EOF, SIGPIPE) and be reaped
		# first, so "own" holds only when none of them was killed.
		first_st=$st
		for i in "${!spid[@]}"; do
			[ "${spid[i]}" = "$first" ] || kill -TERM "${spid[i]}" 2>/dev/null
		done
		for i in "${!spid[@]}"; do
			[ "${spid[i]}" = "$first" ] && continue
			reap "${spid[i]}" 30
			st_of[i]=$reaped
		done
		own=own
		for i in "${!spid[@]}"; do
			grep -qx "${spid[i]}" "$W/run/killed" 2>/dev/null && own=stopped
		done
		for i in "${!spid[@]}"; do
			if [ "${spid[i]}" = "$first" ]; then
				echo "$gen ${sname[i]} $first $first_st $(cause_of "$first" "$own")" >>"$W/exits"
			else
				echo "$gen ${sname[i]} ${spid[i]} ${st_of[i]} $(cause_of "${spid[i]}" stopped)" >>"$W/exits"
			fi
		done
		rm -f "$W"/run/nap-*.pid
		[ -e "$W/stop" ] || sleep "$restart_sec"
	done
}

# As pipelines/nap under Restart=on-failure: the whole loop starts again
# after any exit but ours.  Its status is the first failing stage's; the
# others' statuses it keeps to itself, so the stages it names on stderr
# ("nap: X exited with status N") are what is accounted for.
sup_pipeline() {
	local gen=0 pid st
	trap 'touch "$W/stop"' TERM
	while [ ! -e "$W/stop" ]; do
		gen=$((gen + 1))
		"$repo/pipelines/nap" --config "$W/nap.yaml" --time-scale "$scale" \
		    </dev/null >/dev/null 2>"$W/log/nap.$gen.err" &
		pid=$!
		echo "$pid" >"$W/run/nap.pid"
		echo "$gen" >"$W/run/gen"
		while :; do
			wait "$pid" 2>/dev/null
			st=$?
			kill -0 "$pid" 2>/dev/null || break
			# A trapped SIGTERM: stop the pipeline as systemd would.
			[ -e "$W/stop" ] && kill -TERM "$pid" 2>/dev/null
		done
		if grep -q "^$gen " "$W/run/killed-gen" 2>/dev/null; then
			echo "$gen nap $pid $st killed" >>"$W/exits"
		elif [ -e "$W/stop" ]; then
			echo "$gen nap $pid $st stopped" >>"$W/exits"
		else
			echo "$gen nap $pid $st own" >>"$W/exits"
		fi
		rm -f "$W/run/nap.pid"
		[ -e "$W/stop" ] || sleep "$restart_sec"
	done
}

stage_pid() {	# stage_pid NAME: the live pid of that stage, or nothing
	local p nap
	if [ "$mode" = units ]; then
		p=$(cat "$W/run/$1.pid" 2>/dev/null)
	else
		nap=$(cat "$W/run/nap.pid" 2>/dev/null)
		[ -n "$nap" ] && p=$(pgrep -P "$nap" -x "$1" | head -n 1)
	fi
	[ -n "${p:-}" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && echo "$p"
}

# Every $kill_every s until $W/calm: SIGKILL to one stage at random.
killer() {
	local stages=(nap-watch nap-upgrade nap-disrupt nap-solve nap-launch) name pid gen
	trap 'exit 0' TERM
	while [ ! -e "$W/calm" ]; do
		sleep "$kill_every"
		[ -e "$W/calm" ] && break
		name=${stages[RANDOM % ${#stages[@]}]}
		pid=$(stage_pid "$name")
		[ -n "$pid" ] || continue
		gen=$(cat "$W/run/gen" 2>/dev/null)
		echo "$pid" >>"$W/run/killed"
		echo "$gen $pid" >>"$W/run/killed-gen"
		kill -KILL "$pid" 2>/dev/null &&
		    echo "$(date +%s) $gen $name $pid" >>"$W/kills"
	done
}

# The faults in force through the chaos, and the watch drops and forced
# relists every $drop_every s; all but the capacity ones go at $W/calm.
faulter() {
	local n=0 st statuses=(500 502 503 504)
	trap 'exit 0' TERM
	fault '{"reset":true,"capacity":'"$capacity"',"throttle":{"rate":0.2},
	    "errors":{"rate":0.05,"status":500},
	    "k8s":{"throttleRate":0.05,"goneRate":0.2}}' ||
	    echo "$(date +%s) refused" >>"$W/drops"
	while [ ! -e "$W/calm" ]; do
		sleep "$drop_every"
		[ -e "$W/calm" ] && break
		n=$((n + 1))
		st=${statuses[n % 4]}
		if [ $((n % 3)) -eq 0 ]; then
			fault '{"errors":{"rate":0.05,"status":'"$st"'},"k8s":{"compact":true,"dropWatches":true}}' &&
			    echo "$(date +%s) relist" >>"$W/drops" ||
			    echo "$(date +%s) refused" >>"$W/drops"
		else
			fault '{"errors":{"rate":0.05,"status":'"$st"'},"k8s":{"dropWatches":true}}' &&
			    echo "$(date +%s) drop" >>"$W/drops" ||
			    echo "$(date +%s) refused" >>"$W/drops"
		fi
	done
	fault '{"throttle":{"rate":0},"errors":{"rate":0},"k8s":{"throttleRate":0,"goneRate":0}}' ||
	    echo "$(date +%s) refused" >>"$W/drops"
}

# The pods, sampled on their own every 3 s at most (2,000 pods take
# seconds to list and read, and nap-sim serves one request at a time, the
# loop's included): the latest summary is $W/samples/pods.json, which each
# sample of the world includes.
# shellcheck disable=SC2016  # a jq program
pods_jq='
.items as $pods
| {tp: $t, pods: ($pods | length),
   running: ($pods | map(select(.status.phase == "Running")) | length),
   withpods: ($pods | map(select(.spec.nodeName != null and .metadata.deletionTimestamp == null)
       | .spec.nodeName) | unique),
   unexplained: [$pods[] | select(.spec.nodeName == null and .metadata.deletionTimestamp == null
       and ($t - (.metadata.creationTimestamp | fromdateiso8601)) > 30
       and ([.status.conditions[]? | select(.type == "PodScheduled" and .status == "False"
           and (.reason // "") != "")] | length) == 0)
       | .metadata.namespace + "/" + .metadata.name],
   pendingage: ([$pods[] | select(.status.phase != "Running")
       | $t - (.metadata.creationTimestamp | fromdateiso8601)] | max // 0)}'

pod_sampler() {
	local s=$W/samples/pods t
	trap 'exit 0' TERM
	while [ ! -e "$W/stop" ]; do
		t=$(date +%s)
		kget /api/v1/namespaces/chaos/pods "$s.list" &&
		    jq -c --argjson t "$t" "$pods_jq" "$s.list" >"$s.new" &&
		    mv "$s.new" "$s.json"
		while [ $(($(date +%s) - t)) -lt 3 ] && [ ! -e "$W/stop" ]; do
			sleep 0.5
		done
	done
}

# One sample of the world as the API server and ARM see it, one JSON line,
# with the latest pod summary (taken at .tp, before .t).
# shellcheck disable=SC2016  # a jq program
sample_jq='
def claim(n): n | ascii_downcase | sub("^aks-"; "");
($nc[0].items) as $ncs | ($no[0].items) as $nodes
| ($vm[0].value) as $vms | ($ni[0].value) as $nics
| ($ncs | map(.metadata.name)) as $claims
| {t: $t, vms: ($vms | length), nics: ($nics | length), nodeclaims: ($ncs | length),
   nodes: ($nodes | length),
   dupvms: (($vms | length) - ($vms | map(claim(.name)) | unique | length)),
   dupclaims: ($ncs | map(.status.providerID // empty | ascii_downcase)
       | (length - (unique | length))),
   dupnodes: ($nodes | map(.spec.providerID // empty | ascii_downcase)
       | (length - (unique | length))),
   orphanvms: [$vms[] | select(claim(.name) as $c | $claims | index($c) | not) | .name],
   strays: [$vms[] | select(claim(.name) as $c | $claims | index($c) | not)
       | select(.properties.provisioningState as $p | $p != "Deleting" and $p != "Failed")
       | .name],
   orphannics: [$nics[] | select(claim(.name) as $c | $claims | index($c) | not) | .name],
   nodenames: ($nodes | map(.metadata.name)),
   uninitialized: [$ncs[] | select(([.status.conditions[]? | select(.type == "Initialized"
       and .status == "True")] | length) == 0) | .metadata.name]}
  + ($po[0] // {tp: 0, pods: 0, running: 0, withpods: [], unexplained: [], pendingage: 0})'

sample_once() {	# sample_once OUT: 0 when a whole sample was taken
	local s=$W/samples/cur t
	t=$(date +%s)
	# The pods first: a node named in .withpods existed before .t.
	# VMs before NodeClaims: nap-launch makes the NodeClaim first, so
	# every VM listed has its NodeClaim listed too, unless it is gone.
	# Each group's lists in parallel, to sample about once a second.
	rm -f "$s".*
	if [ -s "$W/samples/pods.json" ]; then
		cp "$W/samples/pods.json" "$s.po"
	else
		echo null >"$s.po"
	fi
	mget "$ARM" "$ARM_TOKEN" \
	    "$s.vm" "/subscriptions/$SUB/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01" \
	    "$s.ni" "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Network/networkInterfaces?api-version=2024-05-01" &&
	    mget "$KUBE" "$TOKEN" "$s.nc" /apis/karpenter.sh/v1/nodeclaims "$s.no" /api/v1/nodes ||
	    return 1
	jq -nc --argjson t "$t" --slurpfile nc "$s.nc" --slurpfile no "$s.no" --slurpfile po "$s.po" \
	    --slurpfile vm "$s.vm" --slurpfile ni "$s.ni" "$sample_jq" >"$1"
}

# About once a second until $W/stop, into $W/samples.ndjson.
sampler() {
	local t0
	trap 'exit 0' TERM
	while [ ! -e "$W/stop" ]; do
		t0=$(date +%s%N)
		if sample_once "$W/samples/one"; then
			cat "$W/samples/one" >>"$W/samples.ndjson"
		else
			date +%s >>"$W/sample-failures"
		fi
		sleep "$(awk -v t0="$t0" -v t1="$(date +%s%N)" \
		    'BEGIN { d = 1 - (t1 - t0) / 1e9; print (d > 0.1 ? d : 0.1) }')"
	done
}

# --- the run ----------------------------------------------------------------

# The supervisor's stderr is bash's own "Killed" notices.
if [ "$mode" = units ]; then
	sup_units 2>>"$W/log/supervisor.err" &
else
	sup_pipeline 2>>"$W/log/supervisor.err" &
fi
sup=$!
bg+=("$sup")
pod_sampler &
bg+=("$!")
sampler &
bg+=("$!")
faulter &
bg+=("$!")
killer &
bg+=("$!")

start=$(date +%s)
say "chaos begins"
# Up and down: full, 30%, full, 50%, then full again once the chaos stops.
for step in "35 30" "55 100" "80 50"; do
	at=${step% *}
	until [ $(($(date +%s) - start)) -ge $((duration * at / 100)) ]; do
		kill -0 "$sup" 2>/dev/null || die "the supervisor exited"
		sleep 1
	done
	scale_to "${step#* }"
done
until [ $(($(date +%s) - start)) -ge "$duration" ]; do
	sleep 1
done
touch "$W/calm"
calm=$(date +%s)
at_calm=$(tail -n 1 "$W/samples.ndjson" 2>/dev/null |
    jq -r '"pods=\(.pods) running=\(.running) vms=\(.vms) nodeclaims=\(.nodeclaims) nodes=\(.nodes)"')
say "chaos ends: no more kills or faults but the capacity ones"
scale_to 100
target=$(cat "$W/target")

# Settled: every pod Running, VMs = NICs = NodeClaims = Nodes, nothing
# orphaned, every NodeClaim Initialized, in a sample taken after the calm.
settled() {
	[ -s "$W/samples.ndjson" ] || return 1
	tail -n 1 "$W/samples.ndjson" | jq -e --argjson calm "$calm" --argjson n "$target" '
	    .tp > $calm and .pods == $n and .running == $n and .vms == .nics and .vms == .nodeclaims
	    and .vms == .nodes and (.orphanvms | length) == 0 and (.orphannics | length) == 0
	    and (.uninitialized | length) == 0' >/dev/null
}
settle=
while [ $(($(date +%s) - calm)) -lt "$settle_timeout" ]; do
	if settled; then
		settle=$(($(date +%s) - calm))
		break
	fi
	kill -0 "$sup" 2>/dev/null || break
	sleep 1
done
settled_in=timeout
if [ -n "$settle" ]; then
	settled_in=${settle}s
	say "settled in $settle s"
else
	say "not settled after $settle_timeout s"
fi

# Stop: the sampler's last sample, then the loop by SIGTERM, as systemctl
# stop does, then nap-sim.
touch "$W/stop"
for p in "${bg[@]:1}"; do
	kill -TERM "$p" 2>/dev/null
	reap "$p" 60
done
# nap-sim's safety counters, cumulative over the whole run: read before
# nap-sim stops.
safety=$(curl -sS --max-time 60 --cacert "$W/ca.pem" -H "Authorization: Bearer $TOKEN" \
    "$ARM/nap-sim/stats" 2>/dev/null)
unsafe=$(jq -r '(.pdbViolations // -1) as $p | (.doNotDisruptEvicted // -1) as $d
    | (.vmsDeletedWithPods // -1) as $v
    | if $p == 0 and $d == 0 and $v == 0 then 0 else 1 end' <<<"${safety:-null}" 2>/dev/null)
[ -n "$unsafe" ] || unsafe=1
vmsdeleted=$(jq -r '.vmsDeleted // "?"' <<<"${safety:-null}" 2>/dev/null)
kill -TERM "$sim" 2>/dev/null
reap "$sim" 30
sim_st=$reaped
bg=()

# --- the verdict ------------------------------------------------------------

pass=0 fail=0
check() {	# check NAME OK DETAIL
	if [ "$2" -eq 1 ]; then
		pass=$((pass + 1))
		echo "ok - $1"
	else
		fail=$((fail + 1))
		echo "not ok - $1: $3"
	fi
}

S=$W/samples.ndjson
touch "$S" "$W/kills" "$W/exits" "$W/drops" "$W/sample-failures"
last=$(tail -n 1 "$S")
[ -n "$last" ] || last='{}'
field() { jq -rc "$1" <<<"$last"; }
samples=$(wc -l <"$S")
sfail=$(wc -l <"$W/sample-failures")

strays=$(jq -sc '[range(1; length) as $i | .[$i - 1].strays - (.[$i - 1].strays - .[$i].strays)
    | .[]] | unique' "$S")
duplicates=$(jq -s --argjson strays "$strays" \
    '([.[] | .dupvms + .dupclaims + .dupnodes] | max // 0) + ($strays | length)' "$S")
dupdetail=$(jq -sc --argjson strays "$strays" '{strays: $strays, collisions: ([.[]
    | select(.dupvms + .dupclaims + .dupnodes > 0) | {t, dupvms, dupclaims, dupnodes}] | .[:5])}' "$S")
leaked=$(field '(.orphanvms // [] | length) + (.orphannics // [] | length)')
unequal=$(field 'if .vms == .nics and .vms == .nodeclaims and .vms == .nodes then 0 else 1 end')
# The longest a VM or NIC stayed without a NodeClaim, over the samples.
maxorphan=$(jq -s 'reduce .[] as $s ({age: 0, first: {}};
    .first as $old
    | .first = (reduce ($s.orphanvms + $s.orphannics)[] as $n ({}; .[$n] = ($old[$n] // $s.t)))
    | .age = ([.age, (.first[] | $s.t - .)] | max)) | .age' "$S")
stranded=$(field '(.pods // 0) - (.running // 0)')
[ "$(field '.pods // 0')" -eq "$target" ] || stranded=$((stranded + target - $(field '.pods // 0')))
unexplained=$(jq -s '[.[] | .unexplained[]] | unique | length' "$S")
kills=$(wc -l <"$W/kills")
# Exits: killed must be SIGKILL; stopped 0 or SIGPIPE; own exits (the
# first of a generation, not killed) are failures, as is any other status.
if [ "$mode" = units ]; then
	bad=$(awk '($5 == "killed" && $4 != 137) || ($5 == "stopped" && $4 != 0 && $4 != 141) ||
	    $5 == "own"' "$W/exits")
	unaccounted=$(awk '{print $4}' "$W/kills" | while read -r p; do
		grep -q " $p 137 killed$" "$W/exits" || echo "$p"
	done)
else
	bad=$(awk '($5 == "killed" && $4 != 137 && $4 != 141) || ($5 == "stopped" && $4 != 0) ||
	    $5 == "own"' "$W/exits")
	unaccounted=$(awk '{print $2}' "$W/kills" | sort -u | while read -r g; do
		grep -qE "^$g nap [0-9]+ (137|141) killed$" "$W/exits" || echo "gen $g"
	done)
fi
nbad=$(grep -c . <<<"$bad")
nunacc=$(grep -c . <<<"$unaccounted")
restarts=$(awk '{print $1}' "$W/exits" | sort -u | wc -l)

# Faults injected, from nap-sim's log of every request.
sim_log=$W/log/nap-sim.err
count_req() { grep -cE "$1" "$sim_log"; }
armreq=$(count_req 'debug: [A-Z]+ /(subscriptions|providers)/.* -> [0-9]+$')
kreq=$(count_req 'debug: [A-Z]+ /apis?(/.*)? -> [0-9]+$')
arm429=$(count_req 'debug: [A-Z]+ /(subscriptions|providers)/.* -> 429$')
arm5xx=$(count_req 'debug: [A-Z]+ /(subscriptions|providers)/.* -> 5[0-9][0-9]$')
k429=$(count_req 'debug: [A-Z]+ /apis?/.* -> 429$')
k410=$(count_req 'debug: GET /apis?/.*watch.* -> 410$')
capfail=$(cat "$W"/log/nap-launch.*.err "$W"/log/nap.*.err 2>/dev/null |
    grep -cE 'ZonalAllocationFailed|AllocationFailed|SkuNotAvailable')
drops=$(grep -c ' drop$' "$W/drops")
relists=$(grep -c ' relist$' "$W/drops")
refused=$(grep -c ' refused$' "$W/drops")

check "no two VMs for one NodeClaim, in $samples samples" "$((duplicates == 0))" "$dupdetail"
check "nothing leaked once settled: VMs = NICs = NodeClaims = Nodes" \
    "$((leaked == 0 && unequal == 0))" \
    "$(field '{vms, nics, nodeclaims, nodes, orphanvms, orphannics}' | tr -d '\n')"
check "no pod stranded: all $target Running once settled, every Pending one with a reason" \
    "$((stranded == 0 && unexplained == 0))" \
    "$stranded not Running, $unexplained Pending with no reason"
check "no PDB broken, no do-not-disrupt pod evicted, no VM deleted with pods ($vmsdeleted VMs deleted)" \
    "$((unsafe == 0))" "nap-sim stats: ${safety:-unreadable}"
check "every exit accounted for ($kills kills, $restarts starts)" "$((nbad == 0 && nunacc == 0))" \
    "$nbad unexpected exits, $nunacc kills without their SIGKILL status"
check "the loop settled after the chaos" "$([ -n "$settle" ] && echo 1 || echo 0)" \
    "not within $settle_timeout s"
maxgap=$(jq -s '[range(1; length) as $i | .[$i].t - .[$i - 1].t] | max // 0' "$S")
midgap=$(jq -s '[range(1; length) as $i | .[$i].t - .[$i - 1].t] | sort | .[length / 2 | floor] // 0' "$S")
# Every second is the aim; on a loaded machine nap-sim, serving one
# request at a time, also serves the loop's relists after every kill.
check "sampled throughout: $samples samples over $(($(date +%s) - start)) s, median ${midgap} s apart, at most ${maxgap} s" \
    "$((samples * 5 >= duration && midgap <= 3 && maxgap <= 20))" "$samples samples, $sfail failed"
# A run whose faults did not happen proves nothing.
check "every kind of fault injected: ARM 429 and 5xx, capacity, Kubernetes 429 and 410, drops" \
    "$((arm429 > 0 && arm5xx > 0 && capfail > 0 && k429 > 0 && k410 > 0 && drops > 0 &&
    (relists > 0 || duration < 30) && refused == 0 && kills > 0))" \
    "arm429=$arm429 arm5xx=$arm5xx capacity=$capfail k8s429=$k429 watch410=$k410 drops=$drops relists=$relists kills=$kills, $refused fault documents refused"
check "nap-sim ended cleanly on SIGTERM" "$((sim_st == 0))" \
    "exit $sim_st: $(grep -v ' debug: ' "$W/log/nap-sim.err" | tail -n 3 | tr '\n' ' ')"

if [ "$nbad" -gt 0 ]; then
	echo "chaos: unexpected exits (gen name pid status cause):"
	while read -r gen name pid st cause; do
		echo "  gen $gen $name pid $pid exit $st ($cause); stderr:"
		tail -n 20 "$W/log/$name.$gen.err" 2>/dev/null | sed 's/^/    /'
	done <<<"$bad"
fi
if [ "$leaked" -gt 0 ] || [ "$unequal" -ne 0 ] || [ "$stranded" -ne 0 ]; then
	echo "chaos: last sample: $(field 'del(.nodenames, .withpods)' | tr -d '\n' | head -c 2000)"
fi

echo "chaos: pods=$target duration=${duration}s mode=$mode scale=$scale seed=$seed" \
    "settle=$settled_in samples=$samples (median ${midgap}s apart, at most ${maxgap}s)" \
    "sample-failures=$sfail max-orphan-age=${maxorphan}s"
echo "chaos: at the end of the chaos: ${at_calm:-no sample}"
echo "chaos: requests arm=$armreq kubernetes=$kreq;" \
    "faults arm429=$arm429 arm5xx=$arm5xx capacity-failures=$capfail k8s429=$k429" \
    "watch410=$k410 watch-drops=$drops forced-relists=$relists"
echo "chaos: vms=$(field '.vms') nics=$(field '.nics') nodeclaims=$(field '.nodeclaims')" \
    "nodes=$(field '.nodes') duplicates=$duplicates leaked=$leaked stranded=$stranded" \
    "unexplained-pending=$unexplained vms-deleted=$vmsdeleted safety=$(jq -c . <<<"${safety:-null}" 2>/dev/null) kills=$kills" \
    "restarts=$restarts unexpected-exits=$nbad"
echo "$pass passed, $fail failed"
# A failed run keeps its logs.
[ "$fail" -eq 0 ] || keep=1
[ "$fail" -eq 0 ]
