// SPDX-License-Identifier: GPL-2.0
/*
 * Span allocation and mark bitmaps, as in Go's mbitmap.go: the slow path
 * of finding a free slot (nextFreeIndex) and the alloc_cache refill.
 */
#include "mheap.h"

/**
 * gm_span_init_bits() - give a span empty alloc, mark, free and root bitmaps
 * @s: the span; nelems and the bitmaps are set here
 * @nelems: number of object slots
 *
 * Also resets freeindex, alloc_count and alloc_cache: every slot is free.
 *
 * Return: 0, or -ENOMEM.
 */
int gm_span_init_bits(struct gm_mspan *s, u32 nelems)
{
	u32 words = (nelems + 63) / 64;
	/*
	 * Whole cache lines: the CPU that caches a span writes its bits on
	 * every allocation and free, and must not share a line with another
	 * CPU's span (gm_zalloc() aligns allocations of whole lines).
	 */
	u64 *bits = gm_zalloc(ALIGN(5 * words * sizeof(u64), GM_CACHE_LINE));

	if (!bits)
		return -ENOMEM;
	/* Bits, not pointers; referenced only from the (ignored) span. */
	if (GM_TRACK_OBJECTS)
		gm_track_ignore(bits);
	s->alloc_bits = bits;
	s->gcmark_bits = bits + words;
	s->free_bits = bits + 2 * words;
	s->root_bits = bits + 3 * words;
	s->local_bits = bits + 4 * words;
	s->bitmap_words = words;
	s->nelems = nelems;
	s->freeindex = 0;
	s->alloc_count = 0;
	s->nfreed = 0;
	s->nlocal = 0;
	gm_span_refill_alloc_cache(s, 0);
	return 0;
}

/**
 * gm_span_free_bits() - release a span's bitmaps
 * @s: the span
 */
void gm_span_free_bits(struct gm_mspan *s)
{
	gm_free(s->alloc_bits);
	gm_free(s->tiny_freed);
	s->tiny_alloc = NULL;
	s->tiny_freed = NULL;
	s->tiny_end = NULL;
	s->tiny_pending = 0;
	s->tiny_local = 0;
	s->alloc_bits = NULL;
	s->gcmark_bits = NULL;
	s->free_bits = NULL;
	s->root_bits = NULL;
	s->local_bits = NULL;
	s->nlocal = 0;
	s->bitmap_words = 0;
}

/**
 * gm_span_refill_alloc_cache() - load alloc_cache from the alloc bits
 * @s: the span
 * @word: index of the 64-bit word of alloc_bits to load
 *
 * Stores the complement so that a free slot is a set bit for ctz.
 */
void gm_span_refill_alloc_cache(struct gm_mspan *s, u32 word)
{
	s->alloc_cache = ~s->alloc_bits[word];
}

/**
 * gm_span_next_free_index() - find the next free slot at or after freeindex
 * @s: the span, owned by the caller
 *
 * The slow path behind gm_span_next_free_fast(): it walks alloc_cache
 * word by word, refilling it, and advances freeindex past the slot it
 * returns. It does not set the slot's alloc bit: the bits describe the
 * span as of the last sweep, and freeindex plus alloc_cache say which of
 * the slots after it are taken since (as in Go).
 *
 * Return: the slot index, or s->nelems if the span is full.
 */
u32 gm_span_next_free_index(struct gm_mspan *s)
{
	u32 idx = s->freeindex;
	u32 bit;

	if (idx >= s->nelems)
		return s->nelems;
	while (!s->alloc_cache) {
		/* Nothing free in this word: on to the next one. */
		idx = (idx + 64) & ~63U;
		if (idx >= s->nelems) {
			s->freeindex = s->nelems;
			return s->nelems;
		}
		gm_span_refill_alloc_cache(s, idx / 64);
	}
	bit = gm_ctz64(s->alloc_cache);
	if (idx + bit >= s->nelems) {
		s->freeindex = s->nelems;
		return s->nelems;
	}
	s->alloc_cache >>= bit;
	s->alloc_cache >>= 1;	/* two shifts: bit may be 63 */
	s->freeindex = idx + bit + 1;
	if (s->freeindex % 64 == 0 && s->freeindex != s->nelems)
		gm_span_refill_alloc_cache(s, s->freeindex / 64);
	s->alloc_count++;
	return idx + bit;
}

/**
 * gm_span_is_free() - whether a slot is free for allocation
 * @s: the span
 * @index: slot index, below s->nelems
 *
 * Return: true if the slot is at or after freeindex and its alloc bit
 * is clear.
 */
