// SPDX-License-Identifier: GPL-2.0
/*
 * Span allocation and mark bitmaps, as in Go's mbitmap.go: the slow path
 * of finding a free slot (nextFreeIndex) and the alloc_cache refill.
 */
#include "mheap.h"

/* The span's bitmaps, in one block of six, each @stride words apart. */
#define GM_SPAN_BITMAPS	6

/* Bytes of a block of bitmaps for @words words each. */
static size_t bits_block_bytes(u32 words)
{
	return ALIGN(GM_SPAN_BITMAPS * words * sizeof(u64), GM_CACHE_LINE);
}

/**
 * gm_span_bits_bytes() - the bytes of a span structure's bitmaps
 * @s: the span structure, in use or recycled
 *
 * Return: the size of its block of bitmaps, 0 if it has none yet (the
 * heap counts them in GCSys).
 */
size_t gm_span_bits_bytes(const struct gm_mspan *s)
{
	return s->alloc_bits ? bits_block_bytes(s->bitmap_cap) : 0;
}

/**
 * gm_span_init_bits() - give a span empty bitmaps
 * @s: the span; nelems and the bitmaps are set here
 * @nelems: number of object slots
 *
 * A recycled structure keeps its block (see @bitmap_cap) if it has room
 * for @nelems slots, else gets a new one. Also resets freeindex,
 * alloc_count and alloc_cache: every slot is free.
 *
 * Return: 0, or -ENOMEM.
 */
int gm_span_init_bits(struct gm_mspan *s, u32 nelems)
{
	u32 words = gm_span_words(nelems), stride;
	u64 *bits = s->alloc_bits;

	if (!bits || s->bitmap_cap < words) {
		/*
		 * Whole cache lines: the CPU that caches a span writes its bits
		 * on every allocation and free, and must not share a line with
		 * another CPU's span (gm_zalloc() aligns whole lines).
		 */
		if (GM_WARN_ON_ONCE(bits))
			return -EINVAL;
		bits = gm_zalloc(bits_block_bytes(words));
		if (!bits)
			return -ENOMEM;
		/* Bits, not pointers; referenced only from the (ignored) span. */
		if (GM_TRACK_OBJECTS)
			gm_track_ignore(bits);
		s->bitmap_cap = words;
	} else {
		memset(bits, 0, GM_SPAN_BITMAPS * s->bitmap_cap * sizeof(u64));
	}
	stride = s->bitmap_cap;
	s->alloc_bits = bits;
	s->gcmark_bits = bits + stride;
	s->free_bits = bits + 2 * stride;
	s->root_bits = bits + 3 * stride;
	s->local_bits = bits + 4 * stride;
	s->pend_bits = bits + 5 * stride;
	s->bitmap_words = words;
	s->nelems = nelems;
	s->freeindex = 0;
	s->alloc_count = 0;
	s->nfreed = 0;
	s->nlocal = 0;
	gm_span_refill_alloc_cache(s, 0);
	return 0;
}

/* The tiny allocator's masks go with the span; only its own CPU or the lock reads them. */
static void free_tiny_masks(struct gm_mspan *s)
{
	gm_free(s->tiny_freed);
	s->tiny_alloc = NULL;
	s->tiny_freed = NULL;
	s->tiny_end = NULL;
	s->tiny_pending = 0;
	s->tiny_local = 0;
}

/**
 * gm_span_release_bits() - a dead span's bitmaps stay with its structure
 * @s: the span, dead
 *
 * The block is kept for the structure's next span (see @bitmap_cap); the
 * tiny allocator's masks are freed.
 */
void gm_span_release_bits(struct gm_mspan *s)
{
	free_tiny_masks(s);
	s->nlocal = 0;
}

/**
 * gm_span_free_bits() - free a span's bitmaps, with its structure
 * @s: the span; no one may read it any more (its heap is going)
 */
