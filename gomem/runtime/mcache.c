// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU caches, as Go's mcache.go: one span per span class to allocate
 * from without a lock, the refill of an exhausted one from its mcentral,
 * and the release of every cached span (releaseAll). The allocation
 * paths themselves are in malloc.c.
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

/**
 * gm_mcache_refill() - nextFree's slow half (Go's mcache.refill)
 * @h: the heap
 * @cp: the CPU's mcache; may become another CPU's
 * @spc: the span class whose cached span is exhausted
 * @sp: set to the span the slot is in
 * @extra: set to a span to hand back (gm_mcentral_uncache_span()) once
 *	the CPU is let go, or left alone
 *
 * Called and returning with a CPU pinned, possibly another one: the CPU
 * is let go while the mcentral and the heap, which may sleep, supply a
 * span. If another task filled this CPU's slot meanwhile, the new span
 * serves this one allocation and is handed back as *@extra.
 *
 * Return: the slot index in *@sp, or GM_NO_SLOT if memory ran out.
 */
u32 gm_mcache_refill(struct gm_heap *h, struct gm_mcache **cp, u8 spc,
		     struct gm_mspan **sp, struct gm_mspan **extra)
{
	struct gm_mcache *c = *cp;
	struct gm_mspan *s = c->alloc[spc];
	uintptr_t tiny = spc == GM_TINY_SPANCLASS ? c->tiny : 0;
	u32 idx = gm_span_next_free_index(s);

	gm_cpu_assert_pinned();
	if (idx == s->nelems && s != &h->emptyspan && gm_mcentral_sweep_frees(h, s, tiny))
		idx = gm_span_next_free_index(s);
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
	gm_cpu_put();
	if (s != &h->emptyspan)
		gm_mcentral_uncache_span(h, s);
	s = gm_mcentral_cache_span(h, spc);
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

/**
 * gm_heap_flush_cpu() - give every span and page a CPU caches back
 * @h: the heap
 * @cpu: whose cache; nothing may allocate from it meanwhile (the CPU is
 *	offline, or the heap is quiescent)
 *
 * Go's mcache.releaseAll. The statistics stay: they are counters, summed
 * over all CPUs.
 */
void gm_heap_flush_cpu(struct gm_heap *h, unsigned int cpu)
{
	struct gm_mcache *c = gm_percpu_ptr(h->caches, cpu);
	size_t i;

	/* The tiny block must not outlive its span's place in this cache. */
	c->tiny = 0;
	c->tiny_offset = 0;
	gm_mutex_lock(&h->lock);
	gm_pagecache_flush(&c->pcache, &h->pages);
	gm_mutex_unlock(&h->lock);
	for (i = 0; i < ARRAY_SIZE(c->alloc); i++) {
		struct gm_mspan *s = c->alloc[i];

		if (s == &h->emptyspan)
			continue;
		c->alloc[i] = &h->emptyspan;
		gm_mcentral_uncache_span(h, s);
	}
}

/**
 * gm_heap_flush_caches() - release every CPU's cache
 * @h: the heap, which nothing may allocate from meanwhile
 *
 * Makes every explicit free take effect (spans are swept as they go back
 * to their mcentrals) and the statistics count nothing as cached.
 */
void gm_heap_flush_caches(struct gm_heap *h)
{
	unsigned int cpu;

	for (cpu = 0; cpu < gm_nr_cpu_ids(); cpu++)
		gm_heap_flush_cpu(h, cpu);
}

/**
 * gm_heap_cached_spans() - spans a CPU's mcache holds (for tests)
 * @h: the heap
 * @cpu: the CPU
 *
 * Read without pinning @cpu: a snapshot that may be stale.
 *
 * Return: how many span classes of @cpu's cache point to a span.
 */
unsigned int gm_heap_cached_spans(struct gm_heap *h, unsigned int cpu)
{
	struct gm_mcache *c = gm_percpu_ptr(h->caches, cpu);
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(c->alloc); i++)
		n += READ_ONCE(c->alloc[i]) != &h->emptyspan;
	return n;
}
