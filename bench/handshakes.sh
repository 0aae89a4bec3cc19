#!/bin/sh
# Handshakes per second: mpq-server (--io udp, one thread) pinned to CPU 0
# with taskset, the load client (build/bench/mpq_load: many connections from
# one process, each completing its handshake and closing) on the other CPUs,
# BENCH_HANDSHAKES handshakes (default 20000), BENCH_CONCURRENCY at a time
# (default 16: one client address may hold 32 handshakes open before the
# server drops its Initials). Loopback; needs no privileges.
# Other processes share the CPU, so next to the rate it prints the server's
# CPU time per handshake (utime + stime) and the rate one core would give at
# that cost, against the baseline measured on the same CPU in the same run:
# what the TLS handshake's public-key operations alone cost (openssl speed:
# one ECDSA P-256 signature and two X25519 operations, key generation and
# derivation, per handshake), and what OpenSSL 3.0 alone spends on the whole
# TLS 1.3 handshake on the server side (build/bench/bench_tls_handshake: two
# SSL objects over memory BIOs, same certificate type, suites and groups, with
# the key log callback lib/quic/tls.c needs and the tickets mpq-server sends):
# the second ratio says how far the rest (QUIC, sockets, the loop) is from it
# (its handshakes interleaved BENCH_CONCURRENCY at a time, as the server's are).
set -u
. "$(dirname "$0")/lib.sh"
N=${BENCH_HANDSHAKES:-$(quick 300 20000)}
CONC=${BENCH_CONCURRENCY:-16}
PORT=${BENCH_PORT:-47125}
LOAD=${LOAD:-$(dirname "$BIN")/bench/mpq_load}
TLSFLOOR=${TLSFLOOR:-$(dirname "$BIN")/bench/bench_tls_handshake}
# The bench_tls_handshake variant configured as mpq-server's TLS context is.
TLSVARIANT=${TLSVARIANT:-tickets1}
command -v taskset >/dev/null || skip "needs taskset (util-linux)"
need_bins "$BIN/mpq-server" "$LOAD" "$TLSFLOOR"
scratch
ncpu=$(nproc)
client_cpus=1-$((ncpu - 1))
[ "$ncpu" = 1 ] && client_cpus=0

taskset -c 0 "$BIN/mpq-server" --io udp --addr 127.0.0.1 -port "$PORT" -www "$tmp" -q \
	>"$tmp/server.out" 2>"$tmp/server.err" &
spid=$!
pids=$spid
wait_listening "$tmp/server.out"
# cpu_ticks PID: its user and system time so far, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

taskset -c "$client_cpus" "$LOAD" handshakes "127.0.0.1:$PORT" 50 "$CONC" >/dev/null # warm up
t0=$(cpu_ticks "$spid")
if ! out=$(taskset -c "$client_cpus" "$LOAD" handshakes "127.0.0.1:$PORT" "$N" "$CONC"); then
	echo "handshakes: the load client failed: $out"
	tail -n 5 "$tmp/server.err"
	exit 1
fi
t1=$(cpu_ticks "$spid")
floor=$(taskset -c 0 openssl speed -seconds 1 ecdsap256 ecdhx25519 2>/dev/null | awk '
	/ecdsa \(nistp256\)/ { sign = $(NF - 1) }
	/ecdh \(X25519\)/ { x = $NF }
	END { if (sign && x) printf "%.0f", 1 / (1 / sign + 2 / x) }')
tls=$(taskset -c 0 "$TLSFLOOR" "$(quick 200 2000)" "$CONC" | awk -v v="$TLSVARIANT" '
	$2 == v ":" { print $3 }')
echo "$out" | awk -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v floor="${floor:-0}" \
	-v tls="${tls:-0}" -v tv="$TLSVARIANT" -v n="$N" -v c="$CONC" '{
	cpu = ticks / hz
	per = cpu > 0 ? $2 / cpu : 0
	f = "handshakes: %d/s (%d in %.2f s, %d failed, %d at a time), server CPU %.0f us each:"
	f = f " %.0f/s on one core; public-key floor %s/s (openssl speed, same CPU), ratio %.2f\n"
	printf f, $8, $2, $6, $4, c, (cpu > 0 ? cpu * 1e6 / $2 : 0), per, floor, (floor ? per / floor : 0)
	f = "handshakes: OpenSSL 3.0 TLS 1.3 alone (bench_tls_handshake %s, same CPU) %.0f us each,"
	f = f " %.0f/s on one core, ratio %.2f\n"
	printf f, tv, tls, (tls ? 1e6 / tls : 0), per * tls / 1e6
}'
