#!/usr/bin/env bats
# bench/config-bound.c, the configuration LP bound that bench/solve.sh sets
# nap-solve's fleets against, on instances small enough to solve by hand.
# The catalog (tests/fixtures/bench-bound) has Standard_D2s_v5 alone in
# westus and with Standard_D4s_v5 in eastus; config-bound -v prints their
# allocatable as nap-solve computes it: D2s_v5 1900m, 4984 MiB, 250 pods at
# $0.096/h; D4s_v5 3860m, 11743 MiB, 250 pods at $0.192/h.  centralus has
# both with D4s_v5 at $0.240/h, dearer than two D2s_v5.
#
# config-bound needs GLPK's headers: make test installs libglpk-dev (bin/
# nap-deps build) for this suite, so a missing one is a skip that CI
# (NAP_SKIP_FAILS=1) counts as a failure.

bats_require_minimum_version 1.5.0

setup_file() {
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
	export REPO
	if ! echo '#include <glpk.h>' | cc -E - >/dev/null 2>&1; then
		export NO_GLPK=1
		return 0
	fi
	[ -f "$REPO/lib/libnap.a" ] || {
		echo "bench-bound: $REPO/lib/libnap.a is not built (make)" >&2
		return 1
	}
	# shellcheck disable=SC2046
	cc -O2 -D_GNU_SOURCE -I"$REPO/lib" -include "$REPO/lib/banned.h" \
		-o "$BATS_FILE_TMPDIR/config-bound" "$REPO/bench/config-bound.c" "$REPO/lib/libnap.a" \
		$(pkg-config --cflags --libs json-c yaml-0.1 libcurl) -lglpk -lm
	# shellcheck disable=SC2046
	cc -O2 -D_GNU_SOURCE -I"$REPO/lib" -include "$REPO/lib/banned.h" \
		-o "$BATS_FILE_TMPDIR/lp-bound" "$REPO/bench/lp-bound.c" "$REPO/lib/libnap.a" \
		$(pkg-config --cflags --libs json-c yaml-0.1 libcurl) -lm
}

setup() {
	[ -z "${NO_GLPK:-}" ] || skip "no GLPK headers (libglpk-dev: sh bin/nap-deps build)"
	CAT=$REPO/tests/fixtures/bench-bound/catalog.tsv
	REQ=$BATS_TEST_TMPDIR/requests
}

# bound REGION [FLAGS...]: the bound of the requests in $REQ on stdout into
# $out, stderr into $err
bound() {
	region=$1
	shift
	"$BATS_FILE_TMPDIR/config-bound" "$@" "$CAT" "$region" <"$REQ" >"$BATS_TEST_TMPDIR/out" \
		2>"$BATS_TEST_TMPDIR/err"
	out=$(cat "$BATS_TEST_TMPDIR/out")
	err=$(cat "$BATS_TEST_TMPDIR/err")
}

# pods N CPU_MILLI MEMORY_MIB [GROUP]: N request lines
pods() {
	i=0
	while [ "$i" -lt "$1" ]; do
		echo "$2 $(($3 * 1048576)) ${4:--}"
		i=$((i + 1))
	done
}

@test "one shape on one size: a node per 1-core pod on a 1.9-core node, where whole-pod LP gives half that" {
	pods 10 1000 1024 >"$REQ"
	bound westus -v
	[ "$out" = 0.9600 ]
	[[ $err == *"size Standard_D2s_v5 1900m 5104230Ki 250 pods \$0.0960/h"* ]]
	[[ $err == *", exact, within 0.000 % of the optimum (master 0.9600)"* ]]
}

@test "two shapes: a 1200m and a 600m pod share a node, cheaper than each shape alone" {
	# alone: 4 nodes of one 1200m pod and 4/3 of three 600m pods = 0.512
	{ pods 4 1200 1024; pods 4 600 1024; } >"$REQ"
	bound westus
	[ "$out" = 0.3840 ]
	[[ $err == *", exact, "* ]]
}

@test "a hostname anti-affinity group puts one pod of the group on a node, whatever its shape" {
	{ pods 3 100 100 g; pods 2 200 100 g; } >"$REQ"
	bound westus
	[ "$out" = 0.4800 ]
	# without groups (-n) all five fit one node
	{ pods 3 100 100 g; pods 2 200 100 g; } >"$REQ"
	bound westus -n
	[ "$out" = 0.0960 ]
	# with a 1500m pod beside them: three nodes, one of the group on each
	# (the 1500m pod and two of the group would fit one)
	{ pods 2 100 100 g; pods 1 200 100 g; pods 1 1500 100; } >"$REQ"
	bound westus
	[ "$out" = 0.2880 ]
}

