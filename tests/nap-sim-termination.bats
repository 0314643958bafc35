#!/usr/bin/env bats
# nap-sim ends pods as the API server and the kubelet do: graceful
# deletion, the Eviction API under PodDisruptionBudgets, taints the
# scheduler honours, VolumeAttachments that outlive their pod a little, and
# the safety counters of /nap-sim/stats that the disruption tests sample.

load helpers/sim

teardown() {
	sim_stop
}

node_json() {	# name
	printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s","kubernetes.io/os":"linux"}},"spec":{},"status":{"capacity":{"cpu":"8","memory":"32Gi","pods":"110"},"allocatable":{"cpu":"8","memory":"32Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}' "$1" "$1"
}

# pod NAME [NODE] [shutdown-seconds] [extra metadata json] [extra spec json]
pod() {
	jq -cn --arg n "$1" --arg node "${2:-}" --arg sd "${3:-}" \
	    --argjson md "${4:-{\}}" --argjson sp "${5:-{\}}" '{apiVersion:"v1",kind:"Pod",
	    metadata:({name:$n,namespace:"default",labels:{app:"web"}} * $md),
	    spec:({containers:[{name:"c",image:"nginx"}]} * $sp)}
	    | if $node != "" then .spec.nodeName = $node else . end
	    | if $sd != "" then .metadata.annotations["sim.nap.dev/shutdown-seconds"] = $sd else . end' |
	    sim_kubectl create -f - >/dev/null
}

field() {	# NAME JQ
	sim_kubectl get pod "$1" -o json 2>/dev/null | jq -r "$2"
}

running() {
	[ "$(field "$1" .status.phase)" = Running ]
}

gone() {
	! sim_kubectl get pod "$1" >/dev/null 2>&1
}

evict() {	# NAME [uid] -> "body\ncode"
	local body
	body=$(jq -cn --arg n "$1" --arg u "${2:-}" '{apiVersion:"policy/v1",kind:"Eviction",
	    metadata:{name:$n,namespace:"default"}}
	    | if $u != "" then .deleteOptions.preconditions.uid = $u else . end')
	sim_kcurl "/api/v1/namespaces/default/pods/$1/eviction" -X POST \
	    -H 'Content-Type: application/json' -w '\n%{http_code}' -d "$body"
}

pdb_status() {	# NAME -> "currentHealthy desiredHealthy disruptionsAllowed expectedPods"
	sim_kubectl get pdb "$1" -o json | jq -r '.status |
	    "\(.currentHealthy) \(.desiredHealthy) \(.disruptionsAllowed) \(.expectedPods)"'
}

pdb_is() {
	[ "$(pdb_status "$1")" = "$2" ]
}

pdb() {	# NAME minAvailable|maxUnavailable VALUE
	jq -cn --arg n "$1" --arg k "$2" --arg v "$3" '{apiVersion:"policy/v1",
	    kind:"PodDisruptionBudget",metadata:{name:$n,namespace:"default"},
	    spec:{selector:{matchLabels:{app:"web"}}}}
	    | .spec[$k] = ($v | tonumber? // $v)' | sim_kubectl create -f - >/dev/null
}

@test "a deleted pod stays Terminating with deletionTimestamp now + grace until its containers stop" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	pod slow n1 3600 '{}' '{"terminationGracePeriodSeconds":120}'
	sim_poll 30 running slow
	before=$(date -u +%s)
	sim_kubectl delete pod slow --wait=false
	[ "$(field slow .metadata.deletionGracePeriodSeconds)" = 120 ]
	ts=$(date -u -d "$(field slow .metadata.deletionTimestamp)" +%s)
	[ "$ts" -ge $((before + 119)) ]
	[ "$ts" -le $(($(date -u +%s) + 121)) ]
	[ "$(sim_kubectl get pod slow --no-headers | awk '{print $3}')" = Terminating ]
	# A second delete may only shorten the grace; a longer one changes nothing.
	run sim_kcurl /api/v1/namespaces/default/pods/slow -X DELETE \
	    -H 'Content-Type: application/json' -d '{"gracePeriodSeconds":300}'
	[ "$(jq -r .metadata.deletionGracePeriodSeconds <<<"$output")" = 120 ]
	run sim_kcurl /api/v1/namespaces/default/pods/slow -X DELETE \
	    -H 'Content-Type: application/json' -d '{"gracePeriodSeconds":1}'
	[ "$(jq -r .metadata.deletionGracePeriodSeconds <<<"$output")" = 1 ]
	sim_poll 30 gone slow
}

