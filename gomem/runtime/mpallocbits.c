// SPDX-License-Identifier: GPL-2.0
/*
 * Per-chunk page bitmaps and their summaries, as in Go's mpallocbits.go:
 * setting, clearing and counting ranges of bits, finding the first run of
 * n free pages in a chunk, and summarizing a chunk (or merging the
 * summaries of neighbouring regions) into start, max and end free runs.
 *
 * All of it works on whole 64-bit words and count-trailing-zeros, so that
 * a search costs a few instructions per 64 pages rather than one per page.
 */

#include "mpallocbits.h"

/* === bit ranges ========================================================= */

/*
 * The bits of word @w that lie in [i, i + n); the caller only asks for
 * words the range overlaps.
 */
static u64 word_mask(unsigned int w, unsigned int i, unsigned int n)
{
	unsigned int lo = w * 64;
	unsigned int a = max(i, lo) - lo;
	unsigned int b = min(i + n, lo + 64) - lo;
	u64 below_b = b == 64 ? ~0ULL : (1ULL << b) - 1;

	return below_b & (~0ULL << a);
}

/**
 * gm_palloc_set_range() - set bits [i, i + n) of a chunk bitmap
 * @b: the bitmap
 * @i: first bit
 * @n: number of bits; i + n must not exceed GM_CHUNK_PAGES
 */
void gm_palloc_set_range(struct gm_palloc_bits *b, unsigned int i,
			 unsigned int n)
{
	unsigned int w;

	for (w = i / 64; n && w <= (i + n - 1) / 64; w++)
		b->w[w] |= word_mask(w, i, n);
}

/**
 * gm_palloc_clear_range() - clear bits [i, i + n) of a chunk bitmap
 * @b: the bitmap
 * @i: first bit
 * @n: number of bits; i + n must not exceed GM_CHUNK_PAGES
 */
void gm_palloc_clear_range(struct gm_palloc_bits *b, unsigned int i,
			   unsigned int n)
{
	unsigned int w;

	for (w = i / 64; n && w <= (i + n - 1) / 64; w++)
		b->w[w] &= ~word_mask(w, i, n);
}

/**
 * gm_palloc_count_range() - count the set bits in [i, i + n)
 * @b: the bitmap
 * @i: first bit
 * @n: number of bits; i + n must not exceed GM_CHUNK_PAGES
 *
 * Return: how many of those bits are 1.
 */
unsigned int gm_palloc_count_range(const struct gm_palloc_bits *b,
				   unsigned int i, unsigned int n)
{
	unsigned int w, count = 0;

	for (w = i / 64; n && w <= (i + n - 1) / 64; w++)
		count += gm_popcount64(b->w[w] & word_mask(w, i, n));
	return count;
}

/* === summaries ========================================================== */

/*
 * Running state of a scan over the free runs of a bitmap: @cur is the
 * free run still open at the point reached, @start the first run closed
 * by an allocated page (valid once @closed is set).
 */
struct run_scan {
	unsigned int start;
	unsigned int max;
	unsigned int cur;
	bool closed;
};

static void run_close(struct run_scan *s)
{
	if (!s->closed) {
		s->start = s->cur;
		s->closed = true;
	}
	if (s->cur > s->max)
		s->max = s->cur;
	s->cur = 0;
}

/*
 * Walk one word run by run: the cost is the number of allocated runs in
 * it, so empty and full words (the common case) take one step.
 */
static void run_scan_word(struct run_scan *s, u64 x)
{
	unsigned int i = 0;
	u64 y;

	while (i < 64) {
		y = x >> i;
		if (!y) {
			s->cur += 64 - i;
			return;
		}
		s->cur += gm_ctz64(y);
		i += gm_ctz64(y);
		run_close(s);
		/* Skip the allocated run at i. Only ~x can be 0 (x full). */
		y = ~(x >> i);
		if (!y)
			return;
		i += gm_ctz64(y);
	}
}

/**
 * gm_palloc_summarize() - summarize the free runs of a chunk bitmap
 * @b: alloc bitmap of a chunk
 *
 * Return: the packed summary (start, max, end) of the chunk's free pages.
 */
