#!/usr/bin/env bats
# nap-sim against Debian 12's kubectl (kubernetes-client, 1.20), what a
# fresh Debian machine gets from bin/nap-deps: the operations the suites,
# README.md and the man pages use kubectl for.  The package is fetched
# with apt-get download into build/kubectl-compat when it is not there;
# if apt cannot fetch it, every test fails with apt's reason.

load helpers/sim

FIX=$NAP_FIXTURES
CACHE=$BATS_TEST_DIRNAME/../build/kubectl-compat

setup_file() {
	local deb
	mkdir -p "$CACHE"
	deb=$(ls "$CACHE"/kubernetes-client_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		if ! (cd "$CACHE" && apt-get download kubernetes-client) >"$CACHE/apt.log" 2>&1; then
			echo "apt-get download kubernetes-client failed" \
			    "(apt-get update may be needed):" >&2
			cat "$CACHE/apt.log" >&2
			return 1
		fi
		deb=$(ls "$CACHE"/kubernetes-client_*.deb | head -n 1)
	fi
	if [ ! -x "$CACHE/root/usr/bin/kubectl" ]; then
		rm -rf "$CACHE/root"
		dpkg -x "$deb" "$CACHE/root" || return 1
	fi
	export PATH=$CACHE/root/usr/bin:$PATH
	sim_start
}

teardown_file() {
	sim_stop
}

node_json() {	# name
	printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","labels":{"kubernetes.io/hostname":"%s","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64"}},"spec":{},"status":{"capacity":{"cpu":"8","memory":"32Gi","pods":"110"},"allocatable":{"cpu":"8","memory":"32Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status"}]}}' "$1" "$1"
}

@test "the kubectl under test is Debian's, older than 1.27 (it reads OpenAPI v2)" {
	[ "$(command -v kubectl)" = "$CACHE/root/usr/bin/kubectl" ]
	run kubectl version --client -o json
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(jq -r .clientVersion.major <<<"$output")" = 1 ]
	[ "$(jq -r '.clientVersion.minor | tonumber' <<<"$output")" -lt 27 ]
}

@test "/openapi/v2 is a protobuf Document for the protobuf Accept, JSON otherwise" {
	sim_kcurl /openapi/v2 -o "$BATS_TEST_TMPDIR/pb" \
	    -H 'Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf'
	hex=$(od -An -tx1 -v "$BATS_TEST_TMPDIR/pb" | tr -d ' \n')
	echo "$hex"
	# swagger(1) "2.0", info(2) {title(1) "Kubernetes", version(2) ...},
	# then empty paths(8) and definitions(9).
	[[ "$hex" =~ ^0a03322e3012..0a0a4b756265726e6574657312..(..)*42004a00$ ]]
	run sim_kcurl /openapi/v2 -H 'Accept: application/json'
	[ "$(jq -r .swagger <<<"$output")" = 2.0 ]
	[ "$(jq -c .definitions <<<"$output")" = '{}' ]
}

@test "apply creates, reapplies and changes a NodePool and an AKSNodeClass" {
	run sim_kubectl apply -f "$FIX/karpenter/azure-default_nodepool.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "nodepool.karpenter.sh/default created" ]
	run sim_kubectl apply -f "$FIX/karpenter/azure-default_aksnodeclass.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "aksnodeclass.karpenter.azure.com/default created" ]
	run sim_kubectl apply -f "$FIX/karpenter/azure-default_nodepool.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "nodepool.karpenter.sh/default unchanged" ]
	sed 's/^  name: default$/  name: default\n  labels: {tier: gold}/' \
	    "$FIX/karpenter/azure-default_aksnodeclass.yaml" >"$BATS_TEST_TMPDIR/nc.yaml"
	run sim_kubectl apply -f "$BATS_TEST_TMPDIR/nc.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "aksnodeclass.karpenter.azure.com/default configured" ]
	[ "$(sim_kubectl get aksnc default -o jsonpath='{.metadata.labels.tier} {.spec.imageFamily}')" = "gold Ubuntu2204" ]
}

@test "apply on an existing Deployment patches it (strategic merge from the client's own types)" {
	sim_kubectl create namespace compat
	cat >"$BATS_TEST_TMPDIR/d.yaml" <<-'EOF'
		apiVersion: apps/v1
		kind: Deployment
		metadata: {name: api, namespace: compat}
		spec:
		  replicas: 1
		  selector: {matchLabels: {app: api}}
		  template:
		    metadata: {labels: {app: api}}
		    spec:
		      containers:
		      - {name: main, image: nginx, env: [{name: A, value: "1"}]}
		      - {name: side, image: busybox}
	EOF
	run sim_kubectl apply -f "$BATS_TEST_TMPDIR/d.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "deployment.apps/api created" ]
	sed -i 's/replicas: 1/replicas: 2/; s/value: "1"/value: "2"/' "$BATS_TEST_TMPDIR/d.yaml"
	run sim_kubectl apply -f "$BATS_TEST_TMPDIR/d.yaml"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "deployment.apps/api configured" ]
	run sim_kubectl -n compat get deployment api -o json
	[ "$(jq -r .spec.replicas <<<"$output")" = 2 ]
	# Containers merged by name: both kept, the env value changed.
	[ "$(jq -c '[.spec.template.spec.containers[] | [.name, .image, (.env // [] | map(.value))]]' <<<"$output")" = \
	    '[["main","nginx",["2"]],["side","busybox",[]]]' ]
}

