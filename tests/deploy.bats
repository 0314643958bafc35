#!/usr/bin/env bats
# deploy/: nap's CustomResourceDefinitions, its RBAC and the AKS default
# NodePools.  The schemas are checked on their own (structural, defaults that
# satisfy them), against the manifests users already have (the AKS docs and
# the Karpenter and Azure provider examples in ../shared/fixtures), against
# crafted bad values, and by applying them to nap-sim with kubectl.

bats_require_minimum_version 1.5.0
load helpers/sim

setup() {
	: "${NAP_BIN:=$BATS_TEST_DIRNAME/../bin}"
	REPO=$BATS_TEST_DIRNAME/..
	CRDS=$REPO/deploy/crds
	FIX=$NAP_FIXTURES
	CHECK=$REPO/tests/helpers/crdcheck.py
}

teardown() {
	sim_stop
}

need_python() {	# a failure, not a skip: make deps installs python3-yaml
	python3 -c 'import yaml' 2>/dev/null ||
	    { echo "python3 with PyYAML is not installed (Debian package python3-yaml; make deps installs it)"; return 1; }
}

# y2j FILE...: every YAML document of the files as one JSON array.
y2j() {
	python3 -c 'import json, sys, yaml
docs = []
for p in sys.argv[1:]:
    with open(p) as f:
        docs += [d for d in yaml.safe_load_all(f) if d is not None]
json.dump(docs, sys.stdout)' "$@"
}

