// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation and free, after Go's malloc.go: mallocgc's small, tiny and
 * large paths over the CPU's mcache (nextFree; its refill is in
 * mcache.c), explicit free and object sizes by address, and heap
 * creation and teardown. Statistics are in mstats.c, spans and pages in
 * mheap.c.
 */
#include "malloc.h"

/* === small objects ====================================================== */

/*
 * Go's mcache.nextFree: a slot of span class @spc, by the fast path when
 * it can: the slot this CPU freed last, else the next free one. Called
 * and returning with a CPU pinned; *@cp may become another CPU's cache
 * and *@extra a span to hand back (see gm_mcache_refill()).
 */
static __always_inline u32 next_free(struct gm_heap *h, struct gm_mcache **cp, u8 spc,
				     struct gm_mspan **sp, struct gm_mspan **extra,
				     bool nosleep)
{
	struct gm_mspan *s = (*cp)->alloc[spc];
	u32 idx = gm_mcache_pop_local(*cp, spc);

	if (idx != GM_NO_SLOT)
		/* Hot reuse: the slot this CPU freed last is live again. */
		gm_mcache_live_add(h, *cp, s->elemsize);
	else
		idx = gm_span_next_free_fast(s);
	if (likely(idx != s->nelems)) {
		(*cp)->fast[spc >> 1]++;
	} else {
		idx = gm_mcache_refill(h, cp, spc, &s, extra, nosleep);
		if (idx == GM_NO_SLOT)
			return GM_NO_SLOT;
	}
	(*cp)->allocs[spc >> 1]++;
	*sp = s;
	return idx;
}

static void *alloc_small(struct gm_heap *h, size_t size, unsigned int flags)
{
	u8 spc = gm_size_to_class(size) << 1 | !!(flags & GM_NOSCAN);
	struct gm_mspan *s, *extra = NULL;
	bool zero, sample = false;
	struct gm_mcache *c;
	uintptr_t p;
	u32 idx;

	c = gm_percpu_ptr(h->caches, gm_cpu_get());
	idx = next_free(h, &c, spc, &s, &extra, flags & GM_NOSLEEP);
	if (idx == GM_NO_SLOT) {
		gm_cpu_put();
		goto out;
	}
	zero = (flags & GM_ZERO) && s->needzero;
	sample = gm_mprof_tick(h, &c->prof, s->elemsize);
	gm_cpu_put();
	/* Zeroed before the span can go (uncached and emptied by a racing free). */
	if (zero)
		gm_mheap_zero(h, s->start + (uintptr_t)idx * s->elemsize, s->elemsize);
out:
	if (extra)
		gm_mcentral_uncache_span(h, extra);
	if (idx == GM_NO_SLOT)
		return NULL;
	p = s->start + (uintptr_t)idx * s->elemsize;
	if (unlikely(sample))
		gm_mprof_sample(h, s, p, s->elemsize, flags & GM_NOSLEEP);
	return (void *)p;
}

/* === tiny objects ======================================================= */

/* Go's alignment of a tiny object: by the largest power of 2 of its size. */
static u32 tiny_align(u32 off, size_t size)
{
	if (!(size & 7))
		return (off + 7) & ~7U;
	if (!(size & 3))
		return (off + 3) & ~3U;
	if (!(size & 1))
		return (off + 1) & ~1U;
	return off;
}

static void tiny_mark(struct gm_mspan *s, uintptr_t block, u32 off, size_t size)
{
	u32 idx = (block - s->start) / GM_TINY_SIZE;

	s->tiny_end[idx] |= 1U << (off + size - 1);
	s->tiny_alloc[idx] |= 1U << off;
}

/*
 * Go's tiny allocator: noscan objects under 16 bytes share 16-byte blocks,
 * packed in the CPU's current block while they fit. Tiny objects are
 * always zeroed: a block is cleared when it is taken and its bytes are
 * never handed out twice.
 */