@test "create deployment, run --overrides, wait, get -o jsonpath, label, get -w, describe, delete" {
	node_json n1 | sim_kubectl create -f -
	sim_kubectl create deployment web --image=nginx --replicas=2
	sim_kubectl run arm --image=nginx --restart=Never \
	    --overrides='{"spec":{"nodeSelector":{"kubernetes.io/arch":"arm64"}}}'
	run sim_kubectl wait --timeout=60s --for=condition=PodScheduled=false pod/arm
	[ "$status" -eq 0 ]
	[ "$output" = "pod/arm condition met" ]
	run sim_kubectl wait --timeout=60s --for=condition=Ready pod -l app=web
	[ "$status" -eq 0 ]
	[ "$(grep -c 'condition met$' <<<"$output")" -eq 2 ]
	[ "$(sim_kubectl get pod arm -o jsonpath='{.spec.nodeSelector.kubernetes\.io/arch}')" = arm64 ]
	[ "$(sim_kubectl get pods -l app=web -o jsonpath='{.items[*].spec.nodeName}')" = "n1 n1" ]

	sim_kubectl get nodepool default -w -o name >"$BATS_TEST_TMPDIR/w" &
	local wpid=$!
	sim_poll 20 test -s "$BATS_TEST_TMPDIR/w"
	run sim_kubectl label nodepool default tier=gold
	[ "$output" = "nodepool.karpenter.sh/default labeled" ]
	sim_poll 20 eval '[ "$(wc -l <"$BATS_TEST_TMPDIR/w")" -ge 2 ]'
	kill "$wpid"
	[ "$(sim_kubectl get nodepools -l tier=gold -o name)" = nodepool.karpenter.sh/default ]

	run sim_kubectl describe pod arm
	[ "$status" -eq 0 ]
	[[ "$output" == *"Node-Selectors:"*"kubernetes.io/arch=arm64"* ]]
	run sim_kubectl delete pod arm
	[ "$status" -eq 0 ]
	[ "$output" = 'pod "arm" deleted' ]
}

@test "get prints tables, api-resources lists the Karpenter kinds" {
	run sim_kubectl get nodes
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "NAME"*"STATUS"*"ROLES"*"AGE"*"VERSION" ]]
	run sim_kubectl api-resources --api-group=karpenter.sh -o name
	[ "$status" -eq 0 ]
	[ "$output" = $'nodeclaims.karpenter.sh\nnodepools.karpenter.sh' ]
}

@test "drain cordons the node and evicts its pods" {
	node_json n2 | sim_kubectl create -f -
	run timeout 60 kubectl --kubeconfig "$SIM_KUBECONFIG" drain n1 --ignore-daemonsets
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"node/n1 cordoned"* ]]
	[ "$(grep -c '^pod/web-.* evicted$' <<<"$output")" -eq 2 ]
	[ "$(sim_kubectl get node n1 -o jsonpath='{.spec.unschedulable}')" = true ]
	run sim_kubectl uncordon n1
	[ "$output" = "node/n1 uncordoned" ]
}
