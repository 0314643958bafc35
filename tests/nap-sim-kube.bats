#!/usr/bin/env bats
# nap-sim's Kubernetes API server, driven by the real kubectl and by curl.

load helpers/sim

# the shared fixtures (helpers/sim: $NAP_FIXTURES); need_fixtures fails without them
FIX=$NAP_FIXTURES

setup() {
	WATCHERS=()
}

teardown() {
	local p
	for p in "${WATCHERS[@]}"; do
		kill "$p" 2>/dev/null || :
	done
	sim_stop || :
}

node_json() {	# name
	printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64"}},"spec":{},"status":{"capacity":{"cpu":"8","memory":"32Gi","pods":"110"},"allocatable":{"cpu":"8","memory":"32Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status"}]}}' "$1" "$1"
}

count_pods() {	# selector wanted-count
	local n
	n=$(sim_kubectl get pods -l "$1" -o json |
	    jq '[.items[] | select(.metadata.deletionTimestamp == null)] | length')
	[ "$n" -eq "$2" ]
}

running_on() {	# selector node count
	local n
	n=$(sim_kubectl get pods -l "$1" -o json | jq --arg n "$2" \
	    '[.items[] | select(.metadata.deletionTimestamp == null and .spec.nodeName == $n and .status.phase == "Running")] | length')
	[ "$n" -eq "$3" ]
}

running() {	# selector count
	local n
	n=$(sim_kubectl get pods -l "$1" -o json | jq \
	    '[.items[] | select(.metadata.deletionTimestamp == null and .status.phase == "Running")] | length')
	[ "$n" -eq "$2" ]
}

@test "kubectl applies the AKS NodePool and AKSNodeClass examples and reads them back" {
	need_fixtures
	sim_start
	run sim_kubectl apply -f "$FIX/karpenter/azure-default_nodepool.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "nodepool.karpenter.sh/default created" ]
	run sim_kubectl apply -f "$FIX/karpenter/azure-default_aksnodeclass.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "aksnodeclass.karpenter.azure.com/default created" ]
	run sim_kubectl get nodepool default -o json
	[ "$status" -eq 0 ]
	[ "$(jq -r .spec.template.spec.nodeClassRef.kind <<<"$output")" = AKSNodeClass ]
	[ "$(jq -r .metadata.resourceVersion <<<"$output")" != null ]
	[ "$(jq -r .metadata.uid <<<"$output")" != null ]
	run sim_kubectl get aksnc default -o jsonpath='{.spec.imageFamily} {.spec.osDiskSizeGB}'
	[ "$output" = "Ubuntu2204 128" ]
	run sim_kubectl apply -f "$FIX/karpenter/azure-default_nodepool.yaml"
	[ "$output" = "nodepool.karpenter.sh/default unchanged" ]
}

@test "a NodePool created without a disruption block gets Karpenter's defaults" {
	sim_start
	sim_kubectl apply -f - <<-'EOF'
	apiVersion: karpenter.sh/v1
	kind: NodePool
	metadata: {name: small}
	spec:
	  template:
	    spec:
	      nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	      requirements: [{key: kubernetes.io/os, operator: In, values: [linux]}]
	EOF
	run sim_kubectl get nodepool small -o json
	[ "$(jq -c .spec.disruption <<<"$output")" = '{"budgets":[{"nodes":"10%"}],"consolidateAfter":"0s","consolidationPolicy":"WhenEmptyOrUnderutilized"}' ]
	[ "$(jq -r .spec.template.spec.expireAfter <<<"$output")" = 720h ]
}

@test "kubectl get crd lists the Karpenter kinds and short names resolve" {
	sim_start
	run sim_kubectl get crd -o name
	[ "$status" -eq 0 ]
	[[ "$output" == *"customresourcedefinition.apiextensions.k8s.io/nodepools.karpenter.sh"* ]]
	[[ "$output" == *"nodeclaims.karpenter.sh"* ]]
	[[ "$output" == *"aksnodeclasses.karpenter.azure.com"* ]]
	run sim_kubectl get no,po,ns -o name
	[ "$status" -eq 0 ]
	[[ "$output" == *"namespace/kube-system"* ]]
	run sim_kubectl api-resources --api-group=karpenter.sh -o name
	[[ "$output" == *"nodepools.karpenter.sh"* ]]
}

@test "kubectl get -w sees a label change" {
	need_fixtures
	sim_start
	sim_kubectl apply -f "$FIX/karpenter/azure-default_nodepool.yaml"
	sim_kubectl get nodepool default -w -o 'jsonpath={.metadata.labels.tier}{"\n"}' \
	    >"$BATS_TEST_TMPDIR/watch.out" 2>&1 &
	WATCHERS+=($!)
	# The watch is open once the initial state arrived (an empty line).
	sim_poll 30 test -s "$BATS_TEST_TMPDIR/watch.out"
	sim_kubectl label nodepool default tier=gold
	sim_poll 30 grep -qx gold "$BATS_TEST_TMPDIR/watch.out"
}

