#!/bin/sh
# mpq-trace against real captures, as root: a client namespace and a server
# namespace joined by two veth pairs (10.79.1.0/24, 10.79.2.0/24), traffic
# captured with dumpcap on the client's veths, keys from SSLKEYLOGFILE.
#   (a) one path, no multipath, GSO off: mpq-trace decrypts as many QUIC
#       packets as tshark, counts each frame type and retransmitted STREAM
#       bytes (per direction) as tshark's frames give them; its
#       per-path counters equal the client's --json ones;
#   (b) two paths, GSO on (super-datagrams in the capture): every packet
#       decrypted, path IDs 0 and 1, each path's packets and UDP payload
#       bytes each way equal to the client's --json counters; summary
#       --plot: an SVG and a PNG (signature) per plot when gnuplot is
#       installed, the data files' 100 ms bins add up to the summary's
#       per-path bytes exactly, RTT samples on each path, the new stream
#       bytes those of the response and request; without gnuplot the data
#       and scripts and a line saying gnuplot is needed;
#   (c) the key log embedded as a Decryption Secrets Block (editcap), the
#       capture zstd-compressed: the same result without --keylog; and the
#       client's own --pcap capture of two paths (its default path I/O,
#       AF_XDP on veth) gives its --json counters without a key log;
#   (d) a truncated capture, frames cut by a snap length, a file that is not
#       a capture, wrong keys, keys for only one of two connections: one
#       clear line each, exit 2 only
#       where nothing could be read, everything else still decrypted;
#   (f) mpq-trace qlog of (b), of (b) with wrong keys and of the two
#       connections: one file per connection named by its ODCID, as many
#       packet events as packets (undecryptable ones as packet_dropped with
#       the reason), path_id and a tuple_assigned per path; --format qvis
#       the same events as one qlog 0.3 JSON document that qvis loads
#       (qvis_check.py);
#   (e) picoquicdemo transfers decrypt fully: multipath; multipath with QUIC
#       v2, ChaCha20 and key updates (the generations followed); Retry;
#       when ../shared/peers/picoquicdemo (or $PICOQUICDEMO) is there.
# Exit 77 (skipped) without root, ip, dumpcap or tshark. Prints
# "N passed, N failed" last.
#   tests/net/test-mpq-trace.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools ip python3 timeout dumpcap tshark editcap zstd
two_namespaces trc
veth_pairs vc vs 79 2
# The server's links at 300 Mbit/s (tbf, a burst above 64 KB so that GSO
# super-datagrams pass whole): unshaped, an idle machine moved 8 MB in
# 0.03 s and dumpcap dropped a quarter of it, five times in a row.
for i in 1 2; do
	in_s tc qdisc replace dev "vs$i" root tbf rate 300mbit burst 256k latency 100ms ||
		{ not_ok "tbf on vs$i"; finish; }
done
TRACE="$BIN/mpq-trace"

mkdir "$tmp/www"
ip netns exec "$sns" env SSLKEYLOGFILE="$tmp/server.keys" "$BIN/mpq-server" \
	--addr 10.79.1.2,10.79.2.2 -port 4433 -www "$tmp/www" --io udp \
	>"$tmp/server.out" 2>&1 &
pids="$pids $!"
wait_lines 2 "^listening on " "$tmp/server.out"

# capture NAME IFACES CLIENT-ARGS...: one fetch with dumpcap running on the
# client's IFACES (comma-separated) into $tmp/NAME.pcapng, the client's
# --json in $tmp/NAME.json and its key log in $tmp/NAME.keys.
capture() {
	cname=$1
	ifs=$(echo "$2" | sed 's/\([^,]*\)/-i \1/g; s/,/ /g')
	shift 2
	# shellcheck disable=SC2086
	ip netns exec "$cns" dumpcap -q -B 64 $ifs -w "$tmp/$cname.pcapng" \
		>"$tmp/$cname.dumpcap" 2>&1 &
	dpid=$!
	for _ in $(seq 50); do
		grep -q "Capturing on" "$tmp/$cname.dumpcap" && break
		sleep 0.1
	done
	sleep 0.5
	in_c env SSLKEYLOGFILE="$tmp/$cname.keys" timeout 60 "$BIN/mpq-client" -k --no-progress \
		--json --io udp --discard "$@" >"$tmp/$cname.json" 2>"$tmp/$cname.err"
	rc=$?
	sleep 0.5
	kill "$dpid" && wait "$dpid"
	return $rc
}

