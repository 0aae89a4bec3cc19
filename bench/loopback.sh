#!/bin/sh
# Single-connection download over loopback: mpq-server/mpq-client against
# iperf3 over kernel TCP on the same loopback in the same run, 1 GB each
# (BENCH_BYTES to change). Client and server share the machine's cores, as the
# issue asks. Prints both rates and their ratio.
set -u
BIN=${BIN:-build/bin}
BYTES=${BENCH_BYTES:-1000000000}
PORT=${BENCH_PORT:-47121}
tmp=$(mktemp -d)
trap 'kill $spid $ipid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
spid= ipid=

if ! command -v iperf3 >/dev/null || [ ! -x "$BIN/mpq-server" ]; then
	echo "loopback: needs iperf3 and $BIN/mpq-server (make deps; make)"
	exit 1
fi

iperf3 -s -1 -p "$PORT" >/dev/null 2>&1 &
ipid=$!
sleep 0.5
tcp=$(iperf3 -c 127.0.0.1 -p "$PORT" -n "$BYTES" -J 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9)')

"$BIN/mpq-server" --addr 127.0.0.1 -port "$PORT" -www "$tmp" >"$tmp/server.log" 2>&1 &
spid=$!
sleep 0.5
quic=$("$BIN/mpq-client" -k --discard --no-progress --json "https://127.0.0.1:$PORT/$BYTES" \
	2>"$tmp/client.log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["goodput_mbps"]/1e3)')
if [ -z "$quic" ] || [ -z "$tcp" ]; then
	echo "loopback: a run failed"; cat "$tmp/client.log" "$tmp/server.log"; exit 1
fi
python3 -c "import sys; q,t=float(sys.argv[1]),float(sys.argv[2]); print('loopback: mpquic %.2f Gbit/s, iperf3 TCP %.2f Gbit/s, ratio %.2f (%d bytes each)' % (q,t,q/t,int(sys.argv[3])))" "$quic" "$tcp" "$BYTES"
