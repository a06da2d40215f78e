#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make fuzz SECONDS=N [SEED=N] [KERNEL=...] [FUZZERS=N] [OPS=...]":
# boot a guest, run a gomem_fuzz campaign in it (guest/gomem-fuzz), then
# scan the guest's console for kernel reports and print the totals.
#   fuzz.sh [--seconds S] [--seed N] [--kernel KERNEL] [--fuzzers N] [--ops LIST]
# Exits non-zero on a kernel report, a kmemleak report, an unexpected taint
# or a fuzzer that found a violation. Logs: $GOMEM_OUT/runs/fuzz/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

seconds=300
seed=
kind=${KERNEL:-debug}
fuzzers=3
ops=default
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--kernel) kind=$2; shift 2 ;;
	--fuzzers) fuzzers=$2; shift 2 ;;
	--ops) ops=$2; shift 2 ;;
	*) die "usage: fuzz.sh [--seconds S] [--seed N] [--kernel KERNEL] [--fuzzers N] [--ops LIST]" ;;
	esac
done
kind=$(kernel_name "$kind")
[ -n "$seed" ] || seed=$(( ($(date +%s%N) / 1000) % 1000000000 ))
[[ "$seconds" =~ ^[0-9]+$ && "$seed" =~ ^[0-9]+$ && "$fuzzers" =~ ^[0-9]+$ ]] ||
	die "SECONDS, SEED and FUZZERS are numbers"

"$GOMEM_QEMU_DIR/setup.sh"
"$GOMEM_QEMU_DIR/prepare.sh" "$kind" >&2
out="$GOMEM_OUT/runs/fuzz"
rm -rf "$out"
mkdir -p "$out"
msg "fuzzing on the $kind kernel: $fuzzers fuzzers, seeds $seed.., $seconds s, ops $ops"
rc=0
# Boot, the fuzzers' wind-down and the kmemleak scan on top of the campaign.
"$GOMEM_QEMU_DIR/vm.sh" --kernel "$kind" --timeout $((seconds + 900)) --out "$out" -- \
	gomem-fuzz "$seed" "$seconds" "$fuzzers" "$ops" >"$out/guest.out" 2>&1 || rc=$?
tr -d '\r' <"$out/guest.out" >"$out/fuzz.log"

# Per-instance results and the fuzzers' own totals.
grep -E '^(not ok|ok) |VIOLATION|^# replay:' "$out/fuzz.log" || true
awk '
/^# gomem_fuzz totals:/ {
	for (i = 1; i < NF; i++) {
		if ($i == "ioctls") ioctls += $(i + 1)
		if ($i == "processes") procs += $(i + 1)
		if ($i == "forks") forks += $(i + 1)
		if ($i == "violations") viol += $(i + 1)
		if ($i == "seconds" && $(i + 1) > secs) secs = $(i + 1)
	}
	n++
}
/^# ioctl / { per[$3] += $5 }
END {
	for (c in per) printf "ioctl %-12s %d\n", c, per[c]
	printf "fuzzers %d ioctls %d processes %d forks %d seconds %.1f violations %d\n",
		n, ioctls, procs, forks, secs, viol
}' "$out/fuzz.log" | sort | tee "$out/totals"
failed=$(grep -c '^GOMEM-FUZZ-EXIT [0-9]* [1-9]' "$out/fuzz.log" || true)
finished=$(grep -c '^GOMEM-FUZZ-EXIT ' "$out/fuzz.log" || true)

# Kernel reports: the same patterns as report.py.
splat='BUG:|WARNING:|Oops|KASAN|UBSAN|Call Trace|Kernel panic|general protection fault|'
splat+='possible circular locking|inconsistent lock state|suspected memory leak|'
splat+='possible recursive locking|sleeping function called from invalid context'
tr -d '\r' <"$out/console.log" >"$out/console.txt"
reports=$(grep -cE "$splat" "$out/console.txt" || true)
heads=$(grep -E 'BUG:|WARNING:|Oops|general protection fault|possible circular|inconsistent lock|sleeping function' \
	"$out/console.txt" | sort | uniq -c | sort -rn | head -n 10 || true)
leaks=$(sed -n '/^GOMEM-KMEMLEAK-BEGIN$/,/^GOMEM-KMEMLEAK-END$/p' "$out/fuzz.log" |
	grep -c 'unreferenced object' || true)
taint=$(sed -n 's/^GOMEM-TAINT \([0-9]*\)$/\1/p' "$out/fuzz.log")
echo "kernel reports: $reports suspicious console line(s), $leaks kmemleak object(s), taint ${taint:-?}"
[ -z "$heads" ] || printf '%s\n' "$heads"
echo "fuzz: seed $seed, $fuzzers fuzzers, $finished finished, $failed failed;" \
	"logs in $out (fuzz.log, console.txt)"
if [ "$rc" -ne 0 ] || [ "$reports" -gt 0 ] || [ "$leaks" -gt 0 ] || [ "$failed" -gt 0 ] ||
	[ "$finished" -ne "$fuzzers" ] || [ -z "$taint" ] || [ $((taint & ~0x3000)) -ne 0 ]; then
	echo "fuzz: FAILED"
	exit 1
fi
echo "fuzz: clean"
