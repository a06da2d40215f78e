// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the mark phase (mgcmark.c): objects reachable from the
 * roots are marked and nothing else is; interior pointers count; noscan
 * objects are marked but their words are not followed; large objects are
 * scanned past their first oblet; a gray queue of one entry still marks
 * everything; a wide graph grows the queue instead of overflowing it;
 * free slots keep no mark; a page source with @map is scanned in place.
 */
#include <kunit/test.h>

#include "../malloc.h"

#define NODE_SIZE	64

struct mark_ctx {
	struct gm_heap *h;
	struct gm_mark_stats st;
};

static int mark_test_init(struct kunit *test)
{
	struct mark_ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	c->h = gm_heap_create(&gm_os_pagesrc, NULL);
	if (!c->h)
		return -ENOMEM;
	test->priv = c;
	return 0;
}

static void mark_test_exit(struct kunit *test)
{
	struct mark_ctx *c = test->priv;

	gm_heap_destroy(c->h);
}

static uintptr_t *node(struct kunit *test, size_t size, unsigned int flags)
{
	struct mark_ctx *c = test->priv;
	uintptr_t *p = gm_heap_alloc(c->h, size, flags | GM_ZERO);

	KUNIT_ASSERT_NOT_NULL(test, p);
	return p;
}

/* Mark from the single root word *@root, with a gray queue of @qlen. */
static void mark_from(struct kunit *test, uintptr_t *root, size_t nwords, size_t qlen)
{
	struct mark_ctx *c = test->priv;
	struct gm_root r = { .addr = (uintptr_t)root, .len = nwords * sizeof(*root) };

	gm_heap_flush_caches(c->h);
	KUNIT_ASSERT_EQ(test, gm_mark_heap(c->h, &r, root ? 1 : 0, qlen, &c->st), 0);
}

static bool marked(struct kunit *test, const void *p)
{
	struct mark_ctx *c = test->priv;

	return gm_mark_object_marked(c->h, p);
}

/* A list reachable from a root is marked node by node; a stray node is not. */
static void list_from_root(struct kunit *test)
{
	enum { N = 2000 };
	uintptr_t **nodes = kunit_kcalloc(test, N, sizeof(*nodes), GFP_KERNEL);
	uintptr_t *stray, root;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, nodes);
	for (i = 0; i < N; i++)
		nodes[i] = node(test, NODE_SIZE, 0);
	for (i = 0; i + 1 < N; i++)
		nodes[i][0] = (uintptr_t)nodes[i + 1];
	stray = node(test, NODE_SIZE, 0);
	root = (uintptr_t)nodes[0];
	mark_from(test, &root, 1, 16);
	for (i = 0; i < N; i++)
		KUNIT_EXPECT_TRUE_MSG(test, marked(test, nodes[i]), "node %u", i);
	KUNIT_EXPECT_FALSE(test, marked(test, stray));
	KUNIT_EXPECT_EQ(test, ((struct mark_ctx *)test->priv)->st.marked, N);

	/* Without the root, nothing: the marks of the last cycle are gone. */
	mark_from(test, NULL, 0, 16);
	for (i = 0; i < N; i++)
		KUNIT_EXPECT_FALSE(test, marked(test, nodes[i]));
}

/* Pointers into the middle of an object keep it, from a root or an object. */
static void interior_pointers(struct kunit *test)
{
	uintptr_t *a = node(test, 256, 0), *b = node(test, 48, 0), root;

	a[5] = (uintptr_t)b + 47;
	root = (uintptr_t)a + 200;
	mark_from(test, &root, 1, 16);
	KUNIT_EXPECT_TRUE(test, marked(test, a));
	KUNIT_EXPECT_TRUE(test, marked(test, b));
}