static void *alloc_tiny(struct gm_heap *h, size_t size, bool nosleep)
{
	struct gm_mcache *c = gm_percpu_ptr(h->caches, gm_cpu_get());
	u32 off = tiny_align(c->tiny_offset, size), idx;
	struct gm_mspan *s, *extra = NULL;
	uintptr_t block;
	bool sample;

	if (c->tiny && off + size <= GM_TINY_SIZE) {
		block = c->tiny;
		s = c->alloc[GM_TINY_SPANCLASS];
		tiny_mark(s, block, off, size);
		c->tiny_offset = off + size;
		c->tiny_allocs++;
		sample = gm_mprof_tick(h, &c->prof, size);
		gm_cpu_put();
		if (unlikely(sample))
			gm_mprof_sample(h, s, block + off, size, nosleep);
		return (void *)(block + off);
	}
	idx = next_free(h, &c, GM_TINY_SPANCLASS, &s, &extra, nosleep);
	if (idx == GM_NO_SLOT) {
		gm_cpu_put();
		if (extra)
			gm_mcentral_uncache_span(h, extra);
		return NULL;
	}
	c->tiny_allocs++;
	block = s->start + (uintptr_t)idx * s->elemsize;
	gm_mheap_zero(h, block, GM_TINY_SIZE);
	tiny_mark(s, block, 0, size);
	/* Keep the block with more room left (Go's rule); only one of the span this cache holds. */
	if (s == c->alloc[GM_TINY_SPANCLASS] && (!c->tiny || size < c->tiny_offset)) {
		c->tiny = block;
		c->tiny_offset = size;
	}
	sample = gm_mprof_tick(h, &c->prof, size);
	gm_cpu_put();
	if (extra)
		gm_mcentral_uncache_span(h, extra);
	if (unlikely(sample))
		gm_mprof_sample(h, s, block, size, nosleep);
	return (void *)block;
}

/* === large objects ====================================================== */

/* A large object counts against the sampling interval of the CPU it is made on. */
static bool tick_large(struct gm_heap *h, size_t bytes)
{
	struct gm_mcache *c = gm_percpu_ptr(h->caches, gm_cpu_get());
	bool sample = gm_mprof_tick(h, &c->prof, bytes);

	gm_cpu_put();
	return sample;
}

static void *alloc_large(struct gm_heap *h, size_t size, unsigned int flags)
{
	/* Rounded up without overflow: size may be close to SIZE_MAX. */
	size_t npages = (size >> GM_PAGE_SHIFT) + !!(size & (GM_PAGE_SIZE - 1));
	struct gm_mspan *s;
	bool sample;

	/* Beyond half the address space no page source can deliver. */
	if (npages > (SIZE_MAX >> GM_PAGE_SHIFT) / 2)
		return NULL;
	/* Go's largeAlloc deducts the object's sweep credit first. */
	gm_sweep_deduct_credit(h, npages);
	s = gm_mheap_alloc_span(h, npages, !!(flags & GM_NOSCAN));
	if (!s)
		return NULL;
	if ((flags & GM_ZERO) && s->needzero)
		gm_mheap_zero(h, s->start, npages * GM_PAGE_SIZE);
	gm_mutex_lock(&h->lock);
	h->large_allocs++;
	h->large_bytes += npages * GM_PAGE_SIZE;
	/* Go's TotalAlloc counts a large object by its pages too (largeAlloc). */
	h->large_alloc_bytes += npages * GM_PAGE_SIZE;
	gm_mutex_unlock(&h->lock);
	gm_pacer_live_add(h, npages * GM_PAGE_SIZE);
	/* Only now can a free, a lookup or the sweeper find it. */
	gm_mcentral_add_large(h, s);
	sample = tick_large(h, npages * GM_PAGE_SIZE);
	if (unlikely(sample))
		gm_mprof_sample(h, s, s->start, npages * GM_PAGE_SIZE, false);
	return (void *)s->start;
}

/* === the API ============================================================ */

/**
 * gm_heap_alloc() - allocate an object (Go's mallocgc, without the GC)
 * @h: the heap
 * @size: bytes, > 0
 * @flags: GM_NOSCAN, GM_ZERO, GM_NOSLEEP
 *
 * Noscan objects under 16 bytes are packed into 16-byte blocks (the tiny
 * allocator); objects up to 32 KiB come from the calling CPU's mcache,
 * without a lock; larger ones get a span of their own. May sleep, unless
 * GM_NOSLEEP: then the CPU's cache and its class's spans serve, large
 * objects are refused, and NULL comes back rather than a sleep.
 *
 * Return: the object, or NULL if @size is 0 or memory ran out.
 */
