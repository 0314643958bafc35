#!/usr/bin/env bats
# nap-disrupt and drift (issue 15, part) against nap-sim, 50x faster:
# nap-upgrade marks the NodeClaims ImageDrift once a new gallery image is
# published, NodePoolDrifted once the pool's template changes,
# RequirementsDrifted once its requirements leave them out; nap-disrupt then
# deletes the empty drifted nodes within the pool's Drifted budget and
# replaces the non-empty ones, replacement first (the loop of pipelines/nap),
# sampled throughout.  A change of hash version drifts nothing, and a
# do-not-disrupt pod or a PDB at 0 holds a drifted node.
# The planning cases (tests/fixtures/nap-disrupt/drift-*) run in
# nap-disrupt.bats and t-disrupt with the others.

load helpers/sim
load helpers/invariants
bats_require_minimum_version 1.5.0

SCALE=50

setup() {
	unset KUBECONFIG KUBERNETES_SERVICE_HOST NAP_CONFIG
	OUT=$BATS_TEST_TMPDIR/out.ndjson
	ERR=$BATS_TEST_TMPDIR/err
	DPID='' WPID=''
}

teardown() {
	invariants_stop
	[ -z "$DPID" ] || { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; } || :
	[ -z "$WPID" ] || kill -TERM "$WPID" 2>/dev/null || :
	sim_stop || :
}

# upgrade_pass: one nap-upgrade pass over a fresh snapshot.
upgrade_pass() {
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --once >"$BATS_TEST_TMPDIR/snap" &&
	    "$NAP_BIN/nap-upgrade" --config "$SIM_CONFIG" <"$BATS_TEST_TMPDIR/snap" \
	    >>"$BATS_TEST_TMPDIR/upgrade.out" 2>>"$BATS_TEST_TMPDIR/upgrade.err"
}

