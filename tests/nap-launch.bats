#!/usr/bin/env bats
# nap-launch against nap-sim: LaunchRequests become NodeClaims, NICs, VMs and
# Ready Nodes; Azure's refusals (capacity, quota, throttling) are handled as
# the Azure provider handles them; a killed launcher resumes without a second
# VM; unregistered VMs go after the registration timeout; 401 exits 77.
# Simulated time runs 50x faster in nap-sim and in nap-launch alike.

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
	if [ -n "$LPID" ]; then
		kill -KILL "$LPID" 2>/dev/null || :
	fi
	if [ -n "$WPID" ]; then
		kill -KILL "$WPID" 2>/dev/null || :
	fi
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
	  osDiskSizeGB: 64
	  tags:
	    team: infra
	EOF
}

# req NAME TYPES [ZONES] [CAPACITY-TYPES]: one LaunchRequest record.
req() {
	local name=$1 types=$2 zones=${3:-eastus-1,eastus-2,eastus-3} cts=${4:-on-demand}
	jq -cn --arg n "$name" --arg t "$types" --arg z "$zones" --arg c "$cts" '{
	  type: "LaunchRequest", pods: ["default/p-\($n)"], price: 0.1,
	  nodeClaim: {apiVersion: "karpenter.sh/v1", kind: "NodeClaim",
	    metadata: {name: $n, labels: {"karpenter.sh/nodepool": "default", team: "a"}},
	    spec: {
	      requirements: [
	        {key: "node.kubernetes.io/instance-type", operator: "In", values: ($t | split(","))},
	        {key: "topology.kubernetes.io/zone", operator: "In", values: ($z | split(","))},
	        {key: "karpenter.sh/capacity-type", operator: "In", values: ($c | split(","))}],
	      taints: [{key: "dedicated", value: "batch", effect: "NoSchedule"}],
	      startupTaints: [{key: "example.com/agent", effect: "NoSchedule"}],
	      resources: {requests: {cpu: "500m", memory: "1Gi"}},
	      nodeClassRef: {group: "karpenter.azure.com", kind: "AKSNodeClass", name: "default"}}}}'
}

launch() {
	"$NAP_BIN/nap-launch" --config "$SIM_CONFIG" --time-scale "$SCALE" "$@"
}

# start_launch INPUT [ARGS...]: nap-launch in the background reading INPUT;
# LPID is nap-launch itself, so teardown can stop it.
start_launch() {
	local in=$1
	shift
	"$NAP_BIN/nap-launch" --config "$SIM_CONFIG" --time-scale "$SCALE" "$@" \
	    <"$in" >"$OUT" 2>"$ERR" &
	LPID=$!
}

# start_watch: nap-watch into the FIFO $STATE (for start_launch "$STATE").
start_watch() {
	STATE=$BATS_TEST_TMPDIR/state
	[ -p "$STATE" ] || mkfifo "$STATE"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$STATE" 2>"$BATS_TEST_TMPDIR/watch.err" &
	WPID=$!
}

arm_token() {
	curl -sS --cacert "$SIM_CA" -H 'Metadata: true' \
	    "$SIM_ARM_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F&key=$SIM_TOKEN" |
	    jq -r .access_token
}

# The VMs ARM has, one "name size zone priority state" line each.
vms() {
	curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $(arm_token)" \
	    "$SIM_ARM_URL/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01" |
	    jq -r '.value[] | "\(.name) \(.properties.hardwareProfile.vmSize) \((.zones // ["0"])[0]) \(.properties.priority) \(.properties.provisioningState)"'
}

records() {
	jq -c --arg t "$1" 'select(.type == $t)' "$OUT"
}

# has TYPE JQ-FILTER: some record of TYPE matches (jq -e alone passes on no input).
has() {
	[ "$(jq -c --arg t "$1" "select(.type == \$t) | select($2)" "$OUT" | wc -l)" -ge 1 ]
}

count_records() {
	[ "$(records "$1" | wc -l)" -ge "$2" ]
}

nodeclaims_with_provider() {
	[ "$(sim_kubectl get nodeclaims -o json | jq '[.items[] | select(.status.providerID)] | length')" -eq "$1" ]
}

nodeclaims_count() {
	[ "$(sim_kubectl get nodeclaims -o name | wc -l)" -eq "$1" ]
}

