#!/usr/bin/env bats
# nap-cost: the fleet's $/h, utilisation and whole-pod bound, against values
# worked by hand on a small snapshot (tests/fixtures/nap-cost: four launched
# VMs and a system node, priced by a two-size catalog), over a recorded
# stream as records and an SVG chart, and against a provision loop run on
# nap-sim.

bats_require_minimum_version 1.5.0

load helpers/sim

FIX=$BATS_TEST_DIRNAME/fixtures/nap-cost

setup() {
	unset KUBECONFIG KUBERNETES_SERVICE_HOST NAP_CONFIG
	LOOP_PID= WATCH_PID=
}

teardown() {
	[ -z "$WATCH_PID" ] || kill -TERM "$WATCH_PID" 2>/dev/null
	if [ -n "$LOOP_PID" ]; then
		kill -TERM "$LOOP_PID" 2>/dev/null
		wait "$LOOP_PID" 2>/dev/null
	fi
	sim_stop
}

cost() { "$NAP_BIN/nap-cost" --catalog "$FIX/catalog.tsv" "$@"; }

# |a - b| < 1e-6
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d < 1e-6 && d > -1e-6) }'; }

# Worked by hand from the catalog's P lines (D2s_v5 0.096 on-demand, D4s_v5
# 0.192 on-demand and 0.040723 spot): default-a on n1 and default-b (launched,
# no Node yet) 0.096 each, spot-a on n2 0.040723, the system node n3 0.192;
# default-c has no size yet and costs nothing.  The bound: the two workload
# pods (500m + 1Gi, 1 + 2Gi; the DaemonSet pod comes with any node, the
# Succeeded and the Pending ones run nowhere) need 1.5 cores and 3 GiB, CPU
# binds, and the cheapest core is D4s_v5's: 0.192 / 3.86 allocatable cores.
TOTAL=0.424723
BOUND=$(awk 'BEGIN { printf "%.9f", 1.5 * 0.192 / 3.86 }')

@test "the table prices every launched VM from the catalog and sets the fleet against its bound" {
	run cost <"$FIX/small.ndjson"
	[ "$status" -eq 0 ]
	echo "$output"
	[ "${lines[1]}" = "2026-01-01T10:06:00Z      4         2      0.4247      0.0746      0.0746   5.692" ]
	grep -qx 'default       2      0.1920    31.6    28.1' <<<"$output"
	grep -qx 'spot          1      0.0407    25.9    25.0' <<<"$output"
	grep -qx -- '-             1      0.1920     0.0     0.0' <<<"$output"
	grep -qx 'on-demand      3      0.3840' <<<"$output"
	grep -qx 'eastus-1      2      0.1920' <<<"$output"
	grep -qx 'Standard_D4s_v5      2      0.2327' <<<"$output"
	grep -qx 'default-b  default   Standard_D2s_v5  eastus-1  on-demand      0.0960       -       -' <<<"$output"
	grep -qx 'n1         default   Standard_D2s_v5  eastus-1  on-demand      0.0960    31.6    28.1' <<<"$output"
	! grep -q default-c <<<"$output"
}

@test "the Cost record carries the same figures, exactly" {
	run cost --ndjson <"$FIX/small.ndjson"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	rec=${lines[0]}
	[ "$(jq -r .type <<<"$rec")" = Cost ]
	near "$(jq .usdPerHour <<<"$rec")" "$TOTAL"
	near "$(jq .boundUsdPerHour <<<"$rec")" "$BOUND"
	near "$(jq .ratio <<<"$rec")" "$(awk -v t=$TOTAL -v b="$BOUND" 'BEGIN { printf "%.4f", t / b }')"
	[ "$(jq -c '[.nodes, .pods, .podsFitNoType, .boundExact]' <<<"$rec")" = '[4,2,0,true]' ]
	[ "$(jq -c '[.byNodePool[] | [.nodePool, .nodes, .usdPerHour]]' <<<"$rec")" = \
	    '[["-",1,0.192],["default",2,0.192],["spot",1,0.040723]]' ]
	[ "$(jq -c '[.byCapacityType[] | [.capacityType, .usdPerHour]]' <<<"$rec")" = \
	    '[["on-demand",0.384],["spot",0.040723]]' ]
	# n1: 500m + 100m of 1900m, 1Gi + 128Mi of 4Gi
	[ "$(jq -c '.perNode[] | select(.name == "n1") | [.cpuRequested, .cpuAllocatable, .memoryRequested, .cpuUtilization, .memoryUtilization]' <<<"$rec")" = \
	    '[600,1900,1207959552,0.3158,0.2813]' ]
	[ "$(jq -c '.time' <<<"$rec")" = '"2026-01-01T10:06:00Z"' ]
}

