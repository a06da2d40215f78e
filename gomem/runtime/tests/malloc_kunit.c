// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for a whole heap (malloc.c, mcentral.c, mcache.c, mheap.c):
 * objects of every class and of random sizes carry a pattern that must
 * survive until they are freed, frees are exact, bad frees change nothing,
 * and running out of memory is clean. The heap's memory comes from the
 * environment's page source through a wrapper that counts blocks and can
 * fail on demand.
 */
#include <kunit/test.h>

#include "../malloc.h"

struct test_src {
	long outstanding;	/* blocks taken and not given back */
	unsigned int taken;
	unsigned int limit;	/* fail once this many were taken; 0: never */
};

static uintptr_t test_alloc_block(void *ctx, unsigned int order, size_t bytes)
{
	struct test_src *t = ctx;
	uintptr_t a;

	if (t->limit && t->taken >= t->limit)
		return 0;
	a = gm_os_pagesrc.alloc_block(NULL, order, bytes);
	if (a) {
		t->taken++;
		t->outstanding++;
	}
	return a;
}

static void test_free_block(void *ctx, uintptr_t addr, unsigned int order, size_t bytes)
{
	struct test_src *t = ctx;

	t->outstanding--;
	gm_os_pagesrc.free_block(NULL, addr, order, bytes);
}

/* In the kernel the blocks are kernel memory: kmemleak tracks the objects. */
static const struct gm_pagesrc_ops test_src_ops = {
	.alloc_block = test_alloc_block,
	.free_block = test_free_block,
	.kernel_memory = true,
	.zeroed = false,	/* the conservative case: GM_ZERO must zero */
};

struct ctx {
	struct test_src src;
	struct gm_heap *h;
	struct gm_memstats st;
};

static int heap_test_init(struct kunit *test)
{
	struct ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	c->h = gm_heap_create(&test_src_ops, &c->src);
	if (!c->h)
		return -ENOMEM;
	test->priv = c;
	return 0;
}

/* Every test ends by destroying its heap: no block may stay out. */
static void heap_test_exit(struct kunit *test)
{
	struct ctx *c = test->priv;

	gm_heap_destroy(c->h);
	KUNIT_EXPECT_EQ(test, c->src.outstanding, 0);
}

/* A pattern that differs per object and per word, so overlaps show. */
static void fill(void *p, size_t size, u64 tag)
{
	u64 *w = p;
	size_t i;

	for (i = 0; i < size / 8; i++)
		w[i] = tag * 0x9e3779b97f4a7c15ULL + i;
	for (i = size / 8 * 8; i < size; i++)
		((u8 *)p)[i] = (u8)(tag + i);
}

static bool intact(const void *p, size_t size, u64 tag)
{
	const u64 *w = p;
	size_t i;

	for (i = 0; i < size / 8; i++)
		if (w[i] != tag * 0x9e3779b97f4a7c15ULL + i)
			return false;
	for (i = size / 8 * 8; i < size; i++)
		if (((const u8 *)p)[i] != (u8)(tag + i))
			return false;
	return true;
}

static u64 xorshift(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Flushing the caches sweeps every span, so all frees have taken effect. */
static void expect_empty(struct kunit *test, struct ctx *c)
{
	gm_heap_flush_caches(c->h);
	gm_heap_read_stats(c->h, &c->st);
	KUNIT_EXPECT_EQ(test, c->st.heap_alloc, 0);
	KUNIT_EXPECT_EQ(test, c->st.heap_objects, 0);
	KUNIT_EXPECT_EQ(test, c->st.mallocs, c->st.frees);
}

static const u8 all_classes[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
	23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42,
	43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62,
	63, 64, 65, 66, 67,
};

static void class_desc(const u8 *cls, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "class %u (%u bytes)", *cls, gm_class_size(*cls));
}
KUNIT_ARRAY_PARAM(size_class, all_classes, class_desc);

/*
 * Two and a half spans' worth of one class: every object is distinct,
 * sized and aligned as its class says, and keeps its pattern; then all
 * are freed and the accounting returns to zero.
 */
static void every_class(struct kunit *test)
{
	struct ctx *c = test->priv;
	u8 cls = *(const u8 *)test->param_value;
	u32 size = gm_class_size(cls);
	u32 n = gm_class_objects(cls) * 5 / 2 + 1;
	void **objs = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	for (i = 0; i < n; i++) {
		/* Sizes just above the previous class land in this one. */
		size_t req = i % 2 ? size : gm_class_size(cls - 1) + 1;
		/* Noscan requests under 16 bytes would be tiny objects. */
		bool noscan = i % 3 && req >= GM_TINY_SIZE;

		objs[i] = gm_heap_alloc(c->h, req, noscan ? GM_NOSCAN : 0);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		KUNIT_ASSERT_EQ(test, gm_heap_object_size(c->h, objs[i]), size);
		KUNIT_ASSERT_EQ(test, (uintptr_t)objs[i] % (size & -size), 0);
		fill(objs[i], size, i);
	}
	gm_heap_read_stats(c->h, &c->st);
	KUNIT_EXPECT_EQ(test, c->st.by_class[cls].inuse, n);
	KUNIT_EXPECT_EQ(test, c->st.heap_alloc, (u64)n * size);
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_TRUE_MSG(test, intact(objs[i], size, i), "object %u", i);
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	}
	expect_empty(test, c);
	KUNIT_EXPECT_EQ(test, c->st.by_class[cls].frees, n);
}

