/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A gomem heap: Go's mheap with its mcentrals and per-CPU mcaches, and
 * the allocation entry points of malloc.go. A heap takes its memory from
 * a page source chosen when it is created.
 */
#ifndef _GOMEM_MALLOC_H
#define _GOMEM_MALLOC_H

#include "mheap.h"
#include "mpagealloc.h"
#include "msize.h"

#define GM_NUM_SPAN_CLASSES	(GM_NUM_SIZE_CLASSES << 1)
/* Tiny blocks are 16-byte noscan objects (Go's tinySpanClass). */
#define GM_TINY_SIZECLASS	2
#define GM_TINY_SPANCLASS	(GM_TINY_SIZECLASS << 1 | 1)

/* gm_heap_alloc() flags. */
#define GM_NOSCAN	0x1	/* the object holds no pointers */
#define GM_ZERO		0x2	/* return zeroed memory */

/**
 * struct gm_pagesrc_ops - where a heap's memory comes from
 * @alloc_block: return a block for @bytes bytes, or 0. @order is at least
 *	GM_PAGE_SHIFT, and @bytes is 2^@order or, for blocks above a chunk,
 *	the request rounded up to chunks (at most 2^@order): the heap uses
 *	the first @bytes only. The block is aligned to 2^@order, or to the
 *	arena size if that is smaller; a source that deals in powers of two
 *	(the buddy allocator) may take 2^@order. May sleep.
 * @free_block: give a block back, with the @order and @bytes it was
 *	taken with
 * @zero: if set, zero [addr, addr + len) of the heap's memory; the heap
 *	calls it instead of memset(), for memory it cannot write directly
 *	(another address space's). Called with the CPU pinned for tiny
 *	blocks (GM_TINY_SIZE bytes), where it must not sleep; larger ranges
 *	are zeroed from sleepable context.
 * @read: if set, copy [addr, addr + len) of the heap's memory to @buf;
 *	the collector reads objects through it, as @zero writes them.
 *	Called from sleepable context.
 * @unused: if set, give the memory of free pages back to the system
 *	(Go's sysUnused); they read as zeros when next touched. Called under
 *	the heap lock; may sleep.
 * @used: if set, told when scavenged pages are in use again (sysUsed)
 * @kernel_memory: blocks are kernel memory: report objects to kmemleak
 * @zeroed: new blocks read as zeros (fresh mappings do; the buddy
 *	allocator's pages need not, and zeroing 4 MiB up front would make
 *	every allocation pay for what only GM_ZERO requests need)
 * @lazy: new blocks are not backed until touched, so they count as
 *	released (HeapReleased), as Go counts fresh arenas
 *
 * The kernel heap takes physically contiguous pages (alloc_pages); native
 * tests take mmap'd memory; /dev/gomem heaps take pages of a mapping.
 */
struct gm_pagesrc_ops {
	uintptr_t (*alloc_block)(void *ctx, unsigned int order, size_t bytes);
	void (*free_block)(void *ctx, uintptr_t addr, unsigned int order, size_t bytes);
	void (*zero)(void *ctx, uintptr_t addr, size_t len);
	void (*read)(void *ctx, uintptr_t addr, void *buf, size_t len);
	void (*unused)(void *ctx, uintptr_t addr, size_t len);
	void (*used)(void *ctx, uintptr_t addr, size_t len);
	bool kernel_memory;
	bool zeroed;
	bool lazy;
};

/* The environment's own page source, for in-kernel heaps and for tests. */
extern const struct gm_pagesrc_ops gm_os_pagesrc;

/* A block from the page source: @size bytes used of a 2^@order block. */
struct gm_block {
	uintptr_t addr;
	size_t size;
	unsigned int order;
	struct gm_block *next;
};

struct gm_span_list {
	struct gm_mspan *first;
	size_t len;
};