@test "the whole-pod bound follows the capacity types each pod's NodePools allow" {
	# a NodePool that allows spot: the bound may buy spot cores (0.040723 / 3.86)
	sed 's/"requirements":\[{"key":"kubernetes.io\/os"/"requirements":[{"key":"karpenter.sh\/capacity-type","operator":"In","values":["spot","on-demand"]},{"key":"kubernetes.io\/os"/' \
	    "$FIX/small.ndjson" | cost --ndjson >"$BATS_TEST_TMPDIR/out"
	near "$(jq .boundUsdPerHour "$BATS_TEST_TMPDIR/out")" \
	    "$(awk 'BEGIN { printf "%.6f", 1.5 * 0.040723 / 3.86 }')"
	# a tainted spot pool: pods that do not tolerate it stay on-demand in
	# the bound; one that selects spot and tolerates the taint goes spot
	{
		grep -v SYNCED "$FIX/small.ndjson"
		cat <<-'EOF'
		{"type":"ADDED","object":{"apiVersion":"karpenter.sh/v1","kind":"NodePool","metadata":{"name":"spot","resourceVersion":"30","creationTimestamp":"2026-01-01T10:00:00Z"},"spec":{"template":{"spec":{"nodeClassRef":{"name":"default"},"taints":[{"key":"kubernetes.azure.com/scalesetpriority","value":"spot","effect":"NoSchedule"}],"requirements":[{"key":"karpenter.sh/capacity-type","operator":"In","values":["spot"]}]}}}}}
		{"type":"SYNCED"}
		EOF
	} >"$BATS_TEST_TMPDIR/spot.ndjson"
	cost --ndjson <"$BATS_TEST_TMPDIR/spot.ndjson" >"$BATS_TEST_TMPDIR/out"
	near "$(jq .boundUsdPerHour "$BATS_TEST_TMPDIR/out")" "$BOUND"
	{
		cat "$BATS_TEST_TMPDIR/spot.ndjson"
		cat <<-'EOF'
		{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"render","namespace":"default","resourceVersion":"31","creationTimestamp":"2026-01-01T10:05:00Z"},"spec":{"nodeName":"n2","nodeSelector":{"karpenter.sh/capacity-type":"spot"},"tolerations":[{"key":"kubernetes.azure.com/scalesetpriority","operator":"Equal","value":"spot","effect":"NoSchedule"}],"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"1","memory":"2Gi"}}}]},"status":{"phase":"Running"}}}
		EOF
	} | cost --ndjson >"$BATS_TEST_TMPDIR/out"
	# a record at SYNCED, and one at the end for the pod that came after it
	near "$(tail -n 1 "$BATS_TEST_TMPDIR/out" | jq .boundUsdPerHour)" \
	    "$(awk 'BEGIN { printf "%.6f", (1.5 * 0.192 + 0.040723) / 3.86 }')"
}

@test "the whole-pod bound uses only the sizes the NodePools allow" {
	# a pool held to D2s_v5: the bound may not buy D4s_v5's cheaper cores
	sed 's/"requirements":\[{"key":"kubernetes.io\/os"/"requirements":[{"key":"node.kubernetes.io\/instance-type","operator":"In","values":["Standard_D2s_v5"]},{"key":"kubernetes.io\/os"/' \
	    "$FIX/small.ndjson" | cost --ndjson >"$BATS_TEST_TMPDIR/out"
	near "$(jq .boundUsdPerHour "$BATS_TEST_TMPDIR/out")" \
	    "$(awk 'BEGIN { printf "%.6f", 1.5 * 0.096 / 1.9 }')"
}

@test "a recorded stream gives one Cost record per change, in time order, and an SVG chart that renders" {
	local s=$BATS_TEST_TMPDIR/stream.ndjson
	command -v rsvg-convert >/dev/null || { echo "rsvg-convert is missing (librsvg2-bin)"; false; }
	cp "$FIX/small.ndjson" "$s"
	# ten minutes later a third D2s_v5 is launched, then n3 goes away
	cat >>"$s" <<-'EOF'
	{"type":"ADDED","object":{"apiVersion":"karpenter.sh/v1","kind":"NodeClaim","metadata":{"name":"default-d","resourceVersion":"20","creationTimestamp":"2026-01-01T10:16:00Z","labels":{"karpenter.sh/nodepool":"default","node.kubernetes.io/instance-type":"Standard_D2s_v5","topology.kubernetes.io/zone":"eastus-2","karpenter.sh/capacity-type":"on-demand"}},"spec":{"nodeClassRef":{"name":"default"},"requirements":[]}}}
	{"type":"DELETED","object":{"apiVersion":"v1","kind":"Node","metadata":{"name":"n3","resourceVersion":"21","creationTimestamp":"2026-01-01T09:00:00Z","deletionTimestamp":"2026-01-01T10:20:00Z"}}}
	{"type":"Launched","nodeClaim":"default-d"}
	EOF
	cost --ndjson --svg "$BATS_TEST_TMPDIR/cost.svg" <"$s" >"$BATS_TEST_TMPDIR/out"
	cat "$BATS_TEST_TMPDIR/out"
	[ "$(jq -s 'length' "$BATS_TEST_TMPDIR/out")" -eq 3 ]
	[ "$(jq -sc '[.[].time]' "$BATS_TEST_TMPDIR/out")" = \
	    '["2026-01-01T10:06:00Z","2026-01-01T10:16:00Z","2026-01-01T10:20:00Z"]' ]
	[ "$(jq -sc '[.[].usdPerHour]' "$BATS_TEST_TMPDIR/out")" = '[0.424723,0.520723,0.328723]' ]
	# the bound's cache changes nothing
	cost --ndjson --no-bound-cache <"$s" | cmp - "$BATS_TEST_TMPDIR/out"
	grep -q '<polyline id="fleet"' "$BATS_TEST_TMPDIR/cost.svg"
	grep -q '<polyline id="bound"' "$BATS_TEST_TMPDIR/cost.svg"
	rsvg-convert -o "$BATS_TEST_TMPDIR/cost.png" "$BATS_TEST_TMPDIR/cost.svg"
	[ "$(head -c 8 "$BATS_TEST_TMPDIR/cost.png" | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ]
}

@test "nap-cost keeps the contract: usage 64, empty input silent, malformed lines warned, full disk 74" {
	local rc
	run -64 cost --bogus
	[[ "$output" == *usage:* ]]
	run cost </dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	{ echo 'not json'; cat "$FIX/small.ndjson"; } | cost --ndjson >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err"
	grep -q 'line 1: malformed record' "$BATS_TEST_TMPDIR/err"
	near "$(jq .usdPerHour "$BATS_TEST_TMPDIR/out")" "$TOTAL"
	cost <"$FIX/small.ndjson" >/dev/full 2>/dev/null && rc=0 || rc=$?
	[ "$rc" -eq 74 ]
	run -78 "$NAP_BIN/nap-cost" --catalog "$FIX/catalog.tsv" --region nowhere <"$FIX/small.ndjson"
}

# The provision loop against nap-sim, recorded by nap-watch: the fleet's
# total is the sum of the catalog prices of the NodeClaims kubectl lists, and
# the run's chart renders.
@test "on nap-sim after a scale-up the total is the catalog price of every NodeClaim, and the run's chart renders" {
	local repo F=$BATS_TEST_TMPDIR want got
	repo=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	need_kubectl
	command -v rsvg-convert >/dev/null || { echo "rsvg-convert is missing (librsvg2-bin)"; false; }
	sim_start --time-scale 20 --catalog "$repo/data"
	sed 's|^catalog:.*|catalog: "'"$repo"'/data"|' "$SIM_CONFIG" >"$F/nap.yaml"
	sim_kubectl apply --server-side --force-conflicts -f "$repo/deploy/crds/" >"$F/apply.log"
	sim_kubectl apply -f "$repo/deploy/nodepools/default.yaml" >>"$F/apply.log"
	"$NAP_BIN/nap-watch" --kubeconfig "$SIM_KUBECONFIG" >"$F/rec.ndjson" 2>"$F/watch.err" &
	WATCH_PID=$!
	"$repo/pipelines/nap" --config "$F/nap.yaml" --time-scale 20 \
	    >"$F/loop.out" 2>"$F/loop.err" </dev/null 3>&- &
	LOOP_PID=$!
	sim_poll 60 grep -q '"type":"SYNCED"' "$F/loop.out"
	sim_kubectl create deployment web --image=nginx --replicas=30 >>"$F/apply.log"
	sim_kubectl set resources deployment web --requests=cpu=700m,memory=1Gi >>"$F/apply.log"
	sim_poll 120 all_running
	kill -TERM "$WATCH_PID"
	wait "$WATCH_PID" || :
	"$NAP_BIN/nap-cost" --catalog "$repo/data" --region eastus --ndjson \
	    --svg "$F/run.svg" <"$F/rec.ndjson" >"$F/cost.ndjson"
	"$NAP_BIN/nap-cost" --catalog "$repo/data" --region eastus <"$F/rec.ndjson" >&3
	got=$(tail -n 1 "$F/cost.ndjson" | jq .usdPerHour)
	# the sum of the P lines' prices of each NodeClaim's size and capacity type
	want=$(sim_kubectl get nodeclaims -o json | jq -r '.items[].metadata.labels
	    | [.["node.kubernetes.io/instance-type"], .["karpenter.sh/capacity-type"]] | @tsv' |
	    awk -F'\t' 'NR == FNR { ct[NR] = $2; sz[NR] = $1; n = NR; next }
		$1 == "P" && $2 == "eastus" { od[$3] = $4; sp[$3] = $5 }
		END { for (i = 1; i <= n; i++) t += ct[i] == "spot" ? sp[sz[i]] : od[sz[i]]
		      printf "%.6f", t }' - "$repo/data/catalog.tsv")
	echo "nap-cost $got, catalog $want" >&3
	near "$got" "$want"
	[ "$(tail -n 1 "$F/cost.ndjson" | jq '.pods')" -eq 30 ]
	[ "$(tail -n 1 "$F/cost.ndjson" | jq '.ratio >= 1')" = true ]
	[ "$(jq -s 'length' "$F/cost.ndjson")" -ge 2 ]
	rsvg-convert -o "$F/run.png" "$F/run.svg"
	[ -s "$F/run.png" ]
}

all_running() {
	[ "$(sim_kubectl get pods -l app=web -o json |
	    jq '[.items[] | select(.status.phase == "Running")] | length')" -eq 30 ]
}
