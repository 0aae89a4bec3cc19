#!/bin/sh
# Single-connection download over loopback: mpq-client from mpq-server
# (--io udp) against iperf3 over kernel TCP on the same loopback in the same
# run, BENCH_BYTES each (default 1 GB), BENCH_REPS runs of each (default 3)
# alternating, medians. Client and server share the machine's cores.
# Prints both rates and their ratio. Needs no privileges.
set -u
. "$(dirname "$0")/lib.sh"
BYTES=${BENCH_BYTES:-$(quick 20000000 1000000000)}
REPS=${BENCH_REPS:-$(quick 1 3)}
PORT=${BENCH_PORT:-47121}
scratch

command -v iperf3 >/dev/null || skip "needs iperf3: make deps"
need_bins "$BIN/mpq-server" "$BIN/mpq-client"

iperf3 -s -p "$PORT" >/dev/null 2>&1 &
pids=$!
"$BIN/mpq-server" --io udp --addr 127.0.0.1 -port "$PORT" -www "$tmp" >"$tmp/server.out" \
	2>"$tmp/server.err" &
pids="$pids $!"
wait_listening "$tmp/server.out"
sleep 0.3 # iperf3 too

quic=""
tcp=""
for _ in $(seq "$REPS"); do
	quic="$quic $(mpq_goodput timeout 300 "$BIN/mpq-client" --io udp -k --discard --no-progress \
		--json "https://127.0.0.1:$PORT/$BYTES")"
	tcp="$tcp $(timeout 300 iperf3 -c 127.0.0.1 -p "$PORT" -n "$BYTES" -J 2>/dev/null |
		python3 -c 'import json, sys
print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6)' 2>/dev/null ||
		echo 0)"
done
# shellcheck disable=SC2086 # one word per run
if any_failed $quic $tcp; then
	echo "loopback: a run failed (mpq:$quic; TCP:$tcp)"
	tail -n 5 "$tmp/client.err" "$tmp/server.err"
	exit 1
fi
# shellcheck disable=SC2086
q=$(median $quic) t=$(median $tcp) quic=$(runs $quic) tcp=$(runs $tcp)
echo "loopback: mpq --io udp $(ratio "$q" 1000) Gbit/s, iperf3 TCP $(ratio "$t" 1000) Gbit/s," \
	"ratio $(ratio "$q" "$t") ($BYTES bytes, median of $REPS alternating; runs in Mbit/s: mpq $quic; TCP $tcp)"