no_nodeclaims() {
	[ "$(sim_kubectl get nodeclaims -o json | jq '.items | length')" -eq 0 ]
}

no_vms() {
	[ -z "$(vms)" ]
}

@test "nap-launch answers a bad flag with 64 and its usage" {
	run "$NAP_BIN/nap-launch" --no-such-flag
	[ "$status" -eq 64 ]
	[[ "$output" == *"usage: nap-launch"* ]]
}

@test "nap-launch without a usable configuration exits 78" {
	printf 'cluster:\n  name: x\n' >"$BATS_TEST_TMPDIR/nap.yaml"
	run "$NAP_BIN/nap-launch" --config "$BATS_TEST_TMPDIR/nap.yaml" </dev/null
	[ "$status" -eq 78 ]
}

@test "a request becomes a NodeClaim, a VM and a Ready Node with its labels, taints and providerID" {
	start_sim
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 7<>"$BATS_TEST_TMPDIR/in"
	start_watch
	start_launch "$STATE" --input "$BATS_TEST_TMPDIR/in"
	req web-1 Standard_D2s_v3 >&7
	sim_poll 60 count_records Initialized 1
	has Launched '.nodeClaim == "web-1" and .instanceType == "Standard_D2s_v3"
	    and .capacityType == "on-demand" and (.providerID | test("^azure:///subscriptions/.*/resourceGroups/mc_nap-sim_nap-sim_eastus/providers/Microsoft.Compute/virtualMachines/aks-web-1$"))'
	has Registered '.node == "aks-web-1"'
	node=$(sim_kubectl get node aks-web-1 -o json)
	echo "$node" | jq -e '.metadata.labels["team"] == "a" and
	    .metadata.labels["karpenter.sh/nodepool"] == "default" and
	    .metadata.labels["karpenter.sh/registered"] == "true" and
	    .metadata.labels["karpenter.sh/initialized"] == "true" and
	    .metadata.labels["node.kubernetes.io/instance-type"] == "Standard_D2s_v3" and
	    .metadata.labels["karpenter.azure.com/sku-cpu"] == "2"'
	echo "$node" | jq -e '[.spec.taints[]?.key] | index("dedicated") != null and
	    index("karpenter.sh/unregistered") == null and index("example.com/agent") == null'
	echo "$node" | jq -e '.metadata.ownerReferences[0].kind == "NodeClaim"'
	nc=$(sim_kubectl get nodeclaim web-1 -o json)
	echo "$nc" | jq -e --arg p "$(echo "$node" | jq -r .spec.providerID)" '
	    .status.providerID == $p and (.metadata.finalizers | index("karpenter.sh/termination")) != null and
	    ([.status.conditions[] | select(.status == "True") | .type] | sort) ==
	        ["Initialized", "Launched", "Ready", "Registered"] and
	    .status.capacity.cpu == "2" and (.status.imageID | test("2204gen2containerd")) and
	    .metadata.labels["node.kubernetes.io/instance-type"] == "Standard_D2s_v3" and
	    .metadata.labels["karpenter.azure.com/sku-family"] == "D" and
	    .metadata.labels["karpenter.sh/capacity-type"] == "on-demand"'
	run vms
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	[[ "$output" == "aks-web-1 Standard_D2s_v3 "*" Regular Succeeded" ]]
}

# arm_status METHOD PATH: the HTTP status ARM answers (PATH from /subscriptions).
arm_status() {
	curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $(arm_token)" -o /dev/null \
	    -w '%{http_code}' -X "$1" "$SIM_ARM_URL$2"
}