# launch NAME[:SIZE]...: one LaunchRequest per name (Standard_D2s_v3 unless
# SIZE) through nap-launch, followed to Initialized; nap-launch is then
# stopped (termination is nap-disrupt's).  The requests carry no NodePool
# hash, as if another controller had made them.
launch() {
	local st=$BATS_TEST_TMPDIR/launch w l n
	for n in "$@"; do
		jq -cn --arg n "${n%%:*}" --arg s "$([ "${n#*:}" != "$n" ] && echo "${n#*:}" || echo Standard_D2s_v3)" \
		    '{type: "LaunchRequest", pods: [], price: 0.1,
		  nodeClaim: {apiVersion: "karpenter.sh/v1", kind: "NodeClaim",
		    metadata: {name: $n, labels: {"karpenter.sh/nodepool": "default"}},
		    spec: {requirements: [
		        {key: "node.kubernetes.io/instance-type", operator: "In", values: [$s]},
		        {key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"]}],
		      resources: {requests: {cpu: "100m"}},
		      nodeClassRef: {group: "karpenter.azure.com", kind: "AKSNodeClass", name: "default"}}}}'
	done >"$st.req"
	mkfifo "$st"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$st" 2>"$st.werr" &
	w=$!
	(cat "$st.req"; exec cat "$st") | "$NAP_BIN/nap-launch" --config "$SIM_CONFIG" \
	    --time-scale "$SCALE" >"$st.out" 2>"$st.err" &
	l=$!
	sim_poll 90 initialized "$st.out" "$#"
	kill -TERM "$w" "$l" 2>/dev/null || :
	wait "$w" "$l" 2>/dev/null || :
}

initialized() { [ "$(grep -c '^{"type":"Initialized"' "$1")" -ge "$2" ]; }

drift_of() {
	sim_kubectl get nodeclaim "$1" -o jsonpath='{.status.conditions[?(@.type=="Drifted")].reason}'
}

gone() { ! sim_kubectl get nodeclaim "$1" >/dev/null 2>&1; }

# cluster BUDGET [SIZES]: nap-sim with the CRDs, the class and the pool
# "default" (consolidateAfter Never: emptiness stays out; BUDGET nodes for
# Drifted; the sizes SIZES, a YAML list, default [Standard_D2s_v3]).
cluster() {
	sim_start --catalog "$BATS_TEST_DIRNAME/../data" --time-scale "$SCALE"
	sim_kubectl apply --server-side --force-conflicts -f "$BATS_TEST_DIRNAME/../deploy/crds/" >/dev/null
	sim_kubectl apply -f - >/dev/null <<-EOF
	apiVersion: karpenter.azure.com/v1beta1
	kind: AKSNodeClass
	metadata:
	  name: default
	spec:
	  imageFamily: Ubuntu
	---
	apiVersion: karpenter.sh/v1
	kind: NodePool
	metadata:
	  name: default
	spec:
	  disruption:
	    consolidateAfter: Never
	    budgets:
	    - {nodes: "$1", reasons: [Drifted]}
	    - {nodes: "100%"}
	  template:
	    spec:
	      nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	      requirements:
	      - {key: node.kubernetes.io/instance-type, operator: In, values: ${2:-[Standard_D2s_v3]}}
	EOF
	upgrade_pass
}

# web REPLICAS [NODE [CPU]]: a Deployment of 100m (or CPU) pods, on NODE only
# when given (not "").
web() {
	jq -n --argjson r "$1" --arg n "${2:-}" --arg cpu "${3:-100m}" '{apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "web"},
	  spec: {replicas: $r, selector: {matchLabels: {app: "web"}},
	    template: {metadata: {labels: {app: "web"}},
	      spec: ((if $n == "" then {} else {nodeSelector: {"kubernetes.io/hostname": $n}} end) +
	        {terminationGracePeriodSeconds: 2,
	         containers: [{name: "c", image: "nginx", resources: {requests: {cpu: $cpu}}}]})}}}' |
	    sim_kubectl apply -f - >/dev/null
}

running() {	# running N: N pods Running
	[ "$(sim_kubectl get pods -o json | jq '[.items[] | select(.status.phase == "Running")] | length')" -eq "$1" ]
}

new_image() {
	sim_acurl /nap-sim/images -X POST -d '{"definition":"*","version":"202701.01.0"}' >/dev/null
	upgrade_pass
}

# loop: the live loop of pipelines/nap (nap-watch | nap-disrupt | nap-solve |
# nap-launch) in the background, its output in $OUT, its messages in $ERR.
loop() {
	NAP_BIN=$NAP_BIN "$BATS_TEST_DIRNAME/../pipelines/nap" --config "$SIM_CONFIG" \
	    --time-scale "$SCALE" --region eastus >"$OUT" 2>"$ERR" &
	DPID=$!
}

# check: one sample of the invariants; a breach is appended to $BATS_TEST_TMPDIR/breach.
# Old NodeClaims (named old*) deleting at once <= BUDGET; a deleting one that
# was replaced has its replacement Initialized.
check() {
	sim_kubectl get nodeclaims -o json | jq -r --argjson b "$1" '
	    (.items | map({key: .metadata.name, value: ([.status.conditions[]? | select(.type == "Initialized" and .status == "True")] | length > 0)}) | from_entries) as $init
	    | [.items[] | select((.metadata.name | startswith("old")) and .metadata.deletionTimestamp)] as $del
	    | (if ($del | length) > $b then "\($del | length) deleting at once" else empty end),
	      ($del[] | (.metadata.annotations["nap.dev/replacement"] // empty | split(",")[]) as $r
	        | if $init[$r] then empty else "deleting before replacement \($r) is Initialized" end)' \
	    >>"$BATS_TEST_TMPDIR/breach"
}

# rolled N BUDGET: no NodeClaim named old* left, sampling as it goes.
rolled() {
	check "$2"
	[ "$(sim_kubectl get nodeclaims -o json | jq '[.items[] | select(.metadata.name | startswith("old"))] | length')" -eq 0 ]
}

stop_loop() {
	[ -z "$WPID" ] || kill -TERM "$WPID" 2>/dev/null || :
	[ -z "$DPID" ] || kill -TERM "$DPID" 2>/dev/null || :
	wait "$DPID" 2>/dev/null || :
	DPID='' WPID=''
}

safe() {
	[ "$(sim_stat pdbViolations)" -eq 0 ]
	[ "$(sim_stat doNotDisruptEvicted)" -eq 0 ]
	[ "$(sim_stat vmsDeletedWithPods)" -eq 0 ]
}

# roll N BUDGET: N nodes old1..oldN with 2N pods, a Drifted budget of
# BUDGET, a new image, then the live loop until every old node is replaced,
# sampled throughout; the pods Running, every NodeClaim left on the new
# image and not drifted, nap-sim's safety counters 0; the simulated time on fd 3.
roll() {
	local n=$1 b=$2 names=() i start end
	for ((i = 1; i <= n; i++)); do names+=("old$i"); done
	cluster "$b"
	launch "${names[@]}"
	web $((2 * n))
	sim_poll 60 running $((2 * n))
	new_image
	for i in "${names[@]}"; do [ "$(drift_of "$i")" = ImageDrift ]; done
	start=$(date +%s.%N)
	loop
	sim_poll 300 rolled "$n" "$b"
	end=$(date +%s.%N)
	sim_poll 60 running $((2 * n))
	stop_loop
	[ ! -s "$BATS_TEST_TMPDIR/breach" ] || { cat "$BATS_TEST_TMPDIR/breach"; false; }
	sim_kubectl get nodeclaims -o json | jqe '.items | length > 0 and all(.[];
	    (.status.imageID | endswith("/202701.01.0")) and
	    ([.status.conditions[]? | select(.type == "Drifted" and .status == "True")] | length == 0))' >/dev/null
	safe
	echo "# rolled $n nodes (Drifted budget $b) in $(echo "($end - $start) * $SCALE" | bc -l | cut -d. -f1) simulated s" >&3
}

@test "after a new image every node is rolled within the Drifted budget, each replacement Initialized before its node goes" {
	roll 3 1
	# A Disruption per node; nap-launch took a LaunchRequest (and says
	# Launched) for each one that needed a replacement, none for an empty one.
	[ "$(jq -c 'select(.type == "Disruption" and .reason == "Drifted")' "$OUT" | wc -l)" -eq 3 ]
	[ "$(jq -c 'select(.type == "Launched")' "$OUT" | wc -l)" -eq \
	    "$(jq -c 'select(.type == "Disruption" and .reason == "Drifted" and .replacements == 1)' "$OUT" | wc -l)" ]
}

@test "six drifted nodes under a Drifted budget of 2: never more than 2 going at once, all replaced" {
	roll 6 2
}

@test "a replacement that never initializes is given up: the node is untainted and stays, the replacement deleted" {
	cluster 1
	launch d1
	web 2
	sim_poll 60 running 2
	new_image
	[ "$(drift_of d1)" = ImageDrift ]
	# No nap-launch: the LaunchRequest goes nowhere, the replacement never comes.
	mkfifo "$BATS_TEST_TMPDIR/state"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$BATS_TEST_TMPDIR/state" 2>"$BATS_TEST_TMPDIR/watch.err" &
	WPID=$!
	"$NAP_BIN/nap-disrupt" --config "$SIM_CONFIG" --time-scale "$SCALE" --interval 1s \
	    <"$BATS_TEST_TMPDIR/state" >"$OUT" 2>"$ERR" &
	DPID=$!
	sim_poll 60 has_taint aks-d1
	# No budget for a next attempt: once this one is given up, a later
	# pass would start another at once (the given-up node is a candidate
	# again).
	pool_patch '{"spec":{"disruption":{"budgets":[{"nodes":"0"}]}}}'
	sim_poll 60 failed_event d1
	sim_poll 30 eval '! has_taint aks-d1'
	stop_loop
	[ -z "$(sim_kubectl get nodeclaim d1 -o jsonpath='{.metadata.deletionTimestamp}')" ]
	[ -z "$(sim_kubectl get nodeclaim d1 -o jsonpath='{.metadata.annotations.nap\.dev/replacement}')" ]
	sim_poll 30 running 2
	safe
}

has_taint() {
	sim_kubectl get node "$1" -o json | jqe '[.spec.taints[]? | select(.key == "karpenter.sh/disrupted")] | length > 0' >/dev/null
}

failed_event() {
	sim_kubectl get events -o json | jqe --arg n "$1" \
	    '[.items[] | select(.reason == "DisruptionReplacementFailed" and .involvedObject.name == $n)] | length > 0' >/dev/null
}

@test "nap-disrupt restarted mid-command finishes it from the annotation: the node goes once its replacement is Initialized" {
	cluster 1
	launch old1
	web 2
	sim_poll 60 running 2
	new_image
	mkfifo "$BATS_TEST_TMPDIR/state"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$BATS_TEST_TMPDIR/state" 2>"$BATS_TEST_TMPDIR/watch.err" &
	WPID=$!
	"$NAP_BIN/nap-disrupt" --config "$SIM_CONFIG" --time-scale "$SCALE" --interval 1s \
	    <"$BATS_TEST_TMPDIR/state" >"$OUT" 2>"$ERR" &
	DPID=$!
	sim_poll 60 has_taint aks-old1
	sim_poll 30 grep -q '"type":"LaunchRequest"' "$OUT"
	stop_loop
	repl=$(sim_kubectl get nodeclaim old1 -o jsonpath='{.metadata.annotations.nap\.dev/replacement}')
	[ "$(jq -r 'select(.type == "LaunchRequest") | .nodeClaim.metadata.name' "$OUT")" = "$repl" ]
	# The LaunchRequest it wrote, launched by nap-launch while nap-disrupt is down.
	grep '"type":"LaunchRequest"' "$OUT" >"$BATS_TEST_TMPDIR/launch.req"
	rm -f "$BATS_TEST_TMPDIR/state"
	mkfifo "$BATS_TEST_TMPDIR/state"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$BATS_TEST_TMPDIR/state" 2>>"$BATS_TEST_TMPDIR/watch.err" &
	WPID=$!
	(cat "$BATS_TEST_TMPDIR/launch.req"; exec cat "$BATS_TEST_TMPDIR/state") |
	    "$NAP_BIN/nap-launch" --config "$SIM_CONFIG" --time-scale "$SCALE" >"$BATS_TEST_TMPDIR/l.out" 2>"$BATS_TEST_TMPDIR/l.err" &
	LPID=$!
	sim_poll 60 grep -q '^{"type":"Initialized"' "$BATS_TEST_TMPDIR/l.out"
	[ -z "$(sim_kubectl get nodeclaim old1 -o jsonpath='{.metadata.deletionTimestamp}')" ]
	kill -TERM "$WPID" "$LPID" 2>/dev/null || :
	wait "$LPID" 2>/dev/null || :
	# A new nap-disrupt knows the command only from the cluster.
	rm -f "$BATS_TEST_TMPDIR/state"
	mkfifo "$BATS_TEST_TMPDIR/state"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$BATS_TEST_TMPDIR/state" 2>>"$BATS_TEST_TMPDIR/watch.err" &
	WPID=$!
	"$NAP_BIN/nap-disrupt" --config "$SIM_CONFIG" --time-scale "$SCALE" --interval 1s \
	    <"$BATS_TEST_TMPDIR/state" >"$OUT.2" 2>>"$ERR" &
	DPID=$!
	sim_poll 60 gone old1
	sim_poll 60 running 2
	stop_loop
	[ -z "$(grep '"type":"LaunchRequest"' "$OUT.2")" ]
	sim_kubectl get nodeclaim "$repl" >/dev/null
	safe
}

# ---- NodePool drift: hashes, requirements, what holds a drifted node -------

ann_of() {	# ann_of KIND NAME KEY: an annotation's value, "" when absent
	sim_kubectl get "$1" "$2" -o json | jq -r --arg k "$3" '.metadata.annotations[$k] // ""'
}

none_drifted() {
	local n
	for n in "$@"; do
		[ -z "$(drift_of "$n")" ] || { echo "$n is drifted ($(drift_of "$n"))"; return 1; }
	done
}

# plan_drifted [ARGS...]: what nap-upgrade --plan would mark on a fresh
# snapshot, as "name reason" sorted and joined by commas (nothing is written).
plan_drifted() {
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --once |
	    "$NAP_BIN/nap-upgrade" --plan --config "$SIM_CONFIG" "$@" 2>>"$BATS_TEST_TMPDIR/upgrade.err" |
	    jq -r '.drifted[] | "\(.nodeClaim) \(.reason)"' | sort | paste -sd, -
}

pool_patch() {
	sim_kubectl patch nodepool default --type "${2:-merge}" -p "$1" >/dev/null
}

@test "a change of hash version drifts nothing; a requirement change drifts only the nodes it leaves out, and live replaces those alone; a taint or nodeClassRef change drifts every node" {
	cluster 1 '[Standard_D2s_v3, Standard_D4s_v3]'
	launch a1 a2:Standard_D4s_v3
	upgrade_pass
	# nap-upgrade stamps its hashes on the pool and the class, and on claims
	# made without them (as by another controller), drifting none.
	h=$(ann_of nodepool default karpenter.sh/nodepool-hash)
	[ -n "$h" ]
	[ "$(ann_of nodepool default karpenter.sh/nodepool-hash-version)" = nap-v1 ]
	[ -n "$(ann_of aksnodeclass default karpenter.azure.com/aksnodeclass-hash)" ]
	for n in a1 a2; do
		[ "$(ann_of nodeclaim $n karpenter.sh/nodepool-hash)" = "$h" ]
		[ "$(ann_of nodeclaim $n karpenter.azure.com/aksnodeclass-hash-version)" = nap-v1 ]
	done
	none_drifted a1 a2
	# Other hashes under another hash version (Karpenter's v3): re-stamped, not drifted.
	sim_kubectl annotate --overwrite nodeclaim a1 a2 karpenter.sh/nodepool-hash=1 \
	    karpenter.sh/nodepool-hash-version=v3 karpenter.azure.com/aksnodeclass-hash=2 \
	    karpenter.azure.com/aksnodeclass-hash-version=v3 >/dev/null
	upgrade_pass
	none_drifted a1 a2
	[ "$(ann_of nodeclaim a1 karpenter.sh/nodepool-hash)" = "$h" ]
	[ "$(ann_of nodeclaim a2 karpenter.sh/nodepool-hash-version)" = nap-v1 ]
	# The requirements leave a1's size out: a1 alone drifts, and the pool's
	# hash stays (requirements are not hashed); put back, a1 is cleared.
	pool_patch '{"spec":{"template":{"spec":{"requirements":[{"key":"node.kubernetes.io/instance-type","operator":"In","values":["Standard_D4s_v3"]}]}}}}'
	upgrade_pass
	[ "$(drift_of a1)" = RequirementsDrifted ]
	none_drifted a2
	[ "$(ann_of nodepool default karpenter.sh/nodepool-hash)" = "$h" ]
	grep -q '"type":"Drifted".*"reason":"RequirementsDrifted"' "$BATS_TEST_TMPDIR/upgrade.out"
	pool_patch '{"spec":{"template":{"spec":{"requirements":[{"key":"node.kubernetes.io/instance-type","operator":"In","values":["Standard_D2s_v3","Standard_D4s_v3"]}]}}}}'
	upgrade_pass
	none_drifted a1 a2
	# Old enough to be judged for InstanceTypeNotFound, their sizes and
	# offerings still in the catalog: nothing.
	[ -z "$(plan_drifted --now "$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)")" ]
	# A taint, then another nodeClassRef: every node, NodePoolDrifted.
	pool_patch '{"spec":{"template":{"spec":{"taints":[{"key":"dedicated","value":"x","effect":"NoSchedule"}]}}}}'
	[ "$(plan_drifted)" = "a1 NodePoolDrifted,a2 NodePoolDrifted" ]
	pool_patch '[{"op":"remove","path":"/spec/template/spec/taints"}]' json
	[ -z "$(plan_drifted)" ]
	sim_kubectl apply -f - >/dev/null <<-'EOF'
	apiVersion: karpenter.azure.com/v1beta1
	kind: AKSNodeClass
	metadata: {name: other}
	spec: {imageFamily: Ubuntu}
	EOF
	pool_patch '{"spec":{"template":{"spec":{"nodeClassRef":{"name":"other"}}}}}'
	[ "$(plan_drifted)" = "a1 NodePoolDrifted,a2 NodePoolDrifted" ]
	pool_patch '{"spec":{"template":{"spec":{"nodeClassRef":{"name":"default"}}}}}'
	[ -z "$(plan_drifted)" ]
	# Live, the requirement change rolls a1 alone: a 3-CPU pod holds a2
	# (pinned there), a 1-CPU pod runs on a1 and fits on no node left, so
	# a1 is replaced by a size the pool still allows, Initialized before
	# a1 goes; a2 stays.
	pinned_cpu fat aks-a2 3
	web 1 "" 1
	sim_poll 60 running 2
	[ "$(sim_kubectl get pods -l app=web -o jsonpath='{.items[0].spec.nodeName}')" = aks-a1 ]
	pool_patch '{"spec":{"template":{"spec":{"requirements":[{"key":"node.kubernetes.io/instance-type","operator":"In","values":["Standard_D4s_v3"]}]}}}}'
	upgrade_pass
	[ "$(drift_of a1)" = RequirementsDrifted ]
	none_drifted a2
	invariants_start
	loop
	sim_poll 120 eval 'invariants_replaced_first; gone a1' || { tail -n 30 "$ERR"; false; }
	sim_poll 60 running 2
	stop_loop
	invariants_check
	[ ! -s "$BATS_TEST_TMPDIR/breach" ] || { cat "$BATS_TEST_TMPDIR/breach"; false; }
	jq -se 'map(select(.type == "Disruption")) | length >= 1 and all(.[]; .reason == "Drifted"
	    and .nodeClaims == [.nodeClaims[0]] and .nodeClaims[0].name == "a1" and .replacements == 1)' "$OUT"
	repl=$(jq -r 'select(.type == "Disruption") | .launch[0].nodeClaim.metadata.name' "$OUT" | tail -n 1)
	sim_kubectl get nodeclaim "$repl" -o json | jqe '.metadata.labels["node.kubernetes.io/instance-type"] == "Standard_D4s_v3"
	    and ([.status.conditions[]? | select(.type == "Initialized" and .status == "True")] | length == 1)' >/dev/null
	[ -z "$(sim_kubectl get nodeclaim a2 -o jsonpath='{.metadata.deletionTimestamp}')" ]
	run ! has_taint aks-a2
	[ "$(sim_kubectl get pods -l app=web -o jsonpath='{.items[0].spec.nodeName}')" != aks-a1 ]
	safe
}


