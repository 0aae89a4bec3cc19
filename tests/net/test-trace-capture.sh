#!/bin/sh
# mpq-trace capture and inject, as root: a client and a server namespace
# joined by one veth pair (10.68.1.0/24), UDP segmentation off on the
# client's veth (so the kernel path carries one QUIC datagram per packet).
#   (a) capture -i pc1,lo with --keylog on the key log the server writes
#       during the transfer (the file grows while capturing, and the server
#       logs the client's 1-RTT secret after the client's first 1-RTT
#       packets crossed pc1), stopped by SIGINT: exit 0, two interface
#       blocks, no packet lost, and tshark with no key log option decrypts
#       every QUIC packet;
#   (b) the same capture without --keylog, as pcapng.zst, stopped by
#       --duration; inject --keylog into pcapng, and into pcap (editcap -F
#       pcap of it): tshark decrypts every packet of both outputs;
#   (c) --count 5 stops by itself with 5 packets;
#   (d) on a veth where mpq-server --io xdp runs: capture says libpcap will
#       not see that traffic and points to --pcap.
# Exit 77 (skipped) without root, ip, tshark, editcap, capinfos or zstd.
#   tests/net/test-trace-capture.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces and packet capture"
need_tools ip timeout tshark editcap capinfos zstd cmp
two_namespaces mpqt
veth_pairs pc ps 68 1
in_c ethtool -K pc1 tx-udp-segmentation off >/dev/null 2>&1
in_s ethtool -K ps1 tx-udp-segmentation off >/dev/null 2>&1
head -c 1000000 /dev/urandom >"$tmp/file"
T="$BIN/mpq-trace"

# start_server IO ARGS...: mpq-server in its namespace, pid in $spid.
start_server() {
	io=$1
	shift
	ns_server s 60 -www "$tmp" -port 6121 --io "$io" "$@"
}
# start_capture NAME ARGS...: mpq-trace capture in the client namespace,
# pid in $cpid, stderr in $tmp/NAME.err.
start_capture() {
	name=$1
	shift
	ip netns exec "$cns" timeout 60 "$T" capture "$@" 2>"$tmp/$name.err" &
	cpid=$!
	pids="$pids $cpid"
	wait_line "^mpq-trace: capturing" "$tmp/$name.err"
}
fetch() {
	in_c timeout 30 "$BIN/mpq-client" -k --no-progress --io udp -o "$tmp/body" \
		https://10.68.1.2:6121/file 2>"$tmp/c.err" && cmp -s "$tmp/file" "$tmp/body"
}

# decrypted NAME FILE: tshark alone decrypts every QUIC datagram of FILE.
decrypted() {
	set -- "$1" $(tshark -r "$2" -Y quic -T fields -e quic.frame_type 2>/dev/null |
		awk '{ n++ } $1 != "" { f++ } END { print n + 0, f + 0 }')
	if [ "$2" -gt 50 ] && [ "$3" = "$2" ]; then
		ok "$1: $2 QUIC datagrams, all decrypted by tshark with no key log option"
	else
		not_ok "$1: $2 QUIC datagrams, $3 decrypted"
	fi
}

# ---- (a) two interfaces, a growing key log, SIGINT ----
start_server udp --keylog "$tmp/keys"
start_capture a -i pc1,lo -f "udp port 6121" --keylog "$tmp/keys" -w "$tmp/a.pcapng"
fetch || not_ok "(a) transfer" "$(tail -n 3 "$tmp/c.err")"
stop_server
sleep 0.3
kill -INT "$cpid"
wait "$cpid"
rc=$?
ifs=$(capinfos "$tmp/a.pcapng" 2>/dev/null | sed -n 's/^Number of interfaces in file: //p')
if [ "$rc" = 0 ] && [ "$ifs" = 2 ] && grep -q "key log lines embedded" "$tmp/a.err" &&
	! grep -q "lost" "$tmp/a.err"; then
	ok "(a) SIGINT: exit 0, a valid file with 2 interfaces ($(tail -n 1 "$tmp/a.err"))"
else
	not_ok "(a) SIGINT: exit $rc, $ifs interfaces" "$(cat "$tmp/a.err")"
fi
decrypted "(a) capture --keylog" "$tmp/a.pcapng"

# ---- (b) no key log, .zst, --duration; then inject ----
start_server udp --keylog "$tmp/keys.b"
start_capture b -i pc1 -f "udp port 6121" --duration 4 -w "$tmp/b.pcapng.zst"
fetch || not_ok "(b) transfer" "$(tail -n 3 "$tmp/c.err")"
stop_server
wait "$cpid"
rc=$?
zstd -q -dc "$tmp/b.pcapng.zst" >"$tmp/b.pcapng" 2>/dev/null
n=$(tshark -r "$tmp/b.pcapng" 2>/dev/null | wc -l)
if [ "$rc" = 0 ] && [ "$n" -gt 50 ]; then
	ok "(b) --duration 4: exit 0, $n packets in a zstd pcapng"
else
	not_ok "(b) --duration: exit $rc, $n packets" "$(cat "$tmp/b.err")"
fi
editcap -F pcap "$tmp/b.pcapng" "$tmp/b.pcap" 2>/dev/null
for in in b.pcapng.zst b.pcap; do
	if "$T" inject "$tmp/$in" --keylog "$tmp/keys.b" -w "$tmp/inj.$in.pcapng" 2>"$tmp/inj.err"; then
		decrypted "(b) inject into $in" "$tmp/inj.$in.pcapng"
	else
		not_ok "(b) inject into $in" "$(cat "$tmp/inj.err")"
	fi
done
"$T" inject "$tmp/keys.b" --keylog "$tmp/keys.b" -w "$tmp/x.pcapng" 2>"$tmp/x.err"
rc=$?
[ "$rc" = 2 ] && ok "(b) inject of a file that is no capture: exit 2 ($(cat "$tmp/x.err"))" ||
	not_ok "(b) inject of a non-capture: exit $rc" "$(cat "$tmp/x.err")"

# ---- (c) --count ----
start_server udp
start_capture c -i pc1 -f "udp port 6121" --count 5 -w "$tmp/c.pcapng"
fetch || not_ok "(c) transfer" "$(tail -n 3 "$tmp/c.err")"
stop_server
wait "$cpid"
rc=$?
n=$(tshark -r "$tmp/c.pcapng" 2>/dev/null | wc -l)
[ "$rc" = 0 ] && [ "$n" = 5 ] && ok "(c) --count 5: stopped by itself with 5 packets" ||
	not_ok "(c) --count 5: exit $rc, $n packets" "$(cat "$tmp/c.err")"

# ---- (d) an interface that AF_XDP serves ----
if start_server xdp -n ps1; then
	in_s timeout 10 "$T" capture -i ps1 --duration 1 -w "$tmp/d.pcapng" 2>"$tmp/d.err"
	rc=$?
	if [ "$rc" = 0 ] && grep -q "redirects to AF_XDP.*--pcap" "$tmp/d.err"; then
		ok "(d) AF_XDP on ps1: $(grep AF_XDP "$tmp/d.err")"
	else
		not_ok "(d) AF_XDP on ps1 not reported (exit $rc)" "$(cat "$tmp/d.err")"
	fi
	stop_server
else
	not_ok "(d) mpq-server --io xdp on ps1" "$(tail -n 3 "$tmp/s.err")"
fi

finish
