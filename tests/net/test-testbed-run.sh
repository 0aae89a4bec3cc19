#!/bin/sh
# mpq-testbed run, as root (docs/testbed.md):
#   a tiny experiment (two schedulers, one repetition, a 1 MB download over
#     two emulated paths) writes results.csv with CLI.md's columns and two ok
#     rows of 1000000 bytes (body checked by sha256), one progress line per
#     run, and non-empty SVG and PNG plots (completion time, a timeline per
#     point from the qlogs with a cwnd line for each of the two paths);
#   --resume runs nothing the second time, and again (afresh) a run whose
#     row is missing; --points 1 runs one point; --sshloginfile with this
#     machine (':') runs them two at once;
#   a WSP design with both path orders and single path (cubic) against
#     multipath (olia) runs its 4 combinations, swaps the links for order 21
#     and draws the ratio CDF;
#   the time limit of a run from its links (the file's timeout the floor):
#     the model's figures, and a run that cannot finish fails at it;
#   a bad experiment file: one line naming file and line, exit 2;
#   SIGINT mid-run: no namespace and no process of the run left behind;
#   testbed/experiments/handover (path 1 down at 2 s, up at 4 s) completes
#     byte-exact, with bytes on both paths; with --capture, the client's and
#     the emulators' captures, and mpq-trace's plots of the client's.
#   tests/net/test-testbed-run.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools ip python3 gnuplot
tb=$(cd "$(dirname "$0")/../../testbed" && pwd)/mpq-testbed
name=ttr$$
tmp=$(mktemp -d)
export BIN MPQ_TESTBED_RUN="$tmp/run"
cleanup() {
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null
	"$tb" down --name "$name" >/dev/null 2>&1
	"$tb" down --name "${name}i" >/dev/null 2>&1
	rm -rf "$tmp"
}
rpid=""
trap cleanup EXIT
trap 'exit 1' INT TERM

cat >"$tmp/tiny" <<'X'
# tiny: two schedulers over two paths, a small download
paths 2
link 1 delay 5ms rate 50mbit queue 50ms
link 2 delay 10ms rate 50mbit queue 50ms
get 1MB
sweep sched minrtt rr
qlog yes
X
"$tb" run "$tmp/tiny" --name "$name" --out "$tmp/out" >"$tmp/run1.out" 2>&1
rc=$?
csv=$tmp/out/results.csv
cols=$(head -n 1 "$csv" 2>/dev/null)
missing=""
for c in experiment run scheduler cc io paths bytes seconds goodput_mbps ok path1_bytes \
	path2_bytes param_sched; do
	echo ",$cols," | grep -q ",$c," || missing="$missing $c"
done
if [ "$rc" = 0 ] && [ -z "$missing" ]; then
	ok "run: exit 0, results.csv has the columns"
else
	not_ok "run: exit 0, results.csv has the columns" "exit $rc, missing:$missing" \
		"$(cat "$tmp/run1.out")"
fi
good=$(python3 - "$csv" <<'X'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(sum(1 for r in rows if r["ok"] == "1" and r["bytes"] == "1000000"
          and int(r["path1_bytes"]) + int(r["path2_bytes"]) >= 1000000), len(rows))
X
)
if [ "$good" = "2 2" ]; then
	ok "two ok rows of 1000000 bytes"
else
	not_ok "two ok rows of 1000000 bytes" "ok/rows: $good" "$(cat "$csv")"
fi
if [ "$(grep -c '^\[[12]/2\] tiny sched=[a-z]* rep=1: 1.0 MB in .* Mbit/s ok$' "$tmp/run1.out")" = 2 ]; then
	ok "a progress line per run ($(sed -n 1p "$tmp/run1.out"))"
else
	not_ok "a progress line per run" "$(cat "$tmp/run1.out")"
fi
plots_ok=yes
for p in completion $(cd "$tmp/out" && ls timeline-*.svg 2>/dev/null | sed 's/\.svg$//'); do
	{ grep -q '<svg' "$tmp/out/$p.svg" &&
		[ "$(head -c 4 "$tmp/out/$p.png" | od -An -c | tr -d ' ')" = '211PNG' ]; } ||
		plots_ok="no ($p)"
done
ntl=$(ls "$tmp/out"/timeline-*.png 2>/dev/null | wc -l)
if [ "$plots_ok" = yes ] && [ "$ntl" = 2 ]; then
	ok "plots: completion and 2 timelines, SVG and PNG"
else
	not_ok "plots: completion and 2 timelines, SVG and PNG" "$plots_ok, $ntl timelines" \
		"$(ls "$tmp/out")"
