#!/bin/sh
# Single-connection goodput against another QUIC stack: mpq-client from
# mpq-server (--io udp, as picoquic's sockets) against picoquicdemo's client
# from picoquicdemo's server (../shared/peers/picoquicdemo or $PICOQUICDEMO,
# its defaults: one path, BBR), the same download of BENCH_BYTES (default
# 1 GB) on loopback and then over a veth pair between two namespaces of our
# own (10.69.0.0/24), BENCH_REPS runs of each (default 3) alternating,
# medians, each tool's own goodput figure. Prints both rates and their ratio
# for each link. Skips without picoquicdemo; the veth part needs root.
set -u
. "$(dirname "$0")/lib.sh"
BYTES=${BENCH_BYTES:-$(quick 5000000 1000000000)}
REPS=${BENCH_REPS:-$(quick 1 3)}
PORT=${BENCH_PORT:-47124}
[ -x "$PICOQUICDEMO" ] || skip "no picoquicdemo at $PICOQUICDEMO (set PICOQUICDEMO)"
need_bins "$BIN/mpq-server" "$BIN/mpq-client"
bench_namespaces mpqp
pq_cert "$tmp" || {
	echo "picoquic: cannot make a certificate (openssl)"
	exit 1
}

# compare LINK SERVER_ADDR [ip netns exec CLIENT_NS] (with $in_s the server's
# namespace prefix): the alternating runs over one link and the result line.
compare() {
	link=$1 addr=$2
	shift 2
	$in_s "$BIN/mpq-server" --io udp --addr "$addr" -port "$PORT" -www "$tmp" \
		>"$tmp/server.out" 2>"$tmp/server.err" &
	pids=$!
	# (its token store goes to its working directory)
	(cd "$tmp" && exec $in_s "$PICOQUICDEMO" -c cert.pem -k key.pem -p $((PORT + 1)) -w . \
		>pqserver.out 2>&1) &
	pids="$pids $!"
	wait_listening "$tmp/server.out"
	mpq=""
	pq=""
	for _ in $(seq "$REPS"); do
		mpq="$mpq $(mpq_goodput "$@" timeout 300 "$BIN/mpq-client" --io udp -k --discard \
			--no-progress --json "https://$addr:$PORT/$BYTES")"
		pq="$pq $(pq_goodput "$@" "$PICOQUICDEMO" -D -a hq-interop -n localhost -o . \
			"$addr" $((PORT + 1)) "/$BYTES")"
	done
	for p in $pids; do
		kill "$p" && wait "$p"
	done 2>/dev/null
	pids=
	# shellcheck disable=SC2086 # one word per run
	if any_failed $mpq $pq; then
		echo "picoquic: a run failed on $link (mpq:$mpq; picoquicdemo:$pq)"
		tail -n 5 "$tmp/client.err" "$tmp/server.err" "$tmp/pqserver.out"
		exit 1
	fi
	# shellcheck disable=SC2086
	m=$(median $mpq) p=$(median $pq) mpq=$(runs $mpq) pq=$(runs $pq)
	echo "picoquic: $link: mpq $(ratio "$m" 1000) Gbit/s, picoquicdemo $(ratio "$p" 1000) Gbit/s," \
		"ratio $(ratio "$m" "$p") ($BYTES bytes, median of $REPS alternating;" \
		"runs in Mbit/s: mpq $mpq; picoquicdemo $pq$(pq_retries))"
}

in_s=""
compare loopback 127.0.0.1
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
	echo "picoquic: veth skipped (needs root and ip for namespaces)"
	exit 0
fi
veth_pair 69
in_s="ip netns exec $sns"
compare veth 10.69.0.2 ip netns exec "$cns"
