#!/bin/sh
# mpq-server --io xdp on an interface with several rx queues and both address
# families, as root: a client namespace and a server namespace joined by one
# veth pair made with 4 rx and 4 tx queues on each end (10.68.1.0/24 and
# fd68:1::/64). veth puts a frame on the peer's rx queue of the sender's tx
# queue, which the kernel picks per socket: clients over kernel UDP from
# different source ports land on different rx queues of the server's end.
# Checks, with one server serving IPv4 and IPv6 on that interface:
#   - it listens on both addresses over AF_XDP;
#   - 12 fetches over IPv4 and 12 over IPv6 (4 at a time, each its own
#     client process and port), then 12 alternating between the families at
#     once, all byte-exact, and the server's rx queues (ethtool -S, the
#     kernel's per-queue XDP counters) show that more than one queue carried
#     them, so the check cannot pass on queue 0 alone;
#   - a client with --io xdp over IPv4 and over IPv6;
#   - ICMP echo (v4 and v6) and a kernel UDP service on another port still
#     work while the steering program is attached;
#   - the same fetches with --workers 2, both workers serving;
#   - SIGTERM: exit 0, no XDP program left;
#   - on a second pair with 80 queues, more than a set serves: sockets on 64,
#     one line on stderr says how flows are steered to them (or why not),
#     a fetch works, the channels are as before at exit.
# Every command runs under a time limit; the namespaces are deleted on any
# exit. Exit 77 (skipped) without root or the tools. Prints "N passed,
# N failed" last.
#   tests/net/test-xdp-queues.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces and AF_XDP"
need_tools ip timeout sha256sum ethtool python3
two_namespaces mpqq

if [ ! -x "$BIN/mpq-server" ] || [ ! -x "$BIN/mpq-client" ]; then
	not_ok "tools built" "$BIN/mpq-server or $BIN/mpq-client missing: run make"
	finish
fi
VETH_QUEUES=4
veth_pairs qc qs 68 1 v6
VETH_QUEUES=
nq=$(in_s ls /sys/class/net/qs1/queues | grep -c '^rx-')
if [ "$nq" = 4 ]; then
	ok "the server's veth end has 4 rx queues"
else
	not_ok "the server's veth end has 4 rx queues" "it has $nq"
	finish
fi
mkdir "$tmp/www"
head -c 300000 /dev/urandom >"$tmp/www/file"
want_sha=$(sha256sum <"$tmp/www/file" | cut -d' ' -f1)
url4="https://10.68.1.2:6121/file"
url6="https://[fd68:1::2]:6121/file"

spid=""
# start_server NAME ARGS...: the server on qs1, its pid in $spid.
start_server() {
	name=$1
	shift
	ns_server "$name" 120 --io xdp -n qs1 -v -port 6121 -www "$tmp/www" "$@"
	# Every address is listed by the time the first line is out.
	sleep 0.2
	grep -q "^listening on 10.68.1.2:6121 (qs1, xdp)" "$tmp/$name.out" || return 1
	if grep -q "^listening on \[fd68:1::2\]:6121 (qs1, xdp)" "$tmp/$name.out"; then
		ok "$name: listening on 10.68.1.2 and fd68:1::2 over AF_XDP ($(grep "^path I/O" "$tmp/$name.out"))"
	else
		not_ok "$name: listening on 10.68.1.2 and fd68:1::2 over AF_XDP" \
			"$(cat "$tmp/$name.out" "$tmp/$name.err")"
	fi
}
# stop_xdp_server NAME: lib.sh's, then checks no XDP program is left.
stop_xdp_server() {
	stop_server
	left=$(in_s ip -o link show | grep -c " xdp\|prog/xdp")
	if [ "$src" = 0 ] && [ "$left" = 0 ]; then
		ok "$1: SIGTERM: exit 0, no XDP program left on qs1"
	else
		not_ok "$1: SIGTERM: exit $src, $left XDP program(s) left" \
			"$(tail -n 5 "$tmp/$1.err")"
	fi
}

# The kernel's count of frames the XDP program saw on each rx queue of qs1.
queue_packets() {
	in_s ethtool -S qs1 | sed -n 's/^ *rx_queue_\([0-9]*\)_xdp_packets: \([0-9]*\)$/\1 \2/p'
}
# queues_used BEFORE AFTER: how many queues counted more frames in AFTER.
queues_used() {
	echo "$1" | while read -r q n; do
		m=$(echo "$2" | sed -n "s/^$q \([0-9]*\)$/\1/p")
		[ "${m:-0}" -gt "$n" ] && echo "$q"
	done | wc -l
}

# fetch_round NAME URLS CLIENT-ARGS...: 12 fetches (URLS: one URL, or two
# alternating), then the queues they arrived on.
fetch_round() {
	name=$1
	urls=$2
	shift 2
	mkdir -p "$tmp/$name"
	before=$(queue_packets)
	fetches_what=$name
	n_fetches 12 "$tmp/$name" "$want_sha" "$urls" \
		in_c timeout 30 "$BIN/mpq-client" -k --no-progress "$@"
	fetches_what=
	after=$(queue_packets)
	used=$(queues_used "$before" "$after")
	if [ "$used" -ge 2 ]; then
		ok "$name: the fetches arrived on $used of 4 rx queues"
	else
		not_ok "$name: the fetches arrived on $used of 4 rx queues (want 2 or more)" \
			"before: $(echo $before)" "after: $(echo $after)"
	fi
}