/* Random sizes, small and large, allocated and freed in random order. */
static void random_sizes(struct kunit *test)
{
	struct ctx *c = test->priv;
	enum { LIVE = 512, OPS = 6000 };
	void **objs = kunit_kcalloc(test, LIVE, sizeof(void *), GFP_KERNEL);
	size_t *sizes = kunit_kcalloc(test, LIVE, sizeof(size_t), GFP_KERNEL);
	u64 *tags = kunit_kcalloc(test, LIVE, sizeof(u64), GFP_KERNEL);
	u64 seed = 0x1234567887654321ULL;
	u32 op, i;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	KUNIT_ASSERT_NOT_NULL(test, sizes);
	KUNIT_ASSERT_NOT_NULL(test, tags);
	for (op = 0; op < OPS; op++) {
		i = xorshift(&seed) % LIVE;
		if (objs[i]) {
			KUNIT_ASSERT_TRUE_MSG(test, intact(objs[i], sizes[i], tags[i]),
					      "slot %u size %zu", i, sizes[i]);
			KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
			objs[i] = NULL;
			continue;
		}
		/* Mostly small; one in 32 up to 80 KiB, often a large object. */
		sizes[i] = xorshift(&seed) % 32 ? 1 + xorshift(&seed) % 2048 :
			   1 + xorshift(&seed) % (80 << 10);
		objs[i] = gm_heap_alloc(c->h, sizes[i], op % 2 ? GM_NOSCAN : 0);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		KUNIT_ASSERT_GE(test, gm_heap_object_size(c->h, objs[i]), sizes[i]);
		/* A new tag per object: a stale or overlapping copy cannot match. */
		tags[i] = op;
		fill(objs[i], sizes[i], tags[i]);
	}
	for (i = 0; i < LIVE; i++) {
		if (!objs[i])
			continue;
		KUNIT_ASSERT_TRUE(test, intact(objs[i], sizes[i], tags[i]));
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	}
	expect_empty(test, c);
}

/* A freed slot is reused when its span is exhausted, before a new span. */
static void freed_slot_reused(struct kunit *test)
{
	struct ctx *c = test->priv;
	u8 cls = gm_size_to_class(64);
	u32 n = gm_class_objects(cls), i;
	void **objs = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	void *again;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	for (i = 0; i < n; i++) {
		objs[i] = gm_heap_alloc(c->h, 64, GM_NOSCAN);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		memset(objs[i], 0xa5, 64);
	}
	KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[n / 2]), 0);
	/* The span is exhausted: the next allocation must reuse that slot. */
	again = gm_heap_alloc(c->h, 64, GM_NOSCAN | GM_ZERO);
	KUNIT_EXPECT_PTR_EQ(test, again, objs[n / 2]);
	gm_heap_read_stats(c->h, &c->st);
	KUNIT_EXPECT_EQ(test, c->st.by_class[cls].spans, 1);
	/* GM_ZERO clears what the freed object held. */
	for (i = 0; i < 64; i++)
		KUNIT_ASSERT_EQ(test, ((u8 *)again)[i], 0);
	objs[n / 2] = again;
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	expect_empty(test, c);
}

/* Interior, foreign, NULL and double frees are refused and change nothing. */
static void bad_frees_refused(struct kunit *test)
{
	struct ctx *c = test->priv;
	u8 *small = gm_heap_alloc(c->h, 100, 0);
	u8 *large = gm_heap_alloc(c->h, 100000, 0);
	u8 *gone = gm_heap_alloc(c->h, 100, 0);
	struct gm_memstats *before = kunit_kzalloc(test, sizeof(*before), GFP_KERNEL);
	u64 local;

	KUNIT_ASSERT_NOT_NULL(test, small);
	KUNIT_ASSERT_NOT_NULL(test, large);
	KUNIT_ASSERT_NOT_NULL(test, gone);
	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, gone), 0);
	gm_heap_read_stats(c->h, before);

	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, small + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, small + 99), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, large + 8192), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, large + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, gone), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, &local), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, c), -EINVAL);

	gm_heap_read_stats(c->h, &c->st);
	KUNIT_EXPECT_EQ(test, c->st.frees, before->frees);
	KUNIT_EXPECT_EQ(test, c->st.heap_alloc, before->heap_alloc);
	KUNIT_EXPECT_EQ(test, gm_heap_object_size(c->h, small + 50), gm_roundup_size(100));
	KUNIT_EXPECT_EQ(test, gm_heap_object_size(c->h, gone), 0);

	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, small), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, large), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, large), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, small), -EINVAL);
	expect_empty(test, c);
}

/* Sizes nothing can hold fail cleanly, however they round. */
static void impossible_sizes_refused(struct kunit *test)
{
	static const size_t sizes[] = {
		0, SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - GM_PAGE_SIZE + 2,
		SIZE_MAX / 2 + 1, 1UL << 62, 1UL << 44,
	};
	struct ctx *c = test->priv;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		KUNIT_EXPECT_NULL_MSG(test, gm_heap_alloc(c->h, sizes[i], 0),
				      "size %zu", sizes[i]);
	gm_heap_read_stats(c->h, &c->st);
	KUNIT_EXPECT_EQ(test, c->st.mallocs, 0);
	KUNIT_EXPECT_EQ(test, c->st.heap_inuse, 0);
	/* Nor did the heap grow for them. */
	KUNIT_EXPECT_EQ(test, c->st.heap_sys, 0);
}

