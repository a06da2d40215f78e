#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generate gomem's size class tables: gomem/runtime/sizeclasses.h and .c.

This is the algorithm of Go's runtime/mksizeclasses.go (as of Go 1.21),
written again in Python, and it must give exactly Go 1.21's 68 classes:

 - Candidate sizes step up from 8 bytes. The step grows at each power of
   two: 16 bytes from 32 (Go's heap bitmaps want 16-byte alignment from
   there on), size/8 from 128, and 256 from 2048. Past 128, a step of at
   most size/8 keeps the round-up waste of a request at 12.5 % or less.
 - Each candidate gets the fewest 8 KiB pages whose tail (the bytes left
   after the last whole object) is at most 1/8 of the span.
 - A candidate that gets the same pages and the same object count as the
   class before it replaces that class's size: the smaller size would
   hold no more objects, so it would only add a class.
 - Each class then grows to the largest multiple of 128 that still fits
   its object count in its span. 128 is the step of the large lookup
   table, which needs every size above 1024 to be a multiple of it.
 - Division by an object size becomes a multiply by ~0U / size + 1 and a
   32-bit shift; the generator checks it for every offset in the span.

Usage: mksizeclasses.py [--check]. Without arguments, (re)write the files;
with --check, write nothing and exit 1 with a diff if they are stale.
"""

import argparse
import difflib
import os
import sys

MAX_SMALL_SIZE = 32 << 10
SMALL_SIZE_DIV = 8
SMALL_SIZE_MAX = 1024
LARGE_SIZE_DIV = 128
PAGE_SHIFT = 13
PAGE_SIZE = 1 << PAGE_SHIFT

# Go 1.21 has 68 classes; a change here would be a change of algorithm.
NUM_SIZE_CLASSES = 68

# The runtime multiplies 32-bit offsets by 32-bit magics.
MAGIC_BITS = 32

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_H = os.path.join("gomem", "runtime", "sizeclasses.h")
OUT_C = os.path.join("gomem", "runtime", "sizeclasses.c")

HEADER_COLUMNS = ("class  bytes/obj  bytes/span  objects  tail waste  "
                  "max waste  min align")


class SizeClass:
    """One class: object size, span pages, and what follows from them."""

    __slots__ = ("size", "npages", "divmagic")

    def __init__(self, size, npages):
        self.size = size
        self.npages = npages
        self.divmagic = 0

    @property
    def span_bytes(self):
        return self.npages * PAGE_SIZE

    @property
    def objects(self):
        return self.span_bytes // self.size

    @property
    def tail_waste(self):
        return self.span_bytes - self.objects * self.size


def is_pow2(x):
    return x > 0 and x & (x - 1) == 0


def next_step(size, step):
    """Return the step to the next candidate after @size.

    The step only changes at powers of two, so that it stays a power of
    two and every candidate stays a multiple of it.
    """
    if is_pow2(size):
        if size >= 2048:
            step = 256
        elif size >= 128:
            step = size // 8
        elif size >= 32:
            step = 16
    assert is_pow2(step), "step %d is not a power of two" % step
    return step


def span_pages(size):
    """Return the fewest pages whose tail after objects of @size is <= 1/8."""
    span = PAGE_SIZE
    while span % size > span // 8:
        span += PAGE_SIZE
    return span // PAGE_SIZE


def candidate_classes():
    """Return class 0 and the classes from stepping and merging candidates."""
    classes = [SizeClass(0, 0)]
    step = 8
    size = step
    while size <= MAX_SMALL_SIZE:
        step = next_step(size, step)
        npages = span_pages(size)
        prev = classes[-1]
        span = npages * PAGE_SIZE
        # Same span, same count: the larger size costs nothing more.
        if (len(classes) > 1 and prev.npages == npages and
                span // prev.size == span // size):
            prev.size = size
        else:
            classes.append(SizeClass(size, npages))
        size += step
    return classes


def grow_to_fill(c):
    """Grow @c to the largest 128-byte multiple that keeps its objects."""
    if c.size == 0:
        return
    grown = (c.span_bytes // c.objects) & ~(LARGE_SIZE_DIV - 1)
    c.size = max(c.size, grown)


def fraction_bits(d, max_n):
    """Return the fraction bits that n / @d needs for all n <= @max_n.

    Lemire, Kaser and Kurz, "Faster Remainder by Direct Computation"
    (arXiv:1902.01961), algorithm 2: log2(d) for a power of two, else
    N + L with N the bit length of @max_n and L the least integer for
    which d <= (2^(N+L) mod d) + 2^L.
    """
    if is_pow2(d):
        return d.bit_length() - 1
    n_bits = max_n.bit_length()
    extra = 0
    while d > (1 << (n_bits + extra)) % d + (1 << extra):
        extra += 1
    return n_bits + extra


def set_divmagic(c):
    """Give @c its magic, after proving it right for every span offset."""
    if c.size == 0:
        return
    span = c.span_bytes
    bits = fraction_bits(c.size, span)
    if bits > MAGIC_BITS:
        sys.exit("class of %d bytes needs %d bits of magic" % (c.size, bits))
    magic = ((1 << MAGIC_BITS) - 1) // c.size + 1
    bad = [n for n in range(span + 1)
           if (n * magic) >> MAGIC_BITS != n // c.size]
    if bad:
        sys.exit("magic %d for %d bytes fails at offset %d" %
                 (magic, c.size, bad[0]))
    c.divmagic = magic


def make_classes():
    classes = candidate_classes()
    for c in classes:
        grow_to_fill(c)
    if len(classes) != NUM_SIZE_CLASSES:
        sys.exit("%d size classes instead of %d" %
                 (len(classes), NUM_SIZE_CLASSES))
    for c in classes:
        set_divmagic(c)
    return classes


def lookup_table(classes, first, step, count):
    """Return, for sizes first + i * step, the smallest class that fits."""
    table = []
    for i in range(count):
        size = first + i * step
        table.append(next(k for k, c in enumerate(classes)
                          if c.size >= size))
    return table


def size_to_class8(classes):
    count = SMALL_SIZE_MAX // SMALL_SIZE_DIV + 1
    return lookup_table(classes, 0, SMALL_SIZE_DIV, count)


def size_to_class128(classes):
    count = (MAX_SMALL_SIZE - SMALL_SIZE_MAX) // LARGE_SIZE_DIV + 1
    return lookup_table(classes, SMALL_SIZE_MAX, LARGE_SIZE_DIV, count)


def min_align(size):
    """Return the alignment objects of @size get: at most a page."""
    return min(size & -size, PAGE_SIZE)


def table_lines(classes):
    """Return Go's comment table: header, then one line per class."""
    lines = [HEADER_COLUMNS]
    prev = 0
    for k, c in enumerate(classes[1:], start=1):
        # The worst request is one byte over the previous class.
        worst = (c.size - prev - 1) * c.objects + c.tail_waste
        lines.append("%5d  %9d  %10d  %7d  %10d  %8.2f%%  %9d" %
                     (k, c.size, c.span_bytes, c.objects, c.tail_waste,
                      100 * (worst / c.span_bytes), min_align(c.size)))
        prev = c.size
    return lines


