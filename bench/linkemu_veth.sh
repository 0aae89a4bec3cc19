#!/bin/sh
# The link emulator's forwarding rate: small UDP datagrams (64 bytes of
# payload) sent as fast as one sender can (sendmmsg) over three testbed
# paths: path 1 through mpq-linkemu --io xdp, path 2 through mpq-linkemu
# --io packet (both with no link options), path 3 with its router bridging
# the two legs in the kernel (a Linux bridge, the emulator stopped): plain
# veth forwarding between namespaces, the baseline. Best of BENCH_REPS
# (default 3), the three interleaved in each repetition. Prints the rates in
# packets per second received, their ratios to the bridge and to each other,
# and the load average (the machine may be shared). Needs root.
set -u
. "$(dirname "$0")/lib.sh"
REPS=${BENCH_REPS:-$(quick 1 3)}
COUNT=${BENCH_DGRAMS:-$(quick 5000 200000)}
here=$(cd "$(dirname "$0")" && pwd)
tb=$here/../testbed/mpq-testbed
probe=$BIN/../tests/net/udp_probe
name=lebench$$

need_root "namespaces"
need_bins "$BIN/mpq-linkemu" "$probe" # the probe: a helper of the tests (make net)
export BIN MPQ_TESTBED_RUN="${TMPDIR:-/tmp}/$name.run" MPQ_LINKEMU_IO=xdp
trap 'BIN=$BIN "$tb" down --name "$name" >/dev/null 2>&1; rm -rf "$MPQ_TESTBED_RUN"' EXIT
trap 'exit 1' INT TERM
if ! "$tb" up --name "$name" --paths 3 >/dev/null; then
	echo "linkemu_veth: the testbed did not come up"
	exit 1
fi
# stop_emu PATH: the path's emulator gone (its XDP program detached).
stop_emu() {
	pid=$(cat "$MPQ_TESTBED_RUN/$name/r$1.pid")
	kill "$pid"
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
}
# Path 2: the emulator again, on AF_PACKET.
stop_emu 2
ip netns exec "$name-r2" "$BIN/mpq-linkemu" --io packet a b >"$MPQ_TESTBED_RUN/r2.log" 2>&1 &
echo $! >"$MPQ_TESTBED_RUN/$name/r2.pid"
# Path 3: the kernel bridges its router's legs instead.
stop_emu 3
r=$name-r3
ip -n "$r" link add name br0 type bridge && ip -n "$r" link set dev a master br0 &&
	ip -n "$r" link set dev b master br0 && ip -n "$r" link set dev br0 up || {
	echo "linkemu_veth: cannot bridge path 3"
	exit 1
}
sleep 0.5
grep -q "(xdp)" "$MPQ_TESTBED_RUN/$name/r1.log" && grep -q "(packet)" "$MPQ_TESTBED_RUN/r2.log" || {
	echo "linkemu_veth: the emulators did not start as asked:" \
		"$(cat "$MPQ_TESTBED_RUN/$name/r1.log" "$MPQ_TESTBED_RUN/r2.log")"
	exit 1
}

# pps PATH: datagrams per second the server received over PATH.
pps() {
	ip netns exec "$name-s" "$probe" sink 7001 300 >"$MPQ_TESTBED_RUN/sink" &
	sp=$!
	sleep 0.2
	ip netns exec "$name-c" "$probe" send "10.100.$1.2" 7001 64 "$COUNT" 0
	wait "$sp"
	awk '{ if ($6 > 0) printf "%.0f", ($2 - 1) * 1e6 / $6; else print 0 }' "$MPQ_TESTBED_RUN/sink"
}
best_xdp=0
best_pkt=0
best_br=0
for _ in $(seq "$REPS"); do
	x=$(pps 1)
	p=$(pps 2)
	b=$(pps 3)
	[ "$x" -gt "$best_xdp" ] && best_xdp=$x
	[ "$p" -gt "$best_pkt" ] && best_pkt=$p
	[ "$b" -gt "$best_br" ] && best_br=$b
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
echo "linkemu_veth: mpq-linkemu --io xdp forwards $best_xdp datagrams/s," \
	"--io packet $best_pkt, a kernel bridge $best_br: xdp $(ratio "$best_xdp" "$best_br")x" \
	"and packet $(ratio "$best_pkt" "$best_br")x the bridge, xdp $(ratio "$best_xdp" "$best_pkt")x" \
	"packet (64-byte payloads, best of $REPS; load average$(uptime | sed 's/.*load average//'))"
