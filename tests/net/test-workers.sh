#!/bin/sh
# mpq-server --workers 2 on loopback (needs root: the SO_REUSEPORT steering
# program needs CAP_BPF; exits 77 without it): 20 mpq-client fetches, four at
# a time, each byte-exact; both workers served some connections (the
# server's -v "connection ... (worker N)" lines) and the program steered
# datagrams by CID (its counters, printed at exit with -v); a second
# --workers server on the same port is refused (it would take most of the
# first one's clients) and the first still serves every fetch; --io xdp with
# --workers 2 on loopback fails with one line (AF_XDP workers are tested
# over veth by test-xdp-workers.sh). Prints "N passed, N failed" last.
#   tests/net/test-workers.sh [BINDIR]      (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
SERVER=$BIN/mpq-server
CLIENT=$BIN/mpq-client
loopback_scratch

if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (the SO_REUSEPORT program needs CAP_BPF)"
	exit 77
fi
if [ ! -x "$SERVER" ] || [ ! -x "$CLIENT" ]; then
	not_ok "tools built" "$SERVER or $CLIENT missing: run make"
	finish
fi

# ---- --io xdp --workers on loopback fails with one line ----
timeout 10 "$SERVER" --io xdp --workers 2 --addr 127.0.0.1 -port 0 >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q -- "--io xdp.*loopback" "$tmp/err"; then
	ok "--io xdp --workers 2 on loopback fails with one line"
else
	not_ok "--io xdp --workers 2 on loopback fails" "exit $rc (want 2):" "$(head -c 600 "$tmp/err")"
fi

# ---- two workers on a kernel-chosen port of 127.0.0.1 ----
mkdir "$tmp/www" "$tmp/got"
head -c 300000 /dev/urandom >"$tmp/www/file"
want_sha=$(sha256sum "$tmp/www/file" | cut -d' ' -f1)

loopback_server "$tmp" --workers 2 -v -www "$tmp/www"
if [ -n "$port" ] && grep -q "^workers: 2" "$tmp/server.out"; then
	ok "server starts with 2 workers"
else
	not_ok "server starts with 2 workers" "$(cat "$tmp/server.out" "$tmp/server.err")"
	finish
fi

# ---- a second group on the address, or on the wildcard, is refused ----
for addr in 127.0.0.1 0.0.0.0; do
	timeout 10 "$SERVER" --workers 2 --addr "$addr" -port "$port" >"$tmp/out2" 2>"$tmp/err2"
	rc=$?
	if [ "$rc" = 1 ] && [ "$(wc -l <"$tmp/err2")" = 1 ] &&
		grep -q "Address already in use" "$tmp/err2"; then
		ok "a second --workers 2 server on $addr:$port: refused (exit 1, address in use)"
	else
		not_ok "a second --workers 2 server on $addr:$port is refused" "exit $rc (want 1):" \
			"$(head -c 600 "$tmp/err2")"
	fi
done

url="https://127.0.0.1:$port/file"
twenty_fetches "$tmp/got" "$want_sha" "$url" timeout 30 "$CLIENT" -k --no-progress

kill -INT "$server_pid"
wait "$server_pid"
rc=$?
server_pid=""
if [ "$rc" = 0 ]; then
	ok "server stops on SIGINT with exit status 0"
else
	not_ok "server stops on SIGINT" "exit $rc" "$(tail -5 "$tmp/server.err")"
fi

both_workers_served "$tmp/server.err"

counters=$(grep "reuseport program:" "$tmp/server.err")
hits=$(echo "$counters" | sed -n 's/.* short_hit \([0-9]*\) long_hit \([0-9]*\) .*/\1 \2/p')
if [ -n "$hits" ] && [ "$(echo "$hits" | awk '{ print $1 + $2 }')" -gt 0 ]; then
	ok "the program steered datagrams by CID ($counters)"
else
	not_ok "the program steered datagrams by CID" "${counters:-no counters line}"
fi

finish
