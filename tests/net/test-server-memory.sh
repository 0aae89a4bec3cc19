#!/bin/sh
# What one client can make the server hold (loopback, no privileges needed):
# the client asks for 1,000 bodies of 300 kB on 1,000 streams at once, then
# stops reading (SIGSTOP). Its credit (mpq-client's default, 1 MiB per stream
# and 1 MiB for the connection, growing as it reads) would let a server that
# buffers whatever the application writes hold all 300 MB; send buffers
# allocated as written and charged to the connection's 32 MiB budget keep it
# to that. The bound, 64 MB above the server's RSS before the client came:
# 32 MiB of send buffers plus the 1,000 streams' own state (about 4 KiB each
# touched) and the receive side, with room to spare; a server with a 1 MiB
# ring per stream held all of it. Once the client goes on and finishes,
# the server gives what it freed back (malloc_trim): its RSS ends within
# 24 MB of where it started.
#   tests/net/test-server-memory.sh [BINDIR]      (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
SERVER=$BIN/mpq-server
CLIENT=$BIN/mpq-client
STREAMS=1000
BODY=300000
BOUND_KB=$((64 * 1024))
AFTER_KB=$((24 * 1024))
loopback_scratch
client_pid=""

cleanup() {
	[ -n "$client_pid" ] && kill -CONT "$client_pid" 2>/dev/null &&
		kill "$client_pid" 2>/dev/null && wait "$client_pid" 2>/dev/null
	loopback_cleanup
}
trap cleanup EXIT

# status_kb PID FIELD: a VmRSS-like field of /proc/PID/status, in kB.
status_kb() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"
}

if [ ! -x "$SERVER" ] || [ ! -x "$CLIENT" ]; then
	not_ok "tools built" "$SERVER or $CLIENT missing: run make"
	finish
fi

mkdir "$tmp/www"
loopback_server "$tmp" -www "$tmp/www"
if [ -z "$port" ]; then
	not_ok "server listening" "$(head -c 600 "$tmp/server.err")"
	finish
fi
base_kb=$(status_kb "$server_pid" VmRSS)

urls=""
for _ in $(seq "$STREAMS"); do
	urls="$urls https://127.0.0.1:$port/$BODY"
done
# shellcheck disable=SC2086 # one word per URL
"$CLIENT" -k --discard --json $urls >"$tmp/client.json" 2>"$tmp/client.err" &
client_pid=$!
# Until the requests are out and the first bodies flow, then no more reading.
sleep 1
kill -STOP "$client_pid"
sleep 3
held_kb=$(status_kb "$server_pid" VmRSS)
peak_kb=$(status_kb "$server_pid" VmHWM)
grown_kb=$((peak_kb - base_kb))
if [ "$grown_kb" -le "$BOUND_KB" ]; then
	ok "$STREAMS streams not read: server RSS grew $((grown_kb / 1024)) MB at most (bound $((BOUND_KB / 1024)) MB; held $((held_kb / 1024)) MB)"
else
	not_ok "$STREAMS streams not read: server RSS grew $((grown_kb / 1024)) MB" \
		"bound $((BOUND_KB / 1024)) MB above the $((base_kb / 1024)) MB it started with"
fi

kill -CONT "$client_pid"
timeout 120 tail --pid="$client_pid" -f /dev/null
wait "$client_pid"
rc=$?
client_pid=""
nok=$(grep -o '"status": *"ok"' "$tmp/client.json" | wc -l)
if [ "$rc" = 0 ] && [ "$nok" = "$STREAMS" ]; then
	ok "the client read on: $STREAMS bodies whole"
else
	not_ok "the client read on: $STREAMS bodies whole" \
		"exit $rc, $nok ok; $(head -c 600 "$tmp/client.err")"
fi
# The connection closes after the client's; what it freed goes back.
end_kb=""
for _ in $(seq 50); do
	end_kb=$(status_kb "$server_pid" VmRSS)
	[ $((end_kb - base_kb)) -le "$AFTER_KB" ] && break
	sleep 0.2
done
if [ $((end_kb - base_kb)) -le "$AFTER_KB" ]; then
	ok "memory given back: server RSS $((end_kb / 1024)) MB, started at $((base_kb / 1024)) MB"
else
	not_ok "memory given back" "server RSS $((end_kb / 1024)) MB, started at" \
		"$((base_kb / 1024)) MB (allowed $((AFTER_KB / 1024)) MB more)"
fi
finish