# xdp_fetch URL WHAT: one fetch by a client with --io xdp, byte-exact.
xdp_fetch() {
	if in_c timeout 30 "$BIN/mpq-client" -k --no-progress --io xdp -o "$tmp/x.body" "$1" \
		2>"$tmp/x.err" &&
		[ "$(sha256sum <"$tmp/x.body" | cut -d' ' -f1)" = "$want_sha" ]; then
		ok "$2: $1 byte-exact"
	else
		not_ok "$2: $1" "$(tail -n 3 "$tmp/x.err")"
	fi
}

# ---- one worker ----
if start_server one; then
	fetch_round "IPv4, one worker" "$url4" --io udp
	fetch_round "IPv6, one worker" "$url6" --io udp
	fetch_round "IPv4 and IPv6 at once, one worker" "$url4 $url6" --io udp
	xdp_fetch "$url4" "a client with --io xdp"
	xdp_fetch "$url6" "a client with --io xdp"
	in_c sh -c 'echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range'
	for a in 10.68.1.2 fd68:1::2; do
		if in_c timeout 10 python3 "$(dirname "$0")/icmp_echo.py" "$a" >"$tmp/ping" 2>&1; then
			ok "ICMP echo to $a with the steering program attached ($(cat "$tmp/ping"))"
		else
			not_ok "ICMP echo to $a" "$(tail -n 2 "$tmp/ping")"
		fi
	done
	cat >"$tmp/echo.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.settimeout(30)
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
EOF
	cat >"$tmp/udp.py" <<'EOF'
import socket, sys
v6 = ":" in sys.argv[1]
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
for i in range(20):
    s.sendto(b"hello %d" % i, (sys.argv[1], int(sys.argv[2])))
    try:
        if s.recvfrom(2048)[0] == b"hello %d" % i:
            print("echoed")
            break
    except OSError:
        pass
EOF
	in_s timeout 60 python3 "$tmp/echo.py" 7000 >/dev/null 2>&1 &
	epid=$!
	pids="$pids $epid"
	for a in 10.68.1.2 fd68:1::2; do
		got=$(in_c timeout 20 python3 "$tmp/udp.py" "$a" 7000 2>&1)
		if [ "$got" = echoed ]; then
			ok "a kernel UDP service on port 7000 of $a still answers"
		else
			not_ok "a kernel UDP service on port 7000 of $a" "$got"
		fi
	done
	kill "$epid" 2>/dev/null
	wait "$epid" 2>/dev/null
	stop_xdp_server one
else
	not_ok "one: server listens over AF_XDP" \
		"$(cat "$tmp/one.out" "$tmp/one.err")"
fi

# ---- two workers ----
if start_server two --workers 2; then
	fetch_round "IPv4, two workers" "$url4" --io udp
	fetch_round "IPv6, two workers" "$url6" --io udp
	stop_xdp_server two
	both_workers_served "$tmp/two.err" 24
else
	not_ok "two: server listens over AF_XDP with 2 workers" \
		"$(cat "$tmp/two.out" "$tmp/two.err")"
fi

# ---- more queues than sockets ----
# 80 queues, past the 64 a set serves: the first 64 get sockets and the
# server says in one line how the NIC was told to put every flow there (veth
# has no RSS indirection table and refuses fewer rx channels than its peer's
# tx queues while XDP is attached, so here it says why it could not). A
# client with --io xdp sends from its queue 0, which lands on queue 0.
if ip link add name qc9 netns "$cns" numrxqueues 80 numtxqueues 80 type veth peer name qs9 \
	netns "$sns" numrxqueues 80 numtxqueues 80 >"$tmp/nine.setup" 2>&1 &&
	in_c ip addr add 10.68.9.1/24 dev qc9 && in_s ip addr add 10.68.9.2/24 dev qs9 &&
	in_c ip link set dev qc9 up && in_s ip link set dev qs9 up; then
	ns_server nine 60 --io xdp -n qs9 -port 6122 -www "$tmp/www"
	said=$(grep -c "qs9: AF_XDP sockets on 64 of its 80 rx queues[;,] " "$tmp/nine.err")
	if grep -q "^path I/O: xdp on qs9 (64 of 80 rx queues," "$tmp/nine.out" && [ "$said" = 1 ]; then
		ok "80 rx queues: sockets on 64, said in one line ($(grep "qs9: AF_XDP" "$tmp/nine.err"))"
	else
		not_ok "80 rx queues: sockets on 64, said in one line" \
			"$(cat "$tmp/nine.out" "$tmp/nine.err")"
	fi
	xdp_fetch "https://10.68.9.2:6122/file" "80 rx queues: a client with --io xdp"
	kill -TERM "$spid" 2>/dev/null
	wait "$spid"
	src=$?
	rx=$(in_s ethtool -l qs9 | sed -n '/Current/,$s/^RX:[[:space:]]*//p')
	left=$(in_s ip -o link show | grep -c " xdp\|prog/xdp")
	if [ "$src" = 0 ] && [ "$left" = 0 ] && [ "$rx" = 80 ]; then
		ok "80 rx queues: SIGTERM: exit 0, no XDP program left, 80 rx channels"
	else
		not_ok "80 rx queues: SIGTERM: exit $src, $left XDP program(s) left, $rx rx channels"
	fi
else
	not_ok "a veth pair with 80 queues" "$(cat "$tmp/nine.setup")"
fi

finish
