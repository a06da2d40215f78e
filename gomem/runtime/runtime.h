/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Constants and small types shared by all of gomem's allocator core, the
 * numbers of Go's malloc.go. Core files include this, never kernel or libc
 * headers directly (see platform.h).
 */
#ifndef _GOMEM_RUNTIME_H
#define _GOMEM_RUNTIME_H

#include "platform.h"

/* Go's pages: 8 KiB, whatever the CPU's page size (_PageShift). */
#define GM_PAGE_SHIFT		13
#define GM_PAGE_SIZE		(1UL << GM_PAGE_SHIFT)

/* Small objects go up to 32 KiB (_MaxSmallSize); larger ones get a span. */
#define GM_MAX_SMALL_SIZE	32768
/* The tiny allocator packs noscan objects under 16 bytes (_TinySize). */
#define GM_TINY_SIZE		16

/* Page allocator chunks: 512 pages, 4 MiB (pallocChunkPages). */
#define GM_CHUNK_PAGES_SHIFT	9
#define GM_CHUNK_PAGES		(1UL << GM_CHUNK_PAGES_SHIFT)
#define GM_CHUNK_SHIFT		(GM_CHUNK_PAGES_SHIFT + GM_PAGE_SHIFT)
#define GM_CHUNK_BYTES		(1UL << GM_CHUNK_SHIFT)

/* Arenas: 64 MiB (heapArenaBytes), 8192 pages. */
#define GM_ARENA_SHIFT		26
#define GM_ARENA_BYTES		(1UL << GM_ARENA_SHIFT)
#define GM_ARENA_PAGES		(GM_ARENA_BYTES / GM_PAGE_SIZE)

/*
 * Heap addresses are reduced to offsets in a 48-bit space, as on amd64 in
 * Go: the kernel's direct map and a process's mappings each fit in one.
 */
#define GM_ADDR_BITS		48

/**
 * struct gm_printer - where the core writes human-readable tables
 * @line: called once per line, without the newline
 *
 * debugfs wraps a seq_file in one; the native tests capture lines.
 */
struct gm_printer {
	void (*line)(struct gm_printer *p, const char *text);
};

#endif /* _GOMEM_RUNTIME_H */
