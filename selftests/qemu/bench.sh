#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# gomem's benchmark (make bench): gomem_bench.ko in the stock Debian kernel
# under QEMU, the scavenger's time after a 600 MiB death (gomemctl scavtime,
# stock kernel), then the native benchmark and the GC benchmark on this
# machine. Prints the tables and the scavenger's line (runs/scavenge.txt).
# See Documentation/benchmarks.rst.
#   bench.sh
# Knobs: GOMEM_BENCH_ITERATIONS and GOMEM_BENCH_REPEAT (the module's
# parameters), GOMEM_BENCH_NATIVE_ARGS (gomem_native_bench's options),
# GOMEM_BENCH_GC_ARGS (gomem_gc_bench's options).
# Builds in $GOMEM_OUT/bench, apart from make check's guests; keeps the
# tables in $GOMEM_OUT/bench/runs/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export GOMEM_OUT="$GOMEM_OUT/bench"
iterations=${GOMEM_BENCH_ITERATIONS:-10000}
repeat=${GOMEM_BENCH_REPEAT:-5}
native_args=${GOMEM_BENCH_NATIVE_ARGS:-}
gc_args=${GOMEM_BENCH_GC_ARGS:-}
runs="$GOMEM_OUT/runs"
start=$(date +%s)

# The allocators the native benchmark compares gomem with.
peers=(libjemalloc-dev libgoogle-perftools-dev libmimalloc-dev)
# The collectors the GC benchmark compares gomem's with: Boehm's and Go's.
gc_peers=(libgc-dev golang-go)

# Installs those of the packages named that are missing.
install_missing() {
	local p missing=()

	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run as root or install them"
	msg "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

"$GOMEM_QEMU_DIR/setup.sh"
install_missing "${peers[@]}"

"$GOMEM_QEMU_DIR/prepare.sh" stock
mkdir -p "$runs"

# init_on_alloc=0: Debian's default (1) makes kmalloc and kmem_cache zero
# every object, which gomem_alloc() without GOMEM_ZERO does not do.
msg "gomem_bench.ko in the stock kernel (QEMU, init_on_alloc=0)"
cmd="echo \"kernel \$(uname -r): \$(cat /proc/cmdline)\"
insmod /lib/gomem/gomem_bench.ko iterations=$iterations repeat=$repeat || exit 1
dmesg | sed -n 's/^\[[^]]*\] //; s/^gomem_bench: \{0,1\}//p'
rmmod gomem_bench"
rc=0
GOMEM_VM_APPEND="init_on_alloc=0 ${GOMEM_VM_APPEND:-}" \
	"$GOMEM_QEMU_DIR/vm.sh" --kernel stock --timeout "${GOMEM_VM_TIMEOUT:-600}" \
	--out "$runs/kernel-vm" -- "$cmd" >"$runs/kernel.txt" || rc=$?
cat "$runs/kernel.txt"
if grep -qE 'BUG:|WARNING:|Oops|Call Trace' "$runs/kernel-vm/console.log"; then
	grep -E 'BUG:|WARNING:|Oops|Call Trace' "$runs/kernel-vm/console.log" >&2
	die "the guest kernel reported a problem (console: $runs/kernel-vm/console.log)"
fi
[ "$rc" -eq 0 ] || die "the kernel benchmark failed ($rc; console: $runs/kernel-vm/console.log)"

# Issue 13: the scavenger after the seed experiment's 600 MiB death, from
# runtime.GC() to RSS within 10 % of its goal (gomemctl scavtime), in a
# short boot of its own; the target is <= 10 s.
msg "the scavenger after a 600 MiB death in the stock kernel (QEMU, target <= 10 s)"
rc=0
"$GOMEM_QEMU_DIR/vm.sh" --kernel stock --timeout "${GOMEM_VM_TIMEOUT:-600}" \
	--out "$runs/scavenge-vm" -- "gomemctl scavtime" >"$runs/scavenge.txt" || rc=$?
cat "$runs/scavenge.txt"
[ "$rc" -eq 0 ] || die "gomemctl scavtime failed ($rc; console: $runs/scavenge-vm/console.log)"
if grep -q ' result=met ' "$runs/scavenge.txt"; then
	msg "scavenger: runtime.GC() to goal <= 10 s: met"
else
	msg "scavenger: runtime.GC() to goal <= 10 s: NOT met"
fi

msg "gomem_native_bench on this machine ($(nproc) CPUs)"
make -s -C "$GOMEM_TOP/tools/bench" OUT="$GOMEM_OUT/native" build
# shellcheck disable=SC2086 # the options are words
"$GOMEM_OUT/native/gomem_native_bench" $native_args | tee "$runs/native.txt"

msg "GC benchmark on this machine: gomem's collector, Boehm GC, Go"
install_missing "${gc_peers[@]}"
make -s -C "$GOMEM_TOP/tools/bench" OUT="$GOMEM_OUT/native" gcbuild
# shellcheck disable=SC2086 # the options are words
"$GOMEM_OUT/native/gomem_gc_bench" $gc_args | tee "$runs/gc.txt"

msg "CSV, JSON and PNG charts of the tables"
install_missing gnuplot-nox
python3 "$GOMEM_TOP/tools/bench/tables.py" "$runs" >"$runs/tables.list"
msg "wrote $(wc -l <"$runs/tables.list") files: $runs/data/ (CSV, JSON), $runs/plots/ (PNG)"

msg "make bench done in $(($(date +%s) - start)) s; tables in $runs/"
