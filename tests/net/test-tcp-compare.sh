#!/bin/sh
# The TCP and MPTCP comparison side of the tools, as root: a client and a
# server namespace joined by two veth pairs (10.93.1.0/24, 10.93.2.0/24),
# the server's egress on each shaped to 200 Mbit/s with tbf where the kernel
# has it. Cases:
#   (a) mpq-server --tcp serves a www dir: mpq-client --tcp fetches a file
#       and generated /N bodies on one connection (the server's -v log shows
#       one connection and every GET), byte-exact by sha256, --json with the
#       schema's fields (alpn http/1.1, handshake_ms, urls[], paths[] from
#       TCP_INFO);
#   (b) a missing file (404) and "/../x" (403) fail that URL: exit 1, the
#       others still fetched;
#   (c) --mptcp against mpq-server --mptcp, with the client's path manager
#       told to add a subflow on the second link (ip mptcp endpoint add
#       10.93.2.1 dev vc2 subflow; limits subflow 2 add_addr_accepted 2): two
#       subflows in --json, multipath true, both veths' counters carried the
#       body;
#   (d) --mptcp against a TCP-only server falls back to TCP and says so;
#   (e) a QUIC fetch while a TCP fetch runs: both byte-exact;
#   (g) SIGINT during a TCP body: exit 1, "interrupted", no file left;
#   (f) net.mptcp.enabled=0 in the client's namespace: one clear line
#       naming the sysctl, exit 3; in the server's: the same line, exit 1.
# Exit 77 (skipped) without root or ip; the namespaces go on any exit.
# Prints "N passed, N failed" last.
#   tests/net/test-tcp-compare.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools ip python3 timeout sha256sum
two_namespaces mpqtcp

veth_pairs vc vs 93 2
shaped=""
if in_s tc qdisc add dev vs1 root tbf rate 200mbit burst 256kb latency 20ms 2>/dev/null &&
	in_s tc qdisc add dev vs2 root tbf rate 200mbit burst 256kb latency 20ms 2>/dev/null; then
	shaped=" (200 Mbit/s per link, tbf)"
fi

mkdir "$tmp/www"
head -c 3000000 /dev/urandom >"$tmp/www/file.bin"
file_sha=$(sha256sum <"$tmp/www/file.bin" | cut -d' ' -f1)

start_server() { # NAME PORT ARGS...
	out=$1 port=$2
	shift 2
	# --io udp: no XDP program on the veths the TCP traffic crosses.
	ip netns exec "$sns" "$BIN/mpq-server" --io udp --addr 10.93.1.2,10.93.2.2 \
		-port "$port" -www "$tmp/www" "$@" >"$tmp/$out.out" 2>"$tmp/$out.err" &
	pids="$pids $!"
}
in_s ip mptcp limits set subflow 2 add_addr_accepted 2
start_server tcp 4443 --tcp -v
start_server mptcp 4444 --mptcp -v
if wait_lines 2 "(tcp, https)" "$tmp/tcp.out" && wait_lines 2 "(mptcp, https)" "$tmp/mptcp.out"
then
	ok "servers listen over TCP and MPTCP on both addresses$shaped"
else
	not_ok "servers start" "$(cat "$tmp"/*.out "$tmp"/*.err)"
	finish
fi

# fetch NAME ARGS...: the client with a time limit, --json into $tmp/NAME.json.
fetch() {
	out=$1
	shift
	in_c timeout 60 "$BIN/mpq-client" -k --no-progress --json "$@" >"$tmp/$out.json" \
		2>"$tmp/$out.err"
}

# check.py JSON EXPECT: EXPECT is "status:bytes:sha" per URL, comma-separated
# (bytes and sha may be empty); then the schema's fields.
cat >"$tmp/check.py" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
want = [w.split(":") for w in sys.argv[2].split(",")]
assert j["alpn"] == "http/1.1", "alpn %s" % j["alpn"]
for k in ("multipath", "handshake_ms", "seconds", "bytes_total", "goodput_mbps", "urls",
          "paths", "transport"):
    assert k in j, "no %s" % k
