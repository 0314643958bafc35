#!/bin/sh
# tests/fuzz/seeds.sh NAME DIR [YAML2JSON] - fill DIR with seed inputs for
# harness NAME: the committed seeds in tests/fuzz/seeds/NAME/ (hand-made
# cases and the reproducers of past findings), plus seeds derived from the
# repository's fixtures and, when present, ../shared/fixtures.  YAML2JSON
# (build/fuzz/yaml2json) turns YAML fixtures into JSON for the harnesses that
# read JSON.  Derived seeds are capped at 64 KiB (16 KiB for YAML): bigger
# inputs only slow the fuzzer down.  fuzz-quantity and fuzz-kubeconfig have
# committed seeds only: no fixture is shaped like their input.  DIR is emptied first; nothing here is committed.
set -u
name=$1 dir=$2 y2j=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
shared=$top/../shared/fixtures
rm -rf "$dir"
mkdir -p "$dir"
[ -d "$here/seeds/$name" ] && cp "$here/seeds/$name"/* "$dir"/ 2>/dev/null
n=0

cap=65536
add() {	# add FILE: copy one fixture in, if small enough
	[ -f "$1" ] || return 0
	[ "$(wc -c <"$1")" -le $cap ] || return 0
	n=$((n + 1))
	cp "$1" "$dir/fx-$n"
}

add_lines() {	# add_lines: one seed per line of stdin
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		n=$((n + 1))
		printf '%s\n' "$line" >"$dir/fx-$n"
	done
}

yaml_files() {
	ls "$top"/tests/fixtures/yaml/*.yaml "$top"/tests/fixtures/model/*.yaml \
		"$top"/tests/fixtures/e2e/*.yaml "$top"/deploy/*.yaml "$top"/deploy/*/*.yaml \
		"$shared"/karpenter/*.yaml "$shared"/aks-docs/*.yaml "$shared"/kube/*.yaml 2>/dev/null
}

json_docs() {	# every fixture document as one line of JSON
	if [ -x "$y2j" ]; then
		yaml_files | while read -r f; do "$y2j" "$f" 2>/dev/null; done
	fi
	for f in "$shared"/kube/*.json "$shared"/aks-docs/*.json; do
		[ -f "$f" ] && jq -c . "$f" 2>/dev/null
	done
}

case $name in
fuzz-rec)
	# fuzz-rec takes up to 16 KiB: the first lines of each stream.
	for f in "$top"/tests/fixtures/nap-solve/*/input.ndjson "$shared"/adversarial/*.ndjson; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		head -c 16384 "$f" >"$dir/fx-$n"
	done
	;;
fuzz-yaml)
	cap=16384
	for f in $(yaml_files); do add "$f"; done
	;;
fuzz-kube)
	json_docs | add_lines
	cat "$top"/tests/fixtures/nap-solve/*/input.ndjson "$shared"/adversarial/*.ndjson \
		2>/dev/null | grep '"object"' | add_lines
	;;
fuzz-labels)
	json_docs | jq -c '.. | objects | (.requirements, .matchExpressions, .nodeSelector,
		.matchLabels, .labelSelector) // empty' 2>/dev/null | sort -u | add_lines
	;;
fuzz-arm)
	for f in "$shared"/arm/*.json; do
		[ -f "$f" ] && jq -c '.responses[]?.body // empty' "$f" 2>/dev/null
	done | add_lines
	;;
esac
