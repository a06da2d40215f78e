// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU caches, as Go's mcache.go: one span per span class to allocate
 * from without a lock, the refill of an exhausted one from its mcentral,
 * and the release of every cached span (releaseAll). The allocation
 * paths themselves are in malloc.c.
 *
 * A gomem addition: the free of a small object in a span this CPU caches
 * stays on the CPU (gm_mcache_free_local()). It takes no lock and no
 * atomic: the slot is marked in the span's local_bits, which only this
 * CPU writes, and pushed on the class's local list, from which the next
 * allocation of the class takes it (LIFO, so the memory is still warm).
 * The mcentral sees those frees when the CPU sweeps or lets go of the
 * span (gm_span_fold_local_frees()). A tiny object of the CPU's tiny
 * span sets its bit in tiny_freed with a compare-and-swap, the one
 * atomic of a local free (free_tiny_local()). A free into a span the CPU
 * does not cache sets the slot's pend bit and joins the CPU's batch,
 * applied under the class lock 32 at a time (gm_mcache_free_batched()).
 * The rest (spans being swept, other CPUs' tiny objects, roots, large
 * objects) take the mcentral's lock. Documentation/allocator.rst has the
 * invariants.
 */
#include "malloc.h"

/**
 * gm_mcache_init() - an mcache that holds no span
 * @h: the heap
 * @c: the cache
 */
void gm_mcache_init(struct gm_heap *h, struct gm_mcache *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < ARRAY_SIZE(c->alloc); i++)
		c->alloc[i] = &h->emptyspan;
}

/*
 * The refill of a caller that may not sleep: the CPU stays pinned and
 * only what the class holds serves (lock order: CPU, then mcentral).
 * @old, the exhausted span, goes back first.
 */
static u32 refill_nosleep(struct gm_heap *h, struct gm_mcache *c, u8 spc,
			  struct gm_mspan *old, struct gm_mspan **sp)
{
	struct gm_mspan *s;
	u32 idx;

	if (old != &h->emptyspan)
		gm_mcentral_uncache_span(h, old);
	s = gm_mcentral_cache_span(h, spc, true);
	if (!s)
		return GM_NO_SLOT;
	idx = gm_span_next_free_index(s);
	/* cacheSpan's promise, as below. */
	if (GM_WARN_ON_ONCE(idx == s->nelems)) {
		gm_mcentral_uncache_span(h, s);
		return GM_NO_SLOT;
	}
	c->alloc[spc] = s;
	*sp = s;
	return idx;
}

/**
 * gm_mcache_refill() - nextFree's slow half (Go's mcache.refill)
 * @h: the heap
 * @cp: the CPU's mcache; may become another CPU's
 * @spc: the span class whose cached span is exhausted
 * @sp: set to the span the slot is in
 * @extra: set to a span to hand back (gm_mcentral_uncache_span()) once
 *	the CPU is let go, or left alone
 * @nosleep: the caller may not sleep (GM_NOSLEEP)
 *
 * Called and returning with a CPU pinned, possibly another one: the CPU
 * is let go while the mcentral and the heap, which may sleep, supply a
 * span. If another task filled this CPU's slot meanwhile, the new span
 * serves this one allocation and is handed back as *@extra. With
 * @nosleep the CPU stays pinned and only the class's spans serve.
 *
 * Return: the slot index in *@sp, or GM_NO_SLOT if memory ran out.
 */
u32 gm_mcache_refill(struct gm_heap *h, struct gm_mcache **cp, u8 spc,
		     struct gm_mspan **sp, struct gm_mspan **extra, bool nosleep)
{
	struct gm_mcache *c = *cp;
	struct gm_mspan *s = c->alloc[spc];
	uintptr_t tiny = spc == GM_TINY_SPANCLASS ? c->tiny : 0;
	u32 idx = gm_span_next_free_index(s);
	struct gm_span_list dead = { 0 };

