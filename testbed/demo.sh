#!/bin/sh
# The main job on a built-in default: mpq-server serving a generated body
# (20 MB unless BYTES) and mpq-client fetching it, with the results on one
# screen.
# As root: testbed/mpq-testbed run of the aggregation experiment's two paths
# (50 Mbit/s each with 20 and 40 ms of RTT), one multipath connection over
# both, with qlogs at both ends and captures (client and emulators); prints
# per-path results and where the qlogs, captures and plot are (kept in
# DEMO_OUT, default a new /tmp/mpq-demo.XXXXXX); the testbed is torn down.
# Without root (or DEMO_LOOPBACK=1): one path over loopback, and says so.
#   testbed/demo.sh [BYTES]        (default 20000000)
set -u
BIN=${BIN:-build/bin}
BYTES=${1:-20000000}
tb=$(dirname "$0")/mpq-testbed
name=demo$$
tmp=$(mktemp -d)
spid=""
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

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

# summary JSON: the client's result and per-path lines.
summary() {
	python3 - "$1" <<'PY'
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
}

if [ "$(id -u)" = 0 ] && [ "${DEMO_LOOPBACK:-0}" != 1 ] && command -v ip >/dev/null; then
	out=${DEMO_OUT:-$(mktemp -d /tmp/mpq-demo.XXXXXX)}
	# The aggregation experiment, once, multipath, with qlogs and captures.
	if BIN=$BIN "$tb" run aggregation --name "$name" --out "$out" --reps 1 \
		--set 'multipath yes' --set "get $BYTES" --set 'qlog yes' --capture \
		>"$tmp/run.out" 2>&1; then
		run=$(sed -n '2s/^[^,]*,\([^,]*\),.*/\1/p' "$out/results.csv")
		dir=$out/runs/$run
		links=$(python3 -c 'import csv, sys
r = next(csv.DictReader(open(sys.argv[1])))
print("[%s] and [%s]" % (r["link1"], r["link2"]))' "$out/results.csv")
		echo "testbed $name: two paths, $links (mpq-testbed run aggregation)"
		echo "server: $(grep -c listening "$dir/server.log") address(es), $(sed -n 's/^path I\/O: //p' "$dir/server.log")"
		echo "client: fetching https://10.100.1.2:4433/$BYTES over p1 and p2 (-mip 10.100.2.2)"
		if [ -s "$dir/client.json" ]; then
			summary "$dir/client.json"
		else
			echo "result: failed: $(tail -n 1 "$dir/client.log")"
		fi
		echo "link emulators (ab: client to server, ba: back):"
		sed -n 's/^path /  path /p' "$dir/links.txt"
		echo "files in $out:"
		echo "  results.csv; qlogs: runs/$run/qlog/; captures: runs/$run/client.pcapng" \
			"(TLS secrets inside), runs/$run/path1.pcapng and path2.pcapng (the emulators)"
		echo "  plot: timeline-$run.svg and .png (per-path throughput, cwnd, RTT)"
		python3 -c 'import csv, sys
sys.exit(next(csv.DictReader(open(sys.argv[1])))["ok"] != "1")' "$out/results.csv"
		exit
	fi
	echo "demo: no testbed ($(tail -n 1 "$tmp/run.out")); over loopback instead"
elif [ "$(id -u)" != 0 ]; then
	echo "demo: not root, so one path over loopback (as root: two emulated paths)"
fi

"$BIN/mpq-server" --addr 127.0.0.1 -port 0 -www "$tmp" >"$tmp/server.out" 2>&1 &
spid=$!
wait_port "$tmp/server.out" '127\.0\.0\.1'
echo "server: $(grep -c listening "$tmp/server.out") address(es), $(sed -n 's/^path I\/O: //p' "$tmp/server.out")"
echo "client: fetching https://127.0.0.1:$port/$BYTES (a generated body of $BYTES bytes)"
"$BIN/mpq-client" -k --discard --json "https://127.0.0.1:$port/$BYTES" 2>"$tmp/client.err" >"$tmp/r.json"
rc=$?
summary "$tmp/r.json" || cat "$tmp/client.err"
exit $rc
