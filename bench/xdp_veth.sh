#!/bin/sh
# Single-connection goodput over one veth pair between two namespaces of our
# own (10.67.0.0/24): --io xdp on both ends against --io udp on both ends,
# at MTU 1500 and then 9000 (both backends at the same MTU), BENCH_BYTES per
# download (default 1 GB), BENCH_REPS runs of each (default 3) alternating,
# a fresh server for each run (an XDP program left on the veth would change
# the udp runs), medians. Prints both rates and their ratio for each MTU, and
# the largest datagram each backend carried: path MTU discovery (on in the
# tools) takes both to 8972 bytes at MTU 9000 (--io xdp with AF_XDP
# multi-buffer: three 4096-byte UMEM frames a datagram).
# Needs root.
set -u
. "$(dirname "$0")/lib.sh"
BYTES=${BENCH_BYTES:-$(quick 5000000 1000000000)}
REPS=${BENCH_REPS:-$(quick 1 3)}
PORT=${BENCH_PORT:-47122}
MTUS=${BENCH_MTUS:-$(quick 9000 "1500 9000")} # quick: the MTU change alone
need_root "namespaces and AF_XDP"
need_bins "$BIN/mpq-server" "$BIN/mpq-client"
bench_namespaces mpqb

veth_pair 67

# run IO: one download with --io IO on both ends; its goodput in Mbit/s, 0
# when it failed (run in a subshell: what the server said of its I/O goes to
# $tmp/mode.IO, the largest datagram the client received to $tmp/dgram.IO).
run() {
	ip netns exec "$sns" timeout 300 "$BIN/mpq-server" --io "$1" -n bs0 -port "$PORT" \
		-www "$tmp" >"$tmp/server.out" 2>"$tmp/server.err" &
	pids=$!
	if wait_listening "$tmp/server.out"; then
		ip netns exec "$cns" timeout 300 "$BIN/mpq-client" --io "$1" -k --discard \
			--no-progress --json "https://10.67.0.2:$PORT/$BYTES" \
			2>>"$tmp/client.err" >"$tmp/client.json"
		python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
open(sys.argv[2], "w").write("%d\n" % j["paths"][0].get("largest_received", 0))
print(j["goodput_mbps"] if j["urls"][0]["status"] == "ok" else 0)' \
			"$tmp/client.json" "$tmp/dgram.$1" 2>/dev/null || echo 0
	else
		echo 0
	fi
	sed -n 's/^path I\/O: //p' "$tmp/server.err" "$tmp/server.out" | head -n 1 >"$tmp/mode.$1"
	kill "$pids" 2>/dev/null
	wait "$pids" 2>/dev/null
	pids=
}

for mtu in $MTUS; do
	ip -n "$cns" link set bc0 mtu "$mtu" && ip -n "$sns" link set bs0 mtu "$mtu" || {
		echo "xdp_veth: cannot set MTU $mtu"
		exit 1
	}
	xdp=""
	udp=""
	for _ in $(seq "$REPS"); do
		xdp="$xdp $(run xdp)"
		udp="$udp $(run udp)"
	done
	# shellcheck disable=SC2086 # one word per run
	if any_failed $xdp $udp; then
		echo "xdp_veth: a run failed at MTU $mtu (xdp:$xdp; udp:$udp)"
		tail -n 5 "$tmp/server.err" "$tmp/client.err" 2>/dev/null
		exit 1
	fi
	# shellcheck disable=SC2086
	xmode=$(cat "$tmp/mode.xdp")
	x=$(median $xdp) u=$(median $udp) xdp=$(runs $xdp) udp=$(runs $udp)
	echo "xdp_veth: MTU $mtu: --io xdp $(ratio "$x" 1000) Gbit/s, --io udp $(ratio "$u" 1000)" \
		"Gbit/s, ratio $(ratio "$x" "$u") ($BYTES bytes, median of $REPS alternating;" \
		"runs in Mbit/s: xdp $xdp; udp $udp; largest datagrams: xdp $(cat "$tmp/dgram.xdp")" \
		"B, udp $(cat "$tmp/dgram.udp") B; ${xmode:-xdp mode not reported})"
done