# capture_whole NAME IFACES CLIENT-ARGS...: capture, again (five tries)
# while dumpcap says it dropped packets: counters compare only on a whole
# capture, and this machine may be busy.
capture_whole() {
	for _ in 1 2 3 4 5; do
		capture "$@" || return
		! grep "received/dropped" "$tmp/$1.dumpcap" | grep -qv "/0 (" && return 0
		echo "info $1: dumpcap dropped packets, capturing again"
	done
	return 1
}

# compare.py SUMMARY CLIENT PATHS QLOGDIR: every packet decrypted, PATHS
# paths, each path's counters equal to the client's; paths after the first
# opened and then validated (path events). The server's packets captured
# after the client's CONNECTION_CLOSE (mpq-trace's qlog in QLOGDIR) reached a
# client that had stopped reading: the client's received counters plus
# exactly those, which are printed.
cat >"$tmp/compare.py" <<'PY'
import glob, json, sys
s, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
npaths = int(sys.argv[3])
assert s["packets"] > 0 and s["decrypted"] == s["packets"], \
    "%d of %d decrypted: %s" % (s["decrypted"], s["packets"], s["undecryptable_reasons"])
assert len(s["connections"]) == 1, "%d connections" % len(s["connections"])
conn = s["connections"][0]
assert conn["alpn"] == "hq-interop" and conn["multipath"] == (npaths > 1), conn
sp = {p["path_id"]: p for p in conn["paths"]}
cp = {p["path_id"]: p for p in c["paths"]}
assert sorted(sp) == sorted(cp) == list(range(npaths)), "path IDs %s, client %s" % (sorted(sp), sorted(cp))
files = glob.glob(sys.argv[4] + "/*.sqlog")
assert len(files) == 1, files
ev = [json.loads(r) for r in open(files[0], "rb").read().split(b"\x1e")[2:]]
closes = [e["time"] for e in ev if e["name"] == "quic:packet_sent" and
          any(f["frame_type"] == "connection_close" for f in e["data"].get("frames", []))]
assert closes, "no CONNECTION_CLOSE from the client"
late = {i: [0, 0] for i in sp}
for e in ev:
    if e["name"] == "quic:packet_received" and e["time"] > min(closes):
        late[e["data"].get("path_id", 0)][0] += 1
        late[e["data"].get("path_id", 0)][1] += e["data"]["raw"]["length"]
for i in sp:
    a, b = sp[i], cp[i]
    assert b["local"] == a["client"] and b["remote"] == a["server"], (a, b)
    if i > 0:  # a path the client opened: validated by PATH_RESPONSE after it opened
        assert a["opened_ms"] > 0 and a["validated_ms"] is not None and \
            a["validated_ms"] >= a["opened_ms"], a
    want = (b["packets_sent"], b["packets_received"] + late[i][0], b["bytes_sent"],
            b["bytes_received"] + late[i][1])
    got = (a["packets_to_server"], a["packets_to_client"], a["bytes_to_server"], a["bytes_to_client"])
    assert got == want, "path %d: trace %s, client %s with %s after its close" % (i, got, want, late[i])
    if late[i][0]:
        print("info path %d: %d packet(s), %d bytes to the client after its close;" % (i, *late[i]), end=" ")
print("; ".join("path %d: %d+%d packets, %d+%d bytes" % (i, sp[i]["packets_to_server"],
      sp[i]["packets_to_client"], sp[i]["bytes_to_server"], sp[i]["bytes_to_client"]) for i in sp))
PY

# tshark.py CAPTURE KEYS SUMMARY: QUIC packets tshark decrypted (those it
# shows a packet number for), its frame types and the STREAM bytes its frames
# repeat, against mpq-trace's.
cat >"$tmp/tshark.py" <<'PY'
import collections, json, subprocess, sys
cap, keys, summary = sys.argv[1:4]
names = {0: "padding", 1: "ping", 2: "ack", 3: "ack", 4: "reset_stream", 5: "stop_sending",
         6: "crypto", 7: "new_token", 0x10: "max_data", 0x11: "max_stream_data",
         0x12: "max_streams", 0x13: "max_streams", 0x14: "data_blocked",
         0x15: "stream_data_blocked", 0x16: "streams_blocked", 0x17: "streams_blocked",
         0x18: "new_connection_id", 0x19: "retire_connection_id", 0x1a: "path_challenge",
         0x1b: "path_response", 0x1c: "connection_close", 0x1d: "connection_close",
         0x1e: "handshake_done"}
names.update({t: "stream" for t in range(8, 16)})
out = subprocess.run(["tshark", "-r", cap, "-o", "tls.keylog_file:" + keys,
                      "-d", "udp.port==4433,quic", "-Y", "quic", "-T", "fields",
                      "-e", "quic.packet_number", "-e", "quic.frame_type",
                      "-E", "occurrence=a", "-E", "aggregator=,"],
                     capture_output=True, text=True, check=True).stdout
