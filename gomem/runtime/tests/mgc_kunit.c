// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the collector (mgc.c, mgcsweep.c, mgcpacer.c): objects
 * reachable from registered roots survive cycles with their contents,
 * the rest is swept and its slots reused; garbage cycles, interior
 * pointers, noscan objects, root objects, tiny and large objects; the
 * sweepgen state of every span after each phase; lazy, background and
 * proportional sweeping; the pacer's goal, GOGC off, the memory limit,
 * and the gctrace line.
 *
 * Objects the collector may have freed are never touched again: only the
 * heap's metadata is asked about them.
 */
#include <kunit/test.h>

#include "../malloc.h"

struct gc_ctx {
	struct gm_heap *h;
	struct gm_gc_cycle cyc;
};

static int gc_test_init(struct kunit *test)
{
	struct gc_ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	c->h = gm_heap_create(&gm_os_pagesrc, NULL);
	if (!c->h)
		return -ENOMEM;
	/* Cycles run only when a test asks, unless it turns GOGC on. */
	gm_heap_set_gogc(c->h, GM_GOGC_OFF);
	test->priv = c;
	return 0;
}

static void gc_test_exit(struct kunit *test)
{
	struct gc_ctx *c = test->priv;

	if (c->h)
		gm_heap_destroy(c->h);
}

static struct gm_heap *heap(struct kunit *test)
{
	return ((struct gc_ctx *)test->priv)->h;
}

static uintptr_t *obj(struct kunit *test, size_t size, unsigned int flags)
{
	uintptr_t *p = gm_heap_alloc(heap(test), size, flags | GM_ZERO);

	KUNIT_ASSERT_NOT_NULL(test, p);
	return p;
}

static struct gm_gc_cycle *gc(struct kunit *test, bool forced)
{
	struct gc_ctx *c = test->priv;

	KUNIT_ASSERT_EQ(test, gm_heap_gc(c->h, forced, &c->cyc), 0);
	return &c->cyc;
}

static bool live(struct kunit *test, const void *p)
{
	return gm_heap_usable_size(heap(test), p) != 0;
}

/* A root range of @n words, in memory the test owns. */
static uintptr_t *roots(struct kunit *test, size_t n)
{
	uintptr_t *r = kunit_kcalloc(test, n, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_EQ(test, gm_heap_add_root(heap(test), (uintptr_t)r, n * sizeof(*r)), 0);
	return r;
}

static struct gm_memstats *stats(struct kunit *test)
{
	struct gm_memstats *st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, st);
	gm_heap_read_stats(heap(test), st);
	return st;
}

/* A list from a root survives cycles with its contents; garbage does not. */
static void reachable_survive(struct kunit *test)
{
	enum { N = 3000, CYCLES = 5 };
	uintptr_t *root = roots(test, 1), *p, *garbage[8];
	u64 frees;
	int i, n;

	for (i = 0; i < N; i++) {
		p = obj(test, 48, 0);
		p[0] = *root;
		p[1] = 0x5a5a0000 + i;
		*root = (uintptr_t)p;
		garbage[i % 8] = obj(test, 48, 0);
	}
	frees = stats(test)->frees;
	for (i = 0; i < CYCLES; i++) {
		struct gm_gc_cycle *c = gc(test, true);

		KUNIT_EXPECT_EQ(test, c->mark.marked, N);
		KUNIT_EXPECT_EQ(test, c->heap_marked, N * 48);
		KUNIT_EXPECT_EQ(test, c->freed_objects, i ? 0 : N);
	}
	KUNIT_EXPECT_EQ(test, stats(test)->frees - frees, N);
	KUNIT_EXPECT_EQ(test, stats(test)->heap_objects, N);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_FALSE(test, live(test, garbage[i]));
	n = N;
	for (p = (uintptr_t *)*root; p; p = (uintptr_t *)p[0])
		KUNIT_EXPECT_EQ(test, p[1], 0x5a5a0000 + --n);
	KUNIT_EXPECT_EQ(test, n, 0);
}

/*
 * A million-node list survives cycles, and all of it goes with its root.
 * Where objects are reported to kmemleak (debug kernels), each report and
 * its withdrawal cost about 70 us, so the list is shorter there; the
 * /dev/gomem kselftest builds the full million on every kernel.
 */
static void million_node_list(struct kunit *test)
{
	const int N = GM_TRACK_OBJECTS ? 200000 : 1000000;
	uintptr_t *root = roots(test, 1), *p;
	struct gm_gc_cycle *c;
	int i, n = 0;

	for (i = 0; i < N; i++) {
		p = obj(test, 16, 0);
		p[0] = *root;
		p[1] = i;
		*root = (uintptr_t)p;
		/* 14-35 s in the debug guest: yield, or RCU reports a stall. */
		gm_cond_resched();
	}
	c = gc(test, true);
	KUNIT_EXPECT_EQ(test, c->mark.marked, N);
	KUNIT_EXPECT_EQ(test, c->freed_objects, 0);
	for (p = (uintptr_t *)*root; p; p = (uintptr_t *)p[0])
		n += p[1] == N - 1 - n;
	KUNIT_EXPECT_EQ(test, n, N);
	*root = 0;
	c = gc(test, true);
	kunit_info(test, "freed %llu objects, mark %llu us, sweep %llu us",
		   (unsigned long long)c->freed_objects,
		   (unsigned long long)c->phase_ns[GM_PHASE_MARK] / 1000,
		   (unsigned long long)c->phase_ns[GM_PHASE_SWEEP] / 1000);
	KUNIT_EXPECT_EQ(test, c->freed_objects, N);
	KUNIT_EXPECT_EQ(test, stats(test)->heap_objects, 0);
	KUNIT_EXPECT_EQ(test, stats(test)->heap_inuse, 0);
}

