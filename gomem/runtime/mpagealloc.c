// SPDX-License-Identifier: GPL-2.0
/*
 * gomem's page allocator, after Go's mpagealloc.go and mpagealloc_64bit.go.
 *
 * Addresses are reduced to page numbers in a 48-bit window: the bits above
 * the window are recorded at the first grow and must be the same for
 * every later range. Chunk numbers (page number / 512) index a two-level
 * sparse array of per-chunk bitmaps. Above the chunks sits an implicit
 * radix tree of packed summaries, five levels of arrays where entry i of
 * level l summarizes entries 8i .. 8i + 7 of level l + 1 and the leaves
 * summarize one chunk each. Allocation is address-ordered first fit: walk
 * the tree from the root, descending into the first entry whose longest
 * run fits, or stopping at the first run that straddles entries.
 *
 * The summary arrays would be huge if flat (2^26 leaves), so they are
 * sparse too: blocks of 512 summaries, allocated when memory under them is
 * first grown, and read as zeros (nothing free) where absent.
 */

#include "mpagealloc.h"

#define ADDR_MASK	(((uintptr_t)1 << GM_ADDR_BITS) - 1)
#define SPACE_PAGES	(1ULL << (GM_ADDR_BITS - GM_PAGE_SHIFT))
#define PAGE_IN_CHUNK	(GM_CHUNK_PAGES - 1)
#define CHUNK_L2_MASK	((1U << GM_CHUNK_L2_BITS) - 1)
#define NO_PAGE		(~0ULL)

/* === lookups ============================================================ */

/* Chunk number >> level_shift(level) is the chunk's entry at that level. */
static unsigned int level_shift(unsigned int level)
{
	return (GM_SUM_LEAF - level) * GM_SUM_LEVEL_BITS;
}

static u64 level_entries(unsigned int level)
{
	return 1ULL << (GM_SUM_L0_BITS + level * GM_SUM_LEVEL_BITS);
}

static struct gm_palloc_data *chunk_of(const struct gm_pagealloc *pa, u64 ci)
{
	struct gm_chunk_l2 *l2 = pa->chunks[ci >> GM_CHUNK_L2_BITS];

	return l2 ? l2->data[ci & CHUNK_L2_MASK] : NULL;
}

/* Where summary @i of @level lives, or NULL if its block is absent. */
static u64 *sum_slot(const struct gm_pagealloc *pa, unsigned int level, u64 i)
{
	u64 b = i >> GM_SUM_BLOCK_SHIFT;
	struct gm_sum_dir *dir = pa->sum[level].top[b >> GM_SUM_DIR_SHIFT];
	struct gm_sum_block *blk;

	if (!dir)
		return NULL;
	blk = dir->blk[b & (GM_SUM_DIR_ENTRIES - 1)];
	return blk ? &blk->sum[i & (GM_SUM_BLOCK_ENTRIES - 1)] : NULL;
}

/* An absent block stands for memory never grown: nothing free there. */
static u64 sum_get(const struct gm_pagealloc *pa, unsigned int level, u64 i)
{
	u64 *slot = sum_slot(pa, level, i);

	return slot ? *slot : 0;
}

/* The summary entry @i of @level should have: its 8 children merged. */
static u64 merge_children(const struct gm_pagealloc *pa, unsigned int level,
			  u64 i)
{
	/* Siblings share a block, so one lookup finds all eight. */
	const u64 *kids = sum_slot(pa, level + 1, i << GM_SUM_LEVEL_BITS);

	if (!kids)
		return 0;
	return gm_sum_merge(kids, 1U << GM_SUM_LEVEL_BITS,
			    gm_sum_log_pages(level + 1));
}

/**
 * gm_pagealloc_chunk() - the bitmaps of a chunk
 * @pa: the page allocator
 * @ci: chunk number in the 48-bit window
 *
 * Return: the chunk's data, or NULL if no memory in it was ever grown.
 */
struct gm_palloc_data *gm_pagealloc_chunk(struct gm_pagealloc *pa, u64 ci)
{
	gm_mutex_assert_held(pa->lock);
	return chunk_of(pa, ci);
}

/* === set-up and teardown ================================================ */

/**
 * gm_pagealloc_init() - set up an empty page allocator
 * @pa: the page allocator
 * @lock: the heap lock, which callers hold around every other call
 *
 * Allocates the fixed part of the metadata: the first level of the chunk
 * index (64 KiB) and the top of each summary level (a few pointers).
 *
 * Return: 0, or -ENOMEM with nothing left allocated.
 */
