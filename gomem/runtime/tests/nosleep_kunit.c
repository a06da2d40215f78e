// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for callers that may not sleep (GM_NOSLEEP allocations,
 * frees in any context) and for the empty spans a class keeps. The
 * sections that may not sleep are gm_nosleep_begin()/_end(): preemption
 * off in the kernel, where DEBUG_ATOMIC_SLEEP and lockdep watch them, and
 * in userspace a section in which a sleeping lock aborts the test.
 */
#include <kunit/test.h>

#include "../malloc.h"

struct ctx {
	struct gm_heap *h;
	int kicks;	/* GM_KICK_NOW */
	int trims;	/* GM_KICK_TRIM */
};

static void count_kick(void *arg, enum gm_kick why)
{
	struct ctx *c = arg;

	if (why == GM_KICK_NOW)
		c->kicks++;
	else
		c->trims++;
}

static int nosleep_test_init(struct kunit *test)
{
	struct ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	c->h = gm_heap_create(&gm_os_pagesrc, NULL);
	if (!c->h)
		return -ENOMEM;
	gm_heap_set_kick(c->h, count_kick, c);
	test->priv = c;
	return 0;
}

static void nosleep_test_exit(struct kunit *test)
{
	struct ctx *c = test->priv;

	gm_heap_destroy(c->h);
}

static u8 spc_of(size_t size, unsigned int flags)
{
	return gm_size_to_class(size) << 1 | !!(flags & GM_NOSCAN);
}

/* Every CPU's cache back to the classes, which keep what they keep. */
static void flush_cpus(struct gm_heap *h)
{
	unsigned int cpu;

	for (cpu = 0; cpu < gm_nr_cpu_ids(); cpu++)
		gm_heap_flush_cpu(h, cpu);
}

/* Allocations that may not sleep, on this CPU, until one fails. */
static unsigned int alloc_nosleep(struct gm_heap *h, size_t size, unsigned int flags,
				  void **objs, unsigned int max)
{
	unsigned int n = 0;

	gm_nosleep_begin();
	while (n < max && (objs[n] = gm_heap_alloc(h, size, flags | GM_NOSLEEP)))
		n++;
	gm_nosleep_end();
	return n;
}

/*
 * A class that holds nothing cannot serve a caller that may not sleep:
 * NULL, at once, and a kick. gm_heap_fill_spares() then gives the class
 * a span, which serves exactly its slots, and no more without a sleep.
 */
static void nosleep_alloc_from_spare(struct kunit *test)
{
	struct ctx *c = test->priv;
	const size_t size = 256;
	u8 spc = spc_of(size, 0);
	u32 nelems = gm_class_npages(spc >> 1) * GM_PAGE_SIZE / size;
	void **objs = kunit_kcalloc(test, nelems + 1, sizeof(void *), GFP_KERNEL);
	unsigned int n, i;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	gm_cpu_stay();
	KUNIT_EXPECT_EQ(test, alloc_nosleep(c->h, size, 0, objs, 1), 0);
	KUNIT_EXPECT_EQ(test, c->kicks, 1);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(c->h->central[spc].want_spare));
	/* Large objects always need the heap lock. */
	gm_nosleep_begin();
	KUNIT_EXPECT_NULL(test, gm_heap_alloc(c->h, GM_MAX_SMALL_SIZE + 1, GM_NOSLEEP));
	gm_nosleep_end();

	KUNIT_EXPECT_EQ(test, gm_gc_counter_read(&c->h->gc, GM_GC_NOSLEEP_MISSES), 1);
	gm_heap_fill_spares(c->h);
	KUNIT_EXPECT_EQ(test, gm_gc_counter_read(&c->h->gc, GM_GC_SPARE_SPANS), 1);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(c->h->central[spc].want_spare));
	KUNIT_EXPECT_EQ(test, c->h->central[spc].nempty, 1);
	n = alloc_nosleep(c->h, size, 0, objs, nelems + 1);
	gm_cpu_leave();
	KUNIT_EXPECT_EQ(test, n, nelems);
	KUNIT_EXPECT_EQ(test, c->h->class_spans[spc >> 1], 1);
	for (i = 0; i < n; i++) {
		memset(objs[i], i, size);
		KUNIT_EXPECT_EQ(test, gm_heap_object_size(c->h, objs[i]), size);
	}
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, ((u8 *)objs[i])[size - 1], (u8)i);
		KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	}
}