/**
 * struct gm_mcentral - the spans of one span class (Go's mcentral)
 * @lock: protects the lists, and every span's free bits and nfreed
 * @partial: spans with free slots, [sweepgen/2 % 2] swept, the other not
 * @full: spans without free slots, indexed the same way
 * @nfrees: explicit frees of objects of this class
 * @tiny_frees: tiny objects freed (tiny span class only)
 *
 * Each on its own cache line: CPUs allocating different classes must not
 * share one.
 */
struct gm_mcentral {
	struct gm_spinlock lock;
	struct gm_span_list partial[2];
	struct gm_span_list full[2];
	u64 nfrees;
	u64 tiny_frees;
} ____cacheline_aligned;

/* The half of an mcentral's list pairs that holds swept spans at @sg. */
static inline unsigned int gm_swept_half(u32 sg)
{
	return sg / 2 % 2;
}

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

/**
 * struct gm_root - a range of memory the collector scans for pointers
 * @addr: first byte
 * @len: bytes
 */
struct gm_root {
	uintptr_t addr;
	size_t len;
};

/**
 * struct gm_mark_stats - what one mark did
 * @marked: objects marked
 * @marked_bytes: their slot sizes (a tiny block counts whole)
 * @root_bytes: bytes of registered root ranges and root objects scanned
 * @scanned_bytes: bytes scanned, roots included
 * @overflows: times the gray queue overflowed and the heap was rescanned
 */
struct gm_mark_stats {
	u64 marked;
	u64 marked_bytes;
	u64 root_bytes;
	u64 scanned_bytes;
	u64 overflows;
};

/* GOGC that turns automatic collection off, and "no memory limit". */
#define GM_GOGC_OFF		(-1)
#define GM_NO_LIMIT		(~0ULL)
/* The smallest heap goal (Go's heapMinimum at GOGC=100). */
#define GM_HEAP_MIN_GOAL	(4ULL << 20)
/* Cycles kept in the ring debugfs shows (Go keeps 256 pauses). */
#define GM_GC_RING		16

/* Phases of a cycle, as gctrace times them. */
enum gm_gc_phase {
	GM_PHASE_SWEEP_TERM,
	GM_PHASE_MARK,
	GM_PHASE_MARK_TERM,
	GM_PHASE_SWEEP,
	GM_NUM_PHASES,
};

/**
 * struct gm_gc_cycle - what one GC cycle did
 * @num: the cycle's number, from 1
 * @forced: asked for (runtime.GC), not triggered by an allocation
 * @start_ns: start, in ns since the heap was created
 * @phase_ns: wall time of each phase; the sweep phase counts only what
 *	was swept before gm_heap_gc() returned
 * @pause_ns: the world stood still for this long (the whole call)
 * @heap_before: heap_live at the start
 * @heap_after: heap_live when the mark ended
 * @heap_marked: bytes found live
 * @heap_goal: the goal set for the next cycle
 * @root_bytes: bytes of registered roots scanned
 * @mark: the mark's own statistics
 * @freed_objects: objects freed by the sweep done inside the call
 * @freed_bytes: their bytes
 */
struct gm_gc_cycle {
	u64 num;
	bool forced;
	u64 start_ns;
	u64 phase_ns[GM_NUM_PHASES];
	u64 pause_ns;
	u64 heap_before, heap_after, heap_marked, heap_goal;
	u64 root_bytes;
	struct gm_mark_stats mark;
	u64 freed_objects, freed_bytes;
};