@test "a pod whose containers stop quickly goes before its grace, and grace 0 removes one at once" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	pod quick n1 0.5
	pod force n1 3600
	sim_poll 30 running quick
	sim_poll 30 running force
	sim_kubectl delete pod quick --wait=false
	sim_poll 30 gone quick
	sim_kubectl delete pod force --wait=false
	[ "$(field force .metadata.deletionGracePeriodSeconds)" = 30 ]
	sim_kubectl delete pod force --grace-period=0 --force
	gone force
	# An unbound pod has nothing to stop: it goes at once.
	pod pending '' '' '{}' '{"nodeSelector":{"nowhere":"x"}}'
	sim_kubectl delete pod pending --wait=false
	gone pending
}

@test "a finalizer holds a pod after its containers stopped, until it is removed" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	pod held n1 0 '{"finalizers":["example.com/hold"]}'
	sim_poll 30 running held
	sim_kubectl delete pod held --wait=false
	stopped() {
		[ "$(field held .metadata.deletionGracePeriodSeconds)" = 0 ]
	}
	sim_poll 30 stopped
	sim_kubectl patch pod held --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
	sim_poll 30 gone held
}

@test "a Node with a finalizer stays with its deletionTimestamp until the finalizer goes" {
	sim_start
	node_json n1 | jq -c '.metadata.finalizers = ["karpenter.sh/termination"]' |
	    sim_kubectl create -f -
	sim_kubectl delete node n1 --wait=false
	[ -n "$(sim_kubectl get node n1 -o jsonpath='{.metadata.deletionTimestamp}')" ]
	# A deleting object may lose finalizers, never gain one.
	run sim_kcurl /api/v1/nodes/n1 -X PATCH -H 'Content-Type: application/merge-patch+json' \
	    -d '{"metadata":{"finalizers":["karpenter.sh/termination","example.com/late"]}}' -w '\n%{http_code}'
	[ "${lines[-1]}" = 422 ]
	[ "$(jq -r .message <<<"${lines[0]}")" = 'nodes "n1" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/late"}' ]
	sim_kubectl patch node n1 --type=merge -p '{"metadata":{"finalizers":null}}'
	sim_poll 30 eval '! sim_kubectl get node n1 >/dev/null 2>&1'
}

@test "eviction checks the UID precondition, and a terminating or unbound pod is evicted without a budget check" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	pod a n1 3600
	sim_poll 30 running a
	pdb web minAvailable 1
	sim_poll 30 pdb_is web "1 1 0 1"
	uid=$(field a .metadata.uid)
	run evict a 00000000-0000-0000-0000-000000000000
	[ "${lines[-1]}" = 409 ]
	[ "$(jq -r .reason <<<"${lines[0]}")" = Conflict ]
	[ "$(jq -r .message <<<"${lines[0]}")" = "Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000, UID in object meta: $uid" ]
	run evict a "$uid"
	[ "${lines[-1]}" = 429 ]
	# Deleted by hand (a violation, counted), then evicted again: OK.
	sim_kubectl delete pod a --wait=false
	run evict a "$uid"
	[ "${lines[-1]}" = 201 ]
	[ "$(jq -r .status <<<"${lines[0]}")" = Success ]
	pod b '' '' '{}' '{"nodeSelector":{"nowhere":"x"}}'
	run evict b
	[ "${lines[-1]}" = 201 ]
	gone b
	run sim_acurl /nap-sim/stats
	[ "$(jq -c '[.pdbViolations, .evictions, .evictionsRefused]' <<<"$output")" = "[1,1,1]" ]
}

@test "a budget's status follows its pods, a percentage rounds up, and two budgets over a pod are a 500" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	for p in p1 p2 p3; do pod "$p" n1 3600; done
	pdb web minAvailable 50%
	# 50% of 3 rounds up: 2 must stay healthy.
	sim_poll 30 pdb_is web "3 2 1 3"
	run evict p1
	[ "${lines[-1]}" = 201 ]
	sim_poll 30 pdb_is web "2 1 1 2"
	run evict p2
	[ "${lines[-1]}" = 201 ]
	sim_poll 30 pdb_is web "1 1 0 1"
	run evict p3
	[ "${lines[-1]}" = 429 ]
	[ "$(jq -r .message <<<"${lines[0]}")" = "Cannot evict pod as it would violate the pod's disruption budget." ]
	pdb other minAvailable 0
	run evict p3
	[ "${lines[-1]}" = 500 ]
	[ "$(jq -r .message <<<"${lines[0]}")" = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." ]
	run sim_acurl /nap-sim/stats
	[ "$(jq -c '[.pdbViolations, .evictions, .evictionsRefused]' <<<"$output")" = "[0,2,1]" ]
	# A collection delete counts the healthy pod it takes below the budget,
	# not the two already terminating.
	sim_kcurl '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb' -X DELETE >/dev/null
	[ "$(sim_stat pdbViolations)" = 1 ]
}

