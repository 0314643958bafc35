#!/usr/bin/env bats
# nap-upgrade: the plan over a snapshot (tests/fixtures/nap-upgrade/, two
# NodeClaims, one on an image no longer listed), then one pass at a time
# against nap-sim: the AKSNodeClass status as the provider writes it, the
# Kubernetes version following upgrades only, a new image picked up only in
# the maintenance window, and Drifted NodeClaims.

load helpers/sim

SNAP=$BATS_TEST_DIRNAME/fixtures/nap-upgrade/snapshot.ndjson
CIG=/CommunityGalleries/AKSUbuntu-38d80f77-467a-481f-a8d4-09b6d4220bd2/images

setup() {
	unset KUBECONFIG KUBERNETES_SERVICE_HOST NAP_CONFIG
	WEEKLY=$BATS_TEST_TMPDIR/weekly.yaml
	cat >"$WEEKLY" <<-'EOF'
	upgrade:
	  maintenanceWindow:
	    frequency: Weekly
	    dayOfWeek: Sunday
	    startTime: "02:00"
	    durationHours: 4
	EOF
	chmod 644 "$WEEKLY"
}

teardown() {
	[ -z "${LOOP:-}" ] || stop_roll
	sim_stop
}

# plan [ARGS...]: nap-upgrade --plan over the fixture snapshot, pinned to
# one image version and a Monday noon, as one JSON object.
plan() {
	"$NAP_BIN/nap-upgrade" --plan --kubernetes-version v1.33.2 \
	    --image-version 2204gen2containerd=202512.01.0 --now 2026-12-07T12:00:00Z "$@" <"$SNAP"
}

@test "a usage error exits 64 and names the option" {
	run "$NAP_BIN/nap-upgrade" --image-version 2204gen2containerd </dev/null
	[ "$status" -eq 64 ]
	[[ "$output" == *"--image-version"*"is not def=version"* ]]
	run "$NAP_BIN/nap-upgrade" --plan --now yesterday </dev/null
	[ "$status" -eq 64 ]
	[[ "$output" == *"--now"* ]]
	run "$NAP_BIN/nap-upgrade" --plans </dev/null
	[ "$status" -eq 64 ]
}

@test "--plan prints one UpgradePlan per class and nothing else" {
	run plan --config /dev/null
	[ "$status" -eq 0 ]
	[ "$(jq -s length <<<"$output")" -eq 1 ]
	[ "$(jq -r .type <<<"$output")" = UpgradePlan ]
	[ "$(jq -r .nodeClass <<<"$output")" = default ]
}

@test "with no window known the plan fails open: a full refresh drifts both claims to the new image" {
	run plan --config /dev/null
	[ "$(jq -c .window <<<"$output")" = '{"open":true,"known":false,"schedule":"always open","next":null,"end":null}' ]
	[ "$(jq -r '.images.to[0]' <<<"$output")" = "$CIG/2204gen2containerd/versions/202512.01.0" ]
	[ "$(jq -c '[.drifted[] | "\(.nodeClaim) \(.reason)"]' <<<"$output")" = '["default-aaaaa ImageDrift","default-bbbbb ImageDrift"]' ]
}

@test "outside the window only the claim whose image left the list drifts, and the next window is named" {
	run plan --config "$WEEKLY"
	[ "$(jq -r .window.open <<<"$output")" = false ]
	[ "$(jq -r .window.next <<<"$output")" = 2026-12-13T02:00:00Z ]
	[ "$(jq -r .window.end <<<"$output")" = 2026-12-13T06:00:00Z ]
	[ "$(jq -r '.images.to[0]' <<<"$output")" = "$CIG/2204gen2containerd/versions/202511.07.0" ]
	[ "$(jq -c '[.drifted[].nodeClaim]' <<<"$output")" = '["default-bbbbb"]' ]
}

@test "inside the window the new image is taken and both claims drift" {
	run plan --config "$WEEKLY" --now 2026-12-06T03:00:00Z
	[ "$(jq -r .window.open <<<"$output")" = true ]
	[ "$(jq -r '.images.to[0]' <<<"$output")" = "$CIG/2204gen2containerd/versions/202512.01.0" ]
	[ "$(jq '.drifted | length' <<<"$output")" -eq 2 ]
}