packets, frames = 0, collections.Counter()
for line in out.splitlines():
    pn, ft = (line.split("\t") + [""])[:2]
    packets += len([x for x in pn.split(",") if x])
    frames.update(names.get(int(x), "unknown 0x%x" % int(x)) for x in ft.split(",") if x)
s = json.load(open(summary))
assert packets > 0 and s["decrypted"] == packets, "decrypted: trace %d, tshark %d" % (s["decrypted"], packets)
assert dict(frames) == s["frames"], "frames: trace %s, tshark %s" % (s["frames"], dict(frames))
# Retransmitted STREAM bytes from tshark's frames: per direction and stream,
# bytes below the highest offset that direction already carried.
out = subprocess.run(["tshark", "-r", cap, "-o", "tls.keylog_file:" + keys,
                      "-d", "udp.port==4433,quic", "-Y", "quic.stream.stream_id", "-T", "fields",
                      "-e", "ip.src", "-e", "quic.stream.stream_id", "-e", "quic.stream.off",
                      "-e", "quic.stream.offset", "-e", "quic.stream.len", "-e", "quic.stream.length",
                      "-E", "occurrence=a", "-E", "aggregator=,"],
                     capture_output=True, text=True, check=True).stdout
ends, retx = {}, 0
for line in out.splitlines():
    src, sids, offb, offs, lenb, lens = (line.split("\t") + [""] * 6)[:6]
    offs = [int(x) for x in offs.split(",") if x]
    lens = [int(x) for x in lens.split(",") if x]
    for k, sid in enumerate(sids.split(",")):
        off = offs.pop(0) if offb.split(",")[k] in ("1", "True") else 0
        assert lenb.split(",")[k] in ("1", "True"), "a STREAM frame without a length"
        n = lens.pop(0)
        end = ends.get((src, sid), 0)
        retx += min(end, off + n) - off if off < end else 0
        ends[(src, sid)] = max(end, off + n)
got = sum(p["retransmitted_bytes"] for c in s["connections"] for p in c["paths"])
assert got == retx, "retransmitted bytes: trace %d, tshark's frames %d" % (got, retx)
print("%d packets, %d bytes retransmitted, frames %s" % (packets, retx, ", ".join("%s %d" % kv for kv in sorted(frames.items()))))
PY

# ---- (a) one path, no multipath, GSO off: as tshark sees it ----
in_c ethtool -K vc1 tx-udp-segmentation off >/dev/null 2>&1
in_s ethtool -K vs1 tx-udp-segmentation off >/dev/null 2>&1
name="(a) one path, GSO off: decrypted packets and frame types as tshark"
if capture_whole a vc1 --max-paths 0 https://10.79.1.2:4433/3000000 &&
	"$TRACE" summary "$tmp/a.pcapng" --keylog "$tmp/a.keys" --json >"$tmp/a.sum" 2>"$tmp/a.tr" &&
	python3 "$tmp/tshark.py" "$tmp/a.pcapng" "$tmp/a.keys" "$tmp/a.sum" >"$tmp/a.check" 2>&1; then
	ok "$name: $(cat "$tmp/a.check")"
else
	not_ok "$name" "$(cat "$tmp/a.err" "$tmp/a.tr" "$tmp/a.check" 2>/dev/null | tail -5)"
fi
name="(a) one path: per-path counters equal the client's"
if mkdir "$tmp/a.ql" && "$TRACE" qlog "$tmp/a.pcapng" --keylog "$tmp/a.keys" -o "$tmp/a.ql" >/dev/null 2>&1 &&
	python3 "$tmp/compare.py" "$tmp/a.sum" "$tmp/a.json" 1 "$tmp/a.ql" >"$tmp/a.cmp" 2>&1; then
	ok "$name: $(cat "$tmp/a.cmp")"
else
	not_ok "$name" "$(tail -3 "$tmp/a.cmp")"
fi
in_c ethtool -K vc1 tx-udp-segmentation on >/dev/null 2>&1
in_s ethtool -K vs1 tx-udp-segmentation on >/dev/null 2>&1