# pinned_cpu NAME NODE CPU: a one-pod Deployment (pods app=NAME) of CPU cores on NODE.
pinned_cpu() {
	jq -n --arg a "$1" --arg n "$2" --arg c "$3" '{apiVersion: "apps/v1", kind: "Deployment",
	  metadata: {name: $a}, spec: {replicas: 1, selector: {matchLabels: {app: $a}},
	    template: {metadata: {labels: {app: $a}},
	      spec: {nodeSelector: {"kubernetes.io/hostname": $n}, terminationGracePeriodSeconds: 2,
	        containers: [{name: "c", image: "nginx", resources: {requests: {cpu: $c}}}]}}}}' |
	    sim_kubectl apply -f - >/dev/null
}

# pinned NAME NODE ANNOTATIONS: a one-pod Deployment (pods app=NAME) on NODE.
pinned() {
	jq -n --arg a "$1" --arg n "$2" --argjson ann "$3" '{apiVersion: "apps/v1", kind: "Deployment",
	  metadata: {name: $a}, spec: {replicas: 1, selector: {matchLabels: {app: $a}},
	    template: {metadata: {labels: {app: $a}, annotations: $ann},
	      spec: {nodeSelector: {"kubernetes.io/hostname": $n}, terminationGracePeriodSeconds: 2,
	        containers: [{name: "c", image: "nginx", resources: {requests: {cpu: "100m"}}}]}}}}' |
	    sim_kubectl apply -f - >/dev/null
}

