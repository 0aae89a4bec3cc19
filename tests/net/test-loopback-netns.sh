#!/bin/sh
# End to end on the loopback of a network namespace of our own, as root:
# a 200 MB file moved byte-exact (sha256); a capture of a transfer decrypted
# completely by tshark with the key log the client wrote (UDP segmentation
# offload off on that loopback, so every QUIC packet is its own datagram,
# DESIGN.md "GSO and captures"); every qlog record of both ends parses as JSON
# and the first declares the file_schema; a generated body of the asked size.
# Exit 77 (skipped) without root or tshark. Prints "N passed, N failed" last.
#   tests/net/test-loopback-netns.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root for a network namespace"
	exit 77
fi
for tool in ip tshark ethtool python3 sha256sum; do
	if ! command -v $tool >/dev/null; then
		echo "skipped: needs $tool (make deps)"
		exit 77
	fi
done

ns=mpqlo$$
tmp=$(mktemp -d)
spid=""
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

in_ns() { ip netns exec "$ns" "$@"; }

ip netns add "$ns"
in_ns ip link set lo up
in_ns ethtool -K lo tx-udp-segmentation off >/dev/null 2>&1

mkdir -p "$tmp/www" "$tmp/qlog"
head -c 200000000 /dev/urandom >"$tmp/www/big"
head -c 5000000 /dev/urandom >"$tmp/www/small"
# Not through in_ns: a shell function in the background is a subshell, and
# $! would be its PID, not the server's (which then outlives the test).
ip netns exec "$ns" "$BIN/mpq-server" --addr 127.0.0.1 -port 4433 -www "$tmp/www" \
	--qlog-dir "$tmp/qlog" >"$tmp/server.log" 2>&1 &
spid=$!
sleep 0.5

# ---- 200 MB byte-exact ----
if in_ns timeout 120 "$BIN/mpq-client" -k --no-progress --json -o "$tmp/big.out" \
	https://127.0.0.1:4433/big >"$tmp/big.json" 2>"$tmp/big.err" &&
	[ "$(sha256sum <"$tmp/www/big")" = "$(sha256sum <"$tmp/big.out")" ]; then
	ok "200 MB byte-exact ($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["goodput_mbps"])' "$tmp/big.json") Mbit/s)"
else
	not_ok "200 MB byte-exact" "$(cat "$tmp/big.err")"
fi
rm -f "$tmp/big.out"

# ---- a capture decrypts completely with the client's key log ----
# tshark stops on its own: signals are no way to stop its dumpcap from a
# non-interactive shell, where background jobs ignore SIGINT. The client
# offers no multipath (--max-paths 0): tshark 4.0 does not know the draft-21
# frames (PATH_NEW_CONNECTION_ID, PATH_ACK, ...) and misreads what follows.
# It captures only some time after it says so (libpcap drops what came before
# the filter was set): on a loaded machine a fixed sleep missed the handshake,
# and tshark could then decrypt nothing. So datagrams to the discard port go
# out until the capture file shows one. The client accepts 1452-byte
# datagrams at most (--max-udp-payload): PMTU discovery would otherwise take
# the server to loopback's 65507 and the 5 MB to a hundred-odd datagrams.
in_ns tshark -B 256 -a duration:30 -i lo -f "udp port 4433 or udp port 9" \
	-w "$tmp/cap.pcapng" -q 2>"$tmp/tshark.err" &
tpid=$!
for _ in $(seq 60); do
	in_ns python3 -c 'import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"probe", ("127.0.0.1", 9))'
	tshark -r "$tmp/cap.pcapng" -Y "udp.dstport == 9" 2>/dev/null | grep -q . && break
	sleep 0.2
done
in_ns env SSLKEYLOGFILE="$tmp/keys.log" QLOGDIR="$tmp/qlog" timeout 60 "$BIN/mpq-client" -k \
	--max-paths 0 --max-udp-payload 1452 --no-progress -o "$tmp/small.out" https://127.0.0.1:4433/small 2>"$tmp/small.err"
