#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check gomem's layers (Documentation/layers.rst).

  tools/layers.py [--cc CC] [--objdir DIR] [-v]

Fails (exit 1) on:
  - a call cycle between files of the allocator core (gomem/runtime/*.c).
    The call graph is the file-level one of the linker: each core file is
    compiled alone against the userspace platform (or taken from --objdir,
    where FILE.o stands for gomem/runtime/FILE.c), and `nm` says which
    symbols each object defines and which it needs. A symbol needed by
    one core file and defined by another is an edge; an edge can only go
    down the layers, so any strongly connected set of two or more files
    is a cycle. Inline functions in headers count for the file that uses
    them (their calls are compiled into it).
  - a core file (gomem/runtime/, its tests included) that includes a
    header of the kernel face (gomem/kernel/) or a <linux/...> header:
    the core reaches the machine only through platform.h.
  - a file of the kernel face (gomem/kernel/) or of tools/ that includes
    a core header other than heap.h, the core's API, unless EXCEPTIONS
    below names the file and the header, with the reason.

The last line is "layers: ok ..." or "layers: N problems".
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = os.path.join(TOP, 'gomem', 'runtime')
PLATFORM_USER = os.path.join(TOP, 'gomem', 'platform', 'user')
KFACE = os.path.join(TOP, 'gomem', 'kernel')
TOOLS = os.path.join(TOP, 'tools')

# (file relative to the top, core header) -> why it may include it.
EXCEPTIONS = {
    ('tools/gomemctl/gomemctl.c', 'sizeclasses.h'):
        'prints the size class table of the ioctl ABI from the generated '
        'tables, linked alone (sizeclasses.o), without a heap',
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def includes(path):
    """The (kind, name) of every #include of a file; kind is '<' or '"'."""
    with open(path, encoding='utf-8', errors='replace') as f:
        return INCLUDE_RE.findall(f.read())


def sources(root, exts=('.c', '.h')):
    """Every file under root with one of exts, sorted."""
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.join(d, f) for f in files if f.endswith(exts)]
    return sorted(out)


def rel(path):
    return os.path.relpath(path, TOP)


def compile_core(cc, objdir):
    """Compile each core .c into objdir; return {file.c: object}."""
    objs = {}
    for src in sorted(os.listdir(CORE)):
        if not src.endswith('.c'):
            continue
        obj = os.path.join(objdir, src[:-2] + '.o')
        cmd = [cc, '-std=gnu11', '-O1', '-c', '-I' + CORE, '-I' + PLATFORM_USER,
               '-o', obj, os.path.join(CORE, src)]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode:
            sys.stderr.write(res.stderr)
            raise SystemExit(f'layers: cannot compile gomem/runtime/{src}')
        objs[src] = obj
    return objs


def symbols(obj):
    """(defined, undefined) global symbols of an object, from nm."""
    res = subprocess.run(['nm', obj], capture_output=True, text=True, check=True)
    defined, undefined = set(), set()
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == 'U':
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1].isupper():
            defined.add(parts[2])
    return defined, undefined


def call_graph(objs):
    """{file: {file it calls: [symbols]}} between core files."""
    owner, needs = {}, {}
    for src, obj in objs.items():
        defined, needs[src] = symbols(obj)
        for sym in defined:
            owner[sym] = src
    graph = defaultdict(lambda: defaultdict(list))
    for src, syms in needs.items():
        for sym in sorted(syms):
            dst = owner.get(sym)
            if dst and dst != src:
                graph[src][dst].append(sym)
    return graph


def cycles(nodes, graph):
    """Strongly connected sets of two or more files (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(sorted(scc))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def check_calls(args, problems):
    tmp = None
    if args.objdir:
        objs = {f[:-2] + '.c': os.path.join(args.objdir, f)
                for f in os.listdir(args.objdir) if f.endswith('.o')
                and os.path.exists(os.path.join(CORE, f[:-2] + '.c'))}
    else:
        tmp = tempfile.mkdtemp(prefix='gomem-layers-')
        objs = compile_core(args.cc, tmp)
    try:
        graph = call_graph(objs)
    finally:
        if tmp:
            shutil.rmtree(tmp)
    for scc in cycles(objs, graph):
        lines = [f'  {a} -> {b}: {", ".join(graph[a][b])}'
                 for a in scc for b in sorted(graph[a]) if b in scc]
        problems.append('call cycle between ' + ', '.join(scc) + ':\n' + '\n'.join(lines))
    if args.verbose:
        for a in sorted(graph):
            for b in sorted(graph[a]):
                print(f'{a} -> {b}: {", ".join(graph[a][b])}')
    return len(objs), sum(len(v) for v in graph.values())


def check_includes(problems):
    core_headers = {f for f in os.listdir(CORE) if f.endswith('.h')}
    kface_headers = {os.path.basename(f) for f in sources(KFACE, ('.h',))}
    for path in sources(CORE):
        for kind, name in includes(path):
            base = os.path.basename(name)
            if kind == '<' and name.startswith('linux/'):
                problems.append(f'{rel(path)} includes <{name}>: the core uses platform.h')
            elif kind == '"' and (base in kface_headers or '/kernel/' in name):
                problems.append(f'{rel(path)} includes "{name}", a header of gomem/kernel/')
    for path in sources(KFACE) + sources(TOOLS):
        for kind, name in includes(path):
            base = os.path.basename(name)
            if kind != '"' or base not in core_headers or base == 'heap.h':
                continue
            if os.path.exists(os.path.join(os.path.dirname(path), name)):
                continue  # a file of its own folder that shares a name
            if (rel(path), base) in EXCEPTIONS:
                continue
            problems.append(f'{rel(path)} includes "{name}": outside the core, only heap.h')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--cc', default=os.environ.get('CC', 'cc'))
    ap.add_argument('--objdir', help='take the core objects from here')
    ap.add_argument('-v', '--verbose', action='store_true', help='print the call graph')
    args = ap.parse_args()
    problems = []
    nfiles, nedges = check_calls(args, problems)
    check_includes(problems)
    for p in problems:
        print('layers: ' + p)
    if problems:
        print(f'layers: {len(problems)} problems')
        return 1
    print(f'layers: ok ({nfiles} core files, {nedges} file-to-file call edges, no cycle)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
