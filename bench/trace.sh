#!/bin/sh
# Decrypting a capture: `mpq-trace qlog` (decrypt and write qlog) against
# `tshark -V -o tls.keylog_file:KEYS` on the same capture and key log in the
# same run. The capture is dumpcap's of one single-path download
# (BENCH_BYTES, default 100 MB) on loopback in a namespace of our own, GSO
# off on its lo so that tshark sees one QUIC datagram per record, keys from
# the client's SSLKEYLOGFILE. (Not the client's --pcap: its first Initial
# has source 0.0.0.0, and tshark then decrypts nothing after the Initials.)
# Prints both times and their ratio (target: mpq-trace at least 10x faster).
# Needs root.
set -u
. "$(dirname "$0")/lib.sh"
BYTES=${BENCH_BYTES:-$(quick 2000000 100000000)}
PORT=${BENCH_PORT:-47127}
need_root "a namespace"
command -v tshark >/dev/null && command -v dumpcap >/dev/null ||
	skip "needs tshark and dumpcap (make deps)"
need_bins "$BIN/mpq-trace" "$BIN/mpq-server" "$BIN/mpq-client"
bench_namespaces mpqtr
ip netns add "$sns" && ip -n "$sns" link set lo up || {
	echo "trace: cannot make the namespace"
	exit 1
}
ip netns exec "$sns" ethtool -K lo tx-udp-segmentation off >/dev/null 2>&1

ip netns exec "$sns" timeout 300 "$BIN/mpq-server" --addr 127.0.0.1 -port "$PORT" \
	-www "$tmp" --io udp >"$tmp/server.log" 2>&1 &
pids=$!
for _ in $(seq 50); do
	grep -q "^listening on" "$tmp/server.log" 2>/dev/null && break
	sleep 0.1
done
ip netns exec "$sns" dumpcap -q -B 256 -i lo -f "udp port $PORT" -w "$tmp/cap.pcapng" \
	>"$tmp/dumpcap.log" 2>&1 &
dpid=$!
for _ in $(seq 50); do
	grep -q "Capturing on" "$tmp/dumpcap.log" && break
	sleep 0.1
done
sleep 0.5 # dumpcap says so before its filter is in place
if ! ip netns exec "$sns" env SSLKEYLOGFILE="$tmp/keys" timeout 120 "$BIN/mpq-client" -k \
	--discard --no-progress --io udp --max-paths 0 \
	"https://127.0.0.1:$PORT/$BYTES" >/dev/null 2>"$tmp/client.log"; then
	kill "$dpid"
	echo "trace: the download failed"; cat "$tmp/client.log" "$tmp/server.log"; exit 1
fi
sleep 0.5
kill "$dpid" && wait "$dpid"
sed -n 's/^Packets received\/dropped on interface .*: \([0-9]*\/[0-9]*\) .*/trace: dumpcap received\/dropped \1/p' "$tmp/dumpcap.log"

# seconds CMD...: wall-clock seconds CMD took (its output discarded).
seconds() {
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || echo "trace: $1 failed" >&2
	python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$s" "$(date +%s.%N)"
}

mkdir "$tmp/qlog"
trace=$(seconds "$BIN/mpq-trace" qlog "$tmp/cap.pcapng" --keylog "$tmp/keys" -o "$tmp/qlog")
shark=$(seconds tshark -V -o "tls.keylog_file:$tmp/keys" -r "$tmp/cap.pcapng")
pkts=$("$BIN/mpq-trace" summary "$tmp/cap.pcapng" --keylog "$tmp/keys" --json |
	python3 -c 'import json,sys; s=json.load(sys.stdin); print("%d/%d" % (s["decrypted"], s["packets"]))')
# The same work on both sides: tshark decrypted the frames of these packets.
spkts=$(tshark -o "tls.keylog_file:$tmp/keys" -r "$tmp/cap.pcapng" -Y quic.frame 2>/dev/null | wc -l)
python3 -c "import sys; m,t=float(sys.argv[1]),float(sys.argv[2]); print('trace: mpq-trace qlog %.2f s, tshark -V %.2f s, ratio %.1fx (%s MB capture, %s QUIC packets decrypted by mpq-trace, %s records with frames by tshark, %d-byte download)' % (m,t,t/m,sys.argv[3],sys.argv[4],sys.argv[6],int(sys.argv[5])))" \
	"$trace" "$shark" "$(du -m "$tmp/cap.pcapng" | cut -f1)" "$pkts" "$BYTES" "$spkts"