# ---- (b) two paths, GSO on ----
name="(b) two paths, GSO on: all decrypted, per-path counters equal the client's"
if capture_whole b vc1,vc2 -n vc1,vc2 -mip 10.79.2.2:4433 https://10.79.1.2:4433/8000000 &&
	"$TRACE" summary "$tmp/b.pcapng" --keylog "$tmp/b.keys" --json >"$tmp/b.sum" 2>"$tmp/b.tr" &&
	mkdir "$tmp/b.ql" && "$TRACE" qlog "$tmp/b.pcapng" --keylog "$tmp/b.keys" -o "$tmp/b.ql" >/dev/null 2>&1 &&
	python3 "$tmp/compare.py" "$tmp/b.sum" "$tmp/b.json" 2 "$tmp/b.ql" >"$tmp/b.cmp" 2>&1; then
	ok "$name: $(cat "$tmp/b.cmp")"
else
	not_ok "$name" "$(cat "$tmp/b.err" "$tmp/b.tr" "$tmp/b.cmp" "$tmp/b.dumpcap" 2>/dev/null | tail -8)"
fi
# The capture really holds GSO/GRO super-datagrams (else (b) shows nothing).
big=$(tshark -r "$tmp/b.pcapng" -Y "udp.length > 3000" 2>/dev/null | wc -l)
if [ "$big" -gt 0 ]; then
	ok "(b) the capture holds $big super-datagrams over 3000 bytes"
else
	not_ok "(b) the capture holds super-datagrams" "none over 3000 bytes"
fi

# ---- (b) --plot: throughput and RTT over time ----
# plot.py DIR SUMMARY IMAGES: per connection and path, the data files' 100 ms
# bins add up to the summary's byte counts exactly, RTT samples on every
# path, new stream bytes once the 8 MB response and the request; with IMAGES
# 1, an SVG and a PNG (by its signature) per plot, else none.
cat >"$tmp/plot.py" <<'PY'
import json, os, sys
d, s, images = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3] == "1"
out = []
for c in s["connections"]:
    h = c["odcid"]
    for what in ("throughput", "rtt"):
        assert os.path.getsize("%s/%s-%s.gp" % (d, h, what)) > 0, what
        for ext in ("svg", "png"):
            f = "%s/%s-%s.%s" % (d, h, what, ext)
            assert os.path.exists(f) == images, "%s: exists %s" % (f, os.path.exists(f))
        if images:
            assert open("%s/%s-%s.png" % (d, h, what), "rb").read(8) == b"\x89PNG\r\n\x1a\n", what
            assert b"<svg" in open("%s/%s-%s.svg" % (d, h, what), "rb").read(), what
    stream = 0
    for p in c["paths"]:
        rows = [l.split() for l in open("%s/%s-path%d.dat" % (d, h, p["path_id"])) if not l.startswith("#")]
        got = (sum(int(r[1]) for r in rows), sum(int(r[2]) for r in rows))
        want = (p["bytes_to_server"], p["bytes_to_client"])
        assert got == want, "path %d: bins %s, summary %s" % (p["path_id"], got, want)
        stream += sum(int(r[3]) for r in rows)
        rtt = [l for l in open("%s/%s-path%d-rtt.dat" % (d, h, p["path_id"])) if not l.startswith("#")]
        assert rtt, "path %d: no RTT samples" % p["path_id"]
        out.append("path %d: %d bins, %d RTT samples" % (p["path_id"], len(rows), len(rtt)))
    assert 8000000 < stream < 8000100, "new stream bytes %d" % stream
print("; ".join(out))
PY
imgs=0
command -v gnuplot >/dev/null && imgs=1 # make deps installs it
name="(b) --plot: an SVG and a PNG per plot ($imgs), bins add up to the summary's bytes"
if "$TRACE" summary "$tmp/b.pcapng" --keylog "$tmp/b.keys" --plot "$tmp/plot" >"$tmp/plot.txt" \
	2>"$tmp/plot.err" && python3 "$tmp/plot.py" "$tmp/plot" "$tmp/b.sum" $imgs >"$tmp/plot.chk" 2>&1 &&
	[ "$(grep -c "goodput per" "$tmp/plot.txt")" = 2 ]; then
	ok "$name: $(cat "$tmp/plot.chk")"
else
	not_ok "$name" "$(cat "$tmp/plot.err" "$tmp/plot.chk" 2>/dev/null | tail -5)"
fi
name="(b) --plot without gnuplot: data and scripts, and a word that gnuplot is needed"
if env PATH=/nonexistent "$TRACE" summary "$tmp/b.pcapng" --keylog "$tmp/b.keys" \
	--plot "$tmp/plot-no" >/dev/null 2>"$tmp/plot-no.err" &&
	grep -q "gnuplot is needed" "$tmp/plot-no.err" &&
	python3 "$tmp/plot.py" "$tmp/plot-no" "$tmp/b.sum" 0 >"$tmp/plot-no.chk" 2>&1; then
	ok "$name: $(cat "$tmp/plot-no.err")"