int gm_pagealloc_init(struct gm_pagealloc *pa, struct gm_mutex *lock)
{
	struct gm_sum_level *lv;
	unsigned int l;
	u64 dirs;

	memset(pa, 0, sizeof(*pa));
	pa->lock = lock;
	pa->search = GM_PAGEALLOC_NO_SEARCH;
	pa->chunks = gm_zalloc(sizeof(*pa->chunks) << GM_CHUNK_L1_BITS);
	if (!pa->chunks)
		goto out_nomem;
	pa->meta_bytes = sizeof(*pa->chunks) << GM_CHUNK_L1_BITS;
	for (l = 0; l < GM_SUM_LEVELS; l++) {
		lv = &pa->sum[l];
		dirs = level_entries(l) >>
		       (GM_SUM_BLOCK_SHIFT + GM_SUM_DIR_SHIFT);
		lv->ntop = dirs ? dirs : 1;
		lv->top = gm_zalloc(sizeof(*lv->top) * lv->ntop);
		if (!lv->top)
			goto out_nomem;
		pa->meta_bytes += sizeof(*lv->top) * lv->ntop;
	}
	return 0;

out_nomem:
	gm_pagealloc_destroy(pa);
	return -ENOMEM;
}

static void free_level(struct gm_sum_level *lv)
{
	unsigned int t, b;

	if (!lv->top)
		return;
	for (t = 0; t < lv->ntop; t++) {
		if (!lv->top[t])
			continue;
		for (b = 0; b < GM_SUM_DIR_ENTRIES; b++)
			gm_free(lv->top[t]->blk[b]);
		gm_free(lv->top[t]);
	}
	gm_free(lv->top);
}

static void free_chunks(struct gm_chunk_l2 **chunks)
{
	unsigned int i, j;

	for (i = 0; i < 1U << GM_CHUNK_L1_BITS; i++) {
		if (!chunks[i])
			continue;
		for (j = 0; j < 1U << GM_CHUNK_L2_BITS; j++)
			gm_free(chunks[i]->data[j]);
		gm_free(chunks[i]);
	}
	gm_free(chunks);
}

/**
 * gm_pagealloc_destroy() - free all the metadata of a page allocator
 * @pa: the page allocator, initialized or after a failed init
 *
 * Does not take the lock: nothing else may use @pa any more. The memory
 * the allocator managed is the caller's to give back.
 */
void gm_pagealloc_destroy(struct gm_pagealloc *pa)
{
	unsigned int l;

	if (pa->chunks)
		free_chunks(pa->chunks);
	for (l = 0; l < GM_SUM_LEVELS; l++)
		free_level(&pa->sum[l]);
	memset(pa, 0, sizeof(*pa));
}

/* === metadata on demand ================================================= */

/* Metadata only grows until destroy; lockless readers use READ_ONCE(). */
static void meta_add(struct gm_pagealloc *pa, size_t bytes)
{
	gm_mutex_assert_held(pa->lock);
	WRITE_ONCE(pa->meta_bytes, pa->meta_bytes + bytes);
}

/* A new chunk has all its pages absent, which reads as "in use". */
static int ensure_chunk(struct gm_pagealloc *pa, u64 ci)
{
	struct gm_chunk_l2 **l2 = &pa->chunks[ci >> GM_CHUNK_L2_BITS];
	struct gm_palloc_data *d;

	if (!*l2) {
		*l2 = gm_zalloc(sizeof(**l2));
		if (!*l2)
			return -ENOMEM;
		meta_add(pa, sizeof(**l2));
	}
	if ((*l2)->data[ci & CHUNK_L2_MASK])
		return 0;
	d = gm_zalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	meta_add(pa, sizeof(*d));
	memset(&d->alloc, 0xff, sizeof(d->alloc));
	(*l2)->data[ci & CHUNK_L2_MASK] = d;
	return 0;
}

/* Zeroed summaries are right for absent memory: nothing free. */
static int ensure_sum_block(struct gm_pagealloc *pa, unsigned int level,
			    u64 i)
{
	u64 b = i >> GM_SUM_BLOCK_SHIFT;
	struct gm_sum_dir **dir = &pa->sum[level].top[b >> GM_SUM_DIR_SHIFT];
	struct gm_sum_block **blk;

	if (!*dir) {
		*dir = gm_zalloc(sizeof(**dir));
		if (!*dir)
			return -ENOMEM;
		meta_add(pa, sizeof(**dir));
	}
	blk = &(*dir)->blk[b & (GM_SUM_DIR_ENTRIES - 1)];
	if (*blk)
		return 0;
	*blk = gm_zalloc(sizeof(**blk));
	if (!*blk)
		return -ENOMEM;
	meta_add(pa, sizeof(**blk));
	return 0;
}

/*
 * Make sure chunks [sc, ec] have bitmaps and summary slots on every level.
 * On failure, what was installed stays: it describes absent memory, so
 * the allocator behaves as before, and destroy frees it.
 */
static int ensure_meta(struct gm_pagealloc *pa, u64 sc, u64 ec)
{
	unsigned int l;
	int ret;
	u64 ci;

	for (ci = sc; ci <= ec; ci++) {
		ret = ensure_chunk(pa, ci);
		for (l = 0; !ret && l < GM_SUM_LEVELS; l++)
			ret = ensure_sum_block(pa, l, ci >> level_shift(l));
		if (ret)
			return ret;
	}
	return 0;
}

/* === summaries ========================================================== */