@test "a control-plane upgrade drifts every node by its Kubernetes version first" {
	run "$NAP_BIN/nap-upgrade" --plan --config "$WEEKLY" --kubernetes-version v1.34.0 \
	    --image-version 2204gen2containerd=202512.01.0 --now 2026-12-07T12:00:00Z <"$SNAP"
	[ "$(jq -c .kubernetesVersion <<<"$output")" = '{"from":"1.33.2","to":"1.34.0"}' ]
	[ "$(jq -c '[.drifted[].reason] | unique' <<<"$output")" = '["K8sVersionDrift"]' ]
	[ "$(jq '.drifted | length' <<<"$output")" -eq 2 ]
}

@test "a downgrade of the control plane is ignored" {
	run "$NAP_BIN/nap-upgrade" --plan --config "$WEEKLY" --kubernetes-version v1.32.0 \
	    --image-version 2204gen2containerd=202512.01.0 --now 2026-12-07T12:00:00Z <"$SNAP"
	[ "$(jq -c .kubernetesVersion <<<"$output")" = '{"from":"1.33.2","to":"1.33.2"}' ]
	[ "$(jq -c '[.drifted[].nodeClaim]' <<<"$output")" = '["default-bbbbb"]' ]
}

@test "a change of hash version drifts nothing; a changed hash under the same version does" {
	local snap=$BATS_TEST_TMPDIR/snap.ndjson
	# nap hashes the class itself (hash version nap-v1, lib/drift); claim a
	# at 111 under Karpenter's v3 (another controller's hashing), b at 111
	# under nap-v1, which is not the class's hash.
	jq -c 'if .object.kind == "NodeClaim" then
	        .object.metadata.annotations = {"karpenter.azure.com/aksnodeclass-hash": "111",
	            "karpenter.azure.com/aksnodeclass-hash-version":
	                (if .object.metadata.name == "default-aaaaa" then "v3" else "nap-v1" end)}
	    else . end' "$SNAP" >"$snap"
	run "$NAP_BIN/nap-upgrade" --plan --config "$WEEKLY" --kubernetes-version v1.33.2 \
	    --image-version 2204gen2containerd=202512.01.0 --now 2026-12-07T12:00:00Z <"$snap"
	[ "$(jq -c '[.drifted[] | "\(.nodeClaim) \(.reason)"]' <<<"$output")" = '["default-bbbbb NodeClassDrift"]' ]
}

# ---- against nap-sim ---------------------------------------------------------

start_cluster() {
	sim_start --catalog "$BATS_TEST_DIRNAME/../data" --time-scale 100
	sim_kubectl apply --server-side --force-conflicts -f "$BATS_TEST_DIRNAME/../deploy/crds/" >/dev/null
	sim_kubectl apply -f "$BATS_TEST_DIRNAME/../deploy/nodepools/default.yaml" >/dev/null
}

# pass [ARGS...]: one live pass over a fresh snapshot; records on $BATS_TEST_TMPDIR/out
pass() {
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --once >"$BATS_TEST_TMPDIR/snap" &&
	    "$NAP_BIN/nap-upgrade" --config "${CONFIG:-$SIM_CONFIG}" "$@" <"$BATS_TEST_TMPDIR/snap" \
	    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
}

status_of() {
	sim_kubectl get aksnodeclass default -o json | jq -r ".status$1"
}

