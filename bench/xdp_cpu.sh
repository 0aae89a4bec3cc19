#!/bin/sh
# CPU time per GB of both ends of one download over a veth pair, --io xdp
# against --io udp (BIN, default build/bin) and, when BIN_BASE is given, the
# same with the binaries there (a build to compare with), all interleaved:
# xdp, udp (then base xdp, base udp) BENCH_REPS times (default 3), BENCH_BYTES
# per download (default 200 MB), at MTU BENCH_MTU (default 1500). Goodput
# swings with the machine's load; CPU seconds (user + system, /usr/bin/time)
# per GB moved, of the server and the client together, much less. Prints the
# medians, the udp/xdp CPU ratio (above 1: xdp is cheaper) and the load.
# Needs root.
set -u
. "$(dirname "$0")/lib.sh"
BYTES=${BENCH_BYTES:-$(quick 5000000 200000000)}
REPS=${BENCH_REPS:-$(quick 1 3)}
PORT=${BENCH_PORT:-47124}
MTU=${BENCH_MTU:-1500}
need_root "namespaces and AF_XDP"
need_bins "$BIN/mpq-server" "$BIN/mpq-client"
[ -x /usr/bin/time ] || skip "needs /usr/bin/time (GNU time)"
bench_namespaces mpqu
veth_pair 69
ip -n "$cns" link set bc0 mtu "$MTU" && ip -n "$sns" link set bs0 mtu "$MTU" || exit 1

# cpu DIR IO: one download with DIR's binaries and --io IO on both ends;
# prints the CPU seconds per GB of both ends, 0 when it failed.
cpu() {
	ip netns exec "$sns" /usr/bin/time -f "%U %S" -o "$tmp/server.time" "$1/mpq-server" \
		--io "$2" -n bs0 -port "$PORT" -www "$tmp" >"$tmp/server.out" 2>"$tmp/server.err" &
	pids=$!
	if wait_listening "$tmp/server.out" &&
		ip netns exec "$cns" /usr/bin/time -f "%U %S" -o "$tmp/client.time" \
			"$1/mpq-client" --io "$2" -k --discard --no-progress \
			"https://10.69.0.2:$PORT/$BYTES" 2>"$tmp/client.err"; then
		ok=1
	else
		ok=0
	fi
	# The server is /usr/bin/time's child: SIGINT to it, it exits 0 and is timed.
	kill -INT $(pgrep -P "$pids") 2>/dev/null
	wait "$pids" 2>/dev/null
	pids=
	[ "$ok" = 1 ] || {
		echo 0
		return
	}
	tail -n 1 "$tmp/server.time" "$tmp/client.time" 2>/dev/null | awk -v b="$BYTES" \
		'/^[0-9]/ { s += $1 + $2 } END { printf "%.3f\n", s / (b / 1e9) }'
}

# runs2 X...: the numbers to two places, comma-separated.
runs2() {
	printf '%s\n' "$@" | awk '{ printf "%s%.2f", (NR > 1 ? ", " : ""), $1 } END { print "" }'
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
x="" u="" bx="" bu=""
for _ in $(seq "$REPS"); do
	x="$x $(cpu "$BIN" xdp)"
	u="$u $(cpu "$BIN" udp)"
	if [ -n "${BIN_BASE:-}" ]; then
		bx="$bx $(cpu "$BIN_BASE" xdp)"
		bu="$bu $(cpu "$BIN_BASE" udp)"
	fi
done
# shellcheck disable=SC2086 # one word per run
if any_failed $x $u $bx $bu; then
	echo "xdp_cpu: a run failed (xdp:$x; udp:$u; base xdp:$bx; base udp:$bu)"
	tail -n 5 "$tmp/server.err" "$tmp/client.err" 2>/dev/null
	exit 1
fi
# shellcheck disable=SC2086
mx=$(median $x) mu=$(median $u)
# shellcheck disable=SC2086
echo "xdp_cpu: MTU $MTU: CPU s/GB, both ends: --io xdp $mx, --io udp $mu, udp/xdp $(ratio "$mu" "$mx")" \
	"($BYTES bytes, median of $REPS alternating; runs: xdp $(runs2 $x); udp $(runs2 $u))"
if [ -n "${BIN_BASE:-}" ]; then
	# shellcheck disable=SC2086
	bmx=$(median $bx) bmu=$(median $bu)
	echo "xdp_cpu: base $BIN_BASE: --io xdp $bmx, --io udp $bmu, udp/xdp $(ratio "$bmu" "$bmx");" \
		"CPU of this build over base: xdp $(ratio "$mx" "$bmx"), udp $(ratio "$mu" "$bmu")"
fi
echo "xdp_cpu: load average $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after"
