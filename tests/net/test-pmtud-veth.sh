#!/bin/sh
# Path MTU discovery end to end, as root: a client namespace and a server
# namespace joined by one veth pair (10.67.1.0/24). Cases:
#   (a) MTU 9000, --io udp on both ends: 5 MB byte-exact, and the server's
#       datagrams reach the client at 8900 bytes or more (the client's --json:
#       largest_received) while the client says the path carries as much
#       (max_udp_payload), and the server's qlog says so (quic:mtu_updated);
#   (b) MTU 9000, --io xdp on both ends: byte-exact, datagrams of 8900
#       bytes or more reach the client (AF_XDP multi-buffer: each spans
#       three 4096-byte UMEM frames), the path carries as much, and both
#       ends say their sockets are multi-buffer;
#   (c) MTU 1500, --io udp: byte-exact, nothing above 1472 bytes, and 1472
#       reached;
#   (d) MTU 9000 with --no-pmtud on the server: nothing above 1452 bytes;
#   (e) MTU 9000 with --max-udp-payload 4000 on the client: the server sends
#       nothing above 4000 bytes (the client's max_udp_payload_size).
# Every command runs under a time limit; the namespaces are deleted on any
# exit. Exit 77 (skipped) without root, ip or python3. Prints "N passed, N
# failed" last.
#   tests/net/test-pmtud-veth.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools ip python3 timeout sha256sum
two_namespaces mpqp

veth_pairs pc ps 67 1
mkdir -p "$tmp/www"
head -c 5000000 /dev/urandom >"$tmp/www/f"
sha=$(sha256sum <"$tmp/www/f" | cut -d' ' -f1)

mtu() { in_c ip link set pc1 mtu "$1" && in_s ip link set ps1 mtu "$1"; }

spid=""
# start_server NAME ARGS...: a server in the server namespace (udp: on ps1's
# address, not on lo, whose MTU is 65536).
start_server() {
	name=$1
	shift
	ns_server "$name" 60 -www "$tmp/www" -port 6122 "$@"
}

# fetch NAME ARGS...: the client; body to $tmp/NAME.body, --json to NAME.json.
fetch() {
	name=$1
	shift
	in_c timeout 60 "$BIN/mpq-client" -k --no-progress --json -o "$tmp/$name.body" "$@" \
		https://10.67.1.2:6122/f >"$tmp/$name.json" 2>"$tmp/$name.err"
}
same() { [ "$(sha256sum <"$tmp/$1.body" | cut -d' ' -f1)" = "$sha" ]; }
# path0 NAME KEY: path 0's KEY in the client's --json.
path0() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["paths"][0][sys.argv[2]])' \
		"$tmp/$1.json" "$2" 2>/dev/null
}
detail() { echo "largest_received $(path0 "$1" largest_received), max_udp_payload $(path0 "$1" max_udp_payload)"; }

# run_case NAME WHAT SERVER_ARGS CLIENT_ARGS COND: a transfer with those
# arguments (split into words), byte-exact, then COND, a shell condition on
# $got (the largest packet the client received) and $max (its path's
# max_udp_payload).
run_case() {
	name=$1
	what=$2
	cond=$5
	# shellcheck disable=SC2086 # the arguments are words
	if start_server "$name" $3 && fetch "$name" $4 && same "$name"; then
		got=$(path0 "$name" largest_received)
		max=$(path0 "$name" max_udp_payload)
		if eval "$cond"; then
			ok "$what: byte-exact, $got-byte datagrams, path at $max"
		else
			not_ok "$what" "$(detail "$name")"
		fi
	else
		not_ok "$what: transfer" "$(cat "$tmp/$name.err" "$tmp/$name.json" 2>/dev/null | head -5)"
	fi
	stop_server
}
udp="--io udp --addr 10.67.1.2"

mtu 9000
mkdir "$tmp/qlog"
run_case a "(a) MTU 9000, udp: datagrams of 8900 bytes or more" "$udp --qlog-dir $tmp/qlog" \
	"--io udp" '[ "${got:-0}" -ge 8900 ] && [ "${max:-0}" -ge 8900 ]'
# (the server's qlog is complete once it stopped)
if cat "$tmp"/qlog/* 2>/dev/null | grep "quic:mtu_updated" | grep -q "\"new\":8972"; then
	ok "(a) the server's qlog: quic:mtu_updated to 8972"
else
	not_ok "(a) the server's qlog: quic:mtu_updated to 8972" "$(ls "$tmp/qlog")" \
		"$(cat "$tmp"/qlog/* 2>/dev/null | grep -c mtu_updated) mtu_updated events"
fi
run_case b "(b) MTU 9000, xdp: datagrams of 8900 bytes or more (multi-buffer)" "--io xdp -n ps1" \
	"--io xdp" '[ "${got:-0}" -ge 8900 ] && [ "${max:-0}" -ge 8900 ]'
if grep -q "multi-buffer" "$tmp/b.out" && grep -q "multi-buffer" "$tmp/b.err"; then
	ok "(b) both ends' AF_XDP sockets are multi-buffer"
else
	not_ok "(b) both ends' AF_XDP sockets are multi-buffer" \
		"$(grep -h "path I/O" "$tmp/b.out" "$tmp/b.err" 2>/dev/null)"
fi
run_case d "(d) MTU 9000, --no-pmtud: nothing above 1452 bytes" "$udp --no-pmtud" "--io udp" \
	'[ "${got:-0}" -le 1452 ]'
run_case e "(e) MTU 9000, client --max-udp-payload 4000: nothing above 4000 bytes" "$udp" \
	"--io udp --max-udp-payload 4000" '[ "${got:-0}" -le 4000 ] && [ "${got:-0}" -gt 1472 ]'
mtu 1500
run_case c "(c) MTU 1500, udp: 1472 bytes reached, nothing above" "$udp" "--io udp" \
	'[ "${got:-0}" = 1472 ]'

finish
