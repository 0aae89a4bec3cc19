#!/bin/sh
# Runs test binaries and reports one closing line "LABEL: N passed, N failed".
#   run-tests.sh LABEL BIN... [-- FUZZBIN...]      (LABEL "all" adds tests/net, NET=0 skips them)
# cmocka binaries are counted by their test cases, shell tests by their last line
# "N passed, N failed"; a binary that dies without its summary counts as one
# failure, one that exits 77 as skipped. Fuzz harnesses after "--" get a short smoke run
# each (ci/fuzz-smoke.sh). Exit status is non-zero when anything failed.
set -u
label=$1
shift
passed=0
failed=0
skipped=0
fuzz=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

while [ $# -gt 0 ]; do
	if [ "$1" = "--" ]; then
		shift
		fuzz="$*"
		break
	fi
	bin=$1
	shift
	echo "== $bin"
	"$bin" >"$log" 2>&1
	rc=$?
	cat "$log"
	if [ "$rc" = 77 ]; then
		# The documented skip code: the test cannot run here (tests/net
		# without root) and its output said why.
		skipped=$((skipped + 1))
		continue
	fi
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below.*/\1/p' "$log" | tail -n 1)
	if [ -z "$p" ] && [ -z "$f" ]; then
		# Shell tests (tests/net) end with "N passed, N failed".
		p=$(tail -n 1 "$log" | sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p')
		f=$(tail -n 1 "$log" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p')
	fi
	if [ -z "$p" ] && [ -z "$f" ]; then
		echo "!! $bin exited $rc without a test summary"
		failed=$((failed + 1))
		continue
	fi
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" != 0 ] && [ -z "$f" ]; then
		failed=$((failed + 1))
	fi
done

# Runs a stage script and adds its closing "NAME: N passed, N failed" line.
stage() {
	out=$(sh "$@" 2>&1)
	echo "$out"
	last=$(echo "$out" | tail -n 1)
	sp=$(echo "$last" | sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	sf=$(echo "$last" | sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	passed=$((passed + ${sp:-0}))
	failed=$((failed + ${sf:-1}))
}

if [ -n "$fuzz" ]; then
	# shellcheck disable=SC2086
	stage "$(dirname "$0")/fuzz-smoke.sh" $fuzz
fi
# End-to-end tests over network namespaces (they skip themselves without root).
if [ "${NET:-1}" = 1 ] && [ "$label" = all ]; then
	stage "$(dirname "$0")/run-net.sh"
fi

echo "$label: $passed passed, $failed failed"
[ "$failed" = 0 ]