else
	not_ok "$name" "$(cat "$tmp/plot-no.err" "$tmp/plot-no.chk" 2>/dev/null | tail -5)"
fi

# ---- (c) secrets in the capture, zstd ----
name="(c) key log as a Decryption Secrets Block, zstd-compressed: same without --keylog"
if editcap --inject-secrets "tls,$tmp/b.keys" "$tmp/b.pcapng" "$tmp/c.pcapng" >"$tmp/c.err" 2>&1 &&
	zstd -q "$tmp/c.pcapng" -o "$tmp/c.pcapng.zst" 2>>"$tmp/c.err" &&
	"$TRACE" summary "$tmp/c.pcapng.zst" --json >"$tmp/c.sum" 2>>"$tmp/c.err" &&
	python3 "$tmp/compare.py" "$tmp/c.sum" "$tmp/b.json" 2 "$tmp/b.ql" >"$tmp/c.cmp" 2>&1; then
	ok "$name"
else
	not_ok "$name" "$(cat "$tmp/c.err" "$tmp/c.cmp" 2>/dev/null | tail -5)"
fi

# ---- (c) the client's own capture (--pcap, AF_XDP path I/O), no key log ----
name="(c) two paths over AF_XDP captured by the client's --pcap: same counters, no --keylog"
if in_c timeout 60 "$BIN/mpq-client" -k --no-progress --json --discard -n vc1,vc2 \
	-mip 10.79.2.2:4433 --pcap "$tmp/p.pcapng.zst" https://10.79.1.2:4433/3000000 \
	>"$tmp/p.json" 2>"$tmp/p.err" &&
	"$TRACE" summary "$tmp/p.pcapng.zst" --json >"$tmp/p.sum" 2>"$tmp/p.tr" &&
	mkdir "$tmp/p.ql" && "$TRACE" qlog "$tmp/p.pcapng.zst" -o "$tmp/p.ql" >/dev/null 2>&1 &&
	python3 "$tmp/compare.py" "$tmp/p.sum" "$tmp/p.json" 2 "$tmp/p.ql" >"$tmp/p.cmp" 2>&1; then
	ok "$name: $(cat "$tmp/p.cmp")"
else
	not_ok "$name" "$(cat "$tmp/p.err" "$tmp/p.tr" "$tmp/p.cmp" 2>/dev/null | tail -5)"
fi

# ---- (d) broken inputs ----
# json.py SUMMARY EXPR: EXPR of the summary j is true.
json_true() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$@"
}
# Cut in the middle of the last packet block: a fixed count of bytes off the
# end could land on a block boundary (dumpcap ends with statistics blocks and
# small ACK packets), leaving a whole, shorter capture with nothing to say.
python3 - "$tmp/b.pcapng" "$tmp/d-cut.pcapng" <<'EOF2'
import struct, sys
data = open(sys.argv[1], "rb").read()
order = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
off, last = 0, None
while off + 12 <= len(data):
    btype, blen = struct.unpack(order + "II", data[off:off + 8])
    if blen < 12:
        break
    if btype == 6:
        last = (off, blen)
    off += blen
