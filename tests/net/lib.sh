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

# Server workers (test-workers.sh, test-xdp-workers.sh):
# twenty_fetches DIR SHA URL CMD...: runs "CMD -o DIR/I URL" for I = 0..19,
# four at a time (stderr in DIR/I.err); checks each exits 0 with a body whose
# sha256 is SHA.
twenty_fetches() {
	dir=$1
	sha=$2
	url=$3
	shift 3
	bad=0
	for batch in 0 1 2 3 4; do
		pids=""
		for k in 0 1 2 3; do
			i=$((batch * 4 + k))
			"$@" -o "$dir/$i" "$url" 2>"$dir/$i.err" &
			pids="$pids $!"
		done
		for p in $pids; do
			wait "$p" || bad=$((bad + 1))
		done
	done
	same=0
	for i in $(seq 0 19); do
		[ -f "$dir/$i" ] &&
			[ "$(sha256sum <"$dir/$i" | cut -d' ' -f1)" = "$sha" ] && same=$((same + 1))
	done
	if [ "$bad" = 0 ] && [ "$same" = 20 ]; then
		ok "20 fetches, all byte-exact"
	else
		not_ok "20 fetches, all byte-exact" "$bad client(s) failed, $same of 20 byte-exact" \
			"$(cat "$dir"/*.err | grep -v "WARNING: --insecure" | head -5)"
	fi
}

# both_workers_served LOG: the server's -v log names worker 0 and worker 1
# among its 20 connections.
both_workers_served() {
	w0=$(grep -c "connection .* (worker 0)$" "$1")
	w1=$(grep -c "connection .* (worker 1)$" "$1")
	if [ "$w0" -gt 0 ] && [ "$w1" -gt 0 ] && [ $((w0 + w1)) = 20 ]; then
		ok "both workers served connections (worker 0: $w0, worker 1: $w1)"
	else
		not_ok "both workers served connections" \
			"worker 0: $w0, worker 1: $w1 (want both > 0, 20 in all)"
	fi
}