# Termination is nap-disrupt's (it drains first): nap-launch alone must
# leave a deleted claim and node Terminating, finalizers and VM in place.
@test "kubectl delete nodeclaim and node leave the VM while both are Terminating and nap-launch runs alone" {
	start_sim
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 7<>"$BATS_TEST_TMPDIR/in"
	start_watch
	start_launch "$STATE" --input "$BATS_TEST_TMPDIR/in" -v
	req term-1 Standard_D2s_v3 >&7
	sim_poll 60 count_records Initialized 1
	sim_kubectl get node aks-term-1 -o json |
	    jqe '.metadata.finalizers | index("karpenter.sh/termination") != null'
	sim_kubectl delete nodeclaim term-1 --wait=false
	sim_kubectl delete node aks-term-1 --wait=false
	sim_poll 30 grep -q 'nodeclaim term-1: being deleted: left to nap-disrupt' "$ERR"
	# A record after the let-go: the launcher has read past both deletions.
	req after-1 Standard_D2s_v3 >&7
	sim_poll 60 count_records Initialized 2
	vms | grep -q '^aks-term-1 .* Succeeded$'
	sim_kubectl get nodeclaim term-1 -o json | jqe '.metadata.deletionTimestamp != null and
	    (.metadata.finalizers | index("karpenter.sh/termination")) != null'
	sim_kubectl get node aks-term-1 -o json | jqe '.metadata.deletionTimestamp != null and
	    (.metadata.finalizers | index("karpenter.sh/termination")) != null'
	# The OS disk is there too, attached, so Azure will not delete it on its own.
	disk="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/disks/aks-term-1?api-version=2024-03-02"
	[ "$(arm_status DELETE "$disk")" = 409 ]
	! grep -q 'delete vm aks-term-1\|terminated' "$ERR"
}

# The AKSNodeClass status nap-upgrade keeps: each size gets the first image
# its arch and Hyper-V generation match, at that exact version, and the
# class's Kubernetes version rather than the API server's.
@test "a class's status.images and status.kubernetesVersion choose the image version and the kubelet's" {
	start_sim
	local cig=/CommunityGalleries/AKSUbuntu-38d80f77-467a-481f-a8d4-09b6d4220bd2/images
	sim_kubectl patch aksnodeclass default --subresource=status --type merge -p "$(jq -cn --arg c "$cig" '
	    def img(d; arch; gen): {id: "\($c)/\(d)/versions/202511.07.0", requirements: ([
	        {key: "kubernetes.io/arch", operator: "In", values: [arch]}] +
	        if gen then [{key: "karpenter.azure.com/sku-hyperv-generation", operator: "In", values: [gen]}] else [] end)};
	    {status: {kubernetesVersion: "1.31.7", images: [img("2204gen2arm64containerd"; "arm64"; null),
	      img("2204gen2containerd"; "amd64"; "2"), img("2204containerd"; "amd64"; "1")]}}')" >/dev/null
	req img-1 Standard_D2s_v3 | launch >"$OUT" 2>"$ERR"
	want="$cig/2204gen2containerd/versions/202511.07.0"
	has Launched ".nodeClaim == \"img-1\" and .imageID == \"$want\""
	sim_poll 30 nodeclaims_with_provider 1
	[ "$(sim_kubectl get nodeclaim img-1 -o jsonpath='{.status.imageID}')" = "$want" ]
	[ "$(curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $(arm_token)" \
	    "$SIM_ARM_URL/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/virtualMachines/aks-img-1?api-version=2024-07-01" |
	    jq -r .properties.storageProfile.imageReference.communityGalleryImageId)" = "$want" ]
	sim_poll 60 sim_kubectl get node aks-img-1
	sim_poll 30 kubelet_version_is aks-img-1 v1.31.7
}

kubelet_version_is() {
	[ "$(sim_kubectl get node "$1" -o jsonpath='{.status.nodeInfo.kubeletVersion}')" = "$2" ]
}

@test "a VM of the cluster whose NodeClaim is gone is garbage-collected" {
	start_sim
	req orphan-1 Standard_D2s_v3 | launch >"$OUT" 2>"$ERR"
	sim_poll 20 nodeclaims_with_provider 1
	sim_kubectl patch nodeclaim orphan-1 --type merge -p '{"metadata":{"finalizers":null}}'
	sim_kubectl delete nodeclaim orphan-1
	[ -n "$(vms)" ]
	start_watch
	start_launch "$STATE"
	sim_poll 60 no_vms
	grep -q 'vm aks-orphan-1 belongs to no nodeclaim' "$ERR"
}

# aput PATH BODY: PUT to ARM; prints the HTTP status.
aput() {
	curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $(arm_token)" -o /dev/null \
	    -w '%{http_code}' -X PUT -H 'Content-Type: application/json' -d "$2" "$SIM_ARM_URL$1"
}

