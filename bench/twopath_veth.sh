#!/bin/sh
# Multipath aggregation: two veth pairs between two namespaces of our own
# (10.68.1.0/24, 10.68.2.0/24), each shaped to 100 Mbit/s by tbf on both ends
# (queues of BENCH_TBF_LATENCY, default 20ms), --io udp (AF_XDP would send
# past the qdisc). Each round downloads BENCH_BYTES (default 40 MB) over path
# 1 alone, path 2 alone and both paths, with mpq-client from mpq-server (path
# scheduler BENCH_SCHED, default rr: minrtt on equal links may leave one idle)
# and then with picoquicdemo (../shared/peers/picoquicdemo or $PICOQUICDEMO;
# -M, the second path with -A), BENCH_REPS rounds (default 3), medians.
# Prints for each stack the two-path goodput over the sum of the one-path
# goodputs (at most 1), and mpq's two-path goodput over picoquicdemo's.
# Needs root; the picoquicdemo part skips with one line when it is absent.
set -u
. "$(dirname "$0")/lib.sh"
BYTES=${BENCH_BYTES:-$(quick 2000000 40000000)}
REPS=${BENCH_REPS:-$(quick 1 3)}
PORT=${BENCH_PORT:-47123}
SCHED=${BENCH_SCHED:-rr}
RATE=100mbit
need_root "namespaces"
command -v tc >/dev/null || skip "needs tc for tbf"
need_bins "$BIN/mpq-server" "$BIN/mpq-client"
bench_namespaces mpqt

# link I: bcI (client) -- bsI (server), 10.68.I.1 -- 10.68.I.2, RATE each way.
link() {
	ip link add "bc$1" netns "$cns" type veth peer name "bs$1" netns "$sns" &&
		ip -n "$cns" addr add "10.68.$1.1/24" dev "bc$1" &&
		ip -n "$sns" addr add "10.68.$1.2/24" dev "bs$1" &&
		ip -n "$cns" link set "bc$1" up && ip -n "$sns" link set "bs$1" up &&
		ip netns exec "$cns" tc qdisc add dev "bc$1" root tbf rate "$RATE" burst 32kb \
			latency "${BENCH_TBF_LATENCY:-20ms}" &&
		ip netns exec "$sns" tc qdisc add dev "bs$1" root tbf rate "$RATE" burst 32kb \
			latency "${BENCH_TBF_LATENCY:-20ms}"
}
ip netns add "$cns" && ip netns add "$sns" && ip -n "$cns" link set lo up &&
	ip -n "$sns" link set lo up && link 1 && link 2 || {
	echo "twopath_veth: cannot make the shaped veth pairs"
	exit 1
}

ip netns exec "$sns" timeout 1200 "$BIN/mpq-server" --io udp --addr 10.68.1.2,10.68.2.2 \
	-port "$PORT" -sc "$SCHED" -www "$tmp" >"$tmp/server.out" 2>"$tmp/server.err" &
pids=$!
pq=""
if [ -x "$PICOQUICDEMO" ] && pq_cert "$tmp"; then
	pq=yes
	(cd "$tmp" && exec ip netns exec "$sns" "$PICOQUICDEMO" -M -c cert.pem -k key.pem \
		-p $((PORT + 1)) -w . >pqserver.out 2>&1) &
	pids="$pids $!"
fi
wait_listening "$tmp/server.out" 2

# mpq ARGS... ADDR: one mpq-client download from ADDR; Mbit/s, 0 when it failed.
mpq() {
	mpq_goodput ip netns exec "$cns" timeout 300 "$BIN/mpq-client" --io udp -k --discard \
		--no-progress --json "$@"
}
# pq ARGS...: one picoquicdemo client download; Mbit/s, 0 when it failed.
pq() {
	pq_goodput ip netns exec "$cns" "$PICOQUICDEMO" -D -a hq-interop -n localhost -o . "$@"
}
# (not ip link show: it names the peer namespace by asking the kernel about
# every name in /run/netns, and one being made or removed by another run prints
# "Error: Peer netns reference is invalid.")
ifindex2=$(ip netns exec "$cns" cat /sys/class/net/bc2/ifindex)
m1="" m2="" m12="" p1="" p2="" p12=""
for _ in $(seq "$REPS"); do
	m1="$m1 $(mpq -n bc1 "https://10.68.1.2:$PORT/$BYTES")"
	m2="$m2 $(mpq -n bc2 "https://10.68.2.2:$PORT/$BYTES")"
	m12="$m12 $(mpq -n bc1,bc2 -mip "10.68.2.2:$PORT" "https://10.68.1.2:$PORT/$BYTES")"
	[ -n "$pq" ] || continue
	p1="$p1 $(pq 10.68.1.2 $((PORT + 1)) "/$BYTES")"
	p2="$p2 $(pq 10.68.2.2 $((PORT + 1)) "/$BYTES")"
	p12="$p12 $(pq -M -A "10.68.2.1/$ifindex2/10.68.2.2" 10.68.1.2 $((PORT + 1)) "/$BYTES")"
done
# shellcheck disable=SC2086 # one word per run
if any_failed $m1 $m2 $m12 $p1 $p2 $p12; then
	echo "twopath_veth: a run failed (mpq:$m1 /$m2 /$m12; picoquicdemo:$p1 /$p2 /$p12)"
	tail -n 5 "$tmp/server.err" "$tmp/client.err" 2>/dev/null
	exit 1
fi
# report NAME ONE TWO BOTH: the line of one stack; sets $both to its median two-path goodput.
report() {
	# shellcheck disable=SC2086
	a=$(median $2) b=$(median $3) both=$(median $4)
	sum=$(awk -v a="$a" -v b="$b" 'BEGIN { print a + b }')
	echo "twopath_veth: $1: two paths $(runs "$both") Mbit/s, one path $(runs "$a") and" \
		"$(runs "$b") Mbit/s, aggregation $(ratio "$both" "$sum") of their sum (runs in" \
		"Mbit/s: path 1 $(runs $2); path 2 $(runs $3); both $(runs $4))"
}
report "mpq (path scheduler $SCHED)" "$m1" "$m2" "$m12"
mboth=$both
echo "twopath_veth: $BYTES bytes, median of $REPS rounds, links of $RATE with tbf$(pq_retries)"
if [ -z "$pq" ]; then
	echo "twopath_veth: picoquicdemo skipped (none at $PICOQUICDEMO, or no certificate)"
	exit 0
fi
report picoquicdemo "$p1" "$p2" "$p12"
echo "twopath_veth: two paths, mpq over picoquicdemo: $(ratio "$mboth" "$both")"
