// SPDX-License-Identifier: GPL-2.0
/*
 * gomem's heap, after Go's mheap.go: arena metadata, the sparse arena
 * index, the address-to-span and address-to-object lookups, span lists,
 * and spans from pages: growing the heap from its page source, taking
 * and giving back a span's pages (allocSpan, freeSpan), and reading and
 * zeroing the heap's memory through the page source.
 */
#include "malloc.h"

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

static int arena_create(struct gm_arena_index *ai, uintptr_t addr)
{
	struct gm_heap_arena **l2, *arena;
	size_t i1, i2;

	if (!gm_arena_idx(ai, addr, &i1, &i2))
		return -EINVAL;
	l2 = ai->l1[i1];
	if (!l2) {
		l2 = gm_zalloc(sizeof(*l2) << GM_ARENA_L2_BITS);
		if (!l2)
			return -ENOMEM;
		WRITE_ONCE(ai->meta_bytes, ai->meta_bytes + (sizeof(*l2) << GM_ARENA_L2_BITS));
		gm_atomic_store_ptr(&ai->l1[i1], l2);
	}
	if (l2[i2])
		return 0;
	arena = gm_zalloc(sizeof(*arena));
	if (!arena)
		return -ENOMEM;
	WRITE_ONCE(ai->meta_bytes, ai->meta_bytes + sizeof(*arena));
	arena->base = addr & ~(GM_ARENA_BYTES - 1);
	gm_atomic_store_ptr(&l2[i2], arena);
	if (!ai->narenas++ || arena->base < ai->lo)
		ai->lo = arena->base;
	/* The last arena of the address space ends at 0: keep the range closed. */
	ai->hi = max(ai->hi, arena->base + (GM_ARENA_BYTES - 1));
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

/* === span lists (Go's mSpanList) ======================================== */

/**
 * gm_span_list_push() - put a span at the head of a list
 * @l: the list, under its mcentral's lock
 * @s: a span on no list
 */
void gm_span_list_push(struct gm_span_list *l, struct gm_mspan *s)
{
	s->prev = NULL;
	s->next = l->first;
	if (l->first)
		l->first->prev = s;
	l->first = s;
	s->list = l;
	l->len++;
}

/**
 * gm_span_list_remove() - take a span off its list
 * @s: a span on a list, under its mcentral's lock
 */
void gm_span_list_remove(struct gm_mspan *s)
{
	struct gm_span_list *l = s->list;

	if (s->prev)
		s->prev->next = s->next;
	else
		l->first = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	s->list = NULL;
	l->len--;
}

/* === spans from pages =================================================== */

/*
 * Go's allocNeedsZero: pages below an arena's zeroed_base may be dirty;
 * with a page source that does not zero its blocks, every page may be.
 */
static bool alloc_needs_zero(struct gm_heap *h, uintptr_t base, size_t npages)
{
	uintptr_t end = base + npages * GM_PAGE_SIZE;
	bool dirty = !h->src->zeroed;

	gm_mutex_assert_held(&h->lock);
	while (base < end) {
		struct gm_heap_arena *ha = gm_arena_of(&h->arenas, base);
		uintptr_t off = base - ha->base;
		uintptr_t stop = min(end - ha->base, (uintptr_t)GM_ARENA_BYTES);

		if (off < ha->zeroed_base)
			dirty = true;
		if (stop > ha->zeroed_base)
			ha->zeroed_base = stop;
		base = ha->base + stop;
	}
	return dirty;
}

/* Smallest order (log2 of bytes) of a block holding @npages pages. */
static unsigned int block_order(size_t npages)
{
	unsigned int order = GM_PAGE_SHIFT;

	while ((1UL << order) < npages * GM_PAGE_SIZE)
		order++;
	return order;
}

/*
 * Bytes of a block of 2^@order the heap uses for a request of @npages:
 * all of it up to a chunk; above, the request rounded up to chunks, as
 * Go maps what a large object needs and not the next power of two.
 */
static size_t block_bytes(unsigned int order, size_t npages)
{
	size_t need = npages * GM_PAGE_SIZE;

	if (order <= GM_CHUNK_SHIFT)
		return 1UL << order;
	return (need + GM_CHUNK_BYTES - 1) & ~(GM_CHUNK_BYTES - 1);
}

/*
 * Go's mheap.grow: take a block from the page source and give its pages
 * to the page allocator. A whole chunk is asked for first; when the
 * source cannot supply one (fragmented physical memory), smaller blocks
 * down to what the request needs.
 */
static int heap_grow(struct gm_heap *h, size_t npages)
{
	unsigned int need = block_order(npages), order = max_t(unsigned int, need, GM_CHUNK_SHIFT);
	struct gm_block *b = gm_zalloc(sizeof(*b));
	uintptr_t addr = 0;
	size_t bytes = 0;

	gm_mutex_assert_held(&h->lock);
	if (!b)
		return -ENOMEM;
	if (GM_TRACK_OBJECTS)
		gm_track_ignore(b);
	for (; order >= need && !addr; order--) {
		bytes = block_bytes(order, npages);
		addr = h->src->alloc_block(h->src_ctx, order, bytes);
	}
	if (!addr) {
		gm_free(b);
		return -ENOMEM;
	}
	order++;	/* undo the loop's last decrement */
	if (gm_arena_ensure(&h->arenas, addr, bytes) ||
	    gm_pagealloc_grow(&h->pages, addr, bytes >> GM_PAGE_SHIFT, h->src->lazy)) {
		h->src->free_block(h->src_ctx, addr, order, bytes);
		gm_free(b);
		return -ENOMEM;
	}
	b->addr = addr;
	b->size = bytes;
	b->order = order;
	b->next = h->blocks;
	h->blocks = b;
	h->sys_bytes += bytes;
	gm_heap_meta_add(h, GM_META_OTHER, sizeof(*b));
	return 0;
}

/* The free list of structures whose bitmaps hold @cap words (0: none yet). */
static unsigned int free_list_of(u32 cap)
{
	return min_t(u32, cap, GM_SPAN_FREE_LISTS - 1);
}

/*
 * Span structures are recycled, never freed before the heap (see gm_heap),
 * and keep their bitmaps: one with room for @words words, or one with no
 * bitmaps yet, or a new one.
 */
static struct gm_mspan *span_struct_alloc(struct gm_heap *h, u32 words)
{
	struct gm_mspan *s, **pp;
	unsigned int i;

	gm_mutex_assert_held(&h->lock);
	for (i = free_list_of(words); i < GM_SPAN_FREE_LISTS; i++) {
		for (pp = &h->spans_free[i]; (s = *pp); pp = &s->next) {
			if (s->bitmap_cap >= words)
				break;
		}
		if (s)
			break;
	}
	if (!s && h->spans_free[0]) {
		pp = &h->spans_free[0];
		s = *pp;
	}
	if (s) {
		*pp = s->next;
		s->next = NULL;
		WRITE_ONCE(h->spans_nfree, h->spans_nfree - 1);
		return s;
	}
	s = gm_zalloc(sizeof(*s));
	if (s) {
		if (GM_TRACK_OBJECTS)
			gm_track_ignore(s);
		s->allnext = h->spans_all;
		h->spans_all = s;
		/* Never freed before the heap, as Go's spanalloc never frees. */
		gm_heap_meta_add(h, GM_META_MSPAN, sizeof(*s));
	}
	return s;
}

static void span_struct_free(struct gm_heap *h, struct gm_mspan *s)
{
	unsigned int i = free_list_of(s->alloc_bits ? s->bitmap_cap : 0);

	gm_mutex_assert_held(&h->lock);
	s->next = h->spans_free[i];
	h->spans_free[i] = s;
	WRITE_ONCE(h->spans_nfree, h->spans_nfree + 1);
}

/*
 * Small spans come from the CPU's page cache, a 64-page window of one
 * chunk, as in Go: no radix-tree search while the window lasts. (Go also
 * avoids the heap lock there; gomem still takes it to set the span up.)
 */
static uintptr_t pages_from_cache(struct gm_heap *h, size_t npages, size_t *scav)
{
	struct gm_mcache *c;
	uintptr_t base;

	/* The lock order: the heap lock, then the CPU (see malloc.h). */
	gm_mutex_assert_held(&h->lock);
	c = gm_percpu_ptr(h->caches, gm_cpu_get());
	base = gm_pagecache_alloc(&c->pcache, npages, scav);
	if (!base && !gm_pagealloc_fill_cache(&h->pages, &c->pcache))
		base = gm_pagecache_alloc(&c->pcache, npages, scav);
	gm_cpu_put();
	return base;
}

/*
 * Pages for a span: the page cache for small spans, else (or when the
 * cache's window has no room) a first-fit search, else a new block.
 */
static uintptr_t pages_alloc(struct gm_heap *h, size_t npages, bool *needzero)
{
	bool small = npages < GM_PAGECACHE_PAGES / 4;
	uintptr_t base = 0;
	size_t scav = 0;

	gm_mutex_assert_held(&h->lock);
	if (small)
		base = pages_from_cache(h, npages, &scav);
	if (!base)
		base = gm_pagealloc_alloc(&h->pages, npages, &scav);
	if (!base) {
		if (heap_grow(h, npages))
			return 0;
		if (small)
			base = pages_from_cache(h, npages, &scav);
		if (!base)
			base = gm_pagealloc_alloc(&h->pages, npages, &scav);
		if (!base)
			return 0;
	}
	/* Go's sysUsed: released pages are about to be used again. */
	if (scav && h->src->used)
		h->src->used(h->src_ctx, base, npages * GM_PAGE_SIZE);
	*needzero = alloc_needs_zero(h, base, npages);
	return base;
}

/* The tiny allocator's masks: freed (u32, for compare-and-swap), alloc and end (u16). */
static size_t tiny_masks_bytes(const struct gm_mspan *s)
{
	return s->nelems * (sizeof(u32) + 2 * sizeof(u16));
}

static int span_setup(struct gm_heap *h, struct gm_mspan *s, uintptr_t base,
		      size_t npages, u8 spanclass)
{
	u8 sizeclass = spanclass >> 1;
	size_t bits_before = gm_span_bits_bytes(s);
	int ret;

	gm_mutex_assert_held(&h->lock);
	gm_span_init_layout(s, base, npages, spanclass, gm_class_size(sizeclass));
	ret = gm_span_init_bits(s, s->nelems);
	if (ret)
		return ret;
	/* A new block of bitmaps stays with the structure until the heap goes. */
	gm_heap_meta_add(h, GM_META_GC, gm_span_bits_bytes(s) - bits_before);
	if (spanclass == GM_TINY_SPANCLASS) {
		s->tiny_freed = gm_zalloc(tiny_masks_bytes(s));
		if (!s->tiny_freed) {
			gm_span_release_bits(s);
			return -ENOMEM;
		}
		gm_heap_meta_add(h, GM_META_GC, tiny_masks_bytes(s));
		if (GM_TRACK_OBJECTS)
			gm_track_ignore(s->tiny_freed);
		s->tiny_alloc = (u16 *)(s->tiny_freed + s->nelems);
		s->tiny_end = s->tiny_alloc + s->nelems;
	}
	s->sweepgen = h->sweepgen;
	s->cached = false;
	s->next = s->prev = NULL;
	gm_arena_set_span(&h->arenas, s);
	/*
	 * Lockless readers (gm_span_of) check the state last. A large
	 * object's span is not in use until gm_mcentral_add_large() has made
	 * it whole: a free of its (predictable) address must not find it
	 * before it is on a list.
	 */
	if (sizeclass)
		WRITE_ONCE(s->state, GM_SPAN_IN_USE);
	h->inuse_pages += npages;
	h->class_spans[sizeclass]++;
	return 0;
}

/**
 * gm_mheap_alloc_span() - a new span of pages (Go's mheap.alloc)
 * @h: the heap
 * @npages: pages, at least 1
 * @spanclass: size class << 1 | noscan; size class 0 for a large object
 *
 * The caller has paid the span's sweep credit (gm_sweep_deduct_credit()),
 * as Go's callers of mheap.alloc do. Afterwards gives free pages back if
 * the heap went over its memory limit, as Go's allocSpan does. Takes the
 * heap lock; call without a lock or the CPU pinned. May sleep (the page
 * source may).
 *
 * Return: the span, with empty bitmaps, or NULL if memory ran out. A
 * small span is in use; a large object's is in use once
 * gm_mcentral_add_large() publishes it.
 */
struct gm_mspan *gm_mheap_alloc_span(struct gm_heap *h, size_t npages, u8 spanclass)
{
	struct gm_mspan *s;
	bool needzero;
	uintptr_t base;

	gm_might_sleep();
	gm_heap_drain_deferred(h);
	gm_mutex_lock(&h->lock);
	s = span_struct_alloc(h, spanclass >> 1 ?
			      gm_span_words(npages * GM_PAGE_SIZE / gm_class_size(spanclass >> 1)) :
			      1);
	if (!s)
		goto fail;
	base = pages_alloc(h, npages, &needzero);
	if (!base)
		goto fail_struct;
	if (span_setup(h, s, base, npages, spanclass)) {
		gm_pagealloc_free(&h->pages, base, npages);
		goto fail_struct;
	}
	s->needzero = needzero;
	gm_mutex_unlock(&h->lock);
	if (READ_ONCE(h->gc.memory_limit) != GM_NO_LIMIT)
		gm_scavenge_for_limit(h);
	return s;

fail_struct:
	span_struct_free(h, s);
fail:
	gm_mutex_unlock(&h->lock);
	return NULL;
}

static struct gm_block *block_of(struct gm_heap *h, uintptr_t addr, struct gm_block ***prevp)
{
	struct gm_block **pp, *b;

	for (pp = &h->blocks; (b = *pp); pp = &b->next) {
		if (addr - b->addr < b->size) {
			*prevp = pp;
			return b;
		}
	}
	return NULL;
}

/*
 * Give a block back to the page source once all its pages are free, but
 * keep at least a chunk's worth of free pages elsewhere, so that a heap
 * hovering around a block boundary does not take and return it over and
 * over.
 */
static void maybe_release_block(struct gm_heap *h, uintptr_t addr)
{
	struct gm_block **pp, *b = block_of(h, addr, &pp);
	size_t npages;

	gm_mutex_assert_held(&h->lock);
	if (!b)
		return;
	npages = b->size >> GM_PAGE_SHIFT;
	if (!gm_pagealloc_range_free(&h->pages, b->addr, npages) ||
	    gm_pagealloc_free_pages(&h->pages) - npages < GM_CHUNK_PAGES)
		return;
	if (gm_pagealloc_remove(&h->pages, b->addr, npages))
		return;
	*pp = b->next;
	h->sys_bytes -= b->size;
	h->src->free_block(h->src_ctx, b->addr, b->order, b->size);
	gm_heap_meta_add(h, GM_META_OTHER, -(s64)sizeof(*b));
	gm_free(b);
}

/**
 * gm_mheap_free_span() - return a span's pages to the heap (mheap.freeSpan)
 * @h: the heap
 * @s: an in-use span that no mcache or mcentral holds (a large
 *	object's counts as freed)
 *
 * Takes the heap lock.
 */
void gm_mheap_free_span(struct gm_heap *h, struct gm_mspan *s)
{
	u8 sizeclass = s->spanclass >> 1;

	gm_mutex_lock(&h->lock);
	if (!sizeclass) {
		h->large_frees++;
		h->large_bytes -= s->npages * GM_PAGE_SIZE;
	}
	WRITE_ONCE(s->state, GM_SPAN_DEAD);
	gm_arena_clear_span(&h->arenas, s);
	gm_pagealloc_free(&h->pages, s->start, s->npages);
	h->inuse_pages -= s->npages;
	h->class_spans[sizeclass]--;
	if (s->tiny_freed)
		gm_heap_meta_add(h, GM_META_GC, -(s64)tiny_masks_bytes(s));
	gm_span_release_bits(s);
	span_struct_free(h, s);
	maybe_release_block(h, s->start);
	gm_mutex_unlock(&h->lock);
}

/**
 * gm_mheap_release_span() - free a span now, or later if the caller may not sleep
 * @h: the heap
 * @s: as for gm_mheap_free_span()
 *
 * Frees come from any context (a kernel user may free with a spinlock
 * held or in an interrupt), but the heap lock may sleep: a caller that
 * may not take it leaves the span on the heap's deferred list, which
 * gm_heap_drain_deferred() empties, and kicks the heap's owner.
 */
void gm_mheap_release_span(struct gm_heap *h, struct gm_mspan *s)
{
	if (gm_can_sleep()) {
		gm_mheap_free_span(h, s);
		return;
	}
	gm_spin_lock(&h->defer_lock);
	gm_span_list_push(&h->deferred, s);
	gm_spin_unlock(&h->defer_lock);
	gm_gc_count(&h->gc, GM_GC_DEFERRED_SPANS, 1);
	gm_heap_kick(h, GM_KICK_NOW);
}

/**
 * gm_heap_drain_deferred() - free the spans released where one may not sleep
 * @h: the heap
 *
 * Called by the paths that take the heap lock anyway (a new span, a GC
 * cycle, a scavenge, the kernel's refill work). May sleep.
 *
 * Return: true if there were any.
 */
bool gm_heap_drain_deferred(struct gm_heap *h)
{
	struct gm_mspan *s;
	bool any = false;

	gm_might_sleep();
	while (READ_ONCE(h->deferred.first)) {
		gm_spin_lock(&h->defer_lock);
		s = h->deferred.first;
		if (s)
			gm_span_list_remove(s);
		gm_spin_unlock(&h->defer_lock);
		if (!s)
			break;
		gm_mheap_free_span(h, s);
		any = true;
	}
	return any;
}

/* === the heap's memory ================================================== */

/**
 * gm_mheap_zero() - zero part of a heap's memory
 * @h: the heap
 * @addr: first byte
 * @len: bytes
 *
 * Through the page source when it says how (its memory may be another
 * address space's), else directly. Does not sleep.
 */
void gm_mheap_zero(struct gm_heap *h, uintptr_t addr, size_t len)
{
	if (h->src->zero)
		h->src->zero(h->src_ctx, addr, len);
	else
		memset((void *)addr, 0, len);
}

/**
 * gm_mheap_read() - read part of a heap's memory, or of a root
 * @h: the heap
 * @addr: first byte; the heap's memory, or for heaps whose page source
 *	has no @read, any memory the caller may read directly
 * @buf: where the bytes go
 * @len: bytes
 */
void gm_mheap_read(struct gm_heap *h, uintptr_t addr, void *buf, size_t len)
{
	if (h->src->read)
		h->src->read(h->src_ctx, addr, buf, len);
	else
		memcpy(buf, (const void *)addr, len);
}
