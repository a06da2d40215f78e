// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for gomem's page allocator and page caches (mpagealloc.c,
 * mpagecache.c): first fit across chunks and up the summary tree, partly
 * present chunks, grow and remove, scavenged accounting, the 64-page
 * caches, refused ranges, and random sequences against a page-by-page
 * model, with the allocator's own self-check after every step.
 *
 * The allocator never touches the memory it manages, so the addresses are
 * made up: a user heap's (0xc000000000) and the kernel direct map's.
 */

#include <kunit/test.h>

#include "../mpagealloc.h"

/* === fixture ============================================================ */

struct fixture {
	struct gm_mutex lock;
	struct gm_pagealloc pa;
	uintptr_t base;
};

struct heap_base {
	const char *name;
	uintptr_t base;
};

static const struct heap_base heap_bases[] = {
	{ "user", 0xc000000000UL },
	{ "kernel", 0xffff888000000000UL },
};

static void heap_base_desc(const struct heap_base *b, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", b->name);
}
KUNIT_ARRAY_PARAM(heap_base, heap_bases, heap_base_desc);

/*
 * Returns with the lock held. Cases only use EXPECT after this, so that
 * they always reach teardown(): the lock is released, metadata freed.
 */
static struct fixture *setup(struct kunit *test)
{
	const struct heap_base *hb = test->param_value;
	struct fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->base = hb ? hb->base : heap_bases[0].base;
	gm_mutex_init(&f->lock);
	KUNIT_ASSERT_EQ(test, gm_pagealloc_init(&f->pa, &f->lock), 0);
	gm_mutex_lock(&f->lock);
	return f;
}

static void teardown(struct fixture *f)
{
	gm_mutex_unlock(&f->lock);
	gm_pagealloc_destroy(&f->pa);
	gm_mutex_destroy(&f->lock);
}

/* Address of page @pg counted from the fixture's base. */
static uintptr_t pg_addr(struct fixture *f, u64 pg)
{
	return f->base + (uintptr_t)pg * GM_PAGE_SIZE;
}

static int grow(struct fixture *f, u64 pg, size_t npages, bool scav)
{
	return gm_pagealloc_grow(&f->pa, pg_addr(f, pg), npages, scav);
}

/* The page number an allocation returned, or -1 for 0 (failure). */
static long alloc_pg(struct fixture *f, size_t npages, size_t *scav)
{
	uintptr_t a = gm_pagealloc_alloc(&f->pa, npages, scav);

	return a ? (long)((a - f->base) / GM_PAGE_SIZE) : -1;
}

static void free_pg(struct fixture *f, u64 pg, size_t npages)
{
	gm_pagealloc_free(&f->pa, pg_addr(f, pg), npages);
}

/* === basic allocation =================================================== */

static void empty_allocator(struct kunit *test)
{
	struct fixture *f = setup(test);
	size_t scav = 99;

	KUNIT_EXPECT_EQ(test, gm_pagealloc_alloc(&f->pa, 1, &scav), 0);
	KUNIT_EXPECT_EQ(test, scav, 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), 0);
	KUNIT_EXPECT_FALSE(test, gm_pagealloc_range_free(&f->pa, f->base, 1));
	KUNIT_EXPECT_EQ(test, gm_pagealloc_remove(&f->pa, f->base, 1), -EINVAL);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	teardown(f);
}

static void one_chunk(struct kunit *test)
{
	struct fixture *f = setup(test);

	KUNIT_EXPECT_EQ(test, grow(f, 0, GM_CHUNK_PAGES, false), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), GM_CHUNK_PAGES);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_present_pages(&f->pa),
			GM_CHUNK_PAGES);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 0, NULL), -1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 2, NULL), 1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 510, NULL), -1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 509, NULL), 3);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), -1);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), 0);
	free_pg(f, 1, 2);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_range_free(&f->pa, pg_addr(f, 1),
							2));
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_range_used(&f->pa, pg_addr(f, 3),
							509));
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 3, NULL), -1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 2, NULL), 1);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	teardown(f);
}

/*
 * Single pages until full, then every other page freed: the free space is
 * all holes of one page.
 */
