#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make demo": set up like make check, boot the debug kernel and show what
# gomem does (guest/gomem-demo).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$GOMEM_QEMU_DIR/setup.sh"
"$GOMEM_QEMU_DIR/prepare.sh" debug >&2
exec "$GOMEM_QEMU_DIR/vm.sh" --kernel debug --out "$GOMEM_OUT/runs/demo" -- gomem-demo
