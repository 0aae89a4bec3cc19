#!/bin/sh
# Multipath end to end, as root: a client namespace and a server namespace
# joined by two veth pairs (10.77.1.0/24 + fd77:1::/64, 10.77.2.0/24 +
# fd77:2::/64), the server listening on its address of each. Cases:
#   (a) -n vc1,vc2 -mip: a 50 MB generated body over two IPv4 paths,
#       byte-exact (sha256 of the documented pattern), each path carrying
#       at least 20 % of it;
#   (b) the same over IPv6;
#   (c) -fmp: two paths over one interface, both used;
#   (d) server --advertise, no -mip: the client opens the second path itself;
#   (e) (after f) one path's veth taken down mid-transfer of 1 GB: the fetch still
#       completes byte-exact and that path ends failed or abandoned;
#   (f) path events: with -v, --backup-path 50:100 and --abandon-path 150 the
#       client prints path 1 validated (with its addresses), backup and
#       available again by us, abandoned by us, in that order, and --json
#       lists the same events; a -v server prints them as the peer's.
# The servers use -sc rr: on two equal links minrtt may leave a path nearly
# idle (its shares are printed as an "info" line, not checked). Links are
# shaped with tbf where the kernel has it, so that (e) is surely mid-transfer.
# Every command runs under a time limit; the namespaces (and the veth pairs
# in them) are deleted on any exit. Exit 77 (skipped) without root or ip.
# Prints "N passed, N failed" last.
#   tests/net/test-multipath-veth.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools ip python3 timeout
two_namespaces mpq

# ---- topology ----
veth_pairs vc vs 77 2 v6
shaped=no
if in_s tc qdisc add dev vs1 root tbf rate 400mbit burst 256kb latency 20ms 2>/dev/null &&
	in_s tc qdisc add dev vs2 root tbf rate 400mbit burst 256kb latency 20ms 2>/dev/null; then
	shaped="400 Mbit/s per link (tbf)"
fi

# ---- servers: rr (a, b, c, e), rr --advertise (d), minrtt (info) ----
addrs="10.77.1.2,10.77.2.2,[fd77:1::2],[fd77:2::2]"
mkdir "$tmp/www"
start_server() { # NAME PORT ARGS...
	out=$1 port=$2
	shift 2
	# Not through in_s: $! of a shell function in the background is a
	# subshell's, and killing that would leave the server running.
	ip netns exec "$sns" "$BIN/mpq-server" --addr "$addrs" -port "$port" -www "$tmp/www" \
		"$@" >"$tmp/$out.out" 2>"$tmp/$out.err" &
	pids="$pids $!"
}
start_server rr 4433 -sc rr
start_server adv 4434 -sc rr --advertise
start_server minrtt 4435
start_server ev 4436 -sc rr -v
for _ in $(seq 50); do
	n=$(cat "$tmp/rr.out" "$tmp/adv.out" "$tmp/minrtt.out" "$tmp/ev.out" |
		grep -c "^listening on ")
	[ "$n" = 16 ] && break
	sleep 0.1
done
if [ "$n" = 16 ] && grep -q "^announcing 10.77.2.2:4434$" "$tmp/adv.out"; then
	ok "four servers listen on both links, IPv4 and IPv6; --advertise announces"
else
	not_ok "servers start" "$(cat "$tmp"/*.out "$tmp"/*.err)"
	finish
fi

sha50=$(want_sha 50000000)
# (e): 975 MB left after the link goes down at 25 MB, 8 s or more over the
# other link (AF_XDP sends past tbf: up to 1 Gbit/s): time for its PTOs to
# run out (100 and 300 MB ended first, 1.5 and 2.4 s; the path still active).
ebytes=1000000000
shae=$(want_sha $ebytes)