static void fragmentation(struct kunit *test)
{
	const unsigned int n = 2 * GM_CHUNK_PAGES;
	struct fixture *f = setup(test);
	unsigned int i, bad = 0;

	KUNIT_EXPECT_EQ(test, grow(f, 0, n, false), 0);
	for (i = 0; i < n; i++)
		bad += alloc_pg(f, 1, NULL) != i;
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), -1);
	for (i = 1; i < n; i += 2)
		free_pg(f, i, 1);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), n / 2);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 2, NULL), -1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), 1);
	/* Freeing page 2 joins it with free page 3. */
	free_pg(f, 2, 1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 3, NULL), -1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 2, NULL), 2);
	/* Across the chunk boundary: pages 511 and 512. */
	free_pg(f, 512, 1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 2, NULL), 511);
	/* A free far below the search hint is found again. */
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), 5);
	free_pg(f, 0, 1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), 0);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	teardown(f);
}

/* === runs across chunks and up the tree ================================= */

/* Three chunks grown one by one, as 4 MiB blocks arrive in the kernel. */
static void cross_chunk_runs(struct kunit *test)
{
	struct fixture *f = setup(test);
	unsigned int c;

	for (c = 0; c < 3; c++)
		KUNIT_EXPECT_EQ(test, grow(f, c * GM_CHUNK_PAGES,
					   GM_CHUNK_PAGES, false), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 500, NULL), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 100, NULL), 500);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 937, NULL), -1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 936, NULL), 600);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	free_pg(f, 0, 500);
	free_pg(f, 600, 936);
	free_pg(f, 500, 100);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1537, NULL), -1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1536, NULL), 0);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	teardown(f);
}

/* 16 chunks (64 MiB): runs that span several level-3 entries. */
static void many_chunks(struct kunit *test)
{
	const unsigned int n = 16 * GM_CHUNK_PAGES;
	struct fixture *f = setup(test);

	KUNIT_EXPECT_EQ(test, grow(f, 0, n, false), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, n, NULL), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), 0);
	free_pg(f, 0, n);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, n - 1, NULL), 1);
	free_pg(f, 1000, 5000);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 5001, NULL), -1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 4000, NULL), 1000);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1000, NULL), 5000);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	teardown(f);
}

/*
 * Two chunks on either side of a 16 GiB boundary, where the root entries
 * change: the run straddles two root summaries.
 */
static void run_across_root_entries(struct kunit *test)
{
	const u64 root = 1ULL << GM_SUM_LOG_MAX;
	struct fixture *f = setup(test);

	KUNIT_EXPECT_EQ(test, grow(f, root - GM_CHUNK_PAGES,
				   2 * GM_CHUNK_PAGES, false), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 2 * GM_CHUNK_PAGES + 1, NULL), -1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 600, NULL),
			(long)(root - GM_CHUNK_PAGES));
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 424, NULL), (long)(root + 88));
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	/* A lower grow in another root entry moves first fit there. */
	KUNIT_EXPECT_EQ(test, grow(f, 8, 8, false), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 8, NULL), 8);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	teardown(f);
}

/* === partly present chunks, grow and remove ============================= */

/* 64 pages in the middle of a chunk; the rest of the chunk is absent. */
static void partly_present_chunk(struct kunit *test)
{
	struct fixture *f = setup(test);
	size_t scav;

	KUNIT_EXPECT_EQ(test, grow(f, 200, 64, false), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_present_pages(&f->pa), 64);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 65, NULL), -1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), 200);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 63, NULL), 201);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), -1);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_remove(&f->pa, pg_addr(f, 200), 64),
			-EINVAL);
	free_pg(f, 200, 1);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_remove(&f->pa, pg_addr(f, 200), 1), 0);
	KUNIT_EXPECT_FALSE(test, gm_pagealloc_range_free(&f->pa, pg_addr(f, 200),
							 1));
	KUNIT_EXPECT_EQ(test, gm_pagealloc_present_pages(&f->pa), 63);
	free_pg(f, 201, 63);
	/* Pages 192..199 were never there. */
	KUNIT_EXPECT_EQ(test, gm_pagealloc_remove(&f->pa, pg_addr(f, 192), 16),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_remove(&f->pa, pg_addr(f, 201), 63), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_present_pages(&f->pa), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), -1);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	/* The same block comes back, released this time. */
	KUNIT_EXPECT_EQ(test, grow(f, 200, 64, true), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 64, &scav), 200);
	KUNIT_EXPECT_EQ(test, scav, 64);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	teardown(f);
}