@test "create deployment and scale make and remove pods named like the real ones" {
	sim_start
	run sim_kubectl create deployment web --image=nginx --replicas=2
	[ "$status" -eq 0 ]
	sim_poll 30 count_pods app=web 2
	run sim_kubectl get pods -l app=web -o name
	for p in $output; do
		[[ "$p" =~ ^pod/web-[a-z0-9]{10}-[a-z0-9]{5}$ ]]
	done
	run sim_kubectl scale deployment web --replicas=4
	[ "$status" -eq 0 ]
	sim_poll 30 count_pods app=web 4
	sim_kubectl scale deployment web --replicas=1
	sim_poll 30 count_pods app=web 1
	run sim_kubectl get deployment web -o jsonpath='{.spec.replicas} {.status.observedGeneration}'
	[ "$output" = "1 3" ]
	run sim_kubectl delete deployment web
	[ "$status" -eq 0 ]
	sim_poll 30 count_pods app=web 0
	run sim_kubectl get replicasets -o name
	[ -z "$output" ]
}

@test "cordon and uncordon flip spec.unschedulable" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	run sim_kubectl cordon n1
	[ "$status" -eq 0 ]
	[ "$(sim_kubectl get node n1 -o jsonpath='{.spec.unschedulable}')" = true ]
	sim_kubectl uncordon n1
	[ -z "$(sim_kubectl get node n1 -o jsonpath='{.spec.unschedulable}')" ]
}

@test "drain evicts every pod but waits for the PodDisruptionBudget" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	sim_kubectl create deployment web --image=nginx --replicas=3
	sim_poll 60 running_on app=web n1 3
	node_json n2 | sim_kubectl create -f -
	sim_create_pdb web app=web 2
	sim_poll 30 eval '[ "$(sim_kubectl get pdb web -o jsonpath={.status.disruptionsAllowed})" = 1 ]'
	run timeout 120 kubectl --kubeconfig "$SIM_KUBECONFIG" drain n1 --ignore-daemonsets
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Cannot evict pod as it would violate the pod's disruption budget."* ]]
	# kubectl 1.20 ends a drain with "node/n1 evicted"; later ones "drained".
	[[ "$output" == *"node/n1 drained"* || "$output" == *"node/n1 evicted"* ]]
	# Where the replacements land is the scheduler's business; that they
	# come back and run is the ReplicaSet's.
	sim_poll 60 running app=web 3
}

@test "eviction refused by a PDB is a 429 TooManyRequests Status with the budget's cause" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	sim_kubectl create deployment web --image=nginx --replicas=1
	sim_poll 60 running_on app=web n1 1
	sim_create_pdb web app=web 1
	sim_poll 30 eval '[ "$(sim_kubectl get pdb web -o jsonpath={.status.currentHealthy})" = 1 ]'
	pod=$(sim_kubectl get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
	run sim_kcurl "/api/v1/namespaces/default/pods/$pod/eviction" -X POST \
	    -H 'Content-Type: application/json' -w '\n%{http_code}' \
	    -d "{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"$pod\",\"namespace\":\"default\"}}"
	[ "${lines[1]}" = 429 ]
	[ "$(jq -r .reason <<<"${lines[0]}")" = TooManyRequests ]
	[ "$(jq -r .message <<<"${lines[0]}")" = "Cannot evict pod as it would violate the pod's disruption budget." ]
	[ "$(jq -r '.details.causes[0].reason' <<<"${lines[0]}")" = DisruptionBudget ]
	[ "$(jq -r '.details.causes[0].message' <<<"${lines[0]}")" = "The disruption budget web needs 1 healthy pods and has 1 currently" ]
}

@test "a watch from a compacted resourceVersion ends with an in-stream 410 Expired" {
	sim_start --history 5
	for i in 1 2 3 4 5 6 7 8; do
		sim_kubectl create namespace "ns$i" >/dev/null
	done
	run sim_kcurl '/api/v1/namespaces?watch=1&resourceVersion=2&timeoutSeconds=5'
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<<"${lines[0]}")" = ERROR ]
	[ "$(jq -r .object.code <<<"${lines[0]}")" = 410 ]
	[ "$(jq -r .object.reason <<<"${lines[0]}")" = Expired ]
	[[ "$(jq -r .object.message <<<"${lines[0]}")" == "too old resource version: 2 ("* ]]
}

@test "a watch resumed from a recent resourceVersion replays only later changes, then a bookmark" {
	sim_start
	rv=$(sim_kcurl /api/v1/namespaces | jq -r .metadata.resourceVersion)
	sim_kubectl create namespace later >/dev/null
	run sim_kcurl "/api/v1/namespaces?watch=true&resourceVersion=$rv&allowWatchBookmarks=true&timeoutSeconds=1"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq -r '.type + " " + .object.metadata.name' <<<"${lines[0]}")" = "ADDED later" ]
	[ "$(jq -r '.type + " " + .object.kind' <<<"${lines[1]}")" = "BOOKMARK Namespace" ]
}

