#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Compile dev_gomem.txt with syzkaller's own compiler (syz-sysgen).
#   check-syzkaller.sh SYZKALLER_TREE
# The tree is a syzkaller checkout whose Go code the local Go toolchain can
# build offline (its modules vendored): with Debian 12's Go 1.19, revision
# 44ab660f8525bdd34a5a8399822d43d4a1a1385c (2024-04-02) is the last one.
# The description and its constants are copied into the tree's sys/linux/;
# a copy of the tree is used so that the checkout stays as it was.
set -euo pipefail

tree=${1:?usage: check-syzkaller.sh SYZKALLER_TREE}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp -a "$tree/." "$work/"
cp "$here/dev_gomem.txt" "$here/dev_gomem.txt.const" "$work/sys/linux/"
cd "$work"
go build -o "$work/syz-sysgen" ./sys/syz-sysgen
./syz-sysgen
n=$(grep -o '"[a-z]*\$[A-Za-z_]*"' executor/syscalls.h | grep -ci gomem)
echo "syz-sysgen: dev_gomem.txt compiled, $n gomem calls in executor/syscalls.h"
[ "$n" -gt 0 ]
