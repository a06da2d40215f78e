#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make check": install what is missing, build the debug kernels (cached),
# gomem and its tests for every guest kernel (debug and stock, 6.1 and
# 6.12: GOMEM_KERNELS in lib.sh), run checkpatch and dkms, boot each kernel
# and run every KUnit suite and kselftest, then judge everything
# (report.py). Every step's output goes to a log in
# $GOMEM_OUT/runs/check/; the screen gets one line per step and a summary
# naming each failure and its log. The last line is "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

start=$(date +%s)
runs="$GOMEM_OUT/runs/check"
rm -rf "$runs" "$runs".*
mkdir -p "$runs/build" "$runs/checks" "$runs/native"

# A failed build ends the run: name the step, its log and the log's end.
fail_build() {
	local name=$1 log=$2

	echo "FAILED  build step $name"
	echo "        log: $log"
	tail -n 15 "$log" | sed 's/^/        | /'
	echo "0 passed, 1 failed"
	exit 1
}

# step NAME CMD...: a build step, its output in build/NAME.log.
step() {
	local name=$1 log="$runs/build/$1.log"

	shift
	msg "$name (log: $log)"
	"$@" >"$log" 2>&1 || fail_build "$name" "$log"
}

# check NAME CMD...: a whole-run check, its output in checks/NAME.log,
# judged by report.py with the others.
checks=()
check() {
	local name=$1 log="$runs/checks/$1.log" rc=0

	shift
	"$@" >"$log" 2>&1 || rc=$?
	checks+=(--check "$name=$rc:$log")
}

step setup "$GOMEM_QEMU_DIR/setup.sh"
msg "debug-kernel (log: $runs/build/debug-kernel.log)"
ksrc=$("$GOMEM_QEMU_DIR/build-kernel.sh" 2>"$runs/build/debug-kernel.log") ||
	fail_build debug-kernel "$runs/build/debug-kernel.log"
# The 6.1 tree (ksrc) also serves checkpatch, kunit.py and the kselftests.
for kind in "${GOMEM_KERNELS[@]}"; do
	step "prepare-$kind" "$GOMEM_QEMU_DIR/prepare.sh" "$kind"
done
step native-build make -s -C "$GOMEM_TOP/selftests/native" build OUT="$GOMEM_OUT/native"

msg "whole-run checks (logs: $runs/checks/)"
check checkpatch "$GOMEM_QEMU_DIR/checkpatch.sh"
check dkms "$GOMEM_QEMU_DIR/dkms-check.sh"
# The size class tables are generated: the committed ones must match.
check sizeclasses-generated python3 "$GOMEM_TOP/tools/mksizeclasses.py" --check
# libgomem against a mock ioctl(): its wrappers and the world lock.
check libgomem-mock make -s -C "$GOMEM_TOP/tools/libgomem" test OUT="$GOMEM_OUT/tools-mock"
# The syzkaller description (constants, commands) and the fuzzer follow the uapi header.
check syzkaller-desc make -s -C "$GOMEM_TOP/selftests/gomem/syzkaller" check \
	OUT="$GOMEM_OUT/syzkaller"
# Documentation: titles Sphinx would warn about, merge leftovers.
check docs sh -c 'python3 "$1/tools/doccheck.py" --self-test && python3 "$1/tools/doccheck.py"' \
	sh "$GOMEM_TOP"
# The reporter's reading of TAP lines and its summary of failures.
check report-self-test python3 "$GOMEM_QEMU_DIR/report.py" --self-test --ksrc "$ksrc"
# The layers: no call cycle between core files, includes only downwards.
check layers python3 "$GOMEM_TOP/tools/layers.py"
# The kselftests through the kernel's lib.mk, in the checkout and in a
# kernel tree, skipping on the host (no gomem.ko).
check kselftest-libmk "$GOMEM_QEMU_DIR/ksft-check.sh" "$ksrc"
# libgomem and gomemctl as a user installs and meets them: pkg-config,
# the man pages, every command's help; and make bench's table reader.
check tools-install sh -c 'make -s -C "$1/tools/libgomem" install-check OUT="$2" &&
	make -s -C "$1/tools/gomemctl" check OUT="$2" &&
	python3 "$1/tools/bench/tables.py" --self-test' tools-install "$GOMEM_TOP" \
	"$GOMEM_OUT/tools-install"
# Heap profiles: the core's samples through gomemctl's encoder, which
# `go tool pprof -top` must read and symbolize to the allocating functions.
check pprof make -s -C "$GOMEM_TOP/selftests/native" pprof OUT="$GOMEM_OUT/native-pprof"

# The core's KUnit suites, natively; same markers as a guest run.
msg "native core tests (log: $runs/native/output.log)"
{
	echo "GOMEM-KTAP-BEGIN"
	make -s -C "$GOMEM_TOP/selftests/native" run OUT="$GOMEM_OUT/native" 2>&1
	rc=$?
	echo "GOMEM-KTAP-END"
	echo "GOMEM-NATIVE-EXIT $rc"
	echo "GOMEM-DONE"
} >"$runs/native/output.log"
# Each guest's results are labelled with its kernel's name (debug-6.12, ...).
guest_runs=()
guest_times=()
for kind in "${GOMEM_KERNELS[@]}"; do
	msg "booting the $kind kernel and running the tests (logs: $runs/$kind/)"
	t0=$(date +%s)
	"$GOMEM_QEMU_DIR/vm.sh" --kernel "$kind" --out "$runs/$kind" gomem-run-tests \
		>"$runs/$kind.vm.log" 2>&1
	msg "$kind guest finished in $(($(date +%s) - t0)) s"
	guest_runs+=("$kind=$runs/$kind")
	guest_times+=("$kind $(($(date +%s) - t0)) s")
done
msg "guests: $(IFS=,; echo "${guest_times[*]}" | sed 's/,/, /g')"

msg "make check took $(($(date +%s) - start)) s"
"$GOMEM_QEMU_DIR/report.py" --ksrc "$ksrc" --log "$runs/report.log" "${checks[@]}" \
	"native=$runs/native" "${guest_runs[@]}" >"$runs/summary" 2>&1
rc=$?
cat "$runs/summary"
# A reporter that died before its verdict still ends the run with one.
if ! tail -n 1 "$runs/summary" | grep -qE '^[0-9]+ passed, [0-9]+ failed'; then
	echo "0 passed, 1 failed"
	rc=1
fi
exit $rc
