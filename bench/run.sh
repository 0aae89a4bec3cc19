#!/bin/sh
# The benchmark suite (make bench): each benchmark runs with its baseline in
# the same invocation and prints ratios; none of them asserts.
#   sh bench/run.sh [NAME...]          (make bench B="NAME...")
# NAME is one of the list below (default: all). The machine's details go
# first (CPU, cores, kernel, load average, date, commit): other processes
# share the cores, and the ratios are what carries over. A full run rewrites
# each benchmark's part of the "Figures" section of docs/performance.md
# (bench/figures.py, between its marker comments; the rest of the file
# stays as it is).
#   BENCH_QUICK=1  small sizes and few repetitions, to see that every script
#                  still works (make bench QUICK=1; ci/bench-smoke.sh); the
#                  document is left alone
#   BIN            the tools (default build/bin; the benchmark binaries are
#                  in its ../bench)
# A benchmark that cannot run here (no root, a peer missing) says why in one
# line and exits 77; run.sh lists it as skipped. Exit status: non-zero when a
# benchmark failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.." || exit 1 # the commands below are as run from the top
BIN=${BIN:-build/bin}
BB=$(dirname "$BIN")/bench
export BIN BENCH_QUICK=${BENCH_QUICK:-}
ALL="conn rob capture xdpprog loopback xdp picoquic multipath tcp testbed handshakes memory linkemu trace"

# quick Q FULL: Q in quick mode, else FULL.
quick() {
	if [ -n "$BENCH_QUICK" ]; then echo "$1"; else echo "$2"; fi
}

# command NAME: the command that runs benchmark NAME (as the document shows it).
command_of() {
	case $1 in
	conn) echo "$BB/bench_conn $(quick 20 200)" ;;
	rob) echo "$BB/bench_rob $(quick 4096 65536)" ;;
	capture) echo "$BB/bench_capture $(quick 5000 200000)" ;;
	xdpprog) echo "$BB/bench_xdp_prog $(quick 100000 2000000)" ;;
	loopback) echo "sh bench/loopback.sh" ;;
	xdp) echo "sh bench/xdp_veth.sh" ;;
	picoquic) echo "sh bench/picoquic.sh" ;;
	multipath) echo "sh bench/twopath_veth.sh" ;;
	tcp) echo "sh bench/tcp_compare.sh" ;;
	testbed) echo "sh bench/testbed_aggregation.sh" ;;
	handshakes) echo "sh bench/handshakes.sh" ;;
	memory) echo "sh bench/memory.sh" ;;
	linkemu) echo "sh bench/linkemu_veth.sh" ;;
	trace) echo "sh bench/trace.sh" ;;
	*) return 1 ;;
	esac
}

names=${*:-$ALL}
for n in $names; do
	if ! command_of "$n" >/dev/null; then
		echo "bench: no benchmark '$n' (one of: $ALL)"
		exit 2
	fi
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# (the document this run rewrites does not count)
[ -n "$(git status --porcelain --untracked-files=no -- . ':!docs/performance.md' 2>/dev/null)" ] &&
	commit="$commit (with uncommitted changes)"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
# machine: the details, with the load average at the time it is called.
machine() {
	echo "${cpu:-unknown CPU}, $(nproc) cores, Linux $(uname -r), load average" \
		"$(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
}
echo "bench: $(machine)"
[ -n "$BENCH_QUICK" ] && echo "bench: quick mode (small sizes: the figures mean nothing)"

passed=0
failed=0
skipped=0
for n in $names; do
	cmd=$(command_of "$n")
	echo "== $n: $cmd"
	start=$(date +%s)
	before=$(machine)
	# shellcheck disable=SC2086 # the command is words
	$cmd >"$out/$n.out" 2>&1
	rc=$?
	sed 's/^/  /' "$out/$n.out"
	secs=$(($(date +%s) - start))
	case $rc in
	0) status=ok passed=$((passed + 1)) ;;
	77) status=skipped skipped=$((skipped + 1)) ;;
	*) status="failed (exit $rc)" failed=$((failed + 1)) ;;
	esac
	echo "   ($status, ${secs}s)"
	{
		echo "$n"
		echo "$cmd"
		echo "$status"
		echo "$before"
		cat "$out/$n.out"
	} >"$out/$n.fig"
done

if [ -z "$BENCH_QUICK" ]; then
	figs=""
	for n in $names; do
		figs="$figs $out/$n.fig"
	done
	# shellcheck disable=SC2086
	python3 bench/figures.py docs/performance.md $figs &&
		echo "bench: docs/performance.md rewritten (Figures: $names)"
fi
echo "bench: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
