#!/bin/sh
# mpq-server and mpq-client end to end on loopback (no privileges needed):
# a 20 MB file fetched whole and hashed, the --json summary, output modes,
# the key log, and each kind of bad input with its exit status and one line
# on stderr (CLI.md). Prints "N passed, N failed" last; exits 1 on a failure.
#   tests/net/test-mpq-tools.sh [BINDIR]      (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
SERVER=$BIN/mpq-server
CLIENT=$BIN/mpq-client
loopback_scratch


# check NAME WANT_STATUS PATTERN -- CMD...: runs CMD with a time limit, wants
# exit status WANT_STATUS and exactly one line on stderr matching PATTERN
# (besides the warning -k always prints).
check() {
	name=$1 want=$2 pattern=$3
	shift 4
	timeout 20 "$@" >"$tmp/out" 2>"$tmp/all"
	rc=$?
	grep -v "WARNING: --insecure" "$tmp/all" >"$tmp/err"
	lines=$(wc -l <"$tmp/err")
	if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && grep -q -- "$pattern" "$tmp/err"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc (want $want), $lines line(s) on stderr (want 1 matching" \
			"'$pattern'):" "$(head -c 600 "$tmp/err")"
	fi
}

if [ ! -x "$SERVER" ] || [ ! -x "$CLIENT" ]; then
	not_ok "tools built" "$SERVER or $CLIENT missing: run make"
	finish
fi

# ---- a server on a kernel-chosen port of 127.0.0.1 ----
mkdir "$tmp/www"
head -c 20000000 /dev/urandom >"$tmp/www/file20m"
echo hello >"$tmp/www/small.txt"
want_sha=$(sha256sum "$tmp/www/file20m" | cut -d' ' -f1)

loopback_server "$tmp" -www "$tmp/www" --keylog "$tmp/server.keys" --cert-out "$tmp/cert.pem"
if [ -n "$port" ] && grep -q "^SHA-256 fingerprint \([0-9A-F][0-9A-F]:\)\{31\}[0-9A-F][0-9A-F]$" \
	"$tmp/server.out"; then
	ok "server prints its address and the self-signed certificate's fingerprint"
else
	not_ok "server starts" "$(cat "$tmp/server.out" "$tmp/server.err")"
	finish
fi
url=https://127.0.0.1:$port

# ---- 20 MB fetched whole, with --json ----
start=$(date +%s)
timeout 60 "$CLIENT" -k --json --no-progress --keylog "$tmp/client.keys" -o "$tmp/got20m" \
	"$url/file20m" >"$tmp/json" 2>"$tmp/err"
rc=$?
if [ "$rc" = 0 ] && cmp -s "$tmp/www/file20m" "$tmp/got20m"; then
	ok "20 MB file fetched whole (exit 0, $(($(date +%s) - start)) s)"
else
	not_ok "20 MB file fetched whole" "exit $rc" "$(head -c 600 "$tmp/err")"
fi
if python3 - "$tmp/json" "$want_sha" "$url/file20m" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
want_sha, want_url = sys.argv[2], sys.argv[3]
top = ["alpn", "multipath", "handshake_ms", "seconds", "bytes_total", "goodput_mbps", "urls",
       "paths"]
url = ["url", "status", "bytes", "sha256", "seconds"]
path = ["path_id", "iface", "local", "remote", "state", "bytes_sent", "bytes_received",
        "packets_sent", "packets_received", "packets_lost", "srtt_ms", "cwnd"]