/* A noscan object is kept, but what it points to is not. */
static void noscan_not_followed(struct kunit *test)
{
	uintptr_t *ns = node(test, NODE_SIZE, GM_NOSCAN), *hidden = node(test, NODE_SIZE, 0);
	uintptr_t root = (uintptr_t)ns;

	ns[0] = (uintptr_t)hidden;
	mark_from(test, &root, 1, 16);
	KUNIT_EXPECT_TRUE(test, marked(test, ns));
	KUNIT_EXPECT_FALSE(test, marked(test, hidden));
}

/* A cycle of garbage stays unmarked; reachable, it is marked whole. */
static void cycles(struct kunit *test)
{
	uintptr_t *a = node(test, NODE_SIZE, 0), *b = node(test, NODE_SIZE, 0);
	uintptr_t *c = node(test, NODE_SIZE, 0), root = 0;

	a[0] = (uintptr_t)b;
	b[0] = (uintptr_t)c;
	c[0] = (uintptr_t)a;
	mark_from(test, &root, 1, 16);
	KUNIT_EXPECT_FALSE(test, marked(test, a));
	KUNIT_EXPECT_FALSE(test, marked(test, b));
	KUNIT_EXPECT_FALSE(test, marked(test, c));
	root = (uintptr_t)b;
	mark_from(test, &root, 1, 16);
	KUNIT_EXPECT_TRUE(test, marked(test, a));
	KUNIT_EXPECT_TRUE(test, marked(test, b));
	KUNIT_EXPECT_TRUE(test, marked(test, c));
}

/* A large object is scanned to its end, past its first 128 KiB oblet. */
static void large_object_scanned_whole(struct kunit *test)
{
	size_t size = 300 * 1024, last = size / sizeof(uintptr_t) - 1;
	uintptr_t *big = node(test, size, 0), *head = node(test, 32, 0);
	uintptr_t *tail = node(test, 32, 0), root = (uintptr_t)big;

	big[0] = (uintptr_t)head;
	big[last] = (uintptr_t)tail;
	mark_from(test, &root, 1, 16);
	KUNIT_EXPECT_TRUE(test, marked(test, big));
	KUNIT_EXPECT_TRUE(test, marked(test, head));
	KUNIT_EXPECT_TRUE(test, marked(test, tail));
}

/* Freed objects and never-used slots are not objects: nothing to mark. */
static void only_live_objects(struct kunit *test)
{
	struct mark_ctx *c = test->priv;
	uintptr_t *gone = node(test, NODE_SIZE, 0), *live = node(test, NODE_SIZE, 0);
	uintptr_t roots[3];

	KUNIT_ASSERT_EQ(test, gm_heap_free(c->h, gone), 0);
	roots[0] = (uintptr_t)gone;
	roots[1] = (uintptr_t)live + 64 * NODE_SIZE;	/* a slot not handed out */
	roots[2] = (uintptr_t)live;
	mark_from(test, roots, 3, 16);
	KUNIT_EXPECT_FALSE(test, marked(test, gone));
	KUNIT_EXPECT_TRUE(test, marked(test, live));
	KUNIT_EXPECT_EQ(test, c->st.marked, 1);
	/* The mark starts with free slots' bits set: none may be left. */
	KUNIT_EXPECT_EQ(test, gm_span_count_marked(gm_span_of(&c->h->arenas, (uintptr_t)live)), 1);
}

/* A tiny object keeps its whole 16-byte block, as in Go. */
static void tiny_block_marked(struct kunit *test)
{
	u8 *t1 = (u8 *)node(test, 3, GM_NOSCAN), *t2 = (u8 *)node(test, 5, GM_NOSCAN);
	uintptr_t root = (uintptr_t)t2;

	mark_from(test, &root, 1, 16);
	KUNIT_EXPECT_TRUE(test, marked(test, t2));
	if (((uintptr_t)t1 ^ (uintptr_t)t2) < GM_TINY_SIZE)
		KUNIT_EXPECT_TRUE(test, marked(test, t1));
}