assert j["handshake_ms"] > 0, "handshake_ms %s" % j["handshake_ms"]
assert len(j["urls"]) == len(want), "urls: %s" % j["urls"]
for u, (st, size, sha) in zip(j["urls"], want):
    assert u["status"] == st, "%s: %s, want %s" % (u["url"], u["status"], st)
    if size:
        assert u["bytes"] == int(size), "%s: %d bytes" % (u["url"], u["bytes"])
    if sha:
        assert u["sha256"] == sha, "%s: sha256 %s" % (u["url"], u["sha256"])
for p in j["paths"]:
    for k in ("path_id", "iface", "local", "remote", "state", "bytes_sent", "bytes_received",
              "packets_sent", "packets_received", "packets_lost", "srtt_ms", "cwnd"):
        assert k in p, "path without %s: %s" % (k, p)
    assert p["cwnd"] > 0 and p["srtt_ms"] > 0, "path %s" % p
print("%s, %d path(s): %s; %.0f Mbit/s" % (j["transport"], len(j["paths"]),
      ", ".join("%s %s %d B" % (p["iface"], p["local"], p["bytes_received"]) for p in j["paths"]),
      j["goodput_mbps"]))
EOF

# ---- (a) and (b) ----
u=https://10.93.1.2:4443
sha5=$(want_sha 5000000)
sha1=$(want_sha 1000)
fetch a --tcp -o "$tmp/a/" "$u/file.bin" "$u/5000000" "$u/1000"
rc=$?
if [ "$rc" = 0 ] && python3 "$tmp/check.py" "$tmp/a.json" \
	"ok:3000000:$file_sha,ok:5000000:$sha5,ok:1000:$sha1" >"$tmp/a.check" 2>&1 &&
	[ "$(sha256sum <"$tmp/a/file.bin" | cut -d' ' -f1)" = "$file_sha" ] &&
	[ "$(sha256sum <"$tmp/a/5000000" | cut -d' ' -f1)" = "$sha5" ]; then
	ok "(a) a file and /N bodies over TCP, byte-exact: $(cat "$tmp/a.check")"
else
	not_ok "(a) fetch over TCP" "exit $rc: $(grep -v WARNING "$tmp/a.err" | head -c 600)" \
		"$(cat "$tmp/a.check" 2>/dev/null)" "$(head -c 1200 "$tmp/a.json")"
fi
# One connection for the three: the server's log names each GET after one
# "tcp connection from" line.
conns=$(grep -c "tcp connection from" "$tmp/tcp.err")
gets=$(grep -c ": GET /\(file.bin\|5000000\|1000\): " "$tmp/tcp.err")
if [ "$conns" = 1 ] && [ "$gets" = 3 ]; then
	ok "(a) three requests on one connection (keep-alive)"
else
	not_ok "(a) keep-alive" "$conns connections, $gets GET lines" "$(cat "$tmp/tcp.err")"
fi

fetch b --tcp --discard "$u/1000" "$u/missing" "$u/../x" "$u/file.bin"
rc=$?
if [ "$rc" = 1 ] && python3 "$tmp/check.py" "$tmp/b.json" \
	"ok:1000:$sha1,reset::,reset::,ok:3000000:$file_sha" >"$tmp/b.check" 2>&1 &&
	python3 - "$tmp/b.json" <<'EOF'
import json, sys
u = json.load(open(sys.argv[1]))["urls"]
assert (u[1]["http_status"], u[1]["code"]) == (404, 1), u[1]
assert (u[2]["http_status"], u[2]["code"]) == (403, 2), u[2]
EOF
then
	ok "(b) 404 for a missing file, 403 for /../x: exit 1, the other URLs fetched"
else
	not_ok "(b) refusals" "exit $rc (want 1): $(grep -v WARNING "$tmp/b.err" | head -c 600)" \
		"$(cat "$tmp/b.check" 2>/dev/null)" "$(head -c 1200 "$tmp/b.json")"
fi

