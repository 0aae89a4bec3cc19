#!/bin/sh
# The README's "Using the tools" commands, run as written (issue 10): its
# first block (up to "kill %1") in a fresh network namespace with a private
# /tmp, from a directory where build/ is this build: every command exits 0,
# the server's certificate verifies with --ca, and ./file.bin is the file the
# server has. Needs root (namespaces). Prints "N passed, N failed" last.
#   tests/net/test-readme.sh [BINDIR]      (default: build/bin)
set -u

. "$(dirname "$0")/lib.sh"
need_root "a network namespace and a private /tmp"
need_tools ip unshare bash
repo=$(cd "$(dirname "$0")/../.." && pwd)
ns=mpqreadme$$
out=$(mktemp -d -p /var/tmp)	# not in /tmp, which the block gets empty
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$out"' EXIT
trap 'exit 1' INT TERM

# The block, up to and with "kill %1"; "set -e" so that any failing line counts.
awk '/^## Using the tools/ { f = 1 } f && /^```sh/ { g = 1; next } g && /^```/ { exit }
	g { print } g && /^kill %1/ { exit }' "$repo/README.md" >"$out/block.sh"
if ! grep -q "^kill %1" "$out/block.sh"; then
	not_ok "README's first block found" "$(head -5 "$out/block.sh")"
	finish
fi
ip netns add "$ns" && ip -n "$ns" link set lo up
ip netns exec "$ns" unshare -m bash -c '
	mount -t tmpfs none /tmp && mkdir /tmp/run && cd /tmp/run && ln -s "$1" build &&
	{ set -e; . "$2"; } >/dev/null 2>"$3/err" && cmp /tmp/www/file.bin file.bin' \
	bash "$(dirname "$BIN")" "$out/block.sh" "$out" >"$out/cmp" 2>&1
rc=$?
if [ "$rc" = 0 ]; then
	ok "the README's first block runs as written ($(grep -c . "$out/block.sh") lines)"
else
	not_ok "the README's first block runs as written" "exit $rc" "$(cat "$out/cmp" "$out/err")"
fi
finish
