#!/usr/bin/env bats
# nap-sim's world seen from Kubernetes: a VM launched through ARM with a
# bootstrap document becomes a Ready Node with the right labels, taints and
# allocatable; pods bound to it go Running; the scheduler explains in
# kube-scheduler's words why a pod fits nowhere; a deleted or evicted VM
# takes its Node and pods with it.

load helpers/sim

# The kubelets' audit every 0.2 s: a bound pod on a Ready node that no
# change started fails the test in teardown.
start() {
	sim_start --catalog "$BATS_TEST_DIRNAME/../data" --time-scale 1000 \
	    --world kubelet-audit=0.2 "$@"
	sim_arm_login
}

teardown() {
	local missed=
	[ -z "${SIM_DIR:-}" ] || missed=$(grep 'started by the audit' "$SIM_DIR/stderr")
	sim_stop
	[ -z "$missed" ] || { echo "$missed"; return 1; }
}

node_json() {
	sim_kubectl get node "$1" -o json 2>/dev/null
}

# Slurped: jq 1.6 -e exits 0 when kubectl printed nothing (no such Node).
node_ready() {
	node_json "$1" |
	    jq -se 'any(.[0].status.conditions[]?; .type == "Ready" and .status == "True")' >/dev/null
}

node_initialized() {	# Ready and no startup or not-ready taint left
	node_ready "$1" && node_json "$1" | jq -e '[.spec.taints[]?.key] |
	    (index("node.kubernetes.io/not-ready") == null) and (index("example.com/init") == null)' >/dev/null
}

node_gone() {
	! sim_kubectl get node "$1" >/dev/null 2>&1
}

pod_field() {	# NAME JQ
	sim_kubectl get pod "$1" -o json 2>/dev/null | jq -r "$2"
}

pod_phase_is() {
	[ "$(pod_field "$1" .status.phase)" = "$2" ]
}

pod_message_is() {
	[ "$(pod_field "$1" '.status.conditions[]? | select(.type == "PodScheduled") | .message')" = "$2" ]
}

pod_gone() {
	! sim_kubectl get pod "$1" >/dev/null 2>&1
}

pod() {	# NAME [spec-json-merge] [labels-json-merge]
	jq -cn --arg n "$1" --argjson extra "${2:-{\}}" --argjson l "${3:-{\}}" '{apiVersion:"v1",kind:"Pod",
	    metadata:{name:$n,namespace:"default",labels:({app:$n} + $l)},
	    spec:{containers:[{name:"c",image:"nginx",resources:{requests:{cpu:"100m",memory:"64Mi"}}}]}}
	    | .spec += $extra' | sim_kubectl apply --validate=false -f - >/dev/null
}

@test "a VM becomes a Ready Node with the bootstrap's labels and taints and AKS allocatable" {
	start
	sim_launch aks-default-w1 Standard_D4s_v3 2 Regular "$(sim_boot \
	    '{"karpenter.sh/nodepool":"default","team":"a"}' \
	    '[{"key":"dedicated","value":"infra","effect":"NoSchedule"}]' \
	    '[{"key":"example.com/init","value":"true","effect":"NoSchedule"}]')"
	sim_poll 60 node_ready aks-default-w1
	run node_json aks-default-w1
	echo "$output" | jq -e '.metadata.labels | ."karpenter.sh/nodepool" == "default" and .team == "a"
	    and ."node.kubernetes.io/instance-type" == "Standard_D4s_v3"
	    and ."topology.kubernetes.io/zone" == "eastus-2" and ."topology.kubernetes.io/region" == "eastus"
	    and ."kubernetes.io/arch" == "amd64" and ."kubernetes.io/os" == "linux"
	    and ."karpenter.sh/capacity-type" == "on-demand" and ."kubernetes.io/hostname" == "aks-default-w1"'
	echo "$output" | jq -e '.spec.providerID == "azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mc_nap-sim_nap-sim_eastus/providers/Microsoft.Compute/virtualMachines/aks-default-w1"'
	echo "$output" | jq -e '.spec.taints | map(.key) | index("dedicated") != null'
	# 4 vCPUs: 4000m - 140m kube-reserved; 16 GiB: 15.925 GiB capacity
	echo "$output" | jq -e '.status.nodeInfo.kubeletVersion == "v1.31.2"'
	echo "$output" | jq -e '.status.allocatable.cpu == "3860m" and .status.allocatable.pods == "110"
	    and .status.capacity.cpu == "4" and (.status.addresses[0].address | test("^10\\.224\\."))'
}

