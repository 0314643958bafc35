#!/usr/bin/env bats
# Prometheus metrics of the provision loop against nap-sim: nap-watch,
# nap-solve and nap-launch run as pipelines/nap runs them, each serving
# /metrics on a port of its own choosing and writing a textfile into the
# directory nap.conf(5) names.  setup_file scales a deployment up once; the
# tests scrape the tools while they still run and check the values against
# what kubectl counts.  nap-disrupt and nap-upgrade then run against a
# nap-sim of their own (a budget holding empty nodes, then letting them go;
# one pass that writes a class status and marks a NodeClaim drifted).  Then
# the flags' failure modes, without nap-sim.

load helpers/sim

SCALE=20

setup_file() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	F=$BATS_FILE_TMPDIR
	export NAP_BIN REPO F
	sim_start_in "$F/sim" --time-scale "$SCALE" --catalog "$REPO/data"
	mkdir -p "$F/prom"
	sed 's|^catalog:.*|catalog: "'"$REPO"'/data"|' "$SIM_CONFIG" >"$F/nap.yaml"
	printf 'metrics:\n  textfileDirectory: %s\n' "$F/prom" >>"$F/nap.yaml"
	sim_kubectl apply --server-side --force-conflicts -f "$REPO/deploy/crds/" >"$F/apply.log"
	sim_kubectl apply -f "$REPO/deploy/nodepools/default.yaml" >>"$F/apply.log"

	mkfifo "$F/w" "$F/s"
	"$NAP_BIN/nap-launch" --config "$F/nap.yaml" --time-scale "$SCALE" \
	    --metrics-listen 127.0.0.1:0 <"$F/s" >"$F/loop.out" 2>"$F/nap-launch.err" 3>&- &
	echo $! >"$F/pids"
	"$NAP_BIN/nap-solve" --config "$F/nap.yaml" --metrics-listen 127.0.0.1:0 \
	    <"$F/w" >"$F/s" 2>"$F/nap-solve.err" 3>&- &
	echo $! >>"$F/pids"
	"$NAP_BIN/nap-watch" --config "$F/nap.yaml" --metrics-listen 127.0.0.1:0 \
	    >"$F/w" 2>"$F/nap-watch.err" </dev/null 3>&- &
	echo $! >>"$F/pids"
	sim_poll 60 grep -q '"type":"SYNCED"' "$F/loop.out"

	sim_kubectl create deployment web --image=nginx --replicas=12 >>"$F/apply.log"
	sim_kubectl set resources deployment web --requests=cpu=1,memory=2Gi >>"$F/apply.log"
	sim_poll 120 all_running || :
}

teardown_file() {
	local p
	for p in $(cat "$F/pids" 2>/dev/null); do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $(cat "$F/pids" 2>/dev/null); do
		while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
	done
	sim_stop
}

all_running() {
	[ "$(sim_kubectl get pods -l app=web -o json |
	    jq '[.items[] | select(.status.phase == "Running")] | length')" -eq 12 ]
}

# scrape TOOL: its /metrics, on the port it said it serves.
scrape() {
	local port
	port=$(sed -n 's/.*metrics on port \([0-9]*\),.*/\1/p' "$F/$1.err" | head -n 1)
	[ -n "$port" ] || { echo "$1 did not say its metrics port" >&2; return 1; }
	curl -sf --noproxy '*' "http://127.0.0.1:$port/metrics"
}

# value FILE NAME [LABEL-REGEX]: the sum of a metric's samples.
value() {
	awk -v n="$2" -v l="${3:-}" '
	    $1 ~ "^" n "($|\\{)" && (l == "" || $1 ~ l) { s += $NF }
	    END { printf "%d\n", s }' "$1"
}

# The NodeClaims, and those with a condition True, as kubectl counts them.
claims() {
	sim_kubectl get nodeclaims -o json | jq "[.items[] $1] | length"
}
with_cond() {
	claims "| select(any(.status.conditions[]?; .type == \"$1\" and .status == \"True\"))"
}

