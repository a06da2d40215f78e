// SPDX-License-Identifier: GPL-2.0
/*
 * gomem's heap, after Go's mheap.go: arena metadata, the sparse arena
 * index and the address-to-span and address-to-object lookups.
 */
#include "mheap.h"

#define GM_ADDR_MASK	((1ULL << GM_ADDR_BITS) - 1)

/* === the arena index ==================================================== */

/**
 * gm_arena_index_init() - set up an empty arena index
 * @ai: the index
 * @lock: the heap lock, held by every writer
 */
void gm_arena_index_init(struct gm_arena_index *ai, struct gm_mutex *lock)
{
	memset(ai, 0, sizeof(*ai));
	ai->lock = lock;
}

/**
 * gm_arena_index_destroy() - free every arena and L2 array
 * @ai: the index; no reader may use it any more
 */
void gm_arena_index_destroy(struct gm_arena_index *ai)
{
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(ai->l1); i++) {
		if (!ai->l1[i])
			continue;
		for (j = 0; j < (1UL << GM_ARENA_L2_BITS); j++)
			gm_free(ai->l1[i][j]);
		gm_free(ai->l1[i]);
		ai->l1[i] = NULL;
	}
	ai->narenas = 0;
}

/* Split an address into L1 and L2 indexes; false if not this heap's. */
static bool arena_idx(const struct gm_arena_index *ai, uintptr_t addr,
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
struct gm_heap_arena *gm_arena_of(const struct gm_arena_index *ai, uintptr_t addr)
{
	struct gm_heap_arena **l2;
	size_t i1, i2;

	if (!arena_idx(ai, addr, &i1, &i2))
		return NULL;
	l2 = gm_atomic_load_ptr(&ai->l1[i1]);
	return l2 ? gm_atomic_load_ptr(&l2[i2]) : NULL;
}

static int arena_create(struct gm_arena_index *ai, uintptr_t addr)
{
	struct gm_heap_arena **l2, *arena;
	size_t i1, i2;

	if (!arena_idx(ai, addr, &i1, &i2))
		return -EINVAL;
	l2 = ai->l1[i1];
	if (!l2) {
		l2 = gm_zalloc(sizeof(*l2) << GM_ARENA_L2_BITS);
		if (!l2)
			return -ENOMEM;
		gm_atomic_store_ptr(&ai->l1[i1], l2);
	}
	if (l2[i2])
		return 0;
	arena = gm_zalloc(sizeof(*arena));
	if (!arena)
		return -ENOMEM;
	arena->base = addr & ~(GM_ARENA_BYTES - 1);
	gm_atomic_store_ptr(&l2[i2], arena);
	ai->narenas++;
	return 0;
}

/**
 * gm_arena_ensure() - create the arenas covering a range of addresses
 * @ai: the index
 * @addr: start of the range
 * @bytes: length of the range, > 0
 *
 * The first call fixes the top address bits of the heap; later ranges
 * must share them. On failure, arenas created so far stay (they are
 * empty metadata and are freed with the index).
 *
 * Return: 0, -EINVAL for a range outside the heap's address space, or
 * -ENOMEM.
 */
int gm_arena_ensure(struct gm_arena_index *ai, uintptr_t addr, size_t bytes)
{
	uintptr_t a, end = addr + bytes - 1;
	int ret;

	gm_mutex_assert_held(ai->lock);
	if (end < addr || ((u64)addr & ~GM_ADDR_MASK) != ((u64)end & ~GM_ADDR_MASK))
		return -EINVAL;
	if (!ai->have_base) {
		ai->base = (u64)addr & ~GM_ADDR_MASK;
		ai->have_base = true;
	}
	for (a = addr & ~(GM_ARENA_BYTES - 1); a <= end; a += GM_ARENA_BYTES) {
		ret = arena_create(ai, a);
		if (ret)
			return ret;
		if (a + GM_ARENA_BYTES < a)
			break;
	}
	return 0;
}

/* === spans in arenas ==================================================== */

static void set_spans(struct gm_arena_index *ai, struct gm_mspan *s,
		      struct gm_mspan *value)
{
	uintptr_t addr = s->start;
	size_t i;

	for (i = 0; i < s->npages; i++, addr += GM_PAGE_SIZE) {
		struct gm_heap_arena *ha = gm_arena_of(ai, addr);
		size_t page = (addr - ha->base) >> GM_PAGE_SHIFT;

		WRITE_ONCE(ha->spans[page], value);
	}
}

/**
 * gm_arena_set_span() - record a span as the owner of its pages
 * @ai: the index, whose arenas cover the span (gm_arena_ensure())
 * @s: the span, laid out (gm_span_init_layout())
 *
 * Also sets the span's page_in_use bit.
 */
void gm_arena_set_span(struct gm_arena_index *ai, struct gm_mspan *s)
{
	struct gm_heap_arena *ha = gm_arena_of(ai, s->start);

	gm_mutex_assert_held(ai->lock);
	set_spans(ai, s, s);
	gm_bit_set(ha->page_in_use, (s->start - ha->base) >> GM_PAGE_SHIFT);
}

/**
 * gm_arena_clear_span() - forget a span that is being freed
 * @ai: the index
 * @s: the span
 */
void gm_arena_clear_span(struct gm_arena_index *ai, struct gm_mspan *s)
{
	struct gm_heap_arena *ha = gm_arena_of(ai, s->start);

	gm_mutex_assert_held(ai->lock);
	gm_bit_clear(ha->page_in_use, (s->start - ha->base) >> GM_PAGE_SHIFT);
	set_spans(ai, s, NULL);
}

/**
 * gm_span_init_layout() - describe a span's pages and slots
 * @s: the span
 * @start: address of its first page, 8 KiB aligned
 * @npages: number of pages
 * @spanclass: size class << 1 | noscan; class 0 is a large object
 * @elemsize: the class's object size; ignored for class 0
 *
 * Sets everything but the bitmaps (gm_span_init_bits()). The division
 * magic is Go's, ~0U / size + 1.
 */
void gm_span_init_layout(struct gm_mspan *s, uintptr_t start, size_t npages,
			 u8 spanclass, u32 elemsize)
{
	s->start = start;
	s->npages = npages;
	s->spanclass = spanclass;
	if (spanclass >> 1) {
		s->elemsize = elemsize;
		s->nelems = npages * GM_PAGE_SIZE / elemsize;
		s->divmul = 0xffffffffU / elemsize + 1;
	} else {
		s->elemsize = npages * GM_PAGE_SIZE;
		s->nelems = 1;
		s->divmul = 0;
	}
}

/**
 * gm_span_of() - the in-use span holding an address (Go's spanOf)
 * @ai: the heap's arena index
 * @addr: any address
 *
 * Return: the span, or NULL if @addr is not in an in-use span of the heap.
 */
struct gm_mspan *gm_span_of(const struct gm_arena_index *ai, uintptr_t addr)
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

/**
 * gm_find_object() - the object slot an address points into (findObject)
 * @ai: the heap's arena index
 * @addr: any address; interior pointers count
 * @spanp: if not NULL, set to the span
 * @indexp: if not NULL, set to the slot index
 *
 * Finds the slot whether or not it is allocated; the caller checks the
 * bitmaps if that matters.
 *
 * Return: the slot's base address, or 0 if @addr is outside every slot of
 * the heap's in-use spans (including a span's tail waste).
 */
uintptr_t gm_find_object(const struct gm_arena_index *ai, uintptr_t addr,
			 struct gm_mspan **spanp, u32 *indexp)
{
	struct gm_mspan *s = gm_span_of(ai, addr);
	u32 idx;

	if (!s)
		return 0;
	idx = gm_span_obj_index(s, addr);
	if (idx >= s->nelems)
		return 0;
	if (spanp)
		*spanp = s;
	if (indexp)
		*indexp = idx;
	return s->start + (uintptr_t)idx * s->elemsize;
}
