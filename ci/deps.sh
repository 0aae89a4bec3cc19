#!/bin/sh
# Installs the Debian/Ubuntu packages mpquic's build and tests need, and only those
# missing. Run by `make deps` and first thing by `make test`.
set -eu

PKGS="gcc make pkg-config libssl-dev libcmocka-dev libzstd-dev libpcap-dev libbpf-dev
libxdp-dev linux-libc-dev clang llvm libclang-rt-14-dev iproute2 ethtool tshark bpftool valgrind python3 zstd iperf3
gnuplot-nox clang-format openssh-server openssh-client parallel rsync
ngtcp2-client ngtcp2-server"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
		echo "deps: missing packages:$missing (run as root or install them)" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer before it asks.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
