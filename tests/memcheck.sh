#!/bin/bash
# tests/memcheck.sh - the long-running tools under valgrind in a short,
# realistic scenario, each ended by SIGTERM as systemd ends it:
#
#   nap-sim      serving the Kubernetes API and ARM the whole time, closing
#                every watch and compacting its history on request, then
#                restarted from its --state file and written to again;
#   nap-watch    streaming from it while kubectl creates, scales, labels
#                and deletes objects, resuming and relisting (410);
#   nap-solve    once over a snapshot (nap-watch --once), then over the
#                live stream, with nap-launch's feedback FIFO;
#   nap-launch   launching the VMs nap-solve asks for against nap-sim,
#                until the pending pods run on the new nodes, and garbage-
#                collecting the VM of a NodeClaim deleted under it.
#
# Every tool runs under memcheck with --leak-check=full and definite and
# indirect leaks counted as errors.  The script exits 0 only when every run
# ended with the status expected of it and valgrind reported no error and
# no definite or indirect leak; otherwise it prints the offending reports
# and exits 1.  Usage: tests/memcheck.sh [-k]   (-k keeps the work dir).
# The binaries come from $NAP_BIN (default: bin/ of the tree); they must be
# the release build: valgrind cannot run AddressSanitizer binaries.
set -u

keep=0
[ "${1:-}" = -k ] && keep=1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
: "${NAP_BIN:=$repo/bin}"

die() {
	echo "memcheck: $*" >&2
	exit 1
}

command -v valgrind >/dev/null || die "valgrind is not installed (sh bin/nap-deps memcheck)"
command -v kubectl >/dev/null || die "kubectl is not installed"
command -v jq >/dev/null || die "jq is not installed"
for t in nap-sim nap-watch nap-solve nap-launch; do
	[ -x "$NAP_BIN/$t" ] || die "$NAP_BIN/$t: not built"
	# An ASan binary would abort under valgrind; say why instead.
	if nm -D "$NAP_BIN/$t" 2>/dev/null | grep -q __asan_init; then
		die "$NAP_BIN/$t is a sanitizer build; valgrind needs the release build"
	fi
done

W=$(mktemp -d "${TMPDIR:-/tmp}/nap-memcheck.XXXXXX") || exit 1
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	exec 3>&-
	if [ "$keep" -eq 1 ]; then
		echo "memcheck: work dir kept: $W" >&2
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Suppressions: only for leaks inside system libraries that nap cannot free.
supp=()
[ -f "$here/valgrind.supp" ] && supp=(--suppressions="$here/valgrind.supp")
leaks=definite,indirect
VG=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds="$leaks"
	--errors-for-leak-kinds="$leaks" --error-exitcode=99
	--num-callers=30 "${supp[@]}")

# vg NAME CMD...: replace this (sub)shell with CMD under memcheck, its
# report in $W/vg-NAME.log.  Run it as "vg ... &" or "(vg ...)": the exec
# makes $! the tool's own pid, so SIGTERM reaches the tool.
vg() {
	local name=$1
	shift
	exec "${VG[@]}" --log-file="$W/vg-$name.log" "$@"
}

# poll SECONDS WHAT CMD...: run CMD until it succeeds, else give up; a
# status of 2 from CMD means it never will.
poll() {
	local timeout=$1 what=$2 deadline rc
	shift 2
	deadline=$(($(date +%s) + timeout))
	while :; do
		"$@"
		rc=$?
		[ "$rc" -eq 0 ] && return 0
		[ "$rc" -eq 2 ] && return 1
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "memcheck: gave up after ${timeout}s waiting for $what" >&2
			return 1
		fi
		sleep 0.2
	done
}

k() {
	kubectl --kubeconfig "$W/kubeconfig" --request-timeout=60s "$@"
}

step() {
	echo "memcheck: $(date -u +%T) $*"
}

# stop PID NAME: SIGTERM, wait (up to 120 s under valgrind), and record
# the exit status under NAME.
declare -A status
stop() {
	local pid=$1 name=$2 deadline st=0
	kill -TERM "$pid" 2>/dev/null
	deadline=$(($(date +%s) + 120))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "memcheck: $name did not stop on SIGTERM; killed" >&2
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	wait "$pid" 2>/dev/null || st=$?
	status[$name]=$st
}

