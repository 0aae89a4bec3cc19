#!/bin/sh
# Multipath QUIC against TCP and MPTCP on the same two links, as the CoNEXT
# 2017 multipath QUIC paper compared them: two veth pairs between two
# namespaces of our own (10.69.1.0/24, 10.69.2.0/24), each shaped to
# BENCH_RATE (default 100mbit) by tbf on both ends. One mpq-server --mptcp
# serves QUIC, TCP and MPTCP (ip mptcp limits subflow 2 on both ends, and a
# subflow endpoint on the client's second link). Each round downloads
# BENCH_BYTES (default 100 MB), in this order: TCP on link 1 (--tcp), MPTCP
# over both (--mptcp -n bc1,bc2), QUIC on link 1, multipath QUIC over both
# (-n bc1,bc2 -mip, path scheduler BENCH_SCHED, default rr); BENCH_REPS
# rounds (default 3), medians. Prints MPTCP over TCP, multipath QUIC over
# QUIC on one link, and multipath QUIC over MPTCP. Needs root and MPTCP.
set -u
. "$(dirname "$0")/lib.sh"
BYTES=${BENCH_BYTES:-$(quick 2000000 100000000)}
REPS=${BENCH_REPS:-$(quick 1 3)}
PORT=${BENCH_PORT:-47223}
SCHED=${BENCH_SCHED:-rr}
RATE=${BENCH_RATE:-100mbit}
need_root "namespaces"
command -v tc >/dev/null || skip "needs tc for tbf"
[ "$(sysctl -n net.mptcp.enabled 2>/dev/null)" = 1 ] || skip "needs MPTCP (net.mptcp.enabled=1)"
need_bins "$BIN/mpq-server" "$BIN/mpq-client"
bench_namespaces mpqtc

# link I: bcI (client) -- bsI (server), 10.69.I.1 -- 10.69.I.2, RATE each way.
link() {
	ip link add "bc$1" netns "$cns" type veth peer name "bs$1" netns "$sns" &&
		ip -n "$cns" addr add "10.69.$1.1/24" dev "bc$1" &&
		ip -n "$sns" addr add "10.69.$1.2/24" dev "bs$1" &&
		ip -n "$cns" link set "bc$1" up && ip -n "$sns" link set "bs$1" up &&
		ip netns exec "$cns" tc qdisc add dev "bc$1" root tbf rate "$RATE" burst 32kb \
			latency 20ms &&
		ip netns exec "$sns" tc qdisc add dev "bs$1" root tbf rate "$RATE" burst 32kb \
			latency 20ms
}
ip netns add "$cns" && ip netns add "$sns" && ip -n "$cns" link set lo up &&
	ip -n "$sns" link set lo up && link 1 && link 2 &&
	ip -n "$sns" mptcp limits set subflow 2 add_addr_accepted 2 &&
	ip -n "$cns" mptcp limits set subflow 2 add_addr_accepted 2 &&
	ip -n "$cns" mptcp endpoint add 10.69.2.1 dev bc2 subflow || {
	echo "tcp_compare: cannot make the shaped veth pairs and MPTCP endpoints"
	exit 1
}

ip netns exec "$sns" timeout 1200 "$BIN/mpq-server" --io udp --addr 10.69.1.2,10.69.2.2 \
	-port "$PORT" -sc "$SCHED" --mptcp -www "$tmp" >"$tmp/server.out" 2>"$tmp/server.err" &
pids=$!
wait_listening "$tmp/server.out" 4

# mpq ARGS... URL: one mpq-client download; Mbit/s, 0 when it failed.
mpq() {
	mpq_goodput ip netns exec "$cns" timeout 300 "$BIN/mpq-client" --io udp -k --discard \
		--no-progress --json "$@"
}
url="https://10.69.1.2:$PORT/$BYTES"
t="" m="" q="" qm=""
for _ in $(seq "$REPS"); do
	t="$t $(mpq --tcp -n bc1 "$url")"
	m="$m $(mpq --mptcp -n bc1,bc2 "$url")"
	q="$q $(mpq -n bc1 --max-paths 0 "$url")"
	qm="$qm $(mpq -n bc1,bc2 -mip "10.69.2.2:$PORT" "$url")"
done
# shellcheck disable=SC2086 # one word per run
if any_failed $t $m $q $qm; then
	echo "tcp_compare: a run failed (tcp:$t; mptcp:$m; quic:$q; multipath quic:$qm)"
	tail -n 5 "$tmp/server.err" "$tmp/client.err" 2>/dev/null
	exit 1
fi
# shellcheck disable=SC2086
mt=$(median $t) mm=$(median $m) mq=$(median $q) mqm=$(median $qm)
echo "tcp_compare: TCP one link $mt, MPTCP two links $mm, QUIC one link $mq, multipath" \
	"QUIC two links $mqm Mbit/s (runs: TCP $(runs $t); MPTCP $(runs $m); QUIC $(runs $q);" \
	"multipath QUIC $(runs $qm))"
echo "tcp_compare: MPTCP over TCP $(ratio "$mm" "$mt"); multipath QUIC over QUIC" \
	"$(ratio "$mqm" "$mq"); multipath QUIC over MPTCP $(ratio "$mqm" "$mm"); QUIC over TCP" \
	"$(ratio "$mq" "$mt") (one link)"
echo "tcp_compare: $BYTES bytes, median of $REPS rounds, links of $RATE with tbf, path" \
	"scheduler $SCHED"
