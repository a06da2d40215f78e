#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# gomemctl's command line as a user meets it, without the module: every
# command has help (gomemctl help CMD, gomemctl CMD --help), usage errors
# exit 2, gomemctl(1) renders cleanly and names every command.
#   cli_check.sh GOMEMCTL MANPAGE
set -u
ctl=$1
page=$2
bad=0
fail() { echo "cli-check: $*" >&2; bad=1; }

list=$("$ctl" help) || fail "gomemctl help exits $?"
cmds=$(echo "$list" | sed -n 's/^  gomemctl \([a-z]*\).*/\1/p' | grep -v '^help$')
[ -n "$cmds" ] || fail "gomemctl help lists no command"
for c in $cmds; do
	out=$("$ctl" help "$c") || fail "gomemctl help $c exits $?"
	echo "$out" | grep -q "^usage: gomemctl $c" || fail "gomemctl help $c: no usage line"
	[ "$(echo "$out" | wc -l)" -ge 3 ] || fail "gomemctl help $c: no description"
	out2=$("$ctl" "$c" --help) || fail "gomemctl $c --help exits $?"
	[ "$out" = "$out2" ] || fail "gomemctl $c --help differs from gomemctl help $c"
	grep -q "^\.B gomemctl $c\$\|^\.B $c\$" "$page" || fail "gomemctl(1) does not describe $c"
done
"$ctl" no-such-command >/dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown command does not exit 2"
"$ctl" >/dev/null 2>&1
[ $? -eq 2 ] || fail "no command does not exit 2"
"$ctl" help no-such-command >/dev/null 2>&1 && fail "help of an unknown command succeeds"

# Without the module, --on must say so rather than blame permissions.
if [ ! -e /sys/module/gomem ]; then
	msg=$("$ctl" gctrace --on -t 0.1 2>&1)
	echo "$msg" | grep -q "not loaded" || fail "gctrace --on without the module says: $msg"
fi

# top reads debugfs: a heap with 1000 objects of 16 bytes in 3 spans (one
# empty, kept) and one large object of 64 KiB gives known slabtop figures.
fake=$(mktemp -d)
trap 'rm -rf "$fake"' EXIT
mkdir -p "$fake/heaps/7"
printf 'pid 1\ncomm t\n' >"$fake/heaps/7/owner"
printf 'HeapAlloc 81536\nHeapSys 131072\nResident 90000\n' >"$fake/heaps/7/memstats"
printf 'class  bytes/obj  spans  inuse  allocs  frees  fast  slow  empty\n' >"$fake/heaps/7/classes"
printf '    2         16      3   1000    1500    500  1400   100      1\n' >>"$fake/heaps/7/classes"
printf '    0      large      1      1       1      0     0     0      0\n' >>"$fake/heaps/7/classes"
top=$(GOMEMCTL_DEBUGFS=$fake "$ctl" top -o -s u) || fail "top -o exits $?"
expect() {
	echo "$top" | grep -qF -- "$1" || fail "top -o lacks '$1' in:
$top"
}
expect " Active / Total Objects (% used)    : 1001 / 1537 (65.1%)"
expect " Active / Total Slabs (% used)      : 3 / 4 (75.0%)"
expect " Active / Total Caches (% used)     : 2 / 68 (2.9%)"
expect " Active / Total Size (% used)       : 79.62K / 88.00K (90.5%)"
expect " Minimum / Average / Maximum Object : 0.02K / 0.08K / 64.00K"
expect "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE    ALLOCS     FREES FAST% NAME"
expect "  1536   1000  65%    0.02K      3      512     24.00K      1500       500    93 gomem-16"
expect "     1      1 100%   64.00K      1        1     64.00K         1         0     - gomem-large"
# -s u: use, highest first.
[ "$(echo "$top" | grep -n gomem-large | cut -d: -f1)" -lt \
  "$(echo "$top" | grep -n gomem-16 | cut -d: -f1)" ] || fail "top -s u is not sorted by use"

# demo --plot's timeline, drawn by gomemctl plot: a PNG comes out.
printf 'seconds,RSS,HeapAlloc,HeapReleased,HeapSys,step\n0.000,1048576,1048576,0,4194304,allocated\n1.500,629145600,629145600,0,629145600,touched\n3.000,4194304,0,625000000,629145600,runtime.GC()\n' \
	>"$fake/t.csv"
"$ctl" plot "$fake/t.csv" "$fake/t.png" >/dev/null || fail "gomemctl plot exits $?"
[ "$(head -c 4 "$fake/t.png" 2>/dev/null | tail -c 3)" = PNG ] || fail "gomemctl plot wrote no PNG"

warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "gomemctl(1) does not render"
[ -z "$warn" ] || fail "gomemctl(1): $warn"
[ $bad -eq 0 ] && echo "cli-check: $(echo "$cmds" | wc -w) commands with help, gomemctl(1) renders"
exit $bad
