#!/bin/sh
# mpq-trace qlog of HTTP/3, on loopback (no privileges needed): mpq-client
# --alpn h3 fetches two files from mpq-server in one connection, capturing
# with --pcap and its keys with --keylog; mpq-trace qlog writes the HTTP/3
# frames: the client's HEADERS (http3:frame_created) with :path the URLs'
# paths, the server's (http3:frame_parsed) with :status 200, DATA lengths
# adding up to each body's size, both SETTINGS frames, and both control
# streams typed by http3:stream_type_set; no warning. --format qvis: the
# same frames as http:frame_created/http:frame_parsed in a document qvis
# loads (qvis_check.py). Prints "N passed, N failed" last.
#   tests/net/test-trace-h3.sh [BINDIR]      (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
loopback_scratch
for b in mpq-server mpq-client mpq-trace; do
	[ -x "$BIN/$b" ] || { not_ok "tools built" "$BIN/$b missing: run make"; finish; }
done

mkdir "$tmp/www" "$tmp/got" "$tmp/qlog"
head -c 300000 /dev/urandom >"$tmp/www/big.bin"
echo hello >"$tmp/www/small.txt"
loopback_server "$tmp" -www "$tmp/www"
[ -n "$port" ] || { not_ok "mpq-server started" "$(cat "$tmp/server.err")"; finish; }

url=https://127.0.0.1:$port
if timeout 60 "$BIN/mpq-client" --alpn h3 -k --no-progress --keylog "$tmp/keys" \
	--pcap "$tmp/h3.pcapng" -o "$tmp/got/" "$url/big.bin" "$url/small.txt?v=1" \
	>"$tmp/client.out" 2>"$tmp/client.err" &&
	cmp -s "$tmp/got/big.bin" "$tmp/www/big.bin"; then
	ok "mpq-client --alpn h3: two files fetched, captured"
else
	not_ok "mpq-client --alpn h3" "$(tail -c 600 "$tmp/client.err")"
	finish
fi

if "$BIN/mpq-trace" qlog "$tmp/h3.pcapng" --keylog "$tmp/keys" -o "$tmp/qlog" \
	>"$tmp/trace.out" 2>"$tmp/trace.err"; then
	ok "mpq-trace qlog of the h3 capture"
else
	not_ok "mpq-trace qlog" "$(cat "$tmp/trace.err")"
	finish
fi

if out=$(python3 - "$tmp"/qlog/*.sqlog <<'PY' 2>&1
import json, sys

recs = [json.loads(r) for r in open(sys.argv[1]).read().split("\x1e") if r.strip()]
hdr, evs = recs[0], recs[1:]
schemas = hdr["trace"]["event_schemas"]
assert "urn:ietf:params:qlog:events:http3-13" in schemas, schemas
frames = [(e["name"], e["data"]["stream_id"], e["data"]["frame"]) for e in evs
          if e["name"] in ("http3:frame_created", "http3:frame_parsed")]
warnings = [e for e in evs if e["name"].startswith("loglevel:")]
assert not warnings, warnings

def headers(name, key):
    got = {}
    for n, sid, f in frames:
        if n == name and f["frame_type"] == "headers":
            got[sid] = [h["value"] for h in f["headers"] if h["name"] == key]
    return got

paths = headers("http3:frame_created", ":path")
assert sorted(paths.values()) == [["/big.bin"], ["/small.txt?v=1"]], paths
status = headers("http3:frame_parsed", ":status")
assert sorted(status) == sorted(paths) and all(v == ["200"] for v in status.values()), status
body = {}
for n, sid, f in frames:
    if f["frame_type"] == "data":
        assert n == "http3:frame_parsed", (n, sid)
        body[sid] = body.get(sid, 0) + f["raw"]["payload_length"]
want = {sid: 300000 if p == ["/big.bin"] else 6 for sid, p in paths.items()}
assert body == want, (body, want)
settings = [(n, sid) for n, sid, f in frames if f["frame_type"] == "settings"]
assert sorted(n for n, _ in settings) == ["http3:frame_created", "http3:frame_parsed"], settings
for n, sid, f in frames:
    if f["frame_type"] == "settings":
        names = {s["name"]: s["value"] for s in f["settings"]}
        assert names.get("settings_qpack_max_table_capacity") == 0, f
types = {(e["data"]["initiator"], e["data"]["stream_id"], e["data"]["stream_type"])
         for e in evs if e["name"] == "http3:stream_type_set"}
ctrl = {(i, s) for i, s, t in types if t == "control"}
assert sorted(i for i, _ in ctrl) == ["local", "remote"], types
# The SETTINGS go on the control streams.
assert {sid for _, sid in settings} == {s for _, s in ctrl}, (settings, ctrl)
print(len(frames), "frames")
PY
); then
	ok "qlog http3 events: :path, :status 200, DATA sizes, SETTINGS both ways, control streams ($out)"
else
	not_ok "qlog http3 events" "$out"
fi

mkdir "$tmp/qvis"
"$BIN/mpq-trace" qlog "$tmp/h3.pcapng" --keylog "$tmp/keys" -o "$tmp/qvis" --format qvis \
	>/dev/null 2>"$tmp/qvis.err"
f=$(ls "$tmp"/qvis/*.qlog 2>/dev/null)
n=$(grep -o '"name":"http:frame_[a-z]*"' "$f" 2>/dev/null | wc -l)
if [ "$n" = "${out%% frames}" ] && python3 "$(dirname "$0")/qvis_check.py" "$f" >"$tmp/qv.check" 2>&1; then
	ok "--format qvis: $n http:frame_* events, qvis loads it"
else
	not_ok "--format qvis" "$n http:frame_* events (want ${out%% frames})" "$(cat "$tmp/qv.check" "$tmp/qvis.err")"
fi
finish