@test "lists page with limit and continue, and an expired continue token is 410" {
	sim_start --continue-ttl 5
	for i in 1 2 3 4 5; do
		sim_kubectl create namespace "p$i" >/dev/null
	done
	first=$(sim_kcurl '/api/v1/namespaces?limit=4')
	[ "$(jq '.items | length' <<<"$first")" -eq 4 ]
	[ "$(jq '.metadata.remainingItemCount' <<<"$first")" -eq 5 ]
	token=$(jq -r .metadata.continue <<<"$first")
	second=$(sim_kcurl "/api/v1/namespaces?limit=10&continue=$token")
	[ "$(jq '.items | length' <<<"$second")" -eq 5 ]
	[ "$(jq -r '.metadata.continue // "none"' <<<"$second")" = none ]
	[ "$(jq -r .metadata.resourceVersion <<<"$second")" = "$(jq -r .metadata.resourceVersion <<<"$first")" ]
	all=$( (jq -r '.items[].metadata.name' <<<"$first"; jq -r '.items[].metadata.name' <<<"$second") | sort -u | wc -l)
	[ "$all" -eq 9 ]
	token=$(sim_kcurl '/api/v1/namespaces?limit=1' | jq -r .metadata.continue)
	expired() {
		[ "$(sim_kcurl "/api/v1/namespaces?limit=1&continue=$token" -o /dev/null -w '%{http_code}')" = 410 ]
	}
	sim_poll 30 expired
}

@test "label and field selectors filter lists" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	sim_kubectl create deployment web --image=nginx --replicas=2
	sim_kubectl create deployment db --image=postgres --replicas=1
	sim_poll 60 running_on app=web n1 2
	run sim_kubectl get pods -l 'app in (db)' -o name
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == pod/db-* ]]
	run sim_kcurl '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1%2Cstatus.phase%3DRunning&labelSelector=app%21%3Ddb'
	[ "$(jq '.items | length' <<<"$output")" -eq 2 ]
	run sim_kcurl '/api/v1/pods?fieldSelector=spec.bogus%3Dx' -w '\n%{http_code}'
	[ "${lines[1]}" = 400 ]
	[ "$(jq -r .message <<<"${lines[0]}")" = "field label not supported: spec.bogus" ]
}

@test "a stale resourceVersion on update is 409 Conflict, a duplicate create 409 AlreadyExists" {
	sim_start
	sim_kubectl create namespace team >/dev/null
	old=$(sim_kcurl /api/v1/namespaces/team)
	sim_kubectl label namespace team a=b >/dev/null
	run sim_kcurl /api/v1/namespaces/team -X PUT -H 'Content-Type: application/json' \
	    -d "$old" -w '\n%{http_code}'
	[ "${lines[1]}" = 409 ]
	[ "$(jq -r .reason <<<"${lines[0]}")" = Conflict ]
	[ "$(jq -r .message <<<"${lines[0]}")" = 'Operation cannot be fulfilled on namespaces "team": the object has been modified; please apply your changes to the latest version and try again' ]
	run sim_kcurl /api/v1/namespaces -X POST -H 'Content-Type: application/json' \
	    -d '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}' -w '\n%{http_code}'
	[ "${lines[1]}" = 409 ]
	[ "$(jq -c '[.reason, .message, .details.name, .details.kind]' <<<"${lines[0]}")" = '["AlreadyExists","namespaces \"team\" already exists","team","namespaces"]' ]
}

@test "bad bodies, unknown kinds, wrong types and oversize requests get real Status errors" {
	sim_start --max-body 2000
	run sim_kcurl /api/v1/namespaces -X POST -H 'Content-Type: application/json' \
	    -d '{"apiVersion":"v1","kind":"Namespace",' -w '\n%{http_code}'
	[ "${lines[1]}" = 400 ]
	[ "$(jq -r '.kind + " " + .reason' <<<"${lines[0]}")" = "Status BadRequest" ]
	run sim_kcurl /api/v1/namespaces -X POST -H 'Content-Type: application/json' \
	    -d '[1,2]' -w '\n%{http_code}'
	[ "${lines[1]}" = 400 ]
	run sim_kcurl /api/v1/namespaces -X POST -H 'Content-Type: application/json' \
	    -d '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}' -w '\n%{http_code}'
	[ "${lines[1]}" = 400 ]
	run sim_kcurl /apis/example.com/v1/widgets -w '\n%{http_code}'
	[ "${lines[1]}" = 404 ]
	[ "$(jq -r .reason <<<"${lines[0]}")" = NotFound ]
	run sim_kcurl /api/v1/namespaces -X POST -H 'Content-Type: text/plain' -d 'hello' -w '\n%{http_code}'
	[ "${lines[1]}" = 415 ]
	[ "$(jq -r .reason <<<"${lines[0]}")" = UnsupportedMediaType ]
	run sim_kcurl /api/v1/namespaces/default -X PATCH -H 'Content-Type: application/xml' -d '<a/>' -w '\n%{http_code}'
	[ "${lines[1]}" = 415 ]
	big=$(head -c 5000 /dev/zero | tr '\0' a)
	run sim_kcurl /api/v1/namespaces -X POST -H 'Content-Type: application/json' \
	    -d "{\"metadata\":{\"name\":\"$big\"}}" -w '\n%{http_code}'
	[ "${lines[1]}" = 413 ]
	[ "$(jq -r .reason <<<"${lines[0]}")" = RequestEntityTooLarge ]
	run sim_kcurl /api/v1/namespaces/default -X DELETE -w '\n%{http_code}'
	[ "${lines[1]}" = 403 ]
	run sim_kcurl /api/v1/namespaces/nope -w '\n%{http_code}'
	[ "${lines[1]}" = 404 ]
	[ "$(jq -r .message <<<"${lines[0]}")" = 'namespaces "nope" not found' ]
	# Still serving after all that.
	run sim_kubectl get ns default -o name
	[ "$output" = namespace/default ]
}

