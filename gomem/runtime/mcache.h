/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mcache, as in Go's mcache.go: one CPU's span per span class, to
 * allocate from without a lock, and its refill from the mcentrals.
 */
#ifndef _GOMEM_MCACHE_H
#define _GOMEM_MCACHE_H

#include "mheap.h"
#include "mgc.h"
#include "mprof.h"

/*
 * Slots a CPU keeps per span class for hot reuse. More frees on the
 * CPU's span are still local (the span's local_bits) and come back at
 * its next sweep; 16 covers the free-then-allocate patterns of programs
 * and keeps an mcache at about 9 KiB.
 */
#define GM_LOCAL_FREES	16

/*
 * Bytes of live-heap change a CPU keeps before adding them to the
 * heap-wide counter, as the kernel's percpu_counter batches: the pacer's
 * view lags by at most this much per CPU (gm_heap_live_exact() does not).
 */
#define GM_LIVE_BATCH	(64 * 1024)

/*
 * Frees of objects in spans this CPU does not cache, applied together
 * under their classes' locks (gm_mcentral_apply_batch()): one lock round
 * trip per batch, not per object.
 */
#define GM_FREE_BATCH	32

/**
 * struct gm_batched_free - a free waiting in a CPU's batch
 * @s: the object's span, whose pend bit for @idx this CPU set
 * @idx: the object's slot
 * @spanclass: @s's span class when the free was batched
 */
struct gm_batched_free {
	struct gm_mspan *s;
	u32 idx;
	u8 spanclass;
};

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
 * @tiny_frees: tiny objects freed on this CPU's own tiny span
 * @pcache: pages for small spans (Go's per-P pageCache); changed with the
 *	CPU pinned, and refilled or flushed under the heap lock as well
 * @frees: objects freed on this CPU's own spans (gm_mcache_free_local()),
 *	per size class; frees on other spans are counted by their mcentral
 * @live_delta: bytes of the pacer's live heap this CPU freed or reused
 *	and has not added to heap_live yet (at most GM_LIVE_BATCH either way)
 * @nbatch: frees in @batch
 * @batch: frees of objects of spans this CPU does not cache, not applied
 *	yet (gm_mcache_free_batched())
 * @nlocal: per span class, the slots on @local
 * @local: per span class, slots of alloc[spc] freed on this CPU, the last
 *	one freed on top: the next allocation of the class takes it (hot
 *	reuse, LIFO). Reset whenever alloc[spc] changes.
 * @prof: the heap profile's sampling countdown (Go's mcache.nextSample)
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
	u64 tiny_frees;
	struct gm_pagecache pcache;
	u64 frees[GM_NUM_SIZE_CLASSES];
	s64 live_delta;
	u32 nbatch;
	struct gm_batched_free batch[GM_FREE_BATCH];
	u8 nlocal[GM_NUM_SPAN_CLASSES];
	u16 local[GM_NUM_SPAN_CLASSES][GM_LOCAL_FREES];
	struct gm_mprof_cache prof;
};

/* gm_mcache_refill() found no slot: memory ran out. */
#define GM_NO_SLOT	(~0U)

void gm_mcache_init(struct gm_heap *h, struct gm_mcache *c);
int gm_mcache_free_local(struct gm_heap *h, struct gm_mcache *c, struct gm_mspan *s,
			 uintptr_t p);

/* gm_mcache_free_batched(): the free is in the batch, which is full now. */
#define GM_BATCH_FULL	1

int gm_mcache_free_batched(struct gm_heap *h, struct gm_mcache *c, struct gm_mspan *s,
			   uintptr_t p);
u64 gm_heap_live_exact(struct gm_heap *h);

/**
 * gm_mcache_pop_local() - the slot this CPU freed last in its span of @spc
 * @c: the CPU's mcache, CPU pinned
 * @spc: the span class
 *
 * Return: the slot, or GM_NO_SLOT if the CPU has none to reuse.
 */
static __always_inline u32 gm_mcache_pop_local(struct gm_mcache *c, u8 spc)
{
	struct gm_mspan *s = c->alloc[spc];
	u32 idx;

	if (!c->nlocal[spc])
		return GM_NO_SLOT;
	idx = c->local[spc][--c->nlocal[spc]];
	gm_bit_clear(s->local_bits, idx);
	s->nlocal--;
	return idx;
}

/**
 * gm_mcache_live_flush() - hand a CPU's batch of live-heap change over
 * @h: the heap
 * @c: the CPU's mcache: CPU pinned, or its CPU quiescent
 *
 * The slow half of gm_mcache_live_add(): one atomic per batch, not per
 * object. Inline, so that the mcentral's free path, which batches too,
 * does not call back into mcache.c.
 */
static inline void gm_mcache_live_flush(struct gm_heap *h, struct gm_mcache *c)
{
	gm_pacer_live_add(h, c->live_delta);
	c->live_delta = 0;
}

/**
 * gm_mcache_live_add() - change the live heap by a CPU's free or reuse
 * @h: the heap
 * @c: the CPU's mcache, CPU pinned
 * @bytes: the change
 *
 * Kept in the mcache until it passes GM_LIVE_BATCH either way, then
 * added to the heap's counter (gm_mcache_live_flush()). Inline: a free
 * and the reuse of its slot each pay one add and one compare.
 */
static __always_inline void gm_mcache_live_add(struct gm_heap *h, struct gm_mcache *c,
					       s64 bytes)
{
	c->live_delta += bytes;
	if (c->live_delta >= GM_LIVE_BATCH || c->live_delta <= -GM_LIVE_BATCH)
		gm_mcache_live_flush(h, c);
}

u32 gm_mcache_refill(struct gm_heap *h, struct gm_mcache **cp, u8 spc,
		     struct gm_mspan **sp, struct gm_mspan **extra, bool nosleep);

#endif /* _GOMEM_MCACHE_H */
