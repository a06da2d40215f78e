/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The types of Go's mheap.go: the mspan (a run of pages holding objects
 * of one span class, or one large object, with its allocation and mark
 * bitmaps), span classes, span lists (mSpanList), arenas (heapArena) and
 * the blocks taken from the page source; and mheap.c's functions, which
 * turn pages into spans and back.
 */
#ifndef _GOMEM_MHEAP_H
#define _GOMEM_MHEAP_H

#include "heap.h"
#include "mpagealloc.h"
#include "msize.h"

/* Span classes: size class << 1 | noscan (Go's spanClass). */
#define GM_NUM_SPAN_CLASSES	(GM_NUM_SIZE_CLASSES << 1)
/* Tiny blocks are 16-byte noscan objects (Go's tinySpanClass). */
#define GM_TINY_SIZECLASS	2
#define GM_TINY_SPANCLASS	(GM_TINY_SIZECLASS << 1 | 1)

struct gm_span_list;

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
 * @elemsize: bytes per slot (the class size, or the whole span if large:
 *	a large object may be 4 GiB or more, so this is not a u32)
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
 * @bitmap_words: 64-bit words in each bitmap
 * @bitmap_cap: words each bitmap has room for: the bitmaps belong to the
 *	span structure, which is recycled but never freed before its heap,
 *	so a stale lockless reader or a batched free's compare-and-swap
 *	(gm_mcache_free_batched()) never touches freed memory; a recycled
 *	structure gets spans of at most @bitmap_cap words
 * @divmul: the class's division magic: (offset * divmul) >> 32 is the
 *	slot of a byte offset in the span; 0 for a large span (one slot)
 * @free_bits: slots freed explicitly since the span's last sweep (a
 *	gomem addition: Go frees only by sweeping)
 * @nfreed: bits set in @free_bits
 * @local_bits: slots freed by the CPU whose mcache holds the span, since
 *	its last sweep (gm_mcache_free_local()): written by that CPU alone,
 *	with the CPU pinned, and folded into @free_bits under the mcentral
 *	lock when that CPU sweeps or lets go of the span
 * @nlocal: bits set in @local_bits
 * @pend_bits: slots freed by a CPU that does not cache the span, waiting
 *	in that CPU's batch (gm_mcache_free_batched()): set with a
 *	compare-and-swap, cleared under the mcentral lock when the batch is
 *	applied (gm_mcache_flush_batch())
 * @root_bits: one bit per slot, set while the object is a registered root
 *	of the collector (changed under the mcentral lock, or the heap lock
 *	for a large span)
 * @cached: an mcache allocates from this span
 * @next: next span in an mcentral list
 * @prev: previous span in an mcentral list
 * @list: the mcentral list holding the span, NULL if none
 * @allnext: next span structure of the heap, live or recycled
 * @tiny_alloc: spans of the tiny span class only: per 16-byte slot, a bit
 *	for each byte offset where a tiny object starts; 0 for a slot that is
 *	not a tiny block. Written by the mcache whose current tiny block it is.
 * @tiny_freed: the same bits for tiny objects freed, set with a
 *	compare-and-swap (by the caching CPU without a lock, by others under
 *	the mcentral lock), cleared under the mcentral lock when the block is
 *	reclaimed
 * @tiny_end: per tiny block, a bit at the last byte of each tiny object;
 *	written with @tiny_alloc
 * @tiny_pending: tiny objects freed under the mcentral lock whose block is
 *	not reclaimed yet (a recount at each reclaim makes it exact)
 * @tiny_local: tiny objects the caching CPU freed since it last
 *	reclaimed; written by that CPU only
 * @nsampled: live objects of the span in the heap profile's table;
 *	changed under the profile's lock, read without it by frees, which
 *	look the object up only if it is not 0 (mprof.c)
 *
 * @free_bits, @nfreed and @cached change under the span class's mcentral
 * lock; @local_bits and @nlocal belong to the caching CPU, as above. The allocation fields (freeindex, alloc_cache, alloc_count) belong
 * to the mcache that caches the span, or to the mcentral lock when none
 * does.
 *
 * The bitmaps are whole 64-bit words so that refilling alloc_cache never
 * reads past their end. Go allocates them from per-GC arenas; gomem keeps
 * both with the span and clears the mark bitmap when it recycles it.
 */
struct gm_mspan {
	uintptr_t start;
	size_t npages;
	size_t elemsize;
	u32 nelems;
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
	u32 bitmap_cap;
	u32 divmul;
	u64 *free_bits;
	u32 nfreed;
	u64 *local_bits;
	u32 nlocal;
	u64 *pend_bits;
	u64 *root_bits;
	bool cached;
	struct gm_mspan *next;
	struct gm_mspan *prev;
	struct gm_span_list *list;
	struct gm_mspan *allnext;
	u16 *tiny_alloc;
	u32 *tiny_freed;
	u16 *tiny_end;
	u32 tiny_pending;
	u32 tiny_local;
	u32 nsampled;
} ____cacheline_aligned;	/* each CPU's cached span on lines of its own */

