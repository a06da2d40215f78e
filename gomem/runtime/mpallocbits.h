/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-chunk page bitmaps and packed free-run summaries, after Go's
 * mpallocbits.go and the pallocSum part of mpagealloc.go.
 *
 * A chunk is GM_CHUNK_PAGES (512) pages. Its alloc bitmap has one bit per
 * page, 1 for a page in use (or absent: not backed by heap memory) and 0
 * for a free page; its scavenged bitmap marks free pages whose memory was
 * released. A summary describes the free runs of a bitmap, or of a whole
 * subtree of the page allocator's radix tree, in one u64.
 */
#ifndef _GOMEM_MPALLOCBITS_H
#define _GOMEM_MPALLOCBITS_H

#include "runtime.h"

#define GM_PALLOC_WORDS		(GM_CHUNK_PAGES / 64)

/* What gm_palloc_find() returns when no run fits. */
#define GM_PALLOC_NONE		(~0U)

/**
 * struct gm_palloc_bits - one bit per page of a chunk (pallocBits)
 * @w: bit i of the chunk is bit i % 64 of w[i / 64]
 */
struct gm_palloc_bits {
	u64 w[GM_PALLOC_WORDS];
};

/**
 * struct gm_palloc_data - everything the page allocator keeps per chunk
 * @alloc: 1 for pages in use or absent, 0 for free pages
 * @scav: 1 for free pages whose memory was released (scavenged)
 */
struct gm_palloc_data {
	struct gm_palloc_bits alloc;
	struct gm_palloc_bits scav;
};

/*
 * Geometry of the summary radix tree, as on 64-bit Go: five levels, each
 * entry of a level covering 8 entries of the next one, the leaves covering
 * one chunk each. With 48 address bits the root level has 2^14 entries of
 * 16 GiB (2^21 pages), which is why a summary field has 21 bits.
 */
#define GM_SUM_LEVELS		5
#define GM_SUM_LEAF		(GM_SUM_LEVELS - 1)
#define GM_SUM_LEVEL_BITS	3
#define GM_SUM_L0_BITS		(GM_ADDR_BITS - GM_CHUNK_SHIFT - \
				 GM_SUM_LEAF * GM_SUM_LEVEL_BITS)
#define GM_SUM_LOG_MAX		(GM_CHUNK_PAGES_SHIFT + \
				 GM_SUM_LEAF * GM_SUM_LEVEL_BITS)
#define GM_SUM_MAX_VALUE	(1U << GM_SUM_LOG_MAX)
#define GM_SUM_FIELD_MASK	((u64)GM_SUM_MAX_VALUE - 1)
/* start == max == end == GM_SUM_MAX_VALUE does not fit: one bit says it. */
#define GM_SUM_ALL_FREE		(1ULL << 63)

/**
 * gm_sum_log_pages() - log2 of the pages one summary of a level covers
 * @level: 0 (root) to GM_SUM_LEAF
 *
 * Return: 9 at the leaves (a chunk), 3 more for each level above.
 */
static inline unsigned int gm_sum_log_pages(unsigned int level)
{
	return GM_CHUNK_PAGES_SHIFT + (GM_SUM_LEAF - level) * GM_SUM_LEVEL_BITS;
}

/**
 * gm_sum_pack() - pack the three counts of a summary into a u64
 * @start: free pages at the start of the region
 * @max: longest run of free pages anywhere in it
 * @end: free pages at the end of the region
 *
 * Return: the packed summary. 0 means "no free page".
 */
static inline u64 gm_sum_pack(unsigned int start, unsigned int max,
			      unsigned int end)
{
	if (max == GM_SUM_MAX_VALUE)
		return GM_SUM_ALL_FREE;
	return ((u64)start & GM_SUM_FIELD_MASK) |
	       (((u64)max & GM_SUM_FIELD_MASK) << GM_SUM_LOG_MAX) |
	       (((u64)end & GM_SUM_FIELD_MASK) << (2 * GM_SUM_LOG_MAX));
}

/**
 * gm_sum_start() - free pages at the start of a summarized region
 * @sum: packed summary
 *
 * Return: the start field.
 */
static inline unsigned int gm_sum_start(u64 sum)
{
	if (sum & GM_SUM_ALL_FREE)
		return GM_SUM_MAX_VALUE;
	return sum & GM_SUM_FIELD_MASK;
}

/**
 * gm_sum_max() - longest free run in a summarized region
 * @sum: packed summary
 *
 * Return: the max field.
 */
static inline unsigned int gm_sum_max(u64 sum)
{
	if (sum & GM_SUM_ALL_FREE)
		return GM_SUM_MAX_VALUE;
	return (sum >> GM_SUM_LOG_MAX) & GM_SUM_FIELD_MASK;
}

/**
 * gm_sum_end() - free pages at the end of a summarized region
 * @sum: packed summary
 *
 * Return: the end field.
 */
static inline unsigned int gm_sum_end(u64 sum)
{
	if (sum & GM_SUM_ALL_FREE)
		return GM_SUM_MAX_VALUE;
	return (sum >> (2 * GM_SUM_LOG_MAX)) & GM_SUM_FIELD_MASK;
}

void gm_palloc_set_range(struct gm_palloc_bits *b, unsigned int i,
			 unsigned int n);
void gm_palloc_clear_range(struct gm_palloc_bits *b, unsigned int i,
			   unsigned int n);
unsigned int gm_palloc_count_range(const struct gm_palloc_bits *b,
				   unsigned int i, unsigned int n);
u64 gm_palloc_summarize(const struct gm_palloc_bits *b);
unsigned int gm_palloc_find(const struct gm_palloc_bits *b,
			    unsigned int npages, unsigned int search,
			    unsigned int *first_free);
unsigned int gm_find_bit_range64(u64 c, unsigned int n);
u64 gm_sum_merge(const u64 *sums, unsigned int n, unsigned int log_pages);

#endif /* _GOMEM_MPALLOCBITS_H */
