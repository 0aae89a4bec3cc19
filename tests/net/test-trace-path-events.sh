#!/bin/sh
# Path events in mpq-trace's summary and qlog, as root: a client and a server
# namespace joined by two veth pairs (10.81.1.0/24, 10.81.2.0/24), each
# direction to the client at 40 Mbit/s so that a 6 MB fetch lasts about a
# second; the client captures with --pcap (secrets inside, no key log).
#   (a) --abandon-path 200: the client abandons path 1 200 ms after the
#       handshake, mid-transfer. The capture decrypts fully; each path's
#       packets and bytes equal the client's --json counters; summary --json
#       gives path 1 an abandoned_ms (path 0 none) 200 ms or a little more
#       after the handshake (from the server's first Handshake packet to the
#       client's Finished); the qlog has the client's PATH_ABANDON
#       frame naming path 1 and, at the same time, path 1's tuple abandoned
#       (quic:tuple_assigned without endpoints); path 1 carried stream data
#       before, path 0 after; the text summary says "abandoned".
#   (b) --backup-path 200: summary gives path 1 a backup_ms (and no
#       abandoned_ms) as long after the handshake, the qlog the
#       PATH_STATUS_BACKUP frame at that time, and path 1 carries next to no
#       stream data from 200 ms after it while path 0 carries the rest.
#   (c) the qvis form of both qlogs is what qvis loads (tests/net/qvis_check.py).
# Exit 77 (skipped) without root, ip, tc or python3.
#   tests/net/test-trace-path-events.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools ip tc python3 timeout
two_namespaces tpe
veth_pairs pec pes 81 2
for i in 1 2; do
	in_s tc qdisc add dev "pes$i" root tbf rate 40mbit burst 64kb latency 50ms
done
TRACE="$BIN/mpq-trace"
CHECK="$(dirname "$0")/qvis_check.py"

mkdir "$tmp/www"
in_s "$BIN/mpq-server" --addr 10.81.1.2,10.81.2.2 -port 4433 -www "$tmp/www" --io udp \
	>"$tmp/server.out" 2>&1 &
pids="$pids $!"
wait_lines 2 "^listening on " "$tmp/server.out"

# events.py SUMMARY CLIENT QLOGDIR EVENT: the checks of (a) (EVENT abandon)
# or (b) (EVENT backup); prints what it found.
cat >"$tmp/events.py" <<'PY'
import glob, json, os, sys
s, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
qdir, kind = sys.argv[3], sys.argv[4]
FLAG_MS = 200
assert s["packets"] > 0 and s["decrypted"] == s["packets"], \
    "%d of %d decrypted: %s" % (s["decrypted"], s["packets"], s["undecryptable_reasons"])
assert len(s["connections"]) == 1, "%d connections" % len(s["connections"])
conn = s["connections"][0]
assert conn["multipath"], conn
sp = {p["path_id"]: p for p in conn["paths"]}
cp = {p["path_id"]: p for p in c["paths"]}
assert sorted(sp) == sorted(cp) == [0, 1], "path IDs %s, client %s" % (sorted(sp), sorted(cp))
for i in sp:
    a, b = sp[i], cp[i]
    want = (b["packets_sent"], b["packets_received"], b["bytes_sent"], b["bytes_received"])
    got = (a["packets_to_server"], a["packets_to_client"], a["bytes_to_server"], a["bytes_to_client"])
    late = (got[1] - want[1], got[3] - want[3])
    # A packet or two of the server's reaching the client after it closed.
    assert got == want or (got[0] == want[0] and got[2] == want[2] and 0 < late[0] <= 2 and
                           late[1] < 200), "path %d: trace %s, client %s" % (i, got, want)

files = glob.glob(os.path.join(qdir, "*.sqlog"))
assert len(files) == 1, files
ev = [json.loads(r) for r in open(files[0], "rb").read().split(b"\x1e")[2:]]
pk = [e for e in ev if e["name"] in ("quic:packet_sent", "quic:packet_received")]
# The client's handshake ends between the server's first Handshake packet
# (its Finished may be in it) and the client's own first one (Finished).
def first(name):
    return min(e["time"] for e in pk if e["name"] == name and
               e["data"]["header"]["packet_type"] == "handshake")
hs_lo, fin = first("quic:packet_received"), first("quic:packet_sent")
ftype = "path_abandon" if kind == "abandon" else "path_status_backup"
frames = [(e["time"], f) for e in pk if e["name"] == "quic:packet_sent"
          for f in e["data"].get("frames", []) if f["frame_type"] == ftype]
