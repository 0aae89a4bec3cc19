#!/bin/sh
# Memory the server holds per connection, on loopback (no privileges needed):
#  - idle: the load client (build/bench/mpq_load hold) opens BENCH_CONNS
#    connections (default 1000; the server takes 1024) that complete their
#    handshakes and stay open and idle; the growth of the server's RSS over
#    its RSS before (after 50 handshakes to warm it up), divided by the
#    connections, against the target of 64 KiB;
#  - active: BENCH_TRANSFERS downloads of BENCH_BYTES (default 2 of 1 GB) at
#    once from a fresh server; the growth of its peak RSS (VmHWM) over its RSS
#    before, per transfer.
set -u
. "$(dirname "$0")/lib.sh"
CONNS=${BENCH_CONNS:-$(quick 100 1000)}
TRANSFERS=${BENCH_TRANSFERS:-2}
BYTES=${BENCH_BYTES:-$(quick 20000000 1000000000)}
PORT=${BENCH_PORT:-47126}
LOAD=${LOAD:-$(dirname "$BIN")/bench/mpq_load}
need_bins "$BIN/mpq-server" "$BIN/mpq-client" "$LOAD"
scratch

# status_kb PID FIELD: a field of /proc/PID/status (VmRSS, VmHWM) in KiB.
status_kb() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"
}

# server: a fresh server, warmed up by 50 handshakes; sets $spid and $base (its RSS).
server() {
	"$BIN/mpq-server" --io udp --addr 127.0.0.1 -port "$PORT" -www "$tmp" -q \
		>"$tmp/server.out" 2>"$tmp/server.err" &
	spid=$!
	pids="$pids $spid"
	wait_listening "$tmp/server.out"
	"$LOAD" handshakes "127.0.0.1:$PORT" 50 16 >/dev/null
	sleep 0.5
	base=$(status_kb "$spid" VmRSS)
}

stop() {
	kill "$1" && wait "$1"
} 2>/dev/null

server
"$LOAD" hold "127.0.0.1:$PORT" "$CONNS" 16 >"$tmp/hold.out" 2>&1 &
lpid=$!
pids="$pids $lpid"
for _ in $(seq 600); do
	grep -q "^held" "$tmp/hold.out" && break
	kill -0 "$lpid" 2>/dev/null || break
	sleep 0.1
done
sleep 1 # the server's post-handshake frames acknowledged
held=$(status_kb "$spid" VmRSS)
if ! grep -q "^held $CONNS failed 0" "$tmp/hold.out"; then
	echo "memory: the load client did not hold $CONNS connections: $(cat "$tmp/hold.out")"
	exit 1
fi
stop "$lpid"
stop "$spid"
awk -v b="$base" -v h="$held" -v n="$CONNS" 'BEGIN {
	per = (h - b) / n
	printf "memory: idle: %.1f KiB per connection (server RSS %d KiB before, %d KiB with %d idle" \
		" connections), target 64 KiB: ratio %.2f\n", per, b, h, n, per / 64 }'

server
cpids=""
for i in $(seq "$TRANSFERS"); do
	"$BIN/mpq-client" --io udp -k --discard --no-progress --json \
		"https://127.0.0.1:$PORT/$BYTES" >"$tmp/client.$i" 2>>"$tmp/client.err" &
	cpids="$cpids $!"
done
pids="$pids $cpids"
# shellcheck disable=SC2086 # one word each
wait $cpids
peak=$(status_kb "$spid" VmHWM)
stop "$spid"
ok=$(cat "$tmp"/client.[0-9]* | grep -c '"status": *"ok"')
if [ "$ok" != "$TRANSFERS" ]; then
	echo "memory: $((TRANSFERS - ok)) of $TRANSFERS downloads failed"
	tail -n 5 "$tmp/client.err"
	exit 1
fi
awk -v b="$base" -v p="$peak" -v n="$TRANSFERS" -v bytes="$BYTES" 'BEGIN {
	printf "memory: active: %.1f MiB per transfer (server peak RSS %d KiB over %d KiB before," \
		" %d downloads of %d bytes at once)\n", (p - b) / n / 1024, p, b, n, bytes }'