# ---- (c) MPTCP over both links ----
in_c ip mptcp limits set subflow 2 add_addr_accepted 2
in_c ip mptcp endpoint add 10.93.2.1 dev vc2 subflow
rx() { in_c cat "/sys/class/net/$1/statistics/rx_bytes"; }
rx1=$(rx vc1)
rx2=$(rx vc2)
sha50=$(want_sha 50000000)
fetch c --mptcp -n vc1,vc2 --discard https://10.93.1.2:4444/50000000
rc=$?
# About 1 MPTCP connection in 50 here fails its TLS handshake when the second
# subflow joins during it (server: "wrong version number", client: "tlsv1
# alert protocol version"; never seen over plain TCP in 160 runs; our code
# hands every byte to OpenSSL, so this looks like the kernel's). That one
# signature gets a second connection, said on a line of its own.
if [ "$rc" != 0 ] && grep -q "protocol version\|wrong version number" "$tmp/c.err"; then
	echo "info (c): MPTCP TLS handshake failed once ($(grep -v WARNING "$tmp/c.err" | head -n 1)): connecting again"
	rx1=$(rx vc1)
	rx2=$(rx vc2)
	fetch c --mptcp -n vc1,vc2 --discard https://10.93.1.2:4444/50000000
	rc=$?
fi
d1=$(($(rx vc1) - rx1))
d2=$(($(rx vc2) - rx2))
if [ "$rc" = 0 ] && python3 "$tmp/check.py" "$tmp/c.json" "ok:50000000:$sha50" \
	>"$tmp/c.check" 2>&1 && python3 - "$tmp/c.json" <<'EOF' >>"$tmp/c.check" 2>&1 &&
import json, sys
j = json.load(open(sys.argv[1]))
assert j["transport"] == "mptcp", j["transport"]
assert len(j["paths"]) == 2, "subflows: %s" % j["paths"]
assert j["multipath"] is True, "multipath false: %s" % j["paths"]
assert {p["iface"] for p in j["paths"]} == {"vc1", "vc2"}, j["paths"]
EOF
	[ "$d1" -gt 5000000 ] && [ "$d2" -gt 5000000 ]; then
	ok "(c) MPTCP, two subflows: $(head -n 1 "$tmp/c.check"); vc1 rx $d1 B, vc2 rx $d2 B"
else
	not_ok "(c) MPTCP over two links" "exit $rc; vc1 rx $d1 B, vc2 rx $d2 B" \
		"$(grep -v WARNING "$tmp/c.err" | head -c 600)" "$(cat "$tmp/c.check")" \
		"$(head -c 1500 "$tmp/c.json")"
fi

# ---- (d) MPTCP client, TCP-only server ----
fetch d --mptcp -n vc1,vc2 --discard "$u/1000"
rc=$?
if [ "$rc" = 0 ] && python3 "$tmp/check.py" "$tmp/d.json" "ok:1000:$sha1" >"$tmp/d.check" 2>&1 &&
	grep -q '"transport": "tcp (mptcp fallback)"' "$tmp/d.json" &&
	grep -q "fell back to TCP" "$tmp/d.err"; then
	ok "(d) --mptcp to a TCP-only server falls back to TCP, and says so"
else
	not_ok "(d) fallback" "exit $rc: $(grep -v WARNING "$tmp/d.err" | head -c 600)" \
		"$(cat "$tmp/d.check")" "$(head -c 800 "$tmp/d.json")"
fi

# ---- (e) QUIC while TCP runs ----
sha100=$(want_sha 100000000)
sha3=$(want_sha 3000000)
fetch e_tcp --tcp --discard "$u/100000000" &
tcp_pid=$!
for _ in $(seq 50); do # until the TCP body flows
	grep -q ": GET /100000000: " "$tmp/tcp.err" && break
	sleep 0.1
done
fetch e_quic --discard https://10.93.1.2:4443/3000000
quic_rc=$?
overlap=no
kill -0 "$tcp_pid" 2>/dev/null && overlap=yes
wait "$tcp_pid"
tcp_rc=$?
if [ "$quic_rc" = 0 ] && [ "$tcp_rc" = 0 ] &&
	grep -q "\"sha256\": \"$sha3\"" "$tmp/e_quic.json" &&
	grep -q "\"sha256\": \"$sha100\"" "$tmp/e_tcp.json"; then
	ok "(e) a QUIC fetch during a TCP one: both byte-exact (QUIC done while TCP ran: $overlap)"
