/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mcache, as in Go's mcache.go: one CPU's span per span class, to
 * allocate from without a lock, and its refill from the mcentrals.
 */
#ifndef _GOMEM_MCACHE_H
#define _GOMEM_MCACHE_H

#include "mheap.h"

/**
 * struct gm_mcache - one CPU's cache (Go's per-P mcache)
 * @alloc: the span each span class allocates from; the heap's empty span
 *	when none
 * @allocs: objects allocated, per size class
 * @fast: of those, how many the fast path (nextFreeFast) served
 * @tiny: the current tiny block, 0 if none; always a slot of the span
 *	in alloc[GM_TINY_SPANCLASS]
 * @tiny_offset: bytes of @tiny handed out
 * @tiny_allocs: tiny objects allocated
 * @pcache: pages for small spans (Go's per-P pageCache); changed with the
 *	CPU pinned, and refilled or flushed under the heap lock as well
 *
 * Used with the CPU pinned (gm_cpu_get()), without a lock.
 */
struct gm_mcache {
	struct gm_mspan *alloc[GM_NUM_SPAN_CLASSES];
	u64 allocs[GM_NUM_SIZE_CLASSES];
	u64 fast[GM_NUM_SIZE_CLASSES];
	uintptr_t tiny;
	u32 tiny_offset;
	u64 tiny_allocs;
	struct gm_pagecache pcache;
};

/* gm_mcache_refill() found no slot: memory ran out. */
#define GM_NO_SLOT	(~0U)

void gm_mcache_init(struct gm_heap *h, struct gm_mcache *c);
u32 gm_mcache_refill(struct gm_heap *h, struct gm_mcache **cp, u8 spc,
		     struct gm_mspan **sp, struct gm_mspan **extra);

#endif /* _GOMEM_MCACHE_H */
