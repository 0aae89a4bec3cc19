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

if out=$(python3 "$(dirname "$0")/h3_qlog_check.py" "$tmp"/qlog/*.sqlog /big.bin=300000 \
	"/small.txt?v=1=6" 2>&1); then
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