# names KIND: every name of an ARM list (virtualMachines or networkInterfaces),
# following nextLink, one a line.
names() {
	local url api=2024-07-01 prov=Microsoft.Compute tok
	if [ "$1" = networkInterfaces ]; then
		api=2024-05-01 prov=Microsoft.Network
	fi
	url="$SIM_ARM_URL/subscriptions/$SUB/resourceGroups/$RG/providers/$prov/$1?api-version=$api"
	tok=$(arm_token)
	while [ -n "$url" ]; do
		body=$(curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $tok" "$url") || return 1
		echo "$body" | jq -e 'has("value")' >/dev/null || return 1
		echo "$body" | jq -r '.value[].name'
		url=$(echo "$body" | jq -r '.nextLink // empty')
	done
}

# debris NAME CLUSTER [VM]: a NIC (and a VM on it when VM is given) tagged
# as nap-launch tags its own for CLUSTER, made behind its back.
debris() {
	local nic="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Network/networkInterfaces/$1"
	local tags subnet
	subnet=$(sed -n 's/^ *subnetID: //p' "$SIM_CONFIG")
	tags=$(jq -cn --arg c "$2" '{"karpenter.azure.com_cluster": $c, "karpenter.sh_nodepool": "default"}')
	[ "$(aput "$nic?api-version=2024-05-01" "$(jq -cn --arg s "$subnet" --argjson t "$tags" \
	    '{location: "eastus", tags: $t, properties: {ipConfigurations: [{name: "ipconfig1",
	      properties: {primary: true, subnet: {id: $s}}}]}}')")" = 201 ] || return 1
	[ -n "${3:-}" ] || return 0
	[ "$(aput "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/virtualMachines/$1?api-version=2024-07-01" \
	    "$(jq -cn --arg n "$1" --arg nic "$nic" --argjson t "$tags" '{location: "eastus", tags: $t,
	      zones: ["1"], properties: {hardwareProfile: {vmSize: "Standard_D2s_v3"},
	        osProfile: {computerName: $n, adminUsername: "azureuser"},
	        networkProfile: {networkInterfaces: [{id: $nic, properties: {primary: true, deleteOption: "Delete"}}]}}}')")" = 201 ]
}

lacks() {	# KIND NAME: NAME is not in the whole list
	local all
	all=$(names "$1") || return 1
	! grep -qx "$2" <<<"$all"
}

@test "garbage collection reads every page: an orphan VM on the last page and an orphan NIC go, nothing else" {
	start_sim --arm-page-size 2
	req keep-1 Standard_D2s_v3 | launch >"$OUT" 2>"$ERR"
	sim_poll 30 nodeclaims_with_provider 1
	for n in a1 a2 a3 a4; do debris "aks-$n" other-cluster vm; done
	debris aks-zz-orphan nap-sim vm
	debris aks-nic-orphan nap-sim
	debris aks-nic-foreign other-cluster
	run names virtualMachines
	[ "$status" -eq 0 ]
	[ "${lines[${#lines[@]} - 1]}" = aks-zz-orphan ]
	[ "${#lines[@]}" -eq 6 ]
	start_watch
	start_launch "$STATE"
	sim_poll 90 lacks virtualMachines aks-zz-orphan
	sim_poll 90 lacks networkInterfaces aks-nic-orphan
	grep -q 'vm aks-zz-orphan belongs to no nodeclaim' "$ERR"
	grep -q 'nic aks-nic-orphan belongs to no vm and no nodeclaim' "$ERR"
	run names virtualMachines
	[ "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" = "aks-a1 aks-a2 aks-a3 aks-a4 aks-keep-1 " ]
	run names networkInterfaces
	[ "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" = "aks-a1 aks-a2 aks-a3 aks-a4 aks-keep-1 aks-nic-foreign " ]
	sim_kubectl get nodeclaim keep-1 >/dev/null
}

