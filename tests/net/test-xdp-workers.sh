#!/bin/sh
# mpq-server --io xdp --workers 2, as root: a client namespace and a server
# namespace joined by one veth pair (10.67.1.0/24, addresses only inside the
# namespaces). The server's two workers have an AF_XDP socket each on queue 0
# of its interface, sharing one UMEM, and the steering program picks the
# socket by the worker ID in the DCID. Checks: 20 fetches (4 at a time) all
# byte-exact; both workers served connections (-v: "(worker K)"); the
# program's counters (-v, at exit) show datagrams steered by CID and none to
# a missing worker or socket; on SIGTERM the server exits 0 and leaves no XDP
# program. Every command runs under a time limit; the namespaces are deleted
# on any exit. Exit 77 (skipped) without root, ip or timeout. Prints
# "N passed, N failed" last.
#   tests/net/test-xdp-workers.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces and AF_XDP"
need_tools ip timeout sha256sum
two_namespaces mpqw

if [ ! -x "$BIN/mpq-server" ] || [ ! -x "$BIN/mpq-client" ]; then
	not_ok "tools built" "$BIN/mpq-server or $BIN/mpq-client missing: run make"
	finish
fi
veth_pairs wc ws 67 1
mkdir "$tmp/www" "$tmp/got"
head -c 300000 /dev/urandom >"$tmp/www/file"
want_sha=$(sha256sum <"$tmp/www/file" | cut -d' ' -f1)

# ip netns exec and timeout exec in place: $! is timeout, which passes
# SIGTERM on and exits with the server's status.
ip netns exec "$sns" timeout 120 "$BIN/mpq-server" --io xdp --workers 2 -v -n ws1 \
	-port 6121 -www "$tmp/www" >"$tmp/server.out" 2>"$tmp/server.err" &
spid=$!
pids=$spid
for _ in $(seq 50); do
	grep -q "^listening on" "$tmp/server.out" 2>/dev/null && break
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.1
done
if grep -q "^listening on 10.67.1.2:6121 (ws1, xdp)" "$tmp/server.out" &&
	grep -q "^workers: 2, steered by connection ID (AF_XDP" "$tmp/server.out"; then
	ok "server starts with 2 workers over AF_XDP ($(grep "^path I/O" "$tmp/server.out"))"
else
	not_ok "server starts with 2 workers over AF_XDP" "$(cat "$tmp/server.out" "$tmp/server.err")"
	finish
fi

url="https://10.67.1.2:6121/file"
twenty_fetches "$tmp/got" "$want_sha" "$url" \
	in_c timeout 30 "$BIN/mpq-client" -k --no-progress --io udp

kill -TERM "$spid"
wait "$spid"
rc=$?
spid=""
pids=""
left=$(in_s ip -o link show | grep -c " xdp\|prog/xdp")
if [ "$rc" = 0 ] && [ "$left" = 0 ]; then
	ok "SIGTERM: exit 0, no XDP program left on ws1"
else
	not_ok "SIGTERM: exit 0, no XDP program left" "exit $rc, $left program(s) left" \
		"$(tail -5 "$tmp/server.err")"
fi

both_workers_served "$tmp/server.err"

# Every packet of a connection after the Initial carries our CID, whose
# worker ID names the worker: redirected to its socket.
counters=$(grep "ws1: steering program:" "$tmp/server.err")
count() { echo "$counters" | sed -n "s/.*[ ,]$1 \([0-9]*\).*/\1/p"; }
hits=$(( $(count short_worker_id)0 / 10 ))
misses=$(( $(count bad_worker)0 / 10 + $(count redirect_failed)0 / 10 + $(count no_route)0 / 10 ))
if [ -n "$counters" ] && [ "$hits" -gt 0 ] && [ "$misses" = 0 ]; then
	ok "the program steered by CID, none astray ($counters)"
else
	not_ok "the program steered by CID, none astray" "${counters:-no counters line}"
fi

finish