/*
 * A queue of one entry overflows at once on a wide tree; the rescans must
 * still mark every node, with the queue as the mark's only memory.
 */
static void queue_overflow(struct kunit *test)
{
	enum { FAN = 60, DEPTH = 3 };
	struct mark_ctx *c = test->priv;
	uintptr_t *top = node(test, FAN * sizeof(uintptr_t), 0), root = (uintptr_t)top;
	uintptr_t **leaves = kunit_kcalloc(test, FAN * DEPTH, sizeof(*leaves), GFP_KERNEL);
	unsigned int i, d;

	KUNIT_ASSERT_NOT_NULL(test, leaves);
	for (i = 0; i < FAN; i++) {
		uintptr_t *prev = top;

		for (d = 0; d < DEPTH; d++) {
			leaves[i * DEPTH + d] = node(test, 2 * sizeof(uintptr_t), 0);
			prev[d ? 1 : i] = (uintptr_t)leaves[i * DEPTH + d];
			prev = leaves[i * DEPTH + d];
		}
	}
	mark_from(test, &root, 1, 1);
	KUNIT_EXPECT_GT(test, c->st.overflows, 0);
	KUNIT_EXPECT_EQ(test, c->st.marked, 1 + FAN * DEPTH);
	for (i = 0; i < FAN * DEPTH; i++)
		KUNIT_EXPECT_TRUE_MSG(test, marked(test, leaves[i]), "node %u", i);
}

/*
 * A node with 20,000 children: every child is gray at once. The queue
 * grows chunk by chunk (a fixed queue of 4096 entries overflowed and
 * rescanned the heap), and a cycle finds everything with no rescan.
 */
static void wide_graph_grows_queue(struct kunit *test)
{
	enum { FAN = 20000 };
	struct mark_ctx *c = test->priv;
	uintptr_t *top = node(test, FAN * sizeof(uintptr_t), 0), root = (uintptr_t)top;
	struct gm_gc_cycle cyc;
	unsigned int i;

	for (i = 0; i < FAN; i++)
		top[i] = (uintptr_t)node(test, 2 * sizeof(uintptr_t), 0);
	KUNIT_ASSERT_EQ(test, gm_heap_add_root(c->h, (uintptr_t)&root, sizeof(root)), 0);
	KUNIT_ASSERT_EQ(test, gm_heap_gc(c->h, true, &cyc), 0);
	KUNIT_EXPECT_EQ(test, cyc.mark.overflows, 0);
	KUNIT_EXPECT_EQ(test, cyc.mark.marked, 1 + FAN);
	KUNIT_EXPECT_GE(test, cyc.mark.queue_peak, FAN);
	KUNIT_EXPECT_GE(test, cyc.mark.queue_bufs, FAN * sizeof(uintptr_t) / GM_WORKBUF_BYTES);
	KUNIT_EXPECT_EQ(test, cyc.freed_objects, 0);
	/* A bound below the width overflows, and the rescans still find all. */
	mark_from(test, &root, 1, FAN / 4);
	KUNIT_EXPECT_GT(test, c->st.overflows, 0);
	KUNIT_EXPECT_LE(test, c->st.queue_peak, FAN / 4);
	KUNIT_EXPECT_EQ(test, c->st.marked, 1 + FAN);
	KUNIT_EXPECT_EQ(test, gm_heap_del_root(c->h, (uintptr_t)&root), 0);
}

/* A page source that maps its memory for the collector, and counts. */
struct map_src {
	struct gm_pagesrc_ops ops;
	uintptr_t lo, hi;
	int maps, unmaps, reads, mapped_now;
};

static struct map_src *the_map_src;

static uintptr_t map_src_alloc(void *ctx, unsigned int order, size_t bytes)
{
	uintptr_t a = gm_os_pagesrc.alloc_block(ctx, order, bytes);

	if (a) {
		the_map_src->lo = the_map_src->lo ? min(the_map_src->lo, a) : a;
		the_map_src->hi = max(the_map_src->hi, a + bytes);
	}
	return a;
}