missing = [k for k in top if k not in j]
missing += ["urls[0]." + k for k in url if k not in j["urls"][0]]
missing += ["paths[0]." + k for k in path if k not in j["paths"][0]]
assert not missing, "missing: %s" % missing
u, p = j["urls"][0], j["paths"][0]
# Both ends offer multipath by default: negotiated, but one path only.
assert j["alpn"] == "hq-interop" and j["multipath"] is True, (j["alpn"], j["multipath"])
assert len(j["paths"]) == 1, j["paths"]
assert u["url"] == want_url and u["status"] == "ok", u
assert u["bytes"] == 20000000 == j["bytes_total"], (u["bytes"], j["bytes_total"])
assert u["sha256"] == want_sha, "sha256 %s, want %s" % (u["sha256"], want_sha)
assert p["state"] == "active" and p["remote"].endswith(":" + want_url.split(":")[2].split("/")[0])
assert p["bytes_received"] > 20000000 and p["packets_received"] > 0, p
assert j["handshake_ms"] > 0 and j["seconds"] > 0 and j["goodput_mbps"] > 0, j
EOF
then
	ok "--json has every CLI.md field; sha256 equals sha256sum of the file"
else
	not_ok "--json summary" "$(cat "$tmp/json")"
fi

# ---- key logs: created 0600, NSS lines, flushed as they come ----
mode=$(stat -c %a "$tmp/client.keys" 2>/dev/null)
if [ "$mode" = 600 ] && grep -q "^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]* [0-9a-f]*$" \
	"$tmp/client.keys" && grep -q "^SERVER_HANDSHAKE_TRAFFIC_SECRET " "$tmp/server.keys"; then
	ok "key logs written in NSS format, mode 0600"
else
	not_ok "key logs" "client mode $mode" "$(head -n 3 "$tmp/client.keys" 2>&1)"
fi

# ---- several URLs on one connection, -d, -o DIR, -o -, --discard ----
if timeout 20 "$CLIENT" -k -d 100 -o "$tmp/dir/" "$url/small.txt" "$url/12345" \
	2>"$tmp/err" && cmp -s "$tmp/dir/small.txt" "$tmp/www/small.txt" &&
	[ "$(stat -c %s "$tmp/dir/12345")" = 12345 ]; then
	ok "two URLs with -d 100 into -o DIR"
else
	not_ok "two URLs with -d 100 into -o DIR" "$(cat "$tmp/err")"
fi
got=$(timeout 20 "$CLIENT" -k -o - "$url/small.txt" 2>"$tmp/err")
if [ "$got" = hello ]; then
	ok "-o - writes the body to stdout"
else
	not_ok "-o - writes the body to stdout" "got '$got'" "$(cat "$tmp/err")"
fi
if (cd "$tmp" && timeout 20 "$CLIENT" -k --discard "$url/small.txt" 2>"$tmp/err") &&
	[ ! -e "$tmp/small.txt" ]; then
	ok "--discard stores nothing"
else
	not_ok "--discard stores nothing" "$(cat "$tmp/err")"
fi

# ---- a URL that fails, a certificate that does not verify ----
check "missing file: exit 1" 1 "not found" -- "$CLIENT" -k --discard "$url/no-such-file"
check "self-signed certificate without -k: exit 3" 3 "certificate.*use --ca FILE" -- \
	"$CLIENT" --discard "$url/small.txt"
if timeout 20 "$CLIENT" --ca "$tmp/cert.pem" -q -o "$tmp/ca.txt" "$url/small.txt" 2>"$tmp/err" &&
	cmp -s "$tmp/ca.txt" "$tmp/www/small.txt"; then
	ok "server --cert-out FILE, client --ca FILE: verified, no -k"
else
	not_ok "server --cert-out FILE, client --ca FILE" "$(cat "$tmp/err")"
fi
# --pin-sha256 with the fingerprint the server printed: verified, no -k or --ca.
fp=$(sed -n 's/^SHA-256 fingerprint //p' "$tmp/server.out")
if timeout 20 "$CLIENT" --pin-sha256 "$fp" -q -o "$tmp/pin.txt" "$url/small.txt" 2>"$tmp/err" &&
	cmp -s "$tmp/pin.txt" "$tmp/www/small.txt" && [ ! -s "$tmp/err" ]; then
	ok "--pin-sha256 with the server's printed fingerprint: fetched, no warning"
else
	not_ok "--pin-sha256 with the server's fingerprint" "$(cat "$tmp/err")"
