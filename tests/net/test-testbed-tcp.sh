#!/bin/sh
# mpq-testbed run with transport tcp and mptcp, as root (docs/testbed.md):
# a small experiment over two emulated paths sweeps transport,multipath over
# quic,no tcp,no quic,yes mptcp,yes; every row is ok with 4000000 bytes
# (checked by sha256) and names its transport; tcp and single-path quic
# carry everything on path 1, multipath quic and mptcp carry some on each
# path (MPTCP's second subflow from the server's announced address); the
# ratio line pairs quic with mptcp. Prints "N passed, N failed" last.
#   tests/net/test-testbed-tcp.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools ip python3 gnuplot
tb=$(cd "$(dirname "$0")/../../testbed" && pwd)/mpq-testbed
name=ttt$$
tmp=$(mktemp -d)
export BIN MPQ_TESTBED_RUN="$tmp/run"
trap '"$tb" down --name "$name" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

cat >"$tmp/tcpmix" <<'X'
paths 2
link 1 delay 5ms rate 50mbit queue 50ms
link 2 delay 10ms rate 50mbit queue 50ms
get 4MB
sweep transport,multipath quic,no tcp,no quic,yes mptcp,yes
ratio transport quic mptcp
X
"$tb" run "$tmp/tcpmix" --name "$name" --out "$tmp/out" >"$tmp/run.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && python3 - "$tmp/out/results.csv" >"$tmp/check" 2>&1 <<'X'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
got = [(r["transport"], r["multipath"]) for r in rows]
assert got == [("quic", "no"), ("tcp", "no"), ("quic", "yes"), ("mptcp", "yes")], got
for r in rows:
    assert r["ok"] == "1" and r["bytes"] == "4000000", "%s: ok %s, %s bytes, %s" % (
        r["transport"], r["ok"], r["bytes"], r["error"])
    p1, p2 = int(r["path1_bytes"]), int(r["path2_bytes"])
    if r["multipath"] == "no":
        assert p1 >= 4000000 and p2 == 0, "%s: paths %d, %d" % (r["transport"], p1, p2)
    else:
        assert p1 > 0 and p2 > 0, "%s: paths %d, %d" % (r["transport"], p1, p2)
print(", ".join("%s%s %s Mbit/s" % (r["transport"], " multipath" if r["multipath"] == "yes"
                                    else "", r["goodput_mbps"]) for r in rows))
X
then
	ok "transport tcp and mptcp next to quic: $(cat "$tmp/check")"
else
	not_ok "transport tcp and mptcp next to quic" "exit $rc" "$(tail -n 5 "$tmp/run.out")" \
		"$(cat "$tmp/check")"
fi
if grep -q "median transport=quic/transport=mptcp time ratio" "$tmp/run.out"; then
	ok "ratio transport quic mptcp: $(grep "time ratio" "$tmp/run.out")"
else
	not_ok "ratio transport quic mptcp" "$(tail -n 3 "$tmp/run.out")"
fi
finish
