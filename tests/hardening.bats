#!/usr/bin/env bats
# Hardening against a careless operator and a hostile cluster (issue 12,
# defects 7-10), live against nap-sim: garbage collection never deletes on a
# stream that did not list NodeClaims, Kubernetes 429s are retried and a
# restart repairs what they left undone, a bad list item is skipped rather
# than retried forever, and loose file modes and open listeners are refused.

load helpers/sim

SCALE=50
SUB=00000000-0000-0000-0000-000000000000

setup() {
	REPO=$BATS_TEST_DIRNAME/..
	OUT=$BATS_TEST_TMPDIR/out.ndjson
	ERR=$BATS_TEST_TMPDIR/err
	LPID=
	WPID=
}

teardown() {
	[ -n "$LPID" ] && kill -KILL "$LPID" 2>/dev/null
	[ -n "$WPID" ] && kill -KILL "$WPID" 2>/dev/null
	exec 7>&- 2>/dev/null || :
	sim_stop || :
}

start_sim() {
	sim_start --catalog "$REPO/data" --time-scale "$SCALE" "$@"
	RG=$(sed -n 's/^ *resourceGroup: //p' "$SIM_CONFIG")
	sim_kubectl apply -f - >/dev/null <<-'EOF'
	apiVersion: karpenter.azure.com/v1beta1
	kind: AKSNodeClass
	metadata:
	  name: default
	spec:
	  imageFamily: Ubuntu
	EOF
}

# req NAME: a LaunchRequest for one Standard_D2s_v3 NodeClaim.
req() {
	jq -cn --arg n "$1" '{type: "LaunchRequest", pods: ["default/p-\($n)"], price: 0.1,
	  nodeClaim: {apiVersion: "karpenter.sh/v1", kind: "NodeClaim",
	    metadata: {name: $n, labels: {"karpenter.sh/nodepool": "default"}},
	    spec: {requirements: [
	        {key: "node.kubernetes.io/instance-type", operator: "In", values: ["Standard_D2s_v3"]},
	        {key: "topology.kubernetes.io/zone", operator: "In", values: ["eastus-1"]},
	        {key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"]}],
	      resources: {requests: {cpu: "500m"}},
	      nodeClassRef: {group: "karpenter.azure.com", kind: "AKSNodeClass", name: "default"}}}}'
}

launch() {
	"$NAP_BIN/nap-launch" --config "$SIM_CONFIG" --time-scale "$SCALE" "$@"
}

arm_token() {
	curl -sS --cacert "$SIM_CA" -H 'Metadata: true' \
	    "$SIM_ARM_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F" |
	    jq -r .access_token
}

# The names of the VMs ARM has, one a line.
vm_names() {
	curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $(arm_token)" \
	    "$SIM_ARM_URL/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01" |
	    jq -r '.value[].name'
}

has_vm() { vm_names | grep -qx "$1"; }
lacks_vm() { ! vm_names | grep -qx "$1"; }

# orphan NAME: a NIC and a VM tagged as nap-launch tags its own for this
# cluster, with no NodeClaim: what garbage collection exists to remove.
orphan() {
	local nic="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Network/networkInterfaces/$1"
	local tags subnet tok
	tok=$(arm_token)
	subnet=$(sed -n 's/^ *subnetID: //p' "$SIM_CONFIG")
	tags='{"karpenter.azure.com_cluster":"nap-sim","karpenter.sh_nodepool":"default"}'
	curl -sS --fail --cacert "$SIM_CA" -H "Authorization: Bearer $tok" -o /dev/null -X PUT \
	    -H 'Content-Type: application/json' "$SIM_ARM_URL$nic?api-version=2024-05-01" \
	    -d "$(jq -cn --arg s "$subnet" --argjson t "$tags" '{location: "eastus", tags: $t,
	      properties: {ipConfigurations: [{name: "ipconfig1", properties: {primary: true, subnet: {id: $s}}}]}}')"
	curl -sS --fail --cacert "$SIM_CA" -H "Authorization: Bearer $tok" -o /dev/null -X PUT \
	    -H 'Content-Type: application/json' \
	    "$SIM_ARM_URL/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/virtualMachines/$1?api-version=2024-07-01" \
	    -d "$(jq -cn --arg n "$1" --arg nic "$nic" --argjson t "$tags" '{location: "eastus", tags: $t,
	      zones: ["1"], properties: {hardwareProfile: {vmSize: "Standard_D2s_v3"},
	        osProfile: {computerName: $n, adminUsername: "azureuser"},
	        networkProfile: {networkInterfaces: [{id: $nic, properties: {primary: true, deleteOption: "Delete"}}]}}}')"
}

nodeclaims_with_provider() {
	[ "$(sim_kubectl get nodeclaims -o json | jq '[.items[] | select(.status.providerID)] | length')" -eq "$1" ]
}

# ---- 9: garbage collection needs a NodeClaim list ----