fi
nocolons=$(echo "$fp" | tr -d : | tr A-F a-f)
check "--pin-sha256 of another certificate: exit 3" 3 "not the pinned certificate" -- \
	"$CLIENT" --pin-sha256 "$(echo "$nocolons" | sed 's/^f/e/;t;s/^./f/')" --discard "$url/small.txt"
check "--pin-sha256 that is not a fingerprint: exit 2" 2 "not a SHA-256 fingerprint" -- \
	"$CLIENT" --pin-sha256 "${nocolons}00" --discard "$url/small.txt"
check "--pin-sha256 with -k: exit 2" 2 "does not go with -k" -- \
	"$CLIENT" -k --pin-sha256 "$nocolons" --discard "$url/small.txt"
# A trusted certificate for another name: no --ca hint.
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=example.org -addext subjectAltName=DNS:example.org -keyout "$tmp/other.key" \
	-out "$tmp/other.pem" 2>/dev/null; then
	"$SERVER" --addr 127.0.0.1 -port 0 --cert "$tmp/other.pem" --key "$tmp/other.key" \
		>"$tmp/other.out" 2>&1 &
	other_pid=$!
	for _ in $(seq 50); do
		oport=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/other.out")
		[ -n "$oport" ] && break
		sleep 0.1
	done
	check "certificate for another name: exit 3, no --ca hint" 3 \
		"IP address mismatch (the server's certificate does not name 127.0.0.1)$" -- \
		"$CLIENT" --ca "$tmp/other.pem" --discard "https://127.0.0.1:$oport/x"
	kill "$other_pid"
	wait "$other_pid" 2>/dev/null
fi

# ---- connection failures within a bounded time ----
closed=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
check "closed port: exit 3" 3 "cannot connect to 127.0.0.1:$closed" -- \
	"$CLIENT" --handshake-timeout 2000 --discard "https://127.0.0.1:$closed/x"
# A socket that takes datagrams and never answers: only the timeout ends it.
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1]); sys.stdout.flush(); time.sleep(15)' >"$tmp/silent" &
silent_pid=$!
for _ in $(seq 50); do
	[ -s "$tmp/silent" ] && break
	sleep 0.1
done
check "silent server: handshake timeout, exit 3" 3 "handshake timeout" -- \
	"$CLIENT" --handshake-timeout 500 --discard "https://127.0.0.1:$(cat "$tmp/silent")/x"
kill "$silent_pid" 2>/dev/null
wait "$silent_pid" 2>/dev/null

# ---- client usage errors: exit 2 ----
check "malformed URL: exit 2" 2 "bad URL" -- "$CLIENT" "http//127.0.0.1/x"
check "no URL: exit 2" 2 "no URL" -- "$CLIENT" -k
check "link-local address without its interface: exit 2" 2 "needs its interface" -- \
	"$CLIENT" -k "https://[fe80::1]:6121/x"
# RFC 6874's "%25" before the zone, as curl takes it: parsed, then not reachable.
check "link-local address with %25 zone: parsed (exit 3, not 2)" 3 "cannot connect to \[fe80::1%lo\]" -- \
	"$CLIENT" -k --handshake-timeout 300 --discard "https://[fe80::1%25lo]:9/x"
check "a long URL keeps its reason" 2 "': path too long" -- \
	"$CLIENT" -k "$url/$(head -c 3000 /dev/zero | tr '\0' a)"
check "-mip with --max-paths 0: exit 2" 2 "needs multipath" -- \
	"$CLIENT" -k --max-paths 0 -mip 127.0.0.1:1 "$url/x"
check "-mip without a port: exit 2" 2 "not an address and port" -- \
	"$CLIENT" -k -mip 127.0.0.1 "$url/x"
check "unknown path scheduler: exit 2" 2 "unknown path scheduler 'fastest'" -- \
	"$CLIENT" -k -sc fastest "$url/x"
check "unknown -n interface: exit 2" 2 "no such interface" -- \
	"$CLIENT" -k -n no-such-if0 "$url/x"
