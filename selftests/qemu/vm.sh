#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a prepared guest (see prepare.sh), run one shell command in it as
# root with gomem.ko loaded, print the command's output and exit with its
# status.
#   vm.sh [--kernel KERNEL] [--noload] [--timeout SECONDS] [--out DIR]
#         [--add TREE] CMD...
# KERNEL: debug (the default) or stock, meaning the 6.1 ones, or debug-6.1,
# stock-6.1, debug-6.12, stock-6.12 (lib.sh).
# DIR receives console.log (the kernel's serial console) and output.log
# (the command's output, second serial port). TREE's files are added to
# the guest's root (dkms-check.sh brings a modules tree that way).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kind=debug
noload=0
timeout_s=${GOMEM_VM_TIMEOUT:-1800}
out=
add=
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kind=$2; shift 2 ;;
	--add) add=$2; shift 2 ;;
	--noload) noload=1; shift ;;
	--timeout) timeout_s=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || die "usage: vm.sh [--kernel KERNEL] [--noload] [--timeout S] [--out DIR] [--add TREE] CMD..."
kind=$(kernel_name "$kind")
guest="$GOMEM_OUT/$kind"
[ -e "$guest/initramfs.cpio.gz" ] || die "$kind guest not prepared (run prepare.sh $kind)"
out=${out:-$GOMEM_OUT/runs/$kind-$$}
mkdir -p "$out"

# The command travels in a second cpio archive appended to the base one;
# the kernel unpacks both into the same rootfs.
run_initrd() {
	local stage="$out/run-stage"

	rm -rf "$stage"
	mkdir -p "$stage/etc/gomem"
	[ -z "$add" ] || cp -a "$add/." "$stage/"
	printf '%s\n' "$*" >"$stage/etc/gomem/cmd"
	[ "$noload" -eq 1 ] && touch "$stage/etc/gomem/noload"
	(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out/run.cpio.gz"
	cat "$guest/initramfs.cpio.gz" "$out/run.cpio.gz" >"$out/initrd.gz"
	rm -rf "$stage" "$out/run.cpio.gz"
}

boot() {
	local accel=$1 limit=$2

	: >"$out/console.log"
	: >"$out/output.log"
	timeout -k 10 "$limit" qemu-system-x86_64 \
		-accel "$accel" -cpu max -smp "${GOMEM_VM_CPUS:-2}" -m "${GOMEM_VM_MEM:-2G}" \
		-kernel "$guest/kernel" -initrd "$out/initrd.gz" \
		-append "console=ttyS0 rdinit=/init panic=-1 ignore_loglevel ${GOMEM_VM_APPEND:-}" \
		-display none -monitor none -no-reboot \
		-serial "file:$out/console.log" -serial "file:$out/output.log" \
		</dev/null >"$out/qemu.log" 2>&1
}

# KVM hung at boot on these machines: use it only when a short probe boot
# finishes. The verdict is cached per host kernel and QEMU version.
pick_accel() {
	local key cache

	if [ -n "${GOMEM_ACCEL:-}" ]; then
		echo "$GOMEM_ACCEL"
		return
	fi
	if [ ! -w /dev/kvm ]; then
		echo tcg
		return
	fi
	key="$(uname -r)-$(qemu-system-x86_64 --version | head -n 1 | tr -c 'A-Za-z0-9.\n' _)"
	cache="$GOMEM_CACHE/accel-$key"
	if [ ! -e "$cache" ]; then
		if boot kvm 30 && grep -q '^GOMEM-EXIT 0' "$out/output.log"; then
			echo kvm >"$cache"
		else
			echo tcg >"$cache"
		fi
		msg "accelerator probe: $(cat "$cache")"
	fi
	cat "$cache"
}

run_initrd 'true'
accel=$(pick_accel)
run_initrd "$@"
rc=0
boot "$accel" "$timeout_s" || rc=$?
tr -d '\r' <"$out/output.log" | grep -v -e '^GOMEM-EXIT ' || true
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "vm.sh: guest timed out after ${timeout_s}s (console: $out/console.log)" >&2
	exit 124
fi
status=$(tr -d '\r' <"$out/output.log" | sed -n 's/^GOMEM-EXIT \([0-9]*\)$/\1/p' | tail -n 1)
if [ -z "$status" ]; then
	echo "vm.sh: guest ended without an exit status (console: $out/console.log)" >&2
	exit 125
fi
exit "$status"