@test "requests without the bearer token are 401 Unauthorized" {
	sim_start
	run curl -sS --cacert "$SIM_CA" -w '\n%{http_code}' "$SIM_KUBE_URL/api/v1/pods"
	[ "${lines[1]}" = 401 ]
	[ "$(jq -r .reason <<<"${lines[0]}")" = Unauthorized ]
	run curl -sS --cacert "$SIM_CA" -H 'Authorization: Bearer wrong' -o /dev/null \
	    -w '%{http_code}' "$SIM_KUBE_URL/version"
	[ "$output" = 401 ]
}

@test "merge, JSON and strategic merge patches change what kubectl changes" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	sim_kcurl /api/v1/nodes/n1 -X PATCH -H 'Content-Type: application/strategic-merge-patch+json' \
	    -d '{"spec":{"taints":[{"key":"a","value":"1","effect":"NoSchedule"}]}}' >/dev/null
	# spec.taints has no merge key in the real API: the list is replaced whole.
	sim_kcurl /api/v1/nodes/n1 -X PATCH -H 'Content-Type: application/strategic-merge-patch+json' \
	    -d '{"spec":{"taints":[{"key":"b","effect":"NoExecute"}]}}' >/dev/null
	[ "$(sim_kubectl get node n1 -o jsonpath='{.spec.taints[*].key}')" = b ]
	sim_kcurl /api/v1/nodes/n1 -X PATCH -H 'Content-Type: application/strategic-merge-patch+json' \
	    -d '{"spec":{"taints":[{"key":"a","value":"1","effect":"NoSchedule"},{"key":"b","effect":"NoExecute"}]}}' >/dev/null
	[ "$(sim_kubectl get node n1 -o jsonpath='{.spec.taints[*].key}')" = "a b" ]
	sim_kcurl /api/v1/nodes/n1 -X PATCH -H 'Content-Type: application/merge-patch+json' \
	    -d '{"metadata":{"labels":{"kubernetes.io/os":null,"x":"y"}}}' >/dev/null
	run sim_kubectl get node n1 -o json
	[ "$(jq -c '.metadata.labels | [has("kubernetes.io/os"), .x]' <<<"$output")" = '[false,"y"]' ]
	rv=$(jq -r .metadata.resourceVersion <<<"$output")
	run sim_kcurl /api/v1/nodes/n1 -X PATCH -H 'Content-Type: application/json-patch+json' \
	    -d '[{"op":"test","path":"/metadata/resourceVersion","value":"1"},{"op":"remove","path":"/spec/taints/0"}]' \
	    -w '\n%{http_code}'
	[ "${lines[1]}" = 422 ]
	run sim_kcurl /api/v1/nodes/n1 -X PATCH -H 'Content-Type: application/json-patch+json' \
	    -d "[{\"op\":\"test\",\"path\":\"/metadata/resourceVersion\",\"value\":\"$rv\"},{\"op\":\"remove\",\"path\":\"/spec/taints/0\"}]" \
	    -w '\n%{http_code}'
	[ "${lines[1]}" = 200 ]
	[ "$(sim_kubectl get node n1 -o jsonpath='{.spec.taints[*].key}')" = b ]
	# The main resource ignores status; the status subresource takes it.
	sim_kcurl /api/v1/nodes/n1 -X PATCH -H 'Content-Type: application/merge-patch+json' \
	    -d '{"status":{"capacity":{"cpu":"99"}}}' >/dev/null
	[ "$(sim_kubectl get node n1 -o jsonpath='{.status.capacity.cpu}')" = 8 ]
	sim_kcurl /api/v1/nodes/n1/status -X PATCH -H 'Content-Type: application/merge-patch+json' \
	    -d '{"status":{"capacity":{"cpu":"99"}}}' >/dev/null
	[ "$(sim_kubectl get node n1 -o jsonpath='{.status.capacity.cpu}')" = 99 ]
}

@test "finalizers hold a deleted object with a deletionTimestamp until they are removed" {
	sim_start
	sim_kubectl apply -f - <<-'EOF'
	apiVersion: karpenter.sh/v1
	kind: NodeClaim
	metadata: {name: held, finalizers: [karpenter.sh/termination]}
	spec:
	  nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	  requirements: [{key: kubernetes.io/os, operator: In, values: [linux]}]
	EOF
	run sim_kubectl delete nodeclaim held --wait=false
	[ "$status" -eq 0 ]
	run sim_kubectl get nodeclaim held -o jsonpath='{.metadata.deletionTimestamp}'
	[ -n "$output" ]
	sim_kubectl patch nodeclaim held --type=merge -p '{"metadata":{"finalizers":null}}'
	run sim_kubectl get nodeclaim held
	[ "$status" -ne 0 ]
	[[ "$output" == *'nodeclaims.karpenter.sh "held" not found'* ]]
}

@test "the NodeClaim spec is immutable" {
	sim_start
	sim_kubectl apply -f - <<-'EOF'
	apiVersion: karpenter.sh/v1
	kind: NodeClaim
	metadata: {name: fixed}
	spec:
	  nodeClassRef: {group: karpenter.azure.com, kind: AKSNodeClass, name: default}
	  requirements: [{key: kubernetes.io/os, operator: In, values: [linux]}]
	EOF
	run sim_kubectl patch nodeclaim fixed --type=merge -p '{"spec":{"expireAfter":"1h"}}'
	[ "$status" -ne 0 ]
	[[ "$output" == *"spec is immutable"* ]]
}

