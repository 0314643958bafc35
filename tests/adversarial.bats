#!/usr/bin/env bats
# Hostile input (issue 12): each file of tests/fixtures/adversarial (a copy of
# ../shared/fixtures/adversarial) is fed to the tool its name starts with, as
# its README says, and must give a warning naming the object, the exit status
# the man page gives, and leave the rest of the input working.  Run it under
# the sanitizers too: NAP_BIN=$PWD/build/san/bin after make SANITIZE=address,undefined.

load helpers/sim

SCALE=50

setup() {
	REPO=$BATS_TEST_DIRNAME/..
	FIX=$REPO/tests/fixtures/adversarial
	OUT=$BATS_TEST_TMPDIR/out.ndjson
	ERR=$BATS_TEST_TMPDIR/err
	WPID=
}

teardown() {
	if [ -n "$WPID" ]; then
		kill -TERM "$WPID" 2>/dev/null
		wait "$WPID" 2>/dev/null
	fi
	sim_stop || :
}

# solve FILE: nap-solve as the README runs it; status in $status, records in
# $OUT, warnings in $ERR.
solve() {
	status=0
	"$NAP_BIN/nap-solve" --config /dev/null --region eastus <"$FIX/$1" >"$OUT" 2>"$ERR" ||
	    status=$?
	cat "$ERR"
}

# The pods of every LaunchRequest, sorted, one "pool: ns/name ..." line each.
launched_pods() {
	jq -r 'select(.type == "LaunchRequest")
	    | "\(.nodeClaim.metadata.labels["karpenter.sh/nodepool"]): \(.pods | sort | join(" "))"' "$OUT"
}

# No sanitizer report, no crash: what every run here must show first.
clean_run() {
	[ "$status" -eq 0 ] || { echo "exit $status"; cat "$ERR"; return 1; }
	! grep -Eq 'runtime error|AddressSanitizer|LeakSanitizer|Assertion|Segmentation' "$ERR"
}

# has FILTER: some record of $OUT passes FILTER (jq -e alone judges by the last input only).
has() {
	jq -c "select($1)" "$OUT" | grep -q .
}

valid_utf8() {
	iconv -f UTF-8 -t UTF-8 "$1" >/dev/null
}

@test "every shared adversarial fixture has its copy here, and a test in this suite" {
	shared=$REPO/../shared/fixtures/adversarial
	[ -d "$shared" ] || skip "no shared fixtures at $shared"
	for f in "$shared"/*.ndjson; do
		name=${f##*/}
		cmp "$f" "$FIX/$name"
		grep -q "$name" "$BATS_TEST_FILENAME"
	done
}

@test "any-reader-19digit.ndjson: an integer above INT64_MAX in an unknown record is forwarded as it is" {
	solve any-reader-19digit.ndjson
	clean_run
	[ ! -s "$ERR" ]
	cmp "$FIX/any-reader-19digit.ndjson" "$OUT"
}

@test "solve-json-overflow-json305.ndjson: a NodePool weight of 2^63 is refused by name; the other pool provisions" {
	solve solve-json-overflow-json305.ndjson
	clean_run
	grep -q 'nap-solve: warning: stdin: line 2: nodepool default: weight 9223372036854775808 not in 1..100' "$ERR"
	[ "$(launched_pods)" = "other: default/good" ]
}

@test "solve-json-overflow-unknown-field.ndjson: a 100 kB integer in an object is no overflow; the good pod provisions" {
	solve solve-json-overflow-unknown-field.ndjson
	clean_run
	grep -q 'nap-solve: warning: stdin: line 3: pod without metadata.name' "$ERR"
	[ "$(launched_pods)" = "default: default/good" ]
}

@test "solve-qsort-null-sched524.ndjson: a spread on a key no pool defines is unschedulable, naming the key" {
	solve solve-qsort-null-sched524.ndjson
	clean_run
	has '.type == "Unschedulable" and .pod == "default/spread"
	    and (.reason | test("no domain of example.com/rack"))'
	[ "$(launched_pods)" = "default: default/good" ]
}

@test "solve-stale-tombstone.ndjson: a DELETED of the old uid leaves the recreated pod, which provisions" {
	solve solve-stale-tombstone.ndjson
	clean_run
	[ "$(launched_pods)" = "default: default/p1" ]
}

@test "solve-weight-int-truncation.ndjson: weight 4294967346 is refused, not read as 50; pool zzz provisions" {
	solve solve-weight-int-truncation.ndjson
	clean_run
	grep -q 'nap-solve: warning: stdin: line 2: nodepool aaa: weight 4294967346 not in 1..100' "$ERR"
	[ "$(launched_pods)" = "zzz: default/good" ]
}

@test "solve-invalid-utf8-output.ndjson: a record of invalid UTF-8 is malformed, named, and kept out of the output" {
	solve solve-invalid-utf8-output.ndjson
	clean_run
	grep -qF 'nap-solve: warning: stdin: line 3: malformed record: invalid UTF-8 at byte 81 (ADDED Pod default/bad\xff\xfename)' "$ERR"
	valid_utf8 "$OUT"
	! grep -q 'uid-x' "$OUT"
	[ "$(launched_pods)" = "default: default/good" ]
}

