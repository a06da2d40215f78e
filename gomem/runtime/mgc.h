/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The collector's state and its internal entry points, as Go's mgc.go,
 * mgcmark.go, mgcsweep.go, mgcpacer.go and mgcscavenge.go share
 * gcController and the sweeper's state: cycles (mgc.c), the mark
 * (mgcmark.c), the sweep (mgcsweep.c), the pacer (mgcpacer.c) and the
 * scavenger (mgcscavenge.c).
 */
#ifndef _GOMEM_MGC_H
#define _GOMEM_MGC_H

#include "mheap.h"

/* The smallest heap goal at GOGC=100 (Go's defaultHeapMinimum; it scales with GOGC). */
#define GM_HEAP_MIN_GOAL	(4ULL << 20)
/* The gray queue's chunks (Go's workbuf is 2 KiB): one kernel page. */
#define GM_WORKBUF_BYTES	4096
/* Cycles kept in the ring debugfs shows (Go keeps 256 pauses: GM_PAUSE_RING). */
#define GM_GC_RING		16

/*
 * The collector's event counters, updated without a lock (as
 * mm/kfence/core.c keeps its counters): one array, named once in
 * mgc.c's table and printed by gm_heap_print_gc() in this order.
 */
enum gm_gc_counter {
	GM_GC_SWEPT_PAGES,		/* pages of spans swept, ever */
	GM_GC_SWEPT_BG_PAGES,		/* of those, by the background sweeper */
	GM_GC_SWEPT_LAZY_PAGES,		/* of those, by allocations (mcentral, credit) */
	GM_GC_FREED_OBJECTS,		/* objects the sweeper freed */
	GM_GC_FREED_BYTES,		/* their bytes */
	GM_GC_FREED_SPANS,		/* spans the sweeper gave back to the page heap */
	GM_GC_SCAVENGED_BG_BYTES,	/* bytes the background scavenger gave back */
	GM_GC_SCAVENGED_LIMIT_BYTES,	/* bytes scavenged to stay under the limit */
	GM_GC_SCAVENGE_CALLS,		/* runs given to the page source to release */
	GM_GC_SCAVENGE_PAGES,		/* pages in those runs */
	/* The allocator's slow-path events (issue 12), counted here too. */
	GM_GC_KEPT_RELEASED_SPANS,	/* empty spans the classes kept, given back */
	GM_GC_NOSLEEP_MISSES,		/* refills that could not sleep and found nothing */
	GM_GC_SPARE_SPANS,		/* spans gm_heap_fill_spares() gave a class */
	GM_GC_DEFERRED_SPANS,		/* spans left for the heap lock's next holder */
	GM_GC_FREE_BATCHES,		/* batches of frees applied (gm_mcentral_apply_batch()) */
	GM_GC_NUM_COUNTERS,
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
 * @last_gc_unix_ns: gm_real_ns() when the last cycle ended, 0 if none
 * @pause_ns: the last GM_PAUSE_RING pauses, cycle n's at (n - 1) %
 *	GM_PAUSE_RING, as Go's memstats.pause_ns
 * @pause_end: when each ended, in gm_real_ns() (Go's pause_end)
 * @cycle_cpu_ns: CPU time of the cycles' sweep termination, mark and mark
 *	termination, the work Go's GCCPUFraction counts (work.totaltime)
 * @cpu_ppm: GCCPUFraction in parts per million, set when a cycle ends
 * @cpu_ns: CPU time of cycles and of background sweeping
 * @ring: the last GM_GC_RING cycles, by num % GM_GC_RING
 * @sweep_cursor: the span class the next sweep_one() looks at first
 * @credit_basis: heap_live when the last cycle ended
 * @credit_pages: pages unswept when the last cycle ended
 * @credit_swept: GM_GC_SWEPT_PAGES when the last cycle ended
 * @counters: the counters of enum gm_gc_counter
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
	u64 last_gc_unix_ns;
	u64 pause_ns[GM_PAUSE_RING];
	u64 pause_end[GM_PAUSE_RING];
	u64 cycle_cpu_ns;
	u64 cpu_ppm;
	struct gm_atomic64 cpu_ns;
	struct gm_gc_cycle ring[GM_GC_RING];
	u32 sweep_cursor;
	u64 credit_basis;
	u64 credit_pages;
	u64 credit_swept;
	struct gm_atomic64 counters[GM_GC_NUM_COUNTERS];
	struct gm_root *roots;
	size_t nroots;
	size_t roots_cap;
	u64 root_objects;
};

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

/* Count @n events of @ctr. */
static inline void gm_gc_count(struct gm_gcstate *gc, enum gm_gc_counter ctr, u64 n)
{
	gm_atomic64_add(&gc->counters[ctr], n);
}

static inline u64 gm_gc_counter_read(struct gm_gcstate *gc, enum gm_gc_counter ctr)
{
	return gm_atomic64_read(&gc->counters[ctr]);
}

/* mgcmark.c */
int gm_mark_heap(struct gm_heap *h, const struct gm_root *roots, size_t nroots,
		 size_t queue_len, struct gm_mark_stats *st);
bool gm_mark_object_marked(struct gm_heap *h, const void *p);

/* mgcsweep.c */
bool gm_sweep_claim(struct gm_heap *h, struct gm_mspan *s);
bool gm_sweep_span(struct gm_heap *h, struct gm_mspan *s);
void gm_sweep_release(struct gm_heap *h, struct gm_mspan *s);
void gm_sweep_finish(struct gm_heap *h);
void gm_sweep_deduct_credit(struct gm_heap *h, size_t npages);
void gm_sweep_take_census(struct gm_heap *h, struct gm_sweep_census *c);

/* mgcpacer.c */
void gm_pacer_commit(struct gm_heap *h);
void gm_pacer_end_mark(struct gm_heap *h, u64 marked);
void gm_pacer_live_add(struct gm_heap *h, s64 bytes);
u64 gm_pacer_live(struct gm_heap *h);

/* mgcscavenge.c */
void gm_scavenge_for_limit(struct gm_heap *h);

#endif /* _GOMEM_MGC_H */