check "--io xdp: exit 2" 2 "AF_XDP" -- "$CLIENT" --io xdp "$url/x"
# Long options are spelled out (getopt_long_only took "-q" for --qlog-dir).
check "abbreviated long option: exit 2" 2 "unknown option '--qlog': did you mean --qlog-dir" -- \
	"$CLIENT" -k --qlog "$tmp/q" "$url/x"
check "server: abbreviated long option: exit 2" 2 "unknown option '-wor'" -- \
	"$SERVER" -wor 2 --addr 127.0.0.1 -port 0
check "--max-paths above the library's limit: exit 2" 2 "at most 7" -- \
	"$CLIENT" -k --max-paths 8 "$url/x"
# A bad QLOGDIR or SSLKEYLOGFILE from the environment warns; the flags are fatal.
check "bad QLOGDIR: a warning, exit 0" 0 "warning: no qlogs: QLOGDIR=" -- \
	env QLOGDIR=/dev/null/q "$CLIENT" -k -q --discard "$url/small.txt"
check "bad SSLKEYLOGFILE: a warning, exit 0" 0 "warning: no key log: SSLKEYLOGFILE=" -- \
	env SSLKEYLOGFILE=/dev/null/k "$CLIENT" -k -q --discard "$url/small.txt"
check "bad --keylog: exit 2" 2 "cannot open key log /dev/null/k" -- \
	"$CLIENT" -k --keylog /dev/null/k --discard "$url/small.txt"
check "bad --qlog-dir: exit 2" 2 "qlog-dir /dev/null/q" -- \
	"$CLIENT" -k --qlog-dir /dev/null/q --discard "$url/small.txt"
# --help names only flags the client has (it showed -port as the example).
if "$CLIENT" --help | grep -q -- "--more-remotes" && ! "$CLIENT" --help | grep -q -- "-port" &&
	"$CLIENT" -version | grep -q mpquic; then
	ok "client --help (only its own flags) and -version"
else
	not_ok "client --help and -version"
fi

