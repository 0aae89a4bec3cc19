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

# need_root WHAT: skipped (exit 77) unless root, saying what needs it.
need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "skipped: needs root for $1"
		exit 77
	fi
}

# need_tools TOOL...: skipped unless each is installed.
need_tools() {
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "skipped: needs $tool (make deps)"
			exit 77
		fi
	done
}

# two_namespaces PREFIX: names a client ($cns) and a server ($sns) network
# namespace, makes a scratch directory $tmp, and at exit kills the processes
# listed in $pids and removes all three.
two_namespaces() {
	cns=${1}c$$
	sns=${1}s$$
	tmp=$(mktemp -d)
	pids=""
	trap namespaces_cleanup EXIT
	trap 'exit 1' INT TERM
}

namespaces_cleanup() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	ip netns del "$cns" 2>/dev/null
	ip netns del "$sns" 2>/dev/null
	rm -rf "$tmp"
}

in_c() { ip netns exec "$cns" "$@"; }
in_s() { ip netns exec "$sns" "$@"; }

# veth_pairs C S NET N [v6]: creates both namespaces and N veth pairs, CI in
# the client's with 10.NET.I.1/24 and SI in the server's with 10.NET.I.2/24
# (and fdNET:I::1 and ::2/64 with v6), all up; a failure is a failed check
# and ends the test. With VETH_QUEUES=Q each end has Q rx and Q tx queues
# (veth puts a frame on the peer's rx queue of the sender's tx queue).
veth_pairs() {
	if ! make_veth_pairs "$@" >"$tmp/setup.err" 2>&1; then
		not_ok "$4 veth pair(s) between $cns and $sns" "$(cat "$tmp/setup.err")"
		finish
	fi
}

make_veth_pairs() {
	ip netns add "$cns" && ip netns add "$sns" || return 1
	in_c ip link set lo up && in_s ip link set lo up || return 1
	for i in $(seq "$4"); do
		ip link add name "$1$i" netns "$cns" ${VETH_QUEUES:+numrxqueues $VETH_QUEUES} \
			${VETH_QUEUES:+numtxqueues $VETH_QUEUES} type veth peer name "$2$i" \
			netns "$sns" ${VETH_QUEUES:+numrxqueues $VETH_QUEUES} \
			${VETH_QUEUES:+numtxqueues $VETH_QUEUES} &&
			in_c ip addr add "10.$3.$i.1/24" dev "$1$i" &&
			in_s ip addr add "10.$3.$i.2/24" dev "$2$i" || return 1
		if [ "${5:-}" = v6 ]; then
			in_c ip addr add "fd$3:$i::1/64" dev "$1$i" nodad &&
				in_s ip addr add "fd$3:$i::2/64" dev "$2$i" nodad || return 1
		fi
		in_c ip link set "$1$i" up && in_s ip link set "$2$i" up || return 1
	done
}

