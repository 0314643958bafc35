# tests/helpers/invariants.bash - the safety invariants of everything that
# removes, checked throughout a run, not once at the end.
#
#   load helpers/sim
#   load helpers/invariants
#   invariants_start            # after sim_start: sample in the background
#   ...                         # the run
#   invariants_check            # stop sampling; fail, showing each breach
#
# The sampler reads nap-sim's safety counters (GET /nap-sim/stats, see
# nap-sim(1)) every INV_PERIOD seconds (0.2) and writes a line to
# $INV_LOG for each sample in which one is above zero:
#   pdbViolations        a pod deleted or evicted while its PDB allowed none
#   doNotDisruptEvicted  an eviction of a karpenter.sh/do-not-disrupt pod
#   vmsDeletedWithPods   a VM deleted while a drainable pod was bound to it
# nap-sim counts each at the moment it happens, so a breach is seen even
# when the run repairs it later; sampling throughout also shows when.  A
# sample that cannot be read (nap-sim gone) is a breach too: the run must
# keep the simulator alive until invariants_check.

: "${INV_PERIOD:=0.2}"

_inv_sample() {	# one sample: the three counters as "a b c", or nothing
	sim_acurl /nap-sim/stats 2>/dev/null |
	    jq -r '"\(.pdbViolations) \(.doNotDisruptEvicted) \(.vmsDeletedWithPods)"' 2>/dev/null
}

invariants_start() {
	INV_LOG=$BATS_TEST_TMPDIR/invariants.log
	INV_SAMPLES=$BATS_TEST_TMPDIR/invariants.samples
	: >"$INV_LOG"
	: >"$INV_SAMPLES"
	export INV_LOG INV_SAMPLES
	(
		while :; do
			s=$(_inv_sample)
			if [ -z "$s" ]; then
				echo "$(date +%T.%N) stats unreadable" >>"$INV_LOG"
			else
				echo "$s" >>"$INV_SAMPLES"
				case $s in
				"0 0 0") ;;
				*) echo "$(date +%T.%N) pdbViolations doNotDisruptEvicted vmsDeletedWithPods = $s" >>"$INV_LOG" ;;
				esac
			fi
			sleep "$INV_PERIOD"
		done
	) 3>&- &
	INV_PID=$!
	export INV_PID
}

invariants_stop() {
	if [ -n "${INV_PID:-}" ]; then
		kill "$INV_PID" 2>/dev/null || :
		# its status is the SIGTERM's 143: not a failure of the run
		wait "$INV_PID" 2>/dev/null || :
		INV_PID=
	fi
}

# invariants_check: stop the sampler, take one last sample, and fail when
# any sample broke an invariant or when fewer than two samples were taken
# (a sampler that never ran proves nothing).
invariants_check() {
	invariants_stop
	s=$(_inv_sample)
	[ -n "$s" ] || echo "$(date +%T.%N) stats unreadable at the end" >>"$INV_LOG"
	[ -z "$s" ] || [ "$s" = "0 0 0" ] ||
	    echo "$(date +%T.%N) at the end: pdbViolations doNotDisruptEvicted vmsDeletedWithPods = $s" >>"$INV_LOG"
	n=$(wc -l <"$INV_SAMPLES")
	if [ "$n" -lt 2 ]; then
		echo "invariants: only $n samples taken"
		return 1
	fi
	if [ -s "$INV_LOG" ]; then
		echo "invariants broken ($n samples):"
		cat "$INV_LOG"
		return 1
	fi
}

# invariants_replaced_first: one sample; a NodeClaim deleting before every
# replacement its nap.dev/replacement names is Initialized is appended to
# $BATS_TEST_TMPDIR/breach.
invariants_replaced_first() {
	sim_kubectl get nodeclaims -o json | jq -r '
	    (.items | map({key: .metadata.name, value: ([.status.conditions[]? | select(.type == "Initialized" and .status == "True")] | length > 0)}) | from_entries) as $init
	    | .items[] | select(.metadata.deletionTimestamp) | .metadata as $m
	    | ($m.annotations["nap.dev/replacement"] // empty | split(",")[])
	    | select($init[.] | not) | "\($m.name) deleting before replacement \(.) is Initialized"' \
	    >>"$BATS_TEST_TMPDIR/breach"
}