@test "evicting a do-not-disrupt pod is counted, and DELETE /nap-sim/stats resets the counters" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	pod keep n1 '' '{"annotations":{"karpenter.sh/do-not-disrupt":"true"}}'
	pod other n1 '' '{"annotations":{"karpenter.sh/do-not-disrupt":"false"}}'
	sim_poll 30 running keep
	sim_poll 30 running other
	run evict other
	[ "${lines[-1]}" = 201 ]
	[ "$(sim_stat doNotDisruptEvicted)" = 0 ]
	run evict keep
	[ "${lines[-1]}" = 201 ]
	[ "$(sim_stat doNotDisruptEvicted)" = 1 ]
	[ "$(sim_stat evictions)" = 2 ]
	run sim_acurl /nap-sim/stats -X DELETE
	[ "$(jq -c '[.[]] | add' <<<"$output")" = 0 ]
	[ "$(sim_stat doNotDisruptEvicted)" = 0 ]
}

@test "a delete on the drain's forced path past the node's deadline is no PDB violation" {
	sim_start
	node_json n1 | jq -c --arg d "$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)" \
	    '.metadata.annotations["karpenter.sh/nodeclaim-termination-timestamp"] = $d' |
	    sim_kubectl create -f -
	node_json n2 | jq -c --arg d "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
	    '.metadata.annotations["karpenter.sh/nodeclaim-termination-timestamp"] = $d' |
	    sim_kubectl create -f -
	pod late n1 3600
	pod early n2 3600
	sim_poll 30 running late
	sim_poll 30 running early
	pdb web maxUnavailable 0
	sim_poll 30 pdb_is web "2 2 0 2"
	sim_kubectl delete pod late --wait=false
	[ "$(sim_stat deadlinePodDeletions)" = 1 ]
	[ "$(sim_stat pdbViolations)" = 0 ]
	sim_kubectl delete pod early --wait=false
	[ "$(sim_stat pdbViolations)" = 1 ]
}

@test "kubectl taint adds and removes a taint whole, and the scheduler honours it" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	sim_kubectl taint node n1 dedicated=gpu:NoSchedule
	sim_kubectl taint node n1 other=x:NoExecute
	# kubectl puts the new taint first and sends the whole list.
	[ "$(sim_kubectl get node n1 -o jsonpath='{.spec.taints[*].key}')" = "other dedicated" ]
	sim_kubectl taint node n1 dedicated-
	[ "$(sim_kubectl get node n1 -o jsonpath='{.spec.taints[*].key}')" = other ]
	pod waits
	unschedulable() {
		[ "$(field waits '.status.conditions[]? | select(.type == "PodScheduled") | .message')" = "$1" ]
	}
	sim_poll 30 unschedulable "0/1 nodes are available: 1 node(s) had untolerated taint {other: x}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
	[ "$(field waits .spec.nodeName)" = null ]
	# A controller's JSON patch replacing the list lets it in.
	sim_kcurl /api/v1/nodes/n1 -X PATCH -H 'Content-Type: application/json-patch+json' \
	    -d '[{"op":"replace","path":"/spec/taints","value":[]}]' >/dev/null
	sim_poll 30 running waits
	[ "$(field waits .spec.nodeName)" = n1 ]
}

