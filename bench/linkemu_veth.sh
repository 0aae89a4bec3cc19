#!/bin/sh
# The link emulator's forwarding rate: small UDP datagrams (64 bytes of
# payload) sent as fast as one sender can (sendmmsg) over a testbed path through
# mpq-linkemu with no link options, against the same path with its router
# bridging the two legs in the kernel (a Linux bridge, the emulator
# stopped), in the same run, best of BENCH_REPS (default 3) interleaved.
# Prints both rates in packets per second and their ratio. Needs root.
set -u
. "$(dirname "$0")/lib.sh"
REPS=${BENCH_REPS:-$(quick 1 3)}
COUNT=${BENCH_DGRAMS:-$(quick 20000 200000)}
here=$(cd "$(dirname "$0")" && pwd)
tb=$here/../testbed/mpq-testbed
probe=$BIN/../tests/net/udp_probe
name=lebench$$

need_root "namespaces"
need_bins "$BIN/mpq-linkemu" "$probe" # the probe: a helper of the tests (make net)
export BIN MPQ_TESTBED_RUN="${TMPDIR:-/tmp}/$name.run"
trap 'BIN=$BIN "$tb" down --name "$name" >/dev/null 2>&1; rm -rf "$MPQ_TESTBED_RUN"' EXIT
trap 'exit 1' INT TERM
if ! "$tb" up --name "$name" --paths 2 >/dev/null; then
	echo "linkemu_veth: the testbed did not come up"
	exit 1
fi
# Path 2: the kernel bridges its router's legs instead.
kill "$(cat "$MPQ_TESTBED_RUN/$name/r2.pid")"
r=$name-r2
ip -n "$r" link add name br0 type bridge && ip -n "$r" link set dev a master br0 &&
	ip -n "$r" link set dev b master br0 && ip -n "$r" link set dev br0 up || {
	echo "linkemu_veth: cannot bridge path 2"
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
best_emu=0
best_br=0
for _ in $(seq "$REPS"); do
	e=$(pps 1)
	b=$(pps 2)
	[ "$e" -gt "$best_emu" ] && best_emu=$e
	[ "$b" -gt "$best_br" ] && best_br=$b
done
echo "linkemu_veth: mpq-linkemu forwards $best_emu datagrams/s, a kernel bridge $best_br" \
	"($(awk -v e="$best_emu" -v b="$best_br" 'BEGIN { printf "%.2f", b ? e / b : 0 }')x;" \
	"64-byte payloads, best of $REPS)"