static bool update_leaves(struct gm_pagealloc *pa, u64 sc, u64 ec)
{
	bool changed = false;
	u64 ci, sum, *slot;

	for (ci = sc; ci <= ec; ci++) {
		slot = sum_slot(pa, GM_SUM_LEAF, ci);
		if (GM_WARN_ON_ONCE(!slot || !chunk_of(pa, ci)))
			continue;
		sum = gm_palloc_summarize(&chunk_of(pa, ci)->alloc);
		if (*slot != sum) {
			*slot = sum;
			changed = true;
		}
	}
	return changed;
}

static bool update_level(struct gm_pagealloc *pa, unsigned int level,
			 u64 sc, u64 ec)
{
	unsigned int shift = level_shift(level);
	bool changed = false;
	u64 i, sum, *slot;

	for (i = sc >> shift; i <= ec >> shift; i++) {
		slot = sum_slot(pa, level, i);
		if (GM_WARN_ON_ONCE(!slot))
			continue;
		sum = merge_children(pa, level, i);
		if (*slot != sum) {
			*slot = sum;
			changed = true;
		}
	}
	return changed;
}

/**
 * gm_pagealloc_update() - bring the summaries up to date after a change
 * @pa: the page allocator
 * @pg: first page whose bits changed
 * @npages: number of pages, at least 1, all in chunks that have bitmaps
 *
 * Recomputes the leaves of the chunks touched, then each level above,
 * stopping as soon as a level comes out unchanged.
 */
void gm_pagealloc_update(struct gm_pagealloc *pa, u64 pg, size_t npages)
{
	u64 sc = pg / GM_CHUNK_PAGES;
	u64 ec = (pg + npages - 1) / GM_CHUNK_PAGES;
	unsigned int l;

	gm_mutex_assert_held(pa->lock);
	if (!update_leaves(pa, sc, ec))
		return;
	for (l = GM_SUM_LEAF; l-- > 0;)
		if (!update_level(pa, l, sc, ec))
			return;
}

/* === ranges ============================================================= */

enum range_op {
	RANGE_COUNT_USED,	/* count pages in use or absent */
	RANGE_ALLOC,		/* mark in use; count scavenged pages taken */
	RANGE_FREE,		/* mark free */
	RANGE_SCAVENGE,		/* mark scavenged */
};

static unsigned int chunk_op(struct gm_palloc_data *d, unsigned int i,
			     unsigned int n, enum range_op op)
{
	unsigned int scav;

	switch (op) {
	case RANGE_COUNT_USED:
		return gm_palloc_count_range(&d->alloc, i, n);
	case RANGE_ALLOC:
		scav = gm_palloc_count_range(&d->scav, i, n);
		gm_palloc_set_range(&d->alloc, i, n);
		gm_palloc_clear_range(&d->scav, i, n);
		return scav;
	case RANGE_FREE:
		gm_palloc_clear_range(&d->alloc, i, n);
		return 0;
	case RANGE_SCAVENGE:
		gm_palloc_set_range(&d->scav, i, n);
		return n;
	}
	return 0;
}

/*
 * Apply @op to pages [pg, pg + n), chunk by chunk, adding up what it
 * counts in *@acc. Pages of chunks without bitmaps count as in use.
 *
 * Return: false if some chunk of the range has no bitmap.
 */
static bool range_walk(struct gm_pagealloc *pa, u64 pg, size_t n,
		       enum range_op op, size_t *acc)
{
	struct gm_palloc_data *d;
	unsigned int i, k;
	bool present = true;

	*acc = 0;
	while (n) {
		i = pg & PAGE_IN_CHUNK;
		k = n < GM_CHUNK_PAGES - i ? n : GM_CHUNK_PAGES - i;
		d = chunk_of(pa, pg / GM_CHUNK_PAGES);
		if (d)
			*acc += chunk_op(d, i, k, op);
		else if (op == RANGE_COUNT_USED)
			*acc += k;
		present &= !!d;
		pg += k;
		n -= k;
	}
	return present;
}

/*
 * Check that [base, base + npages pages) is a page-aligned, non-empty
 * range of the 48-bit window whose upper address bits are @top, and give
 * its first page number.
 */
static int range_to_pages(uintptr_t top, uintptr_t base, size_t npages,
			  u64 *pg)
{
	if (!npages || (base & (GM_PAGE_SIZE - 1)))
		return -EINVAL;
	if ((base & ~ADDR_MASK) != top)
		return -EINVAL;
	*pg = (u64)(base & ADDR_MASK) >> GM_PAGE_SHIFT;
	if (npages > SPACE_PAGES - *pg)
		return -EINVAL;
	return 0;
}

/* The same for a range that must already be known to @pa. */
static int known_range(const struct gm_pagealloc *pa, uintptr_t base,
		       size_t npages, u64 *pg)
{
	if (!pa->have_base)
		return -EINVAL;
	return range_to_pages(pa->addr_base, base, npages, pg);
}

/* Mark a range in use, keep the counters and summaries in step. */
static size_t take_range(struct gm_pagealloc *pa, u64 pg, size_t npages)
{
	size_t scav;

	range_walk(pa, pg, npages, RANGE_ALLOC, &scav);
	pa->free_pages -= npages;
	pa->scav_pages -= scav;
	gm_pagealloc_update(pa, pg, npages);
	return scav;
}

