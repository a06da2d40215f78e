#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The heap profile check (make -C selftests/native pprof): run
# gomem_pprof_check, which samples allocations of two functions of its own
# through the allocator core and writes them with gomemctl's encoder, then
# read the profile with `go tool pprof -top`: the functions must appear by
# name with their bytes (scaled back from the samples) within 25 % of what
# they allocated, for the allocated and for the in-use space. The same is
# checked of the recorded dump turned into a profile by `gomemctl pprof -i`,
# and of that profile read with -symbolize=none and no binary: gomemctl
# names the functions itself, from the binary's symbol table.
#   pprof_check.sh PROGRAM OUTDIR
set -uo pipefail
prog=$1
out=$2
top=$(cd "$(dirname "$0")/../../.." && pwd)
fail=0

if ! command -v go >/dev/null; then
	echo "not ok 1 pprof_check # go tool pprof missing (Debian: golang-go)"
	exit 1
fi
mkdir -p "$out"
"$prog" "$out/heap.pb.gz" "$out/heap.rec" >"$out/expect.txt" || {
	echo "not ok 1 pprof_check # $prog failed"
	exit 1
}
expect() { awk -v k="$1" '$1 == k { print $2 }' "$out/expect.txt"; }

# How pprof reads a profile: with the binary to symbolize from, or with
# only the names the profile holds.
pprof_top() { # profile, sample type
	if [ "$mode" = selfnamed ]; then
		go tool pprof -top -unit=B -symbolize=none -sample_index="$2" "$1"
	else
		go tool pprof -top -unit=B -sample_index="$2" "$prog" "$1"
	fi
}

# The cumulative bytes of function $3 in sample type $2 of profile $1.
cum_bytes() {
	pprof_top "$1" "$2" 2>/dev/null |
		awk -v f="$3" '$6 == f { sub(/B$/, "", $4); print $4 }'
}

within() { # value, expected: 25 %
	[ -n "$1" ] && [ "$1" -ge $(($2 * 3 / 4)) ] && [ "$1" -le $(($2 * 5 / 4)) ]
}

n=0
check() { # profile, sample type, function, expected bytes, label
	local got
	got=$(cum_bytes "$1" "$2" "$3")
	n=$((n + 1))
	if within "$got" "$4"; then
		echo "ok $n $5 # $3 $2 ${got}B, expected about $4"
	else
		echo "not ok $n $5 # $3 $2 '${got}' bytes, expected about $4"
		pprof_top "$1" "$2" 2>&1 | sed 's/^/# /'
		fail=1
	fi
}

for p in encoder gomemctl selfnamed; do
	mode=$p
	f=$out/heap.pb.gz
	if [ $p = selfnamed ]; then
		f=$out/heap-ctl.pb.gz
	elif [ $p = gomemctl ]; then
		make -s -C "$top/tools/gomemctl" OUT="$out/tools" >/dev/null 2>&1 &&
			"$out/tools/gomemctl" pprof -i "$out/heap.rec" -o "$out/heap-ctl.pb.gz" || {
			echo "not ok $((n + 1)) gomemctl_pprof_input # gomemctl pprof -i failed"
			exit 1
		}
		f=$out/heap-ctl.pb.gz
	fi
	check "$f" alloc_space gomem_pprof_known_allocator "$(expect known_alloc_bytes)" "${p}_alloc_space"
	check "$f" inuse_space gomem_pprof_known_allocator "$(expect known_inuse_bytes)" "${p}_inuse_space"
	check "$f" alloc_space gomem_pprof_other_allocator "$(expect other_alloc_bytes)" "${p}_other_alloc_space"
done
exit $fail
