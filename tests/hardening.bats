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
	[ -n "${FPID:-}" ] && kill "$FPID" 2>/dev/null
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
	    "$SIM_ARM_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F&key=$SIM_TOKEN" |
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

@test "garbage collection spares a VM younger than its 5 minutes of grace (6 s at 50x)" {
	start_sim
	orphan aks-old-1
	sleep 8 # past the grace: the VM's timeCreated is real time
	orphan aks-young-1
	mkfifo "$BATS_TEST_TMPDIR/state"
	"$NAP_BIN/nap-watch" --config "$SIM_CONFIG" >"$BATS_TEST_TMPDIR/state" \
	    2>"$BATS_TEST_TMPDIR/watch.err" &
	WPID=$!
	launch <"$BATS_TEST_TMPDIR/state" >"$OUT" 2>"$ERR" &
	LPID=$!
	sim_poll 60 grep -q 'vm aks-old-1 belongs to no nodeclaim' "$ERR"
	# The round that took the old VM decided on the young one too, and kept it.
	! grep -q 'vm aks-young-1 belongs to no nodeclaim' "$ERR"
	has_vm aks-young-1
	# Grace is not immunity: once past it, the young one goes as well.
	sim_poll 60 lacks_vm aks-young-1
}

# ---- 8: Kubernetes 429s are retried, and a restart repairs the Node ----

