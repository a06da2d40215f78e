#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# After "make install DESTDIR=ROOT PREFIX=/usr": pkg-config must know gomem
# at VERSION, a program must build with its flags alone, and libgomem(3)
# must render without a warning. PKG_CONFIG_* point into ROOT (Makefile).
#   install_check.sh ROOT VERSION
set -eu
root=$1
version=$2
fail() { echo "install-check: $*" >&2; exit 1; }

got=$(pkg-config --modversion gomem) || fail "pkg-config does not know gomem"
[ "$got" = "$version" ] || fail "gomem.pc says version '$got', dkms.conf '$version'"
cflags=$(pkg-config --cflags gomem)
libs=$(pkg-config --libs --static gomem)

prog=$(mktemp -d)
trap 'rm -rf "$prog"' EXIT
cat >"$prog/t.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <libgomem.h>

int main(void)
{
	struct gomem_heap *h = gomem_open("/nonexistent/gomem");

	/* No device here: the call must fail cleanly with errno set. */
	if (h || !errno)
		return 1;
	printf("ABI %d\n", GOMEM_ABI_VERSION);
	return 0;
}
C
# shellcheck disable=SC2086 # pkg-config's output is words
cc -o "$prog/t" "$prog/t.c" $cflags -static $libs || fail "a program does not build with pkg-config's flags"
"$prog/t" >/dev/null || fail "the program built with pkg-config's flags does not run"

page="$root/usr/share/man/man3/libgomem.3"
[ -r "$page" ] || fail "libgomem(3) not installed"
warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "libgomem(3) does not render"
[ -z "$warn" ] || fail "libgomem(3): $warn"
echo "install-check: pkg-config gomem $got, a program built and ran, libgomem(3) renders"