# schema KIND VERSION: that version's openAPIV3Schema, as JSON.
schema() {
	y2j "$CRDS"/*.yaml | jq --arg k "$1" --arg v "$2" \
	    '.[] | select(.spec.names.kind == $k) | .spec.versions[] | select(.name == $v) | .schema.openAPIV3Schema'
}

@test "every manifest in deploy/ is YAML without a duplicate key" {
	need_python
	python3 -c 'import sys, yaml
class L(yaml.SafeLoader):
    pass
def mapping(loader, node, deep=False):
    keys = [loader.construct_object(k, deep=True) for k, _ in node.value]
    dup = sorted(set(k for k in keys if keys.count(k) > 1))
    if dup:
        sys.exit("%s: duplicate keys %s" % (node.start_mark, dup))
    return yaml.SafeLoader.construct_mapping(loader, node, deep)
L.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
for p in sys.argv[1:]:
    with open(p) as f:
        list(yaml.load_all(f, Loader=L))' "$CRDS"/*.yaml "$REPO"/deploy/rbac.yaml "$REPO"/deploy/nodepools/*.yaml
}

@test "every CRD schema is structural and every default it declares satisfies it" {
	need_python
	run python3 "$CHECK" --structural "$CRDS"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "the CRDs define NodePool and NodeClaim in karpenter.sh/v1 and AKSNodeClass in karpenter.azure.com, cluster-scoped, with status subresources" {
	need_python
	y2j "$CRDS"/*.yaml >"$BATS_TEST_TMPDIR/crds.json"
	jq -e '[.[] | .metadata.name] | sort ==
	    ["aksnodeclasses.karpenter.azure.com", "nodeclaims.karpenter.sh", "nodepools.karpenter.sh"]' \
	    "$BATS_TEST_TMPDIR/crds.json"
	jq -e 'all(.[]; .spec.scope == "Cluster" and (.spec.names.categories | index("karpenter"))
	    and all(.spec.versions[]; .served and .subresources.status == {}))' "$BATS_TEST_TMPDIR/crds.json"
	jq -e '.[] | select(.spec.names.kind == "NodePool") | .spec.versions == [.spec.versions[0]]
	    and .spec.versions[0].name == "v1" and .spec.versions[0].storage
	    and .spec.versions[0].subresources.scale.specReplicasPath == ".spec.replicas"' \
	    "$BATS_TEST_TMPDIR/crds.json"
	jq -e '.[] | select(.spec.names.kind == "AKSNodeClass") |
	    ([.spec.versions[] | {name, storage, d: (.deprecated // false)}] ==
	     [{name: "v1beta1", storage: true, d: false}, {name: "v1alpha2", storage: false, d: true}])
	    and .spec.names.shortNames == ["aksnc", "aksncs"]
	    and .spec.versions[0].schema == .spec.versions[1].schema' "$BATS_TEST_TMPDIR/crds.json"
}

@test "the CRD defaults are Karpenter's and the Azure provider's" {
	need_python
	schema NodePool v1 >"$BATS_TEST_TMPDIR/np.json"
	jq -e '.properties.spec.properties.disruption |
	    .default == {consolidateAfter: "0s"}
	    and .properties.consolidationPolicy.default == "WhenEmptyOrUnderutilized"
	    and .properties.consolidationPolicy.enum == ["WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced"]
	    and .properties.consolidateAfter.default == "0s"
	    and .properties.budgets.default == [{nodes: "10%"}]
	    and .properties.budgets.maxItems == 50' "$BATS_TEST_TMPDIR/np.json"
	jq -e '.properties.spec.properties.template.properties.spec.properties |
	    .expireAfter.default == "720h" and .requirements.maxItems == 100
	    and .requirements.items.properties.operator.enum ==
		["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte"]
	    and .requirements.items.properties.minValues.minimum == 1
	    and .requirements.items.properties.minValues.maximum == 50' "$BATS_TEST_TMPDIR/np.json"
	jq -e '.properties.spec.properties.weight | .minimum == 1 and .maximum == 100' "$BATS_TEST_TMPDIR/np.json"
	schema NodeClaim v1 | jq -e '.properties.spec.properties.expireAfter.default == "720h"
	    and (.properties.spec["x-kubernetes-validations"][].rule | contains("self == oldSelf"))'
	schema AKSNodeClass v1beta1 >"$BATS_TEST_TMPDIR/nc.json"
	jq -e '.properties.spec.properties |
	    .osDiskSizeGB.default == 128 and .osDiskSizeGB.minimum == 30 and .osDiskSizeGB.maximum == 2048
	    and .imageFamily.default == "Ubuntu"
	    and .imageFamily.enum == ["Ubuntu", "Ubuntu2204", "Ubuntu2404", "AzureLinux"]
	    and .maxPods.minimum == 10 and .maxPods.maximum == 250
	    and .gpu.properties.mode.default == "Driver"
	    and .kubelet.properties.containerLogMaxSize.default == "50Mi"
	    and .kubelet.properties.containerLogMaxFiles.default == 5
	    and .kubelet.properties.containerLogMaxFiles.minimum == 2
	    and .kubelet.properties.cpuCFSQuota.default == true
	    and .kubelet.properties.cpuCFSQuotaPeriod.default == "100ms"
	    and (.linuxOSConfig.properties.sysctls.properties | length) == 28' "$BATS_TEST_TMPDIR/nc.json"
}

@test "the manifests in the AKS docs and the provider's examples validate, and the docs' broken ones fail where they are wrong" {
	need_python
	need_fixtures
	# file, then "ok" or a fragment of the expected complaint.  Fragments
	# without nodeClassRef or template, and v1beta1 NodePools, are left out.
	while read -r file want; do
		run python3 "$CHECK" "$CRDS" "$FIX/$file"
		echo "$file: $output"
		if [ "$want" = ok ]; then
			[ "$status" -eq 0 ]
			[[ "$output" == ok* ]]
		else
			[ "$status" -eq 1 ]
			[[ "$output" == *"$want"* ]]
		fi
	done <<-'LIST'
	aks-docs/node-auto-provisioning-aksnodeclass-5.yaml ok
	aks-docs/node-auto-provisioning-node-pools-1.yaml ok
	aks-docs/aks-managed-gpu-nodes-2.yaml ok
	karpenter/azure-examples-v1-general-purpose.yaml ok
	karpenter/azure-examples-v1-perftest.yaml ok
	karpenter/azure-examples-v1-system-surge.yaml ok
	karpenter/azure-examples-v1beta1-general-purpose.yaml ok
	karpenter/azure-examples-v1beta1-multi-arch.yaml ok
	karpenter/azure-default_aksnodeclass.yaml ok
	karpenter/azure-default_nodepool.yaml ok
	karpenter/azure-general-purpose-small-nodes.yaml ok
	karpenter/core-default_nodepool.yaml ok
	karpenter/aws-examples-v1-100-cpu-limit.yaml ok
	karpenter/aws-examples-v1-min-values-family.yaml ok
	karpenter/aws-examples-v1-multiple-arch.yaml ok
	karpenter/aws-examples-v1-spot.yaml ok
	aks-docs/nvidia-gpu-operator-1.yaml AKSNodeClass.spec.gpu.mode: 'none' is not one of
	aks-docs/aks-managed-gpu-nodes-1.yaml AKSNodeClass.spec.tags: want an object
	aks-docs/node-auto-provisioning-aksnodeclass-19.yaml AKSNodeClass.spec: unknown field LocalDNS
	aks-docs/migrate-from-autoscaler-to-node-auto-provisioning-4.yaml NodePool.spec.disruption: unknown field expireAfter
	aks-docs/migrate-from-autoscaler-to-node-auto-provisioning-5.yaml nodeClassRef: unknown field apiVersion
	aks-docs/node-auto-provisioning-networking-1.yaml AKSNodeClass.spec.vnetSubnetID: '/subscriptions/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx/resourceGroups/$RESOURCE_GROUP/
	LIST
}

@test "the CRDs reject values outside their enums, patterns and ranges" {
	need_python
	base='{"apiVersion":"karpenter.sh/v1","kind":"NodePool","metadata":{"name":"p"},"spec":{"template":{"spec":{"nodeClassRef":{"group":"karpenter.azure.com","kind":"AKSNodeClass","name":"default"},"requirements":[{"key":"kubernetes.io/arch","operator":"In","values":["amd64"]}]}}}}'
	ncbase='{"apiVersion":"karpenter.azure.com/v1beta1","kind":"AKSNodeClass","metadata":{"name":"c"},"spec":{}}'
	echo "$base" >"$BATS_TEST_TMPDIR/good.yaml"
	python3 "$CHECK" "$CRDS" "$BATS_TEST_TMPDIR/good.yaml"
	echo "$ncbase" >"$BATS_TEST_TMPDIR/good.yaml"
	python3 "$CHECK" "$CRDS" "$BATS_TEST_TMPDIR/good.yaml"
	# jq edit of the base, then the path the complaint must name.
	while IFS='|' read -r obj edit where; do
		[ "$obj" = np ] && in=$base || in=$ncbase
		echo "$in" | jq -c "$edit" >"$BATS_TEST_TMPDIR/bad.yaml"
		run python3 "$CHECK" "$CRDS" "$BATS_TEST_TMPDIR/bad.yaml"
		echo "$edit: $output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"$where"* ]]
	done <<-'LIST'
	np|.spec.disruption.budgets = [{"nodes": "101%"}]|budgets[0].nodes
	np|.spec.disruption.budgets = [{"nodes": "10%", "schedule": "daily", "duration": "1h"}]|budgets[0].schedule
	np|.spec.disruption.budgets = [{"nodes": "1", "schedule": "@daily", "duration": "1d"}]|budgets[0].duration
	np|.spec.disruption.budgets = [{"nodes": "1", "reasons": ["Expired"]}]|reasons[0]
	np|.spec.disruption.consolidateAfter = "5d"|consolidateAfter
	np|.spec.disruption.consolidationPolicy = "Always"|consolidationPolicy
	np|.spec.template.spec.expireAfter = "forever"|expireAfter
	np|.spec.template.spec.terminationGracePeriod = "Never"|terminationGracePeriod
	np|.spec.weight = 0|weight
	np|.spec.weight = 101|weight
	np|.spec.template.spec.requirements[0].operator = "Like"|operator
	np|.spec.template.spec.requirements[0].minValues = 51|minValues
	np|.spec.template.spec.requirements[0].key = "bad key"|key
	np|.spec.template.spec.taints = [{"key": "k", "effect": "NoWay"}]|taints[0].effect
	np|.spec.limits = {"cpu": "lots"}|limits.cpu
	np|del(.spec.template.spec.nodeClassRef)|nodeClassRef is required
	nc|.spec.osDiskSizeGB = 20|osDiskSizeGB
	nc|.spec.osDiskSizeGB = 4096|osDiskSizeGB
	nc|.spec.imageFamily = "Windows2022"|imageFamily
	nc|.spec.maxPods = 300|maxPods
	nc|.spec.fipsMode = "On"|fipsMode
	nc|.spec.kubelet = {"containerLogMaxFiles": 1}|containerLogMaxFiles
	nc|.spec.kubelet = {"containerLogMaxSize": "50MB"}|containerLogMaxSize
	nc|.spec.kubelet = {"topologyManagerPolicy": "strict"}|topologyManagerPolicy
	nc|.spec.vnetSubnetID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"|vnetSubnetID
	nc|.spec.linuxOSConfig = {"sysctls": {"vmMaxMapCount": 1}}|vmMaxMapCount
	nc|.spec.linuxOSConfig = {"transparentHugePageEnabled": "sometimes"}|transparentHugePageEnabled
	nc|.spec.localDNS = {"mode": "On"}|localDNS.mode
	nc|.spec.gpu = {"mode": "driver"}|gpu.mode
	LIST
}

@test "the AKS default pools validate and say what the AKS docs say" {
	need_python
	python3 "$CHECK" "$CRDS" "$REPO"/deploy/nodepools/*.yaml
	y2j "$REPO"/deploy/nodepools/*.yaml >"$BATS_TEST_TMPDIR/pools.json"
	four='[{"key":"kubernetes.io/arch","operator":"In","values":["amd64"]},{"key":"kubernetes.io/os","operator":"In","values":["linux"]},{"key":"karpenter.sh/capacity-type","operator":"In","values":["on-demand"]},{"key":"karpenter.azure.com/sku-family","operator":"In","values":["D"]}]'
	jq -e --argjson four "$four" '.[] | select(.kind == "NodePool" and .metadata.name == "default") |
	    .spec.disruption.consolidationPolicy == "WhenEmptyOrUnderutilized"
	    and .spec.template.spec.expireAfter == "Never"
	    and .spec.template.spec.nodeClassRef == {group: "karpenter.azure.com", kind: "AKSNodeClass", name: "default"}
	    and .spec.template.spec.requirements == $four
	    and (.spec.disruption.budgets == null) and (.spec.limits == null)' "$BATS_TEST_TMPDIR/pools.json"
	jq -e --argjson four "$four" '.[] | select(.kind == "NodePool" and .metadata.name == "system-surge") |
	    .spec.disruption.consolidateAfter == "0s"
	    and .spec.disruption.budgets == [{nodes: "30%"}]
	    and .spec.template.metadata.labels["kubernetes.azure.com/mode"] == "system"
	    and .spec.template.spec.taints == [{key: "CriticalAddonsOnly", value: "true", effect: "NoSchedule"}]
	    and .spec.template.spec.startupTaints[0].key == "node.cilium.io/agent-not-ready"
	    and .spec.template.spec.expireAfter == "Never"
	    and .spec.template.spec.requirements == $four' "$BATS_TEST_TMPDIR/pools.json"
	jq -e '[.[] | select(.kind == "AKSNodeClass")] == [{apiVersion: "karpenter.azure.com/v1beta1",
	    kind: "AKSNodeClass", metadata: .[0].metadata, spec: {imageFamily: "Ubuntu"}}]
	    and .[0].metadata.name == "default"' <(jq '[.[] | select(.kind == "AKSNodeClass")]' "$BATS_TEST_TMPDIR/pools.json")
}

@test "kubectl applies the CRDs to nap-sim, and again without a change" {
	need_kubectl
	sim_start
	run sim_kubectl apply -f "$CRDS/"
	echo "$output"
	[ "$status" -eq 0 ]
	for n in nodepools.karpenter.sh nodeclaims.karpenter.sh aksnodeclasses.karpenter.azure.com; do
		sim_kubectl get crd "$n" -o json | jqe '.spec.versions[0].schema.openAPIV3Schema.properties.spec'
	done
	run sim_kubectl apply -f "$CRDS/"
	[ "$status" -eq 0 ]
	[[ "$output" == *"nodepools.karpenter.sh unchanged"* ]]
}

@test "the AKS default pools apply to nap-sim and nap-watch reports them" {
	need_kubectl
	sim_start
	sim_kubectl apply -f "$CRDS/" >/dev/null 2>&1
	sim_kubectl apply -f "$REPO/deploy/nodepools/default.yaml" -f "$REPO/deploy/nodepools/system-surge.yaml"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --once --kinds nodepools,aksnodeclasses \
	    >"$BATS_TEST_TMPDIR/snap"
	[ "$(jq -r 'select(.type == "ADDED" and .object.kind == "NodePool") | .object.metadata.name' \
	    "$BATS_TEST_TMPDIR/snap" | sort | tr '\n' ' ')" = "default system-surge " ]
	[ "$(jq -r 'select(.type == "ADDED" and .object.kind == "AKSNodeClass") | .object.metadata.name' \
	    "$BATS_TEST_TMPDIR/snap")" = default ]
}

@test "an AKSNodeClass written as v1alpha2 applies and reads back as v1beta1" {
	need_kubectl
	sim_start
	sim_kubectl apply -f "$CRDS/" >/dev/null 2>&1
	printf '%s\n' 'apiVersion: karpenter.azure.com/v1alpha2' 'kind: AKSNodeClass' \
	    'metadata: {name: old}' 'spec: {imageFamily: AzureLinux}' >"$BATS_TEST_TMPDIR/old.yaml"
	sim_kubectl apply -f "$BATS_TEST_TMPDIR/old.yaml"
	sim_kubectl get aksnodeclasses.v1beta1.karpenter.azure.com old -o json |
	    jqe '.apiVersion == "karpenter.azure.com/v1beta1" and .spec.imageFamily == "AzureLinux"'
}

@test "the ClusterRole grants nothing on '*', no Secrets, and only the verbs nap uses" {
	need_python
	y2j "$REPO/deploy/rbac.yaml" >"$BATS_TEST_TMPDIR/rbac.json"
	jq -e '[.[].kind] == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"]' "$BATS_TEST_TMPDIR/rbac.json"
	jq -e '.[] | select(.kind == "ClusterRole") | .rules | all(.[];
	    (.apiGroups | index("*") | not) and (.resources | index("*") | not)
	    and (.verbs | index("*") | not) and (.resources | index("secrets") | not)
	    and (.verbs - ["get", "list", "watch", "create", "patch", "update", "delete"] == []))' \
	    "$BATS_TEST_TMPDIR/rbac.json"
	jq -e '.[] | select(.kind == "ClusterRoleBinding") | .roleRef.name == "nap"
	    and .subjects == [{kind: "ServiceAccount", name: "nap", namespace: "kube-system"}]' \
	    "$BATS_TEST_TMPDIR/rbac.json"
}

# allows GROUP RESOURCE VERB: the ClusterRole has a rule granting it.
allows() {
	jq -e --arg g "$1" --arg r "$2" --arg v "$3" '.[] | select(.kind == "ClusterRole") |
	    any(.rules[]; (.apiGroups | index($g)) and (.resources | index($r)) and (.verbs | index($v)))' \
	    "$BATS_TEST_TMPDIR/rbac.json" >/dev/null || { echo "no $3 on $1/$2"; return 1; }
}

@test "the ClusterRole lets nap-watch list and watch every kind it reads, and the other stages do their writes" {
	need_python
	y2j "$REPO/deploy/rbac.yaml" >"$BATS_TEST_TMPDIR/rbac.json"
	for gr in /pods /nodes karpenter.sh/nodeclaims karpenter.sh/nodepools \
	    karpenter.azure.com/aksnodeclasses policy/poddisruptionbudgets apps/daemonsets \
	    /namespaces /persistentvolumeclaims /persistentvolumes storage.k8s.io/storageclasses \
	    storage.k8s.io/csinodes; do
		for v in list watch; do
			allows "${gr%/*}" "${gr##*/}" "$v"
		done
	done
	allows karpenter.sh nodeclaims create
	allows karpenter.sh nodeclaims delete
	allows karpenter.sh nodeclaims patch
	allows karpenter.sh nodeclaims/status patch
	allows karpenter.sh nodepools/status patch
	allows karpenter.sh nodepools patch	# nap-upgrade: the hash annotations
	allows karpenter.azure.com aksnodeclasses/status update
	allows "" nodes patch
	allows "" nodes delete
	allows "" pods/eviction create
	run ! allows "" pods create
	run ! allows "" secrets get
}

