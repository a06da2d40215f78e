// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the MemStats fields Go has and gomem added in issue 14
 * (mstats.c, the pause rings and GCCPUFraction of mgc.c): the metadata
 * categories add up to Sys as Go's do, TotalAlloc counts what was
 * allocated whether or not it was freed since, the PauseNs and PauseEnd
 * rings hold the last 256 pauses in order, and GCCPUFraction is a
 * fraction.
 */
#include <kunit/test.h>

#include "../malloc.h"

static int mstats_test_init(struct kunit *test)
{
	struct gm_heap *h = gm_heap_create(&gm_os_pagesrc, NULL);

	if (!h)
		return -ENOMEM;
	/* Cycles run only when a test asks. */
	gm_heap_set_gogc(h, GM_GOGC_OFF);
	test->priv = h;
	return 0;
}

static void mstats_test_exit(struct kunit *test)
{
	if (test->priv)
		gm_heap_destroy(test->priv);
}

static struct gm_memstats *stats(struct kunit *test)
{
	struct gm_memstats *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	gm_heap_read_stats(test->priv, st);
	return st;
}

static void *obj(struct kunit *test, size_t size, unsigned int flags)
{
	void *p = gm_heap_alloc(test->priv, size, flags);

	KUNIT_ASSERT_NOT_NULL(test, p);
	return p;
}

/* Go's identity: Sys is the sum of the *Sys fields. */
static void expect_sys_adds_up(struct kunit *test, const struct gm_memstats *st)
{
	KUNIT_EXPECT_EQ(test, st->sys, st->heap_sys + st->stack_sys + st->mspan_sys +
			st->mcache_sys + st->buckhash_sys + st->gc_sys + st->other_sys);
	KUNIT_EXPECT_LE(test, st->mspan_inuse, st->mspan_sys);
	KUNIT_EXPECT_LE(test, st->mcache_inuse, st->mcache_sys);
	KUNIT_EXPECT_EQ(test, st->stack_inuse, 0);
	KUNIT_EXPECT_EQ(test, st->stack_sys, 0);
}

/*
 * Each category holds what the heap's metadata is: span structures in
 * MSpan*, the per-CPU caches in MCache*, bitmaps in GCSys, the heap
 * structure in OtherSys; and they add up at every step.
 */
static void sys_adds_up(struct kunit *test)
{
	enum { LARGE = 8, ROOTS = 64 };
	struct gm_memstats *st0 = stats(test), *st1, *st2, *st3;
	uintptr_t *root = kunit_kcalloc(test, ROOTS, sizeof(*root), GFP_KERNEL);
	struct gm_gc_cycle cyc;
	void *large[LARGE];
	int i;

	KUNIT_ASSERT_NOT_NULL(test, root);
	expect_sys_adds_up(test, st0);
	KUNIT_EXPECT_EQ(test, st0->mcache_sys, (u64)gm_nr_slots() * sizeof(struct gm_mcache));
	KUNIT_EXPECT_GE(test, st0->mcache_inuse, (u64)GM_CPU_SLOTS * sizeof(struct gm_mcache));
	KUNIT_EXPECT_GE(test, st0->other_sys, sizeof(struct gm_heap));
	/* The page allocator's fixed index is there from the start. */
	KUNIT_EXPECT_GT(test, st0->gc_sys, 0);

	/* Every allocation sampled: the profile's buckets are BuckHashSys. */
	gm_heap_set_profile_rate(test->priv, 1);
	/* No tiny objects: a sweep that frees their spans frees GCSys too. */
	for (i = 0; i < 1000; i++) {
		void *p = obj(test, 16 + i % 2000, i % 3 ? GM_NOSCAN : GM_ZERO);

		if (i < ROOTS)
			root[i] = (uintptr_t)p;
	}
	for (i = 0; i < LARGE; i++)
		large[i] = obj(test, 100000, GM_NOSCAN);
	st1 = stats(test);
	expect_sys_adds_up(test, st1);
	KUNIT_EXPECT_GE(test, st1->mspan_sys, (LARGE + 1) * sizeof(struct gm_mspan));
	KUNIT_EXPECT_GE(test, st1->mspan_inuse, (LARGE + 1) * sizeof(struct gm_mspan));
	/* Every span has its bitmaps; the heap has grown arenas and chunks. */
	KUNIT_EXPECT_GT(test, st1->gc_sys, st0->gc_sys);
	KUNIT_EXPECT_GT(test, st1->other_sys, st0->other_sys);
	KUNIT_EXPECT_GT(test, st1->buckhash_sys, st0->buckhash_sys);
	KUNIT_EXPECT_GE(test, st1->sys, st1->heap_sys + st1->mspan_sys + st1->gc_sys);

	/* The objects in @root give the mark a gray queue to grow. */
	KUNIT_ASSERT_EQ(test, gm_heap_add_root(test->priv, (uintptr_t)root, sizeof(*root) * ROOTS),
			0);
	/* Dead spans' structures are recycled: in use no more, still obtained. */
	for (i = 0; i < LARGE; i++)
		KUNIT_ASSERT_EQ(test, gm_heap_free(test->priv, large[i]), 0);
	st2 = stats(test);
	expect_sys_adds_up(test, st2);
	KUNIT_EXPECT_EQ(test, st2->mspan_sys, st1->mspan_sys);
	KUNIT_EXPECT_LE(test, st2->mspan_inuse + LARGE * sizeof(struct gm_mspan),
			st1->mspan_inuse);

	/* The gray queue is gone when the cycle is: GCSys is as before. */
	KUNIT_ASSERT_EQ(test, gm_heap_gc(test->priv, true, &cyc), 0);
	KUNIT_EXPECT_GE(test, cyc.mark.queue_bufs, 1);
	st3 = stats(test);
	expect_sys_adds_up(test, st3);
	KUNIT_EXPECT_EQ(test, st3->gc_sys, st2->gc_sys);

	/* The lockless reader (debugfs heaps/total) sees the same metadata. */
	gm_heap_read_sizes(test->priv, st2);
	expect_sys_adds_up(test, st2);
	KUNIT_EXPECT_EQ(test, st2->gc_sys, st3->gc_sys);
	KUNIT_EXPECT_EQ(test, st2->mspan_sys, st3->mspan_sys);
}

