// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for heap profiles (mprof.c): the sampling rate holds over
 * many allocations of any size, frees are counted whether explicit or by
 * the sweeper, rate 0 records nothing, the profile's memory stays within
 * its bounds, and a caller that may not sleep never allocates for it.
 */
#include <kunit/test.h>

#include "../malloc.h"

#define MAX_RECS	16

struct ctx {
	struct gm_heap *h;
	struct gm_prof_record *recs;
	struct gm_prof_info info;
	struct gm_gc_cycle cyc;
};

static int mprof_test_init(struct kunit *test)
{
	struct ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	c->recs = kunit_kzalloc(test, sizeof(*c->recs) * MAX_RECS, GFP_KERNEL);
	if (!c->recs)
		return -ENOMEM;
	c->h = gm_heap_create(&gm_os_pagesrc, NULL);
	if (!c->h)
		return -ENOMEM;
	test->priv = c;
	return 0;
}

static void mprof_test_exit(struct kunit *test)
{
	struct ctx *c = test->priv;

	gm_heap_destroy(c->h);
}

/* Sums over every record of the profile. */
struct totals {
	u64 allocs, frees, alloc_bytes, free_bytes, records;
};

static struct totals read_totals(struct kunit *test)
{
	struct ctx *c = test->priv;
	struct totals t = { 0 };
	size_t n, i;

	n = gm_heap_profile_read(c->h, c->recs, MAX_RECS, &c->info);
	KUNIT_EXPECT_LE(test, c->info.buckets, (u64)MAX_RECS);
	for (i = 0; i < n; i++) {
		t.allocs += c->recs[i].allocs;
		t.frees += c->recs[i].frees;
		t.alloc_bytes += c->recs[i].alloc_bytes;
		t.free_bytes += c->recs[i].free_bytes;
		KUNIT_EXPECT_GT(test, c->recs[i].depth, 0U);
		KUNIT_EXPECT_LE(test, c->recs[i].depth, (u32)GM_PROF_DEPTH);
	}
	t.records = n;
	return t;
}

/* Collect with no roots, and sweep all of it: every object dies. */
static void collect_all(struct kunit *test)
{
	struct ctx *c = test->priv;

	KUNIT_ASSERT_EQ(test, gm_heap_gc(c->h, true, &c->cyc), 0);
	while (gm_heap_sweep_some(c->h, 64))
		;
	gm_heap_flush_caches(c->h);
}

/* Allocate and free @n objects of @size: @n * @size bytes sampled at the rate. */
static void churn(struct kunit *test, size_t size, unsigned int n)
{
	struct ctx *c = test->priv;
	unsigned int i;

	for (i = 0; i < n; i++) {
		void *p = gm_heap_alloc(c->h, size, 0);

		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, p), 0);
		/*
		 * 131072 rounds take 20-30 s in the debug guest (kmemleak's
		 * report and withdrawal of each object): without a yield a
		 * PREEMPT_NONE kernel reports an RCU stall.
		 */
		gm_cond_resched();
	}
}

/*
 * An allocation of s bytes is sampled with probability 1 - exp(-s / rate)
 * (what Go's scaleHeapSample undoes): 8 MiB at a rate of 4 KiB is 2032
 * samples expected in 64-byte objects and 1295 in 4 KiB ones (standard
 * deviations of about 45 and 22). A draw that forgot the exponential's
 * scale or counted objects instead of bytes misses the bounds of +-10 %;
 * so does a fixed interval, which samples every 4 KiB object.
 */
static void rate_statistics(struct kunit *test)
{
	struct ctx *c = test->priv;
	const u64 rate = 4096, bytes = 8 << 20;
	struct totals small, both;

	gm_heap_set_profile_rate(c->h, rate);
	churn(test, 64, bytes / 64);
	small = read_totals(test);
	KUNIT_EXPECT_GT(test, small.allocs, 2032 * 90 / 100);
	KUNIT_EXPECT_LT(test, small.allocs, 2032 * 110 / 100);
	churn(test, 4096, bytes / 4096);
	both = read_totals(test);
	KUNIT_EXPECT_GT(test, both.allocs - small.allocs, 1295 * 90 / 100);
	KUNIT_EXPECT_LT(test, both.allocs - small.allocs, 1295 * 110 / 100);
	/* Every sampled object was freed, and its free counted. */
	KUNIT_EXPECT_EQ(test, both.frees, both.allocs);
	KUNIT_EXPECT_EQ(test, both.free_bytes, both.alloc_bytes);
	KUNIT_EXPECT_EQ(test, c->info.objects, 0);
	KUNIT_EXPECT_EQ(test, c->info.dropped, 0);
	KUNIT_EXPECT_EQ(test, c->info.rate, rate);
}