@test "SIGTERM exits 0 and --state keeps the objects across a restart" {
	need_fixtures
	sim_start --state "$BATS_TEST_TMPDIR/state.json"
	sim_kubectl apply -f "$FIX/karpenter/azure-default_nodepool.yaml"
	uid=$(sim_kubectl get nodepool default -o jsonpath='{.metadata.uid}')
	rc=0
	sim_stop || rc=$?
	[ "$rc" -eq 0 ]
	[ -s "$BATS_TEST_TMPDIR/state.json" ]
	sim_start --state "$BATS_TEST_TMPDIR/state.json"
	[ "$(sim_kubectl get nodepool default -o jsonpath='{.metadata.uid}')" = "$uid" ]
	sim_kubectl create namespace after >/dev/null
}

@test "a bad flag is a usage error with status 64" {
	run "$NAP_BIN/nap-sim" --no-such-flag
	[ "$status" -eq 64 ]
	[[ "$output" == *"usage: nap-sim"* ]]
}

@test "the kubeconfig and nap.yaml appear only with the endpoints in them" {
	sim_start
	grep -q "server: $SIM_KUBE_URL" "$SIM_KUBECONFIG"
	grep -q "armEndpoint: $SIM_ARM_URL" "$SIM_CONFIG"
	grep -q "caFile: $SIM_CA" "$SIM_CONFIG"
	run curl -sS --cacert "$SIM_CA" "$SIM_INSECURE_URL/version"
	[ "$(jq -r .gitVersion <<<"$output")" = v1.32.4 ]
}

@test "a DaemonSet runs one pod per node it tolerates and drain leaves it alone" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	node_json n2 | sim_kubectl create -f -
	sim_agent_daemonset
	daemons() {
		[ "$(sim_kubectl -n kube-system get pods -l app=agent -o json |
		    jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .spec.nodeName] | sort | join(",")')" = "$1" ]
	}
	sim_poll 30 daemons n1,n2
	run sim_kubectl -n kube-system get pods -l app=agent -o json
	[ "$(jq -r '.items[0].metadata.ownerReferences[0].kind' <<<"$output")" = DaemonSet ]
	sim_kubectl taint node n2 dedicated=x:NoExecute
	sim_poll 30 daemons n1
	run timeout 60 kubectl --kubeconfig "$SIM_KUBECONFIG" drain n1 --ignore-daemonsets
	[ "$status" -eq 0 ]
	daemons n1
}

@test "kubectl get prints the columns the real server's printers give" {
	need_fixtures
	sim_start
	node_json n1 | sim_kubectl create -f -
	sim_kubectl create deployment web --image=nginx --replicas=2
	sim_poll 60 running_on app=web n1 2
	run sim_kubectl get pods
	[[ "${lines[0]}" =~ ^NAME\ +READY\ +STATUS\ +RESTARTS\ +AGE$ ]]
	[[ "${lines[1]}" =~ ^web-[a-z0-9]+-[a-z0-9]+\ +1/1\ +Running\ +0\  ]]
	run sim_kubectl get deployment web
	[[ "${lines[0]}" =~ ^NAME\ +READY\ +UP-TO-DATE\ +AVAILABLE\ +AGE$ ]]
	[[ "${lines[1]}" =~ ^web\ +2/2\ +2\ +2\  ]]
	run sim_kubectl get nodes
	[[ "${lines[1]}" =~ ^n1\ +Ready\  ]]
	sim_kubectl apply -f "$FIX/karpenter/azure-default_nodepool.yaml"
	run sim_kubectl get nodepools
	[[ "${lines[0]}" =~ ^NAME\ +NODECLASS\ +NODES\ +READY\ +AGE$ ]]
}

@test "pod quantities are stored canonically, custom resources as written" {
	need_fixtures
	sim_start
	sim_kubectl apply -f - <<-'EOF2'
	apiVersion: v1
	kind: Pod
	metadata: {name: q}
	spec:
	  containers: [{name: a, image: x, resources: {requests: {cpu: 1.5, memory: 0.5Gi}, limits: {cpu: "2000m"}}}]
	EOF2
	run sim_kubectl get pod q -o jsonpath='{.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.requests.memory} {.spec.containers[0].resources.limits.cpu}'
	[ "$output" = "1500m 512Mi 2" ]
	sim_kubectl apply -f "$FIX/karpenter/azure-default_nodepool.yaml"
	[ "$(sim_kubectl get nodepool default -o jsonpath='{.spec.limits.memory}')" = 1000Gi ]
}

@test "a watch-list sends the current objects, an initial-events-end bookmark, then changes" {
	sim_start
	run sim_kcurl '/api/v1/namespaces?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1'
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<<"${lines[0]}")" = ADDED ]
	[ "$(jq -r '.object.metadata.annotations["k8s.io/initial-events-end"]' <<<"${lines[4]}")" = true ]
	run sim_kcurl '/api/v1/namespaces?watch=1&sendInitialEvents=true' -w '\n%{http_code}'
	[ "${lines[1]}" = 422 ]
}

