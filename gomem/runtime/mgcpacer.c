// SPDX-License-Identifier: GPL-2.0
/*
 * The pacer, after Go's mgcpacer.go, for a collector that stops the world
 * to mark: when to start the next cycle.
 *
 * heap_live counts the bytes of objects allocated since the last mark
 * plus the bytes that mark found live (heap_marked). As in Go, a span
 * counts whole, less its allocated slots, when an mcache takes it, and
 * its unused slots are taken off when the mcache lets it go, so the fast
 * path never touches the counter. gomem's explicit frees take their
 * objects off.
 *
 * The goal is Go's since 1.18: heap_marked + (heap_marked + globals) *
 * GOGC/100, where the globals are the registered root ranges (gomem has
 * no goroutine stacks, Go's third term); at least Go's heapMinimum, 4 MiB
 * * GOGC/100; and under a memory limit no more than 95% of the limit.
 *
 * Where a stopped-world mark must differ from Go's pacer:
 *  - the trigger. Go starts its concurrent mark before the goal, at a
 *    trigger its cons/mark controller places between 70% and 95% of the
 *    runway, so that the allocations made while it marks bring the heap
 *    to the goal just as marking ends. Nothing allocates during a
 *    stopped-world mark, so gomem's trigger is the goal itself: the heap
 *    peaks at the same size, and there is no mark assist to pace.
 *  - floating garbage. Go allocates black during the mark, so objects
 *    that die while it marks survive the cycle and count in heap_marked;
 *    the next goal grows with them. A stopped-world mark has none: its
 *    heap_marked is exactly what is reachable, so for the same program
 *    gomem's goals are lower by the floating garbage and it may run more
 *    cycles than Go (Documentation/collector.rst compares the two on
 *    binary-trees). gomem does not invent garbage to match.
 */
#include "malloc.h"

/**
 * gm_pacer_live_add() - account bytes allocated (> 0) or freed (< 0)
 * @h: the heap
 * @bytes: the change
 */
void gm_pacer_live_add(struct gm_heap *h, s64 bytes)
{
	gm_atomic64_add(&h->gc.heap_live, (u64)bytes);
}

/**
 * gm_pacer_live() - the pacer's live heap
 * @h: the heap
 *
 * Return: heap_live; never below 0 (a free of an object the last mark
 * left out may make the counter dip for a while).
 */
u64 gm_pacer_live(struct gm_heap *h)
{
	s64 v = (s64)gm_atomic64_read(&h->gc.heap_live);

	return v > 0 ? v : 0;
}

/* Bytes of the registered root ranges: Go's globalsScan. */
static u64 globals_bytes(struct gm_heap *h)
{
	u64 n = 0;
	size_t i;

	gm_mutex_assert_held(&h->lock);
	for (i = 0; i < h->gc.nroots; i++)
		n += h->gc.roots[i].len;
	return n;
}

/* @x * @gogc / 100, saturating. */
static u64 gogc_part(u64 x, s32 gogc)
{
	if (gogc > 0 && x / 100 > GM_NO_LIMIT / (u64)gogc)
		return GM_NO_LIMIT;
	return x / 100 * gogc + x % 100 * gogc / 100;
}

/* heap_marked + (heap_marked + globals) * gogc / 100, saturating; Go's heapMinimum. */
static u64 gogc_goal(u64 marked, u64 globals, s32 gogc)
{
	u64 base = marked + globals < marked ? GM_NO_LIMIT : marked + globals;
	u64 extra = gogc_part(base, gogc);

	if (marked + extra < marked)
		return GM_NO_LIMIT;
	return max(marked + extra, gogc_part(GM_HEAP_MIN_GOAL, gogc));
}

static u64 compute_goal(struct gm_heap *h)
{
	u64 marked = h->gc.heap_marked, limit = h->gc.memory_limit, goal = GM_NO_LIMIT;

	if (h->gc.gogc >= 0)
		goal = gogc_goal(marked, globals_bytes(h), h->gc.gogc);
	if (limit != GM_NO_LIMIT) {
		u64 lgoal = limit - limit / 20;

		/*
		 * Go's CPU limiter stops a heap whose live data outgrows its
		 * limit from collecting without end; here each cycle allows at
		 * least a chunk of allocation instead.
		 */
		goal = min(goal, max(lgoal, marked + GM_CHUNK_BYTES));
	}
	return goal;
}

/**
 * gm_pacer_commit() - set the goal and sweep pacing after a mark, or after
 *	a change of GOGC or of the memory limit (Go's commit)
 * @h: the heap, locked
 *
 * Sweep pacing: the pages in use now must all be swept by the time
 * heap_live reaches the goal (gm_sweep_deduct_credit()).
 */
void gm_pacer_commit(struct gm_heap *h)
{
	gm_mutex_assert_held(&h->lock);
	WRITE_ONCE(h->gc.heap_goal, compute_goal(h));
}

/* After a mark: what the sweepers have ahead of them. */
static void commit_sweep(struct gm_heap *h)
{
	gm_mutex_assert_held(&h->lock);
	WRITE_ONCE(h->gc.credit_basis, gm_pacer_live(h));
	WRITE_ONCE(h->gc.credit_swept, gm_gc_counter_read(&h->gc, GM_GC_SWEPT_PAGES));
	WRITE_ONCE(h->gc.credit_pages, h->inuse_pages);
}

/**
 * gm_pacer_end_mark() - the pacer's part of mark termination
 * @h: the heap, locked, world stopped
 * @marked: bytes the mark found live
 */
void gm_pacer_end_mark(struct gm_heap *h, u64 marked)
{
	gm_mutex_assert_held(&h->lock);
	h->gc.heap_marked = marked;
	gm_pacer_live_add(h, (s64)(marked - gm_atomic64_read(&h->gc.heap_live)));
	gm_pacer_commit(h);
	commit_sweep(h);
}

/**
 * gm_heap_gc_due() - whether an allocation should run a cycle first
 * @h: the heap
 * @size: bytes about to be allocated
 *
 * One atomic read and a comparison; the caller runs the cycle.
 *
 * Return: true if heap_live + @size would pass the goal.
 */
bool gm_heap_gc_due(struct gm_heap *h, size_t size)
{
	u64 goal = READ_ONCE(h->gc.heap_goal);

	return goal != GM_NO_LIMIT && gm_pacer_live(h) + size > goal;
}

/**
 * gm_heap_set_gogc() - set GOGC (Go's debug.SetGCPercent)
 * @h: the heap
 * @gogc: the percent, 0 and up, or GM_GOGC_OFF
 *
 * Return: the previous value.
 */
s32 gm_heap_set_gogc(struct gm_heap *h, s32 gogc)
{
	s32 old;

	gm_mutex_lock(&h->lock);
	old = h->gc.gogc;
	h->gc.gogc = gogc < 0 ? GM_GOGC_OFF : gogc;
	gm_pacer_commit(h);
	gm_mutex_unlock(&h->lock);
	return old;
}

/**
 * gm_heap_set_memory_limit() - set the soft memory limit (SetMemoryLimit)
 * @h: the heap
 * @limit: bytes of heap_sys - heap_released, or GM_NO_LIMIT
 *
 * Return: the previous value.
 */
u64 gm_heap_set_memory_limit(struct gm_heap *h, u64 limit)
{
	u64 old;

	gm_mutex_lock(&h->lock);
	old = h->gc.memory_limit;
	WRITE_ONCE(h->gc.memory_limit, limit);
	gm_pacer_commit(h);
	gm_mutex_unlock(&h->lock);
	return old;
}