/* Rate 1 samples every allocation with its slot size; frees of all kinds count. */
static void frees_counted(struct kunit *test)
{
	static const size_t sizes[] = { 8, 24, 100, 4096, 40000 };
	struct ctx *c = test->priv;
	void *p[ARRAY_SIZE(sizes) * 4];
	struct totals t;
	size_t i, bytes = 0;

	gm_heap_set_profile_rate(c->h, 1);
	for (i = 0; i < ARRAY_SIZE(p); i++) {
		/* Tiny ones too: 8-byte noscan objects share blocks. */
		p[i] = gm_heap_alloc(c->h, sizes[i % ARRAY_SIZE(sizes)], GM_NOSCAN);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
		bytes += sizes[i % ARRAY_SIZE(sizes)] < GM_TINY_SIZE ?
			 sizes[i % ARRAY_SIZE(sizes)] : gm_heap_object_size(c->h, p[i]);
	}
	t = read_totals(test);
	KUNIT_EXPECT_EQ(test, t.allocs, (u64)ARRAY_SIZE(p));
	KUNIT_EXPECT_EQ(test, t.alloc_bytes, (u64)bytes);
	KUNIT_EXPECT_EQ(test, t.frees, 0);
	KUNIT_EXPECT_EQ(test, c->info.objects, (u64)ARRAY_SIZE(p));
	/* Half freed explicitly... */
	for (i = 0; i < ARRAY_SIZE(p); i += 2)
		KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, p[i]), 0);
	t = read_totals(test);
	KUNIT_EXPECT_EQ(test, t.frees, (u64)ARRAY_SIZE(p) / 2);
	/* ... the rest by the sweeper, unreachable from any root. */
	collect_all(test);
	t = read_totals(test);
	KUNIT_EXPECT_EQ(test, t.frees, (u64)ARRAY_SIZE(p));
	KUNIT_EXPECT_EQ(test, t.free_bytes, t.alloc_bytes);
	KUNIT_EXPECT_EQ(test, c->info.objects, 0);
}

/* Tiny objects the sweeper frees are found in their blocks. */
static void tiny_swept(struct kunit *test)
{
	struct ctx *c = test->priv;
	struct totals t;
	unsigned int i;

	gm_heap_set_profile_rate(c->h, 1);
	for (i = 0; i < 200; i++)
		KUNIT_ASSERT_NOT_NULL(test, gm_heap_alloc(c->h, 1 + i % 15, GM_NOSCAN));
	collect_all(test);
	t = read_totals(test);
	KUNIT_EXPECT_EQ(test, t.allocs, 200);
	KUNIT_EXPECT_EQ(test, t.frees, 200);
	KUNIT_EXPECT_EQ(test, c->info.objects, 0);
}

/* Rate 0 (the core's default) records nothing and holds no memory. */
static void rate_zero_off(struct kunit *test)
{
	struct ctx *c = test->priv;
	struct totals t;

	churn(test, 1024, 8192);
	gm_heap_set_profile_rate(c->h, 1);
	KUNIT_EXPECT_EQ(test, gm_heap_set_profile_rate(c->h, 0), 1);
	churn(test, 64, 8192);
	t = read_totals(test);
	KUNIT_EXPECT_EQ(test, t.records, 0);
	KUNIT_EXPECT_EQ(test, c->info.meta_bytes, 0);
	KUNIT_EXPECT_EQ(test, c->info.rate, 0);
}

/*
 * Live sampled objects beyond the table's bound are dropped, counted, and
 * never counted as allocations whose frees would go unseen; the memory
 * stays under its bound.
 */
static void memory_bounded(struct kunit *test)
{
	const unsigned int n = GM_MPROF_MAX_OBJS;
	struct ctx *c = test->priv;
	struct totals t;
	unsigned int i;

	gm_heap_set_profile_rate(c->h, 1);
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_NOT_NULL(test, gm_heap_alloc(c->h, 16, 0));
		gm_cond_resched();
	}
	t = read_totals(test);
	KUNIT_EXPECT_EQ(test, t.allocs, c->info.objects);
	KUNIT_EXPECT_LE(test, c->info.objects, (u64)GM_MPROF_MAX_OBJS * 3 / 4);
	KUNIT_EXPECT_EQ(test, c->info.dropped, n - c->info.objects);
	KUNIT_EXPECT_GT(test, c->info.dropped, 0);
	KUNIT_EXPECT_LE(test, c->info.meta_bytes,
			(u64)GM_MPROF_MAX_OBJS * 24 + (8 << GM_MPROF_HASH_BITS) +
			(u64)GM_MPROF_MAX_BUCKETS * (56 + GM_PROF_DEPTH * 8));
	collect_all(test);
	t = read_totals(test);
	KUNIT_EXPECT_EQ(test, t.frees, t.allocs);
}

/* A caller that may not sleep gets no memory for the profile: the sample is dropped. */
static void nosleep_drops(struct kunit *test)
{
	struct ctx *c = test->priv;
	struct totals t;
	void *p;

	gm_heap_set_profile_rate(c->h, 1);
	/* The CPU's span of the class first, so that GM_NOSLEEP can be served. */
	p = gm_heap_alloc(c->h, 64, 0);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, p), 0);
	gm_cpu_stay();
	gm_nosleep_begin();
	p = gm_heap_alloc(c->h, 64, GM_NOSLEEP);
	gm_nosleep_end();
	gm_cpu_leave();
	KUNIT_ASSERT_NOT_NULL(test, p);
	t = read_totals(test);
	/* The first sample made the tables; the second, a new stack, needed a bucket. */
	KUNIT_EXPECT_EQ(test, t.allocs, 1);
	KUNIT_EXPECT_EQ(test, c->info.dropped, 1);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, p), 0);
	t = read_totals(test);
	KUNIT_EXPECT_EQ(test, t.frees, t.allocs);
}

static struct kunit_case gomem_mprof_cases[] = {
	KUNIT_CASE(rate_statistics),
	KUNIT_CASE(frees_counted),
	KUNIT_CASE(tiny_swept),
	KUNIT_CASE(rate_zero_off),
	KUNIT_CASE(memory_bounded),
	KUNIT_CASE(nosleep_drops),
	{}
};

static struct kunit_suite gomem_mprof_suite = {
	.name = "gomem_mprof",
	.init = mprof_test_init,
	.exit = mprof_test_exit,
	.test_cases = gomem_mprof_cases,
};
kunit_test_suite(gomem_mprof_suite);
