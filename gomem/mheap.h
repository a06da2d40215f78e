/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mspan, as in Go's mheap.go: a run of pages holding objects of one
 * span class (or one large object), with its allocation and mark bitmaps.
 */
#ifndef _GOMEM_MHEAP_H
#define _GOMEM_MHEAP_H

#include "runtime.h"

/* Span states (Go's mSpanState). */
enum gm_span_state {
	GM_SPAN_DEAD,
	GM_SPAN_IN_USE,		/* allocated for objects */
	GM_SPAN_MANUAL,		/* allocated for manual management */
};

/**
 * struct gm_mspan - a run of pages and the objects in it
 * @start: address of the first page
 * @npages: number of 8 KiB pages
 * @nelems: number of object slots
 * @elemsize: bytes per slot (the class size, or the whole span if large)
 * @spanclass: size class << 1 | noscan
 * @state: an enum gm_span_state
 * @needzero: the span's memory may be dirty; zero objects on allocation
 * @freeindex: slots below it are known to be allocated; the search for a
 *	free slot starts here
 * @alloc_cache: the complement of the 64 alloc bits from freeindex's
 *	64-bit word on, shifted so that bit 0 is slot freeindex; a set bit
 *	is a free slot
 * @alloc_count: allocated slots
 * @sweepgen: relative to the heap's sweepgen, see mgcsweep
 * @alloc_bits: one bit per slot, set when allocated (as of the last sweep
 *	and the allocations since)
 * @gcmark_bits: one bit per slot, set by the collector when reachable
 * @bitmap_words: 64-bit words in each of the two bitmaps
 *
 * The bitmaps are whole 64-bit words so that refilling alloc_cache never
 * reads past their end. Go allocates them from per-GC arenas; gomem keeps
 * both with the span and clears the mark bitmap when it recycles it.
 */
struct gm_mspan {
	uintptr_t start;
	size_t npages;
	u32 nelems;
	u32 elemsize;
	u8 spanclass;
	u8 state;
	bool needzero;
	u32 freeindex;
	u64 alloc_cache;
	u32 alloc_count;
	u32 sweepgen;
	u64 *alloc_bits;
	u64 *gcmark_bits;
	u32 bitmap_words;
};

int gm_span_init_bits(struct gm_mspan *s, u32 nelems);
void gm_span_free_bits(struct gm_mspan *s);
void gm_span_refill_alloc_cache(struct gm_mspan *s, u32 word);
u32 gm_span_next_free_index(struct gm_mspan *s);
bool gm_span_is_free(const struct gm_mspan *s, u32 index);
u32 gm_span_count_marked(const struct gm_mspan *s);

static inline bool gm_bit_test(const u64 *bits, u32 i)
{
	return bits[i / 64] & (1ULL << (i % 64));
}

static inline void gm_bit_set(u64 *bits, u32 i)
{
	bits[i / 64] |= 1ULL << (i % 64);
}

static inline void gm_bit_clear(u64 *bits, u32 i)
{
	bits[i / 64] &= ~(1ULL << (i % 64));
}

/**
 * gm_span_next_free_fast() - the allocation fast path within a span
 * @s: the span, owned by the caller's mcache
 *
 * One count-trailing-zeros on alloc_cache, as Go's nextFreeFast: taken
 * only when a free slot lies within the cached 64 bits and the search does
 * not cross into the next word.
 *
 * Return: the slot index, or s->nelems when the slow path
 * (gm_span_next_free_index()) must run.
 */
static __always_inline u32 gm_span_next_free_fast(struct gm_mspan *s)
{
	u32 bit, result;

	if (!s->alloc_cache)
		return s->nelems;
	bit = gm_ctz64(s->alloc_cache);
	result = s->freeindex + bit;
	if (result >= s->nelems)
		return s->nelems;
	/* Landing on a word boundary means alloc_cache must be refilled. */
	if ((result + 1) % 64 == 0 && result + 1 != s->nelems)
		return s->nelems;
	s->alloc_cache >>= bit + 1;
	s->freeindex = result + 1;
	s->alloc_count++;
	return result;
}

#endif /* _GOMEM_MHEAP_H */