/* Large objects: exact page spans, reused, and blocks go back. */
static void large_objects(struct kunit *test)
{
	static const size_t sizes[] = { 32769, 65536, 100000, 1 << 20, 3 << 20 };
	struct ctx *c = test->priv;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t span = (sizes[i] + GM_PAGE_SIZE - 1) & ~(GM_PAGE_SIZE - 1);
		u8 *p = gm_heap_alloc(c->h, sizes[i], GM_ZERO);

		KUNIT_ASSERT_NOT_NULL(test, p);
		KUNIT_EXPECT_EQ(test, (uintptr_t)p % GM_PAGE_SIZE, 0);
		KUNIT_EXPECT_EQ(test, gm_heap_object_size(c->h, p + sizes[i] - 1), span);
		KUNIT_EXPECT_EQ(test, p[0] | p[sizes[i] / 2] | p[sizes[i] - 1], 0);
		fill(p, sizes[i], i);
		KUNIT_EXPECT_TRUE(test, intact(p, sizes[i], i));
		gm_heap_read_stats(c->h, &c->st);
		KUNIT_EXPECT_EQ(test, c->st.heap_alloc, span);
		KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, p), 0);
	}
	expect_empty(test, c);
	KUNIT_EXPECT_EQ(test, c->st.by_class[0].allocs, ARRAY_SIZE(sizes));
	/* At most one spare block stays with an empty heap. */
	KUNIT_EXPECT_LE(test, c->st.heap_sys, 2 * GM_CHUNK_BYTES);
}

/*
 * Issue 10: a large object's span is found by nothing (a free, a size
 * query, a lookup) until it is whole and listed. Before, a free of its
 * predictable first-fit address from another thread could come between
 * gm_mheap_alloc_span() and the listing, and took a span off a NULL list.
 */
static void large_span_published_whole(struct kunit *test)
{
	struct ctx *c = test->priv;
	struct gm_mspan *s = gm_mheap_alloc_span(c->h, 4, 0);
	void *p;

	KUNIT_ASSERT_NOT_NULL(test, s);
	p = (void *)s->start;
	KUNIT_EXPECT_NULL(test, gm_span_of(&c->h->arenas, s->start));
	KUNIT_EXPECT_EQ(test, gm_heap_usable_size(c->h, p), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, p), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_set_root_object(c->h, p, true), -EINVAL);

	/* Accounted as alloc_large() does, then published. */
	gm_pacer_live_add(c->h, 4 * GM_PAGE_SIZE);
	gm_mcentral_add_large(c->h, s);
	KUNIT_EXPECT_PTR_EQ(test, gm_span_of(&c->h->arenas, s->start), s);
	KUNIT_EXPECT_EQ(test, gm_heap_usable_size(c->h, p), 4 * GM_PAGE_SIZE);
	KUNIT_EXPECT_NOT_NULL(test, s->list);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, p), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, p), -EINVAL);
}

/* When the page source runs dry, allocations fail cleanly, and recover. */
static void out_of_memory(struct kunit *test)
{
	struct ctx *c = test->priv;
	enum { MAX = 2000 };
	void **objs = kunit_kcalloc(test, MAX, sizeof(void *), GFP_KERNEL);
	u32 n = 0, i;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	c->src.limit = 1;	/* one block: 4 MiB */
	while (n < MAX && (objs[n] = gm_heap_alloc(c->h, 8192, GM_NOSCAN)))
		fill(objs[n], 8192, n), n++;
	KUNIT_EXPECT_GT(test, n, 0);
	KUNIT_EXPECT_LT(test, n, MAX);
	KUNIT_EXPECT_NULL(test, gm_heap_alloc(c->h, 1 << 20, 0));
	gm_heap_read_stats(c->h, &c->st);
	KUNIT_EXPECT_EQ(test, c->st.heap_objects, n);
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_TRUE(test, intact(objs[i], 8192, i));
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	}
	expect_empty(test, c);
	/* Freed memory serves again without a new block. */
	objs[0] = gm_heap_alloc(c->h, 8192, GM_NOSCAN);
	KUNIT_EXPECT_NOT_NULL(test, objs[0]);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, objs[0]), 0);
}

/* Destroying a heap with live objects gives every block back (exit checks). */
static void destroy_with_live_objects(struct kunit *test)
{
	struct ctx *c = test->priv;
	u32 i;

	for (i = 0; i < 300; i++)
		KUNIT_ASSERT_NOT_NULL(test, gm_heap_alloc(c->h, 1 + i * 37, 0));
	KUNIT_ASSERT_NOT_NULL(test, gm_heap_alloc(c->h, 200000, 0));
	KUNIT_EXPECT_GT(test, c->src.outstanding, 0);
}

/* Go's tiny allocator: packing, alignment, zeroing. */
static void tiny_packing(struct kunit *test)
{
	struct ctx *c = test->priv;
	u8 *a = gm_heap_alloc(c->h, 1, GM_NOSCAN);
	u8 *b = gm_heap_alloc(c->h, 1, GM_NOSCAN);
	u8 *d = gm_heap_alloc(c->h, 4, GM_NOSCAN);
	u8 *e = gm_heap_alloc(c->h, 8, GM_NOSCAN);
	u8 *f = gm_heap_alloc(c->h, 8, GM_NOSCAN);

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, d);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_ASSERT_NOT_NULL(test, f);
	/* 1, 1, then 4 aligned to 4, then 8 aligned to 8: all in one block. */
	KUNIT_EXPECT_PTR_EQ(test, b, a + 1);
	KUNIT_EXPECT_PTR_EQ(test, d, a + 4);
	KUNIT_EXPECT_PTR_EQ(test, e, a + 8);
	KUNIT_EXPECT_EQ(test, (uintptr_t)a % GM_TINY_SIZE, 0);
	/* No room left: a new block. */
	KUNIT_EXPECT_TRUE(test, f < a || f >= a + GM_TINY_SIZE);
	KUNIT_EXPECT_EQ(test, *a | *b | *d | *e | *f, 0);
	gm_heap_read_stats(c->h, &c->st);
	KUNIT_EXPECT_EQ(test, c->st.tiny_allocs, 5);
	KUNIT_EXPECT_EQ(test, c->st.by_class[GM_TINY_SIZECLASS].allocs, 2);
	/* Scan objects are never tiny. */
	KUNIT_EXPECT_EQ(test, (uintptr_t)gm_heap_alloc(c->h, 1, 0) % 8, 0);
}