launch_matches() {
	scrape nap-launch >"$F/launch.prom" || return 1
	[ "$(value "$F/launch.prom" karpenter_nodeclaims_created_total)" -eq "$(claims)" ] &&
	    [ "$(value "$F/launch.prom" karpenter_nodeclaims_launched_total)" -eq "$(with_cond Launched)" ] &&
	    [ "$(value "$F/launch.prom" karpenter_nodeclaims_registered_total)" -eq "$(with_cond Registered)" ] &&
	    [ "$(value "$F/launch.prom" karpenter_nodeclaims_initialized_total)" -eq "$(with_cond Initialized)" ]
}

@test "the deployment runs, on NodeClaims nap-launch made" {
	all_running
	[ "$(claims)" -ge 1 ]
}

@test "nap-launch's NodeClaim counters, scraped mid-run, match the NodeClaims kubectl lists" {
	sim_poll 30 launch_matches || {
		cat "$F/launch.prom"
		sim_kubectl get nodeclaims
		false
	}
	grep -q '^karpenter_nodeclaims_created_total{reason="provisioning",nodepool="default",min_values_relaxed="false"} [1-9]' "$F/launch.prom"
	[ "$(value "$F/launch.prom" nap_arm_requests_total)" -gt 0 ]
	# answers by class: Azure's and the API server's successes are counted
	[ "$(value "$F/launch.prom" nap_http_responses_total 'api="arm",code="2xx"')" -gt 0 ]
	[ "$(value "$F/launch.prom" nap_http_responses_total 'api="kube",code="2xx"')" -gt 0 ]
}

watch_matches() {
	scrape nap-watch >"$F/watch.prom" || return 1
	local running nodes ncs
	running=$(sim_kubectl get pods -A -o json | jq '[.items[] | select(.status.phase == "Running")] | length')
	nodes=$(sim_kubectl get nodes -o json | jq '.items | length')
	ncs=$(claims)
	[ "$(value "$F/watch.prom" karpenter_pods_state 'phase="Running"')" -eq "$running" ] &&
	    [ "$(value "$F/watch.prom" karpenter_cluster_state_node_count)" -eq "$nodes" ] &&
	    [ "$(value "$F/watch.prom" nap_watch_objects 'kind="NodeClaim"')" -eq "$ncs" ] &&
	    [ "$(value "$F/watch.prom" karpenter_cluster_state_synced)" -eq 1 ]
}

@test "nap-watch's pod, node and NodeClaim gauges, scraped mid-run, match kubectl" {
	sim_poll 30 watch_matches || {
		cat "$F/watch.prom"
		false
	}
	# every web pod has its series, with the node it runs on
	[ "$(grep -c '^karpenter_pods_state{name="web-[^"]*",namespace="default",node="aks-[^"]*",phase="Running"} 1$' "$F/watch.prom")" -eq 12 ]
	[ "$(value "$F/watch.prom" nap_http_responses_total 'api="kube",code="2xx"')" -gt 0 ]
}

@test "nap-solve's decisions, scraped mid-run, account for every NodeClaim and its scheduling passes" {
	scrape nap-solve >"$F/solve.prom"
	# a LaunchRequest for every NodeClaim (a repeated one is not a second claim)
	[ "$(value "$F/solve.prom" nap_solve_decisions_total 'decision="LaunchRequest"')" -ge "$(claims)" ]
	[ "$(value "$F/solve.prom" nap_records_written_total 'type="LaunchRequest"')" -eq \
	    "$(value "$F/solve.prom" nap_solve_decisions_total 'decision="LaunchRequest"')" ]
	[ "$(value "$F/solve.prom" karpenter_scheduler_scheduling_duration_seconds_count)" -ge 1 ]
	grep -q '^karpenter_scheduler_scheduling_duration_seconds_bucket{controller="provisioner",le="+Inf"} [1-9]' "$F/solve.prom"
	# what nap-solve wrote, nap-launch read
	scrape nap-launch >"$F/launch2.prom"
	[ "$(value "$F/launch2.prom" nap_records_read_total 'type="LaunchRequest"')" -eq \
	    "$(value "$F/solve.prom" nap_records_written_total 'type="LaunchRequest"')" ]
}

