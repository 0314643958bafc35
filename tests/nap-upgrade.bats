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

@test "one pass writes the class status as the provider does: version, three images, Ready" {
	start_cluster
	pass
	[ "$(status_of .kubernetesVersion)" = 1.32.4 ]
	[ "$(status_of '.images | length')" -eq 3 ]
	[ "$(status_of '.images[0].id')" = "$CIG/2204gen2containerd/versions/202512.01.0" ]
	[ "$(status_of '.images[2].requirements[0].values[0]')" = arm64 ]
	for c in KubernetesVersionReady ImagesReady Ready; do
		[ "$(status_of ".conditions[] | select(.type == \"$c\") | .status")" = True ]
	done
	# read back as kubectl shows it
	sim_kubectl get aksnodeclass default -o yaml | grep -q 'type: ImagesReady'
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