/*
 * TotalAlloc goes up by each allocation, Go's way (small objects by their
 * slot, large ones by their pages), and never down: freed objects and
 * those a cycle collected stay counted.
 */
static void total_alloc_counts(struct kunit *test)
{
	enum { N = 500 };
	void **small = kunit_kcalloc(test, N, sizeof(*small), GFP_KERNEL);
	u64 ta0 = stats(test)->total_alloc, slot, want;
	struct gm_heap *h = test->priv;
	struct gm_memstats *st;
	struct gm_gc_cycle cyc;
	void *big;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, small);

	for (i = 0; i < N; i++)
		small[i] = obj(test, 100, GM_NOSCAN);
	slot = gm_heap_usable_size(h, small[0]);
	KUNIT_EXPECT_GE(test, slot, 100);
	big = obj(test, 40000, GM_NOSCAN);
	want = N * slot + ALIGN(40000, GM_PAGE_SIZE);
	st = stats(test);
	KUNIT_EXPECT_EQ(test, st->total_alloc - ta0, want);
	KUNIT_EXPECT_GE(test, st->total_alloc, st->heap_alloc);

	for (i = 0; i < N / 2; i++)
		KUNIT_ASSERT_EQ(test, gm_heap_free(h, small[i]), 0);
	KUNIT_ASSERT_EQ(test, gm_heap_free(h, big), 0);
	KUNIT_EXPECT_EQ(test, stats(test)->total_alloc - ta0, want);

	/* The rest is garbage (no roots): the cycle frees it, TotalAlloc stays. */
	KUNIT_ASSERT_EQ(test, gm_heap_gc(h, true, &cyc), 0);
	st = stats(test);
	KUNIT_EXPECT_EQ(test, st->total_alloc - ta0, want);
	KUNIT_EXPECT_EQ(test, st->heap_alloc, 0);
}

/*
 * After more than 256 cycles, the rings hold the last 256 pauses: cycle
 * n's at (n - 1) % 256, as the cycles reported them, with their ends in
 * real time, increasing from the oldest to the latest, which is LastGC.
 */
