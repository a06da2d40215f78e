// SPDX-License-Identifier: GPL-2.0
/*
 * Giving free memory back to the system, after Go's mgcscavenge.go. Free
 * pages are marked scavenged in the page allocator and the page source
 * releases their memory; they count as HeapReleased until a span uses
 * them again. Three callers: the synchronous debug.FreeOSMemory, the
 * background scavenger (the environment runs it, with a CPU budget)
 * working toward Go's goals, and allocations that took the heap over its
 * memory limit.
 *
 * Also the heap's answer to memory that vanished under it: a range the
 * program unmapped by hand is taken out of use for good.
 */
#include "malloc.h"

struct scavenge_ctx {
	struct gm_heap *h;
	u64 pages;
	u64 calls;
};

static void release_run(void *arg, uintptr_t addr, size_t npages)
{
	struct scavenge_ctx *sc = arg;

	sc->h->src->unused(sc->h->src_ctx, addr, npages * GM_PAGE_SIZE);
	sc->pages += npages;
	sc->calls++;
	/* A heap may have gigabytes to give back, a run at a time. */
	gm_cond_resched();
}

/* Give back up to @max_pages pages, top down; count the work in @sc. */
static void scavenge_pages(struct gm_heap *h, size_t max_pages, struct scavenge_ctx *sc)
{
	gm_mutex_assert_held(&h->lock);
	gm_pagealloc_scavenge(&h->pages, max_pages, release_run, sc);
	h->scavenged_bytes += sc->pages * GM_PAGE_SIZE;
	gm_gc_count(&h->gc, GM_GC_SCAVENGE_CALLS, sc->calls);
	gm_gc_count(&h->gc, GM_GC_SCAVENGE_PAGES, sc->pages);
}

/* The work of gm_heap_scavenge(); the bytes released are @w->bytes. */
static void scavenge_work(struct gm_heap *h, u64 max_bytes, struct gm_scavenge_work *w)
{
	struct scavenge_ctx sc = { .h = h };
	size_t max_pages = SIZE_MAX;

	gm_might_sleep();
	w->bytes = 0;
	w->calls = 0;
	if (!h->src->unused)
		return;
	/* Rounded up without wrapping: max_bytes may be close to 2^64. */
	if (max_bytes)
		max_pages = (max_bytes >> GM_PAGE_SHIFT) + !!(max_bytes & (GM_PAGE_SIZE - 1));
	gm_mutex_lock(&h->lock);
	scavenge_pages(h, max_pages, &sc);
	gm_mutex_unlock(&h->lock);
	w->bytes = sc.pages * GM_PAGE_SIZE;
	w->calls = sc.calls;
}

/**
 * gm_heap_scavenge() - give a heap's free pages back (debug.FreeOSMemory)
 * @h: the heap; its per-CPU caches should be flushed first by a caller
 *	that wants their pages released too (gm_heap_flush_caches())
 * @max_bytes: at most this much, rounded up to pages; 0 for all
 *
 * Only page sources that can release part of a block (@unused) take part;
 * for the others nothing happens. The highest free pages go first, in
 * runs as long as they are (see gm_pagealloc_scavenge()). Takes the heap
 * lock; may sleep.
 *
 * Return: the bytes released.
 */
u64 gm_heap_scavenge(struct gm_heap *h, u64 max_bytes)
{
	struct gm_scavenge_work w;

	scavenge_work(h, max_bytes, &w);
	return w.bytes;
}

/* Bytes retained: mapped and not released (Go's heapRetained). */
static u64 retained(struct gm_heap *h)
{
	gm_mutex_assert_held(&h->lock);
	return h->sys_bytes - (u64)gm_pagealloc_scav_pages(&h->pages) * GM_PAGE_SIZE;
}

/* Go's scavenge goal, or GM_NO_LIMIT if there is none. */
static u64 scavenge_goal(struct gm_heap *h)
{
	u64 goal = GM_NO_LIMIT;

	gm_mutex_assert_held(&h->lock);
	if (h->gc.gogc != GM_GOGC_OFF && h->gc.heap_goal != GM_NO_LIMIT)
		goal = h->gc.heap_goal + h->gc.heap_goal / 10;
	if (h->gc.memory_limit != GM_NO_LIMIT)
		goal = min(goal, h->gc.memory_limit - h->gc.memory_limit / 20);
	return goal;
}

/**
 * gm_heap_scavenge_goal() - the retained memory the scavenger works toward
 * @h: the heap
 *
 * Go's two goals: retain at most 10% more than the heap goal (when GOGC
 * is on), and at most 95% of the memory limit (when there is one); the
 * lower one counts. Retained memory is HeapSys - HeapReleased.
 *
 * Return: the goal in bytes, GM_NO_LIMIT if there is none.
 */
u64 gm_heap_scavenge_goal(struct gm_heap *h)
{
	u64 goal;

	gm_mutex_lock(&h->lock);
	goal = scavenge_goal(h);
	gm_mutex_unlock(&h->lock);
	return goal;
}

/**
 * gm_heap_scavenge_excess() - how far the heap is over the scavenger's goal
 * @h: the heap
 *
 * Return: retained bytes over gm_heap_scavenge_goal(), 0 if none.
 */
u64 gm_heap_scavenge_excess(struct gm_heap *h)
{
	u64 goal, r;

	gm_mutex_lock(&h->lock);
	goal = scavenge_goal(h);
	r = retained(h);
	gm_mutex_unlock(&h->lock);
	return r > goal ? r - goal : 0;
}