/*
 * Once a class holds spans, callers that may not sleep are served from
 * them: its partial spans, then the empty ones it keeps; tiny objects
 * and GM_ZERO too.
 */
static void nosleep_alloc_from_class(struct kunit *test)
{
	struct ctx *c = test->priv;
	void *objs[64];
	unsigned int i, n;
	u8 *z;

	for (i = 0; i < 64; i++) {
		objs[i] = gm_heap_alloc(c->h, 1000, 0);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		memset(objs[i], 0xa5, 1000);
	}
	for (i = 0; i < 64; i++)
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	/* Back to the classes: the freed slots and the kept spans serve. */
	flush_cpus(c->h);
	n = alloc_nosleep(c->h, 1000, GM_ZERO, objs, 64);
	KUNIT_EXPECT_EQ(test, n, 64);
	for (i = 0; i < n; i++) {
		z = objs[i];
		KUNIT_EXPECT_EQ(test, z[0] | z[500] | z[999], 0);
	}
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	KUNIT_EXPECT_EQ(test, c->kicks, 0);

	/* Tiny objects: a warm tiny class serves too. */
	gm_cpu_stay();
	objs[0] = gm_heap_alloc(c->h, 8, GM_NOSCAN);
	KUNIT_ASSERT_NOT_NULL(test, objs[0]);
	n = alloc_nosleep(c->h, 4, GM_NOSCAN, objs + 1, 16);
	gm_cpu_leave();
	KUNIT_EXPECT_EQ(test, n, 16);
	for (i = 0; i <= n; i++)
		KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
}

/*
 * A free where one may not sleep never takes the heap lock: a large
 * object's span waits on the deferred list (its bytes already gone from
 * the live heap), the heap's owner is kicked, and the next caller that
 * may sleep frees it. Bad frees are refused there as anywhere.
 */
static void nosleep_free_defers_span(struct kunit *test)
{
	struct ctx *c = test->priv;
	const size_t size = 64 * 1024;
	u64 live, pages;
	void *big, *small;
	int ret, bad;

	big = gm_heap_alloc(c->h, size, 0);
	small = gm_heap_alloc(c->h, 48, 0);
	KUNIT_ASSERT_NOT_NULL(test, big);
	KUNIT_ASSERT_NOT_NULL(test, small);
	live = gm_heap_live_exact(c->h);
	pages = READ_ONCE(c->h->inuse_pages);
	gm_nosleep_begin();
	ret = gm_heap_free(c->h, big);
	bad = gm_heap_free(c->h, big);
	gm_nosleep_end();
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, bad, -EINVAL);
	KUNIT_EXPECT_EQ(test, c->kicks, 1);
	KUNIT_EXPECT_EQ(test, c->h->deferred.len, 1);
	KUNIT_EXPECT_EQ(test, gm_gc_counter_read(&c->h->gc, GM_GC_DEFERRED_SPANS), 1);
	KUNIT_EXPECT_EQ(test, live - gm_heap_live_exact(c->h), size);
	KUNIT_EXPECT_EQ(test, READ_ONCE(c->h->inuse_pages), pages);
	KUNIT_EXPECT_EQ(test, gm_heap_object_size(c->h, big), 0);

	gm_heap_fill_spares(c->h);
	KUNIT_EXPECT_EQ(test, c->h->deferred.len, 0);
	KUNIT_EXPECT_EQ(test, pages - READ_ONCE(c->h->inuse_pages), size / GM_PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, c->h->large_frees, 1);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, small), 0);
}

/* Objects of @size until the CPU's span of the class is another one. */
static unsigned int fill_spans(struct kunit *test, struct gm_heap *h, size_t size,
			       void **objs, unsigned int max)
{
	unsigned int n;

	for (n = 0; n < max; n++) {
		objs[n] = gm_heap_alloc(h, size, 0);
		KUNIT_ASSERT_NOT_NULL(test, objs[n]);
	}
	return n;
}

/*
 * Spans are not churned: a class whose objects are all freed keeps its
 * emptied spans (up to its bound) and takes them again, and the heap
 * hands out no new one; a GC cycle gives them back.
 */