bool gm_span_is_free(const struct gm_mspan *s, u32 index)
{
	if (index < s->freeindex)
		return false;
	return !gm_bit_test(s->alloc_bits, index);
}

/**
 * gm_span_slot_allocated() - whether a slot holds a live object
 * @s: the span
 * @index: slot index, below s->nelems
 *
 * A slot is taken if the allocator passed it (below freeindex) or the
 * last sweep found it in use, and it was not freed since, by its span's
 * mcentral or by the CPU that caches the span.
 *
 * Return: true if the slot is allocated.
 */
bool gm_span_slot_allocated(const struct gm_mspan *s, u32 index)
{
	/* The caching CPU may be changing the word: one read of it. */
	if (gm_bit_test(s->free_bits, index) ||
	    (READ_ONCE(s->local_bits[index / 64]) >> (index % 64) & 1))
		return false;
	return index < READ_ONCE(s->freeindex) || gm_bit_test(s->alloc_bits, index);
}

/**
 * gm_span_sweep_free_bits() - make explicitly freed slots allocatable
 * @s: the span, not being allocated from concurrently
 *
 * The explicit-free half of a sweep: the new alloc bits are the slots
 * that are taken and were not freed; freeindex restarts at 0. Freed slots
 * hold old data, so the span now needs zeroing.
 *
 * Return: the number of slots made free.
 */
u32 gm_span_sweep_free_bits(struct gm_mspan *s)
{
	u32 n = s->nfreed, w, below = s->freeindex;

	if (!n)
		return 0;
	for (w = 0; w < s->bitmap_words; w++) {
		u64 passed;

		/* Slots below freeindex were handed out since the last sweep. */
		if (below >= (w + 1) * 64)
			passed = ~0ULL;
		else if (below > w * 64)
			passed = (1ULL << (below - w * 64)) - 1;
		else
			passed = 0;
		s->alloc_bits[w] = (s->alloc_bits[w] | passed) & ~s->free_bits[w];
		s->free_bits[w] = 0;
	}
	s->alloc_count -= n;
	s->nfreed = 0;
	s->freeindex = 0;
	s->needzero = true;
	gm_span_refill_alloc_cache(s, 0);
	return n;
}

/**
 * gm_span_fold_local_frees() - make the caching CPU's frees the mcentral's
 * @s: the span; under its mcentral's lock, called by the CPU that caches
 *	it (pinned) or with the heap quiescent
 *
 * The slots freed locally become ordinary explicit frees (@free_bits,
 * @nfreed), which the next sweep makes allocatable.
 *
 * Return: the number of slots moved.
 */
u32 gm_span_fold_local_frees(struct gm_mspan *s)
{
	u32 i, n = s->nlocal;

	if (!n)
		return 0;
	for (i = 0; i < s->bitmap_words; i++) {
		s->free_bits[i] |= s->local_bits[i];
		WRITE_ONCE(s->local_bits[i], 0);
	}
	s->nfreed += n;
	s->nlocal = 0;
	return n;
}

/**
 * gm_span_count_marked() - number of slots whose mark bit is set
 * @s: the span
 *
 * Return: the count, what sweeping makes the new alloc_count.
 */
u32 gm_span_count_marked(const struct gm_mspan *s)
{
	u32 i, n = 0;

	for (i = 0; i < s->bitmap_words; i++)
		n += gm_popcount64(s->gcmark_bits[i]);
	return n;
}

/**
 * gm_span_untrack_objects() - tell the leak detector a span's objects are gone
 * @s: the span
 * @keep: slots to leave alone (the mark bits, for a sweep), or NULL
 *
 * Every allocated slot not in @keep: its object, or each tiny object of a
 * tiny block that is not freed already. Called only when the heap
 * tracks its objects (gm_free_hook_span()).
 */
void gm_span_untrack_objects(const struct gm_mspan *s, const u64 *keep)
{
	u32 i, off;

	for (i = 0; i < s->nelems; i++) {
		uintptr_t base = s->start + (uintptr_t)i * s->elemsize;
		u16 live_tiny;

		if (!gm_span_slot_allocated(s, i) || (keep && gm_bit_test(keep, i)))
			continue;
		if (!s->tiny_alloc || !s->tiny_alloc[i]) {
			gm_track_free((void *)base);
			continue;
		}
		live_tiny = s->tiny_alloc[i] & ~s->tiny_freed[i];
		for (off = 0; off < GM_TINY_SIZE; off++)
			if (live_tiny & (1U << off))
				gm_track_free((void *)(base + off));
	}
}