/* Free lists of span structures: by bitmap words, 1 to 16 (1024 slots of 8 B), and none. */
#define GM_SPAN_FREE_LISTS	17

/* Words of a span's bitmaps for @nelems slots. */
static inline u32 gm_span_words(u32 nelems)
{
	return (nelems + 63) / 64;
}

int gm_span_init_bits(struct gm_mspan *s, u32 nelems);
size_t gm_span_bits_bytes(const struct gm_mspan *s);
void gm_span_release_bits(struct gm_mspan *s);
bool gm_span_slot_pending(const struct gm_mspan *s, u32 index);
void gm_span_clear_pend(struct gm_mspan *s, u32 w, u64 mask);
bool gm_span_set_pend(struct gm_mspan *s, u32 index);
bool gm_span_tiny_set_freed(struct gm_mspan *s, u32 index, u32 bit);
bool gm_span_slot_allocated(const struct gm_mspan *s, u32 index);
u64 gm_span_allocated_word(const struct gm_mspan *s, u32 word);
u32 gm_span_sweep_free_bits(struct gm_mspan *s);
u32 gm_span_fold_local_frees(struct gm_mspan *s);
void gm_span_free_bits(struct gm_mspan *s);
void gm_span_refill_alloc_cache(struct gm_mspan *s, u32 word);
u32 gm_span_next_free_index(struct gm_mspan *s);
bool gm_span_is_free(const struct gm_mspan *s, u32 index);
u32 gm_span_count_marked(const struct gm_mspan *s);
void gm_span_untrack_objects(const struct gm_mspan *s, const u64 *keep);

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

/* === arenas ============================================================ */

/**
 * struct gm_heap_arena - metadata of one 64 MiB arena (Go's heapArena)
 * @spans: the span of each page, for pages of in-use spans (and free
 *	pages may hold stale entries: always check the span's bounds)
 * @page_in_use: one bit per page, set on the first page of each in-use span
 * @page_marks: one bit per page, set on the first page of each span
 *	with a marked object (for the collector)
 * @base: address of the arena's first byte
 * @zeroed_base: bytes from @base below which pages may have been used:
 *	pages at or above it are still as zeroed as the page source gave
 *	them (Go's zeroedBase)
 */
struct gm_heap_arena {
	struct gm_mspan *spans[GM_ARENA_PAGES];
	u64 page_in_use[GM_ARENA_PAGES / 64];
	u64 page_marks[GM_ARENA_PAGES / 64];
	uintptr_t base;
	uintptr_t zeroed_base;
};

/*
 * The sparse arena index (Go's arenas[L1][L2]): 48-bit offsets give 2^22
 * arenas; L1 has 2^10 entries, each L2 array 2^12 arena pointers (32 KiB)
 * allocated when an arena in its range first appears.
 */
#define GM_ARENA_L1_BITS	10
/* The offset bits of an address in a heap (GM_ADDR_BITS). */
#define GM_ADDR_MASK		((1ULL << GM_ADDR_BITS) - 1)
#define GM_ARENA_L2_BITS	(GM_ADDR_BITS - GM_ARENA_SHIFT - GM_ARENA_L1_BITS)

/**
 * struct gm_arena_index - every arena of one heap, by address
 * @lock: the heap lock; writers hold it, readers need nothing
 * @base: the top (64 - GM_ADDR_BITS) bits every address of the heap shares
 * @have_base: @base is set (by the first arena)
 * @narenas: arenas created
 * @lo: the lowest address of any arena, 0 before the first
 * @hi: the last byte of the highest arena: every heap address is in
 *	[@lo, @hi], which lets the collector drop most non-pointers with
 *	one compare
 * @l1: the first level; entries and the arenas they lead to are
 *	published with a store-release, so lockless readers see them whole
 * @meta_bytes: bytes of arena structures and L2 arrays (GCSys, as Go
 *	counts its heapArena metadata), under the lock, read with READ_ONCE()
 */
struct gm_arena_index {
	struct gm_mutex *lock;
	uintptr_t base;
	bool have_base;
	size_t narenas;
	uintptr_t lo;
	uintptr_t hi;
	u64 meta_bytes;
	struct gm_heap_arena **l1[1 << GM_ARENA_L1_BITS];
};