assert last, "no enhanced packet block"
open(sys.argv[2], "wb").write(data[:last[0] + last[1] // 2])
EOF2
"$TRACE" summary "$tmp/d-cut.pcapng" --keylog "$tmp/b.keys" --json >"$tmp/d-cut.sum" 2>"$tmp/d-cut.err"
rc=$?
if [ "$rc" = 0 ] && [ "$(wc -l <"$tmp/d-cut.err")" = 1 ] && grep -q "truncated" "$tmp/d-cut.err" &&
	json_true "$tmp/d-cut.sum" 'j["decrypted"] == j["packets"] > 1000'; then
	ok "(d) truncated capture: $(cat "$tmp/d-cut.err"); the rest decrypted"
else
	not_ok "(d) truncated capture" "exit $rc" "$(cat "$tmp/d-cut.err")"
fi

editcap -s 300 "$tmp/b.pcapng" "$tmp/d-snap.pcapng" >/dev/null 2>&1
"$TRACE" summary "$tmp/d-snap.pcapng" --keylog "$tmp/b.keys" --json >"$tmp/d-snap.sum" 2>"$tmp/d-snap.err"
rc=$?
if [ "$rc" = 0 ] && grep -q "frames cut by the snap length were skipped" "$tmp/d-snap.err" &&
	json_true "$tmp/d-snap.sum" 'j["packets"] < 1000'; then
	ok "(d) snap length 300: $(grep "snap length" "$tmp/d-snap.err")"
else
	not_ok "(d) snap length 300" "exit $rc" "$(cat "$tmp/d-snap.err")"
fi

echo "GET / HTTP/1.1" >"$tmp/d-text"
"$TRACE" summary "$tmp/d-text" >"$tmp/d-text.out" 2>"$tmp/d-text.err"
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/d-text.err")" = 1 ] && grep -q "not a pcap" "$tmp/d-text.err"; then
	ok "(d) not a capture: exit 2, $(cat "$tmp/d-text.err")"
else
	not_ok "(d) not a capture" "exit $rc" "$(cat "$tmp/d-text.err")"
fi

# Wrong keys: every secret's last hex digit changed.
awk '{ s = $3; c = substr(s, length(s)); sub(/.$/, c == "0" ? "1" : "0", s); print $1, $2, s }' \
	"$tmp/b.keys" >"$tmp/d-wrong.keys"
"$TRACE" summary "$tmp/b.pcapng" --keylog "$tmp/d-wrong.keys" --json >"$tmp/d-wrong.sum" \
	2>"$tmp/d-wrong.err"
rc=$?
if [ "$rc" = 0 ] && [ "$(wc -l <"$tmp/d-wrong.err")" = 1 ] &&
	json_true "$tmp/d-wrong.sum" 'j["undecryptable_reasons"].get("decryption_failed", 0) > 0 and 0 < j["decrypted"] < 20 and sum(j["undecryptable_reasons"].values()) == j["packets"] - j["decrypted"]'; then
	ok "(d) wrong keys: $(cat "$tmp/d-wrong.err"); the Initials still decrypted"
else
	not_ok "(d) wrong keys" "exit $rc" "$(cat "$tmp/d-wrong.err")" "$(head -c 300 "$tmp/d-wrong.sum")"
fi

# Two connections, keys for the first only.
name="(d) keys for one of two connections"
if capture d2 vc1 https://10.79.1.2:4433/1000000 https://10.79.1.2:4433/1000 &&
	capture d3 vc1 https://10.79.1.2:4433/500000 &&
	python3 - "$tmp/d2.pcapng" "$tmp/d3.pcapng" "$tmp/d23.pcapng" <<'PY'
import sys
# Two pcapng files of one interface each: the second's blocks after its
# section header, appended as a second section.
a, b, out = sys.argv[1:4]
open(out, "wb").write(open(a, "rb").read() + open(b, "rb").read())
PY
then
	"$TRACE" summary "$tmp/d23.pcapng" --keylog "$tmp/d2.keys" --json >"$tmp/d23.sum" 2>"$tmp/d23.err"
	rc=$?
	if [ "$rc" = 0 ] && json_true "$tmp/d23.sum" \
		'len(j["connections"]) == 2 and j["connections"][0]["decrypted"] == j["connections"][0]["packets"] and j["undecryptable_reasons"].get("keys_missing", 0) > 20 and j["connections"][1]["decrypted"] < j["connections"][1]["packets"]'; then
		ok "$name: the first fully decrypted, the second's packets counted as keys_missing; $(cat "$tmp/d23.err")"
	else
		not_ok "$name" "exit $rc" "$(cat "$tmp/d23.err")" "$(head -c 600 "$tmp/d23.sum")"
	fi
else
	not_ok "$name" "captures failed: $(cat "$tmp/d2.err" "$tmp/d3.err" | tail -3)"
fi

# ---- (f) qlog ----
# qlog.py DIR SUMMARY: one ODCID.sqlog per connection of the summary, JSON-SEQ
# with the quic-13 header and vantage point network; per connection, as many
# packet events (sent, received, dropped) as the summary counts packets and
# as many sent/received as it decrypted; with multipath, path_id on every
# 1-RTT packet event and a tuple_assigned per path ID. Prints the counts.
cat >"$tmp/qlog.py" <<'PY'
import collections, glob, json, os, sys
d, summary = sys.argv[1:3]
s = json.load(open(summary))
files = sorted(glob.glob(os.path.join(d, "*.sqlog")))
assert sorted(os.path.basename(f)[:-6] for f in files) == sorted(c["odcid"] for c in s["connections"]), files
out = []
for c in s["connections"]:
    recs = open(os.path.join(d, c["odcid"] + ".sqlog"), "rb").read().split(b"\x1e")
    assert recs[0] == b"", "no RS first"
    hdr = json.loads(recs[1])
    assert hdr["file_schema"] == "urn:ietf:params:qlog:file:sequential", hdr
    assert hdr["trace"]["vantage_point"]["type"] == "network", hdr
    assert hdr["trace"]["event_schemas"] == ["urn:ietf:params:qlog:events:quic-13",
        "urn:ietf:params:qlog:events:http3-13", "urn:ietf:params:qlog:events:loglevel"], hdr
    ev = [json.loads(r) for r in recs[2:]]
    names = collections.Counter(e["name"] for e in ev)
    pk = [e for e in ev if e["name"] in ("quic:packet_sent", "quic:packet_received")]
    drop = [e for e in ev if e["name"] == "quic:packet_dropped"]
    assert len(pk) + len(drop) == c["packets"] and len(pk) == c["decrypted"], (names, c["packets"], c["decrypted"])
    times = [e["time"] for e in ev]
    assert times == sorted(times), "events out of order"
    tuples = sorted(e["data"]["tuple_id"] for e in ev if e["name"] == "quic:tuple_assigned")
    paths = sorted(str(p["path_id"]) for p in c["paths"])
    assert tuples == paths, "tuples %s, paths %s" % (tuples, paths)
    if c["multipath"]:
        one = [e for e in pk if e["data"]["header"]["packet_type"] == "1RTT"]
        assert all("path_id" in e["data"] for e in one), "1RTT event without path_id"
        seen = sorted({e["data"]["path_id"] for e in one})
        assert [str(x) for x in seen] == paths, "path_id %s" % seen
    reasons = collections.Counter(e["data"].get("trigger") for e in drop)
    out.append("%s: %d packet events, %d dropped %s, tuples %s" % (c["odcid"], len(pk), len(drop), dict(reasons), tuples))
print("; ".join(out))
PY
for case in b:b.keys d-wrong:d-wrong.keys d23:d2.keys; do
	cap=${case%%:*} keys=${case#*:}
	[ "$cap" = d-wrong ] && cap=b
	mkdir -p "$tmp/ql-${case%%:*}"
	if "$TRACE" qlog "$tmp/$cap.pcapng" --keylog "$tmp/$keys" -o "$tmp/ql-${case%%:*}" \
		2>"$tmp/ql.err" &&
		"$TRACE" summary "$tmp/$cap.pcapng" --keylog "$tmp/$keys" --json >"$tmp/ql.sum" 2>/dev/null &&
		python3 "$tmp/qlog.py" "$tmp/ql-${case%%:*}" "$tmp/ql.sum" >"$tmp/ql.check" 2>&1; then
		ok "(f) qlog of ${case%%:*}: $(cat "$tmp/ql.check")"
	else
		not_ok "(f) qlog of ${case%%:*}" "$(cat "$tmp/ql.err" "$tmp/ql.check" | tail -4)"
	fi
done

# qvis.py QVIS SQLOG: one qlog 0.3 JSON document with the same events (by
# time and 0.3 name) as the JSON-SEQ file.
cat >"$tmp/qvis.py" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))
seq = [json.loads(r) for r in open(sys.argv[2], "rb").read().split(b"\x1e")[2:]]
assert q["qlog_version"] == "0.3" and q["qlog_format"] == "JSON", q.keys()
tr = q["traces"][0]
assert tr["vantage_point"]["type"] == "network", tr["vantage_point"]
ev = tr["events"]
assert len(ev) == len(seq), "%d events, JSON-SEQ %d" % (len(ev), len(seq))
for a, b in zip(ev, seq):
    assert a["time"] == b["time"] and a["data"] == b["data"], (a, b)
    assert a["name"].split(":")[1] in b["name"] and a["name"].split(":")[0] in ("transport", "connectivity", "security", "recovery"), (a["name"], b["name"])
