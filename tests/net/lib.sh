# Shared by tests/net/test-*.sh (sourced): the tools' directory, the pass and
# fail counters and the closing "N passed, N failed" line that ci/run-net.sh
# adds up.

# BIN: the first argument, $BIN, or build/bin, made absolute when it exists.
BIN=$(cd "${1:-${BIN:-build/bin}}" 2>/dev/null && pwd) || BIN=${1:-build/bin}
passed=0
failed=0

ok() {
	passed=$((passed + 1))
	echo "ok   $1"
}

# not_ok NAME [DETAIL...]: a failed check, each detail on its own line.
not_ok() {
	failed=$((failed + 1))
	echo "FAIL $1"
	shift
	for line in "$@"; do
		echo "     $line"
	done
}

# Prints the summary and exits, non-zero when anything failed.
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}
