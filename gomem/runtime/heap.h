/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The allocator core's API: what the kernel face (gomem/kernel/), the
 * platform layers and the tools may use. A heap is opaque here; its parts
 * are the core's own (malloc.h and the headers named after Go's files).
 * Callers that are not core files include this header and no other one
 * of gomem/runtime/ (tools/layers.py checks it).
 */
#ifndef _GOMEM_HEAP_H
#define _GOMEM_HEAP_H

#include "runtime.h"
#include "sizeclasses.h"

/* A heap: Go's mheap with its mcentrals, per-CPU mcaches and collector. */
struct gm_heap;

/* gm_heap_alloc() flags. */
#define GM_NOSCAN	0x1	/* the object holds no pointers */
#define GM_ZERO		0x2	/* return zeroed memory */
/*
 * The caller may not sleep (a spinlock held, interrupts off, an
 * interrupt): only the CPU's caches and its class's spans serve, up to
 * GM_MAX_SMALL_SIZE, and NULL is returned rather than sleep.
 */
#define GM_NOSLEEP	0x4

/* GOGC that turns automatic collection off, and "no memory limit". */
#define GM_GOGC_OFF		(-1)
#define GM_NO_LIMIT		(~0ULL)
/* Pauses kept for MemStats' PauseNs and PauseEnd, as many as Go keeps. */
#define GM_PAUSE_RING		256
/* GCCPUFraction's unit: parts per million (the core has no floats). */
#define GM_PPM			1000000

/* Most root ranges one heap may have registered (-ENOSPC beyond). */
#define GM_MAX_ROOTS		1024

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
 * @map: if set, make the heap's memory from @addr to the end of its page
 *	readable in place, set *@len to those bytes and return where to
 *	read them, or NULL if @addr is not the heap's memory (the collector
 *	then reads the *@len bytes through @read); *@cookie is for @unmap. The collector scans objects through it one page at a
 *	time instead of copying each object through @read. Called from
 *	sleepable context; at most one page is mapped at a time.
 * @unmap: undo @map, given what it returned and its cookie
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
	const void *(*map)(void *ctx, uintptr_t addr, size_t *len, void **cookie);
	void (*unmap)(void *ctx, const void *p, void *cookie);
	void (*unused)(void *ctx, uintptr_t addr, size_t len);
	void (*used)(void *ctx, uintptr_t addr, size_t len);
	bool kernel_memory;
	bool zeroed;
	bool lazy;
};

/* The environment's own page source, for in-kernel heaps and for tests. */
extern const struct gm_pagesrc_ops gm_os_pagesrc;

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
 * @globals_bytes: of @root_bytes, the root ranges': Go's globals
 * @scanned_bytes: bytes scanned, roots included
 * @overflows: times the gray queue reached its bound (or could not grow)
 *	and the heap was rescanned
 * @queue_peak: most entries the gray queue held at once
 * @queue_bufs: most chunks (struct gm_workbuf, GM_WORKBUF_BYTES each) it
 *	held at once: the mark's memory
 */
struct gm_mark_stats {
	u64 marked;
	u64 marked_bytes;
	u64 root_bytes;
	u64 globals_bytes;
	u64 scanned_bytes;
	u64 overflows;
	u64 queue_peak;
	u64 queue_bufs;
};

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
	u64 empty;	/* of @spans, empty ones the class keeps (allocator.rst) */
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
 * @tiny_frees: tiny objects freed
 * @total_alloc: bytes ever allocated, freed ones included (TotalAlloc):
 *	small objects by their class's size, a tiny block once, large
 *	objects by their pages
 * @sys: all the bytes below, Go's Sys: @heap_sys + @stack_sys +
 *	@mspan_sys + @mcache_sys + @buckhash_sys + @gc_sys + @other_sys
 * @stack_inuse: 0: gomem has no goroutine stacks
 * @stack_sys: 0, likewise
 * @mspan_inuse: bytes of span structures in use (not recycled)
 * @mspan_sys: bytes of span structures allocated
 * @mcache_inuse: bytes of the online CPUs' caches
 * @mcache_sys: bytes of every possible CPU's caches
 * @buckhash_sys: the heap profile's metadata: its stack buckets, their
 *	hash table and the table of sampled objects (mprof.c)
 * @gc_sys: the collector's metadata: span bitmaps and tiny masks, arena
 *	structures, page allocator, roots, the gray queue while a mark runs
 * @other_sys: the rest: the heap structure itself, block records
 * @by_class: per size class; entry 0 counts large objects
 *
 * Metadata counts the bytes asked of the platform's allocator
 * (gm_zalloc()), not what it rounded them up to.
 */
