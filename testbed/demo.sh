#!/bin/sh
# The main job on a built-in default: mpq-server serving a generated 100 MB
# body and mpq-client fetching it, with the results on one screen. Until the
# multipath testbed lands this runs one path over loopback; it needs no root.
#   testbed/demo.sh [BYTES]        (default 100000000)
set -u
BIN=${BIN:-build/bin}
BYTES=${1:-100000000}
tmp=$(mktemp -d)
spid=""
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM

"$BIN/mpq-server" --addr 127.0.0.1 -port 0 -www "$tmp" >"$tmp/server.out" 2>&1 &
spid=$!
port=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
	port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/server.out")
	[ -n "$port" ] && break
	sleep 0.2
done
if [ -z "$port" ]; then
	echo "demo: the server did not start:"; cat "$tmp/server.out"; exit 1
fi
echo "server: $(grep -c listening "$tmp/server.out") address(es), $(sed -n 's/^path I\/O: //p' "$tmp/server.out")"
echo "client: fetching https://127.0.0.1:$port/$BYTES (a generated body of $BYTES bytes)"
"$BIN/mpq-client" -k --discard --json "https://127.0.0.1:$port/$BYTES" 2>"$tmp/client.err" >"$tmp/r.json"
rc=$?
python3 - "$tmp/r.json" <<'PY' || cat "$tmp/client.err"
import json, sys
r = json.load(open(sys.argv[1]))
u = r["urls"][0]
print("result: %s, %d bytes in %.2f s = %.0f Mbit/s, handshake %.1f ms, sha256 %s..."
      % (u["status"], r["bytes_total"], r["seconds"], r["goodput_mbps"], r["handshake_ms"],
         (u.get("sha256") or "")[:16]))
for p in r["paths"]:
    print("path %d %s %s -> %s: %s, %d packets in, %d out, %d lost, srtt %s ms"
          % (p["path_id"], p["iface"], p["local"], p["remote"], p["state"],
             p["packets_received"], p["packets_sent"], p["packets_lost"], p["srtt_ms"]))
PY
exit $rc