static void pause_rings(struct kunit *test)
{
	enum { CYCLES = GM_PAUSE_RING + 44 };
	u64 *pauses = kunit_kcalloc(test, CYCLES + 1, sizeof(u64), GFP_KERNEL);
	u64 *ns = kunit_kcalloc(test, 2 * GM_PAUSE_RING, sizeof(u64), GFP_KERNEL);
	u64 *end = ns + GM_PAUSE_RING, before, after, total = 0, n, i;
	struct gm_gc_cycle cyc;
	struct gm_gc_info gi;

	KUNIT_ASSERT_NOT_NULL(test, pauses);
	KUNIT_ASSERT_NOT_NULL(test, ns);
	before = gm_real_ns();
	for (i = 1; i <= CYCLES; i++) {
		obj(test, 64, 0);
		KUNIT_ASSERT_EQ(test, gm_heap_gc(test->priv, i & 1, &cyc), 0);
		KUNIT_ASSERT_EQ(test, cyc.num, i);
		pauses[i] = cyc.pause_ns;
		total += cyc.pause_ns;
	}
	after = gm_real_ns();
	n = gm_heap_read_pauses(test->priv, ns, end);
	KUNIT_ASSERT_EQ(test, n, CYCLES);
	for (i = n - GM_PAUSE_RING + 1; i <= n; i++) {
		unsigned int slot = (i - 1) % GM_PAUSE_RING;

		KUNIT_EXPECT_EQ_MSG(test, ns[slot], pauses[i], "cycle %llu", (unsigned long long)i);
		KUNIT_EXPECT_GE(test, end[slot], before);
		KUNIT_EXPECT_LE(test, end[slot], after);
		if (i > n - GM_PAUSE_RING + 1)
			KUNIT_EXPECT_GT_MSG(test, end[slot], end[(i - 2) % GM_PAUSE_RING],
					    "cycle %llu", (unsigned long long)i);
	}
	gm_heap_read_gc_info(test->priv, &gi);
	KUNIT_EXPECT_EQ(test, gi.numgc, CYCLES);
	KUNIT_EXPECT_EQ(test, gi.numforced, CYCLES / 2);
	KUNIT_EXPECT_EQ(test, gi.pause_total_ns, total);
	KUNIT_EXPECT_EQ(test, gi.last_gc_unix_ns, end[(n + 255) % GM_PAUSE_RING]);
	/* Some cycles took time, and it is a fraction of the heap's lifetime. */
	KUNIT_EXPECT_GT(test, gi.gc_cpu_ppm, 0);
	KUNIT_EXPECT_LE(test, gi.gc_cpu_ppm, GM_PPM);
}

/* No cycle yet: no pause, no LastGC, no CPU used. */
static void rings_empty(struct kunit *test)
{
	u64 *ns = kunit_kcalloc(test, 2 * GM_PAUSE_RING, sizeof(u64), GFP_KERNEL);
	struct gm_gc_info gi;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, ns);
	KUNIT_EXPECT_EQ(test, gm_heap_read_pauses(test->priv, ns, ns + GM_PAUSE_RING), 0);
	for (i = 0; i < 2 * GM_PAUSE_RING; i++)
		KUNIT_EXPECT_EQ(test, ns[i], 0);
	gm_heap_read_gc_info(test->priv, &gi);
	KUNIT_EXPECT_EQ(test, gi.last_gc_unix_ns, 0);
	KUNIT_EXPECT_EQ(test, gi.gc_cpu_ppm, 0);
}

/* GCCPUFraction's arithmetic: a ratio in [0, 1], whatever the magnitudes. */
static void cpu_fraction(struct kunit *test)
{
	const u64 s = 1000000000ULL;

	KUNIT_EXPECT_EQ(test, gm_gc_cpu_ppm(0, 10 * s, 4), 0);
	KUNIT_EXPECT_EQ(test, gm_gc_cpu_ppm(s, 0, 4), 0);
	KUNIT_EXPECT_EQ(test, gm_gc_cpu_ppm(s, 2 * s, 1), GM_PPM / 2);
	KUNIT_EXPECT_EQ(test, gm_gc_cpu_ppm(s, 2 * s, 4), GM_PPM / 8);
	KUNIT_EXPECT_EQ(test, gm_gc_cpu_ppm(s, 2 * s, 0), GM_PPM / 2);
	/* More CPU than time (a clock step, CPUs gone offline): 1 at most. */
	KUNIT_EXPECT_EQ(test, gm_gc_cpu_ppm(3 * s, 2 * s, 1), GM_PPM);
	/* A year of a 64-CPU machine, a quarter of it collecting: no overflow. */
	KUNIT_EXPECT_EQ(test, gm_gc_cpu_ppm(365ULL * 86400 * s * 16, 365ULL * 86400 * s, 64),
			GM_PPM / 4);
	KUNIT_EXPECT_EQ(test, gm_gc_cpu_ppm(1ULL << 62, 1ULL << 63, 1), GM_PPM / 2);
}

static struct kunit_case gomem_mstats_cases[] = {
	KUNIT_CASE(sys_adds_up),
	KUNIT_CASE(total_alloc_counts),
	KUNIT_CASE(pause_rings),
	KUNIT_CASE(rings_empty),
	KUNIT_CASE(cpu_fraction),
	{}
};

static struct kunit_suite gomem_mstats_suite = {
	.name = "gomem_mstats",
	.init = mstats_test_init,
	.exit = mstats_test_exit,
	.test_cases = gomem_mstats_cases,
};

kunit_test_suite(gomem_mstats_suite);