struct gm_memstats {
	u64 heap_alloc, heap_sys, heap_idle, heap_inuse, heap_released;
	u64 heap_objects, mallocs, frees, tiny_allocs, tiny_frees;
	u64 total_alloc, sys, stack_inuse, stack_sys, mspan_inuse, mspan_sys;
	u64 mcache_inuse, mcache_sys, buckhash_sys, gc_sys, other_sys;
	struct gm_class_stats by_class[GM_NUM_SIZE_CLASSES];
};

/**
 * struct gm_gc_info - the collector's numbers, for MemStats and debugfs
 * @numgc: cycles completed
 * @numforced: of those, forced
 * @next_gc: the heap goal
 * @last_gc_ns: gm_now_ns() when the last cycle ended, 0 if none
 * @last_gc_unix_ns: gm_real_ns() then (Go's LastGC), 0 if none
 * @pause_total_ns: sum of the cycles' pauses
 * @gc_cpu_ppm: Go's GCCPUFraction in parts per million (GM_PPM): the
 *	cycles' CPU time over the time since the heap was created times the
 *	online CPUs, as of the end of the last cycle
 * @cpu_ns: CPU time of cycles and background sweeping
 * @heap_live: the pacer's live heap
 * @heap_marked: bytes the last mark found live
 * @gogc: GOGC, or GM_GOGC_OFF
 * @memory_limit: the soft limit, or GM_NO_LIMIT
 * @swept_pages: pages swept, ever
 * @bg_scavenged: bytes the background scavenger gave back
 */
struct gm_gc_info {
	u64 numgc, numforced, next_gc, last_gc_ns, last_gc_unix_ns, pause_total_ns, cpu_ns;
	u64 gc_cpu_ppm;
	u64 heap_live, heap_marked;
	s32 gogc;
	u64 memory_limit, swept_pages, bg_scavenged;
};

/**
 * struct gm_size_class - one row of the size class table
 * @size: bytes per object
 * @npages: pages (of GM_PAGE_SIZE) per span
 * @objects: objects per span
 */
struct gm_size_class {
	u32 size;
	u32 npages;
	u32 objects;
};

/* Frames of a sampled allocation's stack (Go's maxStack). */
#define GM_PROF_DEPTH		32
/* Go's default MemProfileRate: a sample per 512 KiB allocated on average. */
#define GM_PROF_DEFAULT_RATE	(512 * 1024)
/* The largest rate gm_heap_set_profile_rate() takes; larger ones are clamped. */
#define GM_PROF_MAX_RATE	(1ULL << 31)

/**
 * struct gm_prof_record - one stack of a heap profile (Go's MemProfileRecord)
 * @allocs: sampled objects allocated with this stack
 * @frees: of those, freed (explicitly or by the sweeper)
 * @alloc_bytes: their bytes (slot sizes; a tiny object's asked-for size)
 * @free_bytes: bytes of the freed ones
 * @depth: frames in @pcs
 * @pcs: the stack, innermost first: return addresses but for the first
 *	frame of a user stack, the allocating thread's own instruction
 *
 * Counts are of samples, not scaled: a reader scales them by the rate
 * (Go's scaleHeapSample).
 */
struct gm_prof_record {
	u64 allocs, frees, alloc_bytes, free_bytes;
	u32 depth;
	uintptr_t pcs[GM_PROF_DEPTH];
};

/**
 * struct gm_prof_info - a heap profile's header
 * @rate: the sampling rate in bytes, 0 if off
 * @user_stacks: stacks are of the allocating thread's user space
 * @buckets: stacks recorded
 * @objects: sampled objects live
 * @dropped: samples not recorded (a bound reached or no memory)
 * @meta_bytes: metadata the profile holds
 */
struct gm_prof_info {
	u64 rate;
	bool user_stacks;
	u64 buckets, objects, dropped, meta_bytes;
};

/* malloc.c: heaps and objects */
struct gm_heap *gm_heap_create(const struct gm_pagesrc_ops *src, void *ctx);
void gm_heap_destroy(struct gm_heap *h);
/* Why a heap kicks its owner (gm_heap_set_kick()). */
enum gm_kick {
	GM_KICK_NOW,	/* run gm_heap_fill_spares() soon */
	GM_KICK_TRIM,	/* run gm_heap_trim_kept() in about a second */
};