	gm_cpu_assert_pinned();
	if (idx == s->nelems && s != &h->emptyspan) {
		/* The sweep takes the local frees too, listed or not. */
		c->nlocal[spc] = 0;
		if (gm_mcentral_sweep_frees(h, s, tiny))
			idx = gm_span_next_free_index(s);
	}
	if (idx != s->nelems) {
		*sp = s;
		return idx;
	}

	/* The current tiny block must stay in the span this cache holds. */
	if (spc == GM_TINY_SPANCLASS) {
		c->tiny = 0;
		c->tiny_offset = 0;
	}
	c->alloc[spc] = &h->emptyspan;
	c->nlocal[spc] = 0;
	gm_mcache_live_flush(h, c);
	/* The CPU's batched frees may leave the class a span to take. */
	if (c->nbatch)
		gm_mcentral_apply_batch(h, c, &dead);
	if (nosleep) {
		/* Deferred: the CPU stays pinned. */
		gm_mcentral_release_dead(h, &dead);
		return refill_nosleep(h, c, spc, s, sp);
	}
	gm_cpu_put();
	gm_mcentral_release_dead(h, &dead);
	if (s != &h->emptyspan)
		gm_mcentral_uncache_span(h, s);
	s = gm_mcentral_cache_span(h, spc, false);
	*cp = c = gm_percpu_ptr(h->caches, gm_cpu_get());
	if (!s)
		return GM_NO_SLOT;
	idx = gm_span_next_free_index(s);
	/* cacheSpan's promise; a slot at nelems would be the next span's memory. */
	if (GM_WARN_ON_ONCE(idx == s->nelems)) {
		*extra = s;
		return GM_NO_SLOT;
	}
	if (c->alloc[spc] == &h->emptyspan)
		c->alloc[spc] = s;
	else
		*extra = s;
	*sp = s;
	return idx;
}

/* Go's mcache.releaseAll, for one cache slot. */
static void flush_slot(struct gm_heap *h, unsigned int slot)
{
	struct gm_mcache *c = gm_percpu_ptr(h->caches, slot);
	struct gm_span_list dead = { 0 };
	size_t i;

	/* Its batched frees first: they may empty the spans it lets go. */
	gm_mcentral_apply_batch(h, c, &dead);
	gm_mcentral_release_dead(h, &dead);

	/* The tiny block must not outlive its span's place in this cache. */
	c->tiny = 0;
	c->tiny_offset = 0;
	gm_mutex_lock(&h->lock);
	gm_pagecache_flush(&c->pcache, &h->pages);
	gm_mutex_unlock(&h->lock);
	gm_mcache_live_flush(h, c);
	for (i = 0; i < ARRAY_SIZE(c->alloc); i++) {
		struct gm_mspan *s = c->alloc[i];

		c->nlocal[i] = 0;
		if (s == &h->emptyspan)
			continue;
		c->alloc[i] = &h->emptyspan;
		gm_mcentral_uncache_span(h, s);
	}
}

/**
 * gm_heap_flush_cpu() - give every span and page a CPU caches back
 * @h: the heap
 * @cpu: whose caches (every context's slot); nothing may allocate from
 *	them meanwhile (the CPU is offline, or the heap is quiescent)
 *
 * Go's mcache.releaseAll. The statistics stay: they are counters, summed
 * over all slots.
 */
void gm_heap_flush_cpu(struct gm_heap *h, unsigned int cpu)
{
	unsigned int i;

	if (GM_WARN_ON_ONCE(cpu >= gm_nr_cpu_ids()))
		return;

	for (i = 0; i < GM_CPU_SLOTS; i++)
		flush_slot(h, cpu * GM_CPU_SLOTS + i);
}

/**
 * gm_heap_flush_caches() - release every CPU's cache
 * @h: the heap, which nothing may allocate from meanwhile
 *
 * Makes every explicit free take effect (spans are swept as they go back
 * to their mcentrals) and the statistics count nothing as cached. The
 * empty spans the classes keep and the spans left for the heap lock go
 * back to the heap too: after this, the heap's in-use pages are its
 * objects' spans. A GC cycle starts so.
 */