assert sum(e["name"] == "transport:packet_received" for e in ev) > 1000
print("%d events, qlog_version 0.3" % len(ev))
PY
mkdir -p "$tmp/qv"
if "$TRACE" qlog "$tmp/b.pcapng" --keylog "$tmp/b.keys" -o "$tmp/qv" --format qvis 2>"$tmp/qv.err" &&
	f=$(ls "$tmp/qv"/*.qlog) && python3 "$tmp/qvis.py" "$f" "$tmp/ql-b/$(basename "$f" .qlog).sqlog" \
	>"$tmp/qv.check" 2>&1 && python3 "$(dirname "$0")/qvis_check.py" "$f" >>"$tmp/qv.check" 2>&1; then
	ok "(f) qlog --format qvis: $(cat "$tmp/qv.check")"
else
	not_ok "(f) qlog --format qvis" "$(cat "$tmp/qv.err" "$tmp/qv.check" | tail -4)"
fi

# ---- (e) picoquic: multipath; Retry ----
# pico NAME SERVER-PORT CLIENT-ARGS...: a fetch of 5 MB by picoquicdemo
# (-8: SSLKEYLOGFILE) with dumpcap on both client veths; its output in
# $tmp/NAME.out, the capture in $tmp/NAME.pcapng, the summary in $tmp/NAME.sum.
pico() {
	pname=$1 pport=$2
	shift 2
	mkdir -p "$tmp/$pname-c/out"
	ip netns exec "$cns" dumpcap -q -B 64 -i vc1 -i vc2 -w "$tmp/$pname.pcapng" \
		>"$tmp/$pname.dumpcap" 2>&1 &
	dpid=$!
	sleep 1
	(cd "$tmp/$pname-c" && SSLKEYLOGFILE="$tmp/$pname.keys" timeout 60 \
		ip netns exec "$cns" "$picobin" -8 -D -a hq-interop -n test -o out "$@" \
		10.79.1.2 "$pport" /5000000 >"$tmp/$pname.out" 2>&1)
	prc=$?
	sleep 0.5
	kill "$dpid" && wait "$dpid"
	"$TRACE" summary "$tmp/$pname.pcapng" --keylog "$tmp/$pname.keys" --port "$pport" --json \
		>"$tmp/$pname.sum" 2>"$tmp/$pname.err"
	return $prc
}
picobin=${PICOQUICDEMO:-$(dirname "$0")/../../../shared/peers/picoquicdemo}
if [ ! -x "$picobin" ]; then
	echo "skip (e) picoquicdemo captures: no picoquicdemo at $picobin (set PICOQUICDEMO)"
else
	picobin=$(cd "$(dirname "$picobin")" && pwd)/$(basename "$picobin")
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=test -keyout "$tmp/pkey.pem" -out "$tmp/pcert.pem" >/dev/null 2>&1
	for port in 4434 4435; do
		retry=""
		[ "$port" = 4435 ] && retry=-r
		mkdir -p "$tmp/pico-s$port"
		# shellcheck disable=SC2086
		(cd "$tmp/pico-s$port" && exec ip netns exec "$sns" "$picobin" -M $retry \
			-c "$tmp/pcert.pem" -k "$tmp/pkey.pem" -p "$port" -w "$tmp/www" \
			>"$tmp/pico-s$port.out" 2>&1) &
		pids="$pids $!"
	done
	sleep 0.5
	ifindex=$(in_c cat /sys/class/net/vc2/ifindex)
	name="(e) picoquicdemo multipath transfer decrypts fully"
	if pico e1 4434 -M -A "10.79.2.1/$ifindex/10.79.2.2" &&
		grep -q "Enable multipath: Success" "$tmp/e1.out" &&
		json_true "$tmp/e1.sum" 'j["decrypted"] == j["packets"] > 1000 and j["connections"][0]["multipath"] and [p["path_id"] for p in j["connections"][0]["paths"]] == [0, 1]'; then
		ok "$name: $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("%d packets, frames %s" % (j["decrypted"], j["frames"]))' "$tmp/e1.sum")"
	else
		not_ok "$name" "picoquicdemo: $(tail -2 "$tmp/e1.out")" "$(cat "$tmp/e1.err")" \
			"$(head -c 600 "$tmp/e1.sum")"
	fi
	name="(e) picoquicdemo multipath, QUIC v2, ChaCha20, key updates every 300 packets: decrypts fully"
	if pico e3 4434 -M -A "10.79.2.1/$ifindex/10.79.2.2" -v 6b3343cf -C 20 -u 300 &&
		grep -q "Enable multipath: Success" "$tmp/e3.out" &&
		json_true "$tmp/e3.sum" 'j["decrypted"] == j["packets"] > 1000 and j["connections"][0]["version"] == "0x6b3343cf" and j["connections"][0]["key_updates"] >= 1 and len(j["connections"][0]["paths"]) == 2'; then
		ok "$name: $(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["connections"][0]; print("%d packets, %d key updates" % (c["decrypted"], c["key_updates"]))' "$tmp/e3.sum")"
	else
		not_ok "$name" "picoquicdemo: $(tail -2 "$tmp/e3.out")" "$(cat "$tmp/e3.err")" \
			"$(head -c 600 "$tmp/e3.sum")"
	fi
	name="(e) picoquicdemo with Retry (a new ClientHello after it) decrypts fully"
	if pico e2 4435 && json_true "$tmp/e2.sum" 'j["decrypted"] == j["packets"] > 1000'; then
		ok "$name"
	else
		not_ok "$name" "picoquicdemo: $(tail -2 "$tmp/e2.out")" "$(cat "$tmp/e2.err")" \
			"$(head -c 600 "$tmp/e2.sum")"
	fi
fi

finish