void *gm_heap_alloc(struct gm_heap *h, size_t size, unsigned int flags)
{
	bool nosleep = flags & GM_NOSLEEP;

	/* Only the slow path sleeps: say so on every call, for the checkers. */
	if (!nosleep)
		gm_might_sleep();
	if (unlikely(!size))
		return NULL;
	if (size < GM_TINY_SIZE && (flags & GM_NOSCAN))
		return gm_alloc_hook(h, alloc_tiny(h, size, nosleep), size, nosleep);
	if (size <= GM_MAX_SMALL_SIZE)
		return gm_alloc_hook(h, alloc_small(h, size, flags), size, nosleep);
	/* A new span takes the heap lock, which may sleep. */
	if (nosleep)
		return NULL;
	return gm_alloc_hook(h, alloc_large(h, size, flags), size, false);
}

/*
 * The common free stays on the CPU: @s is this CPU's span of its class,
 * which no one else allocates from or lets go of while the CPU is pinned
 * (gm_mcache_free_local()), or another span, whose free joins the CPU's
 * batch (gm_mcache_free_batched()); a full batch is applied here, and the
 * spans it emptied are left in @dead. -EAGAIN: take the mcentral's path.
 */
static __always_inline int free_on_cpu(struct gm_heap *h, struct gm_mspan *s, u8 spc,
				       uintptr_t p, struct gm_span_list *dead)
{
	struct gm_mcache *c;
	int ret;

	c = gm_percpu_ptr(h->caches, gm_cpu_get());
	if (c->alloc[spc] == s) {
		ret = gm_mcache_free_local(h, c, s, p);
	} else {
		ret = gm_mcache_free_batched(h, c, s, p);
		if (unlikely(ret == GM_BATCH_FULL)) {
			gm_mcentral_apply_batch(h, c, dead);
			ret = 0;
		}
	}
	gm_cpu_put();
	return ret;
}

/**
 * gm_heap_free() - free an object explicitly (a gomem addition)
 * @h: the heap
 * @p: an object's base address, as gm_heap_alloc() returned it
 *
 * Interior pointers, pointers outside the heap and objects already freed
 * are refused and change nothing. Any context: what needs the heap lock
 * waits for its next holder when the caller may not sleep.
 *
 * Return: 0, or -EINVAL.
 */
int gm_heap_free(struct gm_heap *h, void *p)
{
	struct gm_span_list dead = { 0 };
	struct gm_mspan *s;
	u8 spc;
	int ret;

	s = gm_span_of(&h->arenas, (uintptr_t)p);
	if (!s)
		return -EINVAL;
	spc = READ_ONCE(s->spanclass);
	if (!(spc >> 1))
		return gm_mcentral_free_large(h, s, (uintptr_t)p);
	ret = free_on_cpu(h, s, spc, (uintptr_t)p, &dead);
	if (unlikely(dead.first))
		gm_mcentral_release_dead(h, &dead);
	if (ret != -EAGAIN)
		return ret;
	return gm_mcentral_free_object(h, s, (uintptr_t)p);
}

/**
 * gm_heap_usable_size() - the size of a live object, by its base address
 * @h: the heap
 * @p: an address
 *
 * Unlike gm_heap_object_size() this accepts only an object's base, as
 * gm_heap_free() does, and a tiny object's size is the size it was asked
 * for (the tiny allocator packs later objects right after it).
 *
 * Takes no lock but for the tiny span class, whose masks die with their
 * span: span structures and their bitmaps live as long as the heap (see
 * gm_mspan's @bitmap_cap), so a racing free makes the answer stale, never
 * a read of freed memory.
 *
 * Return: the object's usable bytes, or 0 if @p is not the base of a live
 * object of @h.
 */
size_t gm_heap_usable_size(struct gm_heap *h, const void *p)
{
	struct gm_mspan *s = gm_span_of(&h->arenas, (uintptr_t)p);
	uintptr_t off;
	u8 spc;
	u32 idx;

	if (!s)
		return 0;
	spc = READ_ONCE(s->spanclass);
	if (spc == GM_TINY_SPANCLASS)
		return gm_mcentral_usable_size(h, s, (uintptr_t)p);
	if (READ_ONCE(s->state) != GM_SPAN_IN_USE)
		return 0;
	off = (uintptr_t)p - READ_ONCE(s->start);
	if (!(spc >> 1))
		return off ? 0 : READ_ONCE(s->npages) * GM_PAGE_SIZE;
	if (off >= READ_ONCE(s->npages) * GM_PAGE_SIZE)
		return 0;
	idx = gm_span_obj_index(s, (uintptr_t)p);
	if (idx >= READ_ONCE(s->nelems) || (uintptr_t)idx * s->elemsize != off ||
	    !gm_span_slot_allocated(s, idx))
		return 0;
	return s->elemsize;
}

