#!/bin/sh
# The main job on a built-in default: mpq-server serving a generated 100 MB
# body and mpq-client fetching it, with the results on one screen.
# As root: over a two-path testbed (testbed/mpq-testbed) whose emulated
# links are those of the aggregation experiment, 50 Mbit/s each with 20 and
# 40 ms of RTT, one multipath connection over both, torn down at the end.
# Without root (or DEMO_LOOPBACK=1): one path over loopback, and says so.
#   testbed/demo.sh [BYTES]        (default 100000000)
set -u
BIN=${BIN:-build/bin}
BYTES=${1:-100000000}
tb=$(dirname "$0")/mpq-testbed
name=demo$$
tmp=$(mktemp -d)
spid=""
testbed=""
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	[ -n "$testbed" ] && BIN=$BIN "$tb" down --name "$name" >/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
link1="delay 10ms rate 50mbit queue 50ms"
link2="delay 20ms rate 50mbit queue 50ms"

# wait_port OUT ADDR: the port the server in OUT listens on at ADDR.
wait_port() {
	for _ in $(seq 50); do
		port=$(sed -n "s/^listening on $2:\([0-9]*\).*/\1/p" "$1")
		[ -n "$port" ] && return 0
		sleep 0.2
	done
	echo "demo: the server did not start:"
	cat "$1"
	exit 1
}

if [ "$(id -u)" = 0 ] && [ "${DEMO_LOOPBACK:-0}" != 1 ] && command -v ip >/dev/null; then
	if BIN=$BIN "$tb" up --name "$name" --paths 2 --link1 "$link1" --link2 "$link2" \
		>"$tmp/up.out" 2>&1; then
		testbed=yes
	else
		echo "demo: no testbed ($(tail -n 1 "$tmp/up.out")); over loopback instead"
	fi
elif [ "$(id -u)" != 0 ]; then
	echo "demo: not root, so one path over loopback (as root: two emulated paths)"
fi

if [ -n "$testbed" ]; then
	echo "testbed $name: two paths, [$link1] and [$link2]"
	ip netns exec "$name-s" "$BIN/mpq-server" --addr 10.100.1.2,10.100.2.2 -port 4433 \
		-www "$tmp" >"$tmp/server.out" 2>&1 &
	spid=$!
	wait_port "$tmp/server.out" 10.100.2.2
	echo "server: $(grep -c listening "$tmp/server.out") address(es), $(sed -n 's/^path I\/O: //p' "$tmp/server.out")"
	echo "client: fetching https://10.100.1.2:4433/$BYTES over p1 and p2 (-mip 10.100.2.2)"
	ip netns exec "$name-c" "$BIN/mpq-client" -k --no-progress --discard --json -n p1,p2 \
		-mip 10.100.2.2:4433 "https://10.100.1.2:4433/$BYTES" 2>"$tmp/client.err" >"$tmp/r.json"
	rc=$?
else
	"$BIN/mpq-server" --addr 127.0.0.1 -port 0 -www "$tmp" >"$tmp/server.out" 2>&1 &
	spid=$!
	wait_port "$tmp/server.out" '127\.0\.0\.1'
	echo "server: $(grep -c listening "$tmp/server.out") address(es), $(sed -n 's/^path I\/O: //p' "$tmp/server.out")"
	echo "client: fetching https://127.0.0.1:$port/$BYTES (a generated body of $BYTES bytes)"
	"$BIN/mpq-client" -k --discard --json "https://127.0.0.1:$port/$BYTES" 2>"$tmp/client.err" >"$tmp/r.json"
	rc=$?
fi
python3 - "$tmp/r.json" <<'PY' || cat "$tmp/client.err"
import json, sys
r = json.load(open(sys.argv[1]))
u = r["urls"][0]
print("result: %s, %d bytes in %.2f s = %.0f Mbit/s, handshake %.1f ms, sha256 %s..."
      % (u["status"], r["bytes_total"], r["seconds"], r["goodput_mbps"], r["handshake_ms"],
         (u.get("sha256") or "")[:16]))
total = sum(p["bytes_received"] for p in r["paths"]) or 1
for p in r["paths"]:
    print("path %d %s %s -> %s: %s, %.0f%% of the bytes, %d packets in, %d out, %d lost, srtt %s ms"
          % (p["path_id"], p["iface"], p["local"], p["remote"], p["state"],
             100.0 * p["bytes_received"] / total, p["packets_received"], p["packets_sent"],
             p["packets_lost"], p["srtt_ms"]))
PY
if [ -n "$testbed" ]; then
	echo "link emulators (ab: client to server, ba: back):"
	BIN=$BIN "$tb" status --name "$name" | sed -n 's/^path /  path /p'
fi
exit $rc