void gm_heap_flush_caches(struct gm_heap *h)
{
	unsigned int slot;

	for (slot = 0; slot < gm_nr_slots(); slot++)
		flush_slot(h, slot);
	gm_mcentral_release_kept(h);
	gm_heap_drain_deferred(h);
}

/**
 * gm_heap_cached_spans() - spans a CPU's mcaches hold (for tests)
 * @h: the heap
 * @cpu: the CPU
 *
 * Read without pinning @cpu: a snapshot that may be stale.
 *
 * Return: how many span classes of @cpu's caches (all its slots) point
 * to a span.
 */
unsigned int gm_heap_cached_spans(struct gm_heap *h, unsigned int cpu)
{
	unsigned int slot, i, n = 0;

	for (slot = cpu * GM_CPU_SLOTS; slot < (cpu + 1) * GM_CPU_SLOTS; slot++) {
		struct gm_mcache *c = gm_percpu_ptr(h->caches, slot);

		for (i = 0; i < ARRAY_SIZE(c->alloc); i++)
			n += READ_ONCE(c->alloc[i]) != &h->emptyspan;
	}
	return n;
}

/**
 * gm_heap_live_exact() - the pacer's live heap with what the CPUs hold
 * @h: the heap
 *
 * For readers that must be exact (a cycle's heap sizes, MemStats): the
 * heap's counter plus every CPU's batch, read without stopping them.
 *
 * Return: live bytes, never below 0.
 */
u64 gm_heap_live_exact(struct gm_heap *h)
{
	s64 v = (s64)gm_pacer_live(h);
	unsigned int slot;

	for (slot = 0; slot < gm_nr_slots(); slot++)
		v += READ_ONCE(((struct gm_mcache *)gm_percpu_ptr(h->caches, slot))->live_delta);
	return v > 0 ? v : 0;
}

/* local_free_check(): @p is in a tiny block of this CPU's tiny span. */
#define GM_LOCAL_TINY	1

/*
 * Whether @p is the base of an object of @s that this CPU may free
 * without the mcentral's lock: 0 if it is allocated, not freed yet and
 * not a registered root; GM_LOCAL_TINY for an address in a tiny block of
 * the CPU's own span (@own; others never read tiny masks, which die with
 * their span); -EAGAIN for a root (root bits change under the mcentral
 * lock, so its free goes there); -EINVAL for anything else.
 */
static int local_free_check(const struct gm_mspan *s, uintptr_t p, u32 *idx, bool own)
{
	uintptr_t off = p - s->start;

	if (off >= s->npages * GM_PAGE_SIZE)
		return -EINVAL;
	*idx = gm_span_obj_index(s, p);
	if (*idx >= s->nelems)
		return -EINVAL;
	/* This CPU wrote tiny_alloc (the span is its own), so it may read it. */
	if (own && s->tiny_alloc && s->tiny_alloc[*idx])
		return GM_LOCAL_TINY;
	if ((uintptr_t)*idx * s->elemsize != off || !gm_span_slot_allocated(s, *idx))
		return -EINVAL;
	if (READ_ONCE(s->root_bits[*idx / 64]) >> (*idx % 64) & 1)
		return -EAGAIN;
	return 0;
}

/*
 * A tiny object of this CPU's tiny span: its bit in tiny_freed, set with
 * a compare-and-swap (another CPU may free another object of the block
 * under the mcentral lock), and nothing else shared. The block becomes a
 * free slot when the CPU next sweeps or lets go of the span (Go never
 * frees tiny objects one by one: this is gomem's explicit free).
 */
static int free_tiny_local(struct gm_heap *h, struct gm_mcache *c, struct gm_mspan *s,
			   u32 idx, uintptr_t p)
{
	u32 bit = 1U << (p - s->start - (uintptr_t)idx * s->elemsize);

	if (!gm_span_tiny_set_freed(s, idx, bit))
		return -EINVAL;
	gm_free_hook(h, s, p);
	s->tiny_local++;
	c->tiny_frees++;
	return 0;
}

