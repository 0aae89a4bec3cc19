#!/bin/sh
# make demo's script as root (testbed/demo.sh): a two-path testbed with
# emulated links (mpq-testbed run), one multipath transfer of 20 MB, the
# results printed with where the qlogs, captures and plot are (there, and
# not empty), and nothing left afterwards; without root it runs over
# loopback and says so.
# Prints "N passed, N failed" last.
#   tests/net/test-demo.sh [BINDIR]     (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools ip python3 timeout setpriv
demo=$(cd "$(dirname "$0")/../../testbed" && pwd)/demo.sh
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

before=$(ip netns list | grep -c "^demo")
BIN=$BIN DEMO_OUT=$tmp/demo timeout 120 sh "$demo" 20000000 >"$tmp/out" 2>&1
rc=$?
paths=$(grep -c "^path [01] p[12] .*: active, [0-9]*% of the bytes" "$tmp/out")
small=$(sed -n 's/^path .*: active, \([0-9]*\)% of the bytes.*/\1/p' "$tmp/out" |
	awk '$1 < 10' | wc -l)
if [ "$rc" = 0 ] && grep -q "^result: ok, 20000000 bytes" "$tmp/out" && [ "$paths" = 2 ] &&
	[ "$small" = 0 ] && grep -q "^testbed demo[0-9]*: two paths" "$tmp/out"; then
	ok "as root: 20 MB over two emulated paths, each with 10 % or more ($(grep '^result' "$tmp/out" | cut -d, -f2-3))"
else
	not_ok "as root: a multipath transfer over the testbed" "exit $rc" "$(cat "$tmp/out")"
fi
if [ "$(grep -c "^  path [12] \(ab\|ba\) forwarded=[1-9]" "$tmp/out")" = 4 ]; then
	ok "the link emulators' counters printed, both directions of both paths"
else
	not_ok "the link emulators' counters printed" "$(cat "$tmp/out")"
fi
run=$(sed -n 's|^  results.csv; qlogs: runs/\([^/]*\)/qlog/.*|\1|p' "$tmp/out")
d=$tmp/demo/runs/$run
if [ -n "$run" ] && [ -s "$d/client.pcapng" ] && [ -s "$d/path1.pcapng" ] && [ -s "$d/path2.pcapng" ] &&
	[ "$(ls "$d"/qlog/*.sqlog 2>/dev/null | wc -l)" = 2 ] &&
	grep -q '<svg' "$tmp/demo/timeline-$run.svg" && [ -s "$tmp/demo/timeline-$run.png" ]; then
	ok "qlogs (2), captures (client and both emulators) and the timeline plot where it says"
else
	not_ok "qlogs, captures and plot where it says" "$(grep -A2 '^files' "$tmp/out")" \
		"$(ls -R "$tmp/demo" 2>&1 | head -20)"
fi
if [ "$(ip netns list | grep -c "^demo")" = "$before" ]; then
	ok "the testbed is torn down afterwards"
else
	not_ok "the testbed is torn down afterwards" "$(ip netns list | grep "^demo")"
fi
cd "$tmp" || exit 1
BIN=$BIN timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups sh "$demo" 2000000 \
	>"$tmp/user.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && head -n 1 "$tmp/user.out" | grep -q "^demo: not root, so one path over loopback" &&
	grep -q "^result: ok, 2000000 bytes" "$tmp/user.out"; then
	ok "without root: over loopback, and says so"
else
	not_ok "without root: over loopback, and says so" "exit $rc" "$(cat "$tmp/user.out")"
fi
finish
