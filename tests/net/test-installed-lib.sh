#!/bin/sh
# The installed library is enough for a program of its own (issue 9): after
# make install DESTDIR=... PREFIX=/opt/mpq, tests/net/installed/one_dgram.c,
# copied out of the tree, builds with the flags pkg-config gives for libmpq
# alone (no lib/ path; every installed header compiles on its own) and moves
# one datagram over the UDP path I/O backend on loopback with the public event
# loop, linked to the installed libmpq.so.
# Uses the build in the repository's build/. Prints "N passed, N failed" last.
#   tests/net/test-installed-lib.sh [BINDIR]      (BINDIR unused)
set -u

. "$(dirname "$0")/lib.sh"
need_tools pkg-config cc
repo=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT INT TERM

if ! make -s -C "$repo" install DESTDIR="$dest" PREFIX=/opt/mpq >"$dest/make.log" 2>&1; then
	not_ok "make install DESTDIR=... PREFIX=/opt/mpq" "$(tail -n 5 "$dest/make.log")"
	finish
fi
mkdir "$dest/src"
cp "$repo/tests/net/installed/one_dgram.c" "$dest/src/"
flags=$(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$dest/opt/mpq/lib/pkgconfig \
	pkg-config --cflags --libs libmpq 2>&1)
case "$flags" in
*"$repo"*) not_ok "pkg-config flags stay in the installation" "$flags" ;;
esac
# Every installed header compiles on its own: none needs a header of lib/.
bad=""
n=0
for h in $(cd "$dest/opt/mpq/include" && find mpq -name '*.h' | sort); do
	n=$((n + 1))
	if ! echo "#include <$h>" | cc -std=gnu11 -Wall -Werror -fsyntax-only -x c - $flags \
		>"$dest/h.log" 2>&1; then
		bad="$bad $h: $(grep -m 1 error "$dest/h.log")"
	fi
done
if [ -z "$bad" ] && [ "$n" -gt 0 ]; then
	ok "each of the $n installed headers compiles alone"
else
	not_ok "each installed header compiles alone ($n)" "$bad"
fi
if (cd "$dest/src" && cc -std=gnu11 -Wall -Wextra -Werror -o one_dgram one_dgram.c $flags) \
	>"$dest/cc.log" 2>&1; then
	ok "one_dgram.c builds with pkg-config alone: $flags"
else
	not_ok "one_dgram.c builds with pkg-config alone: $flags" "$(head -n 8 "$dest/cc.log")"
	finish
fi
lib=$(LD_LIBRARY_PATH=$dest/opt/mpq/lib ldd "$dest/src/one_dgram" | awk '/libmpq/ { print $3 }')
if [ "$lib" = "$dest/opt/mpq/lib/libmpq.so.0" ]; then
	ok "it links the installed libmpq.so.0"
else
	not_ok "it links the installed libmpq.so.0" "ldd says: $lib"
fi
if out=$(LD_LIBRARY_PATH=$dest/opt/mpq/lib timeout 10 "$dest/src/one_dgram" 2>&1) &&
	echo "$out" | grep -q "^udp: 13 bytes from 127\.0\.0\.1:[0-9]*$"; then
	ok "one datagram over the udp backend ($out)"
else
	not_ok "one datagram over the udp backend" "$out"
fi
finish
