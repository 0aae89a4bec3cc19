#!/bin/sh
# --io xdp end to end, as root: a client namespace and a server namespace
# joined by two veth pairs (10.66.1.0/24 + fd66:1::/64, 10.66.2.0/24 +
# fd66:2::/64; addresses only inside the namespaces). Cases:
#   (a) 50 MB byte-exact with --io xdp on both ends (and 1 MB over IPv6);
#   (b) xdp server, udp client;  (c) udp server, xdp client;
#   (d) multipath over two xdp interfaces (-n a,b -mip ... -sc rr), both paths
#       carrying at least 20 % of 50 MB;
#   (e) while the server runs with its steering program attached: ping, a TCP
#       connection (python3 http.server), another UDP service (a python3
#       echo server on another port) on the same interface, and one on the
#       server's port at another address of the interface still work;
#   (f) after SIGTERM the server exits 0 and no XDP program is left on its
#       interfaces (nor on the client's after it exits);
#   (g) a program left by a server killed with SIGKILL is replaced by the next
#       server, which detaches it again on SIGTERM;
#   (h) at MTU 9000 (jumbo frames, larger than a page) the steering program
#       still runs native (it is frags-aware, so veth accepts it) and 1 MB
#       comes byte-exact with --io xdp on both ends;
#   (i) --busy-poll 50: the server's sockets busy-poll (its path I/O line
#       says so) and 1 MB comes byte-exact.
# Checksum offload: frames the kernel sends over veth carry only the
# pseudo-header sum (CHECKSUM_PARTIAL); the AF_XDP backend does not verify UDP
# checksums on receive (QUIC's AEAD protects every packet) and computes full
# ones on send, so nothing is turned off; frames the steering program passes go
# to the kernel as they came. Every command runs under a time limit; the
# namespaces (and the veth pairs in them) are deleted on any exit. Exit 77
# (skipped) without root, ip or python3. Prints "N passed, N failed" last.
#   tests/net/test-xdp-veth.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces and AF_XDP"
need_tools ip python3 timeout sha256sum
two_namespaces mpqx

veth_pairs xc xs 66 2 v6
mkdir -p "$tmp/www"
head -c 50000000 /dev/urandom >"$tmp/www/big" && head -c 1000000 /dev/urandom >"$tmp/www/small"
sha_big=$(sha256sum <"$tmp/www/big" | cut -d' ' -f1)

spid=""
# start_server NAME ARGS...: a server in the server namespace, its pid in $spid.
start_server() {
	name=$1
	shift
	ns_server "$name" 120 -www "$tmp/www" -port 6121 "$@"
}
xdp_left() { "$@" ip -o link show | grep -c " xdp\|prog/xdp"; }

# fetch NAME URLPATH ARGS...: the client in its namespace; body to $tmp/NAME.body.
fetch() {
	name=$1
	url=$2
	shift 2
	in_c timeout 60 "$BIN/mpq-client" -k --no-progress --json -o "$tmp/$name.body" "$@" \
		"$url" >"$tmp/$name.json" 2>"$tmp/$name.err"
}
same() { [ "$(sha256sum <"$tmp/$1.body" | cut -d' ' -f1)" = "$2" ]; }
goodput() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["goodput_mbps"])' "$1" 2>/dev/null; }

# ---- (a) xdp both ends ----
if start_server a --io xdp -n xs1 -v; then
	mode=$(grep "^path I/O" "$tmp/a.out")
	if fetch a https://10.66.1.2:6121/big --io xdp && same a "$sha_big"; then
		ok "(a) 50 MB byte-exact, xdp both ends: $(goodput "$tmp/a.json") Mbit/s ($mode)"
	else
		not_ok "(a) 50 MB, xdp both ends" "$(tail -n 3 "$tmp/a.err")" "$(tail -n 3 "$tmp/a.err")"
	fi
	# ---- (e) the rest of the interface still works ----
	if in_c sh -c 'echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range' &&
		in_c timeout 10 python3 "$(dirname "$0")/icmp_echo.py" 10.66.1.2 >"$tmp/ping" 2>&1; then
		ok "(e) ICMP echo through the interface with the steering program ($(cat "$tmp/ping"))"
	else
		not_ok "(e) ping" "$(tail -n 2 "$tmp/ping")"
	fi
	in_s timeout 60 python3 -m http.server 8080 --bind 10.66.1.2 -d "$tmp/www" \
		>"$tmp/http.log" 2>&1 &
	hpid=$!
	pids="$pids $hpid"
	cat >"$tmp/echo.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(30)
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
EOF
	in_s timeout 60 python3 "$tmp/echo.py" 10.66.1.2 7000 >/dev/null 2>&1 &
	epid=$!
	# Our port at a second address of the interface, not the server's: the
	# steering program leaves it to the kernel.
	in_s ip addr add 10.66.1.3/24 dev xs1
	in_s timeout 60 python3 "$tmp/echo.py" 10.66.1.3 6121 >/dev/null 2>&1 &
	e2pid=$!
	pids="$pids $epid $e2pid"
	cat >"$tmp/get.py" <<'EOF'
