#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks the documentation for what Sphinx would warn about and a merge
can leave behind, without Sphinx or docutils (the CI machine has neither):

- a section underline shorter than its title (docutils: "Title underline
  too short"), which is also what a stray "=======" of a merge conflict
  under a paragraph line looks like;
- merge conflict markers (<<<<<<< and >>>>>>>) in any file given.

Usage: doccheck.py [FILE...]; with no file, Documentation/*.rst and
README.md. --self-test checks the checker. Exit 1 if anything is found.
"""
import glob
import os
import re
import sys

UNDERLINE = re.compile(r'^([=\-~^"\'`#*+.:_])\1{2,}\s*$')
MARKER = re.compile(r'^(<{7}|>{7})( |$)')


def problems(path, text):
    """Yields (line number, message) for one file's text."""
    lines = text.split('\n')
    rst = path.endswith('.rst')
    for i, line in enumerate(lines):
        if MARKER.match(line):
            yield i + 1, 'merge conflict marker'
        if not rst or i == 0 or not UNDERLINE.match(line):
            continue
        title = lines[i - 1]
        # An underline follows a title line that follows a blank line, an
        # overline or the start of the file; anything else is a transition
        # or a table border, which docutils reads differently.
        if not title.strip() or UNDERLINE.match(title):
            continue
        if title.startswith(' ') or (i >= 2 and lines[i - 2].strip() and
                                     not UNDERLINE.match(lines[i - 2])):
            if len(line.rstrip()) < len(title.rstrip()):
                yield i + 1, ('underline under a paragraph line (a stray '
                              'merge marker?): %r' % title.strip()[:60])
            continue
        if len(line.rstrip()) < len(title.rstrip()):
            yield i + 1, 'title underline too short: %r' % title.strip()[:60]


def self_test():
    good = 'Title\n=====\n\nText.\n\n=====  ====\na      b\n=====  ====\n'
    assert not list(problems('x.rst', good)), list(problems('x.rst', good))
    short = 'A long title\n=======\n'
    assert [n for n, _ in problems('x.rst', short)] == [2]
    stray = 'Text.\nMore text that goes on.\n=======\nNext\n====\n'
    assert [n for n, _ in problems('x.rst', stray)] == [3]
    conflict = 'a\n<<<<<<< HEAD\nb\n>>>>>>> branch\n'
    assert [n for n, _ in problems('README.md', conflict)] == [2, 4]
    print('doccheck: self-test passed')


def main(argv):
    if argv[1:] == ['--self-test']:
        self_test()
        return 0
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = argv[1:] or sorted(glob.glob(os.path.join(top, 'Documentation', '*.rst'))) + \
        [os.path.join(top, 'README.md')]
    bad = 0
    for path in files:
        with open(path, encoding='utf-8') as f:
            for n, msg in problems(path, f.read()):
                print('%s:%d: %s' % (os.path.relpath(path, top), n, msg))
                bad += 1
    if bad:
        return 1
    print('doccheck: %d files clean' % len(files))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