assert frames and all(f["path_id"] == 1 for _, f in frames), "%s frames: %s" % (ftype, frames)
t = frames[0][0]
key, other = ("abandoned_ms", "backup_ms") if kind == "abandon" else ("backup_ms", "abandoned_ms")
assert sp[0][key] is None and sp[1][other] is None, (sp[0], sp[1])
assert sp[1][key] is not None and abs(sp[1][key] - t) < 0.002, \
    "summary %s %s, qlog's first %s at %.3f ms" % (key, sp[1][key], ftype, t)
assert hs_lo + FLAG_MS - 2 <= t <= fin + FLAG_MS + 800, \
    "%s at %.1f ms, the handshake ended between %.1f and %.1f ms, the flag says %d" % (
        ftype, t, hs_lo, fin, FLAG_MS)

def stream_bytes(path, since, until=float("inf")):
    return sum(f["raw"]["length"] if "raw" in f else f.get("length", 0)
               for e in pk if e["name"] == "quic:packet_received" and e["data"].get("path_id") == path
               and since <= e["time"] < until
               for f in e["data"].get("frames", []) if f["frame_type"] == "stream")

before = stream_bytes(1, 0, t)
after0, after1 = stream_bytes(0, t + 200), stream_bytes(1, t + 200)
assert before > 0, "path 1 carried no stream data before the %s" % ftype
assert after0 > 1000000, "path 0 carried %d stream bytes after the %s" % (after0, ftype)
if kind == "abandon":
    ends = [e for e in ev if e["name"] == "quic:tuple_assigned" and e["data"]["tuple_id"] == "1"]
    assert len(ends) == 2 and "tuple_local" in ends[0]["data"], ends
    assert ends[1]["data"] == {"tuple_id": "1"} and abs(ends[1]["time"] - t) < 0.002, ends[1]
    assert after1 == 0, "path 1 carried %d stream bytes 200 ms after it was abandoned" % after1
else:
    assert after1 * 20 < after0, "path 1 carried %d stream bytes after backup, path 0 %d" % (after1, after0)
print("%s at %.1f ms (%.1f ms after the server's first Handshake packet, %.1f after the client's "
      "Finished); stream bytes to the client on path 1 "
      "before %d, from 200 ms after it on path 0 %d, path 1 %d; path counters as the client's" %
      (ftype, t, t - hs_lo, t - fin, before, after0, after1))
PY

# run NAME CLIENT-ARGS...: a 6 MB fetch over both paths with the client's
# --pcap, then summary --json and text, qlog and qlog --format qvis.
run() {
	name=$1
	shift
	in_c timeout 60 "$BIN/mpq-client" -k --no-progress --json --io udp --discard \
		-n pec1,pec2 -mip 10.81.2.2:4433 --pcap "$tmp/$name.pcapng" "$@" \
		https://10.81.1.2:4433/6000000 >"$tmp/$name.json" 2>"$tmp/$name.err" &&
		mkdir "$tmp/$name.q" "$tmp/$name.qv" &&
		"$TRACE" summary "$tmp/$name.pcapng" --json >"$tmp/$name.sum" 2>>"$tmp/$name.err" &&
		"$TRACE" summary "$tmp/$name.pcapng" >"$tmp/$name.txt" 2>>"$tmp/$name.err" &&
		"$TRACE" qlog "$tmp/$name.pcapng" -o "$tmp/$name.q" 2>>"$tmp/$name.err" &&
		"$TRACE" qlog "$tmp/$name.pcapng" -o "$tmp/$name.qv" --format qvis 2>>"$tmp/$name.err"
}

for kind in abandon backup; do
	label=$([ "$kind" = abandon ] && echo "(a) --abandon-path 200" || echo "(b) --backup-path 200")
	if run "$kind" "--$kind-path" 200 &&
		python3 "$tmp/events.py" "$tmp/$kind.sum" "$tmp/$kind.json" "$tmp/$kind.q" "$kind" \
			>"$tmp/$kind.check" 2>&1; then
		ok "$label: $(cat "$tmp/$kind.check")"
	else
		not_ok "$label" "$(cat "$tmp/$kind.err" "$tmp/$kind.check" 2>/dev/null | tail -5)"
	fi
	if python3 "$CHECK" "$tmp/$kind.qv"/*.qlog >"$tmp/$kind.qvis" 2>&1; then
		ok "(c) qvis loads the qlog of $label: $(sed 's/^[^:]*: //' "$tmp/$kind.qvis")"
	else
		not_ok "(c) qvis loads the qlog of $label" "$(cat "$tmp/$kind.qvis")"
	fi
done
if grep -q "abandoned" "$tmp/abandon.txt" && grep -q "backup" "$tmp/backup.txt"; then
	ok "(a, b) the text summaries name the abandonment and the backup"
else
	not_ok "(a, b) the text summaries name the abandonment and the backup" \
		"$(grep -i path "$tmp/abandon.txt" "$tmp/backup.txt" | head -8)"
fi
finish