/* Frees of tiny objects are exact; blocks come back once all are freed. */
static void tiny_free(struct kunit *test)
{
	struct ctx *c = test->priv;
	enum { N = 3000 };
	u8 **objs = kunit_kcalloc(test, N, sizeof(u8 *), GFP_KERNEL);
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	for (i = 0; i < N; i++) {
		objs[i] = gm_heap_alloc(c->h, 1 + i % 15, GM_NOSCAN);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		memset(objs[i], (u8)i, 1 + i % 15);
	}
	/* Free every other object, then check the rest are untouched. */
	for (i = 0; i < N; i += 2)
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	for (i = 0; i < N; i += 2)
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), -EINVAL);
	for (i = 1; i < N; i += 2) {
		u32 j;

		for (j = 0; j < 1 + i % 15; j++)
			KUNIT_ASSERT_EQ(test, objs[i][j], (u8)i);
		/* One past an object's start is no object's start. */
		if (i % 15 && objs[i] + 1 != objs[(i + 1) % N])
			KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, objs[i] + 1), -EINVAL);
	}
	for (i = 1; i < N; i += 2)
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	expect_empty(test, c);
	KUNIT_EXPECT_EQ(test, c->st.tiny_allocs, N);
	KUNIT_EXPECT_EQ(test, c->st.tiny_frees, N);
	KUNIT_EXPECT_EQ(test, c->st.by_class[GM_TINY_SIZECLASS].spans, 0);
}

/*
 * The current tiny block keeps serving even when all its objects are freed
 * and its span is swept: its slot must not go to anyone else meanwhile.
 */
static void tiny_current_block_kept(struct kunit *test)
{
	struct ctx *c = test->priv;
	/* t1's slot and n - 1 more fill the span; the n-th exhausts it. */
	u32 n = gm_class_objects(GM_TINY_SIZECLASS), i;
	u8 **objs = kunit_kcalloc(test, n, sizeof(u8 *), GFP_KERNEL);
	u8 *t1, *t2;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	t1 = gm_heap_alloc(c->h, 1, GM_NOSCAN);
	KUNIT_ASSERT_NOT_NULL(test, t1);
	KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, t1), 0);
	/* 16-byte noscan objects share the tiny blocks' span: exhaust it. */
	for (i = 0; i < n; i++) {
		objs[i] = gm_heap_alloc(c->h, GM_TINY_SIZE, GM_NOSCAN);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		memset(objs[i], 0x5a, GM_TINY_SIZE);
	}
	/* Packs into the current block, if t1's is still current. */
	t2 = gm_heap_alloc(c->h, 1, GM_NOSCAN);
	KUNIT_ASSERT_NOT_NULL(test, t2);
	*t2 = 0xff;
	for (i = 0; i < n; i++) {
		u32 j;

		for (j = 0; j < GM_TINY_SIZE; j++)
			KUNIT_ASSERT_EQ_MSG(test, objs[i][j], 0x5a, "object %u byte %u", i, j);
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	}
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, t2), 0);
	expect_empty(test, c);
}

static unsigned int pcaches_in_use(struct gm_heap *h)
{
	unsigned int cpu, n = 0;

	for (cpu = 0; cpu < gm_nr_slots(); cpu++) {
		struct gm_mcache *mc = gm_percpu_ptr(h->caches, cpu);

		n += !gm_pagecache_empty(&mc->pcache);
	}
	return n;
}

/* Small spans come from a CPU's page cache; flushing gives its pages back. */
static void page_cache_serves_small_spans(struct kunit *test)
{
	struct ctx *c = test->priv;
	void *p = gm_heap_alloc(c->h, 100, 0);
	size_t free_pages, present;

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_GE(test, pcaches_in_use(c->h), 1);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, p), 0);
	gm_heap_flush_caches(c->h);
	KUNIT_EXPECT_EQ(test, pcaches_in_use(c->h), 0);
	gm_mutex_lock(&c->h->lock);
	free_pages = gm_pagealloc_free_pages(&c->h->pages);
	present = gm_pagealloc_present_pages(&c->h->pages);
	gm_mutex_unlock(&c->h->lock);
	KUNIT_EXPECT_EQ(test, free_pages, present);
	KUNIT_EXPECT_GT(test, present, 0);
}

/* === frees that stay on the CPU ======================================== */

/*
 * A free in the span this CPU allocates from stays on the CPU, and the
 * next allocation of the class takes the slot freed last (LIFO).
 */
static void local_free_hot_reuse(struct kunit *test)
{
	struct ctx *c = test->priv;
	u8 *a, *b, *again;
	int i;

	gm_cpu_stay();
	a = gm_heap_alloc(c->h, 64, 0);
	b = gm_heap_alloc(c->h, 64, 0);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	memset(a, 0xa5, 64);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, a), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, b), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_object_size(c->h, a), 0);
	again = gm_heap_alloc(c->h, 64, 0);
	KUNIT_EXPECT_PTR_EQ(test, again, b);
	/* The older free comes next, zeroed on request although it held 0xa5. */
	again = gm_heap_alloc(c->h, 64, GM_ZERO);
	KUNIT_EXPECT_PTR_EQ(test, again, a);
	for (i = 0; i < 64; i++)
		KUNIT_ASSERT_EQ(test, again[i], 0);
	gm_cpu_leave();
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, a), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, b), 0);
	expect_empty(test, c);
}

/*
 * A double free on the CPU is refused, and so is the mcentral's free (the
 * path another CPU takes) of an object freed on the CPU, and the other
 * way round; nothing is counted twice and the slot is handed out once.
 */
