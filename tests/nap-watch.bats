#!/usr/bin/env bats
# nap-watch against nap-sim: snapshots, live changes, 410s, dropped and
# restarted servers, credentials, and the contract every tool keeps.

load helpers/sim

KINDS=pods,nodes,nodeclaims,nodepools,aksnodeclasses,poddisruptionbudgets,daemonsets

setup() {
	WPID=
	OUT=$BATS_TEST_TMPDIR/out.ndjson
	ERR=$BATS_TEST_TMPDIR/err
	unset KUBECONFIG KUBERNETES_SERVICE_HOST NAP_CONFIG
}

teardown() {
	if [ -n "$WPID" ]; then
		kill -TERM "$WPID" 2>/dev/null
		wait "$WPID" 2>/dev/null
	fi
	# fails, showing its stderr, if nap-sim died under the test
	sim_stop
}

watch_bg() {
	"$NAP_BIN/nap-watch" --kubeconfig "$SIM_KUBECONFIG" "$@" >"$OUT" 2>"$ERR" &
	WPID=$!
}

synced_count() {
	grep -c '^{"type":"SYNCED"[,}]' "$OUT" 2>/dev/null || true
}

has_synced() {
	[ "$(synced_count)" -ge "${1:-1}" ]
}

# The state a consumer rebuilds from records: upsert ADDED/MODIFIED, remove DELETED.
rebuild() {
	jq -cs '[.[] | select(.type != "SYNCED")]
	    | reduce .[] as $r ({}; if $r.type == "DELETED" then del(.[$r.object.metadata.uid])
	        else .[$r.object.metadata.uid] = $r.object end)
	    | [.[]] | sort_by(.metadata.uid)' "$1" | jq -S .
}

server_state() {
	sim_kubectl get "$KINDS" -A -o json |
	    jq -c '[.items[] | del(.metadata.managedFields)] | sort_by(.metadata.uid)' | jq -S .
}

states_equal() {
	[ "$(rebuild "$OUT")" = "$(server_state)" ]
}

# Every (uid, resourceVersion) is printed at most once as ADDED or MODIFIED.
no_duplicates() {
	local dups
	dups=$(jq -r 'select(.type == "ADDED" or .type == "MODIFIED")
	    | .object.metadata.uid + " " + .object.metadata.resourceVersion' "$OUT" | sort | uniq -d)
	[ -z "$dups" ] || { echo "duplicated: $dups" >&2; return 1; }
}

# A step failed: show what nap-watch printed and, if nap-sim died under
# the step, nap-sim's stderr.  The test fails either way: a simulator crash
# is a failure, never a skip.
step_failed() {
	sim_alive || :
	cat "$OUT" "$ERR" 2>/dev/null
	return 1
}

fault() {
	sim_acurl /nap-sim/faults -X POST -H 'Content-Type: application/json' -d "$1" >/dev/null
}

record_seen() {	# record_seen TYPE NAME [jq condition on .object]
	# (not jq -e: jq 1.6 judges -e by the last input, not by any output)
	jq -c --arg t "$1" --arg n "$2" "select(.type == \$t and .object.metadata.name == \$n
	    and (.object | ${3:-true}))" "$OUT" 2>/dev/null | grep -q .
}

@test "nap-watch with a bad flag exits 64 and prints usage" {
	run "$NAP_BIN/nap-watch" --no-such-flag
	[ "$status" -eq 64 ]
	[[ "$output" == *"usage: nap-watch"* ]]
}

@test "an unknown kind is a usage error" {
	run "$NAP_BIN/nap-watch" --kinds pods,widgets
	[ "$status" -eq 64 ]
	[[ "$output" == *'unknown kind "widgets"'* ]]
}

@test "a missing explicit kubeconfig exits 78" {
	run "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/none" --once
	[ "$status" -eq 78 ]
	[[ "$output" == *"none"* ]]
}

