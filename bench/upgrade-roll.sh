#!/bin/sh
# bench/upgrade-roll.sh - a fleet of N nodes (2 pods of 800m each on
# Standard_D2s_v3, under a PDB of minAvailable 90%) rolled to a new node
# image by the whole loop (pipelines/nap: nap-upgrade marks ImageDrift,
# nap-disrupt replaces within the NodePool's 10% budget) against nap-sim.
# The image is published, then a maintenance window opens (the ConfigMap
# upcoming-maintenance-window), which makes nap-upgrade ask for it:
#   - the simulated time from the window's opening to the last node on the
#     new image with every pod Running, and from the first NodeClaim seen
#     Drifted (the difference is mostly nap-upgrade's 5-minute interval);
#   - the pods ever Pending longer than a VM boot (--boot-time, 90 s
#     simulated) during the roll, from a watch of the pods, and the longest
#     Pending;
#   - the most NodeClaims going at once (sampled: deleting or being
#     replaced; and of those, the ones whose VM is not yet terminating,
#     which is what nap-disrupt counts) against the budget, and nap-sim's
#     safety counters.
# One run; run it three times and take medians (figures are simulated
# seconds = wall x SCALE, so a loaded machine blurs them).
#   N=50 SCALE=25 sh bench/upgrade-roll.sh
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
: "${NAP_BIN:=$here/bin}"
N=${N:-50}
SCALE=${SCALE:-25}
BOOT=90
PODS=$((2 * N))
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nap-bench-upgrade.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || :; done
	for p in $pids; do wait "$p" 2>/dev/null || :; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
	echo "upgrade-roll: $*" >&2
	tail -n 20 "$tmp/loop.err" >&2 2>/dev/null || :
	exit 1
}

"$NAP_BIN/nap-sim" --kubeconfig-out "$tmp/kc" --config-out "$tmp/nap.yaml" \
    --ca-out "$tmp/ca.pem" --catalog "$here/data" --time-scale "$SCALE" \
    --boot-time "$BOOT" >"$tmp/ready.json" 2>"$tmp/sim.err" &
pids="$!"
i=0
while [ ! -s "$tmp/ready.json" ]; do
	i=$((i + 1))
	[ "$i" -lt 600 ] || fail "nap-sim did not start"
	sleep 0.05
done
export KUBECONFIG="$tmp/kc"
arm=$(jq -r .arm "$tmp/ready.json")
kube=$(jq -r .kube "$tmp/ready.json")
tok=$(sed -n 's/^ *token: //p' "$tmp/kc")
# GET of the Kubernetes API into $tmp/get.json, retried while the answer is not a list.
kget() {
	for _ in 1 2 3 4 5; do
		curl -sS --max-time 60 --cacert "$tmp/ca.pem" -H "Authorization: Bearer $tok" \
		    "$kube$1" >"$tmp/get.json" && jq -e .items "$tmp/get.json" >/dev/null && return 0
		sleep 1
	done
	return 1
}
k() {
	for _ in 1 2 3 4 5; do
		kubectl --request-timeout=60s "$@" && return 0
		sleep 1
	done
	return 1
}
control() {	# control PATH JSON: a nap-sim control endpoint
	curl -sS --cacert "$tmp/ca.pem" -H "Authorization: Bearer $tok" "$arm$1" -d "$2" >/dev/null
}

k apply --server-side --force-conflicts -f "$here/deploy/crds/" >/dev/null
k apply -f - >/dev/null <<'EOF'
apiVersion: karpenter.azure.com/v1beta1
kind: AKSNodeClass
metadata: {name: default}
spec: {imageFamily: Ubuntu}
---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: default}
spec:
  disruption:
    consolidateAfter: Never
    budgets: [{nodes: "10%"}]
  template:
    spec:
      nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
      expireAfter: Never
      requirements:
      - {key: node.kubernetes.io/instance-type, operator: In, values: [Standard_D2s_v3]}
EOF
# The class's status before the first node, so every node starts on a listed image.
"$NAP_BIN/nap-watch" --config "$tmp/nap.yaml" --once |
    "$NAP_BIN/nap-upgrade" --config "$tmp/nap.yaml" >/dev/null 2>"$tmp/upgrade.err"
k create deployment web --image=nginx --replicas="$PODS" >/dev/null
k set resources deployment web --requests=cpu=800m >/dev/null
k create pdb web --selector=app=web --min-available=90% >/dev/null

NAP_BIN=$NAP_BIN "$here/pipelines/nap" --config "$tmp/nap.yaml" --time-scale "$SCALE" \
    --region eastus >"$tmp/loop.out" 2>"$tmp/loop.err" &
pids="$pids $!"
t_fleet=$(date +%s.%N)
running() {	# running: how many web pods run (from $tmp/get.json after kget)
	kget /api/v1/namespaces/default/pods || return 1
	jq '[.items[] | select(.status.phase == "Running")] | length' "$tmp/get.json"
}
i=0
while [ "$(running)" -lt "$PODS" ]; do
	i=$((i + 1))
	[ "$i" -lt 2400 ] || fail "the fleet did not come up"
	sleep 0.25
done
kget /apis/karpenter.sh/v1/nodeclaims
nodes=$(jq '.items | length' "$tmp/get.json")
echo "fleet: $PODS pods on $nodes nodes in $(echo "$t_fleet $(date +%s.%N)" | awk -v s="$SCALE" '{printf "%.0f", ($2 - $1) * s}') s simulated"
[ "$nodes" -eq "$N" ] || fail "$nodes nodes, not $N"