@test "a NodePool template label change rolls every node within the Drifted budget but those a do-not-disrupt pod or a PDB at 0 holds" {
	cluster 1
	launch old1 old2 h1 h2
	pinned keep aks-h1 '{"karpenter.sh/do-not-disrupt": "true"}'
	pinned guard aks-h2 '{}'
	sim_create_pdb guard app=guard 1 >/dev/null
	# A pod of 1 CPU a node: a drifted node's pod fits on no other
	# (1.9 CPU allocatable), so each is replaced, not just deleted.
	web 4 "" 1
	sim_poll 60 running 6
	upgrade_pass
	none_drifted old1 old2 h1 h2
	invariants_start
	pool_patch '{"spec":{"template":{"metadata":{"labels":{"team":"blue"}}}}}'
	loop
	sim_poll 300 rolled 2 1 || { tail -n 30 "$ERR"; false; }
	sim_poll 60 running 6
	[ "$(drift_of h1)" = NodePoolDrifted ]
	[ "$(drift_of h2)" = NodePoolDrifted ]
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --once | "$NAP_BIN/nap-disrupt" --dry-run >"$BATS_TEST_TMPDIR/dry"
	stop_loop
	invariants_check
	[ ! -s "$BATS_TEST_TMPDIR/breach" ] || { cat "$BATS_TEST_TMPDIR/breach"; false; }
	[ "$(jq -r 'select(.type == "DisruptionVerdict" and .nodeClaim == "h1") | .why' "$BATS_TEST_TMPDIR/dry")" = PodDoNotDisrupt ]
	[ "$(jq -r 'select(.type == "DisruptionVerdict" and .nodeClaim == "h2") | .why' "$BATS_TEST_TMPDIR/dry")" = PDBBlocks ]
	for n in h1 h2; do
		[ -z "$(sim_kubectl get nodeclaim $n -o jsonpath='{.metadata.deletionTimestamp}')" ]
		run ! has_taint "aks-$n"
	done
	[ "$(jq -r 'select(.type == "Drifted" and .reason == "NodePoolDrifted") | .nodeClaim' "$OUT" | sort -u | paste -sd, -)" = h1,h2,old1,old2 ]
	# The replacements carry the new label and have not drifted.
	sim_kubectl get nodeclaims -o json | jqe '[.items[] | select(.metadata.name | test("^(h[12])$") | not)] |
	    length >= 2 and all(.[]; .metadata.labels.team == "blue" and
	    ([.status.conditions[]? | select(.type == "Drifted")] | length == 0))' >/dev/null
	safe
}