# A VM or NIC of the cluster named for no NodeClaim may be a launch in
# flight whose NodeClaim the watch has not shown yet: garbage collection
# leaves it for 5 minutes (30 s here, at --time-scale 10), then removes it.
@test "garbage collection spares an orphan VM and NIC within the 5-minute grace, then removes them" {
	start_sim
	t0=$(date +%s)
	debris aks-young-vm nap-sim vm
	debris aks-young-nic nap-sim
	start_watch
	start_launch "$STATE" --time-scale 10
	vm_gone="" nic_gone=""
	for _ in $(seq 1 180); do
		if [ -z "$vm_gone" ] && lacks virtualMachines aks-young-vm; then
			vm_gone=$(($(date +%s) - t0))
		fi
		if [ -z "$nic_gone" ] && lacks networkInterfaces aks-young-nic; then
			nic_gone=$(($(date +%s) - t0))
		fi
		if [ -n "$vm_gone" ] && [ -n "$nic_gone" ]; then
			break
		fi
		sleep 0.5
	done
	echo "vm gone after ${vm_gone:-never} s, nic after ${nic_gone:-never} s"
	[ -n "$vm_gone" ]
	[ -n "$nic_gone" ]
	[ "$vm_gone" -ge 20 ]
	[ "$nic_gone" -ge 20 ]
	grep -q 'vm aks-young-vm belongs to no nodeclaim' "$ERR"
	grep -q 'nic aks-young-nic belongs to no vm and no nodeclaim' "$ERR"
}

@test "a capacity error on the cheapest offering falls back to the next and is announced" {
	start_sim --fault '{"capacity":[{"size":"Standard_D2s_v3","zone":"1","available":0,"error":"ZonalAllocationFailed"}]}'
	mkfifo "$BATS_TEST_TMPDIR/fb"
	cat "$BATS_TEST_TMPDIR/fb" >"$BATS_TEST_TMPDIR/fb.out" &
	WPID=$!
	req cap-1 Standard_D2s_v3,Standard_D2s_v5 eastus-1,eastus-2 |
	    launch --feedback "$BATS_TEST_TMPDIR/fb" >"$OUT" 2>"$ERR"
	records OfferingUnavailable | jq -se 'any(.[]; .instanceType == "Standard_D2s_v3" and
	    .zone == "eastus-1" and .code == "ZonalAllocationFailed" and .reason == "ZonalAllocationFailure")'
	has Launched '.nodeClaim == "cap-1" and
	    (.instanceType != "Standard_D2s_v3" or .zone != "eastus-1")'
	sim_poll 10 test -s "$BATS_TEST_TMPDIR/fb.out"
	jq -se 'any(.[]; .type == "OfferingUnavailable" and .instanceType == "Standard_D2s_v3")' \
	    "$BATS_TEST_TMPDIR/fb.out"
	run vms
	echo "$output"
	[ "$(echo "$output" | wc -l)" -eq 1 ]
	[[ "$output" == *Succeeded ]]
}

@test "the cheapest offering is tried first, wherever the request lists it" {
	start_sim
	req cheap-1 Standard_D4s_v5,Standard_D2s_v5 eastus-1 | launch >"$OUT" 2>"$ERR"
	has Launched '.nodeClaim == "cheap-1" and .instanceType == "Standard_D2s_v5"'
}

# The refusal comes in the PUT's answer here (the test above has it in the
# long-running operation): both paths go on to the next offering.
@test "an offering Azure refused for capacity is not tried again while it is cached" {
	start_sim --fault '{"capacity":[{"size":"Standard_D2s_v3","zone":"1","available":0,"error":"ZonalAllocationFailed","async":false}]}'
	mkfifo "$BATS_TEST_TMPDIR/in"
	start_launch "$BATS_TEST_TMPDIR/in"
	exec 7>"$BATS_TEST_TMPDIR/in"
	req again-1 Standard_D2s_v3 eastus-1,eastus-2 >&7
	sim_poll 30 has Launched '.nodeClaim == "again-1"'
	req again-2 Standard_D2s_v3 eastus-1,eastus-2 >&7
	sim_poll 30 has Launched '.nodeClaim == "again-2"'
	exec 7>&-
	grep 'create vm' "$ERR" || :
	[ "$(grep -c 'create vm .*Standard_D2s_v3 eastus-1' "$ERR")" -eq 1 ]
}

@test "nap-launch is not held up by a feedback FIFO nobody reads" {
	start_sim
	mkfifo "$BATS_TEST_TMPDIR/fb"
	req lonely-1 Standard_D2s_v3 | launch --feedback "$BATS_TEST_TMPDIR/fb" >"$OUT" 2>"$ERR"
	count_records Launched 1
}