static void local_double_free_refused(struct kunit *test)
{
	struct ctx *c = test->priv;
	u8 *a, *b, *x, *y;
	u64 frees;

	gm_cpu_stay();
	a = gm_heap_alloc(c->h, 48, 0);
	b = gm_heap_alloc(c->h, 48, 0);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, a), 0);
	gm_heap_read_stats(c->h, &c->st);
	frees = c->st.frees;
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, a), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_mcentral_free_object(c->h, gm_span_of(&c->h->arenas,
			(uintptr_t)a), (uintptr_t)a), -EINVAL);
	/* Freed on the mcentral's path: the CPU's path must refuse it then. */
	KUNIT_ASSERT_EQ(test, gm_mcentral_free_object(c->h, gm_span_of(&c->h->arenas,
			(uintptr_t)b), (uintptr_t)b), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, b), -EINVAL);
	gm_heap_read_stats(c->h, &c->st);
	KUNIT_EXPECT_EQ(test, c->st.frees, frees + 1);
	x = gm_heap_alloc(c->h, 48, 0);
	y = gm_heap_alloc(c->h, 48, 0);
	KUNIT_EXPECT_PTR_EQ(test, x, a);
	KUNIT_EXPECT_PTR_NE(test, y, a);
	gm_cpu_leave();
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, x), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, y), 0);
	expect_empty(test, c);
}

/*
 * More frees than the CPU's list holds: the rest wait in the span's local
 * bits for its sweep. Every object is intact while live, no two live ones
 * share a slot, and the counts are exact when read, before any flush.
 */
static void local_frees_overflow(struct kunit *test)
{
	struct ctx *c = test->priv;
	u8 cls = gm_size_to_class(32);
	u32 n = gm_class_objects(cls), i, j;
	void **objs = kunit_kcalloc(test, 2 * n, sizeof(void *), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, objs);
	gm_cpu_stay();
	for (i = 0; i < n; i++) {
		objs[i] = gm_heap_alloc(c->h, 32, GM_NOSCAN);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		fill(objs[i], 32, i);
	}
	/* Free every other one: 3 times what the CPU lists. */
	for (i = 0; i < 6 * GM_LOCAL_FREES; i += 2)
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	gm_heap_read_stats(c->h, &c->st);
	KUNIT_EXPECT_EQ(test, c->st.by_class[cls].inuse, n - 3 * GM_LOCAL_FREES);
	for (i = 0; i < 6 * GM_LOCAL_FREES; i += 2) {
		objs[i] = gm_heap_alloc(c->h, 32, GM_NOSCAN);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
		fill(objs[i], 32, i);
	}
	gm_cpu_leave();
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_TRUE(test, intact(objs[i], 32, i));
		for (j = 0; j < i; j++)
			KUNIT_ASSERT_PTR_NE(test, objs[i], objs[j]);
	}
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	expect_empty(test, c);
}

/* A root object's free takes the mcentral's path, which clears the root. */
static void local_free_of_root(struct kunit *test)
{
	struct ctx *c = test->priv;
	u8 *a;

	gm_cpu_stay();
	a = gm_heap_alloc(c->h, 64, 0);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_EQ(test, gm_heap_set_root_object(c->h, a, true), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, a), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, a), -EINVAL);
	/* Not on the CPU's list: the slot comes back at the span's sweep. */
	KUNIT_EXPECT_EQ(test, gm_heap_set_root_object(c->h, a, true), -EINVAL);
	gm_cpu_leave();
	expect_empty(test, c);
}

/*
 * The pacer's live heap: a CPU's frees and reuses are batched, exact when
 * read through gm_heap_live_exact(), and all in heap_live after a flush.
 */
static void local_frees_live_exact(struct kunit *test)
{
	struct ctx *c = test->priv;
	u64 before, after;
	void *p[8];
	int i;

	gm_cpu_stay();
	for (i = 0; i < 8; i++) {
		p[i] = gm_heap_alloc(c->h, 128, 0);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
	}
	before = gm_heap_live_exact(c->h);
	for (i = 0; i < 8; i++)
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, p[i]), 0);
	after = gm_heap_live_exact(c->h);
	gm_cpu_leave();
	KUNIT_EXPECT_EQ(test, before - after, 8 * 128);
	gm_heap_flush_caches(c->h);
	KUNIT_EXPECT_EQ(test, gm_pacer_live(c->h), gm_heap_live_exact(c->h));
	expect_empty(test, c);
}

/* === a CPU's cache handed back (CPU hotplug) ============================ */

/* Classes whose frees stay on the CPU: scan and noscan, none tiny. */
static const u32 hp_sizes[] = { 32, 48, 64, 128, 256, 512, 1024 };
#define HP_CLASSES	ARRAY_SIZE(hp_sizes)
/* Per class, at most a span's worth: the small classes free more than the CPU lists. */
#define HP_OBJS		40
#define HP_LARGE	40000

/*
 * One CPU's objects: per class, objs[k][0..n[k]) in the span the CPU
 * caches, the odd ones freed on the CPU (freed[k][i]) but the one whose
 * slot the CPU handed out again.
 */
struct hp_objs {
	void *objs[HP_CLASSES][HP_OBJS];
	bool freed[HP_CLASSES][HP_OBJS];
	u32 n[HP_CLASSES], nfreed[HP_CLASSES];
	u64 live_bytes, freed_bytes, live_objs, freed_objs;
	void *large;
};

static u64 hp_tag(u32 k, u32 i)
{
	return (u64)k << 32 | i;
}

static u8 hp_class(u32 k)
{
	return gm_size_to_class(hp_sizes[k]);
}

static unsigned int hp_flags(u32 k)
{
	return k % 3 ? 0 : GM_NOSCAN;
}

