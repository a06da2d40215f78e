#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make stress [SECONDS=N] [SEED=N] [PROCS=N] [THREADS=N] [NO=ops]":
# the long run of gomem_stress (selftests/gomem/gomem_stress.c) in a guest,
# then the guest's console scanned for kernel reports, as make check does.
# KERNEL chooses the guest kernel: debug (default) or stock, the 6.1 ones,
# or debug-6.12, stock-6.12, debug-6.1, stock-6.1 (lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

secs=${1:-}
secs=${secs:-300}
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || die "SECONDS must be a positive number"
seed=${SEED:-1}
procs=${PROCS:-2}
threads=${THREADS:-2}
no=${NO:-}
[[ "$seed$procs$threads" =~ ^[0-9]+$ ]] || die "SEED, PROCS, THREADS: numbers"
[[ "$no" =~ ^[a-z,]*$ ]] || die "NO: a comma-separated list of operations"
kind=$(kernel_name "${KERNEL:-debug}")
out="$GOMEM_OUT/runs/stress"

"$GOMEM_QEMU_DIR/setup.sh"
"$GOMEM_QEMU_DIR/prepare.sh" "$kind" >&2
msg "gomem_stress for ${secs}s in the $kind guest: seed $seed, $procs processes x $threads threads"
start=$(date +%s)
rc=0
# The guest runs the test, unloads gomem and scans for leaks (as
# guest/gomem-run-tests does), and exits with the test's status.
cmd="GOMEM_STRESS_SECONDS=$secs GOMEM_STRESS_SEED=$seed GOMEM_STRESS_PROCS=$procs"
cmd+=" GOMEM_STRESS_THREADS=$threads GOMEM_STRESS_NO=$no"
cmd+=" gomem_stress; rc=\$?;"
cmd+=" rmmod gomem || { echo 'rmmod gomem failed'; rc=1; };"
cmd+=" if [ -w /sys/kernel/debug/kmemleak ]; then sleep 5;"
cmd+=" echo scan >/sys/kernel/debug/kmemleak; cat /sys/kernel/debug/kmemleak; fi;"
cmd+=" echo \"taint \$(cat /proc/sys/kernel/tainted)\"; exit \$rc"
# Booting and unloading take minutes under TCG: allow for them.
"$GOMEM_QEMU_DIR/vm.sh" --kernel "$kind" --timeout $((secs * 2 + 900)) --out "$out" -- "$cmd" ||
	rc=$?

# What make check's report counts as a kernel problem.
splats='BUG:|WARNING:|Oops|KASAN|UBSAN|Call Trace|Kernel panic|general protection fault'
splats+='|possible circular locking|inconsistent lock state|suspected memory leak'
splats+='|possible recursive locking|sleeping function called from invalid context'
reports=$(tr -d '\r' <"$out/console.log" | grep -cE "$splats" || true)
leaks=$(tr -d '\r' <"$out/output.log" | grep -c 'unreferenced object' || true)
# Out-of-tree and unsigned modules are the only taints expected.
taint=$(tr -d '\r' <"$out/output.log" | sed -n 's/^taint \([0-9]*\)$/\1/p' | tail -n 1)
taint=${taint:--1}
[ "$taint" -ge 0 ] && [ $((taint & ~((1 << 12) | (1 << 13)))) -eq 0 ] || rc=${rc/#0/1}
echo "==> stress: $(( $(date +%s) - start ))s wall, guest exit status $rc"
echo "==> stress: $reports console lines with kernel reports, $leaks kmemleak reports, taint $taint"
if [ "$reports" -gt 0 ]; then
	tr -d '\r' <"$out/console.log" | grep -E "$splats" | head -n 20
	echo "==> console: $out/console.log"
fi
[ "$rc" -eq 0 ] && [ "$reports" -eq 0 ] && [ "$leaks" -eq 0 ] || exit 1
# A skip (no /dev/gomem in the guest) is not a pass.
skip=$(tr -d '\r' <"$out/output.log" | sed -n 's/^ok [0-9]* # SKIP //p' | head -n 1)
if [ -n "$skip" ]; then
	echo "==> stress: not passed, skipped: $skip"
	exit 2
fi
echo "==> stress: passed"
