#!/bin/sh
# Lockouts a single host can attempt, on the loopback of a network namespace of
# our own, as root: a real mpq-client is served right after 5,000 noise
# 1200-byte "Initials" (which create no connection), and during floods of
# valid Initials from 2,000 source ports that never answer: from one address
# (held to 32 pending handshakes) and from 100 addresses (answered with Retry
# past 128 pending handshakes). The floods come from tests/net/initial_flood
# (built by make net / make test). Exit 77 (skipped) without root.
#   tests/net/test-initial-flood.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "a network namespace"
flood=$BIN/../tests/net/initial_flood
if [ ! -x "$flood" ]; then
	not_ok "flood helper" "$flood not built (make net builds it)"
	finish
fi

two_namespaces mpqfl # only the server's ($sns) is used: everything is on its loopback
if ! ip netns add "$sns" || ! in_s ip link set lo up; then
	not_ok "namespace $sns"
	finish
fi
mkdir -p "$tmp/www"
spid=""

# Each case gets a fresh server, so that what one flood left does not count in
# the next.
start_server() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	# Not through in_s: $! of a backgrounded function is a subshell's.
	ip netns exec "$sns" "$BIN/mpq-server" --addr 127.0.0.1 -port 4433 -www "$tmp/www" -v \
		>"$tmp/server.log" 2>&1 &
	spid=$!
	pids="$pids $spid"
	sleep 0.5
}

# fetch NAME: a real client from 127.0.0.1 gets GET /1000 within a 5 s handshake
# (the server would hold flood connections for 10 s).
fetch() {
	rm -f "$tmp/out"
	if in_s timeout 20 "$BIN/mpq-client" -k --no-progress --handshake-timeout 5000 \
		-o "$tmp/out" https://127.0.0.1:4433/1000 2>"$tmp/client.err" &&
		[ "$(wc -c <"$tmp/out")" = 1000 ]; then
		ok "$1"
	else
		not_ok "$1" "$(cat "$tmp/client.err")" "server: $(tail -n 3 "$tmp/server.log")"
	fi
}

# conns_from PREFIX: connections the server's -v log shows from addresses
# starting with PREFIX.
conns_from() {
	grep -c "^mpq-server: connection .* from $1" "$tmp/server.log"
}

start_server
fetch "a client is served (no flood)"

# ---- noise ----
sent=$(in_s "$flood" noise 127.0.0.1 4433 5000 127.3.0.1)
fetch "a client is served right after 5,000 noise Initials ($sent)"
n=$(conns_from 127.3.0.1)
if [ "$n" = 0 ]; then
	ok "the noise made no connection"
else
	not_ok "the noise made no connection" "$n connections from 127.3.0.1"
fi

# flood_case FROM HOSTS PORTS MAX WHAT: valid Initials for 5 s from PORTS
# ports on each of HOSTS addresses from FROM; a real client is served 1.5 s
# in, and the flood got between 1 and MAX connections (WHAT says why MAX).
flood_case() {
	start_server
	ip netns exec "$sns" "$flood" valid 127.0.0.1 4433 "$1" "$2" "$3" 5 3000 \
		>"$tmp/flood.out" &
	fpid=$!
	pids="$pids $fpid"
	sleep 1.5
	fetch "a client is served during a flood from $(($2 * $3)) ports of $2 address(es)"
	wait "$fpid"
	n=$(conns_from "${1%.*}.")
	if [ "$n" -ge 1 ] && [ "$n" -le "$4" ]; then
		ok "the flood got $n connections, at most $4: $5 ($(cat "$tmp/flood.out") Initials)"
	else
		not_ok "the flood got at most $4 connections: $5" "$n connections"
	fi
}

flood_case 127.1.0.1 1 2000 32 "pending handshakes per address"
flood_case 127.2.0.1 100 20 128 "then Retry"

finish