/* Blocks of 8 KiB .. 4 MiB, as the kernel's buddy allocator gives them. */
static void buddy_blocks(struct kunit *test)
{
	struct fixture *f = setup(test);

	KUNIT_EXPECT_EQ(test, grow(f, 0, 8, false), 0);
	KUNIT_EXPECT_EQ(test, grow(f, 16, 8, false), 0);
	KUNIT_EXPECT_EQ(test, grow(f, 32, 1, false), 0);
	KUNIT_EXPECT_EQ(test, grow(f, 3 * GM_CHUNK_PAGES, GM_CHUNK_PAGES,
				   false), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 9, NULL), 3 * GM_CHUNK_PAGES);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 8, NULL), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 2, NULL), 16);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), 18);
	/* The block between two others makes one run of three blocks. */
	free_pg(f, 0, 8);
	KUNIT_EXPECT_EQ(test, grow(f, 8, 8, false), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 16, NULL), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), 19);
	/* A chunk next to a present one joins it. */
	free_pg(f, 3 * GM_CHUNK_PAGES, 9);
	KUNIT_EXPECT_EQ(test, grow(f, 2 * GM_CHUNK_PAGES, GM_CHUNK_PAGES,
				   false), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 900, NULL), 2 * GM_CHUNK_PAGES);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	teardown(f);
}

/* A remove across a chunk boundary, then the memory comes back. */
static void remove_across_chunks(struct kunit *test)
{
	struct fixture *f = setup(test);

	KUNIT_EXPECT_EQ(test, grow(f, 0, 2 * GM_CHUNK_PAGES, false), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_remove(&f->pa, pg_addr(f, 256),
						  GM_CHUNK_PAGES), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), GM_CHUNK_PAGES);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 257, NULL), -1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 256, NULL), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 256, NULL), 768);
	KUNIT_EXPECT_EQ(test, grow(f, 256, GM_CHUNK_PAGES, false), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, GM_CHUNK_PAGES, NULL), 256);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	teardown(f);
}

/* Bad ranges are refused and leave the allocator as it was. */
static void refuses_bad_ranges(struct kunit *test)
{
	const uintptr_t other = 0xffff888000000000UL;
	struct fixture *f = setup(test);
	struct gm_pagealloc *pa = &f->pa;

	KUNIT_EXPECT_EQ(test, gm_pagealloc_grow(pa, 0, 1, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, grow(f, 0, GM_CHUNK_PAGES, false), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_grow(pa, other, 1, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_grow(pa, f->base + GM_CHUNK_BYTES + 1,
						1, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, grow(f, GM_CHUNK_PAGES, 0, false), -EINVAL);
	/* Overlaps present memory. */
	KUNIT_EXPECT_EQ(test, grow(f, GM_CHUNK_PAGES - 1, 2, false), -EINVAL);
	/* Runs off the end of the 48-bit window. */
	KUNIT_EXPECT_EQ(test, gm_pagealloc_grow(pa, (1UL << GM_ADDR_BITS) -
						GM_PAGE_SIZE, 2, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_grow(pa, (1UL << GM_ADDR_BITS) -
						GM_PAGE_SIZE, 1, false), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_remove(pa, other, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_remove(pa, f->base + 1, 1), -EINVAL);
	KUNIT_EXPECT_FALSE(test, gm_pagealloc_range_free(pa, other, 1));
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(pa), GM_CHUNK_PAGES + 1);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, GM_CHUNK_PAGES, NULL), 0);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(pa));
	teardown(f);
}

/* === scavenged pages ==================================================== */

static void scavenged_accounting(struct kunit *test)
{
	struct fixture *f = setup(test);
	size_t scav;

	KUNIT_EXPECT_EQ(test, grow(f, 0, GM_CHUNK_PAGES, true), 0);
	KUNIT_EXPECT_EQ(test, grow(f, GM_CHUNK_PAGES, GM_CHUNK_PAGES, false), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_scav_pages(&f->pa), GM_CHUNK_PAGES);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 10, &scav), 0);
	KUNIT_EXPECT_EQ(test, scav, 10);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 600, &scav), 10);
	KUNIT_EXPECT_EQ(test, scav, GM_CHUNK_PAGES - 10);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_scav_pages(&f->pa), 0);
	/* Freed pages are backed: not scavenged any more. */
	free_pg(f, 0, 610);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_scav_pages(&f->pa), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 5, &scav), 0);
	KUNIT_EXPECT_EQ(test, scav, 0);
	/* Removing scavenged pages takes them out of the count. */
	KUNIT_EXPECT_EQ(test, grow(f, 4 * GM_CHUNK_PAGES, 64, true), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_remove(&f->pa,
						  pg_addr(f, 4 * GM_CHUNK_PAGES),
						  16), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_scav_pages(&f->pa), 48);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	teardown(f);
}