# check.py JSON BYTES SHA PATHS MIN_SHARE DEAD: the fetch ok and byte-exact,
# PATHS paths, each with MIN_SHARE of the bytes received; the path on
# interface DEAD ended failed or abandoned and the others active (DEAD "-":
# all active). Prints the shares (or what is wrong).
cat >"$tmp/check.py" <<'EOF'
import json, sys
f, size, sha, npaths, share, dead = sys.argv[1:7]
j = json.load(open(f))
u, paths = j["urls"][0], j["paths"]
assert u["status"] == "ok" and u["bytes"] == int(size), "url: %s" % u
assert u["sha256"] == sha, "sha256 %s, want %s" % (u["sha256"], sha)
assert j["multipath"] is True, "multipath not negotiated"
assert len(paths) == int(npaths), "%d paths, want %s: %s" % (len(paths), npaths, paths)
total = sum(p["bytes_received"] for p in paths)
shares = ["%s %s %.0f%% %s" % (p["iface"], p["remote"], 100.0 * p["bytes_received"] / total,
                               p["state"]) for p in paths]
for p in paths:
    assert p["bytes_received"] >= float(share) * total, "shares: %s" % shares
for p in paths:
    want = ("failed", "abandoned") if p["iface"] == dead else ("active",)
    assert p["state"] in want, "%s: %s, want %s" % (p["iface"], p["state"], " or ".join(want))
print("%s; %.0f Mbit/s" % (", ".join(shares), j["goodput_mbps"]))
EOF

# fetch NAME ARGS...: the client with a time limit, --json into $tmp/NAME.json.
fetch() {
	out=$1
	shift
	in_c timeout 60 "$BIN/mpq-client" -k --no-progress --json "$@" >"$tmp/$out.json" \
		2>"$tmp/$out.err"
}

# case NAME BYTES SHA PATHS MIN_SHARE DEAD -- ARGS...
case_run() {
	name=$1 bytes=$2 sha=$3 npaths=$4 share=$5 dead=$6
	shift 7
	fetch c "$@"
	rc=$?
	if [ "$rc" = 0 ] && python3 "$tmp/check.py" "$tmp/c.json" "$bytes" "$sha" "$npaths" \
		"$share" "$dead" >"$tmp/c.check" 2>&1; then
		ok "$name: $(cat "$tmp/c.check")"
	else
		not_ok "$name" "exit $rc: $(grep -v "WARNING: --insecure" "$tmp/c.err" | head -c 600)" \
			"$(tail -n 1 "$tmp/c.check" 2>/dev/null)" "$(head -c 1500 "$tmp/c.json")"
	fi
}

case_run "(a) two IPv4 paths, -n vc1,vc2 -mip" 50000000 "$sha50" 2 0.2 - -- \
	-n vc1,vc2 -mip 10.77.2.2:4433 --discard https://10.77.1.2:4433/50000000
case_run "(b) two IPv6 paths, -n vc1,vc2 -mip" 50000000 "$sha50" 2 0.2 - -- \
	-n vc1,vc2 -mip "[fd77:2::2]:4433" --discard "https://[fd77:1::2]:4433/50000000"
case_run "(c) -fmp: two paths on vc1" 50000000 "$sha50" 2 0.2 - -- \
	-n vc1 -fmp --discard https://10.77.1.2:4433/50000000
case_run "(d) --advertise, no -mip: second path opened by the client" 50000000 "$sha50" 2 0 - -- \
	--discard https://10.77.1.2:4434/50000000

# minrtt on two equal links: what it does, for the record.
if fetch minrtt -n vc1,vc2 -mip 10.77.2.2:4435 --discard https://10.77.1.2:4435/50000000 &&
	python3 "$tmp/check.py" "$tmp/minrtt.json" 50000000 "$sha50" 2 0 - >"$tmp/minrtt.check" 2>&1
then
	echo "info minrtt on two equal links: $(cat "$tmp/minrtt.check")"
else
	not_ok "minrtt on two equal links" "$(cat "$tmp/minrtt.err" "$tmp/minrtt.check")"
fi

# ---- (f) path events on stderr (-v) and in --json ----
name="(f) path events"
fetch f -v -n vc1,vc2 -mip 10.77.2.2:4436 --backup-path 50:100 --abandon-path 150 \
	--discard https://10.77.1.2:4436/300000000
