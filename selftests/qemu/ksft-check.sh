#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kselftests the kernel's way, on the host: build and run_tests with
# the kernel's lib.mk (a) in this checkout and (b) as
# tools/testing/selftests/gomem of a scratch kernel tree, symlinked and
# copied, through the kernel's own selftests Makefile, then install. The
# host has no gomem.ko: every program must be reported "# SKIP" (exit
# code 4), none passed or failed.
#   ksft-check.sh KSRC
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ksrc=${1:?usage: ksft-check.sh KSRC}
work="$GOMEM_OUT/ksft-check"
flags=(USERCFLAGS=-Werror USERLDFLAGS=-static)
bad=0

[ ! -e /dev/gomem ] || die "the host has /dev/gomem: the skip path cannot be checked here"
rm -rf "$work"
mkdir -p "$work"

mapfile -t progs < <(make -s -C "$GOMEM_TOP/selftests/gomem" KSRC="$ksrc" COLLECTION=gomem \
	emit_tests | sed -n 's/^gomem://p')
[ ${#progs[@]} -gt 0 ] || die "emit_tests listed no program"
echo "emit_tests: ${progs[*]}"

# Every program reported skipped by the runner, nothing else. $2 is the
# runner's name for the directory ("gomem" in a kernel tree).
judge() {
	local log=$1 dir=$2 p n

	n=$(grep -cE '^(not )?ok [0-9]+ selftests: ' "$log" || true)
	if [ "$n" -ne ${#progs[@]} ]; then
		echo "$log: $n results for ${#progs[@]} programs"
		bad=1
	fi
	for p in "${progs[@]}"; do
		if ! grep -qE "^ok [0-9]+ selftests: $dir: $p # SKIP\$" "$log"; then
			echo "$log: $p not reported skipped:"
			grep -E "^(not )?ok [0-9]+ selftests: .*: $p( |\$)" "$log" || echo "  (no result line)"
			bad=1
		fi
	done
}

# (a) In the checkout: lib.mk from KSRC, the build prepare.sh made.
log="$work/checkout.log"
echo "(a) make -C selftests/gomem run_tests (log: $log)"
if make -s -j"$(nproc)" -C "$GOMEM_TOP/selftests/gomem" KSRC="$ksrc" OUTPUT="$GOMEM_OUT/selftests" \
	"${flags[@]}" run_tests >"$log" 2>&1; then
	judge "$log" "$GOMEM_TOP/selftests/gomem"
else
	echo "$log: make run_tests failed"
	bad=1
fi

# (b) A scratch kernel tree: the kernel's selftests directory and what
# its Makefile includes, never the cached tree itself.
tree="$work/linux"
mkdir -p "$tree/tools/testing" "$tree/scripts"
cp -a "$ksrc/tools/testing/selftests" "$tree/tools/testing/"
cp -a "$ksrc/scripts/subarch.include" "$tree/scripts/"
for mode in symlink copy; do
	dest="$tree/tools/testing/selftests/gomem"
	rm -rf "$dest"
	top=()
	if [ "$mode" = symlink ]; then
		ln -s "$GOMEM_TOP/selftests/gomem" "$dest"
	else
		cp -r "$GOMEM_TOP/selftests/gomem" "$dest"
		top=(GOMEM_TOP="$GOMEM_TOP")
	fi
	obj="$work/obj-$mode"
	kmake=(make -j"$(nproc)" -C "$tree/tools/testing/selftests" TARGETS=gomem FORCE_TARGETS=1 O="$obj"
		"${top[@]}" "${flags[@]}")
	log="$work/$mode.log"
	echo "(b) $mode: make -C tools/testing/selftests TARGETS=gomem run_tests (log: $log)"
	if "${kmake[@]}" run_tests >"$log" 2>&1; then
		judge "$log" gomem
	else
		echo "$log: make run_tests failed"
		bad=1
		continue
	fi
	# install: the programs and the run list the kernel's Makefile writes.
	inst="$obj/kselftest/kselftest_install"
	if ! "${kmake[@]}" install >"$work/$mode-install.log" 2>&1; then
		echo "$work/$mode-install.log: make install failed"
		bad=1
		continue
	fi
	for p in "${progs[@]}"; do
		if [ ! -x "$inst/gomem/$p" ] || ! grep -qx "gomem:$p" "$inst/kselftest-list.txt"; then
			echo "$inst: $p not installed or not in kselftest-list.txt"
			bad=1
		fi
	done
done
rm -rf "$tree"

if [ "$bad" -ne 0 ]; then
	echo "kselftest lib.mk check: FAILED"
	exit 1
fi
echo "kselftest lib.mk check: ${#progs[@]} programs built and skipped in the checkout and" \
	"in a kernel tree (symlinked, copied)"