/**
 * gm_heap_object_size() - the size of the object holding an address
 * @h: the heap
 * @p: any address inside a live object (interior pointers count)
 *
 * Return: the object's slot size (its class size, or its pages for a large
 * object), or 0 if @p is not inside a live object of @h.
 */
size_t gm_heap_object_size(struct gm_heap *h, const void *p)
{
	struct gm_mspan *s;
	u32 idx;

	if (!gm_find_object(&h->arenas, (uintptr_t)p, &s, &idx))
		return 0;
	if (!gm_span_slot_allocated(s, idx))
		return 0;
	return s->elemsize;
}

/**
 * gm_heap_create() - a new, empty heap
 * @src: where its memory comes from
 * @ctx: passed to @src's operations
 *
 * Return: the heap, or NULL if its metadata could not be allocated.
 */
struct gm_heap *gm_heap_create(const struct gm_pagesrc_ops *src, void *ctx)
{
	struct gm_heap *h = gm_zalloc(sizeof(*h));
	unsigned int cpu;
	size_t i;

	/* Every slot of every CPU in one per-CPU area. */
	BUILD_BUG_ON(sizeof(struct gm_mcache) * GM_CPU_SLOTS > GM_PERCPU_MAX);
	if (!h)
		return NULL;
	gm_mutex_init(&h->lock);
	gm_spin_init(&h->defer_lock);
	h->src = src;
	h->src_ctx = ctx;
	h->track = src->kernel_memory;
	h->gc.gogc = 100;
	h->gc.memory_limit = GM_NO_LIMIT;
	h->gc.heap_goal = GM_HEAP_MIN_GOAL;
	h->gc.created_ns = gm_now_ns();
	/* Not yet shared: no lock needed. Go's mheap_ is a global, not counted. */
	h->meta_bytes[GM_META_OTHER] = sizeof(*h);
	gm_arena_index_init(&h->arenas, &h->lock);
	if (gm_pagealloc_init(&h->pages, &h->lock))
		goto fail;
	h->caches = gm_percpu_alloc(sizeof(struct gm_mcache), 64);
	if (!h->caches)
		goto fail_pages;
	gm_mprof_init(h);
	for (cpu = 0; cpu < gm_nr_slots(); cpu++) {
		struct gm_mcache *c = gm_percpu_ptr(h->caches, cpu);

		gm_mcache_init(h, c);
		gm_mprof_cache_init(h, &c->prof, cpu);
	}
	for (i = 0; i < ARRAY_SIZE(h->central); i++)
		gm_mcentral_init(&h->central[i]);
	return h;

fail_pages:
	gm_pagealloc_destroy(&h->pages);
fail:
	gm_free(h);
	return NULL;
}

/**
 * gm_heap_set_kick() - who to tell when work waits for a caller that may sleep
 * @h: the heap, before anyone allocates from it
 * @kick: called from any context, without the heap's locks; it arranges
 *	for gm_heap_fill_spares() to run soon (GM_KICK_NOW) or for
 *	gm_heap_trim_kept() to run in about a second (GM_KICK_TRIM); the
 *	kernel uses work items
 * @arg: @kick's argument
 */
void gm_heap_set_kick(struct gm_heap *h, void (*kick)(void *arg, enum gm_kick why),
		      void *arg)
{
	h->kick = kick;
	h->kick_arg = arg;
}

/**
 * gm_heap_destroy() - free a heap and all its memory, live objects too
 * @h: the heap; nothing may use it any more
 */
void gm_heap_destroy(struct gm_heap *h)
{
	struct gm_mspan *s, *next;
	struct gm_block *b, *bnext;

	for (s = h->spans_all; s; s = next) {
		/* The leak detector must forget objects that vanish with their heap. */
		if (s->state == GM_SPAN_IN_USE)
			gm_free_hook_span(h, s, NULL);
		next = s->allnext;
		gm_span_free_bits(s);
		gm_free(s);
	}
	gm_pagealloc_destroy(&h->pages);
	gm_arena_index_destroy(&h->arenas);
	for (b = h->blocks; b; b = bnext) {
		bnext = b->next;
		h->src->free_block(h->src_ctx, b->addr, b->order, b->size);
		gm_free(b);
	}
	gm_percpu_free(h->caches);
	gm_mprof_destroy(h);
	gm_free(h->gc.roots);
	gm_mutex_destroy(&h->lock);
	gm_free(h);
}
