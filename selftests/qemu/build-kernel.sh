#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build gomem's debug kernel (tinyconfig + debug.config) from Debian's
# linux-source-<series>, once per package version and fragment, in the cache.
# Prints the tree's path on stdout.
#   build-kernel.sh [SERIES]     (6.1, the default, or 6.12)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

series=${1:-${GOMEM_SERIES[0]}}
kdir=$(debug_kdir "$series")
tarball=$(linux_tarball "$series")
stamp="$kdir/.gomem-built"
# A built tree is never written again: it needs no lock, and does not
# wait for another tree being built in the same cache.
if [ -e "$stamp" ]; then
	echo "$kdir"
	exit 0
fi
mkdir -p "$GOMEM_CACHE"
exec 9>"$GOMEM_CACHE/.build-kernel.lock"
flock 9

if [ -e "$stamp" ]; then
	echo "$kdir"
	exit 0
fi

[ -r "$tarball" ] || die "$tarball missing (run selftests/qemu/setup.sh)"
log="$kdir.log"
msg "building the $series debug kernel in $kdir (log: $log)"
t0=$(date +%s)
rm -rf "$kdir"
mkdir -p "$kdir"
tar -C "$kdir" --strip-components=1 -xf "$tarball"
# The fragment as applied to this series (see debug_fragment in lib.sh),
# kept in the tree: it is what verify_config checks.
fragment="$kdir/.gomem-debug.config"
debug_fragment "$series" >"$fragment"

# Check that Kconfig kept every line of the fragment: a silently dropped
# option (KASAN, say) would make every later run prove less than it claims.
verify_config() {
	local line opt bad=0

	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$kdir/.config" || { echo "config lost: $line" >&2; bad=1; }
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			if grep -q "^$opt=" "$kdir/.config"; then
				echo "config not unset: $opt" >&2
				bad=1
			fi
			;;
		esac
	done <"$fragment"
	return $bad
}

{
	make -C "$kdir" ARCH=x86_64 tinyconfig
	(cd "$kdir" && ./scripts/kconfig/merge_config.sh -m .config "$fragment")
	make -C "$kdir" ARCH=x86_64 olddefconfig
} >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "kernel configuration failed"; }
verify_config || die "the debug config fragment does not apply to this tree"

# "modules" too: it writes Module.symvers, which out-of-tree modules link against.
if ! make -C "$kdir" ARCH=x86_64 -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "debug kernel build failed"
fi
touch "$stamp"
msg "$series debug kernel ready in $(($(date +%s) - t0)) s: $kdir/arch/x86/boot/bzImage"
echo "$kdir"