/* Fill class @k's span. */
static void hp_alloc_class(struct kunit *test, struct ctx *c, struct hp_objs *o, u32 k)
{
	u32 i;

	o->n[k] = min_t(u32, HP_OBJS, gm_class_objects(hp_class(k)));
	for (i = 0; i < o->n[k]; i++) {
		o->objs[k][i] = gm_heap_alloc(c->h, hp_sizes[k], hp_flags(k));
		KUNIT_ASSERT_NOT_NULL(test, o->objs[k][i]);
		fill(o->objs[k][i], hp_sizes[k], hp_tag(k, i));
	}
}

/* Free class @k's odd objects on the CPU, then take one slot back. */
static void hp_free_class(struct kunit *test, struct ctx *c, struct hp_objs *o, u32 k)
{
	u32 size = hp_sizes[k], i;

	for (i = 1; i < o->n[k]; i += 2) {
		KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, o->objs[k][i]), 0);
		o->freed[k][i] = true;
	}
	/* On top of the CPU's list: the last free it had room for. */
	i = 2 * min_t(u32, o->n[k] / 2, GM_LOCAL_FREES) - 1;
	KUNIT_ASSERT_PTR_EQ(test, gm_heap_alloc(c->h, size, hp_flags(k)), o->objs[k][i]);
	fill(o->objs[k][i], size, hp_tag(k, i));
	o->freed[k][i] = false;
	o->nfreed[k] = o->n[k] / 2 - 1;
	o->live_objs += o->n[k] - o->nfreed[k];
	o->live_bytes += (u64)(o->n[k] - o->nfreed[k]) * size;
	o->freed_bytes += (u64)o->nfreed[k] * size;
	o->freed_objs += o->nfreed[k];
}

/* Every class filled and freed on this CPU, plus a large object. */
static void hp_fill(struct kunit *test, struct ctx *c, struct hp_objs *o)
{
	u32 k;

	o->large = gm_heap_alloc(c->h, HP_LARGE, 0);
	KUNIT_ASSERT_NOT_NULL(test, o->large);
	fill(o->large, HP_LARGE, ~0ULL);
	o->live_objs++;
	o->live_bytes += gm_heap_object_size(c->h, o->large);
	for (k = 0; k < HP_CLASSES; k++)
		hp_alloc_class(test, c, o, k);
	/* No refill from here on: it would hand the live-heap batch over. */
	for (k = 0; k < HP_CLASSES; k++)
		hp_free_class(test, c, o, k);
}

/* What the CPU holds before the flush: its lists, bits and live-heap batch. */
static void hp_expect_pending(struct kunit *test, struct ctx *c, struct hp_objs *o,
			      unsigned int cpu)
{
	struct gm_mcache *mc = gm_percpu_ptr(c->h->caches, cpu);
	u32 k;

	for (k = 0; k < HP_CLASSES; k++) {
		struct gm_mspan *s = gm_span_of(&c->h->arenas, (uintptr_t)o->objs[k][0]);
		u8 spc = hp_class(k) << 1 | !!hp_flags(k);

		KUNIT_ASSERT_PTR_EQ(test, mc->alloc[spc], s);
		KUNIT_EXPECT_EQ(test, s->nlocal, o->nfreed[k]);
		/* One slot was taken back off the list. */
		KUNIT_EXPECT_EQ(test, mc->nlocal[spc],
				min_t(u32, o->nfreed[k] + 1, GM_LOCAL_FREES) - 1);
	}
	/* Under GM_LIVE_BATCH: none of it reached the heap's counter yet. */
	KUNIT_EXPECT_EQ(test, mc->live_delta, -(s64)o->freed_bytes);
	KUNIT_EXPECT_EQ(test, gm_heap_live_exact(c->h),
			gm_pacer_live(c->h) - o->freed_bytes);
}

/* After the flush the CPU holds nothing, and its spans no local frees. */
static void hp_expect_handed_back(struct kunit *test, struct ctx *c, struct hp_objs *o,
				  unsigned int cpu)
{
	struct gm_mcache *mc = gm_percpu_ptr(c->h->caches, cpu);
	u32 k, i, w;

	KUNIT_EXPECT_EQ(test, gm_heap_cached_spans(c->h, cpu / GM_CPU_SLOTS), 0);
	for (i = 0; i < GM_NUM_SPAN_CLASSES; i++)
		KUNIT_EXPECT_EQ_MSG(test, mc->nlocal[i], 0, "span class %u", i);
	KUNIT_EXPECT_EQ(test, mc->live_delta, 0);
	KUNIT_EXPECT_EQ(test, mc->tiny, 0);
	KUNIT_EXPECT_TRUE(test, gm_pagecache_empty(&mc->pcache));
	for (k = 0; k < HP_CLASSES; k++) {
		struct gm_mspan *s = gm_span_of(&c->h->arenas, (uintptr_t)o->objs[k][0]);

		KUNIT_ASSERT_NOT_NULL(test, s);
		KUNIT_EXPECT_FALSE(test, s->cached);
		/* Folded: the mcentral's frees now, to be swept. */
		KUNIT_EXPECT_EQ(test, s->nlocal, 0);
		KUNIT_EXPECT_EQ(test, s->nfreed, o->nfreed[k]);
		for (w = 0; w < s->bitmap_words; w++)
			KUNIT_EXPECT_EQ(test, s->local_bits[w], 0);
	}
}

/* Each free counted once: by the CPU, and not again when handed back. */
static void hp_expect_stats(struct kunit *test, struct ctx *c, struct hp_objs *o)
{
	u32 k;

	gm_heap_read_stats(c->h, &c->st);
	for (k = 0; k < HP_CLASSES; k++) {
		struct gm_class_stats *cs = &c->st.by_class[hp_class(k)];

		/* The reused slot was freed once and allocated twice. */
		KUNIT_EXPECT_EQ_MSG(test, cs->frees, o->nfreed[k] + 1, "size %u", hp_sizes[k]);
		KUNIT_EXPECT_EQ_MSG(test, cs->allocs, o->n[k] + 1, "size %u", hp_sizes[k]);
		KUNIT_EXPECT_EQ(test, cs->inuse, o->n[k] - o->nfreed[k]);
	}
	KUNIT_EXPECT_EQ(test, c->st.frees, o->freed_objs + HP_CLASSES);
	KUNIT_EXPECT_EQ(test, c->st.mallocs, c->st.frees + o->live_objs);
	KUNIT_EXPECT_EQ(test, c->st.heap_objects, o->live_objs);
	KUNIT_EXPECT_EQ(test, c->st.heap_alloc, o->live_bytes);
}