@test "--once prints a snapshot equal to what kubectl lists, then SYNCED" {
	sim_start
	sim_kubectl create namespace team-a
	sim_kubectl run web --image=nginx -n team-a --labels=app=web
	sim_kubectl create deployment api --image=nginx --replicas=3
	sim_create_pdb api app=api 1
	"$NAP_BIN/nap-watch" --kubeconfig "$SIM_KUBECONFIG" --once >"$OUT"
	[ "$(tail -n 1 "$OUT" | jq -c .kinds)" = '["pods","nodes","nodeclaims","nodepools","aksnodeclasses","poddisruptionbudgets","daemonsets"]' ]
	[ "$(synced_count)" -eq 1 ]
	[ "$(jq -r 'select(.type != "SYNCED") | .type' "$OUT" | sort -u)" = ADDED ]
	diff -u <(server_state) <(rebuild "$OUT")
}

@test "list items carry apiVersion and kind and never managedFields" {
	sim_start
	sim_kubectl run web --image=nginx
	"$NAP_BIN/nap-watch" --kubeconfig "$SIM_KUBECONFIG" --once --kinds pods,namespaces >"$OUT"
	run jq -r 'select(.type == "ADDED") | [.object.apiVersion, .object.kind,
	    (.object.metadata | has("managedFields"))] | @tsv' "$OUT"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'v1\tPod\tfalse'* ]]
	[[ "$output" == *$'v1\tNamespace\tfalse'* ]]
	! grep -q managedFields "$OUT"
}

@test "watching persistentvolumeclaims brings csinodes along, printed like any kind" {
	sim_start
	jq -cn '{apiVersion:"storage.k8s.io/v1",kind:"CSINode",metadata:{name:"n1"},
	    spec:{drivers:[{name:"disk.csi.azure.com",nodeID:"n1",allocatable:{count:4}}]}}' |
	    sim_kubectl apply --validate=false -f - >/dev/null
	"$NAP_BIN/nap-watch" --kubeconfig "$SIM_KUBECONFIG" --once --kinds persistentvolumeclaims >"$OUT"
	[ "$(tail -n 1 "$OUT" | jq -c .kinds)" = '["persistentvolumeclaims","csinodes"]' ]
	run jq -r 'select(.type == "ADDED") | [.object.apiVersion, .object.kind, .object.metadata.name,
	    .object.spec.drivers[0].allocatable.count] | @tsv' "$OUT"
	[ "$output" = $'storage.k8s.io/v1\tCSINode\tn1\t4' ]
}

@test "--once pages through a collection larger than the page size" {
	sim_start
	for i in 1 2 3 4 5 6 7; do
		sim_kubectl run "p$i" --image=nginx >/dev/null
	done
	"$NAP_BIN/nap-watch" --kubeconfig "$SIM_KUBECONFIG" --once --kinds pods --page-size 2 >"$OUT"
	[ "$(jq -r 'select(.type == "ADDED") | .object.metadata.name' "$OUT" | sort | tr '\n' ' ')" = \
	    "p1 p2 p3 p4 p5 p6 p7 " ]
}