faults() {
	sim_acurl /nap-sim/faults --fail -X POST -d "$1" >/dev/null
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

# ---- 7: a bad list item is skipped, not retried forever ----
#
# nap-sim refuses objects nested past its own cap (as an API server does),
# so a list with a bad item comes from a small fake API server instead.

fake_kube() {
	cat >"$BATS_TEST_TMPDIR/fake.py" <<-'PY'
	import json, sys, time, http.server
	deep = '{"a":' * 300 + '1' + '}' * 300
	def node(name, rv, extra=''):
	    return ('{"metadata":{"name":"%s","uid":"u-%s","resourceVersion":"%s"},"spec":{}%s}'
	            % (name, name, rv, extra))
	LIST = ('{"kind":"NodeList","metadata":{"resourceVersion":"5"},"items":[' +
	        ','.join([node("n1", "1"), '42', node("deep", "2", ',"x":' + deep), '"text"',
	                  node("n2", "3")]) + ']}')
	EVENTS = ('{"type":"MODIFIED","object":' + node("deep", "7", ',"x":' + deep) + '}\n' +
	          '{"type":"ADDED","object":' + node("n3", "8") + '}\n')
	class H(http.server.BaseHTTPRequestHandler):
	    protocol_version = "HTTP/1.0"
	    def log_message(self, *a):
	        with open(sys.argv[1] + ".log", "a") as f:
	            f.write(self.path + "\n")
	    def send(self, body, code=200):
	        self.send_response(code)
	        self.send_header("Content-Type", "application/json")
	        self.end_headers()
	        self.wfile.write(body.encode())
	        self.wfile.flush()
	    def do_GET(self):
	        p = self.path
	        if p.startswith("/api/v1/nodes?") and "watch=1" in p:
	            if "resourceVersion=5&" in p:
	                self.send(EVENTS)
	            else:
	                self.send_response(200)
	                self.end_headers()
	                time.sleep(30)
	        elif p.startswith("/api/v1/nodes?"):
	            self.send(LIST)
	        elif p.startswith("/api/v1/pods?"):
	            self.send('{"metadata":{"resourceVersion":"1"},"items":[{"a":')
	        else:
	            self.send('{"kind":"Status","code":404}', 404)
	s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
	s.daemon_threads = True
	with open(sys.argv[1] + ".tmp", "w") as f:
	    f.write(str(s.server_address[1]))
	import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
	s.serve_forever()
	PY
	python3 "$BATS_TEST_TMPDIR/fake.py" "$BATS_TEST_TMPDIR/port" &
	FPID=$!
	sim_poll 20 test -s "$BATS_TEST_TMPDIR/port"
	cat >"$BATS_TEST_TMPDIR/kc" <<-EOF2
	apiVersion: v1
	kind: Config
	clusters: [{name: f, cluster: {server: "http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")"}}]
	users: [{name: f, user: {}}]
	contexts: [{name: f, context: {cluster: f, user: f}}]
	current-context: f
	EOF2
	chmod 600 "$BATS_TEST_TMPDIR/kc"
}

stop_fake() { [ -n "${FPID:-}" ] && kill "$FPID" 2>/dev/null; FPID=; }

@test "a list with items that are not objects or too deep: each skipped with a warning naming it, then SYNCED" {
	fake_kube
	run timeout 20 "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --once --kinds nodes \
	    --retries 2
	stop_fake
	[ "$status" -eq 0 ]
	[ "$(grep -c '"type":"ADDED"' <<<"$output")" -eq 2 ]
	[[ "$output" == *'"name":"n1"'* && "$output" == *'"name":"n2"'* ]]
	[[ "$output" == *'{"type":"SYNCED","kinds":["nodes"]}'* ]]
	[[ "$output" == *'nap-watch: warning: nodes: list item 1 skipped: not an object but a number'* ]]
	[[ "$output" == *'nap-watch: warning: nodes: list item 2 (deep) skipped: '* ]]
	[[ "$output" == *'nap-watch: warning: nodes: list item 3 skipped: not an object but a string'* ]]
}

@test "a watch event too deep is skipped past its version, and the watch goes on" {
	fake_kube
	"$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --kinds nodes >"$OUT" 2>"$ERR" &
	WPID=$!
	sim_poll 20 grep -q '"name":"n3"' "$OUT"
	sim_poll 20 grep -q 'resourceVersion=8&' "$BATS_TEST_TMPDIR/port.log"
	stop_fake
	grep -q 'nodes: watch: event for object (deep) at version 7 skipped' "$ERR"
	[ "$(grep -c '^{"type":"SYNCED"' "$OUT")" -eq 1 ]
	! grep -q '"type":"DELETED"' "$OUT"
}

@test "a list page that never parses fails after --retries with 69" {
	fake_kube
	run timeout 30 "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --once --kinds pods \
	    --retries 2
	stop_fake
	[ "$status" -eq 69 ]
	[[ "$output" == *"pods: unreachable after 3 attempts"*"unparsable list"* ]]
}

# ---- 10: loose permissions, open listeners, CA bundles, plain http ----

@test "a world-writable configuration file is refused with 78, naming the file and its mode" {
	start_sim
	cp "$SIM_CONFIG" "$BATS_TEST_TMPDIR/nap.yaml"
	chmod 666 "$BATS_TEST_TMPDIR/nap.yaml"
	run "$NAP_BIN/nap-launch" --config "$BATS_TEST_TMPDIR/nap.yaml" </dev/null
	[ "$status" -eq 78 ]
	[[ "$output" == *"configuration $BATS_TEST_TMPDIR/nap.yaml: mode 0666 is writable by everyone"* ]]
	run "$NAP_BIN/nap-watch" --config "$BATS_TEST_TMPDIR/nap.yaml" --once --kinds nodes
	[ "$status" -eq 78 ]
	chmod 644 "$BATS_TEST_TMPDIR/nap.yaml"
	run "$NAP_BIN/nap-watch" --config "$BATS_TEST_TMPDIR/nap.yaml" --once --kinds nodes
	[ "$status" -eq 0 ]
}

@test "a group-writable kubeconfig is refused with 78: it can run exec plugins" {
	start_sim
	cp "$SIM_KUBECONFIG" "$BATS_TEST_TMPDIR/kc"
	chmod 660 "$BATS_TEST_TMPDIR/kc"
	run "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --once --kinds nodes
	[ "$status" -eq 78 ]
	[[ "$output" == *"kubeconfig $BATS_TEST_TMPDIR/kc: mode 0660 is writable by its group"* ]]
	KUBECONFIG=$BATS_TEST_TMPDIR/kc run "$NAP_BIN/nap-watch" --once --kinds nodes
	[ "$status" -eq 78 ]
}

@test "nap-sim refuses to listen off loopback unless --allow-remote says so, and then warns" {
	run "$NAP_BIN/nap-sim" --listen 0.0.0.0 --port 0 --arm-port 0
	[ "$status" -eq 64 ]
	[[ "$output" == *"--listen 0.0.0.0 is not a loopback address"*"--allow-remote"* ]]
	run "$NAP_BIN/nap-sim" --listen 0.0.0.0 --allow-remote --insecure-port 0
	[ "$status" -eq 64 ]
	[[ "$output" == *"--insecure-port serves the Kubernetes API without a token"* ]]
	mkdir -p "$BATS_TEST_TMPDIR/r"
	"$NAP_BIN/nap-sim" --listen 0.0.0.0 --allow-remote --kubeconfig-out "$BATS_TEST_TMPDIR/r/kc" \
	    >"$BATS_TEST_TMPDIR/r/ready" 2>"$BATS_TEST_TMPDIR/r/err" 3>&- &
	SIM_PID=$!
	sim_poll 30 test -s "$BATS_TEST_TMPDIR/r/ready"
	grep -q 'nap-sim: warning: listening on 0.0.0.0, not loopback (--allow-remote)' "$BATS_TEST_TMPDIR/r/err"
}

@test "nap-sim's fault control needs the simulator's token" {
	start_sim
	run curl -sS --cacert "$SIM_CA" -o /dev/null -w '%{http_code}' -X POST \
	    -d '{"throttle":{"rate":1}}' "$SIM_ARM_URL/nap-sim/faults"
	[ "$output" = 401 ]
	run curl -sS --cacert "$SIM_CA" -o /dev/null -w '%{http_code}' "$SIM_ARM_URL/nap-sim/faults"
	[ "$output" = 401 ]
	run curl -sS --cacert "$SIM_CA" -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' \
	    -X DELETE "$SIM_ARM_URL/nap-sim/faults"
	[ "$output" = 401 ]
	[ "$(sim_acurl /nap-sim/faults | jq .throttle.rate)" = 0 ]
	run sim_acurl /nap-sim/faults -o /dev/null -w '%{http_code}' -X POST -d '{"throttle":{"rate":0.5}}'
	[ "$output" = 200 ]
}

@test "nap-sim's token endpoints need the simulator's token, and nap-launch's configuration carries it" {
	start_sim
	q='api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F'
	run curl -sS --cacert "$SIM_CA" -H 'Metadata: true' -w ' %{http_code}' \
	    "$SIM_ARM_URL/metadata/identity/oauth2/token?$q"
	[[ "$output" == *' 401' && "$output" != *access_token* ]]
	run curl -sS --cacert "$SIM_CA" -H 'Metadata: true' -w ' %{http_code}' \
	    "$SIM_ARM_URL/metadata/identity/oauth2/token?$q&key=wrong"
	[[ "$output" == *' 401' ]]
	[ -n "$(arm_token)" ] && [ "$(arm_token)" != null ]
	tenant=$(sed -n 's/^ *tenantID: //p' "$SIM_CONFIG")
	run curl -sS --cacert "$SIM_CA" -w ' %{http_code}' -X POST "$SIM_ARM_URL/$tenant/oauth2/v2.0/token" \
	    --data 'grant_type=client_credentials&client_id=abc&client_secret=guess&scope=https%3A%2F%2Fmanagement.azure.com%2F.default'
	[[ "$output" == *'"error":"invalid_client"'*' 401' ]]
	[ "$(stat -c %a "$SIM_CONFIG")" = 600 ]
	grep -q "tokenEndpoint: .*?key=" "$SIM_CONFIG"
}

@test "a bearer token bound for a plain-http API server off this host is warned about, once" {
	# 192.0.2.1 is TEST-NET-1: nothing answers, and the warning comes before trying.
	cat >"$BATS_TEST_TMPDIR/kc" <<-'EOF2'
	apiVersion: v1
	kind: Config
	clusters: [{name: c, cluster: {server: "http://192.0.2.1:9"}}]
	users: [{name: u, user: {token: t0ken}}]
	contexts: [{name: x, context: {cluster: c, user: u}}]
	current-context: x
	EOF2
	chmod 600 "$BATS_TEST_TMPDIR/kc"
	run timeout 30 "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --once --kinds nodes \
	    --retries 0 --retry-time 1s
	[ "$status" -eq 69 ]
	[ "$(grep -c 'is plain http: the bearer token' <<<"$output")" -eq 1 ]
	[[ "$output" == *"api server http://192.0.2.1:9 is plain http"* ]]
	[[ "$output" != *t0ken* ]]
	sed -i 's|http://192.0.2.1:9|http://127.0.0.1:9|' "$BATS_TEST_TMPDIR/kc"
	run timeout 30 "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --once --kinds nodes --retries 0
	[[ "$output" != *"plain http"* ]]
}
