#!/bin/sh
# Single-path goodput over a veth pair between two namespaces of our own
# (10.67.0.0/24), --io xdp on both ends against --io udp on both ends in the
# same run: BENCH_BYTES per download (default 500 MB), best of BENCH_REPS
# (default 3) for each, interleaved so that both see the same machine. Prints
# both rates and their ratio, then the steering program's cost per packet from
# build/bench/bench_xdp_prog when it was built. Needs root (says so and exits
# 0 otherwise, so that bench/run.sh goes on).
set -u
BIN=${BIN:-build/bin}
BYTES=${BENCH_BYTES:-500000000}
REPS=${BENCH_REPS:-3}
PORT=${BENCH_PORT:-47122}
. "$(dirname "$0")/netns.sh"
bench_namespaces mpqb

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	echo "xdp_veth: skipped (needs root and ip for namespaces and AF_XDP)"
	exit 0
fi
if [ ! -x "$BIN/mpq-server" ]; then
	echo "xdp_veth: needs $BIN/mpq-server (make)"
	exit 1
fi
ip netns add "$cns" && ip netns add "$sns" &&
	ip link add bc0 netns "$cns" type veth peer name bs0 netns "$sns" &&
	ip -n "$cns" addr add 10.67.0.1/24 dev bc0 && ip -n "$sns" addr add 10.67.0.2/24 dev bs0 &&
	ip -n "$cns" link set bc0 up && ip -n "$sns" link set bs0 up &&
	ip -n "$cns" link set lo up && ip -n "$sns" link set lo up || {
	echo "xdp_veth: cannot make the veth pair"
	exit 1
}

# run IO: the best goodput (Mbit/s) of REPS downloads with --io IO on both ends.
run() {
	ip netns exec "$sns" timeout 300 "$BIN/mpq-server" --io "$1" -n bs0 -port "$PORT" \
		-www "$tmp" >"$tmp/server.$1" 2>&1 &
	spid=$!
	for _ in $(seq 50); do
		grep -q "^listening on" "$tmp/server.$1" 2>/dev/null && break
		sleep 0.1
	done
	best=0
	for _ in $(seq "$REPS"); do
		g=$(ip netns exec "$cns" timeout 120 "$BIN/mpq-client" --io "$1" -k --discard \
			--no-progress --json "https://10.67.0.2:$PORT/$BYTES" 2>>"$tmp/client.$1" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["goodput_mbps"])' \
			2>/dev/null)
		best=$(python3 -c "import sys; print(max(float(sys.argv[1]), float(sys.argv[2] or 0)))" \
			"$best" "$g")
	done
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	spid=
	echo "$best"
}

xdp=$(run xdp)
udp=$(run udp)
mode=$(sed -n 's/^path I\/O: //p' "$tmp/server.xdp")
if [ "$xdp" = 0.0 ] || [ "$udp" = 0.0 ]; then
	echo "xdp_veth: a run failed"
	cat "$tmp/server.xdp" "$tmp/client.xdp" "$tmp/server.udp" "$tmp/client.udp" 2>/dev/null |
		tail -n 8
	exit 1
fi
python3 -c "import sys; x,u=float(sys.argv[1]),float(sys.argv[2]); print('xdp_veth: --io xdp %.2f Gbit/s, --io udp %.2f Gbit/s, ratio %.2f (%d bytes, best of %s, one path over veth; %s)' % (x/1e3,u/1e3,x/u,int(sys.argv[3]),sys.argv[4],sys.argv[5]))" \
	"$xdp" "$udp" "$BYTES" "$REPS" "$mode"
BENCH_XDP_PROG=${BENCH_XDP_PROG:-$(dirname "$BIN")/bench/bench_xdp_prog}
if [ -x "$BENCH_XDP_PROG" ]; then
	echo "xdp_veth: the steering program's cost per packet (bench_xdp_prog):"
	timeout 120 "$BENCH_XDP_PROG" 2>&1 | sed 's/^/  /'
fi