/* === page caches ======================================================== */

static void pagecache_alloc_flush(struct kunit *test)
{
	struct fixture *f = setup(test);
	struct gm_pagecache c = { 0 };
	size_t scav;

	KUNIT_EXPECT_EQ(test, grow(f, 0, GM_CHUNK_PAGES, true), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 3, NULL), 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_fill_cache(&f->pa, &c), 0);
	KUNIT_EXPECT_EQ(test, c.base, f->base);
	KUNIT_EXPECT_EQ(test, c.cache, ~7ULL);
	KUNIT_EXPECT_EQ(test, c.scav, ~7ULL);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), 448);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	/* The window belongs to the cache now. */
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 1, NULL), 64);
	KUNIT_EXPECT_EQ(test, gm_pagecache_alloc(&c, 1, &scav), pg_addr(f, 3));
	KUNIT_EXPECT_EQ(test, scav, 1);
	KUNIT_EXPECT_EQ(test, gm_pagecache_alloc(&c, 5, &scav), pg_addr(f, 4));
	KUNIT_EXPECT_EQ(test, scav, 5);
	KUNIT_EXPECT_EQ(test, gm_pagecache_alloc(&c, 56, &scav), 0);
	/* A page of the window freed to the allocator while cached. */
	free_pg(f, 0, 1);
	gm_pagecache_flush(&c, &f->pa);
	KUNIT_EXPECT_TRUE(test, gm_pagecache_empty(&c));
	KUNIT_EXPECT_EQ(test, c.base, 0);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), 503);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_scav_pages(&f->pa), 502);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_range_free(&f->pa, pg_addr(f, 9),
							55));
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_range_used(&f->pa, pg_addr(f, 1),
							8));
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	/* Flushing an empty cache does nothing. */
	gm_pagecache_flush(&c, &f->pa);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), 503);
	teardown(f);
}