static void emptied_spans_kept(struct kunit *test)
{
	struct ctx *c = test->priv;
	const size_t size = 2048;
	u8 spc = spc_of(size, 0);
	u32 per_span = gm_class_npages(spc >> 1) * GM_PAGE_SIZE / size;
	unsigned int n = 3 * per_span, round, i;
	void **objs = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	struct gm_gc_cycle cyc;
	u64 spans = 0;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	/* One CPU's cache: the class's spans are the ones it takes. */
	gm_cpu_stay();
	for (round = 0; round < 4; round++) {
		fill_spans(test, c->h, size, objs, n);
		if (!round)
			spans = c->h->class_spans[spc >> 1];
		/* The same spans every round: none returned, none taken. */
		KUNIT_EXPECT_EQ(test, c->h->class_spans[spc >> 1], spans);
		for (i = 0; i < n; i++)
			KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	}
	gm_cpu_leave();
	/* The frees batched on the CPU apply when it lets its cache go. */
	flush_cpus(c->h);
	KUNIT_EXPECT_EQ(test, c->h->central[spc].nempty, spans);
	KUNIT_EXPECT_EQ(test, gm_heap_gc(c->h, true, &cyc), 0);
	KUNIT_EXPECT_EQ(test, c->h->central[spc].nempty, 0);
	KUNIT_EXPECT_EQ(test, c->h->class_spans[spc >> 1], 0);
}

/*
 * A burst: the class keeps every span the burst emptied, asks to be
 * trimmed, and gives back what it has not needed for a whole period,
 * down to its lasting bound. A class in use keeps what it cycles through.
 */
static void kept_spans_trimmed(struct kunit *test)
{
	struct ctx *c = test->priv;
	const size_t size = 32 * 1024;
	u8 spc = spc_of(size, 0);
	u32 span_bytes = gm_class_npages(spc >> 1) * GM_PAGE_SIZE;
	unsigned int n = 4 * (256 * 1024 / span_bytes + 2), i;
	void **objs = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, objs);
	fill_spans(test, c->h, size, objs, n);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	flush_cpus(c->h);
	KUNIT_EXPECT_EQ(test, c->h->central[spc].nempty, n);
	KUNIT_EXPECT_GE(test, c->trims, 1);
	/* The burst was this period: nothing idle yet. */
	KUNIT_EXPECT_TRUE(test, gm_heap_trim_kept(c->h));
	KUNIT_EXPECT_EQ(test, c->h->central[spc].nempty, n);

	/* Half of them used again: those stay, the idle rest goes. */
	fill_spans(test, c->h, size, objs, n / 2);
	for (i = 0; i < n / 2; i++)
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	flush_cpus(c->h);
	KUNIT_EXPECT_TRUE(test, gm_heap_trim_kept(c->h));
	KUNIT_EXPECT_GE(test, c->h->central[spc].nempty, n / 2);
	KUNIT_EXPECT_LT(test, c->h->central[spc].nempty, n);

	KUNIT_EXPECT_EQ(test, gm_gc_counter_read(&c->h->gc, GM_GC_KEPT_RELEASED_SPANS),
			n - c->h->central[spc].nempty);
	/* Idle a whole period: down to the lasting bound. */
	KUNIT_EXPECT_FALSE(test, gm_heap_trim_kept(c->h));
	KUNIT_EXPECT_LE(test, (u64)c->h->central[spc].nempty * span_bytes,
			max_t(u64, 2 * span_bytes, 256 * 1024));
	KUNIT_EXPECT_GE(test, c->h->central[spc].nempty, 2);
	KUNIT_EXPECT_EQ(test, c->h->class_spans[spc >> 1], c->h->central[spc].nempty);
}

static struct kunit_case gomem_nosleep_cases[] = {
	KUNIT_CASE(nosleep_alloc_from_spare),
	KUNIT_CASE(nosleep_alloc_from_class),
	KUNIT_CASE(nosleep_free_defers_span),
	KUNIT_CASE(emptied_spans_kept),
	KUNIT_CASE(kept_spans_trimmed),
	{}
};

static struct kunit_suite gomem_nosleep_suite = {
	.name = "gomem_nosleep",
	.init = nosleep_test_init,
	.exit = nosleep_test_exit,
	.test_cases = gomem_nosleep_cases,
};
kunit_test_suite(gomem_nosleep_suite);