/* Swept slots are handed out again; the heap does not grow. */
static void slots_reused(struct kunit *test)
{
	enum { N = 4096 };
	uintptr_t **first = kunit_kcalloc(test, N, sizeof(*first), GFP_KERNEL);
	u64 sys;
	int i, j, reused = 0;

	KUNIT_ASSERT_NOT_NULL(test, first);
	for (i = 0; i < N; i++)
		first[i] = obj(test, 128, 0);
	sys = stats(test)->heap_sys;
	gc(test, true);
	for (i = 0; i < N; i++) {
		uintptr_t *p = obj(test, 128, 0);

		for (j = 0; j < N; j++)
			if (p == first[j])
				break;
		reused += j < N;
	}
	KUNIT_EXPECT_EQ(test, reused, N);
	KUNIT_EXPECT_EQ(test, stats(test)->heap_sys, sys);
}

/* Garbage cycles go; interior pointers keep; noscan words do not count. */
static void cycles_interior_noscan(struct kunit *test)
{
	uintptr_t *root = roots(test, 2);
	uintptr_t *a = obj(test, 64, 0), *b = obj(test, 64, 0), *c = obj(test, 64, 0);
	uintptr_t *inner = obj(test, 512, 0), *ns = obj(test, 64, GM_NOSCAN);
	uintptr_t *hidden = obj(test, 64, 0);

	a[0] = (uintptr_t)b;
	b[0] = (uintptr_t)c;
	c[0] = (uintptr_t)a;
	root[0] = (uintptr_t)inner + 300;
	root[1] = (uintptr_t)ns;
	ns[3] = (uintptr_t)hidden;
	gc(test, true);
	KUNIT_EXPECT_FALSE(test, live(test, a));
	KUNIT_EXPECT_FALSE(test, live(test, b));
	KUNIT_EXPECT_FALSE(test, live(test, c));
	KUNIT_EXPECT_TRUE(test, live(test, inner));
	KUNIT_EXPECT_TRUE(test, live(test, ns));
	KUNIT_EXPECT_FALSE(test, live(test, hidden));
}