# Each sample line: a name, optional labels, one number; each family has HELP and TYPE first.
well_formed() {
	awk '
	    /^# HELP / { help[$3] = 1; next }
	    /^# TYPE / { if (!help[$3]) { print "TYPE before HELP: " $0; bad = 1 }
	                 type[$3] = $4; next }
	    /^#/ { print "stray comment: " $0; bad = 1; next }
	    {
	        if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? ([-+]?[0-9.eE+-]+|[-+]Inf|NaN)$/) {
	            print "bad sample: " $0; bad = 1; next }
	        n = $0; sub(/[{ ].*/, "", n)
	        base = n; sub(/_(bucket|sum|count)$/, "", base)
	        if (!(n in type) && !(base in type)) { print "no TYPE for " n; bad = 1 }
	    }
	    END { exit bad }' "$1"
}

@test "each tool's textfile is in the text format, and the endpoint serves the same families" {
	for t in nap-watch nap-solve nap-launch; do
		[ -s "$F/prom/$t.prom" ]
		well_formed "$F/prom/$t.prom"
		scrape "$t" >"$F/$t.scraped"
		well_formed "$F/$t.scraped"
		diff <(grep '^# TYPE' "$F/prom/$t.prom") <(grep '^# TYPE' "$F/$t.scraped")
		grep -q "^nap_build_info{tool=\"$t\",version=\"[^\"]*\"} 1$" "$F/$t.scraped"
	done
	# no temporary file is left in the collector's directory
	[ "$(ls "$F/prom" | grep -vc '\.prom$')" -eq 0 ]
}

@test "on SIGTERM each tool writes its textfile a last time" {
	local p
	for p in $(cat "$F/pids"); do
		kill -TERM "$p"
	done
	for p in $(cat "$F/pids"); do
		while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
	done
	: >"$F/pids"
	# the last file has what the endpoint had, and more: nothing went down
	[ "$(value "$F/prom/nap-launch.prom" karpenter_nodeclaims_created_total)" -eq "$(claims)" ]
	[ "$(value "$F/prom/nap-watch.prom" karpenter_pods_state 'phase="Running"')" -ge 12 ]
}

# ---- nap-disrupt, in a loop of its own against a nap-sim of its own ----

# dstart: nap-sim and nap-watch | nap-disrupt | nap-solve | nap-launch, the
# NodePool "default" consolidating empty nodes under a budget of 0;
# nap-disrupt serves /metrics (dscrape), its stderr in $D/nap-disrupt.err.
dstart() {
	D=$BATS_TEST_TMPDIR
	DPIDS=
	OWN_SIM=1
	sim_start_in "$D/sim" --time-scale 50 --catalog "$REPO/data"
	sed 's|^catalog:.*|catalog: "'"$REPO"'/data"|' "$SIM_CONFIG" >"$D/nap.yaml"
	sim_kubectl apply --server-side --force-conflicts -f "$REPO/deploy/crds/" >"$D/apply.log"
	sim_kubectl apply -f "$REPO/deploy/nodepools/default.yaml" >>"$D/apply.log"
	budget 0
	mkfifo "$D/w" "$D/d" "$D/s"
	"$NAP_BIN/nap-launch" --config "$D/nap.yaml" --time-scale 50 <"$D/s" >"$D/loop.out" \
	    2>"$D/nap-launch.err" 3>&- &
	DPIDS="$DPIDS $!"
	"$NAP_BIN/nap-solve" --config "$D/nap.yaml" <"$D/d" >"$D/s" 2>"$D/nap-solve.err" 3>&- &
	DPIDS="$DPIDS $!"
	"$NAP_BIN/nap-disrupt" --config "$D/nap.yaml" --time-scale 50 --interval 2s \
	    --metrics-listen 127.0.0.1:0 <"$D/w" >"$D/d" 2>"$D/nap-disrupt.err" 3>&- &
	DPIDS="$DPIDS $!"
	"$NAP_BIN/nap-watch" --config "$D/nap.yaml" >"$D/w" 2>"$D/nap-watch.err" </dev/null 3>&- &
	DPIDS="$DPIDS $!"
	sim_poll 60 grep -q '"type":"SYNCED"' "$D/loop.out"
}

# A test with a nap-sim of its own (OWN_SIM) stops it, and its tools (DPIDS), here.
teardown() {
	local p
	for p in ${DPIDS:-}; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in ${DPIDS:-}; do
		while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
	done
	if [ -n "${OWN_SIM:-}" ]; then
		sim_stop
	fi
}