@test "a group's two pods take two nodes though the search has room for both beside other pods" {
	# 900m+2000Mi alone, 900m+2000Mi in group h, 200m and 500m in group g:
	# without groups 2500m on 1900m nodes is 1.5 nodes of pods (-n: two
	# 900m pods are one class); with g one to a node it is two whole nodes
	{ echo "900 $((2000 * 1048576)) -"; echo "200 $((500 * 1048576)) g"
	  echo "900 $((2000 * 1048576)) h"; echo "500 $((1000 * 1048576)) g"; } >"$REQ"
	bound westus
	[ "$out" = 0.1920 ]
	bound westus -n
	[ "$out" = 0.1440 ]
}

@test "groups: the bound without them (phase 0) is a bound and a center; smoothed rounds still end exact" {
	# 8 pods each of 700m (group a), 500m (group b), 300m and 1100m on
	# D2s_v5 (1900m): a and b pods take 8 nodes each, so the grouped LP
	# (12 nodes, $1.1520) is dearer than the one without groups
	{
		pods 8 700 1024 a
		pods 8 500 512 b
		pods 8 300 256
		pods 8 1100 2048
	} >"$REQ"
	bound westus
	[[ $err == *"config-bound: without groups "* ]]
	[[ $err == *", exact, within 0.000 % of the optimum (master 1.1520)"* ]]
	[ "$out" = 1.1520 ]
	# cut off after one round: a smoothed round betters phase 0's figure ...
	CONFIG_BOUND_SECONDS=0 bound westus
	p0=$(echo "$err" | sed -n 's/^config-bound: without groups \([0-9.]*\),.*/\1/p')
	one=$out
	[ -n "$p0" ]
	awk -v a="$one" -v b="$p0" 'BEGIN { exit !(a > b && a <= 1.1520) }'
	# unsmoothed, the first round's own bound is below phase 0's, which stands
	CONFIG_BOUND_SECONDS=0 CONFIG_BOUND_ALPHA=0 bound westus
	[ "$out" = "$p0" ]
	# ... and better than a first round without that center
	CONFIG_BOUND_SECONDS=0 CONFIG_BOUND_NO_CENTER=1 bound westus
	[[ $err != *"without groups"* ]]
	awk -v a="$one" -v b="$out" 'BEGIN { exit !(a > b) }'
}

@test "250 pods at most on a node, across shapes" {
	{ pods 200 1 1; pods 200 2 1; } >"$REQ"
	bound westus
	# 400 pods / 250 per node
	[ "$out" = 0.1536 ]
}

@test "the cheaper size per pod wins: three 1250m pods on one D4s_v5, not three D2s_v5" {
	pods 3 1250 1024 >"$REQ"
	bound eastus -i
	[ "$out" = "0.1920 0.1920" ]
}

@test "requests rounded down to a grid give a lower bound, never a higher one, and say so" {
	# 2 x 960m do not fit 1900m: two nodes; rounded down to 100m they do
	pods 2 960 100 >"$REQ"
	bound westus
	[ "$out" = 0.1920 ]
	[[ $err != *rounded* ]]
	pods 2 960 100 >"$REQ"
	bound westus -g 4
	[ "$out" = 0.0960 ]
	[[ $err == *"requests rounded down to 100m CPU and 32 MiB memory (1 distinct)"* ]]
}

@test "more than 100 distinct requests: rounded down to the finest grid that leaves 100 at most" {
	i=0
	while [ "$i" -lt 150 ]; do
		echo "$((1001 + i)) 1073741824"
		i=$((i + 1))
	done >"$REQ"
	bound westus
	[[ $err == *"requests rounded down to 10m CPU and 1 MiB memory (16 distinct)"* ]]
	# each pod over 1 core, alone on its node either way
	[ "$out" = 14.4000 ]
}

@test "groups do not count toward the 100: 30 requests in 4 groups are not rounded" {
	for g in 1 2 3 4; do
		s=1
		while [ "$s" -le 30 ]; do
			echo "$((100 + 10 * s)) 104857600 g$g"
			s=$((s + 1))
		done
	done >"$REQ"
	bound westus
	[[ $err != *rounded* ]]
	# each group's 30 pods on 30 nodes, one of each group on a node
	[ "$out" = 2.8800 ]
}

@test "requests no grid of 50m and 16 MiB brings to 100: rounded down to steps that are requests" {
	# 120 requests over 1000m: one to a node however they round
	i=0
	while [ "$i" -lt 120 ]; do
		echo "$((1000 + 3 * i)) $(((100 + 20 * i) * 1048576))"
		i=$((i + 1))
	done >"$REQ"
	bound westus
	[[ $err == *"requests rounded down to "*" CPU and "*" memory steps ("*" distinct)"* ]]
	# the least request is the first step: no pod rounds below every step
	[[ $err == *"CPU (m) steps: 1000 "* ]]
	[[ $err == *"memory (MiB) steps: 100 "* ]]
	[ "$out" = 11.5200 ]
}