@test "startup taints and the not-ready taint go once the node is initialized" {
	start
	sim_launch aks-default-w2 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' \
	    '[{"key":"example.com/init","value":"true","effect":"NoSchedule"}]')"
	sim_poll 60 node_initialized aks-default-w2
	run node_json aks-default-w2
	echo "$output" | jq -e '(.spec.taints // []) == []'
}

@test "customData that is not a bootstrap document boots a default node labelled from the nodepool tag" {
	start
	sim_launch aks-tagged-w3 Standard_D2s_v3 1 Spot '#!/bin/bash
echo cloud-init'
	sim_poll 60 node_ready aks-tagged-w3
	run node_json aks-tagged-w3
	echo "$output" | jq -e '.metadata.labels."karpenter.sh/nodepool" == "tagged"
	    and .metadata.labels."karpenter.sh/capacity-type" == "spot"
	    and .status.allocatable.pods == "250"'
}

@test "a pod is bound to the new node and goes Running" {
	start
	sim_launch aks-default-w4 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-w4
	pod web
	sim_poll 60 pod_phase_is web Running
	[ "$(pod_field web .spec.nodeName)" = aks-default-w4 ]
	[[ "$(pod_field web .status.podIP)" == 10.244.* ]]
	[[ "$(pod_field web .status.hostIP)" == 10.224.* ]]
	[ "$(pod_field web '.status.containerStatuses[0].ready')" = true ]
}

@test "with no nodes a pod is Unschedulable with kube-scheduler's message" {
	start
	pod lonely
	sim_poll 60 pod_message_is lonely "no nodes available to schedule pods"
	[ "$(pod_field lonely '.status.conditions[] | select(.type == "PodScheduled") | .reason')" = Unschedulable ]
	[ "$(pod_field lonely .status.phase)" = Pending ]
}

@test "the Unschedulable message counts each node's reason, sorted, with the preemption part" {
	start
	sim_launch aks-default-t1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' \
	    '[{"key":"dedicated","value":"gpu","effect":"NoSchedule"}]' '[]')"
	sim_launch aks-default-t2 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-t1
	sim_poll 60 node_ready aks-default-t2
	pod huge '{"containers":[{"name":"c","image":"nginx","resources":{"requests":{"cpu":"3"}}}]}'
	sim_poll 60 pod_message_is huge "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."
	# a pod tolerating the taint and fitting gets a node
	pod small '{"tolerations":[{"key":"dedicated","operator":"Exists"}]}'
	sim_poll 60 pod_phase_is small Running
}

@test "nodeSelector, cordon and a GPU request each get their reason" {
	start
	sim_launch aks-default-s1 Standard_D2s_v3 1 Regular "$(sim_boot '{"disk":"ssd"}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-s1
	pod picky '{"nodeSelector":{"disk":"hdd"}}'
	sim_poll 60 pod_message_is picky "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
	pod gpu '{"containers":[{"name":"c","image":"cuda","resources":{"requests":{"nvidia.com/gpu":"1"},"limits":{"nvidia.com/gpu":"1"}}}]}'
	sim_poll 60 pod_message_is gpu "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
	sim_kubectl cordon aks-default-s1
	pod late
	sim_poll 60 pod_message_is late "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
	sim_kubectl uncordon aks-default-s1
	sim_poll 60 pod_phase_is late Running
}

@test "hostname anti-affinity keeps a second replica off the node" {
	start
	sim_launch aks-default-a1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-a1
	anti='{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"tier":"db"}},"topologyKey":"kubernetes.io/hostname"}]}}}'
	pod db-0 "$anti" '{"tier":"db"}'
	sim_poll 60 pod_phase_is db-0 Running
	pod db-1 "$anti" '{"tier":"db"}'
	sim_poll 60 pod_message_is db-1 "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
}