/* Root objects: kept until released; the calls' errors. */
static void root_objects(struct kunit *test)
{
	struct gm_heap *h = heap(test);
	uintptr_t *r = obj(test, 96, 0), *child = obj(test, 32, 0);
	uintptr_t *big = obj(test, 100000, GM_NOSCAN);
	void *tiny = gm_heap_alloc(h, 4, GM_NOSCAN);

	KUNIT_ASSERT_NOT_NULL(test, tiny);
	r[2] = (uintptr_t)child;
	KUNIT_EXPECT_EQ(test, gm_heap_set_root_object(h, r, true), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_set_root_object(h, r, true), -EEXIST);
	KUNIT_EXPECT_EQ(test, gm_heap_set_root_object(h, (char *)r + 8, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_set_root_object(h, tiny, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_set_root_object(h, child, false), -ENOENT);
	KUNIT_EXPECT_EQ(test, gm_heap_set_root_object(h, big, true), 0);
	gc(test, true);
	gc(test, true);
	KUNIT_EXPECT_TRUE(test, live(test, r));
	KUNIT_EXPECT_TRUE(test, live(test, child));
	KUNIT_EXPECT_TRUE(test, live(test, big));
	KUNIT_EXPECT_FALSE(test, live(test, tiny));
	KUNIT_EXPECT_EQ(test, gm_heap_set_root_object(h, r, false), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(h, big), 0);
	gc(test, true);
	KUNIT_EXPECT_FALSE(test, live(test, r));
	KUNIT_EXPECT_FALSE(test, live(test, child));
	KUNIT_EXPECT_EQ(test, stats(test)->heap_objects, 0);
}

/* Root ranges: registered, found by address, refused when bad. */
static void root_ranges(struct kunit *test)
{
	struct gm_heap *h = heap(test);
	uintptr_t *r = kunit_kcalloc(test, 4, sizeof(*r), GFP_KERNEL);
	uintptr_t *p = obj(test, 64, 0);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, gm_heap_add_root(h, (uintptr_t)r, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_add_root(h, ~(uintptr_t)0 - 4, 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_add_root(h, (uintptr_t)r, 32), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_add_root(h, (uintptr_t)r, 8), -EEXIST);
	KUNIT_EXPECT_EQ(test, gm_heap_del_root(h, (uintptr_t)r + 8), -ENOENT);
	r[3] = (uintptr_t)p;
	gc(test, true);
	KUNIT_EXPECT_TRUE(test, live(test, p));
	KUNIT_EXPECT_EQ(test, gc(test, true)->root_bytes, 32);
	KUNIT_EXPECT_EQ(test, gm_heap_del_root(h, (uintptr_t)r), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_del_root(h, (uintptr_t)r), -ENOENT);
	gc(test, true);
	KUNIT_EXPECT_FALSE(test, live(test, p));
	/* Many ranges stay sorted and are all found; the limit holds. */
	for (i = GM_MAX_ROOTS - 1; i >= 0; i--)
		KUNIT_ASSERT_EQ(test, gm_heap_add_root(h, 0x10000 + i * 16, 8), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_add_root(h, 0x8000, 8), -ENOSPC);
	for (i = 0; i < GM_MAX_ROOTS; i++)
		KUNIT_EXPECT_EQ(test, gm_heap_del_root(h, 0x10000 + i * 16), 0);
}

/* Tiny objects go with their block; a reachable one keeps it whole. */
static void tiny_and_large(struct kunit *test)
{
	struct gm_heap *h = heap(test);
	uintptr_t *root = roots(test, 1);
	u64 tiny_frees = stats(test)->tiny_frees;
	void *t[40], *big = obj(test, 3 << 20, 0), *kept_big = obj(test, 1 << 20, 0);
	int i;

	for (i = 0; i < 40; i++) {
		t[i] = gm_heap_alloc(h, 4, GM_NOSCAN);
		KUNIT_ASSERT_NOT_NULL(test, t[i]);
	}
	/* A pointer to t[39] keeps its block, and the objects packed with it. */
	((uintptr_t *)kept_big)[1000] = (uintptr_t)t[39];
	*root = (uintptr_t)kept_big;
	gc(test, true);
	KUNIT_EXPECT_TRUE(test, live(test, t[39]));
	KUNIT_EXPECT_FALSE(test, live(test, t[0]));
	KUNIT_EXPECT_GE(test, stats(test)->tiny_frees - tiny_frees, 36);
	KUNIT_EXPECT_FALSE(test, live(test, big));
	KUNIT_EXPECT_TRUE(test, live(test, kept_big));
	KUNIT_EXPECT_EQ(test, stats(test)->by_class[0].frees, 1);
}

/*
 * Issue 10: a large object of 4 GiB or more is scanned to its end; its
 * size wrapped at 4 GiB and objects reachable only from beyond were freed.
 * Only where the page source maps lazily (natively): the kernel's cannot
 * give 4 GiB at once.
 */
static void large_4g_scanned_whole(struct kunit *test)
{
	const size_t size = (4UL << 30) + 2 * GM_PAGE_SIZE;
	uintptr_t *root = roots(test, 1), *big, *far, *near;

	if (!gm_os_pagesrc.lazy)
		kunit_skip(test, "the page source cannot map 4 GiB at once");
	big = gm_heap_alloc(heap(test), size, 0);
	KUNIT_ASSERT_NOT_NULL(test, big);
	far = obj(test, 64, 0);
	near = obj(test, 64, 0);
	big[0] = (uintptr_t)near;
	big[(size - GM_PAGE_SIZE) / sizeof(uintptr_t)] = (uintptr_t)far;
	*root = (uintptr_t)big;
	gc(test, true);
	KUNIT_EXPECT_TRUE(test, live(test, big));
	KUNIT_EXPECT_TRUE(test, live(test, near));
	KUNIT_EXPECT_TRUE(test, live(test, far));
	KUNIT_EXPECT_EQ(test, gm_heap_object_size(heap(test), big), size);
	*root = 0;
	gc(test, true);
	KUNIT_EXPECT_FALSE(test, live(test, big));
}

/*
 * Issue 10: after a sweep left the slots above freeindex allocated and
 * the ones below were taken again, the span is full with freeindex <
 * nelems. Uncached, it must go to the full list: from the partial list,
 * refill took it and used slot nelems, past the span (tiny_end[nelems],
 * the next span's memory).
 */
static void swept_full_span_not_partial(struct kunit *test)
{
	enum { N = 512, FREED = 10 };	/* 16-byte noscan spans hold 512 */
	const u8 spc = gm_size_to_class(16) << 1 | 1;
	struct gm_heap *h = heap(test);
	uintptr_t *keep = roots(test, N);
	struct gm_mspan *s;
	void *p, *q;
	int i;

	p = obj(test, 16, GM_NOSCAN);
	s = gm_span_of(&h->arenas, (uintptr_t)p);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_EQ(test, s->nelems, N);
	for (i = 1; i < N; i++) {
		q = obj(test, 16, GM_NOSCAN);
		if (gm_span_of(&h->arenas, (uintptr_t)q) != s)
			kunit_skip(test, "the allocations moved to another CPU's span");
		if ((uintptr_t)q - s->start >= FREED * 16)
			keep[i] = (uintptr_t)q;
	}
	gc(test, true);
	KUNIT_ASSERT_EQ(test, s->alloc_count, N - FREED);
	for (i = 0; i < FREED; i++)
		if (gm_span_of(&h->arenas, (uintptr_t)obj(test, 16, GM_NOSCAN)) != s)
			kunit_skip(test, "the allocations moved to another CPU's span");
	KUNIT_ASSERT_EQ(test, s->alloc_count, s->nelems);
	KUNIT_ASSERT_LT(test, s->freeindex, s->nelems);
	gm_heap_flush_caches(h);
	KUNIT_EXPECT_PTR_NE(test, s->list, &h->central[spc].partial[0]);
	KUNIT_EXPECT_PTR_NE(test, s->list, &h->central[spc].partial[1]);
	/* New objects of the class are inside a span, never past one. */
	for (i = 0; i < 4; i++) {
		struct gm_mspan *t;

		q = obj(test, 16, GM_NOSCAN);
		t = gm_span_of(&h->arenas, (uintptr_t)q);
		KUNIT_ASSERT_NOT_NULL(test, t);
		KUNIT_EXPECT_PTR_NE(test, t, s);
		KUNIT_EXPECT_LT(test, (uintptr_t)q - t->start, (uintptr_t)t->nelems * 16);
		KUNIT_EXPECT_NOT_NULL(test, gm_heap_alloc(h, 4, GM_NOSCAN));
	}
}

static struct gm_sweep_census census(struct kunit *test)
{
	struct gm_sweep_census c;

	gm_sweep_take_census(heap(test), &c);
	return c;
}

/* Every span's sweepgen, after each phase and each kind of sweep. */
static void sweepgen_states(struct kunit *test)
{
	enum { N = 20000 };
	uintptr_t *root = roots(test, 1);
	struct gm_sweep_census c;
	u64 spans;
	int i;

	for (i = 0; i < N; i++) {
		uintptr_t *p = obj(test, 16 << (i % 8), 0);

		if (i % 3 == 0) {
			p[0] = *root;
			*root = (uintptr_t)p;
		}
	}
	obj(test, 200000, 0);
	c = census(test);
	KUNIT_EXPECT_GT(test, c.cached, 0);
	KUNIT_EXPECT_EQ(test, c.unswept + c.sweeping + c.bad, 0);
	spans = c.cached + c.swept;

	/* Mark termination flips sweepgen: every span is unswept at once. */
	gc(test, false);
	c = census(test);
	KUNIT_EXPECT_EQ(test, c.unswept, spans);
	KUNIT_EXPECT_EQ(test, c.swept + c.cached + c.sweeping + c.bad, 0);

	/* The background sweeper, a few pages at a time, to the end. */
	KUNIT_EXPECT_TRUE(test, gm_heap_sweep_some(heap(test), 1));
	c = census(test);
	KUNIT_EXPECT_LT(test, c.unswept, spans);
	KUNIT_EXPECT_GT(test, c.unswept, 0);
	while (gm_heap_sweep_some(heap(test), 16))
		;
	c = census(test);
	KUNIT_EXPECT_EQ(test, c.unswept + c.sweeping + c.cached + c.bad, 0);
	KUNIT_EXPECT_GT(test, c.swept, 0);
	KUNIT_EXPECT_LT(test, c.swept, spans);

	/* Allocation caches swept spans only; a forced cycle leaves none unswept. */
	obj(test, 64, 0);
	c = census(test);
	KUNIT_EXPECT_EQ(test, c.cached, 1);
	gc(test, true);
	c = census(test);
	KUNIT_EXPECT_EQ(test, c.unswept + c.sweeping + c.cached + c.bad, 0);
}

/* After an unforced cycle, allocations sweep what they need first. */
static void lazy_and_credit_sweep(struct kunit *test)
{
	enum { N = 30000 };
	struct gm_heap *h = heap(test);
	u64 sys, lazy, unswept, inuse, freed_spans;
	int i;

	for (i = 0; i < N; i++)
		obj(test, 256, 0);
	sys = stats(test)->heap_sys;
	gc(test, false);
	unswept = census(test).unswept;
	KUNIT_EXPECT_EQ(test, unswept, stats(test)->by_class[gm_size_to_class(256)].spans);
	lazy = gm_gc_counter_read(&h->gc, GM_GC_SWEPT_LAZY_PAGES);
	/*
	 * The first allocation sweeps one span of its class and takes it
	 * whole, empty as it is (Go's preserve), rather than free it.
	 */
	inuse = stats(test)->heap_inuse;
	freed_spans = gm_gc_counter_read(&h->gc, GM_GC_FREED_SPANS);
	obj(test, 256, 0);
	KUNIT_EXPECT_EQ(test, gm_gc_counter_read(&h->gc, GM_GC_FREED_SPANS), freed_spans);
	KUNIT_EXPECT_EQ(test, census(test).unswept, unswept - 1);
	KUNIT_EXPECT_EQ(test, census(test).cached, 1);
	KUNIT_EXPECT_EQ(test, stats(test)->heap_inuse, inuse);
	for (i = 1; i < N; i++)
		obj(test, 256, 0);
	/* The same memory served them: cacheSpan swept spans rather than grow. */
	KUNIT_EXPECT_EQ(test, stats(test)->heap_sys, sys);
	KUNIT_EXPECT_GT(test, gm_gc_counter_read(&h->gc, GM_GC_SWEPT_LAZY_PAGES), lazy);
	KUNIT_EXPECT_EQ(test, stats(test)->heap_objects, N);
}

/*
 * Sweep credit: allocations that take pages sweep in proportion, so that
 * everything is swept by the time heap_live reaches the goal.
 */
static void sweep_credit(struct kunit *test)
{
	enum { N = 30000, BIG = 128 << 10 };
	struct gm_heap *h = heap(test);
	u64 unswept;
	int i;

	gm_heap_set_gogc(h, 100);
	for (i = 0; i < N; i++)
		obj(test, 256, 0);
	gc(test, false);
	/* Nothing live: the goal is 4 MiB, the runway all of it. */
	KUNIT_EXPECT_EQ(test, h->gc.heap_goal, GM_HEAP_MIN_GOAL);
	unswept = census(test).unswept;
	for (i = 0; i < (2 << 20) / BIG; i++)
		obj(test, BIG, GM_NOSCAN);
	kunit_info(test, "%llu of %llu spans unswept at half the runway",
		   (unsigned long long)census(test).unswept, (unsigned long long)unswept);
	KUNIT_EXPECT_LE(test, census(test).unswept, unswept / 2 + unswept / 20);
	KUNIT_EXPECT_GT(test, census(test).unswept, 0);
	for (; i < (4 << 20) / BIG; i++)
		obj(test, BIG, GM_NOSCAN);
	KUNIT_EXPECT_EQ(test, census(test).unswept, 0);
}

/* Explicit frees and the collector count each object once. */
static void explicit_free_alongside(struct kunit *test)
{
	enum { N = 1000 };
	struct gm_heap *h = heap(test);
	uintptr_t *root = roots(test, N);
	uintptr_t **p = kunit_kcalloc(test, N, sizeof(*p), GFP_KERNEL);
	u64 frees = stats(test)->frees;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, p);
	for (i = 0; i < N; i++) {
		p[i] = obj(test, 80, 0);
		if (i % 2)
			root[i] = (uintptr_t)p[i];
	}
	/* Freed before the mark: a rooted one and a garbage one. */
	KUNIT_EXPECT_EQ(test, gm_heap_free(h, p[1]), 0);
	root[1] = 0;
	KUNIT_EXPECT_EQ(test, gm_heap_free(h, p[2]), 0);
	gc(test, false);
	/* Freed after the mark, before its span is swept. */
	KUNIT_EXPECT_EQ(test, gm_heap_free(h, p[3]), 0);
	root[3] = 0;
	gm_sweep_finish(h);
	KUNIT_EXPECT_EQ(test, stats(test)->frees - frees, N / 2 + 2);
	KUNIT_EXPECT_EQ(test, stats(test)->heap_objects, N / 2 - 2);
	KUNIT_EXPECT_EQ(test, gm_heap_free(h, p[5]), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(h, p[5]), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_free(h, p[4]), -EINVAL);
}

/* === frees pending on a CPU when a cycle runs ========================== */

static const u32 gl_sizes[] = { 48, 256, 1024 };
#define GL_CLASSES	ARRAY_SIZE(gl_sizes)
/* Per class, at most a span's worth: 48-byte objects free more than the CPU lists. */
#define GL_OBJS		60

/* What object i of a class is: kept (rooted), freed on the CPU, or garbage. */
enum { GL_KEPT, GL_FREED, GL_GARBAGE };

static int gl_role(u32 i)
{
	return i % 3;
}

/*
 * Per class, objects in the span this CPU caches. A root word per object:
 * a kept one's address, a freed one's stale address (a dangling pointer
 * must not bring it back), 0 for garbage.
 */
struct gl_objs {
	uintptr_t *objs[GL_CLASSES][GL_OBJS];
	uintptr_t *root;
	u32 n[GL_CLASSES], nfreed[GL_CLASSES], ngarbage[GL_CLASSES];
	u64 kept, kept_bytes, freed, freed_bytes, garbage, garbage_bytes;
};

static u8 gl_class(u32 k)
{
	return gm_size_to_class(gl_sizes[k]);
}

static unsigned int gl_flags(u32 k)
{
	return k % 2 ? GM_NOSCAN : 0;
}

static uintptr_t gl_tag(u32 k, u32 i)
{
	return 0x5a5a0000 + k * GL_OBJS + i;
}

/* Every class's objects, then the frees: no refill hands the CPU's batch over. */
static void gl_fill(struct kunit *test, struct gl_objs *o)
{
	u32 k, i;

	o->root = roots(test, GL_CLASSES * GL_OBJS);
	for (k = 0; k < GL_CLASSES; k++) {
		o->n[k] = min_t(u32, GL_OBJS, gm_class_objects(gl_class(k)));
		for (i = 0; i < o->n[k]; i++) {
			o->objs[k][i] = obj(test, gl_sizes[k], gl_flags(k));
			o->objs[k][i][0] = gl_tag(k, i);
			if (gl_role(i) != GL_GARBAGE)
				o->root[k * GL_OBJS + i] = (uintptr_t)o->objs[k][i];
		}
	}
	for (k = 0; k < GL_CLASSES; k++) {
		for (i = 0; i < o->n[k]; i++) {
			u64 size = gl_sizes[k];

			if (gl_role(i) == GL_KEPT) {
				o->kept++;
				o->kept_bytes += size;
			} else if (gl_role(i) == GL_GARBAGE) {
				o->ngarbage[k]++;
				o->garbage++;
				o->garbage_bytes += size;
			} else {
				KUNIT_ASSERT_EQ(test, gm_heap_free(heap(test), o->objs[k][i]), 0);
				o->nfreed[k]++;
				o->freed++;
				o->freed_bytes += size;
			}
		}
	}
}

/* The frees are still the CPU's: on its lists and in its batch. */
static void gl_expect_pending(struct kunit *test, struct gl_objs *o, unsigned int cpu)
{
	struct gm_mcache *mc = gm_percpu_ptr(heap(test)->caches, cpu);
	u32 k;

	for (k = 0; k < GL_CLASSES; k++) {
		u8 spc = gl_class(k) << 1 | !!gl_flags(k);

		KUNIT_EXPECT_EQ(test, mc->nlocal[spc], min_t(u32, o->nfreed[k], GM_LOCAL_FREES));
		KUNIT_EXPECT_EQ(test, mc->alloc[spc]->nlocal, o->nfreed[k]);
	}
	KUNIT_EXPECT_EQ(test, mc->live_delta, -(s64)o->freed_bytes);
}

/* After a forced cycle: the kept objects only, each free counted once. */
static void gl_expect_swept(struct kunit *test, struct gl_objs *o, u64 frees)
{
	struct gm_memstats *st = stats(test);
	u32 k, i;

	KUNIT_EXPECT_EQ(test, st->frees, frees);
	KUNIT_EXPECT_EQ(test, st->mallocs - st->frees, o->kept);
	KUNIT_EXPECT_EQ(test, st->heap_objects, o->kept);
	KUNIT_EXPECT_EQ(test, st->heap_alloc, o->kept_bytes);
	KUNIT_EXPECT_EQ(test, gm_pacer_live(heap(test)), o->kept_bytes);
	KUNIT_EXPECT_EQ(test, gm_heap_live_exact(heap(test)), o->kept_bytes);
	for (k = 0; k < GL_CLASSES; k++) {
		for (i = 0; i < o->n[k]; i++) {
			uintptr_t *p = o->objs[k][i];

			if (gl_role(i) == GL_KEPT) {
				KUNIT_EXPECT_EQ(test, gm_heap_usable_size(heap(test), p), gl_sizes[k]);
				KUNIT_EXPECT_EQ(test, p[0], gl_tag(k, i));
				continue;
			}
			KUNIT_EXPECT_FALSE_MSG(test, live(test, p), "size %u object %u",
					       gl_sizes[k], i);
			KUNIT_EXPECT_EQ(test, gm_heap_free(heap(test), p), -EINVAL);
		}
	}
	KUNIT_EXPECT_EQ(test, stats(test)->frees, frees);
}

/*
 * Each slot freed or collected comes back once; taken now, and freed on
 * the CPU again. Returns how many.
 */
static u32 gl_reuse_and_free(struct kunit *test, struct gl_objs *o)
{
	uintptr_t *again[GL_OBJS];
	u32 k, i, j, n = 0;

	for (k = 0; k < GL_CLASSES; k++) {
		bool taken[GL_OBJS] = {};

		for (j = 0; j < o->nfreed[k] + o->ngarbage[k]; j++) {
			again[j] = obj(test, gl_sizes[k], gl_flags(k));
			for (i = 0; i < o->n[k]; i++)
				if (o->objs[k][i] == again[j] && gl_role(i) != GL_KEPT && !taken[i])
					break;
			KUNIT_ASSERT_LT_MSG(test, i, o->n[k], "size %u, allocation %u: no free slot",
					    gl_sizes[k], j);
			taken[i] = true;
		}
		for (j = 0; j < o->nfreed[k] + o->ngarbage[k]; j++, n++)
			KUNIT_ASSERT_EQ(test, gm_heap_free(heap(test), again[j]), 0);
	}
	return n;
}

/*
 * A cycle runs while a CPU holds frees it has not handed over (on its
 * lists, in its spans' local bits, in its live-heap batch). Sweep
 * termination takes them in: freed objects are not marked again (not even
 * through a dangling pointer in a root), not counted twice by the sweep,
 * and the pacer's figures are the live objects exactly.
 */
static void gc_sees_local_frees(struct kunit *test)
{
	struct gl_objs *o = kunit_kzalloc(test, sizeof(*o), GFP_KERNEL);
	struct gm_heap *h = heap(test);
	struct gm_gc_cycle *cyc;
	u64 frees, live_before, swept;
	unsigned int cpu;
	u32 k, n;

	KUNIT_ASSERT_NOT_NULL(test, o);
	gm_cpu_stay();
	/* The task's cache slot; its CPU is slot / GM_CPU_SLOTS. */
	cpu = gm_cpu_get();
	gm_cpu_put();
	gl_fill(test, o);
	gl_expect_pending(test, o, cpu);
	frees = stats(test)->frees;
	KUNIT_EXPECT_EQ(test, frees, o->freed);
	live_before = gm_heap_live_exact(h);

	cyc = gc(test, true);
	KUNIT_EXPECT_EQ(test, gm_heap_cached_spans(h, cpu / GM_CPU_SLOTS), 0);
	KUNIT_EXPECT_EQ(test, cyc->heap_before, live_before);
	/* Sweep termination: the frees are off the live heap, none lost. */
	KUNIT_EXPECT_EQ(test, cyc->heap_after, o->kept_bytes + o->garbage_bytes);
	KUNIT_EXPECT_EQ(test, cyc->mark.marked, o->kept);
	KUNIT_EXPECT_EQ(test, cyc->heap_marked, o->kept_bytes);
	/* The sweep frees the garbage, not the objects freed already. */
	KUNIT_EXPECT_EQ(test, cyc->freed_objects, o->garbage);
	KUNIT_EXPECT_EQ(test, cyc->freed_bytes, o->garbage_bytes);
	for (k = 0; k < GL_CLASSES; k++)
		KUNIT_EXPECT_EQ(test, stats(test)->by_class[gl_class(k)].frees,
				o->nfreed[k] + o->ngarbage[k]);
	gl_expect_swept(test, o, frees + o->garbage);

	/* Again, with a cycle that leaves the sweep to the sweepers. */
	for (k = 0; k < GL_CLASSES * GL_OBJS; k++)
		if (gl_role(k % GL_OBJS) == GL_FREED)
			o->root[k] = 0;
	frees = stats(test)->frees;
	swept = gm_gc_counter_read(&h->gc, GM_GC_FREED_OBJECTS);
	n = gl_reuse_and_free(test, o);
	KUNIT_EXPECT_NE(test, gm_heap_live_exact(h), gm_pacer_live(h));
	cyc = gc(test, false);
	gm_cpu_leave();
	KUNIT_EXPECT_EQ(test, cyc->heap_after, o->kept_bytes);
	KUNIT_EXPECT_EQ(test, cyc->mark.marked, o->kept);
	gm_sweep_finish(h);
	KUNIT_EXPECT_EQ(test, gm_gc_counter_read(&h->gc, GM_GC_FREED_OBJECTS), swept);
	gl_expect_swept(test, o, frees + n);
}

/*
 * Go's goal: marked + (marked + globals) * GOGC/100, where the globals
 * are the root ranges; at least 4 MiB * GOGC/100; capped by the limit.
 */
static void pacer_goal(struct kunit *test)
{
	enum { N = 6 << 10 };
	struct gm_heap *h = heap(test);
	uintptr_t *root = roots(test, N);
	const u64 globals = N * sizeof(*root), marked = N * 1024;
	struct gm_gc_info gi;
	int i;

	KUNIT_EXPECT_EQ(test, gm_heap_set_gogc(h, 100), GM_GOGC_OFF);
	gm_heap_read_gc_info(h, &gi);
	KUNIT_EXPECT_EQ(test, gi.next_gc, GM_HEAP_MIN_GOAL);
	KUNIT_EXPECT_FALSE(test, gm_heap_gc_due(h, 1 << 20));
	KUNIT_EXPECT_TRUE(test, gm_heap_gc_due(h, 5 << 20));
	/* heapMinimum scales with GOGC, as in Go's setGCPercent. */
	gm_heap_set_gogc(h, 50);
	gm_heap_read_gc_info(h, &gi);
	KUNIT_EXPECT_EQ(test, gi.next_gc, GM_HEAP_MIN_GOAL / 2);
	gm_heap_set_gogc(h, 100);
	for (i = 0; i < N; i++)
		root[i] = (uintptr_t)obj(test, 1024, 0);
	gc(test, true);
	gm_heap_read_gc_info(h, &gi);
	KUNIT_EXPECT_EQ(test, gi.heap_marked, marked);
	KUNIT_EXPECT_EQ(test, gi.next_gc, marked + marked + globals);
	KUNIT_EXPECT_EQ(test, gm_heap_set_gogc(h, 50), 100);
	gm_heap_read_gc_info(h, &gi);
	KUNIT_EXPECT_EQ(test, gi.next_gc, marked + (marked + globals) / 2);
	KUNIT_EXPECT_EQ(test, gm_heap_set_gogc(h, 100), 50);
	KUNIT_EXPECT_EQ(test, gm_heap_set_memory_limit(h, 12 << 20), GM_NO_LIMIT);
	gm_heap_read_gc_info(h, &gi);
	KUNIT_EXPECT_EQ(test, gi.next_gc, (12 << 20) - (12 << 20) / 20);
	/* A limit below the live heap still lets a chunk be allocated. */
	KUNIT_EXPECT_EQ(test, gm_heap_set_memory_limit(h, 7 << 20), 12 << 20);
	gm_heap_read_gc_info(h, &gi);
	KUNIT_EXPECT_EQ(test, gi.next_gc, marked + GM_CHUNK_BYTES);
	gm_heap_set_memory_limit(h, GM_NO_LIMIT);
	gm_heap_set_gogc(h, GM_GOGC_OFF);
	KUNIT_EXPECT_FALSE(test, gm_heap_gc_due(h, 1ULL << 40));
}

/*
 * The trigger of a stopped-world mark is the goal itself: an allocation
 * that keeps heap_live at the goal is not due, one byte more is; a
 * cycle's mark is what moves the goal, not the allocations before it.
 */
static void pacer_trigger(struct kunit *test)
{
	enum { N = 8 << 10 };
	struct gm_heap *h = heap(test);
	uintptr_t *root = roots(test, N);
	struct gm_gc_info gi;
	u64 live, goal;
	int i;

	gm_heap_set_gogc(h, 100);
	for (i = 0; i < N; i++)
		root[i] = (uintptr_t)obj(test, 1024, 0);
	gc(test, true);
	gm_heap_read_gc_info(h, &gi);
	goal = gi.next_gc;
	live = gm_pacer_live(h);
	KUNIT_EXPECT_EQ(test, live, (u64)N * 1024);
	KUNIT_EXPECT_FALSE(test, gm_heap_gc_due(h, goal - live));
	KUNIT_EXPECT_TRUE(test, gm_heap_gc_due(h, goal - live + 1));
	/* Garbage allocated up to the trigger: due, and the goal stays. */
	while (!gm_heap_gc_due(h, 1024))
		obj(test, 1024, 0);
	gm_heap_read_gc_info(h, &gi);
	KUNIT_EXPECT_EQ(test, gi.next_gc, goal);
	KUNIT_EXPECT_GE(test, gm_pacer_live(h) + 1024, goal);
	/* The cycle finds the same live heap: the same goal, and not due. */
	gc(test, false);
	gm_heap_read_gc_info(h, &gi);
	KUNIT_EXPECT_EQ(test, gi.next_gc, goal);
	KUNIT_EXPECT_FALSE(test, gm_heap_gc_due(h, 1024));
	gm_heap_set_gogc(h, GM_GOGC_OFF);
}

/*
 * An allocating program in a steady state, cycles run when due: the
 * heap stays within a band around the goal of twice the live heap.
 */
static void steady_state_near_goal(struct kunit *test)
{
	enum { LIVE = 24 << 10, SIZE = 256, ROUNDS = 200000 };
	struct gm_heap *h = heap(test);
	uintptr_t *root = roots(test, LIVE);
	u64 peak = 0, cycles;
	struct gm_gc_info gi;
	int i;

	gm_heap_set_gogc(h, 100);
	for (i = 0; i < ROUNDS; i++) {
		u64 alloc;

		if (gm_heap_gc_due(h, SIZE))
			gc(test, false);
		root[i % LIVE] = (uintptr_t)obj(test, SIZE, 0);
		gm_cond_resched();
		if (i % 1000 == 0) {
			alloc = gm_pacer_live(h);
			peak = max(peak, alloc);
		}
	}
	gm_heap_read_gc_info(h, &gi);
	cycles = gi.numgc;
	kunit_info(test, "live %u KiB, %llu cycles, peak heap_live %llu KiB, goal %llu KiB",
		   LIVE * SIZE >> 10, (unsigned long long)cycles,
		   (unsigned long long)peak >> 10, (unsigned long long)gi.next_gc >> 10);
	KUNIT_EXPECT_GE(test, cycles, 4);
	KUNIT_EXPECT_LE(test, peak, 2 * LIVE * SIZE + (LIVE * SIZE) / 5);
	KUNIT_EXPECT_GE(test, gi.heap_marked, LIVE * SIZE);
	KUNIT_EXPECT_LE(test, stats(test)->heap_sys, 4ULL * LIVE * SIZE);
}

/* Under a memory limit, GOGC off: retained memory stays near the limit. */
static void keep_pages(void *ctx, uintptr_t addr, size_t len)
{
}

static void memory_limit_holds(struct kunit *test)
{
	enum { SIZE = 4096, ROUNDS = 20000 };
	static struct gm_pagesrc_ops src;
	struct gc_ctx *c = test->priv;
	const u64 limit = 16 << 20;
	struct gm_memstats *st;
	struct gm_heap *h;
	u64 worst = 0;
	int i;

	/*
	 * The buddy allocator's blocks cannot be given back in part: there,
	 * scavenged pages stay allocated and are only counted as released,
	 * which is all the pacer and this test look at.
	 */
	src = gm_os_pagesrc;
	if (!src.unused)
		src.unused = keep_pages;
	gm_heap_destroy(c->h);
	c->h = h = gm_heap_create(&src, NULL);
	KUNIT_ASSERT_NOT_NULL(test, h);
	gm_heap_set_gogc(h, GM_GOGC_OFF);
	gm_heap_set_memory_limit(h, limit);
	for (i = 0; i < ROUNDS; i++) {
		if (gm_heap_gc_due(h, SIZE))
			gc(test, false);
		obj(test, SIZE, 0);
		if (i % 512 == 0) {
			st = stats(test);
			worst = max(worst, st->heap_sys - st->heap_released);
		}
		if (i == 4000)
			obj(test, 3 << 20, 0);	/* a spike of large garbage */
	}
	kunit_info(test, "limit %llu KiB, worst retained %llu KiB",
		   (unsigned long long)limit >> 10, (unsigned long long)worst >> 10);
	KUNIT_EXPECT_GT(test, h->gc.numgc, 3);
	KUNIT_EXPECT_LE(test, worst, limit + GM_CHUNK_BYTES);
}

/* The gctrace line has Go's shape. */
static void trace_line(struct kunit *test)
{
	struct gm_heap *h = heap(test);
	char line[256];
	int n;

	gm_heap_set_gogc(h, 100);
	/* 3 MiB: the buddy allocator's blocks stop at 4 MiB. */
	obj(test, 3 << 20, 0);
	n = gm_gc_trace_line(h, gc(test, true), line, sizeof(line));
	kunit_info(test, "%s", line);
	KUNIT_EXPECT_EQ(test, n, (int)strlen(line));
	KUNIT_EXPECT_EQ(test, strncmp(line, "gc 1 @", 6), 0);
	KUNIT_EXPECT_NOT_NULL(test, strstr(line, "%: "));
	KUNIT_EXPECT_NOT_NULL(test, strstr(line, " ms clock, "));
	KUNIT_EXPECT_NOT_NULL(test, strstr(line, " ms cpu, 3->3->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, "));
	KUNIT_EXPECT_NOT_NULL(test, strstr(line, " P (forced)"));
}

/*
 * gctrace's globals are the root ranges, as Go's are its data and bss:
 * a 3 MiB root object is heap (3->3->3 MB), not 3 MB of globals; a
 * 2 MiB root range is.
 */
static void trace_line_globals(struct kunit *test)
{
	struct gm_heap *h = heap(test);
	uintptr_t *o = obj(test, 3 << 20, GM_NOSCAN);
	char line[256];

	gm_heap_set_gogc(h, 100);
	KUNIT_ASSERT_EQ(test, gm_heap_set_root_object(h, o, true), 0);
	gm_gc_trace_line(h, gc(test, true), line, sizeof(line));
	KUNIT_EXPECT_NOT_NULL(test, strstr(line, " 3->3->3 MB, "));
	KUNIT_EXPECT_NOT_NULL(test, strstr(line, " 0 MB globals, "));
	KUNIT_EXPECT_EQ(test, h->gc.ring[1].mark.globals_bytes, 0);
	KUNIT_EXPECT_EQ(test, h->gc.ring[1].root_bytes, 3 << 20);
	roots(test, (2 << 20) / sizeof(uintptr_t));
	gm_gc_trace_line(h, gc(test, true), line, sizeof(line));
	KUNIT_EXPECT_NOT_NULL(test, strstr(line, " 2 MB globals, "));
	KUNIT_EXPECT_EQ(test, gm_heap_set_root_object(h, o, false), 0);
}

static struct kunit_case gomem_mgc_cases[] = {
	KUNIT_CASE(reachable_survive),
	KUNIT_CASE(million_node_list),
	KUNIT_CASE(slots_reused),
	KUNIT_CASE(cycles_interior_noscan),
	KUNIT_CASE(root_objects),
	KUNIT_CASE(root_ranges),
	KUNIT_CASE(tiny_and_large),
	KUNIT_CASE(large_4g_scanned_whole),
	KUNIT_CASE(swept_full_span_not_partial),
	KUNIT_CASE(sweepgen_states),
	KUNIT_CASE(lazy_and_credit_sweep),
	KUNIT_CASE(sweep_credit),
	KUNIT_CASE(explicit_free_alongside),
	KUNIT_CASE(gc_sees_local_frees),
	KUNIT_CASE(pacer_goal),
	KUNIT_CASE(pacer_trigger),
	KUNIT_CASE(steady_state_near_goal),
	KUNIT_CASE(memory_limit_holds),
	KUNIT_CASE(trace_line),
	KUNIT_CASE(trace_line_globals),
	{}
};

static struct kunit_suite gomem_mgc_suite = {
	.name = "gomem_mgc",
	.init = gc_test_init,
	.exit = gc_test_exit,
	.test_cases = gomem_mgc_cases,
};

kunit_test_suite(gomem_mgc_suite);