/**
 * struct gm_gcstate - a heap's collector and pacer (Go's gcController)
 * @gogc: GOGC percent, or GM_GOGC_OFF
 * @memory_limit: soft limit on heap_sys - heap_released, or GM_NO_LIMIT
 * @heap_live: bytes allocated since the last mark plus what it found
 *	live; spans count whole when an mcache takes them, as in Go
 * @heap_marked: bytes the last mark found live
 * @heap_goal: the next cycle starts when heap_live would pass this
 * @numgc: cycles completed
 * @numforced: of those, forced ones
 * @created_ns: when the heap was created (gm_now_ns())
 * @last_gc_ns: when the last cycle ended, 0 if none
 * @pause_total_ns: sum of pauses
 * @cpu_ns: CPU time of cycles and of background sweeping
 * @ring: the last GM_GC_RING cycles, by num % GM_GC_RING
 * @sweep_cursor: the span class the next sweep_one() looks at first
 * @swept_pages: pages of spans swept, ever
 * @swept_bg_pages: of those, by the background sweeper
 * @swept_lazy_pages: of those, by allocations (mcentral and credit)
 * @freed_objects: objects the sweeper freed, ever
 * @freed_bytes: their bytes
 * @freed_spans: spans the sweeper gave back to the page heap
 * @credit_basis: heap_live when the last cycle ended
 * @credit_pages: pages unswept when the last cycle ended
 * @credit_swept: swept_pages when the last cycle ended
 * @bg_scavenged: bytes the background scavenger gave back
 * @limit_scavenged: bytes scavenged to stay under the memory limit
 * @roots: registered root ranges, sorted by address
 * @nroots: entries in @roots
 * @roots_cap: room in @roots
 * @root_objects: objects whose root bit is set
 *
 * The settings, the ring and the roots change under the heap lock; the
 * counters are atomic where the sweeper and allocations update them
 * without it.
 */
struct gm_gcstate {
	s32 gogc;
	u64 memory_limit;
	struct gm_atomic64 heap_live;
	u64 heap_marked;
	u64 heap_goal;
	u64 numgc;
	u64 numforced;
	u64 created_ns;
	u64 last_gc_ns;
	u64 pause_total_ns;
	struct gm_atomic64 cpu_ns;
	struct gm_gc_cycle ring[GM_GC_RING];
	u32 sweep_cursor;
	struct gm_atomic64 swept_pages;
	struct gm_atomic64 swept_bg_pages;
	struct gm_atomic64 swept_lazy_pages;
	struct gm_atomic64 freed_objects;
	struct gm_atomic64 freed_bytes;
	struct gm_atomic64 freed_spans;
	u64 credit_basis;
	u64 credit_pages;
	u64 credit_swept;
	struct gm_atomic64 bg_scavenged;
	struct gm_atomic64 limit_scavenged;
	struct gm_root *roots;
	size_t nroots;
	size_t roots_cap;
	u64 root_objects;
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
 * @spans_free: recycled span structures
 * @caches: per-CPU mcaches
 * @emptyspan: the full, empty span an mcache slot points to when empty
 * @sys_bytes: bytes taken from the page source (HeapSys)
 * @inuse_pages: pages in in-use spans
 * @class_spans: in-use spans per size class (class 0: large)
 * @large_allocs: large objects allocated
 * @large_frees: large objects freed
 * @large_bytes: bytes of live large objects (their spans)
 * @scavenged_bytes: bytes given back by gm_heap_scavenge(), ever
 * @lost_pages: free pages taken out of use by gm_heap_forget_range()
 * @gc: the collector's state and the pacer
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
	struct gm_mspan *spans_free;
	struct gm_mcache *caches;
	struct gm_mspan emptyspan;
	u64 sys_bytes;
	u64 inuse_pages;
	u64 class_spans[GM_NUM_SIZE_CLASSES];
	u64 large_allocs;
	u64 large_frees;
	u64 large_bytes;
	u64 scavenged_bytes;
	u64 lost_pages;
	struct gm_gcstate gc;
	struct gm_mcentral central[GM_NUM_SPAN_CLASSES];
};

/**
 * struct gm_class_stats - one size class, as debugfs shows it
 * @spans: in-use spans
 * @inuse: live objects
 * @allocs: objects allocated
 * @frees: objects freed
 * @fast: allocations served by the fast path
 * @slow: allocations that took the slow path
 */
struct gm_class_stats {
	u64 spans, inuse, allocs, frees, fast, slow;
};

