#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn make bench's text tables into CSV, JSON and PNG charts.

    tables.py RUNS_DIR

For every RUNS_DIR/*.txt (kernel.txt, native.txt, gc.txt, scavenge.txt):
each table (a title line, a header line, rows) goes to
RUNS_DIR/data/NAME-N.csv, all of them with their titles to
RUNS_DIR/data/NAME.json, and every "target" line of any file to
RUNS_DIR/data/targets.csv and targets.json. With gnuplot (Debian's
gnuplot-nox), the tables that have ratio columns (a "/" in the name: gomem
over a peer) are drawn to RUNS_DIR/plots/NAME-N.png, ratio against the first
column, with 1.0 marked; the targets to plots/targets.png, each figure over
its target (1.0 or less: met). Prints what it wrote.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys

# Header words that are one column, so that every header splits as its rows do.
MULTI = ['(min - max)', 'time s', 'cpu s', 'GC s', 'RSS MiB', 'goal MiB', 'gray peak',
         'OBJ SIZE', 'CACHE SIZE']
RANGE = re.compile(r'\((\S+) - (\S+)\)')
# "  WHAT[:] VALUE[x| s] [(at ...)][,] target [OP] TARGET[x| s]: met|NOT met"
TARGET = re.compile(r'^\s+(?P<what>\S.*?)[:\s]\s*(?P<value>-?\d+(?:\.\d+)?)(?:x| s)?'
                    r'(?P<note>\s*\([^)]*\))?,?\s+target\s+(?P<op><=|>=|<|>)?\s*'
                    r'(?P<target>\d+(?:\.\d+)?)(?P<unit>x| s)?: (?P<verdict>met|NOT met)')


def words(line):
    for m in MULTI:
        line = line.replace(m, m.replace(' ', '_'))
    return RANGE.sub(r'\1..\2', line).split()


def number(tok):
    try:
        return float(tok.rstrip('x%'))
    except ValueError:
        return None


def tables(text):
    """Yield (title, header, rows): a header followed by rows of as many words."""
    lines = text.splitlines()
    i = 0
    while i + 2 < len(lines):
        title, head = lines[i], words(lines[i + 1])
        rows = []
        j = i + 2
        while j < len(lines) and lines[j].strip():
            w = words(lines[j])
            if len(w) != len(head) or not any(number(t) is not None for t in w[1:]):
                break
            rows.append(w)
            j += 1
        if len(head) >= 2 and rows and all(number(t) is None for t in head):
            yield title.strip(), head, rows
            i = j
        else:
            i += 1


def targets(text, source):
    for line in text.splitlines():
        m = TARGET.match(line)
        if m:
            what = m['what'].strip() + (' ' + m['note'].strip() if m['note'] else '')
            yield {'source': source, 'what': ' '.join(what.split()), 'value': float(m['value']),
                   'op': m['op'] or '=', 'target': float(m['target']),
                   'unit': (m['unit'] or '').strip(), 'met': m['verdict'] == 'met'}


def gnuplot(script, out):
    r = subprocess.run(['gnuplot'], input=script, text=True, capture_output=True)
    if r.returncode:
        sys.stderr.write(f'gnuplot failed for {out}: {r.stderr}')
    return r.returncode == 0


def plot_table(path, title, head, rows, out):
    ratio = [k for k, h in enumerate(head) if '/' in h and k]
    if not ratio:
        return False
    data = path + '.dat'
    with open(data, 'w') as f:
        for r in rows:
            f.write(' '.join(['"%s"' % r[0]] + [r[k].rstrip('x') if number(r[k]) is not None
                                                else 'NaN' for k in ratio]) + '\n')
    plots = ', '.join(f"'{data}' using {n + 2}:xtic(1) with linespoints title '{head[k]}'"
                      for n, k in enumerate(ratio))
    script = f"""set terminal pngcairo size 900,500
set output '{out}'
set title "{title.replace('"', "'")}" noenhanced
set xlabel '{head[0]}' noenhanced
set ylabel 'ratio (gomem / peer)'
set logscale y
set grid
set key noenhanced
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2
plot {plots}
"""
    ok = gnuplot(script, out)
    os.unlink(data)
    return ok


def plot_targets(tg, out, tmp):
    data = tmp + '/targets.dat'
    with open(data, 'w') as f:
        for n, t in enumerate(tg):
            # A target of 0 (rescans) is met at 0: draw it as 0 or 1+.
            rel = t['value'] / t['target'] if t['target'] else (0 if t['value'] == 0 else 2)
            f.write(f'{n} {rel:.4f} "{t["what"]}" {1 if t["met"] else 0}\n')
    script = f"""set terminal pngcairo size 1000,{120 + 22 * len(tg)}
set output '{out}'
set title 'issue targets: measured / target (1 or less: met)'
set style fill solid 0.6
set yrange [-1:{len(tg)}]
set xrange [0:*]
set ytics noenhanced font ',8'
set grid x
set arrow from first 1, graph 0 to first 1, graph 1 nohead dashtype 2
plot '{data}' using ($2/2):1:($2/2):(0.4):($4 > 0 ? 0x2a9d8f : 0xe76f51):ytic(3) \\
    with boxxyerror lc rgb variable notitle
"""
    ok = gnuplot(script, out)
    os.unlink(data)
    return ok


SAMPLE = """\
pair (alloc, free at once), 1 CPU: ns per object
    size      gomem    kmalloc g/kmalloc
       8      341.1      276.9      1.23
   65536        n/a     1607.3         -

binary-trees, one thread
depth impl    time s     (min - max)  cpu s
   16 gomem    0.448 (0.295 - 0.519)   0.45

targets
  pair   1 CPU      8-1024  B: 1.23x (at 8 B), target <= 1.00x: NOT met
  mark, list: gomem / boehm ns per node                  0.98x   target <= 1.5x: met
  time to goal                                           7.5 s   target <= 10 s: met
"""


def self_test():
    """The parser on a sample of every format make bench prints."""
    t = list(tables(SAMPLE))
    assert [x[0] for x in t] == ['pair (alloc, free at once), 1 CPU: ns per object',
                                 'binary-trees, one thread'], t
    assert t[0][1] == ['size', 'gomem', 'kmalloc', 'g/kmalloc'] and len(t[0][2]) == 2, t[0]
    assert t[1][1][2:4] == ['time_s', '(min_-_max)'] and t[1][2][0][3] == '0.295..0.519', t[1]
    tg = list(targets(SAMPLE, 'x'))
    assert [(x['value'], x['target'], x['met']) for x in tg] == \
        [(1.23, 1.0, False), (0.98, 1.5, True), (7.5, 10.0, True)], tg
    assert tg[0]['what'] == 'pair 1 CPU 8-1024 B (at 8 B)', tg[0]
    print('tables.py: self-test ok (2 tables, 3 targets)')


def main():
    if sys.argv[1:] == ['--self-test']:
        self_test()
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    runs = sys.argv[1]
    datadir, plotdir = os.path.join(runs, 'data'), os.path.join(runs, 'plots')
    os.makedirs(datadir, exist_ok=True)
    have_gnuplot = shutil.which('gnuplot') is not None
    if have_gnuplot:
        os.makedirs(plotdir, exist_ok=True)
    all_targets, wrote = [], []
    for name in sorted(os.listdir(runs)):
        if not name.endswith('.txt'):
            continue
        stem = name[:-4]
        with open(os.path.join(runs, name)) as f:
            text = f.read()
        found = []
        for n, (title, head, rows) in enumerate(tables(text), 1):
            path = os.path.join(datadir, f'{stem}-{n}.csv')
            with open(path, 'w', newline='') as f:
                w = csv.writer(f)
                w.writerow(head)
                w.writerows(rows)
            wrote.append(path)
            found.append({'title': title, 'columns': head, 'rows': rows, 'csv': path})
            png = os.path.join(plotdir, f'{stem}-{n}.png')
            if have_gnuplot and plot_table(os.path.join(datadir, f'{stem}-{n}'),
                                           f'{stem}: {title}', head, rows, png):
                wrote.append(png)
        with open(os.path.join(datadir, stem + '.json'), 'w') as f:
            json.dump({'source': name, 'tables': found}, f, indent=1)
        wrote.append(os.path.join(datadir, stem + '.json'))
        all_targets += list(targets(text, name))
    if all_targets:
        keys = list(all_targets[0])
        with open(os.path.join(datadir, 'targets.csv'), 'w', newline='') as f:
            w = csv.DictWriter(f, keys)
            w.writeheader()
            w.writerows(all_targets)
        with open(os.path.join(datadir, 'targets.json'), 'w') as f:
            json.dump(all_targets, f, indent=1)
        wrote += [os.path.join(datadir, 'targets.csv'), os.path.join(datadir, 'targets.json')]
        png = os.path.join(plotdir, 'targets.png')
        if have_gnuplot and plot_targets(all_targets, png, datadir):
            wrote.append(png)
    for w in wrote:
        print(w)
    if not have_gnuplot:
        print('tables.py: no gnuplot (apt-get install gnuplot-nox): CSV and JSON only',
              file=sys.stderr)


if __name__ == '__main__':
    main()