# Every pod event and every NodeClaim's Drifted condition, stamped on
# arrival (jq's now: wall seconds).
mkfifo "$tmp/watch"
"$NAP_BIN/nap-watch" --config "$tmp/nap.yaml" >"$tmp/watch" 2>"$tmp/watch.err" &
pids="$pids $!"
jq -c --unbuffered 'if .object.kind == "Pod" then {t: now, type, uid: .object.metadata.uid,
        node: (.object.spec.nodeName // ""), deleting: (.object.metadata.deletionTimestamp != null)}
      elif .object.kind == "NodeClaim" then {t: now, drifted: any(.object.status.conditions[]?;
        .type == "Drifted" and .status == "True")}
      else empty end' <"$tmp/watch" >"$tmp/pods.ndjson" &
pids="$pids $!"
until [ -s "$tmp/pods.ndjson" ]; do sleep 0.05; done

control /nap-sim/images '{"definition":"*","version":"202701.01.0"}'
t0=$(date +%s.%N)
k create configmap upcoming-maintenance-window -n kube-system \
    --from-literal=aksManagedNodeOSUpgradeSchedule-start="$(date -u +%FT%TZ)" \
    --from-literal=aksManagedNodeOSUpgradeSchedule-end="$(date -u -d '+4 hours' +%FT%TZ)" >/dev/null
max=0 maxc=0 over=0
i=0
while :; do
	i=$((i + 1))
	[ "$i" -lt 20000 ] || fail "the roll did not finish"
	kget /apis/karpenter.sh/v1/nodeclaims || continue
	# Going: deleting, or being replaced.  Counted: of those, the ones whose
	# VM is not yet terminating, which is what nap-disrupt holds against
	# the budget, 10% of the pool's initialized nodes whose VM is not
	# terminating (replacements included), rounded up as Karpenter does.
	set -- $(jq -r 'def term: any(.status.conditions[]?; .type == "InstanceTerminating" and
	        .status == "True");
	    def init: any(.status.conditions[]?; .type == "Initialized" and .status == "True");
	    [.items[] | select(.metadata.deletionTimestamp or
	        (.metadata.annotations["nap.dev/replacement"] // "") != "")] as $g
	    | ([.items[] | select(init and (term | not))] | length) as $total
	    | "\($g | length) \([$g[] | select(term | not)] | length) \(($total + 9) / 10 | floor)"' \
	    "$tmp/get.json")
	[ "$1" -gt "$max" ] && max=$1
	[ "$2" -gt "$maxc" ] && maxc=$2
	[ "$2" -gt "$3" ] && over=$((over + 1))
	if jq -e --argjson n "$N" '(.items | length) == $n and all(.items[];
	    (.status.imageID // "" | endswith("/202701.01.0")) and (.metadata.deletionTimestamp | not))' \
	    "$tmp/get.json" >/dev/null && [ "$(running)" -eq "$PODS" ]; then
		break
	fi
	sleep 0.2
done
t1=$(date +%s.%N)
t_drift=$(jq -s '[.[] | select(.drifted) | .t] | min // empty' "$tmp/pods.ndjson")
[ -n "$t_drift" ] || fail "no NodeClaim was seen Drifted"
jq -s --argjson t0 "$t0" --argjson t1 "$t1" --argjson s "$SCALE" --argjson boot "$BOOT" '
    [map(select(.uid)) | group_by(.uid)[] | . as $ev
     | ([$ev[] | select(.t >= $t0 and .node == "" and (.deleting | not) and .type != "DELETED")] | first) as $p
     | select($p != null)
     | ([$ev[] | select(.t >= $p.t and (.node != "" or .type == "DELETED"))] | first) as $e
     | (((if $e then $e.t else $t1 end) - $p.t) * $s)]
    | {pending: length, over: map(select(. > $boot)) | length, longest: (max // 0)}' \
    "$tmp/pods.ndjson" >"$tmp/pending.json"
echo "$t0 $t1 $t_drift" | awk -v s="$SCALE" -v n="$N" -v m="$max" -v c="$maxc" -v o="$over" -v k="$i" '{
	w = $2 - $1
	printf "rolled %d nodes to the new image: %.1f s wall, %.0f s simulated (x%d) from the window opening, %.0f s from the first Drifted\n", n, w, w * s, s, ($2 - $3) * s
	printf "most NodeClaims going at once (sampled): %d, %d of them before their VM was terminating; budget 10%% of the pool (%d of %d nodes, more while replacements run); samples over budget: %d of %d\n", m, c, int((n + 9) / 10), n, o, k
}'
echo "Drifted records: $(grep -c '^{"type":"Drifted"' "$tmp/loop.out" || :); Disruption records: $(grep -c '^{"type":"Disruption"' "$tmp/loop.out" || :)"
jq -r --argjson boot "$BOOT" '"pods Pending during the roll: \(.pending); Pending longer than a VM boot (\($boot) s): \(.over); longest Pending: \(.longest | floor) s simulated"' "$tmp/pending.json"
echo "nap-sim safety: $(curl -sS --cacert "$tmp/ca.pem" -H "Authorization: Bearer $tok" "$arm/nap-sim/stats" |
    jq -c '{pdbViolations, doNotDisruptEvicted, vmsDeletedWithPods, evictions}')"
