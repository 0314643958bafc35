#!/usr/bin/env bats
# shellcheck disable=SC2016  # the session script is written with its $ unexpanded
# Every code block of README.md and every EXAMPLES entry of every man page,
# extracted from the documents (never retyped here), run as written and its
# output checked.
#
# A document's blocks run in order in one bash session, as a reader typing
# them into one terminal would: the variables a block sets and the jobs it
# starts are there for the next.  The session runs in a directory laid out
# like the source tree (deploy/, data/ under git, ../shared beside it), with
# the built tools and pipelines/ first on PATH, as README's "export PATH"
# block puts them.  Pages that need a cluster start nap-sim the way README.md
# and nap(7) tell a newcomer to (nap(7)'s first two EXAMPLES blocks, which a
# test below holds identical to README's), and stop it with nap(7)'s last.
#
# Each document has a plan: one line per block, in order, saying what is done
# with it.  A block that is neither run nor listed with a reason fails the
# test, so a new example cannot go untested.  Plan lines, tab-separated:
#   run         FIRST-LINE  CHECK [rc=N]   run it; it must exit 0 (or N)
#   bg          FIRST-LINE  READY CHECK    start it, wait for READY, then ^C
#   transcript  FIRST-LINE  [CHECK] [rc=N] "$ " lines are commands, the rest
#                                          the output they must print
#   file        FIRST-LINE  NAME [CHECK]   the text says to save it as NAME
#   skip        FIRST-LINE  REASON         not run, and why
# Blocks are matched to plan lines by position and first line.

load helpers/sim

setup() {
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	: "${NAP_BIN:=$REPO/bin}"
	NAP_BIN=$(cd "$NAP_BIN" && pwd)
	export NAP_BIN
	WORK=$BATS_TEST_TMPDIR/w/nap
	OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$WORK" "$OUT" "$BATS_TEST_TMPDIR/tmp"
	export WORK OUT REPO
}

teardown() {
	local p f
	# Whatever a failed session left running: its ^C'd groups, its nap-sims.
	if [ -s "$OUT/pgids" ]; then
		while read -r p; do
			kill -KILL -- "-$p" 2>/dev/null
		done <"$OUT/pgids"
	fi
	while IFS= read -r f; do
		p=$(jq -r '.pid // empty' "$f" 2>/dev/null)
		if [ -n "$p" ]; then
			kill -TERM "$p" 2>/dev/null || :
		fi
	done < <(find "$BATS_TEST_TMPDIR" -name ready.json 2>/dev/null)
	return 0
}

# ---- extraction -------------------------------------------------------------