@test "the ClusterRole applies where rbac.authorization.k8s.io is served" {
	need_kubectl
	need_python
	sim_start
	run sim_kubectl apply -f "$REPO/deploy/rbac.yaml"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "serviceaccount/nap created" ]
	[ "${lines[1]}" = "clusterrole.rbac.authorization.k8s.io/nap created" ]
	[ "${lines[2]}" = "clusterrolebinding.rbac.authorization.k8s.io/nap created" ]
	sim_kubectl -n kube-system get serviceaccount nap -o json |
	    jqe '.metadata.labels["app.kubernetes.io/part-of"] == "nap"'
	sim_kubectl get clusterrole nap -o json >"$BATS_TEST_TMPDIR/cr.json"
	jq -e '.metadata.labels["app.kubernetes.io/part-of"] == "nap"
	    and any(.rules[]; .apiGroups == [""] and .resources == ["pods/eviction"] and .verbs == ["create"])' \
	    "$BATS_TEST_TMPDIR/cr.json"
	# Every rule comes back as written.
	y2j "$REPO/deploy/rbac.yaml" | jq '.[] | select(.kind == "ClusterRole") | .rules' >"$BATS_TEST_TMPDIR/want.json"
	jq -e --slurpfile want "$BATS_TEST_TMPDIR/want.json" '.rules == $want[0]' "$BATS_TEST_TMPDIR/cr.json"
	sim_kubectl get clusterrolebinding nap -o json | jqe '
	    .roleRef == {apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "nap"}
	    and .subjects == [{kind: "ServiceAccount", name: "nap", namespace: "kube-system"}]'
	# A second apply changes nothing.
	run sim_kubectl apply -f "$REPO/deploy/rbac.yaml"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "clusterrole.rbac.authorization.k8s.io/nap unchanged" ]
	[ "${lines[2]}" = "clusterrolebinding.rbac.authorization.k8s.io/nap unchanged" ]
}