static void pagecache_windows(struct kunit *test)
{
	struct fixture *f = setup(test);
	struct gm_pagecache a = { 0 }, b = { 0 };

	KUNIT_EXPECT_EQ(test, gm_pagealloc_fill_cache(&f->pa, &a), -ENOMEM);
	KUNIT_EXPECT_EQ(test, grow(f, 0, 128, false), 0);
	KUNIT_EXPECT_EQ(test, alloc_pg(f, 70, NULL), 0);
	free_pg(f, 10, 10);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_fill_cache(&f->pa, &a), 0);
	KUNIT_EXPECT_EQ(test, a.base, f->base);
	KUNIT_EXPECT_EQ(test, a.cache, 0x3ffULL << 10);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_fill_cache(&f->pa, &b), 0);
	KUNIT_EXPECT_EQ(test, b.base, pg_addr(f, 64));
	KUNIT_EXPECT_EQ(test, b.cache, ~0ULL << 6);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), 0);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	/* All 58 free pages of a window in one run. */
	KUNIT_EXPECT_EQ(test, gm_pagecache_alloc(&b, 58, NULL), pg_addr(f, 70));
	/* Refilling flushes what was left first. */
	KUNIT_EXPECT_EQ(test, gm_pagecache_alloc(&a, 4, NULL), pg_addr(f, 10));
	KUNIT_EXPECT_EQ(test, gm_pagealloc_fill_cache(&f->pa, &a), 0);
	KUNIT_EXPECT_EQ(test, a.cache, 0x3fULL << 14);
	/* The flushed pages lie below the search hint: it must move. */
	gm_pagecache_flush(&a, &f->pa);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	gm_pagecache_flush(&b, &f->pa);
	free_pg(f, 0, 10);
	free_pg(f, 10, 4);
	free_pg(f, 20, 108);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa), 128);
	KUNIT_EXPECT_EQ(test, gm_pagealloc_fill_cache(&f->pa, &a), 0);
	/* A whole free window serves a 64-page request. */
	KUNIT_EXPECT_EQ(test, gm_pagecache_alloc(&a, 64, NULL), f->base);
	KUNIT_EXPECT_TRUE(test, gm_pagecache_empty(&a));
	KUNIT_EXPECT_EQ(test, gm_pagecache_alloc(&a, 1, NULL), 0);
	KUNIT_EXPECT_TRUE(test, gm_pagealloc_check(&f->pa));
	teardown(f);
}

/* === random operations against a model ================================= */

/*
 * Eight chunks: 0-5 present (grown in two pieces), 6 absent, 7 with two
 * blocks. The model keeps one byte per page; pages held by the one page
 * cache of the test are M_CACHED.
 */
#define MODEL_PAGES	(8 * GM_CHUNK_PAGES)
#define MODEL_STEPS	600
#define MAX_LIVE	256

enum { M_ABSENT, M_FREE, M_USED, M_CACHED };

struct model {
	u8 state[MODEL_PAGES];
	bool scav[MODEL_PAGES];
	struct live_run {
		u32 pg, n;
	} live[MAX_LIVE];
	unsigned int nlive;
	struct gm_pagecache pc;
	u64 seed;
};

static u64 rnd(struct model *m)
{
	m->seed ^= m->seed << 13;
	m->seed ^= m->seed >> 7;
	m->seed ^= m->seed << 17;
	return m->seed;
}

static size_t model_count(struct model *m, u8 state, bool scav_only)
{
	size_t i, n = 0;

	for (i = 0; i < MODEL_PAGES; i++)
		n += m->state[i] == state && (!scav_only || m->scav[i]);
	return n;
}

static long model_first_fit(struct model *m, size_t npages)
{
	size_t i, run = 0;

	for (i = 0; i < MODEL_PAGES; i++) {
		run = m->state[i] == M_FREE ? run + 1 : 0;
		if (run == npages)
			return i + 1 - npages;
	}
	return -1;
}

static void model_set(struct model *m, u64 pg, size_t n, u8 state,
		      bool scav)
{
	size_t i;

	for (i = pg; i < pg + n; i++) {
		m->state[i] = state;
		m->scav[i] = scav;
	}
}

static size_t random_size(struct model *m)
{
	unsigned int r = rnd(m) % 20;

	if (r < 9)
		return 1 + rnd(m) % 8;
	if (r < 15)
		return 9 + rnd(m) % 56;
	if (r < 18)
		return 65 + rnd(m) % 448;
	return 513 + rnd(m) % 988;
}

/* A run now owned by the test, to be freed later. */
static void model_live(struct model *m, u64 pg, size_t n)
{
	model_set(m, pg, n, M_USED, false);
	m->live[m->nlive].pg = pg;
	m->live[m->nlive++].n = n;
}

static bool step_alloc(struct kunit *test, struct fixture *f,
		       struct model *m)
{
	size_t n = random_size(m), scav = 0, want_scav = 0, i;
	long want = model_first_fit(m, n);
	long got = alloc_pg(f, n, &scav);

	KUNIT_EXPECT_EQ_MSG(test, got, want, "alloc %zu", n);
	if (got != want)
		return false;
	if (got < 0)
		return true;
	for (i = got; i < got + n; i++)
		want_scav += m->scav[i];
	KUNIT_EXPECT_EQ_MSG(test, scav, want_scav, "alloc %zu", n);
	model_live(m, got, n);
	return scav == want_scav;
}