u64 gm_palloc_summarize(const struct gm_palloc_bits *b)
{
	struct run_scan s = { 0 };
	unsigned int w;

	for (w = 0; w < GM_PALLOC_WORDS; w++)
		run_scan_word(&s, b->w[w]);
	if (!s.closed)
		return gm_sum_pack(GM_CHUNK_PAGES, GM_CHUNK_PAGES,
				   GM_CHUNK_PAGES);
	if (s.cur > s.max)
		s.max = s.cur;
	return gm_sum_pack(s.start, s.max, s.cur);
}

/**
 * gm_sum_merge() - summarize consecutive regions of equal size as one
 * @sums: summaries of the regions, in address order
 * @n: how many; at least 1
 * @log_pages: log2 of the pages each region covers
 *
 * Return: the summary of the concatenated region.
 */
u64 gm_sum_merge(const u64 *sums, unsigned int n, unsigned int log_pages)
{
	unsigned int size = 1U << log_pages;
	unsigned int start = gm_sum_start(sums[0]);
	unsigned int most = gm_sum_max(sums[0]);
	unsigned int end = gm_sum_end(sums[0]);
	unsigned int i, s;

	for (i = 1; i < n; i++) {
		s = gm_sum_start(sums[i]);
		/* The start run only grows while everything so far is free. */
		if (start == i * size)
			start += s;
		/* A run may straddle the boundary with the previous regions. */
		most = max(most, end + s);
		most = max(most, gm_sum_max(sums[i]));
		if (gm_sum_end(sums[i]) == size)
			end += size;
		else
			end = gm_sum_end(sums[i]);
	}
	return gm_sum_pack(start, most, end);
}

/* === search ============================================================= */

/* Leading zero bits of a non-zero word: the free pages at its top. */
static unsigned int top_zeros(u64 x)
{
	unsigned int n = 0;
	unsigned int step;

	for (step = 32; step; step /= 2) {
		if (!(x >> (64 - step))) {
			n += step;
			x <<= step;
		}
	}
	return n;
}

/**
 * gm_find_bit_range64() - first run of n consecutive 1 bits in a word
 * @c: the word
 * @n: run length, 1 to 64
 *
 * Return: the index of the lowest bit of the first such run, or 64 if
 * there is none.
 */
unsigned int gm_find_bit_range64(u64 c, unsigned int n)
{
	unsigned int i = 0, ones;
	u64 y;

	while (i < 64) {
		y = c >> i;
		if (!y)
			break;
		i += gm_ctz64(y);
		y = ~(c >> i);
		ones = y ? gm_ctz64(y) : 64;
		if (ones >= n)
			return i;
		i += ones;
	}
	return 64;
}

/**
 * gm_palloc_find() - first run of npages free pages in a chunk
 * @b: alloc bitmap of the chunk
 * @npages: run length, at least 1
 * @search: no page below this index is considered
 * @first_free: set to the first free page at or after @search, or
 *	GM_PALLOC_NONE; the page allocator keeps it as its search hint
 *
 * Runs are tracked across words, so a run longer than 64 pages (or one
 * straddling two words) is found as well as one inside a word.
 *
 * Return: the index of the first page of the run, or GM_PALLOC_NONE.
 */
unsigned int gm_palloc_find(const struct gm_palloc_bits *b,
			    unsigned int npages, unsigned int search,
			    unsigned int *first_free)
{
	unsigned int w, run = 0, start = 0, j;
	u64 x;

	*first_free = GM_PALLOC_NONE;
	for (w = search / 64; w < GM_PALLOC_WORDS; w++) {
		x = b->w[w];
		if (w == search / 64)
			x |= (1ULL << (search % 64)) - 1;
		if (x == ~0ULL) {
			run = 0;
			continue;
		}
		if (*first_free == GM_PALLOC_NONE)
			*first_free = w * 64 + gm_ctz64(~x);
		if (!run)
			start = w * 64;
		if (!x) {
			run += 64;
			if (run >= npages)
				return start;
			continue;
		}
		if (run + gm_ctz64(x) >= npages)
			return start;
		j = npages < 64 ? gm_find_bit_range64(~x, npages) : 64;
		if (j < 64)
			return w * 64 + j;
		run = top_zeros(x);
		start = w * 64 + 64 - run;
	}
	return GM_PALLOC_NONE;
}
