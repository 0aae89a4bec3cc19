#!/bin/sh
# What the tools say (issue 10), over one veth pair between two network
# namespaces (root): the client's one result line per URL (size, time,
# goodput, paths, where it went) and nothing but errors with -q; --progress
# into a file: plain lines, one a second, no carriage return or escape code,
# ending with the result line; with --io auto (the default) an XDP program
# attached to the client's interface is said in one line without -v, and not
# with -q; the server's line per finished connection (peer, bytes, paths,
# duration, close reason) names it by its original DCID, as its qlog file
# and its -v log do; -q silences it; not root, --io xdp is exit 2 in both
# tools; a path over a link that is down is said, and failed in --json.
# Prints "N passed, N failed" last.
#   tests/net/test-tool-output.sh [BINDIR]      (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces, tc and AF_XDP"
need_tools ip tc timeout
two_namespaces mpqo
veth_pairs oc os 67 2

mkdir "$tmp/www" "$tmp/qlog" "$tmp/cwd"
head -c 1000000 /dev/urandom >"$tmp/www/m1"
in_s timeout 120 "$BIN/mpq-server" --io udp --addr 10.67.1.2 -port 6121 -www "$tmp/www" \
	--qlog-dir "$tmp/qlog" >"$tmp/server.out" 2>"$tmp/server.err" &
pids="$pids $!"
for _ in $(seq 50); do
	grep -q "^listening on" "$tmp/server.out" && break
	sleep 0.1
done
url=https://10.67.1.2:6121

# client NAME ARG...: the client in its namespace, stderr without the -k
# warning in $tmp/NAME.err; its exit status.
client() {
	name=$1
	shift
	(cd "$tmp/cwd" && in_c timeout 60 "$BIN/mpq-client" -k "$@" 2>"$tmp/$name.all" >/dev/null)
	rc=$?
	grep -v "WARNING: --insecure" "$tmp/$name.all" >"$tmp/$name.err"
	return $rc
}
lines() { wc -l <"$1" | tr -d ' '; }

# ---- the result line; -q ----
if client res --io udp --no-progress -o "$tmp/got" "$url/m1" && [ "$(lines "$tmp/res.err")" = 1 ] &&
	grep -q "^mpq-client: $url/m1: 1.0 MB in [0-9.]* s, [0-9.]* Mbit/s over 1 path, saved as $tmp/got$" \
		"$tmp/res.err"; then
	ok "one result line per URL: $(cut -d' ' -f3- "$tmp/res.err")"
else
	not_ok "one result line per URL" "$(cat "$tmp/res.err")"
fi
if client quiet --io udp -q --discard "$url/m1" "$url/5" && [ "$(lines "$tmp/quiet.err")" = 0 ]; then
	ok "-q: nothing on stderr (but the -k warning)"
else
	not_ok "-q: nothing on stderr" "$(cat "$tmp/quiet.err")"
fi

# ---- the server's line per connection, named by the original DCID ----
sleep 0.5
odcid=$(ls "$tmp/qlog" | sed -n 's/_server\.sqlog.*//p' | head -n 1)
if [ -n "$odcid" ] && grep -q "^mpq-server: connection $odcid with 10\.67\.1\.1:[0-9]* closed by the client (no error): [0-9.]* [kMG]*B sent, [0-9.]* [kMG]*B received, 1 path, [0-9.]* s$" "$tmp/server.err" &&
	[ "$(grep -c "^mpq-server: connection " "$tmp/server.err")" = 2 ]; then
	ok "server: one line per finished connection, named as its qlog file ($odcid)"
else
	not_ok "server: one line per finished connection" "qlog: $(ls "$tmp/qlog")" \
		"$(cat "$tmp/server.err")"
fi

# ---- --progress into a file: plain lines, one a second ----
in_s tc qdisc add dev os1 root tbf rate 20mbit burst 32kbit latency 400ms
head -c 6000000 /dev/urandom >"$tmp/www/m6"
if client prog --io udp --progress --discard "$url/m6" &&
	! grep -q "$(printf '\r')" "$tmp/prog.err" && ! grep -q "$(printf '\033')" "$tmp/prog.err" &&
	[ "$(grep -c "Mbit/s  0/1 done" "$tmp/prog.err")" -ge 1 ] &&
	tail -n 1 "$tmp/prog.err" | grep -q "^mpq-client: $url/m6: 6.0 MB in"; then
	ok "--progress into a file: $(grep -c "done" "$tmp/prog.err") plain line(s), then the result"
else
	not_ok "--progress into a file" "$(od -c "$tmp/prog.err" | head -n 8)"
fi
in_s tc qdisc del dev os1 root

# ---- an XDP program attached to the client's interface is said ----
if client xdp --no-progress --discard "$url/5" &&
	[ "$(grep -c "xdp on oc1 .*an XDP program is attached to oc1" "$tmp/xdp.err")" = 1 ]; then
	ok "--io auto as root: the XDP program on oc1 is said in one line"
else
	not_ok "--io auto as root: the XDP program on oc1 is said" "$(cat "$tmp/xdp.err")"
fi
if client xdpq -q --no-progress --discard "$url/5" && [ "$(lines "$tmp/xdpq.err")" = 0 ]; then
	ok "--io auto -q: not said"
else
	not_ok "--io auto -q: not said" "$(cat "$tmp/xdpq.err")"
fi

# ---- a path whose link is down: said, and "failed" in --json ----
in_c ip link set oc2 down
in_c timeout 30 "$BIN/mpq-client" -k --io udp --json --discard -n oc1,oc2 -mip 10.67.2.2:6121 \
	"$url/m1" >"$tmp/down.json" 2>"$tmp/down.err"
rc=$?
state=$(python3 -c 'import json, sys
p = [p for p in json.load(open(sys.argv[1]))["paths"] if p["path_id"] == 1][0]
print(p["state"], p.get("error"))' "$tmp/down.json" 2>&1)
if [ "$rc" = 0 ] && [ "$state" = "failed never validated: Network is unreachable" ] &&
	grep -q "warning: path 1 (10\.67\.2\.1:[0-9]* on oc2 to 10\.67\.2\.2:6121) never validated: Network is unreachable" \
		"$tmp/down.err"; then
	ok "a path over a link that is down: a warning, and failed in --json ($state)"
else
	not_ok "a path over a link that is down" "exit $rc, --json: $state" "$(cat "$tmp/down.err")"
fi

# ---- not root with --io xdp: exit 2 in both tools ----
if command -v setpriv >/dev/null; then
	nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	in_c $nobody timeout 10 "$BIN/mpq-client" -k --io xdp --discard "$url/5" 2>"$tmp/nr.err"
	crc=$?
	in_s $nobody timeout 10 "$BIN/mpq-server" --io xdp -n os1 -port 0 >/dev/null 2>>"$tmp/nr.err"
	src=$?
	if [ "$crc" = 2 ] && [ "$src" = 2 ] && [ "$(grep -c "not root" "$tmp/nr.err")" = 2 ]; then
		ok "not root with --io xdp: exit 2 in both tools"
	else
		not_ok "not root with --io xdp: exit 2 in both tools" \
			"client exit $crc, server exit $src" "$(cat "$tmp/nr.err")"
	fi
fi

finish