static void step_free(struct fixture *f, struct model *m)
{
	unsigned int k = rnd(m) % m->nlive;

	free_pg(f, m->live[k].pg, m->live[k].n);
	model_set(m, m->live[k].pg, m->live[k].n, M_FREE, false);
	m->live[k] = m->live[--m->nlive];
}

/* Remove or grow back a 16-page aligned block, as a heap would. */
static bool step_block(struct kunit *test, struct fixture *f,
		       struct model *m)
{
	u64 pg = (rnd(m) % (MODEL_PAGES / 16)) * 16;
	size_t i, nfree = 0, nabsent = 0;
	bool scav = rnd(m) & 1;
	int want, got;

	for (i = pg; i < pg + 16; i++) {
		nfree += m->state[i] == M_FREE;
		nabsent += m->state[i] == M_ABSENT;
	}
	if (nabsent == 16) {
		got = grow(f, pg, 16, scav);
		want = 0;
		model_set(m, pg, 16, M_FREE, scav);
	} else {
		got = gm_pagealloc_remove(&f->pa, pg_addr(f, pg), 16);
		want = nfree == 16 ? 0 : -EINVAL;
		if (!want)
			model_set(m, pg, 16, M_ABSENT, false);
	}
	KUNIT_EXPECT_EQ_MSG(test, got, want, "block at page %u", (u32)pg);
	return got == want;
}

/* Fill: the window of the lowest free page, all its free pages. */
static bool step_fill(struct kunit *test, struct fixture *f, struct model *m)
{
	long first = model_first_fit(m, 1);
	u64 pg, want = 0, want_scav = 0;
	int ret = gm_pagealloc_fill_cache(&f->pa, &m->pc);
	unsigned int i;

	KUNIT_EXPECT_EQ(test, ret, first < 0 ? -ENOMEM : 0);
	if (first < 0 || ret)
		return first < 0 && ret == -ENOMEM;
	pg = first & ~63UL;
	for (i = 0; i < 64; i++) {
		if (m->state[pg + i] != M_FREE)
			continue;
		want |= 1ULL << i;
		want_scav |= (u64)m->scav[pg + i] << i;
		m->state[pg + i] = M_CACHED;
	}
	KUNIT_EXPECT_EQ(test, m->pc.base, pg_addr(f, pg));
	KUNIT_EXPECT_EQ(test, m->pc.cache, want);
	KUNIT_EXPECT_EQ(test, m->pc.scav, want_scav);
	return m->pc.base == pg_addr(f, pg) && m->pc.cache == want &&
	       m->pc.scav == want_scav;
}

/* Allocate from the cache (first fit in its window) or flush it. */
static bool step_cache(struct kunit *test, struct fixture *f,
		       struct model *m)
{
	u64 pg = (m->pc.base - f->base) / GM_PAGE_SIZE;
	size_t n = 1 + rnd(m) % 8, scav, want_scav = 0;
	unsigned int i, run = 0;
	long want = -1;
	uintptr_t a;

	if (gm_pagecache_empty(&m->pc))
		return step_fill(test, f, m);
	if (rnd(m) % 4 == 0 || m->nlive == MAX_LIVE) {
		gm_pagecache_flush(&m->pc, &f->pa);
		for (i = 0; i < 64; i++)
			if (m->state[pg + i] == M_CACHED)
				m->state[pg + i] = M_FREE;
		return true;
	}
	for (i = 0; i < 64 && want < 0; i++) {
		run = m->state[pg + i] == M_CACHED ? run + 1 : 0;
		if (run == n)
			want = pg + i + 1 - n;
	}
	a = gm_pagecache_alloc(&m->pc, n, &scav);
	KUNIT_EXPECT_EQ(test, a, want < 0 ? 0 : pg_addr(f, want));
	if (want < 0 || a != pg_addr(f, want))
		return want < 0 && !a;
	for (i = 0; i < n; i++)
		want_scav += m->scav[want + i];
	KUNIT_EXPECT_EQ(test, scav, want_scav);
	model_live(m, want, n);
	return scav == want_scav;
}

