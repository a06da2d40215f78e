// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for mcentral.c and mcache.c: where spans go between an
 * mcache, the mcentral lists and the heap, with Go's sweepgen values, and
 * what releasing a CPU's cache does.
 */
#include <kunit/test.h>

#include "../malloc.h"

static int mc_init(struct kunit *test)
{
	struct gm_heap *h = gm_heap_create(&gm_os_pagesrc, NULL);

	if (!h)
		return -ENOMEM;
	test->priv = h;
	return 0;
}

static void mc_exit(struct kunit *test)
{
	gm_heap_destroy(test->priv);
}

/* The class of 1 KiB objects: 8 per span. */
#define SPC	(gm_size_to_class(1024) << 1)

static u32 take_all(struct gm_mspan *s, void **objs)
{
	u32 n = 0, idx;

	while ((idx = gm_span_next_free_index(s)) != s->nelems)
		objs[n++] = (void *)(s->start + (uintptr_t)idx * s->elemsize);
	return n;
}

/* cacheSpan marks a span cached (sg + 3); uncacheSpan lists it (sg). */
static void cache_and_uncache(struct kunit *test)
{
	struct gm_heap *h = test->priv;
	struct gm_mcentral *c = &h->central[SPC];
	void *objs[8];
	struct gm_mspan *s = gm_mcentral_cache_span(h, SPC, false);
	u32 sg = h->sweepgen;

	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_EXPECT_TRUE(test, s->cached);
	KUNIT_EXPECT_EQ(test, s->sweepgen, sg + 3);
	KUNIT_EXPECT_NULL(test, s->list);
	KUNIT_EXPECT_EQ(test, h->class_spans[SPC >> 1], 1);

	/* Half used: back on the swept partial list. */
	KUNIT_ASSERT_NE(test, gm_span_next_free_index(s), s->nelems);
	gm_mcentral_uncache_span(h, s);
	KUNIT_EXPECT_FALSE(test, s->cached);
	KUNIT_EXPECT_EQ(test, s->sweepgen, sg);
	KUNIT_EXPECT_PTR_EQ(test, s->list, &c->partial[sg / 2 % 2]);

	/* Taken again, filled up: onto the swept full list. */
	KUNIT_ASSERT_PTR_EQ(test, gm_mcentral_cache_span(h, SPC, false), s);
	KUNIT_EXPECT_EQ(test, take_all(s, objs), s->nelems - 1);
	gm_mcentral_uncache_span(h, s);
	KUNIT_EXPECT_PTR_EQ(test, s->list, &c->full[sg / 2 % 2]);
	KUNIT_EXPECT_EQ(test, c->full[sg / 2 % 2].len, 1);
	KUNIT_EXPECT_EQ(test, c->partial[sg / 2 % 2].len, 0);
}