import hashlib, socket, sys, time, urllib.request
for _ in range(50):
    try:
        body = urllib.request.urlopen("http://10.66.1.2:8080/small", timeout=5).read()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("tcp: no answer")
print(hashlib.sha256(body).hexdigest())
EOF
	# udp.py ADDR PORT [quic]: "quic" makes the datagrams look like short
	# header packets to a CID of ours (worker 0), which the program steers
	# when they are for the server.
	cat >"$tmp/udp.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
head = b"\x43\x07\x00" if sys.argv[3:] == ["quic"] else b""
for i in range(20):
    s.sendto(head + b"hello %d" % i, (sys.argv[1], int(sys.argv[2])))
    try:
        if s.recvfrom(2048)[0] == head + b"hello %d" % i:
            print("echoed")
            break
    except OSError:
        pass
EOF
	got=$(in_c timeout 20 python3 "$tmp/get.py" 2>&1)
	if [ "$got" = "$(sha256sum <"$tmp/www/small" | cut -d' ' -f1)" ]; then
		ok "(e) TCP (python3 http.server) on the same interface: 1 MB intact"
	else
		not_ok "(e) TCP on the same interface" "$got"
	fi
	got=$(in_c timeout 20 python3 "$tmp/udp.py" 10.66.1.2 7000 2>&1)
	if [ "$got" = echoed ]; then
		ok "(e) another UDP service (port 7000) on the same interface"
	else
		not_ok "(e) another UDP service" "$got"
	fi
	got=$(in_c timeout 20 python3 "$tmp/udp.py" 10.66.1.3 6121 quic 2>&1)
	if [ "$got" = echoed ]; then
		ok "(e) a UDP service on the server's port at another address of the interface"
	else
		not_ok "(e) the server's port at another address" "$got"
	fi
	kill "$hpid" "$epid" "$e2pid" 2>/dev/null
	wait "$hpid" "$epid" "$e2pid" 2>/dev/null
	in_s ip addr del 10.66.1.3/24 dev xs1
	# ---- (f) clean exit ----
	before=$(xdp_left in_s)
	stop_server
	left=$(xdp_left in_s)
	if [ "$src" = 0 ] && [ "$before" = 1 ] && [ "$left" = 0 ] &&
		grep -aq "steering program: redirected" "$tmp/a.err"; then
		ok "(f) SIGTERM: exit 0, the XDP program detached (-v: $(grep -ao 'steering program: redirected [0-9]*' "$tmp/a.err"))"
	else
		not_ok "(f) SIGTERM: exit $src, XDP programs before $before, after $left" \
			"$(tail -n 3 "$tmp/a.err")"
	fi
	left=$(xdp_left in_c)
	if [ "$left" = 0 ]; then
		ok "(f) the client left no XDP program"
	else
		not_ok "(f) the client left $left XDP program(s)"
	fi
else
	not_ok "(a) xdp server starts" "$(cat "$tmp/a.out" "$tmp/a.err")"
fi

# small_xdp NAME WHAT URL WANT SERVER-ARGS...: a server with SERVER-ARGS whose
# "path I/O" line has WANT in it, and 1 MB from it byte-exact with --io xdp.
small_xdp() {
	name=$1
	what=$2
	url=$3
	want=$4
	shift 4
	if ! start_server "$name" --io xdp "$@"; then
		not_ok "$what: the xdp server starts" "$(cat "$tmp/$name.out" "$tmp/$name.err")"
		return
	fi
	mode=$(grep "^path I/O" "$tmp/$name.out")
	if echo "$mode" | grep -q "$want" && fetch "$name" "$url" --io xdp &&
		same "$name" "$(sha256sum <"$tmp/www/small" | cut -d' ' -f1)"; then
		ok "$what: 1 MB byte-exact, xdp both ends ($mode)"
	else
		not_ok "$what, xdp both ends ($mode)" "$(tail -n 3 "$tmp/$name.err")"
	fi
	stop_server
}

