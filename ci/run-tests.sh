#!/bin/sh
# Runs test binaries and reports one closing line
# "LABEL: N passed, N failed, N skipped".
#   run-tests.sh LABEL BIN... [-- FUZZBIN...] [--san SANBIN...]
#                                       (LABEL "all" adds tests/net, ci/interop.sh
#                                        and the benchmarks' quick mode, NET=0 skips them)
# cmocka binaries are counted by the test cases of every group they run, shell
# tests by their last line "N passed, N failed"; a binary that dies without its
# summaries counts as one failure, one that exits 77 as skipped. Skipped tests
# are listed with the reason they printed before the closing line. Fuzz
# harnesses after "--" get a short smoke run each (ci/fuzz-smoke.sh); the
# binaries after "--san" (built with SAN=1) run as a stage of their own, "san".
#   TEST_TIMEOUT  seconds a binary may run before it is killed and counted as a
#                 failure (default: no limit)
#   CORE_OBJS     the core's objects (lib/quic, lib/app): with LABEL "all", a "core-io" stage
#                 fails each that calls I/O (ci/check-core-io.sh)
#   FORMAT_SRCS   the tracked C sources: with LABEL "all", a "format" stage fails each
#                 that clang-format would change (ci/check-format.sh)
# Exit status is non-zero when anything failed.
set -u
label=$1
shift
passed=0
failed=0
skipped=0
log=$(mktemp)
skips=$(mktemp)
trap 'rm -f "$log" "$skips"' EXIT

# cmocka_counts LOG: "PASSED FAILED SKIPPED STARTED FINISHED", summed over the
# groups in LOG (STARTED and FINISHED count the groups).
cmocka_counts() {
	awk '
	/^\[==========\] Running [0-9]+ test/ { started++ }
	/^\[==========\] [0-9]+ test\(s\) run\./ { finished++ }
	/^\[  PASSED  \] [0-9]+ test/ { p += $4 }
	/^\[  FAILED  \] [0-9]+ test\(s\), listed below/ { f += $4 }
	/^\[  SKIPPED \] [0-9]+ test\(s\), listed below/ { s += $4 }
	END { print p + 0, f + 0, s + 0, started + 0, finished + 0 }' "$1"
}

# cmocka_skips BIN LOG: one line "BIN TEST: REASON" per skipped test case, the
# reason being what the test printed before skip() ("skip: " dropped).
cmocka_skips() {
	awk -v bin="$1" '
	/^\[ RUN      \] / { name = substr($0, 14); why = ""; running = 1; next }
	running && /^\[  SKIPPED \] / {
		if (why == "")
			why = "(no reason printed)"
		print bin " " name ": " why
		running = 0
		next
	}
	running && /^\[       OK \] |^\[  FAILED  \] / { running = 0; next }
	running && !/^\[/ && NF {
		sub(/^ *skip(ped)?: */, "")
		why = why == "" ? $0 : why "; " $0
	}' "$2"
}

bins=""
fuzz=""
san=""
list=bins
for arg; do
	case $arg in
	--) list=fuzz ;;
	--san) list=san ;;
	*)
		case $list in
		bins) bins="$bins $arg" ;;
		fuzz) fuzz="$fuzz $arg" ;;
		san) san="$san $arg" ;;
		esac
		;;
	esac
done

for bin in $bins; do
	echo "== $bin"
	if [ -n "${TEST_TIMEOUT:-}" ]; then
		timeout -k 10 "$TEST_TIMEOUT" "$bin" >"$log" 2>&1
	else
		"$bin" >"$log" 2>&1
	fi
	rc=$?
	cat "$log"
	if [ "$rc" = 77 ]; then
		# The documented skip code: the test cannot run here (tests/net
		# without root) and its output said why.
		skipped=$((skipped + 1))
		echo "$bin: $(grep . "$log" | tail -n 1 | sed 's/^ *skip\(ped\)\{0,1\}: *//')" >>"$skips"
		continue
	fi
	if [ -n "${TEST_TIMEOUT:-}" ] && { [ "$rc" = 124 ] || [ "$rc" = 137 ]; }; then
		echo "!! $bin killed after TEST_TIMEOUT=${TEST_TIMEOUT}s"
	fi
	read -r p f s started finished <<-EOF
		$(cmocka_counts "$log")
	EOF
	if [ "$started" = 0 ]; then
		# Shell tests (tests/net) end with "N passed, N failed".
		last=$(tail -n 1 "$log")
		p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p')
		f=$(echo "$last" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p')
		s=0
		if [ -z "$p" ]; then
			echo "!! $bin exited $rc without a test summary"
			failed=$((failed + 1))
			continue
		fi
	fi
	cmocka_skips "$bin" "$log" >>"$skips"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [ "$finished" -lt "$started" ]; then
		echo "!! $bin exited $rc during a test group ($finished of $started groups finished)"
		failed=$((failed + 1))
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "!! $bin exited $rc with no failed test"
		failed=$((failed + 1))
	fi
done

# stage SCRIPT ARG...: runs a stage script and adds its closing
# "NAME: N passed, N failed, N skipped" line; a stage without one counts as a
# failure.
stage() {
	out=$(sh "$@" 2>&1)
	echo "$out"
	last=$(echo "$out" | tail -n 1)
	counts=$(echo "$last" |
		sed -n 's/^[a-z][a-z-]*: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p')
	if [ -z "$counts" ]; then
		echo "!! $1 ended without its summary"
		failed=$((failed + 1))
		return
	fi
	read -r sp sf ss <<-EOF
		$counts
	EOF
	passed=$((passed + sp))
	failed=$((failed + sf))
	skipped=$((skipped + ss))
}

if [ -n "$san" ]; then
	# shellcheck disable=SC2086
	stage "$0" san $san
fi
if [ -n "${CORE_OBJS:-}" ] && [ "$label" = all ]; then
	# shellcheck disable=SC2086
	stage "$(dirname "$0")/check-core-io.sh" $CORE_OBJS
fi
if [ -n "${FORMAT_SRCS:-}" ] && [ "$label" = all ]; then
	# shellcheck disable=SC2086
	stage "$(dirname "$0")/check-format.sh" $FORMAT_SRCS
fi
if [ -n "$fuzz" ]; then
	# shellcheck disable=SC2086
	stage "$(dirname "$0")/fuzz-smoke.sh" $fuzz
fi
# End-to-end tests over network namespaces (they skip themselves without root).
if [ "${NET:-1}" = 1 ] && [ "$label" = all ]; then
	stage "$(dirname "$0")/run-net.sh"
fi
# The interop matrix against a peer's binaries (ci/interop.sh: one skip line
# when the peer is absent, as in a user's clone).
if [ "${NET:-1}" = 1 ] && [ "$label" = all ]; then
	stage "$(dirname "$0")/interop.sh"
fi

# The benchmarks in quick mode (bench/run.sh: small sizes, the document left
# alone), so that their scripts keep working; each counts as one test.
if [ "${NET:-1}" = 1 ] && [ "$label" = all ]; then
	BENCH_QUICK=1
	export BENCH_QUICK
	stage "$(dirname "$0")/../bench/run.sh"
fi

if [ -s "$skips" ]; then
	echo "$label: skipped here:"
	sed 's/^/  /' "$skips"
fi
echo "$label: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