@test "a cordoned node carries the unschedulable taint until uncordoned" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	sim_kubectl cordon n1
	tainted() {
		[ "$(sim_kubectl get node n1 -o jsonpath='{.spec.taints[*].key}')" = "$1" ]
	}
	sim_poll 30 tainted node.kubernetes.io/unschedulable
	sim_kubectl uncordon n1
	sim_poll 30 tainted ""
}

@test "a StatefulSet makes ordinal pods in order and scales down from the top" {
	sim_start
	node_json n1 | sim_kubectl create -f -
	sim_kubectl apply -f - <<-'EOF2'
	apiVersion: apps/v1
	kind: StatefulSet
	metadata: {name: zk}
	spec:
	  replicas: 3
	  serviceName: zk
	  selector: {matchLabels: {app: zk}}
	  template:
	    metadata: {labels: {app: zk}}
	    spec:
	      containers: [{name: zk, image: zookeeper}]
	EOF2
	names() {
		[ "$(sim_kubectl get pods -l app=zk -o json |
		    jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .metadata.name] | sort | join(",")')" = "$1" ]
	}
	sim_poll 60 names zk-0,zk-1,zk-2
	sim_kubectl scale statefulset zk --replicas=1
	sim_poll 30 names zk-0
	run sim_kubectl get sts zk
	[[ "${lines[1]}" =~ ^zk\ +1/1\  ]]
}

@test "with --watch-410 http a compacted resourceVersion is an HTTP 410 Status" {
	sim_start --history 2 --watch-410 http
	for i in 1 2 3 4; do
		sim_kubectl create namespace "h$i" >/dev/null
	done
	run sim_kcurl '/api/v1/namespaces?watch=1&resourceVersion=1' -w '\n%{http_code}'
	[ "${lines[1]}" = 410 ]
	[ "$(jq -r '.kind + " " + .reason' <<<"${lines[0]}")" = "Status Expired" ]
	run sim_kubectl get np,nc -o name
	[ "$status" -eq 0 ]
}

@test "a Lease changes hands only with the resourceVersion last read" {
	sim_start
	run sim_kcurl /apis/coordination.k8s.io/v1/namespaces/kube-system/leases -X POST \
	    -H 'Content-Type: application/json' -w '\n%{http_code}' \
	    -d '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"aks-nap"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15,"acquireTime":"2026-01-01T10:00:00.000000Z","renewTime":"2026-01-01T10:00:00.000000Z","leaseTransitions":0}}'
	[ "${lines[1]}" = 201 ]
	read_lease=${lines[0]}
	take() {	# holder, lease body read before
		jq -c --arg h "$1" '.spec.holderIdentity = $h | .spec.leaseTransitions += 1' <<<"$2" |
		    sim_kcurl /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/aks-nap \
		    -X PUT -H 'Content-Type: application/json' -d @- -o /dev/null -w '%{http_code}'
	}
	[ "$(take b "$read_lease")" = 200 ]
	[ "$(take c "$read_lease")" = 409 ]
	run sim_kubectl -n kube-system get lease aks-nap -o jsonpath='{.spec.holderIdentity} {.spec.leaseTransitions} {.spec.renewTime}'
	[ "$output" = "b 1 2026-01-01T10:00:00.000000Z" ]
}

@test "kubectl api-resources lists the four RBAC kinds, roles and rolebindings namespaced, none with a short name" {
	sim_start
	run sim_kubectl api-resources --api-group=rbac.authorization.k8s.io --no-headers
	echo "$output"
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" =~ ^clusterrolebindings\ +rbac.authorization.k8s.io/v1\ +false\ +ClusterRoleBinding$ ]]
	[[ "${lines[1]}" =~ ^clusterroles\ +rbac.authorization.k8s.io/v1\ +false\ +ClusterRole$ ]]
	[[ "${lines[2]}" =~ ^rolebindings\ +rbac.authorization.k8s.io/v1\ +true\ +RoleBinding$ ]]
	[[ "${lines[3]}" =~ ^roles\ +rbac.authorization.k8s.io/v1\ +true\ +Role$ ]]
}