@test "zone topology spread with DoNotSchedule holds a pod back when the skew would grow" {
	start
	sim_launch aks-default-z1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_launch aks-default-z2 Standard_D2s_v3 2 Regular "$(sim_boot '{"pool":"b"}' \
	    '[{"key":"full","value":"yes","effect":"NoSchedule"}]' '[]')"
	sim_poll 60 node_ready aks-default-z1
	sim_poll 60 node_ready aks-default-z2
	spread='{"topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"app":"s"}}}]}'
	pod s-0 "$spread" '{"app":"s"}'
	sim_poll 60 pod_phase_is s-0 Running
	pod s-1 "$spread" '{"app":"s"}'
	sim_poll 60 pod_message_is s-1 "0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) had untolerated taint {full: yes}. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."
}

@test "a deleted VM's Node goes NotReady and unreachable first" {
	start --world node-gone-delay=100000
	sim_launch aks-default-d1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-d1
	[ "$(sim_arm DELETE "$SIM_VMS/aks-default-d1?$SIM_CV")" = 202 ]
	lost() {
		node_json aks-default-d1 | jq -se '.[0] | (.status.conditions[] | select(.type == "Ready") | .status == "Unknown")
		    and ([.spec.taints[] | select(.key == "node.kubernetes.io/unreachable") | .effect] | sort == ["NoExecute","NoSchedule"])' >/dev/null
	}
	sim_poll 60 lost
}

@test "a deleted VM takes its Node and the pods bound to it away" {
	start
	sim_launch aks-default-d2 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-d2
	pod victim
	sim_poll 60 pod_phase_is victim Running
	[ "$(sim_arm DELETE "$SIM_VMS/aks-default-d2?$SIM_CV")" = 202 ]
	sim_poll 60 node_gone aks-default-d2
	sim_poll 60 pod_gone victim
}

csinode_disks() {	# NODE: its CSINode's disk.csi.azure.com allocatable count
	sim_kubectl get csinode "$1" -o json 2>/dev/null |
	    jq -r '.spec.drivers[] | select(.name == "disk.csi.azure.com") | .allocatable.count'
}

csinode_gone() {
	! sim_kubectl get csinode "$1" >/dev/null 2>&1
}

@test "a node's kubelet registers a CSINode: Azure disks up to the size's maxDataDiskCount, Azure Files; it goes with the Node" {
	start
	sim_launch aks-default-c1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_launch aks-default-c2 Standard_F8s 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_launch aks-default-c3 Standard_M416bs_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-c1
	sim_poll 60 node_ready aks-default-c2
	sim_poll 60 node_ready aks-default-c3
	[ "$(csinode_disks aks-default-c1)" = 4 ]	# Standard_D2s_v3's maxDataDiskCount
	[ "$(csinode_disks aks-default-c2)" = 32 ]	# Fs v1: 4 per vCPU (previous-generation page)
	[ "$(csinode_disks aks-default-c3)" = 32 ]	# unknown to the catalog: 2 per vCPU, at most 32
	sim_kubectl get csinode aks-default-c1 -o json | jqe '
	    (.spec.drivers | map(.name)) == ["disk.csi.azure.com", "file.csi.azure.com"]
	    and .metadata.ownerReferences[0].kind == "Node"'
	run sim_kubectl get csinodes
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == NAME*DRIVERS*AGE* ]]
	[[ "$output" == *aks-default-c1*2* ]]
	sim_kubectl delete node aks-default-c1 >/dev/null
	sim_poll 60 csinode_gone aks-default-c1
	[ "$(csinode_disks aks-default-c2)" = 32 ]
}

@test "the scheduler keeps a pod off a node whose CSINode disk count its claims would pass; a claim already there counts once" {
	start
	sim_launch aks-default-v1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-v1
	[ "$(csinode_disks aks-default-v1)" = 4 ]	# Standard_D2s_v3
	claims() {	# claim... -> spec merge
		jq -cn '{volumes: [$ARGS.positional[] | {name: ., persistentVolumeClaim: {claimName: .}}]}' --args "$@"
	}
	pod v1 "$(claims a b)"
	pod v2 "$(claims c d)"
	sim_poll 60 pod_phase_is v1 Running
	sim_poll 60 pod_phase_is v2 Running
	pod v3 "$(claims e)"
	sim_poll 60 pod_message_is v3 "0/1 nodes are available: 1 node(s) exceed max volume count. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
	pod v4 "$(claims a d)"
	sim_poll 60 pod_phase_is v4 Running
}

