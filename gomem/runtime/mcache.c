// SPDX-License-Identifier: GPL-2.0
/*
 * Per-CPU caches, as Go's mcache.go: one span per span class to allocate
 * from without a lock. The allocation paths themselves are in malloc.c.
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
 * gm_mcache_release_all() - give every cached span and page back (releaseAll)
 * @h: the heap
 * @cpu: whose cache; nothing may allocate from it meanwhile (the CPU is
 *	offline, or the heap is quiescent)
 *
 * The statistics stay: they are counters, summed over all CPUs.
 */
void gm_mcache_release_all(struct gm_heap *h, unsigned int cpu)
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
		gm_mcache_release_all(h, cpu);
}