/* A freed slot comes back once: each allocation takes one freed slot. */
static void hp_reuse(struct kunit *test, struct ctx *c, struct hp_objs *o)
{
	u32 k, i, j;

	for (k = 0; k < HP_CLASSES; k++) {
		for (j = 0; j < o->nfreed[k]; j++) {
			void *p = gm_heap_alloc(c->h, hp_sizes[k], hp_flags(k));

			for (i = 0; i < o->n[k] && (!o->freed[k][i] || o->objs[k][i] != p); i++)
				;
			KUNIT_ASSERT_LT_MSG(test, i, o->n[k], "size %u, allocation %u: not a freed slot",
					    hp_sizes[k], j);
			o->freed[k][i] = false;
			fill(p, hp_sizes[k], hp_tag(k, i));
		}
	}
}

/* Every object intact, then freed. */
static void hp_free_all(struct kunit *test, struct ctx *c, struct hp_objs *o)
{
	u32 k, i;

	KUNIT_EXPECT_TRUE(test, intact(o->large, HP_LARGE, ~0ULL));
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, o->large), 0);
	for (k = 0; k < HP_CLASSES; k++) {
		for (i = 0; i < o->n[k]; i++) {
			KUNIT_EXPECT_TRUE_MSG(test, intact(o->objs[k][i], hp_sizes[k], hp_tag(k, i)),
					      "size %u object %u", hp_sizes[k], i);
			KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, o->objs[k][i]), 0);
		}
	}
}

/*
 * CPU hotplug: a CPU with frees pending (on its lists, in its spans'
 * local bits, in its live-heap batch) goes offline and its cache is
 * handed back. Every free counts once, the pacer's live heap is the live
 * objects exactly, freed objects stay freed and their slots come back.
 */
static void flush_cpu_with_local_frees(struct kunit *test)
{
	struct ctx *c = test->priv;
	struct hp_objs *o = kunit_kzalloc(test, sizeof(*o), GFP_KERNEL);
	struct gm_memstats *before = kunit_kzalloc(test, sizeof(*before), GFP_KERNEL);
	unsigned int cpu;
	u32 k, i;

	KUNIT_ASSERT_NOT_NULL(test, o);
	KUNIT_ASSERT_NOT_NULL(test, before);
	gm_cpu_stay();
	/* The task's cache slot; its CPU is slot / GM_CPU_SLOTS. */
	cpu = gm_cpu_get();
	gm_cpu_put();
	hp_fill(test, c, o);
	hp_expect_pending(test, c, o, cpu);
	hp_expect_stats(test, c, o);
	gm_heap_read_stats(c->h, before);

	/* What the hotplug callback does once the CPU is dead. */
	gm_heap_flush_cpu(c->h, cpu / GM_CPU_SLOTS);
	hp_expect_handed_back(test, c, o, cpu);
	hp_expect_stats(test, c, o);
	KUNIT_EXPECT_EQ(test, c->st.frees, before->frees);
	KUNIT_EXPECT_EQ(test, gm_pacer_live(c->h), o->live_bytes);
	KUNIT_EXPECT_EQ(test, gm_heap_live_exact(c->h), o->live_bytes);

	/* Freed on the CPU, refused anywhere after the hand-back. */
	for (k = 0; k < HP_CLASSES; k++)
		for (i = 0; i < o->n[k]; i++)
			if (o->freed[k][i])
				KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, o->objs[k][i]), -EINVAL);
	hp_expect_stats(test, c, o);

	hp_reuse(test, c, o);
	gm_cpu_leave();
	hp_free_all(test, c, o);
	expect_empty(test, c);
	KUNIT_EXPECT_EQ(test, gm_heap_live_exact(c->h), 0);
}

/*
 * Tiny objects of this CPU's tiny span are freed on the CPU (a
 * compare-and-swap on the block's freed mask); another CPU's free in the
 * same block goes through the mcentral. Double and interior frees are
 * refused on both paths, each free is counted once, and the block is a
 * free slot again once the CPU lets the span go.
 */
static void local_tiny_free(struct kunit *test)
{
	struct ctx *c = test->priv;
	struct gm_mspan *s;
	u8 *a, *b, *d;
	u32 idx;

	gm_cpu_stay();
	a = gm_heap_alloc(c->h, 4, GM_NOSCAN);
	b = gm_heap_alloc(c->h, 4, GM_NOSCAN);
	d = gm_heap_alloc(c->h, 8, GM_NOSCAN);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_PTR_EQ(test, b, a + 4);
	KUNIT_ASSERT_PTR_EQ(test, d, a + 8);
	s = gm_span_of(&c->h->arenas, (uintptr_t)a);
	idx = ((uintptr_t)a - s->start) / GM_TINY_SIZE;

	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, a), 0);
	KUNIT_EXPECT_EQ(test, s->tiny_local, 1);
	KUNIT_EXPECT_EQ(test, s->tiny_pending, 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, a), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, a + 1), -EINVAL);
	/* Another CPU's free of the same block: the mcentral's path. */
	KUNIT_EXPECT_EQ(test, gm_mcentral_free_object(c->h, s, (uintptr_t)b), 0);
	KUNIT_EXPECT_EQ(test, gm_mcentral_free_object(c->h, s, (uintptr_t)a), -EINVAL);
	KUNIT_EXPECT_EQ(test, s->tiny_freed[idx], 0x11);
	KUNIT_EXPECT_EQ(test, s->tiny_pending, 1);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, b), -EINVAL);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, d), 0);
	KUNIT_EXPECT_EQ(test, s->tiny_freed[idx], 0x111);
	gm_cpu_leave();
	expect_empty(test, c);
	KUNIT_EXPECT_EQ(test, c->st.tiny_allocs, 3);
	KUNIT_EXPECT_EQ(test, c->st.tiny_frees, 3);
}