budget() {	# budget NODES: the NodePool's one budget, empty nodes consolidated after 1s
	sim_kubectl patch nodepool default --type merge -p '{"spec":{"disruption":{
	    "consolidationPolicy":"WhenEmpty","consolidateAfter":"1s","budgets":[{"nodes":"'"$1"'"}]}}}' \
	    >>"$D/apply.log"
}

dscrape() {
	local port
	port=$(sed -n 's/.*metrics on port \([0-9]*\),.*/\1/p' "$D/nap-disrupt.err" | head -n 1)
	[ -n "$port" ] || { echo "nap-disrupt did not say its metrics port" >&2; return 1; }
	curl -sf --noproxy '*' "http://127.0.0.1:$port/metrics" >"$D/disrupt.prom"
}

pods_running() {	# pods_running N
	[ "$(sim_kubectl get pods -l app=web -o json |
	    jq '[.items[] | select(.status.phase == "Running")] | length')" -eq "$1" ]
}

# Budget 0: every empty node eligible, none allowed, none disrupted.
blocked_matches() {
	dscrape || return 1
	[ "$(value "$D/disrupt.prom" karpenter_voluntary_disruption_eligible_nodes 'reason="empty"')" -eq "$N" ] &&
	    grep -qx 'karpenter_nodepools_allowed_disruptions{nodepool="default",reason="Empty"} 0' "$D/disrupt.prom" &&
	    [ "$(value "$D/disrupt.prom" karpenter_nodeclaims_disrupted_total)" -eq 0 ]
}

# Budget 1: every NodeClaim gone, each one counted once as disrupted and terminated.
removed_matches() {
	dscrape || return 1
	[ "$(claims)" -eq 0 ] &&
	    [ "$(value "$D/disrupt.prom" karpenter_nodeclaims_disrupted_total \
		'reason="empty",nodepool="default",capacity_type="on-demand"')" -eq "$N" ] &&
	    [ "$(value "$D/disrupt.prom" karpenter_nodeclaims_terminated_total 'nodepool="default"')" -eq "$N" ]
}

allowance_back() {
	dscrape && grep -qx 'karpenter_nodepools_allowed_disruptions{nodepool="default",reason="Empty"} 1' "$D/disrupt.prom"
}

@test "nap-disrupt's budgets and disruptions, scraped mid-run, match the NodeClaims kubectl lists" {
	dstart
	sim_kubectl create deployment web --image=nginx --replicas=4 >>"$D/apply.log"
	sim_kubectl set resources deployment web --requests=cpu=1,memory=2Gi >>"$D/apply.log"
	sim_poll 120 pods_running 4
	N=$(claims)
	[ "$N" -ge 1 ]
	# the pods go; their nodes are empty, and the budget of 0 keeps them
	sim_kubectl scale deployment web --replicas=0 >>"$D/apply.log"
	sim_poll 60 blocked_matches || { cat "$D/disrupt.prom"; false; }
	[ "$(claims)" -eq "$N" ]
	# a budget of 1: they go one at a time, and the allowance shows it
	budget 1
	sim_poll 120 removed_matches || { cat "$D/disrupt.prom"; sim_kubectl get nodeclaims; false; }
	[ "$(value "$D/disrupt.prom" karpenter_voluntary_disruption_decisions_total \
	    'decision="delete",reason="empty",consolidation_type="empty"')" -eq "$N" ]
	[ "$(value "$D/disrupt.prom" karpenter_nodes_terminated_total 'nodepool="default"')" -eq "$N" ]
	[ "$(value "$D/disrupt.prom" karpenter_nodes_termination_duration_seconds_count)" -eq "$N" ]
	# the allowance is the last pass's: once a pass runs with nothing left deleting, it is 1 again
	sim_poll 60 allowance_back || { cat "$D/disrupt.prom"; false; }
	[ "$(value "$D/disrupt.prom" nap_records_written_total 'type="Disruption"')" -eq "$N" ]
	[ "$(value "$D/disrupt.prom" nap_disrupt_plan_passes_total)" -ge 2 ]
	# its deletions answered, by the API server and by Azure
	[ "$(value "$D/disrupt.prom" nap_http_responses_total 'api="kube",code="2xx"')" -gt 0 ]
	[ "$(value "$D/disrupt.prom" nap_http_responses_total 'api="arm",code="2xx"')" -gt 0 ]
	# empty nodes: nothing to evict
	[ "$(value "$D/disrupt.prom" karpenter_pods_drained_total)" -eq 0 ]
	well_formed "$D/disrupt.prom"
	grep -q '^nap_build_info{tool="nap-disrupt",version="[^"]*"} 1$' "$D/disrupt.prom"
}

