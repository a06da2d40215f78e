#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge gomem test runs from their guest logs and print the verdict.

Each RUN directory was written by vm.sh running gomem-run-tests: output.log
holds the test output between GOMEM-* markers, console.log the kernel log.
KUnit results go through the kernel's own kunit.py parser. The last line
printed is "N passed, N failed[, N skipped]": every KUnit case and every
kselftest case; a failed whole-run check (console splat, leak, taint,
missing results, checkpatch, dkms) adds one failure each.

The details (kunit.py's per-case lines, per-program counts) go to the
--log file; the screen gets a short summary that names every failed case
(suite.case or program: case, with the run's kind) and every failed
whole-run check, each with the path of its log and its first lines.

usage: report.py --ksrc TREE [--log FILE] [--check NAME=STATUS[:LOG] ...] KIND=RUN ...
       report.py --self-test --ksrc TREE
"""

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Console lines that mean the kernel is unhappy, whatever the tests said.
SPLATS = re.compile(
    r'BUG:|WARNING:|Oops|KASAN|UBSAN|Call Trace|Kernel panic|'
    r'general protection fault|possible circular locking|'
    r'inconsistent lock state|suspected memory leak|'
    r'possible recursive locking|sleeping function called from invalid context|'
    r'self-detected stall|detected stalls on CPUs|blocked for more than \d+ seconds')

# Out-of-tree (O) and unsigned (E) modules are the only taints expected,
# plus "test" (N), which KUnit sets whenever a test module runs.
ALLOWED_TAINT = (1 << 12) | (1 << 13)
TAINT_TEST = 1 << 18
TAINT_FLAGS = 'PFSRMBUDAWCIOELKXTN'


# How much of each failure the summary shows.
DETAIL_LINES = 4
MAX_LISTED = 40


class Tally:
    """Counts, the failures to name, and where the details go."""

    def __init__(self, out=sys.stdout):
        self.passed = self.failed = self.skipped = 0
        self.failures = []      # (what, log, detail lines)
        self.lines = {}         # kind -> [per-tier count line, ...]
        self.labels = {}        # kind -> its kernel
        self.out = out

    def say(self, text=''):
        print(text, file=self.out, flush=True)

    def fail(self, what, log, detail=()):
        """One failed case or whole-run check, with the log that shows it."""
        self.failed += 1
        self.failures.append((what, log, [l.rstrip() for l in detail if l.strip()]))

    def problem(self, kind, text, log, detail=()):
        self.say(f'PROBLEM {kind}: {text}')
        self.fail(f'{kind}: {text}', log, detail)

    def count_line(self, kind, text):
        self.lines.setdefault(kind, []).append(text)


def at_line(path, line):
    return f'{path}:{line}' if line else path


def head_of(path, n=DETAIL_LINES):
    """The first n lines of a log that are not progress messages."""
    lines = [l for l in read(path).splitlines() if l.strip() and not l.startswith('==> ')]
    if len(lines) > n:
        return lines[:n] + [f'... {len(lines) - n} more line(s)']
    return lines


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


def ktap_results(ktap):
    """Where each failed result of a KTAP text is, and what precedes it.

    Returns {(suite, case[, param]): (line number, diagnostic lines)}.
    A "# Subtest: X" header at indentation 4*d opens X; results at that
    indentation are X's children. The diagnostics (EXPECTATION FAILED and
    the values, tab-indented in the kernel's log) are the lines between
    the previous result or header and the result.
    """
    stack, found, since = {}, {}, []
    for no, raw in enumerate(ktap.splitlines(), 1):
        body = raw.lstrip(' ')
        depth = (len(raw) - len(body)) // 4
        m = re.match(r'# Subtest: (.*)$', body)
        if m:
            stack[depth] = m.group(1).strip()
            for d in [d for d in stack if d > depth]:
                del stack[d]
            since = []
            continue
        m = re.match(r'(not ok|ok) \d+ (?:- )?(.*?)(?:\s+#.*)?$', body)
        if m:
            if m.group(1) == 'not ok':
                path = tuple(stack[d] for d in range(1, depth + 1) if d in stack)
                found[path + (m.group(2).strip(),)] = (no, since[-DETAIL_LINES:])
            since = []
        elif re.match(r'(KTAP version|1\.\.)', body):
            since = []
        else:
            since.append(body.strip())
    return found


def count_kunit_json(group, tally, kind, ktap_path, where, path=()):
    for case in group.get('test_cases', []):
        status = case['status']
        if status == 'PASS':
            tally.passed += 1
        elif status == 'SKIP':
            tally.skipped += 1
        else:
            full = path + (case['name'],)
            line, detail = where.get(full, (0, []))
            name = '.'.join(full[:2]) + ''.join(f'[{p}]' for p in full[2:])
            verdict = 'crashed' if status == 'ERROR' else 'failed'
            label = kind if kind == 'native' else f'{kind} kernel'
            tally.fail(f'KUnit {name} {verdict} ({label})', at_line(ktap_path, line), detail)
    for sub in group.get('sub_groups', []):
        count_kunit_json(sub, tally, kind, ktap_path, where, path + (sub['name'],))


def judge_kunit(kind, run, output, ksrc, tally):
    output_log = os.path.join(run, 'output.log')
    ktap = section(output, 'KTAP')
    if ktap is None:
        if kind == 'native' or kind.startswith('debug'):
            tally.problem(kind, 'no KUnit results', output_log)
        return
    ktap_path = os.path.join(run, 'kunit.ktap')
    json_path = os.path.join(run, 'kunit.json')
    with open(ktap_path, 'w') as f:
        f.write(ktap)
    kunit_py = os.path.join(ksrc, 'tools/testing/kunit/kunit.py')
    tally.say(f'--- KUnit ({kind}) ---')
    if os.path.exists(json_path):
        os.unlink(json_path)
    proc = subprocess.run([sys.executable, kunit_py, 'parse', f'--json={json_path}',
                           ktap_path], stdout=subprocess.PIPE, text=True)
    tally.say(proc.stdout.rstrip('\n'))
    counts = (tally.passed, tally.failed, tally.skipped)
    try:
        with open(json_path) as f:
            count_kunit_json(json.load(f), tally, kind, ktap_path, ktap_results(ktap))
    except (OSError, ValueError) as e:
        tally.problem(kind, f'cannot read kunit.py results: {e}', ktap_path)
        return
    p, f, s = (now - then for now, then in zip((tally.passed, tally.failed, tally.skipped),
                                               counts))
    tally.count_line(kind, f'KUnit {p} passed, {f} failed, {s} skipped')
    if p + f + s == 0:
        tally.problem(kind, 'KUnit ran no test case', ktap_path)
    elif f == 0 and kunit_trouble(proc):
        summary = [l for l in proc.stdout.splitlines() if 'Testing complete.' in l]
        tally.problem(kind, 'kunit.py found a crash, an error or missing results',
                      ktap_path, summary[-1:])


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


def self_test_tap():
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
    return len(bad)


# A native run with a failed case and a failed parameter, a guest run with
# a failed kselftest case ("stock": no KUnit expected), a passing guest
# run and a failed check: what the summary must say about them.
SELF_TEST_KTAP = """GOMEM-KTAP-BEGIN
KTAP version 1
1..1
    KTAP version 1
    # Subtest: gomem_selftest
    1..3
    ok 1 passing_case
    # broken_case: EXPECTATION FAILED at gomem/runtime/tests/selftest.c:42
\tExpected 1 + 1 == 3, but
\t\t1 + 1 == 2 (0x2)
    not ok 2 broken_case
        KTAP version 1
        # Subtest: param_case
        1..2
        ok 1 class 1, 8 bytes
        # param_case: EXPECTATION FAILED at gomem/runtime/tests/selftest.c:77
        not ok 2 class 2, 16 bytes
    not ok 3 param_case
not ok 1 gomem_selftest
GOMEM-KTAP-END
"""
SELF_TEST_KSFT = """GOMEM-KERNEL 6.1.0-selftest
GOMEM-KSELFTEST-BEGIN gomem_fake_test
TAP version 13
1..3
# Starting 3 tests from 1 test cases.
#  RUN           fix.good ...
#            OK  fix.good
ok 1 fix.good
#  RUN           fix.bad ...
# gomem_fake_test.c:12:Expected 0 (0) == ret (-22)
# bad: Test terminated by assertion
#          FAIL  fix.bad
not ok 2 fix.bad
ok 3 fix.skipped # SKIP no reason
# FAILED: 1 / 3 tests passed.
GOMEM-KSELFTEST-END gomem_fake_test 1
GOMEM-TAINT 12288
GOMEM-DONE
"""


def self_test_summary(ksrc):
    """Feed report() runs with failures; the summary must name each."""
    tmp = tempfile.mkdtemp(prefix='gomem-report-self-test.')
    try:
        files = {
            'native/output.log': SELF_TEST_KTAP + 'GOMEM-NATIVE-EXIT 1\nGOMEM-DONE\n',
            'stock/output.log': SELF_TEST_KSFT,
            'stock/console.log': 'Linux version 6.1.0-selftest\n',
            'extra/output.log': SELF_TEST_KSFT.replace('1..3', '1..2')
                                .replace('not ok 2 fix.bad', 'ok 2 fix.bad')
                                .replace('gomem_fake_test 1', 'gomem_fake_test 0'),
            'extra/console.log': '[  220.421121] rcu: INFO: rcu_sched self-detected stall on CPU\n',
            'checkpatch.log': '==> checkpatch over 2 files\n'
                              'gomem/a.c:3: WARNING:LONG_LINE: line length of 101 exceeds\n',
        }
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(tmp, name)), exist_ok=True)
            with open(os.path.join(tmp, name), 'w') as f:
                f.write(text)
        checks = [('checkpatch', '1', os.path.join(tmp, 'checkpatch.log')),
                  ('dkms', '0', None)]
        runs = [(k, os.path.join(tmp, k)) for k in ('native', 'stock', 'extra')]
        screen = io.StringIO()
        rc = report(runs, checks, ksrc, os.path.join(tmp, 'report.log'), screen)
        got = screen.getvalue()
        ktap = os.path.join(tmp, 'native', 'kunit.ktap')
        out = os.path.join(tmp, 'stock', 'output.log')
        want = [
            'FAILED  KUnit gomem_selftest.broken_case failed (native)',
            f'        log: {ktap}:10',
            '        | # broken_case: EXPECTATION FAILED at gomem/runtime/tests/selftest.c:42',
            '        | 1 + 1 == 2 (0x2)',
            'FAILED  KUnit gomem_selftest.param_case[class 2, 16 bytes] failed (native)',
            f'        log: {ktap}:16',
            'FAILED  kselftest gomem_fake_test: fix.bad failed (stock kernel)',
            f'        log: {out}:13',
            '        | # gomem_fake_test.c:12:Expected 0 (0) == ret (-22)',
            'FAILED  check checkpatch failed (status 1)',
            f'        log: {os.path.join(tmp, "checkpatch.log")}',
            '        | gomem/a.c:3: WARNING:LONG_LINE: line length of 101 exceeds',
            'stock   kernel 6.1.0-selftest: kselftests 1 passed, 1 failed, 1 skipped',
            'checks  1 of 2 passed (failed: checkpatch)',
            'FAILED  extra: kernel console has 1 suspicious line(s)',
            '        | [  220.421121] rcu: INFO: rcu_sched self-detected stall on CPU',
        ]
        lines = got.splitlines()
        bad = [w for w in want if w not in lines]
        # Passing detail stays in the log; the verdict is the last line.
        if lines[-1:] != ['5 passed, 5 failed, 2 skipped']:
            bad.append(f'last line {lines[-1:]}')
        for noise in ('[PASSED]', 'passing_case', 'fix.good', 'dkms'):
            if noise in got:
                bad.append(f'{noise!r} on the screen')
        if rc != 1:
            bad.append(f'exit status {rc}')
        for b in bad:
            print(f'report.py self-test: summary lacks or has wrongly: {b}')
        if bad:
            print('report.py self-test: the summary was:\n' + got)
        return len(bad)
    finally:
        shutil.rmtree(tmp)


def self_test(ksrc):
    return 1 if self_test_tap() + self_test_summary(ksrc) else 0


def judge_kselftests(kind, run, output, tally):
    log = os.path.join(run, 'output.log')
    blocks = list(re.finditer(r'^GOMEM-KSELFTEST-BEGIN (\S+)\n(.*?)'
                              r'^GOMEM-KSELFTEST-END \1 (\d+)\n', output, re.S | re.M))
    if not blocks:
        tally.problem(kind, 'no kselftest ran', log)
    total = [0, 0, 0]
    for block in blocks:
        name, body, rc = block.groups()
        first = output.count('\n', 0, block.start(2)) + 1
        p = f = s = 0
        since = []
        for no, line in enumerate(body.splitlines(), first):
            r = ksft_line(line)
            if not r:
                # The harness's RUN/OK/FAIL banners say nothing new.
                if not re.match(r'#\s+(RUN|OK|FAIL)\s', line):
                    since.append(line)
                continue
            ok, desc, directive = r
            if directive == 'SKIP':
                s += 1
            elif ok:
                p += 1
            else:
                f += 1
                tally.say(f'  FAIL {kind}/{name}: {desc}')
                tally.fail(f'kselftest {name}: {desc} failed ({kind} kernel)',
                           at_line(log, no), since[-DETAIL_LINES:])
            since = []
        tally.say(f'kselftest {name} ({kind} kernel): {p} passed, {f} failed, '
                  f'{s} skipped, exit {rc}')
        tally.passed += p
        tally.skipped += s
        total = [total[0] + p, total[1] + f, total[2] + s]
        if p + f + s == 0:
            tally.problem(kind, f'{name} reported no test case (exit {rc})',
                          at_line(log, first), body.splitlines()[-DETAIL_LINES:])
        elif int(rc) != 0 and f == 0:
            tally.problem(kind, f'{name} exited {rc} without a failed case',
                          at_line(log, first), body.splitlines()[-DETAIL_LINES:])
    if blocks:
        tally.count_line(kind, f'kselftests {total[0]} passed, {total[1]} failed, '
                         f'{total[2]} skipped')


def judge_native(run, output, tally):
    log = os.path.join(run, 'output.log')
    m = re.search(r'^GOMEM-NATIVE-EXIT (\d+)$', output, re.M)
    if not m:
        tally.problem('native', 'the native test program did not finish', log,
                      output.splitlines()[-DETAIL_LINES:])
    elif int(m.group(1)) != 0 and not re.search(r'^\s*not ok ', output, re.M):
        tally.problem('native', f'the native test program exited {m.group(1)} '
                      'without a failed case (sanitizer report?)', log)
    for no, line in enumerate(output.splitlines(), 1):
        if re.search(r'ERROR: (Address|Leak)Sanitizer|runtime error:', line):
            tally.problem('native', line.strip(), at_line(log, no))
            break


def drop_expected_oom(console):
    """(line number, line) of the console without the OOM reports the
    memcg kselftests cause on purpose.

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
        out.append((i + 1, lines[i]))
        i += 1
    return out


def judge_guest(kind, run, output, console, tally):
    output_log = os.path.join(run, 'output.log')
    console_log = os.path.join(run, 'console.log')
    for no, line in enumerate(output.splitlines(), 1):
        if line.startswith('GOMEM-ERROR:'):
            tally.problem(kind, line[len('GOMEM-ERROR: '):], at_line(output_log, no))
    if not re.search(r'^GOMEM-DONE$', output, re.M):
        tally.problem(kind, 'guest did not finish the run', console_log,
                      console.splitlines()[-DETAIL_LINES:])
    splats = [(no, l) for no, l in drop_expected_oom(console) if SPLATS.search(l)]
    if splats:
        tally.problem(kind, f'kernel console has {len(splats)} suspicious line(s)',
                      at_line(console_log, splats[0][0]),
                      [l.strip() for _, l in splats[:DETAIL_LINES]])
    leaks = section(output, 'KMEMLEAK')
    if leaks is not None and leaks.strip():
        tally.say('kmemleak reports:\n' + leaks)
        tally.problem(kind, 'kmemleak reports leaks', output_log,
                      leaks.splitlines()[:DETAIL_LINES])
    m = re.search(r'^GOMEM-TAINT (\d+)$', output, re.M)
    allowed = ALLOWED_TAINT | (TAINT_TEST if section(output, 'KTAP') else 0)
    if not m:
        tally.problem(kind, 'guest did not report its taint', output_log)
    elif int(m.group(1)) & ~allowed:
        taint = int(m.group(1))
        flags = ''.join(c for i, c in enumerate(TAINT_FLAGS) if taint & (1 << i))
        tally.problem(kind, f'kernel tainted {taint:#x} ({flags})', console_log)


def judge_runs(runs, checks, ksrc, tally):
    """Judge every run and whole-run check into tally."""
    for kind, run in runs:
        output = read(os.path.join(run, 'output.log'))
        console = read(os.path.join(run, 'console.log'))
        if kind == 'native':
            tally.say('=== native core tests (ASan, UBSan) ===')
            judge_kunit(kind, run, output, ksrc, tally)
            judge_native(run, output, tally)
            continue
        m = re.search(r'^GOMEM-KERNEL (.*)$', output, re.M)
        tally.labels[kind] = f'kernel {m.group(1) if m else "(did not report)"}:'
        tally.say(f'=== {kind} kernel {m.group(1) if m else "(did not report)"} ===')
        judge_kunit(kind, run, output, ksrc, tally)
        judge_kselftests(kind, run, output, tally)
        judge_guest(kind, run, output, console, tally)
    for name, status, log in checks:
        tally.say(f'{name}: {"ok" if status == "0" else "FAILED"}' +
                  (f' (log: {log})' if log else ''))
        if status != '0':
            tally.fail(f'check {name} failed (status {status})', log or '(no log)',
                       head_of(log) if log else [])
    if tally.passed + tally.failed + tally.skipped == 0:
        tally.problem('run', 'no test ran', '(no log)')


def verdict(tally):
    line = f'{tally.passed} passed, {tally.failed} failed'
    if tally.skipped:
        line += f', {tally.skipped} skipped'
    return line


def summary(tally, checks, details):
    """The short end of the run: counts per tier, then every failure."""
    out = [f'--- summary (details: {details}) ---']
    for kind, lines in tally.lines.items():
        label = tally.labels.get(kind)
        out.append(f'{kind:<7} ' + (f'{label} ' if label else '') + '; '.join(lines))
    if checks:
        bad = [name for name, status, _ in checks if status != '0']
        out.append(f'{"checks":<7} {len(checks) - len(bad)} of {len(checks)} passed' +
                   (f' (failed: {", ".join(bad)})' if bad else ''))
    for what, log, detail in tally.failures[:MAX_LISTED]:
        out.append(f'FAILED  {what}')
        out.append(f'        log: {log}')
        out.extend(f'        | {l}' for l in detail)
    if len(tally.failures) > MAX_LISTED:
        out.append(f'... and {len(tally.failures) - MAX_LISTED} more failure(s): '
                   f'see {details}')
    out.append(verdict(tally))
    return out


def parse_check(spec):
    """NAME=STATUS[:LOG] -> (name, status, log or None)."""
    name, rest = spec.split('=', 1)
    status, _, log = rest.partition(':')
    return name, status, os.path.abspath(log) if log else None


def report(runs, checks, ksrc, log_path, screen):
    """Judge; details to log_path, the summary to screen and the log."""
    with open(log_path, 'w') as log:
        tally = Tally(log)
        judge_runs(runs, checks, ksrc, tally)
        lines = summary(tally, checks, log_path)
        for l in lines[:-1]:
            tally.say(l)
        tally.say(lines[-1])
    for l in lines:
        print(l, file=screen, flush=True)
    return 1 if tally.failed or tally.passed == 0 else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ksrc', required=True)
    ap.add_argument('--self-test', action='store_true')
    ap.add_argument('--log', help='where the details go (default: report.log '
                    'next to the first run)')
    ap.add_argument('--check', action='append', default=[])
    ap.add_argument('runs', nargs='*')
    args = ap.parse_args()
    if args.self_test:
        return self_test(args.ksrc)
    if not args.runs:
        ap.error('no KIND=RUN given')
    runs = [(kind, os.path.abspath(run)) for kind, run in
            (spec.split('=', 1) for spec in args.runs)]
    log = os.path.abspath(args.log or os.path.join(os.path.dirname(runs[0][1]), 'report.log'))
    return report(runs, [parse_check(c) for c in args.check], args.ksrc, log, sys.stdout)


if __name__ == '__main__':
    sys.exit(main())