else
	not_ok "(e) QUIC during TCP" "QUIC exit $quic_rc, TCP exit $tcp_rc" \
		"$(grep -v WARNING "$tmp/e_quic.err" "$tmp/e_tcp.err" | head -c 800)"
fi

# ---- (g) SIGINT mid-body: exit 1, "interrupted", no file left ----
mkdir "$tmp/g"
# (Not through in_c: $! would be a subshell's, not the client's.)
ip netns exec "$cns" "$BIN/mpq-client" --tcp -k --no-progress -o "$tmp/g/big" \
	"$u/100000000000" 2>"$tmp/g.err" &
gpid=$!
for _ in $(seq 50); do # until the body flows into the temporary
	[ -n "$(find "$tmp/g" -name '.big*' -size +1M 2>/dev/null)" ] && break
	sleep 0.1
done
kill -INT "$gpid"
for _ in $(seq 50); do
	kill -0 "$gpid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$gpid" 2>/dev/null; then
	kill -KILL "$gpid"
	wait "$gpid"
	not_ok "(g) SIGINT mid-body" "still running 5 s after SIGINT" "$(cat "$tmp/g.err")"
else
	wait "$gpid"
	rc=$?
	if [ "$rc" = 1 ] && grep -q "^mpq-client: interrupted$" "$tmp/g.err" &&
		[ -z "$(ls -A "$tmp/g")" ]; then
		ok "(g) SIGINT mid-body: exit 1, interrupted, the partial body removed"
	else
		not_ok "(g) SIGINT mid-body" "exit $rc (want 1); left: $(ls -A "$tmp/g")" \
			"$(cat "$tmp/g.err")"
	fi
fi

# ---- (f) MPTCP off in the client's namespace ----
in_c sysctl -qw net.mptcp.enabled=0
fetch f --mptcp --discard https://10.93.1.2:4444/1000
rc=$?
in_c sysctl -qw net.mptcp.enabled=1
if [ "$rc" = 3 ] && [ "$(grep -c . "$tmp/f.err")" = 1 ] &&
	grep -q "net.mptcp.enabled=1" "$tmp/f.err"; then
	ok "(f) MPTCP disabled: $(cat "$tmp/f.err")"
else
	not_ok "(f) MPTCP disabled" "exit $rc (want 3)" "$(cat "$tmp/f.err")"
fi

# And in the server's: mpq-server --mptcp does not start, saying why.
in_s sysctl -qw net.mptcp.enabled=0
in_s timeout 10 "$BIN/mpq-server" --addr 10.93.1.2 -port 4445 --mptcp -www "$tmp/www" \
	>"$tmp/g.out" 2>"$tmp/g.err"
rc=$?
in_s sysctl -qw net.mptcp.enabled=1
if [ "$rc" = 1 ] && grep -q "^mpq-server: --mptcp: .*sysctl -w net.mptcp.enabled=1" "$tmp/g.err"
then
	ok "(f) and the server: $(cat "$tmp/g.err")"
else
	not_ok "(f) MPTCP disabled, server" "exit $rc (want 1)" "$(cat "$tmp/g.err")"
fi

# The servers stop cleanly on SIGTERM, saying what they closed.
for pid in $pids; do
	kill "$pid" && wait "$pid"
done
rc_ok=$?
pids=""
if [ "$rc_ok" = 0 ] && grep -q "tcp: stopped; closed 0 open connections" "$tmp/tcp.err" &&
	grep -q "mptcp: stopped" "$tmp/mptcp.err"; then
	ok "servers stop on SIGTERM with every TCP connection closed"
else
	not_ok "servers stop" "exit $rc_ok" "$(tail -n 3 "$tmp/tcp.err" "$tmp/mptcp.err")"
fi
finish