def align_lines(classes):
    """Return Go's second table: from which size on each alignment holds."""
    sizes = [c.size for c in classes[1:]]
    from_size = []
    for bits in range(PAGE_SHIFT + 1):
        # The first size from which all classes are (1 << bits)-aligned.
        ok = [s for i, s in enumerate(sizes)
              if all(min_align(t) >= 1 << bits for t in sizes[i:])]
        if not ok:
            break
        from_size.append(ok[0])
    lines = ["%-9s  %-4s  %-12s" % ("alignment", "bits", "min obj size")]
    for bits, size in enumerate(from_size):
        # A stronger alignment from the same size says it all.
        if bits + 1 < len(from_size) and from_size[bits + 1] == size:
            continue
        lines.append("%9d  %4d  %12d" % (1 << bits, bits, size))
    return lines


def comment(lines):
    return [" *" + (" " + line if line else "") for line in lines]


def c_array(decl, values, per_line):
    """Return a C array definition, @per_line values to a line."""
    out = [decl + " = {"]
    for i in range(0, len(values), per_line):
        chunk = values[i:i + per_line]
        out.append("\t" + ", ".join(str(v) for v in chunk) + ",")
    out.append("};")
    return out


# The banner names this script by its path from the top of the tree.
GENERATED = "generated by %s; do not edit." % os.path.relpath(
    os.path.abspath(__file__), ROOT)