@test "a spot eviction removes the Node" {
	start
	sim_launch aks-spot-e1 Standard_D2s_v3 1 Spot "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-spot-e1
	[ "$(sim_acurl /nap-sim/faults -X POST -d '{"evict":["aks-spot-e1"]}' -o /dev/null -w '%{http_code}')" = 200 ]
	sim_poll 60 node_gone aks-spot-e1
	[ "$(sim_arm GET "$SIM_VMS/aks-spot-e1?$SIM_CV")" = 404 ]
}

@test "pods bound to a node that was deleted are garbage-collected" {
	start
	sim_launch aks-default-g1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-g1
	pod orphan
	sim_poll 60 pod_phase_is orphan Running
	sim_kubectl delete node aks-default-g1 >/dev/null
	sim_poll 60 pod_gone orphan
}

@test "a pod created bound to a Node that has not registered runs once it is Ready, and goes at once when the Node is deleted" {
	# 3 real seconds of boot, and a pod GC delay longer than the test.
	start --boot-time 3000 --world pod-gc-delay=100000
	sim_launch aks-default-p1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	pod early '{"nodeName":"aks-default-p1"}'
	[ "$(pod_field early .status.phase)" = Pending ]
	node_gone aks-default-p1
	sim_poll 60 node_ready aks-default-p1
	sim_poll 30 pod_phase_is early Running
	# The delay is for a name with no Node: a deleted Node's pods go with it.
	sim_kubectl delete node aks-default-p1 >/dev/null
	sim_poll 30 pod_gone early
}

@test "a pod bound to a Node that stays not Ready is said once to wait for it, with the Node's Ready condition" {
	start
	jq -cn '{apiVersion:"v1",kind:"Node",metadata:{name:"n-cold"},status:{
	    allocatable:{cpu:"2",memory:"4Gi",pods:"110"},
	    conditions:[{type:"Ready",status:"False",reason:"KubeletNotReady"}]}}' |
	    sim_kubectl create -f - >/dev/null
	pod cold '{"nodeName":"n-cold"}'
	said() {	# POD -> how often nap-sim said it waits
		grep -c "kubelet: pod default/$1 has waited [0-9]* s for node n-cold: Ready False (KubeletNotReady)" "$SIM_DIR/stderr"
	}
	sim_poll 30 eval '[ "$(said cold)" -ge 1 ]'
	[ "$(pod_field cold .status.phase)" = Pending ]
	# Said once: by the time a second pod's wait is said, the audits have seen the first twice more.
	pod cold2 '{"nodeName":"n-cold"}'
	sim_poll 30 eval '[ "$(said cold2)" -ge 1 ]'
	[ "$(said cold)" = 1 ]
	sim_kcurl /api/v1/nodes/n-cold/status -X PATCH -H 'Content-Type: application/merge-patch+json' \
	    -d '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}' >/dev/null
	sim_poll 30 pod_phase_is cold Running
	sim_poll 30 pod_phase_is cold2 Running
}

@test "a pod bound to a node that never registers is collected after the pod GC delay" {
	local t0
	# 2 real seconds; no audit to look again, only the delay's own wake-up.
	start --world pod-gc-delay=2000 --world kubelet-audit=600
	t0=$(date +%s%N)
	pod ghost '{"nodeName":"aks-ghost"}'
	sim_poll 30 pod_gone ghost
	[ $((($(date +%s%N) - t0) / 1000000)) -ge 1900 ]
}

@test "pods without requests spread over equal nodes, as LeastAllocated scores them" {
	start
	sim_launch aks-default-l1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_launch aks-default-l2 Standard_D2s_v3 2 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-l1
	sim_poll 60 node_ready aks-default-l2
	pod be-0 '{"containers":[{"name":"c","image":"nginx"}]}'
	sim_poll 60 pod_phase_is be-0 Running
	pod be-1 '{"containers":[{"name":"c","image":"nginx"}]}'
	sim_poll 60 pod_phase_is be-1 Running
	[ "$(pod_field be-0 .spec.nodeName)" != "$(pod_field be-1 .spec.nodeName)" ]
}