void gm_span_free_bits(struct gm_mspan *s)
{
	free_tiny_masks(s);
	gm_free(s->alloc_bits);
	s->alloc_bits = NULL;
	s->gcmark_bits = NULL;
	s->free_bits = NULL;
	s->root_bits = NULL;
	s->local_bits = NULL;
	s->pend_bits = NULL;
	s->nlocal = 0;
	s->bitmap_words = 0;
	s->bitmap_cap = 0;
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
 * mcentral, by the CPU that caches the span, or into another CPU's batch.
 *
 * Return: true if the slot is allocated.
 */
bool gm_span_slot_allocated(const struct gm_mspan *s, u32 index)
{
	/* Other CPUs may be changing these words: one read of each. */
	if (gm_bit_test(s->free_bits, index) ||
	    (READ_ONCE(s->local_bits[index / 64]) >> (index % 64) & 1) ||
	    (READ_ONCE(s->pend_bits[index / 64]) >> (index % 64) & 1))
		return false;
	return index < READ_ONCE(s->freeindex) || gm_bit_test(s->alloc_bits, index);
}

/**
 * gm_span_allocated_word() - gm_span_slot_allocated() for 64 slots at once
 * @s: the span
 * @word: which 64 slots, below s->bitmap_words
 *
 * For the collector, which needs it per word of a bitmap: with the world
 * stopped the words read here do not change.
 *
 * Return: one bit per slot of the word, set if the slot is allocated;
 * bits past s->nelems are clear.
 */
u64 gm_span_allocated_word(const struct gm_mspan *s, u32 word)
{
	u32 first = word * 64, fi = READ_ONCE(s->freeindex);
	u64 below, valid, gone;

	if (first >= s->nelems)
		return 0;
	valid = s->nelems - first >= 64 ? ~0ULL : (1ULL << (s->nelems - first)) - 1;
	if (fi >= first + 64)
		below = ~0ULL;
	else
		below = fi > first ? (1ULL << (fi - first)) - 1 : 0;
	gone = s->free_bits[word] | READ_ONCE(s->local_bits[word]) |
	       READ_ONCE(s->pend_bits[word]);
	return (below | s->alloc_bits[word]) & ~gone & valid;
}

/**
 * gm_span_slot_pending() - whether a slot waits in a CPU's batch of frees
 * @s: the span, under its mcentral's lock
 * @index: slot index, below s->nelems
 *
 * Return: true if the slot's pend bit is set and the slot is otherwise
 * allocated (not freed by another path since).
 */
bool gm_span_slot_pending(const struct gm_mspan *s, u32 index)
{
	if (!(READ_ONCE(s->pend_bits[index / 64]) >> (index % 64) & 1) ||
	    gm_bit_test(s->free_bits, index) ||
	    (READ_ONCE(s->local_bits[index / 64]) >> (index % 64) & 1))
		return false;
	return index < READ_ONCE(s->freeindex) || gm_bit_test(s->alloc_bits, index);
}

/**
 * gm_span_set_pend() - mark a slot freed into a CPU's batch
 * @s: the span, without a lock
 * @index: slot index, below s->nelems
 *
 * Other CPUs may set other bits of the word meanwhile: compare-and-swap.
 *
 * Return: false if the slot's pend bit was set already (a double free).
 */
bool gm_span_set_pend(struct gm_mspan *s, u32 index)
{
	u64 bit = 1ULL << (index % 64), *word = &s->pend_bits[index / 64], old;

	do {
		old = READ_ONCE(*word);
		if (old & bit)
			return false;
	} while (!gm_atomic_cas_u64(word, old, old | bit));
	return true;
}

/**
 * gm_span_tiny_set_freed() - mark a tiny object freed in its block's mask
 * @s: a span of the tiny class
 * @index: the block's slot
 * @bit: the object's start offset, as a bit
 *
 * The CPU caching @s sets bits without a lock, others under the mcentral
 * lock: compare-and-swap either way.
 *
 * Return: false if no live tiny object starts there (never allocated, or
 * freed already).
 */
bool gm_span_tiny_set_freed(struct gm_mspan *s, u32 index, u32 bit)
{
	u32 old;

	do {
		old = READ_ONCE(s->tiny_freed[index]);
		if (!(READ_ONCE(s->tiny_alloc[index]) & bit) || (old & bit))
			return false;
	} while (!gm_atomic_cas_u32(&s->tiny_freed[index], old, old | bit));
	return true;
}

/**
 * gm_span_clear_pend() - clear pend bits of slots whose free is swept
 * @s: the span, under its mcentral's lock
 * @w: the word
 * @mask: the bits to clear
 *
 * Other CPUs may set other bits of the word meanwhile: compare-and-swap.
 */
void gm_span_clear_pend(struct gm_mspan *s, u32 w, u64 mask)
{
	u64 old;

	do {
		old = READ_ONCE(s->pend_bits[w]);
		if (!(old & mask))
			return;
	} while (!gm_atomic_cas_u64(&s->pend_bits[w], old, old & ~mask));
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
		gm_span_clear_pend(s, w, s->free_bits[w]);
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