@test "a pod with a claim has a VolumeAttachment on its node until a little after it is gone" {
	sim_start --world volume-detach-delay=2
	node_json n1 | sim_kubectl create -f -
	sim_kubectl apply -f - <<-'EOF'
	apiVersion: v1
	kind: PersistentVolumeClaim
	metadata: {name: data}
	spec:
	  accessModes: [ReadWriteOnce]
	  resources: {requests: {storage: 8Gi}}
	EOF
	bound() {
		[ "$(sim_kubectl get pvc data -o jsonpath='{.status.phase}')" = Bound ]
	}
	sim_poll 30 bound
	vol=$(sim_kubectl get pvc data -o jsonpath='{.spec.volumeName}')
	[ "$vol" = "pvc-$(sim_kubectl get pvc data -o jsonpath='{.metadata.uid}')" ]
	pod db n1 3600 '{}' '{"volumes":[{"name":"d","persistentVolumeClaim":{"claimName":"data"}}]}'
	attached() {
		[ "$(sim_kubectl get volumeattachments -o json |
		    jq -r '[.items[] | "\(.spec.nodeName) \(.spec.source.persistentVolumeName) \(.status.attached) \(.spec.attacher)"] | join(",")')" = "$1" ]
	}
	sim_poll 30 attached "n1 $vol true disk.csi.azure.com"
	run sim_kubectl get volumeattachments
	[[ "${lines[0]}" =~ ^NAME\ +ATTACHER\ +PV\ +NODE\ +ATTACHED\ +AGE$ ]]
	[[ "${lines[1]}" =~ ^csi-[0-9a-f]+\ +disk.csi.azure.com\ +$vol\ +n1\ +true\  ]]
	sim_kubectl delete pod db --wait=false
	# Terminating, the pod still uses the volume.
	attached "n1 $vol true disk.csi.azure.com"
	sim_kubectl delete pod db --grace-period=0 --force
	sim_poll 30 attached ""
}

@test "kubectl drain evicts through a budget, waits for terminating pods, and breaks no invariant" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	sim_kubectl apply -f - <<-'EOF'
	apiVersion: apps/v1
	kind: Deployment
	metadata: {name: web}
	spec:
	  replicas: 3
	  selector: {matchLabels: {app: web}}
	  template:
	    metadata:
	      labels: {app: web}
	      annotations: {sim.nap.dev/shutdown-seconds: "2"}
	    spec:
	      containers: [{name: c, image: nginx, volumeMounts: [{name: tmp, mountPath: /tmp}]}]
	      volumes: [{name: tmp, emptyDir: {}}]
	EOF
	sim_agent_daemonset
	on_n1() {
		[ "$(sim_kubectl get pods -A -o json | jq '[.items[] | select(.status.phase == "Running" and .spec.nodeName == "n1")] | length')" = 4 ]
	}
	sim_poll 60 on_n1
	node_json n2 | sim_kubectl create -f -
	sim_create_pdb web app=web 2
	sim_poll 30 eval '[ "$(sim_kubectl get pdb web -o jsonpath={.status.disruptionsAllowed})" = 1 ]'
	run timeout 180 kubectl --kubeconfig "$SIM_KUBECONFIG" drain n1 --ignore-daemonsets \
	    --delete-emptydir-data --timeout=170s
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Cannot evict pod as it would violate the pod's disruption budget."* ]]
	[[ "$output" == *"node/n1 drained"* ]]
	left() {
		[ "$(sim_kubectl get pods -A -o json | jq -r '[.items[] | select(.spec.nodeName == "n1") | .metadata.labels.app] | sort | join(",")')" = agent ]
	}
	left
	[ "$(sim_stat pdbViolations)" = 0 ]
	[ "$(sim_stat doNotDisruptEvicted)" = 0 ]
	[ "$(sim_stat evictionsRefused)" -ge 1 ]
}

