# SPDX-License-Identifier: GPL-2.0
# Shared settings for gomem's build, boot and test scripts. Sourced, not run.

GOMEM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GOMEM_QEMU_DIR="$GOMEM_TOP/selftests/qemu"
# Slow build products (the debug kernels) live outside the checkout so that
# every clone on this machine shares them.
GOMEM_CACHE=${GOMEM_CACHE:-${HOME:-/root}/.cache/gomem}
# Per-checkout build products: module builds per kernel, initramfs, VM logs.
GOMEM_OUT=${GOMEM_OUT:-$GOMEM_TOP/.build}
GOMEM_FRAGMENT="$GOMEM_QEMU_DIR/debug.config"

# The kernel series gomem is tested on (Debian 12: 6.1, and 6.12 from
# bookworm-security), each as a debug kernel built here and as Debian's
# stock kernel. The first is the default one.
GOMEM_SERIES=(6.1 6.12)
# Every guest kernel by name, in the order make check boots them.
GOMEM_KERNELS=(debug-6.1 stock-6.1 debug-6.12 stock-6.12)

msg() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The canonical name of a guest kernel: "debug-6.12", "stock-6.1", ...
# "debug" and "stock" alone mean the default series (6.1).
kernel_name() {
	local name=$1 k

	case "$name" in
	debug | stock) name="$name-${GOMEM_SERIES[0]}" ;;
	esac
	for k in "${GOMEM_KERNELS[@]}"; do
		[ "$k" = "$name" ] && { echo "$k"; return 0; }
	done
	die "unknown kernel '$1' (known: debug, stock, ${GOMEM_KERNELS[*]})"
}

# "debug" or "stock", and the series, of a canonical kernel name.
kernel_flavour() { echo "${1%%-*}"; }
kernel_series() { echo "${1#*-}"; }

# The config fragment for one series' debug kernel, on stdout: debug.config
# with the options a later kernel renamed or removed replaced by their
# successors, so that every line can still be checked after olddefconfig.
debug_fragment() {
	local series=${1:-${GOMEM_SERIES[0]}}

	case "$series" in
	6.1)
		cat "$GOMEM_FRAGMENT"
		;;
	6.12)
		# 6.9 folded CONFIG_BASE_FULL into CONFIG_BASE_SMALL, now a
		# bool of the opposite sense: BASE_FULL=y is BASE_SMALL unset.
		sed -e 's/^CONFIG_BASE_FULL=y$/# CONFIG_BASE_SMALL is not set/' "$GOMEM_FRAGMENT"
		# 6.2 added CONFIG_SLUB_TINY and tinyconfig picks it where 6.1's
		# picked SLOB; it rules out SLUB_DEBUG and KASAN, which the
		# fragment asks for.
		echo '# CONFIG_SLUB_TINY is not set'
		;;
	*)
		die "no debug kernel for series '$series'"
		;;
	esac
}

# Debian's source package of a series and its tarball.
linux_source_pkg() { echo "linux-source-${1:-${GOMEM_SERIES[0]}}"; }
linux_tarball() { echo "/usr/src/linux-source-${1:-${GOMEM_SERIES[0]}}.tar.xz"; }

# The debug kernel tree of a series (default 6.1): Debian's linux-source-<series>,
# keyed by the package version and by the hash of the config fragment.
debug_kdir() {
	local series=${1:-${GOMEM_SERIES[0]}} pkg ver hash

	pkg=$(linux_source_pkg "$series")
	ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) ||
		die "$pkg is not installed (run selftests/qemu/setup.sh)"
	hash=$(debug_fragment "$series" | sha256sum | cut -c1-12)
	# A Debian version may hold "~" (6.12.118-1~deb12u1) or an epoch's ":",
	# neither welcome in a path that make and kbuild are given.
	echo "$GOMEM_CACHE/linux-$(echo "$ver" | tr '~:' '__')-$hash"
}

# The newest stock Debian kernel of a series (default 6.1) that has both
# its image and its headers. "6.1" does not match 6.12's "6.12.118+deb12-amd64".
# GOMEM_STOCK_KVER (a kernel release in /boot) picks its series' kernel.
stock_kver() {
	local series=${1:-${GOMEM_SERIES[0]}} img kver best=

	case "${GOMEM_STOCK_KVER:-}" in
	"$series".*)
		[ -e "/boot/vmlinuz-$GOMEM_STOCK_KVER" ] &&
			[ -e "/usr/src/linux-headers-$GOMEM_STOCK_KVER/Makefile" ] ||
			die "GOMEM_STOCK_KVER=$GOMEM_STOCK_KVER: no image or headers"
		echo "$GOMEM_STOCK_KVER"
		return
		;;
	esac
	for img in /boot/vmlinuz-"$series".*-amd64; do
		[ -e "$img" ] || continue
		kver=${img#/boot/vmlinuz-}
		[ -e "/usr/src/linux-headers-$kver/Makefile" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$kver" | sed '/^$/d' | sort -V | tail -n 1)
	done
	[ -n "$best" ] || die "no stock $series kernel with headers (run selftests/qemu/setup.sh)"
	echo "$best"
}