count() {	# count TYPE FILE
	grep -c "\"type\":\"$1\"" "$2" 2>/dev/null || true
}
has_at_least() {	# has_at_least N TYPE FILE
	[ "$(count "$2" "$3")" -ge "$1" ]
}
ready() {
	[ -s "$W/ready.json" ] && return 0
	kill -0 "$sim" 2>/dev/null || { cat "$simerr" >&2; return 2; }
	return 1
}
pods_running() {	# pods_running N [APP]: N pods of APP (web) Running on a node
	local n
	n=$(k get pods -l "app=${2:-web}" -o json |
	    jq '[.items[] | select(.status.phase == "Running" and .spec.nodeName)] | length')
	[ "$n" -ge "$1" ]
}
gone() {
	[ -z "$(k get "$1" -o name --ignore-not-found)" ]
}
nodes_ready() {
	local n
	n=$(k get nodes -o json | jq '[.items[] | select(.status.conditions[]? |
	    .type == "Ready" and .status == "True")] | length')
	[ "$n" -ge "$1" ]
}
pods_pending() {
	local n
	n=$(k get pods -l app=web -o json | jq '[.items[] | select(.status.conditions[]? |
	    .type == "PodScheduled" and .reason == "Unschedulable")] | length')
	[ "$n" -ge "$1" ]
}
fault() {
	curl -sS --max-time 60 --cacert "$W/ca.pem" -X POST \
	    -H "Authorization: Bearer $(sed -n 's/^ *token: //p' "$W/kubeconfig")" \
	    -H 'Content-Type: application/json' -d "$1" \
	    "$(jq -r .arm "$W/ready.json")/nap-sim/faults" >/dev/null
}
# The web pods nap-watch's stream leaves in place and not terminating
# (relist tombstones carry only the keys, so DELETED goes by uid alone).
web_pods_at_most() {
	local n
	n=$(jq -s 'reduce .[] as $r ({};
	    if $r.type == "DELETED" then del(.[$r.object.metadata.uid])
	    elif $r.type == "ADDED" or $r.type == "MODIFIED" then
	        .[$r.object.metadata.uid] = ($r.object.metadata.labels.app? == "web"
	            and $r.object.metadata.deletionTimestamp == null)
	    else . end) | [.[] | select(.)] | length' "$W/watch.out")
	[ "$n" -le "$1" ]
}
seen_label() {
	grep -q '"memcheck":"relabelled"' "$W/watch.out"
}
batch_pod() {
	[ -n "$(k get pods -l app=batch -o name)" ]
}
seen_deleted() {
	grep -q '"type":"DELETED".*"name":"batch"' "$W/watch.out" ||
	    grep -q '"type":"DELETED".*"name":"batch-' "$W/watch.out"
}

start_time=$(date +%s)

step "nap-sim"
vg nap-sim "$NAP_BIN/nap-sim" --kubeconfig-out "$W/kubeconfig" \
    --config-out "$W/nap.yaml" --ca-out "$W/ca.pem" --insecure-port 0 \
    --catalog "$repo/data" --time-scale 50 --state "$W/sim.state" \
    >"$W/ready.json" 2>"$W/sim.err" &
sim=$! simerr=$W/sim.err
pids+=("$sim")
poll 120 "nap-sim to serve" ready || exit 1
k apply -f "$repo/deploy/crds/" -f "$repo/deploy/nodepools/" >/dev/null ||
    die "kubectl apply of the CRDs and NodePools failed"

step "nap-watch streaming while kubectl makes changes"
vg nap-watch "$NAP_BIN/nap-watch" --config "$W/nap.yaml" >"$W/watch.out" \
    2>"$W/watch.err" </dev/null &
