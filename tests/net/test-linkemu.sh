#!/bin/sh
# The testbed and its link emulator, as root: testbed/mpq-testbed brings up
# two emulated paths (namespaces of a name of this run), and udp_probe
# measures what mpq-linkemu does to them:
#   delay d: the RTT grows by 2d within 0.5 ms (median of 200 probes, against
#     the same probes with no delay, for d = 5 and 20 ms; the raw RTT printed);
#   jitter: no datagram overtakes another unless "reorder" is asked;
#   rate r: the throughput of a sender 1.5x faster is r within 3 % (r counts
#     Ethernet frames: a 1200-byte datagram is 1242 bytes on the link), and
#     the drop-tail queue drops the excess (a 120 ms queue, so that a sender
#     descheduled on a busy machine does not leave the link idle); a queue
#     of 50 kB or of 10 ms makes probes behind it wait 20 or 10 ms;
#   a mahimahi trace: its rate within 3 %; dup p: the copies in the binomial
#     99 % interval;
#   loss p (Bernoulli, one direction): the losses of 4000 probes fall in the
#     binomial 99 % interval; Gilbert-Elliott: the mean loss in its interval
#     and losses in bursts of about 1/r;
#   a path set down stops delivery within 1 ms and up brings it back; one
#     set down 300 ms later ("at 300ms down") stops it 300 ms later;
#   --pcap: tshark reads as many frames forwarded and dropped as the counters
#     down prints, and no ARP or neighbour solicitation among them: up gives
#     each end the other's link-layer address (permanent neighbours), so a
#     path's first packet does not wait a round trip at the path's delay;
#   reorder P: the packets sent ahead fall in the binomial 99 % interval,
#   none lost or duplicated; reorder 0: none;
#   IPv6 on both paths; two testbeds side by side; an interrupted up leaves
#   nothing; down clears a crashed run's leftovers; no root, one line;
#   with xdp: legs of 4 rx queues all served, and jumbo frames (MTU 9000,
#   AF_XDP multi-buffer) forwarded byte-exact.
# Every check runs with the emulator's --io $MPQ_LINKEMU_IO (default packet;
# test-linkemu-xdp.sh: xdp, which also checks that xdp is the default and
# that an interface without AF_XDP falls back to packet with one line).
#   tests/net/test-linkemu.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools ip python3 timeout
probe=$BIN/../tests/net/udp_probe
tb=$(cd "$(dirname "$0")/../../testbed" && pwd)/mpq-testbed
name=tle$$
other=tlx$$
tmp=$(mktemp -d)
io=${MPQ_LINKEMU_IO:-packet}
export BIN MPQ_TESTBED_RUN="$tmp/run" MPQ_LINKEMU_IO="$io"
cleanup() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null
	done
	"$tb" down --name "$name" >/dev/null 2>&1
	"$tb" down --name "$other" >/dev/null 2>&1
	for ns in c r s; do
		ip netns del "mq$$$ns" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
pids=""