@test "events.k8s.io/v1 Events are the core Events in their newer shape, both ways" {
	sim_start
	pod lonely '' '' '{}' '{"nodeSelector":{"nowhere":"x"}}'
	uid=$(field lonely .metadata.uid)
	sim_kcurl /apis/events.k8s.io/v1/namespaces/default/events -X POST \
	    -H 'Content-Type: application/json' -d "$(jq -cn --arg u "$uid" '{apiVersion:"events.k8s.io/v1",
	    kind:"Event",metadata:{name:"lonely.disrupt1",namespace:"default"},
	    eventTime:"2026-12-07T10:00:00.000000Z",reportingController:"karpenter.sh/disruption",
	    reportingInstance:"nap-disrupt-1",action:"Evict",reason:"DisruptionBlocked",type:"Normal",
	    note:"Cannot disrupt Node: state node is nominated for a pending pod",
	    regarding:{apiVersion:"v1",kind:"Pod",namespace:"default",name:"lonely",uid:$u}}')" >/dev/null
	run sim_kubectl get events --field-selector involvedObject.name=lonely -o json
	[ "$(jq -r '.items[] | select(.reason == "DisruptionBlocked") | .message + " / " + .reportingComponent' <<<"$output")" = "Cannot disrupt Node: state node is nominated for a pending pod / karpenter.sh/disruption" ]
	run sim_kubectl get events.events.k8s.io
	[[ "$output" =~ DisruptionBlocked\ +pod/lonely\ +Cannot\ disrupt\ Node:\ state\ node\ is\ nominated ]]
	run sim_kubectl describe pod lonely
	[[ "$output" == *DisruptionBlocked*"Cannot disrupt Node: state node is nominated for a pending pod"* ]]
	# The scheduler's core Event shows in the new shape.
	failed() {
		sim_kcurl /apis/events.k8s.io/v1/namespaces/default/events | jq -e '.items[] |
		    select(.reason == "FailedScheduling" and .regarding.name == "lonely") | .note' >/dev/null
	}
	sim_poll 30 failed
	sim_kubectl delete events --all >/dev/null
	run sim_kcurl /apis/events.k8s.io/v1/namespaces/default/events
	[ "$(jq '.items | length' <<<"$output")" = 0 ]
}

@test "an ARM DELETE of a VM whose Node still runs a drainable pod is counted, a DaemonSet pod is not" {
	sim_start --catalog "$BATS_TEST_DIRNAME/../data" --time-scale 100
	sim_arm_login
	sim_launch aks-default-v1 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	sim_launch aks-default-v2 Standard_D2s_v3 1 Regular "$(sim_boot '{}' '[]' '[]')"
	# Slurped: jq 1.6 -e exits 0 on no input at all, so a Node not
	# registered yet (kubectl prints nothing) passed, and the pod bound to
	# it was collected as an orphan before it could run.
	ready() {
		sim_kubectl get node "$1" -o json 2>/dev/null |
		    jq -se 'any(.[0].status.conditions[]?; .type == "Ready" and .status == "True")' >/dev/null
	}
	sim_poll 60 ready aks-default-v1
	sim_poll 60 ready aks-default-v2
	pod app aks-default-v1
	# A real DaemonSet: a pod whose controller does not exist is garbage
	# collected, as the API server's collector does, and may go before it runs.
	sim_agent_daemonset >/dev/null
	ds_running_on() {
		sim_kubectl get pods -n kube-system -l app=agent -o json |
		    jqe --arg n "$1" 'any(.items[]; .spec.nodeName == $n and .status.phase == "Running")' >/dev/null
	}
	sim_poll 60 running app
	sim_poll 60 ds_running_on aks-default-v2
	[ "$(sim_arm DELETE "$SIM_VMS/aks-default-v1?$SIM_CV")" = 202 ]
	# Asking again (while it goes, or once gone: 204) is the same deletion.
	[[ "$(sim_arm DELETE "$SIM_VMS/aks-default-v1?$SIM_CV")" =~ ^20[24]$ ]]
	[ "$(sim_arm DELETE "$SIM_VMS/aks-default-v2?$SIM_CV")" = 202 ]
	run sim_acurl /nap-sim/stats
	[ "$(jq -c '[.vmsDeleted, .vmsDeletedWithPods, .vmsDeletedPastDeadline]' <<<"$output")" = "[2,1,0]" ]
}

@test "a pod terminating when nap-sim stops finishes its grace after a restart with --state" {
	sim_start --state "$BATS_TEST_TMPDIR/state.json"
	node_json n1 | sim_kubectl create -f -
	# Placed by the scheduler, so it has a Scheduled Event.
	pod slow '' 3600 '{}' '{"terminationGracePeriodSeconds":20}'
	sim_poll 30 running slow
	sim_kubectl delete pod slow --wait=false
	sim_stop
	sim_start --state "$BATS_TEST_TMPDIR/state.json"
	[ "$(field slow .metadata.deletionGracePeriodSeconds)" = 20 ]
	sim_poll 60 gone slow
	# Events in both shapes survive too.
	[ "$(sim_kcurl /apis/events.k8s.io/v1/namespaces/default/events | jq '[.items[] | select(.regarding.name == "slow")] | length')" -ge 1 ]
	[ "$(sim_kcurl /api/v1/namespaces/default/events | jq '[.items[] | select(.involvedObject.name == "slow")] | length')" -ge 1 ]
}
