#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make check": install what is missing, build the debug kernel (cached),
# gomem and its tests for the debug and the stock kernel, run checkpatch
# and dkms, boot both kernels and run every KUnit suite and kselftest,
# then judge everything (report.py). The last line is "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/lib.sh"

start=$(date +%s)
fail_build() {
	echo "build failed: $*"
	echo "0 passed, 1 failed"
	exit 1
}

"$GOMEM_QEMU_DIR/setup.sh" || fail_build "setup.sh"
ksrc=$("$GOMEM_QEMU_DIR/build-kernel.sh") || fail_build "debug kernel"
"$GOMEM_QEMU_DIR/prepare.sh" debug || fail_build "gomem for the debug kernel"
"$GOMEM_QEMU_DIR/prepare.sh" stock || fail_build "gomem for the stock kernel"
msg "building the native core tests (ASan, UBSan)"
make -s -C "$GOMEM_TOP/selftests/native" build OUT="$GOMEM_OUT/native" ||
	fail_build "native core tests"

"$GOMEM_QEMU_DIR/checkpatch.sh"
checkpatch=$?
"$GOMEM_QEMU_DIR/dkms-check.sh"
dkms=$?
# The size class tables are generated: the committed ones must match.
python3 "$GOMEM_TOP/tools/mksizeclasses.py" --check
sizeclasses=$?
# The syzkaller description's constants come from the uapi header.
make -s -C "$GOMEM_TOP/selftests/gomem/syzkaller" check OUT="$GOMEM_OUT/syzkaller"
syzkaller_const=$?
# The layers: no call cycle between core files, includes only downwards.
python3 "$GOMEM_TOP/tools/layers.py"
layers=$?
# The reporter's reading of TAP lines (a skip must never count as a pass).
python3 "$GOMEM_QEMU_DIR/report.py" --self-test
report_selftest=$?
# libgomem against a mock ioctl(): its wrappers and the world lock.
msg "running the libgomem mock test"
make -s -C "$GOMEM_TOP/tools/libgomem" test OUT="$GOMEM_OUT/tools-mock"
libgomem_mock=$?
# libgomem and gomemctl as a user installs and meets them: pkg-config,
# the man pages, every command's help; and make bench's table reader.
msg "checking the installed tools (pkg-config, man pages, help)"
make -s -C "$GOMEM_TOP/tools/libgomem" install-check OUT="$GOMEM_OUT/tools-install" &&
	make -s -C "$GOMEM_TOP/tools/gomemctl" check OUT="$GOMEM_OUT/tools-install" &&
	python3 "$GOMEM_TOP/tools/bench/tables.py" --self-test
tools_install=$?
# Heap profiles: the core's samples through gomemctl's encoder, which
# `go tool pprof -top` must read and symbolize to the allocating functions.
msg "running the heap profile check (go tool pprof)"
make -s -C "$GOMEM_TOP/selftests/native" pprof OUT="$GOMEM_OUT/native-pprof" \
	>"$GOMEM_OUT/pprof-check.log" 2>&1
pprof_check=$?

runs="$GOMEM_OUT/runs/check"
rm -rf "$runs" "$runs".*
mkdir -p "$runs/native"

# The core's KUnit suites, natively; same markers as a guest run.
msg "running the native core tests"
{
	echo "GOMEM-KTAP-BEGIN"
	make -s -C "$GOMEM_TOP/selftests/native" run OUT="$GOMEM_OUT/native" 2>&1
	rc=$?
	echo "GOMEM-KTAP-END"
	echo "GOMEM-NATIVE-EXIT $rc"
	echo "GOMEM-DONE"
} >"$runs/native/output.log"
for kind in debug stock; do
	msg "booting the $kind kernel and running the tests (log: $runs/$kind)"
	t0=$(date +%s)
	"$GOMEM_QEMU_DIR/vm.sh" --kernel "$kind" --out "$runs/$kind" gomem-run-tests \
		>"$runs.$kind.out" 2>&1
	msg "$kind guest finished in $(($(date +%s) - t0)) s"
done

"$GOMEM_QEMU_DIR/report.py" --ksrc "$ksrc" \
	--check "checkpatch=$checkpatch" --check "dkms=$dkms" \
	--check "sizeclasses-generated=$sizeclasses" --check "libgomem-mock=$libgomem_mock" \
	--check "syzkaller-const=$syzkaller_const" --check "report-self-test=$report_selftest" \
	--check "layers=$layers" --check "tools-install=$tools_install" --check "pprof=$pprof_check" \
	"native=$runs/native" "debug=$runs/debug" "stock=$runs/stock" >"$runs.report" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	for kind in debug stock; do
		echo "--- $kind guest output (last 100 lines) ---"
		tail -n 100 "$runs.$kind.out"
	done
fi
msg "make check took $(($(date +%s) - start)) s"
cat "$runs.report"
# A reporter that died before its verdict still ends the run with one.
if ! tail -n 1 "$runs.report" | grep -qE '^[0-9]+ passed, [0-9]+ failed'; then
	echo "0 passed, 1 failed"
	rc=1
fi
exit $rc
