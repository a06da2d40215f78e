#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make vmrun CMD='...'": build what is needed, boot a guest with gomem.ko
# loaded, run CMD as root and exit with its status.
# KERNEL chooses the guest kernel: debug (default) or stock, the 6.1 ones,
# or debug-6.12, stock-6.12, debug-6.1, stock-6.1 (lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] && [ -n "$1" ] || die "usage: make vmrun CMD='command to run in the guest'"
kind=$(kernel_name "${KERNEL:-debug}")
"$GOMEM_QEMU_DIR/setup.sh"
"$GOMEM_QEMU_DIR/prepare.sh" "$kind" >&2
exec "$GOMEM_QEMU_DIR/vm.sh" --kernel "$kind" --out "$GOMEM_OUT/runs/vmrun" -- "$@"