@test "a family quota blocks the family; another family launches" {
	start_sim --fault '{"quotas":{"standardDSv3Family":0}}'
	req q-1 Standard_D2s_v3,Standard_D4s_v3,Standard_D2s_v5 eastus-1 | launch >"$OUT" 2>"$ERR"
	records OfferingUnavailable | jq -se 'any(.[]; .instanceType == "Standard_D2s_v3" and
	    .reason == "SubscriptionQuotaReached") and any(.[]; .instanceType == "Standard_D4s_v3")'
	has Launched '.instanceType == "Standard_D2s_v5"'
	# D4s_v3 was never tried: the family block ruled it out without a call.
	run grep -c 'create vm aks-q-1 (Standard_D4s_v3' "$ERR"
	[ "$output" = 0 ]
}

@test "with no offering left the NodeClaim is marked not launched and deleted" {
	start_sim --fault '{"quotas":{"standardDSv3Family":0}}'
	req q-2 Standard_D2s_v3 eastus-1 | launch >"$OUT" 2>"$ERR"
	has LaunchFailed '.nodeClaim == "q-2" and .reason == "SubscriptionQuotaReached"
	    and .code == "OperationNotAllowed"'
	[ -z "$(records Launched)" ]
	sim_poll 20 no_nodeclaims
	no_vms
	run curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $(arm_token)" \
	    "$SIM_ARM_URL/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Network/networkInterfaces/aks-q-2?api-version=2024-05-01"
	[[ "$output" == *ResourceNotFound* ]]
}

@test "a claim that failed is launched again when asked again under the same name" {
	start_sim --fault '{"quotas":{"standardDSv3Family":0}}'
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 7<>"$BATS_TEST_TMPDIR/in"
	start_launch "$BATS_TEST_TMPDIR/in"
	req again-1 Standard_D2s_v3 eastus-1 >&7
	sim_poll 20 count_records LaunchFailed 1
	sim_poll 20 no_nodeclaims
	req again-1 Standard_D2s_v3,Standard_D2s_v5 eastus-1 >&7
	sim_poll 20 count_records Launched 1
	has Launched '.nodeClaim == "again-1" and .instanceType == "Standard_D2s_v5"'
}

@test "a 429 storm slows launches down but every one completes" {
	start_sim --fault '{"throttle":{"rate":0.5,"retryAfter":5}}'
	for i in 1 2 3 4 5 6; do req "storm-$i" Standard_D2s_v3; done |
	    NAP_LAUNCH_STATS=1 launch >"$OUT" 2>"$ERR"
	[ "$(records Launched | wc -l)" -eq 6 ]
	[ -z "$(records LaunchFailed)" ]
	grep -Eq 'arm_throttled=[1-9]' "$ERR"
	sim_acurl /nap-sim/faults -X POST -H 'Content-Type: application/json' -d '{"reset":true}'
	[ "$(vms | wc -l)" -eq 6 ]
}

@test "server errors (503) are retried with backoff until every launch completes" {
	start_sim --fault '{"errors":{"rate":0.15,"status":503}}'
	for i in 1 2 3 4; do req "flaky-$i" Standard_D2s_v3; done |
	    NAP_LAUNCH_STATS=1 launch >"$OUT" 2>"$ERR"
	[ "$(records Launched | wc -l)" -eq 4 ]
	[ -z "$(records LaunchFailed)" ]
	sim_acurl /nap-sim/faults -X POST -H 'Content-Type: application/json' -d '{"reset":true}'
	[ "$(vms | wc -l)" -eq 4 ]
}

@test "kill -9 during launches, then a restart, leaves exactly one VM per NodeClaim" {
	start_sim --fault '{"latency":{"seconds":0.4}}'
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 7<>"$BATS_TEST_TMPDIR/in"
	start_launch "$BATS_TEST_TMPDIR/in"
	for i in 1 2 3 4; do req "crash-$i" Standard_D2s_v3,Standard_D2s_v5; done >&7
	sim_poll 30 nodeclaims_count 4
	kill -KILL "$LPID"
	wait "$LPID" 2>/dev/null || :
	LPID=
	exec 7>&-
	start_watch
	start_launch "$STATE"
	sim_poll 60 nodeclaims_with_provider 4 || {
		cat "$ERR" "$BATS_TEST_TMPDIR/watch.err"
		sim_kubectl get nodeclaims -o json | jq -c '.items[] | [.metadata.name, .status.providerID]'
		vms
		false
	}
	run vms
	echo "$output"
	[ "$(echo "$output" | wc -l)" -eq 4 ]
	[ "$(echo "$output" | awk '{print $1}' | sort -u | wc -l)" -eq 4 ]
	for i in 1 2 3 4; do echo "$output" | grep -q "^aks-crash-$i "; done
}