# upass FILE: nap-watch --once | nap-upgrade, one pass, its metrics in FILE.
upass() {
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --once >"$D/snap" &&
	    "$NAP_BIN/nap-upgrade" --config "$SIM_CONFIG" --metrics-file "$1" <"$D/snap" \
	    >"$D/up.out" 2>"$D/up.err"
}

@test "nap-upgrade's textfile counts its pass, the AKSNodeClass status it wrote and a drifted NodeClaim" {
	local cig=/CommunityGalleries/AKSUbuntu-38d80f77-467a-481f-a8d4-09b6d4220bd2/images
	D=$BATS_TEST_TMPDIR
	OWN_SIM=1
	sim_start_in "$D/sim" --time-scale 100 --catalog "$REPO/data"
	sim_kubectl apply --server-side --force-conflicts -f "$REPO/deploy/crds/" >"$D/apply.log"
	sim_kubectl apply -f "$REPO/deploy/nodepools/default.yaml" >>"$D/apply.log"
	upass "$D/1.prom"
	grep -qx 'nap_upgrade_passes_total 1' "$D/1.prom"
	grep -qx 'nap_upgrade_nodeclass_writes_total 1' "$D/1.prom"
	[ "$(value "$D/1.prom" nap_upgrade_drifted_total)" -eq 0 ]
	well_formed "$D/1.prom"
	sim_kubectl apply -f - >>"$D/apply.log" <<-'EOF'
	apiVersion: karpenter.sh/v1
	kind: NodeClaim
	metadata:
	  name: default-old01
	  labels: {karpenter.sh/nodepool: default}
	spec:
	  nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	  requirements: []
	EOF
	sim_kubectl patch nodeclaim default-old01 --subresource=status --type merge \
	    -p '{"status":{"imageID":"'"$cig"'/2204gen2containerd/versions/202401.01.0"}}' >/dev/null
	upass "$D/2.prom"
	# the class status is as written: nothing to write again; the claim drifted
	grep -qx 'nap_upgrade_nodeclass_writes_total 0' "$D/2.prom"
	grep -qx 'nap_upgrade_drifted_total{reason="ImageDrift"} 1' "$D/2.prom"
	grep -qx 'nap_records_written_total{type="Drifted"} 1' "$D/2.prom"
	[ "$(value "$D/2.prom" nap_http_responses_total 'api="arm",code="2xx"')" -gt 0 ]
}

@test "a --metrics-listen address that is not one is a usage error (64)" {
	run "$NAP_BIN/nap-solve" --metrics-listen localhost:http </dev/null
	[ "$status" -eq 64 ]
	[[ "$output" == *'bad metrics address "localhost:http"'* ]]
}

@test "a --metrics-file that cannot be written fails at start (74), naming it" {
	run "$NAP_BIN/nap-solve" --metrics-file /nonexistent/dir/x.prom </dev/null
	[ "$status" -eq 74 ]
	[[ "$output" == *"/nonexistent/dir/x.prom"* ]]
}

@test "nap-solve counts the records it reads and the malformed lines it skips" {
	local f=$BATS_TEST_TMPDIR/x.prom
	run "$NAP_BIN/nap-solve" --metrics-file "$f" <<-'EOF'
	{"type":"SYNCED"}
	not json
	{"type":"Whatever"}
	{"type":"SYNCED"}
	EOF
	[ "$status" -eq 0 ]
	grep -qx 'nap_records_read_total{type="SYNCED"} 2' "$f"
	grep -qx 'nap_records_read_total{type="other"} 1' "$f"
	grep -qx 'nap_records_malformed_total 1' "$f"
}