/**
 * struct gm_memstats - Go's runtime.MemStats fields that apply
 * @heap_alloc: bytes of live objects (slot sizes)
 * @heap_sys: bytes obtained from the page source
 * @heap_idle: bytes in no span
 * @heap_inuse: bytes in in-use spans
 * @heap_released: idle bytes given back (scavenged) but still mapped
 * @heap_objects: live objects (a tiny block counts as one, as in Go)
 * @mallocs: objects allocated, tiny ones included
 * @frees: objects freed, tiny ones included
 * @tiny_allocs: tiny objects allocated
 * @pcache: pages for small spans (Go's per-P pageCache); changed with the
 *	CPU pinned, and refilled or flushed under the heap lock as well
 * @tiny_frees: tiny objects freed
 * @by_class: per size class; entry 0 counts large objects
 */
struct gm_memstats {
	u64 heap_alloc, heap_sys, heap_idle, heap_inuse, heap_released;
	u64 heap_objects, mallocs, frees, tiny_allocs, tiny_frees;
	struct gm_class_stats by_class[GM_NUM_SIZE_CLASSES];
};

/* mheap.c: spans and pages */
struct gm_mspan *gm_heap_alloc_span(struct gm_heap *h, size_t npages, u8 spanclass);
void gm_heap_free_span(struct gm_heap *h, struct gm_mspan *s);

/* mcentral.c */
void gm_span_list_push(struct gm_span_list *l, struct gm_mspan *s);
void gm_span_list_remove(struct gm_mspan *s);
void gm_mcentral_relist(struct gm_heap *h, struct gm_mcentral *c, struct gm_mspan *s);
void gm_mcentral_add_large(struct gm_heap *h, struct gm_mspan *s);
void gm_mcentral_init(struct gm_mcentral *c);
struct gm_mspan *gm_mcentral_cache_span(struct gm_heap *h, u8 spanclass);
void gm_mcentral_uncache_span(struct gm_heap *h, struct gm_mspan *s);
bool gm_mcentral_sweep_frees(struct gm_heap *h, struct gm_mspan *s, uintptr_t tiny);
int gm_mcentral_free_object(struct gm_heap *h, struct gm_mspan *s, uintptr_t p);
int gm_mcentral_free_large(struct gm_heap *h, struct gm_mspan *s, uintptr_t p);
int gm_mcentral_set_root(struct gm_heap *h, struct gm_mspan *s, uintptr_t p, bool root);
size_t gm_mcentral_usable_size(struct gm_heap *h, struct gm_mspan *s, uintptr_t p);

/* mcache.c */
void gm_mcache_init(struct gm_heap *h, struct gm_mcache *c);
void gm_mcache_release_all(struct gm_heap *h, unsigned int cpu);
void gm_heap_flush_caches(struct gm_heap *h);

/* malloc.c */
struct gm_heap *gm_heap_create(const struct gm_pagesrc_ops *src, void *ctx);
void gm_heap_destroy(struct gm_heap *h);
void *gm_heap_alloc(struct gm_heap *h, size_t size, unsigned int flags);
int gm_heap_free(struct gm_heap *h, void *p);
size_t gm_heap_object_size(struct gm_heap *h, const void *p);
size_t gm_heap_usable_size(struct gm_heap *h, const void *p);
void gm_heap_read_stats(struct gm_heap *h, struct gm_memstats *st);
void gm_heap_read_sizes(struct gm_heap *h, struct gm_memstats *st);
void gm_heap_print_memstats(struct gm_heap *h, struct gm_printer *p);
void gm_heap_print_classes(struct gm_heap *h, struct gm_printer *p);
void gm_heap_print_arenas(struct gm_heap *h, struct gm_printer *p);
void gm_heap_zero(struct gm_heap *h, uintptr_t addr, size_t len);

void gm_heap_read(struct gm_heap *h, uintptr_t addr, void *buf, size_t len);

/* mgcmark.c */
int gm_heap_mark(struct gm_heap *h, const struct gm_root *roots, size_t nroots,
		 size_t queue_len, struct gm_mark_stats *st);
bool gm_heap_object_marked(struct gm_heap *h, const void *p);