@test "live changes made with kubectl appear in order" {
	sim_start
	watch_bg
	sim_poll 30 has_synced
	sim_kubectl run live --image=nginx || step_failed
	sim_kubectl label pod live stage=one || step_failed
	sim_kubectl delete pod live --grace-period=0 --force --wait=false || step_failed
	sim_poll 30 record_seen DELETED live || step_failed
	run jq -r 'select(.object.metadata.name == "live")
	    | .type + " " + (.object.metadata.labels.stage // "-")' "$OUT"
	[ "${lines[0]}" = "ADDED -" ]
	[[ "$output" == *"MODIFIED one"* ]]
	[ "${lines[${#lines[@]}-1]%% *}" = DELETED ]
	# the label change comes after the creation and before the deletion
	added=$(grep -n '"name":"live"' "$OUT" | head -n 1 | cut -d: -f1)
	labelled=$(grep -n '"stage":"one"' "$OUT" | head -n 1 | cut -d: -f1)
	deleted=$(grep -n '"type":"DELETED"' "$OUT" | tail -n 1 | cut -d: -f1)
	[ "$added" -lt "$labelled" ]
	[ "$labelled" -le "$deleted" ]
	no_duplicates
}

@test "forced 410s and dropped watches lose no change and duplicate none" {
	sim_start
	sim_kubectl run before --image=nginx
	watch_bg --watch-timeout 1
	sim_poll 30 has_synced
	fault '{"k8s":{"goneRate":1}}' || step_failed
	sim_kubectl run during-gone --image=nginx || step_failed
	sim_kubectl label pod before phase=gone || step_failed
	sim_poll 30 grep -q 'relisting' "$ERR"
	fault '{"k8s":{"goneRate":0,"dropRate":1}}' || step_failed
	sim_kubectl run during-drop --image=nginx || step_failed
	sim_kubectl delete pod before --grace-period=0 --force --wait=false || step_failed
	fault '{"k8s":{"dropRate":0}}' || step_failed
	sim_kubectl run after --image=nginx || step_failed
	sim_poll 60 record_seen ADDED after || step_failed
	sim_poll 60 states_equal || step_failed
	no_duplicates
	[ "$(synced_count)" -ge 2 ]
}

# A server certificate that survives a restart, so the cluster is the same one.
make_tls() {
	local d=$BATS_TEST_TMPDIR/tls
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$d/ca.key" -out "$d/ca.crt" -days 1 -subj /CN=test-ca 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$d/srv.key" -out "$d/srv.csr" -subj /CN=127.0.0.1 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
	    -out "$d/srv.crt" -days 1 -extfile "$d/ext" 2>/dev/null
	TLS_ARGS="--tls-cert $d/srv.crt --tls-key $d/srv.key --tls-ca $d/ca.crt --token restart-token"
}

@test "a nap-sim restart loses no change" {
	make_tls
	# shellcheck disable=SC2086
	sim_start --state "$BATS_TEST_TMPDIR/state.json" $TLS_ARGS
	port=${SIM_KUBE_URL##*:}
	arm=${SIM_ARM_URL##*:}
	sim_kubectl run first --image=nginx
	watch_bg --retries 50
	sim_poll 30 has_synced
	sim_stop
	# shellcheck disable=SC2086
	sim_start --state "$BATS_TEST_TMPDIR/state.json" --port "$port" --arm-port "$arm" $TLS_ARGS
	sim_kubectl run second --image=nginx || step_failed
	sim_kubectl label pod first restarted=yes || step_failed
	sim_poll 60 record_seen ADDED second || step_failed
	sim_poll 60 states_equal || step_failed
	no_duplicates
}

@test "a wrong CA fails with a clear TLS error and exit 78" {
	sim_start
	other=$BATS_TEST_TMPDIR/other
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$other.key" -out "$other.crt" -days 1 -subj /CN=other 2>/dev/null
	sed "s|certificate-authority-data: .*|certificate-authority-data: $(base64 -w0 "$other.crt")|" \
	    "$SIM_KUBECONFIG" >"$BATS_TEST_TMPDIR/kc"
	run "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --once
	[ "$status" -eq 78 ]
	[[ "$output" == *"fatal: tls:"* ]]
	[[ "$output" == *"certificate"* ]]
}

@test "an invalid token exits 77" {
	sim_start
	sed "s|token: .*|token: not-the-token|" "$SIM_KUBECONFIG" >"$BATS_TEST_TMPDIR/kc"
	run "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --once
	[ "$status" -eq 77 ]
	[[ "$output" == *"401"* ]]
}

@test "an exec plugin supplies the token, run once without a shell" {
	sim_start
	plugin=$BATS_TEST_TMPDIR/plugin
	cat >"$plugin" <<-'EOF'
	#!/bin/sh
	echo run >>"$COUNT"
	printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}\n' "$1"
	EOF
	chmod +x "$plugin"
	sed '/^users:/,$d' "$SIM_KUBECONFIG" >"$BATS_TEST_TMPDIR/kc"
	cat >>"$BATS_TEST_TMPDIR/kc" <<-EOF
	users:
	- name: nap-sim-admin
	  user:
	    exec:
	      apiVersion: client.authentication.k8s.io/v1
	      command: ./plugin
	      args: ["$SIM_TOKEN"]
	      env: [{name: COUNT, value: "$BATS_TEST_TMPDIR/count"}]
	      interactiveMode: Never
	EOF
	sim_kubectl run web --image=nginx
	cd /
	run "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --once --kinds pods
	[ "$status" -eq 0 ]
	[[ "$output" == *'"name":"web"'* ]]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/count")" -eq 1 ]
}

@test "a tokenFile is read for the bearer token" {
	sim_start
	printf '%s\n' "$SIM_TOKEN" >"$BATS_TEST_TMPDIR/token"
	sed "s|token: .*|tokenFile: token|" "$SIM_KUBECONFIG" >"$BATS_TEST_TMPDIR/kc"
	run "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --once --kinds nodes
	[ "$status" -eq 0 ]
	[ "${lines[${#lines[@]}-1]}" = '{"type":"SYNCED","kinds":["nodes"]}' ]
}

@test "a rotated tokenFile is re-read" {
	sim_start
	printf '%s\n' "$SIM_TOKEN" >"$BATS_TEST_TMPDIR/token"
	sed "s|token: .*|tokenFile: token|" "$SIM_KUBECONFIG" >"$BATS_TEST_TMPDIR/kc"
	"$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --kinds nodes --watch-timeout 1 \
	    >"$OUT" 2>"$ERR" &
	WPID=$!
	sim_poll 30 has_synced
	# a token the server does not know: the next watch must use it, and fail
	printf 'revoked\n' >"$BATS_TEST_TMPDIR/token.new"
	mv "$BATS_TEST_TMPDIR/token.new" "$BATS_TEST_TMPDIR/token"
	sim_poll 30 sh -c '! kill -0 "$1" 2>/dev/null' _ "$WPID"
	wait "$WPID" && rc=0 || rc=$?
	WPID=
	[ "$rc" -eq 77 ]
	grep -q 401 "$ERR"
}

@test "an exec plugin runs again when its token expires" {
	sim_start
	plugin=$BATS_TEST_TMPDIR/plugin
	cat >"$plugin" <<-'EOF'
	#!/bin/sh
	echo run >>"$COUNT"
	printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' \
	    "$TOKEN" "$(date -u -d '+11 seconds' +%Y-%m-%dT%H:%M:%SZ)"
	EOF
	chmod +x "$plugin"
	sed '/^users:/,$d' "$SIM_KUBECONFIG" >"$BATS_TEST_TMPDIR/kc"
	cat >>"$BATS_TEST_TMPDIR/kc" <<-EOF
	users:
	- name: nap-sim-admin
	  user:
	    exec:
	      apiVersion: client.authentication.k8s.io/v1beta1
	      command: $plugin
	      env: [{name: COUNT, value: "$BATS_TEST_TMPDIR/count"}, {name: TOKEN, value: "$SIM_TOKEN"}]
	EOF
	"$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --kinds nodes --watch-timeout 1 \
	    >"$OUT" 2>"$ERR" &
	WPID=$!
	sim_poll 30 has_synced
	sim_poll 30 sh -c '[ "$(wc -l <"$1")" -ge 2 ]' _ "$BATS_TEST_TMPDIR/count"
	kill -0 "$WPID"
}

@test "in a pod, the service account is used" {
	sim_start
	sa=$BATS_TEST_TMPDIR/sa
	mkdir -p "$sa"
	printf '%s' "$SIM_TOKEN" >"$sa/token"
	cp "$SIM_CA" "$sa/ca.crt"
	printf 'nap-system' >"$sa/namespace"
	url=${SIM_KUBE_URL#https://}
	sim_kubectl run web --image=nginx
	run env -u KUBECONFIG HOME="$BATS_TEST_TMPDIR" KUBERNETES_SERVICE_HOST="${url%:*}" \
	    KUBERNETES_SERVICE_PORT="${url##*:}" NAP_SERVICEACCOUNT_DIR="$sa" \
	    "$NAP_BIN/nap-watch" --once --kinds pods
	[ "$status" -eq 0 ]
	[[ "$output" == *'"name":"web"'* ]]
}

@test "the kubeconfig key of --config is used" {
	sim_start
	unset KUBECONFIG
	run "$NAP_BIN/nap-watch" --config "$SIM_CONFIG" --once --kinds nodes
	[ "$status" -eq 0 ]
	[ "$output" = '{"type":"SYNCED","kinds":["nodes"]}' ]
}

@test "an unreachable API server exits 69 after the retry budget" {
	sim_start
	cp "$SIM_KUBECONFIG" "$BATS_TEST_TMPDIR/kc"
	sim_stop
	run "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --once --retries 1
	[ "$status" -eq 69 ]
	[[ "$output" == *"unreachable after 2 attempts"* ]]
}

@test "--retry-time bounds how long an unreachable server is tried" {
	sim_start
	cp "$SIM_KUBECONFIG" "$BATS_TEST_TMPDIR/kc"
	sim_stop
	run "$NAP_BIN/nap-watch" --kubeconfig "$BATS_TEST_TMPDIR/kc" --once --retries 100000 \
	    --retry-time 2s
	[ "$status" -eq 69 ]
	[[ "$output" == *"unreachable after"* ]]
}

@test "HTTPS_PROXY is honoured, and NO_PROXY exempts a host" {
	sim_start
	# nothing listens on port 1: going through the proxy must fail
	run env HTTPS_PROXY=http://127.0.0.1:1 NO_PROXY= no_proxy= \
	    "$NAP_BIN/nap-watch" --kubeconfig "$SIM_KUBECONFIG" --once --kinds nodes --retries 0
	[ "$status" -eq 69 ]
	run env HTTPS_PROXY=http://127.0.0.1:1 NO_PROXY=127.0.0.1 \
	    "$NAP_BIN/nap-watch" --kubeconfig "$SIM_KUBECONFIG" --once --kinds nodes --retries 0
	[ "$status" -eq 0 ]
	[ "$output" = '{"type":"SYNCED","kinds":["nodes"]}' ]
}

@test "SIGTERM ends nap-watch with status 0 and whole lines" {
	sim_start
	sim_kubectl run web --image=nginx
	watch_bg
	sim_poll 30 has_synced
	kill -TERM "$WPID"
	wait "$WPID" && rc=0 || rc=$?
	WPID=
	[ "$rc" -eq 0 ]
	[ "$(tail -c 1 "$OUT" | od -An -c | tr -d ' ')" = '\n' ]
	jq -e . "$OUT" >/dev/null
}

@test "| head -n 1 ends nap-watch quietly" {
	sim_start
	sim_kubectl run a --image=nginx
	sim_kubectl run b --image=nginx
	run bash -c '"$1" --kubeconfig "$2" --once --kinds pods 2>"$3" | head -n 1' _ \
	    "$NAP_BIN/nap-watch" "$SIM_KUBECONFIG" "$ERR"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[ ! -s "$ERR" ]
}

@test "a full stdout exits 74" {
	sim_start
	sim_kubectl run web --image=nginx
	run bash -c '"$1" --kubeconfig "$2" --once --kinds pods >/dev/full' _ \
	    "$NAP_BIN/nap-watch" "$SIM_KUBECONFIG"
	[ "$status" -eq 74 ]
}

@test "--slim drops container env and commands but keeps resources" {
	sim_start
	sim_kubectl run slim --image=nginx --env=SECRET=x --requests=cpu=250m -- sleep 1000 ||
	    sim_kubectl run slim --image=nginx --env=SECRET=x -- sleep 1000
	"$NAP_BIN/nap-watch" --kubeconfig "$SIM_KUBECONFIG" --once --kinds pods --slim >"$OUT"
	run jq -c 'select(.type == "ADDED") | .object.spec.containers[0]' "$OUT"
	[ "$status" -eq 0 ]
	[[ "$output" != *SECRET* ]]
	[[ "$output" != *sleep* ]]
	[[ "$output" == *'"name":"slim"'* ]]
}
