#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the kernel's checkpatch.pl over gomem's kernel sources and headers,
# and over libgomem and gomemctl. Fails on any error or warning.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ksrc=$(debug_kdir)
[ -x "$ksrc/scripts/checkpatch.pl" ] || ksrc=$("$GOMEM_QEMU_DIR/build-kernel.sh")
cd "$GOMEM_TOP"
# Kernel code only. The userspace side of the platform layer and the
# native KUnit shim define kernel idioms for libc (__always_inline,
# READ_ONCE through volatile, printf attributes), which checkpatch flags
# by design; they are compiled with -Wall -Wextra -Werror instead.
# The compat header is the one place that tests the kernel's version
# (an out-of-tree module is built for more than one kernel, which is what
# checkpatch's LINUX_VERSION_CODE rule assumes never happens in-tree): it
# alone is checked without that rule and its companion about
# "LINUX_VERSION_CODE < KERNEL_VERSION(...)" comparing two constants.
compat=gomem/platform/kernel/compat.h
mapfile -t files < <(find gomem include selftests/gomem tools/libgomem tools/gomemctl -name '*.[ch]' \
	! -name '*_user.[ch]' ! -path "$compat" | sort)
[ ${#files[@]} -gt 0 ] || die "no sources found for checkpatch"
msg "checkpatch over $((${#files[@]} + 1)) files"
out=$(perl "$ksrc/scripts/checkpatch.pl" --no-tree --terse --show-types -f "${files[@]}" 2>&1) || true
out+=$'\n'$(perl "$ksrc/scripts/checkpatch.pl" --no-tree --terse --show-types \
	--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f "$compat" 2>&1) || true
if grep -qE '(ERROR|WARNING):' <<<"$out"; then
	grep -E '(ERROR|WARNING):' <<<"$out"
	exit 1
fi
echo "checkpatch: $((${#files[@]} + 1)) files clean"
