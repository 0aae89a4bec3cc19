#!/bin/sh
# mpq-trace qlog of HTTP/3 through loss and reordering, as root: mpq-client
# --alpn h3 in one namespace fetches a 2 MB and a small file from mpq-server
# in another over one path of the testbed (mpq-linkemu: 3 % loss and
# reordering each way), capturing with its --pcap. The capture holds STREAM data sent again (the
# summary's retransmitted bytes) and arriving out of order, and the qlog's
# HTTP/3 frames are still whole (tests/net/h3_qlog_check.py: :path, :status
# 200, DATA adding up to each body, SETTINGS both ways, control streams).
# Exit 77 (skipped) without root. Prints "N passed, N failed" last.
#   tests/net/test-trace-h3-loss.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools ip python3 timeout
tb=$(cd "$(dirname "$0")/../../testbed" && pwd)/mpq-testbed
name=th3l$$
tmp=$(mktemp -d)
pids=""
cleanup() {
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill $pids 2>/dev/null
	"$tb" down --name "$name" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
export BIN
# One emulated path (mpq-linkemu): 3 % loss and reordering each way.
"$tb" up --name "$name" --paths 1 --link 'delay 5ms loss 3% reorder 10%' >"$tmp/up.out" 2>&1 ||
	{ not_ok "mpq-testbed up" "$(cat "$tmp/up.out")"; finish; }
cns=$name-c sns=$name-s

mkdir "$tmp/www" "$tmp/got" "$tmp/qlog"
head -c 2000000 /dev/urandom >"$tmp/www/big.bin"
echo hello >"$tmp/www/small.txt"
ns_server srv 120 --addr 10.100.1.2 -port 4433 -www "$tmp/www" --io udp ||
	{ not_ok "mpq-server started" "$(cat "$tmp/srv.err")"; finish; }

url=https://10.100.1.2:4433
if in_c timeout 90 "$BIN/mpq-client" --alpn h3 -k --no-progress --io udp --keylog "$tmp/keys" \
	--pcap "$tmp/h3.pcapng" -o "$tmp/got/" "$url/big.bin" "$url/small.txt" \
	>"$tmp/client.out" 2>"$tmp/client.err" &&
	cmp -s "$tmp/got/big.bin" "$tmp/www/big.bin"; then
	ok "mpq-client --alpn h3 through loss: two files fetched, captured"
else
	not_ok "mpq-client --alpn h3 through loss" "$(tail -c 600 "$tmp/client.err")"
	finish
fi

retx=$("$BIN/mpq-trace" summary "$tmp/h3.pcapng" --keylog "$tmp/keys" --json 2>/dev/null |
	python3 -c 'import json, sys
c = json.load(sys.stdin)["connections"][0]
print(sum(p["retransmitted_bytes"] for p in c["paths"]))')
if [ "${retx:-0}" -gt 0 ]; then
	ok "the capture has STREAM bytes sent again: $retx"
else
	not_ok "STREAM bytes sent again in the capture" "got '${retx:-}'"
fi

if "$BIN/mpq-trace" qlog "$tmp/h3.pcapng" --keylog "$tmp/keys" -o "$tmp/qlog" \
	>/dev/null 2>"$tmp/trace.err" &&
	out=$(python3 "$(dirname "$0")/h3_qlog_check.py" "$tmp"/qlog/*.sqlog /big.bin=2000000 \
		/small.txt=6 2>&1); then
	ok "qlog http3 events whole through loss and reordering ($out)"
else
	not_ok "qlog http3 events through loss" "${out:-}" "$(cat "$tmp/trace.err")"
fi
finish