# ---- IPv6 ----
small_xdp a6 "(a) IPv6" "https://[fd66:1::2]:6121/small" "xdp" --addr "[fd66:1::2]"

# ---- (b) xdp server, udp client; (c) udp server, xdp client ----
for c in "b xdp udp" "c udp xdp"; do
	set -- $c
	if start_server "$1" --io "$2" -n xs1; then
		if fetch "$1" https://10.66.1.2:6121/big --io "$3" && same "$1" "$sha_big"; then
			ok "($1) 50 MB byte-exact, $2 server, $3 client: $(goodput "$tmp/$1.json") Mbit/s"
		else
			not_ok "($1) $2 server, $3 client" "$(tail -n 3 "$tmp/$1.err")"
		fi
		stop_server
	else
		not_ok "($1) $2 server starts" "$(cat "$tmp/$1.out" "$tmp/$1.err")"
	fi
done

# ---- (d) multipath over two xdp interfaces ----
if start_server d --io xdp -n xs1,xs2 -sc rr; then
	if fetch d https://10.66.1.2:6121/big --io xdp -n xc1,xc2 -mip 10.66.2.2:6121 -sc rr &&
		same d "$sha_big" &&
		shares=$(python3 - "$tmp/d.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
got = [p["bytes_received"] for p in d["paths"] if p["state"] == "active"]
total = sum(got)
if len(got) < 2 or min(got) < 0.2 * total:
    sys.exit("paths: %s" % got)
print(" / ".join("%.0f %%" % (100.0 * g / total) for g in got))
EOF
		); then
		ok "(d) multipath over xc1,xc2 with xdp: 50 MB byte-exact, shares $shares, $(goodput "$tmp/d.json") Mbit/s"
	else
		not_ok "(d) multipath over two xdp interfaces" "$(tail -n 3 "$tmp/d.err")" \
			"$(head -c 600 "$tmp/d.json")"
	fi
	stop_server
	left=$(xdp_left in_s)
	[ "$src" = 0 ] && [ "$left" = 0 ] && ok "(f) SIGTERM: exit 0, no XDP program left on xs1, xs2" ||
		not_ok "(f) SIGTERM: exit $src, $left XDP program(s) left on xs1, xs2"
else
	not_ok "(d) xdp server on two interfaces starts" "$(cat "$tmp/d.out" "$tmp/d.err")"
fi

# ---- (g) a crashed server's program is replaced ----
if start_server g1 --io xdp -n xs1; then
	kill -KILL $(cat "/proc/$spid/task/$spid/children") 2>/dev/null
	wait "$spid" 2>/dev/null
	src=none
	before=$(xdp_left in_s)
	if [ "$before" = 1 ] && start_server g2 --io xdp -n xs1 &&
		fetch g https://10.66.1.2:6121/small --io udp && stop_server &&
		[ "$src" = 0 ] && [ "$(xdp_left in_s)" = 0 ] &&
		grep -aq "left there by an earlier run" "$tmp/g2.err"; then
		ok "(g) a program left by SIGKILL is replaced, then detached on SIGTERM"
	else
		not_ok "(g) replacing a left-over program: before $before, server exit $src" \
			"$(cat "$tmp/g2.err" "$tmp/g.err" 2>/dev/null)" \
			"$(in_s ip -o link show xs1)"
	fi
else
	not_ok "(g) xdp server starts" "$(cat "$tmp/g1.err")"
fi

# ---- (h) jumbo MTU: the program stays native ----
in_c ip link set xc2 mtu 9000 && in_s ip link set xs2 mtu 9000
small_xdp h "(h) MTU 9000" https://10.66.2.2:6121/small "program native" -n xs2

# ---- (i) busy polling ----
small_xdp i "(i) --busy-poll 50" https://10.66.1.2:6121/small "busy poll" -n xs1 --busy-poll 50

# ---- usage ----
in_c timeout 10 "$BIN/mpq-client" --io xdp https://127.0.0.1:6121/x >/dev/null 2>"$tmp/u.err"
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/u.err")" = 1 ] && grep -q "loopback" "$tmp/u.err"; then
	ok "--io xdp on loopback: exit 2, one line ($(cat "$tmp/u.err"))"
else
	not_ok "--io xdp on loopback: exit $rc (want 2)" "$(cat "$tmp/u.err")"
fi

finish