/* 16-byte noscan objects share the tiny span class but are whole slots. */
static void local_free_16_noscan(struct kunit *test)
{
	struct ctx *c = test->priv;
	struct gm_mcache *mc;
	void *p, *q;

	gm_cpu_stay();
	p = gm_heap_alloc(c->h, 16, GM_NOSCAN);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, p), 0);
	mc = gm_percpu_ptr(c->h->caches, gm_cpu_get());
	KUNIT_EXPECT_EQ(test, mc->nlocal[GM_TINY_SPANCLASS], 1);
	gm_cpu_put();
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, p), -EINVAL);
	/* Hot reuse: the next 16-byte object is the slot just freed. */
	q = gm_heap_alloc(c->h, 16, GM_NOSCAN);
	KUNIT_EXPECT_PTR_EQ(test, q, p);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, q), 0);
	gm_cpu_leave();
	expect_empty(test, c);
}

/*
 * Frees of objects in spans the CPU does not cache join its batch: each
 * is refused a second time at once (the pend bit), counted at once, and
 * reaches its span when the batch is full or the cache is let go.
 */
static void batched_frees(struct kunit *test)
{
	struct ctx *c = test->priv;
	const size_t size = 256;
	u32 per_span = gm_class_objects(gm_size_to_class(size)), i, n = 3 * per_span;
	void **objs = kunit_kcalloc(test, n, sizeof(void *), GFP_KERNEL);
	struct gm_mspan *first;
	u64 live;

	KUNIT_ASSERT_NOT_NULL(test, objs);
	KUNIT_ASSERT_GE(test, per_span, GM_FREE_BATCH);
	gm_cpu_stay();
	for (i = 0; i < n; i++) {
		objs[i] = gm_heap_alloc(c->h, size, 0);
		KUNIT_ASSERT_NOT_NULL(test, objs[i]);
	}
	first = gm_span_of(&c->h->arenas, (uintptr_t)objs[0]);
	KUNIT_ASSERT_FALSE(test, first->cached);
	live = gm_heap_live_exact(c->h);
	for (i = 0; i < GM_FREE_BATCH - 1; i++) {
		KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
		KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, objs[i]), -EINVAL);
		KUNIT_EXPECT_EQ(test, gm_heap_object_size(c->h, objs[i]), 0);
		KUNIT_EXPECT_EQ(test, gm_mcentral_free_object(c->h, first, (uintptr_t)objs[i]),
				-EINVAL);
	}
	/* Counted at once, applied later. */
	KUNIT_EXPECT_EQ(test, live - gm_heap_live_exact(c->h), (GM_FREE_BATCH - 1) * size);
	gm_heap_read_stats(c->h, &c->st);
	KUNIT_EXPECT_EQ(test, c->st.heap_objects, n - (GM_FREE_BATCH - 1));
	KUNIT_EXPECT_EQ(test, first->nfreed, 0);
	/* The batch's last free applies it. */
	KUNIT_EXPECT_EQ(test, gm_gc_counter_read(&c->h->gc, GM_GC_FREE_BATCHES), 0);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, objs[GM_FREE_BATCH - 1]), 0);
	KUNIT_EXPECT_EQ(test, first->nfreed, GM_FREE_BATCH);
	KUNIT_EXPECT_EQ(test, gm_gc_counter_read(&c->h->gc, GM_GC_FREE_BATCHES), 1);
	KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, objs[0]), -EINVAL);
	for (i = GM_FREE_BATCH; i < n; i++)
		KUNIT_EXPECT_EQ(test, gm_heap_free(c->h, objs[i]), 0);
	gm_cpu_leave();
	expect_empty(test, c);
	KUNIT_EXPECT_EQ(test, c->st.frees, n);
}

static struct kunit_case gomem_malloc_cases[] = {
	KUNIT_CASE_PARAM(every_class, size_class_gen_params),
	KUNIT_CASE(random_sizes),
	KUNIT_CASE(freed_slot_reused),
	KUNIT_CASE(bad_frees_refused),
	KUNIT_CASE(impossible_sizes_refused),
	KUNIT_CASE(large_objects),
	KUNIT_CASE(large_span_published_whole),
	KUNIT_CASE(out_of_memory),
	KUNIT_CASE(destroy_with_live_objects),
	KUNIT_CASE(tiny_packing),
	KUNIT_CASE(tiny_free),
	KUNIT_CASE(tiny_current_block_kept),
	KUNIT_CASE(page_cache_serves_small_spans),
	KUNIT_CASE(local_free_hot_reuse),
	KUNIT_CASE(local_double_free_refused),
	KUNIT_CASE(local_frees_overflow),
	KUNIT_CASE(local_free_of_root),
	KUNIT_CASE(local_frees_live_exact),
	KUNIT_CASE(local_tiny_free),
	KUNIT_CASE(local_free_16_noscan),
	KUNIT_CASE(batched_frees),
	KUNIT_CASE(flush_cpu_with_local_frees),
	{}
};

static struct kunit_suite gomem_malloc_suite = {
	.name = "gomem_malloc",
	.init = heap_test_init,
	.exit = heap_test_exit,
	.test_cases = gomem_malloc_cases,
};
kunit_test_suite(gomem_malloc_suite);