watch=$!
pids+=("$watch")
poll 120 "nap-watch to sync" has_at_least 1 SYNCED "$W/watch.out" || exit 1
k create deployment web --image=nginx --replicas=2 >/dev/null
k set resources deployment web --requests=cpu=1,memory=1Gi >/dev/null
k scale deployment web --replicas=4 >/dev/null
k create deployment batch --image=busybox --replicas=1 >/dev/null
poll 120 "the batch pod" batch_pod || exit 1
k label pods -l app=batch memcheck=relabelled >/dev/null
k create poddisruptionbudget web --selector=app=web --min-available=1 >/dev/null
poll 120 "nap-watch to see the label" seen_label || exit 1
k delete deployment batch --wait=false >/dev/null
poll 120 "nap-watch to see the delete" seen_deleted || exit 1
poll 120 "four pending pods" pods_pending 4 || exit 1

step "nap-solve over a snapshot"
(vg nap-watch-once "$NAP_BIN/nap-watch" --config "$W/nap.yaml" --once \
    >"$W/snapshot.ndjson" 2>"$W/watch-once.err" </dev/null)
status[nap-watch-once]=$?
(vg nap-solve-snapshot "$NAP_BIN/nap-solve" --config "$W/nap.yaml" \
    <"$W/snapshot.ndjson" >"$W/solve-snapshot.out" 2>"$W/solve-snapshot.err")
status[nap-solve-snapshot]=$?
[ "$(count LaunchRequest "$W/solve-snapshot.out")" -ge 1 ] ||
    echo "memcheck: nap-solve asked for no node over the snapshot" >&2

step "nap-solve and nap-launch live, fed by the running nap-watch"
# nap-watch keeps running into a file; a second live nap-watch feeds the
# loop through FIFOs as pipelines/nap wires it.
mkfifo -m 600 "$W/watch.fifo" "$W/solve.fifo" "$W/feedback"
exec 3<>"$W/feedback"
vg nap-launch "$NAP_BIN/nap-launch" --config "$W/nap.yaml" --time-scale 50 \
    --feedback "$W/feedback" <"$W/solve.fifo" >"$W/launch.out" 2>"$W/launch.err" 3>&- &
launch=$!
pids+=("$launch")
vg nap-solve "$NAP_BIN/nap-solve" --config "$W/nap.yaml" --input "$W/feedback" \
    <"$W/watch.fifo" >"$W/solve.fifo" 2>"$W/solve.err" 3>&- &
solve=$!
pids+=("$solve")
vg nap-watch-loop "$NAP_BIN/nap-watch" --config "$W/nap.yaml" \
    >"$W/watch.fifo" 2>"$W/watch-loop.err" </dev/null 3>&- &
wloop=$!
pids+=("$wloop")
exec 3>&-
poll 240 "the pending pods to run on launched nodes" pods_running 4 || {
	tail -n 5 "$W/launch.err" "$W/solve.err" >&2
	exit 1
}
# Watches closed under the clients, then a compaction that makes every
# resumption 410 (nap-watch relists), and a kubectl watch killed mid-stream:
# nap-sim frees each stream while the tools reconnect.
k get pods -w -o name >/dev/null 2>&1 &
kw=$!
pids+=("$kw")
fault '{"k8s":{"dropWatches":true}}'
k scale deployment web --replicas=6 >/dev/null
poll 240 "six pods to run" pods_running 6 || tail -n 5 "$W/launch.err" >&2
# Pods that each want a node of their own: a few more VMs.
k apply -f - >/dev/null <<-'EOF'
	apiVersion: apps/v1
	kind: Deployment
	metadata: {name: spread}
	spec:
	  replicas: 3
	  selector: {matchLabels: {app: spread}}
	  template:
	    metadata: {labels: {app: spread}}
	    spec:
	      affinity:
	        podAntiAffinity:
	          requiredDuringSchedulingIgnoredDuringExecution:
	          - labelSelector: {matchLabels: {app: spread}}
	            topologyKey: kubernetes.io/hostname
	      containers:
	      - name: c
	        image: nginx
	        resources: {requests: {cpu: 500m, memory: 512Mi}}
	EOF
poll 240 "the spread pods to run on nodes of their own" pods_running 3 spread || exit 1
# A NodeClaim deleted: nap-launch leaves its termination to nap-disrupt, so
# the finalizers are removed here by hand (nap-disrupt's last step); then
# garbage collection finds the VM of no NodeClaim and deletes it (lib/vm).
victim=$(k get nodeclaims -o name | head -n 1)
vnode=$(k get "$victim" -o jsonpath='{.status.nodeName}')
k delete "$victim" --wait=false >/dev/null
k patch "$victim" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null
[ -z "$vnode" ] || k patch node "$vnode" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null
poll 240 "$victim to go" gone "$victim" || exit 1
poll 240 "garbage collection to delete the VM of $victim" \
    grep -q "vm aks-${victim##*/} belongs to no nodeclaim" "$W/launch.err" || exit 1
