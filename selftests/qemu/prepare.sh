#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build everything one guest kernel needs: gomem's modules against it, the
# kselftests, and the guest's initramfs.
#   prepare.sh KERNEL
# KERNEL is debug-6.1, stock-6.1, debug-6.12 or stock-6.12 ("debug" and
# "stock" mean the 6.1 ones; see lib.sh). A debug kernel is built from
# Debian's linux-source-<series> (build-kernel.sh, cached); a stock one is
# Debian's /boot/vmlinuz-<series>.*-amd64 with its headers.
# Leaves $GOMEM_OUT/<KERNEL>/{kernel,initramfs.cpio.gz,module/}.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kind=$(kernel_name "${1:?usage: prepare.sh debug|stock|debug-6.12|stock-6.12|...}")
series=$(kernel_series "$kind")
case "$(kernel_flavour "$kind")" in
debug)
	kdir=$("$GOMEM_QEMU_DIR/build-kernel.sh" "$series")
	image="$kdir/arch/x86/boot/bzImage"
	;;
stock)
	kver=$(stock_kver "$series")
	kdir="/usr/src/linux-headers-$kver"
	image="/boot/vmlinuz-$kver"
	;;
esac
# The kselftests take kselftest_harness.h from the 6.1 tree whatever the
# guest: userspace programs, one build for every guest.
ksrc=$(debug_kdir)
out="$GOMEM_OUT/$kind"
mkdir -p "$out"

# Modules are built in a copy of the sources, one per kernel, because
# kbuild writes its objects next to the sources.
msg "building gomem against $kdir"
rm -rf "$out/module"
mkdir -p "$out/module"
cp -a "$GOMEM_TOP/Kbuild" "$GOMEM_TOP/dkms.conf" "$GOMEM_TOP/gomem" "$GOMEM_TOP/include" "$out/module/"
make -s -C "$kdir" M="$out/module" W=1 KCFLAGS=-Werror modules
# The initramfs holds no module of the kernel's own (Debian's stock
# kernels have what the guest needs built in): gomem's modules may depend
# only on each other.
for ko in "$out/module/"*.ko; do
	for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
		[ -e "$out/module/$dep.ko" ] ||
			die "${ko##*/} needs the $kind kernel's module $dep, which the guest lacks"
	done
done

# Through the kernel's lib.mk; static for the busybox guest.
msg "building the kselftests"
ksft=(-C "$GOMEM_TOP/selftests/gomem" KSRC="$ksrc" OUTPUT="$GOMEM_OUT/selftests"
	USERCFLAGS=-Werror USERLDFLAGS=-static)
make -s "${ksft[@]}"

# Userspace does not depend on the kernel: one build serves both guests.
msg "building libgomem and gomemctl"
make -s -C "$GOMEM_TOP/tools/gomemctl" OUT="$GOMEM_OUT/tools"

stage="$out/initramfs"
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,etc/gomem,lib/gomem,usr/lib/gomem/bin,usr/lib/gomem/selftests}
cp /bin/busybox "$stage/bin/busybox"
cp "$GOMEM_QEMU_DIR/guest/init" "$stage/init"
cp "$GOMEM_QEMU_DIR/guest/gomem-run-tests" "$GOMEM_QEMU_DIR/guest/gomem-demo" \
	"$GOMEM_QEMU_DIR/guest/gomem-fuzz" "$stage/usr/lib/gomem/bin/"
cp "$GOMEM_OUT/tools/gomemctl" "$stage/usr/lib/gomem/bin/"
cp "$out/module/"*.ko "$stage/lib/gomem/"
make -s "${ksft[@]}" install INSTALL_PATH="$stage/usr/lib/gomem/selftests" >/dev/null
# go tool pprof (golang-go's), with the C library it is linked against, so
# that gomem_prof_test reads a /dev/gomem heap's profile as a Go programmer
# would; without it that case skips.
pprof="$(go env GOTOOLDIR 2>/dev/null || true)/pprof"
if [ -x "$pprof" ]; then
	cp "$pprof" "$stage/usr/lib/gomem/bin/pprof"
	for lib in $(ldd "$pprof" | grep -o '/[^ ]*'); do
		mkdir -p "$stage${lib%/*}"
		cp -L "$lib" "$stage$lib"
	done
fi
(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out/initramfs.cpio.gz"
cp "$image" "$out/kernel"
msg "$kind guest ready: $out"