/**
 * gm_mcache_free_local() - free a small object of this CPU's own span
 * @h: the heap
 * @c: the CPU's mcache, CPU pinned
 * @s: c->alloc[s->spanclass]
 * @p: the address to free
 *
 * Touches only this CPU's state and @s's local bits (see the top of this
 * file). A double free, an interior pointer or a free slot is refused
 * here as on the mcentral's path.
 *
 * Return: 0; -EINVAL if @p is not the base of a live object of @s;
 * -EAGAIN if the free must take the mcentral's path (a root object).
 */
int gm_mcache_free_local(struct gm_heap *h, struct gm_mcache *c, struct gm_mspan *s,
			 uintptr_t p)
{
	u8 spc = s->spanclass;
	u32 idx;
	int ret;

	gm_cpu_assert_pinned();
	ret = local_free_check(s, p, &idx, true);
	if (ret == GM_LOCAL_TINY)
		return free_tiny_local(h, c, s, idx, p);
	if (ret)
		return ret;
	gm_free_hook(h, s, p);
	WRITE_ONCE(s->local_bits[idx / 64], s->local_bits[idx / 64] | 1ULL << (idx % 64));
	s->nlocal++;
	/* The slot's old contents go to the next owner unless it is zeroed. */
	s->needzero = true;
	if (c->nlocal[spc] < GM_LOCAL_FREES)
		c->local[spc][c->nlocal[spc]++] = idx;
	c->frees[spc >> 1]++;
	/* A cached span's slots all count as live (take_for_cache()). */
	gm_mcache_live_add(h, c, -(s64)s->elemsize);
	return 0;
}

/**
 * gm_mcache_free_batched() - free an object of a span this CPU does not cache
 * @h: the heap
 * @c: the CPU's mcache, CPU pinned
 * @s: the span gm_span_of() found for @p, not c->alloc[s->spanclass]
 * @p: the address to free
 *
 * The slot's pend bit is set with a compare-and-swap, which refuses a
 * second free as the mcentral's path would, and the free joins the CPU's
 * batch; its statistics and live-heap change are the CPU's at once, so
 * readers stay exact. Only swept spans (or spans another CPU caches)
 * qualify: no sweep can run on them before the batch is applied, because
 * a GC cycle applies every batch first (gm_heap_flush_caches()). The
 * span structure and its bitmaps are never freed (see @bitmap_cap), so
 * even a free racing with the span's death touches only its own memory.
 * Tiny blocks and roots take the mcentral's path.
 *
 * Return: 0; GM_BATCH_FULL when the batch must be applied
 * (gm_mcentral_apply_batch(), CPU pinned); -EINVAL if @p is not the base
 * of a live object of @s; -EAGAIN to take the mcentral's path.
 */
int gm_mcache_free_batched(struct gm_heap *h, struct gm_mcache *c, struct gm_mspan *s,
			   uintptr_t p)
{
	u32 sg = READ_ONCE(h->sweepgen), ssg = gm_atomic_load_u32(&s->sweepgen), idx;
	u8 spc = READ_ONCE(s->spanclass);
	struct gm_batched_free *e;
	int ret;

	gm_cpu_assert_pinned();
	if ((ssg != sg && ssg != sg + 3) || spc == GM_TINY_SPANCLASS ||
	    READ_ONCE(s->state) != GM_SPAN_IN_USE)
		return -EAGAIN;
	ret = local_free_check(s, p, &idx, false);
	if (ret)
		return ret == -EINVAL ? -EINVAL : -EAGAIN;
	if (!gm_span_set_pend(s, idx))
		return -EINVAL;
	gm_free_hook(h, s, p);
	e = &c->batch[c->nbatch++];
	e->s = s;
	e->idx = idx;
	e->spanclass = spc;
	c->frees[spc >> 1]++;
	gm_mcache_live_add(h, c, -(s64)s->elemsize);
	return c->nbatch == GM_FREE_BATCH ? GM_BATCH_FULL : 0;
}
