/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A gomem heap, all of it: Go's mheap_ with its mcentrals, the per-CPU
 * mcaches and the collector's state. Go keeps the mheap type in
 * mheap.go; in C the struct must see the whole of every part it embeds,
 * so it is defined here, after the headers of those parts (mheap.h,
 * mcentral.h, mcache.h, mgc.h), which know it only by name. The core's
 * files include this header; everything else includes heap.h.
 *
 * The core's lock order (copied in Documentation/layers.rst), outermost
 * first; one may be taken while holding those above it, never below:
 *
 *   1. h->lock           the heap lock (gm_mutex; may sleep while held)
 *   2. the CPU pinned    gm_cpu_get(): the CPU's mcache, its page cache
 *   3. h->central[spc].lock  one mcentral (gm_spinlock)
 *   4. h->defer_lock     the deferred spans (gm_spinlock)
 *   5. h->prof.lock      the heap profile (gm_spinlock; a leaf, taken with
 *                        the CPU pinned or under an mcentral lock by frees)
 *
 * - The heap lock and an mcentral lock are never held together: an
 *   mcentral drops its lock before calling gm_mheap_alloc_span() or
 *   gm_mheap_free_span(), which take the heap lock.
 * - A page cache is refilled under the heap lock with the CPU pinned
 *   (pages_from_cache() in mheap.c), and flushed under the heap lock
 *   alone for a CPU that cannot run in the heap (gm_heap_flush_cpu()).
 * - An mcache may take its class's mcentral lock with the CPU pinned
 *   (gm_mcentral_sweep_frees()); for anything that may sleep it lets the
 *   CPU go first (gm_mcache_refill()).
 * - Nothing sleeps with the CPU pinned or an mcentral lock held. A
 *   caller that may not sleep (GM_NOSLEEP, a free in any context) takes
 *   only 2 and 3, and 4 to leave a span for the heap lock's next holder
 *   (gm_mheap_release_span()).
 * - In the kernel the spinlocks turn interrupts off: an interrupt may
 *   allocate and free on the CPU, from its own cache slot.
 * - A page source's operations (struct gm_pagesrc_ops) are called under
 *   the heap lock (alloc_block, free_block, unused, used) or with the CPU
 *   pinned (zero, for tiny blocks): the locks they take rank below.
 *
 * Helpers that need one of these say so with gm_mutex_assert_held(),
 * gm_spin_assert_held() or gm_cpu_assert_pinned().
 */
#ifndef _GOMEM_MALLOC_H
#define _GOMEM_MALLOC_H

#include "heap.h"
#include "mheap.h"
#include "mcentral.h"
#include "mcache.h"
#include "mgc.h"

/*
 * What a heap's metadata counts as in Go's MemStats. The per-CPU caches
 * (MCacheSys) are one allocation of a size known at any time, and the
 * page allocator and the arena index count their own (gm_pagealloc's and
 * gm_arena_index's @meta_bytes, in GCSys as in Go), so they are not here.
 */
enum gm_meta_kind {
	GM_META_MSPAN,	/* span structures: MSpanSys (Go's spanalloc) */
	GM_META_GC,	/* span bitmaps, tiny masks, gray queue, roots: GCSys */
	GM_META_OTHER,	/* the heap structure itself, block records: OtherSys */
	GM_NUM_META,
};

/**
 * struct gm_heap - one heap
 * @lock: the heap lock (Go's mheap_.lock): page allocator, arenas, blocks,
 *	span structures, the counters below
 * @pages: the page allocator
 * @arenas: the arena index
 * @sweepgen: Go's sweepgen; + 2 per GC cycle
 * @src: the page source
 * @src_ctx: passed to @src's operations
 * @track: report objects to the leak detector (GM_TRACK_OBJECTS)
 * @blocks: every block taken from the page source
 * @spans_all: every span structure, live or recycled (they are never
 *	freed before the heap, so a stale pointer still reads a span)
 * @spans_free: recycled span structures, by the words their bitmaps
 *	hold (see gm_mspan's @bitmap_cap)
 * @caches: per-CPU mcaches
 * @emptyspan: the full, empty span an mcache slot points to when empty
 * @sys_bytes: bytes taken from the page source (HeapSys)
 * @inuse_pages: pages in in-use spans
 * @class_spans: in-use spans per size class (class 0: large)
 * @large_allocs: large objects allocated
 * @large_frees: large objects freed
 * @large_bytes: bytes of live large objects (their spans)
 * @large_alloc_bytes: bytes of large objects ever allocated (TotalAlloc)
 * @meta_bytes: metadata bytes by MemStats category (enum gm_meta_kind),
 *	but for the page allocator's and the arena index's own counts
 * @spans_nfree: span structures on the @spans_free lists (not MSpanInuse)
 * @scavenged_bytes: bytes given back by gm_heap_scavenge(), ever
 * @lost_pages: free pages taken out of use by gm_heap_forget_range()
 * @defer_lock: protects @deferred
 * @deferred: dead spans freed where the heap lock could not be taken
 *	(gm_mheap_release_span())
 * @kick: called, from any context, when work waits for a caller that
 *	may sleep: @deferred spans or a class's spare (GM_KICK_NOW, for
 *	gm_heap_fill_spares()), kept spans to trim (GM_KICK_TRIM, for
 *	gm_heap_trim_kept()). NULL: the next GC cycle, scavenge or new span
 *	does it.
 * @kick_arg: @kick's argument
 * @gc: the collector's state and the pacer
 * @prof: the heap profile (mprof.c)
 * @central: the mcentrals, one per span class
 */