fi
# The timelines' cwnd comes from the server's qlog: a series per path.
ncw=$(ls "$tmp/out"/runs/*/metrics-path*.dat 2>/dev/null | wc -l)
if [ "$ncw" = 4 ]; then
	ok "cwnd and RTT series for both paths of both runs"
else
	not_ok "cwnd and RTT series for both paths of both runs" "$ncw files" \
		"$(ls "$tmp/out"/runs/*)"
fi

"$tb" run "$tmp/tiny" --name "$name" --out "$tmp/out" --resume >"$tmp/run2.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && ! grep -q '^\[' "$tmp/run2.out" &&
	grep -q "^resume: 2 of 2 runs" "$tmp/run2.out" && [ "$(wc -l <"$csv")" = 3 ]; then
	ok "--resume runs nothing the second time"
else
	not_ok "--resume runs nothing the second time" "exit $rc" "$(cat "$tmp/run2.out")"
fi
# An attempt interrupted before its row: --resume runs it again, afresh.
last=$(tail -n 1 "$csv" | cut -d, -f2)
sed -i '$d' "$csv"
touch "$tmp/out/runs/$last/qlog/stale_client.sqlog"
"$tb" run "$tmp/tiny" --name "$name" --out "$tmp/out" --resume >"$tmp/run2b.out" 2>&1
if [ "$(grep -c '^\[' "$tmp/run2b.out")" = 1 ] && [ "$(wc -l <"$csv")" = 3 ] &&
	[ "$(tail -n 1 "$csv" | cut -d, -f2)" = "$last" ] &&
	[ ! -e "$tmp/out/runs/$last/qlog/stale_client.sqlog" ]; then
	ok "--resume runs a run without its row again, in a cleared directory"
else
	not_ok "--resume runs a run without its row again, afresh" "$(cat "$tmp/run2b.out")" \
		"$(ls "$tmp/out/runs/$last/qlog")"
fi
"$tb" run "$tmp/tiny" --name "$name" --out "$tmp/out" >"$tmp/run3.out" 2>&1
if [ $? != 0 ] && grep -q "exists: --resume" "$tmp/run3.out"; then
	ok "an existing results.csv without --resume is refused"
else
	not_ok "an existing results.csv without --resume is refused" "$(cat "$tmp/run3.out")"
fi
"$tb" run "$tmp/tiny" --name "$name" --out "$tmp/out1" --points 1 >"$tmp/run4.out" 2>&1
if [ "$(grep -c '^\[' "$tmp/run4.out")" = 1 ] && [ "$(wc -l <"$tmp/out1/results.csv")" = 2 ]; then
	ok "--points 1: one run"
else
	not_ok "--points 1: one run" "$(cat "$tmp/run4.out")"
fi

# --sshloginfile with this machine (':'), two runs at once: parallel neither
# transfers the file nor returns results for local jobs, which start in an
# empty directory (before: 'no experiment file tiny', no row).
if command -v parallel >/dev/null; then
	echo "2/:" >"$tmp/here"
	"$tb" run "$tmp/tiny" --sshloginfile "$tmp/here" --out "$tmp/outp" >"$tmp/runp.out" 2>&1
	rc=$?
	# parallel's job log: the second run started before the first ended
	# (before: -j1 held ':' to one job at a time, whatever its 2/).
	overlap=$(python3 - "$tmp/outp/runners/joblog" <<'X'
import csv, sys
jobs = sorted((float(r["Starttime"]), float(r["JobRuntime"]))
              for r in csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print(len(jobs) == 2 and jobs[1][0] < jobs[0][0] + jobs[0][1])
X
)
	if [ "$rc" = 0 ] && [ "$(grep -c '^\[[12]/2\] tiny sched=[a-z]* rep=1: 1.0 MB in .* ok$' \
		"$tmp/runp.out")" = 2 ] && [ "$(grep -c ',1,,' "$tmp/outp/results.csv")" = 2 ] &&
		[ "$(ls "$tmp/outp/runs" | wc -l)" = 2 ] && [ -z "$(ls "$tmp/outp/runners" | grep job-)" ] &&
		[ "$overlap" = True ]; then
		ok "--sshloginfile ':' (this machine, 2 at once): 2 ok rows, their runs' files merged, the runs overlapped"
	else
		not_ok "--sshloginfile ':': 2 ok rows, at once" "exit $rc, overlap $overlap" \
			"$(cat "$tmp/runp.out")" "$(cat "$tmp/outp/results.csv")" "$(cat "$tmp/outp/runners/joblog")"
	fi
	# A local job interrupted before its row leaves DIR/runners/job-RUN with
	# a results.csv of the header only: --resume sends RUN again and gets it
	# (before: 'job-RUN/results.csv exists: --resume ...', no row).
	last=$(tail -n 1 "$tmp/outp/results.csv" | cut -d, -f2)
	sed -i '$d' "$tmp/outp/results.csv"
	mkdir "$tmp/outp/runners/job-$last"
	head -n 1 "$tmp/outp/results.csv" >"$tmp/outp/runners/job-$last/results.csv"
	"$tb" run "$tmp/tiny" --sshloginfile "$tmp/here" --out "$tmp/outp" --resume \
		>"$tmp/runp2.out" 2>&1
	if [ "$(grep -c '^\[2/2\] tiny .* ok$' "$tmp/runp2.out")" = 1 ] &&
		[ "$(tail -n 1 "$tmp/outp/results.csv" | cut -d, -f2,15)" = "$last,1" ]; then
		ok "--sshloginfile ':' --resume after a job was interrupted: its run again, ok"
	else
		not_ok "--sshloginfile ':' --resume after an interrupted job" "$(cat "$tmp/runp2.out")" \
			"$(cat "$tmp/outp/results.csv")"
	fi
fi

# ---- a design: WSP points, both orders, a zipped sweep, the ratio CDF ----
cat >"$tmp/design" <<'X'
# design: one WSP point of two ranges, both path orders, one path against two
paths 2
design wsp 5
class only
vary bw1 20 40 mbit
vary bw2 40 60 mbit
order both
link 1 delay 5ms rate $bw1 queue 50ms
link 2 delay 10ms rate $bw2 queue 50ms
get 1MB
sweep multipath,cc no,cubic yes,olia
ratio multipath yes no
X
"$tb" run "$tmp/design" --name "$name" --out "$tmp/design-out" --points 1 >"$tmp/design.out" 2>&1
rc=$?
dsum=$(python3 - "$tmp/design-out/results.csv" <<'X'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(len(rows), sum(r["ok"] == "1" for r in rows),
      sorted({(r["param_order"], r["multipath"], r["cc"]) for r in rows}) ==
      [("12", "no", "cubic"), ("12", "yes", "olia"), ("21", "no", "cubic"), ("21", "yes", "olia")],
      # order 21 swaps the links
      all(r["link1"].startswith("delay 5ms") == (r["param_order"] == "12") for r in rows))
X
)
if [ "$rc" = 0 ] && [ "$dsum" = "4 4 True True" ] && grep -q '<svg' "$tmp/design-out/ratio-cdf.svg" &&
	grep -q "^ratio only: 2 pairs, median multipath=yes/multipath=no time ratio" "$tmp/design.out"; then
	ok "a design: 1 point x 2 orders x (cubic single path, olia multipath), ratio CDF ($(grep '^ratio' "$tmp/design.out"))"
else
	not_ok "a design: orders, zipped sweep, ratio CDF" "exit $rc; rows ok combos swapped: $dsum" \
		"$(cat "$tmp/design.out")"
fi

# ---- the time limit follows from the links: timeout is its floor ----
# Twice the download at the link's rate, or at the loss-limited rate of
# Reno (sqrt(3/2) packets of 1450 bytes per RTT over sqrt(p)) when lower,
# over the best path a run uses; before, every run had the file's timeout
# (300 s in conext17, too short for 20 MB at 1.4 Mbit/s with 1.9 % loss).
lims=$(python3 - "$(dirname "$tb")" <<'X'
import sys
sys.path.insert(0, sys.argv[1])
from experiment import limit_seconds
def point(multipath, *links):
    return {"settings": {"timeout": "300s", "get": "20MB", "multipath": multipath,
                         "paths": str(len(links))},
            "links": {i: l for i, l in enumerate(links, 1)}}
slow = "delay 196.2ms rate 1.439mbit queue 98.92ms loss 1.93%"
fast = "ab delay 139.8ms ba delay 139.8 rate 12.8mbit queue 1916ms loss 0.01083"
print(round(limit_seconds(point("no", slow, fast))), round(limit_seconds(point("no", fast, slow))),
      round(limit_seconds(point("yes", slow, fast))),
      round(limit_seconds(point("no", "delay 10ms rate 50mbit loss 1%"))),
      round(limit_seconds(point("no", "trace /x loss 2%", slow))))
X
)
if [ "$lims" = "1228 655 655 300 300" ]; then
	ok "time limits from the links: 1228 s, 655 s (single path), 655 s (multipath: the best path), the floor 300 s twice"
else
	not_ok "time limits from the links" "got $lims, want 1228 655 655 300 300"
fi
# A run whose link never delivers: it fails at the limit its link gives
# (1 MB at 4 Mbit/s: 2 s, twice that), not at the file's 1 s.
cat >"$tmp/stuck" <<'X'
paths 1
link 1 rate 4mbit
at 0s link 1 down
get 1MB
timeout 1s
X
"$tb" run "$tmp/stuck" --name "$name" --out "$tmp/stuck-out" >"$tmp/stuck.out" 2>&1
if grep -q '^\[1/1\] stuck rep=1: no summary, FAILED (timeout after 4s)$' "$tmp/stuck.out"; then
	ok "a run past its limit: $(grep '^\[' "$tmp/stuck.out")"
else
	not_ok "a run past its limit fails at 4 s" "$(cat "$tmp/stuck.out")"
fi

# ---- a bad file: one line, naming the line ----
printf 'paths 2\nlink 1 delay 5ms\nsched fastest\n' >"$tmp/bad"
"$tb" run "$tmp/bad" --name "$name" --out "$tmp/bad-out" >"$tmp/bad.out" 2>&1
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/bad.out")" = 1 ] &&
	grep -q "bad: line 3: sched: 'fastest' is not one of" "$tmp/bad.out"; then
	ok "a bad experiment file: $(cat "$tmp/bad.out")"
else
	not_ok "a bad experiment file: one line naming it, exit 2" "exit $rc" "$(cat "$tmp/bad.out")"
fi
printf 'link 1 delay $d\n' >"$tmp/bad2"
"$tb" run "$tmp/bad2" --name "$name" --out "$tmp/bad-out" >"$tmp/bad2.out" 2>&1
rc=$?
if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/bad2.out")" = 1 ] && grep -q "line 1: no variable \$d" "$tmp/bad2.out"; then
	ok "an unknown variable: $(cat "$tmp/bad2.out")"
else
	not_ok "an unknown variable: one line, exit 2" "exit $rc" "$(cat "$tmp/bad2.out")"
fi

# ---- SIGINT in the middle of a transfer ----
sed 's/get 1MB/get 50MB/; s/rate 50mbit/rate 10mbit/' "$tmp/tiny" >"$tmp/slow"
"$tb" run "$tmp/slow" --name "${name}i" --out "$tmp/int" >"$tmp/int.out" 2>&1 &
rpid=$!
inflight=""
# The client's process (the namespace also runs up's short-lived commands).
client_runs() {
	for p in $(ip netns pids "${name}i-c" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = mpq-client ] && return 0
	done
	return 1
}
for _ in $(seq 300); do
	if client_runs; then
		inflight=$(for ns in c s r1 r2; do ip netns pids "${name}i-$ns" 2>/dev/null; done)
		break
	fi
	sleep 0.1
done
sleep 0.5
kill -INT "$rpid"
wait "$rpid"
rc=$?
rpid=""
left=$(ip netns list | awk '{print $1}' | grep "^${name}i-")
# Alive: a process that is not a zombie (the emulators' parent is init, which
# may reap them a moment later).
alive=""
for p in $inflight; do
	[ -e "/proc/$p" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$p/stat" 2>/dev/null &&
		alive="$alive $p"
done
if [ -n "$inflight" ] && [ "$rc" = 130 ] && [ -z "$left" ] && [ -z "$alive" ] &&
	[ ! -e "$MPQ_TESTBED_RUN/${name}i" ]; then
	ok "SIGINT mid-run: exit 130, no namespace, none of the $(echo $inflight | wc -w) processes left"
else
	not_ok "SIGINT mid-run leaves nothing behind" "exit $rc; namespaces: $left; alive:$alive" \
		"in flight: $inflight" "$(cat "$tmp/int.out")"
fi

# ---- handover: byte-exact ----
"$tb" run "$(dirname "$tb")/experiments/handover" --name "$name" --out "$tmp/ho" --capture \
	>"$tmp/ho.out" 2>&1
ho=$(python3 - "$tmp/ho/results.csv" <<'X'
import csv, sys
r = list(csv.DictReader(open(sys.argv[1])))[0]
print(r["ok"], r["bytes"], r["error"] or "-", int(r["path1_bytes"]) > 0, int(r["path2_bytes"]) > 0)
X
)
if [ "$ho" = "1 20000000 - True True" ]; then
	ok "handover: 20 MB byte-exact over both paths ($(grep '^\[' "$tmp/ho.out"))"
else
	not_ok "handover completes byte-exact" "ok bytes error p1>0 p2>0: $ho" "$(cat "$tmp/ho.out")"
fi
hod=$(ls -d "$tmp"/ho/runs/*)
if [ -s "$hod/client.pcapng" ] && [ -s "$hod/path1.pcapng" ] && [ -s "$hod/path2.pcapng" ] &&
	[ "$(ls "$hod"/trace/*-throughput.svg "$hod"/trace/*-rtt.png 2>/dev/null | wc -l)" = 2 ] &&
	grep -q "decrypted [1-9][0-9]*, undecryptable 0" "$hod/trace/summary.txt"; then
	ok "--capture: the client's and both emulators' pcapng, mpq-trace's plots of the client's"
else
	not_ok "--capture: captures and mpq-trace plots" "$(ls -R "$hod")" \
		"$(head -3 "$hod/trace/summary.txt" 2>&1)"
fi
finish