# ns_server NAME SECS ARGS...: mpq-server ARGS in the server's namespace,
# killed after SECS, its output in $tmp/NAME.out and $tmp/NAME.err, its pid in
# $spid (and $pids); waits up to 5 s for its first "listening on" line:
# non-zero if none came or the server exited. Not through in_s: ip netns exec
# and timeout exec in place, so $! is timeout, which passes SIGTERM on and
# exits with the server's status.
ns_server() {
	_nsname=$1 _nssecs=$2
	shift 2
	ip netns exec "$sns" timeout "$_nssecs" "$BIN/mpq-server" "$@" \
		>"$tmp/$_nsname.out" 2>"$tmp/$_nsname.err" &
	spid=$!
	pids="$pids $spid"
	for _ in $(seq 50); do
		grep -q "^listening on" "$tmp/$_nsname.out" 2>/dev/null && return 0
		kill -0 "$spid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop_server: SIGTERM to the server ns_server started; its exit status in $src.
stop_server() {
	kill -TERM "$spid" 2>/dev/null
	wait "$spid"
	# shellcheck disable=SC2034 # the scripts read it
	src=$?
}

# wait_line PATTERN FILE: waits up to 5 s for a line matching PATTERN in
# FILE (a program saying it is ready); non-zero if none came.
wait_line() {
	for _ in $(seq 50); do
		grep -q "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_lines N PATTERN FILE: waits up to 5 s for N lines matching PATTERN
# in FILE (a server listening on N addresses); non-zero if they did not come.
wait_lines() {
	for _ in $(seq 50); do
		[ "$(grep -c "$2" "$3" 2>/dev/null)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# want_sha N: the sha256 of the N-byte body mpq-server generates for
# GET /N (byte i is i mod 251).
want_sha() {
	python3 -c 'import hashlib, sys
n = int(sys.argv[1]); p = bytes(i % 251 for i in range(251)) * 4096
h = hashlib.sha256()
for _ in range(n // len(p)): h.update(p)
h.update(p[:n % len(p)]); print(h.hexdigest())' "$1"
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
	n_fetches 20 "$@"
}

# n_fetches N DIR SHA URL CMD...: twenty_fetches with N fetches; URL may be
# two URLs separated by a space, then the fetches alternate between them.
n_fetches() {
	nf=$1
	dir=$2
	sha=$3
	url1=${4%% *}
	url2=${4#* }
	shift 4
	bad=0
	i=0
	while [ "$i" -lt "$nf" ]; do
		pids=""
		for k in 0 1 2 3; do
			[ "$i" -lt "$nf" ] || break
			url=$url1
			[ $((i % 2)) = 1 ] && url=$url2
			"$@" -o "$dir/$i" "$url" 2>"$dir/$i.err" &
			pids="$pids $!"
			i=$((i + 1))
		done
		for p in $pids; do
			wait "$p" || bad=$((bad + 1))
		done
	done
	same=0
	for i in $(seq 0 $((nf - 1))); do
		[ -f "$dir/$i" ] &&
			[ "$(sha256sum <"$dir/$i" | cut -d' ' -f1)" = "$sha" ] && same=$((same + 1))
	done
	if [ "$bad" = 0 ] && [ "$same" = "$nf" ]; then
		ok "$nf fetches, all byte-exact${fetches_what:+ ($fetches_what)}"
	else
		not_ok "$nf fetches, all byte-exact${fetches_what:+ ($fetches_what)}" \
			"$bad client(s) failed, $same of $nf byte-exact" \
			"$(cat "$dir"/*.err | grep -v "WARNING: --insecure" | head -5)"
	fi
}

# both_workers_served LOG [N]: the server's -v log names worker 0 and worker 1
# among its N (default 20) connections.
both_workers_served() {
	w0=$(grep -c "connection .* (worker 0)$" "$1")
	w1=$(grep -c "connection .* (worker 1)$" "$1")
	if [ "$w0" -gt 0 ] && [ "$w1" -gt 0 ] && [ $((w0 + w1)) = "${2:-20}" ]; then
		ok "both workers served connections (worker 0: $w0, worker 1: $w1)"
	else
		not_ok "both workers served connections" \
			"worker 0: $w0, worker 1: $w1 (want both > 0, ${2:-20} in all)"
	fi
}

# Loopback tests (no privileges): loopback_scratch makes a scratch directory
# $tmp, removed at exit with the server $server_pid (loopback_server) if one
# still runs.
loopback_scratch() {
	tmp=$(mktemp -d)
	server_pid=""
	trap loopback_cleanup EXIT
	trap 'exit 1' INT TERM
}

loopback_cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}

# loopback_server DIR ARG...: starts
# "mpq-server --addr 127.0.0.1 -port 0 ARG..." with its output in DIR/server.out
# and DIR/server.err, and waits for the port it prints: sets $server_pid and
# $port, or leaves $port empty when it did not start.
loopback_server() {
	lsdir=$1
	shift
	"$BIN/mpq-server" --addr 127.0.0.1 -port 0 "$@" >"$lsdir/server.out" \
		2>"$lsdir/server.err" &
	server_pid=$!
	port=""
	for _ in $(seq 50); do
		port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$lsdir/server.out")
		[ -n "$port" ] && break
		sleep 0.1
	done
}
