#!/bin/sh
# Runs every benchmark: the in-memory ones given as arguments, then the
# loopback comparison against iperf3 (bench/loopback.sh). Benchmarks print
# ratios against a baseline measured in the same run; none of them asserts.
set -u
for b in "$@"; do
	"$b" || echo "$b: failed"
done
sh "$(dirname "$0")/loopback.sh"