@test "VMs, NICs and tokens survive a restart with --state, and the kubelets carry on" {
	start --state "$BATS_TEST_TMPDIR/state.json"
	sim_launch aks-default-p1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-p1
	sim_stop
	sim_start --catalog "$BATS_TEST_DIRNAME/../data" --time-scale 1000 --state "$BATS_TEST_TMPDIR/state.json"
	[ "$(sim_arm GET "$SIM_VMS/aks-default-p1?$SIM_CV")" = 200 ]
	[ "$(sim_arm GET "$SIM_NICS/aks-default-p1?$SIM_NV")" = 200 ]
	node_ready aks-default-p1
	[ "$(sim_arm DELETE "$SIM_VMS/aks-default-p1?$SIM_CV")" = 202 ]
	sim_poll 60 node_gone aks-default-p1
}

@test "the man page's worked ARM example runs as written" {
	cd "$BATS_TEST_TMPDIR"
	# the example's commands ("$ " lines and their continuations), not its output
	mandoc -Tascii "$BATS_TEST_DIRNAME/../man/nap-sim.1" | col -bx |
	    sed -n '/worked example with curl:/,/^ *3860m$/p' |
	    sed -n 's/^ *\$ //p; s/^ \{8,\}\([^$ ].*\)$/\1/p' |
	    grep -v '^HTTP/1.1\|^Azure-Async\|^3860m' >example.sh
	grep -q '^nap-sim --time-scale' example.sh
	sed -i "s|^nap-sim |\"\$NAP_BIN/nap-sim\" --catalog \"$BATS_TEST_DIRNAME/../data\" |;
	    s|ready.json &$|ready.json 2>sim.err \& echo \$! >sim.pid|" example.sh
	NAP_BIN=$NAP_BIN run timeout 120 bash -e example.sh
	SIM_PID=$(cat sim.pid)
	[ "${lines[${#lines[@]}-1]}" = 3860m ]
}

@test "required pod affinity follows the partner pod and explains a missing one" {
	start
	sim_launch aks-default-f1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_launch aks-default-f2 Standard_D2s_v3 2 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 node_ready aks-default-f1
	sim_poll 60 node_ready aks-default-f2
	pod cache-0 '{"nodeSelector":{"topology.kubernetes.io/zone":"eastus-2"}}' '{"role":"cache"}'
	sim_poll 60 pod_phase_is cache-0 Running
	near='{"affinity":{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"role":"cache"}},"topologyKey":"kubernetes.io/hostname"}]}}}'
	pod app-0 "$near"
	sim_poll 60 pod_phase_is app-0 Running
	[ "$(pod_field app-0 .spec.nodeName)" = aks-default-f2 ]
	ghost='{"affinity":{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"role":"ghost"}},"topologyKey":"kubernetes.io/hostname"}]}}}'
	pod app-1 "$ghost"
	sim_poll 60 pod_message_is app-1 "0/2 nodes are available: 2 node(s) didn't match pod affinity rules. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
}

@test "a pod waiting for capacity is bound once a node for it turns Ready" {
	start
	pod waiting '{"containers":[{"name":"c","image":"nginx","resources":{"requests":{"cpu":"3"}}}]}'
	sim_poll 60 pod_message_is waiting "no nodes available to schedule pods"
	sim_launch aks-default-c1 Standard_D4s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_poll 60 pod_phase_is waiting Running
	[ "$(pod_field waiting .spec.nodeName)" = aks-default-c1 ]
}

@test "a startup taint a client writes back is removed again, as its agent would" {
	start
	sim_launch aks-default-r1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' \
	    '[{"key":"example.com/init","value":"true","effect":"NoSchedule"}]')"
	sim_poll 60 node_initialized aks-default-r1
	sim_kubectl taint node aks-default-r1 example.com/init=true:NoSchedule >/dev/null
	sim_poll 60 node_initialized aks-default-r1
	# a taint that is not a startup taint stays
	sim_kubectl taint node aks-default-r1 other=x:NoSchedule >/dev/null
	sim_poll 60 node_initialized aks-default-r1
	node_json aks-default-r1 | jq -e '[.spec.taints[].key] == ["other"]'
}
