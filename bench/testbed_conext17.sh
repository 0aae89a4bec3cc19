#!/bin/sh
# testbed/experiments/conext17 on a sample: BENCH_POINTS design points
# (default 10, shared out over the four classes), each with both path orders,
# single path (cubic) against multipath (olia), BENCH_REPS repetitions
# (default the file's 3) of a 20 MB download: 120 runs whose own times add
# up to about two and a half hours here, so bench/run.sh does not run it;
# `--sshloginfile FILE` with `5/:` in FILE runs five at once on this machine
# (the last 80 runs took 28 min so; docs/testbed.md). Prints how many runs
# were ok, per class
# the median of multipath's completion time over single path's and how often
# multipath was faster, and where ratio-cdf.svg (the paper's CDFs) is. The
# results stay in BENCH_OUT (default a new /tmp/mpq-conext17.XXXXXX); run it
# again with the same BENCH_OUT to resume. Needs root (says so and exits 77
# otherwise). BENCH_QUICK: one point, one repetition of 2 MB (4 runs).
#   bench/testbed_conext17.sh [more mpq-testbed run options]
set -u
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
need_root "namespaces"
# Quick mode (BENCH_QUICK): one point, one repetition of 2 MB.
[ -n "${BENCH_QUICK:-}" ] && set -- --set 'get 2MB' "$@"
BENCH_POINTS=${BENCH_POINTS:-$(quick 1 10)}
BENCH_REPS=${BENCH_REPS:-$(quick 1 "")}
out=${BENCH_OUT:-$(mktemp -d /tmp/mpq-conext17.XXXXXX)}
mkdir -p "$out" || exit 1
BIN=$(cd "$BIN" && pwd) || exit 1
export BIN
set -- --points "$BENCH_POINTS" --out "$out" "$@"
[ -n "${BENCH_REPS:-}" ] && set -- --reps "$BENCH_REPS" "$@"
[ -s "$out/results.csv" ] && set -- --resume "$@"
start=$(date +%s)
"$here/../testbed/mpq-testbed" run conext17 "$@" >"$out/log" 2>&1
rc=$?
echo "testbed_conext17: $(grep -c '^\[' "$out/log") runs in $(($(date +%s) - start)) s" \
	"(exit $rc), load $(cut -d' ' -f1 /proc/loadavg): $(python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("%d of %d ok" % (sum(r["ok"] == "1" for r in rows), len(rows)))' "$out/results.csv")"
sed -n 's/^ratio /  /p' "$out/log"
if grep -q '<svg' "$out/ratio-cdf.svg" 2>/dev/null; then
	echo "  plots: $out/ratio-cdf.svg (.png), $out/completion.svg; results: $out/results.csv"
else
	echo "  no ratio-cdf.svg: $(tail -n 1 "$out/log")"
	exit 1
fi