/* A free in a full span makes it partial; the last free returns it. */
static void frees_move_and_release(struct kunit *test)
{
	struct gm_heap *h = test->priv;
	struct gm_mcentral *c = &h->central[SPC];
	struct gm_mspan *s = gm_mcentral_cache_span(h, SPC, false);
	u32 sg = h->sweepgen, n, i;
	void *objs[8];

	KUNIT_ASSERT_NOT_NULL(test, s);
	n = take_all(s, objs);
	KUNIT_ASSERT_EQ(test, n, s->nelems);
	gm_mcentral_uncache_span(h, s);
	KUNIT_ASSERT_PTR_EQ(test, s->list, &c->full[sg / 2 % 2]);

	KUNIT_EXPECT_EQ(test, gm_mcentral_free_object(h, s, (uintptr_t)objs[3]), 0);
	KUNIT_EXPECT_PTR_EQ(test, s->list, &c->partial[sg / 2 % 2]);
	KUNIT_EXPECT_EQ(test, s->nfreed, 1);
	/* Not the object's base: refused, nothing changes. */
	KUNIT_EXPECT_EQ(test, gm_mcentral_free_object(h, s, (uintptr_t)objs[4] + 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_mcentral_free_object(h, s, (uintptr_t)objs[3]), -EINVAL);
	KUNIT_EXPECT_EQ(test, s->nfreed, 1);

	for (i = 0; i < n; i++)
		if (i != 3)
			KUNIT_EXPECT_EQ(test, gm_mcentral_free_object(h, s, (uintptr_t)objs[i]), 0);
	/* Empty and uncached: kept by its class for the next refill... */
	KUNIT_EXPECT_EQ(test, s->state, GM_SPAN_IN_USE);
	KUNIT_EXPECT_PTR_EQ(test, s->list, &c->empty);
	KUNIT_EXPECT_EQ(test, c->nempty, 1);
	KUNIT_EXPECT_EQ(test, h->class_spans[SPC >> 1], 1);
	/* ...until a GC cycle or a scavenge: then gone to the heap, off every list. */
	gm_mcentral_release_kept(h);
	KUNIT_EXPECT_EQ(test, c->nempty, 0);
	KUNIT_EXPECT_EQ(test, s->state, GM_SPAN_DEAD);
	KUNIT_EXPECT_EQ(test, h->class_spans[SPC >> 1], 0);
	KUNIT_EXPECT_EQ(test, c->partial[0].len + c->partial[1].len, 0);
	KUNIT_EXPECT_EQ(test, c->full[0].len + c->full[1].len, 0);
	KUNIT_EXPECT_NULL(test, gm_span_of(&h->arenas, (uintptr_t)objs[0]));
}

/* The "swept" half of each list pair flips when sweepgen moves on. */
static void swept_half_follows_sweepgen(struct kunit *test)
{
	struct gm_heap *h = test->priv;
	struct gm_mcentral *c = &h->central[SPC];
	struct gm_mspan *s = gm_mcentral_cache_span(h, SPC, false);

	KUNIT_ASSERT_NOT_NULL(test, s);
	/* One live object, or the span would go back to the heap. */
	KUNIT_ASSERT_NE(test, gm_span_next_free_index(s), s->nelems);
	h->sweepgen += 2;	/* as a GC cycle would */
	gm_mcentral_uncache_span(h, s);
	KUNIT_EXPECT_PTR_EQ(test, s->list, &c->partial[h->sweepgen / 2 % 2]);
	KUNIT_EXPECT_PTR_NE(test, s->list, &c->partial[(h->sweepgen - 2) / 2 % 2]);
	KUNIT_EXPECT_EQ(test, s->sweepgen, h->sweepgen);
	/* cacheSpan finds it in the half that is now the swept one. */
	KUNIT_EXPECT_PTR_EQ(test, gm_mcentral_cache_span(h, SPC, false), s);
	KUNIT_EXPECT_EQ(test, s->sweepgen, h->sweepgen + 3);
}

/* An exhausted span with frees is swept in place by its mcache. */
static void sweep_frees_in_place(struct kunit *test)
{
	struct gm_heap *h = test->priv;
	struct gm_mspan *s = gm_mcentral_cache_span(h, SPC, false);
	void *objs[8];
	u32 n;

	KUNIT_ASSERT_NOT_NULL(test, s);
	n = take_all(s, objs);
	KUNIT_EXPECT_FALSE(test, gm_mcentral_sweep_frees(h, s, 0));
	KUNIT_ASSERT_EQ(test, gm_mcentral_free_object(h, s, (uintptr_t)objs[5]), 0);
	KUNIT_ASSERT_EQ(test, gm_mcentral_free_object(h, s, (uintptr_t)objs[1]), 0);
	/* Cached: nothing moves until the owner sweeps. */
	KUNIT_EXPECT_TRUE(test, s->cached);
	KUNIT_EXPECT_EQ(test, gm_span_next_free_index(s), s->nelems);
	KUNIT_EXPECT_TRUE(test, gm_mcentral_sweep_frees(h, s, 0));
	KUNIT_EXPECT_EQ(test, s->alloc_count, n - 2);
	KUNIT_EXPECT_TRUE(test, s->needzero);
	/* The freed slots, in address order, and then nothing. */
	KUNIT_EXPECT_PTR_EQ(test, (void *)(s->start + (uintptr_t)gm_span_next_free_index(s) * s->elemsize),
			    objs[1]);
	KUNIT_EXPECT_PTR_EQ(test, (void *)(s->start + (uintptr_t)gm_span_next_free_index(s) * s->elemsize),
			    objs[5]);
	KUNIT_EXPECT_EQ(test, gm_span_next_free_index(s), s->nelems);
}

/* releaseAll: a CPU's cache keeps no span, tiny block or page window. */
static void release_all_empties_cache(struct kunit *test)
{
	struct gm_heap *h = test->priv;
	unsigned int cpu, cached = 0;
	void *a = gm_heap_alloc(h, 1024, 0);
	void *b = gm_heap_alloc(h, 3, GM_NOSCAN);

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	gm_heap_flush_caches(h);
	for (cpu = 0; cpu < gm_nr_slots(); cpu++) {
		struct gm_mcache *c = gm_percpu_ptr(h->caches, cpu);
		size_t i;

		for (i = 0; i < ARRAY_SIZE(c->alloc); i++)
			cached += c->alloc[i] != &h->emptyspan;
		cached += !!c->tiny + !gm_pagecache_empty(&c->pcache);
	}
	KUNIT_EXPECT_EQ(test, cached, 0);
	/* The objects are still there and still freeable. */
	KUNIT_EXPECT_EQ(test, gm_heap_object_size(h, a), 1024);
	KUNIT_EXPECT_EQ(test, gm_heap_free(h, a), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(h, b), 0);
}

static struct kunit_case gomem_mcentral_cases[] = {
	KUNIT_CASE(cache_and_uncache),
	KUNIT_CASE(frees_move_and_release),
	KUNIT_CASE(swept_half_follows_sweepgen),
	KUNIT_CASE(sweep_frees_in_place),
	KUNIT_CASE(release_all_empties_cache),
	{}
};

static struct kunit_suite gomem_mcentral_suite = {
	.name = "gomem_mcentral",
	.init = mc_init,
	.exit = mc_exit,
	.test_cases = gomem_mcentral_cases,
};
kunit_test_suite(gomem_mcentral_suite);
