#!/bin/sh
# test-linkemu.sh's checks with the emulator on AF_XDP (--io xdp): the same
# accuracy as with AF_PACKET, xdp the default, the fallback to packet.
#   tests/net/test-linkemu-xdp.sh [BINDIR]     (default: build/bin)
MPQ_LINKEMU_IO=xdp exec sh "$(dirname "$0")/test-linkemu.sh" "$@"