@test "kubectl creates, gets, lists, watches and deletes a Role and a RoleBinding in a namespace" {
	sim_start
	sim_kubectl create namespace team
	# kubectl create role|rolebinding send protobuf; apply sends JSON.
	sim_kubectl -n team create role reader --verb=get,list,watch --resource=pods,configmaps
	sim_kubectl -n team create rolebinding readers --role=reader --user=alice --serviceaccount=team:bot
	sim_kubectl -n team get role reader -o json | jqe '.kind == "Role"
	    and .apiVersion == "rbac.authorization.k8s.io/v1" and .metadata.namespace == "team"
	    and .rules == [{apiGroups: [""], resources: ["pods", "configmaps"], verbs: ["get", "list", "watch"]}]'
	sim_kubectl -n team get rolebinding readers -o json | jqe '
	    .roleRef == {apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader"}
	    and .subjects == [{apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice"},
		{kind: "ServiceAccount", name: "bot", namespace: "team"}]'
	sim_kubectl -n team get roles -w --output-watch-events \
	    -o 'jsonpath={.type} {.object.metadata.name}{"\n"}' >"$BATS_TEST_TMPDIR/roles.out" 2>&1 &
	WATCHERS+=($!)
	sim_kubectl -n team get rolebindings -w --output-watch-events \
	    -o 'jsonpath={.type} {.object.metadata.name}{"\n"}' >"$BATS_TEST_TMPDIR/bindings.out" 2>&1 &
	WATCHERS+=($!)
	sim_poll 30 grep -qx 'ADDED reader' "$BATS_TEST_TMPDIR/roles.out"
	sim_poll 30 grep -qx 'ADDED readers' "$BATS_TEST_TMPDIR/bindings.out"
	sim_kubectl apply -f - <<-'EOF'
	apiVersion: rbac.authorization.k8s.io/v1
	kind: Role
	metadata: {name: writer, namespace: team}
	rules:
	  - apiGroups: [apps]
	    resources: [deployments]
	    verbs: [create, patch]
	EOF
	sim_poll 30 grep -qx 'ADDED writer' "$BATS_TEST_TMPDIR/roles.out"
	run sim_kubectl get roles -A -o 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {end}'
	[ "$output" = "team/reader team/writer " ]
	run sim_kubectl -n default get roles -o name
	[ -z "$output" ]
	sim_kubectl -n team delete role reader
	sim_kubectl -n team delete rolebinding readers
	sim_poll 30 grep -qx 'DELETED reader' "$BATS_TEST_TMPDIR/roles.out"
	sim_poll 30 grep -qx 'DELETED readers' "$BATS_TEST_TMPDIR/bindings.out"
	run sim_kubectl -n team get role reader
	[ "$status" -ne 0 ]
	[[ "$output" == *'roles.rbac.authorization.k8s.io "reader" not found'* ]]
	run sim_kubectl -n team get roles -o name
	[ "$output" = role.rbac.authorization.k8s.io/writer ]
}

@test "changing a binding's roleRef is 422 Invalid: cannot change roleRef, while its subjects may change" {
	sim_start
	sim_kubectl -n default create rolebinding viewers --clusterrole=view --user=alice
	run sim_kubectl -n default patch rolebinding viewers --type=merge -p '{"roleRef":{"name":"edit"}}'
	[ "$status" -ne 0 ]
	[[ "$output" == *'The RoleBinding "viewers" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef'* ]]
	sim_kubectl -n default get rolebinding viewers -o json |
	    jq -c '.roleRef.name = "admin" | del(.metadata.resourceVersion)' >"$BATS_TEST_TMPDIR/rb.json"
	run sim_kcurl /apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/viewers \
	    -X PUT -H 'Content-Type: application/json' -d @"$BATS_TEST_TMPDIR/rb.json" -w '\n%{http_code}'
	[ "${lines[1]}" = 422 ]
	jq -e '.kind == "Status" and .reason == "Invalid" and .code == 422
	    and .details == {name: "viewers", group: "rbac.authorization.k8s.io", kind: "RoleBinding",
		causes: [{reason: "FieldValueInvalid", field: "roleRef",
		    message: "Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"admin\"}: cannot change roleRef"}]}' <<<"${lines[0]}"
	sim_kubectl -n default patch rolebinding viewers --type=json \
	    -p '[{"op":"add","path":"/subjects/-","value":{"kind":"Group","name":"devs"}}]'
	sim_kubectl -n default get rolebinding viewers -o json | jqe '.roleRef.name == "view"
	    and .subjects[1] == {apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "devs"}'
	sim_kubectl create clusterrolebinding nodes-read --clusterrole=system:node-reader --group=ops
	run sim_kubectl patch clusterrolebinding nodes-read --type=merge -p '{"roleRef":{"name":"other"}}'
	[ "$status" -ne 0 ]
	[[ "$output" == *'The ClusterRoleBinding "nodes-read" is invalid: roleRef: Invalid value: '*'cannot change roleRef'* ]]
	run sim_kubectl get clusterrolebinding nodes-read -o 'jsonpath={.roleRef.name}'
	[ "$output" = system:node-reader ]
}

# post_code PATH JSON: POST JSON to the Kubernetes API; the body on one
# line, then the HTTP status.
post_code() {
	sim_kcurl "$1" -X POST -H 'Content-Type: application/json' -d "$2" -w '\n%{http_code}'
}

@test "RBAC objects are validated as a real server validates them" {
	sim_start
	cr=/apis/rbac.authorization.k8s.io/v1/clusterroles
	crb=/apis/rbac.authorization.k8s.io/v1/clusterrolebindings
	role=/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles
	rb=/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings
	# invalid PATH JSON MESSAGE
	invalid() {
		run post_code "$1" "$2"
		echo "$output"
		[ "${lines[1]}" = 422 ]
		[ "$(jq -r .reason <<<"${lines[0]}")" = Invalid ]
		[ "$(jq -r .message <<<"${lines[0]}")" = "$3" ]
	}
	invalid "$cr" '{"metadata":{"name":"noverbs"},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":[]}]}' \
	    'ClusterRole.rbac.authorization.k8s.io "noverbs" is invalid: rules[0].verbs: Required value: verbs must contain at least one value'
	invalid "$role" '{"metadata":{"name":"urls"},"rules":[{"nonResourceURLs":["/healthz"],"verbs":["get"]}]}' \
	    'Role.rbac.authorization.k8s.io "urls" is invalid: rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs'
	invalid "$cr" '{"metadata":{"name":"nogroup"},"rules":[{"resources":["pods"],"verbs":["get"]}]}' \
	    'ClusterRole.rbac.authorization.k8s.io "nogroup" is invalid: rules[0].apiGroups: Required value: resource rules must supply at least one api group'
	invalid "$rb" '{"metadata":{"name":"noref"},"subjects":[{"kind":"User","name":"a"}]}' \
	    'RoleBinding.rbac.authorization.k8s.io "noref" is invalid: roleRef.kind: Unsupported value: "": supported values: "Role", "ClusterRole"'
	invalid "$crb" '{"metadata":{"name":"torole"},"roleRef":{"kind":"Role","name":"r"}}' \
	    'ClusterRoleBinding.rbac.authorization.k8s.io "torole" is invalid: roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"'
	invalid "$crb" '{"metadata":{"name":"sa"},"roleRef":{"kind":"ClusterRole","name":"view"},"subjects":[{"kind":"ServiceAccount","name":"bot"}]}' \
	    'ClusterRoleBinding.rbac.authorization.k8s.io "sa" is invalid: subjects[0].namespace: Required value'
	invalid "$rb" '{"metadata":{"name":"robot"},"roleRef":{"kind":"Role","name":"r"},"subjects":[{"kind":"Robot","name":"r2"}]}' \
	    'RoleBinding.rbac.authorization.k8s.io "robot" is invalid: subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"'
	# A wrong JSON type fails decoding, before validation.
	run post_code "$cr" '{"metadata":{"name":"str"},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":"get"}]}'
	[ "${lines[1]}" = 400 ]
	[ "$(jq -r .reason <<<"${lines[0]}")" = BadRequest ]
	# Names with colons, as the system roles have, are fine; a / is not.
	run post_code "$cr" '{"metadata":{"name":"system:nap:reader"},"rules":[{"nonResourceURLs":["/healthz"],"verbs":["get"]}]}'
	[ "${lines[1]}" = 201 ]
	run post_code "$crb" '{"metadata":{"name":"system:nap:reader"},"roleRef":{"kind":"ClusterRole","name":"system:nap:reader"},"subjects":[{"kind":"Group","name":"system:authenticated"}]}'
	[ "${lines[1]}" = 201 ]
	jq -e '.roleRef.apiGroup == "rbac.authorization.k8s.io"
	    and .subjects[0].apiGroup == "rbac.authorization.k8s.io"' <<<"${lines[0]}"
	invalid "$cr" '{"metadata":{"name":"a%b"},"rules":[]}' \
	    'ClusterRole.rbac.authorization.k8s.io "a%b" is invalid: metadata.name: Invalid value: "a%b": may not contain '"'%'"
}

@test "kubectl get prints clusterroles with CREATED AT and bindings with ROLE and, wide, their subjects" {
	sim_start
	sim_kubectl create clusterrole pod-reader --verb=get,list --resource=pods
	sim_kubectl create namespace team
	sim_kubectl -n team create rolebinding readers --clusterrole=pod-reader \
	    --user=alice --group=devs --serviceaccount=team:bot --serviceaccount=kube-system:nap
	run sim_kubectl get clusterroles
	echo "$output"
	[[ "${lines[0]}" =~ ^NAME\ +CREATED\ AT$ ]]
	[[ "${lines[1]}" =~ ^pod-reader\ +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
	run sim_kubectl -n team get rolebindings
	echo "$output"
	[[ "${lines[0]}" =~ ^NAME\ +ROLE\ +AGE$ ]]
	[[ "${lines[1]}" =~ ^readers\ +ClusterRole/pod-reader\ +[0-9]+s$ ]]
	run sim_kubectl -n team get rolebindings -o wide
	echo "$output"
	[[ "${lines[0]}" =~ ^NAME\ +ROLE\ +AGE\ +USERS\ +GROUPS\ +SERVICEACCOUNTS$ ]]
	[[ "${lines[1]}" =~ ^readers\ +ClusterRole/pod-reader\ +[0-9]+s\ +alice\ +devs\ +team:bot,\ kube-system:nap$ ]]
	sim_kubectl create clusterrolebinding pod-readers --clusterrole=pod-reader --group=devs
	run sim_kubectl get clusterrolebindings
	[[ "${lines[0]}" =~ ^NAME\ +ROLE\ +AGE$ ]]
	[[ "${lines[1]}" =~ ^pod-readers\ +ClusterRole/pod-reader\ + ]]
}

@test "nap-sim stopped while clients keep asking under latency faults exits 0" {
	# MHD aborts when stopped with a connection suspended; a latency fault
	# suspends every answer, and clients that keep asking while nap-sim
	# winds down get suspended again unless it stops holding answers back.
	local i c pids
	for i in 1 2 3; do
		sim_start
		sim_acurl /nap-sim/faults -X POST -d '{"latency":3,"k8s":{"latency":3}}' -o /dev/null
		pids=()
		for c in 1 2 3 4; do
			# one connection, kept alive: the next request follows an answer at once
			curl -sS --max-time 30 --cacert "$SIM_CA" -H "Authorization: Bearer $SIM_TOKEN" \
			    $(printf "$SIM_KUBE_URL/api/v1/pods?n=%d " $(seq 1 40)) >/dev/null 2>&1 &
			pids+=($!)
		done
		sleep 1.5
		sim_stop || { kill "${pids[@]}" 2>/dev/null; false; }
		kill "${pids[@]}" 2>/dev/null || :
		wait "${pids[@]}" 2>/dev/null || :
	done
}