/* Mark a range free; the caller accounts for the pages. */
static void give_range(struct gm_pagealloc *pa, u64 pg, size_t npages)
{
	size_t unused;

	range_walk(pa, pg, npages, RANGE_FREE, &unused);
	/* Like Go's free: the hint must not skip pages freed below it. */
	if (pg < pa->search)
		pa->search = pg;
	gm_pagealloc_update(pa, pg, npages);
}

/* === grow and remove ==================================================== */

static void note_chunks(struct gm_pagealloc *pa, u64 sc, u64 ec)
{
	if (pa->start == pa->end) {
		pa->start = sc;
		pa->end = ec + 1;
		return;
	}
	if (sc < pa->start)
		pa->start = sc;
	if (ec + 1 > pa->end)
		pa->end = ec + 1;
}

/**
 * gm_pagealloc_grow() - add memory to the allocator
 * @pa: the page allocator
 * @base: address of the first page, 8 KiB aligned, not 0
 * @npages: number of pages, at least 1; the range may span chunks
 * @scavenged: the memory is released (not backed yet) and allocating it
 *	should be reported as such
 *
 * The first grow fixes the bits above the low 48 of every address @pa
 * will manage.
 *
 * Return: 0; -EINVAL for a bad range, one outside the window, or one that
 * overlaps memory already present; -ENOMEM if metadata could not be
 * allocated, in which case the allocator is unchanged.
 */
int gm_pagealloc_grow(struct gm_pagealloc *pa, uintptr_t base, size_t npages,
		      bool scavenged)
{
	uintptr_t top = pa->have_base ? pa->addr_base : base & ~ADDR_MASK;
	size_t used, scav = 0;
	u64 pg, sc, ec;
	int ret;

	gm_mutex_assert_held(pa->lock);
	if (!base || range_to_pages(top, base, npages, &pg))
		return -EINVAL;
	range_walk(pa, pg, npages, RANGE_COUNT_USED, &used);
	if (used != npages)
		return -EINVAL;
	sc = pg / GM_CHUNK_PAGES;
	ec = (pg + npages - 1) / GM_CHUNK_PAGES;
	ret = ensure_meta(pa, sc, ec);
	if (ret)
		return ret;

	pa->addr_base = top;
	pa->have_base = true;
	note_chunks(pa, sc, ec);
	if (scavenged)
		range_walk(pa, pg, npages, RANGE_SCAVENGE, &scav);
	pa->free_pages += npages;
	pa->scav_pages += scav;
	pa->present_pages += npages;
	give_range(pa, pg, npages);
	return 0;
}

/**
 * gm_pagealloc_remove() - take free memory out of the allocator
 * @pa: the page allocator
 * @base: address of the first page
 * @npages: number of pages; the range may span chunks
 *
 * The pages become absent again, so that the heap can give the memory
 * back to the system. Metadata stays until destroy.
 *
 * Return: 0, or -EINVAL unless every page of the range is present and
 * free (neither allocated nor held by a page cache).
 */
int gm_pagealloc_remove(struct gm_pagealloc *pa, uintptr_t base,
			size_t npages)
{
	size_t used;
	u64 pg;

	gm_mutex_assert_held(pa->lock);
	if (known_range(pa, base, npages, &pg))
		return -EINVAL;
	if (!range_walk(pa, pg, npages, RANGE_COUNT_USED, &used) || used)
		return -EINVAL;
	take_range(pa, pg, npages);
	pa->present_pages -= npages;
	return 0;
}

/* === search ============================================================= */

/*
 * The window of pages in which the first free page surely lies, narrowed
 * while the search descends through entries with free pages (Go's
 * firstFree). Both bounds are inclusive page numbers.
 */
struct free_window {
	u64 base;
	u64 bound;
};

/* Aligned tree regions either nest or are disjoint: narrow if nested. */
static void found_free(struct free_window *ff, u64 pg, u64 n)
{
	if (ff->base <= pg && pg + n - 1 <= ff->bound) {
		ff->base = pg;
		ff->bound = pg + n - 1;
	}
}

enum level_result { LEVEL_FOUND, LEVEL_DESCEND, LEVEL_NONE };

struct find_state {
	size_t npages;
	u64 entry;		/* entry to descend into, or the run's page */
	struct free_window ff;
};

/*
 * Scan entries [lo, hi) of one level, in address order, for a run of free
 * pages that straddles entries (LEVEL_FOUND, page in fs->entry) or an
 * entry that holds a long enough run (LEVEL_DESCEND).
 */
static enum level_result find_in_level(struct gm_pagealloc *pa,
				       unsigned int level, u64 lo, u64 hi,
				       struct find_state *fs)
{
	unsigned int log = gm_sum_log_pages(level);
	u64 j = pa->search >> log, run = 0, run_base = 0, sum;
	unsigned int s;