@test "with the AKS default pools, a pod without the CriticalAddonsOnly toleration goes to default, and system-surge claims carry its taints and labels" {
	need_kubectl
	sim_start
	sim_kubectl apply -f "$CRDS/" >/dev/null 2>&1
	sim_kubectl apply -f "$REPO/deploy/nodepools/" >/dev/null
	# kubernetes.azure.com/mode is a well-known label that "default" leaves
	# open, so an add-on names its pool to be sure of system-surge.
	sim_kubectl -n kube-system run addon --image=nginx --overrides='{"spec":{
	    "nodeSelector":{"karpenter.sh/nodepool":"system-surge"},
	    "tolerations":[{"key":"CriticalAddonsOnly","operator":"Exists"}],
	    "containers":[{"name":"addon","image":"nginx","resources":{"requests":{"cpu":"500m"}}}]}}' >/dev/null
	sim_kubectl run app --image=nginx --overrides='{"spec":{
	    "containers":[{"name":"app","image":"nginx","resources":{"requests":{"cpu":"500m"}}}]}}' >/dev/null
	sim_poll 30 bash -c "[ \"\$(kubectl --kubeconfig '$SIM_KUBECONFIG' get pods -A -o json |
	    jq '[.items[] | select(.status.conditions[]? | .reason == \"Unschedulable\")] | length')\" -eq 2 ]"
	"$REPO/pipelines/nap-dry-run" --records --config "$SIM_CONFIG" >"$BATS_TEST_TMPDIR/out"
	jq -c 'select(.type == "LaunchRequest") | {l: .nodeClaim.metadata.labels, pods,
	    t: .nodeClaim.spec.taints, s: .nodeClaim.spec.startupTaints}' "$BATS_TEST_TMPDIR/out"
	jq -e -s '[.[] | select(.type == "LaunchRequest") | {pool: .nodeClaim.metadata.labels["karpenter.sh/nodepool"],
	    pods, taints: (.nodeClaim.spec.taints // [])}] | sort_by(.pool) ==
	    [{pool: "default", pods: ["default/app"], taints: []},
	     {pool: "system-surge", pods: ["kube-system/addon"],
	      taints: [{key: "CriticalAddonsOnly", value: "true", effect: "NoSchedule"}]}]' "$BATS_TEST_TMPDIR/out"
	jq -e -s '.[] | select(.type == "LaunchRequest") | .nodeClaim |
	    select(.metadata.labels["karpenter.sh/nodepool"] == "system-surge") |
	    .metadata.labels["kubernetes.azure.com/mode"] == "system"
	    and .spec.startupTaints == [{key: "node.cilium.io/agent-not-ready", value: "true", effect: "NoExecute"}]' \
	    "$BATS_TEST_TMPDIR/out"
}

@test "the NodeClaims nap-solve asks for fit the NodeClaim CRD" {
	need_python
	cases=$REPO/tests/fixtures/nap-solve
	for c in three-pods-share claim-shape docs-gpu-pool docs-spot-pool zone-spread taint-tolerated; do
		[ -f "$cases/$c/input.ndjson" ] || continue
		"$NAP_BIN/nap-solve" --config /dev/null --region eastus --catalog "$REPO/data" \
		    <"$cases/$c/input.ndjson" 2>/dev/null |
		    jq -c 'select(.type == "LaunchRequest") | .nodeClaim'
	done >"$BATS_TEST_TMPDIR/claims.ndjson"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/claims.ndjson")" -ge 4 ]
	# JSON lines are YAML documents once separated.
	sed '1!s/^/---\n/' "$BATS_TEST_TMPDIR/claims.ndjson" >"$BATS_TEST_TMPDIR/claims.yaml"
	run python3 "$CHECK" "$CRDS" "$BATS_TEST_TMPDIR/claims.yaml"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c '^ok NodeClaim ')" -eq "$(wc -l <"$BATS_TEST_TMPDIR/claims.ndjson")" ]
}