@test "one pass writes the class status as the provider does, and kubectl get -o yaml reads the conditions back as it writes them" {
	start_cluster
	sim_kubectl apply -f - >/dev/null <<-'EOF'
	apiVersion: karpenter.azure.com/v1beta1
	kind: AKSNodeClass
	metadata: {name: fips2404}
	spec: {imageFamily: Ubuntu2404, fipsMode: FIPS}
	EOF
	# A class on a subnet nap-sim does not have (its own subnet, renamed).
	subnet=$(sed -n 's/^ *subnetID: //p' "$SIM_CONFIG")
	[[ $subnet == /subscriptions/*/subnets/* ]]
	missing=${subnet%/subnets/*}/subnets/no-such-subnet
	sim_kubectl apply -f - >/dev/null <<-EOF
	apiVersion: karpenter.azure.com/v1beta1
	kind: AKSNodeClass
	metadata: {name: elsewhere}
	spec: {vnetSubnetID: "$missing"}
	EOF
	pass
	[ "$(status_of .kubernetesVersion)" = 1.32.4 ]
	[ "$(status_of '.images | length')" -eq 3 ]
	[ "$(status_of '.images[0].id')" = "$CIG/2204gen2containerd/versions/202512.01.0" ]
	[ "$(status_of '.images[2].requirements[0].values[0]')" = arm64 ]
	for c in KubernetesVersionReady ImagesReady SubnetsReady ValidationSucceeded Ready; do
		[ "$(status_of ".conditions[] | select(.type == \"$c\") | .status")" = True ]
	done
	# read back as kubectl shows it
	conditions default >"$BATS_TEST_TMPDIR/conds"
	diff -u - "$BATS_TEST_TMPDIR/conds" <<-EOF
	KubernetesVersionReady True KubernetesVersionReady '' True
	ImagesReady True ImagesReady '' True
	SubnetsReady True SubnetsReady '' True
	ValidationSucceeded True ValidationSucceeded '' True
	Ready True Ready '' True
	EOF
	# The subnet nap-sim answers 404 for: SubnetsReady False, SubnetNotFound, and Ready False.
	conditions elsewhere >"$BATS_TEST_TMPDIR/conds"
	diff -u - "$BATS_TEST_TMPDIR/conds" <<-EOF || { tail -5 "$BATS_TEST_TMPDIR/err"; false; }
	KubernetesVersionReady True KubernetesVersionReady '' True
	ImagesReady True ImagesReady '' True
	SubnetsReady False SubnetNotFound 'subnet $missing was not found' True
	ValidationSucceeded True ValidationSucceeded '' True
	Ready False UnhealthyDependents 'SubnetsReady=False' True
	EOF
	grep -q "subnet $missing: .*ResourceNotFound" "$BATS_TEST_TMPDIR/err"
	# nap-sim's subnet, as ARM answers it
	sim_arm_login
	sim_acurl "$SIM_SUBNET?$SIM_NV" -H "Authorization: Bearer $SIM_ARM_TOKEN" >"$BATS_TEST_TMPDIR/subnet"
	jq -e --arg id "$SIM_SUBNET" '.id == $id and .name == "aks-subnet" and
	    .properties.provisioningState == "Succeeded" and .properties.addressPrefix == "10.224.0.0/16"' \
	    "$BATS_TEST_TMPDIR/subnet"
	# No FIPS image on 24.04: ImagesReady False, and Ready says which dependent failed.
	conditions fips2404 >"$BATS_TEST_TMPDIR/conds"
	diff -u - "$BATS_TEST_TMPDIR/conds" <<-EOF
	KubernetesVersionReady True KubernetesVersionReady '' True
	ImagesReady False ImagesNotFound 'no image of family Ubuntu2404 has a known version' True
	SubnetsReady True SubnetsReady '' True
	ValidationSucceeded True ValidationSucceeded '' True
	Ready False UnhealthyDependents 'ImagesReady=False' True
	EOF
	# the stream went through unchanged
	cmp "$BATS_TEST_TMPDIR/snap" "$BATS_TEST_TMPDIR/out"
	# and a second pass has nothing to write
	rv=$(sim_kubectl get aksnodeclass default -o jsonpath='{.metadata.resourceVersion}')
	pass
	[ "$(sim_kubectl get aksnodeclass default -o jsonpath='{.metadata.resourceVersion}')" = "$rv" ]
}

@test "the Kubernetes version follows the control plane up, never down" {
	start_cluster
	pass
	[ "$(sim_acurl /nap-sim/version -X POST -d '{"gitVersion":"v1.33.1"}' -o /dev/null -w '%{http_code}')" = 200 ]
	pass
	[ "$(status_of .kubernetesVersion)" = 1.33.1 ]
	sim_acurl /nap-sim/version -X POST -d '{"gitVersion":"v1.32.9"}' >/dev/null
	pass
	[ "$(status_of .kubernetesVersion)" = 1.33.1 ]
}

@test "a new gallery image is taken only inside the maintenance window of the ConfigMap" {
	start_cluster
	pass
	sim_acurl /nap-sim/images -X POST -d '{"definition":"*","version":"202601.05.0"}' >/dev/null
	# A window next week: closed now.
	sim_kubectl create configmap upcoming-maintenance-window -n kube-system \
	    --from-literal=aksManagedNodeOSUpgradeSchedule-start="$(date -u -d '+7 days' +%FT%TZ)" \
	    --from-literal=aksManagedNodeOSUpgradeSchedule-end="$(date -u -d '+7 days 4 hours' +%FT%TZ)" >/dev/null
	pass
	[ "$(status_of '.images[0].id')" = "$CIG/2204gen2containerd/versions/202512.01.0" ]
	# The window moved to now: open.
	sim_kubectl create configmap upcoming-maintenance-window -n kube-system \
	    --from-literal=aksManagedNodeOSUpgradeSchedule-start="$(date -u -d '-1 hour' +%FT%TZ)" \
	    --from-literal=aksManagedNodeOSUpgradeSchedule-end="$(date -u -d '+3 hours' +%FT%TZ)" \
	    --dry-run=client -o yaml | sim_kubectl replace -f - >/dev/null
	pass
	[ "$(status_of '.images[0].id')" = "$CIG/2204gen2containerd/versions/202601.05.0" ]
}

# conditions: type status reason 'message' observedGeneration==generation, one a line, from -o yaml
conditions() {
	sim_kubectl get aksnodeclass "$1" -o yaml | python3 -c '
import re, sys, yaml
o = yaml.safe_load(sys.stdin)
for c in o["status"]["conditions"]:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", c["lastTransitionTime"]), c
    print(c["type"], c["status"], c["reason"], repr(c["message"]), c["observedGeneration"] == o["metadata"]["generation"])'
}

@test "a ConfigMap with one key is an error that keeps the window closed" {
	start_cluster
	pass
	sim_acurl /nap-sim/images -X POST -d '{"definition":"*","version":"202601.05.0"}' >/dev/null
	sim_kubectl create configmap upcoming-maintenance-window -n kube-system \
	    --from-literal=aksManagedNodeOSUpgradeSchedule-start="$(date -u +%FT%TZ)" >/dev/null
	pass
	grep -q 'aksManagedNodeOSUpgradeSchedule-start without aksManagedNodeOSUpgradeSchedule-end' "$BATS_TEST_TMPDIR/err"
	[ "$(status_of '.images[0].id')" = "$CIG/2204gen2containerd/versions/202512.01.0" ]
}

@test "a NodeClaim on an image no longer listed is marked Drifted, and a Drifted record says so" {
	start_cluster
	pass
	sim_kubectl apply -f - >/dev/null <<-'EOF'
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
	    -p '{"status":{"imageID":"'"$CIG"'/2204gen2containerd/versions/202401.01.0"}}' >/dev/null
	pass
	[ "$(sim_kubectl get nodeclaim default-old01 -o jsonpath='{.status.conditions[?(@.type=="Drifted")].reason}')" = ImageDrift ]
	[ "$(jq -c 'select(.type == "Drifted") | [.nodeClaim, .reason, .nodeClass]' "$BATS_TEST_TMPDIR/out")" = '["default-old01","ImageDrift","default"]' ]
	# Back on a listed image: no longer drifted.
	sim_kubectl patch nodeclaim default-old01 --subresource=status --type merge \
	    -p '{"status":{"imageID":"'"$CIG"'/2204gen2containerd/versions/202512.01.0"}}' >/dev/null
	pass
	[ -z "$(sim_kubectl get nodeclaim default-old01 -o jsonpath='{.status.conditions[?(@.type=="Drifted")].reason}')" ]
}

# ---- the roll, through the whole loop ---------------------------------------
# pipelines/nap (nap-watch | nap-upgrade | nap-disrupt | nap-solve |
# nap-launch) against nap-sim at 100x: four nodes of one 1500m pod each
# under a PDB of minAvailable 3, a Drifted budget of 2.

ROLL_SCALE=100

# roll_cluster: the pool, four pods on four nodes, the PDB, the loop running.
roll_cluster() {
	sim_start --catalog "$BATS_TEST_DIRNAME/../data" --time-scale "$ROLL_SCALE" \
	    --kubernetes-version v1.33.2
	sim_kubectl apply --server-side --force-conflicts -f "$BATS_TEST_DIRNAME/../deploy/crds/" >/dev/null
	sim_kubectl apply -f - >/dev/null <<-'EOF'
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
	    budgets:
	    - {nodes: "2", reasons: [Drifted]}
	  template:
	    spec:
	      nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	      requirements:
	      - {key: node.kubernetes.io/instance-type, operator: In, values: [Standard_D2s_v3]}
	EOF
	# The class's status first, so the first nodes start on a listed image.
	pass
	sim_kubectl apply -f - >/dev/null <<-'EOF'
	apiVersion: apps/v1
	kind: Deployment
	metadata: {name: web}
	spec:
	  replicas: 4
	  selector: {matchLabels: {app: web}}
	  template:
	    metadata: {labels: {app: web}}
	    spec:
	      terminationGracePeriodSeconds: 2
	      containers: [{name: c, image: nginx, resources: {requests: {cpu: 1500m}}}]
	EOF
	sim_create_pdb web app=web 3 >/dev/null
	NAP_BIN=$NAP_BIN "$BATS_TEST_DIRNAME/../pipelines/nap" --config "$SIM_CONFIG" \
	    --time-scale "$ROLL_SCALE" --region eastus >"$BATS_TEST_TMPDIR/loop.out" \
	    2>"$BATS_TEST_TMPDIR/loop.err" &
	LOOP=$!
	roll_poll 120 web_running
}

# roll_poll SECONDS CMD...: sim_poll, and on failure the loop's last words.
roll_poll() {
	sim_poll "$@" && return
	echo "# the loop's stderr, last lines:"
	tail -n 30 "$BATS_TEST_TMPDIR/loop.err"
	return 1
}

web_running() {
	[ "$(sim_kubectl get pods -l app=web -o json |
	    jq '[.items[] | select(.status.phase == "Running")] | length')" -eq 4 ]
}

# nodes_at KUBELET IMAGE: one sample of the budget (NodeClaims going at once,
# being replaced or deleting before their VM is terminating, as nap-disrupt
# counts them: <= 2, else a line in breach), then whether every node runs
# kubelet KUBELET on an image ID ending IMAGE, no NodeClaim is going, and
# the pods run.
nodes_at() {
	local claims
	claims=$(sim_kubectl get nodeclaims -o json)
	jq -r '[.items[] | select((.metadata.deletionTimestamp or
	        (.metadata.annotations["nap.dev/replacement"] // "") != "") and
	        (any(.status.conditions[]?; .type == "InstanceTerminating" and .status == "True") | not))] |
	    if length > 2 then "\(length) NodeClaims going at once: \(map(.metadata.name))" else empty end' \
	    <<<"$claims" >>"$BATS_TEST_TMPDIR/breach"
	jq -e --arg i "$2" '.items | length == 4 and all(.[]; (.status.imageID // "" | endswith($i))
	    and (.metadata.deletionTimestamp | not))' <<<"$claims" >/dev/null || return 1
	sim_kubectl get nodes -o json | jqe --arg k "$1" '.items | length == 4 and
	    all(.[]; .status.nodeInfo.kubeletVersion == $k)' >/dev/null || return 1
	web_running
}

stop_roll() {
	kill -TERM "$LOOP" 2>/dev/null || :
	wait "$LOOP" 2>/dev/null || :
	LOOP=
}

roll_safe() {
	[ ! -s "$BATS_TEST_TMPDIR/breach" ] || { cat "$BATS_TEST_TMPDIR/breach"; false; }
	[ "$(sim_stat pdbViolations)" -eq 0 ]
	[ "$(sim_stat vmsDeletedWithPods)" -eq 0 ]
}

@test "a control-plane upgrade, then a new image in the window: each drifts every node and they roll, never more than the budget at once, no PDB broken" {
	roll_cluster
	roll_poll 60 nodes_at v1.33.2 /2204gen2containerd/versions/202512.01.0
	sim_kubectl get nodes -o jsonpath='{.items[*].status.nodeInfo.osImage}' | grep -q '^Ubuntu 22.04'
	gen1=$(claims)
	# The control plane goes to 1.34: every node drifts by its Kubernetes
	# version (checked before its image) and rolls to Ubuntu 24.04.
	sim_acurl /nap-sim/version -X POST -d '{"gitVersion":"v1.34.0"}' >/dev/null
	roll_poll 180 nodes_at v1.34.0 /2404gen2containerd/versions/202512.01.0
	[ "$(drifted K8sVersionDrift)" = "$gen1" ]
	[ "$(jq -c 'select(.type == "Disruption" and .reason == "Drifted")' "$BATS_TEST_TMPDIR/loop.out" | wc -l)" -eq 4 ]
	gen2=$(claims)
	# The nodes say what they were created with.
	[ "$(sim_kubectl get nodes -o json | jq -r '[.items[].status.nodeInfo.osImage] | unique | join(",")')" = "Ubuntu 24.04.3 LTS" ]
	# A window next week: closed now.  A pass sees the new image and keeps the old.
	sim_kubectl create configmap upcoming-maintenance-window -n kube-system \
	    --from-literal=aksManagedNodeOSUpgradeSchedule-start="$(date -u -d '+7 days' +%FT%TZ)" \
	    --from-literal=aksManagedNodeOSUpgradeSchedule-end="$(date -u -d '+7 days 4 hours' +%FT%TZ)" >/dev/null
	sim_acurl /nap-sim/images -X POST -d '{"definition":"*","version":"202601.05.0"}' >/dev/null
	pass
	[ "$(status_of '.images[0].id')" = "$CIG/2404gen2containerd/versions/202512.01.0" ]
	[ -z "$(sim_kubectl get nodeclaims -o jsonpath='{.items[*].status.conditions[?(@.type=="Drifted")].reason}')" ]
	# The window opens now, after the loop's nap-upgrade cached its answers:
	# it asks again, takes the image, and the nodes roll.
	sim_kubectl create configmap upcoming-maintenance-window -n kube-system \
	    --from-literal=aksManagedNodeOSUpgradeSchedule-start="$(date -u +%FT%TZ)" \
	    --from-literal=aksManagedNodeOSUpgradeSchedule-end="$(date -u -d '+3 hours' +%FT%TZ)" \
	    --dry-run=client -o yaml | sim_kubectl replace -f - >/dev/null
	roll_poll 180 nodes_at v1.34.0 /2404gen2containerd/versions/202601.05.0
	stop_roll
	[ "$(drifted ImageDrift)" = "$gen2" ]
	[ "$(drifted K8sVersionDrift)" = "$gen1" ]
	roll_safe
}

# drifted REASON: the NodeClaims of the loop's Drifted records for REASON, sorted
# (all the records, shown on stderr, for a failure's log)
drifted() {
	jq -c 'select(.type == "Drifted")' "$BATS_TEST_TMPDIR/loop.out" >&2
	jq -r --arg r "$1" 'select(.type == "Drifted" and .reason == $r) | .nodeClaim' \
	    "$BATS_TEST_TMPDIR/loop.out" | sort -u | paste -sd' '
}

claims() {	# the NodeClaims now, sorted
	sim_kubectl get nodeclaims -o json | jq -r '.items[].metadata.name' | sort | paste -sd' '
}

@test "with --sig-subscription-id the images are the managed gallery's, each at its highest nodeImageVersions entry" {
	start_cluster
	local sig=/subscriptions/109a5e88-712a-48ae-9078-9ca8b3c81345/resourceGroups/AKS-Ubuntu/providers/Microsoft.Compute/galleries/AKSUbuntu/images
	pass --sig-subscription-id 109a5e88-712a-48ae-9078-9ca8b3c81345
	[ "$(status_of '.images | map(.id) | join(" ")')" = "$sig/2204gen2containerd/versions/202512.01.0 $sig/2204containerd/versions/202512.01.0 $sig/2204gen2arm64containerd/versions/202512.01.0" ]
	# A higher version published earlier than the newest: nodeImageVersions goes by the version.
	sim_acurl /nap-sim/images -X POST -d '{"definition":"2204gen2containerd","version":"202601.05.0","publishedDate":"2020-01-01T00:00:00Z"}' >/dev/null
	pass --sig-subscription-id 109a5e88-712a-48ae-9078-9ca8b3c81345
	[ "$(status_of '.images[0].id')" = "$sig/2204gen2containerd/versions/202601.05.0" ]
	run "$NAP_BIN/nap-upgrade" --sig-subscription-id /subscriptions/x </dev/null
	[ "$status" -eq 64 ]
	[[ "$output" == *"--sig-subscription-id"*"is not a subscription ID"* ]]
}