rc=$?
# The lines of one side's path 1 events, in order, without the program name.
events() { # FILE
	sed -n 's/^mpq-[a-z]*: \(path 1: \(validated\|backup (\|available (\|abandoned\|failed\).*\)/\1/p' "$1"
}
cat >"$tmp/f.want" <<'EOF'
path 1: validated, 10.77.2.1:PORT -> 10.77.2.2:4436
path 1: backup (by us)
path 1: available (by us)
path 1: abandoned by us, error 0x0
EOF
events "$tmp/f.err" | sed 's/^\(path 1: validated, 10\.77\.2\.1:\)[0-9]*/\1PORT/' >"$tmp/f.got"
python3 - "$tmp/f.json" >"$tmp/f.check" 2>&1 <<'EOF'
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["path_events"] if e["path_id"] == 1]
got = [(e["event"], e.get("by"), e.get("error")) for e in ev]
want = [("validated", None, None), ("backup", "us", None), ("available", "us", None),
        ("abandoned", "us", 0)]
assert got == want, "path_events %s, want %s" % (got, want)
assert ev[0]["local"].startswith("10.77.2.1:") and ev[0]["remote"] == "10.77.2.2:4436", ev[0]
print("%d events, path 1 validated at %.1f ms" % (len(ev), ev[0]["ms"]))
EOF
if [ "$rc" = 0 ] && cmp -s "$tmp/f.want" "$tmp/f.got" && [ -s "$tmp/f.check" ] &&
	! grep -q Error "$tmp/f.check"; then
	ok "$name: the client prints and reports them ($(cat "$tmp/f.check"))"
else
	not_ok "$name" "exit $rc; got: $(cat "$tmp/f.got")" "$(cat "$tmp/f.check")" \
		"$(grep -v "WARNING: --insecure" "$tmp/f.err" | head -c 800)"
fi
# The server's lines for the peer's abandon may come a moment after the client exits.
for _ in $(seq 20); do
	grep -q "path 1: abandoned" "$tmp/ev.err" && break
	sleep 0.1
done
cat >"$tmp/fs.want" <<'EOF'
path 1: validated, 10.77.2.2:4436 -> 10.77.2.1:PORT
path 1: backup (by the peer)
path 1: available (by the peer)
path 1: abandoned by the peer, error 0x0
EOF
events "$tmp/ev.err" | sed 's/\(-> 10\.77\.2\.1:\)[0-9]*$/\1PORT/' >"$tmp/fs.got"
if cmp -s "$tmp/fs.want" "$tmp/fs.got"; then
	ok "$name: the -v server prints the client's as the peer's"
else
	not_ok "$name: server" "got: $(cat "$tmp/fs.got")" "$(head -c 800 "$tmp/ev.err")"
fi

# ---- (e) vc2 down once 25 MB of 1 GB have arrived ----
name="(e) vc2 down mid-transfer"
ip netns exec "$cns" timeout 60 "$BIN/mpq-client" -k --no-progress --json -n vc1,vc2 \
	-mip 10.77.2.2:4433 -o "$tmp/e.body" https://10.77.1.2:4433/$ebytes >"$tmp/e.json" \
	2>"$tmp/e.err" &
cpid=$!
pids="$pids $cpid"
size=0
for _ in $(seq 3000); do
	# The body grows in the client's temporary beside e.body until it is whole.
	size=$(stat -c %s "$tmp"/.e.body.mpq-* 2>/dev/null | head -n 1)
	size=${size:-0}
	[ "$size" -ge 25000000 ] && break
	kill -0 "$cpid" 2>/dev/null || break
	sleep 0.01
done
in_c ip link set vc2 down
wait "$cpid"
rc=$?
pids=${pids% "$cpid"}
if [ "$size" -ge "$ebytes" ]; then
	not_ok "$name" "the transfer was over before vc2 went down ($size bytes): nothing shown"
elif [ "$rc" = 0 ] && [ "$(stat -c %s "$tmp/e.body")" = "$ebytes" ] &&
	python3 "$tmp/check.py" "$tmp/e.json" "$ebytes" "$shae" 2 0 vc2 >"$tmp/e.check" 2>&1 &&
	[ "$(sha256sum <"$tmp/e.body" | cut -d' ' -f1)" = "$shae" ]; then
	ok "$name at $size bytes: $(cat "$tmp/e.check")"
else
	not_ok "$name (at $size bytes)" "exit $rc: $(head -c 600 "$tmp/e.err")" \
		"$(tail -n 1 "$tmp/e.check" 2>/dev/null)" "$(head -c 1500 "$tmp/e.json")"
fi
rm -f "$tmp/e.body"
echo "info links: $shaped"

finish