crc=$?
wait "$tpid" 2>/dev/null
tsh() { tshark -r "$tmp/cap.pcapng" -o "tls.keylog_file:$tmp/keys.log" "$@" 2>/dev/null; }
total=$(tsh -Y quic | wc -l)
undecrypted=$(tsh -Y "quic.decryption_failed || (quic && !quic.frame)" | wc -l)
stream_bytes=$(tsh -Y quic.stream_data -T fields -e quic.stream.length |
	tr ',' '\n' | awk '{s += $1} END {print s + 0}')
if [ "$crc" = 0 ] && [ "$total" -gt 1000 ] && [ "$undecrypted" = 0 ] &&
	[ "$stream_bytes" -ge 5000000 ] && cmp -s "$tmp/www/small" "$tmp/small.out"; then
	ok "capture decrypts in tshark: $total QUIC packets, 0 undecrypted, $stream_bytes stream bytes"
else
	not_ok "capture decrypts in tshark" "client exit $crc, $total packets, $undecrypted undecrypted, $stream_bytes stream bytes" "$(cat "$tmp/small.err" "$tmp/tshark.err")"
fi

# ---- ECN: the tools put the marks the core asks for in the IP header ----
# (RFC 9000 §13.4) Loopback passes them untouched: each way, the first
# datagrams test ECN and an ACK_ECN validates them, so every datagram of the
# capture leaves ECT(0), and the ACK_ECN frames report the counts (GSO runs
# show as one datagram each on lo).
way() { tsh -Y "udp.$1 == 4433${2:+ && $2}" | wc -l; }
up=$(way dstport) up_ect0=$(way dstport "ip.dsfield.ecn == 2")
down=$(way srcport) down_ect0=$(way srcport "ip.dsfield.ecn == 2")
ack_ecn=$(tsh -Y "quic.frame_type == 0x03" | wc -l)
if [ "$up" -gt 10 ] && [ "$up_ect0" = "$up" ] && [ "$down" -gt 100 ] &&
	[ "$down_ect0" = "$down" ] && [ "$ack_ecn" -gt 10 ]; then
	ok "ECN: every datagram ECT(0), $up up and $down down; $ack_ecn packets with ACK_ECN"
else
	not_ok "ECN marks in the capture" "ECT(0) on $up_ect0 of $up up, $down_ect0 of $down down; ACK_ECN in $ack_ecn packets"
fi

# ---- generated body ----
n=$(in_ns timeout 30 "$BIN/mpq-client" -k --no-progress --discard --json \
	https://127.0.0.1:4433/12345 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["urls"][0]["bytes"])')
if [ "$n" = 12345 ]; then ok "GET /12345 gives 12345 bytes"; else not_ok "GET /12345" "got $n"; fi

# ---- qlog: both ends, every record JSON, file_schema first ----
kill -TERM "$spid"
wait "$spid" 2>/dev/null
spid=""
if out=$(python3 - "$tmp/qlog" <<'PY'
import json, os, sys
d = sys.argv[1]
names = sorted(os.listdir(d))
sides = set()
for n in names:
    raw = open(os.path.join(d, n), "rb").read()
    recs = raw.split(b"\x1e")
    assert recs[0] == b"", n
    parsed = [json.loads(r) for r in recs[1:]]
    assert all(r.endswith(b"\n") for r in recs[1:]), n
    assert parsed[0]["file_schema"] == "urn:ietf:params:qlog:file:sequential", n
    assert any(e.get("name") == "quic:packet_received" for e in parsed[1:]), n
    sides.add(parsed[0]["trace"]["vantage_point"]["type"])
assert sides == {"client", "server"}, sides
print(len(names), "files")
PY
); then
	ok "qlog traces of both ends parse ($out)"
else
	not_ok "qlog traces parse" "$(ls "$tmp/qlog")"
fi

finish
