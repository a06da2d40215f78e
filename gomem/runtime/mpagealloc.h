/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomem's page allocator, after Go's mpagealloc.go and mpagecache.go: an
 * address-ordered first-fit allocator of 8 KiB pages over a 48-bit window
 * of addresses, with a bitmap per 4 MiB chunk and a radix tree of free-run
 * summaries above the chunks, plus per-CPU caches of 64-page windows.
 *
 * It never touches the memory it manages, only its own metadata.
 *
 * Unlike Go, whose heap grows by whole chunks, memory may arrive in blocks
 * smaller than a chunk (the kernel hands out 8 KiB .. 4 MiB blocks), and
 * blocks may be given back. A chunk therefore starts with all its pages
 * "absent", which the bitmaps and summaries record exactly as "in use";
 * gm_pagealloc_grow() makes a range free, gm_pagealloc_remove() takes a
 * free range away again.
 *
 * Locking: everything but gm_pagecache_alloc() needs the heap lock given
 * to gm_pagealloc_init(). A page cache belongs to one CPU; only moving
 * pages between it and the allocator takes the lock.
 */
#ifndef _GOMEM_MPAGEALLOC_H
#define _GOMEM_MPAGEALLOC_H

#include "mpallocbits.h"

/* Chunk numbers have 26 bits, split in two as Go's chunks[L1][L2]. */
#define GM_CHUNK_INDEX_BITS	(GM_ADDR_BITS - GM_CHUNK_SHIFT)
#define GM_CHUNK_L1_BITS	13
#define GM_CHUNK_L2_BITS	(GM_CHUNK_INDEX_BITS - GM_CHUNK_L1_BITS)

/*
 * Summary levels are sparse: blocks of 512 summaries (4 KiB), found
 * through a directory of 512 block pointers (4 KiB), found through a small
 * top array per level.
 */
#define GM_SUM_BLOCK_SHIFT	9
#define GM_SUM_BLOCK_ENTRIES	(1U << GM_SUM_BLOCK_SHIFT)
#define GM_SUM_DIR_SHIFT	9
#define GM_SUM_DIR_ENTRIES	(1U << GM_SUM_DIR_SHIFT)

/* Search hint meaning "no free page anywhere". */
#define GM_PAGEALLOC_NO_SEARCH	(~0ULL)

/**
 * struct gm_chunk_l2 - second level of the chunk index
 * @data: per-chunk bitmaps, allocated when a chunk is first grown into
 */
struct gm_chunk_l2 {
	struct gm_palloc_data *data[1U << GM_CHUNK_L2_BITS];
};

/**
 * struct gm_sum_block - 512 consecutive summaries of one level
 * @sum: packed summaries; a block reads as zeros (no free page) until
 *	memory under it is grown
 */
struct gm_sum_block {
	u64 sum[GM_SUM_BLOCK_ENTRIES];
};

/**
 * struct gm_sum_dir - 512 consecutive block pointers of one level
 * @blk: NULL where nothing under the block was ever grown
 */
struct gm_sum_dir {
	struct gm_sum_block *blk[GM_SUM_DIR_ENTRIES];
};

/**
 * struct gm_sum_level - one level of the summary radix tree
 * @top: directories, @ntop of them, allocated at init
 * @ntop: enough directories to cover the level's 2^(14 + 3 * level) entries
 */
struct gm_sum_level {
	struct gm_sum_dir **top;
	unsigned int ntop;
};

/**
 * struct gm_pagealloc - the page allocator of one heap (Go's pageAlloc)
 * @lock: the heap's lock, held around every call but destroy
 * @chunks: chunk index, GM_CHUNK_L1_BITS wide, second levels on demand
 * @sum: summary levels, root (0) to leaves (GM_SUM_LEAF, one per chunk)
 * @addr_base: what heap addresses have above their low 48 bits
 * @have_base: @addr_base is set (at the first successful grow)
 * @start: lowest chunk number ever grown into
 * @end: one past the highest; @start == @end before the first grow
 * @search: page number below which no page is free, or
 *	GM_PAGEALLOC_NO_SEARCH (Go's searchAddr)
 * @free_pages: free pages, page caches excluded
 * @scav_pages: free pages whose memory is released
 * @present_pages: pages grown and not removed
 * @meta_bytes: bytes of the chunk index, bitmaps and summaries (GCSys,
 *	as Go counts its page allocator's); only destroy frees them
 */