@test "a node ceiling (-m) forces a larger size: four 900m pods on one D4s_v5 when one node is all there is" {
	# two D2s_v5 hold two each ($0.192); one D4s_v5 holds all four ($0.240)
	pods 4 900 1024 >"$REQ"
	bound centralus
	[ "$out" = 0.1920 ]
	bound centralus -m 2
	[ "$out" = 0.1920 ]
	bound centralus -i -v -m 1
	[ "$out" = "0.2400 0.2400" ]
	[[ $err == *", exact, within 0.000 % of the optimum (master 0.2400)"* ]]
	[[ $err == *"1.000 x Standard_D4s_v5"*"4*(900m,1024Mi)"* ]]
	[[ $err == *"at most 1 nodes: a node charged \$"* ]]
	# fractional nodes still count: 4/3 of a 3-pod D4s_v5 is over one node
	pods 4 1000 1024 >"$REQ"
	bound centralus -i -m 1
	[ "$out" = "$(echo "$out" | cut -d' ' -f1) -1.0000" ]
	[[ $err == *"at most 1 nodes: the LP still puts "*" over it"* ]]
	run "$BATS_FILE_TMPDIR/config-bound" -m x "$CAT" centralus
	[ "$status" = 64 ]
	[[ $output == *usage:* ]]
}

# snapshot FILE: a nap-watch record per pod line on stdin ("NAME JSON-SPEC-TAIL"),
# the pod's labels app=a
snapshot() {
	while read -r name tail; do
		printf '{"object":{"kind":"Pod","metadata":{"namespace":"ns","name":"%s","labels":{"app":"a"}},"spec":{"containers":[{"resources":{"requests":{"cpu":"100m","memory":"100Mi"}}}]%s}}}\n' \
			"$name" "$tail"
	done >"$1"
}

@test "bench/bound-req.jq: a hostname spread of maxSkew 1 makes a group, one pod to a node, as anti-affinity does" {
	spread='"topologyKey":"kubernetes.io/hostname","labelSelector":{"matchLabels":{"app":"a"}}'
	snapshot "$BATS_TEST_TMPDIR/snap" <<-EOF
	s1 ,"topologySpreadConstraints":[{"maxSkew":1,"whenUnsatisfiable":"DoNotSchedule",$spread}]
	s2 ,"topologySpreadConstraints":[{"maxSkew":1,$spread}]
	a1 ,"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{$spread}]}}
	k2 ,"topologySpreadConstraints":[{"maxSkew":2,$spread}]
	any ,"topologySpreadConstraints":[{"maxSkew":1,"whenUnsatisfiable":"ScheduleAnyway",$spread}]
	zone ,"topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","labelSelector":{"matchLabels":{"app":"a"}}}]
	mlk ,"topologySpreadConstraints":[{"maxSkew":1,"matchLabelKeys":["pod-template-hash"],$spread}]
	old ,"topologySpreadConstraints":[{"maxSkew":1,$spread}]
	EOF
	printf 'ns/%s\n' s1 s2 a1 k2 any zone mlk >"$BATS_TEST_TMPDIR/new"
	jq -r -n --rawfile new "$BATS_TEST_TMPDIR/new" -f "$REPO/bench/bound-req.jq" \
		"$BATS_TEST_TMPDIR/snap" >"$REQ"
	# one group for s1, s2 and a1 (one selector); the rest none; old is not new
	[ "$(wc -l <"$REQ")" = 7 ]
	[ "$(cut -f3 "$REQ" | sort | uniq -c | awk '{print $1}' | sort -n | tr '\n' ' ')" = "3 4 " ]
	[ "$(head -3 "$REQ" | cut -f3 | sort -u | wc -l)" = 1 ]
	[ "$(head -1 "$REQ" | cut -f1,2)" = "$(printf '100\t104857600')" ]
	[ "$(tail -4 "$REQ" | cut -f3 | sort -u)" = - ]
	# config-bound: the group's three pods on three D2s_v5, the other four beside them
	bound westus
	[ "$out" = 0.2880 ]
}

@test "lp-bound --fit NODES: the whole-pod LP for glpsol with the ceiling row, nodes of every size NODES at most" {
	pods 4 900 1024 >"$REQ"
	"$BATS_FILE_TMPDIR/lp-bound" --fit "$CAT" centralus 1 <"$REQ" >"$BATS_TEST_TMPDIR/lp"
	grep -qx ' n: + x0 + x1 <= 1' "$BATS_TEST_TMPDIR/lp"
	[ "$(tail -1 "$BATS_TEST_TMPDIR/lp")" = End ]
	"$BATS_FILE_TMPDIR/lp-bound" --fit "$CAT" centralus <"$REQ" >"$BATS_TEST_TMPDIR/lp"
	run ! grep -q ' n:' "$BATS_TEST_TMPDIR/lp"
	run "$BATS_FILE_TMPDIR/lp-bound" --fit "$CAT" centralus 1x
	[ "$status" = 64 ]
	[[ $output == *"1x: not a node count"* ]]
}