# ---- --key-update N: the client starts key updates itself ----
mkdir -p "$tmp/kuq"
# (it sends a few hundred packets, ACKs, while 20 MB come in). Single path:
# with multipath an update also waits 3 PTO after the last one was acked
# (RFC 9001 §6.5 across path IDs), longer than the whole transfer takes on an
# idle machine (0.09 s), so it passed only when the machine was busy.
if timeout 60 "$CLIENT" -k --no-progress --max-paths 0 --key-update 10 --qlog-dir "$tmp/kuq" --discard \
	"$url/file20m" 2>"$tmp/ku.err" &&
	n=$(cat "$tmp"/kuq/*client* | grep -o '"trigger":"local_update"' | wc -l) &&
	[ "$n" -ge 1 ]; then
	ok "--key-update 10: the client updated its keys $n times"
else
	not_ok "--key-update 10: the client updates its keys" "$(head -c 600 "$tmp/ku.err")" \
		"$(ls "$tmp/kuq"), ${n:-0} updates"
fi

# ---- --quic-version 2: every long header packet of the connection is v2 ----
mkdir -p "$tmp/v2q"
if timeout 30 "$CLIENT" -k --no-progress --quic-version 2 --qlog-dir "$tmp/v2q" --discard \
	"$url/small.txt" 2>"$tmp/v2.err" &&
	v2=$(cat "$tmp"/v2q/* | grep -o '"version":"6b3343cf"' | wc -l) &&
	v1=$(cat "$tmp"/v2q/* | grep -o '"version":"00000001"' | wc -l) &&
	[ "$v2" -ge 2 ] && [ "$v1" = 0 ]; then
	ok "--quic-version 2: the connection is QUIC v2 ($v2 long header packets)"
else
	not_ok "--quic-version 2: the connection is QUIC v2" "$(head -c 600 "$tmp/v2.err")" \
		"v2 ${v2:-?}, v1 ${v1:-?} long header packets"
fi

# ---- --abandon-path / --backup-path MS: path 1 ends as STATE, the fetch whole ----
# Two fetches 300 ms apart keep the connection up past 50 ms: an idle machine
# moves 20 MB over loopback in less than that.
# path_option OPTION STATE
path_option() {
	if timeout 60 "$CLIENT" -k --no-progress --json -fmp "$1" 50 --delay 300 --discard \
		"$url/file20m" "$url/file20m" >"$tmp/po.json" 2>"$tmp/po.err" &&
		python3 - "$tmp/po.json" "$want_sha" "$2" <<'EOF' 2>"$tmp/po.check"
import json, sys
j = json.load(open(sys.argv[1]))
paths = j["paths"]
assert all(u["status"] == "ok" and u["sha256"] == sys.argv[2] for u in j["urls"]), j["urls"]
states = [(p["path_id"], p["state"]) for p in paths]
assert states == [(0, "active"), (1, sys.argv[3])], states
EOF
	then
		ok "$1 50 with -fmp: path 1 $2, both 20 MB fetches whole"
	else
		not_ok "$1 50 with -fmp" "$(head -c 400 "$tmp/po.err")" "$(tail -n 1 "$tmp/po.check")"
	fi
}
path_option --abandon-path abandoned
path_option --backup-path backup
# ---- --replace-path MS: path IDs past both ends' initial_max_path_id (4) ----
# Two requests 1.5 s apart keep the connection up for the replacements to
# reach a path ID past 7 (the last the library could use before it reused the
# slots of released paths). The report lists the paths the library still
# keeps, by slot, not by path ID.
if timeout 60 "$CLIENT" -k --no-progress --json -fmp --replace-path 50 --delay 1500 --discard \
	"$url/file20m" "$url/file20m" >"$tmp/rp.json" 2>"$tmp/rp.err" &&
	python3 - "$tmp/rp.json" "$want_sha" <<'EOF' 2>"$tmp/rp.check"
import json, sys
j = json.load(open(sys.argv[1]))
assert all(u["status"] == "ok" and u["sha256"] == sys.argv[2] for u in j["urls"]), j["urls"]
states = sorted((p["path_id"], p["state"]) for p in j["paths"])
assert states[-1][0] >= 8 and all(s == "abandoned" for _, s in states[1:-1]), states
EOF
then
	ok "--replace-path 50: path IDs up to $(python3 -c 'import json, sys
print(max(p["path_id"] for p in json.load(open(sys.argv[1]))["paths"]))' "$tmp/rp.json"), both fetches whole"
else
	not_ok "--replace-path 50" "$(head -c 400 "$tmp/rp.err")" "$(tail -n 1 "$tmp/rp.check")"
fi
check "client: --backup-path BACK_MS not after MS: exit 2" 2 "want MS\[:BACK_MS\]" -- \
	"$CLIENT" -k --backup-path 50:20 "$url/file20m"
check "server: --backup-path not a number: exit 2" 2 "want MS\[:BACK_MS\]" -- \
	"$SERVER" --addr 127.0.0.1 -port 0 --backup-path soon

# ---- server bad input: one line each ----
check "server: unknown interface: exit 2" 2 "no such interface" -- \
	"$SERVER" -n no-such-if0 -port 0
check "server: port in use: exit 1" 1 "Address already in use" -- \
	"$SERVER" --addr 127.0.0.1 -port "$port"
check "server: missing certificate: exit 2" 2 "cannot read certificate" -- \
	"$SERVER" --addr 127.0.0.1 -port 0 -certpath "$tmp/no-certs"
check "server: www not a directory: exit 2" 2 "not a directory" -- \
	"$SERVER" --addr 127.0.0.1 -port 0 -www "$tmp/www/small.txt"
check "server: bad flag value: exit 2" 2 "port" -- "$SERVER" -port 70000

# ---- SIGINT: the server closes its connections and exits 0 ----
kill -INT "$server_pid"
wait "$server_pid"
rc=$?
server_pid=""
if [ "$rc" = 0 ]; then
	ok "server exits 0 on SIGINT"
else
	not_ok "server exits 0 on SIGINT" "exit $rc" "$(cat "$tmp/server.err")"
fi

finish