synced=$(count SYNCED "$W/watch.out")
fault '{"k8s":{"compact":true,"dropWatches":true}}'
kill -KILL "$kw" 2>/dev/null
wait "$kw" 2>/dev/null
poll 120 "nap-watch to relist after the compaction" \
    has_at_least $((synced + 1)) SYNCED "$W/watch.out" || exit 1
# A flaky API server: throttled requests, dropped watches, resumptions
# answered 410; client-go (kubectl) retries its 429s.
fault '{"k8s":{"throttleRate":0.1,"dropRate":0.1,"goneRate":0.3}}'
k scale deployment web --replicas=3 >/dev/null
poll 120 "nap-watch to see the scale down through the faults" web_pods_at_most 3 || exit 1
fault '{"k8s":{"throttleRate":0,"dropRate":0,"goneRate":0}}'
k scale deployment web --replicas=1 >/dev/null
poll 120 "nap-watch to see the scale down" web_pods_at_most 1 || exit 1

step "SIGTERM to every tool"
# Source first, as a pipeline is stopped: a stage whose reader is already
# gone may be writing, and dies of SIGPIPE as it should (exit 141).
stop "$wloop" nap-watch-loop
stop "$solve" nap-solve
stop "$launch" nap-launch
stop "$watch" nap-watch
stop "$sim" nap-sim
pids=()

step "nap-sim restarted from its --state file"
rm -f "$W/ready.json"
vg nap-sim-restart "$NAP_BIN/nap-sim" --kubeconfig-out "$W/kubeconfig" \
    --config-out "$W/nap.yaml" --ca-out "$W/ca.pem" --force --insecure-port 0 \
    --catalog "$repo/data" --time-scale 50 --state "$W/sim.state" \
    >"$W/ready.json" 2>"$W/sim-restart.err" &
sim=$! simerr=$W/sim-restart.err
pids+=("$sim")
poll 120 "nap-sim to serve again" ready || exit 1
poll 120 "a restored node to be Ready" nodes_ready 1 || exit 1
# Writes to restored objects, which have no history behind them.
k label nodes --all memcheck=restarted >/dev/null
k scale deployment web --replicas=2 >/dev/null
poll 120 "two pods to run after the restart" pods_running 2 || exit 1
stop "$sim" nap-sim-restart
pids=()

fail=0
for name in nap-sim nap-sim-restart nap-watch nap-watch-once nap-solve-snapshot nap-solve nap-watch-loop nap-launch; do
	log=$W/vg-$name.log
	st=${status[$name]:-?}
	errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" 2>/dev/null | tail -n 1)
	def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" 2>/dev/null | tail -n 1)
	ind=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$log" 2>/dev/null | tail -n 1)
	printf 'memcheck: %-19s exit %-3s errors %-3s definitely lost %-6s indirectly lost %s\n' \
	    "$name" "$st" "${errs:-?}" "${def:-0}" "${ind:-0}"
	if [ "$st" != 0 ] || [ "${errs:-x}" != 0 ]; then
		fail=1
		echo "---- $log" >&2
		grep -v '^==[0-9]*== *$' "$log" | sed -n '/Copyright/,$p' | tail -n +4 | head -n 150 >&2
	fi
done
for e in sim sim-restart watch watch-once solve-snapshot solve watch-loop launch; do
	if grep -q -i 'fatal\|runtime error\|sanitizer' "$W/$e.err" 2>/dev/null; then
		echo "---- $e.err" >&2
		grep -i 'fatal\|runtime error\|sanitizer' "$W/$e.err" | head -n 20 >&2
	fi
done
step "done in $(($(date +%s) - start_time)) s"
if [ "$fail" -ne 0 ]; then
	echo "memcheck: FAILED" >&2
	exit 1
fi
echo "memcheck: every tool clean"