struct gm_pagealloc {
	struct gm_mutex *lock;
	struct gm_chunk_l2 **chunks;
	struct gm_sum_level sum[GM_SUM_LEVELS];
	uintptr_t addr_base;
	bool have_base;
	u64 start;
	u64 end;
	u64 search;
	size_t free_pages;
	size_t scav_pages;
	size_t present_pages;
	u64 meta_bytes;
};

/**
 * struct gm_pagecache - a CPU's private window of 64 pages (Go's pageCache)
 * @base: address of the window, 64-page aligned; 0 when empty
 * @cache: bit i set if page i of the window is free for this CPU
 * @scav: bit i set if that free page is also scavenged
 */
struct gm_pagecache {
	uintptr_t base;
	u64 cache;
	u64 scav;
};

#define GM_PAGECACHE_PAGES	64

int gm_pagealloc_init(struct gm_pagealloc *pa, struct gm_mutex *lock);
void gm_pagealloc_destroy(struct gm_pagealloc *pa);
int gm_pagealloc_grow(struct gm_pagealloc *pa, uintptr_t base, size_t npages,
		      bool scavenged);
int gm_pagealloc_remove(struct gm_pagealloc *pa, uintptr_t base,
			size_t npages);
uintptr_t gm_pagealloc_alloc(struct gm_pagealloc *pa, size_t npages,
			     size_t *scav);
void gm_pagealloc_free(struct gm_pagealloc *pa, uintptr_t base,
		       size_t npages);
bool gm_pagealloc_range_free(struct gm_pagealloc *pa, uintptr_t base,
			     size_t npages);
bool gm_pagealloc_range_used(struct gm_pagealloc *pa, uintptr_t base,
			     size_t npages);
/*
 * The most pages one call of a gm_scavenge_fn gives back (16 MiB): runs
 * are released whole, but a page source may hold a lock that stalls the
 * program's page faults while it releases one.
 */
#define GM_SCAVENGE_RUN_PAGES	(16UL << (20 - GM_PAGE_SHIFT))
/* Gives back the memory of @npages pages at @addr (Go's sysUnused). */
typedef void (*gm_scavenge_fn)(void *ctx, uintptr_t addr, size_t npages);
size_t gm_pagealloc_scavenge(struct gm_pagealloc *pa, size_t max_pages,
			     gm_scavenge_fn fn, void *ctx);
size_t gm_pagealloc_take_free(struct gm_pagealloc *pa, uintptr_t base,
			      size_t npages);
size_t gm_pagealloc_free_pages(struct gm_pagealloc *pa);
size_t gm_pagealloc_scav_pages(struct gm_pagealloc *pa);
size_t gm_pagealloc_present_pages(struct gm_pagealloc *pa);
bool gm_pagealloc_check(struct gm_pagealloc *pa);

uintptr_t gm_pagecache_alloc(struct gm_pagecache *c, size_t npages,
			     size_t *scav);
int gm_pagealloc_fill_cache(struct gm_pagealloc *pa, struct gm_pagecache *c);
void gm_pagecache_flush(struct gm_pagecache *c, struct gm_pagealloc *pa);

/* For mpagecache.c: the allocator's internals that a page cache needs. */
struct gm_palloc_data *gm_pagealloc_chunk(struct gm_pagealloc *pa, u64 ci);
void gm_pagealloc_update(struct gm_pagealloc *pa, u64 pg, size_t npages);
u64 gm_pagealloc_find_first_free(struct gm_pagealloc *pa);

/**
 * gm_pagealloc_page_addr() - address of a page number
 * @pa: the page allocator
 * @pg: page number in the 48-bit window
 *
 * Return: the heap address of the page's first byte.
 */
static inline uintptr_t gm_pagealloc_page_addr(const struct gm_pagealloc *pa,
					       u64 pg)
{
	return pa->addr_base + (uintptr_t)(pg << GM_PAGE_SHIFT);
}

/**
 * gm_pagealloc_addr_page() - page number of a heap address
 * @pa: the page allocator
 * @addr: an address inside the 48-bit window of @pa
 *
 * Return: the number of the page holding @addr.
 */
static inline u64 gm_pagealloc_addr_page(const struct gm_pagealloc *pa,
					 uintptr_t addr)
{
	return (u64)(addr - pa->addr_base) >> GM_PAGE_SHIFT;
}

/**
 * gm_pagecache_empty() - whether a page cache has no free page left
 * @c: the cache
 *
 * Return: true if gm_pagecache_alloc() would fail for any size.
 */
static inline bool gm_pagecache_empty(const struct gm_pagecache *c)
{
	return !c->cache;
}

#endif /* _GOMEM_MPAGEALLOC_H */
