#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# README's DKMS steps, tested for each stock Debian kernel (6.1, 6.12):
# "make dkms-install", then, in that kernel's guest, modprobe gomem from
# the modules tree DKMS installed into, check its version and run a smoke
# test, and finally "make dkms-remove". Needs root (dkms writes /usr/src,
# /var/lib/dkms and /lib/modules).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

conf="$GOMEM_TOP/dkms.conf"
for key in PACKAGE_NAME PACKAGE_VERSION MAKE CLEAN BUILT_MODULE_NAME DEST_MODULE_LOCATION AUTOINSTALL; do
	grep -q "^$key\(\[0\]\)\?=" "$conf" || die "dkms.conf lacks $key"
done
name=$(sed -n 's/^PACKAGE_NAME="\?\([^"]*\)"\?$/\1/p' "$conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\?\([^"]*\)"\?$/\1/p' "$conf")
out_top="$GOMEM_OUT/runs/dkms"

cleanup() {
	make -s -C "$GOMEM_TOP" dkms-remove >/dev/null 2>&1 || true
}
trap cleanup EXIT

# One stock kernel: install, modprobe in its guest, remove.
dkms_check() {
	local kind kver mods out ko cmd

	kind=$(kernel_name "stock-$1")
	kver=$(stock_kver "$1")
	mods="/lib/modules/$kver"
	out="$out_top/$kind"
	cleanup

	[ -e "$GOMEM_OUT/$kind/initramfs.cpio.gz" ] || "$GOMEM_QEMU_DIR/prepare.sh" "$kind"
	msg "make dkms-install KVER=$kver ($name $ver)"
	if ! make -s -C "$GOMEM_TOP" dkms-install KVER="$kver"; then
		tail -n 30 "/var/lib/dkms/$name/$ver/build/make.log" 2>/dev/null || true
		die "make dkms-install failed"
	fi
	ko=$(find "$mods/updates/dkms" -name "$name.ko*" 2>/dev/null | head -n 1)
	[ -n "$ko" ] || die "dkms install left no $name.ko under $mods/updates/dkms"
	grep -q "updates/dkms/$name.ko" "$mods/modules.dep" || die "depmod did not index $ko"

	# The guest gets the module where DKMS put it, with the index depmod wrote,
	# and loads it by name as a user would.
	rm -rf "$out"
	mkdir -p "$out/tree$mods/updates/dkms"
	cp "$ko" "$out/tree$mods/updates/dkms/"
	cp "$mods"/modules.{order,builtin,builtin.modinfo} "$out/tree$mods/" 2>/dev/null || true
	depmod -b "$out/tree" "$kver"
	cmd="set -e
	modprobe $name
	test -c /dev/gomem
	echo \"version \$(cat /sys/module/$name/version)\"
	gomemctl hold 1 1M
	modprobe -r $name
	if test -e /sys/module/$name; then exit 1; fi
	echo dkms-smoke-ok"
	msg "modprobe $name in the $kind guest, from DKMS's modules tree"
	if ! "$GOMEM_QEMU_DIR/vm.sh" --kernel "$kind" --noload --timeout 600 --add "$out/tree" \
			--out "$out/vm" -- "$cmd" >"$out/output.txt" 2>&1; then
		cat "$out/output.txt"
		die "the DKMS-installed module failed in the guest (console: $out/vm/console.log)"
	fi
	grep -qx "version $ver" "$out/output.txt" || die "the guest's module is not version $ver"
	grep -qx dkms-smoke-ok "$out/output.txt" || die "the smoke test did not finish"
	if grep -qE 'BUG:|WARNING:|Oops|Call Trace' "$out/vm/console.log"; then
		die "the guest kernel reported a problem (console: $out/vm/console.log)"
	fi

	msg "make dkms-remove"
	make -s -C "$GOMEM_TOP" dkms-remove >/dev/null
	[ ! -e "$ko" ] || die "dkms-remove left $ko"
	[ ! -d "/usr/src/$name-$ver" ] || die "dkms-remove left /usr/src/$name-$ver"
	echo "dkms: installed, loaded by modprobe in the $kver guest (version $ver), removed"
}

for series in "${GOMEM_SERIES[@]}"; do
	dkms_check "$series"
done
