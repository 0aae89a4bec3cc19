# Sourced by the benchmark scripts: sizes for quick mode, skipping, medians,
# one download's goodput with mpq-client or picoquicdemo, and namespaces.
BIN=${BIN:-build/bin}
PICOQUICDEMO=${PICOQUICDEMO:-$(cd "$(dirname "$0")/../.." && pwd)/shared/peers/picoquicdemo}

# quick Q FULL: Q with BENCH_QUICK set (make bench QUICK=1), else FULL.
quick() {
	if [ -n "${BENCH_QUICK:-}" ]; then echo "$1"; else echo "$2"; fi
}

# skip WHY: the benchmark cannot run here; one line and exit 77.
skip() {
	echo "$(basename "$0" .sh): skipped ($1)"
	exit 77
}

need_root() {
	if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
		skip "needs root and ip for $1"
	fi
}

# need_bins FILE...: each built, else a failure saying what to build.
need_bins() {
	for b in "$@"; do
		if [ ! -x "$b" ]; then
			echo "$(basename "$0" .sh): needs $b (make bench)"
			exit 1
		fi
	done
}

# median X...: the median of the numbers (the mean of the middle two when even).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B: A / B to two places (0 when B is 0).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b ? a / b : 0 }'
}

# mpq_goodput [ip netns exec NS] ARGS... URL: one mpq-client download to
# /dev/null; prints its goodput in Mbit/s, 0 when it failed (its stderr goes
# to $tmp/client.err).
mpq_goodput() {
	"$@" 2>>"$tmp/client.err" | python3 -c 'import json, sys
j = json.load(sys.stdin)
print(j["goodput_mbps"] if j["urls"][0]["status"] == "ok" else 0)' 2>/dev/null || echo 0
}

# pq_cert DIR: a self-signed P-256 certificate for picoquicdemo's server,
# DIR/cert.pem and DIR/key.pem.
pq_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=localhost -keyout "$1/key.pem" -out "$1/cert.pem" >/dev/null 2>&1
}

# pq_goodput [ip netns exec NS] picoquicdemo ARGS...: one picoquicdemo client
# download (-D: not stored), run in a fresh directory (it keeps tickets and
# tokens in its working directory and would resume); prints its goodput in
# Mbit/s, 0 when it failed twice. A failed run is tried once more (its
# multipath client sometimes exits -1 at once) and counted in $tmp/pq.retries
# (pq_retries says how many).
pq_goodput() {
	for try in 1 2; do
		d=$(mktemp -d "$tmp/pq.XXXXXX")
		(cd "$d" && timeout 300 "$@" >"$d/out" 2>&1)
		g=$(sed -n 's/^Received [0-9]* bytes in [0-9.]* seconds, \([0-9.]*\) Mbps\.$/\1/p' "$d/out")
		[ -z "$g" ] && tail -n 3 "$d/out" >>"$tmp/client.err"
		rm -rf "$d"
		[ -n "$g" ] && break
		[ "$try" = 1 ] && echo >>"$tmp/pq.retries"
	done
	echo "${g:-0}"
}

# pq_retries: "; picoquicdemo runs tried again after a failure: N" when N > 0.
pq_retries() {
	[ -s "$tmp/pq.retries" ] &&
		echo "; picoquicdemo runs tried again after a failure: $(wc -l <"$tmp/pq.retries")"
}

# wait_listening FILE [N]: until FILE has N (default 1) "listening on" lines, 5 s at most.
wait_listening() {
	for _ in $(seq 50); do
		[ "$(grep -c "^listening on" "$1" 2>/dev/null)" -ge "${2:-1}" ] && return 0
		sleep 0.1
	done
	return 1
}

# bench_namespaces PREFIX: names a client ($cns) and a server ($sns)
# namespace, makes a scratch directory $tmp, and at exit kills the processes
# in $pids and removes all three.
bench_namespaces() {
	cns=${1}c$$
	sns=${1}s$$
	scratch
}

# scratch: a scratch directory $tmp; at exit the processes in $pids are
# killed and the namespaces $cns and $sns (when set) removed.
scratch() {
	tmp=$(mktemp -d)
	pids=""
	trap bench_cleanup EXIT
	trap 'exit 1' INT TERM
}

# veth_pair NET: the namespaces $cns and $sns joined by one veth pair, bc0
# (10.NET.0.1/24) -- bs0 (10.NET.0.2/24), IPv4 only (a link-local IPv6
# address still tentative, after the link came up or its MTU changed, would
# stop a server from listening on the interface). Exits 1 when it cannot.
veth_pair() {
	ip netns add "$cns" && ip netns add "$sns" &&
		ip netns exec "$cns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
		ip netns exec "$sns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
		ip link add bc0 netns "$cns" type veth peer name bs0 netns "$sns" &&
		ip -n "$cns" addr add "10.$1.0.1/24" dev bc0 &&
		ip -n "$sns" addr add "10.$1.0.2/24" dev bs0 &&
		ip -n "$cns" link set bc0 up && ip -n "$sns" link set bs0 up &&
		ip -n "$cns" link set lo up && ip -n "$sns" link set lo up || {
		echo "$(basename "$0" .sh): cannot make the veth pair"
		exit 1
	}
}

bench_cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	[ -n "${cns:-}" ] && ip netns del "$cns" 2>/dev/null
	[ -n "${sns:-}" ] && ip netns del "$sns" 2>/dev/null
	rm -rf "$tmp"
}

# runs X...: the numbers rounded, comma-separated, for the record of each run.
runs() {
	printf '%s\n' "$@" | awk '{ printf "%s%.0f", (NR > 1 ? ", " : ""), $1 } END { print "" }'
}

# any_failed X...: true when a run gave 0 (failed).
any_failed() {
	for x in "$@"; do
		[ "$x" = 0 ] && return 0
	done
	return 1
}