/**
 * gm_heap_scavenge_background() - one step of the background scavenger
 * @h: the heap
 * @max_bytes: give back at most this much in this step
 * @w: set to the work done, for gm_scavenge_cost_ns()
 *
 * Return: the bytes given back; 0 when the heap is at its goal.
 */
u64 gm_heap_scavenge_background(struct gm_heap *h, u64 max_bytes, struct gm_scavenge_work *w)
{
	u64 excess = gm_heap_scavenge_excess(h);

	w->bytes = 0;
	w->calls = 0;
	if (!excess || !max_bytes)
		return 0;
	scavenge_work(h, min(excess, max_bytes), w);
	gm_gc_count(&h->gc, GM_GC_SCAVENGED_BG_BYTES, w->bytes);
	return w->bytes;
}

/*
 * The scavenger's cost model, for pacing it by the work it does rather
 * than by the time that work takes (a guest under emulation takes some
 * 30 times longer for the same work; Go's scavenger, which measures its
 * time, would crawl there). Calibrated natively:
 *
 * - per release call, 10 us: Go's mgcscavenge.go assumes about 10 us per
 *   physical page when it cannot time its madvise() calls
 *   (approxWorkedNSPerPhysicalPage), a figure it calls pessimistic for a
 *   64 KiB quantum; as the fixed cost of one call it is about right: a
 *   madvise(MADV_DONTNEED) of two touched 4 KiB pages took 9.7 us per
 *   call on the 6.1 host kernel this was written on (syscall, page table
 *   walk, TLB flush);
 * - per 4 KiB page, 250 ns: what the same kernel took per page to zap
 *   and free 600 MiB of touched pages in 4 MiB calls (155 to 240 ns).
 *
 * So 600 MiB in 4 MiB runs models as 40 ms of work, which at 1% of the
 * time is given back in about 4 s plus the time the work really takes.
 * Go 1.19 natively gives the same 600 MiB back within a second or two
 * of runtime.GC().
 */
#define SCAV_COST_CALL_NS	10000
#define SCAV_COST_PAGE_NS	250
#define SCAV_COST_PAGE_SHIFT	12

/**
 * gm_scavenge_cost_ns() - the modelled cost of a scavenge's work
 * @w: what it did
 *
 * Return: nanoseconds a native machine would take for it.
 */
u64 gm_scavenge_cost_ns(const struct gm_scavenge_work *w)
{
	return w->calls * SCAV_COST_CALL_NS +
	       (w->bytes >> SCAV_COST_PAGE_SHIFT) * SCAV_COST_PAGE_NS;
}

/**
 * gm_scavenge_sleep_ns() - how long to rest after work of a modelled cost
 * @cost_ns: the work's cost (gm_scavenge_cost_ns())
 * @percent: the share of time the scavenger may work, 1 to 100
 *
 * The rest makes the work @percent of work and rest together:
 * cost / (cost + sleep) = percent / 100.
 *
 * Return: the time to sleep in nanoseconds.
 */
u64 gm_scavenge_sleep_ns(u64 cost_ns, unsigned int percent)
{
	if (percent >= 100)
		return 0;
	if (!percent)
		percent = 1;
	return cost_ns * (100 - percent) / percent;
}

/**
 * gm_scavenge_for_limit() - get back under the memory limit
 * @h: the heap
 *
 * After an allocation took pages: if retained memory is over the limit,
 * free pages are given back until it is not (or none are left).
 */
void gm_scavenge_for_limit(struct gm_heap *h)
{
	struct scavenge_ctx sc = { .h = h };
	u64 limit, r;
	bool over;

	if (!h->src->unused)
		return;
	gm_mutex_lock(&h->lock);
	limit = h->gc.memory_limit;
	r = retained(h);
	over = limit != GM_NO_LIMIT && r > limit;
	if (over)
		scavenge_pages(h, (r - limit + GM_PAGE_SIZE - 1) >> GM_PAGE_SHIFT, &sc);
	gm_mutex_unlock(&h->lock);
	gm_gc_count(&h->gc, GM_GC_SCAVENGED_LIMIT_BYTES, sc.pages * GM_PAGE_SIZE);
	/* The classes' kept spans are not free pages: a trim gives them back. */
	if (over)
		gm_heap_kick(h, GM_KICK_TRIM);
}

/**
 * gm_heap_forget_range() - never use the free pages of a range again
 * @h: the heap
 * @addr: start of the range; rounded out to whole pages
 * @len: bytes
 *
 * For memory the heap can no longer use (its owner unmapped it). Spans
 * already in the range are left alone: their objects may be freed as
 * usual, and a caller that must not hand out such memory checks what
 * the allocator returns.
 *
 * Return: the number of pages taken out of use.
 */
size_t gm_heap_forget_range(struct gm_heap *h, uintptr_t addr, size_t len)
{
	uintptr_t start = addr & ~(uintptr_t)(GM_PAGE_SIZE - 1);
	uintptr_t end = (addr + len + GM_PAGE_SIZE - 1) & ~(uintptr_t)(GM_PAGE_SIZE - 1);
	size_t taken;

	gm_mutex_lock(&h->lock);
	taken = gm_pagealloc_take_free(&h->pages, start, (end - start) >> GM_PAGE_SHIFT);
	h->lost_pages += taken;
	gm_mutex_unlock(&h->lock);
	return taken;
}

/**
 * gm_heap_scavenged_bytes() - bytes gm_heap_scavenge() gave back, ever
 * @h: the heap
 *
 * Return: the count, read without the heap lock.
 */
u64 gm_heap_scavenged_bytes(struct gm_heap *h)
{
	return READ_ONCE(h->scavenged_bytes);
}