/* 4 KiB "pages", like the kernel's: no mapping crosses one. */
static const void *map_src_map(void *ctx, uintptr_t addr, size_t *len, void **cookie)
{
	struct map_src *ms = the_map_src;

	*len = 4096 - (addr & 4095);
	if (addr < ms->lo || addr >= ms->hi)
		return NULL;
	ms->maps++;
	ms->mapped_now++;
	*cookie = ms;
	return (const void *)addr;
}

static void map_src_unmap(void *ctx, const void *p, void *cookie)
{
	the_map_src->unmaps++;
	the_map_src->mapped_now--;
}

static void map_src_read(void *ctx, uintptr_t addr, void *buf, size_t len)
{
	the_map_src->reads++;
	memcpy(buf, (const void *)addr, len);
}

/*
 * Objects of a heap whose source can @map are scanned through it, a page
 * at a time (one map per page, not per object); only memory outside the
 * heap (the root) is copied through @read; nothing stays mapped.
 */
static void mapped_source_scanned_in_place(struct kunit *test)
{
	enum { N = 3000 };
	struct map_src *ms = kunit_kzalloc(test, sizeof(*ms), GFP_KERNEL);
	struct mark_ctx *c = test->priv;
	uintptr_t **nodes = kunit_kcalloc(test, N, sizeof(*nodes), GFP_KERNEL);
	uintptr_t root;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, ms);
	KUNIT_ASSERT_NOT_NULL(test, nodes);
	ms->ops = gm_os_pagesrc;
	ms->ops.alloc_block = map_src_alloc;
	ms->ops.map = map_src_map;
	ms->ops.unmap = map_src_unmap;
	ms->ops.read = map_src_read;
	the_map_src = ms;
	gm_heap_destroy(c->h);
	c->h = gm_heap_create(&ms->ops, NULL);
	KUNIT_ASSERT_NOT_NULL(test, c->h);
	for (i = 0; i < N; i++)
		nodes[i] = node(test, 32, 0);
	for (i = 0; i + 1 < N; i++)
		nodes[i][1] = (uintptr_t)nodes[i + 1];
	root = (uintptr_t)nodes[0];
	mark_from(test, &root, 1, 0);
	KUNIT_EXPECT_EQ(test, c->st.marked, N);
	for (i = 0; i < N; i++)
		KUNIT_EXPECT_TRUE_MSG(test, marked(test, nodes[i]), "node %u", i);
	KUNIT_EXPECT_EQ(test, ms->reads, 1);
	KUNIT_EXPECT_GT(test, ms->maps, 0);
	/* 3000 objects of 32 bytes lie on 24 pages of 4 KiB. */
	KUNIT_EXPECT_LE(test, ms->maps, 2 * (N * 32 / 4096 + 1));
	KUNIT_EXPECT_EQ(test, ms->mapped_now, 0);
	KUNIT_EXPECT_EQ(test, ms->maps, ms->unmaps);
}

static struct kunit_case gomem_mgcmark_cases[] = {
	KUNIT_CASE(list_from_root),
	KUNIT_CASE(interior_pointers),
	KUNIT_CASE(noscan_not_followed),
	KUNIT_CASE(cycles),
	KUNIT_CASE(large_object_scanned_whole),
	KUNIT_CASE(only_live_objects),
	KUNIT_CASE(tiny_block_marked),
	KUNIT_CASE(queue_overflow),
	KUNIT_CASE(wide_graph_grows_queue),
	KUNIT_CASE(mapped_source_scanned_in_place),
	{}
};

static struct kunit_suite gomem_mgcmark_suite = {
	.name = "gomem_mgcmark",
	.init = mark_test_init,
	.exit = mark_test_exit,
	.test_cases = gomem_mgcmark_cases,
};
kunit_test_suite(gomem_mgcmark_suite);