@test "maxSkew 2^32+1 is refused, not read as 1, and names the pod" {
	status=0
	jq -c 'if .object.metadata.name == "spread" then
	    .object.spec.topologySpreadConstraints[0].maxSkew = 4294967297
	    | .object.spec.topologySpreadConstraints[0].topologyKey = "topology.kubernetes.io/zone"
	    else . end' "$FIX/solve-qsort-null-sched524.ndjson" |
	    "$NAP_BIN/nap-solve" --config /dev/null --region eastus >"$OUT" 2>"$ERR" || status=$?
	clean_run
	grep -q 'pod default/spread: topologySpreadConstraints\[0\]: maxSkew 4294967297 not in 1..2147483647' "$ERR"
	[ "$(launched_pods)" = "default: default/good" ]
}

# ---- nap-launch against nap-sim ----

start_sim() {
	sim_start --catalog "$REPO/data" --time-scale "$SCALE"
	sim_kubectl apply -f - >/dev/null <<-'EOF'
	apiVersion: karpenter.azure.com/v1beta1
	kind: AKSNodeClass
	metadata:
	  name: default
	spec:
	  imageFamily: Ubuntu
	EOF
}

# launch INPUT: nap-launch reads INPUT to its end and finishes its launches.
launch() {
	status=0
	timeout 300 "$NAP_BIN/nap-launch" --config "$SIM_CONFIG" --time-scale "$SCALE" \
	    <"$1" >"$OUT" 2>"$ERR" || status=$?
	cat "$ERR"
}

nodeclaims() {
	sim_kubectl get nodeclaims -o json | jq -r '[.items[].metadata.name] | sort | join(" ")'
}

# launched NAME: a Launched record for NAME, and its NodeClaim has a providerID.
launched() {
	has ".type == \"Launched\" and .nodeClaim == \"$1\""
	[ -n "$(sim_kubectl get nodeclaim "$1" -o jsonpath='{.status.providerID}')" ]
}

@test "launch-segv-finalizers-null.ndjson: finalizers [null] is refused by name; the valid claim launches" {
	start_sim
	launch "$FIX/launch-segv-finalizers-null.ndjson"
	clean_run
	grep -q 'nap-launch: warning: LaunchRequest nodeclaim "bad-fin-null": metadata.finalizers\[0\] is null, not a string: skipped' "$ERR"
	launched good-finalizers-null-elem
	[ "$(nodeclaims)" = "good-finalizers-null-elem" ]
}

@test "launch-abort-metadata-string.ndjson: metadata a string is refused, naming the pods; the valid claim launches" {
	start_sim
	launch "$FIX/launch-abort-metadata-string.ndjson"
	clean_run
	grep -q 'nap-launch: warning: LaunchRequest for pod default/p1: metadata is a string, not an object: skipped' "$ERR"
	launched good-metadata-string
	[ "$(nodeclaims)" = "good-metadata-string" ]
}

@test "metadata an array is refused the same way" {
	start_sim
	jq -c 'if .nodeClaim.metadata == "str" then .nodeClaim.metadata = ["x"] else . end' \
	    "$FIX/launch-abort-metadata-string.ndjson" >"$BATS_TEST_TMPDIR/in"
	launch "$BATS_TEST_TMPDIR/in"
	clean_run
	grep -q 'LaunchRequest for pod default/p1: metadata is an array, not an object: skipped' "$ERR"
	launched good-metadata-string
}

@test "launch-ub-qsort-null-launch206.ndjson: a request with no usable offering fails by name; the valid claim launches" {
	start_sim
	launch "$FIX/launch-ub-qsort-null-launch206.ndjson"
	clean_run
	grep -q 'nap-launch: warning: nodeclaim bad-req-missing: launch failed: InsufficientCapacity' "$ERR"
	has '.type == "LaunchFailed" and .nodeClaim == "bad-req-missing"
	    and .reason == "InsufficientCapacity"'
	launched good-req-missing
	sim_poll 30 eval '[ "$(nodeclaims)" = "good-req-missing" ]'
}

@test "launch-exit69-name-space-newline.ndjson: a name with a space and a newline is refused, quoted; no exit 69" {
	start_sim
	launch "$FIX/launch-exit69-name-space-newline.ndjson"
	clean_run
	grep -qF 'nap-launch: warning: LaunchRequest nodeclaim "a b\nc": invalid name: a lowercase RFC 1123 subdomain must consist of' "$ERR"
	launched good-name-space-newline
	[ "$(nodeclaims)" = "good-name-space-newline" ]
}