/* mgcsweep.c */
bool gm_sweep_claim(struct gm_heap *h, struct gm_mspan *s);
bool gm_sweep_span(struct gm_heap *h, struct gm_mspan *s);
void gm_sweep_release(struct gm_heap *h, struct gm_mspan *s);
bool gm_heap_sweep_some(struct gm_heap *h, size_t max_pages);
void gm_heap_finish_sweep(struct gm_heap *h);
void gm_heap_sweep_credit(struct gm_heap *h, size_t npages);

/**
 * struct gm_sweep_census - spans of a heap by sweep state (see mgcsweep.c)
 * @unswept: sweepgen == sg - 2: not swept since the last mark
 * @sweeping: sg - 1: being swept
 * @swept: sg: swept, in an mcentral or a large object
 * @cached: sg + 3: swept and held by an mcache
 * @bad: any other value: a bug
 */
struct gm_sweep_census {
	u64 unswept, sweeping, swept, cached, bad;
};

void gm_heap_sweep_census(struct gm_heap *h, struct gm_sweep_census *c);

/* Most root ranges one heap may have registered (-ENOSPC beyond). */
#define GM_MAX_ROOTS		1024

/**
 * struct gm_gc_info - the collector's numbers, for MemStats and debugfs
 * @numgc: cycles completed
 * @numforced: of those, forced
 * @next_gc: the heap goal
 * @last_gc_ns: gm_now_ns() when the last cycle ended, 0 if none
 * @pause_total_ns: sum of the cycles' pauses
 * @cpu_ns: CPU time of cycles and background sweeping
 * @heap_live: the pacer's live heap
 * @heap_marked: bytes the last mark found live
 * @gogc: GOGC, or GM_GOGC_OFF
 * @memory_limit: the soft limit, or GM_NO_LIMIT
 * @swept_pages: pages swept, ever
 * @bg_scavenged: bytes the background scavenger gave back
 */
struct gm_gc_info {
	u64 numgc, numforced, next_gc, last_gc_ns, pause_total_ns, cpu_ns;
	u64 heap_live, heap_marked;
	s32 gogc;
	u64 memory_limit, swept_pages, bg_scavenged;
};

void gm_heap_read_gc_info(struct gm_heap *h, struct gm_gc_info *gi);
bool gm_heap_last_cycle(struct gm_heap *h, struct gm_gc_cycle *c);

/* mgc.c: cycles and roots */
int gm_heap_gc(struct gm_heap *h, bool forced, struct gm_gc_cycle *out);
bool gm_heap_gc_due(struct gm_heap *h, size_t size);
int gm_heap_add_root(struct gm_heap *h, uintptr_t addr, size_t len);
int gm_heap_del_root(struct gm_heap *h, uintptr_t addr);
int gm_heap_set_root_object(struct gm_heap *h, const void *p, bool root);
void gm_heap_print_gc(struct gm_heap *h, struct gm_printer *p);
int gm_gc_trace_line(struct gm_heap *h, const struct gm_gc_cycle *c,
		     char *buf, size_t len);

/* mgcpacer.c */
s32 gm_heap_set_gogc(struct gm_heap *h, s32 gogc);
u64 gm_heap_set_memory_limit(struct gm_heap *h, u64 limit);
void gm_pacer_commit(struct gm_heap *h);
void gm_pacer_end_mark(struct gm_heap *h, u64 marked);
void gm_heap_live_add(struct gm_heap *h, s64 bytes);
u64 gm_heap_live(struct gm_heap *h);

/* mgcscavenge.c */
u64 gm_heap_scavenge(struct gm_heap *h, u64 max_bytes);
u64 gm_heap_scavenge_excess(struct gm_heap *h);
u64 gm_heap_scavenge_background(struct gm_heap *h, u64 max_bytes);
void gm_heap_scavenge_for_limit(struct gm_heap *h);
size_t gm_heap_forget_range(struct gm_heap *h, uintptr_t addr, size_t len);

#endif /* _GOMEM_MALLOC_H */
