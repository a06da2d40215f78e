# SPDX-License-Identifier: GPL-2.0
# Shared settings for gomem's build, boot and test scripts. Sourced, not run.

GOMEM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GOMEM_QEMU_DIR="$GOMEM_TOP/selftests/qemu"
# Slow build products (the debug kernel) live outside the checkout so that
# every clone on this machine shares them.
GOMEM_CACHE=${GOMEM_CACHE:-${HOME:-/root}/.cache/gomem}
# Per-checkout build products: module builds per kernel, initramfs, VM logs.
GOMEM_OUT=${GOMEM_OUT:-$GOMEM_TOP/.build}
GOMEM_LINUX_TARBALL=/usr/src/linux-source-6.1.tar.xz
GOMEM_FRAGMENT="$GOMEM_QEMU_DIR/debug.config"

msg() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The debug kernel tree: Debian's linux-source-6.1, keyed by the package
# version and by the hash of the config fragment.
debug_kdir() {
	local ver hash

	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
		die "linux-source-6.1 is not installed (run selftests/qemu/setup.sh)"
	hash=$(sha256sum "$GOMEM_FRAGMENT" | cut -c1-12)
	echo "$GOMEM_CACHE/linux-$ver-$hash"
}

# The newest stock Debian kernel that has both its image and its headers,
# or GOMEM_STOCK_KVER (a kernel release in /boot) when set.
stock_kver() {
	local img kver best=

	if [ -n "${GOMEM_STOCK_KVER:-}" ]; then
		if [ ! -e "/boot/vmlinuz-$GOMEM_STOCK_KVER" ] ||
			[ ! -e "/usr/src/linux-headers-$GOMEM_STOCK_KVER/Makefile" ]; then
			die "GOMEM_STOCK_KVER=$GOMEM_STOCK_KVER: no image or headers"
		fi
		echo "$GOMEM_STOCK_KVER"
		return
	fi
	# Debian 12's own series, 6.1: gomem does not build against 6.12 yet
	# (its compat layer is on the branch k612), and bookworm-security's
	# 6.12 packages may be installed beside it.
	for img in /boot/vmlinuz-6.1.*-amd64; do
		[ -e "$img" ] || continue
		kver=${img#/boot/vmlinuz-}
		[ -e "/usr/src/linux-headers-$kver/Makefile" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$kver" | sed '/^$/d' | sort -V | tail -n 1)
	done
	[ -n "$best" ] || die "no stock kernel with headers (run selftests/qemu/setup.sh)"
	echo "$best"
}
