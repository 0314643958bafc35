#!/usr/bin/env bats
# The build's public targets: install and uninstall with PREFIX and DESTDIR,
# and the man pages' lint.

setup() {
	REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
}

@test "make install puts tools, pages, data, pipelines and units under DESTDIR, and uninstall removes them" {
	dest="$BATS_TEST_TMPDIR/root"
	run make -C "$REPO" --no-print-directory install DESTDIR="$dest" PREFIX=/opt/nap
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for f in bin/nap-watch bin/nap-solve bin/nap-launch bin/nap-sim bin/nap \
	    share/man/man5/nap-records.5 share/man/man5/nap.conf.5 share/man/man7/nap.7 \
	    share/nap/catalog.tsv lib/systemd/system/nap.target; do
		[ -e "$dest/opt/nap/$f" ] || { echo "missing $f"; false; }
	done
	[ -x "$dest/opt/nap/bin/nap-solve" ]
	run make -C "$REPO" --no-print-directory uninstall DESTDIR="$dest" PREFIX=/opt/nap
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -z "$(find "$dest" -type f)" ] || { find "$dest" -type f; false; }
}

@test "an installed tool finds the installed catalog under any PREFIX" {
	dest="$BATS_TEST_TMPDIR/root"
	make -C "$REPO" --no-print-directory install DESTDIR="$dest" PREFIX=/opt/nap >/dev/null
	# The source tree's data/ is not reachable from here: only the installed copy can answer.
	input="$REPO/tests/fixtures/nap-solve/docs-default-pool/input.ndjson"
	cd "$BATS_TEST_TMPDIR"
	run "$dest/opt/nap/bin/nap-solve" --region eastus <"$input"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[[ "$output" == *'"type":"LaunchRequest"'* ]] || { echo "$output"; false; }
	mv "$dest/opt/nap/share/nap/catalog.tsv" "$dest/opt/nap/share/nap/moved.tsv"
	run "$dest/opt/nap/bin/nap-solve" --region eastus <"$input"
	[[ "$output" != *'"type":"LaunchRequest"'* ]] || { echo "planned without a catalog: $output"; false; }
}

@test "every man page is mandoc -Tlint clean" {
	command -v mandoc >/dev/null || { echo "mandoc is not installed: make deps installs it"; false; }
	run mandoc -Tlint -Wwarning "$REPO"/man/*.[157]
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}
