#!/bin/sh
# --pcap on mpq-server and mpq-client, as root: a client and a server
# namespace joined by one veth pair (10.67.1.0/24). Each case fetches 2 MB
# with both ends writing --pcap, then checks with tshark and no key log
# option that every QUIC packet in each file decrypted (as many packets with
# frames as QUIC packets, none with "decryption failed"), that both files
# hold the same datagrams from client to server, and that the client file's UDP payload
# bytes each way equal the client's --json path counters. Cases:
#   (a) --io udp on both ends, GSO on (one record per datagram all the same),
#       the client's file zstd-compressed (.pcapng.zst): raw IP interfaces;
#   (b) --io xdp on both ends while dumpcap (libpcap) listens on the server's
#       veth: dumpcap sees none of the transfer, the server's --pcap all of
#       it, as Ethernet frames.
# Exit 77 (skipped) without root, ip, tshark, dumpcap, zstd or python3.
#   tests/net/test-pcap.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces and AF_XDP"
need_tools ip timeout tshark dumpcap capinfos zstd python3 cmp
two_namespaces mpqp
veth_pairs pc ps 67 1
head -c 2000000 /dev/urandom >"$tmp/file"

# transfer NAME IO CLIENT_PCAP: a server and a client with --io IO and
# --pcap; server file $tmp/NAME.s.pcapng. Returns non-zero on any failure.
transfer() {
	ip netns exec "$sns" timeout 60 "$BIN/mpq-server" -www "$tmp" -port 6121 --io "$2" \
		--pcap "$tmp/$1.s.pcapng" >"$tmp/$1.s.out" 2>"$tmp/$1.s.err" &
	spid=$!
	pids="$pids $spid"
	wait_line "^listening on" "$tmp/$1.s.out"
	in_c timeout 60 "$BIN/mpq-client" -k --no-progress --json --io "$2" --pcap "$3" \
		-o "$tmp/$1.body" https://10.67.1.2:6121/file >"$tmp/$1.json" 2>"$tmp/$1.c.err"
	crc=$?
	kill -TERM "$spid" 2>/dev/null
	wait "$spid"
	src=$?
	[ "$crc" = 0 ] && [ "$src" = 0 ] && cmp -s "$tmp/file" "$tmp/$1.body"
}

count() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }

# decrypted NAME FILE: every QUIC datagram of FILE decrypted, with frames
# (without the secrets, tshark shows frames in the Initial packets only).
decrypted() {
	set -- "$1" $(tshark -r "$2" -Y quic -T fields -E separator=/t -e quic.frame_type \
		-e quic.decryption_failed 2>/dev/null |
		awk -F'\t' '{ n++ } $1 != "" { f++ } $2 != "" { b++ } END { print n + 0, f + 0, b + 0 }')
	if [ "$2" -gt 100 ] && [ "$3" = "$2" ] && [ "$4" = 0 ]; then
		ok "$1: $2 datagrams, all decrypted by tshark from the file alone"
	else
		not_ok "$1: $2 datagrams, $3 with frames, $4 failed to decrypt"
	fi
}

# payload_bytes FILE: "SENT RECEIVED", the client's UDP payload bytes each way.
payload_bytes() {
	tshark -r "$1" -T fields -e udp.dstport -e udp.length 2>/dev/null |
		awk '$1 == 6121 { s += $2 - 8 } $1 != 6121 { r += $2 - 8 } END { print s + 0, r + 0 }'
}
json_bytes() {
	python3 -c 'import json,sys; p = json.load(open(sys.argv[1]))["paths"][0]
print(p["bytes_sent"], p["bytes_received"])' "$1"
}

# same_counts NAME SFILE CFILE JSON: the server's file holds every datagram
# the client's sent (the server may send a few more after the client left),
# and the client's match its counters.
same_counts() {
	ns=$(count "$2" "udp.dstport == 6121")
	nc=$(count "$3" "udp.dstport == 6121")
	cap=$(payload_bytes "$3")
	js=$(json_bytes "$4")
	if [ "$ns" = "$nc" ] && [ "$cap" = "$js" ]; then
		ok "$1: the $nc datagrams the client sent in both files; client bytes sent, received $cap as in --json"
	else
		not_ok "$1: client to server: server file $ns datagrams, client $nc; client bytes $cap, --json $js"
	fi
}

# ---- (a) udp, GSO on, client file compressed ----
if transfer a udp "$tmp/a.c.pcapng.zst"; then
	zstd -q -dc "$tmp/a.c.pcapng.zst" >"$tmp/a.c.pcapng"
	decrypted "(a) udp server" "$tmp/a.s.pcapng"
	decrypted "(a) udp client (.zst)" "$tmp/a.c.pcapng"
	same_counts "(a) udp" "$tmp/a.s.pcapng" "$tmp/a.c.pcapng" "$tmp/a.json"
	enc=$(capinfos "$tmp/a.s.pcapng" 2>/dev/null | grep -c "Encapsulation = Raw IP")
	[ "$enc" -ge 1 ] && ok "(a) udp: raw IP interface blocks" ||
		not_ok "(a) udp: no raw IP interface" "$(capinfos "$tmp/a.s.pcapng" 2>&1 | head -20)"
else
	not_ok "(a) transfer with --pcap, --io udp" "$(tail -n 3 "$tmp/a.s.err" "$tmp/a.c.err")"
fi

# ---- (b) xdp, with libpcap on the server's veth ----
in_s timeout 60 dumpcap -q -i ps1 -f "udp port 6121" -w "$tmp/b.libpcap.pcapng" \
	>/dev/null 2>"$tmp/b.libpcap.err" &
tpid=$!
pids="$pids $tpid"
wait_line "Capturing on" "$tmp/b.libpcap.err"
if transfer b xdp "$tmp/b.c.pcapng"; then
	kill -TERM "$tpid" 2>/dev/null
	wait "$tpid"
	seen=$(count "$tmp/b.libpcap.pcapng" udp)
	decrypted "(b) xdp server" "$tmp/b.s.pcapng"
	decrypted "(b) xdp client" "$tmp/b.c.pcapng"
	same_counts "(b) xdp" "$tmp/b.s.pcapng" "$tmp/b.c.pcapng" "$tmp/b.json"
	ours=$(count "$tmp/b.s.pcapng" "eth && udp")
	if [ "$seen" = 0 ] && [ "$ours" -gt 100 ]; then
		ok "(b) xdp: libpcap on the server's veth saw $seen datagrams, --pcap $ours Ethernet frames"
	else
		not_ok "(b) xdp: libpcap saw $seen datagrams, --pcap $ours Ethernet frames"
	fi
else
	not_ok "(b) transfer with --pcap, --io xdp" "$(tail -n 3 "$tmp/b.s.err" "$tmp/b.c.err")"
fi

finish