@test "nap-watch's SYNCED names the kinds it listed" {
	start_sim
	run "$NAP_BIN/nap-watch" --kubeconfig "$SIM_KUBECONFIG" --once --kinds pods,nodes
	[ "$status" -eq 0 ]
	[ "${lines[${#lines[@]}-1]}" = '{"type":"SYNCED","kinds":["pods","nodes"]}' ]
}

@test "a stream without NodeClaims collects nothing: a warning, once, and every VM kept" {
	start_sim
	req live-1 | launch >"$OUT" 2>"$ERR"
	sim_poll 30 nodeclaims_with_provider 1
	orphan aks-orphan-1
	mkfifo "$BATS_TEST_TMPDIR/state"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --kinds pods,nodes >"$BATS_TEST_TMPDIR/state" \
	    2>"$BATS_TEST_TMPDIR/watch.err" &
	WPID=$!
	launch <"$BATS_TEST_TMPDIR/state" >"$OUT" 2>"$ERR" &
	LPID=$!
	sim_poll 30 grep -q 'SYNCED does not list nodeclaims' "$ERR"
	# 12 s is five garbage-collection periods and twice the VM grace at 50x:
	# without the rule the orphan (and, with it, the live VM) would be gone.
	sleep 12
	has_vm aks-live-1
	has_vm aks-orphan-1
	[ "$(grep -c 'SYNCED does not list nodeclaims' "$ERR")" -eq 1 ]
	! grep -q 'belongs to no nodeclaim' "$ERR"
}

@test "garbage collection asks the API server before deleting: a claim missing from the stream keeps its VM" {
	start_sim
	req live-2 | launch >"$OUT" 2>"$ERR"
	sim_poll 30 nodeclaims_with_provider 1
	orphan aks-orphan-2
	mkfifo "$BATS_TEST_TMPDIR/state"
	# The stream says it covers NodeClaims but lost them all on the way.
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" 2>"$BATS_TEST_TMPDIR/watch.err" |
	    grep --line-buffered -v '"kind":"NodeClaim"' >"$BATS_TEST_TMPDIR/state" &
	WPID=$!
	launch <"$BATS_TEST_TMPDIR/state" >"$OUT" 2>"$ERR" &
	LPID=$!
	sim_poll 90 lacks_vm aks-orphan-2
	grep -q 'vm aks-orphan-2 belongs to no nodeclaim' "$ERR"
	has_vm aks-live-2
	sim_kubectl get nodeclaim live-2 >/dev/null
}

# ---- 8: Kubernetes 429s are retried, and a restart repairs the Node ----

faults() {
	curl -sS --fail --cacert "$SIM_CA" -X POST -d "$1" "$SIM_ARM_URL/nap-sim/faults" >/dev/null
}

# initialized_nodes N: N Nodes carry karpenter.sh/initialized=true.
initialized_nodes() {
	[ "$(sim_kubectl get nodes -l karpenter.sh/initialized=true -o name 2>/dev/null | wc -l)" -eq "$1" ]
}

initialized_claims() {
	[ "$(sim_kubectl get nodeclaims -o json 2>/dev/null | jq '[.items[] |
	    select(any(.status.conditions[]?; .type == "Initialized" and .status == "True"))] | length')" -eq "$1" ]
}

start_loop() {
	mkfifo "$BATS_TEST_TMPDIR/state" 2>/dev/null || :
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$BATS_TEST_TMPDIR/state" \
	    2>>"$BATS_TEST_TMPDIR/watch.err" &
	WPID=$!
	launch --input "$BATS_TEST_TMPDIR/in" <"$BATS_TEST_TMPDIR/state" >>"$OUT" 2>>"$ERR" &
	LPID=$!
}

@test "under Kubernetes 429s every NodeClaim is created, and every Node labelled initialized" {
	start_sim
	faults '{"k8s":{"throttleRate":0.3}}'
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 7<>"$BATS_TEST_TMPDIR/in"
	start_loop
	for n in t-1 t-2 t-3 t-4; do req "$n" >&7; done
	sim_poll 120 initialized_claims 4
	sim_poll 60 initialized_nodes 4
	! grep -q 'create nodeclaim' "$ERR"
}

@test "a restart puts back the initialized label a Node lacks though its NodeClaim is Initialized" {
	start_sim
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 7<>"$BATS_TEST_TMPDIR/in"
	start_loop
	req r-1 >&7
	sim_poll 60 initialized_nodes 1
	kill -KILL "$LPID" "$WPID"
	wait "$LPID" "$WPID" 2>/dev/null || :
	sim_kubectl label node aks-r-1 karpenter.sh/initialized- >/dev/null
	initialized_nodes 0
	initialized_claims 1
	start_loop
	sim_poll 60 initialized_nodes 1
	grep -q 'node aks-r-1: karpenter.sh/initialized label restored' "$ERR"
}
