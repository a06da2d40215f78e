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

warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "gomemctl(1) does not render"
[ -z "$warn" ] || fail "gomemctl(1): $warn"
[ $bad -eq 0 ] && echo "cli-check: $(echo "$cmds" | wc -w) commands with help, gomemctl(1) renders"
exit $bad
