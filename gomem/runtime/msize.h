/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Size classes at run time, Go's msize.go and the size class part of
 * mallocgc: from a request to its class, what a class's span holds, and
 * division by an object size with a multiply. The tables themselves are
 * generated (sizeclasses.h, tools/mksizeclasses.py).
 *
 * A size class is a number 1..GM_NUM_SIZE_CLASSES - 1. Class 0 stands for
 * large objects (and for a 0-byte request): its size and pages read as 0,
 * so gm_class_objects() and gm_class_div() must not be given it.
 */
#ifndef _GOMEM_MSIZE_H
#define _GOMEM_MSIZE_H

#include "heap.h"

/**
 * gm_size_to_class() - the size class that serves a small request
 * @size: bytes requested, 1 <= @size <= GM_MAX_SMALL_SIZE (0 gives 0)
 *
 * Two table lookups, as in Go's mallocgc: by 8-byte steps up to 1024
 * bytes, by 128-byte steps above, where every class size is a multiple
 * of 128. (Go sends 1017..1024 to the second table through an unsigned
 * wrap-around; both tables give the same class there.)
 *
 * Return: the smallest class whose objects hold @size bytes.
 */
static inline u8 gm_size_to_class(size_t size)
{
	size_t above;

	if (size <= GM_SMALL_SIZE_MAX)
		return gm_size_to_class8[(size + GM_SMALL_SIZE_DIV - 1) /
					 GM_SMALL_SIZE_DIV];
	above = size - GM_SMALL_SIZE_MAX;
	return gm_size_to_class128[(above + GM_LARGE_SIZE_DIV - 1) /
				   GM_LARGE_SIZE_DIV];
}

/**
 * gm_class_size() - bytes per object of a size class
 * @sizeclass: 1..GM_NUM_SIZE_CLASSES - 1
 *
 * Return: the object size, 8..GM_MAX_SMALL_SIZE.
 */
static inline u32 gm_class_size(u8 sizeclass)
{
	return gm_class_to_size[sizeclass];
}

/**
 * gm_class_npages() - pages (of GM_PAGE_SIZE) in a span of a size class
 * @sizeclass: 1..GM_NUM_SIZE_CLASSES - 1
 *
 * Return: 1..10 pages.
 */
static inline u32 gm_class_npages(u8 sizeclass)
{
	return gm_class_to_npages[sizeclass];
}

/**
 * gm_class_span_bytes() - bytes in a span of a size class
 * @sizeclass: 1..GM_NUM_SIZE_CLASSES - 1
 *
 * Return: gm_class_npages() * GM_PAGE_SIZE.
 */
static inline u32 gm_class_span_bytes(u8 sizeclass)
{
	return gm_class_npages(sizeclass) << GM_PAGE_SHIFT;
}

/**
 * gm_class_objects() - objects in a span of a size class
 * @sizeclass: 1..GM_NUM_SIZE_CLASSES - 1
 *
 * The bytes after the last whole object (the tail) stay unused.
 *
 * Return: 1..GM_MAX_OBJS_PER_SPAN.
 */
static inline u32 gm_class_objects(u8 sizeclass)
{
	return gm_class_span_bytes(sizeclass) / gm_class_size(sizeclass);
}

/**
 * gm_class_div() - divide an offset in a span by the class's object size
 * @sizeclass: 1..GM_NUM_SIZE_CLASSES - 1
 * @offset: bytes from the span's start, 0 <= @offset <= the span's bytes
 *
 * A multiply by the class's magic (~0U / size + 1) and a 32-bit shift, as
 * Go's mspan.divideByElemSize, instead of a divide on every free and
 * every pointer lookup. The generator proved it exact for every byte
 * offset from 0 to the end of the span inclusive, which covers any
 * address inside an object and the span's end; past the span it can be
 * wrong.
 *
 * Return: @offset / gm_class_size(@sizeclass), the index of the object
 * that holds @offset.
 */
static inline u32 gm_class_div(u8 sizeclass, size_t offset)
{
	return ((u64)offset * gm_class_to_divmagic[sizeclass]) >> 32;
}

size_t gm_roundup_size(size_t size);

#endif /* _GOMEM_MSIZE_H */