trap 'exit 1' INT TERM
# The probes wait for the scheduler no longer than the emulator does.
rt=""
chrt -f 5 true 2>/dev/null && rt="chrt -f 5"
# $rt unquoted: empty, or chrt and its arguments.
# shellcheck disable=SC2086
in_c() { ip netns exec "$name-c" $rt "$@"; }
# shellcheck disable=SC2086
in_s() { ip netns exec "$name-s" $rt "$@"; }
set_link() { "$tb" set --name "$name" "$@" >"$tmp/set.out"; }
# inside LOST N LO HI: LOST of N within [LO, HI] (fractions of N)
inside() { awk -v x="$1" -v n="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(x >= n * lo && x <= n * hi) }'; }
binom99() { # P N VAR_FACTOR: the 99 % interval of a loss rate, as "LO HI"
	awk -v p="$1" -v n="$2" -v f="$3" 'BEGIN { h = 2.576 * sqrt(f * p * (1 - p) / n); printf "%f %f", p - h, p + h }'
}
field() { # KEY LINE...: the value after KEY
	key=$1
	shift
	echo "$@" | awk -v k="$key" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'
}

if "$tb" up --name "$name" --paths 2 --link1 "delay 0" --link2 "rate 20mbit queue 300kB" \
	>"$tmp/up.out" 2>&1 && grep -q "($io)" "$MPQ_TESTBED_RUN/$name/r1.log"; then
	ok "mpq-testbed up: 2 paths ($(grep -c '^path' "$tmp/up.out") listed), $(cat "$MPQ_TESTBED_RUN/$name/r1.log")"
else
	not_ok "mpq-testbed up" "$(cat "$tmp/up.out")"
	finish
fi
# ---- neighbours: static, so that no ARP or ND crosses the emulated links ----
bad=""
for i in 1 2; do
	for side in c:s:2 s:c:1; do
		near=${side%%:*} there=${side#*:} host=${side##*:}
		there=${there%:*}
		mac=$(ip netns exec "$name-$there" cat "/sys/class/net/p$i/address")
		for a in "10.100.$i.$host" "fd00:100:$i::$host"; do
			ip -n "$name-$near" neigh show "$a" dev "p$i" |
				grep -q "lladdr $mac PERMANENT" || bad="$bad $near:$a"
		done
	done
done
if [ -z "$bad" ]; then
	ok "each end holds the other's link-layer address for both paths and families (permanent)"
else
	not_ok "static neighbours on both ends" "missing:$bad" "$(ip -n "$name-c" neigh)"
fi
# shellcheck disable=SC2086
ip netns exec "$name-s" $rt "$probe" echo 7000 >/dev/null 2>&1 &
pids="$!"
# Wait for the echo to listen (a probe lost before then waits 1 s).
for _ in $(seq 10); do
	[ "$(field received "$(in_c "$probe" rtt 10.100.1.2 7000 1 1000)")" = 1 ] && break
done

# ---- addresses: both paths, both families ----
good=""
for a in 10.100.1.2 10.100.2.2 fd00:100:1::2 fd00:100:2::2; do
	r=$(in_c timeout 10 "$probe" rtt "$a" 7000 20 1000)
	[ "$(field received "$r")" = 20 ] && good="$good $a"
done
if [ "$good" = " 10.100.1.2 10.100.2.2 fd00:100:1::2 fd00:100:2::2" ]; then
	ok "probes echo over both paths, IPv4 and IPv6"
else
	not_ok "probes echo over both paths, IPv4 and IPv6" "answered:$good"
fi

# ---- delay ----
median() { field median_us "$(in_c timeout 10 "$probe" rtt 10.100.1.2 7000 200 2000)"; }
base=$(median)
for d in 5 20; do
	set_link 1 delay "${d}ms"
	m=$(median)
	if [ -n "$m" ] && [ -n "$base" ] &&
		awk -v m="$m" -v b="$base" -v d="$d" 'BEGIN { e = (m - b) / 1000 - 2 * d; exit !(e <= 0.5 && e >= -0.5) }'; then
		ok "delay ${d} ms: RTT $(awk -v m="$m" 'BEGIN { printf "%.2f", m / 1000 }') ms, $(awk -v m="$m" -v b="$base" 'BEGIN { printf "%.2f", (m - b) / 1000 }') ms over no delay ($base us)"
	else
		not_ok "delay ${d} ms: RTT grows by $((2 * d)) ms within 0.5 ms" "median $m us, without delay $base us"
	fi
done

# ---- jitter: in order unless reorder ----
reorders() { # SPEC...: datagrams overtaken over path 1 with that link
	set_link 1 delay 5ms "$@"
	in_s timeout 20 "$probe" sink 7001 300 >"$tmp/sink.out" &
	sp=$!
	sleep 0.2
	in_c timeout 10 "$probe" send 10.100.1.2 7001 100 2000 8
	wait "$sp"
	field reordered "$(cat "$tmp/sink.out")"
}
in_order=$(reorders jitter 4ms noreorder)
mixed=$(reorders jitter 4ms reorder)
if [ "$in_order" = 0 ] && [ "${mixed:-0}" -gt 0 ]; then
	ok "jitter 4 ms keeps the order (0 of 2000 overtaken); with reorder $mixed overtaken"
else
	not_ok "jitter keeps the order unless reorder" "overtaken: $in_order without, $mixed with"
fi
set_link 1 delay 0 jitter 0 noreorder

# ---- reorder P (netem's): a packet skips the delay with probability P ----
# 2000 datagrams 100 us apart over a 20 ms delay: one that skips it arrives
# while the ones before it are held (unless the sender stalled for 20 ms
# just before it), so "early" (arrived before a lower number) counts the
# packets sent ahead, binomial(2000, P); none lost or duplicated.
overtakes() { # P: "received N early E dups D" over path 1
	set_link 1 delay 20ms reorder "$1"
	in_s timeout 20 "$probe" sink 7001 300 >"$tmp/sink.out" &
	sp=$!
	sleep 0.2
	in_c timeout 10 "$probe" send 10.100.1.2 7001 100 2000 8
	wait "$sp"
	r=$(cat "$tmp/sink.out")
	echo "$(field received "$r") $(field early "$r") $(field dups "$r")"
}
# shellcheck disable=SC2046
set -- $(overtakes 25%)
# shellcheck disable=SC2046
if [ "$1" = 2000 ] && [ "$3" = 0 ] && inside "$2" 2000 $(binom99 0.25 2000 1); then
	ok "reorder 25 %: $2 of 2000 sent ahead (99 % interval $(binom99 0.25 2000 1 | awk '{ printf "%.0f..%.0f", $1 * 2000, $2 * 2000 }')), none lost or duplicated"
else
	not_ok "reorder 25 %: overtakers inside the binomial 99 % interval, none lost or duplicated" "received $1 early $2 dups $3"
fi
# shellcheck disable=SC2046
set -- $(overtakes 0)
if [ "$1" = 2000 ] && [ "$2" = 0 ] && [ "$3" = 0 ]; then
	ok "reorder 0: 2000 of 2000 in order"
else
	not_ok "reorder 0: none out of order" "received $1 early $2 dups $3"
fi
set_link 1 delay 0 noreorder

# ---- rate ----
in_s timeout 30 "$probe" sink 7001 500 >"$tmp/sink.out" &
sp=$!
sleep 0.2
in_c timeout 20 "$probe" send 10.100.2.2 7001 1200 6000 30
wait "$sp"
got=$(field rate_bps "$(cat "$tmp/sink.out")")
want=$(awk 'BEGIN { printf "%.0f", 20e6 * 1200 / 1242 }')
qdrops=$(field queue= "$("$tb" status --name "$name" | grep "^path 2 ab" | tr '=' ' ' | sed 's/queue /queue= /')")
if [ -n "$got" ] && awk -v g="$got" -v w="$want" 'BEGIN { exit !(g >= w * 0.97 && g <= w * 1.03) }'; then
	ok "rate 20 Mbit/s: $(awk -v g="$got" 'BEGIN { printf "%.2f", g / 1e6 }') Mbit/s of UDP payload (want $(awk -v w="$want" 'BEGIN { printf "%.2f", w / 1e6 }') within 3 %)"
else
	not_ok "rate 20 Mbit/s within 3 %" "got $got bit/s, want $want" "$(cat "$tmp/sink.out")"
fi
if [ "${qdrops:-0}" -gt 0 ]; then
	ok "the drop-tail queue dropped the excess ($qdrops frames)"
else
	not_ok "the drop-tail queue dropped the excess" "$("$tb" status --name "$name")"
fi

# ---- the queue's size, in bytes and in time ----
# Under a sender 1.5x faster than the link, probes wait behind a full
# queue: 50 kB at 20 Mbit/s is 20 ms, and 10ms is 10 ms (less the room a
# frame needs; the probes themselves meet the drop-tail too).
base2=$(field median_us "$(in_c timeout 10 "$probe" rtt 10.100.2.2 7000 100 2000)")
for q in 50kB:20 10ms:10; do
	set_link 2 queue "${q%:*}"
	in_s timeout 30 "$probe" sink 7001 500 >/dev/null &
	sp=$!
	sleep 0.2
	in_c timeout 20 "$probe" send 10.100.2.2 7001 1200 5000 30 &
	cp=$!
	sleep 0.5
	m=$(field median_us "$(in_c timeout 10 "$probe" rtt 10.100.2.2 7000 200 5000)")
	wait "$cp"
	wait "$sp"
	want=${q#*:}
	if [ -n "$m" ] && [ -n "$base2" ] &&
		awk -v m="$m" -v b="$base2" -v w="$want" 'BEGIN { e = (m - b) / 1000 - w; exit !(e >= -1.5 && e <= 0.5) }'; then
		ok "queue ${q%:*} at 20 Mbit/s: $(awk -v m="$m" -v b="$base2" 'BEGIN { printf "%.2f", (m - b) / 1000 }') ms of queueing (want $want ms, -1.5/+0.5)"
	else
		not_ok "queue ${q%:*} at 20 Mbit/s: $want ms of queueing" "median RTT $m us, idle $base2 us"
	fi
done

# ---- a trace-driven link, duplication ----
# sink_of PATH SIZE COUNT MBIT: "udp_probe sink"'s line for a paced send over PATH
sink_of() {
	in_s timeout 30 "$probe" sink 7001 500 >"$tmp/sink.out" &
	sp=$!
	sleep 0.2
	in_c timeout 20 "$probe" send "10.100.$1.2" 7001 "$2" "$3" "$4"
	wait "$sp"
	cat "$tmp/sink.out"
}
# Mahimahi's format: 10 opportunities of 1500 IP bytes per 10 ms, bunched
# (12 Mbit/s of IP packets: 11.73 of 1200-byte payloads).
printf '1\n1\n1\n2\n2\n5\n5\n5\n5\n10\n' >"$tmp/trace"
set_link 2 ab trace "$tmp/trace" queue 300kB
got=$(field rate_bps "$(sink_of 2 1200 3000 18)")
want=$(awk 'BEGIN { printf "%.0f", 12e6 * 1200 / 1228 }')
if [ -n "$got" ] && awk -v g="$got" -v w="$want" 'BEGIN { exit !(g >= w * 0.97 && g <= w * 1.03) }'; then
	ok "trace (mahimahi, 12 Mbit/s in bursts): $(awk -v g="$got" 'BEGIN { printf "%.2f", g / 1e6 }') Mbit/s of payload (want $(awk -v w="$want" 'BEGIN { printf "%.2f", w / 1e6 }') within 3 %)"
else
	not_ok "trace-driven link within 3 %" "got $got bit/s, want $want" "$(cat "$tmp/sink.out")"
fi
set_link 2 ab trace none
set_link 1 ab dup 10%
extra=$(($(field received "$(sink_of 1 100 4000 8)") - 4000))
# shellcheck disable=SC2046
if inside "$extra" 4000 $(binom99 0.1 4000 1); then
	ok "dup 10 %: $extra of 4000 duplicated"
else
	not_ok "dup 10 % inside the binomial 99 % interval" "$extra of 4000 duplicated"
fi
set_link 1 ab dup 0

# ---- loss ----
n=4000
set_link 1 ab loss 10%
r=$(in_c timeout 20 "$probe" rtt 10.100.1.2 7000 $n 200)
lost=$((n - $(field received "$r")))
# shellcheck disable=SC2046
if inside "$lost" $n $(binom99 0.1 $n 1); then
	ok "loss 10 %: $lost of $n lost (99 % interval $(binom99 0.1 $n 1 | awk -v n=$n '{ printf "%.0f..%.0f", $1 * n, $2 * n }'))"
else
	not_ok "loss 10 % inside the binomial 99 % interval" "$lost of $n lost: $r"
fi
# Gilbert-Elliott p = 5 %, r = 20 %, all lost in the bad state: 20 % lost
# on average in bursts of 1 / r = 5; the chain's correlation widens the
# interval by (1 + l) / (1 - l), l = 1 - p - r.
set_link 1 ab ge 5%/20%/100%/0%
r=$(in_c timeout 20 "$probe" rtt 10.100.1.2 7000 $n 200)
lost=$((n - $(field received "$r")))
bursts=$(field bursts "$r")
# shellcheck disable=SC2046
if inside "$lost" $n $(binom99 0.2 $n 7) &&
	awk -v l="$lost" -v b="$bursts" 'BEGIN { exit !(b > 0 && l / b >= 3.5 && l / b <= 7) }'; then
	ok "Gilbert-Elliott: $lost of $n lost in $bursts bursts ($(awk -v l="$lost" -v b="$bursts" 'BEGIN { printf "%.1f", l / b }') per burst, want 5)"
else
	not_ok "Gilbert-Elliott: 20 % lost in bursts of about 5" "$lost of $n in $bursts bursts: $r"
fi
set_link 1 ab loss 0

# ---- path down and up ----
# mid_stream OUT WORDS...: "mpq-testbed set" path 1's WORDS into OUT while
# 10000 datagrams a second stream over it for 3 s; sets $t_set (t_ns of
# the answer) and $last (the last arrival, us).
mid_stream() {
	out=$1
	shift
	in_s timeout 20 "$probe" sink 7001 800 >"$tmp/sink.out" &
	sp=$!
	sleep 0.2
	in_c timeout 10 "$probe" send 10.100.1.2 7001 100 30000 8 &
	cp=$!
	sleep 0.5
	"$tb" set --name "$name" 1 "$@" >"$out"
	t_set=$(sed -n 's/^t_ns=//p' "$out")
	wait "$cp"
	wait "$sp"
	last=$(field last_us "$(cat "$tmp/sink.out")")
}
set_link 1 delay 2ms
mid_stream "$tmp/down.out" down
t_down=$t_set
if [ -n "$t_down" ] && [ -n "$last" ] &&
	awk -v l="$last" -v t="$t_down" 'BEGIN { exit !(l * 1000 < t + 1000000) }'; then
	ok "path down: the last datagram arrived $(awk -v l="$last" -v t="$t_down" 'BEGIN { printf "%.3f", (l * 1000 - t) / 1e6 }') ms after (held ones dropped: $(grep '^ab' "$tmp/down.out" | tr ' ' '\n' | sed -n 's/^down=//p'))"
else
	not_ok "path down stops delivery within 1 ms" "down at $t_down ns, last arrival $last us"
fi
r=$(in_c timeout 10 "$probe" rtt 10.100.1.2 7000 20 1000)
set_link 1 up
r2=$(in_c timeout 10 "$probe" rtt 10.100.1.2 7000 20 1000)
if [ "$(field received "$r")" = 0 ] && [ "$(field received "$r2")" = 20 ]; then
	ok "path down: 0 of 20 probes answered; up again: 20 of 20"
else
	not_ok "path down then up" "down: $r" "up: $r2"
fi

# ---- an event at a time: "at 300ms down" ----
mid_stream "$tmp/at.out" at 300ms down
t_at=$t_set
after=$(awk -v l="$last" -v t="$t_at" 'BEGIN { printf "%.3f", (l * 1000 - t) / 1e6 }')
if [ -n "$t_at" ] && [ -n "$last" ] &&
	awk -v a="$after" 'BEGIN { exit !(a >= 250 && a <= 301) }'; then
	ok "at 300ms down: the last datagram arrived $after ms after it was set"
else
	not_ok "at 300ms down: delivery stops 300 ms later (within 1 ms)" \
		"last arrival $after ms after: $(cat "$tmp/sink.out")"
fi
set_link 1 up

# ---- several testbeds, interruption, leftovers, root ----
if [ "$io" = xdp ]; then
	# The second with the emulator's default backend: xdp.
	MPQ_LINKEMU_IO="" "$tb" up --name "$other" --paths 1 >"$tmp/other.out" 2>&1
	if grep -q "(xdp)" "$MPQ_TESTBED_RUN/$other/r1.log"; then
		ok "the default backend is xdp: $(cat "$MPQ_TESTBED_RUN/$other/r1.log")"
	else
		not_ok "the default backend is xdp" "$(cat "$MPQ_TESTBED_RUN/$other/r1.log")"
	fi
	# Every rx queue served: legs of 4 queues, on which veth spreads flows
	# by the sender's tx queue; 8 flows (a socket each) all answered.
	mq=mq$$
	for ns in c r s; do ip netns add "$mq$ns"; done
	ip link add name a netns "$mq"r numrxqueues 4 numtxqueues 4 type veth peer name p \
		netns "$mq"c numrxqueues 4 numtxqueues 4
	ip link add name b netns "$mq"r numrxqueues 4 numtxqueues 4 type veth peer name p \
		netns "$mq"s numrxqueues 4 numtxqueues 4
	for ns in c s; do
		ip -n "$mq$ns" addr add "10.77.0.$([ $ns = c ] && echo 1 || echo 2)/24" dev p
		ip -n "$mq$ns" link set dev p up
	done
	ip -n "$mq"r link set dev a up
	ip -n "$mq"r link set dev b up
	ip netns exec "$mq"r "$BIN/mpq-linkemu" --io xdp a b >"$tmp/mq.out" 2>&1 &
	mqpid=$!
	pids="$pids $mqpid"
	ip netns exec "$mq"s "$probe" echo 7000 >/dev/null 2>&1 &
	pids="$pids $!"
	sleep 0.5
	answered=""
	for _ in 1 2 3 4 5 6 7 8; do
		answered="$answered $(field received "$(ip netns exec "$mq"c "$probe" rtt 10.77.0.2 7000 20 1000)")"
	done
	if [ "$answered" = " 20 20 20 20 20 20 20 20" ]; then
		ok "legs of 4 rx queues: 8 flows, each 20 of 20 answered"
	else
		not_ok "every rx queue served: 8 flows over 4-queue legs all answered" "answered:$answered" \
			"$(cat "$tmp/mq.out")"
	fi
	# Jumbo frames: the same legs at MTU 9000, a fresh emulator (AF_XDP
	# multi-buffer: a 9014-byte frame is three UMEM frames each way); 20
	# datagrams of 8972 bytes (DF) to an echo and back, byte-exact.
	kill "$mqpid" 2>/dev/null
	wait "$mqpid" 2>/dev/null
	for ns in c s; do ip -n "$mq$ns" link set dev p mtu 9000; done
	ip -n "$mq"r link set dev a mtu 9000
	ip -n "$mq"r link set dev b mtu 9000
	ip netns exec "$mq"r "$BIN/mpq-linkemu" --io xdp a b >"$tmp/jumbo.out" 2>&1 &
	pids="$pids $!"
	ip netns exec "$mq"s timeout 20 python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.77.0.2", 7002))
s.settimeout(10)
while True:
    d, a = s.recvfrom(65536)
    s.sendto(d, a)' 2>/dev/null &
	pids="$pids $!"
	sleep 0.5
	jumbo=$(ip netns exec "$mq"c timeout 20 python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER: IP_PMTUDISC_DO
s.settimeout(0.5)
back = 0
for i in range(20):
    p = bytes((i * 7 + k * 13) & 255 for k in range(8972))
    s.sendto(p, ("10.77.0.2", 7002))
    try:
        back += s.recvfrom(65536)[0] == p
    except OSError:
        pass
print(back)' 2>&1)
	if [ "$jumbo" = 20 ] && grep -q "(xdp)" "$tmp/jumbo.out"; then
		ok "MTU 9000 legs: 20 of 20 datagrams of 8972 bytes there and back byte-exact ($(cat "$tmp/jumbo.out"))"
	else
		not_ok "MTU 9000 legs: 8972-byte datagrams forwarded" "back: $jumbo" "$(cat "$tmp/jumbo.out")"
	fi
	# lo is no Ethernet interface: no AF_XDP raw socket, AF_PACKET instead.
	ip netns exec "$other-r1" timeout 0.5 "$BIN/mpq-linkemu" lo lo >"$tmp/lo.out" 2>"$tmp/lo.err"
	if [ "$(wc -l <"$tmp/lo.err")" = 1 ] && grep -q "using packet" "$tmp/lo.err" &&
		grep -q "(packet)" "$tmp/lo.out"; then
		ok "no AF_XDP on lo: one line ($(cat "$tmp/lo.err")), then packet"
	else
		not_ok "no AF_XDP: falls back to packet with one line" "$(cat "$tmp/lo.err" "$tmp/lo.out")"
	fi
else
	"$tb" up --name "$other" --paths 1 >"$tmp/other.out" 2>&1
fi
r=$(ip netns exec "$other-c" "$probe" rtt 10.100.1.2 7000 5 1000 2>&1)
# The echo runs in the first testbed only: the second's server has none.
if ip netns list | grep -q "^$other-r1" && ip netns list | grep -q "^$name-r1" &&
	[ "$(field received "$r")" = 0 ]; then
	ok "a second testbed ($other) beside the first, separate"
else
	not_ok "a second testbed beside the first" "$(cat "$tmp/other.out")" "$r"
fi
if "$tb" up --name "$other" >"$tmp/again.out" 2>&1; then
	not_ok "up refuses a testbed that is up" "$(cat "$tmp/again.out")"
else
	ok "up refuses a testbed that is up: $(cat "$tmp/again.out")"
fi
# A crashed run: its emulator killed, its state directory gone.
for pid in $(ip netns pids "$other-r1"); do kill -9 "$pid"; done
sleep 0.1
if "$tb" status --name "$other" | grep -q "^path 1: the link emulator is not running"; then
	ok "status says when a path's emulator is not running"
else
	not_ok "status says when a path's emulator is not running" "$("$tb" status --name "$other")"
fi
rm -rf "${MPQ_TESTBED_RUN:?}/$other"
"$tb" down --name "$other" >/dev/null
if ! ip netns list | grep -q "^$other-"; then
	ok "down clears a crashed run's namespaces"
else
	not_ok "down clears a crashed run's namespaces" "$(ip netns list | grep "^$other-")"
fi
"$tb" up --name "$other" --paths 8 >/dev/null 2>&1 &
upid=$!
sleep 0.5
kill -TERM "$upid"
wait "$upid"
sleep 0.2
if ! ip netns list | grep -q "^$other-" && [ ! -e "$MPQ_TESTBED_RUN/$other" ]; then
	ok "an up interrupted (SIGTERM) leaves nothing"
else
	not_ok "an up interrupted leaves nothing" "$(ip netns list | grep "^$other-")"
fi
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$tb" up --name "$other" 2>&1)
rc=$?
if [ "$rc" = 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "needs root"; then
	ok "without root: one line, exit 1 ($out)"
else
	not_ok "without root: one line" "exit $rc: $out"
fi

# ---- the emulator's capture: what it forwarded and dropped, per direction ----
if command -v tshark >/dev/null; then
	"$tb" up --name "$other" --paths 1 --link "ab loss 20%" --pcap "$tmp/cap" >/dev/null 2>&1
	ip netns exec "$other-c" "$probe" rtt 10.100.1.2 7000 500 500 >/dev/null
	counters=$("$tb" down --name "$other" | tr '=' ' ')
	want="$(field forwarded "$(echo "$counters" | grep ' ab ')") $(field loss "$(echo "$counters" | grep ' ab ')") $(field forwarded "$(echo "$counters" | grep ' ba ')")"
	got=$(tshark -r "$tmp/cap/path1.pcapng" -T fields -e frame.interface_name 2>/dev/null |
		awk '{ n[$0]++ } END { printf "%d %d %d", n["a>b"], n["a>b dropped"], n["b>a"] }')
	if [ "$got" = "$want" ] && [ "${got%% *}" -gt 300 ]; then
		ok "--pcap: tshark reads the frames forwarded, lost and sent back as counted ($got)"
	else
		not_ok "--pcap: the capture matches the counters" "capture: $got" "counters: $want"
	fi
	# (Duplicate address detection's solicitations, from ::, resolve nothing.)
	resolving='arp || (icmpv6.type == 135 && ipv6.src != ::)'
	resolve=$(tshark -r "$tmp/cap/path1.pcapng" -Y "$resolving" 2>/dev/null | wc -l)
	if [ "$resolve" = 0 ]; then
		ok "--pcap: no ARP or neighbour solicitation crossed the emulated link"
	else
		not_ok "no ARP or neighbour solicitation crosses the emulated link" \
			"$(tshark -r "$tmp/cap/path1.pcapng" -Y "$resolving" 2>/dev/null)"
	fi
else
	echo "info --pcap not checked: no tshark"
fi

"$tb" down --name "$name" >/dev/null
if ! ip netns list | grep -q "^$name-"; then
	ok "mpq-testbed down removes every namespace"
else
	not_ok "mpq-testbed down removes every namespace" "$(ip netns list | grep "^$name-")"
fi
finish
