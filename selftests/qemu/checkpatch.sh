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
mapfile -t files < <(find gomem include selftests/gomem tools/libgomem tools/gomemctl -name '*.[ch]' \
	! -name '*_user.[ch]' | sort)
[ ${#files[@]} -gt 0 ] || die "no sources found for checkpatch"
msg "checkpatch over ${#files[@]} files"
out=$(perl "$ksrc/scripts/checkpatch.pl" --no-tree --terse --show-types -f "${files[@]}" 2>&1) || true
if grep -qE '(ERROR|WARNING):' <<<"$out"; then
	grep -E '(ERROR|WARNING):' <<<"$out"
	exit 1
fi
echo "checkpatch: ${#files[@]} files clean"
