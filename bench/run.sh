#!/bin/sh
# Runs every benchmark: the in-memory ones given as arguments, then the
# loopback comparison against iperf3 (bench/loopback.sh), --io xdp against
# --io udp over a veth pair (bench/xdp_veth.sh, as root) and two paths against
# one over two links shaped to 100 Mbit/s (bench/twopath_veth.sh, as root)
# and the link emulator's forwarding rate against a kernel bridge
# (bench/linkemu_veth.sh, as root) and mpq-trace decrypting a capture against
# tshark (bench/trace.sh, as root) and the aggregation experiment of the
# testbed (bench/testbed_aggregation.sh, as root).
# Benchmarks print ratios against a baseline measured in the same run; none
# of them asserts.
set -u
for b in "$@"; do
	"$b" || echo "$b: failed"
done
sh "$(dirname "$0")/loopback.sh"
sh "$(dirname "$0")/xdp_veth.sh"
sh "$(dirname "$0")/twopath_veth.sh"
sh "$(dirname "$0")/linkemu_veth.sh"
sh "$(dirname "$0")/trace.sh"
sh "$(dirname "$0")/testbed_aggregation.sh"
