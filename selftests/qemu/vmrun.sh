#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make vmrun CMD='...'": build what is needed, boot a guest with gomem.ko
# loaded, run CMD as root and exit with its status.
# KERNEL=debug (default) or KERNEL=stock chooses the guest kernel.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] && [ -n "$1" ] || die "usage: make vmrun CMD='command to run in the guest'"
kind=${KERNEL:-debug}
"$GOMEM_QEMU_DIR/setup.sh"
"$GOMEM_QEMU_DIR/prepare.sh" "$kind" >&2
exec "$GOMEM_QEMU_DIR/vm.sh" --kernel "$kind" --out "$GOMEM_OUT/runs/vmrun" -- "$@"