@test "a VM whose node never registers is removed after the registration timeout" {
	start_sim --world kubelet=false
	mkfifo "$BATS_TEST_TMPDIR/in"
	exec 7<>"$BATS_TEST_TMPDIR/in"
	start_launch "$BATS_TEST_TMPDIR/in" --registration-timeout 100s
	req late-1 Standard_D2s_v3 >&7
	sim_poll 20 count_records Launched 1
	[ -n "$(vms)" ]
	sim_poll 30 count_records LaunchFailed 1
	has LaunchFailed '.nodeClaim == "late-1" and .reason == "RegistrationTimeout"'
	sim_poll 30 no_vms
	sim_poll 30 no_nodeclaims
	[ "$(arm_status GET "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Network/networkInterfaces/aks-late-1?api-version=2024-05-01")" = 404 ]
	[ "$(arm_status GET "/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/disks/aks-late-1?api-version=2024-03-02")" = 404 ]
}

@test "a credential Azure refuses (401) ends nap-launch with 77 and says why" {
	start_sim --world token-lifetime=0
	req auth-1 Standard_D2s_v3 >"$BATS_TEST_TMPDIR/req"
	run "$NAP_BIN/nap-launch" --config "$SIM_CONFIG" --time-scale "$SCALE" <"$BATS_TEST_TMPDIR/req"
	[ "$status" -eq 77 ]
	[[ "$output" == *"401"*"credential was refused"* ]]
}

@test "a spot request makes a Spot VM that Azure deletes on eviction, at any price" {
	start_sim
	req spot-1 Standard_D2s_v3 eastus-2 spot | launch >"$OUT" 2>"$ERR"
	has Launched '.capacityType == "spot" and .zone == "eastus-2"'
	[[ "$(vms)" == "aks-spot-1 Standard_D2s_v3 2 Spot Succeeded" ]]
	curl -sS --cacert "$SIM_CA" -H "Authorization: Bearer $(arm_token)" \
	    "$SIM_ARM_URL/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/virtualMachines/aks-spot-1?api-version=2024-07-01" |
	    jq -e '.properties.evictionPolicy == "Delete" and .properties.billingProfile.maxPrice == -1
	        and .tags["karpenter.sh_nodepool"] == "default" and .tags.team == "infra"
	        and .tags["karpenter.azure.com_cluster"] == "nap-sim"
	        and .properties.storageProfile.osDisk.diskSizeGB == 64'
}

@test "an Azure endpoint that cannot be reached ends nap-launch with 69 after retries" {
	start_sim
	sed 's|^\( *armEndpoint:\).*|\1 https://127.0.0.1:1|' "$SIM_CONFIG" >"$BATS_TEST_TMPDIR/nap.yaml"
	req down-1 Standard_D2s_v3 >"$BATS_TEST_TMPDIR/req"
	run "$NAP_BIN/nap-launch" --config "$BATS_TEST_TMPDIR/nap.yaml" --time-scale "$SCALE" \
	    <"$BATS_TEST_TMPDIR/req"
	[ "$status" -eq 69 ]
	[[ "$output" == *"127.0.0.1"* ]]
}

@test "the same request twice makes one NodeClaim and one VM" {
	start_sim
	{ req twice-1 Standard_D2s_v3; req twice-1 Standard_D2s_v3; } | launch >"$OUT" 2>"$ERR"
	req twice-1 Standard_D2s_v3 | launch >>"$OUT" 2>>"$ERR"
	[ "$(vms | wc -l)" -eq 1 ]
	[ "$(sim_kubectl get nodeclaims -o name | wc -l)" -eq 1 ]
}

@test "state records are forwarded untouched and LaunchRequests are consumed" {
	start_sim
	rec='{"type":"SomethingNew","z":1,  "a":[1,2.50,"x\/y"]}'
	out=$( { printf '%s\n' "$rec"; req fw-1 Standard_D2s_v3; } | launch 2>"$ERR")
	[ "$(echo "$out" | head -n 1)" = "$rec" ]
	! echo "$out" | grep -q LaunchRequest
}
