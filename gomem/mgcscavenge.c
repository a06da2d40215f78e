// SPDX-License-Identifier: GPL-2.0
/*
 * Giving free memory back to the system, after Go's mgcscavenge.go: the
 * synchronous half (debug.FreeOSMemory). Free pages are marked scavenged
 * in the page allocator and the page source releases their memory; they
 * count as HeapReleased until a span uses them again.
 *
 * Also the heap's answer to memory that vanished under it: a range the
 * program unmapped by hand is taken out of use for good.
 */
#include "malloc.h"

struct scavenge_ctx {
	struct gm_heap *h;
	u64 pages;
};

static void release_run(void *arg, uintptr_t addr, size_t npages)
{
	struct scavenge_ctx *sc = arg;

	sc->h->src->unused(sc->h->src_ctx, addr, npages * GM_PAGE_SIZE);
	sc->pages += npages;
}

/**
 * gm_heap_scavenge() - give a heap's free pages back (debug.FreeOSMemory)
 * @h: the heap; its per-CPU caches should be flushed first by a caller
 *	that wants their pages released too (gm_heap_flush_caches())
 * @max_bytes: at most this much, rounded up to pages; 0 for all
 *
 * Only page sources that can release part of a block (@unused) take part;
 * for the others nothing happens. Takes the heap lock; may sleep.
 *
 * Return: the bytes released.
 */
u64 gm_heap_scavenge(struct gm_heap *h, u64 max_bytes)
{
	struct scavenge_ctx sc = { .h = h };
	size_t max_pages = SIZE_MAX;

	gm_might_sleep();
	if (!h->src->unused)
		return 0;
	if (max_bytes)
		max_pages = (max_bytes + GM_PAGE_SIZE - 1) >> GM_PAGE_SHIFT;
	gm_mutex_lock(&h->lock);
	gm_pagealloc_scavenge(&h->pages, max_pages, release_run, &sc);
	h->scavenged_bytes += sc.pages * GM_PAGE_SIZE;
	gm_mutex_unlock(&h->lock);
	return sc.pages * GM_PAGE_SIZE;
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