static bool model_matches(struct kunit *test, struct fixture *f,
			  struct model *m, bool every_page)
{
	size_t i;

	KUNIT_EXPECT_EQ(test, gm_pagealloc_free_pages(&f->pa),
			model_count(m, M_FREE, false));
	KUNIT_EXPECT_EQ(test, gm_pagealloc_scav_pages(&f->pa),
			model_count(m, M_FREE, true));
	for (i = 0; every_page && i < MODEL_PAGES; i++)
		if (gm_pagealloc_range_free(&f->pa, pg_addr(f, i), 1) !=
		    (m->state[i] == M_FREE)) {
			KUNIT_FAIL(test, "page %zu differs", i);
			return false;
		}
	return gm_pagealloc_free_pages(&f->pa) == model_count(m, M_FREE, false);
}

static void model_grow(struct kunit *test, struct fixture *f,
		       struct model *m, u64 pg, size_t n, bool scav)
{
	KUNIT_EXPECT_EQ(test, grow(f, pg, n, scav), 0);
	model_set(m, pg, n, M_FREE, scav);
}

static void random_vs_model(struct kunit *test)
{
	struct fixture *f = setup(test);
	struct model *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	unsigned int s, r, full;
	bool ok = !!m, checked;

	KUNIT_EXPECT_NOT_NULL(test, m);
	if (ok) {
		m->seed = 0x2545f4914f6cdd1dULL ^ f->base;
		model_grow(test, f, m, 0, 1000, true);
		model_grow(test, f, m, 1000, 6 * GM_CHUNK_PAGES - 1000, false);
		model_grow(test, f, m, 7 * GM_CHUNK_PAGES + 64, 256, true);
		model_grow(test, f, m, 7 * GM_CHUNK_PAGES + 400, 64, false);
	}
	for (s = 0; ok && s < MODEL_STEPS; s++) {
		/* Phases that fill the heap and phases that empty it. */
		r = rnd(m) % 100;
		full = (s / 75) % 2 ? 20 : 70;
		if (r >= 95)
			ok = step_block(test, f, m);
		else if (r >= 88)
			ok = step_cache(test, f, m);
		else if (m->nlive && (r >= full || m->nlive == MAX_LIVE))
			step_free(f, m);
		else
			ok = step_alloc(test, f, m);
		checked = gm_pagealloc_check(&f->pa);
		KUNIT_EXPECT_TRUE_MSG(test, checked, "step %u", s);
		ok = ok && checked && model_matches(test, f, m, s % 64 == 0);
	}
	if (ok)
		model_matches(test, f, m, true);
	teardown(f);
}

static struct kunit_case gomem_mpagealloc_cases[] = {
	KUNIT_CASE(empty_allocator),
	KUNIT_CASE_PARAM(one_chunk, heap_base_gen_params),
	KUNIT_CASE_PARAM(fragmentation, heap_base_gen_params),
	KUNIT_CASE_PARAM(cross_chunk_runs, heap_base_gen_params),
	KUNIT_CASE_PARAM(many_chunks, heap_base_gen_params),
	KUNIT_CASE_PARAM(run_across_root_entries, heap_base_gen_params),
	KUNIT_CASE_PARAM(partly_present_chunk, heap_base_gen_params),
	KUNIT_CASE_PARAM(buddy_blocks, heap_base_gen_params),
	KUNIT_CASE_PARAM(remove_across_chunks, heap_base_gen_params),
	KUNIT_CASE(refuses_bad_ranges),
	KUNIT_CASE_PARAM(scavenged_accounting, heap_base_gen_params),
	KUNIT_CASE_PARAM(pagecache_alloc_flush, heap_base_gen_params),
	KUNIT_CASE_PARAM(pagecache_windows, heap_base_gen_params),
	KUNIT_CASE_PARAM(random_vs_model, heap_base_gen_params),
	{}
};

static struct kunit_suite gomem_mpagealloc_suite = {
	.name = "gomem_mpagealloc",
	.test_cases = gomem_mpagealloc_cases,
};
kunit_test_suite(gomem_mpagealloc_suite);