	/* Entries below the hint's are known to have nothing free. */
	for (j = j > lo && j < hi ? j : lo; j < hi; j++) {
		sum = sum_get(pa, level, j);
		if (!sum) {
			run = 0;
			continue;
		}
		found_free(&fs->ff, j << log, 1ULL << log);
		s = gm_sum_start(sum);
		if (run + s >= fs->npages) {
			fs->entry = run ? run_base : j << log;
			return LEVEL_FOUND;
		}
		if (gm_sum_max(sum) >= fs->npages) {
			fs->entry = j;
			return LEVEL_DESCEND;
		}
		if (!run || s < (1U << log)) {
			run = gm_sum_end(sum);
			run_base = ((j + 1) << log) - run;
		} else {
			run += 1ULL << log;
		}
	}
	return LEVEL_NONE;
}

/* The descent ended in chunk @ci: find the run inside it. */
static u64 find_in_chunk(struct gm_pagealloc *pa, u64 ci,
			 struct find_state *fs)
{
	struct gm_palloc_data *d = chunk_of(pa, ci);
	unsigned int idx, first;

	if (GM_WARN_ON_ONCE(!d))
		return NO_PAGE;
	idx = gm_palloc_find(&d->alloc, fs->npages, 0, &first);
	if (GM_WARN_ON_ONCE(idx == GM_PALLOC_NONE))
		return NO_PAGE;
	found_free(&fs->ff, ci * GM_CHUNK_PAGES + first, GM_CHUNK_PAGES - first);
	return ci * GM_CHUNK_PAGES + idx;
}

/*
 * Walk the tree from the root (Go's find). Returns the first page of the
 * first run of npages free pages, or NO_PAGE, and in *@search a new hint.
 */
static u64 find_slow(struct gm_pagealloc *pa, size_t npages, u64 *search)
{
	struct find_state fs = { .npages = npages, .ff = { 0, SPACE_PAGES - 1 } };
	u64 lo = pa->start >> level_shift(0);
	u64 hi = ((pa->end - 1) >> level_shift(0)) + 1;
	enum level_result res;
	unsigned int l;
	u64 pg;

	for (l = 0; l < GM_SUM_LEVELS; l++) {
		res = find_in_level(pa, l, lo, hi, &fs);
		if (res == LEVEL_FOUND) {
			*search = fs.ff.base;
			return fs.entry;
		}
		/* Below the root a parent promised free pages: a bug. */
		if (res == LEVEL_NONE) {
			GM_WARN_ON_ONCE(l > 0);
			return NO_PAGE;
		}
		lo = fs.entry << GM_SUM_LEVEL_BITS;
		hi = lo + (1U << GM_SUM_LEVEL_BITS);
	}
	pg = find_in_chunk(pa, fs.entry, &fs);
	*search = fs.ff.base;
	return pg;
}

/* The chunk of the search hint often has the run: try it first. */
static u64 find_fast(struct gm_pagealloc *pa, size_t npages, u64 *search)
{
	u64 ci = pa->search / GM_CHUNK_PAGES;
	unsigned int i = pa->search & PAGE_IN_CHUNK, idx, first;
	struct gm_palloc_data *d;

	if (npages > GM_CHUNK_PAGES - i ||
	    gm_sum_max(sum_get(pa, GM_SUM_LEAF, ci)) < npages)
		return NO_PAGE;
	d = chunk_of(pa, ci);
	if (GM_WARN_ON_ONCE(!d))
		return NO_PAGE;
	/* No page below the hint is free, so the run must lie above it. */
	idx = gm_palloc_find(&d->alloc, npages, i, &first);
	if (GM_WARN_ON_ONCE(idx == GM_PALLOC_NONE))
		return NO_PAGE;
	*search = ci * GM_CHUNK_PAGES + first;
	return ci * GM_CHUNK_PAGES + idx;
}

static u64 find(struct gm_pagealloc *pa, size_t npages, u64 *search)
{
	u64 pg;

	if (npages > pa->free_pages || pa->search / GM_CHUNK_PAGES >= pa->end)
		return NO_PAGE;
	pg = find_fast(pa, npages, search);
	if (pg == NO_PAGE)
		pg = find_slow(pa, npages, search);
	return pg;
}

/**
 * gm_pagealloc_find_first_free() - the lowest free page
 * @pa: the page allocator
 *
 * Return: its page number, or ~0ULL if no page is free.
 */
u64 gm_pagealloc_find_first_free(struct gm_pagealloc *pa)
{
	u64 search;

	gm_mutex_assert_held(pa->lock);
	return find(pa, 1, &search);
}

/* === allocation ========================================================= */

/**
 * gm_pagealloc_alloc() - allocate contiguous pages, lowest address first
 * @pa: the page allocator
 * @npages: number of pages, at least 1; may be many chunks' worth
 * @scav: if not NULL, set to how many of the pages were scavenged (they
 *	are not any more: the caller now owns them and must back them)
 *
 * Return: the address of the first page, or 0 if no run of @npages free
 * pages exists.
 */