struct gm_heap {
	struct gm_mutex lock;
	struct gm_pagealloc pages;
	struct gm_arena_index arenas;
	u32 sweepgen;
	const struct gm_pagesrc_ops *src;
	void *src_ctx;
	bool track;
	struct gm_block *blocks;
	struct gm_mspan *spans_all;
	struct gm_mspan *spans_free[GM_SPAN_FREE_LISTS];
	struct gm_mcache *caches;
	struct gm_mspan emptyspan;
	u64 sys_bytes;
	u64 inuse_pages;
	u64 class_spans[GM_NUM_SIZE_CLASSES];
	u64 large_allocs;
	u64 large_frees;
	u64 large_bytes;
	u64 large_alloc_bytes;
	u64 meta_bytes[GM_NUM_META];
	u64 spans_nfree;
	u64 scavenged_bytes;
	u64 lost_pages;
	struct gm_spinlock defer_lock;
	struct gm_span_list deferred;
	void (*kick)(void *arg, enum gm_kick why);
	void *kick_arg;
	struct gm_gcstate gc;
	struct gm_mprof prof;
	struct gm_mcentral central[GM_NUM_SPAN_CLASSES];
};

/*
 * The leak detector's hooks (GM_TRACK_OBJECTS: kmemleak, for heaps of
 * kernel memory), gathered as mm/slub.c gathers its debug calls in
 * slab_post_alloc_hook() and slab_free_hook(): every object allocated
 * passes gm_alloc_hook(), every object freed gm_free_hook(), and the
 * objects of a whole span gm_free_hook_span(). Without a leak detector
 * they compile to nothing.
 */
static __always_inline void *gm_alloc_hook(struct gm_heap *h, void *p, size_t size,
					  bool nosleep)
{
	if (GM_TRACK_OBJECTS && h->track && p)
		gm_track_alloc(p, size, nosleep);
	return p;
}

static __always_inline void gm_free_hook(struct gm_heap *h, struct gm_mspan *s, uintptr_t p)
{
	if (GM_TRACK_OBJECTS && h->track)
		gm_track_free((void *)p);
	/* Only spans with sampled objects pay for the profile's lookup. */
	if (unlikely(READ_ONCE(s->nsampled)))
		gm_mprof_free(h, s, p);
}

/* Every allocated object of @s but the slots set in @keep (may be NULL). */
static inline void gm_free_hook_span(struct gm_heap *h, struct gm_mspan *s,
				     const u64 *keep)
{
	if (GM_TRACK_OBJECTS && h->track)
		gm_span_untrack_objects(s, keep);
	if (unlikely(READ_ONCE(s->nsampled)))
		gm_mprof_free_span(h, s, keep);
}

/*
 * Count @bytes of metadata (negative: freed) in MemStats category @kind.
 * Lockless readers (gm_heap_read_sizes()) read the counters with
 * READ_ONCE(): one writer at a time, under the heap lock.
 */
static inline void gm_heap_meta_add(struct gm_heap *h, enum gm_meta_kind kind, s64 bytes)
{
	gm_mutex_assert_held(&h->lock);
	WRITE_ONCE(h->meta_bytes[kind], h->meta_bytes[kind] + bytes);
}

/* Work waits for a caller that may sleep: tell the heap's owner. */
static inline void gm_heap_kick(struct gm_heap *h, enum gm_kick why)
{
	if (h->kick)
		h->kick(h->kick_arg, why);
}

#endif /* _GOMEM_MALLOC_H */