@test "a NodeClaim with such a name in the watch stream is refused by name, every restart alike" {
	start_sim
	{
		jq -cn '{type: "ADDED", object: {apiVersion: "karpenter.sh/v1", kind: "NodeClaim",
		    metadata: {name: "a b\nc/../x", uid: "u-bad", resourceVersion: "3"},
		    spec: {nodeClassRef: {group: "karpenter.azure.com", kind: "AKSNodeClass",
		        name: "default"}, requirements: []}}}'
		tail -n 1 "$FIX/launch-exit69-name-space-newline.ndjson"
	} >"$BATS_TEST_TMPDIR/in"
	launch "$BATS_TEST_TMPDIR/in"
	clean_run
	grep -qF 'nap-launch: warning: nodeclaim "a b\nc/../x": invalid name' "$ERR"
	launched good-name-space-newline
	# a restart reads the same stream: the same warning, and on it goes
	launch "$BATS_TEST_TMPDIR/in"
	clean_run
	grep -qF 'nap-launch: warning: nodeclaim "a b\nc/../x": invalid name' "$ERR"
	[ "$(nodeclaims)" = "good-name-space-newline" ]
}

@test "any-reader-19digit.ndjson through nap-launch: forwarded as it is" {
	start_sim
	launch "$FIX/any-reader-19digit.ndjson"
	clean_run
	cmp "$FIX/any-reader-19digit.ndjson" "$OUT"
}

# ---- nap-sim refuses what the API server refuses ----

# create_nc NAME: POST a NodeClaim named NAME; the answer in $OUT, the HTTP status printed.
create_nc() {
	jq -cn --arg n "$1" '{apiVersion: "karpenter.sh/v1", kind: "NodeClaim", metadata: {name: $n},
	    spec: {nodeClassRef: {group: "karpenter.azure.com", kind: "AKSNodeClass", name: "default"},
	        requirements: []}}' |
	    sim_kcurl /apis/karpenter.sh/v1/nodeclaims -X POST -H 'Content-Type: application/json' \
	        --data-binary @- -o "$OUT" -w '%{http_code}'
}

@test "nap-sim refuses invalid NodeClaim names with 422 Invalid and the API server's Status" {
	sim_start
	long=$(head -c 10000 /dev/zero | tr '\0' a)
	for name in "$(printf 'a b\nc')" UPPER_Case "$long"; do
		[ "$(create_nc "$name")" = 422 ]
		jq -e --arg n "$name" '.kind == "Status" and .status == "Failure" and .reason == "Invalid"
		    and .code == 422 and .details.name == $n and .details.group == "karpenter.sh"
		    and .details.kind == "NodeClaim"
		    and .details.causes[0].field == "metadata.name"
		    and .details.causes[0].reason == "FieldValueInvalid"
		    and (.message | startswith("NodeClaim.karpenter.sh \""))
		    and (.message | test("is invalid: metadata.name: Invalid value: "))' "$OUT"
	done
	jq -e '.message | endswith(": must be no more than 253 characters")' "$OUT"
	[ "$(create_nc ok-name)" = 201 ]
	[ "$(sim_kubectl get nodeclaims -o name)" = "nodeclaim.karpenter.sh/ok-name" ]
	# kubectl shows the API server's words
	run sim_kubectl create namespace Bad_NS
	[ "$status" -ne 0 ]
	[[ "$output" == *'Namespace "Bad_NS" is invalid: metadata.name: Invalid value: "Bad_NS": a lowercase RFC 1123 label'* ]]
}

# ---- nap-watch: a relist sends a replaced object's tombstone first ----

fault() {
	sim_acurl /nap-sim/faults -X POST -H 'Content-Type: application/json' -d "$1" >/dev/null
}

seen() {	# seen TYPE UID
	jq -c --arg t "$1" --arg u "$2" 'select(.type == $t and .object.metadata.uid == $u)' "$OUT" |
	    grep -q .
}

@test "a pod recreated under its name while the watch was down: the relist sends the old DELETED before the new ADDED" {
	sim_start
	sim_kubectl run p1 --image=nginx
	old=$(sim_kubectl get pod p1 -o jsonpath='{.metadata.uid}')
	"$NAP_BIN/nap-watch" --kubeconfig "$SIM_KUBECONFIG" --kinds pods --watch-timeout 1 \
	    >"$OUT" 2>"$ERR" &
	WPID=$!
	sim_poll 30 grep -q SYNCED "$OUT"
	# The watch goes dark: what follows reaches nap-watch only through a relist.
	fault '{"k8s":{"dropRate":1,"dropWatches":true}}'
	sim_kubectl delete pod p1 --grace-period=0 --force --wait=true
	sim_kubectl run p1 --image=nginx
	new=$(sim_kubectl get pod p1 -o jsonpath='{.metadata.uid}')
	[ "$old" != "$new" ]
	fault '{"k8s":{"dropRate":0,"compact":true}}'
	sim_poll 60 seen ADDED "$new"
	grep -q 'relisting' "$ERR"
	del=$(jq --arg u "$old" 'select(.type == "DELETED" and .object.metadata.uid == $u)
	    | input_line_number' "$OUT")
	add=$(jq --arg u "$new" 'select(.type == "ADDED" and .object.metadata.uid == $u)
	    | input_line_number' "$OUT")
	echo "DELETED old at line $del, ADDED new at line $add"
	[ -n "$del" ] && [ "$del" -lt "$add" ]
}