uintptr_t gm_pagealloc_alloc(struct gm_pagealloc *pa, size_t npages,
			     size_t *scav)
{
	u64 pg, search = 0;
	size_t taken;

	gm_mutex_assert_held(pa->lock);
	if (scav)
		*scav = 0;
	if (!npages)
		return 0;
	pg = find(pa, npages, &search);
	if (pg == NO_PAGE) {
		/* Not even one page: remember that the heap is full. */
		if (npages == 1)
			pa->search = GM_PAGEALLOC_NO_SEARCH;
		return 0;
	}
	taken = take_range(pa, pg, npages);
	if (scav)
		*scav = taken;
	if (search > pa->search)
		pa->search = search;
	return gm_pagealloc_page_addr(pa, pg);
}

/**
 * gm_pagealloc_free() - give back pages from gm_pagealloc_alloc()
 * @pa: the page allocator
 * @base: address of the first page
 * @npages: number of pages
 *
 * Pages that are not all in use (a double free, or a range the allocator
 * does not manage) are a bug of the caller: warned about once, ignored.
 */
void gm_pagealloc_free(struct gm_pagealloc *pa, uintptr_t base,
		       size_t npages)
{
	size_t used;
	u64 pg;

	gm_mutex_assert_held(pa->lock);
	if (GM_WARN_ON_ONCE(known_range(pa, base, npages, &pg)))
		return;
	if (GM_WARN_ON_ONCE(!range_walk(pa, pg, npages, RANGE_COUNT_USED,
					&used) || used != npages))
		return;
	pa->free_pages += npages;
	give_range(pa, pg, npages);
}

/* === queries ============================================================ */

/**
 * gm_pagealloc_range_free() - whether every page of a range is free
 * @pa: the page allocator
 * @base: address of the first page
 * @npages: number of pages
 *
 * Return: true if all the pages are present and free.
 */
bool gm_pagealloc_range_free(struct gm_pagealloc *pa, uintptr_t base,
			     size_t npages)
{
	size_t used;
	u64 pg;

	gm_mutex_assert_held(pa->lock);
	if (known_range(pa, base, npages, &pg))
		return false;
	return range_walk(pa, pg, npages, RANGE_COUNT_USED, &used) && !used;
}

/**
 * gm_pagealloc_range_used() - whether no page of a range is free
 * @pa: the page allocator
 * @base: address of the first page
 * @npages: number of pages
 *
 * Absent pages count as used: the allocator cannot tell them apart.
 *
 * Return: true if none of the pages is free; false for a bad range.
 */
bool gm_pagealloc_range_used(struct gm_pagealloc *pa, uintptr_t base,
			     size_t npages)
{
	size_t used;
	u64 pg;

	gm_mutex_assert_held(pa->lock);
	if (known_range(pa, base, npages, &pg))
		return false;
	range_walk(pa, pg, npages, RANGE_COUNT_USED, &used);
	return used == npages;
}

/**
 * gm_pagealloc_free_pages() - how many pages are free
 * @pa: the page allocator
 *
 * Return: free pages, not counting those held by page caches.
 */
size_t gm_pagealloc_free_pages(struct gm_pagealloc *pa)
{
	gm_mutex_assert_held(pa->lock);
	return pa->free_pages;
}

/**
 * gm_pagealloc_scav_pages() - how many free pages are scavenged
 * @pa: the page allocator
 *
 * Return: free pages whose memory is released (Go's HeapReleased / 8 KiB).
 */
size_t gm_pagealloc_scav_pages(struct gm_pagealloc *pa)
{
	gm_mutex_assert_held(pa->lock);
	return pa->scav_pages;
}

/**
 * gm_pagealloc_present_pages() - how many pages the allocator manages
 * @pa: the page allocator
 *
 * Return: pages grown and not removed, whatever their state.
 */
size_t gm_pagealloc_present_pages(struct gm_pagealloc *pa)
{
	gm_mutex_assert_held(pa->lock);
	return pa->present_pages;
}

/* === self-check ========================================================= */

static bool check_failed(const char *what, u64 a, u64 b)
{
	gm_pr_warn("pagealloc check: %s: %llx %llx\n", what,
		   (unsigned long long)a, (unsigned long long)b);
	return false;
}

/* One chunk's bitmaps against its leaf, the counters and the hint. */
static bool check_chunk(struct gm_pagealloc *pa, u64 ci,
			const struct gm_palloc_data *d, size_t *nfree,
			size_t *nscav)
{
	u64 first = ci * GM_CHUNK_PAGES, below;
	u64 sum = gm_palloc_summarize(&d->alloc);
	unsigned int w, l;

	/* Every level must have a slot above a chunk with a bitmap. */
	for (l = 0; l < GM_SUM_LEVELS; l++)
		if (!sum_slot(pa, l, ci >> level_shift(l)))
			return check_failed("no summary slot", ci, l);
	for (w = 0; w < GM_PALLOC_WORDS; w++)
		if (d->scav.w[w] & d->alloc.w[w])
			return check_failed("scavenged page in use", ci, w);
	*nfree += GM_CHUNK_PAGES -
		  gm_palloc_count_range(&d->alloc, 0, GM_CHUNK_PAGES);
	*nscav += gm_palloc_count_range(&d->scav, 0, GM_CHUNK_PAGES);
	if (sum_get(pa, GM_SUM_LEAF, ci) != sum)
		return check_failed("leaf summary", ci, sum);
	/* The hint promises that no page below it is free. */
	if (first < pa->search) {
		below = pa->search - first;
		below = below < GM_CHUNK_PAGES ? below : GM_CHUNK_PAGES;
		if (gm_palloc_count_range(&d->alloc, 0, below) != below)
			return check_failed("free page below hint", ci,
					    pa->search);
	}
	return true;
}

