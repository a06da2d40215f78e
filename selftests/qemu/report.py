#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge gomem test runs from their guest logs and print the verdict.

Each RUN directory was written by vm.sh running gomem-run-tests: output.log
holds the test output between GOMEM-* markers, console.log the kernel log.
KUnit results go through the kernel's own kunit.py parser. The last line
printed is "N passed, N failed[, N skipped]": every KUnit case and every
kselftest case; a failed whole-run check (console splat, leak, taint,
missing results, checkpatch, dkms) adds one failure each.

usage: report.py --ksrc TREE [--check NAME=STATUS ...] KIND=RUN ...
"""

import argparse
import json
import os
import re
import subprocess
import sys

# Console lines that mean the kernel is unhappy, whatever the tests said.
SPLATS = re.compile(
    r'BUG:|WARNING:|Oops|KASAN|UBSAN|Call Trace|Kernel panic|'
    r'general protection fault|possible circular locking|'
    r'inconsistent lock state|suspected memory leak|'
    r'possible recursive locking|sleeping function called from invalid context')

# Out-of-tree (O) and unsigned (E) modules are the only taints expected,
# plus "test" (N), which KUnit sets whenever a test module runs.
ALLOWED_TAINT = (1 << 12) | (1 << 13)
TAINT_TEST = 1 << 18
TAINT_FLAGS = 'PFSRMBUDAWCIOELKXTN'


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.problems = []

    def problem(self, kind, text):
        self.failed += 1
        self.problems.append(f'{kind}: {text}')


def read(path):
    try:
        with open(path, errors='replace') as f:
            return f.read().replace('\r', '')
    except FileNotFoundError:
        return ''


def section(text, name):
    m = re.search(rf'^GOMEM-{name}-BEGIN\n(.*?)^GOMEM-{name}-END\n', text,
                  re.S | re.M)
    return m.group(1) if m else None


def count_kunit_json(group, tally):
    for case in group.get('test_cases', []):
        status = case['status']
        if status == 'PASS':
            tally.passed += 1
        elif status == 'SKIP':
            tally.skipped += 1
        else:
            tally.failed += 1
    for sub in group.get('sub_groups', []):
        count_kunit_json(sub, tally)


def judge_kunit(kind, run, output, ksrc, tally):
    ktap = section(output, 'KTAP')
    if ktap is None:
        if kind in ('debug', 'native'):
            tally.problem(kind, 'no KUnit results')
        return
    ktap_path = os.path.join(run, 'kunit.ktap')
    json_path = os.path.join(run, 'kunit.json')
    with open(ktap_path, 'w') as f:
        f.write(ktap)
    kunit_py = os.path.join(ksrc, 'tools/testing/kunit/kunit.py')
    print(f'--- KUnit ({kind}) ---', flush=True)
    if os.path.exists(json_path):
        os.unlink(json_path)
    proc = subprocess.run([sys.executable, kunit_py, 'parse', f'--json={json_path}',
                           ktap_path], stdout=subprocess.PIPE, text=True)
    print(proc.stdout, end='', flush=True)
    before = tally.passed + tally.failed + tally.skipped
    failed_before = tally.failed
    try:
        with open(json_path) as f:
            count_kunit_json(json.load(f), tally)
    except (OSError, ValueError) as e:
        tally.problem(kind, f'cannot read kunit.py results: {e}')
        return
    if tally.passed + tally.failed + tally.skipped == before:
        tally.problem(kind, 'KUnit ran no test case')
    elif tally.failed == failed_before and kunit_trouble(proc):
        tally.problem(kind, 'kunit.py found a crash, an error or missing results')


def kunit_trouble(proc):
    """Whether kunit.py saw more than failed cases: crashes, parse errors."""
    summary = [l for l in proc.stdout.splitlines() if 'Testing complete.' in l]
    if proc.returncode != 0 or not summary:
        return True
    return re.search(r'(failed|crashed|errors): [1-9]', summary[-1]) is not None


# A TAP result line. The description may be empty ("ok 1 # SKIP why", as
# 6.1's kselftest_harness prints a skip): the directive may follow the
# number directly.
KSFT_LINE = re.compile(r'^(not ok|ok) \d+ ?(.*)$')
KSFT_DIRECTIVE = re.compile(r'(?:^|\s)#\s*(SKIP|TODO|XFAIL)\b')


def ksft_line(line):
    """(ok, description, directive) of a TAP result line, or None."""
    m = KSFT_LINE.match(line)
    if not m:
        return None
    rest = m.group(2)
    d = KSFT_DIRECTIVE.search(rest)
    if not d:
        return m.group(1) == 'ok', rest, None
    return m.group(1) == 'ok', rest[:d.start()].strip(), d.group(1)


def self_test():
    """The TAP lines the guests print, judged as they must be."""
    cases = {
        'ok 1 # SKIP /proc/thread-self/fail-nth: No such file': (True, '', 'SKIP'),
        'ok 2 name # SKIP why': (True, 'name', 'SKIP'),
        'ok 4 every command issued (0 not)': (True, 'every command issued (0 not)', None),
        'not ok 7 heap.munmap_reserved_range': (False, 'heap.munmap_reserved_range', None),
        'ok 3': (True, '', None),
    }
    bad = [(l, ksft_line(l), want) for l, want in cases.items() if ksft_line(l) != want]
    for line, got, want in bad:
        print(f'report.py self-test: {line!r}: {got}, expected {want}')
    return 1 if bad else 0


def judge_kselftests(kind, output, tally):
    blocks = re.findall(r'^GOMEM-KSELFTEST-BEGIN (\S+)\n(.*?)'
                        r'^GOMEM-KSELFTEST-END \1 (\d+)\n', output, re.S | re.M)
    if not blocks:
        tally.problem(kind, 'no kselftest ran')
    for name, body, rc in blocks:
        p = f = s = 0
        for line in body.splitlines():
            r = ksft_line(line)
            if not r:
                continue
            ok, desc, directive = r
            if directive == 'SKIP':
                s += 1
            elif ok:
                p += 1
            else:
                f += 1
                print(f'  FAIL {kind}/{name}: {desc}')
        print(f'kselftest {name} ({kind} kernel): {p} passed, {f} failed, '
              f'{s} skipped, exit {rc}')
        tally.passed += p
        tally.failed += f
        tally.skipped += s
        if p + f + s == 0:
            tally.problem(kind, f'{name} reported no test case (exit {rc})')
        elif int(rc) != 0 and f == 0:
            tally.problem(kind, f'{name} exited {rc} without a failed case')


def judge_native(output, tally):
    m = re.search(r'^GOMEM-NATIVE-EXIT (\d+)$', output, re.M)
    if not m:
        tally.problem('native', 'the native test program did not finish')
    elif int(m.group(1)) != 0 and not re.search(r'^\s*not ok ', output, re.M):
        tally.problem('native', f'the native test program exited {m.group(1)} '
                      'without a failed case (sanitizer report?)')
    for line in output.splitlines():
        if re.search(r'ERROR: (Address|Leak)Sanitizer|runtime error:', line):
            tally.problem('native', line.strip())
            break


def drop_expected_oom(console):
    """Remove the OOM reports the memcg kselftests cause on purpose.

    memcg.touch_over_limit touches more heap memory than its cgroup may
    have, and the memcg's OOM killer must kill it there. Its report (from
    "invoked oom-killer" to "Killed process") is expected when the kill
    was confined to one of the tests' cgroups (/gomem_test.*) and came
    from a page fault, not from a heap command (gomem_ioctl): those must
    never OOM-kill, and stay flagged.
    """
    lines, out, i = console.splitlines(), [], 0
    while i < len(lines):
        if 'invoked oom-killer:' in lines[i]:
            j = i
            while j < len(lines) and 'Killed process' not in lines[j]:
                j += 1
            report = '\n'.join(lines[i:j + 1])
            if (j < len(lines) and 'constraint=CONSTRAINT_MEMCG' in report
                    and 'oom_memcg=/gomem_test.' in report
                    and 'gomem_ioctl' not in report):
                i = j + 1
                continue
        out.append(lines[i])
        i += 1
    return out


def judge_guest(kind, run, output, console, tally):
    for line in output.splitlines():
        if line.startswith('GOMEM-ERROR:'):
            tally.problem(kind, line[len('GOMEM-ERROR: '):])
    if not re.search(r'^GOMEM-DONE$', output, re.M):
        tally.problem(kind, f'guest did not finish the run (see {run}/console.log)')
    splats = [l for l in drop_expected_oom(console) if SPLATS.search(l)]
    if splats:
        tally.problem(kind, f'kernel console has {len(splats)} suspicious line(s), '
                      f'first: {splats[0].strip()}')
    leaks = section(output, 'KMEMLEAK')
    if leaks is not None and leaks.strip():
        tally.problem(kind, 'kmemleak reports:\n' + leaks)
    m = re.search(r'^GOMEM-TAINT (\d+)$', output, re.M)
    allowed = ALLOWED_TAINT | (TAINT_TEST if section(output, 'KTAP') else 0)
    if not m:
        tally.problem(kind, 'guest did not report its taint')
    elif int(m.group(1)) & ~allowed:
        taint = int(m.group(1))
        flags = ''.join(c for i, c in enumerate(TAINT_FLAGS) if taint & (1 << i))
        tally.problem(kind, f'kernel tainted {taint:#x} ({flags})')


def main():
    ap = argparse.ArgumentParser()
    if sys.argv[1:] == ['--self-test']:
        return self_test()
    ap.add_argument('--ksrc', required=True)
    ap.add_argument('--check', action='append', default=[])
    ap.add_argument('runs', nargs='+')
    args = ap.parse_args()

    tally = Tally()
    for spec in args.runs:
        kind, run = spec.split('=', 1)
        run = os.path.abspath(run)
        output = read(os.path.join(run, 'output.log'))
        console = read(os.path.join(run, 'console.log'))
        m = re.search(r'^GOMEM-KERNEL (.*)$', output, re.M)
        if kind == 'native':
            print('=== native core tests (ASan, UBSan) ===')
            judge_kunit(kind, run, output, args.ksrc, tally)
            judge_native(output, tally)
            continue
        print(f'=== {kind} kernel {m.group(1) if m else "(did not report)"} ===')
        judge_kunit(kind, run, output, args.ksrc, tally)
        judge_kselftests(kind, output, tally)
        judge_guest(kind, run, output, console, tally)
    for check in args.check:
        name, status = check.split('=', 1)
        print(f'{name}: {"ok" if status == "0" else "FAILED"}')
        if status != '0':
            tally.problem(name, 'failed')

    if tally.passed + tally.failed + tally.skipped == 0:
        tally.problem('run', 'no test ran')
    for p in tally.problems:
        print(f'PROBLEM {p}')
    line = f'{tally.passed} passed, {tally.failed} failed'
    if tally.skipped:
        line += f', {tally.skipped} skipped'
    print(line)
    return 1 if tally.failed or tally.passed == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