void gm_heap_set_kick(struct gm_heap *h, void (*kick)(void *arg, enum gm_kick why),
		      void *arg);
void gm_heap_fill_spares(struct gm_heap *h);
bool gm_heap_trim_kept(struct gm_heap *h);
void *gm_heap_alloc(struct gm_heap *h, size_t size, unsigned int flags);
int gm_heap_free(struct gm_heap *h, void *p);
size_t gm_heap_object_size(struct gm_heap *h, const void *p);
size_t gm_heap_usable_size(struct gm_heap *h, const void *p);

/* mcache.c: the per-CPU caches */
void gm_heap_flush_caches(struct gm_heap *h);
void gm_heap_flush_cpu(struct gm_heap *h, unsigned int cpu);
unsigned int gm_heap_cached_spans(struct gm_heap *h, unsigned int cpu);

/* mstats.c: statistics and the debugfs tables */
void gm_heap_read_stats(struct gm_heap *h, struct gm_memstats *st);
void gm_heap_read_sizes(struct gm_heap *h, struct gm_memstats *st);
void gm_heap_print_memstats(struct gm_heap *h, struct gm_printer *p);
void gm_heap_print_classes(struct gm_heap *h, struct gm_printer *p);
void gm_heap_print_arenas(struct gm_heap *h, struct gm_printer *p);

/* msize.c: the size class table */
void gm_size_class_get(unsigned int sizeclass, struct gm_size_class *sc);
void gm_sizeclasses_print(struct gm_printer *p);

/* mgc.c: cycles and roots */
int gm_heap_gc(struct gm_heap *h, bool forced, struct gm_gc_cycle *out);
int gm_heap_add_root(struct gm_heap *h, uintptr_t addr, size_t len);
int gm_heap_del_root(struct gm_heap *h, uintptr_t addr);
int gm_heap_set_root_object(struct gm_heap *h, const void *p, bool root);
void gm_heap_read_gc_info(struct gm_heap *h, struct gm_gc_info *gi);
u64 gm_heap_read_pauses(struct gm_heap *h, u64 *pause_ns, u64 *pause_end);
u64 gm_gc_cpu_ppm(u64 cpu_ns, u64 elapsed_ns, unsigned int ncpu);
bool gm_heap_last_cycle(struct gm_heap *h, struct gm_gc_cycle *c);
void gm_heap_print_gc(struct gm_heap *h, struct gm_printer *p);
int gm_gc_trace_line(struct gm_heap *h, const struct gm_gc_cycle *c,
		     char *buf, size_t len);

/* mprof.c: heap profiles */
u64 gm_heap_set_profile_rate(struct gm_heap *h, u64 rate);
void gm_heap_set_profile_stacks(struct gm_heap *h, bool user);
size_t gm_heap_profile_read(struct gm_heap *h, struct gm_prof_record *recs, size_t max,
			    struct gm_prof_info *info);

/* mgcsweep.c: the background sweeper's step */
bool gm_heap_sweep_some(struct gm_heap *h, size_t max_pages);

/* mgcpacer.c */
bool gm_heap_gc_due(struct gm_heap *h, size_t size);
s32 gm_heap_set_gogc(struct gm_heap *h, s32 gogc);
u64 gm_heap_set_memory_limit(struct gm_heap *h, u64 limit);

/* mgcscavenge.c */
/**
 * struct gm_scavenge_work - what a scavenge did, for pacing the scavenger
 * @bytes: bytes given back
 * @calls: calls of the page source's unused hook, one per run of pages
 */
struct gm_scavenge_work {
	u64 bytes;
	u64 calls;
};

u64 gm_heap_scavenge(struct gm_heap *h, u64 max_bytes);
u64 gm_heap_scavenge_goal(struct gm_heap *h);
u64 gm_heap_scavenge_excess(struct gm_heap *h);
u64 gm_heap_scavenge_background(struct gm_heap *h, u64 max_bytes, struct gm_scavenge_work *w);
u64 gm_scavenge_cost_ns(const struct gm_scavenge_work *w);
u64 gm_scavenge_sleep_ns(u64 cost_ns, unsigned int percent);
u64 gm_heap_scavenged_bytes(struct gm_heap *h);
size_t gm_heap_forget_range(struct gm_heap *h, uintptr_t addr, size_t len);

#endif /* _GOMEM_HEAP_H */
