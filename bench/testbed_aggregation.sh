#!/bin/sh
# testbed/experiments/aggregation as a benchmark: two emulated paths of 50
# Mbit/s (20 and 40 ms RTT) offer 100 Mbit/s; one multipath connection
# against a single path over path 1, interleaved, BENCH_REPS repetitions
# each (default 3), with mpq-testbed run. Prints the multipath goodput as a
# fraction of the 100 Mbit/s offered (the issue's target: at least 0.90),
# the single path's of its 50, and their ratio, with the load average.
# Needs root. BENCH_QUICK (bench/run.sh): one repetition of 2 MB.
# BENCH_NO_HYSTART=1: both tools with --no-hystart, to compare against.
#   bench/testbed_aggregation.sh [--set 'get 100MB']...
set -u
. "$(dirname "$0")/lib.sh"
REPS=${BENCH_REPS:-$(quick 1 3)}
here=$(cd "$(dirname "$0")" && pwd)
need_root "namespaces"
[ -n "${BENCH_QUICK:-}" ] && set -- --set 'get 2MB' "$@"
[ -n "${BENCH_NO_HYSTART:-}" ] &&
	set -- --set 'server-args --no-hystart' --set 'client-args --no-hystart' "$@"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
trap 'exit 1' INT TERM
BIN=$(cd "$BIN" && pwd) || exit 1
export BIN
MPQ_TESTBED_RUN=$out/run "$here/../testbed/mpq-testbed" run aggregation --reps "$REPS" \
	--out "$out/r" --set 'qlog no' "$@" >"$out/log" 2>&1 || {
	echo "testbed_aggregation: run failed"
	cat "$out/log"
	exit 1
}
python3 - "$out/r/results.csv" "$(cut -d' ' -f1 /proc/loadavg)" \
	"$([ -n "${BENCH_NO_HYSTART:-}" ] && echo off || echo on)" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def mean(mp):
    g = [float(r["goodput_mbps"]) for r in rows if r["multipath"] == mp and r["ok"] == "1"]
    return (sum(g) / len(g), len(g), sum(1 for r in rows if r["multipath"] == mp)) if g else (0, 0, 0)
m, mn, mt = mean("yes")
s, sn, st = mean("no")
size = rows[0]["bytes"] if rows else "?"
print("testbed_aggregation: 2 x 50 Mbit/s, RTT 20 and 40 ms, %s bytes, HyStart++ %s, load %s"
      % (size, sys.argv[3], sys.argv[2]))
print("  multipath   %.1f Mbit/s (%d of %d ok) = %.2f of the 100 Mbit/s offered (target >= 0.90)"
      % (m, mn, mt, m / 100))
print("  single path %.1f Mbit/s (%d of %d ok) = %.2f of its 50 Mbit/s" % (s, sn, st, s / 50))
if s:
    print("  multipath / single path: %.2fx" % (m / s))
PY
