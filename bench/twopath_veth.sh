#!/bin/sh
# Two paths against one over links of 100 Mbit/s: two veth pairs between two
# namespaces of our own (10.68.1.0/24, 10.68.2.0/24), each shaped by tbf on
# both ends (no netem needed; queues of BENCH_TBF_LATENCY, default 20ms), with
# --io udp (AF_XDP would send past the qdisc), and a BENCH_BYTES download
# (default 40 MB) over path 1 alone, then over both (-n bc1,bc2 -mip), best of
# BENCH_REPS (default 3) each, interleaved so that both see the same machine.
# Prints both goodputs and their ratio: two links can give at most 2. The server's path
# scheduler is BENCH_SCHED (default rr; minrtt on equal links may leave one
# idle). Needs root (says so and exits 0 otherwise, so bench/run.sh goes on).
set -u
BIN=${BIN:-build/bin}
BYTES=${BENCH_BYTES:-40000000}
REPS=${BENCH_REPS:-3}
PORT=${BENCH_PORT:-47123}
SCHED=${BENCH_SCHED:-rr}
RATE=100mbit
. "$(dirname "$0")/netns.sh"
bench_namespaces mpqt

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
	echo "twopath_veth: skipped (needs root, ip and tc for namespaces and tbf)"
	exit 0
fi
if [ ! -x "$BIN/mpq-server" ] || [ ! -x "$BIN/mpq-client" ]; then
	echo "twopath_veth: needs $BIN/mpq-server and $BIN/mpq-client (make)"
	exit 1
fi

# link I: bcI (client) -- bsI (server), 10.68.I.1 -- 10.68.I.2, RATE each way.
link() {
	ip link add "bc$1" netns "$cns" type veth peer name "bs$1" netns "$sns" &&
		ip -n "$cns" addr add "10.68.$1.1/24" dev "bc$1" &&
		ip -n "$sns" addr add "10.68.$1.2/24" dev "bs$1" &&
		ip -n "$cns" link set "bc$1" up && ip -n "$sns" link set "bs$1" up &&
		ip netns exec "$cns" tc qdisc add dev "bc$1" root tbf rate "$RATE" burst 32kb \
			latency ${BENCH_TBF_LATENCY:-20ms} &&
		ip netns exec "$sns" tc qdisc add dev "bs$1" root tbf rate "$RATE" burst 32kb \
			latency ${BENCH_TBF_LATENCY:-20ms}
}
ip netns add "$cns" && ip netns add "$sns" && ip -n "$cns" link set lo up &&
	ip -n "$sns" link set lo up && link 1 && link 2 || {
	echo "twopath_veth: cannot make the shaped veth pairs"
	exit 1
}

ip netns exec "$sns" timeout 600 "$BIN/mpq-server" --io udp --addr 10.68.1.2,10.68.2.2 -port "$PORT" \
	-sc "$SCHED" -www "$tmp" >"$tmp/server.out" 2>"$tmp/server.err" &
spid=$!
for _ in $(seq 50); do
	[ "$(grep -c "^listening on" "$tmp/server.out")" = 2 ] && break
	sleep 0.1
done

# fetch ARGS...: the goodput (Mbit/s) of one download, 0 when it failed.
fetch() {
	ip netns exec "$cns" timeout 120 "$BIN/mpq-client" --io udp -k --discard --no-progress --json \
		"$@" "https://10.68.1.2:$PORT/$BYTES" 2>>"$tmp/client.err" |
		python3 -c 'import json,sys
j = json.load(sys.stdin)
print(j["goodput_mbps"] if j["urls"][0]["status"] == "ok" else 0)' 2>/dev/null || echo 0
}

best1=0
best2=0
for _ in $(seq "$REPS"); do
	best1=$(python3 -c 'import sys; print(max(map(float, sys.argv[1:])))' "$best1" \
		"$(fetch -n bc1)")
	best2=$(python3 -c 'import sys; print(max(map(float, sys.argv[1:])))' "$best2" \
		"$(fetch -n bc1,bc2 -mip "10.68.2.2:$PORT")")
done
if [ "$best1" = 0.0 ] || [ "$best2" = 0.0 ]; then
	echo "twopath_veth: a run failed"
	tail -n 8 "$tmp/server.err" "$tmp/client.err" 2>/dev/null
	exit 1
fi
python3 -c 'import sys
one, two = float(sys.argv[1]), float(sys.argv[2])
print("twopath_veth: two paths %.0f Mbit/s, one path %.0f Mbit/s, ratio %.2f "
      "(%s bytes, best of %s, links of %s with tbf, path scheduler %s)"
      % (two, one, two / one, sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]))' \
	"$best1" "$best2" "$BYTES" "$REPS" "$RATE" "$SCHED"