def render_h(classes):
    body = ["Go 1.21's size classes, " + GENERATED,
            "",
            "Each line: the object size, the span it is cut from, how many",
            "objects the span holds, the bytes left at its end, the worst",
            "case share of the span wasted (requests one byte over the",
            "class before, plus the tail), and the alignment objects get.",
            ""]
    body += table_lines(classes) + [""] + align_lines(classes)
    maxobjs = max(c.objects for c in classes[1:])
    lines = ["/* SPDX-License-Identifier: GPL-2.0 */", "/*"]
    lines += comment(body)
    lines += [" */",
              "#ifndef _GOMEM_SIZECLASSES_H",
              "#define _GOMEM_SIZECLASSES_H",
              "",
              '#include "runtime.h"',
              "",
              "#define GM_NUM_SIZE_CLASSES\t%d" % len(classes),
              "#define GM_SMALL_SIZE_DIV\t%d" % SMALL_SIZE_DIV,
              "#define GM_SMALL_SIZE_MAX\t%d" % SMALL_SIZE_MAX,
              "#define GM_LARGE_SIZE_DIV\t%d" % LARGE_SIZE_DIV,
              "/* The most objects any span holds (class 1). */",
              "#define GM_MAX_OBJS_PER_SPAN\t%d" % maxobjs,
              "",
              "/* Entries of the lookups by 8-byte and 128-byte steps. */",
              "#define GM_SIZE_TO_CLASS8_LEN\t"
              "(GM_SMALL_SIZE_MAX / GM_SMALL_SIZE_DIV + 1)",
              "#define GM_SIZE_TO_CLASS128_LEN\t\\",
              "\t((GM_MAX_SMALL_SIZE - GM_SMALL_SIZE_MAX) / "
              "GM_LARGE_SIZE_DIV + 1)",
              "",
              "/* The tables hold only for the pages they were made for. */",
              "static_assert(GM_PAGE_SHIFT == %d, \"regenerate the size "
              "classes\");" % PAGE_SHIFT,
              "static_assert(GM_MAX_SMALL_SIZE == %d, \"regenerate the size "
              "classes\");" % MAX_SMALL_SIZE,
              "",
              "extern const u16 gm_class_to_size[GM_NUM_SIZE_CLASSES];",
              "extern const u8 gm_class_to_npages[GM_NUM_SIZE_CLASSES];",
              "extern const u32 gm_class_to_divmagic[GM_NUM_SIZE_CLASSES];",
              "extern const u8 gm_size_to_class8[GM_SIZE_TO_CLASS8_LEN];",
              "extern const u8 gm_size_to_class128[GM_SIZE_TO_CLASS128_LEN];",
              "",
              "#endif /* _GOMEM_SIZECLASSES_H */"]
    return "\n".join(lines) + "\n"


def render_c(classes):
    lines = ["// SPDX-License-Identifier: GPL-2.0",
             "/*",
             " * Go 1.21's size class tables,",
             " * " + GENERATED,
             " * Class 0 stands for large objects, which get a span of "
             "their own.",
             " */",
             '#include "sizeclasses.h"',
             "",
             "/* Bytes per object. */"]
    lines += c_array("const u16 gm_class_to_size[GM_NUM_SIZE_CLASSES]",
                     [c.size for c in classes], 10)
    lines += ["", "/* Pages per span. */"]
    lines += c_array("const u8 gm_class_to_npages[GM_NUM_SIZE_CLASSES]",
                     [c.npages for c in classes], 16)
    lines += ["",
              "/*",
              " * ~0U / size + 1: (offset * magic) >> 32 == offset / size",
              " * for every 0 <= offset <= the class's span bytes.",
              " */"]
    lines += c_array("const u32 gm_class_to_divmagic[GM_NUM_SIZE_CLASSES]",
                     [c.divmagic for c in classes], 6)
    lines += ["",
              "/* Smallest class for sizes 8 * i, up to GM_SMALL_SIZE_MAX. */"]
    lines += c_array("const u8 gm_size_to_class8[GM_SIZE_TO_CLASS8_LEN]",
                     size_to_class8(classes), 16)
    lines += ["",
              "/* Smallest class for sizes GM_SMALL_SIZE_MAX + 128 * i. */"]
    lines += c_array("const u8 gm_size_to_class128[GM_SIZE_TO_CLASS128_LEN]",
                     size_to_class128(classes), 16)
    return "\n".join(lines) + "\n"


def check(path, want):
    """Return True if @path holds @want; print a diff if not."""
    try:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            have = f.read()
    except FileNotFoundError:
        have = ""
    if have == want:
        return True
    sys.stdout.writelines(difflib.unified_diff(
        have.splitlines(True), want.splitlines(True),
        "a/" + path, "b/" + path))
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 with a diff if the files are stale")
    args = parser.parse_args()

    classes = make_classes()
    outputs = {OUT_H: render_h(classes), OUT_C: render_c(classes)}
    if args.check:
        fresh = [check(path, text) for path, text in outputs.items()]
        return 0 if all(fresh) else 1
    for path, text in outputs.items():
        with open(os.path.join(ROOT, path), "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
