#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build gomem's debug kernel (tinyconfig + debug.config) from Debian's
# linux-source-6.1, once per package version and fragment, in the cache.
# Prints the tree's path on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$(debug_kdir)
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

[ -r "$GOMEM_LINUX_TARBALL" ] || die "$GOMEM_LINUX_TARBALL missing (run selftests/qemu/setup.sh)"
log="$kdir.log"
msg "building the debug kernel in $kdir (log: $log)"
rm -rf "$kdir"
mkdir -p "$kdir"
tar -C "$kdir" --strip-components=1 -xf "$GOMEM_LINUX_TARBALL"

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
	done <"$GOMEM_FRAGMENT"
	return $bad
}

{
	make -C "$kdir" ARCH=x86_64 tinyconfig
	(cd "$kdir" && ./scripts/kconfig/merge_config.sh -m .config "$GOMEM_FRAGMENT")
	make -C "$kdir" ARCH=x86_64 olddefconfig
} >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "kernel configuration failed"; }
verify_config || die "the debug config fragment does not apply to this tree"

# "modules" too: it writes Module.symvers, which out-of-tree modules link against.
if ! make -C "$kdir" ARCH=x86_64 -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "debug kernel build failed"
fi
touch "$stamp"
msg "debug kernel ready: $kdir/arch/x86/boot/bzImage"
echo "$kdir"