static bool check_chunks(struct gm_pagealloc *pa, size_t *nfree,
			 size_t *nscav)
{
	const struct gm_palloc_data *d;
	unsigned int i, j;
	u64 ci;

	for (i = 0; i < 1U << GM_CHUNK_L1_BITS; i++) {
		if (!pa->chunks[i])
			continue;
		for (j = 0; j < 1U << GM_CHUNK_L2_BITS; j++) {
			d = pa->chunks[i]->data[j];
			ci = ((u64)i << GM_CHUNK_L2_BITS) | j;
			if (d && !check_chunk(pa, ci, d, nfree, nscav))
				return false;
		}
	}
	return true;
}

/* Every summary of a block against what its children (or chunk) say. */
static bool check_block(struct gm_pagealloc *pa, unsigned int level,
			u64 first, const struct gm_sum_block *blk)
{
	const struct gm_palloc_data *d;
	unsigned int e;
	u64 want;

	for (e = 0; e < GM_SUM_BLOCK_ENTRIES; e++) {
		if (level == GM_SUM_LEAF) {
			d = chunk_of(pa, first + e);
			want = d ? gm_palloc_summarize(&d->alloc) : 0;
		} else {
			want = merge_children(pa, level, first + e);
		}
		if (blk->sum[e] != want)
			return check_failed(level ? "summary" : "root summary",
					    first + e, blk->sum[e]);
	}
	return true;
}

static bool check_level(struct gm_pagealloc *pa, unsigned int level)
{
	const struct gm_sum_level *lv = &pa->sum[level];
	unsigned int t, b;
	u64 first;

	for (t = 0; t < lv->ntop; t++) {
		if (!lv->top[t])
			continue;
		for (b = 0; b < GM_SUM_DIR_ENTRIES; b++) {
			if (!lv->top[t]->blk[b])
				continue;
			first = (((u64)t << GM_SUM_DIR_SHIFT) | b) <<
				GM_SUM_BLOCK_SHIFT;
			if (!check_block(pa, level, first, lv->top[t]->blk[b]))
				return false;
		}
	}
	return true;
}

/**
 * gm_pagealloc_check() - recompute all metadata and compare
 * @pa: the page allocator
 *
 * Recomputes every summary from the bitmaps (leaves) or from the level
 * below, recounts the free and scavenged pages, and verifies the search
 * hint. Costs a walk of all metadata: for tests and debugging.
 *
 * Return: true if everything agrees; otherwise false, and the first
 * difference is logged.
 */
bool gm_pagealloc_check(struct gm_pagealloc *pa)
{
	size_t nfree = 0, nscav = 0;
	unsigned int l;

	gm_mutex_assert_held(pa->lock);
	if (!check_chunks(pa, &nfree, &nscav))
		return false;
	for (l = 0; l < GM_SUM_LEVELS; l++)
		if (!check_level(pa, l))
			return false;
	if (nfree != pa->free_pages)
		return check_failed("free pages", nfree, pa->free_pages);
	if (nscav != pa->scav_pages)
		return check_failed("scavenged pages", nscav, pa->scav_pages);
	if (pa->free_pages > pa->present_pages)
		return check_failed("free > present", pa->free_pages,
				    pa->present_pages);
	return true;
}

/* === scavenging ========================================================= */

/*
 * The scavenger's candidates in word @w of a chunk: free pages not
 * scavenged yet.
 */
static u64 scav_candidates(const struct gm_palloc_data *d, unsigned int w)
{
	return ~d->alloc.w[w] & ~d->scav.w[w];
}

/* Bits 0 to @b of a word. */
static u64 bits_upto(unsigned int b)
{
	return ~0ULL >> (63 - b);
}

/* The highest candidate page of a chunk at or below page @i, or -1. */
static int top_candidate(const struct gm_palloc_data *d, int i)
{
	while (i >= 0) {
		u64 cand = scav_candidates(d, i / 64) & bits_upto(i % 64);

		if (cand)
			return i / 64 * 64 + gm_fls64(cand);
		i = i / 64 * 64 - 1;
	}
	return -1;
}

/*
 * The length of the run of candidate pages of a chunk that ends at page
 * @i (a candidate) and goes down from it, at most @max pages; a word at a
 * time.
 */
