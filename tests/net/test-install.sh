#!/bin/sh
# make install (into a DESTDIR) installs the tools with their man pages, so
# that "man mpq-client" works after it, and libmpq.pc with the PREFIX given;
# make uninstall removes them.
# Uses the build in the repository's build/ (make net builds it first).
# Prints "N passed, N failed" last.
#   tests/net/test-install.sh [BINDIR]      (BINDIR unused: the repository's build)
set -u

. "$(dirname "$0")/lib.sh"
repo=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT INT TERM

if ! make -s -C "$repo" install DESTDIR="$dest" PREFIX=/usr >"$dest.log" 2>&1; then
	not_ok "make install DESTDIR=..." "$(tail -n 5 "$dest.log")"
	rm -f "$dest.log"
	finish
fi
rm -f "$dest.log"
# libmpq.pc names the PREFIX given to make install, not the one of an earlier make.
pcvars=$(for v in prefix libdir includedir; do
	PKG_CONFIG_LIBDIR=$dest/usr/lib/pkgconfig pkg-config --variable=$v libmpq 2>&1
done | tr '\n' ' ')
if [ "$pcvars" = "/usr /usr/lib /usr/include " ]; then
	ok "make install PREFIX=/usr: libmpq.pc says prefix /usr, libdir /usr/lib, includedir /usr/include"
else
	not_ok "make install PREFIX=/usr: libmpq.pc directories" "$pcvars"
fi
for tool in mpq-client mpq-server; do
	page=$dest/usr/share/man/man1/$tool.1
	if [ -x "$dest/usr/bin/$tool" ] && [ -f "$page" ] &&
		MANPATH=$dest/usr/share/man man -w "$tool" 2>/dev/null | grep -q "^$page$"; then
		ok "make install: $tool and its man page (man -w finds $tool.1)"
	else
		not_ok "make install: $tool and its man page" "$(ls -R "$dest/usr" 2>&1 | head -20)"
	fi
done
make -s -C "$repo" uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null 2>&1
left=$(find "$dest" -type f | head -5)
if [ -z "$left" ]; then
	ok "make uninstall removes every file"
else
	not_ok "make uninstall removes every file" "$left"
fi
finish