void gm_arena_index_init(struct gm_arena_index *ai, struct gm_mutex *lock);
void gm_arena_index_destroy(struct gm_arena_index *ai);
int gm_arena_ensure(struct gm_arena_index *ai, uintptr_t addr, size_t bytes);
void gm_arena_set_span(struct gm_arena_index *ai, struct gm_mspan *s);
void gm_arena_clear_span(struct gm_arena_index *ai, struct gm_mspan *s);
/* Split an address into L1 and L2 indexes; false if not this heap's. */
static __always_inline bool gm_arena_idx(const struct gm_arena_index *ai, uintptr_t addr,
					 size_t *l1, size_t *l2)
{
	u64 off = (u64)addr & GM_ADDR_MASK;
	u64 n = off >> GM_ARENA_SHIFT;

	if (!ai->have_base || ((u64)addr & ~GM_ADDR_MASK) != ai->base)
		return false;
	*l1 = n >> GM_ARENA_L2_BITS;
	*l2 = n & ((1UL << GM_ARENA_L2_BITS) - 1);
	return true;
}

/**
 * gm_arena_of() - the arena holding an address
 * @ai: the index
 * @addr: any address
 *
 * Needs no lock: the L2 arrays and arenas are published whole.
 *
 * Return: the arena, or NULL if no arena of this heap covers @addr.
 */
static __always_inline struct gm_heap_arena *gm_arena_of(const struct gm_arena_index *ai,
							 uintptr_t addr)
{
	struct gm_heap_arena **l2;
	size_t i1, i2;

	if (!gm_arena_idx(ai, addr, &i1, &i2))
		return NULL;
	l2 = gm_atomic_load_ptr(&ai->l1[i1]);
	return l2 ? gm_atomic_load_ptr(&l2[i2]) : NULL;
}

/**
 * gm_span_of() - the in-use span holding an address (Go's spanOf)
 * @ai: the heap's arena index
 * @addr: any address
 *
 * Inline: every free starts here (a few loads: the arena index's two
 * levels, then the arena's span of the page).
 *
 * Return: the span, or NULL if @addr is not in an in-use span of the heap.
 */
static __always_inline struct gm_mspan *gm_span_of(const struct gm_arena_index *ai,
						   uintptr_t addr)
{
	struct gm_heap_arena *ha = gm_arena_of(ai, addr);
	struct gm_mspan *s;

	if (!ha)
		return NULL;
	s = READ_ONCE(ha->spans[(addr - ha->base) >> GM_PAGE_SHIFT]);
	/* Entries of freed pages may be stale: check bounds and state. */
	if (!s || READ_ONCE(s->state) != GM_SPAN_IN_USE || addr < s->start ||
	    addr - s->start >= s->npages * GM_PAGE_SIZE)
		return NULL;
	return s;
}

uintptr_t gm_find_object(const struct gm_arena_index *ai, uintptr_t addr,
			 struct gm_mspan **spanp, u32 *indexp);
void gm_span_init_layout(struct gm_mspan *s, uintptr_t start, size_t npages,
			 u8 spanclass, u32 elemsize);

/**
 * gm_span_obj_index() - the slot of an address inside a span
 * @s: the span
 * @addr: an address in [s->start, s->start + npages * GM_PAGE_SIZE)
 *
 * A multiply and a shift, as in Go (exact for every byte of the span: see
 * the division magic in sizeclasses.h).
 *
 * Return: the slot index; may be >= s->nelems in the span's tail.
 */
static __always_inline u32 gm_span_obj_index(const struct gm_mspan *s, uintptr_t addr)
{
	return (u32)(((u64)(addr - s->start) * s->divmul) >> 32);
}

/* === span lists and pages ============================================== */

/**
 * struct gm_span_list - a list of spans (Go's mSpanList)
 * @first: the first span, NULL if none
 * @len: spans on the list
 *
 * Whoever owns the list locks it: an mcentral's lists are under its lock.
 */
struct gm_span_list {
	struct gm_mspan *first;
	size_t len;
};

void gm_span_list_push(struct gm_span_list *l, struct gm_mspan *s);
void gm_span_list_remove(struct gm_mspan *s);

/* A block from the page source: @size bytes used of a 2^@order block. */
struct gm_block {
	uintptr_t addr;
	size_t size;
	unsigned int order;
	struct gm_block *next;
};

struct gm_mspan *gm_mheap_alloc_span(struct gm_heap *h, size_t npages, u8 spanclass);
void gm_mheap_free_span(struct gm_heap *h, struct gm_mspan *s);
void gm_mheap_release_span(struct gm_heap *h, struct gm_mspan *s);
bool gm_heap_drain_deferred(struct gm_heap *h);
void gm_mheap_zero(struct gm_heap *h, uintptr_t addr, size_t len);
void gm_mheap_read(struct gm_heap *h, uintptr_t addr, void *buf, size_t len);

#endif /* _GOMEM_MHEAP_H */