static size_t run_down(const struct gm_palloc_data *d, unsigned int i, size_t max)
{
	size_t n = 0;

	for (;;) {
		u64 stop = ~scav_candidates(d, i / 64) & bits_upto(i % 64);

		if (stop)
			return min(max, n + i % 64 - gm_fls64(stop));
		n += i % 64 + 1;
		if (n >= max || i < 64)
			return min(max, n);
		i = i / 64 * 64 - 1;
	}
}

/*
 * Find the highest candidate page below page number *@top (exclusive),
 * searching chunk by chunk down to the window's start. Return: false if
 * there is none; else true with *@top set to the page number.
 */
static bool find_top(struct gm_pagealloc *pa, u64 *top)
{
	u64 ci = *top / GM_CHUNK_PAGES;
	int i = (int)(*top % GM_CHUNK_PAGES) - 1;

	for (;;) {
		/* *@top may be the window's end: chunk @ci is then none of it. */
		struct gm_palloc_data *d = i >= 0 ? chunk_of(pa, ci) : NULL;

		if (d) {
			i = top_candidate(d, i);
			if (i >= 0) {
				*top = ci * GM_CHUNK_PAGES + i;
				return true;
			}
		}
		if (ci <= pa->start)
			return false;
		ci--;
		i = GM_CHUNK_PAGES - 1;
	}
}

/*
 * Mark the run of candidates ending at page number @top scavenged, going
 * down across chunk boundaries while the pages below are candidates too,
 * at most @max pages. Return: the run's length.
 */
static size_t take_run(struct gm_pagealloc *pa, u64 top, size_t max)
{
	size_t n = 0, k;

	while (n < max) {
		u64 pg = top - n, ci = pg / GM_CHUNK_PAGES;
		unsigned int i = pg % GM_CHUNK_PAGES;
		struct gm_palloc_data *d = chunk_of(pa, ci);

		if (!d || !(scav_candidates(d, i / 64) >> (i % 64) & 1))
			break;
		k = run_down(d, i, max - n);
		gm_palloc_set_range(&d->scav, i + 1 - k, k);
		n += k;
		/* Stopped inside the chunk: the page below is no candidate. */
		if (k <= i || ci <= pa->start)
			break;
	}
	pa->scav_pages += n;
	return n;
}

/**
 * gm_pagealloc_scavenge() - mark free pages scavenged (Go's pageAlloc.scavenge)
 * @pa: the page allocator
 * @max_pages: at most this many
 * @fn: called for each run of pages, to give its memory back; may sleep
 *	(the lock of @pa is a mutex)
 * @ctx: passed to @fn
 *
 * As Go's scavenger, from the highest address down: allocation prefers
 * low addresses, so the pages it will reuse first are given back last.
 * Each call of @fn covers a whole run of contiguous free, unscavenged
 * pages, across chunk boundaries, of at most GM_SCAVENGE_RUN_PAGES and
 * of what is left of @max_pages: a page source releases a run with one
 * unmap and one batch of frees, which costs far less than the same pages
 * a few at a time. Pages held by a page cache count as in use and are
 * left alone.
 *
 * Return: the number of pages scavenged.
 */
size_t gm_pagealloc_scavenge(struct gm_pagealloc *pa, size_t max_pages,
			     gm_scavenge_fn fn, void *ctx)
{
	size_t done = 0, n;
	u64 top = pa->end * GM_CHUNK_PAGES;

	gm_mutex_assert_held(pa->lock);
	while (done < max_pages && pa->free_pages != pa->scav_pages && find_top(pa, &top)) {
		n = take_run(pa, top, min_t(size_t, max_pages - done, GM_SCAVENGE_RUN_PAGES));
		top -= n - 1;
		fn(ctx, gm_pagealloc_page_addr(pa, top), n);
		done += n;
	}
	return done;
}

/**
 * gm_pagealloc_take_free() - take the free pages of a range out of use
 * @pa: the page allocator
 * @base: address of the first page
 * @npages: number of pages
 *
 * The free pages of the range are marked in use for good: the heap's
 * memory there is gone (the program unmapped it) and must never be
 * handed out again. Pages in use stay as they are.
 *
 * Return: the number of pages taken.
 */
size_t gm_pagealloc_take_free(struct gm_pagealloc *pa, uintptr_t base,
			      size_t npages)
{
	size_t taken = 0, k;
	u64 pg;

	gm_mutex_assert_held(pa->lock);
	if (known_range(pa, base, npages, &pg))
		return 0;
	for (k = 0; k < npages; k++) {
		struct gm_palloc_data *d = chunk_of(pa, (pg + k) / GM_CHUNK_PAGES);
		unsigned int i = (pg + k) & PAGE_IN_CHUNK;

		if (!d || gm_palloc_count_range(&d->alloc, i, 1))
			continue;
		if (gm_palloc_count_range(&d->scav, i, 1)) {
			gm_palloc_clear_range(&d->scav, i, 1);
			pa->scav_pages--;
		}
		gm_palloc_set_range(&d->alloc, i, 1);
		pa->free_pages--;
		taken++;
		/* Summaries exist for present chunks only: update page by page. */
		gm_pagealloc_update(pa, pg + k, 1);
	}
	return taken;
}
