#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms add + build of this tree against the installed stock Debian headers,
# then remove it again. Needs root (dkms writes /usr/src and /var/lib/dkms).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

conf="$GOMEM_TOP/dkms.conf"
for key in PACKAGE_NAME PACKAGE_VERSION MAKE CLEAN BUILT_MODULE_NAME DEST_MODULE_LOCATION AUTOINSTALL; do
	grep -q "^$key\(\[0\]\)\?=" "$conf" || die "dkms.conf lacks $key"
done
name=$(sed -n 's/^PACKAGE_NAME="\?\([^"]*\)"\?$/\1/p' "$conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\?\([^"]*\)"\?$/\1/p' "$conf")
kver=$(stock_kver)
src="/usr/src/$name-$ver"

cleanup() {
	dkms remove -m "$name" -v "$ver" --all >/dev/null 2>&1 || true
	rm -rf "$src"
}
trap cleanup EXIT
cleanup

mkdir -p "$src"
cp -a "$GOMEM_TOP/Kbuild" "$GOMEM_TOP/Makefile" "$GOMEM_TOP/dkms.conf" \
	"$GOMEM_TOP/gomem" "$GOMEM_TOP/include" "$src/"
msg "dkms build $name/$ver for $kver"
dkms add -m "$name" -v "$ver"
if ! dkms build -m "$name" -v "$ver" -k "$kver"; then
	cat "/var/lib/dkms/$name/$ver/build/make.log" 2>/dev/null | tail -n 30
	die "dkms build failed"
fi
ko=$(find "/var/lib/dkms/$name/$ver/$kver" -name "$name.ko*" | head -n 1)
[ -n "$ko" ] || die "dkms build left no $name.ko"
echo "dkms: built $ko"
