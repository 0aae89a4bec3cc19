# Sourced by the benchmarks over veth pairs: bench_namespaces PREFIX names a
# client ($cns) and a server ($sns) namespace, makes a scratch directory $tmp,
# and at exit kills the server $spid (when set) and removes all three.
bench_namespaces() {
	cns=${1}c$$
	sns=${1}s$$
	tmp=$(mktemp -d)
	spid=
	trap bench_cleanup EXIT
	trap 'exit 1' INT TERM
}

bench_cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	ip netns del "$cns" 2>/dev/null
	ip netns del "$sns" 2>/dev/null
	rm -rf "$tmp"
}
