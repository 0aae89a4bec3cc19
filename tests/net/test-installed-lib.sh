#!/bin/sh
# The installed library is enough for a program of its own (issue 9): after
# make install DESTDIR=... PREFIX=/opt/mpq, tests/net/installed/one_dgram.c,
# copied out of the tree, builds with the flags pkg-config gives for libmpq
# alone (no lib/ path; every installed header compiles on its own), links the
# installed libmpq.so and moves one datagram over each path I/O backend with
# the public event loop: udp on loopback, and as root xdp (AF_XDP) both ways
# over a veth pair to a udp socket in another namespace. one_initial.c,
# built the same way, decrypts RFC 9001 Appendix A.2's client Initial with
# the public dissector (mpq/dissect.h) and reports its CRYPTO frame.
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
cp "$repo/tests/net/installed/one_dgram.c" "$repo/tests/net/installed/one_initial.c" "$dest/src/"
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
export LD_LIBRARY_PATH="$dest/opt/mpq/lib"
# The packet as tests/common/rfc9001_vectors.c holds it (the RFC's hex).
initial=$(awk '/rfc9001_client_initial =/ { f = 1; next } f { print } f && /;/ { exit }' \
	"$repo/tests/common/rfc9001_vectors.c" | tr -d '\t"; \n')
want="v1 pn 2 dcid 8394c8f03e515708: crypto offset 0 len 241 (ClientHello), padding 917"
if ! (cd "$dest/src" && cc -std=gnu11 -Wall -Wextra -Werror -o one_initial one_initial.c $flags) \
	>"$dest/cc.log" 2>&1; then
	not_ok "one_initial.c builds with pkg-config alone" "$(head -n 8 "$dest/cc.log")"
elif out=$("$dest/src/one_initial" "$initial" 2>&1) && [ "$out" = "$want" ]; then
	ok "one_initial.c decrypts RFC 9001 A.2's client Initial with the installed library: $out"
else
	not_ok "one_initial.c decrypts RFC 9001 A.2's client Initial (${#initial} hex digits)" \
		"want: $want" "got:  $out"
fi
prog=$dest/src/one_dgram
if out=$(timeout 10 "$prog" 2>&1) && echo "$out" | grep -q "^udp: 13 bytes from 127\.0\.0\.1:[0-9]*$"; then
	ok "one datagram over the udp backend on loopback ($(echo "$out" | tail -n 1))"
else
	not_ok "one datagram over the udp backend on loopback" "$out"
fi

# The AF_XDP backend needs root: one datagram in and one out over a veth pair,
# the other end a udp socket in another namespace.
if [ "$(id -u)" != 0 ]; then
	echo "(not root: the xdp backend is not tried)"
	finish
fi
cns=mpqic$$
sns=mpqis$$
tmp=$dest/ns
mkdir "$tmp"
pids=""
trap 'namespaces_cleanup; rm -rf "$dest"' EXIT
trap 'exit 1' INT TERM
veth_pairs ic is 67 1
# xdp_dgram DIRECTION RECV_NS RECV_BACKEND RECV_ADDR SEND_NS SEND_BACKEND SEND_ADDR
xdp_dgram() {
	rif=""
	sif=""
	[ "$3" = xdp ] && rif=$([ "$2" = "$cns" ] && echo ic1 || echo is1)
	[ "$6" = xdp ] && sif=$([ "$5" = "$cns" ] && echo ic1 || echo is1)
	ip netns exec "$2" timeout 10 "$prog" recv "$3" "$4" $rif >"$tmp/recv.out" 2>&1 &
	rpid=$!
	for _ in $(seq 50); do
		grep -q "^ready$" "$tmp/recv.out" && break
		sleep 0.1
	done
	sout=$(ip netns exec "$5" timeout 10 "$prog" send "$6" "$7" "$4" $sif 2>&1)
	wait "$rpid"
	rrc=$?
	if [ "$rrc" = 0 ] && grep -q "^$3: 13 bytes from ${7%:*}:" "$tmp/recv.out"; then
		ok "one datagram $1 ($sout; $(tail -n 1 "$tmp/recv.out"))"
	else
		not_ok "one datagram $1" "send: $sout" "recv (exit $rrc): $(cat "$tmp/recv.out")"
	fi
}
xdp_dgram "into the xdp backend from a udp socket" "$cns" xdp 10.67.1.1:4433 "$sns" udp 10.67.1.2:4000
xdp_dgram "out of the xdp backend to a udp socket" "$sns" udp 10.67.1.2:4433 "$cns" xdp 10.67.1.1:4001
finish