# md_blocks FILE DIR: each fenced (```) or indented (4 spaces or a tab, after a
# blank line, outside a fence) code block of a Markdown file, as DIR/1, DIR/2...
md_blocks() {
	mkdir -p "$2"
	awk -v dir="$2" '
		function close_block() { if (inb) close(f); inb = 0 }
		/^```/ {
			if (fence) { fence = 0; close_block(); prev = ""; next }
			fence = 1; n++; f = dir "/" n; inb = 1; printf "" > f; next
		}
		fence { print > f; next }
		/^(    |\t)/ && (inb || prev == "") {
			if (!inb) { n++; f = dir "/" n; inb = 1 }
			line = $0; sub(/^(    |\t)/, "", line); print line > f; prev = $0; next
		}
		{ close_block(); prev = $0 }' "$1"
}

# man_blocks PAGE DIR: each block of the EXAMPLES section as man shows it
# (mandoc -Tascii): displays are the runs of lines indented past the text.
man_blocks() {
	mkdir -p "$2"
	mandoc -Tascii "$1" | col -bx | awk -v dir="$2" '
		/^[A-Z][A-Z ]*$/ { on = ($0 == "EXAMPLES"); next }
		!on { next }
		/^           / {
			if (!inb) { n++; f = dir "/" n; inb = 1 }
			sub(/^           /, ""); print > f; next
		}
		{ if (inb) close(f); inb = 0 }'
}

# ---- sessions ---------------------------------------------------------------

# The source tree as a reader has it, for documents that name its files.
work_tree() {
	ln -s "$REPO/deploy" "$WORK/deploy"
	cp -r "$REPO/data" "$WORK/data"
	ln -s "$(cd "$REPO/.." && pwd)/shared" "$WORK/../shared"
	git -C "$WORK" init -q
	git -C "$WORK" add data
	git -C "$WORK" -c user.name=t -c user.email=t@example.com commit -qm data
}

# add_steps DOC BLOCKDIR: the blocks of DOC, matched against plan_DOC, as steps
# of the session; fails on a block the plan does not list, or a listed one
# that is gone.
add_steps() {
	local doc=$1 dir=$2 n=1 mode key arg first
	while IFS=$'\t' read -r mode key arg; do
		if [ ! -e "$dir/$n" ]; then
			echo "$doc: the plan lists block $n ($key) but the document has no such block"
			return 1
		fi
		first=$(head -n 1 "$dir/$n")
		if [ "$first" != "$key" ]; then
			echo "$doc: block $n is not in the plan; it begins:"
			echo "  $first"
			echo "the plan expected:"
			echo "  $key"
			return 1
		fi
		step "$doc#$n" "$dir/$n" "$mode" "$arg"
		n=$((n + 1))
	done < <("plan_${doc//[.-]/_}")
	if [ -e "$dir/$n" ]; then
		echo "$doc: block $n is neither run nor listed in the plan:"
		cat "$dir/$n"
		return 1
	fi
}

# step NAME FILE MODE ARG: one block appended to the session script.
STEPS=()
step() {
	local i=${#STEPS[@]} name=$1 file=$2 mode=$3 arg=$4
	STEPS+=("$name"$'\t'"$mode"$'\t'"$arg")
	cp "$file" "$OUT/$i.block"
	case $mode in
	run)
		printf '{\n%s\n} >"$OUT/%d.out" 2>"$OUT/%d.err" </dev/null\necho $? >"$OUT/%d.rc"\n' \
		    "$(cat "$file")" "$i" "$i" "$i"
		;;
	bg)
		printf '(\n%s\n) >"$OUT/%d.out" 2>"$OUT/%d.err" </dev/null &\nbg_run %d %s\n' \
		    "$(cat "$file")" "$i" "$i" "$i" "${arg%% *}"
		;;
	transcript)
		# Commands: the "$ " lines and the lines that continue them.
		awk '/^\$ / { sub(/^\$ /, ""); print; cont = /[|\\]$/; next }
			cont { print; cont = /[|\\]$/; next }' "$file" >"$OUT/$i.cmds"
		awk '/^\$ / { cont = /[|\\]$/; next } cont { cont = /[|\\]$/; next } { print }' \
		    "$file" >"$OUT/$i.expected"
		printf '{\n%s\n} >"$OUT/%d.out" 2>"$OUT/%d.err" </dev/null\necho $? >"$OUT/%d.rc"\n' \
		    "$(cat "$OUT/$i.cmds")" "$i" "$i" "$i"
		;;
	file)
		printf 'cp "$OUT/%d.block" %q\necho 0 >"$OUT/%d.rc"\n' "$i" "${arg%% *}" "$i"
		echo "${arg%% *}" >"$OUT/$i.file"
		;;
	skip)
		printf 'echo skipped >"$OUT/%d.rc"\n' "$i"
		;;
	*)
		echo "unknown plan mode $mode" >&2
		return 1
		;;
	esac >>"$OUT/session.sh"
	# The block's checks, at once, while what it made is still there: in a
	# subshell with errexit, so that any failing command fails the check.
	local chk nchk=0
	for chk in $arg; do
		case $chk in rc=* | *.yaml | *.json) continue ;; esac
		[ "$mode" = bg ] && [ "$chk" = "${arg%% *}" ] && continue	# READY
		[ "$mode" = skip ] && break
		printf '(set -e -x; %s %d) >>"$OUT/%d.chk" 2>&1; echo $? >>"$OUT/%d.chkrc"\n' \
		    "$chk" "$i" "$i" "$i"
		nchk=$((nchk + 1))
	done >>"$OUT/session.sh"
	echo "$nchk" >"$OUT/$i.nchk"
}

# bg_run N READY: the block just started in the background is a loop the
# document says to stop with ^C.  Wait until READY N succeeds (or the block
# ends, or 180 s pass), then send SIGINT to its process group, as ^C does.
bg_run() {
	local n=$1 ready=$2 pid=$! deadline
	echo "$pid" >>"$OUT/pgids"
	deadline=$((SECONDS + 180))
	until "$ready" "$n"; do
		kill -0 "$pid" 2>/dev/null || break
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "not ready after 180 s" >"$OUT/$n.timeout"
			break
		fi
		sleep 0.2
	done
	kill -INT -- "-$pid" 2>/dev/null
	deadline=$((SECONDS + 30))
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null
	wait "$pid"
	echo $? >"$OUT/$n.rc"
}

# session_run: run the session script, then check every step in order.
session_run() {
	local i name mode arg rc want chk
	{
		# Job control: each background block its own process group, so
		# that ^C (SIGINT to the group) reaches every stage of a loop.
		echo 'set -m'
		echo 'cd "$WORK" || exit 1'
		cat "$OUT/session.sh"
	} >"$OUT/session.full"
	mv "$OUT/session.full" "$OUT/session.sh"
	# shellcheck disable=SC2046
	export -f $(declare -F | awk '$3 ~ /^(bg_run|ready_|chk_|web_running)/ { print $3 }')
	# The reader's PATH after README's "export PATH": the built tools and
	# pipelines/ first.  Nothing of the caller's cluster leaks in.
	env -u KUBECONFIG -u NAP_CONFIG PATH="$NAP_BIN:$REPO/pipelines:$PATH" \
	    TMPDIR="$BATS_TEST_TMPDIR/tmp" timeout 900 bash "$OUT/session.sh" 3>&- || :
	for i in "${!STEPS[@]}"; do
		IFS=$'\t' read -r name mode arg <<<"${STEPS[$i]}"
		echo "--- $name ($mode): $(head -n 1 "$OUT/$i.block")"
		if [ "$mode" = skip ]; then
			echo "    not run: $arg"
			continue
		fi
		[ -e "$OUT/$i.rc" ] || { echo "the session never reached it"; return 1; }
		rc=$(cat "$OUT/$i.rc")
		cut -c 1-200 "$OUT/$i.out" 2>/dev/null | head -n 40
		sed 's/^/    stderr: /' "$OUT/$i.err" 2>/dev/null | cut -c 1-200 | head -n 20
		sed 's/^/    check: /' "$OUT/$i.chk" 2>/dev/null | cut -c 1-200 | tail -n 8
		[ ! -e "$OUT/$i.timeout" ] || { cat "$OUT/$i.timeout"; return 1; }
		want=0
		case " $arg " in *" rc="*) want=${arg##*rc=} want=${want%% *} ;; esac
		if [ "$mode" = bg ]; then
			# ^C: the tools end 0; a jq at the end of the pipe dies of it.
			case $rc in 0 | 130) ;; *) echo "exit status $rc after ^C"; return 1 ;; esac
		elif [ "$rc" != "$want" ]; then
			echo "exit status $rc, not $want"
			return 1
		fi
		if [ "$mode" = transcript ] && [ -s "$OUT/$i.expected" ]; then
			transcript_matches "$i"
		fi
		# Every check the plan names ran, and passed.
		[ "$(cat "$OUT/$i.chkrc" 2>/dev/null | grep -c '^0$')" -eq "$(cat "$OUT/$i.nchk")" ] ||
		    { echo "its check failed"; return 1; }
	done
}

# The output a transcript shows is what its commands print, stdout then
# stderr, with lines folded for the page joined again.  nap-sim's own log
# lines, which its stderr carries into the step that started it, are not
# shown on the page.
transcript_matches() {
	local i=$1 got want
	got=$(cat "$OUT/$i.out" "$OUT/$i.err" | grep -v '^nap-sim: ' | tr -s ' \n' '  ' | sed 's/ *$//')
	want=$(tr -s ' \n' '  ' <"$OUT/$i.expected" | sed 's/ *$//')
	if [ "$got" != "$want" ]; then
		echo "the page shows:"
		echo "  $want"
		echo "the commands printed:"
		echo "  $got"
		return 1
	fi
}

# ---- READY conditions of the loops (run inside the session) ----------------

web_running() {
	[ "$(kubectl get pods -l app=web --no-headers 2>/dev/null | grep -c ' Running ')" -eq 3 ]
}
ready_initialized() {
	grep -q '^{"type":"Initialized"' "$OUT/$1.out" && web_running
}
ready_decisions() {
	grep -q '^{"type":"LaunchRequest"' "$OUT/$1.out" && grep -q '^{"type":"Unschedulable"' "$OUT/$1.out"
}
ready_synced() {
	grep -q '^{"type":"SYNCED"[,}]' "$OUT/$1.out"
}
ready_no_claims() {
	[ -z "$(kubectl get nodeclaims -o name)" ]
}
ready_launched() {
	grep -q '^{"type":"Launched"' "$OUT/$1.out"
}

# ---- checks (run in the session after their block, under errexit) ---------

chk_sim_started() {
	[ -s "$NAP_CONFIG" ]
	[ -s "$KUBECONFIG" ]
	[ "$KUBECONFIG" = "$NAP_CONFIG.kubeconfig" ]
	kill -0 "$(jq .pid "$(dirname "$NAP_CONFIG")/ready.json")"
	grep -q '^  region: eastus$' "$NAP_CONFIG"
	# Without --catalog nap-sim leaves the tools to their own default.
	[ "$(grep -c '^catalog:' "$NAP_CONFIG")" -eq 0 ]
	kubectl --kubeconfig "$KUBECONFIG" get --raw /version | jq -e .gitVersion >/dev/null
}

chk_workload() {
	local o=$OUT/$1.out
	grep -qx 'aksnodeclass.karpenter.azure.com/default created' "$o"
	grep -qx 'nodepool.karpenter.sh/default created' "$o"
	grep -qx 'deployment.apps/web created' "$o"
	grep -qx 'pod/arm created' "$o"
	[ "$(grep -c '^pod/.* condition met$' "$o")" -eq 4 ]
}

# One LaunchRequest, from the default NodePool, for the three web pods.
chk_one_launch() {
	local o=$OUT/$1.out
	[ "$(wc -l <"$o")" -eq 1 ]
	jq -e '.type == "LaunchRequest"
	    and .nodeClaim.metadata.labels["karpenter.sh/nodepool"] == "default"
	    and (.pods | length) == 3 and all(.pods[]; startswith("default/web-"))
	    and .price > 0
	    and ([.nodeClaim.spec.requirements[] | select(.key == "node.kubernetes.io/instance-type")
	        | .values[0]][0] | startswith("Standard_D"))' "$o" >/dev/null
}

chk_dry_table() {
	local o=$OUT/$1.out
	grep -q '^NODEPOOL  *INSTANCE TYPE  *ALTERNATIVES  *ZONES  *CAPACITY TYPE  *PODS  *\$/HOUR$' "$o"
	grep -q '^default  *Standard_D[^ ]*  *[0-9][0-9]*  .*on-demand  *3  *0\.[0-9]*$' "$o"
	grep -q '^1 new node for 3 pods, 0\.[0-9]* \$/hour$' "$o"
	grep -qx '1 pod cannot be scheduled:' "$o"
	grep -q '^  default/arm: .' "$o"
}

chk_snapshot() {
	local s=$WORK/snapshot.ndjson
	grep -q '^{"type":"SYNCED"[,}]' "$s"
	[ "$(jq -s '[.[] | select(.object.kind == "Pod")] | length' "$s")" -eq 4 ]
}

chk_dry_snapshot() {
	chk_snapshot "$1"
	chk_dry_table "$1"
}

# The arm pod, and only it, cannot be placed, in Karpenter's words.
chk_unschedulable_arm() {
	local o=$OUT/$1.out
	[ "$(wc -l <"$o")" -eq 1 ]
	grep -q '^default/arm: .*kubernetes.io/arch' "$o"
}

# One line: the first choice of size, a D-family VM.
chk_one_type() {
	local o=$OUT/$1.out
	[ "$(wc -l <"$o")" -eq 1 ]
	grep -qx 'Standard_D[A-Za-z0-9_]*' "$o"
}

chk_launch_summary() {
	local o=$OUT/$1.out
	[ "$(wc -l <"$o")" -eq 1 ]
	jq -e '(.name | startswith("default-")) and (.pods | length) == 3 and .price > 0' "$o" >/dev/null
}

# nap-solve forwards the snapshot and adds its decisions.
chk_solve_stream() {
	local o=$OUT/$1.out
	chk_snapshot "$1"
	grep -q '^{"type":"SYNCED"[,}]' "$o"
	[ "$(jq -s '[.[] | select(.type == "LaunchRequest")] | length' "$o")" -eq 1 ]
	[ "$(jq -s '[.[] | select(.type == "Unschedulable") | .pod] == ["default/arm"]' "$o")" = true ]
	[ "$(jq -s '[.[] | select(.type == "ADDED" and .object.kind == "Pod")] | length' "$o")" -eq 4 ]
}

chk_decisions_only() {
	local o=$OUT/$1.out
	jq -e -s 'length > 0 and all(.[]; .type == "LaunchRequest" or .type == "Nominated"
	    or .type == "Unschedulable")' "$o" >/dev/null
	jq -e -s '[.[] | select(.type == "LaunchRequest")
	    | .nodeClaim.metadata.labels["karpenter.sh/nodepool"]] | unique == ["default"]' "$o" >/dev/null
	jq -e -s '[.[] | select(.type == "Unschedulable") | .pod] | unique == ["default/arm"]' "$o" >/dev/null
}

chk_initialized() {
	local o=$OUT/$1.out
	[ "$(wc -l <"$o")" -ge 1 ]
	jq -e -s 'all(.[]; .type == "Initialized" and .nodePool == "default"
	    and (.node | startswith("aks-default-")))' "$o" >/dev/null
}

# What the loop wrote fits nap's CRD, status included (python3-yaml is one of
# the packages nap-deps installs for the suite).
chk_claims_fit_crd() {
	kubectl get nodeclaims -o json | jq -c '.items[]' | sed '1!s/^/---\n/' >"$OUT/$1.claims.yaml"
	[ -s "$OUT/$1.claims.yaml" ]
	python3 "$REPO/tests/helpers/crdcheck.py" "$REPO/deploy/crds" "$OUT/$1.claims.yaml"
}

chk_web_running() {
	local o=$OUT/$1.out
	[ "$(grep -c '^web-.* Running .* aks-default-' "$o")" -eq 3 ]
}

chk_sim_stopped() {
	local pid i=0
	pid=$(jq .pid "${sim:-.}/ready.json")
	while kill -0 "$pid" 2>/dev/null; do
		[ "$i" -lt 100 ]
		sleep 0.1
		i=$((i + 1))
	done
}

chk_loop_launched() {
	local o=$OUT/$1.out
	grep -q '^{"type":"SYNCED"[,}]' "$o"
	jq -e -s 'any(.[]; .type == "Launched" and .nodePool == "default"
	    and (.instanceType | startswith("Standard_D")))' "$o" >/dev/null
}

chk_launched_line() {
	local o=$OUT/$1.out
	[ "$(wc -l <"$o")" -eq 1 ]
	grep -q '^default-[a-z0-9]* Standard_D[A-Za-z0-9_]* eastus-[123]$' "$o"
	[ "$(kubectl get nodeclaims -o name | wc -l)" -eq 1 ]
}

# One "<nodeclaim> <why>" line per NodeClaim the launch made.
chk_verdicts() {
	local o=$OUT/$1.out
	[ "$(wc -l <"$o")" -ge 1 ]
	[ "$(wc -l <"$o")" -eq "$(kubectl get nodeclaims -o name | wc -l)" ]
	! grep -qv '^default-[a-z0-9]* [A-Za-z]*$' "$o"
}

# Drained and gone: no NodeClaim, no Node left.
chk_no_claims() {
	[ -z "$(kubectl get nodeclaims -o name)" ]
	[ -z "$(kubectl get nodes -o name)" ]
}

chk_kinds_pods_nodes() {
	local o=$OUT/$1.out
	jq -e -s 'all(.[]; .type == "SYNCED" or .object.kind == "Pod" or .object.kind == "Node")
	    and ([.[] | select(.object.kind == "Pod")] | length) >= 4' "$o" >/dev/null
}

chk_count_4() {
	[ "$(tr -d ' ' <"$OUT/$1.out")" = 4 ]
}

chk_phases() {
	[ "$(tr -s ' ' <"$OUT/$1.out" | sed 's/^ //')" = "4 Pending" ]
}

# nap-upgrade(1): the plan for the one class of nap(7)'s cluster.
chk_upgrade_plan() {
	local o=$OUT/$1.out
	[ "$(wc -l <"$o")" -eq 1 ]
	jq -e '.nodeClass == "default" and .kubernetesVersion.to == "1.32.4" and .drifted == []' "$o" >/dev/null
}

# No node has been launched in that cluster: nothing to drift.
chk_upgrade_nothing_drifts() {
	[ ! -s "$OUT/$1.out" ]
}

chk_upgrade_ready() {
	[ "$(cat "$OUT/$1.out")" = True ]
}

chk_catalog_unchanged() {
	[ ! -s "$OUT/$1.out" ]
	[ -z "$(git -C "$WORK" status --porcelain data)" ]
}

# The regions, then the five cheapest 4-vCPU amd64 sizes, cheapest first.
chk_cheapest() {
	local o=$OUT/$1.out
	grep -qx eastus "$o"
	tail -n 5 "$o" >"$OUT/$1.five"
	[ "$(grep -c '^[0-9.][0-9.]* Standard_[A-Za-z0-9_]*$' "$OUT/$1.five")" -eq 5 ]
	sort -n -c "$OUT/$1.five"
}

chk_config_valid() {
	local f
	nap-solve --config "$(cat "$OUT/$1.file")" </dev/null
}

chk_state_kept() {
	[ -s "$WORK/sim.state" ]
	chk_sim_stopped "$1"
}

# nap-cost(1): the table of the cluster nap(7)'s blocks set up, its record,
# and the chart drawn as a PNG.
chk_cost_table() {
	local o=$OUT/$1.out
	head -n 1 "$o" | grep -q '^TIME  *NODES  *PODS  *\$/H  *BOUND \$/H'
	grep -q '^NODEPOOL ' "$o"
}

chk_cost_record() {
	jq -e 'has("usdPerHour") and has("boundUsdPerHour") and has("ratio")' "$OUT/$1.out" >/dev/null
}

chk_cost_png() {
	[ -s "$WORK/day.ndjson" ]
	grep -q '<polyline id="fleet"' "$WORK/cost.svg"
	[ "$(head -c 4 "$WORK/cost.png" | od -An -c | tr -d ' ')" = '211PNG' ]
}

# nap-elect(1): the command ran, and the Lease it held was released.
chk_elect_released() {
	local o=$OUT/$1.out
	[ "$(head -n 1 "$o")" = leading ]
	[ "$(sed -n 2p "$o")" = 0 ]
	[ -z "$(kubectl get lease example -o jsonpath='{.spec.holderIdentity}')" ]
}

# ---- the plans --------------------------------------------------------------

plan_README_md() {
	cat <<-'EOF'
	skip	make demo     # build, start nap-sim, run the loop on a mixed workload, scale it down, show the result	make targets: make test runs this suite, and e2e.bats runs nap-demo
	skip	make	builds the tree; the suite runs the tools it built ($NAP_BIN) and pipelines/ first on PATH, as this block's export does
	run	sim=$(mktemp -d)	chk_sim_started
	run	kubectl apply -f deploy/nodepools/default.yaml	chk_workload
	run	nap-watch --once | nap-solve | jq -c 'select(.type == "LaunchRequest")'	chk_one_launch
	run	nap-dry-run	chk_dry_table
	bg	mkfifo "$sim/launch.feedback"	ready_initialized chk_initialized
	run	kubectl get pods -l app=web -o wide	chk_web_running
	run	kill "$(jq .pid "$sim/ready.json")"	chk_sim_stopped
	EOF
}

plan_nap_7() {
	cat <<-'EOF'
	run	sim=$(mktemp -d)	chk_sim_started
	run	kubectl apply -f deploy/nodepools/default.yaml	chk_workload
	run	nap-dry-run	chk_dry_table
	run	nap-watch --once > snapshot.ndjson	chk_dry_snapshot
	run	nap-dry-run --records snapshot.ndjson |	chk_unschedulable_arm
	bg	nap --dry-run	ready_decisions chk_decisions_only
	bg	nap --config "$NAP_CONFIG" --time-scale 10 |	ready_initialized chk_initialized chk_claims_fit_crd
	run	kill "$(jq .pid "$sim/ready.json")"	chk_sim_stopped
	EOF
}

plan_nap_dry_run_1() {
	cat <<-'EOF'
	run	nap-dry-run	chk_dry_table
	run	nap-watch --once > snapshot.ndjson	chk_dry_snapshot
	run	nap-dry-run --records snapshot.ndjson |	chk_one_type
	EOF
}

plan_nap_watch_1() {
	cat <<-'EOF'
	run	nap-watch --once > snapshot.ndjson	chk_solve_stream
	bg	nap-watch --context nap-sim --kinds pods,nodes --slim	ready_synced chk_kinds_pods_nodes
	run	nap-watch --once --kinds pods | jq -c 'select(.type == "ADDED")' | wc -l	chk_count_4
	EOF
}

plan_nap_solve_1() {
	cat <<-'EOF'
	run	nap-watch --once > snapshot.ndjson	chk_snapshot
	run	nap-solve --region eastus < snapshot.ndjson |	chk_launch_summary
	run	nap-solve --region eastus < snapshot.ndjson |	chk_one_type
	run	nap-solve --region eastus < snapshot.ndjson |	chk_unschedulable_arm
	bg	dir=$(mktemp -d)	ready_launched chk_loop_launched
	EOF
}

plan_nap_launch_1() {
	cat <<-'EOF'
	run	nap-watch --once > snapshot.ndjson	chk_launched_line
	bg	dir=$(mktemp -d)	ready_initialized chk_loop_initialized
	EOF
}

plan_nap_disrupt_1() {
	cat <<-'EOF'
	run	nap-watch --once | nap-solve | nap-launch > /dev/null	chk_verdicts
	bg	kubectl delete nodeclaims --all --wait=false	ready_no_claims chk_no_claims
	EOF
}

plan_nap_upgrade_1() {
	cat <<-'EOF'
	run	nap-watch --once > snapshot.ndjson	chk_upgrade_plan
	run	nap-upgrade --plan --kubernetes-version v1.34.0 < snapshot.ndjson | jq -c '.drifted[]'	chk_upgrade_nothing_drifts
	run	nap-watch --once | nap-upgrade > /dev/null	chk_upgrade_ready
	EOF
}

plan_nap_records_5() {
	cat <<-'EOF'
	run	nap-watch --once | nap-solve |	chk_one_type
	run	nap-watch --once > snapshot.ndjson	chk_phases
	EOF
}

plan_nap_cost_1() {
	cat <<-'EOF'
	run	nap-watch --once | nap-cost	chk_cost_table
	run	nap-watch --once | nap-cost --ndjson | jq -c '{usdPerHour, boundUsdPerHour, ratio}'	chk_cost_record
	run	timeout 5 nap-watch > day.ndjson	chk_cost_png
	EOF
}

plan_nap_elect_1() {
	cat <<-'EOF'
	run	nap-elect --lease example -- sh -c 'echo leading'	chk_elect_released
	skip	nap-elect --lease nap --identity "$(hostname)" -- nap --config /etc/nap/nap.yaml	needs /etc/nap on two VMs; nap-elect.bats runs two candidates against nap-sim
	EOF
}

plan_nap_sim_1() {
	cat <<-'EOF'
	file	apiVersion: karpenter.azure.com/v1beta1	nodepool.yaml
	transcript	$ nap-sim --state sim.state --config-out sim.yaml --kubeconfig-out sim.kc >ready.json &
	transcript	$ kubectl get nodepool default -w -o name >watch.txt &
	transcript	$ kubectl wait --for=condition=PodScheduled=false pod -l app=web >/dev/null
	transcript	$ kill -TERM "$(jq .pid ready.json)"; wait %1	chk_state_kept
	EOF
}

plan_nap_conf_5() {
	cat <<-'EOF'
	file	# /etc/nap/nap.yaml	nap.yaml chk_config_valid
	file	kubeconfig: /etc/nap/kubeconfig	user-assigned.yaml chk_config_valid
	file	kubeconfig: kubeconfig	sim-style.yaml chk_config_valid
	transcript	$ nap-solve --config nap.yaml </dev/null && echo ok	rc=78
	EOF
}

plan_nap_catalog_5() {
	cat <<-'EOF'
	run	sh data/gen/gen-catalog ../shared/data data/ && git diff --stat data/	chk_catalog_unchanged
	run	awk -F'\t' '$1 == "Z" { print $2 }' data/catalog.tsv	chk_cheapest
	skip	mkdir -p fresh	needs the Azure CLI signed in to a subscription (az vm list-skus)
	skip	url="https://prices.azure.com/api/retail/prices?api-version=2023-01-01-preview&\	downloads every page of the Azure retail prices API; the suite runs offline
	skip	jq -s -f data/gen/sizes-from-arm.jq fresh/azure-skus-*.json \	needs what the two blocks above fetch, and az rest for the locations
	EOF
}

# The nap-launch loop starts after the one-shot launch: it follows that
# NodeClaim to Initialized.
chk_loop_initialized() {
	local o=$OUT/$1.out
	grep -q '^{"type":"SYNCED"[,}]' "$o"
	jq -e -s 'any(.[]; .type == "Initialized" and .nodePool == "default")' "$o" >/dev/null
}

# doc_session DOC [--cluster]: DOC's blocks in one session; with --cluster,
# between nap(7)'s nap-sim start and stop.
doc_session() {
	local doc=$1 name=${1##*/} n
	work_tree
	if [ "${2:-}" = --cluster ]; then
		man_blocks "$REPO/man/nap.7" "$OUT/nap.7"
		step "nap.7#1" "$OUT/nap.7/1" run chk_sim_started
		step "nap.7#2" "$OUT/nap.7/2" run chk_workload
	fi
	case $doc in
	*.md) md_blocks "$REPO/$doc" "$OUT/$name" ;;
	*) man_blocks "$REPO/$doc" "$OUT/$name" ;;
	esac
	add_steps "$name" "$OUT/$name"
	if [ "${2:-}" = --cluster ]; then
		n=$(find "$OUT/nap.7" -type f | wc -l)
		grep -q '^kill ' "$OUT/nap.7/$n"
		step "nap.7#$n" "$OUT/nap.7/$n" run chk_sim_stopped
	fi
	session_run
}

# ---- the tests --------------------------------------------------------------

@test "README.md and nap(7) start nap-sim and give it a workload in the same words" {
	md_blocks "$REPO/README.md" "$OUT/readme"
	man_blocks "$REPO/man/nap.7" "$OUT/nap7"
	grep -l '^nap-sim ' "$OUT"/readme/* >"$OUT/r"
	grep -l '^nap-sim ' "$OUT"/nap7/* >"$OUT/m"
	[ "$(wc -l <"$OUT/r")" -eq 1 ]
	[ "$(wc -l <"$OUT/m")" -eq 1 ]
	diff -u "$(cat "$OUT/r")" "$(cat "$OUT/m")"
	diff -u "$(grep -l '^kubectl apply' "$OUT"/readme/*)" "$(grep -l '^kubectl apply' "$OUT"/nap7/*)"
	# and the suite's own helper starts it with the same options it documents
	grep -q -- '--config-out' "$BATS_TEST_DIRNAME/helpers/sim.bash"
}

@test "README.md: every code block runs as written" {
	doc_session README.md
}

@test "nap(7): every example runs as written, against the nap-sim it starts" {
	doc_session man/nap.7
}

@test "nap-dry-run(1): every example runs as written" {
	doc_session man/nap-dry-run.1 --cluster
}

@test "nap-watch(1): every example runs as written" {
	doc_session man/nap-watch.1 --cluster
}

@test "nap-solve(1): every example runs as written" {
	doc_session man/nap-solve.1 --cluster
}

@test "nap-launch(1): every example runs as written" {
	doc_session man/nap-launch.1 --cluster
}

@test "nap-disrupt(1): every example runs as written" {
	doc_session man/nap-disrupt.1 --cluster
}

@test "nap-upgrade(1): every example runs as written" {
	doc_session man/nap-upgrade.1 --cluster
}

@test "nap-records(5): every example runs as written" {
	doc_session man/nap-records.5 --cluster
}

@test "nap-cost(1): every example runs as written, against the nap-sim nap(7) starts" {
	doc_session man/nap-cost.1 --cluster
}

@test "nap-elect(1): every example runs as written, against the nap-sim nap(7) starts" {
	doc_session man/nap-elect.1 --cluster
}

@test "nap-sim(1): every example runs as written" {
	doc_session man/nap-sim.1
}

@test "nap.conf(5): every example loads, and the misspelt key is reported as shown" {
	doc_session man/nap.conf.5
}

@test "nap-catalog(5): every example runs as written, or is listed with why not" {
	doc_session man/nap-catalog.5
}

@test "every man page with an EXAMPLES section has a test here" {
	local page name
	for page in "$REPO"/man/*.[157]; do
		name=${page##*/}
		grep -q '^\.Sh EXAMPLES' "$page" || continue
		declare -F "plan_${name//[.-]/_}" >/dev/null || {
			echo "$name has EXAMPLES and no plan in tests/examples.bats"
			false
		}
	done
}
