// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU page caches, after Go's mpagecache.go.
 *
 * A cache owns one 64-page aligned window of a chunk: the pages of the
 * window that were free when it was filled, recorded in a 64-bit mask.
 * Small page allocations are then one count-trailing-zeros (or a short
 * scan of the mask) on the CPU's own cache, without the heap lock. For
 * the page allocator those pages are in use until the cache is flushed.
 */

#include "mpagealloc.h"

/* Bits [i, i + n) of a word; n from 1 to 64. */
static u64 run_mask(unsigned int i, unsigned int n)
{
	return (n == 64 ? ~0ULL : (1ULL << n) - 1) << i;
}

/**
 * gm_pagecache_alloc() - allocate pages from a CPU's page cache
 * @c: the cache, used by its CPU only (no lock needed)
 * @npages: number of pages, 1 to GM_PAGECACHE_PAGES
 * @scav: if not NULL, set to how many of the pages were scavenged
 *
 * First fit in the window, like the page allocator.
 *
 * Return: the address of the first page, or 0 if no run fits.
 */
uintptr_t gm_pagecache_alloc(struct gm_pagecache *c, size_t npages,
			     size_t *scav)
{
	unsigned int i;
	u64 mask;

	if (scav)
		*scav = 0;
	if (!c->cache || !npages || npages > GM_PAGECACHE_PAGES)
		return 0;
	if (npages == 1)
		i = gm_ctz64(c->cache);
	else
		i = gm_find_bit_range64(c->cache, npages);
	if (i >= GM_PAGECACHE_PAGES)
		return 0;
	mask = run_mask(i, npages);
	if (scav)
		*scav = gm_popcount64(c->scav & mask);
	c->cache &= ~mask;
	c->scav &= ~mask;
	return c->base + i * GM_PAGE_SIZE;
}

/**
 * gm_pagecache_flush() - give a cache's free pages back to the allocator
 * @c: the cache; empty afterwards
 * @pa: the page allocator it was filled from
 *
 * The pages keep their scavenged state.
 */
void gm_pagecache_flush(struct gm_pagecache *c, struct gm_pagealloc *pa)
{
	struct gm_palloc_data *d;
	unsigned int w;
	u64 pg;

	gm_mutex_assert_held(pa->lock);
	if (!c->cache)
		goto out;
	pg = gm_pagealloc_addr_page(pa, c->base);
	d = gm_pagealloc_chunk(pa, pg / GM_CHUNK_PAGES);
	w = (pg % GM_CHUNK_PAGES) / 64;
	/* The cache's pages must still be in use for the allocator. */
	if (GM_WARN_ON_ONCE(!d || (d->alloc.w[w] & c->cache) != c->cache))
		goto out;
	d->alloc.w[w] &= ~c->cache;
	d->scav.w[w] |= c->scav & c->cache;
	pa->free_pages += gm_popcount64(c->cache);
	pa->scav_pages += gm_popcount64(c->scav & c->cache);
	/* A free below the search hint: move the hint down, as free does. */
	if (pg < pa->search)
		pa->search = pg;
	gm_pagealloc_update(pa, pg, GM_PAGECACHE_PAGES);
out:
	c->base = 0;
	c->cache = 0;
	c->scav = 0;
}

/**
 * gm_pagealloc_fill_cache() - give a CPU's cache a window of free pages
 * @pa: the page allocator
 * @c: the cache; whatever it still holds is flushed first
 *
 * Takes the 64-page aligned window around the lowest free page and moves
 * all free pages of that window into the cache (Go's allocToCache).
 *
 * Return: 0, or -ENOMEM if the allocator has no free page.
 */
int gm_pagealloc_fill_cache(struct gm_pagealloc *pa, struct gm_pagecache *c)
{
	struct gm_palloc_data *d;
	unsigned int w;
	u64 pg;

	gm_mutex_assert_held(pa->lock);
	gm_pagecache_flush(c, pa);
	pg = gm_pagealloc_find_first_free(pa);
	if (pg == GM_PAGEALLOC_NO_SEARCH) {
		pa->search = GM_PAGEALLOC_NO_SEARCH;
		return -ENOMEM;
	}
	pg &= ~(u64)(GM_PAGECACHE_PAGES - 1);
	d = gm_pagealloc_chunk(pa, pg / GM_CHUNK_PAGES);
	w = (pg % GM_CHUNK_PAGES) / 64;
	c->base = gm_pagealloc_page_addr(pa, pg);
	c->cache = ~d->alloc.w[w];
	c->scav = d->scav.w[w] & c->cache;
	d->alloc.w[w] = ~0ULL;
	d->scav.w[w] &= ~c->cache;
	pa->free_pages -= gm_popcount64(c->cache);
	pa->scav_pages -= gm_popcount64(c->scav);
	gm_pagealloc_update(pa, pg, GM_PAGECACHE_PAGES);
	/* Every page up to the end of the window is now in use. */
	pa->search = pg + GM_PAGECACHE_PAGES;
	return 0;
}
